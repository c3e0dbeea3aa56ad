"""Kernels: the array operations a compiled step runs, each computing a group of nodes at once.

Every value the step reads or computes owns one slot of the array ``vals`` (and of ``grads``); a
kernel's outputs are the contiguous slots ``out``. A kernel reads each operand through ``Slots``:
a view of ``vals`` when the operand's slots form a regular pattern (a layer's outputs read by the
next layer, a neuron's weights in parameter order), a gather otherwise. The kinds:

- ``Elementwise``: nodes of one unary or binary op, out[i] = f(a[i], b[i]);
- ``Scalar``: a lone node, run on floats with the engine's own rule (cheaper than numpy on one number);
- ``MatrixProduct``: the linear nodes of a layer, out = X @ W.T + b, optionally followed by the
  layer's activation (relu, tanh, ...) as a second array operation;
- ``SegmentSum``: any other linear nodes and left-to-right chains of additions, added in the
  engine's order with ``np.bincount``;
- ``ExactSum``: the engine's n-ary ``sum`` (which is ``math.fsum``), see ``ExactSum``.

Backward runs the kernels in reverse: each multiplies its upstream gradient by the local
derivatives and adds the products into its operands' slots of ``grads``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from micrograd.compile.ops import Array, vectorized
from micrograd.engine import RULES, Value, affine, no_grad, split_linear

ROUNDING = 2.0**-53  # the unit roundoff of a float: one addition errs by at most this, relatively
# A sum computed in numpy's order is kept when its error bound is below this fraction of it;
# a row that cancels more is added again with math.fsum, as the engine adds it.
SUM_TOLERANCE = 2.0**-44
FEW_SUMS = 4  # up to this many sum nodes in a kernel: math.fsum each (cheaper than the check)


def _strided(idx: Array) -> tuple[int, tuple[int, ...]] | None:
    """``(base, steps)`` when ``idx[i, j, ...] == base + i * steps[0] + j * steps[1] + ...`` with
    every step >= 0 (so the slots are a view of the buffer), else None."""
    if idx.size == 0:
        return None
    base = int(idx.flat[0])
    steps = []
    expected = np.full(idx.shape, base, dtype=np.intp)
    for axis, n in enumerate(idx.shape):
        step = 0
        if n > 1:
            step = int(idx[tuple(1 if a == axis else 0 for a in range(idx.ndim))]) - base
            if step < 0:
                return None
        steps.append(step)
        along = [n if a == axis else 1 for a in range(idx.ndim)]
        expected += step * np.arange(n, dtype=np.intp).reshape(along)
    return (base, tuple(steps)) if np.array_equal(expected, idx) else None


def _view(buffer: Array, base: int, shape: tuple[int, ...], steps: tuple[int, ...]) -> Array:
    return as_strided(buffer[base:], shape=shape, strides=tuple(s * buffer.itemsize for s in steps))


class _Scatter:
    """Adds contributions into ``grads`` at target slots that may repeat (segment sum by bincount)."""

    def __init__(self, targets: Array) -> None:
        unique, inverse = np.unique(targets, return_inverse=True)
        self.targets = targets
        self.unique = None if len(unique) == len(targets) else unique
        self.inverse = inverse.reshape(-1)

    def add(self, grads: Array, contribution: Array) -> None:
        if self.unique is None:
            grads[self.targets] += contribution
        else:
            grads[self.unique] += np.bincount(self.inverse, contribution, minlength=len(self.unique))


class Slots:
    """One operand of a kernel: a slot per node (or a matrix of slots), read from ``vals``, with
    its gradient added into ``grads``.

    While the program is built, a constant is coded as a negative number -1 - k (constant k);
    ``bind`` resolves the codes once the constants' place in the buffer is known. A constant
    operand is read once, at bind time, and gets no gradient.
    """

    def __init__(self, idx: Array, needs_grad: Array) -> None:
        self.idx = idx
        self.shape = idx.shape
        values = idx[idx >= 0]
        self.constant = values.size == 0
        self.needs_grad = bool(needs_grad[values].any()) if values.size else False

    def bind(self, vals: Array, grads: Array, constants_at: int, scalar_ok: bool = False) -> None:
        idx = np.where(self.idx < 0, constants_at - 1 - self.idx, self.idx)
        self.idx = idx
        pattern = _strided(idx)
        if self.constant:
            values = vals[idx]
            same = values.size > 0 and bool((values == values.flat[0]).all())
            self.value = float(values.flat[0]) if scalar_ok and same else values
            self.read: Callable[[], Any] = lambda: self.value
        elif pattern is not None:
            view = _view(vals, pattern[0], idx.shape, pattern[1])
            self.read = lambda: view
        else:
            self.read = lambda: vals.take(idx)
        if not self.needs_grad:
            return
        unique = np.unique(idx).size == idx.size
        if pattern is not None and unique:
            grad_view = _view(grads, pattern[0], idx.shape, pattern[1])
            self.add: Callable[[Any], None] = lambda c: np.add(grad_view, c, out=grad_view)
        elif unique:

            def add_at(c: Any) -> None:
                grads[idx] += c

            self.add = add_at
        else:
            scatter = _Scatter(idx.reshape(-1))
            self.add = lambda c: scatter.add(grads, np.broadcast_to(c, idx.shape).reshape(-1))


class Kernel:
    """Nodes computed by one array operation; their outputs are the slots ``out``, in order."""

    key = ""
    refuses: Callable[..., Array] | None = None
    # Set by backward where a local derivative is not finite but the upstream gradient is 0: right
    # only if that 0 is exact (see engine.backward), which the graph alone can tell.
    suspect = False

    def __init__(self, key: str, level: int, out: slice, labels: dict[int, str], positions: Array) -> None:
        self.key, self.level, self.out = key, level, out
        self.op_name = key  # the op as error messages name it
        self.labels = labels  # node index -> label, for error messages (the graph itself is not kept)
        self.positions = positions  # each node's place in the graph's topological order
        self.needs_grad = False

    @property
    def size(self) -> int:
        return self.out.stop - self.out.start

    def bind(self, vals: Array, grads: Array, constants_at: int) -> None:
        self.vals, self.grads = vals, grads
        self.out_vals, self.out_grads = vals[self.out], grads[self.out]

    def forward(self) -> None:
        raise NotImplementedError

    def backward(self) -> None:
        raise NotImplementedError

    def failed(self) -> Array:
        """Where a node of this kernel failed although its operands are finite (so the failure starts
        here): a result that is not finite, or one the engine refuses."""
        raise NotImplementedError

    def operand_data(self, i: int) -> list[float]:
        """The operands of node i, in the engine's order (to re-run it for the engine's message)."""
        raise NotImplementedError

    def reevaluate(self, i: int) -> None:
        """Run node i through the engine's own forward, which raises the engine's error."""
        RULES[self.key].evaluate(self.operand_data(i))

    def where(self, i: int) -> str:
        label = f" '{self.labels[i]}'" if i in self.labels else ""
        place = f"{i + 1} of {self.size} at level {self.level}"
        return f" [in the compiled step: {self.op_name} node{label} {place}]"


def _evaluate_linear(data: list[float]) -> None:
    """Run a linear node (operands w_1..w_n, x_1..x_n, b) through the engine's own ``affine``."""
    weights, inputs, bias = split_linear(data)
    with no_grad():
        affine([Value(v) for v in (*weights, bias)], [Value(v) for v in inputs])


