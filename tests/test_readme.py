"""The README's Python examples run as written, and print what they say."""

import math
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_examples_run_and_print_the_numbers_they_claim(tmp_path, monkeypatch, capsys, op_table):
    monkeypatch.chdir(tmp_path)  # they write out/..., moons.json
    blocks = python_blocks()
    assert len(blocks) >= 5
    for i, block in enumerate(blocks):  # op_table removes the op the README adds, afterwards
        if block.lstrip().startswith('"*":'):  # the rule-table excerpt is a fragment, not a program
            continue
        exec(compile(block, f"README.md python block {i}", "exec"), {"__name__": f"readme_{i}"})
    out = capsys.readouterr().out
    # c = a*b + b^2 at a=2, b=-3: c = 3, dc/da = b = -3, dc/db = a + 2b = -4 (by hand); twice: -6 -8
    assert "3.0 -3.0 -4.0" in out and "-6.0 -8.0" in out
    # y = 2 sinh(x): dy/dx = 2 cosh(0.5), d2y/dx2 = 2 sinh(0.5)
    assert f"{2 * math.cosh(0.5):.6f} {2 * math.sinh(0.5):.6f}" in out
    assert "accuracy 100%" in out  # the classic moons run separates the training set
    assert (tmp_path / "out" / "graph.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "out" / "backprop.html").stat().st_size > 1000
    assert (tmp_path / "moons.json").exists()
