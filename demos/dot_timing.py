"""How long Graphviz's dot takes on pictures of growing size and shape, and the model that predicts it.

draw_dot refuses a graph dot would spend more than a few seconds on (``micrograd/viz/cost.py``),
predicting the time from what dot will lay out: N nodes, and H hidden nodes on the edges that cross
ranks. This script draws graph families of growing size (chains,
Horner's rule, random expressions with shared subterms, wide sums, MLPs fused, unfused and
collapsed, one to several samples), times ``dot -Tsvg`` on each (the faster of two runs, stopping
it at --timeout: the machine's load only slows dot down), and fits

    seconds = exp(a) * N^b * (H + 1)^c

by least squares on the logarithms of the times of at least 0.1 s, then raises a so that nine
measured times in ten are at most the prediction (a guard should err on the side of refusing).
Paste the printed SECONDS into cost.py.

    python demos/dot_timing.py [--timeout 30] [--quick] [--cases N]
"""

from __future__ import annotations

import argparse
import math
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

from micrograd import Value, total
from micrograd.nn import MLP
from micrograd.viz import draw_dot
from micrograd.viz.cost import Cost


def chain(n: int) -> Value:
    x = Value(1.0, label="x")
    for _ in range(n - 1):
        x = x + 1.0
    return x


def horner(k: int) -> Value:
    x = Value(0.7, label="x")
    acc = x * x + 1.0
    for _ in range(k - 1):
        acc = acc * x + 1.0
    return acc


def random_expression(n: int, seed: int) -> Value:
    """n ops over a few leaves, each op reading earlier results at random: shared subterms."""
    rng = random.Random(seed)
    pool = [Value(rng.uniform(0.5, 1.5), label=f"x{i}") for i in range(4)]
    for _ in range(n):
        a, b = rng.choice(pool), rng.choice(pool[-8:])
        pool.append(rng.choice([a + b, a * b, (a * b).tanh(), a - b]))
    return pool[-1]


def wide_sum(n: int) -> Value:
    leaves = [Value(float(i), label=f"t{i}") for i in range(n)]
    return total(leaf * leaf for leaf in leaves)


def mlp_loss(sizes: list[int], samples: int, fused: bool) -> tuple[Value, MLP]:
    model = MLP(2, sizes, seed=0, fused=fused)
    loss = total((model([0.5 * k, -1.0 + k]) - 1.0) ** 2 for k in range(samples))  # type: ignore[operator]
    loss.backward()
    return loss, model


def cases(quick: bool) -> Iterator[tuple[str, Callable[[], tuple[Value, dict]]]]:
    step = 2 if quick else 1
    for n in [50, 200, 400, 800, 1200][::step]:
        yield f"chain {n}", lambda n=n: (chain(n), {})
    for k in [5, 10, 15, 20, 25, 30, 35, 40, 48][::step]:
        yield f"horner {k}", lambda k=k: (horner(k), {})
    for n in [20, 50, 100, 200, 300][::step]:
        for seed in (0, 1):
            yield f"random {n}/{seed}", lambda n=n, seed=seed: (random_expression(n, seed), {})
    for n in [20, 60, 150][::step]:
        yield f"sum {n}", lambda n=n: (wide_sum(n), {})
    for sizes, samples in [
        ([4, 4, 1], 1),
        ([4, 4, 1], 3),
        ([8, 8, 1], 1),
        ([16, 16, 1], 1),
        ([8, 8, 8, 1], 2),
    ]:
        for fused, collapse in [(True, False), (False, False), (True, True)]:
            name = f"mlp {'-'.join(map(str, sizes))} x{samples} {'fused' if fused else 'unfused'}"
            name += " collapsed" if collapse else ""

            def make(sizes=sizes, samples=samples, fused=fused, collapse=collapse):
                loss, model = mlp_loss(sizes, samples, fused)
                return loss, {"model": model, "collapse": collapse}

            yield name, make
    for sizes, samples in [([16, 16, 1], 4), ([16, 16, 1], 10), ([32, 32, 1], 4)][::step]:
        yield (
            f"mlp {'-'.join(map(str, sizes))} x{samples} collapsed",
            (
                lambda sizes=sizes, samples=samples: (
                    mlp_loss(sizes, samples, True)[0],
                    {"collapse": True},
                )
            ),
        )


def measure(source: str, timeout: float) -> float:
    start = time.perf_counter()
    try:
        subprocess.run(
            ["dot", "-Tsvg"], input=source.encode(), capture_output=True, timeout=timeout, check=True
        )
    except subprocess.TimeoutExpired:
        return float("inf")
    return time.perf_counter() - start


def features(cost: Cost) -> list[float]:
    return [1.0, math.log(cost.nodes), math.log(cost.hidden + 1)]


def fit(rows: list[tuple[Cost, float]]) -> tuple[float, float, float]:
    """log t = a + b log N + c log (H + 1) by least squares on the times of 0.1 s or more, then a
    raised so that nine measured times in ten are at most the prediction."""
    import numpy as np

    timed = [(cost, t) for cost, t in rows if t >= 0.1]
    A = np.array([features(cost) for cost, _ in timed])
    y = np.log([t for _, t in timed])
    coefficients, *_ = np.linalg.lstsq(A, y, rcond=None)
    a, b, c = (float(x) for x in coefficients)
    residuals = [math.log(t) - float(np.dot(features(cost), [a, b, c])) for cost, t in timed]
    a += float(np.quantile(residuals, 0.9))
    return a, b, c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=30.0, help="stop dot after this many seconds")
    parser.add_argument("--quick", action="store_true", help="every other size")
    parser.add_argument("--cases", type=int, default=0, help="only the first N graphs (0: all)")
    args = parser.parse_args()
    rows: list[tuple[Cost, float]] = []
    print(
        f"{'graph':<40} {'nodes':>6} {'edges':>6} {'hidden':>7} {'widest':>6} {'dot s':>8} {'predicted':>9}"
    )
    for n, (name, make) in enumerate(cases(args.quick)):
        if args.cases and n >= args.cases:
            break
        root, options = make()
        graph = draw_dot(root, max_nodes=100_000, max_seconds=1e9, **options)
        cost = graph.cost
        seconds = measure(graph.source, args.timeout)
        if seconds < args.timeout / 3:
            seconds = min(seconds, measure(graph.source, args.timeout))
        shown = f">{args.timeout:.0f}" if seconds == float("inf") else f"{seconds:.2f}"
        print(
            f"{name:<40} {cost.nodes:>6} {cost.edges:>6} {cost.hidden:>7} {cost.widest:>6} {shown:>8} "
            f"{cost.seconds:>9.2f}"
        )
        sys.stdout.flush()
        if seconds == float("inf"):
            print(f"  (not fitted: over {args.timeout:.0f} s; predicted {cost.seconds:.0f} s)")
        else:
            rows.append((cost, seconds))
    if sum(1 for _, t in rows if t >= 0.1) < 3:
        print("\ntoo few times of 0.1 s or more to fit the model: measure more graphs")
        return
    a, b, c = fit(rows)
    print(f"\nSECONDS = ({a:.3f}, {b:.3f}, {c:.3f})")


if __name__ == "__main__":
    main()
