"""Seed 001: the delta rule, derived by hand for output and hidden units, checked by autograd.

Units are numbered through the network: inputs 1-2, hidden 3-5, outputs 6-7, and unit 0 is
always on (o_0 = 1) so that w_0j is unit j's bias. Unit j receives I_j = sum_i w_ij o_i and sends
o_j = f(I_j) with the logistic f. The error of a pattern is E = 1/2 sum_j (t_j - o_j)^2.

    weight change     Delta w_ij = -eta dE/dw_ij = -eta dE/dI_j * dI_j/dw_ij = -eta delta_j o_i
    delta             delta_j = dE/dI_j = dE/do_j * f'(I_j),  f'(I_j) = o_j (1 - o_j)
    output unit       dE/do_j = -(t_j - o_j)                    -> delta_j = -(t_j - o_j) o_j (1 - o_j)
    hidden unit       dE/do_j = sum_k dE/dI_k dI_k/do_j = sum_k delta_k w_jk
                                                                -> delta_j = o_j (1 - o_j) sum_k delta_k w_jk

delta_j is exactly the gradient autograd leaves in unit j's I_j node. (The notes count delta with
the opposite sign, delta = -dE/dI, which is why their hidden-unit step speaks of "the negative of the
sum of the products of the deltas"; the weight change is the same either way.)
"""

from __future__ import annotations

import math
from pathlib import Path

from common import agree, draw, heading, lesson, require, run

from micrograd import Value, linear
from micrograd.data import make_rng
from micrograd.explain import explain
from micrograd.losses import mse

INPUTS = [1, 2]
HIDDEN = [3, 4, 5]
OUTPUTS = [6, 7]
PATTERN = {1: 0.35, 2: 0.9}  # o_i of the input units
TARGET = {6: 0.1, 7: 0.8}
ETA = 0.5


def f(net: float) -> float:
    return 1.0 / (1.0 + math.exp(-net))


def initial_weights(seed: int = 1) -> dict[tuple[int, int], float]:
    """w[(i, j)] on the connection from unit i to unit j (i = 0 is the bias unit)."""
    rng = make_rng(seed)
    w = {}
    for sources, targets in ((INPUTS, HIDDEN), (HIDDEN, OUTPUTS)):
        for j in targets:
            for i in [0, *sources]:
                w[(i, j)] = rng.uniform(-1, 1)
    return w


def by_hand(w: dict[tuple[int, int], float]) -> tuple[float, dict[int, float], dict[int, float]]:
    """Forward in floats, then the deltas from the output units back: (E, o, delta)."""
    o = {0: 1.0, **PATTERN}
    for units, sources in ((HIDDEN, INPUTS), (OUTPUTS, HIDDEN)):
        for j in units:
            o[j] = f(sum(w[(i, j)] * o[i] for i in [0, *sources]))
    delta = {}
    for j in OUTPUTS:
        delta[j] = -(TARGET[j] - o[j]) * o[j] * (1 - o[j])
    for j in HIDDEN:
        delta[j] = o[j] * (1 - o[j]) * sum(delta[k] * w[(j, k)] for k in OUTPUTS)
    E = 0.5 * sum((TARGET[j] - o[j]) ** 2 for j in OUTPUTS)
    return E, o, delta


def build(w: dict[tuple[int, int], float]):
    """The same network with the engine: one `linear` node I_j per unit, then o_j = sigmoid(I_j)."""
    weights = {key: Value(value, label=f"w{key[0]}{key[1]}") for key, value in w.items()}
    o: dict[int, Value] = {i: Value(value, label=f"o{i}") for i, value in PATTERN.items()}
    net = {}
    for units, sources in ((HIDDEN, INPUTS), (OUTPUTS, HIDDEN)):
        for j in units:
            net[j] = linear([weights[(i, j)] for i in sources], [o[i] for i in sources], bias=weights[(0, j)])
            net[j].label = f"I{j}"
            o[j] = net[j].sigmoid()
            o[j].label = f"o{j}"
    targets = [Value(TARGET[j], label=f"t{j}") for j in OUTPUTS]
    E = mse([o[j] for j in OUTPUTS], targets, reduction="half_sum")
    E.label = "E"
    return E, weights, net


def main(out_dir: Path) -> list[Path]:
    w = initial_weights()
    E_hand, o, delta = by_hand(w)
    E, weights, net = build(w)
    E.backward()
    agree("E = 1/2 sum_j (t_j - o_j)^2", E_hand, E.data)

    heading("delta of the output units: -(t_j - o_j) o_j (1 - o_j)")
    for j in OUTPUTS:
        agree(f"delta_{j} = dE/dI_{j}", delta[j], net[j].grad)
    heading("delta of the hidden units: o_j (1 - o_j) sum_k delta_k w_jk")
    for j in HIDDEN:
        agree(f"delta_{j} = dE/dI_{j}", delta[j], net[j].grad)

    heading(f"weight changes: Delta w_ij = -eta delta_j o_i  (eta = {ETA}, o_0 = 1)")
    for (i, j), weight in weights.items():
        agree(f"Delta w_{i}{j}", -ETA * delta[j] * o[i], -ETA * weight.grad)

    heading(f"the same by explain: output unit 6 and hidden unit 3, then Delta w = -eta dE/dw (eta = {ETA})")
    explanation = explain(E, lr=ETA, params=list(weights.values()))
    lesson(explanation, "o6", "I6", "o3", "I3")
    new = {update.param: update.new for update in explanation.updates}
    for key in ((3, 6), (0, 6), (1, 3)):
        i, j = key
        agree(f"Delta w_{i}{j} (explain's update)", -ETA * delta[j] * o[i], new[weights[key]] - w[key])

    stepped = {key: value - ETA * delta[key[1]] * o[key[0]] for key, value in w.items()}
    E_after, _, _ = by_hand(stepped)
    print(f"\nafter the weight changes the pattern's error goes from {E_hand:.6f} to {E_after:.6f}")
    require(E_after < E_hand, "a small step along -dE/dw must lower E")

    return [draw(E, out_dir / "001_delta_rule.svg", params=list(weights.values()))]


if __name__ == "__main__":
    run(main, __doc__)
