"""`corpus validate PATH...` and `corpus check`: findings for people (text) and CI (json,
GitHub annotations, JUnit XML). Exit 0 valid, 1 error findings, 2 usage or configuration.

GitHub annotations and JUnit name files relative to the repository root (the git top level
above corpus.toml), whatever the working folder: that is where CI looks for them. With
`--quiet`, nothing is printed on success and only the findings on failure (what pre-commit
and CI want); the machine formats (json, github, junit) still print their findings.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from corpus_tools.cli._common import (
    ConfigOpt,
    JsonOpt,
    app,
    console,
    get_config,
    print_json,
    show_progress,
)
from corpus_tools.errors import EXIT_DATA, EXIT_OK
from corpus_tools.validate.formats import Format

if TYPE_CHECKING:
    from corpus_tools.config import CorpusConfig
    from corpus_tools.model import Report
    from corpus_tools.validate.formats import Line

FormatOpt = Annotated[
    Format,
    typer.Option("--format", "-f", help="text (people), json, github (annotations), junit (XML)."),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", dir_okay=False, help="Write the report in --format to FILE instead."
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Print nothing on success and only the findings on failure; no progress bars.",
    ),
]

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", None: "dim"}


def _print_lines(lines: list[Line]) -> None:
    from rich.text import Text

    for severity, line in lines:
        style = _STYLE[severity] if severity else ("bold" if not line.startswith(" ") else "dim")
        console.print(Text(line, style=style), highlight=False, soft_wrap=True)


def _emit(
    report: Report,
    payload: object,
    fmt: Format,
    output: Path | None,
    *,
    config: CorpusConfig,
    quiet: bool,
    suite: str,
    files: list[str],
    lines: list[Line],
) -> None:
    """Print (or write) the report; `payload` is the library's dict for json, `lines` the
    text view, `files` the files read (relative to the corpus root, for JUnit's clean cases).
    """
    from corpus_tools.validate.formats import rebase, rebaser, render, repo_root, summary

    if fmt in ("github", "junit"):
        root = config.paths.root
        repo = repo_root(root)
        report = rebase(report, base=root, repo=repo)
        files = list(map(rebaser(base=root, repo=repo), files))
    silent = quiet and report.valid
    if output is not None:
        if fmt == "json":
            import json

            text = json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n"
        elif fmt == "text":
            text = "\n".join(line for _sev, line in lines) + "\n" + summary(report) + "\n"
        else:
            text = render(report, fmt, suite=suite, files=files)
        from corpus_tools.store import atomic_write_text

        atomic_write_text(output, text)
        if not silent:
            console.print(f"{summary(report)} (report: {output})", highlight=False, soft_wrap=True)
    elif fmt == "json":
        print_json(payload)
    elif fmt == "text":
        if quiet:
            from corpus_tools.validate.formats import text_lines

            if not report.valid:
                _print_lines(text_lines(report.findings))
        else:
            from rich.text import Text

            _print_lines(lines)
            console.print(
                Text(summary(report), style="bold green" if report.valid else "bold red"),
                highlight=False,
                soft_wrap=True,
            )
    else:
        sys.stdout.write(render(report, fmt, suite=suite, files=files, quiet=quiet))
    if not report.valid:
        raise typer.Exit(EXIT_DATA)
    raise typer.Exit(EXIT_OK)


@app.command("validate")
def validate_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Export files (JSON array, JSONL) or folders `corpus ls pull` wrote."),
    ],
    config: ConfigOpt = None,
    fmt: FormatOpt = "text",
    output: OutputOpt = None,
    repair_utf16: Annotated[
        bool,
        typer.Option(
            "--repair-utf16",
            help="Rewrite UTF-16 code-unit offsets as code points (atomically; keeps FILE.bak).",
        ),
    ] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Check Label Studio exports against the JSON Schemas, the scheme and the articles.

    A file named explicitly that a folder would skip (`_project.json`, a dot file, *.bak,
    *.tmp) is not read as tasks: a note says so (`skipped` in --json).

    Example: corpus validate annotations/ --format github
    """
    from corpus_tools.exports import export_files
    from corpus_tools.model import Report
    from corpus_tools.validate import STAT_KEYS, run
    from corpus_tools.validate.formats import text_lines
    from corpus_tools.validate.reader import split_named

    cfg = get_config(config)
    fmt = "json" if json_out else fmt
    keep, skipped = split_named(paths, root=cfg.paths.root)
    root = cfg.paths.root

    def display(p: Path) -> str:  # machine formats: relative to the corpus root (rebased)
        try:
            return p.resolve().relative_to(root).as_posix()
        except ValueError:
            return str(p)

    if keep or not skipped:
        report = run(
            config=cfg,
            paths=keep,
            repair_utf16=repair_utf16,
            progress=show_progress(quiet),
            display=display if fmt in ("github", "junit") else str,
        )
    else:  # every file named is one a folder walk skips: nothing to validate, nothing wrong
        report = Report(stats=dict.fromkeys(STAT_KEYS, 0))
    files = [display(f) for f in export_files(keep)] if fmt == "junit" else []
    lines = [*text_lines(report.findings)]
    lines += [(None, f"note: skipped {s.file}: {s.reason}") for s in skipped]
    payload = {**report.to_dict(), "skipped": [s.to_dict() for s in skipped]}
    _emit(
        report,
        payload,
        fmt,
        output,
        config=cfg,
        quiet=quiet,
        suite="corpus validate",
        files=files,
        lines=lines,
    )


@app.command("check")
def check_cmd(
    config: ConfigOpt = None,
    fmt: FormatOpt = "text",
    output: OutputOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """What CI runs: validate annotations/, check schemas/ for drift, apply the [gates].

    Prints its three parts: validation (files, tasks, annotations, findings), schemas (up to
    date or which file drifted) and gates (each figure with its 95% interval beside its
    threshold). `--json` carries them under `parts`.

    Example: corpus check --format github
    """
    from corpus_tools.check import check as check_lib
    from corpus_tools.check import text_lines

    cfg = get_config(config)
    result = check_lib(config=cfg, progress=show_progress(quiet))
    fmt = "json" if json_out else fmt
    _emit(
        result.combined(),
        result.to_dict(),
        fmt,
        output,
        config=cfg,
        quiet=quiet,
        suite="corpus check",
        files=result.files,
        lines=text_lines(result),
    )
