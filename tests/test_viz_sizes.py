"""Sizes a slide can take: the teaching graphs render as PNGs that fit 1920 x 1080 with text at least
10 pixels high, measured on the files dot wrote.

The smallest text is read from dot's SVG (``font-size``, in points); the PNG's scale, in pixels per
point, is its width over the SVG's width: the same layout drawn twice.
"""

from __future__ import annotations

import importlib
import re
import xml.etree.ElementTree as ET

import pytest
from drawing import SVG
from PIL import Image
from test_demos import DEMOS

from micrograd.cli import NEURON, NEURON_VALUES
from micrograd.nn import MLP
from micrograd.parser import build
from micrograd.viz import render

SLIDE = (1920, 1080)


def slide_facts(tmp_path, root, **options) -> tuple[tuple[int, int], float]:
    """The PNG's size in pixels and the height in pixels of the smallest text in it."""
    png = render(root, tmp_path / "graph.png", **options)
    svg = ET.parse(render(root, tmp_path / "graph.svg", **options)).getroot()
    sizes = [float(t.get("font-size")) for t in svg.iter(f"{SVG}text")]  # type: ignore[arg-type]
    width_pt = float(re.fullmatch(r"([\d.]+)pt", svg.get("width")).group(1))  # type: ignore[union-attr, arg-type]
    image = Image.open(png)
    return image.size, min(sizes) * image.size[0] / width_pt


def neuron():
    out, leaves = build(NEURON, NEURON_VALUES)
    out.backward()
    return out, {"params": [leaves[name] for name in ("w1", "w2", "b")]}


def mlp(collapse: bool):
    model = MLP(2, [4, 4, 1], seed=0)
    loss = (model([1.0, -2.0]) - 1.0) ** 2
    loss.backward()
    return loss, {"model": model, "collapse": collapse}


def seed_004(demo_options: bool):
    import sys

    sys.path.insert(0, str(DEMOS))
    try:
        demo = importlib.import_module("004_sigmoid_chain")
    finally:
        sys.path.remove(str(DEMOS))
    E, _, values, _, _ = demo.build(demo.initial_weights())
    E.backward()
    params = [w for rows in values.values() for row in rows for w in row]
    return E, ({"params": params, "path_from": values["d"][0][0]} if demo_options else {})


GRAPHS = {
    "the classic neuron": neuron,
    "MLP(2, [4, 4, 1]) fused": lambda: mlp(False),
    "MLP(2, [4, 4, 1]) collapsed": lambda: mlp(True),
    "the seed 004 network": lambda: seed_004(False),
    "the seed 004 network, as its demo draws it": lambda: seed_004(True),
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_a_teaching_graph_fits_a_slide_with_text_at_least_10_pixels_high(tmp_path, name):
    root, options = GRAPHS[name]()
    (width, height), text_px = slide_facts(tmp_path, root, **options)
    assert width <= SLIDE[0] and height <= SLIDE[1], f"{name}: {width} x {height} px"
    assert text_px >= 10.0 - 1e-9, f"{name}: the smallest text is {text_px:.2f} px high"
    assert width >= 0.5 * SLIDE[0] or height >= 0.5 * SLIDE[1], (
        f"{name}: {width} x {height} px is a thumbnail"
    )


def test_a_graph_too_large_for_a_slide_keeps_its_text_readable_and_dpi_sets_the_scale(tmp_path):
    model = MLP(2, [16, 16, 1], seed=0)
    loss = (model([1.0, -2.0]) - 1.0) ** 2
    (width, height), text_px = slide_facts(tmp_path, loss, model=model)
    assert height > SLIDE[1]  # 337 parameters do not fit: the image grows, the text does not shrink
    assert text_px >= 10.0 - 1e-9
    out, _ = neuron()
    small = Image.open(render(out, tmp_path / "small.png", dpi=36)).size
    large = Image.open(render(out, tmp_path / "large.png", dpi=72)).size
    assert abs(large[0] - 2 * small[0]) <= 2  # the same layout at twice the resolution
    with pytest.raises(ValueError, match="dpi must be a number from 1 to 1200"):
        render(out, tmp_path / "bad.png", dpi=0)
