"""A Label Studio ML backend: live suggestions from a trained bundle, retrained on new annotations.

Label Studio 1.23.2 talks to a backend over a small JSON protocol (read from the server's own
`label_studio/ml/api_connector.py`, `ml/models.py` and `webhooks/utils.py`):

- `GET /health` (1 s timeout) when a backend is connected and before predictions: 200 = up.
- `POST /setup` `{project, schema, hostname, access_token, extra_params}` (3 s): answers
  `{"model_version": ...}`. The server calls it before every prediction round and stores the
  version; tasks that already hold a prediction of that version are not asked again, so a new
  version after retraining makes them predicted afresh. `access_token` is the project owner's
  API token: it is neither stored nor logged here (nothing here calls the server back).
- `POST /predict` `{tasks, project, label_config, params}` (100 s): answers `{"results": [one
  prediction per task, in order], "model_version": ...}`; a prediction is `{"result": [...],
  "score": float, "model_version": str}`, the shape `corpus tasks` writes.
- `POST /webhook`: the server creates a project webhook to `<url>/webhook` for every action
  (`send_for_all_actions`). `ANNOTATION_CREATED` / `ANNOTATION_UPDATED` carry `annotation`
  and `task` objects (`ANNOTATIONS_CREATED` lists of them, `ANNOTATIONS_DELETED` only ids);
  `START_TRAINING` comes from the project's "Start training" button. The webhook call times
  out after 1 s, so training always runs in a background thread.
- `POST /train` (the older training call, with every annotated task), `POST /job_status`
  `{job}`, `GET /versions`, `POST /validate` `{config}`: answered too.

Retraining: each annotation is converted once, at the edge (`corpus_tools.exports`), into a
`GoldArticle` for its task's text: only labels, offsets and ids are kept, never the
annotator's e-mail or name (a payload's `completed_by` may be an object with both). The newest
annotation of each article counts (a later one replaces it; a cancelled or deleted one removes
it); stance targets it leaves unanswered are missing, not negatives. With one stance control
(`[scheme.names] stance`) a task asks only the target its data names, and an article's tasks
on other targets add their answers beside it (`_merge_targets`). The bundle is retrained in
a background thread on the gold plus every article annotated since the server started; while
it trains, predictions come from the current model; when it is done the new bundle's version is
what `/setup`, `/health` and `/predict` report. One training at a time: events that arrive
meanwhile are coalesced into one more run.

Security: the protocol has no authentication, so the server binds to 127.0.0.1 unless the
caller allows another address explicitly. Requests are bounded in size, malformed JSON gets a
400 with a message, and logs name actions, task ids and versions, never payload contents.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from corpus_tools import exports, store
from corpus_tools.config import CorpusConfig
from corpus_tools.constants import SERVE_HOST, SERVE_PORT
from corpus_tools.errors import CorpusError, UsageError
from corpus_tools.model import Article

if TYPE_CHECKING:
    from corpus_tools.models.data import GoldArticle

log = logging.getLogger(__name__)

DEFAULT_HOST = SERVE_HOST
DEFAULT_PORT = SERVE_PORT
MAX_BODY_BYTES = 64 * 1024 * 1024  # a predict batch of ~10k news articles fits
REQUEST_TIMEOUT_S = 30.0  # a client that stops sending mid-request frees its thread after this

ANNOTATION_EVENTS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED")


class Predictor(Protocol):
    """What the backend serves: a model version and one Label Studio prediction per task."""

    model_version: str

    def predict_task(self, task: dict[str, Any]) -> dict[str, Any]: ...


# A predictor may also have `predict_tasks(tasks) -> list[prediction]` for a whole batch (the
# Suggester batches spaCy); the backend uses it when present.


Retrain = Callable[[Sequence["GoldArticle"]], Predictor]
"""Train a new predictor on the gold plus these newly annotated articles."""


class RequestError(Exception):
    """A request the backend cannot answer: an HTTP status and a message for the client."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# ---------------------------------------------------------------------------------------------
# Predictors


