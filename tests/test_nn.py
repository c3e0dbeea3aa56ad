"""Neurons, layers and MLPs: structure, initialisation, and forward/backward against torch in float64."""

import math
import random

import pytest
import torch

from micrograd.engine import Value, topological_order
from micrograd.nn import MLP, Layer, Neuron

ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"]
TORCH_ACT = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda t: t}


def torch_forward(model, x, acts):
    """The same MLP written directly in torch from the model's weight values."""
    h = x
    for layer, act in zip(model.layers, acts):
        W = torch.tensor(
            [[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True
        )
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        layer.torch_params = (W, b)
        h = TORCH_ACT[act](W @ h + b)
    return h


# -- the classic structure --------------------------------------------------------------------------


def test_classic_mlp_has_relu_hidden_layers_and_a_linear_output():
    model = MLP(2, [16, 16, 1])
    assert [len(layer.neurons) for layer in model.layers] == [16, 16, 1]
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "linear"]
    # (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1 weights and biases
    assert len(model.parameters()) == 337
    assert repr(model.layers[0].neurons[0]) == "ReLUNeuron(2)"


def test_reprs_are_one_line_with_the_layer_sizes_and_the_parameter_count():
    # what a notebook shows for a cell ending in `model`: the shape, not 33 neurons in a row
    model = MLP(2, [16, 16, 1])
    assert repr(model) == "MLP(2 -> 16 relu -> 16 relu -> 1 linear, 337 parameters)"
    assert str(model) == repr(model)
    assert repr(model.layers[0]) == "Layer(2 -> 16 relu, 48 parameters)"  # (2 + 1) * 16
    assert repr(model.layers[2]) == "Layer(16 -> 1 linear, 17 parameters)"
    assert repr(model.layers[2].neurons[0]) == "LinearNeuron(16)"
    # 64*32 + 32 + 32*10 + 10 = 2410
    assert repr(MLP(64, [32, 10], activation="tanh")) == "MLP(64 -> 32 tanh -> 10 linear, 2,410 parameters)"
    assert repr(Layer(3, 1, activation="sigmoid")) == "Layer(3 -> 1 sigmoid, 4 parameters)"


def test_a_one_neuron_output_layer_returns_a_single_value_and_wider_ones_a_list():
    assert isinstance(MLP(2, [3, 1], seed=0)([0.5, -1.0]), Value)
    out = MLP(2, [3, 2], seed=0)([0.5, -1.0])
    assert isinstance(out, list) and len(out) == 2
    assert isinstance(Layer(2, 1, rng=random.Random(0))([1.0, 2.0]), Value)
    # a hidden layer of one neuron feeds the next layer as a list of one input
    assert isinstance(MLP(2, [1, 1], seed=0)([0.5, -1.0]), Value)


def test_neuron_nonlin_false_is_linear_as_in_the_classic():
    n = Neuron(2, nonlin=False, rng=random.Random(0))
    n.w[0].data, n.w[1].data, n.b.data = -1.0, -2.0, 0.5
    assert n([1.0, 1.0]).data == -2.5  # -1 - 2 + 0.5, not clipped by a ReLU
    relu_neuron = Neuron(2, rng=random.Random(0))
    relu_neuron.w[0].data, relu_neuron.w[1].data, relu_neuron.b.data = -1.0, -2.0, 0.5
    assert relu_neuron([1.0, 1.0]).data == 0.0


def test_parameters_are_labelled_by_layer_and_neuron_and_named_the_same():
    model = MLP(2, [2, 1], seed=0)
    expected = [
        "L0.N0.w0", "L0.N0.w1", "L0.N0.b",
        "L0.N1.w0", "L0.N1.w1", "L0.N1.b",
        "L1.N0.w0", "L1.N0.w1", "L1.N0.b",
    ]  # fmt: skip
    assert [name for name, _ in model.named_parameters()] == expected
    assert [p.label for p in model.parameters()] == expected
    assert list(model.state_dict()) == expected


def test_zero_grad_sets_every_parameter_grad_to_zero():
    model = MLP(2, [3, 1], seed=0)
    model([1.0, -2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


# -- initialisation ---------------------------------------------------------------------------------


def test_unseeded_init_draws_uniform_minus_one_one_from_the_global_state_like_the_classic():
    random.seed(1337)
    expected = [random.uniform(-1, 1) for _ in range(3 * 2 + 1 * 3)]
    random.seed(1337)
    model = MLP(2, [3, 1])
    weights = [p.data for name, p in model.named_parameters() if not name.endswith(".b")]
    assert weights == expected
    assert all(n.b.data == 0.0 for layer in model.layers for n in layer.neurons)


def test_seeded_init_is_reproducible_and_leaves_the_global_random_state_alone():
    state = random.getstate()
    a, b, c = MLP(3, [4, 2], seed=7), MLP(3, [4, 2], seed=7), MLP(3, [4, 2], seed=8)
    assert random.getstate() == state
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != c.state_dict()
    draws = random.Random(7)
    expected = [draws.uniform(-1, 1) for _ in range(3 * 4 + 4 * 2)]
    assert [p.data for name, p in a.named_parameters() if not name.endswith(".b")] == expected


@pytest.mark.parametrize(
    "init, variance",
    [("kaiming", 2.0 / 100), ("xavier", 2.0 / (100 + 200)), ("lecun", 1.0 / 100), ("uniform", 1.0 / 3.0)],
)
def test_init_schemes_have_the_variance_their_formula_gives(init, variance):
    layer = Layer(100, 200, init=init, rng=random.Random(0))
    ws = [w.data for n in layer.neurons for w in n.w]
    bound = math.sqrt(3.0 * variance)  # uniform(-a, a) has variance a^2 / 3
    assert max(abs(w) for w in ws) <= bound
    assert sum(w * w for w in ws) / len(ws) == pytest.approx(variance, rel=0.05)
    assert all(n.b.data == 0.0 for n in layer.neurons)


# -- forward and backward against torch -------------------------------------------------------------


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_forward_and_backward_equal_torch(activation, fused):
    model = MLP(3, [4, 4, 2], activation=activation, output_activation=activation, fused=fused, seed=3)
    x = [Value(0.3), Value(-1.2), Value(0.8)]
    coeffs = [0.7, -1.3]
    out = model(x)
    (coeffs[0] * out[0] + coeffs[1] * out[1]).backward()

    xt = torch.tensor([v.data for v in x], dtype=torch.float64, requires_grad=True)
    out_t = torch_forward(model, xt, [activation] * 3)
    (out_t @ torch.tensor(coeffs, dtype=torch.float64)).backward()

    assert [o.data for o in out] == pytest.approx(out_t.tolist(), abs=1e-12, rel=1e-12)
    assert [v.grad for v in x] == pytest.approx(xt.grad.tolist(), abs=1e-12, rel=1e-12)
    for layer in model.layers:
        W, b = layer.torch_params
        assert [[w.grad for w in n.w] for n in layer.neurons] == [
            pytest.approx(row, abs=1e-12, rel=1e-12) for row in W.grad.tolist()
        ]
        assert [n.b.grad for n in layer.neurons] == pytest.approx(b.grad.tolist(), abs=1e-12, rel=1e-12)


def test_classic_mlp_with_float_inputs_equals_torch():
    model = MLP(2, [16, 16, 1], seed=0)
    out = model([0.5, -0.25])
    out.backward()
    out_t = torch_forward(model, torch.tensor([0.5, -0.25], dtype=torch.float64), ["relu", "relu", "linear"])
    out_t.sum().backward()
    assert out.data == pytest.approx(out_t.item(), abs=1e-12)
    W, _ = model.layers[0].torch_params
    assert [[w.grad for w in n.w] for n in model.layers[0].neurons] == [
        pytest.approx(row, abs=1e-12) for row in W.grad.tolist()
    ]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_fused_and_unfused_neurons_give_the_same_values_and_gradients(activation):
    fused = MLP(3, [5, 3], activation=activation, seed=11)
    unfused = MLP(3, [5, 3], activation=activation, seed=11, fused=False)
    xs = [[Value(0.4), Value(-0.9), Value(1.5)] for _ in range(2)]
    for model, x in zip((fused, unfused), xs):
        out = model(x)
        (out[0] - 2.0 * out[1] + 0.5 * out[2]).backward()
    assert [p.grad for p in fused.parameters()] == pytest.approx(
        [p.grad for p in unfused.parameters()], abs=1e-12
    )
    assert [v.grad for v in xs[0]] == pytest.approx([v.grad for v in xs[1]], abs=1e-12)


def test_a_fused_neuron_is_one_linear_node_and_float_inputs_are_not_nodes():
    neuron = Neuron(3, rng=random.Random(0))
    out = neuron([1.0, 2.0, 3.0])
    net = out.operands()[0]
    assert (out._op, net._op) == ("relu", "linear")
    assert net.operands() == (*neuron.w, 1.0, 2.0, 3.0, neuron.b)
    # the graph is the 3 weights, the bias, the weighted sum and the ReLU: no input nodes
    assert len(topological_order(out)) == 6
    assert out.label == "" and net.label == ""  # per-forward nodes stay unlabelled (memory)


def test_an_unfused_neuron_builds_elementary_nodes_and_labels_its_output():
    neuron = Neuron(3, fused=False, rng=random.Random(0), name="L1.N2")
    out = neuron([1.0, 2.0, 3.0])
    ops = [node._op for node in topological_order(out)]
    assert ops.count("*") == 3 and ops.count("+") == 3 and ops.count("linear") == 0
    assert out.label == "L1.N2.out"
    assert out.operands()[0].label == "L1.N2.net"


def test_the_delta_rule_holds_for_a_fused_neuron():
    neuron = Neuron(2, activation="linear", rng=random.Random(0))
    x = [Value(0.5), Value(-2.0)]
    neuron(x).backward()
    # d net / d w_i = x_i, d net / d x_i = w_i, d net / d b = 1
    assert [w.grad for w in neuron.w] == [0.5, -2.0]
    assert [v.grad for v in x] == [w.data for w in neuron.w]
    assert neuron.b.grad == 1.0


# -- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: MLP(2, [3, 1], seed=0)([1.0, 2.0, 3.0]),
        lambda: Layer(2, 3, rng=random.Random(0))([1.0, 2.0, 3.0]),
        lambda: Neuron(2, rng=random.Random(0))([1.0, 2.0, 3.0]),
    ],
)
def test_an_input_of_the_wrong_length_names_expected_and_received_sizes(call):
    with pytest.raises(ValueError, match="expects 2 inputs, received 3"):
        call()


@pytest.mark.parametrize("x", [["a", 1.0], [None, 1.0], [True, 1.0], "ab", 1.0, None, Value(1.0)])
def test_a_non_numeric_input_is_a_type_error(x):
    with pytest.raises(TypeError):
        MLP(2, [3, 1], seed=0)(x)


@pytest.mark.parametrize(
    "x, shown",
    [(math.nan, "nan"), (-math.inf, "-inf"), (2**1100, "an int of 1101 bits, too large for a float")],
)
def test_a_non_finite_input_is_a_value_error_naming_it(x, shown):
    with pytest.raises(ValueError, match=f"input 0 is {shown}; inputs must be finite numbers"):
        MLP(2, [3, 1], seed=0)([x, 1.0])


def test_ints_and_tuples_are_accepted_as_inputs():
    model = MLP(2, [3, 1], seed=0)
    assert model((1, 2)).data == model([1.0, 2.0]).data


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: MLP(0, [1]), ValueError, "nin must be >= 1"),
        (lambda: MLP(2.5, [1]), TypeError, "nin must be an int"),
        (lambda: MLP(2, []), ValueError, "non-empty list"),
        (lambda: MLP(2, [3, 0]), ValueError, r"nouts\[1\] must be >= 1"),
        (lambda: MLP(2, [1], activation="gelu"), ValueError, "unknown activation 'gelu'"),
        (lambda: MLP(2, [1], init="zeros"), ValueError, "unknown init 'zeros'"),
        (lambda: MLP(2, [1], seed=1.5), TypeError, "seed must be an int"),
    ],
)
def test_bad_constructor_arguments_say_what_is_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()


