"""`corpus init`: a new corpus repository that works with the installed package alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import REPO, CliRun

from corpus_tools.config import load_config
from corpus_tools.errors import UsageError
from corpus_tools.scaffold import corpus_name, init_corpus


def test_init_then_ingest_on_an_empty_corpus(cli: CliRun, tmp_path: Path) -> None:
    result = cli("init", "my-news", cwd=tmp_path)
    assert result.exit_code == 0, result.stdout + result.stderr
    root = tmp_path / "my-news"
    for rel in ("corpus.toml", "README.md", ".gitignore", "articles", "annotations"):
        assert (root / rel).exists(), rel
    cfg = load_config(root / "corpus.toml")
    assert cfg.name == "my-news"
    assert cfg.pretty_name == "My News"
    assert cfg.paths.articles == (root / "articles").resolve()
    assert "My News" in (root / "README.md").read_text(encoding="utf-8")
    assert (root / "corpus.toml").stat().st_mode & 0o777 == 0o644

    result = cli("ingest", cwd=root)
    assert result.exit_code == 0
    assert "nothing to ingest" in result.stdout
    assert pq.read_table(root / "build" / "articles.parquet").num_rows == 0

    result = cli("schemas", "--check", cwd=root)
    assert result.exit_code == 0, result.stdout


def test_init_corpus_ingests_articles(cli: CliRun, tmp_path: Path, repo_root: Path) -> None:
    report = init_corpus(directory=tmp_path / "c", name="seeds", pretty_name="Seed “news” 😀")
    assert "corpus.toml" in report.created
    for seed in ("000_0d9cd822c3ba238f.txt", "002_8995198625a47cb8.txt"):
        shutil.copy2(repo_root / "articles" / seed, tmp_path / "c" / "articles" / seed)
    result = cli("ingest", "--json", cwd=tmp_path / "c")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert (out["articles"], out["stories"]) == (2, 1)
    assert load_config(tmp_path / "c" / "corpus.toml").pretty_name == "Seed “news” 😀"


def test_init_json_equals_library(cli: CliRun, tmp_path: Path) -> None:
    result = cli("init", "a", "--name", "alpha", "--json", cwd=tmp_path)
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["name"] == "alpha" and out["root"] == "a"
    lib = init_corpus(directory=tmp_path / "b", name="alpha")
    assert out["created"] == list(lib.created)


def test_init_refuses_an_existing_corpus(cli: CliRun, tmp_path: Path) -> None:
    assert cli("init", "x", cwd=tmp_path).exit_code == 0
    before = (tmp_path / "x" / "corpus.toml").read_bytes()
    result = cli("init", "x", cwd=tmp_path)
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert (tmp_path / "x" / "corpus.toml").read_bytes() == before


def test_init_rejects_a_bad_name(cli: CliRun, tmp_path: Path) -> None:
    result = cli("init", "y", "--name", "Bad Name", cwd=tmp_path)
    assert result.exit_code == 2
    assert "not a valid corpus name" in result.stderr
    assert not (tmp_path / "y" / "corpus.toml").exists()
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="is a file"):
        init_corpus(directory=tmp_path / "file")


@pytest.mark.parametrize(
    ("folder", "name"),
    [("My News 2024", "my-news-2024"), ("geo_news", "geo_news"), ("---", "corpus")],
)
def test_corpus_name_from_folder(tmp_path: Path, folder: str, name: str) -> None:
    assert corpus_name(tmp_path / folder) == name


def test_init_from_label_config_json_equals_library(cli: CliRun, tmp_path: Path) -> None:
    config = REPO / "tests" / "data" / "label-configs" / "own-claim.xml"
    result = cli("init", "a", "--from-label-config", str(config), "--json", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    lib = init_corpus(directory=tmp_path / "b", label_config=config.read_text(encoding="utf-8"))
    assert out["created"] == list(lib.created)
    assert "label-config.original.xml" in out["created"]
    a = (tmp_path / "a" / "corpus.toml").read_text(encoding="utf-8")
    assert a == (tmp_path / "b" / "corpus.toml").read_text(encoding="utf-8").replace(
        '"b"', '"a"'
    ).replace('"B"', '"A"')
    assert load_config(tmp_path / "a" / "corpus.toml").scheme.names.entities == "spans"


def test_default_init_writes_no_names(tmp_path: Path) -> None:
    init_corpus(directory=tmp_path / "d")
    text = (tmp_path / "d" / "corpus.toml").read_text(encoding="utf-8")
    assert "[scheme.names]" not in text and "label-config.original.xml" not in text
    assert not (tmp_path / "d" / "label-config.original.xml").exists()
