"""Story clustering's own MinHash, LSH parameters, band keys and exact intersections, checked
against independent implementations: datasketch (MinHash, MinHashLSH's bands and rows) and
Python sets; and the stop-word copy against scikit-learn's list."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tools.config import NearDuplicates
from corpus_tools.ingest import stories
from corpus_tools.ingest.stopwords import ENGLISH_STOP_WORDS
from corpus_tools.ingest.stories import (
    StoryIndex,
    band_keys,
    intersections,
    lsh_params,
    minhash,
    shingle_hashes,
    shingles,
)


def test_stop_words_equal_scikit_learns() -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS as SKLEARN

    assert frozenset(SKLEARN) == ENGLISH_STOP_WORDS
    assert len(ENGLISH_STOP_WORDS) == 318


@pytest.mark.parametrize("num_perm", [16, 64, 128, 256])
@pytest.mark.parametrize("threshold", [0.05, 0.1, 0.14, 0.2, 0.3, 0.5, 0.7, 0.9])
def test_bands_and_rows_are_datasketchs(threshold: float, num_perm: int) -> None:
    try:
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=(0.5, 0.5))
    except ValueError as exc:  # datasketch wants at least two bands
        assert "b < 2" in str(exc)
        assert lsh_params(threshold, num_perm)[0] < 2
        return
    assert lsh_params(threshold, num_perm) == (lsh.b, lsh.r)


@pytest.mark.parametrize("num_perm", [16, 128])
def test_minhash_is_datasketchs(num_perm: int) -> None:
    rng = random.Random(5)
    for size in (0, 1, 2, 50, 400):
        values = np.array(sorted({rng.getrandbits(32) for _ in range(size)}), dtype=np.uint32)
        ref = MinHash(num_perm=num_perm, seed=1, hashfunc=int)
        if size:
            ref.update_batch(values.tolist())
        assert minhash(values, num_perm).tolist() == ref.hashvalues.tolist(), size


def test_shingle_hashes_are_blake2b_of_each_shingle() -> None:
    words = shingles("Drones struck the depot; sanctions followed, and drones returned in 2023.", 1)
    want = sorted(
        int.from_bytes(hashlib.blake2b(w.encode(), digest_size=4).digest(), "little") for w in words
    )
    assert shingle_hashes(words).tolist() == want
    assert shingle_hashes(words).tolist() == want  # from the cache, the same


def test_band_keys_partition_like_a_hash_of_the_band() -> None:
    """Two signatures share a band key exactly when the band's values are equal."""
    rng = np.random.default_rng(3)
    for rows in (1, 2, 3):
        sigs = rng.integers(0, 4, size=(40, 6 * rows), dtype=np.uint32)  # many equal bands
        keys = np.array([band_keys(s, 6, rows) for s in sigs])
        for a in range(40):
            for b in range(40):
                for band in range(6):
                    same = (
                        sigs[a, band * rows : (band + 1) * rows]
                        == sigs[b, band * rows : (band + 1) * rows]
                    ).all()
                    assert (keys[a, band] == keys[b, band]) == same


