"""Every compiled op against torch in float64, directly: values and gradients.

compile runs the local-derivative formulas of the engine's rule table (``engine.RULES``) over numpy
arrays, so a compiled step compared with the eager engine agrees even when a formula is wrong in
both. Here the oracle is torch: each op's compiled loss and every parameter's gradient must equal
torch's for the same numbers. Only the public ``micrograd.compile.compile`` is used.

Each op is compiled in every position it can take: between two parameters, between a parameter and
an input (a placeholder of the traced batch), between a parameter and a constant, and inside a
chain (the op of ``p * z``). K nodes of one op sit at the same depth, so the compiled step runs them
as one array operation; every node's output is weighted by an input ``w``, so the gradient flowing
into the op is not 1. The step is traced at one set of numbers and then called at a second set, and
the parameters move between the calls: the replay must follow both, not the numbers of the trace.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch

from micrograd import Value, linear, maximum, minimum, total
from micrograd.compile import compile
from micrograd.nn import MLP, to_torch

K = 5  # nodes of one op in one layer
REL = 1e-12


@dataclass(frozen=True)
class OpCase:
    """An op as micrograd and torch write it, and where its operands may lie."""

    ours: Callable[..., object]
    torch: Callable[..., torch.Tensor]
    arity: int
    a: Callable[[random.Random], float]  # draws a valid first operand
    b: Callable[[random.Random], float] | None = None  # a valid second operand, given nothing of a
    apart: float = 0.0  # |a - b| at least this (max and min: no tie, where the derivative jumps)


def anywhere(rng):  # away from 0, where relu, abs and leaky_relu have a kink
    return rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 2.0)


def positive(rng):
    return rng.uniform(0.3, 2.5)


OPS = {
    "+": OpCase(lambda a, b: a + b, lambda a, b: a + b, 2, anywhere, anywhere),
    "-": OpCase(lambda a, b: a - b, lambda a, b: a - b, 2, anywhere, anywhere),
    "*": OpCase(lambda a, b: a * b, lambda a, b: a * b, 2, anywhere, anywhere),
    "/": OpCase(lambda a, b: a / b, lambda a, b: a / b, 2, anywhere, anywhere),
    # a ** n, n a number (the exponent is never a node): n = 3 and n = -1.5 on a positive base
    "**": OpCase(lambda a: a**3, lambda a: a**3, 1, anywhere),
    "** -1.5": OpCase(lambda a: a**-1.5, lambda a: a**-1.5, 1, positive),
    # a ** b, b a node: d/da = b a^(b-1), d/db = a^b log a
    "pow": OpCase(lambda a, b: a**b, lambda a, b: a**b, 2, positive, anywhere),
    "neg": OpCase(lambda a: -a, lambda a: -a, 1, anywhere),
    "exp": OpCase(lambda a: a.exp(), torch.exp, 1, anywhere),
    "log": OpCase(lambda a: a.log(), torch.log, 1, positive),
    "sqrt": OpCase(lambda a: a.sqrt(), torch.sqrt, 1, positive),
    "tanh": OpCase(lambda a: a.tanh(), torch.tanh, 1, anywhere),
    "sigmoid": OpCase(lambda a: a.sigmoid(), torch.sigmoid, 1, anywhere),
    "relu": OpCase(lambda a: a.relu(), torch.relu, 1, anywhere),
    "abs": OpCase(lambda a: abs(a), torch.abs, 1, anywhere),
    "sin": OpCase(lambda a: a.sin(), torch.sin, 1, anywhere),
    "cos": OpCase(lambda a: a.cos(), torch.cos, 1, anywhere),
    "leaky_relu": OpCase(
        lambda a: a.leaky_relu(), lambda a: torch.nn.functional.leaky_relu(a, 0.01), 1, anywhere
    ),
    "softplus": OpCase(lambda a: a.softplus(), torch.nn.functional.softplus, 1, anywhere),
    "max": OpCase(maximum, torch.maximum, 2, anywhere, anywhere, apart=0.1),
    "min": OpCase(minimum, torch.minimum, 2, anywhere, anywhere, apart=0.1),
}
# the n-ary ops, linear and sum, have tests of their own below
N_ARY = ("linear", "sum")


def draw(case: OpCase, rng: random.Random) -> tuple[float, float]:
    while True:
        a = case.a(rng)
        b = case.b(rng) if case.b is not None else 0.0
        if abs(a - b) >= case.apart:
            return a, b


def tensor(values, requires_grad=False) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad)


def assert_equal(got: float, want: float, what: str) -> None:
    assert abs(got - want) <= REL * max(1.0, abs(want)), f"{what}: compiled {got!r}, torch {want!r}"


# ---------------------------------------------------------------------------------------------
# Two operands in every position, one operand alone and in a chain


FORMS = {2: ["param, param", "param, input", "input, param", "param, constant", "constant, param"],
         1: ["param", "chain"]}  # fmt: skip
CASES = [(name, form) for name, case in OPS.items() for form in FORMS[case.arity]]


def numbers(case: OpCase, seed: int) -> dict[str, list[float]]:
    """The numbers of one call: the operands of each node, the weights w of their outputs."""
    rng = random.Random(seed)
    pairs = [draw(case, rng) for _ in range(K)]
    return {
        "a": [a for a, _ in pairs],
        "b": [b for _, b in pairs],
        "w": [rng.uniform(-2.0, 2.0) for _ in range(K)],
        # the chain's input z: p * z must lie where the op's operand may, so z > 0 keeps p's sign
        "z": [rng.uniform(0.5, 1.5) for _ in range(K)],
    }


def compiled_and_torch(name: str, form: str, calls: list[dict[str, list[float]]]):
    """Compile the op in ``form`` at the first numbers and call it at each; torch at the same numbers.

    Yields (compiled loss, torch loss, compiled gradients, torch gradients) per call.
    """
    case = OPS[name]
    chain = form == "chain"
    # each operand is a parameter (differentiated), an input of the batch, or a constant of the trace
    kinds = ["param"] if chain else form.split(", ")
    keys = ["a", "b"][: len(kinds)]
    trace = calls[0]
    params = {key: [Value(v) for v in trace[key]] for key, kind in zip(keys, kinds) if kind == "param"}

    def loss_fn(w, a, b, z):
        given = {"a": a, "b": b}
        outs = []
        for i in range(K):
            if chain:
                outs.append(case.ours(params["a"][i] * z[i]))
                continue
            operands = [
                params[key][i] if kind == "param" else given[key][i] if kind == "input" else trace[key][i]
                for key, kind in zip(keys, kinds)
            ]
            outs.append(case.ours(*operands))
        return total([out * wi for out, wi in zip(outs, w)])

    every_param = [p for key in keys if key in params for p in params[key]]
    step = compile(loss_fn, params=every_param, inputs=(trace["w"], trace["a"], trace["b"], trace["z"]))
    for n in calls:
        for key, values in params.items():
            for p, v, z in zip(values, n[key], n["z"]):
                p.data = v / z if chain else v  # the chain's operand p * z is then the drawn number
                p.grad = 0.0
        got = step(n["w"], n["a"], n["b"], n["z"])

        tensors = {key: tensor([p.data for p in values], True) for key, values in params.items()}
        if chain:
            out = case.torch(tensors["a"] * tensor(n["z"]))
        else:
            operands = [
                tensors[key] if kind == "param" else tensor(n[key] if kind == "input" else trace[key])
                for key, kind in zip(keys, kinds)
            ]
            out = case.torch(*operands)
        want = (out * tensor(n["w"])).sum()
        want.backward()
        want_grads = [g for key in keys if key in tensors for g in tensors[key].grad.tolist()]
        yield got, want.item(), [p.grad for p in every_param], want_grads


@pytest.mark.parametrize("name,form", CASES, ids=[f"{n} ({f})" for n, f in CASES])
def test_a_compiled_op_gives_torchs_value_and_gradients(name, form):
    seed = sum(map(ord, name + form))
    calls = [numbers(OPS[name], seed), numbers(OPS[name], seed + 1)]
    for k, (got, want, grads, want_grads) in enumerate(compiled_and_torch(name, form, calls)):
        assert_equal(got, want, f"call {k}: the loss")
        assert len(grads) == len(want_grads) > 0
        for i, (g, t) in enumerate(zip(grads, want_grads)):
            assert_equal(g, t, f"call {k}: d loss / d param {i}")


def test_every_op_of_the_rule_table_is_checked_here():
    # in a fresh interpreter: other tests add ops of their own with defop
    code = "import micrograd.engine as e; print(' '.join(sorted(e.RULES)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    checked = {name.split()[0] for name in OPS} | {"pow", *N_ARY}
    assert set(result.stdout.split()) == checked


# ---------------------------------------------------------------------------------------------
# The n-ary ops: a neuron's weighted sum as one node, and a sum of many terms


def test_compiled_linear_nodes_give_torchs_weighted_sums_and_gradients():
    # K neurons of 3 inputs: parameters as weights and bias, inputs as x; then the roles swapped
    rng = random.Random(11)
    W = [[Value(rng.uniform(-1, 1)) for _ in range(3)] for _ in range(K)]
    B = [Value(rng.uniform(-1, 1)) for _ in range(K)]
    S = [Value(rng.uniform(-1, 1)) for _ in range(3)]  # shared inputs of the second layer of nodes

    def loss_fn(X, U):
        first = [linear(W[i], X[i], B[i]) for i in range(K)]  # params . inputs + param
        second = [linear(U[i], S, 0.5) for i in range(K)]  # inputs . params + constant
        return total([f * f for f in first] + second)

    def batch(seed):
        r = random.Random(seed)
        return ([[r.uniform(-2, 2) for _ in range(3)] for _ in range(K)],
                [[r.uniform(-2, 2) for _ in range(3)] for _ in range(K)])  # fmt: skip

    params = [v for row in W for v in row] + B + S
    step = compile(loss_fn, params=params, inputs=batch(1))
    for seed in (1, 2):
        for p in params:
            p.data += 0.1 * seed  # the parameters move between calls
            p.grad = 0.0
        X, U = batch(seed)
        got = step(X, U)

        tW = tensor([[v.data for v in row] for row in W], True)
        tB = tensor([b.data for b in B], True)
        tS = tensor([s.data for s in S], True)
        tX, tU = tensor(X), tensor(U)
        want = (((tW * tX).sum(1) + tB) ** 2).sum() + (tU @ tS + 0.5).sum()
        want.backward()
        assert_equal(got, want.item(), "the loss")
        want_grads = [*tW.grad.flatten().tolist(), *tB.grad.tolist(), *tS.grad.tolist()]
        for i, (p, t) in enumerate(zip(params, want_grads)):
            assert_equal(p.grad, t, f"seed {seed}: d loss / d param {i}")


def test_a_compiled_sum_of_parameters_inputs_and_constants_gives_torchs_gradients():
    P = [Value(0.5 * i - 1.0) for i in range(K)]

    def loss_fn(x):
        # sums of many terms, each term weighted differently downstream: (sum_i p_i x_i + 2) * sum_j p_j
        weighted = total([p * xi for p, xi in zip(P, x)] + [2.0])
        plain = total([*P, x[0], -1.5])
        return weighted * plain

    step = compile(loss_fn, params=P, inputs=([1.0] * K,))
    x = [0.3, -1.2, 2.0, 0.7, -0.4]
    got = step(x)
    tP = tensor([p.data for p in P], True)
    tx = tensor(x)
    want = ((tP * tx).sum() + 2.0) * (tP.sum() + tx[0] - 1.5)
    want.backward()
    assert_equal(got, want.item(), "the loss")
    for i, (p, t) in enumerate(zip(P, tP.grad.tolist())):
        assert_equal(p.grad, t, f"d loss / d p{i}")


# ---------------------------------------------------------------------------------------------
# A whole network: nn's fused layers (a linear node and its activation per neuron), compiled


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
def test_a_compiled_mlp_loss_gives_torchs_loss_and_gradients(activation, fused):
    model = MLP(2, [4, 3, 2], activation=activation, seed=5, fused=fused)
    X = [[0.5, -1.0], [1.5, 0.25], [-0.75, 0.8], [0.1, 0.2]]
    T = [[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [-1.0, -1.0]]

    def loss_fn(X, T):
        # mean squared error of the two outputs, plus a tanh of the first output (another upstream)
        outs = [model(x) for x in X]
        terms = [(o - t) ** 2 for out, target in zip(outs, T) for o, t in zip(out, target)]
        return total(terms) * (1.0 / len(terms)) + total([out[0].tanh() for out in outs])

    step = compile(loss_fn, params=model.parameters(), inputs=(X, T))
    X2 = [[x0 * 0.9 + 0.1, x1 - 0.2] for x0, x1 in X]  # another batch of the same shape
    for batch in ((X, T), (X2, T)):
        model.zero_grad()
        got = step(*batch)
        seq = to_torch(model)
        out = seq(tensor(batch[0]))
        want = ((out - tensor(batch[1])) ** 2).mean() + torch.tanh(out[:, 0]).sum()
        want.backward()
        want_grads = [
            v
            for m in seq
            if isinstance(m, torch.nn.Linear)
            for row, b in zip(m.weight.grad, m.bias.grad)
            for v in [*row.tolist(), b.item()]
        ]
        assert_equal(got, want.item(), "the loss")
        grads = [p.grad for p in model.parameters()]
        assert len(grads) == len(want_grads)
        for i, (g, t) in enumerate(zip(grads, want_grads)):
            assert_equal(g, t, f"d loss / d parameter {i}")
        assert not math.isnan(got)
