"""One picture per backward step, from ONE layout.

dot lays the graph out once (with each value's widest gradient text, so every later number fits
its box); each step's picture is then ``draw_dot``'s drawing of that step (gradients after it,
the active node and the gradients it changed in red) pinned to those positions and drawn by
Graphviz without a layout (``neato -n2``). So a graph of 478 nodes and 368 steps costs one layout,
not 368, and every picture has the same geometry: stepping through them, only colours and
numbers change.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import graphviz

from micrograd.engine import Value
from micrograd.files import write_atomic
from micrograd.fmt import number
from micrograd.viz import INSTALL_HINT, RENDER_FORMATS, GraphvizNotFound, draw_dot, format_number

# draw_dot options that the explanation sets itself, per step.
OWN_OPTIONS = ("highlight", "names", "grads", "grad_changed", "collapse", "format", "show_grad")
# Numbers whose printed form is long: a box laid out with one of them fits any shorter number.
_WIDE = (-1.2345e-10, -999999.9999, -1.2345e-100)

_STATEMENT = re.compile(r'^(\s*)("(?:[^"\\]|\\.)*"|[\w.]+) \[(.*)\]$')
_EDGE = re.compile(r'^(\s*)("(?:[^"\\]|\\.)*"|[\w.]+) -> ("(?:[^"\\]|\\.)*"|[\w.]+) \[(.*)\]$')
_SUBGRAPH = re.compile(r'^(\s*)subgraph ("(?:[^"\\]|\\.)*"|[\w.]+) \{$')
_ID = re.compile(r'\bid=("(?:[^"\\]|\\.)*"|[\w.-]+)')


def draw_options(ex: Any, options: Mapping[str, object]) -> dict[str, object]:
    clash = sorted(set(options) & set(OWN_OPTIONS))
    if clash:
        raise ValueError(
            f"{', '.join(clash)}: set by the explanation for each step; pass only other draw_dot options "
            "(rankdir, max_nodes, group, params, legend, node_colors)"
        )
    return {**options, "names": ex.names}


def layout_grads(ex: Any) -> dict[Value, float]:
    """Per value, a gradient whose printed form is as wide as the widest text any step shows there."""
    shown: dict[Value, list[float]] = {node: [g] for node, g in ex.start.items()}
    for step in ex.steps:
        for term in step.updated():
            shown[term.operand].append(term.grad_after)
    widest = {}
    for node, values in shown.items():
        needed = max(len(number(v, ex.digits)) for v in [*values, node.data])
        best = max(values, key=lambda v: len(format_number(v)))
        if len(format_number(best)) < needed:
            best = next((w for w in _WIDE if len(format_number(w)) >= needed), _WIDE[-1])
        widest[node] = best
    return widest


def _unquote(name: str) -> str:
    return name[1:-1].replace('\\"', '"') if name.startswith('"') else name


def _attrs(obj: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    return "".join(f' {key}="{obj[key]}"' for key in keys if key in obj)


def pin(source: str, layout: Mapping[str, Any]) -> str:
    """``source`` (a drawing of the same graph) with every node, edge and box at ``layout``'s place."""
    objects = {obj["name"]: obj for obj in layout.get("objects", [])}
    edges = {_unquote(edge["id"]) if edge.get("id", "").startswith('"') else edge.get("id"): edge
             for edge in layout.get("edges", [])}
    lines = []
    for line in source.split("\n"):
        edge = _EDGE.match(line)
        if edge is not None:
            found = _ID.search(edge.group(4))
            info = edges.get(_unquote(found.group(1))) if found else None
            if info is not None:
                line = line[:-1] + _attrs(info, ("pos", "lp")) + "]"
            lines.append(line)
            continue
        statement = _STATEMENT.match(line)
        if statement is not None and _unquote(statement.group(2)) not in ("graph", "node", "edge"):
            info = objects.get(_unquote(statement.group(2)))
            if info is not None:
                line = line[:-1] + _attrs(info, ("pos", "width", "height")) + "]"
            lines.append(line)
            continue
        lines.append(line)
        subgraph = _SUBGRAPH.match(line)
        if subgraph is not None:
            info = objects.get(_unquote(subgraph.group(2)))
            if info is not None:
                lines.append(f"{subgraph.group(1)}\tgraph [{_attrs(info, ('bb', 'lp')).strip()}]")
        elif line.startswith("digraph ") or line.startswith("graph "):
            lines.append(f"\tgraph [{_attrs(layout, ('bb', 'lp')).strip()}]")
    return "\n".join(lines)


def render_steps(ex: Any, directory: Any, format: str = "svg", **options: object) -> list[Path]:
    if format not in RENDER_FORMATS:
        raise ValueError(f"render_steps: format={format!r} is not one of {', '.join(RENDER_FORMATS)}")
    drawing = draw_options(ex, options)
    if shutil.which("dot") is None:
        raise GraphvizNotFound(f"Graphviz's `dot` program is not on the PATH, so the steps cannot be drawn. {INSTALL_HINT}")
    directory = Path(directory)
    width = max(3, len(str(len(ex))))
    # the one layout
    laid_out = json.loads(draw_dot(ex.root, grads=layout_grads(ex), **drawing).pipe(format="json"))  # type: ignore[arg-type]
    paths = []
    for k, step in enumerate(ex.steps, start=1):
        graph = draw_dot(
            ex.root,
            highlight=[step.node],
            grads=ex.grads_after(k),
            grad_changed=[term.operand for term in step.updated()],
            **drawing,  # type: ignore[arg-type]
        )
        pinned = graphviz.Source(pin(graph.source, laid_out), engine="neato")
        path = directory / f"step-{k:0{width}d}.{format}"
        write_atomic(path, pinned.pipe(format=format, neato_no_op=2))
        paths.append(path)
    return paths
