"""Compiled steps against the eager engine (and torch): values, gradients, updates, and misfit inputs.

The oracle is the eager engine running the same Python function on fresh Values (it is itself checked
against torch in test_engine.py), plus torch directly for the classic moons step, math.fsum for sums,
and figures derived by hand. "Equal" means within 1e-12 relative to the larger of the value and the
scale of the graph (rounding differs: numpy's exp and the math module's may differ in the last bit,
and matrix products and sums add in another order); where the compiled step promises the same floats
(additions as written, sums that cancel), the tests ask for exact equality.
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
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
from micrograd.engine import RULES, affine, linear, topological_order, total
from micrograd.nn import MLP
from micrograd.optim import SGD, Adam, AdamW, cosine_decay
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
# python_sum: builtin sum(), a chain of '+' nodes the compiler folds; neuron: a neuron of the
# parameters on two nodes (on a batch, one neuron for every sample: a grid, maybe a matrix product)
OPS = [*RULES, "python_sum", "neuron"]


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
        elif op == "neuron":
            out = affine((ps[0], ps[1], ps[2]) if mode < 2 else (ps[2], ps[0], ps[1]), (a, b))
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


def eager_batch(program, X, ps):
    """The loss summed over the samples of X, eagerly: (loss, grads, scales) or the exception."""
    zero(ps)
    try:
        root = total([build(program, [Value(x) for x in xs], ps) for xs in X])
        root.backward()
    except (ArithmeticError, ValueError) as exc:
        return exc
    nodes = topological_order(root)
    return root.data, [p.grad for p in ps], scale_of(n.data for n in nodes), scale_of(n.grad for n in nodes)


@settings(max_examples=60)
@given(
    programs(),
    st.lists(st.lists(numbers, min_size=N_INPUTS, max_size=N_INPUTS), min_size=4, max_size=4),
    st.lists(numbers, min_size=N_PARAMS, max_size=N_PARAMS),
)
def test_random_programs_on_a_batch_match_eager(program, X, ws):
    # one program per sample, the parameters shared: each level's nodes of one op run together, and
    # a linear node on parameters alone is the same neuron for every sample (a grid)
    ps = [Value(w) for w in ws]
    try:
        step = compile(lambda X: total([build(program, xs, ps) for xs in X]), params=ps, inputs=(X,))
    except (ArithmeticError, ValueError) as exc:
        assert type(exc) is type(eager_batch(program, X, ps))
        return
    for batch in (X, [[-v for v in xs] for xs in X]):
        want = eager_batch(program, batch, ps)
        zero(ps)
        if isinstance(want, Exception):
            with pytest.raises(type(want)):
                step(batch)
            continue
        loss, grads, value_scale, grad_scale = want
        assert_close(step(batch), loss, value_scale, "loss")
        for i, (p, g) in enumerate(zip(ps, grads)):
            assert_close(p.grad, g, grad_scale, f"grad of parameter {i}")


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


# ---------------------------------------------------------------------------------------------
# Additions and sums: rounded as the eager engine rounds them


def test_additions_keep_the_association_written():
    # eager rounds x0 + x1 first: 1e16 + -1e16 = 0, then 1 + 0 = 1.0 (a left-to-right sum gives 0.0)
    w = Value(1.0)
    right_nested = compile(lambda x: w * (1.0 + (x[0] + x[1])), [w], ([1e16, -1e16],))
    assert right_nested([1e16, -1e16]) == 1.0
    # written left to right, (1 + 1e16) + -1e16: 1 + 1e16 rounds to 1e16, so the sum is 0.0, as written
    left_chain = compile(lambda x: w * ((1.0 + x[0]) + x[1]), [w], ([1e16, -1e16],))
    assert left_chain([1e16, -1e16]) == 0.0


def test_a_chain_written_left_to_right_is_folded_but_a_right_nested_addition_is_not():
    a, b, c, d = (Value(float(i)) for i in range(4))
    left = ((a + b) + c) + d
    right = a + (b + (c + d))
    assert {levels(left)[n] for n in topological_order(left) if n._op == "+"} == {1}  # one sum
    assert max(levels(right).values()) == 3  # c + d, then b + (.), then a + (.)


def test_a_sum_node_adds_as_exactly_as_math_fsum():
    # engine.total is math.fsum: 1 + 1e16 - 1e16 is 1.0 there (a sum in order would give 0.0)
    w = Value(1.0)
    alone = compile(lambda x: w * total([1.0, x[0], x[1]]), [w], ([1e16, -1e16],))
    assert alone([1e16, -1e16]) == 1.0
    # many sum nodes at once: numpy adds them, and a row that cancels is added again with fsum
    rng = random.Random(5)
    rows = [[rng.uniform(-1, 1) for _ in range(6)] for _ in range(12)]
    rows += [[1.0, 1e16, 3.0, -1e16, 0.5, 0.25], [1e-3, 1e20, -1e20, 1e-3, 2e-3, 0.0]]
    rows += [[rng.uniform(0, 1) for _ in range(6)] for _ in range(6)]

    def sums(X):
        row_sums = [total(row) for row in X]
        return w * total(row_sums), row_sums

    step = compile(sums, [w], (rows,), has_aux=True)
    step(rows)
    for row, got in zip(rows, step.aux.tolist()):
        exact = math.fsum(row)
        assert abs(got - exact) <= 2.0**-44 * abs(exact), (row, got, exact)
    assert step.aux.tolist()[12:14] == [4.75, 0.004]  # by hand: the cancelling rows, exactly


# ---------------------------------------------------------------------------------------------
# Layers as matrix products: regular grids, and the irregular ones that stay segment sums


def as_values(batch):
    return [[Value(v) if isinstance(v, float) else v for v in row] for row in batch]


def compare_with_eager(loss_fn, params, batches, products):
    """Compiled at batches[0]; on every batch the loss and each gradient equal the eager engine's."""
    step = compile(loss_fn, params, (batches[0],))
    assert step.n_products == products, step
    for batch in batches:
        zero(params)
        root = loss_fn(as_values(batch))
        root.backward()
        want = [p.grad for p in params]
        nodes = topological_order(root)
        value_scale, grad_scale = scale_of(n.data for n in nodes), scale_of(n.grad for n in nodes)
        zero(params)
        assert_close(step(batch), root.data, value_scale, "loss")
        for i, (p, g) in enumerate(zip(params, want)):
            assert_close(p.grad, g, grad_scale, f"grad of parameter {i}")
    return step


