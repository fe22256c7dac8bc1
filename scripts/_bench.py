"""What the bench scripts share: measuring a subprocess, the median of repeats, the JSON rows.

A row is one line of `scripts/bench_all.py`'s table (see `row`): the work done, its amount,
and the figures of `ours`, the same-work `floor` and, where it tells users something, a
`naive` baseline. Figures are {"wall_s", "cpu_s", "peak_rss_mb"}; cpu_s is user + system CPU.

Two ways to measure, both one subprocess per measurement so each peak is its own:

- inside the child: `Clock()` at the start of the work, `clock.figures()` at its end (CPU of
  the process and of the children it waited for; peak RSS is the process's own VmHWM, or its
  largest child's where a pool did the work);
- from outside: `run(cmd)` times any command: CPU from `os.wait4` (the child and the
  descendants it waited for), peak RSS the child's VmHWM sampled while it runs (every 1 ms
  for 0.2 s, then every 10 ms; VmHWM only grows, so the last sample is the peak unless the
  peak came after it).

`ru_maxrss` alone is not used for a single process: Linux carries the parent's high-water mark
over a fork and exec, so a child of a large parent would report the parent's peak.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Figures = dict[str, Any]
Row = dict[str, Any]

_STDOUT = sys.stdout  # where `--json -` writes, after human_to_stderr has moved sys.stdout


def add_args(parser: argparse.ArgumentParser, *, repeat: int = 1) -> None:
    """--json FILE, --quick and --repeat K, as every bench script takes them."""
    parser.add_argument(
        "--json",
        metavar="FILE",
        help='also write the measurements as JSON rows to FILE ("-": stdout; the human '
        "output then goes to stderr)",
    )
    parser.add_argument("--quick", action="store_true", help="the small sizes bench_all uses")
    parser.add_argument(
        "--repeat",
        type=int,
        default=repeat,
        help=f"interleaved runs of each measurement; the median is reported (default {repeat})",
    )


def human_to_stderr(json_dest: str | None) -> None:
    """With `--json -`, stdout carries the JSON: send the human output to stderr."""
    if json_dest == "-":
        sys.stdout = sys.stderr


def cpu_now() -> float:
    """User + system CPU seconds of this process and of the children it waited for."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def vm_hwm_mb(pid: int | str = "self") -> float | None:
    """The peak resident set (VmHWM) of a live process, in MB; None when unreadable."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def proc_stats() -> dict[int, tuple[int, str, int, int]]:
    """pid -> (parent pid, name, CPU ticks of its own (utime + stime), ticks of the children
    it waited for (cutime + cstime)) of every live process, from /proc."""
    out: dict[int, tuple[int, str, int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        own = int(fields[11]) + int(fields[12])
        out[int(entry)] = (int(fields[1]), name, own, int(fields[13]) + int(fields[14]))
    return out


def descendants(pid: int, table: Mapping[int, tuple[Any, ...]]) -> set[int]:
    """`pid` and all its live descendants in a `proc_stats` table."""
    children: dict[int, list[int]] = {}
    for p, (ppid, *_) in table.items():
        children.setdefault(ppid, []).append(p)
    tree, todo = set(), [pid]
    while todo:
        p = todo.pop()
        if p in tree or p not in table:
            continue
        tree.add(p)
        todo.extend(children.get(p, []))
    return tree


def tree_cpu(pid: int) -> float:
    """User + system CPU seconds so far of a live process and all its live descendants (and
    the children they waited for), from /proc: for a server measured around a request."""
    table = proc_stats()
    ticks = sum(table[p][2] + table[p][3] for p in descendants(pid, table))
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(*, children: bool = False) -> float:
    """This process's peak RSS in MB; with `children`, the largest of it and its waited
    children (their ru_maxrss, which for a forked pool worker includes what it shared)."""
    own = vm_hwm_mb()
    if own is None:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if children:
        own = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return round(own, 1)


class Clock:
    """Started where the measured work starts; `figures()` where it ends."""

    def __init__(self) -> None:
        self.wall0 = time.perf_counter()
        self.cpu0 = cpu_now()

    def figures(self, *, children: bool = False) -> Figures:
        return {
            "wall_s": round(time.perf_counter() - self.wall0, 4),
            "cpu_s": round(cpu_now() - self.cpu0, 4),
            "peak_rss_mb": peak_rss_mb(children=children),
        }


def run(
    cmd: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
    stdout: Any = subprocess.DEVNULL,
    check: bool = True,
) -> Figures:
    """Run `cmd` and measure it from outside: wall, CPU (with its descendants), peak RSS."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=stdout, stderr=subprocess.PIPE)
    peak: list[float] = []
    done = threading.Event()

    def sample() -> None:
        # every millisecond for the first 0.2 s (a short process's peak comes near its end),
        # then every 10 ms
        start = time.perf_counter()
        while not done.is_set():
            hwm = vm_hwm_mb(proc.pid)
            if hwm is not None:
                peak.append(hwm)
            done.wait(0.001 if time.perf_counter() - start < 0.2 else 0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stderr is not None
    err = proc.stderr.read()  # the child may write much; read before waiting
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if check and proc.returncode != 0:
        tail = err.decode(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{tail}")
    rss = max(peak) if peak else usage.ru_maxrss / 1024
    return {
        "wall_s": round(wall, 4),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 4),
        "peak_rss_mb": round(rss, 1),
    }


def median(runs: Sequence[Figures]) -> Figures:
    """The median of each figure over repeated runs; other keys from the first run."""
    if not runs:
        raise ValueError("no runs")
    out = dict(runs[0])
    for key in ("wall_s", "cpu_s", "peak_rss_mb"):
        values = [r[key] for r in runs if isinstance(r.get(key), int | float)]
        if values:
            out[key] = round(statistics.median(values), 4)
    if len(runs) > 1:
        out["runs"] = len(runs)
    return out


def figures(measure: Figures, what: str | None = None) -> Figures:
    """The row form of a measurement: the three figures (and `what` it did)."""
    out: Figures = {k: measure[k] for k in ("wall_s", "cpu_s", "peak_rss_mb")}
    if "runs" in measure:
        out["runs"] = measure["runs"]
    if what is not None:
        out["what"] = what
    return out


def row(
    *,
    bench: str,
    work: str,
    n: int,
    unit: str,
    ours: Figures,
    floor: Figures | None,
    naive: Figures | None = None,
    note: str = "",
) -> Row:
    """One line of the combined table that bench_all.py prints."""
    return {
        "bench": bench,
        "work": work,
        "n": n,
        "unit": unit,
        "ours": figures(ours),
        "floor": None if floor is None else figures(floor, floor.get("what", "")),
        "naive": None if naive is None else figures(naive, naive.get("what", "")),
        "note": note,
    }


def write_json(rows: Sequence[Row], dest: str | None) -> None:
    """Write the rows to `dest` ("-": the real stdout); nothing when `dest` is None."""
    if dest is None:
        return
    text = json.dumps(list(rows), indent=2) + "\n"
    if dest == "-":
        _STDOUT.write(text)
        _STDOUT.flush()
    else:
        Path(dest).write_text(text, encoding="utf-8")
