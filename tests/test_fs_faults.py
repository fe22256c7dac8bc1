"""Ordinary failures of the file system: a message naming the path, exit 2, no traceback, and
the previous files intact, in every command; and with `--json`, the error as JSON on stdout.

Disk full is real: a tiny tmpfs mounted over the corpus's build folder when this process may
mount (root in a container that allows it; skipped with the reason otherwise), and a file size
limit (RLIMIT_FSIZE, SIGXFSZ ignored, so writes fail with EFBIG) in a subprocess everywhere.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CliRun
from typer.testing import Result

from corpus_tools.cli import _reference
from corpus_tools.store import sha256_file

PARQUET = Path("build") / "articles.parquet"


def _failed_cleanly(result: Result, *words: str, code: int = 2) -> str:
    """The command exited `code` with a message (no traceback) that contains `words`."""
    out = result.stdout + result.stderr
    assert result.exit_code == code, out
    assert "Traceback" not in out, out
    for word in words:
        assert word in out, (word, out)
    return out


def _ingest_small(corpus: Path, cli: CliRun) -> str:
    """Ingest only the first seed article; return the sha256 of the table it wrote."""
    result = cli("ingest", "articles/000_0d9cd822c3ba238f.txt", cwd=corpus)
    assert result.exit_code == 0, result.stdout + result.stderr
    return sha256_file(corpus / PARQUET)


# --- a folder, or a file, where the other belongs --------------------------------------------


def test_ingest_output_is_a_folder(cli: CliRun, sample_corpus: Path) -> None:
    (sample_corpus / PARQUET).mkdir(parents=True)
    (sample_corpus / PARQUET / "keep.txt").write_text("mine", encoding="utf-8")
    out = _failed_cleanly(cli("ingest", cwd=sample_corpus), "articles.parquet", "folder")
    assert "hint:" in out
    assert (sample_corpus / PARQUET / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert not [p for p in (sample_corpus / "build").iterdir() if p.name.startswith(".")]


def test_build_folder_is_a_file(cli: CliRun, sample_corpus: Path) -> None:
    (sample_corpus / "build").write_text("not a folder", encoding="utf-8")
    _failed_cleanly(cli("ingest", cwd=sample_corpus), "build")
    assert (sample_corpus / "build").read_text(encoding="utf-8") == "not a folder"


def test_tasks_output_is_a_folder(cli: CliRun, sample_corpus: Path) -> None:
    _ingest_small(sample_corpus, cli)
    (sample_corpus / "build" / "tasks.json").mkdir()
    _failed_cleanly(cli("tasks", cwd=sample_corpus), "tasks.json", "folder")


def test_schema_file_is_a_folder(cli: CliRun, sample_corpus: Path) -> None:
    target = sample_corpus / "schemas" / "labeling-config.xml"
    target.unlink()
    target.mkdir()
    _failed_cleanly(cli("schemas", cwd=sample_corpus), "labeling-config.xml", "folder")


def test_init_over_a_file(cli: CliRun, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x", encoding="utf-8")
    out = _failed_cleanly(cli("init", "taken", cwd=tmp_path), "taken")
    assert "Traceback" not in out
    assert (tmp_path / "taken").read_text(encoding="utf-8") == "x"


# --- a name too long ---------------------------------------------------------------------------


def test_name_too_long(cli: CliRun, sample_corpus: Path) -> None:
    _ingest_small(sample_corpus, cli)
    long = "t" * 300 + ".json"
    _failed_cleanly(cli("tasks", "--out", f"build/{long}", cwd=sample_corpus), long, "too long")
    out = _failed_cleanly(cli("init", "c" * 300, cwd=sample_corpus), "too long")
    assert "shorten" in out.lower()


# --- nowhere to write ----------------------------------------------------------------------------


@pytest.fixture
def unwritable_build(sample_corpus: Path) -> Iterator[Path]:
    """The corpus's build folder, holding a table, made unwritable.

    Not as root (who may write anywhere): then a read-only tmpfs is mounted there instead.
    """
    build = sample_corpus / "build"
    build.mkdir()
    if os.geteuid() != 0:
        build.chmod(0o555)
        yield build
        build.chmod(0o755)
        return
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(build)]
    ).returncode:
        pytest.skip("root, but mounting a read-only tmpfs is not permitted here")
    try:
        yield build
    finally:
        _unmount(build)


def test_unwritable_build_folder(cli: CliRun, sample_corpus: Path, unwritable_build: Path) -> None:
    out = _failed_cleanly(cli("ingest", cwd=sample_corpus), "build")
    assert "permission denied" in out or "read-only" in out
    assert f"error: {unwritable_build}: " in out  # the folder itself, not a scratch name


def _unmount(folder: Path) -> None:
    """Unmount; "busy" means the command left a file open there (a leak): lazy-unmount, fail."""
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode:
        subprocess.run(["umount", "-l", str(folder)], check=True)
        pytest.fail(f"a file under {folder} was left open after the command")


# --- disk full ---------------------------------------------------------------------------------


@pytest.fixture
def tiny_build(sample_corpus: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs mounted over the corpus's build folder (skipped when mount is refused)."""
    build = sample_corpus / "build"
    build.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(build)], capture_output=True
    )
    if res.returncode:
        pytest.skip(f"mounting a tmpfs is not permitted here: {res.stderr.decode().strip()}")
    try:
        yield build
    finally:
        _unmount(build)


