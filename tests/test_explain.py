"""explain(): the lesson (forward, backward node by node, update), checked against hand derivations,
backward(), torch and the textbook's worked example; every rendering read for those numbers."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from micrograd import RULES, Value, linear, total
from micrograd.explain import explain, node_names
from micrograd.fmt import add_up, number
from micrograd.losses import mse
from micrograd.nn import MLP, to_torch
from micrograd.optim import SGD, Adam
from micrograd.viz import HIGHLIGHT, GraphvizNotFound

SVG = "{http://www.w3.org/2000/svg}"
D = "\u2202"  # the local derivative's sign


# ----------------------------------------------------------------------------------------------
# The textbook's worked example: Matt Mazur, "A Step by Step Backpropagation Example" (2015): a 2-2-2
# sigmoid network, inputs 0.05 and 0.10, targets 0.01 and 0.99, squared error 1/2 sum (t - o)^2.
# His numbers: E_total = 0.298371109, dE/dw5 = 0.082167041, dE/dw1 = 0.000438568, and after one
# step with learning rate 0.5: w5 = 0.35891648, w6 = 0.408666186, w7 = 0.511301270,
# w8 = 0.561370121, w1 = 0.149780716, w2 = 0.19956143, w3 = 0.24975114, w4 = 0.29950229.
# (He shares one bias per layer and does not update it; here each neuron has its own bias with
# the same value, which changes no weight's gradient.)

MAZUR_W = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]
MAZUR_B = [[0.35, 0.35], [0.60, 0.60]]
MAZUR_NEW = {  # nn's names for w1..w8
    "L0.N0.w0": 0.149780716,
    "L0.N0.w1": 0.19956143,
    "L0.N1.w0": 0.24975114,
    "L0.N1.w1": 0.29950229,
    "L1.N0.w0": 0.35891648,
    "L1.N0.w1": 0.408666186,
    "L1.N1.w0": 0.511301270,
    "L1.N1.w1": 0.561370121,
}


def mazur(fused: bool = True):
    model = MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid", seed=0, fused=fused)
    for layer, rows, biases in zip(model.layers, MAZUR_W, MAZUR_B):
        for neuron, row, bias in zip(layer.neurons, rows, biases):
            for w, value in zip(neuron.w, row):
                w.data = value
            neuron.b.data = bias
    E = mse(model([0.05, 0.10]), [0.01, 0.99], reduction="half_sum")
    E.label = "E"
    return model, E


def test_the_textbook_2_2_2_example_step_by_step_with_its_published_numbers():
    model, E = mazur()
    steps = explain(E, model=model, lr=0.5)
    params = dict(model.named_parameters())
    assert math.isclose(E.data, 0.298371109, abs_tol=1e-9)
    assert math.isclose(params["L1.N0.w0"].grad, 0.082167041, abs_tol=1e-9)  # w5
    assert math.isclose(params["L0.N0.w0"].grad, 0.000438568, abs_tol=1e-9)  # w1
    new = {u.name: u.new for u in steps.updates}
    for name, value in MAZUR_NEW.items():
        assert math.isclose(new[name], value, abs_tol=1e-8), name
    assert params["L1.N0.w0"].data == 0.40  # explain shows the step and changes no parameter

    text = steps.to_text()
    # the forward pass and the loss
    assert (
        "L0.N0.net = L0.N0.w0 * x1 + L0.N0.w1 * x2 + L0.N0.b = 0.1500 * 0.05 + 0.2000 * 0.1 + 0.3500 = 0.3775"
        in text
    )
    assert "L0.N0 = sigmoid(L0.N0.net) = sigmoid(0.3775) = 0.5933" in text  # out_h1 = 0.593269992
    assert "The output: E = 0.2984" in text
    # the output neuron: the sigmoid's formula, then the delta rule for w5
    assert f"{D}L1.N0/{D}L1.N0.net = L1.N0 * (1 - L1.N0) = 0.7514 * (1 - 0.7514) = 0.1868" in text
    assert (
        f"dE/dL1.N0.w0 += delta * {D}L1.N0.net/{D}L1.N0.w0 = delta * L0.N0 = 0.1385 * 0.5933 = 0.08217"
        in text
    )
    # a hidden output gets a contribution from each output neuron, added up
    assert "dE/dL0.N0 = 0.05540 + (-0.01905) = 0.03635" in text  # Mazur: 0.055399425 - 0.019049119
    # small gradients keep their significant digits; the inputs are x1, x2
    assert (
        f"dE/dL0.N0.w0 += delta * {D}L0.N0.net/{D}L0.N0.w0 = delta * x1 = 0.008771 * 0.05000 = 4.386e-4"
        in text
    )
    # the update, with the sign explained
    assert "L1.N0.w0 <- L1.N0.w0 - 0.5 * dE/dL1.N0.w0 = 0.4000 - 0.5 * 0.08217 = 0.3589" in text
    assert "Minus, not plus" in text


def test_the_2_2_2_example_matches_torch_and_goes_layer_by_layer_from_the_output():
    model, E = mazur()
    steps = explain(E, model=model)
    neurons = [step.neuron for step in steps if step.neuron]
    assert neurons == ["L1.N0", "L1.N0", "L1.N1", "L1.N1", "L0.N0", "L0.N0", "L0.N1", "L0.N1"]
    assert [step.name for step in steps if step.neuron][:2] == ["L1.N0", "L1.N0.net"]
    assert [step.neuron for step in steps[:6]] == [None] * 6  # the loss first
    net = to_torch(model)
    loss = (
        0.5
        * (
            (
                net(torch.tensor([0.05, 0.10], dtype=torch.float64))
                - torch.tensor([0.01, 0.99], dtype=torch.float64)
            )
            ** 2
        ).sum()
    )
    loss.backward()
    ours = [p.grad for p in model.parameters()]
    theirs = [
        g
        for layer in net
        if hasattr(layer, "weight")
        for w, b in [(layer.weight.grad.tolist(), layer.bias.grad.tolist())]
        for row, bias in zip(w, b)
        for g in [*row, bias]
    ]
    assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)


def is_valid_backward_order(steps) -> bool:
    """Every node's step comes after the steps of all the nodes that use it."""
    done: set[int] = set()
    users: dict[int, set[int]] = {}
    for step in steps:
        for x in step.node._prev:
            users.setdefault(id(x), set()).add(id(step.node))
    for step in steps:
        if not users.get(id(step.node), set()) <= done:
            return False
        done.add(id(step.node))
    return True


