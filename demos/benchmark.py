"""How fast is micrograd? One run: every contender warmed, then timed in alternating blocks of steps.

    python demos/benchmark.py            # the figures in the README (about three minutes)
    python demos/benchmark.py --quick    # tiny sizes, a smoke test: the figures mean nothing

Three training steps (forward + backward + SGD update, loss + 1e-4 L2):

    moons   MLP(2, [16, 16, 1]), 100 points, hinge loss, lr 1.0 decaying (the classic run)
    digits  MLP(64, [32, 10]), 64 of scikit-learn's 8x8 digits, cross-entropy, lr 0.1
    wide    MLP(64, [128, 128, 10]), 256 digits, cross-entropy, lr 0.1: how the cost grows with width

each by these contenders, all from the same initial weights:

    engine, fused          the eager engine: build the graph, backward, update each Value
    engine, unfused        the same with one node per w*x and per + (the teaching graph; moons only)
    hand-written Python    the moons step derived by hand in plain lists, no graph: the floor for
                           any pure-Python engine (moons only)
    compiled               micrograd.compile, parameters in an array: step.value_and_grad, then
                           theta -= lr * grad (what fit_compiled does)
    compiled, via Values   the same compiled step reading p.data and adding into p.grad, then the
                           update written Value by Value in Python
    PyTorch                vectorized, float64, one thread, same weights
    hand-written numpy     the step derived by hand with numpy arrays: the floor for any numpy replay

Every step runs as ``fit`` runs it, inside ``training.gc_paused()``: Python's cyclic garbage
collector is paused within the step and runs between steps. One more row, "engine, fused, collector
running", takes the eager step with the collector left on, as a hand-written loop without
``gc_paused`` does: each automatic collection then traverses the step's live graph, which costs a
small process (this one imports numpy and torch, whose objects make full collections rarer) 20 to
40% more.

Before timing, every contender runs 5 steps and must give the same losses as the reference (the
eager engine; PyTorch for wide) to 1e-9. Timing: each contender is warmed, then in every round each
runs one block of BLOCK steps (the first BLOCK steps of training, from the initial weights; the
order of contenders rotates from round to round); a step's time is its block's time / BLOCK. The
tables give the median over rounds, the fastest and slowest round, and ratios of medians. numpy's
BLAS and PyTorch both run on one thread, so every contender runs in this one thread, and its time
is this thread's CPU time (time.thread_time): on a machine shared with other jobs, the wall clock
also counts the time they take; it is shown beside (the median over the same blocks).

Then: the eager engine's memory and scaling on long chains, the cost of tracing each shape
(seconds per 100,000 traced nodes, bytes per traced node), ``demos/digits.py``'s training run, and
the issue's targets, each named with its figure.
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy loads
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field, replace  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

DEMOS = Path(__file__).resolve().parent
sys.path.insert(0, str(DEMOS.parent))
sys.path.insert(0, str(DEMOS))

from micrograd import Value  # noqa: E402
from micrograd.data import load_digits, make_moons  # noqa: E402
from micrograd.losses import cross_entropy, hinge, l2  # noqa: E402
from micrograd.nn import MLP  # noqa: E402
from micrograd.training import gc_paused  # noqa: E402

ALPHA = 1e-4
BLOCK = 20  # steps per timed block
CHECK_STEPS = 5
CHECK_TOLERANCE = 1e-9

ENGINE_GC = "engine, fused, collector running"
ENGINE, UNFUSED, HAND, COMPILED, VIA_VALUES, TORCH, NUMPY = (
    "engine, fused",
    "engine, unfused (teaching graph)",
    "hand-written backprop, pure Python lists",
    "compiled (numpy), parameters in an array",
    "compiled (numpy), via Values",
    "PyTorch vectorized, 1 thread",
    "hand-written numpy (floor)",
)


def moons_lr(k: int) -> float:
    return 1.0 - 0.9 * k / 100  # the classic schedule (a block is BLOCK <= 100 steps)


def digits_lr(k: int) -> float:
    return 0.1


@dataclass
class Shape:
    """A training step to time: its data, its model's layer sizes, its loss and learning rate."""

    name: str
    title: str
    sizes: list[int]
    X: list[list[float]]
    labels: list[int]
    loss: str  # "hinge" (labels -1/+1, one output) or "cross_entropy" (class indices)
    lr: Callable[[int], float]
    seed: int = 1
    contenders: list[Contender] = field(default_factory=list)

    def model(self, fused: bool = True) -> MLP:
        return MLP(self.sizes[0], self.sizes[1:], seed=self.seed, fused=fused,
                   init="uniform" if self.loss == "hinge" else "kaiming")

    def weights(self) -> list[tuple[list[list[float]], list[float]]]:
        """The initial weights as lists: per layer, W[neuron][input] and b[neuron]."""
        return [([[w.data for w in n.w] for n in layer.neurons], [n.b.data for n in layer.neurons])
                for layer in self.model().layers]


