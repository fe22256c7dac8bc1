"""`corpus validate`: every rule on a real-shaped export, located findings, formats, exit codes."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_validate_support import (
    TEXT_A,
    article,
    clone,
    entity,
    setup_corpus,
    task_a,
    task_b,
    write_articles,
    write_json,
    write_jsonl,
)

from corpus_tools.config import CorpusConfig
from corpus_tools.model import Finding, Report
from corpus_tools.store import sha256_text
from corpus_tools.validate import validate

Task = dict[str, Any]


@pytest.fixture
def corpus(sample_corpus: Path) -> Path:
    """The sample corpus with our two articles and an empty annotations/ folder."""
    shutil.rmtree(sample_corpus / "annotations", ignore_errors=True)
    (sample_corpus / "annotations").mkdir()
    setup_corpus(sample_corpus)
    return sample_corpus


@pytest.fixture
def cfg(corpus: Path) -> CorpusConfig:
    from corpus_tools.config import load_config

    return load_config(corpus / "corpus.toml")


def run(cfg: CorpusConfig, *paths: Path, **kw: Any) -> Report:
    return validate(config=cfg, paths=list(paths), **kw)


def slugs(report: Report) -> list[str]:
    return [f.slug for f in report.findings]


def result(task: Task, ann: int, rid: str, from_name: str | None = None) -> dict[str, Any]:
    for r in task["annotations"][ann]["result"]:
        if r.get("id") == rid and (from_name is None or r["from_name"] == from_name):
            return r
    raise KeyError(rid)


def test_valid_export_has_no_findings(cfg: CorpusConfig, tmp_path: Path) -> None:
    f = write_json(tmp_path / "export.json", [task_a(cfg), task_b(cfg)])
    report = run(cfg, f)
    assert report.findings == []
    assert report.valid
    assert report.stats["tasks"] == 2
    assert report.stats["annotations"] == 4
    # 5 entities + 1 claim per annotation of task a, 1 entity per annotation of task b
    assert report.stats["regions"] == 2 * 6 + 2 * 1


def _utf16(task: Task) -> None:
    r = result(task, 0, "a0-nato")
    before = TEXT_A[: r["value"]["start"]]
    extra = sum(1 for ch in before if ord(ch) > 0xFFFF)
    assert extra == 1  # the emoji
    r["value"]["start"] += extra
    r["value"]["end"] += extra


def _overlap(task: Task) -> None:
    o = entity(TEXT_A, "a0-chief", "NATO chief", "ORG")
    task["annotations"][0]["result"].append(o)


def _email_in_text(task: Task) -> None:
    result(task, 0, "a0-claim", "claimant_text")["value"]["text"] = ["jane.doe@example.org"]


def _remove_stance(task: Task) -> None:
    res = task["annotations"][0]["result"]
    res[:] = [r for r in res if r.get("from_name") != "stance_iran"]


def _double_stance(task: Task) -> None:
    res = task["annotations"][0]["result"]
    res.append(next(clone(r) for r in res if r.get("from_name") == "stance_iran"))


def _set(path: str, value: Any) -> Callable[[Task], None]:
    """Set a field by a slash path from the task, e.g. annotations/0/result/0/value/end."""

    def apply(task: Task) -> None:
        node: Any = task
        parts = [int(p) if p.isdigit() else p for p in path.split("/")]
        for p in parts[:-1]:
            node = node[p]
        if value is _DELETE:
            del node[parts[-1]]
        else:
            node[parts[-1]] = value

    return apply


_DELETE = object()
R0 = "annotations/0/result"


def _one_past(task: Task) -> None:
    """A region over the text's last word that ends one past it; value.text is what those
    offsets select (`text[s:n + 1] == text[s:n]`), so only the bound can catch it."""
    value = result(task, 0, "a0-russia")["value"]
    n = len(TEXT_A)
    value["start"], value["end"], value["text"] = n - 7, n + 1, TEXT_A[n - 7 :]


def _empty(task: Task) -> None:
    value = result(task, 0, "a0-nato")["value"]
    value["end"], value["text"] = value["start"], ""


def _float_offset(key: str) -> Callable[[Task], None]:
    """The region's offset as a float with the same value (written `12.0` in the file)."""

    def apply(task: Task) -> None:
        value = task["annotations"][0]["result"][0]["value"]
        value[key] = float(value[key])

    return apply


