"""The articles table as validation sees it: article_id -> text_sha256, kept beside the table.

Validation needs only those pairs from build/articles.parquet, but reading Parquet means
importing pyarrow (~0.2 s of CPU), more than validating one task takes. So the pairs read
from a table are kept in `build/.article-hashes.json`, keyed by the table's file identity:
size, mtime_ns, inode and ctime_ns, the same before and after the pairs were read. The kept
pairs are used only while the table's identity is the same; otherwise (or when the kept file
is unreadable, corrupt or of another format) the table is read again and the pairs kept anew.
The file is written atomically and never needed: when it cannot be written (a read-only
checkout), validation reads the table each time, as before.

Why the identity is enough: a table replaced (as `corpus ingest` does, by rename) or rewritten
in place gets a new ctime, which the kernel sets to the current time and no user can set back.
The pairs are kept only for a table whose ctime is at least `RACY_S` seconds old, so a later
change to it cannot carry the same ctime even on a file system with coarse timestamps.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import orjson

from corpus_tools.errors import CorpusError, DataError

CACHE_NAME = ".article-hashes.json"
FORMAT = 1
RACY_S = 2.0


def cache_path(table: Path) -> Path:
    """Where the pairs of `table` are kept."""
    return table.parent / CACHE_NAME


def identity(st: os.stat_result) -> list[int]:
    """The file identity the kept pairs are valid for."""
    return [st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]


def article_hashes(table: Path) -> dict[str, str]:
    """article_id -> text_sha256 of the articles table at `table`: the kept pairs when they
    are the table's, else read from the table (and kept for the next run)."""
    try:
        before = identity(os.stat(table))
    except OSError:
        before = None
    if before is not None:
        kept = _read_kept(cache_path(table), before)
        if kept is not None:
            return kept
    hashes = read_table(table)
    try:
        after = os.stat(table)
    except OSError:
        return hashes
    # Kept only when the table was the same file, unchanged, all the while it was read.
    settled = time.time_ns() - after.st_ctime_ns >= RACY_S * 1e9
    if before is not None and identity(after) == before and settled:
        _keep(cache_path(table), before, hashes)
    return hashes


def read_table(table: Path) -> dict[str, str]:
    """article_id -> text_sha256 from an articles table (only those two columns are read)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        data = pq.read_table(table, columns=["article_id", "text_sha256"])
    except (pa.ArrowInvalid, OSError, KeyError) as exc:
        raise DataError(
            f"{table}: not a readable articles table ({exc})",
            path=str(table),
            hint="Rebuild it with `corpus ingest`.",
        ) from None
    ids = data.column("article_id").to_pylist()
    shas = data.column("text_sha256").to_pylist()
    return dict(zip(ids, shas, strict=True))


def _read_kept(path: Path, ident: list[int]) -> dict[str, str] | None:
    """The kept pairs if `path` holds them for a table of identity `ident`; else None."""
    try:
        doc = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("table") != ident:
        return None
    hashes = doc.get("hashes")
    if not isinstance(hashes, dict) or not all(isinstance(v, str) for v in hashes.values()):
        return None
    return hashes


def _keep(path: Path, ident: list[int], hashes: dict[str, str]) -> None:
    from corpus_tools.store import atomic_write_bytes

    data = orjson.dumps({"format": FORMAT, "table": ident, "hashes": hashes})
    with contextlib.suppress(OSError, CorpusError):  # a shortcut: next run reads the table
        atomic_write_bytes(path, data)
