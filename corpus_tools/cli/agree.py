"""`corpus agree`: inter-annotator agreement per layer, as a table, JSON, Markdown and plots."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

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
from corpus_tools.constants import AGREEMENT_BOOTSTRAP, AGREEMENT_SEED

if TYPE_CHECKING:
    from rich.table import Table

AgreeFormat = Literal["table", "json", "markdown"]


def _fmt(e: dict[str, Any]) -> str:
    if e.get("value") is None:
        return "n/a"
    if e.get("low") is None:
        return f"{e['value']:.3f}"
    return f"{e['value']:.3f} [{e['low']:.3f}, {e['high']:.3f}]"


def _opt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _tables(d: dict[str, Any]) -> list[Table]:
    from rich.table import Table

    st = Table(title="Stance (95% bootstrap CI)", title_justify="left")
    for col in ("target", "items", "Krippendorff α", "Fleiss κ", "% agreement", "Gwet AC1"):
        st.add_column(col, justify="right" if col == "items" else "left")
    for s in d["stance"]:
        ac1 = _fmt(s["ac1"]) + (" ← skewed" if s["skewed"] else "")
        st.add_row(
            "all targets" if s["target"] == "*" else s["target"],
            str(s["items"]),
            _fmt(s["alpha"]),
            _fmt(s["fleiss_kappa"]),
            _fmt(s["percent"]),
            ac1,
        )
    et = Table(title="Entities: pairwise span F1", title_justify="left")
    for col in ("label", "spans", "exact F1", "overlap F1"):
        et.add_column(col, justify="right" if col == "spans" else "left")
    ent = d["entities"]
    for f in [ent["overall"], *ent["labels"]]:
        et.add_row(
            "all labels" if f["label"] == "*" else f["label"],
            str(f["spans"]),
            _fmt(f["exact_f1"]),
            _fmt(f["overlap_f1"]),
        )
    et.caption = f"token-level α (with O): {_fmt(ent['token_alpha'])} over {ent['tokens']} tokens"
    ct = Table(title="Claims", title_justify="left")
    ct.add_column("figure")
    ct.add_column("value")
    c = d["claims"]
    ct.add_row("span F1, exact", _fmt(c["overall"]["exact_f1"]))
    ct.add_row("span F1, overlap", _fmt(c["overall"]["overlap_f1"]))
    ct.add_row(f"κ check-worthiness ({c['matched']} matched)", _fmt(c["checkworthy_kappa"]))
    ct.add_row("% agreement check-worthiness", _fmt(c["checkworthy_percent"]))
    ct.add_row("AC1 check-worthiness", _fmt(c["checkworthy_ac1"]))
    ct.add_row("claimant agreement", _fmt(c["claimant_agreement"]))
    at = Table(title="Annotators", title_justify="left")
    cols = (
        "annotator",
        "articles",
        "stance agr.",
        "entity F1",
        "claim F1",
        "label shift",
        "outlier",
    )
    for col in cols:
        at.add_column(
            col, justify="right" if col == "articles" else "left", no_wrap=col == "annotator"
        )
    for a in d["per_annotator"]:
        at.add_row(
            a["annotator"],
            str(a["articles"]),
            _opt(a["stance_agreement"]),
            _opt(a["entity_f1"]),
            _opt(a["claim_f1"]),
            f"{_opt(a['entity_label_shift'])} / {_opt(a['stance_label_shift'])}",
            "; ".join(a["outlier_reasons"]),
            style="bold red" if a["outlier"] else None,
        )
    return [st, et, ct, at]


@app.command("agree")
def agree_cmd(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Export files or folders (default: the corpus's annotations/)."),
    ] = None,
    config: ConfigOpt = None,
    fmt: Annotated[
        AgreeFormat,
        typer.Option("--format", "-f", help="table (people), json (the report), markdown."),
    ] = "table",
    json_out: JsonOpt = False,
    markdown: Annotated[
        Path | None,
        typer.Option("--markdown", dir_okay=False, help="Also write the Markdown report here."),
    ] = None,
    plots: Annotated[
        Path | None,
        typer.Option("--plots", file_okay=False, help="Also write PNG plots into this folder."),
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples for the intervals.")
    ] = AGREEMENT_BOOTSTRAP,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = AGREEMENT_SEED,
    quiet: QuietOpt = False,
) -> None:
    """Measure inter-annotator agreement per layer (α, κ, AC1, span F1), per label and annotator.

    Example: corpus agree --markdown build/agreement.md --plots build/agreement
    """
    from corpus_tools.agreement.markdown import render_markdown
    from corpus_tools.agreement.run import measure

    cfg = get_config(config)
    with progress_bar(quiet, "measuring agreement", total=4) as update:
        report, written = measure(
            config=cfg,
            paths=paths,
            bootstrap=bootstrap,
            seed=seed,
            markdown=markdown,
            plots=plots,
            progress=update,
        )
    if json_out or fmt == "json":
        print_json(report.to_dict())
        return
    if fmt == "markdown":
        typer.echo(render_markdown(report), nl=False)
        return
    d = report.to_dict()
    console.print(
        f"{d['annotations']} annotations, {d['articles']} articles "
        f"({d['multi_annotated_articles']} with ≥ 2 annotators), "
        f"{len(d['annotators'])} annotators",
        highlight=False,
    )
    for t in _tables(d):
        console.print(t)
    for note in d["notes"]:
        console.print(f"note: {note}", style="yellow", highlight=False)
    for p in written:
        console.print(f"wrote {shown(p)}", style="dim", highlight=False, soft_wrap=True)
