"""Story clustering on Ray (`ingest.stories_ray`) against the single-machine StoryIndex, and its
connected components against a union-find, on a real local Ray (the `ray_cluster` fixture)."""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from corpus_tools.config import NearDuplicates
from corpus_tools.ingest import stories
from corpus_tools.ingest.stories import StoryIndex, sketch

SETTINGS = NearDuplicates(method="minhash", shingle_size=1, num_perm=128, threshold=0.14)


def _texts(n: int, seed: int) -> list[str]:
    """`n` texts: unrelated ones, planted groups of rewrites (a quarter to a half of the words
    changed, so some pairs link and some only through a third text), a few empty ones."""
    rng = random.Random(seed)
    vocab = [f"w{i:05d}x" for i in range(30_000)]
    out: list[str] = []
    while len(out) < n:
        base = [rng.choice(vocab) for _ in range(rng.randint(20, 150))]
        out.append(" ".join(base))
        if rng.random() < 0.4:
            for _ in range(rng.randint(1, 5)):
                words = list(base)
                changed = rng.randint(len(words) // 4, len(words) // 2)
                for k in rng.sample(range(len(words)), changed):
                    words[k] = rng.choice(vocab)
                out.append(" ".join(words))
        if rng.random() < 0.02:
            out.append("the and of 12")  # no content word: links to nothing
    rng.shuffle(out)
    return out[:n]


def _node_ids(n: int, seed: int) -> np.ndarray:
    """Distinct random 64-bit ids (high bits set too), as `ingest` makes them from article ids."""
    rng = np.random.default_rng(seed)
    ids = np.unique(rng.integers(0, 2**64 - 1, size=2 * n, dtype=np.uint64, endpoint=True))
    ids = ids[rng.permutation(len(ids))][:n]
    assert len(ids) == n
    return ids


def _local(
    sketches: list[tuple[bytes, bytes]], ids: np.ndarray, tmp_path: Path
) -> tuple[dict[int, int], tuple[int, int, int]]:
    """StoryIndex's answer: node -> smallest node of its story (stories of 2+), and its counts."""
    index = StoryIndex(SETTINGS, tmp_path)
    for sk in sketches:
        index.add_sketch(sk)
    roots = index.components(np.ones(len(sketches), dtype=bool))
    members: dict[int, list[int]] = {}
    for k, r in enumerate(roots.tolist()):
        members.setdefault(r, []).append(int(ids[k]))
    answer = {node: min(group) for group in members.values() if len(group) > 1 for node in group}
    return answer, (index.candidates, index.links, index.skipped_buckets)


def _nodes_ds(ray: Any, sketches: list[tuple[bytes, bytes]], ids: np.ndarray, blocks: int) -> Any:
    table = pa.table(
        {
            "node": pa.array(ids, pa.uint64()),
            "hashes": pa.array([h for h, _ in sketches], pa.binary()),
            "bands": pa.array([b for _, b in sketches], pa.binary()),
        }
    )
    return ray.data.from_arrow(table).repartition(blocks)


def _ray_answer(ds: Any) -> dict[int, int]:
    rows = ds.to_arrow_refs()
    import ray

    table = pa.concat_tables(ray.get(rows)) if rows else None
    if table is None or table.num_rows == 0:
        return {}
    nodes = table.column("node").to_pylist()
    assert len(nodes) == len(set(nodes)), "a node has two rows"
    return dict(zip(nodes, table.column("root").to_pylist(), strict=True))


def test_same_stories_and_counts_as_story_index(ray_cluster: Any, tmp_path: Path) -> None:
    from corpus_tools.ingest.stories_ray import story_roots

    texts = _texts(3000, seed=5)
    sketches = [sketch(t, SETTINGS) for t in texts]
    ids = _node_ids(len(texts), seed=6)
    expected, (candidates, links, skipped) = _local(sketches, ids, tmp_path)
    assert links > 300 and candidates > links  # the corpus plants stories and near-misses
    context = ray_cluster.data.DataContext.get_current()
    strategy = context.shuffle_strategy
    results = {}
    for parts in (1, 7):
        start = time.perf_counter()
        nodes = _nodes_ds(ray_cluster, sketches, ids, 6)
        roots, stats = story_roots(nodes, SETTINGS, partitions=parts)
        got = _ray_answer(roots)
        results[parts] = (got, stats)
        print(
            f"stories: {len(texts)} nodes, {parts} partitions, {time.perf_counter() - start:.1f} s"
        )
        assert got == expected
        counted = (stats.candidates, stats.links, stats.skipped_buckets)
        assert counted == (candidates, links, skipped)
        assert stats.rounds >= 1 and stats.shuffled_bytes > 0
    # The components steps depend on the links only, not on the partitioning.
    assert results[1][1].rounds == results[7][1].rounds
    # The run chose its shuffle on its own copy of the DataContext: the caller's is unchanged.
    assert context.shuffle_strategy == strategy == nodes.context.shuffle_strategy


def test_oversized_buckets_skipped_and_empty_sets(
    ray_cluster: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Buckets over MAX_BUCKET are skipped in both (counted alike); a group linked only through
    an oversized bucket stays apart; empty shingle sets link to nothing, even to each other."""
    from corpus_tools.ingest.stories_ray import story_roots

    monkeypatch.setattr(stories, "MAX_BUCKET", 4)
    texts = _texts(300, seed=9)
    same = "harbour cranes stalled strike dockers wages talks resumed monday"
    texts += [same] * 5  # one bucket of 5 in every band: all skipped
    texts += [same + " port"] * 3 + [same + " ships"] * 1  # near, in buckets of 4 or more
    texts += ["", "the of and", ""]
    sketches = [sketch(t, SETTINGS) for t in texts]
    ids = _node_ids(len(texts), seed=10)
    expected, (candidates, links, skipped) = _local(sketches, ids, tmp_path)
    assert skipped >= stories.lsh_params(SETTINGS.threshold, SETTINGS.num_perm)[0]
    roots, stats = story_roots(_nodes_ds(ray_cluster, sketches, ids, 3), SETTINGS, partitions=3)
    assert _ray_answer(roots) == expected
    assert (stats.candidates, stats.links, stats.skipped_buckets) == (candidates, links, skipped)
    # The five copies share every bucket (of 5 or more): they link to nothing.
    copies = {int(ids[k]) for k, t in enumerate(texts) if t == same}
    assert len(copies) == 5 and not copies & set(expected)
    empty = {int(ids[k]) for k, (h, _) in enumerate(sketches) if not h}
    assert len(empty) >= 3 and not empty & set(expected)


@pytest.mark.parametrize(
    "texts",
    [
        ["alpha bravo charlie delta", "echo foxtrot golf hotel", ""],
        ["", "the of and"],  # no shingles at all: not one band row
        [],
    ],
)
def test_no_links_at_all(ray_cluster: Any, texts: list[str]) -> None:
    from corpus_tools.ingest.stories_ray import story_roots

    sketches = [sketch(t, SETTINGS) for t in texts]
    ids = _node_ids(len(texts), seed=1)
    nodes = _nodes_ds(ray_cluster, sketches, ids, 2)
    roots, stats = story_roots(nodes, SETTINGS, partitions=2)
    assert _ray_answer(roots) == {}
    assert (stats.candidates, stats.links, stats.skipped_buckets, stats.rounds) == (0, 0, 0, 0)


# --- connected components against a union-find -------------------------------------------------


def _union_find(edges: list[tuple[int, int]]) -> dict[int, int]:
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def _graphs() -> dict[str, list[tuple[int, int]]]:
    rng = random.Random(11)
    n = 1500
    # A path whose numbers zig-zag (0, n-1, 1, n-2, ...): the minimum sits at one end and the
    # labels alternate, the slow case for label propagation.
    zigzag = [k // 2 if k % 2 == 0 else n - 1 - k // 2 for k in range(n)]
    shuffled = rng.sample(range(10**6, 10**6 + n), n)
    big = 2**63 + 5  # ids above 2^63: unsigned all the way
    two = [(k, k + 1) for k in range(10, 40)] + [(k, k + 1) for k in range(50, 90)]
    return {
        "zigzag path": list(itertools.pairwise(zigzag)),
        "shuffled path": list(itertools.pairwise(shuffled)),
        "star": [(big, big + k) for k in range(1, 400)] + [(big + 500 + k, big) for k in range(5)],
        "complete, each edge both ways": [(a, b) for a in range(40) for b in range(40)],
        "two merged by one edge": [*two, (89, 10)],
        "forest of stars already": [(k, 1000 + k * 10 + d) for k in range(50) for d in range(1, 4)],
        "random 10k edges": [(rng.randrange(20_000), rng.randrange(20_000)) for _ in range(10_000)],
    }


def _edge_ds(ray: Any, edges: list[tuple[int, int]]) -> Any:
    table = pa.table(
        {
            "a": pa.array([a for a, _ in edges], pa.uint64()),
            "b": pa.array([b for _, b in edges], pa.uint64()),
        }
    )
    return ray.data.from_arrow(table).repartition(4)


def test_components_equal_union_find(ray_cluster: Any) -> None:
    """Every adversarial graph at once (disjoint id ranges: one run, as many rounds as the
    slowest), each compared with a union-find. Nodes on no edge (isolated) get no row."""
    from corpus_tools.ingest.stories_ray import component_roots

    graphs = _graphs()
    offsets = {name: k * 10**7 if name != "star" else 0 for k, name in enumerate(graphs)}
    edges = [(a + offsets[n], b + offsets[n]) for n, g in graphs.items() for a, b in g if a != b]
    start = time.perf_counter()
    roots, rounds, shuffled = component_roots(_edge_ds(ray_cluster, edges), partitions=5)
    got = _ray_answer(roots)
    seconds = time.perf_counter() - start
    for name, graph in graphs.items():
        shift = offsets[name]
        expected = _union_find([(a + shift, b + shift) for a, b in graph if a != b])
        assert {k: got[k] for k in expected if k in got} == expected, name
    assert len(got) == len({x for e in edges for x in e})
    assert 1 < rounds < 40 and shuffled > 0
    print(f"components: {len(edges)} edges, {rounds} rounds, {seconds:.1f} s")


def test_a_forest_of_stars_converges_in_one_round(ray_cluster: Any) -> None:
    from corpus_tools.ingest.stories_ray import component_roots

    edges = _graphs()["forest of stars already"]
    roots, rounds, _ = component_roots(_edge_ds(ray_cluster, edges), partitions=3)
    assert _ray_answer(roots) == _union_find(edges)
    assert rounds == 1  # the first large-star step finds the stars and changes nothing