@pytest.mark.parametrize("fused", [True, False])
def test_network_order_at_the_next_size_up_is_a_valid_backward_order_with_backwards_gradients(fused):
    model = MLP(2, [4, 4, 1], activation="tanh", seed=3, fused=fused)
    samples = [[0.5, -1.2], [1.5, 0.3]]
    loss = mse([model(x) for x in samples], [1.0, -1.0])
    steps = explain(loss, model=model, lr=0.1)
    assert is_valid_backward_order(steps)
    layers = [int(step.neuron[1]) for step in steps if step.neuron]
    assert layers == sorted(layers, reverse=True)  # the output layer first, then back
    explained = {p: p.grad for p in model.parameters()}
    for p in model.parameters():
        p.grad = 0.0
    loss.backward()
    assert all(explained[p] == p.grad for p in model.parameters())  # .grad is backward's, bit for bit
    final = steps.grads_after(len(steps))  # and the steps' own sums agree to rounding
    assert all(
        math.isclose(final[p], p.grad, rel_tol=1e-12, abs_tol=1e-15) for p in model.parameters() if p in final
    )
    names = set(steps.names.values())
    if fused:
        assert {"L0.N3#1", "L0.N3.net#2", "L2.N0#1"} <= names  # hidden outputs after their neuron, per sample
        assert not any(re.fullmatch(r"n\d+", steps.names[step.node]) for step in steps if step.neuron)
        assert "x1#2" in steps.to_text()  # the second sample's first input


def test_the_structure_is_found_from_parameter_labels_when_no_model_is_given():
    model, E = mazur()
    with_model, from_labels = explain(E, model=model), explain(E)
    assert [s.name for s in with_model] == [s.name for s in from_labels]
    assert node_names(E)[E._prev[0]] == "n5"


# ----------------------------------------------------------------------------------------------
# The steps, by hand


