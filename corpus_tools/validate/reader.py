"""Stream raw tasks out of export files without holding the export in memory.

A JSON array is split into its elements in chunks: `msgspec` skips one JSON value at C speed
without building objects (decoding as `msgspec.Raw`), and reports where the value ends as
"trailing characters (byte N)". JSONL is read line by line; a single task file whole.
Memory is bounded by the chunk size and the largest task, not by the export.

Bad input never raises: every problem becomes a finding and reading goes on with the next
file (inside a broken array, the tasks before the break are still yielded).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import msgspec

from corpus_tools.model import Finding
from corpus_tools.validate.slugs import Where

CHUNK = 8 << 20
MAX_TASK_BYTES = 256 << 20
_WS = b" \t\r\n"
_TRAILING = re.compile(r"trailing characters \(byte (\d+)\)")
_MALFORMED = re.compile(r"\(byte (\d+)\)")
_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file named explicitly that is not read as tasks, and why."""

    file: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "reason": self.reason}


def split_named(paths: Iterable[Path], *, root: Path) -> tuple[list[Path], list[Skipped]]:
    """The paths to validate, and the files named explicitly that a folder walk would skip.

    `corpus validate FILE` applies the folder walk's rule (so a pre-commit hook handed a pulled
    `_project.json` does not report it as a broken task); folders, and paths that do not
    exist (validation reports them), are kept as they are.
    """
    from corpus_tools.exports import skip_reason  # the folder walk's own rule

    keep: list[Path] = []
    skipped: list[Skipped] = []
    for p in paths:
        why = skip_reason(p, root) if p.is_file() else None  # a missing path: an error
        if why is None:
            keep.append(p)
        else:
            skipped.append(Skipped(str(p), why))
    return keep, skipped


@dataclass(frozen=True, slots=True)
class RawTask:
    """One task's JSON bytes and where they were found."""

    raw: bytes
    where: Where


def read_tasks(path: Path, display: str, findings: list[Finding]) -> Iterator[RawTask]:
    """Yield the raw tasks of one file; append file-level problems to `findings`."""
    try:
        fh = open(path, "rb")  # noqa: SIM115  (closed in the finally below)
    except OSError as exc:
        findings.append(Where(display).finding("file-unreadable", f"cannot read: {exc.strerror}"))
        return
    try:
        head = fh.read(4)
        body_start = _check_bom(head, display, findings)
        if body_start is None:
            return
        fh.seek(body_start)
        suffix = path.suffix.lower()
        if suffix in (".csv", ".tsv"):
            _csv(fh.readline(CHUNK), suffix, display, findings)
        elif suffix == ".jsonl":
            yield from _read_jsonl(fh, display, findings)
        else:
            yield from _read_json(fh, display, findings)
    except OSError as exc:
        findings.append(Where(display).finding("file-unreadable", f"read failed: {exc.strerror}"))
    finally:
        fh.close()


def _csv(header: bytes, suffix: str, display: str, findings: list[Finding]) -> None:
    """One finding for a CSV or TSV file: Label Studio's lossy export, or not an export."""
    from corpus_tools.exports import LOSSY, csv_export_kind

    kind = csv_export_kind(header.decode("utf-8", "replace"), suffix)
    what = LOSSY[kind] if kind else f"a {suffix[1:].upper()} file, not a Label Studio JSON export"
    findings.append(Where(display, line=1).finding("lossy-export", f"{what}: not read"))


def _check_bom(head: bytes, display: str, findings: list[Finding]) -> int | None:
    if head.startswith(_UTF8_BOM):
        findings.append(Where(display, line=1).finding("utf8-bom", "file starts with a UTF-8 BOM"))
        return len(_UTF8_BOM)
    for bom, name in _OTHER_BOMS:
        if head.startswith(bom):
            findings.append(
                Where(display, line=1).finding("bad-encoding", f"file is {name}, not UTF-8")
            )
            return None
    return 0


def _read_jsonl(fh: BinaryIO, display: str, findings: list[Finding]) -> Iterator[RawTask]:
    """One task per line. A line that is no task and longer than a chunk (binary junk, a
    1 GB line) ends the file's reading with a finding: its next line cannot be trusted."""
    lineno = 0
    while True:
        line = fh.readline(CHUNK)
        if not line:
            return
        lineno += 1
        if not line.endswith(b"\n") and len(line) == CHUNK:
            if not line.lstrip(_WS).startswith(b"{"):
                findings.append(
                    Where(display, line=lineno).finding(
                        "not-json",
                        f"line {lineno} is not a JSON object and is longer than "
                        f"{CHUNK >> 20} MiB; the rest of the file was not read",
                    )
                )
                return
            parts = [line]
            size = len(line)
            while size <= MAX_TASK_BYTES and not parts[-1].endswith(b"\n"):
                more = fh.readline(CHUNK)
                if not more:
                    break
                parts.append(more)
                size += len(more)
            if size > MAX_TASK_BYTES:
                findings.append(
                    Where(display, line=lineno).finding(
                        "too-large",
                        f"line {lineno} is longer than {MAX_TASK_BYTES >> 20} MiB; "
                        "the rest of the file was not read",
                    )
                )
                return
            line = b"".join(parts)
        if not line.strip(_WS):
            continue
        yield RawTask(line, Where(display, line=lineno))


