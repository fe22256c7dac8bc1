"""`corpus model evaluate`: story-grouped cross-validation, its figures checked against
scikit-learn and an independent count, the learning curve, the card update, `--json`."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import copy_gold, run_cli
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    fbeta_score,
    precision_recall_fscore_support,
)

from corpus_tools.config import load_config
from corpus_tools.model import PredictedSpan
from corpus_tools.models.bundle import CARD, EVALUATION, _cv_summary, train
from corpus_tools.models.classify import ClaimModel
from corpus_tools.models.data import load_training_set
from corpus_tools.models.evaluate import (
    entity_keys,
    evaluate,
    majority,
    merge_spans,
    score_labels,
    score_spans,
    story_folds,
)
from corpus_tools.preannotate import rule_preannotator

REPO = Path(__file__).resolve().parent.parent
SETTINGS: dict[str, Any] = {"folds": 2, "curve": (0.5, 1.0), "epochs": 1, "seed": 0}


@pytest.fixture(scope="module")
def evaluated(
    sample_gold: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """The sample after ingest, adjudicate and one trained model, then evaluated."""
    root = copy_gold(sample_gold, tmp_path_factory.mktemp("evaluate") / "corpus")
    config = load_config(root / "corpus.toml")
    train(config, epochs=1)
    old = Path.cwd()
    os.chdir(root)  # paths in the result are shown relative to the working folder
    try:
        result = evaluate(config, plot=Path("curve.png"), details=True, **SETTINGS)
    finally:
        os.chdir(old)
    return root, result


# --- the folds ---------------------------------------------------------------------------


def test_no_story_is_in_both_training_and_test(evaluated: tuple[Path, dict[str, Any]]) -> None:
    root, r = evaluated
    training = load_training_set(load_config(root / "corpus.toml"))
    stories = set(training.stories)
    assert len(stories) >= 2 and r["folds"] == 2 == len(r["splits"])
    tested: list[str] = []
    for split in r["splits"]:
        train_s, test_s = set(split["train_stories"]), set(split["test_stories"])
        assert not train_s & test_s
        assert train_s | test_s == stories
        # by article too: no article of a test story was trained on
        train_ids = {g.article_id for g in training.subset(train_s)}
        test_ids = {g.article_id for g in training.subset(test_s)}
        assert not train_ids & test_ids
        assert split["test_articles"] == len(test_ids)
        tested += split["test_stories"]
    assert sorted(tested) == sorted(stories)  # every story tested exactly once
    # folds are capped at the number of stories
    assert len(story_folds(training, len(stories))) == len(stories)


def test_claim_thresholds_are_learned_from_the_training_stories_only(
    evaluated: tuple[Path, dict[str, Any]],
) -> None:
    """Each test sentence is cut at the threshold a claim model trained on its fold's
    training stories alone learns (no peeking at the test stories)."""
    root, r = evaluated
    config = load_config(root / "corpus.toml")
    training = load_training_set(config)
    by_article: dict[str, set[float]] = {}
    for c in r["rows"]["claims"]:
        by_article.setdefault(c[0], set()).add(c[5])
    learned = []
    for split in r["splits"]:
        model = ClaimModel.fit(
            training.subset(split["train_stories"]), config.scheme.checkworthy, seed=r["seed"]
        )
        learned.append(model.threshold)
        for g in training.subset(split["test_stories"]):
            if g.article_id in by_article:
                assert by_article[g.article_id] == {model.threshold}, g.article_id
    # one model on all the gold would have learned another cut for at least one fold
    everything = ClaimModel.fit(training.items, config.scheme.checkworthy, seed=r["seed"])
    assert any(t != everything.threshold for t in learned)


def test_entity_rows_are_the_gold_and_predictions_outside_missing_ranges(
    evaluated: tuple[Path, dict[str, Any]],
) -> None:
    """The baseline's pooled rows, recomputed independently from the gold and the rules."""
    root, r = evaluated
    config = load_config(root / "corpus.toml")
    training = load_training_set(config)
    rules = rule_preannotator(config)
    gold: set[tuple[str, int, int, str]] = set()
    pred: set[tuple[str, int, int, str]] = set()
    dropped = 0
    for g in training:
        miss = g.missing_entities

        def outside(a: int, b: int, miss: tuple[tuple[int, int], ...] = miss) -> bool:
            return all(b <= s or e <= a for s, e in miss)

        gold |= {
            (g.article_id, e.start, e.end, e.label) for e in g.entities if outside(e.start, e.end)
        }
        for p in rules.predict(g.article):
            if outside(p.start, p.end):
                pred.add((g.article_id, p.start, p.end, p.label))
            else:
                dropped += 1
    assert dropped > 0  # the sample has predictions inside disputed ranges: they are not scored
    rows = r["rows"]["entities"]["baseline"]
    assert {tuple(k) for k in rows["gold"]} == gold
    assert {tuple(k) for k in rows["pred"]} == pred


