"""Training loop and evaluation for classifiers: ``fit``, ``predict``, ``accuracy``.

A model with one output gives a score per sample (class 1 when the score is > 0); a model with k
outputs gives k logits (the class with the largest). Labels are class indices ``0 .. k-1``;
two-class labels may also be given as -1/+1.
"""

from __future__ import annotations

import gc
import math
import os
import sys
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

from tqdm import tqdm

from micrograd.data import as_list, batches, check_count, check_dataset, make_rng
from micrograd.engine import Value, no_grad
from micrograd.install import MissingPackage, require
from micrograd.losses import binary_cross_entropy, cross_entropy, hinge, l2, mse
from micrograd.nn import Module
from micrograd.optim import OPTIMIZERS, SGD, Optimizer, linear_decay

Output = Value | list[Value]
LossFn = Callable[[list[Output], Sequence[Any]], Value]


@dataclass
class History:
    """Per training step: the loss (data loss + L2), the batch accuracy, the learning rate used,
    and (with ``validation=``) the accuracy on the validation set after the step."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.loss)


# Training has diverged when the loss passes this many times its first value (or this many, when it
# started below 1): a step that large is the learning rate's doing, not a bad batch.
DIVERGENCE = 1e6


class TrainingDiverged(OverflowError):
    """The loss stopped being finite, or grew past ``DIVERGENCE`` times its start: the steps are too large.

    An OverflowError, so code that catches the engine's or the optimizer's overflow catches it too.

    ``step`` is the 1-based step at which training stopped (of ``steps``), ``reason`` what the loss
    did, ``lr`` the learning rate of the update before it (None at the first step) and ``history``
    every step taken, the losses up to that one included.
    """

    def __init__(self, step: int, steps: int, reason: str, lr: float | None, history: History) -> None:
        self.step, self.steps, self.reason, self.lr, self.history = step, steps, reason, lr, history
        with_lr = f" (learning rate {lr:g})" if lr is not None else ""
        super().__init__(
            f"training diverged at step {step} of {steps}{with_lr}: {reason}; lower the learning rate"
        )


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off inside the block, back as it was after.

    A training step builds a graph of thousands of nodes that lives until the step ends. Each
    automatic collection during the step traverses the graph and promotes it to older generations,
    and a full collection traverses every object of the process: in a small process that costs the
    eager engine a third of its step time (less after importing a big library such as torch, whose
    objects make full collections rarer). The graph holds no reference cycles, so reference counting
    frees it when the step ends; the collector, paused meanwhile, runs as usual after. ``fit`` runs
    each step inside this; wrap the step of a hand-written loop in it to get the same speed.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def class_indices(y: Sequence[object]) -> list[int]:
    """Class indices from labels: ints 0..k-1, or -1/+1 for two classes (-1 is class 0)."""
    if isinstance(y, (str, bytes)) or not isinstance(y, Sequence):
        raise TypeError(f"labels must be a list of ints, got {type(y).__name__}")
    for i, label in enumerate(y):
        if isinstance(label, bool) or not isinstance(label, Integral):
            raise TypeError(
                f"labels[{i}] is {type(label).__name__} {label!r}; labels must be ints (class indices)"
            )
    labels = [int(v) for v in y]  # type: ignore[call-overload]
    if set(labels) <= {-1, 1}:
        return [(v + 1) // 2 for v in labels]
    bad = next((v for v in labels if v < 0), None)
    if bad is not None:
        raise ValueError(
            f"label {bad!r} is negative; labels are class indices 0..k-1 (or -1/+1 for two classes)"
        )
    return labels


def _decide(out: Output) -> int:
    if isinstance(out, Value):
        return int(out.data > 0)
    return max(range(len(out)), key=lambda j: out[j].data)


def predict(model: Callable[[Any], Output], X: Sequence[Sequence[float]]) -> list[int]:
    """The predicted class of each sample (no graph is recorded)."""
    X = as_list(X)
    if isinstance(X, (str, bytes)) or not isinstance(X, Sequence):
        raise TypeError(f"predict takes a list of samples, got {type(X).__name__} {X!r}")
    if len(X) == 0:
        raise ValueError("predict got no samples (an empty list)")
    with no_grad():
        return [_decide(model(x)) for x in X]


def accuracy(model: Callable[[Any], Output], X: Sequence[Sequence[float]], y: Sequence[int]) -> float:
    """The fraction of samples whose predicted class is the label's."""
    X, y = as_list(X), as_list(y)
    check_dataset(X, y)
    return sum(p == c for p, c in zip(predict(model, X), class_indices(y))) / len(X)


