"""The picture as Graphviz's DOT language (``draw_dot``), and as an image file (``render``).

``graph.py`` decides what is drawn; this module says it to Graphviz: every piece of text goes
through ``escape_label`` (labels are arbitrary user strings and must never break the DOT text or
inject markup), and a graph that ``dot`` would spend more than a few seconds on is refused before
``dot`` runs, with the predicted time and how to draw it anyway (``cost.py`` predicts it).

``render`` lays a graph out once with ``dot`` (``Layout``); a PNG is then drawn from that layout
(``neato -n2`` keeps every position) at the resolution that fits a slide of 1920 x 1080 pixels,
never below the one at which the smallest text is 10 pixels high. ``Layout`` draws restyled
versions of one graph (explain's step images) at the positions of its one layout, the same way.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import graphviz

from micrograd.engine import Value
from micrograd.files import write_atomic
from micrograd.fmt import DIGITS, FONT, HIGHLIGHT, INK, MUTED, check_digits
from micrograd.install import dot_install_hint
from micrograd.viz.cost import Cost, estimate_cost
from micrograd.viz.graph import Highlight, LegendEntry, Node, Picture, build, highlight_path

RENDER_FORMATS = ("svg", "png", "pdf")
RANKDIRS = ("LR", "RL", "TB", "BT")
# Every text is at least this size (points), so a picture drawn at 72 dpi or more has text of 10 px.
FONT_SIZE = 10
OP_FONT_SIZE = 12
# A slide, in pixels; a PNG is drawn at the resolution that fits it, between these (dots per inch):
SLIDE = (1920, 1080)
MIN_DPI = 72.0 * 10 / FONT_SIZE  # the smallest text 10 px high
MAX_DPI = 192.0  # a small graph is drawn sharp, at most twice Graphviz's default of 96
# A dot run that outlives this (seconds) was mispredicted: stop it rather than hang.
DOT_TIMEOUT = 120.0
# draw_dot refuses a graph whose layout dot is predicted to take longer than this (seconds).
MAX_SECONDS = 5.0
# What a missing `dot` message says: the install command for the system this runs on.
INSTALL_HINT = dot_install_hint()

class GraphvizNotFound(RuntimeError):
    """Graphviz's ``dot`` program is not installed, so a graph cannot be turned into an image."""


class Graph(graphviz.Digraph):
    """What ``draw_dot`` returns: a ``graphviz.Digraph`` (Jupyter shows it inline, ``.source`` is its
    DOT text) whose pictures, in a notebook as in ``render``, say how to install a missing ``dot``.
    ``.cost`` is the layout's predicted size and time (see ``cost.py``)."""

    cost: Cost

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        _need_dot()
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as exc:
            raise GraphvizNotFound(
                f"Graphviz's `dot` program could not be run ({exc}). {INSTALL_HINT}"
            ) from exc


def inline_svg(graph: graphviz.Digraph) -> str:
    """The graph drawn by dot as an ``<svg>`` element to put inside an HTML page (no XML prolog)."""
    svg = graph.pipe(format="svg").decode("utf-8")
    return svg[svg.index("<svg") :]


def _need_dot() -> None:
    if shutil.which("dot") is None:
        raise GraphvizNotFound(
            f"Graphviz's `dot` program is not on the PATH, so the graph cannot be drawn. {INSTALL_HINT}"
        )


# ----------------------------------------------------------------------------------------------
# Escaping

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


# ----------------------------------------------------------------------------------------------
# draw_dot


