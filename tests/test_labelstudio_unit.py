"""Pull internals without a server: pseudonyms, the allow-list, file names, atomic swap."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpus_tools import labelstudio as lib
from corpus_tools import store
from corpus_tools.errors import UsageError

REPO = Path(__file__).resolve().parent.parent

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


# --- issue 10: readers skip what an interrupted pull leaves; the next pull sweeps it ---------


def test_readers_skip_temporary_hidden_and_backup_files(tmp_path: Path) -> None:
    from corpus_tools import exports

    root = tmp_path / "annotations"
    keep = [root / "proj/tasks/a.json", root / "proj/tasks/b.jsonl"]
    skip = [
        root / ".proj.pull-123-abcd/tasks/a.json",  # an interrupted pull's snapshot
        root / ".proj.old-123-0/tasks/a.json",  # a swap's backup
        root / "proj.bak/tasks/a.json",
        root / "proj/tasks.tmp/a.json",
        root / "proj/tasks/.a.json",
        root / "proj/tasks/a.json~",
        root / "proj/_project.json",
    ]
    for f in keep + skip:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("{}", encoding="utf-8")
    assert exports.export_files([root]) == sorted(keep)
    # A file named explicitly is read whatever its name.
    assert exports.export_files([skip[0]]) == [skip[0]]


def test_sweep_removes_dead_pulls_and_restores_a_lost_folder(tmp_path: Path) -> None:
    target = tmp_path / "ann" / "proj"
    target.parent.mkdir()
    dead = 2**22 + 12345  # above Linux's pid_max: never a running process
    (tmp_path / "ann" / f".proj.pull-{dead}-x1y2").mkdir()
    (tmp_path / "ann" / ".proj.pull-abcd1234").mkdir()  # the format before pids were kept
    backup = tmp_path / "ann" / f".proj.old-{dead}-0"
    (backup / "tasks").mkdir(parents=True)
    (backup / "tasks" / "a.json").write_text("old\n", encoding="utf-8")
    swept = lib.sweep_stale(target)
    assert sorted(swept) == sorted([f".proj.pull-{dead}-x1y2", ".proj.pull-abcd1234"])
    # Killed between the two renames of the fallback swap: the old folder comes back.
    assert (target / "tasks" / "a.json").read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["proj"]
    # A pull that is running right now (this test's own parent process) is left alone.
    live = tmp_path / "ann" / f".proj.pull-{os.getppid()}-live"
    live.mkdir()
    assert lib.sweep_stale(target) == [] and live.is_dir()


def test_commit_exchanges_atomically(tmp_path: Path) -> None:
    """The swap is one renameat2(RENAME_EXCHANGE): no moment without the folder."""
    target = tmp_path / "proj"
    lib.write_tree(target, {"tasks/a.json": b"1\n"})
    inode = target.stat().st_ino
    with lib.TreeWriter(target) as tree:
        tree.add("tasks/a.json", b"2\n")
        new_inode = tree.tmp.stat().st_ino
        assert store.exchange(tree.tmp, target)  # supported here (Linux)
        assert target.stat().st_ino == new_inode and tree.tmp.stat().st_ino == inode
        assert store.exchange(tree.tmp, target)  # and back
        counts = tree.commit()
    assert counts == {"added": 0, "changed": 1, "removed": 0, "unchanged": 0}
    assert (target / "tasks/a.json").read_bytes() == b"2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]


# --- issue 10 point 14: bounded, stable, unique file names ----------------------------------


def test_task_filename_of_a_300_character_id_is_bounded_stable_unique() -> None:
    long_a, long_b = "a" * 299 + "1", "a" * 299 + "2"
    name_a = lib.task_filename({"id": 1, "data": {"article_id": long_a}})
    name_b = lib.task_filename({"id": 2, "data": {"article_id": long_b}})
    assert name_a != name_b
    assert name_a == lib.task_filename({"id": 9, "data": {"article_id": long_a}})  # stable
    for name in (name_a, name_b):
        assert len(f"{name[:-5]}.task-{2**63}.json".encode()) <= 255
        assert name.startswith("a" * 100)
    # Ids that fit keep their name (the committed sample's files do not move).
    assert lib.task_filename({"id": 1, "data": {"article_id": "x" * 120}}) == "x" * 120 + ".json"


# --- issue 10 point 12: a secret pseudonym key, never inside the repository ------------------


def _config(root: Path) -> Any:
    from corpus_tools.config import load_config

    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "corpus.toml", root / "corpus.toml")
    return load_config(root / "corpus.toml")


def test_pseudonym_key_is_required(tmp_path: Path) -> None:
    cfg = _config(tmp_path / "corpus")
    with pytest.raises(UsageError) as exc:
        lib.pseudonym_key(cfg)
    assert exc.value.exit_code == 2
    assert lib.ENV_PSEUDONYM_KEY in (exc.value.hint or "")
    assert "--pseudonym-key-file" in (exc.value.hint or "")
    got = lib.pseudonym_key(cfg, secret="s3cret-value")
    assert (got.key, got.source) == (b"s3cret-value", "$CORPUS_PSEUDONYM_KEY")
    assert "s3cret" not in repr(got)
    # The old default, set on purpose to keep old pseudonyms, is recorded as what it is.
    assert lib.pseudonym_key(cfg, secret=cfg.name).source == "corpus name"


def test_pseudonym_key_file_inside_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    cfg = _config(repo / "corpus")
    for inside in (repo / "corpus" / "key.txt", repo / "secrets" / "key.txt"):
        inside.parent.mkdir(parents=True, exist_ok=True)
        inside.write_text("k" * 32 + "\n", encoding="utf-8")
        with pytest.raises(UsageError, match="inside"):
            lib.pseudonym_key(cfg, key_file=inside)
    outside = tmp_path / "home" / "corpus.key"
    outside.parent.mkdir()
    outside.write_text("k" * 32 + "\n", encoding="utf-8")
    got = lib.pseudonym_key(cfg, key_file=outside)
    assert (got.key, got.source) == (b"k" * 32, "key file")
    (tmp_path / "home" / "empty.key").write_text("\n", encoding="utf-8")
    with pytest.raises(UsageError, match="empty"):
        lib.pseudonym_key(cfg, key_file=tmp_path / "home" / "empty.key")
    with pytest.raises(UsageError, match="cannot read"):
        lib.pseudonym_key(cfg, key_file=tmp_path / "home" / "missing.key")


# --- issue 10 point 13: secrets never reach a message ---------------------------------------


def test_redact_removes_tokens_headers_and_url_credentials() -> None:
    body = (
        "<pre>HTTP_AUTHORIZATION = 'Token corpus-secret-token-123'\n"
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk\n"
        "request to http://kim:hunter2@ls.example.org:8080/api/tasks/ failed</pre>"
    )
    out = lib.redact(body, ["corpus-secret-token-123"])
    for secret in ("corpus-secret-token-123", "eyJhbGci", "hunter2", "kim:"):
        assert secret not in out
    assert "http://ls.example.org:8080/api/tasks/" in out
    assert lib.display_url("http://kim:hunter2@h:1/x") == "http://h:1/x"
    assert lib.display_url("http://h:1") == "http://h:1"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    import email.utils
    import time

    import httpx

    def resp(value: str | None) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value} if value else {})

    assert lib._retry_after(resp("3")) == 3.0
    assert lib._retry_after(resp(None)) is None and lib._retry_after(resp("soon")) is None
    later = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert 15 <= (lib._retry_after(resp(later)) or 0) <= 21
    assert lib._retry_after(resp(email.utils.formatdate(0, usegmt=True))) == 0.0


def test_the_committed_sample_starts_from_its_prediction_as_the_editor_does() -> None:
    """scripts/annotate_sample.py: each annotation names the task's prediction as its parent;
    an entity region at a predicted span carries that region's id and origin "prediction"
    (relations point at those ids), every other region is "manual" with an id of its own."""
    files = sorted((REPO / "annotations" / "geonews-annotation" / "tasks").glob("*.json"))
    assert files
    kept = manual = 0
    for f in files:
        task = json.loads(f.read_bytes())
        (pred,) = task["predictions"]
        spans = {
            (r["value"]["start"], r["value"]["end"]): r["id"]
            for r in pred["result"]
            if r["from_name"] == "entities"
        }
        for ann in task["annotations"]:
            assert ann["parent_prediction"] == pred["id"], f.name
            ids = set()
            for r in ann["result"]:
                if r.get("type") == "relation":
                    assert {r["from_id"], r["to_id"]} <= {x.get("id") for x in ann["result"]}
                    continue
                v = r["value"]
                at = (
                    spans.get((v.get("start"), v.get("end")))
                    if r["from_name"] == "entities"
                    else None
                )
                if at is not None:
                    assert (r["id"], r["origin"]) == (at, "prediction"), f.name
                    kept += 1
                else:
                    assert r["origin"] == "manual" and r.get("id") not in spans.values(), f.name
                    manual += r["from_name"] == "entities"
                if r["from_name"] == "entities":
                    assert r["id"] not in ids  # one region per id within an annotation
                    ids.add(r["id"])
    assert kept > 100 and manual > 100
