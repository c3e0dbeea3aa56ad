"""What the compiler reads about each op: the numpy form its entry in the rule table carries.

Every op, built in or defined with ``defop``, is compiled from ``RULES[key].numpy`` (its forward
over arrays, and its local derivatives where the engine's formula does not run on arrays as
written); the rest of the package reads these fields and never branches on an op's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from micrograd.engine import RULES, Value

Array = Any  # numpy.ndarray; kept loose so type hints need no numpy stubs


@dataclass(frozen=True)
class Vectorized:
    """An op of the rule table over arrays, as the kernels call it (read from the op's ``numpy`` form).

    ``forward(*operands, out=array)`` writes into ``out``. ``local`` is the op's array form of its
    local derivatives, or its own formula where that runs on arrays as written. ``refuses`` marks
    operands whose result the engine refuses although numpy computes a finite one.
    ``local_can_blow_up``: the local derivative can stop being finite (sqrt at 0, a ** -0.5 at 0),
    so backward checks it (the op is ``singular``). ``finite_on_finite``: a finite operand always
    gives a finite result (relu, tanh, ...), so the op may run inside a matrix-product step.
    """

    forward: Callable[..., Array]
    local: Callable[..., tuple[Array, ...]]
    refuses: Callable[..., Array] | None = None
    local_can_blow_up: bool = False
    finite_on_finite: bool = False

    def local_rule(self, key: str) -> Callable[..., tuple[Array, ...]]:
        return self.local


# The n-ary ops: run as matrix products or segment sums (see groups.py), not elementwise.
SEGMENT_SUMS = ("linear", "sum")


def vectorized(key: str) -> Vectorized | None:
    """The op's array form, from the numpy form its entry in the rule table carries (None: it has none)."""
    rule = RULES.get(key)
    form = rule.numpy if rule is not None else None
    if rule is None or form is None:
        return None
    forward = getattr(form.forward, "resolved", lambda: form.forward)()  # numpy.tanh itself, not by name
    if not form.writes_out:
        forward = _writing(forward)
    return Vectorized(forward, form.local or rule.local, form.refuses, rule.singular, form.finite_on_finite)


def _writing(forward: Callable[..., Array]) -> Callable[..., Array]:
    """A numpy form without ``out=`` made to write into ``out`` as the kernels call it."""

    def write(*operands: Array, out: Array | None = None) -> Array:
        result = forward(*operands)
        if out is None:
            return result
        out[...] = result
        return out

    return write


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
