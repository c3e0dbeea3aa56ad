"""The command line at its edges: an expression that starts with '-', output paths checked before any
work, training that diverges, and write errors that name the real cause."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import cli

REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------------------------
# An expression that starts with '-'


@pytest.mark.parametrize(
    "args,expression,fixed",
    [
        (["draw", "-x*y", "x=1", "y=2", "-o", "g.svg"], "-x*y", "micrograd draw -o g.svg -- '-x*y' x=1 y=2"),
        (["draw", "-o", "g.svg", "-x*y", "x=1", "y=2"], "-x*y", "micrograd draw -o g.svg -- '-x*y' x=1 y=2"),
        (
            ["explain", "-tanh(a)", "a=0.5", "--format", "markdown"],
            "-tanh(a)",
            "micrograd explain --format markdown -- '-tanh(a)' a=0.5",
        ),
        (["explain", "--html=p.html", "-a", "a=1"], "-a", "micrograd explain --html=p.html -- -a a=1"),
    ],
)
def test_an_expression_starting_with_minus_gets_the_command_with_double_dash(capsys, args, expression, fixed):
    status, out, err = cli(capsys, *args)
    assert status == 2 and out == ""
    assert err == (
        f"micrograd {args[0]}: error: the expression {expression!r} starts with '-', which reads as an "
        f"option; put it after --:  {fixed}\n"
    )


def test_the_suggested_command_works(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, _, err = cli(capsys, "draw", "-x*y", "x=1", "y=2", "-o", "g.svg")
    suggested = shlex.split(err.split("put it after --:  ")[1])
    status, out, _ = cli(capsys, *suggested[1:])
    assert status == 0
    # d(-xy)/dx = -y = -2, d(-xy)/dy = -x = -1
    assert out.splitlines()[1:3] == ["  dout/dx = -2", "  dout/dy = -1"]


@pytest.mark.parametrize(
    "args", [["draw", "x*y", "x=1", "y=2", "-q", "-o", "g.svg"], ["explain", "-3", "--format", "text"]]
)
def test_other_mistakes_get_argparses_own_message(capsys, args):
    status, _, err = cli(capsys, *args)
    assert "put it after --" not in err
    if args[1] == "-3":  # a negative number is no option to argparse: it is the expression
        assert status == 2 and "no variables" in err
    else:
        assert status == 2 and "unrecognized arguments: -q" in err


# ----------------------------------------------------------------------------------------------
# Output paths before any work


def test_demo_with_an_unwritable_out_fails_before_the_tour(capsys):
    status, out, err = cli(capsys, "demo", "--out", "/etc/passwd")
    assert status == 1
    assert out == ""  # the tour never started
    assert err == (
        "micrograd demo: error: cannot write /etc/passwd/neuron.svg: /etc/passwd is a file, not a directory\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["draw", "x*y", "x=1", "y=2", "-o", "{blocked}/g.svg"],
        ["explain", "x*y", "x=1", "y=2", "--html", "{blocked}/p.html"],
        ["train", "moons", "--save", "{blocked}/m.json"],
        ["demo", "--out", "{blocked}"],
    ],
    ids=["draw -o", "explain --html", "train --save", "demo --out"],
)
def test_every_output_path_is_checked_before_anything_is_printed(capsys, tmp_path, args):
    blocked = tmp_path / "notes"
    blocked.write_text("a file where a folder should be")
    status, out, err = cli(capsys, *(a.format(blocked=blocked) for a in args))
    assert status == 1 and out == ""
    assert err.endswith(f"{blocked} is a file, not a directory\n")


# ----------------------------------------------------------------------------------------------
# Write errors that name the cause


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_writing_into_proc_says_it_is_not_a_normal_folder(capsys):
    status, out, err = cli(capsys, "draw", "x*y", "x=1", "y=2", "-o", "/proc/g.png")
    assert status == 1 and out == ""
    assert err == (
        "micrograd draw: error: cannot write /proc/g.png: /proc does not accept new files "
        "(a system or virtual file system, not a normal folder)\n"
    )
    assert "no such file" not in err.lower()


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux's /sys")
def test_a_folder_that_refuses_files_even_to_root_is_named(capsys):
    status, _, err = cli(capsys, "draw", "x*y", "x=1", "y=2", "-o", "/sys/g.svg")
    assert status == 1
    assert err == "micrograd draw: error: cannot write /sys/g.svg: permission denied to write in /sys\n"


# ----------------------------------------------------------------------------------------------
# Training that diverges


def test_train_with_a_learning_rate_far_too_large_stops_with_the_step_and_a_hint(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "micrograd", "train", "moons", "--lr", "1000", "--quiet", "--save", "m.json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    message = result.stderr.strip()
    found = re.fullmatch(
        r"micrograd train: error: training diverged at step (\d+) of 100: the loss grew from (\S+) to (\S+), "
        r"over 1e\+06 times its start; try a smaller --lr, e.g. --lr 100",
        message,
    )
    assert found, message
    assert float(found.group(3)) > 1e6 * max(float(found.group(2)), 1.0)
    assert "after" not in result.stdout  # no accuracy reported for a run that failed
    assert not (tmp_path / "m.json").exists()  # and no model saved
