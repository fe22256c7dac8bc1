"""Quality gates from corpus.toml `[gates]`, as findings for `corpus check`.

| key | figure compared | slug |
| --- | --- | --- |
| `min_annotators` | annotators per article (one finding each) | `gate-min-annotators` |
| `min_alpha_stance` | stance, Krippendorff's α over all targets | `gate-alpha-stance` |
| `min_f1_entities` | entities, pairwise span F1, exact match, all labels | `gate-f1-entities` |
| `min_f1_claims` | claims, pairwise span F1, overlap match | `gate-f1-claims` |
| `max_open_disputes` | disputes adjudication leaves open | `gate-open-disputes` |

A figure that cannot be measured (no article has two annotators) fails its gate: the gate
asks for evidence of agreement, and there is none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from corpus_tools.agreement.core import AgreementReport, agree
from corpus_tools.agreement.stats import Estimate
from corpus_tools.config import CorpusConfig
from corpus_tools.model import Annotation, Article, Finding


def _fig(e: Estimate) -> str:
    if e.value is None:
        return "n/a"
    if e.low is not None and e.high is not None:
        return f"{e.value:.3f} (95% CI {e.low:.3f}–{e.high:.3f})"
    return f"{e.value:.3f}"


@dataclass(frozen=True, slots=True)
class GateFigure:
    """One gate's measured figure beside its threshold, at full precision (for `--json`)."""

    gate: str
    layer: str
    figure: str
    threshold: float
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0

    @property
    def passed(self) -> bool:
        if self.value is None:
            return False
        if self.gate == "max_open_disputes":
            return self.value <= self.threshold
        return self.value >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "layer": self.layer,
            "figure": self.figure,
            "threshold": self.threshold,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "passed": self.passed,
        }


def gate_findings(
    *,
    config: CorpusConfig,
    annotations: Sequence[Annotation],
    report: AgreementReport | None = None,
    open_disputes: int | None = None,
    articles: Mapping[str, Article] | None = None,
) -> list[Finding]:
    """One error finding per failed gate (and per article under `min_annotators`).

    `report` is computed (with `corpus agree`'s resamples, constants.AGREEMENT_BOOTSTRAP) when
    not given and an agreement gate is set; `open_disputes` is computed by running adjudication
    on `annotations` and the adjudicator decisions in the corpus's `adjudication/` folder when
    not given and `max_open_disputes` is set.
    """
    findings, _ = evaluate_gates(
        config=config,
        annotations=annotations,
        report=report,
        open_disputes=open_disputes,
        articles=articles,
    )
    return findings


def evaluate_gates(
    *,
    config: CorpusConfig,
    annotations: Sequence[Annotation],
    report: AgreementReport | None = None,
    open_disputes: int | None = None,
    articles: Mapping[str, Article] | None = None,
) -> tuple[list[Finding], list[GateFigure]]:
    """`gate_findings`, and the figure measured for each gate that is set (pass or fail)."""
    gates = config.gates
    out: list[Finding] = []
    figures: list[GateFigure] = []
    if gates.min_annotators > 0:
        out += _min_annotators(annotations, gates.min_annotators)
    needs_report = any(
        g is not None for g in (gates.min_alpha_stance, gates.min_f1_entities, gates.min_f1_claims)
    )
    if needs_report and report is None:
        report = agree(config=config, annotations=annotations)
    if report is not None:
        checks = (
            (
                "gate-alpha-stance",
                "stance",
                "Krippendorff's α (all targets)",
                report.stance_overall().alpha,
                gates.min_alpha_stance,
                "min_alpha_stance",
            ),
            (
                "gate-f1-entities",
                "entities",
                "span F1, exact match",
                report.entities.overall.exact_f1,
                gates.min_f1_entities,
                "min_f1_entities",
            ),
            (
                "gate-f1-claims",
                "claims",
                "span F1, overlap match",
                report.claims.overall.overlap_f1,
                gates.min_f1_claims,
                "min_f1_claims",
            ),
        )
        for slug, layer, figure, est, threshold, key in checks:
            if threshold is None:
                continue
            figures.append(
                GateFigure(key, layer, figure, threshold, est.value, est.low, est.high, est.n)
            )
            if est.value is None or est.value < threshold:
                what = (
                    "cannot be measured (no item has two annotators)"
                    if est.value is None
                    else f"= {_fig(est)}"
                )
                out.append(
                    Finding(
                        slug=slug,
                        severity="error",
                        message=f"{layer}: {figure} {what} is below the gate {key} = {threshold}",
                        pointer=f"[gates -> {key}]",
                        hint=f"Run `corpus agree` to see which {layer} labels and annotators "
                        "disagree; revise the guidelines or re-annotate, or lower the gate "
                        "in corpus.toml on purpose.",
                    )
                )
    if gates.max_open_disputes is not None:
        if open_disputes is None:
            from corpus_tools.adjudicate import adjudicate, load_decisions

            result = adjudicate(
                config=config,
                annotations=annotations,
                articles=articles,
                decisions=load_decisions(config),
            )
            open_disputes = len(result.disputes)
        figures.append(
            GateFigure(
                "max_open_disputes",
                "adjudication",
                "open disputes",
                gates.max_open_disputes,
                open_disputes,
            )
        )
        if open_disputes > gates.max_open_disputes:
            out.append(
                Finding(
                    slug="gate-open-disputes",
                    severity="error",
                    message=f"adjudication: {open_disputes} open disputes exceed the gate "
                    f"max_open_disputes = {gates.max_open_disputes}",
                    pointer="[gates -> max_open_disputes]",
                    hint="Run `corpus adjudicate`, push build/disputes.json as the "
                    "adjudication project, and pull the decisions into adjudication/.",
                )
            )
    return out, figures


def _min_annotators(annotations: Sequence[Annotation], minimum: int) -> list[Finding]:
    who: dict[str, set[str]] = defaultdict(set)
    where: dict[str, Annotation] = {}
    for a in annotations:
        where.setdefault(a.article_id, a)
        if not a.was_cancelled:
            who[a.article_id].add(a.annotator)
    out = []
    for art in sorted(where):
        n = len(who.get(art, ()))
        if n < minimum:
            src = where[art].source
            out.append(
                Finding(
                    slug="gate-min-annotators",
                    severity="error",
                    message=f"article {art!r}: {n} annotator(s), the gate min_annotators "
                    f"asks for {minimum}",
                    file=src.file,
                    task_id=src.task_id,
                    pointer="[gates -> min_annotators]",
                    hint="Have more annotators label this task in Label Studio, then "
                    "`corpus ls pull`.",
                )
            )
    return out
