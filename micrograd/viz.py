"""Computation graphs as pictures: ``draw_dot`` builds a Graphviz graph, ``render`` writes it to a file.

The classic look: every value is a box ``label | data 2.0000 | grad -3.0000`` and every op is a
small node of its own between its operands and its result, so a reader sees the forward pass
left to right and can follow the gradient back along the same arrows. Boxes are coloured by
role: an *input* (a leaf that is not a parameter), a *parameter* (a leaf passed in ``params=``
or labelled as ``micrograd.nn`` labels its weights and biases, ``L0.N1.w2`` / ``L0.N1.b``), an
*intermediate* result, and the *output* (the root).

Every piece of text that reaches the DOT source goes through ``escape_label``: labels are
arbitrary user strings and must never break the DOT text or inject markup.

SVG ids are stable, so a page can script the picture: the value at position ``i`` of
``topological_order(root)`` is ``v{i}`` (see ``svg_id``), and everything drawn for its op (the
op node, its constants, the edges into and out of the op) has an id starting with ``v{i}-``.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz

from micrograd.engine import Value, topological_order
from micrograd.files import write_atomic
from micrograd.install import dot_install_hint

RENDER_FORMATS = ("svg", "png", "pdf")
# dot lays out up to this many nodes per max_nodes (op nodes and the hidden nodes of long edges count):
# at the default max_nodes, a few seconds.
LAYOUT_PER_NODE = 6
RANKDIRS = ("LR", "RL", "TB", "BT")

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
FONT = "Helvetica,Arial,sans-serif"

# How micrograd.nn labels its parameters: layer, neuron, then w{i} or b (all 0-based); and, when
# it builds a neuron unfused, the neuron's weighted sum (.net) and output (.out).
PARAMETER_LABEL = re.compile(r"L(\d+)\.N(\d+)\.(?:w\d+|b)")
NEURON_NODE_LABEL = re.compile(r"L(\d+)\.N(\d+)\.(net|out)")
ACTIVATION_OPS = ("tanh", "relu", "sigmoid")

# Operand roles worth writing on the edges: where the order of the operands changes the result.
_EDGE_LABELS = {"-": ("+", "\u2212"), "/": ("num", "den"), "**": ("base", "exp")}

class GraphvizNotFound(RuntimeError):
    """Graphviz's ``dot`` program is not installed, so a graph cannot be turned into an image."""


class Graph(graphviz.Digraph):
    """What ``draw_dot`` returns: a ``graphviz.Digraph`` (Jupyter shows it inline, ``.source`` is its
    DOT text) whose pictures, in a notebook as in ``render``, say how to install a missing ``dot``."""

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        if shutil.which("dot") is None:
            raise GraphvizNotFound(
                "Graphviz's `dot` program is not on the PATH, so the graph cannot be drawn. "
                + dot_install_hint()
            )
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as exc:
            raise GraphvizNotFound(
                f"Graphviz's `dot` program could not be run ({exc}). {dot_install_hint()}"
            ) from exc


# dot's HTML-label scanner fails on a run of text of 16,384 bytes or more; an escaped character takes
# at most 7 bytes ("\\ud800"), so a label cut to this many characters always draws.
MAX_LABEL_CHARS = 2000


def escape_label(text: str) -> str:
    """``text`` as the content of a Graphviz HTML-like label: shown verbatim, never parsed as markup.

    The one escaping function for everything user-supplied that reaches DOT (labels, op names,
    legend text). Markup characters become entities, line breaks become ``<BR/>``, and characters
    that are not valid XML (control characters, lone surrogates) are shown as ``\\x07`` or ``\\ud800``.
    A backslash is doubled: dot expands ``\\N`` (the node's name), ``\\G``, ``\\E``, ``\\T``,
    ``\\H`` and ``\\L`` even inside HTML labels (after entities are decoded), and reads ``\\\\`` as
    one backslash. Quotes, braces and pipes need nothing more: inside ``<...>`` they are plain text.
    (A lone ``]`` trips dot's HTML lexer, so it becomes a character reference too.)

    A text longer than ``MAX_LABEL_CHARS`` is cut there and ends in a visible
    ``... (N more characters)``: dot cannot lay out a much longer run of text at all.
    """
    if len(text) > MAX_LABEL_CHARS:
        cut = len(text) - MAX_LABEL_CHARS
        text = f"{text[:MAX_LABEL_CHARS]}\u2026 ({cut:,} more character{'s' if cut > 1 else ''})"
    lines = re.split(r"\r\n|\r|\n", text)
    return "<BR/>".join("".join(_escape_char(ch) for ch in line) for line in lines)


