"""One picture per backward step, from ONE layout.

dot lays the graph out once (with each value's widest gradient text, so every later number fits
its box); each step's picture is then ``draw_dot``'s drawing of that step (gradients after it,
the active node and the gradients it changed in red) pinned to those positions and drawn by
Graphviz without a layout (``neato -n2``). So a graph of 478 nodes and 368 steps costs one layout,
not 368, and every picture has the same geometry: stepping through them, only colours and
numbers change.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from micrograd.engine import Value
from micrograd.files import write_atomic
from micrograd.fmt import number
from micrograd.viz import HIGHLIGHT, INSTALL_HINT, RENDER_FORMATS, GraphvizNotFound, draw_dot, format_number

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
    edges = {
        _unquote(edge["id"]) if edge.get("id", "").startswith('"') else edge.get("id"): edge
        for edge in layout.get("edges", [])
    }
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


_ELEMENT = re.compile(r'(<g id="([^"]+)" class="(?:node|edge)">)(.*?)(</g>)', re.S)
_GRAD_TEXT = re.compile(r"<text([^>]*)>grad [^<]*</text>")


class Restyler:
    """dot's SVG of the layout, cut once into pieces, put together again for each step: every value's
    gradient written in, the step's node, its op and edges outlined, the gradients it changed in the
    highlight colour (as the HTML page restyles the same picture in the browser)."""

    def __init__(self, svg: str, ex: Any) -> None:
        self.ex = ex
        self.position = {node: i for i, node in enumerate(ex.order)}
        self.pieces: list[Any] = []  # text, or (element id, opening, body, closing)
        end = 0
        for match in _ELEMENT.finditer(svg):
            self.pieces.append(svg[end : match.start()])
            opening, element_id, body, closing = match.groups()
            self.pieces.append((html.unescape(element_id), opening, body, closing))  # dot writes - as &#45;
            end = match.end()
        self.pieces.append(svg[end:])

    def __call__(self, k: int) -> str:
        ex = self.ex
        step = ex.steps[k - 1]
        grads = ex.grads_after(k)
        active = f"v{self.position[step.node]}"
        changed = {f"v{self.position[term.operand]}" for term in step.updated()}
        out = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            element_id, opening, body, closing = piece
            if element_id[1:].isdigit():
                node = ex.order[int(element_id[1:])]
                red = element_id in changed

                def grad_text(found: re.Match[str], node: Value = node, red: bool = red) -> str:
                    attributes = found.group(1)
                    if red:
                        attributes = (
                            re.sub(r' fill="[^"]*"', "", attributes)
                            + f' fill="{HIGHLIGHT}" font-weight="bold"'
                        )
                    return f"<text{attributes}>grad {_svg_number(grads.get(node, node.grad))}</text>"

                body = _GRAD_TEXT.sub(grad_text, body)
            if element_id.split("-")[0] == active:
                body = re.sub(r'stroke="[^"]*"', f'stroke="{HIGHLIGHT}" stroke-width="3"', body)
                if element_id != active:  # the op node's and the edges' arrowheads
                    body = re.sub(
                        r'(<polygon[^>]*?)fill="(?!white)[^"]*"',
                        lambda m: f'{m.group(1)}fill="{HIGHLIGHT}"',
                        body,
                    )
            out.append(opening + body + closing)
        return "".join(out)


def _svg_number(x: float) -> str:
    return format_number(x).replace("-", "&#45;")  # as dot writes a minus sign


_PNG_END = b"IEND\xaeB`\x82"


def _line_id(line: str) -> str | None:
    found = _ID.search(line)
    return _unquote(found.group(1)) if found else None


def _split(output: bytes, format: str, count: int) -> list[bytes]:
    """One Graphviz run's output for ``count`` graphs, cut into one image per graph."""
    if format == "png":
        parts = [part + _PNG_END for part in output.split(_PNG_END)[:-1]]
    else:
        marker = b"<?xml"
        parts = [marker + part for part in output.split(marker)[1:]]
    if len(parts) != count:
        raise RuntimeError(f"render_steps: Graphviz drew {len(parts)} pictures for {count} steps")
    return parts


