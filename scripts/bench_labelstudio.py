"""Benchmark `corpus ls push` / `corpus ls pull` against the server's own import and export.

Starts a private Label Studio (the cached template, see corpus_tools/labelstudio_server.py),
builds N synthetic tasks (~3,000-character texts, a 30-span prediction and one annotation
each), then measures, each in its own subprocess so peak RSS is per measurement:

  push       corpus ls push (project from corpus.toml, idempotence check, batched import)
  import     baseline: the same file POSTed to the server's import endpoint in one request
  pull       corpus ls pull (paged task API, pseudonyms, one file per task, atomic swap)
  export     baseline: the server's sync JSON export of the same project, saved to a file

Run from the repository root:  .venv/bin/python scripts/bench_labelstudio.py --tasks 10000
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WORDS = [
    "the",
    "minister",
    "said",
    "talks",
    "in",
    "Doha",
    "would",
    "resume",
    "after",
    "the",
    "ceasefire",
    "while",
    "officials",
    "in",
    "Kyiv",
    "and",
    "Moscow",
    "traded",
    "accusations",
    "over",
    "drones",
    "missiles",
    "and",
    "the",
    "Black",
    "Sea",
    "corridor",
]
NAMES = ["NATO", "Iran", "Russia", "Ukraine", "Jens Stoltenberg", "Tehran", "Qatar", "😀", "𝔸"]


STANCE = {
    "from_name": "stance_iran",
    "to_name": "text",
    "type": "choices",
    "value": {"choices": ["neutral"]},
}


def synthetic_tasks(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """N tasks shaped like `corpus tasks` output, plus one annotation each."""
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        parts: list[str] = []
        spans = []
        pos = 0
        while pos < 3000:
            if rng.random() < 0.08:
                name = rng.choice(NAMES)
                if name not in ("😀", "𝔸"):
                    spans.append((pos, pos + len(name), name))
                parts.append(name)
            else:
                parts.append(rng.choice(WORDS))
            sep = "\r\n" if rng.random() < 0.02 else " "
            pos += len(parts[-1]) + len(sep)
            parts.append(sep)
        text = "".join(parts)
        result = [
            {
                "id": f"p0-{k:04d}",
                "from_name": "entities",
                "to_name": "text",
                "type": "labels",
                "value": {"start": s, "end": e, "text": t, "labels": ["ORG"]},
            }
            for k, (s, e, t) in enumerate(spans[:30])
        ]
        tasks.append(
            {
                "data": {
                    "article_id": f"synthetic-{i:06d}",
                    "text_sha256": f"{i:064x}",
                    "title": f"Synthetic {i}",
                    "outlet": "Bench",
                    "published": "2024-01-01",
                    "url": "",
                    "text": text,
                },
                "predictions": [{"model_version": "bench", "score": 0.9, "result": result}],
                "annotations": [
                    {
                        "result": [*result[:20], STANCE],
                        "lead_time": 12.0,
                    }
                ],
            }
        )
    return tasks


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Unlike getrusage's ru_maxrss, which Linux carries over
    from the parent through fork and exec, VmHWM starts afresh in each new program."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(name: str, corpus: Path, url: str, key: str, project: int | None) -> dict[str, Any]:
    """One measurement, run inside its own subprocess."""
    import httpx

    t0 = time.perf_counter()
    info: dict[str, Any] = {}
    if name in ("push", "pull"):
        from corpus_tools import labelstudio
        from corpus_tools.config import load_config

        cfg = load_config(corpus / "corpus.toml")
        if name == "push":
            info = labelstudio.push(config=cfg, url=url, api_key=key)
        else:
            info = labelstudio.pull(
                config=cfg,
                url=url,
                api_key=key,
                out=corpus / "annotations",
                pseudonym_key=labelstudio.PseudonymKey(b"bench-only-key", "benchmark"),
            )
    elif name == "import":
        headers = {"Authorization": f"Token {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=3600) as http:
            pid = http.post("/api/projects/", json={"title": "bench raw import"}).json()["id"]
            body = (corpus / "build" / "tasks.json").read_bytes()
            resp = http.post(
                f"/api/projects/{pid}/import",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            resp.raise_for_status()
            info = {"project_id": pid, "imported": resp.json()["task_count"]}
    elif name == "export":
        headers = {"Authorization": f"Token {key}"}
        out = corpus / "export.json"
        with (
            httpx.Client(base_url=url, headers=headers, timeout=3600) as http,
            open(out, "wb") as fh,
            http.stream(
                "GET",
                f"/api/projects/{project}/export",
                params={"exportType": "JSON", "download_all_tasks": "true"},
            ) as resp,
        ):
            resp.raise_for_status()
            for chunk in resp.iter_bytes(1 << 20):
                fh.write(chunk)
        info = {"bytes": out.stat().st_size}
    seconds = time.perf_counter() - t0
    rss_mb = peak_rss_mb()
    return {"step": name, "seconds": seconds, "peak_rss_mb": rss_mb, "info": info}


def run_step(name: str, corpus: Path, url: str, key: str, project: int | None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--step", name, "--corpus", str(corpus), "--url", url]
    cmd += ["--key", key, "--project", str(project or 0)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"step {name} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--step")
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--url")
    ap.add_argument("--key")
    ap.add_argument("--project", type=int, default=0)
    args = ap.parse_args()
    if args.step:
        print(json.dumps(step(args.step, args.corpus, args.url, args.key, args.project)))
        return

    sys.path.insert(0, str(REPO))
    from corpus_tools.labelstudio_server import LocalServer

    work = Path(tempfile.mkdtemp(prefix="bench-ls-"))
    try:
        corpus = work / "corpus"
        (corpus / "build").mkdir(parents=True)
        shutil.copy2(REPO / "corpus.toml", corpus / "corpus.toml")
        tasks = synthetic_tasks(args.tasks)
        (corpus / "build" / "tasks.json").write_text(json.dumps(tasks), encoding="utf-8")
        del tasks
        size_mb = (corpus / "build" / "tasks.json").stat().st_size / 1e6
        print(f"{args.tasks} synthetic tasks, tasks.json {size_mb:.1f} MB", flush=True)
        server = LocalServer(
            ls_bin=REPO / ".venv-ls/bin/label-studio",
            cache_dir=REPO / ".cache",
            data_dir=work / "ls-data",
        )
        with server:
            key, url = server.admin.token, server.url
            push = run_step("push", corpus, url, key, None)
            pid = push["info"]["project_id"]
            base_import = run_step("import", corpus, url, key, None)
            pull = run_step("pull", corpus, url, key, pid)
            base_export = run_step("export", corpus, url, key, pid)
        rows = [
            ("push (corpus ls push)", push, base_import),
            ("import baseline (one POST)", base_import, base_import),
            ("pull (corpus ls pull)", pull, base_export),
            ("export baseline (sync JSON)", base_export, base_export),
        ]
        print(f"{'step':32} {'seconds':>9} {'ratio':>7} {'peak RSS MB':>12} {'ratio':>7}")
        for label, m, base in rows:
            print(
                f"{label:32} {m['seconds']:9.2f} {m['seconds'] / base['seconds']:7.2f} "
                f"{m['peak_rss_mb']:12.0f} {m['peak_rss_mb'] / base['peak_rss_mb']:7.2f}"
            )
        export_mb = base_export["info"]["bytes"] / 1e6
        print(
            f"push imported {push['info']['imported']}, pull wrote {pull['info']['tasks']} tasks "
            f"({pull['info']['annotations']} annotations); export {export_mb:.0f} MB"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
