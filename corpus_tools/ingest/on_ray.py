"""`corpus ingest --engine ray`: the single-machine ingest's rows and story ids, on Ray Data.

The same code as the local path (`ingest._build_one`, `exact_duplicates`, `text_duplicates`,
`duplicate_finding`) runs inside Ray Data transforms over Arrow; nothing that grows with the
number of articles is collected on the driver except findings (at most `findings_per_slug`
per slug and severity, per block) and a sample of ids for the shard boundaries.

1. One row per input file; a generator UDF reads each file (`readers.read_file`, streamed)
   and yields a table per CHUNK records: each record's columns, keys, sketch and findings,
   `seq` = reading order (file index << 32 | item number). Materialised once.
2. The exact-duplicate passes: shuffles of the small key columns, by id, then by text group
   among the live ones; each partition runs the local passes on its rows in reading order,
   so it keeps the same record and makes the same findings (all copies of one key meet in
   one partition).
3. Stories: `ingest.stories_ray.story_roots` over the kept articles' sketches; story_id =
   "story-%016x" % root (an article absent from its result is a story of its own).
4. Output: shards by ranges of article_id (boundaries: quantiles of the ids whose key falls in
   a deterministic sample), each written sorted by (article_id, source) by a Ray task as
   `part-00000-of-000NN.parquet` (ARTICLES_SCHEMA, zstd, row groups of ROW_GROUP): the shards
   read in name order are the local table's rows. Default shard count: one per SHARD_ROWS
   kept articles. The folder is written in the run's scratch folder beside the output and
   swapped in atomically (`store.swap_in`: `renameat2(RENAME_EXCHANGE)` on Linux; elsewhere
   two renames, with an instant where the output folder is absent but never mixed).

The shards are written by the workers: on a cluster of several machines the output folder
must be on storage every node sees at the same path (NFS, a shared mount). A probe on each
node checks this before anything is read (UsageError otherwise).

Label Studio exports are refused (tasks are a corpus's own data: ingest them locally).
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpus_tools.config import CorpusConfig
from corpus_tools.constants import Format
from corpus_tools.engine import ray_session
from corpus_tools.errors import UsageError
from corpus_tools.ingest import (
    CHUNK,
    ROW_GROUP,
    _build_one,
    _chunks,
    _discover,
    _display,
    _Findings,
    _rows_table,
    bucket_key,
    duplicate_finding,
    exact_duplicates,
    text_duplicates,
    unknown_format,
)
from corpus_tools.ingest.clean import Rules
from corpus_tools.ingest.readers import read_file
from corpus_tools.ingest.stories import MAX_BUCKET
from corpus_tools.model import Finding, IngestReport, RawArticle
from corpus_tools.store import ARTICLES_SCHEMA, swap_in

SHARD_ROWS = 50_000  # default: one shard per this many articles (~300 MB of text)
SAMPLE_PER_SHARD = 64  # ids sampled per shard to place the boundaries
_SAMPLE_BITS = 20

# The columns of a built record (step 1). kind: 1 an article, 0 only findings.
_KEYS = ("id_key", "text_key", "exact_key", "group_key", "source_key")
BUILT = pa.schema(
    [
        ("kind", pa.uint8()),
        ("seq", pa.uint64()),
        ("inputs", pa.int64()),
        ("findings", pa.binary()),
        *[(k, pa.uint64()) for k in _KEYS],
        ("task", pa.bool_()),
        ("article_id", pa.string()),
        ("source", pa.string()),
        ("file", pa.string()),
        ("line", pa.int64()),
        ("row", pa.binary()),
        ("hashes", pa.binary()),
        ("bands", pa.binary()),
    ]
)
_KEY_COLUMNS = ["seq", *_KEYS, "task", "article_id", "source", "file", "line"]


def ingest_on_ray(
    *,
    config: CorpusConfig,
    paths: list[Path] | None,
    fmt: str | None,
    progress: bool,
    workers: int,
    rules: Rules,
    folder: Path,
    findings_per_slug: int,
    out: Path,
    address: str | None,
    shards: int | None,
    guard: Callable[[Path], None] | None = None,
) -> IngestReport:
    """See the module docstring; `folder` is the run's scratch folder (beside `out`);
    `guard`, when given, sees the written shards before they replace `out` (and may refuse)."""
    found: list[tuple[list[Any], Finding]] = []
    files: list[tuple[Path, str, Format | None]] = []
    for item in _discover(config, paths, fmt):
        if isinstance(item, Finding):
            found.append(([0, len(found)], item))
        else:
            files.append(item)
    if any(f == "labelstudio" for _, _, f in files):
        raise UsageError(
            "--engine ray: tasks are a corpus's own data; ingest them with the local engine",
            hint="Run `corpus ingest` without --engine ray for Label Studio exports.",
        )
    if out.exists() and not out.is_dir():
        raise UsageError(
            f"{out}: --engine ray writes a folder of shards, and this is a file",
            hint="Give --out a folder (default build/pool).",
        )
    inputs = sum(f.severity == "error" for _, f in found)
    jobs = []
    for i, (path, name, f_fmt) in enumerate(files):
        if f_fmt is None:
            found.append(([1, i, -1], unknown_format(path, name)))
        else:
            jobs.append({"i": i, "path": str(path.resolve()), "name": name, "fmt": f_fmt})
    staging = folder.resolve() / "pool"
    staging.mkdir()
    with (
        ray_session(address, num_cpus=workers if address is None else None, progress=progress),
        _pull_shuffle(),
    ):
        import ray

        _check_shared(ray, staging, out)
        partitions = max(2, int(ray.cluster_resources().get("CPU", 2)))
        kept_findings = _Collected(findings_per_slug, found)
        counts = _Counts()
        n_articles = n_stories = 0
        skipped = 0
        shard_count = shards or 1
        engine_stats: dict[str, Any] | None = None
        if jobs:
            clock = _Stages()
            built = _read_and_build(ray, jobs, rules, config).materialize()
            kept_findings.merge(_summaries(built, findings_per_slug))
            inputs += counts.total(built, "inputs")
            clock.lap("read and build")
            keys = built.map_batches(_articles_keys, batch_format="pyarrow").materialize()
            clock.shuffled("duplicates", keys)
            p1 = _shuffle(keys, "id_key", partitions, _pass_ids).materialize()
            kept_findings.merge(_summaries(p1, findings_per_slug))
            live = p1.map_batches(_live, batch_format="pyarrow").materialize()
            clock.shuffled("duplicates", live)
            p2 = _shuffle(live, "group_key", partitions, _pass_texts).materialize()
            kept_findings.merge(_summaries(p2, findings_per_slug))
            duplicates = counts.total(p1, "copy") + counts.total(p2, "copy")
            kept = p2.map_batches(_live, batch_format="pyarrow").materialize()
            n_articles = counts.rows(kept)
            clock.lap("duplicates")
            if n_articles:
                nodes = _join_nodes(built, kept, partitions).materialize()
                clock.shuffled("sketches to stories", nodes)
                roots, stats = _story_roots(nodes, config, partitions)
                skipped = stats.skipped_buckets
                clock.shuffled_bytes["stories"] = stats.shuffled_bytes
                clock.extra.update(
                    candidates=stats.candidates, links=stats.links, rounds=stats.rounds
                )
                roots = roots.materialize()
                clock.lap("stories")
                decisions = _join_roots(kept, roots, partitions).materialize()
                n_stories = counts.total(decisions, "own")
                clock.lap("story ids")
                shard_count = shards or max(1, math.ceil(n_articles / SHARD_ROWS))
                bounds = _boundaries(decisions, n_articles, shard_count)
                _write_shards(built, decisions, bounds, shard_count, staging, out)
                clock.shuffled_bytes["write"] = counts.nbytes(built, ["seq", "row"]) + int(
                    decisions.size_bytes() or 0
                )
                clock.lap("write shards")
            engine_stats = clock.result(n_articles, partitions)
        else:
            duplicates = 0
    if skipped:
        kept_findings.extra.append(
            (
                [2],
                Finding(
                    "lsh-buckets-skipped",
                    "info",
                    f"story clustering skipped {skipped} LSH buckets shared by more "
                    f"than {MAX_BUCKET} articles (min-hashes of common words)",
                    hint="Stories are linked through the other bands; see the ingest docs.",
                ),
            )
        )
    names = [_shard_name(k, shard_count) for k in range(shard_count)]
    for name in names:
        if not (staging / name).exists():  # an empty range (or no article at all)
            pq.write_table(ARTICLES_SCHEMA.empty_table(), staging / name, compression="zstd")
    if guard is not None:
        guard(staging)
    publish(staging, out, folder)
    findings = kept_findings.result()
    return IngestReport(
        output=_display(out, config.paths.root),
        inputs=inputs,
        articles=n_articles,
        stories=n_stories,
        duplicates=duplicates,
        rejected=findings.errors,
        findings=findings.result(),
        engine=engine_stats,
    )


class _Stages:
    """Seconds per stage (wall, on the driver: Ray Data runs lazily, so a stage ends where its
    result is materialised) and the Arrow bytes that went into each stage's shuffles."""

    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.seconds: dict[str, float] = {}
        self.shuffled_bytes: dict[str, int] = {}
        self.extra: dict[str, int] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(self.seconds.get(stage, 0.0) + now - self.t, 3)
        self.t = now

    def shuffled(self, stage: str, ds: Any) -> None:
        """`ds` (materialised) goes through a shuffle of `stage`: count its bytes."""
        self.shuffled_bytes[stage] = self.shuffled_bytes.get(stage, 0) + int(ds.size_bytes() or 0)

    def result(self, articles: int, partitions: int) -> dict[str, Any]:
        total = sum(self.shuffled_bytes.values())
        return {
            "engine": "ray",
            "partitions": partitions,
            "stage_seconds": self.seconds,
            "shuffled_bytes": self.shuffled_bytes,
            "shuffled_bytes_per_article": round(total / articles, 1) if articles else None,
            "stories": self.extra,
        }


