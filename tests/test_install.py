"""What a user is told to install: every feature whose package is missing names the command that
brings it (run here with the package hidden by a finder placed in front of the import system), and a
missing Graphviz `dot` names the command for the user's own system, never a Makefile target.

(The extras that a plain install lacks for real, scikit-learn and torch, are checked in the fresh
environment of test_packaging; ipywidgets in a notebook kernel in test_notebooks.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd.install import DISTRIBUTION, dot_install_command, pip_install

REPO = Path(__file__).resolve().parents[1]
NEURON = ["tanh(x1*w1 + x2*w2 + b)", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432"]

HIDER = """\
import sys
HIDDEN = {hidden!r}
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Hide())
"""


def run_hiding(
    hidden: set[str], code_or_cli: list[str], cwd: Path, **env: str
) -> subprocess.CompletedProcess:
    """Python (``-c CODE`` or ``-m micrograd ARGS``) in a new process where ``hidden`` cannot be imported."""
    site = cwd / "hide"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(HIDER.format(hidden=sorted(hidden)))
    full_env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{REPO}", **env}
    return subprocess.run(
        [sys.executable, *code_or_cli], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300
    )


def test_the_hider_really_hides(tmp_path):
    result = run_hiding({"numpy"}, ["-c", "import numpy"], tmp_path)
    assert result.returncode == 1 and "No module named 'numpy'" in result.stderr


def test_pip_install_names_the_distribution_and_the_extra():
    assert DISTRIBUTION == "micrograd-classroom"
    assert pip_install() == "pip install micrograd-classroom"
    assert pip_install("digits") == "pip install 'micrograd-classroom[digits]'"  # quoted for zsh's [ ]


# ----------------------------------------------------------------------------------------------
# Packages hidden: one clear line, and before any work


def test_compile_without_numpy_says_how_to_get_it(tmp_path):
    result = run_hiding({"numpy"}, ["-c", "import micrograd.compile"], tmp_path)
    assert result.stderr.strip().splitlines()[-1] == (
        "ImportError: micrograd.compile needs numpy, a dependency of micrograd-classroom missing here: "
        "pip install numpy"
    )


def test_train_compile_without_numpy_fails_in_one_line_before_training(tmp_path):
    result = run_hiding({"numpy"}, ["-m", "micrograd", "train", "moons", "--compile"], tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""  # not even the summary line: nothing was trained
    assert result.stderr.strip().splitlines() == [
        "micrograd train: error: --compile needs numpy, a dependency of micrograd-classroom missing here: "
        "pip install numpy"
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["train", "moons", "--plot", "b.png"],
        ["train", "moons", "--loss-plot", "l.svg"],
        ["demo", "--out", "out"],
    ],
    ids=["train --plot", "train --loss-plot", "demo"],
)
def test_pictures_without_matplotlib_fail_in_one_line_before_any_work(tmp_path, args):
    result = run_hiding({"matplotlib"}, ["-m", "micrograd", *args], tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""  # no training, no tour
    assert result.stderr.strip().splitlines() == [
        f"micrograd {args[0]}: error: a plot needs matplotlib, "
        "a dependency of micrograd-classroom missing here: pip install matplotlib"
    ]
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob("out/*"))


def test_to_torch_without_torch_names_the_torch_extra(tmp_path):
    code = "from micrograd.nn import MLP, to_torch\nto_torch(MLP(2, [1], seed=0))"
    result = run_hiding({"torch"}, ["-c", code], tmp_path)
    assert result.stderr.strip().splitlines()[-1] == (
        "micrograd.install.MissingPackage: to_torch needs torch, which is not installed: "
        "pip install 'micrograd-classroom[torch]'"
    )


def test_load_digits_without_scikit_learn_names_the_digits_extra(tmp_path):
    result = run_hiding({"sklearn"}, ["-m", "micrograd", "train", "digits"], tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == (
        "micrograd train: error: load_digits needs scikit-learn, which is not installed: "
        "pip install 'micrograd-classroom[digits]'"
    )


# ----------------------------------------------------------------------------------------------
# Graphviz's dot, which no Python package ships


@pytest.mark.parametrize(
    "system,command",
    [
        ({"platform": "linux", "os_release": 'ID=debian\nVERSION_ID="12"\n'}, "apt-get install -y graphviz"),
        ({"platform": "linux", "os_release": "ID=ubuntu\nID_LIKE=debian\n"}, "apt-get install -y graphviz"),
        (
            {"platform": "linux", "os_release": "ID=linuxmint\nID_LIKE='ubuntu debian'\n"},
            "apt-get install -y graphviz",
        ),
        (
            {"platform": "linux", "os_release": 'ID="rocky"\nID_LIKE="rhel centos fedora"\n'},
            "dnf install -y graphviz",
        ),
        ({"platform": "linux", "os_release": "ID=fedora\n"}, "dnf install -y graphviz"),
        ({"platform": "linux", "os_release": "ID=arch\n"}, "pacman -S graphviz"),
        ({"platform": "linux", "os_release": "ID=alpine\n"}, "apk add graphviz"),
        ({"platform": "darwin"}, "brew install graphviz"),
        ({"platform": "win32"}, "winget install graphviz"),
    ],
)
def test_the_dot_command_is_the_one_for_the_users_system(system, command):
    found = dot_install_command(conda=False, **system)
    assert found.removeprefix("sudo ").startswith(command)
    assert "make" not in found


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_in_a_conda_environment_the_dot_command_is_condas(platform):
    assert dot_install_command(platform=platform, conda=True, os_release="ID=debian\n") == (
        "conda install -c conda-forge graphviz"
    )


def test_an_unknown_system_is_pointed_at_its_package_manager_and_graphviz_org():
    found = dot_install_command(platform="linux", conda=False, os_release="ID=gentoo\n")
    assert "graphviz" in found and "graphviz.org" in found


def without_dot(tmp_path: Path) -> str:
    """A PATH with no `dot` on it (python runs by its full path)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    return str(empty)


def test_draw_without_dot_names_the_command_for_this_system_and_no_makefile(tmp_path):
    result = run_hiding(
        set(), ["-m", "micrograd", "draw", *NEURON, "-o", "g.svg"], tmp_path, PATH=without_dot(tmp_path)
    )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("micrograd draw: error: Graphviz's `dot` program is not on the PATH")
    assert f"Install Graphviz with:  {dot_install_command()}   then check that `dot -V` works." in line
    assert "make" not in line
    assert not (tmp_path / "g.svg").exists()


def test_demo_without_dot_completes_without_the_pictures_dot_draws_and_says_how_to_get_them(tmp_path):
    result = run_hiding(
        set(),
        ["-m", "micrograd", "demo", "--out", "out", "--steps", "5"],
        tmp_path,
        PATH=without_dot(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Graphviz's `dot` is not installed, so neuron.svg, neuron.png, neuron_backprop.html are skipped."
    )
    assert lines[1] == f"Install Graphviz with:  {dot_install_command()}   then check that `dot -V` works."
    assert "Step 5/5: n1 = x1 * w1" in result.stdout  # the tour itself still runs
    listed = [
        line.split()[0] for line in result.stdout.split("Files written")[1].splitlines() if "bytes)" in line
    ]
    assert listed == ["out/moons_boundary.png", "out/moons_loss.png", "out/moons_model.json"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(Path(p).name for p in listed)
