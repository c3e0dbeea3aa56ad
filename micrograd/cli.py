"""The ``micrograd`` command (also ``python -m micrograd``): demo, draw, explain, train.

Exit status: 0 on success, 2 for bad input (an option, an expression, a name=value), 1 when the
environment lacks something (Graphviz's ``dot``, matplotlib, numpy) or a file cannot be written.
Expressions go through ``micrograd.parser`` and are never run as Python code.
"""

from __future__ import annotations

import argparse
import itertools
import math
import re
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from micrograd import __version__
from micrograd.files import check_writable
from micrograd.install import dot_install_command, dot_install_hint, has_dot, missing_dependency
from micrograd.nn import MAX_LAYERS, MAX_PARAMETERS
from micrograd.parser import ExpressionError, build

PROG = "micrograd"

# The classic neuron of the micrograd lecture: tanh(x1*w1 + x2*w2 + b) = 0.7071 (b makes net = 0.8814).
NEURON = "tanh(x1*w1 + x2*w2 + b)"
NEURON_VALUES = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
# "x1=2 ... b=6.8813735870195432": 17 significant digits, so the typed b is exactly NEURON_VALUES["b"]
NEURON_ARGS = " ".join(f"{name}={value:.17g}" for name, value in NEURON_VALUES.items())

# The classic moons run: 100 points with noise 0.1, MLP(2, [16, 16, 1]) with ReLU, hinge loss +
# 1e-4 L2, SGD with lr 1.0 decaying linearly to 0.1, 100 full-batch steps.
CLASSIC_SAMPLES = 100
CLASSIC_HIDDEN = [16, 16]
CLASSIC_STEPS = 100
CLASSIC_SEED = 1

# `train` options left out take these; "*" is every toy dataset (the classic run). Digits: 1797
# images of 64 pixels, trained as demos/digits.py does (>= 95% on the held-out fifth).
TRAIN_DEFAULTS: dict[str, dict[str, Any]] = {
    "*": {
        "hidden": CLASSIC_HIDDEN,
        "init": "uniform",
        "optimizer": "sgd",
        "steps": CLASSIC_STEPS,
        "samples": CLASSIC_SAMPLES,
        "val": 0.0,
        "seed": CLASSIC_SEED,
    },
    "digits": {
        "hidden": [32],
        "init": "kaiming",
        "optimizer": "adam",
        "lr": 0.01,
        "steps": 1000,
        "batch_size": 64,
        "samples": 0,
        "val": 0.2,
        "seed": 0,
    },
}

# Pure Python builds a graph node per neuron and sample: 100,000 samples already take seconds a step.
MAX_SAMPLES = 100_000
MAX_STEPS = 10_000_000
# What one training step may cost, so that a step takes seconds, not hours (and memory stays in the
# hundreds of MB): the graph nodes it builds (each neuron's weighted sum and activation, for every
# sample the step sees: about 2.5 us each) and the weight-times-input products inside them (about
# 100 ns each). At either limit a step took 5 to 6 s on the 2-core development machine
# (moons --samples 12500 --val 0.2 --hidden 79: 4.8 s; moons --samples 188 --hidden 512,512: 5.9 s).
MAX_NODES_PER_STEP = 2_000_000
MAX_PRODUCTS_PER_STEP = 50_000_000
# --compile traces a batch once: the eager forward pass plus the lowering to matrix products, about
# 0.4 us and 50 bytes per product (moons --samples 18 --hidden 512,512 --compile, 4.8 million
# products: 1.9 s and 230 MB at peak); this many is about 6 s and 700 MB.
MAX_TRACED_PRODUCTS = 15_000_000
MAX_HIDDEN_LAYERS = MAX_LAYERS - 1  # a saved model has at most MAX_LAYERS, the output layer included

# argparse reads an argument that starts with '-' as an option unless it looks like a negative number
_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")
# `draw` refuses an expression whose graph dot is predicted to take longer than this (seconds).
DRAW_SECONDS = 5.0

ONE_OUTPUT_LOSSES = ("hinge", "bce")  # a score per sample: two classes only

