"""Story clusters: near-duplicate coverage of one event, grouped by MinHash LSH.

Each article becomes a set of shingles over its content words (lower-cased, English stop words
from scikit-learn dropped, words cut to their first 7 letters so that "drone"/"drones" and
"sanction"/"sanctions" meet). Two articles are linked when the exact Jaccard similarity of
those sets reaches `threshold`; a story is a connected component of links (single linkage).
MinHash LSH (datasketch, bands and rows chosen by datasketch for the threshold) only proposes
candidate pairs, so the result does not depend on MinHash estimation noise.

Memory stays flat in the number of articles: shingle sets and band keys are spilled to files
in a scratch folder; what stays in memory is a few bytes per article (numpy arrays).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from array import array
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from corpus_tools.config import NearDuplicates

if TYPE_CHECKING:
    from datasketch import MinHash

STEM_CHARS = 7
# An LSH bucket shared by more articles than this holds min-hashes of common words, not a
# story: it is skipped (counted in `skipped_buckets`), which keeps clustering near-linear.
# True near-duplicates still meet in the other bands.
MAX_BUCKET = 64
_WORD = re.compile(r"[^\W\d_]+|\d[\d.,]*\d|\d")

# datasketch and scikit-learn take ~2 s to import; they are loaded on first use, so that every
# other command (which imports this module through the CLI) starts without them.


@functools.lru_cache(maxsize=8)
def _lsh_params(threshold: float, num_perm: int, fp: float, fn: float) -> tuple[int, int]:
    from datasketch.lsh import _optimal_param

    bands, rows = _optimal_param(threshold, num_perm, fp, fn)
    return int(bands), int(rows)


@functools.cache
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@functools.cache
def _minhash_class() -> Any:
    from datasketch import MinHash

    return MinHash


def shingles(text: str, size: int) -> set[str]:
    """Shingles of `size` consecutive content words (see the module docstring)."""
    stop = _stop_words()
    words = [
        w[:STEM_CHARS]
        for w in (m.group(0) for m in _WORD.finditer(text.casefold()))
        if len(w) >= 3 and w not in stop
    ]
    if size <= 1:
        return set(words)
    return {" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}


def _hash32(s: str) -> int:
    return int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=4).digest(), "little")


def jaccard(a: set[str], b: set[str]) -> float:
    """Exact Jaccard similarity of two shingle sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


Sketch = tuple[bytes, bytes]


@functools.lru_cache(maxsize=4)
def _template(num_perm: int) -> MinHash:
    """A MinHash for seed 1 whose permutations every sketch reuses (made once, not per text)."""
    minhash: MinHash = _minhash_class()(num_perm=num_perm, seed=1)
    return minhash


def sketch(text: str, settings: NearDuplicates) -> Sketch:
    """(sorted uint32 shingle hashes, 8-byte LSH band keys) of one text, as bytes."""
    hashes = np.unique(
        np.fromiter((_hash32(s) for s in shingles(text, settings.shingle_size)), dtype=np.uint32)
    )
    bands, rows = _lsh_params(settings.threshold, settings.num_perm, 0.5, 0.5)
    template = _template(settings.num_perm)
    mh = _minhash_class()(
        num_perm=settings.num_perm,
        seed=1,
        hashfunc=int,
        permutations=template.permutations,
        scheme=template.scheme,
    )
    if len(hashes):
        mh.update_batch(hashes.tolist())
    sig = mh.hashvalues.astype(np.uint64)
    keys = b"".join(
        hashlib.blake2b(sig[b * rows : (b + 1) * rows].tobytes(), digest_size=8).digest()
        for b in range(bands)
    )
    return hashes.tobytes(), keys


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)

    def find(self, x: int) -> int:
        p = self.parent
        root = x
        while p[root] != root:
            root = int(p[root])
        while p[x] != root:
            p[x], x = root, int(p[x])
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def close_all(files: list[IO[bytes]]) -> None:
    """Close every file, even when one fails; then raise the first failure."""
    failed: OSError | None = None
    for fh in files:
        try:
            fh.close()
        except OSError as exc:
            failed = failed or exc
    if failed is not None:
        raise failed


