"""Files: micrograd writes every file through ``write_atomic`` and reads one through ``read_regular``.

What a write promises: a reader never sees half a file; a symlink is written through to its target;
an existing file keeps its permission bits; a temporary file left by a writer that was killed is
removed by the next write of the same path. What a read promises: it never blocks (a FIFO, a
device or a directory is refused before any byte is read) and never reads more than its limit.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, so stale temporaries are found by age
    fcntl = None  # type: ignore[assignment]

PathLike = str | os.PathLike[str]

# A temporary whose writer is gone but whose process id was reused is removed once it is this old.
STALE_SECONDS = 3600.0

_FILE_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def write_atomic(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and ``os.replace``.

    - A reader (a browser, a loader) never sees a half-written file, and a failed write, or a crash,
      leaves any previous file in place. Missing parent directories are created.
    - If ``path`` is a symlink, its target is written (atomically, in the target's directory) and
      the link stays a link.
    - An existing file keeps its permission bits (a 0600 model stays private) and a read-only one
      is refused, as ``open(path, "w")`` would; a new file gets 0666 minus the umask, as ``open`` gives.
    - The temporary is ``.NAME.PID-RANDOM.tmp`` beside the target, locked while it is written. One
      left behind by a writer that was killed (SIGKILL, power cut) is removed by the next write of
      the same path: only names of that pattern, only when no process holds the lock and the
      writer's process is gone (or the file is older than ``STALE_SECONDS``).
    """
    if not isinstance(data, bytes):
        raise TypeError(f"write_atomic writes bytes, got {type(data).__name__}")
    path = Path(path)
    try:
        target = _target(path)
        mode = _mode_to_keep(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(target)
        fd, tmp = _create_temporary(target)
    except OSError as exc:
        # the OS names the parent or our temporary file; the user knows only the file they asked for
        raise _cannot_write(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())  # on disk before the rename, so a power cut cannot leave an empty file
            os.replace(tmp, target)  # while still locked: a live writer's temporary is never stale
    except BaseException as exc:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from exc
        raise


def check_writable(path: PathLike) -> None:
    """Fail now, with write_atomic's message, where writing ``path`` later would fail.

    For work that runs long before it writes (training, then saving): it creates missing parent
    directories and makes and removes a temporary file where ``write_atomic`` would, leaving
    ``path`` alone.
    """
    path = Path(path)
    try:
        target = _target(path)
        _mode_to_keep(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temporary(target)
        os.unlink(tmp)
        os.close(fd)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc


def read_regular(path: PathLike, limit: int, what: str = "a file") -> bytes:
    """The bytes of the regular file at ``path``; a ValueError for anything else or anything larger.

    Opening is non-blocking and the kind of file is checked on the open descriptor, so a FIFO (which
    would wait for a writer forever), a device such as /dev/zero (which never ends), a socket or a
    directory is refused before a byte is read, and at most ``limit`` bytes are ever read.
    """
    _refuse_unless_regular(path, os.stat(path).st_mode, what)  # a socket cannot even be opened
    # non-blocking, and checked again on the descriptor: the path may have changed in between
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        _refuse_unless_regular(path, info.st_mode, what)
    except BaseException:
        os.close(fd)
        raise
    if info.st_size > limit:
        os.close(fd)
        raise ValueError(
            f"cannot read {path}: it is {info.st_size:,} bytes; {what} is at most {limit:,} bytes"
        )
    chunks, count = [], 0
    with os.fdopen(fd, "rb") as f:
        while count <= limit:  # in pieces: the file may grow while it is read
            chunk = f.read(min(limit + 1 - count, max(info.st_size + 1 - count, 1 << 16)))
            if not chunk:
                break
            chunks.append(chunk)
            count += len(chunk)
    if count > limit:
        raise ValueError(
            f"cannot read {path}: it grew past {limit:,} bytes; {what} is at most {limit:,} bytes"
        )
    return b"".join(chunks)


def _refuse_unless_regular(path: PathLike, mode: int, what: str) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"cannot read {path}: it is a directory")
    if not stat.S_ISREG(mode):
        kind = _FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise ValueError(f"cannot read {path}: it is {kind}; {what} is read only from a regular file")


def _remove_stale_temporaries(target: Path) -> None:
    """Remove the temporaries of ``target`` that a killed writer left (our name pattern, stale only)."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)-[0-9a-f]{{8}}\.tmp")
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        match = pattern.fullmatch(name)
        if match and _is_stale(target.parent / name, int(match.group(1))):
            try:
                os.unlink(target.parent / name)
            except FileNotFoundError:  # another writer removed it first
                pass


# ------------------------------------------------------------------------------------------------


def _target(path: Path) -> Path:
    """The file a write of ``path`` changes: ``path``, or the end of its chain of symlinks."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "it is a directory")
    if not os.path.islink(path):
        return path
    target = Path(os.path.realpath(path))
    if os.path.islink(target):  # realpath gives up on a loop
        raise OSError(errno.ELOOP, "its symlinks form a loop")
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"it is a symlink to the directory {target}")
    return target


def _mode_to_keep(target: Path) -> int | None:
    """An existing file's permission bits (None for a new file); a file we may not write is refused."""
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return None
    if not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, "permission denied (the file is read-only)")
    return stat.S_IMODE(info.st_mode) & 0o777


def _create_temporary(target: Path) -> tuple[int, str]:
    """A new, locked temporary file beside ``target``: (descriptor, name); 0666 minus the umask."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = str(target.parent / f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held until the descriptor closes, or the process dies
        return fd, tmp
    raise FileExistsError(errno.EEXIST, f"cannot make a temporary file beside {target}")


def _is_stale(candidate: Path, pid: int) -> bool:
    """Whether a temporary's writer is gone: no lock on it, and its process dead (or it is old)."""
    try:
        fd = os.open(candidate, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return False
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # a live writer holds it (or locks are not supported here)
                return False
        return not _alive(pid) or time.time() - info.st_mtime > STALE_SECONDS
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _cannot_write(path: Path, exc: OSError) -> OSError:
    """The same kind of OSError, its message naming ``path`` and the reason in words."""
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    folder = next((p for p in path.parents if p.is_dir()), None)  # where the file (or its folder) goes
    if blocker is not None:
        reason = f"{blocker} is a file, not a directory"
    elif folder is not None and exc.errno in _FOLDER_REASONS and exc.filename is not None:
        # the OS's refusal of our temporary file or a folder (a refusal raised here has its own words)
        reason = _FOLDER_REASONS[exc.errno].format(folder=folder)
    else:
        reason = exc.strerror or str(exc)
        reason = reason[:1].lower() + reason[1:]  # "Permission denied" reads "permission denied"
    return type(exc)(f"cannot write {path}: {reason}")


# What an errno means when the folder is there: the OS's own words ("no such file or directory"
# from /proc) name the temporary file's absence, not the cause.
_FOLDER_REASONS = {
    errno.ENOENT: "{folder} does not accept new files (a system or virtual file system, not a normal folder)",
    errno.EACCES: "permission denied to write in {folder}",
    errno.EPERM: "permission denied to write in {folder}",
    errno.EROFS: "{folder} is on a read-only file system",
}
