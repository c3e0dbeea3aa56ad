"""Seed 004: dE/dw31 in a 2-4-3-2 sigmoid network, as a product of three factors, each checked.

Layers: inputs a1 a2, hidden layer b (4 units), hidden layer c (3 units), output layer d (2 units);
every unit computes out = sig(net) with net = sum of weight * out of the layer below (no biases,
as in the seed). The cost is E_total = sum 1/2 (target - out)^2 = E_d1 + E_d2. The weight w31
connects c1 to d1, so only E_d1 depends on it:

    dE_total/dw31 = dE_total/dout_d1 * dout_d1/dnet_d1 * dnet_d1/dw31
                  = -(target_d1 - out_d1) * out_d1 (1 - out_d1) * out_c1

Autograd checks each factor separately: the first is the gradient it leaves in out_d1, the second
and third are the local derivatives of the sig and the net node, and the product is w31's gradient.
"""

from __future__ import annotations

import math
from pathlib import Path

from common import agree, draw, heading, lesson, run

from micrograd import Value, grad, linear
from micrograd.data import make_rng
from micrograd.explain import explain

INPUTS = [0.05, 0.10]  # a1, a2
TARGETS = [0.01, 0.99]  # for d1, d2
LAYERS = {"b": 4, "c": 3, "d": 2}


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def initial_weights(seed: int = 4) -> dict[str, list[list[float]]]:
    """weights[layer][unit][source]: into each unit of a layer from every unit of the layer below."""
    rng = make_rng(seed)
    sizes = [len(INPUTS), *LAYERS.values()]
    return {
        name: [[rng.uniform(-1, 1) for _ in range(sizes[n])] for _ in range(sizes[n + 1])]
        for n, name in enumerate(LAYERS)
    }


def forward_by_hand(weights: dict[str, list[list[float]]]) -> dict[str, list[float]]:
    """Each layer's outputs in floats: out["c"][0] is out_c1."""
    out = {"a": list(INPUTS)}
    below = "a"
    for name in LAYERS:
        out[name] = [sig(sum(w * o for w, o in zip(row, out[below]))) for row in weights[name]]
        below = name
    return out


def weight_name(below: str, source: int, layer: str, unit: int) -> str:
    """w31 for the seed's weight from c1 to d1; the others by their two ends, e.g. w(b2,c3)."""
    if (below, source, layer, unit) == ("c", 0, "d", 0):
        return "w31"
    return f"w({below}{source + 1},{layer}{unit + 1})"


def build(weights: dict[str, list[list[float]]]):
    """The network as a graph, with nodes named as in the seed (a1, net_d1, out_d1, target_d1, E_d1, ...)."""
    values = {}
    for (name, rows), below in zip(weights.items(), ["a", *LAYERS]):
        values[name] = [
            [Value(w, label=weight_name(below, s, name, u)) for s, w in enumerate(row)]
            for u, row in enumerate(rows)
        ]
    out: dict[str, list] = {"a": [Value(a, label=f"a{i + 1}") for i, a in enumerate(INPUTS)]}
    net: dict[str, list[Value]] = {}
    below = "a"
    for name in LAYERS:
        net[name], out[name] = [], []
        for u, row in enumerate(values[name]):
            net[name].append(linear(row, out[below]))
            net[name][-1].label = f"net_{name}{u + 1}"
            out[name].append(net[name][-1].sigmoid())
            out[name][-1].label = f"out_{name}{u + 1}"
        below = name
    errors = []
    for u, target in enumerate(TARGETS):
        errors.append(0.5 * (Value(target, label=f"target_d{u + 1}") - out["d"][u]) ** 2)
        errors[-1].label = f"E_d{u + 1}"
    E = errors[0] + errors[1]
    E.label = "E_total"
    return E, errors, values, net, out


def main(out_dir: Path) -> list[Path]:
    weights = initial_weights()
    o = forward_by_hand(weights)
    out_d1, out_c1, target_d1 = o["d"][0], o["c"][0], TARGETS[0]
    factor1 = -(target_d1 - out_d1)  # dE_total/dout_d1
    factor2 = out_d1 * (1 - out_d1)  # dout_d1/dnet_d1, the sigmoid's derivative
    factor3 = out_c1  # dnet_d1/dw31

    E, errors, values, net, out = build(weights)
    E.backward()
    w31, net_d1, node_out_d1 = values["d"][0][0], net["d"][0], out["d"][0]
    E_hand = sum(0.5 * (t - y) ** 2 for t, y in zip(TARGETS, o["d"]))
    agree("E_total = sum 1/2 (target - out)^2", E_hand, E.data)

    heading("dE_total/dw31 = dE_total/dout_d1 * dout_d1/dnet_d1 * dnet_d1/dw31")
    agree("dE_total/dout_d1 = -(target - out_d1)", factor1, node_out_d1.grad)
    agree("dout_d1/dnet_d1 = out_d1 (1 - out_d1)", factor2, node_out_d1.local_grads()[0])
    agree("dnet_d1/dw31 = out_c1", factor3, net_d1.local_grads()[net_d1.operands().index(w31)])
    agree("the product: dE_total/dw31", factor1 * factor2 * factor3, w31.grad)

    heading("only E_d1 contains w31")
    (d_E_d1,) = grad(errors[0], [w31])
    (d_E_d2,) = grad(errors[1], [w31])
    agree("dE_d1/dw31 = dE_total/dw31", factor1 * factor2 * factor3, d_E_d1)
    agree("dE_d2/dw31 = 0", 0.0, d_E_d2)

    heading("the same three factors as explain writes them: out_d1's step, then net_d1's delta rule for w31")
    explanation = explain(E)
    lesson(explanation, "out_d1", "net_d1")
    agree("dE_total/dw31 as explain adds it up", factor1 * factor2 * factor3,
          explanation.grads_after(len(explanation))[w31])

    # The picture marks every path from w31 to E_total, what the chain rule multiplies along:
    # through net_d1, out_d1 and E_d1 only (E_d2 does not contain w31).
    params = [w for rows in values.values() for row in rows for w in row]
    return [draw(E, out_dir / "004_sigmoid_chain.svg", params=params, path_from=w31)]


if __name__ == "__main__":
    run(main, __doc__)
