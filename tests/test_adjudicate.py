"""Adjudication: votes, the tie rule, span merges, ground truth and adjudicators, decisions,
gold JSON Lines, the dispute queue as Label Studio tasks, and the round trip of a dispute
through a real Label Studio."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import CliRun
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst
from ls_server import LabelStudioFixture
from test_agreement import TEXT, article, clm, corpus_with, ent, parse, stn, task
from test_agreement import config as config  # the corpus.toml fixture

from corpus_tools import adjudicate as adj
from corpus_tools.config import CorpusConfig, load_config
from corpus_tools.errors import DataError
from corpus_tools.exports import parse_task
from corpus_tools.model import (
    Claim,
    Decision,
    EntitySpan,
    GoldClaim,
    GoldEntity,
    GoldRecord,
    GoldStance,
    StanceJudgement,
)

ARTS = {"a1": article("a1", TEXT)}


def with_rules(config: CorpusConfig, **kw: Any) -> CorpusConfig:
    return replace(config, adjudication=replace(config.adjudication, **kw))


def run(config: CorpusConfig, anns: dict[str, list[dict]], decisions: Any = (), **flags: Any):
    annotations = parse(config, [task("a1", TEXT, anns, **flags)])
    return adj.adjudicate(
        config=config, annotations=annotations, articles=ARTS, decisions=decisions
    )


def stance_of(result: adj.AdjudicationResult, target: str = "iran") -> GoldStance | None:
    return next((s for s in result.gold[0].stances if s.stance.target == target), None)


# --- votes and the tie rule --------------------------------------------------------------------

VOTES = [
    # votes, tie_rule, min_votes, expected label, provenance, supporters, open disputes
    ({"a": "favor", "b": "favor", "c": "favor"}, "dispute", 2, "favor", "unanimous", "abc", 0),
    ({"a": "favor", "b": "favor", "c": "against"}, "dispute", 2, "favor", "majority", "ab", 0),
    ({"a": "favor", "b": "favor", "c": "against"}, "dispute", 3, None, None, "", 1),
    ({"a": "favor", "b": "against"}, "dispute", 2, None, None, "", 1),
    ({"a": "favor", "b": "against", "c": "neutral"}, "dispute", 2, None, None, "", 1),
    ({"a": "favor", "b": "against"}, "first", 2, "favor", "tie", "a", 0),
    ({"b": "against", "a": "favor"}, "first", 2, "against", "tie", "b", 0),
    ({"a": "favor", "b": "against"}, "drop", 2, None, None, "", 0),
    ({"a": "favor", "b": "against"}, "adjudicator", 2, None, None, "", 1),  # none present
    ({"a": "favor"}, "dispute", 2, "favor", "single", "a", 0),
    # four annotators: 2-1-1 is a plurality, not a majority (issue 10 point 16)
    ({"a": "favor", "b": "favor", "c": "against", "d": "neutral"}, "dispute", 2, None, None, "", 1),
    ({"a": "favor", "b": "favor", "c": "against", "d": "neutral"}, "dispute", 1, None, None, "", 1),
    (
        {"a": "against", "b": "favor", "c": "favor", "d": "neutral"},
        "first",
        2,
        "against",
        "tie",
        "a",
        0,
    ),
    ({"a": "favor", "b": "favor", "c": "against", "d": "neutral"}, "drop", 2, None, None, "", 0),
    ({"a": "favor", "b": "favor", "c": "against", "d": "against"}, "dispute", 1, None, None, "", 1),
    (
        {"a": "favor", "b": "favor", "c": "favor", "d": "neutral"},
        "dispute",
        2,
        "favor",
        "majority",
        "abc",
        0,
    ),
    ({"a": "favor", "b": "favor", "c": "favor", "d": "neutral"}, "dispute", 4, None, None, "", 1),
    # five: 2-1-1-1 is no majority either; 3-1-1 is
    (
        {"a": "favor", "b": "favor", "c": "against", "d": "neutral", "e": "unrelated"},
        "dispute",
        1,
        None,
        None,
        "",
        1,
    ),
    (
        {"a": "favor", "b": "favor", "c": "favor", "d": "neutral", "e": "unrelated"},
        "dispute",
        3,
        "favor",
        "majority",
        "abc",
        0,
    ),
]


@pytest.mark.parametrize(("votes", "rule", "min_votes", "label", "prov", "who", "n_open"), VOTES)
def test_stance_votes_and_tie_rule(
    config: CorpusConfig,
    votes: dict[str, str],
    rule: str,
    min_votes: int,
    label: str | None,
    prov: str | None,
    who: str,
    n_open: int,
) -> None:
    cfg = with_rules(config, tie_rule=rule, min_votes=min_votes)
    # annotations are submitted in dict order: the first one is the earliest
    res = run(cfg, {f"ann-{w}": stn(iran=v) for w, v in votes.items()})
    got = stance_of(res)
    if label is None:
        assert got is None
    else:
        assert got is not None and got.stance.label == label
        assert got.decision.provenance == prov
        assert got.decision.annotators == tuple(f"ann-{w}" for w in who)
        assert got.decision.rule == ("first" if rule == "first" and prov == "tie" else None)
    assert len(res.disputes) == n_open
    assert len(res.dropped) == (1 if rule == "drop" and label is None else 0)
    if n_open:
        d = res.disputes[0]
        assert (d.layer, d.target, d.dispute_id) == ("stance", "iran", "a1/stance/iran")
        assert {c.annotator: c.stances[0].label for c in d.candidates} == {
            f"ann-{w}": v for w, v in votes.items()
        }


def test_ground_truth_wins_the_whole_article(config: CorpusConfig) -> None:
    res = run(
        config,
        {
            "ann-a": [ent(TEXT, "NATO", "ORG", "n"), *stn(iran="favor")],
            "ann-b": [ent(TEXT, "NATO", "ORG", "n"), *stn(iran="favor")],
            "ann-c": [
                ent(TEXT, "Tehran", "GPE", "t"),
                *stn(iran="against"),
                *clm(TEXT, "Russia moved drones", "c", "check-worthy", "NATO"),
            ],
        },
        **{"ann-c": {"ground_truth": True}},
    )
    g = res.gold[0]
    assert g.article_id == "a1" and g.text_sha256 == ARTS["a1"].text_sha256
    assert [(e.span.text, e.span.label) for e in g.entities] == [("Tehran", "GPE")]
    ((claim, claim_decision),) = [(c.claim, c.decision) for c in g.claims]
    assert (claim.text, claim.checkworthy, claim.claimant) == (
        "Russia moved drones",
        "check-worthy",
        "NATO",
    )
    assert claim.region_id is None and claim.claimant_region_id is None
    assert claim_decision == Decision("ground_truth", ("ann-c",), decided_by="ann-c")
    assert res.stats["articles.ground_truth"] == 1
    assert stance_of(res).stance.label == "against"  # type: ignore[union-attr]
    assert {e.decision for e in g.entities} == {
        Decision("ground_truth", ("ann-c",), decided_by="ann-c")
    }
    assert g.annotators == ("ann-a", "ann-b", "ann-c") and not res.disputes


def test_designated_adjudicator_wins_or_breaks_ties(config: CorpusConfig) -> None:
    anns = {
        "ann-a": [ent(TEXT, "NATO", "ORG", "n"), *stn(iran="favor", russia="against")],
        "ann-b": [ent(TEXT, "NATO", "ORG", "n"), *stn(iran="against", russia="against")],
        "boss": [ent(TEXT, "Tehran", "GPE", "t"), *stn(iran="neutral", russia="favor")],
    }
    wins = run(with_rules(config, adjudicators=("boss",)), anns)
    assert stance_of(wins, "russia").stance.label == "favor"  # type: ignore[union-attr]
    assert stance_of(wins).decision == Decision("adjudicated", ("boss",), decided_by="boss")
    breaks = run(with_rules(config, adjudicators=("boss",), tie_rule="adjudicator"), anns)
    russia, iran = stance_of(breaks, "russia"), stance_of(breaks)
    assert russia is not None and russia.stance.label == "against"  # the annotators agree
    assert russia.decision.provenance == "unanimous"
    assert iran is not None and iran.stance.label == "neutral"  # tie: the adjudicator decides
    assert iran.decision == Decision("adjudicated", (), decided_by="boss", rule="adjudicator")
    assert [e.span.text for e in breaks.gold[0].entities] == ["NATO"]


# --- span merges ---------------------------------------------------------------------------

THREE = {
    "ann-a": [ent(TEXT, "NATO", "ORG", "n"), ent(TEXT, "Jens", "PER", "p")],
    "ann-b": [
        ent(TEXT, "NATO", "ORG", "n"),
        ent(TEXT, "Jens Stoltenberg", "PER", "p"),
        ent(TEXT, "Cafe\u0301", "NORP", "c"),
    ],
    "ann-c": [ent(TEXT, "NATO", "ORG", "n"), ent(TEXT, "Jens Stoltenberg", "PER", "p")],
}


@pytest.mark.parametrize(
    ("merge", "expected"),
    [
        ("majority-exact", [("NATO", "unanimous"), ("Jens Stoltenberg", "majority")]),
        ("majority-overlap", [("NATO", "unanimous"), ("Jens Stoltenberg", "majority")]),
        (
            "union",
            [
                ("NATO", "unanimous"),
                ("Jens", "union"),
                ("Jens Stoltenberg", "union"),
                ("Cafe\u0301", "union"),
            ],
        ),
    ],
)
def test_span_merge_rules(config: CorpusConfig, merge: str, expected: list) -> None:
    res = run(with_rules(config, span_merge=merge), THREE)
    got = [(e.span.text, e.decision.provenance) for e in res.gold[0].entities]
    assert got == expected and not res.disputes
    for e in res.gold[0].entities:
        assert TEXT[e.span.start : e.span.end] == e.span.text and e.span.region_id is None


FOUR_SPLIT = {  # the "Jens Stoltenberg" region: versions 2-1-1 among four annotators
    "ann-a": [ent(TEXT, "NATO", "ORG", "n"), ent(TEXT, "Jens Stoltenberg", "PER", "p")],
    "ann-b": [ent(TEXT, "NATO", "ORG", "n"), ent(TEXT, "Jens Stoltenberg", "PER", "p")],
    "ann-c": [ent(TEXT, "NATO", "ORG", "n"), ent(TEXT, "Jens", "PER", "p")],
    "ann-d": [ent(TEXT, "Stoltenberg", "PER", "p")],
}


@pytest.mark.parametrize("merge", ["majority-exact", "majority-overlap"])
def test_a_span_plurality_is_not_a_majority(config: CorpusConfig, merge: str) -> None:
    """2 of 4 annotators for one version of a region is a plurality: a dispute, whichever
    majority merge (NATO, 3 of 4, is a majority)."""
    res = run(with_rules(config, span_merge=merge), FOUR_SPLIT)
    got = [
        (e.span.text, e.decision.provenance, e.decision.annotators) for e in res.gold[0].entities
    ]
    assert got == [("NATO", "majority", ("ann-a", "ann-b", "ann-c"))]
    (d,) = res.disputes
    start = TEXT.index("Jens Stoltenberg")
    assert (d.layer, d.start, d.end) == ("entities", start, start + len("Jens Stoltenberg"))
    first = run(with_rules(config, span_merge=merge, tie_rule="first"), FOUR_SPLIT)
    js = [e for e in first.gold[0].entities if e.span.text != "NATO"]
    assert [(e.span.text, e.decision.provenance) for e in js] == [("Jens Stoltenberg", "tie")]
    # three of four for one version is a majority
    three = {**FOUR_SPLIT, "ann-c": FOUR_SPLIT["ann-a"]}
    res3 = run(with_rules(config, span_merge=merge), three)
    got3 = [(e.span.text, e.decision.provenance) for e in res3.gold[0].entities]
    assert got3 == [("NATO", "majority"), ("Jens Stoltenberg", "majority")]
    assert not res3.disputes


def test_split_span_region_is_one_dispute_with_each_version(config: CorpusConfig) -> None:
    res = run(
        config,
        {
            "ann-a": [ent(TEXT, "Tehran", "GPE", "t"), ent(TEXT, "NATO", "ORG", "n")],
            "ann-b": [ent(TEXT, "Tehran", "LOC", "t"), ent(TEXT, "NATO", "ORG", "n")],
        },
    )
    assert [e.span.text for e in res.gold[0].entities] == ["NATO"]
    (d,) = res.disputes
    start = TEXT.index("Tehran")
    assert (d.layer, d.start, d.end) == ("entities", start, start + 6)
    assert {c.annotator: [e.label for e in c.entities] for c in d.candidates} == {
        "ann-a": ["GPE"],
        "ann-b": ["LOC"],
    }
    # majority-overlap: both marked the region, versions differ → still a tie
    res2 = run(
        with_rules(config, span_merge="majority-overlap"),
        {"ann-a": [ent(TEXT, "Tehran", "GPE", "t")], "ann-b": [ent(TEXT, "Tehran", "LOC", "t")]},
    )
    assert len(res2.disputes) == 1


def test_claims_need_matching_attributes(config: CorpusConfig) -> None:
    res = run(
        config,
        {
            "ann-a": clm(TEXT, "Russia moved drones", "c", "check-worthy", "NATO"),
            "ann-b": clm(TEXT, "Russia moved drones", "c", "check-worthy", "NATO"),
            "ann-c": clm(TEXT, "Russia moved drones", "c", "not check-worthy", None),
        },
    )
    (g,) = res.gold[0].claims
    assert (g.claim.checkworthy, g.claim.claimant) == ("check-worthy", "NATO")
    assert g.decision == Decision("majority", ("ann-a", "ann-b"))
    tie = run(
        config,
        {
            "ann-a": clm(TEXT, "Russia moved drones", "c", "check-worthy", None),
            "ann-b": clm(TEXT, "Russia moved drones", "c", "not check-worthy", None),
        },
    )
    assert tie.gold[0].claims == () and tie.disputes[0].layer == "claims"


def test_majority_overlap_half_marked_region_and_unanimous_supporters(
    config: CorpusConfig,
) -> None:
    overlap = with_rules(config, span_merge="majority-overlap")
    half = run(
        overlap,
        {
            "ann-a": [ent(TEXT, "NATO", "ORG", "n"), ent(TEXT, "Tehran", "GPE", "t")],
            "ann-b": [ent(TEXT, "NATO", "ORG", "n")],
        },
    )
    assert [(e.span.text, e.decision) for e in half.gold[0].entities] == [
        ("NATO", Decision("unanimous", ("ann-a", "ann-b")))
    ]
    (d,) = half.disputes  # marked by exactly half: neither entity nor no-entity wins
    assert (d.layer, d.start) == ("entities", TEXT.index("Tehran"))
    assert d.reason == "region marked by 1 of 2 annotators, 1 version(s)"
    few = run(
        overlap,
        {"ann-a": [ent(TEXT, "Tehran", "GPE", "t")], "ann-b": [], "ann-c": []},
    )
    assert few.gold[0].entities == () and few.disputes == []  # a minority: no entity


def test_claim_dispute_settled_by_decisions_that_touch_it(config: CorpusConfig) -> None:
    """A decision settles a claim region with the claims inside it; its claims that only
    touch the region (ending where it starts, starting where it ends) are not part of it."""
    anns = {
        "ann-a": clm(TEXT, "Russia moved drones", "c", "check-worthy", None),
        "ann-b": clm(TEXT, "Russia moved drones", "c", "not check-worthy", None),
    }
    (d,) = run(config, anns).disputes
    start = TEXT.index("Russia moved drones")
    assert (d.layer, d.start, d.end) == ("claims", start, start + len("Russia moved drones"))
    assert TEXT[d.end] == "." and TEXT[d.start - 5 : d.start] == "said "
    neighbours = [
        *clm(TEXT, "said ", "s", "check-worthy", None),  # ends where the region starts
        *clm(TEXT, ".", "p", "check-worthy", None),  # starts where it ends
    ]
    for version, supporters in (
        (clm(TEXT, "Russia moved drones", "c", "check-worthy", None), ("ann-a",)),
        (clm(TEXT, "Russia moved drones.", "c", "not check-worthy", None), ()),
    ):
        judge = parse(config, [task("a1", TEXT, {"ann-judge": [*version, *neighbours]})])
        res = run(config, anns, decisions=judge)
        assert res.disputes == []
        ((claim, dec),) = [(c.claim, c.decision) for c in res.gold[0].claims]
        assert (claim.start, claim.text) == (start, version[0]["value"]["text"])
        assert dec == Decision("adjudicated", supporters, decided_by="ann-judge")
        assert res.stats["claims.adjudicated"] == 1


def test_tie_reasons_dropped_items_and_counts(config: CorpusConfig) -> None:
    """What a tie says to the adjudicator, what `drop` lists, and the counts per outcome."""
    votes = {"ann-a": "favor", "ann-b": "favor", "ann-c": "against", "ann-d": "neutral"}
    anns = {w: [*stn(iran=v), ent(TEXT, "NATO", "ORG", "n")] for w, v in votes.items()}
    anns["ann-a"] = [*anns["ann-a"], ent(TEXT, "Tehran", "GPE", "t")]
    anns["ann-b"] = [*anns["ann-b"], ent(TEXT, "Tehran", "GPE", "t")]
    anns["ann-c"] = [*anns["ann-c"], ent(TEXT, "Tehran", "LOC", "t")]
    anns["ann-d"] = [*anns["ann-d"], ent(TEXT, "Tehran", "LOC", "t")]
    res = run(config, anns)
    reasons = {d.dispute_id.split("/")[1]: d.reason for d in res.disputes}
    assert reasons == {
        "stance": "no majority among 4 annotators (against 1, favor 2, neutral 1)",
        "entities": "span versions split among 4 annotators",
    }
    assert res.stats["stance.disputed"] == 1 and res.stats["entities.disputed"] == 1
    assert res.stats["entities.unanimous"] == 1  # NATO
    dropped = run(with_rules(config, tie_rule="drop"), anns)
    assert dropped.disputes == []
    assert sorted(d.dispute_id for d in dropped.dropped) == sorted(
        d.dispute_id for d in res.disputes
    )
    assert dropped.stats["stance.dropped"] == 1 and dropped.stats["entities.dropped"] == 1
    first = run(with_rules(config, tie_rule="first"), anns)
    assert first.stats["stance.tie"] == 1 and first.stats["entities.tie"] == 1
    tehran = next(e for e in first.gold[0].entities if e.span.text == "Tehran")
    assert tehran.decision == Decision("tie", ("ann-a",), rule="first")


def test_span_decisions_record_supporters_and_rule(config: CorpusConfig) -> None:
    union = run(with_rules(config, span_merge="union"), THREE)
    assert [(e.span.text, e.decision) for e in union.gold[0].entities] == [
        ("NATO", Decision("unanimous", ("ann-a", "ann-b", "ann-c"))),
        ("Jens", Decision("union", ("ann-a",), rule="union")),
        ("Jens Stoltenberg", Decision("union", ("ann-b", "ann-c"), rule="union")),
        ("Cafe\u0301", Decision("union", ("ann-b",), rule="union")),
    ]
    assert union.stats["entities.union"] == 3
    single = run(config, {"ann-a": [ent(TEXT, "NATO", "ORG", "n"), ent(TEXT, "Iran", "GPE", "i")]})
    assert {e.decision for e in single.gold[0].entities} == {Decision("single", ("ann-a",))}
    assert single.stats["entities.single"] == 2
    # majority-overlap: the winning version of a region may hold several spans, kept in order
    split = [ent(TEXT, "Stoltenberg", "PER", "s"), ent(TEXT, "Jens", "PER", "j")]
    overlap = run(
        with_rules(config, span_merge="majority-overlap"),
        {
            "ann-a": split,
            "ann-b": split[::-1],
            "ann-c": [ent(TEXT, "Jens Stoltenberg", "PER", "p")],
        },
    )
    assert [(e.span.text, e.decision.annotators) for e in overlap.gold[0].entities] == [
        ("Jens", ("ann-a", "ann-b")),
        ("Stoltenberg", ("ann-a", "ann-b")),
    ]


def test_claims_tie_rule_first_and_claimant_spacing(config: CorpusConfig) -> None:
    anns = {
        "ann-a": clm(TEXT, "Russia moved drones", "c", "check-worthy", "Jens  Stoltenberg"),
        "ann-b": clm(TEXT, "Russia moved drones", "c", "check-worthy", "Jens Stoltenberg"),
        "ann-c": clm(TEXT, "Russia moved drones", "c", "not check-worthy", "Jens Stoltenberg"),
    }
    res = run(config, anns)  # the claimants differ only in spacing: a majority
    ((claim, dec),) = [(c.claim, c.decision) for c in res.gold[0].claims]
    assert dec == Decision("majority", ("ann-a", "ann-b"))
    assert claim.region_id is None and claim.claimant_region_id is None
    tie = {k: anns[k] for k in ("ann-b", "ann-c")}
    first = run(with_rules(config, tie_rule="first"), tie)
    ((claim, dec),) = [(c.claim, c.decision) for c in first.gold[0].claims]
    assert (claim.checkworthy, dec) == ("check-worthy", Decision("tie", ("ann-b",), rule="first"))
    assert first.stats["claims.tie"] == 1


def test_regions_touching_spans_stay_apart_and_nested_ones_keep_the_outer_bounds(
    config: CorpusConfig,
) -> None:
    drones = TEXT.index("drones")
    touching = run(
        config,
        {
            "ann-a": [ent(TEXT, "drones", "WEAPON", "d")],
            "ann-b": [ent(TEXT, ".", "NORP", "p")],  # starts where "drones" ends
        },
    )
    assert TEXT[drones + 6] == "."
    assert sorted((d.start, d.end) for d in touching.disputes) == [
        (drones, drones + 6),
        (drones + 6, drones + 7),
    ]
    outer = TEXT.index("NATO spokesman Jens Stoltenberg")
    nested = run(
        config,
        {
            "ann-a": [ent(TEXT, "NATO spokesman Jens Stoltenberg", "PER", "o")],
            "ann-b": [
                ent(TEXT, "spokesman", "PER", "s"),
                ent(TEXT, "Jens Stoltenberg", "PER", "j"),
            ],
        },
    )
    (d,) = nested.disputes  # one region, from the outer span's start to its end
    assert (d.start, d.end) == (outer, outer + len("NATO spokesman Jens Stoltenberg"))
    assert d.dispute_id == f"a1/entities/{d.start}-{d.end}"


def test_disputes_and_counts_add_up_over_articles(config: CorpusConfig) -> None:
    second = "Washington and Tehran talked.\r\nNo deal."
    disagree = {"ann-a": stn(iran="favor"), "ann-b": stn(iran="against")}
    tasks = [task("a1", TEXT, disagree), task("a2", second, disagree), task("a3", TEXT, disagree)]
    annotations = parse(config, tasks)
    arts = {"a1": article("a1", TEXT), "a2": article("a2", second), "a3": article("a3", TEXT)}
    res = adj.adjudicate(config=config, annotations=annotations, articles=arts)
    assert [d.article_id for d in res.disputes] == ["a1", "a2", "a3"]
    assert res.stats["disputes.open"] == 3 and res.stats["disputes.dropped"] == 0
    assert [g.annotators for g in res.gold] == [("ann-a", "ann-b")] * 3
    assert [g.text_sha256 for g in res.gold] == [arts[a].text_sha256 for a in ("a1", "a2", "a3")]
    dropped = adj.adjudicate(
        config=with_rules(config, tie_rule="drop"), annotations=annotations, articles=arts
    )
    assert [d.article_id for d in dropped.dropped] == ["a1", "a2", "a3"]
    assert dropped.stats["disputes.dropped"] == 3 and dropped.stats["disputes.open"] == 0
    stale = parse(
        config,
        [task(a, "another text", {"ann-judge": stn(iran="neutral")}) for a in ("a1", "a2")],
    )
    res = adj.adjudicate(config=config, annotations=annotations, articles=arts, decisions=stale)
    assert res.stats["decisions.stale"] == 2 and len(res.disputes) == 3


def test_the_latest_ground_truth_or_adjudicator_annotation_decides(config: CorpusConfig) -> None:
    anns = {
        "ann-a": [ent(TEXT, "NATO", "ORG", "n"), *stn(iran="favor")],
        "ann-b": [ent(TEXT, "Tehran", "GPE", "t"), *stn(iran="against")],
    }
    # ann-a's annotation has the higher id but the older time: time decides
    flags = {
        "ann-a": {"ground_truth": True, "updated_at": "2024-12-13T12:00:00Z", "id": 10**8},
        "ann-b": {"ground_truth": True, "updated_at": "2024-12-14T09:00:00Z", "id": 10**8 - 1},
    }
    res = run(config, anns, **flags)
    assert [e.span.text for e in res.gold[0].entities] == ["Tehran"]
    assert res.gold[0].entities[0].decision.decided_by == "ann-b"
    # same time: the higher annotation id decides
    same = {k: {**v, "updated_at": "2024-12-13T12:00:00Z"} for k, v in flags.items()}
    res = run(config, anns, **same)
    assert res.gold[0].entities[0].decision.decided_by == "ann-a"
    # tie rule "first": the annotation submitted first by time, whatever its id
    order = {
        "ann-a": {"updated_at": "2024-12-14T09:00:00Z", "id": 10**8 - 2},
        "ann-b": {"updated_at": "2024-12-13T12:00:00Z", "id": 10**8 - 1},
    }
    first = run(with_rules(config, tie_rule="first"), anns, **order)
    assert stance_of(first).decision == Decision("tie", ("ann-b",), rule="first")  # type: ignore[union-attr]


def test_an_adjudicator_alone_or_breaking_span_ties(config: CorpusConfig) -> None:
    rules = with_rules(config, adjudicators=("boss",), tie_rule="adjudicator")
    alone = run(rules, {"boss": [ent(TEXT, "NATO", "ORG", "n"), *stn(iran="neutral")]})
    g = alone.gold[0]
    assert (g.article_id, g.annotators) == ("a1", ("boss",))
    assert [(e.span.text, e.decision) for e in g.entities] == [
        ("NATO", Decision("adjudicated", ("boss",), decided_by="boss"))
    ]
    assert alone.stats["articles.adjudicated"] == 1
    wins = run(
        with_rules(config, adjudicators=("boss",)),
        {"ann-a": stn(iran="favor"), "boss": [ent(TEXT, "NATO", "ORG", "n")]},
    )
    assert (wins.gold[0].article_id, wins.gold[0].annotators) == ("a1", ("ann-a", "boss"))
    ties = {
        "ann-a": [
            ent(TEXT, "Tehran", "GPE", "t"),
            *clm(TEXT, "Russia moved drones", "c", "check-worthy", None),
        ],
        "ann-b": [
            ent(TEXT, "Tehran", "LOC", "t"),
            *clm(TEXT, "Russia moved drones", "c", "not check-worthy", None),
        ],
        "boss": [
            ent(TEXT, "Tehran", "GPE", "t"),
            *clm(TEXT, "Russia moved drones", "c", "not check-worthy", None),
        ],
    }
    res = run(rules, ties)
    assert res.disputes == []
    ((ent_span, ent_dec),) = [(e.span, e.decision) for e in res.gold[0].entities]
    assert (ent_span.label, ent_dec) == (
        "GPE",
        Decision("adjudicated", ("ann-a",), decided_by="boss", rule="adjudicator"),
    )
    ((claim, claim_dec),) = [(c.claim, c.decision) for c in res.gold[0].claims]
    assert (claim.checkworthy, claim_dec.annotators) == ("not check-worthy", ("ann-b",))
    drop = run(with_rules(config, tie_rule="drop"), {k: ties[k] for k in ("ann-a", "ann-b")})
    assert sorted(d.layer for d in drop.dropped) == ["claims", "entities"]
    assert drop.stats["claims.dropped"] == 1


def test_a_decision_with_several_spans_in_a_region_is_kept_in_text_order(
    config: CorpusConfig,
) -> None:
    anns = {
        "ann-a": [ent(TEXT, "Jens Stoltenberg", "PER", "p")],
        "ann-b": [ent(TEXT, "Jens", "PER", "p")],
    }
    judge = parse(
        config,
        [
            task(
                "a1",
                TEXT,
                {
                    "ann-judge": [
                        ent(TEXT, "Stoltenberg", "PER", "s"),
                        ent(TEXT, "Jens", "PER", "j"),
                    ]
                },
            )
        ],
    )
    res = run(config, anns, decisions=judge)
    assert [e.span.text for e in res.gold[0].entities] == ["Jens", "Stoltenberg"]


def test_union_keeps_nested_spans_in_text_order_and_claimants_must_match(
    config: CorpusConfig,
) -> None:
    union = run(
        with_rules(config, span_merge="union"),
        {
            "ann-a": [ent(TEXT, "NATO spokesman Jens", "PER", "o")],
            "ann-b": [ent(TEXT, "spokesman", "PER", "s")],  # inside, ends earlier
        },
    )
    assert [e.span.text for e in union.gold[0].entities] == ["NATO spokesman Jens", "spokesman"]
    claimants = run(
        config,
        {
            "ann-a": clm(TEXT, "Russia moved drones", "c", "check-worthy", "NATO"),
            "ann-b": clm(TEXT, "Russia moved drones", "c", "check-worthy", "Jens Stoltenberg"),
        },
    )
    assert claimants.gold[0].claims == ()  # same span and check-worthiness, another claimant
    (d,) = claimants.disputes
    assert d.layer == "claims" and d.reason == "span versions split among 2 annotators"


# --- decisions from the adjudication project -------------------------------------------------


def tehran_and_iran_disputed() -> dict[str, list[dict[str, Any]]]:
    """Two annotators who disagree on Tehran's label and on the Iran stance, agree elsewhere."""
    return {
        "ann-a": [
            ent(TEXT, "Tehran", "GPE", "t"),
            ent(TEXT, "NATO", "ORG", "n"),
            *stn(iran="favor", russia="against"),
        ],
        "ann-b": [
            ent(TEXT, "Tehran", "LOC", "t"),
            ent(TEXT, "NATO", "ORG", "n"),
            *stn(iran="against", russia="against"),
        ],
    }


