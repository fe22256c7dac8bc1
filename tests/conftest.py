"""Shared fixtures: a private copy of the sample corpus per test, and a CLI runner."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from ls_server import _label_studio_server, label_studio  # noqa: F401  (real server)
from typer.testing import CliRunner, Result

from corpus_tools.cli import app
from tests.hub_double import hub  # noqa: F401  (the loopback Hub double)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def sample_corpus(tmp_path: Path) -> Path:
    """A copy of the repository's corpus (corpus.toml, articles, annotations, schemas)."""
    dest = tmp_path / "corpus"
    dest.mkdir()
    shutil.copy2(REPO / "corpus.toml", dest / "corpus.toml")
    for folder in ("articles", "annotations", "schemas"):
        if (REPO / folder).exists():
            shutil.copytree(REPO / folder, dest / folder)
    return dest


CliRun = Callable[..., Result]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRun:
    """Run `corpus ARGS...` in-process in folder `cwd`; returns click's Result."""
    runner = CliRunner()

    def run(*args: str, cwd: Path | None = None, input: str | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        monkeypatch.delenv("CORPUS_CONFIG", raising=False)
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return run