def draw_dot(
    root: Value,
    format: str = "svg",
    rankdir: str = "LR",
    show_grad: bool = True,
    max_nodes: int = 500,
    collapse: bool = False,
    highlight: Iterable[Value] | Highlight | None = None,
    node_colors: Mapping[Value, str] | None = None,
    group: str | bool | None = None,
    *,
    legend: bool | Mapping[str, str] = True,
    params: Iterable[Value] | None = None,
    names: Mapping[Value, str] | None = None,
    grads: Mapping[Value, float] | None = None,
    grad_changed: Iterable[Value] | None = None,
    model: object = None,
    path_from: Value | None = None,
    max_seconds: float = MAX_SECONDS,
    values: Mapping[Value, float] | None = None,
    digits: int = DIGITS,
) -> Graph:
    """The computation graph of ``root`` as a ``graphviz.Digraph`` (shows inline in Jupyter).

    Every value is a box with its name (its label, or n1, n2, ... in forward order as
    ``micrograd.explain`` names it), data and grad; every op a small node between its operands and
    its result. Boxes are coloured by role: input, parameter, intermediate, output.

    - ``model``: the ``micrograd.nn`` model (Neuron, Layer, MLP) that built the graph. Its
      ``structure()`` gives every parameter's role and each neuron's nodes; without it they are
      recognised by nn's labels (``L0.N1.w2``). A network is drawn as one: a sample's inputs as
      shared nodes x1, x2, ... (``x1#2`` for sample 2's), layers as columns from left to right,
      neurons from the top in index order, each neuron's parameters in index order; hidden outputs
      are named after their neuron (``L0.N1``, its weighted sum ``L0.N1.net``), as explain names them.
      Between wide layers (more than 64 connections) the connections go through one bus node.
    - ``collapse=True``: each neuron application as one box (``L0.N1: relu(w.x+b)``).
    - ``group``: ``None``/``"auto"``/``True`` lays a network out as above; ``False``/``"none"``
      draws the plain graph.
    - ``highlight``: values to emphasise, each with its op node and the edges into and out of that
      op (where its gradient flows during backward); or ``highlight_path(of=node, to=root)``.
    - ``path_from``: a node; highlights exactly the nodes and edges on the paths from it to ``root``
      (what the chain rule multiplies): ``highlight=highlight_path(of=path_from, to=root)``.
    - ``node_colors``: fill colour per value, overriding the role colour; ``legend`` then takes a
      mapping colour -> text to explain them (``legend=True`` explains what the picture shows,
      ``False`` nothing).
    - ``params``: leaves to colour as parameters, besides those the model or nn's labels name.
    - ``names``: text for the first cell of each value's box (default: as above).
    - ``grads``: gradient to print per value instead of its current ``.grad``; ``grad_changed``:
      values whose grad is printed in red (the ones a backward step has just updated); ``values``:
      data to print per value instead of its current ``.data``.
    - ``digits``: significant digits of every number shown (default 4: ``0.7071``, ``-3.000``,
      ``4.386e-4``), as ``micrograd.explain`` writes them.

    Raises ValueError above ``max_nodes`` boxes and constants, or when ``dot`` is predicted to take
    more than ``max_seconds`` to lay the graph out; the message gives the figures and the way out.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot: root must be a Value, got {type(root).__name__} {root!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_dot: rankdir={rankdir!r} is not one of {', '.join(RANKDIRS)}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"draw_dot: max_nodes must be a positive int, got {max_nodes!r}")
    if isinstance(max_seconds, bool) or not isinstance(max_seconds, (int, float)) or not max_seconds > 0:
        raise ValueError(f"draw_dot: max_seconds must be a number > 0, got {max_seconds!r}")
    if group not in (None, True, False, "auto", "none"):
        raise ValueError(f"draw_dot: group={group!r} is not one of None, 'auto', 'none', True, False")
    if path_from is not None:
        if highlight is not None:
            raise ValueError("draw_dot: pass highlight= or path_from=, not both")
        highlight = highlight_path(of=path_from, to=root)
    try:
        check_digits(digits)
    except ValueError as exc:
        raise ValueError(f"draw_dot: {exc}") from None
    picture = build(
        root,
        show_grad=show_grad,
        collapse=collapse,
        highlight=highlight,
        node_colors=node_colors,
        grouping=group in (None, True, "auto"),
        legend=legend,
        params=params,
        names=names,
        grads=grads,
        grad_changed=grad_changed,
        model=model,
        values=values,
        digits=digits,
    )
    cost = estimate_cost(picture)
    _refuse_what_dot_would_take_long_on(root, cost, max_nodes, max_seconds, collapse, model)
    graph = _to_dot(picture, format, rankdir)
    graph.cost = cost
    return graph


class TooLargeToDraw(ValueError):
    """A graph refused before ``dot`` runs: ``figure`` says what was measured, ``option`` and ``needed``
    the ``draw_dot`` argument that draws it anyway, ``hint`` another way out."""

    def __init__(self, figure: str, option: str, needed: int, hint: str) -> None:
        self.figure, self.option, self.needed, self.hint = figure, option, needed, hint
        super().__init__(f"draw_dot: {figure}. Pass {option}={needed} to draw it anyway{hint}.")


def _refuse_what_dot_would_take_long_on(
    root: Value, cost: Cost, max_nodes: int, max_seconds: float, collapse: bool, model: object
) -> None:
    """Raise TooLargeToDraw, with the figure, the limit and the ways out, above either limit."""
    if cost.drawn <= max_nodes and cost.seconds <= max_seconds:
        return
    if collapse:
        hint = " (this is already collapsed: one box per neuron)"
    else:
        collapsed = estimate_cost(build(root, collapse=True, model=model))
        if collapsed.drawn < cost.drawn:
            hint = (
                f", or pass collapse=True to draw one box per neuron ({collapsed.drawn} nodes, about "
                f"{_seconds(collapsed.seconds)})"
            )
        else:
            hint = ", or draw a part of the graph: draw_dot(an inner node)"
    if cost.drawn > max_nodes:
        raise TooLargeToDraw(
            f"the graph has {cost.drawn} nodes to draw (values and constants), more than "
            f"max_nodes={max_nodes}; "
            "a picture that large cannot be read, and dot would take a long time on it",
            "max_nodes",
            cost.drawn,
            hint,
        )
    raise TooLargeToDraw(
        f"dot would take about {_seconds(cost.seconds)} to lay this graph out ({cost.explain()}), more than "
        f"max_seconds={max_seconds:g}",
        "max_seconds",
        int(cost.seconds * 1.5) + 1,  # the prediction is a rough one: leave room
        hint,
    )


def _seconds(seconds: float) -> str:
    return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"


def _to_dot(picture: Picture, format: str, rankdir: str) -> Graph:
    # Columns of a network's neuron boxes need room for the edges between them.
    boxes = any(node.kind == "neuron" for node in picture.nodes)
    graph_attr = {
        "rankdir": rankdir,
        "fontname": FONT,
        "fontsize": str(FONT_SIZE),
        "nodesep": "0.15" if boxes else "0.06",
        "ranksep": "0.8" if boxes else "0.2",
        "bgcolor": "white",
        # Bounds the iterations of dot's placement (network simplex): on graphs with long edges it
        # ran for minutes (Horner's rule in 48 steps: 43 s, 0.5 s with this) for no visible gain.
        "nslimit": "2",
        # Nodes are declared in reading order (forward order; a network layer by layer, neuron by
        # neuron) and dot keeps it: its crossing reduction would shuffle neurons and parameters.
        "mclimit": "0.01",
    }
    dot = Graph(
        name="micrograd",
        format=format,
        graph_attr=graph_attr,
        node_attr={"fontname": FONT, "fontsize": str(FONT_SIZE), "color": INK, "fontcolor": INK},
        edge_attr={
            "fontname": FONT,
            "fontsize": str(FONT_SIZE),
            "color": INK,
            "fontcolor": "#495057",
            "arrowsize": "0.6",
        },
    )
    for node in picture.nodes:
        _add_node(dot, node)
    for edge in picture.edges:
        attrs: dict[str, str] = {"id": edge.id}
        if edge.label:
            attrs["label"] = f"<{escape_label(edge.label)}>"
        if edge.highlighted:
            attrs.update(color=HIGHLIGHT, penwidth="2.5")
        if edge.weight != 1:
            attrs["weight"] = str(edge.weight)
        dot.edge(edge.tail, edge.head, **attrs)
    for k, row in enumerate(picture.rows):
        with dot.subgraph(name=f"row{k}") as sub:
            sub.attr(rank="same")
            for a, b in zip(row, row[1:]):
                sub.edge(a, b, style="invis")
    if picture.legend:
        dot.attr(label=_legend(picture.legend), labelloc="b", labeljust="l")
    return dot


def _add_node(dot: Graph, node: Node) -> None:
    if node.kind == "op":
        text = node.cells[0].text
        dot.node(
            node.id,
            label=f"<{escape_label(text)}>",
            id=node.id,
            # a short op in a circle; a name (tanh, linear) in a rounded box, narrower than an ellipse
            shape="circle" if len(text) <= 2 else "box",
            style="filled" if len(text) <= 2 else "rounded,filled",
            fillcolor="white",
            fontsize=str(OP_FONT_SIZE),
            width="0.3",
            height="0.3",
            margin="0.02" if len(text) <= 2 else "0.04,0.02",
            color=HIGHLIGHT if node.highlighted else INK,
            penwidth="2.5" if node.highlighted else "1",
        )
    elif node.kind == "constant":
        dot.node(
            node.id,
            label=f"<{escape_label(node.cells[0].text)}>",
            id=node.id,
            shape="plaintext",
            fontcolor=MUTED,
            width="0",
            height="0",
            margin="0.02",
        )
    elif node.kind == "bus":
        dot.node(
            node.id,
            label=f"<{escape_label(node.cells[0].text)}>",
            id=node.id,
            shape="box",
            style="rounded,filled",
            fillcolor="#e9ecef",
            color=HIGHLIGHT if node.highlighted else "#adb5bd",
            penwidth="2.5" if node.highlighted else "1",
            fontcolor=MUTED,
            margin="0.05",
        )
    else:
        dot.node(node.id, label=_table(node), shape="plain", id=node.id)


def _table(node: Node) -> str:
    border, color = ("3", HIGHLIGHT) if node.highlighted else ("0", INK)
    cells = []
    for cell in node.cells:
        text = escape_label(cell.text)
        if cell.color:
            text = f'<FONT COLOR="{escape_label(cell.color)}">{text}</FONT>'
        cells.append(text)
    if node.stacked:
        rows = "".join(f'<TR><TD ALIGN="LEFT">{c}</TD></TR>' for c in cells)
    else:
        rows = "<TR>" + "".join(f"<TD>{c}</TD>" for c in cells) + "</TR>"
    return (
        f'<<TABLE BORDER="{border}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="2" '
        f'BGCOLOR="{escape_label(node.fill)}" COLOR="{color}">{rows}</TABLE>>'
    )


def _legend(entries: list[LegendEntry]) -> str:
    cells = []
    for entry in entries:
        text, color = escape_label(entry.text), escape_label(entry.color)
        if entry.kind == "fill":
            cells.append(f'<TD BGCOLOR="{color}" BORDER="1">{text}</TD>')
        elif entry.kind == "border":
            cells.append(f'<TD BGCOLOR="white" BORDER="3" COLOR="{color}">{text}</TD>')
        else:
            cells.append(f'<TD BORDER="0"><FONT COLOR="{color}">{text}</FONT></TD>')
    return f'<<TABLE BORDER="0" CELLSPACING="6" CELLPADDING="3"><TR>{"".join(cells)}</TR></TABLE>>'


# ----------------------------------------------------------------------------------------------
# Files


def render(root: Value, path: str | os.PathLike[str], **options: object) -> Path:
    """Draw ``root``'s graph into ``path`` (.svg, .png or .pdf, by its suffix) with ``dot``; return the path.

    ``options`` are those of ``draw_dot``. A PNG is drawn at the resolution that fits a slide of
    1920 x 1080 pixels, between 72 dots per inch (the smallest text is then 10 pixels high; a larger
    graph makes a larger image) and 192 (a small graph is drawn sharp); ``dpi=`` sets it instead. The
    file is written atomically.
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
    dpi = options.pop("dpi", None)
    if dpi is not None and (
        isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 1 <= dpi <= 1200
    ):
        raise ValueError(f"render: dpi must be a number from 1 to 1200, got {dpi!r}")
    graph = draw_dot(root, format=format, **options)  # type: ignore[arg-type]
    write_atomic(path, image(graph.source, format, dpi))
    return path


