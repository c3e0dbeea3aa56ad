"""Scheduling: which nodes run, with which operands, at which level; and the picture of it.

A node's level is one more than its deepest operand's (leaves are level 0). Every node of one op at
one level can run in the same array operation, since none of them reads another.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from micrograd.compile.ops import linear_parts, op_key
from micrograd.engine import Value, topological_order

# The key of a '+' node that absorbed a chain of additions written left to right,
# ((a + b) + c) + d: its terms are added in that order, as the eager engine adds them.
CHAIN = "+ chain"


@dataclass
class Schedule:
    """The traced graph as the compiled step runs it.

    ``run`` lists the op nodes that execute, operands before users; ``key[node]`` is the op key of
    each (``CHAIN`` for an addition that absorbed the chain below it, ``chains[node]`` its terms);
    ``level[node]`` its level, for every node of the graph (an absorbed addition gets the level of
    the addition that runs it).
    """

    order: list[Value]
    run: list[Value] = field(default_factory=list)
    key: dict[Value, str] = field(default_factory=dict)
    level: dict[Value, int] = field(default_factory=dict)
    chains: dict[Value, tuple[Any, ...]] = field(default_factory=dict)

    def operands(self, node: Value) -> tuple[Any, ...]:
        """What a node that runs reads: its operands, or a chain's terms in order."""
        terms = self.chains.get(node)
        return terms if terms is not None else node.operands()


def _is_addition(x: object) -> TypeGuard[Value]:
    return isinstance(x, Value) and x._op == "+"


def _foldable_additions(order: list[Value], kept: set[Value]) -> set[Value]:
    """The additions that are the LEFT operand of another addition, and used nowhere else.

    ``sum(terms)`` in Python builds ((t1 + t2) + t3) + ...: n - 1 '+' nodes, n levels deep, that
    would take n numpy calls of one element each. Folding each left operand into its user runs the
    chain as one sum that adds the terms in the written order, so it rounds exactly as eager does.
    An addition on the right, a + (b + c), is not folded: b + c is rounded first.
    """
    uses: dict[Value, int] = {}
    left_of_addition: set[Value] = set()
    pinned = set(kept)
    seen_tuples: set[int] = set()
    for node in order:
        arity = node._rule.arity
        if arity == -1:  # a linear node's or a sum's tuples: an addition read there stays a node
            groups = linear_parts(node) if node._op == "linear" else (node.operands(),)
            for group in groups:
                if id(group) not in seen_tuples:
                    seen_tuples.add(id(group))
                    pinned.update(x for x in group if _is_addition(x))
            continue
        for position, x in enumerate(node.operands()):
            if _is_addition(x):
                uses[x] = uses.get(x, 0) + 1
                if position == 0 and node._op == "+":
                    left_of_addition.add(x)
                else:
                    pinned.add(x)
    return {x for x in left_of_addition if uses[x] == 1 and x not in pinned}


def schedule(root: Value, keep: Iterable[Value] = ()) -> Schedule:
    """Plan the graph under ``root``: fold left-to-right chains of additions, then level every node.

    Nodes in ``keep`` (outputs read after the run) are never folded away.
    """
    order = topological_order(root)
    absorbed = _foldable_additions(order, {root, *keep})
    plan = Schedule(order)
    level = plan.level
    tuple_level: dict[int, int] = {}  # a shared params or inputs tuple is levelled once

    def deepest(group: tuple[Any, ...]) -> int:
        found = tuple_level.get(id(group))
        if found is None:
            found = max((level[x] for x in group if isinstance(x, Value)), default=0)
            tuple_level[id(group)] = found
        return found

    absorber: dict[Value, Value] = {}
    for node in order:
        if node in absorbed:
            continue
        arity = node._rule.arity
        if arity == 0:
            level[node] = 0
            continue
        key = op_key(node)
        if arity == -1:
            groups = linear_parts(node) if key == "linear" else (node.operands(),)
            level[node] = 1 + max(deepest(g) for g in groups if g is not None)
        else:
            operands = node.operands()
            if key == "+" and operands[0] in absorbed:
                rights: list[Any] = []
                below: Any = node
                while below is node or below in absorbed:
                    if below is not node:
                        absorber[below] = node
                    left, right = below.operands()
                    rights.append(right)
                    below = left
                operands = (below, *reversed(rights))
                plan.chains[node] = operands
                key = CHAIN
            level[node] = 1 + max((level[x] for x in operands if isinstance(x, Value)), default=0)
        plan.run.append(node)
        plan.key[node] = key
    for x, node in absorber.items():
        level[x] = level[node]
    return plan


def levels(root: Value) -> dict[Value, int]:
    """The execution level of every node under ``root``: nodes with equal level and op run together.

    Leaves are level 0; an op node is one more than its deepest operand. An addition folded into a
    chain (see ``schedule``) reports the level of the addition that runs the chain.
    """
    if not isinstance(root, Value):
        raise TypeError(f"levels: root must be a Value, got {type(root).__name__}")
    plan = schedule(root)
    return {node: plan.level[node] for node in plan.order}


# A qualitative palette for levels (cycled when the graph is deeper): neighbours differ clearly.
LEVEL_COLOURS = (
    "#f2f2f2",
    "#a6cee3",
    "#b2df8a",
    "#fdbf6f",
    "#cab2d6",
    "#fb9a99",
    "#ffff99",
    "#8dd3c7",
    "#bebada",
    "#80b1d3",
    "#fccde5",
    "#d9d9d9",
)


def draw_levels(root: Value, path: str | os.PathLike[str], **options: Any) -> Path:
    """Draw the graph under ``root`` into ``path`` (.svg, .png, .pdf), each node filled by its level.

    Nodes of one colour and one op run as ONE numpy operation in a compiled step. ``options`` go to
    ``micrograd.viz.draw_dot`` (``group`` defaults to False here). Returns the path written.
    """
    from micrograd import viz

    node_levels = levels(root)
    colours = {node: LEVEL_COLOURS[level % len(LEVEL_COLOURS)] for node, level in node_levels.items()}
    legend: dict[str, str] = {}
    for level in sorted(set(node_levels.values())):
        colour = LEVEL_COLOURS[level % len(LEVEL_COLOURS)]
        legend[colour] = f"{legend[colour]}, {level}" if colour in legend else f"level {level}"
    options.setdefault("group", False)  # neuron boxes would hide the columns of equal level
    return viz.render(root, path, node_colors=colours, legend=legend, **options)
