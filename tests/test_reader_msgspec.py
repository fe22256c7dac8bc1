"""Canary: the streaming task reader relies on the wording of msgspec's decode errors.

`corpus_tools.validate.reader` splits a JSON array into tasks by decoding from each element as
`msgspec.Raw` and reading where the value ended out of the error text ("trailing characters
(byte N)"), tells a cut-off value by "truncated", and locates malformed JSON by "(byte N)".
msgspec documents none of these strings. If a release of msgspec words them differently, these
tests fail here, by name, before the reader silently misplaces tasks.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from corpus_tools.model import Finding
from corpus_tools.validate import reader
from corpus_tools.validate.reader import _MALFORMED, _TRAILING, read_tasks


def _error(data: bytes) -> str:
    with pytest.raises(msgspec.DecodeError) as info:
        msgspec.json.decode(data, type=msgspec.Raw)
    return str(info.value)


def test_trailing_characters_name_the_byte_after_the_value() -> None:
    data = b'{"id": 1, "data": {"text": "a"}}  ,{"id": 2}'
    msg = _error(data)
    m = _TRAILING.search(msg)
    assert m, msg
    # The reader takes byte N - 1 as the end of the value: the value and the blanks after it.
    end = int(m.group(1)) - 1
    assert data[:end].rstrip() == b'{"id": 1, "data": {"text": "a"}}'
    assert data[end:].lstrip().startswith(b",")


def test_a_value_cut_off_says_truncated() -> None:
    assert "truncated" in _error(b'{"id": 1, "data": {"text": "ab')


def test_malformed_json_names_its_byte() -> None:
    data = b'{"id": 1,\n "data": nope}'
    msg = _error(data)
    m = _MALFORMED.search(msg)
    assert m, msg
    assert "trailing characters" not in msg and "truncated" not in msg
    # The byte named lies in the bad token (the reader counts the line ends before it).
    bad = data.index(b"nope")
    assert bad <= int(m.group(1)) < bad + 4


def test_reader_splits_an_array_through_those_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End to end: an array of three tasks, one of them with a non-BMP letter, read in small
    chunks, gives the three tasks with their bytes; a broken fourth is a finding with its line."""
    path = tmp_path / "export.json"
    path.write_bytes(
        b'[{"id": 1, "data": {"text": "\xf0\x9d\x94\xb8 one"}},\n'
        b' {"id": 2, "data": {"text": "two"}} ,\n'
        b'{"id": 3, "data": {"text": "three"}},\n'
        b'{"id": 4, "data": nope}]\n'
    )
    monkeypatch.setattr(reader, "CHUNK", 16)  # values cross chunk ends: "truncated", read on
    findings: list[Finding] = []
    tasks = list(read_tasks(path, "export.json", findings))
    assert [msgspec.json.decode(t.raw)["id"] for t in tasks] == [1, 2, 3]
    assert [f.slug for f in findings] == ["not-json"]
    assert "line 4" in findings[0].message