# ------------------------------------------------------------------------------------------------
# Losses by name: each takes the model outputs and the class indices


def _scores(outs: list[Output], loss: str) -> list[Value]:
    if not all(isinstance(o, Value) for o in outs):
        raise ValueError(
            f"loss {loss!r} needs a model with ONE output (a score); for k classes use 'cross_entropy'"
        )
    return outs  # type: ignore[return-value]


def _two_classes(classes: list[int], loss: str) -> None:
    if any(c > 1 for c in classes):
        raise ValueError(
            f"loss {loss!r} is for two classes, but a label is {max(classes)}; use 'cross_entropy'"
        )


def _hinge(outs: list[Output], classes: list[int]) -> Value:
    _two_classes(classes, "hinge")
    return hinge(_scores(outs, "hinge"), [2 * c - 1 for c in classes])


def _bce(outs: list[Output], classes: list[int]) -> Value:
    _two_classes(classes, "bce")
    return binary_cross_entropy(_scores(outs, "bce"), [float(c) for c in classes])


def _mse(outs: list[Output], classes: list[int]) -> Value:
    if all(isinstance(o, Value) for o in outs):
        # one output: regress toward -1/+1, so the decision threshold is 0 as for the other losses
        _two_classes(classes, "mse")
        return mse(outs, [2.0 * c - 1.0 for c in classes])
    return mse(outs, [[float(j == c) for j in range(len(o))] for o, c in zip(outs, classes)])  # type: ignore[arg-type]


def _cross_entropy(outs: list[Output], classes: list[int]) -> Value:
    if any(isinstance(o, Value) for o in outs):
        raise ValueError("loss 'cross_entropy' needs a model with one output per class (k >= 2 logits)")
    return cross_entropy(outs, classes)  # type: ignore[arg-type]


LOSSES: dict[str, Callable[[list[Output], list[int]], Value]] = {
    "hinge": _hinge,
    "mse": _mse,
    "bce": _bce,
    "cross_entropy": _cross_entropy,
}


def make_optimizer(
    optimizer: Optimizer | str | None, params: list[Value], lr: float | None, steps: int
) -> Optimizer:
    """fit's ``optimizer=`` as an Optimizer over ``params``: an instance as it is, or one made from a name."""
    if isinstance(optimizer, Optimizer):
        if lr is not None:
            raise ValueError("lr goes with an optimizer name; an Optimizer instance already has its lr")
        return optimizer
    name = "sgd" if optimizer is None else optimizer
    if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; pass an Optimizer or one of {', '.join(OPTIMIZERS)}"
        )
    cls = OPTIMIZERS[name.lower()]
    if lr is not None:
        return cls(params, lr=lr)
    if cls is SGD:
        # the classic run: lr 1.0 decaying linearly to 0.1 over the training
        return SGD(params, lr=1.0, schedule=linear_decay(1.0, 0.1, steps))
    return cls(params)


def check_run(X: Sequence[Sequence[float]], y: Sequence[int], steps: int, seed: int) -> list[int]:
    """The class indices of ``y``, once the data, the step count and the seed are known to be good."""
    check_dataset(X, y)
    classes = class_indices(y)
    check_count(steps, "steps")
    make_rng(seed)  # refuses a seed that is not an int now, not at the first minibatch
    return classes


def check_parameters(params: Sequence[Value], who: str) -> None:
    """Refuse, by name, a parameter whose ``.data`` is not finite before training starts.

    No op makes one, so it was assigned from outside (``p.data = float("nan")``); without this the
    first forward would fail inside the engine, naming an op rather than the parameter.
    """
    for i, p in enumerate(params):
        if not math.isfinite(p.data):
            raise ValueError(
                f"{who}: parameter {p.label or i} is {p.data!r} before training; its .data was set to a "
                "number that is not finite: set it to a finite number (or make the model again)"
            )


