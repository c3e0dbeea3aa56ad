"""The compiled step: trace a loss function once, then run its kernels on any batch of that shape."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable
from itertools import repeat
from operator import attrgetter
from typing import Any

import numpy as np

from micrograd.compile.groups import MatrixProduct
from micrograd.compile.lower import Program, lower
from micrograd.compile.ops import SEGMENT_SUMS, Array, vectorized
from micrograd.compile.schedule import CHAIN, schedule
from micrograd.engine import Value, is_grad_enabled

_data = attrgetter("data")
_grad = attrgetter("grad")


def _argument_names(fn: Callable[..., Any], count: int) -> list[str]:
    try:
        names = [p.name for p in inspect.signature(fn).parameters.values()][:count]
    except (TypeError, ValueError):
        names = []
    return names + [f"input{k}" for k in range(len(names), count)]


def _as_array(x: Any, what: str) -> Array:
    """An input as a float array, or a clear error (ragged lists, strings, Values, NaN, inf)."""
    if isinstance(x, Value):
        raise TypeError(f"{what} is a Value; pass numbers (the compiled step makes its own input nodes)")
    try:
        array = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{what} must be a number or a rectangular (nested) list / array of numbers: {exc}"
        ) from None
    if not np.isfinite(array).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(
            f"{what}[{', '.join(map(str, bad))}] is {float(array[bad])!r}: every value in a graph is finite"
        )
    return array


def _placeholders(data: Any, name: str, index: tuple[int, ...] = ()) -> Any:
    """Nested lists of input Values shaped like ``data`` (a nested list of floats), labelled X[i,j]."""
    if isinstance(data, list):
        return [_placeholders(x, name, (*index, i)) for i, x in enumerate(data)]
    suffix = f"[{','.join(map(str, index))}]" if index else ""
    return Value(data, label=f"{name}{suffix}")


def _flat(nested: Any) -> list[Any]:
    if isinstance(nested, (list, tuple)):
        return [v for x in nested for v in _flat(x)]
    return [nested]


def _data_of(nested: Any) -> Any:
    if isinstance(nested, (list, tuple)):
        return [_data_of(x) for x in nested]
    return nested.data


class CompiledStep:
    """A loss function traced once and replayed with numpy. See the package docstring.

    ``step(*batch)`` runs forward and backward, adds d loss/d p into every ``p.grad`` and returns the
    loss as a float; ``step.loss(*batch)`` runs forward only and leaves every ``.grad`` untouched.
    ``step.value_and_grad(theta, *batch)`` does the same on an array of parameter values and returns
    the gradient as an array, touching no Value (the fast way to train: see ``fit_compiled``).
    With ``has_aux``, ``step.aux`` holds the values of the aux Values after the last call.
    One step may be called from several threads: the calls take turns.
    """

    def __init__(
        self,
        loss_fn: Callable[..., Any],
        params: Iterable[Value],
        inputs: tuple[Any, ...],
        has_aux: bool = False,
    ) -> None:
        if not isinstance(inputs, tuple):
            raise TypeError(
                f"inputs must be a tuple of loss_fn's arguments, e.g. inputs=(X, y), or inputs=(X,) for one; "
                f"got {type(inputs).__name__}"
            )
        if not is_grad_enabled():
            raise RuntimeError("compile: graph recording is off (inside no_grad()); compile outside it")
        self.params: list[Value] = list(dict.fromkeys(params))
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"params[{i}] must be a Value, got {type(p).__name__} {p!r}")
            if p._op:
                raise ValueError(
                    f"params[{i}] = {p!r} is the result of op {p._op!r}; parameters must be leaves"
                )
        self.names = _argument_names(loss_fn, len(inputs))
        arrays = [_as_array(x, f"input {name!r}") for x, name in zip(inputs, self.names)]
        self.shapes = [a.shape for a in arrays]
        placeholders = [_placeholders(a.tolist(), name) for a, name in zip(arrays, self.names)]
        result = loss_fn(*placeholders)
        aux: Any = []
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise TypeError(
                    f"compile: with has_aux=True loss_fn must return (loss, aux), got {result!r:.80}"
                )
            result, aux = result
        if not isinstance(result, Value):
            raise TypeError(f"compile: loss_fn must return a Value (the loss), got {type(result).__name__}")
        aux_nodes = _flat(aux)
        if not all(isinstance(v, Value) for v in aux_nodes):
            raise TypeError("compile: aux must be a Value or (nested) lists of Values")
        try:
            self.aux_shape = np.array(_data_of(aux), dtype=float).shape
        except ValueError:
            raise ValueError("compile: aux must be rectangular (nested lists of equal lengths)") from None
        self._build(result, [_flat(p) for p in placeholders], aux_nodes)
        self._lock = threading.Lock()
        self._loss_fn, self._has_aux = loss_fn, has_aux  # to ask the engine about a gradient (see _backward)
        self._batch: list[Array] = arrays

    def _build(self, root: Value, input_nodes: list[list[Value]], aux_nodes: list[Value]) -> None:
        plan = schedule(root, keep=aux_nodes)
        for node in plan.run:
            key = plan.key[node]
            if key not in SEGMENT_SUMS and key != CHAIN and vectorized(key) is None:
                raise NotImplementedError(f"compile: op {key!r} has no vectorized form in micrograd.compile")
        missing = [v for v in aux_nodes if v not in plan.level]
        if missing:
            raise ValueError(
                f"compile: aux Value {missing[0]!r} is not part of the loss graph, so it is never computed"
            )
        self.program: Program = lower(plan, root, self.params, input_nodes, aux_nodes)
        program = self.program
        self.kernels = program.kernels
        self.backward_kernels = program.backward_kernels
        self.guarded_kernels = [k for k in self.backward_kernels if getattr(k, "guard_local", False)
                                or getattr(getattr(k, "rule", None), "singular", False)]
        self.checks_domain = program.checks_domain
        self.n_nodes = program.n_nodes  # op nodes the step runs (leaves and folded additions not counted)
        self.n_levels = program.n_levels
        self.n_products = sum(isinstance(k, MatrixProduct) for k in self.kernels)
        self._vals, self._grads = program.vals, program.grads

    # -- running ----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"CompiledStep({self.n_nodes} op nodes in {len(self.kernels)} kernels ({self.n_products} "
            f"matrix products) over {self.n_levels} levels, {len(self.params)} parameters, inputs "
            f"{', '.join(f'{name}{shape}' for name, shape in zip(self.names, self.shapes))})"
        )

    def _load(self, batch: tuple[Any, ...]) -> None:
        if len(batch) != len(self.shapes):
            raise TypeError(
                f"the step was traced with {len(self.shapes)} input(s) ({', '.join(self.names)}), "
                f"got {len(batch)}; the traced graph is fixed"
            )
        vals = self._vals
        arrays = []
        for x, name, shape, where in zip(batch, self.names, self.shapes, self.program.input_slots):
            array = _as_array(x, f"input {name!r}")
            if array.shape != shape:
                raise ValueError(
                    f"input {name!r} has shape {array.shape} but the graph was traced with shape {shape}; "
                    "the traced graph is fixed (batch size included): compile another step for this shape"
                )
            vals[where] = array.reshape(-1)
            arrays.append(array)
        self._batch = arrays

    def _load_params(self, theta: Array | None) -> None:
        where = self.program.param_slots
        if theta is None:
            values = self._vals[where] = np.fromiter(map(_data, self.params), float, len(self.params))
            if not np.isfinite(values).all():
                i = int(np.flatnonzero(~np.isfinite(values))[0])
                name = self.params[i].label or i
                raise ValueError(
                    f"parameter {name} is {float(values[i])!r}: its .data was set to a number that is not "
                    "finite (no op makes one); every value in a graph is finite"
                )
            return
        if not isinstance(theta, np.ndarray) or theta.shape != (len(self.params),):
            raise ValueError(
                f"theta must be an array of the {len(self.params)} parameter values in step.params order "
                f"(step.parameter_values() gives one), got {type(theta).__name__} "
                f"{getattr(theta, 'shape', '')}"
            )
        self._vals[where] = theta
        if not np.isfinite(self._vals[where]).all():
            i = int(np.flatnonzero(~np.isfinite(self._vals[where]))[0])
            raise ValueError(f"theta[{i}] is {float(theta[i])!r}: every value in a graph is finite")

    def _forward(self) -> None:
        for kernel in self.kernels:
            kernel.forward()
        finite = bool(np.isfinite(self._vals[self.program.computed]).all())
        if self.checks_domain or not finite:
            self._find_forward_error(finite)

    def _find_forward_error(self, finite: bool) -> None:
        # The first node (in the graph's order) that fails with finite operands: re-run it in the engine.
        first: tuple[int, Any, int] | None = None
        for kernel in self.kernels:
            bad = np.flatnonzero(kernel.failed())
            if bad.size:
                i = int(bad[np.argmin(kernel.positions[bad])])
                if first is None or kernel.positions[i] < first[0]:
                    first = (int(kernel.positions[i]), kernel, i)
        if first is None:
            if finite:
                return
            # (never seen: inputs and parameters are checked as they are loaded, so a value that is
            # not finite starts at a node whose operands are finite)
            raise OverflowError("the compiled step computed a value that is not finite")
        _, kernel, i = first
        try:
            kernel.reevaluate(i)
        except (ArithmeticError, ValueError) as exc:
            raise type(exc)(f"{exc}{kernel.where(i)}") from None
        # numpy's result was not finite where the math module's is (never seen): report it as it is
        raise OverflowError(f"{kernel.key} node: numpy's result is not finite{kernel.where(i)}")

    def _backward(self) -> Array:
        grads = self._grads
        grads.fill(0.0)
        grads[self.program.root_slot] = 1.0
        for kernel in self.backward_kernels:
            kernel.backward()
        gradient = grads[self.program.param_slots]
        if not np.isfinite(gradient).all() or any(k.suspect for k in self.guarded_kernels):
            self._ask_the_engine(gradient)
        return gradient

    def _ask_the_engine(self, gradient: Array) -> None:
        """A gradient is not finite, or a 0 upstream met an infinite local derivative: the engine
        decides (it raises, naming the op, or finds the 0 exact). Rare: the whole loss runs eagerly
        once, on this batch and these parameter values, and every Value is left as it was."""
        saved = [(p.data, p.grad) for p in self.params]
        try:
            for p, value in zip(self.params, self._vals[self.program.param_slots].tolist()):
                p.data = value
            result = self._loss_fn(*[_placeholders(a.tolist(), n) for a, n in zip(self._batch, self.names)])
            (result[0] if self._has_aux else result).backward()
        except (ArithmeticError, ValueError) as exc:
            raise type(exc)(f"{exc} [the compiled step's gradient, run eagerly to name the op]") from None
        finally:
            for p, (data, grad) in zip(self.params, saved):
                p.data, p.grad = data, grad
        if not np.isfinite(gradient).all():  # the engine, adding in its own order, stays finite
            i = int(np.flatnonzero(~np.isfinite(gradient))[0])
            p = self.params[i]
            raise OverflowError(
                f"backward: the gradient of parameter {p.label or i} is {float(gradient[i])!r} in the "
                "compiled step (the eager engine, adding in another order, stays finite)"
            )

    @property
    def aux(self) -> Array:
        """The aux Values (see ``has_aux``) as of the last call, as an array shaped like them."""
        return self._vals[self.program.aux_slots].reshape(self.aux_shape)

    def parameter_values(self) -> Array:
        """Every ``p.data`` of ``step.params``, in order, as a new array (a ``theta``)."""
        return np.fromiter(map(_data, self.params), float, len(self.params))

    def set_parameter_values(self, theta: Array) -> None:
        """Write ``theta`` (an array in ``step.params`` order) into every ``p.data``."""
        theta = np.asarray(theta, dtype=float)
        if theta.shape != (len(self.params),) or not np.isfinite(theta).all():
            raise ValueError(f"theta must be {len(self.params)} finite numbers, got shape {theta.shape}")
        for p, value in zip(self.params, theta.tolist()):
            p.data = value

    def loss(self, *batch: Any) -> float:
        """The loss on this batch, forward only (no ``.grad`` is touched)."""
        with self._lock, np.errstate(all="ignore"):
            self._load(batch)
            self._load_params(None)
            self._forward()
            return float(self._vals[self.program.root_slot])

    def __call__(self, *batch: Any) -> float:
        """Forward and backward on this batch: adds d loss/d p into each ``p.grad``; returns the loss."""
        with self._lock, np.errstate(all="ignore"):
            self._load(batch)
            self._load_params(None)
            self._forward()
            gradient = self._backward()
            params = self.params
            total = np.fromiter(map(_grad, params), float, len(params)) + gradient
            for _ in map(setattr, params, repeat("grad"), total.tolist()):  # p.grad += d loss / d p
                pass
            return float(self._vals[self.program.root_slot])

    def value_and_grad(self, theta: Array, *batch: Any) -> tuple[float, Array]:
        """The loss and d loss/d theta on this batch, for the parameter values ``theta``.

        ``theta`` is an array in ``step.params`` order (``step.parameter_values()``). No Value is
        read or written: the parameters may live in the array while training, and be written back
        with ``step.set_parameter_values(theta)``. Returns the gradient as a new array.
        """
        with self._lock, np.errstate(all="ignore"):
            self._load(batch)
            self._load_params(theta)
            self._forward()
            gradient = self._backward().copy()
            return float(self._vals[self.program.root_slot]), gradient


def compile(
    loss_fn: Callable[..., Any], params: Iterable[Value], inputs: tuple[Any, ...], has_aux: bool = False
) -> CompiledStep:
    """Trace ``loss_fn(*inputs)`` once and return a step that replays it with numpy.

    ``inputs`` is a tuple of loss_fn's arguments, each a number or a rectangular nested list / array
    of numbers (e.g. ``(X, y)``, X of shape (batch, features)). ``loss_fn`` is called once with nested
    lists of Values of the same shapes and must return the loss Value. ``params`` are the leaves to
    differentiate (e.g. ``model.parameters()``); every other leaf is a constant. With ``has_aux``
    loss_fn returns ``(loss, aux)``, aux being Values of the graph (e.g. the model's outputs) whose
    values ``step.aux`` gives after each call.

    >>> step = compile(lambda X, y: ..., params=model.parameters(), inputs=(X, y))
    >>> loss = step(X_batch, y_batch)   # like loss.backward(): p.grad += d loss / d p
    """
    return CompiledStep(loss_fn, params, inputs, has_aux)

