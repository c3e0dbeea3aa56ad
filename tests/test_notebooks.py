"""The notebooks in demos/, one per job, run top to bottom on a kernel of this environment's Python.

They are committed without outputs; here every cell runs (nbclient stops at the first error) and
each tagged cell shows what a student should see: graphs as SVG with the values and gradients
worked by hand, the explanation's steps, training with a notebook progress bar, the pictures.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from drawing import shown
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from micrograd.nn import MLP

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "demos").glob("*.ipynb"))
SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory) -> KernelSpecManager:
    """A kernel spec that runs this interpreter (not whatever `python3` kernel the machine has)."""
    from ipykernel.kernelspec import write_kernel_spec

    kernels = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(str(kernels / "micrograd-tests"), overrides={"display_name": "micrograd tests"})
    spec = json.loads((kernels / "micrograd-tests" / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    return KernelSpecManager(kernel_dirs=[str(kernels)])


def execute(
    notebook: nbformat.NotebookNode, cwd: Path, kernel_specs: KernelSpecManager
) -> nbformat.NotebookNode:
    manager = KernelManager(kernel_name="micrograd-tests", kernel_spec_manager=kernel_specs)
    client = NotebookClient(notebook, km=manager, timeout=300, resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return notebook


@pytest.fixture(scope="module")
def executed(kernel_specs, tmp_path_factory) -> dict[str, tuple[nbformat.NotebookNode, Path]]:
    """Each notebook of demos/ run once, in a folder of its own: name -> (the run notebook, the folder)."""
    runs = {}
    for path in NOTEBOOKS:
        cwd = tmp_path_factory.mktemp(path.stem)
        runs[path.stem] = execute(nbformat.read(path, as_version=4), cwd, kernel_specs), cwd
    return runs


def tagged(notebook: nbformat.NotebookNode, tag: str) -> list[nbformat.NotebookNode]:
    cells = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    assert cells, f"no cell tagged {tag!r}"
    return cells


def outputs_of(cell: nbformat.NotebookNode, mimetype: str) -> list[str]:
    return [o["data"][mimetype] for o in cell.outputs if mimetype in o.get("data", {})]


def stdout_of(cell: nbformat.NotebookNode) -> str:
    return "".join(o["text"] for o in cell.outputs if o.get("name") == "stdout")


def value_boxes(svg_text: str) -> dict[str, list[str]]:
    """The texts of each value's box in a graph's SVG, by its label: [label, 'data ...', 'grad ...']."""
    boxes = {}
    for group in ET.fromstring(svg_text).iter(f"{SVG}g"):
        texts = [html.unescape("".join(t.itertext())) for t in group.iter(f"{SVG}text")]
        if "node" in (group.get("class") or "") and len(texts) == 3 and texts[1].startswith("data"):
            boxes[texts[0]] = texts
    return boxes


# ----------------------------------------------------------------------------------------------
# As committed


def test_there_is_a_notebook_for_each_job():
    assert [p.name for p in NOTEBOOKS] == ["draw_graphs.ipynb", "teach_one_neuron.ipynb", "train_moons.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_committed_valid_and_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source
    assert notebook.metadata.kernelspec.name == "python3"  # a student's own Python kernel


# ----------------------------------------------------------------------------------------------
# Run


def test_teach_one_neuron_shows_each_step_with_the_hand_derived_numbers(executed):
    notebook, cwd = executed["teach_one_neuron"]
    (forward,) = tagged(notebook, "forward")
    (shown,) = outputs_of(forward, "text/plain")
    data = re.fullmatch(r"Value\(data=(\S+), grad=0\.0, label='out'\)", shown)
    assert data and float(data.group(1)) == pytest.approx(1 / math.sqrt(2), rel=1e-15)  # tanh(0.8814)
    before, after = (outputs_of(cell, "image/svg+xml") for cell in tagged(notebook, "graph"))
    # before backward every grad is 0; after it, tanh'(n) = 1 - out^2 = 0.5 times each operand's partner
    # (4 significant digits, as explain writes them)
    assert value_boxes(before[0])["x1"] == ["x1", "data 2.000", "grad 0"]
    boxes = value_boxes(after[0])
    assert boxes["out"] == ["out", "data 0.7071", "grad 1.000"]
    assert boxes["n"] == ["n", "data 0.8814", "grad 0.5000"]
    assert boxes["x1"] == ["x1", "data 2.000", "grad -1.500"]
    assert boxes["w1"] == ["w1", "data -3.000", "grad 1.000"]
    assert boxes["w2"] == ["w2", "data 1.000", "grad 0"]  # 0.5 * x2 = 0
    (explain_cell,) = tagged(notebook, "explain")
    # the Explanation shows itself: the stepping widget (HTML, nothing loaded from the network) and
    # its Markdown, each with the hand-derived steps: tanh' = 1 - out^2 = 0.5, then 0.5 * w1, 0.5 * x1
    (page,) = outputs_of(explain_cell, "text/html")
    (markdown,) = outputs_of(explain_cell, "text/markdown")
    for shown in (html.unescape(page), markdown):
        assert "∂out/∂n = 1 - out^2 = 1 - 0.7071^2 = 0.5000" in shown
        assert "dout/dx1 += dout/dn1 * ∂n1/∂x1 = 0.5000 * (-3.000) = -1.500" in shown
        assert "dout/dw1 += dout/dn1 * ∂n1/∂w1 = 0.5000 * 2.000 = 1.000" in shown
    assert "<script" in page and not re.search(r"<script[^>]+src=|<link[^>]+href=", page)
    (check,) = tagged(notebook, "check")
    assert stdout_of(check).splitlines() == [
        "1 - out^2 = 0.5000",
        "d out/d x1 = -1.5000   d out/d w1 = 1.0000   d out/d b = 0.5000",
    ]
    page = (cwd / "neuron_backprop.html").read_text()
    assert page.lstrip().lower().startswith("<!doctype html") and "<svg" in page


def test_draw_graphs_shows_every_graph_inline_with_the_two_paths_added(executed):
    notebook, cwd = executed["draw_graphs"]
    graphs = [outputs_of(cell, "image/svg+xml") for cell in tagged(notebook, "graph")]
    assert [len(g) for g in graphs] == [1, 1, 1, 1]  # each graph cell shows one picture
    # L = (a*b)*f + 4a = -4; dL/da = b*f + 4 = -2 (two paths), dL/db = a*f = 4, dL/dc = f = 2
    for svg in graphs[:2]:
        boxes = value_boxes(svg[0])
        assert boxes["L"][1:] == ["data -4.000", "grad 1.000"]
        assert boxes["a"][1:] == ["data 2.000", "grad -2.000"]
        assert boxes["b"][1:] == ["data -3.000", "grad 4.000"]
        assert boxes["c"][1:] == ["data -6.000", "grad 2.000"]
    # MLP(2, [2, 1], tanh, seed 0) on the sample [1, -0.5], loss (out - 1)^2: rebuilt here with the
    # same seed, each weight's gradient taken by central finite differences, the forward in floats
    model = MLP(2, [2, 1], activation="tanh", fused=False, seed=0)
    params = dict(model.named_parameters())

    def loss_at() -> float:
        h = [
            math.tanh(sum(w.data * x for w, x in zip(n.w, [1.0, -0.5])) + n.b.data)
            for n in model.layers[0].neurons
        ]
        (out,) = [sum(w.data * x for w, x in zip(n.w, h)) + n.b.data for n in model.layers[1].neurons]
        return (out - 1.0) ** 2

    network = value_boxes(graphs[2][0])
    assert network["loss"][1] == f"data {shown(loss_at())}"
    for name, p in params.items():
        p.data += 1e-6
        up = loss_at()
        p.data -= 2e-6
        down = loss_at()
        p.data += 1e-6
        assert network[name] == [name, f"data {shown(p.data)}", f"grad {shown((up - down) / 2e-6)}"], name
    # collapsed: one box per neuron, its output as the forward in floats computes it
    collapsed = value_boxes(graphs[3][0])
    hidden = [
        math.tanh(sum(w.data * x for w, x in zip(n.w, [1.0, -0.5])) + n.b.data)
        for n in model.layers[0].neurons
    ]
    assert collapsed["L0.N0: tanh(w·x+b)"][1] == f"data {shown(hidden[0])}"
    assert collapsed["L0.N1: tanh(w·x+b)"][1] == f"data {shown(hidden[1])}"
    assert "L1.N0: w·x+b" in collapsed and not any(label.startswith("L0.N0.w") for label in collapsed)
    (files,) = tagged(notebook, "files")
    assert stdout_of(files).split() == ["expression.svg", "network.png"]
    assert ">grad -2.000<" in html.unescape((cwd / "expression.svg").read_text())
    assert (cwd / "network.png").read_bytes().startswith(PNG_SIGNATURE)


def test_train_moons_shows_a_notebook_progress_bar_the_model_and_its_pictures(executed):
    notebook, cwd = executed["train_moons"]
    (model,) = tagged(notebook, "model")
    # 2*16 + 16 + 16*16 + 16 + 16 + 1 = 337 weights and biases
    assert outputs_of(model, "text/plain") == ["MLP(2 -> 16 relu -> 16 relu -> 1 linear, 337 parameters)"]
    (train,) = tagged(notebook, "train")
    assert outputs_of(train, WIDGET), "fit's progress bar should be a notebook widget"
    assert not [o for o in train.outputs if o.get("name") == "stderr"]  # no text bar beside it
    assert re.fullmatch(r"loss \d\.\d{4} -> \d\.\d{4}, training accuracy 100%\n", stdout_of(train))
    for tag, name in (("boundary", "moons_boundary.png"), ("loss", "moons_loss.png")):
        (cell,) = tagged(notebook, tag)
        (png,) = outputs_of(cell, "image/png")
        assert base64.b64decode(png) == (cwd / name).read_bytes()
        assert (cwd / name).read_bytes().startswith(PNG_SIGNATURE)
    (save,) = tagged(notebook, "save")
    assert (
        stdout_of(save)
        == "MLP(2 -> 16 relu -> 16 relu -> 1 linear, 337 parameters) - training accuracy 100%\n"
    )


def test_without_ipywidgets_a_notebook_says_which_extra_brings_the_progress_bar(
    kernel_specs, tmp_path, monkeypatch
):
    # the kernel starts with ipywidgets hidden: sitecustomize puts a finder in front that refuses it
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(
        "import sys\n"
        "class HideIpywidgets:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'ipywidgets':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, HideIpywidgets())\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(hide))
    cells = [
        "try:\n    import ipywidgets\nexcept ImportError:\n    print('hidden')",
        "from micrograd.data import make_xor\nfrom micrograd.nn import MLP\n"
        "from micrograd.training import fit\n"
        "X, y = make_xor(8, seed=0)\nhistory = fit(MLP(2, [4, 1], seed=0), X, y, steps=3)",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    execute(notebook, tmp_path, kernel_specs)
    assert stdout_of(notebook.cells[0]) == "hidden\n"
    fit_cell = notebook.cells[1]
    stderr = "".join(o["text"] for o in fit_cell.outputs if o.get("name") == "stderr")
    assert "fit's progress bar in a notebook needs ipywidgets, which is not installed: " in stderr
    assert "pip install 'micrograd-classroom[notebook]'" in stderr
    assert "3/3" in stderr  # the text bar ran instead
    assert not outputs_of(fit_cell, WIDGET)
