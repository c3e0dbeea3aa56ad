"""The smoke suite: run under every Python 3.10 to 3.13 on the machine (``tests/smoke/run.py``).

It needs only the core's pure-Python packages (graphviz, tqdm) and pytest: no torch, no numpy,
no matplotlib. Each test checks the three jobs against an independent oracle: numbers worked by
hand, central finite differences, or a forward pass written out in plain Python floats.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from micrograd import Value
from micrograd.data import make_moons
from micrograd.engine import topological_order
from micrograd.explain import explain
from micrograd.nn import MLP
from micrograd.training import accuracy, fit
from micrograd.viz import render

REPO = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"
NEURON = "tanh(x1*w1 + x2*w2 + b)"
NEURON_VALUES = ["x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432"]


def test_which_python_runs_this():
    # the runner asks for 3.10 .. 3.13: anything else means it picked the wrong interpreter
    assert (3, 10) <= sys.version_info[:2] <= (3, 13)


# ----------------------------------------------------------------------------------------------
# The engine


def test_gradients_of_a_small_expression_are_the_hand_derived_ones():
    a, b = Value(2.0), Value(-3.0)
    c = a * b + b**2  # -6 + 9 = 3
    c.backward()
    # dc/da = b = -3; dc/db = a + 2b = 2 - 6 = -4
    assert (c.data, a.grad, b.grad) == (3.0, -3.0, -4.0)


def test_the_classic_neuron_backpropagates_as_worked_by_hand():
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    out = (x1 * w1 + x2 * w2 + b).tanh()
    out.backward()
    # tanh(0.8814) = 1/sqrt(2); its local derivative 1 - 1/2 = 0.5 times each weight or input
    assert out.data == pytest.approx(1 / math.sqrt(2), abs=1e-12)
    grads = [x1.grad, w1.grad, x2.grad, w2.grad, b.grad]
    assert grads == pytest.approx([-1.5, 1.0, 0.5, 0.0, 0.5], abs=1e-12)


def central_difference(f, xs: list[float], i: int, h: float = 1e-6) -> float:
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    return (f(*map(Value, up)).data - f(*map(Value, down)).data) / (2 * h)


FUNCTIONS = {
    "mul-add-pow": (lambda x, y: x * y + x**3 - y / x, [1.3, -0.7]),
    "tanh-exp": (lambda x, y: (x * y).tanh() * x.exp(), [0.4, 1.1]),
    "log-sqrt": (lambda x, y: (x * x + y).log() + (y * 2.0).sqrt(), [0.9, 1.7]),
    "sigmoid-relu-abs": (lambda x, y: (x - y).sigmoid() + (x * 3.0).relu() + (y - 2.0).abs(), [0.5, 0.8]),
    "value-power": (lambda x, y: x**y, [1.5, 2.5]),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_backward_matches_central_finite_differences(name):
    f, xs = FUNCTIONS[name]
    leaves = [Value(x) for x in xs]
    f(*leaves).backward()
    for i, leaf in enumerate(leaves):
        assert leaf.grad == pytest.approx(central_difference(f, xs, i), rel=1e-6, abs=1e-8), (name, i)


def test_a_deep_chain_backpropagates_without_recursion():
    x = Value(1.0)
    y = x
    for _ in range(20_000):  # far past Python's recursion limit
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0 and len(topological_order(y)) > 40_000


# ----------------------------------------------------------------------------------------------
# Training


def plain_forward(model: MLP, x: list[float]) -> float:
    """The MLP's forward pass in plain floats, read from its weights: relu hidden, linear output."""
    h = x
    for layer in model.layers:
        h = [sum(w.data * xi for w, xi in zip(n.w, h)) + n.b.data for n in layer.neurons]
        if layer.activation == "relu":
            h = [max(0.0, v) for v in h]
    return h[0]


def test_the_first_loss_is_the_hinge_loss_computed_in_plain_floats():
    X, y = make_moons(20, noise=0.1, seed=1)
    model = MLP(2, [4, 1], seed=3)
    scores = [plain_forward(model, x) for x in X]
    hinge = sum(max(0.0, 1.0 - (2 * c - 1) * s) for s, c in zip(scores, y)) / len(X)
    l2 = 1e-4 * sum(p.data**2 for p in model.parameters())
    history = fit(model, X, y, steps=1, progress=False)
    assert history.loss[0] == pytest.approx(hinge + l2, rel=1e-12)


