"""Measure the models honestly: story-grouped cross-validation on the gold, beside baselines,
and a learning curve over the amount of gold.

Folds: scikit-learn's `GroupKFold` over stories (`min(folds, stories)` folds): the articles of
one story (outlets' versions of the same events) are never split between training and test,
which would let the model look up the test article's names in its sibling. Every article is
tested once; figures are pooled over the folds (each test prediction counted once).

What is scored, per layer (open disputes and dropped ties — the *missing* ranges — are left
out: a predicted or gold span that overlaps a missing range is not counted at all):

- entities: exact match of (start, end, label); precision, recall and F1 per label, micro
  (pooled counts) and macro (mean over the labels present in gold or predictions). Systems:
  `model` (the spaCy NER pipeline), `gazetteer` (the learned gazetteer), `model+gazetteer`
  (the model's spans, plus gazetteer spans that overlap none of them), and `baseline`, the
  gazetteer and date patterns of corpus.toml (`corpus_tools.preannotate.rule_preannotator`),
  which is what `corpus tasks` pre-annotates with today.
- stance, per target: accuracy and macro-F1 of the model's most probable label, beside the
  majority label of the training fold (ties broken by the scheme's label order). Articles
  whose judgement for the target is missing are left out.
- claims: the sentence-level detector, scored per ingested sentence with the training rule of
  `classify.claim_sentence_labels` (positive when half of a gold claim lies inside it;
  sentences overlapping a missing range are left out). The model says claim when P(claim) is
  at least its *learned* threshold (`ClaimModel.threshold`), which each fold's model learned
  from that fold's training stories only (out-of-fold probabilities inside the training part:
  the test stories are never seen); beside it the same probabilities cut at a fixed 0.5, the
  ranking's average precision (free of any threshold), and F-beta (`THRESHOLD_BETA`, the
  measure the threshold maximises) next to F1. Baseline: every sentence is a claim (recall 1,
  precision the share of claim sentences).
- check-worthiness: for each gold claim with a label, the most probable label the model gives
  the sentence that holds most of it, beside the majority label of the training fold.

Learning curve: in every fold, the model is trained again on a fraction of the training
stories (a prefix of the fold's stories in a seeded random order, so the smaller sets are
inside the larger ones) and tested on the same test fold. The slope is the least-squares F1
gained per doubling of the training articles (F1 against log2 of their mean number).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus_tools import store
from corpus_tools.config import CorpusConfig
from corpus_tools.errors import UsageError
from corpus_tools.model import Article, PredictedSpan
from corpus_tools.models.bundle import (
    EVALUATION,
    LATEST,
    Layers,
    Progress,
    fit_layers,
    models_dir,
    read_card,
    training_steps,
    update_card,
)
from corpus_tools.models.classify import THRESHOLD_BETA, f_beta
from corpus_tools.models.data import GoldArticle, Range, TrainingSet, load_training_set

if TYPE_CHECKING:
    from corpus_tools.models.classify import PredictedClaim

SpanKey = tuple[str, int, int, str]  # (article_id, start, end, label)
CLAIM_THRESHOLD = 0.5  # the fixed cut reported beside the learned one
DEFAULT_CURVE = (0.25, 0.5, 1.0)
DEFAULT_EPOCHS = 20
PLOT_FILE = "learning_curve.png"
ENTITY_SYSTEMS = ("model", "gazetteer", "model+gazetteer", "baseline")
CURVE_LAYERS = ("entities", "gazetteer", "stance", "claims", "checkworthy")


# ---------------------------------------------------------------------------------------------
# scoring


def prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    """Counts with precision, recall and F1 (0.0 where the denominator is 0, as
    scikit-learn's `zero_division=0`)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f}


def _overlaps(start: int, end: int, ranges: Iterable[Range]) -> bool:
    return any(start < b and a < end for a, b in ranges)


def entity_keys(
    item: GoldArticle, predicted: Iterable[PredictedSpan]
) -> tuple[set[SpanKey], set[SpanKey]]:
    """Gold and predicted (article_id, start, end, label), without any span that overlaps a
    missing (disputed) range."""
    aid = item.article_id
    miss = item.missing_entities
    gold = {
        (aid, e.start, e.end, e.label) for e in item.entities if not _overlaps(e.start, e.end, miss)
    }
    pred = {
        (aid, p.start, p.end, p.label) for p in predicted if not _overlaps(p.start, p.end, miss)
    }
    return gold, pred


def score_spans(gold: set[SpanKey], pred: set[SpanKey]) -> dict[str, Any]:
    """Exact-match span scores: per label, micro (pooled) and macro (mean over the labels in
    gold or predictions)."""
    labels = sorted({k[3] for k in gold} | {k[3] for k in pred})
    per: dict[str, dict[str, Any]] = {}
    for label in labels:
        g = {k for k in gold if k[3] == label}
        p = {k for k in pred if k[3] == label}
        per[label] = prf(len(g & p), len(p - g), len(g - p)) | {"support": len(g)}
    micro = prf(len(gold & pred), len(pred - gold), len(gold - pred)) | {"support": len(gold)}
    macro = {
        m: (sum(per[lab][m] for lab in labels) / len(labels) if labels else 0.0)
        for m in ("precision", "recall", "f1")
    }
    return {"labels": per, "micro": micro, "macro": macro}


def score_labels(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Single-label classification: accuracy, per-label P/R/F1 and macro-F1 over the labels
    in gold or predictions (scikit-learn's `f1_score(average="macro")` convention)."""
    labels = sorted(set(y_true) | set(y_pred))
    per = {}
    for label in labels:
        tp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == p == label)
        fp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if p == label != t)
        fn = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == label != p)
        per[label] = prf(tp, fp, fn) | {"support": sum(1 for t in y_true if t == label)}
    n = len(y_true)
    return {
        "items": n,
        "accuracy": sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == p) / n if n else 0.0,
        "macro_f1": sum(per[lab]["f1"] for lab in labels) / len(labels) if labels else 0.0,
        "labels": per,
    }


