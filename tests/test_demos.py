"""Every demo runs as a script, exits 0, and writes the files it says it writes.

The seed demos assert by themselves that each hand-derived number agrees with autograd (a failed
assert exits non-zero); here their output must also show those comparisons, all agreeing.
"""

import html
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMOS = REPO / "demos"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COMPARISON = re.compile(r"by hand [+-]\d+\.\d+ +autograd [+-]\d+\.\d+")

# demo script -> the files it must write (names within its output folder)
EXPECTED = {
    "000_two_layer_rules.py": ["000_two_layer_tanh.svg", "000_two_layer_sigmoid.svg"],
    "001_delta_rule.py": ["001_delta_rule.svg"],
    "002_tanh_output_delta.py": ["002_tanh_output_delta.svg"],
    "003_gradient_shapes.py": ["003_gradient_shapes.svg"],
    "004_sigmoid_chain.py": ["004_sigmoid_chain.svg"],
    "moons.py": ["moons_boundary.png", "moons_loss.png", "moons_network.svg"],
}
SEED_DEMOS = [name for name in EXPECTED if name[:3].isdigit()]


def run_demo(name: str, out_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, str(DEMOS / name), "--out", str(out_dir)]
    return subprocess.run(command, cwd=out_dir.parent, env=env, capture_output=True, text=True, timeout=180)


def check_image(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 2000, f"{path.name} is only {len(data)} bytes"
    if path.suffix == ".png":
        assert data.startswith(PNG_SIGNATURE), path.name
    elif path.suffix == ".svg":
        assert b"<svg" in data, path.name


# the scripts of demos/ that other test files run (benchmark, digits), and the helper module
RUN_ELSEWHERE = ["benchmark.py", "digits.py", "dot_timing.py", "readme_images.py"]
HELPERS = ["common.py"]


def test_every_script_in_the_demos_folder_is_run_by_a_test():
    on_disk = sorted(path.name for path in DEMOS.glob("*.py"))
    assert on_disk == sorted([*EXPECTED, *RUN_ELSEWHERE, *HELPERS])
    others = [p.read_text() for p in (REPO / "tests").glob("test_*.py") if p.name != "test_demos.py"]
    for name in RUN_ELSEWHERE:
        assert any(f'"{name}"' in text for text in others), f"no test runs demos/{name}"


def test_every_seed_derivation_the_readme_lists_is_a_demo_in_the_folder():
    # the README's table of the seed texts 000-004, one demo each, and the moons demo
    readme = (REPO / "README.md").read_text()
    table = re.findall(r"^\| `([\w.]+\.py)` \|", readme, flags=re.MULTILINE)
    assert sorted(table) == sorted(EXPECTED)
    assert sorted(name[:3] for name in table if name[:3].isdigit()) == ["000", "001", "002", "003", "004"]
    assert all((DEMOS / name).is_file() for name in table)


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    """Each demo run once as a script: name -> (its output folder, the finished process)."""
    runs = {}
    for name in EXPECTED:
        out_dir = tmp_path_factory.mktemp(Path(name).stem) / "out"
        runs[name] = out_dir, run_demo(name, out_dir)
    return runs


@pytest.mark.parametrize("name", list(EXPECTED))
def test_demo_runs_and_writes_what_it_says(demo_runs, name):
    out_dir, result = demo_runs[name]
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    lines = result.stdout.splitlines()
    said = [Path(line.removeprefix("wrote ").strip()) for line in lines if line.startswith("wrote ")]
    assert sorted(p.name for p in said) == sorted(EXPECTED[name])
    for path in said:
        assert path.parent == out_dir
        check_image(path)
    if name in SEED_DEMOS:
        comparisons = [line for line in lines if COMPARISON.search(line)]
        assert len(comparisons) >= 4
        assert all(line.rstrip().endswith("agree") for line in comparisons)
    else:
        assert "training accuracy after 100 steps: 100%" in result.stdout


def test_a_demo_writes_into_out_by_default(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, str(DEMOS / "002_tanh_output_delta.py")]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    check_image(tmp_path / "out" / "002_tanh_output_delta.svg")


def test_each_demo_is_a_module_with_main(monkeypatch):
    monkeypatch.syspath_prepend(str(DEMOS))
    for name in EXPECTED:
        module = importlib.import_module(Path(name).stem)
        assert callable(module.main)
        assert module.__doc__ and module.__doc__.strip()


def test_a_wrong_derivation_fails_the_demo(monkeypatch, tmp_path, capsys):
    """The agreement check is real: a hand formula off by a sign stops the demo."""
    monkeypatch.syspath_prepend(str(DEMOS))
    demo = importlib.import_module("002_tanh_output_delta")
    real = demo.by_hand

    def wrong_sign(w1, w2):
        e, x0, x1, delta2, delta1 = real(w1, w2)
        return e, x0, x1, -delta2, delta1

    monkeypatch.setattr(demo, "by_hand", wrong_sign)
    with pytest.raises(AssertionError, match="differ"):
        demo.main(tmp_path)
    assert "DIFFER" in capsys.readouterr().out


def test_a_failed_check_stops_a_demo_even_under_python_dash_o():
    code = "import common; common.agree('dE/dw', 1.0, 1.5)"
    env = {**os.environ, "PYTHONPATH": f"{DEMOS}{os.pathsep}{REPO}"}
    result = subprocess.run([sys.executable, "-O", "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "DIFFER" in result.stdout and "AssertionError: dE/dw: the hand-derived 1.0" in result.stderr


def test_the_sigmoid_chain_graph_names_the_nodes_of_the_derivation(demo_runs):
    out_dir, result = demo_runs["004_sigmoid_chain.py"]
    assert result.returncode == 0
    svg = html.unescape((out_dir / "004_sigmoid_chain.svg").read_text())
    for name in ("w31", "net_d1", "out_d1", "E_d1", "E_total", "out_c1"):
        assert name in svg, name
