"""Version rules: one version, one dataset, everywhere.

- A version published anywhere is never given other content. "Published" means: the local hub
  folder holds `<hub>/<name>/vX.Y.Z`, or the publication record `<hub>/<name>/publications.json`
  (written after every successful publish, local or Hub) lists it. `corpus release` never talks
  to a server, so the record is how it knows about the Hub. Content is the release's
  `manifest.json` (it lists every file's sha256), compared by its own sha256.
- The same rule and words for `corpus release`, `corpus publish` and `corpus pipeline`: other
  content is refused (`PublishError`, exit 2, naming where it was published); identical content
  is "already published (identical files)", exit 0; an unpublished build may be rebuilt, and
  the result says so.
- A build is made in a temporary folder `<dist>/.X.Y.Z.*.tmp`, compared, then swapped in with
  one atomic exchange (Linux `renameat2(RENAME_EXCHANGE)`), so a reader of `<dist>/X.Y.Z` sees
  the old complete build or the new one, never none or a mix. A `Lease` on the folder (an
  advisory `flock` of the directory, released by the kernel when its process dies) keeps two
  runs apart and lets the next run sweep temporary folders a killed run left behind.
- Byte-identical builds depend on the versions of the libraries that write the bytes; the
  manifest records them (`tool`) and a build with other versions than `RELEASE_PINS` (the
  pins of `constraints/release.txt`) reports a warning finding.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import platform
import shutil
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import orjson

from corpus_tools import __version__, store
from corpus_tools.config import CorpusConfig
from corpus_tools.errors import PublishError, UsageError
from corpus_tools.model import Finding

MANIFEST = "manifest.json"
RECORD = "publications.json"
# The libraries whose versions shape a release's bytes: pyarrow writes the Parquet files,
# datasets the embedded features and the card's dataset_info, PyYAML the card's YAML header,
# orjson the manifest, regex the tokens (and so ner_tags), numpy the agreement bootstrap
# figures in the card. Keep in step with constraints/release.txt (a test checks).
RELEASE_PINS: dict[str, str] = {
    "pyarrow": "26.0.1",
    "datasets": "5.2.0",
    "PyYAML": "6.0.4",
    "orjson": "3.13.0",
    "regex": "2026.11.19",
    "numpy": "2.4.6",
}
CONSTRAINTS_FILE = "constraints/release.txt"
# Without flock (not POSIX), a temporary folder counts as abandoned after this long.
STALE_AFTER_S = 6 * 3600

# built: a new build, or the same files as the unpublished build already there;
# rebuilt: an unpublished build with other files was replaced;
# already-published: the same files as the published version.
Status = Literal["built", "rebuilt", "already-published"]


def library_versions() -> dict[str, str]:
    """The installed versions of the libraries in `RELEASE_PINS` ("missing" if absent)."""
    out = {}
    for name in RELEASE_PINS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def tool_info() -> dict[str, Any]:
    """The manifest's `tool` key: this tool, Python and the byte-shaping libraries."""
    return {
        "name": "corpus-tools",
        "version": __version__,
        "python": platform.python_version(),
        "libraries": library_versions(),
    }


def pin_findings() -> list[Finding]:
    """A warning for every byte-shaping library whose installed version is not the pin."""
    out = []
    for name, have in library_versions().items():
        want = RELEASE_PINS[name]
        if have != want:
            out.append(
                Finding(
                    slug="unpinned-library",
                    severity="warning",
                    message=f"{name} {have} is installed, releases are pinned to {name}=={want}: "
                    "the files may not be byte-identical to a build with the pins",
                    hint=f"Install the pins: `pip install -c {CONSTRAINTS_FILE} -e .` "
                    "(scripts/setup.sh does).",
                )
            )
    return out


def next_patch(version: str) -> str:
    major, minor, patch = (int(x) for x in version.split("."))
    return f"{major}.{minor}.{patch + 1}"


# -- what is published -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Publication:
    """One place a version was published, and the sha256 of its manifest there."""

    target: Literal["local", "hub"]
    location: str  # local: the folder (relative to the corpus root); hub: the repo id
    manifest_sha256: str
    commit: str | None = None

    def where(self) -> str:
        if self.target == "local":
            return f"the local hub folder {self.location}"
        at = f", commit {self.commit[:12]}" if self.commit else ""
        return f"the Hub ({self.location}{at})"


