"""Voting, tie rules, span merges, ground truth, adjudicators and decisions (see the package
docstring for the rules)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from corpus_tools.adjudicate.queue import dispute_to_dict
from corpus_tools.agreement.core import latest_per_annotator, stance_per_task
from corpus_tools.config import (
    CorpusConfig,
)
from corpus_tools.exports import iter_annotations
from corpus_tools.model import (
    Annotation,
    Article,
    Claim,
    Decision,
    Dispute,
    DisputeCandidate,
    EntitySpan,
    Finding,
    GoldClaim,
    GoldEntity,
    GoldRecord,
    GoldStance,
    Layer,
    StanceJudgement,
)

DECISIONS_DIR = "adjudication"


@dataclass(slots=True)
class AdjudicationResult:
    """Gold records, the disputes still open, the items a `drop` tie rule left out, and
    findings (`stale-annotation`: an annotation made on another text, left out of the vote)."""

    gold: list[GoldRecord]
    disputes: list[Dispute]
    dropped: list[Dispute] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "articles": len(self.gold),
            "open_disputes": len(self.disputes),
            "dropped": len(self.dropped),
            "stats": dict(sorted(self.stats.items())),
            "disputes": [dispute_to_dict(d) for d in self.disputes],
            "findings": [f.to_dict() for f in self.findings],
        }


def current_annotations(
    annotations: Sequence[Annotation], articles: Mapping[str, Article] | None
) -> tuple[list[Annotation], list[Finding]]:
    """The annotations made on the article's current text, and a `stale-annotation` finding for
    each one whose task carried another `text_sha256` (its offsets may point elsewhere now).
    An annotation without a text_sha256, or of an article not in `articles`, is kept."""
    kept: list[Annotation] = []
    findings: list[Finding] = []
    for ann in annotations:
        article = articles.get(ann.article_id) if articles else None
        if (
            article is None
            or not article.text_sha256
            or ann.text_sha256 in (None, article.text_sha256)
        ):
            kept.append(ann)
            continue
        src = ann.source
        findings.append(
            Finding(
                "stale-annotation",
                "warning",
                f"article {ann.article_id!r}: the annotation of {ann.annotator} was made on "
                f"another text (text_sha256 {ann.text_sha256[:12]}..., the article's is "
                f"{article.text_sha256[:12]}...); left out of the vote",
                file=src.file,
                task_id=src.task_id,
                annotation_id=src.annotation_id,
                hint="Re-annotate the article on its current text (push the tasks again), "
                "or remove the old task from the pulled annotations.",
            )
        )
    return kept, findings


def decisions_dir(config: CorpusConfig) -> Path:
    """Where the adjudication project's pulled tasks live: `adjudication/` beside annotations/."""
    return config.paths.annotations.parent / DECISIONS_DIR


def adjudication_config(config: CorpusConfig) -> CorpusConfig:
    """The config as seen by the adjudication project: same scheme and labeling config, the
    title `[labelstudio] adjudication_project_title`; pass it to `labelstudio.push` / `pull`
    with `build/disputes.json` to open the dispute queue in Label Studio."""
    ls = replace(config.labelstudio, project_title=config.labelstudio.adjudication_project_title)
    return replace(config, labelstudio=ls)


def load_decisions(config: CorpusConfig, path: Path | None = None) -> list[Annotation]:
    """The adjudicator annotations pulled from the adjudication project (none if no folder)."""
    folder = decisions_dir(config) if path is None else Path(path)
    if not folder.exists():
        return []
    return list(iter_annotations([folder], config.scheme))


# --- items and votes ------------------------------------------------------------------------

Item = EntitySpan | Claim


def _key(x: Item) -> tuple[Any, ...]:
    if isinstance(x, EntitySpan):
        return (x.start, x.end, x.label)
    claimant = " ".join(x.claimant.split()) if x.claimant else None
    return (x.start, x.end, x.checkworthy, claimant)


def _clean(x: Item) -> Item:
    if isinstance(x, EntitySpan):
        return replace(x, region_id=None)
    return replace(x, region_id=None, claimant_region_id=None)


def _regions(
    versions: Mapping[str, Sequence[Item]],
) -> list[tuple[int, int, dict[str, list[Item]]]]:
    """Group every annotator's spans into regions of mutually overlapping spans."""
    spans = sorted(
        ((x.start, x.end, who, x) for who, xs in versions.items() for x in xs),
        key=lambda t: (t[0], t[1], t[2]),
    )
    out: list[tuple[int, int, dict[str, list[Item]]]] = []
    for s, e, who, x in spans:
        if out and (s < out[-1][1] or (s == out[-1][0] and e == out[-1][1])):
            start, end, members = out[-1]
            members.setdefault(who, []).append(x)
            out[-1] = (start, max(end, e), members)
        else:
            out.append((s, e, {who: [x]}))
    return out