@dataclass
class Contender:
    """One way to take a training step: ``reset()`` restores the initial weights (not timed),
    ``step(k)`` takes step k and returns the loss before the update."""

    name: str
    reset: Callable[[], None]
    step: Callable[[int], float]
    collector: bool = False  # True: the garbage collector left running within the step


# ----------------------------------------------------------------------------------------------
# The eager engine


def engine_loss(shape: Shape, model: MLP) -> Callable[[], Value]:
    params = model.parameters()
    if shape.loss == "hinge":
        return lambda: hinge([model(x) for x in shape.X], shape.labels) + l2(params, ALPHA)
    return lambda: cross_entropy([model(x) for x in shape.X], shape.labels) + l2(params, ALPHA)  # type: ignore[misc]


def engine_contender(shape: Shape, name: str, fused: bool) -> Contender:
    model = shape.model(fused)
    params = model.parameters()
    initial = [p.data for p in params]
    loss_of = engine_loss(shape, model)

    def reset() -> None:
        for p, value in zip(params, initial):
            p.data = value

    def step(k: int) -> float:
        loss = loss_of()
        model.zero_grad()
        loss.backward()
        lr = shape.lr(k)
        for p in params:
            p.data -= lr * p.grad
        return loss.data

    return Contender(name, reset, step)


# ----------------------------------------------------------------------------------------------
# Hand-derived backprop in plain lists (moons: a ReLU MLP, linear output, hinge loss)


def hand_step(W: list, B: list, X: list[list[float]], y: list[int], lr: float) -> float:
    """Forward, the delta rule backward, and SGD for a ReLU MLP with a linear output, by hand."""
    n, depth = len(X), len(W)
    gW = [[[0.0] * len(row) for row in Wl] for Wl in W]
    gB = [[0.0] * len(Bl) for Bl in B]
    data_loss = 0.0
    for x, target in zip(X, y):
        acts, nets, a = [x], [], x
        for layer in range(depth):
            net = [b + sum(w * xi for w, xi in zip(row, a)) for row, b in zip(W[layer], B[layer])]
            nets.append(net)
            a = [v if v > 0.0 else 0.0 for v in net] if layer < depth - 1 else net
            acts.append(a)
        margin = 1.0 - target * a[0]
        if margin <= 0.0:
            continue  # the hinge is flat here: no gradient from this point
        data_loss += margin
        delta = [-target / n]
        for layer in range(depth - 1, -1, -1):
            a_in, Wl = acts[layer], W[layer]
            for j, d in enumerate(delta):
                if d != 0.0:
                    gB[layer][j] += d
                    grow = gW[layer][j]
                    for i, ai in enumerate(a_in):
                        grow[i] += d * ai
            if layer > 0:
                net_in = nets[layer - 1]
                delta = [
                    sum(Wl[j][i] * delta[j] for j in range(len(delta))) if net_in[i] > 0.0 else 0.0
                    for i in range(len(a_in))
                ]
    reg = 0.0
    for layer in range(depth):
        for j, row in enumerate(W[layer]):
            for i, w in enumerate(row):
                reg += w * w
                gW[layer][j][i] += 2 * ALPHA * w
            b = B[layer][j]
            reg += b * b
            gB[layer][j] += 2 * ALPHA * b
    for layer in range(depth):
        for j, row in enumerate(W[layer]):
            for i, g in enumerate(gW[layer][j]):
                row[i] -= lr * g
            B[layer][j] -= lr * gB[layer][j]
    return data_loss / n + ALPHA * reg


def hand_contender(shape: Shape) -> Contender:
    weights = shape.weights()
    W: list[Any] = []
    B: list[Any] = []

    def reset() -> None:
        W[:] = [[list(row) for row in Wl] for Wl, _ in weights]
        B[:] = [list(Bl) for _, Bl in weights]

    return Contender(HAND, reset, lambda k: hand_step(W, B, shape.X, shape.labels, shape.lr(k)))


