"""An atomic write that cannot happen says which file could not be written and why in words, never
the name of its hidden temporary file, and leaves nothing behind."""

import os
import re
import select
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from micrograd.files import STALE_SECONDS, check_writable, read_regular, write_atomic

REPO = Path(__file__).resolve().parents[1]


def python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python with this checkout on the path (a time limit: never hangs)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_a_parent_that_is_a_file_is_named(tmp_path):
    (tmp_path / "notes").write_bytes(b"text")
    target = tmp_path / "notes" / "graph.svg"
    message = f"cannot write {target}: {tmp_path / 'notes'} is a file, not a directory"
    with pytest.raises(OSError, match=f"^{re.escape(message)}$"):
        write_atomic(target, b"<svg/>")
    assert (tmp_path / "notes").read_bytes() == b"text"


def test_a_target_that_is_a_directory_is_refused_before_any_temporary_is_made(tmp_path):
    (tmp_path / "graph.png").mkdir()
    with pytest.raises(IsADirectoryError, match=r"graph\.png: it is a directory$"):
        write_atomic(tmp_path / "graph.png", b"png")
    assert [p.name for p in tmp_path.iterdir()] == ["graph.png"]


def test_a_failed_rename_names_the_target_not_the_temporary(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied", src)

    monkeypatch.setattr("micrograd.files.os.replace", refuse)
    message = r"^cannot write .*model\.json: permission denied to write in [^ ]+$"
    with pytest.raises(PermissionError, match=message) as info:
        write_atomic(tmp_path / "model.json", b"{}")
    assert ".tmp" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_check_writable_fails_as_the_later_write_would_and_leaves_nothing(tmp_path):
    (tmp_path / "notes").write_bytes(b"text")
    target = tmp_path / "notes" / "model.json"
    with pytest.raises(OSError, match=re.escape(f"{tmp_path / 'notes'} is a file, not a directory")):
        check_writable(target)
    fine = tmp_path / "new" / "model.json"
    check_writable(fine)  # creates the folder, touches nothing else
    assert [p.name for p in (tmp_path / "new").iterdir()] == []


# ----------------------------------------------------------------------------------------------
# Permissions, symlinks and the temporaries of killed writers


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_an_existing_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert mode(path) == 0o600


def test_a_new_file_gets_0666_minus_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        write_atomic(tmp_path / "model.json", b"new")
    finally:
        os.umask(previous)
    assert mode(tmp_path / "model.json") == 0o640  # 0o666 & ~0o027


def test_a_symlink_is_written_through_to_its_target_in_the_targets_directory(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "links").mkdir()
    target = tmp_path / "data" / "model.json"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    link = tmp_path / "links" / "current.json"
    link.symlink_to(os.path.join("..", "data", "model.json"))  # relative, as ln -s makes them
    write_atomic(link, b"new")
    assert os.path.islink(link) and os.readlink(link) == os.path.join("..", "data", "model.json")
    assert target.read_bytes() == b"new" and mode(target) == 0o640
    assert sorted(os.listdir(tmp_path / "data")) == ["model.json"]
    assert sorted(os.listdir(tmp_path / "links")) == ["current.json"]


def test_a_chain_of_symlinks_and_a_dangling_one_reach_the_final_target(tmp_path):
    first, second, target = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    second.symlink_to(target)  # dangling: c.json does not exist yet
    first.symlink_to(second)
    write_atomic(first, b"new")
    assert target.read_bytes() == b"new"
    assert os.path.islink(first) and os.path.islink(second)


def test_a_symlink_loop_is_refused_by_the_name_given(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(OSError, match=f"^{re.escape(f'cannot write {a}: its symlinks form a loop')}$"):
        write_atomic(a, b"new")
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.json"]


def test_a_read_only_file_is_refused_as_open_would_refuse_it():
    # root may write anything, so as root the child drops to the user nobody before writing
    folder = Path(tempfile.mkdtemp(prefix="micrograd-test-"))  # in /tmp, which every user can reach
    try:
        os.chmod(folder, 0o777)  # the directory allows the rename: only the file's mode forbids it
        path = folder / "model.json"
        path.write_bytes(b"old")
        os.chmod(path, 0o444)
        code = (
            "import os, sys\n"
            "from micrograd.files import write_atomic\n"
            "if os.geteuid() == 0:\n"
            "    os.setuid(65534)\n"
            "try:\n"
            "    write_atomic(sys.argv[1], b'new')\n"
            "except PermissionError as exc:\n"
            "    print(exc)\n"
        )
        done = python(code, str(path))
        assert done.stdout.strip() == f"cannot write {path}: permission denied (the file is read-only)", done
        assert path.read_bytes() == b"old" and os.listdir(folder) == ["model.json"]
    finally:
        shutil.rmtree(folder)


STUCK_WRITER = """
import os, sys, time
import micrograd.files
def stuck(fd):  # the temporary holds the new bytes; the rename has not happened
    print("written", flush=True)
    time.sleep(120)
micrograd.files.os.fsync = stuck
micrograd.files.write_atomic(sys.argv[1], b"from the killed writer")
"""


def start_stuck_writer(path: Path) -> subprocess.Popen:
    """A child process stopped inside write_atomic(path), its temporary written and locked."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", STUCK_WRITER, str(path)], stdout=subprocess.PIPE, env=env)
    ready, _, _ = select.select([child.stdout], [], [], 60)
    assert ready and child.stdout.readline() == b"written\n"  # type: ignore[union-attr]
    return child


def temporaries(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_temporary_of_a_writer_killed_mid_write_is_removed_by_the_next_write(tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(b"old")
    child = start_stuck_writer(path)
    try:
        child.kill()  # SIGKILL: no finally, no cleanup
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    (left,) = temporaries(tmp_path)
    assert re.fullmatch(rf"\.model\.json\.{child.pid}-[0-9a-f]{{8}}\.tmp", left)
    assert (tmp_path / left).read_bytes() == b"from the killed writer" and path.read_bytes() == b"old"
    write_atomic(path, b"new")
    assert os.listdir(tmp_path) == ["model.json"] and path.read_bytes() == b"new"


def test_the_temporary_of_a_live_writer_is_left_alone(tmp_path):
    path = tmp_path / "model.json"
    child = start_stuck_writer(path)
    try:
        (theirs,) = temporaries(tmp_path)
        write_atomic(path, b"mine")  # a second writer of the same path, while the first is mid-write
        assert temporaries(tmp_path) == [theirs] and path.read_bytes() == b"mine"
    finally:
        child.kill()
        child.wait(timeout=60)


def test_only_our_pattern_is_cleaned_and_only_when_stale(tmp_path):
    gone = dead_pid()
    old = os.stat(tmp_path).st_mtime - 2 * STALE_SECONDS
    ours_dead = f".model.json.{gone}-0123abcd.tmp"
    ours_old = f".model.json.{os.getppid()}-0123abcd.tmp"  # its process is alive (a reused pid, say)
    kept = [
        f".model.json.{os.getppid()}-89abcdef.tmp",  # alive and fresh: a writer that has not locked yet
        f".model.json.{gone}-0123ABCD.tmp",  # not our spelling
        ".model.json.backup.tmp",
        f".other.json.{gone}-0123abcd.tmp",  # another file's
        f"model.json.{gone}-0123abcd.tmp",
        f".model.json.{gone}-0123abcd.tmp.keep",
    ]
    for name in [ours_dead, ours_old, *kept]:
        (tmp_path / name).write_bytes(b"x")
    os.utime(tmp_path / ours_old, (old, old))
    (tmp_path / f".model.json.{gone}-fedcba98.tmp").mkdir()  # not a regular file
    kept.append(f".model.json.{gone}-fedcba98.tmp")
    write_atomic(tmp_path / "model.json", b"new")
    assert sorted(os.listdir(tmp_path)) == sorted([*kept, "model.json"])


# ----------------------------------------------------------------------------------------------
# Reading: only regular files, never blocking, never more than the limit


def test_a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    code = (
        "import sys\n"
        "from micrograd.files import read_regular\n"
        "try:\n"
        "    read_regular(sys.argv[1], 100, 'a saved model')\n"
        "except ValueError as exc:\n"
        "    print(exc)\n"
    )
    done = python(code, str(fifo), timeout=30)  # a regression hangs the child, and the timeout fails this
    expected = (
        f"cannot read {fifo}: it is a named pipe (FIFO); a saved model is read only from a regular file"
    )
    assert done.stdout.strip() == expected, done


def test_devices_sockets_and_directories_are_refused(tmp_path):
    with pytest.raises(ValueError, match="^cannot read /dev/zero: it is a character device; a file is read"):
        read_regular("/dev/zero", 100)
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "sock"))
        with pytest.raises(ValueError, match="it is a socket"):
            read_regular(tmp_path / "sock", 100)
    with pytest.raises(
        IsADirectoryError, match=f"^cannot read {re.escape(str(tmp_path))}: it is a directory$"
    ):
        read_regular(tmp_path, 100)


def test_a_file_over_the_limit_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(10**12)  # sparse: a terabyte on paper, nothing on disk
    with pytest.raises(
        ValueError, match="^cannot read .*: it is 1,000,000,000,000 bytes; a file is at most 100 bytes$"
    ):
        read_regular(path, 100)
    path.write_bytes(b"x" * 100)
    assert read_regular(path, 100) == b"x" * 100
    path.write_bytes(b"x" * 101)
    with pytest.raises(ValueError, match="101 bytes"):
        read_regular(path, 100)


def test_a_symlink_to_a_regular_file_is_read(tmp_path):
    (tmp_path / "model.json").write_bytes(b"{}")
    (tmp_path / "link.json").symlink_to("model.json")
    assert read_regular(tmp_path / "link.json", 100) == b"{}"
