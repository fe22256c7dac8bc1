"""Scale-out benchmark: one generated WARC corpus through the local ingest and through Ray.

    .venv/bin/python scripts/bench_scale.py                    # 100,000 articles (about 40 min)
    .venv/bin/python scripts/bench_scale.py --articles 10000   # a quicker look
    .venv/bin/python scripts/bench_scale.py --json build/bench-scale.json

The same CC-NEWS-like corpus (`scripts/make_warc_corpus.py`: WARC.gz files of HTTP response
records, planted near-duplicate stories) goes through `corpus ingest --workers W` (the local
path: the baseline) and `corpus ingest --engine ray --workers W` (a local Ray instance of W
CPUs), each in its own process tree, measured from outside: wall time, CPU of every process of
the tree (each process sampled from /proc until it ends), and each process's peak resident set
(VmHWM), by role (the driver, Ray's workers, raylet, gcs_server, the other Ray daemons). The two
outputs are checked to hold the same rows and story ids (else the run fails).

Then the per-article costs of each stage, measured in this process on a sample of the corpus
(reading and HTML extraction; cleaning, sentences and sketches), and the bytes each Ray shuffle
moves per article (from the Ray run's own statistics), give a written estimate of the time and
nodes for 100M articles, and which stage binds first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _bench

REPO = Path(__file__).resolve().parent.parent
CORPUS = str(REPO / ".venv" / "bin" / "corpus")


def _proc_table() -> dict[int, tuple[int, str, int, float, float]]:
    """pid -> (parent pid, role, CPU ticks (utime + stime), VmHWM MB, RssAnon MB) of every
    process. VmHWM counts the shared memory a process maps (Ray's object store, whose objects
    its workers read in place); RssAnon is the process's own (private) memory now."""
    out: dict[int, tuple[int, str, int, float, float]] = {}
    for pid, (ppid, name, ticks, _) in _bench.proc_stats().items():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read().split(b"\0")
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
                status = {
                    k: v.split()[0] for k, _, v in (ln.partition(":") for ln in fh) if v.strip()
                }
        except OSError:
            continue
        hwm = int(status.get("VmHWM", 0)) / 1024
        anon = int(status.get("RssAnon", 0)) / 1024
        out[pid] = (ppid, _role(name, cmd), ticks, hwm, anon)
    return out


def _role(name: str, cmd: list[bytes]) -> str:
    """Which part of a run a process is: the driver, a Ray worker, or a Ray daemon."""
    first = cmd[0].decode(errors="replace") if cmd and cmd[0] else name
    if first.startswith("ray::") or name.startswith("ray::"):
        return "ray worker"
    for daemon in ("raylet", "gcs_server", "dashboard", "log_monitor", "monitor.py", "agent"):
        if daemon in first or daemon in name or any(daemon.encode() in c for c in cmd[1:3]):
            return f"ray {daemon.removesuffix('.py')}"
    if "default_worker.py" in " ".join(c.decode(errors="replace") for c in cmd):
        return "ray worker"
    return name


def run_tree(cmd: list[str], *, cwd: Path, interval: float = 0.05) -> dict[str, Any]:
    """Run `cmd`; wall time, CPU of its whole process tree, and peak RSS per process by role.

    Every `interval` the tree under the child is listed from /proc; each process's CPU ticks
    and VmHWM only grow, so the last sample of a process is (to within `interval`) its total.
    """
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen: dict[int, tuple[str, int, float, float]] = {}  # pid -> (role, ticks, hwm, anon)
    total_private = [0.0]  # the largest sum of the tree's private memory at one moment
    done = threading.Event()

    def sample() -> None:
        while True:
            table = _proc_table()
            tree = _bench.descendants(proc.pid, table)
            now = 0.0
            for p in tree:
                _, role, ticks, hwm, anon = table[p]
                if p == proc.pid:
                    role = "driver"
                now += anon
                o = seen.get(p, (role, 0, 0.0, 0.0))
                seen[p] = (role, max(ticks, o[1]), max(hwm, o[2]), max(anon, o[3]))
            total_private[0] = max(total_private[0], now)
            if done.is_set():
                return
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{err.decode()[-3000:]}")
    tick = os.sysconf("SC_CLK_TCK")
    roles: dict[str, dict[str, float]] = {}
    for role, ticks, hwm, anon in seen.values():
        r = roles.setdefault(
            role, {"processes": 0, "cpu_s": 0.0, "peak_rss_mb": 0.0, "peak_private_mb": 0.0}
        )
        r["processes"] += 1
        r["cpu_s"] += ticks / tick
        r["peak_rss_mb"] = max(r["peak_rss_mb"], hwm)
        r["peak_private_mb"] = max(r["peak_private_mb"], anon)
    report = json.loads(out.decode() or "{}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(sum(r["cpu_s"] for r in roles.values()), 2),
        "peak_rss_mb": round(max((r["peak_rss_mb"] for r in roles.values()), default=0), 1),
        "sum_of_peaks_mb": round(sum(v[2] for v in seen.values()), 1),
        "peak_private_total_mb": round(total_private[0], 1),
        "roles": {k: {kk: round(vv, 2) for kk, vv in v.items()} for k, v in sorted(roles.items())},
        "report": report,
    }