def _sk_binary(gold: set[Any], pred: set[Any]) -> tuple[float, float, float]:
    universe = sorted(gold | pred)
    y_true = [k in gold for k in universe]
    y_pred = [k in pred for k in universe]
    p, rc, f, _ = precision_recall_fscore_support(y_true, y_pred, average="binary", zero_division=0)
    return float(p), float(rc), float(f)


def test_entity_scores_equal_sklearn(evaluated: tuple[Path, dict[str, Any]]) -> None:
    _, r = evaluated
    checked = 0
    for system, rows in r["rows"]["entities"].items():
        gold = {tuple(k) for k in rows["gold"]}
        pred = {tuple(k) for k in rows["pred"]}
        figures = r["entities"][system]
        p, rc, f = _sk_binary(gold, pred)
        assert figures["micro"]["precision"] == pytest.approx(p)
        assert figures["micro"]["recall"] == pytest.approx(rc)
        assert figures["micro"]["f1"] == pytest.approx(f)
        labels = sorted({k[3] for k in gold | pred})
        f1s = []
        for label in labels:
            lp, lr, lf = _sk_binary(
                {k for k in gold if k[3] == label}, {k for k in pred if k[3] == label}
            )
            row = figures["labels"][label]
            assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((lp, lr, lf))
            f1s.append(lf)
            checked += 1
        assert figures["macro"]["f1"] == pytest.approx(sum(f1s) / len(f1s))
    assert checked > 10
    assert r["entities"]["baseline"]["micro"]["tp"] > 0  # not a vacuous comparison
    # per fold: the pooled rows of the fold's test articles give the fold's figure
    root = evaluated[0]
    training = load_training_set(load_config(root / "corpus.toml"))
    for layer, system in (("entities", "model"), ("gazetteer", "gazetteer")):
        rows = r["rows"]["entities"][system]
        for split in r["splits"]:
            ids = {g.article_id for g in training.subset(split["test_stories"])}
            gold = {tuple(k) for k in rows["gold"] if k[0] in ids}
            pred = {tuple(k) for k in rows["pred"] if k[0] in ids}
            assert split["f1"][layer] == pytest.approx(_sk_binary(gold, pred)[2])
    assert any(split["f1"]["gazetteer"] > 0 for split in r["splits"])
    assert r["summary"]["entities"]["baseline"] == r["entities"]["baseline"]["micro"]["f1"]


def test_stance_and_claim_scores_equal_sklearn(evaluated: tuple[Path, dict[str, Any]]) -> None:
    _, r = evaluated
    assert r["rows"]["stance"]
    for target, rows in r["rows"]["stance"].items():
        y = [row[0] for row in rows]
        for i, system in ((1, "model"), (2, "majority")):
            yp = [row[i] for row in rows]
            got = r["stance"]["targets"][target][system]
            assert got["items"] == len(y)
            assert got["accuracy"] == pytest.approx(accuracy_score(y, yp))
            assert got["macro_f1"] == pytest.approx(
                f1_score(y, yp, average="macro", zero_division=0)
            )
    claims = r["rows"]["claims"]
    y = [c[2] for c in claims]
    assert 0 < sum(y) < len(y)
    # the model's decision is P(claim) >= its fold's learned threshold; beside it, a fixed 0.5
    assert [c[3] for c in claims] == [int(c[4] >= c[5]) for c in claims]
    assert r["claims"]["thresholds"] == sorted({c[5] for c in claims})
    beta = r["claims"]["beta"]
    for system, yp in (
        ("model", [c[3] for c in claims]),
        ("model_at_0.5", [int(c[4] >= 0.5) for c in claims]),
        ("baseline", [1] * len(claims)),
    ):
        p, rc, f, _ = precision_recall_fscore_support(y, yp, average="binary", zero_division=0)
        got = r["claims"][system]
        assert (got["precision"], got["recall"], got["f1"]) == pytest.approx((p, rc, f))
        assert got["f_beta"] == pytest.approx(fbeta_score(y, yp, beta=beta, zero_division=0))
        assert got["flagged"] == sum(yp)
    assert r["summary"]["claims"]["model"] == r["claims"]["model"]["f1"]
    assert r["summary"]["claims"]["model_at_0.5"] == r["claims"]["model_at_0.5"]["f1"]
    # the every-sentence baseline: recall 1, precision the share of claim sentences, which is
    # also a constant ranking's average precision
    assert r["claims"]["baseline"]["recall"] == 1.0
    assert r["claims"]["baseline"]["precision"] == pytest.approx(sum(y) / len(y))
    ap = r["claims"]["average_precision"]
    assert ap["baseline"] == pytest.approx(average_precision_score(y, [0.5] * len(y)))
    assert ap["model"] == pytest.approx(average_precision_score(y, [c[4] for c in claims]))
    cw = r["rows"]["checkworthy"]
    y = [c[0] for c in cw]
    assert r["checkworthy"]["majority"]["accuracy"] == pytest.approx(
        accuracy_score(y, [c[2] for c in cw])
    )


