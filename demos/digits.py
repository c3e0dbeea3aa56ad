"""Handwritten digits: an MLP 64-32-10 trained on scikit-learn's 8x8 digits with a compiled step.

The scalar engine records the loss of one minibatch of 64 images once (about 7,000 op nodes that
read 318,000 operands), and ``micrograd.compile`` replays that graph with numpy at every step, in 15
array steps: each layer's 64 x 32 (or 64 x 10) neuron nodes run as one matrix product, every other
op of one depth as one array operation, forward and then backward. Nothing about the model
changes: it is the same ``MLP``, its parameters updated by Adam as an array while it trains and
written back at the end, and it is evaluated eagerly.

The 1797 images are split 4/5 for training and 1/5 held out; the run must classify at least 95% of
the held-out images correctly. Also drawn: some held-out digits with their predicted labels, and the
graph of a tiny network on two points coloured by execution level (one colour and op: one array
operation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from common import heading, run

from micrograd.compile import draw_levels, fit_compiled, levels
from micrograd.data import load_digits, train_val_split
from micrograd.losses import hinge, l2
from micrograd.nn import MLP
from micrograd.plots import new_figure, save_figure
from micrograd.training import History, predict

HIDDEN = 32
STEPS = 1000
BATCH = 64
LR = 0.01
ALPHA = 1e-4
SEED = 0
TARGET = 0.95


def plot_digits(images: list[list[float]], labels: list[int], predicted: list[int], path: Path) -> Path:
    """A grid of 8x8 images titled with the predicted label (red where it is wrong)."""
    rows, cols = 4, 8
    figure = new_figure(cols * 1.1, rows * 1.3)
    for i, axes in enumerate(figure.subplots(rows, cols).flat):
        axes.imshow([images[i][r * 8 : r * 8 + 8] for r in range(8)], cmap="gray_r", vmin=0.0, vmax=1.0)
        wrong = predicted[i] != labels[i]
        title = f"{predicted[i]} (is {labels[i]})" if wrong else str(predicted[i])
        axes.set_title(title, color="#e03131" if wrong else "#343a40", fontsize=11)
        axes.set_axis_off()
    figure.suptitle("held-out digits, predicted label (red: wrong)")
    return save_figure(figure, path)


def level_picture(path: Path) -> Path:
    """A tiny MLP 2-3-1 on two points with hinge + L2, its nodes coloured by execution level."""
    model = MLP(2, [3, 1], seed=SEED)
    X, y = [[0.5, -1.0], [1.5, 0.25]], [1.0, -1.0]
    loss = hinge([model(x) for x in X], y) + l2(model.parameters(), ALPHA)
    depth = max(levels(loss).values())
    print(f"tiny network on 2 points: {depth} levels; same colour and op = one array operation")
    return draw_levels(loss, path, show_grad=False)


@dataclass
class Run:
    """A training run: the model, its History, the seconds fit_compiled took, the held-out images."""

    model: MLP
    history: History
    seconds: float  # wall clock
    cpu_seconds: float  # this thread's CPU time (what other jobs on the machine do not inflate)
    X_test: list[list[float]]
    y_test: list[int]
    predicted: list[int]

    @property
    def accuracy(self) -> float:
        return sum(p == t for p, t in zip(self.predicted, self.y_test)) / len(self.y_test)


def train(steps: int = STEPS, progress: bool = True) -> Run:
    """The demo's training run (also timed by demos/benchmark.py)."""
    X, y = load_digits(seed=SEED)
    X_train, y_train, X_test, y_test = train_val_split(X, y, val_fraction=0.2, seed=SEED)
    model = MLP(64, [HIDDEN, 10], init="kaiming", seed=SEED)
    if progress:
        print(
            f"MLP 64-{HIDDEN}-10 with {len(model.parameters())} parameters; "
            f"{len(X_train)} training images, {len(X_test)} held out"
        )
        heading(f"training, compiled: {steps} Adam steps on minibatches of {BATCH}, cross-entropy + L2")
    start, cpu = time.perf_counter(), time.thread_time()
    history = fit_compiled(
        model,
        X_train,
        y_train,
        loss="cross_entropy",
        optimizer="adam",
        lr=LR,
        steps=steps,
        batch_size=BATCH,
        alpha=ALPHA,
        seed=SEED,
        progress=progress,
    )
    seconds, cpu = time.perf_counter() - start, time.thread_time() - cpu
    return Run(model, history, seconds, cpu, X_test, y_test, predict(model, X_test))


def main(out_dir: Path) -> list[Path]:
    result = train()
    print(
        f"{STEPS} steps in {result.seconds:.2f} s ({1000 * result.seconds / STEPS:.2f} ms a step); "
        f"last loss {result.history.loss[-1]:.4f}"
    )
    X_test, y_test, predicted, test_accuracy = result.X_test, result.y_test, result.predicted, result.accuracy
    print(f"held-out accuracy: {test_accuracy:.1%} ({len(y_test)} images)")
    assert test_accuracy >= TARGET, (
        f"the digits MLP should reach {TARGET:.0%} held out, got {test_accuracy:.1%}"
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        plot_digits(X_test, y_test, predicted, out_dir / "digits_predictions.png"),
        level_picture(out_dir / "digits_levels.svg"),
    ]
    for path in written:
        print(f"wrote {path}")
    return written


if __name__ == "__main__":
    run(main, __doc__)