@dataclass(slots=True)
class _Outcome:
    """What voting decided for one item: accepted versions, or a tie."""

    accepted: list[tuple[Item | StanceJudgement, Decision]]
    tie: bool = False
    reason: str = ""


class _Adjudicator:
    def __init__(self, config: CorpusConfig) -> None:
        adj = config.adjudication
        self.tie_rule = adj.tie_rule
        self.span_merge = adj.span_merge
        self.adjudicators = tuple(adj.adjudicators)
        self.min_votes = adj.min_votes
        self.stats: Counter[str] = Counter()

    def _count(self, layer: str, what: str, n: int = 1) -> None:
        self.stats[f"{layer}.{what}"] += n

    # stance --------------------------------------------------------------------------------
    def vote_stance(self, target: str, votes: Mapping[str, str], n: int) -> _Outcome:
        counts = Counter(votes.values())
        (top, c1), *_ = counts.most_common()
        if n == 1:
            return _Outcome([(StanceJudgement(target, top), Decision("single", tuple(votes)))])
        support = tuple(sorted(w for w, lab in votes.items() if lab == top))
        if c1 == n:
            return _Outcome([(StanceJudgement(target, top), Decision("unanimous", support))])
        # more than half of the annotators (so no other answer can have as many): 2-1-1 among
        # four is a plurality, a tie
        if 2 * c1 > n and c1 >= self.min_votes:
            return _Outcome([(StanceJudgement(target, top), Decision("majority", support))])
        tally = ", ".join(f"{lab} {c}" for lab, c in sorted(counts.items()))
        return _Outcome([], tie=True, reason=f"no majority among {n} annotators ({tally})")

    # spans ---------------------------------------------------------------------------------
    def vote_region(self, members: Mapping[str, Sequence[Item]], n: int) -> _Outcome:
        if n == 1:
            ((who, xs),) = members.items()
            return _Outcome([(_clean(x), Decision("single", (who,))) for x in xs])
        if self.span_merge == "majority-overlap":
            return self._vote_overlap(members, n)
        support: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        first: dict[tuple[Any, ...], Item] = {}
        for who in sorted(members):
            for x in members[who]:
                k = _key(x)
                if who not in support[k]:
                    support[k].append(who)
                first.setdefault(k, x)
        accepted: list[tuple[Item | StanceJudgement, Decision]] = []
        tie = False
        for k, whos in sorted(support.items(), key=lambda kv: kv[0]):
            c = len(whos)
            if c == n:
                accepted.append((_clean(first[k]), Decision("unanimous", tuple(whos))))
            elif self.span_merge == "union":
                accepted.append((_clean(first[k]), Decision("union", tuple(whos), rule="union")))
            elif 2 * c > n and c >= self.min_votes:
                accepted.append((_clean(first[k]), Decision("majority", tuple(whos))))
            elif 2 * c >= n:
                tie = True  # exactly half (or a majority short of min_votes)
        if tie:
            return _Outcome([], tie=True, reason=f"span versions split among {n} annotators")
        return _Outcome(accepted)

    def _vote_overlap(self, members: Mapping[str, Sequence[Item]], n: int) -> _Outcome:
        c = len(members)
        if 2 * c < n:
            return _Outcome([])
        versions = Counter(tuple(sorted(_key(x) for x in xs)) for xs in members.values())
        (best, vc), *_ = versions.most_common()
        # The region needs a majority, and so does its version: the most common version of
        # 2 of 4 annotators (2-1-1) is a plurality, a tie (as is a region marked by half).
        if 2 * vc <= n or vc < self.min_votes:
            return _Outcome(
                [],
                tie=True,
                reason=f"region marked by {c} of {n} annotators, {len(versions)} version(s)",
            )
        whos = tuple(
            sorted(w for w, xs in members.items() if tuple(sorted(_key(x) for x in xs)) == best)
        )
        items = sorted(members[whos[0]], key=_key)
        if c == n and len(versions) == 1:
            return _Outcome([(_clean(x), Decision("unanimous", whos)) for x in items])
        return _Outcome([(_clean(x), Decision("majority", whos)) for x in items])


