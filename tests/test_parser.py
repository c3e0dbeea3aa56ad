"""The expression parser: what it accepts builds the same values and gradients as torch (float64),
and everything outside the whitelist is refused with the column of the problem."""

import ast
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from micrograd import Value, topological_order
from micrograd.parser import (
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    MAX_NODES,
    ExpressionError,
    build,
    parse,
    parse_assignments,
)

REL = 1e-12


def close(a: float, b: float, rel: float = REL) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-13)


def check_against_torch(source, values, torch_fn):
    """Build ``source`` with the parser and ``torch_fn`` with torch; values and gradients must agree."""
    out, leaves = build(source, values)
    out.backward()
    tensors = {name: torch.tensor(v, dtype=torch.float64, requires_grad=True) for name, v in values.items()}
    expected = torch_fn(tensors)
    expected.backward()
    assert close(out.data, expected.item()), (source, out.data, expected.item())
    for name, leaf in leaves.items():
        expected_grad = tensors[name].grad.item()
        assert close(leaf.grad, expected_grad), (source, name, leaf.grad, expected_grad)


# ----------------------------------------------------------------------------------------------
# What is accepted: values and gradients against torch


def test_the_classic_neuron_matches_torch():
    values = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
    check_against_torch(
        "tanh(x1*w1 + x2*w2 + b)",
        values,
        lambda t: torch.tanh(t["x1"] * t["w1"] + t["x2"] * t["w2"] + t["b"]),
    )


CASES = [
    ("x + y", lambda t: t["x"] + t["y"]),
    ("x - y", lambda t: t["x"] - t["y"]),
    ("x * y", lambda t: t["x"] * t["y"]),
    ("x / y", lambda t: t["x"] / t["y"]),
    ("x ** 3", lambda t: t["x"] ** 3),
    ("x ** -2.5", lambda t: t["x"] ** -2.5),
    ("x ** y", lambda t: t["x"] ** t["y"]),
    ("2 ** x * y", lambda t: 2.0 ** t["x"] * t["y"]),
    ("-x + +y", lambda t: -t["x"] + t["y"]),
    ("tanh(x) * y", lambda t: torch.tanh(t["x"]) * t["y"]),
    ("exp(x) + y", lambda t: torch.exp(t["x"]) + t["y"]),
    ("log(x) * y", lambda t: torch.log(t["x"]) * t["y"]),
    ("sqrt(x) / y", lambda t: torch.sqrt(t["x"]) / t["y"]),
    ("sigmoid(x - y)", lambda t: torch.sigmoid(t["x"] - t["y"])),
    ("relu(x - y) + relu(y - x)", lambda t: torch.relu(t["x"] - t["y"]) + torch.relu(t["y"] - t["x"])),
    ("abs(y - x) * x", lambda t: torch.abs(t["y"] - t["x"]) * t["x"]),
    ("x * x * y", lambda t: t["x"] * t["x"] * t["y"]),  # a variable used twice: contributions add up
    ("(x + 2*3) / (1 - 0.5) ** 2", lambda t: (t["x"] + 6.0) / 0.25),
    ("1.5e-3 * x + y", lambda t: 1.5e-3 * t["x"] + t["y"]),
    ("sin(x) * cos(y)", lambda t: torch.sin(t["x"]) * torch.cos(t["y"])),
    ("softplus(x - y)", lambda t: torch.nn.functional.softplus(t["x"] - t["y"])),
    ("leaky_relu(y - x)", lambda t: torch.nn.functional.leaky_relu(t["y"] - t["x"], 0.01)),
    ("max(x, y) * min(x, y * y)",
     lambda t: torch.maximum(t["x"], t["y"]) * torch.minimum(t["x"], t["y"] ** 2)),
]


@pytest.mark.parametrize("source,torch_fn", CASES, ids=[c[0] for c in CASES])
def test_every_allowed_construct_matches_torch(source, torch_fn):
    values = {"x": 1.3, "y": 0.7}
    if "y" not in parse(source).names:
        values.pop("y")
    check_against_torch(source, values, torch_fn)


def binary(template, torch_op):
    """Combine two (text, torch function) pairs with an operator, written in both languages."""
    return lambda p: (template.format(p[0][0], p[1][0]), lambda t: torch_op(p[0][1](t), p[1][1](t)))


def unary(template, torch_op):
    return lambda p: (template.format(p[0]), lambda t: torch_op(p[1](t)))


