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
  offsets index exactly that string (see `labelstudio_article`).

Input must be UTF-8 (a BOM is stripped and reported). Bad input never raises: each reader
yields `Finding`s beside the records, and a bad line costs only that line.

Memory stays bounded whatever the input: a record (a txt or html file, a JSONL line, a CSV
record) larger than `max_bytes` (`[ingest] max_record_bytes`) is a `record-too-large` finding
and is never held whole in memory. A CSV file stops at such a record (where the next record
starts cannot be known without reading it), and the finding says so.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import orjson

from corpus_tools.constants import Format
from corpus_tools.model import Finding, RawArticle

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
}
FIELDS = ("id", "url", "outlet", "title", "published", "language")
BOM = "\ufeff"

Item = RawArticle | Finding


def format_of(path: Path) -> Format | None:
    """The format a file's extension stands for (None when unknown)."""
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
        yield Finding(
            "unreadable-file",
            "error",
            f"cannot read the file ({exc.strerror or exc})",
            file=name,
            hint="Check that the file exists and is readable.",
        )


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
