"""Training with a compiled step: ``fit_compiled``, as ``micrograd.training.fit`` does eagerly.

While it trains, the parameters live in one numpy array (``theta``) and the built-in optimizers
(SGD, Adam, AdamW) update it with the same formulas as ``micrograd.optim``, operation for
operation, so each step gives the same numbers; the Values are written back when training ends (and
after every step when a callback or a validation set needs to read the model). Any other optimizer
runs as it is, on the Values, after each compiled step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from micrograd import losses
from micrograd.compile.ops import Array
from micrograd.compile.step import CompiledStep, compile
from micrograd.data import as_list
from micrograd.engine import Value, no_grad, total
from micrograd.optim import SGD, Adam, AdamW, Optimizer, _number


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


# ----------------------------------------------------------------------------------------------
# The built-in optimizers' updates on arrays: micrograd.optim's formulas, in the same order of
# operations, so that every parameter gets the same float. Each takes the optimizer (its
# hyperparameters and state, which it updates), theta and the gradient, and returns the new theta.


def _sgd(opt: Any, theta: Array, grad: Array) -> Array:
    g = grad + opt.weight_decay * theta
    if opt.momentum:
        m = opt.momentum
        opt.array_velocity = g if opt.array_velocity is None else m * opt.array_velocity + g
        g = g + m * opt.array_velocity if opt.nesterov else opt.array_velocity
    return theta - opt.lr * g


def _adam(opt: Any, theta: Array, grad: Array) -> Array:
    beta1, beta2 = opt.betas
    t = opt.steps + 1
    step_size = opt.lr / (1.0 - beta1**t)
    root_correction = math.sqrt(1.0 - beta2**t)
    data, g = theta, grad
    if opt.decoupled:
        data = data * (1.0 - opt.lr * opt.weight_decay)
    else:
        g = g + opt.weight_decay * data
    opt.array_m = beta1 * opt.array_m + (1.0 - beta1) * g
    opt.array_v = beta2 * opt.array_v + (1.0 - beta2) * g * g
    return data - step_size * opt.array_m / (np.sqrt(opt.array_v) / root_correction + opt.eps)


_ARRAY_UPDATES: dict[type, Callable[[Any, Array, Array], Array]] = {SGD: _sgd, Adam: _adam, AdamW: _adam}


class _ArrayOptimizer(Optimizer):
    """A built-in optimizer run on ``theta``, the parameters as one array, for ``run_steps``.

    ``zero_grad`` has nothing to do (each compiled call returns a fresh gradient); ``step`` updates
    theta, or raises the optimizer's own error, naming the parameter, if a value would not be
    finite. ``finish`` writes theta, the last gradient and the optimizer's state back, so the model
    and the optimizer end as an eager ``fit`` leaves them.
    """

    def __init__(self, inner: Optimizer, theta: Array, sync: bool) -> None:
        super().__init__(inner.params, inner.lr, inner.schedule)
        self.inner, self.theta, self.sync = inner, theta, sync
        self.gradient = np.zeros_like(theta)
        self.steps = inner.steps
        self.update = _ARRAY_UPDATES[type(inner)]
        for name, attr in (("array_m", "m"), ("array_v", "v"), ("array_velocity", "velocity")):
            if hasattr(inner, attr):
                state = getattr(inner, attr)
                setattr(inner, name, None if state is None else np.array(state, dtype=float))

    def zero_grad(self) -> None:
        pass

    def step(self) -> None:
        inner = self.inner
        if self.schedule is not None:
            self.lr = _number(self.schedule(self.steps), f"schedule({self.steps})")
        inner.lr, inner.steps = self.lr, self.steps
        with np.errstate(all="ignore"):  # an overflow is found and named just below
            new = self.update(inner, self.theta, self.gradient)
        if not np.isfinite(new).all():  # the optimizer's own error, on the Values as they stand
            i = int(np.flatnonzero(~np.isfinite(new))[0])
            self.write_back()
            raise inner._not_finite(self.params[i], float(new[i]))
        self.theta = new
        self.steps += 1
        if self.sync:
            self.write_back()

    def write_back(self) -> None:
        """The model's Values as the array says: p.data from theta, p.grad from the last gradient."""
        for p, data, grad in zip(self.params, self.theta.tolist(), self.gradient.tolist()):
            p.data, p.grad = data, grad

    def finish(self) -> None:
        self.write_back()
        inner = self.inner
        inner.lr, inner.steps = self.lr, self.steps
        for name, attr in (("array_m", "m"), ("array_v", "v"), ("array_velocity", "velocity")):
            if hasattr(inner, name):
                state = getattr(inner, name)
                setattr(inner, attr, None if state is None else state.tolist())
                delattr(inner, name)


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
    must not index with them. With SGD, Adam or AdamW (by name or an instance of exactly that class
    over the model's parameters), the parameters are updated as an array and written back to the
    model when training ends, or after each step when ``callback`` or ``validation`` is given.
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

    X_array, T_array = np.asarray(X, dtype=float), np.asarray(targets, dtype=float)
    compiled: dict[int, CompiledStep] = {}
    fast = type(opt) in _ARRAY_UPDATES and opt.params == params
    trainer: Any = None

    def trace(xb: Array, tb: Array) -> CompiledStep:
        if trainer is not None:
            trainer.write_back()  # the trace runs the model eagerly: on today's weights
        return compile(traced, params, inputs=(xb, tb), has_aux=True)

    def step(xb: Sequence[Sequence[float]], idx: Sequence[int]) -> tuple[float, list[int]]:
        rows = X_array if len(idx) == len(X_array) and isinstance(idx, range) else X_array[list(idx)]
        tb = T_array if rows is X_array else T_array[list(idx)]
        if len(rows) not in compiled:
            compiled[len(rows)] = trace(rows, tb)
        traced_step = compiled[len(rows)]
        if trainer is None:
            loss_value = traced_step(rows, tb)
        else:
            if trainer.sync:  # a callback may have changed the model
                trainer.theta = traced_step.parameter_values()
            loss_value, trainer.gradient = traced_step.value_and_grad(trainer.theta, rows, tb)
        outs = traced_step.aux
        predicted = (outs > 0).astype(int) if outs.ndim == 1 else outs.argmax(axis=1)
        return loss_value, predicted.tolist()

    if fast:
        theta = np.fromiter((p.data for p in params), float, len(params))
        trainer = _ArrayOptimizer(opt, theta, sync=validation is not None or callback is not None)
    try:
        return training.run_steps(
            model,
            X,
            classes,
            step,
            trainer if trainer is not None else opt,
            steps,
            batch_size=batch_size,
            progress=progress,
            seed=seed,
            validation=validation,
            callback=callback,
            desc="fit (compiled)",
        )
    finally:
        if trainer is not None:
            trainer.finish()

