"""Benchmark `corpus validate` against a same-work floor and a plain `jsonschema` loop.

    python scripts/bench_validate.py                 # 10,000 tasks (~190 MB JSON array)
    python scripts/bench_validate.py --tasks 2000    # quicker (--quick: the same)
    python scripts/bench_validate.py --repeat 3 --json rows.json   # medians, rows for bench_all
    python scripts/bench_validate.py --big 100000    # also: memory on a ~1.9 GB export
    python scripts/bench_validate.py --corpus-only --repeat 3   # before/after a change

A synthetic export (scripts/make_synthetic_export.py) with 1% of its tasks broken on purpose
(unknown label, negative offset, missing field, wrong type) is written to a temporary folder.
Each measurement runs in its own subprocess, which reports its wall time, CPU time and its own
peak RSS (VmHWM); with `--repeat K` the four run interleaved K times and medians are reported:

- `read`: reading the file's bytes;
- `jsonschema` (naive): `json.load` the array, then
  `jsonschema.Draft202012Validator(schema).iter_errors` over every task (structure only);
- `floor`: the same checks written plainly (`_floor`): orjson over the whole file,
  jsonschema_rs per task, text sha256 and the articles table, offsets and text[start:end],
  ids read twice and duplicate keys; the GC off, as ours pauses it;
- `corpus`: `corpus_tools.validate.validate` (structure + semantics, streaming).

It prints throughput, peak RSS, the ratios, whether corpus validate and the floor found as
many problems, and whether every structural finding of the reference validator is among
`corpus validate`'s findings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _bench

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUICK_TASKS = 2000


def _write_export(path: Path, n: int, seed: int) -> int:
    sys.path.insert(0, str(HERE))
    import orjson
    from make_synthetic_export import synthetic_tasks

    size = 0
    articles = {}
    with open(path, "wb") as fh:
        size += fh.write(b"[\n")
        for i, task in enumerate(synthetic_tasks(n, seed)):
            articles[task["data"]["article_id"]] = task["data"]["text_sha256"]
            if i % 100 == 50:
                _break(task, i // 100)
            if i:
                size += fh.write(b",\n")
            size += fh.write(orjson.dumps(task, option=orjson.OPT_INDENT_2))
        size += fh.write(b"\n]\n")
    path.with_suffix(".articles.json").write_bytes(orjson.dumps(articles))
    return size


def _break(task: dict[str, Any], k: int) -> None:
    """One structural problem per broken task, rotating through four kinds."""
    region = task["annotations"][0]["result"][k % 10]
    kind = k % 4
    if kind == 0:
        region["value"]["labels"] = ["NOT_A_LABEL"]
    elif kind == 1:
        region["value"]["start"] = -1
    elif kind == 2:
        del task["data"]["text_sha256"]
    else:
        task["annotations"][1]["was_cancelled"] = "no"


def _child(mode: str, path: Path, config: Path, out: Path) -> None:
    """Run one measurement in this process; write its figures to `out` as JSON."""
    result: dict[str, Any] = {"mode": mode}
    clock = _bench.Clock()
    if mode == "read":
        with open(path, "rb") as fh:
            while fh.read(8 << 20):
                pass
    elif mode == "jsonschema":
        import jsonschema

        from corpus_tools.config import load_config
        from corpus_tools.jsonschemas import task_schema
        from corpus_tools.validate.slugs import pointer

        schema = task_schema(load_config(config))
        with open(path, "rb") as fh:
            tasks = json.load(fh)
        validator = jsonschema.Draft202012Validator(schema)
        found = []
        for i, task in enumerate(tasks):
            for err in validator.iter_errors(task):
                ptr = pointer(*err.absolute_path)
                msg = err.message if len(err.message) <= 300 else err.message[:297] + "..."
                found.append([f"/{i}{ptr}", f"{ptr or '(task)'}: {msg}"])
        result["findings"] = found
        result["tasks"] = len(tasks)
    elif mode == "floor":
        import gc

        gc.disable()  # as ours pauses it: parsing the whole array allocates millions of objects
        found, ntasks = _floor(path, config)
        gc.enable()
        result["findings"] = found
        result["tasks"] = ntasks
    else:
        from corpus_tools.config import load_config
        from corpus_tools.validate import validate

        cfg = load_config(config)
        # The articles table's role: article_id -> text_sha256 (unknown / stale checks).
        articles = json.loads(path.with_suffix(".articles.json").read_text())
        report = validate(config=cfg, paths=[path], articles=articles)
        result["findings"] = [[f.pointer, f.message] for f in report.findings]
        result["tasks"] = report.stats["tasks"]
        result["slugs"] = sorted({f.slug for f in report.findings})
    result.update(clock.figures())
    result["seconds"] = result["wall_s"]
    result["cpu_seconds"] = result["cpu_s"]
    out.write_text(json.dumps(result))


def _floor(path: Path, config: Path) -> tuple[list[list[str]], int]:
    """The same checks written plainly: the whole file parsed with orjson, each task against
    the schema with jsonschema_rs (every error a finding), its text against its sha256 and
    the articles table, each region's offsets within the text and text[start:end] equal to
    its value.text (with Label Studio's newline quirk), task, article and annotation ids read
    twice, and duplicate keys (colons counted in the file and in its parsed form written back;
    a second parse with an object_pairs_hook only when they differ)."""
    import hashlib

    import jsonschema_rs
    import orjson

    from corpus_tools.config import load_config
    from corpus_tools.jsonschemas import task_schema

    schema = task_schema(load_config(config))
    validator = jsonschema_rs.validator_for(schema)
    articles = orjson.loads(path.with_suffix(".articles.json").read_bytes())
    raw = path.read_bytes()
    tasks = orjson.loads(raw)
    found: list[list[str]] = []
    if raw.count(b":") != orjson.dumps(tasks).count(b":"):

        def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            keys = [k for k, _ in pairs]
            found.extend(["", f"duplicate key {k}"] for k in set(keys) if keys.count(k) > 1)
            return dict(pairs)

        json.loads(raw, object_pairs_hook=hook)
    seen_tasks: set[Any] = set()
    seen_articles: set[Any] = set()
    seen_annotations: set[Any] = set()
    for i, task in enumerate(tasks):
        at = f"/{i}"
        errors = [f"{at}: {e.message}" for e in validator.iter_errors(task)]
        found.extend([at, e] for e in errors)
        tid = task.get("id")
        if tid is not None:
            if tid in seen_tasks:
                found.append([at, f"task {tid} read twice"])
            seen_tasks.add(tid)
        data = task.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            continue
        text = data["text"]
        aid = data.get("article_id")
        if aid in seen_articles:
            found.append([at, f"article {aid} read twice"])
        seen_articles.add(aid)
        sha = data.get("text_sha256") or hashlib.sha256(text.encode()).hexdigest()
        if data.get("text_sha256") and sha != hashlib.sha256(text.encode()).hexdigest():
            found.append([at, "text does not match text_sha256"])
        if aid not in articles:
            found.append([at, f"unknown article {aid}"])
        elif articles[aid] != sha:
            found.append([at, f"stale annotation of {aid}"])
        for ann in task.get("annotations") or ():
            if not isinstance(ann, dict):
                continue
            ann_id = ann.get("id")
            if ann_id is not None:
                if ann_id in seen_annotations:
                    found.append([at, f"annotation {ann_id} read twice"])
                seen_annotations.add(ann_id)
            for res in ann.get("result") or ():
                value = res.get("value") if isinstance(res, dict) else None
                if not isinstance(value, dict) or "start" not in value:
                    continue
                start, end = value.get("start"), value.get("end")
                if not isinstance(start, int) or not isinstance(end, int):
                    continue
                if not 0 <= start < end <= len(text):
                    if start >= 0:  # a negative start is the schema's finding
                        found.append([at, f"span {start}-{end} out of bounds"])
                    continue
                span = text[start:end]
                want = value.get("text")  # a per-region textarea's is a list: not a span
                if (
                    isinstance(want, str)
                    and want != span
                    and want != span.replace("\r", "\\n").replace("\n", "\\n")
                ):
                    found.append([at, f"text {want!r} is not text[{start}:{end}]"])
    return found, len(tasks)


def _measure(mode: str, path: Path, config: Path, work: Path) -> dict[str, Any]:
    out = work / f"{mode}.json"
    cmd = [sys.executable, __file__, "--child", mode, str(path), str(config), str(out)]
    subprocess.run(cmd, check=True, cwd=ROOT)
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def _row(r: dict[str, Any], size_mb: float, base: dict[str, Any] | None) -> str:
    ratio = (
        f"{base['seconds'] / r['seconds']:6.1f}x {base['cpu_seconds'] / r['cpu_seconds']:6.1f}x"
        if base
        else "      -       -"
    )
    return (
        f"{r['mode']:<11} {r['seconds']:8.2f} s {r['cpu_seconds']:8.2f} s "
        f"{size_mb / r['seconds']:9.1f} MB/s {r['peak_rss_mb']:8.0f} MB   {ratio}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--big", type=int, default=0, help="also validate an export this large")
    parser.add_argument("--config", type=Path, default=ROOT / "corpus.toml")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the --tasks comparison (with --big)"
    )
    parser.add_argument(
        "--corpus-only",
        action="store_true",
        help="only read + corpus validate on the --tasks export (no floor, no jsonschema)",
    )
    _bench.add_args(parser)
    parser.add_argument("--child", nargs=4, metavar=("MODE", "PATH", "CONFIG", "OUT"))
    args = parser.parse_args()
    if args.child:
        mode, path, config, out = args.child
        _child(mode, Path(path), Path(config), Path(out))
        return 0
    _bench.human_to_stderr(args.json)
    if args.quick and args.tasks == parser.get_default("tasks"):
        args.tasks = QUICK_TASKS
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        work = Path(tmp)
        if args.corpus_only:
            _corpus_only(args, work)
        elif not args.no_baseline:
            rows.append(_compare(args, work))
        if args.big:
            _big(args, work)
    _bench.write_json(rows, args.json)
    return 0


def _compare(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """read / jsonschema / floor / corpus on the --tasks export, --repeat times interleaved;
    returns the row (medians)."""
    export = work / "export.json"
    size = _write_export(export, args.tasks, args.seed) / 1e6
    print(f"export: {args.tasks} tasks, {size:.1f} MB JSON array, 1% broken", flush=True)
    print(
        f"{'':<11} {'wall':>10} {'cpu':>10} {'throughput':>14} {'peak RSS':>11}"
        "   vs jsonschema (wall, cpu)"
    )
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    for _ in range(max(1, args.repeat)):
        for mode in MODES:
            r = _measure(mode, export, args.config, work)
            runs[mode].append(r)
            print(_row(r, size, runs["jsonschema"][-1] if mode != "read" else None), flush=True)
    read, base, floor, ours = (_bench.median(runs[m]) for m in MODES)
    expected = {tuple(f) for f in base["findings"]}
    got = {tuple(f) for f in ours["findings"]}
    missing = expected - got
    n_ours, n_floor = len(ours["findings"]), len(floor["findings"])
    same = n_ours == n_floor and ours["tasks"] == floor["tasks"] == args.tasks
    print(
        f"median cpu: corpus {ours['cpu_s']:.2f} s, floor {floor['cpu_s']:.2f} s "
        f"({ours['cpu_s'] / floor['cpu_s']:.2f}x the floor), jsonschema {base['cpu_s']:.2f} s "
        f"({base['cpu_s'] / ours['cpu_s']:.1f}x slower than corpus); "
        f"findings: corpus {n_ours}, floor {n_floor} ({'same count' if same else 'DIFFERENT'}); "
        f"reference findings {len(expected)}, all reported by corpus validate: "
        f"{'yes' if not missing else f'NO ({len(missing)} missing)'}; "
        f"corpus validate slugs: {', '.join(ours['slugs'])}"
    )
    export.unlink()
    export.with_suffix(".articles.json").unlink()
    row = _bench.row(
        bench="validate",
        work=f"validate {args.tasks:,} tasks ({size:.0f} MB JSON array, 1% broken)",
        n=args.tasks,
        unit="tasks",
        ours=ours,
        floor={**floor, "what": FLOOR},
        naive={**base, "what": NAIVE},
        note=(
            f"findings: ours {n_ours}, floor {n_floor}"
            f"{'' if same else ' (DIFFERENT)'}; ours also checks the scheme's rules "
            f"(stances, claims, relations, overlaps); reading the file alone: "
            f"{read['cpu_s']:.2f} s CPU"
        ),
    )
    row["findings"] = {"ours": n_ours, "floor": n_floor, "reference_missing": len(missing)}
    return row


MODES = ("read", "jsonschema", "floor", "corpus")
FLOOR = (
    "orjson over the whole file, jsonschema_rs per task, text sha256 and the articles "
    "table, offsets and text[start:end], ids and duplicate keys in plain Python"
)
NAIVE = "json.load the array, jsonschema iter_errors per task (structure only)"


def _corpus_only(args: argparse.Namespace, work: Path) -> None:
    """read, then `corpus validate` --repeat times: the figures to compare across a change."""
    export = work / "export.json"
    size = _write_export(export, args.tasks, args.seed) / 1e6
    print(f"export: {args.tasks} tasks, {size:.1f} MB JSON array, 1% broken", flush=True)
    print(_row(_measure("read", export, args.config, work), size, None), flush=True)
    runs = [_measure("corpus", export, args.config, work) for _ in range(args.repeat)]
    for r in runs:
        print(_row(r, size, None), flush=True)
    cpu = sorted(r["cpu_seconds"] for r in runs)
    print(f"corpus validate: median cpu {cpu[len(cpu) // 2]:.2f} s over {len(runs)} run(s)")


def _big(args: argparse.Namespace, work: Path) -> None:
    """Peak memory of `corpus validate` on a --big export (it must not grow with the export)."""
    big = work / "big.json"
    big_size = _write_export(big, args.big, args.seed) / 1e6
    print(f"big export: {args.big} tasks, {big_size:.0f} MB", flush=True)
    print(_row(_measure("read", big, args.config, work), big_size, None), flush=True)
    r = _measure("corpus", big, args.config, work)
    print(_row(r, big_size, None), flush=True)
    print(
        f"peak RSS {r['peak_rss_mb']:.0f} MB for a {big_size:.0f} MB export "
        f"({'well under' if r['peak_rss_mb'] < 1024 else 'OVER'} 1 GB)"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
