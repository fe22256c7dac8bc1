"""Pull internals without a server: pseudonyms, the allow-list, file names, atomic swap."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus_tools import labelstudio as lib

RAW_TASK = {
    "id": 7,
    "inner_id": 7,
    "data": {"article_id": "a/1 é", "text": "x"},
    "annotators": [3],
    "updated_by": [{"user_id": 3}],
    "comment_authors": [{"email": "kim@example.org"}],
    "annotations": [
        {
            "id": 12,
            "completed_by": 3,
            "created_username": " kim@example.org, 3",
            "created_ago": "3 minutes",
            "result": [],
            "was_cancelled": True,
            "ground_truth": False,
            "lead_time": 3.5,
            "updated_by": 3,
            "last_created_by": 3,
        },
        {"id": 11, "completed_by": {"id": 4, "email": "lee@example.org"}, "result": []},
    ],
    "predictions": [{"id": 2, "created_ago": "1 hour", "model_version": "m", "result": []}, 5],
    "drafts": [{"id": 1, "user": 4, "created_username": "lee@example.org", "result": []}],
}


def test_pseudonym_is_hmac_of_lowercased_email() -> None:
    key = b"secret"
    want = "ann-" + hmac.new(key, b"kim@example.org", hashlib.sha256).hexdigest()[:10]
    assert lib.pseudonym(" Kim@Example.org", key) == want
    assert lib.pseudonym("kim@example.org", b"other") != want


def test_clean_task_keeps_export_shape_and_no_personal_data() -> None:
    who = lib.Pseudonyms({3: "kim@example.org", 4: "lee@example.org"}, b"k")
    out = lib.clean_task(RAW_TASK, who)
    raw = json.dumps(out)
    assert "example.org" not in raw and "created_username" not in raw and "ago" not in raw
    assert [a["id"] for a in out["annotations"]] == [11, 12]  # stable order
    assert out["annotations"][1]["completed_by"] == lib.pseudonym("kim@example.org", b"k")
    assert out["annotations"][0]["completed_by"] == lib.pseudonym("lee@example.org", b"k")
    assert out["drafts"][0]["user"] == out["annotations"][0]["completed_by"]
    assert out["annotations"][1]["was_cancelled"] is True
    # Full predictions lose their time-dependent keys; id-only ones (sync export) stay ids.
    assert out["predictions"] == [{"id": 2, "model_version": "m", "result": []}, 5]
    assert set(out) <= set(lib.TASK_KEYS) | {"annotations", "predictions", "drafts"}
    # A user who has left the server still gets a stable pseudonym, never a raw id.
    assert who(99) == who(99) != "99"


@given(st.text(min_size=1, max_size=40))
def test_task_filename_is_safe(article_id: str) -> None:
    name = lib.task_filename({"id": 1, "data": {"article_id": article_id}})
    assert name.endswith(".json") and "/" not in name and not name.startswith(".")
    assert name not in ("..json", ".json")


def test_write_tree_is_atomic_and_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "ann" / "proj"
    first = lib.write_tree(target, {"_project.json": b"{}\n", "tasks/a.json": b"1\n"})
    assert first == {"added": 2, "changed": 0, "removed": 0, "unchanged": 0}
    second = lib.write_tree(target, {"_project.json": b"{}\n", "tasks/b.json": b"2\n"})
    assert second == {"added": 1, "changed": 0, "removed": 1, "unchanged": 1}
    assert sorted(p.name for p in (target / "tasks").iterdir()) == ["b.json"]

    def boom(*a: object, **k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", boom)
    with pytest.raises(OSError):
        lib.write_tree(target, {"_project.json": b"new\n"})
    monkeypatch.undo()
    assert (target / "tasks" / "b.json").read_bytes() == b"2\n"  # previous state intact
    assert sorted(p.name for p in target.parent.iterdir()) == ["proj"]  # no temp left


def test_slugify() -> None:
    assert lib.slugify("GeoNews annotation") == "geonews-annotation"
    assert lib.slugify("  !!! ") == "project"
