"""Training you can watch: one offline HTML page that replays how a small network learned.

Python trains; the page replays. A ``Recorder`` is ``fit``'s callback (``fit(..., html=path)`` makes
one, as does ``micrograd train ... --html``): before the first step and after chosen steps (at most
``frames`` in all, evenly spread) it records the state of the model, and ``write`` makes one
self-contained page that shows, at every recorded step, with a slider and a play button:

- the decision boundary over the input plane, the training points on it;
- the loss curve, the current step marked;
- every parameter's value after that step and the gradient the step applied;
- the graph of one data point's forward pass and its own loss, with each value and gradient;
- the network in the manner of TensorFlow Playground: each neuron a small heatmap of its output over
  the input plane, each connection coloured by its weight's sign (blue +, orange -) and as thick as
  its magnitude.

The page loads nothing (no network, no CDN); its HTML and script are package data files
(``live_page/``). The recorded numbers are written as the other renderings write them
(``fmt.format_number``), the grids as bytes: a run of any length makes a page of bounded size.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from micrograd.data import as_list, check_count, check_dataset
from micrograd.engine import RULES, Value, affine_layer, grad, topological_order
from micrograd.files import check_writable, write_atomic
from micrograd.fmt import NEGATIVE, POSITIVE, format_number

# At most this many recorded steps (the first frame is the state before training).
FRAMES = 40
MAX_FRAMES = 200
# The decision boundary: RESOLUTION x RESOLUTION cells; each neuron's heatmap: every second of them.
RESOLUTION = 32
NEURON_STRIDE = 2
# The loss curve keeps at most this many points; the plane at most this many training points.
CURVE_POINTS = 1000
SHOWN_POINTS = 500
# The point graph is drawn in full up to this many boxes, else one box per neuron.
GRAPH_BOXES = 80
# The page shows every weight at every frame (its table, its network view): a network of up to this
# many parameters (2-40-40-1 has 1,801), so that the page stays a few MB and the view legible.
MAX_PARAMETERS = 2000
# Class colours: light for regions, strong for points (as micrograd.plots draws them).
REGION_COLORS = ["#a5d8ff", "#ffc9c9", "#b2f2bb", "#ffec99", "#d0bfff", "#ffd8a8", "#99e9f2", "#eebefa"]
POINT_COLORS = ["#1c7ed6", "#e03131", "#2f9e44", "#f08c00", "#7048e8", "#e8590c", "#0c8599", "#ae3ec9"]


class Recorder:
    """``fit``'s callback that records training for the page; ``write`` makes the page.

    ``model`` is a ``micrograd.nn`` model (its ``structure()`` gives the neurons to draw) with two
    inputs (the page draws the input plane); ``X``, ``y`` the training data; ``steps`` the number of
    steps ``fit`` will take; ``loss`` ``fit``'s loss (the point graph shows one point's own loss);
    ``point`` which sample's forward pass to draw. ``path``, when given, is checked writable now, so
    that a bad path fails before training rather than after it.
    """

    def __init__(
        self,
        model: Any,
        X: Sequence[Sequence[float]],
        y: Sequence[int],
        steps: int,
        loss: str | Callable[..., Value] = "hinge",
        frames: int = FRAMES,
        point: int = 0,
        path: str | os.PathLike[str] | None = None,
        title: str = "",
    ) -> None:
        from micrograd.training import LOSSES, check_loss, class_indices

        structure = getattr(model, "structure", None)
        if not callable(structure):
            raise TypeError(
                "the training page draws a micrograd.nn model (Neuron, Layer, MLP), "
                f"got {type(model).__name__}"
            )
        X, y = as_list(X), as_list(y)
        check_dataset(X, y)
        if len(X[0]) != 2:
            raise ValueError(
                "the training page draws the input plane, so the samples need 2 features; "
                f"these have {len(X[0])}"
            )
        check_count(steps, "steps")
        frames = check_count(frames, "frames", minimum=2)
        if frames > MAX_FRAMES:
            raise ValueError(f"frames={frames}: a page records at most {MAX_FRAMES} steps")
        if isinstance(point, bool) or not isinstance(point, int) or not 0 <= point < len(X):
            raise ValueError(f"point={point!r}: choose a sample index from 0 to {len(X) - 1}")
        check_loss(loss, LOSSES)
        self.structure = structure()
        count = len(self.structure.params)
        if count > MAX_PARAMETERS:
            raise ValueError(
                f"the training page shows every parameter at every step: the model has {count:,} "
                f"parameters, more than the {MAX_PARAMETERS:,} a page holds (an MLP 2-40-40-1 has 1,801); "
                "use smaller layers"
            )
        if path is not None:
            check_writable(Path(path))
        self.model = model
        self.X = [[float(v) for v in x] for x in X]
        self.classes = class_indices(y)
        self.steps = steps
        self.loss = LOSSES[loss] if isinstance(loss, str) else loss
        self.targets = self.classes if isinstance(loss, str) else list(y)
        self.loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "custom loss")
        self.point = point
        self.path = path
        self.title = title
        self.params = [p for layer in self.structure.layers for n in layer for p in n.params]
        self.names = [self.structure.params[p].name for p in self.params]
        # the steps recorded: 0 (before training), then evenly spread up to the last
        count = min(frames, steps + 1)
        self.recorded = sorted({round(i * steps / (count - 1)) for i in range(count)})
        self.extent = _extent(self.X)
        self.grid = _grid(self.extent, RESOLUTION)
        self.frames: list[dict[str, Any]] = []
        self.history: Any = None
        self.collapse, self.shown = self._graph_plan()
        self._record(0, None)

    def __call__(self, k: int, history: Any) -> None:
        """After step ``k`` (0-based) of ``fit``: record it if it is one of the chosen steps."""
        self.history = history
        if k + 1 in self.recorded:
            self._record(k + 1, history)

    def chain(self, callback: Callable[[int, Any], None] | None) -> Callable[[int, Any], None]:
        """A callback that records, then calls ``callback`` (fit's own) if there is one."""
        if callback is None:
            return self

        def both(k: int, history: Any) -> None:
            self(k, history)
            callback(k, history)

        return both

    # -- recording ---------------------------------------------------------------------------

    def _record(self, step: int, history: Any) -> None:
        layers = self.structure.layers
        outputs = _neuron_outputs(layers, self.grid)
        last = outputs[-1]
        decided, confidence = _decide(last)
        neurons = []
        for j in range(len(outputs)):
            for values in outputs[j]:
                sub = _subsample(values, RESOLUTION, NEURON_STRIDE)
                scale = max((abs(v) for v in sub), default=0.0)
                quantized = bytes(128 + (round(127 * v / scale) if scale > 0 else 0) for v in sub)
                neurons.append([_b64(quantized), format_number(scale)])
        frame: dict[str, Any] = {
            "step": step,
            "loss": format_number(history.loss[step - 1]) if history is not None else None,
            "accuracy": history.accuracy[step - 1] if history is not None else None,
            "params": [
                [format_number(p.data), format_number(p.grad) if history is not None else ""]
                for p in self.params
            ],
            "boundary": _b64(bytes(decided)),
            "confidence": _b64(bytes(confidence)),
            "neurons": neurons,
            "graph": self._point_graph(),
        }
        self.frames.append(frame)

    def _point_loss(self) -> Value:
        out = self.model(self.X[self.point])
        return self.loss([out], [self.targets[self.point]])  # type: ignore[no-any-return]

    def _graph_plan(self) -> tuple[bool, list[int]]:
        """Whether the point graph is drawn one box per neuron, and the positions of the values it shows."""
        from micrograd.viz.graph import build

        loss = self._point_loss()
        for collapse in (False, True):
            picture = build(loss, collapse=collapse, model=self.model)
            shown = [int(n.id[1:]) for n in picture.nodes if n.kind in ("value", "neuron")]
            if len(shown) <= GRAPH_BOXES or collapse:
                return collapse, shown
        raise AssertionError("unreachable")

    def _point_graph(self) -> dict[str, list[str]]:
        """The point's forward pass and loss now: each shown node's data and d(loss)/d(node), by SVG id."""
        loss = self._point_loss()
        order = topological_order(loss)
        grads = grad(loss, order)
        return {
            f"v{i}": [f"data {format_number(order[i].data)}", f"grad {format_number(grads[i])}"]
            for i in self.shown
        }

    # -- the page ----------------------------------------------------------------------------

    def page(self, history: Any = None) -> str:
        """The page as HTML text (see the module docstring)."""
        history = history if history is not None else self.history
        template = _read("train.html")
        script = _read("train.js")
        graph_svg, graph_note = self._graph_svg()
        data = {
            "title": self._title(),
            "steps": self.steps,
            "frames": self.frames,
            "names": self.names,
            "layers": [
                [{"name": n.name, "activation": n.activation, "size": len(n.params) - 1} for n in layer]
                for layer in self.structure.layers
            ],
            "nin": self.structure.nin,
            "extent": self.extent,
            "resolution": RESOLUTION,
            "neuronResolution": len(range(0, RESOLUTION, NEURON_STRIDE)),
            "points": [[x[0], x[1], c] for x, c in list(zip(self.X, self.classes))[:SHOWN_POINTS]],
            "point": self.point,
            "classes": max(2, max(self.classes) + 1),
            "regionColors": REGION_COLORS,
            "pointColors": POINT_COLORS,
            "positive": POSITIVE,
            "negative": NEGATIVE,
            "curve": _curve(history),
            "lossName": self.loss_name,
        }
        fields = {
            "TITLE": html.escape(self._title()),
            "GRAPH": graph_svg,
            "GRAPHNOTE": html.escape(graph_note),
            # "<" escaped as \u003c so no string in the data can close the <script> element
            "DATA": json.dumps(data, separators=(",", ":")).replace("<", "\\u003c"),
            "SCRIPT": script,
        }
        # One pass over the template, so a value that reads "@DATA@" is never substituted itself.
        return re.sub(r"@([A-Z]+)@", lambda m: fields[m.group(1)], template)

    def write(self, history: Any = None, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the page, atomically, to ``path`` (or the path given when recording began)."""
        target = path if path is not None else self.path
        if target is None:
            raise ValueError("Recorder.write: no path to write the page to")
        write_atomic(Path(target), self.page(history).encode("utf-8"))
        return Path(target)

    def _title(self) -> str:
        if self.title:
            return self.title
        sizes = "-".join(
            str(n) for n in [self.structure.nin, *(len(layer) for layer in self.structure.layers)]
        )
        return f"Training an MLP {sizes} ({self.loss_name} loss), {self.steps} steps"

    def _graph_svg(self) -> tuple[str, str]:
        """The point graph, drawn once; the page writes each frame's numbers into it. Each box is laid
        out with the widest numbers it will show, so that every frame's fit."""
        from micrograd.viz import TooLargeToDraw, draw_dot

        loss = self._point_loss()
        order = topological_order(loss)
        # the boxes' numbers: only their width matters here, the page writes each frame's
        values, grads = {}, {}
        for i in self.shown:
            data, gradient = (max((f["graph"][f"v{i}"][k] for f in self.frames), key=len) for k in (0, 1))
            values[order[i]] = float(data.removeprefix("data "))
            grads[order[i]] = float(gradient.removeprefix("grad "))
        x = self.X[self.point]
        where = f"({format_number(x[0])}, {format_number(x[1])})"
        note = f"Sample {self.point}, {where}: its forward pass and its own loss"
        how = ", one box per neuron" if self.collapse else ""
        try:
            graph = draw_dot(
                loss, model=self.model, values=values, grads=grads, collapse=self.collapse, max_nodes=1000
            )
        except TooLargeToDraw as exc:
            return "", f"{note}: too large to draw ({exc.figure})"
        svg = graph.pipe(format="svg").decode("utf-8")
        return svg[svg.index("<svg") :], note + how


# ----------------------------------------------------------------------------------------------


def _extent(X: Sequence[Sequence[float]]) -> list[float]:
    """The plane the page draws: the data's box with a margin (as micrograd.plots draws it)."""
    xs, ys = [x[0] for x in X], [x[1] for x in X]
    margin_x, margin_y = 0.1 * (max(xs) - min(xs)) + 0.25, 0.1 * (max(ys) - min(ys)) + 0.25
    return [min(xs) - margin_x, max(xs) + margin_x, min(ys) - margin_y, max(ys) + margin_y]


def _grid(extent: Sequence[float], resolution: int) -> list[tuple[float, float]]:
    """Cell centres, row by row from the top (largest y) as an image is stored."""
    x_lo, x_hi, y_lo, y_hi = extent
    return [
        (x_lo + (x_hi - x_lo) * (i + 0.5) / resolution, y_hi - (y_hi - y_lo) * (j + 0.5) / resolution)
        for j in range(resolution)
        for i in range(resolution)
    ]


def _neuron_outputs(
    layers: Sequence[Sequence[Any]], points: Sequence[Sequence[float]]
) -> list[list[list[float]]]:
    """Each neuron's output at each point, ``outputs[layer][neuron][point]``: the engine's layer forward."""
    outputs: list[list[list[float]]] = [[[] for _ in layer] for layer in layers]
    params = [[n.params for n in layer] for layer in layers]
    activations = [_activation(layer[0].activation) for layer in layers]
    for point in points:  # recorded (the fast path of affine_layer); the nodes are dropped at once
        x: Sequence[Any] = (float(point[0]), float(point[1]))
        for k in range(len(layers)):
            outs = affine_layer(params[k], x, activations[k])
            for j, out in enumerate(outs):
                outputs[k][j].append(out.data)
            x = outs
    return outputs


def _activation(name: str) -> str | None:
    return None if name == "linear" or name not in RULES else name


def _decide(last: list[list[float]]) -> tuple[list[int], list[int]]:
    """The class at each point (as ``training.predict`` decides) and how sure, 0..255: one output is a
    score (class 1 above 0; sure at |score| >= 1), several are logits (the softmax of the winner)."""
    classes, sure = [], []
    for p in range(len(last[0])):
        if len(last) == 1:
            score = last[0][p]
            classes.append(int(score > 0))
            sure.append(round(255 * min(1.0, abs(score))))
        else:
            logits = [outs[p] for outs in last]
            best = max(range(len(logits)), key=lambda c: logits[c])
            top = logits[best]
            share = 1.0 / sum(math.exp(v - top) for v in logits)
            k = len(logits)
            classes.append(best)
            sure.append(round(255 * (share - 1.0 / k) / (1.0 - 1.0 / k)))
    return classes, sure


def _subsample(values: Sequence[float], resolution: int, stride: int) -> list[float]:
    return [
        values[j * resolution + i] for j in range(0, resolution, stride) for i in range(0, resolution, stride)
    ]


def _curve(history: Any) -> dict[str, list[float]]:
    """The loss and accuracy per step, thinned to at most CURVE_POINTS points (the last one kept)."""
    if history is None or not history.loss:
        return {"step": [], "loss": [], "accuracy": []}
    n = len(history.loss)
    every = max(1, math.ceil(n / CURVE_POINTS))
    steps = sorted({*range(1, n + 1, every), n})
    return {
        "step": steps,
        "loss": [float(f"{history.loss[s - 1]:.6g}") for s in steps],
        "accuracy": [round(history.accuracy[s - 1], 4) for s in steps],
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _read(name: str) -> str:
    return resources.files("micrograd").joinpath("live_page").joinpath(name).read_text(encoding="utf-8")
