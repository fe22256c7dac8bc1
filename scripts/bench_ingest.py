"""Benchmark `corpus ingest` against a plain read-and-write baseline, at two corpus sizes.

For each size N (default 10,000 and 100,000) it writes N synthetic articles of ~3,000
characters as JSONL shards, then runs, each in its own subprocess so that peak RSS is
per-measurement:

- baseline: read the same files with plain Python (`json.loads` per line) and write id + text
  with a pyarrow ParquetWriter in batches (zstd) — the floor for "read and write";
- ingest: `corpus_tools.ingest.ingest` on the same files (cleaning, ids, pysbd sentences,
  MinHash-LSH story clusters, exact dedup, sorted zstd Parquet).

Printed: articles/s and peak RSS of each, and ingest as ratios to the baseline. Peak RSS of
ingest must stay flat from the small to the large size (streaming).

Synthetic text: sentences of English function words, words of a Zipf-distributed general
pseudo-vocabulary, and topic words the article's story draws from a large pool (as names and
terms are in news), in paragraphs; one article in ten is a rewrite of an earlier one
(sentences shuffled, one word in five replaced), so story clustering has real work to do.

With `--rejected N` it measures instead a flood of N rejected JSONL lines (malformed JSON
and records without `text`, one good article): peak RSS must stay flat in N, because findings
past a limit per slug are only counted, never kept (issue 10, point 15).

Usage: python scripts/bench_ingest.py [--sizes 10000,100000] [--keep DIR] [--rejected N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARD = 10_000
FUNCTION_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "was",
    "said",
    "were",
    "has",
    "have",
    "it",
    "its",
    "an",
    "be",
    "this",
    "which",
    "their",
    "after",
    "over",
    "about",
    "more",
    "but",
    "not",
    "than",
    "also",
    "who",
    "two",
    "new",
]
SYLLABLES = [c + v for c in "bcdfgklmnprstvz" for v in "aeiou"] + ["an", "el", "or", "is", "um"]

BASELINE = r"""
import json, resource, sys, time
from pathlib import Path
import pyarrow as pa, pyarrow.parquet as pq
src, out = Path(sys.argv[1]), Path(sys.argv[2])
schema = pa.schema([("id", pa.string()), ("text", pa.string())])
t0 = time.perf_counter()
n = 0
with pq.ParquetWriter(out, schema, compression="zstd") as w:
    for f in sorted(src.glob("*.jsonl")):
        batch = []
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                batch.append({"id": r["id"], "text": r["text"]})
                if len(batch) == 2048:
                    w.write_table(pa.Table.from_pylist(batch, schema=schema)); n += len(batch)
                    batch = []
        if batch:
            w.write_table(pa.Table.from_pylist(batch, schema=schema)); n += len(batch)
