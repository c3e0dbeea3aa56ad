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
