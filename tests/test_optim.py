"""Optimizers step for step against torch.optim on the same gradients (float64, 1e-12); schedules."""

import math

import pytest
import torch

from micrograd.engine import Value
from micrograd.optim import SGD, Adam, AdamW, constant, cosine_decay, linear_decay

START = [0.5, -1.25, 2.0, 0.0, -0.03]
STEPS = 6


def gradients(step):
    """A different, sign-changing gradient for every parameter at every step."""
    return [math.sin(1.3 * i + 0.7 * step) * (1 + 0.5 * step) for i in range(len(START))]


def run_both(make_ours, make_torch, scheduler=None):
    params = [Value(v) for v in START]
    ours = make_ours(params)
    tensor = torch.tensor(START, dtype=torch.float64, requires_grad=True)
    theirs = make_torch([tensor])
    lr_schedule = scheduler(theirs) if scheduler else None
    for step in range(STEPS):
        gs = gradients(step)
        ours.zero_grad()
        for p, g in zip(params, gs):
            p.grad = g
        ours.step()
        theirs.zero_grad()
        tensor.grad = torch.tensor(gs, dtype=torch.float64)
        theirs.step()
        if lr_schedule:
            lr_schedule.step()
        assert [p.data for p in params] == pytest.approx(tensor.tolist(), rel=1e-12, abs=1e-12), (
            f"step {step}"
        )
    return ours


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "weight_decay": 0.01},
        {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.02},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    ],
)
def test_sgd_steps_equal_torch(kwargs):
    run_both(lambda ps: SGD(ps, **kwargs), lambda ts: torch.optim.SGD(ts, **kwargs))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"lr": 0.01},
        {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6},
        {"lr": 0.01, "weight_decay": 0.1},
    ],
)
def test_adam_steps_equal_torch(kwargs):
    run_both(lambda ps: Adam(ps, **kwargs), lambda ts: torch.optim.Adam(ts, **kwargs))


@pytest.mark.parametrize("kwargs", [{}, {"lr": 0.01, "weight_decay": 0.1}, {"lr": 0.05, "betas": (0.5, 0.9)}])
def test_adamw_steps_equal_torch(kwargs):
    run_both(lambda ps: AdamW(ps, **kwargs), lambda ts: torch.optim.AdamW(ts, **kwargs))


def test_adamw_default_weight_decay_is_torchs():
    assert AdamW([Value(1.0)]).weight_decay == 0.01


def test_sgd_with_the_classic_schedule_equals_torch_with_lambda_lr():
    ours = run_both(
        lambda ps: SGD(ps, lr=1.0, schedule=linear_decay(1.0, 0.1, 100)),
        lambda ts: torch.optim.SGD(ts, lr=1.0),
        scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1.0 - 0.9 * k / 100),
    )
    assert ours.lr == 1.0 - 0.9 * (STEPS - 1) / 100  # the rate of the last step taken


def test_adam_with_a_schedule_equals_torch_with_lambda_lr():
    run_both(
        lambda ps: Adam(ps, lr=0.1, schedule=cosine_decay(0.1, 0.0, 4)),
        lambda ts: torch.optim.Adam(ts, lr=0.1),
        scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(
            opt, lambda k: 0.5 * (1 + math.cos(math.pi * min(k, 4) / 4))
        ),
    )


def test_linear_decay_is_the_classic_formula_then_flat():
    schedule = linear_decay(1.0, 0.1, 100)
    assert [schedule(k) for k in range(100)] == [1.0 - 0.9 * k / 100 for k in range(100)]
    assert schedule(100) == pytest.approx(0.1) and schedule(500) == pytest.approx(0.1)


def test_constant_schedule():
    assert {constant(0.3)(k) for k in range(10)} == {0.3}


def test_sgd_step_is_p_minus_lr_times_grad_and_zero_grad_resets():
    p = Value(1.0)
    opt = SGD([p], lr=0.5)
    p.grad = 4.0
    opt.step()
    assert p.data == 1.0 - 0.5 * 4.0
    opt.zero_grad()
    assert p.grad == 0.0


def test_a_diverging_step_is_refused_and_leaves_parameters_finite():
    p, q = Value(1.0), Value(1e308)
    opt = SGD([p, q], lr=1.0)
    p.grad, q.grad = 1.0, -1e308
    with pytest.raises(OverflowError, match="lower the learning rate"):
        opt.step()
    assert (p.data, q.data) == (1.0, 1e308)


@pytest.mark.parametrize("optimizer", [SGD, Adam, AdamW])
def test_a_parameter_made_nan_from_outside_is_named_not_blamed_on_the_learning_rate(optimizer):
    p, q = Value(1.0, label="w"), Value(2.0, label="b")
    opt = optimizer([p, q], lr=0.1)
    p.grad, q.grad = 1.0, 1.0
    q.data = float("nan")  # assigned between backward and step
    with pytest.raises(ValueError, match=r"step 0: parameter b is nan before the step; its \.data was set"):
        opt.step()
    assert p.data == 1.0  # nothing moved
    q.data, q.grad = 2.0, float("inf")
    with pytest.raises(ValueError, match="parameter b has grad inf; no step can follow a gradient that is"):
        opt.step()


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: SGD([], lr=0.1), ValueError, "no parameters"),
        (lambda: SGD(Value(1.0), lr=0.1), TypeError, r"a list of parameters \(e.g. model.parameters\(\)\)"),
        (lambda: SGD([1.0], lr=0.1), TypeError, "parameter 0 is float"),
        (lambda: SGD([Value(1.0)], lr=-0.1), ValueError, "lr must be in"),
        (lambda: SGD([Value(1.0)], lr=math.nan), ValueError, "lr must be a finite number"),
        (lambda: SGD([Value(1.0)], nesterov=True), ValueError, "nesterov needs a momentum"),
        (lambda: Adam([Value(1.0)], betas=(1.0, 0.9)), ValueError, "betas"),
        (lambda: Adam([Value(1.0)], eps=-1.0), ValueError, "eps"),
        (lambda: SGD([Value(1.0)], schedule=0.1), TypeError, "schedule must be a callable"),
        (lambda: linear_decay(steps=0), ValueError, "steps must be"),
        (lambda: cosine_decay(steps=2.5), TypeError, "steps must be an int, got float 2.5"),
    ],
)
def test_bad_optimizer_arguments_say_what_is_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_a_parameter_listed_twice_is_refused():
    p = Value(1.0)
    with pytest.raises(ValueError, match="appears twice"):
        Adam([p, p])
