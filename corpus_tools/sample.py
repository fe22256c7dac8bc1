"""`corpus sample N`: choose what to annotate from a large ingested pool.

A pool is what `corpus ingest` writes: one articles table, or a folder of shards
`part-*.parquet` (ARTICLES_SCHEMA, every row with a `story_id`). The draw reads only the
columns it needs (article_id, story_id, text_sha256 and the strata's columns), one batch at a
time, and keeps a few fixed-size numbers per article (never a text); the N chosen rows are
then read back verbatim and written as an articles table into the corpus's articles folder,
where `corpus ingest` (then `corpus tasks`) takes them.

The rule, the same on every engine and for any file order or shard count:

1. **Draw key.** Each article's key is the first 8 bytes (big-endian) of
   sha256(seed + NUL + article_id): a 64-bit number that depends on nothing but the seed and
   the article. The seed is `--seed`, else `[sample] seed`, else the corpus name.
2. **Excluded articles.** An article is excluded when its article_id or its text_sha256 is in
   the corpus already: in build/articles.parquet (when it exists) or in an articles table
   (`*.parquet`) under the corpus's articles folder (earlier samples not ingested yet; the
   output file itself is not one when `--force` replaces it, nor is a pool file there).
3. **Per-story cap.** Within a pool story (its `story_id`; a row without one is a story of its
   own), excluded articles take their slots first: a story with `m` excluded articles leaves
   `max(0, per_story - m)` eligible, the non-excluded ones with the smallest keys. So a story
   the corpus already holds is never drawn beyond the cap. Stories are grouped by a 64-bit
   hash of their story_id.
4. **Strata.** An article's stratum is its values of the configured strata: `outlet`,
   `language` ("unknown" when empty), and date buckets of `published` (`year` 2024, `month`
   2024-03, `week` 2024-W09 (ISO), `day` 2024-03-01); an article without a (valid ISO) date
   is in the bucket "undated". No strata: one stratum.
5. **Allocation** of N among the strata, from their eligible counts `e`:
   - `proportional`: largest remainder. Stratum s gets floor(N * e_s / E) (E = the sum),
     and the units left go one each to the strata with the largest remainders
     (N * e_s mod E).
   - `equal`: water-filling. Every stratum gets min(e_s, L) for the largest level L with
     sum(min(e_s, L)) <= N; the units left (fewer than the strata with e_s > L) go one each
     to strata with e_s > L. This is N / strata each, with what small strata cannot use
     shared out among the others until N is reached.
   Ties (equal remainders; the strata above the level) go to the stratum whose next article
   has the smaller draw key (then the stratum's name), so no outlet is favoured by its name.
   With N >= E every eligible article is drawn, and a warning says so.
6. Within a stratum, the articles with the smallest keys. The output rows are in key order.

`engine="ray"` runs the same steps as Ray Data transforms: keys and strata per batch, a hash
shuffle by story for the cap, an aggregation of the per-stratum counts, then per block only
the few smallest keys each stratum can need (its allocation, plus one for a tie), merged on
the driver, which so holds at most about blocks x (N + strata) small rows, never the pool.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from corpus_tools.config import CorpusConfig
from corpus_tools.constants import SAMPLE_ALLOCATIONS, SAMPLE_STRATA
from corpus_tools.engine import Engine
from corpus_tools.errors import DataError, UsageError
from corpus_tools.store import atomic_path, display_path, fs_errors

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

Allocation = Literal["proportional", "equal"]
DEFAULT_POOL = Path("build/pool")
UNDATED = "undated"
UNKNOWN = "unknown"
# Joins a stratum's values into one string column (a character no outlet name holds).
_SEP = "\x1f"
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_BATCH = 65_536


@dataclass(frozen=True, slots=True)
class StratumCount:
    """One stratum's row of the report: its values and its pool, excluded, eligible, drawn."""

    values: tuple[str, ...]
    pool: int
    excluded: int
    eligible: int
    drawn: int


