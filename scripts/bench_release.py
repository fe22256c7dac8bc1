"""Benchmark `corpus release` on synthetic corpora beside a same-work floor, side by side.

For each size (default 10k and 100k articles; `--quick`: 10k) it writes a synthetic corpus into
a temporary folder (articles.parquet, JSONL Label Studio exports of 1000 tasks each with two
annotators per article, and the matching gold.jsonl), then runs, each in its own subprocess so
peak RSS is per measurement, interleaved and `--repeat` times (the median is reported):

  ours   `build_release(...)`: every config and split, card, manifest, agreement sample
  floor  the same steps with the fastest plain libraries: the articles table read with
         pyarrow, the exports and gold records with orjson, the same joins (latest
         annotation per annotator, gold per article, stale and bounds checks), the same
         story-cluster splits, tokens with the same regex and BIO tags by bisection, the
         tables built column by column, the same Parquet files written with the same
         settings and row groups, file hashes and the manifest's article rows

With several sizes it also prints ours' peak RSS against the smallest size's (the release's
memory should stay flat as the corpus grows). The floor writes no card: the card's agreement
section (`corpus_tools.agreement`, at most 1000 articles, a fixed cost past 1000) is
benchmarked against its own floor by `bench_agree.py`. Imports (pyarrow, datasets) are done
before the clock starts in both children; start-up is `bench_startup.py`'s. The floor's
Parquet files must be byte-identical to ours (checked and printed), so it does the same work,
not less.

    .venv/bin/python scripts/bench_release.py                  # 10k and 100k
    .venv/bin/python scripts/bench_release.py --quick --repeat 3 --json -
    .venv/bin/python scripts/bench_release.py --sizes 2000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import _bench
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
QUICK_SIZES = "10000"
ROWS_PER_GROUP = 2000  # as corpus_tools.release.parquet
SPLITS = ("train", "validation", "test")
CONFIGS = ("entities", "stance", "claims", "articles", "annotations")
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


def write_plan(root: Path) -> None:
    """What the floor takes as given (a constant of the scheme, not per-row work): label
    lists, stance targets, split shares and seed, and each config's Arrow schema (with the
    `huggingface` metadata), as corpus-tools derives them from corpus.toml."""
    from corpus_tools.config import load_config
    from corpus_tools.release.features import features_for, label_lists

    cfg = load_config(root / "corpus.toml")
    labels = label_lists(cfg.scheme)
    plan = {
        "labels": labels,
        "targets": {t.id: t.name for t in cfg.scheme.stance_targets},
        "shares": {
            "train": cfg.splits.train,
            "validation": cfg.splits.validation,
            "test": cfg.splits.test,
        },
        "seed": cfg.splits.seed,
    }
    (root / "plan").mkdir()
    (root / "plan" / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    for config in CONFIGS:
        schema: pa.Schema = features_for(config, labels).arrow_schema  # type: ignore[arg-type]
        (root / "plan" / f"{config}.schema").write_bytes(schema.serialize().to_pybytes())


# --- the floor -------------------------------------------------------------------------------


class _Table:
    """One (config, split) Parquet file, its columns buffered and flushed every 2000 rows."""

    def __init__(self, path: Path, schema: Any) -> None:
        import pyarrow.parquet as pq

        self.path, self.schema, self.rows = path, schema, 0
        self.cols: dict[str, list[Any]] = {f.name: [] for f in schema}
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(
            path,
            schema,
            compression="zstd",
            compression_level=3,
            use_dictionary=True,
            write_statistics=True,
            version="2.6",
        )
        self.buffered = 0

    def added(self) -> None:
        self.buffered += 1
        if self.buffered >= ROWS_PER_GROUP:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if not self.buffered:
            return
        arrays = [_array(self.cols[f.name], f.type) for f in self.schema]
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        _check_labels(table)
        self.writer.write_table(table, row_group_size=ROWS_PER_GROUP)
        self.rows += self.buffered
        self.buffered = 0
        for v in self.cols.values():
            v.clear()

    def close(self) -> None:
        self.flush()
        self.writer.close()
        if not self.rows:
            self.path.unlink()


def _array(values: list[Any], typ: Any) -> Any:
    """A column from plain values; a list column's values come as (length, items) pairs."""
    import itertools

    import pyarrow as pa

    if not pa.types.is_list(typ):
        return pa.array(values, type=typ)
    offsets = pa.array([0, *itertools.accumulate(values[0::2])], pa.int32())
    inner = typ.value_type
    flat = list(itertools.chain.from_iterable(values[1::2]))
    if pa.types.is_struct(inner):
        columns = list(zip(*flat, strict=True)) if flat else [() for _ in inner]
        children = [pa.array(c, type=f.type) for c, f in zip(columns, inner, strict=True)]
        child = pa.StructArray.from_arrays(children, fields=list(inner))
    else:
        child = pa.array(flat, type=inner)
    return pa.ListArray.from_arrays(offsets, child, type=typ)