def test_decisions_settle_only_the_disputed_items(config: CorpusConfig) -> None:
    anns = tehran_and_iran_disputed()
    before = run(config, anns)
    assert sorted(d.dispute_id for d in before.disputes) == [
        f"a1/entities/{TEXT.index('Tehran')}-{TEXT.index('Tehran') + 6}",
        "a1/stance/iran",
    ]
    judge = parse(
        config,
        [
            task(
                "a1",
                TEXT,
                {
                    "ann-judge": [
                        ent(TEXT, "NATO", "PER", "x"),  # outside any dispute: ignored
                        *stn(iran="neutral", russia="favor"),
                    ]
                },
            )
        ],
    )
    after = run(config, anns, decisions=judge)
    assert after.disputes == []
    iran, russia = stance_of(after), stance_of(after, "russia")
    assert iran is not None and iran.stance.label == "neutral"
    assert iran.decision == Decision("adjudicated", decided_by="ann-judge")
    assert russia is not None and russia.stance.label == "against"  # not disputed
    # the judge marked nothing in the Tehran region: decided "no entity there"
    assert [(e.span.text, e.span.label) for e in after.gold[0].entities] == [("NATO", "ORG")]
    assert after.stats["entities.adjudicated"] == 1 and after.stats["stance.adjudicated"] == 1
    # a judge who takes one annotator's version is recorded as agreeing with them
    sided = parse(
        config,
        [task("a1", TEXT, {"ann-judge": [ent(TEXT, "Tehran", "LOC", "t"), *stn(iran="favor")]})],
    )
    res = run(config, anns, decisions=sided)
    tehran = next(e for e in res.gold[0].entities if e.span.text == "Tehran")
    assert tehran.decision == Decision("adjudicated", ("ann-b",), decided_by="ann-judge")
    assert stance_of(res).decision.annotators == ("ann-a",)  # type: ignore[union-attr]
    # a decision made on an older text of the article is not applied
    stale = parse(config, [task("a1", TEXT + " Updated.", {"ann-judge": stn(iran="neutral")})])
    res = run(config, anns, decisions=stale)
    assert len(res.disputes) == 2 and res.stats["decisions.stale"] == 1


