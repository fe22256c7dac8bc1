"""models/gazetteer: the learned gazetteer (gold surface forms with their label counts).

Scores are checked against counts made here from the generated gold itself (which token is a
form, which occurrence was labelled, which lies in a missing range), not from the module.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tools import store
from corpus_tools.errors import DataError
from corpus_tools.model import Article, EntitySpan
from corpus_tools.models.data import GoldArticle
from corpus_tools.models.gazetteer import GAZETTEER_FILE, LearnedGazetteer


def article(text: str, aid: str = "a1") -> Article:
    return Article(aid, "test", None, None, None, None, "en", text, store.sha256_text(text))


def gold(
    text: str,
    spans: list[tuple[str, str]] | list[tuple[int, int, str]],
    *,
    missing: tuple[tuple[int, int], ...] = (),
    aid: str = "a1",
) -> GoldArticle:
    """Gold for `text`; spans as (start, end, label), or (surface, label) for each occurrence
    of the surface in order (the n-th listed surface is its n-th occurrence)."""
    ents = []
    seen: Counter[str] = Counter()
    for sp in spans:
        if len(sp) == 3:
            s, e, lab = sp
        else:
            surface, lab = sp
            found = [m.start() for m in re.finditer(re.escape(surface), text)]
            s = found[seen[surface]]
            seen[surface] += 1
            e = s + len(surface)
        ents.append(EntitySpan(s, e, lab, text[s:e]))
    return GoldArticle(article(text, aid), entities=tuple(ents), missing_entities=missing)


def spans_of(gaz: LearnedGazetteer, text: str) -> list[tuple[int, int, str, str]]:
    return [(p.start, p.end, p.label, p.text) for p in gaz.predict(article(text, "new"))]


def test_forms_are_whitespace_normalised_and_case_sensitive() -> None:
    g1 = gold("Jens\r\nStoltenberg met US envoys.", [("Jens\r\nStoltenberg", "PER"), ("US", "GPE")])
    g2 = gold("Jens  Stoltenberg said us.", [("Jens  Stoltenberg", "PER")], aid="a2")
    gaz = LearnedGazetteer.fit([g1, g2])
    assert gaz.forms == {"Jens Stoltenberg": {"PER": 2}, "US": {"GPE": 1}}
    # "us" (lower case) is not the form "US"; the CRLF span keeps its exact text
    text = "us and US: Jens\r\n\tStoltenberg 😀 𝔸 US"
    assert spans_of(gaz, text) == [
        (7, 9, "GPE", "US"),
        (11, 29, "PER", "Jens\r\n\tStoltenberg"),
        (34, 36, "GPE", "US"),
    ]


def test_whole_words_only_and_marks_are_part_of_a_word() -> None:
    g = gold("Iran and Jose spoke.", [("Iran", "GPE"), ("Jose", "PER")])
    gaz = LearnedGazetteer.fit([g])
    text = "Iranian Iran_x xIran Jose\u0301 Jose, (Iran)"
    got = spans_of(gaz, text)
    assert got == [(27, 31, "PER", "Jose"), (34, 38, "GPE", "Iran")]
    for s, e, _, t in got:
        assert text[s:e] == t


def test_leftmost_longest_and_form_inside_a_longer_one_is_no_occurrence() -> None:
    text = "The Black Sea Grain Initiative ended; the Black Sea is calm."
    g = gold(text, [(4, 30, "EVENT"), (42, 51, "LOC")])
    assert [e.text for e in g.entities] == ["Black Sea Grain Initiative", "Black Sea"]
    gaz = LearnedGazetteer.fit([g])
    # "Black Sea" inside the initiative is found as the longer form, so it is not an
    # unlabelled occurrence of "Black Sea": both forms score 1
    assert gaz.label_and_score("Black Sea") == ("LOC", 1.0)
    assert gaz.label_and_score("Black Sea Grain Initiative") == ("EVENT", 1.0)
    assert spans_of(gaz, "Black Sea Grain Initiative, Black Sea.") == [
        (0, 26, "EVENT", "Black Sea Grain Initiative"),
        (28, 37, "LOC", "Black Sea"),
    ]


def test_may_the_verb_lowers_may_the_month() -> None:
    text = "In May talks resumed. May they succeed? May we hope. Since May, calm."
    g = gold(text, [(3, 6, "DATE"), (59, 62, "DATE")])
    assert [e.text for e in g.entities] == ["May", "May"]
    gaz = LearnedGazetteer.fit([g])
    # 2 labelled of 4 whole-word occurrences; the label share is 1
    assert gaz.occurrences["May"] == (2, 4)
    assert gaz.label_and_score("May") == ("DATE", 0.5)
    assert [p.score for p in gaz.predict(article("Talks in May."))] == [0.5]


def test_missing_ranges_are_not_negatives() -> None:
    text = "Iran said so. Iran denied it. Iran again."
    labelled = [(0, 4, "GPE")]
    # the second "Iran" lies in an open dispute, the third is plainly unlabelled
    with_missing = gold(text, labelled, missing=((14, 28),))
    without = gold(text, labelled)
    assert LearnedGazetteer.fit([with_missing]).occurrences["Iran"] == (1, 2)
    assert LearnedGazetteer.fit([without]).occurrences["Iran"] == (1, 3)
    assert LearnedGazetteer.fit([with_missing]).label_and_score("Iran") == ("GPE", 0.5)
    # a missing range that only touches the occurrence's edge does not hide it
    touching = gold(text, labelled, missing=((18, 28),))
    assert LearnedGazetteer.fit([touching]).occurrences["Iran"] == (1, 3)


def test_label_share_and_tie_rule() -> None:
    text = "Georgia, Georgia, Georgia and Jordan, Jordan."
    g = gold(
        text,
        [
            ("Georgia", "GPE"),
            ("Georgia", "GPE"),
            ("Georgia", "PER"),
            ("Jordan", "PER"),
            ("Jordan", "GPE"),
        ],
    )
    gaz = LearnedGazetteer.fit([g])
    assert gaz.forms["Georgia"] == {"GPE": 2, "PER": 1}
    found = gaz.label_and_score("Georgia")
    assert found is not None
    label, score = found
    assert label == "GPE" and score == pytest.approx(2 / 3)
    # a tie goes to the label that sorts first
    assert gaz.label_and_score("Jordan") == ("GPE", 0.5)


WORDS = ["talks", "said", "the", "on", "😀", "𝔸lpha", "e\u0301t\u00e9", "may", "IRAN"]
FORMS = ["May", "Iran", "Jens Stoltenberg"]
LABELS = ["DATE", "GPE", "PER"]
SEPS = [" ", "\r\n", "  ", "\t", " \r\n "]

# one token of a generated article: a filler word, or a form occurrence with its fate
token = st.one_of(
    st.tuples(st.just("word"), st.sampled_from(WORDS), st.none()),
    st.tuples(
        st.just("form"),
        st.sampled_from(FORMS),
        st.one_of(st.sampled_from(LABELS), st.sampled_from(["unlabelled", "missing"])),
    ),
)


@settings(max_examples=60, deadline=None)
@given(
    docs=st.lists(
        st.lists(st.tuples(token, st.sampled_from(SEPS)), min_size=1, max_size=25),
        min_size=1,
        max_size=4,
    )
)
def test_scores_follow_the_documented_formula(
    docs: list[list[tuple[tuple[str, str, str | None], str]]],
) -> None:
    """score = count(form, label) / count(form) x labelled(form) / occurrences(form), with
    the counts made here from the generator's own record of each occurrence."""
    items = []
    labels: dict[str, Counter[str]] = {}
    labelled: Counter[str] = Counter()
    unlabelled: Counter[str] = Counter()
    for k, doc in enumerate(docs):
        text = ""
        ents, missing = [], []
        for (kind, word, fate), sep in doc:
            inner = word.replace(" ", sep) if kind == "form" else word
            start = len(text)
            text += inner
            end = len(text)
            text += sep
            if kind != "form":
                continue
            if fate == "missing":
                missing.append((start, end))
            elif fate == "unlabelled":
                unlabelled[word] += 1
            else:
                assert fate is not None
                ents.append(EntitySpan(start, end, fate, inner))
                labels.setdefault(word, Counter())[fate] += 1
                labelled[word] += 1
        items.append(
            GoldArticle(
                article(text, f"a{k}"), entities=tuple(ents), missing_entities=tuple(missing)
            )
        )
    gaz = LearnedGazetteer.fit(items)
    assert set(gaz.forms) == set(labels)
    for form, counts in labels.items():
        best = max(counts.values())
        label = min(lab for lab, n in counts.items() if n == best)
        expected = (
            best / sum(counts.values()) * labelled[form] / (labelled[form] + unlabelled[form])
        )
        got = gaz.label_and_score(form)
        assert got is not None
        assert got[0] == label
        assert got[1] == pytest.approx(expected)
        assert 0 < got[1] <= 1
    # predictions on the same texts: exact offsets, the form's score
    for item in items:
        text = item.article.text
        for p in gaz.predict(item.article):
            assert text[p.start : p.end] == p.text
            assert 0 <= p.start < p.end <= len(text)
            assert (p.label, p.score) == gaz.label_and_score(" ".join(p.text.split()))


