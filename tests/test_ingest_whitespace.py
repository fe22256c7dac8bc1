"""Cleaning's whitespace pattern leaves a lone space alone, `_squeeze` skips lines without a
run, and `normalise` splits on whitespace (all for speed): each must give exactly what
replacing every run with the plain patterns gives."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from corpus_tools.ingest import normalise
from corpus_tools.ingest.clean import _SPACES, _squeeze

PIECES = [" ", "  ", "\t", "\f", "\v", "\n", "\r\n", "\xa0", "\u2003", "\x1c", "\x85", "a", "é"]


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join) | st.text(max_size=40))
def test_patterns_replace_like_every_run(text: str) -> None:
    assert _SPACES.sub(" ", text) == re.sub(r"[ \t\f\v]+", " ", text)


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join) | st.text(max_size=40))
def test_squeeze_equals_the_pattern(text: str) -> None:
    assert _squeeze(text) == re.sub(r"[ \t\f\v]+", " ", text)


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join) | st.text(max_size=40))
def test_normalise_squeezes_like_the_pattern(text: str) -> None:
    want = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()
    assert normalise(text) == want