# --- files -----------------------------------------------------------------------------------

texts = hst.text(alphabet=hst.sampled_from(list("ab 😀𝔸\r\ne\u0301.")), min_size=1, max_size=30)


@settings(max_examples=50, deadline=None)
@given(texts, hst.data())
def test_gold_jsonl_round_trip(
    tmp_path_factory: pytest.TempPathFactory, text: str, data: hst.DataObject
) -> None:
    s = data.draw(hst.integers(0, len(text) - 1))
    e = data.draw(hst.integers(s + 1, len(text)))
    dec = Decision("adjudicated", ("ann-1", "ann-2"), decided_by="ann-3", rule=None)
    rec = GoldRecord(
        article_id="a\u00e9😀",
        text_sha256="0" * 64,
        entities=(GoldEntity(EntitySpan(s, e, "ORG", text[s:e]), dec),),
        stances=(GoldStance(StanceJudgement("iran", "favor"), Decision("unanimous", ("x",))),),
        claims=(
            GoldClaim(
                Claim(s, e, text[s:e], "check-worthy", "people\r\nbriefed"),
                Decision("tie", ("x",), rule="first"),
            ),
        ),
        annotators=("ann-1", "ann-2"),
    )
    path = tmp_path_factory.mktemp("gold") / "gold.jsonl"
    adj.write_gold(path, [rec])
    first = path.read_bytes()
    assert adj.read_gold(path) == [rec]
    adj.write_gold(path, adj.read_gold(path))
    assert path.read_bytes() == first and first.count(b"\n") == 1


