"""models/classify: stance and claim classifiers trained on the sample gold (real scikit-learn).

The sample corpus is ingested and adjudicated for real; what adjudication left open (disputed
stance targets, disputed claim regions) must be left out of training, which is checked against
counts computed here from the GoldArticles, independently of the module.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_gold, make_article
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_tools.config import CorpusConfig, load_config
from corpus_tools.errors import DataError, UsageError
from corpus_tools.model import Claim, StanceJudgement
from corpus_tools.models.classify import (
    CALIBRATION_FOLDS,
    CLAIMS_FILE,
    STANCE_FILE,
    THRESHOLD_BETA,
    ClaimModel,
    StanceModel,
    best_threshold,
    claim_sentence_labels,
)
from corpus_tools.models.data import GoldArticle, TrainingSet, load_training_set


@pytest.fixture
def gold(sample_gold: Path, tmp_path: Path) -> tuple[CorpusConfig, TrainingSet]:
    config = load_config(copy_gold(sample_gold, tmp_path / "corpus") / "corpus.toml")
    return config, load_training_set(config)


def stance_model(config: CorpusConfig, items: tuple[GoldArticle, ...]) -> StanceModel:
    scheme = config.scheme
    return StanceModel.fit(
        items,
        [t.id for t in scheme.stance_targets],
        scheme.stance_labels,
        target_names={t.id: t.name for t in scheme.stance_targets},
    )


def test_stance_on_a_held_out_story(gold: tuple[CorpusConfig, TrainingSet]) -> None:
    config, ts = gold
    labels = config.scheme.stance_labels
    held = ts.stories[0]
    train = tuple(g for g in ts if g.story != held)
    test = ts.subset([held])
    assert train and test
    model = stance_model(config, train)
    assert model.targets == tuple(t.id for t in config.scheme.stance_targets)
    for t in model.targets:  # a classifier wherever the training gold has two classes
        many = len(model.info["targets"][t]["classes"]) > 1
        assert model.info["targets"][t]["model"] == ("logistic" if many else "constant")
    assert "logistic" in {model.info["targets"][t]["model"] for t in model.targets}
    for g in test:
        pred = model.predict(g.article)
        assert set(pred) == set(model.targets)
        for target, probs in pred.items():
            assert list(probs) == list(labels), target
            assert all(0.0 <= p <= 1.0 for p in probs.values())
            assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-6)
            # a label never seen in training for this target gets no mass
            seen = model.info["targets"][target]["classes"]
            assert all(probs[lab] == 0.0 for lab in labels if lab not in seen)


def test_calibration_is_used_only_when_every_class_fills_the_folds(
    gold: tuple[CorpusConfig, TrainingSet],
) -> None:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    config, ts = gold
    model = stance_model(config, ts.items)
    for target, info in model.info["targets"].items():
        if info["model"] != "logistic":  # a single class (or none): no classifier to calibrate
            continue
        clf = model._state["models"][target]["classifier"]
        calibrated = min(info["classes"].values()) >= 3
        assert info["calibration"] == ("sigmoid" if calibrated else "none"), target
        assert isinstance(clf, CalibratedClassifierCV if calibrated else LogisticRegression)
        assert info["reason"]
    # the whole sample has a target with enough of every class (russia: against/unrelated)
    assert "sigmoid" in {i["calibration"] for i in model.info["targets"].values()}


def test_any_subset_of_stories_trains_without_error_or_warning(
    gold: tuple[CorpusConfig, TrainingSet],
) -> None:
    """Cross-validation trains on a few stories: a class held by one story must not break the
    calibration folds (a grouped fold whose training part lacks a class falls back)."""
    config, ts = gold
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in (1, 3):  # one story: single classes; three: a class in one story only
            for stories in itertools.combinations(ts.stories, k):
                items = ts.subset(stories)
                stance_model(config, items)
                ClaimModel.fit(items, config.scheme.checkworthy)
        # constructed: "favor" only in story s0, so a story-grouped fold cannot train on it
        items = tuple(
            GoldArticle(
                make_article(f"Iran {word} the plan number {i}.", f"a{i:02d}", f"s{i % 4}"),
                stances=(StanceJudgement("iran", "favor" if i % 4 == 0 else "against"),),
            )
            for i, word in enumerate(["praised", "condemned", "hit", "hurt"] * 4)
        )
        info = StanceModel.fit(items, ["iran"], ["favor", "against"]).info["targets"]["iran"]
    assert info["classes"] == {"against": 12, "favor": 4}
    assert info["calibration"] == "sigmoid"
    assert info["fold_kind"] == "stratified (a story-grouped fold lacked a class)"


def test_disputed_stance_targets_are_left_out_not_negatives(
    gold: tuple[CorpusConfig, TrainingSet],
) -> None:
    config, ts = gold
    model = stance_model(config, ts.items)
    disputed_somewhere = 0
    for t in config.scheme.stance_targets:
        # independent count: articles with a judgement for t and no open dispute on t
        usable = [
            g
            for g in ts
            if t.id not in g.missing_stances and any(s.target == t.id for s in g.stances)
        ]
        disputed = [g for g in ts if t.id in g.missing_stances]
        disputed_somewhere += len(disputed)
        info = model.info["targets"][t.id]
        assert info["examples"] == len(usable)
        assert info["left_out_missing"] == len(disputed)
        expected = Counter(s.label for g in usable for s in g.stances if s.target == t.id)
        assert info["classes"] == dict(expected)
    assert disputed_somewhere > 0  # the sample has open stance disputes: the test can fail

    # behaviour: marking a target missing is the same as not having the article at all
    target = "iran"
    disputed_ids = {g.article_id for g in ts if target in g.missing_stances}
    assert disputed_ids
    with_disputes = StanceModel.fit(ts.items, [target], config.scheme.stance_labels)
    without = StanceModel.fit(
        tuple(g for g in ts if g.article_id not in disputed_ids),
        [target],
        config.scheme.stance_labels,
    )
    # and treating the disputes as "unrelated" (negatives) would change the model
    as_negatives = StanceModel.fit(
        tuple(
            replace(g, missing_stances=(), stances=(StanceJudgement(target, "unrelated"),))
            if g.article_id in disputed_ids
            else g
            for g in ts
        ),
        [target],
        config.scheme.stance_labels,
    )
    probe = ts.items[0].article
    assert with_disputes.predict(probe) == without.predict(probe)
    assert as_negatives.predict(probe) != without.predict(probe)


def independent_labels(item: GoldArticle) -> list[int | None]:
    """The documented rule, computed with sets of character positions."""
    text = item.article.text
    out: list[int | None] = []
    for s in item.article.sentences:
        chars = set(range(s.start, s.end))
        if any(chars & set(range(a, b)) for a, b in item.missing_claims):
            out.append(None)
            continue
        positive = False
        for c in item.claims:
            solid = {i for i in range(c.start, c.end) if not text[i].isspace()}
            positive |= bool(solid) and 2 * len(solid & chars) >= len(solid)
        out.append(int(positive))
    return out


def test_sentence_labels_follow_the_rule(gold: tuple[CorpusConfig, TrainingSet]) -> None:
    _, ts = gold
    totals: Counter[int | None] = Counter()
    for g in ts:
        got = claim_sentence_labels(g)
        assert [(s.start, s.end) for s, _ in got] == [(s.start, s.end) for s in g.article.sentences]
        expected = independent_labels(g)
        assert [label for _, label in got] == expected, g.article_id
        totals.update(expected)
    assert totals[1] > 0 and totals[0] > 0 and totals[None] > 0

    # a claim split over two sentences: positive where at least half of it lies
    text = "One two three four. Five six seven eight. Nine ten."
    art = make_article(text)
    s1, s2, s3 = art.sentences
    cases = [
        ((s1.end - 4, s2.start + 10), [0, 1, 0]),  # mostly in the second sentence
        ((s1.end - 4, s2.start + 4), [1, 1, 0]),  # half and half (the space not counted)
        ((s1.start, s3.start + 2), [0, 1, 0]),  # over three sentences: only where half lies
        ((s1.start + 3, s3.end), [0, 0, 0]),  # no sentence holds half of it
        ((s3.start, s3.end), [0, 0, 1]),
    ]
    for (a, b), want in cases:
        g = GoldArticle(art, claims=(Claim(a, b, text[a:b], None, None),))
        assert [lab for _, lab in claim_sentence_labels(g)] == want == independent_labels(g)
    g = GoldArticle(
        art, claims=(Claim(s3.start, s3.end, "x", None, None),), missing_claims=((0, 1),)
    )
    assert [lab for _, lab in claim_sentence_labels(g)] == [None, 0, 1]


def test_claim_training_leaves_disputed_sentences_out(
    gold: tuple[CorpusConfig, TrainingSet],
) -> None:
    config, ts = gold
    model = ClaimModel.fit(ts.items, config.scheme.checkworthy)
    labels = [lab for g in ts for lab in independent_labels(g)]
    info = model.info["detector"]
    assert info["left_out_missing"] == labels.count(None) > 0
    assert info["sentences"] == labels.count(0) + labels.count(1)
    assert (info["positive"], info["negative"]) == (labels.count(1), labels.count(0))
    # behaviour: taking the disputed sentences as negatives gives another model
    as_negatives = ClaimModel.fit(
        tuple(replace(g, missing_claims=()) for g in ts), config.scheme.checkworthy
    )
    assert as_negatives.info["detector"]["sentences"] == len(labels)
    probe = [g.article for g in ts]
    assert model.sentence_scores_many(probe) != as_negatives.sentence_scores_many(probe)
    # the sample has one check-worthiness class: no classifier, empty dicts
    assert model.info["checkworthiness"]["model"] is None
    held = ts.items[0].article
    assert all(c.checkworthy == {} for c in model.predict(held, threshold=0.0))


def test_claims_on_a_held_out_story(gold: tuple[CorpusConfig, TrainingSet]) -> None:
    config, ts = gold
    held = ts.stories[-1]
    model = ClaimModel.fit(
        tuple(g for g in ts if g.story != held), config.scheme.checkworthy, seed=3
    )
    for g in ts.subset([held]):
        text = g.article.text
        scores = model.sentence_scores(g.article)
        assert len(scores) == len(g.article.sentences)
        assert all(0.0 <= p <= 1.0 for _, _, p in scores)
        claims = model.predict(g.article, threshold=0.0)
        assert [(c.start, c.end, c.score) for c in claims] == scores
        for c in claims:
            assert text[c.start : c.end] == c.text
        cut = sorted(p for _, _, p in scores)[len(scores) // 2]
        assert [c.score for c in model.predict(g.article, threshold=cut)] == [
            p for _, _, p in scores if p >= cut
        ]


def two_class_items() -> tuple[GoldArticle, ...]:
    """Synthetic gold with two check-worthiness classes and a single-class stance target."""
    items = []
    for i in range(12):
        worthy = i % 2 == 0
        claim = (
            f"Officials said {100 + i} drones were launched at the port."
            if worthy
            else f"Analyst number {i} thinks the mood is calm."
        )
        text = f"Report {i} from the coast.\r\n{claim} The weather was mild 😀 today."
        start = text.index(claim)
        items.append(
            GoldArticle(
                make_article(text, f"a{i:02d}", f"s{i % 4}"),
                stances=(StanceJudgement("iran", "against"),),
                claims=(
                    Claim(
                        start,
                        start + len(claim),
                        claim,
                        "check-worthy" if worthy else "not check-worthy",
                        None,
                    ),
                ),
            )
        )
    return tuple(items)


def test_single_class_target_gets_smoothed_probabilities() -> None:
    items = two_class_items()
    labels = ["favor", "against", "neutral", "unrelated"]
    model = StanceModel.fit(items, ["iran", "russia"], labels)
    assert model.targets == ("iran",)  # russia has no gold: omitted
    assert model.info["targets"]["russia"]["model"] is None
    probs = model.predict(items[0].article)["iran"]
    n, k = len(items), len(labels)
    assert probs == {lab: ((n if lab == "against" else 0) + 1) / (n + k) for lab in labels}
    assert probs["against"] < 1.0


def test_checkworthiness_probabilities_with_two_classes() -> None:
    items = two_class_items()
    model = ClaimModel.fit(items, ["check-worthy", "not check-worthy"])
    assert model.info["checkworthiness"]["classes"] == {"check-worthy": 6, "not check-worthy": 6}
    claims = model.predict(items[0].article, threshold=0.0)
    assert claims
    for c in claims:
        assert list(c.checkworthy) == ["check-worthy", "not check-worthy"]
        assert math.isclose(sum(c.checkworthy.values()), 1.0, abs_tol=1e-6)


def test_save_load_same_outputs_and_deterministic_bytes(
    gold: tuple[CorpusConfig, TrainingSet], tmp_path: Path
) -> None:
    config, ts = gold
    stance = stance_model(config, ts.items)
    claims = ClaimModel.fit(ts.items, config.scheme.checkworthy)
    stance.save(tmp_path / "m")
    claims.save(tmp_path / "m")
    stance2, claims2 = StanceModel.load(tmp_path / "m"), ClaimModel.load(tmp_path / "m")
    for g in ts:
        assert stance2.predict(g.article) == stance.predict(g.article)
        assert claims2.predict(g.article, threshold=0.1) == claims.predict(g.article, threshold=0.1)
        # the learned threshold is saved with the model and is predict's default
        assert claims2.predict(g.article) == claims.predict(g.article, threshold=claims.threshold)
    assert claims2.threshold == claims.threshold == claims.info["detector"]["threshold"]["value"]
    assert stance2.info == stance.info and claims2.info == claims.info
    assert claims2.gate == claims.gate and claims2.informative is claims.informative
    # a model saved before thresholds were learned keeps the fixed 0.5 it was used with, and
    # (saved before the gate too) suggests at it as before
    old = copy.deepcopy(claims._state)
    del old["threshold"]
    del old["info"]["detector"]["gate"]
    assert ClaimModel(old).threshold == 0.5 and ClaimModel(old).informative is True
    # one saved with a learned threshold but before the gate: never measured, not informative
    old["threshold"] = claims.threshold
    assert claims.threshold != 0.5 and ClaimModel(old).informative is False

    # a second fit with the same seed writes the same bytes (after predicting, too)
    stance_model(config, ts.items).save(tmp_path / "again")
    ClaimModel.fit(ts.items, config.scheme.checkworthy).save(tmp_path / "again")
    for name in (STANCE_FILE, CLAIMS_FILE):
        assert (tmp_path / "m" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()

    versions = json.loads((tmp_path / "m" / "stance.versions.json").read_text())
    import sklearn

    assert versions["sklearn"] == sklearn.__version__
    versions["sklearn"] = "0.24.2"
    (tmp_path / "m" / "stance.versions.json").write_text(json.dumps(versions))
    with pytest.raises(UsageError, match=r"scikit-learn 0\.24\.2") as err:
        StanceModel.load(tmp_path / "m")
    assert err.value.hint and "corpus model train" in err.value.hint
    with pytest.raises(UsageError, match="no stance model"):
        StanceModel.load(tmp_path / "nowhere")
    (tmp_path / "m" / CLAIMS_FILE).write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="not a readable claims model"):
        ClaimModel.load(tmp_path / "m")
    (tmp_path / "m" / "claims.versions.json").unlink()
    with pytest.raises(UsageError, match="not recorded"):
        ClaimModel.load(tmp_path / "m")


def test_batch_prediction_equals_one_by_one(gold: tuple[CorpusConfig, TrainingSet]) -> None:
    config, ts = gold
    arts = [g.article for g in ts]
    stance = stance_model(config, ts.items)
    assert stance.predict_many(arts) == [stance.predict(a) for a in arts]
    claims = ClaimModel.fit(ts.items, config.scheme.checkworthy)
    assert claims.sentence_scores_many(arts) == [claims.sentence_scores(a) for a in arts]
    assert claims.predict_many(arts, threshold=0.15) == [
        claims.predict(a, threshold=0.15) for a in arts
    ]
    small = small_claim_model()
    synthetic = [g.article for g in two_class_items()]
    assert small.predict_many(synthetic, threshold=0.0) == [
        small.predict(a, threshold=0.0) for a in synthetic
    ]
    assert stance.predict_many([]) == [] and claims.predict_many([]) == []


@functools.cache
def small_claim_model() -> ClaimModel:
    return ClaimModel.fit(two_class_items(), ["check-worthy", "not check-worthy"])


PIECES = [
    "Iran",
    " said",
    " 60%",
    "😀",
    "𝔸",
    "e\u0301",
    "\r\n",
    "\n",
    " ",
    "  ",
    ". ",
    "“",
    "”",
    "x",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=40), st.booleans())
def test_predicted_claim_offsets_are_exact(pieces: list[str], segmented: bool) -> None:
    text = "".join(pieces)
    art = make_article(text)
    if not segmented:  # a task built elsewhere: the model segments it itself
        art = replace(art, sentences=())
    for c in small_claim_model().predict(art, threshold=0.0):
        assert text[c.start : c.end] == c.text
        assert c.text and c.text == c.text.strip()
        assert 0.0 <= c.score <= 1.0


def test_offsets_after_emoji_and_across_crlf() -> None:
    text = "😀 𝔸 Officials said 120 drones flew.\r\n  Cafe\u0301 owners “agreed” 😀.  \r\n"
    art = make_article(text)
    claims = small_claim_model().predict(art, threshold=0.0)
    assert [c.text for c in claims] == [
        "😀 𝔸 Officials said 120 drones flew.",
        "Cafe\u0301 owners “agreed” 😀.",
    ]
    for c in claims:
        assert text[c.start : c.end] == c.text


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("beta", [1.0, THRESHOLD_BETA, 2.0])
def test_best_threshold_maximises_f_beta_against_sklearn(seed: int, beta: float) -> None:
    import numpy as np
    from sklearn.metrics import fbeta_score

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    y = [int(v) for v in rng.random(n) < 0.2]
    y[int(rng.integers(n))] = 1
    scores = [float(v) for v in np.round(rng.random(n), 1)]  # rounded: ties flip together
    cut, best = best_threshold(y, scores, beta=beta)

    def f(t: float) -> float:
        return float(fbeta_score(y, [int(p >= t) for p in scores], beta=beta, zero_division=0))

    assert best == pytest.approx(f(cut))
    assert all(f(t) <= best + 1e-12 for t in set(scores))  # no candidate cut does better
    # the cut flags what the best observed cut flags, and sits halfway to the next score
    flagged = [p for p in scores if p >= cut]
    lowest = min(flagged)
    assert f(lowest) == pytest.approx(best)
    below = [p for p in scores if p < lowest]
    assert cut == (pytest.approx((lowest + max(below)) / 2) if below else lowest)
    # ties: no higher cut reaches the same F-beta
    assert not any(f(t) >= best - 1e-12 for t in set(scores) if t > lowest)
    with pytest.raises(ValueError, match="positive"):
        best_threshold([0, 0], [0.1, 0.2])


def independent_out_of_fold(
    config: CorpusConfig, ts: TrainingSet
) -> tuple[list[int], list[tuple[Any, Any]], list[float]]:
    """Labels, folds and out-of-fold P(claim) of the training sentences, recomputed apart from
    the module: scikit-learn's StratifiedGroupKFold (grouped by story, as documented) and a
    ClaimModel fitted on each fold's training stories scoring the held-out stories' sentences."""
    from sklearn.model_selection import StratifiedGroupKFold

    rows = [(g, s, label) for g in ts for s, label in claim_sentence_labels(g) if label is not None]
    y = [int(label) for _, _, label in rows if label is not None]
    groups = [g.story for g, _, _ in rows]
    folds = list(
        StratifiedGroupKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=0).split(
            y, y, groups
        )
    )
    oof: list[float] = [math.nan] * len(rows)
    for train, held in folds:
        fold_model = ClaimModel.fit(
            ts.subset({groups[i] for i in train}), config.scheme.checkworthy, seed=0
        )
        for i in held:
            g, s, _ = rows[i]
            scores = {(a, b): p for a, b, p in fold_model.sentence_scores(g.article)}
            start, end = s.start, s.end
            text = g.article.text
            while text[start].isspace():
                start += 1
            while text[end - 1].isspace():
                end -= 1
            oof[i] = scores[(start, end)]
    assert not any(math.isnan(p) for p in oof)
    return y, folds, oof


def test_claim_threshold_is_the_best_cut_of_story_grouped_out_of_fold_probabilities(
    gold: tuple[CorpusConfig, TrainingSet],
) -> None:
    """Recomputed independently (`independent_out_of_fold`), the F-beta-best cut of those
    probabilities by brute force with sklearn's fbeta_score."""
    from sklearn.metrics import fbeta_score

    config, ts = gold
    model = ClaimModel.fit(ts.items, config.scheme.checkworthy, seed=0)
    info = model.info["detector"]["threshold"]
    assert info["fold_kind"] == "story-grouped" and info["beta"] == THRESHOLD_BETA
    y, _folds, oof = independent_out_of_fold(config, ts)

    def f(t: float) -> float:
        pred = [int(p >= t) for p in oof]
        return float(fbeta_score(y, pred, beta=THRESHOLD_BETA, zero_division=0))

    best = max(f(t) for t in set(oof))
    assert info["out_of_fold"]["f_beta"] == pytest.approx(best)
    assert f(model.threshold) == pytest.approx(best)
    lowest = min(p for p in oof if p >= model.threshold)
    below = max(p for p in oof if p < model.threshold)
    assert model.threshold == pytest.approx((lowest + below) / 2)
    # on the sample calibrated P(claim) never reaches 0.5: the fixed cut suggested nothing
    assert 0.0 < model.threshold < 0.5 and f(0.5) == 0.0