# (name, mutation, slug, annotation id, region id): each breaks the rule its slug names.
CASES: list[tuple[str, Callable[[Task], None], str, int | None, str | None]] = [
    (
        "end past text",
        _set(f"{R0}/0/value/end", len(TEXT_A) + 3),
        "span-out-of-bounds",
        10,
        "a0-nato",
    ),
    ("negative start", _set(f"{R0}/0/value/start", -1), "span-out-of-bounds", 10, "a0-nato"),
    ("end one past the text", _one_past, "span-out-of-bounds", 10, "a0-russia"),
    ("empty span, empty value.text", _empty, "span-inverted", 10, "a0-nato"),
    (
        "start == end",
        _set(f"{R0}/0/value/end", TEXT_A.index("NATO")),
        "span-inverted",
        10,
        "a0-nato",
    ),
    (
        "value.text differs",
        _set(f"{R0}/1/value/text", "Jens Stoltenburg"),
        "text-mismatch",
        10,
        "a0-jens",
    ),
    ("utf-16 offsets", _utf16, "utf16-offsets", 10, "a0-nato"),
    (
        "unknown entity label",
        _set(f"{R0}/0/value/labels", ["COMPANY"]),
        "unknown-label",
        10,
        "a0-nato",
    ),
    (
        "unknown checkworthy",
        _set(f"{R0}/6/value/choices", ["maybe"]),
        "unknown-choice",
        10,
        "a0-claim",
    ),
    ("unknown stance label", _set(f"{R0}/9/value/choices", ["pro"]), "unknown-choice", 10, None),
    ("unknown control", _set(f"{R0}/0/from_name", "ner"), "unknown-control", 10, "a0-nato"),
    ("unknown result type", _set(f"{R0}/0/type", "rating"), "unknown-result-type", 10, "a0-nato"),
    ("missing offset", _set(f"{R0}/0/value/start", _DELETE), "missing-field", 10, "a0-nato"),
    ("missing value.text", _set(f"{R0}/0/value/text", _DELETE), "missing-field", 10, "a0-nato"),
    (
        "claim without value.text",
        _set(f"{R0}/5/value/text", _DELETE),
        "missing-field",
        10,
        "a0-claim",
    ),
    ("offset 12.0", _float_offset("start"), "offset-not-integer", 10, "a0-nato"),
    ("end offset 16.0", _float_offset("end"), "offset-not-integer", 10, "a0-nato"),
    ("offset as string", _set(f"{R0}/0/value/start", "12"), "wrong-type", 10, "a0-nato"),
    ("stance missing", _remove_stance, "stance-missing", 10, None),
    ("stance twice", _double_stance, "stance-multiple", 10, None),
    ("orphan checkworthy", _set(f"{R0}/6/id", "nowhere"), "orphan-attribute", 10, "nowhere"),
    ("relation to nothing", _set(f"{R0}/8/to_id", "gone"), "relation-missing-region", 10, "gone"),
    (
        "relation entity->entity",
        _set(f"{R0}/8/to_id", "a0-nato"),
        "relation-wrong-kind",
        10,
        "a0-jens",
    ),
    ("duplicate region id", _set(f"{R0}/1/id", "a0-nato"), "duplicate-region-id", 10, "a0-nato"),
    ("overlapping ORG", _overlap, "overlapping-spans", 10, "a0-chief"),
    ("unknown article", _set("data/article_id", "zz-unknown"), "unknown-article", None, None),
    ("edited text", _set("data/text", TEXT_A + " Edited."), "text-hash-mismatch", None, None),
    (
        "completed_by object",
        _set(
            "annotations/1/completed_by", {"id": 3, "email": "bo@example.org", "first_name": "Bo"}
        ),
        "personal-data",
        11,
        None,
    ),
    ("email in a result", _email_in_text, "personal-data", 10, None),
    ("one cancelled of two", _set("annotations/1/was_cancelled", True), "low-coverage", None, None),
    (
        "one annotator twice",
        _set("annotations/1/completed_by", "ann-1"),
        "low-coverage",
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("mutate", "slug", "ann_id", "region_id"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_each_rule_is_reported_and_located(
    cfg: CorpusConfig,
    tmp_path: Path,
    mutate: Callable[[Task], None],
    slug: str,
    ann_id: int | None,
    region_id: str | None,
) -> None:
    task = task_a(cfg, task_id=7)
    for a, ann in zip(task["annotations"], (10, 11), strict=True):
        a["id"] = ann  # ids the table refers to
    mutate(task)
    good = task_b(cfg, task_id=8)
    f = write_json(tmp_path / "export.json", [good, task])
    report = run(cfg, f)
    hits = [x for x in report.findings if x.slug == slug]
    assert hits, slugs(report)
    hit = hits[0]
    assert hit.file == str(f)
    assert hit.task_id == 7
    assert hit.pointer is not None and hit.pointer.startswith("/1")  # second task of the array
    assert hit.line is not None and hit.line > 1
    assert hit.message and hit.hint
    if ann_id is not None:
        assert hit.annotation_id == ann_id
    if region_id is not None:
        assert hit.region_id == region_id
    # The good task beside it stays clean, and the stats still count everything.
    assert not [x for x in report.findings if x.task_id == 8]
    assert report.stats["tasks"] == 2


def test_stale_annotation_never_realigned(corpus: Path, cfg: CorpusConfig, tmp_path: Path) -> None:
    """The article's text changed after the task was made: stale, and the task is untouched."""
    f = write_json(tmp_path / "export.json", [task_a(cfg)])
    before = f.read_bytes()
    write_articles(corpus, [article("a", TEXT_A.replace("drones", "missiles")), article("b", "x")])
    report = run(cfg, f, repair_utf16=True)
    assert slugs(report) == ["stale-annotation"]
    assert report.findings[0].pointer == "/0/data/text_sha256"
    assert f.read_bytes() == before


def test_articles_argument_and_missing_table(sample_corpus: Path, tmp_path: Path) -> None:
    from corpus_tools.config import load_config

    cfg = load_config(sample_corpus / "corpus.toml")  # no build/articles.parquet here
    f = write_json(tmp_path / "export.json", [task_a(cfg)])
    report = run(cfg, f)
    assert slugs(report) == ["article-checks-skipped"]
    assert report.valid  # a warning: the self-consistency checks still ran
    bad = task_a(cfg)
    bad["data"]["text"] += "!"
    report = run(cfg, write_json(tmp_path / "bad.json", bad))
    assert "text-hash-mismatch" in slugs(report)
    # Articles passed in directly (ids -> sha256 or Article records) replace the table.
    assert slugs(run(cfg, f, articles={"a": sha256_text(TEXT_A)})) == []
    assert slugs(run(cfg, f, articles={"a": article("a", TEXT_A)})) == []
    assert slugs(run(cfg, f, articles={"a": "0" * 64})) == ["stale-annotation"]


def test_cancelled_and_drafts_counted_and_ignored(cfg: CorpusConfig, tmp_path: Path) -> None:
    task = task_a(cfg)
    cancelled = clone(task["annotations"][0])
    bad_region = entity(TEXT_A, "x", "NATO", "ORG")
    bad_region["value"] = {"start": 0, "end": 999, "text": "NATO", "labels": ["ORG"]}
    cancelled.update(id=99, was_cancelled=True, result=[bad_region])
    task["annotations"].append(cancelled)
    task["drafts"] = [{"id": 1, "result": []}, {"id": 2, "result": []}]
    report = run(cfg, write_json(tmp_path / "e.json", task))
    assert slugs(report) == []  # the cancelled annotation's bad offsets are not checked
    assert report.stats["cancelled"] == 1
    assert report.stats["drafts"] == 2
    assert report.stats["annotations"] == 2


def test_newline_quirk_accepted_and_real_mismatch_reported(
    cfg: CorpusConfig, tmp_path: Path
) -> None:
    task = task_a(cfg)
    claim = result(task, 0, "a0-claim", "claim")
    assert "\\n\\n" in claim["value"]["text"]  # CRLF written as two literal backslash-n pairs
    assert slugs(run(cfg, write_json(tmp_path / "ok.json", task))) == []
    claim["value"]["text"] = claim["value"]["text"].replace("\\n\\n", "  ")
    assert slugs(run(cfg, write_json(tmp_path / "bad.json", task))) == ["text-mismatch"]


def test_layouts_array_jsonl_and_pulled_folder(cfg: CorpusConfig, tmp_path: Path) -> None:
    a, b = task_a(cfg), task_b(cfg)
    arr = write_json(tmp_path / "ui" / "export.json", [a, b])
    jsonl = write_jsonl(tmp_path / "lines.jsonl", [a, b])
    pulled = tmp_path / "annotations" / "geonews" / "tasks"
    write_json(pulled / "a.json", a)
    write_json(pulled / "b.json", b)
    write_json(pulled.parent / "_project.json", {"id": 1, "title": "not a task"})
    for layout in (arr, jsonl, tmp_path / "annotations"):
        assert run(cfg, layout).findings == []
    # All three at once: the same two tasks read three times.
    report = run(cfg, arr, jsonl, tmp_path / "annotations")
    assert sorted((f.slug, f.file) for f in report.findings) == sorted(
        ("duplicate-task", str(p)) for p in (jsonl, jsonl, pulled / "a.json", pulled / "b.json")
    )
    assert report.stats["files"] == 4
    assert report.stats["tasks"] == 6
    # A finding in a JSONL file carries its line.
    b2 = clone(b)
    b2["annotations"][0]["result"][0]["value"]["labels"] = ["NOPE"]
    jsonl2 = write_jsonl(tmp_path / "lines2.jsonl", [a, b2])
    (hit,) = run(cfg, jsonl2).findings
    assert (hit.slug, hit.line, hit.task_id) == ("unknown-label", 2, 2)


BAD_FILES: list[tuple[str, bytes, str]] = [
    ("not-json.json", b"this is not json", "not-json"),
    ("binary.json", bytes(range(256)) * 4, "not-json"),
    ("truncated.json", b'[{"id": 1, "data": {"article_id": "a", "te', "truncated-file"),
    ("number.json", b"42", "not-a-task"),
    ("string.json", b'"a string"', "not-a-task"),
    ("element.json", b"[1, 2]", "not-a-task"),
    ("no-data.json", b'{"id": 99}', "missing-field"),
    ("utf16.json", "[]".encode("utf-16"), "bad-encoding"),
    ("latin1.json", '{"id": 1, "data": {"text": "caf\xe9"}}'.encode("latin-1"), "bad-encoding"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "not-json"),
    ("deep-array.json", b"[" + b"[" * 5000 + b"]" * 5000 + b"]", "not-json"),
    ("empty.json", b"", "not-json"),
    ("two-values.json", b'{"data": {}}\n{"data": {}}', "not-json"),
    ("bad-line.jsonl", b'{"id": 1\n', "not-json"),
]


@pytest.mark.parametrize(("name", "content", "slug"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_input_is_a_finding_and_other_files_still_validated(
    cfg: CorpusConfig, tmp_path: Path, name: str, content: bytes, slug: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    bad_task = task_a(cfg)
    bad_task["annotations"][0]["result"][0]["value"]["labels"] = ["NOPE"]
    after = write_json(tmp_path / "zz-after.json", [bad_task])
    report = run(cfg, bad, after)
    assert slug in [f.slug for f in report.findings if f.file == str(bad)], report.findings
    assert [f.slug for f in report.findings if f.file == str(after)] == ["unknown-label"]
    assert not report.valid


def test_files_without_tasks_are_a_warning(cfg: CorpusConfig, tmp_path: Path) -> None:
    empty_array = tmp_path / "a.json"
    empty_array.write_text("[]\n")
    blank_lines = tmp_path / "b.jsonl"
    blank_lines.write_text("\n  \n")
    report = run(cfg, empty_array, blank_lines, articles={})
    assert [(f.file, f.slug, f.severity) for f in report.findings] == [
        (str(empty_array), "no-tasks", "warning"),
        (str(blank_lines), "no-tasks", "warning"),
    ]


def test_bom_is_a_warning_and_the_file_is_read(cfg: CorpusConfig, tmp_path: Path) -> None:
    f = tmp_path / "bom.json"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps([task_a(cfg)]).encode())
    report = run(cfg, f)
    assert slugs(report) == ["utf8-bom"]
    assert report.stats["tasks"] == 1 and report.valid


def test_truncated_array_keeps_the_tasks_before_the_break(
    cfg: CorpusConfig, tmp_path: Path
) -> None:
    good = json.dumps([task_a(cfg), task_b(cfg)])
    f = tmp_path / "cut.json"
    f.write_text(good[: good.index('"id": 2') + 20])
    report = run(cfg, f)
    assert slugs(report) == ["truncated-file"]
    assert report.stats["tasks"] == 1


def test_large_array_streams_across_chunks(
    cfg: CorpusConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny read chunks: every task straddles chunk boundaries, findings keep their lines."""
    from corpus_tools.validate import reader

    monkeypatch.setattr(reader, "CHUNK", 97)
    tasks = [task_b(cfg, task_id=i) for i in range(1, 40)]
    for i, t in enumerate(tasks):  # one task per article, each annotation its own id
        t["data"]["article_id"] = f"b{i}"
        for k, ann in enumerate(t["annotations"]):
            ann["id"] = 100 * i + k
    tasks[30]["annotations"][1]["result"][0]["value"]["labels"] = ["NOPE"]
    f = write_json(tmp_path / "many.json", tasks)
    sha = sha256_text(tasks[0]["data"]["text"])
    report = run(cfg, f, articles={f"b{i}": sha for i in range(len(tasks))})
    (hit,) = report.findings
    assert (hit.slug, hit.task_id, hit.pointer) == (
        "unknown-label",
        31,
        "/30/annotations/1/result/0/value/labels/0",
    )
    lines = f.read_text().splitlines()
    start = lines.index('    "id": 31,')
    expected = next(i for i in range(start, len(lines)) if '"b1-teh"' in lines[i])
    assert hit.line == expected + 1  # the line of the region inside task 31
    assert report.stats["tasks"] == 39


def test_repair_utf16_rewrites_offsets_atomically_with_backup(
    cfg: CorpusConfig, tmp_path: Path
) -> None:
    task = task_a(cfg)
    _utf16(task)
    f = write_json(tmp_path / "export.json", [task])
    original = f.read_bytes()
    report = run(cfg, f)  # detection alone changes nothing
    assert slugs(report) == ["utf16-offsets"]
    assert f.read_bytes() == original
    assert not Path(str(f) + ".bak").exists()
    report = run(cfg, f, repair_utf16=True)
    assert [(x.slug, x.severity) for x in report.findings] == [("utf16-offsets", "info")]
    assert report.valid and report.stats["repaired"] == 1
    assert Path(str(f) + ".bak").read_bytes() == original
    fixed = json.loads(f.read_text())[0]
    value = fixed["annotations"][0]["result"][0]["value"]
    assert TEXT_A[value["start"] : value["end"]] == "NATO"
    assert run(cfg, f).findings == []


def test_repair_utf16_in_jsonl_keeps_other_lines(cfg: CorpusConfig, tmp_path: Path) -> None:
    task = task_a(cfg)
    _utf16(task)
    f = write_jsonl(tmp_path / "e.jsonl", [task_b(cfg), task])
    first_line = f.read_bytes().split(b"\n")[0]
    run(cfg, f, repair_utf16=True)
    assert f.read_bytes().split(b"\n")[0] == first_line
    assert run(cfg, f).findings == []


def test_missing_path_is_a_usage_error(cfg: CorpusConfig, tmp_path: Path) -> None:
    from corpus_tools.errors import UsageError

    with pytest.raises(UsageError):
        run(cfg, tmp_path / "nope.json")


def test_findings_sorted_and_serialisable(cfg: CorpusConfig, tmp_path: Path) -> None:
    task = task_a(cfg)
    task["annotations"][1]["result"][0]["value"]["labels"] = ["NOPE"]
    task["annotations"][0]["result"][0]["value"]["end"] = 10_000
    report = run(cfg, write_json(tmp_path / "e.json", task))
    pointers = [f.pointer for f in report.findings]
    assert pointers == sorted(pointers)
    d = report.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert all(isinstance(Finding(**f), Finding) for f in d["findings"])  # type: ignore[arg-type]


# --- CLI ---------------------------------------------------------------------------------


def _export(cfg: CorpusConfig, corpus: Path, broken: bool) -> Path:
    task = task_a(cfg)
    if broken:
        task["annotations"][0]["result"][0]["value"]["labels"] = ["NOPE"]
    return write_json(corpus / "annotations" / "geonews" / "tasks" / "a.json", task)


def test_cli_exit_codes_and_text(cli: Any, corpus: Path, cfg: CorpusConfig) -> None:
    _export(cfg, corpus, broken=False)
    res = cli("validate", "annotations", cwd=corpus)
    assert res.exit_code == 0, res.output
    assert "valid: 0 errors" in res.stdout
    _export(cfg, corpus, broken=True)
    res = cli("validate", "annotations", cwd=corpus)
    assert res.exit_code == 1
    assert "annotations/geonews/tasks/a.json" in res.stdout
    assert "unknown-label" in res.stdout and "hint:" in res.stdout
    assert "task 1 · annotation 10 · region a0-nato" in res.stdout
    res = cli("validate", "no-such-dir", cwd=corpus)
    assert res.exit_code == 2
    res = cli("validate", "annotations", "--format", "yaml", cwd=corpus)
    assert res.exit_code == 2


def test_cli_json_equals_library_report(cli: Any, corpus: Path, cfg: CorpusConfig) -> None:
    _export(cfg, corpus, broken=True)
    res = cli("validate", "annotations", "--format", "json", cwd=corpus)
    assert res.exit_code == 1
    lib = {**validate(config=cfg, paths=[Path("annotations")]).to_dict(), "skipped": []}
    assert json.loads(res.stdout) == lib
    assert json.loads(cli("validate", "annotations", "--json", cwd=corpus).stdout) == lib


def test_cli_github_annotations(cli: Any, corpus: Path, cfg: CorpusConfig) -> None:
    _export(cfg, corpus, broken=True)
    res = cli("validate", "annotations", "--format", "github", cwd=corpus)
    assert res.exit_code == 1
    (line,) = [x for x in res.stdout.splitlines() if x.startswith("::")]
    lines = (corpus / "annotations/geonews/tasks/a.json").read_text().splitlines()
    at = next(i for i, x in enumerate(lines) if '"id": "a0-nato"' in x) + 1
    assert line.startswith(
        f"::error file=annotations/geonews/tasks/a.json,line={at},title=unknown-label::"
    )
    assert "%0Ahint: " in line  # multi-line message escaped for the workflow command


def test_cli_junit_and_output_file(cli: Any, corpus: Path, cfg: CorpusConfig) -> None:
    _export(cfg, corpus, broken=True)
    out = corpus / "reports" / "validate.xml"
    res = cli("validate", "annotations", "--format", "junit", "--output", str(out), cwd=corpus)
    assert res.exit_code == 1
    assert "report: " in res.stdout
    root = ET.parse(out).getroot()
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    (failure,) = root.iter("failure")
    assert failure.get("type") == "unknown-label"
    _export(cfg, corpus, broken=False)
    res = cli("validate", "annotations", "-f", "junit", cwd=corpus)
    assert res.exit_code == 0
    assert ET.fromstring(res.stdout.split("\n", 1)[1]).find("testsuite").get("failures") == "0"  # type: ignore[union-attr]


def test_cli_repair_utf16(cli: Any, corpus: Path, cfg: CorpusConfig) -> None:
    task = task_a(cfg)
    _utf16(task)
    f = write_json(corpus / "annotations" / "x.json", task)
    assert cli("validate", "annotations", cwd=corpus).exit_code == 1
    res = cli("validate", "annotations", "--repair-utf16", cwd=corpus)
    assert res.exit_code == 0, res.stdout
    assert (corpus / "annotations" / "x.json.bak").exists()
    assert cli("validate", str(f), cwd=corpus).exit_code == 0


def test_huge_files_fail_fast_without_reading_everything(cfg: CorpusConfig, tmp_path: Path) -> None:
    """1 GiB files (sparse: no disk used): garbage is reported at its first byte."""
    import resource

    zeros = tmp_path / "zeros.json"
    with open(zeros, "wb") as fh:
        fh.truncate(1 << 30)
    array = tmp_path / "array.json"
    with open(array, "wb") as fh:
        fh.write(b"[")
        fh.truncate(1 << 30)
    lines = tmp_path / "zeros.jsonl"
    with open(lines, "wb") as fh:
        fh.write(b'{"data": {}}\n')
        fh.truncate(1 << 30)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = run(cfg, zeros, array, lines, articles={})
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    by_file = {f.file: f.slug for f in report.findings if f.severity == "error"}
    assert by_file[str(zeros)] == "not-json"
    assert by_file[str(array)] == "not-json"
    assert by_file[str(lines)] == "not-json"  # a 1 GiB "line" of NUL bytes
    assert grown_mb < 600


def test_progress_bar_does_not_change_the_report(cfg: CorpusConfig, tmp_path: Path) -> None:
    f = write_json(tmp_path / "e.json", [task_a(cfg), task_b(cfg)])
    assert run(cfg, f, progress=True).to_dict() == run(cfg, f).to_dict()


def test_oversized_tasks_are_findings(
    cfg: CorpusConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Limits scaled down: a task larger than MAX_TASK_BYTES is a finding, in either layout."""
    from corpus_tools.validate import reader

    small = task_b(cfg)
    limit = 2 * len(json.dumps(small, indent=2))
    monkeypatch.setattr(reader, "CHUNK", 64)
    monkeypatch.setattr(reader, "MAX_TASK_BYTES", limit)
    big = task_b(cfg)
    big["data"]["title"] = "x" * limit
    lines = write_jsonl(tmp_path / "e.jsonl", [small, big, small])
    array = write_json(tmp_path / "e.json", [small, big, small])
    report = run(cfg, lines, array, articles={})
    assert ("too-large", 2) in [(f.slug, f.line) for f in report.findings if f.file == str(lines)]
    assert "too-large" in [f.slug for f in report.findings if f.file == str(array)]
    # JSONL stops at the oversized line (the next line can't be trusted); in the array the
    # oversized element's end is known, so the tasks on both sides are checked.
    assert report.stats["tasks"] == 1 + 2
