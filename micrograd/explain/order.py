"""Where each node sits in a network, what it is called, and the order a lecture takes the steps in.

For a graph built by ``micrograd.nn`` the network's ``structure()`` says which neuron made each
node (passed as ``model=``; without it the parameters' labels ``L0.N1.w0`` are read as a
fallback). That gives

- names: a neuron's weighted sum is ``L0.N1.net`` and its output ``L0.N1`` (an output without
  activation is the sum itself: ``L1.N0``); the network's inputs are ``x1, x2, ...`` (1-based, as the
  textbooks count them); with several samples through one neuron, ``#2``, ``#3`` ... tell them apart;
- the backward order of a lecture: the loss first, then layer by layer from the output back,
  neuron by neuron. It is still a valid backward order (a node's step comes after every step
  that adds into its gradient), so every gradient is the same sum.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from micrograd.engine import Value, split_linear

# How micrograd.nn labels a parameter (0-based layer, neuron, weight): the fallback when no model is given.
PARAMETER_LABEL = re.compile(r"L(\d+)\.N(\d+)\.(?:w\d+|b)")
UNFUSED_LABEL = re.compile(r"(L\d+\.N\d+)\.(net|out)")


@dataclass(frozen=True)
class NeuronRef:
    """The neuron that made a node: its layer and index (0-based) and its name ``L0.N1``."""

    layer: int
    index: int
    name: str


def printable(text: str) -> str:
    """``text`` on one line: newlines and other invisible characters written as escapes (``\\n``)."""
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)


def splits_into_roles(rule: Any) -> bool:
    """Whether an op's operands are (weights, inputs, bias), each role with its own formula."""
    return rule.arity == -1 and len(rule.formula) == 3


class Network:
    """Which neuron made each node of one graph (from a model's ``structure()`` or from labels)."""

    def __init__(self, order: Sequence[Value], model: Any = None) -> None:
        self._of: dict[Value, NeuronRef] = {}
        if model is not None:
            structure = model.structure() if hasattr(model, "structure") else model
            for node in order:
                info = structure.neuron_of(node) if node._op else None
                if info is not None:
                    self._of[node] = NeuronRef(info.layer, info.index, info.name)
        else:
            self._from_labels(order)

    def _from_labels(self, order: Sequence[Value]) -> None:
        for node in order:
            if splits_into_roles(node._rule):
                weights = split_linear(node.operands())[0]
                keys = {_parameter_key(w) for w in weights}
                if len(keys) == 1 and None not in keys:
                    layer, index = keys.pop()  # type: ignore[misc]
                    self._of[node] = NeuronRef(layer, index, f"L{layer}.N{index}")
                continue
            match = UNFUSED_LABEL.fullmatch(node.label)
            if match is not None and node._op:
                layer, index = (int(v) for v in re.findall(r"\d+", match.group(1)))
                self._of[node] = NeuronRef(layer, index, match.group(1))
                continue
            operands = node.operands()
            if len(operands) == 1 and operands[0] in self._of and node._rule.arity == 1:
                inner = operands[0]
                if splits_into_roles(inner._rule) or inner.label.endswith(".net"):  # type: ignore[union-attr]
                    self._of[node] = self._of[inner]  # type: ignore[index]

    def __bool__(self) -> bool:
        return bool(self._of)

    def neuron_of(self, node: Value) -> NeuronRef | None:
        return self._of.get(node)


def _parameter_key(node: object) -> tuple[int, int] | None:
    if not isinstance(node, Value) or node._op:
        return None
    match = PARAMETER_LABEL.fullmatch(node.label)
    return (int(match.group(1)), int(match.group(2))) if match else None


def node_names(order: Sequence[Value], network: Network | None = None) -> dict[Value, str]:
    """Each node's name: its label; else, in a network, after its neuron (``L0.N1``, ``L0.N1.net``)
    or input (``x1``); else n1, n2, ... in topological order (a user's label "n2" keeps its name)."""
    names: dict[Value, str] = {node: printable(node.label) for node in order if node.label}
    if network:
        applications: dict[str, list[Value]] = {}  # a neuron's weighted sums, one per sample
        activation_of: dict[Value, Value] = {}
        for node in order:
            neuron = network.neuron_of(node)
            if neuron is None:
                continue
            outputs = applications.setdefault(neuron.name, [])
            operands = node.operands()
            feeds = len(operands) == 1 and network.neuron_of(operands[0]) == neuron  # type: ignore[arg-type]
            if feeds:
                activation_of[operands[0]] = node  # type: ignore[index]
            else:
                outputs.append(node)
        for neuron_name, outputs in applications.items():
            for k, net in enumerate(outputs, start=1):
                suffix = f"#{k}" if len(outputs) > 1 else ""
                activation = activation_of.get(net)
                if activation is None:
                    names.setdefault(net, neuron_name + suffix)
                else:
                    names.setdefault(net, f"{neuron_name}.net{suffix}")
                    names.setdefault(activation, neuron_name + suffix)
                if network.neuron_of(net).layer == 0 and splits_into_roles(net._rule):  # type: ignore[union-attr]
                    for i, x in enumerate(split_linear(net.operands())[1]):
                        if isinstance(x, Value):
                            names.setdefault(x, f"x{i + 1}{suffix}")
    taken = set(names.values())
    k = 0
    for node in order:
        if node in names:
            continue
        k += 1
        while f"n{k}" in taken:
            k += 1
        names[node] = f"n{k}"
    return names


def constant_names(node: Value, network: Network | None, names: Mapping[Value, str]) -> dict[int, str]:
    """Names for the constant operands of a node: a first-layer neuron's inputs are x1, x2, ..."""
    if not network or not splits_into_roles(node._rule):
        return {}
    neuron = network.neuron_of(node)
    if neuron is None or neuron.layer != 0:
        return {}
    operands = node.operands()
    n = len(split_linear(operands)[0])
    own = names.get(node, "")
    suffix = own[own.index("#") :] if "#" in own else ""
    return {n + i: f"x{i + 1}{suffix}" for i in range(n) if not isinstance(operands[n + i], Value)}


def network_order(backward_order: Sequence[Value], network: Network) -> list[Value]:
    """The op nodes of ``backward_order`` (a reverse topological order), reordered as a lecture goes:
    what follows the network (the loss) first, then the last layer's neurons, neuron by neuron,
    then the layer before, ... Each node still comes after every node that uses it."""
    position = {node: i for i, node in enumerate(backward_order)}
    users: dict[Value, int] = {}
    for node in backward_order:
        for x in set(node._prev):
            if x in position:
                users[x] = users.get(x, 0) + 1

    def key(node: Value) -> tuple[int, int, int]:
        neuron = network.neuron_of(node)
        if neuron is None:
            return (-(10**9), 0, position[node])
        return (-neuron.layer, neuron.index, position[node])

    ready = [(key(node), node) for node in backward_order if users.get(node, 0) == 0]
    heap = [(k, position[n]) for k, n in ready]
    heapq.heapify(heap)
    by_position = list(backward_order)
    result: list[Value] = []
    while heap:
        _, i = heapq.heappop(heap)
        node = by_position[i]
        result.append(node)
        for x in set(node._prev):
            if x in users:
                users[x] -= 1
                if users[x] == 0:
                    heapq.heappush(heap, (key(x), position[x]))
    return result


__all__ = ["Network", "NeuronRef", "constant_names", "network_order", "node_names", "printable"]