@dataclass(slots=True)
class SampleReport:
    """What `sample` drew and where it wrote it."""

    path: Path
    n: int
    seed: str
    per_story: int
    strata: tuple[str, ...]
    allocation: str
    engine: str
    pool_files: int
    by_stratum: list[StratumCount] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def drawn(self) -> int:
        return sum(s.drawn for s in self.by_stratum)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (`corpus sample --json`)."""
        totals = {
            k: sum(getattr(s, k) for s in self.by_stratum)
            for k in ("pool", "excluded", "eligible", "drawn")
        }
        return {
            "path": display_path(self.path),
            "n": self.n,
            "seed": self.seed,
            "per_story": self.per_story,
            "strata": list(self.strata),
            "allocation": self.allocation,
            "engine": self.engine,
            "pool_files": self.pool_files,
            **totals,
            "by_stratum": [
                {
                    "stratum": dict(zip(self.strata, s.values, strict=True)),
                    "pool": s.pool,
                    "excluded": s.excluded,
                    "eligible": s.eligible,
                    "drawn": s.drawn,
                }
                for s in self.by_stratum
            ],
            "warnings": list(self.warnings),
        }


# Keys, stories and strata: the per-article values both engines compute the same way.


def h64(text: str) -> int:
    """The first 8 bytes of sha256(text), big-endian: a 64-bit number."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big")


def _h64s(values: list[bytes]) -> np.ndarray:
    """`h64` of many UTF-8 strings at once, as uint64 (the same numbers, one digest each)."""
    import numpy as np

    sha = hashlib.sha256
    digests = b"".join([sha(v).digest() for v in values])
    return np.frombuffer(digests, dtype=">u8").reshape(-1, 4)[:, 0].astype(np.uint64)


def draw_key(seed: str, article_id: str) -> int:
    """An article's draw key under `seed` (see the module docstring, step 1)."""
    return h64(f"{seed}\x00{article_id}")


def story_key(story_id: str | None, article_id: str) -> int:
    """The 64-bit hash that groups a story (a row without story_id is a story of its own)."""
    return h64(f"s\x00{story_id}" if story_id else f"a\x00{article_id}")


def date_bucket(published: str | None, unit: str) -> str:
    """`published`'s bucket for `unit` (year, month, week, day), or "undated"."""
    m = _DATE.match(published or "")
    if m is None:
        return UNDATED
    try:
        d = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return UNDATED
    if unit == "year":
        return f"{d.year:04d}"
    if unit == "month":
        return f"{d.year:04d}-{d.month:02d}"
    if unit == "week":
        year, week, _ = d.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return d.isoformat()


def _bucket(unit: str, published: str | None) -> str:
    return date_bucket(published, unit)


def stratum_columns(strata: Sequence[str]) -> list[str]:
    """The pool columns that the strata are made of."""
    cols = {"published" if s in ("year", "month", "week", "day") else s for s in strata}
    return sorted(cols)


def _map_values(arr: pa.Array | pa.ChunkedArray, fn: Callable[[Any], str]) -> pa.Array:
    """`fn` applied to each distinct value of `arr` once (a batch has few outlets and dates)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    enc = pc.dictionary_encode(arr, null_encoding="encode")
    mapped = pa.array([fn(v) for v in enc.dictionary.to_pylist()], pa.string())
    return mapped.take(enc.indices)


def stratum_labels(batch: pa.Table, strata: Sequence[str]) -> pa.Array:
    """Each row's stratum as one string (its values joined by U+001F; "" with no strata)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not strata:
        return pa.array([""] * batch.num_rows, pa.string())
    parts: list[pa.Array] = []
    for s in strata:
        if s in ("outlet", "language"):
            parts.append(_map_values(batch.column(s), lambda v: v if v else UNKNOWN))
        else:
            parts.append(_map_values(batch.column("published"), functools.partial(_bucket, s)))
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, _SEP)