def average_precision(y_true: Sequence[int], scores: Sequence[float]) -> float | None:
    """Average precision of a ranking (scikit-learn's; None without positives). A constant
    scorer's is the share of positives: the every-sentence baseline's."""
    if not any(y_true):
        return None
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(list(y_true), list(scores)))


def majority(labels: Iterable[str], order: Sequence[str]) -> str | None:
    """The most frequent label (ties: the first in `order`, the scheme's label order)."""
    counts = Counter(labels)
    if not counts:
        return None
    rank = {lab: i for i, lab in enumerate(order)}
    return min(counts, key=lambda lab: (-counts[lab], rank.get(lab, len(rank)), lab))


def merge_spans(
    model: Sequence[PredictedSpan], gazetteer: Sequence[PredictedSpan]
) -> list[PredictedSpan]:
    """The model's spans, plus the gazetteer's spans that overlap none of them."""
    kept = list(model)
    kept += [g for g in gazetteer if not any(g.start < m.end and m.start < g.end for m in model)]
    return sorted(kept, key=lambda s: (s.start, s.end, s.label))


def _best_label(probs: dict[str, float], order: Sequence[str]) -> str | None:
    if not probs:
        return None
    rank = {lab: i for i, lab in enumerate(order)}
    return min(probs, key=lambda lab: (-probs[lab], rank.get(lab, len(rank)), lab))


NONE = "(none)"  # what a model that gives no answer predicts (counts as wrong)


@dataclass
class Rows:
    """Pooled test rows of one training amount (over all folds)."""

    entities: dict[str, tuple[set[SpanKey], set[SpanKey]]] = field(
        default_factory=lambda: {s: (set(), set()) for s in ENTITY_SYSTEMS}
    )
    stance: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    # target -> [(gold, model, majority)]
    claims: list[tuple[str, int, int, int, float, float]] = field(default_factory=list)
    # (article_id, sentence start, gold 0/1, model 0/1 at its learned threshold, model
    #  P(claim), that threshold)
    checkworthy: list[tuple[str, str, str]] = field(default_factory=list)
    # (gold, model, majority)
    train_articles: list[int] = field(default_factory=list)
    train_stories: list[int] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        """Pool another fold's test rows into these."""
        for name, (gold, pred) in other.entities.items():
            self.entities[name][0].update(gold)
            self.entities[name][1].update(pred)
        for t, trip in other.stance.items():
            self.stance.setdefault(t, []).extend(trip)
        self.claims.extend(other.claims)
        self.checkworthy.extend(other.checkworthy)


