"""`corpus ls push` / `pull` / `import`: the project and its tasks to Label Studio and back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from corpus_tools.cli._common import (
    ConfigOpt,
    JsonOpt,
    QuietOpt,
    console,
    get_config,
    ls_app,
    print_json,
    progress_bar,
    shown,
)
from corpus_tools.constants import ENV_API_KEY, ENV_PSEUDONYM_KEY, ENV_URL

if TYPE_CHECKING:
    from corpus_tools.config import CorpusConfig


UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar=ENV_URL,
        help="Label Studio address (default: [labelstudio] url in corpus.toml).",
    ),
]
KeyOpt = Annotated[
    str,
    typer.Option(
        "--api-key",
        envvar=ENV_API_KEY,
        help="API token (legacy token or personal access token).",
        show_default=False,
    ),
]


def _url(cfg: CorpusConfig, url: str | None) -> str:
    return url or cfg.labelstudio.url


# The options `pull` and `import` share: where to write, the pseudonym key, --allow-deletions.
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Folder to write into (default: annotations/).", file_okay=False),
]
PseudonymKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--pseudonym-key",
        envvar=ENV_PSEUDONYM_KEY,
        help="Secret key for annotator pseudonyms (prefer the environment variable or "
        "--pseudonym-key-file: a command line is visible to other users).",
        show_default=False,
    ),
]
PseudonymKeyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--pseudonym-key-file",
        help="File holding the pseudonym key, outside the repository (default: "
        "[labelstudio] pseudonym_key_file).",
        dir_okay=False,
        show_default=False,
    ),
]


def _allow_deletions(source: str) -> typer.models.OptionInfo:
    return typer.Option(
        "--allow-deletions",
        help=f"Replace the local annotations even if {source} lacks some of them "
        "(refused otherwise, exit 1).",
    )


def _show_written(result: dict[str, Any], done: str, source: str) -> None:
    """What a pull or an import wrote (`done`: "pulled"/"imported"; `source`: what lacks the
    dropped annotations)."""
    from rich.table import Table

    files = result["files"]
    console.print(
        f"{done} {result['tasks']} tasks, {result['annotations']} annotations by "
        f"{len(result['annotators'])} annotators into {shown(result['dir'])}",
        highlight=False,
        soft_wrap=True,
    )
    table = Table("added", "changed", "removed", "unchanged", title="Files")
    table.add_row(*(str(files[k]) for k in ("added", "changed", "removed", "unchanged")))
    console.print(table)
    if result["dropped_annotations"]:
        console.print(
            f"dropped {result['dropped_annotations']} annotations {source} (--allow-deletions)",
            highlight=False,
        )


AdjudicationOpt = Annotated[
    bool,
    typer.Option(
        "--adjudication",
        help="Work on the adjudication project ([labelstudio] adjudication_project_title): "
        "push build/disputes.json, pull into adjudication/.",
    ),
]


@ls_app.command("push")
def push_cmd(
    config: ConfigOpt = None,
    url: UrlOpt = None,
    api_key: KeyOpt = "",
    tasks: Annotated[
        Path | None,
        typer.Option("--tasks", help="Tasks file (default: build/tasks.json).", dir_okay=False),
    ] = None,
    update_predictions: Annotated[
        bool,
        typer.Option(
            "--update-predictions",
            help="Also add the file's predictions to tasks already in the project (same text) "
            "whose model version they lack, and make the project's model version (the "
            "Prediction score column, the suggestions annotators see) the file's.",
        ),
    ] = False,
    adjudication: AdjudicationOpt = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Create or update the Label Studio project from corpus.toml and import new tasks.

    Example: corpus ls push --url http://127.0.0.1:8080
    Example: corpus tasks --suggest latest && corpus ls push --update-predictions
    """
    from rich.table import Table

    from corpus_tools import labelstudio as lib

    cfg = get_config(config)
    if adjudication:
        from corpus_tools.adjudicate import DISPUTES_FILE, adjudication_config

        tasks = tasks or cfg.paths.build / DISPUTES_FILE
        cfg = adjudication_config(cfg)
    with progress_bar(quiet, "importing tasks") as progress:
        result = lib.push(
            config=cfg,
            url=_url(cfg, url),
            api_key=api_key,
            tasks_path=tasks,
            update_predictions=update_predictions,
            progress=progress,
        )
    if json_out:
        print_json(result)
        return
    verb = "created" if result["created"] else "updated"
    console.print(
        f"project {result['project_id']} {verb}: {result['project_url']}", highlight=False
    )
    console.print(
        f"imported {result['imported']} tasks, {result['unchanged']} already there",
        highlight=False,
    )
    if result["skipped"]:
        console.print(
            f"skipped {len(result['skipped'])} tasks without article_id or repeated in the file: "
            + ", ".join(result["skipped"][:10]),
            highlight=False,
        )
    for note in result.get("notes", []):
        console.print(f"note: {note}", highlight=False)
    preds = result.get("predictions")
    if preds is not None:
        table = Table(
            "added", "already current", "skipped", "predictions added", title="Existing tasks"
        )
        table.add_row(
            *(str(preds[k]) for k in ("added", "current", "skipped", "predictions_added"))
        )
        console.print(table)
        mv = preds["project_model_version"]
        if mv["after"] != mv["before"]:
            console.print(
                f"project model version: {mv['before'] or '(none)'} -> {mv['after']} "
                "(Prediction score and the suggestions shown now follow it)",
                highlight=False,
            )
        for note in preds["notes"]:
            console.print(f"note: {note}", highlight=False)
    if result["changed"]:
        table = Table("article_id", title="Changed since pushed (not re-imported)")
        for aid in result["changed"]:
            table.add_row(aid)
        console.print(table)