def prepare(
    batch: pa.Table,
    *,
    seed: str,
    strata: Sequence[str],
    exclude_ids: pa.Array,
    exclude_shas: pa.Array,
) -> pa.Table:
    """A pool batch as the draw's small rows: article_id, key, story, excluded, stratum."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = [a.encode("utf-8", "surrogatepass") for a in batch.column("article_id").to_pylist()]
    stories = batch.column("story_id").to_pylist()
    keys = _h64s([seed.encode("utf-8", "surrogatepass") + b"\x00" + a for a in ids])
    story = _h64s(
        [
            b"s\x00" + s.encode("utf-8", "surrogatepass") if s else b"a\x00" + a
            for s, a in zip(stories, ids, strict=True)
        ]
    )
    excluded = pc.or_(
        pc.is_in(batch.column("article_id"), value_set=exclude_ids),
        pc.is_in(batch.column("text_sha256"), value_set=exclude_shas),
    )
    return pa.table(
        {
            "article_id": batch.column("article_id"),
            "key": pa.array(keys, pa.uint64()),
            "story": pa.array(story, pa.uint64()),
            "excluded": pc.fill_null(excluded, False),
            "stratum": stratum_labels(batch, strata),
        }
    )


def cap_per_story(
    story: np.ndarray, key: np.ndarray, excluded: np.ndarray, per_story: int
) -> np.ndarray:
    """Which rows are eligible (step 3): per story, the non-excluded rows with the smallest
    keys, `per_story` minus the story's excluded rows of them. Rows of one story may be
    anywhere in the arrays, but all of a story's rows must be in them."""
    import numpy as np

    n = len(story)
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((key, story))
    s = story[order]
    ex = excluded[order].astype(bool)
    start = np.ones(n, dtype=bool)
    start[1:] = s[1:] != s[:-1]
    group = np.cumsum(start) - 1
    starts = np.flatnonzero(start)
    ex_count = np.add.reduceat(ex.astype(np.int64), starts)
    keep = ~ex
    kept_before = np.cumsum(keep) - keep  # non-excluded rows before this one (all groups)
    rank = kept_before - kept_before[starts][group]
    ok = keep & (rank < per_story - ex_count[group])
    out = np.empty(n, dtype=bool)
    out[order] = ok
    return out