def _finite_rows(*arrays: Array) -> Array:
    """Per node (first axis), whether every operand value is finite."""
    ok: Array = True
    for a in arrays:
        if np.ndim(a) == 0:
            continue
        finite = np.isfinite(a)
        ok = ok & (finite.reshape(len(finite), -1).all(axis=1) if finite.ndim > 1 else finite)
    return ok


class Elementwise(Kernel):
    """A unary or binary op: out[i] = f(a[i], b[i]), operand j of every node read as column j."""

    def __init__(self, key: str, level: int, out: slice, labels: dict[int, str], positions: Array,
                 columns: list[Slots]) -> None:
        super().__init__(key, level, out, labels, positions)
        op = vectorized(key)
        assert op is not None  # lower refuses an op without one
        self.forward_fn, self.local_fn = op.forward, op.local_rule(key)
        self.refuses, self.guard_local = op.refuses, op.local_can_blow_up
        self.columns = columns
        self.needs_grad = any(c.needs_grad for c in columns)

    def bind(self, vals: Array, grads: Array, constants_at: int) -> None:
        super().bind(vals, grads, constants_at)
        for c in self.columns:
            c.bind(vals, grads, constants_at, scalar_ok=True)
        self.reads = [c.read for c in self.columns]

    def forward(self) -> None:
        self.forward_fn(*[read() for read in self.reads], out=self.out_vals)

    def failed(self) -> Array:
        operands = [read() for read in self.reads]
        bad = ~np.isfinite(self.out_vals)
        if self.refuses is not None:
            bad |= self.refuses(*operands)
        return bad & _finite_rows(*operands)

    def backward(self) -> None:
        operands = [read() for read in self.reads]
        out, upstream = self.out_vals, self.out_grads
        self.suspect = False
        for column, local in zip(self.columns, self.local_fn(*operands, out)):
            if not column.needs_grad:
                continue
            if self.guard_local:
                column.add(_guarded(self, local, upstream, operands, out))
            elif type(local) is float and local == 1.0:
                column.add(upstream)
            else:
                column.add(upstream * local)

    def operand_data(self, i: int) -> list[float]:
        return [float(np.broadcast_to(read(), (self.size,))[i]) for read in self.reads]


