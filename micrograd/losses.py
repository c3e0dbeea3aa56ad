"""Loss functions built from engine ops: each returns one Value to call ``backward()`` on.

Sums of many terms use ``engine.total`` (one node, not a chain of additions). The two losses on
logits are stable for any logit size: they go through ``logsumexp``, which subtracts the largest
logit before exponentiating, so ``exp`` never overflows and ``log`` never sees 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Integral, Real

from micrograd.engine import Value, exp, linear, log, relu, total

Scalar = Value | float

REDUCTIONS = ("mean", "sum")


def _scalar(x: object, where: str) -> Scalar:
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{where} is {type(x).__name__} {x!r}; expected a Value or a number")
    value = float(x)
    if not math.isfinite(value):
        raise ValueError(f"{where} is {value!r}; expected a finite number")
    return value


def _flat(xs: object, name: str) -> list[Scalar]:
    """A Value or number as one term, a list as its items; a list of rows is read row by row."""
    if isinstance(xs, (Value, Real)):
        return [_scalar(xs, name)]
    if isinstance(xs, (str, bytes)) or not isinstance(xs, Iterable):
        raise TypeError(f"{name} must be a Value, a number or a list of them, got {type(xs).__name__} {xs!r}")
    out: list[Scalar] = []
    for i, x in enumerate(xs):
        if isinstance(x, (Value, Real)):
            out.append(_scalar(x, f"{name}[{i}]"))
        elif isinstance(x, Iterable) and not isinstance(x, (str, bytes)):
            out.extend(_scalar(v, f"{name}[{i}][{j}]") for j, v in enumerate(x))
        else:
            raise TypeError(f"{name}[{i}] is {type(x).__name__} {x!r}; expected a Value, a number or a list")
    return out


def _pair(a: object, b: object, names: tuple[str, str]) -> tuple[list[Scalar], list[Scalar]]:
    first, second = _flat(a, names[0]), _flat(b, names[1])
    if len(first) != len(second):
        raise ValueError(f"{len(first)} {names[0]} but {len(second)} {names[1]}; they must match")
    if not first:
        raise ValueError(f"no {names[0]}: a loss needs at least one sample (the batch is empty)")
    return first, second


def _reduce(terms: list[Scalar], reduction: str, allowed: Sequence[str] = REDUCTIONS) -> Value:
    if reduction not in allowed:
        raise ValueError(f"unknown reduction {reduction!r}; choose one of {', '.join(allowed)}")
    loss = total(terms)
    if reduction == "mean":
        return loss / len(terms)
    if reduction == "half_sum":
        return 0.5 * loss
    return loss


def logsumexp(xs: Sequence[Scalar]) -> Value:
    """``log(sum_i exp(x_i))`` computed as ``m + log(sum_i exp(x_i - m))`` with m the largest x_i.

    m is a constant, not a node: the result is the same function of every x_i, so the gradient
    (the softmax) is exact, and the largest term is exp(0) = 1, so nothing overflows or hits log(0).
    """
    if not xs:
        raise ValueError("logsumexp of an empty list; pass at least one logit")
    m = max(x.data if isinstance(x, Value) else x for x in xs)
    return m + log(total(exp(x - m) for x in xs))  # type: ignore[return-value]


def mse(preds: object, targets: object, reduction: str = "mean") -> Value:
    """Squared error ``(t - y)^2`` per term: "mean", "sum", or "half_sum" = 1/2 sum (t - y)^2, the
    seed's E whose derivative is simply y - t."""
    ys, ts = _pair(preds, targets, ("predictions", "targets"))
    return _reduce([(y - t) ** 2 for y, t in zip(ys, ts)], reduction, ("mean", "sum", "half_sum"))


def hinge(scores: object, labels: object, reduction: str = "mean") -> Value:
    """The max-margin loss ``relu(1 - y * s)`` for labels y in {-1, +1}, averaged (the classic SVM loss)."""
    ss, ys = _pair(scores, labels, ("scores", "labels"))
    for i, y in enumerate(ys):
        if (y.data if isinstance(y, Value) else y) not in (-1.0, 1.0):  # a Value label: traced by compile
            raise ValueError(
                f"hinge: labels[{i}] is {y!r}; labels must be -1 or +1 (convert 0/1 labels with 2*y - 1)"
            )
    return _reduce([relu(1.0 - y * s) for s, y in zip(ss, ys)], reduction)  # type: ignore[misc]


def binary_cross_entropy(logits: object, targets: object, reduction: str = "mean") -> Value:
    """``-t log(sigmoid(z)) - (1 - t) log(1 - sigmoid(z))`` from logits z, as ``log(1 + e^z) - t z``.

    ``log(1 + e^z)`` is ``logsumexp([0, z])``, so a logit of 1000 or -1000 is fine.
    """
    zs, ts = _pair(logits, targets, ("logits", "targets"))
    for i, t in enumerate(ts):
        target = t.data if isinstance(t, Value) else t
        if not 0.0 <= target <= 1.0:
            raise ValueError(f"binary_cross_entropy: targets[{i}] is {target!r}; targets must be in [0, 1]")
    return _reduce([logsumexp([0.0, z]) - t * z for z, t in zip(zs, ts)], reduction)


def cross_entropy(
    logit_rows: Sequence[Sequence[Scalar]], labels: Sequence[int], reduction: str = "mean"
) -> Value:
    """``-log softmax(z)[label]`` per sample, as ``logsumexp(z) - z[label]`` (stable for any logits)."""
    if isinstance(logit_rows, (str, bytes)) or not isinstance(logit_rows, Sequence):
        raise TypeError(f"cross_entropy takes a list of logit rows, got {type(logit_rows).__name__}")
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence):
        raise TypeError(f"cross_entropy takes a list of class labels, got {type(labels).__name__}")
    if len(logit_rows) != len(labels):
        raise ValueError(f"{len(logit_rows)} logit rows but {len(labels)} labels; they must match")
    if not labels:
        raise ValueError("no logit rows: a loss needs at least one sample (the batch is empty)")
    terms: list[Scalar] = []
    for i, (row, label) in enumerate(zip(logit_rows, labels)):
        zs = _flat(row, f"logit_rows[{i}]")
        if isinstance(label, bool) or not isinstance(label, Integral) or not 0 <= label < len(zs):
            raise ValueError(
                f"cross_entropy: labels[{i}] is {label!r}; it must be a class index in 0..{len(zs) - 1} "
                f"(row {i} has {len(zs)} logits)"
            )
        terms.append(logsumexp(zs) - zs[int(label)])
    return _reduce(terms, reduction)  # type: ignore[arg-type]


def l2(params: Iterable[Value], alpha: float) -> Value:
    """The weight penalty ``alpha * sum_p p^2`` (its gradient pulls each parameter toward 0)."""
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not math.isfinite(alpha) or alpha < 0:
        raise ValueError(f"l2: alpha must be a finite number >= 0, got {alpha!r}")
    params = list(params)
    if not params:
        return Value(0.0)
    return alpha * linear(params, params)  # sum_p p * p as ONE node (a dot product): d/dp = 2p