def _independent_cut(y: Sequence[int], probs: Sequence[float]) -> float:
    """The documented cut by brute force: the highest probability whose `p >= t` decisions
    give the best F-beta (sklearn), placed halfway to the next lower probability."""
    from sklearn.metrics import fbeta_score

    def f(t: float) -> float:
        pred = [int(p >= t) for p in probs]
        return float(fbeta_score(y, pred, beta=THRESHOLD_BETA, zero_division=0))

    best = max(f(t) for t in set(probs))
    lowest = max(t for t in set(probs) if f(t) >= best - 1e-12)
    below = [p for p in probs if p < lowest]
    return (lowest + max(below)) / 2 if below else lowest


def test_claim_gate_closes_on_the_sample(gold: tuple[CorpusConfig, TrainingSet]) -> None:
    """The gate recomputed apart from the module: each story-grouped fold's held-out sentences
    cut at the best cut of the other folds' out-of-fold probabilities, F-beta pooled (sklearn)
    against flagging every sentence. On the sample the detector does not beat it."""
    from sklearn.metrics import fbeta_score

    config, ts = gold
    model = ClaimModel.fit(ts.items, config.scheme.checkworthy, seed=0)
    gate = model.gate
    assert gate == model.info["detector"]["gate"]
    y, folds, oof = independent_out_of_fold(config, ts)
    truth: list[int] = []
    pred: list[int] = []
    for train, held in folds:
        cut = _independent_cut([y[i] for i in train], [oof[i] for i in train])
        truth += [y[i] for i in held]
        pred += [int(oof[i] >= cut) for i in held]
    held_f = float(fbeta_score(truth, pred, beta=THRESHOLD_BETA, zero_division=0))
    every = float(fbeta_score(truth, [1] * len(truth), beta=THRESHOLD_BETA))
    assert gate["f_beta"] == pytest.approx(held_f)
    assert gate["every_sentence_f_beta"] == pytest.approx(every)
    assert (gate["sentences"], gate["flagged"]) == (len(truth), sum(pred))
    assert held_f < every and model.informative is False and gate["informative"] is False
    assert "not better than every-sentence" in gate["reason"]
    # why the gate does not use the F-beta at the learned cut: flagging every sentence is one
    # of the cuts it was chosen among, so it never loses to the trivial rule on those figures
    assert (
        gate["f_beta_at_learned_cut"]
        == model.info["detector"]["threshold"]["out_of_fold"]["f_beta"]
    )
    assert gate["f_beta_at_learned_cut"] >= every