@ls_app.command("pull")
def pull_cmd(
    config: ConfigOpt = None,
    url: UrlOpt = None,
    api_key: KeyOpt = "",
    project_id: Annotated[
        int | None,
        typer.Option("--project-id", help="Pull this project (default: the configured title)."),
    ] = None,
    out: OutOpt = None,
    pseudonym_key: PseudonymKeyOpt = None,
    pseudonym_key_file: PseudonymKeyFileOpt = None,
    allow_deletions: Annotated[bool, _allow_deletions("the server")] = False,
    adjudication: AdjudicationOpt = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Fetch every task and annotation into annotations/<project>/ (annotators pseudonymised).

    Needs a secret pseudonym key ($CORPUS_PSEUDONYM_KEY or a key file outside the repository).
    A pull that would drop annotations the folder holds is refused (exit 1) unless
    --allow-deletions.

    Example: CORPUS_PSEUDONYM_KEY=... corpus ls pull --json
    """
    from corpus_tools import labelstudio as lib

    cfg = get_config(config)
    key = lib.pseudonym_key(cfg, secret=pseudonym_key, key_file=pseudonym_key_file)
    if adjudication:
        from corpus_tools.adjudicate import adjudication_config, decisions_dir

        out = out or decisions_dir(cfg)
        cfg = adjudication_config(cfg)
    with progress_bar(quiet, "fetching tasks") as progress:
        result = lib.pull(
            config=cfg,
            url=_url(cfg, url),
            api_key=api_key,
            project_id=project_id,
            out=out,
            pseudonym_key=key,
            allow_deletions=allow_deletions,
            progress=progress,
        )
    if json_out:
        print_json(result)
        return
    _show_written(result, "pulled", "the server no longer has")
    if result["swept"]:
        console.print(
            f"removed {len(result['swept'])} leftovers of an interrupted pull", highlight=False
        )
    for note in result.get("notes", []):
        console.print(f"note: {note}", highlight=False)


@ls_app.command("import")
def import_cmd(
    exports: Annotated[
        list[Path],
        typer.Argument(
            help="Label Studio export files (JSON, snapshot JSON, JSONL) or folders of them."
        ),
    ],
    config: ConfigOpt = None,
    project_title: Annotated[
        str | None,
        typer.Option(
            "--project-title",
            help="Title whose slug names the folder (default: the first export file's name).",
        ),
    ] = None,
    out: OutOpt = None,
    pseudonym_key: PseudonymKeyOpt = None,
    pseudonym_key_file: PseudonymKeyFileOpt = None,
    allow_deletions: Annotated[bool, _allow_deletions("the export")] = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Write a downloaded export's tasks into annotations/<slug>/ as `corpus ls pull` would.

    Annotators become the pull's pseudonyms: from the e-mail a snapshot export carries (the
    same pseudonym a pull gives), from the user id when the export has only that. E-mails and
    names are never written. Needs the same pseudonym key as `corpus ls pull`. An import that
    would drop annotations the folder holds is refused (exit 1) unless --allow-deletions.

    Example: corpus ls import export.json --project-title "News stance" --json
    """
    from corpus_tools import labelstudio as lib
    from corpus_tools.imports import import_export

    cfg = get_config(config)
    key = lib.pseudonym_key(cfg, secret=pseudonym_key, key_file=pseudonym_key_file)
    with progress_bar(quiet or json_out, "importing tasks") as progress:
        result = import_export(
            config=cfg,
            paths=exports,
            pseudonym_key=key,
            project_title=project_title,
            out=out,
            allow_deletions=allow_deletions,
            progress=progress,
        )
    if json_out:
        print_json(result)
        return
    _show_written(result, "imported", "the export does not have")
