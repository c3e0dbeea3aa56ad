"""The classic moons classifier: MLP(2, [16, 16, 1]) trained with the hand-written loop, then its
decision boundary.

100 moons points with noise 0.1; the loss is the max-margin hinge loss mean(relu(1 - y * score))
plus the L2 penalty 1e-4 * sum p^2; SGD with the learning rate decaying linearly from 1.0 to 0.1
over 100 full-batch steps. Each step is the loop every framework hides:

    loss = hinge(scores, labels) + l2(params)     # forward: one graph for the whole batch
    model.zero_grad(); loss.backward()            # backward: d loss / d p into every p.grad
    p.data -= lr * p.grad                         # the update

The run must reach 100% training accuracy. Also drawn: the graph of the trained network on one
point, one box per neuron.
"""

from __future__ import annotations

from pathlib import Path

from common import draw, heading, require, run

from micrograd.data import make_moons
from micrograd.losses import hinge, l2
from micrograd.nn import MLP
from micrograd.plots import decision_boundary, loss_curve
from micrograd.training import History, accuracy

STEPS = 100
ALPHA = 1e-4
SEED = 1


def main(out_dir: Path) -> list[Path]:
    X, y = make_moons(100, noise=0.1, seed=SEED)
    labels = [2 * label - 1 for label in y]  # classes 0/1 as -1/+1 for the hinge loss
    model = MLP(2, [16, 16, 1], seed=SEED)
    params = model.parameters()
    print(f"{model.__class__.__name__} 2-16-16-1 with {len(params)} parameters, {len(X)} points")

    heading(f"training: {STEPS} steps of hinge + L2, lr 1.0 -> 0.1")
    history = History()
    for k in range(STEPS):
        scores = [model(x) for x in X]
        loss = hinge(scores, labels) + l2(params, ALPHA)
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * k / STEPS
        for p in params:
            p.data -= lr * p.grad
        hits = sum((s.data > 0) == (t > 0) for s, t in zip(scores, labels))
        history.loss.append(loss.data)
        history.accuracy.append(hits / len(X))
        if k % 10 == 0 or k == STEPS - 1:
            print(f"  step {k:3d}  loss {loss.data:.4f}  accuracy {hits / len(X):.0%}")
    final = accuracy(model, X, y)
    print(f"training accuracy after {STEPS} steps: {final:.0%}")
    require(final == 1.0, f"the classic moons run should separate the training set, got {final:.0%}")

    written = [
        decision_boundary(
            model, X, y, out_dir / "moons_boundary.png", title="moons: MLP 2-16-16-1, hinge + L2"
        ),
        loss_curve(history, out_dir / "moons_loss.png", title="moons: hinge loss + L2"),
    ]
    for path in written:
        print(f"wrote {path}")
    out = model(X[0])
    out.backward()
    written.append(draw(out, out_dir / "moons_network.svg", model=model, collapse=True))
    return written


if __name__ == "__main__":
    run(main, __doc__)
