"""Suggestions in tasks: `corpus tasks --suggest` on the sample gold with a real bundle.

One corpus per module: the sample corpus plus an article with emoji, a non-BMP letter, CRLF
line ends and a combining mark, which reprints two sentences of a seed-story article (one with
an edit outside its claim), ingested and adjudicated; one small bundle trained on its gold
(3 epochs); one `corpus tasks --suggest latest` run. Everything is real: spaCy, scikit-learn,
the validator, Label Studio's own prediction validator (from the server's venv).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, make_article
from typer.testing import CliRunner

from corpus_tools import store
from corpus_tools.cli import app
from corpus_tools.config import (
    CHECKWORTHY_NAME,
    CLAIM_NAME,
    ENTITIES_NAME,
    CorpusConfig,
    load_config,
)
from corpus_tools.model import Article, Claim, EntitySpan, PredictedSpan
from corpus_tools.models import bundle as bundles
from corpus_tools.models.classify import ClaimModel
from corpus_tools.models.data import GoldArticle, TrainingSet, load_training_set
from corpus_tools.models.gazetteer import LearnedGazetteer
from corpus_tools.models.project import story_surface_forms
from corpus_tools.models.suggest import (
    MIN_SCORE,
    Candidate,
    Suggester,
    article_from_task,
    merge,
)

# Reprints two sentences of art-ec65726cd8330911 (Northbridge Wire): the first with "talks"
# edited to "matter" (outside its claim), and the one with the claim "have documented wreckage
# bearing Iranian serial numbers in the Kyiv and Odesa regions" verbatim (a non-BMP letter in
# it). Both claims are adjudicated gold; both are carried over.
EXTRA = (
    "Drone talks widen\r\n\r\n"
    "😀 𝔸 WASHINGTON (Northbridge Wire) — The United States has pressed Iran to stop selling "
    "armed drones to Russia, raising the demand during indirect contacts in Qatar and Oman, the "
    "Financial Times reported on Tuesday, citing people briefed on the matter.\r\n"
    "Open-source researchers who track the attacks, including the account known as “𝔸rmsWatch”, "
    "have documented wreckage bearing Iranian serial numbers in the Kyiv and Odesa regions.\r\n"
    "Jens\r\nStoltenberg, the NATO chief, said Iranian drones were used in Ukraine since "
    "October.\r\n"
    "Cafe\u0301 owners in Tehran were not surprised.\r\n"
)
SEED = "art-ec65726cd8330911"
LS_PYTHON = REPO / ".venv-ls" / "bin" / "python"


def run(corpus: Path, *args: str) -> Any:
    res = CliRunner().invoke(
        app, [*args, "--config", str(corpus / "corpus.toml")], catch_exceptions=False
    )
    assert res.exit_code in (0, 1), res.stdout + res.stderr
    return res


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The sample corpus (as the `sample_corpus` fixture copies it) plus EXTRA, ingested,
    adjudicated, a bundle trained, and `corpus tasks --suggest latest` run."""
    dest = tmp_path_factory.mktemp("suggest") / "corpus"
    dest.mkdir()
    shutil.copy2(REPO / "corpus.toml", dest / "corpus.toml")
    for folder in ("articles", "annotations", "schemas"):
        shutil.copytree(REPO / folder, dest / folder)
    (dest / "articles" / "zz-emoji-crlf.txt").write_bytes(EXTRA.encode("utf-8"))
    assert run(dest, "ingest").exit_code == 0
    assert run(dest, "adjudicate").exit_code == 0
    bundles.train(load_config(dest / "corpus.toml"), epochs=3)
    res = run(dest, "tasks", "--suggest", "latest", "--json")
    assert res.exit_code == 0
    (dest / "summary.json").write_text(res.stdout, encoding="utf-8")
    yield dest


@pytest.fixture(scope="module")
def config(corpus: Path) -> CorpusConfig:
    return load_config(corpus / "corpus.toml")


@pytest.fixture(scope="module")
def tasks(corpus: Path) -> list[dict[str, Any]]:
    return json.loads((corpus / "build" / "tasks.json").read_bytes())


