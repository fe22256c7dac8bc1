"""Tokens and BIO tags aligned exactly to character spans.

Tokens are runs of letters, digits, combining marks and connector punctuation; anything else
that is not whitespace is one token per grapheme cluster (so 😀, a flag or "e\u0301" stay whole).
Offsets are Python code points, like every offset in the toolkit. An entity boundary that
falls inside a token splits that token, so `ner_tags` always match the character spans
exactly; each split is reported (`span-splits-token`), never hidden.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import regex

from corpus_tools.model import EntitySpan, Finding

_TOKEN = regex.compile(r"[\p{L}\p{N}\p{M}\p{Pc}]+|\X")


@dataclass(frozen=True, slots=True)
class Tokenized:
    """An article's tokens, their code-point offsets and BIO tag names."""

    tokens: tuple[str, ...]
    offsets: tuple[tuple[int, int], ...]
    tags: tuple[str, ...]


def tokenize(text: str) -> list[tuple[int, int]]:
    """(start, end) code-point offsets of the tokens of `text`, whitespace skipped."""
    return [m.span() for m in _TOKEN.finditer(text) if not m.group().isspace()]


def bio_names(labels: Sequence[str]) -> list[str]:
    """`O`, then `B-X`, `I-X` per entity label in scheme order (append-only like the labels)."""
    names = ["O"]
    for label in labels:
        names += [f"B-{label}", f"I-{label}"]
    return names


def align(
    text: str, entities: Sequence[EntitySpan], *, article_id: str
) -> tuple[Tokenized, list[Finding]]:
    """Tokens of `text` with BIO tags for `entities` (sorted by start, then longest first).

    An entity that overlaps an earlier one cannot be expressed in BIO: it keeps its place in
    the `entities` column and is reported (`entity-overlap-bio`) instead of being tagged.
    """
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
    for start, end in tokenize(text):
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


def mask_regions(
    offsets: Sequence[tuple[int, int]], regions: Sequence[tuple[int, int]]
) -> list[bool]:
    """One flag per token: False when the token overlaps any of `regions` (open disputes),
    whose tags are unknown rather than `O`. A token only partly inside a region is masked; an
    empty region holds no code point and masks nothing."""
    regions = [(start, end) for start, end in regions if start < end]
    if not regions:
        return [True] * len(offsets)
    return [not any(a < end and b > start for start, end in regions) for a, b in offsets]
