"""A report rendered for people and machines: text, JSON, GitHub annotations, JUnit XML.

Each renderer returns a string; the CLI prints it (the text renderer also returns
per-line severities so the CLI can colour them on a terminal).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from itertools import groupby
from pathlib import Path
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
        f"{head}: {counted(errors, 'error')}, {counted(warnings, 'warning')} "
        f"in {counted(s.get('files', 0), 'file')} "
        f"({counted(s.get('tasks', 0), 'task')}, {counted(s.get('annotations', 0), 'annotation')}, "
        f"{s.get('cancelled', 0)} cancelled, {counted(s.get('drafts', 0), 'draft')})"
    )


def counted(count: int, word: str) -> str:
    """`count` and `word`, plural unless one: "1 file", "3 errors"."""
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


def render_text(report: Report, *, quiet: bool = False) -> str:
    """Plain text, as written by `--output FILE` (`quiet`: the findings only)."""
    lines = [text for _sev, text in text_lines(report.findings)]
    if not quiet:
        lines.append(summary(report))
    return "\n".join(lines) + "\n" if lines else ""


def render_json(report: Report) -> str:
    """The report dict as indented JSON (what `--format json` prints)."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


_GH_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}

# What XML 1.0 cannot hold (C0 controls but tab, LF, CR; surrogates, e.g. from a file name
# that is not UTF-8; U+FFFE and U+FFFF) and, in names, tab, LF and CR too (they would be
# folded to spaces by an XML parser, or split a workflow command).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_IN_NAME = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _visible(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible_name(s: str) -> str:
    """A file name with every control character (and what XML forbids) shown as `\\xNN`."""
    return _NOT_IN_NAME.sub(_visible, s)


def visible_text(s: str) -> str:
    """A message with what XML 1.0 forbids shown as `\\xNN`/`\\uNNNN` (tab, LF, CR kept)."""
    return _NOT_XML.sub(_visible, s)


def _gh_data(s: str) -> str:
    s = visible_text(s)
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report, *, quiet: bool = False) -> str:
    """GitHub Actions workflow commands: each finding lands on its file (and line).

    File names should be relative to the repository root (`rebase`): that is where GitHub
    looks for them. With `quiet`, no summary line.
    """
    out = []
    for f in report.findings:
        props = []
        if f.file:
            props.append(f"file={_gh_prop(visible_name(f.file))}")
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
    if not quiet:
        out.append(visible_text(summary(report)))
    return "\n".join(out) + "\n" if out else ""


def render_junit(
    report: Report, *, suite: str = "corpus validate", files: Sequence[str] = ()
) -> str:
    """JUnit XML: one test case per finding, one passing case per file without findings.

    A case is named `file:line slug` and carries `file` and `line` attributes (GitLab, Jenkins
    and the GitHub JUnit actions link them); an error finding is its case's `<failure>`, a
    warning or note passes with the finding in its `<system-out>`. `suite` names the command
    that ran (`corpus check`, `corpus validate`); `files` are the files read, so a clean file
    shows as a passing case. Control characters are shown as `\\xNN`, never written raw.
    """
    import xml.etree.ElementTree as ET

    classname = suite.replace(" ", ".")
    errors = sum(f.severity == "error" for f in report.findings)
    root = ET.Element("testsuites", name=suite)
    ts = ET.SubElement(root, "testsuite", name=suite)
    props = ET.SubElement(ts, "properties")
    for key, value in sorted(report.stats.items()):
        ET.SubElement(props, "property", name=key, value=str(value))
    cases = 0
    seen: set[str] = set()
    for f in report.findings:
        seen.add(f.file or "")
        file = visible_name(f.file) if f.file else None
        name = f"{file or '(no file)'}{f':{f.line}' if f.line else ''} {f.slug}"
        attrs = {"classname": classname, "name": name}
        if file:
            attrs["file"] = file
        if f.line:
            attrs["line"] = str(f.line)
        case = ET.SubElement(ts, "testcase", attrs)
        cases += 1
        at = location(f)
        detail = "\n".join(
            x
            for x in (
                f"{at}: {f.message}" if at else f.message,
                f"pointer: {f.pointer}" if f.pointer else "",
                f"hint: {f.hint}" if f.hint else "",
            )
            if x
        )
        if f.severity == "error":
            el = ET.SubElement(case, "failure", type=f.slug, message=visible_name(f.message))
            el.text = visible_text(detail)
        else:
            ET.SubElement(case, "system-out").text = visible_text(f"{f.severity}: {detail}")
    for file in files:
        if file not in seen:
            seen.add(file)
            shown = visible_name(file)
            ET.SubElement(ts, "testcase", classname=classname, name=shown, file=shown)
            cases += 1
    if not cases:
        ET.SubElement(ts, "testcase", classname=classname, name="all files")
        cases = 1
    ts.set("tests", str(cases))
    ts.set("failures", str(errors))
    ts.set("errors", "0")
    ts.set("skipped", "0")
    ET.SubElement(ts, "system-out").text = visible_text(summary(report))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def repo_root(corpus_root: Path) -> Path:
    """The git top level at or above the corpus root (a `.git` folder or file), else the
    corpus root: where CI checks out the repository, and what its file paths start from."""
    start = corpus_root.resolve()
    for d in (start, *start.parents):
        if (d / ".git").exists():
            return d
    return start


def rebaser(*, base: Path, repo: Path) -> Callable[[str], str]:
    """A file name read relative to `base`, as named from `repo` (a file outside `repo` keeps
    its name). Independent of the working directory."""
    repo = repo.resolve()
    base = base.resolve()
    memo: dict[str, str] = {}

    def moved(name: str) -> str:
        if name not in memo:
            p = Path(name)
            full = Path(os.path.normpath(p if p.is_absolute() else base / p))
            try:
                memo[name] = full.relative_to(repo).as_posix()
            except ValueError:
                memo[name] = name
        return memo[name]

    return moved


def rebase(report: Report, *, base: Path, repo: Path) -> Report:
    """The report with each finding's file relative to `repo` (see `rebaser`)."""
    from dataclasses import replace

    from corpus_tools.model import Report

    moved = rebaser(base=base, repo=repo)
    return Report(
        findings=[replace(f, file=moved(f.file)) if f.file else f for f in report.findings],
        stats=dict(report.stats),
    )


def render(
    report: Report,
    fmt: Format,
    *,
    suite: str = "corpus validate",
    files: Sequence[str] = (),
    quiet: bool = False,
) -> str:
    """The report in format `fmt` (`suite` and `files` for junit; `quiet` drops the summary
    line of text and github)."""
    if fmt == "json":
        return render_json(report)
    if fmt == "github":
        return render_github(report, quiet=quiet)
    if fmt == "junit":
        return render_junit(report, suite=suite, files=files)
    return render_text(report, quiet=quiet)