# ----------------------------------------------------------------------------------------------
# Compiled


def compiled_contenders(shape: Shape, via_values: bool) -> list[Contender]:
    import numpy as np

    from micrograd.compile import TRACED_LOSSES, compile

    model = shape.model()
    params = model.parameters()
    if shape.loss == "hinge":
        targets: Any = [float(t) for t in shape.labels]
        loss_fn = lambda Xb, tb: hinge([model(x) for x in Xb], tb) + l2(params, ALPHA)  # noqa: E731
    else:
        targets = [[float(j == c) for j in range(shape.sizes[-1])] for c in shape.labels]
        data_loss = TRACED_LOSSES["cross_entropy"][2]  # the label as a one-hot input row, not an index
        loss_fn = lambda Xb, tb: data_loss([model(x) for x in Xb], tb) + l2(params, ALPHA)  # noqa: E731
    step = compile(loss_fn, params=params, inputs=(shape.X, targets))
    X, T = np.array(shape.X), np.array(targets)
    initial = step.parameter_values()
    theta = initial.copy()

    def reset_array() -> None:
        theta[:] = initial

    def array_step(k: int) -> float:
        loss, grad = step.value_and_grad(theta, X, T)
        np.subtract(theta, shape.lr(k) * grad, out=theta)  # theta -= lr * grad
        return loss

    out = [Contender(COMPILED, reset_array, array_step)]
    if via_values:

        def reset_values() -> None:
            step.set_parameter_values(initial)

        def values_step(k: int) -> float:
            model.zero_grad()
            loss = step(X, T)
            lr = shape.lr(k)
            for p in params:
                p.data -= lr * p.grad
            return loss

        out.append(Contender(VIA_VALUES, reset_values, values_step))
    return out


# ----------------------------------------------------------------------------------------------
# PyTorch vectorized


def torch_contender(shape: Shape) -> Contender:
    import torch

    torch.set_num_threads(1)
    weights = shape.weights()
    tensors = [torch.zeros(0)] * (2 * len(weights))
    X = torch.tensor(shape.X, dtype=torch.float64)
    y = torch.tensor(shape.labels, dtype=torch.float64 if shape.loss == "hinge" else torch.int64)

    def reset() -> None:
        for i, (Wl, Bl) in enumerate(weights):
            tensors[2 * i] = torch.tensor(Wl, dtype=torch.float64, requires_grad=True)
            tensors[2 * i + 1] = torch.tensor(Bl, dtype=torch.float64, requires_grad=True)

    def step(k: int) -> float:
        a = X
        for i in range(0, len(tensors), 2):
            a = a @ tensors[i].T + tensors[i + 1]
            if i < len(tensors) - 2:
                a = torch.relu(a)
        if shape.loss == "hinge":
            data_loss = torch.relu(1 - y * a[:, 0]).mean()
        else:
            data_loss = torch.nn.functional.cross_entropy(a, y)
        loss = data_loss + ALPHA * sum((p * p).sum() for p in tensors)
        for p in tensors:
            p.grad = None
        loss.backward()
        lr = shape.lr(k)
        with torch.no_grad():
            for p in tensors:
                p -= lr * p.grad  # type: ignore[operator]
        return loss.item()

    return Contender(TORCH, reset, step)


# ----------------------------------------------------------------------------------------------
# Hand-written numpy: the floor for any numpy replay of the same step


