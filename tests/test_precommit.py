"""This repository's pre-commit hooks run through `pre-commit` itself, as a corpus repository
uses them (issue 15 point 5): `repo:` is this repository, `rev:` its committed HEAD, and
pre-commit installs the toolkit into its own virtualenv with pip.

One PRE_COMMIT_HOME per test session: the install (measured, printed with `-s`) happens once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from conftest import copy_sample

PULLED = "annotations/geonews-annotation"


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="session")
def hooks_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="session")
def head(request: pytest.FixtureRequest) -> tuple[Path, str]:
    root = Path(__file__).resolve().parents[1]
    res = git(root, "rev-parse", "HEAD")
    if res.returncode != 0:
        pytest.skip("not a git checkout: pre-commit needs a commit of this repository")
    return root, res.stdout.strip()


@pytest.fixture(scope="session")
def corpus_repo(tmp_path_factory: pytest.TempPathFactory, head: tuple[Path, str]) -> Iterator[Path]:
    """A corpus repository: the sample corpus, committed, with both hooks pinned to HEAD."""
    root, rev = head
    repo = copy_sample(tmp_path_factory.mktemp("corpus-repo") / "corpus")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {root}\n    rev: {rev}\n    hooks:\n"
        "      - id: corpus-check\n      - id: corpus-validate\n"
    )
    assert git(repo, "init", "-q").returncode == 0
    git(repo, "add", "-A")
    assert git(repo, "commit", "-q", "--no-verify", "-m", "sample").returncode == 0
    yield repo


def pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("CORPUS_CONFIG", None)
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_hooks_pass_on_the_sample_and_fail_on_a_planted_error(
    corpus_repo: Path, hooks_home: Path
) -> None:
    start = time.monotonic()
    res = pre_commit(corpus_repo, hooks_home, "install-hooks")
    installed = time.monotonic() - start
    assert res.returncode == 0, res.stdout + res.stderr
    print(f"\npre-commit installed the hooks' environment in {installed:.1f} s")

    res = pre_commit(corpus_repo, hooks_home, "run", "--all-files")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "corpus check (annotations, schemas, gates)" in out
    assert "corpus validate (changed export files)" in out
    assert "Failed" not in out and "_project.json" not in out

    # A region's value.text that no longer matches the text it points into.
    target = sorted((corpus_repo / PULLED / "tasks").glob("*.json"))[3]
    task = orjson.loads(target.read_bytes())
    region = next(
        r
        for a in task["annotations"]
        for r in a["result"]
        if r.get("type") == "labels" and r["value"].get("text")
    )
    region["value"]["text"] = "X" + region["value"]["text"][1:]
    target.write_bytes(orjson.dumps(task, option=orjson.OPT_INDENT_2))
    rel = target.relative_to(corpus_repo).as_posix()
    try:
        res = pre_commit(corpus_repo, hooks_home, "run", "--files", rel)
        out = res.stdout + res.stderr
        assert res.returncode == 1, out
        assert "corpus validate (changed export files)" in out and "Failed" in out
        assert rel in out and "text-mismatch" in out
    finally:
        git(corpus_repo, "checkout", "--", rel)


def test_a_commit_of_a_pulled_project_file_is_not_blocked(
    corpus_repo: Path, hooks_home: Path
) -> None:
    """A pull rewrites `_project.json` beside the tasks: its commit runs corpus-check (which
    passes), and corpus-validate is not handed it."""
    res = pre_commit(corpus_repo, hooks_home, "install")
    assert res.returncode == 0, res.stdout + res.stderr
    meta = corpus_repo / PULLED / "_project.json"
    data = orjson.loads(meta.read_bytes())
    data["label_studio_version"] = data["label_studio_version"] + "+local"
    meta.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    hidden = corpus_repo / "annotations" / ".geonews-annotation.pull-1" / "tasks" / "x.json"
    hidden.parent.mkdir(parents=True)
    hidden.write_text("{ not a task")  # an interrupted pull's leftover: skipped like the walk
    git(corpus_repo, "add", "-A")
    env_home = {"PRE_COMMIT_HOME": str(hooks_home), "PRE_COMMIT_COLOR": "never"}
    res = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-m", "pull"],
        cwd=corpus_repo,
        env={
            **os.environ,
            **env_home,
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "corpus check (annotations, schemas, gates)" in out and "Passed" in out
    assert "corpus validate (changed export files)" in out
    assert "(no files to check)Skipped" in out.replace(".", "")
    shutil.rmtree(hidden.parents[1])
