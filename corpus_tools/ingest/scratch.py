"""The scratch folders of `corpus ingest` (`build/.ingest-*`), and sweeping stale ones.

A run spills its rows and story sketches to a scratch folder beside the output (hundreds of MB
for a large input) and writes the new table there before renaming it into place. A run that is
killed leaves that folder behind; the next run removes it.

Stale or live? Each run holds an exclusive `flock` on `<scratch>/.lock` for its whole life. The
kernel releases it when the process ends, however it ends (SIGKILL included, and also on
another host's crash for local file systems), so a folder whose lock can be taken belongs to no
running ingest, while a concurrent run's folder (lock held) is left alone. This does not trust
pids, which are reused. A folder without a lock file is the leftover of a kill in the instant
between creating the folder and taking the lock: it is swept once it is GRACE seconds old.

Forked worker processes (`--workers`) would inherit the locked descriptor and keep the lock
alive for a moment after their parent is killed; they close it as they start.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PREFIX = ".ingest-"
LOCK = ".lock"
GRACE = 60.0


_held: set[int] = set()


def _close_inherited_locks() -> None:
    """In a forked child: drop the parent's lock descriptors (closing one of the copies
    does not release the parent's lock; only the last close or an unlock does)."""
    for fd in _held:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


os.register_at_fork(after_in_child=_close_inherited_locks)


@dataclass(frozen=True, slots=True)
class Swept:
    """The stale scratch folders a run removed, and the bytes they held."""

    folders: int = 0
    bytes: int = 0


def _size(folder: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def sweep(parent: Path, *, now: float | None = None) -> Swept:
    """Remove the scratch folders under `parent` that no running ingest holds."""
    now = time.time() if now is None else now
    folders = 0
    size = 0
    try:
        entries = sorted(parent.glob(PREFIX + "*"))
    except OSError:
        return Swept()
    for folder in entries:
        if folder.is_symlink() or not folder.is_dir():
            continue
        try:
            fd = os.open(folder / LOCK, os.O_RDWR)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if now - folder.stat().st_mtime > GRACE:
                    size += _size(folder)
                    shutil.rmtree(folder, ignore_errors=True)
                    folders += 1
            continue
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a running ingest holds it
            size += _size(folder)
            shutil.rmtree(folder, ignore_errors=True)
            folders += 1
        finally:
            os.close(fd)
    return Swept(folders, size)


@contextlib.contextmanager
def scratch_folder(parent: Path) -> Iterator[Path]:
    """A new scratch folder under `parent`, locked for this process, removed on exit."""
    while True:
        try:
            folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))
        except OSError as exc:  # it names a random folder that never was: name the parent
            raise OSError(exc.errno, exc.strerror, os.fspath(parent)) from exc
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            mine = os.path.samestat(os.fstat(fd), os.stat(folder / LOCK))
        except FileNotFoundError:
            mine = False
        if mine:
            break
        os.close(fd)  # a sweeper took it in the instant before our lock: start again
    _held.add(fd)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        _held.discard(fd)
        os.close(fd)
