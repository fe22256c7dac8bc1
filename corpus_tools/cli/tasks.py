"""`corpus tasks`: build/articles.parquet → build/tasks.json (Label Studio import, predictions)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from corpus_tools.cli._common import (
    ConfigOpt,
    JsonOpt,
    QuietOpt,
    app,
    console,
    get_config,
    print_json,
    progress_bar,
    shown,
)


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
    suggest: Annotated[
        str | None,
        typer.Option(
            "--suggest",
            metavar="MODEL",
            help="Predictions from a trained model instead of the rule pre-annotator: a version "
            "under build/models, a model folder, or 'latest'. Tasks are ordered most uncertain "
            "first.",
        ),
    ] = None,
    gold: Annotated[
        Path | None,
        typer.Option(
            "--gold",
            help="With --suggest: the gold whose story siblings are projected (default: "
            "build/gold.jsonl; or a release folder dist/VERSION).",
        ),
    ] = None,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Turn ingested articles into Label Studio tasks, with pre-annotations as predictions.

    Example: corpus tasks --no-preannotate
    Example: corpus tasks --suggest latest
    """
    from rich.table import Table

    from corpus_tools import tasks as lib

    cfg = get_config(config)
    with progress_bar(quiet or json_out, "suggesting") as progress:
        result = lib.make_tasks(
            config=cfg,
            articles_path=articles,
            out=out,
            preannotate=preannotate,
            suggest=suggest,
            gold=gold,
            progress=progress,
        )
    if json_out:
        print_json(result)
        return
    console.print(
        f"wrote {result['tasks']} tasks to {shown(result['path'])}", highlight=False, soft_wrap=True
    )
    if suggest is not None:
        _print_suggest(result)
        return
    if result["by_label"]:
        table = Table("label", "predicted spans", title="Pre-annotations")
        for label, n in result["by_label"].items():
            table.add_row(label, str(n))
        console.print(table)


def _print_suggest(result: dict[str, Any]) -> None:
    from rich.table import Table

    console.print(
        f"model {result['model_version']}; tasks ordered by {result['order']}", highlight=False
    )
    u = result["uncertainty"]
    if result["tasks"]:
        console.print(
            f"uncertainty: max {u['max']}, mean {u['mean']}, min {u['min']}; "
            f"first: {', '.join(result['first'])}",
            highlight=False,
        )
    table = Table("source", "regions", title="Suggested regions by source")
    for source, n in result["by_source"].items():
        table.add_row(source, str(n))
    console.print(table)
    if result["by_label"]:
        labels = Table("label", "suggested regions", title="Suggestions by label")
        for label, n in result["by_label"].items():
            labels.add_row(label, str(n))
        console.print(labels)
    for note in result["notes"]:
        console.print(f"note: {note}", style="yellow", highlight=False)
