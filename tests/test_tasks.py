"""`corpus tasks` and the pre-annotators: exact offsets on adversarial text, plug-ins, CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_labelstudio import CRLF_TEXT, EMOJI_TEXT, make_corpus

from corpus_tools import store
from corpus_tools import tasks as lib
from corpus_tools.config import load_config
from corpus_tools.model import Article, EntitySpan
from corpus_tools.models.data import GoldArticle
from corpus_tools.preannotate import RulePreannotator

GAZ = {
    "PER": ["Jens Stoltenberg", "Putin"],
    "ORG": ["NATO", "Financial Times"],
    "GPE": ["US", "Iran", "Russia"],
}


def article(text: str, aid: str = "a1") -> Article:
    return Article(aid, "x", None, None, None, None, "en", text, store.sha256_text(text))


def test_spans_after_emoji_and_across_crlf_are_exact() -> None:
    pre = RulePreannotator(GAZ)
    spans = pre.predict(article(EMOJI_TEXT))
    texts = [(s.text, s.label) for s in spans]
    assert ("NATO", "ORG") in texts and ("last week", "DATE") in texts
    nato = next(s for s in spans if s.text == "NATO")
    assert (nato.start, nato.end) == (14, 18)  # code points, after 😀 and 𝔸
    crlf = pre.predict(article(CRLF_TEXT))
    jens = next(s for s in crlf if s.label == "PER")
    assert jens.text == "Jens\r\nStoltenberg" == CRLF_TEXT[jens.start : jens.end]


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("Talks since April stalled.", ["April"]),
        ("On December 13, 2024 and 2024-12-13.", ["December 13, 2024", "2024-12-13"]),
        ("May I say it was last week", ["last week"]),
        ("It happened in 13 March 2022 here", ["13 March 2022"]),
    ],
)
def test_date_patterns(text: str, dates: list[str]) -> None:
    spans = RulePreannotator({}).predict(article(text))
    assert [s.text for s in spans if s.label == "DATE"] == dates


def test_case_and_word_boundaries() -> None:
    spans = RulePreannotator(GAZ).predict(article("us and US-led, USA, Iranian, Iran's"))
    assert [(s.text, s.start) for s in spans] == [("US", 7), ("Iran", 29)]


ATOMS = st.sampled_from(
    [
        "NATO",
        "Jens Stoltenberg",
        "Jens\r\nStoltenberg",
        "Iran",
        "Russia",
        "US",
        "😀",
        "𝔸",
        "🇺🇦",
        "e\u0301",
        "Cafe\u0301",
        "\r\n",
        "\n",
        " ",
        "  ",
        "said",
        "last week",
        "since April",
        "Financial\tTimes",
        "-",
        "'s",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ATOMS, max_size=30))
def test_predicted_spans_always_match_the_text(parts: list[str]) -> None:
    text = "".join(parts)
    spans = RulePreannotator(GAZ).predict(article(text))
    last_end = 0
    for s in spans:
        assert 0 <= s.start < s.end <= len(text)
        assert text[s.start : s.end] == s.text
        assert s.start >= last_end  # sorted, no overlaps
        last_end = s.end
    task = lib.build_task(article(text), [RulePreannotator(GAZ)])
    assert task["data"]["text"] == text
    for r in task["predictions"][0]["result"]:
        v = r["value"]
        assert text[v["start"] : v["end"]] == v["text"]
    ids = [r["id"] for r in task["predictions"][0]["result"]]
    assert len(ids) == len(set(ids))


def test_cli_writes_deterministic_tasks_and_json_equals_library(
    tmp_path: Path, cli: CliRun
) -> None:
    corpus = make_corpus(tmp_path / "c", {"b-crlf": CRLF_TEXT, "a-emoji": EMOJI_TEXT})
    res = cli("tasks", "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    first = (corpus / "build/tasks.json").read_bytes()
    again = lib.make_tasks(config=load_config(corpus / "corpus.toml"))
    assert json.loads(res.stdout) == again
    assert (corpus / "build/tasks.json").read_bytes() == first
    tasks = json.loads(first)
    assert [t["data"]["article_id"] for t in tasks] == ["a-emoji", "b-crlf"]
    assert set(tasks[0]["data"]) == set(lib.DATA_KEYS)
    assert tasks[1]["data"]["text"] == CRLF_TEXT  # CRLF kept, nothing normalised
    assert tasks[1]["data"]["text_sha256"] == store.sha256_text(CRLF_TEXT)
    pred = tasks[0]["predictions"][0]
    assert pred["model_version"] == "gazetteer-v1" and 0 < pred["score"] <= 1
    none = cli("tasks", "--no-preannotate", "--json", cwd=corpus)
    assert json.loads(none.stdout)["predicted_spans"] == 0
    assert "predictions" not in json.loads((corpus / "build/tasks.json").read_bytes())[0]


def _add_plugin(corpus: Path, spec: str) -> None:
    toml = corpus / "corpus.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace('model_version = "gazetteer-v1"', f'model_version = "gazetteer-v1"\n{spec}'),
        encoding="utf-8",
    )


PLUGIN = """
from corpus_tools.model import PredictedSpan

