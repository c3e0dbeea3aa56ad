"""Backpropagation one node at a time, written out with numbers.

``explain(root)`` runs the backward pass exactly as ``root.backward()`` does (seed the output's
grad with 1, walk the topological order in reverse -- the walk that stops at a relu at 0 --
and add ``upstream * local_grad`` into each operand's grad) and records every step: the node,
its op, the upstream gradient, each operand's local derivative, its grad before and after, and
the chain rule in numbers::

    dL/da += dL/dc * dc/da = 2.0000 * -3.0000 = -6.0000

When a node is reached by a second path, the step also shows the two contributions being added::

    dL/da = -6.0000 + 4.0000 = -2.0000

The steps render as a terminal table (``to_text``, also ``str``), Markdown, LaTeX, one graph
image per step (``render_steps``) and one self-contained HTML page that steps through the pass
(``to_html``). Unlabelled nodes get the names n1, n2, ... in topological order (``node_names``),
the same in every rendering.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast, overload

from micrograd.engine import Value, topological_order
from micrograd.files import write_atomic
from micrograd.fmt import node_names as _names
from micrograd.viz import (
    HIGHLIGHT,
    RENDER_FORMATS,
    draw_dot,
    format_constant,
    format_number,
    render,
    svg_id,
)

# draw_dot options that the explanation sets itself, per step.
_OWN_OPTIONS = ("highlight", "names", "grads", "grad_changed", "collapse", "format", "show_grad")
# The columns of each step's table of operands.
_HEADER = ["operand", "data", "local grad", "grad before", "grad after"]


def _steps(count: int) -> str:
    return "1 step" if count == 1 else f"{count} steps"


def node_names(root: Value) -> dict[Value, str]:
    """Each node's name in explanations: its label, or n1, n2, ... in topological order when unlabelled."""
    return _names(topological_order(root))  # the one naming rule, shared with every picture


@dataclass(frozen=True)
class Term:
    """One operand of a step: its local derivative, and its gradient before and after the step.

    A constant operand (a plain number) has no gradient: its ``grad_before``, ``grad_after`` and
    ``contribution`` are None.
    """

    operand: Value | float
    name: str
    local_grad: float | None
    contribution: float | None
    grad_before: float | None
    grad_after: float | None
    # True when the operand already had a gradient from another path (or an earlier backward)
    adds_to_earlier: bool

    @property
    def is_constant(self) -> bool:
        return not isinstance(self.operand, Value)


@dataclass(frozen=True)
class Step:
    """One node's ``_backward``: its upstream gradient, pushed into each operand."""

    number: int
    node: Value
    name: str
    op: str
    formula: str
    output_name: str
    upstream: float
    terms: tuple[Term, ...]

    @property
    def skipped(self) -> bool:
        """Backward skips a node whose upstream gradient is 0: it would add 0 to every operand."""
        return self.upstream == 0.0

    def updated(self) -> list[Term]:
        """The terms whose operand's grad this step adds into (none when backward skips it)."""
        return [] if self.skipped else [term for term in self.terms if not term.is_constant]

    def equations(self) -> list[str]:
        """The chain rule for each operand, in numbers; plus the sum when a gradient accumulates."""
        out, node = self.output_name, self.name
        if self.skipped:
            return [f"d{out}/d{node} = 0, so backward skips {node}: it would add 0 to each operand's grad"]
        lines = []
        for term in self.terms:
            if term.is_constant:
                continue
            x = term.name
            local = "undefined" if term.local_grad is None else format_number(term.local_grad)
            lines.append(
                f"d{out}/d{x} += d{out}/d{node} * d{node}/d{x} = {format_number(self.upstream)} * "
                f"{local} = {format_number(term.contribution)}"  # type: ignore[arg-type]
            )
            if term.adds_to_earlier:
                lines.append(
                    f"d{out}/d{x} = {format_number(term.grad_before)} + {format_number(term.contribution)}"  # type: ignore[arg-type]
                    f" = {format_number(term.grad_after)}"  # type: ignore[arg-type]
                )
        return lines


