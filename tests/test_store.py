"""Atomic writes: all or nothing, and files with the mode a plain write would give."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from corpus_tools.store import atomic_path, atomic_write_bytes, dump_json


def test_atomic_write_replaces_and_uses_the_umask_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.json"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]


def test_failed_write_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_dump_json_is_deterministic_and_keeps_unicode() -> None:
    a = dump_json({"b": 1, "a": "😀 e\u0301"})
    assert a == dump_json({"a": "😀 e\u0301", "b": 1})
    assert a.endswith(b"\n") and "😀".encode() in a
