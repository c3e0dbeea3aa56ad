"""The pictures the README shows of graphs and of training, drawn again into demos/images/.

    python demos/readme_images.py [--out demos/images]

neuron.png (the classic neuron), mlp.png (MLP(2, [4, 4, 1]) on one point, laid out as a network),
sigmoid_chain.png (the seed 004 network with every path from w31 to E_total marked) and
train_page.png (the training page of the classic moons run at step 60, shot by headless Chromium).
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
        shot = out / "train_page.png"
        chromium = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp}/profile", "--window-size=1240,1180", f"--screenshot={shot}",
             f"{page.as_uri()}#frame=24"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        written.append(shot)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEMOS / "images", help="where to write them")
    for path in main(parser.parse_args().out):
        print(f"wrote {path}")
