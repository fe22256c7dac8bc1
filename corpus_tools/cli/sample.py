"""`corpus sample N`: draw articles to annotate from a pool (a thin shell over `sample.sample`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

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
from corpus_tools.constants import SAMPLE_ALLOCATIONS, SAMPLE_STRATA

AllocationChoice = Enum(  # type: ignore[misc]
    "AllocationChoice", {a: a for a in SAMPLE_ALLOCATIONS}, type=str
)


@app.command("sample")
def sample_cmd(
    n: Annotated[int, typer.Argument(help="How many articles to draw.")],
    pool: Annotated[
        Path | None,
        typer.Option(
            "--pool",
            help="The pool: an articles table, or a folder of part-*.parquet shards "
            "(default: build/pool).",
        ),
    ] = None,
    seed: Annotated[
        str | None,
        typer.Option(
            "--seed", help="Seed of the draw (default: [sample] seed, else the corpus name)."
        ),
    ] = None,
    per_story: Annotated[
        int | None,
        typer.Option("--per-story", help="At most this many articles per story (default: 1)."),
    ] = None,
    strata: Annotated[
        str | None,
        typer.Option(
            "--strata",
            help=f"Comma-separated strata, any of {', '.join(SAMPLE_STRATA)}, or none "
            "(default: outlet,month).",
        ),
    ] = None,
    allocation: Annotated[
        AllocationChoice | None,
        typer.Option("--allocation", help="How N is shared among strata (default: proportional)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the sample (default: articles/sample-SEED-N.parquet).",
            dir_okay=False,
        ),
    ] = None,
    engine: Annotated[
        EngineChoice,
        typer.Option("--engine", help="Where the draw runs: this process, or Ray Data."),
    ] = EngineChoice.local,  # type: ignore[attr-defined]
    address: AddressOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the output if it exists.")
    ] = False,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Draw N articles to annotate from an ingested pool: at most --per-story per story,
    stratified by outlet and date, reproducible with a seed, none already in the corpus.

    Writes an articles table into the corpus's articles folder, which `corpus ingest` and then
    `corpus tasks` take. Exit 2 for a missing pool or a bad option, 1 for a pool file that is
    not an articles table.

    Example: corpus sample 200 --pool build/pool --seed spring-2025
    """
    from corpus_tools.sample import iter_report_rows, sample

    cfg = get_config(config)
    if strata is None:
        chosen = None
    else:
        chosen = tuple(s.strip() for s in strata.split(",") if s.strip())
        chosen = () if chosen in ((), ("none",)) else chosen
    report = sample(
        config=cfg,
        n=n,
        pool=pool,
        seed=seed,
        per_story=per_story,
        strata=chosen,
        allocation=allocation.value if allocation is not None else None,
        out=out,
        force=force,
        engine=engine.value,
        address=address,
        progress=show_progress(quiet or json_out),
    )
    if json_out:
        print_json(report.to_dict())
        return
    from rich.table import Table

    title = f"Sample (seed {report.seed!r}, {report.allocation}, per story {report.per_story})"
    table = Table(title=title, title_justify="left")
    table.add_column(" / ".join(report.strata) or "stratum")
    for col in ("pool", "excluded", "eligible", "drawn"):
        table.add_column(col, justify="right")
    totals = [0, 0, 0, 0]
    for label, *counts in iter_report_rows(report):
        table.add_row(label, *map(str, counts))
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
    table.add_row("total", *map(str, totals), style="bold")
    console.print(table)
    for warning in report.warnings:
        console.print(f"warning: {warning}", style="yellow", highlight=False)
    console.print(
        f"wrote {report.drawn} articles to {shown(report.path)}", highlight=False, soft_wrap=True
    )