def _check_labels(table: Any) -> None:
    """Every class-id column within its names (the check ours makes before writing)."""
    import pyarrow.compute as pc

    for name in ("label", "checkworthy", "ner_tags"):
        if name in table.column_names:
            col = table.column(name)
            if name == "ner_tags":
                col = pc.list_flatten(col)
            lo_hi = pc.min_max(col).as_py()
            assert lo_hi["min"] is None or lo_hi["min"] >= 0


def floor_release(root: Path, out: Path) -> dict[str, int]:
    """The floor: the same release Parquet files and manifest rows, plainly (see the module
    docstring). Returns the row count of each file."""
    import bisect
    import gc
    import itertools
    import operator

    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq
    import regex

    gc.disable()  # as ours does during a build: the collector's passes are pure overhead here
    plan = json.loads((root / "plan" / "plan.json").read_text(encoding="utf-8"))
    ids = {k: {name: i for i, name in enumerate(v)} for k, v in plan["labels"].items()}
    targets: dict[str, str] = plan["targets"]
    token_re = regex.compile(r"[\p{L}\p{N}\p{M}\p{Pc}]+|\X")
    schemas = {
        c: pa.ipc.read_schema(pa.py_buffer((root / "plan" / f"{c}.schema").read_bytes()))
        for c in CONFIGS
    }
    tables = {
        (c, s): _Table(out / f"data/{c}/{s}-00000-of-00001.parquet", schemas[c])
        for c in CONFIGS
        for s in SPLITS
    }
    articles = root / "build" / "articles.parquet"

    # Splits: story clusters in the order of sha256(seed, cluster), each to the split furthest
    # below its share.
    t = pq.read_table(articles, columns=["article_id", "story_id"])
    clusters: dict[str, list[str]] = {}
    for aid, story in zip(
        t.column("article_id").to_pylist(), t.column("story_id").to_pylist(), strict=True
    ):
        clusters.setdefault(story or f"article:{aid}", []).append(aid)
    del t
    seed = plan["seed"].encode()
    share = plan["shares"]
    total = sum(map(len, clusters.values()))
    counts = dict.fromkeys(SPLITS, 0)
    split_of: dict[str, str] = {}
    for cluster in sorted(
        clusters, key=lambda c: hashlib.sha256(seed + b"\0" + c.encode()).hexdigest()
    ):
        split = max(
            SPLITS, key=lambda s: (share[s] * total - counts[s], share[s], -SPLITS.index(s))
        )
        for aid in clusters[cluster]:
            split_of[aid] = split
        counts[split] += len(clusters[cluster])
    del clusters

    # The annotations (latest per annotator) and gold records, by article.
    anns: dict[str, dict[str, tuple[Any, ...]]] = {}
    for path in sorted((root / "annotations").glob("*.jsonl")):
        with open(path, "rb") as fh:
            for line in fh:
                task = orjson.loads(line)
                data = task["data"]
                text, aid, sha = data["text"], data["article_id"], data["text_sha256"]
                per = anns.setdefault(aid, {})
                for ann in task["annotations"]:
                    if ann.get("was_cancelled"):
                        continue
                    ents, stances = [], []
                    for r in ann["result"]:
                        v = r["value"]
                        if r["type"] == "labels" and r["from_name"] == "entities":
                            s, e = v["start"], v["end"]
                            ents.append((s, e, v["labels"][0], text[s:e]))
                        elif r["type"] == "choices" and r["from_name"].startswith("stance_"):
                            stances.append((r["from_name"][7:], v["choices"][0]))
                    ents.sort(key=lambda x: (x[0], x[1], x[2]))
                    stances.sort()
                    who = ann["completed_by"]
                    per[who] = (who, task["id"], ann["id"], ents, stances, ann.get("lead_time"),
                                bool(ann.get("ground_truth")), sha)  # fmt: skip
    golds: dict[str, Any] = {}
    with open(root / "build" / "gold.jsonl", "rb") as fh:
        for line in fh:
            g = orjson.loads(line)
            golds[g["article_id"]] = g

    manifest_rows: list[str] = []
    for batch in pq.ParquetFile(articles).iter_batches(batch_size=1000):
        cols = batch.to_pydict()
        for i, aid in enumerate(cols["article_id"]):
            split = split_of[aid]
            text, sha = cols["text"][i], cols["text_sha256"][i]
            n = len(text)
            gold = golds.get(aid)
            if gold is not None and gold["text_sha256"] != sha:
                gold = None
            art = tables["articles", split].cols
            for key in ("article_id", "title", "url", "outlet", "source", "published",
                        "language", "text", "text_sha256", "story_id"):  # fmt: skip
                art[key].append(cols[key][i])
            sentences = cols["sentences"][i]
            art["sentences"] += [len(sentences), [(x["start"], x["end"]) for x in sentences]]
            art["split"].append(split)
            art["has_gold"].append(gold is not None)
            art["claims_complete"].append(gold is not None)
            for key in ("open_entity_disputes", "open_stance_disputes", "open_claim_disputes"):
                art[key].append(0)
            tables["articles", split].added()
            used = sorted(
                (a for a in anns.get(aid, {}).values() if a[7] == sha
                 and all(0 <= s < e <= n for s, e, _, _ in a[3])),
                key=lambda a: (a[0], a[2], a[1]),
            )  # fmt: skip
            for who, task_id, ann_id, ents, stances, lead, truth, _ in used:
                row = tables["annotations", split].cols
                row["article_id"].append(aid)
                row["annotator"].append(who)
                row["task_id"].append(task_id)
                row["annotation_id"].append(ann_id)
                labelled = [(s, e, ids["entities"][lab], t) for s, e, lab, t in ents]
                row["entities"] += [len(labelled), labelled]
                row["stances"] += [len(stances), [(tg, ids["stance"][lab]) for tg, lab in stances]]
                row["claims"] += [0, []]
                row["lead_time"].append(float(lead) if lead is not None else None)
                row["ground_truth"].append(truth)
                tables["annotations", split].added()
            digest = ""
            if gold is not None:
                kept = [
                    g
                    for g in gold["entities"]
                    if 0 <= g["start"] < g["end"] <= n and text[g["start"] : g["end"]] == g["text"]
                ]
                # tokens: the regex's matches tile the text; whitespace skipped; split at cuts
                parts = token_re.findall(text)
                ends = list(itertools.accumulate(map(len, parts)))
                starts = [0, *ends[:-1]]
                keep = list(map(operator.not_, map(str.isspace, parts)))
                starts = list(itertools.compress(starts, keep))
                ends = list(itertools.compress(ends, keep))
                tokens = list(itertools.compress(parts, keep))
                chosen, last = [], -1
                for g in sorted(kept, key=lambda g: (g["start"], -g["end"], g["label"])):
                    if g["start"] >= last:
                        chosen.append(g)
                        last = g["end"]
                for cut in sorted({b for g in chosen for b in (g["start"], g["end"])}):
                    k = bisect.bisect_right(starts, cut) - 1
                    if k >= 0 and starts[k] < cut < ends[k]:
                        raise SystemExit("the bench corpus has no span inside a token")
                tags = [0] * len(tokens)
                j = 0
                for g in chosen:
                    j = bisect.bisect_right(ends, g["start"], j)
                    end = bisect.bisect_left(starts, g["end"], j)
                    if end > j:
                        tags[j] = ids["ner_tags"]["B-" + g["label"]]
                        tags[j + 1 : end] = [ids["ner_tags"]["I-" + g["label"]]] * (end - j - 1)
                    j = end
                row = tables["entities", split].cols
                row["article_id"].append(aid)
                row["text"].append(text)
                spans = [
                    (g["start"], g["end"], ids["entities"][g["label"]], g["text"], g["decision"])
                    for g in kept
                ]
                row["entities"] += [len(spans), [(*x[:4], x[4]["provenance"]) for x in spans]]
                row["tokens"] += [len(tokens), tokens]
                row["ner_tags"] += [len(tags), tags]
                row["ner_mask"] += [len(tags), [True] * len(tags)]
                row["disputed_regions"] += [0, []]
                tables["entities", split].added()
                for gs in gold["stances"]:
                    row = tables["stance", split].cols
                    row["article_id"].append(aid)
                    row["target"].append(gs["target"])
                    row["target_name"].append(targets[gs["target"]])
                    row["text"].append(text)
                    row["label"].append(ids["stance"][gs["label"]])
                    row["provenance"].append(gs["decision"]["provenance"])
                    tables["stance", split].added()
                payload = [
                    [[g["start"], g["end"], g["label"]] for g in gold["entities"]],
                    [[g["target"], g["label"]] for g in gold["stances"]],
                    [
                        [c["start"], c["end"], c["checkworthy"], c["claimant"]]
                        for c in gold["claims"]
                    ],
                ]
                digest = hashlib.sha256(orjson.dumps(payload)).hexdigest()
            manifest_rows.append(orjson.dumps([aid, split, sha, digest]).decode())
    rows = {}
    for (c, s), table in tables.items():
        table.close()
        if table.rows:
            rows[f"{c}/{s}"] = table.rows
    files = {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*.parquet"))
    }
    with open(out / "manifest.json", "wb") as fh:
        fh.write(orjson.dumps({"files": files}, option=orjson.OPT_INDENT_2))
        fh.write(b"\n".join(r.encode() for r in manifest_rows))
    return rows


