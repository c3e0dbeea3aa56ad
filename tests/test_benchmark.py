"""The benchmark runs (tiny sizes), and its hand-written backprop is the same computation as the engine."""

import importlib.util
import subprocess
import sys
from pathlib import Path

from micrograd.data import make_moons
from micrograd.nn import MLP

BENCHMARK = Path(__file__).resolve().parent.parent / "demos" / "benchmark.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hand_written_backprop_matches_torch_on_the_moons_step():
    import torch

    bench = load_benchmark()
    X, labels = make_moons(30, noise=0.1, seed=0)
    y = [2 * label - 1 for label in labels]
    W, B = bench.weights_of(MLP(2, [16, 16, 1], seed=3))
    params = []
    for Wl, Bl in zip(W, B):
        params += [torch.tensor(Wl, requires_grad=True, dtype=torch.float64),
                   torch.tensor(Bl, requires_grad=True, dtype=torch.float64)]
    a = torch.tensor(X, dtype=torch.float64)
    for i in range(0, len(params), 2):
        a = a @ params[i].T + params[i + 1]
        if i < len(params) - 2:
            a = torch.relu(a)
    yt = torch.tensor(y, dtype=torch.float64)
    loss = torch.relu(1 - yt * a[:, 0]).mean() + bench.ALPHA * sum((p * p).sum() for p in params)
    loss.backward()

    ours = bench.hand_step(W, B, X, y, lr=0.5)  # returns the loss before the update
    assert abs(ours - loss.item()) < 1e-12
    for layer in range(len(W)):
        expected_w = params[2 * layer] - 0.5 * params[2 * layer].grad
        expected_b = params[2 * layer + 1] - 0.5 * params[2 * layer + 1].grad
        assert torch.allclose(torch.tensor(W[layer], dtype=torch.float64), expected_w, rtol=0, atol=1e-12)
        assert torch.allclose(torch.tensor(B[layer], dtype=torch.float64), expected_b, rtol=0, atol=1e-12)


def test_benchmark_quick_run_prints_every_row():
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    for row in ("engine, fused", "engine, unfused", "hand-written backprop", "compiled (numpy)",
                "PyTorch vectorized, 1 thread", "bytes per elementary node", "per-node time ratio"):
        assert row in result.stdout, row