class Upper:
    model_version = "upper-v0"
    def __init__(self, shift):
        self.shift = shift
    def predict(self, article):
        i = article.text.find("Tehran")
        if i < 0:
            return []
        return [PredictedSpan(i + self.shift, i + 6 + self.shift, "GPE", "Tehran", 0.5)]

def good(config):
    return Upper(0)

def bad(config):
    return Upper(1)  # off by one: must be refused
"""


def test_plugin_adds_a_prediction_and_bad_offsets_are_refused(
    tmp_path: Path, cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "myplugin_ct.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    corpus = make_corpus(tmp_path / "c", {"a-emoji": EMOJI_TEXT})
    _add_plugin(corpus, 'plugins = ["myplugin_ct:good"]')
    res = cli("tasks", "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["by_model"] == {"gazetteer-v1": 9, "upper-v0": 1}
    preds = json.loads((corpus / "build/tasks.json").read_bytes())[0]["predictions"]
    assert [p["model_version"] for p in preds] == ["gazetteer-v1", "upper-v0"]
    ids = [r["id"] for p in preds for r in p["result"]]
    assert len(ids) == len(set(ids))

    before = (corpus / "build/tasks.json").read_bytes()
    _add_plugin(corpus, "")
    toml = corpus / "corpus.toml"
    toml.write_text(toml.read_text().replace("myplugin_ct:good", "myplugin_ct:bad"))
    res = cli("tasks", cwd=corpus)
    assert res.exit_code == 1
    assert "upper-v0" in res.stderr and "not the article's text" in res.stderr
    assert (corpus / "build/tasks.json").read_bytes() == before  # nothing half-written

    toml.write_text(toml.read_text().replace("myplugin_ct:bad", "no_such_module_ct:x"))
    res = cli("tasks", cwd=corpus)
    assert res.exit_code == 2 and "cannot be loaded" in res.stderr
    sys.modules.pop("myplugin_ct", None)


def test_gazetteer_file(tmp_path: Path, cli: CliRun) -> None:
    corpus = make_corpus(tmp_path / "c", {"a-emoji": EMOJI_TEXT})
    (corpus / "gaz.tsv").write_text("# extra terms\nGPE\tTehran\nNORP\tCafe\u0301\n", "utf-8")
    _add_plugin(corpus, 'gazetteer_file = "gaz.tsv"')
    res = cli("tasks", "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    result = json.loads((corpus / "build/tasks.json").read_bytes())[0]["predictions"][0]["result"]
    got = {(r["value"]["text"], r["value"]["labels"][0]) for r in result}
    assert {("Tehran", "GPE"), ("Cafe\u0301", "NORP")} <= got
    (corpus / "gaz.tsv").write_text("GPE Tehran\n", "utf-8")
    res = cli("tasks", cwd=corpus)
    assert res.exit_code == 2 and "LABEL<TAB>term" in res.stderr


def test_missing_articles_table_is_a_usage_error(tmp_path: Path, cli: CliRun) -> None:
    corpus = make_corpus(tmp_path / "c", {"a": EMOJI_TEXT})
    (corpus / "build/articles.parquet").unlink()
    res = cli("tasks", cwd=corpus)
    assert res.exit_code == 2 and "corpus ingest" in res.stderr


def test_spacy_plugin_without_spacy_says_how_to_install(
    tmp_path: Path, cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    # spaCy is installed with the dev extra: make `import spacy` fail as it does without it
    monkeypatch.setitem(sys.modules, "spacy", None)
    corpus = make_corpus(tmp_path / "c", {"a-emoji": EMOJI_TEXT})
    _add_plugin(corpus, 'plugins = ["spacy:en_core_web_sm"]')
    res = cli("tasks", cwd=corpus)
    assert res.exit_code == 2
    assert "needs spaCy" in res.stderr and "pip install spacy" in res.stderr


RAISING_PLUGIN = """
class Broken:
    model_version = "broken-v0"
    def predict(self, article):
        if "Tehran" in article.text:
            raise RuntimeError("model weights missing")
        return []

