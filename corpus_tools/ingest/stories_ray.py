"""Story clustering on Ray Data: the stories of `ingest.stories.StoryIndex`, distributed.

`story_roots(nodes, settings, partitions=P)` takes one row per kept article (`node`: its
64-bit id key; `hashes`: its sorted unique uint32 shingle hashes; `bands`: its LSH band keys,
both as `stories.sketch` makes them) and returns a (`node`, `root`) row for every article in a
story of two or more, `root` being the story's smallest node, with the counts StoryIndex keeps
(`candidates`, `links`, `skipped_buckets`) and two of its own (`rounds`, `shuffled_bytes`).

Every step is a shuffle: rows get a `part` column (a mix of their key, modulo P) and
`groupby("part").map_groups` hands each of the P partitions whole to one numpy function, never
one Python call per key. Nothing is collected on the driver but a few counters per partition.

1. Banding: (band, key, node) rows, shuffled by (band, key); in each partition the buckets are
   cut and paired by `stories.bucket_pairs` (StoryIndex's code: the same MAX_BUCKET skip and
   count). Only these 22-byte rows go through the shuffle, never the shingle sets.
2. Candidates: the pairs (deduplicated within each partition first) and the shingle sets, both
   shuffled by the pair's second node j / the set's node: the pairs met in several bands meet
   here and are counted once (`candidates`); set j leaves once for each partition of first
   nodes i that has a pair with j (a SETJ row), not once per pair: a node has tens of
   candidate partners, a partition holds many of them, and the sets are most of the bytes.
3. Links: those pairs, the SETJ rows and the sets again, shuffled by the pair's first node i:
   the exact intersection is counted by StoryIndex's compiled kernel and judged by
   `stories.is_link`.
4. Connected components, by the alternating large-star / small-star algorithm (Kiveris et al.,
   "Connected Components in MapReduce and Beyond", SoCC 2014), one shuffle by node per step.
   Labels are the node ids, so a component converges to a star around its smallest node. The
   test is exact: a large-star step finds, per node, how many smaller and larger neighbours it
   has; when no node has two smaller neighbours, or a smaller and a larger one, the graph is a
   forest of stars around each component's minimum, which is the answer (`rounds` counts the
   large-star steps, the last one included).

`links` is StoryIndex's count of merges (articles in stories minus stories), which the final
stars give directly (one edge per non-root member); `shuffled_bytes` sums the Arrow size of
every partition handed to a map_groups call (the rows moved by the shuffles, `part` included).

Each step's output is materialized, and its counters (STAT rows, a few per partition) are read
by one small task per block: nothing but those counters comes to the driver.

Ray Data 2.60's default hash shuffle starts its aggregator actors for every shuffle (~4 s each
here, whatever the size); step 4 makes many small shuffles, so this module shuffles with Ray
Data's sort-based pull shuffle (~0.2 s each) unless the DataContext already names a sort-based
strategy (push-based, for large clusters). It sets that on the DataContext of its own
materialized copy of `nodes` (which every later dataset shares), never on the caller's. A sort
shuffle runs a task per input block, so each step's input is first cut to about one block per
CPU, or per Ray Data target block size when the data is larger (at most one per partition).
`nodes` is read twice (bands, then sets): it is materialized first (a no-op when it is).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpus_tools.config import NearDuplicates
from corpus_tools.ingest import stories

if TYPE_CHECKING:
    import ray.data

__all__ = ["StoryStats", "component_roots", "story_roots"]

# Row kinds of the intermediate datasets (column `kind`).
PAIR, SET, STAT, ROOT = 0, 1, 2, 3
# A set j sent once to a partition of first nodes i that checks pairs (i, j) with it (`a`: one
# such i, so that keying the row by `a` lands it in that partition; `b`: j).
SETJ = 4
# Counters (STAT rows: `a` names one, `b` holds its value for one partition).
SKIPPED, CANDIDATES, LINKED, BYTES, TANGLED, EDGES = 0, 1, 2, 3, 4, 5
# A safety net: the algorithm converges in O(log^2 n) rounds; a loop past this is a bug.
MAX_ROUNDS = 256
BAND_ROW = 22  # bytes of a (part, band, key, node) row

_C1, _C2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)


@dataclass(frozen=True, slots=True)
class StoryStats:
    """What story clustering did: StoryIndex's counts, and the Ray run's rounds and bytes."""

    candidates: int  # distinct pairs that shared a band key (each checked once)
    links: int  # merges: articles in stories of 2+ minus those stories
    skipped_buckets: int  # band buckets of more than MAX_BUCKET articles
    rounds: int  # large-star steps of the connected components (0: no links)
    shuffled_bytes: int  # Arrow bytes of every partition the shuffles delivered


def story_roots(
    nodes: ray.data.Dataset, settings: NearDuplicates, *, partitions: int
) -> tuple[ray.data.Dataset, StoryStats]:
    """(`node`, `root`) uint64 rows for every node in a story of 2 or more (root = the story's
    smallest node), and the stats (see the module docstring). `nodes`: `node` uint64 (unique),
    `hashes` binary (sorted unique uint32, may be empty), `bands` binary (the band keys)."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, not {partitions}")
    bands, _ = stories.lsh_params(settings.threshold, settings.num_perm)
    nodes = _materialized(nodes)
    counts: dict[int, int] = {}
    pairs = _shuffle(
        _map(nodes, _band_rows, {"bands": bands, "parts": partitions}),
        _band_pairs,
        {"max_bucket": stories.MAX_BUCKET},
        counts,
        size=nodes.count() * bands * BAND_ROW,
        parts=partitions,
    )
    sets = _map(nodes, _set_rows, {"parts": partitions})
    keyed = _map(pairs, _by_column, {"column": "b", "parts": partitions, "sets": True})
    candidates = _shuffle(
        keyed.union(sets),
        _attach_j,
        {"parts": partitions},
        counts,
        size=_size(pairs) + _size(nodes),
        parts=partitions,
    )
    keyed = _map(candidates, _by_column, {"column": "a", "parts": partitions, "sets": True})
    edges = _shuffle(
        keyed.union(sets),
        _check_pairs,
        {"threshold": settings.threshold},
        counts,
        size=_size(candidates) + _size(nodes),
        parts=partitions,
    )
    stars, rounds = _components(edges, partitions, counts)
    roots = _map(stars, _root_rows, {})
    stats = StoryStats(
        candidates=counts.get(CANDIDATES, 0),
        links=counts.get(EDGES, 0),
        skipped_buckets=counts.get(SKIPPED, 0),
        rounds=rounds,
        shuffled_bytes=counts.get(BYTES, 0),
    )
    return roots, stats


