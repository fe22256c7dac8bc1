"""Boundaries and renderings of validation that mutation testing (issue 10 point 16) showed no
other test pinned down: a span ending exactly at the end of the text, one past it, an empty
span, UTF-16 offsets at the end of the text and across a line break, offsets that are floats,
per-region answers that reach no claim, and the exact text of the summary, GitHub and JUnit
renderings."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_validate_support import TEXT_A, entity, setup_corpus, task_a, write_json

from corpus_tools.config import CorpusConfig
from corpus_tools.model import Finding, Report
from corpus_tools.validate import validate
from corpus_tools.validate.formats import (
    location,
    render,
    render_github,
    render_junit,
    render_text,
    summary,
    text_lines,
)

Task = dict[str, Any]
N = len(TEXT_A)
LAST = "silent."  # the last word of TEXT_A
LAST_START = N - len(LAST)
ASTRAL_BEFORE_LAST = sum(1 for ch in TEXT_A if ord(ch) > 0xFFFF)  # the emoji and 𝔸


@pytest.fixture
def cfg(sample_corpus: Path) -> CorpusConfig:
    shutil.rmtree(sample_corpus / "annotations", ignore_errors=True)
    (sample_corpus / "annotations").mkdir()
    return setup_corpus(sample_corpus)


def run(cfg: CorpusConfig, task: Task, tmp_path: Path, **kw: Any) -> tuple[Report, Path]:
    f = write_json(tmp_path / "export.json", [task])
    return validate(config=cfg, paths=[f], **kw), f


def found(report: Report) -> list[tuple[str, str, Any, Any, Any]]:
    """Every finding as (slug, message, annotation id, region id, pointer)."""
    return [(f.slug, f.message, f.annotation_id, f.region_id, f.pointer) for f in report.findings]


def with_last(cfg: CorpusConfig, **value: Any) -> tuple[Task, int]:
    """task_a with an entity on the text's last word in annotation 0, its value updated."""
    task = task_a(cfg)
    res = task["annotations"][0]["result"]
    e = entity(TEXT_A, "a0-last", LAST, "ORG")
    assert (e["value"]["start"], e["value"]["end"]) == (LAST_START, N)
    e["value"].update(value)
    res.append(e)
    return task, len(res) - 1


def value_at(ri: int) -> str:
    return f"/0/annotations/0/result/{ri}/value"


# --- span boundaries ----------------------------------------------------------------------


def test_a_span_ending_exactly_at_the_end_of_the_text_is_valid(
    cfg: CorpusConfig, tmp_path: Path
) -> None:
    task, _ = with_last(cfg)
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == []
    assert report.stats["regions"] == 2 * (5 + 1) + 1  # 5 entities + 1 claim each, and this one


def test_a_span_one_past_the_end_of_the_text_is_out_of_bounds(
    cfg: CorpusConfig, tmp_path: Path
) -> None:
    task, ri = with_last(cfg, end=N + 1)
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == [
        (
            "span-out-of-bounds",
            f"end {N + 1} is past the end of the text ({N})",
            10,
            "a0-last",
            value_at(ri),
        )
    ]


def test_a_span_at_the_end_with_the_wrong_text_is_a_mismatch_not_out_of_bounds(
    cfg: CorpusConfig, tmp_path: Path
) -> None:
    task, ri = with_last(cfg, text="silent!")
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == [
        (
            "text-mismatch",
            f"text[{LAST_START}:{N}] is 'silent.', value.text is 'silent!'",
            10,
            "a0-last",
            value_at(ri),
        )
    ]


@pytest.mark.parametrize("shift", [0, 1], ids=["empty", "inverted"])
def test_an_empty_or_inverted_span_is_reported(
    cfg: CorpusConfig, tmp_path: Path, shift: int
) -> None:
    end = LAST_START - shift
    task, ri = with_last(cfg, end=end, text="")
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == [
        (
            "span-inverted",
            f"start {LAST_START} is not before end {end}",
            10,
            "a0-last",
            value_at(ri),
        )
    ]


