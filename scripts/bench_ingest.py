"""Benchmark `corpus ingest` against a same-work floor and a read-and-write baseline.

For each size N (default 10,000 and 100,000; `--quick`: 10,000) it writes N synthetic articles
of ~3,000 characters as JSONL shards, then runs, each in its own subprocess so that peak RSS
and CPU time (user + system, pool workers included) are per measurement, interleaved:

- ours: `corpus_tools.ingest.ingest` on the same files (cleaning, ids, sentencex sentences,
  MinHash-LSH story clusters with exact Jaccard checks, exact dedup, sorted zstd Parquet);
- floor: the same steps written plainly with the fastest libraries, everything in memory:
  orjson lines, the same cleaning regexes (spaces, boilerplate, date line, repeated headline),
  sha256 ids, sentencex sentences located with str.find, the same shingles (blake2b), MinHash
  (numpy), LSH bands, exact Jaccard of each candidate pair (a numba merge), connected
  components (scipy), one sorted Parquet table (pyarrow, zstd, row groups of 2,048). The
  script checks that floor and ours find the same articles and stories;
- naive: read the same files with plain Python (`json.loads` per line) and write id + text
  with a pyarrow ParquetWriter (zstd) -- what reading and writing alone cost;
- ours with `--workers 2` (at the first size): its wall-time speed-up over one worker.

Printed: articles/s and peak RSS of each, ratios, and ours' peak RSS from the small to the
large size (it must stay flat: streaming). `--json FILE` also writes the rows of the shared
bench interface (see scripts/bench_all.py); `--repeat K` reports medians.

Synthetic text: sentences of English function words, words of a Zipf-distributed general
pseudo-vocabulary, and topic words the article's story draws from a large pool (as names and
terms are in news), in paragraphs; one article in ten is a rewrite of an earlier one
(sentences shuffled, one word in five replaced), so story clustering has real work to do.

With `--rejected N` it measures instead a flood of N rejected JSONL lines (malformed JSON
and records without `text`, one good article): peak RSS must stay flat in N, because findings
past a limit per slug are only counted, never kept (issue 10, point 15).

Usage: python scripts/bench_ingest.py [--sizes 10000,100000] [--quick] [--repeat K]
       [--json FILE] [--keep DIR] [--rejected N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
report = ingest(config=cfg, paths=[Path(sys.argv[2])], fmt="jsonl", workers=int(sys.argv[3]))
dt = time.perf_counter() - t0
print(json.dumps({"n": report.inputs, "articles": report.articles, "stories": report.stories,
                  "duplicates": report.duplicates, "rejected": report.rejected, "seconds": dt,
                  "findings": len(report.findings),
                  "peak_rss_mb": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                     resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
                  / 1024}))
"""

