"""models/project: annotations carried across a story's outlets, measured on the sample gold.

The sample corpus is ingested and adjudicated for real. Precision and recall are recomputed
here from the GoldArticles with plain set arithmetic (independently of `score_article`), and the
figures `evaluate_projection` reports must equal them. Synthetic texts cover what the sample
cannot: emoji, CRLF and combining marks before and inside reprinted sentences whose edits shift
the offsets, and spans the reprint edited (which must not be carried).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import copy_gold, make_article

from corpus_tools.config import load_config
from corpus_tools.model import Article, Claim, EntitySpan, Sentence
from corpus_tools.models.data import GoldArticle, TrainingSet, load_training_set
from corpus_tools.models.project import (
    Projected,
    align_story,
    evaluate_projection,
    project_sentences,
    score_article,
    story_surface_forms,
)

SEED_FILES = ("articles/000_0d9cd822c3ba238f.txt", "articles/002_8995198625a47cb8.txt")
WIRE_IAEA = "art-1c99e979d93f4786"  # Northbridge Wire's IAEA report (id "nbw-20230904-...")


@pytest.fixture(scope="module")
def gold(sample_gold: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainingSet:
    dest = copy_gold(sample_gold, tmp_path_factory.mktemp("project") / "corpus")
    return load_training_set(load_config(dest / "corpus.toml"))


def _siblings(ts: TrainingSet, target: GoldArticle) -> list[GoldArticle]:
    return [g for g in ts if g.story == target.story and g.article_id != target.article_id]


def _overlaps(start: int, end: int, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in ranges)


def _counts(gold: GoldArticle, preds: Sequence[Projected], *, claims: bool) -> dict[str, int]:
    """tp/fp/fn over entities (and claims), recomputed with sets (missing ranges left out)."""
    ents = {
        (p.start, p.end, p.label)
        for p in preds
        if p.kind == "entity" and not _overlaps(p.start, p.end, gold.missing_entities)
    }
    cls = {
        (p.start, p.end)
        for p in preds
        if p.kind == "claim" and not _overlaps(p.start, p.end, gold.missing_claims)
    }
    g_ents = {(e.start, e.end, e.label) for e in gold.entities}
    g_claims = {(c.start, c.end) for c in gold.claims} if claims else set()
    return {
        "tp": len(ents & g_ents) + len(cls & g_claims),
        "fp": len(ents - g_ents) + len(cls - g_claims),
        "fn": len(g_ents - ents) + len(g_claims - cls),
    }


def _add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: a.get(k, 0) + b.get(k, 0) for k in ("tp", "fp", "fn")}


# -- the sample ------------------------------------------------------------------------------


def test_surface_forms_on_the_seed_story(gold: TrainingSet) -> None:
    by_source = {g.article.source: g for g in gold}
    seeds = [by_source[f] for f in SEED_FILES]
    # the two seed articles are two outlets' versions of one story
    assert seeds[0].story == seeds[1].story
    story = [g for g in gold if g.story == seeds[0].story]
    assert len(story) >= 2
    total = {"tp": 0, "fp": 0, "fn": 0}
    report = evaluate_projection(gold)
    per_article = {r["article_id"]: r for r in report["methods"]["surface"]["per_article"]}
    for target in story:
        siblings = _siblings(gold, target)
        preds = story_surface_forms(target.article, siblings)
        assert preds
        sib_ids = {s.article_id for s in siblings}
        sib_forms: dict[str, dict[str, int]] = {}
        for s in siblings:
            for e in s.entities:
                form = " ".join(e.text.split())
                sib_forms.setdefault(form, {}).setdefault(e.label, 0)
                sib_forms[form][e.label] += 1
        for p in preds:
            text = target.article.text
            assert text[p.start : p.end] == p.text
            assert p.method == "surface" and p.kind == "entity"
            assert p.source in sib_ids
            form = " ".join(p.text.split())
            labels = sib_forms[form]
            # the majority label among the siblings' gold, scored at most its share
            assert labels[p.label or ""] == max(labels.values())
            assert 0 < p.score <= labels[p.label or ""] / sum(labels.values()) + 1e-9
            # the source labelled this form with this label
            src = next(s for s in siblings if s.article_id == p.source)
            assert any(
                " ".join(e.text.split()) == form and e.label == p.label for e in src.entities
            )
        # no two predictions overlap
        spans = sorted((p.start, p.end) for p in preds)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
        c = _counts(target, preds, claims=False)
        got = per_article[target.article_id]
        assert (got["tp"], got["fp"], got["fn"]) == (c["tp"], c["fp"], c["fn"])
        total = _add(total, c)
    precision = total["tp"] / (total["tp"] + total["fp"])
    recall = total["tp"] / (total["tp"] + total["fn"])
    assert recall > 0 and precision > 0.5, (precision, recall)
    # the whole sample: evaluate_projection's micro figures are the sum over its articles
    overall = {"tp": 0, "fp": 0, "fn": 0}
    for aid in report["articles"]:
        g = next(x for x in gold if x.article_id == aid)
        preds = story_surface_forms(g.article, _siblings(gold, g))
        overall = _add(overall, _counts(g, preds, claims=False))
    m = report["methods"]["surface"]["overall"]
    assert (m["tp"], m["fp"], m["fn"]) == (overall["tp"], overall["fp"], overall["fn"])
    assert m["precision"] == pytest.approx(overall["tp"] / (overall["tp"] + overall["fp"]))
    assert m["recall"] == pytest.approx(overall["tp"] / (overall["tp"] + overall["fn"]))


def test_sentence_projection_on_the_reprinted_article(gold: TrainingSet) -> None:
    wire = next(g for g in gold if g.article_id == WIRE_IAEA)
    (reprint,) = [g for g in gold if g.story == wire.story and g.article.outlet == "Iberian Times"]
    siblings = _siblings(gold, reprint)
    al = align_story(reprint.article, siblings)
    # reprinted sentences come from the wire copy only; some verbatim, some edited
    assert {p.source for p in al.pairs} == {WIRE_IAEA}
    sims = [p.similarity for p in al.pairs]
    assert any(s == 1.0 for s in sims) and any(0.9 <= s < 1.0 for s in sims)
    preds = project_sentences(reprint.article, siblings)
    assert preds == al.projected
    text = reprint.article.text
    for p in preds:
        assert text[p.start : p.end] == p.text  # exact offsets in the reprint
        assert p.method == "sentence" and p.source == WIRE_IAEA
        # the projected span lies in a sentence the alignment paired
        assert any(x.target[0] <= p.start and p.end <= x.target[1] for x in al.pairs)
        assert p.score in sims
    # the paragraph the reprint dropped projects nothing: every source span carried lies in
    # a paired source sentence
    paired = [x.source_span for x in al.pairs]
    wire_text = wire.article.text
    dropped = wire_text.index("Uranium enriched to 60% is a short technical step")
    assert all(s < dropped for s, _ in paired)
    c = _counts(reprint, preds, claims=True)
    precision = c["tp"] / (c["tp"] + c["fp"])
    recall = c["tp"] / (c["tp"] + c["fn"])
    assert recall > 0 and precision > 0.5, (precision, recall)
    assert any(p.kind == "claim" for p in preds)
    report = evaluate_projection(gold)
    got = {r["article_id"]: r for r in report["methods"]["sentence"]["per_article"]}
    r = got[reprint.article_id]
    assert (r["tp"], r["fp"], r["fn"]) == (c["tp"], c["fp"], c["fn"])
    assert score_article(reprint, preds, claims=True)["claim"]["tp"] >= 1
    # within the reprinted sentences (what projection can reach) the same true and false
    # positives, fewer misses
    sent = report["methods"]["sentence"]
    assert sent["aligned"]["tp"] == sent["overall"]["tp"] > 0
    assert sent["aligned"]["fp"] == sent["overall"]["fp"]
    assert sent["aligned"]["fn"] < sent["overall"]["fn"]
    assert sent["pairs"] >= len(al.pairs)


# -- synthetic texts -------------------------------------------------------------------------


def _article(aid: str, text: str, story: str = "s1") -> Article:
    """An article with sentences cut after . ! ? followed by whitespace (as ingest would)."""
    sents = []
    start = 0
    for m in re.finditer(r"(?<![A-Z])[.!?](?=\s|$)", text):  # not after an initial
        seg = text[start : m.end()]
        lead = len(seg) - len(seg.lstrip())
        if seg.strip():
            sents.append(Sentence(start + lead, m.end()))
        start = m.end()
    return make_article(text, aid, story, sentences=tuple(sents))


def _ent(text: str, mention: str, label: str, nth: int = 0) -> EntitySpan:
    i = -1
    for _ in range(nth + 1):
        i = text.index(mention, i + 1)
    return EntitySpan(i, i + len(mention), label, mention)


JOSE = "Jose\u0301 Marti\u0301"  # decomposed: each accent a combining mark (its own code point)
SOURCE = (
    "MADRID (Wire) \u2014 Officials said " + JOSE + " met 🇪🇸 envoys in Zürich on Monday.\n\n"
    "The talks, chaired by Ana Silva with Iran observers, ended without a deal after many hours."
)
# the reprint: emoji and a CRLF dateline before, a clause added and a CRLF inside the first
# sentence (offsets shift), one name edited, "Iran" turned into "Iranian"
TARGET = (
    "😀𝔸 BARCELONA, May 2 (Wire) \u2014\r\nOfficials said "
    + JOSE
    + ", the mayor, met 🇪🇸 envoys in\r\nZürich on Monday.\r\n\r\n"
    "The talks, chaired by Ana M. Silva with Iranian observers, ended without a deal after many "
    "hours."
)


def _source_gold() -> GoldArticle:
    art = _article("src", SOURCE)
    first = SOURCE.index("Officials")
    end = SOURCE.index("Monday.") + len("Monday")
    return GoldArticle(
        art,
        entities=(
            _ent(SOURCE, "MADRID", "GPE"),
            _ent(SOURCE, JOSE, "PER"),
            _ent(SOURCE, "Zürich", "GPE"),
            _ent(SOURCE, "Monday", "DATE"),
            _ent(SOURCE, "Ana Silva", "PER"),
            _ent(SOURCE, "Iran", "GPE"),
        ),
        claims=(Claim(first, end, SOURCE[first:end], "check-worthy", None),),
    )


def test_projection_lands_on_the_right_code_points_after_edits() -> None:
    src = _source_gold()
    target = _article("tgt", TARGET)
    al = align_story(target, [src], min_similarity=0.8)
    got = {(p.label, p.text): p for p in al.projected if p.kind == "entity"}
    for label, mention in (("PER", JOSE), ("GPE", "Zürich"), ("DATE", "Monday")):
        p = got[(label, mention)]
        assert (p.start, p.end) == (TARGET.index(mention), TARGET.index(mention) + len(mention))
        assert TARGET[p.start : p.end] == mention == p.text
        assert p.source == "src" and 0.8 <= p.score < 1.0
    # the combining marks are inside the span, none is cut off at its end
    p = got[("PER", JOSE)]
    assert unicodedata.category(TARGET[p.end - 1]) == "Mn"
    assert p.end == len(TARGET) or unicodedata.category(TARGET[p.end]) != "Mn"
    # the emoji and the astral letter before it are counted as one code point each
    assert TARGET[:2] == "😀𝔸" and len(TARGET[:2]) == 2


def test_edited_spans_are_not_projected() -> None:
    src = _source_gold()
    target = _article("tgt", TARGET)
    al = align_story(target, [src], min_similarity=0.8)
    carried = {(p.kind, p.text) for p in al.projected}
    # "Ana Silva" became "Ana M. Silva"; "Iran" is glued into "Iranian"; the claim gained a
    # clause: none is carried, each is reported
    assert ("entity", "Ana Silva") not in carried
    assert not any(p.text.startswith("Iran") for p in al.projected)
    assert not any(p.kind == "claim" for p in al.projected)
    reported = {(u.kind, u.text) for u in al.unprojected}
    assert ("entity", "Ana Silva") in reported and ("entity", "Iran") in reported
    assert any(u.kind == "claim" for u in al.unprojected)
    for u in al.unprojected:
        assert SOURCE[u.start : u.end] == u.text and u.source == "src"
    # the dateline's city was rewritten: reported, not carried
    assert ("entity", "MADRID") not in carried and ("entity", "MADRID") in reported
    # below the similarity threshold nothing is paired at all
    assert project_sentences(target, [src], min_similarity=0.999) == []


def test_verbatim_reprint_carries_everything_exactly() -> None:
    src = _source_gold()
    target = _article("tgt", "🛰️ Reprinted.\r\n\r\n" + SOURCE.replace("\n\n", "\r\n\r\n"))
    preds = project_sentences(target, [src])
    want = {(e.label, e.text) for e in src.entities} | {("claim", c.text) for c in src.claims}
    assert {(p.label or "claim", p.text) for p in preds} == want
    for p in preds:
        assert target.text[p.start : p.end] == p.text and p.score == 1.0


def test_surface_forms_rules_and_score() -> None:
    t1 = "Georgia voted. Georgia said no. The Georgia office in Georgia opened."
    t2 = "Georgia Smith spoke. Later Georgia left, and Georgia waved."
    s1 = GoldArticle(
        _article("a1", t1),
        entities=(_ent(t1, "Georgia", "GPE", 0), _ent(t1, "Georgia", "GPE", 1)),
        # the 3rd occurrence is unlabelled; the 4th is inside an open dispute: unknown
        missing_entities=((t1.index("in Georgia") + 3, t1.index("in Georgia") + 10),),
    )
    s2 = GoldArticle(
        _article("a2", t2),
        entities=(_ent(t2, "Georgia Smith", "PER"), _ent(t2, "Georgia", "PER", 1)),
    )
    target_text = "😀 Georgia\r\nSmith met Georgians in Georgia; GEORGIA and Georgia\u0301 too."
    preds = story_surface_forms(_article("t", target_text), [s1, s2])
    got = [(p.text, p.label, p.score, p.source) for p in preds]
    # "Georgia": GPE in 2 of its 3 gold labels; labelled at 3 of its 6 known whole-word
    # occurrences (a1: 2 labelled, 1 unlabelled, 1 in a missing range left out; a2: 1
    # labelled, 1 unlabelled, and the one starting "Georgia Smith" is an unlabelled
    # occurrence of the shorter form) -> 2/3 * 3/6; source a1 (the only GPE labeller).
    # "Georgia Smith" (matched across the CRLF): PER, labelled at its only occurrence -> 1.0
    assert got == [
        ("Georgia\r\nSmith", "PER", 1.0, "a2"),
        ("Georgia", "GPE", pytest.approx(2 / 3 * 3 / 6), "a1"),
    ]
    for p in preds:
        assert target_text[p.start : p.end] == p.text
    # not in "Georgians", not "GEORGIA", not before a combining mark
    assert len(preds) == 2


def test_evaluation_leaves_missing_ranges_out() -> None:
    t1 = "Kyiv said Moscow lied. Kyiv asked for help."
    t2 = "Moscow denied it. Kyiv and Moscow spoke."
    g1 = GoldArticle(
        _article("a1", t1),
        entities=(_ent(t1, "Kyiv", "GPE"), _ent(t1, "Moscow", "GPE"), _ent(t1, "Kyiv", "GPE", 1)),
    )
    g2 = GoldArticle(
        _article("a2", t2),
        entities=(_ent(t2, "Moscow", "GPE"), _ent(t2, "Kyiv", "GPE")),
        missing_entities=((t2.index("Moscow spoke"), t2.index("Moscow spoke") + 6),),
    )
    ts = TrainingSet((g1, g2), "test", "", "")
    report = evaluate_projection(ts)
    surf = report["methods"]["surface"]
    # a2 from a1: Moscow, Kyiv right; the second Moscow is in a missing range (left out)
    # a1 from a2: Kyiv x2, Moscow right
    assert (surf["overall"]["tp"], surf["overall"]["fp"], surf["overall"]["fn"]) == (5, 0, 0)
    assert surf["excluded"] == 1
    assert surf["overall"]["precision"] == 1.0 and surf["overall"]["recall"] == 1.0
    # an article alone in its story is not evaluated
    lone = GoldArticle(_article("a3", t1, story="s2"), entities=g1.entities)
    assert "a3" not in evaluate_projection(TrainingSet((g1, g2, lone), "t", "", ""))["articles"]
