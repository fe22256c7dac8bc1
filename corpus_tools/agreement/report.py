"""The agreement report's records: what `agree` measured, with `to_dict()` for `--json`
(figures at full precision: tables and Markdown round, machines do not)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corpus_tools.agreement.stats import Estimate

ALL = "*"  # the row of all targets / all labels


@dataclass(frozen=True, slots=True)
class PairFigure:
    """A figure for one pair of annotators on the items both did."""

    a: str
    b: str
    items: int
    value: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "items": self.items, **self.value.to_dict()}


@dataclass(frozen=True, slots=True)
class StanceFigures:
    """Agreement on stance for one target (or `*`: all targets pooled)."""

    target: str
    items: int
    ratings: int
    alpha: Estimate
    fleiss_kappa: Estimate
    percent: Estimate
    ac1: Estimate
    pairs: tuple[PairFigure, ...]
    skewed: bool
    top_label_share: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "items": self.items,
            "ratings": self.ratings,
            "alpha": self.alpha.to_dict(),
            "fleiss_kappa": self.fleiss_kappa.to_dict(),
            "percent": self.percent.to_dict(),
            "ac1": self.ac1.to_dict(),
            "cohen_kappa_pairs": [p.to_dict() for p in self.pairs],
            "skewed": self.skewed,
            "top_label_share": self.top_label_share,
        }


@dataclass(frozen=True, slots=True)
class SpanFigures:
    """Pairwise span F1 for one label (or `*`: all labels)."""

    label: str
    spans: int
    exact_f1: Estimate
    overlap_f1: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "spans": self.spans,
            "exact_f1": self.exact_f1.to_dict(),
            "overlap_f1": self.overlap_f1.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class EntityAgreement:
    """Entity layer: span F1 overall, per label and per pair; token-level α."""

    overall: SpanFigures
    labels: tuple[SpanFigures, ...]
    pairs: tuple[PairFigure, ...]
    token_alpha: Estimate
    tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "labels": [x.to_dict() for x in self.labels],
            "f1_pairs": [p.to_dict() for p in self.pairs],
            "token_alpha": self.token_alpha.to_dict(),
            "tokens": self.tokens,
        }


@dataclass(frozen=True, slots=True)
class ClaimAgreement:
    """Claim layer: span F1, κ on check-worthiness of matched claims, claimant agreement."""

    overall: SpanFigures
    matched: int
    checkworthy_kappa: Estimate
    checkworthy_percent: Estimate
    checkworthy_ac1: Estimate
    claimant_agreement: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "matched": self.matched,
            "checkworthy_kappa": self.checkworthy_kappa.to_dict(),
            "checkworthy_percent": self.checkworthy_percent.to_dict(),
            "checkworthy_ac1": self.checkworthy_ac1.to_dict(),
            "claimant_agreement": self.claimant_agreement.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class AnnotatorFigures:
    """One annotator: what they did and how far they agree with the others."""

    annotator: str
    articles: int
    stance_agreement: float | None
    entity_f1: float | None
    claim_f1: float | None
    entity_labels: dict[str, int]
    stance_labels: dict[str, int]
    entity_label_shift: float | None
    stance_label_shift: float | None
    outlier: bool
    outlier_reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "annotator": self.annotator,
            "articles": self.articles,
            "stance_agreement": self.stance_agreement,
            "entity_f1": self.entity_f1,
            "claim_f1": self.claim_f1,
            "entity_labels": dict(sorted(self.entity_labels.items())),
            "stance_labels": dict(sorted(self.stance_labels.items())),
            "entity_label_shift": self.entity_label_shift,
            "stance_label_shift": self.stance_label_shift,
            "outlier": self.outlier,
            "outlier_reasons": list(self.outlier_reasons),
        }


@dataclass(frozen=True, slots=True)
class Confusion:
    """Symmetric coincidence counts of two annotators' labels on the same item."""

    layer: str
    labels: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "labels": list(self.labels), "matrix": self.matrix}


@dataclass(frozen=True, slots=True)
class AgreementReport:
    """Everything `corpus agree` measured; `to_dict()` is the `--json` output."""

    annotations: int
    articles: int
    multi_annotated: int
    annotators: tuple[str, ...]
    stance: tuple[StanceFigures, ...]
    entities: EntityAgreement
    claims: ClaimAgreement
    per_annotator: tuple[AnnotatorFigures, ...]
    confusion: tuple[Confusion, ...]
    bootstrap: int
    seed: int
    notes: tuple[str, ...] = field(default=())

    def stance_overall(self) -> StanceFigures:
        return next(s for s in self.stance if s.target == ALL)

    def to_dict(self) -> dict[str, Any]:
        return {
            "annotations": self.annotations,
            "articles": self.articles,
            "multi_annotated_articles": self.multi_annotated,
            "annotators": list(self.annotators),
            "stance": [s.to_dict() for s in self.stance],
            "entities": self.entities.to_dict(),
            "claims": self.claims.to_dict(),
            "per_annotator": [a.to_dict() for a in self.per_annotator],
            "confusion": [c.to_dict() for c in self.confusion],
            "bootstrap": {"resamples": self.bootstrap, "seed": self.seed, "confidence": 0.95},
            "notes": list(self.notes),
        }