class SuggesterPredictor:
    """A `Suggester` (bundle + projection + gazetteer) as a Predictor; `articles` (the ingested
    ones) give a task whose text is unchanged its sentences and story. Tasks are read in the
    corpus's names (the Suggester's config): the text from `[scheme.names] text_field`, and
    the stance targets a task asks about from `Scheme.task_targets` of its data."""

    def __init__(self, suggester: Any, articles: Mapping[str, Article] | None = None) -> None:
        self.suggester = suggester
        self.articles = articles or {}
        self.model_version: str = suggester.model_version

    def predict_task(self, task: dict[str, Any]) -> dict[str, Any]:
        return self.predict_tasks([task])[0]

    def predict_tasks(self, tasks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """`predict_task` for a batch, with the spaCy model batched (the same predictions)."""
        from corpus_tools.models.suggest import article_from_task

        scheme = self.suggester.config.scheme
        articles = [article_from_task(t, known=self.articles, names=scheme.names) for t in tasks]
        targets = [scheme.task_targets(t.get("data") or {}) for t in tasks]
        return [s.prediction for s in self.suggester.predict_many(articles, targets=targets)]


class PreannotatorPredictor:
    """Any pre-annotator (`corpus_tools.preannotate`: the gazetteer+dates rules, a plug-in) as
    a Predictor: entity spans only, in the shape `corpus tasks` writes, in the control names
    of `config` (default: those `corpus tasks` generates)."""

    def __init__(self, annotator: Any, config: CorpusConfig | None = None) -> None:
        self.annotator = annotator
        self.names = config.scheme.names if config is not None else None
        self.model_version: str = annotator.model_version

    def predict_task(self, task: dict[str, Any]) -> dict[str, Any]:
        from corpus_tools.models.suggest import article_from_task
        from corpus_tools.tasks import prediction

        article = article_from_task(task, names=self.names)
        return prediction(article, self.annotator, 0, self.names)


def _task_id(task: Any) -> str:
    tid = task.get("id") if isinstance(task, dict) else None
    return str(tid) if isinstance(tid, int | str) else "?"


# ---------------------------------------------------------------------------------------------
# Checks at the edge


def label_config_problems(xml: str, config: CorpusConfig) -> list[str]:
    """What a project's labeling config lacks for this backend's predictions (empty = fine).

    Predictions name the corpus's controls (`[scheme.names]`: the entity and claim <Labels>,
    which may be one control, the per-claim check-worthiness <Choices>, the stance <Choices>,
    one per target or one for all) and their values; a project without them would show
    broken regions, so `/setup` refuses it. The config is read with
    `corpus_tools.labeling_config.parse`, the one parser of labeling configs.
    """
    from corpus_tools.labeling_config import parse

    try:
        parsed = parse(xml)
    except CorpusError as exc:
        return [exc.message]
    scheme = config.scheme
    names = scheme.names
    problems: list[str] = []
    text = next((o for o in parsed.objects if o.name == names.text), None)
    if text is None or text.tag != "Text":
        problems.append(f'no <Text name="{names.text}">')
    elif text.data_field != names.text_field:
        problems.append(
            f'<Text name="{names.text}"> shows {text.value!r}, not "${names.text_field}" '
            "([scheme.names] text_field)"
        )
    claim_values: tuple[str, ...] = (names.claim_label,)
    wanted: list[tuple[str, str, Sequence[str]]] = [
        (
            names.entities,
            "Labels",
            scheme.entity_labels + (claim_values if names.claims_in_entities else ()),
        ),
    ]
    if not names.claims_in_entities:
        wanted.append((names.claims, "Labels", claim_values))
    wanted.append((names.checkworthy, "Choices", scheme.checkworthy))
    wanted += [(control, "Choices", scheme.stance_labels) for control in scheme.stance_controls]
    for name, tag, values in wanted:
        control = parsed.control(name)
        if control is None or control.tag != tag:
            problems.append(f'no <{tag} name="{name}">')
            continue
        if names.text not in control.to_name:
            problems.append(f'<{tag} name="{name}"> does not label "{names.text}"')
        have = set(control.value_names)
        missing = [v for v in values if v not in have]
        if missing:
            problems.append(f'<{tag} name="{name}"> lacks {", ".join(missing)}')
    return problems


def check_prediction(
    prediction: Any, task: dict[str, Any], text_field: str = "text"
) -> dict[str, Any]:
    """The prediction, if every region's offsets index the task's text (`data[text_field]`)
    exactly (else a 500: the model broke the offsets contract and Label Studio would store
    misplaced regions)."""
    if not isinstance(prediction, dict) or not isinstance(prediction.get("result"), list):
        raise RequestError(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            f"task {_task_id(task)}: the model returned no prediction with a result list",
        )
    raw = (task.get("data") or {}).get(text_field, "")
    text = raw if isinstance(raw, str) else ""
    for region in prediction["result"]:
        value = region.get("value") if isinstance(region, dict) else None
        if not isinstance(value, dict) or "start" not in value:
            continue
        start, end = value.get("start"), value.get("end")
        ok = (
            type(start) is int
            and type(end) is int
            and 0 <= start < end <= len(text)
            and value.get("text") in (None, text[start:end])
        )
        if not ok:
            raise RequestError(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                f"task {_task_id(task)}, region {region.get('id')}: offsets [{start}, {end}) "
                "do not index the task's text (a bug in the model)",
            )
    return prediction


# ---------------------------------------------------------------------------------------------
# Webhook annotations -> gold


def gold_from_annotation(
    annotation: dict[str, Any],
    task: dict[str, Any],
    config: CorpusConfig,
    articles: Mapping[str, Article] | None = None,
) -> GoldArticle | None:
    """One Label Studio annotation as a GoldArticle for its task's text (None if cancelled).

    The article is the corpus's own (with its sentences and story) when the task's text is
    the ingested text; otherwise it is built from the task. Nothing about the annotator is
    kept. Raises RequestError when the annotation cannot be read.
    """
    from corpus_tools.models.data import GoldArticle

    if annotation.get("was_cancelled"):
        return None
    try:
        ann = exports.parse_annotation(annotation, task, config.scheme)
    except CorpusError as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, f"task {_task_id(task)}: {exc.message}"
        ) from None
    article = _article_for(task, articles or {}, config)
    answered = {s.target for s in ann.stances}
    # the targets the task asked about (one, named by its data, with one stance control)
    asked = config.scheme.task_targets(task.get("data") or {})
    return GoldArticle(
        article=article,
        entities=tuple(ann.entities),
        stances=tuple(ann.stances),
        claims=tuple(ann.claims),
        missing_stances=tuple(sorted(t for t in asked if t not in answered)),
    )