def _predict_rows(
    config: CorpusConfig,
    layers: Layers,
    train: Sequence[GoldArticle],
    test: Sequence[GoldArticle],
    rows: Rows,
    baseline: Callable[[Article], list[PredictedSpan]] | None,
) -> None:
    """Score `layers` (trained on `train`) on `test`, adding to `rows`."""
    from corpus_tools.models.classify import claim_sentence_labels, trim

    scheme = config.scheme
    ner_spans: list[list[PredictedSpan]]
    if layers.ner is not None:
        ner_spans = list(layers.ner.predict_many(g.article for g in test))
    else:
        ner_spans = [[] for _ in test]
    for g, model_spans in zip(test, ner_spans, strict=True):
        gaz = layers.gazetteer.predict(g.article)
        systems = {
            "model": model_spans,
            "gazetteer": gaz,
            "model+gazetteer": merge_spans(model_spans, gaz),
        }
        if baseline is not None:
            systems["baseline"] = baseline(g.article)
        for name, spans in systems.items():
            gold, pred = entity_keys(g, spans)
            rows.entities[name][0].update(gold)
            rows.entities[name][1].update(pred)

    # stance: per target, the model's most probable label beside the training majority
    for t in (t.id for t in scheme.stance_targets):
        major = majority(
            (s.label for x in train for s in x.stances if s.target == t), scheme.stance_labels
        )
        for g in test:
            if t in g.missing_stances:
                continue
            gold_label = next((s.label for s in g.stances if s.target == t), None)
            if gold_label is None:
                continue
            probs = layers.stance.predict(g.article).get(t, {}) if layers.stance else {}
            rows.stance.setdefault(t, []).append(
                (gold_label, _best_label(probs, scheme.stance_labels) or NONE, major or NONE)
            )

    # claims: sentence-level detection, and check-worthiness of the gold claims
    cw_major = majority(
        (c.checkworthy for x in train for c in x.claims if c.checkworthy), scheme.checkworthy
    )
    for g in test:
        text = g.article.text
        scores: dict[tuple[int, int], float] = {}
        cut = CLAIM_THRESHOLD  # no claim model: every P(claim) is 0, nothing is flagged
        if layers.claims is not None:
            scores = {(a, b): p for a, b, p in layers.claims.sentence_scores(g.article)}
            cut = layers.claims.threshold  # learned from `train` alone
        for s, label in claim_sentence_labels(g):
            if label is None:
                continue
            p = scores.get(trim(text, s.start, s.end), 0.0)
            rows.claims.append((g.article_id, s.start, label, int(p >= cut), p, cut))
        labelled = [c for c in g.claims if c.checkworthy]
        if not labelled:
            continue
        candidates = layers.claims.predict(g.article, threshold=0.0) if layers.claims else []
        for c in labelled:
            best = _most_overlap(candidates, c.start, c.end)
            model_label = _best_label(best.checkworthy, scheme.checkworthy) if best else None
            rows.checkworthy.append((str(c.checkworthy), model_label or NONE, cw_major or NONE))


def _most_overlap(
    candidates: Sequence[PredictedClaim], start: int, end: int
) -> PredictedClaim | None:
    """The predicted claim (sentence) that holds most of [start, end), None if none overlaps."""
    best, most = None, 0
    for pc in candidates:
        n = min(pc.end, end) - max(pc.start, start)
        if n > most:
            best, most = pc, n
    return best


