"""The engine against PyTorch in float64: values, gradients, higher order, and bad input."""

import math

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import micrograd
from micrograd import DomainError, Value, grad, gradcheck, no_grad
from micrograd.engine import linear, topological_order, total

torch.set_default_dtype(torch.float64)


def close(ours: float, theirs: float, rel: float = 1e-9) -> bool:
    return math.isclose(ours, theirs, rel_tol=rel, abs_tol=1e-12)


# ---------------------------------------------------------------------------------------------
# The classic micrograd's sanity checks


def test_classic_sanity_check_matches_torch():
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()

    xt = torch.tensor([-4.0], requires_grad=True)
    zt = 2 * xt + 2 + xt
    qt = zt.relu() + zt * xt
    ht = (zt * zt).relu()
    yt = ht + qt + qt * xt
    yt.backward()

    assert close(y.data, yt.item())
    assert close(x.grad, xt.grad.item())


def test_classic_more_ops_match_torch():
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()

    at, bt = torch.tensor([-4.0], requires_grad=True), torch.tensor([2.0], requires_grad=True)
    ct = at + bt
    dt = at * bt + bt**3
    ct = ct + ct + 1
    ct = ct + 1 + ct + (-at)
    dt = dt + dt * 2 + (bt + at).relu()
    dt = dt + 3 * dt + (bt - at).relu()
    et = ct - dt
    ft = et**2
    gt = ft / 2.0
    gt = gt + 10.0 / ft
    gt.backward()

    assert close(g.data, gt.item())
    assert close(a.grad, at.grad.item())
    assert close(b.grad, bt.grad.item())


# ---------------------------------------------------------------------------------------------
# Every op at several points, boundaries included

UNARY_POINTS = {
    "exp": (lambda v: v.exp(), torch.exp, [-700.0, -1.0, 0.0, 1e-8, 2.5, 709.0]),
    "log": (lambda v: v.log(), torch.log, [1e-300, 1e-10, 0.5, 1.0, 3.0, 1e10]),
    "sqrt": (lambda v: v.sqrt(), torch.sqrt, [1e-12, 0.25, 1.0, 4.0, 1e12]),
    "tanh": (lambda v: v.tanh(), torch.tanh, [-20.0, -1.0, 0.0, 1e-8, 0.5, 20.0]),
    "sigmoid": (lambda v: v.sigmoid(), torch.sigmoid, [-700.0, -40.0, -1.0, 0.0, 1.0, 40.0, 700.0]),
    "relu": (lambda v: v.relu(), torch.relu, [-5.0, -1e-300, 0.0, 1e-300, 5.0]),
    "abs": (lambda v: v.abs(), torch.abs, [-3.0, -1e-300, 0.0, 1e-300, 3.0]),
    "neg": (lambda v: -v, torch.neg, [-3.0, 0.0, 2.5]),
    "square": (lambda v: v**2, lambda t: t**2, [-3.0, 0.0, 1e-8, 2.5]),
    "cube": (lambda v: v**3, lambda t: t**3, [-3.0, 0.0, 2.5]),
    "pow -2": (lambda v: v**-2, lambda t: t**-2, [-3.0, -1e-3, 0.5, 7.0]),
    "pow 0.5": (lambda v: v**0.5, lambda t: t**0.5, [1e-10, 0.5, 9.0]),
    "pow 0": (lambda v: v**0, lambda t: t**0, [-2.0, 3.0]),
    "reciprocal": (lambda v: 1 / v, lambda t: 1 / t, [-1e-5, -2.0, 0.5, 1e5]),
    "2 ** v": (lambda v: 2**v, lambda t: 2**t, [-10.0, 0.0, 3.5]),
}


@pytest.mark.parametrize("name", UNARY_POINTS)
def test_unary_op_value_and_gradient_match_torch(name):
    ours, theirs, points = UNARY_POINTS[name]
    for point in points:
        x = Value(point)
        out = ours(x)
        out.backward()
        xt = torch.tensor(point, requires_grad=True)
        outt = theirs(xt)
        outt.backward()
        assert close(out.data, outt.item()), (name, point, out.data, outt.item())
        assert close(x.grad, xt.grad.item()), (name, point, x.grad, xt.grad.item())