@pytest.mark.parametrize(
    ("xs", "shown"), [(58, repr("x" * 58)), (59, "'" + "x" * 56 + "…")], ids=["60", "61"]
)
def test_a_long_mismatch_is_shortened_past_60_characters(
    cfg: CorpusConfig, tmp_path: Path, xs: int, shown: str
) -> None:
    task, ri = with_last(cfg, start=0, text="x" * xs)
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == [
        (
            "text-mismatch",
            f"text[0:{N}] is {repr(TEXT_A)[:57]}…, value.text is {shown}",
            10,
            "a0-last",
            value_at(ri),
        )
    ]


# --- UTF-16 offsets -----------------------------------------------------------------------


def test_utf16_offsets_ending_at_the_end_of_the_text_are_recognised_and_repaired(
    cfg: CorpusConfig, tmp_path: Path
) -> None:
    s16, e16 = LAST_START + ASTRAL_BEFORE_LAST, N + ASTRAL_BEFORE_LAST
    assert e16 * 2 == len(TEXT_A.encode("utf-16-le"))  # the very last UTF-16 unit
    task, ri = with_last(cfg, start=s16, end=e16)
    report, f = run(cfg, task, tmp_path)
    assert found(report) == [
        (
            "utf16-offsets",
            f"offsets {s16}-{e16} are UTF-16 code units; in code points the region "
            f"'silent.' is {LAST_START}-{N}",
            10,
            "a0-last",
            value_at(ri),
        )
    ]
    report, _ = run(cfg, task, tmp_path, repair_utf16=True)
    value = orjson.loads(f.read_bytes())[0]["annotations"][0]["result"][ri]["value"]
    assert (value["start"], value["end"]) == (LAST_START, N)
    assert found(validate(config=cfg, paths=[f])) == []


def test_utf16_offsets_of_a_claim_across_a_line_break_are_recognised(
    cfg: CorpusConfig, tmp_path: Path
) -> None:
    """value.text has the line break as backslash-n (the UI's quirk): compared that way; the
    claim's per-region answers with the same offsets follow it, in each annotation."""
    task = task_a(cfg)
    expected = []
    for k in (0, 1):
        res = task["annotations"][k]["result"]
        ci = next(i for i, r in enumerate(res) if r["from_name"] == "claim")
        value = res[ci]["value"]
        s, e = value["start"], value["end"]
        assert "\\n" in value["text"] and "\r\n" in TEXT_A[s:e]
        s16, e16 = s + 2, e + 2  # the emoji and 𝔸 come before it
        for r in res[ci : ci + 3]:  # the claim, its check-worthiness and its claimant
            assert r["id"] == f"a{k}-claim" and (r["value"]["start"], r["value"]["end"]) == (s, e)
            r["value"]["start"], r["value"]["end"] = s16, e16
        units = f"offsets {s16}-{e16} are UTF-16 code units; in code points the region"
        at = f"/0/annotations/{k}/result"
        expected += [
            (
                "utf16-offsets",
                f"{units} {value['text']!r} is {s}-{e}",
                10 + k,
                f"a{k}-claim",
                f"{at}/{ci + i}/value",
            )
            for i in (0, 1)
        ]
        expected.append(
            (
                "utf16-offsets",
                f"offsets {s16}-{e16} are its claim region's UTF-16 offsets; in code points "
                f"{s}-{e}",
                10 + k,
                f"a{k}-claim",
                f"{at}/{ci + 2}/value",
            )
        )
    report, f = run(cfg, task, tmp_path)
    assert sorted(found(report)) == sorted(expected)
    validate(config=cfg, paths=[f], repair_utf16=True)
    repaired = orjson.loads(f.read_bytes())[0]["annotations"]
    for k in (0, 1):
        res = repaired[k]["result"]
        ci = next(i for i, r in enumerate(res) if r["from_name"] == "claim")
        assert [(r["value"]["start"], r["value"]["end"]) for r in res[ci : ci + 3]] == [
            (res[ci]["value"]["start"], res[ci]["value"]["start"] + 34)
        ] * 3
    assert found(validate(config=cfg, paths=[f])) == []