def _grow_articles(corpus: Path, n: int) -> None:
    """`n` distinct articles of ~3 KB each in one JSONL file (far more than 512 KiB in all)."""
    import random

    rng = random.Random(14)
    words = [
        "port",
        "grain",
        "ship",
        "drone",
        "reactor",
        "harbour",
        "minister",
        "talks",
        "river",
        "border",
    ]
    with open(corpus / "articles" / "many.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n):
            body = " ".join(rng.choice(words) for _ in range(500))
            fh.write(json.dumps({"id": f"many-{i}", "text": f"Story {i}. {body}."}) + "\n")


def test_disk_full_on_a_real_tmpfs(cli: CliRun, sample_corpus: Path, tiny_build: Path) -> None:
    old = _ingest_small(sample_corpus, cli)
    _grow_articles(sample_corpus, 400)
    out = _failed_cleanly(cli("ingest", cwd=sample_corpus), "no space left", "build")
    assert "Free some disk space" in out
    assert sha256_file(sample_corpus / PARQUET) == old
    assert sorted(p.name for p in tiny_build.iterdir()) == ["articles.parquet"]


def _run_limited(args: list[str], cwd: Path, limit: int) -> subprocess.CompletedProcess[str]:
    """`corpus ARGS` in a subprocess whose files may not grow past `limit` bytes."""

    def limit_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "COLUMNS": "200"}
    env.pop("CORPUS_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", "from corpus_tools.cli import main; main()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=limit_files,
        timeout=120,
    )


def test_file_size_limit_in_a_subprocess(cli: CliRun, sample_corpus: Path) -> None:
    old = _ingest_small(sample_corpus, cli)
    _grow_articles(sample_corpus, 100)
    res = _run_limited(["ingest"], sample_corpus, 64 * 1024)
    out = res.stdout + res.stderr
    assert res.returncode == 2, out
    assert "Traceback" not in out and "file too large" in out, out
    assert sha256_file(sample_corpus / PARQUET) == old
    assert not [p for p in (sample_corpus / "build").iterdir() if p.name.startswith(".")]
    res = _run_limited(["ingest", "--json"], sample_corpus, 64 * 1024)
    assert res.returncode == 2
    err = json.loads(res.stdout)
    assert err["exit_code"] == 2 and err["error"]["slug"] == "file-too-large"


# --- --json: errors as JSON for every command ---------------------------------------------------


def _commands() -> list[list[str]]:
    """Every command of the CLI, with the words that name it (`ls pull` is two)."""
    return [name.split()[1:] for name, _ in _reference.iter_commands()]


@pytest.mark.parametrize("words", _commands(), ids=" ".join)
def test_json_errors_for_every_command(cli: CliRun, tmp_path: Path, words: list[str]) -> None:
    """No corpus.toml here: each command fails, and says so in JSON on stdout."""
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    args = {"init": ["a-file/corpus"], "validate": ["annotations"]}.get(words[0], [])
    if words[0] in ("release", "publish", "pipeline"):
        args = ["0.1.0"]
    result = cli(*words, *args, "--json", cwd=tmp_path)
    assert result.exit_code == 2, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"error", "exit_code"} and doc["exit_code"] == 2
    assert {"slug", "message", "hint", "path"} <= set(doc["error"])
    assert doc["error"]["message"]
    assert "Traceback" not in result.stderr


def test_json_usage_error(cli: CliRun, sample_corpus: Path) -> None:
    result = cli("ingest", "--json", "--no-such-option", cwd=sample_corpus)
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["error"]["slug"] == "usage-error" and "--no-such-option" in doc["error"]["message"]


def test_format_json_errors_are_json(cli: CliRun, tmp_path: Path) -> None:
    result = cli("check", "--format", "json", cwd=tmp_path)
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["slug"] == "config-error"


def test_json_error_names_the_path(cli: CliRun, sample_corpus: Path) -> None:
    (sample_corpus / PARQUET).mkdir(parents=True)
    result = cli("ingest", "--json", cwd=sample_corpus)
    assert result.exit_code == 2
    err = json.loads(result.stdout)["error"]
    assert err["slug"] == "is-a-folder"
    assert err["path"].endswith("articles.parquet")
    assert err["hint"]


def test_release_on_a_full_disk_is_a_message(cli: CliRun, sample_corpus: Path) -> None:
    """Release stages through a scratch SQLite database: its write failure is the disk's."""
    for step in (["ingest"], ["adjudicate"]):
        assert cli(*step, cwd=sample_corpus).exit_code in (0, 1)
    res = _run_limited(["release", "0.9.0"], sample_corpus, 4096)
    out = res.stdout + res.stderr
    assert res.returncode == 2, out
    assert "Traceback" not in out and "scratch database" in out, out
    assert not (sample_corpus / "dist" / "0.9.0").exists()


def test_publish_on_a_full_disk_is_a_message(cli: CliRun, sample_corpus: Path) -> None:
    """Local publishing copies the release folder (shutil.copytree gathers its failures)."""
    for step in (["ingest"], ["adjudicate"], ["release", "0.9.0"]):
        result = cli(*step, cwd=sample_corpus)
        assert result.exit_code in (0, 1), result.stdout + result.stderr
    assert (sample_corpus / "dist" / "0.9.0").is_dir()
    res = _run_limited(["publish", "0.9.0"], sample_corpus, 2048)
    out = res.stdout + res.stderr
    assert res.returncode == 2, out
    assert "Traceback" not in out and "file too large" in out and "README.md" in out, out
    published = [p for p in sample_corpus.rglob("v0.9.0") if p.is_dir()]
    assert published == [], published
