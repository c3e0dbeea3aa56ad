"""The lesson as Markdown (``Explanation.to_markdown``, and Jupyter's ``_repr_markdown_``).

The equations are the text rendering's lines as code spans: shown literally in any Markdown
(labels with ``*``, ``_``, ``|`` or ``$`` included, also in Jupyter, where ``$`` starts math).
"""

from __future__ import annotations

import re
from typing import Any

from micrograd.explain import render_text as text
from micrograd.fmt import number


def code(content: str) -> str:
    """``content`` as a Markdown code span, fenced by more backticks than it contains in a row."""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if content.startswith("`") or content.endswith("`") or longest else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def words(content: str) -> str:
    """Plain text shown literally in Markdown (also in Jupyter, where ``$`` starts math)."""
    return re.sub(r"([\\`*_\[\]<>|~&$#])", r"\\\1", content)


def render(ex: Any) -> str:
    out = ex.output
    lines = [f"## {words(text.title(ex))}", "", *(f"{words(line)}  " for line in text.legend(ex)), ""]
    lines += ["### Forward pass", ""]
    lines += [f"{step.number}. {code(text.forward_line(ex, step))}" for step in ex.forward]
    lines += ["", f"The output: {code(f'{out} = {number(ex.root.data, ex.digits)}')}", ""]
    lines += ["### Backward pass", ""]
    if not ex.steps:
        lines.append(f"{code(out)} is a leaf: there is nothing to backpropagate.")
    else:
        lines += [code(text.seed_line(ex)), ""]
    for step in ex.steps:
        heading = text.step_heading(ex, step)
        title, _, equation = heading.partition(": ")
        lines += [f"#### {words(title)}: {code(equation.strip())}", ""]
        lines += [f"- {code(line)}" for line in text.step_lines(ex, step)]
        lines.append("")
    if ex.updates:
        lines += ["### Update", "", *(words(line) for line in text.update_heading(ex)), ""]
        lines += [f"- {code(text.update_line(ex, update))}" for update in ex.updates]
    return "\n".join(lines).rstrip() + "\n"
