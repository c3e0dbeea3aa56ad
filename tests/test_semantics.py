"""Backward semantics as PyTorch's, no_grad per thread, and gradients that are finite or an error.

The oracle is torch in float64 (its autograd with retain_graph / retain_grad), exact values derived
by hand, and central finite differences.
"""

import math
import threading

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_engine import BINARY_OPS, UNARY_OPS, programs, run

from micrograd import Value, grad, gradcheck, no_grad
from micrograd.engine import is_grad_enabled, linear, log, sigmoid

torch.set_default_dtype(torch.float64)


def close(ours: float, theirs: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12)


# ---------------------------------------------------------------------------------------------
# Repeated backward: leaves accumulate, intermediates hold one pass


def test_the_readme_example_backward_twice_gives_torchs_numbers():
    a, b = Value(2.0), Value(-3.0)
    c = a * b + b**2
    c.backward()
    c.backward()
    at, bt = torch.tensor(2.0, requires_grad=True), torch.tensor(-3.0, requires_grad=True)
    ct = at * bt + bt**2
    ct.backward(retain_graph=True)
    ct.backward()
    assert (a.grad, b.grad) == (at.grad.item(), bt.grad.item()) == (-6.0, -8.0)  # 2 x (b, a + 2b)


@settings(max_examples=60)
@given(programs(), st.integers(1, 3))
def test_backward_k_times_gives_k_times_the_leaf_gradients_and_one_pass_at_intermediates(program, k):
    try:
        nodes = run(program, UNARY_OPS, BINARY_OPS, Value)
    except OverflowError:
        assume(False)
    assume(abs(nodes[-1].data) < 1e8)
    for _ in range(k):
        nodes[-1].backward()

    tnodes = run(program, UNARY_OPS, BINARY_OPS, lambda x: torch.tensor(x, requires_grad=True))
    for t in tnodes:
        if not t.is_leaf:
            t.retain_grad()
    tnodes[-1].backward()  # ONE pass: the reference for intermediates; leaves get k times it
    n_leaves = len(program[0])
    for i, (ours, theirs) in enumerate(zip(nodes, tnodes)):
        one_pass = 0.0 if theirs.grad is None else theirs.grad.item()
        expected = k * one_pass if i < n_leaves else one_pass
        if i == len(nodes) - 1 and i >= n_leaves:
            expected = 1.0  # the output of this pass
        assert math.isclose(ours.grad, expected, rel_tol=1e-9, abs_tol=1e-9), (i, ours.grad, expected)


def test_a_leaf_used_as_the_output_accumulates_like_torch():
    x = Value(3.0)
    x.backward()
    x.backward()
    xt = torch.tensor(3.0, requires_grad=True)
    xt.backward()
    xt.backward()
    assert x.grad == xt.grad.item() == 2.0


def test_backward_from_a_value_computed_under_no_grad_raises_like_torch():
    x = Value(2.0)
    with no_grad():
        z = x * x
    with pytest.raises(RuntimeError, match=r"inside no_grad\(\), so no graph was recorded"):
        z.backward()
    with pytest.raises(RuntimeError, match=r"inside no_grad\(\)"):
        grad(z, [x])
    xt = torch.tensor(2.0, requires_grad=True)
    with torch.no_grad():
        zt = xt * xt
    with pytest.raises(RuntimeError):  # torch: "element 0 of tensors does not require grad"
        zt.backward()


# ---------------------------------------------------------------------------------------------
# no_grad is per thread


def test_no_grad_in_another_thread_leaves_this_thread_recording():
    inside, done = threading.Event(), threading.Event()

    def evaluator():
        with no_grad():
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=evaluator)
    thread.start()
    try:
        assert inside.wait(10)
        assert is_grad_enabled()
        w = Value(3.0)
        loss = w * w  # built while the other thread is inside no_grad
        loss.backward()
        assert w.grad == 6.0  # d(w^2)/dw = 2w: the graph was recorded
    finally:
        done.set()
        thread.join()
    assert is_grad_enabled()


def test_training_while_an_evaluator_thread_uses_no_grad_is_the_same_training():
    from micrograd.data import make_moons
    from micrograd.nn import MLP
    from micrograd.training import accuracy, fit

    X, y = make_moons(40, noise=0.05, seed=3)
    model = MLP(2, [8, 1], seed=0)
    stop = threading.Event()
    evaluated: list[float] = []

    def evaluator():
        while not stop.is_set():
            evaluated.append(accuracy(model, X, y))  # runs under no_grad, in its own thread

    thread = threading.Thread(target=evaluator)
    thread.start()
    zero_steps = []
    try:
        fit(model, X, y, steps=60, progress=False,
            callback=lambda k, history: zero_steps.append(all(p.grad == 0.0 for p in model.parameters())))
    finally:
        stop.set()
        thread.join()
    assert evaluated  # the evaluator really ran alongside
    assert not any(zero_steps)  # every step had gradients
    alone = MLP(2, [8, 1], seed=0)
    fit(alone, X, y, steps=60, progress=False)  # the same run with no other thread
    assert [p.data for p in model.parameters()] == [p.data for p in alone.parameters()]


