"""The scalar autograd engine: the Value node, the rule table, backward, grad and no_grad.

Every op is one entry of ``RULES``: a forward function on floats and one local-derivative
formula that returns d out / d operand for each operand. The formulas use only arithmetic and
the functions defined here (``log``, ``exp``, ...), which accept plain floats and Values alike:
``backward()`` calls them on floats, and ``grad(..., create_graph=True)`` calls them on the
nodes themselves, so the gradient is a graph that can be differentiated again.

Every value in a graph is a finite float: NaN and infinity are refused where they would enter
(``Value(nan)``, a constant operand) and an op whose result would leave the domain or overflow
raises an error that names the op and its operands, never returning a wrong number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from numbers import Real
from typing import Any, Union

Number = Union[int, float]  # noqa: UP007 (a runtime alias: `int | float` needs no quotes, but "Value" does)
Operand = Union["Value", float]


class DomainError(ValueError):
    """An op was applied outside its mathematical domain, e.g. log(-1.0)."""


# ----------------------------------------------------------------------------------------------
# Forward functions on floats. Each refuses what is outside its domain, naming op and operands.


def _add(a: float, b: float) -> float:
    return a + b


def _sub(a: float, b: float) -> float:
    return a - b


def _mul(a: float, b: float) -> float:
    return a * b


def _div(a: float, b: float) -> float:
    if b == 0.0:
        raise ZeroDivisionError(f"{a!r} / {b!r}: division by zero")
    return a / b


def _pow(a: float, n: float) -> float:
    if a == 0.0 and n < 0:
        raise ZeroDivisionError(f"{a!r} ** {n!r}: zero cannot be raised to a negative power")
    if a < 0.0 and not float(n).is_integer():
        raise DomainError(
            f"({a!r}) ** {n!r}: a negative base needs an integer exponent (the result would be complex)"
        )
    return a**n


def _pow_positive_base(a: float, b: float) -> float:
    if a <= 0.0:
        raise DomainError(
            f"({a!r}) ** {b!r}: with a Value exponent the base must be > 0, since d/db = out * log(base)"
        )
    return a**b


def _log(a: float) -> float:
    if a <= 0.0:
        raise DomainError(f"log({a!r}): log is defined only for inputs > 0")
    return math.log(a)


def _sqrt(a: float) -> float:
    if a < 0.0:
        raise DomainError(f"sqrt({a!r}): sqrt is defined only for inputs >= 0")
    return math.sqrt(a)


def _sigmoid(a: float) -> float:
    # Two forms, so that neither exp(-a) nor exp(a) can overflow.
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _relu(a: float) -> float:
    return a if a > 0.0 else 0.0


def _sign(a: Operand) -> float:
    return 1.0 if a > 0 else -1.0 if a < 0 else 0.0


def _linear(*wxb: float) -> float:
    n = len(wxb) // 2
    net = wxb[-1]
    for w, x in zip(wxb[:n], wxb[n : 2 * n]):
        net += w * x
    return net


def _linear_local(*wxb_out: Operand) -> tuple[Operand, ...]:
    # operands are (w_1..w_n, x_1..x_n, b): d net/d w_i = x_i, d net/d x_i = w_i, d net/d b = 1
    n = (len(wxb_out) - 2) // 2
    return (*wxb_out[n : 2 * n], *wxb_out[:n], 1.0)


def _linear_accumulate(node: Value, upstream: float) -> None:
    """The delta rule in bulk, as ``_linear_local`` states it: w_i gets upstream * x_i, x_i gets
    upstream * w_i, b gets upstream. The node keeps (w_1..w_n, b) in ``_a`` and (x_1..x_n) in ``_b``."""
    params, inputs = node._a, node._b
    pairs: Iterator[tuple[Any, Any]] = zip(params, inputs)
    if inputs and inputs[0].__class__ is Value:  # a hidden layer's inputs are all nodes
        try:
            for w, x in pairs:
                w.grad += upstream * x.data
                x.grad += upstream * w.data
            pairs = iter(())
        except AttributeError:  # x is a constant after all (nothing was added for it): go on one by one
            w.grad += upstream * x
    for w, x in pairs:
        if x.__class__ is Value:
            w.grad += upstream * x.data
            x.grad += upstream * w.data
        else:
            w.grad += upstream * x
    bias = params[-1]
    if bias.__class__ is Value:
        bias.grad += upstream


def _sum_accumulate(node: Value, upstream: float) -> None:
    """Every term of a sum gets the upstream gradient, as the sum's local derivatives (all 1) say."""
    for x in node._a:
        if x.__class__ is Value:
            x.grad += upstream