def test_read_gold_names_the_bad_line(tmp_path: Path) -> None:
    p = tmp_path / "gold.jsonl"
    p.write_text('{"article_id": "a", "text_sha256": "x"}\n{"nope": 1}\n', encoding="utf-8")
    with pytest.raises(DataError) as err:
        adj.read_gold(p)
    assert f"{p}:2" in err.value.message and err.value.hint


def test_dispute_tasks_carry_each_annotators_version(config: CorpusConfig) -> None:
    raw = task(
        "a1",
        TEXT,
        {
            "ann-a": [
                ent(TEXT, "Tehran", "GPE", "t"),
                ent(TEXT, "Jens Stoltenberg", "PER", "p"),
                *clm(TEXT, "Russia moved drones", "c", "check-worthy", None),
                {
                    "type": "relation",
                    "from_id": "p",
                    "to_id": "c",
                    "direction": "right",
                    "labels": ["claimant"],
                },
                *stn(iran="favor"),
            ],
            "ann-b": [
                ent(TEXT, "Tehran", "LOC", "t"),
                *clm(TEXT, "Russia moved drones", "c", "check-worthy", "people briefed"),
                *stn(iran="against"),
            ],
        },
    )
    anns = parse(config, [raw])
    res = adj.adjudicate(config=config, annotations=anns, articles=ARTS)
    (t,) = adj.dispute_tasks(config=config, disputes=res.disputes, annotations=anns, articles=ARTS)
    assert t["data"]["text"] == TEXT and t["data"]["text_sha256"] == ARTS["a1"].text_sha256
    assert sorted(t["data"]["dispute_ids"]) == sorted(d.dispute_id for d in res.disputes)
    assert "stance on iran" in t["data"]["disputes"]
    assert [p["model_version"] for p in t["predictions"]] == ["ann-a", "ann-b"]
    # each prediction parses back (through the real exports edge) into that annotator's labels
    back = parse_task(
        {
            "id": 1,
            "data": t["data"],
            "annotations": [
                {"id": i, "completed_by": p["model_version"], "result": p["result"]}
                for i, p in enumerate(t["predictions"])
            ],
        },
        config.scheme,
    )

    def labels(a: Any) -> tuple:
        return (
            [(e.start, e.end, e.label, e.text) for e in a.entities],
            a.stances,
            [(c.start, c.end, c.checkworthy, c.claimant) for c in a.claims],
        )

    assert [labels(a) for a in back] == [labels(a) for a in anns]