def test_save_load_is_deterministic(tmp_path: Path) -> None:
    g1 = gold("Jens\r\nStoltenberg visited Doha on Monday.", [("Jens\r\nStoltenberg", "PER")])
    g2 = gold("Doha, Monday: talks.", [("Doha", "GPE"), ("Monday", "DATE")], aid="a2")
    gaz = LearnedGazetteer.fit([g1, g2])
    again = LearnedGazetteer.fit([g2, g1])
    gaz.save(tmp_path / "one")
    again.save(tmp_path / "two")
    one = (tmp_path / "one" / GAZETTEER_FILE).read_bytes()
    assert one == (tmp_path / "two" / GAZETTEER_FILE).read_bytes()
    data = json.loads(one)
    assert list(data["forms"]) == sorted(data["forms"])
    loaded = LearnedGazetteer.load(tmp_path / "one")
    assert loaded.to_dict() == gaz.to_dict()
    text = "Monday in Doha, Jens Stoltenberg."
    assert loaded.predict(article(text)) == gaz.predict(article(text))
    # Doha: labelled once of two occurrences
    assert loaded.label_and_score("Doha") == ("GPE", 0.5)


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=GAZETTEER_FILE):
        LearnedGazetteer.load(tmp_path)
    (tmp_path / GAZETTEER_FILE).write_text('{"format": 1, "forms": {"x": {}}}', encoding="utf-8")
    with pytest.raises(DataError, match="not a learned gazetteer"):
        LearnedGazetteer.load(tmp_path)


def test_empty_gazetteer_predicts_nothing() -> None:
    gaz = LearnedGazetteer.fit([gold("No labels here.", [])])
    assert gaz.forms == {}
    assert gaz.predict(article("No labels here.")) == []
