"""The agreement report as Markdown, for the dataset card and for people reading a PR."""

from __future__ import annotations

from corpus_tools.agreement.core import ALL, AgreementReport, SpanFigures
from corpus_tools.agreement.stats import Estimate


def fmt(e: Estimate, *, ci: bool = True) -> str:
    """`0.712 [0.650, 0.770]`, or `n/a` when the figure is undefined."""
    if e.value is None:
        return "n/a"
    if ci and e.low is not None and e.high is not None:
        return f"{e.value:.3f} [{e.low:.3f}, {e.high:.3f}]"
    return f"{e.value:.3f}"


def _opt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _span_row(name: str, f: SpanFigures) -> str:
    return f"| {name} | {f.spans} | {fmt(f.exact_f1)} | {fmt(f.overlap_f1)} |"


def render_markdown(report: AgreementReport, *, heading_level: int = 2) -> str:
    """Markdown tables of every layer's agreement; intervals are 95% bootstrap percentiles."""
    h = "#" * heading_level
    hh = h + "#"
    out: list[str] = [
        f"{h} Inter-annotator agreement",
        "",
        f"{report.annotations} annotations of {report.articles} articles by "
        f"{len(report.annotators)} annotators; {report.multi_annotated} articles have two or "
        f"more annotators. Brackets: 95% bootstrap interval over articles "
        f"({report.bootstrap} resamples, seed {report.seed}).",
        "",
        f"{hh} Stance",
        "",
        "| target | items | Krippendorff's α | Fleiss' κ | % agreement | Gwet's AC1 |",
        "| --- | ---: | --- | --- | --- | --- |",
    ]
    for s in report.stance:
        name = "all targets" if s.target == ALL else s.target
        ac1 = fmt(s.ac1) + (" (skewed: read AC1)" if s.skewed else "")
        out.append(
            f"| {name} | {s.items} | {fmt(s.alpha)} | {fmt(s.fleiss_kappa)} | "
            f"{fmt(s.percent)} | {ac1} |"
        )
    overall = report.stance_overall()
    if overall.pairs:
        out += [
            "",
            "Cohen's κ per annotator pair (all targets):",
            "",
            "| pair | items | Cohen's κ |",
            "| --- | ---: | --- |",
        ]
        out += [f"| {p.a} – {p.b} | {p.items} | {fmt(p.value)} |" for p in overall.pairs]
    ent = report.entities
    out += [
        "",
        f"{hh} Entities",
        "",
        "Pairwise span F1 between annotators (exact: same start, end and label; overlap: same "
        "label, sharing characters, matched one-to-one).",
        "",
        "| label | spans | exact F1 | overlap F1 |",
        "| --- | ---: | --- | --- |",
        _span_row("all labels", ent.overall),
    ]
    out += [_span_row(f.label, f) for f in ent.labels]
    out += [
        "",
        f"Token level (chance-corrected): Krippendorff's α = {fmt(ent.token_alpha)} over "
        f"{ent.tokens} tokens (each token labelled with its entity label or O).",
        "",
        f"{hh} Claims",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| span F1, exact | {fmt(report.claims.overall.exact_f1)} |",
        f"| span F1, overlap | {fmt(report.claims.overall.overlap_f1)} |",
        f"| Cohen's κ, check-worthiness ({report.claims.matched} matched pairs) | "
        f"{fmt(report.claims.checkworthy_kappa)} |",
        f"| % agreement, check-worthiness | {fmt(report.claims.checkworthy_percent)} |",
        f"| Gwet's AC1, check-worthiness | {fmt(report.claims.checkworthy_ac1)} |",
        f"| claimant agreement | {fmt(report.claims.claimant_agreement)} |",
        "",
        f"{hh} Annotators",
        "",
        "Label shift: total variation distance between the annotator's label shares and "
        "everyone else's (0 = same mix of labels, 1 = disjoint).",
        "",
        "| annotator | articles | stance agreement | entity F1 | claim F1 | label shift "
        "(entities / stance) | outlier |",
        "| --- | ---: | --- | --- | --- | --- | --- |",
    ]
    for a in report.per_annotator:
        flag = "; ".join(a.outlier_reasons) if a.outlier else ""
        out.append(
            f"| {a.annotator} | {a.articles} | {_opt(a.stance_agreement)} | "
            f"{_opt(a.entity_f1)} | {_opt(a.claim_f1)} | "
            f"{_opt(a.entity_label_shift)} / {_opt(a.stance_label_shift)} | {flag} |"
        )
    if report.notes:
        out += ["", *[f"- {n}" for n in report.notes]]
    return "\n".join(out) + "\n"