def image(source: str, format: str, dpi: float | None = None) -> bytes:
    """The picture of a DOT ``source`` as ``format`` bytes: laid out once by ``dot``; a PNG at the
    resolution that fits a slide (see ``render``) unless ``dpi`` is given."""
    if format != "png":
        return _run(["dot", f"-T{format}"], source)
    return Layout(source).draw([source], format, dpi)[0]


class Layout:
    """A graph laid out ONCE by dot, then drawn as often as wanted with other numbers and colours.

    ``Layout(source)`` runs dot's layout on a DOT source (``draw_dot(...).source``). ``draw(sources,
    format)`` draws each of ``sources`` (drawings of the same graph: the same node, edge and subgraph
    statements, with other text, colours and highlights) with every node, edge and label where the
    layout put them, and lays nothing out again (``neato -n2``): every picture has the same geometry,
    and all of them take ONE more Graphviz run (a PDF: one run each). A box is as wide as the layout's
    drawing made it, so lay the graph out with the widest text each box will show.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.positions: dict[str, Any] = json.loads(_run(["dot", "-Tjson0"], source))
        self._objects = {obj["name"]: obj for obj in self.positions.get("objects", [])}
        self._edges = {_unquote(edge["id"]): edge for edge in self.positions.get("edges", []) if "id" in edge}

    def pin(self, source: str) -> str:
        """``source`` with every node, edge, subgraph and label at the layout's place."""
        lines = []
        for line in source.split("\n"):
            edge = _EDGE.match(line)
            if edge is not None:
                info = self._edges.get(statement_id(edge.group(4)) or "")
                if info is not None:
                    line = line[:-1] + _attrs(info, ("pos", "lp")) + "]"
                lines.append(line)
                continue
            statement = _STATEMENT.match(line)
            if statement is not None and _unquote(statement.group(2)) not in ("graph", "node", "edge"):
                info = self._objects.get(_unquote(statement.group(2)))
                if info is not None:
                    line = line[:-1] + _attrs(info, ("pos", "width", "height")) + "]"
                lines.append(line)
                continue
            lines.append(line)
            subgraph = _SUBGRAPH.match(line)
            if subgraph is not None:
                info = self._objects.get(_unquote(subgraph.group(2)))
                if info is not None:
                    lines.append(f"{subgraph.group(1)}\tgraph [{_attrs(info, ('bb', 'lp')).strip()}]")
            elif line.startswith(("digraph ", "graph ")):
                lines.append(f"\tgraph [{_attrs(self.positions, ('bb', 'lp')).strip()}]")
        return "\n".join(lines)

    def draw(self, sources: Sequence[str], format: str, dpi: float | None = None) -> list[bytes]:
        """Each source drawn pinned to the layout, as ``format`` bytes; a PNG at the resolution that
        fits a slide (see ``render``) unless ``dpi`` is given."""
        pinned = [self.pin(source) for source in sources]
        if format != "png":
            return [image for source in pinned for image in self._draw([source], format, None)]
        if dpi is not None:
            return self._draw(pinned, format, dpi)
        dpi = self.slide_dpi()
        images = self._draw(pinned, format, dpi)
        width, height = png_size(images[0])
        over = max(width / SLIDE[0], height / SLIDE[1])
        if over > 1.0 and dpi > MIN_DPI:  # the drawing's margins came out a few pixels wider than reckoned
            images = self._draw(pinned, format, max(MIN_DPI, dpi / over - 0.01))
        return images

    def slide_dpi(self) -> float:
        """The resolution at which the laid-out graph fits a slide: see ``render``."""
        bb = self.positions.get("bb", "")
        if bb.count(",") != 3:
            return MAX_DPI
        x0, y0, x1, y1 = (float(v) for v in bb.split(","))
        pad = 8.0  # dot's 4-point margin on each side
        fit = 72.0 * min(SLIDE[0] / (x1 - x0 + pad), SLIDE[1] / (y1 - y0 + pad))
        return min(MAX_DPI, max(MIN_DPI, fit))

    def _draw(self, pinned: list[str], format: str, dpi: float | None) -> list[bytes]:
        """Graphviz drawing graphs whose every position is given (``-n2``: no layout), in one run."""
        command = ["dot", "-Kneato", "-n2", f"-T{format}"] + ([f"-Gdpi={dpi:.2f}"] if dpi is not None else [])
        output = _run(command, "\n".join(pinned))
        if format == "png":
            images = [part + _PNG_END for part in output.split(_PNG_END)[:-1]]
        elif format == "svg":
            images = [b"<?xml" + part for part in output.split(b"<?xml")[1:]]
        else:
            images = [output]
        if len(images) != len(pinned):
            raise RuntimeError(f"Graphviz drew {len(images)} pictures for {len(pinned)} graphs")
        return images


