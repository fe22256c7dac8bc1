"""Kill `corpus release` at random moments (SIGKILL, seeded) and check what a reader finds.

A real `corpus release 0.1.0` runs in a subprocess on a synthetic corpus, its inputs switched
between two variants so that every run that gets to the end replaces the build. After each
kill, `dist/0.1.0` must be one complete build (every file's checksum matches its manifest,
`publish.verify_release`), the old or the new, never a mix, never missing; the killed run may
leave its temporary folder, which the next run sweeps.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from corpus_tools.publish import verify_release
from tests.release_corpus import TRICKY, build_corpus, make_article

SEED = 20261130
KILLS = 8
ARTICLES = 100
INPUTS = ("build/articles.parquet", "build/gold.jsonl", "build/disputes.json", "annotations")
RELEASE = ("-c", "from corpus_tools.cli import main; main()", "release", "0.1.0", "-q")


def make_variant(root: Path, repo_root: Path, keep: Path, extra: int) -> None:
    """A corpus at `root`; its inputs also saved under `keep` (to be switched back in)."""
    arts = [
        make_article(f"a-{i:05d}", f"{TRICKY[i % len(TRICKY)]} Item {i}.", f"s-{i // 3}")
        for i in range(ARTICLES + extra)
    ]
    if (root / "annotations").exists():
        shutil.rmtree(root / "annotations")
    build_corpus(root, repo_root, arts)
    for name in INPUTS:
        src, dst = root / name, keep / name
        if src.is_dir():
            shutil.copytree(src, dst)
        elif src.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)


def use_variant(root: Path, keep: Path) -> None:
    for name in INPUTS:
        src, dst = keep / name, root / name
        if dst.is_dir():
            shutil.rmtree(dst)
        elif dst.exists():
            dst.unlink()
        if src.is_dir():
            shutil.copytree(src, dst)
        elif src.exists():
            shutil.copy2(src, dst)


def run_release(root: Path, kill_after: float | None = None) -> tuple[int, float]:
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, *RELEASE],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "CORPUS_CONFIG": str(root / "corpus.toml")},
    )
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, -signal.SIGKILL), err.decode()[-2000:]
    return proc.returncode, time.monotonic() - start


def temp_folders(dist: Path) -> list[str]:
    return sorted(
        p.name for p in dist.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")
    )


def test_killed_release_leaves_the_old_or_the_new_build(tmp_path: Path, repo_root: Path) -> None:
    root = tmp_path / "corpus"
    variants = [tmp_path / "inputs-a", tmp_path / "inputs-b"]
    make_variant(root, repo_root, variants[1], extra=7)
    make_variant(root, repo_root, variants[0], extra=0)
    dist = root / "dist"
    final = dist / "0.1.0"

    code, full = run_release(root)  # variant A, complete: the old build
    assert code == 0
    seen = {(final / "manifest.json").read_bytes()}
    states: list[bytes] = []
    rng = random.Random(SEED)
    killed_mid_build = 0
    for i in range(KILLS):
        use_variant(root, variants[(i + 1) % 2])
        # Most of a run's first part is Python starting up; aim at the build and the swap.
        code, _ = run_release(root, kill_after=rng.uniform(0.4 * full, 1.1 * full))
        assert final.is_dir(), f"kill {i}: dist/0.1.0 is missing"
        manifest = verify_release(final)  # every file matches its manifest: no mix
        assert manifest["version"] == "0.1.0"
        states.append((final / "manifest.json").read_bytes())
        if code != 0 and temp_folders(dist):
            killed_mid_build += 1
    assert killed_mid_build >= 1, "no kill landed while a build was in progress"

    # A complete run of each variant: every state seen was one of the two builds.
    use_variant(root, variants[0])
    assert run_release(root)[0] == 0
    seen.add((final / "manifest.json").read_bytes())
    use_variant(root, variants[1])
    assert run_release(root)[0] == 0  # ... and recovers: the temporary folders are swept
    seen.add((final / "manifest.json").read_bytes())
    assert len(seen) == 2
    assert set(states) <= seen
    assert temp_folders(dist) == []
    verify_release(final)
