"""`corpus serve`: the ML backend protocol, retraining on webhook annotations, and the real
Label Studio 1.23.2 server connecting to it, asking for predictions and sending annotations.

One small bundle is trained per module on the sample gold (2 epochs); the live test serves it
with `corpus serve` in a child process.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import copy_gold
from typer.testing import CliRunner

from corpus_tools import labeling_config, serve, store
from corpus_tools.cli import app
from corpus_tools.config import CorpusConfig, load_config
from corpus_tools.errors import UsageError
from corpus_tools.labelstudio_server import free_port
from corpus_tools.model import EntitySpan, StanceJudgement
from corpus_tools.preannotate import RulePreannotator
from corpus_tools.tasks import task_data

REPO = Path(__file__).resolve().parent.parent
EPOCHS = 2
# emoji, a non-BMP letter, CRLF line breaks and a combining mark before the entities
ODD_TEXT = (
    "😀 Breaking 𝔸:\r\nNATO spokesman Jens Stoltenberg said Iran sent drones to Russia.\r\n"
    "Cafe\u0301 owners in Tehran and Kyiv said nothing; the United States declined to comment."
)


@dataclass
class Trained:
    root: Path
    config: CorpusConfig
    version: str


@pytest.fixture(scope="module")
def trained(sample_gold: Path, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """The sample corpus, ingested and adjudicated, with a 2-epoch bundle."""
    from corpus_tools.models import bundle

    root = copy_gold(sample_gold, tmp_path_factory.mktemp("serve") / "corpus")
    config = load_config(root / "corpus.toml")
    b = bundle.train(config, epochs=EPOCHS)
    return Trained(root, config, b.version)


@contextlib.contextmanager
def running(backend: serve.Backend, **kw: Any) -> Iterator[serve.RunningBackend]:
    srv = serve.bind(backend, port=0, **kw)
    srv.start_thread()
    try:
        yield srv
    finally:
        srv.shutdown()


def rules(version: str = "rules-v1") -> serve.PreannotatorPredictor:
    gazetteer = {"ORG": ["NATO"], "PER": ["Jens Stoltenberg"], "GPE": ["Iran", "Tehran"]}
    return serve.PreannotatorPredictor(
        RulePreannotator(gazetteer, dates=False, model_version=version)
    )


def assert_offsets(prediction: dict[str, Any], text: str) -> int:
    """Every region's value.text is text[start:end]; returns how many regions have offsets."""
    n = 0
    for region in prediction["result"]:
        value = region["value"]
        if "start" in value:
            assert value["text"] == text[value["start"] : value["end"]], region
            n += 1
    return n


# ---------------------------------------------------------------------------------------------
# The HTTP protocol without Label Studio


def test_health_setup_and_predict_on_odd_text(trained: Trained) -> None:
    backend = serve.open_backend(trained.config, model=trained.version, retrain=False)
    with running(backend) as srv, httpx.Client(base_url=srv.url, timeout=60) as http:
        health = http.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "UP"
        assert health.json()["model_version"] == trained.version
        xml = labeling_config.render(trained.config)
        setup = http.post("/setup", json={"project": "1.1", "schema": xml, "access_token": "x"})
        assert setup.status_code == 200 and setup.json() == {"model_version": trained.version}

        tasks = [{"id": 7, "data": {"article_id": "odd", "text": ODD_TEXT}}]
        resp = http.post("/predict", json={"tasks": tasks, "project": "1.1", "label_config": xml})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["model_version"] == trained.version
        [pred] = body["results"]
        assert pred["model_version"] == trained.version
        assert 0.0 <= pred["score"] <= 1.0
        assert assert_offsets(pred, ODD_TEXT) >= 1
        # an independent oracle for the code-point offsets: str.index on the exact text
        found = {
            (r["value"]["text"], r["value"]["start"])
            for r in pred["result"]
            if r["from_name"] == "entities"
        }
        assert ("Iran", ODD_TEXT.index("Iran")) in found or (
            "NATO",
            ODD_TEXT.index("NATO"),
        ) in found


