"""One version, one dataset, everywhere (issue 10 point 3, issue 15 point 2).

A version published anywhere (the local hub folder, or the Hub as recorded locally) is refused
by `corpus release`, `corpus publish` and `corpus pipeline` when its content would differ, with
the same words; identical content is "already published (identical files)", exit 0; an
unpublished build may be rebuilt and says so. dist/X is only touched once that is known, and
is swapped in atomically for readers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from corpus_tools import store
from corpus_tools.release import versions
from tests.hub_double import HubDouble
from tests.release_corpus import (
    build_corpus,
    make_article,
    with_more_articles,
)

pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")
REPO_ID = "example-org/geonews"
REFUSED = "is already published at"
IDENTICAL = "already published (identical files)"


@pytest.fixture
def corpus(tmp_path: Path, repo_root: Path) -> Path:
    root = tmp_path / "corpus"
    build_corpus(root, repo_root)
    return root


def change_inputs(corpus: Path, repo_root: Path, n: int = 1) -> None:
    """The same version's inputs, changed: `n` more articles (new stories), re-adjudicated."""
    extra = [
        make_article(f"extra-{i}", f"Report {i}: Iran and Russia met in Doha.", f"x-{i}")
        for i in range(n)
    ]
    with_more_articles(corpus, repo_root, extra)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_release_refuses_a_locally_published_version_with_other_content(
    cli: Any, corpus: Path, repo_root: Path
) -> None:
    assert cli("release", "0.1.0", "--publish", cwd=corpus).exit_code == 0
    dist = snapshot(corpus / "dist/0.1.0")
    change_inputs(corpus, repo_root)
    res = cli("release", "0.1.0", cwd=corpus)
    assert res.exit_code == 2, res.stdout
    assert f"version v0.1.0 {REFUSED} the local hub folder hub/geonews/v0.1.0" in res.stderr
    assert "Bump the version" in res.stderr and "0.1.1" in res.stderr
    assert snapshot(corpus / "dist/0.1.0") == dist  # dist/X not touched
    assert not list((corpus / "dist").glob(".*.tmp"))
    # The next version is fine.
    assert cli("release", "0.1.1", "--publish", cwd=corpus).exit_code == 0


