"""The CLI as a whole: help, version, error mapping, and the docs' CLI reference kept in sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CliRun

from corpus_tools import __version__
from corpus_tools.cli import _reference
from corpus_tools.errors import CorpusError

STAGES = ["ingest", "tasks", "schemas", "validate", "check", "agree", "adjudicate", "release"]


def test_help_lists_every_stage(cli: CliRun) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for stage in [*STAGES, "ls"]:
        assert f"  {stage} " in result.stdout, stage


def test_version(cli: CliRun) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"corpus-tools {__version__}"


def test_every_command_has_help_and_an_example() -> None:
    commands = list(_reference.iter_commands())
    assert len(commands) >= len(STAGES)
    for name, cmd in commands:
        text = _reference.help_text(name, cmd)
        assert cmd.help and cmd.help.strip(), f"{name} has no help text"
        assert "Example:" in text, f"{name}'s help has no example"


def test_cli_reference_page_is_in_sync(repo_root: Path) -> None:
    page = (repo_root / "docs" / "cli.md").read_text(encoding="utf-8")
    assert _reference.replace_in(page) == page, (
        "docs/cli.md is stale: run `.venv/bin/python -m corpus_tools.cli._reference docs/cli.md`"
    )


def test_missing_config_is_a_usage_error(cli: CliRun, tmp_path: Path) -> None:
    result = cli("schemas", "--check", cwd=tmp_path)
    assert result.exit_code == 2
    assert "no corpus.toml" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_invalid_config_names_the_path(cli: CliRun, sample_corpus: Path) -> None:
    cfg = sample_corpus / "corpus.toml"
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace('hotkey = "o"', 'hotkey = "o"\nshade = "x"'),
        encoding="utf-8",
    )
    result = cli("schemas", "--check", cwd=sample_corpus)
    assert result.exit_code == 2
    assert "[scheme -> entities -> 1 -> shade] unknown key 'shade'" in result.stderr


def test_debug_variable_keeps_the_file_system_traceback(
    cli: CliRun, sample_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (sample_corpus / "build" / "articles.parquet").mkdir(parents=True)
    result = cli("ingest", cwd=sample_corpus)
    assert result.exit_code == 2 and "CORPUS_DEBUG=1" in result.stderr
    monkeypatch.setenv("CORPUS_DEBUG", "1")
    with pytest.raises(CorpusError) as info:
        cli("ingest", cwd=sample_corpus)
    assert isinstance(info.value.__cause__, IsADirectoryError)  # the original, for debugging
