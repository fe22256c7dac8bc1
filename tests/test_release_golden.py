"""Release output pinned to goldens recorded from the code before the issue 13 speed-up.

The files in tests/data/release-golden/ were written by `make_goldens()` below, run against the
release code as it was before the build was rewritten for speed (issue 13: garbage collector
frozen during the build, columnar rows instead of `from_pylist` of dicts, no private `datasets`
API for the card). They hold the sha256 of every file of release 1.0.0 of three corpora:

- `sample`: the repository's sample corpus after `corpus ingest` and `corpus adjudicate`;
- `tricky`: the release tests' corpus (tests/release_corpus.py: emoji, non-BMP letters, CRLF,
  combining accents, claims, two annotators);
- `synthetic`: a corpus of a few hundred articles from the release benchmark's seeded generator
  (scripts/bench_release.py `make_corpus`).

Every Parquet file and the card must stay byte-identical. The manifest records the tool's and
Python's versions (`tool`), so its bytes are compared whole only when those are the recorded
ones; its content without `tool` is always compared. The files are byte-reproducible only with
the pinned libraries (constraints/release.txt), so the test is skipped under other versions.
The inputs (articles table, gold records) are checked first, so a change made upstream (ingest,
adjudicate) is reported as such. Regenerate only for a deliberate change of output
(`python tests/test_release_golden.py`), never to make a test pass.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest

from corpus_tools.config import load_config
from corpus_tools.release import build_release, versions

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "data" / "release-golden"
SYNTHETIC_N = 300
VERSION = "1.0.0"
CORPORA = ("sample", "tricky", "synthetic")


@cache
def _bench() -> ModuleType:
    """scripts/bench_release.py as a module (its seeded synthetic-corpus generator)."""
    if str(REPO / "scripts") not in sys.path:
        sys.path.insert(0, str(REPO / "scripts"))  # where it imports `_bench` from
    spec = importlib.util.spec_from_file_location(
        "bench_release", REPO / "scripts/bench_release.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _corpus(root: Path, name: str) -> Path:
    """The named corpus at `root`, ready for `corpus release`."""
    if name == "sample":
        from conftest import copy_sample, run_cli

        copy_sample(root)
        for cmd in ("ingest", "adjudicate"):
            code, out = run_cli(cmd, "-c", str(root / "corpus.toml"), cwd=root)
            assert code == 0, out
    elif name == "tricky":
        from tests.release_corpus import build_corpus

        build_corpus(root, REPO)
    else:
        root.mkdir(parents=True)
        _bench().make_corpus(root, SYNTHETIC_N)
    return root


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _outputs(root: Path) -> dict[str, Any]:
    """Hashes of the inputs and of every file of release VERSION built from `root`."""
    inputs = {
        rel: _sha((root / rel).read_bytes())
        for rel in ("build/articles.parquet", "build/gold.jsonl", "build/disputes.json")
        if (root / rel).is_file()
    }
    result = build_release(config=load_config(root / "corpus.toml"), version=VERSION)
    folder = Path(result.path)
    files = {
        p.relative_to(folder).as_posix(): _sha(p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    tool = manifest.pop("tool")
    return {
        "inputs": inputs,
        "tool": tool,
        "manifest_without_tool": _sha(orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS)),
        "files": files,
    }


def _golden(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("name", CORPORA)
def test_release_matches_the_golden(name: str, tmp_path: Path) -> None:
    want = _golden(name)
    if versions.library_versions() != want["tool"]["libraries"]:
        pytest.skip("byte goldens hold for the pinned libraries (constraints/release.txt)")
    got = _outputs(_corpus(tmp_path / name, name))
    assert got["inputs"] == want["inputs"], "the release's inputs changed (ingest/adjudicate)"
    assert got["manifest_without_tool"] == want["manifest_without_tool"]
    if got["tool"] != want["tool"]:  # another corpus-tools or Python version: in the manifest
        want["files"].pop("manifest.json")
        got["files"].pop("manifest.json")
    assert sorted(got["files"]) == sorted(want["files"])
    for file, digest in want["files"].items():
        assert got["files"][file] == digest, file


def test_goldens_cover_every_config_with_rows() -> None:
    """The goldens exercise every config: each has a non-empty Parquet file somewhere."""
    seen = {
        file.split("/")[1]
        for name in CORPORA
        for file in _golden(name)["files"]
        if file.startswith("data/")
    }
    assert seen == {"entities", "stance", "claims", "articles", "annotations"}


def make_goldens(work: Path) -> None:
    """Write the golden files from the current code (see the module docstring)."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name in CORPORA:
        out = _outputs(_corpus(work / name, name))
        text = json.dumps(out, indent=1, sort_keys=True)
        (GOLDEN / f"{name}.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    import tempfile

    sys.path[:0] = [str(REPO), str(Path(__file__).parent)]
    with tempfile.TemporaryDirectory() as tmp:
        make_goldens(Path(tmp))
    sys.exit(0)
