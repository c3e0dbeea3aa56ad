"""One picture per backward step, from ONE layout (``micrograd.viz.Layout``).

dot lays the graph out once (with each value's widest gradient text, so every later number fits
its box); each step's picture is then ``draw_dot``'s drawing of that step (gradients after it,
the active node and the gradients it changed in red) drawn at those positions without another
layout. So a graph of 478 nodes and 368 steps costs one layout, not 368, and every picture has the
same geometry: stepping through them, only colours and numbers change. The numbers are the text's
(``fmt.number`` with the lesson's ``digits``), the names too.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from micrograd.engine import Value
from micrograd.files import write_atomic
from micrograd.fmt import number
from micrograd.viz import HIGHLIGHT, RENDER_FORMATS, Layout, draw_dot, svg_id, svg_position
from micrograd.viz.dot import statement_id

# draw_dot options that the explanation sets itself, per step.
OWN_OPTIONS = (
    "highlight", "names", "grads", "grad_changed", "collapse", "format", "show_grad", "digits", "values",
)  # fmt: skip


def draw_options(ex: Any, options: Mapping[str, object]) -> dict[str, object]:
    """draw_dot's options for a picture of the lesson: the user's, with the lesson's names, digits and
    model (a clash with what the explanation sets per step is refused)."""
    clash = sorted(set(options) & set(OWN_OPTIONS))
    if clash:
        raise ValueError(
            f"{', '.join(clash)}: set by the explanation for each step; pass only other draw_dot options "
            "(rankdir, max_nodes, group, params, legend, node_colors, model)"
        )
    return {"model": ex.model, **options, "names": ex.names, "digits": ex.digits}


def widest(ex: Any) -> tuple[dict[Value, float], dict[Value, float]]:
    """Per value, the data and the gradient whose printed form is the widest any panel or step shows
    there: the graph is laid out with them, so every later number fits its box."""
    text = lambda x: len(number(x, ex.digits))  # noqa: E731
    grads: dict[Value, list[float]] = {node: [g] for node, g in ex.start.items()}
    for step in ex.steps:
        for term in step.updated():
            grads[term.operand].append(term.grad_after)
    data: dict[Value, list[float]] = {node: [node.data] for node in ex.order}
    for update in ex.updates:
        if update.param in data:
            data[update.param].append(update.new)
    return (
        {node: max(values, key=text) for node, values in data.items()},
        {node: max(values, key=text) for node, values in grads.items()},
    )


def layout_drawing(ex: Any, **options: object) -> Any:
    """``draw_dot``'s drawing of the lesson's graph with the widest numbers: the one to lay out."""
    values, grads = widest(ex)
    return draw_dot(ex.root, values=values, grads=grads, **draw_options(ex, options))  # type: ignore[arg-type]


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
        active = svg_id(self.position[step.node])
        changed = {svg_id(self.position[term.operand]) for term in step.updated()}
        out = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            element_id, opening, body, closing = piece
            position = svg_position(element_id)
            if position is not None:
                node = ex.order[position]
                red = element_id in changed

                def grad_text(found: re.Match[str], node: Value = node, red: bool = red) -> str:
                    attributes = found.group(1)
                    if red:
                        attributes = (
                            re.sub(r' fill="[^"]*"', "", attributes)
                            + f' fill="{HIGHLIGHT}" font-weight="bold"'
                        )
                    shown = number(grads.get(node, node.grad), ex.digits).replace("-", "&#45;")  # as dot does
                    return f"<text{attributes}>grad {shown}</text>"

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


def render_steps(ex: Any, directory: Any, format: str = "svg", **options: object) -> list[Path]:
    if format not in RENDER_FORMATS:
        raise ValueError(f"render_steps: format={format!r} is not one of {', '.join(RENDER_FORMATS)}")
    directory = Path(directory)
    width = max(3, len(str(len(ex))))
    grads = widest(ex)[1]  # a step changes gradients only: each value's data stays as it is
    drawing = draw_options(ex, options)
    every = list(ex.order)
    # Four drawings with the same statements: plain, every value highlighted, every grad in red, and
    # both, whose legend says what the reds mean. The layout is of the plain statements with that
    # legend; a step takes each statement from the drawing it needs and writes its gradients in.
    plain, lit, red, both = (
        draw_dot(ex.root, grads=grads, **marks, **drawing).source.split("\n")  # type: ignore[arg-type]
        for marks in (
            {},
            {"highlight": every},
            {"grad_changed": every},
            {"highlight": every, "grad_changed": every},
        )
    )
    if not len(plain) == len(lit) == len(red) == len(both):
        raise RuntimeError("render_steps: draw_dot drew the same graph with different statements")
    ids = [statement_id(line) for line in plain]
    base = [line if own_id is not None else legend for line, own_id, legend in zip(plain, ids, both)]
    layout = Layout("\n".join(base))  # the one layout
    if format == "svg":  # the layout's own picture, restyled per step (as the HTML page does it)
        restyle = Restyler(layout.draw(["\n".join(base)], "svg")[0].decode("utf-8"), ex)
        return _write([restyle(k).encode("utf-8") for k in range(1, len(ex) + 1)], directory, format, width)
    position = {node: i for i, node in enumerate(ex.order)}
    sources = []
    for k, step in enumerate(ex.steps, start=1):
        after = ex.grads_after(k)
        active = svg_id(position[step.node])
        changed = {svg_id(position[term.operand]) for term in step.updated()}
        lines = []
        for line, own_id, lit_line, red_line in zip(base, ids, lit, red):
            if own_id is None:
                lines.append(line)
                continue
            if own_id.split("-")[0] == active:
                line = lit_line
            elif own_id in changed:
                line = red_line
            at = svg_position(own_id)
            if at is not None and ex.order[at] in grads:
                node = ex.order[at]
                shown, now = (number(g, ex.digits) for g in (grads[node], after[node]))
                line = line.replace(f">grad {shown}<", f">grad {now}<")
            lines.append(line)
        sources.append("\n".join(lines))
    return _write(layout.draw(sources, format), directory, format, width)


def _write(images: list[bytes], directory: Path, format: str, width: int) -> list[Path]:
    paths = []
    for k, image in enumerate(images, start=1):
        path = directory / f"step-{k:0{width}d}.{format}"
        write_atomic(path, image)
        paths.append(path)
    return paths
