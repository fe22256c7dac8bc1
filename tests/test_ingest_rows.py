"""The articles table's row groups are built from buffers: the same table as from_pylist."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tools.ingest import _rows_table, _Writer
from corpus_tools.store import ARTICLES_SCHEMA

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
SPANS = st.lists(
    st.fixed_dictionaries(
        {"start": st.integers(0, 2**31 - 1), "end": st.integers(-(2**31), 2**31 - 1)}
    ),
    max_size=4,
)
ROW = st.fixed_dictionaries(
    {
        "article_id": TEXT,
        "source": TEXT,
        "outlet": st.none() | TEXT,
        "url": st.none() | TEXT,
        "title": st.none() | TEXT,
        "published": st.none() | TEXT,
        "language": TEXT,
        "text": TEXT,
        "text_sha256": TEXT,
        "sentences": SPANS,
        "story_id": st.none() | TEXT,
    }
)


@settings(deadline=None)
@given(st.lists(ROW, max_size=12))
def test_rows_table_is_from_pylists(rows: list[dict[str, Any]]) -> None:
    want = pa.Table.from_pylist(rows, schema=ARTICLES_SCHEMA)
    got = _rows_table(rows)
    assert got.schema.equals(ARTICLES_SCHEMA)
    assert got.equals(want)
    assert got.to_pylist() == rows


def test_no_rows_and_all_nulls() -> None:
    assert _rows_table([]).equals(pa.Table.from_pylist([], schema=ARTICLES_SCHEMA))
    row = {f.name: None for f in ARTICLES_SCHEMA} | {"sentences": [], "text": "é"}
    assert _rows_table([row, row]).equals(pa.Table.from_pylist([row, row], schema=ARTICLES_SCHEMA))


class _Failing:
    def __init__(self) -> None:
        self.tables: list[pa.Table] = []
        self.closed = False

    def write_table(self, table: pa.Table) -> None:
        if self.tables:
            raise OSError(28, "No space left on device")
        self.tables.append(table)

    def close(self) -> None:
        self.closed = True


def test_writer_thread_keeps_order_and_raises_a_writes_error() -> None:
    inner = _Failing()
    writer = _Writer(inner)
    first = _rows_table([])
    writer.write_table(first)
    writer.write_table(first)  # fails in the thread
    with pytest.raises(OSError, match="No space"):
        writer.close()
    assert inner.closed and inner.tables == [first]


def test_ingest_does_not_import_pandas(tmp_path: Path) -> None:
    """pyarrow imports pandas when it converts Python lists (from_pylist): ~0.25 s of every
    ingest. The row groups are built from buffers instead; this keeps it so."""
    repo = Path(__file__).resolve().parent.parent
    shutil.copy2(repo / "corpus.toml", tmp_path / "corpus.toml")
    shutil.copytree(repo / "articles", tmp_path / "articles")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from corpus_tools.config import load_config\n"
        "from corpus_tools.ingest import ingest\n"
        "report = ingest(config=load_config(Path(sys.argv[1]) / 'corpus.toml'))\n"
        "print(report.articles, 'pandas' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    articles, pandas = out.stdout.split()
    assert int(articles) > 0
    assert pandas == "False"