FILLER = (
    "The weather was mild in the valley today.",
    "Markets opened slowly after the holiday.",
    "A local team won its third match in a row.",
    "Traffic was light on the coast road.",
    "The museum reopened its west wing.",
    "Rain is expected later in the week.",
)


def learnable_claim_items(n: int = 16) -> tuple[GoldArticle, ...]:
    """Four-sentence articles in 4 stories; the claim sentence (at a varying place) carries a
    distinctive cue ("Zorblax officials claimed"), the other sentences never do."""
    items = []
    for i in range(n):
        claim = f"Zorblax officials claimed {100 + i} units were moved."
        parts = [FILLER[(i + k) % len(FILLER)] for k in range(3)]
        parts.insert(i % 4, claim)
        text = " ".join(parts)
        start = text.index(claim)
        items.append(
            GoldArticle(
                make_article(text, f"a{i:02d}", f"s{i % 4}"),
                claims=(Claim(start, start + len(claim), claim, "check-worthy", None),),
            )
        )
    return tuple(items)


def test_claim_gate_opens_where_claims_are_learnable() -> None:
    from sklearn.metrics import fbeta_score

    items = learnable_claim_items()
    model = ClaimModel.fit(items, ["check-worthy"])
    gate = model.gate
    assert model.informative is True and gate["informative"] is True
    y = [label for g in items for _, label in claim_sentence_labels(g)]
    every = float(fbeta_score(y, [1] * len(y), beta=THRESHOLD_BETA))
    assert gate["every_sentence_f_beta"] == pytest.approx(every)
    assert gate["f_beta"] > every + gate["margin"]
    # and it flags the claim sentence of an unseen article, not the rest
    art = make_article("Rain is expected later in the week. Zorblax officials claimed 7 units.")
    assert [c.text for c in model.predict(art)] == ["Zorblax officials claimed 7 units."]