def test_a_hub_publication_is_remembered_by_release_and_local_publish(
    cli: Any, corpus: Path, repo_root: Path, hub: HubDouble
) -> None:
    res = cli("release", "0.1.0", "--publish", "--target", "hub", "--endpoint", hub.url, cwd=corpus)
    assert res.exit_code == 0, res.stderr
    commit = hub.repos[REPO_ID].tags["v0.1.0"]
    dist = snapshot(corpus / "dist/0.1.0")
    change_inputs(corpus, repo_root)
    # `release` never talks to a server: it knows from the local publication record.
    res = cli("release", "0.1.0", cwd=corpus)
    assert res.exit_code == 2, res.stdout
    assert f"version v0.1.0 {REFUSED} the Hub ({REPO_ID}, commit {commit[:12]})" in res.stderr
    assert snapshot(corpus / "dist/0.1.0") == dist
    # Identical content is fine everywhere: rebuilding the old inputs, publishing again.
    shutil.rmtree(corpus / "dist")
    shutil.rmtree(corpus / "annotations")
    build_corpus(corpus, repo_root)
    res = cli("release", "0.1.0", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    assert IDENTICAL in res.stdout
    res = cli("publish", "0.1.0", "--target", "hub", "--endpoint", hub.url, cwd=corpus)
    assert res.exit_code == 0, res.stderr
    assert f"v0.1.0 {IDENTICAL} at the Hub ({REPO_ID}" in res.stdout
    assert len(hub.repos[REPO_ID].commits) == 2  # nothing new committed


def test_hub_refuses_what_the_local_hub_folder_published_differently(
    cli: Any, corpus: Path, repo_root: Path, hub: HubDouble
) -> None:
    """Yesterday's state: hub/geonews/v0.1.0 holds one dataset, dist/0.1.0 another."""
    assert cli("release", "0.1.0", "--publish", cwd=corpus).exit_code == 0
    published = corpus / "hub/geonews/v0.1.0"
    saved = corpus.parent / "saved"
    shutil.copytree(published, saved)
    for p in published.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.rmtree(published)
    (corpus / "hub/geonews/publications.json").unlink()  # (no record was kept then)
    change_inputs(corpus, repo_root)
    assert cli("release", "0.1.0", cwd=corpus).exit_code == 0  # unpublished again: rebuilt
    shutil.copytree(saved, published)  # ... and the old v0.1.0 comes back
    res = cli("publish", "0.1.0", "--target", "hub", "--endpoint", hub.url, cwd=corpus)
    assert res.exit_code == 2
    assert f"version v0.1.0 {REFUSED} the local hub folder hub/geonews/v0.1.0" in res.stderr
    assert REPO_ID not in hub.repos


def test_identical_republish_is_the_same_answer_everywhere(cli: Any, corpus: Path) -> None:
    first = cli("release", "0.1.0", "--publish", cwd=corpus)
    assert first.exit_code == 0, first.stderr
    again = cli("release", "0.1.0", "--publish", cwd=corpus)
    assert again.exit_code == 0, again.stderr
    line = f"v0.1.0 {IDENTICAL} at the local hub folder hub/geonews/v0.1.0"
    assert line in again.stdout
    pub = cli("publish", "0.1.0", cwd=corpus)
    assert pub.exit_code == 0, pub.stderr
    assert line in pub.stdout
    js = cli("publish", "0.1.0", "--json", cwd=corpus)
    assert json.loads(js.stdout)["already_published"] is True


def test_an_unpublished_build_is_rebuilt_and_says_so(
    cli: Any, corpus: Path, repo_root: Path
) -> None:
    res = cli("release", "0.1.0", "--json", cwd=corpus)
    assert json.loads(res.stdout)["status"] == "built"
    change_inputs(corpus, repo_root)
    res = cli("release", "0.1.0", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    assert "rebuilt dist/0.1.0 (not published yet; previous build replaced)" in res.stdout
    change_inputs(corpus, repo_root, n=2)
    res = cli("release", "0.1.0", "--json", cwd=corpus)
    assert json.loads(res.stdout)["status"] == "rebuilt"
    # The same files as the build already there: nothing replaced worth saying.
    res = cli("release", "0.1.0", "--json", cwd=corpus)
    assert json.loads(res.stdout)["status"] == "built"


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]"])
def test_unreadable_manifest_of_a_previous_release(cli: Any, corpus: Path, content: bytes) -> None:
    assert cli("release", "0.1.0", cwd=corpus).exit_code == 0
    (corpus / "dist/0.1.0/manifest.json").write_bytes(content)
    before = sorted(p.name for p in (corpus / "dist").iterdir())
    res = cli("release", "0.2.0", cwd=corpus)
    assert res.exit_code == 2
    assert "dist/0.1.0/manifest.json: unreadable manifest of release 0.1.0" in res.stderr
    assert "Traceback" not in res.stderr
    assert sorted(p.name for p in (corpus / "dist").iterdir()) == before


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"files": 3}'])
def test_unreadable_manifest_of_the_build_to_publish(
    cli: Any, corpus: Path, content: bytes
) -> None:
    assert cli("release", "0.1.0", cwd=corpus).exit_code == 0
    (corpus / "dist/0.1.0/manifest.json").write_bytes(content)
    res = cli("publish", "0.1.0", cwd=corpus)
    assert res.exit_code == 2
    assert "dist/0.1.0/manifest.json: unreadable manifest" in res.stderr
    assert not (corpus / "hub/geonews/v0.1.0").exists()


def test_unreadable_manifest_of_the_published_version(cli: Any, corpus: Path) -> None:
    assert cli("release", "0.1.0", "--publish", cwd=corpus).exit_code == 0
    dist = snapshot(corpus / "dist/0.1.0")
    manifest = corpus / "hub/geonews/v0.1.0/manifest.json"
    manifest.chmod(0o644)
    manifest.write_bytes(b"")
    res = cli("release", "0.1.0", cwd=corpus)
    assert res.exit_code == 2
    assert "hub/geonews/v0.1.0/manifest.json" in res.stderr
    assert snapshot(corpus / "dist/0.1.0") == dist


def test_stale_temp_folders_are_swept(cli: Any, corpus: Path) -> None:
    assert cli("release", "0.1.0", "--publish", cwd=corpus).exit_code == 0
    stale = [
        corpus / "dist/.0.2.0.abc123.tmp",
        corpus / "hub/geonews/.v0.2.0.abc123.tmp",
    ]
    for folder in stale:
        (folder / "release/data").mkdir(parents=True)
        (folder / "release/data/x.parquet").write_bytes(b"PAR1")
    (corpus / "hub/geonews/.publications.json.x1.tmp").write_bytes(b"{")
    assert cli("release", "0.2.0", "--publish", cwd=corpus).exit_code == 0
    assert not [p for p in (corpus / "dist").iterdir() if p.name.endswith(".tmp")]
    assert not [p for p in (corpus / "hub/geonews").iterdir() if p.name.endswith(".tmp")]


