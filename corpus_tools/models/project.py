"""Annotations carried across a story's outlets (no model: the siblings' own gold).

The articles of one story name the same people, places and weapons, and wire copy is often
reprinted with small edits. Two ways to carry a sibling's adjudicated labels onto a target
article of the same story, each prediction naming the sibling it came from (`source`):

- `story_surface_forms` (method "surface"): every surface form adjudicated in a sibling is
  suggested wherever it occurs in the target: whole word (no letter, digit, underscore or
  combining mark on either side), case-sensitive, a multi-word form matching across any run of
  whitespace (a CRLF included; the span keeps the target's own whitespace). The label is the
  form's most frequent gold label among the siblings (ties: the label that sorts first).
  Score = label share × labelled rate, where label share = that label's gold count / the form's
  gold count, and labelled rate = the form's labelled occurrences / all its whole-word
  occurrences in the siblings' texts (occurrences inside a sibling's missing ranges are left out:
  unknown, not unlabelled). A form labelled everywhere it occurs with one label scores 1.0.
  Source = the sibling with most gold spans of that form and label (ties: the smallest
  article_id). Overlapping matches in the target: the longer form wins, then the higher score,
  then the leftmost.
- `project_sentences` (method "sentence"): a sibling sentence that the target reprints
  (identical, or near-identical: character-level `difflib.SequenceMatcher` ratio ≥
  `min_similarity` on whitespace-normalised text) has its gold entity spans and claims
  projected through the character alignment onto the target. Candidate pairs are found cheaply
  first (a shared word 5-gram, or the whole word sequence of a sentence under five words, and a
  length filter that the ratio cannot beat), so the quadratic alignment runs only on likely
  pairs. A span is projected only if its whole (whitespace-normalised) text maps onto an
  identical substring of the target with the same word boundaries; a span the reprint edited
  (a word changed inside it, a clause added inside a claim) is *not projected* and reported as
  such by `align_story` (`Alignment.unprojected`). Projected offsets are code points into the
  target's exact text and `target.text[start:end] == text` always; the text may differ from the
  sibling's only in its whitespace (a CRLF for a space). Score = the sentence's similarity
  ratio (1.0 for a verbatim reprint). When several siblings project the same span, the highest
  score wins (ties: the smallest article_id); overlapping entity projections keep the higher
  score, then the longer span, then the leftmost.

`evaluate_projection` measures both against the gold itself, leave-one-article-out inside each
story: each article that has siblings is predicted from its siblings' gold only and compared with
its own gold. Exact matches (start, end, label; for claims start and end) are true positives.
A prediction overlapping the target's missing ranges (open disputes, dropped ties) is neither a
true nor a false positive: it is left out. Nothing here imports a heavy library.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import Any, Literal

from corpus_tools.model import Article
from corpus_tools.models.data import GoldArticle, Range, TrainingSet
from corpus_tools.preannotate import keep_non_overlapping

SHINGLE = 5  # words per candidate key (a shared word 5-gram makes a candidate sentence pair)

Kind = Literal["entity", "claim"]
Method = Literal["surface", "sentence"]


@dataclass(frozen=True, slots=True)
class Projected:
    """A label carried from a sibling onto the target; `text == target.text[start:end]`."""

    kind: Kind
    start: int
    end: int
    text: str
    label: str | None  # entity label (None for a claim)
    checkworthy: str | None  # claims only
    score: float
    source: str  # the sibling article_id it was carried from
    method: Method


@dataclass(frozen=True, slots=True)
class Unprojected:
    """A sibling span inside a reprinted sentence that the reprint edited (not carried)."""

    kind: Kind
    source: str
    start: int  # offsets in the source article
    end: int
    text: str
    label: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class SentencePair:
    """A target sentence that reprints a sibling's sentence (offsets in each article)."""

    target: tuple[int, int]
    source: str
    source_span: tuple[int, int]
    similarity: float


@dataclass(slots=True)
class Alignment:
    """What `align_story` found: reprinted sentences, projected and edited (unprojected) spans."""

    pairs: list[SentencePair] = field(default_factory=list)
    projected: list[Projected] = field(default_factory=list)
    unprojected: list[Unprojected] = field(default_factory=list)


# -- text helpers --------------------------------------------------------------------------


