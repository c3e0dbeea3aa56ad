"""The training page in real headless Chromium: the slider moves the boundary, play advances the step,
and what the page shows at a step is the training state at that step, recomputed here.

The oracle is a second training run with the same seed, whose state this test snapshots after every
step itself (no page involved): parameter values and gradients, the loss; the decision boundary and
the point's numbers are recomputed from those parameters by hand (a forward pass in floats).
"""

from __future__ import annotations

import base64
import io
import json
import math
import time

import pytest
from PIL import Image
from test_explain_browser import DevTools, Page, chromium_binary

from micrograd.data import make_moons
from micrograd.fmt import NEGATIVE, POSITIVE, format_number
from micrograd.nn import MLP
from micrograd.training import fit

STEPS = 12
FRAMES = 7  # steps 0, 2, 4, ..., 12
SEED = 2


def data_and_model():
    X, y = make_moons(30, noise=0.1, seed=SEED)
    return X, y, MLP(2, [4, 4, 1], activation="tanh", seed=3)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The page of one run, and what an identical run went through, snapshotted after every step."""
    from micrograd.live import Recorder

    path = tmp_path_factory.mktemp("live") / "train.html"
    X, y, model = data_and_model()
    recorder = Recorder(model, X, y, STEPS, frames=FRAMES, path=path)
    recorder.write(fit(model, X, y, steps=STEPS, progress=False, seed=SEED, callback=recorder))

    X, y, model = data_and_model()
    snapshots = {0: ([p.data for p in model.parameters()], None)}

    def snapshot(k, history):
        snapshots[k + 1] = ([p.data for p in model.parameters()], [p.grad for p in model.parameters()])

    history = fit(model, X, y, steps=STEPS, progress=False, seed=SEED, callback=snapshot)
    names = [name for name, _ in model.named_parameters()]
    return path, snapshots, history, X, y, names


@pytest.fixture
def page(run, tmp_path):
    devtools = DevTools(chromium_binary(), tmp_path / "profile")
    try:
        yield Page(devtools, run[0].as_uri())
    finally:
        devtools.close()


def forward(params: list[float], x: list[float]) -> tuple[list[list[float]], float]:
    """MLP 2-4-4-1 with tanh in floats, by hand: each layer's outputs and the score."""
    layers, k, outs, a = [(2, 4), (4, 4), (4, 1)], 0, [], list(x)
    for nin, nout in layers:
        layer = []
        for _ in range(nout):
            w, b = params[k : k + nin], params[k + nin]
            k += nin + 1
            net = b + sum(wi * ai for wi, ai in zip(w, a))
            layer.append(net if nout == 1 else math.tanh(net))
        outs.append(layer)
        a = layer
    return outs, outs[-1][0]


def shown(page: Page) -> dict:
    return json.loads(
        page.js(
            """JSON.stringify({
              counter: document.getElementById("counter").textContent,
              stats: document.getElementById("stats").textContent,
              slider: Number(document.getElementById("step").value),
              rows: Array.from(document.querySelectorAll("#params tbody tr"))
                .map(r => Array.from(r.cells).map(c => c.textContent)),
              marker: Number(document.getElementById("loss-marker").getAttribute("cx")),
            })"""
        )
    )


def boundary_pixels(page: Page) -> list[list[int]]:
    return json.loads(
        page.js(
            """(() => { const c = document.getElementById("boundary");
              const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
              return JSON.stringify(Array.from(d)); })()"""
        )
    )