def relative_to_root(path: Path, config: CorpusConfig) -> str:
    """`path` relative to the corpus root (no absolute paths in records), posix style."""
    try:
        return path.resolve().relative_to(config.paths.root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def hub_base(config: CorpusConfig) -> Path:
    return config.paths.hub / config.name


def records_path(config: CorpusConfig) -> Path:
    return hub_base(config) / RECORD


def manifest_sha256(folder: Path, *, what: str) -> str:
    """The sha256 of `folder`'s manifest; UsageError (exit 2) if it is missing, empty or not a
    JSON object."""
    return read_manifest(folder, what=what)[1]


def read_manifest(folder: Path, *, what: str) -> tuple[dict[str, Any], str]:
    """`folder`'s manifest and its sha256, read once; UsageError (exit 2) if it is missing,
    empty or not a release manifest (`what` names the release in the message)."""
    path = folder / MANIFEST
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, what, exc.strerror or "cannot read") from None
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise _unreadable(path, what, "not JSON" if data.strip() else "empty") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("files"), dict):
        raise _unreadable(path, what, "not a release manifest")
    return parsed, hashlib.sha256(data).hexdigest()


def _unreadable(path: Path, what: str, reason: str) -> UsageError:
    return UsageError(
        f"{path}: unreadable manifest of {what} ({reason}); nothing was written",
        path=str(path),
        hint="Releases are never edited: restore the folder from its published copy "
        "(or remove it if it was never published).",
    )


def read_records(config: CorpusConfig) -> list[dict[str, Any]]:
    """Every recorded publication; UsageError if the record exists but cannot be read."""
    path = records_path(config)
    if not path.exists():
        return []
    try:
        data = orjson.loads(path.read_bytes())
        rows = data["publications"]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise TypeError
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        raise UsageError(
            f"{path}: unreadable record of published versions",
            path=str(path),
            hint="Restore it from version control or a backup; it is how `corpus release` "
            "knows which versions were published to the Hub.",
        ) from None
    return rows


def record_publication(config: CorpusConfig, version: str, pub: Publication) -> None:
    """Add `pub` to the record (once); written atomically."""
    rows = read_records(config)
    row = {
        "version": version,
        "target": pub.target,
        "location": pub.location,
        "commit": pub.commit,
        "manifest_sha256": pub.manifest_sha256,
    }
    if row in rows:
        return
    rows.append(row)
    rows.sort(key=lambda r: (str(r.get("version")), str(r.get("target")), str(r.get("location"))))
    store.atomic_write_bytes(records_path(config), store.dump_json({"publications": rows}))


def local_folder(config: CorpusConfig, version: str) -> Path:
    return hub_base(config) / f"v{version}"


def publications(config: CorpusConfig, version: str) -> list[Publication]:
    """Everywhere `version` is known to be published: the local hub folder, then the record."""
    found: list[Publication] = []
    folder = local_folder(config, version)
    if folder.exists():
        digest = manifest_sha256(folder, what=f"the published version v{version}")
        found.append(Publication("local", relative_to_root(folder, config), digest))
    for row in read_records(config):
        if row.get("version") != version:
            continue
        target: Literal["local", "hub"] = "hub" if row.get("target") == "hub" else "local"
        pub = Publication(
            target,
            str(row.get("location")),
            str(row.get("manifest_sha256")),
            row.get("commit") if isinstance(row.get("commit"), str) else None,
        )
        if target == "local" and folder.exists():
            continue  # the folder itself is the better witness
        found.append(pub)
    return found


def refusal(version: str, where: Publication) -> PublishError:
    """The one refusal for a published version whose content would differ."""
    tag = f"v{version}"
    return PublishError(
        f"version {tag} is already published at {where.where()} with different files; "
        "a published version is never rewritten",
        hint=f"Bump the version: `corpus release {next_patch(version)}` (then publish that). "
        f"dist/{version} was left as it was.",
    )


def identical_message(version: str, where: Publication) -> str:
    """The one answer for a published version whose content is the same."""
    return f"v{version} already published (identical files) at {where.where()}"


def check_content(version: str, digest: str, pubs: list[Publication]) -> list[Publication]:
    """`pubs` if they all hold the content `digest` names; `refusal` for the first that does
    not."""
    for pub in pubs:
        if pub.manifest_sha256 != digest:
            raise refusal(version, pub)
    return pubs


# -- leases and temporary folders --------------------------------------------------------


def _is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def sweep(folder: Path, *, min_age_s: float = 0.0) -> list[str]:
    """Remove `folder/.*.tmp` (folders and files) older than `min_age_s`; their names."""
    swept: list[str] = []
    if not folder.is_dir():
        return swept
    now = time.time()
    for p in folder.iterdir():
        if not _is_temp(p.name):
            continue
        with contextlib.suppress(OSError):
            if now - p.lstat().st_mtime < min_age_s:
                continue
            if p.is_dir() and not p.is_symlink():
                _make_writable(p)
                shutil.rmtree(p)
            else:
                p.unlink()
            swept.append(p.name)
    return sorted(swept)


