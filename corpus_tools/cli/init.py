"""`corpus init`: scaffold a new corpus repository (a thin shell over `scaffold.init_corpus`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpus_tools.cli._common import JsonOpt, app, console, print_json
from corpus_tools.scaffold import init_corpus


@app.command("init")
def init_cmd(
    directory: Annotated[
        Path, typer.Argument(help="Folder for the new corpus (created if needed).")
    ],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Corpus name, [a-z0-9_-] (default: from the folder name)."),
    ] = None,
    pretty_name: Annotated[
        str | None, typer.Option("--pretty-name", help="Human-readable name for the card.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a new corpus repository: corpus.toml, articles/, annotations/, schemas/, README.

    Example: corpus init my-corpus --name my-corpus
    """
    report = init_corpus(directory=directory, name=name, pretty_name=pretty_name)
    if json_out:
        print_json(report.to_dict())
        return
    for rel in report.created:
        console.print(f"created {Path(report.root) / rel}", highlight=False)
    console.print(
        f"Next: put articles in {Path(report.root) / 'articles'} and run `corpus ingest` there.",
        highlight=False,
    )