def _formula(node: Value, names: Mapping[Value, str]) -> str:
    parts = [names[x] if isinstance(x, Value) else format_constant(x) for x in node.operands()]
    if node._rule.infix and len(parts) == 2:
        return f"{parts[0]} {node._op} {parts[1]}"
    return f"{node._op}({', '.join(parts)})"


def _accumulation_order(node: Value) -> list[int]:
    """Operand positions in the order backward adds into them: a linear node pairs w_i with x_i.

    The order matters only to the last bit, when one node fills several slots of one op.
    """
    count = len(node.operands())
    if node._op != "linear":
        return list(range(count))
    n = (count - 1) // 2  # operands are (w_1..w_n, x_1..x_n, b)
    return [j for i in range(n) for j in (i, n + i)] + [2 * n]


def _local_grads(node: Value, upstream: float) -> tuple[float | None, ...]:
    """The node's local derivatives; None where backward never needs them (zero upstream) and they fail."""
    try:
        return node.local_grads()
    except (ArithmeticError, ValueError):
        if upstream != 0.0:
            raise
        return (None,) * len(node.operands())  # e.g. sqrt at 0: backward skips this node anyway


def explain(root: Value) -> Explanation:
    """Run ``root``'s backward pass node by node, exactly as ``root.backward()``, recording each step.

    The explanation is of ONE pass: every ``.grad`` in the graph is set to 0 first, so explaining
    twice, or after ``backward()``, shows the same steps, and afterwards ``.grad`` holds what a single
    ``backward()`` from zero gives.
    """
    if not isinstance(root, Value):
        raise TypeError(f"explain: root must be a Value, got {type(root).__name__} {root!r}")
    order = topological_order(root)  # every node: names, and the positions draw_dot's ids use
    names = _names(order)
    for node in order:  # one pass from zero, whatever .grad held before
        node.grad = 0.0
    root.grad = 1.0
    start = {node: node.grad for node in order}
    reached: set[Value] = {root}
    steps: list[Step] = []
    # backward's walk, which stops at a relu at 0: nothing flows back through it
    for node in reversed(topological_order(root, live_only=True)):
        operands = node.operands()
        if not operands:
            continue  # a leaf: nothing to pass on
        upstream = node.grad
        local_grads = _local_grads(node, upstream)
        terms = []
        for j in _accumulation_order(node):
            x, local_grad = operands[j], local_grads[j]
            if not isinstance(x, Value):
                terms.append(Term(x, format_constant(x), local_grad, None, None, None, False))
                continue
            before = x.grad
            if upstream == 0.0:  # backward skips the node: adding zeros would change nothing
                terms.append(Term(x, names[x], local_grad, 0.0, before, before, False))
                continue
            x.grad += upstream * local_grad  # type: ignore[operator]  # the float op backward does
            adds = x in reached or before != 0
            terms.append(Term(x, names[x], local_grad, upstream * local_grad, before, x.grad, adds))  # type: ignore[operator]
            reached.add(x)
        steps.append(
            Step(
                len(steps) + 1,
                node,
                names[node],
                node._op,
                f"{names[node]} = {_formula(node, names)}",
                names[root],
                upstream,
                tuple(terms),
            )
        )
    return Explanation(root, order, names, steps, start)


