"""`corpus release` and `corpus publish`: build a versioned release, publish it."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated, Literal

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
    shown,
)

if TYPE_CHECKING:
    from corpus_tools.model import PublishResult, ReleaseResult

VersionArg = Annotated[str, typer.Argument(help="Semantic version X.Y.Z (tag vX.Y.Z).")]
TargetOpt = Annotated[
    Literal["local", "hub"] | None,
    typer.Option(
        "--target",
        help="Where to publish: local hub folder or the Hugging Face Hub "
        "(default: [publish] target in corpus.toml).",
    ),
]
RepoOpt = Annotated[
    str | None,
    typer.Option("--repo", help="Hub dataset repo ORG/NAME (default: [publish] repo_id)."),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what publishing would change; change nothing.")
]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        envvar="HF_ENDPOINT",
        help="Hub URL (default: huggingface.co).",
        show_envvar=True,
    ),
]


def _show_release(result: ReleaseResult) -> None:
    from rich.table import Table

    table = Table("config", "train", "validation", "test", title=f"release {result.version}")
    for name, splits in result.counts.items():
        table.add_row(name, *(str(splits[s]) for s in ("train", "validation", "test")))
    console.print(table)
    if result.findings:
        by_slug = Counter(f.slug for f in result.findings)
        console.print(
            "findings: " + ", ".join(f"{slug} {n}" for slug, n in sorted(by_slug.items())),
            highlight=False,
        )
    console.print(
        result.message or f"built {shown(result.path)}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def _show_publish(result: PublishResult) -> None:
    from rich.table import Table

    if result.already_published:
        console.print(result.message, highlight=False, markup=False, soft_wrap=True)
        console.print(
            f"load it with: {result.load_line}", highlight=False, markup=False, soft_wrap=True
        )
        return
    verb = "would publish" if result.dry_run else "published"
    where = shown(result.location) if result.target == "local" else result.location
    console.print(f"{verb} {result.tag} to {where}", highlight=False, soft_wrap=True)
    table = Table("change", "files")
    for label, names in (
        ("added", result.added),
        ("changed", result.changed),
        ("deleted", result.deleted),
        ("unchanged", result.unchanged),
    ):
        if names:
            table.add_row(label, "\n".join(names))
    console.print(table)
    if result.commit:
        console.print(f"commit {result.commit}", highlight=False)
    if not result.dry_run:
        console.print(f"load it with: {result.load_line}", highlight=False, markup=False)


@app.command("release")
def release_cmd(
    version: VersionArg,
    config: ConfigOpt = None,
    publish_: Annotated[
        bool,
        typer.Option("--publish/--no-publish", help="Publish after building (default: no)."),
    ] = False,
    target: TargetOpt = None,
    repo: RepoOpt = None,
    dry_run: DryRunOpt = False,
    endpoint: EndpointOpt = None,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Build release VERSION into dist/VERSION: Parquet per config and split, card, manifest.

    Example: corpus release 0.1.0 --publish
    """
    from corpus_tools.publish import publish
    from corpus_tools.release import build_release

    cfg = get_config(config)
    result = build_release(config=cfg, version=version, progress=show_progress(quiet or json_out))
    pub = None
    if publish_ or dry_run:
        pub = publish(
            config=cfg,
            version=version,
            target=target or cfg.publish.target,  # type: ignore[arg-type]
            repo_id=repo,
            dry_run=dry_run,
            endpoint=endpoint,
        )
    if json_out:
        out = result.to_dict()
        if pub is not None:
            out["publish"] = pub.to_dict()
        print_json(out)
        return
    _show_release(result)
    if pub is not None:
        _show_publish(pub)


@app.command("publish")
def publish_cmd(
    version: VersionArg,
    config: ConfigOpt = None,
    target: TargetOpt = None,
    repo: RepoOpt = None,
    dry_run: DryRunOpt = False,
    endpoint: EndpointOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Publish the built dist/VERSION to the local hub folder or the Hub (tag vVERSION).

    Example: corpus publish 0.1.0 --target hub --repo example-org/geonews --dry-run
    """
    from corpus_tools.publish import publish

    cfg = get_config(config)
    result = publish(
        config=cfg,
        version=version,
        target=target or cfg.publish.target,  # type: ignore[arg-type]
        repo_id=repo,
        dry_run=dry_run,
        endpoint=endpoint,
    )
    if json_out:
        print_json(result.to_dict())
        return
    _show_publish(result)