def _draw_pinned(sources: list[str], format: str) -> bytes:
    """Graphviz drawing graphs whose every position is given (``-n2``: no layout)."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFound(f"Graphviz's `dot` program is not on the PATH. {INSTALL_HINT}")
    # communicate() reads while it writes: the pictures of many steps overflow a pipe's buffer
    result = subprocess.run(
        [dot, "-Kneato", "-n2", f"-T{format}"], input="\n".join(sources).encode("utf-8"), capture_output=True
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"render_steps: Graphviz failed: {result.stderr.decode('utf-8', 'replace').strip()}"
        )
    return result.stdout


def render_steps(ex: Any, directory: Any, format: str = "svg", **options: object) -> list[Path]:
    if format not in RENDER_FORMATS:
        raise ValueError(f"render_steps: format={format!r} is not one of {', '.join(RENDER_FORMATS)}")
    drawing = draw_options(ex, options)
    if shutil.which("dot") is None:
        raise GraphvizNotFound(
            f"Graphviz's `dot` program is not on the PATH, so the steps cannot be drawn. {INSTALL_HINT}"
        )
    directory = Path(directory)
    width = max(3, len(str(len(ex))))
    widest = layout_grads(ex)
    values = [node for node in ex.order]
    base = draw_dot(ex.root, grads=widest, **drawing)  # type: ignore[arg-type]
    positioned = base.pipe(format="dot").decode("utf-8")  # the one layout
    if format == "svg":  # dot's own picture of the layout, restyled per step: one more Graphviz run
        restyle = Restyler(_draw_pinned([positioned], "svg").decode("utf-8"), ex)
        return _write([restyle(k).encode("utf-8") for k in range(1, len(ex) + 1)], directory, format, width)
    laid_out = json.loads(_draw_pinned([positioned], "json"))
    # Three drawings with the same statements: plain, every value highlighted, every grad in red.
    # A step takes each statement from the one it needs and writes its gradients in.
    plain = pin(base.source, laid_out).split("\n")
    lit = pin(draw_dot(ex.root, grads=widest, highlight=values, **drawing).source, laid_out).split("\n")  # type: ignore[arg-type]
    red = pin(draw_dot(ex.root, grads=widest, grad_changed=values, **drawing).source, laid_out).split("\n")  # type: ignore[arg-type]
    if not len(plain) == len(lit) == len(red):
        raise RuntimeError("render_steps: draw_dot drew the same graph with different statements")
    ids = [_line_id(line) for line in plain]
    position = {node: i for i, node in enumerate(ex.order)}
    vid = {node: f"v{position[node]}" for node in ex.order}
    sources = []
    for k, step in enumerate(ex.steps, start=1):
        grads = ex.grads_after(k)
        active = vid[step.node]
        changed = {vid[term.operand] for term in step.updated()}
        lines = []
        for line, line_id, lit_line, red_line in zip(plain, ids, lit, red):
            if line_id is None:
                lines.append(line)
                continue
            own = line_id.split("-")[0]
            if own == active:
                line = lit_line
            elif line_id in changed:
                line = red_line
            node = ex.order[int(line_id[1:])] if line_id == own and line_id[1:].isdigit() else None
            if node is not None and node in widest:
                line = line.replace(
                    f">grad {format_number(widest[node])}<", f">grad {format_number(grads[node])}<"
                )
            lines.append(line)
        sources.append("\n".join(lines))
    if format == "pdf":  # one PDF per run
        images = [_draw_pinned([source], format) for source in sources]
    else:  # every step in ONE Graphviz run: no layout, only drawing
        images = _split(_draw_pinned(sources, format), format, len(sources))
    return _write(images, directory, format, width)


def _write(images: list[bytes], directory: Path, format: str, width: int) -> list[Path]:
    paths = []
    for k, image in enumerate(images, start=1):
        path = directory / f"step-{k:0{width}d}.{format}"
        write_atomic(path, image)
        paths.append(path)
    return paths
