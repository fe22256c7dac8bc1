"""Classifiers trained on the gold: stance per target, a sentence-level claim detector, and
check-worthiness, each with calibrated probabilities (scikit-learn, imported on first use).

Stance (`StanceModel`): one logistic regression per stance target over
- TF-IDF word uni- and bigrams of the whole article (one vocabulary shared by every target),
- TF-IDF of the *focus* text: the sentences that mention the target's name (case-insensitive,
  at a word start, any word ending: "Iran" also finds "Iranian" and "Iran's"),
- two cues: log(1 + mentions of the name) and the share of sentences that mention it (an
  article that never names a target is most often `unrelated` to it).
A target in an article's `missing_stances` (an open dispute, a dropped tie) is left out of that
target's training data: an open dispute is not a negative. So is an article without a
judgement for the target.

Claims (`ClaimModel`): each of an article's ingested sentences (`article.sentences`) is one
example. A sentence is *positive* when at least half of the non-whitespace characters of some
gold claim lie inside it (`CLAIM_SHARE`; a claim split evenly over two sentences makes both
positive; whitespace between sentences does not count); otherwise negative. A claim spread so
thin that no sentence holds half of it (three sentences or more) makes none positive; `info`
counts those (`claims_unplaced`). A sentence that overlaps a `missing_claims` range by one
character or more is left out of training. Features: TF-IDF word uni- and bigrams of the
sentence plus cheap cues (a digit, a double quote, a reporting verb, its length, its position
in the article).
A predicted claim is a sentence trimmed of surrounding whitespace, scored with P(claim).
Decision threshold: P(claim) is calibrated, so on gold where about one sentence in eight is
a claim it rarely reaches 0.5, and a fixed cut at 0.5 suggests nothing. `fit` learns the cut
from the training gold instead: out-of-fold calibrated P(claim) for every training sentence
(the calibration's own `CALIBRATION_FOLDS` folds, story-grouped where possible with the same
fallback to stratified folds; each fold's detector is built as the final one is, its own
TF-IDF vocabulary included, fitted and calibrated by the same rules), then the cut that
maximises F-beta with `THRESHOLD_BETA` = 1.5 over those probabilities (`best_threshold`:
every distinct probability is a candidate, ties go to the higher cut, and the cut is placed
halfway to the next lower probability). Beta 1.5 weighs recall 2.25 times precision: a
suggested sentence the annotator deletes costs a glance and a click; a claim never suggested
may never be annotated, and finding it means reading every sentence again. Beta 2 would flag
every sentence until the ranking is very good (at a 12% base rate flagging every sentence
already scores F2 0.48). Fallbacks: a class with fewer than `CALIBRATION_FOLDS` examples (no
out-of-fold folds) -> the base rate, the share of claim sentences in training (flag a
sentence more probable than the average one); a constant detector (one class in gold) -> 0.5,
which its smoothed constant is above when every sentence is a claim and below when none is.
The cut is saved with the model (`ClaimModel.threshold`), `info["detector"]["threshold"]`
records it with its rule, folds and out-of-fold counts, and `predict(article)` uses it unless
given `threshold=`. A model saved before thresholds were learned loads with 0.5.
The gate (`ClaimModel.gate`, `ClaimModel.informative`): is the detector at a learned cut
better than the trivial rule "every sentence is a claim"? The F-beta at the learned cut on the
out-of-fold probabilities cannot answer that: flagging every sentence is one of the cuts
`best_threshold` tries, so the best cut is never below the trivial rule on the probabilities
it was chosen on (on the sample it flags 105 of 108 sentences and "beats" every sentence by
0.008). The gate measures the cut as it will be used, on sentences it was not chosen on: each
calibration fold's held-out sentences are cut at the threshold `best_threshold` learns from
the other folds' out-of-fold probabilities, and F-beta is pooled over the folds
(`gate["f_beta"]`). The trivial rule scores `every_sentence_f_beta` on the same sentences
(precision = the base rate, recall 1). `informative` is True when the first exceeds the second
by more than `GATE_MARGIN` (0.0: any measured gain). Both figures are recorded with the
F-beta at the learned cut (`f_beta_at_learned_cut`, optimistic as said) in `gate` and in
`info["detector"]["gate"]`. Not informative: a constant detector (one class in gold), and a
detector whose cut fell back to the base rate (too few examples to measure it). The gate does
not change `predict` (it is the suggester's policy: `corpus tasks --suggest` and `corpus serve`
suggest no claims from a detector that is not informative, and say why, `GATE_CLOSED`). A model
saved before the gate loads as informative only when its threshold is 0.5 (it was saved before
thresholds were learned too and suggested what it did then, rarely anything); one with a
learned threshold but no gate is not informative (its cut was never measured against the
trivial rule). On the sample the gate is closed: F1.5 0.273 at the held-out cuts against
0.378 for every sentence.
Check-worthiness is a second classifier over the gold claims' own texts and labels; its
probabilities are given for each predicted claim (an empty dict when the gold has fewer than
two check-worthiness classes).

Probabilities: a classifier is wrapped in `CalibratedClassifierCV(method="sigmoid",
ensemble=False)` with `CALIBRATION_FOLDS` folds when every class has at least that many
examples: the sigmoids are fitted on out-of-fold decision values (folds grouped by story when
there are enough stories and every class stays in each training part, so a story's articles
are not on both sides of a fold), and one regression on all examples serves predictions;
otherwise the logistic regression's own probabilities are used. `info` records per
target (and for claims and check-worthiness) which was used and why. A target, or the claim
detector, whose gold has a single class predicts that class with the add-one (Laplace)
probability `(n + 1) / (n + K)` over the K labels and `1 / (n + K)` for each other label,
never 1.0. A label a target's classifier never saw in training gets probability 0.0 (every
scheme label is a key). A target without any usable gold is omitted from `predict`'s result.

`predict_many` / `sentence_scores_many` vectorise a batch at once: the same numbers as one
call per article, about 20x faster (scikit-learn's per-call overhead dominates one article).

Everything is deterministic given `seed` (fold shuffling and the solvers' random state).
`save` writes `stance.joblib` / `claims.joblib` plus `stance.versions.json` /
`claims.versions.json` (the scikit-learn, numpy, scipy and joblib versions). `load` refuses a
file written by another scikit-learn major.minor with a UsageError: a pickled estimator is only
guaranteed to load in the version that wrote it. Loading unpickles: load only models you
trained (build/models).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus_tools import store
from corpus_tools.errors import DataError, UsageError
from corpus_tools.model import Article, Sentence
from corpus_tools.models.data import GoldArticle, Range

STANCE_FILE = "stance.joblib"
CLAIMS_FILE = "claims.joblib"
FORMAT = 1  # bump when the saved state's shape changes
CALIBRATION_FOLDS = 3
CLAIM_SHARE = 0.5  # share of a claim's characters inside a sentence that makes it positive
THRESHOLD_BETA = 1.5  # the claim threshold maximises F-beta (recall weighs beta² x precision)
DEFAULT_THRESHOLD = 0.5  # a constant detector's cut (and a model saved before thresholds)
GATE_MARGIN = 0.0  # informative: held-out-cut F-beta > every-sentence F-beta + this margin
GATE_CLOSED = (
    "claim detector not better than every-sentence on out-of-fold gold: no claim suggestions "
    "from the model"
)
MAX_FEATURES = 50_000  # per TF-IDF vocabulary (bounds memory at 10k+ articles)
_QUOTES = frozenset('"“”„«»')
REPORTING_VERBS = (
    "according",
    "added",
    "alleged",
    "announced",
    "claimed",
    "claims",
    "confirmed",
    "denied",
    "estimated",
    "insisted",
    "reported",
    "said",
    "say",
    "says",
    "stated",
    "told",
    "warned",
)
_REPORTING = re.compile(r"\b(?:" + "|".join(REPORTING_VERBS) + r")\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PredictedClaim:
    """A predicted claim: a trimmed sentence span (`text == article.text[start:end]`), its
    P(claim), and check-worthiness label -> probability ({} when that layer is untrained)."""

    start: int
    end: int
    text: str
    score: float
    checkworthy: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# shared helpers


def article_sentences(article: Article) -> tuple[Sentence, ...]:
    """The article's ingested sentences; an article without them (a task built elsewhere) is
    segmented with ingest's own segmenter, so the spans are the ones ingest would give."""
    if article.sentences:
        return article.sentences
    from corpus_tools.ingest.clean import sentences

    return sentences(article.text, article.language or "en")


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """`(start, end)` without the whitespace (`str.isspace`) at either end; may be empty."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _overlap(a: Range, b: Range) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def _solid(text: str, start: int, end: int) -> int:
    """Non-whitespace characters in text[start:end]."""
    return sum(1 for ch in text[start:end] if not ch.isspace()) if end > start else 0


def _claim_shares(item: GoldArticle) -> list[tuple[Sentence, list[float]]]:
    """Each sentence with the share of each gold claim's non-whitespace characters in it."""
    text = item.article.text
    claims = [(c.start, c.end, _solid(text, c.start, c.end)) for c in item.claims]
    return [
        (
            s,
            [_solid(text, max(s.start, a), min(s.end, b)) / n if n else 0.0 for a, b, n in claims],
        )
        for s in article_sentences(item.article)
    ]


