"""Ingest stays inside the corpus and inside memory (issue 10, point 15), and leaves no
scratch behind: links out of the corpus, names that are not UTF-8, records over the byte cap,
floods of bad lines, findings in CI logs, and the sweeping of `build/.ingest-*`."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from pathlib import Path

import orjson
import pytest
from conftest import CliRun

from corpus_tools.config import load_config
from corpus_tools.ingest import ingest
from corpus_tools.store import iter_articles

BODY = (
    "Negotiators from both sides met in Geneva on Tuesday to discuss a ceasefire. "
    "Officials said the talks were constructive but that no agreement had been reached. "
    "A second round is expected next month, according to diplomats familiar with the plans."
)


@pytest.fixture
def bare(tmp_path: Path, repo_root: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "articles").mkdir(parents=True)
    shutil.copy2(repo_root / "corpus.toml", root / "corpus.toml")
    return root


def _run(cli: CliRun, corpus: Path, *args: str) -> dict[str, object]:
    result = cli("ingest", "--json", *args, cwd=corpus)
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    assert (result.exit_code == 0) == report["ok"]
    return report


def _slugs(report: dict[str, object]) -> list[str]:
    return [f["slug"] for f in report["findings"]]  # type: ignore[attr-defined]


def _sources(corpus: Path) -> set[str]:
    return {a.source for a in iter_articles(corpus / "build" / "articles.parquet")}


def _with_ingest_key(corpus: Path, line: str) -> None:
    cfg = corpus / "corpus.toml"
    text = cfg.read_text(encoding="utf-8")
    assert "min_chars = 200\n" in text
    cfg.write_text(text.replace("min_chars = 200\n", f"min_chars = 200\n{line}\n"), "utf-8")


# --- inside the corpus -------------------------------------------------------------------------


def test_a_link_out_of_the_corpus_is_a_finding_not_an_article(
    cli: CliRun, bare: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("Private notes\n\n" + BODY.replace("Geneva", "Bern"), encoding="utf-8")
    (bare / "articles" / "own.txt").write_text("Own\n\n" + BODY, encoding="utf-8")
    (bare / "articles" / "leak.txt").symlink_to(secret)
    (bare / "articles" / "leakdir").symlink_to(secret.parent, target_is_directory=True)
    (bare / "articles" / "inside.txt").symlink_to(bare / "articles" / "own.txt")
    report = _run(cli, bare)
    assert report["ok"] is False
    out = [f for f in report["findings"] if f["slug"] == "symlink-outside-corpus"]  # type: ignore[attr-defined]
    assert sorted(f["file"] for f in out) == ["articles/leak.txt", "articles/leakdir"]
    assert all(str(secret.parent) in f["message"] for f in out)
    texts = [a.text for a in iter_articles(bare / "build" / "articles.parquet")]
    assert texts and not any("Bern" in t for t in texts)
    assert report["rejected"] == 2


def test_a_file_name_that_is_not_utf8(cli: CliRun, bare: Path) -> None:
    articles = os.fsencode(bare / "articles")
    with open(articles + b"/caf\xe9.txt", "wb") as fh:
        fh.write(("Cafe\n\n" + BODY).encode())
    (bare / "articles" / "good.txt").write_text(
        "Good\n\n" + BODY.replace("Geneva", "Oslo"), "utf-8"
    )
    result = cli("ingest", cwd=bare)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "undecodable-file-name" in result.stdout and "articles/caf\\xe9.txt" in result.stdout
    report = _run(cli, bare)
    (finding,) = [f for f in report["findings"] if f["slug"] == "undecodable-file-name"]  # type: ignore[attr-defined]
    assert finding["file"] == "articles/caf\\xe9.txt" and finding["hint"]
    assert _sources(bare) == {"articles/good.txt"}


# --- inside memory -----------------------------------------------------------------------------


def test_records_over_the_byte_cap_are_findings(cli: CliRun, bare: Path) -> None:
    _with_ingest_key(bare, "max_record_bytes = 2000")
    big = BODY * 10  # ~2.4 kB
    art = bare / "articles"
    (art / "small.txt").write_text("Small\n\n" + BODY, encoding="utf-8")
    (art / "big.txt").write_text("Big\n\n" + big, encoding="utf-8")
    (art / "feed.jsonl").write_bytes(
        orjson.dumps({"id": "a", "text": BODY.replace("Geneva", "Lima")})
        + b"\n"
        + orjson.dumps({"id": "b", "text": big})
        + b"\n"
        + orjson.dumps({"id": "c", "text": BODY.replace("Geneva", "Quito")})
        + b"\n"
    )
    (art / "rows.csv").write_text(
        f'id,text\nr1,"{BODY.replace("Geneva", "Oran")}"\nr2,"{big}"\n'
        f'r3,"{BODY.replace("Geneva", "Tunis")}"\n',
        encoding="utf-8",
    )
    report = _run(cli, bare)
    too_large = sorted(
        (f["file"], f["line"])
        for f in report["findings"]  # type: ignore[attr-defined]
        if f["slug"] == "record-too-large"
    )
    assert too_large == [
        ("articles/big.txt", None),
        ("articles/feed.jsonl", 2),
        ("articles/rows.csv", 3),
    ]
    assert _sources(bare) == {
        "articles/small.txt",
        "articles/feed.jsonl:1",
        "articles/feed.jsonl:3",
        "articles/rows.csv:2",
    }
    # the CSV record after the big one is not read, and the finding says so
    csv_msg = next(f["message"] for f in report["findings"] if f["file"] == "articles/rows.csv")  # type: ignore[attr-defined]
    assert "rest of the file was not read" in csv_msg


def test_default_cap_is_a_few_megabytes(bare: Path) -> None:
    assert 1 << 20 <= load_config(bare / "corpus.toml").ingest.max_record_bytes <= 16 << 20


def test_a_bad_cap_is_a_config_error(cli: CliRun, bare: Path) -> None:
    _with_ingest_key(bare, "max_record_bytes = 0")
    result = cli("ingest", cwd=bare)
    assert result.exit_code == 2
    assert "[ingest -> max_record_bytes] 0 is less than the minimum of 1" in result.stderr


def test_a_flood_of_bad_lines_is_summarised_with_exact_counts(bare: Path) -> None:
    n = 30_000
    with open(bare / "articles" / "flood.jsonl", "wb") as fh:
        fh.write(orjson.dumps({"id": "ok", "text": BODY}) + b"\n")
        fh.write(b"not json\n" * n)
        fh.write(b'{"id": "x"}\n' * 7)
    report = ingest(config=load_config(bare / "corpus.toml"), findings_per_slug=50)
    assert report.rejected == n + 7
    assert report.inputs == n + 8 and report.articles == 1
    slugs = [f.slug for f in report.findings]
    assert slugs.count("malformed-jsonl-line") == 50
    assert slugs.count("missing-field") == 7
    (summary,) = [f for f in report.findings if f.slug == "findings-summarised"]
    assert f"{n - 50:,} more `malformed-jsonl-line` errors" in summary.message
    assert f"({n:,} in all" in summary.message
    lines = [f.line for f in report.findings if f.slug == "malformed-jsonl-line"]
    assert lines == list(range(2, 52))  # the first ones, in file order


def test_findings_keep_file_and_line_when_not_a_terminal(cli: CliRun, bare: Path) -> None:
    folder = bare / "articles" / "wire-services" / "northbridge-2026-11" / "overnight-batch"
    folder.mkdir(parents=True)
    (folder / "northbridge-wire-overnight-feed-with-a-long-name.jsonl").write_bytes(
        orjson.dumps({"id": "ok", "text": BODY}) + b"\n" + b"{broken\n"
    )
    result = cli("ingest", cwd=bare)  # CliRunner's stdout is not a terminal
    assert result.exit_code == 1
    where = (
        "articles/wire-services/northbridge-2026-11/overnight-batch/"
        "northbridge-wire-overnight-feed-with-a-long-name.jsonl:2"
    )
    (line,) = [x for x in result.stdout.splitlines() if where in x]
    assert "malformed-jsonl-line" in line and "error" in line


# --- scratch folders ---------------------------------------------------------------------------


def _fake_scratch(build: Path, name: str, *, lock: bool = True) -> Path:
    folder = build / name
    folder.mkdir(parents=True)
    if lock:
        (folder / ".lock").write_bytes(b"")
    (folder / "rows-00.jsonl").write_bytes(b"x" * 100_000)
    return folder


def test_stale_scratch_is_swept_and_a_live_one_is_kept(bare: Path) -> None:
    (bare / "articles" / "a.txt").write_text("A\n\n" + BODY, encoding="utf-8")
    build = bare / "build"
    stale = _fake_scratch(build, ".ingest-stale1")
    live = _fake_scratch(build, ".ingest-live1")
    fresh = _fake_scratch(build, ".ingest-fresh1", lock=False)
    old_unlocked = _fake_scratch(build, ".ingest-old1", lock=False)
    from corpus_tools.ingest.scratch import GRACE

    past = time.time() - 2 * GRACE
    os.utime(old_unlocked, (past, past))
    with open(live / ".lock", "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # what a concurrent ingest holds
        report = ingest(config=load_config(bare / "corpus.toml"))
        assert live.is_dir()
    assert not stale.exists() and not old_unlocked.exists()
    assert fresh.is_dir()  # no lock yet, and young: maybe a run that is just starting
    (swept,) = [f for f in report.findings if f.slug == "stale-scratch-swept"]
    assert "removed 2 scratch folder" in swept.message and "0.2 MB" in swept.message
    assert sorted(p.name for p in build.iterdir()) == [
        ".ingest-fresh1",
        ".ingest-live1",
        "articles.parquet",
    ]


def test_a_run_leaves_no_scratch(bare: Path) -> None:
    (bare / "articles" / "a.txt").write_text("A\n\n" + BODY, encoding="utf-8")
    ingest(config=load_config(bare / "corpus.toml"))
    assert [p.name for p in (bare / "build").iterdir()] == ["articles.parquet"]


_ORPHANING_PARENT = """
import multiprocessing, os, signal, sys, time
from pathlib import Path
from corpus_tools.ingest.scratch import scratch_folder
def rest():
    os.close(1)  # so that the test's pipe closes when the parent dies
    os.close(2)
    time.sleep(30)
with scratch_folder(Path(sys.argv[1])) as folder:
    child = multiprocessing.get_context("fork").Process(target=rest)
    child.start()
    print(child.pid, folder, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # dies holding the lock; the child lives on
"""


def test_a_killed_runs_workers_do_not_keep_its_scratch_alive(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    from corpus_tools.ingest.scratch import sweep

    res = subprocess.run(
        [sys.executable, "-c", _ORPHANING_PARENT, str(tmp_path)], capture_output=True, text=True
    )
    assert res.returncode == -signal.SIGKILL, res.stderr
    pid, folder = res.stdout.split()
    try:
        os.kill(int(pid), 0)  # the forked worker is still running
        assert sweep(tmp_path).folders == 1
        assert not Path(folder).exists()
    finally:
        os.kill(int(pid), signal.SIGKILL)
