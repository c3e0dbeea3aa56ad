"""Run the smoke suite (tests/smoke) under every Python 3.10 to 3.13 on this machine; `make test` calls it.

Each interpreter gets a small virtual environment of its own, made once: pytest and the core's two
pure-Python packages (graphviz, tqdm). The source is read from this checkout (PYTHONPATH), so no
build is needed. A version that is not installed is reported, not passed over in silence.
Exit status 1 when the suite fails under any interpreter that was found.

    python tests/smoke/run.py [VENVS_DIR]      (default: .venv/smoke)
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


def environment(python: str, version: str, root: Path) -> Path:
    """The suite's virtual environment for ``version`` (made and filled the first time); its python."""
    venv = root / version
    ready = venv / ".smoke-ready"
    wanted = f"{python}\n{' '.join(PACKAGES)}\n"
    bin_python = venv / "bin" / "python"
    if ready.exists() and ready.read_text() == wanted and bin_python.exists():
        return bin_python
    shutil.rmtree(venv, ignore_errors=True)
    for command in (
        [python, "-m", "venv", str(venv)],
        [str(bin_python), "-m", "pip", "install", "-q", *PACKAGES],
    ):
        result = subprocess.run(command, capture_output=True, text=True)  # pip's notes only if it fails
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    ready.write_text(wanted)
    return bin_python


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else REPO / ".venv" / "smoke"
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
            venv_python = environment(python, version, root)
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
        summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1].strip("= ")
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