dt = time.perf_counter() - t0
print(json.dumps({"n": n, "seconds": dt,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

INGEST = r"""
import json, resource, sys, time
from pathlib import Path
t_import = time.perf_counter()
from corpus_tools.config import load_config
from corpus_tools.ingest import ingest
cfg = load_config(Path(sys.argv[1]))
t0 = time.perf_counter()
report = ingest(config=cfg, paths=[Path(sys.argv[2])], fmt="jsonl")
dt = time.perf_counter() - t0
print(json.dumps({"n": report.inputs, "articles": report.articles, "stories": report.stories,
                  "duplicates": report.duplicates, "rejected": report.rejected, "seconds": dt,
                  "findings": len(report.findings),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


class Vocabulary:
    """Pseudo-words: a general vocabulary with Zipf-like frequencies (rank r has weight 1/r)
    and a large pool from which each story draws its own topic words (names, places, terms)."""

    def __init__(self, rng: random.Random, general: int = 20_000, pool: int = 200_000) -> None:
        words: set[str] = set()
        while len(words) < general + pool:
            words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
        ordered = sorted(words)
        rng.shuffle(ordered)
        self.words, self.pool = ordered[:general], ordered[general:]
        self.cum_weights = list(itertools.accumulate(1 / (r + 1) for r in range(general)))

    def sample(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cum_weights, k=k)

    def topic(self, rng: random.Random, k: int = 150) -> list[str]:
        return rng.sample(self.pool, k)


def _sentence(rng: random.Random, vocab: Vocabulary, topic: list[str]) -> str:
    n = rng.randint(12, 26)
    words = [
        rng.choice(FUNCTION_WORDS)
        if (x := rng.random()) < 0.4
        else rng.choice(topic)
        if x < 0.6
        else vocab.sample(rng, 1)[0]
        for _ in range(n)
    ]
    words[0] = words[0].capitalize()
    if rng.random() < 0.5:
        words[rng.randrange(1, n)] = rng.choice(topic).capitalize()
    return " ".join(words) + rng.choice([".", ".", ".", "?", "!"])


def _article(rng: random.Random, vocab: Vocabulary, target: int = 3000) -> list[list[str]]:
    topic = vocab.topic(rng)
    paras: list[list[str]] = []
    size = 0
    while size < target:
        para = [_sentence(rng, vocab, topic) for _ in range(rng.randint(2, 5))]
        size += sum(len(s) + 1 for s in para)
        paras.append(para)
    return paras


def _rewrite(rng: random.Random, vocab: Vocabulary, paras: list[list[str]]) -> list[list[str]]:
    out = []
    for para in paras:
        sents = para[:]
        rng.shuffle(sents)
        new = []
        for s in sents:
            words = s.split(" ")
            for i in range(1, len(words)):
                if rng.random() < 0.2:
                    words[i] = vocab.sample(rng, 1)[0]
            new.append(" ".join(words))
        out.append(new)
    return out


def generate(folder: Path, n: int, seed: int = 7) -> int:
    """Write n synthetic articles as JSONL shards of 10,000; returns total bytes."""
    rng = random.Random(seed)
    vocab = Vocabulary(rng)
    folder.mkdir(parents=True, exist_ok=True)
    recent: list[list[list[str]]] = []
    total = 0
    fh = None
    for i in range(n):
        if i % SHARD == 0:
            if fh:
                fh.close()
            fh = open(folder / f"shard-{i // SHARD:04d}.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        if recent and rng.random() < 0.1:
            paras = _rewrite(rng, vocab, rng.choice(recent))
        else:
            paras = _article(rng, vocab)
            recent = [*recent[-50:], paras]
        text = "\n\n".join(" ".join(p) for p in paras)
        rec = {
            "id": f"syn-{i:07d}",
            "url": f"https://outlet{i % 17}.example/{i}",
            "outlet": f"Outlet {i % 17}",
            "title": f"Synthetic article {i}",
            "published": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "text": text,
        }
        line = json.dumps(rec, ensure_ascii=False) + "\n"
        total += len(line.encode("utf-8"))
        assert fh is not None
        fh.write(line)
    if fh:
        fh.close()
    return total


def _run(code: str, *args: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark child failed ({proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def flood(n: int, keep: Path | None) -> None:
    """Peak RSS of ingest over `n` rejected lines (and one good article)."""
    repo = Path(__file__).resolve().parent.parent
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-flood-", dir=keep))
    try:
        corpus = work / "corpus"
        (corpus / "articles").mkdir(parents=True)
        shutil.copy2(repo / "corpus.toml", corpus / "corpus.toml")
        src = work / "flood"
        src.mkdir()
        good = {"id": "good", "text": "Talks resumed in Geneva on Tuesday. " * 10}
        with open(src / "flood.jsonl", "w", encoding="utf-8") as fh:
            fh.write(json.dumps(good) + "\n")
            for i in range(n):
                bad = {"id": f"x{i}", "txt": "no text field"}
                fh.write(json.dumps(bad) + "\n" if i % 2 else "not json\n")
        res = _run(INGEST, str(corpus / "corpus.toml"), str(src))
        print(
            f"{n:,} rejected lines: rejected {int(res['rejected']):,}, findings kept "
            f"{int(res['findings']):,}, {res['seconds']:.1f} s, "
            f"peak RSS {res['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated corpus sizes")
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    parser.add_argument("--rejected", type=int, help="measure N rejected lines instead")
    args = parser.parse_args()
    if args.rejected is not None:
        flood(args.rejected, args.keep)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    repo = Path(__file__).resolve().parent.parent
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-", dir=args.keep))
    rows = []
    try:
        for n in sizes:
            corpus = work / f"corpus-{n}"
            (corpus / "articles").mkdir(parents=True)
            shutil.copy2(repo / "corpus.toml", corpus / "corpus.toml")
            src = corpus / "synthetic"
            t = time.perf_counter()
            size = generate(src, n)
            print(
                f"generated {n:,} articles ({size / 1e6:.0f} MB JSONL) "
                f"in {time.perf_counter() - t:.1f} s",
                flush=True,
            )
            base = _run(BASELINE, str(src), str(work / f"baseline-{n}.parquet"))
            print(f"  baseline: {base}", flush=True)
            ing = _run(INGEST, str(corpus / "corpus.toml"), str(src))
            print(f"  ingest:   {ing}", flush=True)
            rows.append((n, base, ing))
            if not args.keep:
                shutil.rmtree(src)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print(
        f"{'articles':>9} | {'baseline art/s':>14} {'RSS MB':>7} | {'ingest art/s':>12} "
        f"{'RSS MB':>7} | {'speed':>7} {'RSS':>6} | stories dups"
    )
    for n, base, ing in rows:
        b_rate, i_rate = base["n"] / base["seconds"], ing["n"] / ing["seconds"]
        rss_ratio = ing["peak_rss_mb"] / base["peak_rss_mb"]
        print(
            f"{n:>9,} | {b_rate:>14,.0f} {base['peak_rss_mb']:>7.0f} | {i_rate:>12,.0f} "
            f"{ing['peak_rss_mb']:>7.0f} | {i_rate / b_rate:>6.3f}x {rss_ratio:>5.2f}x"
            f" | {int(ing['stories']):,} {int(ing['duplicates']):,}"
        )
    if len(rows) > 1:
        growth = rows[-1][2]["peak_rss_mb"] / rows[0][2]["peak_rss_mb"]
        print(f"ingest peak RSS, {rows[-1][0]:,} vs {rows[0][0]:,} articles: {growth:.2f}x")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
