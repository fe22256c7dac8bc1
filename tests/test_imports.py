"""`corpus ls import`: Label Studio export files written as `corpus ls pull` writes a project.

The live test builds a project on the real server from the sample corpus's own labeling config
(`labeling_config.render`), imports tasks made elsewhere (one with article_id and
text_sha256, one with article_id only, one with neither; emoji, 𝔸, CRLF, combining marks),
annotates them as two users through the API, downloads a sync export (completed_by = user id)
and a snapshot export (completed_by = user object with e-mail and names), then checks:
ingest gives each task's text verbatim under its task_article_id; importing the snapshot
writes the same files as a pull of the same project with the same key (pseudonyms included);
importing the sync export gives `user-id:<id>` pseudonyms (computed here with hmac); no e-mail
or name is anywhere on disk; `corpus validate` passes on the imported folder.
The server-free tests use the committed adopt sample's snapshot export (example.org users).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pyarrow.parquet as pq
import pytest
from conftest import REPO, CliRun
from ls_regions import locate, relation, stances
from ls_server import LabelStudioFixture

from corpus_tools import labeling_config
from corpus_tools.config import load_config
from corpus_tools.errors import DataError
from corpus_tools.imports import import_export
from corpus_tools.labelstudio import PseudonymKey
from corpus_tools.store import sha256_text

ADOPT_EXPORT = REPO / "tests" / "data" / "adopt" / "export.json"
SECRET = "a test secret, not the corpus name"

EMOJI = (
    "😀 Breaking 𝔸: NATO spokesman Jens Stoltenberg said Russia moved drones.\r\n"
    "Cafe\u0301 owners in Tehran 🤷🏽\u200d♀️ were not surprised."
)
CRLF = "Washington and Tehran talked in Qatar.\r\nThe NATO chief Jens\r\nStoltenberg spoke.\r\n"
NFD = "Le\u0301on Tusk\u0301 said Iran sold drones to Russia, 𝔸 sources say."


def ann_pseudonym(identity: str, key: str = SECRET) -> str:
    """The pull's pseudonym, computed here: ann- + 10 hex of HMAC-SHA256(key, identity)."""
    mac = hmac.new(key.encode(), identity.strip().lower().encode(), hashlib.sha256)
    return "ann-" + mac.hexdigest()[:10]


