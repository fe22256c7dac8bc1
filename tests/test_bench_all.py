"""scripts/bench_all.py: rows from a real (small) bench_validate run rendered into a table and
into a README between the markers; scripts without --json, or failing, listed as such.
No timing is asserted: the figures are whatever the run measured."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"


def _bench_all() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_all", SCRIPTS / "bench_all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_all"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _render(rows_file: Path, readme: Path) -> subprocess.CompletedProcess[str]:
    """bench_all.py --from rows_file --readme readme."""
    cmd = [sys.executable, str(SCRIPTS / "bench_all.py"), "--from", str(rows_file)]
    return subprocess.run(
        [*cmd, "--readme", str(readme)], capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def validate_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """A real bench_validate run on a 200-task export (ours, floor and naive, once each)."""
    out = tmp_path_factory.mktemp("rows") / "rows.json"
    subprocess.run(
        [sys.executable, str(SCRIPTS / "bench_validate.py"), "--tasks", "200", "--json", str(out)],
        check=True,
        cwd=REPO,
        capture_output=True,
    )
    rows: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))
    return rows


def test_validate_rows_have_the_interface_shape(validate_rows: list[dict[str, Any]]) -> None:
    [row] = validate_rows
    assert row["bench"] == "validate"
    assert (row["n"], row["unit"]) == (200, "tasks")
    for side in ("ours", "floor", "naive"):
        figures = row[side]
        assert set(figures) >= {"wall_s", "cpu_s", "peak_rss_mb"}
        assert figures["cpu_s"] > 0 and figures["wall_s"] > 0 and figures["peak_rss_mb"] > 10
    assert row["floor"]["what"] and row["naive"]["what"]
    # 200 tasks, two broken on purpose (an unknown label, a negative offset): both ways find
    # the same two, and every finding of the reference validator is among ours.
    assert row["findings"] == {"ours": 2, "floor": 2, "reference_missing": 0}


def test_readme_table_between_the_markers(
    validate_rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    rows_file = tmp_path / "rows.json"
    rows_file.write_text(json.dumps(validate_rows), encoding="utf-8")
    readme = tmp_path / "README.md"
    before = "# Title\n\nIntro.\n\n<!-- bench-table:start -->\nold table\n"
    after = "<!-- bench-table:end -->\n\nAfter.\n"
    readme.write_text(before + after, encoding="utf-8")
    proc = _render(rows_file, readme)
    assert proc.returncode == 0, proc.stderr
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\nIntro.\n\n<!-- bench-table:start -->\n")
    assert text.endswith(after)
    assert "old table" not in text
    table = text.split("<!-- bench-table:start -->\n")[1].split("<!-- bench-table:end -->")[0]
    [line] = [ln for ln in table.splitlines() if ln.startswith("| validate |")]
    row = validate_rows[0]
    cols = [c.strip() for c in line.strip("|").split(" | ")]
    assert cols[1] == row["work"]
    assert float(cols[2]) == pytest.approx(row["ours"]["cpu_s"], abs=0.006)
    assert float(cols[3]) == pytest.approx(row["floor"]["cpu_s"], abs=0.006)
    assert float(cols[5]) == pytest.approx(row["naive"]["cpu_s"], abs=0.006)
    ours_over_naive = float(cols[6].rstrip("×"))
    assert ours_over_naive == pytest.approx(row["ours"]["cpu_s"] / row["naive"]["cpu_s"], rel=0.06)
    assert cols[7] == f"{200 / row['ours']['cpu_s']:,.0f} tasks/s"
    assert "floor: " + row["floor"]["what"] in table
    # the console table names the same row
    assert "validate" in proc.stdout


def test_readme_without_markers_is_an_error(
    validate_rows: list[dict[str, Any]], tmp_path: Path
) -> None:
    rows_file = tmp_path / "rows.json"
    rows_file.write_text(json.dumps(validate_rows), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\nno markers here\n", encoding="utf-8")
    proc = _render(rows_file, readme)
    assert proc.returncode == 2
    assert "bench-table:start" in proc.stderr
    assert readme.read_text(encoding="utf-8") == "# Title\n\nno markers here\n"


def test_scripts_without_json_or_failing_are_listed_not_fatal(tmp_path: Path) -> None:
    bench_all = _bench_all()
    (tmp_path / "bench_old.py").write_text(
        "import argparse\nargparse.ArgumentParser().parse_args()\n", encoding="utf-8"
    )
    (tmp_path / "bench_broken.py").write_text(
        "import argparse, sys\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--json')\n"
        "p.add_argument('--quick', action='store_true')\n"
        "p.parse_args()\n"
        "sys.exit(3)\n",
        encoding="utf-8",
    )
    (tmp_path / "bench_good.py").write_text(
        "import argparse, json\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--json')\n"
        "p.add_argument('--quick', action='store_true')\n"
        "a = p.parse_args()\n"
        "ours = {'wall_s': 2.0, 'cpu_s': 2.0, 'peak_rss_mb': 50.0}\n"
        "floor = {'wall_s': 1.0, 'cpu_s': 1.0, 'peak_rss_mb': 40.0, 'what': 'plain'}\n"
        "row = {'bench': 'good', 'work': 'w', 'n': 10, 'unit': 'things', 'ours': ours,\n"
        "       'floor': floor, 'naive': None, 'note': 'quick' if a.quick else 'full'}\n"
        "open(a.json, 'w').write(json.dumps([row]))\n",
        encoding="utf-8",
    )
    assert bench_all.run_bench("old", scripts=tmp_path) == [
        {"bench": "old", "status": "not run (no --json)"}
    ]
    assert bench_all.run_bench("broken", scripts=tmp_path) == [
        {"bench": "broken", "status": "failed (exit 3)"}
    ]
    assert bench_all.run_bench("missing", scripts=tmp_path) == [
        {"bench": "missing", "status": "not run (no script)"}
    ]
    [good] = bench_all.run_bench("good", scripts=tmp_path, quick=True)
    assert good["note"] == "quick"
    cells = bench_all.cells(good)
    assert cells[2:8] == ["2.00", "1.00", "2.0×", "-", "-", "5 things/s"]
    assert cells[8] == "50 / 40 / -"
    md = bench_all.markdown([good, {"bench": "old", "status": "not run (no --json)"}])
    assert "| old | not run (no --json) |" in md


def test_unknown_bench_name_is_refused() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPTS / "bench_all.py"), "--only", "validate,nosuch"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown bench: nosuch" in proc.stderr


def test_median_of_repeats() -> None:
    sys.path.insert(0, str(SCRIPTS))
    try:
        import _bench
    finally:
        sys.path.remove(str(SCRIPTS))
    runs: list[dict[str, Any]] = [
        {"wall_s": 3.0, "cpu_s": 1.0, "peak_rss_mb": 50.0, "what": "x"},
        {"wall_s": 1.0, "cpu_s": 9.0, "peak_rss_mb": 70.0},
        {"wall_s": 2.0, "cpu_s": 2.0, "peak_rss_mb": 60.0},
    ]
    assert _bench.median(runs) == {
        "wall_s": 2.0,
        "cpu_s": 2.0,
        "peak_rss_mb": 60.0,
        "what": "x",
        "runs": 3,
    }


def test_markdown_escapes_what_would_read_as_html() -> None:
    bench_all = _bench_all()
    ours = {"wall_s": 1.0, "cpu_s": 1.0, "peak_rss_mb": 20.0}
    row = {
        "bench": "startup",
        "work": "corpus validate <one task> | a & b",
        "n": 1,
        "unit": "runs",
        "ours": ours,
        "floor": None,
        "naive": None,
        "note": "",
    }
    md = bench_all.markdown([row])
    assert "| corpus validate &lt;one task&gt; \\| a &amp; b |" in md
