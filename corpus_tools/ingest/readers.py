"""Read input files into RawArticle records, one format at a time, streaming.

Formats (chosen by extension, or forced with `fmt`):

- `txt`: one article per file, plain text as scraped (an optional date line and headline on top);
- `html`: one page per file, main text extracted with trafilatura (title, date, site, URL);
- `jsonl`: one article per line, fields `text` (required), `id`, `url`, `outlet`, `title`,
  `published`, `language`;
- `csv`: a header row naming the same fields, one article per record (quoted multi-line text);
- `labelstudio`: a Label Studio export (`.json`: an array of tasks, or one task object as
  `corpus ls pull` writes it; JSONL lines that are task objects are read as tasks in any
  `.jsonl` file too). The task's text (`data[<text_field>]`) is taken verbatim: annotators'
  offsets index exactly that string (see `labelstudio_article`);
- `warc`: a web crawl (`.warc`, `.warc.gz`, as CC-NEWS publishes it): each HTML page of an
  HTTP 200 response is an article, extracted as an `.html` file is, with the record's
  WARC-Target-URI as its URL (see `read_warc`);
- `articles`: an articles table (`.parquet` with the columns of `store.ARTICLES_SCHEMA`, as
  `corpus ingest` and `corpus sample` write it), one article per row, taken as it is (see
  `read_articles_table`).

Input must be UTF-8 (a BOM is stripped and reported); a WARC page is decoded by its charset.
Bad input never raises: each reader yields `Finding`s beside the records, and a bad line
costs only that line.

Memory stays bounded whatever the input: a record (a txt or html file, a JSONL line, a CSV
record, a WARC record) larger than `max_bytes` (`[ingest] max_record_bytes`) is a
`record-too-large` finding and is never held whole in memory. A CSV file stops at such a
record (where the next record starts cannot be known without reading it), and the finding
says so.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import zlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import orjson

from corpus_tools.constants import Format
from corpus_tools.model import Finding, RawArticle, Severity

if TYPE_CHECKING:
    from corpus_tools.config import Scheme

EXTENSIONS: dict[str, Format] = {
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".json": "labelstudio",
    ".parquet": "articles",
}
FIELDS = ("id", "url", "outlet", "title", "published", "language")
BOM = "\ufeff"

Item = RawArticle | Finding


def format_of(path: Path) -> Format | None:
    """The format a file's extension stands for (None when unknown)."""
    if path.name.lower().endswith((".warc", ".warc.gz")):
        return "warc"
    return EXTENSIONS.get(path.suffix.lower())


DEFAULT_MAX_BYTES = 4 * 1024 * 1024
_SKIP = 1 << 20


def _too_large(name: str, line: int | None, what: str, max_bytes: int) -> Finding:
    return Finding(
        "record-too-large",
        "error",
        f"{what} is larger than the {max_bytes:,}-byte limit; not read",
        file=name,
        line=line,
        hint="Split it, or raise `[ingest] max_record_bytes` in corpus.toml.",
    )


def record_pointer(source: str, file: str) -> str | None:
    """Where a record that is not a line of its file is (a WARC record: source
    `<file>#<byte offset>`), as a finding's `pointer` ("offset 16411"); None for the others."""
    if source.startswith(file + "#"):
        offset = source[len(file) + 1 :]
        if offset.isdigit():
            return _OFFSET + offset
    return None


_OFFSET = "offset "  # a finding's `pointer` at a record's byte offset: "offset 16411"


def pointer_offset(pointer: str | None) -> int:
    """The byte offset a finding's `pointer` names ("offset 16411"), 0 when it names none."""
    if pointer and pointer.startswith(_OFFSET) and pointer[len(_OFFSET) :].isdigit():
        return int(pointer[len(_OFFSET) :])
    return 0


def unreadable(
    name: str, exc: OSError, hint: str = "Check that the file exists and is readable."
) -> Finding:
    """The finding of a file that cannot be opened or read."""
    return Finding(
        "unreadable-file",
        "error",
        f"cannot read the file ({getattr(exc, 'strerror', None) or exc})",
        file=name,
        hint=hint,
    )