def test_learning_curve_table_slope_and_png(evaluated: tuple[Path, dict[str, Any]]) -> None:
    root, r = evaluated
    lc = r["learning_curve"]
    assert [p["fraction"] for p in lc["points"]] == [0.5, 1.0]
    sizes = [p["train_articles"] for p in lc["points"]]
    assert sizes[0] < sizes[1]
    # the 1.0 point is the cross-validated figure itself
    assert lc["points"][-1]["f1"]["entities"] == r["entities"]["model"]["micro"]["f1"]
    assert lc["points"][-1]["f1"]["gazetteer"] == r["entities"]["gazetteer"]["micro"]["f1"]
    # claims on the curve are scored at the learned threshold, as the summary is
    assert lc["points"][-1]["f1"]["claims"] == r["claims"]["model"]["f1"]
    for layer, slope in lc["slope_per_doubling"].items():
        ys = [p["f1"][layer] for p in lc["points"]]
        if any(y is None for y in ys):
            assert slope is None
            continue
        expected = np.polyfit(np.log2(sizes), ys, 1)[0]
        assert slope == pytest.approx(expected)
    png = root / "curve.png"
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    assert lc["plot"].endswith("curve.png")


def test_evaluation_is_written_and_shown_on_the_latest_card(
    evaluated: tuple[Path, dict[str, Any]],
) -> None:
    root, r = evaluated
    models = root / "build/models"
    saved = json.loads((models / EVALUATION).read_text(encoding="utf-8"))
    assert saved["summary"] == r["summary"]
    version = (models / "LATEST").read_text(encoding="utf-8").strip()
    assert r["written"]["card"] == version
    card = json.loads((models / version / CARD).read_text(encoding="utf-8"))
    cv = card["metrics"]["cross_validated"]
    assert cv["summary"] == r["summary"] and cv["folds"] == 2
    assert (models / version / EVALUATION).is_file()
    readme = (models / version / "README.md").read_text(encoding="utf-8")
    assert "Cross-validated (2 story-grouped folds" in readme
    # a model trained later on the same gold carries the figures from the start (what its
    # card reads), one trained on other gold does not
    config = load_config(root / "corpus.toml")
    training = load_training_set(config)
    carried = _cv_summary(models / EVALUATION, training)
    assert carried is not None and carried["summary"] == r["summary"]
    other = dataclasses.replace(training, source_sha256="0" * 64)
    assert _cv_summary(models / EVALUATION, other) is None


def test_cli_json_equals_the_library(evaluated: tuple[Path, dict[str, Any]]) -> None:
    """`--json` gives the library's result: the same folds and seed give the same figures
    (the full-training-fold figures do not depend on the curve's other points)."""
    root, r = evaluated
    code, out = run_cli(
        "model", "evaluate", "--folds", "2", "--curve", "1", "--epochs", "1", "--json", cwd=root
    )
    assert code == 0, out
    data = json.loads(out)
    for key in ("gold", "splits", "summary", "entities", "stance", "claims", "checkworthy"):
        assert data[key] == json.loads(json.dumps(r[key])), key
    assert [p["fraction"] for p in data["learning_curve"]["points"]] == [1.0]
    assert data["learning_curve"]["plot"] == "build/models/learning_curve.png"
    assert (root / "build/models/learning_curve.png").is_file()


