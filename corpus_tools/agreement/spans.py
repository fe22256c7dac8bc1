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
import numpy.typing as npt

from corpus_tools.agreement.stats import IntArray

Span = tuple[int, int, str]  # start, end, label ("" for claims)

TOKEN_RE = re.compile(
    r"(?:\w[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*)+"
    r"|\S[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*"
)


def overlap_match(
    a: Sequence[Span], b: Sequence[Span], *, same_label: bool = True
) -> list[tuple[int, int]]:
    """Index pairs (i, j) of a one-to-one overlap matching of spans `a` and `b`.

    Identical spans (same offsets, and label when `same_label`) are paired first; the rest
    greedily by largest overlap, then earliest start.
    """
    out: list[tuple[int, int]] = []
    free_b: dict[tuple[int, int, str], list[int]] = {}
    for j, (s2, e2, l2) in enumerate(b):
        free_b.setdefault((s2, e2, l2 if same_label else ""), []).append(j)
    rest_a: list[int] = []
    for i, (s1, e1, l1) in enumerate(a):
        twins = free_b.get((s1, e1, l1 if same_label else ""))
        if twins:
            out.append((i, twins.pop(0)))
        else:
            rest_a.append(i)
    rest_b = sorted((j for js in free_b.values() for j in js), key=lambda j: b[j][0])
    if not rest_a or not rest_b:
        return sorted(out)
    b_starts = [b[j][0] for j in rest_b]
    longest = max(b[j][1] - b[j][0] for j in rest_b)
    cand: list[tuple[int, int, int, int]] = []
    for i in rest_a:
        s1, e1, l1 = a[i]
        # only spans of b starting in [s1 - longest, e1] can overlap span i
        lo = bisect.bisect_left(b_starts, s1 - longest)
        hi = bisect.bisect_right(b_starts, e1)
        for k in range(lo, hi):
            j = rest_b[k]
            s2, e2, l2 = b[j]
            if same_label and l1 != l2:
                continue
            ov = min(e1, e2) - max(s1, s2)
            if ov > 0:
                cand.append((-ov, min(s1, s2), i, j))
    cand.sort()
    used_a: set[int] = set()
    used_b: set[int] = set()
    for _, _, i, j in cand:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        out.append((i, j))
    return sorted(out)


def exact_matches(a: Sequence[Span], b: Sequence[Span]) -> int:
    """How many spans of `a` have an identical twin in `b` (multiset intersection)."""
    from collections import Counter

    ca, cb = Counter(a), Counter(b)
    return sum(min(n, cb[k]) for k, n in ca.items())


_MARKS = ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F))
_SPACE, _WORD, _OTHER, _MARK = 0, 1, 2, 3


def _char_class(c: str) -> int:
    o = ord(c)
    if any(lo <= o <= hi for lo, hi in _MARKS):
        return _MARK
    if c.isspace():
        return _SPACE
    return _WORD if (c.isalnum() or c == "_") else _OTHER


_BMP_CLASS: npt.NDArray[np.int8] | None = None


def _classes(cps: npt.NDArray[np.uint32]) -> npt.NDArray[np.int8]:
    """Character class per code point: a lookup table for the BMP, Python for the rest."""
    global _BMP_CLASS
    if _BMP_CLASS is None:
        _BMP_CLASS = np.fromiter(
            (_char_class(chr(o)) if not 0xD800 <= o <= 0xDFFF else _OTHER for o in range(0x10000)),
            dtype=np.int8,
            count=0x10000,
        )
    astral = cps > 0xFFFF
    cls = _BMP_CLASS[np.where(astral, 0, cps)]
    for i in np.flatnonzero(astral):
        cls[i] = _char_class(chr(int(cps[i])))
    return cls


def tokenize(text: str) -> tuple[IntArray, IntArray]:
    """(starts, ends) of the tokens of `text`, as code-point offsets; the same tokens as
    `TOKEN_RE.finditer(text)` (a property test holds them equal), computed with numpy."""
    if not text:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    cls = _classes(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32))
    n = len(cls)
    pos = np.arange(n)
    # a mark takes the class of the nearest non-mark before it (its base character)
    base = np.maximum.accumulate(np.where(cls != _MARK, pos, -1))
    eff = np.where(base >= 0, cls[np.maximum(base, 0)], _OTHER)
    eff = np.where((cls == _MARK) & (base < 0), _OTHER, eff)
    prev = np.concatenate([[_SPACE], eff[:-1]])
    start_mask = (cls != _MARK) & (eff != _SPACE) & ~((eff == _WORD) & (prev == _WORD))
    # a mark right after a space (or at the start) is a token of its own, like the regex's \S
    start_mask |= (cls == _MARK) & (np.concatenate([[_SPACE], cls[:-1]]) == _SPACE)
    starts = np.flatnonzero(start_mask)
    boundaries = np.flatnonzero(start_mask | (cls == _SPACE))
    nxt = np.searchsorted(boundaries, starts, side="right")
    ends = np.where(nxt < len(boundaries), boundaries[np.minimum(nxt, len(boundaries) - 1)], n)
    return starts.astype(np.int64), ends.astype(np.int64)


def tokenize_re(text: str) -> tuple[IntArray, IntArray]:
    """The reference tokenizer: `TOKEN_RE` over the text (slow; used to check `tokenize`)."""
    spans = [m.span() for m in TOKEN_RE.finditer(text)]
    arr = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    return arr[:, 0].copy(), arr[:, 1].copy()


def token_codes(
    starts: IntArray, ends: IntArray, spans: Sequence[tuple[int, int, int]]
) -> IntArray:
    """Per-token label code (0 = outside any entity) from spans (start, end, code ≥ 1).

    A token touched by a span takes its code; where spans overlap, the later one in the
    list wins (callers pass spans sorted by start).
    """
    out = np.zeros(len(starts), dtype=np.int64)
    if not spans:
        return out
    arr = np.asarray(spans, dtype=np.int64).reshape(-1, 3)
    lo = np.searchsorted(ends, arr[:, 0], side="right")
    hi = np.searchsorted(starts, arr[:, 1], side="left")
    keep = hi > lo
    lo, hi, code = lo[keep], hi[keep], arr[keep, 2]
    if len(lo) > 1 and bool(np.any(lo[1:] < np.maximum.accumulate(hi)[:-1])):
        for a, b, c in zip(lo.tolist(), hi.tolist(), code.tolist(), strict=True):
            out[a:b] = c  # overlapping spans: paint in order
        return out
    diff = np.zeros(len(starts) + 1, dtype=np.int64)
    np.add.at(diff, lo, code)
    np.add.at(diff, hi, -code)
    return np.cumsum(diff[:-1])
