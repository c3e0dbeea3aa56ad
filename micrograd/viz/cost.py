"""How long ``dot`` will take to lay a picture out, predicted from the picture before ``dot`` runs.

dot puts each node on a rank (a column, left to right) and routes an edge that skips ranks through a
hidden node on every rank it crosses; then it orders each rank to reduce crossings and places
everything. Its time grows with the nodes it lays out, hidden ones included, and faster than linearly:
a value used at very different depths (x in Horner's rule, ``(...) * x + 1`` again and again) makes a
graph of 100 values take minutes. ``estimate_cost`` counts what dot will lay out, the way dot ranks
it, and ``SECONDS`` turns the counts into seconds: a model fitted to dot's measured times on graphs of
growing size and shape (``demos/dot_timing.py`` measures them and fits it again).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from micrograd.viz.graph import Picture


@dataclass(frozen=True)
class Cost:
    drawn: int  # boxes and constants: what a reader sees
    nodes: int  # every node dot lays out, op nodes included
    edges: int
    hidden: int  # the hidden nodes of edges that cross ranks
    widest: int  # the most nodes (hidden ones included) on one rank
    network: bool  # laid out in reading order (no crossing reduction)
    seconds: float

    def explain(self) -> str:
        return f"{self.nodes} nodes, {self.edges} edges, {self.hidden} hidden nodes where edges cross ranks"


def estimate_cost(picture: Picture) -> Cost:
    ids = [node.id for node in picture.nodes]
    heads: dict[str, list[str]] = {}
    tails: dict[str, list[str]] = {}
    for edge in picture.edges:
        heads.setdefault(edge.tail, []).append(edge.head)
        tails.setdefault(edge.head, []).append(edge.tail)
    rank = _ranks(ids, heads, tails)
    hidden = 0
    width: dict[int, int] = {}
    for node_id in ids:
        width[rank[node_id]] = width.get(rank[node_id], 0) + 1
    for edge in picture.edges:
        span = rank[edge.head] - rank[edge.tail]
        if span > 1:
            hidden += span - 1
            for r in range(rank[edge.tail] + 1, rank[edge.head]):
                width[r] = width.get(r, 0) + 1
    drawn = sum(1 for node in picture.nodes if node.kind not in ("op", "bus"))
    widest = max(width.values(), default=0)
    nodes, edges = len(ids), len(picture.edges)
    return Cost(drawn, nodes, edges, hidden, widest, picture.network, seconds(nodes, hidden))


def seconds(nodes: int, hidden: int) -> float:
    """dot's predicted time for a layout of ``nodes`` nodes and ``hidden`` hidden ones: see ``SECONDS``."""
    a, b, c = SECONDS
    return math.exp(a + b * math.log(max(nodes, 1)) + c * math.log(hidden + 1))


# seconds = exp(a) * N^b * (H + 1)^c for N nodes and H hidden ones on rank-crossing edges: fitted to
# dot's times on 45 graphs, then raised so that nine in ten are at most the prediction
# (demos/dot_timing.py measures and fits it).
SECONDS = (-10.107, 1.551, 0.339)


def _ranks(ids: list[str], heads: dict[str, list[str]], tails: dict[str, list[str]]) -> dict[str, int]:
    """Each node's rank as dot gives it: one past its highest operand; a node nothing flows into
    (a leaf, a constant) just before its first use."""
    indegree = {node_id: len(tails.get(node_id, ())) for node_id in ids}
    ready = [node_id for node_id in ids if indegree[node_id] == 0]
    topo: list[str] = []
    while ready:
        node_id = ready.pop()
        topo.append(node_id)
        for head in heads.get(node_id, ()):
            indegree[head] -= 1
            if indegree[head] == 0:
                ready.append(head)
    rank: dict[str, int] = {}
    for node_id in topo:
        before = tails.get(node_id)
        rank[node_id] = 1 + max(rank[t] for t in before) if before else 0
    for node_id in topo:
        if not tails.get(node_id) and heads.get(node_id):
            rank[node_id] = min(rank[h] for h in heads[node_id]) - 1
    for node_id in ids:
        rank.setdefault(node_id, 0)  # on a cycle (never, for a computation graph)
    return rank