BINARY_POINTS = {
    "+": (lambda a, b: a + b, [(1.5, -2.0), (0.0, 0.0), (1e10, -1e-10)]),
    "-": (lambda a, b: a - b, [(1.5, -2.0), (3.0, 3.0)]),
    "*": (lambda a, b: a * b, [(1.5, -2.0), (0.0, 7.0), (1e150, 1e150)]),
    "/": (lambda a, b: a / b, [(1.5, -2.0), (1.0, 1e-150), (-3.0, 7.0)]),
    "pow": (lambda a, b: a**b, [(2.0, 3.0), (0.5, -1.5), (1e-5, 0.5), (3.0, 0.0)]),
}


def test_a_gradient_too_large_for_a_float_raises_naming_the_op_where_torch_gives_inf():
    # d(a/b)/db = -a/b^2 = -1e400 at a = 1, b = 1e-200: no float holds it
    at, bt = torch.tensor(1.0, requires_grad=True), torch.tensor(1e-200, requires_grad=True)
    (at / bt).backward()
    assert bt.grad.item() == -math.inf
    a, b = Value(1.0), Value(1e-200)
    with pytest.raises(OverflowError, match=r"1.0 / 1e-200 = 1e\+200: the gradient is not finite"):
        (a / b).backward()


@pytest.mark.parametrize("name", BINARY_POINTS)
def test_binary_op_value_and_gradients_match_torch(name):
    f, points = BINARY_POINTS[name]
    for pa, pb in points:
        a, b = Value(pa), Value(pb)
        out = f(a, b)
        out.backward()
        at, bt = torch.tensor(pa, requires_grad=True), torch.tensor(pb, requires_grad=True)
        outt = f(at, bt)
        outt.backward()
        assert close(out.data, outt.item()), (name, pa, pb)
        assert close(a.grad, at.grad.item()), (name, pa, pb, a.grad, at.grad.item())
        assert close(b.grad, bt.grad.item()), (name, pa, pb, b.grad, bt.grad.item())


@pytest.mark.parametrize("constant_left", [False, True])
def test_python_numbers_work_on_either_side(constant_left):
    x = Value(3.0)
    xt = torch.tensor(3.0, requires_grad=True)

    def f(v):
        if constant_left:
            return 2 + (5 - (4 * (1 / (2**v))))
        return ((v + 2) - 5) * 4 / 2 ** 1.5

    out, outt = f(x), f(xt)
    out.backward()
    outt.backward()
    assert close(out.data, outt.item())
    assert close(x.grad, xt.grad.item())


def test_linear_node_is_one_node_with_delta_rule_gradients():
    ws = [Value(0.5), Value(-1.5), Value(2.0)]
    xs = [Value(1.0), 3.0, Value(-2.0)]  # a plain float input is a constant, not a node
    b = Value(0.25)
    net = linear(ws, xs, b)
    assert net._op == "linear"
    assert len(topological_order(net)) == 1 + 3 + 2 + 1
    net.tanh().backward()

    wt = torch.tensor([0.5, -1.5, 2.0], requires_grad=True)
    xt = torch.tensor([1.0, 3.0, -2.0], requires_grad=True)
    bt = torch.tensor(0.25, requires_grad=True)
    torch.tanh(wt @ xt + bt).backward()
    assert close(net.data, (wt @ xt + bt).item())
    for w, g in zip(ws, wt.grad):
        assert close(w.grad, g.item())
    for x, g in zip((xs[0], xs[2]), (xt.grad[0], xt.grad[2])):
        assert close(x.grad, g.item())
    assert close(b.grad, bt.grad.item())


def test_total_is_one_node_and_each_term_gets_gradient_one():
    xs = [Value(float(i)) for i in range(5)]
    s = total([x * x for x in xs] + [1.5])
    assert s._op == "sum"
    s.backward()
    assert s.data == 0 + 1 + 4 + 9 + 16 + 1.5
    assert [x.grad for x in xs] == [2.0 * i for i in range(5)]  # d/dx x^2 = 2x


# ---------------------------------------------------------------------------------------------
# Random expression trees with shared sub-expressions, against torch

