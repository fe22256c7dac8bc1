"""How long people wait for `corpus` to start: `--help`, a command's `--help`, and `validate` of
one task, against the fair floor (a minimal typer app printing its --help) and the bare imports.

Rows (each figure the median of --repeat runs; every run is its own subprocess, and the runs of
ours, the floor and the naive baseline are interleaved):

- `corpus --help`, `corpus ingest --help`: the console script's `main()`;
- `corpus validate ONE-TASK-FILE` in a scratch copy of the sample corpus after `corpus ingest`
  (so build/articles.parquet is there), run once before measuring (what a pre-commit hook or a
  CI step on one file sees after the first run);
- floor: a two-command typer app with the same settings (no rich markup, no completion, no
  pretty exceptions) printing its --help, written to a temporary file by this script; for a
  command's --help and for validate, the same app printing its first command's --help (typer
  imports pydantic for its parameter coercion as soon as a command is parsed; the note gives
  the ratio to the bare --help floor too);
- naive/reference: `python -c "import typer, rich"`.

CPU is user + system time of the child (os.wait4), peak memory its ru_maxrss (Linux carries a
parent's high-water mark into its children, but this script stays smaller than any of them).
`--importtime` prints the 15 largest cumulative entries of `python -X importtime` for
`corpus --help` instead. The script uses only the console entry point
(`corpus_tools.cli.main`), so it runs against any version of corpus-tools on PYTHONPATH.

Usage: python scripts/bench_startup.py [--repeat K] [--quick] [--json FILE] [--importtime]
(use --repeat 5 or more on a busy machine: one start-up is a fraction of a second)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# The console script, as `corpus` runs it (a -c program so no launcher is needed).
CORPUS = "import sys; from corpus_tools.cli import main; sys.argv[0] = 'corpus'; main()"

FLOOR_APP = '''"""The floor: the least a typer CLI of this shape does to print its --help."""
import typer

app = typer.Typer(
    name="corpus",
    help="A minimal app with the same settings as corpus.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.command()
def first(path: str, quiet: bool = typer.Option(False, "--quiet", "-q", help="No bars.")) -> None:
    """The first command."""


@app.command()
def second(name: str = typer.Option("x", help="A name.")) -> None:
    """The second command."""


if __name__ == "__main__":
    app()
'''

Figures = dict[str, Any]


def measure(cmd: list[str], cwd: Path, env: dict[str, str]) -> Figures:
    """Run `cmd` once in its own process: wall, user+system CPU and peak RSS of that child."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
    }


def median(runs: list[Figures]) -> Figures:
    out = {k: round(statistics.median(r[k] for r in runs), 4) for k in runs[0]}
    return out | {"peak_rss_mb": round(out["peak_rss_mb"], 1)}


