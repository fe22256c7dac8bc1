"""Benchmark `corpus release` on synthetic corpora, beside a plain-pyarrow baseline.

For each size (default 10k and 100k articles) it writes a synthetic corpus into a temporary
folder (articles.parquet, JSONL Label Studio exports of 1000 tasks each with two annotators per
article, and the matching gold.jsonl), then runs, each in its own subprocess so peak RSS is per
measurement:

  release   `build_release(...)`: every config and split, card, manifest, agreement sample
  baseline  plain pyarrow: read the release's tables and write them again with
            `pq.write_table(..., compression="zstd")` (the cost of the Parquet writing alone)

and prints wall time, articles/s and peak RSS, with the ratios to the baseline.

    .venv/bin/python scripts/bench_release.py            # 10k and 100k
    .venv/bin/python scripts/bench_release.py --sizes 2000
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
# Tasks per export file: Label Studio exports of a big project come in pages (and `corpus ls
# pull` writes one file per task); the exports reader holds one file in memory at a time.
SHARD = 1000

WORDS = [
    "the",
    "talks",
    "on",
    "drones",
    "continued",
    "as",
    "officials",
    "met",
    "again",
    "while",
    "markets",
    "waited",
    "for",
    "news",
    "from",
    "the",
    "capital",
    "and",
    "analysts",
    "said",
    "the",
    "deal",
    "could",
    "change",
    "the",
    "region",
]
NAMES = [
    ("Iran", "GPE"),
    ("Russia", "GPE"),
    ("NATO", "ORG"),
    ("Zelensky", "PER"),
    ("Tehran", "GPE"),
    ("drones", "WEAPON"),
    ("Black Sea", "LOC"),
    ("last week", "DATE"),
]


def synth_article(i: int, rng: random.Random) -> tuple[str, list[tuple[int, int, str]]]:
    parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for j in range(60):
        if j % 6 == 0:
            name, label = NAMES[rng.randrange(len(NAMES))]
            piece = name
            spans.append((pos, pos + len(name), label))
        elif j % 17 == 0:
            piece = rng.choice(["😀", "𝔸lpha", "cafe\u0301", "\r\n"])
        else:
            piece = rng.choice(WORDS)
        parts.append(piece)
        pos += len(piece) + 1
    return " ".join(parts) + f" Report {i}.", spans


def make_corpus(root: Path, n: int) -> None:
    """corpus.toml, build/articles.parquet, annotations/export-*.jsonl, build/gold.jsonl."""
    from corpus_tools import store
    from corpus_tools.model import Article

    rng = random.Random(n)
    shutil.copy2(REPO / "corpus.toml", root / "corpus.toml")
    (root / "build").mkdir()
    (root / "annotations").mkdir()
    writer = pq.ParquetWriter(root / "build" / "articles.parquet", store.ARTICLES_SCHEMA)
    rows = []
    ann_out = None
    with open(root / "build" / "gold.jsonl", "wb") as gold_out:
        for i in range(n):
            if i % SHARD == 0:
                if ann_out is not None:
                    ann_out.close()
                ann_out = open(root / "annotations" / f"export-{i // SHARD:05d}.jsonl", "wb")  # noqa: SIM115
            text, spans = synth_article(i, rng)
            aid = f"a{i:07d}"
            sha = store.sha256_text(text)
            art = Article(
                aid,
                "synthetic",
                "Wire",
                None,
                f"Story {i}",
                "2024-12-13",
                "en",
                text,
                sha,
                (),
                f"story-{i // 3}",
            )
            rows.append(store.article_to_row(art))
            if len(rows) >= 5000:
                writer.write_table(pa.Table.from_pylist(rows, schema=store.ARTICLES_SCHEMA))
                rows = []
            results = [
                {
                    "id": f"e{k}",
                    "type": "labels",
                    "from_name": "entities",
                    "to_name": "text",
                    "value": {"start": s, "end": e, "labels": [lab]},
                }
                for k, (s, e, lab) in enumerate(spans)
            ]
            stance = rng.choice(["favor", "against", "neutral"])
            results.append(
                {
                    "id": "s1",
                    "type": "choices",
                    "from_name": "stance_iran",
                    "to_name": "text",
                    "value": {"choices": [stance]},
                }
            )
            task = {
                "id": i + 1,
                "data": {"text": text, "article_id": aid, "text_sha256": sha},
                "annotations": [
                    {
                        "id": 2 * i + k,
                        "completed_by": who,
                        "result": results,
                        "was_cancelled": False,
                        "ground_truth": False,
                        "lead_time": 30.0,
                        "updated_at": "2024-12-14T10:00:00Z",
                    }
                    for k, who in enumerate(("ann-a", "ann-b"))
                ],
            }
            assert ann_out is not None
            ann_out.write(orjson.dumps(task) + b"\n")
            both = {"provenance": "unanimous", "annotators": ["ann-a", "ann-b"], "decided_by": None}
            gold = {
                "article_id": aid,
                "text_sha256": sha,
                "annotators": ["ann-a", "ann-b"],
                "entities": [
                    {"start": s, "end": e, "label": lab, "text": text[s:e], "decision": both}
                    for s, e, lab in spans
                ],
                "stances": [{"target": "iran", "label": stance, "decision": both}],
                "claims": [],
            }
            gold_out.write(orjson.dumps(gold) + b"\n")
    if ann_out is not None:
        ann_out.close()
    if rows:
        writer.write_table(pa.Table.from_pylist(rows, schema=store.ARTICLES_SCHEMA))
    writer.close()


CHILD_RELEASE = """
import json, resource, sys, time
from pathlib import Path
from corpus_tools.config import load_config
from corpus_tools.release import build_release
cfg = load_config(Path(sys.argv[1]) / "corpus.toml")
t = time.perf_counter()
res = build_release(config=cfg, version="1.0.0")
dt = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": dt, "rss_kb": ru.ru_maxrss, "cpu": ru.ru_utime + ru.ru_stime,
                  "rows": sum(sum(v.values()) for v in res.counts.values())}))