def test_cli_adjudicate_writes_gold_and_disputes(cli: CliRun, tmp_path: Path) -> None:
    tasks = [
        task(
            "a1",
            TEXT,
            {
                "ann-a": [ent(TEXT, "NATO", "ORG", "n"), *stn(iran="favor")],
                "ann-b": [ent(TEXT, "NATO", "ORG", "n"), *stn(iran="against")],
            },
        )
    ]
    root = corpus_with(tmp_path, tasks, {"a1": TEXT})
    res = cli("adjudicate", "--json", cwd=root)
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert (out["articles"], out["open_disputes"], out["dispute_tasks"]) == (1, 1, 1)
    gold = adj.read_gold(root / "build/gold.jsonl")
    assert [e.span.text for e in gold[0].entities] == ["NATO"]
    disputes = orjson.loads((root / "build/disputes.json").read_bytes())
    assert disputes[0]["data"]["dispute_ids"] == ["a1/stance/iran"]
    files = {p: p.read_bytes() for p in (root / "build").glob("*.json*")}
    cfg = load_config(root / "corpus.toml")
    assert json.loads(json.dumps(adj.run(config=cfg))) == out  # --json is the library's dict
    assert {p: p.read_bytes() for p in files} == files  # deterministic rerun
    table = cli("adjudicate", cwd=root)
    assert table.exit_code == 0 and "1 open disputes" in table.stdout


