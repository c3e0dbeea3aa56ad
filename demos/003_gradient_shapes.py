"""Seed 003: in a 2-3-2 network, each weight gradient has the shape of its weight matrix.

The seed stores weights with rows = the layer a connection comes from, columns = the layer it goes
to: W_ij (2x3) from the 2 inputs to the 3 hidden units, W_jk (3x2) from the hidden units to the 2
outputs. Hidden units are h_j = g(net_j) with net_j = sum_i x_i W_ij and g = tanh; the last layer
is linear, out_k = sum_j h_j W_jk; the error is E = 1/2 sum_k (out_k - t_k)^2.

The seed's first attempt, W_jk * g'(W_ij x) * x * err, multiplies shapes into a 2x1 and cannot be
a 2x3 update. The shapes come out right as outer products:

    incoming gradient at the outputs   d_k = dE/dout_k = out_k - t_k            (a 2-vector)
    section A:  dE/dW_jk = h_j d_k     (3x2: d copied into every row, column k times h)
    section B:  dE/dh_j  = sum_k W_jk d_k                 (W_jk . d, a 3-vector)
                dE/dnet_j = dE/dh_j * g'(net_j) = dE/dh_j (1 - h_j^2)    (through the activation)
                dE/dW_ij = x_i dE/dnet_j    (2x3: the outer product of x and dE/dnet)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from common import agree, draw, heading, lesson, require, run

from micrograd import Value, linear
from micrograd.data import make_rng
from micrograd.explain import explain
from micrograd.losses import mse

LR = 0.1  # the learning rate the answer says not to forget
X = [0.6, -0.3]
T = [0.5, -0.1]
N_IN, N_HIDDEN, N_OUT = 2, 3, 2


def initial_weights(seed: int = 3) -> tuple[list[list[float]], list[list[float]]]:
    rng = make_rng(seed)
    W_ij = [[rng.uniform(-1, 1) for _ in range(N_HIDDEN)] for _ in range(N_IN)]
    W_jk = [[rng.uniform(-1, 1) for _ in range(N_OUT)] for _ in range(N_HIDDEN)]
    return W_ij, W_jk


def shape(m: Sequence[Sequence[object]]) -> str:
    return f"{len(m)}x{len(m[0])}"


def show(m: Sequence[Sequence[float]]) -> str:
    return "\n".join("      [" + "  ".join(f"{v:+.6f}" for v in row) + "]" for row in m)


def by_hand(W_ij, W_jk):
    net = [sum(X[i] * W_ij[i][j] for i in range(N_IN)) for j in range(N_HIDDEN)]
    h = [math.tanh(n) for n in net]
    out = [sum(h[j] * W_jk[j][k] for j in range(N_HIDDEN)) for k in range(N_OUT)]
    d = [out[k] - T[k] for k in range(N_OUT)]
    grad_W_jk = [[h[j] * d[k] for k in range(N_OUT)] for j in range(N_HIDDEN)]  # section A
    grad_h = [sum(W_jk[j][k] * d[k] for k in range(N_OUT)) for j in range(N_HIDDEN)]  # section B
    grad_net = [grad_h[j] * (1 - h[j] ** 2) for j in range(N_HIDDEN)]
    grad_W_ij = [[X[i] * grad_net[j] for j in range(N_HIDDEN)] for i in range(N_IN)]
    return d, grad_W_jk, grad_h, grad_net, grad_W_ij


def build(W_ij, W_jk):
    Wij = [[Value(w, label=f"W_ij[{i}][{j}]") for j, w in enumerate(row)] for i, row in enumerate(W_ij)]
    Wjk = [[Value(w, label=f"W_jk[{j}][{k}]") for k, w in enumerate(row)] for j, row in enumerate(W_jk)]
    x = [Value(xi, label=f"x{i}") for i, xi in enumerate(X)]
    net, h = [], []
    for j in range(N_HIDDEN):
        net.append(linear([Wij[i][j] for i in range(N_IN)], x))  # column j of W_ij feeds hidden unit j
        net[-1].label = f"net{j}"
        h.append(net[-1].tanh())
        h[-1].label = f"h{j}"
    out = []
    for k in range(N_OUT):
        out.append(linear([Wjk[j][k] for j in range(N_HIDDEN)], h))
        out[-1].label = f"out{k}"
    E = mse(out, [Value(t, label=f"t{k}") for k, t in enumerate(T)], reduction="half_sum")
    E.label = "E"
    return E, Wij, Wjk, net, h, out


def agree_matrix(name: str, by_hand: list[list[float]], weights: list[list[Value]]) -> None:
    autograd = [[w.grad for w in row] for row in weights]
    print(
        f"  {name}: weights {shape(weights)}, gradient by hand {shape(by_hand)}, autograd {shape(autograd)}"
    )
    print(f"    by hand\n{show(by_hand)}\n    autograd\n{show(autograd)}")
    require(shape(by_hand) == shape(autograd) == shape(weights), f"{name}: the shapes differ")
    for r, row in enumerate(by_hand):
        for c, value in enumerate(row):
            agree(f"{name}[{r}][{c}]", value, autograd[r][c])


def main(out_dir: Path) -> list[Path]:
    W_ij, W_jk = initial_weights()
    d, grad_W_jk, grad_h, grad_net, grad_W_ij = by_hand(W_ij, W_jk)
    E, Wij, Wjk, net, h, out = build(W_ij, W_jk)
    E.backward()

    heading("the incoming gradient at the outputs: d_k = out_k - t_k (linear last layer)")
    for k in range(N_OUT):
        agree(f"d_{k} = dE/dout_{k}", d[k], out[k].grad)

    heading("section A: dE/dW_jk = outer(h, d), the shape of W_jk")
    agree_matrix("dE/dW_jk", grad_W_jk, Wjk)

    heading("section B: dE/dh = W_jk . d (3 values), then through g' = 1 - h^2")
    for j in range(N_HIDDEN):
        agree(f"dE/dh_{j}", grad_h[j], h[j].grad)
    for j in range(N_HIDDEN):
        agree(f"dE/dnet_{j}", grad_net[j], net[j].grad)

    heading("and one layer down: dE/dW_ij = outer(x, dE/dnet), the shape of W_ij")
    agree_matrix("dE/dW_ij", grad_W_ij, Wij)

    heading(f"subtract the gradient matrix, times the learning rate {LR}: W_jk <- W_jk - lr dE/dW_jk")
    explanation = explain(E, lr=LR, params=[w for row in Wjk for w in row])
    lesson(explanation, "out0")
    new = {update.param: update.new for update in explanation.updates}
    stepped = [[W_jk[j][k] - LR * grad_W_jk[j][k] for k in range(N_OUT)] for j in range(N_HIDDEN)]
    after = [[new[w] for w in row] for row in Wjk]
    print(f"  W_jk after the step (explain), {shape(after)} like W_jk:\n{show(after)}")
    for j in range(N_HIDDEN):
        agree(f"W_jk[{j}][0] after the step", stepped[j][0], new[Wjk[j][0]])

    params = [w for row in Wij + Wjk for w in row]
    return [draw(E, out_dir / "003_gradient_shapes.svg", params=params)]


if __name__ == "__main__":
    run(main, __doc__)
