"""The PyTorch bridge: to_torch / from_torch give equal outputs and gradients in float64 (1e-12)."""

import pytest
import torch

from micrograd.engine import Value
from micrograd.nn import MLP, Layer, from_torch, to_torch

POINTS = [[0.3, -1.2, 0.8], [1.5, 0.1, -0.4], [-0.7, -0.2, 2.0]]


def micrograd_outputs_and_grads(model, coeffs):
    """Outputs for POINTS, and the gradients of sum_points coeffs . outputs w.r.t. the parameters."""
    model.zero_grad()
    outs = [model(x) for x in POINTS]
    outs = [o if isinstance(o, list) else [o] for o in outs]
    loss = sum((c * o for row in outs for c, o in zip(coeffs, row)), Value(0.0))
    loss.backward()
    return [[o.data for o in row] for row in outs], [p.grad for p in model.parameters()]


def torch_outputs_and_grads(seq, coeffs):
    seq.zero_grad()
    out = seq(torch.tensor(POINTS, dtype=torch.float64))
    (out * torch.tensor(coeffs, dtype=torch.float64)).sum().backward()
    grads = []
    for module in seq:
        if isinstance(module, torch.nn.Linear):
            # micrograd's order: per neuron its weights, then its bias
            for row, bias in zip(module.weight.grad.tolist(), module.bias.grad.tolist()):
                grads.extend([*row, bias])
    return out.tolist(), grads


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("fused", [True, False])
def test_to_torch_gives_equal_outputs_and_gradients(activation, fused):
    model = MLP(3, [5, 4, 2], activation=activation, output_activation="sigmoid", fused=fused, seed=2)
    seq = to_torch(model)
    assert all(p.dtype == torch.float64 for p in seq.parameters())
    ours, our_grads = micrograd_outputs_and_grads(model, [1.0, -0.5])
    theirs, their_grads = torch_outputs_and_grads(seq, [1.0, -0.5])
    assert ours == [pytest.approx(row, rel=1e-12, abs=1e-12) for row in theirs]
    assert our_grads == pytest.approx(their_grads, rel=1e-12, abs=1e-12)


def test_to_torch_builds_linear_and_activation_modules():
    seq = to_torch(MLP(2, [16, 16, 1], seed=0))
    kinds = [type(m).__name__ for m in seq]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert (seq[0].in_features, seq[0].out_features, seq[4].out_features) == (2, 16, 1)


def test_from_torch_gives_equal_outputs_and_gradients():
    torch.manual_seed(0)
    seq = torch.nn.Sequential(
        torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)
    ).double()
    model = from_torch(seq)
    assert model.architecture()["nouts"] == [6, 4, 2]
    assert (model.activation, model.output_activation) == ("tanh", "linear")
    ours, our_grads = micrograd_outputs_and_grads(model, [0.3, 2.0])
    theirs, their_grads = torch_outputs_and_grads(seq, [0.3, 2.0])
    assert ours == [pytest.approx(row, rel=1e-12, abs=1e-12) for row in theirs]
    assert our_grads == pytest.approx(their_grads, rel=1e-12, abs=1e-12)


def test_a_round_trip_through_torch_keeps_every_weight_exactly():
    model = MLP(3, [4, 4, 1], activation="tanh", output_activation="sigmoid", seed=9)
    back = from_torch(to_torch(model))
    assert back.architecture() == model.architecture()
    assert back.state_dict() == model.state_dict()


def test_a_linear_layer_without_bias_converts_with_zero_bias():
    seq = torch.nn.Sequential(torch.nn.Linear(2, 1, bias=False, dtype=torch.float64))
    model = from_torch(seq)
    assert model.layers[0].neurons[0].b.data == 0.0
    x = [0.5, -2.0]
    assert model(x).data == pytest.approx(seq(torch.tensor(x, dtype=torch.float64)).item(), abs=1e-12)


@pytest.mark.parametrize(
    "seq, message",
    [
        (torch.nn.Sequential(), "no Linear layer"),
        (torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 1)), "must follow a Linear"),
        (
            torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)),
            "takes 4 inputs but the layer before",
        ),
        (
            torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(), torch.nn.Linear(3, 1)),
            "only Linear",
        ),
        (
            torch.nn.Sequential(
                torch.nn.Linear(2, 3),
                torch.nn.ReLU(),
                torch.nn.Linear(3, 3),
                torch.nn.Tanh(),
                torch.nn.Linear(3, 1),
            ),
            "different activations",
        ),
    ],
)
def test_from_torch_refuses_what_an_mlp_cannot_be(seq, message):
    with pytest.raises(ValueError, match=message):
        from_torch(seq)


def test_the_bridge_takes_only_its_own_kinds():
    with pytest.raises(TypeError, match="to_torch takes an MLP"):
        to_torch(Layer(2, 2))
    with pytest.raises(TypeError, match="from_torch takes a torch.nn.Sequential"):
        from_torch([torch.nn.Linear(2, 1)])
