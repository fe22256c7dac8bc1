"""Paths in "wrote PATH" messages are where the user is (issue 15, point 4).

Each command is run with `-c` from three working folders: the corpus's parent (the path is
shown relative to it), a folder inside the corpus that does not hold the output (absolute), and
a folder outside the corpus (absolute). The path printed must name, from that working folder,
the very file the command wrote (checked by its bytes changing), and never be relative to the
corpus root.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import CliRun, copy_gold


def _printed(output: str, pattern: str) -> list[str]:
    found = re.findall(pattern, output)
    assert found, output
    return found


@pytest.fixture
def corpus(sample_gold: Path, tmp_path: Path) -> Path:
    (tmp_path / "work").mkdir()
    return copy_gold(sample_gold, tmp_path / "work" / "corpus")


def _where(corpus: Path, tmp_path: Path) -> dict[str, Path]:
    inside = corpus / "articles"
    outside = tmp_path / "elsewhere"
    outside.mkdir(exist_ok=True)
    return {"parent": corpus.parent, "inside": inside, "outside": outside}


def _check(cwd: Path, printed: str, expected: Path, kind: str) -> None:
    if kind == "parent":
        assert not os.path.isabs(printed), printed
        assert printed == os.path.relpath(expected, cwd).replace(os.sep, "/")
    else:
        assert os.path.isabs(printed), printed
    assert (cwd / printed).resolve() == expected.resolve()


@pytest.mark.parametrize("kind", ["parent", "inside", "outside"])
def test_wrote_paths_from_another_folder(
    corpus: Path, tmp_path: Path, cli: CliRun, kind: str
) -> None:
    cwd = _where(corpus, tmp_path)[kind]
    cfg = str(corpus / "corpus.toml")
    table = corpus / "build" / "articles.parquet"
    table.unlink()

    r = cli("ingest", "-q", "-c", cfg, cwd=cwd)
    assert r.exit_code == 0, r.output
    (p,) = _printed(r.output, r"wrote (\S+)\n")
    _check(cwd, p, table, kind)

    r = cli("tasks", "--no-preannotate", "-c", cfg, cwd=cwd)
    assert r.exit_code == 0, r.output
    (p,) = _printed(r.output, r"wrote \d+ tasks to (\S+)\n")
    _check(cwd, p, corpus / "build" / "tasks.json", kind)

    gold = corpus / "build" / "gold.jsonl"
    gold.unlink()
    r = cli("adjudicate", "-c", cfg, cwd=cwd)
    assert r.exit_code == 0, r.output
    g, d = _printed(r.output, r"→ (\S+)")
    _check(cwd, g, gold, kind)
    assert gold.exists()
    _check(cwd, d, corpus / "build" / "disputes.json", kind)

    (corpus / "schemas" / "labeling-config.xml").unlink()
    r = cli("schemas", "-c", cfg, cwd=cwd)
    assert r.exit_code == 0, r.output
    (p,) = _printed(r.output, r"wrote (\S+)\n")
    _check(cwd, p, corpus / "schemas" / "labeling-config.xml", kind)

    r = cli(
        "agree",
        "--bootstrap",
        "0",
        "--markdown",
        str(corpus / "build" / "a.md"),
        "-c",
        cfg,
        cwd=cwd,
    )
    assert r.exit_code == 0, r.output
    (p,) = _printed(r.output, r"wrote (\S+)\n")
    _check(cwd, p, corpus / "build" / "a.md", kind)


def test_out_relative_to_the_working_folder(corpus: Path, tmp_path: Path, cli: CliRun) -> None:
    """--out is the user's path: relative to where they are, shown as they would type it."""
    cwd = _where(corpus, tmp_path)["outside"]
    r = cli("ingest", "-q", "-c", str(corpus / "corpus.toml"), "--out", "t.parquet", cwd=cwd)
    assert r.exit_code == 0, r.output
    assert "wrote t.parquet\n" in r.output
    assert (cwd / "t.parquet").exists()


def test_init_names_what_it_created(tmp_path: Path, cli: CliRun) -> None:
    (tmp_path / "a").mkdir()
    r = cli("init", "a/new", cwd=tmp_path)
    assert r.exit_code == 0, r.output
    created = _printed(r.output, r"created (\S+)\n")
    assert created and all(p.startswith("a/new/") and (tmp_path / p).exists() for p in created)
    r = cli("init", str(tmp_path / "b"), cwd=tmp_path / "a")
    assert r.exit_code == 0, r.output
    created = _printed(r.output, r"created (\S+)\n")
    assert all(os.path.isabs(p) and Path(p).exists() for p in created)
