"""Ingest output pinned to goldens recorded from the code before the issue 13 speed-up.

The files in tests/data/ingest-golden/ were written by `make_goldens()` below, run against the
ingest code as it was before story clustering, hashing and the worker pool were rewritten for
speed (issue 13). They hold the sha256 of build/articles.parquet and the (article_id, story_id)
list for (a) the sample corpus and (b) a seeded synthetic corpus from the ingest benchmark's
generator, so any change to the stories, links or bytes fails here. Regenerate them only for a
deliberate change of output (`python tests/test_ingest_golden.py`), never to make a test pass.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pyarrow.parquet as pq
import pytest

from corpus_tools.config import load_config
from corpus_tools.ingest import ingest
from corpus_tools.store import sha256_file

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "data" / "ingest-golden"
SYNTHETIC_N = 3000
SYNTHETIC_SEED = 11


@cache
def _bench() -> ModuleType:
    """scripts/bench_ingest.py as a module (its seeded synthetic-corpus generator)."""
    spec = importlib.util.spec_from_file_location("bench_ingest", REPO / "scripts/bench_ingest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _corpus(root: Path, synthetic: bool) -> Path:
    (root / "articles").mkdir(parents=True)
    shutil.copy2(REPO / "corpus.toml", root / "corpus.toml")
    if synthetic:
        _bench().generate(root / "articles" / "synthetic", SYNTHETIC_N, seed=SYNTHETIC_SEED)
    else:
        shutil.copytree(REPO / "articles", root / "articles", dirs_exist_ok=True)
    return root


def _outputs(root: Path, workers: int = 1) -> dict[str, object]:
    report = ingest(config=load_config(root / "corpus.toml"), workers=workers)
    parquet = root / "build" / "articles.parquet"
    table = pq.read_table(parquet, columns=["article_id", "story_id"])
    pairs = [list(p) for p in zip(*table.to_pydict().values(), strict=True)]
    return {
        "sha256": sha256_file(parquet),
        "articles": report.articles,
        "stories": report.stories,
        "duplicates": report.duplicates,
        "story_ids": pairs,
    }


def _golden(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    return data


def test_sample_corpus_matches_the_golden(tmp_path: Path) -> None:
    assert _outputs(_corpus(tmp_path / "c", synthetic=False)) == _golden("sample")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _corpus(tmp_path_factory.mktemp("golden") / "c", synthetic=True)


def test_synthetic_corpus_matches_the_golden(synthetic: Path) -> None:
    got = _outputs(synthetic)
    want = _golden("synthetic")
    # stories first, for a readable failure; then every byte
    assert got["story_ids"] == want["story_ids"]
    assert got == want


def test_synthetic_corpus_with_two_workers_matches_the_golden(synthetic: Path) -> None:
    assert _outputs(synthetic, workers=2) == _golden("synthetic")


def test_golden_synthetic_corpus_has_stories_to_find() -> None:
    """The synthetic golden exercises clustering: many multi-article stories, not all singles."""
    pairs = _golden("synthetic")["story_ids"]
    assert isinstance(pairs, list)
    sizes: dict[str, int] = {}
    for _, story in pairs:
        sizes[story] = sizes.get(story, 0) + 1
    assert sum(1 for s in sizes.values() if s > 1) > SYNTHETIC_N // 20
    assert len(sizes) < len(pairs)


def make_goldens(work: Path) -> None:
    """Write the golden files from the current code (see the module docstring)."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, synth in (("sample", False), ("synthetic", True)):
        out = _outputs(_corpus(work / name, synthetic=synth))
        text = json.dumps(out, indent=None, separators=(",", ":"))
        (GOLDEN / f"{name}.json").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        make_goldens(Path(tmp))
    sys.exit(0)
