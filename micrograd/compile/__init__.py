"""Compiled graphs: record a scalar graph once, then replay it with numpy, layers as matrix products.

``compile(loss_fn, params, inputs)`` calls ``loss_fn`` once on placeholder Values (one per number
of the example batch) and records the graph it builds, as ``jax.jit`` does. Then:

1. ``schedule`` levels the graph: a node's level is one more than its deepest operand's, so all
   nodes of one op at one level can run as one array operation. A chain of additions written left
   to right, ``((a + b) + c) + d`` (what Python's ``sum`` builds), runs as one sum in that order.
2. ``lower`` turns each level's nodes into kernels. The fused neuron sums of a layer on a batch form
   a grid, one params tuple per neuron and one inputs tuple per sample: such a grid runs as
   ``X @ W.T + b`` (and its relu, tanh, ... as one more array operation), backward as ``G.T @ X``,
   ``G.sum(0)`` and ``G @ W``. Irregular linear nodes run as segment sums in the engine's order,
   every other op elementwise over index arrays or, wherever the slots allow, views of one buffer.
3. ``CompiledStep`` runs the kernels forward, then backward in reverse.

What is fixed by the trace (document it to your users, as jax does):

- the control flow: Python ``if``/``max``/indexing that looked at ``.data`` during the trace took
  one branch, and every later call replays that branch. (``losses.logsumexp`` reads its shift m,
  the largest logit, from ``.data``: compiled, m is the trace's. The result is exact for any m; only
  a logit more than about 700 above it would overflow exp, which raises an OverflowError.)
- the number of inputs and the shape of each (so the batch size): a call whose inputs do not fit
  raises a ValueError saying what was traced;
- every leaf Value that is neither a parameter nor an input: it becomes a constant, its value taken
  at trace time.

Parameters stay shared with the eager model: each call reads every ``p.data`` and adds into every
``p.grad``, exactly like ``loss.backward()`` (so call ``zero_grad()`` between steps, as in eager code).
``step.value_and_grad(theta, *batch)`` works on an array of parameter values instead, touching no
Value: ``fit_compiled`` trains that way.

How close to the eager engine: every op computes the same IEEE operation on the same operands, so
``+ - * /`` and the chains of additions give exactly eager's floats, and numpy's exp, log, tanh
... are within an ulp or so of the math module's. The n-ary sums are added in another order: a
layer's weighted sums w.x + b by BLAS (each differs from eager by at most
n * 2**-53 * (|b| + sum |w_i x_i|), n inputs), and the engine's ``sum`` nodes (math.fsum) by numpy
with an error bound checked per node, rows that cancel being added again with math.fsum, so each is
within 2**-44 (6e-14) relative of eager's. Gradients are sums of contributions too, added in
another order: they agree to the same kind of bound. Errors agree: a call that would take log of a
non-positive number raises the engine's own DomainError, naming the op and its operands; a gradient
that would not be finite (or a 0 that underflowed before an infinite local derivative) raises the
engine's own error, found by running that one call eagerly. The step differentiates toward the
parameters only: it computes no gradient of the inputs, so it checks none.
"""

try:
    import numpy  # noqa: F401
except ImportError as exc:  # pragma: no cover - numpy is a dependency of the package
    from micrograd.install import missing_dependency

    raise ImportError(missing_dependency("numpy", "micrograd.compile")) from exc

from micrograd.compile.fit import TRACED_LOSSES, fit_compiled
from micrograd.compile.ops import SEGMENT_SUMS, Vectorized, vectorized
from micrograd.compile.schedule import CHAIN, LEVEL_COLOURS, Schedule, draw_levels, levels, schedule
from micrograd.compile.step import CompiledStep, compile

__all__ = [
    "CHAIN",
    "LEVEL_COLOURS",
    "SEGMENT_SUMS",
    "TRACED_LOSSES",
    "CompiledStep",
    "Schedule",
    "Vectorized",
    "compile",
    "draw_levels",
    "fit_compiled",
    "levels",
    "schedule",
    "vectorized",
]