class Garbage:
    model_version = "garbage-v0"
    def predict(self, article):
        return None  # not a list of PredictedSpan

def broken(config):
    return Broken()

def garbage(config):
    return Garbage()
"""


@pytest.mark.parametrize(
    ("factory", "model", "says"),
    [("broken", "broken-v0", "RuntimeError: model weights missing"), ("garbage", "garbage-v0", "")],
)
def test_a_plugin_whose_predict_fails_is_named_with_the_article(
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
    factory: str,
    model: str,
    says: str,
) -> None:
    (tmp_path / "raisingplugin_ct.py").write_text(RAISING_PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    corpus = make_corpus(tmp_path / "c", {"a-emoji": EMOJI_TEXT, "b-crlf": CRLF_TEXT})
    _add_plugin(corpus, f'plugins = ["raisingplugin_ct:{factory}"]')
    assert "Tehran" in EMOJI_TEXT
    tasks_json = corpus / "build/tasks.json"
    assert not tasks_json.exists()
    res = cli("tasks", cwd=corpus)
    sys.modules.pop("raisingplugin_ct", None)
    assert res.exit_code == 2, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert model in res.stderr and f"raisingplugin_ct:{factory}" in res.stderr
    assert "a-emoji" in res.stderr and says in res.stderr
    assert not tasks_json.exists()  # no tasks file written
    js = cli("tasks", "--json", cwd=corpus)
    sys.modules.pop("raisingplugin_ct", None)
    err = json.loads(js.stdout)
    assert js.exit_code == 2 and err["error"]["slug"] == "config-error"


def _gold(text: str, aid: str, spans: list[tuple[str, str]]) -> GoldArticle:
    """Gold spans by surface form: every occurrence of `form` gets `label`."""
    ents = []
    for form, label in spans:
        at = text.find(form)
        while at >= 0:
            ents.append(EntitySpan(at, at + len(form), label, form))
            at = text.find(form, at + 1)
    return GoldArticle(article(text, aid), entities=tuple(ents))


def test_spacy_plugin_runs_a_pipeline_trained_from_gold(tmp_path: Path, cli: CliRun) -> None:
    """`spacy:PATH` on a pipeline folder that corpus_tools.models.ner trained: scheme labels
    pass through (WEAPON, GPE), OntoNotes ones are mapped (PERSON -> PER), offsets are exact
    after emoji and across CRLF, and the scores are the beam's own probabilities."""
    pytest.importorskip("spacy")
    from corpus_tools.models.ner import SpacyNer
    from corpus_tools.preannotate import SPACY_SCORE

    forms = [
        ("Jens Stoltenberg", "PERSON"),
        ("Jens\r\nStoltenberg", "PERSON"),
        ("Russia", "GPE"),
        ("Iran", "GPE"),
        ("Tehran", "GPE"),
        ("Washington", "GPE"),
        ("Qatar", "GPE"),
        ("drones", "WEAPON"),
    ]
    gold = [_gold(EMOJI_TEXT, "a-emoji", forms), _gold(CRLF_TEXT, "b-crlf", forms)]
    ner = SpacyNer.train(gold * 4, ["PERSON", "GPE", "WEAPON"], seed=0, epochs=12)
    corpus = make_corpus(tmp_path / "c", {"a-emoji": EMOJI_TEXT, "b-crlf": CRLF_TEXT})
    ner.save(corpus / "models" / "v1")
    _add_plugin(corpus, 'plugins = ["spacy:models/v1/ner"]')
    # run from elsewhere: the relative path is taken from corpus.toml's folder
    res = cli("tasks", "--json", "--config", str(corpus / "corpus.toml"), cwd=tmp_path)
    assert res.exit_code == 0, res.stderr
    versions = list(json.loads(res.stdout)["by_model"])
    assert versions[0] == "gazetteer-v1" and versions[1].startswith("spacy-models/v1/ner-")
    tasks = json.loads((corpus / "build/tasks.json").read_bytes())
    reference = SpacyNer.load(corpus / "models" / "v1")
    mapped = {"PERSON": "PER", "GPE": "GPE", "WEAPON": "WEAPON"}
    got_labels: set[str] = set()
    for task in tasks:
        text = task["data"]["text"]
        pred = task["predictions"][1]
        spans = set()
        for r in pred["result"]:
            v = r["value"]
            assert text[v["start"] : v["end"]] == v["text"]
            assert 0 < r["score"] <= 1
            spans.add((v["start"], v["end"], v["labels"][0], round(r["score"], 6)))
            got_labels.add(v["labels"][0])
        # the same beam read by the NER model's own code gives the same spans and scores
        own = reference.predict(article(text, task["data"]["article_id"]))
        assert spans == {(s.start, s.end, mapped[s.label], round(s.score, 6)) for s in own}
        if task["data"]["article_id"] == "b-crlf":  # offsets past the CRLFs
            assert any(start > text.index("\r\n") for start, *_ in spans)
    assert {"PER", "GPE", "WEAPON"} <= got_labels
    scores = {r["score"] for t in tasks for r in t["predictions"][1]["result"]}
    assert scores != {SPACY_SCORE}  # real probabilities, not the greedy constant

    # a pipeline not made here (no corpus_tools meta): the beam over the whole text, scored
    # by spaCy's scored_ents, computed here independently
    import shutil

    import spacy

    foreign = corpus / "models" / "foreign" / "ner"
    shutil.copytree(corpus / "models" / "v1" / "ner", foreign)
    meta = json.loads((foreign / "meta.json").read_text(encoding="utf-8"))
    meta.pop("corpus_tools")
    (foreign / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    toml = corpus / "corpus.toml"
    toml.write_text(toml.read_text().replace("models/v1/ner", "models/foreign/ner"))
    res = cli("tasks", "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    nlp = spacy.load(foreign)
    beam: Any = nlp.get_pipe("beam_ner")
    for task in json.loads((corpus / "build/tasks.json").read_bytes()):
        text = task["data"]["text"]
        doc = nlp.make_doc(text)
        beams = beam.predict([doc])
        beam.set_annotations([doc], beams)
        probs = beam.scored_ents(beams)[0]
        want = {
            (
                e.start_char,
                e.end_char,
                mapped[e.label_],
                round(probs[(e.start, e.end, e.label_)], 6),
            )
            for e in doc.ents
        }
        got = {
            (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0], round(r["score"], 6))
            for r in task["predictions"][1]["result"]
        }
        assert got == want and got

    toml.write_text(toml.read_text().replace("models/foreign/ner", "models/nope/ner"))
    res = cli("tasks", cwd=corpus)
    assert res.exit_code == 2 and "not a spaCy pipeline folder" in res.stderr
    assert "corpus model train" in res.stderr


def test_spacy_plugin_greedy_pipeline_maps_ontonotes_labels(tmp_path: Path, cli: CliRun) -> None:
    """A greedy `ner` pipeline (no probabilities) with OntoNotes labels: PERSON -> PER,
    FAC -> LOC, NORP stays NORP, and every span scores the documented constant."""
    spacy = pytest.importorskip("spacy")
    from spacy.training import Example
    from spacy.util import fix_random_seed

    from corpus_tools.preannotate import SPACY_SCORE

    fix_random_seed(0)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    forms = {"Jens Stoltenberg": "PERSON", "Tehran": "FAC", "Iran": "NORP"}
    examples = []
    for text in (EMOJI_TEXT, CRLF_TEXT):
        ents = [
            (at, at + len(form), label)
            for form, label in forms.items()
            if (at := text.find(form)) >= 0
        ]
        examples.append(Example.from_dict(nlp.make_doc(text), {"entities": ents}))
    for label in forms.values():
        ner.add_label(label)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(30):
        nlp.update(examples, sgd=optimizer, drop=0.0)
    corpus = make_corpus(tmp_path / "c", {"a-emoji": EMOJI_TEXT, "b-crlf": CRLF_TEXT})
    nlp.to_disk(corpus / "greedy")
    _add_plugin(corpus, 'plugins = ["spacy:greedy"]')
    res = cli("tasks", "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    got = set()
    for task in json.loads((corpus / "build/tasks.json").read_bytes()):
        text = task["data"]["text"]
        for r in task["predictions"][1]["result"]:
            v = r["value"]
            assert text[v["start"] : v["end"]] == v["text"] and r["score"] == SPACY_SCORE
            got.add((v["text"], v["labels"][0]))
    assert {("Jens Stoltenberg", "PER"), ("Tehran", "LOC"), ("Iran", "NORP")} <= got