def _is_word_char(ch: str) -> bool:
    """A character that continues a word: letters, digits, underscore, combining marks."""
    return ch.isalnum() or ch == "_" or unicodedata.category(ch).startswith("M")


def _whole_word(text: str, start: int, end: int) -> bool:
    """True when text[start:end] has no word character glued on either side."""
    before = start > 0 and _is_word_char(text[start - 1])
    after = end < len(text) and _is_word_char(text[end])
    return not before and not after


def _boundaries(text: str, start: int, end: int) -> tuple[bool, bool]:
    """(word glued on the left, word glued on the right) of text[start:end]."""
    return (
        start > 0 and _is_word_char(text[start - 1]),
        end < len(text) and _is_word_char(text[end]),
    )


def _norm_form(text: str) -> str:
    """A surface form's key: whitespace runs as one space, ends stripped."""
    return " ".join(text.split())


def _form_pattern(form: str) -> re.Pattern[str]:
    """The form as a case-sensitive regex; its spaces match any run of whitespace."""
    return re.compile(r"\s+".join(re.escape(w) for w in form.split(" ")))


def _find_form(text: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    """Whole-word matches of a form (overlapping starts tried one character on)."""
    out: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = pattern.search(text, pos)
        if m is None:
            return out
        if m.end() > m.start() and _whole_word(text, m.start(), m.end()):
            out.append((m.start(), m.end()))
        pos = m.start() + 1


def _overlaps(start: int, end: int, ranges: Iterable[Range]) -> bool:
    return any(start < e and s < end for s, e in ranges)


class _Normalised:
    """A text slice with whitespace runs collapsed to one space, mapped back to code points.

    `text[i]` came from `orig[i]` (an absolute offset into the article); `norm_of[k]` is the
    normalised index of absolute offset `offset + k` (a whitespace character maps to the space
    its run became, or to the next character when the run was stripped).
    """

    __slots__ = ("norm_of", "offset", "orig", "text")

    def __init__(self, full: str, start: int, end: int) -> None:
        chars: list[str] = []
        orig: list[int] = []
        norm_of: list[int] = []
        pending_space = -1
        for i in range(start, end):
            ch = full[i]
            if ch.isspace():
                if chars and pending_space < 0:
                    pending_space = i
                norm_of.append(len(chars))
                continue
            if pending_space >= 0:
                chars.append(" ")
                orig.append(pending_space)
                pending_space = -1
            norm_of.append(len(chars))
            chars.append(ch)
            orig.append(i)
        self.text = "".join(chars)
        self.orig = orig
        self.norm_of = norm_of
        self.offset = start

    def to_norm(self, start: int, end: int) -> tuple[int, int]:
        """Absolute [start, end) → normalised [s, e) (end exclusive, last char included)."""
        s = self.norm_of[start - self.offset]
        e = self.norm_of[end - 1 - self.offset] + 1
        return s, e

    def to_orig(self, s: int, e: int) -> tuple[int, int]:
        """Normalised [s, e) → absolute [start, end)."""
        return self.orig[s], self.orig[e - 1] + 1


def _sentences(article: Article) -> list[tuple[int, int]]:
    """The article's sentences (ingest's), or the whole text when it has none."""
    spans = [(s.start, s.end) for s in article.sentences if s.end > s.start]
    if spans:
        return spans
    return [(0, len(article.text))] if article.text.strip() else []


def _keys(words: Sequence[str]) -> set[tuple[str, ...]]:
    """Candidate keys of a sentence: its word 5-grams, or all its words if it has fewer."""
    if len(words) < SHINGLE:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


# -- (a) story surface forms ---------------------------------------------------------------


def story_surface_forms(target: Article, siblings: Sequence[GoldArticle]) -> list[Projected]:
    """Every surface form adjudicated in a sibling, suggested wherever it occurs in the target.

    See the module docstring for the label, score, source and overlap rules. Siblings that are
    the target itself (same article_id) are ignored, so a caller can pass the whole story.
    """
    sibs = [g for g in siblings if g.article_id != target.article_id]
    # form -> label -> sibling -> count
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    labelled_at: dict[str, set[tuple[str, int, int]]] = defaultdict(set)
    for g in sibs:
        for ent in g.entities:
            form = _norm_form(ent.text)
            if not form:
                continue
            counts[form][ent.label][g.article_id] += 1
            labelled_at[form].add((g.article_id, ent.start, ent.end))
    out: list[Projected] = []
    for form in sorted(counts):
        pattern = _form_pattern(form)
        occurrences = set(labelled_at[form])
        for g in sibs:
            for s, e in _find_form(g.article.text, pattern):
                if not _overlaps(s, e, g.missing_entities):
                    occurrences.add((g.article_id, s, e))
        by_label = counts[form]
        total = sum(sum(c.values()) for c in by_label.values())
        label = min(by_label, key=lambda lab: (-sum(by_label[lab].values()), lab))
        share = sum(by_label[label].values()) / total
        rate = len(labelled_at[form]) / len(occurrences)
        source = min(by_label[label], key=lambda aid: (-by_label[label][aid], aid))
        score = round(share * rate, 6)
        for s, e in _find_form(target.text, pattern):
            out.append(
                Projected("entity", s, e, target.text[s:e], label, None, score, source, "surface")
            )
    return _resolve_entities(out, prefer_longer=True)


def _resolve_entities(spans: list[Projected], *, prefer_longer: bool) -> list[Projected]:
    """Non-overlapping entity spans, sorted by offset.

    Surface: longest first, then highest score, then leftmost. Sentence: highest score first,
    then longest, then leftmost. Equal spans keep the smallest source id.
    """

    def rank(p: Projected) -> tuple[Any, ...]:
        length = p.end - p.start
        first = (-length, -p.score) if prefer_longer else (-p.score, -length)
        return (*first, p.start, p.label or "", p.source)

    kept = keep_non_overlapping(spans, rank)
    return sorted(kept, key=lambda p: (p.start, p.end, p.label or ""))


# -- (b) sentence projection ---------------------------------------------------------------


def align_story(
    target: Article, siblings: Sequence[GoldArticle], *, min_similarity: float = 0.9
) -> Alignment:
    """Reprinted sentences between the target and its siblings, and the spans carried.

    `Alignment.projected` is what `project_sentences` returns; `Alignment.unprojected` lists
    the sibling spans inside a reprinted sentence that the reprint edited (not carried), and
    `Alignment.pairs` the sentence pairs with their similarity.
    """
    result = Alignment()
    sibs = [g for g in siblings if g.article_id != target.article_id]
    text = target.text
    tgt_sents = [_Normalised(text, s, e) for s, e in _sentences(target)]
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, ns in enumerate(tgt_sents):
        for key in _keys(ns.text.split()):
            index[key].append(i)
    candidates: list[Projected] = []
    for g in sorted(sibs, key=lambda x: x.article_id):
        for s0, e0 in _sentences(g.article):
            src = _Normalised(g.article.text, s0, e0)
            if not src.text:
                continue
            cand = sorted({i for key in _keys(src.text.split()) for i in index.get(key, [])})
            best: tuple[float, int, SequenceMatcher[str]] | None = None
            for i in cand:
                tgt = tgt_sents[i]
                la, lb = len(src.text), len(tgt.text)
                if 2 * min(la, lb) / (la + lb) < min_similarity:
                    continue  # the ratio cannot reach the threshold
                sm = SequenceMatcher(None, src.text, tgt.text, autojunk=False)
                if sm.real_quick_ratio() < min_similarity or sm.quick_ratio() < min_similarity:
                    continue
                ratio = sm.ratio()
                if ratio >= min_similarity and (best is None or ratio > best[0]):
                    best = (ratio, i, sm)
            if best is None:
                continue
            ratio, i, sm = best
            tgt = tgt_sents[i]
            result.pairs.append(
                SentencePair(
                    (tgt.orig[0], tgt.orig[-1] + 1),
                    g.article_id,
                    (src.orig[0], src.orig[-1] + 1),
                    round(ratio, 6),
                )
            )
            items: list[tuple[Kind, int, int, str, str | None, str | None]] = [
                ("entity", e.start, e.end, e.text, e.label, None) for e in g.entities
            ] + [("claim", c.start, c.end, c.text, None, c.checkworthy) for c in g.claims]
            blocks = sm.get_matching_blocks()
            for kind, s, e, span_text, label, cw in items:
                if not (s0 <= s and e <= e0) or e <= s:
                    continue
                mapped = _map_span(g.article.text, src, tgt, text, s, e, blocks)
                if isinstance(mapped, str):
                    result.unprojected.append(
                        Unprojected(kind, g.article_id, s, e, span_text, label, mapped)
                    )
                    continue
                ts, te = mapped
                candidates.append(
                    Projected(
                        kind,
                        ts,
                        te,
                        text[ts:te],
                        label,
                        cw,
                        round(ratio, 6),
                        g.article_id,
                        "sentence",
                    )
                )
    result.projected = _dedupe(candidates)
    return result


def _map_span(
    src_text: str,
    src: _Normalised,
    tgt: _Normalised,
    tgt_text: str,
    start: int,
    end: int,
    blocks: Sequence[Any],
) -> tuple[int, int] | str:
    """The target offsets of a sibling span through the alignment, or why it is not carried."""
    ns, ne = src.to_norm(start, end)
    piece = src.text[ns:ne]
    if not piece.strip():
        return "blank span"
    length = ne - ns
    for a, b, size in blocks:
        # anchor on the block holding the span's first or last character; the whole span must
        # then read the same in the target (it may run across adjacent blocks)
        if a <= ns < a + size:
            ts = b + (ns - a)
        elif a <= ne - 1 < a + size:
            ts = b + (ne - 1 - a) - (length - 1)
        else:
            continue
        if ts < 0 or tgt.text[ts : ts + length] != piece:
            continue
        t0, t1 = tgt.to_orig(ts, ts + length)
        if _boundaries(tgt_text, t0, t1) != _boundaries(src_text, start, end):
            return "word boundary differs in the target"
        return t0, t1
    return "edited in the reprint"


def _dedupe(candidates: list[Projected]) -> list[Projected]:
    """One projection per span: entities resolved for overlap, claims deduplicated by span."""
    claims: dict[tuple[int, int], Projected] = {}
    for p in sorted(
        (c for c in candidates if c.kind == "claim"), key=lambda p: (-p.score, p.source)
    ):
        claims.setdefault((p.start, p.end), p)
    ents = _resolve_entities([c for c in candidates if c.kind == "entity"], prefer_longer=False)
    return sorted([*ents, *claims.values()], key=lambda p: (p.start, p.end, p.kind))


def project_sentences(
    target: Article, siblings: Sequence[GoldArticle], *, min_similarity: float = 0.9
) -> list[Projected]:
    """Sibling gold spans and claims carried through sentences the target reprints.

    Only spans whose text the reprint kept are carried (see `align_story` for the edited ones).
    """
    return align_story(target, siblings, min_similarity=min_similarity).projected


# -- (c) evaluation ------------------------------------------------------------------------


def _prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f}


