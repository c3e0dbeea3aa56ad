"""Toy datasets for tiny classifiers, a train/validation split and a minibatch iterator.

Pure Python (no numpy, no scikit-learn). Every generator takes a ``seed`` and draws only from
its own ``random.Random`` made by ``make_rng``, so a dataset is the same on every machine and the
global random state is never touched. ``X`` is a list of points (lists of floats) and ``y`` a
list of class indices ``0 .. k-1``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from numbers import Integral, Real
from typing import Any

from micrograd.install import require

Point = list[float]
Dataset = tuple[list[Point], list[int]]


def make_rng(seed: int) -> random.Random:
    """The one place a seed becomes a random generator (datasets, splits, batches, weight init)."""
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    return random.Random(int(seed))


def check_count(n: object, name: str, minimum: int = 1) -> int:
    """``n`` as an int if it is a whole number >= ``minimum`` (a size, a count of steps); else an error."""
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise TypeError(f"{name} must be an int, got {type(n).__name__} {n!r}")
    if n < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {n!r}")
    return int(n)


def _scale(x: object, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{name} must be a number, got {type(x).__name__} {x!r}")
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {x!r}")
    return float(x)


def _coordinates(point: object, name: str) -> list[float]:
    if isinstance(point, (str, bytes)) or not isinstance(point, Sequence) or len(point) == 0:
        raise TypeError(f"{name} must be a non-empty list of numbers, got {type(point).__name__} {point!r}")
    for i, c in enumerate(point):
        if isinstance(c, bool) or not isinstance(c, Real) or not math.isfinite(c):
            raise ValueError(f"{name}[{i}] is {c!r}; expected a finite number")
    return [float(c) for c in point]


def _linspace(start: float, stop: float, n: int, endpoint: bool = True) -> list[float]:
    if n <= 1:
        return [start] * n  # no points (a class with no samples, as in make_circles(1)) or one
    step = (stop - start) / (n - 1 if endpoint else n)
    return [start + i * step for i in range(n)]


def _jitter(points: list[Point], noise: float, rng: random.Random) -> list[Point]:
    return [[c + rng.gauss(0.0, noise) for c in p] for p in points] if noise > 0 else points


def _shuffled(points: list[Point], labels: list[int], rng: random.Random) -> Dataset:
    order = list(range(len(points)))
    rng.shuffle(order)
    return [points[i] for i in order], [labels[i] for i in order]


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Two interleaving half circles (as scikit-learn's): class 0 on top, class 1 below, shifted."""
    n = check_count(n_samples, "n_samples")
    noise = _scale(noise, "noise")
    rng = make_rng(seed)
    n_top = n // 2
    n_bottom = n - n_top
    top = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, math.pi, n_top)]
    bottom = [[1.0 - math.cos(t), 0.5 - math.sin(t)] for t in _linspace(0.0, math.pi, n_bottom)]
    points = _jitter(top + bottom, noise, rng)
    return _shuffled(points, [0] * n_top + [1] * n_bottom, rng)


def make_circles(n_samples: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0) -> Dataset:
    """A unit circle (class 0) around a smaller one of radius ``factor`` (class 1)."""
    n = check_count(n_samples, "n_samples")
    noise = _scale(noise, "noise")
    if isinstance(factor, bool) or not isinstance(factor, Real) or not 0 < factor < 1:
        raise ValueError(f"factor must be a number in (0, 1), got {factor!r}")
    rng = make_rng(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    outer = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, 2 * math.pi, n_outer, endpoint=False)]
    inner = [
        [factor * math.cos(t), factor * math.sin(t)]
        for t in _linspace(0.0, 2 * math.pi, n_inner, endpoint=False)
    ]
    points = _jitter(outer + inner, noise, rng)
    return _shuffled(points, [0] * n_outer + [1] * n_inner, rng)


