"""Optimizers that update ``p.data`` from ``p.grad``, step for step as ``torch.optim`` does.

Each ``step()`` reads the gradients left by ``backward()`` and moves every parameter; call
``zero_grad()`` before the next backward, since gradients accumulate. A learning-rate schedule is
a callable ``step -> lr`` (step counted from 0); with one, ``optimizer.lr`` follows it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from numbers import Real

from micrograd.data import check_count
from micrograd.engine import Value

Schedule = Callable[[int], float]


def _number(x: object, name: str, low: float = 0.0, high: float = math.inf, open_high: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, Real) or not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    value = float(x)
    if not (low <= value < high if open_high else low <= value <= high):
        raise ValueError(f"{name} must be in [{low}, {high}{')' if open_high else ']'}, got {x!r}")
    return value


# ------------------------------------------------------------------------------------------------
# Schedules


def constant(lr: float) -> Schedule:
    """The same learning rate at every step."""
    value = _number(lr, "lr")
    return lambda step: value


def linear_decay(start: float = 1.0, end: float = 0.1, steps: int = 100) -> Schedule:
    """From ``start`` at step 0 to ``end`` at ``steps``, then flat: the classic ``1.0 - 0.9 * k / 100``."""
    start, end = _number(start, "start"), _number(end, "end")
    steps = check_count(steps, "steps")
    return lambda step: start - (start - end) * min(step, steps) / steps


def cosine_decay(start: float = 1.0, end: float = 0.0, steps: int = 100) -> Schedule:
    """Half a cosine from ``start`` at step 0 to ``end`` at ``steps``, then flat."""
    start, end = _number(start, "start"), _number(end, "end")
    steps = check_count(steps, "steps")
    return lambda step: end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * min(step, steps) / steps))


# ------------------------------------------------------------------------------------------------
# Optimizers


class Optimizer:
    """Holds the parameters, the learning rate (or a schedule) and the step count."""

    def __init__(self, params: Iterable[Value], lr: float, schedule: Schedule | None = None) -> None:
        if isinstance(params, Value) or not isinstance(params, Iterable):
            raise TypeError(
                f"{type(self).__name__} takes a list of parameters (e.g. model.parameters()), "
                f"got {type(params).__name__} {params!r}"
            )
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got no parameters to optimise (an empty list)")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{type(self).__name__}: parameter {i} is {type(p).__name__} {p!r}, not a Value"
                )
        if len(set(self.params)) != len(self.params):
            raise ValueError(
                f"{type(self).__name__}: a parameter appears twice; it would be updated twice per step"
            )
        self.lr = _number(lr, "lr")
        if schedule is not None and not callable(schedule):
            raise TypeError(f"schedule must be a callable step -> lr, got {type(schedule).__name__}")
        self.schedule = schedule
        self.steps = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Move every parameter once, using the learning rate of this step."""
        if self.schedule is not None:
            self.lr = _number(self.schedule(self.steps), f"schedule({self.steps})")
        new = self._update()
        # check all before writing any: a diverging run stops with every parameter still finite
        for p, value in zip(self.params, new):
            if not math.isfinite(value):
                raise self._not_finite(p, value)
        for p, value in zip(self.params, new):
            p.data = value
        self.steps += 1

    def _update(self) -> list[float]:
        raise NotImplementedError

    def _not_finite(self, p: Value, value: float) -> ArithmeticError | ValueError:
        """Why this step would give ``p`` a value that is not finite: its own value or gradient was
        not finite before the step (set from outside), or the step is too large."""
        name = p.label or repr(p)
        if not math.isfinite(p.data):
            return ValueError(
                f"{type(self).__name__} step {self.steps}: parameter {name} is {p.data!r} before the step; "
                "its .data was set to a number that is not finite (no op makes one)"
            )
        if not math.isfinite(p.grad):
            return ValueError(
                f"{type(self).__name__} step {self.steps}: parameter {name} has grad {p.grad!r}; "
                "no step can follow a gradient that is not finite"
            )
        return OverflowError(
            f"{type(self).__name__} step {self.steps} would set parameter {name} to {value!r} "
            f"(lr={self.lr!r}, grad={p.grad!r}); lower the learning rate"
        )


class SGD(Optimizer):
    """Stochastic gradient descent: ``p -= lr * g`` with ``g = grad + weight_decay * p``, optionally
    through a momentum buffer ``v = momentum * v + g`` (Nesterov: ``g + momentum * v``)."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr, schedule)
        self.momentum = _number(momentum, "momentum")
        self.weight_decay = _number(weight_decay, "weight_decay")
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov needs a momentum > 0")
        self.nesterov = nesterov
        self.velocity: list[float] | None = None

    def _update(self) -> list[float]:
        gs = [p.grad + self.weight_decay * p.data for p in self.params]
        if self.momentum:
            m = self.momentum
            # as torch: the buffer starts as the first gradient itself
            self.velocity = gs if self.velocity is None else [m * v + g for v, g in zip(self.velocity, gs)]
            gs = [g + m * v for g, v in zip(gs, self.velocity)] if self.nesterov else self.velocity
        return [p.data - self.lr * g for p, g in zip(self.params, gs)]


class Adam(Optimizer):
    """Adam: running means of the gradient (m) and of its square (v), bias-corrected; weight decay
    here is L2 (added to the gradient), as in ``torch.optim.Adam``."""

    decoupled = False

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _number(betas[0], "betas[0]", high=1.0, open_high=True),
            _number(betas[1], "betas[1]", high=1.0, open_high=True),
        )
        self.eps = _number(eps, "eps")
        self.weight_decay = _number(weight_decay, "weight_decay")
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def _update(self) -> list[float]:
        beta1, beta2 = self.betas
        t = self.steps + 1
        step_size = self.lr / (1.0 - beta1**t)
        root_correction = math.sqrt(1.0 - beta2**t)
        new = []
        for i, p in enumerate(self.params):
            data, g = p.data, p.grad
            if self.decoupled:
                data *= 1.0 - self.lr * self.weight_decay
            else:
                g += self.weight_decay * data
            self.m[i] = beta1 * self.m[i] + (1.0 - beta1) * g
            self.v[i] = beta2 * self.v[i] + (1.0 - beta2) * g * g
            new.append(data - step_size * self.m[i] / (math.sqrt(self.v[i]) / root_correction + self.eps))
        return new


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step."""

    decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, schedule)


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {"sgd": SGD, "adam": Adam, "adamw": AdamW}