def scratch_corpus(work: Path, env: dict[str, str]) -> Path:
    """A copy of the sample corpus with build/articles.parquet; one task file to validate."""
    root = work / "corpus"
    root.mkdir()
    shutil.copy2(REPO / "corpus.toml", root / "corpus.toml")
    for folder in ("articles", "annotations", "schemas"):
        if (REPO / folder).exists():
            shutil.copytree(REPO / folder, root / folder)
    subprocess.run(
        [sys.executable, "-c", CORPUS, "ingest", "--quiet"],
        cwd=root,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # validate keeps the table's article hashes only once the table is 2 s old (its ctime):
    # wait, so that the warm-up run keeps them as a second run on a real checkout would.
    time.sleep(2.1)
    return root


def one_task(root: Path) -> Path:
    return sorted((root / "annotations").rglob("tasks/*.json"))[0].relative_to(root)


def importtime(env: dict[str, str], top: int = 15) -> list[tuple[int, int, str]]:
    """(cumulative us, self us, module) of the `top` largest cumulative imports of --help."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CORPUS, "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(cumulative), int(own), name.rstrip()))
    return sorted(rows, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per row (the median)")
    parser.add_argument("--quick", action="store_true", help="(the same: start-up is quick)")
    parser.add_argument("--json", metavar="FILE", help='also write the rows as JSON ("-": stdout)')
    parser.add_argument(
        "--importtime", action="store_true", help="print the top imports of `corpus --help`"
    )
    args = parser.parse_args(argv)
    repeat = max(1, args.repeat)
    out = sys.stderr if args.json == "-" else sys.stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORPUS_")}
    env.setdefault("COLUMNS", "100")

    if args.importtime:
        print("cumulative_ms  self_ms  module (python -X importtime, corpus --help)", file=out)
        for cumulative, own, name in importtime(env):
            print(f"{cumulative / 1000:13.1f}  {own / 1000:7.1f}  {name}", file=out)
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        work = Path(tmp)
        floor_py = work / "floor_app.py"
        floor_py.write_text(FLOOR_APP, encoding="utf-8")
        root = scratch_corpus(work, env)
        task = str(one_task(root))
        baselines = {
            "floor": [sys.executable, str(floor_py), "--help"],
            "floor-cmd": [sys.executable, str(floor_py), "first", "--help"],
            "naive": [sys.executable, "-c", "import typer, rich"],
        }
        # (row, our command, its floor): a command's own --help (or run) goes through typer's
        # parameter coercion, which imports pydantic; the floor app's `first --help` does too.
        cases = [
            ("corpus --help", [sys.executable, "-c", CORPUS, "--help"], "floor"),
            (
                "corpus ingest --help",
                [sys.executable, "-c", CORPUS, "ingest", "--help"],
                "floor-cmd",
            ),
            (
                "corpus validate <one task>",
                [sys.executable, "-c", CORPUS, "validate", "--quiet", task],
                "floor-cmd",
            ),
        ]
        commands = {name: cmd for name, cmd, _ in cases} | baselines
        for cmd in commands.values():  # warm: caches, .pyc files, the kept article hashes
            measure(cmd, root, env)
        runs: dict[str, list[Figures]] = {name: [] for name in commands}
        for _ in range(repeat):  # interleaved: a busy moment hits every row alike
            for name, cmd in commands.items():
                runs[name].append(measure(cmd, root, env))

    what = {
        "floor": "a 2-command typer app with the same settings printing --help",
        "floor-cmd": "the same app printing a command's --help (typer's coercion loaded)",
        "naive": 'python -c "import typer, rich"',
    }
    figures = {name: median(r) for name, r in runs.items()}
    rows = [
        {
            "bench": "startup",
            "work": name,
            "n": 1,
            "unit": "start",
            "ours": figures[name],
            "floor": figures[floor] | {"what": what[floor]},
            "naive": figures["naive"] | {"what": what["naive"]},
            "note": f"median of {repeat} interleaved runs; CPU = user+sys of the process; "
            f"{figures[name]['cpu_s'] / figures['floor']['cpu_s']:.2f}x the bare --help floor",
        }
        for name, _, floor in cases
    ]

    header = f"{'work':28} {'cpu_s':>7} {'/floor':>7} {'/naive':>7} {'wall_s':>7} {'MB':>6}  floor"
    print(header, file=out)
    table = [(name, figures[name], floor) for name, _, floor in cases]
    table += [(f"{name}: {what[name]}", figures[name], name) for name in baselines]
    for label, fig, floor in table:
        print(
            f"{label[:28]:28} {fig['cpu_s']:7.3f} {fig['cpu_s'] / figures[floor]['cpu_s']:6.2f}x "
            f"{fig['cpu_s'] / figures['naive']['cpu_s']:6.2f}x {fig['wall_s']:7.3f} "
            f"{fig['peak_rss_mb']:6.1f}  {floor}",
            file=out,
        )
    if args.json:
        text = json.dumps(rows, indent=2) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            Path(args.json).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