@pytest.mark.parametrize("where", ["adjudication", "elsewhere"])
def test_cli_adjudicate_applies_decisions_read_from_files(
    cli: CliRun, tmp_path: Path, where: str
) -> None:
    """Decisions pulled into adjudication/ (or passed with --decisions) settle the disputes;
    the --json summary names what is left open and what was dropped."""
    root = corpus_with(tmp_path, [task("a1", TEXT, tehran_and_iran_disputed())], {"a1": TEXT})
    before = json.loads(cli("adjudicate", "--json", cwd=root).stdout)
    assert (before["open_disputes"], before["dropped"], before["decisions"]) == (2, 0, 0)
    assert sorted(d["dispute_id"] for d in before["disputes"]) == [
        f"a1/entities/{TEXT.index('Tehran')}-{TEXT.index('Tehran') + 6}",
        "a1/stance/iran",
    ]
    judged = task(
        "a1", TEXT, {"ann-judge": [ent(TEXT, "Tehran", "GPE", "t"), *stn(iran="neutral")]}
    )
    folder = root / where / "proj" / "tasks"
    folder.mkdir(parents=True)
    (folder / "a1.json").write_bytes(orjson.dumps(judged))
    args = ["--decisions", str(root / where)] if where != "adjudication" else []
    res = cli("adjudicate", "--json", *args, cwd=root)
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert (out["open_disputes"], out["dropped"], out["decisions"]) == (0, 0, 1)
    assert out["disputes"] == [] and out["stats"]["stance.adjudicated"] == 1
    (gold,) = adj.read_gold(root / "build/gold.jsonl")
    tehran = next(e for e in gold.entities if e.span.text == "Tehran")
    assert (tehran.span.label, tehran.decision.decided_by) == ("GPE", "ann-judge")
    assert stance_of(adj.AdjudicationResult([gold], [])).stance.label == "neutral"  # type: ignore[union-attr]
    cfg = load_config(root / "corpus.toml")
    path = None if where == "adjudication" else root / where
    (decision,) = adj.load_decisions(cfg, path)
    assert (decision.annotator, decision.article_id) == ("ann-judge", "a1")
    assert [s.label for s in decision.stances if s.target == "iran"] == ["neutral"]
    dropped = with_rules(cfg, tie_rule="drop")
    res = adj.adjudicate(
        config=dropped, annotations=parse(cfg, [task("a1", TEXT, tehran_and_iran_disputed())])
    )
    summary = res.to_dict()
    assert (summary["open_disputes"], summary["dropped"], summary["disputes"]) == (0, 2, [])


