"""`corpus model uptake`: suggestions accepted, edited or deleted by annotators.

Unit tests of the classifier on hand-built Label Studio results (emoji, CRLF, choices, label-
versus boundary-only edits, one-to-one matching, which prediction an annotation started
from, gold verdicts), a property test against an independent count of exact matches, and a
live test: a real Label Studio 1.23.2 project with two suggesting models, annotations by two
annotators that accept, edit and delete planted suggestions through the API, `corpus ls
pull`, then `corpus model uptake` reports exactly what was planted.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun
from hypothesis import given, settings
from hypothesis import strategies as st
from ls_regions import locate

from corpus_tools import labeling_config, store
from corpus_tools import labelstudio as lslib
from corpus_tools import tasks as taskslib
from corpus_tools.adjudicate.gold import write_gold
from corpus_tools.config import load_config
from corpus_tools.model import (
    Article,
    Claim,
    Decision,
    EntitySpan,
    GoldClaim,
    GoldEntity,
    GoldRecord,
    GoldStance,
    PredictedSpan,
    StanceJudgement,
)
from corpus_tools.models import uptake as up
from corpus_tools.models.data import GoldArticle

EMOJI_TEXT = (
    "😀 Breaking 𝔸: NATO spokesman Jens Stoltenberg said Russia moved drones.\r\n"
    "People briefed on the matter said Iran sold drones to Russia last week.\r\n"
    "Cafe\u0301 owners in Tehran were not surprised."
)
CRLF_TEXT = (
    "Washington and Tehran talked in Qatar.\r\n"
    "The NATO chief Jens\r\nStoltenberg said the US wants Iran to stop.\r\n"
)
PSEUDONYM_KEY = "uptake-test-pseudonym-key"


# --- building Label Studio results -------------------------------------------------------------


def ent(
    rid: str,
    text: str,
    needle: str,
    label: str,
    *,
    nth: int = 0,
    origin: str = "prediction",
    shift: tuple[int, int] = (0, 0),
) -> dict[str, Any]:
    """An entity region on `needle` (its `nth` occurrence), boundaries moved by `shift`;
    `value.text` as the UI writes it (line breaks as backslash-n)."""
    start, end = locate(text, needle, nth)
    start, end = start + shift[0], end + shift[1]
    shown = text[start:end].replace("\r", "\\n").replace("\n", "\\n")
    return {
        "id": rid,
        "from_name": "entities",
        "to_name": "text",
        "type": "labels",
        "origin": origin,
        "value": {"start": start, "end": end, "text": shown, "labels": [label]},
    }


def stance(rid: str, target: str, choice: str, *, origin: str = "prediction") -> dict[str, Any]:
    return {
        "id": rid,
        "from_name": f"stance_{target}",
        "to_name": "text",
        "type": "choices",
        "origin": origin,
        "value": {"choices": [choice]},
    }


def claim(
    rid: str, text: str, needle: str, checkworthy: str | None, *, origin: str = "prediction"
) -> list[dict[str, Any]]:
    """A claim region and its per-region check-worthiness (sharing the region id)."""
    start, end = locate(text, needle)
    pos = {"start": start, "end": end, "text": needle}
    out: list[dict[str, Any]] = [
        {
            "id": rid,
            "from_name": "claim",
            "to_name": "text",
            "type": "labels",
            "origin": origin,
            "value": {**pos, "labels": ["Claim"]},
        }
    ]
    if checkworthy is not None:
        out.append(
            {
                "id": rid,
                "from_name": "checkworthy",
                "to_name": "text",
                "type": "choices",
                "origin": origin,
                "value": {**pos, "choices": [checkworthy]},
            }
        )
    return out


def outcomes(matches: list[up.Match]) -> list[tuple[str, str, str | None]]:
    """(outcome, label of the predicted or added unit, edit) per match."""
    return [(m.outcome, m.region.label, m.edit) for m in matches]


# --- the classifier ----------------------------------------------------------------------------


def test_emoji_and_crlf_offsets_are_compared_as_stored_code_points() -> None:
    t = EMOJI_TEXT
    nato = ent("p1", t, "NATO", "ORG")
    assert nato["value"]["start"] == 14  # after 😀 and 𝔸: code points, not UTF-16's 16
    cafe = ent("p2", t, "Cafe\u0301", "NORP")
    predicted = up.regions([nato, cafe], model_version="m")
    # The annotator kept NATO; an old client wrote Café in UTF-16 units (one more before it
    # for each of 😀 and 𝔸): a different region, so an edit of its boundaries.
    utf16 = ent("a2", t, "Cafe\u0301", "NORP", shift=(2, 2), origin="prediction-changed")
    annotated = up.regions([ent("a1", t, "NATO", "ORG"), utf16])
    got = up.classify(predicted, annotated)
    assert outcomes(got) == [("accepted", "ORG", None), ("edited", "NORP", "boundary")]

    c = CRLF_TEXT
    jens = ent("p1", c, "Jens\r\nStoltenberg", "PER")
    assert jens["value"]["text"] == "Jens\\n\\nStoltenberg"  # the UI's newline quirk
    exact = dict(jens, value={**jens["value"], "text": "Jens\r\nStoltenberg"})
    got = up.classify(up.regions([exact]), up.regions([jens]))  # value.text is not compared
    assert outcomes(got) == [("accepted", "PER", None)]
    # "\r\n" is two code points: a region ending at "\r" is an edit of the boundary.
    short = ent("a1", c, "Jens\r\nStoltenberg", "PER", shift=(0, -12))
    assert c[short["value"]["start"] : short["value"]["end"]] == "Jens\r"
    got = up.classify(up.regions([exact]), up.regions([short]))
    assert outcomes(got) == [("edited", "PER", "boundary")]


@pytest.mark.parametrize(
    ("annotated", "expected"),
    [
        (ent("a", EMOJI_TEXT, "Jens Stoltenberg", "ORG"), ("edited", "PER", "label")),
        (
            ent("a", EMOJI_TEXT, "Jens Stoltenberg", "PER", shift=(5, 0)),
            ("edited", "PER", "boundary"),
        ),
        (
            ent("a", EMOJI_TEXT, "Jens Stoltenberg", "ORG", shift=(0, 5)),
            ("edited", "PER", "boundary+label"),
        ),
        (ent("a", EMOJI_TEXT, "Jens Stoltenberg", "PER"), ("accepted", "PER", None)),
        (ent("a", EMOJI_TEXT, "Russia", "PER"), ("deleted", "PER", None)),
    ],
    ids=["label-only", "boundary-only", "both", "unchanged", "elsewhere"],
)
def test_label_only_and_boundary_only_edits(
    annotated: dict[str, Any], expected: tuple[str, str, str | None]
) -> None:
    predicted = up.regions([ent("p", EMOJI_TEXT, "Jens Stoltenberg", "PER")], model_version="m")
    got = up.classify(predicted, up.regions([annotated]))
    assert outcomes(got)[0] == expected
    if expected[0] == "deleted":  # the region elsewhere is the annotator's own
        assert outcomes(got)[1:] == [("added", "PER", None)]


def test_choices_results_stance_and_checkworthiness() -> None:
    t = EMOJI_TEXT
    predicted = up.regions(
        [
            stance("s1", "iran", "against"),
            stance("s2", "russia", "against"),
            stance("s3", "united_states", "neutral"),
            *claim("c1", t, "Iran sold drones to Russia", "check-worthy"),
            *claim("c2", t, "Russia moved drones", "check-worthy"),
            *claim("c3", t, "Tehran were not surprised", None),
        ],
        model_version="m",
    )
    assert [(r.layer, r.control, r.label) for r in predicted] == [
        ("stance", "stance_iran", "against"),
        ("stance", "stance_russia", "against"),
        ("stance", "stance_united_states", "neutral"),
        ("claims", "claim", "check-worthy"),
        ("claims", "claim", "check-worthy"),
        ("claims", "claim", "Claim"),  # no check-worthiness suggested: the claim label
    ]
    annotated = up.regions(
        [
            # the answers come first here: order in the result does not matter
            *claim("x1", t, "Iran sold drones to Russia", "check-worthy", origin="prediction"),
            *claim("x2", t, "Russia moved drones", "not check-worthy", origin="manual"),
            stance("y1", "iran", "against"),
            stance("y2", "russia", "neutral"),
            stance("y4", "nato", "favor", origin="manual"),  # a target nothing suggested
        ]
    )
    got = up.classify(predicted, annotated)
    assert outcomes(got) == [
        ("accepted", "against", None),
        ("edited", "against", "label"),
        ("deleted", "neutral", None),
        ("accepted", "check-worthy", None),
        ("edited", "check-worthy", "label"),
        ("deleted", "Claim", None),
        ("added", "favor", None),
    ]
    assert got[1].annotated is not None and got[1].annotated.label == "neutral"


def test_matching_is_one_to_one_and_prefers_the_same_region_id() -> None:
    t = EMOJI_TEXT
    # One suggestion split by the annotator into two: one edit, one addition.
    predicted = up.regions([ent("p", t, "Jens Stoltenberg", "PER")])
    split = [
        ent("a1", t, "Jens", "PER", origin="prediction-changed"),
        ent("a2", t, "Stoltenberg", "PER", origin="manual"),
    ]
    got = up.classify(predicted, up.regions(split))
    # The larger overlap (11 code points against 4) is the edit.
    assert [(m.outcome, m.annotated and m.annotated.region_id) for m in got] == [
        ("edited", "a2"),
        ("added", "a1"),
    ]
    # With the suggestion's own region id kept by the editor, that region is its edit.
    kept = [dict(split[0], id="p"), split[1]]
    got = up.classify(predicted, up.regions(kept))
    assert [(m.outcome, m.annotated and m.annotated.region_id) for m in got] == [
        ("edited", "p"),
        ("added", "a2"),
    ]
    # Two suggestions on one span (two labels), the annotator kept one: one accepted, and
    # the other has nothing left to match (deleted), not a second use of the same region.
    predicted = up.regions([ent("p1", t, "NATO", "ORG"), ent("p2", t, "NATO", "GPE")])
    got = up.classify(predicted, up.regions([ent("a", t, "NATO", "GPE")]))
    assert outcomes(got) == [("deleted", "ORG", None), ("accepted", "GPE", None)]
    # Controls never match across: a claim on an entity's span is added, the entity deleted.
    predicted = up.regions([ent("p", t, "Russia moved drones", "EVENT")])
    got = up.classify(predicted, up.regions(claim("c", t, "Russia moved drones", None)))
    assert outcomes(got) == [("deleted", "EVENT", None), ("added", "Claim", None)]


def test_unreadable_regions_are_named() -> None:
    bad = ent("r7", EMOJI_TEXT, "NATO", "ORG")
    bad["value"]["start"] = 14.0
    with pytest.raises(ValueError, match=r"region r7 of entities: value.start is 14.0"):
        up.regions([bad])
    empty = stance("s", "iran", "against")
    empty["value"]["choices"] = []
    with pytest.raises(ValueError, match="region s of stance_iran"):
        up.regions([empty])


unit_keys = st.tuples(
    st.sampled_from(["entities", "stance_iran"]),
    st.integers(0, 6),
    st.integers(1, 4),
    st.sampled_from(["A", "B"]),
)


def _unit(key: tuple[str, int, int, str], rid: str) -> dict[str, Any]:
    control, start, length, label = key
    if control.startswith("stance_"):
        return {"id": rid, "from_name": control, "type": "choices", "value": {"choices": [label]}}
    value = {"start": start, "end": start + length, "labels": [label]}
    return {"id": rid, "from_name": control, "type": "labels", "value": value}


@settings(max_examples=300, deadline=None)
@given(st.lists(unit_keys, max_size=8), st.lists(unit_keys, max_size=8))
def test_counts_add_up_and_exact_matches_are_maximal(
    pred_keys: list[tuple[str, int, int, str]], ann_keys: list[tuple[str, int, int, str]]
) -> None:
    predicted = up.regions([_unit(k, f"p{i}") for i, k in enumerate(pred_keys)])
    annotated = up.regions([_unit(k, f"a{i}") for i, k in enumerate(ann_keys)])
    got = up.classify(predicted, annotated)
    n = Counter(m.outcome for m in got)
    assert n["accepted"] + n["edited"] + n["deleted"] == len(predicted)
    assert n["accepted"] + n["edited"] + n["added"] == len(annotated)

    # Independent count: the most one-to-one exact pairs there can be.
    def key(k: tuple[str, int, int, str]) -> tuple[Any, ...]:
        return k if not k[0].startswith("stance_") else (k[0], k[3])

    p, a = Counter(map(key, pred_keys)), Counter(map(key, ann_keys))
    assert n["accepted"] == sum(min(c, a[k]) for k, c in p.items())
    used = [m.annotated for m in got if m.annotated is not None and m.predicted is not None]
    assert len({id(r) for r in used}) == len(used)  # no annotated unit used twice
    for m in got:
        if m.outcome == "edited":
            assert m.predicted is not None and m.annotated is not None
            assert m.predicted.control == m.annotated.control
            assert up._overlap(m.predicted, m.annotated) is not None
        if m.outcome == "deleted":  # nothing free of its control overlaps it
            assert m.predicted is not None
            free = [
                r
                for r in annotated
                if all(r is not x.annotated for x in got if x.predicted is not None)
            ]
            assert not [
                r
                for r in free
                if r.control == m.predicted.control and up._overlap(m.predicted, r) is not None
            ]
    # The same inputs give the same matches.
    assert up.classify(predicted, annotated) == got


# --- which prediction ------------------------------------------------------------------------


def _preds() -> list[dict[str, Any]]:
    t = CRLF_TEXT
    return [
        {
            "id": 7,
            "model_version": "model-a",
            "score": 0.5,
            "result": [ent("w", t, "Washington", "GPE"), ent("q", t, "Qatar", "GPE")],
        },
        {
            "id": 9,
            "model_version": "model-b",
            "score": 0.4,
            "result": [ent("w", t, "Washington", "GPE"), ent("n", t, "NATO", "ORG")],
        },
    ]


def test_which_prediction_an_annotation_started_from() -> None:
    preds = _preds()
    washington = ent("w", CRLF_TEXT, "Washington", "GPE")
    basis, units, version = up.started_from({"parent_prediction": 9, "result": []}, preds)
    assert (basis, version, [u.label for u in units]) == ("parent", "model-b", ["GPE", "ORG"])
    assert {u.model_version for u in units} == {"model-b"}
    # No parent: the union of the task's predictions, an identical unit once (first id).
    basis, units, version = up.started_from({"result": [washington]}, list(reversed(preds)))
    assert (basis, version) == ("task", "model-a+model-b")
    assert [(u.label, u.model_version) for u in units] == [
        ("GPE", "model-a"),
        ("GPE", "model-a"),
        ("ORG", "model-b"),
    ]
    manual = dict(washington, origin="manual")
    assert up.started_from({"result": [manual]}, preds)[0] == "no_trace"
    copied = {"parent_annotation": 3, "result": [washington]}
    assert up.started_from(copied, preds)[0] == "from_annotation"
    assert up.started_from({"parent_prediction": 8, "result": []}, preds)[0] == "missing_parent"
    assert up.started_from({"parent_prediction": 7, "result": []}, [7, 9])[0] == "ids_only"
    assert up.started_from({"result": [washington]}, [])[0] == "no_predictions"


def test_uptake_over_a_folder_ids_only_and_cancelled(tmp_path: Path) -> None:
    t = CRLF_TEXT
    data = {"article_id": "b-crlf", "text": t, "text_sha256": store.sha256_text(t)}
    ann = {
        "id": 1,
        "completed_by": "ann-0000000001",
        "parent_prediction": 7,
        "result": [ent("x", t, "Washington", "LOC", origin="prediction-changed")],
    }
    task = {
        "id": 1,
        "data": data,
        "predictions": _preds(),
        "annotations": [
            ann,
            {"id": 2, "completed_by": "ann-0000000002", "was_cancelled": True, "result": []},
        ],
    }
    old = {**task, "id": 2, "predictions": [7, 9], "annotations": [dict(ann, id=3)]}
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks/b.json").write_text(json.dumps(task), encoding="utf-8")
    (tmp_path / "tasks/old.json").write_text(json.dumps(old), encoding="utf-8")
    calls: list[tuple[int, int]] = []
    d = up.uptake([tmp_path], progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 2), (1, 2), (2, 2)]
    assert d["annotations"] == {
        "measured": 1,
        "parent": 1,
        "task": 0,
        "no_trace": 0,
        "from_annotation": 0,
        "ids_only": 1,
        "missing_parent": 0,
        "no_predictions": 0,
        "cancelled": 1,
    }
    o = d["overall"]
    assert (o["predicted"], o["accepted"], o["edited"], o["deleted"], o["added"]) == (2, 0, 1, 1, 0)
    assert (o["edited_rate"], o["deleted_rate"], o["accepted_rate"]) == (0.5, 0.5, 0.0)
    assert o["origins"] == {"edited:prediction-changed": 1}
    assert d["label_changes"] == [{"layer": "entities", "from": "GPE", "to": "LOC", "count": 1}]
    assert [r["annotator"] for r in d["by_annotator"]] == ["ann-0000000001"]
    assert "pull again" in d["notes"][0]


# --- anchoring against gold -------------------------------------------------------------------


def test_anchoring_against_gold_leaves_open_items_out() -> None:
    t = EMOJI_TEXT
    article = Article(
        article_id="a",
        source="a.txt",
        outlet=None,
        url=None,
        title=None,
        published=None,
        language="en",
        text=t,
        text_sha256=store.sha256_text(t),
    )

    def span(needle: str, label: str) -> EntitySpan:
        s, e = locate(t, needle)
        return EntitySpan(s, e, label, needle)

    cs, ce = locate(t, "Russia moved drones")
    ds, de = locate(t, "Iran sold drones to Russia")
    gold = GoldArticle(
        article=article,
        entities=(span("NATO", "ORG"), span("Jens Stoltenberg", "PER")),
        stances=(StanceJudgement("iran", "against"),),
        claims=(
            Claim(cs, ce, "Russia moved drones", "check-worthy", None),
            Claim(ds, de, "Iran sold drones to Russia", None, None),
        ),
        missing_entities=(locate(t, "Tehran"),),
        missing_stances=("russia",),
    )
    preds = [
        {
            "id": 1,
            "model_version": "m",
            "result": [
                ent("p1", t, "NATO", "ORG"),  # right, accepted
                ent("p2", t, "Jens Stoltenberg", "ORG"),  # wrong, accepted
                ent("p3", t, "Iran", "GPE"),  # wrong (not in gold), deleted
                ent("p4", t, "Tehran", "GPE"),  # open in gold: no verdict, accepted
                stance("s1", "iran", "favor"),  # wrong, accepted
                stance("s2", "russia", "against"),  # open: no verdict
                stance("s3", "united_states", "neutral"),  # not in gold: no verdict
                *claim("c1", t, "Russia moved drones", "not check-worthy"),  # wrong, edited
                # gold has the claim but no check-worthiness: no verdict; deleted
                *claim("c2", t, "Iran sold drones to Russia", "check-worthy"),
                *claim("c3", t, "Tehran were not surprised", None),  # wrong, deleted
                *claim("c5", t, "Iran sold drones to Russia", None),  # the span: right, deleted
            ],
        }
    ]
    result = [
        ent("a1", t, "NATO", "ORG"),
        ent("a2", t, "Jens Stoltenberg", "ORG"),
        ent("a4", t, "Tehran", "GPE"),
        stance("y1", "iran", "favor"),
        *claim("c1", t, "Russia moved drones", "check-worthy"),
    ]
    task = {
        "id": 1,
        "data": {"article_id": "a", "text": t, "text_sha256": article.text_sha256},
        "predictions": preds,
        "annotations": [
            {"id": 1, "completed_by": "ann-x", "parent_prediction": 1, "result": result}
        ],
    }
    views = up.gold_views([gold])
    (c,), _ = up.classify_task(task, gold=views)
    verdicts = {
        m.predicted.region_id: v for m, v in zip(c.matches, c.verdicts, strict=True) if m.predicted
    }
    assert verdicts == {
        "p1": "right",
        "p2": "wrong",
        "p3": "wrong",
        "p4": None,
        "s1": "wrong",
        "s2": None,
        "s3": None,
        "c1": "wrong",
        "c2": None,
        "c3": "wrong",
        "c5": "right",
    }
    tally = up.Tally()
    for m, v in zip(c.matches, c.verdicts, strict=True):
        tally.add(m, v)
    g = tally.to_dict()["gold"]
    assert g == {
        "right": 2,
        "wrong": 5,
        "accepted_right": 1,
        "accepted_wrong": 2,
        "accepted_when_right": 0.5,
        "accepted_when_wrong": 0.4,
        "wrong_share_of_accepted": round(2 / 3, 4),
    }
    # Gold made on another text gives no verdicts at all.
    changed = {**task, "data": {**task["data"], "text_sha256": "0" * 64}}
    (c,), _ = up.classify_task(changed, gold=views)
    assert set(c.verdicts) == {None}


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_json_equals_the_library_and_errors_are_located(tmp_path: Path, cli: CliRun) -> None:
    from test_labelstudio import make_corpus

    corpus = make_corpus(tmp_path / "c", {"b-crlf": CRLF_TEXT})
    folder = corpus / "annotations" / "p" / "tasks"
    folder.mkdir(parents=True)
    t = CRLF_TEXT
    task = {
        "id": 4,
        "data": {"article_id": "b-crlf", "text": t, "text_sha256": store.sha256_text(t)},
        "predictions": _preds(),
        "annotations": [
            {
                "id": 11,
                "completed_by": "ann-0000000001",
                "parent_prediction": 9,
                "result": [ent("n", t, "NATO", "ORG"), ent("m", t, "Tehran", "GPE")],
            }
        ],
    }
    (folder / "b-crlf.json").write_text(json.dumps(task), encoding="utf-8")
    res = cli("model", "uptake", "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    cfg = load_config(corpus / "corpus.toml")
    assert json.loads(res.stdout) == json.loads(json.dumps(up.measure(config=cfg)))
    table = cli("model", "uptake", cwd=corpus)
    assert table.exit_code == 0 and "Per annotator" in table.stdout
    assert "ann-0000000001" in table.stdout and "Anchoring" not in table.stdout

    missing = cli("model", "uptake", str(tmp_path / "nope"), cwd=corpus)
    assert missing.exit_code == 2 and "no such file or folder" in missing.stderr
    both = cli("model", "uptake", "--gold", "x", "--no-gold", cwd=corpus)
    assert both.exit_code == 2

    task["annotations"][0]["result"][1]["value"]["end"] = "12"
    (folder / "b-crlf.json").write_text(json.dumps(task), encoding="utf-8")
    bad = cli("model", "uptake", "--json", cwd=corpus)
    assert bad.exit_code == 1
    err = json.loads(bad.stdout)["error"]
    assert "region m of entities: value.end is '12'" in err["message"]
    assert (err["task_id"], err["annotation_id"]) == (4, 11)
    assert "corpus validate" in err["hint"]


# --- live: a real Label Studio ---------------------------------------------------------------

# Each planted suggestion: (id, result regions) and what the annotator does with it:
# "accept", ("boundary", shift), ("label", new label), ("both", shift, new label), "delete".
Plan = list[tuple[list[dict[str, Any]], Any]]


def _relabel(unit: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    out = []
    for r in unit:
        v = dict(r["value"])
        if r["from_name"] == "entities":
            v["labels"] = [label]
        elif r["type"] == "choices":
            v["choices"] = [label]
        out.append({**r, "value": v, "origin": "prediction-changed"})
    return out


def _move(unit: list[dict[str, Any]], text: str, shift: tuple[int, int]) -> list[dict[str, Any]]:
    (r,) = unit
    s, e = r["value"]["start"] + shift[0], r["value"]["end"] + shift[1]
    v = {**r["value"], "start": s, "end": e, "text": text[s:e]}
    return [{**r, "value": v, "origin": "prediction-changed"}]


def _apply(plan: Plan, text: str) -> tuple[list[dict[str, Any]], list[tuple[str, str | None]]]:
    """The annotation result for a plan, and (outcome, edit) per planted suggestion."""
    result: list[dict[str, Any]] = []
    expected: list[tuple[str, str | None]] = []
    for unit, action in plan:
        kind = action if isinstance(action, str) else action[0]
        if kind == "accept":
            result += [dict(r) for r in unit]
            expected.append(("accepted", None))
        elif kind == "accept-ui":  # as the editor writes value.text across a line break
            shown = {"text": unit[0]["value"]["text"].replace("\r", "\\n").replace("\n", "\\n")}
            result += [{**unit[0], "value": {**unit[0]["value"], **shown}}]
            expected.append(("accepted", None))
        elif kind == "delete":
            expected.append(("deleted", None))
        elif kind == "boundary":
            result += _move(unit, text, action[1])
            expected.append(("edited", "boundary"))
        elif kind == "label":
            result += _relabel(unit, action[1])
            expected.append(("edited", "label"))
        else:
            result += _relabel(_move(unit, text, action[1]), action[2])
            expected.append(("edited", "boundary+label"))
    return result, expected


def _unit_meta(unit: list[dict[str, Any]]) -> tuple[str, str, tuple[Any, ...]]:
    """(layer, label, identity) of a planted suggestion, read off its regions directly."""
    head = unit[-1] if unit[0]["from_name"] == "claim" and len(unit) > 1 else unit[0]
    name = unit[0]["from_name"]
    layer = {"entities": "entities", "claim": "claims"}.get(name, "stance")
    v = head["value"]
    label = (v.get("labels") or v.get("choices"))[0]
    return layer, label, (name, v.get("start"), v.get("end"), label)


@pytest.mark.labelstudio
def test_live_uptake_reports_exactly_what_was_planted(
    tmp_path: Path, cli: CliRun, label_studio: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_labelstudio import make_corpus

    texts = {"a-emoji": EMOJI_TEXT, "b-crlf": CRLF_TEXT}
    corpus = make_corpus(tmp_path / "c", texts)
    cfg = load_config(corpus / "corpus.toml")
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    monkeypatch.setenv("CORPUS_PSEUDONYM_KEY", PSEUDONYM_KEY)
    a, b = EMOJI_TEXT, CRLF_TEXT

    def espan(rid: str, text: str, needle: str, label: str, nth: int = 0) -> list[dict]:
        s, e = locate(text, needle, nth)
        return [taskslib.span_result(PredictedSpan(s, e, label, text[s:e], 0.8), rid)]

    # Suggestions as units (a claim is its region plus its check-worthiness).
    sug: dict[str, dict[str, list[dict[str, Any]]]] = {
        "a/model-a": {
            "nato": espan("e0", a, "NATO", "ORG"),
            "jens": espan("e1", a, "Jens Stoltenberg", "PER"),
            "russia": espan("e2", a, "Russia", "GPE"),
            "iran": espan("e3", a, "Iran", "GPE"),
            "tehran": espan("e4", a, "Tehran", "GPE"),
            "drones": espan("e5", a, "drones", "WEAPON"),
            "s-iran": [stance("s-iran", "iran", "against")],
            "s-russia": [stance("s-russia", "russia", "against")],
            "s-us": [stance("s-us", "united_states", "neutral")],
            "c-sold": claim("c0", a, "Iran sold drones to Russia", "check-worthy"),
        },
        "a/model-b": {
            "nato": espan("e0", a, "NATO", "ORG"),
            "russia2": espan("e1", a, "Russia", "GPE", nth=1),
            "cafe": espan("e2", a, "Cafe\u0301", "NORP"),
            "week": espan("e3", a, "last week", "DATE"),
            "s-iran": [stance("s-iran", "iran", "neutral")],
            "c-moved": claim("c0", a, "Russia moved drones", "not check-worthy"),
        },
        "b/model-a": {
            "washington": espan("e0", b, "Washington", "GPE"),
            "tehran": espan("e1", b, "Tehran", "GPE"),
            "qatar": espan("e2", b, "Qatar", "GPE"),
            "jens": espan("e3", b, "Jens\r\nStoltenberg", "PER"),
            "iran": espan("e4", b, "Iran", "GPE"),
            "s-us": [stance("s-us", "united_states", "against")],
            "c-us": claim("c0", b, "the US wants Iran to stop", "check-worthy"),
        },
        "b/model-b": {
            "washington": espan("e0", b, "Washington", "GPE"),  # the same unit as model-a's
            "nato": espan("e1", b, "NATO", "ORG"),
            "qatar": espan("e2", b, "Qatar", "LOC"),  # model-a's span, another label
        },
    }
    articles = {
        aid: Article(
            article_id=aid,
            source=f"articles/{aid}.txt",
            outlet="Test Outlet",
            url=None,
            title=f"Title of {aid}",
            published="2024-12-13",
            language="en",
            text=text,
            text_sha256=store.sha256_text(text),
        )
        for aid, text in texts.items()
    }
    tasks = [
        {
            "data": taskslib.task_data(articles[aid]),
            "predictions": [
                {
                    "model_version": mv,
                    "score": 0.7,
                    "result": [r for u in sug[f"{aid[0]}/{mv}"].values() for r in u],
                }
                for mv in ("model-a", "model-b")
            ],
        }
        for aid in ("a-emoji", "b-crlf")
    ]
    pid = label_studio.new_project(title="Uptake test", label_config=labeling_config.render(cfg))
    with label_studio.http() as http:
        resp = http.post(f"/api/projects/{pid}/import", json=tasks)
        assert resp.status_code == 201, resp.text
        page = http.get("/api/tasks/", params={"project": pid, "include": "id,data"}).json()
        task_ids = {t["data"]["article_id"]: t["id"] for t in page["tasks"]}
        pred_ids = {}
        for aid, tid in task_ids.items():
            for p in http.get("/api/predictions/", params={"task": tid}).json():
                pred_ids[f"{aid[0]}/{p['model_version']}"] = p["id"]

    ulla = label_studio.signup("ulla")
    cleo = label_studio.signup("cleo")
    admin_email = label_studio.admin.email
    key = PSEUDONYM_KEY.encode()
    who = {
        "admin": lslib.pseudonym(admin_email, key),
        "ulla": lslib.pseudonym(ulla.email, key),
    }
    tokens = {"admin": label_studio.api_key, "ulla": ulla.token, "cleo": cleo.token}
    A, B = sug["a/model-a"], sug["a/model-b"]
    C, D = sug["b/model-a"], sug["b/model-b"]
    # (annotator, article, parent prediction or None for the union, plan, added regions)
    annotations: list[tuple[str, str, str | None, Plan, list[list[dict[str, Any]]]]] = [
        (
            "admin",
            "a-emoji",
            "a/model-a",
            [
                (A["nato"], "accept"),
                (A["jens"], ("boundary", (5, 0))),  # "Stoltenberg"
                (A["russia"], ("label", "NORP")),
                (A["iran"], "delete"),
                (A["tehran"], ("both", (0, 5), "LOC")),  # "Tehran were"
                (A["drones"], "accept"),
                (A["s-iran"], "accept"),
                (A["s-russia"], ("label", "neutral")),
                (A["s-us"], "delete"),
                (A["c-sold"], ("label", "not check-worthy")),
            ],
            [[ent("m1", a, "Cafe\u0301", "NORP", origin="manual")]],
        ),
        (
            "ulla",
            "a-emoji",
            "a/model-b",
            [
                (B["nato"], "accept"),
                (B["russia2"], "delete"),
                (B["cafe"], "accept"),
                (B["week"], ("boundary", (5, 0))),  # "week"
                (B["s-iran"], "accept"),
                (B["c-moved"], "accept"),
            ],
            [
                [stance("m1", "russia", "against", origin="manual")],
                [ent("m2", a, "Tehran", "GPE", origin="manual")],
            ],
        ),
        (
            "admin",
            "b-crlf",
            "b/model-a",
            [
                (C["washington"], "accept"),
                (C["tehran"], ("label", "LOC")),
                (C["qatar"], "accept"),
                (C["jens"], "accept-ui"),  # value.text "Jens\\n\\nStoltenberg"
                (C["iran"], "delete"),
                (C["s-us"], ("label", "neutral")),
                (C["c-us"], "delete"),
            ],
            [[ent("m1", b, "NATO", "ORG", origin="manual")]],
        ),
        (
            "ulla",
            "b-crlf",
            None,  # no parent_prediction: the union of both predictions, Washington once
            [
                (C["washington"], "accept"),
                (C["tehran"], "delete"),
                (C["qatar"], "accept"),
                (C["jens"], "delete"),
                (C["iran"], "delete"),
                (C["s-us"], "delete"),
                (C["c-us"], "delete"),
                (D["nato"], ("boundary", (0, 6))),  # "NATO chief"
                (D["qatar"], "delete"),  # the span is taken by model-a's Qatar, accepted
            ],
            [[ent("m1", b, "US", "GPE", origin="manual")]],
        ),
    ]
    version_of = {id(u): k.split("/")[1] for k, units in sug.items() for u in units.values()}
    expected_rows: list[tuple[str, str, str, str, str, str | None]] = []
    for user, aid, parent, plan, added in annotations:
        text = texts[aid]
        result, outs = _apply(plan, text)
        for unit in added:
            result += unit
        body: dict[str, Any] = {"result": result, "lead_time": 12.5}
        if parent is not None:
            body["parent_prediction"] = pred_ids[parent]
        with label_studio.http(tokens[user]) as http:
            resp = http.post(f"/api/tasks/{task_ids[aid]}/annotations/", json=body)
            assert resp.status_code == 201, resp.text
        ann_version = parent.split("/")[1] if parent else "model-a+model-b"
        for (unit, _action), (outcome, edit) in zip(plan, outs, strict=True):
            layer, label, _ = _unit_meta(unit)
            mv = version_of[id(unit)]
            expected_rows.append((who[user], layer, label, mv, outcome, edit))
        for unit in added:
            layer, label, _ = _unit_meta(unit)
            expected_rows.append((who[user], layer, label, ann_version, "added", None))
    # Not measured: cleo's own annotation (no suggestion traced) and a skipped task.
    with label_studio.http(cleo.token) as http:
        manual = [ent("k1", b, "Iran", "GPE", origin="manual")]
        r1 = http.post(f"/api/tasks/{task_ids['b-crlf']}/annotations/", json={"result": manual})
        r2 = http.post(
            f"/api/tasks/{task_ids['a-emoji']}/annotations/",
            json={"result": [], "was_cancelled": True},
        )
        assert (r1.status_code, r2.status_code) == (201, 201), (r1.text, r2.text)

    # Pull: the full predictions are kept, in id order, without per-request keys.
    out = tmp_path / "pulled"
    res = cli("ls", "pull", "--project-id", str(pid), "--out", str(out), "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    folder = Path(json.loads(res.stdout)["dir"])
    for aid, tid in task_ids.items():
        task = json.loads((folder / "tasks" / f"{aid}.json").read_text(encoding="utf-8"))
        preds = task["predictions"]
        assert [p["id"] for p in preds] == sorted(p["id"] for p in preds)
        assert [p["model_version"] for p in preds] == ["model-a", "model-b"]
        for p in preds:
            assert set(p) <= set(lslib.PREDICTION_KEYS) and p["task"] == tid
            mv = p["model_version"]
            assert p["result"] == [r for u in sug[f"{aid[0]}/{mv}"].values() for r in u]
            assert p["score"] == 0.7
        parents = [x.get("parent_prediction") for x in task["annotations"]]
        assert all(x is None or x in {p["id"] for p in preds} for x in parents)

    # `corpus validate` reads the full predictions (and finds nothing wrong in them).
    v = cli("validate", str(folder), "--json", cwd=corpus)
    report = json.loads(v.stdout)
    assert report["stats"]["predictions"] == 4
    assert [f for f in report["findings"] if "/predictions" in (f["pointer"] or "")] == []

    # Gold for the anchoring figures: some suggestions right, others wrong.
    def gold_units(aid: str) -> set[tuple[Any, ...]]:
        g = {
            "a-emoji": ["nato", "russia", "drones", "s-iran", "c-sold"],
            "b-crlf": ["washington", "qatar", "jens", "s-us"],
        }[aid]
        units = sug[f"{aid[0]}/model-a"]
        return {_unit_meta(units[k])[2] for k in g}

    records = []
    for aid, text in texts.items():
        units = gold_units(aid)
        ents = [
            GoldEntity(EntitySpan(s, e, lab, text[s:e]), Decision("unanimous"))
            for name, s, e, lab in sorted(units, key=str)
            if name == "entities"
        ]
        claims = [
            GoldClaim(Claim(s, e, text[s:e], lab, None), Decision("unanimous"))
            for name, s, e, lab in sorted(units, key=str)
            if name == "claim"
        ]
        given = {name[len("stance_") :]: lab for name, _s, _e, lab in units if "stance" in name}
        answers = {"united_states": "unrelated", "iran": "favor", "russia": "favor"} | given
        stances = [
            GoldStance(StanceJudgement(t, v), Decision("unanimous")) for t, v in answers.items()
        ]
        records.append(
            GoldRecord(aid, store.sha256_text(text), tuple(ents), tuple(stances), tuple(claims))
        )
    gold_file = corpus / "build" / "gold.jsonl"
    write_gold(gold_file, records)
    gold_sets: dict[str, set[tuple[Any, ...]]] = {}
    for rec in records:
        gold_sets[rec.article_id] = (
            {("entities", g.span.start, g.span.end, g.span.label) for g in rec.entities}
            | {("claim", g.claim.start, g.claim.end, g.claim.checkworthy) for g in rec.claims}
            | {(f"stance_{g.stance.target}", None, None, g.stance.label) for g in rec.stances}
        )

    res = cli("model", "uptake", str(folder), "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["annotations"] == {
        "measured": 4,
        "parent": 3,
        "task": 1,
        "no_trace": 1,
        "from_annotation": 0,
        "ids_only": 0,
        "missing_parent": 0,
        "no_predictions": 0,
        "cancelled": 1,
    }

    # The expected report, tallied from the plan (not from the classifier).
    rows = []
    for _user, aid, _parent, plan, added in annotations:
        for unit, _ in plan:
            rows.append((aid, unit))
        rows.extend((aid, None) for _ in added)
    assert len(rows) == len(expected_rows)
    gold_rows = []
    for (aid, unit), row in zip(rows, expected_rows, strict=True):
        verdict = None
        if unit is not None:
            verdict = "right" if _unit_meta(unit)[2] in gold_sets[aid] else "wrong"
        gold_rows.append((row, verdict))

    def tally(select: Any) -> dict[str, Any]:
        n: Counter[str] = Counter()
        for row, verdict in gold_rows:
            if not select(row):
                continue
            outcome, edit = row[4], row[5]
            n[outcome] += 1
            if outcome != "added":
                n["predicted"] += 1
                if verdict:
                    n[verdict] += 1
                    if outcome == "accepted":
                        n[f"accepted_{verdict}"] += 1
            if edit:
                n[f"edit:{edit}"] += 1
        return {
            "predicted": n["predicted"],
            "accepted": n["accepted"],
            "edited": n["edited"],
            "deleted": n["deleted"],
            "added": n["added"],
            "edits": {k: n[f"edit:{k}"] for k in ("boundary", "label", "boundary+label")},
            "gold": (n["right"], n["wrong"], n["accepted_right"], n["accepted_wrong"]),
        }

    def got(row: dict[str, Any]) -> dict[str, Any]:
        g = row["gold"]
        return {
            **{k: row[k] for k in ("predicted", "accepted", "edited", "deleted", "added", "edits")},
            "gold": (g["right"], g["wrong"], g["accepted_right"], g["accepted_wrong"]),
        }

    overall = tally(lambda r: True)
    assert got(d["overall"]) == overall
    assert overall["predicted"] == 32 and overall["added"] == 5  # the plan, by hand
    assert overall["accepted"] == 12 and overall["deleted"] == 11
    assert overall["gold"][3] > 0 and overall["gold"][1] > 0  # wrong suggestions accepted
    for r in d["by_layer"]:
        assert got(r) == tally(lambda row, r=r: row[1] == r["layer"]), r["layer"]
    labels = {(row[1], row[2]) for row in expected_rows}
    assert {(r["layer"], r["label"]) for r in d["by_label"]} == labels
    for r in d["by_label"]:
        assert got(r) == tally(lambda row, r=r: (row[1], row[2]) == (r["layer"], r["label"]))
    assert [r["annotator"] for r in d["by_annotator"]] == sorted(who.values())
    for r in d["by_annotator"]:
        assert got(r) == tally(lambda row, r=r: row[0] == r["annotator"])
    versions = [r["model_version"] for r in d["by_model_version"]]
    assert versions == sorted({row[3] for row in expected_rows})
    assert versions == ["model-a", "model-a+model-b", "model-b"]  # the union's additions
    for r in d["by_model_version"]:
        assert got(r) == tally(lambda row, r=r: row[3] == r["model_version"])
    assert d["gold"]["source"].endswith("gold.jsonl") and d["gold"]["articles"] == 2
    # Label changes as planted.
    changes = {(c["layer"], c["from"], c["to"]): c["count"] for c in d["label_changes"]}
    assert changes == {
        ("entities", "GPE", "NORP"): 1,
        ("entities", "GPE", "LOC"): 2,
        ("stance", "against", "neutral"): 2,
        ("claims", "check-worthy", "not check-worthy"): 1,
    }
    # Label Studio's own record agrees: what was accepted kept origin "prediction".
    assert {k.split(":")[1] for k in d["overall"]["origins"] if k.startswith("accepted")} == {
        "prediction"
    }

    # The same folder without gold, and the table for people.
    no_gold = json.loads(cli("model", "uptake", str(folder), "--json", "--no-gold").stdout)
    assert no_gold["gold"] is None and no_gold["overall"]["predicted"] == 32
    table = cli("model", "uptake", str(folder), cwd=corpus)
    assert table.exit_code == 0 and "Anchoring" in table.stdout
