"""`corpus init`: scaffold a new corpus repository (a thin shell over `scaffold.init_corpus`),
from the default scheme or from an existing Label Studio project's labeling config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from corpus_tools.cli._common import JsonOpt, app, console, print_json, shown
from corpus_tools.cli.ls import KeyOpt, UrlOpt
from corpus_tools.errors import UsageError


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
    from_label_config: Annotated[
        Path | None,
        typer.Option(
            "--from-label-config",
            help="Adopt this Label Studio labeling config (XML): the scheme, its control "
            "names included, is read from it.",
        ),
    ] = None,
    tasks: Annotated[
        Path | None,
        typer.Option(
            "--tasks",
            help="A JSON export (or JSONL) of the project's tasks: the stance targets when "
            "the config asks stance with one control.",
        ),
    ] = None,
    from_project: Annotated[
        int | None,
        typer.Option(
            "--from-project",
            help="Adopt the labeling config of this live project (id), at --url.",
        ),
    ] = None,
    url: UrlOpt = None,
    api_key: KeyOpt = "",
    json_out: JsonOpt = False,
) -> None:
    """Create a new corpus repository: corpus.toml, articles/, annotations/, schemas/, README.

    With --from-label-config or --from-project the scheme is the one an existing Label Studio
    labeling config asks, its control names kept ([scheme.names]); what a scheme cannot
    express is refused, naming the tag.

    Example: corpus init my-corpus --name my-corpus

    Example: corpus init adopted --from-label-config config.xml --tasks export.json

    Example: corpus init adopted --from-project 3 --url http://127.0.0.1:8080
    """
    from corpus_tools import labelstudio, scaffold

    label_config: str | None = None
    task_list: list[dict[str, object]] | None = None
    project_title: str | None = None
    if from_label_config is not None and from_project is not None:
        raise UsageError(
            "--from-label-config and --from-project both given",
            hint="Adopt either a config file or a live project.",
        )
    if tasks is not None and from_label_config is None:
        raise UsageError(
            "--tasks goes with --from-label-config",
            hint="A live project's targets come from its own tasks.",
        )
    if from_label_config is not None:
        label_config = scaffold.read_label_config(from_label_config)
        task_list = scaffold.read_tasks(tasks) if tasks is not None else None
    if from_project is not None:
        url = url or scaffold.DEFAULT_URL
        with labelstudio.connect(url, api_key) as client:
            project_title, label_config, task_list = scaffold.project_sources(client, from_project)
    report = scaffold.init_corpus(
        directory=directory,
        name=name,
        pretty_name=pretty_name or project_title,
        label_config=label_config,
        tasks=task_list,
        url=labelstudio.display_url(url) if from_project is not None and url else None,
        project_title=project_title,
    )
    if json_out:
        print_json(report.to_dict())
        return
    for rel in report.created:
        console.print(f"created {shown(Path(report.root) / rel)}", highlight=False, soft_wrap=True)
    console.print(
        f"Next: put articles in {shown(Path(report.root) / 'articles')} and run "
        "`corpus ingest` there.",
        highlight=False,
        soft_wrap=True,
    )