def test_each_step_writes_the_formula_then_the_numbers_then_the_value(lecture_graph):
    nodes = lecture_graph()
    steps = explain(nodes["L"])
    by_node = {step.name: step for step in steps}
    assert [step.name for step in steps] == ["L", "e", "d", "c"]
    c = by_node["c"]
    assert (c.op, c.upstream) == ("*", 2.0)  # dL/dc = f = 2
    assert [(t.name, t.local_grad, t.formula) for t in c.terms] == [("a", -3.0, "b"), ("b", 2.0, "a")]
    text = steps.to_text()
    assert f"{D}c/{D}a = b = -3.000\n  dL/da += dL/dc * {D}c/{D}a = 2.000 * (-3.000) = -6.000" in text
    assert "dL/da = 4.000 + (-6.000) = -2.000" in text  # via e first (4), then via c (-6): by hand -2
    assert "c = a * b = 2.000 * (-3.000) = -6.000" in text  # forward
    assert "e = a * 4 = 2.000 * 4 = 8.000" in text  # a constant written as typed
    x = Value(0.5, label="n")
    o = x.tanh()
    o.label = "o"
    assert f"{D}o/{D}n = 1 - o^2 = 1 - 0.4621^2 = 0.7864" in explain(o).to_text()  # 1 - tanh(0.5)^2


def test_the_first_step_is_not_circular_and_total_and_local_derivatives_look_different(lecture_graph):
    steps = explain(lecture_graph()["L"])
    text, markdown, latex = steps.to_text(), steps.to_markdown(), steps.to_latex()
    assert f"dL/dd += dL/dL * {D}L/{D}d = 1.000 * 1.000 = 1.000" in text
    assert f"`dL/dd += dL/dL * {D}L/{D}d = 1.000 * 1.000 = 1.000`" in markdown
    assert (
        r"\frac{\mathrm{d}L}{\mathrm{d}d} &\mathrel{+}= "
        r"\frac{\mathrm{d}L}{\mathrm{d}L} \, \frac{\partial L}{\partial d}"
        in latex
    )
    page = steps.to_html()
    assert f"dL/dd += dL/dL * {D}L/{D}d" in page


def test_the_same_operand_twice_accumulates_twice():
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    (step,) = explain(y)
    assert [t.contribution for t in step.terms] == [3.0, 3.0]
    assert "dy/dx = 3.000 + 3.000 = 6.000" in str(explain(y))
    assert x.grad == 6.0  # d(x^2)/dx = 2x


def test_a_label_with_operators_is_parenthesised():
    x1, w1, x2, w2 = (Value(v, label=n) for v, n in ((2.0, "x1"), (-3.0, "w1"), (0.0, "x2"), (1.0, "w2")))
    s = x1 * w1 + x2 * w2
    s.label = "x1*w1 + x2*w2"
    o = s.tanh()
    o.label = "o"
    text = explain(o).to_text()
    assert f"{D}o/{D}(x1*w1 + x2*w2) = 1 - o^2" in text
    assert "do/d(x1*w1 + x2*w2) += do/do" in text
    assert r"\partial \left(\text{x1*w1 + x2*w2}\right)" in explain(o).to_latex()


def test_a_linear_node_is_the_delta_rule_with_each_weight_and_input():
    w1, w2, x1, x2 = (Value(v, label=n) for v, n in ((0.5, "w1"), (-1.0, "w2"), (2.0, "x1"), (3.0, "x2")))
    out = linear([w1, w2], [x1, x2], 0.25)
    out.label = "out"
    (step,) = explain(out)
    # backward adds into w_i and x_i in pairs, then b: d out/d w_i = x_i, d out/d x_i = w_i
    assert [(t.name, t.local_grad, t.formula) for t in step.terms] == [
        ("w1", 2.0, "x_i"),
        ("x1", 0.5, "w_i"),
        ("w2", 3.0, "x_i"),
        ("x2", -1.0, "w_i"),
        ("0.25", 1.0, "1"),
    ]
    text = explain(out).to_text()
    assert "out = w1 * x1 + w2 * x2 + 0.25 = 0.5000 * 2.000 + -1.000 * 3.000 + 0.25 = -1.750" in text
    assert f"dout/dw2 += delta * {D}out/{D}w2 = delta * x2 = 1.000 * 3.000 = 3.000" in text