def test_answers_in_utf16_follow_only_a_claim_in_utf16(cfg: CorpusConfig, tmp_path: Path) -> None:
    """The claim's offsets are code points; its answers' are UTF-16: the check-worthiness
    answer (it has a text) is recognised on its own, the claimant (no text) is not moved, and
    both differ from their claim."""
    task, res, ci = claim_task(cfg)
    s, e = res[ci]["value"]["start"], res[ci]["value"]["end"]
    for r in res[ci + 1 : ci + 3]:
        r["value"]["start"], r["value"]["end"] = s + 2, e + 2
    report, _ = run(cfg, task, tmp_path)
    text = res[ci]["value"]["text"]
    assert sorted(found(report)) == [
        (
            "attribute-offsets-mismatch",
            f"checkworthy answer has offsets {s + 2}-{e + 2}, its claim region {s}-{e}",
            10,
            "a0-claim",
            result_at(ci + 1),
        ),
        (
            "attribute-offsets-mismatch",
            f"claimant_text answer has offsets {s + 2}-{e + 2}, its claim region {s}-{e}",
            10,
            "a0-claim",
            result_at(ci + 2),
        ),
        (
            "utf16-offsets",
            f"offsets {s + 2}-{e + 2} are UTF-16 code units; in code points the region "
            f"{text!r} is {s}-{e}",
            10,
            "a0-claim",
            value_at(ci + 1),
        ),
    ]


def test_utf16_offsets_one_past_the_end_are_out_of_bounds(
    cfg: CorpusConfig, tmp_path: Path
) -> None:
    """UTF-16 units that would select the last word if the text went on are not taken."""
    s16, e16 = LAST_START + ASTRAL_BEFORE_LAST, N + ASTRAL_BEFORE_LAST + 1
    task, ri = with_last(cfg, start=s16, end=e16)
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == [
        (
            "span-out-of-bounds",
            f"end {e16} is past the end of the text ({N})",
            10,
            "a0-last",
            value_at(ri),
        )
    ]


NATO = TEXT_A.index("NATO")
CHIEF = TEXT_A.index("NATO chief") + len("NATO chief")


@pytest.mark.parametrize(
    ("value", "slug"),
    [
        ({"end": N + 1}, "span-out-of-bounds"),
        ({"end": CHIEF, "text": "NATO boss"}, "text-mismatch"),
        ({"start": NATO + 1, "end": CHIEF + 1, "text": "NATO chief"}, "utf16-offsets"),
        ({"start": NATO + 2, "end": NATO + 2, "text": ""}, "span-inverted"),
    ],
    ids=["out of bounds", "mismatch", "utf16", "empty"],
)
def test_a_region_with_bad_offsets_is_not_checked_for_overlaps(
    cfg: CorpusConfig, tmp_path: Path, value: dict[str, Any], slug: str
) -> None:
    """Its offsets do not say where it is: one finding about them, no overlap with NATO."""
    task, ri = with_last(cfg, **{"start": NATO, **value})
    report, _ = run(cfg, task, tmp_path)
    assert [(f.slug, f.region_id, f.pointer) for f in report.findings] == [
        (slug, "a0-last", value_at(ri))
    ]


# --- offsets that are floats ----------------------------------------------------------------

TAIL = ": not an integer (written with a fraction or an exponent, or beyond 64 bits)"


@pytest.mark.parametrize(
    ("start", "end", "said"),
    [
        (float(LAST_START), N, f"value.start is {float(LAST_START)!r}"),
        (LAST_START, float(N), f"value.end is {float(N)!r}"),
        (
            float(LAST_START),
            1e19,
            f"value.start is {float(LAST_START)!r}, value.end is 1e+19",
        ),
    ],
    ids=["start", "end", "both"],
)
def test_float_offsets_are_named_in_the_message(
    cfg: CorpusConfig, tmp_path: Path, start: Any, end: Any, said: str
) -> None:
    task, ri = with_last(cfg, start=start, end=end)
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == [("offset-not-integer", said + TAIL, 10, "a0-last", value_at(ri))]


# --- per-region answers that reach no claim -------------------------------------------------


def claim_task(cfg: CorpusConfig) -> tuple[Task, list[dict[str, Any]], int]:
    """task_a, annotation 0's results, and the index of its claim (answers follow it)."""
    task = task_a(cfg)
    res = task["annotations"][0]["result"]
    ci = next(i for i, r in enumerate(res) if r["from_name"] == "claim")
    assert [r["from_name"] for r in res[ci : ci + 3]] == ["claim", "checkworthy", "claimant_text"]
    return task, res, ci


def result_at(ri: int) -> str:
    return f"/0/annotations/0/result/{ri}"


