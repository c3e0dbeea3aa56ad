"""The picture of a computation graph as data: boxes, op nodes, edges, their roles, names and ids.

``build(root, ...)`` decides everything a drawing shows and nothing about how Graphviz is told
(that is ``dot.py``): which nodes there are and in what order, the text of each box, its role
(input, parameter, intermediate, output, neuron) and fill, which nodes and edges are highlighted,
the rows a network layout keeps in order, and the legend. Nothing here imports graphviz.

The classic look: every value is a box ``label / data 2.0000 / grad -3.0000`` and every op is a small
node of its own between its operands and its result, so a reader sees the forward pass left to
right and can follow the gradient back along the same arrows. Leaves (inputs, parameters) are one
row, so a column of many parameters stays short; op results stack their cells, so a column of
results stays narrow.

Ids are stable, so a page can script the picture: the value at position ``i`` of
``topological_order(root)`` is ``v{i}`` (``svg_id``); its op node is ``v{i}-op``, a constant
operand ``v{i}-c{j}``, the edge into operand slot ``j`` of its op ``v{i}-in{j}`` and the edge from
its op to it ``v{i}-out``. A sample's inputs drawn as shared nodes are ``x{t}-{i}`` (sample t,
input i); a bus (see below) is ``bus{layer}-{t}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from micrograd.engine import Value, split_linear, topological_order
from micrograd.fmt import HIGHLIGHT, ROLE_COLORS, format_constant, format_number, node_names
from micrograd.viz.network import Application, Network, Neuron, find_network

# Beyond this many edges from one layer's outputs into the next layer's neurons (16 x 16 = 256 in the
# classic MLP), the edges go through one "bus" node: every output in, one edge out to each neuron.
BUS_EDGES = 64
# Superscript digits, for a sample's number on its inputs.
_SUPERSCRIPT = str.maketrans("0123456789", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def svg_id(position: int) -> str:
    """The SVG id of the value at ``position`` in ``topological_order(root)``."""
    return f"v{position}"


@dataclass
class Cell:
    text: str
    color: str = ""  # text colour, when not the ink's


@dataclass
class Node:
    """One thing drawn: a value's box, an op, a constant, a shared input, a neuron box or a bus."""

    id: str
    kind: str  # "value", "input", "op", "constant", "neuron", "bus"
    cells: list[Cell]
    role: str = ""
    fill: str = ""
    stacked: bool = False  # cells one under another (op results) or side by side (leaves)
    highlighted: bool = False


@dataclass
class Edge:
    tail: str
    head: str
    id: str
    label: str = ""
    highlighted: bool = False
    weight: int = 1  # how hard the layout pulls the edge short and straight


@dataclass
class LegendEntry:
    kind: str  # "fill" (a filled cell), "border" (a highlighted outline), "text" (coloured text)
    color: str
    text: str


@dataclass
class Picture:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    # Network layout: node ids kept in one rank in this order, top to bottom (left to right in TB)
    rows: list[list[str]] = field(default_factory=list)
    legend: list[LegendEntry] = field(default_factory=list)
    network: bool = False

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)


@dataclass(frozen=True)
class Highlight:
    """What ``highlight_path`` returns: the values on every path from one node to the output, for
    ``draw_dot(..., highlight=...)``. An edge is on a path when both its ends are."""

    start: Value
    end: Value
    values: frozenset[Value]

    def __contains__(self, node: object) -> bool:
        return node in self.values


def highlight_path(of: Value, to: Value) -> Highlight:
    """The nodes on every path from ``of`` to ``to``: what the chain rule multiplies along.

    A node is on a path when it depends on ``of`` and ``to`` depends on it; d to/d of is the sum, over
    these paths, of the products of the local derivatives along each. Nothing else is: a term of
    ``to`` that does not contain ``of`` (E_d2 in E_total = E_d1 + E_d2, for a weight of d1) is not.
    """
    if not isinstance(of, Value) or not isinstance(to, Value):
        raise TypeError(
            "highlight_path(of=..., to=...) takes two Values, "
            f"got {type(of).__name__} and {type(to).__name__}"
        )
    on_path: set[Value] = set()
    for node in topological_order(to):
        if node is of or any(isinstance(x, Value) and x in on_path for x in node.operands()):
            on_path.add(node)
    if of not in on_path:
        raise ValueError(
            f"highlight_path: {of!r} is not in the graph of {to!r}, so no path leads from it to the output"
        )
    return Highlight(of, to, frozenset(on_path))


