"""fit, predict, accuracy; and the acceptance run: the classic moons demo reaches 100% training accuracy."""

import pytest
import torch

from micrograd.data import batches, make_blobs, make_moons, make_xor
from micrograd.losses import mse
from micrograd.nn import MLP, to_torch
from micrograd.optim import SGD
from micrograd.training import accuracy, fit, predict

# Seeds chosen once so that both the fit() run and the hand-written loop reach 100%; kept fixed.
DATA_SEED, MODEL_SEED = 1, 0


def classic_loop(model, X, y, alpha=1e-4):
    """The classic micrograd demo's training loop, written out as in its notebook."""
    ys = [2 * label - 1 for label in y]
    for k in range(100):
        scores = [model(x) for x in X]
        losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad


@pytest.fixture(scope="module")
def moons():
    return make_moons(100, noise=0.1, seed=DATA_SEED)


@pytest.fixture(scope="module")
def classic_runs(moons):
    """The slow part, run once: the acceptance run through fit() and through the hand-written loop."""
    X, y = moons
    by_fit = MLP(2, [16, 16, 1], seed=MODEL_SEED)
    history = fit(by_fit, X, y, loss="hinge", alpha=1e-4, steps=100, progress=False)
    by_hand = MLP(2, [16, 16, 1], seed=MODEL_SEED)
    classic_loop(by_hand, X, y)
    return by_fit, history, by_hand


def test_acceptance_the_classic_moons_run_through_fit_reaches_full_training_accuracy(moons, classic_runs):
    X, y = moons
    model, history, _ = classic_runs
    assert accuracy(model, X, y) == 1.0
    assert len(history) == 100 and len(history.accuracy) == 100
    assert history.accuracy[-1] == 1.0
    assert history.loss[-1] < 0.1 * history.loss[0]
    # the default optimizer is the classic SGD: lr 1.0 decaying linearly to 0.1
    assert history.lr == [1.0 - 0.9 * k / 100 for k in range(100)]


def test_acceptance_the_classic_hand_written_loop_reaches_full_training_accuracy(moons, classic_runs):
    X, y = moons
    _, _, model = classic_runs
    assert accuracy(model, X, y) == 1.0


# karpathy/micrograd demo.ipynb, as published: its printed loss and accuracy at some of the 100 steps
NOTEBOOK_STEPS = {
    1: (1.7236, 0.81),
    2: (0.7429, 0.77),
    10: (0.2451, 0.91),
    22: (0.1173, 0.97),
    40: (0.0602, 1.0),
    50: (0.0988, 0.96),
    99: (0.01098, 1.0),
}


def test_the_classic_demo_notebook_runs_unchanged_and_prints_its_published_numbers(capsys):
    """The cells of the classic notebook, unchanged (numpy data, Value-wrapped inputs, the hand loop).

    Same seeds, same draws of the initial weights: the numbers must be the ones the notebook shows.
    """
    import random

    import numpy as np
    from sklearn.datasets import make_moons as sklearn_moons

    from micrograd.engine import Value
    from micrograd.nn import MLP, Layer, Neuron  # noqa: F401  (the notebook's import line)

    np.random.seed(1337)
    random.seed(1337)
    X, y = sklearn_moons(n_samples=100, noise=0.1)
    y = y * 2 - 1
    model = MLP(2, [16, 16, 1])
    print(model)
    print("number of parameters", len(model.parameters()))

    def loss(batch_size=None):
        if batch_size is None:
            Xb, yb = X, y
        else:
            ri = np.random.permutation(X.shape[0])[:batch_size]
            Xb, yb = X[ri], y[ri]
        inputs = [list(map(Value, xrow)) for xrow in Xb]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    total_loss, acc = loss()
    assert (total_loss.data, acc) == (pytest.approx(0.8958441028683222, rel=1e-12), 0.5)
    seen = {}
    for k in range(100):
        total_loss, acc = loss()
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        seen[k] = (total_loss.data, acc)
    for k, (published_loss, published_acc) in NOTEBOOK_STEPS.items():
        decimals = len(repr(published_loss).split(".")[1])  # as many as the notebook printed
        assert round(seen[k][0], decimals) == published_loss, f"step {k}"
        assert seen[k][1] == pytest.approx(published_acc), f"step {k}"

    # the decision-boundary cell: a numpy mesh, each row wrapped in Values; the class it draws at
    # each mesh point is the one torch's copy of the trained network computes there
    xx, yy = np.meshgrid(np.arange(-2.0, 3.0, 0.25), np.arange(-1.5, 2.0, 0.25))
    Xmesh = np.c_[xx.ravel(), yy.ravel()]
    scores = list(map(model, [list(map(Value, xrow)) for xrow in Xmesh]))
    Z = np.array([s.data > 0 for s in scores])
    reference = to_torch(model)(torch.tensor(Xmesh, dtype=torch.float64)).squeeze(1)
    assert [s.data for s in scores] == pytest.approx(reference.tolist(), rel=1e-9, abs=1e-9)
    assert Z.tolist() == (reference > 0).tolist()
    assert 0 < Z.sum() < len(Z)  # the boundary crosses the plotted region: both classes are drawn

    printed = capsys.readouterr().out.splitlines()
    # print(model): the shape in one line (the classic printed its 33 neurons in a row)
    assert printed[0] == "MLP(2 -> 16 relu -> 16 relu -> 1 linear, 337 parameters)"
    assert printed[1] == "number of parameters 337"


