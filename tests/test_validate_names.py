"""Validation and parsing in an adopted corpus's own control names (issue 12 points 2 and 3).

The adopted corpus names its controls in `[scheme.names]`: entities and claims in one `ner`
<Labels> (the claim label "Claim" beside the entity labels), check-worthiness `verifiable`,
the free-text claimant `source`, the text `content` (data key `content`), and one `stance`
<Choices> for every target, the target being the task data's `target` (an id or a name).
The tasks are written by hand as Label Studio exports them from such a project (no
`text_sha256`: they were not made by `corpus tasks`), on a text with an emoji, a non-BMP
letter, a combining accent and a CRLF line end, so code points, UTF-16 units and bytes differ.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import run_cli
from ls_regions import locate
from test_validate_support import (
    TEXT_A,
    article,
    setup_corpus,
    task_a,
    write_articles,
    write_json,
)

from corpus_tools.config import CorpusConfig, load_config
from corpus_tools.exports import parse_task, task_sha256
from corpus_tools.jsonschemas import task_schema
from corpus_tools.model import Finding, Report
from corpus_tools.store import sha256_text
from corpus_tools.validate import validate
from corpus_tools.validate.slugs import hint

Task = dict[str, Any]

NAMES = """
[scheme.names]
entities = "ner"
claims = "ner"
claim_label = "Claim"
checkworthy = "verifiable"
claimant_text = "source"
text = "content"
text_field = "content"
stance = "stance"
stance_target_field = "target"
"""


@pytest.fixture
def adopted(sample_corpus: Path) -> CorpusConfig:
    """The sample corpus under the adopted names; the articles table holds `a` and `b`."""
    toml = sample_corpus / "corpus.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + NAMES, encoding="utf-8")
    setup_corpus(sample_corpus)
    return load_config(toml)


@pytest.fixture
def per_target(sample_corpus: Path) -> CorpusConfig:
    """The sample corpus whose stance targets have their own controls (`control`)."""
    toml = sample_corpus / "corpus.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('id = "united_states"\n', 'id = "united_states"\ncontrol = "us_view"\n')
    text = text.replace('id = "iran"\n', 'id = "iran"\ncontrol = "iran_view"\n')
    toml.write_text(text, encoding="utf-8")
    setup_corpus(sample_corpus)
    cfg = load_config(toml)
    assert cfg.scheme.stance_controls == {
        "us_view": "united_states",
        "iran_view": "iran",
        "stance_russia": "russia",  # no control of its own: the prefix
    }
    return cfg


# --- tasks as an adopted project exports them --------------------------------------------


def span(text: str, needle: str) -> dict[str, Any]:
    s, e = locate(text, needle)
    return {"start": s, "end": e, "text": text[s:e].replace("\r", "\\n").replace("\n", "\\n")}


def ner(text: str, rid: str, needle: str, label: str) -> dict[str, Any]:
    value = {**span(text, needle), "labels": [label]}
    return {"id": rid, "from_name": "ner", "to_name": "content", "type": "labels", "value": value}


def claim(text: str, rid: str, needle: str, checkworthy: str = "check-worthy") -> list[Task]:
    """A claim region in `ner` with its per-region check-worthiness (same id)."""
    sp = span(text, needle)
    return [
        ner(text, rid, needle, "Claim"),
        {
            "id": rid,
            "from_name": "verifiable",
            "to_name": "content",
            "type": "choices",
            "value": {**sp, "choices": [checkworthy]},
        },
    ]


def source(text: str, rid: str, needle: str, who: str) -> Task:
    """The claim's free-text claimant (per-region <TextArea> `source`)."""
    return {
        "id": rid,
        "from_name": "source",
        "to_name": "content",
        "type": "textarea",
        "value": {**span(text, needle), "text": [who]},
    }


def stance(label: str, control: str = "stance", to_name: str = "content") -> Task:
    return {
        "from_name": control,
        "to_name": to_name,
        "type": "choices",
        "value": {"choices": [label]},
    }