class _Lit:
    """Which values, op nodes and edges to emphasise: a path (exactly what lies on it), or the given
    values with their op nodes and the edges into and out of those ops (where each one's gradient
    flows during backward)."""

    def __init__(self, highlight: Iterable[Value] | Highlight | None, order: list[Value]) -> None:
        self.path: Highlight | None = None
        if isinstance(highlight, Highlight):
            self.path = highlight
            self.values = set(highlight.values)
            if highlight.end is not order[-1]:
                raise ValueError(
                    "draw_dot: the path given to highlight= ends at another output; draw "
                    "highlight_path(of=node, to=root) for the root you draw"
                )
        else:
            self.values = set(highlight or ())

    def value(self, node: Value) -> bool:
        return node in self.values

    def op(self, node: Value) -> bool:
        """The op node of ``node`` and the edge from it to ``node``."""
        if self.path is not None:
            return node in self.values and node is not self.path.start
        return node in self.values

    def edge(self, tail: Value | None, head: Value) -> bool:
        """An edge from ``tail`` (None for a constant or a drawn input) into the op of ``head``."""
        if self.path is not None:
            return tail is not None and tail in self.values and head in self.values
        return head in self.values

    def __bool__(self) -> bool:
        return bool(self.values)


@dataclass
class _Box:
    """A collapsed neuron application: its text and what flows into it (values or shared inputs)."""

    neuron: Neuron
    application: Application
    text: list[str]
    inputs: list[Value | tuple[int, int]]  # a Value, or (sample t, input i) of a shared input


def build(
    root: Value,
    *,
    show_grad: bool = True,
    collapse: bool = False,
    highlight: Iterable[Value] | Highlight | None = None,
    node_colors: Mapping[Value, str] | None = None,
    grouping: bool = True,
    legend: bool | Mapping[str, str] = True,
    params: Iterable[Value] | None = None,
    names: Mapping[Value, str] | None = None,
    grads: Mapping[Value, float] | None = None,
    grad_changed: Iterable[Value] | None = None,
    model: object = None,
    values: Mapping[Value, float] | None = None,
) -> Picture:
    """The picture of ``root``'s graph; the options are ``draw_dot``'s (see there)."""
    return _Builder(
        root,
        show_grad,
        collapse,
        highlight,
        node_colors,
        grouping,
        legend,
        params,
        names,
        grads,
        grad_changed,
        model,
        values,
    ).picture


