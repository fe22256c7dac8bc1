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
"""

from __future__ import annotations

import dataclasses
import re
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

SIDE_FILE_LIMIT = 16 << 20


def check(*, config: CorpusConfig, progress: bool = False) -> CheckReport:
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
    return CheckReport(
        validation=validation,
        schemas=Report(findings=schema_findings(config)),
        gates=Report(findings=gate_found),
        gate_figures=[f.to_dict() for f in figures],
    )


def schema_findings(config: CorpusConfig) -> list[Finding]:
    """One `schema-drift` finding per file of schemas/ that differs from the scheme."""
    out = []
    for drift in schemas.check(config):
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
