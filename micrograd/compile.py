"""Compiled graphs: record a scalar graph once, then replay it vectorized with numpy.

``compile(loss_fn, params, inputs)`` calls ``loss_fn`` once on placeholder Values (one per number
of the example batch) and records the graph it builds, as ``jax.jit`` does. The graph is then
scheduled by level: a node's level is one more than its deepest operand's (leaves are level 0), and
all nodes of one op at one level run as ONE numpy operation over index arrays (gather the operands,
compute, write the outputs). The fused neuron sum ``linear`` and the n-ary ``sum`` run as segment sums
(``np.bincount``). Backward is the same schedule reversed: each group multiplies its upstream gradient
by the local derivatives and adds the products into its operands' gradients with segment sums.

What is fixed by the trace (document it to your users, as jax does):

- the control flow: Python ``if``/``max``/indexing that looked at ``.data`` during the trace took
  one branch, and every later call replays that branch. (``losses.logsumexp`` reads its shift m,
  the largest logit, from ``.data``: compiled, m is the trace's. The result is exact for any m; only
  a logit more than about 700 above it would overflow exp, which raises an OverflowError.)
- the number of inputs and the shape of each (so the batch size): a call whose inputs do not fit
  raises a ValueError saying what was traced;
- every leaf Value that is neither a parameter nor an input: it becomes a constant, its value taken
  at trace time.

Parameters stay shared with the eager model: each call reads every ``p.data`` and adds into every
``p.grad``, exactly like ``loss.backward()`` (so call ``zero_grad()`` between steps, as in eager code).

Values agree with the eager engine up to rounding (numpy's exp/log/tanh may differ from the math
module's in the last bit, and ``sum`` adds in order where the engine uses ``math.fsum``). Errors
agree too: a call that would take log of a non-positive number raises the engine's own DomainError,
naming the op and its operands.
"""

from __future__ import annotations

import inspect
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import numpy as np
except ImportError as exc:  # pragma: no cover - numpy is a dependency of the package
    from micrograd.install import missing_dependency

    raise ImportError(missing_dependency("numpy", "micrograd.compile")) from exc

from micrograd import losses
from micrograd.data import as_list
from micrograd.engine import RULES, Value, is_grad_enabled, no_grad, topological_order, total

Array = Any  # numpy.ndarray; kept loose so type hints need no numpy stubs
Operands = tuple[Any, ...]  # one node's operands: Values, and numbers where they were constants

# ----------------------------------------------------------------------------------------------
# The vectorized rule table: every op of ``engine.RULES`` over numpy arrays, one line each. The
# forward needs a numpy form (the engine's use math). The local derivatives are the engine's own
# formulas (``RULES[key].local``), which numpy runs elementwise, wherever they are plain arithmetic;
# only those with a branch or the engine's float-only log are written again here.


def _sigmoid(a: Array) -> Array:
    # The engine's two forms at once: exp(-|a|) never overflows.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass(frozen=True)
class Vectorized:
    """An op of the rule table over arrays.

    ``local`` is None where the engine's formula runs on arrays as it is. ``refuses`` marks the
    operands whose result the engine refuses although numpy computes a finite one. ``local_can_blow_up``:
    the local derivative can stop being finite (sqrt at 0, a ** -0.5 at 0), so backward checks it.
    """

    forward: Callable[..., Array]
    local: Callable[..., tuple[Array, ...]] | None = None
    refuses: Callable[..., Array] | None = None
    local_can_blow_up: bool = False

    def local_rule(self, key: str) -> Callable[..., tuple[Array, ...]]:
        return self.local or RULES[key].local


VECTORIZED: dict[str, Vectorized] = {
    "+": Vectorized(np.add),
    "-": Vectorized(np.subtract),
    "*": Vectorized(np.multiply),
    "/": Vectorized(np.divide, local_can_blow_up=True),
    "**": Vectorized(np.power, local_can_blow_up=True),
    "pow": Vectorized(
        np.power,
        local=lambda a, b, out: (b * a ** (b - 1.0), out * np.log(a)),
        refuses=lambda a, b: a <= 0.0,  # numpy gives 0 ** b = 0; the engine needs log(base)
        local_can_blow_up=True,
    ),
    "neg": Vectorized(np.negative),
    "exp": Vectorized(np.exp),
    "log": Vectorized(np.log, local_can_blow_up=True),
    "sqrt": Vectorized(np.sqrt, local_can_blow_up=True),
    "tanh": Vectorized(np.tanh),
    "sigmoid": Vectorized(_sigmoid),
    "relu": Vectorized(lambda a: np.where(a > 0.0, a, 0.0), local=lambda a, out: (1.0 * (out > 0.0),)),
    "abs": Vectorized(np.abs, local=lambda a, out: (np.sign(a),)),
}
SEGMENT_SUMS = ("linear", "sum")  # n-ary ops, run by _SegmentSum


