"""The door for new ops (defop), checked in every place an op is used; the built-in ops through it;
and the classic micrograd's way of extending (a node with a _backward closure).

Oracles: torch in float64 (values, gradients of any order), central finite differences, numbers
derived by hand.
"""

import math
import subprocess
import sys

import pytest
import torch

import micrograd
from micrograd import Value, engine, grad, gradcheck
from micrograd.engine import RULES, NoRuleError, check_op, defop, exp, sin
from micrograd.formula import Formula

torch.set_default_dtype(torch.float64)


def close(ours: float, theirs: float, rel: float = 1e-9) -> bool:
    return math.isclose(ours, theirs, rel_tol=rel, abs_tol=1e-12)


def define_sinh():
    import numpy as np

    return defop(
        "sinh",
        math.sinh,
        lambda a, out: (exp(a) + exp(-a)) / 2,  # cosh, written with micrograd's exp
        formula="(exp(a) + exp(-a)) / 2",
        numpy=lambda a: np.sinh(a),
    )


# ---------------------------------------------------------------------------------------------
# An op added through the door works everywhere


def test_a_new_op_has_a_function_and_a_method_and_backward_equals_torch(op_table):
    sinh = define_sinh()
    x = Value(0.7)
    y = sinh(x) * x.sinh()  # the function form and the method form
    y.backward()
    xt = torch.tensor(0.7, requires_grad=True)
    yt = torch.sinh(xt) ** 2
    yt.backward()
    assert close(y.data, yt.item()) and close(x.grad, xt.grad.item())
    assert sinh(0.7) == math.sinh(0.7)  # on a float: a float


def test_a_new_op_differentiates_to_any_order_as_torch(op_table):
    define_sinh()
    x = Value(0.4)
    y = x.sinh() * x
    xt = torch.tensor(0.4, requires_grad=True)
    yt = torch.sinh(xt) * xt
    for _ in range(3):
        (y,) = grad(y, [x], create_graph=True)
        (yt,) = torch.autograd.grad(yt, xt, create_graph=True)
        assert close(y.data, yt.item())


def test_a_new_op_passes_gradcheck(op_table):
    define_sinh()
    assert gradcheck(lambda x, w: (x * w).sinh() / w, [0.3, 1.7])


def test_a_new_op_is_explained_and_drawn(op_table):
    from micrograd.explain import explain
    from micrograd.viz import draw_dot

    define_sinh()
    x = Value(0.5, label="x")
    y = x.sinh()
    y.label = "y"
    steps = explain(y)
    (step,) = steps
    assert step.op == "sinh"
    assert close(step.terms[0].local_grad, math.cosh(0.5))  # the local derivative, by hand: cosh
    assert RULES["sinh"].formula == ("(exp(a) + exp(-a)) / 2",)
    assert Formula(RULES["sinh"].formula[0]).text({"a": "x"}) == "(exp(x) + exp(-x)) / 2"
    svg = draw_dot(y).pipe(format="svg").decode()
    assert ">sinh<" in svg  # the op node's label


def test_a_new_op_compiles_with_its_numpy_form_and_says_so_without_one(op_table):
    from micrograd.compile import compile

    define_sinh()
    w = Value(0.3)
    step = compile(
        lambda xs: sum(((x * w).sinh() for x in xs), Value(0.0)), params=[w], inputs=([0.5, -1.0],)
    )
    loss = step([0.2, 0.9])
    assert close(loss, math.sinh(0.06) + math.sinh(0.27))
    assert close(w.grad, 0.2 * math.cosh(0.06) + 0.9 * math.cosh(0.27))  # by hand

    defop("square_plus", lambda a: a * a + 1.0, lambda a, out: 2 * a)  # no numpy form
    v = Value(1.0)
    with pytest.raises(NotImplementedError, match="square_plus"):
        compile(lambda xs: xs[0] * v.square_plus(), params=[v], inputs=([1.0],))


def test_a_new_op_can_be_used_in_cli_expressions(op_table, capsys):
    from micrograd.cli import main

    define_sinh()
    code = main(["explain", "sinh(x * w)", "x=2", "w=0.25"])
    out = capsys.readouterr().out
    assert code == 0
    assert "sinh" in out
    assert f"{math.cosh(0.5) * 2:.4g}" in out  # d out/dw = cosh(x w) * x, by hand (4 significant digits)


