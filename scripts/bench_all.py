"""Run every benchmark and print one table: ours beside the same-work floor and the naive way.

    .venv/bin/python scripts/bench_all.py                     # quick sizes, ~5 minutes
    .venv/bin/python scripts/bench_all.py --full              # the scripts' full sizes
    .venv/bin/python scripts/bench_all.py --model --labelstudio   # also the slow / server ones
    .venv/bin/python scripts/bench_all.py --only validate,agree --json rows.json
    .venv/bin/python scripts/bench_all.py --from rows.json --readme docs/benchmarks.md

Each `scripts/bench_<name>.py` runs in turn (never two at once: they measure CPU and memory)
with `--json` to a temporary file, `--quick` unless `--full`, and `--repeat 3` where a run is
cheap; each script measures its own work ("ours"), the same work done with the fastest plain
libraries ("floor", written in that script) and, where it tells users something, the naive
way. Columns: CPU seconds (user + system, the median of the repeats), ours/floor and
ours/naive CPU ratios (below 1: ours is faster), throughput as amount of work per CPU-second
of ours, and peak RSS (each measurement in its own process). A script without `--json` is
listed as not run.

`--readme FILE` rewrites the Markdown table between `<!-- bench-table:start -->` and
`<!-- bench-table:end -->` in FILE (exit 2 when the markers are missing); `--from FILE`
renders saved rows instead of running anything.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
START = "<!-- bench-table:start -->"
END = "<!-- bench-table:end -->"

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Bench:
    """One bench script: its short name, how many runs are cheap, and what gates it."""

    name: str
    repeat: int = 1
    flag: str | None = None  # run only when this bench_all flag is given (slow / needs a server)


BENCHES = (
    Bench("startup", repeat=3),
    Bench("ingest"),
    Bench("release"),
    Bench("validate", repeat=3),
    Bench("agree", repeat=3),
    Bench("model", flag="model"),
    Bench("labelstudio", flag="labelstudio"),
)


def status_row(name: str, status: str) -> Row:
    """A line of the table for a bench that gave no figures."""
    return {"bench": name, "status": status}


def supports_json(script: Path) -> bool:
    """Whether the script takes `--json FILE` (asked through its --help)."""
    proc = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, check=False
    )
    return proc.returncode == 0 and "--json" in proc.stdout


def run_bench(
    name: str,
    *,
    scripts: Path = HERE,
    quick: bool = True,
    repeat: int = 1,
    extra: list[str] | None = None,
) -> list[Row]:
    """Run scripts/bench_<name>.py with --json and return its rows (or one status row)."""
    script = scripts / f"bench_{name}.py"
    if not script.exists():
        return [status_row(name, "not run (no script)")]
    if not supports_json(script):
        return [status_row(name, "not run (no --json)")]
    with tempfile.TemporaryDirectory(prefix=f"bench-all-{name}-") as tmp:
        out = Path(tmp) / "rows.json"
        cmd = [sys.executable, str(script), "--json", str(out)]
        cmd += ["--quick"] if quick else []
        cmd += ["--repeat", str(repeat)] if repeat > 1 else []
        cmd += extra or []
        print(f"running {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, stdout=sys.stderr, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-3000:])
            return [status_row(name, f"failed (exit {proc.returncode})")]
        try:
            rows = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return [status_row(name, f"no rows ({type(exc).__name__})")]
    if not isinstance(rows, list) or not all(_is_row(r) for r in rows):
        return [status_row(name, "bad rows (not a list of rows)")]
    return rows


def _is_row(r: Any) -> bool:
    return (
        isinstance(r, dict)
        and isinstance(r.get("work"), str)
        and isinstance(r.get("ours"), dict)
        and isinstance(r["ours"].get("cpu_s"), int | float)
    )


# ---------------------------------------------------------------------------------------------
# the table


def _num(x: float | None, digits: int = 2) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits if x >= 1 else 3}f}"


def ratio(a: float | None, b: float | None) -> str:
    """a/b with two significant digits, as '1.9×'; '-' when either is missing."""
    if a is None or b is None or b <= 0:
        return "-"
    r = a / b
    if r >= 10:
        return f"{r:,.0f}×"
    if r >= 1:
        return f"{r:.1f}×"
    return f"{r:.2g}×"


def _cpu(side: dict[str, Any] | None) -> float | None:
    if not side:
        return None
    v = side.get("cpu_s")
    return float(v) if isinstance(v, int | float) else None


def _rss(side: dict[str, Any] | None) -> str:
    if not side or not isinstance(side.get("peak_rss_mb"), int | float):
        return "-"
    return f"{side['peak_rss_mb']:,.0f}"


def cells(r: Row) -> list[str]:
    """The table's cells for one row (a status row fills the work column only)."""
    if "status" in r:
        return [r["bench"], r["status"], *["-"] * 7]
    ours, floor, naive = r["ours"], r.get("floor"), r.get("naive")
    oc, fc, nc = _cpu(ours), _cpu(floor), _cpu(naive)
    n = r.get("n")
    rate = f"{n / oc:,.0f} {r.get('unit', '')}/s" if n and oc else "-"
    return [
        r["bench"],
        r["work"],
        _num(oc),
        _num(fc),
        ratio(oc, fc),
        _num(nc),
        ratio(oc, nc),
        rate,
        " / ".join((_rss(ours), _rss(floor), _rss(naive))),
    ]