def all_bytes(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def corpus_dir(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copy2(REPO / "corpus.toml", root / "corpus.toml")
    return root


def key_file(tmp_path: Path, secret: str = SECRET) -> Path:
    path = tmp_path / "keys" / "pseudonym.key"
    path.parent.mkdir(exist_ok=True)
    path.write_text(secret + "\n", encoding="utf-8")
    return path


# --- server-free: the committed snapshot export -----------------------------------------------


def test_snapshot_export_pseudonymised_and_no_personal_data(tmp_path: Path, cli: CliRun) -> None:
    corpus = corpus_dir(tmp_path / "c")
    export = json.loads(ADOPT_EXPORT.read_text(encoding="utf-8"))
    users = {a["completed_by"]["id"]: a["completed_by"] for t in export for a in t["annotations"]}
    assert all("@" in u["email"] for u in users.values())  # personal data in the input
    res = cli(
        "ls",
        "import",
        str(ADOPT_EXPORT),
        "--project-title",
        "Adopted News",
        "--pseudonym-key-file",
        str(key_file(tmp_path)),
        "--json",
        cwd=corpus,
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    folder = corpus / "annotations" / "adopted-news"
    assert out["dir"] == str(folder)
    assert out["tasks"] == len(export)
    assert out["annotations"] == sum(len(t["annotations"]) for t in export)
    assert out["annotators"] == sorted(ann_pseudonym(u["email"]) for u in users.values())
    files = all_bytes(folder)
    meta = json.loads(files["_project.json"])
    assert meta["source"] == "label-studio-export" and meta["exports"] == ["export.json"]
    assert meta["pseudonyms"]["key"] == "key file"
    for name, data in files.items():
        for u in users.values():
            for value in (u["email"], u["email"].split("@")[0]):
                assert value.encode() not in data, name
        assert b"example.org" not in data and b"@" not in data, name
        for word in (b"first_name", b"last_name", b"username", b'"email"'):
            assert word not in data, name
    # one file per task, each as clean_task keeps it: results untouched
    # (an article's second task, one per stance target, gets `.task-<id>` in its name)
    by_id = {t["id"]: t for t in export}
    want_names: dict[int, str] = {}
    for t in export:
        stem = t["data"].get("article_id") or f"task-{t['id']}"
        taken = f"tasks/{stem}.json" in want_names.values()
        want_names[t["id"]] = f"tasks/{stem}.task-{t['id']}.json" if taken else f"tasks/{stem}.json"
    for name, data in files.items():
        if name.startswith("tasks/"):
            task = json.loads(data)
            src = by_id[task["id"]]
            assert task["data"] == src["data"]
            assert [a["result"] for a in task["annotations"]] == [
                a["result"] for a in sorted(src["annotations"], key=lambda a: a["id"])
            ]
            assert name == want_names[task["id"]]
    assert sorted(n for n in files if n.startswith("tasks/")) == sorted(want_names.values())


def test_refuses_to_drop_local_annotations_and_is_atomic(tmp_path: Path) -> None:
    corpus = corpus_dir(tmp_path / "c")
    cfg = load_config(corpus / "corpus.toml")
    key = PseudonymKey(SECRET.encode(), "test")
    first = import_export(config=cfg, paths=[ADOPT_EXPORT], pseudonym_key=key)
    folder = Path(first["dir"])
    assert folder == corpus / "annotations" / "export"  # the file's stem
    before = all_bytes(folder)
    assert first["files"]["added"] == len(before)
    # the same export again: byte-identical, nothing changed
    again = import_export(config=cfg, paths=[ADOPT_EXPORT], pseudonym_key=key)
    assert again["files"]["unchanged"] == len(before) and all_bytes(folder) == before

    export = json.loads(ADOPT_EXPORT.read_text(encoding="utf-8"))
    older = copy.deepcopy(export)
    dropped = older[0]["annotations"].pop()
    older_file = tmp_path / "export.json"
    older_file.write_text(json.dumps(older), encoding="utf-8")
    with pytest.raises(DataError) as err:
        import_export(config=cfg, paths=[older_file], pseudonym_key=key)
    assert "would drop 1 of the" in err.value.message
    assert all_bytes(folder) == before  # nothing changed
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no leftovers
    done = import_export(config=cfg, paths=[older_file], pseudonym_key=key, allow_deletions=True)
    assert done["dropped_annotations"] == 1
    name = f"tasks/{export[0]['data'].get('article_id') or 'task-' + str(export[0]['id'])}.json"
    kept = json.loads(all_bytes(folder)[name])
    assert dropped["id"] not in {a["id"] for a in kept["annotations"]}

    # a task id twice (the same project's two exports at once): refused, nothing written
    with pytest.raises(DataError, match="twice"):
        import_export(
            config=cfg,
            paths=[ADOPT_EXPORT, older_file],
            pseudonym_key=key,
            out=tmp_path / "both",
        )
    assert not (tmp_path / "both" / "export").exists()


def test_cli_errors(tmp_path: Path, cli: CliRun) -> None:
    corpus = corpus_dir(tmp_path / "c")
    key = str(key_file(tmp_path))
    res = cli("ls", "import", str(tmp_path / "nope.json"), "--pseudonym-key-file", key)
    assert res.exit_code == 2 and "no such file" in res.output
    min_rows = tmp_path / "min.json"
    min_rows.write_text(
        json.dumps([{"id": 1, "text": "A.", "annotator": 1, "annotation_id": 1}]),
        encoding="utf-8",
    )
    res = cli("ls", "import", str(min_rows), "--pseudonym-key-file", key, cwd=corpus)
    assert res.exit_code == 1 and "JSON-MIN" in res.output
    assert not (corpus / "annotations" / "min").exists()
    # no key: the pull's usage error, nothing written
    res = cli("ls", "import", str(ADOPT_EXPORT), cwd=corpus)
    assert res.exit_code == 2 and "pseudonym key" in res.output
    assert not (corpus / "annotations" / "export").exists()


# --- live: a real project, two users, sync and snapshot exports --------------------------------


def span(rid: str, text: str, needle: str, label: str, nth: int = 0) -> dict[str, Any]:
    start, end = locate(text, needle, nth)
    return {
        "id": rid,
        "from_name": "entities",
        "to_name": "text",
        "type": "labels",
        "origin": "manual",
        "value": {"start": start, "end": end, "text": needle, "labels": [label]},
    }


def claim(rid: str, text: str, needle: str, checkworthy: str) -> list[dict[str, Any]]:
    start, end = locate(text, needle)
    pos = {"start": start, "end": end, "text": needle}
    return [
        {
            "id": rid,
            "from_name": "claim",
            "to_name": "text",
            "type": "labels",
            "value": {**pos, "labels": ["Claim"]},
        },
        {
            "id": rid,
            "from_name": "checkworthy",
            "to_name": "text",
            "type": "choices",
            "value": {**pos, "choices": [checkworthy]},
        },
    ]


def snapshot_export(http: httpx.Client, pid: int) -> bytes:
    """A snapshot export with full user objects (e-mails, names)."""
    created = http.post(
        f"/api/projects/{pid}/exports/",
        json={
            "serialization_options": {
                "predictions": {"only_id": False},
                "annotations__completed_by": {"only_id": False},
            }
        },
    )
    created.raise_for_status()
    eid = created.json()["id"]
    for _ in range(100):
        if http.get(f"/api/projects/{pid}/exports/{eid}").json().get("status") == "completed":
            break
        time.sleep(0.2)
    resp = http.get(f"/api/projects/{pid}/exports/{eid}/download", params={"exportType": "JSON"})
    resp.raise_for_status()
    return resp.content


@pytest.mark.labelstudio
def test_sync_and_snapshot_exports_like_a_pull(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = corpus_dir(tmp_path / "c")
    cfg = load_config(corpus / "corpus.toml")
    pid = label_studio.new_project(title="Imported News", label_config=labeling_config.render(cfg))
    datas = [
        {"article_id": "a-emoji", "text": EMOJI, "text_sha256": sha256_text(EMOJI)},
        {"article_id": "b-crlf", "text": CRLF},
        {"text": NFD},
    ]
    with label_studio.http() as http:
        resp = http.post(
            f"/api/projects/{pid}/import",
            params={"return_task_ids": "true"},
            json=[{"data": d} for d in datas],
        )
        resp.raise_for_status()
        ids = [int(i) for i in resp.json()["task_ids"]]
    bea = label_studio.signup("bea")
    work = {
        (label_studio.api_key, 0): [
            span("e1", EMOJI, "NATO", "ORG"),
            span("e2", EMOJI, "Jens Stoltenberg", "PER"),
            *claim("c1", EMOJI, "Russia moved drones", "check-worthy"),
            relation("e2", "c1"),
            *stances(united_states="unrelated", iran="against", russia="against"),
        ],
        (bea.token, 0): [
            span("x1", EMOJI, "NATO", "ORG"),
            span("x2", EMOJI, "Cafe\u0301", "NORP"),
            *stances(united_states="neutral", iran="against", russia="against"),
        ],
        (label_studio.api_key, 1): [
            span("e1", CRLF, "Jens\r\nStoltenberg", "PER"),
            *stances(united_states="neutral", iran="neutral", russia="unrelated"),
        ],
        (bea.token, 1): [
            span("y1", CRLF, "Tehran", "GPE"),
            *stances(united_states="neutral", iran="neutral", russia="unrelated"),
        ],
        (label_studio.api_key, 2): [
            span("n1", NFD, "Le\u0301on Tusk\u0301", "PER"),
            *stances(united_states="unrelated", iran="against", russia="against"),
        ],
        (bea.token, 2): [
            span("z1", NFD, "Le\u0301on Tusk\u0301", "PER"),
            span("z2", NFD, "Iran", "GPE"),
            *stances(united_states="unrelated", iran="neutral", russia="against"),
        ],
    }
    for (token, index), result in work.items():
        with label_studio.http(token) as http:
            resp = http.post(f"/api/tasks/{ids[index]}/annotations/", json={"result": result})
            assert resp.status_code == 201, resp.text
    with label_studio.http() as http:
        sync = http.get(
            f"/api/projects/{pid}/export", params={"exportType": "JSON", "download_all_tasks": True}
        )
        sync.raise_for_status()
        snapshot = snapshot_export(http, pid)
        admin_id = http.get("/api/current-user/whoami").json()["id"]
    exports_dir = tmp_path / "downloads"
    exports_dir.mkdir()
    (exports_dir / "sync.json").write_bytes(sync.content)
    (exports_dir / "snapshot.json").write_bytes(snapshot)
    sync_tasks = json.loads(sync.content)
    snap_tasks = json.loads(snapshot)
    assert {type(a["completed_by"]) for t in sync_tasks for a in t["annotations"]} == {int}
    emails = {a["completed_by"]["email"] for t in snap_tasks for a in t["annotations"]}
    assert emails == {label_studio.admin.email, bea.email}  # personal data in the export

    # ingest: each task's text verbatim under its task_article_id
    res = cli("ingest", str(exports_dir / "sync.json"), "--json", "-q", cwd=corpus)
    assert res.exit_code == 0, res.output
    table = pq.read_table(corpus / "build" / "articles.parquet").to_pylist()
    got = {r["article_id"]: r["text"] for r in table}
    by_task = {t["id"]: t for t in sync_tasks}
    assert got == {
        "a-emoji": EMOJI,
        "b-crlf": CRLF,
        f"task-{ids[2]}": NFD,
    }
    assert all(by_task[i]["data"]["text"] == d["text"] for i, d in zip(ids, datas, strict=True))

    # the pull, the snapshot import and the sync import, with one key
    key = str(key_file(tmp_path))
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    monkeypatch.delenv("CORPUS_PSEUDONYM_KEY", raising=False)
    pulled_root, imported_root, synced_root = (tmp_path / n for n in ("pulled", "imp", "sync"))
    args = ("--pseudonym-key-file", key, "--json")
    res = cli("ls", "pull", "--project-id", str(pid), "--out", str(pulled_root), *args, cwd=corpus)
    assert res.exit_code == 0, res.output
    pulled = json.loads(res.stdout)
    snap_file = str(exports_dir / "snapshot.json")
    res = cli(
        "ls",
        "import",
        snap_file,
        "--project-title",
        "Imported News",
        "--out",
        str(imported_root),
        *args,
        cwd=corpus,
    )
    assert res.exit_code == 0, res.output
    imported = json.loads(res.stdout)
    res = cli(
        "ls",
        "import",
        str(exports_dir / "sync.json"),
        "--project-title",
        "Imported News",
        "--out",
        str(synced_root),
        *args,
        cwd=corpus,
    )
    assert res.exit_code == 0, res.output
    synced = json.loads(res.stdout)

    want = sorted(ann_pseudonym(e) for e in emails)
    assert pulled["annotators"] == imported["annotators"] == want
    assert synced["annotators"] == sorted(
        ann_pseudonym(f"user-id:{u}") for u in (admin_id, bea.user_id)
    )
    for out in (imported, synced):
        assert (out["tasks"], out["annotations"]) == (pulled["tasks"], pulled["annotations"])

    pulled_files = all_bytes(pulled_root / "imported-news")
    imported_files = all_bytes(imported_root / "imported-news")
    assert set(imported_files) == set(pulled_files)
    for name in sorted(pulled_files):
        if name == "_project.json":
            continue
        # byte for byte the pull's task files: keys, pseudonyms, results, layout
        assert imported_files[name] == pulled_files[name], name
    meta = json.loads(imported_files["_project.json"])
    assert meta["source"] == "label-studio-export" and meta["project_id"] == pid

    # no e-mail, user name or name field anywhere on disk
    secrets = [label_studio.admin.email, bea.email, "bea@", "example.org"]
    for root in (imported_root, synced_root, corpus):
        for name, data in all_bytes(root).items():
            for s in secrets:
                assert s.encode() not in data, (root, name, s)
            for word in (b"first_name", b"last_name", b"username", b'"email"'):
                assert word not in data, (root, name, word)

    # the imported folder validates against the sample's scheme (its default names)
    res = cli("validate", str(imported_root / "imported-news"), "--json", cwd=corpus)
    report = json.loads(res.stdout)
    assert res.exit_code == 0, report["findings"]
    assert not [f for f in report["findings"] if f["severity"] == "error"]
    # the articles ingested from the export tie every task's text (no text_sha256 needed)
    assert not [f for f in report["findings"] if f["slug"] == "text-not-tied"]


def test_jsonl_and_several_files_give_the_same_folder(tmp_path: Path) -> None:
    corpus = corpus_dir(tmp_path / "c")
    cfg = load_config(corpus / "corpus.toml")
    key = PseudonymKey(SECRET.encode(), "test")
    export = json.loads(ADOPT_EXPORT.read_text(encoding="utf-8"))
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "a.jsonl").write_text(
        "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in export[:2]), encoding="utf-8"
    )
    (parts / "b.json").write_text(json.dumps(export[2:], indent=2), encoding="utf-8")
    whole = import_export(
        config=cfg, paths=[ADOPT_EXPORT], pseudonym_key=key, project_title="P", out=tmp_path / "1"
    )
    split = import_export(
        config=cfg, paths=[parts], pseudonym_key=key, project_title="P", out=tmp_path / "2"
    )
    assert split["exports"] == ["a.jsonl", "b.json"]
    one, two = all_bytes(Path(whole["dir"])), all_bytes(Path(split["dir"]))
    assert {k: v for k, v in one.items() if k != "_project.json"} == {
        k: v for k, v in two.items() if k != "_project.json"
    }
    assert whole["annotators"] == split["annotators"]


def test_files_are_named_by_the_adopted_article_id_field(tmp_path: Path) -> None:
    # `[scheme.names] article_id_field = "doc"`: the file name is data.doc (as validation and
    # ingest read the id), not data.article_id; without one, task-<id>; an article's second
    # task gets .task-<id>, and unsafe characters are replaced as for the default field
    corpus = corpus_dir(tmp_path / "c")
    with (corpus / "corpus.toml").open("a", encoding="utf-8") as f:
        f.write('\n[scheme.names]\ntext_field = "content"\narticle_id_field = "doc"\n')
    cfg = load_config(corpus / "corpus.toml")
    assert cfg.scheme.names.article_id_field == "doc"
    tasks = [
        {"id": 11, "data": {"doc": "d-1", "article_id": "not-this", "content": "A 😀."}},
        {"id": 12, "data": {"article_id": "nor-this", "content": "B."}},
        {"id": 13, "data": {"doc": "d-1", "content": "A 😀.", "target": "iran"}},
        {"id": 14, "data": {"doc": "news/2024 d", "content": "C."}},
    ]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks), encoding="utf-8")
    key = PseudonymKey(SECRET.encode(), "test")
    out = import_export(config=cfg, paths=[export], pseudonym_key=key)
    names = sorted(n for n in all_bytes(Path(out["dir"])) if n.startswith("tasks/"))
    assert names == [
        "tasks/d-1.json",
        "tasks/d-1.task-13.json",
        "tasks/news_2024_d.json",
        "tasks/task-12.json",
    ]
    assert json.loads((Path(out["dir"]) / "tasks" / "d-1.json").read_bytes())["id"] == 11