def random_batches(rng, n, k, count=2):
    return [[[rng.uniform(-2, 2) for _ in range(k)] for _ in range(n)] for _ in range(count)]


def neurons(rng, m, k, start=0):
    return [
        tuple(Value(rng.uniform(-1, 1), label=f"N{start + j}.p{i}") for i in range(k + 1)) for j in range(m)
    ]


def params_of(ns):
    return list(dict.fromkeys(p for n in ns for p in n if isinstance(p, Value)))


def loss_of_outputs(rows):
    """A loss that reads every output with its own weight (so no gradient is uniform)."""
    return total([(0.1 * (i + 1) + 0.01 * j) * h.tanh() for i, r in enumerate(rows) for j, h in enumerate(r)])


def test_a_layer_on_a_batch_runs_as_one_matrix_product_with_its_activation():
    rng = random.Random(0)
    layer1, layer2 = neurons(rng, 5, 3), neurons(rng, 4, 5, start=5)

    def loss_fn(X):
        h = [[affine(n, tuple(x)).relu() for n in layer1] for x in X]
        return loss_of_outputs([[affine(n, tuple(row)) for n in layer2] for row in h])

    step = compare_with_eager(loss_fn, params_of(layer1 + layer2), random_batches(rng, 6, 3), products=2)
    # by hand: two products (the relu folded into the first, the loss's tanh into the second), the
    # products by constants, the sum
    assert len(step.kernels) == 4


# one node alone is a product only when it is a long dot product; a short one adds in the engine's order
@pytest.mark.parametrize("n, m, k, products", [(1, 4, 3, 1), (5, 1, 3, 1), (1, 1, 20, 1), (1, 1, 3, 0)])
def test_one_sample_or_one_neuron_is_a_product_too(n, m, k, products):
    rng = random.Random(n + m)
    layer = neurons(rng, m, k)
    loss_fn = lambda X: loss_of_outputs([[affine(p, tuple(x)) for p in layer] for x in X])  # noqa: E731
    compare_with_eager(loss_fn, params_of(layer), random_batches(rng, n, k), products)


def test_a_partial_grid_runs_as_segment_sums():
    rng = random.Random(1)
    layer = neurons(rng, 4, 3)
    # sample i meets neurons 0..i only: not every sample meets every neuron
    def loss_fn(X):
        return loss_of_outputs([[affine(p, tuple(x)) for p in layer[: i + 1]] for i, x in enumerate(X)])

    compare_with_eager(loss_fn, params_of(layer), random_batches(rng, 4, 3), products=0)