@contextlib.contextmanager
def _pull_shuffle() -> Iterator[None]:
    """Ray Data's pull-based sort shuffle for this run's groupings, then the session's own
    strategy back. Its default hash shuffle starts aggregator actors for each shuffle (~2-6 s
    each on 2 cores, whatever the data); the sort shuffle of a few partitions per CPU
    starts in ~0.2 s and scales with the partitions (P^2 small objects, P ~ the CPUs)."""
    from ray.data.context import DataContext, ShuffleStrategy

    ctx = DataContext.get_current()
    before = ctx.shuffle_strategy
    ctx.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    try:
        yield
    finally:
        ctx.shuffle_strategy = before


def publish(staging: Path, out: Path, folder: Path) -> None:
    """Put the written shards (`staging`, in the run's scratch `folder`) at `out`: readers see
    the old folder or the new one, never a mix, even if this process is killed at any moment.
    On Linux one `renameat2(RENAME_EXCHANGE)` swaps them, and the old folder (now at
    `staging`) goes with the scratch folder; elsewhere two renames, with an instant where
    `out` is absent (`store.swap_in`). A kill leaves the scratch folder to the next run's
    sweep."""
    swap_in(staging, out, folder / "old")


def _shard_name(k: int, n: int) -> str:
    return f"part-{k:05d}-of-{n:05d}.parquet"


