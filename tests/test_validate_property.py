"""Property tests: mutate real exports (pulled from a real Label Studio into the sample
corpus) and check that validation never lets a traceback escape and reports every mutation
that breaks a rule, against independent oracles: the reference `jsonschema` validator for
structure, and plain `text[start:end]` arithmetic for offsets.

The runs are deterministic (`derandomize`: the same examples every run, so a planted bug is
caught every time or never, not in 3 runs of 9), with explicit `@example`s for the edges
(an empty span, a span one past the text). CORPUS_HYPOTHESIS_EXAMPLES raises the count and
CORPUS_HYPOTHESIS_RANDOM=1 draws fresh examples, for a longer hunt."""

from __future__ import annotations

import copy
import functools
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from corpus_tools.config import CorpusConfig, load_config
from corpus_tools.exports import parse_task
from corpus_tools.jsonschemas import task_schema
from corpus_tools.model import Report
from corpus_tools.store import sha256_text
from corpus_tools.validate import validate
from corpus_tools.validate.slugs import pointer
from corpus_tools.validate.structure import StructureChecker

REPO = Path(__file__).resolve().parent.parent
PULLED = REPO / "annotations" / "geonews-annotation" / "tasks"
# Raise CORPUS_HYPOTHESIS_EXAMPLES for a longer hunt (the suite keeps it small).
EXAMPLES = int(os.environ.get("CORPUS_HYPOTHESIS_EXAMPLES", "40"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("CORPUS_HYPOTHESIS_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@functools.cache
def _config() -> CorpusConfig:
    return load_config(REPO / "corpus.toml")


@functools.cache
def _tasks() -> tuple[dict[str, Any], ...]:
    files = sorted(PULLED.glob("*.json"))[:4]
    assert files, "the sample corpus's pulled annotations are committed"
    return tuple(orjson.loads(f.read_bytes()) for f in files)


def _articles() -> dict[str, str]:
    return {t["data"]["article_id"]: sha256_text(t["data"]["text"]) for t in _tasks()}


def _validate(tasks: list[Any] | bytes, name: str = "export.json") -> Report:
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / name
        f.write_bytes(tasks if isinstance(tasks, bytes) else orjson.dumps(tasks))
        return validate(config=_config(), paths=[f], articles=_articles())


def test_unmutated_real_exports_are_valid() -> None:
    report = _validate(list(_tasks()))
    assert report.findings == []
    assert report.stats["tasks"] == len(_tasks())


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into the task (not into the article text), parents before children."""
    if path:
        yield path
    if path[:1] == ("data",) and len(path) >= 2:
        return  # data's own fields, not into the article text
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _leaves(v, (*path, i))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        node = node[p]
    return node


@functools.cache
def _reference() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(task_schema(_config()))


@functools.cache
def _checker() -> StructureChecker:
    return StructureChecker(_config())


def _reference_pointers(task: dict[str, Any]) -> set[str]:
    validator = _reference()
    return {pointer(*e.absolute_path) for e in validator.iter_errors(task)}


_OTHER_TYPE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.lists(st.integers(-(2**63), 2**63 - 1), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(-(2**63), 2**63 - 1), max_size=2),
)


@SETTINGS
@given(data=st.data(), which=st.integers(0, 3), delete=st.booleans())
def test_structural_mutations_reported_like_the_reference(
    data: st.DataObject, which: int, delete: bool
) -> None:
    """Delete a key or change a value's type anywhere: whatever the reference validator
    finds, validation reports at the same JSON pointer; and no traceback escapes."""
    tasks = [copy.deepcopy(t) for t in _tasks()]
    task = tasks[which % len(tasks)]
    paths = list(_leaves(task))
    path = data.draw(st.sampled_from(paths))
    parent = _get(task, path[:-1])
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(_OTHER_TYPE)
    expected = _reference_pointers(task)
    # The reference run on the failing parts only gives exactly the errors of a whole run.
    whole = sorted((pointer(*e.absolute_path), e.message) for e in _reference().iter_errors(task))
    parts = sorted((pointer(*p), e.message) for p, e in _checker().errors(task))
    assert parts == whole
    report = _validate(tasks)
    index = tasks.index(task)
    got = {f.pointer for f in report.findings if f.severity == "error"}
    for ptr in expected:
        assert f"/{index}{ptr}" in got, (ptr, report.findings)
    if expected:
        assert not report.valid


def _span_results(task: dict[str, Any]) -> list[tuple[int, int]]:
    return [
        (ai, ri)
        for ai, ann in enumerate(task["annotations"])
        for ri, r in enumerate(ann["result"])
        if isinstance(r.get("value"), dict) and "start" in r["value"]
    ]


def _quirk(s: str) -> str:
    return s.replace("\r", "\\n").replace("\n", "\\n")


# How a region's offsets are moved: anywhere; onto one point (an empty span); to end one
# past the text; by a few code points; to the text's very end (still valid).
KINDS = ("anywhere", "empty", "one-past", "shift", "to-end")


@settings(SETTINGS, max_examples=max(EXAMPLES, 150))
@given(
    which=st.integers(0, 3),
    pick=st.integers(0, 10_000),
    kind=st.sampled_from(KINDS),
    a=st.integers(0, 100_000),
    b=st.integers(0, 100_000),
    rewrite_text=st.booleans(),
)
@example(which=0, pick=0, kind="one-past", a=0, b=0, rewrite_text=True)
@example(which=1, pick=3, kind="one-past", a=5, b=0, rewrite_text=True)
@example(which=0, pick=0, kind="empty", a=0, b=0, rewrite_text=True)
@example(which=2, pick=1, kind="empty", a=7, b=0, rewrite_text=False)
@example(which=3, pick=2, kind="to-end", a=0, b=0, rewrite_text=True)
def test_offset_mutations_are_reported(
    which: int, pick: int, kind: str, a: int, b: int, rewrite_text: bool
) -> None:
    """Move a region's offsets: a span no longer matching its text is reported at that
    region (out of bounds, inverted, mismatch or UTF-16), never silently passed; a span that
    still matches is not. With `rewrite_text`, value.text is rewritten to what the new
    offsets select (as a client that trusts them would), so only the bounds can catch it."""
    tasks = [copy.deepcopy(t) for t in _tasks()]
    task = tasks[which % len(tasks)]
    spans = _span_results(task)
    ai, ri = spans[pick % len(spans)]
    value = task["annotations"][ai]["result"][ri]["value"]
    text = task["data"]["text"]
    n = len(text)
    s0, e0 = value["start"], value["end"]
    if kind == "anywhere":
        s, e = a % (n + 9) - 3, b % (n + 9) - 3
    elif kind == "empty":
        s = e = a % (n + 1)
    elif kind == "one-past":
        s, e = min(s0, n - 1 - a % 3), n + 1
    elif kind == "shift":
        d = a % 7 - 3
        s, e = s0 + d, e0 + d
    else:
        s, e = s0, n
    value["start"], value["end"] = s, e
    if rewrite_text and isinstance(value.get("text"), str) and s >= 0:
        value["text"] = _quirk(text[s:e])
    hint = value.get("text")
    broken = (
        s < 0
        or e < 0
        or s >= e
        or e > n
        or (isinstance(hint, str) and hint not in (text[s:e], _quirk(text[s:e])))
    )
    report = _validate(tasks)
    index = tasks.index(task)
    at = f"/{index}/annotations/{ai}/result/{ri}"
    here = [f for f in report.findings if f.pointer and f.pointer.startswith(at)]
    offset_slugs = {"span-out-of-bounds", "span-inverted", "text-mismatch", "utf16-offsets"}
    if broken:
        assert {f.slug for f in here} & offset_slugs, (s, e, n, report.findings)
        assert not report.valid
    else:
        assert not {f.slug for f in here} & offset_slugs


@SETTINGS
@given(data=st.data(), label=st.text(min_size=1, max_size=12))
def test_label_mutations_are_reported(data: st.DataObject, label: str) -> None:
    tasks = [copy.deepcopy(t) for t in _tasks()]
    task = tasks[0]
    labelled = [
        (ai, ri)
        for ai, ann in enumerate(task["annotations"])
        for ri, r in enumerate(ann["result"])
        if r.get("from_name") == "entities"
    ]
    ai, ri = data.draw(st.sampled_from(labelled))
    task["annotations"][ai]["result"][ri]["value"]["labels"] = [label]
    report = _validate(tasks)
    ptr = f"/0/annotations/{ai}/result/{ri}/value/labels/0"
    hits = [f.slug for f in report.findings if f.pointer == ptr]
    if label in _config().scheme.entity_labels:
        assert hits == []
    else:
        assert hits == ["unknown-label"]


@SETTINGS
@given(data=st.data(), junk=st.binary(max_size=30))
def test_byte_level_damage_never_escapes(data: st.DataObject, junk: bytes) -> None:
    """Truncate or splice bytes into a real export: findings, never a traceback; a file
    that is no longer JSON is reported as such."""
    raw = json.dumps(list(_tasks()), indent=2, ensure_ascii=False).encode()
    cut = data.draw(st.integers(0, len(raw)))
    mode = data.draw(st.sampled_from(["truncate", "splice", "replace"]))
    if mode == "truncate":
        damaged = raw[:cut]
    elif mode == "splice":
        damaged = raw[:cut] + junk + raw[cut:]
    else:
        damaged = raw[:cut] + junk + raw[cut + len(junk) :]
    name = data.draw(st.sampled_from(["x.json", "x.jsonl"]))
    report = _validate(damaged, name)
    try:
        text = damaged.decode("utf-8-sig")
        if name.endswith(".jsonl"):  # one value per non-blank line
            for line in text.split("\n"):
                if line.strip(" \t\r\n"):
                    json.loads(line)
        else:
            json.loads(text)
        still_json = True
    except (UnicodeDecodeError, json.JSONDecodeError):
        still_json = False
    if not still_json:
        assert not report.valid
        assert report.findings


@SETTINGS
@given(data=st.data(), which=st.integers(0, 3))
def test_deleted_results_are_reported_exactly(data: st.DataObject, which: int) -> None:
    """Delete one result of a real annotation: the findings on that annotation are exactly
    the rules the deletion breaks (a stance left unanswered, a claim's answers or relation
    left without their region, a claim left without check-worthiness), and nothing else."""
    tasks = [copy.deepcopy(t) for t in _tasks()]
    index = which % len(tasks)
    task = tasks[index]
    ai = data.draw(st.integers(0, len(task["annotations"]) - 1))
    results = task["annotations"][ai]["result"]
    ri = data.draw(st.integers(0, len(results) - 1))
    gone = results.pop(ri)
    rid, name = gone.get("id"), gone.get("from_name")
    expected: set[str] = set()
    if gone["type"] == "choices" and name.startswith("stance_"):
        expected.add("stance-missing")
    elif gone["type"] == "labels":
        if any(r.get("id") == rid and r["type"] != "labels" for r in results):
            expected.add("orphan-attribute")
        if any(rid in (r.get("from_id"), r.get("to_id")) for r in results):
            expected.add("relation-missing-region")
    elif name == "checkworthy":
        expected.add("claim-without-checkworthy")
    report = _validate(tasks)
    at = f"/{index}/annotations/{ai}/"
    got = {f.slug for f in report.findings if (f.pointer or "").startswith(at)}
    assert got == expected, (gone, report.findings)


@SETTINGS
@given(data=st.data(), which=st.integers(0, 3), delete=st.booleans())
def test_a_broken_result_does_not_hide_its_siblings(
    data: st.DataObject, which: int, delete: bool
) -> None:
    """One result of an annotation breaks the schema (a key deleted or a value of another
    type anywhere in it); a sibling span whose value.text no longer matches its offsets is
    still reported in the same run."""
    tasks = [copy.deepcopy(t) for t in _tasks()]
    index = which % len(tasks)
    task = tasks[index]
    labelled = [
        (ai, ri)
        for ai, ann in enumerate(task["annotations"])
        for ri, r in enumerate(ann["result"])
        if r["type"] == "labels"
    ]
    ai, ri = data.draw(st.sampled_from(labelled))
    results = task["annotations"][ai]["result"]
    results[ri]["value"]["text"] += "x"  # the semantic problem
    other = data.draw(st.sampled_from([j for j in range(len(results)) if j != ri]))
    paths = list(_leaves(results[other]))
    path = data.draw(st.sampled_from(paths))
    parent = _get(results[other], path[:-1])
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(_OTHER_TYPE)
    report = _validate(tasks)
    at = f"/{index}/annotations/{ai}/result/{ri}/value"
    assert "text-mismatch" in [f.slug for f in report.findings if f.pointer == at], (
        path,
        report.findings,
    )


_DUP = "__dup__"


@SETTINGS
@given(
    data=st.data(),
    which=st.integers(0, 3),
    layout=st.sampled_from(["compact", "indent", "ascii"]),
    other=_OTHER_TYPE,
)
def test_duplicate_keys_are_found_wherever_they_are(
    data: st.DataObject, which: int, layout: str, other: Any
) -> None:
    """A key written twice in any object of a real task (a value of any type first, the real
    one after it) is one duplicate-key finding at that object, whatever the layout; the task
    is otherwise unchanged, so nothing else is reported."""
    tasks = [copy.deepcopy(t) for t in _tasks()]
    index = which % len(tasks)
    task = tasks[index]
    objects = [()] + [p for p in _leaves(task) if isinstance(_get(task, p), dict)]
    path = data.draw(st.sampled_from(objects))
    node = _get(task, path)
    key = data.draw(st.sampled_from(sorted(node)))
    marked = {_DUP: _DUP, **node}
    if path:
        _get(task, path[:-1])[path[-1]] = marked
    else:
        tasks[index] = marked
    if layout == "compact":
        raw = orjson.dumps(tasks).decode()
        shown = orjson.dumps(other).decode()
    else:
        raw = json.dumps(tasks, indent=2, ensure_ascii=layout == "ascii")
        shown = json.dumps(other, ensure_ascii=layout == "ascii")
    raw = raw.replace(f'"{_DUP}":"{_DUP}"', f'"{_DUP}": "{_DUP}"').replace(
        f'"{_DUP}": "{_DUP}"', f"{json.dumps(key)}: {shown}"
    )
    report = _validate(raw.encode())
    dups = [f for f in report.findings if f.slug == "duplicate-key"]
    assert [f.pointer for f in dups] == [f"/{index}{pointer(*path)}"], report.findings
    assert repr(key) in dups[0].message
    assert report.findings == dups, report.findings


@SETTINGS
@given(data=st.data(), which=st.integers(0, 3), empty=st.booleans())
def test_results_without_ids_validation_and_parse_task_agree(
    data: st.DataObject, which: int, empty: bool
) -> None:
    """Take the ids off any results of a real annotation (as an API client writes them):
    validation and parse_task read the task alike. Every span is kept; a per-region answer
    without an id is an orphan-attribute finding and reaches no claim; a claim is reported
    without check-worthiness exactly when parse_task gives it none."""
    tasks = [copy.deepcopy(t) for t in _tasks()]
    index = which % len(tasks)
    task = tasks[index]
    ai = data.draw(st.integers(0, len(task["annotations"]) - 1))
    results = task["annotations"][ai]["result"]
    with_ids = [ri for ri, r in enumerate(results) if r.get("id")]
    gone = set(data.draw(st.lists(st.sampled_from(with_ids), unique=True)))
    for ri in gone:
        if empty:
            results[ri]["id"] = ""
        else:
            del results[ri]["id"]
    report = _validate(tasks)
    at = f"/{index}/annotations/{ai}/"
    mine = [f for f in report.findings if (f.pointer or "").startswith(at)]
    (rec,) = [
        r
        for r in parse_task(task, _config().scheme)
        if r.source.annotation_id == task["annotations"][ai]["id"]
    ]
    entities = [r for r in results if r.get("from_name") == "entities"]
    claims = [r for r in results if r.get("from_name") == "claim"]
    assert len(rec.entities) == len(entities)
    assert len(rec.claims) == len(claims)
    orphans = {f.pointer for f in mine if f.slug == "orphan-attribute" and f.region_id is None}
    for ri in gone:
        if results[ri]["type"] in ("choices", "textarea"):
            assert f"{at}result/{ri}" in orphans, mine
    unanswered = sum(f.slug == "claim-without-checkworthy" for f in mine)
    assert unanswered == sum(c.checkworthy is None for c in rec.claims), (mine, rec.claims)