def test_the_first_recorded_loss_is_hinge_plus_l2_as_torch_computes_it(moons):
    X, y = moons
    model = MLP(2, [8, 1], seed=MODEL_SEED)
    seq = to_torch(model)
    scores = seq(torch.tensor(X, dtype=torch.float64)).squeeze(1)
    signs = torch.tensor([2.0 * c - 1 for c in y], dtype=torch.float64)
    l2 = sum((p**2).sum() for p in seq.parameters())
    expected = torch.relu(1 - signs * scores).mean() + 1e-3 * l2
    history = fit(model, X, y, steps=1, alpha=1e-3, progress=False)
    assert history.loss[0] == pytest.approx(expected.item(), rel=1e-12)


def test_one_fit_step_is_one_gradient_step_as_torch_takes_it():
    X, y = make_xor(12, seed=0)
    model = MLP(2, [4, 1], activation="tanh", seed=3)
    seq = to_torch(model)
    out = seq(torch.tensor(X, dtype=torch.float64)).squeeze(1)
    torch.nn.functional.mse_loss(out, torch.tensor([2.0 * c - 1 for c in y], dtype=torch.float64)).backward()
    with torch.no_grad():
        for p in seq.parameters():
            p -= 0.1 * p.grad
    fit(
        model, X, y, loss="mse", optimizer=SGD(model.parameters(), lr=0.1), steps=1, alpha=0.0, progress=False
    )
    expected = [
        v
        for m in seq
        if isinstance(m, torch.nn.Linear)
        for row, b in zip(m.weight, m.bias)
        for v in [*row, b]
    ]
    assert [p.data for p in model.parameters()] == pytest.approx(
        [v.item() for v in expected], rel=1e-12, abs=1e-12
    )


@pytest.mark.parametrize("loss", ["bce", "mse", "hinge"])
def test_each_two_class_loss_trains_xor(loss):
    X, y = make_xor(40, seed=1)
    model = MLP(2, [8, 1], activation="tanh", init="xavier", seed=0)
    history = fit(model, X, y, loss=loss, optimizer="adam", lr=0.1, steps=60, alpha=0.0, progress=False)
    assert history.loss[-1] < history.loss[0]
    assert accuracy(model, X, y) >= 0.9


@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_multi_class_losses_train_blobs(loss):
    X, y = make_blobs(30, centers=[[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]], cluster_std=0.5, seed=2)
    model = MLP(2, [8, 3], init="kaiming", seed=0)
    history = fit(model, X, y, loss=loss, optimizer="adam", lr=0.05, steps=25, alpha=0.0, progress=False)
    assert history.loss[-1] < history.loss[0]
    assert accuracy(model, X, y) >= 0.9


