"""Arithmetic expressions typed by a user, turned into a graph of Values: the ONE expression parser.

``parse("tanh(x1*w1 + x2*w2 + b)")`` reads the text with Python's ``ast`` module and keeps only a
whitelist: numbers, variable names, ``+ - * / **``, unary ``-`` and ``+``, and one-argument calls of
the engine's functions (``tanh exp log sqrt sigmoid relu abs``). ``Expression.evaluate(values)``
then walks that tree and builds the graph with the engine's own ops; nothing in the text is ever
run as Python code (no eval, exec or compile). Each variable becomes one leaf ``Value`` labelled
with its name and the result is labelled ``out``; the nodes in between stay unlabelled, so
explanations name them n1, n2, ... rather than repeating ever longer pieces of the formula.

Anything outside the whitelist, a missing or extra variable, an absurd exponent or an oversized
expression raises ``ExpressionError``: one line that names the problem and its column, plus a
``pointer()`` with the text and a caret under the problem.
"""

from __future__ import annotations

import ast
import math
import operator
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from micrograd import engine
from micrograd.engine import RULES, Operand, Value

# Generous for any formula a person types, small enough that a graph of it still draws quickly.
MAX_LENGTH = 1000
MAX_DEPTH = 100
MAX_NODES = 400
# A constant exponent beyond this is a typo or an attack, never a teaching example.
MAX_EXPONENT = 1000.0

# The engine's functions by name: the built-in ops and every op added with defop, as they are added.
FUNCTIONS = engine.FUNCTIONS


def _allowed() -> str:
    return f"only numbers, names, + - * / ** and calls of {', '.join(FUNCTIONS)}"


def _arity(name: str) -> int:
    return engine.RULES[name].arity if name in engine.RULES else 1  # abs is Value.__abs__


_TOO_DEEP = (
    f"the expression is nested too deeply: more than {MAX_DEPTH} levels of parentheses, calls, signs "
    "or operators inside operators (a flat a + b - c + ... or a * b / c * ... is one level, however long)"
)

# ast operator -> (what the user typed, the engine's rule key for two plain numbers, Python operator)
_BINARY: dict[type[ast.operator], tuple[str, str, Callable[[Operand, Operand], Operand]]] = {
    ast.Add: ("+", "+", operator.add),
    ast.Sub: ("-", "-", operator.sub),
    ast.Mult: ("*", "*", operator.mul),
    ast.Div: ("/", "/", operator.truediv),
    ast.Pow: ("**", "**", operator.pow),
}

# Operators of one precedence chain left to right: a + b - c parses as ((a + b) - c), a left spine
# that is long but not deep. The check counts it as one level and the builder walks it in a loop.
_CHAINS: dict[type[ast.operator], str] = {ast.Add: "+-", ast.Sub: "+-", ast.Mult: "*/", ast.Div: "*/"}

_OPERATOR_NAMES: dict[type[ast.AST], str] = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.Not: "not",
    ast.Invert: "~",
}

# What to call a refused construct in the message, by its ast node type.
_CONSTRUCTS: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.JoinedStr: "a string",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "conditional expressions",
    ast.NamedExpr: "assignments",
    ast.Starred: "starred arguments",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Set: "sets",
    ast.Dict: "dicts",
    ast.Slice: "slices",
}


