"""fit stops training that diverges, at the step where it happens, instead of returning weights that
mean nothing: the loss past 1e6 times its start, or a value that overflows a float.

The oracle is the classic hand-written loop (forward, zero_grad, backward, p.data -= lr * p.grad),
run beside fit on a copy of the same model.
"""

from __future__ import annotations

import pytest

from micrograd.data import make_moons
from micrograd.losses import hinge, l2
from micrograd.nn import MLP
from micrograd.training import DIVERGENCE, TrainingDiverged, fit


def hand_losses(lr: float, steps: int) -> list[float]:
    """The loss before each of ``steps`` plain SGD steps on the classic moons model."""
    X, y = make_moons(40, noise=0.1, seed=1)
    model = MLP(2, [16, 16, 1], seed=1)
    losses = []
    for _ in range(steps):
        loss = hinge([model(x) for x in X], [2 * c - 1 for c in y]) + l2(model.parameters(), 1e-4)
        losses.append(loss.data)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
    return losses


def test_a_loss_that_grows_past_a_million_times_its_start_stops_fit_at_that_step():
    X, y = make_moons(40, noise=0.1, seed=1)
    expected = hand_losses(1000.0, 3)
    first_past = next(k for k, loss in enumerate(expected) if loss > DIVERGENCE * max(expected[0], 1.0))
    with pytest.raises(TrainingDiverged) as caught:
        fit(MLP(2, [16, 16, 1], seed=1), X, y, optimizer="sgd", lr=1000.0, steps=100, progress=False)
    error = caught.value
    assert isinstance(error, OverflowError)  # caught where the engine's overflow is
    assert (error.step, error.steps, error.lr) == (first_past + 1, 100, 1000.0)
    assert error.history.loss == pytest.approx(expected[: first_past + 1], rel=1e-9)
    assert str(error) == (
        f"training diverged at step {first_past + 1} of 100 (learning rate 1000): the loss grew from "
        f"{expected[0]:.4g} to {expected[first_past]:.4g}, over 1e+06 times its start; "
        "lower the learning rate"
    )


def test_weights_that_overflow_a_float_stop_fit_with_the_engines_reason():
    X, y = make_moons(40, noise=0.1, seed=1)
    message = r"at step 2 of 10 \(learning rate 1e\+200\): .*overflows a float"
    with pytest.raises(TrainingDiverged, match=message) as caught:
        fit(MLP(2, [16, 16, 1], seed=1), X, y, optimizer="sgd", lr=1e200, steps=10, progress=False)
    assert isinstance(caught.value.__cause__, OverflowError)
    assert len(caught.value.history.loss) == 1  # one step was taken; the second could not be computed


def test_an_update_that_would_leave_the_float_range_stops_fit_at_that_step():
    X, y = make_moons(40, noise=0.1, seed=1)
    with pytest.raises(TrainingDiverged) as caught:
        fit(MLP(2, [16, 16, 1], seed=1), X, y, optimizer="adam", lr=1e308, steps=10, progress=False)
    message = str(caught.value)
    assert message.startswith("training diverged at step 1 of 10 (learning rate 1e+308): ")
    assert message.count("lower the learning rate") == 1
    assert isinstance(caught.value.__cause__, OverflowError)  # the optimizer's refusal, kept as the cause


def test_an_overflow_before_any_update_is_the_datas_not_divergence():
    # inputs near the float limit: the weighted sums overflow in the very first forward pass
    X, y = [[-1e308, 1e308], [1.7e308, -1.7e308]], [0, 1]
    with pytest.raises(OverflowError) as caught:
        fit(MLP(2, [16, 16, 1], seed=1), X, y, steps=5, progress=False)
    assert not isinstance(caught.value, TrainingDiverged)


def test_a_learning_rate_that_converges_is_left_alone():
    X, y = make_moons(40, noise=0.1, seed=1)
    history = fit(MLP(2, [16, 16, 1], seed=1), X, y, optimizer="sgd", lr=0.1, steps=20, progress=False)
    assert history.loss == pytest.approx(hand_losses(0.1, 20), rel=1e-9)