# The statements of draw_dot's DOT text, one a line: a node or attribute statement, an edge, a subgraph.
_NAME = r'("(?:[^"\\]|\\.)*"|[\w.]+)'
_STATEMENT = re.compile(rf"^(\s*){_NAME} \[(.*)\]$")
_EDGE = re.compile(rf"^(\s*){_NAME} -> {_NAME} \[(.*)\]$")
_SUBGRAPH = re.compile(rf"^(\s*)subgraph {_NAME} {{$")
_ID = re.compile(r'\bid=("(?:[^"\\]|\\.)*"|[\w.-]+)')
_PNG_END = b"IEND\xaeB`\x82"


def _unquote(name: str) -> str:
    return name[1:-1].replace('\\"', '"') if name.startswith('"') else name


def statement_id(line: str) -> str | None:
    """The ``id`` of a statement of draw_dot's DOT text (one a line): ``v3``, ``v3-op``, ``v3-in0``."""
    found = _ID.search(line)
    return _unquote(found.group(1)) if found else None


def _attrs(obj: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    return "".join(f' {key}="{obj[key]}"' for key in keys if key in obj)


def png_size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height in pixels, from its header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _run(command: list[str], source: str) -> bytes:
    _need_dot()
    try:
        done = subprocess.run(
            command, input=source.encode("utf-8"), capture_output=True, timeout=DOT_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"Graphviz's {command[0]} did not finish laying the graph out in {DOT_TIMEOUT:.0f} s and was "
            "stopped; draw a part of the graph (an inner node), or collapse=True"
        ) from None
    except FileNotFoundError as exc:
        raise GraphvizNotFound(
            f"Graphviz's `{command[0]}` could not be run ({exc}). {INSTALL_HINT}"
        ) from exc
    if done.returncode != 0:
        raise RuntimeError(
            f"Graphviz's {command[0]} failed (exit {done.returncode}): "
            f"{done.stderr.decode('utf-8', 'replace').strip()[:500]}"
        )
    return done.stdout