# What `micrograd demo` writes into --out: the pictures Graphviz's dot draws, then the rest.
DEMO_GRAPH_FILES = ("neuron.svg", "neuron.png", "neuron_backprop.html")
DEMO_OTHER_FILES = ("moons_boundary.png", "moons_loss.png", "moons_model.json")


class UsageError(Exception):
    """A bad option value found after argparse (exit status 2)."""


class EnvironmentProblem(Exception):
    """Something missing from the machine: a program or an optional package (exit status 1)."""


# ----------------------------------------------------------------------------------------------
# Option types: each refuses a bad value with a message argparse prints (exit status 2)


def _parse(text: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a {'whole number' if kind is int else 'number'}"
        ) from None


def _count(limit: int) -> Callable[[str], int]:
    """An option type for a whole number in 1 .. limit."""

    def count(text: str) -> int:
        value = _parse(text, int)
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"{value} is out of range: use 1 .. {limit}")
        return int(value)

    return count


def _seed(text: str) -> int:
    value = _parse(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: a seed is an int >= 0")
    return int(value)


def _positive_float(text: str) -> float:
    value = _parse(text, float)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number > 0")
    return float(value)


def _fraction(text: str) -> float:
    value = _parse(text, float)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a fraction in [0, 1), e.g. 0.2")
    return float(value)


def _layer_sizes(text: str) -> list[int]:
    """'16,16' -> [16, 16]; '' or 'none' -> [] (no hidden layer: a linear model)."""
    if text.strip().lower() in ("", "none"):
        return []
    parts = text.split(",")
    if len(parts) > MAX_HIDDEN_LAYERS:
        raise argparse.ArgumentTypeError(
            f"{len(parts):,} hidden layers; use at most {MAX_HIDDEN_LAYERS} "
            f"(a model has at most {MAX_LAYERS})"
        )
    sizes = []
    for part in parts:
        try:
            size = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r}: {part.strip()!r} is not a layer size; write sizes separated by commas, e.g. 16,16"
            ) from None
        if not 1 <= size <= 1024:
            raise argparse.ArgumentTypeError(f"{text!r}: a layer of {size} neurons; use 1 .. 1024")
        sizes.append(size)
    return sizes


