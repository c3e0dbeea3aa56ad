"""Toy datasets, the digits, the train/validation split and minibatches: shapes, seeding, geometry."""

import math
import random
import subprocess
import sys

import pytest

from micrograd.data import (
    DATASETS,
    batches,
    load_digits,
    make_blobs,
    make_circles,
    make_moons,
    make_rng,
    make_spiral,
    make_xor,
    make_yinyang,
    train_val_split,
)

CLASSES = {"moons": 2, "circles": 2, "blobs": 3, "xor": 2, "spiral": 3, "yinyang": 3}


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_gives_points_and_class_indices_reproducibly_from_its_seed(name):
    make = DATASETS[name]
    state = random.getstate()
    X, y = make(n_samples=60, seed=4)
    assert random.getstate() == state  # never the global random state
    assert len(X) == len(y) == 60
    assert all(isinstance(p, list) and len(p) == 2 and all(isinstance(c, float) for c in p) for p in X)
    assert set(y) == set(range(CLASSES[name]))
    assert make(n_samples=60, seed=4) == (X, y)
    assert make(n_samples=60, seed=5)[0] != X


# The first two points and ten labels of each dataset for n_samples=60, seed=4, printed once from
# the generators: the data of every seeded test, demo and README figure. A change of any generator
# (an extra draw, another order, another scale) changes them.
PINNED = {
    "blobs": ([-7.626296488374058, -2.0883607609976105], [-5.9043154780721245, -7.960081027543793],
              [2, 0, 1, 0, 1, 2, 0, 1, 1, 0]),
    "circles": ([1.0020427972396553, 0.02324327100697361], [0.12678225827004533, 0.5178034626411294],
                [0, 1, 0, 1, 0, 1, 0, 1, 0, 0]),
    "moons": ([1.0040855944793103, 0.04648654201394722], [0.4230405613493061, -0.14661442893943785],
              [0, 1, 0, 1, 0, 1, 0, 1, 0, 0]),
    "spiral": ([-0.3001648231625558, 0.09810234770657777], [0.09718253263002817, -0.040446109350415996],
               [1, 2, 2, 2, 1, 2, 0, 1, 0, 2]),
    "xor": ([-0.527903820525131, -0.7936679315385684], [-0.20788351477863798, -0.6900554583951795],
            [0, 0, 0, 0, 1, 1, 0, 1, 0, 1]),
    "yinyang": ([-0.04224321015220478, -0.8197995116335886], [-0.44663471311709957, -0.6546709414292622],
                [0, 0, 0, 2, 1, 0, 2, 1, 2, 0]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_gives_its_pinned_points_for_seed_4(name):
    X, y = DATASETS[name](n_samples=60, seed=4)
    first, second, labels = PINNED[name]
    assert X[:2] == [pytest.approx(first, rel=1e-12), pytest.approx(second, rel=1e-12)]
    assert y[:10] == labels


# make_moons(10, noise=0.1, seed=1), printed once. Checked by reasoning about the generator: without
# noise the five points of each moon sit at t = 0, pi/4, pi/2, 3 pi/4, pi, (cos t, sin t) on top
# (class 0) and (1 - cos t, 0.5 - sin t) below (class 1), derived by hand in HALF_CIRCLES below;
# each pinned point must be its own noiseless point plus a jitter under 4 standard deviations
# (0.4), every noiseless point used once.
MOONS_SEED_1 = [
    ([-0.9800688023516246, 0.013337460465860608], 0),
    ([0.8494170998739257, -0.4462002821338966], 1),
    ([-0.10921732151041409, 1.0031334516831716], 0),
    ([0.29339374717610966, -0.21358095722381626], 1),
    ([0.7137403620803737, 0.6306524160893843], 0),
    ([0.05464683003382316, 0.4086029056264687], 1),
    ([-0.8093170981876348, 0.5634238366762946], 0),
    ([2.0202969177309966, 0.4855297691835078], 1),
    ([1.7391778912864322, 0.03180442313752105], 1),
    ([1.1288184753155464, 0.1449445608699771], 0),
]
R = math.sqrt(0.5)  # cos(pi/4) = sin(pi/4)
HALF_CIRCLES = {
    0: [(1.0, 0.0), (R, R), (0.0, 1.0), (-R, R), (-1.0, 0.0)],
    1: [(0.0, 0.5), (1 - R, 0.5 - R), (1.0, -0.5), (1 + R, 0.5 - R), (2.0, 0.5)],
}


def test_the_classic_moons_seed_gives_its_pinned_points():
    X, y = make_moons(10, noise=0.1, seed=1)
    assert y == [label for _, label in MOONS_SEED_1]
    assert X == [pytest.approx(point, rel=1e-12) for point, _ in MOONS_SEED_1]


def test_the_pinned_moons_are_the_hand_derived_half_circles_plus_a_small_jitter():
    used = set()
    for point, label in MOONS_SEED_1:
        nearest = min(HALF_CIRCLES[label], key=lambda clean: math.dist(point, clean))
        assert math.dist(point, nearest) < 0.4, (point, label)
        used.add((label, nearest))
    assert len(used) == 10


def test_dataset_names_are_the_cli_names():
    assert set(DATASETS) == {"moons", "circles", "blobs", "xor", "spiral", "yinyang"}


def test_moons_without_noise_lie_on_the_two_half_circles():
    X, y = make_moons(21, noise=0.0, seed=0)
    assert y.count(0) == 10 and y.count(1) == 11
    for (a, b), label in zip(X, y):
        if label == 0:  # upper half of the unit circle
            assert a * a + b * b == pytest.approx(1.0) and b >= -1e-12
        else:  # lower half of the unit circle centred at (1, 0.5)
            assert (a - 1) ** 2 + (b - 0.5) ** 2 == pytest.approx(1.0) and b <= 0.5 + 1e-12


def test_moons_noise_is_gaussian_with_the_given_scale():
    clean, labels = make_moons(2000, noise=0.0, seed=3)
    noisy, noisy_labels = make_moons(2000, noise=0.1, seed=3)

    def distance(p, label):
        a, b = p
        return abs(math.hypot(a, b) - 1.0) if label == 0 else abs(math.hypot(a - 1, b - 0.5) - 1.0)

    assert max(distance(p, c) for p, c in zip(clean, labels)) < 1e-12
    mean = sum(distance(p, c) for p, c in zip(noisy, noisy_labels)) / 2000
    # |N(0, 0.1)| has mean 0.1 * sqrt(2 / pi) ~ 0.08 (radial part of a 2-D jitter)
    assert 0.05 < mean < 0.11


# -- the noise, per coordinate ---------------------------------------------------------------------
#
# The noise is the residual from the noiseless point. With n_samples=2 each moon (each circle) has
# one point, at t = 0, known by hand and told apart by its label: moons (1, 0) and (0, 0.5), circles
# (1, 0) and (factor, 0). Over 10,000 seeds that is 10,000 draws per coordinate and class: the
# sample standard deviation is then within 0.7% of the true one (one standard error), and the mean
# within 1% of it; the bound below is 5%, so a noise scaled by 1.05 or more fails.

SEEDS = range(10_000)


def assert_gaussian_scale(residuals, sigma, what):
    n = len(residuals)
    mean = sum(residuals) / n
    std = math.sqrt(sum((r - mean) ** 2 for r in residuals) / (n - 1))
    assert abs(mean) < 0.05 * sigma, f"{what}: the noise has mean {mean:.4g}, not 0"
    assert abs(std - sigma) < 0.05 * sigma, f"{what}: the noise has standard deviation {std:.4g}, not {sigma}"


@pytest.mark.parametrize(
    "make, clean",
    [
        (lambda seed: make_moons(2, noise=0.1, seed=seed), {0: (1.0, 0.0), 1: (0.0, 0.5)}),
        (lambda seed: make_circles(2, noise=0.1, factor=0.5, seed=seed), {0: (1.0, 0.0), 1: (0.5, 0.0)}),
    ],
    ids=["moons", "circles"],
)
def test_noise_is_the_given_standard_deviation_on_each_coordinate_of_each_class(make, clean):
    residuals = {(label, axis): [] for label in clean for axis in (0, 1)}
    for seed in SEEDS:
        X, y = make(seed)
        for point, label in zip(X, y):
            for axis in (0, 1):
                residuals[label, axis].append(point[axis] - clean[label][axis])
    for (label, axis), values in residuals.items():
        assert_gaussian_scale(values, 0.1, f"class {label}, x[{axis}]")


def test_xor_noise_is_the_residual_from_the_same_seeds_noiseless_points():
    # the points are drawn first and jittered after, so noise=0 with the same seed gives the same points
    clean, labels = make_xor(10_000, noise=0.0, seed=7)
    noisy, noisy_labels = make_xor(10_000, noise=0.2, seed=7)
    assert noisy_labels == labels  # the class is the noiseless point's
    for axis in (0, 1):
        assert_gaussian_scale([p[axis] - c[axis] for p, c in zip(noisy, clean)], 0.2, f"x[{axis}]")


def test_blobs_spread_by_cluster_std_on_each_coordinate_of_each_blob():
    centres = [[0.0, 0.0], [10.0, -5.0]]
    X, y = make_blobs(20_000, centers=centres, cluster_std=0.7, seed=2)
    for label, centre in enumerate(centres):
        for axis in (0, 1):
            values = [p[axis] - centre[axis] for p, c in zip(X, y) if c == label]
            assert_gaussian_scale(values, 0.7, f"blob {label}, x[{axis}]")


def test_spiral_noise_is_the_angle_residual_at_the_end_of_each_arm():
    # two points per arm: r = 0 (where the angle does not show) and r = 1 at angle 4 (j + 1) + noise,
    # drawn as (sin t, cos t), so the angle is atan2(x[0], x[1])
    residuals = {0: [], 1: []}
    for seed in SEEDS:
        X, y = make_spiral(4, classes=2, noise=0.2, seed=seed)
        for (a, b), label in zip(X, y):
            if math.hypot(a, b) > 0.5:
                delta = math.atan2(a, b) - 4.0 * (label + 1)
                residuals[label].append(math.remainder(delta, 2 * math.pi))
    for label, values in residuals.items():
        assert len(values) == len(SEEDS)
        assert_gaussian_scale(values, 0.2, f"arm {label}")


def test_circles_without_noise_have_radius_one_and_factor():
    X, y = make_circles(40, noise=0.0, factor=0.3, seed=0)
    for (a, b), label in zip(X, y):
        assert math.hypot(a, b) == pytest.approx(1.0 if label == 0 else 0.3)
    assert y.count(0) == y.count(1) == 20


def test_a_single_sample_is_one_point_of_the_second_class_without_dividing_by_zero():
    # n // 2 = 0 points for the first class; the one point of the second class is at angle 0
    assert make_circles(1, noise=0.0, factor=0.5) == ([[0.5, 0.0]], [1])
    assert make_moons(1, noise=0.0) == ([[0.0, 0.5]], [1])  # (1 - cos 0, 0.5 - sin 0)
    assert make_spiral(1, noise=0.0) == ([[0.0, 0.0]], [0])  # radius 0 at the start of arm 0


def test_blobs_gather_around_given_centres():
    X, y = make_blobs(90, centers=[[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], cluster_std=0.5, seed=1)
    centres = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]
    assert [y.count(j) for j in range(3)] == [30, 30, 30]
    for p, label in zip(X, y):
        assert math.dist(p, centres[label]) < 0.5 * 5  # five standard deviations


def test_blobs_with_random_centres_have_n_features():
    X, y = make_blobs(10, centers=2, n_features=4, seed=0)
    assert all(len(p) == 4 for p in X) and set(y) == {0, 1}


def test_xor_labels_are_one_where_exactly_one_coordinate_is_positive():
    X, y = make_xor(200, seed=2)
    assert y == [int((a > 0) != (b > 0)) for a, b in X]
    assert all(-1 <= c <= 1 for p in X for c in p)


def test_spiral_points_lie_within_the_unit_disc_one_arm_per_class():
    X, y = make_spiral(99, classes=3, noise=0.0, seed=0)
    assert [y.count(j) for j in range(3)] == [33, 33, 33]
    assert all(math.hypot(*p) <= 1 + 1e-12 for p in X)
    # without noise a point's angle is its arm's: r = i/(n-1), t = 4j + 4 r, x = r sin t, y = r cos t
    for (a, b), label in zip(X, y):
        r = math.hypot(a, b)
        if r > 0:
            t = 4 * label + 4 * r
            assert (a, b) == pytest.approx((r * math.sin(t), r * math.cos(t)), abs=1e-9)


def test_yinyang_points_lie_in_the_disc_with_classes_from_the_symbol():
    X, y = make_yinyang(150, seed=0)
    assert all(math.hypot(*p) <= 1 + 1e-12 for p in X)
    for (a, b), label in zip(X, y):
        # the dots: radius 0.2 around (+-0.5, 0) in [-1, 1] coordinates
        in_dot = math.hypot(a - 0.5, b) < 0.2 or math.hypot(a + 0.5, b) < 0.2
        assert (label == 2) == in_dot
    assert min(y.count(j) for j in range(3)) > 30  # classes drawn uniformly


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: make_moons(0), ValueError),
        (lambda: make_moons(10, noise=-1.0), ValueError),
        (lambda: make_moons(10, noise="a"), TypeError),
        (lambda: make_moons(10, seed=1.5), TypeError),
        (lambda: make_moons(10.0), TypeError),
        (lambda: make_circles(10, factor=1.5), ValueError),
        (lambda: make_spiral(10, classes=1), ValueError),
        (lambda: make_blobs(10, centers=[]), ValueError),
        (lambda: make_yinyang(10, r_small=0.4), ValueError),
    ],
)
def test_bad_dataset_arguments_are_refused(call, error):
    with pytest.raises(error):
        call()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: make_blobs(10, center_box=(1.0,)), ValueError, r"center_box must be a pair \(low, high\)"),
        (lambda: make_blobs(10, center_box=(5.0, -5.0)), ValueError, "with low < high, got"),
        (lambda: make_blobs(10, center_box="ab"), TypeError, "center_box must be a non-empty list"),
        (lambda: make_blobs(10, centers=[[0.0, "a"]]), ValueError, r"centers\[0\]\[1\] is 'a'"),
        (lambda: make_blobs(10, centers=[[0.0, 1.0], [2.0]]), ValueError, "same number of coordinates"),
        (lambda: make_blobs(10, centers="ab"), ValueError, "centers must be an int or"),
        (lambda: make_yinyang(10, r_small="a"), TypeError, "r_small must be a number, got str 'a'"),
    ],
)
def test_bad_dataset_arguments_name_the_argument_and_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_make_rng_is_a_seeded_random_generator():
    assert make_rng(3).random() == random.Random(3).random()
    with pytest.raises(TypeError, match="seed must be an int"):
        make_rng(True)


