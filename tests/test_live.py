"""The training page as a file: what it records, its bounds, and what it refuses (the browser test
drives it in Chromium: test_live_browser.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from test_cli import run
from test_demos import REPO

from micrograd.data import make_moons
from micrograd.fmt import number
from micrograd.live import FRAMES, Recorder
from micrograd.nn import MLP
from micrograd.training import fit


def page_data(text: str) -> dict:
    match = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    assert match, "the page carries its data in one JSON script element"
    return json.loads(match.group(1))


def small_run(tmp_path, steps=12, frames=FRAMES, **options):
    X, y = make_moons(30, noise=0.1, seed=2)
    model = MLP(2, [4, 4, 1], seed=3)
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "train.html"
    history = (
        fit(model, X, y, steps=steps, progress=False, seed=2, html=path, **options)
        if frames == FRAMES
        else None
    )
    if history is None:
        recorder = Recorder(model, X, y, steps, frames=frames, path=path)
        history = fit(model, X, y, steps=steps, progress=False, seed=2, callback=recorder)
        recorder.write(history)
    return path, model, history, (X, y)


def test_fit_with_html_writes_one_page_that_loads_nothing(tmp_path):
    path, model, history, _ = small_run(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["train.html"]  # written atomically: no temporary
    text = path.read_text()
    assert text.lstrip().lower().startswith("<!doctype html>")
    # nothing to fetch: no external script, style, image or font; the only URLs are SVG's namespaces
    assert not re.search(r"<(script|link|img|iframe)[^>]*\b(src|href)=", text)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
        "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd",
    }
    data = page_data(text)
    # 12 steps and up to 40 frames: every step is recorded, and the state before training
    assert [f["step"] for f in data["frames"]] == list(range(13))
    assert data["names"] == [name for name, _ in model.named_parameters()]
    last = data["frames"][-1]
    assert last["params"] == [[number(p.data), number(p.grad)] for p in model.parameters()]
    assert last["loss"] == number(history.loss[-1])
    assert data["frames"][0]["loss"] is None and {g for _, g in data["frames"][0]["params"]} == {""}


def test_a_long_run_records_a_bounded_number_of_evenly_spread_frames(tmp_path):
    path, _, history, _ = small_run(tmp_path, steps=300, frames=7)
    data = page_data(path.read_text())
    assert [f["step"] for f in data["frames"]] == [0, 50, 100, 150, 200, 250, 300]
    assert len(data["curve"]["loss"]) == 300 and data["curve"]["loss"][-1] == float(f"{history.loss[-1]:.6g}")
    # four times the steps, the same frames: the page grows only by the loss curve's extra points
    longer, _, _, _ = small_run(tmp_path / "longer", steps=1200, frames=7)
    curve = page_data(longer.read_text())["curve"]
    assert (
        len(curve["loss"]) == 601 and curve["step"][:3] == [1, 3, 5] and curve["step"][-1] == 1200
    )  # every 2nd
    assert longer.stat().st_size < path.stat().st_size + 15_000


def test_the_classic_run_makes_a_page_of_bounded_size(tmp_path):
    X, y = make_moons(100, noise=0.1, seed=1)
    model = MLP(2, [16, 16, 1], seed=1)
    fit(model, X, y, steps=100, progress=False, seed=1, html=tmp_path / "classic.html")
    data = page_data((tmp_path / "classic.html").read_text())
    assert len(data["frames"]) == FRAMES
    assert (tmp_path / "classic.html").stat().st_size < 1_500_000


@pytest.mark.parametrize(
    "options, message",
    [
        ({"frames": 1}, "frames must be"),
        ({"frames": 201}, "at most 200"),
        ({"point": 30}, "choose a sample index from 0 to 29"),
        ({"loss": "nonsense"}, "unknown loss"),
    ],
)
def test_bad_options_are_refused_before_training(options, message):
    X, y = make_moons(30, noise=0.1, seed=2)
    with pytest.raises((ValueError, TypeError), match=message):
        Recorder(MLP(2, [3, 1], seed=0), X, y, 10, **options)


def test_a_network_too_large_to_show_at_every_step_is_refused():
    X, y = make_moons(30, noise=0.1, seed=2)
    # 2-64-64-1: 64 * 3 + 64 * 65 + 65 = 4,417 parameters, by hand
    with pytest.raises(ValueError, match="the model has 4,417 parameters, more than the 2,000"):
        Recorder(MLP(2, [64, 64, 1], seed=0), X, y, 10)


def test_data_that_is_not_a_plane_or_a_model_that_is_not_nn_is_refused(tmp_path):
    X3 = [[0.0, 1.0, 2.0], [1.0, 0.0, 2.0]]
    with pytest.raises(ValueError, match="need 2 features; these have 3"):
        Recorder(MLP(3, [2, 1], seed=0), X3, [0, 1], 5)
    with pytest.raises(TypeError, match="micrograd.nn model"):
        Recorder(lambda x: x, [[0.0, 1.0], [1.0, 0.0]], [0, 1], 5)


def test_an_unwritable_page_fails_before_any_step_is_taken(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    X, y = make_moons(30, noise=0.1, seed=2)
    model = MLP(2, [3, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(OSError, match="is a file, not a directory"):
        fit(model, X, y, steps=5, progress=False, html=tmp_path / "file" / "train.html")
    assert [p.data for p in model.parameters()] == before


def test_the_readme_pictures_are_drawn_by_their_script(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    script = str(REPO / "demos" / "readme_images.py")
    result = subprocess.run(
        [sys.executable, script, "--out", str(tmp_path)], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    from PIL import Image

    expected = ["exercise_page.png", "mlp.png", "neuron.png", "sigmoid_chain.png", "train_page.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    for name in expected:
        image = Image.open(tmp_path / name).convert("RGB")
        assert image.size[0] <= 1920 and image.size[1] <= 1180, name
        colors = image.getcolors(maxcolors=1 << 20)
        assert colors is not None and len(colors) > 20, f"{name} is (nearly) one colour"


def test_micrograd_train_html_writes_the_page(tmp_path):
    result = run(
        "train", "xor", "--steps", "8", "--frames", "5", "--html", "out/xor.html", "--quiet", cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote out/xor.html" in result.stdout
    data = page_data((tmp_path / "out" / "xor.html").read_text())
    assert [f["step"] for f in data["frames"]] == [0, 2, 4, 6, 8]


def test_micrograd_train_html_refuses_what_it_cannot_draw_before_training(tmp_path):
    result = run("train", "moons", "--html", "train.txt", cwd=tmp_path, timeout=300)
    assert (
        result.returncode == 2 and "--html train.txt: the file name must end in .html, .htm" in result.stderr
    )
    result = run("train", "moons", "--frames", "500", "--html", "t.html", cwd=tmp_path, timeout=300)
    assert result.returncode == 2 and "500 is out of range: use 1 .. 200" in result.stderr
    assert list(tmp_path.iterdir()) == []
