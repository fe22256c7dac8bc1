"""A report rendered for people and machines: text, JSON, GitHub annotations, JUnit XML.

Each renderer returns a string; the CLI prints it (the text renderer also returns
per-line severities so the CLI can colour them on a terminal).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import groupby
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the CLI imports this module for --help: nothing more than it needs
    from corpus_tools.model import Finding, Report, Severity

Format = Literal["text", "json", "github", "junit"]
FORMATS: tuple[Format, ...] = ("text", "json", "github", "junit")

Line = tuple["Severity | None", str]


def location(f: Finding) -> str:
    """`task 3 · annotation 7 · region n1` (what is known of it)."""
    parts = []
    if f.task_id is not None:
        parts.append(f"task {f.task_id}")
    if f.annotation_id is not None:
        parts.append(f"annotation {f.annotation_id}")
    if f.region_id is not None:
        parts.append(f"region {f.region_id}")
    return " · ".join(parts)


def summary(report: Report) -> str:
    """`2 errors, 1 warning in 3 files (120 tasks, 240 annotations)`."""
    errors = sum(f.severity == "error" for f in report.findings)
    warnings = sum(f.severity == "warning" for f in report.findings)
    s = report.stats
    head = "valid" if report.valid else "INVALID"
    return (
        f"{head}: {_n(errors, 'error')}, {_n(warnings, 'warning')} "
        f"in {_n(s.get('files', 0), 'file')} "
        f"({_n(s.get('tasks', 0), 'task')}, {_n(s.get('annotations', 0), 'annotation')}, "
        f"{s.get('cancelled', 0)} cancelled, {_n(s.get('drafts', 0), 'draft')})"
    )


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def text_lines(findings: Sequence[Finding]) -> list[Line]:
    """Findings grouped by file, one line each plus its hint; severity for colouring."""
    lines: list[Line] = []
    for file, group in groupby(findings, key=lambda f: f.file or "(no file)"):
        lines.append((None, file))
        for f in group:
            at = location(f)
            line = f":{f.line}" if f.line else ""
            lines.append(
                (
                    f.severity,
                    f"  {f.severity:<7} {f.slug}{line}  {at + ': ' if at else ''}{f.message}",
                )
            )
            if f.hint:
                lines.append((None, f"          hint: {f.hint}"))
    return lines


def render_text(report: Report) -> str:
    """Plain text, as written by `--output FILE`."""
    lines = [text for _sev, text in text_lines(report.findings)]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    """The report dict as indented JSON (what `--format json` prints)."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


_GH_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _gh_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    """GitHub Actions workflow commands: each finding lands on its file (and line)."""
    out = []
    for f in report.findings:
        props = []
        if f.file:
            props.append(f"file={_gh_prop(f.file)}")
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={_gh_prop(f.slug)}")
        at = location(f)
        msg = f"{at}: {f.message}" if at else f.message
        if f.pointer:
            msg += f" [{f.pointer}]"
        if f.hint:
            msg += f"\nhint: {f.hint}"
        out.append(f"::{_GH_LEVEL[f.severity]} {','.join(props)}::{_gh_data(msg)}")
    out.append(summary(report))
    return "\n".join(out) + "\n"


def render_junit(report: Report, *, suite: str = "corpus validate") -> str:
    """JUnit XML: one test case per file (failing with one failure per error finding)."""
    import xml.etree.ElementTree as ET

    files: dict[str, list[Finding]] = {}
    for f in report.findings:
        files.setdefault(f.file or "(no file)", []).append(f)
    errors = sum(f.severity == "error" for f in report.findings)
    root = ET.Element("testsuites", name=suite)
    ts = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(files)),
        failures=str(sum(any(f.severity == "error" for f in fs) for fs in files.values())),
        errors="0",
    )
    props = ET.SubElement(ts, "properties")
    for key, value in sorted(report.stats.items()):
        ET.SubElement(props, "property", name=key, value=str(value))
    for file, fs in files.items():
        case = ET.SubElement(ts, "testcase", classname="corpus.validate", name=file)
        for f in fs:
            text = f"{location(f)} {f.pointer or ''}\n{f.message}\nhint: {f.hint or '-'}"
            if f.severity == "error":
                el = ET.SubElement(case, "failure", type=f.slug, message=f.message)
                el.text = text
        notes = [f for f in fs if f.severity != "error"]
        if notes:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(f"{f.severity} {f.slug} {location(f)}: {f.message}" for f in notes)
    if not files:
        ET.SubElement(ts, "testcase", classname="corpus.validate", name="all files")
        ts.set("tests", "1")
    ET.SubElement(ts, "system-out").text = summary(report) + f" ({errors} error findings)"
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def render(report: Report, fmt: Format) -> str:
    """The report in format `fmt`."""
    if fmt == "json":
        return render_json(report)
    if fmt == "github":
        return render_github(report)
    if fmt == "junit":
        return render_junit(report)
    return render_text(report)
