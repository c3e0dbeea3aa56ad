"""Computation graphs as pictures: ``draw_dot`` builds a Graphviz graph, ``render`` writes it to a file.

- ``graph.py``: the picture as data (boxes, ops, edges; roles, names, ids, highlights, legend), a
  network laid out as one by what ``micrograd.network`` finds (from ``model.structure()``);
- ``cost.py``: how long ``dot`` will take on a picture, predicted before it runs;
- ``dot.py``: the picture as DOT text, and as an SVG, PNG or PDF file; ``Layout``: a graph laid out
  once and drawn again, restyled, at the same positions (explain's step images).
"""

from micrograd.fmt import HIGHLIGHT, INK, ROLE_COLORS, format_constant, format_number, node_names
from micrograd.viz.cost import Cost, estimate_cost
from micrograd.viz.dot import (
    FONT_SIZE,
    INSTALL_HINT,
    MAX_LABEL_CHARS,
    MAX_SECONDS,
    RENDER_FORMATS,
    SLIDE,
    Graph,
    GraphvizNotFound,
    Layout,
    TooLargeToDraw,
    draw_dot,
    escape_label,
    image,
    inline_svg,
    render,
)
from micrograd.viz.graph import Highlight, highlight_path, svg_id, svg_position

__all__ = [
    "FONT_SIZE",
    "HIGHLIGHT",
    "INK",
    "INSTALL_HINT",
    "MAX_LABEL_CHARS",
    "MAX_SECONDS",
    "RENDER_FORMATS",
    "ROLE_COLORS",
    "SLIDE",
    "Cost",
    "Graph",
    "GraphvizNotFound",
    "Highlight",
    "Layout",
    "TooLargeToDraw",
    "draw_dot",
    "escape_label",
    "estimate_cost",
    "format_constant",
    "format_number",
    "highlight_path",
    "image",
    "inline_svg",
    "node_names",
    "render",
    "svg_id",
    "svg_position",
]