def read_file(
    path: Path,
    *,
    name: str,
    fmt: Format,
    max_bytes: int = DEFAULT_MAX_BYTES,
    scheme: Scheme | None = None,
) -> Iterator[Item]:
    """Yield the RawArticles of one file and a Finding for each problem met on the way.

    `scheme` names the data keys of Label Studio tasks (`[scheme.names]`); the defaults
    without it.
    """
    if fmt == "labelstudio":
        yield from read_labelstudio(path, name=name, scheme=scheme, max_bytes=max_bytes)
        return
    if fmt == "warc":
        yield from read_warc(path, name=name, max_bytes=max_bytes)
        return
    if fmt == "articles":
        yield from read_articles_table(path, name=name, max_bytes=max_bytes)
        return
    try:
        with open(path, "rb") as fh:
            if fmt in ("txt", "html"):
                data = fh.read(max_bytes + 1)
                if len(data) > max_bytes:
                    yield _too_large(name, None, "the file", max_bytes)
                    return
                yield from _read_whole(data, name=name, fmt=fmt)
            elif fmt == "jsonl":
                yield from _read_jsonl(fh, name=name, max_bytes=max_bytes, scheme=scheme)
            else:
                yield from _read_csv(fh, name=name, max_bytes=max_bytes)
    except OSError as exc:
        yield unreadable(name, exc)


