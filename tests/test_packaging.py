"""The package as a stranger gets it: the sdist and wheel built, checked, and the wheel installed with a
plain ``pip install`` (no extras) into a fresh virtual environment, where ``micrograd demo`` runs.

The wheel is checked against the source tree (every file of the package, nothing else); the installed
demo by what it writes (the classic neuron's hand-derived gradients, a model that classifies the
moons as reported). Features whose package is not installed there say which extra brings it.
"""

from __future__ import annotations

import email
import html
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from micrograd import __version__

REPO = Path(__file__).resolve().parents[1]
DISTRIBUTION = "micrograd-classroom"
WHEEL_NAME = DISTRIBUTION.replace("-", "_")
CORE = {"graphviz", "tqdm", "matplotlib", "numpy"}  # what `micrograd demo` needs, and all pip installs
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run(command: list[str], cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    # no PYTHONPATH: the installed package must stand on its own, not read this checkout
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        command, cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """The sdist and the wheel built from this checkout (the wheel from the sdist, as `build` does)."""
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: the build backend (hatchling) comes from the test extra, not from the network
    result = run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)], cwd=out)
    assert result.returncode == 0, result.stdout + result.stderr
    files = {p.suffix: p for p in out.iterdir()}
    assert sorted(p.name for p in out.iterdir()) == [
        f"{WHEEL_NAME}-{__version__}-py3-none-any.whl",
        f"{WHEEL_NAME}-{__version__}.tar.gz",
    ]
    return {"wheel": files[".whl"], "sdist": files[".gz"]}


def test_the_version_is_0_2_0_in_one_place():
    assert __version__ == "0.2.0"
    assert 'dynamic = ["version"]' in (REPO / "pyproject.toml").read_text()


def test_twine_accepts_the_sdist_and_the_wheel(dist):
    result = run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dist["sdist"]), str(dist["wheel"])], cwd=REPO
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2