def test_constants_among_the_inputs_are_read_as_constants():
    rng = random.Random(2)
    layer = neurons(rng, 3, 4)
    loss_fn = lambda X: loss_of_outputs([[affine(p, (x[0], 2.5, x[1], -1.0)) for p in layer] for x in X])  # noqa: E731
    compare_with_eager(loss_fn, params_of(layer), random_batches(rng, 5, 2), products=1)


def test_shared_weights_get_the_sum_of_their_gradients():
    rng = random.Random(3)
    w, u = Value(0.7, label="w"), Value(-0.3, label="u")
    tied = [(w, u, Value(0.1)), (u, w, Value(0.2)), (w, w, Value(-0.4))]  # shared, and twice in one neuron
    loss_fn = lambda X: loss_of_outputs([[affine(p, tuple(x)) for p in tied] for x in X])  # noqa: E731
    compare_with_eager(loss_fn, params_of(tied), random_batches(rng, 6, 2), products=1)


def test_weights_computed_by_other_nodes_and_inputs_in_another_order():
    rng = random.Random(4)
    raw = neurons(rng, 3, 3)
    params = params_of(raw)[::-1]  # parameters listed backwards: the weights are gathered, not viewed

    def loss_fn(X):
        squashed = [(*(p.tanh() for p in n[:-1]), n[-1]) for n in raw]  # weights made by tanh nodes
        h = [[affine(p, tuple(x)) for p in squashed] for x in X]
        return loss_of_outputs([[affine(raw[0], tuple(reversed(row)))] for row in h])  # reversed outputs

    compare_with_eager(loss_fn, params, random_batches(rng, 5, 3), products=2)


def test_layer_outputs_read_by_the_activation_and_by_another_op():
    rng = random.Random(6)
    layer = neurons(rng, 4, 3)

    def loss_fn(X):
        h = [[affine(p, tuple(x)) for p in layer] for x in X]
        return total([v.relu() * 0.5 + v * v for row in h for v in row])

    compare_with_eager(loss_fn, params_of(layer), random_batches(rng, 5, 3), products=1)


def test_a_neuron_without_inputs_and_lone_short_dot_products_are_segment_sums():
    rng = random.Random(7)
    b, ws = Value(0.5), [Value(rng.uniform(-1, 1)) for _ in range(3)]
    loss_fn = lambda X: total([affine((b,), ()) * linear(ws, x, 0.25) for x in X])  # noqa: E731
    compare_with_eager(loss_fn, [b, *ws], random_batches(rng, 1, 3), products=0)


def layer_errors(make, batch):
    """The error of the compiled step on ``batch`` and the eager engine's, for loss ``make``."""
    layer = [(Value(1.0), Value(-1.0), Value(0.0)), (Value(2.0), Value(1.0), Value(0.0))]
    loss_fn = lambda X: make([[affine(p, tuple(x)) for p in layer] for x in X])  # noqa: E731
    step = compile(loss_fn, params_of(layer), ([[1.0, 0.5], [2.0, 1.0]],))
    assert step.n_products == 1
    with pytest.raises((ArithmeticError, ValueError)) as compiled:
        step(batch)
    with pytest.raises((ArithmeticError, ValueError)) as eager:
        loss_fn(as_values(batch)).backward()
    return compiled.value, eager.value


def log_of_each(h):
    return total([v.log() for row in h for v in row])


def sum_of_each(h):
    return total([v for row in h for v in row])


def sqrt_of_each(h):
    return total([2.0 * v.sqrt() for row in h for v in row])


@pytest.mark.parametrize(
    "make, batch, error",
    [
        (log_of_each, [[1.0, 0.5], [0.5, 1.0]], DomainError),  # 2 * 0.5 - 1 = 0 for the first neuron
        (sum_of_each, [[1e200, 1e200], [1e308, -1e308]], OverflowError),  # 1e308 - (-1e308) overflows
        (sqrt_of_each, [[1.0, 1.0], [0.0, 0.0]], ZeroDivisionError),  # sqrt'(0) = 0.5 / 0 on backward
    ],
)
def test_errors_of_a_layer_run_as_a_product_are_the_engines(make, batch, error):
    compiled, eager = layer_errors(make, batch)
    assert type(compiled) is type(eager) is error
    assert str(compiled).startswith(str(eager)), (str(compiled), str(eager))


# ---------------------------------------------------------------------------------------------
# The array interface, threads, and fit_compiled's optimizers on arrays