class Explanation(Sequence[Step]):
    """The steps of one backward pass, in the order backward runs them, with renderings."""

    def __init__(
        self,
        root: Value,
        order: list[Value],
        names: dict[Value, str],
        steps: list[Step],
        start: dict[Value, float],
    ) -> None:
        self.root = root
        self.order = order
        self.names = names
        self.steps = tuple(steps)
        self.start = start  # every grad right after the output was seeded with 1

    @overload
    def __getitem__(self, i: int) -> Step: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[Step]: ...

    def __getitem__(self, i: int | slice) -> Step | Sequence[Step]:
        return self.steps[i]

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __repr__(self) -> str:
        return f"<Explanation of the backward pass through {self.names[self.root]!r}: {_steps(len(self))}>"

    def __str__(self) -> str:
        return self.to_text()

    def grads_after(self, k: int) -> dict[Value, float]:
        """Every node's grad after the first ``k`` steps (``k = 0``: just after seeding the output)."""
        if not 0 <= k <= len(self):
            raise ValueError(
                f"grads_after: k={k} is outside 0..{len(self)} (this pass has {_steps(len(self))})"
            )
        grads = dict(self.start)
        for step in self.steps[:k]:
            for term in step.terms:
                if isinstance(term.operand, Value):
                    grads[term.operand] = term.grad_after  # type: ignore[assignment]
        return grads

    def _title(self) -> str:
        return f"Backpropagation through {self.names[self.root]}, one node at a time ({_steps(len(self))})"

    def _seed(self) -> str:
        out = self.names[self.root]
        return f"d{out}/d{out} = 1.0000 (the output's gradient with respect to itself starts the pass)"

    def _rows(self, step: Step) -> list[list[str]]:
        rows = []
        for term in step.terms:
            local = "-" if term.local_grad is None else format_number(term.local_grad)
            if term.is_constant:
                rows.append([f"{term.name} (constant)", term.name, local, "-", "-"])
            else:
                data = format_number(term.operand.data)  # type: ignore[union-attr]
                before, after = format_number(term.grad_before), format_number(term.grad_after)  # type: ignore[arg-type]
                rows.append([term.name, data, local, before, after])
        return rows

    def _columns(self) -> str:
        out = self.names[self.root]
        return f"Tables: local grad = d(node)/d(operand); grad = d{out}/d(operand), what .grad holds."

    # -- renderings ------------------------------------------------------------------------------

    def to_text(self) -> str:
        """A plain-text table per step, then its equations: for the terminal."""
        out = self.names[self.root]
        lines = [self._title(), "Start: " + self._seed(), self._columns(), ""]
        for step in self.steps:
            lines.append(
                f"Step {step.number}/{len(self)}: {step.formula}    upstream d{out}/d{step.name} = "
                f"{format_number(step.upstream)}"
            )
            table = [_HEADER, *self._rows(step)]
            widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
            for row in table:
                cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
                lines.append("  " + "  ".join(cells).rstrip())
            lines.extend("  " + equation for equation in step.equations())
            lines.append("")
        if not self.steps:
            lines.append(f"{out} is a leaf: there is nothing to backpropagate.")
        return "\n".join(lines).rstrip() + "\n"

    def to_markdown(self) -> str:
        """A Markdown section per step: a table of operands and the equations as a list."""
        out = self.names[self.root]
        lines = [f"## {_md(self._title())}", "", f"Start: {_md(self._seed())}", "", _md(self._columns()), ""]
        for step in self.steps:
            lines += [
                f"### Step {step.number}/{len(self)}: {_md(step.formula)}",
                "",
                f"Upstream gradient {_md(f'd{out}/d{step.name}')} = {format_number(step.upstream)}",
                "",
                "| " + " | ".join(_md(h) for h in _HEADER) + " |",
                "|---|---:|---:|---:|---:|",
            ]
            lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in self._rows(step)]
            lines.append("")
            lines += [f"- {_md(equation)}" for equation in step.equations()]
            lines.append("")
        if not self.steps:
            lines.append(f"{_md(out)} is a leaf: there is nothing to backpropagate.")
        return "\n".join(lines).rstrip() + "\n"

    def to_latex(self, document: bool = False) -> str:
        """An ``align*`` block (needs ``\\usepackage{amsmath}``); ``document=True`` makes a whole document."""
        out = _tex_name(self.names[self.root])

        def d(num: str, den: str) -> str:
            return rf"\frac{{\partial {num}}}{{\partial {den}}}"

        lines = [
            f"% {self._title()}",
            r"\begin{align*}",
            rf"{d(out, out)} &= 1.0000 \\",
        ]
        for step in self.steps:
            node = _tex_name(step.name)
            formula = _tex_formula(step.node, self.names)
            lines.append(
                rf"\intertext{{Step {step.number}/{len(self)}: ${formula}$, upstream "
                rf"${d(out, node)} = {format_number(step.upstream)}$}}"
            )
            if step.skipped:
                lines.append(rf"{d(out, node)} &= 0 \quad \text{{(backward skips it)}} \\")
                continue
            for term in step.terms:
                if term.is_constant:
                    continue
                x = _tex_name(term.name)
                lines.append(
                    rf"{d(out, x)} &\mathrel{{+}}= {d(out, node)} \, {d(node, x)} = "
                    rf"{_tex_number(step.upstream)} \cdot {_tex_number(term.local_grad)} = "
                    rf"{format_number(term.contribution)} \\"  # type: ignore[arg-type]
                )
                if term.adds_to_earlier:
                    lines.append(
                        rf"{d(out, x)} &= {format_number(term.grad_before)} + "  # type: ignore[arg-type]
                        rf"{_tex_number(term.contribution)} = {format_number(term.grad_after)} \\"  # type: ignore[arg-type]
                    )
        lines.append(r"\end{align*}")
        body = "\n".join(lines) + "\n"
        if document:
            return (
                "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amsmath}\n"
                f"\\begin{{document}}\n{body}\\end{{document}}\n"
            )
        return body

    def _draw_options(self, options: Mapping[str, object]) -> dict[str, object]:
        clash = sorted(set(options) & set(_OWN_OPTIONS))
        if clash:
            raise ValueError(
                f"{', '.join(clash)}: set by the explanation for each step; pass only other draw_dot options "
                "(rankdir, max_nodes, group, params, legend, node_colors)"
            )
        return {**options, "names": self.names}

    def render_steps(
        self, directory: str | os.PathLike[str], format: str = "svg", **options: object
    ) -> list[Path]:
        """One graph image per step, ``step-001.svg`` ..., the active node and its edges highlighted.

        Each image shows the gradients as they are after that step, those the step changed in red.
        ``options`` go to ``draw_dot``.
        """
        if format not in RENDER_FORMATS:
            raise ValueError(f"render_steps: format={format!r} is not one of {', '.join(RENDER_FORMATS)}")
        draw_options = self._draw_options(options)
        directory = Path(directory)
        width = max(3, len(str(len(self))))
        paths = []
        for k, step in enumerate(self.steps, start=1):
            path = directory / f"step-{k:0{width}d}.{format}"
            updated = [term.operand for term in step.updated()]
            grads = self.grads_after(k)
            paths.append(
                render(
                    self.root, path, highlight=[step.node], grads=grads, grad_changed=updated, **draw_options
                )
            )
        return paths

    def to_html(self, path: str | os.PathLike[str] | None = None, **options: object) -> str:
        """One self-contained HTML page stepping through the pass; written atomically to ``path`` if given.

        Previous/Next buttons and the arrow keys move between steps; each step shows the graph (an
        SVG made by ``dot``, inline) with the active node highlighted, and its equations. The page
        loads nothing: no network, no CDN.
        """
        draw_options = self._draw_options(options)
        position = {node: i for i, node in enumerate(self.order)}
        # Lay the graph out once with each node's widest grad text, so later values fit their cells.
        widest = dict(self.start)
        texts: list[dict[str, str]] = []
        for step in self.steps:
            changes = {}
            for term in step.updated():
                node, grad = cast(Value, term.operand), cast(float, term.grad_after)
                changes[svg_id(position[node])] = f"grad {format_number(grad)}"
                if len(format_number(grad)) > len(format_number(widest[node])):
                    widest[node] = grad
            texts.append(changes)
        graph = draw_dot(self.root, grads=widest, **draw_options)  # type: ignore[arg-type]
        svg = graph.pipe(format="svg").decode("utf-8")
        svg = svg[svg.index("<svg") :]  # inline SVG takes no XML prolog or doctype
        grad_data = {
            "start": {svg_id(position[n]): f"grad {format_number(g)}" for n, g in self.start.items()},
            "steps": texts,
        }
        # "<" escaped as \u003c so no string in the data can close the <script> element
        data = json.dumps(grad_data).replace("<", "\\u003c")
        panels = "\n".join(self._html_panel(step, position) for step in self.steps)
        if not self.steps:
            panels = (
                f"<p>{html.escape(self.names[self.root])} is a leaf: there is nothing to backpropagate.</p>"
            )
        fields = {
            "TITLE": html.escape(self._title()),
            "SEED": html.escape(self._seed()),
            "COLUMNS": html.escape(self._columns()),
            "COUNT": str(len(self)),
            "FIRST": "1" if self.steps else "0",
            "HIGHLIGHT": HIGHLIGHT,
            "PANELS": panels,
            "GRAPH": svg,
            "DATA": data,
        }
        # One pass over the template, so a label that reads "@DATA@" is never substituted itself.
        page = re.sub(r"@([A-Z]+)@", lambda m: fields[m.group(1)], _HTML_PAGE)
        if path is not None:
            write_atomic(Path(path), page.encode("utf-8"))
        return page

    def _html_panel(self, step: Step, position: Mapping[Value, int]) -> str:
        out = self.names[self.root]
        header = "".join(f"<th>{html.escape(h)}</th>" for h in _HEADER)
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
            for row in self._rows(step)
        )
        equations = "".join(f'<div class="eq">{html.escape(e)}</div>' for e in step.equations())
        return (
            f'<section class="step" data-node="{svg_id(position[step.node])}" hidden>\n'
            f'<h2>Step {step.number}: <span class="formula">{html.escape(step.formula)}</span></h2>\n'
            f"<p>Upstream gradient <b>{html.escape(f'd{out}/d{step.name}')} = "
            f"{format_number(step.upstream)}</b> has reached {html.escape(step.name)}; backward multiplies "
            "it by each local derivative and adds the product into that operand's grad.</p>\n"
            f'<table class="terms"><tr>{header}</tr>{rows}</table>\n{equations}\n</section>'
        )