# -- splitting and batching -------------------------------------------------------------------------


def test_train_val_split_holds_out_the_fraction_and_keeps_every_sample_once():
    X = [[float(i), 0.0] for i in range(10)]
    y = list(range(10))
    X_train, y_train, X_val, y_val = train_val_split(X, y, val_fraction=0.3, seed=1)
    assert len(X_val) == 3 and len(X_train) == 7
    assert sorted(y_train + y_val) == y
    assert all(p[0] == label for p, label in zip(X_train + X_val, y_train + y_val))  # pairs stay together
    assert train_val_split(X, y, val_fraction=0.3, seed=1) == (X_train, y_train, X_val, y_val)


@pytest.mark.parametrize("seed", range(5))
def test_train_val_split_shuffles_a_class_sorted_dataset_so_both_classes_are_held_out(seed):
    # all of class 0 then all of class 1: holding out the first or the last fifth would hold out one class
    X = [[float(i), 0.0] for i in range(100)]
    y = [0] * 50 + [1] * 50
    X_train, y_train, X_val, y_val = train_val_split(X, y, val_fraction=0.2, seed=seed)
    # a uniformly random fifth: about 10 of each class (hypergeometric, standard deviation 2.0)
    assert 4 <= y_val.count(0) <= 16 and 4 <= y_val.count(1) <= 16
    # nor a stride (every fifth sample): the held-out indices are not evenly spaced
    held_out = sorted(int(p[0]) for p in X_val)
    assert len({b - a for a, b in zip(held_out, held_out[1:])}) > 1