class StoryIndex:
    """Accumulates articles (by running index) and links near-duplicates into stories."""

    def __init__(self, settings: NearDuplicates, scratch: Path) -> None:
        self.settings = settings
        self.bands, self.rows = _lsh_params(settings.threshold, settings.num_perm, 0.5, 0.5)
        self.scratch = scratch
        self._sets = open(scratch / "shingles.bin", "wb")  # noqa: SIM115 (closed in close())
        self._band_files = [
            open(scratch / f"band-{b:03d}.bin", "wb")  # noqa: SIM115
            for b in range(self.bands)
        ]
        self._offsets = array("q")
        self._pos = 0
        self.n = 0
        self.candidates = 0
        self.links = 0
        self.skipped_buckets = 0

    def add(self, text: str) -> int:
        """Index one article's text; returns its running index."""
        return self.add_sketch(sketch(text, self.settings))

    def add_sketch(self, sk: Sketch) -> int:
        """Index one article by its sketch (computed anywhere, e.g. in a worker process)."""
        hashes, keys = sk
        for b, fh in enumerate(self._band_files):
            # An article without content words gets a key of its own, so it links to nothing.
            fh.write(keys[b * 8 : (b + 1) * 8] if hashes else (self.n + 1).to_bytes(8, "little"))
        self._offsets.append(self._pos)
        self._sets.write(hashes)
        self._pos += len(hashes)
        self.n += 1
        return self.n - 1

    def close(self) -> None:
        """Close every scratch file, even when one fails (a full disk fails the flush)."""
        close_all([self._sets, *self._band_files])

    def _set(self, fd: int, i: int, ends: np.ndarray) -> np.ndarray:
        start = int(ends[i - 1]) if i else 0
        return np.frombuffer(os.pread(fd, int(ends[i]) - start, start), dtype=np.uint32)

    def components(self, keep: np.ndarray) -> np.ndarray:
        """The component root (smallest member index) of each article; `keep` masks dropped ones."""
        self.close()
        uf = _UnionFind(self.n)
        ends = np.empty(self.n, dtype=np.int64)
        if self.n:
            ends[:-1] = np.frombuffer(self._offsets, dtype=np.int64)[1:]
            ends[-1] = self._pos
        fd = os.open(self.scratch / "shingles.bin", os.O_RDONLY)
        try:
            for b in range(self.bands):
                keys = np.fromfile(self.scratch / f"band-{b:03d}.bin", dtype=np.uint64)
                idx = np.flatnonzero(keep)
                keys = keys[idx]
                order = np.argsort(keys, kind="stable")
                sk = keys[order]
                bounds = np.flatnonzero(np.diff(sk)) + 1
                for group in np.split(idx[order], bounds):
                    if len(group) < 2:
                        continue
                    if len(group) > MAX_BUCKET:
                        self.skipped_buckets += 1
                        continue
                    members = group.tolist()
                    sets: dict[int, frozenset[int]] = {}  # each member read once per bucket
                    for x, i in enumerate(members):
                        for j in members[x + 1 :]:
                            if uf.find(i) == uf.find(j):
                                continue
                            self.candidates += 1
                            if i not in sets:
                                sets[i] = frozenset(self._set(fd, i, ends).tolist())
                            if j not in sets:
                                sets[j] = frozenset(self._set(fd, j, ends).tolist())
                            a, c = sets[i], sets[j]
                            inter = len(a & c)
                            union = len(a) + len(c) - inter
                            if union and inter / union >= self.settings.threshold:
                                uf.union(i, j)
                                self.links += 1
        finally:
            os.close(fd)
        return np.array([uf.find(i) for i in range(self.n)], dtype=np.int64)