def relation(a: str, b: str) -> Task:
    return {"type": "relation", "from_id": a, "to_id": b, "direction": "right"}


CLAIM_TEXT = "drones hit Kyiv.\r\nRussia denied it"


def results(k: int, *, stance_label: str = "against") -> list[Task]:
    """One annotator's full result on TEXT_A: spans after 😀, after 𝔸, across and after the
    CRLF, one over a combining mark; a claim with a claimant relation; the stance."""
    text, p = TEXT_A, f"r{k}"
    return [
        ner(text, f"{p}-cafe", "Cafe\u0301", "ORG"),
        ner(text, f"{p}-nato", "NATO", "ORG"),
        ner(text, f"{p}-jens", "Jens Stoltenberg", "PER"),
        ner(text, f"{p}-drones", "drones", "WEAPON"),
        ner(text, f"{p}-kyiv", "Kyiv", "GPE"),
        ner(text, f"{p}-russia", "Russia", "GPE"),
        *claim(text, f"{p}-claim", CLAIM_TEXT),
        relation(f"{p}-jens", f"{p}-claim"),
        stance(stance_label),
    ]


def adopted_task(
    task_id: int, target: Any = "Iran", *, article_id: str | None = "a", text: str = TEXT_A
) -> Task:
    data: dict[str, Any] = {"content": text}
    if target is not None:
        data["target"] = target
    if article_id is not None:
        data["article_id"] = article_id
    anns = [
        {
            "id": 100 * task_id + k,
            "completed_by": k + 1,
            "result": results(k) if text == TEXT_A else [stance("neutral")],
            "was_cancelled": False,
            "ground_truth": False,
            "lead_time": 3.5,
        }
        for k in range(2)
    ]
    return {"id": task_id, "data": data, "annotations": anns, "predictions": []}


def run(cfg: CorpusConfig, tmp_path: Path, *tasks: Task, **kw: Any) -> Report:
    return validate(config=cfg, paths=[write_json(tmp_path / "export.json", list(tasks))], **kw)


def found(report: Report) -> list[tuple[str, str]]:
    return sorted((f.slug, f.severity) for f in report.findings)


def only(report: Report, slug: str) -> Finding:
    hits = [f for f in report.findings if f.slug == slug]
    assert len(hits) == 1, report.findings
    return hits[0]


def utf16_units(text: str) -> int:
    """Length of `text` in UTF-16 code units (computed from the encoding, not by counting)."""
    return len(text.encode("utf-16-le")) // 2


# --- validation --------------------------------------------------------------------------


def test_valid_adopted_tasks_pass(adopted: CorpusConfig, tmp_path: Path) -> None:
    # One article asked on two targets (one by name, one by id): two legitimate tasks.
    report = run(adopted, tmp_path, adopted_task(1, "Iran"), adopted_task(2, "united_states"))
    assert report.findings == []
    assert report.stats["tasks"] == 2
    assert report.stats["annotations"] == 4
    assert report.stats["regions"] == 4 * 7  # 6 entities + 1 claim per annotation
    # The spans sit after non-BMP characters and a CRLF: the checks ran on code points.
    s, _ = locate(TEXT_A, "drones")
    assert utf16_units(TEXT_A[:s]) == s + 2  # the emoji and 𝔸 are two units each