def test_cli_adjudicate_without_articles_is_a_usage_error(cli: CliRun, tmp_path: Path) -> None:
    root = corpus_with(tmp_path, [task("a1", TEXT, {"ann-a": stn(iran="favor")})])
    res = cli("adjudicate", cwd=root)
    assert res.exit_code == 2 and "corpus ingest" in res.stderr
    missing = cli("adjudicate", "--annotations", "nowhere", cwd=root)
    assert missing.exit_code == 2 and "corpus ls pull" in missing.stderr


# --- a dispute through a real Label Studio --------------------------------------------------


@pytest.mark.labelstudio
def test_dispute_round_trip_through_label_studio(
    cli: CliRun,
    tmp_path: Path,
    label_studio: LabelStudioFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    # a pull writes pseudonyms, and those need a secret key (issue 10 point 12)
    monkeypatch.setenv("CORPUS_PSEUDONYM_KEY", "adjudication-round-trip-test-key")
    tasks = [task("a1", TEXT, tehran_and_iran_disputed())]
    root = corpus_with(tmp_path, tasks, {"a1": TEXT})
    assert cli("adjudicate", cwd=root).exit_code == 0
    cfg = load_config(root / "corpus.toml")
    # The adjudication project: same labeling config, its own title.
    adj_cfg = adj.adjudication_config(cfg)
    assert adj_cfg.labelstudio.project_title == "GeoNews adjudication"
    res = cli(
        "ls",
        "push",
        "--adjudication",
        "--url",
        label_studio.url,
        "--api-key",
        label_studio.api_key,
        "--json",
        cwd=root,
    )
    assert res.exit_code == 0, res.stderr
    pushed = json.loads(res.stdout)
    label_studio.track_project(pushed["project_id"])
    assert pushed["imported"] == 1
    pid = pushed["project_id"]
    with label_studio.http() as http:
        (t,) = http.get("/api/tasks/", params={"project": pid}).json()["tasks"]
        preds = http.get("/api/predictions/", params={"task": t["id"]}).json()
        assert sorted(p["model_version"] for p in preds) == ["ann-a", "ann-b"]
        # The adjudicator accepts ann-a's Tehran as GPE and decides the Iran stance.
        decision = [
            ent(TEXT, "Tehran", "GPE", "t"),
            ent(TEXT, "NATO", "ORG", "n"),
            *stn(united_states="neutral", iran="neutral", russia="against"),
        ]
        r = http.post(f"/api/tasks/{t['id']}/annotations/", json={"result": decision})
        assert r.status_code == 201, r.text
    res = cli(
        "ls",
        "pull",
        "--adjudication",
        "--url",
        label_studio.url,
        "--api-key",
        label_studio.api_key,
        cwd=root,
    )
    assert res.exit_code == 0, res.stderr
    out = cli("adjudicate", "--json", cwd=root)
    assert out.exit_code == 0, out.stderr
    summary = json.loads(out.stdout)
    assert (summary["open_disputes"], summary["decisions"]) == (0, 1)
    (gold,) = adj.read_gold(root / "build/gold.jsonl")
    iran = next(s for s in gold.stances if s.stance.target == "iran")
    tehran = next(e for e in gold.entities if e.span.text == "Tehran")
    assert iran.stance.label == "neutral" and tehran.span.label == "GPE"
    for d in (iran.decision, tehran.decision):
        assert d.provenance == "adjudicated"
        assert d.decided_by is not None and d.decided_by.startswith("ann-")  # a pseudonym
    assert tehran.decision.annotators == ("ann-a",) and iran.decision.annotators == ()
    raw = b"".join(p.read_bytes() for p in (root / "adjudication").rglob("*.json"))
    assert b"@" not in raw  # no e-mail address left the annotation tool
    assert json.loads((root / "build/disputes.json").read_text(encoding="utf-8")) == []


# --- properties over adversarial span sets ---------------------------------------------------

LABELS = ["ORG", "PER", "GPE"]
span_sets = hst.lists(
    hst.tuples(hst.integers(0, len(TEXT) - 1), hst.integers(1, 12), hst.sampled_from(LABELS)),
    max_size=5,
)


def _raw(spans: list[tuple[int, int, str]], prefix: str) -> list[dict]:
    out = []
    for i, (s, n, lab) in enumerate(spans):
        e = min(len(TEXT), s + n)
        out.append(
            {
                "id": f"{prefix}{i}",
                "from_name": "entities",
                "to_name": "text",
                "type": "labels",
                "value": {"start": s, "end": e, "text": TEXT[s:e], "labels": [lab]},
            }
        )
    return out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the config is immutable
)
@given(
    hst.lists(span_sets, min_size=1, max_size=4),
    hst.sampled_from(["majority-exact", "majority-overlap", "union"]),
)
def test_gold_spans_come_from_annotators_and_do_not_depend_on_order(
    config: CorpusConfig, versions: list[list[tuple[int, int, str]]], merge: str
) -> None:
    cfg = with_rules(config, span_merge=merge)
    anns = {f"ann-{i}": _raw(v, f"r{i}-") for i, v in enumerate(versions)}
    res = run(cfg, anns)
    rev = run(cfg, dict(reversed(list(anns.items()))))
    key = [(e.span.start, e.span.end, e.span.label, e.decision) for e in res.gold[0].entities]
    assert key == [
        (e.span.start, e.span.end, e.span.label, e.decision) for e in rev.gold[0].entities
    ]
    assert sorted(d.dispute_id for d in res.disputes) == sorted(d.dispute_id for d in rev.disputes)
    marked = {
        (min(len(TEXT), s + n) and s, min(len(TEXT), s + n), lab)
        for v in versions
        for s, n, lab in v
    }
    for g in res.gold[0].entities:
        assert (g.span.start, g.span.end, g.span.label) in marked  # never invented
        assert TEXT[g.span.start : g.span.end] == g.span.text
        assert set(g.decision.annotators) <= set(anns)
    # every annotator marking the same spans: all unanimous, nothing disputed
    same = run(cfg, {w: _raw(versions[0], "s") for w in ("ann-x", "ann-y", "ann-z")})
    assert not same.disputes
    assert {g.decision.provenance for g in same.gold[0].entities} <= {"unanimous"}