def test_the_wheel_holds_the_package_its_marker_and_the_license_and_nothing_else(dist):
    names = set(zipfile.ZipFile(dist["wheel"]).namelist())
    info = f"{WHEEL_NAME}-{__version__}.dist-info"
    package = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "micrograd").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert "micrograd/py.typed" in package
    assert {n for n in names if not n.startswith(f"{info}/")} == package
    assert {n for n in names if n.startswith(f"{info}/")} == {
        f"{info}/{name}" for name in ("METADATA", "WHEEL", "entry_points.txt", "RECORD", "licenses/LICENSE")
    }
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        assert wheel.read(f"{info}/licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
        assert (
            "console_scripts]\nmicrograd = micrograd.cli:main"
            in wheel.read(f"{info}/entry_points.txt").decode()
        )
        metadata = email.message_from_bytes(wheel.read(f"{info}/METADATA"))
    assert (metadata["Name"], metadata["Version"], metadata["License-Expression"]) == (
        DISTRIBUTION,
        "0.2.0",
        "MIT",
    )
    assert metadata["License-File"] == "LICENSE"
    assert metadata["Requires-Python"] == ">=3.10"
    requirements = metadata.get_all("Requires-Dist")
    core = {r.split(">")[0].split("=")[0].strip() for r in requirements if "extra ==" not in r}
    assert core == CORE  # torch never: it is the test oracle and the bridge's target
    assert {"digits", "notebook", "torch", "test", "dev"} <= set(metadata.get_all("Provides-Extra"))
    classifiers = metadata.get_all("Classifier")
    for version in ("3.10", "3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {version}" in classifiers
    assert "Typing :: Typed" in classifiers
    assert any(url.startswith("Homepage, https://") for url in metadata.get_all("Project-URL"))


def test_the_sdist_has_the_license_the_sources_and_the_tests_and_no_local_state(dist):
    with tarfile.open(dist["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for needed in (
        "LICENSE",
        "pyproject.toml",
        "README.md",
        "PKG-INFO",
        "micrograd/engine.py",
        "micrograd/py.typed",
    ):
        assert needed in names
    assert "tests/test_engine.py" in names and "demos/teach_one_neuron.ipynb" in names
    assert not [n for n in names if n.startswith((".venv", "out/", "dist/")) or "__pycache__" in n]


# ----------------------------------------------------------------------------------------------
# A plain `pip install` of the wheel, in a fresh virtual environment


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> Path:
    """A fresh venv with the wheel and only what it requires (pip reuses its cache of the wheels)."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    result = run([sys.executable, "-m", "venv", str(venv)], cwd=venv.parent)
    assert result.returncode == 0, result.stderr
    result = run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(dist["wheel"])], cwd=venv.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return venv


def test_a_plain_install_brings_the_core_and_no_extra(installed):
    result = run([str(installed / "bin" / "python"), "-m", "pip", "list", "--format=json"], cwd=installed)
    packages = {p["name"].lower() for p in json.loads(result.stdout)}
    assert {DISTRIBUTION, *CORE} <= packages
    assert not packages & {"torch", "scikit-learn", "ipywidgets", "pytest"}


def test_micrograd_demo_runs_after_a_plain_install_and_writes_every_file_it_lists(installed, tmp_path):
    result = run([str(installed / "bin" / "micrograd"), "demo", "--out", "out"], cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = [
        line.split()[0] for line in result.stdout.split("Files written")[1].splitlines() if "bytes)" in line
    ]
    assert listed == [
        f"out/{name}"
        for name in (
            "neuron.svg",
            "neuron.png",
            "neuron_backprop.html",
            "moons_boundary.png",
            "moons_loss.png",
            "moons_model.json",
        )
    ]
    # the classic neuron by hand: tanh(0.8814) = 0.7071, dout/dx1 = 0.5 * w1 = -1.5, dout/dw1 = 0.5 * x1 = 1
    svg = html.unescape((tmp_path / "out" / "neuron.svg").read_text())
    for text in (">data 0.7071<", ">grad -1.500<", ">grad 1.000<"):
        assert text in svg
    for picture in ("neuron.png", "moons_boundary.png", "moons_loss.png"):
        assert (tmp_path / "out" / picture).read_bytes().startswith(PNG_SIGNATURE)
    assert "training accuracy 100%" in result.stdout
    model = json.loads((tmp_path / "out" / "moons_model.json").read_text())
    assert model["architecture"]["nouts"] == [16, 16, 1]
    # it ran the installed copy, not this checkout
    where = run(
        [str(installed / "bin" / "python"), "-c", "import micrograd; print(micrograd.__file__)"], cwd=tmp_path
    )
    assert where.stdout.startswith(str(installed))


@pytest.mark.parametrize(
    "code,extra",
    [
        ("from micrograd.data import load_digits; load_digits()", "digits"),
        ("from micrograd.nn import MLP, to_torch; to_torch(MLP(2, [1], seed=0))", "torch"),
        ("import torch.nn", None),  # the check above is real: torch is absent
    ],
)
def test_a_feature_whose_package_is_missing_names_its_extra(installed, tmp_path, code, extra):
    result = run([str(installed / "bin" / "python"), "-c", code], cwd=tmp_path)
    assert result.returncode == 1
    if extra is None:
        assert "No module named 'torch'" in result.stderr
        return
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("micrograd.install.MissingPackage: ")
    assert last.endswith(f"pip install '{DISTRIBUTION}[{extra}]'")


def test_train_digits_without_scikit_learn_says_which_extra_in_one_line(installed, tmp_path):
    result = run([str(installed / "bin" / "micrograd"), "train", "digits", "--compile"], cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "micrograd train: error: load_digits needs scikit-learn, which is not installed: "
        f"pip install '{DISTRIBUTION}[digits]'"
    ]


# ----------------------------------------------------------------------------------------------
# The smoke suite's runner (`make test` runs it under every Python 3.10 to 3.13 on the machine)


def load_runner():
    import importlib.util

    spec = importlib.util.spec_from_file_location("smoke_run", REPO / "tests" / "smoke" / "run.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_smoke_runner_reports_each_interpreter_it_cannot_find(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    no_pyenv = tmp_path / "no-pyenv"
    result = run(
        [sys.executable, str(REPO / "tests" / "smoke" / "run.py"), str(tmp_path / "venvs")],
        cwd=tmp_path,
        PATH=str(empty),
        PYENV_ROOT=str(no_pyenv),
    )
    assert result.returncode == 0, result.stderr
    for version in ("3.10", "3.11", "3.12", "3.13"):
        assert (
            f"  {version}: NOT RUN - no python{version} on the PATH or in {no_pyenv / 'versions'}"
            in result.stdout
        )
    assert not (tmp_path / "venvs").exists()


def test_the_smoke_runner_takes_the_newest_patch_release_that_answers(tmp_path, monkeypatch):
    version = "{}.{}".format(*sys.version_info[:2])
    for patch in ("2", "10", "9"):  # 10 is the newest, though "9" > "10" as text
        folder = tmp_path / "versions" / f"{version}.{patch}" / "bin"
        folder.mkdir(parents=True)
        (folder / f"python{version}").symlink_to(sys.executable)
    broken = tmp_path / "versions" / f"{version}.11" / "bin"
    broken.mkdir(parents=True)
    (broken / f"python{version}").write_text("#!/bin/sh\nexit 1\n")  # installed but does not run
    (broken / f"python{version}").chmod(0o755)
    runner = load_runner()
    monkeypatch.setattr(runner, "PYENV_ROOT", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    assert runner.find_interpreter(version) == str(
        tmp_path / "versions" / f"{version}.10" / "bin" / f"python{version}"
    )
