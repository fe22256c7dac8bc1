"""StoryIndex: LSH candidates verified by exact Jaccard, single linkage, common buckets skipped."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from corpus_tools.config import NearDuplicates
from corpus_tools.ingest import stories
from corpus_tools.ingest.stories import StoryIndex, jaccard, shingles

SETTINGS = NearDuplicates(method="minhash", shingle_size=1, num_perm=128, threshold=0.14)


def _text(rng: random.Random, vocab: list[str], n: int = 120) -> str:
    return " ".join(rng.choice(vocab) for _ in range(n)) + "."


def test_shingles_drop_stop_words_and_cut_words() -> None:
    s = shingles("The drones and the Drone were sanctioned; sanctions followed in 2023.", 1)
    assert s == {"drones", "drone", "sanctio", "followe", "2023"}
    assert shingles("alpha beta gamma delta", 2) == {"alpha beta", "beta gamma", "gamma delta"}
    assert jaccard(set(), set()) == 1.0


def test_links_near_duplicates_and_nothing_else(tmp_path: Path) -> None:
    rng = random.Random(3)
    vocab = [f"w{i:05d}x" for i in range(20_000)]
    bases = [_text(rng, vocab) for _ in range(30)]
    texts = list(bases)
    for b in bases[:10]:  # a rewrite of each of the first ten: a quarter of the words changed
        words = b.split()
        for i in rng.sample(range(len(words)), len(words) // 4):
            words[i] = rng.choice(vocab)
        texts.append(" ".join(words))
    texts.append("")  # no content words at all: a story of its own
    index = StoryIndex(SETTINGS, tmp_path)
    for t in texts:
        index.add(t)
    roots = index.components(np.ones(len(texts), dtype=bool))
    for i in range(10):
        assert roots[30 + i] == roots[i], i
    assert len(set(roots[:30].tolist())) == 30
    assert roots[-1] == len(texts) - 1
    # One verified link per rewrite; no bucket was large enough to be skipped.
    assert index.links == 10 and index.skipped_buckets == 0


def test_masked_articles_are_not_linked(tmp_path: Path) -> None:
    index = StoryIndex(SETTINGS, tmp_path)
    text = "Flood barriers along the river held overnight as water levels peaked."
    for _ in range(3):
        index.add(text)
    roots = index.components(np.array([True, False, True]))
    assert roots.tolist() == [0, 1, 0]


def test_oversized_buckets_are_skipped_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stories, "MAX_BUCKET", 3)
    index = StoryIndex(SETTINGS, tmp_path)
    for _ in range(5):
        index.add("identical wording about drones and sanctions and talks")
    roots = index.components(np.ones(5, dtype=bool))
    assert index.skipped_buckets == index.bands  # every band holds all five: all skipped
    assert len(set(roots.tolist())) == 5