def claim_sentence_labels(item: GoldArticle) -> list[tuple[Sentence, int | None]]:
    """Each sentence of the article with its training label: 1 when at least `CLAIM_SHARE` of
    some gold claim's non-whitespace characters lie inside it, 0 when none does, None when it
    overlaps a `missing_claims` range (an open dispute: left out of training, never a
    negative)."""
    out: list[tuple[Sentence, int | None]] = []
    for s, shares in _claim_shares(item):
        if any(_overlap((s.start, s.end), m) > 0 for m in item.missing_claims):
            out.append((s, None))
            continue
        out.append((s, int(any(share >= CLAIM_SHARE for share in shares))))
    return out


def smoothed(counts: Mapping[str, int], labels: Sequence[str]) -> dict[str, float]:
    """Add-one (Laplace) probabilities over `labels` from `counts`: (n_c + 1) / (n + K)."""
    n = sum(counts.get(label, 0) for label in labels)
    k = len(labels)
    return {label: (counts.get(label, 0) + 1) / (n + k) for label in labels}


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        max_features=MAX_FEATURES,
        lowercase=True,
        dtype=_float32(),
    )


def _float32() -> Any:
    import numpy as np

    return np.float32


@functools.cache
def _threads() -> Any:
    """One controller of the BLAS/OpenMP thread pools that scikit-learn and scipy load."""
    import scipy.optimize  # noqa: F401  (loads the BLAS the controller must see)
    import sklearn.linear_model  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def _fast() -> Iterator[None]:
    """One BLAS thread and no repeated input validation while fitting or predicting.

    These problems are small per call: with several BLAS threads on a busy machine the
    threads spin against each other (measured here: 13x the CPU time for the same fit).
    Our features are finite by construction, so scikit-learn's finiteness and parameter
    checks (most of the time of a one-article predict) are skipped.
    """
    import sklearn

    with (
        _threads().limit(limits=1),
        sklearn.config_context(assume_finite=True, skip_parameter_validation=True),
    ):
        yield