def _check_shared(ray: Any, staging: Path, out: Path) -> None:
    """On a cluster of several nodes, check on each that it sees the output's folder."""
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    if len(nodes) <= 1:
        return
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @ray.remote(num_cpus=0)
    def sees(path: str) -> bool:
        import os

        return os.path.isdir(path)

    probes = [
        sees.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)
        ).remote(str(staging))
        for n in nodes
    ]
    if not all(ray.get(probes)):
        raise UsageError(
            f"the output folder {out} is not on storage every node of the Ray cluster sees",
            hint="Give --out a folder on a shared file system mounted at the same path on "
            "every node.",
        )


# -- step 1: read and build ----------------------------------------------------------------


def _read_and_build(
    ray: Any, jobs: list[dict[str, Any]], rules: Rules, config: CorpusConfig
) -> Any:
    ds = ray.data.from_items(jobs, override_num_blocks=len(jobs))

    def read_build(batch: pa.Table) -> Iterator[pa.Table]:
        for job in batch.to_pylist():
            yield from _file_tables(job, rules, config)

    return ds.map_batches(read_build, batch_size=1, batch_format="pyarrow")


def _file_tables(job: dict[str, Any], rules: Rules, config: CorpusConfig) -> Iterator[pa.Table]:
    """The built records of one file, a table per CHUNK items read (bounded memory)."""
    i = int(job["i"])
    records = read_file(
        Path(job["path"]),
        name=job["name"],
        fmt=job["fmt"],
        max_bytes=config.ingest.max_record_bytes,
        scheme=config.scheme,
    )
    k = 0
    for c, chunk in enumerate(_chunks(records, CHUNK)):
        cols: dict[str, list[Any]] = {name: [] for name in BUILT.names}
        for item in chunk:
            seq = (i << 32) | k
            if isinstance(item, RawArticle):
                # as the local path adds them: a chunk's read findings, then its built ones
                built_found, p = _build_one(item, rules, config.ingest)
                keyed = [([1, i, c, 1, k, j], f) for j, f in enumerate(built_found)]
                _add(cols, kind=0, seq=seq, inputs=1, findings=keyed)
                if p is not None:
                    row = orjson.loads(p.row)
                    cols["kind"][-1] = 1
                    for name in _KEYS:
                        cols[name][-1] = getattr(p, name)
                    if p.task:  # tasks are numbered in reading order
                        cols["source_key"][-1] = (1 << 63) + seq
                    cols["task"][-1] = p.task
                    cols["article_id"][-1] = row["article_id"]
                    cols["source"][-1] = row["source"]
                    cols["file"][-1] = item.file
                    cols["line"][-1] = item.line
                    cols["row"][-1] = p.row
                    cols["hashes"][-1], cols["bands"][-1] = p.sketch
            else:
                err = int(item.severity == "error")
                _add(cols, kind=0, seq=seq, inputs=err, findings=[([1, i, c, 0, k, 0], item)])
            k += 1
        yield pa.Table.from_pydict(cols, schema=BUILT)