# ----------------------------------------------------------------------------------------------
# The rule table


@dataclass(frozen=True, slots=True)
class Op:
    """An op: its name (what ``node._op`` shows), its forward on floats, and its local derivatives.

    ``local(*operands, out)`` returns d out / d operand for every operand, in order. ``arity`` is
    1 or 2 for ops whose operands sit in a node's ``_a``/``_b`` slots, -1 for n-ary ops whose
    operands are tuples, and 0 for a leaf. An n-ary op also has ``accumulate(node, upstream)``:
    its local derivatives applied to all operands in one loop, so backward makes no tuple of them.
    A node's label rides on its op record (a copy made only for labelled nodes), so an unlabelled
    node costs five slots and its float.
    """

    name: str
    forward: Callable[..., float]
    local: Callable[..., tuple[Any, ...]]
    arity: int
    infix: bool = False
    accumulate: Callable[[Value, float], None] | None = None
    dead_at_zero: bool = False  # every local derivative is 0 when out is 0 (relu): nothing flows back
    label: str = ""

    def describe(self, data: Sequence[float]) -> str:
        """The op applied to the given operand values, as a person writes it: ``exp(2.0)``."""
        if self.infix:
            return f" {self.name} ".join(repr(x) for x in data)
        return f"{self.name}({', '.join(repr(x) for x in data)})"

    def labelled(self, label: str) -> Op:
        return self if label == self.label else replace(self, label=label)

    def evaluate(self, data: Sequence[float]) -> float:
        """The forward on these operand values, or an error naming the op and them (never inf)."""
        try:
            out = self.forward(*data)
        except OverflowError:
            out = math.inf
        if not math.isfinite(out):
            raise OverflowError(f"{self.describe(data)}: the result overflows a float (|x| > 1.8e308)")
        return out


def _no_local(*_: Operand) -> tuple[Operand, ...]:
    return ()


LEAF = Op("", float, _no_local, arity=0)

# One line per op: the forward, then the local derivative of each operand as a student writes it.
RULES: dict[str, Op] = {
    "+": Op("+", _add, lambda a, b, out: (1.0, 1.0), arity=2, infix=True),
    "-": Op("-", _sub, lambda a, b, out: (1.0, -1.0), arity=2, infix=True),
    "*": Op("*", _mul, lambda a, b, out: (b, a), arity=2, infix=True),
    "/": Op("/", _div, lambda a, b, out: (1.0 / b, -out / b), arity=2, infix=True),
    # a ** n with n a number, not a node: only the base gets a derivative
    "**": Op("**", _pow, lambda a, n, out: (n * a ** (n - 1), None), arity=2, infix=True),
    # a ** b with b a node
    "pow": Op("**", _pow_positive_base, lambda a, b, out: (b * a ** (b - 1), out * log(a)), 2, infix=True),  # type: ignore[has-type]
    "neg": Op("neg", lambda a: -a, lambda a, out: (-1.0,), arity=1),
    "exp": Op("exp", math.exp, lambda a, out: (out,), arity=1),
    "log": Op("log", _log, lambda a, out: (1.0 / a,), arity=1),
    "sqrt": Op("sqrt", _sqrt, lambda a, out: (0.5 / out,), arity=1),
    "tanh": Op("tanh", math.tanh, lambda a, out: (1.0 - out**2,), arity=1),
    "sigmoid": Op("sigmoid", _sigmoid, lambda a, out: (out * (1.0 - out),), arity=1),
    "relu": Op("relu", _relu, lambda a, out: (1.0 if out > 0 else 0.0,), arity=1, dead_at_zero=True),
    "abs": Op("abs", abs, lambda a, out: (_sign(a),), arity=1),
    # n-ary: a neuron's weighted sum w.x + b as one node, and a sum of many terms
    "linear": Op("linear", _linear, _linear_local, arity=-1, accumulate=_linear_accumulate),
    "sum": Op("sum", lambda *xs: math.fsum(xs), lambda *xs_out: (1.0,) * (len(xs_out) - 1), -1,
              accumulate=_sum_accumulate),
}


# ----------------------------------------------------------------------------------------------
# Recording switch