def test_a_running_release_holds_the_folder(cli: Any, corpus: Path) -> None:
    """Another process's live run (holding the lease) is neither disturbed nor swept."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(corpus / "dist")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        (corpus / "dist/.0.1.0.live.tmp").mkdir()  # the holder's work in progress
        res = cli("release", "0.1.0", cwd=corpus)
        assert res.exit_code == 2
        assert "another `corpus release` or `corpus publish` is using" in res.stderr
        assert (corpus / "dist/.0.1.0.live.tmp").is_dir()
        assert not (corpus / "dist/0.1.0").exists()
    finally:
        holder.kill()
        holder.wait()
    # The holder died: its lease went with it, and its temporary folder is swept.
    assert cli("release", "0.1.0", cwd=corpus).exit_code == 0
    assert not (corpus / "dist/.0.1.0.live.tmp").exists()


HOLD = """
import sys, time
from pathlib import Path
from corpus_tools.release.versions import Lease
lease = Lease(Path(sys.argv[1]))
print("held", flush=True)
time.sleep(120)
"""


def test_swap_has_no_window_where_the_release_is_missing(tmp_path: Path) -> None:
    final = tmp_path / "0.1.0"
    final.mkdir()
    (final / "manifest.json").write_text("old")
    missing: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            if not os.path.exists(final / "manifest.json"):
                missing.append(1)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(300):
            work = tmp_path / f".0.1.0.{i}.tmp"
            (work / "release").mkdir(parents=True)
            (work / "release" / "manifest.json").write_text(str(i))
            store.swap_in(work / "release", final, work / "old")
            shutil.rmtree(work)
    finally:
        stop.set()
        t.join()
    assert (final / "manifest.json").read_text() == "299"
    assert missing == []


# -- point 4: reproducible, honestly scoped ------------------------------------------------


def constraint_pins(repo_root: Path) -> dict[str, str]:
    pins = {}
    for line in (repo_root / versions.CONSTRAINTS_FILE).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name] = version
    return pins


def test_manifest_records_the_versions_that_shape_the_bytes(cli: Any, corpus: Path) -> None:
    from importlib import metadata

    res = cli("release", "0.1.0", "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    tool = json.loads((corpus / "dist/0.1.0/manifest.json").read_text())["tool"]
    assert tool["name"] == "corpus-tools" and tool["version"] == metadata.version("corpus-tools")
    assert tool["python"] == ".".join(map(str, sys.version_info[:3]))
    assert set(tool["libraries"]) >= {"pyarrow", "datasets", "orjson"}
    for name, have in tool["libraries"].items():
        assert have == metadata.version(name)
    # This environment was installed with the pins (scripts/setup.sh): no warning.
    findings = json.loads(res.stdout)["findings"]
    assert not [f for f in findings if f["slug"] == "unpinned-library"]


def test_pins_are_the_constraints_file(repo_root: Path) -> None:
    assert constraint_pins(repo_root) == versions.RELEASE_PINS
    setup = (repo_root / "scripts/setup.sh").read_text()
    assert f"-c {versions.CONSTRAINTS_FILE}" in setup


def test_a_build_with_other_library_versions_says_so(
    cli: Any, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from importlib import metadata

    monkeypatch.setitem(versions.RELEASE_PINS, "pyarrow", "1.0.0")
    res = cli("release", "0.1.0", "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    found = [f for f in json.loads(res.stdout)["findings"] if f["slug"] == "unpinned-library"]
    assert [f["severity"] for f in found] == ["warning"]
    assert f"pyarrow {metadata.version('pyarrow')} is installed" in found[0]["message"]
    assert "pyarrow==1.0.0" in found[0]["message"]
    assert "unpinned-library" in (corpus / "dist/0.1.0/README.md").read_text()


def test_manifest_files_are_read_without_the_article_rows(corpus: Path, tmp_path: Path) -> None:
    """`_intact` reads a manifest's `files` past its article rows (memory flat); the same
    dict as parsing it whole, for a built release, a manifest with no article rows, and a
    manifest of another layout (parsed whole); a torn manifest is still not intact."""
    import orjson

    from corpus_tools.config import load_config
    from corpus_tools.release import build

    cfg = load_config(corpus / "corpus.toml")
    folder = Path(build.build_release(config=cfg, version="0.1.0").path)
    path = folder / versions.MANIFEST
    whole = orjson.loads(path.read_bytes())
    assert len(whole["articles"]) > 1 and whole["files"]
    assert versions._manifest_files(path) == whole["files"]
    rest = {k: v for k, v in whole.items() if k != "articles"}
    build.write_manifest(tmp_path / "empty.json", rest, [])
    assert versions._manifest_files(tmp_path / "empty.json") == whole["files"]
    (tmp_path / "compact.json").write_bytes(orjson.dumps(whole))
    assert versions._manifest_files(tmp_path / "compact.json") == whole["files"]
    assert versions._intact(folder)
    path.write_bytes(path.read_bytes()[:-40])
    assert not versions._intact(folder)
