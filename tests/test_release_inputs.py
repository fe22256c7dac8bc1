"""The release's first pass (ids and story ids only, read column by column) refuses a bad
articles table as the full read does: missing, not Parquet, without the articles columns, or
with a duplicate article id; nothing is written."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools import store
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


def test_labels_of_articles_not_in_the_table_are_reported(config: CorpusConfig) -> None:
    """Annotations and gold records of an article the table no longer has are reported
    (`unknown-article`, by sorted id) and not released; the other articles are."""
    arts = list(store.iter_articles(config.paths.articles_parquet))
    gone = sorted({arts[0].article_id, arts[3].article_id})
    write_articles(config.paths.articles_parquet, [a for a in arts if a.article_id not in gone])
    gold_ids = {
        orjson.loads(line)["article_id"]
        for line in (config.paths.build / "gold.jsonl").read_bytes().splitlines()
        if line.strip()
    }
    result = build_release(config=config, version="0.1.0")
    unknown = [f for f in result.findings if f.slug == "unknown-article"]
    assert [f.task_id for f in unknown if f.message.startswith("annotations")] == gone
    assert gold_ids & set(gone)  # the corpus has gold for one of them at least
    assert [f.task_id for f in unknown if f.message.startswith("a gold record")] == [
        a for a in gone if a in gold_ids
    ]
    assert sum(result.counts["articles"].values()) == len(arts) - len(gone)


def test_a_table_changed_between_the_passes_is_refused(
    config: CorpusConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second pass reads the articles the first pass assigned splits to, in that order;
    anything else (the table rewritten meanwhile) refuses the release."""
    from corpus_tools.release import build

    real = build._iter_articles
    monkeypatch.setattr(build, "_iter_articles", lambda path: list(real(path))[1:])
    refused(config, DataError, "the table changed while the release was built")