def test_hinge_labels_may_be_zero_one_or_minus_one_plus_one():
    X, y = make_xor(10, seed=0)
    histories = []
    for labels in (y, [2 * c - 1 for c in y]):
        histories.append(fit(MLP(2, [4, 1], seed=0), X, labels, steps=3, progress=False).loss)
    assert histories[0] == histories[1]


def test_a_callable_loss_gets_the_outputs_and_the_labels():
    X, y = make_xor(10, seed=0)
    seen = []

    def loss(outs, labels):
        seen.append(list(labels))
        return mse(outs, [float(v) for v in labels])

    history = fit(MLP(2, [4, 1], seed=0), X, y, loss=loss, steps=2, progress=False)
    assert seen == [y, y] and len(history) == 2


def test_minibatches_cycle_through_the_data():
    X, y = make_xor(10, seed=0)
    batch_sizes = []
    fit(
        MLP(2, [4, 1], seed=0),
        X,
        y,
        loss=lambda outs, labels: batch_sizes.append(len(outs)) or mse(outs, [float(v) for v in labels]),
        batch_size=4,
        steps=6,
        progress=False,
    )
    assert batch_sizes == [4, 4, 2, 4, 4, 2]


def test_each_epoch_visits_every_sample_once_in_a_new_order():
    # labels 0..9 are the samples' own indices, so the loss sees which samples each batch holds
    X = [[0.1 * i, -0.1 * i] for i in range(10)]
    seen = []

    def loss(outs, labels):
        seen.append(list(labels))
        return mse(outs, [0.0] * len(outs))

    fit(MLP(2, [1], seed=0), X, list(range(10)), loss=loss, batch_size=5, steps=8, seed=3, progress=False)
    epochs = [seen[k] + seen[k + 1] for k in range(0, 8, 2)]
    assert all(sorted(epoch) == list(range(10)) for epoch in epochs)  # each sample once per epoch
    # shuffled anew each epoch: 10! orders, so four epochs in one order would be no accident
    assert len({tuple(epoch) for epoch in epochs}) == 4
    assert all(epoch != list(range(10)) for epoch in epochs)
    # the documented orders: epoch e shuffled by data.batches with seed + e
    assert epochs == [[i for _, b in batches(X, list(range(10)), 5, seed=3 + e) for i in b] for e in range(4)]


def test_validation_accuracy_and_callback_are_recorded_each_step():
    X, y = make_xor(20, seed=0)
    model = MLP(2, [4, 1], seed=0)
    calls = []

    def callback(k, history):
        # after step k: the validation accuracy of the model as it is now, counted by hand
        hits = sum((model(x).data > 0) == (label == 1) for x, label in zip(X[15:], y[15:]))
        calls.append((k, len(history), history.val_accuracy[-1] == hits / 5))

    history = fit(
        model, X[:15], y[:15], steps=4, progress=False, validation=(X[15:], y[15:]), callback=callback
    )
    assert len(history.val_accuracy) == 4
    assert calls == [(0, 1, True), (1, 2, True), (2, 3, True), (3, 4, True)]