def numpy_contender(shape: Shape) -> Contender:
    import numpy as np

    weights = shape.weights()
    layers: list[list[Any]] = []
    X = np.array(shape.X)
    n = len(X)
    if shape.loss == "hinge":
        y = np.array(shape.labels, dtype=float)
    else:
        onehot = np.eye(shape.sizes[-1])[shape.labels]

    def reset() -> None:
        layers[:] = [[np.array(Wl), np.array(Bl)] for Wl, Bl in weights]

    def step(k: int) -> float:
        acts, nets, a = [X], [], X
        for i, (W, b) in enumerate(layers):
            z = a @ W.T
            z += b
            nets.append(z)
            a = np.maximum(z, 0.0) if i < len(layers) - 1 else z
            acts.append(a)
        if shape.loss == "hinge":
            margins = 1.0 - y * a[:, 0]
            active = margins > 0.0
            data_loss = margins[active].sum() / n
            delta = (-(y * active) / n)[:, None]
        else:
            top = a.max(axis=1, keepdims=True)
            e = np.exp(a - top)
            s = e.sum(axis=1, keepdims=True)
            data_loss = (np.log(s[:, 0]) + top[:, 0] - (a * onehot).sum(axis=1)).mean()
            delta = (e / s - onehot) / n
        reg = sum((W * W).sum() + (b * b).sum() for W, b in layers)
        lr = shape.lr(k)
        for i in range(len(layers) - 1, -1, -1):
            W, b = layers[i]
            gW, gb = delta.T @ acts[i], delta.sum(axis=0)
            if i > 0:
                delta = (delta @ W) * (nets[i - 1] > 0.0)
            W -= lr * (gW + 2 * ALPHA * W)
            b -= lr * (gb + 2 * ALPHA * b)
        return float(data_loss + ALPHA * reg)

    return Contender(NUMPY, reset, step)


# ----------------------------------------------------------------------------------------------
# Shapes, checks and timing


def shapes(quick: bool) -> list[Shape]:
    moons_X, moons_labels = make_moons(20 if quick else 100, noise=0.1, seed=0)
    digits_X, digits_labels = load_digits(seed=0)
    batch, wide_batch, width = (8, 16, 32) if quick else (64, 256, 128)
    return [
        Shape("moons", f"MLP(2, [16, 16, 1]), {len(moons_X)} points, hinge + L2", [2, 16, 16, 1],
              moons_X, [2 * c - 1 for c in moons_labels], "hinge", moons_lr),
        Shape("digits", f"MLP(64, [32, 10]), batch {batch}, cross-entropy + L2", [64, 32, 10],
              digits_X[:batch], digits_labels[:batch], "cross_entropy", digits_lr),
        Shape("wide", f"MLP(64, [{width}, {width}, 10]), batch {wide_batch}, cross-entropy + L2",
              [64, width, width, 10],
              digits_X[:wide_batch], digits_labels[:wide_batch], "cross_entropy", digits_lr),
    ]


def add_contenders(shape: Shape) -> None:
    """Every contender that applies to the shape and whose library is installed."""
    if shape.name != "wide":  # the eager engine would take seconds a step
        shape.contenders.append(engine_contender(shape, ENGINE, fused=True))
    if shape.name == "moons":
        shape.contenders.append(replace(engine_contender(shape, ENGINE_GC, fused=True), collector=True))
    if shape.name == "moons":
        shape.contenders.append(engine_contender(shape, UNFUSED, fused=False))
        shape.contenders.append(hand_contender(shape))
    try:
        shape.contenders.extend(compiled_contenders(shape, via_values=shape.name != "wide"))
        shape.contenders.append(numpy_contender(shape))
    except ImportError as exc:
        print(f"(no compiled or numpy rows: {exc})")
    try:
        shape.contenders.append(torch_contender(shape))
    except ImportError:
        print("(no PyTorch row: torch is not installed)")


def check_same_losses(shape: Shape) -> None:
    """Every contender computes the same step: the same losses as the reference over a few steps."""
    runs = {}
    for contender in shape.contenders:
        contender.reset()
        runs[contender.name] = [contender.step(k) for k in range(CHECK_STEPS)]
    reference = ENGINE if ENGINE in runs else TORCH if TORCH in runs else next(iter(runs))
    for name, losses in runs.items():
        for k, (ours, theirs) in enumerate(zip(losses, runs[reference])):
            if abs(ours - theirs) > CHECK_TOLERANCE * max(1.0, abs(theirs)):
                raise SystemExit(
                    f"{shape.name}: {name} disagrees with {reference} at step {k}: {ours!r}, {theirs!r}"
                )


@dataclass
class Times:
    """A contender's seconds per step in each round: CPU time of this thread, and wall-clock time."""

    cpu: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)


def time_blocks(contenders: list[Contender], rounds: int, block: int, warm: int) -> dict[str, Times]:
    """Seconds per step of each contender in each round (see the module docstring)."""
    for contender in contenders:
        contender.reset()
        for k in range(warm):
            contender.step(k % block)
    times = {c.name: Times() for c in contenders}
    for r in range(rounds):
        shift = r % len(contenders)
        for contender in contenders[shift:] + contenders[:shift]:
            contender.reset()
            gc.collect()
            cpu, wall = time.thread_time(), time.perf_counter()
            for k in range(block):
                if contender.collector:
                    contender.step(k)
                else:
                    with gc_paused():
                        contender.step(k)
            times[contender.name].cpu.append((time.thread_time() - cpu) / block)
            times[contender.name].wall.append((time.perf_counter() - wall) / block)
    return times


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}" if seconds < 0.01 else f"{seconds * 1e3:.1f}"


