"""`corpus check`: the one command CI runs on a change under `annotations/`.

Three parts, each a report of findings:

1. validation of `paths.annotations` (`corpus_tools.validate`: structure, meaning, personal
   data, and the coverage gate `min_annotators` per task), plus a personal-data scan of the
   other files in that folder (such as `_project.json`);
2. schema drift: the committed `schemas/` against what the scheme generates;
3. the agreement gates of `[gates]` (`corpus_tools.agreement.gate_findings`), measured on the
   annotations of the tasks that passed validation.

Coverage is validation's `low-coverage` (it sees tasks nobody annotated, which have no
annotation records); the agreement gates are therefore asked with `min_annotators = 0`
so one shortfall is not reported twice.

`CheckResult.parts` says what each part found, for people and for `--json`: validation's
counts, whether schemas/ is up to date (and which files drifted), and each gate's figure with
its 95% interval beside its threshold (or why it could not be measured). `text_lines` is the
terminal's view of it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus_tools import schemas
from corpus_tools.config import CorpusConfig
from corpus_tools.errors import DataError
from corpus_tools.exports import export_files, parse_task
from corpus_tools.model import Annotation, CheckReport, Finding, Report
from corpus_tools.validate import run
from corpus_tools.validate.checks import EMAIL
from corpus_tools.validate.slugs import Where

if TYPE_CHECKING:
    from corpus_tools.agreement.gates import GateFigure
    from corpus_tools.validate.formats import Line

SIDE_FILE_LIMIT = 16 << 20

Part = dict[str, Any]


@dataclass(slots=True)
class CheckResult(CheckReport):
    """`CheckReport` with its three parts summarised (`parts`) and the task files it read."""

    parts: dict[str, Part] = field(default_factory=dict)
    # the task files validated, relative to the corpus root (JUnit lists a clean file as a pass)
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {**CheckReport.to_dict(self), "parts": self.parts}


def check(*, config: CorpusConfig, progress: bool = False) -> CheckResult:
    """Validate the annotations, check schemas/ for drift, and apply the quality gates."""
    root = config.paths.root
    folder = config.paths.annotations
    annotations: list[Annotation] = []
    parse_problems: list[Finding] = []

    def collect(task: dict[str, Any], where: Where, ok: bool) -> None:
        if not ok:
            return
        try:
            annotations.extend(parse_task(task, config.scheme, file=where.file))
        except DataError as exc:  # validation passed it, so this is a bug worth showing
            parse_problems.append(where.finding("schema-violation", exc.message))

    def display(p: Path) -> str:
        return _rel(p, root)

    if folder.is_dir():
        validation = run(
            config=config, paths=[folder], progress=progress, display=display, sink=collect
        )
        validation.findings.extend(parse_problems)
        validation.findings.extend(_scan_side_files(folder, root))
    else:
        validation = Report(stats={"files": 0, "tasks": 0})
        validation.findings.append(
            Where(_rel(folder, root)).finding(
                "no-tasks", "no annotations folder: nothing to validate"
            )
        )
    gate_found, figures = evaluate_gates(
        config, annotations, tasks=validation.stats.get("tasks", 0)
    )
    drift = schemas.check(config)
    result = CheckResult(
        validation=validation,
        schemas=Report(findings=_drift_findings(config, drift)),
        gates=Report(findings=gate_found),
        gate_figures=[f.to_dict() for f in figures],
        files=[_rel(f, root) for f in export_files([folder])] if folder.is_dir() else [],
    )
    result.parts = {
        "validation": _validation_part(validation),
        "schemas": _schemas_part(config, drift),
        "gates": _gates_part(config, result, figures),
    }
    return result


def _validation_part(report: Report) -> Part:
    s = report.stats
    return {
        "valid": report.valid,
        **{k: s.get(k, 0) for k in ("files", "tasks", "annotations", "cancelled", "drafts")},
        "errors": sum(f.severity == "error" for f in report.findings),
        "warnings": sum(f.severity == "warning" for f in report.findings),
    }


def _schemas_part(config: CorpusConfig, drift: list[schemas.SchemaDrift]) -> Part:
    folder = _rel(config.paths.schemas, config.paths.root)
    return {
        "valid": not drift,
        "status": "drifted" if drift else "up to date",
        "folder": folder,
        "checked": len(schemas.generate(config)),
        "drifted": [{"file": f"{folder}/{d.file}", "problem": d.problem} for d in drift],
    }


def _gates_part(config: CorpusConfig, result: CheckReport, figures: list[GateFigure]) -> Part:
    """Each gate set in [gates]: its figure beside its threshold, pass or fail, and why a
    figure could not be measured. `min_annotators` is counted by validation, per task."""
    none = next((f for f in result.gates.findings if f.slug == "gate-no-annotations"), None)
    gates: list[Part] = []
    for fig in figures:
        g = fig.to_dict()
        g["comparison"] = "<=" if fig.gate == "max_open_disputes" else ">="
        g["reason"] = None
        if fig.value is None:
            g["reason"] = "no task has an annotation" if none else "no item has two annotators"
        gates.append(g)
    minimum = config.gates.min_annotators
    if minimum > 0:
        below = len(
            {
                (f.file, f.task_id)
                for f in result.validation.findings
                if f.slug == "low-coverage" and f.severity == "error"
            }
        )
        gates.append(
            {
                "gate": "min_annotators",
                "layer": "coverage",
                "figure": f"tasks with fewer than {minimum} annotators",
                "threshold": minimum,
                "value": below,
                "low": None,
                "high": None,
                "n": result.validation.stats.get("tasks", 0),
                "passed": below == 0,
                "comparison": "tasks below",
                "reason": None,
            }
        )
    return {
        "valid": result.gates.valid,
        "set": len(gates),
        "passed": sum(bool(g["passed"]) for g in gates),
        "gates": gates,
    }


def text_lines(result: CheckResult) -> list[Line]:
    """The three parts for a terminal: a heading line each, its findings under it, each gate
    on a line of its own (figure, 95% interval, threshold, pass or fail); severity for colour."""
    from corpus_tools.validate.formats import counted
    from corpus_tools.validate.formats import text_lines as finding_lines

    v, sc, g = (result.parts[k] for k in ("validation", "schemas", "gates"))
    lines: list[Line] = []

    def head(ok: bool, text: str) -> None:
        lines.append((None if ok else "error", text))

    head(
        v["valid"],
        f"validation  {'passed' if v['valid'] else 'FAILED'}: {counted(v['files'], 'file')}, "
        f"{counted(v['tasks'], 'task')}, {counted(v['annotations'], 'annotation')} "
        f"({v['cancelled']} cancelled, {counted(v['drafts'], 'draft')}); "
        f"{counted(v['errors'], 'error')}, {counted(v['warnings'], 'warning')}",
    )
    lines += _indent(finding_lines(result.validation.findings))
    if sc["valid"]:
        head(True, f"schemas     up to date: {sc['checked']} files in {sc['folder']}/")
    else:
        drifted = ", ".join(f"{d['file']} ({d['problem']})" for d in sc["drifted"])
        head(False, f"schemas     DRIFTED: {drifted}; run `corpus schemas` to regenerate")
    lines += _indent(finding_lines(result.schemas.findings))
    if not g["set"]:
        lines.append((None, "gates       none set in corpus.toml [gates]"))
    else:
        word = "passed" if g["valid"] else "FAILED"
        head(g["valid"], f"gates       {word}: {g['passed']} of {g['set']} gates pass")
        for gate in g["gates"]:
            lines.append(("info" if gate["passed"] else "error", "  " + _gate_line(gate)))
    lines += _indent(finding_lines(result.gates.findings))
    return lines


def _gate_line(g: Part) -> str:
    from corpus_tools.agreement.markdown import fmt
    from corpus_tools.agreement.stats import Estimate
    from corpus_tools.validate.formats import counted

    verdict = "pass" if g["passed"] else "FAIL"
    if g["gate"] == "min_annotators":
        figure = f"{g['value']} of {counted(g['n'], 'task')} below"
        limit = f">= {g['threshold']}"
        return (
            f"{g['gate']:<18} {figure:<34} {limit:<8} {verdict}  "
            "coverage: annotators per task (validation's low-coverage)"
        )
    if g["value"] is None:
        figure = f"not measured: {g['reason']}"
        limit = f"{g['comparison']} {g['threshold']}"
        return f"{g['gate']:<18} {figure:<34} {limit:<8} {verdict}  {g['layer']}: {g['figure']}"
    if g["gate"] == "max_open_disputes":
        figure = str(int(g["value"]))
    else:
        figure = fmt(Estimate(g["value"], g["low"], g["high"]))
    limit = f"{g['comparison']} {g['threshold']}"
    items = f", n={g['n']}" if g["n"] else ""
    return f"{g['gate']:<18} {figure:<34} {limit:<8} {verdict}  {g['layer']}: {g['figure']}{items}"


def _indent(lines: list[Line]) -> list[Line]:
    return [(sev, "  " + text) for sev, text in lines]


def _drift_findings(config: CorpusConfig, drifts: list[schemas.SchemaDrift]) -> list[Finding]:
    """One `schema-drift` finding per file of schemas/ that differs from the scheme."""
    out = []
    for drift in drifts:
        target = _rel(config.paths.schemas / drift.file, config.paths.root)
        what = {
            "missing": "is missing",
            "changed": "differs from what corpus.toml generates",
            "unexpected": "is not generated from corpus.toml",
        }.get(drift.problem, drift.problem)
        out.append(Where(target).finding("schema-drift", f"{target} {what}"))
    return out


def gate_findings(config: CorpusConfig, annotations: list[Annotation]) -> list[Finding]:
    """The agreement gates (`min_annotators` excluded: validation reports coverage per task)."""
    return evaluate_gates(config, annotations)[0]


def evaluate_gates(
    config: CorpusConfig, annotations: list[Annotation], *, tasks: int = 0
) -> tuple[list[Finding], list[GateFigure]]:
    """`gate_findings` and each gate's measured figure (full precision, for `--json`).

    When there are `tasks` but not one of them has a (non-cancelled) annotation, that alone
    is the finding `gate-no-annotations`, whatever gates are set: nothing can be measured and
    nothing released (a pull from a fresh server leaves exactly this).
    """
    from corpus_tools.agreement.gates import evaluate_gates as agreement_gates
    from corpus_tools.agreement.run import NO_ANNOTATIONS_HINT, none_annotated

    gates = dataclasses.replace(config.gates, min_annotators=0)
    found, figures = agreement_gates(
        config=dataclasses.replace(config, gates=gates), annotations=annotations
    )
    if tasks and not any(not a.was_cancelled for a in annotations):
        found = [
            Finding(
                slug="gate-no-annotations",
                severity="error",
                message=f"{none_annotated(tasks)}: there is no label to release and no "
                "agreement to measure",
                file=_rel(config.paths.annotations, config.paths.root),
                pointer="[gates]",
                hint=NO_ANNOTATIONS_HINT,
            )
        ]
    # A gate is a line of corpus.toml: findings without a file point there (CI annotations).
    toml = _rel(config.path, config.paths.root)
    lines = config.path.read_text(encoding="utf-8").splitlines()
    out = []
    for f in found:
        if f.file is None:
            key = (f.pointer or "").rstrip("]").rsplit("-> ", 1)[-1]
            line = next(
                (i for i, x in enumerate(lines, 1) if key and re.match(rf"\s*{key}\s*=", x)), None
            )
            f = dataclasses.replace(f, file=toml, line=line)
        out.append(f)
    return out, figures


def _scan_side_files(folder: Path, root: Path) -> list[Finding]:
    """Email-looking strings in files of the annotations folder that are not tasks."""
    tasks = set(export_files([folder]))
    out: list[Finding] = []
    for f in sorted(folder.rglob("*")):
        rel_parts = f.relative_to(folder).parts
        if not f.is_file() or f in tasks or any(p.startswith(".") for p in rel_parts):
            continue
        try:
            with open(f, "rb") as fh:
                data = fh.read(SIDE_FILE_LIMIT)
        except OSError as exc:
            out.append(Where(_rel(f, root)).finding("file-unreadable", f"cannot read: {exc}"))
            continue
        if b"@" not in data:
            continue
        text = data.decode("utf-8", errors="replace")
        for m in EMAIL.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            out.append(
                Where(_rel(f, root), line=line).finding(
                    "personal-data", f"line {line} holds an email address"
                )
            )
    return out


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)
