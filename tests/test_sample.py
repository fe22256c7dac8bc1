"""`corpus sample N`: the draw checked against a brute-force computation written here (plain
Python over all rows: per-story cap, exclusion, strata, unit-by-unit allocation), on pools built
with pyarrow (one table, and the same rows as 3 shards in another order), locally and on Ray."""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import CliRun

from corpus_tools.config import load_config
from corpus_tools.errors import ConfigError, DataError, UsageError
from corpus_tools.sample import sample
from corpus_tools.store import ARTICLES_SCHEMA

OUTLETS = ["Alpha Post", "Beta Wire", "Gamma Daily", None]


def make_rows(count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """Pool rows: stories of 1-6 articles, 4 outlets (one missing), dates over 4 months or none."""
    rnd = random.Random(seed)
    rows: list[dict[str, Any]] = []
    story = 0
    while len(rows) < count:
        size = rnd.choice([1, 1, 2, 3, 6])
        for _ in range(size):
            i = len(rows)
            text = f"Article {i} of story {story}. " + "word " * rnd.randint(3, 12)
            published = (
                None
                if rnd.random() < 0.1
                else date(2024, rnd.randint(1, 4), rnd.randint(1, 28)).isoformat()
            )
            rows.append(
                {
                    "article_id": f"art-{i:05d}",
                    "source": f"crawl/{i}.warc",
                    "outlet": rnd.choice(OUTLETS),
                    "url": f"https://example.org/{i}",
                    "title": f"Title {i}",
                    "published": published,
                    "language": rnd.choice(["en", "en", "fr"]),
                    "text": text,
                    "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
                    "sentences": [{"start": 0, "end": len(text)}],
                    "story_id": f"story-{story:04d}",
                }
            )
        story += 1
    return rows[:count]


def write_table(rows: list[dict[str, Any]], path: Path, row_group: int = 64) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(rows, schema=ARTICLES_SCHEMA), path, row_group_size=row_group
    )
    return path


def write_shards(rows: list[dict[str, Any]], folder: Path) -> Path:
    """The same rows as 3 shards, in another order than the single table."""
    shuffled = list(rows)
    random.Random(3).shuffle(shuffled)
    for k in range(3):
        write_table(shuffled[k::3], folder / f"part-{k:05d}.parquet", row_group=37)
    return folder


# The brute force: what the module docstring says, computed the slow and obvious way.


def key(seed: str, article_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}\x00{article_id}".encode()).digest()[:8], "big")


