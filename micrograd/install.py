"""What to install, said to the user: the extra that brings an optional package, the command for `dot`.

A plain ``pip install micrograd-classroom`` brings everything ``micrograd demo`` needs except
Graphviz's ``dot`` program, which no Python package ships. Features beyond it name their extra
when its package is missing (``MissingPackage``, an ImportError), never a bare ModuleNotFoundError.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

# The distribution on the package index; the import name and the command are `micrograd`.
DISTRIBUTION = "micrograd-classroom"


class MissingPackage(ImportError):
    """An optional package is missing; the message names the feature and the command that installs it."""


def pip_install(extra: str | None = None) -> str:
    """The command that installs the package with ``extra``: ``pip install 'micrograd-classroom[digits]'``."""
    return f"pip install '{DISTRIBUTION}[{extra}]'" if extra else f"pip install {DISTRIBUTION}"


def missing_dependency(package: str, feature: str) -> str:
    """The message for a dependency of the package that is not installed (a broken or partial install)."""
    return f"{feature} needs {package}, a dependency of {DISTRIBUTION} missing here: pip install {package}"


def require(module: str, feature: str, extra: str, package: str | None = None) -> ModuleType:
    """``import module``, or a MissingPackage saying that ``feature`` needs it and which extra brings it.

    ``package`` is the name it is installed by, when that is not the module's (scikit-learn: sklearn).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        name = package or module.split(".")[0]
        raise MissingPackage(f"{feature} needs {name}, which is not installed: {pip_install(extra)}") from exc


def dot_install_command(
    platform: str | None = None, conda: bool | None = None, os_release: str | None = None
) -> str:
    """The command that installs Graphviz's ``dot`` on this system (or on the one described).

    ``platform`` is a ``sys.platform`` value; ``conda`` whether Python runs in a conda environment
    (where conda's own graphviz lands on the environment's PATH); ``os_release`` the text of
    /etc/os-release on Linux, which names the distribution and the families it is like.
    """
    platform = sys.platform if platform is None else platform
    if conda is None:
        conda = bool(os.environ.get("CONDA_PREFIX")) or (Path(sys.prefix) / "conda-meta").is_dir()
    if conda:
        return "conda install -c conda-forge graphviz"
    if platform == "darwin":
        return "brew install graphviz"
    if platform in ("win32", "cygwin"):
        return "winget install graphviz   (then open a new terminal, so `dot` is on the PATH)"
    if platform.startswith("linux"):
        if os_release is None:
            try:
                os_release = Path("/etc/os-release").read_text(errors="replace")
            except OSError:
                os_release = ""
        families = _linux_families(os_release)
        sudo = "" if _is_root() else "sudo "
        for family, command in _LINUX_COMMANDS:
            if family in families:
                return sudo + command
    return "your system's package manager (the package is called graphviz; see graphviz.org/download)"


# Linux families (os-release ID and ID_LIKE) and their command, first match wins.
_LINUX_COMMANDS = (
    ("debian", "apt-get install -y graphviz"),
    ("ubuntu", "apt-get install -y graphviz"),
    ("fedora", "dnf install -y graphviz"),
    ("rhel", "dnf install -y graphviz"),
    ("arch", "pacman -S graphviz"),
    ("suse", "zypper install graphviz"),
    ("alpine", "apk add graphviz"),
)


def _linux_families(os_release: str) -> list[str]:
    families: list[str] = []
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key.strip() in ("ID", "ID_LIKE"):
            families += value.strip().strip("\"'").lower().split()
    return families


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def dot_install_hint() -> str:
    """One sentence for a missing ``dot``: this system's install command, and how to check it."""
    return f"Install Graphviz with:  {dot_install_command()}   then check that `dot -V` works."


def has_dot() -> bool:
    """Whether Graphviz's ``dot`` program is on the PATH."""
    return shutil.which("dot") is not None
