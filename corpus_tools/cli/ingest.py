"""`corpus ingest`: raw articles → build/articles.parquet (a thin shell over `ingest.ingest`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from corpus_tools.cli._common import (
    AddressOpt,
    ConfigOpt,
    EngineChoice,
    JsonOpt,
    QuietOpt,
    app,
    console,
    get_config,
    print_json,
    show_progress,
    shown,
)
from corpus_tools.constants import FORMATS
from corpus_tools.errors import EXIT_DATA

if TYPE_CHECKING:
    from corpus_tools.model import Finding

FormatChoice = Enum("FormatChoice", {f: f for f in FORMATS}, type=str)  # type: ignore[misc]

_STYLE = {"error": "red", "warning": "yellow", "info": "dim"}


def _where(f: Finding) -> str:
    return f"{f.file}:{f.line}" if f.line is not None else (f.file or "")


@app.command("ingest")
def ingest_cmd(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to read (default: the corpus's articles folder)."),
    ] = None,
    fmt: Annotated[
        FormatChoice | None,
        typer.Option(
            "--format", "-f", help="Read every file as this format (default: by extension)."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            help="Processes for cleaning and segmenting (ray: the local Ray's CPUs).",
        ),
    ] = 1,
    engine: Annotated[
        EngineChoice,
        typer.Option(
            "--engine",
            help="local: this machine (default); ray: Ray Data (the `ray` extra), writing "
            "sorted Parquet shards with the same rows.",
        ),
    ] = EngineChoice("local"),
    address: AddressOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output: a file for local (default build/articles.parquet), a folder of "
            "shards for ray (default build/pool).",
        ),
    ] = None,
    shards: Annotated[
        int | None,
        typer.Option(
            "--shards",
            min=1,
            help="--engine ray: Parquet shards to write (default: one per 50,000 articles).",
        ),
    ] = None,
    allow_deletions: Annotated[
        bool,
        typer.Option(
            "--allow-deletions",
            help="With files named: replace the default output even if it holds articles "
            "those files lack (refused otherwise, exit 1).",
        ),
    ] = False,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Read articles (txt, html, jsonl, csv, WARC, .parquet tables, Label Studio JSON) into a table.

    Exit 1 when any input was rejected (the good articles are still written). Files named
    on the command line may not drop articles the default output holds (exit 1, nothing
    written) unless --allow-deletions; write them elsewhere with --out.

    Example: corpus ingest articles/ --workers 2

    Example: corpus ingest crawl/ --engine ray --workers 8 --out build/pool
    """
    from rich.table import Table
    from rich.text import Text

    from corpus_tools.ingest import ingest

    cfg = get_config(config)
    report = ingest(
        config=cfg,
        paths=paths or None,
        fmt=fmt.value if fmt is not None else None,
        progress=show_progress(quiet or json_out),
        workers=workers,
        engine=engine.value,
        out=out,
        address=address,
        shards=shards,
        allow_deletions=allow_deletions,
    )
    if json_out:
        print_json(report.to_dict())
    else:
        if report.inputs == 0 and not report.findings:
            console.print("nothing to ingest: no articles found", highlight=False)
        if report.findings and console.is_terminal:
            table = Table(title="Findings", title_justify="left")
            for col in ("severity", "slug", "where", "message"):
                table.add_column(col)
            for f in report.findings:
                table.add_row(
                    f"[{_STYLE[f.severity]}]{f.severity}[/]", f.slug, _where(f), f.message
                )
            console.print(table)
        elif report.findings:
            # Not a terminal (CI logs, pipes): one unwrapped line per finding, so a table's
            # 80 columns cannot cut the file and line (`file:line: severity slug: message`).
            for f in report.findings:
                where = _where(f) or "-"
                line = f"{where}: {f.severity} {f.slug}: {f.message}"
                console.print(Text(line), soft_wrap=True, highlight=False)
        summary = Table(title="Ingest", title_justify="left", show_header=False)
        summary.add_column("what")
        summary.add_column("count", justify="right")
        for label, value in (
            ("inputs read", report.inputs),
            ("articles written", report.articles),
            ("stories", report.stories),
            ("duplicates dropped", report.duplicates),
            ("inputs rejected", report.rejected),
        ):
            summary.add_row(label, str(value))
        console.print(summary)
        written = shown(out) if out is not None else shown(report.output, cfg.paths.root)
        console.print(f"wrote {written}", highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(EXIT_DATA)
