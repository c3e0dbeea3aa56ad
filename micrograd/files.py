"""Atomic file writes: every file micrograd writes (models, images, pages, plots) goes through here."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and ``os.replace``.

    A reader (a browser, a loader) never sees a half-written file, and a failed write, or a crash,
    leaves any previous file in place. Missing parent directories are created.
    """
    try:
        if path.is_dir():
            raise IsADirectoryError(f"cannot write {path}: it is a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        # the OS names the parent or our temporary file; the user knows only the file they asked for
        raise _cannot_write(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename, so a power cut cannot leave an empty file
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; models, images and pages are for everyone to read
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from exc
        raise


def check_writable(path: Path) -> None:
    """Fail now, with write_atomic's message, where writing ``path`` later would fail.

    For work that runs long before it writes (training, then saving): it creates missing parent
    directories and makes and removes a temporary file beside ``path``, leaving ``path`` alone.
    """
    try:
        if path.is_dir():
            raise IsADirectoryError(f"cannot write {path}: it is a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"):
            pass
    except OSError as exc:
        raise _cannot_write(path, exc) from exc


def _cannot_write(path: Path, exc: OSError) -> OSError:
    """The same kind of OSError, its message naming ``path`` and the reason in words."""
    if str(exc).startswith(f"cannot write {path}"):
        return exc
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    folder = next((p for p in path.parents if p.is_dir()), None)  # where the file (or its folder) goes
    if blocker is not None:
        reason = f"{blocker} is a file, not a directory"
    elif folder is not None and exc.errno in _FOLDER_REASONS:
        reason = _FOLDER_REASONS[exc.errno].format(folder=folder)
    else:
        reason = (exc.strerror or str(exc)).lower()
    return type(exc)(f"cannot write {path}: {reason}")


# What an errno means when the folder is there: the OS's own words ("no such file or directory"
# from /proc) name the temporary file's absence, not the cause.
_FOLDER_REASONS = {
    errno.ENOENT: "{folder} does not accept new files (a system or virtual file system, not a normal folder)",
    errno.EACCES: "permission denied to write in {folder}",
    errno.EPERM: "permission denied to write in {folder}",
    errno.EROFS: "{folder} is on a read-only file system",
}
