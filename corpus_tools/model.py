"""Every record type of the toolkit, in one place. Frozen dataclasses with slots.

Offsets are Python code points into the exact task text; `text[start:end]` is the truth.
Raw Label Studio dicts are converted into these once, in `corpus_tools.exports`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Provenance = Literal[
    "unanimous", "majority", "adjudicated", "ground_truth", "single", "tie", "union"
]
Layer = Literal["entities", "stance", "claims"]


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence as code-point offsets into its article's text."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Article:
    """One ingested news article, the unit of a Label Studio task."""

    article_id: str
    source: str
    outlet: str | None
    url: str | None
    title: str | None
    published: str | None
    language: str
    text: str
    text_sha256: str
    sentences: tuple[Sentence, ...] = ()
    story_id: str | None = None


@dataclass(frozen=True, slots=True)
class EntitySpan:
    """A labelled entity mention; `text` is `article.text[start:end]`."""

    start: int
    end: int
    label: str
    text: str
    region_id: str | None = None


@dataclass(frozen=True, slots=True)
class StanceJudgement:
    """The article's stance towards one configured target."""

    target: str
    label: str


@dataclass(frozen=True, slots=True)
class Claim:
    """A claim span with its check-worthiness and claimant (entity region or free text)."""

    start: int
    end: int
    text: str
    checkworthy: str | None
    claimant: str | None
    claimant_region_id: str | None = None
    region_id: str | None = None


@dataclass(frozen=True, slots=True)
class AnnotationSource:
    """Where an annotation came from in Label Studio."""

    task_id: int | None
    annotation_id: int | None
    updated_at: str | None
    file: str | None = None


@dataclass(frozen=True, slots=True)
class Annotation:
    """One annotator's labels on one article (one Label Studio annotation)."""

    article_id: str
    annotator: str
    source: AnnotationSource
    entities: tuple[EntitySpan, ...] = ()
    stances: tuple[StanceJudgement, ...] = ()
    claims: tuple[Claim, ...] = ()
    lead_time: float | None = None
    was_cancelled: bool = False
    ground_truth: bool = False
    text_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class PredictedSpan:
    """A pre-annotated entity span; `text` is `article.text[start:end]`, `score` in [0, 1]."""

    start: int
    end: int
    label: str
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class Decision:
    """How one gold item was decided, and by whom (pseudonyms)."""

    provenance: Provenance
    annotators: tuple[str, ...] = ()
    decided_by: str | None = None
    rule: str | None = None  # the config rule that decided a tie or a merge ("first", "union")


@dataclass(frozen=True, slots=True)
class DisputeCandidate:
    """One annotator's version of a disputed item (empty: they did not mark it)."""

    annotator: str
    entities: tuple[EntitySpan, ...] = ()
    stances: tuple[StanceJudgement, ...] = ()
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True, slots=True)
class Dispute:
    """An item adjudication could not decide: a stance target or a span region of one article."""

    dispute_id: str
    article_id: str
    layer: Layer
    reason: str
    target: str | None = None
    start: int | None = None
    end: int | None = None
    candidates: tuple[DisputeCandidate, ...] = ()


@dataclass(frozen=True, slots=True)
class GoldEntity:
    """An adjudicated entity span with its decision."""

    span: EntitySpan
    decision: Decision


@dataclass(frozen=True, slots=True)
class GoldStance:
    """An adjudicated stance judgement with its decision."""

    stance: StanceJudgement
    decision: Decision


@dataclass(frozen=True, slots=True)
class GoldClaim:
    """An adjudicated claim with its decision."""

    claim: Claim
    decision: Decision