class Scalar(Kernel):
    """One node alone: run on floats with the engine's own forward and local derivatives.

    A failure is recorded as NaN, not raised at once, so that the step reports the first failing
    node of the graph (see ``CompiledStep``), as eager evaluation would.
    """

    def __init__(self, key: str, level: int, out: slice, labels: dict[int, str], positions: Array,
                 operands: list[Slots]) -> None:
        super().__init__(key, level, out, labels, positions)
        self.rule = RULES[key]
        self.operands = operands
        self.needs_grad = any(s.needs_grad for s in operands)

    def bind(self, vals: Array, grads: Array, constants_at: int) -> None:
        super().bind(vals, grads, constants_at)
        for s in self.operands:
            s.bind(vals, grads, constants_at, scalar_ok=True)
        self.slots = [int(s.idx[0]) for s in self.operands]
        self.slot = self.out.start
        self.needed = [s.needs_grad for s in self.operands]

    def operand_data(self, i: int = 0) -> list[float]:
        item = self.vals.item
        return [item(s) for s in self.slots]

    def forward(self) -> None:
        try:
            out = self.rule.forward(*self.operand_data())
        except (ArithmeticError, ValueError):
            out = math.nan
        self.vals[self.slot] = out

    def failed(self) -> Array:
        data = self.operand_data()
        if not all(map(math.isfinite, data)):
            return np.zeros(1, dtype=bool)
        return np.array([not math.isfinite(self.vals.item(self.slot))])

    def backward(self) -> None:
        upstream = self.grads.item(self.slot)
        data, out = self.operand_data(), self.vals.item(self.slot)
        if upstream == 0.0:  # as the engine: a zero upstream adds nothing
            if self.rule.singular:  # (a suspect only makes the step ask the engine)
                try:
                    locals_ = self.rule.local(*data, out)
                    self.suspect = any(x is not None and not math.isfinite(x) for x in locals_)
                except (ArithmeticError, ValueError):
                    self.suspect = True
            return
        self.suspect = False
        try:
            locals_ = self.rule.local(*data, out)
        except (ArithmeticError, ValueError) as exc:
            raise type(exc)(
                f"backward through {self.rule.describe(data)} = {out!r}: its local derivative is not "
                f"finite ({exc}){self.where(0)}"
            ) from None
        grads = self.grads
        for slot, needed, local in zip(self.slots, self.needed, locals_):
            if needed:
                grads[slot] += upstream * local


