"""`corpus ingest`: raw articles (txt, html, jsonl, csv, WARC, Parquet, tasks) → articles table.

One streaming pass reads, cleans, segments and indexes each article; rows are spilled to 256
scratch buckets by article_id prefix and the story index spills its shingle sets and band keys,
so memory stays flat however many articles there are. A second pass drops duplicates, links
stories, and writes the buckets in article_id order with pyarrow (zstd, row groups of 2,048).

Identity (DESIGN contract 3): `article_id` = "art-" + 16 hex of sha256 over the source identity:
the record's explicit `id`, else its URL, else its normalised text (NFC, whitespace squeezed),
never the file name or row number. `text_sha256` is over the final cleaned text, which later
stages never change. The same input gives a byte-identical file.

Label Studio exports (format `labelstudio`: tasks made elsewhere, issue 12) are the exception:
the task's text is kept verbatim (no cleaning, no headline or date-line rules, no `min_chars`
drop; annotators' offsets index exactly that string) and the article_id is the task's own
(`exports.task_article_id`: `data.article_id`, else `task-<id>`), so `corpus validate` ties the
task's annotations to the article. Two tasks of one id with the same text (one task per stance
target) give one article (an `info`); with different texts, the second is a `duplicate-id`
error naming both. Tasks of different ids are never merged for having the same text.

Duplicates: records with the same normalised text are exact duplicates, and so are records with
the same id and text; the one with the smallest article_id (then the smallest hash of its
source) is kept, so the choice does not depend on file order; the others are dropped with an
`exact-duplicate` warning. The same id with a different text is a
`duplicate-id` error (rejected). Rejected inputs (errors) make the report not ok.

Bounds: a record over `[ingest] max_record_bytes` is a `record-too-large` finding, never read
whole; a symbolic link out of the corpus is a `symlink-outside-corpus` finding, never read;
past `findings_per_slug` findings of one slug only the count is kept. The scratch folder
(`build/.ingest-*`) is locked while the run lives and swept by the next run once it is not
(`ingest.scratch`); the new table is written there and renamed over the old one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import multiprocessing
import os
import re
import sys
import threading
import time
import unicodedata
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from corpus_tools.config import CorpusConfig, IngestConfig
from corpus_tools.constants import FORMATS, Format
from corpus_tools.engine import ENGINES, Engine
from corpus_tools.errors import ConfigError, DataError, UsageError, printable, printable_path
from corpus_tools.ingest import scratch
from corpus_tools.ingest.clean import Rules, clean, parse_date, sentences
from corpus_tools.ingest.readers import format_of, pointer_offset, read_file, record_pointer
from corpus_tools.ingest.stories import MAX_BUCKET, Sketch, StoryIndex, close_all, sketch
from corpus_tools.model import Article, Finding, IngestReport, RawArticle
from corpus_tools.store import (
    ARTICLES_SCHEMA,
    article_to_row,
    atomic_path,
    display_path,
    fs_errors,
    sha256_text,
)

__all__ = ["FORMATS", "Format", "article_id_for", "build_article", "compile_rules", "ingest"]

ROW_GROUP = 2048
CHUNK = 512
# Formats whose text is kept verbatim under the record's own article_id: Label Studio tasks,
# and articles tables (`articles`: rows an earlier ingest or `corpus sample` wrote).
VERBATIM: frozenset[str] = frozenset({"labelstudio", "articles"})


def compile_rules(cfg: IngestConfig) -> Rules:
    """The cleaning rules of `[ingest]`, compiled; a bad regex is a ConfigError with its path."""

    def comp(key: str, patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
        out = []
        for i, pat in enumerate(patterns):
            try:
                out.append(re.compile(pat))
            except re.error as exc:
                raise ConfigError(
                    f"[ingest -> {key} -> {i}] is not a valid regular expression: {exc}",
                    hint="Fix the pattern (Python `re` syntax) in corpus.toml.",
                ) from None
        return tuple(out)

    return Rules(
        boilerplate=comp("boilerplate", cfg.boilerplate),
        strip_prefixes=comp("strip_prefixes", cfg.strip_prefixes),
        drop_repeated_headline=cfg.drop_repeated_headline,
        date_line=cfg.date_line,
    )


def normalise(text: str) -> str:
    """The identity form of a text: NFC, whitespace runs squeezed to one space, trimmed."""
    # str.split() splits on the whitespace `\s` matches: as re.sub(r"\s+", " ", ...).strip()
    return " ".join(unicodedata.normalize("NFC", text).split())


def article_id_for(*, id: str | None, url: str | None, text: str) -> str:
    """ "art-" + 16 hex of sha256 over the explicit id, else the URL, else the normalised text."""
    if id:
        key = "id:" + id.strip()
    elif url:
        key = "url:" + url.strip().split("#", 1)[0]
    else:
        key = "text:" + normalise(text)
    return "art-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def build_article(
    raw: RawArticle, *, rules: Rules, config: IngestConfig
) -> tuple[Article | None, list[Finding]]:
    """Clean one raw record into an Article (None when it is rejected) and its findings.

    A Label Studio task (`raw.fmt == "labelstudio"`) or a row of an articles table
    (`"articles"`) is not cleaned: see `_verbatim_body`.
    Either way a date that does not parse is left empty (an `unparsed-date` warning).
    """
    findings: list[Finding] = []
    published = raw.published
    if published is not None:
        iso = parse_date(published)
        if iso is None:
            findings.append(
                Finding(
                    "unparsed-date",
                    "warning",
                    f"published date {published!r} is not a date; left empty",
                    file=raw.file,
                    line=raw.line,
                    pointer=record_pointer(raw.source, raw.file),
                    hint="Write dates as YYYY-MM-DD.",
                )
            )
        published = iso
    if raw.fmt in VERBATIM:
        body = _verbatim_body(raw, published, findings)
    else:
        body = _cleaned_body(raw, published, rules, config, findings)
    if body is None:
        return None, findings
    article_id, title, published, text = body
    language = raw.language or config.default_language
    article = Article(
        article_id=article_id,
        source=raw.source,
        outlet=raw.outlet,
        url=raw.url,
        title=title,
        published=published,
        language=language,
        text=text,
        text_sha256=sha256_text(text),
        sentences=sentences(text, language),
    )
    return article, findings


# An article's article_id, title, published date and text, before its sentences are split.
Body = tuple[str, str | None, str | None, str]


def _cleaned_body(
    raw: RawArticle,
    published: str | None,
    rules: Rules,
    config: IngestConfig,
    findings: list[Finding],
) -> Body | None:
    """The cleaned text of a record under the id of its source identity (`article_id_for`);
    None, with an error in `findings`, when too little text is left."""
    c = clean(raw.text, rules=rules, title=raw.title, published=published)
    if not c.text.strip():
        findings.append(
            Finding(
                "empty-body",
                "error",
                "no article text left" + (" after cleaning" if raw.text.strip() else ""),
                file=raw.file,
                line=raw.line,
                pointer=record_pointer(raw.source, raw.file),
                hint="Give the article body; boilerplate-only input is rejected.",
            )
        )
        return None
    if len(c.text) < config.min_chars:
        findings.append(
            Finding(
                "short-body",
                "error",
                f"only {len(c.text)} characters of text after cleaning "
                f"(minimum {config.min_chars})",
                file=raw.file,
                line=raw.line,
                pointer=record_pointer(raw.source, raw.file),
                hint="Lower `[ingest] min_chars` in corpus.toml if short items are wanted.",
            )
        )
        return None
    article_id = article_id_for(id=raw.id, url=raw.url, text=c.text)
    return article_id, c.title, c.published, c.text


def _verbatim_body(raw: RawArticle, published: str | None, findings: list[Finding]) -> Body | None:
    """A Label Studio task's text as it is, under the task's own article_id (an articles
    table's row: under its article_id); None, with an error in `findings`, for a record
    without text or id.

    Nothing is cleaned or dropped: the annotations made on the task index this exact string,
    and one changed character would make every offset after it wrong; an articles table's
    text was cleaned when it was first ingested, and its id must not change.
    """
    if not raw.text.strip() or not raw.id:
        findings.append(
            Finding(
                "empty-body",
                "error",
                "the task has no text" if raw.id else "the task has no id",
                file=raw.file,
                line=raw.line,
                hint="Give the task its text (and an id or `data.article_id`).",
            )
        )
        return None
    return raw.id, raw.title, published, raw.text


def _explicit(config: CorpusConfig, paths: list[Path] | None) -> bool:
    """True when `paths` names inputs other than the corpus's articles folder itself."""
    if not paths:
        return False
    articles = Path(os.path.abspath(config.paths.articles))
    return any(Path(os.path.abspath(p)) != articles for p in paths)


LOST_SHOWN = 5


def _article_ids(path: Path) -> pa.ChunkedArray | None:
    """The article_id column of an articles table (a file, or a folder of `part-*.parquet`
    shards); None when there is none or it cannot be read as one (nothing to keep)."""
    files = sorted(path.glob("part-*.parquet")) if path.is_dir() else [path]
    if not path.exists() or not files:
        return None
    try:
        return pa.concat_tables([pq.read_table(f, columns=["article_id"]) for f in files]).column(
            "article_id"
        )
    except (pa.ArrowException, OSError, KeyError):
        return None


def refuse_lost_articles(*, old: Path, new: Path) -> None:
    """Raise a DataError (exit 1) when the articles table at `old` holds article_ids that the
    table written at `new` lacks: an ingest of a few named files would silently drop the rest
    of the corpus. The message gives how many and the first LOST_SHOWN ids (sorted)."""
    held = _article_ids(old)
    if held is None or len(held) == 0:
        return
    kept = _article_ids(new)
    import pyarrow.compute as pc

    if kept is None:
        kept = pa.chunked_array([], pa.string())
    lost = held.filter(pc.invert(pc.is_in(held, value_set=kept.combine_chunks())))
    if len(lost) == 0:
        return
    ids = sorted(lost.to_pylist())
    first = ", ".join(ids[:LOST_SHOWN]) + (
        f" and {len(ids) - LOST_SHOWN} more" if len(ids) > LOST_SHOWN else ""
    )
    shown = display_path(old)
    raise DataError(
        f"ingest refused: {shown} holds {len(held)} articles and the new table from the "
        f"files given would drop {len(ids)} of them ({first}); nothing was written",
        path=shown,
        hint=f"Write these files elsewhere (--out FILE), ingest the whole articles folder "
        f"(`corpus ingest` without files), or replace {shown} on purpose with "
        "--allow-deletions.",
    )


def _id_key(article_id: str) -> int:
    """A 64-bit key for an article_id: the hex of our own `art-` ids, a hash of any other
    (a Label Studio task's id). Equal ids give equal keys; others collide with odds 2^-64."""
    if len(article_id) == 20 and article_id.startswith("art-"):
        try:
            return int(article_id[4:], 16)
        except ValueError:
            pass
    return _h64("id:" + article_id)


def _display(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


Discovered = tuple[Path, str, Format | None] | Finding


def _discover(
    config: CorpusConfig, paths: list[Path] | None, fmt: str | None
) -> Iterator[Discovered]:
    """The files to read (path, name shown in findings, format), and findings for the entries
    that are not read: links that leave the corpus, names that are not UTF-8, ..."""
    corpus = config.paths.root.resolve()
    roots = [config.paths.articles] if not paths else [Path(p) for p in paths]
    for root in roots:
        if not root.exists():
            raise UsageError(
                f"{printable_path(root)}: no such file or folder",
                hint="Give existing files or folders, or put articles in the folder named by "
                "`[paths] articles` in corpus.toml.",
                path=str(root),
            )
        if root.is_dir():
            found: list[tuple[Path, Finding | None]] = []
            _walk(root, (corpus, root.resolve()), corpus, found)
            entries = sorted(found, key=lambda e: e[0])
        else:
            entries = [(root, None)]  # named on the command line: the user's choice
        for path, finding in entries:
            if finding is not None:
                yield finding
                continue
            name = _display(path, corpus)
            if printable(name) != name:
                yield Finding(
                    "undecodable-file-name",
                    "error",
                    "the file name is not UTF-8; not read",
                    file=printable(name),
                    hint="Rename it with a UTF-8 name (e.g. `convmv -f latin1 -t utf-8 "
                    "--notest FILE`); its name becomes the article's `source`.",
                )
                continue
            yield path, name, _as_format(fmt) or format_of(path)


def _walk(
    folder: Path, inside: tuple[Path, ...], corpus: Path, out: list[tuple[Path, Finding | None]]
) -> None:
    """Collect the files under `folder` (names starting with `.` or `_` are skipped).

    A symbolic link is read only when it points inside the corpus (or the folder walked): a
    link out of it is a `symlink-outside-corpus` error, so a stray link cannot publish a file
    from elsewhere on the machine. Links to folders are not followed (they would read files
    twice, or forever).
    """
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        out.append((folder, _entry_finding(folder, corpus, "unreadable-folder", exc)))
        return
    for entry in entries:
        if entry.name.startswith((".", "_")):
            continue
        path = Path(entry.path)
        if entry.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                out.append((path, _entry_finding(path, corpus, "broken-symlink", None)))
                continue
            if not any(target.is_relative_to(p) for p in inside):
                out.append((path, _entry_finding(path, corpus, "symlink-outside-corpus", target)))
            elif target.is_dir():
                out.append((path, _entry_finding(path, corpus, "symlinked-folder", target)))
            elif target.is_file():
                out.append((path, None))
        elif entry.is_dir(follow_symlinks=False):
            _walk(path, inside, corpus, out)
        elif entry.is_file(follow_symlinks=False):
            out.append((path, None))


def _entry_finding(path: Path, corpus: Path, slug: str, about: object) -> Finding:
    name = printable(_link_name(path, corpus))
    if slug == "symlink-outside-corpus":
        return Finding(
            slug,
            "error",
            f"a symbolic link to {printable_path(about)}, outside the corpus; not read",
            file=name,
            hint="Copy the file into the corpus if it belongs there, or remove the link.",
        )
    if slug == "symlinked-folder":
        return Finding(
            slug,
            "info",
            "a symbolic link to a folder; not followed",
            file=name,
            hint="Name the folder itself on the command line to read it.",
        )
    if slug == "broken-symlink":
        return Finding(
            slug,
            "error",
            "a symbolic link to nothing (or a loop of links); not read",
            file=name,
            hint="Fix or remove the link.",
        )
    reason = about.strerror if isinstance(about, OSError) else about
    return Finding(
        slug,
        "error",
        f"cannot list the folder ({reason})",
        file=name,
        hint="Check that the folder is readable.",
    )


def _link_name(path: Path, corpus: Path) -> str:
    """Where an entry is, without following it (a link's own place, not its target's)."""
    try:
        return path.absolute().relative_to(corpus).as_posix()
    except ValueError:
        return path.as_posix()


def _as_format(fmt: str | None) -> Format | None:
    for f in FORMATS:
        if f == fmt:
            return f
    return None


class _Buckets:
    """Rows spilled by the first two hex digits of their article_id, read back in order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[str, IO[bytes]] = {}

    def add(self, key: str, row: bytes, meta: dict[str, Any]) -> None:
        """Spill one row (`row`: the article's row as JSON, made in a worker) with `meta`.

        `key` (`bucket_key`) is a prefix of the id's UTF-8 bytes (in hex): buckets in key order
        hold the ids in order, whatever the ids are (`art-` + 2 hex digits: 256 buckets for
        our own ids)."""
        fh = self.files.get(key)
        if fh is None:
            fh = self.files[key] = open(self.folder / f"rows-{key}.jsonl", "ab")  # noqa: SIM115
        fh.write(orjson.dumps(meta)[:-1] + b',"row":' + row + b"}\n")

    def close(self) -> None:
        close_all(list(self.files.values()))

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        self.close()
        for key in sorted(self.files):
            with open(self.folder / f"rows-{key}.jsonl", "rb") as fh:
                items = [orjson.loads(line) for line in fh]
            items.sort(key=lambda it: (it["row"]["article_id"], it["row"]["source"]))
            yield items


class _Writer:
    """A ParquetWriter whose row groups are encoded and compressed in a thread (pyarrow
    releases the GIL there) while this one prepares the next: in order, one at a time, so
    the file is the same; an error of a write is raised by the next call."""

    def __init__(self, writer: pq.ParquetWriter) -> None:
        self.writer = writer
        self.pool = ThreadPoolExecutor(1)
        self.pending: Future[None] | None = None

    def write_table(self, table: pa.Table) -> None:
        self.wait()
        self.pending = self.pool.submit(self.writer.write_table, table)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.pool.shutdown()
            self.writer.close()


def _rows_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows of ARTICLES_SCHEMA as a table: the same table as `pa.Table.from_pylist(rows,
    schema=ARTICLES_SCHEMA)`, built from buffers (from_pylist makes pyarrow import pandas,
    ~0.25 s of CPU, to ask whether a list is a pandas array)."""
    schema = ARTICLES_SCHEMA
    columns: list[pa.Array] = []
    for field in schema:
        if field.name == "sentences":
            columns.append(_sentences_array(field.type, [r["sentences"] for r in rows]))
        else:
            columns.append(_string_array([r[field.name] for r in rows]))
    return pa.Table.from_arrays(columns, schema=schema)


def _string_array(values: list[str | None]) -> pa.Array:
    n = len(values)
    encoded = [b"" if v is None else v.encode("utf-8") for v in values]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(map(len, encoded), np.int64, n), out=offsets[1:])
    if offsets[-1] > np.iinfo(np.int32).max:
        return pa.array(values, pa.string())  # pyarrow makes chunks of it
    valid = np.fromiter((v is not None for v in values), np.bool_, n)
    nulls = n - int(np.count_nonzero(valid))
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    data = pa.py_buffer(b"".join(encoded))
    return pa.Array.from_buffers(
        pa.string(), n, [bitmap, pa.py_buffer(offsets.astype(np.int32)), data], null_count=nulls
    )


def _sentences_array(kind: pa.DataType, values: list[list[dict[str, int]]]) -> pa.Array:
    n = len(values)
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(np.fromiter(map(len, values), np.int32, n), out=offsets[1:])
    m = int(offsets[-1])
    starts = np.fromiter((s["start"] for v in values for s in v), np.int32, m)
    ends = np.fromiter((s["end"] for v in values for s in v), np.int32, m)
    item = kind.value_type
    children = [
        pa.Array.from_buffers(pa.int32(), m, [None, pa.py_buffer(a)]) for a in (starts, ends)
    ]
    struct = pa.Array.from_buffers(item, m, [None], children=children)
    return pa.Array.from_buffers(kind, n, [None, pa.py_buffer(offsets)], children=[struct])


def unknown_format(path: Path, name: str) -> Finding:
    """The finding of a file that is not read: its extension names no article format."""
    return Finding(
        "unknown-format",
        "info",
        f"skipped: {path.suffix or 'no extension'} is not an article format",
        file=name,
        hint="Use .txt, .html, .jsonl, .csv, .warc/.warc.gz, .parquet (an articles table) or "
        ".json (a Label Studio export), or force one with --format.",
    )


def exact_duplicates(
    id_arr: np.ndarray, sk: np.ndarray, tk: np.ndarray, ek: np.ndarray, task: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The first duplicate pass, over records in reading order: records of one id (`id_arr`)
    keep the one with the smallest source key `sk` (then the first read); each other is an
    exact duplicate of it (reason 1: same text key `tk`, and for two tasks the same exact
    key `ek`) or an id clash (reason 2). Returns (reason int8: 0 kept; dup_of: the index of
    the kept record, own index when kept). Both engines run this (Ray: per partition of ids)."""
    n = len(id_arr)
    reason = np.zeros(n, dtype=np.int8)
    dup_of = np.arange(n, dtype=np.int64)
    order = np.lexsort((sk, id_arr))
    for pos in range(1, n):
        i, prev = int(order[pos]), int(order[pos - 1])
        if id_arr[i] == id_arr[prev]:
            head = int(dup_of[prev])
            dup_of[i] = head
            same = tk[i] == tk[head] and (not (task[i] and task[head]) or ek[i] == ek[head])
            reason[i] = 1 if same else 2
    return reason, dup_of


def text_duplicates(
    gk: np.ndarray, id_arr: np.ndarray, reason: np.ndarray, dup_of: np.ndarray
) -> None:
    """The second pass, in place: among the records still kept (reason 0), those of one text
    group key `gk` keep the smallest id (then the first read); the others become exact
    duplicates of it (reason 1)."""
    live = np.flatnonzero(reason == 0)
    order = live[np.lexsort((id_arr[live], gk[live]))]
    for pos in range(1, len(order)):
        i, prev = int(order[pos]), int(order[pos - 1])
        if gk[i] == gk[prev]:
            dup_of[i] = dup_of[prev]
            reason[i] = 1


# The kept record of a duplicate, when it is in the same scratch bucket (`bucket_key`) as
# the copy: its article_id, whether it is a task, its file and line.
KeptRecord = tuple[str, bool, str, int | None]


def duplicate_finding(
    *,
    clash: bool,
    kept_key: int,
    first: KeptRecord | None,
    article_id: str,
    task: bool,
    file: str,
    line: int | None,
    source: str = "",
) -> Finding:
    """The finding of a dropped copy (`exact-duplicate`), a rejected id clash (`duplicate-id`)
    or a second task of one article (`same-article-task`); both engines make them here.
    `source` (the record's) locates a WARC record in its file (`readers.record_pointer`)."""
    pointer = record_pointer(source, file)
    # a copy of a task is in the bucket of its id; any other copy is of one of our own
    # `art-` ids, whose key is its hex
    kept = first[0] if first is not None else f"art-{kept_key:016x}"
    if clash and first is not None and first[1]:
        where = first[2] + (f":{first[3]}" if first[3] is not None else "")
        message = f"a second task of {kept} with a different text than the one at {where}; rejected"
    elif clash:
        message = f"id of {kept} again, with a different text; rejected"
    else:
        message = f"same text as {kept}; dropped"
    if not clash and task and first is not None and first[1] and first[0] == article_id:
        return Finding(
            "same-article-task",
            "info",
            f"another task of {kept} with the same text; one article kept",
            file=file,
            line=line,
            pointer=pointer,
        )
    return Finding(
        "duplicate-id" if clash else "exact-duplicate",
        "error" if clash else "warning",
        message,
        file=file,
        line=line,
        pointer=pointer,
        hint=(
            "Give each article its own `id`."
            if clash and not task
            else "Tasks of one article must show one text: fix the task's data (or its article_id)."
            if clash
            else "Remove the copy from the input to silence this."
        ),
    )


def _h64(s: str) -> int:
    return int.from_bytes(hashlib.sha256(s.encode("utf-8")).digest()[:8], "big")


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("ingest"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[articles]} articles"),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        yield bar, bar.add_task("ingest", total=total, articles=0)


def bucket_key(article_id: str) -> str:
    """The scratch bucket of an article_id (see `_Buckets.add`)."""
    return article_id.encode("utf-8", "surrogatepass")[:6].hex()


class Payload(NamedTuple):
    """What the main process needs of one built article: compact, made in a worker."""

    row: bytes  # the article's row (ARTICLES_SCHEMA, no story yet) as JSON
    bucket: str
    sketch: Sketch
    id_key: int
    text_key: int  # of the normalised text
    exact_key: int  # of the verbatim text (tasks only, else 0)
    group_key: int
    source_key: int  # tasks: 0 here, numbered in reading order by the main process
    task: bool


Built = tuple[list[Finding], Payload | None]
_worker_state: dict[str, Any] = {}


def _build_one(raw: RawArticle, rules: Rules, config: IngestConfig) -> Built:
    article, found = build_article(raw, rules=rules, config=config)
    if article is None:
        return found, None
    verbatim = raw.fmt == "labelstudio"
    norm = normalise(article.text)
    text_key = _h64(norm)
    if verbatim:
        # tasks of other ids stay separate articles (their annotations name their own id);
        # of one id, an article read from another format is kept (its metadata), else the
        # first task read
        exact_key, group_key, source_key = (
            _h64(article.text),
            _h64(f"{article.article_id}\0{norm}"),
            0,
        )
    else:
        # halved: below every task's key, in the same order as before
        exact_key, group_key, source_key = 0, text_key, _h64(article.source) >> 1
    return found, Payload(
        row=orjson.dumps(article_to_row(article)),
        bucket=bucket_key(article.article_id),
        sketch=sketch(article.text, config.near_duplicates),
        id_key=_id_key(article.article_id),
        text_key=text_key,
        exact_key=exact_key,
        group_key=group_key,
        source_key=source_key,
        task=verbatim,
    )


def _build_chunk(raws: list[RawArticle], rules: Rules, config: IngestConfig) -> list[Built]:
    return [_build_one(r, rules, config) for r in raws]


def _worker_init(rules: Rules, config: IngestConfig) -> None:
    _worker_state["args"] = (rules, config)


def _worker_chunk(raws: list[RawArticle]) -> list[Built]:
    return _build_chunk(raws, *_worker_state["args"])


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextlib.contextmanager
def _builder(
    rules: Rules, config: IngestConfig, workers: int
) -> Iterator[Callable[[list[RawArticle]], Callable[[], list[Built]]]]:
    """Build chunks of records (clean, segment, sketch, serialise): `submit(raws)` starts one
    and returns the function that waits for its results, in this process or in a pool."""
    if workers <= 1:

        def now(raws: list[RawArticle]) -> Callable[[], list[Built]]:
            built = _build_chunk(raws, rules, config)
            return lambda: built

        yield now
        return
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ctx.Pool(workers, initializer=_worker_init, initargs=(rules, config)) as pool:
        # This process mostly waits on the pool: it loads story clustering's compiled kernel
        # meanwhile (numba, ~0.5 s of CPU), which would otherwise be serial after the pool.
        threading.Thread(target=_load_kernel, daemon=True).start()
        yield lambda raws: pool.apply_async(_worker_chunk, (raws,)).get


def _load_kernel() -> None:
    # a failure here is raised again where the kernel is first used
    with contextlib.suppress(Exception):
        importlib.import_module("corpus_tools.ingest._jaccard")


def _finding_order(f: Finding) -> tuple[str, int, int, str, str]:
    """Findings in file order: by file, line, a WARC record's byte offset, slug, message."""
    return (f.file or "", f.line or 0, pointer_offset(f.pointer), f.slug, f.message)


class _Findings:
    """Findings with exact counts per slug; past `limit` of one slug only the count is kept.

    A million rejected lines would otherwise keep a million Findings in memory and in the
    report; a summary finding (`findings-summarised`) says how many more there were.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept: list[Finding] = []
        self.counts: dict[tuple[str, str], int] = {}
        self.errors = 0

    def add(self, f: Finding) -> None:
        key = (f.slug, f.severity)
        n = self.counts[key] = self.counts.get(key, 0) + 1
        self.errors += f.severity == "error"
        if n <= self.limit:
            self.kept.append(f)

    def extend(self, found: list[Finding]) -> None:
        for f in found:
            self.add(f)

    def result(self) -> tuple[Finding, ...]:
        out = sorted(self.kept, key=_finding_order)
        for (slug, severity), n in sorted(self.counts.items()):
            if n > self.limit:
                out.append(
                    Finding(
                        "findings-summarised",
                        "info",
                        f"{n - self.limit:,} more `{slug}` {severity}s not listed "
                        f"({n:,} in all; the first {self.limit:,} are above)",
                        hint="Fix the ones listed and run again; the rest are often the same.",
                    )
                )
        return tuple(out)


def ingest(
    *,
    config: CorpusConfig,
    paths: list[Path] | None = None,
    fmt: str | None = None,
    progress: bool = False,
    workers: int = 1,
    findings_per_slug: int = 200,
    engine: Engine = "local",
    out: Path | None = None,
    address: str | None = None,
    shards: int | None = None,
    allow_deletions: bool = False,
) -> IngestReport:
    """Read articles (the `[paths] articles` folder, or `paths`) into build/articles.parquet
    (or `out`).

    `engine="ray"` runs the same per-record code and duplicate passes on Ray Data (a local
    instance of `workers` CPUs, or the cluster at `address`) and writes `out` (default
    build/pool) as a folder of `shards` sorted Parquet shards with the same rows: see
    `ingest.on_ray`, which imports Ray (the local engine never does).

    `fmt` forces one input format for every file (else the extension decides). `workers` > 1
    builds the articles (cleaning, sentences, sketches, rows) in that many processes, while
    this one reads and spills (at most 2 chunks of CHUNK records per worker in flight, so
    memory stays bounded), and shares the exact checks of story clustering between that many
    threads; the output does not depend on it. Returns the counts and the findings: all of
    them up to `findings_per_slug` of one slug, then a summary (counts stay exact); rejected
    inputs are errors, and every good article is written.

    Explicit `paths` (other than the articles folder itself) written to the default output
    may not drop articles that output holds: when the new table lacks some of its
    article_ids, the run is refused (DataError, exit 1) before anything is written, unless
    `allow_deletions` (see `refuse_lost_articles`). The articles folder is the truth: an
    ingest of it, or one written elsewhere (`out`), replaces the output as it is.

    The table is replaced atomically: a failure or a kill leaves the previous one. Scratch
    folders of killed runs (`build/.ingest-*`) are swept first (see `ingest.scratch`). A
    file-system failure (disk full, ...) is a FileSystemError naming the build folder.
    """
    if workers < 1:
        raise UsageError(f"workers must be at least 1, not {workers}")
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}", hint=f"Use one of: {', '.join(FORMATS)}.")
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}", hint=f"Use one of: {', '.join(ENGINES)}.")
    if engine != "ray" and (address is not None or shards is not None):
        raise UsageError(
            "--address and --shards are options of --engine ray",
            hint="Add --engine ray, or drop them.",
        )
    if shards is not None and shards < 1:
        raise UsageError(f"shards must be at least 1, not {shards}")
    rules = compile_rules(config.ingest)
    if engine == "ray":
        from corpus_tools.ingest.on_ray import ingest_on_ray

        default = config.paths.articles_parquet.parent / "pool"
    else:
        default = config.paths.articles_parquet
    out = Path(out) if out is not None else default
    guard: Callable[[Path], None] | None = None
    if (
        not allow_deletions
        and _explicit(config, paths)
        and Path(os.path.abspath(out)) == Path(os.path.abspath(default))
    ):
        target = out

        def guard(new: Path) -> None:
            refuse_lost_articles(old=target, new=new)

    with fs_errors(out.parent):
        out.parent.mkdir(parents=True, exist_ok=True)
        swept = scratch.sweep(out.parent)
        for old in out.parent.glob(f".{out.name}.*.tmp"):  # written beside it before scratch
            with contextlib.suppress(OSError):
                if time.time() - old.stat().st_mtime > scratch.GRACE:
                    old.unlink()
        with scratch.scratch_folder(out.parent) as folder:
            if engine == "ray":
                report = ingest_on_ray(
                    config=config,
                    paths=paths,
                    fmt=fmt,
                    progress=progress,
                    workers=workers,
                    rules=rules,
                    folder=folder,
                    findings_per_slug=findings_per_slug,
                    out=out,
                    address=address,
                    shards=shards,
                    guard=guard,
                )
            else:
                report = _ingest(
                    config,
                    paths,
                    fmt,
                    progress,
                    workers,
                    rules,
                    folder,
                    findings_per_slug,
                    out,
                    guard,
                )
    if swept.folders:
        report = dataclasses.replace(
            report,
            findings=(
                Finding(
                    "stale-scratch-swept",
                    "info",
                    f"removed {swept.folders} scratch folder(s) of an interrupted ingest "
                    f"({swept.bytes / 1e6:.1f} MB)",
                    file=_display(out.parent, config.paths.root),
                ),
                *report.findings,
            ),
        )
    return report


def _ingest(
    config: CorpusConfig,
    paths: list[Path] | None,
    fmt: str | None,
    progress: bool,
    workers: int,
    rules: Rules,
    folder: Path,
    findings_per_slug: int,
    out: Path,
    guard: Callable[[Path], None] | None = None,
) -> IngestReport:
    findings = _Findings(findings_per_slug)
    files: list[tuple[Path, str, Format | None]] = []
    for item in _discover(config, paths, fmt):
        if isinstance(item, Finding):
            findings.add(item)
        else:
            files.append(item)
    max_bytes = config.ingest.max_record_bytes
    inputs = 0  # records read, plus files and lines rejected before they became records
    inputs += findings.errors
    ids, text_keys, source_keys = array("Q"), array("Q"), array("Q")
    # Label Studio tasks: the exact text (two tasks of one id must show the same string), the
    # key of the text pass (within one id only), and whether a record is a task
    exact_keys, group_keys, is_task = array("Q"), array("Q"), array("B")

    buckets = _Buckets(folder)
    index = StoryIndex(config.ingest.near_duplicates, folder)
    try:
        total = sum(f.stat().st_size for f, _, _ in files)
        # The pool is forked before the progress bar starts its refresh thread.
        with _builder(rules, config.ingest, workers) as submit, _progress(progress, total) as bar:
            # Chunks in flight (a few per worker): the pool builds while this process reads
            # the next records and spills the built ones, in reading order.
            pending: deque[tuple[list[Finding], list[RawArticle], Callable[[], list[Built]]]]
            pending = deque()

            def spill_oldest() -> None:
                nonlocal inputs
                read_findings, raws, wait = pending.popleft()
                for it in read_findings:
                    findings.add(it)
                for raw, (found, p) in zip(raws, wait(), strict=True):
                    findings.extend(found)
                    if p is None:
                        continue
                    idx = index.add_sketch(p.sketch)
                    ids.append(p.id_key)
                    text_keys.append(p.text_key)
                    is_task.append(p.task)
                    exact_keys.append(p.exact_key)
                    group_keys.append(p.group_key)
                    source_keys.append((1 << 63) + len(source_keys) if p.task else p.source_key)
                    meta: dict[str, Any] = {"idx": idx, "file": raw.file, "line": raw.line}
                    if p.task:
                        meta["task"] = True
                    buckets.add(p.bucket, p.row, meta)
                if bar is not None:
                    bar[0].update(bar[1], articles=index.n)

            for path, name, f_fmt in files:
                if f_fmt is None:
                    findings.add(unknown_format(path, name))
                    continue
                records = read_file(
                    path, name=name, fmt=f_fmt, max_bytes=max_bytes, scheme=config.scheme
                )
                for chunk in _chunks(records, CHUNK):
                    raws = [it for it in chunk if isinstance(it, RawArticle)]
                    read_findings = [it for it in chunk if isinstance(it, Finding)]
                    inputs += len(raws) + sum(it.severity == "error" for it in read_findings)
                    pending.append((read_findings, raws, submit(raws)))
                    while len(pending) > 2 * workers:
                        spill_oldest()
                if bar is not None:
                    bar[0].update(bar[1], advance=path.stat().st_size, articles=index.n)
            while pending:
                spill_oldest()

        n = index.n
        id_arr = np.frombuffer(ids, dtype=np.uint64) if n else np.zeros(0, np.uint64)
        tk = np.frombuffer(text_keys, dtype=np.uint64) if n else np.zeros(0, np.uint64)
        sk = np.frombuffer(source_keys, dtype=np.uint64) if n else np.zeros(0, np.uint64)
        ek = np.frombuffer(exact_keys, dtype=np.uint64) if n else np.zeros(0, np.uint64)
        gk = np.frombuffer(group_keys, dtype=np.uint64) if n else np.zeros(0, np.uint64)
        task = np.frombuffer(is_task, dtype=np.uint8) if n else np.zeros(0, np.uint8)
        reason, dup_of = exact_duplicates(id_arr, sk, tk, ek, task)
        text_duplicates(gk, id_arr, reason, dup_of)
        keep = reason == 0
        roots = index.components(keep, threads=workers)
        if index.skipped_buckets:
            findings.add(
                Finding(
                    "lsh-buckets-skipped",
                    "info",
                    f"story clustering skipped {index.skipped_buckets} LSH buckets shared by more "
                    f"than {MAX_BUCKET} articles (min-hashes of common words)",
                    hint="Stories are linked through the other bands; see the ingest docs.",
                )
            )
        story_min = np.full(n, np.iinfo(np.uint64).max, dtype=np.uint64)
        np.minimum.at(story_min, roots[keep], id_arr[keep])

        written = 0
        stories: set[int] = set()
        with atomic_path(out, scratch=folder) as tmp_out:
            writer = _Writer(
                pq.ParquetWriter(
                    tmp_out, ARTICLES_SCHEMA, compression="zstd", write_statistics=True
                )
            )
            batch: list[dict[str, Any]] = []
            try:
                for items in buckets:
                    here = {it["idx"]: it for it in items}
                    for it in items:
                        idx = it["idx"]
                        if reason[idx]:
                            first = here.get(int(dup_of[idx]))
                            findings.add(
                                duplicate_finding(
                                    clash=reason[idx] == 2,
                                    kept_key=int(id_arr[dup_of[idx]]),
                                    first=None
                                    if first is None
                                    else (
                                        first["row"]["article_id"],
                                        bool(first.get("task")),
                                        first["file"],
                                        first["line"],
                                    ),
                                    article_id=it["row"]["article_id"],
                                    task=bool(it.get("task")),
                                    file=it["file"],
                                    line=it["line"],
                                    source=it["row"]["source"],
                                )
                            )
                            continue
                        root = int(roots[idx])
                        stories.add(root)
                        row = it["row"]
                        row["story_id"] = f"story-{int(story_min[root]):016x}"
                        batch.append(row)
                        written += 1
                        if len(batch) >= ROW_GROUP:
                            writer.write_table(_rows_table(batch))
                            batch = []
                if batch or not written:
                    writer.write_table(_rows_table(batch))
            finally:
                writer.close()
            if guard is not None:  # before the rename: a refusal leaves the old table
                guard(tmp_out)

    finally:
        # Already closed on success; after a failure (a full disk fails the flush), close
        # them all anyway and keep the first error, so no descriptor outlives the run.
        with contextlib.suppress(OSError):
            buckets.close()
        with contextlib.suppress(OSError):
            index.close()

    return IngestReport(
        output=_display(out, config.paths.root),
        inputs=inputs,
        articles=written,
        stories=len(stories),
        duplicates=int(np.count_nonzero(reason == 1)),
        rejected=findings.errors,
        findings=findings.result(),
    )
