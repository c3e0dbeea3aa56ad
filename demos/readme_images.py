"""The pictures the README shows of graphs and of training, drawn again into demos/images/.

    python demos/readme_images.py [--out demos/images]

neuron.png (the classic neuron), mlp.png (MLP(2, [4, 4, 1]) on one point, laid out as a network),
sigmoid_chain.png (the seed 004 network with every path from w31 to E_total marked),
train_page.png (the training page of the classic moons run at step 60) and exercise_page.png (the
lesson's exercise page at the 2-2-2 network's output neuron, answered with one slip), both shot by
headless Chromium.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from micrograd.cli import NEURON, NEURON_VALUES
from micrograd.data import make_moons
from micrograd.engine import Value
from micrograd.explain import explain
from micrograd.losses import mse
from micrograd.nn import MLP
from micrograd.parser import build
from micrograd.training import fit
from micrograd.viz import render

DEMOS = Path(__file__).resolve().parent


def main(out: Path) -> list[Path]:
    written = []
    neuron, leaves = build(NEURON, NEURON_VALUES)
    neuron.backward()
    written.append(render(neuron, out / "neuron.png", params=[leaves[n] for n in ("w1", "w2", "b")]))

    model = MLP(2, [4, 4, 1], activation="tanh", seed=0)
    loss = (model([0.5, -0.3]) - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    written.append(render(loss, out / "mlp.png", model=model))

    sys.path.insert(0, str(DEMOS))
    seed = importlib.import_module("004_sigmoid_chain")
    E, _, values, _, _ = seed.build(seed.initial_weights())
    E.backward()
    params = [w for rows in values.values() for row in rows for w in row]
    written.append(render(E, out / "sigmoid_chain.png", params=params, path_from=values["d"][0][0]))

    X, y = make_moons(100, noise=0.1, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "train.html"
        fit(MLP(2, [16, 16, 1], seed=1), X, y, steps=100, progress=False, seed=1, html=page)
        written.append(screenshot(page, "#frame=24", out / "train_page.png", (1240, 1180), tmp))

    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "quiz.html"
        E, network = mazur()
        explain(E, model=network, lr=0.5).to_html(page, quiz=True)
        # the student's answers at step 8, typed in and checked: each right but dE/dL0.N1 (0.06232)
        answers = ["0.5933", "0.0822", "0.4", "0.0554", "0.5969", "0.08267", "0.45", "0.06", "1", "0.1385"]
        typing = (
            "<script>(() => { const form = document.querySelector('#step-8 form');"
            " form.querySelectorAll('input').forEach((input, i) => { input.value = ANSWERS[i]; });"
            " form.requestSubmit(); })();</script>"
        ).replace("ANSWERS", repr(answers))
        html = page.read_text(encoding="utf-8").replace("</body>", typing + "</body>")
        page.write_text(html, encoding="utf-8")
        written.append(screenshot(page, "#step-8", out / "exercise_page.png", (1280, 1000), tmp))
    return written


def mazur() -> tuple[Value, MLP]:
    """Mazur's 2-2-2 sigmoid network (the textbook's worked example) and its loss E, with its weights."""
    model = MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid", seed=0)
    # w1, w2, b1 (neuron h1); w3, w4, b1 (h2); w5, w6, b2 (o1); w7, w8, b2 (o2): nn's order, w0 w1 b
    values = [0.15, 0.20, 0.35, 0.25, 0.30, 0.35, 0.40, 0.45, 0.60, 0.50, 0.55, 0.60]
    model.load_state_dict(dict(zip(model.state_dict(), values)))
    E = mse(model([0.05, 0.10]), [0.01, 0.99], reduction="half_sum")
    E.label = "E"
    return E, model


def screenshot(page: Path, anchor: str, shot: Path, size: tuple[int, int], tmp: str) -> Path:
    """``page`` opened at ``anchor`` in headless Chromium, shot at ``size`` pixels into ``shot``."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={tmp}/profile", f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}",
         f"{page.as_uri()}{anchor}"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return shot


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEMOS / "images", help="where to write them")
    for path in main(parser.parse_args().out):
        print(f"wrote {path}")