def _score_rows(rows: Rows) -> dict[str, Any]:
    """Every figure of one training amount, from its pooled rows."""
    entities = {name: score_spans(*rows.entities[name]) for name in ENTITY_SYSTEMS}
    stance: dict[str, Any] = {}
    for t, trip in sorted(rows.stance.items()):
        gold = [r[0] for r in trip]
        stance[t] = {
            "model": score_labels(gold, [r[1] for r in trip]),
            "majority": score_labels(gold, [r[2] for r in trip]),
        }

    def mean(system: str, metric: str) -> float | None:
        vals = [v[system][metric] for v in stance.values()]
        return sum(vals) / len(vals) if vals else None

    cl_gold = [r[2] for r in rows.claims]
    cl_model = [r[3] for r in rows.claims]

    def binary(pred: Sequence[int]) -> dict[str, Any]:
        tp = sum(1 for t, p in zip(cl_gold, pred, strict=True) if t and p)
        fp = sum(1 for t, p in zip(cl_gold, pred, strict=True) if p and not t)
        fn = sum(1 for t, p in zip(cl_gold, pred, strict=True) if t and not p)
        return prf(tp, fp, fn) | {
            "f_beta": f_beta(tp, fp, fn, THRESHOLD_BETA),
            "flagged": tp + fp,
        }

    cw_gold = [r[0] for r in rows.checkworthy]
    cw_model = [r[1] for r in rows.checkworthy]
    # a model with no check-worthiness answer at all was not trained for it (the gold has
    # fewer than two classes): no figure, rather than a zero that measures nothing
    cw_trained = any(p != NONE for p in cw_model)
    return {
        "entities": entities,
        "stance": {
            "targets": stance,
            "mean": {
                s: {"accuracy": mean(s, "accuracy"), "macro_f1": mean(s, "macro_f1")}
                for s in ("model", "majority")
            },
        },
        "claims": {
            "sentences": len(cl_gold),
            "claim_sentences": sum(cl_gold),
            "threshold": "learned",  # each fold's model's own, from its training part
            "thresholds": sorted({r[5] for r in rows.claims}),
            "beta": THRESHOLD_BETA,
            # ranking quality, free of the threshold: what ordering suggestions relies on
            "average_precision": {
                "model": average_precision(cl_gold, [r[4] for r in rows.claims]),
                "baseline": (sum(cl_gold) / len(cl_gold)) if cl_gold else None,
            },
            "model": binary(cl_model),
            "model_at_0.5": binary([int(r[4] >= CLAIM_THRESHOLD) for r in rows.claims]),
            "baseline": binary([1] * len(cl_gold)),
        },
        "checkworthy": {
            "trained": cw_trained,
            "model": score_labels(cw_gold, cw_model) if cw_trained else None,
            "majority": score_labels(cw_gold, [r[2] for r in rows.checkworthy]),
        },
    }


def _layer_f1(scores: dict[str, Any]) -> dict[str, float | None]:
    """One F1 per layer (the learning curve's and the summary's figure)."""
    cw = scores["checkworthy"]["model"]
    return {
        "entities": scores["entities"]["model"]["micro"]["f1"],
        "gazetteer": scores["entities"]["gazetteer"]["micro"]["f1"],
        "stance": scores["stance"]["mean"]["model"]["macro_f1"],
        "claims": scores["claims"]["model"]["f1"] if scores["claims"]["sentences"] else None,
        "checkworthy": cw["macro_f1"] if cw and cw["items"] else None,
    }