HEADERS = [
    "bench",
    "work",
    "ours CPU s",
    "floor CPU s",
    "ours/floor",
    "naive CPU s",
    "ours/naive",
    "throughput",
    "peak MB ours / floor / naive",
]


def notes(rows: list[Row]) -> list[str]:
    """What each floor and naive baseline did, and each row's note (each text once)."""
    out = []
    said: set[tuple[str, str]] = set()
    for r in rows:
        if "status" in r:
            continue
        parts = []
        for label, text in (
            ("floor: ", (r.get("floor") or {}).get("what")),
            ("naive: ", (r.get("naive") or {}).get("what")),
            ("", r.get("note")),
        ):
            if text and (r["bench"], str(text)) not in said:
                said.add((r["bench"], str(text)))
                parts.append(f"{label}{text}")
        if parts:
            out.append(f"{r['bench']} ({r['work']}): " + "; ".join(parts))
    return out


def print_table(rows: list[Row]) -> None:
    """The rich table on stdout, the notes below it."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="Benchmarks: CPU seconds (median of repeats), ratios of CPU time",
        caption="throughput: work per CPU-second of ours; peak: peak RSS of each process, MB",
    )
    for i, h in enumerate(HEADERS):
        table.add_column(h, justify="left" if i < 2 else "right", overflow="fold")
    for r in rows:
        table.add_row(*cells(r))
    console = Console(width=max(160, Console().width))
    console.print(table)
    for line in notes(rows):
        console.print(f"- {line}", highlight=False, markup=False)


def markdown(rows: list[Row]) -> str:
    """The table (and notes) as Markdown, for the README."""
    lines = [
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join(["---", "---", *["---:"] * (len(HEADERS) - 2)]) + "|",
    ]
    for r in rows:
        lines.append("| " + " | ".join(_md(c).replace("|", "\\|") for c in cells(r)) + " |")
    extra = notes(rows)
    if extra:
        lines.append("")
        lines.extend(f"- {_md(line)}" for line in extra)
    return "\n".join(lines)


def _md(text: str) -> str:
    """Text that Markdown shows as written (`<one task>` is not an HTML tag)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rewrite_readme(path: Path, rows: list[Row]) -> bool:
    """Replace the text between the markers in `path`; False when a marker is missing."""
    text = path.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return False
    new = text[: start + len(START)] + "\n" + markdown(rows) + "\n" + text[end:]
    path.write_text(new, encoding="utf-8")
    return True


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="the scripts' full sizes, not --quick")
    ap.add_argument("--model", action="store_true", help="also bench_model (slow)")
    ap.add_argument(
        "--labelstudio", action="store_true", help="also bench_labelstudio (starts a server)"
    )
    ap.add_argument("--only", help="comma-separated names: " + ",".join(b.name for b in BENCHES))
    ap.add_argument("--repeat", type=int, help="runs of each measurement (default: 3 if cheap)")
    ap.add_argument("--json", metavar="FILE", help="write the combined rows to FILE")
    ap.add_argument("--readme", type=Path, help="rewrite the table between the markers in FILE")
    ap.add_argument("--from", dest="from_", metavar="FILE", type=Path, help="render saved rows")
    args = ap.parse_args(argv)

    if args.readme is not None:
        text = args.readme.read_text(encoding="utf-8")
        if START not in text or END not in text:
            print(f"{args.readme}: no {START} ... {END} markers", file=sys.stderr)
            return 2

    if args.from_ is not None:
        rows: list[Row] = json.loads(args.from_.read_text(encoding="utf-8"))
        if args.only:
            keep = {n.strip() for n in args.only.split(",")}
            rows = [r for r in rows if r.get("bench") in keep]
    else:
        known = {b.name for b in BENCHES}
        only = {n.strip() for n in args.only.split(",")} if args.only else None
        if only is not None and only - known:
            print(f"unknown bench: {', '.join(sorted(only - known))}", file=sys.stderr)
            return 2
        rows = []
        for b in BENCHES:
            if only is not None and b.name not in only:
                continue
            if only is None and b.flag is not None and not getattr(args, b.flag):
                continue
            repeat = args.repeat if args.repeat is not None else b.repeat
            rows.extend(run_bench(b.name, quick=not args.full, repeat=repeat))

    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    if args.readme is not None:
        rewrite_readme(args.readme, rows)
        print(f"rewrote the table in {args.readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