FLOOR = r"""
import hashlib, json, re, resource, sys, time, tomllib
from datetime import datetime
from pathlib import Path
import numpy as np, orjson, pyarrow as pa, pyarrow.parquet as pq, sentencex
from numba import njit
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from corpus_tools.config import DEFAULT_BOILERPLATE
from corpus_tools.store import ARTICLES_SCHEMA
from corpus_tools.ingest.stopwords import ENGLISH_STOP_WORDS as STOP  # the list, as data

cfg = tomllib.loads(Path(sys.argv[1]).read_text())["ingest"]
nd = cfg.get("near_duplicates", {})
SIZE, NUM_PERM = nd.get("shingle_size", 1), nd.get("num_perm", 128)
THRESHOLD = nd.get("threshold", 0.14)
BANDS, ROWS = [int(v) for v in sys.argv[3].split(",")]  # datasketch's choice for THRESHOLD
BOILER = [re.compile(p) for p in cfg.get("boilerplate", DEFAULT_BOILERPLATE)]
SPACES, WS = re.compile(r"[ \t\f\v]+"), re.compile(r"\s+")
WORD = re.compile(r"[^\W\d_]+|\d[\d.,]*\d|\d")
gen = np.random.RandomState(1)
PA = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
PB = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)

@njit(cache=True)
def inter(sets, starts, lengths, i, j):
    out = np.empty(len(i), np.int64)
    for k in range(len(i)):
        a, b = starts[i[k]], starts[j[k]]
        ae, be = a + lengths[i[k]], b + lengths[j[k]]
        c = 0
        while a < ae and b < be:
            x, y = sets[a], sets[b]
            c += x == y; a += x <= y; b += y <= x
        out[k] = c
    return out

def clean(raw, title):
    lines = [SPACES.sub(" ", ln).strip() for ln in raw.splitlines()]
    first = next((k for k, ln in enumerate(lines) if ln), None)
    if first is not None and len(lines[first]) <= 40:  # a date line?
        try:
            datetime.fromisoformat(lines[first]); lines[first] = ""
        except ValueError:
            pass
    key = title.casefold().rstrip(" .!?:;")
    first = next((k for k, ln in enumerate(lines) if ln), None)
    if first is not None and lines[first].casefold().rstrip(" .!?:;") == key:
        lines[first] = ""
    out, gap = [], False
    for ln in lines:
        if not ln:
            gap = bool(out); continue
        if any(p.search(ln) for p in BOILER):
            continue
        if out:
            out.append("\n\n" if gap else "\n")
        out.append(ln); gap = False
    return "".join(out)

def sentences(text):
    out, offset = [], 0
    for raw in text.splitlines(keepends=True):
        line, cursor = raw.rstrip("\r\n"), 0
        if line.strip():
            for piece in sentencex.segment("en", line):
                s = piece.strip()
                at = line.find(s, cursor) if s else -1
                if at >= 0:
                    out.append({"start": offset + at, "end": offset + at + len(s)})
                    cursor = at + len(s)
        offset += len(raw)
    return out

t0 = time.perf_counter()
rows, sets, keys = [], [], []
for f in sorted(Path(sys.argv[2]).glob("*.jsonl")):
    with open(f, "rb") as fh:
        for n, line in enumerate(fh, 1):
            r = orjson.loads(line)
            text = clean(r["text"], r["title"])
            if len(text) < 200:
                continue
            WS.sub(" ", text)  # the identity form (exact-duplicate key)
            words = [w[:7] for w in WORD.findall(text.casefold())
                     if len(w) >= 3 and w not in STOP]
            sh = set(words) if SIZE <= 1 else {" ".join(words[k:k + SIZE])
                                               for k in range(len(words))}
            digests = b"".join(hashlib.blake2b(w.encode(), digest_size=4).digest() for w in sh)
            hv = np.unique(np.frombuffer(digests, dtype="<u4"))
            m = hv ^ (hv >> np.uint32(16)); m = m * np.uint32(0x85EBCA6B)
            m = m ^ (m >> np.uint32(13))
            m = m * np.uint32(0xC2B2AE35); m = m ^ (m >> np.uint32(16))
            sig = (m[:, None] * PA[None, :] + PB[None, :]).min(axis=0).astype(np.uint64)
            keys.append((sig[0:BANDS * ROWS:2] << np.uint64(32)) | sig[1:BANDS * ROWS:2])
            sets.append(hv)
            aid = "art-" + hashlib.sha256(("id:" + r["id"]).encode()).hexdigest()[:16]
            rows.append({"article_id": aid, "source": f"{f.parent.name}/{f.name}:{n}",
                         "outlet": r.get("outlet"), "url": r.get("url"), "title": r["title"],
                         "published": r.get("published"), "language": "en", "text": text,
                         "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
                         "sentences": sentences(text)})
n = len(rows)
K, lengths = np.array(keys), np.array([len(x) for x in sets])
starts = np.cumsum(lengths) - lengths
flat = np.concatenate(sets).astype(np.uint32)
pairs = []
for b in range(BANDS):
    order = np.argsort(K[:, b], kind="stable"); sk = K[order, b]
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(sk)) + 1, [n]))
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        if 2 <= hi - lo <= 64:
            g = order[lo:hi]; a, c = np.triu_indices(hi - lo, 1)
            pairs.append(np.minimum(g[a], g[c]) * n + np.maximum(g[a], g[c]))
p = np.unique(np.concatenate(pairs)) if pairs else np.zeros(0, np.int64)
i, j = p // n, p % n
x = inter(flat, starts, lengths, i, j)
link = x / (lengths[i] + lengths[j] - x) >= THRESHOLD
graph = coo_matrix((np.ones(int(link.sum())), (i[link], j[link])), shape=(n, n))
_, label = connected_components(graph, directed=False)
ids = np.array([int(r["article_id"][4:], 16) for r in rows], dtype=np.uint64)
first = np.full(label.max() + 1 if n else 0, np.iinfo(np.uint64).max, dtype=np.uint64)
np.minimum.at(first, label, ids)
for r, lab in zip(rows, label.tolist()):
    r["story_id"] = f"story-{int(first[lab]):016x}"
rows.sort(key=lambda r: r["article_id"])
with pq.ParquetWriter(sys.argv[4], ARTICLES_SCHEMA, compression="zstd", write_statistics=True) as w:
    for lo in range(0, n, 2048):
        w.write_table(pa.Table.from_pylist(rows[lo:lo + 2048], schema=ARTICLES_SCHEMA))
dt = time.perf_counter() - t0
print(json.dumps({"n": n, "articles": n, "stories": int(label.max() + 1) if n else 0, "seconds": dt,
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


def _run(code: str, *args: str) -> dict[str, Any]:
    """Run `code` in a child process; its JSON result line, plus its wall and CPU time (user +
    system of the child and of any pool it started)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    # run from a file beside the generated corpora, so that numba can cache compiled kernels
    script = Path(tempfile.gettempdir()) / f"bench-ingest-child-{abs(hash(code)):x}.py"
    script.write_text(code, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark child failed ({proc.returncode})")
    res: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    res["wall_s"] = wall
    res["cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return res


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
        res = _run(INGEST, str(corpus / "corpus.toml"), str(src), "1")
        print(
            f"{n:,} rejected lines: rejected {int(res['rejected']):,}, findings kept "
            f"{int(res['findings']):,}, {res['seconds']:.1f} s, "
            f"peak RSS {res['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


FLOOR_WHAT = (
    "same steps, plain: orjson lines, the same cleaning regexes, sha256 ids, sentencex "
    "sentences, blake2b shingles, numpy MinHash, LSH bands, exact Jaccard (numba merge), "
    "scipy components, one sorted zstd Parquet table (all in memory)"
)
NAIVE_WHAT = "read and write only: json.loads per line, id + text to zstd Parquet"


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(runs[0])
    for key in ("wall_s", "cpu_s", "peak_rss_mb", "seconds"):
        out[key] = statistics.median(r[key] for r in runs)
    return out


def _m(res: dict[str, Any], what: str | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {
        "wall_s": round(res["wall_s"], 3),
        "cpu_s": round(res["cpu_s"], 3),
        "peak_rss_mb": round(res["peak_rss_mb"], 1),
    }
    if what:
        m["what"] = what
    return m


def _measure(
    n: int, work: Path, repeat: int, two: bool, bands_rows: str
) -> dict[str, dict[str, Any]]:
    """Generate n articles and measure ours, floor, naive (and ours with 2 workers)."""
    repo = Path(__file__).resolve().parent.parent
    corpus = work / f"corpus-{n}"
    (corpus / "articles").mkdir(parents=True)
    shutil.copy2(repo / "corpus.toml", corpus / "corpus.toml")
    src = corpus / "synthetic"
    t = time.perf_counter()
    size = generate(src, n)
    print(
        f"generated {n:,} articles ({size / 1e6:.0f} MB JSONL) in {time.perf_counter() - t:.1f} s",
        flush=True,
    )
    toml = str(corpus / "corpus.toml")
    generate(work / "warm-up", 50)  # the floor's kernel compiled (and cached) before it is timed
    _run(FLOOR, toml, str(work / "warm-up"), bands_rows, str(work / "warm-up.parquet"))
    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "floor": [], "naive": [], "ours2": []}
    for _ in range(repeat):  # interleaved
        runs["ours"].append(_run(INGEST, toml, str(src), "1"))
        print(f"  ours:     {runs['ours'][-1]}", flush=True)
        floor_out = str(work / f"floor-{n}.parquet")
        runs["floor"].append(_run(FLOOR, toml, str(src), bands_rows, floor_out))
        print(f"  floor:    {runs['floor'][-1]}", flush=True)
        runs["naive"].append(_run(BASELINE, str(src), str(work / f"baseline-{n}.parquet")))
        print(f"  naive:    {runs['naive'][-1]}", flush=True)
        if two:
            runs["ours2"].append(_run(INGEST, toml, str(src), "2"))
            print(f"  ours -w2: {runs['ours2'][-1]}", flush=True)
    out = {k: _median(v) for k, v in runs.items() if v}
    ours, floor = out["ours"], out["floor"]
    same = (ours["articles"], ours["stories"]) == (floor["articles"], floor["stories"])
    print(
        f"  floor and ours agree on articles and stories: {same} "
        f"({floor['articles']:,}/{ours['articles']:,} articles, "
        f"{floor['stories']:,}/{ours['stories']:,} stories)",
        flush=True,
    )
    if not same:
        raise SystemExit("floor and ours disagree: the floor is not the same work")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated corpus sizes")
    parser.add_argument("--quick", action="store_true", help="10,000 articles only")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; medians reported")
    parser.add_argument("--json", help="also write the rows as JSON to this file (- = stdout)")
    parser.add_argument("--keep", type=Path, help="keep the generated files in this folder")
    parser.add_argument("--rejected", type=int, help="measure N rejected lines instead")
    args = parser.parse_args()
    if args.json == "-":
        sys.stdout = sys.stderr  # the human output; the JSON goes to the real stdout
    if args.rejected is not None:
        flood(args.rejected, args.keep)
        return
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    from datasketch import MinHashLSH  # bands and rows, independently of ours

    cfg = _near_duplicates(Path(__file__).resolve().parent.parent / "corpus.toml")
    lsh = MinHashLSH(threshold=cfg["threshold"], num_perm=cfg["num_perm"], weights=(0.5, 0.5))
    bands_rows = f"{lsh.b},{lsh.r}"
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-", dir=args.keep))
    results: list[tuple[int, dict[str, dict[str, Any]]]] = []
    try:
        for k, n in enumerate(sizes):
            results.append((n, _measure(n, work, args.repeat, k == 0, bands_rows)))
            if not args.keep:
                shutil.rmtree(work / f"corpus-{n}" / "synthetic")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print(
        f"{'articles':>9} | {'ours art/CPU-s':>14} {'RSS MB':>7} | {'floor':>7} {'RSS MB':>7} | "
        f"{'naive':>7} | {'ours/floor CPU':>14} | stories dups"
    )
    rows = []
    for n, r in results:
        ours, floor, naive = r["ours"], r["floor"], r["naive"]
        print(
            f"{n:>9,} | {n / ours['cpu_s']:>14,.0f} {ours['peak_rss_mb']:>7.0f} | "
            f"{n / floor['cpu_s']:>7,.0f} {floor['peak_rss_mb']:>7.0f} | "
            f"{n / naive['cpu_s']:>7,.0f} | {ours['cpu_s'] / floor['cpu_s']:>13.2f}x"
            f" | {int(ours['stories']):,} {int(ours['duplicates']):,}"
        )
        note = f"{int(ours['stories']):,} stories; floor agrees on articles and stories"
        rows.append(
            {
                "bench": "ingest",
                "work": f"ingest {n:,} articles",
                "n": n,
                "unit": "articles",
                "ours": _m(ours),
                "floor": _m(floor, FLOOR_WHAT),
                "naive": _m(naive, NAIVE_WHAT),
                "note": note,
            }
        )
        if "ours2" in r:
            two = r["ours2"]
            speedup = ours["wall_s"] / two["wall_s"]
            print(
                f"{n:>9,} with --workers 2: {n / two['wall_s']:,.0f} articles/s wall, "
                f"{speedup:.2f}x the wall-time throughput of one worker"
            )
            rows.append(
                {
                    "bench": "ingest",
                    "work": f"ingest {n:,} articles, --workers 2",
                    "n": n,
                    "unit": "articles",
                    "ours": _m(two),
                    "floor": _m(floor, FLOOR_WHAT),
                    "naive": None,
                    "note": f"workers 2: {speedup:.2f}x the throughput of workers 1 in wall time "
                    "(cpu_s includes the pool; peak_rss_mb is the largest process)",
                }
            )
    if len(results) > 1:
        (n0, r0), (n1, r1) = results[0], results[-1]
        growth = r1["ours"]["peak_rss_mb"] / r0["ours"]["peak_rss_mb"]
        rate = (n1 / r1["ours"]["cpu_s"]) / (n0 / r0["ours"]["cpu_s"])
        print(
            f"ours, {n1:,} vs {n0:,} articles: peak RSS {growth:.2f}x, articles/CPU-s {rate:.2f}x"
        )
    if args.json:
        text = json.dumps(rows, indent=2)
        if args.json == "-":
            print(text, file=sys.__stdout__)
        else:
            Path(args.json).write_text(text + "\n", encoding="utf-8")


def _near_duplicates(toml: Path) -> dict[str, Any]:
    import tomllib

    nd = tomllib.loads(toml.read_text(encoding="utf-8"))["ingest"].get("near_duplicates", {})
    return {"threshold": nd.get("threshold", 0.14), "num_perm": nd.get("num_perm", 128)}


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
