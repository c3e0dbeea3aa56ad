"""The order a lecture takes the backward steps in, for a graph built by ``micrograd.nn``.

Which neuron made each node comes from ``micrograd.network`` (from the model's ``structure()``,
passed as ``model=``, or from the parameters' labels ``L0.N1.w0`` as a fallback); so do the names
(``L0.N1``, ``L0.N1.net``, ``x1``, ``#2`` per sample). The lecture's order: the loss first, then
layer by layer from the output back, neuron by neuron. It is still a valid backward order (a node's
step comes after every step that adds into its gradient), so every gradient is the same sum.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from micrograd.engine import Value
from micrograd.network import Network


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


__all__ = ["network_order"]