def test_utf16_offsets_after_emoji_are_caught_and_repaired(
    adopted: CorpusConfig, tmp_path: Path
) -> None:
    task = adopted_task(1)
    region = task["annotations"][0]["result"][1]
    assert region["id"] == "r0-nato"
    s, e = region["value"]["start"], region["value"]["end"]
    u_start, u_end = utf16_units(TEXT_A[:s]), utf16_units(TEXT_A[:e])
    assert (u_start, u_end) == (s + 1, e + 1)  # the emoji before NATO
    region["value"]["start"], region["value"]["end"] = u_start, u_end
    report = run(adopted, tmp_path, task)
    f = only(report, "utf16-offsets")
    assert f.severity == "error" and f.region_id == "r0-nato"
    assert f"{s}-{e}" in f.message
    assert found(report) == [("utf16-offsets", "error")]

    export = tmp_path / "export.json"
    code, out = run_cli(
        "validate", "-c", str(adopted.path), "--repair-utf16", str(export), cwd=tmp_path
    )
    assert code == 0, out
    fixed = json.loads(export.read_text(encoding="utf-8"))[0]["annotations"][0]["result"][1]
    assert (fixed["value"]["start"], fixed["value"]["end"]) == (s, e)
    assert (tmp_path / "export.json.bak").is_file()
    assert validate(config=adopted, paths=[export]).findings == []


def test_unknown_stance_target(adopted: CorpusConfig, tmp_path: Path) -> None:
    report = run(adopted, tmp_path, adopted_task(1, "China"), adopted_task(2, None))
    bad = [f for f in report.findings if f.slug == "unknown-stance-target"]
    assert [(f.task_id, f.severity, f.pointer) for f in bad] == [
        (1, "error", "/0/data/target"),
        (2, "error", "/1/data/target"),
    ]
    assert "'China'" in bad[0].message and "None" in bad[1].message
    for f in bad:
        for known in ("united_states (United States)", "iran (Iran)", "russia (Russia)"):
            assert known in f.message
    assert "[[scheme.stance.targets]]" in (bad[0].hint or "")
    # The answers cannot be about an unknown target: no count finding on top.
    assert found(report) == [("unknown-stance-target", "error")] * 2


def test_one_answer_for_the_tasks_own_target(adopted: CorpusConfig, tmp_path: Path) -> None:
    none, two = adopted_task(1, "Iran"), adopted_task(2, "United States")
    res0 = none["annotations"][0]["result"]
    res0[:] = [r for r in res0 if r.get("from_name") != "stance"]
    two["annotations"][1]["result"].append(stance("favor"))
    report = run(adopted, tmp_path, none, two)
    missing, multiple = only(report, "stance-missing"), only(report, "stance-multiple")
    assert (missing.task_id, missing.annotation_id) == (1, 100)
    assert "'iran'" in missing.message
    assert (multiple.task_id, multiple.annotation_id) == (2, 201)
    assert "'united_states': 2 answers" in multiple.message
    assert len(report.findings) == 2


def test_a_second_task_on_the_same_target_is_a_duplicate(
    adopted: CorpusConfig, tmp_path: Path
) -> None:
    twice = adopted_task(2, "iran")
    for ann in twice["annotations"]:
        ann["id"] += 1000
    report = run(adopted, tmp_path, adopted_task(1, "Iran"), twice)
    f = only(report, "duplicate-task")
    assert f.task_id == 2 and "target 'iran'" in f.message
    assert len(report.findings) == 1


def test_shared_control_tells_claims_from_entities(adopted: CorpusConfig, tmp_path: Path) -> None:
    task = adopted_task(1)
    res = task["annotations"][0]["result"]
    # a claimant relation between two entities, check-worthiness for an entity
    res.append(relation("r0-nato", "r0-jens"))
    res.append({**claim(TEXT_A, "r0-kyiv", "Kyiv")[1]})
    report = run(adopted, tmp_path, task)
    wrong = only(report, "relation-wrong-kind")
    assert "ner ORG to ner PER" in wrong.message
    orphan = only(report, "orphan-attribute")
    assert orphan.region_id == "r0-kyiv" and "not a claim" in orphan.message
    assert len(report.findings) == 2
    # A claim without its check-worthiness answer is noticed in the shared control too.
    task = adopted_task(1)
    res = task["annotations"][1]["result"]
    res[:] = [r for r in res if r.get("from_name") != "verifiable"]
    report = run(adopted, tmp_path, task)
    assert only(report, "claim-without-checkworthy").region_id == "r1-claim"