def _add(
    cols: dict[str, list[Any]],
    *,
    kind: int,
    seq: int,
    inputs: int,
    findings: list[tuple[list[Any], Finding]],
) -> None:
    for values in cols.values():
        values.append(None)
    cols["kind"][-1] = kind
    cols["seq"][-1] = seq
    cols["inputs"][-1] = inputs
    cols["findings"][-1] = _dump_findings(findings) if findings else None


def _dump_findings(findings: list[tuple[list[Any], Finding]]) -> bytes:
    return orjson.dumps([[key, dataclasses.asdict(f)] for key, f in findings])


# -- findings and counts -----------------------------------------------------------------------


def _summaries(ds: Any, limit: int) -> Iterator[bytes]:
    """Per batch: exact counts per (slug, severity) and the first `limit` of each by order;
    streamed to the driver (`_Collected.merge` keeps `limit` of each as they come)."""

    def summarise(batch: pa.Table) -> pa.Table:
        counts: dict[tuple[str, str], int] = {}
        kept: dict[tuple[str, str], list[Any]] = {}
        for blob in batch.column("findings").to_pylist():
            if blob is None:
                continue
            for key, fd in orjson.loads(blob):
                slot = (fd["slug"], fd["severity"])
                counts[slot] = counts.get(slot, 0) + 1
                kept.setdefault(slot, []).append([key, fd])
        picked = [kf for items in kept.values() for kf in sorted(items)[:limit]]
        summary = orjson.dumps({"counts": [[*s, n] for s, n in counts.items()], "kept": picked})
        return pa.table({"summary": pa.array([summary], pa.binary())})

    rows = ds.select_columns(["findings"]).map_batches(summarise, batch_format="pyarrow")
    return (r["summary"] for r in rows.iter_rows())


