"""The whitespace patterns of cleaning and of the identity form leave a lone space alone (for
speed); replacing with them must give exactly what replacing every run gives."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from corpus_tools.ingest import _WS
from corpus_tools.ingest.clean import _SPACES, _squeeze

PIECES = [" ", "  ", "\t", "\f", "\v", "\n", "\r\n", "\xa0", "\u2003", "\x1c", "\x85", "a", "é"]


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join) | st.text(max_size=40))
def test_patterns_replace_like_every_run(text: str) -> None:
    assert _SPACES.sub(" ", text) == re.sub(r"[ \t\f\v]+", " ", text)
    assert _WS.sub(" ", text) == re.sub(r"\s+", " ", text)


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join) | st.text(max_size=40))
def test_squeeze_equals_the_pattern(text: str) -> None:
    assert _squeeze(text) == re.sub(r"[ \t\f\v]+", " ", text)