def _calibration_splits(
    y: Sequence[str], groups: Sequence[str], *, seed: int
) -> tuple[list[Any], str]:
    """CALIBRATION_FOLDS (train, held-out) index splits and what kind they are.

    Story-grouped (StratifiedGroupKFold) when there are at least as many stories as folds and
    every grouped fold's training part holds every class; else stratified by class only
    (which guarantees it, given at least CALIBRATION_FOLDS examples of every class).
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    labels, classes = list(y), set(y)

    def every_class_trains(splits: list[Any]) -> bool:
        return all({labels[i] for i in train} == classes for train, _ in splits)

    splits: list[Any] = []
    folds = ""
    if len(set(groups)) >= CALIBRATION_FOLDS:
        grouped = StratifiedGroupKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=seed)
        splits = list(grouped.split(labels, labels, list(groups)))
        folds = "story-grouped"
    if not splits or not every_class_trains(splits):
        # a class held by few stories can be missing from a grouped fold's training part
        plain = StratifiedKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=seed)
        splits = list(plain.split(labels, labels))
        folds = (
            "stratified (a story-grouped fold lacked a class)"
            if folds
            else "stratified (fewer stories than folds)"
        )
    return splits, folds


def _fit_probabilistic(
    x: Any, y: Sequence[str], groups: Sequence[str], *, seed: int
) -> tuple[Any, dict[str, Any]]:
    """A logistic regression with calibrated probabilities when the classes allow it.

    Sigmoid calibration over CALIBRATION_FOLDS folds needs every class in every fold's
    held-out and training parts: it is used when each class has at least that many examples.
    The folds are story-grouped (StratifiedGroupKFold) when there are at least as many stories
    as folds and every grouped fold's training part holds every class; else stratified by
    class only (which guarantees it). Otherwise the regression's own probabilities are used.
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    counts = Counter(y)
    base = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    rarest, fewest = min(counts.items(), key=lambda kv: (kv[1], kv[0]))
    if fewest < CALIBRATION_FOLDS:
        base.fit(x, list(y))
        return base, {
            "calibration": "none",
            "reason": (
                f"class {rarest!r} has {fewest} example(s), fewer than the "
                f"{CALIBRATION_FOLDS} calibration folds need: the logistic regression's own "
                "probabilities"
            ),
        }
    splits, folds = _calibration_splits(y, groups, seed=seed)
    # ensemble=False: the sigmoids are fitted on out-of-fold decision values, then one
    # regression is fitted on every example (one model to run at prediction, not one per fold)
    model = CalibratedClassifierCV(base, method="sigmoid", cv=splits, ensemble=False)
    model.fit(x, list(y))
    # the splits were only needed to fit; keep the pickle small and free of index arrays
    model.set_params(cv=CALIBRATION_FOLDS)
    return model, {
        "calibration": "sigmoid",
        "folds": CALIBRATION_FOLDS,
        "fold_kind": folds,
        "reason": f"every class has at least {CALIBRATION_FOLDS} examples",
    }


def f_beta(tp: int, fp: int, fn: int, beta: float) -> float:
    """F-beta from counts (0.0 when there is nothing to score, as scikit-learn's
    `fbeta_score(zero_division=0)`)."""
    b2 = beta * beta
    denominator = (1 + b2) * tp + b2 * fn + fp
    return (1 + b2) * tp / denominator if denominator else 0.0


def best_threshold(
    y: Sequence[int], scores: Sequence[float], *, beta: float = THRESHOLD_BETA
) -> tuple[float, float]:
    """The cut `t` whose decisions `score >= t` maximise F-beta on (y, scores), and that F-beta.

    Every distinct score is a candidate cut (the decisions only change there); among equal
    F-beta the higher cut wins (fewer suggestions for the same value). The cut returned lies
    halfway between the lowest score it flags and the highest score it does not (the flagged
    score itself when nothing is below): the same decisions on `scores`, and a margin on both
    sides for new sentences. A ValueError when `y` has no positive.
    """
    positives = sum(1 for v in y if v)
    if not positives:
        raise ValueError("best_threshold needs at least one positive example")
    ranked = sorted(zip(scores, y, strict=True), key=lambda r: -r[0])
    n = len(ranked)
    best_f, best_i = -1.0, 0
    tp = fp = i = 0
    while i < n:
        s = ranked[i][0]
        while i < n and ranked[i][0] == s:  # every sentence with this score flips together
            tp += 1 if ranked[i][1] else 0
            fp += 0 if ranked[i][1] else 1
            i += 1
        f = f_beta(tp, fp, positives - tp, beta)
        if f > best_f:
            best_f, best_i = f, i
    lowest_in = float(ranked[best_i - 1][0])
    if best_i == n:
        return lowest_in, best_f
    cut = (lowest_in + float(ranked[best_i][0])) / 2
    return (cut if cut > ranked[best_i][0] else lowest_in), best_f