def score_article(
    gold: GoldArticle, predicted: Sequence[Projected], *, claims: bool
) -> dict[str, dict[str, int]]:
    """tp/fp/fn per entity label (and "claim" when `claims`) for one article's predictions.

    Exact match; predictions overlapping the article's missing ranges are left out.
    """
    counts: dict[str, dict[str, int]] = defaultdict(
        lambda: {"tp": 0, "fp": 0, "fn": 0, "excluded": 0}
    )
    gold_ents = {(e.start, e.end, e.label) for e in gold.entities}
    pred_ents: set[tuple[int, int, str]] = set()
    for p in predicted:
        if p.kind != "entity" or p.label is None:
            continue
        if _overlaps(p.start, p.end, gold.missing_entities):
            counts[p.label]["excluded"] += 1
            continue
        pred_ents.add((p.start, p.end, p.label))
    for key in pred_ents:
        counts[key[2]]["tp" if key in gold_ents else "fp"] += 1
    for key in gold_ents - pred_ents:
        counts[key[2]]["fn"] += 1
    if claims:
        gold_claims = {(c.start, c.end) for c in gold.claims}
        pred_claims: set[tuple[int, int]] = set()
        for p in predicted:
            if p.kind != "claim":
                continue
            if _overlaps(p.start, p.end, gold.missing_claims):
                counts["claim"]["excluded"] += 1
                continue
            pred_claims.add((p.start, p.end))
        counts["claim"]["tp"] += len(pred_claims & gold_claims)
        counts["claim"]["fp"] += len(pred_claims - gold_claims)
        counts["claim"]["fn"] += len(gold_claims - pred_claims)
    return {k: dict(v) for k, v in counts.items()}