def test_every_op_of_the_table_is_shown_with_its_formula():
    for key, rule in RULES.items():
        assert rule.formula, f"{key} has no formula"
    x, y = Value(0.7, label="x"), Value(1.3, label="y")
    out = total(
        [
            x.exp(),
            x.log(),
            x.sqrt(),
            x.sigmoid(),
            x.relu(),
            abs(x),
            -x,
            x / y,
            x**y,
            x**3,
            x - y,
            x.sin(),
            x.cos(),
            x.leaky_relu(),
            x.softplus(),
            x.max(y),
            x.min(y),
        ]
    )
    out.label = "out"
    text = explain(out).to_text()
    assert "no formula" not in text
    # by hand: d(x/y)/dy = -x/y^2 = -0.7/1.69; d(x^y)/dy = x^y log x
    assert f"{D}n8/{D}y = -x / y^2 = -0.7000 / 1.300^2 = -0.4142" in text
    assert f"{D}n9/{D}y = n9 * log(x) = 0.6290 * log(0.7000) = -0.2243" in text
    assert f"{D}n17/{D}x = 1 if x <= y else 0 = 1 if 0.7000 <= 1.300 else 0 = 1.000" in text


def test_a_classic_node_shows_its_numbers_and_says_it_has_no_formula():
    x = Value(0.5, label="x")
    out = Value(math.sin(x.data), (x,), "sin")

    def _backward():
        x.grad += math.cos(x.data) * out.grad

    out._backward = _backward
    y = out * 2.0
    y.label = "y"
    steps = explain(y)
    text = steps.to_text()
    assert "no formula" in text and "the classic way" in text
    assert f"dy/dx += {number(2 * math.cos(0.5))}" in text  # 2 cos(0.5), by hand
    assert x.grad == 2 * math.cos(0.5)


# ----------------------------------------------------------------------------------------------
# The same gradients as backward() and torch


OPS = [
    "add",
    "sub",
    "mul",
    "div",
    "tanh",
    "sigmoid",
    "relu",
    "square",
    "neg",
    "abs",
    "exp",
    "linear",
    "sum",
    "cmul",
]


def build(leaves, program, lib):
    """Build the same expression with micrograd ('mg') or torch ('torch'); every node in creation order."""
    nodes = list(leaves)
    for op, i, j, k in program:
        a, b, c = nodes[i % len(nodes)], nodes[j % len(nodes)], nodes[k % len(nodes)]
        if op == "add":
            out = a + b
        elif op == "sub":
            out = a - b
        elif op == "mul":
            out = a * b
        elif op == "div":
            out = a / (b * b + 1.0)
        elif op == "tanh":
            out = a.tanh() if lib == "mg" else torch.tanh(a)
        elif op == "sigmoid":
            out = a.sigmoid() if lib == "mg" else torch.sigmoid(a)
        elif op == "relu":
            out = a.relu() if lib == "mg" else torch.relu(a)
        elif op == "square":
            out = a**2
        elif op == "neg":
            out = -a
        elif op == "abs":
            out = abs(a)
        elif op == "exp":
            out = a.tanh().exp() if lib == "mg" else torch.exp(torch.tanh(a))
        elif op == "linear":  # w = (a, b), x = (c, 0.5), bias 0.25
            out = linear([a, b], [c, 0.5], 0.25) if lib == "mg" else a * c + b * 0.5 + 0.25
        elif op == "sum":
            out = total([a, b, c, 1.5]) if lib == "mg" else a + b + c + 1.5
        else:
            out = 2.5 * a
        nodes.append(out)
    return nodes


@settings(max_examples=40)
@example(leaves=[1.192092896e-07], program=[("linear", 0, 0, 0)])
@given(
    leaves=st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=1, max_size=4),
    program=st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 50), st.integers(0, 50), st.integers(0, 50)),
        min_size=1,
        max_size=8,
    ),
)
def test_explain_walks_as_backward_and_leaves_every_grad_as_backward_and_torch(leaves, program):
    explained = build([Value(x) for x in leaves], program, "mg")
    steps = explain(explained[-1])
    reference = build([Value(x) for x in leaves], program, "mg")
    reference[-1].backward()
    assert [n.grad for n in explained] == [n.grad for n in reference]  # bit for bit, every node
    final = steps.grads_after(len(steps))
    assert all(final[n] == n.grad for n in explained if n in final)  # the steps ARE backward's additions
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    build(tensors, program, "torch")[-1].backward()
    for node, tensor in zip(explained, tensors):
        expected = 0.0 if tensor.grad is None else tensor.grad.item()
        assert math.isclose(node.grad, expected, rel_tol=1e-9, abs_tol=1e-12), (node.grad, expected)