def _merge_targets(old: GoldArticle, new: GoldArticle) -> GoldArticle:
    """With one stance control an article may come in one task per target: a newer
    annotation of another of its tasks keeps the answers (and open targets) of the older one
    on the targets it did not ask; its spans replace the older spans (the newest annotation
    of an article counts). A changed text starts afresh."""
    from dataclasses import replace

    if old.article.text_sha256 != new.article.text_sha256:
        return new
    asked = {s.target for s in new.stances} | set(new.missing_stances)
    kept = tuple(s for s in old.stances if s.target not in asked)
    still = tuple(t for t in old.missing_stances if t not in asked)
    return replace(
        new,
        stances=tuple(sorted(new.stances + kept, key=lambda s: s.target)),
        missing_stances=tuple(sorted(new.missing_stances + still)),
    )


def _article_for(
    task: dict[str, Any], articles: Mapping[str, Article], config: CorpusConfig
) -> Article:
    from corpus_tools.models.suggest import article_from_task

    try:
        return article_from_task(task, known=articles, names=config.scheme.names)
    except CorpusError as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, f"task {_task_id(task)}: {exc.message}"
        ) from None


# ---------------------------------------------------------------------------------------------
# The backend (protocol logic, no HTTP)


@dataclass
class _Entry:
    gold: GoldArticle
    annotation_id: int | None