def _names(text: str) -> list[str]:
    """'w1,w2,b' -> ['w1', 'w2', 'b']."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r}: give names separated by commas, e.g. w1,w2,b")
    return names


def _suffix(path: str, formats: Sequence[str], option: str) -> Path:
    """``path`` if its suffix is one of ``formats`` (checked before any work, so a typo costs nothing)."""
    result = Path(path)
    if result.suffix.lower().lstrip(".") not in formats:
        suffixes = ", ".join(f".{f}" for f in formats)
        raise UsageError(
            f"{option} {path}: the file name must end in {suffixes} (the suffix picks the format)"
        )
    return result


# ----------------------------------------------------------------------------------------------
# The parser


def _subcommand(
    subparsers: Any, name: str, summary: str, example: str, handler: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    sub = subparsers.add_parser(
        name,
        help=summary,
        description=summary,
        epilog=example,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.set_defaults(handler=handler, command=name)
    return sub


def _expression_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "expression",
        help="numbers, names, + - * / **, unary -, and tanh exp log sqrt sigmoid relu abs; quote it",
    )
    sub.add_argument(
        "values", nargs="*", metavar="name=value", help="a value for every name in the expression"
    )


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line (and a pointer to --help), not the whole usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog=PROG,
        description="A scalar autograd engine: backprop node by node, computation graphs, tiny MLPs.",
        epilog=(
            "examples:\n"
            "  micrograd demo                       # the guided tour, files in ./out/\n"
            f'  micrograd explain "{NEURON}" {NEURON_ARGS}\n'
            f'  micrograd draw "{NEURON}" {NEURON_ARGS} --params w1,w2,b -o neuron.png\n'
            "  micrograd train moons --plot moons.png\n"
            "\nrun `micrograd COMMAND --help` for each command's options"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")

    demo = _subcommand(
        subparsers,
        "demo",
        "a guided tour: one neuron's backward pass node by node and its graph, then the classic moons MLP",
        "example:\n  micrograd demo --out out/\n\n"
        "writes into DIR: neuron.svg, neuron.png, neuron_backprop.html, moons_boundary.png,\n"
        "moons_loss.png and moons_model.json, and lists them at the end",
        _demo,
    )
    demo.add_argument("--out", default="out", metavar="DIR", help="where to write the files (default: ./out)")
    demo.add_argument(
        "--steps",
        type=_count(MAX_STEPS),
        default=CLASSIC_STEPS,
        help=f"training steps of the moons MLP (default: {CLASSIC_STEPS})",
    )

    draw = _subcommand(
        subparsers,
        "draw",
        "evaluate an expression, backpropagate from it, and draw its graph with every value and gradient",
        "example:\n"
        f'  micrograd draw "{NEURON}" x1=2 x2=0 w1=-3 w2=1 b=6.88 --params w1,w2,b -o neuron.png\n\n'
        "the suffix of FILE picks the format: .svg, .png or .pdf (made by Graphviz's dot); a PNG is\n"
        "sized for a 1920x1080 slide. Unnamed nodes are n1, n2, ... as `micrograd explain` names them.\n"
        "An expression that starts with '-' goes after --:  micrograd draw -o g.svg -- \"-x*y\" x=1 y=2",
        _draw,
    )
    _expression_arguments(draw)
    draw.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the image to write (.svg, .png, .pdf)"
    )
    draw.add_argument(
        "--rankdir", choices=("LR", "TB"), default="LR", help="left to right (default) or top to bottom"
    )
    draw.add_argument(
        "--params",
        type=_names,
        default=[],
        metavar="NAMES",
        help="names to colour as parameters (weights, biases), comma separated, e.g. w1,w2,b",
    )
    draw.add_argument(
        "--max-seconds",
        type=_positive_float,
        default=DRAW_SECONDS,
        metavar="S",
        help=f"refuse a graph dot is predicted to take longer than S seconds on (default {DRAW_SECONDS:g})",
    )

    explain = _subcommand(
        subparsers,
        "explain",
        "the backward pass of an expression, one node at a time, with the chain rule in numbers",
        "examples:\n"
        f'  micrograd explain "{NEURON}" {NEURON_ARGS}\n'
        '  micrograd explain "x*x + x" x=3 --format markdown\n'
        '  micrograd explain "tanh(a*b)" a=0.5 b=-2 --html backprop.html\n'
        '  micrograd explain "(w*x - t)**2" w=0.5 x=2 t=3 --lr 0.1         # and the update step\n'
        '  micrograd explain "tanh(w*x)" w=0.5 x=2 --html quiz.html --quiz  # an exercise page\n\n'
        "the explanation goes to standard output; notes about written files to standard error",
        _explain,
    )
    _expression_arguments(explain)
    explain.add_argument(
        "--format", choices=("text", "markdown", "latex"), default="text", help="how to print the steps"
    )
    explain.add_argument(
        "--html", metavar="FILE", help="also write a page that steps through the forward and backward pass"
    )
    explain.add_argument(
        "--quiz", action="store_true", help="make the --html page an exercise: type each answer, then check"
    )
    explain.add_argument(
        "--lr", type=_positive_float, help="also show the SGD update of every variable: w <- w - lr * dout/dw"
    )
    explain.add_argument(
        "--params", metavar="NAMES", help="the variables --lr updates, comma separated (default: all of them)"
    )
    explain.add_argument(
        "--digits", type=_count(17), default=4, help="significant digits of the numbers shown (default 4)"
    )

    # the choices are the library's own tables, so a new loss or optimizer appears here by itself
    from micrograd.data import DATASETS
    from micrograd.live import FRAMES, MAX_FRAMES
    from micrograd.nn import ACTIVATIONS, INITS
    from micrograd.optim import OPTIMIZERS
    from micrograd.training import LOSSES

    train = _subcommand(
        subparsers,
        "train",
        "train a small MLP on a dataset and report its accuracy",
        "examples:\n"
        "  micrograd train moons --plot moons.png          # the classic run: 100 steps, 100% accuracy\n"
        "  micrograd train spiral --hidden 32,32 --optimizer adam --lr 0.05 --plot spiral.png\n"
        "  micrograd train circles --steps 50 --val 0.2 --save circles.json\n"
        "  micrograd train moons --html train.html         # a page that replays the training\n"
        "  micrograd train digits --compile                # 8x8 images, 10 classes, a fifth held out\n\n"
        f"datasets: {', '.join(_dataset_names(DATASETS))} (digits needs scikit-learn).\n"
        "Defaults: the classic moons run (--hidden 16,16, relu, sgd with lr 1.0 decaying linearly to\n"
        "0.1, 100 full-batch steps); for digits --hidden 32 --init kaiming --optimizer adam --lr 0.01\n"
        "--steps 1000 --batch-size 64 --val 0.2 --seed 0. The loss is hinge for two classes and\n"
        "cross_entropy for more.",
        _train,
    )
    train.add_argument("dataset", choices=_dataset_names(DATASETS), metavar="DATASET", help="the dataset")
    train.add_argument(
        "--hidden",
        type=_layer_sizes,
        metavar="SIZES",
        help="hidden layer sizes, comma separated, e.g. 16,16 ('none' for no hidden layer)",
    )
    hidden_activations = [name for name in ACTIVATIONS if name != "linear"]  # linear layers would collapse
    train.add_argument(
        "--activation", choices=hidden_activations, default="relu", help="of the hidden layers"
    )
    train.add_argument(
        "--init", choices=list(INITS), help="initial weights: uniform(-1, 1) or scaled by fan-in"
    )
    train.add_argument("--loss", choices=list(LOSSES), help="hinge for two classes, cross_entropy for more")
    train.add_argument("--optimizer", choices=list(OPTIMIZERS), help="the update rule (default: sgd)")
    train.add_argument(
        "--lr", type=_positive_float, help="learning rate (sgd without it: the classic schedule)"
    )
    train.add_argument("--steps", type=_count(MAX_STEPS), help="optimizer steps")
    train.add_argument(
        "--batch-size", type=_count(MAX_SAMPLES), help="samples per step (default: all of them)"
    )
    train.add_argument(
        "--samples", type=_count(MAX_SAMPLES), help="dataset size (default 100; digits has 1797)"
    )
    train.add_argument("--val", type=_fraction, help="hold out this fraction and report accuracy on it")
    train.add_argument("--seed", type=_seed, help="seeds the data, the weights and the batches")
    train.add_argument(
        "--plot", metavar="FILE", help="write the decision boundary (.png, .svg, .pdf; 2-D data)"
    )
    train.add_argument("--loss-plot", metavar="FILE", help="write the loss curve (.png, .svg, .pdf)")
    train.add_argument(
        "--html",
        metavar="FILE",
        help="write an offline page replaying the training: boundary, loss, parameters, network (2-D data)",
    )
    train.add_argument(
        "--frames",
        type=_count(MAX_FRAMES),
        default=FRAMES,
        help=f"steps the --html page records, evenly spread (default {FRAMES}, at most {MAX_FRAMES})",
    )
    train.add_argument("--save", metavar="MODEL.json", help="save the trained model as JSON")
    train.add_argument("--compile", action="store_true", help="train with the numpy-compiled graph (fast)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _dataset_names(datasets: dict[str, Any]) -> list[str]:
    return [*datasets, "digits"]  # digits is loaded apart: it comes from scikit-learn


# ----------------------------------------------------------------------------------------------
# Commands


def _draw(args: argparse.Namespace) -> int:
    from micrograd.viz import RENDER_FORMATS, TooLargeToDraw, render

    output = _suffix(args.output, RENDER_FORMATS, "-o")
    check_writable(output)
    out, leaves = build(args.expression, args.values)
    unknown = [name for name in args.params if name not in leaves]
    if unknown:
        raise UsageError(
            f"--params {','.join(args.params)}: {', '.join(map(repr, unknown))} "
            f"{'is not a name' if len(unknown) == 1 else 'are not names'} in the expression "
            f"(its names: {', '.join(leaves) or 'none'})"
        )
    out.backward()
    try:
        # the parser already bounds the expression's size, so the drawing limit can follow it
        render(
            out,
            output,
            rankdir=args.rankdir,
            max_nodes=2000,
            max_seconds=args.max_seconds,
            params=[leaves[name] for name in args.params],
        )
    except TooLargeToDraw as exc:  # the figure, and how to draw it anyway
        way_out = f"pass --max-seconds {exc.needed} to draw it anyway" if exc.option == "max_seconds" else ""
        raise UsageError(f"{exc.figure}; {way_out or 'draw a smaller expression'}") from None
    print(f"{out.label} = {args.expression} = {out.data:.6g}" if out._op else f"{out.label} = {out.data:.6g}")
    for name, leaf in leaves.items():
        print(f"  d{out.label}/d{name} = {leaf.grad:.6g}")
    print(f"wrote {output}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from micrograd.explain import explain

    html = _suffix(args.html, ("html", "htm"), "--html") if args.html else None
    if args.quiz and html is None:
        raise UsageError("--quiz makes the --html page an exercise; add --html FILE")
    if args.params is not None and args.lr is None:
        raise UsageError("--params names the variables --lr updates; add --lr")
    if html is not None:
        check_writable(html)  # before the explanation is printed
    out, leaves = build(args.expression, args.values)
    params = None
    if args.params is not None:
        names = [name.strip() for name in args.params.split(",") if name.strip()]
        unknown = [name for name in names if name not in leaves]
        if unknown or not names:
            raise UsageError(
                f"--params {args.params}: {', '.join(map(repr, unknown)) or 'no names'} "
                f"{'is not a variable' if len(unknown) == 1 else 'are not variables'}; the variables are "
                f"{', '.join(leaves)}"
            )
        params = [leaves[name] for name in names]
    explanation = explain(out, lr=args.lr, params=params, digits=args.digits)
    render = {"text": explanation.to_text, "markdown": explanation.to_markdown, "latex": explanation.to_latex}
    print(render[args.format]())
    if html is not None:
        explanation.to_html(html, quiz=args.quiz)
        print(f"wrote {html}", file=sys.stderr)
    return 0


def _load_dataset(name: str, samples: int, seed: int) -> tuple[list[list[float]], list[int]]:
    from micrograd import data

    if name == "digits":
        return data.load_digits(seed=seed)
    return data.DATASETS[name](n_samples=samples, seed=seed)


def _outputs(loss: str, classes: int) -> int:
    """How many outputs the last layer needs: one score, or one logit per class."""
    if loss in ONE_OUTPUT_LOSSES or (loss == "mse" and classes == 2):
        return 1
    return classes


def _train(args: argparse.Namespace) -> int:
    from micrograd.plots import PLOT_FORMATS, check_matplotlib

    plot = _suffix(args.plot, PLOT_FORMATS, "--plot") if args.plot else None
    loss_plot = _suffix(args.loss_plot, PLOT_FORMATS, "--loss-plot") if args.loss_plot else None
    save = _suffix(args.save, ("json",), "--save") if args.save else None
    page = _suffix(args.html, ("html", "htm"), "--html") if args.html else None
    for path in (plot, loss_plot, save, page):
        if path is not None:
            check_writable(path)  # before training, not after it
    if plot is not None or loss_plot is not None:
        check_matplotlib()
    if args.dataset == "digits" and args.samples is not None:
        raise UsageError("--samples: digits has a fixed size (1797 images); drop --samples")
    # every option left out takes the dataset's default
    for option, value in TRAIN_DEFAULTS.get(args.dataset, TRAIN_DEFAULTS["*"]).items():
        if getattr(args, option) is None:
            setattr(args, option, value)
    if args.compile:
        fit = _compiled_fit()
    else:
        from micrograd.training import fit
    from micrograd.data import train_val_split
    from micrograd.nn import MLP
    from micrograd.training import TrainingDiverged, accuracy

    X, y = _load_dataset(args.dataset, args.samples, args.seed)
    classes = max(y) + 1
    loss = args.loss or ("hinge" if classes == 2 else "cross_entropy")
    if loss in ONE_OUTPUT_LOSSES and classes > 2:
        raise UsageError(
            f"--loss {loss} is for two classes, but {args.dataset} has {classes}; "
            "use --loss cross_entropy or mse"
        )
    for option, path in (("--plot", plot), ("--html", page)):
        if path is not None and len(X[0]) != 2:
            raise UsageError(
                f"{option} draws 2-D data, but {args.dataset} has {len(X[0])} features; drop {option}"
            )
    X_val: list[list[float]] = []
    y_val: list[int] = []
    if args.val:
        try:
            X, y, X_val, y_val = train_val_split(X, y, val_fraction=args.val, seed=args.seed)
        except ValueError as exc:
            raise UsageError(f"--val {args.val}: {exc}") from None
    _check_classes(args, y, X_val)
    nouts = [*args.hidden, _outputs(loss, classes)]
    _check_step_size(len(X[0]), nouts, args.batch_size, len(X), len(X_val), args.compile)
    model = MLP(len(X[0]), nouts, activation=args.activation, init=args.init, seed=args.seed)
    held_out = f", {len(X_val)} held out" if X_val else ""
    print(
        f"{args.dataset}: {len(X)} training samples{held_out}, {len(X[0])} features, {classes} classes; "
        f"{_describe(model)}, {len(model.parameters())} parameters; loss {loss}, optimizer {args.optimizer}"
    )
    if args.dataset == "digits" and not args.compile:
        print("(pure Python on 64 inputs takes minutes; --compile runs the same steps with numpy)")
    recorder = None
    if page is not None:
        from micrograd.live import Recorder

        try:
            recorder = Recorder(model, X, y, args.steps, loss=loss, frames=args.frames, path=page)
        except ValueError as exc:
            raise UsageError(f"--html {page}: {exc}") from None
    start = time.perf_counter()
    try:
        history = fit(
            model,
            X,
            y,
            loss=loss,
            optimizer=args.optimizer,
            lr=args.lr,
            steps=args.steps,
            batch_size=args.batch_size,
            progress=not args.quiet,
            seed=args.seed,
            callback=recorder,
        )
    except TrainingDiverged as exc:  # the steps are too large: say so in the command's terms
        smaller = f", e.g. --lr {exc.lr / 10:g}" if exc.lr else ""
        raise ArithmeticError(  # exit status 1, as for any run that fails
            f"training diverged at step {exc.step} of {exc.steps}: {exc.reason}; try a smaller --lr{smaller}"
        ) from None
    seconds = time.perf_counter() - start
    steps = f"{args.steps} step{'' if args.steps == 1 else 's'}"
    report = f"after {steps} ({seconds:.1f} s): loss {history.loss[-1]:.4f}, "
    report += f"training accuracy {accuracy(model, X, y):.1%}"
    if X_val:
        report += f", held-out accuracy {accuracy(model, X_val, y_val):.1%}"
    print(report)
    written = []
    if plot is not None:
        from micrograd.plots import decision_boundary

        written.append(decision_boundary(model, X, y, plot, title=f"{args.dataset}: decision boundary"))
    if loss_plot is not None:
        from micrograd.plots import loss_curve

        written.append(loss_curve(history, loss_plot, title=f"{args.dataset}: training"))
    if save is not None:
        model.save(save)
        written.append(save)
    if recorder is not None:
        written.append(recorder.write(history))
    for path in written:
        print(f"wrote {path}")
    return 0


def _check_classes(args: argparse.Namespace, y: Sequence[int], X_val: Sequence[object]) -> None:
    """Refuse a training set of one class (a tiny --samples, or what --val leaves): nothing to learn."""
    present = sorted(set(y))
    if len(present) > 1:
        return
    held_out = f" --val {args.val} (holding {len(X_val)} out)" if X_val else ""
    size = f"{len(y)} sample{'' if len(y) == 1 else 's'}"
    raise UsageError(
        f"{args.dataset} --samples {args.samples}{held_out}: the training set is {size}, all of class "
        f"{present[0]}; a classifier needs samples of at least two classes: use more --samples "
        f"(the default is {CLASSIC_SAMPLES})"
    )


def _check_step_size(
    nin: int, nouts: Sequence[int], batch_size: int | None, n_train: int, n_val: int, compiled: bool
) -> None:
    """Refuse, before anything is built, a run whose every step would take minutes (or whose model
    no file may hold): the figure, the limit, and which options bring it down."""
    sizes = [nin, *nouts]
    parameters = sum(nouts[i] * (sizes[i] + 1) for i in range(len(nouts)))
    # per sample: a weighted-sum node per neuron, and an activation node in each hidden layer
    nodes = sum(nouts[:-1]) * 2 + nouts[-1]
    batch = min(batch_size or n_train, n_train)
    samples = batch + n_val  # the held-out set is evaluated after every step
    seen = f"{samples:,} samples"
    if n_val:
        seen += f": a batch of {batch:,} and the {n_val:,} held out, evaluated after every step"
    shape = "-".join(str(n) for n in sizes)
    fixes = f"use a smaller --batch-size{' or --val' if n_val else ''}, fewer --samples or smaller --hidden"
    if samples * nodes > MAX_NODES_PER_STEP:
        raise UsageError(
            f"a step would build {samples * nodes:,} graph nodes ({nodes:,} in an MLP {shape} for each of "
            f"{seen}), more than the limit of {MAX_NODES_PER_STEP:,}; {fixes}"
        )
    if samples * parameters > MAX_PRODUCTS_PER_STEP:
        raise UsageError(
            f"a step would multiply {samples * parameters:,} weights by inputs ({parameters:,} parameters of "
            f"an MLP {shape} for each of {seen}), more than the limit of {MAX_PRODUCTS_PER_STEP:,}; {fixes}"
        )
    if compiled and batch * parameters > MAX_TRACED_PRODUCTS:
        raise UsageError(
            f"--compile would trace {batch * parameters:,} weight-by-input products ({parameters:,} "
            f"parameters of an MLP {shape} for each of the {batch:,} samples of a batch), more than the "
            f"limit of {MAX_TRACED_PRODUCTS:,} (tracing takes about 0.4 us and 50 bytes each); "
            "drop --compile, or use a smaller --batch-size or --hidden"
        )
    if parameters > MAX_PARAMETERS:
        raise UsageError(
            f"an MLP {shape} has {parameters:,} parameters, more than the {MAX_PARAMETERS:,} a saved model "
            "may hold; use smaller --hidden"
        )


def _compiled_fit() -> Callable[..., Any]:
    try:
        import numpy  # noqa: F401
    except ImportError:
        raise EnvironmentProblem(missing_dependency("numpy", "--compile")) from None
    from micrograd.compile import fit_compiled

    return fit_compiled


def _demo(args: argparse.Namespace) -> int:
    from micrograd.data import make_moons
    from micrograd.engine import topological_order
    from micrograd.explain import explain
    from micrograd.nn import MLP
    from micrograd.plots import check_matplotlib, decision_boundary, loss_curve
    from micrograd.training import accuracy, fit
    from micrograd.viz import render

    out_dir = Path(args.out)
    graphs = [out_dir / name for name in DEMO_GRAPH_FILES]
    others = [out_dir / name for name in DEMO_OTHER_FILES]
    for path in graphs + others:
        check_writable(path)  # before the tour: a bad --out costs nothing
    check_matplotlib()
    if not has_dot():  # no Python package ships `dot`: the tour goes on without the pictures it draws
        print(f"Graphviz's `dot` is not installed, so {', '.join(p.name for p in graphs)} are skipped.")
        print(dot_install_hint())
        graphs = []
    written: list[Path] = []
    started = time.perf_counter()

    _heading("1. Backpropagation through one neuron, node by node")
    print(f"The expression {NEURON} with {NEURON_ARGS}.")
    print("Each row is one step of backward(): the node's upstream gradient times its local derivative,")
    print("added into each operand's gradient (the chain rule, in numbers).\n")
    out, _ = build(NEURON, NEURON_VALUES)
    explanation = explain(out)
    print(explanation.to_text())
    if graphs:
        svg, png, html = graphs
        params = [leaf for leaf in topological_order(out) if leaf.label in ("w1", "w2", "b")]
        written.append(render(out, svg, params=params))
        written.append(render(out, png, params=params))
        explanation.to_html(html)
        written.append(html)
        print(f"\nIts graph, with every value and gradient: {svg} and {png}")
        print(f"A page that steps through the backward pass (open it in a browser): {html}")
    print('Try your own:  micrograd explain "x*x + x" x=3')
    print(f'               micrograd draw "{NEURON}" {NEURON_ARGS} --params w1,w2,b -o neuron.png')

    _heading("2. Training the classic moons MLP")
    X, y = make_moons(CLASSIC_SAMPLES, noise=0.1, seed=CLASSIC_SEED)
    model = MLP(2, [*CLASSIC_HIDDEN, 1], activation="relu", seed=CLASSIC_SEED)
    print(f"{len(X)} moons points, {_describe(model)}: {len(model.parameters())} parameters.")
    print(f"Hinge loss + 1e-4 L2, SGD with lr 1.0 decaying linearly to 0.1, {args.steps} full-batch steps.\n")
    history = fit(model, X, y, loss="hinge", steps=args.steps, progress=True, seed=CLASSIC_SEED)
    print(f"\nloss {history.loss[-1]:.4f}, training accuracy {accuracy(model, X, y):.0%}")
    boundary, curve, model_path = others
    written.append(decision_boundary(model, X, y, boundary, title="moons: decision boundary"))
    written.append(loss_curve(history, curve, title="moons: hinge loss + L2"))
    model.save(model_path)
    written.append(model_path)

    _heading(f"Files written ({time.perf_counter() - started:.0f} s)")
    for path in written:
        print(f"  {path}  ({path.stat().st_size:,} bytes)")
    if not graphs:
        print(f"(the graphs and the backprop page need Graphviz's `dot`: {dot_install_command()})")
    print("\nNext: micrograd train spiral --hidden 32,32 --optimizer adam --lr 0.05 --plot spiral.png")
    return 0


def _describe(model: Any) -> str:
    """'MLP 2-16-16-1 (relu)': the layer sizes, not every neuron's repr."""
    hidden = model.activation if len(model.nouts) > 1 else "no hidden layer"
    return f"MLP {'-'.join(str(n) for n in [model.nin, *model.nouts])} ({hidden})"