# --- the children ----------------------------------------------------------------------------


def child(mode: str, root: Path, result: Path) -> None:
    """One measurement in this (fresh) process; its figures and outputs to `result`."""
    import datasets  # noqa: F401  (imports before the clock, in both)
    import orjson  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import regex  # noqa: F401

    if mode == "ours":
        import time

        from corpus_tools.config import load_config
        from corpus_tools.release import build, build_release

        agreement = [0.0]  # CPU of the card's agreement section, which the floor leaves out
        measured = build._agreement_markdown

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.process_time()
            try:
                return measured(*args, **kwargs)
            finally:
                agreement[0] += time.process_time() - t

        build._agreement_markdown = timed
        cfg = load_config(root / "corpus.toml")
        clock = _bench.Clock()
        res = build_release(config=cfg, version="1.0.0")
        figures = {**clock.figures(), "agreement_cpu_s": round(agreement[0], 3)}
        folder = Path(res.path)
        rows = {f"{c}/{s}": k for c, by in res.counts.items() for s, k in by.items() if k}
    else:
        folder = root / "floor"
        clock = _bench.Clock()
        rows = floor_release(root, folder)
        figures = clock.figures()
    files = {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.parquet"))
    }
    shutil.rmtree(folder)
    result.write_text(json.dumps({**figures, "rows": rows, "files": files}), encoding="utf-8")