@pytest.mark.parametrize(
    "X, y, fraction, message",
    [
        ([], [], 0.2, "empty"),
        ([[0.0]], [0, 1], 0.2, "1 samples but y has 2"),
        ([[0.0], [1.0]], [0, 1], 0.0, "val_fraction"),
        ([[0.0], [1.0]], [0, 1], 0.1, "both need at least one"),
    ],
)
def test_train_val_split_refuses_what_cannot_be_split(X, y, fraction, message):
    with pytest.raises(ValueError, match=message):
        train_val_split(X, y, val_fraction=fraction)


def test_batches_cover_an_epoch_once_in_a_seeded_order():
    X = [[float(i)] for i in range(10)]
    y = list(range(10))
    epoch = list(batches(X, y, batch_size=4, seed=2))
    assert [len(yb) for _, yb in epoch] == [4, 4, 2]
    assert sorted(label for _, yb in epoch for label in yb) == y
    assert all(p[0] == label for xb, yb in epoch for p, label in zip(xb, yb))
    assert list(batches(X, y, batch_size=4, seed=2)) == epoch
    assert list(batches(X, y, batch_size=4, seed=3)) != epoch
    assert [yb for _, yb in batches(X, y, batch_size=5, shuffle=False)] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


def test_batches_check_their_arguments_when_called():
    with pytest.raises(ValueError, match="empty"):
        batches([], [], batch_size=2)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        batches([[0.0]], [0], batch_size=0)


def test_load_digits_is_sklearns_digits_scaled_to_unit_range_and_shuffled():
    from sklearn.datasets import load_digits as sklearn_digits

    X, y = load_digits(seed=3)
    reference = sklearn_digits()
    pairs = zip(reference.data.tolist(), reference.target.tolist())
    expected = sorted((tuple(v / 16.0 for v in row), int(c)) for row, c in pairs)
    assert sorted((tuple(x), c) for x, c in zip(X, y)) == expected
    assert y != [int(c) for c in reference.target]  # shuffled
    assert load_digits(seed=3) == (X, y)


def test_the_library_runs_without_numpy_torch_or_scikit_learn():
    # import every module of this part with those packages made unimportable
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('numpy', 'torch', 'sklearn'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import micrograd.data, micrograd.nn, micrograd.losses, micrograd.optim, micrograd.training\n"
        "X, y = micrograd.data.make_moons(20, seed=0)\n"
        "m = micrograd.nn.MLP(2, [4, 1], seed=0)\n"
        "micrograd.training.fit(m, X, y, steps=2, progress=False)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