_recording = True


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block ops compute values but record no graph (results are leaves)."""
    global _recording
    previous, _recording = _recording, False
    try:
        yield
    finally:
        _recording = previous


def is_grad_enabled() -> bool:
    return _recording


def _number(x: object, where: str) -> float:
    """A Python number as a finite float, or a TypeError/ValueError that names it."""
    if isinstance(x, float) and math.isfinite(x):
        return x
    if isinstance(x, (bool, str, bytes)) or not isinstance(x, Real):
        if isinstance(x, Value):
            raise TypeError(f"{where}: got a Value where a number was expected; pass its .data instead")
        raise TypeError(f"{where}: expected a real number (int or float), got {type(x).__name__} {x!r}")
    value = float(x)
    if not math.isfinite(value):
        raise ValueError(
            f"{where}: {value!r} is not a finite number; every value in a graph is finite, "
            "so a NaN or infinity can never spread silently"
        )
    return value


# ----------------------------------------------------------------------------------------------
# The node


class Value:
    """One scalar in a computation graph: its ``data``, its ``grad``, and the op that made it."""

    __slots__ = ("data", "grad", "_rule", "_a", "_b")

    def __init_subclass__(cls, **kwargs: object) -> None:
        raise TypeError("Value cannot be subclassed: the engine tells nodes from numbers by exact class")

    def __init__(self, data: Number, label: str = "") -> None:
        self.data = _number(data, f"Value({data!r})")
        self.grad = 0.0
        self._rule = LEAF
        if label:
            self.label = label  # checked: a classic Value(x, (a, b), "+") is refused, not mislabelled
        # operands: a node or a number each for unary and binary ops; tuples for n-ary ops
        self._a: Any = None
        self._b: Any = None

    # -- what graph-walking code reads ------------------------------------------------------

    @property
    def _op(self) -> str:
        """The op's name, '' for a leaf (as in the classic micrograd)."""
        return self._rule.name

    @property
    def _prev(self) -> tuple[Value, ...]:
        """The distinct operand nodes, in order (constants are not nodes)."""
        return tuple(dict.fromkeys(x for x in self.operands() if isinstance(x, Value)))

    @property
    def label(self) -> str:
        return self._rule.label

    @label.setter
    def label(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"label must be a str, got {type(text).__name__} {text!r}")
        self._rule = self._rule.labelled(text)

    def operands(self) -> tuple[Operand, ...]:
        """The op's operands in order: nodes, and numbers where an operand was a constant."""
        arity = self._rule.arity
        if arity == 2:
            return (self._a, self._b)
        if arity == 1:
            return (self._a,)
        if arity == -1:
            if self._b is None:  # a sum keeps its terms in _a
                return self._a
            *weights, bias = self._a  # a linear node: (w.., b) and (x..)
            return (*weights, *self._b, bias)
        return ()

    def local_grads(self) -> tuple[float, ...]:
        """d self / d operand for each operand, as numbers (what backward multiplies by)."""
        operands = self.operands()
        return _local(self._rule, [_data(x) for x in operands], self.data)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"

    # -- arithmetic -------------------------------------------------------------------------

    def __add__(self, other: Operand) -> Value:
        return _apply2(RULES["+"], self, other)

    def __radd__(self, other: Operand) -> Value:
        return _apply2(RULES["+"], other, self)

    def __sub__(self, other: Operand) -> Value:
        return _apply2(RULES["-"], self, other)

    def __rsub__(self, other: Operand) -> Value:
        return _apply2(RULES["-"], other, self)

    def __mul__(self, other: Operand) -> Value:
        return _apply2(RULES["*"], self, other)

    def __rmul__(self, other: Operand) -> Value:
        return _apply2(RULES["*"], other, self)

    def __truediv__(self, other: Operand) -> Value:
        return _apply2(RULES["/"], self, other)

    def __rtruediv__(self, other: Operand) -> Value:
        return _apply2(RULES["/"], other, self)

    def __pow__(self, other: Operand) -> Value:
        op = RULES["pow"] if isinstance(other, Value) else RULES["**"]
        return _apply2(op, self, other)

    def __rpow__(self, other: Operand) -> Value:
        return _apply2(RULES["pow"], other, self)

    def __neg__(self) -> Value:
        return _apply1(RULES["neg"], self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _apply1(RULES["abs"], self)

    def exp(self) -> Value:
        return _apply1(RULES["exp"], self)

    def log(self) -> Value:
        return _apply1(RULES["log"], self)

    def sqrt(self) -> Value:
        return _apply1(RULES["sqrt"], self)

    def tanh(self) -> Value:
        return _apply1(RULES["tanh"], self)

    def sigmoid(self) -> Value:
        return _apply1(RULES["sigmoid"], self)

    def relu(self) -> Value:
        return _apply1(RULES["relu"], self)

    def abs(self) -> Value:
        return _apply1(RULES["abs"], self)

    # Ordering compares data (handy for max, sorting and relu's rule); == stays identity, so
    # Values can be dict keys and set members as graph-walking code expects.
    def __lt__(self, other: Operand) -> bool:
        return self.data < _data(other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _data(other)

    __hash__ = object.__hash__

    # -- backward ---------------------------------------------------------------------------

    def backward(self) -> None:
        """Backpropagate from this node: set its grad to 1, then add d self/d node into every node.

        As in the classic micrograd, gradients accumulate: call ``zero_grad`` (or set ``.grad`` to
        0) between passes, or a second call adds the same gradients again.
        """
        order = topological_order(self, live_only=True)
        self.grad = 1.0
        for node in reversed(order):
            if node.grad != 0.0:  # a zero upstream adds nothing (every local derivative is finite)
                _propagate(node)

    def _backward(self) -> None:
        """Add this node's grad times each local derivative into its operand nodes' grads."""
        _propagate(self)


def _propagate(node: Value) -> None:
    """One chain-rule step: operand.grad += node.grad * d node / d operand, for each operand node."""
    rule = node._rule
    arity = rule.arity
    upstream = node.grad
    try:
        if arity == 1:
            a = node._a
            a.grad += upstream * rule.local(a.data, node.data)[0]
        elif arity == 2:
            a, b = node._a, node._b
            if a.__class__ is Value:
                if b.__class__ is Value:
                    da, db = rule.local(a.data, b.data, node.data)
                    a.grad += upstream * da
                    b.grad += upstream * db
                else:
                    a.grad += upstream * rule.local(a.data, b, node.data)[0]
            else:
                b.grad += upstream * rule.local(a, b.data, node.data)[1]
        elif arity == -1:
            rule.accumulate(node, upstream)  # type: ignore[misc]  # every n-ary op has one
    except (ArithmeticError, ValueError) as exc:
        data = [_data(x) for x in node.operands()]
        raise _not_finite(rule, data, node.data, exc) from exc


# ----------------------------------------------------------------------------------------------
# Building nodes


def _data(x: Operand) -> float:
    return x.data if isinstance(x, Value) else x


_new_value = Value.__new__


def _node(rule: Op, data: float, a: object, b: object = None) -> Value:
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    if _recording:
        out._rule = rule
        out._a = a
        out._b = b
    else:
        out._rule, out._a, out._b = LEAF, None, None
    return out


def _operand(x: object, rule: Op) -> Operand:
    return x if isinstance(x, Value) else _number(x, f"operand of {rule.name or 'op'}")


def _apply1(rule: Op, a: Value) -> Value:
    return _node(rule, rule.evaluate((a.data,)), a)


def _apply2(rule: Op, a: object, b: object) -> Value:
    if a.__class__ is Value:
        x = a.data
    elif isinstance(a, Real) and not isinstance(a, bool) or isinstance(a, Value):
        a = _operand(a, rule)
        x = _data(a)
    else:
        return NotImplemented
    if b.__class__ is Value:
        y = b.data
    elif isinstance(b, Real) and not isinstance(b, bool) or isinstance(b, Value):
        b = _operand(b, rule)
        y = _data(b)
    else:
        return NotImplemented
    return _node(rule, rule.evaluate((x, y)), a, b)


def _local(rule: Op, data: Sequence[Any], out: Operand) -> tuple[Any, ...]:
    try:
        return rule.local(*data, out)
    except (ArithmeticError, ValueError) as exc:
        raise _not_finite(rule, data, out, exc) from exc


def _not_finite(rule: Op, data: Sequence[Any], out: Operand, exc: Exception) -> Exception:
    """A local derivative that failed, as the same kind of error naming the op and its operands."""
    return type(exc)(
        f"backward through {rule.describe(data)} = {out!r}: its local derivative is not finite ({exc})"
    )


def affine(params: Sequence[Operand], inputs: Sequence[Operand]) -> Value:
    """``sum_i w_i * x_i + b`` as ONE node, for params = (w_1, ..., w_n, b) and n inputs.

    The fast form of ``linear``: a neuron passes the same ``params`` tuple on every call (and a
    layer the same ``inputs`` tuple to all its neurons), so the graph walk visits them once.
    Inputs may be plain numbers: they are constants, not nodes.
    """
    params = tuple(params)  # no copy when it is already a tuple
    inputs = tuple(inputs)
    if len(params) != len(inputs) + 1:
        raise ValueError(
            f"linear: {len(params) - 1} weights but {len(inputs)} inputs; they must match"
        )
    try:
        net = _weighted_sum(params, inputs)
    except (AttributeError, TypeError):
        _check_linear_operands(params, inputs)
        raise
    if not math.isfinite(net):
        _check_linear_operands(params, inputs)
        raise OverflowError("linear: the weighted sum overflows a float (|x| > 1.8e308)")
    return _node(RULES["linear"], net, params, inputs)


def _weighted_sum(params: Sequence[Any], inputs: Sequence[Any]) -> float:
    """The linear op's forward (``_linear``) read straight from a node's two tuples, unflattened."""
    bias = params[-1]
    net: float = bias.data if bias.__class__ is Value else bias
    if inputs and inputs[0].__class__ is Value:  # a hidden layer's inputs are all nodes
        try:
            for w, x in zip(params, inputs):
                net += w.data * x.data
            return net
        except AttributeError:  # a constant among them after all: start again one by one
            net = bias.data if bias.__class__ is Value else bias
    for w, x in zip(params, inputs):
        net += w.data * (x.data if x.__class__ is Value else x)
    return net


def _check_linear_operands(params: Sequence[object], inputs: Sequence[object]) -> None:
    for i, w in enumerate(params):
        name = "bias" if i == len(params) - 1 else f"weight {i}"
        if not isinstance(w, Value) and (i < len(params) - 1 or isinstance(w, (bool, str))):
            raise TypeError(f"linear: {name} must be a Value, got {type(w).__name__} {w!r}")
        if not isinstance(w, Value):
            _number(w, f"linear: {name}")
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            _number(x, f"linear: input {i}")


def linear(weights: Sequence[Value], inputs: Sequence[Operand], bias: Operand = 0.0) -> Value:
    """A neuron's weighted sum ``sum_i w_i * x_i + b`` as ONE node (backward: the delta rule)."""
    return affine((*weights, bias), inputs)


def total(terms: Iterable[Operand]) -> Value:
    """The sum of many terms as ONE node, instead of a chain of n - 1 additions."""
    rule = RULES["sum"]
    operands = tuple(terms)
    if not operands:
        raise ValueError("total: no terms to add; pass at least one Value or number")
    data = [x.data if x.__class__ is Value else _data(_operand(x, rule)) for x in operands]
    return _node(rule, rule.evaluate(data), operands)


# Functions that take floats and Values alike: the rule table's formulas are written with these.


def _unary(name: str) -> Callable[[Operand], Operand]:
    rule = RULES[name]

    def f(x: Operand) -> Operand:
        if isinstance(x, Value):
            return _apply1(rule, x)
        value = _number(x, f"{name}({x!r})")
        return rule.evaluate((value,))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"{name}(x) for a float or a Value (then it is recorded in the graph)."
    return f


exp = _unary("exp")
log = _unary("log")
sqrt = _unary("sqrt")
tanh = _unary("tanh")
sigmoid = _unary("sigmoid")
relu = _unary("relu")

# ----------------------------------------------------------------------------------------------
# Walking the graph


def topological_order(root: Value, live_only: bool = False) -> list[Value]:
    """Every node that ``root`` depends on, operands before the nodes that use them (iterative).

    A depth-first walk with an explicit stack. Expanding a node pushes a ``None`` marker, then its
    operands not yet seen; when the marker comes back to the top, every operand has been emitted
    and so the node is (it waits on the ``exits`` stack meanwhile). The operand tuples of a linear
    node (a neuron's parameters, a layer's inputs) are shared by many nodes: once a walk of one
    finds every member seen, later users skip the whole tuple.

    ``live_only`` (what backward uses) does not walk past a node whose op passes no gradient back
    at its value, such as a relu at 0: what lies behind it only would receive nothing.
    """
    order: list[Value] = []
    emit = order.append
    seen: set[Value] = set()
    done_groups: set[int] = set()
    stack: list[Value | None] = [root]
    push, pop = stack.append, stack.pop
    exits: list[Value] = []
    while stack:
        node = pop()
        if node is None:  # all operands of the node waiting on top of exits are emitted
            emit(exits.pop())
            continue
        if node in seen:  # pushed twice before it was expanded
            continue
        seen.add(node)
        rule = node._rule
        arity = rule.arity
        if live_only and rule.dead_at_zero and node.data == 0.0:
            arity = 0
        if arity == 0:
            emit(node)
            continue
        push(None)
        exits.append(node)
        waiting = len(stack)
        # operands are pushed last first, so they are walked (and emitted) in the order written
        if arity == 1:
            if node._a not in seen:
                push(node._a)
        elif arity == 2:
            a, b = node._a, node._b
            if b.__class__ is Value and b not in seen:
                push(b)
            if a.__class__ is Value and a not in seen:
                push(a)
        else:
            for group in (node._b, node._a):  # a linear node's inputs, then its params
                if group is None or id(group) in done_groups:
                    continue
                before = len(stack)
                for x in reversed(group):
                    if x.__class__ is Value and x not in seen:
                        push(x)
                if len(stack) == before:  # every member seen, hence emitted: skip it from now on
                    done_groups.add(id(group))
        if len(stack) == waiting:  # nothing to wait for
            pop()
            emit(exits.pop())
    return order


def grad(
    output: Value, inputs: Sequence[Value], create_graph: bool = False
) -> list[Any]:
    """d output / d input for each input, leaving every ``.grad`` untouched.

    With ``create_graph=True`` the results are Values built from the rule table's formulas, so
    they can be differentiated again (second derivatives, mixed partials, Hessian-vector products).
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    for x in inputs:
        if not isinstance(x, Value):
            raise TypeError(f"grad: every input must be a Value, got {type(x).__name__} {x!r}")
    grads: dict[Value, Any] = {output: Value(1.0) if create_graph else 1.0}
    for node in reversed(topological_order(output)):
        upstream = grads.get(node)
        if upstream is None or node._rule.arity == 0:
            continue
        operands = node.operands()
        if create_graph:
            locals_ = _local(node._rule, operands, node)
        else:
            locals_ = _local(node._rule, [_data(x) for x in operands], node.data)
        for operand, local in zip(operands, locals_):
            if isinstance(operand, Value):
                contribution = upstream * local
                previous = grads.get(operand)
                grads[operand] = contribution if previous is None else previous + contribution
    zero: Any = Value(0.0) if create_graph else 0.0
    return [grads.get(x, zero) for x in inputs]


# ----------------------------------------------------------------------------------------------
# Checking a derivation


@dataclass
class GradcheckResult:
    """The engine's gradients beside central finite differences, and the worst mismatch."""

    analytic: list[float]
    numeric: list[float]
    worst_index: int
    worst_abs_error: float
    worst_rel_error: float
    ok: bool

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        i = self.worst_index
        verdict = "ok" if self.ok else "MISMATCH"
        return (
            f"gradcheck {verdict}: worst at input {i}: engine {self.analytic[i]!r} vs finite "
            f"difference {self.numeric[i]!r} (abs error {self.worst_abs_error:.3g}, "
            f"rel error {self.worst_rel_error:.3g})"
        )


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Number],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> GradcheckResult:
    """Compare d f / d input from the engine with central differences (f(x+eps) - f(x-eps)) / 2eps.

    ``f`` takes one Value per input and returns a Value. The result is truthy when every gradient
    agrees within ``atol + rtol * |numeric|``; printing it names the worst input.
    """
    xs = [_number(x, f"gradcheck input {i}") for i, x in enumerate(inputs)]
    if not xs:
        raise ValueError("gradcheck: no inputs; pass at least one number")
    nodes = [Value(x) for x in xs]
    out = f(*nodes)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    analytic = [float(g) for g in grad(out, nodes)]
    numeric = []
    with no_grad():
        for i in range(len(xs)):
            up, down = list(xs), list(xs)
            up[i] += eps
            down[i] -= eps
            numeric.append((f(*map(Value, up)).data - f(*map(Value, down)).data) / (2 * eps))
    errors = [abs(a - n) for a, n in zip(analytic, numeric)]
    excess = [e - (atol + rtol * abs(n)) for e, n in zip(errors, numeric)]
    worst = max(range(len(xs)), key=excess.__getitem__)
    rel = errors[worst] / max(abs(numeric[worst]), 1e-300)
    return GradcheckResult(analytic, numeric, worst, errors[worst], rel, max(excess) <= 0.0)
