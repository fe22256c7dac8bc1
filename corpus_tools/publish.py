"""Publish a built release: to the local hub folder (default) or to the Hugging Face Hub.

One version, one dataset (`release.versions`): a version already published anywhere (the local
hub folder, or the Hub as `<hub>/<name>/publications.json` records) is refused if its files
would differ, and answered "already published (identical files)" if they are the same; every
successful publication is added to that record.

Local: `<hub>/<name>/vX.Y.Z/`, one folder per version, copied in whole and renamed into place,
its files made read-only. `datasets` loads it offline with
`load_dataset("<hub>/<name>/vX.Y.Z", "entities")` (each version has its own folder because
`datasets` ignores `revision=` for local folders).

Hub: the repo is created if needed; the release goes in as ONE commit on `main` made against
the commit we inspected (`parent_commit`, so a concurrent push makes it fail with 412 instead
of silently mixing releases), then tagged `vX.Y.Z`. Data files of the previous release that
this one no longer has are deleted in the same commit; files outside `data/` that are not part
of a release (a LICENSE, images) are kept. An existing tag is compared file by file. The token comes
from the `token` argument, else `HF_TOKEN` or the stored `hf auth login`; it is never logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from corpus_tools import store
from corpus_tools.config import CorpusConfig
from corpus_tools.errors import ConfigError, DataError, PublishError, UsageError
from corpus_tools.model import PublishResult
from corpus_tools.release import versions
from corpus_tools.release.build import (
    MANIFEST,
    find_previous,
    normalize_version,
    release_folders,
)

if TYPE_CHECKING:
    from huggingface_hub import HfApi

Target = Literal["local", "hub"]
# On the Hub, a release owns `data/` (stale data files would break the card's configs),
# README.md and manifest.json; other files in the repo (.gitattributes, a LICENSE, images)
# are left alone.
DATA_PREFIX = "data/"


def release_files(folder: Path) -> dict[str, Path]:
    """Every file of a release folder by its posix path inside it."""
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}


def verify_release(folder: Path) -> dict[str, Any]:
    """The folder's manifest, after checking every file against its checksum."""
    mpath = folder / MANIFEST
    if not mpath.is_file():
        raise UsageError(
            f"{folder}: no built release here",
            path=str(folder),
            hint=f"Build it first: `corpus release {folder.name}`.",
        )
    manifest, _ = versions.read_manifest(folder, what=f"the build {folder.name}")  # or exit 2
    listed = manifest.get("files", {})
    _check_files_entries(mpath, listed)
    present = set(release_files(folder)) - {MANIFEST}
    problems = sorted(present ^ set(listed))
    for name, meta in listed.items():
        p = folder / name
        if p.is_file() and store.sha256_file(p) != meta["sha256"]:
            problems.append(name)
    if problems:
        raise DataError(
            f"{folder}: files differ from manifest.json: {', '.join(problems)}",
            path=str(folder),
            hint="A built release must not be edited; rebuild it with `corpus release`.",
        )
    return manifest


def _check_files_entries(mpath: Path, listed: dict[str, Any]) -> None:
    """UsageError (exit 2) naming the manifest if a `files` entry is not a relative path inside
    the release folder mapped to an object with a sha256 text."""
    for name, meta in listed.items():
        parts = PurePosixPath(name).parts
        if not parts or name.startswith("/") or "\\" in name or ".." in parts:
            problem = f"file name {name!r} points outside the release folder"
        elif not isinstance(meta, dict):
            problem = f"entry {name!r} is not an object ({type(meta).__name__})"
        elif not isinstance(meta.get("sha256"), str):
            problem = f"entry {name!r} has no sha256 text"
        else:
            continue
        raise UsageError(
            f"{mpath}: malformed manifest: {problem}; nothing was published",
            path=str(mpath),
            hint="Releases are never edited: rebuild it with `corpus release` (or restore the "
            "folder from its published copy).",
        )


def git_blob_sha1(path: Path) -> str:
    """The git blob id of a file (what the Hub reports for non-LFS files)."""
    h = hashlib.sha1(usedforsecurity=False)
    h.update(f"blob {path.stat().st_size}\0".encode())
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def local_load_line(dest: Path) -> str:
    """The `load_dataset(...)` line for a local release folder, as a user would type it here."""
    return f'load_dataset("{store.display_path(dest)}", "entities")'


