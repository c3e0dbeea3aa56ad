"""What the compiler knows about each op: the one per-op table of the package.

Everything the compiler knows about a particular op is here, one entry per op; the rest of the
package reads these fields and never branches on an op's name. An op defined with ``defop`` is
compiled from the numpy form it carries (``RULES[key].numpy``); the built-in ops have entries here
that write straight into the step's buffer (``out=``) and say which may run inside a matrix-product
step. (When the engine's ``Op`` record carries those two facts, this table folds into it.)

The local derivatives are the engine's own formulas (``RULES[key].local``), which numpy runs
elementwise, wherever they are plain arithmetic; only those with a branch or the engine's
float-only log are written again here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from micrograd.engine import RULES, Value

Array = Any  # numpy.ndarray; kept loose so type hints need no numpy stubs


def _sigmoid(a: Array, out: Array | None = None) -> Array:
    # The engine's two forms at once: exp(-|a|) never overflows.
    e = np.exp(-np.abs(a))
    result = np.where(a >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
    if out is None:
        return result
    out[...] = result
    return out


def _relu(a: Array, out: Array | None = None) -> Array:
    return np.maximum(a, 0.0, out=out)  # a NaN stays NaN: the step reports the op that made it


@dataclass(frozen=True)
class Vectorized:
    """An op of the rule table over arrays.

    ``local`` is None where the engine's formula runs on arrays as it is. ``refuses`` marks the
    operands whose result the engine refuses although numpy computes a finite one.
    ``local_can_blow_up``: the local derivative can stop being finite (sqrt at 0, a ** -0.5 at 0),
    so backward checks it. ``finite_on_finite``: a finite operand always gives a finite result
    (relu, tanh, ...), so the op may run inside a matrix-product step without its own check.
    """

    forward: Callable[..., Array]  # takes the operands and ``out=``, the array to write into
    local: Callable[..., tuple[Array, ...]] | None = None
    refuses: Callable[..., Array] | None = None
    local_can_blow_up: bool = False
    finite_on_finite: bool = False

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
    "neg": Vectorized(np.negative, finite_on_finite=True),
    "exp": Vectorized(np.exp),
    "log": Vectorized(np.log, local_can_blow_up=True),
    "sqrt": Vectorized(np.sqrt, local_can_blow_up=True),
    "tanh": Vectorized(np.tanh, finite_on_finite=True),
    "sigmoid": Vectorized(_sigmoid, finite_on_finite=True),
    "relu": Vectorized(
        _relu,
        local=lambda a, out: (out > 0.0,),  # 1 where out > 0, else 0 (a mask multiplies as 1 and 0)
        finite_on_finite=True,
    ),
    "abs": Vectorized(np.abs, local=lambda a, out: (np.sign(a),), finite_on_finite=True),
}
# The n-ary ops: run as matrix products or segment sums (see groups.py), not elementwise.
SEGMENT_SUMS = ("linear", "sum")


def vectorized(key: str) -> Vectorized | None:
    """The op's array form: this table's, else the numpy form an op defined with defop carries."""
    if key in VECTORIZED:
        return VECTORIZED[key]
    rule = RULES.get(key)
    form = rule.numpy if rule is not None else None
    if rule is None or form is None:
        return None
    forward = form.forward

    def write(*operands: Array, out: Array) -> Array:
        out[...] = forward(*operands)
        return out

    return Vectorized(write, form.local, form.refuses, local_can_blow_up=rule.singular)


def op_key(node: Value) -> str:
    """The node's key in RULES ('pow' for a ** b with b a Value: its name is '**' too)."""
    key = node._rule.key
    if not key and node._op:
        raise NotImplementedError(
            f"compile: the node {node._op!r} was made the classic way (Value(data, children, op) with a "
            "_backward closure), so there is no rule to vectorize; define the op with micrograd.defop"
        )
    return key


def linear_parts(node: Value) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """A linear node's ``(w_1..w_n, b)`` and ``(x_1..x_n)`` as the shared tuples the node keeps.

    A neuron passes the same params tuple on every call and a layer the same inputs tuple to all
    its neurons: reading the tuples (not the flattened operands) is what lets the compiler see a
    layer as a matrix product without touching every operand of every node.
    """
    return node._a, node._b