def adjudicate(
    *,
    config: CorpusConfig,
    annotations: Sequence[Annotation],
    articles: Mapping[str, Article] | None = None,
    decisions: Sequence[Annotation] = (),
) -> AdjudicationResult:
    """Gold records for every annotated article, and the disputes left open."""
    adj = _Adjudicator(config)
    annotations, findings = current_annotations(annotations, articles)
    if findings:
        adj.stats["annotations.stale"] = len(findings)
    per_target = stance_per_task(config)
    by_article, _ = latest_per_annotator(annotations, per_target=per_target)
    decided, _ = latest_per_annotator(decisions, per_target=per_target)
    gold: list[GoldRecord] = []
    disputes: list[Dispute] = []
    dropped: list[Dispute] = []
    targets = [t.id for t in config.scheme.stance_targets]
    for art, anns in by_article.items():
        decision = _latest(decided.get(art, {}).values())
        current = articles[art].text_sha256 if articles and art in articles else None
        if decision is not None and current and decision.text_sha256 not in (None, current):
            # decided on an older text: its offsets may point elsewhere now; not applied
            adj.stats["decisions.stale"] += 1
            decision = None
        rec, open_, drop = _article(adj, art, anns, targets, decision, per_target)
        sha = articles[art].text_sha256 if articles and art in articles else None
        sha = sha or next((a.text_sha256 for a in anns.values() if a.text_sha256), None) or ""
        # the dropped items stay on record so the release masks them like open disputes
        left_out = tuple(sorted(d.dispute_id[len(art) + 1 :] for d in drop))
        gold.append(replace(rec, text_sha256=sha, dropped=left_out))
        disputes += open_
        dropped += drop
    adj.stats["disputes.open"] = len(disputes)
    adj.stats["disputes.dropped"] = len(dropped)
    return AdjudicationResult(gold, disputes, dropped, dict(adj.stats), findings)


def _latest(anns: Any) -> Annotation | None:
    items = sorted(anns, key=lambda a: (a.source.updated_at or "", a.source.annotation_id or -1))
    return items[-1] if items else None


def _article(
    adj: _Adjudicator,
    art: str,
    anns: Mapping[str, Annotation],
    targets: Sequence[str],
    decision: Annotation | None,
    per_target: bool = False,
) -> tuple[GoldRecord, list[Dispute], list[Dispute]]:
    everyone = tuple(sorted(anns))
    gt = _latest(a for a in anns.values() if a.ground_truth)
    if gt is not None:
        return _whole(adj, art, gt, "ground_truth", everyone), [], []
    adjudicator = _latest(a for a in anns.values() if a.annotator in adj.adjudicators)
    if adjudicator is not None and adj.tie_rule != "adjudicator":
        return _whole(adj, art, adjudicator, "adjudicated", everyone), [], []
    voters = {w: a for w, a in anns.items() if w not in adj.adjudicators}
    if not voters and adjudicator is not None:
        return _whole(adj, art, adjudicator, "adjudicated", everyone), [], []
    n = len(voters)
    order = sorted(
        voters,
        key=lambda w: (voters[w].source.updated_at or "", voters[w].source.annotation_id or -1, w),
    )
    open_: list[Dispute] = []
    drop: list[Dispute] = []
    stances: list[GoldStance] = []
    for target in targets:
        votes = {w: s.label for w, a in voters.items() for s in a.stances if s.target == target}
        if not votes:
            continue
        # asked per task (one stance control): only the annotators whose task asked this
        # target vote on it; the article's other annotators were not asked
        asked = sorted(votes) if per_target else sorted(voters)
        out = adj.vote_stance(target, votes, len(asked))
        cands = tuple(
            DisputeCandidate(w, stances=tuple(s for s in voters[w].stances if s.target == target))
            for w in asked
        )
        dispute = Dispute(
            f"{art}/stance/{target}", art, "stance", out.reason, target=target, candidates=cands
        )
        for item, dec in _resolve(
            adj, "stance", out, dispute, order, adjudicator, decision, open_, drop
        ):
            assert isinstance(item, StanceJudgement)
            stances.append(GoldStance(item, dec))
    ents = _spans(
        adj,
        art,
        "entities",
        {w: a.entities for w, a in voters.items()},
        n,
        order,
        adjudicator,
        decision,
        open_,
        drop,
    )
    claims = _spans(
        adj,
        art,
        "claims",
        {w: a.claims for w, a in voters.items()},
        n,
        order,
        adjudicator,
        decision,
        open_,
        drop,
    )
    rec = GoldRecord(
        article_id=art,
        text_sha256="",
        entities=tuple(GoldEntity(x, d) for x, d in ents if isinstance(x, EntitySpan)),
        stances=tuple(stances),
        claims=tuple(GoldClaim(x, d) for x, d in claims if isinstance(x, Claim)),
        annotators=everyone,
    )
    return rec, open_, drop


