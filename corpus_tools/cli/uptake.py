"""`corpus model uptake`: what suggestions did to annotators (accepted, edited, deleted)."""

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
    model_app,
    print_json,
    progress_bar,
)

if TYPE_CHECKING:
    from rich.table import Table


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _table(title: str, key: str, rows: list[dict[str, Any]]) -> Table:
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    t.add_column(key, no_wrap=True)
    for col in ("suggested", "accepted", "edited", "b/l/both", "deleted", "added"):
        t.add_column(col, justify="right")
    for r in rows:
        e = r["edits"]
        t.add_row(
            r[key] if key != "label" else f"{r['layer']}: {r['label']}",
            str(r["predicted"]),
            f"{r['accepted']} {_pct(r['accepted_rate'])}",
            f"{r['edited']} {_pct(r['edited_rate'])}",
            f"{e['boundary']}/{e['label']}/{e['boundary+label']}",
            f"{r['deleted']} {_pct(r['deleted_rate'])}",
            str(r["added"]),
        )
    return t


def _anchoring(d: dict[str, Any]) -> Table:
    from rich.table import Table

    t = Table(title="Anchoring: suggestions accepted unchanged, by gold", title_justify="left")
    for col in ("group", "wrong", "accepted when wrong", "right", "accepted when right"):
        t.add_column(col, justify="left" if col == "group" else "right", no_wrap=col == "group")
    groups = [("all", d["overall"])]
    groups += [(f"layer {r['layer']}", r) for r in d["by_layer"]]
    groups += [(r["annotator"], r) for r in d["by_annotator"]]
    groups += [(f"model {r['model_version']}", r) for r in d["by_model_version"]]
    for name, r in groups:
        g = r["gold"]
        t.add_row(
            name,
            str(g["wrong"]),
            f"{g['accepted_wrong']} {_pct(g['accepted_when_wrong'])}",
            str(g["right"]),
            f"{g['accepted_right']} {_pct(g['accepted_when_right'])}",
        )
    return t


@model_app.command("uptake")
def uptake_cmd(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Pulled folders or export files (default: the corpus's annotations/)."),
    ] = None,
    config: ConfigOpt = None,
    gold: Annotated[
        Path | None,
        typer.Option(
            "--gold",
            help="Adjudicated gold for the anchoring figures: a gold.jsonl or a release folder "
            "(default: build/gold.jsonl when it exists).",
        ),
    ] = None,
    no_gold: Annotated[
        bool, typer.Option("--no-gold", help="Leave the anchoring figures out.")
    ] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Report how often each suggestion was accepted unchanged, edited or deleted.

    Compares every submitted annotation with the prediction it started from (its
    parent_prediction, else the task's predictions), per layer, label, annotator and model
    version; with gold, how often annotators accepted suggestions that gold rejected.

    Example: corpus model uptake annotations/ --json
    """
    from rich.table import Table

    from corpus_tools.models.uptake import measure

    if gold is not None and no_gold:
        from corpus_tools.errors import UsageError

        raise UsageError("--gold and --no-gold exclude each other", hint="Pass one of them.")
    cfg = get_config(config)
    with progress_bar(quiet, "reading annotations") as update:
        d = measure(config=cfg, paths=paths, gold=gold, use_gold=not no_gold, progress=update)
    if json_out:
        print_json(d)
        return
    a = d["annotations"]
    console.print(
        f"{a['measured']} annotations measured on {d['tasks']} tasks "
        f"({a['parent']} from their parent prediction, {a['task']} from the task's "
        f"predictions); {a['cancelled']} cancelled",
        highlight=False,
    )
    has_gold = d["gold"] is not None
    if has_gold:
        g = d["gold"]
        console.print(
            f"gold: {g['source']} ({g['articles_measured']} of {g['articles']} articles "
            "have measured suggestions)",
            highlight=False,
        )
    overall = {"layer": "all layers", **d["overall"]}
    layers = _table("Per layer", "layer", [*d["by_layer"], overall])
    layers.caption = "b/l/both: edited suggestions whose boundaries, label, or both changed"
    console.print(layers)
    for title, key, rows in (
        ("Per label", "label", d["by_label"]),
        ("Per annotator", "annotator", d["by_annotator"]),
        ("Per model version", "model_version", d["by_model_version"]),
    ):
        if rows:
            console.print(_table(title, key, rows))
    if has_gold:
        console.print(_anchoring(d))
    if d["label_changes"]:
        lt = Table(title="Label changes of edited suggestions", title_justify="left")
        for col in ("layer", "suggested", "annotated", "count"):
            lt.add_column(col, justify="right" if col == "count" else "left")
        for c in d["label_changes"]:
            lt.add_row(c["layer"], c["from"], c["to"], str(c["count"]))
        console.print(lt)
    for note in d["notes"]:
        console.print(f"note: {note}", style="yellow", highlight=False)
