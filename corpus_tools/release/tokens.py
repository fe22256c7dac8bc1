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
import operator
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
    starts, ends, _ = _tokens(text)
    return list(zip(starts, ends, strict=True))


def _tokens(text: str) -> tuple[list[int], list[int], list[str]]:
    """Starts, ends and texts of the tokens of `text` (whitespace skipped).

    `_TOKEN` matches at every position (`\\X` takes any grapheme cluster), so its matches tile
    the text and the offsets are running sums of their lengths: no match objects are made.
    """
    parts = _TOKEN.findall(text)
    ends = list(itertools.accumulate(map(len, parts)))
    starts = [0, *ends[:-1]]
    keep = list(map(operator.not_, map(str.isspace, parts)))
    return (
        list(itertools.compress(starts, keep)),
        list(itertools.compress(ends, keep)),
        list(itertools.compress(parts, keep)),
    )


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
    starts, ends, texts = _tokens(text)
    # The tokens an entity boundary falls strictly inside, with those boundaries (each cut
    # lies in at most one token; cuts are sorted, so each token's list is too).
    inner: dict[int, list[int]] = {}
    for cut in cuts:
        k = bisect.bisect_right(starts, cut) - 1
        if k >= 0 and starts[k] < cut < ends[k]:
            inner.setdefault(k, []).append(cut)
    offsets: list[tuple[int, int]] = []
    tokens: list[str] = []
    done = 0
    for k in sorted(inner):
        offsets += zip(starts[done:k], ends[done:k], strict=True)
        tokens += texts[done:k]
        start, end = starts[k], ends[k]
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
        for a, b in itertools.pairwise([start, *inner[k], end]):
            piece = text[a:b]
            if not piece.isspace():
                offsets.append((a, b))
                tokens.append(piece)
        done = k + 1
    offsets += zip(starts[done:], ends[done:], strict=True)
    tokens += texts[done:]
    if inner:
        starts = [a for a, _ in offsets]
        ends = [b for _, b in offsets]
    tags = ["O"] * len(offsets)
    i = 0
    for ent in chosen:
        i = bisect.bisect_right(ends, ent.start, i)  # the first token ending after its start
        j = bisect.bisect_left(starts, ent.end, i)  # the first from there starting at its end
        if i == j:
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
            continue
        tags[i] = f"B-{ent.label}"
        tags[i + 1 : j] = [f"I-{ent.label}"] * (j - i - 1)
        i = j
    return (
        Tokenized(
            tokens=tuple(tokens),
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