def _claim_out_of_fold(
    texts: Sequence[str],
    positions: Sequence[float],
    y: Sequence[str],
    groups: Sequence[str],
    *,
    seed: int,
) -> tuple[list[float], list[Any], str] | None:
    """P(claim) for every training sentence from a detector that did not see it: over the
    calibration's folds (`_calibration_splits`: story-grouped where possible), each fold's
    detector is built as the final one is (its own TF-IDF vocabulary and cues, fitted and
    calibrated by `_fit_probabilistic`) on the fold's training part. With story-grouped folds
    that is exactly `ClaimModel.fit` on the training stories' articles. Returns the
    probabilities, the (train, held-out) splits and their kind; None when a class has fewer
    than CALIBRATION_FOLDS examples (no such folds)."""
    counts = Counter(y)
    if len(counts) < 2 or min(counts.values()) < CALIBRATION_FOLDS:
        return None
    splits, kind = _calibration_splits(y, groups, seed=seed)
    oof = [0.0] * len(y)
    for train, held in splits:
        vec = _vectorizer()
        train_texts = [texts[i] for i in train]
        x = _with_cues(vec.fit_transform(train_texts), train_texts, [positions[i] for i in train])
        clf, _how = _fit_probabilistic(
            x, [y[i] for i in train], [groups[i] for i in train], seed=seed
        )
        held_texts = [texts[i] for i in held]
        x_held = _with_cues(vec.transform(held_texts), held_texts, [positions[i] for i in held])
        for i, probs in zip(held, _probabilities(clf, x_held, ["0", "1"]), strict=True):
            oof[i] = probs["1"]
    return oof, splits, kind


def claim_gate(
    labels: Sequence[int],
    probs: Sequence[float],
    splits: Sequence[tuple[Sequence[int], Sequence[int]]],
    *,
    beta: float = THRESHOLD_BETA,
    margin: float = GATE_MARGIN,
) -> dict[str, Any]:
    """The gate (see the module docstring): each split's held-out sentences cut at the
    `best_threshold` of the out-of-fold `probs` of its training part, F-beta pooled over the
    splits, against flagging every held-out sentence. Every training part needs a positive
    (the calibration splits guarantee it)."""
    tp = fp = fn = 0
    cuts: list[float] = []
    for train, held in splits:
        cut, _ = best_threshold([labels[i] for i in train], [probs[i] for i in train], beta=beta)
        cuts.append(cut)
        for i in held:
            flagged = probs[i] >= cut
            tp += int(flagged and labels[i] == 1)
            fp += int(flagged and labels[i] == 0)
            fn += int(not flagged and labels[i] == 1)
    held_out = [i for _, held in splits for i in held]
    positives = sum(labels[i] for i in held_out)
    model = f_beta(tp, fp, fn, beta)
    every = f_beta(positives, len(held_out) - positives, 0, beta)
    informative = model > every + margin
    return {
        "informative": informative,
        "rule": f"out-of-fold F{beta:g}, each fold's sentences cut at the threshold learned "
        f"from the other folds, > every-sentence F{beta:g} on the same sentences + {margin:g}",
        "margin": margin,
        "f_beta": model,
        "every_sentence_f_beta": every,
        "sentences": len(held_out),
        "positive": positives,
        "flagged": tp + fp,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "cuts": cuts,
        "reason": (
            f"F{beta:g} {model:.3f} at held-out cuts vs {every:.3f} for every sentence"
            + ("" if informative else f": {GATE_CLOSED}")
        ),
    }


def _closed_gate(reason: str) -> dict[str, Any]:
    """The gate of a detector whose cut cannot be measured against the trivial rule."""
    return {
        "informative": False,
        "rule": "not measured",
        "margin": GATE_MARGIN,
        "f_beta": None,
        "every_sentence_f_beta": None,
        "reason": f"{reason}: {GATE_CLOSED}",
    }


def _learn_threshold(
    texts: Sequence[str],
    positions: Sequence[float],
    y: Sequence[str],
    groups: Sequence[str],
    *,
    seed: int,
    beta: float,
) -> tuple[float, dict[str, Any]]:
    """The claim detector's decision threshold, learned from its training gold (y: "0"/"1"),
    with what `info` records about it (see the module docstring)."""
    labels = [int(v) for v in y]
    positives = sum(labels)
    rate = positives / len(labels)
    oof = _claim_out_of_fold(texts, positions, y, groups, seed=seed)
    if oof is None:
        rarest, fewest = min(Counter(y).items(), key=lambda kv: (kv[1], kv[0]))
        return rate, {
            "value": rate,
            "rule": "base rate",
            "reason": f"class {rarest!r} has {fewest} example(s), fewer than the "
            f"{CALIBRATION_FOLDS} folds of out-of-fold probabilities need: the share of claim "
            "sentences in training (a sentence more probable than the average one is flagged)",
            "gate": _closed_gate(
                f"too few examples to measure the cut ({rarest!r}: {fewest}, fewer than "
                f"{CALIBRATION_FOLDS})"
            ),
        }
    probs, splits, kind = oof
    cut, best = best_threshold(labels, probs, beta=beta)
    gate = claim_gate(labels, probs, splits, beta=beta)
    gate["f_beta_at_learned_cut"] = best

    def counts(t: float) -> tuple[int, int, int]:
        tp = sum(1 for v, p in zip(labels, probs, strict=True) if v and p >= t)
        fp = sum(1 for v, p in zip(labels, probs, strict=True) if not v and p >= t)
        return tp, fp, positives - tp

    tp, fp, fn = counts(cut)
    at_half = counts(DEFAULT_THRESHOLD)
    return cut, {
        "value": cut,
        "rule": f"max F{beta:g} of out-of-fold calibrated P(claim)",
        "beta": beta,
        "folds": CALIBRATION_FOLDS,
        "fold_kind": kind,
        "out_of_fold": {
            "sentences": len(labels),
            "positive": positives,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "f_beta": best,
            "f1": f_beta(tp, fp, fn, 1.0),
            "f1_at_0.5": f_beta(*at_half, 1.0),
            "every_sentence_f_beta": f_beta(positives, len(labels) - positives, 0, beta),
        },
        "gate": gate,
    }


