"""`corpus ingest --engine ray`: the single-machine ingest's rows, story ids and report, on Ray.

The oracle is the local engine on the same files (`ingest(engine="local")`): the shards read
in name order must be its table column by column, each shard sorted and the shards' id ranges
disjoint; the report must be its report (but `output`), findings included, also when
`findings_per_slug` cuts them. The Ray runs use the session's 2-CPU `ray_cluster`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools.config import load_config
from corpus_tools.errors import UsageError
from corpus_tools.ingest import build_article, compile_rules, ingest
from corpus_tools.model import IngestReport, RawArticle

REPO = Path(__file__).resolve().parent.parent
RECORDS = 800
WARC_RECORDS = 1500


def write_corpus(root: Path, n: int, *, files: int = 4, seed: int = 0) -> Path:
    """A corpus of jsonl files (records dealt round-robin, so copies land in other files):
    near-duplicate rewrites of a base text (one word in ten replaced: stories), exact copies
    at another URL, records under a shared explicit id (same text: copies; other text: id
    clashes), bodies too short (rejected), and a file of no article format."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = ["".join(rng.choice(letters) for _ in range(9)) for _ in range(4000)]
    root.mkdir(parents=True)
    shutil.copy2(REPO / "corpus.toml", root / "corpus.toml")
    folder = root / "articles"
    folder.mkdir()
    records: list[dict[str, str]] = []
    base = ""
    for k in range(n):
        r = rng.random()
        if base and r < 0.15:
            words = base.split()
            for _ in range(len(words) // 10):
                words[rng.randrange(len(words))] = rng.choice(vocab)
            text = " ".join(words)
        elif base and r < 0.2:
            text = base
        else:
            text = base = " ".join(rng.choice(vocab) for _ in range(rng.randrange(60, 150)))
        rec = {"url": f"https://news{rng.randrange(9)}.example/{k}", "title": f"T{k}", "text": text}
        if rng.random() < 0.03:
            rec = {"id": f"id-{rng.randrange(20)}", "text": text}
        if rng.random() < 0.02:
            rec["text"] = "too short"
        records.append(rec)
    for f in range(files):
        with open(folder / f"part-{f}.jsonl", "w", encoding="utf-8") as fh:
            for rec in records[f::files]:
                fh.write(json.dumps(rec) + "\n")
    (folder / "notes.xyz").write_text("not an article\n", encoding="utf-8")
    return root


def read_pool(folder: Path) -> tuple[pa.Table, list[pa.Table]]:
    names = sorted(os.listdir(folder))
    assert all(n.startswith("part-") and n.endswith(f"-of-{len(names):05d}.parquet") for n in names)
    shards = [pq.read_table(folder / n) for n in names]
    return pa.concat_tables(shards), shards


def assert_same(local: IngestReport, on_ray: IngestReport, table: pa.Table, pool: Path) -> None:
    whole, shards = read_pool(pool)
    assert whole.schema == table.schema
    for name in table.column_names:  # column by column, for a readable failure
        assert whole.column(name).equals(table.column(name)), name
    previous_last: str | None = None
    for shard in shards:
        ids = shard.column("article_id").to_pylist()
        assert ids == sorted(ids)
        if ids:
            assert previous_last is None or previous_last < ids[0]  # ranges do not overlap
            previous_last = ids[-1]
    a, b = local.to_dict(), on_ray.to_dict()
    a.pop("output")
    b.pop("output")
    # how the Ray run went (not part of the result): every stage timed, bytes through shuffles
    engine = b.pop("engine")
    assert "engine" not in a
    if local.articles:
        assert set(engine["stage_seconds"]) == {
            "read and build",
            "duplicates",
            "stories",
            "story ids",
            "write shards",
        }
        assert all(v > 0 for v in engine["shuffled_bytes"].values())
        assert engine["stories"]["links"] == local.articles - local.stories
    assert a == b


def test_ray_gives_the_local_rows_story_ids_and_report(ray_cluster: Any, tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "c", RECORDS)
    config = load_config(root / "corpus.toml")
    local = ingest(config=config, findings_per_slug=5)
    table = pq.read_table(config.paths.articles_parquet)
    on_ray = ingest(config=config, engine="ray", shards=3, findings_per_slug=5)
    assert on_ray.output == "build/pool"
    # the corpus holds what the test is about
    slugs = {f.slug for f in local.findings}
    assert {"exact-duplicate", "duplicate-id", "short-body", "unknown-format"} <= slugs
    assert "findings-summarised" in slugs  # the cut chose the same findings
    stories = table.group_by("story_id").aggregate([("article_id", "count")])
    assert max(stories.column("article_id_count").to_pylist()) >= 2
    assert local.duplicates > 20 and local.rejected > 20
    assert_same(local, on_ray, table, root / "build" / "pool")


def _warc_generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_warc_corpus", REPO / "scripts" / "make_warc_corpus.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_warc_corpus", module)
    spec.loader.exec_module(module)
    return module


def test_a_warc_crawl_on_ray_gives_the_local_rows(ray_cluster: Any, tmp_path: Path) -> None:
    """The issue's test: a generated WARC crawl (planted stories and copies, non-article
    responses, a file cut short) through both engines."""
    root = tmp_path / "c"
    root.mkdir()
    shutil.copy2(REPO / "corpus.toml", root / "corpus.toml")
    truth = _warc_generator().write_warc_corpus(root / "articles", WARC_RECORDS, files=4)
    last = sorted((root / "articles").glob("*.warc.gz"))[-1]
    data = last.read_bytes()
    last.write_bytes(data[: len(data) - 300])  # its last record cut
    config = load_config(root / "corpus.toml")
    local = ingest(config=config, workers=2)
    table = pq.read_table(config.paths.articles_parquet)
    on_ray = ingest(config=config, engine="ray", shards=4)
    assert local.articles > WARC_RECORDS * 0.8 and local.duplicates > 0
    assert local.stories < local.articles and not local.ok  # stories; the cut record
    assert len({p["story"] for p in truth["pages"]}) < len(truth["pages"])
    assert_same(local, on_ray, table, root / "build" / "pool")

    # `corpus sample` on the Ray-ingested pool, with a corpus that already holds 30 of its
    # articles: none of them, nor another article of their stories, is drawn (per story 1)
    from corpus_tools.sample import sample

    held = table.slice(0, 30)
    pq.write_table(held, config.paths.articles_parquet)
    held_stories = set(held.column("story_id").to_pylist())
    pool = root / "build" / "pool"
    drawn = {}
    for engine in ("local", "ray"):
        out = root / f"sample-{engine}.parquet"
        report = sample(config=config, n=200, pool=pool, seed="s", out=out, engine=engine)
        assert report.drawn == 200 and not report.warnings
        drawn[engine] = out.read_bytes()
        rows = pq.read_table(out)
        stories = rows.column("story_id").to_pylist()
        assert len(set(stories)) == 200  # at most one per story
        assert not set(stories) & held_stories
        assert not set(rows.column("article_id").to_pylist()) & set(
            held.column("article_id").to_pylist()
        )
        # verbatim rows of the pool
        by_id = {r["article_id"]: r for r in table.to_pylist()}
        assert all(by_id[r["article_id"]] == r for r in rows.to_pylist())
    assert drawn["local"] == drawn["ray"]


def test_copies_and_id_clashes_across_files_and_partitions(
    ray_cluster: Any, tmp_path: Path
) -> None:
    """Copies of one text and records of one id in several files (and so, with their keys
    hashed, in any partition): the same kept record and findings as the local path."""
    root = tmp_path / "c"
    root.mkdir()
    shutil.copy2(REPO / "corpus.toml", root / "corpus.toml")
    (root / "articles").mkdir()
    body = "The harbour authority closed the northern quay after the storm damaged it. " * 5
    other = "A regional court ruled on the water rights dispute between two counties. " * 5
    third = "Farmers in the valley reported the earliest harvest in forty years this week. " * 5
    lines = {
        "a.jsonl": [
            {"url": "https://z.example/1", "text": body},
            {"id": "shared", "text": other},
            {"url": "https://m.example/3", "text": third},
        ],
        "b.jsonl": [
            {"url": "https://a.example/1", "text": body},  # a copy: the smaller id is kept
            {"id": "shared", "text": body + " Updated."},  # same id, other text: a clash
            {"id": "shared", "text": other},  # same id and text: a copy
            {"url": "https://m.example/4", "text": "short"},
        ],
    }
    for name, recs in lines.items():
        (root / "articles" / name).write_text(
            "".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8"
        )
    config = load_config(root / "corpus.toml")
    local = ingest(config=config)
    table = pq.read_table(config.paths.articles_parquet)
    on_ray = ingest(config=config, engine="ray", out=root / "pool", shards=2)
    assert on_ray.output == "pool"
    counts = {
        s: sum(f.slug == s for f in local.findings) for s in ("exact-duplicate", "duplicate-id")
    }
    assert counts == {"exact-duplicate": 2, "duplicate-id": 1}
    assert_same(local, on_ray, table, root / "pool")


def test_label_studio_exports_are_refused(ray_cluster: Any, tmp_path: Path) -> None:
    root = tmp_path / "c"
    root.mkdir()
    shutil.copy2(REPO / "corpus.toml", root / "corpus.toml")
    (root / "articles").mkdir()
    (root / "articles" / "tasks.json").write_text(
        json.dumps([{"id": 1, "data": {"text": "A task."}}]), encoding="utf-8"
    )
    config = load_config(root / "corpus.toml")
    with pytest.raises(UsageError, match="ingest them with the local engine"):
        ingest(config=config, engine="ray", fmt="labelstudio")
    assert not (root / "build" / "pool").exists()


def test_ray_options_need_the_ray_engine(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "c", 3)
    config = load_config(root / "corpus.toml")
    with pytest.raises(UsageError, match="--engine ray"):
        ingest(config=config, shards=2)
    with pytest.raises(UsageError, match="unknown engine"):
        ingest(config=config, engine="spark")  # type: ignore[arg-type]


def test_cli_exit_codes_and_json(ray_cluster: Any, cli: Any, tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "c", 40, seed=3)
    good = root / "articles" / "part-0.jsonl"
    r = cli(
        "ingest", str(good), "--engine", "ray", "--out", "out", "--shards", "3", "--json", cwd=root
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["ok"] and report["output"] == "out" and report["rejected"] == 0
    whole, shards = read_pool(root / "out")
    assert len(shards) == 3 and whole.num_rows == report["articles"] > 0
    # a rejected record: exit 1, the good articles still written
    with open(good, "a", encoding="utf-8") as fh:
        short = {"url": "https://x.example/short", "text": "Only one short sentence of news."}
        fh.write(json.dumps(short) + "\n")
    r = cli(
        "ingest", str(good), "--engine", "ray", "--out", "out", "--shards", "3", "--json", cwd=root
    )
    assert r.exit_code == 1, r.output
    report = json.loads(r.stdout)
    assert report["rejected"] == 1 and [f["slug"] for f in report["findings"]] == ["short-body"]
    assert read_pool(root / "out")[0].num_rows == whole.num_rows


def test_cli_without_ray_names_the_extra(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "c", 5)
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from corpus_tools.cli import main\n"
        "sys.argv = ['corpus', 'ingest', '--engine', 'ray']\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CORPUS_CONFIG"}
    p = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    out = p.stdout + p.stderr
    assert p.returncode == 2, out
    assert "corpus-tools[ray]" in out and "Traceback" not in out
    assert not (root / "build" / "pool").exists()


def test_articles_tables_are_taken_verbatim(tmp_path: Path) -> None:
    """An articles table's row keeps its article_id and its text as written (no cleaning, no
    `min_chars` drop), while a jsonl record of the same text is cleaned under a new id."""
    config = load_config(write_corpus(tmp_path / "c", 1) / "corpus.toml")
    rules = compile_rules(config.ingest)
    text = "  Short   text,\nkept as it is.  "
    raw = RawArticle(
        text=text, source="pool/part-0.parquet", file="pool/part-0.parquet", line=3,
        fmt="articles", id="art-00000000000000aa", url="https://x.example/1",
    )  # fmt: skip
    article, found = build_article(raw, rules=rules, config=config.ingest)
    assert found == [] and article is not None
    assert (article.article_id, article.text) == ("art-00000000000000aa", text)
    cleaned, found = build_article(
        RawArticle(text=text, source="a.jsonl", file="a.jsonl", line=1, fmt="jsonl"),
        rules=rules,
        config=config.ingest,
    )
    assert cleaned is None and [f.slug for f in found] == ["short-body"]


# The folder swap (what `ingest_on_ray` does last), run over and over by a process that the
# test kills with SIGKILL at random moments: the output is always one whole version.
_SWAPPER = """
import os, sys
from pathlib import Path
from corpus_tools.ingest import scratch
from corpus_tools.ingest.on_ray import publish
out = Path(sys.argv[1])
v = int(sys.argv[2])
while True:
    v += 1
    with scratch.scratch_folder(out.parent) as folder:
        staging = folder / "pool"
        staging.mkdir()
        for k in range(FILES):
            (staging / f"part-{k:05d}-of-{FILES:05d}.parquet").write_text(str(v))
        publish(staging, out, folder)
    print(v, flush=True)
"""
FILES = 6


def _still_at(fd: int, folder: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(folder))
    except FileNotFoundError:
        return False


def _version(folder: Path) -> int:
    """The one version a reader sees in `folder` (opened once, its files read through it).
    A version removed under the reader (the old one, once swapped out) is read again from
    the start: it vanishes whole, and a file of another version never appears in it."""
    while True:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            names = sorted(os.listdir(fd))
            if names != [f"part-{k:05d}-of-{FILES:05d}.parquet" for k in range(FILES)]:
                # only a version already swapped out may be incomplete (being removed)
                assert not _still_at(fd, folder), names
                continue
            seen = set()
            for name in names:
                f = os.open(name, os.O_RDONLY, dir_fd=fd)
                try:
                    seen.add(os.read(f, 64).decode())
                finally:
                    os.close(f)
            assert len(seen) == 1, seen
            return int(seen.pop())
        except FileNotFoundError:
            assert not _still_at(fd, folder)
            continue
        finally:
            os.close(fd)


def test_the_folder_swap_killed_at_random_moments(tmp_path: Path) -> None:
    from corpus_tools.ingest import scratch

    rng = random.Random(14)
    out = tmp_path / "build" / "pool"
    out.parent.mkdir()
    code = _SWAPPER.replace("FILES", str(FILES))
    last = 0
    kills = 0
    for _ in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(out), str(last)],
            stdout=subprocess.PIPE,
            cwd=REPO,
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # one swap done: the child is past its imports
        deadline = time.monotonic() + rng.uniform(0.0, 0.15)
        while time.monotonic() < deadline:  # a reader, meanwhile, sees whole versions only
            _version(out)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        now = _version(out)  # after the kill: a whole version, never older than before
        assert now >= last
        last = now
    assert kills == 12 and last > 12
    # each killed run left its scratch folder (with a staging or an old version); the
    # next run sweeps them
    left = list(out.parent.glob(scratch.PREFIX + "*"))
    swept = scratch.sweep(out.parent, now=time.time() + scratch.GRACE + 1)
    assert swept.folders == len(left) and not list(out.parent.glob(scratch.PREFIX + "*"))
