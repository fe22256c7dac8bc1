"""Benchmark `corpus ls push` / `corpus ls pull` against the server's own import and export.

Starts a private Label Studio (the cached template, see corpus_tools/labelstudio_server.py),
builds N synthetic tasks (~3,000-character texts, a 30-span prediction and one annotation
each), then measures, each in its own subprocess so peak RSS is per measurement:

  push       corpus ls push (project from corpus.toml, idempotence check, batched import)
  import     baseline: the same file POSTed to the server's import endpoint in one request
  pull       corpus ls pull (paged task API, pseudonyms, one file per task, atomic swap)
  export     baseline: the server's sync JSON export of the same project, saved to a file

CPU is the client process's plus the server's (its process tree, read from /proc around the
step): the server does most of the work of both ways. With `--repeat K` each run starts a
fresh server (a second push into the same project would import nothing) and medians are shown.

Run from the repository root:  .venv/bin/python scripts/bench_labelstudio.py --tasks 10000
(`--quick`: 1,000 tasks; `--json FILE`: the rows for scripts/bench_all.py)
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
from typing import Any

import _bench

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


def step(name: str, corpus: Path, url: str, key: str, project: int | None) -> dict[str, Any]:
    """One measurement, run inside its own subprocess."""
    import httpx

    clock = _bench.Clock()
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
    measured = clock.figures()
    if name == "export":  # counted after the clock: the tasks the floor brought back
        info["tasks"] = len(json.loads((corpus / "export.json").read_bytes()))
    return {"step": name, **measured, "seconds": measured["wall_s"], "info": info}


def run_step(
    name: str, corpus: Path, url: str, key: str, project: int | None, server_pid: int
) -> dict[str, Any]:
    """One step in its own process; its CPU is the client's plus the server's meanwhile."""
    cmd = [sys.executable, __file__, "--step", name, "--corpus", str(corpus), "--url", url]
    cmd += ["--key", key, "--project", str(project or 0)]
    server0 = _bench.tree_cpu(server_pid)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    server = _bench.tree_cpu(server_pid) - server0
    if proc.returncode != 0:
        raise SystemExit(f"step {name} failed:\n{proc.stderr[-3000:]}")
    out = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    out["client_cpu_s"] = out["cpu_s"]
    out["server_cpu_s"] = round(server, 2)
    out["cpu_s"] = round(out["cpu_s"] + server, 4)
    return out


def session(tasks_file: Path, work: Path) -> dict[str, dict[str, Any]]:
    """A fresh private server: push, import, pull, export, each measured."""
    from corpus_tools.labelstudio_server import LocalServer

    corpus = work / "corpus"
    (corpus / "build").mkdir(parents=True)
    shutil.copy2(REPO / "corpus.toml", corpus / "corpus.toml")
    shutil.copy2(tasks_file, corpus / "build" / "tasks.json")
    server = LocalServer(
        ls_bin=REPO / ".venv-ls/bin/label-studio",
        cache_dir=REPO / ".cache",
        data_dir=work / "ls-data",
    )
    with server:
        assert server.proc is not None
        pid = server.proc.pid
        key, url = server.admin.token, server.url
        push = run_step("push", corpus, url, key, None, pid)
        project = push["info"]["project_id"]
        base_import = run_step("import", corpus, url, key, None, pid)
        pull = run_step("pull", corpus, url, key, project, pid)
        base_export = run_step("export", corpus, url, key, project, pid)
    return {"push": push, "import": base_import, "pull": pull, "export": base_export}


QUICK_TASKS = 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=10_000)
    _bench.add_args(ap)
    ap.add_argument("--step")
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--url")
    ap.add_argument("--key")
    ap.add_argument("--project", type=int, default=0)
    args = ap.parse_args()
    if args.step:
        print(json.dumps(step(args.step, args.corpus, args.url, args.key, args.project)))
        return
    _bench.human_to_stderr(args.json)
    if args.quick and args.tasks == ap.get_default("tasks"):
        args.tasks = QUICK_TASKS

    sys.path.insert(0, str(REPO))
    work = Path(tempfile.mkdtemp(prefix="bench-ls-"))
    try:
        tasks_file = work / "tasks.json"
        tasks = synthetic_tasks(args.tasks)
        tasks_file.write_text(json.dumps(tasks), encoding="utf-8")
        del tasks
        size_mb = tasks_file.stat().st_size / 1e6
        print(f"{args.tasks} synthetic tasks, tasks.json {size_mb:.1f} MB", flush=True)
        # each repeat is a fresh server: a second push into the same project imports nothing
        sessions = [session(tasks_file, work / f"run-{k}") for k in range(max(1, args.repeat))]
        m = {name: _bench.median([s[name] for s in sessions]) for name in sessions[0]}
        push, base_import, pull, base_export = m["push"], m["import"], m["pull"], m["export"]
        rows = [
            ("push (corpus ls push)", push, base_import),
            ("import baseline (one POST)", base_import, base_import),
            ("pull (corpus ls pull)", pull, base_export),
            ("export baseline (sync JSON)", base_export, base_export),
        ]
        print(
            f"{'step':32} {'seconds':>9} {'ratio':>7} {'CPU s':>8} {'server':>8} {'ratio':>7} "
            f"{'peak RSS MB':>12} {'ratio':>7}"
        )
        for label, r, base in rows:
            print(
                f"{label:32} {r['wall_s']:9.2f} {r['wall_s'] / base['wall_s']:7.2f} "
                f"{r['cpu_s']:8.2f} {r['server_cpu_s']:8.2f} {r['cpu_s'] / base['cpu_s']:7.2f} "
                f"{r['peak_rss_mb']:12.0f} {r['peak_rss_mb'] / base['peak_rss_mb']:7.2f}"
            )
        export_mb = base_export["info"]["bytes"] / 1e6
        print(
            f"push imported {push['info']['imported']}, pull wrote {pull['info']['tasks']} tasks "
            f"({pull['info']['annotations']} annotations); export {export_mb:.0f} MB"
        )
        note = (
            "CPU = the client process plus the Label Studio server's process tree during the "
            "step; peak RSS = the client's"
        )
        _bench.write_json(
            [
                _bench.row(
                    bench="labelstudio",
                    work=f"corpus ls push {args.tasks:,} tasks (project, idempotence check, "
                    "batched import)",
                    n=args.tasks,
                    unit="tasks",
                    ours=push,
                    floor={**base_import, "what": "the same file POSTed to the import endpoint"},
                    note=f"tasks imported: ours {push['info']['imported']}, floor "
                    f"{base_import['info']['imported']}; {note}",
                ),
                _bench.row(
                    bench="labelstudio",
                    work=f"corpus ls pull {args.tasks:,} tasks (paged API, pseudonyms, one file "
                    "per task)",
                    n=args.tasks,
                    unit="tasks",
                    ours=pull,
                    floor={**base_export, "what": "the server's sync JSON export, saved"},
                    note=f"tasks: ours {pull['info']['tasks']}, floor "
                    f"{base_export['info']['tasks']}; {note}",
                ),
            ],
            args.json,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
