"""The guard before dot: a graph dot is predicted to spend more than a few seconds on is refused at
once, with the figure and the way to draw it anyway; the graphs a teacher draws still draw.

The prediction (``micrograd/viz/cost.py``) is fitted to dot's times measured by
``demos/dot_timing.py``: the graphs refused here took dot 15 s to a minute when measured.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time

import pytest
from test_demos import DEMOS, REPO

sys.path.insert(0, str(DEMOS))
from dot_timing import random_expression  # noqa: E402  (the graphs dot's time was measured on)

sys.path.remove(str(DEMOS))

from micrograd.cli import NEURON, NEURON_VALUES
from micrograd.engine import Value
from micrograd.nn import MLP
from micrograd.parser import build
from micrograd.viz import MAX_SECONDS, TooLargeToDraw, draw_dot, render


def refused(root: Value, **options) -> TooLargeToDraw:
    start = time.perf_counter()
    with pytest.raises(TooLargeToDraw) as caught:
        draw_dot(root, **options)
    assert time.perf_counter() - start < 5.0, "the refusal itself must be quick"
    return caught.value


def test_a_graph_dot_would_take_long_on_is_refused_at_once_with_the_figure_and_the_way_out():
    error = refused(random_expression(300, 1))
    message = str(error)
    assert error.option == "max_seconds" and error.needed > MAX_SECONDS
    assert f"more than max_seconds={MAX_SECONDS:g}" in message
    assert f"Pass max_seconds={error.needed} to draw it anyway" in message
    assert "hidden nodes where edges cross ranks" in message
    # the way out is accepted (draw_dot itself runs no dot)
    assert draw_dot(random_expression(300, 1), max_seconds=error.needed).cost.seconds <= error.needed


def test_an_unfused_wide_network_is_refused_and_collapse_is_offered_with_its_own_figure():
    model = MLP(2, [16, 16, 1], fused=False, seed=0)
    loss = (model([1.0, -2.0]) - 1.0) ** 2
    error = refused(loss, model=model, max_nodes=5000)
    # 33 neuron boxes, the inputs x0 and x1, and the loss's 2 values and 2 constants: 39, by hand
    assert "collapse=True to draw one box per neuron (39 nodes" in str(error)
    assert draw_dot(loss, model=model, collapse=True).cost.seconds < 1.0


def seed_graphs():
    sys.path.insert(0, str(DEMOS))
    try:
        for name in ("000_two_layer_rules", "001_delta_rule", "002_tanh_output_delta", "003_gradient_shapes"):
            demo = importlib.import_module(name)
            yield (
                name,
                demo.build(
                    *(
                        [demo.ACTIVATIONS["tanh"][2], *demo.initial_weights()]
                        if name.startswith("000")
                        else [demo.initial_weights()]
                        if name[:3] in ("001",)
                        else demo.initial_weights()
                    )
                )[0],
            )
        demo = importlib.import_module("004_sigmoid_chain")
        yield "004_sigmoid_chain", demo.build(demo.initial_weights())[0]
    finally:
        sys.path.remove(str(DEMOS))


def teaching_graphs():
    out, _ = build(NEURON, NEURON_VALUES)
    yield "the classic neuron", out, {}
    for fused in (True, False):
        model = MLP(2, [4, 4, 1], fused=fused, seed=0)
        loss = (model([1.0, -2.0]) - 1.0) ** 2
        yield f"MLP(2, [4, 4, 1]) fused={fused}", loss, {"model": model}
        yield f"MLP(2, [4, 4, 1]) fused={fused} collapsed", loss, {"model": model, "collapse": True}
    for name, root in seed_graphs():
        yield name, root, {}


def test_the_graphs_a_teacher_draws_are_drawn(tmp_path):
    for name, root, options in teaching_graphs():
        graph = draw_dot(root, **options)
        assert graph.cost.seconds < MAX_SECONDS / 2, f"{name}: predicted {graph.cost.seconds:.2f} s"
        start = time.perf_counter()
        path = render(root, tmp_path / "graph.svg", **options)
        assert b"<svg" in path.read_bytes(), name
        assert time.perf_counter() - start < 20.0, name


def test_the_timing_script_measures_dot_on_each_graph_beside_the_prediction():
    # demos/dot_timing.py measures the times the model is fitted to; here its first graphs only
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    script = str(REPO / "demos" / "dot_timing.py")
    command = [sys.executable, script, "--cases", "3", "--timeout", "20"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("chain ")]
    # chain n: n values, n - 1 constants and n - 1 op nodes, by hand; measured and predicted seconds
    assert [(int(r[2]), int(r[3])) for r in rows] == [(148, 147), (598, 597), (1198, 1197)]
    assert all(float(r[6]) > 0 and float(r[7]) > 0 for r in rows)


def horner_expression(length: int) -> str:
    """Horner's rule typed out, ((x*x+1)*x+1)*x+1 ..., as long as fits in ``length`` characters."""
    text = "x*x+1"
    while len(f"({text})*x+1") <= length:
        text = f"({text})*x+1"
    return text


def test_micrograd_draw_of_a_295_character_horner_expression_finishes_in_seconds(tmp_path):
    # it passed every guard and dot ran 40 s on it; now dot's placement is bounded (nslimit) and the
    # guard predicts the rest
    expression = horner_expression(295)
    assert 290 <= len(expression) <= 295
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "micrograd", "draw", expression, "x=0.5", "-o", "h.svg"]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert time.perf_counter() - start < 20.0
    assert result.returncode == 0, result.stderr
    steps = (len(expression) - len("x*x+1")) // len("()*x+1") + 1  # 49: each step adds ( and )*x+1
    assert (tmp_path / "h.svg").read_text().count("data ") == 1 + 2 * steps  # x, a product and a sum each


def test_micrograd_draw_refusing_says_the_figure_and_the_option_that_draws_it_anyway(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "micrograd", "draw", "x*y + x", "x=1", "y=2", "-o", "g.svg"]
    result = subprocess.run(
        [*command, "--max-seconds", "0.000001"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "dot would take about" in result.stderr and "more than max_seconds=1e-06" in result.stderr
    assert "pass --max-seconds 1 to draw it anyway" in result.stderr
    assert not (tmp_path / "g.svg").exists()