def _probabilities(model: Any, x: Any, labels: Sequence[str]) -> list[dict[str, float]]:
    """Rows of label -> probability over `labels` (a label the model never saw gets 0.0)."""
    proba = model.predict_proba(x)
    classes = [str(c) for c in model.classes_]
    out = []
    for row in proba:
        probs = dict.fromkeys(labels, 0.0)
        for cls, p in zip(classes, row, strict=True):
            probs[cls] = float(p)
        out.append(probs)
    return out


def _versions() -> dict[str, str]:
    import joblib
    import numpy
    import scipy
    import sklearn

    return {
        "format": str(FORMAT),
        "joblib": joblib.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
    }


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".joblib") + ".versions.json")


def _save(folder: Path, filename: str, state: dict[str, Any]) -> None:
    """Write `state` to folder/filename (joblib, compressed) and the versions beside it."""
    import joblib

    folder = Path(folder)
    path = folder / filename
    _scrub(state)
    with store.atomic_path(path) as tmp, tmp.open("wb") as fh:
        joblib.dump(state, fh, compress=3)
    store.atomic_write_bytes(
        _sidecar(path), store.dump_json({**_versions(), "kind": state["kind"]})
    )


def _scrub(obj: Any) -> None:
    """Drop what would make the pickle differ between runs: TfidfVectorizer caches the memory
    address of its stop-word list (`_stop_words_id`, only to skip a repeated check)."""
    if isinstance(obj, dict):
        for value in obj.values():
            _scrub(value)
    elif hasattr(obj, "_stop_words_id"):
        del obj._stop_words_id


def _load(folder: Path, filename: str, kind: str) -> dict[str, Any]:
    """The state saved by `_save`, after checking the recorded scikit-learn version."""
    import joblib
    import sklearn

    path = Path(folder) / filename
    side = _sidecar(path)
    where = store.display_path(path)
    retrain = "Retrain it with `corpus model train`."
    if not path.is_file():
        raise UsageError(f"{where}: no {kind} model here", hint=retrain, path=str(path))
    try:
        recorded = json.loads(side.read_text(encoding="utf-8"))
        saved = str(recorded["sklearn"])
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(
            f"{where}: the versions it was written with are not recorded "
            f"({store.display_path(side)} is missing or unreadable)",
            hint=retrain,
            path=str(path),
        ) from None
    installed = sklearn.__version__
    if _major_minor(saved) != _major_minor(installed):
        raise UsageError(
            f"{where}: written by scikit-learn {saved}, this is scikit-learn {installed}; a "
            "pickled model only loads reliably in the version that wrote it",
            hint=f"{retrain} Or install scikit-learn=={saved}.",
            path=str(path),
        )
    if str(recorded.get("format")) != str(FORMAT):
        raise UsageError(
            f"{where}: model format {recorded.get('format')}, this version reads {FORMAT}",
            hint=retrain,
            path=str(path),
        )
    try:
        with path.open("rb") as fh:
            state = joblib.load(fh)
    except Exception as exc:  # unpickling raises many types for a damaged file
        raise DataError(
            f"{where}: not a readable {kind} model ({type(exc).__name__})",
            hint=retrain,
            path=str(path),
        ) from None
    if not isinstance(state, dict) or state.get("kind") != kind:
        raise DataError(f"{where}: not a {kind} model", hint=retrain, path=str(path))
    return state


# ---------------------------------------------------------------------------------------------
# stance


def _name_pattern(name: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in name.split()] or [re.escape(name)]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"\w*", re.IGNORECASE)


def _focus(article: Article, pattern: re.Pattern[str]) -> tuple[str, int, float]:
    """The sentences that mention the target (joined), the mention count, the sentence share."""
    text = article.text
    sents = article_sentences(article)
    hits = [text[s.start : s.end] for s in sents if pattern.search(text, s.start, s.end)]
    mentions = sum(1 for _ in pattern.finditer(text))
    share = len(hits) / len(sents) if sents else 0.0
    return " ".join(hits), mentions, share