def evaluate_projection(training: TrainingSet, *, min_similarity: float = 0.9) -> dict[str, Any]:
    """Leave-one-article-out inside each story: each article predicted from its siblings' gold.

    Returns {"articles": [article ids evaluated], "stories": n, "methods": {"surface": ...,
    "sentence": ...}} where each method has "overall" (micro over everything it predicts:
    entities for "surface", entities and claims for "sentence"), "entities", "claims" (sentence
    only), "labels" (per entity label) — each with tp, fp, fn, precision, recall, f1 — plus
    "excluded" (predictions inside missing ranges) and "per_article" counts. Articles alone in
    their story are not evaluated (nothing to carry).

    "sentence" also has "aligned": the same micro figures with the gold restricted to the
    target sentences that reprint a sibling's (what sentence projection can reach at all; its
    recall is how much of a reprinted sentence's gold survives the edits), "pairs" (reprinted
    sentences found) and "unprojected" (sibling spans in them that the reprint edited).
    """
    by_story: dict[str, list[GoldArticle]] = defaultdict(list)
    for g in training.items:
        by_story[g.story].append(g)
    evaluated: list[str] = []
    stories: set[str] = set()
    totals: dict[str, dict[str, dict[str, int]]] = {"surface": {}, "sentence": {}}
    per_article: dict[str, list[dict[str, Any]]] = {"surface": [], "sentence": []}
    aligned = {"tp": 0, "fp": 0, "fn": 0, "excluded": 0}
    n_pairs = n_unprojected = 0
    for g in training.items:
        siblings = [s for s in by_story[g.story] if s.article_id != g.article_id]
        if not siblings:
            continue
        evaluated.append(g.article_id)
        stories.add(g.story)
        al = align_story(g.article, siblings, min_similarity=min_similarity)
        n_pairs += len(al.pairs)
        n_unprojected += len(al.unprojected)
        runs: dict[str, tuple[list[Projected], bool]] = {
            "surface": (story_surface_forms(g.article, siblings), False),
            "sentence": (al.projected, True),
        }
        spans = [p.target for p in al.pairs]

        def inside(start: int, end: int, spans: list[tuple[int, int]] = spans) -> bool:
            return any(s <= start and end <= e for s, e in spans)

        reach = replace(
            g,
            entities=tuple(e for e in g.entities if inside(e.start, e.end)),
            claims=tuple(c for c in g.claims if inside(c.start, c.end)),
        )
        for k, v in _sum(score_article(reach, al.projected, claims=True).values()).items():
            aligned[k] += v
        for method, (preds, with_claims) in runs.items():
            counts = score_article(g, preds, claims=with_claims)
            for label, c in counts.items():
                agg = totals[method].setdefault(label, {"tp": 0, "fp": 0, "fn": 0, "excluded": 0})
                for k, v in c.items():
                    agg[k] += v
            art = _sum(counts.values())
            per_article[method].append({"article_id": g.article_id, "story": g.story, **art})
    methods: dict[str, Any] = {}
    for method, labels in totals.items():
        ents = _sum(c for lab, c in labels.items() if lab != "claim")
        block: dict[str, Any] = {
            "overall": _prf(**{k: v for k, v in _sum(labels.values()).items() if k != "excluded"}),
            "entities": _prf(ents["tp"], ents["fp"], ents["fn"]),
            "labels": {
                lab: _prf(c["tp"], c["fp"], c["fn"])
                for lab, c in sorted(labels.items())
                if lab != "claim"
            },
            "excluded": sum(c["excluded"] for c in labels.values()),
            "per_article": per_article[method],
        }
        if method == "sentence":
            c = labels.get("claim", {"tp": 0, "fp": 0, "fn": 0})
            block["claims"] = _prf(c["tp"], c["fp"], c["fn"])
            block["aligned"] = _prf(aligned["tp"], aligned["fp"], aligned["fn"])
            block["pairs"] = n_pairs
            block["unprojected"] = n_unprojected
        methods[method] = block
    return {"articles": evaluated, "stories": len(stories), "methods": methods}


def _sum(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    out = {"tp": 0, "fp": 0, "fn": 0, "excluded": 0}
    for c in counts:
        for k in out:
            out[k] += c.get(k, 0)
    return out