class _Collected:
    """Findings from every block, chosen as the local path's `_Findings` would: the first
    `limit` of each (slug, severity) in the local path's order of adding them (the order keys:
    discovery, then reading order by chunk, then clustering, then the duplicates by bucket,
    article_id, source and reading order)."""

    def __init__(self, limit: int, extra: list[tuple[list[Any], Finding]]) -> None:
        self.limit = limit
        self.extra = extra
        self.counts: dict[tuple[str, str], int] = {}
        self.kept: dict[tuple[str, str], list[tuple[list[Any], dict[str, Any]]]] = {}

    def merge(self, summaries: Iterator[bytes]) -> None:
        """Add the blocks' summaries, keeping at most 2 * limit of each slot meanwhile."""
        for blob in summaries:
            s = orjson.loads(blob)
            for slug, severity, n in s["counts"]:
                self.counts[(slug, severity)] = self.counts.get((slug, severity), 0) + n
            for key, fd in s["kept"]:
                items = self.kept.setdefault((fd["slug"], fd["severity"]), [])
                items.append((key, fd))
                if len(items) >= 2 * self.limit:
                    items.sort(key=lambda kf: kf[0])
                    del items[self.limit :]

    def result(self) -> _Findings:
        out = _Findings(self.limit)
        for key, f in self.extra:
            slot = (f.slug, f.severity)
            self.counts[slot] = self.counts.get(slot, 0) + 1
            self.kept.setdefault(slot, []).append((key, dataclasses.asdict(f)))
        firsts = [
            kf
            for items in self.kept.values()
            for kf in sorted(items, key=lambda kf: kf[0])[: self.limit]
        ]
        out.kept = [Finding(**fd) for _, fd in sorted(firsts, key=lambda kf: kf[0])]
        out.counts = dict(self.counts)
        out.errors = sum(n for (_, sev), n in self.counts.items() if sev == "error")
        return out


class _Counts:
    """Sums of a column over a dataset (one small row per block comes back)."""

    def total(self, ds: Any, column: str) -> int:
        def block_sum(batch: pa.Table) -> pa.Table:
            value = pc.sum(batch.column(column)).as_py() if batch.num_rows else 0
            return pa.table({"n": pa.array([int(value or 0)], pa.int64())})

        rows = ds.select_columns([column]).map_batches(block_sum, batch_format="pyarrow")
        return sum(int(r["n"]) for r in rows.take_all())

    def rows(self, ds: Any) -> int:
        return int(ds.count())

    def nbytes(self, ds: Any, columns: list[str]) -> int:
        """The Arrow bytes of `columns` over a dataset."""

        def block_bytes(batch: pa.Table) -> pa.Table:
            return pa.table({"n": pa.array([batch.nbytes], pa.int64())})

        rows = ds.select_columns(columns).map_batches(block_bytes, batch_format="pyarrow")
        return sum(int(r["n"]) for r in rows.take_all())


# -- step 2: the duplicate passes --------------------------------------------------------------


def _articles_keys(batch: pa.Table) -> pa.Table:
    t = batch.filter(pc.equal(batch.column("kind"), 1)).select(_KEY_COLUMNS)
    return t


def _live(batch: pa.Table) -> pa.Table:
    t = batch.filter(pc.equal(batch.column("dup"), 0))
    return t.select(_KEY_COLUMNS)


def _mix(keys: np.ndarray, partitions: int) -> np.ndarray:
    """A partition per uint64 key, spread evenly whatever the keys (Fibonacci hashing)."""
    with np.errstate(over="ignore"):
        mixed = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return ((mixed >> np.uint64(32)) % np.uint64(partitions)).astype(np.int64)