def _spans(
    adj: _Adjudicator,
    art: str,
    layer: Layer,
    versions: Mapping[str, Sequence[Item]],
    n: int,
    order: Sequence[str],
    adjudicator: Annotation | None,
    decision: Annotation | None,
    open_: list[Dispute],
    drop: list[Dispute],
) -> list[tuple[Item | StanceJudgement, Decision]]:
    out: list[tuple[Item | StanceJudgement, Decision]] = []
    for start, end, members in _regions(versions):
        result = adj.vote_region(members, n)
        cands = tuple(
            DisputeCandidate(w, **{layer: tuple(members.get(w, ()))})  # type: ignore[arg-type]
            for w in sorted(versions)
        )
        dispute = Dispute(
            f"{art}/{layer}/{start}-{end}",
            art,
            layer,
            result.reason,
            start=start,
            end=end,
            candidates=cands,
        )
        out += _resolve(adj, layer, result, dispute, order, adjudicator, decision, open_, drop)
    out.sort(key=lambda t: (getattr(t[0], "start", 0), getattr(t[0], "end", 0)))
    return out


def _pick(layer: str, dispute: Dispute, ann: Annotation) -> list[Item | StanceJudgement]:
    """An annotation's labels for the disputed item: the target's stance, or the region's spans."""
    if layer == "stance":
        return [s for s in ann.stances if s.target == dispute.target]
    assert dispute.start is not None and dispute.end is not None
    xs: Sequence[Item] = ann.entities if layer == "entities" else ann.claims
    return [
        _clean(x)
        for x in xs
        if (x.start < dispute.end and x.end > dispute.start)
        or (x.start == dispute.start and x.end == dispute.end)
    ]


def _version(items: Sequence[Item | StanceJudgement]) -> list[tuple[Any, ...]]:
    return sorted((x.target, x.label) if isinstance(x, StanceJudgement) else _key(x) for x in items)


def _same_as(dispute: Dispute, picked: Sequence[Item | StanceJudgement]) -> tuple[str, ...]:
    """The annotators whose version of the disputed item equals the adjudicator's."""
    chosen = _version(picked)
    out = []
    for c in dispute.candidates:
        mine: Sequence[Item | StanceJudgement] = (
            c.stances
            if dispute.layer == "stance"
            else c.entities
            if dispute.layer == "entities"
            else c.claims
        )
        if _version(mine) == chosen:
            out.append(c.annotator)
    return tuple(out)


def _resolve(
    adj: _Adjudicator,
    layer: str,
    out: _Outcome,
    dispute: Dispute,
    order: Sequence[str],
    adjudicator: Annotation | None,
    decision: Annotation | None,
    open_: list[Dispute],
    drop: list[Dispute],
) -> list[tuple[Item | StanceJudgement, Decision]]:
    if not out.tie:
        for _, dec in out.accepted:
            adj._count(layer, dec.provenance)
        return out.accepted
    for judge, rule in (
        (decision, None),
        (adjudicator if adj.tie_rule == "adjudicator" else None, "adjudicator"),
    ):
        if judge is None:
            continue
        picked = _pick(layer, dispute, judge)
        if layer != "stance" or picked:
            adj._count(layer, "adjudicated")
            # "annotators": whose version the adjudicator chose (none: a new version)
            dec = Decision("adjudicated", _same_as(dispute, picked), judge.annotator, rule)
            return [(x, dec) for x in picked]
    if adj.tie_rule == "first":
        who = order[0]
        cand = next(c for c in dispute.candidates if c.annotator == who)
        items: list[Item | StanceJudgement] = (
            list(cand.stances)
            if layer == "stance"
            else [_clean(x) for x in (cand.entities if layer == "entities" else cand.claims)]
        )
        adj._count(layer, "tie")
        return [(x, Decision("tie", (who,), rule="first")) for x in items]
    if adj.tie_rule == "drop":
        adj._count(layer, "dropped")
        drop.append(dispute)
        return []
    adj._count(layer, "disputed")
    open_.append(dispute)
    return []


def _whole(
    adj: _Adjudicator, art: str, ann: Annotation, prov: str, everyone: tuple[str, ...]
) -> GoldRecord:
    dec = Decision(prov, (ann.annotator,), decided_by=ann.annotator)  # type: ignore[arg-type]
    adj._count("articles", prov)
    return GoldRecord(
        article_id=art,
        text_sha256="",
        entities=tuple(GoldEntity(_clean(e), dec) for e in ann.entities),  # type: ignore[arg-type]
        stances=tuple(GoldStance(s, dec) for s in ann.stances),
        claims=tuple(GoldClaim(_clean(c), dec) for c in ann.claims),  # type: ignore[arg-type]
        annotators=everyone,
    )
