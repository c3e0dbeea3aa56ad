"""Seed 002: the last layer's delta for a tanh output with e = (x - y)^2, then one layer further back.

Notation of the seed: layer l has signals s_j^(l) = sum_i w_ij^(l) x_i^(l-1) and outputs
x_j^(l) = theta(s_j^(l)) with theta = tanh, so theta'(s) = 1 - theta(s)^2 (x_0 = 1 carries the
bias). The network here: 2 inputs, a hidden layer l = 1 of 3 tanh units, one tanh output at L = 2.

    de/dw_ij^(l) = de/ds_j^(l) * ds_j^(l)/dw_ij^(l) = delta_j^(l) * x_i^(l-1)

    last layer:    delta_1^(L) = d(theta(s_1^(L)) - y)^2 / ds_1^(L)
                               = 2 (x_1^(L) - y) theta'(s_1^(L)) = 2 (x_1^(L) - y) (1 - (x_1^(L))^2)
    one back:      delta_j^(L-1) = de/ds_1^(L) * ds_1^(L)/dx_j^(L-1) * dx_j^(L-1)/ds_j^(L-1)
                                 = delta_1^(L) * w_j1^(L) * (1 - (x_j^(L-1))^2)

Each delta is the gradient autograd leaves in the signal node s_j^(l).
"""

from __future__ import annotations

import math
from pathlib import Path

from common import agree, draw, heading, lesson, run

from micrograd import Value, linear
from micrograd.data import make_rng
from micrograd.explain import explain

X0 = [0.8, -0.4]  # x^(0), the input
Y = 0.25  # the target y_n
HIDDEN = 3


def initial_weights(seed: int = 2) -> tuple[list[list[float]], list[float]]:
    """w1[j][i]: x_i^(0) -> s_j^(1) (i = 0 is the bias), and w2[j]: x_j^(1) -> s_1^(2)."""
    rng = make_rng(seed)
    w1 = [[rng.uniform(-1, 1) for _ in range(1 + len(X0))] for _ in range(HIDDEN)]
    w2 = [rng.uniform(-1, 1) for _ in range(1 + HIDDEN)]
    return w1, w2


def by_hand(w1, w2):
    x0 = [1.0, *X0]
    x1 = [1.0, *(math.tanh(sum(w * x for w, x in zip(row, x0))) for row in w1)]
    x2 = math.tanh(sum(w * x for w, x in zip(w2, x1)))
    e = (x2 - Y) ** 2
    delta2 = 2 * (x2 - Y) * (1 - x2**2)
    delta1 = [delta2 * w2[j] * (1 - x1[j] ** 2) for j in range(1, 1 + HIDDEN)]
    return e, x0, x1, delta2, delta1


def build(w1, w2):
    w1v = [[Value(w, label=f"w{i}{j + 1}^(1)") for i, w in enumerate(row)] for j, row in enumerate(w1)]
    w2v = [Value(w, label=f"w{j}1^(2)") for j, w in enumerate(w2)]
    x0 = [Value(x, label=f"x{i + 1}^(0)") for i, x in enumerate(X0)]
    s1, x1 = [], []
    for j, row in enumerate(w1v):
        s1.append(linear(row[1:], x0, bias=row[0]))
        s1[-1].label = f"s{j + 1}^(1)"
        x1.append(s1[-1].tanh())
        x1[-1].label = f"x{j + 1}^(1)"
    s2 = linear(w2v[1:], x1, bias=w2v[0])
    s2.label = "s1^(2)"
    x2 = s2.tanh()
    x2.label = "x1^(2)"
    e = (x2 - Value(Y, label="y_n")) ** 2
    e.label = "e"
    return e, w1v, w2v, s1, s2


def main(out_dir: Path) -> list[Path]:
    w1, w2 = initial_weights()
    e_hand, x0, x1, delta2, delta1 = by_hand(w1, w2)
    e, w1v, w2v, s1, s2 = build(w1, w2)
    e.backward()
    agree("e = (x_1^(L) - y)^2", e_hand, e.data)

    heading("last layer: delta_1^(L) = 2 (x - y)(1 - x^2)")
    agree("delta_1^(2) = de/ds_1^(2)", delta2, s2.grad)
    for i, w in enumerate(w2v):
        agree(f"de/dw_{i}1^(2) = x_{i}^(1) delta_1^(2)", x1[i] * delta2, w.grad)

    heading("one layer back: delta_j^(L-1) = delta_1^(L) w_j1^(L) (1 - (x_j^(L-1))^2)")
    for j, s in enumerate(s1):
        agree(f"delta_{j + 1}^(1) = de/ds_{j + 1}^(1)", delta1[j], s.grad)
    for j, row in enumerate(w1v):
        for i, w in enumerate(row):
            agree(f"de/dw_{i}{j + 1}^(1) = x_{i}^(0) delta_{j + 1}^(1)", x0[i] * delta1[j], w.grad)

    heading("the same by explain: e, then theta = tanh, then the signal's delta rule")
    explanation = explain(e)
    lesson(explanation, "e", "x1^(2)", "s1^(2)")
    agree("delta_1^(2) as explain adds it up", delta2, explanation.grads_after(len(explanation))[s2])

    params = [w for row in w1v for w in row] + w2v
    return [draw(e, out_dir / "002_tanh_output_delta.svg", params=params)]


if __name__ == "__main__":
    run(main, __doc__)