def test_rules_predictor_offsets_in_code_points(trained: Trained) -> None:
    backend = serve.Backend(rules(), config=trained.config)
    with running(backend) as srv:
        task = {"id": 1, "data": {"article_id": "odd", "text": ODD_TEXT}}
        resp = httpx.post(f"{srv.url}/predict", json={"tasks": [task, task]}, timeout=30)
    assert resp.status_code == 200
    results = resp.json()["results"]
    assert len(results) == 2 and results[0] == results[1]
    got = sorted((r["value"]["start"], r["value"]["text"]) for r in results[0]["result"])
    want = sorted(
        (ODD_TEXT.index(form), form) for form in ("NATO", "Jens Stoltenberg", "Iran", "Tehran")
    )
    assert got == want
    assert assert_offsets(results[0], ODD_TEXT) == 4


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", "/predict", b"{not json", 400, "body is not JSON"),
        ("POST", "/predict", b"\xff\xfe", 400, "body is not JSON"),
        ("POST", "/predict", b"[1, 2]", 400, "body must be a JSON object"),
        ("POST", "/predict", b'{"tasks": "x"}', 400, "'tasks': a list of objects"),
        ("POST", "/predict", b'{"tasks": [{"id": 3, "data": {}}]}', 400, "task 3: no data.text"),
        ("POST", "/setup", b"", 400, "body is not JSON"),
        ("POST", "/webhook", b'{"no": "action"}', 400, "no 'action'"),
        ("POST", "/webhook", b'{"action": "ANNOTATION_CREATED"}', 400, "send payload"),
        ("POST", "/job_status", b'{"job": "train-99"}', 410, "no training job"),
        ("GET", "/predict", b"", 405, "not part of the ML backend API"),
        ("GET", "/nope", b"", 404, "not part of the ML backend API"),
    ],
)
def test_bad_requests_get_a_status_and_a_message(
    trained: Trained, method: str, path: str, body: bytes, status: int, message: str
) -> None:
    backend = serve.Backend(rules(), config=trained.config, retrain=lambda extra: rules("v2"))
    with running(backend) as srv:
        resp = httpx.request(method, f"{srv.url}{path}", content=body, timeout=30)
        assert resp.status_code == status
        assert message in resp.json()["error"]
        # the server is still up after it
        assert httpx.get(f"{srv.url}/health", timeout=10).status_code == 200


def test_setup_refuses_a_foreign_labeling_config(trained: Trained) -> None:
    backend = serve.Backend(rules(), config=trained.config)
    xml = '<View><Labels name="label" toName="text"><Label value="X"/></Labels>'
    xml += '<Text name="text" value="$text"/></View>'
    with running(backend) as srv:
        resp = httpx.post(f"{srv.url}/setup", json={"schema": xml}, timeout=30)
        valid = httpx.post(
            f"{srv.url}/validate",
            json={"config": labeling_config.render(trained.config)},
            timeout=30,
        )
    assert resp.status_code == 400
    assert 'no <Labels name="entities">' in resp.json()["error"]
    assert 'no <Choices name="stance_iran">' in resp.json()["error"]
    assert valid.status_code == 200


def test_oversized_body_is_refused_unread(trained: Trained) -> None:
    backend = serve.Backend(rules(), config=trained.config)
    with running(backend, max_body=1000) as srv:
        big = json.dumps({"tasks": [{"data": {"text": "x" * 2000}}]})
        resp = httpx.post(f"{srv.url}/predict", content=big, timeout=30)
        assert resp.status_code == 413
        assert "over the limit of 1000" in resp.json()["error"]
        assert httpx.get(f"{srv.url}/health", timeout=10).status_code == 200


def test_remote_host_needs_allow_remote(trained: Trained) -> None:
    backend = serve.Backend(rules(), config=trained.config)
    with pytest.raises(UsageError, match="no authentication"):
        serve.bind(backend, host="0.0.0.0", port=0)
    assert serve.is_loopback("127.0.0.5") and serve.is_loopback("::1")
    assert not serve.is_loopback("192.168.1.2") and not serve.is_loopback("example.org")