def component_roots(
    edges: ray.data.Dataset, *, partitions: int
) -> tuple[ray.data.Dataset, int, int]:
    """The connected components of a graph given as `a`, `b` uint64 edge rows (a != b): a
    (`node`, `root`) row for each node on an edge, root = its component's smallest node; with
    the rounds and the shuffled bytes (step 4 of `story_roots`, on any graph)."""
    counts: dict[int, int] = {}
    ordered = _materialized(_map(edges, _edge_rows, {}))
    counts[LINKED] = ordered.count()
    stars, rounds = _components(ordered, partitions, counts)
    roots = _map(stars, _root_rows, {})
    return roots, rounds, counts.get(BYTES, 0)


def _edge_rows(table: pa.Table) -> pa.Table:
    a, b = _u64(table, "a"), _u64(table, "b")
    if np.any(a == b):
        raise ValueError("an edge joins a node to itself")
    return _rows(PAIR, np.maximum(a, b), np.minimum(a, b))


def _components(
    edges: ray.data.Dataset, parts: int, counts: dict[int, int]
) -> tuple[ray.data.Dataset, int]:
    """Alternate large-star and small-star until the graph is a forest of stars around each
    component's minimum; returns that last large-star's output (PAIR leaf→root, ROOT rows)."""
    if counts.get(LINKED, 0) == 0:
        return edges, 0
    rounds = 0
    while True:
        step: dict[int, int] = {}
        both = _map(edges, _both_ways, {"parts": parts})
        large = _shuffle(both, _large_star, {}, step, size=2 * _size(edges), parts=parts)
        rounds += 1
        counts[BYTES] = counts.get(BYTES, 0) + step.get(BYTES, 0)
        if step.get(TANGLED, 0) == 0:
            counts[EDGES] = step.get(EDGES, 0)
            return large, rounds
        if rounds >= MAX_ROUNDS:
            raise RuntimeError(f"connected components did not converge in {rounds} rounds")
        keyed = _map(large, _by_column, {"column": "a", "parts": parts, "sets": False})
        edges = _shuffle(keyed, _small_star, {}, counts, size=_size(large), parts=parts)