def test_claim_gate_stays_closed_where_the_cut_cannot_be_measured() -> None:
    few = ClaimModel.fit(_claim_items(2), ["check-worthy"])  # base-rate cut
    assert few.informative is False and few.gate["f_beta"] is None
    constant = ClaimModel.fit(_claim_items(0), ["check-worthy"])
    assert constant.informative is False and "constant" in constant.gate["reason"]


def _claim_items(claimed: int, total: int = 8) -> tuple[GoldArticle, ...]:
    """`total` two-sentence articles in 4 stories; the first `claimed` hold a gold claim."""
    items = []
    for i in range(total):
        claim = f"Officials said {100 + i} drones were launched."
        text = f"{claim} The weather was mild 😀 today number {i}."
        claims = (Claim(0, len(claim), claim, "check-worthy", None),) if i < claimed else ()
        items.append(GoldArticle(make_article(text, f"a{i:02d}", f"s{i % 4}"), claims=claims))
    return tuple(items)


def test_claim_threshold_fallbacks() -> None:
    # fewer positive sentences than folds: no out-of-fold probabilities, the base rate
    few = ClaimModel.fit(_claim_items(2), ["check-worthy"])
    info = few.info["detector"]
    assert info["model"] == "logistic" and info["threshold"]["rule"] == "base rate"
    assert few.threshold == pytest.approx(info["positive"] / info["sentences"]) == 2 / 16
    # enough of both: learned from out-of-fold probabilities
    learned = ClaimModel.fit(_claim_items(6), ["check-worthy"])
    assert learned.info["detector"]["threshold"]["rule"].startswith("max F")
    # one class only: a constant detector and the cut 0.5, on the side of its class
    none = ClaimModel.fit(_claim_items(0), ["check-worthy"])
    assert none.info["detector"]["model"] == "constant" and none.threshold == 0.5
    assert none.predict(_claim_items(0)[0].article) == []
    every = tuple(  # every sentence a claim
        replace(
            g,
            claims=tuple(
                Claim(x.start, x.end, g.article.text[x.start : x.end], "check-worthy", None)
                for x in g.article.sentences
            ),
        )
        for g in _claim_items(0)
    )
    all_model = ClaimModel.fit(every, ["check-worthy"])
    assert all_model.info["detector"]["model"] == "constant" and all_model.threshold == 0.5
    assert len(all_model.predict(every[0].article)) == len(every[0].article.sentences) == 2