class Backend:
    """The protocol's answers, thread-safe: the current predictor, the annotations received,
    and at most one background training at a time."""

    def __init__(
        self,
        predictor: Predictor,
        *,
        config: CorpusConfig,
        retrain: Retrain | None = None,
        articles: Mapping[str, Article] | None = None,
        max_concurrent_predictions: int = 2,
    ) -> None:
        self.config = config
        self._retrain = retrain
        self._articles = articles or {}
        self._lock = threading.Lock()
        self._predictor = predictor
        self._versions: list[str] = [predictor.model_version]
        self._extra: dict[str, _Entry] = {}  # article_id -> its newest annotation
        self._queued: str | None = None  # the training run that will include new events
        self._running: str | None = None
        self._thread: threading.Thread | None = None
        self._jobs: dict[str, str] = {}  # job id -> queued | started | finished | failed
        self._job_seq = 0
        self._trained_on = 0  # how many annotated articles the current model saw
        self._trained_snapshot: tuple[GoldArticle, ...] = ()  # what the current model saw
        self._closed = False
        self.last_error: str | None = None
        self._predict_slots = threading.BoundedSemaphore(max_concurrent_predictions)

    # -- state ------------------------------------------------------------------------------

    @property
    def model_version(self) -> str:
        with self._lock:
            return self._predictor.model_version

    @property
    def training(self) -> bool:
        with self._lock:
            return self._thread is not None

    def health(self) -> dict[str, Any]:
        with self._lock:
            return {
                "status": "UP",
                "model_version": self._predictor.model_version,
                "training": self._thread is not None,
                "retrain": self._retrain is not None,
                "annotated_articles": len(self._extra),
                "trained_on_annotated": self._trained_on,
                "last_error": self.last_error,
            }

    def versions(self) -> dict[str, Any]:
        with self._lock:
            return {"versions": list(reversed(self._versions))}

    # -- setup, validate, predict -----------------------------------------------------------

    def setup(self, payload: dict[str, Any]) -> dict[str, Any]:
        schema = payload.get("schema")
        if isinstance(schema, str) and schema.strip():
            problems = label_config_problems(schema, self.config)
            if problems:
                raise RequestError(
                    HTTPStatus.BAD_REQUEST,
                    "the project's labeling config is not this corpus's: "
                    + "; ".join(problems)
                    + " (use schemas/labeling-config.xml, e.g. through `corpus ls push`; an "
                    "adopted project's control names go in [scheme.names] of corpus.toml)",
                )
        return {"model_version": self.model_version}

    def validate(self, payload: dict[str, Any]) -> dict[str, Any]:
        config = payload.get("config")
        if not isinstance(config, str):
            raise RequestError(HTTPStatus.BAD_REQUEST, "validate needs a 'config' string")
        problems = label_config_problems(config, self.config)
        if problems:
            raise RequestError(HTTPStatus.UNPROCESSABLE_ENTITY, "; ".join(problems))
        return {"status": "ok"}

    def predict(self, payload: dict[str, Any]) -> dict[str, Any]:
        tasks = payload.get("tasks")
        if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
            raise RequestError(HTTPStatus.BAD_REQUEST, "predict needs 'tasks': a list of objects")
        with self._lock:
            predictor = self._predictor  # one model for the whole batch, even if a swap lands
        field = self.config.scheme.names.text_field
        for task in tasks:
            data = task.get("data")
            if not isinstance(data, dict) or not isinstance(data.get(field), str):
                raise RequestError(
                    HTTPStatus.BAD_REQUEST,
                    f"task {_task_id(task)}: no data.{field} (is the project's labeling "
                    "config this corpus's? [scheme.names] text_field names the task's text)",
                )
        batch = getattr(predictor, "predict_tasks", None)
        with self._predict_slots:
            try:
                if callable(batch):
                    raw = list(batch(tasks))
                else:
                    raw = [predictor.predict_task(task) for task in tasks]
            except CorpusError as exc:  # the model failed on a well-formed task
                where = f"task {exc.task_id}: " if exc.task_id is not None else ""
                raise RequestError(
                    HTTPStatus.INTERNAL_SERVER_ERROR, f"{where}{exc.message}"
                ) from None
        if len(raw) != len(tasks):
            raise RequestError(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                f"the model answered {len(raw)} predictions for {len(tasks)} tasks",
            )
        results = []
        for task, pred in zip(tasks, raw, strict=True):
            check_prediction(pred, task, field)
            pred = dict(pred)
            pred.setdefault("model_version", predictor.model_version)
            results.append(pred)
        log.info("predicted %d task(s) with %s", len(results), predictor.model_version)
        return {"results": results, "model_version": predictor.model_version}

    # -- annotations and training -----------------------------------------------------------

    def webhook(self, payload: dict[str, Any]) -> dict[str, Any]:
        action = payload.get("action")
        if not isinstance(action, str):
            raise RequestError(HTTPStatus.BAD_REQUEST, "webhook payload has no 'action'")
        if self._retrain is None:  # --no-retrain: nothing is converted or kept
            return {"status": "ignored", "action": action, "retrain": False}
        if action in ANNOTATION_EVENTS:
            pairs = _annotation_pairs(payload)
            changed = sum(self._take(ann, task) for ann, task in pairs)
            log.info("%s: %d annotation(s), %d changed", action, len(pairs), changed)
            job = self._schedule() if changed else None
            return {"status": "ok", "action": action, "changed": changed, "job": job}
        if action == "ANNOTATIONS_DELETED":
            ids = {a.get("id") for a in payload.get("annotations") or [] if isinstance(a, dict)}
            removed = self._forget(ids)
            log.info("%s: %d annotation(s) forgotten", action, removed)
            job = self._schedule() if removed else None
            return {"status": "ok", "action": action, "changed": removed, "job": job}
        if action == "START_TRAINING":
            job = self._schedule(force=False)
            log.info("START_TRAINING: %s", job or "nothing new to train on")
            return {"status": "ok", "action": action, "job": job}
        return {"status": "ignored", "action": action}

    def train(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The older `/train` call: every annotated task of the project at once."""
        if self._retrain is None:
            return {}
        tasks = payload.get("annotations")
        if not isinstance(tasks, list):
            raise RequestError(HTTPStatus.BAD_REQUEST, "train needs 'annotations': a task list")
        changed = 0
        for task in tasks:
            if isinstance(task, dict):
                for ann in task.get("annotations") or []:
                    if isinstance(ann, dict):
                        changed += self._take(ann, task)
        job = self._schedule(force=False)
        log.info("train: %d task(s), %d changed, job %s", len(tasks), changed, job)
        return {"job": job} if job else {}

    def job_status(self, payload: dict[str, Any]) -> dict[str, Any]:
        job = payload.get("job")
        with self._lock:
            status = self._jobs.get(str(job))
            version = self._predictor.model_version
        if status is None:
            raise RequestError(HTTPStatus.GONE, f"no training job {job!r}")
        return {"job_status": status, "model_version": version}

    def _take(self, annotation: dict[str, Any], task: dict[str, Any]) -> bool:
        """Record one annotation (converted here, once); True if the training data changed."""
        gold = gold_from_annotation(annotation, task, self.config, self._articles)
        ann_id = annotation.get("id") if isinstance(annotation.get("id"), int) else None
        with self._lock:
            if gold is None:  # cancelled: a skipped task teaches nothing, drop its earlier labels
                stale = [k for k, e in self._extra.items() if ann_id and e.annotation_id == ann_id]
                for k in stale:
                    del self._extra[k]
                return bool(stale)
            old = self._extra.get(gold.article_id)
            if old is not None and self.config.scheme.names.stance:
                gold = _merge_targets(old.gold, gold)
            if old is not None and old.gold == gold:
                return False
            self._extra[gold.article_id] = _Entry(gold, ann_id)
            return True

    def _forget(self, annotation_ids: set[Any]) -> int:
        with self._lock:
            stale = [k for k, e in self._extra.items() if e.annotation_id in annotation_ids]
            for k in stale:
                del self._extra[k]
            return len(stale)

    def _schedule(self, *, force: bool = True) -> str | None:
        """Queue a training run (coalesced with one already queued); its job id, or None when
        retraining is off, or (force=False) when nothing changed since the last run."""
        with self._lock:
            if self._retrain is None or self._closed:
                return None
            idle = self._queued is None and self._running is None
            if not force and idle and self._snapshot() == self._trained_snapshot:
                return None
            if self._queued is None:
                self._job_seq += 1
                self._queued = f"train-{self._job_seq}"
                self._jobs[self._queued] = "queued"
            job = self._queued
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._train_loop, name="corpus-serve-train", daemon=True
                )
                self._thread.start()
            return job

    def _snapshot(self) -> tuple[GoldArticle, ...]:
        """The annotated articles, in article_id order (call with the lock held)."""
        return tuple(self._extra[k].gold for k in sorted(self._extra))

    def _train_loop(self) -> None:
        assert self._retrain is not None
        while True:
            with self._lock:
                job = self._queued
                if job is None or self._closed:
                    self._thread = None
                    self._running = None
                    return
                self._queued = None
                self._running = job
                self._jobs[job] = "started"
                extra = self._snapshot()
            log.info("%s: training on the gold and %d annotated article(s)", job, len(extra))
            started = time.monotonic()
            try:
                predictor = self._retrain(extra)
            except Exception as exc:  # keep serving the current model; say why in /health
                with self._lock:
                    self._jobs[job] = "failed"
                    self.last_error = f"{job}: {exc.__class__.__name__}: {exc}"
                log.error("%s failed: %s: %s", job, exc.__class__.__name__, exc)
                continue
            with self._lock:
                self._predictor = predictor
                if predictor.model_version not in self._versions:
                    self._versions.append(predictor.model_version)
                self._jobs[job] = "finished"
                self._trained_on = len(extra)
                self._trained_snapshot = extra
                self.last_error = None
            log.info(
                "%s: now serving %s (%.1f s)",
                job,
                predictor.model_version,
                time.monotonic() - started,
            )

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no training runs or is queued; False on timeout (for tests and exit)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._thread is None:
                    return True
                thread = self._thread
            thread.join(min(0.2, max(0.0, deadline - time.monotonic())))
        return not self.training

    def close(self) -> None:
        """Start no further training (one in progress finishes or dies with the process)."""
        with self._lock:
            self._closed = True
            self._queued = None


def _annotation_pairs(payload: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(annotation, task) pairs of an annotation event (one, or lists for ANNOTATIONS_CREATED)."""
    anns, tasks = payload.get("annotation"), payload.get("task")
    if isinstance(anns, dict) and isinstance(tasks, dict):
        return [(anns, tasks)]
    if isinstance(anns, list) and isinstance(tasks, list):
        by_id = {t.get("id"): t for t in tasks if isinstance(t, dict)}
        pairs = []
        for a in anns:
            if isinstance(a, dict) and isinstance(by_id.get(a.get("task")), dict):
                pairs.append((a, by_id[a.get("task")]))
        return pairs
    raise RequestError(
        HTTPStatus.BAD_REQUEST,
        f"{payload.get('action')}: the payload has no 'annotation' and 'task' "
        "(is the webhook's 'send payload' option off?)",
    )


# ---------------------------------------------------------------------------------------------
# HTTP


_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/"): "health",
    ("GET", "/health"): "health",
    ("GET", "/versions"): "versions",
    ("POST", "/setup"): "setup",
    ("POST", "/predict"): "predict",
    ("POST", "/webhook"): "webhook",
    ("POST", "/train"): "train",
    ("POST", "/job_status"): "job_status",
    ("POST", "/validate"): "validate",
}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_TIMEOUT_S
    server_version = "corpus-serve"
    sys_version = ""

    def do_GET(self) -> None:  # http.server's naming
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        try:
            name = _ROUTES.get((method, path))
            if name is None:
                known = any(p == path for _, p in _ROUTES)
                status = HTTPStatus.METHOD_NOT_ALLOWED if known else HTTPStatus.NOT_FOUND
                raise RequestError(status, f"{method} {path}: not part of the ML backend API")
            backend = self.server.backend
            if method == "GET":
                answer = getattr(backend, name)()
            else:
                answer = getattr(backend, name)(self._json_body())
            self._send(HTTPStatus.OK, answer)
        except RequestError as exc:
            if exc.status >= 500:
                log.error("%s %s: %s", method, path, exc.message)
            self._send(exc.status, {"error": exc.message})
        except Exception as exc:  # a bug: answer 500 and keep serving (traceback in the log)
            log.exception("%s %s failed", method, path)
            message = f"internal error: {exc.__class__.__name__}: {exc}"
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": message})

    def _json_body(self) -> dict[str, Any]:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            raise RequestError(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise RequestError(HTTPStatus.BAD_REQUEST, "bad Content-Length")
        if length > self.server.max_body:
            self.close_connection = True  # the body is not read: drop the connection after
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"request body of {length} bytes is over the limit of {self.server.max_body}",
            )
        raw = self.rfile.read(length)
        if len(raw) < length:
            raise RequestError(HTTPStatus.BAD_REQUEST, "request body ended early")
        try:
            payload = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"body is not JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
        return payload

    def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        with contextlib.suppress(OSError):  # the client went away: nothing to tell it
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        # request line and status only (never a body; the address is loopback or allowed)
        log.debug("%s " + format, self.address_string(), *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, addr: tuple[str, int], backend: Backend, max_body: int) -> None:
        self.backend = backend
        self.max_body = max_body
        super().__init__(addr, _Handler)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and `localhost`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, *, allow_remote: bool) -> None:
    """UsageError for a non-loopback address unless `allow_remote` (no authentication)."""
    if not allow_remote and not is_loopback(host):
        raise UsageError(
            f"refusing to serve on {host}: the ML backend protocol has no authentication, so "
            "anyone who reaches the port could read suggestions and send training data",
            hint="Serve on 127.0.0.1 (the default), or pass --allow-remote on a trusted network.",
        )