def test_value_and_grad_reads_theta_and_touches_no_value():
    model = MLP(2, [4, 1], seed=3)
    X, labels = make_moons(8, seed=2)
    y = [2.0 * c - 1.0 for c in labels]
    step = compile(classic_moons_loss(model), params=model.parameters(), inputs=(X, y))
    theta = step.parameter_values() * 0.5
    before = [(p.data, p.grad) for p in model.parameters()]
    loss, gradient = step.value_and_grad(theta, X, y)
    assert [(p.data, p.grad) for p in model.parameters()] == before
    for p, value in zip(model.parameters(), theta.tolist()):  # the eager oracle at theta
        p.data = value
    zero(model.parameters())
    root = classic_moons_loss(model)([[Value(v) for v in x] for x in X], y)
    root.backward()
    assert_close(loss, root.data)
    for p, g in zip(model.parameters(), gradient.tolist()):
        assert_close(g, p.grad)
    with pytest.raises(ValueError, match=r"theta must be an array of the 17 parameter values"):
        step.value_and_grad(theta[:3], X, y)
    with pytest.raises(ValueError, match=r"theta\[2\] is nan"):
        step.value_and_grad(theta * [1.0, 1.0, math.nan, *[1.0] * 14], X, y)


def test_two_threads_calling_one_step_each_get_their_own_answer():
    model = MLP(2, [8, 1], seed=1)
    X, labels = make_moons(16, seed=0)
    y = [2.0 * c - 1.0 for c in labels]
    step = compile(classic_moons_loss(model), params=model.parameters(), inputs=(X, y))
    theta = step.parameter_values()
    batches = [(X, y), ([[-x1, x0] for x0, x1 in X], y[::-1])]
    expected = [step.value_and_grad(theta, *batch) for batch in batches]
    wrong = []

    def worker(k):
        for _ in range(200):
            loss, gradient = step.value_and_grad(theta, *batches[k])
            if loss != expected[k][0] or not (gradient == expected[k][1]).all():
                wrong.append(k)

    def run_in_two_threads(target):
        threads = [threading.Thread(target=target, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    run_in_two_threads(worker)
    assert expected[0][0] != expected[1][0] and wrong == []
    # through the Values: every call adds its gradient into p.grad, none is lost
    zero(model.parameters())
    run_in_two_threads(lambda k: [step(*batches[k]) for _ in range(100)])
    for p, g0, g1 in zip(model.parameters(), expected[0][1].tolist(), expected[1][1].tolist()):
        assert_close(p.grad, 100 * (g0 + g1), scale_of([100 * g0, 100 * g1]))


OPTIMIZERS = {
    "sgd momentum nesterov decay": lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "sgd momentum": lambda ps: SGD(ps, lr=0.2, momentum=0.5),
    "adam decay": lambda ps: Adam(ps, lr=0.05, weight_decay=0.01),
    "adamw cosine": lambda ps: AdamW(ps, lr=0.05, weight_decay=0.1, schedule=cosine_decay(0.05, 0.0, 6)),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_fit_compiled_leaves_model_and_optimizer_as_eager_fit_does(name):
    X, y = make_moons(20, noise=0.1, seed=1)
    models = [MLP(2, [6, 1], seed=4) for _ in "ab"]
    opts = [OPTIMIZERS[name](m.parameters()) for m in models]
    kwargs = dict(loss="hinge", steps=6, batch_size=8, progress=False)
    histories = [fit(models[0], X, y, optimizer=opts[0], **kwargs),
                 fit_compiled(models[1], X, y, optimizer=opts[1], **kwargs)]
    assert_histories_match(*histories, *models)
    for pe, pc in zip(models[0].parameters(), models[1].parameters()):
        assert_close(pc.grad, pe.grad, what="the last gradient")
    assert (opts[1].steps, opts[1].lr) == (opts[0].steps, opts[0].lr)
    for state in ("m", "v", "velocity"):
        if hasattr(opts[0], state):
            for got, want in zip(getattr(opts[1], state) or [], getattr(opts[0], state) or []):
                assert_close(got, want, what=state)


def test_fit_compiled_shows_the_current_weights_to_a_callback_and_to_validation():
    X, y = make_moons(16, noise=0.1, seed=2)
    models = [MLP(2, [5, 1], seed=6) for _ in "ab"]
    seen: list[list[list[float]]] = [[], []]
    kwargs = dict(loss="hinge", steps=4, optimizer="adam", lr=0.1, progress=False, validation=(X[:6], y[:6]))
    histories = []
    for runner, model, record in zip((fit, fit_compiled), models, seen):
        def callback(k, history, model=model, record=record):
            record.append([p.data for p in model.parameters()])

        histories.append(runner(model, X, y, callback=callback, **kwargs))
    assert histories[1].val_accuracy == histories[0].val_accuracy
    for got, want in zip(seen[1], seen[0]):
        for g, w in zip(got, want):
            assert_close(g, w)


class ClippedSGD(SGD):
    """A user's optimizer: the compiled fit cannot run it on arrays, so it runs on the Values."""

    def _update(self):
        return [p.data - self.lr * max(-0.05, min(0.05, p.grad)) for p in self.params]


def test_fit_compiled_runs_any_other_optimizer_on_the_values():
    X, y = make_moons(12, seed=3)
    models = [MLP(2, [4, 1], seed=2) for _ in "ab"]
    kwargs = dict(loss="hinge", steps=4, progress=False)
    histories = [runner(model, X, y, optimizer=ClippedSGD(model.parameters(), lr=1.0), **kwargs)
                 for runner, model in zip((fit, fit_compiled), models)]
    assert_histories_match(*histories, *models)


def test_a_diverging_fit_compiled_stops_as_eager_fit_does():
    X, y = make_moons(12, seed=3)
    messages = []
    for runner in (fit, fit_compiled):
        model = MLP(2, [4, 1], seed=2)
        optimizer = SGD(model.parameters(), lr=1e10, weight_decay=1e300)  # lr * (decay * p) overflows
        with pytest.raises(OverflowError, match=r"step 0 would set parameter '?L0\.N0\.w0'? to") as caught:
            runner(model, X, y, loss="hinge", optimizer=optimizer, steps=5, progress=False)
        assert all(math.isfinite(p.data) for p in model.parameters())
        messages.append(str(caught.value).split(" to ")[0])  # which optimizer, step and parameter
    assert messages[0] == messages[1]


# ---------------------------------------------------------------------------------------------
# Gradients that are not finite: the engine's errors, never an inf or NaN handed back


def eager_and_compiled_errors(f, traced_at, x):
    w = Value(1.0)
    step = compile(lambda xs: f(w, xs), [w], (traced_at,))
    errors = []
    for run in (lambda: f(w, [Value(v) for v in x]).backward(), lambda: step(x)):
        w.grad = 0.0
        with pytest.raises((ArithmeticError, ValueError)) as caught:
            run()
        errors.append(caught.value)
    assert w.grad == 0.0 and w.data == 1.0  # the compiled step leaves every Value as it was
    return errors


@pytest.mark.parametrize(
    "f, x, why",
    [
        (lambda w, x: (w * x[0]).log() * 1.0, [1e-320], "its local derivative is inf"),  # 1 / 1e-320
        (lambda w, x: (w * x[0]) * (w * x[0]) * 1e300, [1e4], "the sum of its gradients overflows"),
        # the gradient reaching sqrt(0) underflowed to 0 (1e-200 * 1e-200): infinity times 0 is no number
        (lambda w, x: 1e-200 * (1e-200 * (w * x[0]).sqrt()), [0.0], "underflowed to 0"),
    ],
)
def test_a_gradient_that_is_not_finite_is_the_engines_error(f, x, why):
    eager, compiled = eager_and_compiled_errors(f, [1.0], x)
    assert type(compiled) is type(eager)
    assert why in str(eager) and str(compiled).startswith(str(eager))


def test_an_infinite_local_derivative_behind_an_exact_zero_contributes_nothing():
    # relu(w x1) at x1 < 0 is exactly 0: the product passes sqrt(w x0) at x0 = 0 exactly 0, as eager
    w = Value(1.0)
    step = compile(lambda x: (w * x[1]).relu() * (w * x[0]).sqrt() + w, [w], ([1.0, 1.0],))
    zero([w])
    assert (step([0.0, -1.0]), w.grad) == (1.0, 1.0)  # by hand: 0 * 0 + 1, and only the + w passes 1


def test_a_parameter_made_nan_from_outside_is_named():
    w = Value(1.0, label="w")
    step = compile(lambda x: w * x, [w], (2.0,))
    w.data = math.nan
    with pytest.raises(ValueError, match=r"parameter w is nan: its \.data was set") as compiled:
        step(2.0)
    with pytest.raises(ValueError) as eager:  # the eager engine refuses it too (naming the op)
        w * Value(2.0)
    assert type(compiled.value) is type(eager.value)
    with pytest.raises(ValueError, match=r"theta\[0\] is inf"):
        step.value_and_grad(np.array([math.inf]), 2.0)
