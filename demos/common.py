"""What every demo shares: print a hand-derived number beside autograd's and assert they agree,
draw a graph into the output folder, and the ``--out DIR`` command line.

Each demo is a script (``python demos/001_delta_rule.py --out out``) with a ``main(out_dir)`` that
returns the files it wrote; it prints ``wrote PATH`` for each, which the tests read.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from micrograd import Value
from micrograd.viz import render

# Hand formula and autograd compute the same floats in a different order: they agree to rounding.
REL_TOL = 1e-12
ABS_TOL = 1e-15


def agree(what: str, by_hand: float, autograd: float) -> None:
    """Print both numbers on one line and stop the demo if they differ beyond rounding."""
    same = math.isclose(by_hand, autograd, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    verdict = "agree" if same else "DIFFER"
    print(f"  {what:<38} by hand {by_hand:+.12f}   autograd {autograd:+.12f}   {verdict}")
    require(same, f"{what}: the hand-derived {by_hand!r} and autograd's {autograd!r} differ")


def require(condition: bool, message: str) -> None:
    """Stop the demo when a check fails; unlike ``assert``, also under ``python -O``."""
    if not condition:
        raise AssertionError(message)


def heading(text: str) -> None:
    print(f"\n{text}\n{'-' * len(text)}")


def lesson(explanation: Any, *names: str) -> None:
    """Print the backward steps of the named nodes as ``micrograd.explain`` writes them (formula, then
    numbers, then value), and the update step when the explanation has one."""
    for block in explanation.to_text().split("\n\n"):
        first = block.strip().splitlines()[0] if block.strip() else ""
        if first.startswith("Step ") and any(f": {name} = " in first for name in names):
            print(block.strip("\n"))
            print()
        elif first.startswith("Update:"):
            print(block.strip("\n"))


def draw(root: Value, path: Path, **options: object) -> Path:
    """Render ``root``'s graph (values and gradients) with Graphviz and say where it went."""
    written = render(root, path, **options)
    print(f"wrote {written}")
    return written


def run(main: Callable[[Path], list[Path]], description: str | None) -> None:
    """The command line of a demo: ``--out DIR`` (default ./out), then ``main(out_dir)``."""
    parser = argparse.ArgumentParser(description=(description or "").strip().splitlines()[0])
    parser.add_argument("--out", default="out", metavar="DIR", help="output folder (default ./out)")
    args = parser.parse_args()
    written = main(Path(args.out))
    print(f"\n{len(written)} file(s) written to {args.out}")
    sys.exit(0)
