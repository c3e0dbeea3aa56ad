"""Which nodes of a graph ``micrograd.nn`` built for which neuron, for pictures to lay out as a network.

Read from the model when it is passed (``model.structure()``: every parameter's layer, neuron, kind and
index, and the neuron of each forward node), else from the labels nn gives its parameters
(``L0.N1.w2``, ``L0.N1.b``): the fallback for a graph drawn without its model.

A neuron is *applied* once per forward pass through it. Fused (nn's default), an application is one
``linear`` node and its activation; unfused (``fused=False``), it is the chain of ``w_i * x_i``
products and ``+`` nodes ending in the node nn labels ``L0.N1.net``, then the activation. Each
application records what flows into it, by input index, and where (the node and operand slot), so a
picture can draw a sample's inputs once, as shared nodes, however many neurons read them.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from micrograd.engine import Operand, Value, split_linear

# How micrograd.nn labels its parameters: layer, neuron, then w{i} or b (all 0-based); and, when
# it builds a neuron unfused, the neuron's weighted sum (.net) and output (.out).
PARAMETER_LABEL = re.compile(r"L(\d+)\.N(\d+)\.(?:w(\d+)|b)")
NEURON_NODE_LABEL = re.compile(r"L(\d+)\.N(\d+)\.(net|out)")
# The activations an unlabelled graph's neurons may end in (nn's, other than "linear").
ACTIVATION_OPS = ("tanh", "relu", "sigmoid")


@dataclass(frozen=True)
class ParameterRole:
    """Where a parameter sits: as ``nn.ParameterRole`` (layer, neuron, "weight"/"bias", index, name)."""

    layer: int
    neuron: int
    kind: str
    index: int
    name: str


@dataclass
class Application:
    """One forward pass through a neuron: its nodes (weighted sum, then activation; the output last)
    and its inputs by index, each with the node and operand slot it enters."""

    members: list[Value]
    inputs: dict[int, Operand] = field(default_factory=dict)
    slots: dict[int, tuple[Value, int]] = field(default_factory=dict)
    # Tells one sample's inputs from another's: the inputs tuple a fused layer shares (by identity),
    # or the input values of an unfused neuron.
    sample: tuple[str, Hashable] | None = None

    @property
    def output(self) -> Value:
        return self.members[-1]

    @property
    def entry(self) -> Value:
        """The node the weighted sum starts at: the fused linear node, or the first product."""
        return self.members[0]


@dataclass
class Neuron:
    layer: int
    index: int
    name: str
    params: tuple[Value, ...]  # (w_0, ..., w_{n-1}, b), in index order
    activation: str = ""
    applications: list[Application] = field(default_factory=list)


@dataclass
class Network:
    """The neurons found in a graph, in layer and index order, and every parameter's role."""

    neurons: list[Neuron]
    roles: dict[Value, ParameterRole]

    def layers(self) -> list[list[Neuron]]:
        by_layer: dict[int, list[Neuron]] = {}
        for neuron in self.neurons:
            by_layer.setdefault(neuron.layer, []).append(neuron)
        return [sorted(by_layer[k], key=lambda n: n.index) for k in sorted(by_layer)]


def find_network(order: Sequence[Value], model: object = None) -> Network:
    """The neurons among ``order``'s nodes (``topological_order(root)``): from ``model.structure()``
    when a model (or a Structure) is given, else from nn's parameter labels."""
    structure = _structure(model) if model is not None else None
    if structure is not None:
        roles = {
            p: ParameterRole(r.layer, r.neuron, r.kind, r.index, r.name) for p, r in structure.params.items()
        }
        neurons = {
            (n.layer, n.index): Neuron(n.layer, n.index, n.name, tuple(n.params), n.activation)
            for layer in structure.layers
            for n in layer
        }
    else:
        roles, neurons = _from_labels(order)
    _find_applications(order, roles, neurons, structure)
    present = set(order)
    shown = [n for n in neurons.values() if n.applications or any(p in present for p in n.params)]
    return Network(sorted(shown, key=lambda n: (n.layer, n.index)), {p: r for p, r in roles.items()})


def _structure(model: object) -> Any:
    structure = getattr(model, "structure", None)
    if callable(structure):
        return structure()
    if hasattr(model, "layers") and hasattr(model, "params") and hasattr(model, "neuron_of"):
        return model  # a Structure itself
    raise TypeError(
        f"model must be a micrograd.nn model (Neuron, Layer, MLP: anything with structure()), "
        f"got {type(model).__name__} {model!r}"
    )


def _from_labels(order: Sequence[Value]) -> tuple[dict[Value, ParameterRole], dict[tuple[int, int], Neuron]]:
    """Parameters and neurons from nn's labels ``L{layer}.N{neuron}.w{i}`` / ``.b``, on leaves only."""
    roles: dict[Value, ParameterRole] = {}
    for node in order:
        if node._rule.arity != 0 or not node.label:
            continue
        match = PARAMETER_LABEL.fullmatch(node.label)
        if match is None:
            continue
        layer, neuron, index = int(match.group(1)), int(match.group(2)), match.group(3)
        kind = "bias" if index is None else "weight"
        roles[node] = ParameterRole(layer, neuron, kind, -1 if index is None else int(index), node.label)
    neurons: dict[tuple[int, int], Neuron] = {}
    by_neuron: dict[tuple[int, int], list[Value]] = {}
    for p, role in roles.items():
        by_neuron.setdefault((role.layer, role.neuron), []).append(p)
    for (layer, index), params in by_neuron.items():
        # weights by index, the bias last: the order of a neuron's params tuple
        params.sort(key=lambda p: (roles[p].kind == "bias", roles[p].index))
        neurons[layer, index] = Neuron(layer, index, f"L{layer}.N{index}", tuple(params))
    return roles, neurons