def smallest_per_stratum(code: np.ndarray, key: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Indices of the rows with the `limit[code]` smallest keys of each stratum (`code`: the
    row's stratum as an index into `limit`), ordered by (stratum, key)."""
    import numpy as np

    if len(code) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((key, code))
    c = code[order]
    start = np.ones(len(c), dtype=bool)
    start[1:] = c[1:] != c[:-1]
    starts = np.flatnonzero(start)
    group = np.cumsum(start) - 1
    rank = np.arange(len(c)) - starts[group]
    return np.asarray(order[rank < limit[c]], dtype=np.int64)


# Allocation (step 5).


@dataclass(frozen=True, slots=True)
class Plan:
    """The allocation before ties: each stratum's base, and `extra` units for the contenders
    (stratum, priority): the higher priority first, then the smaller next key."""

    base: dict[str, int]
    contenders: list[tuple[str, int]]
    extra: int

    def fetch(self) -> dict[str, int]:
        """How many of each stratum's smallest keys the draw can need."""
        more = {s for s, _ in self.contenders}
        return {s: b + (s in more) for s, b in self.base.items()}


def plan(counts: Mapping[str, int], n: int, allocation: str) -> Plan:
    """The allocation of `n` among strata with eligible `counts`, up to its ties."""
    total = sum(counts.values())
    if n >= total:
        return Plan(dict(counts), [], 0)
    if allocation == "proportional":
        base = {s: n * e // total for s, e in counts.items()}
        contenders = [(s, n * e % total) for s, e in counts.items() if n * e % total]
    else:
        sizes = sorted(counts.values())
        prefix = [0]
        for e in sizes:
            prefix.append(prefix[-1] + e)

        def filled(level: int) -> int:  # sum(min(e, level))
            i = bisect.bisect_left(sizes, level)
            return prefix[i] + level * (len(sizes) - i)

        lo, hi = 0, sizes[-1]  # filled(lo) <= n < filled(hi), as n < total
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if filled(mid) <= n:
                lo = mid
            else:
                hi = mid
        base = {s: min(e, lo) for s, e in counts.items()}
        contenders = [(s, 0) for s, e in counts.items() if e > lo]
    return Plan(base, contenders, n - sum(base.values()))


def resolve(p: Plan, next_key: Mapping[str, int]) -> dict[str, int]:
    """The final allocation: the plan's extra units to its first contenders, ordered by
    priority (higher first), then the draw key of the article each would add, then name."""
    ranked = sorted(p.contenders, key=lambda c: (-c[1], next_key[c[0]], c[0]))
    out = dict(p.base)
    for s, _ in ranked[: p.extra]:
        out[s] += 1
    return out


# Inputs: the pool's files, the corpus's articles.


def pool_files(pool: Path) -> list[Path]:
    """The pool's tables: the file itself, or a folder's `part-*.parquet` (sorted)."""
    if pool.is_file():
        return [pool]
    if pool.is_dir():
        files = sorted(p for p in pool.glob("part-*.parquet") if p.is_file())
        if files:
            return files
        raise UsageError(
            f"{display_path(pool)}: no pool shards (part-*.parquet) in this folder",
            hint="Ingest the pool first: corpus ingest --engine ray --out build/pool CRAWL/",
            path=display_path(pool),
        )
    raise UsageError(
        f"{display_path(pool)}: no pool (no such file or folder)",
        hint="Pass --pool FILE_OR_FOLDER, or ingest one: corpus ingest --out build/pool CRAWL/",
        path=display_path(pool),
    )


def _check_table(path: Path, need: Iterable[str]) -> Any:
    """The ParquetFile at `path`, or a DataError when it is not an articles table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(
            f"{display_path(path)}: not a readable Parquet file ({exc})", path=display_path(path)
        ) from None
    missing = sorted(set(need) - set(pf.schema_arrow.names))
    if missing:
        raise DataError(
            f"{display_path(path)}: not an articles table (missing columns: {', '.join(missing)})",
            hint="A pool is what `corpus ingest` writes (ARTICLES_SCHEMA).",
            path=display_path(path),
        )
    return pf


def corpus_tables(config: CorpusConfig, *, skip: Iterable[Path] = ()) -> list[Path]:
    """The articles tables whose articles are excluded: build/articles.parquet (when it
    exists) and every `*.parquet` under the articles folder, except `skip`."""
    skipped = {p.resolve() for p in skip}
    tables = []
    built = config.paths.articles_parquet
    if built.is_file():
        tables.append(built)
    if config.paths.articles.is_dir():
        tables += sorted(p for p in config.paths.articles.rglob("*.parquet") if p.is_file())
    return [t for t in tables if t.resolve() not in skipped]


def corpus_keys(tables: Iterable[Path]) -> tuple[list[str], list[str]]:
    """The article_ids and text_sha256 of the corpus's articles tables (small: the corpus)."""
    ids: set[str] = set()
    shas: set[str] = set()
    for path in tables:
        pf = _check_table(path, ("article_id", "text_sha256"))
        with fs_errors(path):
            for batch in pf.iter_batches(batch_size=_BATCH, columns=["article_id", "text_sha256"]):
                ids.update(x for x in batch.column(0).to_pylist() if x)
                shas.update(x for x in batch.column(1).to_pylist() if x)
    return sorted(ids), sorted(shas)


def default_output(config: CorpusConfig, seed: str, n: int) -> Path:
    """articles/sample-<seed>-<N>.parquet (the seed's characters outside [A-Za-z0-9._-] as _)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", seed)
    return config.paths.articles / f"sample-{safe}-{n}.parquet"


# The draw.


@dataclass(frozen=True, slots=True)
class _Drawn:
    """An engine's answer: the chosen rows (verbatim, key order) and per-stratum counts."""

    rows: pa.Table
    counts: dict[str, tuple[int, int, int, int]]  # stratum -> pool, excluded, eligible, drawn


def sample(
    *,
    config: CorpusConfig,
    n: int,
    pool: Path | None = None,
    seed: str | None = None,
    per_story: int | None = None,
    strata: Sequence[str] | None = None,
    allocation: str | None = None,
    out: Path | None = None,
    force: bool = False,
    engine: Engine = "local",
    address: str | None = None,
    num_cpus: int | None = None,
    progress: bool = False,
) -> SampleReport:
    """Draw `n` articles from `pool` into an articles table (see the module docstring).

    Options left None take `[sample]` of corpus.toml. Raises UsageError (no pool, n < 1, an
    unknown stratum or allocation, the output exists without `force`) and DataError (a pool
    or corpus file that is not an articles table).
    """
    settings = config.sample
    if n < 1:
        raise UsageError(f"N must be at least 1 (got {n})", hint="Example: corpus sample 200")
    k = settings.per_story if per_story is None else per_story
    if k < 1:
        raise UsageError(f"--per-story must be at least 1 (got {k})")
    chosen_strata = tuple(settings.strata if strata is None else strata)
    if chosen_strata == ("none",):
        chosen_strata = ()
    for s in chosen_strata:
        if s not in SAMPLE_STRATA:
            raise UsageError(
                f"unknown stratum {s!r}",
                hint=f"Strata are any of {', '.join(SAMPLE_STRATA)}, or none.",
            )
    if len(set(chosen_strata)) != len(chosen_strata):
        raise UsageError(f"a stratum is named twice: {', '.join(chosen_strata)}")
    how = allocation or settings.allocation
    if how not in SAMPLE_ALLOCATIONS:
        raise UsageError(
            f"unknown allocation {how!r}", hint=f"One of {', '.join(SAMPLE_ALLOCATIONS)}."
        )
    the_seed = seed if seed is not None else (settings.seed or config.name)
    pool_path = pool if pool is not None else config.paths.root / DEFAULT_POOL
    files = pool_files(Path(pool_path))
    target = Path(out) if out is not None else default_output(config, the_seed, n)
    if target.exists() and not force:
        raise UsageError(
            f"{display_path(target)} exists already",
            hint="Pass --force to replace it, or choose another --seed, N or --out.",
            path=display_path(target),
        )
    from corpus_tools.store import ARTICLES_SCHEMA

    for f in files:
        _check_table(f, ARTICLES_SCHEMA.names)
    ids, shas = corpus_keys(corpus_tables(config, skip=[target, *files]))
    args = _Args(files, n, the_seed, k, chosen_strata, how, ids, shas)
    if engine == "ray":
        drawn = _draw_ray(args, address=address, num_cpus=num_cpus, progress=progress)
    else:
        drawn = _draw_local(args)
    rows = drawn.rows.select(ARTICLES_SCHEMA.names).cast(ARTICLES_SCHEMA)
    _write(rows, target)
    report = SampleReport(
        path=target,
        n=n,
        seed=the_seed,
        per_story=k,
        strata=chosen_strata,
        allocation=how,
        engine=engine,
        pool_files=len(files),
    )
    for label in sorted(drawn.counts):
        values = tuple(label.split(_SEP)) if chosen_strata else ()
        report.by_stratum.append(StratumCount(values, *drawn.counts[label]))
    eligible = sum(s.eligible for s in report.by_stratum)
    if eligible < n:
        report.warnings.append(
            f"only {eligible} eligible articles in the pool (asked for {n}): all of them drawn"
        )
    return report


@dataclass(frozen=True, slots=True)
class _Args:
    files: list[Path]
    n: int
    seed: str
    per_story: int
    strata: tuple[str, ...]
    allocation: str
    exclude_ids: list[str]
    exclude_shas: list[str]

    def columns(self) -> list[str]:
        return sorted({"article_id", "story_id", "text_sha256", *stratum_columns(self.strata)})

    def prepare_kwargs(self) -> dict[str, Any]:
        import pyarrow as pa

        return {
            "seed": self.seed,
            "strata": self.strata,
            "exclude_ids": pa.array(self.exclude_ids, pa.string()),
            "exclude_shas": pa.array(self.exclude_shas, pa.string()),
        }


def _choose(
    p: Plan, candidates: Iterable[tuple[str, int, int]]
) -> tuple[dict[str, int], list[tuple[int, int]]]:
    """The final allocation and the chosen (key, global row index), in key order, from
    candidates (stratum, key, row) holding at least each stratum's `p.fetch()` smallest."""
    by_stratum: dict[str, list[tuple[int, int]]] = {}
    for stratum, key, row in candidates:
        by_stratum.setdefault(stratum, []).append((key, row))
    fetch = p.fetch()
    for s, rows in by_stratum.items():
        rows.sort()
        del rows[fetch.get(s, 0) :]
    next_key = {s: by_stratum[s][p.base[s]][0] for s, _ in p.contenders}
    final = resolve(p, next_key)
    chosen = sorted(r for s, rows in by_stratum.items() for r in rows[: final[s]])
    return final, chosen


def _draw_local(a: _Args) -> _Drawn:
    """The draw in this process: 21 bytes per pool row in numpy (key, story, stratum code,
    excluded), no text; a row's position is its global row index."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    kwargs = a.prepare_kwargs()
    keys, stories, excluded, codes = [], [], [], []
    labels: dict[str, int] = {}
    for path in a.files:
        with fs_errors(path):
            pf = pq.ParquetFile(path)
            for batch in pf.iter_batches(batch_size=_BATCH, columns=a.columns()):
                t = prepare(pa.Table.from_batches([batch]), **kwargs)
                keys.append(t.column("key").to_numpy())
                stories.append(t.column("story").to_numpy())
                excluded.append(t.column("excluded").to_numpy(zero_copy_only=False))
                enc = t.column("stratum").combine_chunks().dictionary_encode()
                local = np.array(
                    [labels.setdefault(x, len(labels)) for x in enc.dictionary.to_pylist()],
                    dtype=np.int32,
                )
                codes.append(local[enc.indices.to_numpy()])

    def joined(parts: list[Any], dtype: Any) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype)

    key, story = joined(keys, np.uint64), joined(stories, np.uint64)
    excl, code = joined(excluded, bool), joined(codes, np.int32)
    del keys, stories, excluded, codes

    ok = cap_per_story(story, key, excl, a.per_story)
    names = sorted(labels, key=labels.__getitem__)  # code -> label
    pool_n = np.bincount(code, minlength=len(names))
    excl_n = np.bincount(code[excl], minlength=len(names))
    elig_n = np.bincount(code[ok], minlength=len(names))
    counts = {names[c]: int(elig_n[c]) for c in range(len(names)) if elig_n[c]}
    p = plan(counts, a.n, a.allocation)
    idx = np.flatnonzero(ok)
    fetch = p.fetch()
    limit = np.array([fetch.get(name, 0) for name in names], dtype=np.int64)
    pick = idx[smallest_per_stratum(code[idx], key[idx], limit)]
    final, chosen = _choose(p, ((names[code[j]], int(key[j]), int(j)) for j in pick))
    table = _read_rows(a.files, [j for _, j in chosen])
    by = {
        names[c]: (int(pool_n[c]), int(excl_n[c]), int(elig_n[c]), final.get(names[c], 0))
        for c in range(len(names))
    }
    return _Drawn(table, by)


@dataclass(frozen=True, slots=True)
class _Group:
    """One row group of the pool: its file and the global index of its first row."""

    file: int
    path: str
    group: int
    first: int
    rows: int


def _row_groups(files: Sequence[Path]) -> list[_Group]:
    """The pool's row groups in order (file order, then row order): the global row index of
    a row is its position in the pool read this way."""
    import pyarrow.parquet as pq

    out: list[_Group] = []
    first = 0
    for i, path in enumerate(files):
        with fs_errors(path):
            meta = pq.ParquetFile(path).metadata
        for g in range(meta.num_row_groups):
            rows = meta.row_group(g).num_rows
            out.append(_Group(i, str(path), g, first, rows))
            first += rows
    return out


def _requests(groups: Sequence[_Group], rows: Sequence[int]) -> list[dict[str, Any]]:
    """Which row groups to read for the global `rows` (in output positions `pos`)."""
    firsts = [g.first for g in groups]
    wanted: dict[int, dict[str, Any]] = {}
    for pos, row in enumerate(rows):
        gi = bisect.bisect_right(firsts, row) - 1
        req = wanted.setdefault(
            gi, {"path": groups[gi].path, "group": groups[gi].group, "rows": [], "pos": []}
        )
        req["rows"].append(row - groups[gi].first)
        req["pos"].append(pos)
    return [wanted[gi] for gi in sorted(wanted)]


def _read_request(path: str, group: int, rows: Sequence[int], pos: Sequence[int]) -> pa.Table:
    """Rows `rows` of row group `group` of `path`, verbatim, with their output position."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpus_tools.store import ARTICLES_SCHEMA

    with fs_errors(path):
        table = pq.ParquetFile(path).read_row_group(group, columns=ARTICLES_SCHEMA.names)
    table = table.cast(ARTICLES_SCHEMA).take(pa.array(rows, pa.int64()))
    return table.append_column("pos", pa.array(pos, pa.int64()))


def _in_order(parts: Sequence[pa.Table]) -> pa.Table:
    """The fetched rows, ordered by their output position, without it."""
    import pyarrow as pa

    from corpus_tools.store import ARTICLES_SCHEMA

    if not parts:
        return ARTICLES_SCHEMA.empty_table()
    table = pa.concat_tables(parts)
    return table.sort_by("pos").drop_columns(["pos"])


def _read_rows(files: Sequence[Path], rows: Sequence[int]) -> pa.Table:
    """The pool's global `rows`, verbatim and in that order, reading only their row groups."""
    reqs = _requests(_row_groups(files), rows)
    return _in_order([_read_request(**r) for r in reqs])


# Ray: each function below runs on a block (or one item) in a Ray task.


def _ray_read(item: pa.Table, *, columns: list[str], kwargs: dict[str, Any]) -> pa.Table:
    """A row group of the pool as the draw's small rows, with their global row index."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = []
    for unit in item.to_pylist():
        with fs_errors(unit["path"]):
            t = pq.ParquetFile(unit["path"]).read_row_group(unit["group"], columns=columns)
        small = prepare(t, **kwargs)
        first = unit["first"]
        out.append(
            small.append_column("row", pa.array(range(first, first + t.num_rows), pa.int64()))
        )
    return pa.concat_tables(out)


def _ray_fetch(item: pa.Table) -> pa.Table:
    """Rows of the pool, verbatim (see `_read_request`)."""
    import pyarrow as pa

    return pa.concat_tables([_read_request(**r) for r in item.to_pylist()])


def _cap_block(block: pa.Table, *, per_story: int) -> pa.Table:
    """A shuffled block (whole stories) with its `eligible` column."""
    import pyarrow as pa

    ok = cap_per_story(
        block.column("story").to_numpy(),
        block.column("key").to_numpy(),
        block.column("excluded").to_numpy(zero_copy_only=False),
        per_story,
    )
    return block.append_column("eligible", pa.array(ok, pa.bool_()))


def _top_block(block: pa.Table, *, fetch: dict[str, int]) -> pa.Table:
    """A block's eligible rows with the `fetch[stratum]` smallest keys per stratum."""
    import numpy as np
    import pyarrow.compute as pc

    block = block.filter(pc.fill_null(block.column("eligible"), False))
    enc = block.column("stratum").combine_chunks().dictionary_encode()
    limit = np.array([fetch.get(x, 0) for x in enc.dictionary.to_pylist()], dtype=np.int64)
    keep = smallest_per_stratum(
        enc.indices.to_numpy(zero_copy_only=False), block.column("key").to_numpy(), limit
    )
    return block.select(["stratum", "key", "row"]).take(keep)


def _stratum_counts(block: pa.Table) -> pa.Table:
    """A block's pool, excluded and eligible counts per stratum (numpy, not Arrow's group_by,
    whose engine each Ray worker would have to load first)."""
    import numpy as np
    import pyarrow as pa

    enc = block.column("stratum").combine_chunks().dictionary_encode()
    code = enc.indices.to_numpy(zero_copy_only=False)
    n = len(enc.dictionary)

    def count(mask: pa.ChunkedArray) -> pa.Array:
        return pa.array(np.bincount(code[mask.to_numpy(zero_copy_only=False)], minlength=n))

    return pa.table(
        {
            "stratum": enc.dictionary,
            "pool": pa.array(np.bincount(code, minlength=n)),
            "excluded": count(block.column("excluded")),
            "eligible": count(block.column("eligible")),
        }
    )


def _draw_ray(a: _Args, *, address: str | None, num_cpus: int | None, progress: bool) -> _Drawn:
    """The draw as Ray Data transforms (see the module docstring); the pool's row groups are
    read by Ray tasks with pyarrow, one row group per task."""
    from corpus_tools.engine import ray_session, scratch_path

    groups = _row_groups([Path(scratch_path(f)) for f in a.files])
    units = [{"path": g.path, "group": g.group, "first": g.first} for g in groups]
    if not any(g.rows for g in groups):
        return _Drawn(_in_order([]), {})
    read_kwargs = {"columns": a.columns(), "kwargs": a.prepare_kwargs()}
    with ray_session(address, num_cpus=num_cpus, progress=progress) as ray:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        # Row groups are read one per call; a block holds a few (fewer tasks on small pools).
        blocks = max(1, min(len(units), 4 * cpus, len(a.files) + cpus))
        small = ray.data.from_items(units, override_num_blocks=blocks).map_batches(
            _ray_read, batch_format="pyarrow", batch_size=1, fn_kwargs=read_kwargs
        )
        # The shuffle: every story's rows in one block, then the cap per block.
        capped = (
            small.repartition(max(cpus, len(a.files)), keys=["story"])
            .map_batches(
                _cap_block,
                batch_format="pyarrow",
                batch_size=None,
                fn_kwargs={"per_story": a.per_story},
            )
            .materialize()
        )
        parts = capped.map_batches(_stratum_counts, batch_format="pyarrow", batch_size=None)
        totals: dict[str, list[int]] = {}
        for row in parts.take_all():
            t = totals.setdefault(row["stratum"], [0, 0, 0])
            t[0] += row["pool"]
            t[1] += row["excluded"]
            t[2] += row["eligible"]
        counts = {s: t[2] for s, t in totals.items() if t[2]}
        p = plan(counts, a.n, a.allocation)
        tops = capped.map_batches(
            _top_block, batch_format="pyarrow", batch_size=None, fn_kwargs={"fetch": p.fetch()}
        ).take_all()
        final, chosen = _choose(p, ((r["stratum"], int(r["key"]), int(r["row"])) for r in tops))
        reqs = _requests(groups, [row for _, row in chosen])
        fetched: list[pa.Table] = []
        if reqs:
            found = ray.data.from_items(reqs, override_num_blocks=len(reqs)).map_batches(
                _ray_fetch, batch_format="pyarrow", batch_size=1
            )
            fetched = list(found.iter_batches(batch_format="pyarrow", batch_size=None))
    by = {s: (t[0], t[1], t[2], final.get(s, 0)) for s, t in totals.items()}
    return _Drawn(_in_order(fetched), by)


def _write(rows: pa.Table, target: Path) -> None:
    import pyarrow.parquet as pq

    with atomic_path(target) as tmp:
        pq.write_table(rows, tmp, compression="zstd")


def iter_report_rows(report: SampleReport) -> Iterator[tuple[str, int, int, int, int]]:
    """(stratum shown as "a / b", pool, excluded, eligible, drawn) per stratum, for tables."""
    for s in report.by_stratum:
        yield (" / ".join(s.values) or "(all)", s.pool, s.excluded, s.eligible, s.drawn)