def vectorized(key: str) -> Vectorized | None:
    """The op's array form: this table's, else the numpy form an op defined with defop carries."""
    if key in VECTORIZED:
        return VECTORIZED[key]
    form = RULES[key].numpy if key in RULES else None
    if form is None:
        return None
    return Vectorized(form.forward, form.local, form.refuses, local_can_blow_up=RULES[key].singular)


# ----------------------------------------------------------------------------------------------
# Scheduling: which nodes run, with which operands, at which level.

_ADDITIVE = ("+", "sum")


def _op_key(node: Value) -> str:
    """The node's key in RULES ('pow' for a ** b with b a Value: its name is '**' too)."""
    key = node._rule.key
    if not key:
        raise NotImplementedError(
            f"compile: the node {node._op!r} was made the classic way (Value(data, children, op) with a "
            "_backward closure), so there is no rule to vectorize; define the op with micrograd.defop"
        )
    return key


@dataclass
class Schedule:
    """The traced graph as the compiled step runs it.

    ``run`` lists the op nodes that execute, operands before users; ``operands[node]`` is what each
    one reads (for a sum that absorbed a chain of additions, the flattened terms); ``key[node]`` its
    op key; ``level[node]`` its level, for every node of the graph (an absorbed addition gets the
    level of the sum that runs it).
    """

    order: list[Value]
    run: list[Value] = field(default_factory=list)
    operands: dict[Value, tuple[Any, ...]] = field(default_factory=dict)
    key: dict[Value, str] = field(default_factory=dict)
    level: dict[Value, int] = field(default_factory=dict)


def schedule(root: Value, keep: Iterable[Value] = ()) -> Schedule:
    """Plan the graph under ``root``: fold addition chains into sums, then level every node.

    ``sum(terms)`` in Python builds a chain of n - 1 '+' nodes, n levels deep; run as written it
    would take n numpy calls of one element each. An addition used only as a term of another
    addition is folded into it, so the chain runs as one segment sum. Nodes in ``keep`` (outputs
    read after the run) are never folded away.
    """
    order = topological_order(root)
    uses: dict[Value, int] = {}
    is_term: set[Value] = set()
    for node in order:
        additive = node._op in _ADDITIVE
        for x in node.operands():
            if isinstance(x, Value):
                uses[x] = uses.get(x, 0) + 1
                if additive:
                    is_term.add(x)
    kept = {root, *keep}
    absorbed = {x for x in is_term if x._op in _ADDITIVE and uses[x] == 1 and x not in kept}

    plan = Schedule(order)
    absorber: dict[Value, Value] = {}
    for node in order:
        if node in absorbed:
            continue
        if node._op == "":
            plan.level[node] = 0
            continue
        operands = node.operands()
        key = _op_key(node)
        if node._op in _ADDITIVE and any(x in absorbed for x in operands):
            terms: list[Any] = []
            stack = list(reversed(operands))
            while stack:
                x = stack.pop()
                if x in absorbed:
                    absorber[x] = node
                    stack.extend(reversed(x.operands()))
                else:
                    terms.append(x)
            operands, key = tuple(terms), "sum"
        plan.run.append(node)
        plan.operands[node] = operands
        plan.key[node] = key
        plan.level[node] = 1 + max((plan.level[x] for x in operands if isinstance(x, Value)), default=0)
    for x, node in absorber.items():
        plan.level[x] = plan.level[node]
    return plan


def levels(root: Value) -> dict[Value, int]:
    """The execution level of every node under ``root``: nodes with equal level and op run together.

    Leaves are level 0; an op node is one more than its deepest operand. An addition folded into a
    sum (see ``schedule``) reports the level of that sum.
    """
    if not isinstance(root, Value):
        raise TypeError(f"levels: root must be a Value, got {type(root).__name__}")
    plan = schedule(root)
    return {node: plan.level[node] for node in plan.order}