class StanceModel:
    """One calibrated classifier per stance target (see the module docstring)."""

    model_version: str = "stance"

    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state
        self.info: dict[str, Any] = state["info"]
        self.labels: tuple[str, ...] = tuple(state["labels"])
        self._patterns = {t: _name_pattern(n) for t, n in state["names"].items()}

    @classmethod
    def fit(
        cls,
        items: Sequence[GoldArticle],
        targets: Sequence[str],
        labels: Sequence[str],
        *,
        seed: int = 0,
        target_names: Mapping[str, str] | None = None,
    ) -> StanceModel:
        """Train on `items`. `target_names` maps a target id to the name looked for in the
        text (config.scheme.stance_targets' .name); default: the id with "_" as spaces.

        A UsageError when no target has a single usable judgement."""
        labels = list(labels)
        names = {t: (target_names or {}).get(t) or t.replace("_", " ") for t in targets}
        patterns = {t: _name_pattern(n) for t, n in names.items()}
        per_target: dict[str, list[tuple[int, str]]] = {}
        tinfo: dict[str, dict[str, Any]] = {}
        for t in targets:
            rows: list[tuple[int, str]] = []
            missing = unlabelled = unknown = 0
            for i, g in enumerate(items):
                if t in g.missing_stances:
                    missing += 1
                    continue
                given = [s.label for s in g.stances if s.target == t]
                if not given:
                    unlabelled += 1
                    continue
                if given[0] not in labels:
                    unknown += 1
                    continue
                rows.append((i, given[0]))
            per_target[t] = rows
            tinfo[t] = {
                "name": names[t],
                "examples": len(rows),
                "left_out_missing": missing,
                "left_out_unlabelled": unlabelled,
                "left_out_unknown_label": unknown,
                "classes": dict(sorted(Counter(lab for _, lab in rows).items())),
            }
        if not any(per_target.values()):
            raise UsageError(
                "no stance judgement to train on (every target is unlabelled or disputed)",
                hint="Adjudicate some stance annotations first (`corpus adjudicate`).",
            )
        with _fast():
            # the articles some target learns from (a classifier, not a constant)
            learned = {
                t: rows for t, rows in per_target.items() if len({lab for _, lab in rows}) > 1
            }
            used = sorted({i for rows in learned.values() for i, _ in rows})
            row_of = {i: k for k, i in enumerate(used)}
            vec: Any = None
            full: Any = None
            if used:
                vec = _vectorizer()
                full = vec.fit_transform([items[i].article.text for i in used])
            focus = {
                (t, i): _focus(items[i].article, patterns[t])
                for t, rows in learned.items()
                for i, _ in rows
            }
            focus_texts = [f[0] for f in focus.values() if f[0]]
            fvec = _vectorizer().fit(focus_texts) if focus_texts else None
            models: dict[str, Any] = {}
            for t, rows in per_target.items():
                info = tinfo[t]
                counts = Counter(lab for _, lab in rows)
                if not rows:
                    info.update(model=None, reason="no usable judgement: omitted from predictions")
                    continue
                if len(counts) == 1:
                    models[t] = {"constant": smoothed(counts, labels)}
                    info.update(
                        model="constant",
                        calibration="none",
                        reason=(
                            f"a single class ({next(iter(counts))!r}) in gold: add-one smoothed "
                            "probabilities (n_c + 1) / (n + K) over the scheme's labels"
                        ),
                    )
                    continue
                x = _stance_matrix(
                    full[[row_of[i] for i, _ in rows]], fvec, [focus[(t, i)] for i, _ in rows]
                )
                groups = [items[i].story for i, _ in rows]
                clf, how = _fit_probabilistic(x, [lab for _, lab in rows], groups, seed=seed)
                models[t] = {"classifier": clf}
                info.update(model="logistic", **how)
        state = {
            "kind": "stance",
            "format": FORMAT,
            "labels": labels,
            "targets": list(targets),
            "names": names,
            "vectorizer": vec,
            "focus_vectorizer": fvec,
            "models": models,
            "info": {"seed": seed, "articles": len(items), "targets": tinfo},
        }
        return cls(state)

    @property
    def targets(self) -> tuple[str, ...]:
        """The targets `predict` answers for (those with usable gold)."""
        return tuple(t for t in self._state["targets"] if t in self._state["models"])

    def predict(self, article: Article) -> dict[str, dict[str, float]]:
        """target -> label -> probability (each target's probabilities sum to 1)."""
        return self.predict_many([article])[0]

    def predict_many(self, articles: Iterable[Article]) -> list[dict[str, dict[str, float]]]:
        """`predict` for many articles at once (vectorised together: the same numbers,
        several times faster than one call per article)."""
        arts = list(articles)
        out: list[dict[str, dict[str, float]]] = [{} for _ in arts]
        if not arts:
            return out
        models = self._state["models"]
        full = None
        with _fast():
            for t in self.targets:
                m = models[t]
                if "constant" in m:
                    for o in out:
                        o[t] = dict(m["constant"])
                    continue
                if full is None:
                    full = self._state["vectorizer"].transform([a.text for a in arts])
                x = _stance_matrix(
                    full,
                    self._state["focus_vectorizer"],
                    [_focus(a, self._patterns[t]) for a in arts],
                )
                for o, probs in zip(
                    out, _probabilities(m["classifier"], x, self.labels), strict=True
                ):
                    o[t] = probs
        return out

    def save(self, folder: Path) -> None:
        """Write folder/stance.joblib and folder/stance.versions.json."""
        _save(folder, STANCE_FILE, self._state)

    @classmethod
    def load(cls, folder: Path) -> StanceModel:
        """Read what `save` wrote (a UsageError for another scikit-learn major.minor)."""
        return cls(_load(folder, STANCE_FILE, "stance"))