def make_blobs(
    n_samples: int = 100,
    centers: int | Sequence[Sequence[float]] = 3,
    n_features: int = 2,
    cluster_std: float = 1.0,
    center_box: tuple[float, float] = (-10.0, 10.0),
    seed: int = 0,
) -> Dataset:
    """Gaussian blobs: ``centers`` random centres in ``center_box`` (or the given points), one class each."""
    n = check_count(n_samples, "n_samples")
    std = _scale(cluster_std, "cluster_std")
    rng = make_rng(seed)
    if isinstance(centers, Integral) and not isinstance(centers, bool):
        k = check_count(centers, "centers")
        dims = check_count(n_features, "n_features")
        box = _coordinates(center_box, "center_box")
        if len(box) != 2 or not box[0] < box[1]:
            raise ValueError(f"center_box must be a pair (low, high) with low < high, got {center_box!r}")
        middles = [[rng.uniform(box[0], box[1]) for _ in range(dims)] for _ in range(k)]
    else:
        if isinstance(centers, (str, bytes)) or not isinstance(centers, Sequence) or len(centers) == 0:
            raise ValueError(f"centers must be an int or a non-empty list of points, got {centers!r}")
        middles = [_coordinates(centre, f"centers[{j}]") for j, centre in enumerate(centers)]
        if len({len(c) for c in middles}) != 1:
            raise ValueError(f"centers must all have the same number of coordinates, got {centers!r}")
    k = len(middles)
    # n // k points per blob, the remainder going to the first blobs
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    points = [[c + rng.gauss(0.0, std) for c in middles[j]] for j in range(k) for _ in range(sizes[j])]
    labels = [j for j in range(k) for _ in range(sizes[j])]
    return _shuffled(points, labels, rng)


def make_xor(n_samples: int = 100, noise: float = 0.0, seed: int = 0) -> Dataset:
    """Points uniform in [-1, 1]^2; class 1 where exactly one coordinate is positive."""
    n = check_count(n_samples, "n_samples")
    noise = _scale(noise, "noise")
    rng = make_rng(seed)
    points = [[rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)] for _ in range(n)]
    labels = [int((x > 0) != (y > 0)) for x, y in points]
    return _jitter(points, noise, rng), labels


def make_spiral(n_samples: int = 100, classes: int = 3, noise: float = 0.2, seed: int = 0) -> Dataset:
    """Interleaved spiral arms, one per class (the CS231n spiral); ``noise`` jitters the angle."""
    n = check_count(n_samples, "n_samples")
    k = check_count(classes, "classes", minimum=2)
    noise = _scale(noise, "noise")
    rng = make_rng(seed)
    points: list[Point] = []
    labels: list[int] = []
    for j in range(k):
        m = n // k + (1 if j < n % k else 0)
        radii = _linspace(0.0, 1.0, m)
        angles = _linspace(4.0 * j, 4.0 * (j + 1), m)
        for r, t in zip(radii, angles):
            t += rng.gauss(0.0, noise) if noise > 0 else 0.0
            points.append([r * math.sin(t), r * math.cos(t)])
            labels.append(j)
    return _shuffled(points, labels, rng)


def _yinyang_class(x: float, y: float, r_small: float, r_big: float) -> int:
    # Kriener et al. (2021): 0 yang, 1 yin, 2 the two dots; coordinates in [0, 2 r_big]
    d_right = math.hypot(x - 1.5 * r_big, y - r_big)
    d_left = math.hypot(x - 0.5 * r_big, y - r_big)
    if d_right < r_small or d_left < r_small:
        return 2
    is_yin = d_right <= r_small or r_small < d_left <= 0.5 * r_big or (y > r_big and d_right > 0.5 * r_big)
    return int(is_yin)


def make_yinyang(n_samples: int = 100, r_small: float = 0.1, r_big: float = 0.5, seed: int = 0) -> Dataset:
    """The Yin-Yang dataset (Kriener et al., 2021): three classes (yin, yang, dots), balanced.

    Points are drawn inside the big circle by rejection sampling, each for a class chosen at random,
    and mapped from [0, 2 r_big]^2 to [-1, 1]^2 for the network.
    """
    n = check_count(n_samples, "n_samples")
    r_small, r_big = _scale(r_small, "r_small"), _scale(r_big, "r_big")
    if not 0 < r_small < r_big / 2:
        raise ValueError(f"need 0 < r_small < r_big / 2, got r_small={r_small!r}, r_big={r_big!r}")
    rng = make_rng(seed)
    points: list[Point] = []
    labels: list[int] = []
    for _ in range(n):
        goal = rng.randrange(3)
        while True:
            x, y = rng.uniform(0.0, 2 * r_big), rng.uniform(0.0, 2 * r_big)
            if math.hypot(x - r_big, y - r_big) > r_big:
                continue
            if _yinyang_class(x, y, r_small, r_big) == goal:
                break
        points.append([x / r_big - 1.0, y / r_big - 1.0])
        labels.append(goal)
    return points, labels


