"""Story clusters: near-duplicate coverage of one event, grouped by MinHash LSH.

Each article becomes a set of shingles over its content words (lower-cased, English stop words
dropped (scikit-learn's list, copied in `ingest.stopwords`), words cut to their first 7 letters
so that "drone"/"drones" and "sanction"/"sanctions" meet). Two articles are linked when the
exact Jaccard similarity of those sets reaches `threshold`; a story is a connected component of
links (single linkage). MinHash LSH only proposes candidate pairs, so the result does not
depend on MinHash estimation noise.

The MinHash is datasketch's (2.x, scheme "affine32", seed 1: the MurmurHash3 finalizer, then
`a * h + b` modulo 2^32), computed here with numpy for a whole set at once; the bands and rows
are the ones datasketch's MinHashLSH picks for the threshold (weights 0.5/0.5), computed here
the same way. tests/test_ingest_minhash.py checks both against datasketch, which ingest does
not import (with its scipy it cost half a second of every run).

Shingles are hashed to 32 bits (blake2b, kept in a bounded per-process cache: most words
repeat); a band's key is its `rows` MinHash values packed into 64 bits when they fit (they
do for rows <= 2: no hash, no collision), else a blake2b of them. Only the partition of the
articles by key matters, not the key values.

Clustering checks every pair of articles that share a band key (in buckets of at most
MAX_BUCKET articles) once, with its exact Jaccard similarity from the sorted uint32 hash
arrays, counted by a compiled kernel (`ingest._jaccard`, numba). Memory stays flat in the
number of articles: shingle sets, band keys and candidate pairs (by blocks of articles) are
spilled to files in a scratch folder, and the sets are read through a memory map. The
stories depend only on which articles share a key, not on the order of the checks, so they
are the same as when each bucket was checked pair by pair with Python sets.
"""

from __future__ import annotations

import functools
import hashlib
import re
from array import array
from pathlib import Path
from typing import IO

import numpy as np

from corpus_tools.config import NearDuplicates
from corpus_tools.ingest.stopwords import ENGLISH_STOP_WORDS

STEM_CHARS = 7
# An LSH bucket shared by more articles than this holds min-hashes of common words, not a
# story: it is skipped (counted in `skipped_buckets`), which keeps clustering near-linear.
# True near-duplicates still meet in the other bands.
MAX_BUCKET = 64
_WORD = re.compile(r"[^\W\d_]+|\d[\d.,]*\d|\d")
# Articles per block of candidate pairs (pairs are spilled, then checked block by block).
BLOCK = 4096
# Entries of each hash cache (per process, ~30 MB at most each; past it, new ones are not kept).
HASH_CACHE = 1 << 18

_MAX32 = np.uint32(0xFFFFFFFF)