def random_expressions():
    """Pairs (text, torch function) built side by side, so torch is an independent oracle."""
    leaf = st.one_of(
        st.sampled_from(["a", "b", "c"]).map(lambda n: (n, lambda t, n=n: t[n])),
        st.floats(0.25, 3.0).map(lambda v: (repr(v), lambda t, v=v: torch.tensor(v, dtype=torch.float64))),
    )

    def combine(inner):
        two = st.tuples(inner, inner)
        return st.one_of(
            two.map(binary("({}) + ({})", lambda a, b: a + b)),
            two.map(binary("({}) - ({})", lambda a, b: a - b)),
            two.map(binary("({}) * ({})", lambda a, b: a * b)),
            two.map(binary("({}) / (1 + ({}) ** 2)", lambda a, b: a / (1 + b**2))),
            inner.map(unary("tanh({})", torch.tanh)),
            inner.map(unary("sigmoid({})", torch.sigmoid)),
            inner.map(unary("exp(tanh({}))", lambda a: torch.exp(torch.tanh(a)))),
            inner.map(unary("log(1 + ({}) ** 2)", lambda a: torch.log(1 + a**2))),
            inner.map(unary("sqrt(1 + abs({}))", lambda a: torch.sqrt(1 + torch.abs(a)))),
            inner.map(unary("-({})", lambda a: -a)),
        )

    return st.recursive(leaf, combine, max_leaves=8)


@given(
    random_expressions(),
    st.floats(-2, 2, allow_subnormal=False),
    st.floats(-2, 2, allow_subnormal=False),
    st.floats(-2, 2, allow_subnormal=False),
)
def test_random_expressions_match_torch(pair, a, b, c):
    source, torch_fn = pair
    try:
        names = parse(source).names
    except ExpressionError as exc:
        # only a text without any variable is refused (nothing to differentiate)
        assert "no variables" in str(exc)
        return
    values = {name: v for name, v in zip("abc", (a, b, c)) if name in names}
    out, leaves = build(source, values)
    out.backward()
    tensors = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in values.items()}
    expected = torch_fn(tensors)
    expected.backward()
    assert math.isclose(out.data, expected.item(), rel_tol=1e-10, abs_tol=1e-12), source
    for name, leaf in leaves.items():
        assert math.isclose(leaf.grad, tensors[name].grad.item(), rel_tol=1e-9, abs_tol=1e-12), (source, name)


def test_each_variable_is_one_leaf_labelled_with_its_name():
    out, leaves = build("x*w + x", {"x": 2.0, "w": 3.0})
    leaf_nodes = [node for node in topological_order(out) if not node._op]
    assert sorted(node.label for node in leaf_nodes) == ["w", "x"]
    assert leaves["x"].label == "x" and leaves["x"].data == 2.0
    out.backward()
    assert leaves["x"].grad == 4.0  # d(xw + x)/dx = w + 1, reached by two paths


def test_variables_and_the_result_are_labelled_and_nothing_between():
    out, _ = build("tanh(x1*w1 + b)", {"x1": 2.0, "w1": -3.0, "b": 6.88})
    assert out.label == "out"
    assert [node.label for node in topological_order(out) if node._op] == ["", "", "out"]


def test_the_result_label_avoids_a_variable_called_out():
    out, leaves = build("out * 2", {"out": 1.0})
    assert out.label == "out_2" and leaves["out"].label == "out"


def test_an_expression_that_is_one_variable_returns_its_leaf():
    out, leaves = build("+x", {"x": 1.5})
    assert out is leaves["x"] and out.label == "x"


def test_names_are_listed_in_order_of_appearance():
    assert parse("b * a + c * a").names == ("b", "a", "c")


def test_constants_are_not_nodes():
    out, leaves = build("x * 2", {"x": 1.5})
    x, two = out.operands()
    assert x is leaves["x"]  # the variable's own leaf
    assert type(two) is float and two == 2.0  # the constant stays a number, not a node
    assert topological_order(out) == [leaves["x"], out]


def test_unicode_names_are_variables():
    out, leaves = build("θ * 2", ["θ=1.5"])
    assert out.data == 3.0 and leaves["θ"].label == "θ"


# ----------------------------------------------------------------------------------------------
# What is refused: one line naming the problem, and the column where it is


def balanced_sum(leaves: int) -> str:
    """x + x + ... as a balanced tree: many parts, shallow nesting."""
    if leaves == 1:
        return "x"
    return f"({balanced_sum(leaves // 2)}+{balanced_sum(leaves - leaves // 2)})"