def _decode(data: bytes, *, name: str, line_offset: int = 0) -> str | Finding:
    """Strict UTF-8; a Finding naming the line of the first bad byte otherwise."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = line_offset + data.count(b"\n", 0, exc.start) + 1
        return Finding(
            "undecodable-bytes",
            "error",
            f"not UTF-8: byte {data[exc.start]:#04x} at line {line} ({exc.reason})",
            file=name,
            line=line,
            hint="Re-encode the file as UTF-8 (e.g. `iconv -f cp1252 -t utf-8`).",
        )


def _bom_finding(name: str) -> Finding:
    return Finding(
        "bom-stripped",
        "warning",
        "a UTF-8 byte order mark opened the file; it was removed",
        file=name,
        line=1,
    )


def _read_whole(data: bytes, *, name: str, fmt: Format) -> Iterator[Item]:
    text = _decode(data, name=name)
    if isinstance(text, Finding):
        yield text
        return
    if text.startswith(BOM):
        yield _bom_finding(name)
        text = text[1:]
    if fmt == "html":
        from corpus_tools.ingest.html import extract

        yield extract(text, source=name)
    else:
        yield RawArticle(source=name, file=name, line=None, text=text, fmt="txt")


def _record(obj: dict[str, object], *, name: str, line: int, fmt: Format) -> Item:
    text = obj.get("text")
    if not isinstance(text, str):
        what = "has no `text` field" if text is None else "has a `text` that is not a string"
        return Finding(
            "missing-field",
            "error",
            f"record {what}",
            file=name,
            line=line,
            hint="Every record needs the article body in `text`.",
        )
    meta: dict[str, str | None] = {}
    for key in FIELDS:
        value = obj.get(key)
        if value is None or value == "":
            meta[key] = None
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            meta[key] = str(value).strip() or None
        else:
            return Finding(
                "bad-field",
                "error",
                f"field `{key}` must be a string, not {type(value).__name__}",
                file=name,
                line=line,
                hint=f"Write `{key}` as a string (or leave it out).",
            )
    return _raw_article(meta, name=name, line=line, text=text, fmt=fmt, id=meta["id"])


def _raw_article(
    meta: dict[str, str | None], *, name: str, line: int | None, text: str, fmt: str, id: str | None
) -> RawArticle:
    """A record of `file:line` (the file alone when it has no lines) with its metadata."""
    return RawArticle(
        source=f"{name}:{line}" if line is not None else name,
        file=name,
        line=line,
        text=text,
        fmt=fmt,
        id=id,
        url=meta["url"],
        outlet=meta["outlet"],
        title=meta["title"],
        published=meta["published"],
        language=meta["language"],
    )


def _lines(fh: IO[bytes], max_bytes: int) -> Iterator[bytes | None]:
    """The file's lines (with their ends); None for a line longer than `max_bytes`, whose
    bytes are skipped in blocks instead of read whole."""
    while raw := fh.readline(max_bytes + 1):
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = fh.readline(_SKIP)
            yield None
            continue
        yield raw


def _read_jsonl(
    fh: IO[bytes], *, name: str, max_bytes: int, scheme: Scheme | None = None
) -> Iterator[Item]:
    """One record per line, streamed (only one line is in memory at a time). A line that is
    a Label Studio task (a `data` object, no `text`) is read as one (`labelstudio_article`)."""
    for lineno, raw in enumerate(_lines(fh, max_bytes), start=1):
        if raw is None:
            yield _too_large(name, lineno, "the line", max_bytes)
            continue
        if lineno == 1 and raw.startswith(BOM.encode("utf-8")):
            yield _bom_finding(name)
            raw = raw[3:]
        if not raw.strip():
            continue
        text = _decode(raw, name=name, line_offset=lineno - 1)
        if isinstance(text, Finding):
            yield text
            continue
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield Finding(
                "malformed-jsonl-line",
                "error",
                f"not a JSON object ({exc})",
                file=name,
                line=lineno,
                hint="Each line must be one complete JSON object.",
            )
            continue
        if not isinstance(obj, dict):
            yield Finding(
                "malformed-jsonl-line",
                "error",
                f"a JSON {type(obj).__name__}, not an object",
                file=name,
                line=lineno,
                hint="Each line must be one complete JSON object.",
            )
            continue
        if isinstance(obj.get("data"), dict) and "text" not in obj:
            yield labelstudio_article(obj, name=name, line=lineno, scheme=scheme)
            continue
        yield _record(obj, name=name, line=lineno, fmt="jsonl")


class _RecordTooLarge(Exception):
    """A CSV record grew past the byte limit (raised through the csv reader)."""


def _decoded_lines(
    fh: IO[bytes], *, name: str, bad: list[Finding], size: list[int], max_bytes: int
) -> Iterator[str]:
    """Physical lines (with their ends) decoded one by one; bad ones become findings.

    `size[0]` counts the bytes of the record being read (the caller resets it after each
    record); past `max_bytes` the reading stops with _RecordTooLarge.
    """
    for lineno, raw in enumerate(_lines(fh, max_bytes), start=1):
        if raw is None:
            raise _RecordTooLarge
        size[0] += len(raw)
        if size[0] > max_bytes:
            raise _RecordTooLarge
        if lineno == 1 and raw.startswith(BOM.encode("utf-8")):
            bad.append(_bom_finding(name))
            raw = raw[3:]
        text = _decode(raw, name=name, line_offset=lineno - 1)
        if isinstance(text, Finding):
            bad.append(text)
            yield "\n"  # keeps the reader's line count in step; the record is rejected below
            continue
        yield text


def _read_csv(fh: IO[bytes], *, name: str, max_bytes: int) -> Iterator[Item]:
    """A header row, then one record per row, streamed."""
    bad: list[Finding] = []
    size = [0]
    lines = _decoded_lines(fh, name=name, bad=bad, size=size, max_bytes=max_bytes)
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except _RecordTooLarge:
        yield _too_large(name, 1, "the header row (the whole file was skipped)", max_bytes)
        return
    except StopIteration:
        yield Finding("empty-body", "error", "the CSV file is empty", file=name, line=1)
        return
    except csv.Error as exc:
        yield Finding("malformed-csv-row", "error", f"bad header: {exc}", file=name, line=1)
        return
    yield from (f for f in bad if f.slug == "bom-stripped")
    if any(f.slug != "bom-stripped" for f in bad):
        yield from (f for f in bad if f.slug != "bom-stripped")
        return
    bad.clear()
    columns = [c.strip().lower() for c in header]
    if "text" not in columns:
        yield Finding(
            "missing-column",
            "error",
            f"no `text` column (columns: {', '.join(columns) or 'none'})",
            file=name,
            line=1,
            hint="Name the article body column `text` in the header row.",
        )
        return
    start = reader.line_num + 1
    while True:
        size[0] = 0
        try:
            row = next(reader)
        except StopIteration:
            break
        except _RecordTooLarge:
            what = "the record (the rest of the file was not read)"
            yield _too_large(name, start, what, max_bytes)
            return
        except csv.Error as exc:
            yield Finding(
                "malformed-csv-row",
                "error",
                f"unparseable record ({exc})",
                file=name,
                line=start,
                hint="Check the quoting of this record.",
            )
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if bad:
            yield from bad
            bad.clear()
            continue
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            yield Finding(
                "malformed-csv-row",
                "error",
                f"{len(row)} fields where the header has {len(columns)}",
                file=name,
                line=line,
                hint="Quote fields that contain commas or line breaks.",
            )
            continue
        yield _record(dict(zip(columns, row, strict=True)), name=name, line=line, fmt="csv")


# --- Label Studio exports ---------------------------------------------------------------------

LABELSTUDIO_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline"),
    "outlet": ("outlet", "source", "publisher"),
    "published": ("published", "date", "published_at"),
    "url": ("url", "link"),
    "language": ("language", "lang"),
}
"""The task data keys read as article metadata, first present wins (aliases after the name)."""


def _scheme(scheme: Scheme | None) -> Scheme:
    """The scheme whose names are read; without one, a stand-in with the default names
    (`exports.task_text` / `task_article_id` read only `scheme.names`)."""
    if scheme is not None:
        return scheme
    from types import SimpleNamespace

    from corpus_tools.config import ControlNames

    return cast("Scheme", SimpleNamespace(names=ControlNames()))


def labelstudio_article(
    task: dict[str, Any], *, name: str, line: int | None, scheme: Scheme | None
) -> Item:
    """A Label Studio task's data as a RawArticle of format `labelstudio`, or a Finding.

    The text is `data[<text_field>]` exactly as the task holds it (ingest neither cleans nor
    drops it: the annotations' offsets index this string); the id is
    `exports.task_article_id` (`data[<article_id_field>]`, else `task-<task id>`), the id
    `corpus validate` ties the task's annotations to. Metadata comes from the data keys in
    LABELSTUDIO_FIELDS. Annotations, predictions and users are never read.
    """
    from corpus_tools.exports import task_article_id, task_text

    sch = _scheme(scheme)
    tid = task.get("id")
    what = f"task {tid}" if tid is not None else "a task without an id"
    text = task_text(task, sch)
    field = sch.names.text_field
    if text is None or not text.strip():
        have = (task.get("data") or {}).get(field)
        why = (
            f"has no `data.{field}`"
            if have is None
            else f"has a `data.{field}` that is not a string"
            if not isinstance(have, str)
            else f"has an empty `data.{field}`"
        )
        return Finding(
            "missing-field",
            "error",
            f"{what} {why}; not read",
            file=name,
            line=line,
            hint="Give every task its text, or name the data key that holds it with "
            "`[scheme.names] text_field` in corpus.toml.",
        )
    aid = task_article_id(task, sch)
    if aid is None:
        return Finding(
            "missing-field",
            "error",
            f"{what} has no `data.{sch.names.article_id_field}` and no integer task id",
            file=name,
            line=line,
            hint=f"Give the task `data.{sch.names.article_id_field}` (or export it from Label "
            "Studio, which gives every task an id).",
        )
    data = task["data"]
    meta: dict[str, str | None] = {}
    for key, aliases in LABELSTUDIO_FIELDS.items():
        meta[key] = None
        for alias in aliases:
            value = data.get(alias)
            if isinstance(value, str | int | float) and not isinstance(value, bool):
                meta[key] = str(value).strip() or None
                if meta[key]:
                    break
    return _raw_article(meta, name=name, line=line, text=text, fmt="labelstudio", id=aid)


def read_labelstudio(
    path: Path,
    *,
    name: str,
    scheme: Scheme | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[Item]:
    """The tasks of a Label Studio export as RawArticles, streamed.

    The export is split by `corpus_tools.validate.reader.read_tasks` (a JSON array element by
    element, JSONL line by line, a single task file whole), so memory is bounded by the
    largest task (and a task over `max_bytes` is a `record-too-large` finding, not parsed; the
    reader itself skips tasks over 256 MiB without holding them). A lossy export (JSON-MIN
    rows, CSV/TSV) is one `lossy-export` error for the file; anything that is not a task is a
    `not-a-task` error.
    """
    from corpus_tools.exports import LOSSY, is_json_min_row
    from corpus_tools.validate.reader import read_tasks

    found: list[Finding] = []
    for item in read_tasks(path, name, found):
        yield from found
        found.clear()
        line = item.where.line
        if len(item.raw) > max_bytes:
            yield _too_large(name, line, "the task", max_bytes)
            continue
        try:
            obj = orjson.loads(item.raw)
        except orjson.JSONDecodeError as exc:
            yield Finding(
                "malformed-task",
                "error",
                f"not JSON ({exc})",
                file=name,
                line=line,
                hint="Export the project again (JSON).",
            )
            continue
        if isinstance(obj, dict) and isinstance(obj.get("data"), dict):
            yield labelstudio_article(obj, name=name, line=line, scheme=scheme)
            continue
        if is_json_min_row(obj):
            yield Finding(
                "lossy-export",
                "error",
                f"{LOSSY['JSON-MIN']}: not read",
                file=name,
                line=line,
                hint="Export the project as JSON (not JSON-MIN or CSV): Export -> JSON.",
            )
            return
        yield Finding(
            "not-a-task",
            "error",
            "not a Label Studio task (no `data` object)",
            file=name,
            line=line,
            hint="Give a Label Studio JSON export (an array of tasks) or JSONL of tasks.",
        )
    yield from found


# --- WARC files (crawls: CC-NEWS and the like) ------------------------------------------------

WARC_SUFFIXES = (".warc", ".warc.gz")
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# The HTTP header block of a response: larger than this, the record is malformed.
_HTTP_HEAD_MAX = 64 * 1024
_STATUS = re.compile(rb"HTTP/\d(?:\.\d)? (\d{3})(?: [^\r\n]*)?")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_SCAN = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b\x08"
_DAY = re.compile(r"\d{4}-\d\d-\d\d")
_WARC_MAGIC = re.compile(rb"(?:^|\n)WARC/1\.[01]\r?\n")


def _warc_finding(
    slug: str, severity: Severity, message: str, name: str, offset: int, hint: str | None
) -> Finding:
    """A finding at a record's byte offset (of its gzip member, in a `.warc.gz`)."""
    return Finding(
        slug,
        severity,
        f"record at offset {offset:,}: {message}",
        file=name,
        pointer=f"{_OFFSET}{offset}",
        hint=hint,
    )


def read_warc(path: Path, *, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Item]:
    """The HTML pages of a WARC file (`.warc`, or `.warc.gz` of gzip members) as RawArticles.

    Records are streamed with FastWARC (Resiliparse). Only `response` records of an HTTP 200
    with a Content-Type of text/html or application/xhtml+xml are articles; the other
    responses (PDFs, images, redirects, errors, a content coding other than gzip or deflate)
    are counted in one `warc-records-skipped` info per file, and request, warcinfo and
    metadata records are passed over silently. A chunked transfer coding and a gzip or
    deflate content coding are undone (Common Crawl stores them undone; other crawlers not).

    A page goes through the same extraction as an `.html` file (`html.extract`); then `url` is
    the record's WARC-Target-URI (the source identity of its article_id), `published` the
    page's own date when trafilatura finds one, else the day of the record's WARC-Date,
    `outlet` the page's site name, else the URI's host name, `source` `<file>#<offset>` and
    `file` the file's name. The page is decoded with the charset of the HTTP Content-Type, else
    of its `<meta charset>`, else as UTF-8; when the declared one fails (or none is declared
    and the bytes are not UTF-8) charset_normalizer guesses.

    A record that cannot be read (a cut gzip member, a bad WARC header, a Content-Length past
    the end of the file, a bad HTTP header block) is an error naming the file and the record's
    byte offset (the offset of its gzip member in a `.warc.gz`); the records before it are
    kept, and reading goes on at the next record start found after it (the next gzip member,
    or the next `WARC/1.x` line). A record whose block is larger than `max_bytes` is a
    `record-too-large` error and is skipped, never read whole.
    """
    skipped: dict[str, int] = {}
    try:
        with open(path, "rb") as fh:
            gz = fh.read(3) == _GZIP_MAGIC  # the library detects it too; resync needs to know
            pos: int | None = 0
            while pos is not None:
                pos = yield from _warc_run(fh, pos, name, gz, max_bytes, skipped)
    except OSError as exc:
        yield unreadable(name, exc)
    if skipped:
        what = ", ".join(f"{n:,} {k}" for k, n in sorted(skipped.items()))
        yield Finding(
            "warc-records-skipped",
            "info",
            f"{sum(skipped.values()):,} responses were not read as articles: not HTML pages "
            f"of status 200, or in a coding not read ({what})",
            file=name,
        )


def _warc_run(
    fh: IO[bytes], pos: int, name: str, gz: bool, max_bytes: int, skipped: dict[str, int]
) -> Generator[Item, None, int | None]:
    """Read records from `pos` on until the end of the file (None) or a bad record: its
    finding, then the offset of the next record start after it (None when there is none)."""
    from fastwarc.warc import ArchiveIterator

    fh.seek(pos)
    records = iter(ArchiveIterator(fh, parse_http=False))
    last: tuple[int, int] | None = None  # (offset, Content-Length) of the last record read
    while True:
        try:
            rec = next(records)
        except StopIteration:
            # the library stops quietly at a record cut in its header: bytes past the end
            # of the last record read are one
            at = pos if last is None else _record_end(fh, last, gz)
            fh.seek(at)
            if not fh.read(_SCAN).strip(b"\r\n\x00 "):
                return None
            why = "the file ends inside it (a cut download?)"
            break
        except (OSError, ValueError) as exc:
            # the bad record starts where the last good one ends
            at = pos if last is None else _record_end(fh, last, gz)
            why = f"not a readable WARC record ({exc})"
            break
        offset = rec.stream_pos
        last = (offset, rec.content_length)
        try:
            truncated = yield from _warc_record(rec, name, offset, max_bytes, skipped)
        except (OSError, ValueError) as exc:
            at, why = offset, f"its block cannot be read ({exc})"
            break
        if truncated:  # the library read on past where the next record starts
            return _next_start(fh, offset + 1, gz)
    yield _warc_finding(
        "malformed-warc-record",
        "error",
        f"{why}; the records before it are kept",
        name,
        at,
        "Fetch the file again; a cut download ends in a broken record.",
    )
    return _next_start(fh, at + 1, gz)


def _record_end(fh: IO[bytes], last: tuple[int, int], gz: bool) -> int:
    """Where the record after the one at `last` starts: the end of its gzip member, or of
    its header block plus its Content-Length and the two closing CRLFs."""
    offset, length = last
    fh.seek(offset)
    if gz:
        d = zlib.decompressobj(31)
        pos = offset
        while not d.eof:
            chunk = fh.read(_SCAN)
            if not chunk:
                return pos
            d.decompress(chunk)
            pos += len(chunk)
        return pos - len(d.unused_data)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = fh.read(_SCAN)
        if not chunk:
            return offset + len(head)
        head += chunk
    return offset + head.index(b"\r\n\r\n") + 4 + length + 4


def _next_start(fh: IO[bytes], pos: int, gz: bool) -> int | None:
    """The offset of the first record start at or after `pos` (a gzip member that holds a
    WARC record, or a `WARC/1.x` line), None at the end of the file."""
    fh.seek(pos)
    buf = fh.read(_SCAN)
    base = pos
    while buf:
        if gz:
            at = buf.find(_GZIP_MAGIC)
            while at >= 0:
                if _opens_warc(fh, base + at):
                    return base + at
                at = buf.find(_GZIP_MAGIC, at + 1)
        else:
            m = _WARC_MAGIC.search(buf)
            if m is not None:
                return base + m.start() + (buf[m.start() : m.start() + 1] == b"\n")
        keep = 12  # a magic cut by the block boundary is found in the next block
        fh.seek(base + len(buf))
        more = fh.read(_SCAN)
        if not more:
            return None
        base, buf = base + len(buf) - keep, buf[-keep:] + more
    return None


def _opens_warc(fh: IO[bytes], at: int) -> bool:
    """Whether the gzip member at `at` decompresses to the start of a WARC record."""
    fh.seek(at)
    try:
        head = zlib.decompressobj(31).decompress(fh.read(4096), 16)
    except zlib.error:
        return False
    return head.startswith(b"WARC/1.")


def _warc_record(
    rec: Any, name: str, offset: int, max_bytes: int, skipped: dict[str, int]
) -> Generator[Item, None, bool]:
    """The article of one record (or its finding, or nothing); returns True when the record
    was truncated (its block ends before its Content-Length)."""
    from fastwarc.warc import WarcRecordType

    if rec.headers.get("Content-Length") is None:  # a header cut short, or not a record's
        yield _warc_finding(
            "malformed-warc-record",
            "error",
            "its WARC header is incomplete (no Content-Length); not read",
            name,
            offset,
            "Fetch the file again; a cut download ends in a broken record.",
        )
        return True
    length = rec.content_length
    if rec.record_type != WarcRecordType.response or length > max_bytes:
        # not read, only passed over (in blocks): a Content-Length past the end still shows
        read = rec.reader.consume()
        if read < length:
            yield _truncated(name, offset, read, length)
            return True
    if rec.record_type != WarcRecordType.response:
        return False
    if length > max_bytes:
        yield _warc_finding(
            "record-too-large",
            "error",
            f"its {length:,} bytes are more than the {max_bytes:,}-byte limit; not read",
            name,
            offset,
            "Raise `[ingest] max_record_bytes` in corpus.toml to read such pages.",
        )
        return False
    block = rec.reader.read(length + 1)
    if len(block) < length:
        yield _truncated(name, offset, len(block), length)
        return True
    end = block.find(b"\r\n\r\n", 0, _HTTP_HEAD_MAX)
    status = _STATUS.match(block)
    if end < 0 or status is None:
        yield _warc_finding(
            "malformed-http-record",
            "error",
            "its HTTP header block is malformed (no status line, or no blank line after "
            "the headers); not read",
            name,
            offset,
            "The crawler wrote a broken response; nothing can be read from it.",
        )
        return False
    headers: dict[str, str] = {}
    for line in block[: end + 2].split(b"\r\n")[1:-1]:
        key, sep, value = line.partition(b":")
        if not sep:
            yield _warc_finding(
                "malformed-http-record",
                "error",
                f"an HTTP header line without a colon ({line[:60]!r}); not read",
                name,
                offset,
                "The crawler wrote a broken response; nothing can be read from it.",
            )
            return False
        headers[key.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    ctype, _, params = headers.get("content-type", "").partition(";")
    ctype = ctype.strip().lower()
    code = int(status.group(1))
    if code != 200:
        skipped[f"status {code}"] = skipped.get(f"status {code}", 0) + 1
        return False
    if ctype not in HTML_TYPES:
        key = ctype or "no content type"
        skipped[key] = skipped.get(key, 0) + 1
        return False
    body = _payload(block[end + 4 :], headers, max_bytes)
    if isinstance(body, str):
        if body == "too large":
            yield _warc_finding(
                "record-too-large",
                "error",
                f"its page decompresses to more than the {max_bytes:,}-byte limit; not read",
                name,
                offset,
                "Raise `[ingest] max_record_bytes` in corpus.toml to read such pages.",
            )
        elif body.startswith("bad "):
            yield _warc_finding(
                "malformed-http-record",
                "error",
                f"its payload is not valid {body[4:]}; not read",
                name,
                offset,
                "The crawler wrote a broken response; nothing can be read from it.",
            )
        else:
            skipped[body] = skipped.get(body, 0) + 1
        return False
    text = _decode_page(body, _charset(params))
    if text is None:
        yield _warc_finding(
            "undecodable-bytes",
            "error",
            "the page's bytes are in no charset that could be found; not read",
            name,
            offset,
            "Check the page; its Content-Type or <meta charset> may be wrong.",
        )
        return False
    yield _warc_article(rec, text, name, offset)
    return False


def _payload(body: bytes, headers: dict[str, str], max_bytes: int) -> bytes | str:
    """The page's bytes with the HTTP transfer and content codings undone (crawlers such as
    Common Crawl store them undone already; wget and Heritrix do not); else why not: "too
    large", "bad <coding>", or the name of a coding that is not read."""
    if headers.get("transfer-encoding", "").lower().strip() == "chunked":
        out, pos = bytearray(), 0
        while True:
            eol = body.find(b"\r\n", pos)
            try:
                size = int(body[pos:eol].split(b";", 1)[0], 16) if eol >= 0 else -1
            except ValueError:
                size = -1
            if size < 0 or eol + 2 + size > len(body):
                return "bad chunked transfer coding"
            if size == 0:
                break
            out += body[eol + 2 : eol + 2 + size]
            pos = eol + 2 + size + 2
        body = bytes(out)
    coding = headers.get("content-encoding", "").lower().strip()
    if coding in ("", "identity"):
        return body
    if coding not in ("gzip", "x-gzip", "deflate"):
        return f"content-encoding {coding}"
    try:
        # gzip or zlib header (47); a raw deflate stream, as some servers send, else
        d = zlib.decompressobj(47 if body[:1] in (b"\x1f", b"\x78") else -15)
        page = d.decompress(body, max_bytes + 1)
    except zlib.error:
        return f"bad {coding} content coding"
    return "too large" if len(page) > max_bytes else page


def _truncated(name: str, offset: int, read: int, length: int) -> Finding:
    return _warc_finding(
        "truncated-warc-record",
        "error",
        f"its block ends after {read:,} of its {length:,} bytes (Content-Length); not read",
        name,
        offset,
        "Fetch the file again; a cut download ends in a truncated record.",
    )


def _charset(params: str) -> str | None:
    for part in params.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip(" \"'"):
            return value.strip(" \"'")
    return None


def _decode_page(body: bytes, declared: str | None) -> str | None:
    """The page as text: its declared charset (HTTP, else `<meta charset>`), else UTF-8,
    else charset_normalizer's guess; None when nothing decodes it."""
    if declared is None:
        m = _META_CHARSET.search(body, 0, 4096)
        declared = m.group(1).decode("ascii") if m else None
    for charset in (declared, "utf-8"):
        if charset is None:
            continue
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    return str(best) if best is not None else None


def _warc_article(rec: Any, text: str, name: str, offset: int) -> Item:
    from corpus_tools.ingest.html import extract

    source = f"{name}#{offset}"
    if text.startswith(BOM):
        text = text[1:]
    raw = extract(text, source=source)
    if isinstance(raw, Finding):
        return _warc_finding(raw.slug, raw.severity, raw.message, name, offset, raw.hint)
    target = (rec.headers.get("WARC-Target-URI") or "").strip("<> ") or None
    url = target or raw.url
    published = raw.published
    if published is None:
        date = (rec.headers.get("WARC-Date") or "")[:10]
        published = date if _DAY.fullmatch(date) else None
    outlet = raw.outlet or (urlsplit(url).hostname if url else None)
    return dataclasses.replace(
        raw, file=name, fmt="warc", url=url, published=published, outlet=outlet
    )


# --- articles tables (`corpus sample` writes its chosen articles as one) ----------------------

ARTICLE_COLUMNS = (
    "article_id",
    "source",
    "outlet",
    "url",
    "title",
    "published",
    "language",
    "text",
)


def read_articles_table(
    path: Path, *, name: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[Item]:
    """The rows of an articles table (`.parquet` with the columns of `store.ARTICLES_SCHEMA`;
    `story_id`, `sentences` and `text_sha256` are not read) as RawArticles of format
    `articles`, one row group at a time: `id` is the row's article_id, the text and metadata
    are taken as they are, `line` is the 1-based row number. A file of another schema is one
    `not-an-articles-table` error; a row whose text is over `max_bytes` a `record-too-large`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from corpus_tools.store import ARTICLES_SCHEMA

    try:
        pf = pq.ParquetFile(path)
    except OSError as exc:
        yield unreadable(name, exc, hint="Check that the file exists and is a Parquet file.")
        return
    schema = pf.schema_arrow
    wrong = [
        c
        for c in ARTICLE_COLUMNS
        if schema.get_field_index(c) < 0
        or (
            not pa.types.is_string(schema.field(c).type)
            and not pa.types.is_large_string(schema.field(c).type)
        )
    ]
    if wrong:
        want = ", ".join(f.name for f in ARTICLES_SCHEMA if f.name in ARTICLE_COLUMNS)
        yield Finding(
            "not-an-articles-table",
            "error",
            f"a Parquet file without the articles table's string column(s) "
            f"{', '.join(wrong)}; not read",
            file=name,
            hint=f"Give an articles table (columns {want}), as `corpus ingest` or "
            "`corpus sample` write it.",
        )
        return
    row = 0
    try:
        for group in range(pf.num_row_groups):
            for rec in pf.read_row_group(group, columns=list(ARTICLE_COLUMNS)).to_pylist():
                row += 1
                text = rec["text"]
                if text is None or not rec["article_id"] or not rec["source"]:
                    missing = (
                        "text"
                        if text is None
                        else "article_id"
                        if not rec["article_id"]
                        else "source"
                    )
                    yield Finding(
                        "missing-field",
                        "error",
                        f"row {row:,} has no `{missing}`; not read",
                        file=name,
                        line=row,
                        hint="Each row of an articles table needs its article_id, source and text.",
                    )
                    continue
                if len(text) > max_bytes:  # code points; a byte count needs an encode first
                    yield _too_large(name, row, "the row's text", max_bytes)
                    continue
                yield RawArticle(
                    source=rec["source"],
                    file=name,
                    line=row,
                    text=text,
                    fmt="articles",
                    id=rec["article_id"],
                    url=rec["url"],
                    outlet=rec["outlet"],
                    title=rec["title"],
                    published=rec["published"],
                    language=rec["language"],
                )
    except (OSError, pa.ArrowException) as exc:
        yield Finding(
            "unreadable-file",
            "error",
            f"cannot read the table past row {row:,} ({exc})",
            file=name,
            line=row + 1,
            hint="The file is damaged; write it again.",
        )
