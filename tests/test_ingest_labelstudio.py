"""`corpus ingest` reads Label Studio exports (format `labelstudio`, issue 12).

The task's text becomes the article's text verbatim (no cleaning, no headline or date-line
rule, no min_chars drop): annotators' offsets index that exact string, so the tests put emoji,
𝔸, CRLF, combining marks, a leading headline-like line and boilerplate-like lines in it and
check `article.text == data[text_field]` character for character. Ids are the task's own
(`data.article_id`, else `task-<id>`), computed here independently of the library.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from conftest import REPO, CliRun

from corpus_tools.config import load_config
from corpus_tools.ingest import ingest
from corpus_tools.store import sha256_text

ADOPT_EXPORT = REPO / "tests" / "data" / "adopt" / "export.json"

TEXTS = {
    "emoji": "😀 Breaking 𝔸: NATO said\r\nRussia moved drones. Cafe\u0301 owners 🤷🏽\u200d♀️.",
    # what ingest's cleaning would change: a repeated headline, a date line, boilerplate,
    # trailing spaces and a text below [ingest] min_chars
    "headline": "Title of it\nTitle of it\n12 March 2024\nSubscribe to our newsletter\nBody.  ",
    "short": "Hi",
}


def task(tid: int, text: str, article_id: str | None = None, **data: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"text": text, **data}
    if article_id is not None:
        d["article_id"] = article_id
    return {
        "id": tid,
        "data": d,
        "annotations": [
            {
                "id": tid * 10,
                "completed_by": {"id": 7, "email": "secret.person@example.org", "first_name": "S"},
                "result": [],
            }
        ],
        "predictions": [],
    }


def corpus_dir(tmp_path: Path, toml_extra: str = "") -> Path:
    root = tmp_path / "c"
    root.mkdir(parents=True)
    text = (REPO / "corpus.toml").read_text(encoding="utf-8")
    (root / "corpus.toml").write_text(text + toml_extra, encoding="utf-8")
    (root / "articles").mkdir()
    return root


def rows(root: Path) -> dict[str, dict[str, Any]]:
    table = pq.read_table(root / "build" / "articles.parquet").to_pylist()
    return {r["article_id"]: r for r in table}


def expected_id(t: dict[str, Any]) -> str:
    return t["data"].get("article_id") or f"task-{t['id']}"


def run(root: Path, *paths: Path, fmt: str | None = None, allow_deletions: bool = False) -> Any:
    cfg = load_config(root / "corpus.toml")
    return ingest(config=cfg, paths=list(paths), fmt=fmt, allow_deletions=allow_deletions)


def test_array_export_text_verbatim_ids_and_metadata(tmp_path: Path) -> None:
    root = corpus_dir(tmp_path)
    tasks = [
        task(1, TEXTS["emoji"], "a-emoji", source="Wire", date="2024-03-12", link="http://x/1"),
        task(2, TEXTS["headline"], title="Title of it", outlet="Post", published="2024-03-12"),
        task(3, TEXTS["short"], language="de"),
    ]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    report = run(root, export)
    assert report.ok, report.findings
    got = rows(root)
    assert set(got) == {expected_id(t) for t in tasks} == {"a-emoji", "task-2", "task-3"}
    for t in tasks:
        row = got[expected_id(t)]
        assert row["text"] == t["data"]["text"]  # verbatim: CRLF, NFD, trailing spaces kept
        assert row["text_sha256"] == sha256_text(t["data"]["text"])
        # sentences index the same string
        for s in row["sentences"]:
            assert 0 <= s["start"] < s["end"] <= len(row["text"])
    emoji = got["a-emoji"]
    assert (emoji["outlet"], emoji["published"], emoji["url"]) == (
        "Wire",
        "2024-03-12",
        "http://x/1",
    )
    assert (got["task-2"]["title"], got["task-2"]["outlet"]) == ("Title of it", "Post")
    assert got["task-3"]["language"] == "de"
    # annotations and personal data are never read into the table
    raw = (root / "build" / "articles.parquet").read_bytes()
    assert b"example.org" not in raw and b"secret.person" not in raw


def test_task_file_jsonl_tasks_and_forced_format(tmp_path: Path) -> None:
    root = corpus_dir(tmp_path)
    single = tmp_path / "pulled" / "tasks" / "a-one.json"
    single.parent.mkdir(parents=True)
    single.write_text(json.dumps(task(11, TEXTS["emoji"], "a-one"), indent=2), encoding="utf-8")
    (single.parent.parent / "_project.json").write_text('{"source": "x"}', encoding="utf-8")
    lines = tmp_path / "tasks.jsonl"
    lines.write_text(
        "\n".join(json.dumps(t) for t in [task(12, "Line one.\r\n"), task(13, "Two 𝔸.")]) + "\n",
        encoding="utf-8",
    )
    forced = tmp_path / "export.txt"
    forced.write_text(json.dumps([task(14, "Forced text.")]), encoding="utf-8")
    # a folder as `corpus ls pull` writes it (the `_project.json` is skipped)
    report = run(root, single.parent.parent, lines)
    assert report.ok, report.findings
    assert {k: v["text"] for k, v in rows(root).items()} == {
        "a-one": TEXTS["emoji"],
        "task-12": "Line one.\r\n",
        "task-13": "Two 𝔸.",
    }
    # other files replace the table only on purpose (it would lose the three articles)
    report = run(root, forced, fmt="labelstudio", allow_deletions=True)
    assert report.ok, report.findings
    assert {k: v["text"] for k, v in rows(root).items()} == {"task-14": "Forced text."}
    # the same file read by its extension is not an article format
    report = run(root, forced, allow_deletions=True)
    assert rows(root) == {}


def test_findings_not_tracebacks(tmp_path: Path) -> None:
    root = corpus_dir(tmp_path)
    tasks = [
        task(1, TEXTS["emoji"], "a-x", target="NATO"),
        task(2, TEXTS["emoji"], "a-x", target="the EU"),  # same article, other target: fine
        task(3, "Another text entirely.", "a-x"),  # same id, other text
        {"id": 4, "data": {"headline": "no text"}},
        {"id": 5, "data": {"text": 12}},
        task(6, "Same words.", None),
        task(7, "Same words.", None),  # other task, same text: its own article
    ]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks, indent=1), encoding="utf-8")
    report = run(root, export)
    assert not report.ok
    slugs = sorted((f.slug, f.severity) for f in report.findings)
    assert slugs == [
        ("duplicate-id", "error"),
        ("missing-field", "error"),
        ("missing-field", "error"),
        ("same-article-task", "info"),
    ]
    clash = next(f for f in report.findings if f.slug == "duplicate-id")
    # names both: the id, the rejected task's place and the kept task's place
    first_line = export.read_text(encoding="utf-8").splitlines().index(" {") + 1
    assert "a-x" in clash.message and f"{export}:{first_line}" in clash.message
    assert clash.line is not None and clash.line > first_line
    got = rows(root)
    assert set(got) == {"a-x", "task-6", "task-7"}
    assert got["a-x"]["text"] == TEXTS["emoji"]
    assert got["task-6"]["story_id"] == got["task-7"]["story_id"]


def test_lossy_json_min_export(tmp_path: Path) -> None:
    root = corpus_dir(tmp_path)
    export = tmp_path / "min.json"
    rows_min = [
        {"id": 1, "text": "A text.", "article_id": "a", "annotator": 1, "annotation_id": 1},
        {"id": 2, "text": "B text.", "article_id": "b", "annotator": 1, "annotation_id": 2},
    ]
    export.write_text(json.dumps(rows_min), encoding="utf-8")
    report = run(root, export)
    assert [f.slug for f in report.findings] == ["lossy-export"]
    assert "JSON-MIN" in report.findings[0].message and not report.ok
    csv = tmp_path / "export.csv"
    csv.write_text("id,text,annotator,annotation_id\n1,A,1,1\n", encoding="utf-8")
    report = run(root, csv, fmt="labelstudio")
    assert [f.slug for f in report.findings] == ["lossy-export"]


def test_scheme_names_choose_the_data_keys(tmp_path: Path) -> None:
    root = corpus_dir(
        tmp_path, '\n[scheme.names]\ntext_field = "content"\narticle_id_field = "doc"\n'
    )
    cfg = load_config(root / "corpus.toml")
    assert cfg.scheme.names.text_field == "content"
    tasks = [
        {"id": 1, "data": {"content": "Body 😀.", "doc": "d-1", "text": "not this"}},
        {"id": 2, "data": {"content": "Other\r\nbody."}},
    ]
    export = tmp_path / "e.json"
    export.write_text(json.dumps(tasks), encoding="utf-8")
    report = ingest(config=cfg, paths=[export])
    assert report.ok, report.findings
    assert {k: v["text"] for k, v in rows(root).items()} == {
        "d-1": "Body 😀.",
        "task-2": "Other\r\nbody.",
    }


def test_adopt_sample_export_through_the_cli(tmp_path: Path, cli: CliRun) -> None:
    root = tmp_path / "adopted"
    res = cli(
        "init",
        "adopted",
        "--from-label-config",
        str(REPO / "tests/data/adopt/label-config.xml"),
        "--tasks",
        str(ADOPT_EXPORT),
        cwd=tmp_path,
    )
    assert res.exit_code == 0, res.output
    export = json.loads(ADOPT_EXPORT.read_text(encoding="utf-8"))
    res = cli("ingest", str(ADOPT_EXPORT), "--json", "-q", cwd=root)
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    cfg = load_config(root / "corpus.toml")
    field = cfg.scheme.names.text_field
    want = {expected_id(t): t["data"][field] for t in export}
    assert report["articles"] == len(want)
    assert {k: v["text"] for k, v in rows(root).items()} == want


def test_same_output_whatever_the_workers(tmp_path: Path) -> None:
    export = json.loads(ADOPT_EXPORT.read_text(encoding="utf-8"))
    # the sample's text is under `content`: with the default names every task lacks `text`
    plain = corpus_dir(tmp_path / "plain")
    report = run(plain, ADOPT_EXPORT)
    assert [f.slug for f in report.findings] == ["missing-field"] * len(export)
    assert "data.text" in report.findings[0].message
    tables = []
    for workers in (1, 2):
        root = corpus_dir(tmp_path / f"w{workers}", '\n[scheme.names]\ntext_field = "content"\n')
        cfg = load_config(root / "corpus.toml")
        report = ingest(config=cfg, paths=[ADOPT_EXPORT], workers=workers)
        assert report.ok, report.findings
        tables.append((root / "build" / "articles.parquet").read_bytes())
        texts = {k: v["text"] for k, v in rows(root).items()}
        assert texts == {expected_id(t): t["data"]["content"] for t in export}
    assert tables[0] == tables[1]


BODY = "NATO ministers met in Brussels on Tuesday.\n\n" * 8


def test_our_own_task_beside_its_article_keeps_the_article(tmp_path: Path) -> None:
    """A task `corpus tasks` made (data.article_id = our art- id, the cleaned text) read with
    the articles folder: one article, the one from the articles folder (its metadata)."""
    root = corpus_dir(tmp_path)
    (root / "articles" / "feed.jsonl").write_text(
        json.dumps({"id": "n-1", "outlet": "Herald", "title": "T", "text": BODY}) + "\n",
        encoding="utf-8",
    )
    assert run(root, root / "articles").ok
    [(aid, row)] = rows(root).items()
    export = tmp_path / "tasks.json"
    export.write_text(json.dumps([task(1, row["text"], aid)]), encoding="utf-8")
    report = run(root, root / "articles", export)
    assert report.ok, report.findings
    assert [f.slug for f in report.findings] == ["exact-duplicate"]
    assert report.findings[0].file == str(export)
    again = rows(root)
    assert list(again) == [aid]
    assert (again[aid]["outlet"], again[aid]["source"]) == ("Herald", row["source"])


def test_a_task_over_the_record_limit_is_a_finding(tmp_path: Path) -> None:
    root = corpus_dir(tmp_path, "")
    cfg_text = (root / "corpus.toml").read_text(encoding="utf-8")
    assert "max_record_bytes" not in cfg_text
    (root / "corpus.toml").write_text(
        cfg_text.replace("[ingest]\n", "[ingest]\nmax_record_bytes = 2000\n", 1), encoding="utf-8"
    )
    export = tmp_path / "e.json"
    export.write_text(
        json.dumps([task(1, "Small 😀."), task(2, "x" * 3000), task(3, "Small 𝔸.")]),
        encoding="utf-8",
    )
    report = run(root, export)
    assert [(f.slug, f.line) for f in report.findings] == [("record-too-large", 1)]
    assert set(rows(root)) == {"task-1", "task-3"}
