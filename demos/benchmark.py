"""How fast and how small is the engine? One run, contenders interleaved, medians and ratios.

    python demos/benchmark.py            # the figures in the README
    python demos/benchmark.py --quick    # tiny sizes, a smoke test

1. The classic moons training step (MLP(2, [16, 16, 1]), 100 points, hinge loss + 1e-4 L2,
   full batch, forward + backward + SGD update) with this engine, fused and unfused.
2. The same step as hand-derived backprop in plain Python lists, no graph at all: the floor for a
   pure-Python engine. It is checked to reach the same loss as the engine to 1e-9 over 20 steps.
3. The ratio of 1 to 2.
4. Bytes per elementary node (tracemalloc over a long chain of * and +).
5. Backward seconds per node on a 100,000-node and a 1,000,000-node chain, and their ratio.
6. The same moons step compiled (micrograd.compile, numpy) and in PyTorch vectorized on one
   thread, when numpy and torch are installed.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from micrograd import Value  # noqa: E402
from micrograd.data import make_moons  # noqa: E402
from micrograd.losses import hinge, l2  # noqa: E402
from micrograd.nn import MLP  # noqa: E402

ALPHA = 1e-4


def learning_rate(k: int) -> float:
    return 1.0 - 0.9 * k / 100  # the classic schedule


# ----------------------------------------------------------------------------------------------
# 1. the engine


def engine_step(model: MLP, X: list[list[float]], y: list[int], lr: float) -> float:
    scores = [model(x) for x in X]
    loss = hinge(scores, y) + l2(model.parameters(), ALPHA)
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss.data


# ----------------------------------------------------------------------------------------------
# 2. hand-derived backprop in plain lists


def weights_of(model: MLP) -> tuple[list[list[list[float]]], list[list[float]]]:
    """The model's weights as lists: W[layer][neuron][input] and B[layer][neuron]."""
    W = [[[w.data for w in neuron.w] for neuron in layer.neurons] for layer in model.layers]
    B = [[neuron.b.data for neuron in layer.neurons] for layer in model.layers]
    return W, B


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


# ----------------------------------------------------------------------------------------------
# timing


def interleaved(contenders: dict[str, Callable[[int], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each contender, running them in turn so that noise hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for k in range(repeats):
        for name, run in contenders.items():
            gc.collect()
            start = time.perf_counter()
            run(k)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


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


def backward_seconds_per_node(n: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        x = Value(1.0)
        y = x
        for _ in range(n // 2):
            y = y * 1.0000001 + 0.5
        gc.collect()
        start = time.perf_counter()
        y.backward()
        times.append((time.perf_counter() - start) / n)
        del x, y
    return statistics.median(times)


def optional_contenders(model_seed: int, X: list, y: list) -> dict[str, Callable[[int], object]]:
    """The compiled step and PyTorch vectorized, when numpy and torch are installed."""
    out: dict[str, Callable[[int], object]] = {}
    try:
        from micrograd.compile import compile
    except ImportError as exc:
        print(f"(no compiled row: {exc})")
    else:
        model = MLP(2, [16, 16, 1], seed=model_seed)
        params = model.parameters()
        step = compile(lambda Xb, yb: hinge([model(x) for x in Xb], yb) + l2(params, ALPHA),
                       params=params, inputs=(X, [float(t) for t in y]))
        targets = [float(t) for t in y]

        def compiled_step(k: int) -> float:
            model.zero_grad()
            loss = step(X, targets)
            for p in params:
                p.data -= learning_rate(k) * p.grad
            return loss

        out["compiled (numpy)"] = compiled_step
    try:
        import torch
    except ImportError:
        print("(no PyTorch row: torch is not installed)")
    else:
        torch.set_num_threads(1)
        model = MLP(2, [16, 16, 1], seed=model_seed)
        W, B = weights_of(model)
        tensors = []
        for Wl, Bl in zip(W, B):
            tensors += [torch.tensor(Wl, dtype=torch.float64, requires_grad=True),
                        torch.tensor(Bl, dtype=torch.float64, requires_grad=True)]
        Xt = torch.tensor(X, dtype=torch.float64)
        yt = torch.tensor(y, dtype=torch.float64)

        def torch_step(k: int) -> float:
            a = Xt
            for i in range(0, len(tensors), 2):
                a = a @ tensors[i].T + tensors[i + 1]
                if i < len(tensors) - 2:
                    a = torch.relu(a)
            loss = torch.relu(1 - yt * a[:, 0]).mean() + ALPHA * sum((p * p).sum() for p in tensors)
            for p in tensors:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p in tensors:
                    p -= learning_rate(k) * p.grad
            return loss.item()

        out["PyTorch vectorized, 1 thread"] = torch_step
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not figures")
    parser.add_argument("--repeats", type=int, default=15, help="timed steps per contender (default 15)")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    points, model_seed = (20, 1) if args.quick else (100, 1)

    X, labels = make_moons(points, noise=0.1, seed=0)
    y = [2 * label - 1 for label in labels]
    fused = MLP(2, [16, 16, 1], seed=model_seed)
    unfused = MLP(2, [16, 16, 1], seed=model_seed, fused=False)
    W, B = weights_of(fused)

    # The hand-written step must be the same computation: same losses over 20 steps, to 1e-9.
    check = MLP(2, [16, 16, 1], seed=model_seed)
    Wc, Bc = weights_of(check)
    for k in range(3 if args.quick else 20):
        ours = engine_step(check, X, y, learning_rate(k))
        theirs = hand_step(Wc, Bc, X, y, learning_rate(k))
        if abs(ours - theirs) > 1e-9 * max(1.0, abs(theirs)):
            raise SystemExit(f"hand-written backprop disagrees with the engine at step {k}: {theirs}, {ours}")

    contenders: dict[str, Callable[[int], object]] = {
        "engine, fused": lambda k: engine_step(fused, X, y, learning_rate(k)),
        "engine, unfused": lambda k: engine_step(unfused, X, y, learning_rate(k)),
        "hand-written backprop": lambda k: hand_step(W, B, X, y, learning_rate(k)),
    }
    contenders.update(optional_contenders(model_seed, X, y))
    medians = interleaved(contenders, repeats)
    floor = medians["hand-written backprop"]

    print(f"\nmicrograd benchmark: Python {sys.version.split()[0]}, medians of {repeats} interleaved runs\n")
    print(f"Moons step (MLP(2, [16, 16, 1]), {points} points, hinge + L2, forward + backward + SGD):\n")
    print("| contender | ms per step | x hand-written |")
    print("|---|---:|---:|")
    for name, seconds in medians.items():
        print(f"| {name} | {seconds * 1e3:.2f} | {seconds / floor:.2f} |")
    if "PyTorch vectorized, 1 thread" in medians and "compiled (numpy)" in medians:
        ratio = medians["compiled (numpy)"] / medians["PyTorch vectorized, 1 thread"]
        print(f"\ncompiled / PyTorch vectorized: {ratio:.2f}")

    n_small, n_large = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    per_node = bytes_per_node(n_small)
    small = backward_seconds_per_node(n_small, 1 if args.quick else 3)
    large = backward_seconds_per_node(n_large, 1 if args.quick else 3)
    print("\n| memory and scaling | value |")
    print("|---|---:|")
    print(f"| bytes per elementary node (chain of * and +) | {per_node:.1f} |")
    print(f"| backward, {n_small:,}-node chain | {small * 1e9:.0f} ns per node |")
    print(f"| backward, {n_large:,}-node chain | {large * 1e9:.0f} ns per node |")
    print(f"| per-node time ratio, {n_large:,} / {n_small:,} | {large / small:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