def publish(
    *,
    config: CorpusConfig,
    version: str,
    target: Target = "local",
    repo_id: str | None = None,
    dry_run: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
) -> PublishResult:
    """Publish `<dist>/<version>` to the local hub folder or to a Hub dataset repo.

    PublishError (exit 2) if the version was published anywhere with other files; a result
    with `already_published` if with the same files (nothing written then).
    """
    version = normalize_version(version)
    src = config.paths.dist / version
    verify_release(src)
    digest = versions.manifest_sha256(src, what=f"the build of {version}")
    if target not in ("local", "hub"):
        raise UsageError(f"unknown target {target!r}", hint="Use --target local or --target hub.")
    lease = contextlib.nullcontext() if dry_run else versions.Lease(versions.hub_base(config))
    with lease:
        known = versions.check_content(version, digest, versions.publications(config, version))
        if target == "local":
            return _publish_local(
                config=config, version=version, src=src, dry_run=dry_run, known=known
            )
        return _publish_hub(
            config=config,
            version=version,
            src=src,
            repo_id=repo_id or config.publish.repo_id,
            dry_run=dry_run,
            token=token,
            endpoint=endpoint,
            digest=digest,
        )


def _publish_local(
    *,
    config: CorpusConfig,
    version: str,
    src: Path,
    dry_run: bool,
    known: list[versions.Publication],
) -> PublishResult:
    tag = f"v{version}"
    base = versions.hub_base(config)
    dest = versions.local_folder(config, version)
    if dest.exists():  # `known` holds it, with the same manifest: is the copy intact?
        verify_release(dest)
        here = next(p for p in known if p.target == "local")
        return PublishResult(
            version=version,
            target="local",
            location=str(dest),
            tag=tag,
            dry_run=dry_run,
            unchanged=tuple(release_files(dest)),
            load_line=local_load_line(dest),
            already_published=True,
            message=versions.identical_message(version, here),
        )
    files = release_files(src)
    previous = find_previous(config, version)
    added: list[str] = list(files)
    changed: list[str] = []
    unchanged: list[str] = []
    deleted: list[str] = []
    prev_dir = release_folders(config).get(previous.version) if previous else None
    if prev_dir is not None:
        old = release_files(prev_dir)
        added = sorted(set(files) - set(old))
        deleted = sorted(set(old) - set(files))
        for name in sorted(set(files) & set(old)):
            same = store.sha256_file(files[name]) == store.sha256_file(old[name])
            (unchanged if same else changed).append(name)
    if not dry_run:
        base.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{tag}.", suffix=".tmp", dir=base))
        try:
            staged = tmp / tag
            shutil.copytree(src, staged)
            for p in staged.rglob("*"):
                if p.is_file():
                    p.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            try:
                os.rename(staged, dest)
            except OSError:
                raise PublishError(
                    f"version {tag} appeared at {dest} while publishing",
                    path=str(dest),
                    hint="Another publish ran at the same time; bump the version.",
                ) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        versions.record_publication(
            config,
            version,
            versions.Publication(
                "local",
                versions.relative_to_root(dest, config),
                versions.manifest_sha256(dest, what=f"the published version {tag}"),
            ),
        )
    return PublishResult(
        version=version,
        target="local",
        location=str(dest),
        tag=tag,
        dry_run=dry_run,
        added=tuple(added),
        changed=tuple(changed),
        deleted=tuple(deleted),
        unchanged=tuple(unchanged),
        commit=None,
        load_line=local_load_line(dest),
    )


def resolve_token(token: str | None) -> str:
    """The token to use: the argument, else HF_TOKEN or the stored login."""
    if token:
        return token
    from huggingface_hub import get_token

    found = get_token()
    if not found:
        raise ConfigError(
            "no Hugging Face token: publishing to the Hub needs write access",
            hint="Set HF_TOKEN in the environment or run `hf auth login`.",
        )
    return found


def _http_status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def _is_transport_error(exc: BaseException) -> bool:
    """A connection-level failure of the Hub client's HTTP library (httpx or its fork)."""
    return isinstance(exc, OSError) or any(
        cls.__name__ == "TransportError" for cls in type(exc).__mro__
    )


def _hub_error(exc: Exception, repo_id: str, doing: str) -> Exception:
    code = _http_status(exc)
    if code in (401, 403):
        return ConfigError(
            f"the Hub refused our token while {doing} {repo_id} (HTTP {code})",
            hint="Check that HF_TOKEN (or `hf auth login`) has write access to the repo.",
        )
    return PublishError(
        f"the Hub failed while {doing} {repo_id}: {exc.__class__.__name__} (HTTP {code})",
        hint="Retry; with --dry-run you can check what would change first.",
    )


def _remote_files(api: HfApi, repo_id: str, revision: str) -> dict[str, tuple[str, str | None]]:
    from huggingface_hub.hf_api import RepoFile

    out: dict[str, tuple[str, str | None]] = {}
    for entry in api.list_repo_tree(
        repo_id, repo_type="dataset", revision=revision, recursive=True
    ):
        if isinstance(entry, RepoFile):
            out[entry.path] = (entry.blob_id, entry.lfs.sha256 if entry.lfs else None)
    return out