def check_batching(
    batch_size: int | None, validation: tuple[Sequence[Sequence[float]], Sequence[int]] | None
) -> None:
    """Refuse a bad ``batch_size`` or validation set before any step is taken."""
    if batch_size is not None:
        check_count(batch_size, "batch_size")
    if validation is not None:
        check_dataset(*validation)


def check_loss(loss: object, names: Collection[str]) -> None:
    """Refuse a ``loss`` that is neither one of ``names`` nor a callable ``(outputs, labels) -> Value``."""
    if isinstance(loss, str):
        if loss not in names:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(names)} or pass a callable")
    elif not callable(loss):
        raise TypeError(
            f"loss must be a name or a callable (outputs, labels) -> Value, got {type(loss).__name__}"
        )


# A training step's own work: the loss of the batch (samples X_batch, their indices into X) with its
# gradients added into every p.grad; returns the loss and the class predicted for each sample.
Step = Callable[[Sequence[Sequence[float]], Sequence[int]], tuple[float, Sequence[int]]]


def run_steps(
    model: Module,
    X: Sequence[Sequence[float]],
    classes: list[int],
    step: Step,
    opt: Optimizer,
    steps: int,
    batch_size: int | None = None,
    progress: bool = True,
    seed: int = 0,
    validation: tuple[Sequence[Sequence[float]], Sequence[int]] | None = None,
    callback: Callable[[int, History], None] | None = None,
    desc: str = "fit",
) -> History:
    """The loop of ``fit`` (and of ``compile.fit_compiled``): ``steps`` times, take the next batch,
    zero the gradients, let ``step`` fill them, ``opt.step()``, and record the step in the History.

    Minibatches come from ``data.batches`` (epoch e shuffled with seed + e); all of X when
    ``batch_size`` is None. Arguments are checked by ``check_run`` and ``check_batching``.
    """
    check_parameters(opt.params, desc)
    history = History()

    def minibatches() -> Any:
        epoch = 0
        while True:
            yield from batches(X, list(range(len(X))), batch_size, seed=seed + epoch)  # type: ignore[arg-type]
            epoch += 1

    stream = minibatches() if batch_size is not None else None
    bar = progress_bar()(range(steps), disable=not progress, desc=desc, unit="step")
    try:
        for k in bar:
            xb, idx = (X, range(len(X))) if stream is None else next(stream)
            model.zero_grad()
            opt.zero_grad()  # also any parameters the optimizer holds beyond the model's
            try:
                with gc_paused():
                    loss_value, predicted = step(xb, idx)
            except OverflowError as exc:
                if k == 0:  # no update yet: the data or the model overflows, not the step size
                    raise
                raise _diverged(k, steps, str(exc), history) from exc
            why = _divergence(loss_value, history.loss[0] if history.loss else loss_value)
            history.loss.append(loss_value)
            if why:
                raise _diverged(k, steps, why, history)
            try:
                opt.step()
            except OverflowError as exc:  # the update itself leaves the float range: the step size
                reason = str(exc).removesuffix("; lower the learning rate")  # the optimizer's own advice
                raise TrainingDiverged(k + 1, steps, reason, opt.lr, history) from exc
            hits = sum(p == classes[i] for p, i in zip(predicted, idx))
            history.accuracy.append(hits / len(idx))
            history.lr.append(opt.lr)
            if validation is not None:
                history.val_accuracy.append(accuracy(model, *validation))  # type: ignore[arg-type]
            if progress:
                bar.set_postfix(loss=f"{loss_value:.4f}", acc=f"{history.accuracy[-1]:.0%}", refresh=False)
            if callback is not None:
                callback(k, history)
    finally:
        bar.close()
    return history


def _divergence(loss: float, first: float) -> str:
    """Why ``loss`` shows divergence ('' if it does not): not finite, or grown past DIVERGENCE x ``first``."""
    if not math.isfinite(loss):
        return f"the loss is {loss}"
    if abs(loss) > DIVERGENCE * max(abs(first), 1.0):
        return f"the loss grew from {first:.4g} to {loss:.4g}, over {DIVERGENCE:g} times its start"
    return ""


def _diverged(k: int, steps: int, why: str, history: History) -> TrainingDiverged:
    """The error for step ``k`` (0-based), naming the learning rate of the update that led there."""
    return TrainingDiverged(k + 1, steps, why, history.lr[-1] if history.lr else None, history)