@dataclass
class RunningBackend:
    """A bound backend server: `serve_forever()` in the caller, `shutdown()` from elsewhere."""

    backend: Backend
    server: _Server
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        self.server.serve_forever(poll_interval=0.2)

    def start_thread(self) -> threading.Thread:
        """Serve in a daemon thread (tests, notebooks); stop with `shutdown()`."""
        t = threading.Thread(target=self.serve_forever, name="corpus-serve", daemon=True)
        t.start()
        return t

    def shutdown(self) -> None:
        """Stop serving, start no further training, free the port."""
        self.backend.close()
        self.server.shutdown()
        self.server.server_close()


def bind(
    backend: Backend,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    allow_remote: bool = False,
    max_body: int = MAX_BODY_BYTES,
) -> RunningBackend:
    """Bind the HTTP server (port 0 = any free port). A non-loopback host is refused unless
    `allow_remote`: the protocol has no authentication, so anyone who reaches the port can
    read predictions and push training data."""
    check_host(host, allow_remote=allow_remote)
    family_v6 = ":" in host
    server_cls = _Server
    if family_v6:
        import socket

        class _Server6(_Server):
            address_family = socket.AF_INET6

        server_cls = _Server6
    try:
        server = server_cls((host, port), backend, max_body)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})",
            hint="Is another `corpus serve` running? Pick another --port.",
        ) from None
    return RunningBackend(backend, server, host, int(server.server_address[1]))


