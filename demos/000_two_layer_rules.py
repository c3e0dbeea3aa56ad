"""Seed 000: the learning rules of a fully connected 2-layer network, derived by hand and checked by autograd.

The network: inputs x_i, hidden outputs y_j = theta(net_j) with net_j = sum_i w_ji x_i, and a
linear output layer z_k = sum_j w_kj y_j (x_0 = y_0 = 1 carry the biases, so the sums start at 0).
The error of one pattern is J = 1/2 sum_k (t_k - z_k)^2. The chain rule gives

    hidden-to-output:  dJ/dw_kj = dJ/dz_k * dz_k/dw_kj = -(t_k - z_k) * y_j
    input-to-hidden:   dJ/dw_ji = sum_k dJ/dz_k * dz_k/dy_j * dy_j/dnet_j * dnet_j/dw_ji
                                = -[sum_k (t_k - z_k) w_kj] * theta'(net_j) * x_i

(y_j does not depend on w_kj, which is what makes the first rule so short), and SGD moves each
weight against its gradient: w <- w - eta * dJ/dw, i.e. w_kj <- w_kj + eta (t_k - z_k) y_j.
Both rules are checked for theta = tanh (theta' = 1 - y^2) and theta = sigmoid (theta' = y (1 - y)).
"""

from __future__ import annotations

import math
from pathlib import Path

from common import agree, draw, heading, lesson, require, run

from micrograd import Value, linear
from micrograd.data import make_rng
from micrograd.explain import explain
from micrograd.losses import mse

X = [0.5, -1.0]  # d0 = 2 inputs
T = [0.3, -0.2]  # d2 = 2 targets
HIDDEN = 3  # d1
ETA = 0.1

# theta as a float function, and theta' written with the unit's output y, as the derivation uses it
ACTIVATIONS = {
    "tanh": (math.tanh, lambda y: 1.0 - y * y, Value.tanh),
    "sigmoid": (lambda s: 1.0 / (1.0 + math.exp(-s)), lambda y: y * (1.0 - y), Value.sigmoid),
}


def initial_weights(seed: int = 0) -> tuple[list[list[float]], list[list[float]]]:
    """w_ji (HIDDEN rows of 1 + d0) and w_kj (d2 rows of 1 + HIDDEN); column 0 is the bias weight."""
    rng = make_rng(seed)
    w_hidden = [[rng.uniform(-1, 1) for _ in range(1 + len(X))] for _ in range(HIDDEN)]
    w_out = [[rng.uniform(-1, 1) for _ in range(1 + HIDDEN)] for _ in range(len(T))]
    return w_hidden, w_out


def by_hand(theta, theta_prime, w_hidden, w_out):
    """The forward pass in floats and both learning rules, exactly as derived above."""
    x = [1.0, *X]
    net = [sum(w * xi for w, xi in zip(row, x)) for row in w_hidden]
    y = [1.0, *(theta(n) for n in net)]
    z = [sum(w * yj for w, yj in zip(row, y)) for row in w_out]
    error = [t - zk for t, zk in zip(T, z)]  # t_k - z_k
    d_out = [[-error[k] * y[j] for j in range(len(y))] for k in range(len(z))]
    # back through w_kj to hidden unit j (its y_j is y[j + 1], after y_0 = 1)
    back = [sum(error[k] * w_out[k][j + 1] for k in range(len(z))) for j in range(HIDDEN)]
    d_hidden = [[-back[j] * theta_prime(y[j + 1]) * x[i] for i in range(len(x))] for j in range(HIDDEN)]
    J = 0.5 * sum(e * e for e in error)
    return J, d_out, d_hidden


def build(activation, w_hidden, w_out):
    """The same network as a graph: each weighted sum is one `linear` node, J = mse(half_sum)."""
    wh = [[Value(w, label=f"w¹_{j + 1}{i}") for i, w in enumerate(row)] for j, row in enumerate(w_hidden)]
    wo = [[Value(w, label=f"w²_{k + 1}{j}") for j, w in enumerate(row)] for k, row in enumerate(w_out)]
    x = [Value(xi, label=f"x{i + 1}") for i, xi in enumerate(X)]  # x_0 = 1 carries the bias w_j0
    y = []
    for j, row in enumerate(wh):
        net = linear(row[1:], x, bias=row[0])
        net.label = f"net{j + 1}"
        y.append(activation(net))
        y[-1].label = f"y{j + 1}"
    z = []
    for k, row in enumerate(wo):
        z.append(linear(row[1:], y, bias=row[0]))
        z[-1].label = f"z{k + 1}"
    J = mse(z, [Value(t, label=f"t{k + 1}") for k, t in enumerate(T)], reduction="half_sum")
    J.label = "J"
    return J, wh, wo


def main(out_dir: Path) -> list[Path]:
    w_hidden, w_out = initial_weights()
    written = []
    for name, (theta, theta_prime, activation) in ACTIVATIONS.items():
        heading(f"theta = {name}")
        J_hand, d_out, d_hidden = by_hand(theta, theta_prime, w_hidden, w_out)
        J, wh, wo = build(activation, w_hidden, w_out)
        J.backward()
        agree("J = 1/2 sum_k (t_k - z_k)^2", J_hand, J.data)
        print("hidden-to-output rule  dJ/dw_kj = -(t_k - z_k) y_j   (w_k0 multiplies y_0 = 1)")
        for k, row in enumerate(wo):
            for j, w in enumerate(row):
                agree(f"dJ/dw²_{k + 1}{j}", d_out[k][j], w.grad)
        print("input-to-hidden rule  dJ/dw_ji = -[sum_k (t_k - z_k) w_kj] theta'(net_j) x_i")
        for j, row in enumerate(wh):
            for i, w in enumerate(row):
                agree(f"dJ/dw¹_{j + 1}{i}", d_hidden[j][i], w.grad)

        # One SGD step with the hand rules; the error of this pattern must go down.
        stepped_hidden = [[w - ETA * g for w, g in zip(ws, gs)] for ws, gs in zip(w_hidden, d_hidden)]
        stepped_out = [[w - ETA * g for w, g in zip(ws, gs)] for ws, gs in zip(w_out, d_out)]
        J_after, _, _ = by_hand(theta, theta_prime, stepped_hidden, stepped_out)
        print(f"one SGD step, eta = {ETA}: w <- w - eta dJ/dw takes J from {J_hand:.6f} to {J_after:.6f}")
        require(J_after < J_hand, "a small step against the gradient must lower J")

        params = [w for row in wh + wo for w in row]
        heading(f"the same by explain: z1's step is the hidden-to-output rule, then SGD with eta = {ETA}")
        print("The question says 'adding to the weights the gradient'; the update says why it is minus.")
        explanation = explain(J, lr=ETA, params=params)
        lesson(explanation, "z1")
        new = {update.param: update.new for update in explanation.updates}
        for k, row in enumerate(wo):
            agree(f"w²_{k + 1}0 after the step (explain)", stepped_out[k][0], new[row[0]])
        agree("w¹_11 after the step (explain)", stepped_hidden[0][1], new[wh[0][1]])
        written.append(draw(J, out_dir / f"000_two_layer_{name}.svg", params=params))
    return written


if __name__ == "__main__":
    run(main, __doc__)