_NOTEBOOK_HINT_SHOWN = False


def progress_bar() -> type[tqdm]:
    """The progress bar class for where we run: tqdm's widget in a Jupyter kernel, its text bar elsewhere.

    The widget needs ipywidgets (the ``notebook`` extra); without it, a notebook gets the text bar
    and one warning that says how to install it.
    """
    ipython = sys.modules.get("IPython")  # only a session that already runs IPython can be a notebook
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or "IPKernelApp" not in shell.config:
        return tqdm
    try:
        require("ipywidgets", "fit's progress bar in a notebook", "notebook")
    except MissingPackage as exc:
        global _NOTEBOOK_HINT_SHOWN
        if not _NOTEBOOK_HINT_SHOWN:
            _NOTEBOOK_HINT_SHOWN = True
            warnings.warn(f"{exc} (until then, a text bar)", stacklevel=3)
        return tqdm
    from tqdm.notebook import tqdm as notebook_tqdm

    return notebook_tqdm


def fit(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    loss: str | LossFn = "hinge",
    optimizer: Optimizer | str | None = None,
    steps: int = 100,
    batch_size: int | None = None,
    alpha: float = 1e-4,
    progress: bool = True,
    seed: int = 0,
    lr: float | None = None,
    validation: tuple[Sequence[Sequence[float]], Sequence[int]] | None = None,
    callback: Callable[[int, History], None] | None = None,
    html: str | os.PathLike[str] | None = None,
) -> History:
    """Train ``model`` for ``steps`` optimizer steps and return the History.

    Each step: forward the batch (all of X when ``batch_size`` is None), loss + ``alpha`` * L2,
    ``zero_grad``, ``backward``, ``optimizer.step()``. ``loss`` is "hinge", "mse", "bce",
    "cross_entropy" or a callable ``(outputs, labels) -> Value``. ``optimizer`` is an Optimizer, a
    name ("sgd", "adam", "adamw", with ``lr``), or None for the classic SGD with lr 1.0 decaying
    linearly to 0.1. Minibatches come from ``data.batches`` (epoch e shuffled with seed + e).
    ``callback(step, history)`` runs after every step (e.g. to draw the decision boundary).
    ``html``: also write a page that replays the training (``micrograd.live``; 2-D data).

    Training that diverges stops with ``TrainingDiverged`` (an OverflowError) at the step where
    the loss overflows or grows past ``DIVERGENCE`` (1e6) times its first value (1e6 when that was
    below 1), rather than going on with weights that no longer mean anything; the error names the
    step and the learning rate, and its ``history`` holds the steps taken.
    """
    if not callable(model) or not callable(getattr(model, "parameters", None)):
        raise TypeError(
            f"fit trains a model with parameters() (an MLP, Layer, Neuron or other Module), "
            f"got {type(model).__name__} {model!r}"
        )
    X, y = as_list(X), as_list(y)
    if validation is not None:
        validation = (as_list(validation[0]), as_list(validation[1]))
    classes = check_run(X, y, steps, seed)
    check_loss(loss, LOSSES)
    data_loss_fn, targets = (LOSSES[loss], classes) if isinstance(loss, str) else (loss, y)
    check_batching(batch_size, validation)
    params = model.parameters()
    opt = make_optimizer(optimizer, params, lr, steps)
    recorder = None
    if html is not None:
        from micrograd.live import Recorder

        recorder = Recorder(model, X, y, steps, loss=loss, path=html)
        callback = recorder.chain(callback)

    def step(xb: Sequence[Sequence[float]], idx: Sequence[int]) -> tuple[float, list[int]]:
        outs = [model(x) for x in xb]
        total_loss = data_loss_fn(outs, [targets[i] for i in idx])
        if alpha:
            total_loss = total_loss + l2(params, alpha)
        total_loss.backward()
        return total_loss.data, [_decide(o) for o in outs]

    history = run_steps(
        model,
        X,
        classes,
        step,
        opt,
        steps,
        batch_size=batch_size,
        progress=progress,
        seed=seed,
        validation=validation,
        callback=callback,
    )
    if recorder is not None:
        recorder.write(history)
    return history