def _find_applications(
    order: Sequence[Value],
    roles: Mapping[Value, ParameterRole],
    neurons: Mapping[tuple[int, int], Neuron],
    structure: Any,
) -> None:
    """Add to each neuron the applications among ``order``'s nodes (see the module docstring)."""
    by_params = {id(n.params): n for n in neurons.values()}
    # unfused: products and partial sums of one neuron's weighted sum, with the inputs they took in
    partial: dict[Value, tuple[Neuron, dict[int, Operand], dict[int, tuple[Value, int]]]] = {}
    pending: dict[Value, tuple[Neuron, Application]] = {}  # a weighted sum waiting for its activation
    for node in order:
        rule = node._rule
        if rule.arity == 0:
            continue
        operands = node.operands()
        if rule.key == "linear":
            neuron = _linear_neuron(node, operands, roles, neurons, by_params, structure)
            if neuron is not None:
                _, inputs, _ = split_linear(operands)
                _, slots, _ = split_linear(range(len(operands)))  # where each input sits among them
                app = Application(
                    [node],
                    dict(enumerate(inputs)),
                    {i: (node, slot) for i, slot in enumerate(slots)},
                    sample=("tuple", id(node._b)) if node._b is not None else ("values", tuple(inputs)),
                )
                neuron.applications.append(app)
                pending[node] = (neuron, app)
            continue
        if rule.arity == 1 and operands[0] in pending:
            neuron, app = pending.pop(operands[0])  # type: ignore[index]
            if rule.name == neuron.activation or (not neuron.activation and rule.name in ACTIVATION_OPS):
                app.members.append(node)
                neuron.activation = rule.name
            continue
        if rule.key in ("*", "+") and rule.arity == 2:
            _unfused_step(node, operands, roles, neurons, partial, pending)


def _linear_neuron(
    node: Value,
    operands: Sequence[Operand],
    roles: Mapping[Value, ParameterRole],
    neurons: Mapping[tuple[int, int], Neuron],
    by_params: Mapping[int, Neuron],
    structure: Any,
) -> Neuron | None:
    if structure is not None and node._b is not None:
        info = structure.neuron_of(node)
        return by_params.get(id(info.params)) if info is not None else None
    weights, _, _ = split_linear(operands)
    keys = {(roles[w].layer, roles[w].neuron) if w in roles else None for w in weights}  # type: ignore[index]
    key = keys.pop() if len(keys) == 1 else None
    return neurons.get(key) if key is not None else None


def _unfused_step(
    node: Value,
    operands: Sequence[Operand],
    roles: Mapping[Value, ParameterRole],
    neurons: Mapping[tuple[int, int], Neuron],
    partial: dict[Value, tuple[Neuron, dict[int, Operand], dict[int, tuple[Value, int]]]],
    pending: dict[Value, tuple[Neuron, Application]],
) -> None:
    """One node of an unfused weighted sum: a product ``w_i * x_i`` or a sum of the neuron's parts."""
    found: Neuron | None = None
    inputs: dict[int, Operand] = {}
    slots: dict[int, tuple[Value, int]] = {}
    if node._op == "*":
        for j, x in enumerate(operands):
            role = roles.get(x) if isinstance(x, Value) else None
            if role is not None and role.kind == "weight":
                found = neurons.get((role.layer, role.neuron))
                inputs[role.index] = operands[1 - j]
                slots[role.index] = (node, 1 - j)
                break
    else:
        owners: set[str | None] = set()
        for x in operands:
            if not isinstance(x, Value):
                owners.add(None)
            elif x in partial:
                owner, x_inputs, x_slots = partial[x]
                owners.add(owner.name)
                found = owner
                inputs.update(x_inputs)
                slots.update(x_slots)
            elif x in roles and roles[x].kind == "bias":
                role = roles[x]
                neuron = neurons.get((role.layer, role.neuron))
                owners.add(neuron.name if neuron is not None else None)
                found = found or neuron
            else:
                owners.add(None)
        if len(owners) != 1 or None in owners:
            found = None
    if found is None:
        return
    label = NEURON_NODE_LABEL.fullmatch(node.label) if node.label else None
    if label is None or label.group(0).rsplit(".", 1)[0] != found.name:
        if not node.label:
            partial[node] = (found, inputs, slots)
        return
    members = _chain(node, partial)
    values = [inputs.get(i) for i in sorted(inputs)]
    app = Application(members, inputs, slots, sample=("values", tuple(values)))
    found.applications.append(app)
    if label.group(3) == "net":
        pending[node] = (found, app)


def _chain(net: Value, partial: Mapping[Value, Any]) -> list[Value]:
    """An unfused weighted sum's products and partial sums, walking back from its net node, net last.

    A walk that stays inside the neuron, not a graph walk: ``topological_order(net)`` would visit
    everything below the neuron (the whole network before it) once per application.
    """
    members, stack, seen = [], [net], {net}
    while stack:
        node = stack.pop()
        members.append(node)
        for x in node.operands():
            if isinstance(x, Value) and x not in seen and x in partial:
                seen.add(x)
                stack.append(x)
    return members[::-1]
