"""The release's first pass (ids and story ids only, read column by column) refuses a bad
articles table as the full read does: missing, not Parquet, without the articles columns, or
with a duplicate article id; nothing is written."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools.config import CorpusConfig
from corpus_tools.errors import DataError, UsageError
from corpus_tools.release import build_release
from tests.release_corpus import build_corpus, tricky_articles, write_articles


@pytest.fixture
def config(tmp_path: Path, repo_root: Path) -> CorpusConfig:
    cfg, _ = build_corpus(tmp_path / "c", repo_root)
    return cfg


def refused(config: CorpusConfig, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        build_release(config=config, version="0.1.0")
    assert not (config.paths.dist / "0.1.0").exists()


def test_missing_table(config: CorpusConfig) -> None:
    config.paths.articles_parquet.unlink()
    refused(config, UsageError, "no articles table")


def test_not_parquet(config: CorpusConfig) -> None:
    config.paths.articles_parquet.write_bytes(b"not parquet at all")
    refused(config, DataError, "not a readable Parquet file")


def test_without_the_articles_columns(config: CorpusConfig) -> None:
    pq.write_table(pa.table({"article_id": ["a"]}), config.paths.articles_parquet)
    refused(config, DataError, "not an articles table")


def test_duplicate_article_id(config: CorpusConfig) -> None:
    arts = tricky_articles()
    write_articles(config.paths.articles_parquet, [*arts, arts[2]])
    refused(config, DataError, f"duplicate article_id {arts[2].article_id}")