# A qualitative palette for levels (cycled when the graph is deeper): neighbours differ clearly.
LEVEL_COLOURS = (
    "#f2f2f2",
    "#a6cee3",
    "#b2df8a",
    "#fdbf6f",
    "#cab2d6",
    "#fb9a99",
    "#ffff99",
    "#8dd3c7",
    "#bebada",
    "#80b1d3",
    "#fccde5",
    "#d9d9d9",
)


def draw_levels(root: Value, path: str | os.PathLike[str], **options: Any) -> Path:
    """Draw the graph under ``root`` into ``path`` (.svg, .png, .pdf), each node filled by its level.

    Nodes of one colour and one op run as ONE numpy operation in a compiled step. ``options`` go to
    ``micrograd.viz.draw_dot`` (``group`` defaults to False here). Returns the path written.
    """
    from micrograd import viz

    node_levels = levels(root)
    colours = {node: LEVEL_COLOURS[level % len(LEVEL_COLOURS)] for node, level in node_levels.items()}
    legend: dict[str, str] = {}
    for level in sorted(set(node_levels.values())):
        colour = LEVEL_COLOURS[level % len(LEVEL_COLOURS)]
        legend[colour] = f"{legend[colour]}, {level}" if colour in legend else f"level {level}"
    options.setdefault("group", False)  # neuron boxes would hide the columns of equal level
    return viz.render(root, path, node_colors=colours, legend=legend, **options)


# ----------------------------------------------------------------------------------------------
# Groups: the nodes of one op at one level, run as one numpy operation. Every node owns one slot
# of the value array ``vals`` (and of ``grads``); a group's outputs are the contiguous slots out.


class _Scatter:
    """Adds contributions into ``grads`` at target slots that may repeat (segment sum by bincount)."""

    def __init__(self, targets: Array) -> None:
        unique, inverse = np.unique(targets, return_inverse=True)
        self.targets = targets
        self.unique = None if len(unique) == len(targets) else unique
        self.inverse = inverse.reshape(-1)

    def add(self, grads: Array, contribution: Array) -> None:
        if self.unique is None:
            grads[self.targets] += contribution
        else:
            grads[self.unique] += np.bincount(self.inverse, contribution, minlength=len(self.unique))


class _Group:
    """The nodes of one op at one level, run as one numpy operation; their outputs are the slots ``out``.

    A kind of group is built from the nodes' operands, ``slot_of`` (an operand's slot) and
    ``needs_grad`` (the slots that lead to a parameter): backward skips a group whose operands lead
    to none.
    """

    refuses: Callable[..., Array] | None = None

    def __init__(
        self,
        key: str,
        out: slice,
        nodes: list[Value],
        level: int,
        operands: list[Operands],
        slot_of: Callable[[Any], int],
        needs_grad: Array,
    ) -> None:
        self.key, self.out, self.level = key, out, level
        self.labels = {i: n.label for i, n in enumerate(nodes) if n.label}  # the graph itself is not kept
        self.needs_grad = self._gather(operands, slot_of, needs_grad)

    def _gather(self, operands: list[Operands], slot_of: Callable[[Any], int], needs_grad: Array) -> bool:
        """Build the index arrays the group reads and writes; say whether any operand leads to a parameter."""
        raise NotImplementedError

    def forward(self, vals: Array) -> None:
        raise NotImplementedError

    def backward(self, vals: Array, grads: Array) -> None:
        raise NotImplementedError

    def failed(self, vals: Array) -> Array:
        """Where the engine would have refused this group's result: not finite (or out of the domain)."""
        return ~np.isfinite(vals[self.out])

    def operand_data(self, vals: Array, i: int) -> list[float]:
        """The operands of the group's i-th node, in the engine's order (for error messages)."""
        raise NotImplementedError