def _shuffle(ds: Any, column: str, partitions: int, fn: Callable[[pa.Table], pa.Table]) -> Any:
    """Rows of one value of `column` meet in one partition; `fn` runs on each partition."""

    def part(batch: pa.Table) -> pa.Table:
        keys = batch.column(column).to_numpy(zero_copy_only=False)
        return batch.append_column("part", pa.array(_mix(keys, partitions)))

    return (
        ds.map_batches(part, batch_format="pyarrow")
        .groupby("part", num_partitions=partitions)
        .map_groups(fn, batch_format="pyarrow")
    )


def _np(t: pa.Table, name: str) -> np.ndarray:
    return t.column(name).to_numpy(zero_copy_only=False)


def _pass_ids(t: pa.Table) -> pa.Table:
    t = t.sort_by("seq").drop_columns(["part"])  # reading order, as the local arrays
    ids, sk, tk, ek = (_np(t, k) for k in ("id_key", "source_key", "text_key", "exact_key"))
    reason, dup_of = exact_duplicates(ids, sk, tk, ek, _np(t, "task"))
    return _decided(t, reason, dup_of)


def _pass_texts(t: pa.Table) -> pa.Table:
    t = t.sort_by("seq").drop_columns(["part"])
    n = t.num_rows
    reason = np.zeros(n, dtype=np.int8)
    dup_of = np.arange(n, dtype=np.int64)
    text_duplicates(_np(t, "group_key"), _np(t, "id_key"), reason, dup_of)
    return _decided(t, reason, dup_of)


def _decided(t: pa.Table, reason: np.ndarray, dup_of: np.ndarray) -> pa.Table:
    """The partition's rows with `dup` (1 dropped as a copy, 2 rejected, 0 live) and the
    findings of the dropped ones, made by the local path's `duplicate_finding`."""
    aid = t.column("article_id").to_pylist()
    source = t.column("source").to_pylist()
    file = t.column("file").to_pylist()
    line = t.column("line").to_pylist()
    task = t.column("task").to_pylist()
    seq = t.column("seq").to_pylist()
    id_key = t.column("id_key").to_pylist()
    blobs: list[bytes | None] = [None] * t.num_rows
    for i in np.flatnonzero(reason).tolist():
        h = int(dup_of[i])
        bucket = bucket_key(aid[i])
        here = bucket_key(aid[h]) == bucket  # the local path sees the kept row's bucket only
        f = duplicate_finding(
            clash=bool(reason[i] == 2),
            kept_key=id_key[h],
            first=(aid[h], bool(task[h]), file[h], line[h]) if here else None,
            article_id=aid[i],
            task=bool(task[i]),
            file=file[i],
            line=line[i],
            source=source[i],
        )
        blobs[i] = _dump_findings([([3, bucket, aid[i], source[i], seq[i]], f)])
    t = t.append_column("dup", pa.array(reason.astype(np.int64)))
    t = t.append_column("copy", pa.array((reason == 1).astype(np.int64)))
    return t.append_column("findings", pa.array(blobs, pa.binary()))


# -- step 3: stories ---------------------------------------------------------------------------


def _join(
    left: Any, right: Any, column: str, partitions: int, fn: Callable[[pa.Table], pa.Table]
) -> Any:
    """`fn` over each partition of the union of `left` and `right` (same schema, a `side`
    column 0/1: see `_side`), partitioned by `column`: a hash join with no dependency beyond
    pyarrow."""
    return _shuffle(left.union(right), column, partitions, fn)


def _side(side: int, n: int, columns: dict[str, Any]) -> pa.Table:
    """One side (0 or 1) of a union-join, `n` rows: `columns` in the same order on both
    sides, each an array, or the type of a column only the other side fills (nulls here)."""
    table = {"side": pa.array(np.full(n, side, np.uint8))}
    for name, value in columns.items():
        table[name] = pa.nulls(n, value) if isinstance(value, pa.DataType) else value
    return pa.table(table)


