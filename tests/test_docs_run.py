"""The README's and the guides' command blocks, run in order as a newcomer would (issue 15).

One test per page, in the order a reader meets them: the README's pipeline builds what the
guides use, so the pages share one scratch copy of the repository (tests/docs_runner.py: its
committed files, the real .venv and .venv-ls, a private HOME and TMPDIR, Label Studio on a
free port when a page starts it). After each page, `annotations/` and `adjudication/` of the
copy must be as committed: the docs must never lose the sample annotations (a page that changed
them fails, and they are restored, so the next pages still run on the sample).

A page listed here that no longer exists fails, and so does a page with runnable blocks that is
not listed. Each page's time and each block's
are printed (`pytest -s tests/test_docs_run.py` shows them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs_runner import (
    REPO,
    BlockFailed,
    DocsError,
    DocsSession,
    Outcome,
    parse_page,
    timings,
)

PAGES = (
    "README.md",
    "docs/guides/maintainer.md",
    "docs/guides/adjudicator.md",
    "docs/troubleshooting.md",
    "docs/maintainers.md",
    "docs/adopt.md",
    "docs/scaling.md",
    "docs/models.md",
    "docs/ml-engineers.md",
    "docs/ci.md",
    "docs/development.md",
)

# What the docs must leave as committed: the sample's annotations, and the adjudicators'
# decisions (committed like them: `corpus adjudicate` reads them, so a page's pull into
# adjudication/ is what every later page builds on).
KEPT = ("annotations", "adjudication")

pytestmark = [
    pytest.mark.labelstudio,
    pytest.mark.skipif(not (REPO / ".venv" / "bin" / "corpus").is_file(), reason="no .venv"),
    pytest.mark.skipif(
        not (REPO / ".venv-ls" / "bin" / "label-studio").is_file(),
        reason="Label Studio server not installed (.venv-ls); run scripts/setup.sh",
    ),
]


@pytest.fixture(scope="module")
def docs_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DocsSession]:
    session = DocsSession(tmp_path_factory.mktemp("docs-run"))
    session.make_copy()
    try:
        yield session
    finally:
        session.stop_background()


def test_scratch_copy_is_the_committed_files(docs_session: DocsSession) -> None:
    """Before any page: the copy holds what a clone holds (no build/, dist/, hub/ or .cache/
    of the working tree), setup.sh is the runner's stub, the venvs are the real ones."""
    root: Path = docs_session.root
    assert (root / "corpus.toml").is_file() and (root / "annotations").is_dir()
    for outputs in ("build", "dist", "hub", ".cache"):
        assert not (root / outputs).exists(), outputs
    assert "not re-run" in (root / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert (root / ".venv").resolve() == (REPO / ".venv").resolve()
    assert docs_session.changed(".") == ""


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_as_written(docs_session: DocsSession, page: str) -> None:
    assert (REPO / page).is_file(), f"{page} is gone: update PAGES"
    start = time.monotonic()
    outcomes: list[Outcome] = []
    problem = ""
    try:
        outcomes = docs_session.run_page(page)
    except BlockFailed as failed:
        outcomes, problem = failed.outcomes, str(failed)
    except DocsError as wrong:
        problem = str(wrong)
    print(f"\n{page}: {time.monotonic() - start:.1f} s")
    for line in timings(outcomes):
        print(line)
    # Checked (and put back, so the next pages run on the sample) after a failure too.
    changed = docs_session.changed(*KEPT)
    if changed:
        docs_session.restore(*KEPT)
        problem += (
            f"\n{page} changed what is committed in {' or '.join(f'{k}/' for k in KEPT)} "
            f"(restored for the next pages):\n{changed}"
        )
    if problem:
        pytest.fail(problem.strip(), pytrace=False)


def test_every_page_with_a_runnable_block_is_run() -> None:
    """A new page's commands are run too: every Markdown page of the README and docs/ that has
    a block the runner would run is in PAGES (no docs session needed to check that)."""
    pages = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    runnable = {
        p.relative_to(REPO).as_posix()
        for p in pages
        if any(b.runs for b in parse_page(p.read_text(encoding="utf-8"), str(p)))
    }
    assert runnable, "no runnable block found: the parser or the docs changed"
    assert runnable <= set(PAGES), sorted(runnable - set(PAGES))