def test_fresh_gradients_one_pass_whatever_grad_held_before(lecture_graph):
    fresh, used = lecture_graph(), lecture_graph()
    fresh_steps = explain(fresh["L"])
    used["L"].backward()
    used["L"].backward()  # the leaves now hold two passes (as in torch)
    used_steps = explain(used["L"])
    again = explain(used["L"])
    assert str(used_steps) == str(fresh_steps) == str(again)
    # afterwards .grad holds one pass from zero: by hand dL/da = dL/dc * dc/da + 4 = 2 * -3 + 4 = -2
    assert used["a"].grad == fresh["a"].grad == -2.0
    a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    ((a * -3.0) * 2.0 + a * 4.0).backward()
    assert used["a"].grad == a.grad.item()


def test_a_zero_upstream_is_skipped_as_backward_skips_it_even_where_a_local_derivative_is_undefined():
    x, z = Value(0.0, label="x"), Value(0.0, label="z")
    r = x.sqrt()  # d sqrt(x)/dx = 0.5 / sqrt(x): undefined at 0
    r.label = "r"
    t = x * 3.0
    t.label = "t"
    y = r * z + t
    y.label = "y"
    steps = explain(y)
    assert (x.grad, z.grad, r.grad) == (3.0, 0.0, 0.0)
    (skipped,) = [step for step in steps if step.name == "r"]
    assert skipped.skipped and skipped.updated() == []
    assert "dy/dr = 0, so backward skips r" in steps.to_text()
    data = json.loads(steps.to_html().split('class="mg-data">')[1].split("</script>")[0])
    assert data["steps"][skipped.number - 1] == {}


def test_nothing_behind_a_relu_at_zero_gets_a_step_as_in_backward():
    x = Value(2.0, label="x")
    s = x - 2.0
    s.label = "s"
    r = s.relu()
    r.label = "r"
    out = r * 3.0 + x
    out.label = "out"
    steps = explain(out)
    assert "s" not in [step.name for step in steps]
    assert (x.grad, s.grad) == (1.0, 0.0)  # d out/dx = 0 * 3 + 1, by hand


def test_explain_raises_where_backward_raises():
    w = Value(0.0).sqrt()  # d sqrt(x)/dx = 1 / (2 sqrt(x)): infinite at 0, with an upstream of 1
    with pytest.raises(ZeroDivisionError) as from_backward:
        w.backward()
    with pytest.raises(ZeroDivisionError) as from_explain:
        explain(w)
    assert str(from_explain.value) == str(from_backward.value)


def test_a_leaf_has_nothing_to_explain_and_bad_arguments_are_refused():
    x = Value(1.0, label="x")
    steps = explain(x)
    assert len(steps) == 0 and x.grad == 1.0
    assert "nothing to backpropagate" in steps.to_text()
    with pytest.raises(TypeError, match="root must be a Value, got float 2.0"):
        explain(2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="digits must be a whole number from 1 to 17, got 0"):
        explain(x, digits=0)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        explain(x, lr=float("nan"))
    with pytest.raises(ValueError, match="not both"):
        explain(x, lr=0.1, optimizer=SGD([x]))
    with pytest.raises(ValueError, match="order='sideways'"):
        explain(x, order="sideways")


# ----------------------------------------------------------------------------------------------
# The update step


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: (SGD(ps, lr=0.1, momentum=0.9), lambda tp: torch.optim.SGD(tp, lr=0.1, momentum=0.9)),
        lambda ps: (Adam(ps, lr=0.01), lambda tp: torch.optim.Adam(tp, lr=0.01)),
    ],
)
def test_the_update_with_an_optimizer_is_its_step_and_explain_undoes_it(make):
    model = MLP(2, [3, 1], activation="tanh", seed=5)
    loss = mse([model([0.3, -0.7])], [0.5])
    optimizer, make_torch = make(model.parameters())
    before = [p.data for p in model.parameters()]
    steps = explain(loss, model=model, optimizer=optimizer)
    assert [p.data for p in model.parameters()] == before and optimizer.steps == 0  # nothing changed
    net = to_torch(model)
    torch_optimizer = make_torch(net.parameters())
    ((net(torch.tensor([0.3, -0.7], dtype=torch.float64)) - 0.5) ** 2).sum().backward()  # mse of one
    torch_optimizer.step()
    theirs = [
        v
        for layer in net
        if hasattr(layer, "weight")
        for row, b in zip(layer.weight.tolist(), layer.bias.tolist())
        for v in [*row, b]
    ]
    new = {u.param: u.new for u in steps.updates}
    assert [new[p] for p in model.parameters()] == pytest.approx(theirs, rel=1e-12)
    optimizer.step()  # the real step gives what the lesson showed
    assert [p.data for p in model.parameters()] == [new[p] for p in model.parameters()]