# ----------------------------------------------------------------------------------------------
# Escaping for Markdown and LaTeX (HTML uses html.escape, graphs use viz.escape_label)


def _md(text: str) -> str:
    """Text shown literally in Markdown, also inside a table cell (``|``) and in Jupyter (``$``)."""
    return re.sub(r"([\\`*_\[\]<>|~&$#])", r"\\\1", text)


_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}


def _tex_name(name: str) -> str:
    return r"\text{" + "".join(_TEX_SPECIALS.get(ch, ch) for ch in name) + "}"


def _tex_number(x: float | None) -> str:
    """A number as a factor or addend: negative ones in parentheses, 2 \\cdot (-3)."""
    if x is None:
        return r"\text{undefined}"
    text = format_number(x)
    return f"({text})" if text.startswith("-") else text


_TEX_OPS = {"+": "+", "-": "-", "*": r"\cdot", "/": "/"}


def _tex_formula(node: Value, names: Mapping[Value, str]) -> str:
    """``_formula`` in LaTeX: the node's operands in the op's order."""
    parts = [_tex_name(names[x]) if isinstance(x, Value) else format_constant(x) for x in node.operands()]
    if node._op == "**" and len(parts) == 2:
        body = f"{{{parts[0]}}}^{{{parts[1]}}}"
    elif node._rule.infix and len(parts) == 2:
        body = f"{parts[0]} {_TEX_OPS.get(node._op, _tex_name(node._op))} {parts[1]}"
    else:
        body = rf"\operatorname{{{_tex_name(node._op)}}}({', '.join(parts)})"
    return f"{_tex_name(names[node])} = {body}"


_HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
:root { --hl: @HIGHLIGHT@; }
body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #212529; background: #fff; }
header { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: .8rem;
  align-items: center; padding: .6rem 1rem; background: #f8f9fa; border-bottom: 1px solid #dee2e6; }
h1 { font-size: 1.05rem; margin: 0 1rem 0 0; }
button { font: inherit; padding: .3rem .9rem; cursor: pointer; }
#counter { font-weight: bold; min-width: 7.5em; text-align: center; font-variant-numeric: tabular-nums; }
.hint { color: #868e96; font-size: .85rem; }
main { padding: .6rem 1rem 1rem; }
.seed { color: #495057; margin: .2rem 0 .6rem; }
section.step h2 { font-size: 1.05rem; margin: .2rem 0 .4rem; }
.formula, .eq { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
table.terms { border-collapse: collapse; margin: .4rem 0; font-variant-numeric: tabular-nums; }
table.terms th, table.terms td { border: 1px solid #dee2e6; padding: .15rem .6rem; text-align: right; }
table.terms th:first-child, table.terms td:first-child { text-align: left; }
.eq { background: #fff5f5; border-left: 4px solid var(--hl); padding: .25rem .6rem; margin: .25rem 0; }
#graph { margin-top: .8rem; border: 1px solid #dee2e6; overflow: auto; }
#graph svg { max-width: 100%; height: auto; display: block; }
#graph g.active polygon, #graph g.active ellipse, #graph g.active path {
  stroke: var(--hl); stroke-width: 3px; }
#graph g.edge.active polygon { fill: var(--hl); }
#graph g.updated text:last-of-type { fill: var(--hl); font-weight: bold; }
</style>
</head>
<body>
<header>
<h1>@TITLE@</h1>
<button id="prev" type="button">&#9664; Previous</button>
<span id="counter">Step @FIRST@ / @COUNT@</span>
<button id="next" type="button">Next &#9654;</button>
<span class="hint">or the &larr; &rarr; keys</span>
</header>
<main>
<p class="seed">Start: @SEED@. Each step takes one node, in reverse topological order, and passes its
gradient to its operands by the chain rule. @COLUMNS@ In the graph the active node is outlined in
red and the gradients it has just changed are red.</p>
<div id="steps">
@PANELS@
</div>
<div id="graph">
@GRAPH@
</div>
</main>
<script type="application/json" id="grad-data">@DATA@</script>
<script>
"use strict";
(function () {
  const panels = Array.from(document.querySelectorAll("section.step"));
  const data = JSON.parse(document.getElementById("grad-data").textContent);
  const graph = document.getElementById("graph");
  const counter = document.getElementById("counter");
  const prev = document.getElementById("prev");
  const next = document.getElementById("next");
  let current = 0;

  // The grad is the last text of a value's box (label, data, grad).
  function setGrad(id, text) {
    const node = document.getElementById(id);
    if (!node) return;
    const texts = node.querySelectorAll("text");
    if (texts.length) texts[texts.length - 1].textContent = text;
  }

  function show(k) {
    if (!panels.length) { prev.disabled = next.disabled = true; return; }
    current = Math.max(0, Math.min(panels.length - 1, k));
    const grads = Object.assign({}, data.start);
    for (let i = 0; i <= current; i++) Object.assign(grads, data.steps[i]);
    for (const id of Object.keys(grads)) setGrad(id, grads[id]);
    graph.querySelectorAll(".active, .updated")
      .forEach(function (el) { el.classList.remove("active", "updated"); });
    const nodeId = panels[current].dataset.node;
    // The node and everything drawn for its op have ids "v7", "v7-op", "v7-in0", ...
    graph.querySelectorAll('[id="' + nodeId + '"], [id^="' + nodeId + '-"]')
      .forEach(function (el) { el.classList.add("active"); });
    for (const id of Object.keys(data.steps[current])) {
      const el = document.getElementById(id);
      if (el) el.classList.add("updated");
    }
    panels.forEach(function (panel, i) { panel.hidden = i !== current; });
    counter.textContent = "Step " + (current + 1) + " / " + panels.length;
    prev.disabled = current === 0;
    next.disabled = current === panels.length - 1;
  }

  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "ArrowRight") { show(current + 1); event.preventDefault(); }
    else if (event.key === "ArrowLeft") { show(current - 1); event.preventDefault(); }
    else if (event.key === "Home") { show(0); event.preventDefault(); }
    else if (event.key === "End") { show(panels.length - 1); event.preventDefault(); }
  });
  show(0);
})();
</script>
</body>
</html>
"""