def _escape_char(ch: str) -> str:
    if ch == "&":
        return "&amp;"
    if ch == "<":
        return "&lt;"
    if ch == ">":
        return "&gt;"
    if ch == '"':
        return "&quot;"
    if ch == "]":
        return "&#93;"  # dot 2.43 rejects the label <]>; as a reference it is plain text everywhere
    if ch == "\\":
        return "\\\\"  # dot turns \N into the node's name, and \\ into one backslash
    if unicodedata.category(ch) in ("Cc", "Cs") or ch in "\ufffe\uffff":
        code = ord(ch)
        return f"\\\\x{code:02x}" if code < 0x100 else f"\\\\u{code:04x}"
    return ch


def format_number(x: float) -> str:
    """A value as the pictures and explanations print it: 4 decimals, or scientific when tiny or huge."""
    x = x + 0.0  # turns -0.0 into 0.0, which would otherwise print as "-0.0000"
    if x == 0.0 or 1e-4 <= abs(x) < 1e6:
        return f"{x:.4f}"
    return f"{x:.4e}"


def format_constant(x: float) -> str:
    """A constant operand, short as a person writes it: 2, 0.5, 1e-08."""
    return f"{x + 0.0:g}"


def svg_id(position: int) -> str:
    """The SVG id of the value at ``position`` in ``topological_order(root)``."""
    return f"v{position}"


def is_parameter_label(label: str) -> bool:
    return PARAMETER_LABEL.fullmatch(label) is not None


# ----------------------------------------------------------------------------------------------
# Neurons: which nodes micrograd.nn built for which neuron


@dataclass
class _Application:
    """One use of a neuron: the nodes computing its weighted sum and activation, output last."""

    members: list[Value]

    @property
    def output(self) -> Value:
        return self.members[-1]


@dataclass
class _Neuron:
    layer: int
    index: int
    params: list[Value] = field(default_factory=list)
    applications: list[_Application] = field(default_factory=list)  # one per forward pass through it

    @property
    def name(self) -> str:
        return f"L{self.layer}.N{self.index}"

    def members(self) -> list[Value]:
        """The neuron's nodes in reading order: w0, w1, ..., b, then each application's nodes."""
        nodes = sorted(self.params, key=lambda p: (p.label.endswith(".b"), len(p.label), p.label))
        for application in self.applications:
            nodes.extend(application.members)
        return nodes