class SegmentSum(Kernel):
    """Linear nodes that are no regular grid, and chains of additions: out[k] = sum of
    left[j] * right[j] over the entries j of node k, added in order from the first entry.

    A neuron w.x + b has entries (b, 1), (w_1, x_1), ..., (w_n, x_n): the engine's order exactly.
    A chain a + b + c has entries (a, 1), (b, 1), (c, 1). ``np.bincount`` adds in index order, so
    each node is rounded exactly as the engine rounds it.
    """

    def __init__(self, key: str, level: int, out: slice, labels: dict[int, str], positions: Array,
                 left: Slots, right: Slots, arity: Array, right_is_one: bool) -> None:
        super().__init__(key, level, out, labels, positions)
        self.left, self.right, self.arity, self.right_is_one = left, right, arity, right_is_one
        self.op_name = "+" if right_is_one else "linear"  # a chain of additions, or neurons
        self.segment = np.repeat(np.arange(len(arity), dtype=np.intp), arity)
        self.needs_grad = left.needs_grad or (not right_is_one and right.needs_grad)

    def bind(self, vals: Array, grads: Array, constants_at: int) -> None:
        super().bind(vals, grads, constants_at)
        self.left.bind(vals, grads, constants_at)
        self.right.bind(vals, grads, constants_at)

    def forward(self) -> None:
        terms = self.left.read() if self.right_is_one else self.left.read() * self.right.read()
        self.out_vals[...] = np.bincount(self.segment, terms, minlength=len(self.arity))

    def failed(self) -> Array:
        finite = np.isfinite(self.left.read())
        if not self.right_is_one:
            finite &= np.isfinite(self.right.read())
        operands_finite = np.bincount(self.segment, ~finite, minlength=len(self.arity)) == 0
        return ~np.isfinite(self.out_vals) & operands_finite

    def backward(self) -> None:
        upstream = self.out_grads[self.segment]
        if self.left.needs_grad:
            self.left.add(upstream if self.right_is_one else upstream * self.right.read())
        if not self.right_is_one and self.right.needs_grad:
            self.right.add(upstream * self.left.read())

    def _entries(self, i: int) -> tuple[list[float], list[float]]:
        start = int(np.searchsorted(self.segment, i))
        stop = start + int(self.arity[i])
        left = [float(v) for v in self.vals[self.left.idx[start:stop]]]
        right = [float(v) for v in self.vals[self.right.idx[start:stop]]]
        return left, right

    def operand_data(self, i: int) -> list[float]:
        left, right = self._entries(i)
        if self.right_is_one:
            return left
        return [*left[1:], *right[1:], left[0]]  # the engine's order: (w_1..w_n, x_1..x_n, b)

    def reevaluate(self, i: int) -> None:
        if not self.right_is_one:
            return _evaluate_linear(self.operand_data(i))
        total, *rest = self.operand_data(i)  # a chain: the additions one by one, as written
        for term in rest:
            total = RULES["+"].evaluate((total, term))



class ExactSum(Kernel):
    """The engine's n-ary ``sum``, which adds with ``math.fsum`` (the exactly rounded sum).

    A kernel of a few nodes calls math.fsum on each. A larger one adds each row in numpy's order
    and bounds that sum's error by (n - 1) * 2**-53 * sum(|terms|); a row whose bound exceeds
    2**-44 of its sum (the terms cancel) is added again with math.fsum. So every sum node is within
    2**-44 (about 6e-14) relative of the engine's, and equal to it wherever the terms cancel.
    """

    def __init__(self, key: str, level: int, out: slice, labels: dict[int, str], positions: Array,
                 terms: Slots) -> None:
        super().__init__(key, level, out, labels, positions)
        self.terms = terms  # a (nodes x terms) matrix of slots: every node of the kernel has as many
        self.needs_grad = terms.needs_grad
        self.width = terms.shape[1]

    def bind(self, vals: Array, grads: Array, constants_at: int) -> None:
        super().bind(vals, grads, constants_at)
        self.terms.bind(vals, grads, constants_at)
        self.bound_factor = (self.width - 1) * ROUNDING / SUM_TOLERANCE
        self.one_signed_is_enough = self.bound_factor <= 1.0

    def forward(self) -> None:
        rows = self.terms.read()
        if self.size <= FEW_SUMS:
            self.out_vals[...] = [math.fsum(row) for row in rows.tolist()]
            return
        sums = rows.sum(axis=1)
        if not (self.one_signed_is_enough and rows.min() >= 0.0):
            cancels = np.abs(rows).sum(axis=1) * self.bound_factor > np.abs(sums)
            for i in np.flatnonzero(cancels).tolist():
                sums[i] = math.fsum(rows[i].tolist())
        self.out_vals[...] = sums

    def failed(self) -> Array:
        return ~np.isfinite(self.out_vals) & _finite_rows(self.terms.read())

    def backward(self) -> None:
        self.terms.add(self.out_grads[:, None])  # d sum / d term = 1 for every term

    def operand_data(self, i: int) -> list[float]:
        return [float(v) for v in np.asarray(self.terms.read())[i]]