def test_progress_bar_shows_the_loss_and_progress_false_is_silent(capsys):
    X, y = make_xor(10, seed=0)
    fit(MLP(2, [4, 1], seed=0), X, y, steps=2, progress=True)
    assert "loss=" in capsys.readouterr().err
    fit(MLP(2, [4, 1], seed=0), X, y, steps=2, progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


# -- predict and accuracy on a hand-set model -------------------------------------------------------


def test_predict_thresholds_one_score_at_zero_and_takes_the_argmax_of_several():
    model = MLP(2, [1], seed=0)
    model.load_state_dict({"L0.N0.w0": 1.0, "L0.N0.w1": -1.0, "L0.N0.b": 0.0})  # score = x0 - x1
    assert predict(model, [[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]]) == [1, 0, 1]
    assert accuracy(model, [[1.0, 0.0], [0.0, 1.0]], [1, 1]) == 0.5
    assert accuracy(model, [[1.0, 0.0], [0.0, 1.0]], [1, -1]) == 1.0
    wide = MLP(2, [2], seed=0)
    wide.load_state_dict(
        {"L0.N0.w0": 1.0, "L0.N0.w1": 0.0, "L0.N0.b": 0.0, "L0.N1.w0": 0.0, "L0.N1.w1": 1.0, "L0.N1.b": 0.0}
    )
    assert predict(wide, [[0.2, 0.9], [0.7, -0.1]]) == [1, 0]


# -- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"X": [], "y": []}, ValueError, "empty"),
        ({"X": [[0.0, 0.0]], "y": [0, 1]}, ValueError, "1 samples but y has 2"),
        ({"loss": "l1"}, ValueError, "unknown loss 'l1'"),
        ({"optimizer": "rmsprop"}, ValueError, "unknown optimizer 'rmsprop'"),
        ({"steps": 0}, ValueError, "steps must be"),
        ({"optimizer": "x", "lr": 0.1}, ValueError, "unknown optimizer 'x'"),
        ({"batch_size": 0}, ValueError, "batch_size must be"),
        ({"y": [0, 1, 2, 0]}, ValueError, "two classes.*cross_entropy"),
        ({"loss": "cross_entropy"}, ValueError, "one output per class"),
        ({"y": [0.0, 1.0, 1.0, 0.0]}, TypeError, "labels must be ints"),
        ({"X": [[0.0], [1.0], [0.0], [1.0]]}, ValueError, "expects 2 inputs, received 1"),
        ({"steps": 2.0}, TypeError, "steps must be an int, got float 2.0"),
        ({"seed": "a", "batch_size": 2}, TypeError, "seed must be an int, got str 'a'"),
        ({"validation": ([[0.0, 1.0]], [])}, ValueError, "1 samples but y has 0"),
    ],
)
def test_fit_refuses_bad_input_with_a_reason(kwargs, error, message):
    args = {"X": [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "y": [0, 1, 1, 0], "progress": False}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        fit(MLP(2, [3, 1], seed=0), **args)


def test_fit_refuses_what_is_not_a_model():
    with pytest.raises(TypeError, match=r"fit trains a model with parameters\(\).*got function"):
        fit(lambda x: x[0], [[0.0, 1.0]], [1], progress=False)


def test_predict_and_accuracy_refuse_empty_data():
    with pytest.raises(ValueError, match="no samples"):
        predict(MLP(2, [1], seed=0), [])
    with pytest.raises(TypeError, match="a list of samples, got int 5"):
        predict(MLP(2, [1], seed=0), 5)
    with pytest.raises(ValueError, match="empty"):
        accuracy(MLP(2, [1], seed=0), [], [])


def test_an_optimizer_instance_with_an_lr_beside_it_is_refused():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="already has its lr"):
        fit(model, [[0.0, 1.0]], [1], optimizer=SGD(model.parameters(), lr=0.1), lr=0.5, progress=False)


def test_a_parameter_made_nan_from_outside_is_named_before_training():
    X, y = make_moons(20, seed=0)
    model = MLP(2, [4, 1], seed=0)
    model.layers[0].neurons[1].w[0].data = float("nan")
    with pytest.raises(ValueError, match=r"^fit: parameter L0\.N1\.w0 is nan before training; its \.data"):
        fit(model, X, y, steps=2, progress=False)


@pytest.mark.parametrize("enabled_before", [True, False])
def test_fit_pauses_the_garbage_collector_within_each_step_and_restores_it(enabled_before):
    import gc

    from micrograd.losses import hinge

    seen = []

    def loss(outs, classes):  # runs inside the step
        seen.append(gc.isenabled())
        return hinge(outs, [2 * c - 1 for c in classes])

    X, y = make_moons(20, seed=0)
    (gc.enable if enabled_before else gc.disable)()
    try:
        fit(MLP(2, [4, 1], seed=0), X, y, loss=loss, steps=3, progress=False)
        assert gc.isenabled() is enabled_before
    finally:
        gc.enable()
    assert seen == [False, False, False]