class _Elementwise(_Group):
    """A unary or binary op: out[i] = f(a[i], b[i]), operand j of every node gathered as column j."""

    def _gather(self, operands: list[Operands], slot_of: Callable[[Any], int], needs_grad: Array) -> bool:
        op = vectorized(self.key)
        assert op is not None  # _build refused ops without one
        self.forward_fn, self.local_fn = op.forward, op.local_rule(self.key)
        self.refuses, self.guard_local = op.refuses, op.local_can_blow_up
        self.columns = [np.array([slot_of(x) for x in column], dtype=np.intp) for column in zip(*operands)]
        self.scatters = [_Scatter(c) if needs_grad[c].any() else None for c in self.columns]
        return any(s is not None for s in self.scatters)

    def forward(self, vals: Array) -> None:
        vals[self.out] = self.forward_fn(*[vals[c] for c in self.columns])

    def failed(self, vals: Array) -> Array:
        bad = super().failed(vals)
        if self.refuses is not None:
            bad |= self.refuses(*[vals[c] for c in self.columns])
        return bad

    def backward(self, vals: Array, grads: Array) -> None:
        operands = [vals[c] for c in self.columns]
        out = vals[self.out]
        upstream = grads[self.out]
        for scatter, local in zip(self.scatters, self.local_fn(*operands, out)):
            if scatter is None:
                continue
            if self.guard_local:
                scatter.add(grads, _guarded(self, local, upstream, operands, out))
            else:
                scatter.add(grads, upstream * local)

    def operand_data(self, vals: Array, i: int) -> list[float]:
        return [float(vals[c[i]]) for c in self.columns]


class _SegmentSum(_Group):
    """'linear' and 'sum': out[k] = sum of left[j] * right[j] over the entries j of node k.

    A neuron w.x + b has entries (b, 1), (w_1, x_1), ..., (w_n, x_n): added in this order from 0,
    exactly the engine's order. A sum's entries are (term, 1). Slot 0 holds the constant 1.
    """

    def _gather(self, operands: list[Operands], slot_of: Callable[[Any], int], needs_grad: Array) -> bool:
        left: list[int] = []
        right: list[int] = []
        arity: list[int] = []  # entries per node, to rebuild one node's operands for an error message
        for terms in operands:
            if self.key == "sum":
                entries = [(x, 1.0) for x in terms]
            else:
                n = (len(terms) - 1) // 2  # terms are (w_1..w_n, x_1..x_n, b)
                entries = [(terms[-1], 1.0), *zip(terms[:n], terms[n : 2 * n])]
            left.extend(slot_of(a) for a, _ in entries)
            right.extend(slot_of(b) for _, b in entries)
            arity.append(len(entries))
        self.left, self.right = np.array(left, dtype=np.intp), np.array(right, dtype=np.intp)
        self.arity = np.array(arity, dtype=np.intp)
        self.segment = np.repeat(np.arange(len(operands), dtype=np.intp), self.arity)
        self.right_is_one = self.key == "sum"
        self.left_scatter = _Scatter(self.left) if needs_grad[self.left].any() else None
        right_needs_grad = not self.right_is_one and needs_grad[self.right].any()
        self.right_scatter = _Scatter(self.right) if right_needs_grad else None
        return self.left_scatter is not None or self.right_scatter is not None

    def forward(self, vals: Array) -> None:
        terms = vals[self.left] if self.right_is_one else vals[self.left] * vals[self.right]
        vals[self.out] = np.bincount(self.segment, terms, minlength=len(self.arity))

    def backward(self, vals: Array, grads: Array) -> None:
        upstream = grads[self.out][self.segment]
        if self.left_scatter is not None:
            self.left_scatter.add(grads, upstream if self.right_is_one else upstream * vals[self.right])
        if self.right_scatter is not None:
            self.right_scatter.add(grads, upstream * vals[self.left])

    def operand_data(self, vals: Array, i: int) -> list[float]:
        start = int(np.searchsorted(self.segment, i))
        stop = start + int(self.arity[i])
        left = [float(v) for v in vals[self.left[start:stop]]]
        if self.right_is_one:
            return left
        right = [float(v) for v in vals[self.right[start + 1 : stop]]]
        return [*left[1:], *right, left[0]]  # the engine's order: (w_1..w_n, x_1..x_n, b)


def _where(group: _Group, i: int) -> str:
    label = f" '{group.labels[i]}'" if i in group.labels else ""
    size = group.out.stop - group.out.start
    return f" [in the compiled step: {group.key} node{label} {i + 1} of {size} at level {group.level}]"


def _raise_forward_error(group: _Group, vals: Array, i: int) -> None:
    """Re-run the engine's own forward on the failing node's operands, for the engine's message."""
    rule = RULES[group.key]
    data = group.operand_data(vals, i)
    try:
        rule.evaluate(data)
    except (ArithmeticError, ValueError) as exc:
        raise type(exc)(f"{exc}{_where(group, i)}") from None
    # numpy's result was not finite where the math module's is (never seen): report it as it is
    raise OverflowError(f"{rule.describe(data)}: numpy's result is not finite{_where(group, i)}")


