"""`corpus adjudicate`: gold records with provenance, and a dispute queue for Label Studio."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpus_tools.cli._common import ConfigOpt, JsonOpt, app, console, get_config, print_json, shown


@app.command("adjudicate")
def adjudicate_cmd(
    config: ConfigOpt = None,
    annotations: Annotated[
        Path | None,
        typer.Option("--annotations", help="Pulled annotations (default: annotations/)."),
    ] = None,
    decisions: Annotated[
        Path | None,
        typer.Option(
            "--decisions",
            help="Pulled adjudication project (default: adjudication/ beside annotations/).",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Turn several annotators' labels into gold records; write open disputes as LS tasks.

    Writes build/gold.jsonl and build/disputes.json (push the latter as the adjudication
    project, adjudicate in Label Studio, pull it into adjudication/, and run this again).

    Example: corpus adjudicate
    """
    from rich.table import Table

    from corpus_tools.adjudicate import run

    result = run(config=get_config(config), annotations_path=annotations, decisions_path=decisions)
    if json_out:
        print_json(result)
        return
    table = Table(title="Adjudication", title_justify="left")
    table.add_column("layer.decision")
    table.add_column("items", justify="right")
    for key, n in result["stats"].items():
        table.add_row(key, str(n))
    console.print(table)
    for f in result["findings"]:
        where = ", ".join(
            f"{k} {f[k]}" for k in ("file", "task_id", "annotation_id") if f[k] is not None
        )
        console.print(f"{f['severity']} {f['slug']}: {f['message']} ({where})", highlight=False)
    console.print(
        f"{result['articles']} gold records → {shown(result['gold_file'])}\n"
        f"{result['open_disputes']} open disputes in {result['dispute_tasks']} tasks → "
        f"{shown(result['disputes_file'])}",
        highlight=False,
        soft_wrap=True,
    )
