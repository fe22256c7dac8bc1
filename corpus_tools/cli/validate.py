"""`corpus validate PATH...` and `corpus check`: findings for people (text) and CI (json,
GitHub annotations, JUnit XML). Exit 0 valid, 1 error findings, 2 usage or configuration."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from corpus_tools.cli._common import (
    ConfigOpt,
    JsonOpt,
    QuietOpt,
    app,
    console,
    get_config,
    print_json,
    show_progress,
)
from corpus_tools.errors import EXIT_DATA, EXIT_OK
from corpus_tools.validate.formats import Format, render, summary, text_lines

if TYPE_CHECKING:
    from corpus_tools.model import Report

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

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", None: "dim"}


def _emit(report: Report, payload: object, fmt: Format, output: Path | None) -> None:
    """Print (or write) the report; `payload` is the library's dict for json."""
    if output is not None:
        if fmt == "json":
            import json

            text = json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n"
        else:
            text = render(report, fmt)
        from corpus_tools.store import atomic_write_text

        atomic_write_text(output, text)
        console.print(f"{summary(report)} (report: {output})", highlight=False, soft_wrap=True)
    elif fmt == "json":
        print_json(payload)
    elif fmt == "text":
        from rich.text import Text

        for severity, line in text_lines(report.findings):
            style = (
                _STYLE[severity] if severity else ("bold" if not line.startswith(" ") else "dim")
            )
            console.print(Text(line, style=style), highlight=False, soft_wrap=True)
        console.print(
            Text(summary(report), style="bold green" if report.valid else "bold red"),
            highlight=False,
            soft_wrap=True,
        )
    else:
        sys.stdout.write(render(report, fmt))
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

    Example: corpus validate annotations/ --format github
    """
    from corpus_tools.validate import validate as validate_lib

    cfg = get_config(config)
    report = validate_lib(
        config=cfg, paths=paths, repair_utf16=repair_utf16, progress=show_progress(quiet)
    )
    fmt = "json" if json_out else fmt
    _emit(report, report.to_dict(), fmt, output)


@app.command("check")
def check_cmd(
    config: ConfigOpt = None,
    fmt: FormatOpt = "text",
    output: OutputOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """What CI runs: validate annotations/, check schemas/ for drift, apply the [gates].

    Example: corpus check --format github
    """
    from corpus_tools.check import check as check_lib

    cfg = get_config(config)
    result = check_lib(config=cfg, progress=show_progress(quiet))
    fmt = "json" if json_out else fmt
    _emit(result.combined(), result.to_dict(), fmt, output)
