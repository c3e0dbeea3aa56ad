"""Networks drawn as networks: facts about the layout read from dot's SVG.

A sample's inputs are shared nodes; layers are columns from left to right; neurons are drawn from
the top in index order and each neuron's parameters in index order; wide layers are joined through
one bus node. Positions come from the SVG dot wrote (y grows downwards).
"""

from __future__ import annotations

import pytest
from drawing import by_name, center, ends, groups, svg_of, texts

from micrograd.engine import Value, total
from micrograd.nn import MLP
from micrograd.viz import draw_dot


def mlp_loss(sizes=(4, 4, 1), fused=True, samples=((1.0, -2.0),), seed=0):
    model = MLP(2, list(sizes), seed=seed, fused=fused)
    loss = total((model(list(x)) - 1.0) ** 2 for x in samples)  # type: ignore[operator]
    loss.backward()
    return loss, model


def linear_ops(svg) -> dict[str, tuple[float, float]]:
    """The centre of each fused neuron's weighted sum, by neuron: found through the edge from its w0."""
    names = {gid: texts(g)[0] for gid, g in groups(svg, "node").items() if texts(g)}
    centres = {gid: center(g) for gid, g in groups(svg, "node").items()}
    ops = {}
    for edge in groups(svg, "edge").values():
        tail, head = ends(edge)
        name = names.get(tail, "")
        if name.endswith(".w0") and head.endswith("-op"):
            ops[name[: -len(".w0")]] = centres[head]
    return ops


@pytest.mark.parametrize("with_model", [True, False])
def test_a_samples_inputs_are_two_shared_nodes_feeding_every_first_layer_neuron(with_model):
    loss, model = mlp_loss()
    svg = svg_of(draw_dot(loss, model=model if with_model else None))
    nodes = by_name(svg)
    assert {"x0", "x1"} <= set(nodes)
    assert texts(nodes["x0"]) == ["x0", "data 1.0000"] and texts(nodes["x1"]) == ["x1", "data -2.0000"]
    constants = [texts(g) for gid, g in groups(svg, "node").items() if "-c" in gid]
    assert constants == [["1"], ["2"]]  # only the loss's: (out - 1) ** 2; the inputs are not constants
    ids = {name: g.get("id") for name, g in nodes.items()}
    edges = [ends(e) for e in groups(svg, "edge").values()]

    def heads(name: str) -> list[str]:
        return sorted(head for tail, head in edges if tail == ids[name])

    # each input enters the weighted sum of each of the 4 neurons of layer 0, and nothing else
    first_layer = sorted(head for j in range(4) for head in heads(f"L0.N{j}.w0"))
    assert heads("x0") == heads("x1") == first_layer and len(first_layer) == 4


def test_layers_are_columns_from_left_to_right_and_neurons_and_parameters_run_down_in_index_order():
    loss, model = mlp_loss()
    svg = svg_of(draw_dot(loss, model=model))
    nodes = by_name(svg)
    ops = linear_ops(svg)
    assert sorted(ops) == [
        f"L{layer}.N{j}" for layer, width in ((0, 4), (1, 4), (2, 1)) for j in range(width)
    ]
    x = {name: xy[0] for name, xy in ops.items()}
    assert max(center(nodes[f"x{i}"])[0] for i in range(2)) < min(x[f"L0.N{j}"] for j in range(4))
    assert max(x[f"L0.N{j}"] for j in range(4)) < min(x[f"L1.N{j}"] for j in range(4)) < x["L2.N0"]
    for layer in (0, 1):
        ys = [ops[f"L{layer}.N{j}"][1] for j in range(4)]
        assert ys == sorted(ys), f"layer {layer}'s neurons are not drawn from the top in index order"
    for name, nin in (("L0.N2", 2), ("L1.N1", 4), ("L2.N0", 4)):
        order = [f"{name}.w{i}" for i in range(nin)] + [f"{name}.b"]
        ys = [center(nodes[p])[1] for p in order]
        assert ys == sorted(ys), f"{name}'s parameters are not drawn in index order: {order}"


def test_no_edge_is_labelled_with_an_operand_index():
    loss, model = mlp_loss()
    svg = svg_of(draw_dot(loss, model=model))
    labels = [texts(e) for e in groups(svg, "edge").values() if texts(e)]
    # only the loss's own ops label their operands: (out - 1) ** 2
    assert sorted(t[0] for t in labels) == sorted(["+", "\u2212", "base", "exp"])