def _dash_expression_tip(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """For draw or explain with an expression that argparse would take for an option ("-x*y"): the
    error, with the same command written with its options first and the expression after ``--``."""
    if not argv or argv[0] not in ("draw", "explain") or "--" in argv:
        return None
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    options = commands[argv[0]]._option_string_actions
    option_tokens: list[str] = []
    positionals: list[str] = []
    tokens = iter(argv[1:])
    for token in tokens:
        name = token.split("=", 1)[0]
        matches = [o for o in options if o == name or (name.startswith("--") and o.startswith(name))]
        if len(matches) != 1:
            positionals.append(token)
            continue
        option_tokens.append(token)
        if "=" not in token and options[matches[0]].nargs != 0:
            option_tokens.extend(list(itertools.islice(tokens, 1)))  # the option's value
    # argparse reads a leading '-' as an option, unless the argument is a negative number or has a space
    expression = positionals[0] if positionals else ""
    if not expression.startswith("-") or " " in expression or _NEGATIVE_NUMBER.match(expression):
        return None
    command = shlex.join([PROG, argv[0], *option_tokens, "--", *positionals])
    return (
        f"{PROG} {argv[0]}: error: the expression {expression!r} starts with '-', which reads as an "
        f"option; put it after --:  {command}"
    )


def _heading(text: str) -> None:
    print(f"\n{text}\n{'=' * len(text)}")


# ----------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    tip = _dash_expression_tip(parser, argv)
    if tip:  # argparse would say only "unrecognized arguments: -x*y"
        print(tip, file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help(sys.stderr)
        return 2
    where = f"{PROG} {args.command}"
    from micrograd.viz import GraphvizNotFound

    try:
        return int(args.handler(args))
    except ExpressionError as exc:
        print(f"{where}: error: {exc}", file=sys.stderr)
        if exc.pointer():
            print(exc.pointer(), file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"{where}: error: {exc}", file=sys.stderr)
        return 2
    except (EnvironmentProblem, GraphvizNotFound, ImportError, OSError) as exc:
        print(f"{where}: error: {exc}", file=sys.stderr)
        return 1
    except ArithmeticError as exc:  # e.g. a learning rate so large that the loss overflows
        print(f"{where}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{where}: interrupted", file=sys.stderr)
        return 130