UNANSWERED = (
    "claim-without-checkworthy",
    "claim region 'a0-claim' has no check-worthiness answer",
    10,
    "a0-claim",
    "/0/annotations/0/result",
)


def test_an_answer_without_an_id_is_an_orphan(cfg: CorpusConfig, tmp_path: Path) -> None:
    task, res, ci = claim_task(cfg)
    del res[ci + 1]["id"]
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == [
        (
            "orphan-attribute",
            "checkworthy answer without an id: it belongs to no region (Label Studio gives "
            "such a result a region of its own, so no claim gets this answer)",
            10,
            None,
            result_at(ci + 1),
        ),
        UNANSWERED,
    ]


@pytest.mark.parametrize(
    ("rid", "what"),
    [("nope", "no region"), ("a0-nato", "a entities region, not a claim")],
    ids=["no region", "entity"],
)
def test_an_answer_naming_no_claim_is_an_orphan(
    cfg: CorpusConfig, tmp_path: Path, rid: str, what: str
) -> None:
    task, res, ci = claim_task(cfg)
    res[ci + 1]["id"] = rid
    report, _ = run(cfg, task, tmp_path)
    assert sorted(found(report)) == [
        UNANSWERED,
        (
            "orphan-attribute",
            f"checkworthy answer for region {rid!r}, which is {what}",
            10,
            rid,
            result_at(ci + 1),
        ),
    ]


def test_an_answer_with_other_offsets_than_its_claim(cfg: CorpusConfig, tmp_path: Path) -> None:
    task, res, ci = claim_task(cfg)
    s, e = res[ci]["value"]["start"], res[ci]["value"]["end"]
    res[ci + 2]["value"].update(start=s + 1, end=e + 1)
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == [
        (
            "attribute-offsets-mismatch",
            f"claimant_text answer has offsets {s + 1}-{e + 1}, its claim region {s}-{e}",
            10,
            "a0-claim",
            result_at(ci + 2),
        )
    ]


def test_an_answer_without_offsets_is_not_compared(cfg: CorpusConfig, tmp_path: Path) -> None:
    task, res, ci = claim_task(cfg)
    del res[ci + 2]["value"]["start"], res[ci + 2]["value"]["end"]
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == []


def test_an_answer_to_a_claim_that_failed_the_schema_is_not_reported_again(
    cfg: CorpusConfig, tmp_path: Path
) -> None:
    task, res, ci = claim_task(cfg)
    res[ci]["value"]["labels"] = "Claim"  # not a list: the schema's finding, nothing more
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == [
        (
            "wrong-type",
            f"/annotations/0/result/{ci}/value/labels: 'Claim' is not of type 'array'",
            10,
            "a0-claim",
            f"/0/annotations/0/result/{ci}/value/labels",
        )
    ]


# --- renderings -------------------------------------------------------------------------------

STATS = {"files": 2, "tasks": 1, "annotations": 1, "cancelled": 3, "drafts": 1}


def sample_report() -> Report:
    return Report(
        findings=[
            Finding(
                "unknown-label",
                "error",
                "label 'X' is not in the scheme",
                file="a.json",
                line=12,
                task_id=3,
                annotation_id=7,
                region_id="n1",
                pointer="/0/annotations/0/result/0",
                hint="add it to corpus.toml",
            ),
            Finding(
                "low-coverage",
                "warning",
                "50%: a, b\r\nnext",
                file="b,c:d%.json",
                task_id=0,
                annotation_id=0,
            ),
            Finding("drafts", "info", "note: café"),
        ],
        stats=STATS,
    )


def test_summary_counts_and_plurals() -> None:
    assert summary(sample_report()) == (
        "INVALID: 1 error, 1 warning in 2 files (1 task, 1 annotation, 3 cancelled, 1 draft)"
    )
    assert summary(Report()) == (
        "valid: 0 errors, 0 warnings in 0 files (0 tasks, 0 annotations, 0 cancelled, 0 drafts)"
    )
    two = Report(
        findings=[Finding("w", "warning", "m"), Finding("w", "warning", "m")],
        stats={"files": 1, "tasks": 2, "annotations": 2, "drafts": 2},
    )
    assert summary(two) == (
        "valid: 0 errors, 2 warnings in 1 file (2 tasks, 2 annotations, 0 cancelled, 2 drafts)"
    )