def test_collapsed_one_box_per_neuron_in_order_with_the_inputs_shared():
    loss, model = mlp_loss()
    svg = svg_of(draw_dot(loss, model=model, collapse=True))
    boxes = {
        texts(g)[1].split(":")[0]: g
        for gid, g in groups(svg, "node").items()
        if gid[1:].isdigit() and len(texts(g)) == 4
    }
    assert sorted(boxes) == [
        f"L{layer}.N{j}" for layer, width in ((0, 4), (1, 4), (2, 1)) for j in range(width)
    ]
    assert (
        texts(boxes["L0.N1"])[1] == "L0.N1: relu(w\u00b7x+b)"
        and texts(boxes["L2.N0"])[1] == "L2.N0: w\u00b7x+b"
    )
    ids = {name: g.get("id") for name, g in boxes.items()}
    inputs = {name: g.get("id") for name, g in by_name(svg).items() if name in ("x0", "x1")}
    edges = [ends(e) for e in groups(svg, "edge").values()]
    for j in range(4):  # every first-layer box reads both inputs, every second-layer box every first
        assert {t for t, h in edges if h == ids[f"L0.N{j}"]} == set(inputs.values())
        assert {t for t, h in edges if h == ids[f"L1.N{j}"]} == {ids[f"L0.N{k}"] for k in range(4)}
    for layer in (0, 1):
        ys = [center(boxes[f"L{layer}.N{j}"])[1] for j in range(4)]
        assert ys == sorted(ys)
    # the box is the neuron's output: relu(w.x + b), by hand from its parameters and the inputs
    neuron = model.layers[0].neurons[1]
    out = max(0.0, neuron.w[0].data * 1.0 + neuron.w[1].data * -2.0 + neuron.b.data)
    assert texts(boxes["L0.N1"])[2] == f"data {out:.4f}"


def test_an_unfused_network_keeps_the_same_order_and_shared_inputs():
    loss, model = mlp_loss(fused=False)
    svg = svg_of(draw_dot(loss, model=model))
    nodes = by_name(svg)
    for name, nin in (("L0.N3", 2), ("L1.N0", 4)):
        ys = [center(nodes[p])[1] for p in [*(f"{name}.w{i}" for i in range(nin)), f"{name}.b"]]
        assert ys == sorted(ys)
    ids = {name: g.get("id") for name, g in nodes.items()}
    # x0 enters the product w0 * x0 of each of the 4 first-layer neurons
    assert sum(1 for e in groups(svg, "edge").values() if ends(e)[0] == ids["x0"]) == 4
    collapsed = svg_of(draw_dot(loss, model=model, collapse=True))
    heads = [
        ends(e)[1]
        for e in groups(collapsed, "edge").values()
        if ends(e)[0] == by_name(collapsed)["x0"].get("id")
    ]
    assert len(heads) == 4


def test_each_samples_inputs_are_its_own_shared_nodes():
    loss, model = mlp_loss(samples=((1.0, -2.0), (0.5, 3.0)))
    svg = svg_of(draw_dot(loss, model=model, collapse=True))
    names = {name: texts(g) for name, g in by_name(svg).items() if name.startswith("x")}
    assert names == {
        "x0\u207d\u00b9\u207e": ["x0\u207d\u00b9\u207e", "data 1.0000"],
        "x1\u207d\u00b9\u207e": ["x1\u207d\u00b9\u207e", "data -2.0000"],
        "x0\u207d\u00b2\u207e": ["x0\u207d\u00b2\u207e", "data 0.5000"],
        "x1\u207d\u00b2\u207e": ["x1\u207d\u00b2\u207e", "data 3.0000"],
    }


def test_inputs_given_as_values_keep_their_labels():
    model = MLP(2, [3, 1], seed=0)
    xs = [Value(0.5, label="height"), Value(-1.0, label="weight")]
    svg = svg_of(draw_dot(model(xs), model=model))
    names = set(by_name(svg))
    assert {"height", "weight"} <= names and not {"x0", "x1"} & names


def test_many_connections_between_wide_layers_go_through_one_bus():
    loss, model = mlp_loss(sizes=(16, 16, 1))
    svg = svg_of(draw_dot(loss, model=model, collapse=True))
    nodes = groups(svg, "node")
    (bus,) = [gid for gid in nodes if gid.startswith("bus")]
    assert texts(nodes[bus]) == ["all 16 \u2192 all 16"]
    edges = [ends(e) for e in groups(svg, "edge").values()]
    assert sum(1 for _, head in edges if head == bus) == 16  # every first-layer output in
    assert sum(1 for tail, _ in edges if tail == bus) == 16  # one edge to each second-layer neuron
    # without the bus: 16 * 16 = 256 edges between the two layers; with it 32, plus the inputs'
    # 2 * 16, the 16 into the output neuron, and the loss's 8 (into and out of -, ** and the sum)
    assert len(edges) == 32 + 32 + 16 + 8
    small = svg_of(draw_dot(mlp_loss()[0], collapse=True))
    assert not [gid for gid in groups(small, "node") if gid.startswith("bus")]  # 4 x 4 edges: drawn