def summary(scores: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """F1 per layer, model beside baseline (what the card and the closing table show)."""
    ents = scores["entities"]
    cw = scores["checkworthy"]
    return {
        "entities": {
            "metric": "micro F1 (exact span)",
            "model": ents["model"]["micro"]["f1"],
            "model+gazetteer": ents["model+gazetteer"]["micro"]["f1"],
            "gazetteer": ents["gazetteer"]["micro"]["f1"],
            "baseline": ents["baseline"]["micro"]["f1"],
            "baseline_name": "corpus.toml gazetteer + dates",
        },
        "stance": {
            "metric": "macro F1, mean over targets",
            "model": scores["stance"]["mean"]["model"]["macro_f1"],
            "baseline": scores["stance"]["mean"]["majority"]["macro_f1"],
            "baseline_name": "majority label",
        },
        "claims": {
            "metric": "sentence F1 at the learned threshold",
            "model": scores["claims"]["model"]["f1"],
            "model_at_0.5": scores["claims"]["model_at_0.5"]["f1"],
            "baseline": scores["claims"]["baseline"]["f1"],
            "baseline_name": "every sentence",
            "average_precision": scores["claims"]["average_precision"]["model"],
            "baseline_average_precision": scores["claims"]["average_precision"]["baseline"],
        },
        "checkworthy": {
            "metric": "macro F1",
            "model": cw["model"]["macro_f1"] if cw["model"] and cw["model"]["items"] else None,
            "baseline": cw["majority"]["macro_f1"] if cw["majority"]["items"] else None,
            "baseline_name": "majority label",
        },
    }


def training_set_metrics(
    config: CorpusConfig, items: Sequence[GoldArticle], layers: Layers
) -> dict[str, Any]:
    """The layers scored on the gold they were trained on (optimistic; the card says so)."""
    rows = Rows()
    _predict_rows(config, layers, items, items, rows, baseline=None)
    scores = _score_rows(rows)
    out = summary(scores)
    out.pop("entities")
    out["entities"] = {
        "metric": "micro F1 (exact span)",
        "model": scores["entities"]["model"]["micro"]["f1"],
        "gazetteer": scores["entities"]["gazetteer"]["micro"]["f1"],
        "model+gazetteer": scores["entities"]["model+gazetteer"]["micro"]["f1"],
    }
    for row in out.values():
        row.pop("baseline", None)
        row.pop("baseline_name", None)
    return {"note": "scored on the training gold itself: optimistic", **out}


# ---------------------------------------------------------------------------------------------
# cross-validation


def story_folds(training: TrainingSet, folds: int) -> list[tuple[list[str], list[str]]]:
    """(training stories, test stories) per fold: scikit-learn's GroupKFold over the
    articles grouped by story. Raises if a story were in both halves of a fold."""
    from sklearn.model_selection import GroupKFold

    items = training.items
    groups = [g.story for g in items]
    out = []
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(items, groups=groups):
        train_s = sorted({groups[i] for i in train_idx})
        test_s = sorted({groups[i] for i in test_idx})
        if set(train_s) & set(test_s):  # not an assert: it must hold under python -O too
            raise AssertionError(f"stories in both train and test: {set(train_s) & set(test_s)}")
        out.append((train_s, test_s))
    return out


def _fractions(curve: Sequence[float]) -> list[float]:
    out = set()
    for f in curve:
        if not (0 < f <= 1) or math.isnan(f):
            raise UsageError(
                f"--curve {f}: a fraction of the training gold must be in (0, 1]",
                hint="Use e.g. --curve 0.25,0.5,1",
            )
        out.add(float(f))
    out.add(1.0)  # the full training folds: the cross-validated figures themselves
    return sorted(out)


def _slope(points: Sequence[tuple[float, float | None]]) -> float | None:
    """Least-squares slope of F1 against log2(training articles): F1 per doubling."""
    pts = [(math.log2(n), f) for n, f in points if f is not None and n > 0]
    if len({x for x, _ in pts}) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx


def evaluate(
    config: CorpusConfig,
    gold: Path | None = None,
    *,
    folds: int = 5,
    curve: Sequence[float] = DEFAULT_CURVE,
    seed: int = 0,
    epochs: int = DEFAULT_EPOCHS,
    plot: Path | None = None,
    progress: Progress | None = None,
    details: bool = False,
) -> dict[str, Any]:
    """Story-grouped cross-validation of every layer beside its baseline, and the learning
    curve (table, slope, and a PNG at `plot`, default build/models/learning_curve.png).

    Writes build/models/evaluation.json, and adds the figures to the latest model's card when
    that model was trained on the same gold. `details`: also return the pooled test rows
    (for checking the figures independently).
    """
    from corpus_tools.preannotate import rule_preannotator

    if folds < 2:
        raise UsageError(f"--folds {folds}: cross-validation needs at least 2 folds")
    if epochs < 1:
        raise UsageError(f"--epochs {epochs}: train at least one epoch", hint="Use --epochs 20.")
    fractions = _fractions(curve)
    training = load_training_set(config, gold)
    stories = training.stories
    if len(stories) < 2:
        raise UsageError(
            f"{training.source}: {len(stories)} story in the gold; story-grouped "
            "cross-validation needs at least 2",
            hint="Adjudicate articles of more stories (corpus adjudicate).",
            path=training.source,
        )
    k = min(folds, len(stories))
    splits = story_folds(training, k)
    baseline = rule_preannotator(config).predict
    rows = {f: Rows() for f in fractions}
    fold_f1: list[dict[str, float | None]] = []  # per fold, full training stories
    per_fit = training_steps(epochs)
    total = k * len(fractions) * per_fit
    done = 0
    for i, (train_s, test_s) in enumerate(splits):
        order = sorted(train_s)
        random.Random(f"{seed}:{i}").shuffle(order)
        test = training.subset(test_s)
        for f in fractions:
            n = max(1, round(f * len(order)))
            train = training.subset(order[:n])
            offset = done

            def fit_progress(d: int, _t: int, offset: int = offset) -> None:
                if progress is not None:
                    progress(offset + d, total)

            layers = fit_layers(config, train, seed=seed, epochs=epochs, progress=fit_progress)
            fold = Rows()
            _predict_rows(config, layers, train, test, fold, baseline if f == 1.0 else None)
            rows[f].extend(fold)
            if f == 1.0:
                fold_f1.append(_layer_f1(_score_rows(fold)))
            rows[f].train_articles.append(len(train))
            rows[f].train_stories.append(n)
            done += per_fit
    scores = {f: _score_rows(rows[f]) for f in fractions}
    full = scores[1.0]
    points: list[dict[str, Any]] = []
    for f in fractions:
        r = rows[f]
        points.append(
            {
                "fraction": f,
                "train_articles": sum(r.train_articles) / len(r.train_articles),
                "train_stories": sum(r.train_stories) / len(r.train_stories),
                "f1": _layer_f1(scores[f]),
            }
        )
    slopes = {
        layer: _slope([(p["train_articles"], p["f1"][layer]) for p in points])
        for layer in CURVE_LAYERS
    }
    result: dict[str, Any] = {
        "gold": {
            "source": training.source,
            "sha256": training.source_sha256,
            "articles": len(training),
            "stories": len(stories),
            "skipped": len(training.skipped),
        },
        "scheme_sha256": config.scheme.digest(),
        "folds": k,
        "seed": seed,
        "epochs": epochs,
        "splits": [
            {
                "fold": i,
                "train_stories": tr,
                "test_stories": te,
                "train_articles": len(training.subset(tr)),
                "test_articles": len(training.subset(te)),
                "f1": fold_f1[i],  # few stories per fold: spread widely; pooled is the figure
            }
            for i, (tr, te) in enumerate(splits)
        ],
        "summary": summary(full),
        **full,
        "learning_curve": {"points": points, "slope_per_doubling": slopes},
    }
    root = models_dir(config)
    plot_path = Path(plot) if plot is not None else root / PLOT_FILE
    write_plot(points, plot_path, baseline=full["entities"]["baseline"]["micro"]["f1"])
    result["learning_curve"]["plot"] = store.display_path(plot_path)
    result["written"] = _write(config, result)
    if details:
        result["rows"] = {
            "entities": {
                s: {"gold": sorted(g), "pred": sorted(p)}
                for s, (g, p) in rows[1.0].entities.items()
            },
            "stance": rows[1.0].stance,
            "claims": rows[1.0].claims,
            "checkworthy": rows[1.0].checkworthy,
        }
    return result


def _write(config: CorpusConfig, result: dict[str, Any]) -> dict[str, Any]:
    """evaluation.json under build/models, and into the latest model's card if it was
    trained on the same gold."""
    root = models_dir(config)
    store.atomic_write_bytes(root / EVALUATION, store.dump_json(result))
    written: dict[str, Any] = {"evaluation": store.display_path(root / EVALUATION), "card": None}
    try:
        latest = (root / LATEST).read_text(encoding="utf-8").strip()
    except OSError:
        return written
    folder = root / latest
    if not latest or latest.startswith(".") or "/" in latest or not folder.is_dir():
        return written
    try:
        card = read_card(folder)
    except UsageError:
        return written
    same = card.get("gold", {}).get("sha256") == result["gold"]["sha256"]
    if (
        same
        and card.get("scheme_sha256") == result["scheme_sha256"]
        and not card.get("extra", {}).get("articles")
    ):
        update_card(folder, result)
        written["card"] = latest
    return written


def write_plot(
    points: Sequence[dict[str, Any]], path: Path, *, baseline: float | None = None
) -> None:
    """The learning curve as a PNG: F1 per layer against training articles (log2 axis), with
    the entity baseline's F1 as a dashed line."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    try:
        xs = [p["train_articles"] for p in points]
        if baseline is not None:
            ax.axhline(baseline, color="grey", linestyle="--", linewidth=1)
            ax.annotate(
                "entities baseline (corpus.toml gazetteer + dates)",
                (xs[0], baseline),
                textcoords="offset points",
                xytext=(0, 4),
                fontsize="small",
                color="grey",
            )
        for layer in CURVE_LAYERS:
            ys = [p["f1"][layer] for p in points]
            if all(y is None for y in ys):
                continue
            ax.plot(xs, [math.nan if y is None else y for y in ys], marker="o", label=layer)
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs, [f"{x:g}" for x in xs])
        ax.minorticks_off()
        ax.set_xlabel("training articles per fold (mean)")
        ax.set_ylabel("F1 (cross-validated)")
        ax.set_ylim(0, 1)
        ax.set_title("Learning curve")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right", fontsize="small")
        fig.tight_layout()
        with store.atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
