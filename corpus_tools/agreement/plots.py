"""PNG plots of an agreement report: one confusion matrix per layer and per-label agreement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from corpus_tools.agreement.core import ALL, AgreementReport, Confusion
from corpus_tools.agreement.stats import Estimate
from corpus_tools.store import atomic_path


def plot(report: AgreementReport, out_dir: Path) -> list[Path]:
    """Write the PNGs into `out_dir` (created if needed) and return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [_confusion_png(c, out_dir / f"confusion-{c.layer}.png") for c in report.confusion]
    paths.append(_per_label_png(report, out_dir / "agreement-per-label.png"))
    return paths


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def _confusion_png(conf: Confusion, path: Path) -> Path:
    import matplotlib.pyplot as plt

    m = np.asarray(conf.matrix, dtype=np.float64).reshape(len(conf.labels), len(conf.labels))
    rows = m.sum(axis=1, keepdims=True)
    share = np.divide(m, rows, out=np.zeros_like(m), where=rows > 0)
    size = max(4.8, 2.2 + 0.55 * len(conf.labels))
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(conf.labels)), conf.labels, rotation=45, ha="right")
    ax.set_yticks(range(len(conf.labels)), conf.labels)
    ax.set_xlabel("label given by the other annotator")
    ax.set_ylabel("label given by one annotator")
    for i in range(len(conf.labels)):
        for j in range(len(conf.labels)):
            if m[i, j]:
                ax.text(
                    j,
                    i,
                    str(int(m[i, j])),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if share[i, j] > 0.6 else "black",
                )
    what = {"checkworthy": "check-worthiness of matched claims"}.get(conf.layer, conf.layer)
    ax.set_title(f"{what}\nannotator-pair coincidences (colour: row share)", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return _save(fig, path)


def _bars(ax: Any, names: list[str], series: list[tuple[str, list[Estimate]]], title: str) -> None:
    """Grouped bars with 95% CI whiskers; an undefined figure is written `n/a`, not drawn as 0."""
    x = np.arange(len(names))
    width = 0.8 / max(len(series), 1)
    lows = [0.0]
    for k, (label, ests) in enumerate(series):
        pos = x + (k - (len(series) - 1) / 2) * width
        vals = np.array([e.value if e.value is not None else np.nan for e in ests])
        lo = np.array(
            [
                max(0.0, e.value - e.low) if e.low is not None and e.value is not None else 0.0
                for e in ests
            ]
        )
        hi = np.array(
            [
                max(0.0, e.high - e.value) if e.high is not None and e.value is not None else 0.0
                for e in ests
            ]
        )
        ax.bar(pos, np.nan_to_num(vals), width, yerr=np.vstack([lo, hi]), capsize=3, label=label)
        for p_, e in zip(pos, ests, strict=True):
            if e.value is None:
                ax.text(
                    p_, 0.02, "n/a", ha="center", va="bottom", fontsize=7, rotation=90, color="grey"
                )
            else:
                lows.append(min(e.value, e.low if e.low is not None else e.value))
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylim(min(lows) - 0.08, 1.12)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper center", ncol=len(series), frameon=False)


def _per_label_png(report: AgreementReport, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.6))
    ent = [report.entities.overall, *report.entities.labels]
    _bars(
        a1,
        ["all" if f.label == ALL else f.label for f in ent],
        [("exact F1", [f.exact_f1 for f in ent]), ("overlap F1", [f.overlap_f1 for f in ent])],
        "Entities: pairwise span F1 (95% CI)",
    )
    stance = list(report.stance)
    _bars(
        a2,
        ["all" if s.target == ALL else s.target for s in stance],
        [
            ("Krippendorff's α", [s.alpha for s in stance]),
            ("Fleiss' κ", [s.fleiss_kappa for s in stance]),
            ("Gwet's AC1", [s.ac1 for s in stance]),
        ],
        "Stance: agreement per target (95% CI)",
    )
    fig.tight_layout()
    return _save(fig, path)
