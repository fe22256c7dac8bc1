"""A loopback double of the Hugging Face Hub: just enough HTTP for the real `huggingface_hub`
client to create a dataset repo, upload (classic LFS, with HF_HUB_DISABLE_XET=1), commit with
`parent_commit`, tag, list refs and trees, and for the real `datasets.load_dataset` to resolve
and download files of a revision.

Each repo is kept in memory as a commit log (every commit a full snapshot) with branches and
tags. Any request the double does not handle is answered 501 and recorded in `unhandled`;
the fixture asserts none happened, so a client upgrade that needs a new endpoint is noticed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

GITATTRIBUTES = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
LFS_SUFFIXES = (".parquet", ".arrow", ".bin")


def git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass
class Blob:
    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def oid(self) -> str:
        """The git blob id: of the LFS pointer for LFS files, as on the Hub."""
        if not self.lfs:
            return git_blob(self.data)
        pointer = (
            f"version https://git-lfs.github.com/spec/v1\noid sha256:{self.sha256}\n"
            f"size {len(self.data)}\n"
        ).encode()
        return git_blob(pointer)


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    files: dict[str, Blob]


@dataclass
class Repo:
    repo_id: str
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    lfs: dict[str, bytes] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit | None:
        oid = self.branches.get(rev) or self.tags.get(rev) or rev
        return self.commits.get(oid)

    def commit(self, parent: str | None, title: str, files: dict[str, Blob]) -> Commit:
        digest = hashlib.sha1(usedforsecurity=False)
        digest.update(f"{parent}\n{title}\n{len(self.commits)}".encode())
        for path in sorted(files):
            digest.update(f"{path} {files[path].oid}\n".encode())
        c = Commit(digest.hexdigest(), parent, title, dict(files))
        self.commits[c.oid] = c
        return c


class _Reply(Exception):
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


class HubDouble:
    """The server state and its thread. Use as a context manager or call start()/stop()."""

    def __init__(self, token: str = "hf_test_token_double") -> None:
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.unhandled: list[str] = []
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> HubDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> HubDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- routing -----------------------------------------------------------------------

    ROUTES: tuple[tuple[str, str, str], ...] = (
        ("POST", r"/api/repos/create", "create_repo"),
        ("POST", r"/api/validate-yaml", "validate_yaml"),
        ("GET", r"/api/agent-harnesses", "agent_harnesses"),
        ("POST", r"/api/datasets/(?P<repo>[^/]+/[^/]+)/preupload/(?P<rev>[^/]+)", "preupload"),
        ("POST", r"/datasets/(?P<repo>[^/]+/[^/]+)\.git/info/lfs/objects/batch", "lfs_batch"),
        ("PUT", r"/lfs-upload/(?P<repo>[^/]+/[^/]+)/(?P<oid>[0-9a-f]{64})", "lfs_put"),
        ("POST", r"/api/datasets/(?P<repo>[^/]+/[^/]+)/commit/(?P<rev>[^/]+)", "commit"),
        ("POST", r"/api/datasets/(?P<repo>[^/]+/[^/]+)/tag/(?P<rev>[^/]+)", "tag"),
        ("GET", r"/api/datasets/(?P<repo>[^/]+/[^/]+)/refs", "refs"),
        ("GET", r"/api/datasets/(?P<repo>[^/]+/[^/]+)/revision/(?P<rev>[^/]+)", "info"),
        ("GET", r"/api/datasets/(?P<repo>[^/]+/[^/]+)", "info"),
        (
            "GET",
            r"/api/datasets/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?",
            "tree",
        ),
        ("POST", r"/api/datasets/(?P<repo>[^/]+/[^/]+)/paths-info/(?P<rev>[^/]+)", "paths_info"),
        ("HEAD", r"/datasets/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)", "resolve"),
        ("GET", r"/datasets/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)", "resolve"),
    )

    def dispatch(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        with self.lock:
            self.requests.append(f"{method} {raw_path}")
        for verb, pattern, name in self.ROUTES:
            if verb != method:
                continue
            m = re.fullmatch(pattern, path)
            if not m:
                continue
            params = {k: unquote(v) for k, v in m.groupdict().items() if v is not None}
            try:
                with self.lock:
                    result = getattr(self, f"_{name}")(
                        method=method, headers=headers, body=body, query=query, **params
                    )
            except _Reply as r:
                return self._encode(r.status, r.body, r.headers)
            status, payload, extra = result
            return self._encode(status, payload, extra)
        with self.lock:
            self.unhandled.append(f"{method} {raw_path}")
        return self._encode(501, {"error": f"hub double: unhandled {method} {path}"}, {})

    @staticmethod
    def _encode(
        status: int, body: Any, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        if isinstance(body, bytes):
            return status, headers, body
        data = b"" if body is None else json.dumps(body).encode()
        return status, {"Content-Type": "application/json", **headers}, data

    # -- helpers -------------------------------------------------------------------------

    def _auth(self, headers: dict[str, str]) -> None:
        if headers.get("authorization") != f"Bearer {self.token}":
            raise _Reply(401, {"error": "Invalid credentials in Authorization header"})

    def _repo(self, repo: str, headers: dict[str, str]) -> Repo:
        r = self.repos.get(repo)
        if r is None or (r.private and headers.get("authorization") != f"Bearer {self.token}"):
            raise _Reply(
                404,
                {"error": "Repository not found"},
                {"X-Error-Code": "RepoNotFound"},
            )
        return r

    def _rev(self, repo: Repo, rev: str) -> Commit:
        c = repo.resolve(rev)
        if c is None:
            raise _Reply(
                404, {"error": f"Invalid rev id: {rev}"}, {"X-Error-Code": "RevisionNotFound"}
            )
        return c

    def _entry(self, path: str, blob: Blob) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "type": "file",
            "oid": blob.oid,
            "size": len(blob.data),
            "path": path,
        }
        if blob.lfs:
            entry["lfs"] = {"oid": blob.sha256, "size": len(blob.data), "pointerSize": 134}
        return entry

    # -- endpoints -------------------------------------------------------------------------

    def _create_repo(self, *, headers: dict[str, str], body: bytes, **_: Any) -> Any:
        self._auth(headers)
        req = json.loads(body)
        if req.get("type") != "dataset":
            raise _Reply(400, {"error": "hub double: only dataset repos"})
        repo_id = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
        url = f"{self.url}/datasets/{repo_id}"
        if repo_id in self.repos:
            raise _Reply(409, {"error": "You already created this dataset repo", "url": url})
        repo = Repo(repo_id, bool(req.get("private")))
        first = repo.commit(None, "initial commit", {".gitattributes": Blob(GITATTRIBUTES, False)})
        repo.branches["main"] = first.oid
        self.repos[repo_id] = repo
        return 200, {"url": url, "name": repo_id, "id": repo_id}, {}

    def _agent_harnesses(self, **_: Any) -> Any:
        # The client's best-effort agent detection registry: an empty one.
        return 200, {"standardEnvVars": [], "harnesses": {}}, {}

    def _validate_yaml(self, *, headers: dict[str, str], body: bytes, **_: Any) -> Any:
        req = json.loads(body)
        if not req.get("content", "").startswith("---\n"):
            return 400, {"error": "README.md has no YAML metadata block"}, {}
        return 200, {"errors": [], "warnings": []}, {}

    def _preupload(
        self, *, repo: str, rev: str, headers: dict[str, str], body: bytes, **_: Any
    ) -> Any:
        self._auth(headers)
        r = self._repo(repo, headers)
        head = self._rev(r, rev)
        files = []
        for f in json.loads(body)["files"]:
            lfs = f["path"].endswith(LFS_SUFFIXES)
            existing = head.files.get(f["path"])
            oid = None
            if existing is not None:
                oid = existing.sha256 if existing.lfs else existing.oid
            files.append(
                {
                    "path": f["path"],
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": oid,
                }
            )
        return 200, {"files": files, "commitOid": head.oid}, {}

    def _lfs_batch(self, *, repo: str, headers: dict[str, str], body: bytes, **_: Any) -> Any:
        self._auth(headers)
        r = self._repo(repo, headers)
        req = json.loads(body)
        if req.get("operation") != "upload":
            raise _Reply(422, {"message": "hub double: only uploads"})
        objects = []
        for obj in req["objects"]:
            entry: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"]}
            if obj["oid"] not in r.lfs:
                entry["actions"] = {
                    "upload": {"href": f"{self.url}/lfs-upload/{repo}/{obj['oid']}", "header": {}}
                }
            objects.append(entry)
        return 200, {"transfer": "basic", "objects": objects}, {}

    def _lfs_put(
        self, *, repo: str, oid: str, headers: dict[str, str], body: bytes, **_: Any
    ) -> Any:
        r = self._repo(repo, headers)
        if hashlib.sha256(body).hexdigest() != oid:
            raise _Reply(400, {"error": "hub double: content does not match oid"})
        r.lfs[oid] = body
        return 200, None, {}

    def _commit(
        self, *, repo: str, rev: str, headers: dict[str, str], body: bytes, **_: Any
    ) -> Any:
        self._auth(headers)
        r = self._repo(repo, headers)
        if rev not in r.branches:
            raise _Reply(404, {"error": f"hub double: no branch {rev}"})
        head = r.commits[r.branches[rev]]
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = lines[0]["value"]
        parent = header.get("parentCommit")
        if parent is not None and parent != head.oid:
            raise _Reply(
                412,
                {"error": "A commit has happened since. Please refresh and try again."},
            )
        files = dict(head.files)
        for item in lines[1:]:
            key, value = item["key"], item["value"]
            if key == "file":
                files[value["path"]] = Blob(base64.b64decode(value["content"]), False)
            elif key == "lfsFile":
                data = r.lfs.get(value["oid"])
                if data is None:
                    raise _Reply(422, {"error": f"hub double: LFS object {value['oid']} missing"})
                files[value["path"]] = Blob(data, True)
            elif key == "deletedFile":
                if value["path"] not in files:
                    raise _Reply(404, {"error": "A file with this name doesn't exist"})
                del files[value["path"]]
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                for p in [p for p in files if p.startswith(prefix)]:
                    del files[p]
            else:
                raise _Reply(422, {"error": f"hub double: unknown commit key {key}"})
        c = r.commit(head.oid, header["summary"], files)
        r.branches[rev] = c.oid
        return (
            200,
            {
                "commitUrl": f"{self.url}/datasets/{repo}/commit/{c.oid}",
                "commitOid": c.oid,
                "success": True,
            },
            {},
        )

    def _tag(self, *, repo: str, rev: str, headers: dict[str, str], body: bytes, **_: Any) -> Any:
        self._auth(headers)
        r = self._repo(repo, headers)
        c = self._rev(r, rev)
        tag = json.loads(body)["tag"]
        if tag in r.tags:
            raise _Reply(409, {"error": f"Tag {tag} already exists"})
        r.tags[tag] = c.oid
        return 200, {}, {}

    def _refs(self, *, repo: str, headers: dict[str, str], **_: Any) -> Any:
        r = self._repo(repo, headers)

        def ref(kind: str, name: str, oid: str) -> dict[str, str]:
            return {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": oid}

        return (
            200,
            {
                "branches": [ref("heads", n, o) for n, o in sorted(r.branches.items())],
                "tags": [ref("tags", n, o) for n, o in sorted(r.tags.items())],
                "converts": [],
            },
            {},
        )

    def _info(self, *, repo: str, headers: dict[str, str], rev: str = "main", **_: Any) -> Any:
        r = self._repo(repo, headers)
        c = self._rev(r, rev)
        return (
            200,
            {
                "_id": repo,
                "id": repo,
                "author": repo.split("/")[0],
                "sha": c.oid,
                "private": r.private,
                "disabled": False,
                "gated": False,
                "tags": [],
                "downloads": 0,
                "likes": 0,
                "lastModified": "2026-01-01T00:00:00.000Z",
                "createdAt": "2026-01-01T00:00:00.000Z",
                "siblings": [{"rfilename": p} for p in sorted(c.files)],
            },
            {},
        )

    def _tree(
        self,
        *,
        repo: str,
        rev: str,
        headers: dict[str, str],
        query: dict[str, str],
        path: str = "",
        **_: Any,
    ) -> Any:
        r = self._repo(repo, headers)
        c = self._rev(r, rev)
        prefix = path.strip("/")
        recursive = query.get("recursive", "").lower() in ("1", "true")
        out: list[dict[str, Any]] = []
        dirs: set[str] = set()
        for p in sorted(c.files):
            if prefix and not p.startswith(prefix + "/"):
                continue
            rest = p[len(prefix) + 1 :] if prefix else p
            parts = rest.split("/")
            for i in range(1, len(parts)):
                d = "/".join(([prefix] if prefix else []) + parts[:i])
                if (recursive or i == 1) and d not in dirs:
                    dirs.add(d)
                    out.append(
                        {"type": "directory", "oid": git_blob(d.encode()), "size": 0, "path": d}
                    )
            if recursive or len(parts) == 1:
                out.append(self._entry(p, c.files[p]))
        if prefix and not out and prefix not in c.files:
            raise _Reply(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"})
        return 200, out, {}

    def _paths_info(
        self, *, repo: str, rev: str, headers: dict[str, str], body: bytes, **_: Any
    ) -> Any:
        r = self._repo(repo, headers)
        c = self._rev(r, rev)
        ctype = headers.get("content-type", "")
        if ctype.startswith("application/json"):
            paths = json.loads(body)["paths"]
        else:
            paths = parse_qs(body.decode())["paths"]
        out = []
        for p in paths:
            p = p.strip("/")
            if p in c.files:
                out.append(self._entry(p, c.files[p]))
            elif any(f.startswith(p + "/") for f in c.files):
                out.append({"type": "directory", "oid": git_blob(p.encode()), "size": 0, "path": p})
        return 200, out, {}

    def _resolve(
        self, *, method: str, repo: str, rev: str, path: str, headers: dict[str, str], **_: Any
    ) -> Any:
        r = self._repo(repo, headers)
        c = self._rev(r, rev)
        blob = c.files.get(path)
        if blob is None:
            raise _Reply(
                404,
                {"error": "Entry not found"},
                {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": c.oid},
            )
        data = blob.data
        hdrs = {
            "X-Repo-Commit": c.oid,
            "ETag": f'"{blob.oid}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if blob.lfs:
            hdrs["X-Linked-Etag"] = f'"{blob.sha256}"'
            hdrs["X-Linked-Size"] = str(len(data))
        status = 200
        rng = headers.get("range")
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng)
            if not m:
                raise _Reply(416, {"error": "bad range"})
            start = int(m[1])
            end = int(m[2]) if m[2] else len(data) - 1
            end = min(end, len(data) - 1)
            hdrs["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data = data[start : end + 1]
            status = 206
        if method == "HEAD":
            hdrs["Content-Length"] = str(len(data))
            return status, b"", hdrs
        return status, data, hdrs

    # -- HTTP plumbing -------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = self._read_chunked()
                else:
                    length = int(self.headers.get("Content-Length") or 0)
                    body = self.rfile.read(length) if length else b""
                hdrs = {k.lower(): v for k, v in self.headers.items()}
                status, out_headers, data = double.dispatch(self.command, self.path, hdrs, body)
                self.send_response(status)
                for k, v in out_headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in out_headers:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _read_chunked(self) -> bytes:
                out = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline().strip():
                            pass
                        return bytes(out)
                    out += self.rfile.read(size)
                    self.rfile.readline()

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _serve

        return Handler


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[HubDouble]:
    """The double, the client in classic-LFS mode, and no token except the one we pass
    (a fixture of every test module: tests/conftest.py imports it)."""
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(hf_constants, "AGENT_HARNESSES_PATH", str(tmp_path / "harnesses.json"))
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    with HubDouble() as double:
        monkeypatch.setenv("HF_TOKEN", double.token)
        yield double
    assert double.unhandled == [], f"requests the Hub double does not handle: {double.unhandled}"
