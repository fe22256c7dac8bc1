"""Gold records for a release.

The adjudication stage (`corpus adjudicate`) writes the gold records; until a corpus has them,
`gold_from_annotations` merges the validated annotations by simple majority so a release can
still be built (the card says which source was used).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from corpus_tools.model import (
    Annotation,
    Claim,
    Decision,
    EntitySpan,
    GoldClaim,
    GoldEntity,
    GoldRecord,
    GoldStance,
    Provenance,
    StanceJudgement,
)


def _provenance(votes: int, voters: int) -> Provenance:
    if voters == 1:
        return "single"
    return "unanimous" if votes == voters else "majority"


def gold_from_annotations(
    article_id: str, text_sha256: str, annotations: Sequence[Annotation]
) -> GoldRecord:
    """One article's gold record by simple majority of its (non-cancelled) annotations.

    A ground-truth annotation, when present, wins outright. An item is kept when more than
    half of the annotators chose it (entity: same start, end and label; claim: same span);
    a stance when more than half of those who answered for the target agree; a claim's
    check-worthiness and claimant likewise among the annotators who marked that claim.
    """
    anns = [a for a in annotations if not a.was_cancelled]
    truth = [a for a in anns if a.ground_truth]
    if truth:
        anns = truth[:1]
    voters = len(anns)
    names = tuple(sorted({a.annotator for a in anns}))
    forced: Provenance | None = "ground_truth" if truth else None

    ent_votes: Counter[tuple[int, int, str]] = Counter()
    ent_text: dict[tuple[int, int, str], str] = {}
    ent_by: dict[tuple[int, int, str], list[str]] = {}
    for a in anns:
        for key in sorted({(e.start, e.end, e.label) for e in a.entities}):
            ent_votes[key] += 1
            ent_by.setdefault(key, []).append(a.annotator)
        for e in a.entities:
            ent_text[(e.start, e.end, e.label)] = e.text
    entities = tuple(
        GoldEntity(
            EntitySpan(s, e, label, ent_text[(s, e, label)]),
            Decision(forced or _provenance(n, voters), tuple(sorted(ent_by[(s, e, label)]))),
        )
        for (s, e, label), n in sorted(ent_votes.items())
        if 2 * n > voters
    )

    stances: list[GoldStance] = []
    targets = sorted({s.target for a in anns for s in a.stances})
    for target in targets:
        answers = [(a.annotator, s.label) for a in anns for s in a.stances if s.target == target]
        votes = Counter(label for _, label in answers)
        label, n = max(sorted(votes.items()), key=lambda kv: kv[1])
        if 2 * n > len(answers):
            who = tuple(sorted(name for name, lab in answers if lab == label))
            stances.append(
                GoldStance(
                    StanceJudgement(target, label),
                    Decision(forced or _provenance(n, len(answers)), who),
                )
            )

    claims: list[GoldClaim] = []
    spans: dict[tuple[int, int], list[tuple[str, Claim]]] = {}
    for a in anns:
        seen: set[tuple[int, int]] = set()
        for c in a.claims:
            if (c.start, c.end) not in seen:
                seen.add((c.start, c.end))
                spans.setdefault((c.start, c.end), []).append((a.annotator, c))
    for (start, end), marks in sorted(spans.items()):
        if 2 * len(marks) <= voters:
            continue
        checkworthy = _majority([c.checkworthy for _, c in marks])
        claimant = _majority([c.claimant for _, c in marks])
        claims.append(
            GoldClaim(
                Claim(start, end, marks[0][1].text, checkworthy, claimant),
                Decision(
                    forced or _provenance(len(marks), voters),
                    tuple(sorted(name for name, _ in marks)),
                ),
            )
        )
    return GoldRecord(
        article_id=article_id,
        text_sha256=text_sha256,
        entities=entities,
        stances=tuple(stances),
        claims=tuple(claims),
        annotators=names,
    )


def _majority(values: Sequence[str | None]) -> str | None:
    """The value more than half of `values` share (None values count as votes for None)."""
    if not values:
        return None
    value, n = max(
        sorted(Counter(values).items(), key=lambda kv: (kv[0] is None, kv[0] or "")),
        key=lambda kv: kv[1],
    )
    return value if 2 * n > len(values) else None
