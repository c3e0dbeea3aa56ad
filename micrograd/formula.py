"""The textbook formula of a local derivative: read once, evaluated in numbers, written as text or LaTeX.

Every op of the rule table carries the formula of each operand's local derivative as a short
Python-syntax expression in the op's symbols (``a``, ``b``, ``out``, and ``n`` for a constant
exponent): ``"1 - out**2"`` for tanh, ``"b"`` and ``"a"`` for ``*``. ``Formula`` reads such a string
with ``ast`` into a small whitelist (numbers, symbols, ``+ - * / **``, unary minus, calls of the
engine's functions, and ``X if COMPARISON else Y`` for piecewise derivatives such as relu's) and
never runs it as code. It can

- evaluate itself on numbers (the tests and ``defop`` check every formula against the op's own
  derivative and against finite differences);
- write itself with the symbols replaced by names or numbers, as text (``1 - o^2 = 1 - 0.7071^2``)
  or LaTeX (``1 - o^{2}``), adding parentheses wherever a substituted name or negative number
  needs them.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Substitute = Mapping[str, "str | float"]
NumberFormat = Callable[[float], str]

# Binding strength, as Python's grammar has it: a higher number binds tighter.
_PREC = {"if": 0, "cmp": 1, "+": 2, "-": 2, "*": 3, "/": 3, "neg": 4, "**": 5, "atom": 6}
_BINOPS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_COMPARE: dict[type, tuple[str, str, Callable[[float, float], bool]]] = {
    ast.Gt: (">", ">", lambda x, y: x > y),
    ast.GtE: (">=", r"\ge", lambda x, y: x >= y),
    ast.Lt: ("<", "<", lambda x, y: x < y),
    ast.LtE: ("<=", r"\le", lambda x, y: x <= y),
}
# LaTeX for the functions a formula may call; others are written \operatorname{name}.
_TEX_FUNCTIONS = {
    "exp": r"\exp",
    "log": r"\log",
    "sin": r"\sin",
    "cos": r"\cos",
    "tanh": r"\tanh",
    "sqrt": r"\sqrt",
    "sigmoid": r"\sigma",
}


class FormulaError(ValueError):
    """A formula string that is not in the formula whitelist (or names an unknown function)."""


def _default_number(x: float) -> str:
    return f"{x + 0.0:g}"


def _functions() -> dict[str, Callable[..., Any]]:
    from micrograd import engine  # the engine imports this module lazily, so no import cycle

    return {**engine.FUNCTIONS, "sign": engine.sign}


@dataclass(frozen=True)
class _Node:
    kind: str  # "num", "sym", "bin", "neg", "call", "if"
    value: Any = None  # the number, symbol, operator or function name
    args: tuple[_Node, ...] = ()
    compare: str = ""  # for "if": the comparison's operator, args = (left, right, then, else)


class Formula:
    """One local-derivative formula, e.g. ``Formula("1 - out**2")``."""

    def __init__(self, source: str) -> None:
        if not isinstance(source, str):
            raise FormulaError(
                f"a formula is a str such as '1 - out**2', got {type(source).__name__} {source!r}"
            )
        self.source = source
        try:
            tree = ast.parse(source.strip(), mode="eval").body
        except SyntaxError as exc:
            raise FormulaError(f"formula {source!r} is not an expression: {exc.msg}") from None
        self._root = self._read(tree)
        self.symbols = frozenset(self._collect(self._root))

    def __repr__(self) -> str:
        return f"Formula({self.source!r})"

    # -- reading --------------------------------------------------------------------------------

    def _read(self, node: ast.expr) -> _Node:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return _Node("num", float(node.value))  # type: ignore[arg-type]  # int or float, checked
        if isinstance(node, ast.Name):
            return _Node("sym", node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _Node("bin", _BINOPS[type(node.op)], (self._read(node.left), self._read(node.right)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self._read(node.operand)
            return _Node("neg", None, (inner,)) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            if node.func.id not in _functions():
                raise FormulaError(
                    f"formula {self.source!r} calls {node.func.id!r}, which is not one of micrograd's "
                    f"functions ({', '.join(sorted(_functions()))})"
                )
            return _Node("call", node.func.id, tuple(self._read(a) for a in node.args))
        if isinstance(node, ast.IfExp):
            test = node.test
            if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in _COMPARE):
                raise FormulaError(
                    f"formula {self.source!r}: the condition of 'X if C else Y' must be one comparison "
                    "with > >= < <=, e.g. '1 if a > 0 else 0'"
                )
            parts = (self._read(test.left), self._read(test.comparators[0]), self._read(node.body),
                     self._read(node.orelse))
            return _Node("if", None, parts, _COMPARE[type(test.ops[0])][0])
        raise FormulaError(
            f"formula {self.source!r}: {ast.unparse(node)!r} is not allowed; a formula has numbers, "
            "symbols, + - * / **, unary minus, calls of micrograd's functions and 'X if C else Y'"
        )

    def _collect(self, node: _Node) -> list[str]:
        own = [node.value] if node.kind == "sym" else []
        return own + [s for arg in node.args for s in self._collect(arg)]

    # -- numbers --------------------------------------------------------------------------------

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The formula's value with each symbol set from ``values`` (a KeyError names a missing one)."""
        functions = _functions()

        def ev(node: _Node) -> float:
            if node.kind == "num":
                return float(node.value)
            if node.kind == "sym":
                if node.value not in values:
                    raise KeyError(f"formula {self.source!r} needs a value for {node.value!r}")
                return float(values[node.value])
            if node.kind == "neg":
                return -ev(node.args[0])
            if node.kind == "call":
                result = functions[node.value](*(ev(a) for a in node.args))
                return float(result.data if hasattr(result, "grad") else result)
            if node.kind == "if":
                left, right, then, other = node.args
                test = next(f for op, _, f in _COMPARE.values() if op == node.compare)
                return ev(then) if test(ev(left), ev(right)) else ev(other)
            x, y = ev(node.args[0]), ev(node.args[1])
            op = node.value
            if op == "+":
                return x + y
            if op == "-":
                return x - y
            if op == "*":
                return x * y
            if op == "/":
                return x / y
            return math.pow(x, y)

        return ev(self._root)

    # -- writing --------------------------------------------------------------------------------

    def text(self, values: Substitute | None = None, number: NumberFormat = _default_number) -> str:
        """The formula as plain text, ``^`` for powers; symbols replaced by ``values`` (names or numbers).

        ``number`` formats the substituted numbers; the formula's own literals (the 1 and 2 of
        ``1 - out**2``) are written as they are.
        """
        return self._write(self._root, values or {}, number, tex=False)[0]

    def tex(self, values: Substitute | None = None, number: NumberFormat = _default_number) -> str:
        """The formula in LaTeX (math mode); string values are inserted as given (already LaTeX)."""
        return self._write(self._root, values or {}, number, tex=True)[0]

    def _write(self, node: _Node, values: Substitute, number: NumberFormat, tex: bool) -> tuple[str, int]:
        """The text of ``node`` and how tightly it binds (to decide on parentheses around it)."""
        if node.kind == "num":  # a literal of the formula (the 1 and 2 of 1 - out**2): written as is
            return _default_number(node.value), _PREC["atom"]
        if node.kind == "sym":
            value = values.get(node.value, node.value)
            if isinstance(value, str):
                return value, _PREC["atom"] if _atomic(value, tex) else _PREC["if"]
            text = number(value)
            return text, _PREC["neg"] if text.startswith("-") else _PREC["atom"]
        if node.kind == "neg":
            inner, prec = self._write(node.args[0], values, number, tex)
            # -(x) keeps its parentheses when x is negative or a sum: -(-2), -(a + b)
            return "-" + (inner if prec > _PREC["neg"] else f"({inner})"), _PREC["neg"]
        if node.kind == "call":
            args = ", ".join(self._write(a, values, number, tex)[0] for a in node.args)
            if not tex:
                return f"{node.value}({args})", _PREC["atom"]
            name = _TEX_FUNCTIONS.get(node.value, rf"\operatorname{{{node.value}}}")
            if node.value == "sqrt":
                return rf"\sqrt{{{args}}}", _PREC["atom"]
            return rf"{name}\left({args}\right)", _PREC["atom"]
        if node.kind == "if":
            left, right, then, other = (self._write(a, values, number, tex)[0] for a in node.args)
            if tex:
                symbol = next(t for op, t, _ in _COMPARE.values() if op == node.compare)
                return (
                    rf"\begin{{cases}} {then} & \text{{if }} {left} {symbol} {right} \\ "
                    rf"{other} & \text{{otherwise}} \end{{cases}}",
                    _PREC["atom"],
                )
            return f"{then} if {left} {node.compare} {right} else {other}", _PREC["if"]
        op = node.value
        left, lp = self._write(node.args[0], values, number, tex)
        right, rp = self._write(node.args[1], values, number, tex)
        prec = _PREC[op]
        if op == "**":
            left = left if lp > prec else f"({left})"  # (-2)^2, (a + b)^2
            if tex:
                return f"{{{left}}}^{{{right}}}", prec
            return f"{left}^{right if rp == _PREC['atom'] else f'({right})'}", prec
        if tex and op == "/":
            return rf"\frac{{{left}}}{{{right}}}", _PREC["atom"]
        left = left if lp >= prec else f"({left})"
        # the right operand of - and / also needs parentheses at equal strength: a - (b - c)
        right = right if rp > prec or (rp == prec and op in "+*") else f"({right})"
        if rp == _PREC["neg"] and not tex:  # x - (-3), 2 * (-0.5): never two signs in a row
            right = f"({right})"
        symbol = {"*": r" \cdot " if tex else " * "}.get(op, f" {op} ")
        return f"{left}{symbol}{right}", prec


# marks that keep a name one word: L0.N1, w_1, x1#2 (a sample), W[0][1]
_WORD_MARKS = str.maketrans("", "", "._#[]")


def _atomic(text: str, tex: bool) -> bool:
    """Whether a substituted name needs no parentheses: one word, e.g. ``x1``, ``L0.N1``, ``w_{1}``."""
    if tex:
        return not any(ch in text for ch in " +-*/^") or text.startswith("\\left(")
    return text.translate(_WORD_MARKS).isalnum() or (
        text.startswith("(") and text.endswith(")")
    )
