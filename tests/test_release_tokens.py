"""`release.tokens` (rewritten for speed in issue 13: offsets from the lengths of `findall`'s
matches, boundaries found per cut, tags placed by bisection) gives exactly what the code before
did. `reference_align` below is that earlier code, kept verbatim as the independent check."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tools.model import EntitySpan, Finding
from corpus_tools.release.tokens import Tokenized, align, tokenize

_TOKEN = regex.compile(r"[\p{L}\p{N}\p{M}\p{Pc}]+|\X")


def reference_tokenize(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _TOKEN.finditer(text) if not m.group().isspace()]


def reference_align(
    text: str, entities: Sequence[EntitySpan], *, article_id: str
) -> tuple[Tokenized, list[Finding]]:
    findings: list[Finding] = []
    chosen: list[EntitySpan] = []
    last_end = -1
    for ent in sorted(entities, key=lambda e: (e.start, -e.end, e.label)):
        if ent.start < last_end:
            findings.append(
                Finding(
                    slug="entity-overlap-bio",
                    severity="warning",
                    message=(
                        f"{ent.label} [{ent.start}:{ent.end}] {ent.text!r} overlaps an earlier "
                        "entity; it stays in `entities` but has no BIO tags"
                    ),
                    task_id=article_id,
                    region_id=ent.region_id,
                    hint="Nested entities are kept in the span column only.",
                )
            )
            continue
        chosen.append(ent)
        last_end = ent.end
    cuts = sorted({b for e in chosen for b in (e.start, e.end)})
    offsets: list[tuple[int, int]] = []
    for start, end in reference_tokenize(text):
        inner = cuts[bisect.bisect_right(cuts, start) : bisect.bisect_left(cuts, end)]
        if not inner:
            offsets.append((start, end))
            continue
        for ent in chosen:
            if start < ent.start < end or start < ent.end < end:
                findings.append(
                    Finding(
                        slug="span-splits-token",
                        severity="warning",
                        message=(
                            f"{ent.label} [{ent.start}:{ent.end}] {ent.text!r} does not fall "
                            f"on token boundaries: token {text[start:end]!r} [{start}:{end}] "
                            "was split at the span boundary"
                        ),
                        task_id=article_id,
                        region_id=ent.region_id,
                        hint="Check the span's ends in Label Studio; a split token is kept.",
                    )
                )
        bounds = [start, *inner, end]
        for a, b in itertools.pairwise(bounds):
            if not text[a:b].isspace():
                offsets.append((a, b))
    tags = ["O"] * len(offsets)
    i = 0
    for ent in chosen:
        while i < len(offsets) and offsets[i][1] <= ent.start:
            i += 1
        j = i
        first = True
        while j < len(offsets) and offsets[j][0] < ent.end:
            tags[j] = f"{'B' if first else 'I'}-{ent.label}"
            first = False
            j += 1
        if first:
            findings.append(
                Finding(
                    slug="entity-without-tokens",
                    severity="warning",
                    message=f"{ent.label} [{ent.start}:{ent.end}] {ent.text!r} covers no token",
                    task_id=article_id,
                    region_id=ent.region_id,
                    hint="A span of only whitespace has no tokens; fix or remove it.",
                )
            )
        i = j
    return (
        Tokenized(
            tokens=tuple(text[a:b] for a, b in offsets),
            offsets=tuple(offsets),
            tags=tuple(tags),
        ),
        findings,
    )


# Letters, digits, marks, punctuation, emoji (with modifiers and ZWJ), flags, CR/LF, other
# whitespace, a space before a combining mark, prepended marks, a lone surrogate.
PIECES = [
    "Iran", "NATO", "3", "42", "e\u0301", " \u0301", "\u0301", "_", "-", ".", ",", "'",
    "😀", "👍🏽", "👩\u200d🚀", "🇺🇦", "𝔸lpha", "\r\n", "\r", "\n", " ", "  ", "\t", "\u00a0",
    "\u2003", "\u0600", "\u0915\u093f", "\ud800", "a\u200db", "Ω",
]  # fmt: skip

texts = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[EntitySpan]]:
    text = draw(texts)
    n = len(text)
    spans = []
    for k in range(draw(st.integers(0, 6))):
        if n == 0:
            break
        start = draw(st.integers(0, n - 1))
        end = draw(st.integers(start + 1, n))
        label = draw(st.sampled_from(["PER", "ORG", "GPE"]))
        spans.append(EntitySpan(start, end, label, text[start:end], region_id=f"r{k}"))
    return text, spans


@settings(max_examples=600, deadline=None)
@given(texts)
def test_tokenize_is_the_reference(text: str) -> None:
    assert tokenize(text) == reference_tokenize(text)


@settings(max_examples=1500, deadline=None)
@given(text_and_spans())
def test_align_is_the_reference(case: tuple[str, list[EntitySpan]]) -> None:
    text, spans = case
    assert align(text, spans, article_id="a") == reference_align(text, spans, article_id="a")


def test_align_reference_cases_with_every_finding() -> None:
    """One text where a span splits a token, one overlaps, one covers only whitespace."""
    text = "Zelensky 😀 met NATO-officials in Kyiv.\r\n  Russia"

    def at(needle: str, label: str) -> EntitySpan:
        start = text.index(needle)
        return EntitySpan(start, start + len(needle), label, needle)

    spans = [
        at("Zelensky", "PER"),
        at("Zele", "PER"),  # overlaps the first
        at("NATO", "ORG"),
        at("ATO-offi", "ORG"),  # overlaps NATO
        at("off", "ORG"),  # splits "officials"
        at("\r\n", "GPE"),  # whitespace only
        at("Russia", "GPE"),
    ]
    got = align(text, spans, article_id="a")
    assert got == reference_align(text, spans, article_id="a")
    slugs = {f.slug for f in got[1]}
    assert slugs == {"entity-overlap-bio", "span-splits-token", "entity-without-tokens"}
    assert "off" in got[0].tokens and "B-ORG" in got[0].tags