def test_no_grad_blocks_exiting_out_of_order_leave_recording_off_as_in_torch():
    def ours():
        with no_grad():
            yield

    def theirs():
        with torch.no_grad():
            yield

    states = []
    for make, enabled in ((ours, is_grad_enabled), (theirs, torch.is_grad_enabled)):
        first, second = make(), make()
        next(first)
        next(second)
        for generator in (first, second):  # the first entered exits first
            with pytest.raises(StopIteration):
                next(generator)
        states.append(enabled())
        torch.set_grad_enabled(True)
        if not is_grad_enabled():
            with no_grad():
                pass
    assert states == [False, False]


@pytest.fixture(autouse=True)
def _recording_back_on():
    yield
    from micrograd import engine

    engine._threads_not_recording.discard(threading.get_ident())
    torch.set_grad_enabled(True)


# ---------------------------------------------------------------------------------------------
# gradcheck of a function that differentiates itself


def test_gradcheck_of_a_function_calling_grad_with_create_graph():
    def derivative_of_cube(x):
        (d,) = grad(x**3, [x], create_graph=True)  # 3 x^2
        return d

    result = gradcheck(derivative_of_cube, [2.0])
    assert result, str(result)
    assert result.analytic[0] == pytest.approx(12.0)  # d/dx 3x^2 = 6x at 2, by hand
    assert result.numeric[0] == pytest.approx(12.0, rel=1e-6)


# ---------------------------------------------------------------------------------------------
# Gradients are finite numbers or an error naming the op


def test_minus_log_sigmoid_at_minus_720_raises_naming_log_instead_of_minus_infinity():
    z = Value(-720.0)
    loss = -log(sigmoid(z))
    assert loss.data == pytest.approx(720.0)
    with pytest.raises(OverflowError, match=r"backward through log\(") as info:
        loss.backward()
    assert "not finite" in str(info.value)
    zt = torch.tensor(-720.0, requires_grad=True)
    (-torch.log(torch.sigmoid(zt))).backward()
    assert not math.isfinite(zt.grad.item())  # what we refuse to hand back (the exact value is -1)


def test_x_log_x_at_the_smallest_float_raises_instead_of_infinity():
    x = Value(5e-324)
    y = x * log(x)
    with pytest.raises(OverflowError, match=r"backward through log\(5e-324\)"):
        y.backward()
    with pytest.raises(OverflowError, match=r"log\(5e-324\)"):
        grad(y, [x])


def test_grad_and_backward_agree_where_a_zero_upstream_meets_an_infinite_local():
    # y = sqrt(x) * z + 3x at x = z = 0: dy/dsqrt = z is exactly 0, so that path adds nothing and
    # dy/dx = 3 (the function is 3x along z = 0); torch gives NaN (0 x inf)
    def build():
        x, z = Value(0.0), Value(0.0)
        return x, z, x.sqrt() * z + x * 3.0

    x, z, y = build()
    y.backward()
    x2, z2, y2 = build()
    assert (x.grad, z.grad) == tuple(grad(y2, [x2, z2])) == (3.0, 0.0)


def test_a_gradient_that_underflowed_to_zero_before_an_infinite_local_derivative_raises():
    x = Value(0.0)
    y = (x.sqrt() * 1e-200) * 1e-200  # upstream of sqrt: 1e-200 * 1e-200 underflows to 0
    with pytest.raises(ArithmeticError, match=r"sqrt\(0.0\).*underflowed to 0"):
        y.backward()
    with pytest.raises(ArithmeticError, match=r"underflowed"):
        grad(y, [x])


def test_linear_with_a_numpy_number_after_a_value_input():
    import numpy as np
    w = [Value(0.5), Value(-2.0)]
    x0 = Value(3.0)
    net = linear(w, [x0, np.float64(1.5)], 0.25)
    net.backward()
    assert net.data == 0.5 * 3.0 - 2.0 * 1.5 + 0.25
    assert (w[0].grad, w[1].grad, x0.grad) == (3.0, 1.5, 0.5)
    assert type(w[1].grad) is float


# ---------------------------------------------------------------------------------------------
# Messages


def test_nan_assigned_to_data_is_reported_as_nan_not_as_overflow():
    v = Value(1.0)
    v.data = math.nan
    with pytest.raises(ValueError, match=r"an operand is not finite \(was it assigned to .data\?\)"):
        v * 2.0
    with pytest.raises(ValueError, match=r"relu\(nan\): an operand is not finite"):
        v.relu()  # not a silent 0.0
    with pytest.raises(ValueError, match="not finite"):
        v.max(1.0)
    v.data = math.inf
    with pytest.raises(ValueError, match=r"inf \* 2.0: an operand is not finite"):
        v * 2.0
    from micrograd.nn import MLP

    model = MLP(2, [3, 1], seed=0)
    model.layers[0].neurons[1].w[1].data = math.nan
    with pytest.raises(ValueError, match=r"linear: weight 1 \(L0.N1.w1\) is nan"):
        model([1.0, 2.0])


def test_a_huge_int_says_it_is_too_large_for_a_float():
    with pytest.raises(ValueError, match=r"the int has 1329 bits, too large for a float"):
        Value(10**400)