class ExpressionError(ValueError):
    """An expression (or a name=value assignment) that is refused, with where and why."""

    def __init__(self, reason: str, source: str = "", column: int | None = None) -> None:
        self.reason = reason
        self.source = source
        self.column = column  # 0-based offset into source, None when no position applies
        where = f"column {column + 1}: " if column is not None else ""
        super().__init__(where + reason)

    def pointer(self, width: int = 76) -> str:
        """The expression and a caret under the problem (empty when there is no position).

        A long expression is cut to a window of ``width`` characters around the problem.
        """
        if self.column is None or not self.source:
            return ""
        text, column = self.source, self.column
        if len(text) > width:
            start = max(0, min(column - width // 2, len(text) - width))
            text = (
                ("..." if start else "")
                + text[start : start + width]
                + ("..." if start + width < len(text) else "")
            )
            column = column - start + (3 if start else 0)
        text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
        return f"  {text}\n  {' ' * column}^"


@dataclass(frozen=True)
class Expression:
    """A parsed, whitelisted expression: its text, its tree and its variables in order of appearance."""

    source: str
    tree: ast.expr
    names: tuple[str, ...]
    columns: Mapping[str, int]  # where each name first appears

    def evaluate(self, values: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
        """Build the graph for these variable values: (the result node, the leaf node of each name).

        Every name of the expression needs a value and every value a name in the expression.
        """
        missing = [name for name in self.names if name not in values]
        if missing:
            example = " ".join(f"{name}=1.5" for name in missing)
            raise ExpressionError(
                f"no value for {', '.join(missing)}: pass {'it' if len(missing) == 1 else 'them'} "
                f"after the expression, e.g. {example}",
                self.source,
                self.columns[missing[0]],
            )
        extra = [name for name in values if name not in self.names]
        if extra:
            raise ExpressionError(
                f"{', '.join(f'{name}={values[name]!r}' for name in extra)} given, but the expression "
                f"{self.source!r} has no variable {' or '.join(extra)}; "
                f"its variables are {', '.join(self.names)}"
            )
        leaves = {name: Value(values[name], label=name) for name in self.names}
        out = _Builder(self.source, leaves).build(self.tree)
        if not isinstance(out, Value):  # unreachable: parse() refuses expressions without variables
            raise ExpressionError("the expression has no variables", self.source)
        if out._op:
            out.label = _unused("out", self.names)
        return out, leaves


def parse(source: str) -> Expression:
    """Parse and check an expression; raises ExpressionError naming the first problem and its column."""
    if not isinstance(source, str):
        raise TypeError(f"parse: expected the expression as a str, got {type(source).__name__}")
    text = source.strip()
    if not text:
        raise ExpressionError("the expression is empty; write one, e.g. 'tanh(x*w + b)'")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    for column, char in enumerate(text):
        if char != "\t" and unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            reason = f"control character {char!r}: write the expression on one line"
            raise ExpressionError(reason, text, column)
    try:
        module = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        where = (exc.offset or 1) - 1 if exc.lineno in (None, 1) else None
        raise ExpressionError(f"not a valid expression: {exc.msg}", text, where) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(_TOO_DEEP, text) from None
    tree = module.body
    columns = _check(tree, text)
    return Expression(text, tree, tuple(sorted(columns, key=columns.__getitem__)), columns)


def parse_assignments(items: Sequence[str]) -> dict[str, float]:
    """``["x=2", "w=-3"]`` -> ``{"x": 2.0, "w": -3.0}``; refuses non-numbers, NaN, infinity and repeats."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, number = item.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())  # as Python's parser normalises identifiers
        if not sep or not name:
            raise ExpressionError(f"expected name=value after the expression, got {item!r} (e.g. x=2.5)")
        if not name.isidentifier() or name in FUNCTIONS:
            why = "is a function" if name in FUNCTIONS else "is not a variable name"
            raise ExpressionError(f"{item!r}: {name!r} {why}; variables are names such as x, w1, bias")
        if name in values:
            reason = f"{name} is given twice ({name}={values[name]!r} and {item!r}); give it once"
            raise ExpressionError(reason)
        try:
            value = float(number.strip())
        except ValueError:
            raise ExpressionError(f"{item!r}: {number.strip()!r} is not a number (e.g. {name}=2.5)") from None
        if not math.isfinite(value):
            reason = f"{item!r}: {value!r} is not a finite number; every value in a graph is finite"
            raise ExpressionError(reason)
        values[name] = value
    return values


def build(source: str, assignments: Sequence[str] | Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """Parse ``source`` and evaluate it: ``build("x*w", ["x=2", "w=3"])`` -> (node, {"x": ..., "w": ...})."""
    values = assignments if isinstance(assignments, Mapping) else parse_assignments(assignments)
    return parse(source).evaluate(values)


# ----------------------------------------------------------------------------------------------
# The whitelist check: iterative, so no input can exhaust the Python stack here.


def _check(tree: ast.expr, source: str) -> dict[str, int]:
    """Refuse anything outside the whitelist; return each variable name and its first column."""
    names: dict[str, int] = {}
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        column = _column(node, source)
        if depth > MAX_DEPTH:
            raise ExpressionError(_TOO_DEEP, source, column)
        if count > MAX_NODES:
            raise ExpressionError(
                f"the expression has more than {MAX_NODES} parts; the limit keeps its graph drawable", source
            )
        children: list[ast.AST] = []
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                kind = "a string" if isinstance(value, (str, bytes)) else f"{value!r}"
                raise ExpressionError(f"{kind}: not allowed; {_allowed()}", source, column)
            too_large = len(str(abs(value))) > 308 if isinstance(value, int) else not math.isfinite(value)
            if too_large:
                raise ExpressionError("this number is too large for a float (|x| > 1.8e308)", source, column)
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise ExpressionError(f"{node.id} is a function: call it, as in {node.id}(x)", source, column)
            names[node.id] = min(node.col_offset, names.get(node.id, node.col_offset))
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                symbol = _OPERATOR_NAMES.get(type(node.op), type(node.op).__name__)
                column = _operator_column(node, source)
                raise ExpressionError(f"operator {symbol}: not allowed; use + - * / **", source, column)
            stack.append((node.right, depth + 1))
            stack.append((node.left, depth if _continues_chain(node) else depth + 1))
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                symbol = _OPERATOR_NAMES.get(type(node.op), type(node.op).__name__)
                raise ExpressionError(f"operator {symbol}: not allowed; only unary - and +", source, column)
            children = [node.operand]
        elif isinstance(node, ast.Call):
            _check_call(node, source)
            children = list(reversed(node.args))
        else:
            what = _CONSTRUCTS.get(type(node), type(node).__name__)
            raise ExpressionError(f"{what}: not allowed; {_allowed()}", source, column)
        stack.extend((child, depth + 1) for child in children)
    if not names:
        raise ExpressionError(
            "the expression has no variables, so there is nothing to differentiate; "
            "use a name, e.g. 'x*2' x=3",
            source,
        )
    return names


def _continues_chain(node: ast.BinOp) -> bool:
    """Whether the left operand of ``node`` is the rest of the same flat chain (a + b in a + b - c)."""
    left = node.left
    return isinstance(left, ast.BinOp) and _CHAINS.get(type(left.op), "?") == _CHAINS.get(type(node.op))


def _check_call(node: ast.Call, source: str) -> None:
    func = node.func
    if not isinstance(func, ast.Name):
        what = "attribute access" if isinstance(func, ast.Attribute) else "this kind of call"
        raise ExpressionError(
            f"{what}: not allowed; call one of {', '.join(FUNCTIONS)} by name", source, _column(func, source)
        )
    if func.id not in FUNCTIONS:
        raise ExpressionError(
            f"unknown function {func.id!r}: the functions are {', '.join(FUNCTIONS)}", source, func.col_offset
        )
    if node.keywords:
        keyword = node.keywords[0]
        raise ExpressionError(f"{func.id}() takes no keyword arguments", source, keyword.col_offset)
    arity = _arity(func.id)
    if len(node.args) != arity:
        column = node.args[arity].col_offset if len(node.args) > arity else node.col_offset
        wanted = "one argument" if arity == 1 else f"{arity} arguments"
        raise ExpressionError(f"{func.id}() takes exactly {wanted}, got {len(node.args)}", source, column)


def _column(node: ast.AST, source: str) -> int | None:
    """Where to point for a refused node: at the '.' of an attribute and the '[' of a subscript."""
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        return _after(node.value, source)
    return getattr(node, "col_offset", None)


def _operator_column(node: ast.BinOp, source: str) -> int:
    return _after(node.left, source)


def _after(node: ast.expr, source: str) -> int:
    """The first character after ``node`` that is not a blank or a closing parenthesis."""
    column = node.end_col_offset if node.end_col_offset is not None else node.col_offset
    while column < len(source) and source[column] in " \t)":
        column += 1
    return column


# ----------------------------------------------------------------------------------------------
# Building the graph from a checked tree: recursion only where the check counts a level (at most
# MAX_DEPTH of them), and a loop along flat chains.


class _Builder:
    def __init__(self, source: str, leaves: Mapping[str, Value]) -> None:
        self.source = source
        self.leaves = leaves

    def build(self, node: ast.expr) -> Operand:
        if isinstance(node, ast.Constant):
            return float(node.value)  # type: ignore[arg-type]  # _check let only int and float through
        if isinstance(node, ast.Name):
            return self.leaves[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand)
            if isinstance(node.op, ast.UAdd):
                return operand
            return -operand
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            arguments = [self.build(argument) for argument in node.args]
            return self._guard(node, lambda: FUNCTIONS[node.func.id](*arguments))  # type: ignore[attr-defined]
        assert isinstance(node, ast.BinOp)
        # a flat chain a + b - c + ... is as long as it likes: walk its left spine in a loop
        spine = [node]
        while _continues_chain(spine[-1]):
            spine.append(spine[-1].left)  # type: ignore[arg-type]
        out = self.build(spine[-1].left)
        for link in reversed(spine):
            out = self._binary(link, out, self.build(link.right))
        return out

    def _binary(self, node: ast.BinOp, left: Operand, right: Operand) -> Operand:
        symbol, rule, apply = _BINARY[type(node.op)]
        if symbol == "**" and not isinstance(right, Value) and abs(right) > MAX_EXPONENT:
            raise ExpressionError(
                f"exponent {right!r} is too large: constant exponents are limited to +-{MAX_EXPONENT:g}",
                self.source,
                node.right.col_offset,
            )
        if isinstance(left, Value) or isinstance(right, Value):
            return self._guard(node, lambda: apply(left, right))
        # Two plain numbers: the rule table's checked forward refuses what is outside the domain or overflows.
        return self._guard(node, lambda: RULES[rule].evaluate((left, right)))

    def _guard(self, node: ast.expr, compute: Callable[[], Operand]) -> Operand:
        try:
            return compute()
        except (ArithmeticError, ValueError) as exc:
            column = _operator_column(node, self.source) if isinstance(node, ast.BinOp) else node.col_offset
            raise ExpressionError(f"cannot evaluate: {exc}", self.source, column) from None


def _unused(name: str, taken: Sequence[str]) -> str:
    """``name``, or name_2, name_3, ... when a variable of the expression already has it."""
    candidate, k = name, 1
    while candidate in taken:
        k += 1
        candidate = f"{name}_{k}"
    return candidate