class _Buffer:
    """A growing window over a file: `data[pos:]` is unread, `line` counts newlines before pos."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.data = b""
        self.pos = 0
        self.line = 1
        self.eof = False

    def more(self) -> bool:
        """Read another chunk (at least doubling what is unread); False at end of file."""
        if self.eof:
            return False
        unread = len(self.data) - self.pos
        chunk = self.fh.read(max(CHUNK, unread))
        self.data = self.data[self.pos :] + chunk
        self.pos = 0
        if not chunk:
            self.eof = True
            return False
        return True

    def skip_ws(self) -> bool:
        """Move past whitespace; False when the file ends first."""
        while True:
            data, n = self.data, len(self.data)
            while self.pos < n and data[self.pos] in _WS:
                if data[self.pos] == 10:
                    self.line += 1
                self.pos += 1
            if self.pos < n:
                return True
            if not self.more():
                return False

    def advance(self, n: int) -> None:
        self.line += self.data.count(b"\n", self.pos, self.pos + n)
        self.pos += n


def _read_json(fh: BinaryIO, display: str, findings: list[Finding]) -> Iterator[RawTask]:
    buf = _Buffer(fh)
    if not buf.skip_ws():
        findings.append(Where(display).finding("not-json", "file is empty"))
        return
    first = buf.data[buf.pos]
    if first == ord("["):
        buf.advance(1)
        yield from _read_array(buf, display, findings)
        return
    # A single value: a task file as `corpus ls pull` writes it, or something wrong.
    start_line = buf.line
    value = _next_value(buf, display, findings, index=None)
    if not value:
        return
    if first != ord("{"):
        findings.append(
            Where(display, line=start_line).finding(
                "not-a-task", "top level is not a task object or an array of tasks"
            )
        )
        return
    if buf.skip_ws():
        findings.append(
            Where(display, line=buf.line).finding(
                "not-json", f"more data after the task (line {buf.line})"
            )
        )
        return
    yield RawTask(value, Where(display, line=start_line))


def _read_array(buf: _Buffer, display: str, findings: list[Finding]) -> Iterator[RawTask]:
    index = 0
    while True:
        if not buf.skip_ws():
            findings.append(
                Where(display, line=buf.line).finding(
                    "truncated-file", f"the array ends after {index} tasks without `]`"
                )
            )
            return
        if buf.data[buf.pos] == ord("]") and index == 0:
            buf.advance(1)
            break
        line = buf.line
        value = _next_value(buf, display, findings, index=index)
        if value is None:
            return
        if value:
            yield RawTask(value, Where(display, line=line, prefix=f"/{index}"))
        index += 1
        if not buf.skip_ws():
            findings.append(
                Where(display, line=buf.line).finding(
                    "truncated-file", f"the array ends after {index} tasks without `]`"
                )
            )
            return
        sep = buf.data[buf.pos]
        if sep == ord(","):
            buf.advance(1)
            continue
        if sep == ord("]"):
            buf.advance(1)
            break
        findings.append(
            Where(display, line=buf.line).finding(
                "not-json", f"expected `,` or `]` after task {index - 1} (line {buf.line})"
            )
        )
        return
    if buf.skip_ws():
        findings.append(
            Where(display, line=buf.line).finding(
                "not-json", f"more data after the array (line {buf.line})"
            )
        )


def _next_value(
    buf: _Buffer, display: str, findings: list[Finding], *, index: int | None
) -> bytes | None:
    """The bytes of the JSON value at buf.pos (buf.pos moves past it).

    None when reading must stop (a finding says why); empty when a too-large value was skipped.
    """
    what = f"task {index}" if index is not None else "the file"
    while True:
        view = memoryview(buf.data)[buf.pos :]
        try:
            msgspec.json.decode(view, type=msgspec.Raw)
        except msgspec.DecodeError as exc:
            msg = str(exc)
            m = _TRAILING.search(msg)
            if m:
                end = int(m.group(1)) - 1
                if end > MAX_TASK_BYTES:
                    findings.append(
                        Where(display, line=buf.line).finding(
                            "too-large", f"{what} is larger than {MAX_TASK_BYTES >> 20} MiB"
                        )
                    )
                    buf.advance(end)
                    return b""  # skipped; reading goes on after it
                value = bytes(view[:end]).rstrip(_WS)
                buf.advance(end)
                return value
            if "truncated" in msg:
                if len(view) > MAX_TASK_BYTES:
                    findings.append(
                        Where(display, line=buf.line).finding(
                            "too-large", f"{what} is larger than {MAX_TASK_BYTES >> 20} MiB"
                        )
                    )
                    return None
                if buf.more():
                    continue
                findings.append(
                    Where(display, line=buf.line).finding(
                        "truncated-file", f"the file ends inside {what} (from line {buf.line})"
                    )
                )
                return None
            m = _MALFORMED.search(msg)
            line = buf.line
            if m:
                line += view[: int(m.group(1))].tobytes().count(b"\n")
            findings.append(
                Where(display, line=line).finding(
                    "not-json", f"invalid JSON in {what} at line {line}: {_clean(msg)}"
                )
            )
            return None
        except RecursionError:
            findings.append(
                Where(display, line=buf.line).finding(
                    "not-json", f"{what} is nested too deeply to be a Label Studio task"
                )
            )
            return None
        else:
            # The value runs to the end of what was read: read on, unless the file ended.
            if buf.more():
                continue
            value = bytes(memoryview(buf.data)[buf.pos :]).rstrip(_WS)
            buf.advance(len(buf.data) - buf.pos)
            return value


def _clean(msg: str) -> str:
    return msg.removeprefix("JSON is malformed: ")
