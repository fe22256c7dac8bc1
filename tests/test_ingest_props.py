"""Property tests for ingest's text handling: sentence offsets and cleaning on adversarial text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tools.config import IngestConfig
from corpus_tools.ingest import article_id_for, compile_rules
from corpus_tools.ingest.clean import clean, sentences

# Words and separators that stress offsets: astral emoji and letters, flags (two code points),
# combining accents, CRLF and bare LF, abbreviations and quotes.
PIECES = [
    "Iran",
    "Kyiv",
    "😀",
    "🇺🇦",
    "𝔸rmsWatch",
    "Jose\u0301",
    "Zelenskyi",
    "U.S.",
    "Dr.",
    "“quoted”",
    "said.",
    "asked?",
    "yes!",
    "3.5",
    " ",
    " ",
    "  ",
    "\t",
    "\r\n",
    "\n",
    "\r\n\r\n",
    "\u00a0",
]
texts = st.lists(st.sampled_from(PIECES), min_size=0, max_size=60).map("".join)
RULES = compile_rules(IngestConfig())


@settings(max_examples=150, deadline=None)
@given(texts)
def test_sentence_offsets_are_exact_and_lose_nothing(text: str) -> None:
    spans = sentences(text)
    covered = [False] * len(text)
    prev = 0
    for s in spans:
        assert prev <= s.start < s.end <= len(text)
        piece = text[s.start : s.end]
        assert piece == piece.strip()
        assert "\n" not in piece and "\r" not in piece
        for i in range(s.start, s.end):
            covered[i] = True
        prev = s.end
    lost = [ch for ch, c in zip(text, covered, strict=True) if not c and not ch.isspace()]
    assert lost == []


@settings(max_examples=150, deadline=None)
@given(texts)
def test_cleaning_keeps_line_ends_and_only_squeezes_space(text: str) -> None:
    c = clean(text, rules=RULES, title=None)
    out = c.text
    assert out == out.strip(" \t\r\n")
    assert "\n\n\n" not in out.replace("\r\n", "\n")
    if "\n" in text and re.search(r"(?<!\r)\n", text) is None:  # CRLF only in, CRLF only out
        assert re.search(r"(?<!\r)\n", out) is None
    squeezed_in = re.sub(r"[ \t]+", " ", text)
    for line in out.splitlines():
        assert line == line.strip()
        assert line in squeezed_in  # nothing invented, nothing rewritten within a line
    # Characters are never normalised: combining accents and astral characters stay.
    for needle in ("e\u0301", "😀", "🇺🇦", "𝔸"):
        if needle in out.replace("\r", ""):
            assert needle in text


@given(texts, texts)
def test_text_ids_ignore_whitespace_only(a: str, b: str) -> None:
    base = "Iran said. " + a
    respaced = re.sub(r"\s+", "  ", base).replace("  ", "\r\n", 1)
    assert article_id_for(id=None, url=None, text=base) == article_id_for(
        id=None, url=None, text=respaced
    )
    if b.split() != a.split():
        assert article_id_for(id=None, url=None, text="Iran said. " + b) != article_id_for(
            id=None, url=None, text=base
        )


def test_glued_skip_link_and_date_line() -> None:
    raw = (
        "Skip to contentMonday, June 12, 2023\r\n\r\nTalks resume in Oman\r\nTalks resume in "
        "Oman.\r\n\r\nDiplomats met in Muscat.  Both sides  called it useful.\r\n\r\n"
        "Also Read: Something else\r\nShare this:\r\nThe next round is in July."
    )
    c = clean(raw, rules=RULES)
    assert c.published == "2023-06-12"
    assert c.title == "Talks resume in Oman"
    assert c.text == (
        "Diplomats met in Muscat. Both sides called it useful.\r\n\r\nThe next round is in July."
    )
    assert c.dropped_lines[0] == "Skip to content"
    kept = clean(raw, rules=compile_rules(IngestConfig(drop_repeated_headline=False)))
    assert kept.text.startswith("Talks resume in Oman\r\nTalks resume in Oman.\r\n\r\n")
