"""`corpus pipeline`: the whole main job on one corpus."""

from __future__ import annotations

from typing import Annotated

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
from corpus_tools.errors import EXIT_DATA


@app.command("pipeline")
def pipeline_cmd(
    version: Annotated[str, typer.Argument(help="Release version X.Y.Z (tag vX.Y.Z).")],
    config: ConfigOpt = None,
    no_publish: Annotated[
        bool, typer.Option("--no-publish", help="Build the release but do not publish it.")
    ] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run ingest → schemas check → tasks → check → adjudicate → release → publish (local).

    Stops at the first stage whose data fails (exit 1). Re-running with unchanged inputs is
    safe: an identical release is reported as already published (identical files); a
    published version whose files would differ is refused (exit 2): bump the version.

    Example: corpus pipeline 0.1.0
    """
    from rich.table import Table

    from corpus_tools.pipeline import STAGES, run_pipeline

    result = run_pipeline(
        config=get_config(config),
        version=version,
        publish_local=not no_publish,
        progress=show_progress(quiet),
    )
    if json_out:
        print_json(result.to_dict())
    else:
        table = Table("stage", "outcome", title=f"pipeline {result.version}", title_justify="left")
        for stage in STAGES:
            if stage in result.stages:
                outcome = "FAILED" if stage == result.failed else "ok"
                if stage == "publish" and result.stages[stage].get("already_published"):
                    outcome = "already published (identical files)"
                if stage == "release" and result.stages[stage].get("status") == "rebuilt":
                    outcome = "rebuilt (not published yet; previous build replaced)"
                table.add_row(stage, outcome)
            else:
                table.add_row(stage, "not run")
        console.print(table)
        if result.failed:
            console.print(
                f"stage {result.failed} failed: run `corpus {result.failed}` for the details",
                highlight=False,
                markup=False,
            )
        if result.load_line:
            console.print(f"load it with: {result.load_line}", highlight=False, markup=False)
    if not result.ok:
        raise typer.Exit(EXIT_DATA)