UNARY_OPS = {
    "neg": (lambda v: -v, lambda t: -t),
    "tanh": (lambda v: v.tanh(), torch.tanh),
    "sigmoid": (lambda v: v.sigmoid(), torch.sigmoid),
    "relu": (lambda v: v.relu(), torch.relu),
    "abs": (lambda v: v.abs(), torch.abs),
    "exp": (lambda v: v.tanh().exp(), lambda t: torch.exp(torch.tanh(t))),
    "log": (lambda v: (v * v + 1).log(), lambda t: torch.log(t * t + 1)),
    "sqrt": (lambda v: (v * v + 0.5).sqrt(), lambda t: torch.sqrt(t * t + 0.5)),
    "square": (lambda v: v**2, lambda t: t**2),
    "scale": (lambda v: 0.5 * v - 1, lambda t: 0.5 * t - 1),
}
BINARY_OPS = {
    "+": (lambda a, b: a + b, lambda a, b: a + b),
    "-": (lambda a, b: a - b, lambda a, b: a - b),
    "*": (lambda a, b: a * b, lambda a, b: a * b),
    "/": (lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    "pow": (lambda a, b: (a * a + 1) ** b.tanh(), lambda a, b: (a * a + 1) ** torch.tanh(b)),
}


@st.composite
def programs(draw):
    """Leaves, then steps that each apply an op to earlier nodes (so sub-expressions are shared)."""
    leaves = draw(st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=1, max_size=4))
    depth = [0] * len(leaves)
    steps = []
    for _ in range(draw(st.integers(1, 14))):
        if draw(st.booleans()):
            op = draw(st.sampled_from(sorted(UNARY_OPS)))
            args = (draw(st.integers(0, len(depth) - 1)),)
        else:
            op = draw(st.sampled_from(sorted(BINARY_OPS)))
            args = (draw(st.integers(0, len(depth) - 1)), draw(st.integers(0, len(depth) - 1)))
        d = 1 + max(depth[i] for i in args)
        if d > 8:
            continue
        depth.append(d)
        steps.append((op, args))
    return leaves, steps


def run(program, unary, binary, leaf):
    leaves, steps = program
    nodes = [leaf(x) for x in leaves]
    for op, args in steps:
        table = unary if len(args) == 1 else binary
        nodes.append(table[op][0 if leaf is Value else 1](*(nodes[i] for i in args)))
    return nodes


@given(programs())
def test_random_expression_trees_match_torch(program):
    try:
        nodes = run(program, UNARY_OPS, BINARY_OPS, Value)
    except OverflowError:
        assume(False)
    out = nodes[-1]
    assume(abs(out.data) < 1e8)
    out.backward()

    tnodes = run(program, UNARY_OPS, BINARY_OPS, lambda x: torch.tensor(x, requires_grad=True))
    for t in tnodes:
        if t.requires_grad and not t.is_leaf:
            t.retain_grad()
    tnodes[-1].backward()
    for ours, theirs in zip(nodes, tnodes):
        assert close(ours.data, theirs.item()), (ours.data, theirs.item())
        expected = 0.0 if theirs.grad is None else theirs.grad.item()
        assert math.isclose(ours.grad, expected, rel_tol=1e-9, abs_tol=1e-9), (ours.grad, expected)


# ---------------------------------------------------------------------------------------------
# Higher order, against torch.autograd.grad(create_graph=True)


def torch_derivatives(f, point, order):
    x = torch.tensor(point, requires_grad=True)
    y = f(x)
    out = []
    for _ in range(order):
        (y,) = torch.autograd.grad(y, x, create_graph=True)
        out.append(y.item())
    return out


HIGHER = {
    "tanh(x) * exp(x)": (lambda x: x.tanh() * x.exp(), lambda x: torch.tanh(x) * torch.exp(x), 0.7),
    "sigmoid(x**3) / x": (lambda x: (x**3).sigmoid() / x, lambda x: torch.sigmoid(x**3) / x, 1.3),
    "log(x) * sqrt(x)": (lambda x: x.log() * x.sqrt(), lambda x: torch.log(x) * torch.sqrt(x), 2.0),
    "x ** x": (lambda x: x**x, lambda x: x**x, 1.5),
    "relu(x) ** 3": (lambda x: x.relu() ** 3, lambda x: torch.relu(x) ** 3, 0.8),
}


@pytest.mark.parametrize("name", HIGHER)
def test_second_and_third_derivatives_match_torch(name):
    ours, theirs, point = HIGHER[name]
    x = Value(point)
    y = ours(x)
    expected = torch_derivatives(theirs, point, 3)
    for k in range(3):
        (y,) = grad(y, [x], create_graph=True)
        assert close(y.data, expected[k]), (name, k + 1, y.data, expected[k])