def test_a_new_op_of_two_operands(op_table):
    hypot = defop(
        "hypot",
        math.hypot,
        lambda a, b, out: (a / out, b / out),
        formula=("a / out", "b / out"),
    )
    a, b = Value(3.0), Value(4.0)
    c = hypot(a, b)
    c.backward()
    assert (c.data, a.grad, b.grad) == (5.0, 0.6, 0.8)  # the 3-4-5 triangle, by hand
    assert Value(3.0).hypot(4.0).data == 5.0


# ---------------------------------------------------------------------------------------------
# The door refuses what is wrong, with a message a student learns from


def test_a_wrong_derivative_is_refused_with_the_point_the_value_and_the_right_one(op_table):
    with pytest.raises(
        ValueError,
        match=r"the derivative you gave for mysin at 0.3 is -0.2955; finite differences say 0.9553",
    ):
        defop("mysin", math.sin, lambda a, out: -sin(a), points=[0.3])
    assert "mysin" not in RULES and not hasattr(Value, "mysin")


def test_a_derivative_written_with_math_is_refused_because_it_cannot_be_differentiated_again(op_table):
    with pytest.raises(ValueError, match=r"micrograd.cos, not math.cos"):
        defop("mysin2", math.sin, lambda a, out: math.cos(a))


def test_a_formula_that_disagrees_with_the_derivative_is_refused(op_table):
    with pytest.raises(ValueError, match=r"the formula '-cos\(a\)' gives"):
        defop("mysin3", math.sin, lambda a, out: micrograd.cos(a), formula="-cos(a)")


@pytest.mark.parametrize("name", ["exp", "max", "data", "2x", "_hidden", "lambda"])
def test_a_name_that_is_taken_or_not_an_identifier_is_refused(op_table, name):
    with pytest.raises(ValueError, match="defop"):
        defop(name, math.sin, lambda a, out: micrograd.cos(a))


# ---------------------------------------------------------------------------------------------
# The table: every op has a formula that says what its derivative computes, and passes gradcheck


@pytest.mark.parametrize("key", sorted(RULES))
def test_every_op_has_a_formula_per_operand_equal_to_its_derivative(key):
    op = RULES[key]
    assert op.formula, f"{key} has no formula"
    for text in op.formula:
        if text:
            Formula(text)  # reads
    if key == "**":  # the exponent is a constant: only the base has a derivative, n a^(n-1)
        for a, n in [(0.7, 3.0), (2.0, -1.5), (1.3, 0.5)]:
            assert close(Formula(op.formula[0]).evaluate({"a": a, "n": n}), op.local(a, n, a**n)[0])
            assert close(op.local(a, n, a**n)[0], (a + 1e-6) ** n / 2e-6 - (a - 1e-6) ** n / 2e-6, rel=1e-6)
    elif op.arity in (1, 2):
        check_op(key)  # derivative vs finite differences, formula vs derivative, on Values


@pytest.mark.parametrize(
    "name, ours, theirs, points",
    [
        ("sin", lambda v: v.sin(), torch.sin, [-2.0, 0.0, 0.3, 3.0]),
        ("cos", lambda v: v.cos(), torch.cos, [-2.0, 0.0, 0.3, 3.0]),
        ("leaky_relu", lambda v: v.leaky_relu(), lambda t: torch.nn.functional.leaky_relu(t, 0.01),
         [-3.0, -0.1, 0.2, 4.0]),
        ("softplus", lambda v: v.softplus(), torch.nn.functional.softplus, [-40.0, -1.0, 0.0, 2.0, 30.0]),
    ],
)
def test_the_course_ops_match_torch(name, ours, theirs, points):
    for point in points:
        x = Value(point)
        out = ours(x)
        out.backward()
        xt = torch.tensor(point, requires_grad=True)
        outt = theirs(xt)
        outt.backward()
        assert close(out.data, outt.item()), (name, point)
        assert close(x.grad, xt.grad.item()), (name, point)


def test_max_and_min_of_two_values_match_torch():
    for pa, pb in [(1.0, 2.0), (3.0, -1.0), (-2.5, -0.5)]:
        for ours, theirs in ((micrograd.maximum, torch.maximum), (micrograd.minimum, torch.minimum)):
            a, b = Value(pa), Value(pb)
            out = ours(a, b) * 3.0
            out.backward()
            at, bt = torch.tensor(pa, requires_grad=True), torch.tensor(pb, requires_grad=True)
            (theirs(at, bt) * 3.0).backward()
            expected = ((theirs(at, bt) * 3.0).item(), at.grad.item(), bt.grad.item())
            assert (out.data, a.grad, b.grad) == expected