@pytest.fixture(scope="module")
def summary(corpus: Path) -> dict[str, Any]:
    return json.loads((corpus / "summary.json").read_text(encoding="utf-8"))


def extra_task(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    return next(t for t in tasks if t["data"]["text"].startswith("😀"))


def test_every_region_is_the_text_at_its_offsets(tasks: list[dict[str, Any]]) -> None:
    regions = 0
    for t in tasks:
        text = t["data"]["text"]
        assert t["data"]["text_sha256"] == store.sha256_text(text)
        ids = [r["id"] for r in t["predictions"][0]["result"] if r["from_name"] != "checkworthy"]
        assert len(ids) == len(set(ids))
        for r in t["predictions"][0]["result"]:
            v = r["value"]
            if "start" in v:
                regions += 1
                assert 0 <= v["start"] < v["end"] <= len(text)
                assert text[v["start"] : v["end"]] == v["text"]
    assert regions > 100
    extra = extra_task(tasks)
    text = extra["data"]["text"]
    assert "\r\n" in text and "\u0301" in text  # ingest kept CRLF and the combining mark
    spans = [r["value"] for r in extra["predictions"][0]["result"] if "start" in r["value"]]
    # offsets after 😀 and 𝔸 are code points: "Iran" found where Python finds it
    iran = text.index("Iran")
    assert any(v["start"] == iran and v["text"] == "Iran" for v in spans)


def test_scores_are_real_and_the_version_is_the_bundle(
    tasks: list[dict[str, Any]], summary: dict[str, Any], config: CorpusConfig
) -> None:
    version = bundles.load(config, "latest").version
    assert summary["model_version"] == version
    region_scores = []
    for t in tasks:
        (pred,) = t["predictions"]  # one prediction: Data Manager averages over them
        assert pred["model_version"] == version
        assert 0.0 <= pred["score"] <= 1.0
        for r in pred["result"]:
            assert 0.0 <= r["score"] <= 1.0
            region_scores.append(r["score"])
    assert len(set(region_scores)) > 10
    assert len({t["predictions"][0]["score"] for t in tasks}) > 3
    by_source = summary["by_source"]
    assert by_source["model"] > 0 and by_source["gazetteer"] > 0 and by_source["projection"] > 0
    assert not any("story projection" in n for n in summary["notes"])  # the gold was found


def _margin_loss(probs: list[float]) -> float:
    top = [*sorted(probs, reverse=True), 0.0, 0.0]
    return 1.0 - (top[0] - top[1])


def test_tasks_are_ordered_by_the_documented_uncertainty(
    tasks: list[dict[str, Any]], config: CorpusConfig
) -> None:
    """Recompute each task's uncertainty from the bundle's own outputs and the regions."""
    model = bundles.load(config, "latest")
    articles = store.load_articles(config.paths.articles_parquet)
    mine = []
    for t in tasks:
        article = articles[t["data"]["article_id"]]
        result = t["predictions"][0]["result"]
        layers = []
        ents = [r["score"] for r in result if r["from_name"] == ENTITIES_NAME]
        if ents:
            layers.append(sum(1 - abs(2 * p - 1) for p in ents) / len(ents))
        assert model.stance is not None and model.claims is not None
        dists = model.stance.predict(article)
        stance = [_margin_loss(list(d.values())) for d in dists.values() if d]
        if stance:
            layers.append(sum(stance) / len(stance))
        claims = [1 - abs(2 * p - 1) for _s, _e, p in model.claims.sentence_scores(article)]
        if claims:
            layers.append(sum(claims) / len(claims))
        u = sum(layers) / len(layers) if layers else 1.0
        assert math.isclose(t["data"]["suggest_uncertainty"], u, abs_tol=2e-4), article.article_id
        assert math.isclose(t["predictions"][0]["score"], 1 - u, abs_tol=2e-4)
        mine.append((-u, article.article_id))
    order = [t["data"]["article_id"] for t in tasks]
    assert order == [aid for _u, aid in sorted(mine)]
    assert len(set(order)) == len(order) == len(store.load_articles(config.paths.articles_parquet))


def test_claims_are_projected_from_a_reprint_with_their_checkworthiness(
    tasks: list[dict[str, Any]],
) -> None:
    result = extra_task(tasks)["predictions"][0]["result"]
    claims = {r["id"]: r for r in result if r["from_name"] == CLAIM_NAME}
    cw = {r["id"]: r for r in result if r["from_name"] == CHECKWORTHY_NAME}
    texts = {r["value"]["text"] for r in claims.values()}
    assert {
        "The United States has pressed Iran to stop selling armed drones to Russia",
        "have documented wreckage bearing Iranian serial numbers in the Kyiv and Odesa regions",
    } <= texts
    for rid, claim in claims.items():
        assert claim["value"]["labels"] == ["Claim"]
        # projected (the claim gate is closed on the sample: no claim from the model alone)
        assert rid in cw  # per-region answer shares the claim region's id
        assert {k: cw[rid]["value"][k] for k in ("start", "end", "text")} == {
            k: claim["value"][k] for k in ("start", "end", "text")
        }
        assert cw[rid]["value"]["choices"] == ["check-worthy"]
        assert SEED in claim["meta"]["text"][0] and "projection" in claim["meta"]["text"][0]


def test_corpus_validate_accepts_the_tasks_and_the_predictions_as_annotations(
    corpus: Path, tasks: list[dict[str, Any]]
) -> None:
    res = run(corpus, "validate", str(corpus / "build" / "tasks.json"), "--format", "json")
    report = json.loads(res.stdout)
    # a task file has no annotations yet: the coverage gate is the only finding
    assert {f["slug"] for f in report["findings"]} == {"low-coverage"}
    # the predictions' results checked as annotations (two, for the coverage gate): offsets,
    # labels, choices, per-region answers, overlaps, stance answered for every target
    as_annotations = [
        {
            "id": i,
            "data": t["data"],
            "annotations": [
                {
                    "id": 2 * i + k,
                    "completed_by": f"suggest-{k}",
                    "result": t["predictions"][0]["result"],
                }
                for k in (0, 1)
            ],
        }
        for i, t in enumerate(tasks)
    ]
    path = corpus / "build" / "predictions-as-annotations.json"
    path.write_text(json.dumps(as_annotations, ensure_ascii=False), encoding="utf-8")
    res = run(corpus, "validate", str(path), "--format", "json")
    report = json.loads(res.stdout)
    assert res.exit_code == 0, report["findings"][:3]
    # every suggested claim is projected with its sibling's check-worthiness answer (the
    # claim gate is closed on the sample, so no claim from the model alone, which would have
    # none: the sample's one check-worthiness class trains no classifier)
    unanswered = sum(
        1
        for t in tasks
        for r in t["predictions"][0]["result"]
        if r["from_name"] == CLAIM_NAME
        and not any(
            x["id"] == r["id"] and x["from_name"] == CHECKWORTHY_NAME
            for x in t["predictions"][0]["result"]
        )
    )
    claims = sum(
        1 for t in tasks for r in t["predictions"][0]["result"] if r["from_name"] == CLAIM_NAME
    )
    assert claims > 0 and unanswered == 0
    assert report["findings"] == []


@pytest.mark.skipif(not LS_PYTHON.exists(), reason="no Label Studio venv (.venv-ls)")
def test_label_studio_accepts_every_prediction(corpus: Path) -> None:
    """Label Studio 1.23.2's own check (`LabelInterface.validate_prediction`, what its
    PredictionSerializer runs) on every prediction, against our labeling config."""
    script = (
        "import json, sys\n"
        "from label_studio_sdk.label_interface import LabelInterface\n"
        "li = LabelInterface(open(sys.argv[1], encoding='utf-8').read())\n"
        "tasks = json.load(open(sys.argv[2], encoding='utf-8'))\n"
        "errs = {t['data']['article_id']: li.validate_prediction(p, return_errors=True)\n"
        "        for t in tasks for p in t['predictions']}\n"
        "bad = {k: v for k, v in errs.items() if v}\n"
        "print(json.dumps({'checked': len(errs), 'errors': bad}))\n"
    )
    out = subprocess.run(
        [
            str(LS_PYTHON),
            "-c",
            script,
            str(corpus / "schemas" / "labeling-config.xml"),
            str(corpus / "build" / "tasks.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["errors"] == {} and got["checked"] == 16


# --- the merge rule on constructed cases -------------------------------------------------


def test_merge_same_span_combines_as_noisy_or() -> None:
    out = merge(
        [
            Candidate(0, 4, "GPE", 0.6, "model"),
            Candidate(0, 4, "GPE", 0.5, "gazetteer"),
            Candidate(0, 4, "GPE", 0.3, "gazetteer"),  # a source counts once: its best
        ]
    )
    assert len(out) == 1
    assert math.isclose(out[0].score, 1 - (1 - 0.6) * (1 - 0.5))
    assert [c.source for c in out[0].sources] == ["model", "gazetteer"]
    assert out[0].meta() == "model 0.60 + gazetteer 0.50"


def test_merge_overlaps_floor_and_ties() -> None:
    out = merge(
        [
            Candidate(0, 10, "ORG", 0.55, "model"),  # overlaps the higher GPE: dropped
            Candidate(0, 4, "GPE", 0.7, "gazetteer"),
            Candidate(20, 24, "PER", 0.6, "gazetteer"),  # tie with the projection: priority
            Candidate(22, 30, "ORG", 0.6, "projection"),
            Candidate(40, 44, "DATE", MIN_SCORE - 0.01, "model"),  # under the floor alone
            Candidate(50, 54, "DATE", 0.2, "model"),  # two weak sources: 0.36 >= floor
            Candidate(50, 54, "DATE", 0.2, "gazetteer"),
        ]
    )
    got = [(m.start, m.end, m.label, round(m.score, 4)) for m in out]
    assert got == [
        (0, 4, "GPE", 0.7),
        (22, 30, "ORG", 0.6),
        (50, 54, "DATE", round(1 - 0.8 * 0.8, 4)),
    ]


def _article(text: str, aid: str, story: str = "s1") -> Article:
    return Article(aid, "x", None, None, None, None, "en", text, store.sha256_text(text), (), story)


def test_suggester_merges_gazetteer_and_projection_on_one_span() -> None:
    """A constructed story: the sibling's gold makes both a gazetteer form and a projected
    surface form for 'Tehran'; the suggestion carries their noisy-OR and both sources."""
    sib_text = "Tehran said no. Officials in Tehran and Tehran again."
    sibling = GoldArticle(
        _article(sib_text, "a-sib"),
        entities=(EntitySpan(0, 6, "GPE", "Tehran"), EntitySpan(29, 35, "GPE", "Tehran")),
    )
    target = _article("😀 In Tehran\r\nthe talks", "b-target")
    gaz = LearnedGazetteer.fit([sibling])
    bundle = bundles.Bundle(
        path=Path("."), version="v-test", card={}, gazetteer=gaz, ner=None, stance=None, claims=None
    )
    training = TrainingSet((sibling,), "test", "0" * 64, "0" * 64)
    cfg = load_config(REPO / "corpus.toml")
    s = Suggester(bundle, cfg, training).predict(target)
    (region,) = s.prediction["result"]
    g = gaz.predict(target)
    p = [x for x in story_surface_forms(target, [sibling]) if x.kind == "entity"]
    assert [(x.start, x.end) for x in g] == [(p[0].start, p[0].end)] == [(5, 11)]
    expected = 1 - (1 - g[0].score) * (1 - p[0].score)
    assert region["score"] == round(expected, 4)
    assert region["value"] == {"start": 5, "end": 11, "text": "Tehran", "labels": ["GPE"]}
    assert region["meta"]["text"][0].startswith("projection ")
    assert "gazetteer" in region["meta"]["text"][0] and "a-sib" in region["meta"]["text"][0]
    assert s.counts["agreed"] == 1
    assert s.prediction["model_version"] == "v-test"
    # one layer (entities), one decision: uncertainty = 1 - |2p - 1|
    assert math.isclose(s.uncertainty, round(1 - abs(2 * expected - 1), 4))
    # without siblings there is no projection: the gazetteer alone
    alone = Suggester(bundle, cfg).predict(target).prediction["result"]
    assert alone[0]["score"] == round(g[0].score, 4)
    assert alone[0]["meta"]["text"] == [f"gazetteer {g[0].score:.2f}"]


def test_a_suggester_offset_that_is_not_the_text_is_refused() -> None:
    class Shifted(LearnedGazetteer):
        def predict(self, article: Article) -> list[PredictedSpan]:
            return [PredictedSpan(1, 7, "GPE", "Tehran", 0.9)]

    bundle = bundles.Bundle(
        path=Path("."),
        version="v",
        card={},
        gazetteer=Shifted.fit([]),
        ner=None,
        stance=None,
        claims=None,
    )
    from corpus_tools.errors import DataError

    with pytest.raises(DataError, match="not the article's text"):
        Suggester(bundle, load_config(REPO / "corpus.toml")).predict(_article("Tehran x", "a"))


def test_article_from_task(corpus: Path, config: CorpusConfig) -> None:
    text = "😀 Iran.\r\nTehran refused. Officials in Cafe\u0301 agreed."
    a = article_from_task({"id": 7, "data": {"text": text, "text_sha256": "stale"}})
    assert a.article_id == "task-7" and a.text == text
    assert a.text_sha256 == store.sha256_text(text) and a.story_id is None
    assert [text[s.start : s.end] for s in a.sentences] == [
        "😀 Iran.",
        "Tehran refused.",
        "Officials in Cafe\u0301 agreed.",
    ]
    known = store.load_articles(config.paths.articles_parquet)
    seed = known[SEED]
    again = article_from_task(
        {"id": 1, "data": {"article_id": SEED, "text": seed.text}}, known=known
    )
    assert again == seed  # its story and ingested sentences kept
    edited = article_from_task(
        {"data": {"article_id": SEED, "text": seed.text + " More."}}, known=known
    )
    assert edited.story_id is None and edited.text_sha256 != seed.text_sha256


def test_without_gold_projection_is_skipped_with_a_note(corpus: Path, tmp_path: Path) -> None:
    copy = tmp_path / "c"
    shutil.copytree(corpus, copy, ignore=shutil.ignore_patterns("annotations"))
    (copy / "build" / "gold.jsonl").unlink()
    res = run(copy, "tasks", "--suggest", "latest", "--json", "--out", str(tmp_path / "t.json"))
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and out["by_source"]["projection"] == 0
    assert any("story projection skipped" in n for n in out["notes"])
    assert out["siblings"] is None


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--suggest", "no-such-version"], "no-such-version"),
        (["--suggest", "latest", "--no-preannotate"], "--no-preannotate"),
        (["--gold", "build/gold.jsonl"], "--gold is only used with --suggest"),
    ],
)
def test_bad_options_are_usage_errors(
    corpus: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    out = tmp_path / "t.json"
    cfg = str(corpus / "corpus.toml")
    res = CliRunner().invoke(app, ["tasks", *args, "--config", cfg, "--out", str(out)])
    assert res.exit_code == 2 and "Traceback" not in res.stdout + res.stderr
    assert says in res.stderr
    assert not out.exists()


def test_text_summary_names_model_order_and_sources(
    corpus: Path, tmp_path: Path, summary: dict[str, Any]
) -> None:
    out = tmp_path / "t.json"
    res = run(corpus, "tasks", "--suggest", "latest", "--out", str(out))
    assert res.exit_code == 0
    text = " ".join(res.stdout.split())
    assert f"model {summary['model_version']}" in text
    assert "suggest_uncertainty descending" in text
    assert "projection" in text and "gazetteer" in text
    # the same inputs give the same file
    assert out.read_bytes() == (corpus / "build" / "tasks.json").read_bytes()


def test_siblings_exclude_the_article_itself(config: CorpusConfig) -> None:
    training = load_training_set(config)
    model = bundles.load(config, "latest")
    s = Suggester(model, config, training)
    seed = next(g for g in training if g.article_id == SEED)
    sibs = s.siblings_of(seed.article)
    assert sibs and all(g.story == seed.story for g in sibs)
    assert SEED not in {g.article_id for g in sibs}


def test_one_article_at_a_time_equals_batches(config: CorpusConfig) -> None:
    model = bundles.load(config, "latest")
    s = Suggester(model, config, load_training_set(config))
    articles = sorted(
        store.load_articles(config.paths.articles_parquet).values(), key=lambda a: a.article_id
    )
    batched = list(s.predict_many(articles, batch_size=4))
    assert [s.predict(a) for a in articles] == batched


@pytest.mark.labelstudio
def test_push_keeps_the_uncertainty_order_and_the_server_stores_the_suggestions(
    config: CorpusConfig, tasks: list[dict[str, Any]], label_studio: Any
) -> None:
    """`corpus ls push` imports the tasks in file order (so task ids follow the uncertainty
    order), the server stores each prediction with its model version, score and the regions'
    sources (meta), and Data Manager's "Prediction score" ascending is most uncertain first."""
    from urllib.parse import quote

    from corpus_tools import labelstudio

    pushed = labelstudio.push(config=config, url=label_studio.url, api_key=label_studio.api_key)
    label_studio.track_project(pushed["project_id"])
    assert pushed["imported"] == len(tasks)
    pid = pushed["project_id"]
    query = quote(json.dumps({"ordering": ["tasks:predictions_score"]}))
    with label_studio.http() as http:
        page = (
            http.get(f"/api/tasks/?project={pid}&page_size=100&fields=all&query={query}")
            .raise_for_status()
            .json()
        )
        by_score = [t["data"]["article_id"] for t in page["tasks"]]
        stored = http.get(f"/api/predictions/?project={pid}").raise_for_status().json()
        ids = http.get(f"/api/tasks/?project={pid}&page_size=100").raise_for_status().json()
    order = [t["data"]["article_id"] for t in tasks]
    assert [t["data"]["article_id"] for t in sorted(ids["tasks"], key=lambda t: t["id"])] == order
    # ascending prediction score = descending uncertainty (ties: the server breaks them)
    scores = {t["data"]["article_id"]: t["predictions"][0]["score"] for t in tasks}
    assert [scores[a] for a in by_score] == sorted(scores.values())
    assert by_score[0] == order[0] or scores[by_score[0]] == scores[order[0]]
    ours = {t["data"]["article_id"]: t["predictions"][0] for t in tasks}
    task_article = {t["id"]: t["data"]["article_id"] for t in ids["tasks"]}
    assert len(stored) == len(tasks)
    for p in stored:
        mine = ours[task_article[p["task"]]]
        assert p["model_version"] == mine["model_version"]
        assert math.isclose(p["score"], mine["score"])
        assert p["result"] == mine["result"]  # regions, scores and meta kept as sent


ATOMS = [
    "Iran",
    "Tehran",
    "United States",
    "Russia",
    "drones",
    "Financial Times",
    "Jens Stoltenberg",
    "Jens\r\nStoltenberg",
    "The United States has pressed Iran to stop selling armed drones to Russia",
    "😀",
    "𝔸",
    "🇺🇦",
    "e\u0301",
    "Cafe\u0301",
    "\r\n",
    "\n",
    " ",
    ". ",
    "said",
    "on Tuesday",
    "'s",
    "-",
]


def test_every_suggestion_on_adversarial_text_is_exact(config: CorpusConfig) -> None:
    """Property: on any mix of names, emoji, non-BMP letters, CRLF and combining marks, as a
    sibling of the seed story (so projection runs too), every region is the text at its
    offsets, ids are unique, scores and the uncertainty lie in [0, 1], score = 1 - u."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    model = bundles.load(config, "latest")
    training = load_training_set(config)
    story = next(g.story for g in training if g.article_id == SEED)
    suggester = Suggester(model, config, training)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(ATOMS), min_size=1, max_size=25))
    def check(parts: list[str]) -> None:
        text = "".join(parts)
        task = {"id": 1, "data": {"text": text, "story_id": story}}
        s = suggester.predict(article_from_task(task))
        pred = s.prediction
        assert 0.0 <= s.uncertainty <= 1.0
        assert math.isclose(pred["score"], round(1 - s.uncertainty, 4))
        regions = [r for r in pred["result"] if r["from_name"] != CHECKWORTHY_NAME]
        assert len({r["id"] for r in regions}) == len(regions)
        for r in pred["result"]:
            assert 0.0 <= r["score"] <= 1.0
            v = r["value"]
            if "start" in v:
                assert 0 <= v["start"] < v["end"] <= len(text)
                assert text[v["start"] : v["end"]] == v["text"]

    check()


def test_the_closed_claim_gate_suggests_no_model_claims(
    corpus: Path, config: CorpusConfig, tasks: list[dict[str, Any]], summary: dict[str, Any]
) -> None:
    """On the sample the claim detector does not beat "every sentence is a claim" on
    out-of-fold gold: no claim comes from the model (projected claims still do), the
    Suggester and the card say why."""
    bundle = bundles.load(config, "latest")
    assert bundle.claims is not None and bundle.claims.informative is False
    assert bundle.claims.gate["f_beta"] < bundle.claims.gate["every_sentence_f_beta"]
    # the detector would flag sentences at its learned cut: the gate is what stops them
    known = store.load_articles(config.paths.articles_parquet)
    assert any(bundle.claims.predict(a) for a in known.values())
    regions = [
        r for t in tasks for r in t["predictions"][0]["result"] if r["from_name"] == CLAIM_NAME
    ]
    assert regions and all(r["meta"]["text"][0].startswith("projection ") for r in regions)
    notes = Suggester(bundle, config).notes
    assert notes == [bundle.claims.gate["reason"]]
    assert "claim detector not better than every-sentence on out-of-fold gold" in notes[0]
    assert notes[0] in summary["notes"]  # `corpus tasks --suggest` says it too
    readme = (bundle.path / "README.md").read_text(encoding="utf-8")
    assert "Claim suggestions: off (" in readme and "projected claims still come" in readme


FILLER = (
    "The weather was mild in the valley today.",
    "Markets opened slowly after the holiday.",
    "A local team won its third match in a row.",
    "Traffic was light on the coast road.",
    "The museum reopened its west wing.",
    "Rain is expected later in the week.",
)


def _learnable(i: int) -> tuple[Article, tuple[int, int]]:
    """A four-sentence article whose claim sentence carries a distinctive cue."""
    claim = f"Zorblax officials claimed {100 + i} units were moved."
    parts = [FILLER[(i + k) % len(FILLER)] for k in range(3)]
    parts.insert(i % 4, claim)
    text = " ".join(parts)
    start = text.index(claim)
    art = make_article(text, f"a{i:02d}", f"s{i % 4}")
    return art, (start, start + len(claim))


def test_model_claims_are_the_sentences_at_the_learned_threshold_when_the_gate_is_open(
    config: CorpusConfig,
) -> None:
    """Constructed gold where claims are learnable: the gate opens, and the claim model
    suggests every sentence whose P(claim) reaches its learned threshold, and no other."""
    items = []
    for i in range(16):
        art, (a, b) = _learnable(i)
        items.append(
            GoldArticle(
                art, claims=(Claim(a, b, art.text[a:b], config.scheme.checkworthy[0], None),)
            )
        )
    model = ClaimModel.fit(items, config.scheme.checkworthy)
    assert model.informative is True
    bundle = bundles.Bundle(
        path=Path("."),
        version="v-open",
        card={},
        gazetteer=LearnedGazetteer.fit([]),
        ner=None,
        stance=None,
        claims=model,
    )
    suggester = Suggester(bundle, config)
    assert suggester.notes == []
    unseen = [_learnable(i) for i in range(20, 26)]
    for (art, claim), s in zip(unseen, suggester.predict_many([a for a, _ in unseen]), strict=True):
        regions = [r for r in s.prediction["result"] if r["from_name"] == CLAIM_NAME]
        flagged = {(a, b): p for a, b, p in model.sentence_scores(art) if p >= model.threshold}
        assert {(r["value"]["start"], r["value"]["end"]) for r in regions} == set(flagged)
        assert claim in flagged and len(flagged) < len(art.sentences)
        for r in regions:
            assert r["meta"]["text"][0].startswith("model ")
            assert r["score"] == round(flagged[(r["value"]["start"], r["value"]["end"])], 4)