def test_location_names_what_is_known_including_zero() -> None:
    r = sample_report().findings
    assert [location(f) for f in r] == [
        "task 3 · annotation 7 · region n1",
        "task 0 · annotation 0",
        "",
    ]
    assert location(Finding("s", "error", "m", region_id="r")) == "region r"


def test_text_rendering() -> None:
    assert render_text(sample_report()) == (
        "a.json\n"
        "  error   unknown-label:12  task 3 · annotation 7 · region n1: label 'X' is not in the "
        "scheme\n"
        "          hint: add it to corpus.toml\n"
        "b,c:d%.json\n"
        "  warning low-coverage  task 0 · annotation 0: 50%: a, b\r\nnext\n"
        "(no file)\n"
        "  info    drafts  note: café\n"
        "INVALID: 1 error, 1 warning in 2 files (1 task, 1 annotation, 3 cancelled, 1 draft)\n"
    )
    assert [sev for sev, _ in text_lines(sample_report().findings)] == [
        None,
        "error",
        None,
        None,
        "warning",
        None,
        "info",
    ]


def test_github_rendering() -> None:
    assert render_github(sample_report()) == (
        "::error file=a.json,line=12,title=unknown-label::task 3 · annotation 7 · region n1: "
        "label 'X' is not in the scheme [/0/annotations/0/result/0]%0Ahint: add it to "
        "corpus.toml\n"
        "::warning file=b%2Cc%3Ad%25.json,title=low-coverage::task 0 · annotation 0: "
        "50%25: a, b%0D%0Anext\n"
        "::notice title=drafts::note: café\n"
        "INVALID: 1 error, 1 warning in 2 files (1 task, 1 annotation, 3 cancelled, 1 draft)\n"
    )


def test_junit_rendering() -> None:
    """One case per finding, named `file:line slug`, with file and line attributes."""
    xml = render_junit(sample_report())
    assert xml.startswith("<?xml version='1.0' encoding='") and xml.endswith("</testsuites>\n")
    root = ET.fromstring(xml.split("\n", 1)[1])
    assert (root.tag, root.attrib) == ("testsuites", {"name": "corpus validate"})
    (suite,) = root
    assert suite.attrib == {
        "name": "corpus validate",
        "tests": "3",
        "failures": "1",
        "errors": "0",
        "skipped": "0",
    }
    props, a, b, none, out = suite
    assert props.tag == "properties"
    assert [(p.tag, p.attrib) for p in props] == [
        ("property", {"name": k, "value": str(STATS[k])}) for k in sorted(STATS)
    ]
    assert a.attrib == {
        "classname": "corpus.validate",
        "name": "a.json:12 unknown-label",
        "file": "a.json",
        "line": "12",
    }
    assert b.attrib == {
        "classname": "corpus.validate",
        "name": "b,c:d%.json low-coverage",
        "file": "b,c:d%.json",
    }
    assert none.attrib == {"classname": "corpus.validate", "name": "(no file) drafts"}
    (failure,) = a
    assert (failure.tag, failure.attrib) == (
        "failure",
        {"type": "unknown-label", "message": "label 'X' is not in the scheme"},
    )
    assert failure.text == (
        "task 3 · annotation 7 · region n1: label 'X' is not in the scheme\n"
        "pointer: /0/annotations/0/result/0\nhint: add it to corpus.toml"
    )
    ((b_out,),) = [list(b)]
    assert (b_out.tag, b_out.text) == (
        "system-out",
        "warning: task 0 · annotation 0: 50%: a, b\nnext",  # XML reads CR LF as LF
    )
    ((none_out,),) = [list(none)]
    assert none_out.text == "info: note: café"
    assert (out.tag, out.text) == (
        "system-out",
        "INVALID: 1 error, 1 warning in 2 files (1 task, 1 annotation, 3 cancelled, 1 draft)",
    )


def test_junit_rendering_without_findings_has_one_passing_case() -> None:
    root = ET.fromstring(render_junit(Report(stats={"files": 0}), suite="s").split("\n", 1)[1])
    (suite,) = root
    assert suite.attrib == {
        "name": "s",
        "tests": "1",
        "failures": "0",
        "errors": "0",
        "skipped": "0",
    }
    props, case, out = suite
    assert [p.attrib for p in props] == [{"name": "files", "value": "0"}]
    assert (case.tag, case.attrib, list(case)) == (
        "testcase",
        {"classname": "s", "name": "all files"},
        [],
    )
    assert out.text == (
        "valid: 0 errors, 0 warnings in 0 files (0 tasks, 0 annotations, 0 cancelled, 0 drafts)"
    )