def test_sin_to_the_fourth_derivative_is_sin():
    x = Value(0.8)
    y = x.sin()
    for _ in range(4):
        (y,) = grad(y, [x], create_graph=True)
    assert close(y.data, math.sin(0.8))


# ---------------------------------------------------------------------------------------------
# The classic way: Value(data, children, op) and an assigned _backward closure


def classic_sin(x: Value) -> Value:
    out = Value(math.sin(x.data), (x,), "sin")

    def _backward():
        x.grad += math.cos(x.data) * out.grad

    out._backward = _backward
    return out


def test_a_classic_node_backpropagates_and_is_drawn():
    from micrograd.viz import draw_dot

    x = Value(0.5, label="x")
    y = classic_sin(x) * 2.0
    y.backward()
    assert close(x.grad, 2.0 * math.cos(0.5))  # by hand
    assert classic_sin(x)._op == "sin" and classic_sin(x)._prev == (x,)
    svg = draw_dot(y).pipe(format="svg").decode()
    assert ">sin<" in svg and "data 0.4794" in svg  # the op node, and sin(0.5) = 0.4794 in its box


def test_a_classic_node_in_a_hand_written_loop():
    x = Value(0.5)
    y = classic_sin(x)
    y.grad = 1.0
    for node in reversed(engine.topological_order(y)):
        node._backward()
    assert close(x.grad, math.cos(0.5))


def test_grad_of_a_classic_node_says_it_needs_a_rule():
    x = Value(0.5)
    with pytest.raises(NoRuleError, match=r"micrograd.defop"):
        grad(classic_sin(x), [x], create_graph=True)


def test_compile_of_a_classic_node_says_it_needs_a_rule():
    from micrograd.compile import compile

    w = Value(0.5)
    with pytest.raises((NoRuleError, NotImplementedError), match=r"sin"):
        compile(lambda xs: classic_sin(w) * xs[0], params=[w], inputs=([1.0],))


# ---------------------------------------------------------------------------------------------
# Attributes and subclasses


def test_values_take_attributes_of_their_own():
    p = Value(0.5)
    p.m, p.v, p._vis_color = 0.0, 0.0, "lightgreen"
    assert (p.m, p.v, p._vis_color) == (0.0, 0.0, "lightgreen")
    assert isinstance(p, Value) and type(p).__name__ == "Value"


class Tagged(Value):
    def __init__(self, data, tag=""):
        super().__init__(data)
        self.tag = tag


def _ops_on(a, b):
    """Every op of the table once, on a and b (a > 0 where the domain needs it)."""
    outs = [a + b, a - b, a * b, a / b, a**2.0, a**b, 2.0**a, -a, abs(a)]
    outs += [linear_out(a, b), micrograd.total([a, b])]
    for key, op in RULES.items():
        if op.arity == 1 and hasattr(a, key):
            outs.append(getattr(a, key)())
        elif op.arity == 2 and key not in ("pow",) and hasattr(a, key):
            outs.append(getattr(a, key)(b))
    return micrograd.total(outs)


def linear_out(a, b):
    return micrograd.linear([a], [b], 0.5)


def test_a_subclass_works_in_every_op_and_walk_as_the_base_class():
    a, b = Tagged(0.7, "a"), Tagged(1.3, "b")
    out = _ops_on(a, b)
    out.backward()
    a2, b2 = Value(0.7), Value(1.3)
    out2 = _ops_on(a2, b2)
    out2.backward()
    assert (out.data, a.grad, b.grad) == (out2.data, a2.grad, b2.grad)
    assert a in engine.topological_order(out) and b in engine.topological_order(out)
    assert a.tag == "a"
    assert gradcheck(lambda u, v: _ops_on(u, v), [0.7, 1.3])


def test_node_memory_is_unchanged_for_nodes_ops_build():
    script = (
        "import tracemalloc\n"
        "from micrograd import Value\n"
        "x = Value(1.0)\n"
        "tracemalloc.start()\n"
        "y = x\n"
        "for _ in range(50000):\n"
        "    y = y * 1.0000001 + 0.5\n"
        "used, _ = tracemalloc.get_traced_memory()\n"
        "print(used / 100000)\n"
    )
    per_node = float(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                    check=True).stdout)
    assert per_node <= 112  # the limit (a bare slotted node and its float: 96)