def load_digits(seed: int = 0) -> Dataset:
    """scikit-learn's handwritten digits, shuffled by ``seed``: 1797 images of 8x8 pixels, classes 0..9.

    Each point is the 64 pixels row by row, scaled from 0..16 to [0, 1]. The data ships inside
    scikit-learn (no download); it is the one dataset here that needs it: the ``digits`` extra,
    ``pip install 'micrograd-classroom[digits]'``.
    """
    rng = make_rng(seed)
    require("sklearn", "load_digits", "digits", package="scikit-learn")  # it ships the images
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    points = [[float(v) / 16.0 for v in row] for row in digits.data.tolist()]
    return _shuffled(points, [int(c) for c in digits.target.tolist()], rng)


DATASETS: dict[str, Callable[..., Dataset]] = {
    "moons": make_moons,
    "circles": make_circles,
    "blobs": make_blobs,
    "xor": make_xor,
    "spiral": make_spiral,
    "yinyang": make_yinyang,
}


def as_list(x: Any) -> Any:
    """A numpy array (what scikit-learn's datasets give) as nested Python lists of floats and ints;
    anything else as it is. Every function that takes a dataset reads its arguments through this."""
    tolist = getattr(x, "tolist", None)
    if callable(tolist) and hasattr(x, "shape") and not isinstance(x, (str, bytes)):
        return tolist()
    return x


def check_dataset(X: Sequence[object], y: Sequence[object]) -> int:
    """The number of samples, if ``X`` and ``y`` are lists of the same, non-zero length."""
    if isinstance(X, (str, bytes)) or not isinstance(X, Sequence):
        raise TypeError(f"X must be a list of samples, got {type(X).__name__}")
    if isinstance(y, (str, bytes)) or not isinstance(y, Sequence):
        raise TypeError(f"y must be a list of labels, got {type(y).__name__}")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} samples but y has {len(y)} labels; they must match")
    if len(X) == 0:
        raise ValueError("the dataset is empty: X and y have no samples")
    return len(X)


def train_val_split(
    X: Sequence[Point], y: Sequence[int], val_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Point], list[int], list[Point], list[int]]:
    """Shuffle, then hold out ``round(val_fraction * n)`` samples: ``X_train, y_train, X_val, y_val``."""
    X, y = as_list(X), as_list(y)
    n = check_dataset(X, y)
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, Real) or not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be a number in (0, 1), got {val_fraction!r}")
    n_val = round(val_fraction * n)
    if not 0 < n_val < n:
        raise ValueError(
            f"val_fraction={val_fraction!r} of {n} samples leaves {n_val} for validation and "
            f"{n - n_val} for training; both need at least one (use more samples)"
        )
    order = list(range(n))
    make_rng(seed).shuffle(order)
    val, train = order[:n_val], order[n_val:]
    return [X[i] for i in train], [y[i] for i in train], [X[i] for i in val], [y[i] for i in val]


def batches(
    X: Sequence[Point], y: Sequence[int], batch_size: int, seed: int = 0, shuffle: bool = True
) -> Iterator[tuple[list[Point], list[int]]]:
    """One epoch of minibatches ``(X_batch, y_batch)`` in a seeded random order; the last may be smaller."""
    X, y = as_list(X), as_list(y)
    n = check_dataset(X, y)
    size = check_count(batch_size, "batch_size")
    order = list(range(n))
    if shuffle:
        make_rng(seed).shuffle(order)

    def epoch() -> Iterator[tuple[list[Point], list[int]]]:
        for start in range(0, n, size):
            chunk = order[start : start + size]
            yield [X[i] for i in chunk], [y[i] for i in chunk]

    # a generator function would only check its arguments at the first next(); this checks them now
    return epoch()