@dataclass(frozen=True, slots=True)
class GoldRecord:
    """The adjudicated article-level record."""

    article_id: str
    text_sha256: str
    entities: tuple[GoldEntity, ...] = ()
    stances: tuple[GoldStance, ...] = ()
    claims: tuple[GoldClaim, ...] = ()
    annotators: tuple[str, ...] = ()
    # items a `tie_rule = "drop"` left out: `entities/START-END`, `stance/TARGET`, `claims/...`
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RawArticle:
    """One article as read from an input file, before cleaning (ingest's edge record)."""

    source: str
    file: str
    line: int | None
    text: str
    fmt: str
    id: str | None = None
    url: str | None = None
    outlet: str | None = None
    title: str | None = None
    published: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class IngestReport:
    """The outcome of `corpus ingest`: counts, where the table went, and every finding."""

    output: str
    inputs: int
    articles: int
    stories: int
    duplicates: int
    rejected: int
    findings: tuple[Finding, ...] = ()
    # --engine ray: how the run went (seconds per stage, rows and bytes through the shuffles);
    # not part of the result (two engines' reports of one input compare equal)
    engine: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """True when no input was rejected (exit 0)."""
        return self.rejected == 0

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "output": self.output,
            "inputs": self.inputs,
            "articles": self.articles,
            "stories": self.stories,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.engine is not None:
            out["engine"] = self.engine
        return out


@dataclass(frozen=True, slots=True)
class ScaffoldReport:
    """What `corpus init` created: the corpus root (as given), its name, the paths made."""

    root: str
    name: str
    created: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"root": self.root, "name": self.name, "created": list(self.created)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One located problem: slug, severity, where, what and what to do."""

    slug: str
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    task_id: int | str | None = None
    annotation_id: int | str | None = None
    region_id: str | None = None
    pointer: str | None = None
    hint: str | None = None

    def to_dict(self) -> dict[str, object]:
        """A plain dict for JSON output (keys in a stable order)."""
        return {
            "slug": self.slug,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "task_id": self.task_id,
            "annotation_id": self.annotation_id,
            "region_id": self.region_id,
            "pointer": self.pointer,
            "hint": self.hint,
        }


@dataclass(slots=True)
class Report:
    """The outcome of a check: valid unless an error-severity finding exists."""

    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "stats": dict(sorted(self.stats.items())),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(slots=True)
class CheckReport:
    """What `corpus check` found: annotation validation, schema drift and quality gates."""

    validation: Report
    schemas: Report
    gates: Report
    # each gate's measured figure beside its threshold, full precision (`GateFigure.to_dict`)
    gate_figures: list[dict[str, object]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.validation.valid and self.schemas.valid and self.gates.valid

    def combined(self) -> Report:
        """All findings in one report (validation, then schemas, then gates)."""
        return Report(
            findings=[*self.validation.findings, *self.schemas.findings, *self.gates.findings],
            stats=dict(self.validation.stats),
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "validation": self.validation.to_dict(),
            "schemas": self.schemas.to_dict(),
            "gates": {**self.gates.to_dict(), "figures": self.gate_figures},
        }


@dataclass(frozen=True, slots=True)
class ReleaseResult:
    """What `corpus release` built: where, how much, and what it noticed."""

    version: str
    path: str
    previous: str | None
    counts: dict[str, dict[str, int]]
    files: dict[str, str]
    findings: tuple[Finding, ...] = ()
    gold_source: str = "annotations"
    # built | rebuilt (an unpublished build replaced) | already-published (identical files)
    status: str = "built"
    message: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "path": self.path,
            "status": self.status,
            "message": self.message,
            "previous": self.previous,
            "gold_source": self.gold_source,
            "counts": self.counts,
            "files": self.files,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What publishing did (or, with dry_run, would do) to a local hub folder or a Hub repo."""

    version: str
    target: Literal["local", "hub"]
    location: str
    tag: str
    dry_run: bool
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    commit: str | None = None
    load_line: str = ""
    # The version was already there with identical files: nothing was written.
    already_published: bool = False
    message: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "target": self.target,
            "already_published": self.already_published,
            "message": self.message,
            "location": self.location,
            "tag": self.tag,
            "dry_run": self.dry_run,
            "added": list(self.added),
            "changed": list(self.changed),
            "deleted": list(self.deleted),
            "unchanged": list(self.unchanged),
            "commit": self.commit,
            "load_line": self.load_line,
        }
