"""Push the project and tasks to Label Studio; pull tasks and annotations into `annotations/`.

The client is a thin layer over the REST API with `httpx`: the toolkit calls seven endpoints,
and the pulled files must keep Label Studio's own JSON shape (what a UI export gives), which
raw JSON pages give verbatim. Legacy tokens (`Token ...`) and personal access tokens (JWT
refresh tokens, exchanged at `/api/token/refresh/`) both work.

Layout written by `pull` (one file per task, so a review diff shows which article changed):

    annotations/<project slug>/_project.json          project metadata (no personal data)
    annotations/<project slug>/tasks/<article_id>.json one Label Studio task, export shape

Files are pretty JSON with sorted keys; the pull writes into a temporary folder and swaps it
into place, so a failed pull leaves the previous state intact, and pulling an unchanged
project twice writes byte-identical files (nothing time-dependent such as "created_ago").

Annotators become pseudonyms: `ann-` + the first 10 hex digits of HMAC-SHA256(key, lowercased
email). The key is the secret given to `pull` (`--pseudonym-key` or `$CORPUS_PSEUDONYM_KEY`;
recommended, so that nobody can test guessed emails against the pseudonyms), else the corpus
name; either way pseudonyms are stable across pulls and machines. Emails, names and usernames
are never written: every task, annotation, prediction and draft is copied through an
allow-list of keys.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import orjson

from corpus_tools import labeling_config, store
from corpus_tools.config import CorpusConfig
from corpus_tools.errors import LabelStudioError, UsageError

ENV_URL = "LABEL_STUDIO_URL"
ENV_API_KEY = "LABEL_STUDIO_API_KEY"
ENV_PSEUDONYM_KEY = "CORPUS_PSEUDONYM_KEY"
IMPORT_BATCH = 1000

Progress = Callable[[int, int], None]

# Allow-lists: only these keys are written by `pull` (anything else may carry personal data,
# such as an annotation's "created_username", or change with time, such as "created_ago").
TASK_KEYS = (
    "id",
    "inner_id",
    "data",
    "meta",
    "created_at",
    "updated_at",
    "is_labeled",
    "total_annotations",
    "cancelled_annotations",
    "total_predictions",
    "project",
)
ANNOTATION_KEYS = (
    "id",
    "result",
    "was_cancelled",
    "ground_truth",
    "created_at",
    "updated_at",
    "draft_created_at",
    "lead_time",
    "task",
    "project",
    "parent_prediction",
    "parent_annotation",
    "import_id",
    "last_action",
)
PREDICTION_KEYS = (
    "id",
    "model_version",
    "score",
    "result",
    "created_at",
    "updated_at",
    "task",
    "project",
)
DRAFT_KEYS = ("id", "result", "lead_time", "was_postponed", "created_at", "updated_at", "task")


def _json_or_none(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


class Client:
    """A Label Studio API client that turns transport and HTTP failures into LabelStudioError."""

    def __init__(self, url: str, api_key: str, *, timeout: float = 300.0) -> None:
        if not api_key:
            raise LabelStudioError(
                "no Label Studio API key",
                hint=f"Set {ENV_API_KEY} (Account & Settings → Personal Access Token, or the "
                "legacy token) or pass --api-key.",
            )
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)
        try:
            self._http.headers["Authorization"] = self._auth_header(api_key)
        except BaseException:
            self._http.close()
            raise

    def _auth_header(self, api_key: str) -> str:
        if api_key.count(".") == 2 and api_key.startswith("ey"):
            # A personal access token is a JWT refresh token: trade it for an access token.
            resp = self._send("POST", "/api/token/refresh/", json={"refresh": api_key})
            access = (_json_or_none(resp) or {}).get("access") if resp.is_success else None
            if not access:
                raise LabelStudioError(
                    f"Label Studio at {self.url} refused the personal access token "
                    f"({resp.status_code}: {resp.text[:200]})",
                    hint=f"Create a new token in Account & Settings and set {ENV_API_KEY}.",
                )
            return f"Bearer {access}"
        return f"Token {api_key}"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            resp = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise LabelStudioError(
                f"cannot reach Label Studio at {self.url} ({exc.__class__.__name__}: {exc})",
                hint=f"Start it (scripts/start-label-studio.sh) or set {ENV_URL} to its address.",
            ) from None
        if resp.status_code in (401, 403):
            detail = (_json_or_none(resp) or {}).get("detail", resp.text[:200])
            raise LabelStudioError(
                f"Label Studio at {self.url} refused the API key ({resp.status_code}: {detail})",
                hint=f"Set {ENV_API_KEY} to a valid token (Account & Settings in the UI).",
            )
        return resp

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request; return the decoded JSON (None for an empty answer)."""
        resp = self._send(method, path, **kwargs)
        if resp.status_code >= 400:
            raise LabelStudioError(
                f"Label Studio answered {resp.status_code} to {method} {path}: {resp.text[:500]}",
                hint="Check the project and the labeling config; see the server log.",
            )
        if not resp.content:
            return None
        return orjson.loads(resp.content)

    # --- endpoints -------------------------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        return dict(self.request("GET", "/api/current-user/whoami"))

    def version(self) -> str:
        info = self.request("GET", "/api/version") or {}
        return str(info.get("release") or info.get("label-studio-os-package", {}).get("version"))

    def validate_config(self, label_config: str) -> str | None:
        """None if the server accepts `label_config`, else its reason."""
        resp = self._send("POST", "/api/projects/validate/", json={"label_config": label_config})
        if resp.status_code < 400:
            return None
        return resp.text[:2000]

    def projects(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.request("GET", "/api/projects/", params={"page": page, "page_size": 100})
            items = body["results"] if isinstance(body, dict) else body
            out.extend(items)
            if not isinstance(body, dict) or not body.get("next"):
                return out
            page += 1

    def project(self, project_id: int) -> dict[str, Any]:
        resp = self._send("GET", f"/api/projects/{project_id}/")
        if resp.status_code == 404:
            raise LabelStudioError(
                f"Label Studio at {self.url} has no project {project_id}",
                hint="Create it with `corpus ls push`, or pass the right --project-id.",
            )
        if resp.status_code >= 400:
            raise LabelStudioError(f"Label Studio answered {resp.status_code}: {resp.text[:300]}")
        return dict(resp.json())

    def users(self) -> dict[int, str]:
        """User id -> email (used only to derive pseudonyms, never written)."""
        return {int(u["id"]): str(u.get("email") or "") for u in self.request("GET", "/api/users/")}

    def iter_task_pages(
        self, project_id: int, *, page_size: int, fields: str = "all", include: str | None = None
    ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """(total, tasks of one page) for every page of the project's tasks, by task id."""
        page = 1
        seen = 0
        while True:
            params: dict[str, Any] = {"project": project_id, "page": page, "page_size": page_size}
            if include:
                params["include"] = include
            else:
                params["fields"] = fields
            resp = self._send("GET", "/api/tasks/", params=params)
            if resp.status_code == 404 and page > 1:
                return  # past the last page ("Invalid page.")
            if resp.status_code >= 400:
                raise LabelStudioError(
                    f"Label Studio answered {resp.status_code} listing tasks: {resp.text[:300]}"
                )
            body = orjson.loads(resp.content)
            tasks = body["tasks"]
            total = int(body.get("total", 0))
            seen += len(tasks)
            yield total, tasks
            if not tasks or seen >= total:
                return
            page += 1

    def task_ids(self, project_id: int, *, page_size: int = 1000) -> list[int]:
        """Every task id of the project, ascending (paged: cheap even for 100k tasks)."""
        ids: list[int] = []
        for _total, page in self.iter_task_pages(project_id, page_size=page_size, include="id"):
            ids.extend(int(t["id"]) for t in page)
        return sorted(ids)

    def export_tasks(self, project_id: int, ids: list[int]) -> list[dict[str, Any]]:
        """The JSON export of the tasks `ids` (the same shape as an export made in the UI)."""
        body = self.request(
            "GET",
            f"/api/projects/{project_id}/export",
            params={"exportType": "JSON", "download_all_tasks": "true", "ids[]": ids},
        )
        if not isinstance(body, list):
            raise LabelStudioError(f"unexpected export answer from {self.url}: {str(body)[:200]}")
        return body

    def import_tasks(self, project_id: int, tasks: list[bytes]) -> list[int]:
        """Import tasks given as JSON texts (one per task); return the new task ids."""
        body = self.request(
            "POST",
            f"/api/projects/{project_id}/import",
            params={"return_task_ids": "true"},
            content=b"[" + b",".join(tasks) + b"]",
            headers={"Content-Type": "application/json"},
        )
        return [int(i) for i in body.get("task_ids", [])]


def connect(url: str, api_key: str) -> Client:
    """A client whose key the server accepted (checked with one call)."""
    client = Client(url, api_key)
    try:
        client.whoami()
    except BaseException:
        client.close()
        raise
    return client


# --- pseudonyms --------------------------------------------------------------------------------


def pseudonym_key(config: CorpusConfig, secret: str | None) -> tuple[bytes, str]:
    """The HMAC key for pseudonyms and where it came from ("secret" or "corpus-name")."""
    if secret:
        return secret.encode("utf-8"), "secret"
    return config.name.encode("utf-8"), "corpus-name"


def pseudonym(identity: str, key: bytes) -> str:
    """`ann-` + 10 hex digits of HMAC-SHA256(key, identity): stable, not reversible."""
    digest = hmac.new(key, identity.strip().lower().encode("utf-8"), hashlib.sha256)
    return "ann-" + digest.hexdigest()[:10]


class Pseudonyms:
    """Maps Label Studio user ids to pseudonyms (via the email, which is not kept)."""

    def __init__(self, emails: dict[int, str], key: bytes) -> None:
        self._by_id = {
            uid: pseudonym(email if email else f"user-id:{uid}", key)
            for uid, email in emails.items()
        }
        self._key = key

    def __call__(self, user: Any) -> str:
        if isinstance(user, dict):
            user = user.get("id")
        if isinstance(user, int) and not isinstance(user, bool):
            return self._by_id.get(user) or pseudonym(f"user-id:{user}", self._key)
        return "unknown"


# --- cleaning --------------------------------------------------------------------------------


def _pick(obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: obj[k] for k in keys if k in obj}


def clean_task(task: dict[str, Any], who: Pseudonyms) -> dict[str, Any]:
    """A task as written to `annotations/`: export shape, allow-listed keys, pseudonyms."""
    out = _pick(task, TASK_KEYS)
    anns = []
    for ann in task.get("annotations") or []:
        a = _pick(ann, ANNOTATION_KEYS)
        a["completed_by"] = who(ann.get("completed_by"))
        anns.append(a)
    out["annotations"] = sorted(anns, key=lambda a: a.get("id") or 0)
    preds = [
        _pick(p, PREDICTION_KEYS) if isinstance(p, dict) else p
        for p in task.get("predictions") or []
        if isinstance(p, dict | int)
    ]
    out["predictions"] = sorted(preds, key=lambda p: p.get("id") or 0 if isinstance(p, dict) else p)
    drafts = []
    for d in task.get("drafts") or []:
        c = _pick(d, DRAFT_KEYS)
        c["user"] = who(d.get("user"))
        drafts.append(c)
    out["drafts"] = sorted(drafts, key=lambda d: d.get("id") or 0)
    return out


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def task_filename(task: dict[str, Any]) -> str:
    """`<article_id>.json` (unsafe characters replaced), or `task-<id>.json` without one."""
    article_id = (task.get("data") or {}).get("article_id")
    if isinstance(article_id, str) and article_id:
        stem = _UNSAFE.sub("_", article_id).lstrip("._") or f"task-{task.get('id')}"
    else:
        stem = f"task-{task.get('id')}"
    return stem + ".json"


def slugify(title: str) -> str:
    """`GeoNews annotation` -> `geonews-annotation`."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "project"


# --- project ---------------------------------------------------------------------------------


def instructions_html(config: CorpusConfig) -> str:
    """The annotator guidelines shown in Label Studio, from the scheme's definitions."""
    from html import escape

    s = config.scheme
    rows = "".join(
        f"<li><b>{escape(e.label)}</b> ({escape(e.name)}"
        + (f", key <kbd>{escape(e.hotkey)}</kbd>" if e.hotkey else "")
        + f"): {escape(e.definition)}</li>"
        for e in s.entities
    )
    targets = "".join(
        f"<li><b>{escape(t.name)}</b>: {escape(t.description)}</li>" for t in s.stance_targets
    )
    return (
        f"<h3>{escape(config.pretty_name)}</h3>"
        f"<h4>Entities</h4><ul>{rows}</ul>"
        f"<h4>Claims</h4><p>{escape(s.claim_definition)} Mark the claim span with "
        f"<b>Claim</b>, choose its check-worthiness ({escape(', '.join(s.checkworthy))}). "
        f"{escape(s.claimant_definition)}</p>"
        f"<h4>Stance</h4><p>One answer per target ({escape(', '.join(s.stance_labels))}).</p>"
        f"<ul>{targets}</ul>"
    )


def find_project(client: Client, title: str) -> dict[str, Any] | None:
    """The project with exactly this title (the lowest id if several), or None."""
    matches = [p for p in client.projects() if p.get("title") == title]
    return min(matches, key=lambda p: int(p["id"])) if matches else None


def resolve_project(client: Client, config: CorpusConfig, project_id: int | None) -> dict[str, Any]:
    """The project to pull from: by id, else by the configured title."""
    if project_id is not None:
        return client.project(project_id)
    title = config.labelstudio.project_title
    project = find_project(client, title)
    if project is None:
        raise LabelStudioError(
            f"Label Studio at {client.url} has no project titled {title!r}",
            hint="Create it with `corpus ls push`, or pass --project-id.",
        )
    return project


def _project_settings(config: CorpusConfig) -> dict[str, Any]:
    return {
        "title": config.labelstudio.project_title,
        "description": config.description,
        "label_config": labeling_config.render(config),
        "expert_instruction": instructions_html(config),
        "show_instruction": True,
        "maximum_annotations": max(1, config.gates.min_annotators),
        "show_skip_button": True,
    }


def _same(server: Any, ours: Any) -> bool:
    # The server strips surrounding whitespace from text settings (the config's last newline).
    if isinstance(server, str) and isinstance(ours, str):
        return server.strip() == ours.strip()
    return bool(server == ours)


class _TaskData(msgspec.Struct):
    article_id: str | None = None
    text_sha256: str | None = None


class _TaskHead(msgspec.Struct):
    data: _TaskData


@dataclass(frozen=True, slots=True)
class _TaskToPush:
    article_id: str | None
    text_sha256: str | None
    raw: bytes


def _read_tasks(path: Path) -> list[_TaskToPush]:
    """The tasks file as (article_id, text_sha256, the task's own JSON text) per task.

    Only `data.article_id` and `data.text_sha256` are decoded; each task is sent on as the
    bytes it was written as, so a 10k-task file never becomes 10k nested dicts.
    """
    if not path.is_file():
        raise UsageError(
            f"{path}: no tasks file", path=str(path), hint="Build it with `corpus tasks`."
        )
    head = msgspec.json.Decoder(_TaskHead)
    try:
        raws = msgspec.json.decode(path.read_bytes(), type=list[msgspec.Raw])
        heads = [head.decode(r) for r in raws]
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UsageError(
            f"{path}: not a list of Label Studio tasks ({exc})",
            path=str(path),
            hint="Rebuild it with `corpus tasks`.",
        ) from None
    return [
        _TaskToPush(h.data.article_id, h.data.text_sha256, bytes(r))
        for h, r in zip(heads, raws, strict=True)
    ]


def push(
    *,
    config: CorpusConfig,
    url: str,
    api_key: str,
    tasks_path: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Create or update the project from corpus.toml and import the tasks it lacks.

    Idempotent: a task whose `article_id` is already in the project is not imported again.
    When its `text_sha256` differs (the article changed since it was pushed) it is reported
    under `changed`, never duplicated: annotations made on the old text stay as they are.
    Tasks without an `article_id`, or repeated in the file, are not imported and are listed
    under `skipped`.
    """
    tasks = _read_tasks(tasks_path or config.paths.tasks_json)
    settings = _project_settings(config)
    with connect(url, api_key) as client:
        reason = client.validate_config(settings["label_config"])
        if reason:
            raise LabelStudioError(
                f"Label Studio refused the labeling config: {reason}",
                hint="Fix the scheme in corpus.toml, then run `corpus schemas`.",
            )
        project = find_project(client, settings["title"])
        created = project is None
        updated: list[str] = []
        if project is None:
            project = client.request("POST", "/api/projects/", json=settings)
        else:
            changes = {k: v for k, v in settings.items() if not _same(project.get(k), v)}
            if changes:
                project = client.request("PATCH", f"/api/projects/{project['id']}/", json=changes)
                updated = sorted(changes)
        pid = int(project["id"])
        existing: dict[str, str | None] = {}
        for _total, page in client.iter_task_pages(pid, page_size=1000, include="id,data"):
            for t in page:
                data = t.get("data") or {}
                if isinstance(data.get("article_id"), str):
                    existing[data["article_id"]] = data.get("text_sha256")
        new: list[bytes] = []
        changed: list[str] = []
        unchanged = 0
        seen: set[str] = set()
        skipped: list[str] = []
        for task in tasks:
            aid = task.article_id
            if aid is None or aid in seen:
                skipped.append(str(aid))  # no article_id, or twice in the file
                continue
            seen.add(aid)
            if aid not in existing:
                new.append(task.raw)
            elif existing[aid] != task.text_sha256:
                changed.append(aid)
            else:
                unchanged += 1
        imported = 0
        for i in range(0, len(new), IMPORT_BATCH):
            batch = new[i : i + IMPORT_BATCH]
            ids = client.import_tasks(pid, batch)
            imported += len(ids) if ids else len(batch)
            if progress:
                progress(imported, len(new))
    return {
        "project_id": pid,
        "project_url": f"{url.rstrip('/')}/projects/{pid}",
        "created": created,
        "updated_settings": updated,
        "imported": imported,
        "unchanged": unchanged,
        "changed": sorted(changed),
        "skipped": skipped,
        "tasks_in_file": len(tasks),
    }


# --- pull ------------------------------------------------------------------------------------


class TreeWriter:
    """Writes a folder's new content beside it, then swaps it in; counts what changed.

    Files are written as they come (a pull never holds the whole project in memory) into a
    temporary sibling folder; `commit` renames it onto the target, so a failure before that
    leaves the previous content intact.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.pull-", dir=target.parent))
        self.names: set[str] = set()
        self.counts = {"added": 0, "changed": 0, "removed": 0, "unchanged": 0}

    def add(self, rel: str, data: bytes) -> None:
        dest = self.tmp / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        self.names.add(rel)
        old = self.target / rel
        if not old.is_file():
            self.counts["added"] += 1
        elif old.read_bytes() == data:
            self.counts["unchanged"] += 1
        else:
            self.counts["changed"] += 1

    def commit(self) -> dict[str, int]:
        if self.target.is_dir():
            self.counts["removed"] = sum(
                1
                for f in self.target.rglob("*")
                if f.is_file() and f.relative_to(self.target).as_posix() not in self.names
            )
        backup = None
        if self.target.exists():
            backup = self.target.with_name(f".{self.target.name}.old-{os.getpid()}")
            os.replace(self.target, backup)
        os.replace(self.tmp, self.target)
        if backup is not None:
            shutil.rmtree(backup)
        return dict(self.counts)

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> TreeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()  # a no-op after commit (the folder has moved)


def write_tree(target: Path, files: dict[str, bytes]) -> dict[str, int]:
    """Replace folder `target` by exactly `files`, atomically; count added/changed/removed."""
    with TreeWriter(target) as tree:
        for rel, data in files.items():
            tree.add(rel, data)
        return tree.commit()


def _project_meta(
    project: dict[str, Any], server_version: str, stats: dict[str, Any], key_source: str
) -> dict[str, Any]:
    return {
        "source": "label-studio",
        "label_studio_version": server_version,
        "project_id": project.get("id"),
        "title": project.get("title"),
        "label_config_sha256": store.sha256_text(project.get("label_config") or ""),
        "tasks": stats["tasks"],
        "annotations": stats["annotations"],
        "cancelled_annotations": stats["cancelled_annotations"],
        "annotators": sorted(stats["annotators"]),
        "pseudonyms": {
            "scheme": "ann- + first 10 hex of HMAC-SHA256(key, lowercased email)",
            "key": f"${ENV_PSEUDONYM_KEY}" if key_source == "secret" else "corpus name",
        },
        "layout": "one Label Studio task per file under tasks/, named <article_id>.json",
    }


def pull(
    *,
    config: CorpusConfig,
    url: str,
    api_key: str,
    project_id: int | None = None,
    out: Path | None = None,
    pseudonym_secret: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fetch every task and annotation; write them under `annotations/<project slug>/`.

    Annotators become `ann-` + HMAC-SHA256(`pseudonym_secret` or the corpus name, email).

    Pages through the task ids, then asks the server's JSON export for one page of ids at a
    time: the export shape, without one huge request (projects of 10k+ tasks time out behind
    proxies when exported at once), and memory bounded by a page. Predictions come as ids, as
    in an export from the UI; their content is the pre-annotation in build/tasks.json.
    Nothing replaces the previous files unless the whole project was fetched.
    """
    key, key_source = pseudonym_key(config, pseudonym_secret)
    stats: dict[str, Any] = {
        "tasks": 0,
        "annotations": 0,
        "cancelled_annotations": 0,
        "annotators": set(),
    }
    with connect(url, api_key) as client:
        project = resolve_project(client, config, project_id)
        pid = int(project["id"])
        who = Pseudonyms(client.users(), key)
        ids = client.task_ids(pid)
        server_version = client.version()
        slug = slugify(str(project.get("title") or f"project-{pid}"))
        target = (out or config.paths.annotations) / slug
        with TreeWriter(target) as tree:
            step = config.labelstudio.page_size
            for i in range(0, len(ids), step):
                chunk = ids[i : i + step]
                page = client.export_tasks(pid, chunk)
                if sorted(int(t["id"]) for t in page) != chunk:
                    raise LabelStudioError(
                        f"the export of {len(chunk)} tasks from project {pid} came back incomplete",
                        hint="Tasks were deleted during the pull? Pull again.",
                    )
                for raw in sorted(page, key=lambda t: int(t["id"])):
                    task = clean_task(raw, who)
                    name = task_filename(task)
                    if f"tasks/{name}" in tree.names:  # two tasks for one article: keep both
                        name = f"{name[:-5]}.task-{task.get('id')}.json"
                    tree.add(f"tasks/{name}", store.dump_json(task))
                    stats["tasks"] += 1
                    for ann in task["annotations"]:
                        stats["annotators"].add(ann["completed_by"])
                        stats["annotations"] += 1
                        stats["cancelled_annotations"] += bool(ann.get("was_cancelled"))
                if progress:
                    progress(stats["tasks"], len(ids))
            meta = _project_meta(project, server_version, stats, key_source)
            tree.add("_project.json", store.dump_json(meta))
            counts = tree.commit()
    return {
        "project_id": pid,
        "dir": str(target),
        "tasks": meta["tasks"],
        "annotations": meta["annotations"],
        "cancelled_annotations": meta["cancelled_annotations"],
        "annotators": meta["annotators"],
        "files": counts,
    }