def test_per_target_controls(per_target: CorpusConfig, tmp_path: Path) -> None:
    stance_controls = ("us_view", "iran_view", "stance_russia")

    def task(task_id: int, answers: list[tuple[str, str]]) -> Task:
        """task_a (default names) with its stance answers replaced by `answers`."""
        t = task_a(per_target, task_id)
        for ann in t["annotations"]:
            kept = [r for r in ann["result"] if r.get("from_name") not in stance_controls]
            ann["result"] = kept + [stance(label, name, "text") for label, name in answers]
        return t

    ok = task(1, [("favor", "us_view"), ("against", "iran_view"), ("neutral", "stance_russia")])
    report = run(per_target, tmp_path, ok)
    assert report.findings == []
    assert {(s.target, s.label) for a in parse_task(ok, per_target.scheme) for s in a.stances} == {
        ("united_states", "favor"),
        ("iran", "against"),
        ("russia", "neutral"),
    }
    # `stance_united_states` (the prefix) is not the target's control: unknown, and the
    # target's own control is unanswered.
    old = task(
        3,
        [
            ("neutral", "stance_united_states"),
            ("neutral", "iran_view"),
            ("neutral", "stance_russia"),
        ],
    )
    report = run(per_target, tmp_path, old)
    assert sorted({f.slug for f in report.findings}) == ["stance-missing", "unknown-control"]
    missing = [f for f in report.findings if f.slug == "stance-missing"]
    assert [f.annotation_id for f in missing] == [30, 31]
    assert all("'united_states'" in f.message for f in missing)


# --- tasks without text_sha256 -----------------------------------------------------------


def test_task_tied_by_the_articles_table_is_silent(adopted: CorpusConfig, tmp_path: Path) -> None:
    task = adopted_task(1)
    assert "text_sha256" not in task["data"]
    assert run(adopted, tmp_path, task).findings == []
    # Without data.article_id the task's id names the article (`task-<id>`, as ingest does).
    task = adopted_task(7, article_id=None)
    write_articles(adopted.paths.root, [article("task-7", TEXT_A)])
    assert run(adopted, tmp_path, task).findings == []


def test_task_not_tied_warns(adopted: CorpusConfig, tmp_path: Path) -> None:
    report = run(adopted, tmp_path, adopted_task(1, article_id="elsewhere"))
    f = only(report, "text-not-tied")
    assert f.severity == "warning" and report.valid
    assert f.message == (
        "the task's text cannot be tied to an ingested article: no text_sha256, and no "
        "article 'elsewhere' with this text in the articles table"
    )
    assert f.pointer == "/0/data/content"
    assert f.hint == hint("text-not-tied") and "corpus ingest" in f.hint
    assert len(report.findings) == 1
    # No articles table at all: the offsets are still checked against the task's own text.
    adopted.paths.articles_parquet.unlink()
    task = adopted_task(1)
    task["annotations"][0]["result"][1]["value"]["start"] += 1
    report = run(adopted, tmp_path, task)
    assert found(report) == [
        ("article-checks-skipped", "warning"),
        ("text-mismatch", "error"),
        ("text-not-tied", "warning"),
    ]


def test_task_whose_article_has_another_text_is_stale(
    adopted: CorpusConfig, tmp_path: Path
) -> None:
    edited = TEXT_A.replace("Kyiv", "Kiev")
    report = run(adopted, tmp_path, adopted_task(1, text=edited))
    f = only(report, "stale-annotation")
    assert f.severity == "error" and "the task's text differs" in f.message
    assert sha256_text(TEXT_A)[:12] in f.message and sha256_text(edited)[:12] in f.message


def test_default_corpus_task_without_text_sha256(sample_corpus: Path, tmp_path: Path) -> None:
    cfg = setup_corpus(sample_corpus)
    task = task_a(cfg)
    del task["data"]["text_sha256"]
    assert run(cfg, tmp_path, task).findings == []  # article `a` in the table has this text
    task["data"]["text"] = TEXT_A + " "
    assert [f.slug for f in run(cfg, tmp_path, task).findings] == ["stale-annotation"]


