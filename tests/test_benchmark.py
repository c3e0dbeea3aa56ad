"""The benchmark runs (tiny sizes), and every contender it times takes the same step as PyTorch."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

BENCHMARK = Path(__file__).resolve().parent.parent / "demos" / "benchmark.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchmark"] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def torch_losses(bench, shape, steps):
    """The losses of ``steps`` SGD steps written here in torch (float64): the oracle for every contender."""
    params = []
    for W, b in shape.weights():
        params += [torch.tensor(W, dtype=torch.float64, requires_grad=True),
                   torch.tensor(b, dtype=torch.float64, requires_grad=True)]
    X = torch.tensor(shape.X, dtype=torch.float64)
    losses = []
    for k in range(steps):
        a = X
        for i in range(0, len(params), 2):
            a = a @ params[i].T + params[i + 1]
            a = torch.relu(a) if i < len(params) - 2 else a
        if shape.loss == "hinge":
            y = torch.tensor(shape.labels, dtype=torch.float64)
            data_loss = torch.clamp(1 - y * a[:, 0], min=0).mean()
        else:
            data_loss = torch.nn.functional.cross_entropy(a, torch.tensor(shape.labels))
        loss = data_loss + bench.ALPHA * sum((p * p).sum() for p in params)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= shape.lr(k) * g
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("name", ["moons", "digits", "wide"])
def test_every_contender_takes_the_same_steps_as_torch(name):
    bench = load_benchmark()
    shape = next(s for s in bench.shapes(quick=True) if s.name == name)
    bench.add_contenders(shape)
    expected = torch_losses(bench, shape, steps=4)
    names = {c.name for c in shape.contenders}
    assert {bench.COMPILED, bench.NUMPY, bench.TORCH} <= names
    if name == "moons":
        assert {bench.ENGINE, bench.UNFUSED, bench.HAND, bench.VIA_VALUES} <= names
    for contender in shape.contenders:
        contender.reset()
        losses = [contender.step(k) for k in range(4)]
        contender.reset()  # a reset really starts again
        assert contender.step(0) == losses[0], contender.name
        for k, (ours, theirs) in enumerate(zip(losses, expected)):
            assert abs(ours - theirs) <= 1e-12 * max(1.0, abs(theirs)), (contender.name, k, ours, theirs)


def test_benchmark_quick_run_prints_every_row_and_every_target():
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--quick"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    bench = load_benchmark()
    for row in (bench.ENGINE, bench.UNFUSED, bench.HAND, bench.COMPILED, bench.VIA_VALUES, bench.TORCH,
                bench.NUMPY, "moons step:", "digits step:", "wide step:", "bytes per elementary node",
                "per-node time ratio", "s per 100k nodes", "peak bytes per node", "us per w*x",
                "digits step: compiled / PyTorch vectorized", "moons step: compiled / PyTorch vectorized",
                "digits step: compiled / hand-written numpy", "moons step: compiled / hand-written numpy",
                "demos/digits.py: 20 training steps, CPU seconds", "demos/digits.py: held-out accuracy",
                "moons step: eager engine / hand-written pure Python"):
        assert row in result.stdout, row