# -- state dicts ------------------------------------------------------------------------------------


def test_load_state_dict_sets_every_parameter():
    model = MLP(2, [2, 1], seed=0)
    state = {name: float(i) for i, name in enumerate(model.state_dict())}
    model.load_state_dict(state)
    assert [p.data for p in model.parameters()] == [float(i) for i in range(9)]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.pop("L1.N0.b"), "missing"),
        (lambda s: s.update({"L9.N0.b": 1.0}), "unexpected"),
        (lambda s: s.update({"L1.N0.b": "x"}), "must be a number"),
        (lambda s: s.update({"L1.N0.b": True}), "must be a number"),
        (lambda s: s.update({"L1.N0.b": math.inf}), "finite"),
    ],
)
def test_a_bad_state_dict_is_refused_and_changes_nothing(change, message):
    model = MLP(2, [2, 1], seed=0)
    before = [p.data for p in model.parameters()]
    state = {name: 0.5 for name in model.state_dict()}
    change(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    assert [p.data for p in model.parameters()] == before


@pytest.mark.parametrize("fused", [True, False])
def test_structure_names_every_parameter_and_finds_the_neuron_of_each_forward_node(fused):
    model = MLP(2, [3, 2], seed=0, fused=fused)
    s = model.structure()
    assert s.nin == 2
    names = [[n.name for n in layer] for layer in s.layers]
    assert names == [["L0.N0", "L0.N1", "L0.N2"], ["L1.N0", "L1.N1"]]
    assert [n.activation for n in s.layers[1]] == ["linear", "linear"]
    # by hand: layer 1, neuron 1 has weights w0 w1 w2 (one per neuron of layer 0) and a bias
    w2 = model.layers[1].neurons[1].w[2]
    role = s.params[w2]
    assert (role.layer, role.neuron, role.kind, role.index, role.name) == (1, 1, "weight", 2, "L1.N1.w2")
    assert s.params[model.layers[0].neurons[2].b].kind == "bias"
    assert len(s.params) == 2 * 3 + 3 + 3 * 2 + 2  # every parameter once
    outs = model([1.0, -2.0])
    assert [s.neuron_of(o).name for o in outs] == ["L1.N0", "L1.N1"]
    hidden = [n for n in topological_order(outs[0]) if s.neuron_of(n) is not None and n not in outs]
    assert {s.neuron_of(n).name for n in hidden} == {"L0.N0", "L0.N1", "L0.N2"}
    # the outputs are linear: exp(logit), the softmax's first op, is the loss's node, not the neuron's
    assert s.neuron_of(outs[0].exp()) is None and s.neuron_of(outs[0].tanh()) is None
    relu = MLP(2, [3], seed=0, fused=fused)
    first = relu([1.0, -2.0])[0]
    assert relu.structure().neuron_of(first).name == "L0.N0"  # its own activation (relu) is its