def test_cli_refuses_remote_host_before_loading(trained: Trained) -> None:
    res = CliRunner().invoke(
        app, ["serve", "-c", str(trained.root / "corpus.toml"), "--host", "0.0.0.0", "--port", "0"]
    )
    assert res.exit_code == 2
    assert "no authentication" in res.output and "--allow-remote" in res.output


# ---------------------------------------------------------------------------------------------
# Webhook events and retraining (a trainer we can hold, to see what happens meanwhile)


def event(
    action: str, task_id: int, ann_id: int, text: str, article_id: str, **ann: Any
) -> dict[str, Any]:
    """A webhook payload shaped as Label Studio 1.23.2 sends it (webhooks/utils.py)."""
    i = text.index("Iran")
    annotation = {
        "id": ann_id,
        "task": task_id,
        "project": 1,
        "was_cancelled": False,
        "ground_truth": False,
        "lead_time": 3.5,
        "result": [
            {
                "id": "r1",
                "from_name": "entities",
                "to_name": "text",
                "type": "labels",
                "value": {"start": i, "end": i + 4, "text": "Iran", "labels": ["GPE"]},
            },
            {
                "from_name": "stance_iran",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": ["against"]},
            },
        ],
        # a snapshot-style completed_by: personal data that must go nowhere
        "completed_by": {"id": 5, "email": "anna.k@example.org", "first_name": "Anna"},
        **ann,
    }
    task = {"id": task_id, "project": 1, "data": {"article_id": article_id, "text": text}}
    return {"action": action, "annotation": annotation, "task": task, "project": {"id": 1}}


