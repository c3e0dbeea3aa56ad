"""Run the smoke suite (tests/smoke) under every Python 3.10 to 3.13 on this machine; `make test` calls it.

The suite needs pytest and the core's two pure-Python packages (graphviz, tqdm): they are installed
once into one folder (by this interpreter's pip, as wheels that run on 3.10 and later), and each
interpreter gets a bare virtual environment (no pip, no other package) that sees that folder through
a .pth file. The source is read from this checkout (PYTHONPATH), so no build is needed. A version
that is not installed is reported, not passed over in silence. Exit status 1 when the suite fails
under any interpreter that was found.

    python tests/smoke/run.py [DIR]      (default: .venv/smoke)
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VERSIONS = ("3.10", "3.11", "3.12", "3.13")
PACKAGES = ("pytest", "graphviz", "tqdm")  # what the suite imports: no torch, numpy or matplotlib
BACKPORTS = ("exceptiongroup", "tomli")  # pytest's own needs on 3.10
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def find_interpreter(version: str) -> str | None:
    """A working ``python3.X``: on the PATH first, then among pyenv's versions (newest patch first).

    pyenv's shims are on the PATH for every version it has, but run only the selected ones, so each
    candidate is asked for its version before it is chosen.
    """
    candidates = [shutil.which(f"python{version}")]
    found = glob.glob(str(PYENV_ROOT / "versions" / f"{version}.*" / "bin" / f"python{version}"))
    patch = re.compile(rf"/{re.escape(version)}\.(\d+)/bin/")
    candidates += sorted(found, key=lambda p: int(m.group(1)) if (m := patch.search(p)) else -1, reverse=True)
    for candidate in candidates:
        if candidate and _reports(candidate, version):
            return candidate
    return None


def _reports(python: str, version: str) -> bool:
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and result.stdout.strip() == version


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)  # pip's notes only if it fails
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


def shared_packages(root: Path) -> Path:
    """The folder holding PACKAGES (made the first time): pure-Python wheels, chosen for the oldest Python."""
    site = root / "site"
    ready = root / ".site-ready"
    wanted = " ".join(PACKAGES + BACKPORTS)
    if ready.exists() and ready.read_text() == wanted and site.is_dir():
        return site
    shutil.rmtree(site, ignore_errors=True)
    # pip picks wheels for the oldest version but reads the markers with its own Python's: name the
    # backports pytest needs before 3.11 itself (later versions import neither)
    _run(
        [sys.executable, "-m", "pip", "install", "-q", "--target", str(site), "--python-version", VERSIONS[0]]
        + ["--only-binary=:all:", *PACKAGES, *BACKPORTS]
    )
    ready.write_text(wanted)
    return site


def environment(python: str, version: str, root: Path, site: Path) -> Path:
    """A bare venv of ``python`` that sees ``site`` (made the first time); returns its python."""
    venv = root / version
    bin_python = venv / "bin" / "python"
    link = venv / "lib" / f"python{version}" / "site-packages" / "smoke.pth"
    if link.exists() and link.read_text() == f"{site}\n" and (venv / ".made-by").read_text() == python:
        return bin_python
    shutil.rmtree(venv, ignore_errors=True)
    _run([python, "-m", "venv", "--without-pip", str(venv)])
    link.write_text(f"{site}\n")
    (venv / ".made-by").write_text(python)
    return bin_python


def main(argv: list[str]) -> int:
    root = (Path(argv[0]) if argv else REPO / ".venv" / "smoke").resolve()  # the .pth needs it absolute
    print(f"\nSmoke suite (tests/smoke: no torch, numpy or matplotlib) under Python {', '.join(VERSIONS)}:")
    lines, failed = [], False
    for version in VERSIONS:
        python = find_interpreter(version)
        if python is None:
            lines.append(
                f"  {version}: NOT RUN - no python{version} on the PATH or in {PYENV_ROOT / 'versions'}"
            )
            continue
        started = time.perf_counter()
        try:
            venv_python = environment(python, version, root, shared_packages(root))
        except RuntimeError as exc:
            failed = True
            print(exc)
            lines.append(f"  {version}: FAILED to set up its environment (above)")
            continue
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
        # --confcutdir: tests/conftest.py (hypothesis settings) belongs to the full suite
        command = [
            str(venv_python),
            "-m",
            "pytest",
            "-q",
            "--confcutdir",
            "tests/smoke",
            "-p",
            "no:cacheprovider",
        ]
        result = subprocess.run([*command, "tests/smoke"], cwd=REPO, env=env, capture_output=True, text=True)
        said = result.stdout.strip().splitlines() or result.stderr.strip().splitlines() or ["(no output)"]
        summary = said[-1].strip("= ")
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            failed = True
            print(result.stdout + result.stderr)
        status = "ok" if result.returncode == 0 else "FAILED"
        lines.append(f"  {version}: {status} - {summary} ({python}, {seconds:.0f} s with setup)")
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