def stratum_of(row: dict[str, Any], strata: tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for s in strata:
        if s in ("outlet", "language"):
            out.append(row[s] or "unknown")
            continue
        if not row["published"]:
            out.append("undated")
            continue
        d = date.fromisoformat(row["published"][:10])
        iso = d.isocalendar()
        out.append(
            {
                "year": str(d.year),
                "month": d.strftime("%Y-%m"),
                "week": f"{iso[0]}-W{iso[1]:02d}",
                "day": d.isoformat(),
            }[s]
        )
    return tuple(out)


def brute_force(
    rows: list[dict[str, Any]],
    n: int,
    *,
    seed: str,
    per_story: int = 1,
    strata: tuple[str, ...] = ("outlet", "month"),
    allocation: str = "proportional",
    excluded: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[str], dict[tuple[str, ...], int]]:
    """(chosen article ids in key order, drawn per stratum)."""
    stories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        stories[r["story_id"]].append(r)
    eligible = []
    for members in stories.values():
        out = [r for r in members if r["article_id"] in excluded or r["text_sha256"] in excluded]
        rest = sorted(
            (r for r in members if r not in out), key=lambda r: key(seed, r["article_id"])
        )
        eligible += rest[: max(0, per_story - len(out))]
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    ids = {}
    for r in eligible:
        k = key(seed, r["article_id"])
        groups[stratum_of(r, strata)].append(k)
        ids[k] = r["article_id"]
    for g in groups.values():
        g.sort()
    total = sum(len(g) for g in groups.values())
    alloc = dict.fromkeys(groups, 0)
    if allocation == "equal":  # one unit at a time to the stratum with the fewest so far
        for _ in range(min(n, total)):
            open_ = [s for s in groups if alloc[s] < len(groups[s])]
            s = min(open_, key=lambda s: (alloc[s], groups[s][alloc[s]]))
            alloc[s] += 1
    elif n >= total:
        alloc = {s: len(g) for s, g in groups.items()}
    else:  # largest remainder, with exact fractions
        quota = {s: Fraction(n * len(g), total) for s, g in groups.items()}
        alloc = {s: int(q) for s, q in quota.items()}
        left = n - sum(alloc.values())
        order = sorted(
            (s for s in groups if quota[s] > alloc[s]),
            key=lambda s: (-(quota[s] - alloc[s]), groups[s][alloc[s]]),
        )
        for s in order[:left]:
            alloc[s] += 1
    chosen = sorted(k for s, g in groups.items() for k in g[: alloc[s]])
    return [ids[k] for k in chosen], {s: a for s, a in alloc.items() if a}


def drawn_ids(path: Path) -> list[str]:
    return pq.read_table(path).column("article_id").to_pylist()


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return make_rows(600)


@pytest.fixture
def corpus(sample_corpus: Path) -> Any:
    return load_config(sample_corpus / "corpus.toml")


@pytest.mark.parametrize(
    ("n", "per_story", "strata", "allocation"),
    [
        (40, 1, ("outlet", "month"), "proportional"),
        (40, 2, ("outlet", "month"), "equal"),
        (97, 3, ("outlet", "month"), "proportional"),
        (25, 1, ("language", "week"), "equal"),
        (60, 2, (), "proportional"),
        (33, 1, ("outlet", "year"), "equal"),
        (150, 1, ("day",), "proportional"),
    ],
)
def test_the_draw_is_the_brute_force_one(
    corpus: Any,
    rows: list[dict[str, Any]],
    tmp_path: Path,
    n: int,
    per_story: int,
    strata: tuple[str, ...],
    allocation: str,
) -> None:
    pool = write_table(rows, tmp_path / "pool.parquet")
    report = sample(
        config=corpus,
        n=n,
        pool=pool,
        seed="s1",
        per_story=per_story,
        strata=strata,
        allocation=allocation,
        out=tmp_path / "out.parquet",
    )
    ids, per_stratum = brute_force(
        rows, n, seed="s1", per_story=per_story, strata=strata, allocation=allocation
    )
    assert len(ids) == n
    assert drawn_ids(tmp_path / "out.parquet") == ids
    assert {s.values: s.drawn for s in report.by_stratum if s.drawn} == per_stratum
    assert report.drawn == n and not report.warnings
    # Never more than per_story of a story; rows verbatim.
    written = pq.read_table(tmp_path / "out.parquet")
    assert written.schema == ARTICLES_SCHEMA
    by_id = {r["article_id"]: r for r in rows}
    for row in written.to_pylist():
        assert row == by_id[row["article_id"]]
    stories = written.column("story_id").to_pylist()
    assert max(stories.count(s) for s in stories) <= per_story
    # The pool and eligible columns add up.
    assert sum(s.pool for s in report.by_stratum) == len(rows)
    assert sum(s.eligible for s in report.by_stratum) == len(
        brute_force(rows, 10**6, seed="s1", per_story=per_story, strata=strata)[0]
    )


def test_equal_allocation_fills_small_strata_then_shares_the_rest(
    corpus: Any, tmp_path: Path
) -> None:
    rows = make_rows(300)
    # One outlet with just 2 articles (2 stories): it gets both, the others share the rest.
    for i, r in enumerate(rows):
        r["outlet"] = "Tiny" if i < 2 else ("Big" if i % 2 else "Mid")
        r["story_id"] = f"solo-{i}"
    pool = write_table(rows, tmp_path / "pool.parquet")
    report = sample(
        config=corpus,
        n=31,
        pool=pool,
        seed="x",
        strata=("outlet",),
        allocation="equal",
        out=tmp_path / "o.parquet",
    )
    drawn = {s.values[0]: s.drawn for s in report.by_stratum}
    assert drawn["Tiny"] == 2
    assert sorted([drawn["Big"], drawn["Mid"]]) == [14, 15]
    ids, _ = brute_force(rows, 31, seed="x", strata=("outlet",), allocation="equal")
    assert drawn_ids(tmp_path / "o.parquet") == ids


def test_shards_give_the_same_file_as_one_table(
    corpus: Any, rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    one = write_table(rows, tmp_path / "pool.parquet")
    shards = write_shards(rows, tmp_path / "pool")
    for pool, out in ((one, "a.parquet"), (shards, "b.parquet")):
        sample(config=corpus, n=50, pool=pool, seed="s", per_story=2, out=tmp_path / out)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_the_seed_changes_the_draw_and_repeats_it(
    corpus: Any, rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    pool = write_table(rows, tmp_path / "pool.parquet")
    outs = {}
    for name, seed in (("a1", "one"), ("a2", "one"), ("b", "two")):
        outs[name] = tmp_path / f"{name}.parquet"
        sample(config=corpus, n=40, pool=pool, seed=seed, out=outs[name])
    assert outs["a1"].read_bytes() == outs["a2"].read_bytes()
    assert set(drawn_ids(outs["a1"])) != set(drawn_ids(outs["b"]))
    # The default seed is the corpus name; the default file names seed and N.
    report = sample(config=corpus, n=40, pool=pool)
    assert report.seed == corpus.name == "geonews"
    assert report.path == corpus.paths.articles / "sample-geonews-40.parquet"
    assert drawn_ids(report.path) == brute_force(rows, 40, seed="geonews")[0]


def test_corpus_articles_and_an_earlier_sample_are_excluded(
    corpus: Any, rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    pool = write_table(rows, tmp_path / "pool.parquet")
    # The corpus holds 30 pool articles (one under another id, same text) ...
    held = [dict(r) for r in rows[100:130]]
    held[0]["article_id"] = "renamed-in-corpus"
    write_table(held, corpus.paths.articles_parquet)
    # ... and an earlier sample, not ingested yet, holds the first draw of seed "e".
    first = sample(config=corpus, n=20, pool=pool, seed="e")
    assert (
        drawn_ids(first.path)
        == brute_force(
            rows, 20, seed="e", excluded={r["article_id"] for r in held} | {held[0]["text_sha256"]}
        )[0]
    )
    second = sample(config=corpus, n=20, pool=pool, seed="e", out=tmp_path / "second.parquet")
    excluded = {r["article_id"] for r in held} | {held[0]["text_sha256"]}
    excluded |= set(drawn_ids(first.path))
    ids, _ = brute_force(rows, 20, seed="e", excluded=excluded)
    assert drawn_ids(second.path) == ids
    assert not set(ids) & excluded
    # An excluded article takes its story's slot: no drawn story already in the corpus or
    # the first sample (per_story 1).
    story_of = {r["article_id"]: r["story_id"] for r in rows}
    taken = {story_of.get(a) for a in excluded} | {rows[100]["story_id"]}
    assert not {story_of[a] for a in ids} & taken
    assert sum(s.excluded for s in second.by_stratum) == 30 + 20


def test_undated_articles_are_a_bucket(corpus: Any, tmp_path: Path) -> None:
    rows = make_rows(200)
    for r in rows[:10]:
        r["published"] = None
    rows[10]["published"] = "2024-02-30"  # not a date
    pool = write_table(rows, tmp_path / "pool.parquet")
    report = sample(
        config=corpus, n=20, pool=pool, seed="u", strata=("month",), out=tmp_path / "o.parquet"
    )
    undated = [s for s in report.by_stratum if s.values == ("undated",)]
    assert undated and undated[0].pool == sum(1 for r in rows if r["published"] is None) + 1
    assert (
        drawn_ids(tmp_path / "o.parquet")
        == brute_force(
            [dict(r, published=None if r is rows[10] else r["published"]) for r in rows],
            20,
            seed="u",
            strata=("month",),
        )[0]
    )


def test_more_than_the_pool_draws_all_eligible_with_a_warning(
    corpus: Any, rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    pool = write_table(rows, tmp_path / "pool.parquet")
    report = sample(config=corpus, n=10_000, pool=pool, seed="w", out=tmp_path / "o.parquet")
    every, _ = brute_force(rows, 10**6, seed="w")
    assert drawn_ids(tmp_path / "o.parquet") == every
    assert report.drawn == len(every) < 10_000
    assert report.warnings and f"only {len(every)} eligible" in report.warnings[0]


def test_an_empty_pool_draws_nothing(corpus: Any, tmp_path: Path) -> None:
    pool = write_table([], tmp_path / "pool.parquet")
    report = sample(config=corpus, n=5, pool=pool, seed="e", out=tmp_path / "o.parquet")
    assert report.drawn == 0 and "only 0 eligible" in report.warnings[0]
    assert pq.read_table(tmp_path / "o.parquet").schema == ARTICLES_SCHEMA


def test_the_sample_section_of_corpus_toml(sample_corpus: Path, tmp_path: Path) -> None:
    toml = sample_corpus / "corpus.toml"
    base = toml.read_text(encoding="utf-8")
    toml.write_text(
        base + '\n[sample]\nper_story = 2\nstrata = ["none"]\nallocation = "equal"\nseed = "q"\n',
        encoding="utf-8",
    )
    cfg = load_config(toml)
    assert (cfg.sample.per_story, cfg.sample.strata, cfg.sample.allocation, cfg.sample.seed) == (
        2,
        (),
        "equal",
        "q",
    )
    rows = make_rows(120)
    pool = write_table(rows, tmp_path / "pool.parquet")
    report = sample(config=cfg, n=15, pool=pool)
    assert report.path.name == "sample-q-15.parquet"
    assert (
        drawn_ids(report.path)
        == brute_force(rows, 15, seed="q", per_story=2, strata=(), allocation="equal")[0]
    )
    for bad, where in (
        ('strata = ["outlet", "none"]', "[sample -> strata]"),
        ('strata = ["county"]', "[sample -> strata -> 0]"),
        ("per_story = 0", "[sample -> per_story]"),
        ("colour = 1", "[sample -> colour]"),
    ):
        toml.write_text(base + f"\n[sample]\n{bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            load_config(toml)
        assert where in err.value.message, err.value.message


def test_usage_and_data_errors(corpus: Any, rows: list[dict[str, Any]], tmp_path: Path) -> None:
    pool = write_table(rows, tmp_path / "pool.parquet")
    with pytest.raises(UsageError, match="at least 1"):
        sample(config=corpus, n=0, pool=pool)
    with pytest.raises(UsageError, match="unknown stratum 'county'"):
        sample(config=corpus, n=5, pool=pool, strata=("county",))
    with pytest.raises(UsageError, match="no pool"):
        sample(config=corpus, n=5, pool=tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no pool shards"):
        sample(config=corpus, n=5, pool=tmp_path / "empty")
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"article_id": ["a"], "x": [1]}), other)
    with pytest.raises(DataError, match="not an articles table"):
        sample(config=corpus, n=5, pool=other)
    junk = tmp_path / "junk" / "part-00000.parquet"
    junk.parent.mkdir()
    junk.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        sample(config=corpus, n=5, pool=junk.parent)


def test_cli(cli: CliRun, sample_corpus: Path, rows: list[dict[str, Any]]) -> None:
    write_shards(rows, sample_corpus / "build" / "pool")  # the default pool
    r = cli("sample", "30", "--seed", "c", "--json", cwd=sample_corpus)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    out = sample_corpus / "articles" / "sample-c-30.parquet"
    assert doc["path"] == "articles/sample-c-30.parquet" and doc["drawn"] == 30
    ids, per_stratum = brute_force(rows, 30, seed="c")
    assert drawn_ids(out) == ids
    assert {
        tuple(s["stratum"].values()): s["drawn"] for s in doc["by_stratum"] if s["drawn"]
    } == per_stratum
    assert doc["strata"] == ["outlet", "month"] and doc["warnings"] == []

    before = out.read_bytes()
    r = cli("sample", "30", "--seed", "c", cwd=sample_corpus)
    assert r.exit_code == 2 and "exists already" in r.output and "--force" in r.output
    r = cli("sample", "30", "--seed", "c", "--force", "--per-story", "2", cwd=sample_corpus)
    assert r.exit_code == 0, r.output
    assert "wrote 30 articles to articles/sample-c-30.parquet" in r.output
    assert out.read_bytes() != before  # per_story 2, and the replaced file excluded nothing
    assert drawn_ids(out) == brute_force(rows, 30, seed="c", per_story=2)[0]

    for args, code, text in (
        (["0"], 2, "at least 1"),
        (["5", "--strata", "outlet,county"], 2, "unknown stratum"),
        (["5", "--pool", "nowhere"], 2, "no pool"),
    ):
        r = cli("sample", *args, "--seed", "z", cwd=sample_corpus)
        assert r.exit_code == code and text in r.output, (args, r.output)
    r = cli("sample", "5", "--pool", "nowhere", "--json", cwd=sample_corpus)
    assert r.exit_code == 2 and json.loads(r.stdout)["error"]["slug"] == "usage-error"


def test_ray_draws_what_the_local_engine_draws(
    ray_cluster: Any, cli: CliRun, sample_corpus: Path, rows: list[dict[str, Any]]
) -> None:
    """One Ray draw (a Ray run costs seconds here) that takes every step: the cap of 2 with
    corpus articles in their stories, equal allocation over outlet and ISO week, the rows
    fetched back verbatim; through the CLI, the JSON report and the file of the local engine."""
    corpus = load_config(sample_corpus / "corpus.toml")
    write_shards(rows, sample_corpus / "build" / "pool")  # the default pool
    held = rows[200:210]
    write_table(held, corpus.paths.articles_parquet)
    excluded = {r["article_id"] for r in held}
    args = ["--seed", "r", "--per-story", "2", "--allocation", "equal", "--strata", "outlet,week"]
    r = cli("sample", "45", *args, "--json", "--engine", "ray", "-o", "ray.pq", cwd=sample_corpus)
    assert r.exit_code == 0, r.output
    on_ray = json.loads(r.stdout)
    r = cli("sample", "45", *args, "--json", "-o", "local.pq", cwd=sample_corpus)
    assert r.exit_code == 0, r.output
    local = json.loads(r.stdout)
    assert on_ray["engine"] == "ray" and on_ray["drawn"] == 45
    assert on_ray["excluded"] == 10
    same = {"engine": "-", "path": "-"}
    assert local | same == on_ray | same
    assert (sample_corpus / "local.pq").read_bytes() == (sample_corpus / "ray.pq").read_bytes()
    ids, per_stratum = brute_force(
        rows,
        45,
        seed="r",
        per_story=2,
        strata=("outlet", "week"),
        allocation="equal",
        excluded=excluded,
    )
    assert drawn_ids(sample_corpus / "ray.pq") == ids
    assert {
        tuple(s["stratum"].values()): s["drawn"] for s in on_ray["by_stratum"] if s["drawn"]
    } == per_stratum


def _articles_format() -> bool:
    from corpus_tools.constants import FORMATS

    return "articles" in FORMATS


@pytest.mark.skipif(
    not _articles_format(), reason="`corpus ingest` does not read articles tables yet"
)
def test_sampled_articles_become_tasks_verbatim(cli: CliRun, sample_corpus: Path) -> None:
    rows = make_rows(300)
    for row in rows:  # texts as long as real articles, ending in a sentence
        row["text"] = (row["text"] + "is here. ") * 8 + "The end."
        row["text_sha256"] = hashlib.sha256(row["text"].encode()).hexdigest()
        row["sentences"] = []
    write_table(rows, sample_corpus / "pool.parquet")
    config = load_config(sample_corpus / "corpus.toml")
    assert not config.paths.articles_parquet.exists()
    r = cli("sample", "12", "--pool", "pool.parquet", "--seed", "e2e", cwd=sample_corpus)
    assert r.exit_code == 0, r.output
    drawn = pq.read_table(sample_corpus / "articles" / "sample-e2e-12.parquet").to_pylist()
    assert [d["article_id"] for d in drawn] == brute_force(rows, 12, seed="e2e")[0]
    for args in (["ingest"], ["tasks", "--no-preannotate"]):
        r = cli(*args, cwd=sample_corpus)
        assert r.exit_code == 0, r.output
    tasks = json.loads((sample_corpus / "build" / "tasks.json").read_text(encoding="utf-8"))
    by_id = {t["data"]["article_id"]: t["data"] for t in tasks}
    for d in drawn:
        assert by_id[d["article_id"]]["text"] == d["text"]
        assert by_id[d["article_id"]]["text_sha256"] == d["text_sha256"]
    # Once ingested, they are in the corpus: the same draw now excludes them all.
    r = cli(
        "sample",
        "12",
        "--pool",
        "pool.parquet",
        "--seed",
        "e2e",
        "--out",
        "again.parquet",
        cwd=sample_corpus,
    )
    assert r.exit_code == 0, r.output
    assert not {d["article_id"] for d in drawn} & set(drawn_ids(sample_corpus / "again.parquet"))
