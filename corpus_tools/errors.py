"""One root exception with structured attributes; the CLI maps each type to a message and an
exit code (DESIGN contract 8: 0 ok, 1 the data failed a check, 2 usage or configuration)."""

from __future__ import annotations

import errno
import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import shutil
    import sqlite3

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2


class CorpusError(Exception):
    """Root of every error the toolkit raises on purpose."""

    exit_code: int = EXIT_USAGE
    slug: str = "error"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        path: str | None = None,
        task_id: int | str | None = None,
        annotation_id: int | str | None = None,
        region_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = path
        self.task_id = task_id
        self.annotation_id = annotation_id
        self.region_id = region_id

    def location(self) -> str:
        """Where the problem is, as `file, task 3, annotation 7, region n1` (empty if unknown)."""
        parts = []
        if self.path:
            parts.append(str(self.path))
        if self.task_id is not None:
            parts.append(f"task {self.task_id}")
        if self.annotation_id is not None:
            parts.append(f"annotation {self.annotation_id}")
        if self.region_id is not None:
            parts.append(f"region {self.region_id}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, object]:
        """The error for JSON output (`--json`): slug, message, hint and where."""
        return {
            "slug": self.slug,
            "message": printable(self.message),
            "hint": self.hint,
            "path": printable_path(self.path) or None,
            "task_id": self.task_id,
            "annotation_id": self.annotation_id,
            "region_id": self.region_id,
        }


class ConfigError(CorpusError):
    """corpus.toml (or another configuration input) is missing or invalid."""

    exit_code = EXIT_USAGE
    slug = "config-error"


class UsageError(CorpusError):
    """The command was called in a way that cannot work (bad option, missing input)."""

    exit_code = EXIT_USAGE
    slug = "usage-error"


class DataError(CorpusError):
    """The data itself failed a check (bad article, bad annotation, stale task)."""

    exit_code = EXIT_DATA
    slug = "data-error"


class LabelStudioError(CorpusError):
    """The Label Studio server is unreachable, refuses our key, or lacks the project."""

    exit_code = EXIT_USAGE
    slug = "label-studio-error"


class PublishError(CorpusError):
    """Publishing was refused: the version exists, the parent is stale, or the target fails."""

    exit_code = EXIT_USAGE
    slug = "publish-refused"


class FileSystemError(CorpusError):
    """The file system refused an operation: disk full, name too long, permission denied, ...

    Built from an OSError with `from_os_error`, which names the path and says what to do. Exit
    2: the data is fine, the place it is read from or written to is not (the previous files are
    left as they were: every write goes through a temporary file, DESIGN contract 5).
    """

    exit_code = EXIT_USAGE

    @classmethod
    def from_os_error(cls, exc: OSError, path: object | None = None) -> FileSystemError:
        """The error for `exc`; `path` names the file when the OSError does not (writes)."""
        code = exc.errno
        named = exc.filename2 if exc.filename2 and code != errno.ENOENT else exc.filename
        where = printable_path(named if named is not None else path)
        slug, what, hint = _OS_ERRORS.get(
            code if code is not None else -1,
            (
                "file-system-error",
                exc.strerror or str(exc),
                "Check the path and the disk, then run the command again.",
            ),
        )
        message = f"{where}: {what}" if where else what
        err = cls(message, hint=hint, path=where or None)
        err.slug = slug
        return err

    @classmethod
    def from_copy_error(cls, exc: shutil.Error) -> FileSystemError | None:
        """The error for a failed `shutil.copytree` (it gathers each file's failure as text);
        None when the first failure is not an ordinary file-system one."""
        failures = exc.args[0] if exc.args and isinstance(exc.args[0], list) else []
        if not failures or not isinstance(failures[0], tuple) or len(failures[0]) != 3:
            return None
        src, dst, why = failures[0]
        code = re.search(r"\[Errno (\d+)\]", str(why))
        if code is None or int(code.group(1)) not in FILE_SYSTEM_ERRNOS:
            return None
        err = cls.from_os_error(OSError(int(code.group(1)), str(why)), path=dst)
        more = f"; {len(failures) - 1} more files failed" if len(failures) > 1 else ""
        err.message += f" (copying {printable_path(src)}{more})"
        return err

    @classmethod
    def from_sqlite_error(
        cls, exc: sqlite3.Error, path: object | None = None
    ) -> FileSystemError | None:
        """The error for a SQLite failure that is the file system's (a scratch database on
        a full disk, ...); None for any other SQLite error (a bug: keep its traceback)."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        for prefix, (slug, what, hint) in _SQLITE_ERRORS.items():
            if name.startswith(prefix):
                where = printable_path(path)
                what = f"{what} (SQLite: {exc}, {name})"
                err = cls(f"{where}: {what}" if where else what, hint=hint, path=where or None)
                err.slug = slug
                return err
        return None


def printable_path(path: object | None) -> str:
    """A path as text that can always be printed and encoded as UTF-8.

    File names that are not UTF-8 arrive as lone surrogates (PEP 383); they are shown as
    `\\xff` escapes instead of failing the terminal or JSON encoder.
    """
    if path is None:
        return ""
    if isinstance(path, bytes):
        return path.decode("utf-8", "backslashreplace")
    text = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
    if isinstance(text, bytes):
        return text.decode("utf-8", "backslashreplace")
    return printable(text)


def printable(text: str) -> str:
    """`text` with lone surrogates (undecodable bytes of a file name) as `\\xNN` escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


_SAME_PLACE = "A file is replaced only once its new version is complete: none is half-written."
_OS_ERRORS: dict[int, tuple[str, str, str]] = {
    errno.ENOSPC: (
        "disk-full",
        "no space left on the device",
        f"Free some disk space (or point the corpus at a larger disk) and run it again. "
        f"{_SAME_PLACE}",
    ),
    errno.EDQUOT: (
        "disk-full",
        "disk quota exceeded",
        f"Free some space within your quota and run it again. {_SAME_PLACE}",
    ),
    errno.EFBIG: (
        "file-too-large",
        "file too large for this system (a file size limit, `ulimit -f`, or the file system)",
        f"Raise the limit or write to another disk. {_SAME_PLACE}",
    ),
    errno.ENAMETOOLONG: (
        "name-too-long",
        "file name too long for this file system (usually 255 bytes per name)",
        "Shorten the name (or the id it is made from), or use a shorter folder.",
    ),
    errno.EISDIR: (
        "is-a-folder",
        "a folder is where a file belongs",
        "Move or remove that folder, then run the command again.",
    ),
    errno.ENOTDIR: (
        "not-a-folder",
        "a file is in the way where a folder belongs on this path",
        "Move or remove the file that is in the way, then run the command again.",
    ),
    errno.EEXIST: (
        "already-exists",
        "already exists and is in the way",
        "Move or remove it, then run the command again.",
    ),
    errno.ENOTEMPTY: (
        "folder-not-empty",
        "a folder that is not empty is in the way",
        "Move or remove that folder, then run the command again.",
    ),
    errno.EACCES: (
        "permission-denied",
        "permission denied",
        "Check the owner and mode of the file and its folder (`ls -ld`), or work on a copy "
        "you can write.",
    ),
    errno.EPERM: (
        "permission-denied",
        "operation not permitted",
        "Check the owner and mode of the file and its folder (`ls -ld`), or work on a copy "
        "you can write.",
    ),
    errno.EROFS: (
        "read-only-file-system",
        "the file system is read-only",
        "Work on a copy on a writable disk.",
    ),
    errno.ENOENT: (
        "no-such-file",
        "no such file or folder",
        "Check the path (relative paths start at the current folder).",
    ),
    errno.ELOOP: (
        "symlink-loop",
        "too many levels of symbolic links",
        "Fix the symbolic link that points back at itself.",
    ),
    errno.EMFILE: (
        "too-many-open-files",
        "too many open files",
        "Raise the limit (`ulimit -n`) and run it again.",
    ),
    errno.EIO: (
        "io-error",
        "input/output error (the disk or network share failed)",
        "Check the disk (`dmesg`), then run it again.",
    ),
}
# The errors above are the ordinary failures of a file system; any other OSError (a refused
# connection, a broken pipe) is not one, and is left to whoever raised it.
FILE_SYSTEM_ERRNOS = frozenset(_OS_ERRORS)

_SQLITE_ERRORS: dict[str, tuple[str, str, str]] = {
    "SQLITE_FULL": _OS_ERRORS[errno.ENOSPC],
    "SQLITE_IOERR": (
        "io-error",
        "a scratch database could not be written: the disk is full, a file size limit "
        "(`ulimit -f`) was reached, or the disk failed",
        f"Free disk space or raise the limit, then run it again. {_SAME_PLACE}",
    ),
    "SQLITE_CANTOPEN": (
        "cannot-open",
        "a scratch database could not be created (a missing folder, permission denied, or "
        "a read-only disk)",
        "Check that the build folder exists and is writable.",
    ),
    "SQLITE_READONLY": _OS_ERRORS[errno.EROFS],
}