def _materialized(ds: ray.data.Dataset) -> ray.data.Dataset:
    """`ds` materialized, with Ray Data's sort-based pull shuffle unless its DataContext names a
    sort-based strategy already. A materialized dataset has its own copy of the DataContext,
    which the datasets made from it share: the caller's datasets and context are unchanged."""
    from ray.data.context import ShuffleStrategy

    ds = ds.materialize()
    sort_based = (ShuffleStrategy.SORT_SHUFFLE_PULL_BASED, ShuffleStrategy.SORT_SHUFFLE_PUSH_BASED)
    if ds.context.shuffle_strategy not in sort_based:
        ds.context.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    return ds


def _map(
    ds: ray.data.Dataset, fn: Callable[..., pa.Table], kwargs: dict[str, Any]
) -> ray.data.Dataset:
    """`fn` on each Arrow batch of `ds`, with keyword arguments."""
    return ds.map_batches(fn, batch_format="pyarrow", fn_kwargs=kwargs)


def _size(ds: ray.data.Dataset) -> int:
    """The bytes of a materialized dataset (from its blocks' metadata)."""
    return int(ds.size_bytes() or 0)


def _shuffle(
    ds: ray.data.Dataset,
    fn: Callable[..., pa.Table],
    kwargs: dict[str, Any],
    counts: dict[int, int],
    *,
    size: int,
    parts: int,
) -> ray.data.Dataset:
    """`fn` on each partition of `ds` (grouped by `part`), materialized; its STAT rows are
    added into `counts` (and stay in the result: every next step drops them).

    The sort shuffle runs a task per input block, and the inputs here are unions and maps of
    earlier outputs (their blocks add up), so `ds` is first cut into blocks of about Ray Data's
    target size (`size` estimates its bytes), at least one per CPU of the cluster and at most
    one per partition: on small data, tens of blocks cost seconds of task overhead per step."""
    import ray

    target = int(ds.context.target_max_block_size or 128 << 20)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    blocks = max(1, min(parts, max(cpus, -(-size // target))))
    out = ds.repartition(blocks).groupby("part")
    out = out.map_groups(fn, batch_format="pyarrow", fn_kwargs=kwargs).materialize()
    # A task per block reads its counters (a Ray Data pass would cost ~0.2 s per step).
    read = _stats_task()
    for found in ray.get([read.remote(ref) for ref in out.to_arrow_refs()]):
        for name, value in found.items():
            counts[name] = counts.get(name, 0) + value
    return out


# --- partition functions (run in Ray workers on Arrow tables) --------------------------------


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: well-spread 64-bit values from any keys (wrapping arithmetic)."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> _S30
    x *= _C1
    x ^= x >> _S27
    x *= _C2
    x ^= x >> _S31
    return x


def _part(x: np.ndarray, parts: int) -> pa.Array:
    return pa.array((_mix(x) % np.uint64(parts)).astype(np.uint32))


def _u64(table: pa.Table, name: str) -> np.ndarray:
    out: np.ndarray = table.column(name).to_numpy().astype(np.uint64, copy=False)
    return out


def _flat(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets int64[n + 1] from 0, bytes uint8) of a binary column."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    arr = arr.cast(pa.large_binary())
    if len(arr) == 0:
        return np.zeros(1, np.int64), np.zeros(0, np.uint8)
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] else np.zeros(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    return offsets - offsets[0], data


def _sets_of(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values uint32, starts, lengths) of a binary column of uint32 sets, little-endian."""
    offsets, data = _flat(column)
    if np.any(offsets % 4):
        raise ValueError("a shingle set is not a whole number of uint32 hashes")
    values = data.view("<u4").astype(np.uint32)  # a copy: aligned, for the compiled kernel
    starts = offsets[:-1] // 4
    return values, starts, offsets[1:] // 4 - starts


def _gather(
    values: np.ndarray, starts: np.ndarray, lengths: np.ndarray, idx: np.ndarray
) -> pa.Array:
    """The sets `idx` (indices into starts/lengths) as one large_binary array."""
    lens = lengths[idx]
    offsets = np.zeros(len(idx) + 1, np.int64)
    np.cumsum(lens, out=offsets[1:])
    total = int(offsets[-1])
    pos = np.repeat(starts[idx] - offsets[:-1], lens) + np.arange(total, dtype=np.int64)
    data = values[pos].astype("<u4").tobytes()
    return pa.Array.from_buffers(
        pa.large_binary(),
        len(idx),
        [None, pa.py_buffer((offsets * 4).tobytes()), pa.py_buffer(data)],
    )


def _no_sets(n: int) -> pa.Array:
    return pa.Array.from_buffers(
        pa.large_binary(),
        n,
        [None, pa.py_buffer(np.zeros(n + 1, np.int64).tobytes()), pa.py_buffer(b"")],
    )


def _rows(
    kind: int,
    a: np.ndarray,
    b: np.ndarray,
    hashes: pa.Array | None = None,
    *,
    with_sets: bool = False,
) -> pa.Table:
    n = len(a)
    cols: dict[str, Any] = {
        "kind": pa.array(np.full(n, kind, np.uint8)),
        "a": pa.array(a.astype(np.uint64, copy=False)),
        "b": pa.array(b.astype(np.uint64, copy=False)),
    }
    if with_sets:
        cols["hashes"] = hashes if hashes is not None else _no_sets(n)
    return pa.table(cols)


def _stats(values: dict[int, int], *, with_sets: bool = False) -> pa.Table:
    names = np.array(list(values), np.uint64)
    return _rows(STAT, names, np.array(list(values.values()), np.uint64), with_sets=with_sets)


@functools.cache
def _stats_task() -> Any:
    """`_block_stats` as a Ray task (made once per process: each new one is exported again)."""
    import ray

    return ray.remote(num_cpus=0)(_block_stats)


def _block_stats(table: pa.Table) -> dict[int, int]:
    """The counters in one block's STAT rows, summed."""
    if "kind" not in table.column_names:  # an empty block may have no columns at all
        return {}
    rows = table.filter(pc.equal(table.column("kind"), STAT))
    found: dict[int, int] = {}
    for name, value in zip(rows.column("a").to_pylist(), rows.column("b").to_pylist(), strict=True):
        found[name] = found.get(name, 0) + value
    return found


def _unique_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (a, b) rows, sorted by a, then b."""
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    if len(a) > 1:
        keep = np.concatenate(([True], (a[1:] != a[:-1]) | (b[1:] != b[:-1])))
        a, b = a[keep], b[keep]
    return a, b


def _band_rows(table: pa.Table, bands: int, parts: int) -> pa.Table:
    """(part, band, key, node) rows of the nodes that have shingles (others link to nothing)."""
    set_offsets, _ = _flat(table.column("hashes"))
    keep = np.diff(set_offsets) > 0
    offsets, data = _flat(table.column("bands"))
    if np.any(np.diff(offsets) != 8 * bands):
        raise ValueError(f"a node's band keys are not {bands} uint64 values")
    keys = data.view("<u8").reshape(-1, bands)[keep].astype(np.uint64).ravel()
    node = np.repeat(_u64(table, "node")[keep], bands)
    band = np.tile(np.arange(bands, dtype=np.uint16), int(np.count_nonzero(keep)))
    part = _part(keys ^ _mix(band.astype(np.uint64)), parts)
    return pa.table({"part": part, "band": pa.array(band), "key": keys, "node": node})


def _band_pairs(table: pa.Table, max_bucket: int) -> pa.Table:
    """One partition of band rows → its candidate pairs (deduplicated here) and counters."""
    i, j, skipped = stories.bucket_pairs(
        _u64(table, "node"),
        (_u64(table, "key"), table.column("band").to_numpy()),
        max_bucket,
    )
    i, j = _unique_pairs(i, j)
    stats = _stats({SKIPPED: skipped, BYTES: table.nbytes})
    return pa.concat_tables([_rows(PAIR, i, j), stats])


def _set_rows(table: pa.Table, parts: int) -> pa.Table:
    """(part, SET, node, node, hashes) rows of the nodes that have shingles."""
    table = table.filter(pc.greater(pc.binary_length(table.column("hashes")), 0))
    node = _u64(table, "node")
    rows = _rows(SET, node, node, table.column("hashes").cast(pa.large_binary()), with_sets=True)
    return rows.add_column(0, "part", _part(node, parts))


def _by_column(table: pa.Table, column: str, parts: int, sets: bool) -> pa.Table:
    """The PAIR (and SETJ) rows of a step's output, keyed by node `column` (a or b) for the
    next shuffle; with `sets`, an empty shingle column is added if there is none (to meet the
    SET rows)."""
    table = table.filter(pc.is_in(table.column("kind"), pa.array([PAIR, SETJ], pa.uint8())))
    if sets and "hashes" not in table.column_names:
        table = table.append_column("hashes", _no_sets(table.num_rows))
    return table.add_column(0, "part", _part(_u64(table, column), parts))


def _locate(nodes: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """The row in `nodes` (unique) of each wanted node; every one must be there."""
    if not len(wanted):
        return np.zeros(0, np.int64)
    order = np.argsort(nodes, kind="stable")
    at = np.searchsorted(nodes[order], wanted)
    if len(nodes) == 0 or np.any(at >= len(nodes)) or np.any(nodes[order[at]] != wanted):
        raise ValueError("a candidate pair names a node without shingles")
    pos: np.ndarray = order[at]
    return pos


def _attach_j(table: pa.Table, parts: int) -> pa.Table:
    """One partition by node j → each distinct pair (i, j) once (without sets), and set j once
    per partition of first nodes i that has a pair with it (a SETJ row keyed by one such i)."""
    kind = table.column("kind").to_numpy()
    a, b = _u64(table, "a"), _u64(table, "b")
    is_set = kind == SET
    nodes = a[is_set]
    values, starts, lengths = _sets_of(table.column("hashes").filter(pa.array(is_set)))
    j, i = _unique_pairs(b[~is_set], a[~is_set])
    pos = _locate(nodes, j)
    target = _mix(i) % np.uint64(parts)  # the partition of i in the next shuffle (`_part`)
    order = np.lexsort((i, target, j))
    jt, tt = j[order], target[order]
    first = np.ones(len(order), np.bool_)
    if len(order) > 1:
        first[1:] = (jt[1:] != jt[:-1]) | (tt[1:] != tt[:-1])
    at = order[first]
    setj = _rows(SETJ, i[at], j[at], _gather(values, starts, lengths, pos[at]), with_sets=True)
    stats = _stats({CANDIDATES: len(i), BYTES: table.nbytes}, with_sets=True)
    return pa.concat_tables([_rows(PAIR, i, j, with_sets=True), setj, stats])


def _check_pairs(table: pa.Table, threshold: float) -> pa.Table:
    """One partition by node i → the pairs (i, j) that are links, as PAIR rows (a = j, b = i:
    the larger node first, as the components steps keep edges). Set i comes from its SET row,
    set j from the SETJ row sent to this partition."""
    kind = table.column("kind").to_numpy()
    a, b = _u64(table, "a"), _u64(table, "b")
    is_set, is_setj, is_pair = kind == SET, kind == SETJ, kind == PAIR
    n_sets = int(np.count_nonzero(is_set))
    # The partition's sets, then the sets j sent to it, in one array for the kernel.
    set_rows = np.concatenate((np.flatnonzero(is_set), np.flatnonzero(is_setj)))
    values, starts, lengths = _sets_of(table.column("hashes").take(pa.array(set_rows)))
    i, j = a[is_pair], b[is_pair]
    pos_i = _locate(a[is_set], i)
    pos_j = n_sets + _locate(b[is_setj], j)
    by_i = np.argsort(pos_i, kind="stable")  # the kernel builds set i's table once per run of i
    ii, jj = pos_i[by_i], pos_j[by_i]
    inter = stories.intersections(values, starts, lengths, ii, jj) if len(ii) else ii
    linked = stories.is_link(inter, lengths[ii], lengths[jj], threshold)
    keep = by_i[linked]
    stats = _stats({LINKED: len(keep), BYTES: table.nbytes})
    return pa.concat_tables([_rows(PAIR, j[keep], i[keep]), stats])


def _both_ways(table: pa.Table, parts: int) -> pa.Table:
    """Each edge as (source, neighbour) rows in both directions, keyed by the source."""
    table = table.filter(pc.equal(table.column("kind"), PAIR))
    hi, lo = _u64(table, "a"), _u64(table, "b")
    src, dst = np.concatenate((hi, lo)), np.concatenate((lo, hi))
    return pa.table({"part": _part(src, parts), "a": src, "b": dst})


def _groups(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first row, group number of each row) of runs of equal sorted values `u`."""
    first = np.flatnonzero(np.concatenate(([True], u[1:] != u[:-1]))) if len(u) else u[:0]
    group = np.cumsum(np.concatenate(([False], u[1:] != u[:-1]))) if len(u) else u[:0]
    return first.astype(np.int64), group.astype(np.int64)


def _large_star(table: pa.Table) -> pa.Table:
    """Large-star on one partition by source u: every neighbour v > u is linked to m(u), the
    smallest of u and its neighbours. Counts the nodes that are not yet a star's centre or leaf
    (TANGLED), and emits a ROOT row for each node without a smaller neighbour."""
    u, v = _unique_pairs(_u64(table, "a"), _u64(table, "b"))
    first, group = _groups(u)
    nodes = u[first]
    m = np.minimum(nodes, v[first])  # v is sorted within each u
    smaller = np.bincount(group, weights=v < u, minlength=len(first)).astype(np.int64)
    larger = np.bincount(group, weights=v > u, minlength=len(first)).astype(np.int64)
    tangled = int(np.count_nonzero((smaller > 1) | ((smaller > 0) & (larger > 0))))
    up = v > u
    edges = _rows(PAIR, v[up], m[group[up]])
    roots = nodes[smaller == 0]
    stats = _stats({TANGLED: tangled, EDGES: int(np.count_nonzero(up)), BYTES: table.nbytes})
    return pa.concat_tables([edges, _rows(ROOT, roots, roots), stats])


def _small_star(table: pa.Table) -> pa.Table:
    """Small-star on one partition by node u (edges u > v): u and each of its neighbours but the
    smallest, m, are linked to m."""
    u, v = _unique_pairs(_u64(table, "a"), _u64(table, "b"))
    first, group = _groups(u)
    m = v[first]  # the smallest neighbour of each u (all are smaller than u)
    rest = v != m[group]
    hi = np.concatenate((v[rest], u[first]))
    lo = np.concatenate((m[group[rest]], m))
    return pa.concat_tables([_rows(PAIR, hi, lo), _stats({BYTES: table.nbytes})])


def _root_rows(table: pa.Table) -> pa.Table:
    """The converged stars as (node, root) rows: each leaf with its centre, each centre alone."""
    kind = table.column("kind").to_numpy()
    table = table.filter(pa.array((kind == PAIR) | (kind == ROOT)))
    is_root = table.column("kind").to_numpy() == ROOT
    a, b = _u64(table, "a"), _u64(table, "b")
    return pa.table({"node": a, "root": np.where(is_root, a, b)})
