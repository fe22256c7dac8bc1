"""`corpus ingest` of an articles table (`.parquet`, format `articles`): what `corpus sample`
writes into the corpus's articles folder comes back as the same articles.

The round trip needs ingest to keep an articles table's rows verbatim under their own
article_id (`ingest.VERBATIM`, beside Label Studio tasks); without it each row would be
cleaned and given an id of its own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools.config import load_config
from corpus_tools.ingest import ingest
from corpus_tools.ingest.readers import format_of, read_file
from corpus_tools.model import Article, RawArticle
from corpus_tools.store import iter_articles

ROOT = Path(__file__).resolve().parent.parent
COMPARED = ("article_id", "text", "text_sha256", "title", "url", "outlet", "published", "source")


def _corpus(root: Path) -> Path:
    (root / "articles").mkdir(parents=True)
    shutil.copy2(ROOT / "corpus.toml", root / "corpus.toml")
    return root


def _by_id(table: Path) -> dict[str, Article]:
    return {a.article_id: a for a in iter_articles(table)}


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's sample articles, ingested from their own formats."""
    root = tmp_path_factory.mktemp("first")
    shutil.copy2(ROOT / "corpus.toml", root / "corpus.toml")
    shutil.copytree(ROOT / "articles", root / "articles")
    ingest(config=load_config(root / "corpus.toml"))
    return root / "build" / "articles.parquet"


# reason for this test: `corpus sample` writes articles tables into the articles folder, and
# ingesting them must not change a single id or character (ingest.VERBATIM)
def test_an_articles_table_comes_back_as_the_same_articles(first: Path, tmp_path: Path) -> None:
    root = _corpus(tmp_path / "again")
    # small row groups, so that the reader goes through several
    pq.write_table(pq.read_table(first), root / "articles" / "pool.parquet", row_group_size=3)
    assert pq.ParquetFile(root / "articles" / "pool.parquet").num_row_groups > 1
    report = ingest(config=load_config(root / "corpus.toml"))
    want, got = _by_id(first), _by_id(root / "build" / "articles.parquet")
    assert report.ok, report.findings
    assert set(got) == set(want) and len(want) > 3
    for aid, a in want.items():
        for key in COMPARED:
            assert getattr(got[aid], key) == getattr(a, key), (aid, key)
        assert got[aid].sentences == a.sentences


def test_rows_are_records_of_their_file_and_row(first: Path, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pq.read_table(first), path, row_group_size=2)
    rows = pq.read_table(first).to_pylist()
    got = list(read_file(path, name="t.parquet", fmt="articles"))
    assert format_of(path) == "articles"
    assert all(isinstance(r, RawArticle) for r in got)
    assert [(r.line, r.id, r.text, r.source) for r in got if isinstance(r, RawArticle)] == [
        (i, row["article_id"], row["text"], row["source"]) for i, row in enumerate(rows, 1)
    ]
    assert {r.fmt for r in got if isinstance(r, RawArticle)} == {"articles"}


def test_a_parquet_file_of_another_schema_is_a_finding(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "c")
    pq.write_table(pa.table({"id": ["a"], "body": ["some text"]}), root / "articles" / "x.parquet")
    report = ingest(config=load_config(root / "corpus.toml"))
    assert [(f.slug, f.severity, f.file) for f in report.findings] == [
        ("not-an-articles-table", "error", "articles/x.parquet")
    ]
    assert "text" in report.findings[0].message and not report.ok