def test_intersections_equal_python_sets() -> None:
    rng = random.Random(9)
    sets = [sorted({rng.randrange(500) for _ in range(rng.randrange(0, 120))}) for _ in range(60)]
    flat = np.array([v for s in sets for v in s], dtype=np.uint32)
    lengths = np.array([len(s) for s in sets], dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    i = np.array([a for a in range(60) for b in range(a + 1, 60)])
    j = np.array([b for a in range(60) for b in range(a + 1, 60)])
    got = intersections(flat, starts, lengths, i, j)
    assert got.tolist() == [len(set(sets[a]) & set(sets[b])) for a, b in zip(i, j, strict=True)]


def test_intersections_of_32_bit_values_in_any_pair_order() -> None:
    """Values sharing their low bits (they collide in the kernel's table), the largest uint32,
    empty sets, pairs not sorted by i and pairs of a set with itself."""
    rng = random.Random(11)
    pool = [k << 20 for k in range(4000)] + [0xFFFFFFFF, 0, 1, (1 << 31) + 5]
    pool += [rng.randrange(1 << 32) for _ in range(3000)]
    sets = [sorted(set(rng.sample(pool, rng.randrange(0, 700)))) for _ in range(80)]
    flat = np.array([v for s in sets for v in s], dtype=np.uint32)
    lengths = np.array([len(s) for s in sets], dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    i = np.array([rng.randrange(80) for _ in range(3000)])
    j = np.array([rng.randrange(80) for _ in range(3000)])
    for a, b in ((i, j), (np.sort(i), j)):
        got = intersections(flat, starts, lengths, a, b)
        want = [len(set(sets[x]) & set(sets[y])) for x, y in zip(a, b, strict=True)]
        assert got.tolist() == want


def test_pairs_met_in_many_bands_are_checked_once(tmp_path: Path) -> None:
    settings = NearDuplicates(threshold=0.14, num_perm=128)
    index = StoryIndex(settings, tmp_path)
    text = "Flood barriers along the river held overnight as water levels peaked downstream."
    for _ in range(3):
        index.add(text)
    roots = index.components(np.ones(3, dtype=bool))
    assert roots.tolist() == [0, 0, 0]
    assert index.candidates == 3 and index.links == 2


def test_spilled_band_keys_cover_every_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Band keys are flushed in blocks: a block boundary loses or moves none."""
    monkeypatch.setattr(StoryIndex, "FLUSH", 3)
    settings = NearDuplicates(threshold=0.14, num_perm=128)
    rng = random.Random(2)
    vocab = [f"w{i:04d}q" for i in range(3000)]
    texts = [" ".join(rng.choice(vocab) for _ in range(80)) for _ in range(7)]
    texts += texts[:4]  # copies of the first four, read after a flush
    index = StoryIndex(settings, tmp_path)
    for t in texts:
        index.add(t)
    roots = index.components(np.ones(len(texts), dtype=bool))
    assert roots.tolist() == [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3]
    assert stories.MAX_BUCKET == 64


def test_word_hashes_equal_the_hashes_of_the_shingles() -> None:
    """The per-word path of `sketch` gives the hashes of `shingles(text, 1)`."""
    rng = random.Random(4)
    words = ["Drones", "drone", "the", "Sanctions", "sanction", "ab", "2023", "3", "Übergang"]
    words += ["about", "x1y", "résumé", "naïveté", "éé"] + [f"w{k}" for k in range(50)]
    for _ in range(200):
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(0, 60)))
        want = shingle_hashes(shingles(text, 1)).tolist()
        assert stories._word_hashes(text).tolist() == want, text


def test_intersections_split_between_threads_are_the_same() -> None:
    rng = random.Random(8)
    sets = [sorted({rng.randrange(300) for _ in range(rng.randrange(0, 90))}) for _ in range(40)]
    flat = np.array([v for s in sets for v in s], dtype=np.uint32)
    lengths = np.array([len(s) for s in sets], dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    i = np.array([a for a in range(40) for b in range(a + 1, 40)])
    j = np.array([b for a in range(40) for b in range(a + 1, 40)])
    one = intersections(flat, starts, lengths, i, j)
    assert intersections(flat, starts, lengths, i, j, threads=3).tolist() == one.tolist()


WORDISH = ["Drones", "the", "2,000", "3.5.", "u.s.", ",", ".", "_x_", "ab", "²", "résumé", "à"]
WORDISH += [" ", "\n", "-", "'", "(", "1", "a1b", "x.y", "Übergang", "..", "9,", ",9"]
WORDISH += ["\x1c", "\xa0", "\u2003", "ǅ", "ﬁ"]  # whitespace str.split() splits on; casefold


@settings(deadline=None)
@given(
    st.lists(
        st.sampled_from(WORDISH),
        max_size=40,
    ).map("".join)
    | st.text(max_size=60)
)
def test_word_hashes_by_token_equal_the_hashes_of_the_shingles(text: str) -> None:
    assert stories._word_hashes(text).tolist() == shingle_hashes(shingles(text, 1)).tolist()


def test_loading_the_kernel_leaves_scipy_importable() -> None:
    """`_jaccard` blocks numba's BLAS probe (scipy.linalg) while it loads: only then."""
    code = (
        "import sys\n"
        "from corpus_tools.ingest import _jaccard\n"
        "assert sys.modules.get('scipy.linalg', 0) is not None\n"
        "import scipy.linalg\n"
        "assert scipy.linalg.cython_blas is not None\n"
        "import numpy as np\n"
        "s = np.array([1, 2, 3, 2, 3, 4], np.uint32)\n"
        "n = np.array([0, 3]); m = np.array([3, 3])\n"
        "print(_jaccard.intersections(s, n, m, np.array([0]), np.array([1]))[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"