def _stance_matrix(full: Any, fvec: Any, focus: Sequence[tuple[str, int, float]]) -> Any:
    """Whole-text TF-IDF rows, focus-text TF-IDF and the two mention cues, side by side."""
    import scipy.sparse as sp

    parts = [full]
    if fvec is not None:
        parts.append(fvec.transform([f[0] for f in focus]))
    cues = [[math.log1p(f[1]), f[2]] for f in focus]
    parts.append(sp.csr_matrix(cues, dtype=_float32()))
    return sp.hstack(parts, format="csr")


# ---------------------------------------------------------------------------------------------
# claims


def _text_cues(text: str) -> list[float]:
    """Digit, double quote, reporting verb (0/1) and log length in words (scaled)."""
    return [
        float(any(ch.isdigit() for ch in text)),
        float(any(ch in _QUOTES for ch in text)),
        float(_REPORTING.search(text) is not None),
        math.log1p(len(text.split())) / 4.0,
    ]


def _with_cues(x: Any, texts: Sequence[str], positions: Sequence[float] | None = None) -> Any:
    """TF-IDF rows `x` with the cheap cues of each text (and its position) appended."""
    import scipy.sparse as sp

    cues = [_text_cues(t) for t in texts]
    if positions is not None:
        cues = [[*c, p] for c, p in zip(cues, positions, strict=True)]
    return sp.hstack([x, sp.csr_matrix(cues, dtype=_float32())], format="csr")


