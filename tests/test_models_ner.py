"""models/ner: the spaCy beam NER trained on gold (real spaCy, nothing downloaded).

- on the sample corpus, ingested and adjudicated for real: trained on all stories but one, it
  finds gold spans (exact start, end and label) in the held-out story; save -> load predicts
  the same;
- missing ranges and spans that do not align to tokens become spaCy's missing tag "-";
- a property test: for texts mixing emoji, non-BMP letters, CRLF and combining marks with the
  surface forms the models learnt, every prediction of the NER model and of the gazetteer has
  exact code-point offsets and a score in (0, 1].
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_gold, make_article
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_tools.config import load_config
from corpus_tools.errors import DataError, UsageError
from corpus_tools.model import Article, EntitySpan, PredictedSpan, Sentence
from corpus_tools.models.data import GoldArticle, load_training_set
from corpus_tools.models.gazetteer import LearnedGazetteer
from corpus_tools.models.ner import MISSING, NER_DIR, SpacyNer, biluo_tags, chunks

LABELS = ("PER", "ORG", "GPE", "DATE")


def article(text: str, aid: str = "a1", *, split: bool = True) -> Article:
    return make_article(text, aid, sentences=None if split else ())


def check_spans(text: str, spans: list[PredictedSpan]) -> None:
    """The contract of every prediction: exact offsets, no whitespace edge, no overlap."""
    last_end = 0
    for p in spans:
        assert 0 <= p.start < p.end <= len(text)
        assert text[p.start : p.end] == p.text
        assert p.text == p.text.strip()
        assert 0.0 < p.score <= 1.0
        assert p.start >= last_end
        last_end = p.end


# -- on the sample corpus -----------------------------------------------------------------


def test_trains_on_sample_gold_and_finds_spans_in_a_held_out_story(
    sample_gold: Path, tmp_path: Path
) -> None:
    config = load_config(copy_gold(sample_gold, tmp_path / "corpus") / "corpus.toml")
    ts = load_training_set(config)
    # hold out the story with the most gold spans that is not the only one
    held = max(ts.stories, key=lambda s: (sum(len(g.entities) for g in ts.subset([s])), s))
    train = [g for g in ts if g.story != held]
    test = ts.subset([held])
    assert train and test and not {g.story for g in train} & {g.story for g in test}
    seen: list[tuple[int, int]] = []
    model = SpacyNer.train(
        train,
        config.scheme.entity_labels,
        epochs=8,
        progress=lambda e, n: seen.append((e, n)),
    )
    assert seen == [(e, 8) for e in range(1, 9)]
    assert model.labels == tuple(config.scheme.entity_labels)
    assert model.info["articles"] == len(train)
    assert model.info["epochs"] == 8 and len(model.info["losses"]) == 8
    # the missing tokens the model was told about are those of the gold's missing ranges
    assert model.info["missing_tokens"] > 0
    assert sum(len(g.missing_entities) for g in train) > 0

    predictions = list(model.predict_many(g.article for g in test))
    correct = 0
    for g, spans in zip(test, predictions, strict=True):
        check_spans(g.article.text, spans)
        gold_spans = {(e.start, e.end, e.label) for e in g.entities}
        correct += sum((p.start, p.end, p.label) in gold_spans for p in spans)
    assert correct >= 1
    # one article at a time gives the same as the batch
    assert [model.predict(g.article) for g in test] == predictions

    model.save(tmp_path / "bundle")
    assert (tmp_path / "bundle" / NER_DIR / "config.cfg").is_file()
    loaded = SpacyNer.load(tmp_path / "bundle")
    assert loaded.labels == model.labels
    assert loaded.info == model.info
    assert list(loaded.predict_many(g.article for g in test)) == predictions
    # saving again replaces the folder whole
    loaded.save(tmp_path / "bundle")
    assert list(SpacyNer.load(tmp_path / "bundle").predict_many(g.article for g in test)) == (
        predictions
    )
    assert sorted(p.name for p in (tmp_path / "bundle").iterdir()) == [NER_DIR]


def test_load_without_a_model_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no trained NER pipeline"):
        SpacyNer.load(tmp_path)


def test_train_refuses_nothing_to_learn() -> None:
    with pytest.raises(UsageError, match="no gold articles"):
        SpacyNer.train([], LABELS, epochs=1)
    with pytest.raises(UsageError, match="epochs"):
        SpacyNer.train([], LABELS, epochs=0)


# -- the training tags --------------------------------------------------------------------


def gold(
    text: str, spans: list[tuple[int, int, str]], missing: tuple[tuple[int, int], ...] = ()
) -> GoldArticle:
    ents = tuple(EntitySpan(s, e, lab, text[s:e]) for s, e, lab in spans)
    return GoldArticle(article(text), entities=ents, missing_entities=missing)


def test_missing_ranges_and_unaligned_spans_are_missing_not_outside() -> None:
    import spacy

    nlp = spacy.blank("en")
    text = "Jens\r\nStoltenberg met Iranians in Doha on Monday \U0001d538 e\u0301."
    #       0    4 6          18  22       31 34   39 42     49 51
    item = gold(
        text,
        [
            (0, 17, "PER"),  # across CRLF: aligned
            (22, 26, "GPE"),  # "Iran" inside the token "Iranians": not aligned
            (34, 38, "GPE"),  # Doha
            (42, 48, "WHEN"),  # a label outside the model's
        ],
        missing=((39, 41),),  # "on": open dispute
    )
    assert [e.text for e in item.entities] == ["Jens\r\nStoltenberg", "Iran", "Doha", "Monday"]
    doc = nlp.make_doc(text)
    tags, skipped = biluo_tags(doc, item, LABELS)
    by_token = {t.text: tag for t, tag in zip(doc, tags, strict=True)}
    assert tags[:3] == ["B-PER", "I-PER", "L-PER"]
    assert by_token["Iranians"] == MISSING
    assert by_token["Doha"] == "U-GPE"
    assert by_token["on"] == MISSING
    assert by_token["Monday"] == MISSING
    assert by_token["met"] == "O" and by_token["in"] == "O"
    assert [(s, e, r) for s, e, _, r in skipped] == [
        (22, 26, "not-token-aligned"),
        (42, 48, "unknown-label"),
    ]
    model = SpacyNer.train([item], LABELS, epochs=1)
    assert model.info["skipped_spans"] == 2
    assert model.info["missing_tokens"] == 3
    assert model.info["entities"] == 2


def test_chunks_follow_sentences_and_never_split_a_gold_span() -> None:
    import spacy

    nlp = spacy.blank("en")
    text = "Talks in Doha. Jens Stoltenberg came.\r\n\r\nMonday, more."
    doc = nlp.make_doc(text)
    sents = (Sentence(0, 14), Sentence(15, 37), Sentence(41, len(text)))
    pieces = chunks(doc, sents)
    assert [doc[r.start].idx for r in pieces] == [0, 15, 41]
    # without sentences: cut after ". " before a capital and after line breaks
    assert [doc[r.start].idx for r in chunks(doc, ())] == [0, 15, 41]
    # a sentence boundary inside a gold span is not cut
    tags = ["O"] * len(doc)
    i = next(t.i for t in doc if t.text == "Jens")
    tags[i - 2 : i + 2] = ["B-ORG", "I-ORG", "I-ORG", "L-ORG"]
    merged = chunks(doc, sents, tags)
    assert [doc[r.start].idx for r in merged] == [0, 41]
    # every token is in exactly one piece, whitespace-only pieces aside
    covered = [i for r in chunks(doc, sents) for i in r]
    assert covered == sorted(set(covered))


# -- a tiny model for the property test ---------------------------------------------------

TRAIN_TEXTS = [
    ("Jens Stoltenberg met NATO envoys in Doha on Monday.", ["PER", "ORG", "GPE", "DATE"]),
    ("NATO said Iran sent drones to Doha 😀 on Friday.", ["ORG", "GPE", "GPE", "DATE"]),
    ("On Monday, Jens\r\nStoltenberg left Iran for Brussels.", ["DATE", "PER", "GPE", "GPE"]),
    ("Iran and NATO talked in Brussels 𝔸 on Friday.", ["GPE", "ORG", "GPE", "DATE"]),
    ("José Manuel Albares flew to Doha and Iran.", ["PER", "GPE", "GPE"]),
]
SURFACES = {
    "PER": ["Jens Stoltenberg", "Jens\r\nStoltenberg", "José Manuel Albares"],
    "ORG": ["NATO"],
    "GPE": ["Doha", "Iran", "Brussels"],
    "DATE": ["Monday", "Friday"],
}


def training_items() -> list[GoldArticle]:
    items = []
    for k, (text, labels) in enumerate(TRAIN_TEXTS):
        spans = []
        pos = 0
        for label in labels:
            # the next surface of that label in the text, from left to right
            best = min((text.find(s, pos), s) for s in SURFACES[label] if text.find(s, pos) >= 0)
            spans.append((best[0], best[0] + len(best[1]), label))
            pos = best[0] + len(best[1])
        ents = tuple(EntitySpan(s, e, lab, text[s:e]) for s, e, lab in spans)
        items.append(GoldArticle(article(text, f"t{k}"), entities=ents))
    return items * 3


@pytest.fixture(scope="module")
def tiny() -> tuple[SpacyNer, LearnedGazetteer]:
    items = training_items()
    return SpacyNer.train(items, LABELS, epochs=15, seed=1), LearnedGazetteer.fit(items)


def test_training_is_deterministic(tiny: tuple[SpacyNer, LearnedGazetteer], tmp_path: Path) -> None:
    model, _ = tiny
    again = SpacyNer.train(training_items(), LABELS, epochs=15, seed=1)
    texts = [t for t, _ in TRAIN_TEXTS] + ["Iran 😀 met NATO in Doha\r\non Friday."]
    got = [model.predict(article(t)) for t in texts]
    assert got == [again.predict(article(t)) for t in texts]
    assert again.info == model.info
    # the saved pipelines are the same bytes
    model.save(tmp_path / "one")
    again.save(tmp_path / "two")
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*"))
    assert files == sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*"))
    for f in files:
        if (tmp_path / "one" / f).is_file():
            assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes(), f
    # and it learnt something: spans of its own training texts, with beam probabilities
    assert any(p.text == "NATO" and p.label == "ORG" for spans in got for p in spans)
    assert any(p.score < 1 for spans in got for p in spans)


def test_offsets_are_code_points_after_emoji_and_non_bmp_letters(
    tiny: tuple[SpacyNer, LearnedGazetteer],
) -> None:
    model, gaz = tiny
    text = (
        "\U0001d538\U0001d538 😀Iran\r\n met Jens\r\nStoltenberg in Doha on Monday cafe\u0301 NATO."
    )
    # code points, not UTF-16 units or bytes: each of 𝔸 and 😀 is one
    expected = {
        ("Iran", "GPE"): text.index("Iran"),
        ("Doha", "GPE"): text.index("Doha"),
        ("Monday", "DATE"): text.index("Monday"),
    }
    assert expected[("Doha", "GPE")] == 36
    for split in (True, False):
        spans = model.predict(article(text, split=split))
        check_spans(text, spans)
        found = {(p.text, p.label): p.start for p in spans}
        assert any(found.get(k) == v for k, v in expected.items())
    got = {(p.text, p.label): p.start for p in gaz.predict(article(text))}
    assert got[("Jens\r\nStoltenberg", "PER")] == text.index("Jens")
    assert all(got[k] == v for k, v in expected.items())


@pytest.mark.parametrize("damaged", ["beam_ner/model", "beam_ner/moves", "meta.json", "config.cfg"])
def test_a_damaged_pipeline_is_a_data_error_naming_it(
    tiny: tuple[SpacyNer, LearnedGazetteer], tmp_path: Path, damaged: str
) -> None:
    model, _ = tiny
    model.save(tmp_path)
    (tmp_path / NER_DIR / damaged).write_bytes(b"[not a model\n{")
    with pytest.raises(DataError, match="cannot load the NER pipeline") as err:
        SpacyNer.load(tmp_path)
    assert err.value.path == str(tmp_path / NER_DIR)
    assert err.value.hint and "corpus model train" in err.value.hint


def test_batches_do_not_change_predictions(tiny: tuple[SpacyNer, LearnedGazetteer]) -> None:
    model, _ = tiny
    arts = [article(t, f"b{k}", split=k % 2 == 0) for k, (t, _) in enumerate(TRAIN_TEXTS)]
    arts.insert(2, article("", "empty"))
    one_by_one = [model.predict(a) for a in arts]
    assert list(model.predict_many(arts, batch_size=2)) == one_by_one
    assert list(model.predict_many(iter(arts), batch_size=64)) == one_by_one
    assert one_by_one[2] == [] and any(one_by_one)


def test_threads_may_share_a_model(tiny: tuple[SpacyNer, LearnedGazetteer]) -> None:
    """The ML backend serves requests from several threads with one model."""
    from concurrent.futures import ThreadPoolExecutor

    model, _ = tiny
    texts = [t for t, _ in TRAIN_TEXTS] * 4
    expected = [model.predict(article(t)) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda t: model.predict(article(t)), texts))
    assert got == expected


def test_empty_and_blank_texts(tiny: tuple[SpacyNer, LearnedGazetteer]) -> None:
    model, gaz = tiny
    for text in ["", " ", "\r\n\r\n", "😀"]:
        assert model.predict(article(text)) == []
        assert gaz.predict(article(text)) == []
    assert list(model.predict_many([])) == []


NOISE = [
    "😀",
    "\U0001d538",
    "\U0001d538lpha",
    "\r\n",
    "\r\n\r\n",
    "e\u0301",
    "cafe\u0301",
    " ",
    ".",
    ",",
]
WORDS = ["met", "in", "on", "said", "the", "talks", "Iranians", "NATO's", "US-led"]
FORMS = [s for forms in SURFACES.values() for s in forms]
piece = st.one_of(st.sampled_from(NOISE), st.sampled_from(WORDS), st.sampled_from(FORMS))


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    parts=st.lists(st.tuples(piece, st.sampled_from(["", " ", "\r\n", "\t", "  "])), max_size=30),
    split=st.booleans(),
)
def test_every_prediction_has_exact_offsets(
    tiny: tuple[SpacyNer, LearnedGazetteer], parts: list[tuple[str, str]], split: bool
) -> None:
    model, gaz = tiny
    text = "".join(p + sep for p, sep in parts)
    art = article(text, split=split)
    ner_spans = model.predict(art)
    check_spans(text, ner_spans)
    check_spans(text, gaz.predict(art))
    assert list(model.predict_many([art, art])) == [ner_spans, ner_spans]