def _same_rows(local: Path, pool: Path) -> tuple[bool, int]:
    """Do the local table and the Ray shards (read in name order) hold the same rows?"""
    import pyarrow.parquet as pq

    a = pq.read_table(local)
    shards = sorted(pool.glob("part-*.parquet"))
    import pyarrow as pa

    b = pa.concat_tables([pq.read_table(s) for s in shards]) if shards else a.slice(0, 0)
    return a.equals(b), a.num_rows


def stage_costs(crawl: Path, config: Path, sample_files: int = 1) -> dict[str, Any]:
    """CPU per article of the map stages, in this process, on the first WARC file(s)."""
    from corpus_tools.config import load_config
    from corpus_tools.ingest import _build_one, compile_rules
    from corpus_tools.ingest.readers import read_file
    from corpus_tools.model import RawArticle

    cfg = load_config(config)
    rules = compile_rules(cfg.ingest)
    files = sorted(crawl.glob("*.warc.gz"))[:sample_files]
    raws: list[RawArticle] = []
    c0 = _bench.cpu_now()
    size = 0
    for f in files:
        size += f.stat().st_size
        raws.extend(r for r in read_file(f, name=f.name, fmt="warc") if isinstance(r, RawArticle))
    read_s = _bench.cpu_now() - c0
    c0 = _bench.cpu_now()
    built = [_build_one(r, rules, cfg.ingest) for r in raws]
    build_s = _bench.cpu_now() - c0
    payloads = [p for _, p in built if p is not None]
    n = max(len(raws), 1)
    html_bytes = 0
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    for f in files:
        with open(f, "rb") as fh:
            for rec in ArchiveIterator(fh, record_types=WarcRecordType.response):
                html_bytes += rec.content_length
    return {
        "html_bytes_per_article": html_bytes / n,
        "articles": len(raws),
        "read_extract_ms": 1000 * read_s / n,
        "build_ms": 1000 * build_s / n,
        "warc_bytes_per_article": size / n,
        "row_bytes_per_article": sum(len(p.row) for p in payloads) / max(len(payloads), 1),
        "sketch_bytes_per_article": sum(len(p.sketch[0]) + len(p.sketch[1]) for p in payloads)
        / max(len(payloads), 1),
    }