def test_the_classic_moons_run_fits_its_training_set():
    # the classic micrograd demo: 100 moons, MLP(2, [16, 16, 1]), 100 steps of SGD -> 100% accuracy
    X, y = make_moons(100, noise=0.1, seed=1)
    model = MLP(2, [16, 16, 1], seed=1)
    history = fit(model, X, y, steps=100, progress=False)
    assert history.loss[-1] < history.loss[0] / 5
    assert accuracy(model, X, y) == 1.0


# ----------------------------------------------------------------------------------------------
# Pictures and the explanation


def test_a_rendered_graph_shows_every_value_and_gradient(tmp_path):
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    out = c * 2.0 + a * 4.0
    out.label = "L"
    out.backward()
    path = render(out, tmp_path / "graph.svg")
    svg = ET.fromstring(path.read_text())
    boxes = {}
    for group in svg.iter(f"{SVG}g"):
        texts = ["".join(t.itertext()) for t in group.iter(f"{SVG}text")]
        if "node" in (group.get("class") or "") and len(texts) == 3:
            boxes[texts[0]] = texts[1:]
    # L = 2ab + 4a = -12 + 8 = -4; dL/da = 2b + 4 = -2, dL/db = 2a = 4, dL/dc = 2 (4 significant digits)
    assert boxes["L"] == ["data -4.000", "grad 1.000"]
    assert boxes["a"] == ["data 2.000", "grad -2.000"]
    assert boxes["b"] == ["data -3.000", "grad 4.000"]
    assert boxes["c"] == ["data -6.000", "grad 2.000"]


def numbers(text: str) -> list[float]:
    """The numbers of a sum as explain writes it: '4.000 + (-3.000)' -> [4.0, -3.0]."""
    return [float(term.strip().strip("()")) for term in text.split(" + ")]


def test_explain_adds_both_paths_into_a_value_used_twice():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = a * b + a * 4.0
    out.label = "L"
    text = explain(out).to_text()
    # dL/da = b + 4 = 1: the two contributions, -3 and 4, added in the order backward reaches them
    (total,) = re.findall(r"^ *dL/da = (.+) = (\S+)$", text, re.MULTILINE)
    assert sorted(numbers(total[0])) == [-3.0, 4.0] and float(total[1]) == 1.0


# ----------------------------------------------------------------------------------------------
# The command line, as a user runs it


def micrograd(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "micrograd", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_draw_writes_the_graph_and_prints_the_hand_derived_gradients(tmp_path):
    result = micrograd("draw", NEURON, *NEURON_VALUES, "-o", "neuron.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:6] == [
        f"out = {NEURON} = 0.707107",
        "  dout/dx1 = -1.5",
        "  dout/dw1 = 1",
        "  dout/dx2 = 0.5",
        "  dout/dw2 = 0",
        "  dout/db = 0.5",
    ]
    assert ">grad -1.500<" in html.unescape((tmp_path / "neuron.svg").read_text())  # dot writes - as &#45;


def test_cli_explain_prints_the_chain_rule_in_numbers(tmp_path):
    result = micrograd("explain", "x*x + x", "x=3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # d(x*x + x)/dx = 2x + 1 = 7: 1 from the sum, and 3 from each operand of the product
    contributions = re.findall(r"dout/dx \+= .* = (\S+)$", result.stdout, re.MULTILINE)
    assert sorted(float(c) for c in contributions) == [1.0, 3.0, 3.0]
    assert float(re.findall(r"dout/dx = .* = (\S+)$", result.stdout, re.MULTILINE)[-1]) == 7.0


def test_cli_train_saves_a_model_that_predicts_as_it_reported(tmp_path):
    result = micrograd("train", "moons", "--steps", "100", "--quiet", "--save", "m.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "training accuracy 100.0%" in result.stdout
    document = json.loads((tmp_path / "m.json").read_text())
    model = MLP.from_file(tmp_path / "m.json")
    assert len(model.parameters()) == 337 == 3 * 16 + 17 * 16 + 17  # (inputs + 1) weights per neuron
    assert document["architecture"]["nouts"] == [16, 16, 1]
    X, y = make_moons(100, noise=0.1, seed=1)
    assert all((plain_forward(model, x) > 0) == bool(c) for x, c in zip(X, y))


def test_cli_training_that_diverges_stops_with_the_step_and_a_hint(tmp_path):
    result = micrograd("train", "moons", "--lr", "1000", "--quiet", cwd=tmp_path)
    assert result.returncode == 1
    assert re.search(r"training diverged at step \d+ of 100: .*try a smaller --lr", result.stderr)
