"""The lesson as one self-contained HTML page that steps through it, and the same widget for Jupyter.

The graph is laid out ONCE by dot (an inline SVG); each panel (a forward step, a backward step,
the update) restyles it: the active node and its edges, the values known so far, the gradients
after that step. The markup, style and script are package files (``widget.html``, ``page.html``,
``page.css``, ``page.js``) filled in one pass, so no label can be taken for a placeholder. The
page loads nothing (no network); ``page.html#step-7`` opens backward step 7.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from micrograd.engine import Value
from micrograd.explain import render_text as text
from micrograd.explain.images import draw_options, layout_grads
from micrograd.files import write_atomic
from micrograd.fmt import number
from micrograd.viz import draw_dot, svg_id


@cache
def resource(name: str) -> str:
    return files("micrograd.explain").joinpath(name).read_text(encoding="utf-8")


def _fill(template: str, fields: dict[str, str]) -> str:
    # one pass over the template, so a label that reads "@DATA@" is never substituted itself
    return re.sub(r"@([A-Z]+)@", lambda m: fields[m.group(1)], template)


def _eq(line: str) -> str:
    return f'<div class="mg-eq">{html.escape(line)}</div>'


def _panel(anchor: str, kind: str, index: int, title: str, node: str, body: str, page: bool) -> str:
    own_id = f' id="{anchor}"' if page else ""
    return (
        f'<section class="mg-panel"{own_id} data-anchor="{anchor}" data-kind="{kind}" data-index="{index}" '
        f'data-node="{node}" data-title="{html.escape(title)}" hidden>\n{body}\n</section>'
    )


def _quiz(ex: Any, step: Any) -> str:
    """The exercise of a backward step: per operand, its local derivative and its new gradient."""
    out = ex.output
    fields = []
    for term in step.updated():
        if term.local_grad is not None and not step.classic:
            fields.append((text.local(step.name, term.name), term.local_grad))
        fields.append((text.total(out, term.name), term.grad_after))
    if not fields:
        return ""
    inputs = "".join(
        f'<label>{html.escape(label)} = <input type="text" inputmode="decimal" autocomplete="off" '
        f'data-answer="{answer!r}"></label>'
        for label, answer in fields
    )
    return (
        '<form class="mg-quiz"><p>Your turn: work out each local derivative and the new gradient, '
        f'then check.</p>{inputs}<button type="submit">Check</button> '
        '<span class="mg-verdict"></span></form>'
    )


def _panels(ex: Any, position: dict[Value, int], page: bool, quiz: bool) -> list[str]:
    panels = []
    n_forward = len(ex.forward)
    for step in ex.forward:
        title = f"Forward {step.number} / {n_forward}"
        body = f"<h2>{title}: computing {html.escape(step.name)}</h2>\n{_eq(text.forward_line(ex, step))}"
        if step.node is ex.root:
            body += (
                f"\n<p>The output: <b>{html.escape(ex.output)} = {number(ex.root.data, ex.digits)}</b></p>"
            )
        panels.append(
            _panel(
                f"forward-{step.number}",
                "forward",
                step.number - 1,
                title,
                svg_id(position[step.node]),
                body,
                page,
            )
        )
    for step in ex.steps:
        title = f"Step {step.number} / {len(ex)}"
        heading = text.step_heading(ex, step).split(": ", 1)[1]
        working = "\n".join(_eq(line) for line in text.step_lines(ex, step))
        exercise = _quiz(ex, step) if quiz else ""
        hidden = " hidden" if exercise else ""
        body = (
            f'<h2>{title}: <span class="mg-formula">{html.escape(heading)}</span></h2>\n{exercise}\n'
            f'<div class="mg-working"{hidden}>\n{working}\n</div>'
        )
        panels.append(
            _panel(
                f"step-{step.number}",
                "backward",
                step.number - 1,
                title,
                svg_id(position[step.node]),
                body,
                page,
            )
        )
    if ex.updates:
        lines = "\n".join(_eq(text.update_line(ex, update)) for update in ex.updates)
        intro = "".join(f"<p>{html.escape(line)}</p>" for line in text.update_heading(ex))
        panels.append(_panel("update", "update", 0, "Update", "", f"<h2>Update</h2>\n{intro}\n{lines}", page))
    return panels


def _data(ex: Any, position: dict[Value, int]) -> dict[str, Any]:
    """What the script sets in the graph for each panel, as changes from one panel to the next."""
    num = lambda x: number(x, ex.digits)
    ids = {node: svg_id(i) for node, i in position.items()}
    return {
        "data": {ids[n]: num(n.data) for n in ex.order},
        "unknown": {ids[step.node]: "?" for step in ex.forward},
        "forward": [{ids[step.node]: num(step.value)} for step in ex.forward],
        "start": {ids[n]: num(g) for n, g in ex.start.items()},
        "steps": [{ids[t.operand]: num(t.grad_after) for t in step.updated()} for step in ex.steps],
        "update": {ids[u.param]: num(u.new) for u in ex.updates if u.param in ids},
    }


def widget(ex: Any, page: bool, quiz: bool = False, **options: object) -> str:
    """The stepper: bar, panels, the graph laid out once, its data and script (no network)."""
    position = {node: i for i, node in enumerate(ex.order)}
    graph = draw_dot(ex.root, grads=layout_grads(ex), **draw_options(ex, options))  # type: ignore[arg-type]
    svg = graph.pipe(format="svg").decode("utf-8")
    svg = svg[svg.index("<svg") :]  # inline SVG takes no XML prolog or doctype
    panels = _panels(ex, position, page, quiz)
    if not panels:
        panels = [f"<p>{html.escape(ex.output)} is a leaf: there is nothing to backpropagate.</p>"]
    # "<" escaped as \u003c so no string in the data can close the <script> element
    data = json.dumps(_data(ex, position)).replace("<", "\\u003c")
    legend = " ".join(text.legend(ex))
    return _fill(
        resource("widget.html"),
        {
            "PAGE": "1" if page else "0",
            "QUIZ": "1" if quiz else "0",
            "CSS": resource("page.css"),
            "TITLE": html.escape(text.title(ex)),
            "FIRST": f"Step 1 / {len(ex)}" if ex.steps else "Step 0 / 0",
            "SCOREHIDDEN": "" if quiz else " hidden",
            "LEGEND": html.escape(legend),
            "PANELS": "\n".join(panels),
            "GRAPH": svg,
            "DATA": data,
            "JS": resource("page.js").replace("</", "<\\/"),
        },
    )


def page(ex: Any, path: Any = None, quiz: bool = False, **options: object) -> str:
    document = _fill(
        resource("page.html"),
        {"TITLE": html.escape(text.title(ex)), "WIDGET": widget(ex, True, quiz, **options)},
    )
    if path is not None:
        write_atomic(Path(path), document.encode("utf-8"))
    return document


def fragment(ex: Any) -> str:
    """The widget alone, for Jupyter's ``_repr_html_``."""
    return widget(ex, False)
