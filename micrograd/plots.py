"""Pictures of training: a classifier's decision boundary and its loss curve (matplotlib).

matplotlib is imported inside each function (importing micrograd stays quick), and figures are drawn on the
Agg canvas directly, so a plot never changes the backend of a notebook or a GUI session. Files are
written atomically, by their suffix: .png, .svg or .pdf.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micrograd.data import check_count, check_dataset
from micrograd.engine import Value, no_grad
from micrograd.files import write_atomic
from micrograd.fmt import POINT_COLORS, REGION_COLORS
from micrograd.install import missing_dependency
from micrograd.training import History, class_indices, predict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PLOT_FORMATS = ("png", "svg", "pdf")


def check_matplotlib() -> None:
    """Raise now the ImportError a plot would raise later: for work that runs long before it draws."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(missing_dependency("matplotlib", "a plot")) from exc


def new_figure(width: float = 6.0, height: float = 5.0) -> Figure:
    """A Figure of ``width`` x ``height`` inches on its own Agg canvas: pyplot's backend is left alone."""
    check_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _format(path: str | os.PathLike[str]) -> str:
    """The image type named by the suffix of ``path``; checked before any drawing is done."""
    suffix = Path(path).suffix
    if suffix.lower().lstrip(".") not in PLOT_FORMATS:
        raise ValueError(
            f"cannot tell the image type of {str(path)!r}: its suffix {suffix!r} is not one of "
            f"{', '.join('.' + f for f in PLOT_FORMATS)}"
        )
    return suffix.lower().lstrip(".")


def save_figure(figure: Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``figure`` atomically as .png, .svg or .pdf (by the suffix of ``path``); returns the path."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=_format(path), bbox_inches="tight")
    write_atomic(Path(path), buffer.getvalue())
    return Path(path)


def decision_boundary(
    model: Callable[[Any], Any],
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    path: str | os.PathLike[str],
    resolution: int = 50,
    title: str = "",
) -> Path:
    """Colour the plane by the class ``model`` predicts there, and draw the samples on top.

    ``X`` must have two features. ``resolution`` points per axis are classified (``resolution**2``
    forward passes, without recording a graph). Returns the path written.
    """
    _format(path)
    check_dataset(X, y)
    y = class_indices(y)  # -1/+1 labels become classes 0 and 1, as predict counts them
    bad = next((x for x in X if len(x) != 2), None)
    if bad is not None:
        raise ValueError(f"a decision boundary needs samples with 2 features, got {len(bad)}: {bad!r}")
    check_count(resolution, "resolution", minimum=2)
    xs, ys = [x[0] for x in X], [x[1] for x in X]
    margin_x, margin_y = 0.1 * (max(xs) - min(xs)) + 0.25, 0.1 * (max(ys) - min(ys)) + 0.25
    x_lo, x_hi, y_lo, y_hi = min(xs) - margin_x, max(xs) + margin_x, min(ys) - margin_y, max(ys) + margin_y
    grid_x = [x_lo + (x_hi - x_lo) * i / (resolution - 1) for i in range(resolution)]
    grid_y = [y_lo + (y_hi - y_lo) * j / (resolution - 1) for j in range(resolution)]
    points = [[gx, gy] for gy in grid_y for gx in grid_x]
    with no_grad():
        one_output = isinstance(model(points[0]), Value)
        scores = [model(p).data for p in points] if one_output else []

    from matplotlib.colors import ListedColormap

    figure = new_figure()
    ax = figure.add_subplot()
    if one_output:
        # One output is a score, class 1 where it is > 0: contouring the score itself at 0 draws
        # the boundary smoothly between grid points.
        rows = [scores[j * resolution : (j + 1) * resolution] for j in range(resolution)]
        low, high = min(scores), max(scores)
        levels = [min(low, -1.0) - 1.0, 0.0, max(high, 1.0) + 1.0]
        ax.contourf(grid_x, grid_y, rows, levels=levels, cmap=ListedColormap(REGION_COLORS[:2]))
        if low < 0.0 < high:
            ax.contour(grid_x, grid_y, rows, levels=[0.0], colors="#495057", linewidths=1.0)
    else:
        # Contouring the class index would interpolate through the classes between two indices
        # (a sliver of class 1 between classes 0 and 2), so each class is filled where its logit
        # beats all others (margin > 0), smooth between grid points, over the nearest grid cell's class.
        with no_grad():
            logits = [[o.data for o in model(p)] for p in points]
        flat = predict(model, points)
        classes = [flat[j * resolution : (j + 1) * resolution] for j in range(resolution)]
        k = max(2, max(flat) + 1, max(y) + 1)
        regions = ListedColormap([REGION_COLORS[c % len(REGION_COLORS)] for c in range(k)])
        ax.pcolormesh(grid_x, grid_y, classes, shading="nearest", cmap=regions, vmin=-0.5, vmax=k - 0.5)
        for c in sorted(set(flat)):
            margins = [s[c] - max(s[d] for d in range(len(s)) if d != c) for s in logits]
            rows = [margins[j * resolution : (j + 1) * resolution] for j in range(resolution)]
            if max(margins) > 0.0:
                top = max(margins) + 1.0
                ax.contourf(grid_x, grid_y, rows, levels=[0.0, top], colors=[regions(c)])
    for c in sorted(set(y)):
        members = [x for x, label in zip(X, y) if label == c]
        ax.scatter(
            [m[0] for m in members],
            [m[1] for m in members],
            s=28,
            color=POINT_COLORS[c % len(POINT_COLORS)],
            edgecolors="black",
            linewidths=0.5,
            label=f"class {c}",
        )
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or "decision boundary")
    return save_figure(figure, path)


def loss_curve(history: History, path: str | os.PathLike[str], title: str = "") -> Path:
    """The loss per training step (log scale) and the accuracy beside it; returns the path written."""
    _format(path)
    if not history.loss:
        raise ValueError("the history is empty: train for at least one step before plotting it")
    steps = list(range(1, len(history.loss) + 1))
    figure = new_figure(7.0, 4.0)
    ax = figure.add_subplot()
    ax.plot(steps, history.loss, color="#1c7ed6", label="loss")
    if min(history.loss) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss", color="#1c7ed6")
    if history.accuracy:
        right = ax.twinx()
        right.plot(steps, [100 * a for a in history.accuracy], color="#e8590c", label="accuracy")
        right.set_ylabel("training accuracy (%)", color="#e8590c")
        right.set_ylim(0, 105)
    ax.set_title(title or "training")
    ax.grid(True, alpha=0.3)
    return save_figure(figure, path)