def measure(mode: str, root: Path) -> dict[str, Any]:
    out = root / f"result-{mode}.json"
    cmd = [sys.executable, __file__, "--child", mode, str(root), str(out)]
    _bench.run(cmd, cwd=REPO)
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def bench_size(n: int, repeat: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-release-"))
    try:
        make_corpus(work, n)
        write_plan(work)
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "floor": []}
        for _ in range(repeat):
            for mode in runs:  # interleaved
                runs[mode].append(measure(mode, work))
                shutil.rmtree(work / "dist", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ours, floor = runs["ours"][0], runs["floor"][0]
    if ours["rows"] != floor["rows"]:
        sys.exit(f"floor and ours disagree on the rows: {floor['rows']} != {ours['rows']}")
    same = ours["files"] == floor["files"]
    agreement = sorted(r["agreement_cpu_s"] for r in runs["ours"])[len(runs["ours"]) // 2]
    return {
        "n": n,
        "agreement_cpu_s": agreement,
        "ours": _bench.median(runs["ours"]),
        "floor": _bench.median(runs["floor"]),
        "rows": sum(ours["rows"].values()),
        "same_files": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", help="comma-separated article counts (default 10000,100000)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    _bench.add_args(parser)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    _bench.human_to_stderr(args.json)
    sizes = args.sizes or (QUICK_SIZES if args.quick else "10000,100000")
    print(
        f"{'articles':>9} {'what':<6} {'wall s':>8} {'CPU s':>7} {'articles/CPU s':>15}"
        f" {'peak RSS MB':>12} {'CPU / floor':>12}  files"
    )
    rows = []
    first: dict[str, Any] | None = None  # the smallest size's figures, for the memory line
    for n in sorted(int(x) for x in sizes.split(",")):
        got = bench_size(n, args.repeat)
        first = first or got
        growth = ""
        if got is not first:  # memory flat: ours' peak RSS against the smallest size's
            ratio = got["ours"]["peak_rss_mb"] / first["ours"]["peak_rss_mb"] - 1
            growth = f"; ours' peak RSS {ratio:+.0%} against {first['n']:,} articles"
        for name in ("floor", "ours"):
            m = got[name]
            print(
                f"{n:>9} {name:<6} {m['wall_s']:>8.2f} {m['cpu_s']:>7.2f}"
                f" {n / m['cpu_s']:>15.0f} {m['peak_rss_mb']:>12.0f}"
                f" {m['cpu_s'] / got['floor']['cpu_s']:>11.2f}x"
                f"  {'byte-identical' if got['same_files'] else 'DIFFER'}"
            )
        print(f"{'':>9} (ours includes {got['agreement_cpu_s']:.2f} s CPU of card agreement)")
        if growth:
            print(f"{'':>9} ({growth[2:]})")
        rows.append(
            _bench.row(
                bench="release",
                work=f"release {n:,} articles ({got['rows']:,} rows in 5 configs)",
                n=n,
                unit="articles",
                ours=got["ours"],
                floor={
                    **got["floor"],
                    "what": "same steps with orjson, regex and pyarrow columns (GC off, labels "
                    "held in memory): joins, checks, splits, tokens and tags, the same Parquet "
                    "files byte for byte (no card)",
                },
                note=(
                    "floor's Parquet files byte-identical to ours"
                    if got["same_files"]
                    else "floor's Parquet files DIFFER from ours (same row counts)"
                )
                + f"; ours includes {got['agreement_cpu_s']:.2f} s CPU for the card's agreement "
                "section (1000-article sample; no floor step, see bench_agree)"
                + "; imports excluded from both"
                + growth,
            )
        )
    _bench.write_json(rows, args.json)
    if not all(r["note"].startswith("floor's Parquet files byte") for r in rows):
        sys.exit("the floor's files differ from ours")


if __name__ == "__main__":
    main()