def _halves(t: pa.Table) -> tuple[pa.Table, pa.Table]:
    """A union-join partition's rows of side 0 and of side 1."""
    side = t.column("side")
    return t.filter(pc.equal(side, 0)), t.filter(pc.equal(side, 1))


def _join_nodes(built: Any, kept: Any, partitions: int) -> Any:
    """The kept articles' (node, hashes, bands)."""

    def left(b: pa.Table) -> pa.Table:
        b = b.filter(pc.equal(b.column("kind"), 1))
        return _side(
            0,
            b.num_rows,
            {
                "seq": b.column("seq"),
                "node": b.column("id_key"),
                "hashes": b.column("hashes"),
                "bands": b.column("bands"),
            },
        )

    def right(b: pa.Table) -> pa.Table:
        return _side(
            1,
            b.num_rows,
            {
                "seq": b.column("seq"),
                "node": b.column("id_key"),
                "hashes": pa.binary(),
                "bands": pa.binary(),
            },
        )

    def match(t: pa.Table) -> pa.Table:
        mine, theirs = _halves(t)
        mine = mine.filter(pc.is_in(mine.column("seq"), value_set=theirs.column("seq")))
        return mine.select(["node", "hashes", "bands"])

    lt = built.map_batches(left, batch_format="pyarrow")
    rt = kept.map_batches(right, batch_format="pyarrow")
    return _join(lt, rt, "seq", partitions, match)


def _story_roots(nodes: Any, config: CorpusConfig, partitions: int) -> tuple[Any, Any]:
    from corpus_tools.ingest.stories_ray import story_roots

    return story_roots(nodes, config.ingest.near_duplicates, partitions=partitions)


def _join_roots(kept: Any, roots: Any, partitions: int) -> Any:
    """The kept articles' (seq, article_id, source, story root, own: 1 for a story's root)."""

    def left(b: pa.Table) -> pa.Table:
        return _side(
            0,
            b.num_rows,
            {
                "key": b.column("id_key"),
                "seq": b.column("seq"),
                "article_id": b.column("article_id"),
                "source": b.column("source"),
                "root": pa.uint64(),
            },
        )

    def right(b: pa.Table) -> pa.Table:
        return _side(
            1,
            b.num_rows,
            {
                "key": b.column("node").cast(pa.uint64()),
                "seq": pa.uint64(),
                "article_id": pa.string(),
                "source": pa.string(),
                "root": b.column("root").cast(pa.uint64()),
            },
        )

    def match(t: pa.Table) -> pa.Table:
        mine, theirs = _halves(t)
        at = pc.index_in(mine.column("key"), value_set=theirs.column("key"))
        found = pc.take(theirs.column("root"), at)
        root = pc.coalesce(found, mine.column("key"))
        own = pc.equal(root, mine.column("key")).cast(pa.int64())
        return pa.table(
            {
                "seq": mine.column("seq"),
                "article_id": mine.column("article_id"),
                "source": mine.column("source"),
                "root": root,
                "own": own,
                "id_key": mine.column("key"),
            }
        )

    lt = kept.map_batches(left, batch_format="pyarrow")
    rt = roots.map_batches(right, batch_format="pyarrow")
    return _join(lt, rt, "key", partitions, match)


# -- step 4: shards ----------------------------------------------------------------------------


