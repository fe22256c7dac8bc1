"""Files in and out: atomic writes, deterministic JSON, and the articles table.

Every write goes to a temporary file in the target's folder and is renamed into place, so a
failed stage leaves the previous state intact (DESIGN contract 5).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import hashlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from corpus_tools.errors import FILE_SYSTEM_ERRNOS, DataError, FileSystemError, UsageError
from corpus_tools.model import Article, Sentence

if TYPE_CHECKING:
    import pyarrow as pa

    ARTICLES_SCHEMA: pa.Schema


def __getattr__(name: str) -> Any:
    # pyarrow is imported by the first use of the articles table (`ARTICLES_SCHEMA`), not by
    # `import corpus_tools.store`: the atomic writers need none of it, nor does the CLI's start.
    if name == "ARTICLES_SCHEMA":
        return _articles_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _articles_schema() -> pa.Schema:
    """The articles table's schema (one object, as a module constant would be)."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("article_id", pa.string(), nullable=False),
            pa.field("source", pa.string(), nullable=False),
            pa.field("outlet", pa.string()),
            pa.field("url", pa.string()),
            pa.field("title", pa.string()),
            pa.field("published", pa.string()),
            pa.field("language", pa.string(), nullable=False),
            pa.field("text", pa.string(), nullable=False),
            pa.field("text_sha256", pa.string(), nullable=False),
            pa.field(
                "sentences",
                pa.list_(pa.struct([pa.field("start", pa.int32()), pa.field("end", pa.int32())])),
            ),
            pa.field("story_id", pa.string()),
        ]
    )


def display_path(path: Path) -> str:
    """`path` as a user should see it: relative to the working folder when inside it (with
    `/`), else as given."""
    try:
        rel = os.path.relpath(path, Path.cwd())
    except ValueError:
        return str(path)
    outside = rel == os.pardir or rel.startswith(os.pardir + os.sep)  # not `..name` inside
    return str(path) if outside else rel.replace(os.sep, "/")


def sha256_text(text: str) -> str:
    """Hex sha256 of the UTF-8 bytes of `text` (the `text_sha256` of tasks and articles)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def fs_errors(path: Path | str, *also: Path | str) -> Iterator[None]:
    """Turn an ordinary file-system failure inside the block into a FileSystemError.

    The error names the file the OSError names, unless that is unnamed (a failed `write` on an
    open file: disk full) or one of `also` (temporary files), in which case it names `path`.
    Other OSErrors (a refused connection) pass through unchanged.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno not in FILE_SYSTEM_ERRNOS:
            raise
        hidden = {os.fspath(p) for p in also}
        named = exc.filename2 or exc.filename
        if named is None or os.fspath(named) in hidden:
            unnamed = OSError(exc.errno, exc.strerror)
            raise FileSystemError.from_os_error(unnamed, path=path) from exc
        raise FileSystemError.from_os_error(exc) from exc  # CORPUS_DEBUG shows both


@contextlib.contextmanager
def atomic_path(target: Path, *, scratch: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target` (or in `scratch`, a folder on the same file
    system); rename it onto `target` only on success. A file-system failure (disk full, a
    folder where the file belongs, ...) is a FileSystemError naming `target`."""
    target = Path(target)
    tmp: Path | None = None
    with fs_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp", dir=scratch or target.parent
            )
        except OSError as exc:  # it names the temporary file; the user knows the target
            raise OSError(exc.errno, exc.strerror) from None
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            with fs_errors(target, tmp):
                yield tmp
                # mkstemp creates the file 0600; give it the mode a plain open() would have.
                if tmp.exists():
                    os.chmod(tmp, 0o666 & ~_umask())
                os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


@functools.cache
def _renameat2() -> Any:
    """libc's renameat2, looked up on first use (None where there is none: not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux `renameat2(RENAME_EXCHANGE)`); False
    where the system or the file system cannot."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def swap_in(new: Path, final: Path, old: Path) -> None:
    """Put folder `new` at `final`, so a reader of `final` sees the old folder or the new one.

    A folder already at `final` ends up at `new` (exchanged in one step) or, where the system
    cannot exchange, at `old` (two renames: a short window without `final`; `old` is put back
    if the second rename fails). The caller removes whichever of `new` and `old` is left.
    """
    if not os.path.lexists(final):
        os.rename(new, final)
        return
    if exchange(new, final):
        return
    os.replace(final, old)
    try:
        os.replace(new, final)
    except OSError:
        with contextlib.suppress(OSError):
            os.replace(old, final)
        raise


@functools.cache
def _umask() -> int:
    """The process umask, read once (reading it means setting it, which is not thread-safe)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write `data` to `target` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: Path, text: str) -> None:
    """Write UTF-8 `text` to `target` atomically (no newline translation)."""
    atomic_write_bytes(target, text.encode("utf-8"))


def dump_json(obj: Any) -> bytes:
    """Deterministic, reviewable JSON: 2-space indent, sorted keys, trailing newline."""
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def article_to_row(article: Article) -> dict[str, Any]:
    """An Article as a row of ARTICLES_SCHEMA."""
    return {
        "article_id": article.article_id,
        "source": article.source,
        "outlet": article.outlet,
        "url": article.url,
        "title": article.title,
        "published": article.published,
        "language": article.language,
        "text": article.text,
        "text_sha256": article.text_sha256,
        "sentences": [{"start": s.start, "end": s.end} for s in article.sentences],
        "story_id": article.story_id,
    }


def row_to_article(row: dict[str, Any]) -> Article:
    """A row of ARTICLES_SCHEMA as an Article."""
    return Article(
        article_id=row["article_id"],
        source=row["source"],
        outlet=row["outlet"],
        url=row["url"],
        title=row["title"],
        published=row["published"],
        language=row["language"],
        text=row["text"],
        text_sha256=row["text_sha256"],
        sentences=tuple(Sentence(s["start"], s["end"]) for s in row["sentences"] or ()),
        story_id=row["story_id"],
    )


def iter_articles(path: Path, batch_size: int = 1024) -> Iterator[Article]:
    """Stream the Articles of an articles.parquet, in file order."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(
            f"{path}: no articles table",
            hint="Run `corpus ingest` first.",
            path=str(path),
        )
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _articles_schema()
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})", path=str(path)) from None
    missing = set(schema.names) - set(pf.schema_arrow.names)
    if missing:
        raise DataError(
            f"{path}: not an articles table (missing columns: {', '.join(sorted(missing))})",
            hint="Rebuild it with `corpus ingest`.",
            path=str(path),
        )
    for batch in pf.iter_batches(batch_size=batch_size, columns=schema.names):
        for row in batch.to_pylist():
            yield row_to_article(row)


def load_articles(path: Path) -> dict[str, Article]:
    """All articles of an articles.parquet by article_id (for stages that need lookups)."""
    return {a.article_id: a for a in iter_articles(path)}