"""

CHILD_BASELINE = """
import json, resource, sys, time
from pathlib import Path
import pyarrow.parquet as pq
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
t = time.perf_counter()
rows = 0
for f in sorted(src.rglob("*.parquet")):
    table = pq.read_table(f)
    out = dst / f.relative_to(src)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out, compression="zstd")
    rows += table.num_rows
    del table
dt = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": dt, "rss_kb": ru.ru_maxrss, "cpu": ru.ru_utime + ru.ru_stime,
                  "rows": rows}))
"""


def run_child(code: str, *args: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"benchmark child failed:\n{proc.stderr[-3000:]}")
    out: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated article counts")
    args = parser.parse_args()
    print(
        f"{'articles':>9} {'what':<9} {'seconds':>8} {'CPU s':>7} {'articles/s':>11}"
        f" {'peak RSS MB':>12} {'time ratio':>11} {'CPU ratio':>10} {'RSS ratio':>10}"
    )
    for n in (int(x) for x in args.sizes.split(",")):
        work = Path(tempfile.mkdtemp(prefix="bench-release-"))
        try:
            make_corpus(work, n)
            rel = run_child(CHILD_RELEASE, str(work))
            base = run_child(
                CHILD_BASELINE, str(work / "dist" / "1.0.0" / "data"), str(work / "baseline")
            )
            assert base["rows"] == rel["rows"], (base, rel)
            for name, m in (("baseline", base), ("release", rel)):
                print(
                    f"{n:>9} {name:<9} {m['seconds']:>8.2f} {m['cpu']:>7.1f}"
                    f" {n / m['seconds']:>11.0f} {m['rss_kb'] / 1024:>12.0f}"
                    f" {m['seconds'] / base['seconds']:>10.1f}x {m['cpu'] / base['cpu']:>9.1f}x"
                    f" {m['rss_kb'] / base['rss_kb']:>9.1f}x"
                )
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