def _guarded(group: _Elementwise, local: Array, upstream: Array, operands: list[Array], out: Array) -> Array:
    """upstream * local, raising as the engine does where a local derivative is not finite.

    The engine skips a node whose upstream gradient is 0, so there a non-finite local derivative
    (sqrt at 0, 0 ** -0.5) is neither an error nor a NaN: it contributes 0 here too.
    """
    blown = ~np.isfinite(local)
    if not blown.any():
        return upstream * local
    rule = RULES[group.key]
    for i in np.flatnonzero(blown & (upstream != 0.0)):
        data = [float(x[i]) for x in operands]
        try:
            rule.local(*data, float(out[i]))
        except (ArithmeticError, ValueError) as exc:
            raise type(exc)(
                f"backward through {rule.describe(data)} = {float(out[i])!r}: its local derivative is "
                f"not finite ({exc}){_where(group, int(i))}"
            ) from None
        # else the engine's float arithmetic lets it through as inf, and so does the compiled step
    return np.where(upstream != 0.0, upstream * local, 0.0)


# ----------------------------------------------------------------------------------------------
# Compiling


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
    """A loss function traced once and replayed with numpy. See the module docstring.

    ``step(*batch)`` runs forward and backward, adds d loss/d p into every ``p.grad`` and returns the
    loss as a float; ``step.loss(*batch)`` runs forward only and leaves every ``.grad`` untouched.
    With ``has_aux``, ``step.aux`` holds the values of the aux Values after the last call.
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

    def _build(self, root: Value, input_nodes: list[list[Value]], aux_nodes: list[Value]) -> None:
        plan = schedule(root, keep=aux_nodes)
        for node in plan.run:
            if plan.key[node] not in SEGMENT_SUMS and vectorized(plan.key[node]) is None:
                raise NotImplementedError(
                    f"compile: op {plan.key[node]!r} has no vectorized form in micrograd.compile"
                )
        # Slots: constants, then parameters, then inputs (each contiguous), then op nodes group by group.
        slot: dict[Value, int] = {}
        constants: list[float] = []
        constant_slot: dict[tuple[float, float], int] = {}

        def constant(c: float) -> int:
            key = (c, math.copysign(1.0, c))  # 0.0 and -0.0 apart: 1 / -0.0 is -inf
            if key not in constant_slot:
                constant_slot[key] = len(constants)
                constants.append(c)
            return constant_slot[key]

        constant(1.0)  # slot 0: the 1 that a neuron's bias and a sum's terms are multiplied by
        param_set, input_set = set(self.params), {v for vs in input_nodes for v in vs}
        for node in plan.order:
            if node._op == "" and node not in param_set and node not in input_set:
                slot[node] = constant(node.data)  # a leaf that is neither: baked in, as jax does
        for node in plan.run:
            for x in plan.operands[node]:
                if not isinstance(x, Value):
                    constant(float(x))
        self.n_constants = len(constants)
        self.param_slots = slice(len(constants), len(constants) + len(self.params))
        slot.update((p, self.param_slots.start + i) for i, p in enumerate(self.params))
        self.input_slots: list[slice] = []
        start = self.param_slots.stop
        for nodes in input_nodes:
            self.input_slots.append(slice(start, start + len(nodes)))
            slot.update((v, start + i) for i, v in enumerate(nodes))
            start += len(nodes)

        by_group: dict[tuple[int, str], list[Value]] = {}
        for node in plan.run:
            by_group.setdefault((plan.level[node], plan.key[node]), []).append(node)
        # run level by level (the topological order may reach a deep node before a shallow one)
        by_group = dict(sorted(by_group.items(), key=lambda item: item[0][0]))
        for nodes in by_group.values():
            slot.update((n, start + i) for i, n in enumerate(nodes))
            start += len(nodes)
        self.n_slots = start
        self.n_nodes = len(plan.run)  # op nodes the step runs (leaves and folded additions not counted)
        self.root_slot = slot[root]
        missing = [v for v in aux_nodes if v not in slot]
        if missing:
            raise ValueError(
                f"compile: aux Value {missing[0]!r} is not part of the loss graph, so it is never computed"
            )
        self.aux_slots = np.array([slot[v] for v in aux_nodes], dtype=np.intp)

        def slot_of(x: Any) -> int:
            return slot[x] if isinstance(x, Value) else constant(float(x))

        needs_grad = np.zeros(self.n_slots, dtype=bool)
        needs_grad[self.param_slots] = True
        self.groups: list[_Group] = []
        for (level, key), nodes in by_group.items():
            out = slice(slot[nodes[0]], slot[nodes[0]] + len(nodes))
            kind = _SegmentSum if key in SEGMENT_SUMS else _Elementwise
            group = kind(key, out, nodes, level, [plan.operands[n] for n in nodes], slot_of, needs_grad)
            needs_grad[out] = group.needs_grad
            self.groups.append(group)
        self.backward_groups = [g for g in reversed(self.groups) if g.needs_grad]
        self.n_levels = max(plan.level.values(), default=0)
        self.checks_domain = any(g.refuses is not None for g in self.groups)
        self._vals = np.zeros(self.n_slots)
        self._vals[: self.n_constants] = constants

    # -- running ----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"CompiledStep({self.n_nodes} op nodes in {len(self.groups)} groups over {self.n_levels} levels, "
            f"{len(self.params)} parameters, inputs "
            f"{', '.join(f'{name}{shape}' for name, shape in zip(self.names, self.shapes))})"
        )

    def _load(self, batch: tuple[Any, ...]) -> Array:
        if len(batch) != len(self.shapes):
            raise TypeError(
                f"the step was traced with {len(self.shapes)} input(s) ({', '.join(self.names)}), "
                f"got {len(batch)}; the traced graph is fixed"
            )
        vals = self._vals
        for x, name, shape, where in zip(batch, self.names, self.shapes, self.input_slots):
            array = _as_array(x, f"input {name!r}")
            if array.shape != shape:
                raise ValueError(
                    f"input {name!r} has shape {array.shape} but the graph was traced with shape {shape}; "
                    "the traced graph is fixed (batch size included): compile another step for this shape"
                )
            vals[where] = array.reshape(-1)
        vals[self.param_slots] = np.fromiter((p.data for p in self.params), float, len(self.params))
        return vals

    def _forward(self, vals: Array) -> None:
        with np.errstate(all="ignore"):
            for group in self.groups:
                group.forward(vals)
        if self.checks_domain or not np.isfinite(vals).all():
            self._find_forward_error(vals)

    def _find_forward_error(self, vals: Array) -> None:
        # The first failing group in schedule order has finite operands: re-run its node in the engine.
        for group in self.groups:
            with np.errstate(all="ignore"):
                bad = group.failed(vals)
            if bad.any():
                _raise_forward_error(group, vals, int(np.flatnonzero(bad)[0]))

    @property
    def aux(self) -> Array:
        """The aux Values (see ``has_aux``) as of the last call, as an array shaped like them."""
        return self._vals[self.aux_slots].reshape(self.aux_shape)

    def loss(self, *batch: Any) -> float:
        """The loss on this batch, forward only (no ``.grad`` is touched)."""
        vals = self._load(batch)
        self._forward(vals)
        return float(vals[self.root_slot])

    def __call__(self, *batch: Any) -> float:
        """Forward and backward on this batch: adds d loss/d p into each ``p.grad``; returns the loss."""
        vals = self._load(batch)
        self._forward(vals)
        grads = np.zeros(self.n_slots)
        grads[self.root_slot] = 1.0
        with np.errstate(all="ignore"):
            for group in self.backward_groups:
                group.backward(vals, grads)
        for p, g in zip(self.params, grads[self.param_slots].tolist()):
            p.grad += g
        return float(vals[self.root_slot])


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


# ----------------------------------------------------------------------------------------------
# Training with a compiled step, as micrograd.training.fit does eagerly


def _one_hot(classes: Sequence[int], k: int) -> list[list[float]]:
    return [[float(j == c) for j in range(k)] for c in classes]


def _plus_minus(classes: Sequence[int], k: int) -> list[float]:
    return [2.0 * c - 1.0 for c in classes]


def _zero_one(classes: Sequence[int], k: int) -> list[float]:
    return [float(c) for c in classes]


def _mse_targets(classes: Sequence[int], k: int) -> Any:
    # as training.fit: one output regresses toward -1/+1, k outputs toward the one-hot row
    return _plus_minus(classes, k) if k == 1 else _one_hot(classes, k)


def _hinge_traced(outs: list[Any], targets: list[Value]) -> Value:
    # hinge(s, y) = relu(1 - y s) depends on the margin y s; with y an input node the margin is a node too
    return losses.hinge([t * s for s, t in zip(outs, targets)], [1.0] * len(outs))


def _cross_entropy_traced(outs: list[Any], targets: list[list[Value]]) -> Value:
    # z[label] as sum_j t_j z_j over the one-hot row t, so the label is an input, not a traced index
    terms = [losses.logsumexp(z) - total([t * x for t, x in zip(row, z)]) for z, row in zip(outs, targets)]
    return total(terms) / len(terms)


# Each named loss of training.fit with its labels as numbers (input nodes of the traced graph, so a
# new batch brings new labels): how to encode the class indices, which outputs it needs, the loss.
TRACED_LOSSES: dict[str, tuple[Callable[[Sequence[int], int], Any], str, Callable[..., Value]]] = {
    "hinge": (_plus_minus, "one", _hinge_traced),
    "bce": (_zero_one, "one", losses.binary_cross_entropy),
    "mse": (_mse_targets, "any", losses.mse),
    "cross_entropy": (_one_hot, "many", _cross_entropy_traced),
}


def fit_compiled(
    model: Any,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    loss: str | Callable[..., Value] = "hinge",
    optimizer: Any = None,
    steps: int = 100,
    batch_size: int | None = None,
    alpha: float = 1e-4,
    progress: bool = True,
    seed: int = 0,
    lr: float | None = None,
    validation: tuple[Sequence[Sequence[float]], Sequence[int]] | None = None,
    callback: Callable[[int, Any], None] | None = None,
) -> Any:
    """``micrograd.training.fit`` with each step compiled: same arguments, same History, same numbers.

    The loss of a batch is traced once per batch size (a full batch: once; minibatches from
    ``data.batches``: once, and once more for a smaller last batch) and replayed with numpy. A
    callable ``loss(outputs, labels)`` receives the labels as input Values (floats), not ints, so it
    must not index with them.
    """
    from micrograd import training

    X, y = as_list(X), as_list(y)
    if validation is not None:
        validation = (as_list(validation[0]), as_list(validation[1]))
    classes = training.check_run(X, y, steps, seed)
    training.check_batching(batch_size, validation)
    training.check_parameters(model.parameters(), "fit_compiled")
    with no_grad():
        first = model(X[0])
    k = 1 if isinstance(first, Value) else len(first)
    training.check_loss(loss, TRACED_LOSSES)
    if isinstance(loss, str):
        encode, outputs, data_loss_fn = TRACED_LOSSES[loss]
        if outputs == "one" and (k != 1 or max(classes) > 1):
            raise ValueError(
                f"loss {loss!r} needs a model with ONE output and two classes; use 'cross_entropy'"
            )
        if outputs == "many" and k < 2:
            raise ValueError(f"loss {loss!r} needs a model with one output per class (k >= 2 logits)")
        if outputs == "many" and max(classes) >= k:
            raise ValueError(f"a label is {max(classes)} but the model has only {k} outputs")
        targets = encode(classes, k)
    else:
        data_loss_fn, targets = loss, [float(v) for v in y]
    params = model.parameters()
    opt = training.make_optimizer(optimizer, params, lr, steps)

    def traced(xb: list[list[Value]], tb: list[Any]) -> tuple[Value, list[Any]]:
        outs = [model(x) for x in xb]
        total_loss = data_loss_fn(outs, tb)
        if alpha:
            total_loss = total_loss + losses.l2(params, alpha)
        return total_loss, outs

    compiled: dict[int, CompiledStep] = {}

    def step(xb: Sequence[Sequence[float]], idx: Sequence[int]) -> tuple[float, list[int]]:
        tb = [targets[i] for i in idx]
        if len(xb) not in compiled:
            compiled[len(xb)] = compile(traced, params, inputs=(xb, tb), has_aux=True)
        traced_step = compiled[len(xb)]
        loss_value = traced_step(xb, tb)
        outs = traced_step.aux
        predicted = (outs > 0).astype(int) if outs.ndim == 1 else outs.argmax(axis=1)
        return loss_value, predicted.tolist()

    return training.run_steps(
        model,
        X,
        classes,
        step,
        opt,
        steps,
        batch_size=batch_size,
        progress=progress,
        seed=seed,
        validation=validation,
        callback=callback,
        desc="fit (compiled)",
    )