class MatrixProduct(Kernel):
    """The linear nodes of a layer on a batch, one per (sample i, neuron j): out = X @ W.T + b.

    The nodes form a full grid: each sample's inputs tuple meets each neuron's params tuple once.
    ``out`` holds them row by row (sample-major), so the next layer reads them as its X without a
    copy. Backward: d/dW = G.T @ X, d/db = G.sum(0), d/dX = G @ W, with G the upstream gradients.
    An activation that reads exactly these outputs (the layer's relu, tanh, ...) is folded in
    (``fold``): its nodes are computed by the same kernel, in one more array operation.

    A matrix product adds each w.x in BLAS's order, not the engine's left to right: a node differs
    from eager by at most n * 2**-53 * (|b| + sum |w_i x_i|), n the number of inputs.
    """

    def __init__(self, level: int, out: slice, labels: dict[int, str], positions: Array,
                 X: Slots, W: Slots, b: Slots) -> None:
        super().__init__("linear", level, out, labels, positions)
        self.X, self.W, self.b = X, W, b
        self.n, self.m = X.shape[0], W.shape[0]
        self.needs_grad = X.needs_grad or W.needs_grad or b.needs_grad
        self.act_key = ""
        self.act_out = slice(0, 0)

    def fold(self, key: str, out: slice, labels: dict[int, str]) -> None:
        """Compute the activation ``key`` of every output too, into the slots ``out`` (same order)."""
        self.act_key, self.act_out, self.act_labels = key, out, labels
        op = vectorized(key)
        assert op is not None  # lower folds only an op with one
        self.act_forward, self.act_local = op.forward, op.local_rule(key)

    def bind(self, vals: Array, grads: Array, constants_at: int) -> None:
        super().bind(vals, grads, constants_at)
        for s in (self.X, self.W, self.b):
            s.bind(vals, grads, constants_at)
        shape = (self.n, self.m)
        self.H, self.G = self.out_vals.reshape(shape), self.out_grads.reshape(shape)
        if self.act_key:
            self.A, self.GA = vals[self.act_out].reshape(shape), grads[self.act_out].reshape(shape)

    def forward(self) -> None:
        np.matmul(self.X.read(), self.W.read().T, out=self.H)
        self.H += self.b.read()
        if self.act_key:
            self.act_forward(self.H, out=self.A)

    def backward(self) -> None:
        G = self.G
        if self.act_key:
            (local,) = self.act_local(self.H, self.A)
            G += self.GA * local
        # one sample or one neuron: the product is an outer product, each entry a single product
        if self.W.needs_grad:
            self.W.add(G.T * self.X.read() if self.n == 1 else G.T @ self.X.read())
        if self.b.needs_grad:
            self.b.add(G.sum(axis=0))
        if self.X.needs_grad:
            self.X.add(G * self.W.read() if self.m == 1 else G @ self.W.read())

    def failed(self) -> Array:
        # an activation folded in is finite wherever the product is (ops.Vectorized.finite_on_finite)
        rows_ok = _finite_rows(self.X.read())
        cols_ok = _finite_rows(self.W.read()) & np.isfinite(np.broadcast_to(self.b.read(), (self.m,)))
        return (~np.isfinite(self.H) & rows_ok[:, None] & cols_ok[None, :]).reshape(-1)

    def reevaluate(self, i: int) -> None:
        _evaluate_linear(self.operand_data(i))

    def operand_data(self, i: int) -> list[float]:
        row, col = divmod(i, self.m)
        X, W = np.asarray(self.X.read()), np.asarray(self.W.read())
        bias = float(np.broadcast_to(self.b.read(), (self.m,))[col])
        return [*map(float, W[col]), *map(float, X[row]), bias]


def _guarded(
    kernel: Elementwise, local: Array, upstream: Array, operands: Sequence[Array], out: Array
) -> Array:
    """upstream * local, raising as the engine does where a local derivative is not finite.

    The engine skips a node whose upstream gradient is 0, so there a non-finite local derivative
    (sqrt at 0, 0 ** -0.5) contributes 0 here too; but it raises if that 0 underflowed, which only
    the graph can tell: such a kernel is marked ``suspect`` and the step asks the engine.
    """
    blown = ~np.isfinite(local)
    if not blown.any():
        return upstream * local
    kernel.suspect = bool((blown & (upstream == 0.0)).any())
    rule = RULES[kernel.key]
    size = kernel.size
    for i in np.flatnonzero(blown & (upstream != 0.0)):
        data = [float(np.broadcast_to(x, (size,))[i]) for x in operands]
        try:
            rule.local(*data, float(out[i]))
        except (ArithmeticError, ValueError) as exc:
            raise type(exc)(
                f"backward through {rule.describe(data)} = {float(out[i])!r}: its local derivative is "
                f"not finite ({exc}){kernel.where(int(i))}"
            ) from None
        # else the engine's float arithmetic lets it through as inf, and so does the compiled step
    return np.where(upstream != 0.0, upstream * local, 0.0)