class HeldTrainer:
    """A retrain function that records what it was given and waits for `release()`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.gold: list[tuple[Any, ...]] = []
        self._gate = threading.Event()

    def __call__(self, extra: Any) -> serve.Predictor:
        self.calls.append(tuple(g.article_id for g in extra))
        self.gold.append(tuple(extra))
        assert self._gate.wait(30)
        return rules(f"rules-v{len(self.calls) + 1}")

    def release(self) -> None:
        self._gate.set()


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_webhook_retrains_in_background_and_coalesces(
    trained: Trained, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="corpus_tools.serve")
    trainer = HeldTrainer()
    backend = serve.Backend(rules(), config=trained.config, retrain=trainer)
    with running(backend) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        first = http.post("/webhook", json=event("ANNOTATION_CREATED", 1, 11, ODD_TEXT, "a"))
        assert first.status_code == 200 and first.json()["job"] == "train-1"
        wait_for(lambda: len(trainer.calls) == 1, 10, "the first training to start")
        # meanwhile: two more articles, one repeated event that changes nothing
        for tid, aid in ((2, "b"), (3, "c")):
            resp = http.post(
                "/webhook",
                json=event("ANNOTATION_CREATED", tid, 10 + tid, ODD_TEXT, aid),
            )
            assert resp.json()["job"] == "train-2"
        same = http.post("/webhook", json=event("ANNOTATION_UPDATED", 3, 13, ODD_TEXT, "c"))
        assert same.json()["changed"] == 0 and same.json()["job"] is None
        # still training: predictions come from the current model
        assert http.get("/health").json()["training"] is True
        task = {"id": 1, "data": {"text": ODD_TEXT}}
        assert http.post("/predict", json={"tasks": [task]}).json()["model_version"] == "rules-v1"
        status = http.post("/job_status", json={"job": "train-2"}).json()["job_status"]
        assert status == "queued"
        trainer.release()
        assert backend.wait_idle(30)
        assert trainer.calls == [("a",), ("a", "b", "c")]  # one more run for both events
        assert http.post("/setup", json={}).json() == {"model_version": "rules-v3"}
        assert http.get("/versions").json() == {"versions": ["rules-v3", "rules-v2", "rules-v1"]}
        assert http.post("/job_status", json={"job": "train-2"}).json()["job_status"] == "finished"
        pred = http.post("/predict", json={"tasks": [task]}).json()
        assert pred["model_version"] == "rules-v3" == pred["results"][0]["model_version"]
        # the train button with nothing new starts nothing; a deletion retrains without it
        assert http.post("/webhook", json={"action": "START_TRAINING"}).json()["job"] is None
        gone = http.post(
            "/webhook", json={"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 12}]}
        )
        assert gone.json()["changed"] == 1
        assert backend.wait_idle(30)
        assert trainer.calls[-1] == ("a", "c")
        assert (
            http.post("/webhook", json={"action": "PROJECT_UPDATED"}).json()["status"] == "ignored"
        )

    # what training got: the labels, offsets on the exact text, unanswered targets missing
    gold = trainer.gold[1][0]
    i = ODD_TEXT.index("Iran")
    assert gold.entities == (EntitySpan(i, i + 4, "GPE", "Iran", "r1"),)
    assert gold.stances == (StanceJudgement("iran", "against"),)
    assert gold.missing_stances == ("russia", "united_states")
    # nothing about the annotator is kept or logged
    for item in trainer.gold[-1]:
        assert "anna" not in repr(item).lower()
    assert "anna" not in caplog.text.lower() and "example.org" not in caplog.text


def test_bulk_events_and_the_older_train_call(trained: Trained) -> None:
    trainer = HeldTrainer()
    trainer.release()
    backend = serve.Backend(rules(), config=trained.config, retrain=trainer)
    one, two = (
        event("ANNOTATION_CREATED", t, 20 + t, ODD_TEXT, a) for t, a in ((1, "a"), (2, "b"))
    )
    # ANNOTATIONS_CREATED (an import with annotations): lists of annotations and tasks
    bulk = {
        "action": "ANNOTATIONS_CREATED",
        "annotation": [one["annotation"], two["annotation"]],
        "task": [two["task"], one["task"]],
    }
    with running(backend) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        assert http.post("/webhook", json=bulk).json()["changed"] == 2
        assert backend.wait_idle(10) and trainer.calls == [("a", "b")]
        # /train (before webhooks): every annotated task, its annotations inside
        three = event("ANNOTATION_CREATED", 3, 23, ODD_TEXT, "c")
        task = {**three["task"], "annotations": [three["annotation"]]}
        job = http.post("/train", json={"annotations": [task], "project": "1.1"}).json()["job"]
        assert backend.wait_idle(10) and trainer.calls[-1] == ("a", "b", "c")
        assert http.post("/job_status", json={"job": job}).json() == {
            "job_status": "finished",
            "model_version": "rules-v3",
        }
        # the same tasks again: nothing new, no job
        assert http.post("/train", json={"annotations": [task]}).json() == {}


def test_no_retrain_keeps_nothing(trained: Trained) -> None:
    backend = serve.Backend(rules(), config=trained.config, retrain=None)
    answer = backend.webhook(event("ANNOTATION_CREATED", 1, 1, ODD_TEXT, "a"))
    assert answer["status"] == "ignored"
    assert backend.health()["annotated_articles"] == 0 and not backend.training


def test_failed_training_keeps_the_current_model(trained: Trained) -> None:
    def broken(extra: Any) -> serve.Predictor:
        raise RuntimeError("out of disk")

    backend = serve.Backend(rules(), config=trained.config, retrain=broken)
    with running(backend) as srv, httpx.Client(base_url=srv.url, timeout=30) as http:
        resp = http.post("/webhook", json=event("ANNOTATION_CREATED", 1, 1, ODD_TEXT, "a"))
        assert backend.wait_idle(30)
        health = http.get("/health").json()
        assert health["model_version"] == "rules-v1"
        assert "out of disk" in health["last_error"]
        assert http.post("/job_status", json={"job": resp.json()["job"]}).json()["job_status"] == (
            "failed"
        )


def test_cancelled_annotation_teaches_nothing(trained: Trained) -> None:
    trainer = HeldTrainer()
    trainer.release()
    backend = serve.Backend(rules(), config=trained.config, retrain=trainer)
    skipped = event("ANNOTATION_CREATED", 1, 1, ODD_TEXT, "a", was_cancelled=True)
    assert backend.webhook(skipped)["changed"] == 0
    assert backend.wait_idle(5) and trainer.calls == []
    # labelled, then the same annotation cancelled: its labels are dropped again
    assert backend.webhook(event("ANNOTATION_CREATED", 2, 2, ODD_TEXT, "b"))["changed"] == 1
    assert backend.wait_idle(10) and trainer.calls == [("b",)]
    cancelled = event("ANNOTATION_UPDATED", 2, 2, ODD_TEXT, "b", was_cancelled=True)
    assert backend.webhook(cancelled)["changed"] == 1
    assert backend.wait_idle(10) and trainer.calls == [("b",), ()]


class Utf16Offsets:
    """A broken model: offsets counted in UTF-16 units, as old Label Studio clients did."""

    model_version = "utf16"

    def predict_task(self, task: dict[str, Any]) -> dict[str, Any]:
        text = task["data"]["text"]
        i = len(text[: text.index("NATO")].encode("utf-16-le")) // 2
        value = {"start": i, "end": i + 4, "text": "NATO", "labels": ["ORG"]}
        region = {"id": "x1", "from_name": "entities", "to_name": "text", "type": "labels"}
        return {"result": [{**region, "value": value}], "score": 0.5}


class Crashes:
    """A model with a bug that is not a CorpusError."""

    model_version = "crash"

    def predict_task(self, task: dict[str, Any]) -> dict[str, Any]:
        raise ZeroDivisionError("division by zero")


def test_a_model_bug_is_a_500_not_a_dead_connection(trained: Trained) -> None:
    backend = serve.Backend(Crashes(), config=trained.config)
    with running(backend) as srv:
        task = {"id": 4, "data": {"text": ODD_TEXT}}
        resp = httpx.post(f"{srv.url}/predict", json={"tasks": [task]}, timeout=30)
        assert resp.status_code == 500
        assert resp.json()["error"] == "internal error: ZeroDivisionError: division by zero"
        assert httpx.get(f"{srv.url}/health", timeout=10).status_code == 200


def test_prediction_with_offsets_off_the_text_is_refused(trained: Trained) -> None:
    backend = serve.Backend(Utf16Offsets(), config=trained.config)
    with running(backend) as srv:
        task = {"id": 4, "data": {"text": ODD_TEXT}}
        resp = httpx.post(f"{srv.url}/predict", json={"tasks": [task]}, timeout=30)
        assert resp.status_code == 500
        assert "task 4, region x1" in resp.json()["error"]
        fine = {"id": 5, "data": {"text": "NATO said so."}}  # no astral character: same offsets
        assert httpx.post(f"{srv.url}/predict", json={"tasks": [fine]}, timeout=30).is_success


# ---------------------------------------------------------------------------------------------
# With the real Label Studio server


@pytest.mark.labelstudio
def test_label_studio_connects_predicts_and_retrains(
    trained: Trained, label_studio: Any, tmp_path: Path
) -> None:
    from corpus_tools.models import bundle
    from corpus_tools.models.data import GoldArticle, load_training_set
    from corpus_tools.models.suggest import Suggester, article_from_task

    config = trained.config
    articles = store.load_articles(config.paths.articles_parquet)
    chosen = sorted(articles)[:3]
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from corpus_tools.cli import main; main()",
                "serve",
                "-c",
                str(trained.root / "corpus.toml"),
                "--model",
                trained.version,
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        def backend_up() -> bool:
            assert proc.poll() is None, log_path.read_text()
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            return False

        wait_for(backend_up, 120, "corpus serve to answer /health")
        pid = label_studio.new_project(label_config=labeling_config.render(config))
        with label_studio.http() as ls:
            imported = ls.post(
                f"/api/projects/{pid}/import",
                params={"return_task_ids": "true"},
                json=[{"data": task_data(articles[a])} for a in chosen],
            )
            assert imported.status_code == 201, imported.text
            task_ids = imported.json()["task_ids"]

            ml = ls.post("/api/ml/", json={"url": url, "project": pid})
            assert ml.status_code == 201, ml.text
            assert ml.json()["readable_state"] == "Connected"
            assert ml.json()["model_version"] == trained.version
            ml_id = ml.json()["id"]
            hooks = ls.get("/api/webhooks/", params={"project": pid}).json()
            assert [h["url"] for h in hooks] == [f"{url}/webhook"]

            def retrieve() -> list[dict[str, Any]]:
                action = ls.post(
                    "/api/dm/actions",
                    params={"id": "retrieve_tasks_predictions", "project": pid},
                    json={"selectedItems": {"all": True, "excluded": []}},
                )
                assert action.status_code == 200, action.text
                preds: list[dict[str, Any]] = []
                for tid in task_ids:
                    preds += ls.get("/api/predictions/", params={"task": tid}).json()
                return preds

            stored = retrieve()
            assert sorted(p["task"] for p in stored) == sorted(task_ids)
            assert {p["model_version"] for p in stored} == {trained.version}
            # what the server stored is what the bundle suggests, computed here independently
            current = bundle.load(config, trained.version)
            suggester = Suggester(current, config, load_training_set(config))
            for p in stored:
                task = ls.get(f"/api/tasks/{p['task']}/").json()
                own = suggester.predict(article_from_task(task, known=articles)).prediction
                assert p["result"] == own["result"]
                assert p["score"] == pytest.approx(own["score"])
                assert assert_offsets(p, task["data"]["text"]) == sum(
                    "start" in r["value"] for r in own["result"]
                )

            # a task opened in the editor (show_collab_predictions, on by default) is predicted
            late = sorted(articles)[3]
            added = ls.post(
                f"/api/projects/{pid}/import",
                params={"return_task_ids": "true"},
                json=[{"data": task_data(articles[late])}],
            ).json()["task_ids"]
            opened = ls.get(f"/api/tasks/{added[0]}/").json()
            assert [p["model_version"] for p in opened["predictions"]] == [trained.version]
            task_ids += added

            # an annotator submits labels: the webhook retrains the bundle in the background
            tid = task_ids[0]
            text = articles[chosen[0]].text
            i = text.index("Iran")
            result = [
                {
                    "id": "n1",
                    "from_name": "entities",
                    "to_name": "text",
                    "type": "labels",
                    "value": {"start": i, "end": i + 4, "text": "Iran", "labels": ["GPE"]},
                },
                {
                    "from_name": "stance_iran",
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": ["against"]},
                },
            ]
            made = ls.post(f"/api/tasks/{tid}/annotations/", json={"result": result})
            assert made.status_code == 201, made.text

            # the version to expect, from the gold plus this one annotated article
            expected_gold = GoldArticle(
                article=articles[chosen[0]],
                entities=(EntitySpan(i, i + 4, "GPE", "Iran"),),
                stances=(StanceJudgement("iran", "against"),),
                missing_stances=("russia", "united_states"),
            )
            expected = bundle.version_name(
                config, load_training_set(config), [expected_gold], seed=0, epochs=EPOCHS
            )
            assert expected != trained.version
            slowest = 0.0

            def retrained() -> bool:
                nonlocal slowest
                t0 = time.monotonic()
                health = httpx.get(f"{url}/health", timeout=30).json()
                slowest = max(slowest, time.monotonic() - t0)
                assert health["last_error"] is None, health
                return bool(health["model_version"] == expected and not health["training"])

            wait_for(retrained, 300, "the backend to retrain")
            print(f"slowest /health while training: {slowest:.3f} s")
            assert ls.get(f"/api/ml/{ml_id}").json()["model_version"] == expected
            again = retrieve()
            fresh = [p for p in again if p["model_version"] == expected]
            assert sorted(p["task"] for p in fresh) == sorted(task_ids)
            for p in fresh:
                task = ls.get(f"/api/tasks/{p['task']}/").json()
                assert_offsets(p, task["data"]["text"])
            assert (config.paths.build / "models" / expected / "card.json").is_file()
            assert len(again) == 2 * len(task_ids)  # the first model's stay beside them

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        out = log_path.read_text()
        assert f"serving {trained.version} at {url}" in out and "stopped" in out
        assert label_studio.admin.email not in out and label_studio.api_key not in out
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{url}/health", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_port_in_use_is_a_usage_error(trained: Trained) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(UsageError, match="cannot listen"):
            serve.bind(serve.Backend(rules(), config=trained.config), port=port)