REFUSED = [
    # (expression, words of the message, 1-based column or None)
    ("x.real", "attribute access", 2),
    ("x[0]", "subscripts", 2),
    ("lambda: x", "lambdas", 1),
    ("[x for x in y]", "comprehensions", 1),
    ("(x for x in y)", "comprehensions", 1),
    ("'x' * y", "a string", 1),
    ("f'{x}'", "a string", 1),
    ("x * True", "True", 5),
    ("1j * x", "1j", 1),
    ("x < y", "comparisons", 1),
    ("x and y", "'and'/'or'", 1),
    ("x if y else z", "conditional", 1),
    ("(x := 2)", "assignments", 2),
    ("[x, y]", "lists", 1),
    ("x, y", "tuples", 1),
    ("x // 2", "operator //", 3),
    ("x % 2", "operator %", 3),
    ("x @ y", "operator @", 3),
    ("x ^ y", "operator ^", 3),
    ("~x", "operator ~", 1),
    ("not x", "operator not", 1),
    ("foo(x)", "unknown function 'foo'", 1),
    ("__import__('os')", "unknown function '__import__'", 1),
    ("x.tanh()", "attribute access", 2),
    ("(x + y).tanh()", "attribute access", 8),
    ("tanh(x, y)", "exactly one argument, got 2", 9),
    ("tanh()", "exactly one argument, got 0", 1),
    ("max(x)", "exactly 2 arguments, got 1", 1),
    ("max(x, y, x)", "exactly 2 arguments, got 3", 11),
    ("tanh(x=1)", "no keyword arguments", 6),
    ("tanh(*x)", "starred", 6),
    ("tanh + x", "tanh is a function", 1),
    ("x +", "not a valid expression", None),
    ("", "empty", None),
    ("2 * 3", "no variables", None),
    ("x\ny", "one line", 2),
    ("x ** 1001", "exponent 1001.0 is too large", 6),
    ("x ** -(10 ** 4)", "exponent -10000.0 is too large", 6),
    ("1e400 * x", "too large for a float", 1),
    ("10 ** 400 * x", "overflows", 4),
    ("x" * (MAX_LENGTH + 1), f"limit is {MAX_LENGTH}", None),
    ("-" * (MAX_DEPTH + 5) + "x", "nested too deeply", MAX_DEPTH + 1),
    (balanced_sum(MAX_NODES // 2 + 1), f"more than {MAX_NODES} parts", None),
    ("-" * (MAX_LENGTH - 1) + "x", "nested too deeply", None),
]


@pytest.mark.parametrize("source,words,column", REFUSED, ids=[r[0][:20] for r in REFUSED])
def test_anything_outside_the_whitelist_is_refused_with_its_column(source, words, column):
    with pytest.raises(ExpressionError) as caught:
        expression = parse(source)
        expression.evaluate({name: 2.0 for name in expression.names})
    message = str(caught.value)
    assert words in message
    assert "\n" not in message
    if column is not None:
        assert caught.value.column == column - 1
        assert message.startswith(f"column {column}: ")
        pointer = caught.value.pointer().splitlines()
        # the caret sits under the column, in a window when the text is long
        assert pointer[1].index("^") - 2 == column - 1 or len(source) > 76


def test_the_pointer_puts_a_caret_under_the_problem():
    with pytest.raises(ExpressionError) as caught:
        parse("tanh(x) + foo(y)")
    assert caught.value.pointer() == "  tanh(x) + foo(y)\n            ^"


def test_domain_errors_point_at_the_op():
    with pytest.raises(ExpressionError, match=r"column 1: cannot evaluate: log\(-1.0\)"):
        build("log(x)", {"x": -1.0})
    with pytest.raises(ExpressionError, match="column 3: cannot evaluate: .*division by zero"):
        build("x / (y - y)", {"x": 1.0, "y": 2.0})


def test_a_missing_variable_is_named_and_pointed_at():
    with pytest.raises(ExpressionError) as caught:
        build("x * w + b", {"x": 1.0, "w": 2.0})
    assert "no value for b" in str(caught.value) and "b=" in str(caught.value)
    assert caught.value.column == 8


def test_an_extra_variable_is_named():
    with pytest.raises(ExpressionError, match="z=3.0 given, but .* has no variable z"):
        build("x * y", {"x": 1.0, "y": 2.0, "z": 3.0})


def test_a_refused_expression_is_never_run(tmp_path: Path):
    marker = tmp_path / "ran"
    for source in (
        f"__import__('pathlib').Path({str(marker)!r}).touch()",
        f"open({str(marker)!r}, 'w')",
        "(lambda: x)()",
    ):
        with pytest.raises(ExpressionError):
            parse(source)
    assert not marker.exists()


def test_the_parser_never_calls_eval_exec_or_compile():
    tree = ast.parse(Path(__file__).parents[1].joinpath("micrograd", "parser.py").read_text())
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    called = {call.func.id for call in calls if isinstance(call.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__"}


# ----------------------------------------------------------------------------------------------
# name=value assignments


def test_assignments_are_parsed_as_floats():
    assert parse_assignments(["x1=2", "w1=-3", "b=6.8813735870195432", "y= 1e-3 "]) == {
        "x1": 2.0,
        "w1": -3.0,
        "b": 6.8813735870195432,
        "y": 1e-3,
    }


@pytest.mark.parametrize(
    "items,words",
    [
        (["x"], "expected name=value"),
        (["=3"], "expected name=value"),
        (["x=abc"], "'abc' is not a number"),
        (["x="], "'' is not a number"),
        (["x=nan"], "not a finite number"),
        (["x=-inf"], "not a finite number"),
        (["x=1e999"], "not a finite number"),
        (["x=1", "x=2"], "given twice"),
        (["tanh=1"], "'tanh' is a function"),
        (["1x=1"], "not a variable name"),
        (["x.y=1"], "not a variable name"),
    ],
)
def test_bad_assignments_are_refused(items, words):
    with pytest.raises(ExpressionError, match=None) as caught:
        parse_assignments(items)
    assert words in str(caught.value)


def test_build_returns_the_result_and_its_leaves():
    out, leaves = build("a * b", ["a=2", "b=-4"])
    assert isinstance(out, Value) and out.data == -8.0
    assert set(leaves) == {"a", "b"}


def test_exponent_limit_is_inclusive():
    out, _ = build(f"x ** {MAX_EXPONENT:g}", {"x": 1.0})
    assert out.data == 1.0


# ----------------------------------------------------------------------------------------------
# A flat sum is long, not deep


def test_a_flat_sum_of_101_terms_is_read_and_differentiated():
    # x0 + x1 + x2 + x0 + ...: 101 terms, x0 appears 34 times, x1 and x2 34 and 33 times
    source = " + ".join(f"x{i % 3}" for i in range(101))
    out, leaves = build(source, {"x0": 1.0, "x1": 2.0, "x2": 3.0})
    out.backward()
    assert out.data == 34 * 1.0 + 34 * 2.0 + 33 * 3.0
    assert [leaves[name].grad for name in ("x0", "x1", "x2")] == [34.0, 34.0, 33.0]


def test_a_flat_chain_mixing_its_operators_keeps_their_order_and_meaning():
    # x - x - x ... (150 terms) = x - 149 x; x * x / 2 * x / 2 ... (a * / chain) = x^3 / 4
    out, leaves = build(" - ".join(["x"] * 150), {"x": 2.0})
    out.backward()
    assert (out.data, leaves["x"].grad) == (2.0 - 149 * 2.0, 1.0 - 149)
    out, leaves = build("x * x / 2 * x / 2", {"x": 3.0})
    out.backward()
    assert (out.data, leaves["x"].grad) == (27.0 / 4, 3 * 9.0 / 4)


def test_the_longest_flat_sum_is_bounded_by_the_parts_not_the_depth():
    longest = "+".join(["x"] * (MAX_NODES // 2))  # 200 names and 199 operators: 399 parts
    assert build(longest, {"x": 1.0})[0].data == MAX_NODES // 2
    with pytest.raises(ExpressionError, match=f"more than {MAX_NODES} parts"):
        parse(longest + "+x")


def test_a_flat_chain_is_built_without_recursion():
    # under a recursion limit of 120 frames a builder recursing once per term fails on 199 terms
    code = (
        "import sys\n"
        "from micrograd.parser import build\n"
        "sys.setrecursionlimit(120)\n"
        "out, leaves = build('+'.join(['x'] * 199), {'x': 1.0})\n"
        "print(out.data)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert done.stdout.strip() == "199.0", done.stderr


def test_real_nesting_is_refused_and_the_message_says_what_counts_as_a_level():
    nested = "x + (" * MAX_DEPTH + "x" + ")" * MAX_DEPTH  # each bracket one level deeper
    with pytest.raises(ExpressionError) as caught:
        parse(nested)
    message = str(caught.value)
    levels = f"more than {MAX_DEPTH} levels of parentheses, calls, signs or operators inside operators"
    assert levels in message
    assert "a flat a + b - c + ... or a * b / c * ... is one level, however long" in message
    assert parse("x + (" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1)).names == ("x",)
