"""`corpus model train` / `corpus model evaluate`: models trained from the corpus's own gold."""

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
    shown,
)
from corpus_tools.errors import UsageError

if TYPE_CHECKING:
    from rich.table import Table

GoldOpt = Annotated[
    Path | None,
    typer.Option(
        "--gold",
        help="Gold to train on: a gold file (default: build/gold.jsonl) or a release folder "
        "(dist/VERSION).",
    ),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (same inputs, same model).")]
EpochsOpt = Annotated[
    int, typer.Option("--epochs", min=1, help="Training epochs of the spaCy NER pipeline.")
]


def _f(x: Any) -> str:
    return "n/a" if x is None else f"{x:.3f}"


@model_app.command("train")
def train_cmd(
    config: ConfigOpt = None,
    gold: GoldOpt = None,
    seed: SeedOpt = 0,
    epochs: EpochsOpt = 20,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Train every layer (spaCy NER, learned gazetteer, stance, claims) on the adjudicated gold.

    Writes build/models/<version>/ (card.json, README.md and the models) and points
    build/models/LATEST at it. The same gold, scheme, seed and epochs give the same version;
    training it again reuses the folder.

    Example: corpus model train --epochs 20
    """
    from rich.table import Table

    from corpus_tools.models.bundle import train

    cfg = get_config(config)
    with progress_bar(quiet or json_out, "training") as update:
        bundle = train(cfg, gold, seed=seed, epochs=epochs, progress=update)
    card = bundle.card
    if json_out:
        print_json(
            {
                "version": bundle.version,
                "path": str(bundle.path),
                "reused": bundle.reused,
                "card": card,
            }
        )
        return
    t = card["trained_on"]
    table = Table(title=f"Model {bundle.version}", title_justify="left")
    for col in ("layer", "model", "trained on", "training-set F1"):
        table.add_column(col)
    m = card["metrics"]["training_set"]
    layers = card["layers"]

    def state(key: str, what: str) -> str:
        return what if layers.get(key) else "not trained (no gold)"

    table.add_row(
        "entities",
        state("ner", "spaCy NER"),
        f"{t['entities']['spans']} spans, {t['entities']['articles']} articles",
        _f(m["entities"]["model"]),
    )
    table.add_row(
        "entities",
        "learned gazetteer",
        f"{len(bundle.gazetteer.forms)} surface forms",
        _f(m["entities"]["gazetteer"]),
    )
    n_stance = sum(sum(c.values()) for c in t["stance"]["judgements"].values())
    table.add_row(
        "stance",
        state("stance", "classifier per target"),
        f"{n_stance} judgements",
        _f(m["stance"]["model"]),
    )
    gate = bundle.claims.gate if bundle.claims is not None else None
    detector = "sentence detector"
    if bundle.claims is not None and gate is not None:
        detector += f", threshold {bundle.claims.threshold:.3f}, gate " + (
            "open (suggests claims)" if bundle.claims.informative else "closed (no claims)"
        )
    table.add_row(
        "claims",
        state("claims", detector),
        f"{t['claims']['claims']} claims, {t['claims']['sentences']} sentences",
        _f(m["claims"]["model"]),
    )
    cw_info = (card.get("info") or {}).get("claims", {}).get("checkworthiness", {})
    table.add_row(
        "checkworthy",
        state("claims", "classifier")
        if cw_info.get("model") or not layers.get("claims")
        else "not trained (one class in gold)",
        ", ".join(f"{k} {v}" for k, v in t["claims"]["checkworthy"].items()) or "-",
        _f(m["checkworthy"]["model"]),
    )
    console.print(table)
    if gate is not None:
        console.print(f"claim gate: {gate.get('reason')}", highlight=False)
    what = "reused (same inputs)" if bundle.reused else "trained"
    console.print(
        f"{what}: {bundle.version} → {shown(bundle.path)} (LATEST)\n"
        f"gold {card['gold']['source']} ({t['articles']} articles, {t['stories']} stories); "
        "training-set F1 is optimistic: run `corpus model evaluate` for cross-validated figures",
        highlight=False,
        soft_wrap=True,
    )


def _curve(value: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in value.split(",") if x.strip())
    except ValueError:
        raise UsageError(
            f"--curve {value!r}: not a comma-separated list of fractions",
            hint="Use e.g. --curve 0.25,0.5,1",
        ) from None


@model_app.command("evaluate")
def evaluate_cmd(
    config: ConfigOpt = None,
    gold: GoldOpt = None,
    folds: Annotated[
        int, typer.Option("--folds", help="Story-grouped folds (at most the number of stories).")
    ] = 5,
    curve: Annotated[
        str,
        typer.Option("--curve", help="Fractions of the training gold for the learning curve."),
    ] = "0.25,0.5,1",
    seed: SeedOpt = 0,
    epochs: EpochsOpt = 20,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot", help="Learning-curve PNG to write (default: build/models/learning_curve.png)."
        ),
    ] = None,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Cross-validate every layer by story, beside the gazetteer+dates and majority baselines.

    No story is in both training and test. Prints precision, recall and F1 per layer and
    label, and the learning curve (F1 per doubling of gold); writes build/models/evaluation.json
    and the curve's PNG, and adds the figures to the latest model's card when it was trained
    on the same gold.

    Example: corpus model evaluate --folds 5 --curve 0.25,0.5,1
    """
    from corpus_tools.models.evaluate import evaluate

    cfg = get_config(config)
    fractions = _curve(curve)
    with progress_bar(quiet or json_out, "cross-validating") as update:
        result = evaluate(
            cfg,
            gold,
            folds=folds,
            curve=fractions,
            seed=seed,
            epochs=epochs,
            plot=plot,
            progress=update,
        )
    if json_out:
        print_json(result)
        return
    for table in _eval_tables(result):
        console.print(table)
    w = result["written"]
    console.print(
        f"{result['folds']} story-grouped folds over {result['gold']['stories']} stories, "
        f"{result['gold']['articles']} articles ({result['gold']['source']})\n"
        f"wrote {shown(w['evaluation'])} and {shown(result['learning_curve']['plot'])}"
        + (f"; card of {shown(w['card'])} updated" if w["card"] else ""),
        highlight=False,
        soft_wrap=True,
    )


def _eval_tables(r: dict[str, Any]) -> list[Table]:
    from rich.table import Table

    s = Table(title="Cross-validated F1 per layer", title_justify="left")
    for col in ("layer", "metric", "model", "baseline", "baseline is"):
        s.add_column(col, justify="right" if col in ("model", "baseline") else "left")
    for layer, row in r["summary"].items():
        s.add_row(layer, row["metric"], _f(row["model"]), _f(row["baseline"]), row["baseline_name"])

    e = Table(title="Entities: exact-match P / R / F1 per label", title_justify="left")
    e.add_column("label")
    e.add_column("support", justify="right")
    systems = ("model", "model+gazetteer", "gazetteer", "baseline")
    for name in systems:
        e.add_column(name, justify="right")
    ents = r["entities"]
    labels = sorted({lab for name in systems for lab in ents[name]["labels"]})

    def cell(x: dict[str, Any] | None) -> str:
        if x is None:
            return "-"
        return f"{x['precision']:.2f} / {x['recall']:.2f} / {x['f1']:.2f}"

    for lab in labels:
        support = ents["model"]["labels"].get(lab, {}).get("support", 0)
        e.add_row(lab, str(support), *(cell(ents[n]["labels"].get(lab)) for n in systems))
    e.add_row(
        "micro", str(ents["model"]["micro"]["support"]), *(cell(ents[n]["micro"]) for n in systems)
    )
    e.add_row("macro", "", *(cell(ents[n]["macro"]) for n in systems))

    st = Table(title="Stance per target (accuracy / macro-F1)", title_justify="left")
    for col in ("target", "items", "model", "majority"):
        st.add_column(col, justify="left" if col == "target" else "right")
    for t, row in r["stance"]["targets"].items():
        m, b = row["model"], row["majority"]
        st.add_row(
            t,
            str(m["items"]),
            f"{m['accuracy']:.2f} / {m['macro_f1']:.2f}",
            f"{b['accuracy']:.2f} / {b['macro_f1']:.2f}",
        )

    c = r["claims"]
    cuts = ", ".join(f"{t:.3f}" for t in c.get("thresholds") or []) or "-"
    beta = c.get("beta")
    fb = f"F{beta:g}" if beta else "F-beta"
    cl = Table(
        title=f"Claims (sentences; each fold's learned threshold: {cuts})", title_justify="left"
    )
    for col in ("system", "items", "P / R / F1", fb, "flagged"):
        cl.add_column(col, justify="left" if col == "system" else "right")

    def extra(x: dict[str, Any] | None, key: str) -> str:
        value = (x or {}).get(key)
        return "-" if value is None else (str(value) if key == "flagged" else f"{value:.3f}")

    n = str(c["sentences"])
    for name, x in (
        ("detector at the learned threshold", c["model"]),
        ("detector at 0.5", c.get("model_at_0.5")),
        ("every sentence (baseline)", c["baseline"]),
    ):
        cl.add_row(name, n, cell(x), extra(x, "f_beta"), extra(x, "flagged"))
    ap = c["average_precision"]
    cl.add_row("detector: average precision (ranking)", n, _f(ap["model"]), "", "")
    cl.add_row("every sentence: average precision", n, _f(ap["baseline"]), "", "")
    cw = r["checkworthy"]
    items = str(cw["majority"]["items"])
    cl.add_row(
        "check-worthiness (acc / macro-F1)",
        items,
        f"{cw['model']['accuracy']:.2f} / {cw['model']['macro_f1']:.2f}"
        if cw["model"]
        else "not trained (one class in gold)",
        "",
        "",
    )
    cl.add_row(
        "check-worthiness, majority label",
        items,
        f"{cw['majority']['accuracy']:.2f} / {cw['majority']['macro_f1']:.2f}",
        "",
        "",
    )

    pf = Table(title="Per fold (F1 on the held-out stories)", title_justify="left")
    for col in (
        "fold",
        "test stories",
        "test articles",
        "entities",
        "gazetteer",
        "stance",
        "claims",
    ):
        pf.add_column(col, justify="right")
    for sp in r["splits"]:
        f1 = sp["f1"]
        pf.add_row(
            str(sp["fold"]),
            str(len(sp["test_stories"])),
            str(sp["test_articles"]),
            *(_f(f1[x]) for x in ("entities", "gazetteer", "stance", "claims")),
        )

    lc = r["learning_curve"]
    curve = Table(title="Learning curve (cross-validated F1)", title_justify="left")
    layers = list(lc["slope_per_doubling"])
    for col in ("fraction", "train articles", *layers):
        curve.add_column(col, justify="right")
    for p in lc["points"]:
        curve.add_row(
            f"{p['fraction']:g}",
            f"{p['train_articles']:.1f}",
            *(_f(p["f1"][layer]) for layer in layers),
        )
    curve.add_row(
        "F1 per doubling",
        "",
        *(
            "n/a" if lc["slope_per_doubling"][x] is None else f"{lc['slope_per_doubling'][x]:+.3f}"
            for x in layers
        ),
    )
    return [s, e, st, cl, pf, curve]