def _false_positive(threshold: float, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    s = np.linspace(0.0, threshold, _STEPS + 1)[:, None]
    return _simpson(1 - (1 - s ** r[None, :]) ** b[None, :], threshold)


def _false_negative(threshold: float, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    s = np.linspace(threshold, 1.0, _STEPS + 1)[:, None]
    return _simpson((1 - s ** r[None, :]) ** b[None, :], 1.0 - threshold)


_STEPS = 2000  # Simpson intervals: the integrals agree with scipy's quad to ~1e-12


def _simpson(y: np.ndarray, width: float) -> np.ndarray:
    h = width / _STEPS
    out: np.ndarray = (h / 3) * (y[0] + y[-1] + 4 * y[1:-1:2].sum(0) + 2 * y[2:-1:2].sum(0))
    return out


@functools.lru_cache(maxsize=8)
def lsh_params(
    threshold: float, num_perm: int, fp: float = 0.5, fn: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) minimising fp * P(false positive) + fn * P(false negative), as datasketch's
    MinHashLSH chooses them (same search order: the first minimum over b, then r, wins)."""
    b = np.array([b for b in range(1, num_perm + 1) for _ in range(1, num_perm // b + 1)])
    r = np.array([r for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)])
    error = _false_positive(threshold, b, r) * fp + _false_negative(threshold, b, r) * fn
    best = int(np.argmin(error))
    return int(b[best]), int(r[best])


@functools.lru_cache(maxsize=4)
def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a odd, b) for `seed`, as uint32."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def minhash(hashes: np.ndarray, num_perm: int, seed: int = 1) -> np.ndarray:
    """The MinHash signature (uint32[num_perm]) of a set of uint32 hashes, equal to datasketch's
    `MinHash(num_perm, seed, hashfunc=int).update_batch(hashes)` (scheme affine32)."""
    a, b = permutations(num_perm, seed)
    if not len(hashes):
        return np.full(num_perm, _MAX32, dtype=np.uint32)
    h = hashes.astype(np.uint32, copy=False)
    hv = h >> _S16  # the MurmurHash3 finalizer, in place after this first array
    hv ^= h
    hv *= _M1
    hv ^= hv >> _S13
    hv *= _M2
    hv ^= hv >> _S16
    values = np.multiply.outer(hv, a)
    values += b
    sig: np.ndarray = values.min(axis=0)
    return sig


_S13, _S16 = np.uint32(13), np.uint32(16)
_M1, _M2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)


def shingles(text: str, size: int) -> set[str]:
    """Shingles of `size` consecutive content words (see the module docstring)."""
    found = _WORD.findall(text.casefold())
    if size <= 1:  # the same set, from each distinct word once
        return {w[:STEM_CHARS] for w in set(found).difference(ENGLISH_STOP_WORDS) if len(w) >= 3}
    stop = ENGLISH_STOP_WORDS
    words = [w[:STEM_CHARS] for w in found if len(w) >= 3 and w not in stop]
    return {" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}


def _hash32(s: str) -> bytes:
    return hashlib.blake2b(s.encode("utf-8"), digest_size=4).digest()


_hash_cache: dict[str, bytes] = {}


def shingle_hashes(items: set[str]) -> np.ndarray:
    """The sorted, unique 32-bit hashes (blake2b, little-endian) of a set of shingles."""
    cache = _hash_cache
    missing = items.difference(cache)  # a dict: only `items` is walked
    if len(cache) + len(missing) <= HASH_CACHE:
        for s in missing:
            cache[s] = _hash32(s)
        digests = b"".join(map(cache.__getitem__, items))
    else:  # full: hash what it does not hold (it keeps the words met first, the common ones)
        digests = b"".join(d if (d := cache.get(s)) is not None else _hash32(s) for s in items)
    return _sorted_unique(np.frombuffer(digests, dtype="<u4").astype(np.uint32))


def jaccard(a: set[str], b: set[str]) -> float:
    """Exact Jaccard similarity of two shingle sets (1.0 for two empty sets)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


# (sorted uint32 shingle hashes, 8-byte LSH band keys) of one text, as bytes.
Sketch = tuple[bytes, bytes]


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 key per band: the band's `rows` values packed (rows <= 2), else hashed."""
    sig64 = sig[: bands * rows].astype(np.uint64).reshape(bands, rows)
    if rows == 1:
        return sig64[:, 0].copy()
    if rows == 2:
        keys: np.ndarray = (sig64[:, 0] << np.uint64(32)) | sig64[:, 1]
        return keys
    return np.frombuffer(
        b"".join(hashlib.blake2b(row.tobytes(), digest_size=8).digest() for row in sig64),
        dtype=np.uint64,
    ).copy()


def sketch(text: str, settings: NearDuplicates) -> Sketch:
    """(sorted uint32 shingle hashes, 8-byte LSH band keys) of one text, as bytes."""
    if settings.shingle_size <= 1:
        hashes = _word_hashes(text)
    else:
        hashes = shingle_hashes(shingles(text, settings.shingle_size))
    bands, rows = lsh_params(settings.threshold, settings.num_perm)
    keys = band_keys(minhash(hashes, settings.num_perm), bands, rows)
    return hashes.tobytes(), keys.tobytes()


class _WordDigests(dict[str, bytes]):
    """word -> the 32-bit hash (4 bytes) of its single-word shingle, b"" for stop words and
    words under 3 letters; a miss is computed by `__missing__` and kept while the cache has
    room (HASH_CACHE words: the ones met first, the common ones)."""

    def __missing__(self, word: str) -> bytes:
        d = b"" if len(word) < 3 or word in ENGLISH_STOP_WORDS else _hash32(word[:STEM_CHARS])
        if len(self) < HASH_CACHE:
            self[word] = d
        return d


class _TokenDigests(dict[str, bytes]):
    """A whitespace-free token ("drones,", "(u.s.", "2,000") -> the digests of the words
    `_WORD` finds in it, joined; kept like `_WordDigests`."""

    def __missing__(self, token: str) -> bytes:
        if token.isalpha():  # one word (letters are word characters, never digits)
            d = _word_digests[token]
        else:
            d = b"".join(map(_word_digests.__getitem__, _WORD.findall(token)))
        if len(self) < HASH_CACHE:
            self[token] = d
        return d


_word_digests = _WordDigests()
_token_digests = _TokenDigests()


def _word_hashes(text: str) -> np.ndarray:
    """`shingle_hashes(shingles(text, 1))`, from each distinct whitespace-separated token of
    the text once: a word never spans whitespace (`_WORD` matches letters, digits, "." and
    ","), so the words found in the tokens are the words found in the text; a known token is
    one dictionary look-up (no regex, stemming, stop-word test or hash again)."""
    found = set(text.casefold().split())
    digests = b"".join(map(_token_digests.__getitem__, found))
    return _sorted_unique(np.frombuffer(digests, dtype="<u4").astype(np.uint32))


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique(values), by a sort and a mask (np.unique hashes first: several times slower)."""
    values = np.sort(values)
    if len(values) > 1:  # two shingles may share a 32-bit hash, two words a stem, ...
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    return values


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


_TRIU: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def intersections(
    sets: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    i: np.ndarray,
    j: np.ndarray,
    threads: int = 1,
) -> np.ndarray:
    """|set_i & set_j| for each pair, from sorted unique uint32 sets (concatenated in `sets`),
    by the compiled kernel in `ingest._jaccard` (numba: imported only when there are pairs);
    with `threads` > 1 the pairs are split between threads (the kernel releases the GIL)."""
    from corpus_tools.ingest import _jaccard

    if threads <= 1 or len(i) < 2 * threads:
        return _jaccard.intersections(sets, starts, lengths, i, j)
    from concurrent.futures import ThreadPoolExecutor

    cuts = np.linspace(0, len(i), threads + 1).astype(np.int64).tolist()
    with ThreadPoolExecutor(threads) as pool:
        parts = pool.map(
            lambda k: _jaccard.intersections(
                sets, starts, lengths, i[cuts[k] : cuts[k + 1]], j[cuts[k] : cuts[k + 1]]
            ),
            range(threads),
        )
        return np.concatenate(list(parts))


class StoryIndex:
    """Accumulates articles (by running index) and links near-duplicates into stories."""

    FLUSH = 4096  # band keys kept in memory before they are spilled

    def __init__(self, settings: NearDuplicates, scratch: Path) -> None:
        self.settings = settings
        self.bands, self.rows = lsh_params(settings.threshold, settings.num_perm)
        self.scratch = scratch
        self._sets = open(scratch / "shingles.bin", "wb")  # noqa: SIM115 (closed in close())
        self._band_files = [
            open(scratch / f"band-{b:03d}.bin", "wb")  # noqa: SIM115
            for b in range(self.bands)
        ]
        self._keys: list[bytes] = []
        self._lengths = array("q")
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
        self._keys.append(keys)
        if len(self._keys) >= self.FLUSH:
            self._flush()
        self._lengths.append(len(hashes) // 4)
        self._sets.write(hashes)
        self.n += 1
        return self.n - 1

    def _flush(self) -> None:
        if self._keys:
            block = np.frombuffer(b"".join(self._keys), dtype=np.uint64).reshape(-1, self.bands)
            for b, fh in enumerate(self._band_files):
                fh.write(block[:, b].tobytes())
            self._keys = []

    def close(self) -> None:
        """Close every scratch file, even when one fails (a full disk fails the flush)."""
        try:
            if not self._band_files[0].closed:
                self._flush()
        finally:
            close_all([self._sets, *self._band_files])

    def components(self, keep: np.ndarray, threads: int = 1) -> np.ndarray:
        """The component root (smallest member index) of each article; `keep` masks dropped ones.
        `threads` share the exact checks."""
        self.close()
        n = self.n
        lengths = np.frombuffer(self._lengths, dtype=np.int64) if n else np.zeros(0, np.int64)
        starts = np.cumsum(lengths) - lengths
        # An article without content words links to nothing.
        idx = np.flatnonzero(keep & (lengths > 0))
        # Candidate pairs (i < j, as i * n + j) are spilled by blocks of i, so that each block
        # is deduplicated and checked on its own: memory stays flat however many there are.
        span = max(n, 1)
        blocks = min(256, max(1, -(-n // BLOCK)))
        edges = np.array([k * span // blocks * span for k in range(blocks + 1)], dtype=np.uint64)
        edges[-1] = np.uint64(span * span)
        names = [self.scratch / f"pairs-{k:03d}.bin" for k in range(blocks)]
        files: list[IO[bytes]] = [open(name, "wb") for name in names]  # noqa: SIM115
        try:
            for b in range(self.bands):
                keys = np.fromfile(self.scratch / f"band-{b:03d}.bin", dtype=np.uint64)[idx]
                i, j, skipped = bucket_pairs(idx, (keys,), MAX_BUCKET)
                self.skipped_buckets += skipped
                if not len(i):
                    continue
                codes = np.sort(i.astype(np.uint64) * np.uint64(span) + j.astype(np.uint64))
                cut = np.searchsorted(codes, edges)
                for k, fh in enumerate(files):
                    fh.write(codes[cut[k] : cut[k + 1]].tobytes())
        finally:
            close_all(files)
        parent = np.arange(n, dtype=np.int64)
        sets = np.memmap(self.scratch / "shingles.bin", dtype=np.uint32, mode="r") if n else None
        for name in names:
            pairs = _sorted_unique(np.fromfile(name, dtype=np.uint64))  # met in several bands
            name.unlink()
            if not len(pairs) or sets is None:
                continue
            i = (pairs // np.uint64(span)).astype(np.int64)
            j = (pairs % np.uint64(span)).astype(np.int64)
            self.candidates += len(pairs)
            inter = intersections(sets, starts, lengths, i, j, threads)
            linked = is_link(inter, lengths[i], lengths[j], self.settings.threshold)
            self.links += _union_all(parent, i[linked], j[linked])
        return _roots(parent)


def bucket_pairs(
    members: np.ndarray, keys: tuple[np.ndarray, ...], max_bucket: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The candidate pairs (i, j), i < j, of `members` (one key tuple each: members with equal
    keys share a bucket), and the number of buckets over `max_bucket` members, skipped. Pairs
    met in two buckets are not deduplicated here. One implementation for StoryIndex (one band
    key per call) and `ingest.stories_ray` (a partition of (band, key) rows)."""
    # (lexsort: the last key sorts first; only the grouping matters)
    order = np.argsort(keys[0], kind="stable") if len(keys) == 1 else np.lexsort(keys)
    changed = np.zeros(max(len(order) - 1, 0), dtype=bool)
    for key in keys:
        sk = key[order]
        changed |= sk[1:] != sk[:-1]
    bounds = np.concatenate(([0], np.flatnonzero(changed) + 1, [len(order)]))
    sizes = np.diff(bounds)
    skipped = int(np.count_nonzero(sizes > max_bucket))
    sel = np.flatnonzero((sizes >= 2) & (sizes <= max_bucket))
    if not len(sel):
        none = np.zeros(0, dtype=members.dtype)
        return none, none.copy(), skipped
    i, j = _bucket_pairs_of(members[order], bounds[sel], bounds[sel + 1])
    return i, j, skipped


def is_link(
    inter: np.ndarray, len_i: np.ndarray, len_j: np.ndarray, threshold: float
) -> np.ndarray:
    """Which candidate pairs are links: exact Jaccard `inter / union >= threshold`, with
    `union = len_i + len_j - inter` in int64, divided in float64 (one rule for StoryIndex and
    `ingest.stories_ray`, so both draw the line at the same pairs)."""
    inter = inter.astype(np.int64, copy=False)
    union = len_i.astype(np.int64, copy=False) + len_j.astype(np.int64, copy=False) - inter
    linked: np.ndarray = inter / union >= threshold
    return linked


def _bucket_pairs_of(
    members: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j), i < j, of the members of each bucket members[start:end]."""
    sizes = ends - starts
    firsts, seconds = [], []
    for size in _sorted_unique(sizes).tolist():
        s = starts[sizes == size]
        grid = members[s[:, None] + np.arange(size)[None, :]]  # (buckets, size)
        iu = _TRIU.get(size)
        if iu is None:
            iu = _TRIU[size] = np.triu_indices(size, 1)
        firsts.append(grid[:, iu[0]].ravel())
        seconds.append(grid[:, iu[1]].ravel())
    i, j = np.concatenate(firsts), np.concatenate(seconds)
    return np.minimum(i, j), np.maximum(i, j)


def _find(parent: np.ndarray, x: int) -> int:
    root = x
    while parent[root] != root:
        root = int(parent[root])
    while parent[x] != root:
        parent[x], x = root, int(parent[x])
    return root


def _union_all(parent: np.ndarray, i: np.ndarray, j: np.ndarray) -> int:
    """Union every pair (the smaller root becomes the parent); returns the merges made."""
    merges = 0
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        ra, rb = _find(parent, a), _find(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
            merges += 1
    return merges


def _roots(parent: np.ndarray) -> np.ndarray:
    """Each element's root, with the paths compressed: the smallest index of its component."""
    roots = parent.copy()
    while True:
        nxt = roots[roots]
        if np.array_equal(nxt, roots):
            return roots
        roots = nxt