class _Builder:
    def __init__(
        self,
        root: Value,
        show_grad: bool,
        collapse: bool,
        highlight: Iterable[Value] | Highlight | None,
        node_colors: Mapping[Value, str] | None,
        grouping: bool,
        legend: bool | Mapping[str, str],
        params: Iterable[Value] | None,
        names: Mapping[Value, str] | None,
        grads: Mapping[Value, float] | None,
        grad_changed: Iterable[Value] | None,
        model: object,
        values: Mapping[Value, float] | None,
    ) -> None:
        self.root = root
        self.shown_data = values
        self.order = topological_order(root)
        self.position = {node: i for i, node in enumerate(self.order)}
        self.show_grad = show_grad
        self.colors = dict(node_colors or {})
        self.grads = grads
        self.changed = set(grad_changed or ())
        self.generated = node_names(self.order)
        self.names = names
        self.network: Network = find_network(self.order, model)
        self.params = set(params or ()) | set(self.network.roles)
        self.lit = _Lit(highlight, self.order)
        self.picture = Picture()
        self.roles_shown: set[str] = set()
        self.emitted: set[Value] = set()

        layers = self.network.layers() if (grouping or collapse) else []
        self.layered = bool(layers)
        self.users = self._users()
        self.hidden: set[Value] = set()
        self.boxes: dict[Value, _Box] = {}
        if collapse:
            self._collapse()
        # A sample's constant inputs drawn once as shared nodes x0, x1, ...: (sample t, input i) -> id
        self.samples: dict[object, int] = {}
        self.inputs: dict[tuple[int, int], float] = {}
        self.input_of: dict[tuple[Value, int], tuple[int, int]] = {}  # (node, operand slot) -> input
        if self.layered:
            self._shared_inputs(layers)
        self.bus_of: dict[tuple[Value, int], str] = {}  # (entry node, slot) -> the bus it comes through
        self.bus_sources: dict[str, list[str]] = {}
        self.bus_heads: dict[str, list[Value]] = {}
        self.bus_sizes: dict[str, tuple[int, int]] = {}
        if self.layered:
            self._buses(layers)

        if self.layered:
            self.picture.network = True
            self._emit_network(layers)
        for node in self.order:
            if node not in self.hidden:
                self._emit_value(node)
        self._emit_buses()
        self.picture.legend = self._legend(legend, node_colors is not None)

    # -- analysis ----------------------------------------------------------------------------

    def _users(self) -> dict[Value, set[Value]]:
        users: dict[Value, set[Value]] = {}
        for node in self.order:
            for x in node.operands():
                if isinstance(x, Value):
                    users.setdefault(x, set()).add(node)
        return users

    def _collapse(self) -> None:
        """Hide each neuron application's inner nodes behind one box, drawn for its output.

        A node is hidden only when nothing outside its application uses it (an L2 penalty on the
        weights keeps them visible, with edges into the boxes), so collapsing never drops an edge.
        """
        for neuron in self.network.neurons:
            collapsed: set[Value] = set()
            for app in neuron.applications:
                inner = set(app.members)
                if all(self.users.get(node, set()) <= inner for node in app.members[:-1]):
                    collapsed |= inner
                    self.hidden |= inner - {app.output}
            self.hidden |= {p for p in neuron.params if self.users.get(p) and self.users[p] <= collapsed}
            for app in neuron.applications:
                if app.output not in collapsed:
                    continue
                net = "w\u00b7x+b"
                # an activation is the one op of one operand in a neuron; the weighted sum takes many
                formula = f"{app.output._op}({net})" if app.output._rule.arity == 1 else net
                self.boxes[app.output] = _Box(neuron, app, [f"{neuron.name}: {formula}"], [])

    def _shared_inputs(self, layers: list[list[Neuron]]) -> None:
        """Number each sample's constant inputs, to draw each once however many neurons read it."""
        for layer in layers:
            for neuron in layer:
                for app in neuron.applications:
                    for i, x in sorted(app.inputs.items()):
                        if isinstance(x, Value) or i not in app.slots:
                            continue
                        t = self.samples.setdefault(app.sample, len(self.samples))
                        self.inputs.setdefault((t, i), x)
                        self.input_of[app.slots[i]] = (t, i)
        for box in self.boxes.values():
            app = box.application
            for i in sorted(app.inputs):
                x = app.inputs[i]
                if isinstance(x, Value):
                    if x not in self.hidden:
                        box.inputs.append(x)
                elif i in app.slots and app.slots[i] in self.input_of:
                    box.inputs.append(self.input_of[app.slots[i]])
            members = set(app.members)
            for member in app.members:  # values entering from outside besides the inputs: kept params
                for x in member.operands():
                    if (
                        isinstance(x, Value)
                        and x not in members
                        and x not in self.hidden
                        and x not in box.inputs
                    ):
                        box.inputs.append(x)

    def _buses(self, layers: list[list[Neuron]]) -> None:
        """Between wide layers, route a sample's outputs through one bus node (see ``BUS_EDGES``)."""
        for layer in layers:
            by_sample: dict[object, list[Application]] = {}
            for neuron in layer:
                for app in neuron.applications:
                    if app.sample is not None and app.sample[0] == "tuple":
                        by_sample.setdefault(app.sample, []).append(app)
            for t, apps in enumerate(by_sample.values()):
                sources = [x for _, x in sorted(apps[0].inputs.items()) if isinstance(x, Value)]
                if len(apps) < 2 or len(sources) < 2 or len(apps) * len(sources) <= BUS_EDGES:
                    continue
                if any(x in self.hidden for x in sources):
                    continue
                bus = f"bus{layer[0].layer}-{t}"
                self.bus_sources[bus] = [self._id(x) for x in sources]
                self.bus_heads[bus] = []
                source_set = set(sources)
                for app in apps:
                    target = app.output if app.output in self.boxes else app.entry
                    self.bus_heads[bus].append(target)
                    for i, x in app.inputs.items():
                        if x in source_set and i in app.slots:
                            self.bus_of[app.slots[i]] = bus
                            if app.output in self.boxes:
                                self.bus_of[app.output, i] = bus
                self.bus_sizes[bus] = (len(sources), len(apps))

    # -- emitting ----------------------------------------------------------------------------

    def _id(self, node: Value) -> str:
        return svg_id(self.position[node])

    def _name(self, node: Value) -> str:
        if self.names is not None and node in self.names:
            return self.names[node]
        return node.label or self.generated[node]

    def _role(self, node: Value) -> str:
        if node is self.root:
            return "output"
        if node in self.boxes:
            return "neuron"
        if node._rule.arity != 0:
            return "intermediate"
        return "parameter" if node in self.params else "input"

    def _emit_network(self, layers: list[list[Neuron]]) -> None:
        """Declare the network's nodes in reading order, with the rows that keep them in it: a
        sample's inputs, then layer by layer each neuron's parameters (w0, w1, ..., b) and its
        weighted sum and activation, neurons in index order from the top."""
        picture = self.picture
        input_ids = [self._emit_input(t, i) for (t, i) in sorted(self.inputs)]
        first = [x for n in layers[0] for app in n.applications for _, x in sorted(app.inputs.items())]
        value_inputs = list(dict.fromkeys(x for x in first if isinstance(x, Value) and x not in self.hidden))
        for x in value_inputs:
            self._emit_value(x)
        # what feeds the next layer: the inputs, then each layer's outputs
        before = input_ids + [self._id(x) for x in value_inputs]
        for layer in layers:
            params: list[list[str]] = []  # per neuron
            for neuron in layer:
                shown = [p for p in neuron.params if p in self.position and p not in self.hidden]
                params.append([self._id(p) for p in shown])
                for p in shown:
                    self._emit_value(p)
                for app in neuron.applications:
                    for member in sorted(app.members, key=self.position.__getitem__):
                        if member not in self.hidden:
                            self._emit_value(member)
            # One rank holds what flows into the layer: its parameters, neuron by neuron, with the
            # layer's inputs in the middle, so that the columns stay level instead of climbing.
            half = len(params) // 2  # between two neurons, never inside one's parameters
            row = [
                *(p for ps in params[:half] for p in ps),
                *before,
                *(p for ps in params[half:] for p in ps),
            ]
            if len(row) > 1:
                picture.rows.append(row)
            per_sample: dict[object, list[Application]] = {}
            for neuron in layer:
                for app in neuron.applications:
                    per_sample.setdefault(app.sample, []).append(app)
            outputs: list[str] = []
            for apps in per_sample.values():
                shown_apps = [a for a in apps if a.output not in self.hidden]
                entries = [f"{self._id(a.entry)}-op" for a in shown_apps if a.entry not in self.hidden]
                if len(entries) > 1:
                    picture.rows.append(entries)
                outputs += [self._id(a.output) for a in shown_apps]
            before = outputs
        if len(before) > 1:
            picture.rows.append(before)

    def _emit_input(self, t: int, i: int) -> str:
        node_id = f"x{t}-{i}"
        name = f"x{i}"
        if len(self.samples) > 1:  # x0 of sample 2 is x0⁽²⁾
            name += f"\u207d{str(t + 1).translate(_SUPERSCRIPT)}\u207e"
        self.roles_shown.add("input")
        self.picture.nodes.append(
            Node(
                node_id,
                "input",
                [Cell(name), Cell(f"data {format_number(self.inputs[t, i])}")],
                role="input",
                fill=ROLE_COLORS["input"],
            )
        )
        return node_id

    def _emit_value(self, node: Value) -> None:
        if node in self.emitted:
            return
        self.emitted.add(node)
        vid = self._id(node)
        box = self.boxes.get(node)
        role = self._role(node)
        self.roles_shown.add(role)
        name = self._name(node)
        if box is not None and name.startswith(box.neuron.name + "."):
            name = ""  # "L0.N1.out" would only repeat the neuron's name that the box shows
        cells = [Cell(name)] if name else []
        if box is not None:
            cells += [Cell(text) for text in box.text]
        data = self.shown_data.get(node, node.data) if self.shown_data is not None else node.data
        cells.append(Cell(f"data {format_number(data)}"))
        if self.show_grad:
            grad = self.grads.get(node, node.grad) if self.grads is not None else node.grad
            cells.append(Cell(f"grad {format_number(grad)}", HIGHLIGHT if node in self.changed else ""))
        fill = self.colors.get(node, ROLE_COLORS[role])
        stacked = node._rule.arity != 0
        self.picture.nodes.append(
            Node(vid, "neuron" if box else "value", cells, role, fill, stacked, self.lit.value(node))
        )
        if box is not None:
            self._emit_box_edges(node, box)
        elif node._rule.arity != 0:
            self._emit_op(node)

    def _emit_box_edges(self, node: Value, box: _Box) -> None:
        vid = self._id(node)
        lit = self.lit
        for j, source in enumerate(box.inputs):
            if isinstance(source, Value):
                tail, tail_value = self._id(source), source
                i = next((i for i, x in box.application.inputs.items() if x is source), None)
            else:
                tail, tail_value = f"x{source[0]}-{source[1]}", None
                i = source[1]
            if i is not None and (node, i) in self.bus_of:
                continue  # drawn through the bus
            self.picture.edges.append(Edge(tail, vid, f"{vid}-in{j}", highlighted=lit.edge(tail_value, node)))

    def _emit_op(self, node: Value) -> None:
        vid = self._id(node)
        op_id = f"{vid}-op"
        rule = node._rule
        self.picture.nodes.append(Node(op_id, "op", [Cell(node._op)], highlighted=self.lit.op(node)))
        in_network = node in self._member_of
        self.picture.edges.append(
            Edge(op_id, vid, f"{vid}-out", highlighted=self.lit.op(node), weight=10 if in_network else 1)
        )
        operands = node.operands()
        # the slot of a weighted sum's bias: the op says where its operands sit
        bias_slot = split_linear(range(len(operands)))[2] if rule.key == "linear" else -1
        for j, x in enumerate(operands):
            if (node, j) in self.bus_of:
                continue  # drawn through the bus
            if j == bias_slot and not isinstance(x, Value) and x == 0.0:
                continue  # a bias of 0 adds nothing: a hand-built w.x without bias is drawn as such
            if isinstance(x, Value):
                tail, tail_value = self._id(x), x
            elif (node, j) in self.input_of:
                t, i = self.input_of[node, j]
                tail, tail_value = f"x{t}-{i}", None
            else:
                tail, tail_value = f"{vid}-c{j}", None
                self.picture.nodes.append(Node(tail, "constant", [Cell(format_constant(x))]))
            label = rule.roles[j] if j < len(rule.roles) else ""
            weight = 5 if isinstance(x, Value) and x in self.network.roles and in_network else 1
            if (
                isinstance(x, Value)
                and x in self._member_of
                and self._member_of[x] is self._member_of.get(node)
            ):
                weight = 10
            self.picture.edges.append(
                Edge(tail, op_id, f"{vid}-in{j}", label, self.lit.edge(tail_value, node), weight)
            )

    @property
    def _member_of(self) -> dict[Value, Application]:
        if not hasattr(self, "_members"):
            self._members = {
                m: app for n in self.network.neurons for app in n.applications for m in app.members
            }
        return self._members

    def _emit_buses(self) -> None:
        for bus, sources in self.bus_sources.items():
            n_sources, n_targets = self.bus_sizes[bus]
            heads = self.bus_heads[bus]
            source_values = [v for v in self.order if self._id(v) in set(sources)]
            any_source = any(self.lit.value(v) for v in source_values) if self.lit.path else False
            any_head = any(self.lit.value(h) for h in heads)
            text = f"all {n_sources} \u2192 all {n_targets}"
            self.picture.nodes.append(Node(bus, "bus", [Cell(text)], highlighted=any_source and any_head))
            for s, value in zip(sources, source_values):
                lit = self.lit.value(value) and any_head if self.lit.path else any_head
                self.picture.edges.append(Edge(s, bus, f"{bus}-in{sources.index(s)}", highlighted=lit))
            for head in heads:
                target = self._id(head) if head in self.boxes else f"{self._id(head)}-op"
                lit = self.lit.value(head) and (any_source if self.lit.path else True)
                self.picture.edges.append(Edge(bus, target, f"{self._id(head)}-bus", highlighted=lit))

    def _legend(self, legend: bool | Mapping[str, str], custom_colors: bool) -> list[LegendEntry]:
        if isinstance(legend, Mapping):
            return [LegendEntry("fill", color, text) for color, text in legend.items()]
        if legend is not True:
            return []
        entries = []
        if not custom_colors:
            entries = [LegendEntry("fill", ROLE_COLORS[r], r) for r in ROLE_COLORS if r in self.roles_shown]
        if self.lit:
            if self.lit.path is not None:
                start, end = self._name(self.lit.path.start), self._name(self.lit.path.end)
                text = f"on a path from {start} to {end}"
            else:
                text = "highlighted"
            entries.append(LegendEntry("border", HIGHLIGHT, text))
        if self.show_grad and self.changed:
            entries.append(LegendEntry("text", HIGHLIGHT, "grad just updated"))
        return entries