def test_junit_failures_one_per_error_and_clean_files_pass() -> None:
    report = Report(
        findings=[
            Finding("bad-json", "error", "not JSON", file="x.json", line=3),
            Finding("other", "error", "again", file="x.json", line=9),
            Finding("w1", "warning", "first", file="x.json"),
            Finding("w2", "info", "second", file="x.json", task_id=4),
        ]
    )
    xml = render_junit(report, suite="corpus check", files=["x.json", "y.json"])
    root = ET.fromstring(xml.split("\n", 1)[1])
    ((props, *cases, out),) = root
    assert (props.tag, list(props)) == ("properties", [])
    assert root[0].get("tests") == "5" and root[0].get("failures") == "2"
    assert [c.get("name") for c in cases] == [
        "x.json:3 bad-json",
        "x.json:9 other",
        "x.json w1",
        "x.json w2",
        "y.json",
    ]
    assert {c.get("classname") for c in cases} == {"corpus.check"}
    assert [[e.tag for e in c] for c in cases] == [
        ["failure"],
        ["failure"],
        ["system-out"],
        ["system-out"],
        [],
    ]
    assert cases[0][0].text == "not JSON"
    assert cases[3][0].text == "info: task 4: second"
    assert out.text is not None and out.text.startswith("INVALID: 2 errors")


def test_render_dispatches_on_the_format() -> None:
    report = sample_report()
    assert render(report, "text") == render_text(report)
    assert render(report, "github") == render_github(report)
    assert render(report, "junit") == render_junit(report)
    js = render(report, "json")
    assert js.startswith('{\n  "valid": false,\n  "stats": {\n    "annotations": 1,')
    assert "task 3 · annotation" not in js  # the report's fields, not the text lines
    assert js.endswith("}\n") and '"message": "note: café"' in js
    assert orjson.loads(js)["findings"][1]["message"] == "50%: a, b\r\nnext"


# --- located findings: the exact message, region and pointer ------------------------------------


def test_a_text_that_does_not_match_its_hash(cfg: CorpusConfig, tmp_path: Path) -> None:
    task = task_a(cfg)
    task["data"]["text"] = TEXT_A.replace("Kyiv", "Kiev")
    report, _ = run(cfg, task, tmp_path)
    assert (
        "text-hash-mismatch",
        "sha256 of data.text is not data.text_sha256",
        None,
        None,
        "/0/data/text",
    ) in found(report)


def test_personal_data_in_completed_by_names_the_keys(cfg: CorpusConfig, tmp_path: Path) -> None:
    task = task_a(cfg)
    task["annotations"][1]["completed_by"] = {
        "id": 5,
        "email": "a@b.org",
        "first_name": "",
        "username": "ann",
    }
    report, _ = run(cfg, task, tmp_path)
    assert [x for x in found(report) if x[0] == "personal-data"] == [
        (
            "personal-data",
            "completed_by carries the annotator's email, username",
            11,
            None,
            "/0/annotations/1/completed_by",
        )
    ]


def test_two_regions_with_one_id(cfg: CorpusConfig, tmp_path: Path) -> None:
    task, res, _ = claim_task(cfg)
    ri = next(i for i, r in enumerate(res) if r.get("id") == "a0-kyiv")
    res[ri]["id"] = "a0-nato"
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == [
        (
            "duplicate-region-id",
            "region id 'a0-nato' is used by two regions",
            10,
            "a0-nato",
            f"/0/annotations/0/result/{ri}/id",
        )
    ]


def test_a_relation_to_a_missing_region(cfg: CorpusConfig, tmp_path: Path) -> None:
    task, res, _ = claim_task(cfg)
    ri = next(i for i, r in enumerate(res) if r["type"] == "relation")
    res[ri]["from_id"], res[ri]["to_id"] = "gone", "also-gone"
    report, _ = run(cfg, task, tmp_path)
    assert found(report) == [
        (
            "relation-missing-region",
            "relation 'gone' -> 'also-gone' names missing region(s) 'gone', 'also-gone'",
            10,
            "gone",
            result_at(ri),
        )
    ]
