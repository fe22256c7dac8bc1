"""Kill `corpus ingest` (SIGKILL, at seeded random moments) and check what readers see.

After every kill, build/articles.parquet is either the old table or the new complete one, read
through `store.iter_articles` (pyarrow), never a mix or a torn file. A kill leaves a scratch
folder (`build/.ingest-*`) behind; the next complete run sweeps it and writes the new table.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from corpus_tools.config import load_config
from corpus_tools.ingest import ingest
from corpus_tools.store import iter_articles, sha256_file

REPO = Path(__file__).resolve().parent.parent
KILLS = 8
SEED = 1510
SYNTHETIC = 600  # articles: a run takes 1-3 s (imports included)


def _bench_ingest() -> object:
    spec = importlib.util.spec_from_file_location(
        "bench_ingest", REPO / "scripts" / "bench_ingest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _corpus_cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", "from corpus_tools.cli import main; main()", *args]


def _start(corpus: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], float]:
    """Start `corpus ingest -q` in `corpus`; return once its scratch folder exists (its own:
    a killed run's folder may be there already, and a kill before the new run's lock file
    exists would leave a folder that only ages out of the sweep, GRACE seconds later)."""
    t0 = time.monotonic()
    build = corpus / "build"
    before = set(build.glob(".ingest-*")) if build.is_dir() else set()
    proc = subprocess.Popen(
        _corpus_cmd("ingest", "-q"),
        cwd=corpus,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not (
        build.is_dir() and set(build.glob(".ingest-*/.lock")) - {f / ".lock" for f in before}
    ):
        assert proc.poll() is None, "ingest ended before it made its scratch folder"
        assert time.monotonic() - t0 < 120
        time.sleep(0.005)
    return proc, time.monotonic() - t0


def _ids(parquet: Path) -> list[str]:
    return [a.article_id for a in iter_articles(parquet)]


def _leftovers(build: Path) -> list[str]:
    return sorted(p.name for p in build.iterdir() if p.name.startswith("."))


def test_killed_ingest_leaves_the_old_table_or_the_new(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy2(REPO / "corpus.toml", corpus / "corpus.toml")
    shutil.copytree(REPO / "articles", corpus / "articles")
    build = corpus / "build"
    parquet = build / "articles.parquet"
    ingest(config=load_config(corpus / "corpus.toml"))
    old_bytes = parquet.read_bytes()
    old_hash, old_ids = sha256_file(parquet), _ids(parquet)

    _bench_ingest().generate(corpus / "articles" / "synthetic", SYNTHETIC)  # type: ignore[attr-defined]
    reference = tmp_path / "reference"
    shutil.copytree(corpus, reference)
    env = {k: v for k, v in os.environ.items() if k != "CORPUS_DEBUG"}
    proc, _ = _start(reference, env)
    t0 = time.monotonic()
    assert proc.wait(timeout=120) == 0
    work = time.monotonic() - t0  # from the scratch folder's appearance to the end
    new_hash = sha256_file(reference / "build" / "articles.parquet")
    new_ids = _ids(reference / "build" / "articles.parquet")
    assert new_hash != old_hash and len(new_ids) > len(old_ids)

    rng = random.Random(SEED)
    outcomes = []
    for _ in range(KILLS):
        proc, _ = _start(corpus, env)
        time.sleep(rng.uniform(0.0, 1.1) * work)  # anywhere in the work, or just after it
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        found = sha256_file(parquet)
        assert found in (old_hash, new_hash), "a torn or mixed articles table"
        assert _ids(parquet) == (old_ids if found == old_hash else new_ids)
        outcomes.append(("killed" if proc.returncode < 0 else "done", found == new_hash))
        if found == new_hash:  # put the old table back, so the next kill tests the swap again
            (build / "restore.tmp").write_bytes(old_bytes)
            os.replace(build / "restore.tmp", parquet)
    assert ("killed", False) in outcomes, outcomes

    # One more kill as soon as the scratch folder exists, so that there is surely a killed
    # run's scratch; the next complete run recovers, sweeps it, and writes the new table.
    proc, _ = _start(corpus, env)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert sha256_file(parquet) == old_hash
    assert any(n.startswith(".ingest-") for n in _leftovers(build))
    res = subprocess.run(
        _corpus_cmd("ingest", "--json"), cwd=corpus, env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert "stale-scratch-swept" in [f["slug"] for f in report["findings"]]
    assert sha256_file(parquet) == new_hash
    assert _leftovers(build) == []
