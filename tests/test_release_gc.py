"""The release build pauses Python's cyclic garbage collector and always restores it."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from corpus_tools.errors import UsageError
from corpus_tools.release import build
from corpus_tools.release.build import build_release, gc_paused
from tests.release_corpus import build_corpus


def test_gc_paused_restores_the_collector_on_exceptions() -> None:
    assert gc.isenabled()
    with pytest.raises(KeyError), gc_paused():
        assert not gc.isenabled()
        raise KeyError("x")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


def test_the_build_runs_with_the_collector_off_and_restores_it(
    tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = build_corpus(tmp_path / "c", repo_root)
    seen: list[bool] = []
    real = build.collect_young

    def spy() -> None:
        seen.append(gc.isenabled())
        real()

    monkeypatch.setattr(build, "collect_young", spy)
    build_release(config=config, version="0.1.0")
    assert seen == [False]  # one batch of articles, collected once, collector off
    assert gc.isenabled()

    (config.paths.build / "gold.jsonl").unlink()
    with pytest.raises(UsageError):
        build_release(config=config, version="0.2.0")
    assert gc.isenabled()
