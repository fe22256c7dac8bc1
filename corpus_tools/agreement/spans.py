"""Span matching between two coders and token-level labelling of an article.

Exact match: same (start, end, label). Overlap match: same label and at least one shared code
point, paired one-to-one, largest overlap first (ties: earlier span first), so one long span
never counts as matching two short ones.

Tokens (for the chance-corrected entity figure) are runs of word characters with any
combining marks that follow them (`e\u0301` is one token), or any other single non-space
character (an emoji, a punctuation mark). Offsets are Python code points throughout.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

import numpy as np

from corpus_tools.agreement.stats import IntArray

Span = tuple[int, int, str]  # start, end, label ("" for claims)

TOKEN_RE = re.compile(
    r"(?:\w[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*)+"
    r"|\S[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*"
)


def overlap_match(
    a: Sequence[Span], b: Sequence[Span], *, same_label: bool = True
) -> list[tuple[int, int]]:
    """Index pairs (i, j) of a one-to-one overlap matching of spans `a` and `b`."""
    cand: list[tuple[int, int, int, int]] = []
    order = sorted(range(len(b)), key=lambda j: b[j][0])
    b_starts = [b[j][0] for j in order]
    longest = max((e - s for s, e, _ in b), default=0)
    for i, (s1, e1, l1) in enumerate(a):
        # only spans of b starting in [s1 - longest, e1] can overlap or equal span i
        lo = bisect.bisect_left(b_starts, s1 - longest)
        hi = bisect.bisect_right(b_starts, e1)
        for k in range(lo, hi):
            j = order[k]
            s2, e2, l2 = b[j]
            if same_label and l1 != l2:
                continue
            ov = min(e1, e2) - max(s1, s2)
            if ov > 0 or (s1 == s2 and e1 == e2):
                cand.append((-ov, min(s1, s2), i, j))
    cand.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    out: list[tuple[int, int]] = []
    for _, _, i, j in cand:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append((i, j))
    return out


def exact_matches(a: Sequence[Span], b: Sequence[Span]) -> int:
    """How many spans of `a` have an identical twin in `b` (multiset intersection)."""
    from collections import Counter

    ca, cb = Counter(a), Counter(b)
    return sum(min(n, cb[k]) for k, n in ca.items())


def tokenize(text: str) -> tuple[IntArray, IntArray]:
    """(starts, ends) of the tokens of `text`, as code-point offsets."""
    spans = [(m.start(), m.end()) for m in TOKEN_RE.finditer(text)]
    if not spans:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    arr = np.asarray(spans, dtype=np.int64)
    return arr[:, 0].copy(), arr[:, 1].copy()


def token_codes(
    starts: IntArray, ends: IntArray, spans: Sequence[tuple[int, int, int]]
) -> IntArray:
    """Per-token label code (0 = outside any entity) from spans (start, end, code ≥ 1).

    A token touched by a span takes its code; where spans overlap, the later one in the
    list wins (callers pass spans sorted by start).
    """
    out = np.zeros(len(starts), dtype=np.int64)
    for s, e, code in spans:
        lo = int(np.searchsorted(ends, s, side="right"))
        hi = int(np.searchsorted(starts, e, side="left"))
        if hi > lo:
            out[lo:hi] = code
    return out