def test_the_page_shows_the_recorded_training_state_at_each_step(page, run):
    path, snapshots, history, X, y, names = run
    first = shown(page)
    assert first["counter"] == f"step 0 / {STEPS}" and first["stats"] == "before training"
    assert [row[0] for row in first["rows"]] == names
    assert [row[1] for row in first["rows"]] == [format_number(v) for v in snapshots[0][0]]
    markers = [first["marker"]]
    before = boundary_pixels(page)

    page.js('document.getElementById("step").focus()')
    for _ in range(3):
        page.key("ArrowRight", 39)  # the slider, moved as a user moves it: three frames on, step 6
    now = shown(page)
    assert now["slider"] == 3 and now["counter"] == f"step 6 / {STEPS}"
    assert (
        now["stats"]
        == f"loss {format_number(history.loss[5])}, training accuracy {100 * history.accuracy[5]:.1f}%"
    )
    values, grads = snapshots[6]
    assert [row[1] for row in now["rows"]] == [format_number(v) for v in values]
    assert [row[2] for row in now["rows"]] == [format_number(g) for g in grads]  # the gradient step 6 applied
    after = boundary_pixels(page)
    assert after != before, "the slider must move the boundary image"
    markers.append(now["marker"])

    # the boundary at step 6, cell by cell: the class of each cell's centre, recomputed by hand
    xs, ys = [x[0] for x in X], [x[1] for x in X]
    mx, my = 0.1 * (max(xs) - min(xs)) + 0.25, 0.1 * (max(ys) - min(ys)) + 0.25
    x0, x1, y0, y1 = min(xs) - mx, max(xs) + mx, min(ys) - my, max(ys) + my
    width = 320
    checked = 0
    for j in range(32):
        for i in range(32):
            px, py = int((i + 0.5) * width / 32), int((j + 0.5) * width / 32)
            cx, cy = x0 + (x1 - x0) * (i + 0.5) / 32, y1 - (y1 - y0) * (j + 0.5) / 32
            near_point = any(
                math.hypot((x[0] - x0) / (x1 - x0) * width - px, (y1 - x[1]) / (y1 - y0) * width - py) < 9
                for x in X
            )
            score = forward(values, [cx, cy])[1]
            if near_point or abs(score) < 0.05:
                continue  # under a drawn point, or where the smoothing blends two classes
            o = 4 * (py * width + px)
            r, g, b = after[o : o + 3]
            drawn = 0 if b > r else 1  # class 0 is drawn blue, class 1 red
            assert drawn == int(score > 0), f"cell ({i}, {j}) at ({cx:.2f}, {cy:.2f}): score {score:.3f}"
            checked += 1
    assert checked > 500

    # the network view at step 6: each connection's colour is its weight's sign
    for name, w in zip(names, values):
        if ".w" not in name:
            continue
        stroke = page.js(f'document.getElementById("edge-{name}").getAttribute("stroke")')
        assert stroke == (POSITIVE if w >= 0 else NEGATIVE), name
    widths = {
        name: float(page.js(f'document.getElementById("edge-{name}").getAttribute("stroke-width")'))
        for name in names
        if ".w" in name
    }
    weights = dict(zip(names, values))
    assert max(widths, key=widths.get) == max(widths, key=lambda n: abs(weights[n]))  # thickest = largest

    # the point's graph at step 6: the output and a weight's gradient of the point's own loss
    point, label = X[0], 2 * y[0] - 1
    outs, score = forward(values, point)
    texts = json.loads(
        page.js(
            """JSON.stringify(Array.from(document.querySelectorAll("#graph g.node"))
              .map(g => Array.from(g.querySelectorAll("text")).map(t => t.textContent)))"""
        )
    )
    boxes = {t[0]: t[1:] for t in texts if t}
    assert f"data {format_number(score)}" in [b[0] for b in boxes.values() if b]
    # hinge of one point: relu(1 - label * score); d/d(L2.N0.w1) = -label * (layer 1 output 1) if active
    expected = -label * outs[1][1] if 1 - label * score > 0 else 0.0
    assert boxes["L2.N0.w1"][1] == f"grad {format_number(expected)}"

    page.key("ArrowRight", 39)
    markers.append(shown(page)["marker"])
    assert markers == sorted(markers) and len(set(markers)) == 3  # the loss marker moves along with the step


def test_play_advances_the_step_and_the_screenshot_is_not_blank(page, tmp_path):
    assert shown(page)["slider"] == 0
    page.click("#play")
    deadline = time.monotonic() + 10
    while shown(page)["slider"] < 2:
        assert time.monotonic() < deadline, "play did not advance the step"
        time.sleep(0.1)
    assert shown(page)["counter"] != f"step 0 / {STEPS}"
    page.click("#play")  # pause
    paused = shown(page)["slider"]
    time.sleep(1.0)
    assert shown(page)["slider"] == paused
    assert page.js("performance.getEntriesByType('resource').length") == 0  # loads nothing

    shot = page.call("Page.captureScreenshot", {"format": "png"})
    image = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")
    colors = image.getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 100, "the screenshot is (nearly) one colour: a blank page"
    rgb = {c for _, c in colors}
    positive = tuple(int(POSITIVE[i : i + 2], 16) for i in (1, 3, 5))
    assert any(
        sum(abs(a - b) for a, b in zip(c, positive)) < 30 for c in rgb
    )  # the network's blue is on screen
    (tmp_path / "screenshot.png").write_bytes(base64.b64decode(shot["data"]))
