"""Everything written for Label Studio is in the corpus's own control names (issue 12.2).

An adopted corpus names its controls in `[scheme.names]`: entities and claims in one `ner`
<Labels> (the claim label "Claim" beside the entity labels), check-worthiness `verifiable`,
the free-text claimant `source`, one `stance` <Choices> for every target with the target in
the task data's `target`, and the text shown by <Text name="content" value="$content">.
Tasks, suggestions, the dispute queue, the ML backend's answers and the uptake reader must use
those names. Each output is compared with the default corpus's output for the same inputs,
translated name by name by `to_adopted` below (an independent statement of the mapping), and
checked against the labeling config `labeling_config.render` makes for the adopted corpus.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import copy_gold

from corpus_tools import labeling_config, serve, store
from corpus_tools import tasks as taskslib
from corpus_tools.adjudicate import adjudicate, dispute_tasks
from corpus_tools.config import ControlNames, CorpusConfig, load_config
from corpus_tools.errors import UsageError
from corpus_tools.exports import iter_annotations
from corpus_tools.labelstudio_server import free_port
from corpus_tools.models import uptake as up
from corpus_tools.preannotate import RulePreannotator

EPOCHS = 2
ADOPTED_NAMES = """
[scheme.names]
entities = "ner"
claims = "ner"
claim_label = "Claim"
checkworthy = "verifiable"
claimant_text = "source"
text = "content"
text_field = "content"
"""
ONE_STANCE_CONTROL = """stance = "stance"
stance_target_field = "target"
"""
# the default control names -> the adopted ones (a stance control `stance_<id>` -> "stance")
RENAMED = {
    "entities": "ner",
    "claim": "ner",
    "checkworthy": "verifiable",
    "claimant_text": "source",
    "text": "content",
}
ODD_TEXT = (
    "😀 Breaking 𝔸:\r\nNATO spokesman Jens Stoltenberg said Iran sent drones to Russia.\r\n"
    "Cafe\u0301 owners in Tehran and Kyiv said nothing; the United States declined to comment."
)


@dataclass
class Corpora:
    root: Path
    default: CorpusConfig
    adopted: CorpusConfig  # one stance control, the target in the task data
    per_target: CorpusConfig  # the adopted names, but one stance control per target
    version: str  # a bundle trained on the sample gold


@pytest.fixture(scope="module")
def corpora(sample_gold: Path, tmp_path_factory: pytest.TempPathFactory) -> Corpora:
    """The sample corpus (ingested, adjudicated, a 2-epoch bundle) under three corpus.toml
    files sharing its folders: the default names, the adopted ones, and the adopted names
    with a stance control per target."""
    from corpus_tools.models import bundle

    root = copy_gold(sample_gold, tmp_path_factory.mktemp("names") / "corpus")
    toml = (root / "corpus.toml").read_text(encoding="utf-8")
    (root / "adopted.toml").write_text(toml + ADOPTED_NAMES + ONE_STANCE_CONTROL, "utf-8")
    (root / "per-target.toml").write_text(toml + ADOPTED_NAMES, "utf-8")
    default = load_config(root / "corpus.toml")
    adopted = load_config(root / "adopted.toml")
    per_target = load_config(root / "per-target.toml")
    assert adopted.scheme.digest() == default.scheme.digest()  # names are not the scheme
    b = bundle.train(default, epochs=EPOCHS)
    return Corpora(root, default, adopted, per_target, b.version)


def to_adopted(
    region: dict[str, Any], *, target: str | None = None, one_control: bool = True
) -> dict[str, Any] | None:
    """A region in the default names as the adopted corpus writes it; None for a stance
    answer on another target than `target` (one stance control asks one target a task)."""
    out = dict(region)
    if "from_name" not in region:  # a relation: no control names in it
        return out
    name = region["from_name"]
    if name.startswith("stance_"):
        if one_control:
            if name != f"stance_{target}":
                return None
            out["from_name"] = "stance"
    else:
        out["from_name"] = RENAMED[name]
    out["to_name"] = RENAMED[region["to_name"]]
    return out


def translate(
    result: list[dict[str, Any]], *, target: str | None = None, one_control: bool = True
) -> list[dict[str, Any]]:
    out = [to_adopted(r, target=target, one_control=one_control) for r in result]
    return [r for r in out if r is not None]


def assert_fits(result: list[dict[str, Any]], xml: str, text: str) -> None:
    """Every region names a control of the labeling config `xml` of its type, labels the
    config's <Text>, answers with the control's values, and indexes `text` exactly."""
    parsed = labeling_config.parse(xml)
    kinds = {"labels": "Labels", "choices": "Choices", "textarea": "TextArea"}
    for r in result:
        if r["type"] == "relation":
            assert parsed.control("<Relations>") is None  # nameless: found by tag below
            assert any(c.tag == "Relations" for c in parsed.controls)
            assert set(r["labels"]) <= {
                v.value for c in parsed.controls if c.tag == "Relations" for v in c.values
            }
            continue
        control = parsed.control(r["from_name"])
        assert control is not None, f"{r['from_name']!r} is not a control of the config"
        assert control.tag == kinds[r["type"]], r
        assert r["to_name"] in control.to_name, r
        values = r["value"].get("labels") or r["value"].get("choices") or []
        assert set(values) <= set(control.value_names), r
        if "start" in r["value"] and r["type"] != "textarea":  # a textarea's text: its answer
            assert text[r["value"]["start"] : r["value"]["end"]] == r["value"]["text"], r


def validate_suggested(config: CorpusConfig, tasks: list[dict[str, Any]], folder: Path) -> Any:
    """`corpus validate` on `tasks` whose every prediction an annotator accepted as it is (the
    predictions' results as annotations: the validator reads annotations only)."""
    from corpus_tools.validate import validate

    folder.mkdir()
    for i, task in enumerate(tasks, 1):
        annotations = [
            {"id": 100 * i + j, "completed_by": f"annotator-{j}", "result": p["result"]}
            for j, p in enumerate(task.get("predictions") or [])
        ]
        accepted = {"id": i, "data": task["data"], "annotations": annotations}
        (folder / f"task-{i}.json").write_text(json.dumps(accepted), "utf-8")
    report = validate(config=config, paths=[folder])
    assert report.stats.get("tasks") == len(tasks)
    unknown = [f for f in report.findings if f.slug == "unknown-control"]
    assert not unknown, unknown[:3]
    return report


def slugs(report: Any) -> dict[str, int]:
    return dict(Counter(f.slug for f in report.findings))


# What accepting suggestions as they are may leave for the validator: one annotator per task
# (the coverage gate), a task made elsewhere (no text_sha256), a claim with no suggested
# check-worthiness. Nothing about names, labels or offsets.
EXPECTED = {"low-coverage", "text-not-tied", "claim-without-checkworthy"}


def only_expected(report: Any) -> bool:
    other = [f for f in report.findings if f.slug not in EXPECTED]
    assert not other, other[:3]
    return True


# ---------------------------------------------------------------------------------------------
# corpus tasks


def test_tasks_refuse_one_stance_control(corpora: Corpora, cli: Any) -> None:
    for kwargs in ({}, {"preannotate": False}, {"suggest": corpora.version}):
        with pytest.raises(UsageError, match="one control \\('stance'\\)") as err:
            taskslib.make_tasks(config=corpora.adopted, out=corpora.root / "t.json", **kwargs)
        assert "'target'" in err.value.message
        assert err.value.hint and "export" in err.value.hint
    assert not (corpora.root / "t.json").exists()
    r = cli("tasks", "-c", str(corpora.root / "adopted.toml"), "--out", "t.json", cwd=corpora.root)
    assert r.exit_code == 2, r.output
    assert "cannot know which target" in " ".join(r.output.split())


def test_tasks_in_adopted_names(corpora: Corpora, tmp_path: Path) -> None:
    """Per-target stance controls: `corpus tasks` writes the text under data.content and the
    rule pre-annotations from `ner` to `content`; otherwise the default corpus's tasks."""
    default = taskslib.make_tasks(config=corpora.default, out=corpora.root / "default.json")
    adopted = taskslib.make_tasks(config=corpora.per_target, out=corpora.root / "adopted.json")
    assert adopted["tasks"] == default["tasks"] > 0
    assert adopted["by_label"] == default["by_label"] and adopted["predicted_spans"] > 0
    dtasks = json.loads((corpora.root / "default.json").read_text("utf-8"))
    atasks = json.loads((corpora.root / "adopted.json").read_text("utf-8"))
    xml = labeling_config.render(corpora.per_target)
    for d, a in zip(dtasks, atasks, strict=True):
        assert "text" not in a["data"]
        assert set(a["data"]) == {("content" if k == "text" else k) for k in d["data"]}
        assert a["data"]["content"] == d["data"]["text"]
        assert [p["model_version"] for p in a["predictions"]] == [
            p["model_version"] for p in d["predictions"]
        ]
        for dp, ap in zip(d["predictions"], a["predictions"], strict=True):
            assert ap["result"] == translate(dp["result"], one_control=False)
            assert_fits(ap["result"], xml, a["data"]["content"])
            assert {r["from_name"] for r in ap["result"]} <= {"ner"}
    # the validator finds the same in both (the gates' findings: one annotator per task)
    mine = validate_suggested(corpora.per_target, atasks, tmp_path / "adopted")
    ours = validate_suggested(corpora.default, dtasks, tmp_path / "default")
    assert slugs(mine) == slugs(ours)


# ---------------------------------------------------------------------------------------------
# suggestions


def test_suggestions_in_adopted_names(corpora: Corpora, tmp_path: Path) -> None:
    """One stance control: a task gets the stance on the target its data names, nothing else
    of the stance layer; every other region is the default corpus's, renamed."""
    from corpus_tools.models import bundle
    from corpus_tools.models.data import load_training_set
    from corpus_tools.models.suggest import Suggester, article_from_task

    b = bundle.load(corpora.default, corpora.version)
    siblings = load_training_set(corpora.default)
    arts = store.load_articles(corpora.default.paths.articles_parquet)
    chosen = [arts[a] for a in sorted(arts)[:6]]
    default = list(Suggester(b, corpora.default, siblings).predict_many(chosen))
    suggester = Suggester(b, corpora.adopted, siblings)
    scheme = corpora.adopted.scheme
    # the task data an adopted project has: its text under `content`, a target by name
    targets = [scheme.stance_targets[i % len(scheme.stance_targets)] for i in range(len(chosen))]
    task_list: list[dict[str, Any]] = [
        {"id": i, "data": {"content": a.text, "target": t.name, "article_id": a.article_id}}
        for i, (a, t) in enumerate(zip(chosen, targets, strict=True))
    ]
    read = [article_from_task(t, known=arts, names=scheme.names) for t in task_list]
    assert read == chosen
    asked = [scheme.task_targets(t["data"]) for t in task_list]
    assert asked == [(t.id,) for t in targets]
    adopted = list(suggester.predict_many(read, targets=asked))
    xml = labeling_config.render(corpora.adopted)
    stances = 0
    for d, a, t, art in zip(default, adopted, targets, chosen, strict=True):
        result = a.prediction["result"]
        assert result == translate(d.prediction["result"], target=t.id)
        assert_fits(result, xml, art.text)
        stance = [r for r in result if r["from_name"] == "stance"]
        stances += len(stance)
        assert stance == [
            {**r, "from_name": "stance", "to_name": "content"}
            for r in d.prediction["result"]
            if r["from_name"] == f"stance_{t.id}"
        ]
    assert stances == len(chosen)  # the bundle has a stance model: one answer per task
    suggested = [
        {**t, "predictions": [s.prediction]} for t, s in zip(task_list, adopted, strict=True)
    ]
    assert only_expected(validate_suggested(corpora.adopted, suggested, tmp_path / "suggested"))
    # without a target in its data, a task is asked no stance: none is suggested
    (bare,) = suggester.predict_many(read[:1])
    assert not [r for r in bare.prediction["result"] if r["type"] == "choices"]


# ---------------------------------------------------------------------------------------------
# the dispute queue


def test_dispute_queue_in_adopted_names(corpora: Corpora, tmp_path: Path) -> None:
    """The sample's real disputes as queue tasks: each annotator's version in the adopted
    names (claims in `ner`, their check-worthiness in `verifiable`, free-text claimants in
    `source`), one task per article naming its target, with that target's stance only."""
    cfg = corpora.default
    annotations = list(iter_annotations([cfg.paths.annotations], cfg.scheme))
    arts = store.load_articles(cfg.paths.articles_parquet)
    result = adjudicate(config=cfg, annotations=annotations, articles=arts)
    assert {d.layer for d in result.disputes} >= {"entities", "stance"}
    kw: dict[str, Any] = {"disputes": result.disputes, "annotations": annotations, "articles": arts}
    default = dispute_tasks(config=cfg, **kw)
    adopted = dispute_tasks(config=corpora.adopted, **kw)
    names = {t.id: t.name for t in cfg.scheme.stance_targets}
    xml = labeling_config.render(corpora.adopted)
    seen: set[str] = set()
    assert len(adopted) == len(default) > 0
    for d, a in zip(default, adopted, strict=True):
        data = dict(d["data"])
        text = data.pop("text")
        disputed = sorted(
            x.target for x in result.disputes if x.article_id == data["article_id"] and x.target
        )
        answered = sorted(
            {
                s.target
                for ann in annotations
                if ann.article_id == data["article_id"]
                for s in ann.stances
            }
        )
        target = (disputed or answered)[0]
        assert a["data"] == {**data, "content": text, "target": names[target]}
        assert scheme_target(corpora.adopted, a["data"]) == (target,)
        for dp, ap in zip(d["predictions"], a["predictions"], strict=True):
            assert ap["model_version"] == dp["model_version"]
            assert ap["result"] == translate(dp["result"], target=target)
            assert_fits(ap["result"], xml, text)
            seen.update(r.get("from_name", "(relation)") for r in ap["result"])
    assert seen >= {"ner", "stance"}
    assert not seen & {"entities", "claim", "checkworthy", "claimant_text", "text"}
    report = validate_suggested(corpora.adopted, adopted, tmp_path / "adopted")
    assert only_expected(report)


def scheme_target(config: CorpusConfig, data: dict[str, Any]) -> tuple[str, ...]:
    return config.scheme.task_targets(data)


def test_dispute_queue_one_task_per_article_with_one_stance_control(corpora: Corpora) -> None:
    """An article asked in two tasks (targets Iran and Russia), both disputed: one queue task
    (adjudication keeps one decision per article) naming the first disputed target; each
    annotator's version carries their spans and their answer on that target only."""
    from conftest import make_article

    from corpus_tools.model import Annotation, AnnotationSource, EntitySpan, StanceJudgement

    text = ODD_TEXT
    article = make_article(text, "a1")
    i = text.index("Iran")
    iran = EntitySpan(i, i + 4, "GPE", "Iran")

    def ann(who: str, task_id: int, target: str, label: str, n: int) -> Annotation:
        return Annotation(
            article_id="a1",
            annotator=who,
            source=AnnotationSource(task_id, n, f"2026-01-0{n}T00:00:00Z"),
            entities=(iran,),
            stances=(StanceJudgement(target, label),),
            text_sha256=article.text_sha256,
        )

    # the Russia task was annotated last: the answers on Iran come from the earlier task
    anns = [
        ann("x", 1, "iran", "favor", 1),
        ann("y", 1, "iran", "against", 2),
        ann("x", 2, "russia", "favor", 3),
        ann("y", 2, "russia", "against", 4),
    ]
    cfg = corpora.adopted
    result = adjudicate(config=cfg, annotations=anns, articles={"a1": article})
    assert sorted(d.target for d in result.disputes if d.layer == "stance") == ["iran", "russia"]
    (t,) = dispute_tasks(
        config=cfg, disputes=result.disputes, annotations=anns, articles={"a1": article}
    )
    assert t["data"]["target"] == "Iran" and t["data"]["content"] == text
    assert "stance on iran" in t["data"]["disputes"] and "stance on russia" in t["data"]["disputes"]
    xml = labeling_config.render(cfg)
    versions = {p["model_version"]: p["result"] for p in t["predictions"]}
    assert sorted(versions) == ["x", "y"]
    for who, label in (("x", "favor"), ("y", "against")):
        assert_fits(versions[who], xml, text)
        stance = [r for r in versions[who] if r["from_name"] == "stance"]
        assert [r["value"]["choices"] for r in stance] == [[label]]
        assert [r["value"]["start"] for r in versions[who] if r["from_name"] == "ner"] == [i]


# ---------------------------------------------------------------------------------------------
# the ML backend


def test_backend_answers_in_adopted_names(corpora: Corpora, tmp_path: Path) -> None:
    backend = serve.open_backend(corpora.adopted, model=corpora.version, retrain=False)
    xml = labeling_config.render(corpora.adopted)
    assert serve.label_config_problems(xml, corpora.adopted) == []
    assert backend.setup({"schema": xml}) == {"model_version": corpora.version}
    # the default corpus's config has none of the adopted names
    problems = serve.label_config_problems(labeling_config.render(corpora.default), corpora.adopted)
    assert 'no <Text name="content">' in problems
    assert 'no <Labels name="ner">' in problems and 'no <Choices name="stance">' in problems
    with pytest.raises(serve.RequestError, match='no <Labels name="ner">'):
        backend.setup({"schema": labeling_config.render(corpora.default)})
    # and the adopted config against the default corpus: the reverse
    assert 'no <Labels name="entities">' in serve.label_config_problems(xml, corpora.default)
    # a <Text> showing another data key than the tasks' text
    moved = xml.replace('value="$content"', 'value="$body"')
    assert serve.label_config_problems(moved, corpora.adopted) == [
        '<Text name="content"> shows \'$body\', not "$content" ([scheme.names] text_field)'
    ]

    tasks = [
        {"id": 1, "data": {"content": ODD_TEXT, "target": "Iran"}},
        {"id": 2, "data": {"content": ODD_TEXT, "target": "russia"}},
        {"id": 3, "data": {"content": ODD_TEXT, "target": "Atlantis"}},
    ]
    answer = backend.predict({"tasks": tasks})
    preds = answer["results"]
    for pred in preds:
        assert_fits(pred["result"], xml, ODD_TEXT)
        assert {r["to_name"] for r in pred["result"]} == {"content"}
    stance = [[r for r in p["result"] if r["from_name"] == "stance"] for p in preds]
    assert [[r["id"] for r in s] for s in stance] == [["s-iran"], ["s-russia"], []]
    # what the bundle answers for the default corpus on the same text, renamed
    plain = serve.open_backend(corpora.default, model=corpora.version, retrain=False)
    (own,) = plain.predict({"tasks": [{"id": 1, "data": {"text": ODD_TEXT}}]})["results"]
    assert preds[0]["result"] == translate(own["result"], target="iran")
    assert preds[2]["result"] == translate(own["result"], target=None)
    answered = [{**t, "predictions": [p]} for t, p in zip(tasks[:2], preds[:2], strict=True)]
    assert only_expected(validate_suggested(corpora.adopted, answered, tmp_path / "served"))
    # a task without data.content: a 400 naming the key
    with pytest.raises(serve.RequestError, match=r"no data\.content"):
        backend.predict({"tasks": [{"id": 9, "data": {"text": ODD_TEXT}}]})


@pytest.mark.parametrize(
    "xml_file",
    [
        "label-configs/issue.xml",
        "label-configs/own-claim.xml",
        "label-configs/unprefixed.xml",
        "adopt/label-config.xml",
    ],
)
def test_backend_accepts_the_adopted_projects_own_config(
    xml_file: str, cli: Any, tmp_path: Path
) -> None:
    """`corpus serve` of a corpus adopted from a project's labeling config accepts that very
    config (the project's /setup), not only the config the corpus generates."""
    source = Path(__file__).parent / "data" / xml_file
    r = cli("init", str(tmp_path / "c"), "--from-label-config", str(source), cwd=tmp_path)
    assert r.exit_code == 0, r.output
    config = load_config(tmp_path / "c" / "corpus.toml")
    assert config.scheme.names != ControlNames()
    xml = source.read_text("utf-8")
    assert serve.label_config_problems(xml, config) == []
    assert serve.label_config_problems(labeling_config.render(config), config) == []
    # and the default corpus's backend refuses it, naming what it lacks
    default = load_config(Path(__file__).parent.parent / "corpus.toml")
    assert serve.label_config_problems(xml, default)


def test_rule_backend_and_webhook_gold_in_adopted_names(corpora: Corpora) -> None:
    gazetteer = {"ORG": ["NATO"], "PER": ["Jens Stoltenberg"], "GPE": ["Iran", "Tehran"]}
    rules = RulePreannotator(gazetteer, dates=False, model_version="rules-v1")
    backend = serve.Backend(
        serve.PreannotatorPredictor(rules, corpora.adopted), config=corpora.adopted
    )
    (pred,) = backend.predict({"tasks": [{"id": 1, "data": {"content": ODD_TEXT}}]})["results"]
    assert {(r["from_name"], r["to_name"]) for r in pred["result"]} == {("ner", "content")}
    found = {(r["value"]["text"], r["value"]["start"]) for r in pred["result"]}
    assert ("Iran", ODD_TEXT.index("Iran")) in found and ("NATO", ODD_TEXT.index("NATO")) in found
    # an annotation in the adopted names becomes gold: the task's one target asked
    i = ODD_TEXT.index("Iran")
    c0 = ODD_TEXT.index("NATO spokesman")
    c1 = ODD_TEXT.index("Russia.") + len("Russia.")
    result = [
        {
            "id": "n1",
            "from_name": "ner",
            "to_name": "content",
            "type": "labels",
            "value": {"start": i, "end": i + 4, "text": "Iran", "labels": ["GPE"]},
        },
        {
            "id": "c1",
            "from_name": "ner",
            "to_name": "content",
            "type": "labels",
            "value": {"start": c0, "end": c1, "text": ODD_TEXT[c0:c1], "labels": ["Claim"]},
        },
        {
            "from_name": "stance",
            "to_name": "content",
            "type": "choices",
            "value": {"choices": ["against"]},
        },
    ]
    task: dict[str, Any] = {"id": 5, "data": {"content": ODD_TEXT, "target": "Iran"}}
    try:
        gold = serve.gold_from_annotation({"id": 1, "result": result}, task, corpora.adopted)
    except serve.RequestError as exc:  # exports.parse_annotation not yet name-aware (H2)
        pytest.fail(f"the annotation in the adopted names was refused: {exc.message}")
    assert gold is not None
    assert gold.article.text == ODD_TEXT and gold.article_id == "task-5"
    assert [(e.start, e.label) for e in gold.entities] == [(i, "GPE")]
    assert [(c.start, c.end) for c in gold.claims] == [(c0, c1)]
    assert [(s.target, s.label) for s in gold.stances] == [("iran", "against")]
    assert gold.missing_stances == ()  # the task asked about Iran only
    unanswered = {**task, "data": {**task["data"], "target": "russia"}}
    partial = serve.gold_from_annotation(
        {"id": 2, "result": result[:2]}, unanswered, corpora.adopted
    )
    assert partial is not None and partial.missing_stances == ("russia",)


def test_retraining_keeps_an_articles_answers_across_its_target_tasks(corpora: Corpora) -> None:
    """One stance control: an article annotated in its Iran task, then in its Russia task,
    trains on both answers (the newer annotation's spans), not on the last task alone."""
    rules = RulePreannotator({"GPE": ["Iran"]}, dates=False, model_version="rules-v1")
    predictor = serve.PreannotatorPredictor(rules, corpora.adopted)
    seen: list[Any] = []

    def retrain(extra: Any) -> Any:
        seen.append(tuple(extra))
        return predictor

    backend = serve.Backend(predictor, config=corpora.adopted, retrain=retrain)
    i = ODD_TEXT.index("Iran")
    n = ODD_TEXT.index("NATO")

    def event(task_id: int, target: str, label: str, span: tuple[int, str]) -> dict[str, Any]:
        start, ent = span
        end = start + len(ent)
        result = [
            {
                "id": f"r{task_id}",
                "from_name": "ner",
                "to_name": "content",
                "type": "labels",
                "value": {"start": start, "end": end, "text": ent, "labels": ["GPE"]},
            },
            {
                "from_name": "stance",
                "to_name": "content",
                "type": "choices",
                "value": {"choices": [label]},
            },
        ]
        data = {"content": ODD_TEXT, "article_id": "odd", "target": target}
        return {
            "action": "ANNOTATION_CREATED",
            "annotation": {"id": 100 + task_id, "result": result},
            "task": {"id": task_id, "data": data},
        }

    assert backend.webhook(event(1, "Iran", "against", (i, "Iran")))["changed"] == 1
    assert backend.wait_idle(60)
    assert backend.webhook(event(2, "Russia", "favor", (n, "NATO")))["changed"] == 1
    assert backend.wait_idle(60)
    (gold,) = seen[-1]
    assert gold.article_id == "odd"
    assert [(s.target, s.label) for s in gold.stances] == [("iran", "against"), ("russia", "favor")]
    assert [(e.start, e.text) for e in gold.entities] == [(n, "NATO")]
    assert gold.missing_stances == ()
    # the same annotation again changes nothing
    assert backend.webhook(event(2, "Russia", "favor", (n, "NATO")))["changed"] == 0


# ---------------------------------------------------------------------------------------------
# uptake


def _adopted_task() -> tuple[dict[str, Any], dict[str, Any]]:
    """One task with a prediction and an annotation in the adopted names (target Iran), and
    the same task in the default names (the stance answer on `stance_iran`)."""
    text = ODD_TEXT
    i, n = text.index("Iran"), text.index("NATO")
    c0 = text.index("NATO spokesman")
    c1 = text.index("Russia.") + len("Russia.")

    def ent(rid: str, start: int, end: int, label: str) -> dict[str, Any]:
        value = {"start": start, "end": end, "text": text[start:end], "labels": [label]}
        return {
            "id": rid,
            "from_name": "entities",
            "to_name": "text",
            "type": "labels",
            "origin": "prediction",
            "value": value,
        }

    def claim(rid: str, cw: str | None) -> list[dict[str, Any]]:
        where = {"start": c0, "end": c1, "text": text[c0:c1]}
        out = [
            {
                "id": rid,
                "from_name": "claim",
                "to_name": "text",
                "type": "labels",
                "origin": "prediction",
                "value": {**where, "labels": ["Claim"]},
            }
        ]
        if cw:
            out.append(
                {
                    "id": rid,
                    "from_name": "checkworthy",
                    "to_name": "text",
                    "type": "choices",
                    "value": {**where, "choices": [cw]},
                }
            )
        return out

    def stance(label: str) -> dict[str, Any]:
        return {
            "from_name": "stance_iran",
            "to_name": "text",
            "type": "choices",
            "origin": "prediction",
            "value": {"choices": [label]},
        }

    predicted = [ent("e1", i, i + 4, "GPE"), ent("e2", n, n + 4, "PER"), *claim("c1", None)]
    predicted.append(stance("favor"))
    annotated = [ent("e1", i, i + 4, "GPE"), ent("e2", n, n + 4, "ORG"), *claim("c1", "yes")]
    annotated.append(stance("against"))
    default = {
        "id": 3,
        "data": {"article_id": "odd", "text": text},
        "predictions": [{"id": 11, "model_version": "m1", "score": 0.5, "result": predicted}],
        "annotations": [
            {"id": 21, "completed_by": 1, "parent_prediction": 11, "result": annotated}
        ],
    }
    adopted = json.loads(json.dumps(default))
    adopted["data"] = {"article_id": "odd", "content": text, "target": "Iran"}
    adopted["predictions"][0]["result"] = translate(predicted, target="iran")
    adopted["annotations"][0]["result"] = translate(annotated, target="iran")
    return adopted, default


def test_uptake_reads_adopted_names(corpora: Corpora) -> None:
    from conftest import make_article

    from corpus_tools.model import Claim, EntitySpan, StanceJudgement
    from corpus_tools.models.data import GoldArticle

    adopted, default = _adopted_task()
    (d,), dcounts = up.classify_task(default, scheme=corpora.default.scheme)
    (a,), acounts = up.classify_task(adopted, scheme=corpora.adopted.scheme)
    assert acounts == dcounts == {"parent": 1}
    outcomes = [(m.outcome, m.region.layer, m.edit, m.region.label) for m in a.matches]
    assert outcomes == [(m.outcome, m.region.layer, m.edit, m.region.label) for m in d.matches]
    # claims in the entity control are claims, not entities; the stance is on Iran
    assert sorted(outcomes) == sorted(
        [
            ("accepted", "entities", None, "GPE"),
            ("edited", "entities", "label", "PER"),
            ("edited", "claims", "label", "Claim"),
            ("edited", "stance", "label", "favor"),
        ]
    )
    stance = next(m for m in a.matches if m.region.layer == "stance")
    assert stance.predicted is not None and stance.predicted.target == "iran"
    # read in the default names, the adopted task has no unit at all
    assert up.classify_task(adopted)[0][0].matches == ()
    # anchoring: gold on the same text judges the adopted units like the default ones
    text = adopted["data"]["content"]
    i, n = text.index("Iran"), text.index("NATO")
    c0, c1 = text.index("NATO spokesman"), text.index("Russia.") + len("Russia.")
    gold = GoldArticle(
        article=make_article(text, "odd"),
        entities=(EntitySpan(i, i + 4, "GPE", "Iran"), EntitySpan(n, n + 4, "ORG", "NATO")),
        stances=(StanceJudgement("iran", "favor"),),
        claims=(Claim(c0, c1, text[c0:c1], "yes", None),),
    )
    views = up.gold_views([gold], corpora.adopted.scheme)
    (a,), _ = up.classify_task(adopted, gold=views, scheme=corpora.adopted.scheme)
    (d,), _ = up.classify_task(default, gold=up.gold_views([gold]), scheme=corpora.default.scheme)
    assert a.verdicts == d.verdicts
    verdicts = {
        (m.region.layer, m.region.label): v for m, v in zip(a.matches, a.verdicts, strict=True)
    }
    assert verdicts == {
        ("entities", "GPE"): "right",
        ("entities", "PER"): "wrong",
        ("claims", "Claim"): "right",
        ("stance", "favor"): "right",
    }


def test_uptake_measure_in_adopted_names(corpora: Corpora, tmp_path: Path, cli: Any) -> None:
    adopted, default = _adopted_task()
    for name, task in (("adopted", adopted), ("default", default)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "task-3.json").write_text(json.dumps(task), "utf-8")
    a = up.measure(config=corpora.adopted, paths=[tmp_path / "adopted"], use_gold=False)
    d = up.measure(config=corpora.default, paths=[tmp_path / "default"], use_gold=False)
    assert a["by_layer"] == d["by_layer"]
    assert [x["predicted"] for x in a["by_layer"]] == [2, 1, 1]
    r = cli(
        "model",
        "uptake",
        str(tmp_path / "adopted"),
        "--no-gold",
        "--json",
        "-c",
        str(corpora.root / "adopted.toml"),
        cwd=corpora.root,
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["by_layer"] == a["by_layer"]


# ---------------------------------------------------------------------------------------------
# the real Label Studio server


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def corpus_serve(config_path: Path, version: str, log_path: Path) -> Iterator[str]:
    port = free_port()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from corpus_tools.cli import main; main()",
                "serve",
                "-c",
                str(config_path),
                "--model",
                version,
                "--port",
                str(port),
                "--no-retrain",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        def up_() -> bool:
            assert proc.poll() is None, log_path.read_text()
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            return False

        wait_for(up_, 120, "corpus serve to answer /health")
        yield url
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.labelstudio
def test_label_studio_stores_predictions_in_adopted_names(
    corpora: Corpora, label_studio: Any, tmp_path: Path
) -> None:
    """A project with the adopted labeling config, `corpus serve` of the adopted corpus
    connected: the server accepts the backend (its /setup check passes) and stores
    predictions in the adopted names, equal to what the bundle suggests here."""
    from corpus_tools.models import bundle
    from corpus_tools.models.data import load_training_set
    from corpus_tools.models.suggest import Suggester, article_from_task

    cfg = corpora.adopted
    arts = store.load_articles(cfg.paths.articles_parquet)
    chosen = sorted(arts)[:3]
    targets = ["Iran", "russia", "United States"]
    xml = labeling_config.render(cfg)
    with corpus_serve(corpora.root / "adopted.toml", corpora.version, tmp_path / "s.log") as url:
        pid = label_studio.new_project(label_config=xml)
        with label_studio.http() as ls:
            imported = ls.post(
                f"/api/projects/{pid}/import",
                params={"return_task_ids": "true"},
                json=[
                    {"data": {"content": arts[a].text, "target": t, "title": a}}
                    for a, t in zip(chosen, targets, strict=True)
                ],
            )
            assert imported.status_code == 201, imported.text
            task_ids = imported.json()["task_ids"]
            ml = ls.post("/api/ml/", json={"url": url, "project": pid})
            assert ml.status_code == 201, ml.text
            assert ml.json()["readable_state"] == "Connected"
            action = ls.post(
                "/api/dm/actions",
                params={"id": "retrieve_tasks_predictions", "project": pid},
                json={"selectedItems": {"all": True, "excluded": []}},
            )
            assert action.status_code == 200, action.text
            stored = []
            for tid in task_ids:
                stored += ls.get("/api/predictions/", params={"task": tid}).json()
            assert sorted(p["task"] for p in stored) == sorted(task_ids)
            suggester = Suggester(bundle.load(cfg, corpora.version), cfg, load_training_set(cfg))
            stance_answers = 0
            for p in stored:
                task = ls.get(f"/api/tasks/{p['task']}/").json()
                assert p["model_version"] == corpora.version
                article = article_from_task(task, known=arts, names=cfg.scheme.names)
                asked = cfg.scheme.task_targets(task["data"])
                assert len(asked) == 1
                own = suggester.predict(article, targets=asked).prediction
                assert p["result"] == own["result"]
                assert_fits(p["result"], xml, task["data"]["content"])
                names = {r["from_name"] for r in p["result"]}
                assert names <= {"ner", "verifiable", "stance"} and "ner" in names
                stance = [r for r in p["result"] if r["from_name"] == "stance"]
                assert [r["id"] for r in stance] == [f"s-{asked[0]}"]
                stance_answers += len(stance)
            assert stance_answers == len(task_ids)