def _publish_hub(
    *,
    config: CorpusConfig,
    version: str,
    src: Path,
    repo_id: str | None,
    dry_run: bool,
    token: str | None,
    endpoint: str | None,
    digest: str,
) -> PublishResult:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    if not repo_id:
        raise UsageError(
            "no Hub repo to publish to",
            hint="Pass --repo ORG/NAME or set [publish] repo_id in corpus.toml.",
        )
    tag = f"v{version}"
    api = HfApi(endpoint=endpoint, token=resolve_token(token))
    try:
        exists = True
        try:
            api.repo_info(repo_id, repo_type="dataset")
        except RepositoryNotFoundError:
            exists = False
        if not exists and not dry_run:
            api.create_repo(
                repo_id, repo_type="dataset", private=config.publish.private, exist_ok=True
            )
            exists = True
        parent: str | None = None
        remote: dict[str, tuple[str, str | None]] = {}
        tagged: str | None = None
        if exists:
            refs = api.list_repo_refs(repo_id, repo_type="dataset")
            for t in refs.tags:
                if t.name == tag:
                    tagged = t.target_commit
                    remote = _remote_files(api, repo_id, tagged)
            main = [b for b in refs.branches if b.name == "main"]
            if tagged is not None:
                main = []  # compared against the tag below, nothing to commit
            if main:
                parent = main[0].target_commit
                remote = _remote_files(api, repo_id, parent)
    except HfHubHTTPError as exc:
        raise _hub_error(exc, repo_id, "reading") from None
    except Exception as exc:
        if not _is_transport_error(exc):
            raise
        raise PublishError(
            f"cannot reach the Hub at {api.endpoint} ({exc.__class__.__name__})",
            hint="Check the network, or --endpoint / HF_ENDPOINT; nothing was published.",
        ) from None
    files = release_files(src)
    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    for name, path in files.items():
        if name not in remote:
            added.append(name)
            continue
        blob, lfs_sha = remote[name]
        local = store.sha256_file(path) if lfs_sha else git_blob_sha1(path)
        (unchanged if local == (lfs_sha or blob) else changed).append(name)
    deleted = sorted(p for p in set(remote) - set(files) if p.startswith(DATA_PREFIX))
    if tagged is not None:
        there = versions.Publication("hub", repo_id, digest, tagged)
        if added or changed or deleted:
            raise versions.refusal(version, there)
        if not dry_run:
            versions.record_publication(config, version, there)
        return PublishResult(
            version=version,
            target="hub",
            location=repo_id,
            tag=tag,
            dry_run=dry_run,
            unchanged=tuple(unchanged),
            commit=tagged,
            load_line=f'load_dataset("{repo_id}", "entities", revision="{tag}")',
            already_published=True,
            message=versions.identical_message(version, there),
        )
    commit: str | None = None
    if not dry_run:
        ops: list[Any] = [CommitOperationAdd(name, files[name]) for name in added + changed]
        ops += [CommitOperationDelete(name) for name in deleted]
        try:
            info = api.create_commit(
                repo_id,
                ops,
                commit_message=f"Release {tag}",
                commit_description=f"{config.pretty_name} {tag}, built by corpus-tools.",
                repo_type="dataset",
                revision="main",
                parent_commit=parent,
            )
        except HfHubHTTPError as exc:
            if _http_status(exc) == 412:
                raise PublishError(
                    f"the repo {repo_id} changed since we read it (main was "
                    f"{(parent or '')[:12]}); nothing was published",
                    hint="Someone pushed meanwhile: pull/review their change, then retry "
                    "the publish.",
                ) from None
            raise _hub_error(exc, repo_id, "committing to") from None
        commit = info.oid
        try:
            api.create_tag(
                repo_id,
                tag=tag,
                revision=commit,
                tag_message=f"Release {tag}",
                repo_type="dataset",
            )
        except HfHubHTTPError as exc:
            if _http_status(exc) == 409:
                raise PublishError(
                    f"tag {tag} appeared on {repo_id} while publishing (commit {commit[:12]} "
                    "is on main but untagged)",
                    hint="Bump the version and publish again.",
                ) from None
            raise _hub_error(exc, repo_id, "tagging") from None
        versions.record_publication(
            config, version, versions.Publication("hub", repo_id, digest, commit)
        )
    return PublishResult(
        version=version,
        target="hub",
        location=repo_id,
        tag=tag,
        dry_run=dry_run,
        added=tuple(added),
        changed=tuple(changed),
        deleted=tuple(deleted),
        unchanged=tuple(unchanged),
        commit=commit,
        load_line=f'load_dataset("{repo_id}", "entities", revision="{tag}")',
    )