def test_mixed_partials_and_hessian_vector_product_match_torch():
    def f(a, b):
        return (a * b).tanh() + a**2 * b.exp() - b / (a * a + 1)

    x, y = Value(0.4), Value(-1.2)
    dx, dy = grad(f(x, y), [x, y], create_graph=True)
    dxx, dxy = grad(dx, [x, y])
    dyx, dyy = grad(dy, [x, y])

    xt = torch.tensor(0.4, requires_grad=True)
    yt = torch.tensor(-1.2, requires_grad=True)
    gxt, gyt = torch.autograd.grad(f(xt, yt), (xt, yt), create_graph=True)
    hxx, hxy = torch.autograd.grad(gxt, (xt, yt), retain_graph=True)
    hyx, hyy = torch.autograd.grad(gyt, (xt, yt))
    for ours, theirs in [(dxx, hxx), (dxy, hxy), (dyx, hyx), (dyy, hyy)]:
        assert close(ours, theirs.item())
    assert close(dxy, dyx)  # Schwarz: mixed partials agree

    # Hessian-vector product H v as the gradient of (grad f . v)
    v = (0.3, -2.0)
    hv = grad(dx * v[0] + dy * v[1], [x, y])
    hvt = (hxx.item() * v[0] + hxy.item() * v[1], hyx.item() * v[0] + hyy.item() * v[1])
    assert close(hv[0], hvt[0]) and close(hv[1], hvt[1])


def test_second_derivative_through_linear_node_matches_torch():
    w, x = Value(0.3), Value(-0.8)
    out = linear([w, Value(2.0)], [x, x], 0.1).tanh()
    (dw,) = grad(out, [w], create_graph=True)
    dwx, dww = grad(dw, [x, w])

    wt, xt = torch.tensor(0.3, requires_grad=True), torch.tensor(-0.8, requires_grad=True)
    outt = torch.tanh(wt * xt + 2.0 * xt + 0.1)
    (dwt,) = torch.autograd.grad(outt, wt, create_graph=True)
    dwxt, dwwt = torch.autograd.grad(dwt, (xt, wt))
    assert close(dwx, dwxt.item()) and close(dww, dwwt.item())


# ---------------------------------------------------------------------------------------------
# backward, grad and no_grad semantics


def test_backward_accumulates_on_a_second_call():
    a = Value(3.0)
    out = a * a  # d/da = 2a = 6
    out.backward()
    out.backward()
    assert a.grad == 12.0  # the classic micrograd and PyTorch both add: 6 + 6
    assert out.grad == 1.0  # the output's own grad is set to 1, not added


def test_reused_subexpression_gets_both_contributions():
    a = Value(2.0)
    b = a * 3.0
    c = b * b + b  # dc/db = 2b + 1 = 13, db/da = 3
    c.backward()
    assert b.grad == 13.0
    assert a.grad == 39.0


def test_grad_leaves_dot_grad_untouched():
    a, b = Value(2.0), Value(-3.0)
    da, db = grad(a * b, [a, b])
    assert (da, db) == (-3.0, 2.0)
    assert a.grad == 0.0 and b.grad == 0.0


def test_grad_of_an_input_the_output_does_not_use_is_zero():
    a, unused = Value(2.0), Value(5.0)
    assert grad(a * a, [unused]) == [0.0]


def test_no_grad_records_no_graph():
    a = Value(2.0)
    with no_grad():
        assert not micrograd.is_grad_enabled()
        b = a * 3 + 1
    assert micrograd.is_grad_enabled()
    assert b.data == 7.0
    assert b._prev == () and b._op == ""
    with pytest.raises(RuntimeError, match=r"computed inside no_grad\(\), so no graph was recorded"):
        b.backward()
    assert a.grad == 0.0


def test_classic_graph_walking_attributes():
    a, b = Value(2.0, label="a"), Value(-3.0)
    c = a * b
    c.label = "c"
    assert c._op == "*" and set(c._prev) == {a, b}
    assert a._prev == () and a._op == ""
    assert (a * a)._prev == (a,)  # distinct operand nodes, as the classic's set
    assert repr(a) == "Value(data=2.0, grad=0.0, label='a')"
    assert c.label == "c" and a.label == "a" and b.label == ""
    # a hand-written classic backward loop through _backward
    c.grad = 1.0
    for node in reversed(topological_order(c)):
        node._backward()
    assert (a.grad, b.grad) == (-3.0, 2.0)