# ----------------------------------------------------------------------------------------------
# Numbers that add up


@settings(max_examples=300)
@given(st.lists(st.floats(1e-6, 1e2) | st.floats(-1e2, -1e-6), min_size=2, max_size=6), st.integers(1, 8))
def test_shown_terms_add_up_to_the_shown_total_for_gradients_spanning_1e_6_to_1e2(terms, digits):
    result = 0.0
    for t in terms:
        result += t  # as backward adds them
    shown, shown_total = add_up(terms, result, digits)
    places = len(shown_total.split(".")[1]) if "." in shown_total else 0
    unit = Decimal(1).scaleb(-places)
    added = sum(Decimal(s) for s in shown)
    assert abs(added - Decimal(shown_total)) <= unit / 2  # adding the shown terms gives the shown total
    assert abs(Decimal(shown_total) - Decimal(result)) <= unit / 2  # which is the true total, rounded
    big = max(terms, key=abs)
    assert float(number(big, digits)) == float(f"{big:.{digits - 1}e}")  # a number alone: its digits


def test_every_sum_in_every_rendering_adds_up_on_a_graph_spanning_1e_6_to_1e2():
    x = Value(0.37, label="x")
    parts = [x * c for c in (1e2, -3.3e-6, 7.1e-3, 0.55, -41.0, 2.2e-5)]
    out = total(parts)
    out.label = "out"
    steps = explain(out)
    for rendering in (steps.to_text(), steps.to_markdown()):
        sums = re.findall(r"dout/dx = ((?:[-\d.e()]+ \+ )+[-\d.e()]+) = ([-\d.e]+)", rendering)
        assert sums
        for terms, shown_total in sums:
            added = sum(Decimal(t.strip("()")) for t in terms.split(" + "))
            places = len(shown_total.split(".")[1]) if "." in shown_total else 0
            assert abs(added - Decimal(shown_total)) <= Decimal(1).scaleb(-places) / 2, (terms, shown_total)
    assert "-3.300e-6" in steps.to_text()  # a tiny local derivative keeps its digits
    assert x.grad == pytest.approx(sum((1e2, -3.3e-6, 7.1e-3, 0.55, -41.0, 2.2e-5)), rel=1e-15)


def test_digits_sets_the_significant_digits_and_small_gradients_keep_theirs():
    model, E = mazur()
    assert "4.386e-4" in explain(E, model=model).to_text()  # 0.000438568, never 0.0004
    six = explain(E, model=model, digits=6).to_text()
    assert "= 0.0821670" in six and "4.38568e-4" in six


# ----------------------------------------------------------------------------------------------
# Renderings


def test_markdown_writes_equations_as_code_and_labels_literally():
    a = Value(2.0, label="a|b*`$")
    out = a * 3.0
    out.label = "out_1"
    markdown = explain(out).to_markdown()
    assert "#### Step 1/1: `out_1 = a|b*`$ * 3`" not in markdown  # a backtick in a label lengthens the fence
    assert "#### Step 1/1: `` out_1 = (a|b*`$) * 3 ``" in markdown
    assert (
        f"- `` dout_1/d(a|b*`$) += dout_1/dout_1 * {D}out_1/{D}(a|b*`$) = 1.000 * 3.000 = 3.000 ``"
        in markdown
    )