def test_text_tables_show_every_layer_and_the_curve(
    evaluated: tuple[Path, dict[str, Any]],
) -> None:
    from rich.console import Console

    from corpus_tools.cli.model import _eval_tables

    console = Console(record=True, width=200)
    for table in _eval_tables(evaluated[1]):
        console.print(table)
    text = console.export_text()
    for expected in (
        "Cross-validated F1 per layer",
        "corpus.toml gazetteer + dates",
        "Stance per target",
        "every sentence",
        "Learning curve",
        "F1 per doubling",
        "Per fold",
        "micro",
    ):
        assert expected in text
    for label in evaluated[1]["entities"]["baseline"]["labels"]:
        assert label in text
    # claims: the detector at each fold's learned threshold and at 0.5, every fold's cut
    c = evaluated[1]["claims"]
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if "│" in line}
    for name, x in (
        ("detector at the learned threshold", c["model"]),
        ("detector at 0.5", c["model_at_0.5"]),
        ("every sentence (baseline)", c["baseline"]),
    ):
        cells = [v.strip() for v in rows[name].split("│")[2:-1]]
        assert cells == [
            str(c["sentences"]),
            f"{x['precision']:.2f} / {x['recall']:.2f} / {x['f1']:.2f}",
            f"{x['f_beta']:.3f}",
            str(x["flagged"]),
        ]
    assert c["thresholds"] and all(f"{t:.3f}" in text for t in c["thresholds"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--folds", "1"), "at least 2 folds"),
        (("--curve", "0,1"), "must be in (0, 1]"),
        (("--curve", "half"), "not a comma-separated list"),
        (("--epochs", "0"), "--epochs"),
    ],
)
def test_bad_options_exit_2(sample_corpus: Path, cli, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("model", "evaluate", *args, cwd=sample_corpus)
    assert r.exit_code == 2
    assert message in r.output


def test_no_gold_points_to_adjudicate(sample_corpus: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("model", "evaluate", "--json", cwd=sample_corpus)
    assert r.exit_code == 2
    err = json.loads(r.output)["error"]
    assert "no gold" in err["message"] and "corpus adjudicate" in err["hint"]


# --- the scoring functions on hand-made cases ------------------------------------------


def test_score_spans_exact_match_against_sklearn() -> None:
    gold = {("a", 0, 4, "PER"), ("a", 10, 14, "GPE"), ("b", 3, 8, "ORG"), ("b", 9, 12, "GPE")}
    pred = {("a", 0, 4, "PER"), ("a", 10, 14, "ORG"), ("b", 3, 7, "ORG"), ("b", 9, 12, "GPE")}
    s = score_spans(gold, pred)
    assert (s["micro"]["tp"], s["micro"]["fp"], s["micro"]["fn"]) == (2, 2, 2)
    assert s["micro"]["f1"] == pytest.approx(_sk_binary(gold, pred)[2]) == 0.5
    assert s["labels"]["ORG"] == pytest.approx(
        {"tp": 0, "fp": 2, "fn": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    )
    assert s["macro"]["f1"] == pytest.approx((1.0 + 2 / 3 + 0.0) / 3)
    assert score_spans(set(), set())["micro"]["f1"] == 0.0


def test_missing_ranges_are_excluded_not_negatives() -> None:
    from corpus_tools.model import Article, EntitySpan
    from corpus_tools.models.data import GoldArticle

    text = "Iran and Oman met in Doha."
    art = Article("x", "s", None, None, None, None, "en", text, "h")
    g = GoldArticle(
        art,
        entities=(EntitySpan(0, 4, "GPE", "Iran"), EntitySpan(21, 25, "GPE", "Doha")),
        missing_entities=((9, 13),),
    )
    preds = [PredictedSpan(0, 4, "GPE", "Iran", 1), PredictedSpan(9, 13, "GPE", "Oman", 1)]
    gold, pred = entity_keys(g, preds)
    assert gold == {("x", 0, 4, "GPE"), ("x", 21, 25, "GPE")}
    assert pred == {("x", 0, 4, "GPE")}  # the prediction in the disputed range is not scored


def test_score_labels_and_majority_against_sklearn() -> None:
    y = ["favor", "against", "neutral", "neutral", "against", "favor", "neutral"]
    p = ["favor", "neutral", "neutral", "against", "against", "(none)", "neutral"]
    s = score_labels(y, p)
    assert s["accuracy"] == pytest.approx(accuracy_score(y, p))
    assert s["macro_f1"] == pytest.approx(f1_score(y, p, average="macro", zero_division=0))
    assert majority(["b", "a", "b", "a"], ["a", "b"]) == "a"  # a tie: the scheme's order
    assert majority(["b", "a", "b"], ["a", "b"]) == "b"
    assert majority([], ["a"]) is None
    assert math.isclose(score_labels([], [])["accuracy"], 0.0)


def test_merge_adds_gazetteer_spans_outside_the_model_spans() -> None:
    model = [PredictedSpan(0, 10, "ORG", "x" * 10, 0.9)]
    gaz = [PredictedSpan(5, 9, "GPE", "x" * 4, 0.8), PredictedSpan(12, 16, "GPE", "x" * 4, 0.8)]
    assert [(s.start, s.label) for s in merge_spans(model, gaz)] == [(0, "ORG"), (12, "GPE")]
