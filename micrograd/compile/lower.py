"""Lowering: from the schedule of a traced graph to the kernels a compiled step runs.

Level by level, the nodes of one op become kernels (see groups.py), and every node gets its slot:

- the linear nodes of a level are split into grids (a neuron is a params tuple, a sample an inputs
  tuple; two nodes that share either are in one grid). A full grid, every sample meeting every
  neuron once, is a layer on a batch: one ``MatrixProduct``. Anything else (a partial grid, a lone
  short dot product) is a ``SegmentSum``, added in the engine's order;
- an activation that reads exactly a matrix product's outputs is folded into it;
- the nodes of an elementwise op are split by the kernels their operands come from, and ordered by
  their operands' slots, so that each operand is, as often as possible, a plain view of a slice;
- a kernel's outputs take the next slots in that order. A layer's outputs are laid out sample by
  sample, so the next layer reads them as its X, and a layer's weights (in parameter order) as its
  W, without a copy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from micrograd.compile.groups import (
    Elementwise,
    ExactSum,
    Kernel,
    MatrixProduct,
    Scalar,
    SegmentSum,
    Slots,
)
from micrograd.compile.ops import Array, linear_parts, vectorized
from micrograd.compile.schedule import CHAIN, Schedule
from micrograd.engine import Value

SHORTEST_DOT = 16  # a lone linear node with fewer inputs is added in the engine's order instead
MOST_PARTS = 8  # an elementwise level split into more parts than this by operand origin stays whole
PARAMS, INPUTS, CONSTANTS = -1, -2, -3  # the origin of a slot that no kernel computes


@dataclass
class Program:
    """The compiled form of a graph: the buffers, the slots of everything read from outside, and the
    kernels in the order they run."""

    kernels: list[Kernel]
    vals: Array
    grads: Array
    param_slots: slice
    input_slots: list[slice]
    computed: slice  # the slots the kernels write
    root_slot: int
    aux_slots: Array
    n_levels: int
    n_nodes: int

    @property
    def backward_kernels(self) -> list[Kernel]:
        return [k for k in reversed(self.kernels) if k.needs_grad]

    @property
    def checks_domain(self) -> bool:
        return any(k.refuses is not None for k in self.kernels)


def lower(
    plan: Schedule,
    root: Value,
    params: Sequence[Value],
    inputs: Sequence[Sequence[Value]],
    aux: Sequence[Value],
) -> Program:
    """Build the kernels and slots of the graph ``plan`` schedules (see the module docstring)."""
    builder = _Builder(plan, params, inputs)
    for level, key, nodes in _groups(plan):
        if key == "linear":
            builder.linear(level, nodes)
        elif key == "sum":
            builder.sums(level, nodes)
        elif key == CHAIN:
            builder.chains(level, nodes)
        else:
            builder.elementwise(level, key, nodes)
    return builder.finish(root, aux, n_levels=max(plan.level.values(), default=0))


def _groups(plan: Schedule) -> list[tuple[int, str, list[Value]]]:
    """The nodes that run, by level and op key, level by level."""
    grouped: dict[tuple[int, str], list[Value]] = {}
    for node in plan.run:
        grouped.setdefault((plan.level[node], plan.key[node]), []).append(node)
    return [(level, key, nodes) for (level, key), nodes in sorted(grouped.items(), key=lambda kv: kv[0][0])]


def _slot_order(codes: list[int]) -> tuple[list[int], list[int]]:
    """Order nodes by the slots of the Values they read (constants, coded < 0, only break ties):
    nodes that read consecutive slots then write consecutive slots, and the next op reads a view."""
    return [c for c in codes if c >= 0], [c for c in codes if c < 0]


class _Builder:
    """Assigns slots and builds kernels, level by level (see ``lower``)."""

    def __init__(self, plan: Schedule, params: Sequence[Value], inputs: Sequence[Sequence[Value]]) -> None:
        self.plan = plan
        self.slot: dict[Value, int] = {}
        self.constants: list[float] = []
        self.constant_codes: dict[tuple[float, float], int] = {}
        self.kernels: list[Kernel] = []
        self.products: dict[int, MatrixProduct] = {}  # by the first slot of their outputs
        n_params = len(params)
        n_values = n_params + sum(len(nodes) for nodes in inputs) + len(plan.run)
        self.needs_grad = np.zeros(n_values, dtype=bool)  # the slot leads to a parameter
        self.origin = np.full(n_values, PARAMS, dtype=np.intp)  # which kernel computes the slot
        self.slot.update((p, i) for i, p in enumerate(params))
        self.needs_grad[:n_params] = True
        self.param_slots = slice(0, n_params)
        self.input_slots: list[slice] = []
        start = n_params
        for nodes in inputs:
            self.input_slots.append(slice(start, start + len(nodes)))
            self.slot.update((v, start + i) for i, v in enumerate(nodes))
            start += len(nodes)
        self.origin[n_params:start] = INPUTS
        self.next_slot = self.first_computed = start
        for node in plan.order:  # a leaf that is neither: a constant, its value taken now (as jax does)
            if node._op == "" and node not in self.slot:
                self.slot[node] = self.constant(node.data)
        self.position = {node: i for i, node in enumerate(plan.run)}

    # -- slots ------------------------------------------------------------------------------

    def constant(self, c: float) -> int:
        """The code of a constant: -1 - k for the k-th (resolved to a slot by ``finish``)."""
        key = (c, math.copysign(1.0, c))  # 0.0 and -0.0 apart: 1 / -0.0 is -inf
        code = self.constant_codes.get(key)
        if code is None:
            code = self.constant_codes[key] = -1 - len(self.constants)
            self.constants.append(c)
        return code

    def code(self, x: Any) -> int:
        return self.slot[x] if isinstance(x, Value) else self.constant(float(x))

    def codes(self, operands: Sequence[Any]) -> list[int]:
        slot = self.slot
        return [slot[x] if isinstance(x, Value) else self.constant(float(x)) for x in operands]

    def slots(self, codes: Any) -> Slots:
        return Slots(np.array(codes, dtype=np.intp), self.needs_grad)

    def add(self, kernel: Kernel, nodes: Sequence[Value]) -> None:
        """Give the kernel's nodes their slots (``kernel.out``, in this order) and keep it."""
        for i, node in enumerate(nodes, start=kernel.out.start):
            self.slot[node] = i
        self.needs_grad[kernel.out] = kernel.needs_grad
        self.origin[kernel.out] = len(self.kernels)
        self.kernels.append(kernel)

    def out(self, count: int) -> slice:
        start = self.next_slot
        self.next_slot += count
        return slice(start, self.next_slot)

    def about(self, nodes: Sequence[Value]) -> tuple[dict[int, str], Array]:
        """The nodes' labels (for error messages) and their places in the graph's order."""
        labels = {i: n.label for i, n in enumerate(nodes) if n.label}
        return labels, np.array([self.position[n] for n in nodes], dtype=np.intp)

    # -- kernels ----------------------------------------------------------------------------

    def linear(self, level: int, nodes: list[Value]) -> None:
        """Full grids as matrix products, the rest as one segment sum."""
        neurons: dict[tuple[Any, ...], int] = {}
        samples: dict[tuple[Any, ...], int] = {}
        neuron_of: dict[int, int] = {}  # by id of the tuple: a shared tuple is hashed once
        sample_of: dict[int, int] = {}
        by_sample: dict[int, list[tuple[int, Value]]] = {}  # sample -> (neuron, node) of each of its nodes
        for node in nodes:
            params, inputs = linear_parts(node)
            j = neuron_of.get(id(params))
            if j is None:
                j = neuron_of[id(params)] = neurons.setdefault(params, len(neurons))
            i = sample_of.get(id(inputs))
            if i is None:
                i = sample_of[id(inputs)] = samples.setdefault(inputs, len(samples))
            by_sample.setdefault(i, []).append((j, node))
        # Samples that meet the same neurons, and no other sample meets those: a full grid.
        grids: dict[tuple[int, ...], list[int]] = {}
        for i, cells in by_sample.items():
            grids.setdefault(tuple(sorted(j for j, _ in cells)), []).append(i)
        grids_of_neuron = [0] * len(neurons)
        for cols in grids:
            for j in set(cols):
                grids_of_neuron[j] += 1
        sample_tuples, neuron_tuples = list(samples), list(neurons)
        rest: list[Value] = []
        for cols, rows in grids.items():
            width = len(sample_tuples[rows[0]])
            full = len(set(cols)) == len(cols) and all(grids_of_neuron[j] == 1 for j in cols)
            if full and width > 0 and (len(rows) * len(cols) > 1 or width >= SHORTEST_DOT):
                grid = {(i, j): node for i in rows for j, node in by_sample[i]}
                self.matrix_product(level, grid, [sample_tuples[i] for i in rows], rows,
                                    [neuron_tuples[j] for j in cols], list(cols))
            else:
                rest.extend(node for i in rows for _, node in by_sample[i])
        if rest:
            rest.sort(key=self.position.__getitem__)
            self.linear_segments(level, rest)

    def matrix_product(self, level: int, grid: dict[tuple[int, int], Value], xs: list[tuple[Any, ...]],
                       rows: list[int], ps: list[tuple[Any, ...]], cols: list[int]) -> None:
        X = [self.codes(inputs) for inputs in xs]
        W = [self.codes(params[:-1]) for params in ps]
        # samples in the order of their first input's slot, neurons of their first weight's slot
        row_order = sorted(range(len(rows)), key=lambda r: _slot_order(X[r]))
        col_order = sorted(range(len(cols)), key=lambda c: _slot_order(W[c]))
        nodes = [grid[rows[r], cols[c]] for r in row_order for c in col_order]
        labels, positions = self.about(nodes)
        kernel = MatrixProduct(
            level, self.out(len(nodes)), labels, positions,
            X=self.slots([X[r] for r in row_order]),
            W=self.slots([W[c] for c in col_order]),
            b=self.slots([self.code(ps[c][-1]) for c in col_order]),
        )
        self.add(kernel, nodes)
        self.products[kernel.out.start] = kernel

    def linear_segments(self, level: int, nodes: list[Value]) -> None:
        left: list[int] = []
        right: list[int] = []
        arity = []
        one = self.constant(1.0)
        for node in nodes:
            params, inputs = linear_parts(node)
            left.append(self.code(params[-1]))  # the bias first, times 1: the engine starts from it
            right.append(one)
            left.extend(self.code(w) for w in params[:-1])
            right.extend(self.code(x) for x in inputs)
            arity.append(len(inputs) + 1)
        labels, positions = self.about(nodes)
        kernel = SegmentSum("linear", level, self.out(len(nodes)), labels, positions,
                            self.slots(left), self.slots(right), np.array(arity, dtype=np.intp), False)
        self.add(kernel, nodes)

    def chains(self, level: int, nodes: list[Value]) -> None:
        terms = [self.codes(self.plan.operands(node)) for node in nodes]
        flat = [c for row in terms for c in row]
        labels, positions = self.about(nodes)
        kernel = SegmentSum(CHAIN, level, self.out(len(nodes)), labels, positions, self.slots(flat),
                            self.slots([self.constant(1.0)] * len(flat)),
                            np.array([len(row) for row in terms], dtype=np.intp), True)
        self.add(kernel, nodes)

    def sums(self, level: int, nodes: list[Value]) -> None:
        """The engine's sum nodes, one kernel per number of terms (a matrix of slots each)."""
        by_width: dict[int, list[tuple[list[int], Value]]] = {}
        for node in nodes:
            row = self.codes(node.operands())
            by_width.setdefault(len(row), []).append((row, node))
        for entries in by_width.values():
            entries.sort(key=lambda entry: _slot_order(entry[0]))
            part = [node for _, node in entries]
            labels, positions = self.about(part)
            kernel = ExactSum("sum", level, self.out(len(part)), labels, positions,
                              self.slots([row for row, _ in entries]))
            self.add(kernel, part)

    def elementwise(self, level: int, key: str, nodes: list[Value]) -> None:
        codes = np.array([self.codes(node.operands()) for node in nodes], dtype=np.intp)
        # split by where the operands come from (a kernel, the parameters, the inputs, constants)
        origins = np.where(codes < 0, CONSTANTS, self.origin[np.maximum(codes, 0)])
        kinds, part_of = np.unique(origins, axis=0, return_inverse=True)
        part_of = part_of.reshape(-1)
        if len(kinds) <= MOST_PARTS:
            parts = []
            for kind, members in ((kind, np.flatnonzero(part_of == p)) for p, kind in enumerate(kinds)):
                # order by the Value operands' slots (the constants of a part are in the same columns)
                keys = [codes[members, j] for j in reversed(range(len(kind))) if kind[j] != CONSTANTS]
                parts.append(members[np.lexsort(keys)] if keys else members)
        else:
            parts = [np.array(sorted(range(len(nodes)), key=lambda t: _slot_order(codes[t].tolist())))]
        for members in parts:
            part = [nodes[t] for t in members.tolist()]
            labels, positions = self.about(part)
            if self.fold(key, part, codes[members, 0], labels):
                continue
            out = self.out(len(part))
            columns = [self.slots(codes[members, j]) for j in range(codes.shape[1])]
            if len(part) == 1:
                kernel: Kernel = Scalar(key, level, out, labels, positions, columns)
            else:
                kernel = Elementwise(key, level, out, labels, positions, columns)
            self.add(kernel, part)

    def fold(self, key: str, nodes: list[Value], column: Array, labels: dict[int, str]) -> bool:
        """Fold an activation into the matrix product whose outputs, all in order, are its operands."""
        product = self.products.get(int(column[0]))
        if (
            product is None
            or product.act_key
            or not getattr(vectorized(key), "finite_on_finite", False)
            or len(nodes[0].operands()) != 1
            or not np.array_equal(column, np.arange(product.out.start, product.out.stop))
        ):
            return False
        out = self.out(len(nodes))
        product.fold(key, out, labels)
        for i, node in enumerate(nodes, start=out.start):
            self.slot[node] = i
        self.needs_grad[out] = product.needs_grad
        self.origin[out] = self.origin[product.out.start]
        return True

    def finish(self, root: Value, aux: Sequence[Value], n_levels: int) -> Program:
        constants_at = self.next_slot
        vals = np.zeros(constants_at + len(self.constants))
        vals[constants_at:] = self.constants
        grads = np.zeros_like(vals)
        for kernel in self.kernels:
            kernel.bind(vals, grads, constants_at)

        def resolve(x: Value) -> int:
            code = self.code(x)
            return code if code >= 0 else constants_at - 1 - code

        return Program(
            kernels=self.kernels,
            vals=vals,
            grads=grads,
            param_slots=self.param_slots,
            input_slots=self.input_slots,
            computed=slice(self.first_computed, constants_at),
            root_slot=resolve(root),
            aux_slots=np.array([resolve(v) for v in aux], dtype=np.intp),
            n_levels=n_levels,
            n_nodes=len(self.plan.run),
        )