def test_million_node_chain_backpropagates_without_recursion_error():
    x = Value(1.0)
    y = x
    for _ in range(500_000):
        y = y * 1.0 + 0.0  # 1,000,000 nodes
    y.backward()
    assert x.grad == 1.0


# ---------------------------------------------------------------------------------------------
# gradcheck


def test_gradcheck_agrees_on_a_smooth_function():
    result = gradcheck(lambda x, y: (x * y).tanh() + x**2 / y, [0.3, 1.7])
    assert result
    assert result.analytic[0] == pytest.approx(
        (1 - math.tanh(0.51) ** 2) * 1.7 + 2 * 0.3 / 1.7, rel=1e-12
    )


def test_gradcheck_reports_the_worst_mismatch_at_a_kink():
    # relu at 0: the engine's derivative is 0, the central difference is (eps - 0) / 2eps = 0.5
    result = gradcheck(lambda x, y: x.relu() + y, [0.0, 1.0])
    assert not result
    assert result.worst_index == 0
    assert result.numeric[0] == pytest.approx(0.5)
    assert "input 0" in str(result) and "MISMATCH" in str(result)


# ---------------------------------------------------------------------------------------------
# Bad input: a clear error, never a wrong number


@pytest.mark.parametrize("bad", ["abc", None, [1], 1 + 2j, b"1", {"x": 1}])
def test_value_of_a_non_number_is_a_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_value_of_a_value_is_a_type_error():
    with pytest.raises(TypeError, match="Value"):
        Value(Value(1.0))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinity_are_refused(bad):
    with pytest.raises(ValueError, match="not a finite number"):
        Value(bad)
    with pytest.raises(ValueError, match="not a finite number"):
        Value(1.0) * bad


def test_a_label_that_is_not_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="label must be a str, got tuple"):
        Value(1.0, label=(Value(2.0), Value(3.0)))


def test_operand_of_unsupported_type_is_a_type_error():
    with pytest.raises(TypeError):
        Value(1.0) + "2"
    with pytest.raises(TypeError):
        [1] * Value(2.0)


@pytest.mark.parametrize(
    "f, error, message",
    [
        (lambda: Value(-1.0).log(), DomainError, r"log\(-1.0\): log is defined only for inputs > 0"),
        (lambda: Value(0.0).log(), DomainError, r"log\(0.0\)"),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, r"0.0 \*\* -1"),
        (lambda: Value(-8.0) ** 0.5, DomainError, r"\(-8.0\) \*\* 0.5: a negative base"),
        (lambda: Value(1000.0).exp(), OverflowError, r"exp\(1000.0\): the result overflows"),
        (lambda: Value(-4.0).sqrt(), DomainError, r"sqrt\(-4.0\)"),
        (lambda: Value(1.0) / 0, ZeroDivisionError, r"1.0 / 0.0: division by zero"),
        (lambda: Value(1e200) * 1e200, OverflowError, r"1e\+200 \* 1e\+200: the result overflows"),
        (lambda: Value(-2.0) ** Value(2.0), DomainError, r"base must be > 0"),
        (lambda: micrograd.log(-3.0), DomainError, r"log\(-3.0\)"),
    ],
)
def test_domain_errors_name_the_op_and_the_operand(f, error, message):
    with pytest.raises(Exception, match=message) as raised:
        f()
    assert type(raised.value) is error  # exactly this class, not merely one of its subclasses


def test_a_domain_error_is_caught_by_except_valueerror():
    # a caller's ``except ValueError`` (as for math.log(-1)) catches log(-1) of a Value too
    with pytest.raises(ValueError, match=r"log\(-1.0\)"):
        Value(-1.0).log()


def test_infinite_local_derivative_is_a_clear_error_in_backward():
    x = Value(0.0)
    y = x.sqrt()  # sqrt(0) = 0 is fine; its derivative 0.5 / 0 is not finite
    with pytest.raises(ZeroDivisionError, match=r"backward through sqrt\(0.0\)"):
        y.backward()