class ClaimModel:
    """A sentence-level claim detector plus check-worthiness (see the module docstring)."""

    model_version: str = "claims"

    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state
        self.info: dict[str, Any] = state["info"]
        self.checkworthy_labels: tuple[str, ...] = tuple(state["checkworthy"])
        # a model saved before thresholds were learned keeps the fixed cut it was used with
        self.threshold: float = float(state.get("threshold", DEFAULT_THRESHOLD))
        gate = self.info.get("detector", {}).get("gate")
        if not isinstance(gate, dict):  # saved before the gate (see the module docstring)
            old = self.threshold == DEFAULT_THRESHOLD
            gate = {
                "informative": old,
                "rule": "saved before the gate",
                "reason": "saved before thresholds were learned: suggests at 0.5 as before"
                if old
                else f"saved with a learned threshold but before the gate: {GATE_CLOSED}",
            }
        self.gate: dict[str, Any] = gate

    @property
    def informative(self) -> bool:
        """Whether the detector beats "every sentence is a claim" on out-of-fold gold (the
        gate: when False, suggesters suggest no claims from it)."""
        return bool(self.gate.get("informative"))

    @classmethod
    def fit(
        cls,
        items: Sequence[GoldArticle],
        checkworthy: Sequence[str],
        *,
        seed: int = 0,
        beta: float = THRESHOLD_BETA,
    ) -> ClaimModel:
        """Train on `items` (a UsageError when no sentence can be labelled). The decision
        threshold is learned from the same gold (F-`beta`, see the module docstring)."""
        texts: list[str] = []
        positions: list[float] = []
        y: list[str] = []
        groups: list[str] = []
        left_out = unplaced = 0
        for g in items:
            shares = _claim_shares(g)
            unplaced += sum(
                1
                for k in range(len(g.claims))
                if not any(row[k] >= CLAIM_SHARE for _, row in shares)
            )
            labelled = claim_sentence_labels(g)
            n = len(labelled)
            for k, (s, label) in enumerate(labelled):
                if label is None:
                    left_out += 1
                    continue
                texts.append(g.article.text[s.start : s.end])
                positions.append(k / n)
                y.append(str(label))
                groups.append(g.story)
        if not texts:
            raise UsageError(
                "no sentence to train the claim detector on (no gold articles, or every "
                "sentence overlaps an open claim dispute)",
                hint="Adjudicate some claim annotations first (`corpus adjudicate`).",
            )
        counts = Counter(y)
        detector: dict[str, Any]
        dinfo: dict[str, Any] = {
            "sentences": len(texts),
            "positive": counts.get("1", 0),
            "negative": counts.get("0", 0),
            "left_out_missing": left_out,
            "claims_unplaced": unplaced,
            "rule": f"positive when at least {CLAIM_SHARE:.0%} of a gold claim's "
            "non-whitespace characters lie inside the sentence; a sentence overlapping an "
            "open claim dispute is left out",
        }
        cw_labels = list(checkworthy)
        cw_texts: list[str] = []
        cw_y: list[str] = []
        cw_groups: list[str] = []
        unlabelled = 0
        for g in items:
            for c in g.claims:
                text = g.article.text[c.start : c.end]
                if c.checkworthy in cw_labels and text.strip():
                    cw_texts.append(text)
                    cw_y.append(str(c.checkworthy))
                    cw_groups.append(g.story)
                else:
                    unlabelled += 1
        cw_counts = Counter(cw_y)
        cinfo: dict[str, Any] = {
            "claims": len(cw_texts),
            "classes": dict(sorted(cw_counts.items())),
            "left_out_unlabelled": unlabelled,
        }
        cw: dict[str, Any] | None = None
        with _fast():
            vec = None
            if len(counts) == 1:
                detector = {"constant": smoothed(counts, ["0", "1"])["1"]}
                dinfo.update(
                    model="constant",
                    calibration="none",
                    reason="a single class in gold: add-one smoothed P(claim) = "
                    "(positives + 1) / (sentences + 2)",
                )
                threshold = DEFAULT_THRESHOLD
                dinfo["threshold"] = {
                    "value": threshold,
                    "rule": "constant detector",
                    "reason": "a single class in gold: 0.5, which the smoothed constant is "
                    "above when every sentence is a claim and below when none is",
                    "gate": _closed_gate("a constant detector (one class in gold)"),
                }
            else:
                vec = _vectorizer()
                x = _with_cues(vec.fit_transform(texts), texts, positions)
                clf, how = _fit_probabilistic(x, y, groups, seed=seed)
                detector = {"classifier": clf}
                dinfo.update(model="logistic", **how)
                threshold, dinfo["threshold"] = _learn_threshold(
                    texts, positions, y, groups, seed=seed, beta=beta
                )
            dinfo["gate"] = dinfo["threshold"].pop("gate")
            if len(cw_counts) < 2:
                cinfo.update(
                    model=None,
                    reason=f"{len(cw_counts)} check-worthiness class(es) in gold: no "
                    "classifier, predicted claims carry an empty checkworthy dict",
                )
            else:
                cw_vec = _vectorizer()
                cw_x = _with_cues(cw_vec.fit_transform(cw_texts), cw_texts)
                cw_clf, how = _fit_probabilistic(cw_x, cw_y, cw_groups, seed=seed)
                cw = {"vectorizer": cw_vec, "classifier": cw_clf}
                cinfo.update(model="logistic", **how)
        state = {
            "kind": "claims",
            "format": FORMAT,
            "checkworthy": cw_labels,
            "vectorizer": vec,
            "detector": detector,
            "threshold": threshold,
            "checkworthiness": cw,
            "info": {
                "seed": seed,
                "articles": len(items),
                "detector": dinfo,
                "checkworthiness": cinfo,
            },
        }
        return cls(state)

    def sentence_scores(self, article: Article) -> list[tuple[int, int, float]]:
        """(start, end, P(claim)) per sentence, the span trimmed of surrounding whitespace;
        whitespace-only sentences are skipped."""
        return self.sentence_scores_many([article])[0]

    def sentence_scores_many(
        self, articles: Iterable[Article]
    ) -> list[list[tuple[int, int, float]]]:
        """`sentence_scores` for many articles at once (the same numbers, faster)."""
        arts = list(articles)
        spans: list[tuple[int, int, int]] = []  # (article index, start, end)
        positions: list[float] = []
        for k, article in enumerate(arts):
            text = article.text
            sents = article_sentences(article)
            for j, s in enumerate(sents):
                start, end = trim(text, s.start, s.end)
                if start < end:
                    spans.append((k, start, end))
                    positions.append(j / len(sents))
        out: list[list[tuple[int, int, float]]] = [[] for _ in arts]
        if not spans:
            return out
        det = self._state["detector"]
        if "constant" in det:
            probs = [float(det["constant"])] * len(spans)
        else:
            texts = [arts[k].text[a:b] for k, a, b in spans]
            with _fast():
                x = _with_cues(self._state["vectorizer"].transform(texts), texts, positions)
                probs = [p["1"] for p in _probabilities(det["classifier"], x, ["0", "1"])]
        for (k, a, b), p in zip(spans, probs, strict=True):
            out[k].append((a, b, p))
        return out

    def predict(self, article: Article, *, threshold: float | None = None) -> list[PredictedClaim]:
        """Sentences with P(claim) >= `threshold` (None: the learned `self.threshold`), with
        check-worthiness probabilities."""
        return self.predict_many([article], threshold=threshold)[0]

    def predict_many(
        self, articles: Iterable[Article], *, threshold: float | None = None
    ) -> list[list[PredictedClaim]]:
        """`predict` for many articles at once (the same claims, faster)."""
        if threshold is None:
            threshold = self.threshold
        arts = list(articles)
        kept = [
            [(a, b, p) for a, b, p in scores if p >= threshold]
            for scores in self.sentence_scores_many(arts)
        ]
        flat = [(k, a, b) for k, row in enumerate(kept) for a, b, _ in row]
        cw = self._state["checkworthiness"]
        worth: list[dict[str, float]] = [{} for _ in flat]
        if cw is not None and flat:
            texts = [arts[k].text[a:b] for k, a, b in flat]
            with _fast():
                x = _with_cues(cw["vectorizer"].transform(texts), texts)
                worth = _probabilities(cw["classifier"], x, self.checkworthy_labels)
        it = iter(worth)
        return [
            [PredictedClaim(a, b, article.text[a:b], p, next(it)) for a, b, p in row]
            for article, row in zip(arts, kept, strict=True)
        ]

    def save(self, folder: Path) -> None:
        """Write folder/claims.joblib and folder/claims.versions.json."""
        _save(folder, CLAIMS_FILE, self._state)

    @classmethod
    def load(cls, folder: Path) -> ClaimModel:
        """Read what `save` wrote (a UsageError for another scikit-learn major.minor)."""
        return cls(_load(folder, CLAIMS_FILE, "claims"))