# --- annotations made on another text of the article (issue 10, loose end 1) -----------------


def test_an_annotation_made_on_another_text_is_reported_and_left_out_of_the_vote(
    config: CorpusConfig,
) -> None:
    old = "Breaking: " + TEXT  # an earlier text of a1: every offset is shifted
    current = task(
        "a1",
        TEXT,
        {
            "ann-a": [ent(TEXT, "NATO", "ORG", "n"), *stn(iran="favor")],
            "ann-b": [ent(TEXT, "NATO", "ORG", "n"), *stn(iran="favor")],
        },
    )
    stale_task = task("a1", old, {"ann-c": [ent(old, "NATO", "PER", "n"), *stn(iran="against")]})
    only_stale = task("a2", old, {"ann-a": stn(iran="neutral")})
    annotations = parse(config, [current, stale_task, only_stale])
    arts = {"a1": article("a1", TEXT), "a2": article("a2", TEXT)}
    res = adj.adjudicate(config=config, annotations=annotations, articles=arts)
    # a2 has no annotation on its text: no gold made from the old one
    assert [g.article_id for g in res.gold] == ["a1"]
    (gold,) = res.gold
    assert gold.annotators == ("ann-a", "ann-b") and gold.text_sha256 == arts["a1"].text_sha256
    assert [(e.span.start, e.span.label, e.decision.provenance) for e in gold.entities] == [
        (TEXT.index("NATO"), "ORG", "unanimous")
    ]
    assert [(s.stance.label, s.decision.provenance) for s in gold.stances] == [
        ("favor", "unanimous")
    ]
    ann_c = stale_task["annotations"][0]
    ann_a2 = only_stale["annotations"][0]
    assert [(f.slug, f.file, f.task_id, f.annotation_id) for f in res.findings] == [
        ("stale-annotation", "test.json", stale_task["id"], ann_c["id"]),
        ("stale-annotation", "test.json", only_stale["id"], ann_a2["id"]),
    ]
    assert "ann-c" in res.findings[0].message and "a1" in res.findings[0].message
    assert res.stats["annotations.stale"] == 2
    assert res.to_dict()["findings"] == [f.to_dict() for f in res.findings]
    # the dispute queue shows no version made on the old text either
    split = task("a1", TEXT, {"ann-a": stn(iran="favor"), "ann-b": stn(iran="against")})
    anns = parse(config, [split, stale_task])
    res = adj.adjudicate(config=config, annotations=anns, articles=arts)
    (t,) = adj.dispute_tasks(config=config, disputes=res.disputes, annotations=anns, articles=arts)
    assert [p["model_version"] for p in t["predictions"]] == ["ann-a", "ann-b"]


def test_cli_adjudicate_reports_a_stale_annotation(cli: CliRun, tmp_path: Path) -> None:
    old = "Breaking: " + TEXT
    fresh = task("a1", TEXT, {"ann-a": stn(iran="favor"), "ann-b": stn(iran="favor")})
    root = corpus_with(tmp_path, [fresh], {"a1": TEXT})
    stale_task = task("a1", old, {"ann-c": stn(iran="against")})
    stale_file = root / "annotations" / "proj" / "tasks" / "a1-old.json"
    stale_file.write_bytes(json.dumps(stale_task).encode())
    res = cli("adjudicate", "--json", cwd=root)
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    (f,) = out["findings"]
    assert f["slug"] == "stale-annotation" and f["file"].endswith("a1-old.json")
    assert (f["task_id"], f["annotation_id"]) == (
        stale_task["id"],
        stale_task["annotations"][0]["id"],
    )
    (g,) = adj.read_gold(root / "build/gold.jsonl")
    assert g.annotators == ("ann-a", "ann-b")
    table = cli("adjudicate", cwd=root)
    assert table.exit_code == 0 and "stale-annotation" in table.stdout + table.stderr
