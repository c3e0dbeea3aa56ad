"""Compiled steps against the eager engine (and torch): values, gradients, updates, and misfit inputs.

The oracle is the eager engine running the same Python function on fresh Values (it is itself checked
against torch in test_engine.py), plus torch directly for the classic moons step. "Equal" means within
1e-12 relative to the larger of the value and the scale of the graph (rounding differs: numpy's exp
and the math module's may differ in the last bit, and sums add in a different order).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import DomainError, Value, no_grad
from micrograd.compile import (
    LEVEL_COLOURS,
    SEGMENT_SUMS,
    CompiledStep,
    compile,
    draw_levels,
    fit_compiled,
    levels,
    vectorized,
)
from micrograd.data import make_moons, make_spiral
from micrograd.engine import RULES, linear, topological_order, total
from micrograd.nn import MLP
from micrograd.training import fit

torch.set_default_dtype(torch.float64)
REL = 1e-12
SVG = "{http://www.w3.org/2000/svg}"


def assert_close(got: float, want: float, scale: float = 1.0, what: str = "") -> None:
    # (equal covers inf == inf: a gradient may overflow in both, as 1 / 1e-309 does)
    ok = got == want or abs(got - want) <= REL * max(abs(want), scale)
    assert ok, f"{what}: compiled {got!r}, eager {want!r}"


def scale_of(numbers) -> float:
    return max([1.0, *(abs(x) for x in numbers if math.isfinite(x))])


def zero(params) -> None:
    for p in params:
        p.grad = 0.0


# ---------------------------------------------------------------------------------------------
# Random expressions with every op of the rule table, constants on either side, shared subexpressions

N_INPUTS, N_PARAMS = 3, 3
CONSTANTS = [-1.5, -0.5, 0.5, 1.0, 2.0, 3.0]
OPS = [*RULES, "python_sum"]  # python_sum: builtin sum(), a chain of '+' nodes the compiler folds


@st.composite
def programs(draw):
    """A list of (op, three operand picks among earlier nodes, a constant, a mode 0..2)."""
    program = []
    for i in range(draw(st.integers(1, 10))):
        pool = N_INPUTS + N_PARAMS + i
        picks = draw(st.lists(st.integers(0, pool - 1), min_size=3, max_size=3))
        op, constant = draw(st.sampled_from(OPS)), draw(st.sampled_from(CONSTANTS))
        program.append((op, picks, constant, draw(st.integers(0, 2))))
    return program


def positive(a):
    return abs(a) + 0.5


def build(program, xs, ps) -> Value:
    """Run the program on inputs xs and parameters ps; the loss sums every node it made."""
    pool = [*xs, *ps]
    for op, picks, c, mode in program:
        a, b, d = (pool[j] for j in picks)
        # raw log/sqrt only where a parameter is below: the compiled step differentiates toward
        # parameters only, and sqrt'(0) is infinite (eager backward raises on a branch of inputs alone)
        raw_ok = any(n in ps for n in topological_order(a))
        if op in ("+", "-", "*"):
            f = {"+": lambda u, v: u + v, "-": lambda u, v: u - v, "*": lambda u, v: u * v}[op]
            out = f(a, b) if mode == 0 else f(a, c) if mode == 1 else f(c, a)
        elif op == "/":
            out = a / positive(b) if mode == 0 else a / c if mode == 1 else c / positive(a)
        elif op == "**":
            out = a**c if c in (1.0, 2.0, 3.0) else positive(a) ** c
        elif op == "pow":
            out = positive(a) ** b.tanh() if mode < 2 else positive(c) ** a.tanh()
        elif op == "log":
            out = a.log() if mode == 1 and raw_ok else positive(a).log()
        elif op == "sqrt":
            out = a.sqrt() if mode == 1 and raw_ok else positive(a).sqrt()
        elif op == "linear":
            out = linear([a, b], [d, c], b if mode == 0 else c)
        elif op == "sum":
            out = total([a, b, d, c])
        elif op == "python_sum":
            out = sum([a, b, d])
        elif op == "neg":
            out = -a
        elif op == "abs":
            out = abs(a)
        elif RULES[op].arity == 2:  # max, min: ops of two operands defined with defop
            out = getattr(a, op)(b if mode == 0 else c)
        else:  # exp, tanh, sigmoid, relu, sin, ...
            out = getattr(a, op)()
        pool.append(out)
    return total(pool[N_INPUTS + N_PARAMS :])


def eager(program, xs, ps):
    """(loss, grads, value scale, grad scale), or the exception the eager engine raises."""
    zero(ps)
    try:
        root = build(program, [Value(x) for x in xs], ps)
        root.backward()
    except (ArithmeticError, ValueError) as exc:
        return exc
    nodes = topological_order(root)
    return root.data, [p.grad for p in ps], scale_of(n.data for n in nodes), scale_of(n.grad for n in nodes)


def check_call(step: CompiledStep, program, xs, ps) -> None:
    want = eager(program, xs, ps)
    zero(ps)
    if isinstance(want, Exception):
        with pytest.raises(type(want)) as caught:
            step(xs)
        assert type(caught.value) is type(want), f"compiled raised {caught.value!r}, eager {want!r}"
        return
    loss, grads, value_scale, grad_scale = want
    assert_close(step(xs), loss, value_scale, "loss")
    for i, (p, g) in enumerate(zip(ps, grads)):
        assert_close(p.grad, g, grad_scale, f"grad of parameter {i}")


numbers = st.floats(-2.0, 2.0, allow_nan=False)


@settings(max_examples=150)
@given(
    programs(),
    st.lists(numbers, min_size=N_INPUTS, max_size=N_INPUTS),
    st.lists(numbers, min_size=N_INPUTS, max_size=N_INPUTS),
    st.lists(numbers, min_size=N_PARAMS, max_size=N_PARAMS),
    st.lists(numbers, min_size=N_PARAMS, max_size=N_PARAMS),
)
def test_random_expressions_match_eager_across_new_inputs_and_parameters(program, xs, xs2, ws, ws2):
    ps = [Value(w) for w in ws]
    try:
        step = compile(lambda x: build(program, x, ps), params=ps, inputs=(xs,))
    except (ArithmeticError, ValueError) as exc:  # the trace is an eager run: the same error as eager
        assert type(exc) is type(eager(program, xs, ps))
        return
    check_call(step, program, xs, ps)  # the traced batch
    check_call(step, program, xs2, ps)  # a new batch
    for p, w in zip(ps, ws2):  # a parameter update, seen by the next call
        p.data = w
    check_call(step, program, xs2, ps)


def test_every_op_of_the_rule_table_has_a_vectorized_form():
    assert {key for key in RULES if vectorized(key) is not None} | set(SEGMENT_SUMS) == set(RULES)


# ---------------------------------------------------------------------------------------------
# MLPs: every activation and every loss, trained a few steps compiled and eager from equal weights


def assert_histories_match(eager_history, compiled_history, eager_model, compiled_model, accuracy=True):
    for k, (e, c) in enumerate(zip(eager_history.loss, compiled_history.loss)):
        assert_close(c, e, what=f"loss at step {k}")
    if accuracy:
        assert compiled_history.accuracy == eager_history.accuracy
    assert compiled_history.lr == eager_history.lr
    for (name, pe), (_, pc) in zip(eager_model.named_parameters(), compiled_model.named_parameters()):
        assert_close(pc.data, pe.data, what=name)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("loss", ["hinge", "mse", "bce"])
def test_one_output_mlp_training_matches_eager_fit(activation, loss):
    X, y = make_moons(24, noise=0.1, seed=3)
    models = [MLP(2, [5, 4, 1], activation=activation, seed=7) for _ in range(2)]
    # batch_size 10 of 24: minibatches of 10, 10 and 4, so a second trace for the last one
    kwargs = dict(loss=loss, steps=4, batch_size=10, progress=False, optimizer="sgd", lr=0.05)
    eager_history = fit(models[0], X, y, **kwargs)
    compiled_history = fit_compiled(models[1], X, y, **kwargs)
    # A sample that meets only dead ReLUs scores exactly the output bias, whose sign after a step can be
    # set by rounding (about 1e-18), so its predicted class is not comparable; the numbers are.
    assert_histories_match(eager_history, compiled_history, *models, accuracy=activation != "relu")


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
@pytest.mark.parametrize("output_activation", ["linear", "sigmoid"])
def test_many_output_mlp_training_matches_eager_fit(loss, output_activation):
    X, y = make_spiral(30, classes=3, seed=1)
    models = [MLP(2, [6, 3], activation="tanh", output_activation=output_activation, seed=2) for _ in "ab"]
    kwargs = dict(loss=loss, steps=3, progress=False, optimizer="adam", lr=0.02)
    eager_history = fit(models[0], X, y, **kwargs)
    compiled_history = fit_compiled(models[1], X, y, **kwargs)
    assert_histories_match(eager_history, compiled_history, *models)


def test_unfused_mlp_compiles_its_chains_of_additions():
    X, y = make_moons(12, seed=0)
    models = [MLP(2, [4, 1], fused=False, seed=5) for _ in range(2)]
    kwargs = dict(loss="hinge", steps=3, progress=False)
    assert_histories_match(fit(models[0], X, y, **kwargs), fit_compiled(models[1], X, y, **kwargs), *models)


def hinge_l2(model, scores, y, alpha=1e-4):
    data_loss = total([(1 - yi * si).relu() for yi, si in zip(y, scores)]) / len(scores)
    return data_loss + alpha * total([p * p for p in model.parameters()])


def classic_moons_loss(model, alpha=1e-4):
    return lambda X, y: hinge_l2(model, [model(x) for x in X], y, alpha)


def test_classic_moons_step_matches_torch():
    X, labels = make_moons(40, noise=0.1, seed=0)
    y = [2.0 * c - 1.0 for c in labels]
    model = MLP(2, [16, 16, 1], seed=0)
    step = compile(classic_moons_loss(model), params=model.parameters(), inputs=(X, y))
    model.zero_grad()
    loss = step(X, y)

    weights = [
        (
            torch.tensor([[w.data for w in n.w] for n in layer.neurons], requires_grad=True),
            torch.tensor([n.b.data for n in layer.neurons], requires_grad=True),
        )
        for layer in model.layers
    ]
    h = torch.tensor(X)
    for i, (W, b) in enumerate(weights):
        h = h @ W.T + b
        h = torch.relu(h) if i < len(weights) - 1 else h
    params = [t for pair in weights for t in pair]
    expected = torch.relu(1 - torch.tensor(y) * h[:, 0]).mean() + 1e-4 * sum((t * t).sum() for t in params)
    expected.backward()
    assert math.isclose(loss, expected.item(), rel_tol=1e-12)
    for layer, (W, b) in zip(model.layers, weights):
        for j, n in enumerate(layer.neurons):
            for i, w in enumerate(n.w):
                assert math.isclose(w.grad, W.grad[j, i].item(), rel_tol=1e-10, abs_tol=1e-14)
            assert math.isclose(n.b.grad, b.grad[j].item(), rel_tol=1e-10, abs_tol=1e-14)


@pytest.mark.parametrize(
    "loss_fn, loss, grad",
    [
        (lambda w, x: w, 1.5, 1.0),  # the root is the parameter itself
        (lambda w, x: x, -3.0, 0.0),  # the root is an input: no parameter below it
        (lambda w, x: Value(3.0), 3.0, 0.0),  # a leaf that is neither: a constant
        (lambda w, x: w * w, 2.25, 3.0),  # one node in both slots of an op: 2w
        (lambda w, x: (w * x) * (w * x) + 2.0 * w, 23.25, 29.0),  # (wx)^2 + 2w: 2w x^2 + 2
    ],
)
def test_degenerate_graphs_give_the_hand_derived_loss_and_gradient(loss_fn, loss, grad):
    w = Value(1.5)
    step = compile(lambda x: loss_fn(w, x), [w], (2.0,))  # traced at x = 2, called at x = -3
    w.grad = 0.0
    assert (step(-3.0), w.grad) == (loss, grad)


def test_a_step_adds_into_grad_like_backward_and_sees_parameter_updates():
    X, labels = make_moons(10, seed=1)
    y = [2.0 * c - 1.0 for c in labels]
    model = MLP(2, [3, 1], seed=4)
    loss_fn = classic_moons_loss(model)
    step = compile(loss_fn, params=model.parameters(), inputs=(X, y))

    def eager_grads():
        model.zero_grad()
        loss_fn([[Value(v) for v in x] for x in X], [Value(v) for v in y]).backward()
        return [p.grad for p in model.parameters()]

    once = eager_grads()
    model.zero_grad()
    step(X, y)
    step(X, y)  # no zero_grad in between: adds again, as a second backward() does
    for p, g in zip(model.parameters(), once):
        assert_close(p.grad, 2 * g)
    for p in model.parameters():
        p.data -= 0.5 * p.grad
    updated = eager_grads()
    model.zero_grad()
    step(X, y)
    for p, g in zip(model.parameters(), updated):
        assert_close(p.grad, g)


def test_loss_runs_forward_only_and_aux_gives_the_outputs():
    model = MLP(2, [3, 1], seed=0)
    X, y = [[0.5, -1.0], [2.0, 0.25]], [1.0, -1.0]

    def loss_fn(Xb, yb):
        scores = [model(x) for x in Xb]
        return hinge_l2(model, scores, yb), scores

    step = compile(loss_fn, params=model.parameters(), inputs=(X, y), has_aux=True)
    model.zero_grad()
    X2 = [[1.0, 1.0], [-0.5, 0.0]]
    loss = step.loss(X2, y)
    assert all(p.grad == 0.0 for p in model.parameters())
    with no_grad():
        assert_close(loss, classic_moons_loss(model)(X2, y).data)
        assert step.aux.shape == (2,)
        for got, x in zip(step.aux, X2):
            assert_close(float(got), model(x).data)


# ---------------------------------------------------------------------------------------------
# Levels and the picture


def test_levels_are_one_more_than_the_deepest_operand():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    ab = a * b
    e = ab + c
    f = e.tanh() * a
    assert levels(f) == {a: 0, b: 0, c: 0, ab: 1, e: 2, f.operands()[0]: 3, f: 4}


def test_a_chain_of_additions_runs_as_one_sum_at_one_level():
    xs = [Value(float(i)) for i in range(5)]
    s = sum(x * x for x in xs)  # 0 + x0*x0 + ... : five '+' nodes in a chain
    lv = levels(s)
    assert {lv[n] for n in topological_order(s) if n._op == "+"} == {2}
    step = compile(lambda: s * 1.0, params=xs, inputs=())
    zero(xs)
    assert step() == 30.0
    assert [x.grad for x in xs] == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert step.n_levels == 3  # the squares, the folded sum, the product


def test_draw_levels_fills_each_node_with_the_colour_of_its_level(tmp_path):
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    ab = a * b
    s = ab + a
    out = s.relu()
    ab.label, s.label, out.label = "ab", "s", "out"
    svg = ET.parse(draw_levels(out, tmp_path / "levels.svg")).getroot()
    # by hand: the leaves are level 0, a * b runs at 1, + a at 2, relu at 3
    expected = {"a": 0, "b": 0, "ab": 1, "s": 2, "out": 3}
    fills = {}
    for g in svg.iter(f"{SVG}g"):
        if g.get("class") == "node" and g.get("id", "")[1:].isdigit():  # a value's box, not an op
            label = "".join(next(g.iter(f"{SVG}text")).itertext())
            fills[label] = {p.get("fill") for p in g.iter(f"{SVG}polygon")} - {"none"}
    assert fills == {name: {LEVEL_COLOURS[level]} for name, level in expected.items()}
    assert len({LEVEL_COLOURS[level] for level in expected.values()}) == 4  # one colour per level
    legend = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
    assert all(f"level {level}" in legend for level in range(4))


# ---------------------------------------------------------------------------------------------
# Errors: misfit inputs, domain errors at call time, bad compile arguments


@pytest.fixture
def line_step():
    w = Value(0.5)
    X, y = [[1.0], [2.0]], [0.0, 1.0]
    return compile(lambda X, y: total([(w * x[0] - t) ** 2 for x, t in zip(X, y)]), [w], (X, y))


def test_wrong_number_of_inputs_is_a_type_error(line_step):
    with pytest.raises(TypeError, match=r"traced with 2 input\(s\) \(X, y\), got 1"):
        line_step([[1.0], [2.0]])


def test_wrong_batch_size_is_a_value_error_naming_both_shapes(line_step):
    expected = r"input 'X' has shape \(3, 1\) but the graph was traced with shape \(2, 1\)"
    with pytest.raises(ValueError, match=expected):
        line_step([[1.0], [2.0], [3.0]], [0.0, 1.0, 2.0])


@pytest.mark.parametrize(
    "X, error, message",
    [
        ([[1.0], [2.0, 3.0]], TypeError, "rectangular"),
        ([[1.0], ["a"]], TypeError, "rectangular"),
        ([[1.0], [math.nan]], ValueError, r"input 'X'\[1, 0\] is nan"),
        ([[1.0], [Value(2.0)]], TypeError, "numbers"),
    ],
)
def test_inputs_that_are_not_finite_numbers_are_refused(line_step, X, error, message):
    with pytest.raises(error, match=message):
        line_step(X, [0.0, 1.0])


@pytest.mark.parametrize(
    "f, x, error, message",
    [
        (lambda w, x: (w * x).log(), -2.0, DomainError, r"log\(-1\.0\): log is defined only for inputs > 0"),
        (lambda w, x: (w * x).sqrt(), -2.0, DomainError, r"sqrt\(-1\.0\)"),
        (lambda w, x: (w * x) ** 0.5, -2.0, DomainError, "negative base needs an integer exponent"),
        (lambda w, x: (w * x) ** w, -2.0, DomainError, "base must be > 0"),
        (lambda w, x: w / x, 0.0, ZeroDivisionError, "division by zero"),
        (lambda w, x: (w * x).exp(), 2000.0, OverflowError, r"exp\(1000\.0\): the result overflows"),
        (lambda w, x: (w * x).sqrt() * w, 0.0, ZeroDivisionError, r"backward through sqrt\(0\.0\)"),
    ],
)
def test_errors_at_call_time_are_the_engines(f, x, error, message):
    w = Value(0.5)
    step = compile(lambda x: f(w, x), [w], (1.0,))
    with pytest.raises(error, match=message):
        step(x)
    with pytest.raises(error, match=message):  # the eager engine says the same
        f(w, Value(x)).backward()


def test_a_branch_of_inputs_alone_is_not_differentiated():
    w = Value(3.0)
    step = compile(lambda x: w * x.sqrt(), [w], (4.0,))
    zero([w])
    assert step(0.0) == 0.0  # sqrt'(0) is infinite, but no parameter is below it
    assert w.grad == 0.0


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(inputs=[1.0]), TypeError, r"inputs must be a tuple .* e\.g\. inputs=\(X, y\)"),
        (dict(params=[Value(1.0) * 2]), ValueError, "parameters must be leaves"),
        (dict(params=[1.0]), TypeError, r"params\[0\] must be a Value"),
        (dict(loss_fn=lambda x: 1.0), TypeError, "must return a Value"),
    ],
)
def test_bad_compile_arguments_are_clear_errors(kwargs, error, message):
    w = Value(1.0)
    arguments = dict(loss_fn=lambda x: w * x, params=[w], inputs=(1.0,))
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        compile(**arguments)


def test_compiling_inside_no_grad_is_refused():
    w = Value(1.0)
    with no_grad(), pytest.raises(RuntimeError, match="no_grad"):
        compile(lambda x: w * x, [w], (1.0,))


def test_aux_outside_the_loss_graph_is_refused():
    w = Value(1.0)
    with pytest.raises(ValueError, match="not part of the loss graph"):
        compile(lambda x: (w * x, [Value(2.0) * x]), [w], (1.0,), has_aux=True)


def test_fit_compiled_refuses_a_loss_that_does_not_fit_the_model():
    X, y = make_spiral(12, classes=3, seed=0)
    with pytest.raises(ValueError, match="ONE output"):
        fit_compiled(MLP(2, [3]), X, y, loss="hinge", steps=1, progress=False)


# ---------------------------------------------------------------------------------------------
# The digits demo end to end


def test_digits_demo_reaches_95_percent_held_out_and_writes_its_pictures(tmp_path):
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    command = [sys.executable, str(repo / "demos" / "digits.py"), "--out", str(tmp_path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    accuracy = float(result.stdout.split("held-out accuracy: ")[1].split("%")[0])
    assert accuracy >= 95.0
    assert "fit (compiled)" in result.stderr  # the progress bar
    png = (tmp_path / "digits_predictions.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    svg = (tmp_path / "digits_levels.svg").read_text()
    assert "<svg" in svg and "level 1" in svg