# ---------------------------------------------------------------------------------------------
# From a trained bundle


def bundle_predictor(
    bundle: Any,
    config: CorpusConfig,
    siblings: Any = None,
    articles: Mapping[str, Article] | None = None,
) -> Predictor:
    """A trained bundle, with projection from `siblings` and the gazetteer, as a Predictor."""
    from corpus_tools.models.suggest import Suggester

    return SuggesterPredictor(Suggester(bundle, config, siblings), articles)


def open_backend(
    config: CorpusConfig,
    *,
    model: str | Path = "latest",
    gold: Path | None = None,
    retrain: bool = True,
) -> Backend:
    """The backend for a trained bundle (`build/models/LATEST` by default).

    With `retrain`, each new annotation retrains the bundle with `bundle.train(config, gold,
    extra=[every article annotated since start])`, with the epochs and seed on the served
    bundle's card.
    """
    from corpus_tools.models import bundle as bundles
    from corpus_tools.models.data import TrainingSet, load_training_set

    current = bundles.load(config, model)
    try:
        siblings: TrainingSet | None = load_training_set(config, gold)
    except CorpusError as exc:  # no gold here (a bundle copied in): no projection, say so
        log.warning("no sibling gold for projection: %s", exc.message)
        siblings = None
    try:
        articles = store.load_articles(config.paths.articles_parquet)
    except CorpusError:
        articles = {}
    card: dict[str, Any] = current.card if isinstance(current.card, dict) else {}
    training: dict[str, Any] = card["training"] if isinstance(card.get("training"), dict) else {}
    epochs = int(training.get("epochs", card.get("epochs", 20)))
    seed = int(training.get("seed", card.get("seed", 0)))

    def retrain_fn(extra: Sequence[GoldArticle]) -> Predictor:
        trained = bundles.train(config, gold, extra=extra, seed=seed, epochs=epochs)
        return bundle_predictor(trained, config, _with_extra(siblings, extra), articles)

    return Backend(
        bundle_predictor(current, config, siblings, articles),
        config=config,
        retrain=retrain_fn if retrain else None,
        articles=articles,
    )


def _with_extra(siblings: Any, extra: Sequence[GoldArticle]) -> Any:
    """The sibling gold with the annotated articles merged in as training merged them."""
    if siblings is None or not extra:
        return siblings
    from dataclasses import replace

    from corpus_tools.models.bundle import merge_extra

    return replace(siblings, items=merge_extra(siblings.items, extra))


def start(
    config: CorpusConfig,
    *,
    model: str | Path = "latest",
    gold: Path | None = None,
    retrain: bool = True,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    allow_remote: bool = False,
) -> RunningBackend:
    """Load the bundle and bind the server (not serving yet: call `serve_forever()`).

    The host is checked before the model loads, so a refused address fails fast."""
    check_host(host, allow_remote=allow_remote)
    backend = open_backend(config, model=model, gold=gold, retrain=retrain)
    return bind(backend, host=host, port=port, allow_remote=allow_remote)