def test_latex_names_are_math_with_subscripts(lecture_graph):
    x1 = Value(2.0, label="x1")
    e = Value(0.5, label="E_total") * x1
    e.label = "L0.N1.w0"
    latex = explain(e).to_latex()
    assert "x_{1}" in latex and r"E_{\mathrm{total}}" in latex and r"\text{L0.N1.}w_{0}" in latex
    assert latex.count(r"\begin{align*}") == latex.count(r"\end{align*}") == 1
    model, E = mazur()
    network = explain(E, model=model).to_latex()
    assert r"n_{3} &= \text{L1.N1} - 0.99 = 0.7729 - 0.99 = -0.2171" in network  # a neuron's name is upright
    assert r"\text{L0.N0.}w_{0} \cdot x_{1}" in network  # a weight times the first input
    document = explain(lecture_graph()["L"]).to_latex(document=True)
    assert document.startswith("% !TEX program = pdflatex\n\\documentclass{article}")


def pdflatex() -> str:
    path = shutil.which("pdflatex")
    if path is None:
        pytest.fail(
            "pdflatex is not installed. Install it with:  sudo apt-get install -y texlive-latex-base"
            "   (or run `make test`, which installs it)"
        )
    return path


@pytest.mark.parametrize("label", ["α", "β_1", "é", "中", "😀", "a_1 & {x} 50% $\\ ~^#", "x1*w1 + x2*w2"])
def test_latex_document_compiles_with_pdflatex_whatever_the_names(tmp_path, label):
    model, E = mazur()
    a = Value(0.5, label=label)
    loss = E * a + a.tanh()
    loss.label = label + "2"
    source = explain(loss, model=model, lr=0.5).to_latex(document=True)
    (tmp_path / "lesson.tex").write_text(source, encoding="utf-8")
    result = subprocess.run(
        [pdflatex(), "-interaction=nonstopmode", "-halt-on-error", "lesson.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "lesson.pdf").read_bytes().startswith(b"%PDF")


def test_the_cli_takes_non_ascii_names_and_its_latex_compiles(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "micrograd",
            "explain",
            "tanh(α*x)",
            "α=0.5",
            "x=2",
            "--format",
            "latex",
            "--lr",
            "0.1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert r"\alpha" in result.stdout
    body = result.stdout
    document = (
        "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amsmath}\n\\begin{document}\n"
    )
    (tmp_path / "cli.tex").write_text(document + body + "\\end{document}\n", encoding="utf-8")
    compiled = subprocess.run(
        [pdflatex(), "-interaction=nonstopmode", "-halt-on-error", "cli.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert compiled.returncode == 0, compiled.stdout[-3000:]


def svg_boxes(path: Path) -> dict[str, list[str]]:
    root = ET.parse(path).getroot()
    return {
        g.get("id"): ["".join(t.itertext()) for t in g.iter(f"{SVG}text")]
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "node" and re.fullmatch(r"v\d+", g.get("id", ""))
    }


def test_render_steps_lays_the_graph_out_once_and_each_image_shows_its_step(
    tmp_path, lecture_graph, monkeypatch
):
    # a dot on the PATH that writes down how it was called, then runs the real one
    real = shutil.which("dot")
    shim = tmp_path / "bin"
    shim.mkdir()
    log = tmp_path / "calls"
    (shim / "dot").write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {real} "$@"\n')
    (shim / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}:{Path(real).parent}")
    nodes = lecture_graph()
    steps = explain(nodes["L"])
    paths = steps.render_steps(tmp_path / "steps")
    calls = log.read_text().splitlines()
    layouts = [call for call in calls if "-n2" not in call.split()]
    assert len(layouts) == 1 and len(calls) == 2  # one layout, one drawing of it, restyled per step
    assert [p.name for p in paths] == ["step-001.svg", "step-002.svg", "step-003.svg", "step-004.svg"]
    c_index = [s.name for s in steps].index("c")
    boxes = {texts[0]: texts for texts in svg_boxes(paths[c_index]).values()}
    # after c's step (the last), a and b hold their final gradients: by hand dL/db = 2 * 2 = 4, dL/da = -2
    assert boxes["b"][-1] == "grad 4.0000" and boxes["a"][-1] == "grad -2.0000"
    boxes = {texts[0]: texts for texts in svg_boxes(paths[0]).values()}
    assert boxes["b"][-1] == "grad 0.0000" and boxes["d"][-1] == "grad 1.0000"  # after L's step only
    for step, path in zip(steps, paths):
        red = [
            g.get("id")
            for g in ET.parse(path).getroot().iter(f"{SVG}g")
            if g.get("class") == "node"
            and re.fullmatch(r"v\d+", g.get("id", ""))
            and any(p.get("stroke") == HIGHLIGHT for p in g.iter(f"{SVG}polygon"))
        ]
        assert [svg_boxes(path)[i][0] for i in red] == [step.name]

    # the same geometry in every picture: only colours and numbers change
    def centres(path):
        return [(e.get("cx"), e.get("cy")) for e in ET.parse(path).getroot().iter(f"{SVG}ellipse")]

    assert len(centres(paths[0])) == 4 and all(centres(p) == centres(paths[0]) for p in paths)
    log.write_text("")
    png = steps.render_steps(tmp_path / "png", format="png")
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in png) and len(png) == 4
    calls = log.read_text().splitlines()
    assert len([call for call in calls if "-n2" not in call.split()]) == 1  # PNGs: the same one layout
    assert len(calls) == 3  # and the layout's positions, then every step drawn in one more run
    with pytest.raises(ValueError, match="format='gif'"):
        steps.render_steps(tmp_path, format="gif")
    with pytest.raises(ValueError, match="highlight"):
        steps.render_steps(tmp_path, highlight=[nodes["a"]])


def test_html_page_is_one_self_contained_file_written_atomically(tmp_path, lecture_graph):
    nodes = lecture_graph()
    nodes["b"].label = "</script><script>alert(1)</script> @DATA@"
    steps = explain(nodes["L"], lr=0.1)
    path = tmp_path / "page.html"
    page = steps.to_html(path)
    assert path.read_text(encoding="utf-8") == page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]
    assert page.count("<script") == 2 and page.count("<svg") == 1
    assert page.count('<section class="mg-panel"') == 4 + 4 + 1  # forward, backward, update
    assert 'id="step-4"' in page and 'id="forward-1"' in page and 'id="update"' in page
    lowered = page.lower()
    for loader in ("<link", "<img", "<iframe", "@import", "url(", "src=", "fetch(", "xmlhttprequest"):
        assert loader not in lowered
    assert re.findall(r"https?://[^\s\"'<>]+", page) in (
        [],
        ["http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"],
    )
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; @DATA@" in page
    # the update, by hand: a <- 2 - 0.1 * (-2) = 2.2
    assert "a &lt;- a - 0.1 * dL/da = 2.000 - 0.1 * (-2.000) = 2.200" in page


def test_jupyter_shows_the_stepper_and_markdown(lecture_graph):
    steps = explain(lecture_graph()["L"])
    widget = steps._repr_html_()
    assert widget.lstrip().startswith('<div class="mg-explain"') and "<html" not in widget
    assert widget.count("<svg") == 1 and "<script>" in widget and 'data-page="0"' in widget
    assert 'id="step-1"' not in widget  # several widgets in one notebook: no clashing ids
    assert "dL/da = 4.000 + (-6.000) = -2.000" in widget
    assert "src=" not in widget.lower() and "<link" not in widget.lower()
    markdown = steps._repr_markdown_()
    assert "- `dL/da = 4.000 + (-6.000) = -2.000`" in markdown


def test_quiz_pages_hold_each_answer_for_the_page_to_check(lecture_graph):
    steps = explain(lecture_graph()["L"])
    page = steps.to_html(quiz=True)
    answers = [float(v) for v in re.findall(r'data-answer="([^"]+)"', page)]
    # per operand of each backward step: its local derivative and its new gradient, by hand:
    # L = d + e: 1, 1 and 1, 1; e = a * 4: 4, 4; d = c * f: f = 2, 2 and c = -6, -6;
    # c = a * b: b = -3, -2 and a = 2, 4
    assert answers == [1, 1, 1, 1, 4, 4, 2, 2, -6, -6, -3, -2, 2, 4]
    assert 'data-quiz="1"' in page and page.count('class="mg-working" hidden') == 4


def test_pictures_without_dot_say_how_to_install_graphviz(tmp_path, monkeypatch, lecture_graph):
    steps = explain(lecture_graph()["L"])
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(GraphvizNotFound, match="apt-get install -y graphviz"):
        steps.to_html(tmp_path / "page.html")
    with pytest.raises(GraphvizNotFound, match="apt-get install -y graphviz"):
        steps.render_steps(tmp_path / "steps")
    assert "dL/da" in steps.to_text()  # the text renderings need no Graphviz