def _boundaries(decisions: Any, n: int, shards: int) -> list[str]:
    """The first article_id of shards 1..N-1: quantiles of the ids in a deterministic sample
    (those whose key's mixed low bits fall under a cut: about SAMPLE_PER_SHARD per shard)."""
    if shards <= 1:
        return []
    cut = min(1 << _SAMPLE_BITS, math.ceil((1 << _SAMPLE_BITS) * SAMPLE_PER_SHARD * shards / n))

    def sample(b: pa.Table) -> pa.Table:
        keys = b.column("id_key").to_numpy(zero_copy_only=False)
        with np.errstate(over="ignore"):
            mixed = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        low = (mixed >> np.uint64(64 - _SAMPLE_BITS)).astype(np.int64)
        return b.filter(pa.array(low < cut)).select(["article_id"])

    ids = sorted(
        r["article_id"]
        for r in decisions.select_columns(["id_key", "article_id"])
        .map_batches(sample, batch_format="pyarrow")
        .take_all()
    )
    if not ids:
        return []
    return [ids[min(len(ids) - 1, k * len(ids) // shards)] for k in range(1, shards)]


def _write_shards(
    built: Any, decisions: Any, bounds: list[str], shards: int, staging: Path, out: Path
) -> None:
    """Each shard's kept rows, with their story ids, sorted and written by a Ray task."""
    where = str(staging)

    def shard_of(ids: list[str]) -> pa.Array:
        return pa.array([bisect.bisect_right(bounds, a) for a in ids], pa.int64())

    def left(b: pa.Table) -> pa.Table:
        b = b.filter(pc.equal(b.column("kind"), 1))
        return _side(
            0,
            b.num_rows,
            {
                "part": shard_of(b.column("article_id").to_pylist()),
                "seq": b.column("seq"),
                "article_id": b.column("article_id"),
                "source": b.column("source"),
                "row": b.column("row"),
                "root": pa.uint64(),
            },
        )

    def right(b: pa.Table) -> pa.Table:
        return _side(
            1,
            b.num_rows,
            {
                "part": shard_of(b.column("article_id").to_pylist()),
                "seq": b.column("seq"),
                "article_id": pa.string(),
                "source": pa.string(),
                "row": pa.binary(),
                "root": b.column("root"),
            },
        )

    def write(t: pa.Table) -> pa.Table:
        k = int(t.column("part")[0].as_py())
        mine, theirs = _halves(t)
        at = pc.index_in(mine.column("seq"), value_set=theirs.column("seq"))
        mine = mine.append_column("story", pc.take(theirs.column("root"), at))
        mine = mine.filter(pc.is_valid(mine.column("story")))
        # in the local table's order, (article_id, source): Arrow sorts strings by their
        # UTF-8 bytes, which is Python's code-point order; rows are decoded one row group
        # at a time, so a task holds its shard's Arrow buffers and 2,048 rows as objects
        order = pc.sort_indices(
            mine, sort_keys=[("article_id", "ascending"), ("source", "ascending")]
        )
        mine = mine.select(["row", "story"]).take(order)
        path = Path(where) / _shard_name(k, shards)
        tmp = path.with_name("." + path.name + ".tmp")
        with pq.ParquetWriter(
            tmp, ARTICLES_SCHEMA, compression="zstd", write_statistics=True
        ) as writer:
            for start in range(0, max(mine.num_rows, 1), ROW_GROUP):
                group = mine.slice(start, ROW_GROUP)
                rows = []
                for blob, root in zip(
                    group.column("row").to_pylist(),
                    group.column("story").to_pylist(),
                    strict=True,
                ):
                    row = orjson.loads(blob)
                    row["story_id"] = f"story-{root:016x}"
                    rows.append(row)
                writer.write_table(_rows_table(rows))
        tmp.rename(path)
        return pa.table({"shard": [k], "rows": [mine.num_rows]})

    lt = built.map_batches(left, batch_format="pyarrow")
    rt = decisions.map_batches(right, batch_format="pyarrow")
    grouped = lt.union(rt).groupby("part", num_partitions=min(shards, 1 + len(bounds)))
    written = grouped.map_groups(write, batch_format="pyarrow").take_all()
    missing = [
        r["shard"] for r in written if not (staging / _shard_name(r["shard"], shards)).exists()
    ]
    if missing:
        raise UsageError(
            f"the shards written by the Ray workers are not beside {out} on this machine: "
            "the output folder is not on storage every node sees",
            hint="Give --out a folder on a shared file system mounted at the same path on "
            "every node.",
        )