def _make_writable(folder: Path) -> None:
    """Published copies are read-only files; folders stay writable, so rmtree works as is.
    Make sure of it for folders a killed run left half-made."""
    for p in folder.rglob("*"):
        if p.is_dir() and not p.is_symlink():
            with contextlib.suppress(OSError):
                p.chmod(0o755)


class Lease:
    """Exclusive use of a release folder (`dist` or `<hub>/<name>`) for one run.

    An advisory `flock` on the folder itself: the kernel drops it when the process dies, so a
    killed run never blocks the next one. Taking the lease sweeps the temporary folders of
    earlier runs (no live run can own them: it would hold the lease).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fd: int | None = None
        folder.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # no flock: only sweep what is clearly abandoned
            self.swept = sweep(folder, min_age_s=STALE_AFTER_S)
            return
        fd = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise UsageError(
                f"another `corpus release` or `corpus publish` is using {folder}",
                path=str(folder),
                hint="Wait for it to finish, then run the command again.",
            ) from None
        self.fd = fd
        self.swept = sweep(folder)

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None

    def __enter__(self) -> Lease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __del__(self) -> None:
        # At interpreter exit the module globals this needs may already be gone; the kernel
        # drops the lock with the process anyway.
        try:  # noqa: SIM105 (contextlib itself may be gone by then)
            self.release()
        except Exception:
            pass


# -- the guard a build runs under --------------------------------------------------------


@dataclass(slots=True)
class BuildGuard:
    """What a build of `version` may do, decided before `<dist>/<version>` is touched."""

    config: CorpusConfig
    version: str
    lease: Lease
    published: list[Publication]
    findings: list[Finding] = field(default_factory=list)
    status: Status = "built"
    message: str = ""

    def admit(self, new: Path, final: Path) -> bool:
        """Compare the finished build `new` with what is published; PublishError if it would
        change a published version. Sets the status and its message; True if `new` should be
        swapped in (False: `final` already holds exactly these files, intact)."""
        # The new build's manifest was just written by the build (streamed, not parsed again).
        digest = store.sha256_file(new / MANIFEST)
        same = check_content(self.version, digest, self.published)
        shown = store.display_path(final)
        if same:
            self.status = "already-published"
            self.message = f"built {shown}: {identical_message(self.version, same[0])}"
        elif os.path.lexists(final) and _digest_or_none(final) != digest:
            self.status = "rebuilt"
            self.message = f"rebuilt {shown} (not published yet; previous build replaced)"
        else:  # new, or the same files as the unpublished build already there
            self.status = "built"
            self.message = f"built {shown}"
        return not (_digest_or_none(final) == digest and _intact(final))


def _intact(folder: Path) -> bool:
    """Every file of `folder` listed in its manifest, with that checksum."""
    try:
        listed = _manifest_files(folder / MANIFEST)
        present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {
            MANIFEST
        }
        return present == set(listed) and all(
            store.sha256_file(folder / name) == meta["sha256"] for name, meta in listed.items()
        )
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        return False


def _manifest_files(path: Path) -> Any:
    """A manifest's `files`, without parsing its article rows when it has the layout
    `build.write_manifest` gives (`articles` first, one row per line; memory flat); a
    manifest of any other layout is parsed whole."""
    with open(path, "rb") as fh:
        head = fh.readline() + fh.readline()
        if head == b'{\n  "articles": [],\n':
            return orjson.loads(b"{\n" + fh.read())["files"]
        if head == b'{\n  "articles": [\n':
            for line in fh:
                if line == b"  ],\n":
                    return orjson.loads(b"{\n" + fh.read())["files"]
    return orjson.loads(path.read_bytes())["files"]


def _digest_or_none(folder: Path) -> str | None:
    try:
        return store.sha256_file(folder / MANIFEST)
    except OSError:
        return None


def guard_build(config: CorpusConfig, version: str) -> BuildGuard:
    """Read what `version` was published as (exit 2 if that cannot be read), then lease the
    dist folder, sweeping what killed runs left there and in the hub folder."""
    published = publications(config, version)
    lease = Lease(config.paths.dist)
    try:
        if hub_base(config).is_dir():
            with contextlib.suppress(UsageError):  # a publish is running there: leave it be
                Lease(hub_base(config)).release()
        return BuildGuard(config, version, lease, published, pin_findings())
    except BaseException:
        lease.release()
        raise
