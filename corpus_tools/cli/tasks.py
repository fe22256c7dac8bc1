"""`corpus tasks`: build/articles.parquet → build/tasks.json (Label Studio import, predictions)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from corpus_tools import tasks as lib
from corpus_tools.cli._common import ConfigOpt, JsonOpt, app, console, get_config, print_json


@app.command("tasks")
def tasks_cmd(
    config: ConfigOpt = None,
    articles: Annotated[
        Path | None,
        typer.Option(
            "--articles", help="Articles table (default: build/articles.parquet).", dir_okay=False
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the tasks (default: build/tasks.json).",
            dir_okay=False,
        ),
    ] = None,
    preannotate: Annotated[
        bool,
        typer.Option("--preannotate/--no-preannotate", help="Add pre-annotations as predictions."),
    ] = True,
    json_out: JsonOpt = False,
) -> None:
    """Turn ingested articles into Label Studio tasks, with pre-annotations as predictions.

    Example: corpus tasks --no-preannotate
    """
    cfg = get_config(config)
    result = lib.make_tasks(config=cfg, articles_path=articles, out=out, preannotate=preannotate)
    if json_out:
        print_json(result)
        return
    console.print(f"wrote {result['tasks']} tasks to {result['path']}", highlight=False)
    if result["by_label"]:
        table = Table("label", "predicted spans", title="Pre-annotations")
        for label, n in result["by_label"].items():
            table.add_row(label, str(n))
        console.print(table)
