"""iter_raw_tasks: locations per file kind, and DataError on files that are not tasks."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from corpus_tools.errors import DataError
from corpus_tools.exports import TaskLocation, iter_raw_tasks

TEXT = "Grüße 😀 𝔸 cafe\u0301\r\nline two"


def _task(i: int) -> dict[str, object]:
    return {"id": i, "data": {"article_id": f"a{i}", "text": TEXT}, "annotations": []}


def test_locations_for_array_jsonl_and_single_files(tmp_path: Path) -> None:
    (tmp_path / "arr.json").write_bytes(orjson.dumps([_task(1), _task(2)]))
    lines = [orjson.dumps(_task(3)), b"", orjson.dumps(_task(4))]
    (tmp_path / "tasks.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (tmp_path / "one.json").write_bytes(orjson.dumps(_task(5), option=orjson.OPT_INDENT_2))
    (tmp_path / "_project.json").write_bytes(b"{}")  # not a task file: skipped
    got = [(loc, t["id"], t["data"]["text"]) for loc, t in iter_raw_tasks([tmp_path])]
    arr, jsonl, one = (str(tmp_path / n) for n in ("arr.json", "tasks.jsonl", "one.json"))
    assert got == [
        (TaskLocation(arr, index=0), 1, TEXT),
        (TaskLocation(arr, index=1), 2, TEXT),
        (TaskLocation(one), 5, TEXT),
        (TaskLocation(jsonl, line=1), 3, TEXT),
        (TaskLocation(jsonl, line=3), 4, TEXT),
    ]


@pytest.mark.parametrize(
    ("name", "content", "expect"),
    [
        ("cut.json", b'[{"data": {}}, {"data": ', "ends inside task 1"),
        ("bom.json", b"\xef\xbb\xbf[]", "UTF-8 BOM"),
        ("bad.jsonl", b'{"data": {}}\n{"data": nope}\n', ":2: not JSON"),
        ("list.json", b"[1]", "not a Label Studio task"),
        ("top.json", b"3", "not a task object"),
        ("empty.json", b"", "file is empty"),
        ("missing.json", None, "cannot read"),
    ],
)
def test_bad_files_raise_data_error(
    tmp_path: Path, name: str, content: bytes | None, expect: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as err:
        list(iter_raw_tasks([path]))
    assert expect in err.value.message
    assert err.value.path == str(path)
