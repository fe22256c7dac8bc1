"""Shared fixtures: a private copy of the sample corpus per test, and a CLI runner."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ls_server import _label_studio_server, label_studio  # noqa: F401  (real server)
from typer.testing import CliRunner, Result

from corpus_tools.cli import app
from corpus_tools.model import Article, Sentence
from corpus_tools.store import sha256_text
from tests.hub_double import hub  # noqa: F401  (the loopback Hub double)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    return REPO


def copy_sample(dest: Path) -> Path:
    """Copy the repository's corpus (corpus.toml, articles, annotations, schemas) to `dest`."""
    dest.mkdir(parents=True)
    shutil.copy2(REPO / "corpus.toml", dest / "corpus.toml")
    for folder in ("articles", "annotations", "schemas"):
        if (REPO / folder).exists():
            shutil.copytree(REPO / folder, dest / folder)
    return dest


@pytest.fixture
def sample_corpus(tmp_path: Path) -> Path:
    """A copy of the repository's corpus (corpus.toml, articles, annotations, schemas)."""
    return copy_sample(tmp_path / "corpus")


@pytest.fixture(scope="session")
def sample_gold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample corpus after `corpus ingest` and `corpus adjudicate` (build/articles.parquet,
    gold.jsonl, disputes.json), made once per session. Tests copy it (`copy_gold`) and never
    write into it."""
    root = copy_sample(tmp_path_factory.mktemp("sample-gold") / "corpus")
    for cmd in ("ingest", "adjudicate"):
        code, out = run_cli(cmd, "-c", str(root / "corpus.toml"), cwd=root)
        assert code == 0, out
    return root


def copy_gold(sample_gold: Path, dest: Path) -> Path:
    """A private copy of the `sample_gold` corpus at `dest` (its parent must exist)."""
    shutil.copytree(sample_gold, dest)
    return dest


def run_cli(*args: str, cwd: Path) -> tuple[int, str]:
    """`corpus ARGS` in-process in folder `cwd` (for module- and session-scoped fixtures,
    which cannot use the `cli` fixture's monkeypatch): exit code and output."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        r = CliRunner().invoke(app, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
    return r.exit_code, r.output


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


def make_article(
    text: str,
    aid: str = "a1",
    story: str | None = None,
    *,
    sentences: tuple[Sentence, ...] | None = None,
) -> Article:
    """An ingested-looking Article for unit tests: sentences cut by ingest's own splitter
    unless given (pass `()` for none), text_sha256 computed, optional story id."""
    if sentences is None:
        from corpus_tools.ingest.clean import sentences as split

        sentences = tuple(split(text))
    return Article(
        aid, "test", None, None, None, None, "en", text, sha256_text(text), sentences, story
    )


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local Ray instance of 2 CPUs for the whole test session (Ray starts in ~2.5 s).

    `corpus_tools.engine.ray_session` uses a session already open in the process as it is, so
    the library's own code runs on this one. Usage statistics off, a short temp folder (Ray's
    socket paths have a length limit), and shut down at the end, leaving no process behind.
    """
    import tempfile

    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray  # the `ray` extra, which the tests install

    if ray.is_initialized():
        yield ray
        return
    temp = tempfile.mkdtemp(prefix="ray-t-", dir="/tmp")
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=temp, log_to_driver=False)
    # Ray Data binds its log handlers to sys.stderr when it is first imported and says some
    # things once per process ("Progress bars disabled", "execution finished"): do both here,
    # not inside a CLI test's runner, whose captured stream is closed after it (a later log
    # line then printed "--- Logging error ---" into the next test's output).
    import ray.data

    ctx = ray.data.DataContext.get_current()
    bars = ctx.enable_progress_bars
    ctx.enable_progress_bars = False
    ray.data.range(2).materialize()
    ctx.enable_progress_bars = bars
    try:
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)