def print_shape(shape: Shape, times: dict[str, Times]) -> dict[str, float]:
    """The shape's table; returns each contender's median CPU seconds per step."""
    medians = {name: statistics.median(t.cpu) for name, t in times.items()}
    floors = [name for name in (TORCH, NUMPY) if name in medians]
    print(f"\n{shape.name} step: {shape.title}, forward + backward + SGD update\n")
    print("| contender | CPU ms per step (median) | fastest - slowest round | "
          + " | ".join(f"x {'PyTorch' if f == TORCH else 'numpy floor'}" for f in floors)
          + " | wall-clock ms (median) |")
    print("|---|---:|---:|" + "---:|" * len(floors) + "---:|")
    for name, seconds in medians.items():
        ratios = " | ".join(f"{seconds / medians[f]:.2f}" for f in floors)
        cpu = times[name].cpu
        print(f"| {name} | {ms(seconds)} | {ms(min(cpu))} - {ms(max(cpu))} | {ratios} "
              f"| {ms(statistics.median(times[name].wall))} |")
    return medians


# ----------------------------------------------------------------------------------------------
# Memory and scaling of the eager engine; tracing


def bytes_per_node(n: int) -> float:
    x = Value(1.0)
    tracemalloc.start()
    y = x
    for _ in range(n // 2):
        y = y * 1.0000001 + 0.5  # two elementary nodes; the constants are not nodes
    used, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del y
    return used / n


def bytes_per_made_value(n: int) -> tuple[float, float]:
    """A Value made by the user (a parameter, an input): it may take attributes of its own (p.m = 0),
    so it carries an attribute dictionary, made when the first attribute is set."""
    tracemalloc.start()
    values = [Value(float(i)) for i in range(n)]
    used, _ = tracemalloc.get_traced_memory()
    for v in values:
        v.m = 0.0
    with_attribute, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del values
    return (used - n * 8) / n, (with_attribute - n * 8) / n  # less the list's pointers


def backward_seconds_per_node(n: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        x = Value(1.0)
        y = x
        for _ in range(n // 2):
            y = y * 1.0000001 + 0.5
        gc.collect()
        start = time.thread_time()
        y.backward()
        times.append((time.thread_time() - start) / n)
        del x, y
    return statistics.median(times)


def trace_cost(shape: Shape) -> tuple[int, int, float, float, float]:
    """(op nodes, matrix products, CPU seconds to trace and compile, peak bytes per node while
    compiling, bytes per node the compiled step keeps)."""
    from micrograd.compile import TRACED_LOSSES, compile

    def build() -> Any:
        model = shape.model()
        params = model.parameters()
        targets = [[float(j == c) for j in range(shape.sizes[-1])] for c in shape.labels]
        data_loss = TRACED_LOSSES["cross_entropy"][2]
        return compile(lambda Xb, tb: data_loss([model(x) for x in Xb], tb) + l2(params, ALPHA),
                       params=params, inputs=(shape.X, targets))

    gc.collect()
    start = time.thread_time()
    step = build()
    seconds = time.thread_time() - start
    del step
    gc.collect()
    tracemalloc.start()
    step = build()
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return step.n_nodes, step.n_products, seconds, peak / step.n_nodes, kept / step.n_nodes


# ----------------------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "met" if met else "**NOT MET**"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not figures")
    parser.add_argument("--rounds", type=int, default=9, help="timed blocks per contender (default 9)")
    args = parser.parse_args(argv)
    rounds, block, warm = (2, 2, 1) if args.quick else (args.rounds, BLOCK, BLOCK)

    versions = [f"Python {platform.python_version()}"]
    for module in ("numpy", "torch"):
        try:
            versions.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            pass
    print(f"micrograd benchmark: {', '.join(versions)}; {os.cpu_count()} CPUs; "
          f"BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS')}")
    print(f"each contender warmed ({warm} steps), then {rounds} rounds of one block of {block} steps each")

    medians: dict[str, dict[str, float]] = {}
    all_shapes = shapes(args.quick)
    for shape in all_shapes:
        add_contenders(shape)
        check_same_losses(shape)
        medians[shape.name] = print_shape(shape, time_blocks(shape.contenders, rounds, block, warm))

    n_small, n_large = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    per_node = bytes_per_node(n_small)
    small = backward_seconds_per_node(n_small, 1 if args.quick else 3)
    large = backward_seconds_per_node(n_large, 1 if args.quick else 3)
    print("\n| eager engine: memory and scaling (CPU time) | value |")
    print("|---|---:|")
    made, with_attribute = bytes_per_made_value(n_small)
    print(f"| bytes per elementary node (chain of * and +), what ops build | {per_node:.1f} |")
    print(f"| bytes per Value the user makes (a leaf: may take attributes) | {made:.1f} |")
    print(f"| the same, after one attribute is set (p.m = 0.0) | {with_attribute:.1f} |")
    print(f"| backward, {n_small:,}-node chain | {small * 1e9:.0f} ns per node |")
    print(f"| backward, {n_large:,}-node chain | {large * 1e9:.0f} ns per node |")
    print(f"| per-node time ratio, {n_large:,} / {n_small:,} | {large / small:.2f} |")

    print("\n| tracing (compile), CPU time | op nodes | seconds | s per 100k nodes | peak bytes per node "
          "| bytes per node kept | us per w*x | peak bytes per w*x |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for shape in all_shapes[1:]:
        nodes, _, seconds, peak, kept = trace_cost(shape)
        # the weight-by-input products of the batch (what the CLI bounds for --compile)
        products = len(shape.X) * sum(a * b for a, b in zip(shape.sizes, shape.sizes[1:]))
        per_product = f"{seconds / products * 1e6:.2f} | {peak * nodes / products:.0f}"
        print(f"| {shape.name}: {shape.title} | {nodes:,} | {seconds:.3f} | {seconds / nodes * 1e5:.2f} "
              f"| {peak:,.0f} | {kept:,.0f} | {per_product} |")

    import digits

    steps = 20 if args.quick else digits.STEPS
    run = digits.train(steps=steps, progress=False)
    print(f"\ndemos/digits.py: {steps} Adam steps (batch {digits.BATCH}) in {run.cpu_seconds:.2f} s CPU "
          f"({run.seconds:.2f} s wall clock), held-out accuracy {run.accuracy:.1%}")

    moons, digit = medians["moons"], medians["digits"]
    print("\n| target | measured | goal | |")
    print("|---|---:|---:|---|")
    rows: list[tuple[str, float, str, bool]] = []  # every ratio of median CPU times
    for name, shape_medians, goal in (("digits", digit, 1.0), ("moons", moons, 0.6)):
        if COMPILED in shape_medians and TORCH in shape_medians:
            ratio = shape_medians[COMPILED] / shape_medians[TORCH]
            rows.append((f"{name} step: compiled / PyTorch vectorized", ratio, f"<= {goal}x", ratio <= goal))
    for name, shape_medians in (("digits", digit), ("moons", moons)):
        if COMPILED in shape_medians and NUMPY in shape_medians:
            ratio = shape_medians[COMPILED] / shape_medians[NUMPY]
            rows.append((f"{name} step: compiled / hand-written numpy", ratio, "<= 3x", ratio <= 3.0))
    seconds = run.cpu_seconds
    rows.append((f"demos/digits.py: {steps} training steps, CPU seconds", seconds, "< 1.5 s", seconds < 1.5))
    rows.append(("demos/digits.py: held-out accuracy", run.accuracy, ">= 95%", run.accuracy >= 0.95))
    ratio = moons[ENGINE] / moons[HAND]
    rows.append(("moons step: eager engine / hand-written pure Python", ratio, "<= 2.0x", ratio <= 2.0))
    if ENGINE_GC in moons:
        ratio = moons[ENGINE_GC] / moons[HAND]
        rows.append(("(the same, the engine's collector running)", ratio, "no goal", True))
    for name, value, goal, met in rows:
        if "accuracy" in name:
            figure = f"{value:.1%}"
        else:
            figure = f"{value:.2f} s" if "seconds" in name else f"{value:.2f}x"
        print(f"| {name} | {figure} | {goal} | {verdict(met) if goal != 'no goal' else ''} |")
    if args.quick:
        print("\n(--quick: tiny sizes and blocks; these figures are a smoke test, not measurements)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