def heavy_page_ms(crawl: Path, kib: int = 60, pages: int = 50) -> tuple[float, float]:
    """ms of CPU to extract a generated page as it is and padded with `kib` KiB of the markup
    real pages carry around the article (menus, link lists, scripts, footers)."""
    import re

    from fastwarc.warc import ArchiveIterator, WarcRecordType

    from corpus_tools.ingest.html import extract

    html: list[str] = []
    with open(sorted(crawl.glob("*.warc.gz"))[0], "rb") as fh:
        for rec in ArchiveIterator(fh, record_types=WarcRecordType.response):
            body = rec.reader.read().split(b"\r\n\r\n", 1)[-1]
            if b"<article" in body:
                html.append(body.decode("utf-8", "replace"))
            if len(html) >= pages:
                break
    links = "".join(
        f'<li><a href="/section/{i}/story-{i * 7}">Section {i}: a headline of another story '
        f"that the site links to from every page</a></li>"
        for i in range(40)
    )
    script = "<script>" + "var a=[" + ",".join(str(i) for i in range(400)) + "];</script>"
    block = f"<nav><ul>{links}</ul></nav>{script}<aside><ul>{links}</ul></aside>"
    heavy = []
    for page in html:
        pad = block * max(1, kib * 1024 // len(block))
        heavy.append(re.sub("<body>", "<body>" + pad, page, count=1) + "")
    out = []
    for pages_ in (html, heavy):
        c0 = _bench.cpu_now()
        for page in pages_:
            extract(page, source="bench")
        out.append(1000 * (_bench.cpu_now() - c0) / max(len(pages_), 1))
    return out[0], out[1]


def estimate(
    n_target: int,
    costs: dict[str, Any],
    ray_run: dict[str, Any],
    n: int,
    cores: int,
    heavy: tuple[float, float],
) -> list[str]:
    """A written estimate for `n_target` articles from the measured per-article costs."""
    stats = ray_run["report"].get("engine") or {}
    map_ms = costs["read_extract_ms"] + costs["build_ms"]
    per_article = stats.get("shuffled_bytes_per_article") or 0.0
    seconds = stats.get("stage_seconds", {})
    node_cores, node_gb, net_gbs = 32, 128, 1.25  # a common cloud node; 10 Gbit/s
    lines = [
        f"Measured per article: reading + HTML extraction {costs['read_extract_ms']:.2f} ms CPU "
        f"(generated pages of {costs['html_bytes_per_article'] / 1024:.1f} KiB; the same "
        f"pages padded with 60 KiB of menus and scripts: {heavy[1]:.1f} ms against "
        f"{heavy[0]:.1f} ms), cleaning + sentences + sketch + row {costs['build_ms']:.2f} ms; "
        f"{costs['warc_bytes_per_article'] / 1024:.1f} KiB of WARC.gz, a row of "
        f"{costs['row_bytes_per_article'] / 1024:.1f} KiB.",
    ]
    if seconds:
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items())
        lines.append(f"Ray stages at {n:,} articles on {cores} cores: {parts}.")
    if per_article:
        by = stats.get("shuffled_bytes", {})
        parts = ", ".join(f"{k} {v / n:,.0f}" for k, v in by.items())
        lines.append(f"Shuffled bytes per article: {per_article:,.0f} ({parts}).")
    shuffle_stages = sum(v for k, v in seconds.items() if k != "read and build")
    shuffle_core_ms = 1000 * shuffle_stages * cores / max(n, 1)
    lines.append("")
    lines.append(
        f"For {n_target:,} articles on {node_cores}-core nodes ({node_gb} GB, 10 Gbit/s), "
        "hours per stage (map: reading, extraction and building; shuffles: the rest, at the "
        "core-time they took here; network: the shuffled bytes across nodes):"
    )
    lines.append(
        f"{'nodes':>6} {'map, light pages':>17} {'map, heavy pages':>17} {'shuffles':>9} "
        f"{'network':>8} {'shuffle data per node':>22}"
    )
    heavy_ms = map_ms - costs["read_extract_ms"] + heavy[1]
    for nodes in (1, 10, 50, 100):
        c = nodes * node_cores * 3600
        data = per_article * n_target
        lines.append(
            f"{nodes:>6} {n_target * map_ms / 1000 / c:>17.1f} "
            f"{n_target * heavy_ms / 1000 / c:>17.1f} "
            f"{n_target * shuffle_core_ms / 1000 / c:>9.1f} "
            f"{data / (nodes * net_gbs * 1e9) / 3600:>8.1f} {data / nodes / 1e9:>19,.0f} GB"
        )
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--files", type=int, default=8, help="WARC files (default 8)")
    ap.add_argument("--workers", type=int, default=2, help="cores for both engines (default 2)")
    ap.add_argument("--target", type=int, default=100_000_000, help="articles to estimate for")
    ap.add_argument("--keep", type=Path, help="keep the corpus and outputs in this folder")
    _bench.add_args(ap)
    args = ap.parse_args()
    if args.quick:
        args.articles = 10_000
    _bench.human_to_stderr(args.json)
    work = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=args.keep))
    try:
        sys.path.insert(0, str(REPO / "scripts"))
        from make_warc_corpus import write_warc_corpus

        corpus = work / "corpus"
        (corpus / "articles").mkdir(parents=True)
        shutil.copy2(REPO / "corpus.toml", corpus / "corpus.toml")
        crawl = corpus / "crawl"
        t = time.perf_counter()
        write_warc_corpus(crawl, args.articles, files=args.files, seed=0)
        size = sum(f.stat().st_size for f in crawl.iterdir())
        print(
            f"generated {args.articles:,} pages in {args.files} WARC.gz files "
            f"({size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        w = str(args.workers)
        common = ["ingest", "crawl", "--json", "-q", "--workers", w]
        runs: dict[str, list[dict[str, Any]]] = {"local": [], "ray": []}
        for _ in range(args.repeat):  # interleaved
            runs["local"].append(
                run_tree([CORPUS, *common, "--out", "build/local.parquet"], cwd=corpus)
            )
            print(f"  local: {_short(runs['local'][-1])}", flush=True)
            runs["ray"].append(
                run_tree([CORPUS, *common, "--engine", "ray", "--out", "build/pool"], cwd=corpus)
            )
            print(f"  ray:   {_short(runs['ray'][-1])}", flush=True)
        local = min(runs["local"], key=lambda r: r["wall_s"])
        ray = min(runs["ray"], key=lambda r: r["wall_s"])
        same, n = _same_rows(corpus / "build/local.parquet", corpus / "build/pool")
        if not same:
            raise SystemExit("the Ray shards do not hold the local table's rows")
        print(f"  the same {n:,} rows and story ids from both engines", flush=True)
        costs = stage_costs(crawl, corpus / "corpus.toml")
        heavy = heavy_page_ms(crawl)
        print()
        print(
            f"{'engine':<7} {'wall s':>8} {'articles/s':>11} {'CPU s':>8} {'peak MB':>8}"
            "  per process"
        )
        for name, r in (("local", local), ("ray", ray)):
            per = ", ".join(
                f"{role} {v['peak_rss_mb']:.0f}/{v['peak_private_mb']:.0f} MB"
                + (f" (x{int(v['processes'])})" if v["processes"] > 1 else "")
                for role, v in r["roles"].items()
            )
            print(
                f"{name:<7} {r['wall_s']:>8.1f} {n / r['wall_s']:>11,.0f} {r['cpu_s']:>8.1f} "
                f"{r['peak_rss_mb']:>8.0f}  {per}"
            )
        print(
            "(per process: peak RSS / peak private memory, MB; RSS counts the shared object "
            "store pages a Ray worker reads in place)"
        )
        print(
            f"ray / local: wall {ray['wall_s'] / local['wall_s']:.2f}x, CPU "
            f"{ray['cpu_s'] / local['cpu_s']:.2f}x, the whole tree's private memory at its "
            f"peak {ray['peak_private_total_mb']:.0f} / {local['peak_private_total_mb']:.0f} MB "
            f"= {ray['peak_private_total_mb'] / local['peak_private_total_mb']:.2f}x"
        )
        print()
        for line in estimate(args.target, costs, ray, n, args.workers, heavy):
            print(line)
        rows = [
            _bench.row(
                bench="scale",
                work=f"ingest {args.articles:,} WARC pages on Ray, {args.workers} CPUs",
                n=n,
                unit="articles",
                ours=ray,
                floor=dict(local, what=f"the local engine, --workers {args.workers}"),
                note=f"same rows and story ids; private memory of the whole process tree at "
                f"its peak: ray {ray['peak_private_total_mb']:.0f} MB, local "
                f"{local['peak_private_total_mb']:.0f} MB",
            )
        ]
        _bench.write_json(rows, args.json)
        if args.keep:
            (work / "costs.json").write_text(
                json.dumps({"costs": costs, "heavy": heavy, "local": local, "ray": ray}, indent=2)
                + "\n",
                encoding="utf-8",
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _short(r: dict[str, Any]) -> str:
    return f"{r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, peak {r['peak_rss_mb']:.0f} MB"


if __name__ == "__main__":
    raise SystemExit(main())
