"""What validation must not let through: numbers that are not integer offsets, spans without
`value.text`, duplicate JSON keys, ground truth that contradicts itself, and one task or
annotation read twice. Each is a located finding; none changes the gold silently."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_validate_support import (
    TEXT_A,
    annotation,
    clone,
    entity,
    setup_corpus,
    task_a,
    task_b,
    write_json,
    write_jsonl,
)

from corpus_tools.config import CorpusConfig
from corpus_tools.errors import DataError
from corpus_tools.exports import iter_annotations
from corpus_tools.model import Report
from corpus_tools.validate import validate

Task = dict[str, Any]


@pytest.fixture
def cfg(sample_corpus: Path) -> CorpusConfig:
    shutil.rmtree(sample_corpus / "annotations", ignore_errors=True)
    (sample_corpus / "annotations").mkdir()
    return setup_corpus(sample_corpus)


def run(cfg: CorpusConfig, *paths: Path) -> Report:
    return validate(config=cfg, paths=list(paths))


def errors(report: Report) -> list[tuple[str, Any, Any]]:
    return [
        (f.slug, f.annotation_id, f.region_id) for f in report.findings if f.severity == "error"
    ]


# --- offsets that are numbers but not integers -------------------------------------------

SENTINEL = "@@number@@"


@pytest.mark.parametrize(
    ("literal", "slug"),
    [
        ("{n}.0", "offset-not-integer"),
        ("{n}e0", "offset-not-integer"),
        ("{n}E+0", "offset-not-integer"),
        ("{n}0e-1", "offset-not-integer"),
        (str(2**64) + "{n}", "offset-not-integer"),  # beyond 64 bits: read as a float
        (str(2**70), "offset-not-integer"),
        # Cases the JSON Schema answers itself (a fraction; below 0):
        ("{n}.5", "wrong-type"),
        (str(-(2**63) - 1), "span-out-of-bounds"),
        # An int that still fits 64 bits (unsigned): past the text, or after its end.
        (str(2**63), "span-out-of-bounds|span-inverted"),
    ],
)
@pytest.mark.parametrize("key", ["start", "end"])
def test_offsets_that_are_not_integers_are_findings(
    cfg: CorpusConfig, tmp_path: Path, literal: str, slug: str, key: str
) -> None:
    """`12.0` or `1e19` pass the JSON Schema (an "integer" there) and, before, were dropped
    from the checks and from the region list without a word."""
    task = task_a(cfg, task_id=7)
    value = task["annotations"][0]["result"][0]["value"]  # a0-nato
    number = literal.format(n=value[key])
    value[key] = SENTINEL
    raw = json.dumps([task], indent=2).replace(f'"{SENTINEL}"', number)
    f = tmp_path / "export.json"
    f.write_text(raw)
    report = run(cfg, f)
    ((got, ann_id, region),) = errors(report)
    assert got in slug.split("|") and (ann_id, region) == (70, "a0-nato"), report.findings
    (hit,) = report.findings
    assert (hit.pointer or "").startswith("/0/annotations/0/result/0/value")
    assert hit.line is not None and '"a0-nato"' in raw.splitlines()[hit.line - 1]
    if got == "offset-not-integer":
        assert f"value.{key}" in hit.message
    if not isinstance(json.loads(number), int):
        # The readers after validation refuse it too instead of rounding it.
        with pytest.raises(DataError, match="not an integer"):
            list(iter_annotations([f], cfg.scheme))


def test_float_offsets_keep_the_region_for_its_answers(cfg: CorpusConfig, tmp_path: Path) -> None:
    """A claim with a float offset stays a region: its check-worthiness answer and claimant
    relation are not reported as orphans (one finding, about the offset)."""
    task = task_a(cfg)
    claim = next(r for r in task["annotations"][0]["result"] if r["from_name"] == "claim")
    claim["value"]["end"] = float(claim["value"]["end"])
    report = run(cfg, write_json(tmp_path / "e.json", task))
    assert errors(report) == [("offset-not-integer", 10, "a0-claim")], report.findings


# --- duplicate JSON keys -----------------------------------------------------------------

DUP = "__dup__"

# (what, path to the object from the task, key, the other value)
DUPLICATES: list[tuple[str, list[Any], str, Any, Any, Any]] = [
    ("task", [], "id", 99, None, None),
    ("data", ["data"], "text", "Another text.", None, None),
    ("annotation", ["annotations", 1], "ground_truth", True, 71, None),
    ("result", ["annotations", 0, "result", 1], "from_name", "claim", 70, "a0-jens"),
    ("value", ["annotations", 0, "result", 0, "value"], "start", 0, 70, "a0-nato"),
    ("stance", ["annotations", 1, "result", 9, "value"], "choices", ["against"], 71, None),
]


def _with_duplicate(task: Task, path: list[Any], key: str, other: Any) -> Task:
    """`task` with `key` written twice in the object at `path`: first `other`, then the real
    value (so every reader that keeps the last one sees the original task)."""
    task = clone(task)
    parent: Any = None
    node: Any = task
    for p in path:
        parent, node = node, node[p]
    assert key in node
    marked = {DUP: DUP, **node}
    if parent is None:
        task = marked
    else:
        parent[path[-1]] = marked
    task["__other__"] = other  # only to serialise `other` the way the layout does
    return task


def _write_duplicated(path: Path, task: Task, key: str, layout: str) -> Path:
    other = task.pop("__other__")
    if layout == "jsonl":
        raw = orjson.dumps(task).decode() + "\n"
        other_raw = orjson.dumps(other).decode()
    else:
        raw = json.dumps([task], indent=2, ensure_ascii=False)
        other_raw = json.dumps(other)
    raw, n = re.subn(rf'"{DUP}":\s*"{DUP}"', f'"{key}": {other_raw}', raw)
    assert n == 1
    path.write_text(raw, encoding="utf-8")
    return path


@pytest.mark.parametrize("layout", ["array", "jsonl"])
@pytest.mark.parametrize(
    ("what", "path", "key", "other", "ann_id", "region_id"),
    DUPLICATES,
    ids=[d[0] for d in DUPLICATES],
)
def test_duplicate_keys_are_findings(
    cfg: CorpusConfig,
    tmp_path: Path,
    layout: str,
    what: str,
    path: list[Any],
    key: str,
    other: Any,
    ann_id: int | None,
    region_id: str | None,
) -> None:
    """Readers keep one of the two values (orjson and `json` the last, others the first):
    the file says two things, whatever else is right about it."""
    task = task_a(cfg, task_id=7)
    if what == "stance":
        assert task["annotations"][1]["result"][9]["from_name"].startswith("stance_")
    dup = _with_duplicate(task, path, key, other)
    name = "e.jsonl" if layout == "jsonl" else "e.json"
    f = _write_duplicated(tmp_path / name, dup, key, layout)
    report = run(cfg, f)
    assert errors(report) == [("duplicate-key", ann_id, region_id)], report.findings
    (hit,) = report.findings
    prefix = "" if layout == "jsonl" else "/0"
    assert hit.pointer == prefix + "".join(f"/{p}" for p in path)
    assert repr(key) in hit.message
    assert hit.task_id == 7


def test_no_duplicate_key_finding_without_duplicates(cfg: CorpusConfig, tmp_path: Path) -> None:
    """Colons inside strings, escaped ones (`\\u003a`) and odd spacing are not duplicates."""
    task = task_a(cfg)
    task["data"]["title"] = 'a: "b": c::'
    raw = json.dumps([task], indent=2, ensure_ascii=True)  # every non-ASCII letter escaped
    raw = raw.replace('"title": "a:', '"title"  \n :\t "a\\u003a', 1)
    f = tmp_path / "e.json"
    f.write_text(raw)
    assert run(cfg, f).findings == []


# --- ground truth that contradicts itself ------------------------------------------------


def test_two_ground_truths_that_disagree(cfg: CorpusConfig, tmp_path: Path) -> None:
    task = task_a(cfg, task_id=7)
    for ann in task["annotations"]:
        ann["ground_truth"] = True
    # Same labels, other region ids and annotators: they agree.
    assert run(cfg, write_json(tmp_path / "agree.json", task)).findings == []
    task["annotations"][1]["result"][0]["value"]["labels"] = ["GPE"]  # NATO as GPE
    task["annotations"][1]["updated_at"] = "2026-01-06T00:00:00Z"
    report = run(cfg, write_json(tmp_path / "disagree.json", task))
    assert errors(report) == [("ground-truth-conflict", 71, None)]
    (hit,) = report.findings
    assert "70" in hit.message and "entities" in hit.message
    assert hit.pointer == "/annotations/1"
    # A cancelled ground truth does not count.
    task["annotations"][1]["was_cancelled"] = True
    report = run(cfg, write_json(tmp_path / "cancelled.json", task))
    assert "ground-truth-conflict" not in [f.slug for f in report.findings]


def test_ground_truths_disagreeing_on_stance(cfg: CorpusConfig, tmp_path: Path) -> None:
    task = task_b(cfg)
    for ann in task["annotations"]:
        ann["ground_truth"] = True
    task["annotations"][0]["result"][-1]["value"]["choices"] = ["against"]
    report = run(cfg, write_json(tmp_path / "e.json", task))
    (hit,) = report.findings
    assert (hit.slug, hit.annotation_id) == ("ground-truth-conflict", 21)
    assert "stances" in hit.message


# --- one task or annotation read twice ---------------------------------------------------


def test_same_task_in_two_files(cfg: CorpusConfig, tmp_path: Path) -> None:
    """A UI export beside the pulled folder of the same project: every annotation twice."""
    a, b = task_a(cfg, task_id=1), task_b(cfg, task_id=2)
    pulled = tmp_path / "annotations" / "geonews" / "tasks"
    write_json(pulled / "a.json", a)
    write_json(pulled / "b.json", b)
    ui = write_json(tmp_path / "annotations" / "ui-export.json", [a, b])
    report = run(cfg, tmp_path / "annotations")
    got = [(f.slug, f.file, f.task_id) for f in report.findings]
    assert got == [
        ("duplicate-task", str(ui), 1),
        ("duplicate-task", str(ui), 2),
    ], report.findings
    assert str(pulled / "a.json") in report.findings[0].message


def test_same_article_in_another_task(cfg: CorpusConfig, tmp_path: Path) -> None:
    first = task_a(cfg, task_id=1)
    again = task_a(cfg, task_id=5)  # the article imported twice: another task id
    f1 = write_json(tmp_path / "one.json", [first])
    f2 = write_jsonl(tmp_path / "two.jsonl", [task_b(cfg), again])
    report = run(cfg, f1, f2)
    (hit,) = report.findings
    assert (hit.slug, hit.file, hit.line, hit.task_id) == ("duplicate-task", str(f2), 2, 5)
    assert "'a'" in hit.message and "task 1" in hit.message


def test_same_annotation_id_in_two_tasks(cfg: CorpusConfig, tmp_path: Path) -> None:
    a, b = task_a(cfg), task_b(cfg)
    b["annotations"][1]["id"] = a["annotations"][0]["id"]  # copied by hand
    report = run(cfg, write_json(tmp_path / "e.json", [a, b]))
    (hit,) = report.findings
    assert (hit.slug, hit.task_id, hit.annotation_id) == ("duplicate-annotation-id", 2, 10)
    assert hit.pointer == "/1/annotations/1/id"
    assert "task 1" in hit.message


def test_same_annotation_id_in_one_task(cfg: CorpusConfig, tmp_path: Path) -> None:
    a = task_a(cfg)
    extra = annotation(10, "ann-3", [entity(TEXT_A, "x-nato", "NATO", "ORG")])
    extra["result"] += [r for r in a["annotations"][0]["result"] if "id" not in r]  # stances
    a["annotations"].append(extra)
    report = run(cfg, write_json(tmp_path / "e.json", a))
    assert ("duplicate-annotation-id", 10, None) in errors(report)


# --- one run shows all of an annotation's problems ---------------------------------------


def test_schema_failure_does_not_hide_sibling_results(cfg: CorpusConfig, tmp_path: Path) -> None:
    """One result breaks the schema; its siblings' semantic problems are reported in the same
    run, and nothing is reported twice or as a consequence of the broken one."""
    task = task_a(cfg, task_id=7)
    results = task["annotations"][0]["result"]
    results[0]["value"]["labels"] = ["COMPANY"]  # a0-nato: schema (unknown label)
    results[1]["value"]["text"] = "Jens Stoltenburg"  # a0-jens: text-mismatch
    results[4]["value"]["end"] = len(TEXT_A) + 1  # a0-russia: one past the text
    claim = next(r for r in results if r.get("from_name") == "claim")
    del claim["value"]["text"]  # the claim region breaks the schema ...
    stance = next(r for r in results if r.get("from_name", "").startswith("stance_"))
    stance["value"]["choices"] = ["maybe"]  # ... and so does a stance answer
    report = run(cfg, write_json(tmp_path / "e.json", task))
    got = sorted(errors(report))
    assert got == sorted(
        [
            ("unknown-label", 70, "a0-nato"),
            ("text-mismatch", 70, "a0-jens"),
            ("span-out-of-bounds", 70, "a0-russia"),
            ("missing-field", 70, "a0-claim"),
            ("unknown-choice", 70, None),
        ]
    ), report.findings
    # The claim's check-worthiness, claimant and relation are not orphans; the stance target
    # is not unanswered; the other annotation is clean.
    assert not [f for f in report.findings if f.annotation_id == 71]


def test_invalid_data_does_not_hide_offset_problems(cfg: CorpusConfig, tmp_path: Path) -> None:
    task = task_a(cfg)
    task["data"]["text_sha256"] = "not a sha256"  # invalid data (a missing one is allowed)
    task["annotations"][1]["result"][0]["value"]["start"] += 1  # a1-nato: text-mismatch
    report = run(cfg, write_json(tmp_path / "e.json", task))
    assert sorted(errors(report)) == [
        ("schema-violation", None, None),
        ("text-mismatch", 11, "a1-nato"),
    ]


# --- regions without an id ---------------------------------------------------------------


def _without_ids(results: list[dict[str, Any]], *, empty: bool = False) -> None:
    """Results as an API client may send them: no `id` (or an empty one)."""
    for r in results:
        if r["type"] != "relation" and "id" in r:
            if empty:
                r["id"] = ""
            else:
                del r["id"]
    results[:] = [r for r in results if r["type"] != "relation"]  # nothing to name


@pytest.mark.parametrize("empty", [False, True], ids=["no id", "empty id"])
def test_results_without_ids_are_read_as_label_studio_reads_them(
    cfg: CorpusConfig, tmp_path: Path, empty: bool
) -> None:
    """Label Studio gives each such result a region of its own: entities and claims are
    regions no one can refer to; a per-region answer without an id belongs to no claim.
    Validation and parse_task read the task the same way."""
    task = task_a(cfg, task_id=7)
    _without_ids(task["annotations"][0]["result"], empty=empty)
    f = write_json(tmp_path / "e.json", task)
    report = run(cfg, f)
    assert sorted((x.slug, x.annotation_id, x.region_id) for x in report.findings) == [
        ("claim-without-checkworthy", 70, None),
        ("orphan-attribute", 70, None),  # check-worthiness: tied to nothing
        ("orphan-attribute", 70, None),  # claimant text: tied to nothing
    ], report.findings
    assert {x.severity for x in report.findings if x.slug == "orphan-attribute"} == {"error"}
    assert report.stats["regions"] == 2 * 6  # every span still counted and checked
    (first, second) = list(iter_annotations([f], cfg.scheme))
    assert [(e.label, e.region_id) for e in first.entities] == [
        (e.label, None) for e in second.entities
    ]
    (claim,) = first.claims
    assert (claim.region_id, claim.checkworthy, claim.claimant) == (None, None, None)
    assert second.claims[0].checkworthy == "check-worthy"


def test_two_claims_without_ids_stay_two(cfg: CorpusConfig, tmp_path: Path) -> None:
    """Before, both were filed under the id "None": one claim silently replaced the other."""
    task = task_b(cfg)
    results = task["annotations"][0]["result"]
    for needle in ("Officials in Tehran said", "talks with Washington would resume"):
        s = task["data"]["text"].index(needle)
        results.append(
            {
                "from_name": "claim",
                "to_name": "text",
                "type": "labels",
                "value": {"start": s, "end": s + len(needle), "text": needle, "labels": ["Claim"]},
            }
        )
    f = write_json(tmp_path / "e.json", task)
    report = run(cfg, f)
    assert [x.slug for x in report.findings] == ["claim-without-checkworthy"] * 2
    first = next(iter(iter_annotations([f], cfg.scheme)))
    assert [c.text for c in first.claims] == [
        "Officials in Tehran said",
        "talks with Washington would resume",
    ]


def test_csv_export_in_the_annotations_folder_is_a_finding(
    cfg: CorpusConfig, tmp_path: Path
) -> None:
    """The readers pick only JSON files out of a folder: a CSV export dropped beside the pulled
    tasks is not silently passed over, it is answered (once)."""
    folder = tmp_path / "annotations"
    write_json(folder / "geonews" / "tasks" / "a.json", task_a(cfg))
    header = '"annotation_id","annotator","article_id","entities","id","text"\n'
    (folder / "export.csv").write_text(header + '1,"1","a","[]",1,"x"\n')
    (folder / ".old-pull").mkdir()
    (folder / ".old-pull" / "export.csv").write_text(header)  # hidden: skipped
    report = run(cfg, folder)
    assert [(f.slug, f.file) for f in report.findings] == [
        ("lossy-export", str(folder / "export.csv"))
    ]
    assert "CSV export" in report.findings[0].message
    assert report.stats["files"] == 2 and report.stats["tasks"] == 1
