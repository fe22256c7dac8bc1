"""Push the project and tasks to Label Studio; pull tasks and annotations into `annotations/`.

The client is a thin layer over the REST API with `httpx`: the toolkit calls a dozen endpoints,
and the pulled files must keep Label Studio's own JSON shape (what a UI export gives), which
raw JSON pages give verbatim. Legacy tokens (`Token ...`) and personal access tokens (JWT
refresh tokens, exchanged at `/api/token/refresh/`) both work.

Layout written by `pull` (one file per task, so a review diff shows which article changed):

    annotations/<project slug>/_project.json          project metadata (no personal data)
    annotations/<project slug>/tasks/<article_id>.json one Label Studio task, export shape

Files are pretty JSON with sorted keys; the pull writes into a hidden temporary folder
(`.<slug>.pull-<pid>-*`, which readers skip) and swaps it into place in one atomic exchange
(Linux `renameat2(RENAME_EXCHANGE)`), so a reader sees the old folder or the new, a killed
or failed pull leaves the previous state intact, and the next pull sweeps what a killed one
left behind. Pulling an unchanged project twice writes byte-identical files (nothing
time-dependent such as "created_ago"). A pull that would drop annotations the folder holds
(a fresh server, deleted annotations) is refused unless `allow_deletions` is given.

Annotators become pseudonyms: `ann-` + the first 10 hex digits of HMAC-SHA256(key, lowercased
email). The key is a secret the user provides (`$CORPUS_PSEUDONYM_KEY`, or a key file outside
the corpus), so nobody can test guessed emails against the pseudonyms; the same key gives the
same pseudonyms across pulls and machines. Emails, names and usernames are never written:
every task, annotation, prediction and draft is copied through an allow-list of keys.

Idempotent requests (GET) are retried with exponential backoff on transport errors, timeouts,
500/502/503/504 and 429 (honouring Retry-After); task imports (POST) are not. Error messages
never carry the API token, an Authorization header or URL credentials. Task listings carry
`review=true`, so that neither a pull nor a push makes the server ask a connected ML backend
for predictions (`NO_SIDE_EFFECTS`).
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import msgspec
import orjson

from corpus_tools import labeling_config, store
from corpus_tools.config import CorpusConfig, Scheme
from corpus_tools.constants import ENV_API_KEY, ENV_PSEUDONYM_KEY, ENV_URL
from corpus_tools.errors import DataError, LabelStudioError, UsageError
from corpus_tools.exports import task_article_id

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


# --- server versions ---------------------------------------------------------------------------

# The Label Studio releases the toolkit supports (major, minor), both ends included: the live
# suite runs on each of TESTED_VERSIONS (scripts/test-label-studio-version.sh VERSION).
# Outside the range a start or a push still goes ahead, with a warning.
SUPPORTED_MIN = (1, 14)
SUPPORTED_MAX = (1, 23)
TESTED_VERSIONS = ("1.14.0.post0", "1.17.0", "1.20.0", "1.23.2")

# Feature -> (the first release that has it, what it is). Measured on the releases' own code
# (jwt_auth/, core/argparser.py, organizations/functions.py) and by the live suite.
FEATURES: dict[str, tuple[tuple[int, int], str]] = {
    # /api/token/ (create) and /api/token/refresh/ (exchange): 404 before 1.17.
    "personal-access-tokens": ((1, 17), "personal access tokens"),
    # `label-studio init --enable-legacy-api-token` and $LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN
    # (1.17 turns legacy tokens off for a new organisation with no switch; before 1.17
    # legacy tokens are the only kind and always on).
    "legacy-token-switch": ((1, 18), "a switch for legacy API tokens at init"),
}

_VERSION = re.compile(r"\s*v?(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a Label Studio version string (`1.14.0.post0` -> (1, 14, 0)),
    or None when `text` is not one."""
    m = _VERSION.match(text or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def is_supported(version: str) -> bool:
    """Whether `version` lies in the supported range (by major and minor)."""
    v = parse_version(version)
    return v is not None and SUPPORTED_MIN <= v[:2] <= SUPPORTED_MAX


def range_text() -> str:
    """The supported range for people: `1.14 to 1.23`."""
    lo, hi = (".".join(map(str, v)) for v in (SUPPORTED_MIN, SUPPORTED_MAX))
    return f"{lo} to {hi}"


def support_warning(version: str) -> str | None:
    """A warning when `version` is outside the supported range (or unreadable), else None."""
    if is_supported(version):
        return None
    return (
        f"Label Studio {version or '(unknown version)'} is outside the supported range "
        f"({range_text()}); the toolkit is tested on {', '.join(TESTED_VERSIONS)}"
    )


def has_feature(feature: str, version: str | None) -> bool:
    """Whether Label Studio `version` has `feature` (a key of FEATURES). An unreadable version
    counts as new enough: the server's own answer then tells."""
    need = FEATURES[feature][0]
    v = parse_version(version)
    return v is None or v[:2] >= need


def missing_feature(feature: str, version: str | None) -> str | None:
    """`Label Studio 1.14.0 has no personal access tokens (added in 1.17)` when `version`
    lacks `feature`, else None."""
    if has_feature(feature, version):
        return None
    need, what = FEATURES[feature]
    return f"Label Studio {version} has no {what} (added in {need[0]}.{need[1]})"


def _json_or_none(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


# --- secrets in messages -----------------------------------------------------------------------

_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")
_AUTH_VALUE = re.compile(
    r"(?i)((?:authorization|http_authorization|x-api-key|cookie|set-cookie)['\"]?\s*[:=]\s*"
    r"['\"]?)[^'\"\r\n,}]+"
)
_SCHEME_TOKEN = re.compile(r"(?i)\b(token|bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_JWT = re.compile(r"\bey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
REDACTED = "[redacted]"


def display_url(url: str) -> str:
    """`url` without user name and password (`http://u:p@host` -> `http://host`)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _URL_USERINFO.sub(r"\1", url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secrets, Authorization-like header values, scheme tokens
    (`Token abc...`, `Bearer ...`), JWTs and URL credentials: safe to show or log."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _URL_USERINFO.sub(r"\1", text)
    text = _AUTH_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _SCHEME_TOKEN.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _JWT.sub(REDACTED, text)


def _url_secrets(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    return [s for s in (parts.username, parts.password) if s]


# Every task listing (`GET /api/tasks/`) sends `review=true`. Label Studio 1.23.2's listing
# (data_manager/api.py, TaskListAPI.get) otherwise asks the project's ML backend for
# predictions on the page's tasks that have none when "retrieve predictions automatically"
# (`evaluate_predictions_automatically`) is on: a health check, a setup call and a /predict,
# and new predictions stored on the server. `review=true` skips exactly that; it also narrows
# which Data Manager columns are computed (annotators, reviewed), none of which the toolkit
# asks for: the ids, data and predictions it lists are the same. A pull or a push must never
# change what the annotators see.
NO_SIDE_EFFECTS = {"review": "true"}

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BACKOFF = 30.0


def _retry_after(resp: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date), else None."""
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Client:
    """A Label Studio API client that turns transport and HTTP failures into LabelStudioError.

    GET requests that fail transiently (connection refused or dropped, timeout, 429, 500,
    502, 503, 504) are retried up to `retries` times, waiting `backoff`, 2×, 4×... seconds
    (at most 30 s; a 429's or 503's Retry-After when given). Other methods are sent once.
    A connection refused before the server ever answered is not retried: the server is not
    running, and saying so at once beats a minute of retries.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = display_url(url.rstrip("/"))
        self._secrets = [api_key, *_url_secrets(url)]
        if not api_key:
            raise LabelStudioError(
                "no Label Studio API key",
                hint=f"Set {ENV_API_KEY} (Account & Settings → Personal Access Token, or the "
                "legacy token) or pass --api-key.",
            )
        self.retries = retries
        self.backoff = backoff
        self.retried = 0
        self._answered = False
        self._version: str | None = None
        self._sleep = sleep
        try:
            self._http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise LabelStudioError(
                f"not a usable Label Studio address: {self._redact(str(url))} "
                f"({self._redact(str(exc))})",
                hint=f"Set {ENV_URL} or --url to an address like http://127.0.0.1:8080.",
            ) from None
        try:
            self._http.headers["Authorization"] = self._auth_header(api_key)
        except BaseException:
            self._http.close()
            raise

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def _error(self, message: str, hint: str | None = None) -> LabelStudioError:
        """A LabelStudioError whose message and hint carry no secret."""
        return LabelStudioError(
            self._redact(message), hint=self._redact(hint) if hint is not None else None
        )

    def _auth_header(self, api_key: str) -> str:
        if api_key.count(".") == 2 and api_key.startswith("ey"):
            # A personal access token is a JWT refresh token: trade it for an access token.
            resp = self._send("POST", "/api/token/refresh/", json={"refresh": api_key})
            body = _json_or_none(resp) if resp.is_success else None
            access = body.get("access") if isinstance(body, dict) else None
            if not access and resp.status_code == 404:
                # No /api/token/refresh/: a release without personal access tokens (before
                # 1.17), not a refused key. Ask which release (no key needed) and say so.
                missing = missing_feature("personal-access-tokens", self.version())
                if missing:
                    raise self._error(
                        f"{missing}: the key looks like one, but {self.url} cannot use it",
                        hint=f"Use the legacy token: set {ENV_API_KEY} to the token under "
                        "Account & Settings → Access Token (sent as `Token ...`).",
                    )
            if not access:
                raise self._error(
                    f"Label Studio at {self.url} refused the personal access token "
                    f"({resp.status_code}: {resp.text[:200]})",
                    hint=f"Create a new token in Account & Settings and set {ENV_API_KEY}.",
                )
            self._secrets.append(str(access))
            return f"Bearer {access}"
        return f"Token {api_key}"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; idempotent ones retried on transient failures (see the class)."""
        attempts = 1 + (self.retries if method.upper() in IDEMPOTENT else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            wait = min(MAX_BACKOFF, self.backoff * 2**attempt)
            try:
                resp = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                # Refused before the server ever answered: not started, wrong port. Say so
                # now rather than after a minute of retries.
                refused = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                never = refused and not self._answered
                if last or never:
                    tried = f" after {attempt + 1} attempts" if attempt else ""
                    raise self._error(
                        f"cannot reach Label Studio at {self.url}{tried} "
                        f"({exc.__class__.__name__}: {exc})",
                        hint=f"Start it (scripts/start-label-studio.sh) or set {ENV_URL} to its "
                        "address; a slow server needs a larger [labelstudio] timeout.",
                    ) from None
            else:
                self._answered = True
                if resp.status_code not in RETRY_STATUS or last:
                    break
                after = _retry_after(resp) if resp.status_code in (429, 503) else None
                if after is not None:
                    wait = min(MAX_BACKOFF, after)
            self.retried += 1
            self._sleep(wait)
        if resp.status_code in (401, 403):
            body = _json_or_none(resp)
            detail = body.get("detail") if isinstance(body, dict) else None
            raise self._error(
                f"Label Studio at {self.url} refused the API key "
                f"({resp.status_code}: {detail or resp.text[:200]})",
                hint=f"Set {ENV_API_KEY} to a valid token (Account & Settings in the UI).",
            )
        return resp

    def _failed(self, resp: httpx.Response, what: str, limit: int = 500) -> LabelStudioError:
        retried = resp.status_code in RETRY_STATUS and resp.request.method in IDEMPOTENT
        tried = f" (after {self.retries} retries)" if retried and self.retries else ""
        return self._error(
            f"Label Studio answered {resp.status_code}{tried} {what}: {resp.text[:limit]}",
            hint="Check the project and the labeling config; see the server log.",
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request; return the decoded JSON (None for an empty answer)."""
        resp = self._send(method, path, **kwargs)
        if resp.status_code >= 400:
            raise self._failed(resp, f"to {method} {path}")
        if not resp.content:
            return None
        return self._decode(resp)

    def _decode(self, resp: httpx.Response) -> Any:
        try:
            return orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            raise self._error(
                f"Label Studio at {self.url} answered {resp.request.method} "
                f"{resp.request.url.path} with something that is not JSON: {resp.text[:200]}",
                hint="Is the address a Label Studio server (not a proxy's error page)?",
            ) from None

    # --- endpoints -------------------------------------------------------------------------

    def whoami(self) -> dict[str, Any]:
        return dict(self.request("GET", "/api/current-user/whoami"))

    def version(self) -> str:
        """The server's Label Studio release (`1.23.2`), asked once (`GET /api/version`, which
        needs no key); "unknown" when the server does not say."""
        if self._version is None:
            resp = self._send("GET", "/api/version")
            info = _json_or_none(resp) if resp.is_success else None
            info = info if isinstance(info, dict) else {}
            package = info.get("label-studio-os-package")
            release = info.get("release") or (
                package.get("version") if isinstance(package, dict) else None
            )
            self._version = str(release) if release else "unknown"
        return self._version

    def require(self, feature: str) -> None:
        """LabelStudioError naming the server's release when it lacks `feature` (a key of
        FEATURES), before a request that would fail with a bare 404."""
        missing = missing_feature(feature, self.version())
        if missing:
            lo = ".".join(map(str, FEATURES[feature][0]))
            raise self._error(
                f"{missing}; {self.url} cannot do this",
                hint=f"Upgrade the server to Label Studio {lo} or later (supported: "
                f"{range_text()}).",
            )

    def validate_config(self, label_config: str) -> str | None:
        """None if the server accepts `label_config`, else its reason."""
        resp = self._send("POST", "/api/projects/validate/", json={"label_config": label_config})
        if resp.status_code < 400:
            return None
        return self._redact(resp.text[:2000])

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
            raise self._error(
                f"Label Studio at {self.url} has no project {project_id}",
                hint="Create it with `corpus ls push`, or pass the right --project-id.",
            )
        if resp.status_code >= 400:
            raise self._failed(resp, f"to GET project {project_id}", 300)
        return dict(self._decode(resp))

    def users(self) -> dict[int, str]:
        """User id -> email (used only to derive pseudonyms, never written)."""
        return {int(u["id"]): str(u.get("email") or "") for u in self.request("GET", "/api/users/")}

    def iter_task_pages(
        self,
        project_id: int,
        *,
        page_size: int,
        fields: str | None = "all",
        include: str | None = None,
        query: str | None = None,
    ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """(total, tasks of one page) for every page of the project's tasks, by task id.

        `include` narrows the fields; `fields="all"` is needed beside it for the task's
        predictions (`include="id,data,predictions"`), and is sent alone without `include`.
        `query` is a Data Manager query (JSON) that narrows the tasks listed.
        """
        page = 1
        seen = 0
        while True:
            params: dict[str, Any] = {
                "project": project_id,
                "page": page,
                "page_size": page_size,
                **NO_SIDE_EFFECTS,
            }
            if include:
                params["include"] = include
                if fields and "predictions" in include.split(","):
                    params["fields"] = fields
            elif fields:
                params["fields"] = fields
            if query:
                params["query"] = query
            resp = self._send("GET", "/api/tasks/", params=params)
            if resp.status_code == 404 and page > 1:
                return  # past the last page ("Invalid page.")
            if resp.status_code >= 400:
                raise self._failed(resp, "listing tasks", 300)
            body = self._decode(resp)
            tasks = body.get("tasks") if isinstance(body, dict) else None
            if not isinstance(tasks, list):
                raise self._error(f"unexpected tasks answer from {self.url}: {str(body)[:200]}")
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
            raise self._error(f"unexpected export answer from {self.url}: {str(body)[:200]}")
        return body

    def task_predictions(self, project_id: int, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """The full predictions (model_version, score, result, ...) of the tasks `ids`.

        The JSON export gives predictions as ids only (its serializer fixes `expand` to
        drafts), so they come from the tasks list instead: `fields=all` with
        `include=id,predictions`, the page narrowed to `ids` by the Data Manager's
        `selectedItems` query. One request per page of the pull, never one per task.
        """
        query = orjson.dumps({"selectedItems": {"all": False, "included": ids}}).decode()
        out: dict[int, list[dict[str, Any]]] = {}
        for _total, page in self.iter_task_pages(
            project_id, page_size=len(ids), include="id,predictions", query=query
        ):
            for t in page:
                preds = t.get("predictions")
                out[int(t["id"])] = [p for p in preds or [] if isinstance(p, dict)]
        return out

    def ml_backend_titles(self, project_id: int) -> set[str]:
        """The titles of the ML backends connected to the project (a project's model version
        may name one: the editor then asks it for suggestions live)."""
        body = self.request("GET", "/api/ml/", params={"project": project_id}) or []
        items = body.get("results", []) if isinstance(body, dict) else body
        return {str(b["title"]) for b in items if isinstance(b, dict) and b.get("title")}

    def import_predictions(self, project_id: int, predictions: list[dict[str, Any]]) -> int:
        """Add predictions (each with `task`, `model_version`, `score`, `result`) to tasks of
        the project in one request (`/api/projects/<id>/import/predictions`, the server's bulk
        path); return how many it created."""
        body = self.request(
            "POST",
            f"/api/projects/{project_id}/import/predictions",
            content=orjson.dumps(predictions),
            headers={"Content-Type": "application/json"},
        )
        return int(body.get("created", 0)) if isinstance(body, dict) else 0

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


def client_options(config: CorpusConfig) -> dict[str, Any]:
    """Client keyword arguments from `[labelstudio]` (timeout, retries, backoff)."""
    ls = config.labelstudio
    return {"timeout": ls.timeout, "retries": ls.retries, "backoff": ls.backoff}


def connect(url: str, api_key: str, **options: Any) -> Client:
    """A client whose key the server accepted (checked with one call)."""
    client = Client(url, api_key, **options)
    try:
        client.whoami()
    except BaseException:
        client.close()
        raise
    return client


# --- pseudonyms --------------------------------------------------------------------------------


KEY_FILE_EXAMPLE = "~/.config/corpus-pseudonym.key"


def key_help(corpus_name: str) -> str:
    """How to create a pseudonym key, and how to keep the pseudonyms of the old default."""
    return (
        "create a secret once, outside the repository:\n"
        "    mkdir -p ~/.config && (umask 077 && python3 -c 'import secrets; "
        f"print(secrets.token_hex(32))' > {KEY_FILE_EXAMPLE})\n"
        f"  then pass --pseudonym-key-file {KEY_FILE_EXAMPLE} (or set [labelstudio] "
        f"pseudonym_key_file, or export {ENV_PSEUDONYM_KEY}=<the secret>); everyone who pulls "
        "this corpus needs the same key.\n"
        "  Pseudonyms pulled before a key was required used the corpus name as key; to keep "
        f"them stable, export {ENV_PSEUDONYM_KEY}={corpus_name!r}, knowing that this key is "
        "public: anyone who guesses an annotator's email can confirm the pseudonym."
    )


@dataclass(frozen=True, slots=True)
class PseudonymKey:
    """The HMAC key for pseudonyms and where it came from (recorded in `_project.json`)."""

    key: bytes = dataclass_field(repr=False)
    source: str

    def __post_init__(self) -> None:
        if not self.key:
            raise UsageError("the pseudonym key is empty", hint=key_help("<corpus name>"))


def _git_root(path: Path) -> Path | None:
    for parent in (path, *path.parents):
        if (parent / ".git").exists():
            return parent
    return None


def pseudonym_key(
    config: CorpusConfig, *, secret: str | None = None, key_file: Path | None = None
) -> PseudonymKey:
    """The secret key for pseudonyms: `secret` (the environment), else `key_file`, else the
    `[labelstudio] pseudonym_key_file`; a key file inside the corpus or its repository is
    refused (it would be committed). No key: UsageError with how to create one.

    A key equal to the corpus name (the old default) is accepted and recorded as such: it
    keeps old pseudonyms stable, but anyone can reverse them from a guessed email.
    """
    name = config.name.encode("utf-8")
    if secret:
        key = secret.encode("utf-8")
        return PseudonymKey(key, "corpus name" if key == name else f"${ENV_PSEUDONYM_KEY}")
    key_file = key_file or config.labelstudio.pseudonym_key_file
    if key_file is None:
        raise UsageError(
            "no pseudonym key: a pull writes annotator pseudonyms, and without a secret key "
            "they could be reversed by anyone who guesses an annotator's email",
            hint=key_help(config.name),
        )
    path = Path(key_file).expanduser().absolute()
    resolved = path.resolve()
    corpus = config.path.parent.resolve()
    for root in (corpus, _git_root(corpus)):
        if root is not None and resolved.is_relative_to(root):
            raise UsageError(
                f"{path}: the pseudonym key file is inside {root}, where it would be committed "
                "or published with the corpus",
                path=str(path),
                hint=f"Move it outside the repository (e.g. {KEY_FILE_EXAMPLE}).",
            )
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise UsageError(
            f"{path}: cannot read the pseudonym key file ({exc.strerror or exc})",
            path=str(path),
            hint=key_help(config.name),
        ) from None
    if not key:
        raise UsageError(
            f"{path}: the pseudonym key file is empty", path=str(path), hint=key_help(config.name)
        )
    return PseudonymKey(key, "corpus name" if key == name else "key file")


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
MAX_STEM = 120  # ASCII characters; leaves room for `.task-<id>.json` under 255 bytes


def task_filename(task: dict[str, Any], scheme: Scheme | None = None) -> str:
    """`<article id>.json` (unsafe characters replaced), or `task-<id>.json` without one.

    The article id is `exports.task_article_id(task, scheme)`: the task data's
    `[scheme.names] article_id_field` (an adopted project names its own), as validation and
    `corpus ingest` read it; without a scheme, the default `data.article_id`.
    An id longer than 120 characters keeps its first 100 and gets `-` + 16 hex digits of its
    SHA-256: bounded (any file system takes it), stable, and distinct for distinct ids.
    """
    if scheme is None:
        article_id = (task.get("data") or {}).get("article_id")
    else:
        article_id = task_article_id(task, scheme)
    if isinstance(article_id, str) and article_id:
        stem = _UNSAFE.sub("_", article_id).lstrip("._") or f"task-{task.get('id')}"
        if len(stem) > MAX_STEM:
            digest = hashlib.sha256(article_id.encode("utf-8", "surrogatepass")).hexdigest()
            stem = f"{stem[:100]}-{digest[:16]}"
    else:
        stem = f"task-{task.get('id')}"
    return stem + ".json"


def slugify(title: str) -> str:
    """`GeoNews annotation` -> `geonews-annotation`."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "project"


# --- project ---------------------------------------------------------------------------------


def instructions_html(config: CorpusConfig) -> str:
    """The annotator guidelines shown in Label Studio before labeling (the project's
    `expert_instruction`): corpus.toml's definitions and its [guidelines] examples, rendered
    by the function that also writes docs/guides/annotator.md's block (`guidelines`)."""
    from corpus_tools import guidelines

    return guidelines.html(guidelines.guide(config))


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


def _task_head(id_field: str) -> type[msgspec.Struct]:
    """A task's head as msgspec decodes it: the article id (under the corpus's
    `article_id_field`) and `text_sha256` of its data, nothing else."""
    data = msgspec.defstruct(
        "_TaskData",
        [("article_id", str | None, None), ("text_sha256", str | None, None)],
        rename={"article_id": id_field},
    )
    return msgspec.defstruct("_TaskHead", [("data", data)])


@dataclass(frozen=True, slots=True)
class _TaskToPush:
    article_id: str | None
    text_sha256: str | None
    raw: bytes


def _read_tasks(path: Path, id_field: str = "article_id") -> list[_TaskToPush]:
    """The tasks file as (article_id, text_sha256, the task's own JSON text) per task.

    Only the article id (`data[id_field]`) and `data.text_sha256` are decoded; each task is
    sent on as the bytes it was written as, so a 10k-task file never becomes 10k nested dicts.
    """
    if not path.is_file():
        raise UsageError(
            f"{path}: no tasks file", path=str(path), hint="Build it with `corpus tasks`."
        )
    head = msgspec.json.Decoder(_task_head(id_field))
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
        _TaskToPush(h.data.article_id, h.data.text_sha256, bytes(r))  # type: ignore[attr-defined]
        for h, r in zip(heads, raws, strict=True)
    ]


def _file_predictions(raw: bytes) -> list[dict[str, Any]]:
    """The predictions of one task of the tasks file (each a dict with a `model_version`)."""
    task = orjson.loads(raw)
    preds = task.get("predictions") if isinstance(task, dict) else None
    return [
        p
        for p in preds or []
        if isinstance(p, dict) and isinstance(p.get("model_version"), str) and p["model_version"]
    ]


def push(
    *,
    config: CorpusConfig,
    url: str,
    api_key: str,
    tasks_path: Path | None = None,
    update_predictions: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Create or update the project from corpus.toml and import the tasks it lacks.

    Idempotent: a task whose `article_id` is already in the project is not imported again.
    When its `text_sha256` differs (the article changed since it was pushed) it is reported
    under `changed`, never duplicated: annotations made on the old text stay as they are.
    Tasks without an `article_id`, or repeated in the file, are not imported and are listed
    under `skipped`.

    `update_predictions`: a task already in the project with the same text gets each of the
    file's predictions whose `model_version` none of its predictions on the server has
    (a newer model's suggestions from `corpus tasks --suggest`), added through the server's
    bulk prediction import; nothing is deleted, annotations are not touched. When every
    prediction of the file has one model version, the project's `model_version` setting is
    set to it: Label Studio 1.23.2 then averages the Data Manager's "Prediction score" over
    that version's predictions only (`annotate_predictions_score`, the default path of the
    community edition), shows annotators that version's predictions, and its uncertainty
    sampling picks from it. A setting that names a connected ML backend (the editor then asks
    it live) is left alone, with a note. Older predictions stay on the server (an annotation's
    `parent_prediction` still names the one it started from). Reported under `predictions`:
    tasks `added`, `current` (already had every version) and `skipped` (text changed, or no
    prediction in the file). A second run adds nothing and changes nothing.
    A server outside the supported releases (`range_text()`) gets a note, not a refusal.
    """
    id_field = config.scheme.names.article_id_field
    tasks = _read_tasks(tasks_path or config.paths.tasks_json, id_field)
    settings = _project_settings(config)
    with connect(url, api_key, **client_options(config)) as client:
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
        task_ids: dict[str, int] = {}
        versions: dict[str, set[str]] = {}
        include = "id,data,predictions" if update_predictions else "id,data"
        for _total, page in client.iter_task_pages(pid, page_size=1000, include=include):
            for t in page:
                data = t.get("data") or {}
                if isinstance(data.get(id_field), str):
                    aid = data[id_field]
                    existing[aid] = data.get("text_sha256")
                    task_ids[aid] = int(t["id"])
                    versions[aid] = {
                        str(p.get("model_version"))
                        for p in t.get("predictions") or []
                        if isinstance(p, dict)
                    }
        new: list[bytes] = []
        changed: list[str] = []
        unchanged = 0
        seen: set[str] = set()
        skipped: list[str] = []
        to_add: list[dict[str, Any]] = []
        pred_tasks = {"added": 0, "current": 0, "skipped": 0}
        file_versions: set[str] = set()
        new_versions: set[str] = set()
        for task in tasks:
            aid = task.article_id
            if aid is None or aid in seen:
                skipped.append(str(aid))  # no article_id, or twice in the file
                continue
            seen.add(aid)
            if aid not in existing:
                new.append(task.raw)
                new_versions.update(p["model_version"] for p in _file_predictions(task.raw))
            elif existing[aid] != task.text_sha256:
                changed.append(aid)
                if update_predictions:
                    pred_tasks["skipped"] += 1
            else:
                unchanged += 1
                if not update_predictions:
                    continue
                preds = _file_predictions(task.raw)
                file_versions.update(p["model_version"] for p in preds)
                missing = [p for p in preds if p["model_version"] not in versions[aid]]
                if not preds:
                    pred_tasks["skipped"] += 1
                elif not missing:
                    pred_tasks["current"] += 1
                else:
                    pred_tasks["added"] += 1
                    for p in missing:
                        versions[aid].add(p["model_version"])  # twice in the file: once
                        to_add.append(
                            {
                                "task": task_ids[aid],
                                "model_version": p["model_version"],
                                "score": p.get("score"),
                                "result": p.get("result") or [],
                            }
                        )
        imported = 0
        for i in range(0, len(new), IMPORT_BATCH):
            batch = new[i : i + IMPORT_BATCH]
            ids = client.import_tasks(pid, batch)
            imported += len(ids) if ids else len(batch)
            if progress:
                progress(imported, len(new))
        result: dict[str, Any] = {
            "project_id": pid,
            "project_url": f"{display_url(url.rstrip('/'))}/projects/{pid}",
            "created": created,
            "updated_settings": updated,
            "imported": imported,
            "unchanged": unchanged,
            "changed": sorted(changed),
            "skipped": skipped,
            "tasks_in_file": len(tasks),
        }
        shown = project.get("model_version") or ""
        if not update_predictions and shown and new_versions - {shown}:
            # Label Studio set the project's model version at the first import; predictions
            # of any other version are neither shown to annotators nor scored.
            result["notes"] = [
                f"the project shows and scores predictions of model version {shown} only; the "
                f"new tasks' predictions ({', '.join(sorted(new_versions - {shown}))}) are not "
                "shown: run `corpus ls push --update-predictions` to switch to the file's"
            ]
        if update_predictions:
            file_versions |= new_versions
            added = 0
            for i in range(0, len(to_add), IMPORT_BATCH):
                added += client.import_predictions(pid, to_add[i : i + IMPORT_BATCH])
                if progress:
                    progress(min(i + IMPORT_BATCH, len(to_add)), len(to_add))
            before = project.get("model_version") or ""
            after = before
            notes: list[str] = []
            live = client.ml_backend_titles(pid) if before and len(file_versions) == 1 else set()
            if len(file_versions) == 1 and before in live:
                notes.append(
                    f"the project takes its suggestions live from the ML backend {before!r}: its "
                    f"model version was left as it was (choose {sorted(file_versions)[0]} in the "
                    "project's settings to show and score the file's predictions instead)"
                )
            elif len(file_versions) == 1:
                (after,) = file_versions
                if after != before:
                    client.request("PATCH", f"/api/projects/{pid}/", json={"model_version": after})
            elif len(file_versions) > 1:
                notes.append(
                    f"the file's predictions have {len(file_versions)} model versions "
                    f"({', '.join(sorted(file_versions))}): the project's model version "
                    "(which predictions the score and the annotators see) was left as it was"
                )
            result["predictions"] = {
                **pred_tasks,
                "predictions_added": added,
                "model_versions": sorted(file_versions),
                "project_model_version": {"before": before, "after": after},
                "notes": notes,
            }
        outside = support_warning(client.version())
        if outside:
            result.setdefault("notes", []).append(outside)
    return result


# --- pull ------------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # an earlier pull in this process (or a reused pid): not running now
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def sweep_stale(target: Path) -> list[str]:
    """Remove what killed pulls of `target` left beside it; return the names removed.

    `.<name>.pull-<pid>-*` folders (an unfinished new snapshot) of processes that no longer
    run are deleted; a `.<name>.old-<pid>-*` backup (the fallback swap without an atomic
    exchange, killed between its two renames) is put back when `target` is missing, else
    deleted. Folders of the format before pids were recorded are stale by definition.
    """
    parent = target.parent
    if not parent.is_dir():
        return []
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(pull|old)-(?:(\d+)(?:-|$))?")
    swept: list[str] = []
    for entry in sorted(parent.iterdir()):
        m = pattern.match(entry.name)
        if not m or (m.group(2) and _alive(int(m.group(2)))):
            continue
        if m.group(1) == "old" and not target.exists() and entry.is_dir():
            os.replace(entry, target)
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
        swept.append(entry.name)
    return swept


class TreeWriter:
    """Writes a folder's new content beside it, then swaps it in; counts what changed.

    Files are written as they come (a pull never holds the whole project in memory) into a
    hidden temporary sibling folder (readers skip dot-names); `commit` exchanges it with the
    target in one atomic step, so a reader sees the old folder or the new one, never a mix
    and never no folder, and a failure or kill before that leaves the previous content
    intact. Leftovers of killed writers are swept when the next one starts.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        if target.exists() and not target.is_dir():
            raise UsageError(
                f"{target}: a file is where the pulled folder belongs",
                path=str(target),
                hint="Move it away, or pull into another folder with --out.",
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        self.swept = sweep_stale(target)
        self.tmp = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.pull-{os.getpid()}-", dir=target.parent)
        )
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
        # Where the exchange is not supported, the old folder waits at `backup` between two
        # renames (a killed pull there is put back by `sweep_stale`).
        backup = self.target.with_name(f".{self.target.name}.old-{os.getpid()}-0")
        store.swap_in(self.tmp, self.target, backup)
        for left in (self.tmp, backup):  # the old content, under a hidden name
            if left.exists():
                shutil.rmtree(left)
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
    project: dict[str, Any], server_version: str, counts: dict[str, Any], key_source: str
) -> dict[str, Any]:
    return {
        "source": "label-studio",
        "label_studio_version": server_version,
        "project_id": project.get("id"),
        "title": project.get("title"),
        "label_config_sha256": store.sha256_text(project.get("label_config") or ""),
        **counts,
        "pseudonyms": {
            "scheme": "ann- + first 10 hex of HMAC-SHA256(key, lowercased email)",
            "key": key_source,
        },
        "layout": "one Label Studio task per file under tasks/, named <article_id>.json",
    }


def annotation_key(ann: dict[str, Any]) -> tuple[Any, Any]:
    """What identifies an annotation across pulls: its id and its creation time. Ids alone
    do not: every fresh server numbers annotations from 1, so another server's annotation 1
    would pass for the one a folder holds; an edit on the server keeps both."""
    return (ann.get("id"), ann.get("created_at"))


def local_annotations(folder: Path) -> dict[str, set[Any]]:
    """Annotation keys (`annotation_key`) per task file (`tasks/<name>.json`) in a pulled
    folder."""
    out: dict[str, set[Any]] = {}
    tasks = folder / "tasks"
    if not tasks.is_dir():
        return out
    for f in sorted(tasks.iterdir()):
        if f.name[0] in "._" or f.suffix != ".json" or not f.is_file():
            continue
        try:
            task = orjson.loads(f.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue  # not ours to judge here: `corpus validate` reports it
        anns = task.get("annotations") if isinstance(task, dict) else None
        ids = {annotation_key(a) for a in anns or [] if isinstance(a, dict)}
        if ids:
            out[f"tasks/{f.name}"] = ids
    return out


# What a refused pull or import says: why the annotations are missing, where to look instead.
_REFUSALS = {
    "pull": (
        "The server no longer has them (a fresh server, another project, or deleted annotations)",
        "build/pulled",
    ),
    "import": (
        "The export does not have them (an older export, or another project's)",
        "build/imported",
    ),
}
_WRITTEN = {"pull": "pulled", "import": "imported"}


def refuse_deletions(verb: str, target: Path, lost: dict[str, set[Any]], before: int) -> DataError:
    """The refusal of a `verb` ("pull" or "import") that would drop annotations `target`
    holds: `lost` gives the annotation keys per task file that the new content lacks, `before`
    how many the folder holds."""
    why, look = _REFUSALS[verb]
    n = sum(len(v) for v in lost.values())
    examples = ", ".join(f"{k} ({len(v)})" for k, v in sorted(lost.items())[:5])
    more = f" and {len(lost) - 5} more" if len(lost) > 5 else ""
    return DataError(
        f"{verb} refused: it would drop {n} of the {before} annotations in {target} "
        f"from {len(lost)} task files: {examples}{more}. {why}; nothing was changed",
        path=str(target),
        hint=f"{verb.capitalize()} into another folder to look (--out {look}), or replace the "
        "local annotations on purpose with --allow-deletions.",
    )


class TaskFolder:
    """The tasks of a pull or an import (`verb`), written one by one into a `TreeWriter`.

    Each task is cleaned (`clean_task`: allow-listed keys, annotators as pseudonyms) and
    written as `tasks/<task_filename>` (by the scheme's article id field); a second task of
    one article (one task per article and stance target) becomes `<article>.task-<id>.json`,
    so both are kept. Counts what `_project.json` and the result report, and remembers which
    of the annotations the folder held before (`local_annotations`) the new content keeps,
    so `check` can refuse to drop the others. Made by `task_folder`.
    """

    def __init__(self, tree: TreeWriter, who: Pseudonyms, scheme: Scheme, verb: str) -> None:
        self.tree = tree
        self.who = who
        self.scheme = scheme
        self.verb = verb
        self.before = local_annotations(tree.target)
        self.kept: dict[str, set[Any]] = {}
        self.lost: dict[str, set[Any]] = {}
        self.tasks = 0
        self.annotations = 0
        self.cancelled = 0
        self.annotators: set[str] = set()

    def add(self, raw: dict[str, Any]) -> None:
        """Clean one task as the server or an export gives it and write it."""
        task = clean_task(raw, self.who)
        name = task_filename(task, self.scheme)
        if f"tasks/{name}" in self.tree.names:  # two tasks for one article: keep both
            name = f"{name[:-5]}.task-{task.get('id')}.json"
        rel = f"tasks/{name}"
        self.tree.add(rel, store.dump_json(task))
        if rel in self.before:
            self.kept[rel] = {annotation_key(a) for a in task["annotations"]}
        self.tasks += 1
        for ann in task["annotations"]:
            self.annotators.add(ann["completed_by"])
            self.annotations += 1
            self.cancelled += bool(ann.get("was_cancelled"))

    def check(self, allow_deletions: bool) -> None:
        """Raise the refusal (DataError) when annotations the folder held would be lost,
        unless `allow_deletions`. Call it after the last `add`."""
        self.lost = {
            rel: gone
            for rel, had in self.before.items()
            if (gone := had - self.kept.get(rel, set()))
        }
        if self.lost and not allow_deletions:
            held = sum(len(v) for v in self.before.values())
            raise refuse_deletions(self.verb, self.tree.target, self.lost, held)

    def counts(self) -> dict[str, Any]:
        """The figures `_project.json` and the result share."""
        return {
            "tasks": self.tasks,
            "annotations": self.annotations,
            "cancelled_annotations": self.cancelled,
            "annotators": sorted(self.annotators),
        }

    def commit(self, meta: dict[str, Any]) -> dict[str, Any]:
        """Write `_project.json` (`meta`) and swap the folder in; return `counts()` with the
        files `added`/`changed`/`removed`/`unchanged`, the dropped annotations (allowed by
        `check`) and the leftovers of killed writers that were swept."""
        self.tree.add("_project.json", store.dump_json(meta))
        files = self.tree.commit()
        return {
            **self.counts(),
            "files": files,
            "dropped_annotations": sum(len(v) for v in self.lost.values()),
            "swept": self.tree.swept,
        }


@contextmanager
def task_folder(target: Path, who: Pseudonyms, scheme: Scheme, verb: str) -> Iterator[TaskFolder]:
    """A `TaskFolder` replacing folder `target` for a `verb` ("pull" or "import"); nothing
    changes unless its `commit` runs. A file system failure (disk full, a name too long) is
    a UsageError, and the previous files stay as they were."""
    try:
        with TreeWriter(target) as tree:
            yield TaskFolder(tree, who, scheme, verb)
    except OSError as exc:
        raise UsageError(
            f"cannot write the {_WRITTEN[verb]} annotations to {target}: "
            f"{exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else ""),
            path=str(target),
            hint="Free disk space or fix the folder; the previous annotations are untouched.",
        ) from None


def pull(
    *,
    config: CorpusConfig,
    url: str,
    api_key: str,
    pseudonym_key: PseudonymKey,
    project_id: int | None = None,
    out: Path | None = None,
    allow_deletions: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Fetch every task and annotation; write them under `annotations/<project slug>/`.

    Annotators become `ann-` + HMAC-SHA256(`pseudonym_key`, email) (see `pseudonym_key()`).

    Pages through the task ids, then asks the server's JSON export for one page of ids at a
    time: the export shape, without one huge request (projects of 10k+ tasks time out behind
    proxies when exported at once), and memory bounded by a page. The export gives predictions
    as ids only; each page's full predictions (model_version, score, result: what the
    annotators were shown, which `corpus model uptake` compares annotations with) come from
    one more request (`Client.task_predictions`), sorted by id.
    Nothing replaces the previous files unless the whole project was fetched, and not when
    an annotation the folder holds would be lost (DataError) unless `allow_deletions`.
    A file system failure (disk full, a name too long) is a UsageError; the previous files
    stay as they were. A server outside the supported releases (`range_text()`) gets a note
    under `notes`, not a refusal (as in `push`).
    """
    with connect(url, api_key, **client_options(config)) as client:
        project = resolve_project(client, config, project_id)
        pid = int(project["id"])
        who = Pseudonyms(client.users(), pseudonym_key.key)
        ids = client.task_ids(pid)
        server_version = client.version()
        slug = slugify(str(project.get("title") or f"project-{pid}"))
        target = (out or config.paths.annotations) / slug
        with task_folder(target, who, config.scheme, "pull") as folder:
            step = config.labelstudio.page_size
            for i in range(0, len(ids), step):
                chunk = ids[i : i + step]
                page = client.export_tasks(pid, chunk)
                predictions = client.task_predictions(pid, chunk)
                if sorted(int(t["id"]) for t in page) != chunk or sorted(predictions) != chunk:
                    raise LabelStudioError(
                        f"the export of {len(chunk)} tasks from project {pid} came back incomplete",
                        hint="Tasks were deleted during the pull? Pull again.",
                    )
                for raw in sorted(page, key=lambda t: int(t["id"])):
                    raw["predictions"] = predictions[int(raw["id"])]
                    folder.add(raw)
                if progress:
                    progress(folder.tasks, len(ids))
            folder.check(allow_deletions)
            meta = _project_meta(project, server_version, folder.counts(), pseudonym_key.source)
            written = folder.commit(meta)
    result = {
        "project_id": pid,
        "dir": str(target),
        **written,
        "retried_requests": client.retried,
    }
    outside = support_warning(server_version)
    if outside:
        result["notes"] = [outside]
    return result