def _neuron_key(node: Value) -> tuple[int, int] | None:
    match = PARAMETER_LABEL.fullmatch(node.label) if node._op == "" else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def _find_neurons(order: list[Value]) -> dict[tuple[int, int], _Neuron]:
    """Group the nodes micrograd.nn built for each neuron, found through its parameters' labels.

    A fused neuron is one 'linear' node whose weights are the neuron's parameters; an unfused one
    (``fused=False``) is a chain of ``w_i * x_i`` products and ``+`` nodes ending in the node nn
    labels ``L0.N1.net`` (or ``.out`` without activation). The activation (tanh, relu, sigmoid)
    applied to that weighted sum joins the neuron.
    """
    neurons: dict[tuple[int, int], _Neuron] = {}
    partial: dict[Value, tuple[int, int]] = {}  # unlabelled products and sums of one neuron's params
    pending: dict[Value, _Application] = {}  # a weighted sum waiting for its activation
    for node in order:
        operands = node.operands()
        key = _neuron_key(node)
        if key is not None:
            neurons.setdefault(key, _Neuron(*key)).params.append(node)
            partial[node] = key
            continue
        if node._op == "linear":
            weights = operands[: (len(operands) - 1) // 2]
            keys = {_neuron_key(w) if isinstance(w, Value) else None for w in weights}
            key = keys.pop() if len(keys) == 1 else None
            if key is not None:
                application = _Application([node])
                neurons.setdefault(key, _Neuron(*key)).applications.append(application)
                pending[node] = application
            continue
        if node._op in ("+", "*"):
            keys = {partial.get(x) for x in operands if isinstance(x, Value)} - {None}
            label = NEURON_NODE_LABEL.fullmatch(node.label)
            if label is not None:
                key = (int(label.group(1)), int(label.group(2)))
                application = _Application(_chain(node, key, partial))
                neurons.setdefault(key, _Neuron(*key)).applications.append(application)
                if label.group(3) == "net":
                    pending[node] = application
            elif len(keys) == 1 and not node.label:
                partial[node] = keys.pop()  # type: ignore[assignment]
            continue
        if node._op in ACTIVATION_OPS and isinstance(operands[0], Value) and operands[0] in pending:
            pending.pop(operands[0]).members.append(node)
    return neurons


def _chain(net: Value, key: tuple[int, int], partial: Mapping[Value, tuple[int, int]]) -> list[Value]:
    """An unfused weighted sum's products and partial sums, walking back from its net node.

    A walk that stays inside the neuron, not a graph walk: ``topological_order(net)`` would visit
    everything below the neuron (the whole network before it) once per application.
    """
    members, stack, seen = [], [net], {net}
    while stack:
        node = stack.pop()
        members.append(node)
        for x in node.operands():
            if isinstance(x, Value) and x not in seen and x._op and partial.get(x) == key:
                seen.add(x)
                stack.append(x)
    return members[::-1]  # net last


# ----------------------------------------------------------------------------------------------
# draw_dot


def _role(node: Value, root: Value, params: set[Value]) -> str:
    if node is root:
        return "output"
    if node._op != "":
        return "intermediate"
    return "parameter" if node in params or is_parameter_label(node.label) else "input"


def _table(cells: list[str], fill: str, highlighted: bool) -> str:
    border, color = ("3", HIGHLIGHT) if highlighted else ("0", INK)
    row = "".join(f"<TD>{cell}</TD>" for cell in cells)
    return (
        f'<<TABLE BORDER="{border}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" '
        f'BGCOLOR="{fill}" COLOR="{color}"><TR>{row}</TR></TABLE>>'
    )


def _legend(entries: Mapping[str, str]) -> str:
    cells = "".join(
        f'<TD BGCOLOR="{escape_label(color)}" BORDER="1">{escape_label(text)}</TD>'
        for color, text in entries.items()
    )
    return f'<<TABLE BORDER="0" CELLSPACING="6" CELLPADDING="3"><TR>{cells}</TR></TABLE>>'


def draw_dot(
    root: Value,
    format: str = "svg",
    rankdir: str = "LR",
    show_grad: bool = True,
    max_nodes: int = 500,
    collapse: bool = False,
    highlight: Iterable[Value] | None = None,
    node_colors: Mapping[Value, str] | None = None,
    group: str | bool | None = None,
    *,
    legend: bool | Mapping[str, str] = True,
    params: Iterable[Value] | None = None,
    names: Mapping[Value, str] | None = None,
    grads: Mapping[Value, float] | None = None,
    grad_changed: Iterable[Value] | None = None,
) -> Graph:
    """The computation graph of ``root`` as a ``graphviz.Digraph`` (shows inline in Jupyter).

    - ``highlight``: values to emphasise; each one's op node and the edges into and out of that op
      are emphasised too, since that is where its gradient flows during backward.
    - ``node_colors``: fill colour per value, overriding the role colour; ``legend`` then takes a
      mapping colour -> text to explain them (``legend=True`` shows the role colours, ``False`` none).
    - ``group``: ``None``/``"auto"``/``True`` draws a box around each neuron and each layer built by
      ``micrograd.nn`` (found by parameter labels ``L{layer}.N{neuron}.w{i}``/``.b``); ``False`` or
      ``"none"`` draws no boxes. ``collapse=True`` draws each neuron application as one box.
    - ``params``: leaves to colour as parameters, besides those labelled like nn parameters.
    - ``names``: text for the first cell of each value's box (default: its label, if any).
    - ``grads``: gradient to print per value instead of its current ``.grad``; ``grad_changed``:
      values whose grad is printed in red (the ones a backward step has just updated).

    Raises ValueError above ``max_nodes`` boxes, or when edges stretched over many ranks would
    make dot lay out more than ``LAYOUT_PER_NODE * max_nodes`` nodes: dot takes minutes on either.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot: root must be a Value, got {type(root).__name__} {root!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_dot: rankdir={rankdir!r} is not one of {', '.join(RANKDIRS)}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_dot: max_nodes must be a positive int, got {max_nodes!r}")
    if group not in (None, True, False, "auto", "none"):
        raise ValueError(f"draw_dot: group={group!r} is not one of None, 'auto', 'none', True, False")
    grouping = group in (None, True, "auto")

    order = topological_order(root)
    position = {node: i for i, node in enumerate(order)}
    neurons = _find_neurons(order) if grouping or collapse else {}
    hidden, boxes = _collapse(order, neurons) if collapse else (set(), {})

    _refuse_what_dot_would_take_minutes_on(order, neurons, hidden, boxes, max_nodes, collapse, names)

    highlighted = set(highlight or ())
    changed = set(grad_changed or ())
    param_set = set(params or ())
    colors = dict(node_colors or {})
    dot = Graph(
        name="micrograd",
        format=format,
        graph_attr={
            "rankdir": rankdir,
            "fontname": FONT,
            "nodesep": "0.25",
            "ranksep": "0.35",
            "bgcolor": "white",
        },
        node_attr={"fontname": FONT, "fontsize": "11", "color": INK, "fontcolor": INK},
        edge_attr={
            "fontname": FONT,
            "fontsize": "10",
            "color": INK,
            "fontcolor": "#495057",
            "arrowsize": "0.7",
        },
    )

    # Which drawing (the top graph, or a neuron's box inside a layer's box) holds each value.
    owner: dict[Value, _Neuron] = {}
    if grouping:
        for neuron in neurons.values():
            for node in neuron.members():
                owner[node] = neuron
    roles_shown: set[str] = set()

    def draw_value(graph: graphviz.Digraph, node: Value) -> None:
        i = position[node]
        vid = svg_id(i)
        box = boxes.get(node)
        role = "output" if node is root else "neuron" if box is not None else _role(node, root, param_set)
        roles_shown.add(role)
        fill = colors.get(node, ROLE_COLORS[role])
        name = names.get(node, node.label) if names is not None else node.label
        if box is not None and name.startswith(box.neuron + "."):
            name = ""  # "L0.N1.out" would only repeat the neuron's name that the box shows
        cells = [escape_label(name)] if name else []
        if box is not None:
            cells.append(escape_label(box.text))
        cells.append(f"data {format_number(node.data)}")
        if show_grad:
            grad = grads.get(node, node.grad) if grads is not None else node.grad
            text = f"grad {format_number(grad)}"
            cells.append(f'<FONT COLOR="{HIGHLIGHT}">{text}</FONT>' if node in changed else text)
        lit = node in highlighted
        graph.node(vid, label=_table(cells, escape_label(fill), lit), shape="plain", id=vid)
        operands = node.operands()
        if box is not None:
            edge_style = {"color": HIGHLIGHT, "penwidth": "2.5"} if lit else {}
            for j, source_node in enumerate(box.inputs):
                dot.edge(svg_id(position[source_node]), vid, id=f"{vid}-in{j}", **edge_style)
            return
        if not operands:
            return
        op_id = f"{vid}-op"
        op_name = escape_label(node._op)
        graph.node(
            op_id,
            label=f"<{op_name}>",
            id=op_id,
            shape="circle" if len(node._op) <= 2 else "ellipse",
            style="filled",
            fillcolor="white",
            fontsize="12",
            width="0.3",
            height="0.3",
            margin="0.02",
            color=HIGHLIGHT if lit else INK,
            penwidth="2.5" if lit else "1",
        )
        edge_style = {"color": HIGHLIGHT, "penwidth": "2.5"} if lit else {}
        dot.edge(op_id, vid, id=f"{vid}-out", **edge_style)
        for j, x in enumerate(operands):
            if isinstance(x, Value):
                source = svg_id(position[x])
            else:
                source = f"{vid}-c{j}"
                graph.node(
                    source,
                    label=f"<{escape_label(format_constant(x))}>",
                    id=source,
                    shape="plaintext",
                    fontsize="10",
                    fontcolor="#495057",
                    width="0",
                    height="0",
                    margin="0.02",
                )
            text = _edge_label(node, j)
            labelled = {**edge_style, "label": text} if text else edge_style
            dot.edge(source, op_id, id=f"{vid}-in{j}", **labelled)

    visible = [node for node in order if node not in hidden]
    for node in visible:
        if node not in owner:
            draw_value(dot, node)
    by_layer: dict[int, list[_Neuron]] = {}
    for neuron in neurons.values():
        if grouping and any(node not in hidden for node in neuron.members()):
            by_layer.setdefault(neuron.layer, []).append(neuron)
    for layer in sorted(by_layer):
        with dot.subgraph(name=f"cluster_L{layer}") as layer_box:
            layer_box.attr(
                label=f"layer {layer}", style="rounded,dashed", color="#adb5bd", fontcolor="#868e96"
            )
            for neuron in sorted(by_layer[layer], key=lambda n: n.index):
                shown = [node for node in neuron.members() if node not in hidden]
                if collapse and all(node in boxes for node in shown):
                    for node in shown:  # a neuron's box already names it: no frame around it
                        draw_value(layer_box, node)
                    continue
                with layer_box.subgraph(name=f"cluster_{neuron.name}") as neuron_box:
                    neuron_box.attr(
                        label=f"neuron {neuron.name}",
                        style="rounded,filled",
                        fillcolor="#f8f9fa",
                        color="#ced4da",
                    )
                    for node in shown:
                        draw_value(neuron_box, node)

    if legend is True and node_colors is None:
        entries = {ROLE_COLORS[r]: r for r in ROLE_COLORS if r in roles_shown}
        if highlighted:
            entries[HIGHLIGHT] = "highlighted (red border)"
    elif isinstance(legend, Mapping):
        entries = dict(legend)
    else:
        entries = {}
    if entries:
        # Set last, so that the neuron and layer boxes above do not inherit it as their label.
        dot.attr(label=_legend(entries), labelloc="b", labeljust="l", fontsize="10")
    return dot


def _edge_label(node: Value, j: int) -> str:
    if node._op == "linear":
        n = (len(node.operands()) - 1) // 2
        # 0-based, like the parameter labels L0.N1.w0
        return "b" if j == 2 * n else f"w{j}" if j < n else f"x{j - n}"
    names = _EDGE_LABELS.get(node._op)
    return names[j] if names and j < len(names) else ""


@dataclass
class _Box:
    """A collapsed neuron application: its text and the values flowing into it."""

    neuron: str
    text: str
    inputs: list[Value]


def _collapse(
    order: list[Value], neurons: Mapping[tuple[int, int], _Neuron]
) -> tuple[set[Value], dict[Value, _Box]]:
    """Nodes hidden inside neuron boxes, and the box drawn for each neuron application's output.

    A node is hidden only when nothing outside its neuron uses it (an L2 penalty on the weights
    keeps them visible, with edges into the boxes), so collapsing never drops an edge of the graph.
    """
    users: dict[Value, set[Value]] = {}
    for node in order:
        for x in node.operands():
            if isinstance(x, Value):
                users.setdefault(x, set()).add(node)
    hidden: set[Value] = set()
    boxes: dict[Value, _Box] = {}
    for neuron in neurons.values():
        collapsed: set[Value] = set()
        for application in neuron.applications:
            inner = set(application.members)
            if all(users.get(node, set()) <= inner for node in application.members[:-1]):
                collapsed |= inner
                hidden |= inner - {application.output}
        hidden |= {p for p in neuron.params if users.get(p) and users[p] <= collapsed}
        n_weights = sum(1 for p in neuron.params if not p.label.endswith(".b"))
        for application in neuron.applications:
            out = application.output
            if out not in collapsed:
                continue
            inputs: dict[Value, None] = {}
            constants = 0
            for node in application.members:
                for x in node.operands():
                    if not isinstance(x, Value):
                        constants += 1
                    elif x not in application.members and x not in hidden:
                        inputs[x] = None
            net = "w\u00b7x+b"
            text = (
                f"{neuron.name}: {out._op}({net})" if out._op in ACTIVATION_OPS else f"{neuron.name}: {net}"
            )
            text += f"\n{n_weights} weights" + (f", {constants} constant inputs" if constants else "")
            boxes[out] = _Box(neuron.name, text, list(inputs))
    return hidden, boxes


def _refuse_what_dot_would_take_minutes_on(
    order: list[Value],
    neurons: Mapping[tuple[int, int], _Neuron],
    hidden: set[Value],
    boxes: Mapping[Value, _Box],
    max_nodes: int,
    collapse: bool,
    names: Mapping[Value, str] | None,
) -> None:
    """Raise a ValueError, saying how to draw it anyway, above max_nodes boxes or too long a layout."""
    count = _count_drawn(order, hidden, boxes)
    if count > max_nodes:
        found = neurons or _find_neurons(order)
        if collapse:
            hint = " (this count is already collapsed: one box per neuron)"
        elif found:
            collapsed = _count_drawn(order, *_collapse(order, found))
            hint = f", or pass collapse=True to draw one box per neuron ({collapsed} nodes)"
        else:
            hint = " (collapse=True, which draws one box per neuron, helps only graphs built by micrograd.nn)"
        raise ValueError(
            f"draw_dot: the graph has {count} nodes to draw (values and constants), more than "
            f"max_nodes={max_nodes}; dot would take a long time on it. Pass max_nodes={count} to draw it "
            f"anyway{hint}."
        )
    layout, stretched, stretch = _layout_size(order, hidden, boxes)
    if layout > LAYOUT_PER_NODE * max_nodes:
        name = names.get(stretched, stretched.label) if names is not None else stretched.label
        which = repr(name) if name else f"with data {format_number(stretched.data)}"
        raise ValueError(
            f"draw_dot: dot would take minutes to lay this graph out. It has only {count} nodes to draw, "
            f"but values used at very different depths stretch edges over many ranks, and dot lays out a "
            f"hidden node on every rank an edge crosses: {layout} nodes in all, more than "
            f"{LAYOUT_PER_NODE} x max_nodes = {LAYOUT_PER_NODE * max_nodes} (the value {which} alone adds "
            f"{stretch}). Pass max_nodes={-(-layout // LAYOUT_PER_NODE)} to draw it anyway, or draw a "
            "part of the graph: draw_dot(an inner node)."
        )


def _count_drawn(order: list[Value], hidden: set[Value], boxes: Mapping[Value, _Box]) -> int:
    count = 0
    for node in order:
        if node in hidden:
            continue
        count += 1
        if node not in boxes:
            count += sum(1 for x in node.operands() if not isinstance(x, Value))
    return count


def _layout_size(
    order: list[Value], hidden: set[Value], boxes: Mapping[Value, _Box]
) -> tuple[int, Value, int]:
    """About how many nodes dot lays out; the value whose edges cross the most ranks, and how many.

    dot puts an op node one rank after its operands and a value one rank after its op, and routes an
    edge that skips ranks through a hidden node on each rank it crosses. Its time grows faster than
    the total, so a value used at very different depths (x in Horner's rule, x * (...) + 1 again and
    again) makes a graph of 100 values take minutes. A leaf is counted as placed just before its
    first use, where dot puts it.
    """
    rank: dict[Value, int] = {}
    first_use: dict[Value, int] = {}
    edges: list[tuple[Value, int]] = []  # (operand, rank of the op node or neuron box it enters)
    size = 0
    for node in order:
        if node in hidden:
            continue
        size += 1
        box = boxes.get(node)
        if box is None and not node._op:
            rank[node] = 0
            continue
        operands = box.inputs if box is not None else node.operands()
        sources = [x for x in operands if isinstance(x, Value)]
        enter = 1 + max((rank[x] for x in sources), default=0)
        rank[node] = enter if box is not None else enter + 1
        if box is None:
            size += 1 + len(operands) - len(sources)  # the op node and its constants
        for x in sources:
            edges.append((x, enter))
            first_use[x] = min(first_use.get(x, enter), enter)
    for x, first in first_use.items():
        if not x._op:
            rank[x] = first - 1
    crossed: dict[Value, int] = {}
    for x, enter in edges:
        crossed[x] = crossed.get(x, 0) + enter - rank[x] - 1
    widest = max(crossed, key=crossed.__getitem__, default=order[-1])
    return size + sum(crossed.values()), widest, crossed.get(widest, 0)


# ----------------------------------------------------------------------------------------------
# Files


def render(root: Value, path: str | os.PathLike[str], **options: object) -> Path:
    """Draw ``root``'s graph into ``path`` (.svg, .png or .pdf, by its suffix) with ``dot``; return the path.

    ``options`` are those of ``draw_dot``. The file is written atomically.
    """
    path = Path(path)
    format = path.suffix.lower().lstrip(".")
    if format not in RENDER_FORMATS:
        raise ValueError(
            f"render: cannot tell the image type of {str(path)!r}: its suffix {path.suffix!r} is not "
            f"one of {', '.join('.' + f for f in RENDER_FORMATS)}"
        )
    asked = options.pop("format", format)
    if asked != format:
        raise ValueError(
            f"render: format={asked!r} contradicts the suffix of {str(path)!r}; drop one of them"
        )
    graph = draw_dot(root, format=format, **options)  # type: ignore[arg-type]
    write_atomic(path, graph.pipe(format=format))
    return path
