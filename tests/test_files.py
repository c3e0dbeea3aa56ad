"""An atomic write that cannot happen says which file could not be written and why in words, never
the name of its hidden temporary file, and leaves nothing behind."""

import re

import pytest

from micrograd.files import check_writable, write_atomic


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
