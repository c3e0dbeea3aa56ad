"""How numbers, names and colours look in every rendering: pictures, explanations, the training page.

One place for each: ``format_number`` (a value or gradient), ``format_constant`` (a constant operand),
``node_names`` (a node's name: its label, or n1, n2, ... in forward order when unlabelled) and the
colours of roles and of positive and negative weights.
"""

from __future__ import annotations

from collections.abc import Sequence

from micrograd.engine import Value

# Fill colour per role; colour-blind friendly pastel shades, dark text stays readable on each.
ROLE_COLORS = {
    "input": "#cfe2ff",
    "parameter": "#d3f9d8",
    "intermediate": "#f1f3f5",
    "output": "#ffd8a8",
    "neuron": "#e5dbff",
}
HIGHLIGHT = "#e03131"
INK = "#343a40"
MUTED = "#868e96"
FONT = "Helvetica,Arial,sans-serif"
# Weights and neuron outputs in the network view (as TensorFlow Playground colours them): blue for
# positive, orange for negative.
POSITIVE = "#1c7ed6"
NEGATIVE = "#f76707"


def format_number(x: float) -> str:
    """A value as the pictures and explanations print it: 4 decimals, or scientific when tiny or huge."""
    x = x + 0.0  # turns -0.0 into 0.0, which would otherwise print as "-0.0000"
    if x == 0.0 or 1e-4 <= abs(x) < 1e6:
        return f"{x:.4f}"
    return f"{x:.4e}"


def format_constant(x: float) -> str:
    """A constant operand, short as a person writes it: 2, 0.5, 1e-08."""
    return f"{x + 0.0:g}"


def printable(text: str) -> str:
    """``text`` on one line: newlines and other invisible characters written as escapes (``\\n``)."""
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)


def node_names(order: Sequence[Value]) -> dict[Value, str]:
    """Each node's name in every rendering: its label (on one line), or n1, n2, ... when unlabelled.

    ``order`` is ``topological_order(root)``, so unlabelled nodes are numbered in forward order. A
    user's label "n2" keeps its name; the generated names skip it.
    """
    labels = {printable(node.label) for node in order if node.label}
    names: dict[Value, str] = {}
    k = 0
    for node in order:
        if node.label:
            names[node] = printable(node.label)
            continue
        k += 1
        while f"n{k}" in labels:
            k += 1
        names[node] = f"n{k}"
    return names