# --- parsing -----------------------------------------------------------------------------


def test_parse_task_in_adopted_names(adopted: CorpusConfig) -> None:
    task = adopted_task(1, "Iran", article_id=None)
    res = task["annotations"][1]["result"]
    res[:] = [r for r in res if r["type"] != "relation"]  # claimant from free text instead
    res.append(source(TEXT_A, "r1-claim", CLAIM_TEXT, "a spokesman"))
    recs = parse_task(task, adopted.scheme)
    assert [r.article_id for r in recs] == ["task-1", "task-1"]
    assert [r.annotator for r in recs] == ["user-1", "user-2"]
    for rec in recs:
        assert rec.text_sha256 == sha256_text(TEXT_A)
        assert [(e.label, e.text) for e in rec.entities] == [
            ("ORG", "Cafe\u0301"),
            ("ORG", "NATO"),
            ("PER", "Jens Stoltenberg"),
            ("WEAPON", "drones"),
            ("GPE", "Kyiv"),
            ("GPE", "Russia"),
        ]
        for e in rec.entities:
            assert TEXT_A[e.start : e.end] == e.text
        assert [(c.text, c.checkworthy) for c in rec.claims] == [(CLAIM_TEXT, "check-worthy")]
        assert [(s.target, s.label) for s in rec.stances] == [("iran", "against")]
    assert recs[0].claims[0].claimant == "Jens Stoltenberg"  # by the relation
    assert recs[1].claims[0].claimant == "a spokesman"  # by the text area
    # The target by id; a task naming no known target has no stance records.
    assert parse_task(adopted_task(2, "united_states"), adopted.scheme)[0].stances[0].target == (
        "united_states"
    )
    assert parse_task(adopted_task(3, "China"), adopted.scheme)[0].stances == ()


def test_task_sha256(adopted: CorpusConfig) -> None:
    task = adopted_task(1)
    assert task_sha256(task, adopted.scheme) == sha256_text(TEXT_A)
    task["data"]["text_sha256"] = "0" * 64
    assert task_sha256(task, adopted.scheme) == "0" * 64
    assert task_sha256({"id": 1, "data": {"text": TEXT_A}}, adopted.scheme) is None


# --- the JSON Schema ---------------------------------------------------------------------


def test_task_schema_in_adopted_names(adopted: CorpusConfig) -> None:
    schema = task_schema(adopted)
    check = jsonschema.Draft202012Validator(schema)
    data = schema["$defs"]["data"]
    assert data["required"] == ["content"]
    assert data["properties"]["target"] == {"type": "string"}
    good = adopted_task(1)
    assert list(check.iter_errors(good)) == []
    for mutate in (
        lambda t: t["annotations"][0]["result"][0].update(from_name="entities"),
        lambda t: t["annotations"][0]["result"][0].update(to_name="text"),
        lambda t: t["annotations"][0]["result"][0]["value"].update(labels=["Claimed"]),
        lambda t: t["annotations"][0]["result"][-1].update(from_name="stance_iran"),
        lambda t: t["data"].pop("content"),
        lambda t: t["data"].update(article_id=""),
        lambda t: t["data"].update(text_sha256="abc"),
    ):
        bad = copy.deepcopy(good)
        mutate(bad)
        assert list(check.iter_errors(bad)), mutate
    # The claim label is accepted in the shared control, beside the entity labels.
    labels = good["annotations"][0]["result"][6]["value"]["labels"]
    assert labels == ["Claim"]


def test_default_schema_requires_only_the_text(sample_corpus: Path) -> None:
    cfg = load_config(sample_corpus / "corpus.toml")
    data = task_schema(cfg)["$defs"]["data"]
    assert data["required"] == ["text"]
    assert "target" not in data["properties"]
    committed = json.loads((sample_corpus / "schemas" / "ls-task.schema.json").read_text("utf-8"))
    assert committed == task_schema(cfg)
