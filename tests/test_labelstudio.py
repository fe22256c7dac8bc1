"""Round trip against a real Label Studio 1.23.2: push, annotate as two users, pull, check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import REPO, CliRun
from ls_regions import locate, relation, stances
from ls_server import LabelStudioFixture

from corpus_tools import exports, labeling_config, store
from corpus_tools import labelstudio as lib
from corpus_tools.config import load_config
from corpus_tools.labelstudio_server import free_port
from corpus_tools.model import Article

pytestmark = pytest.mark.labelstudio

PSEUDONYM_KEY = "test-pseudonym-key-not-the-corpus-name"

EMOJI_TEXT = (
    "😀 Breaking 𝔸: NATO spokesman Jens Stoltenberg said Russia moved drones.\r\n"
    "People briefed on the matter said Iran sold drones to Russia last week.\r\n"
    "Cafe\u0301 owners in Tehran were not surprised."
)
CRLF_TEXT = (
    "Washington and Tehran talked in Qatar.\r\n"
    "The NATO chief Jens\r\nStoltenberg said the US wants Iran to stop.\r\n"
)


def make_corpus(root: Path, texts: dict[str, str]) -> Path:
    """A corpus folder with corpus.toml and a build/articles.parquet holding `texts`."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "corpus.toml", root / "corpus.toml")
    write_articles(root, texts)
    return root


def write_articles(root: Path, texts: dict[str, str]) -> None:
    rows = [
        store.article_to_row(
            Article(
                article_id=aid,
                source=f"articles/{aid}.txt",
                outlet="Test Outlet",
                url=None,
                title=f"Title of {aid}",
                published="2024-12-13",
                language="en",
                text=text,
                text_sha256=store.sha256_text(text),
            )
        )
        for aid, text in texts.items()
    ]
    (root / "build").mkdir(exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(rows, schema=store.ARTICLES_SCHEMA), root / "build/articles.parquet"
    )


def span(rid: str, text: str, needle: str, label: str, *, nth: int = 0, ui: bool = True) -> dict:
    """An entity region found by exact search; `value.text` as the UI stores it."""
    start, end = locate(text, needle, nth)
    shown = needle.replace("\r", "\\n").replace("\n", "\\n") if ui else needle
    return {
        "id": rid,
        "from_name": "entities",
        "to_name": "text",
        "type": "labels",
        "origin": "manual",
        "value": {"start": start, "end": end, "text": shown, "labels": [label]},
    }


def claim(rid: str, text: str, needle: str, checkworthy: str, claimant: str | None) -> list:
    start = text.index(needle)
    pos = {"start": start, "end": start + len(needle)}
    out: list[dict[str, Any]] = [
        {
            "id": rid,
            "from_name": "claim",
            "to_name": "text",
            "type": "labels",
            "value": {**pos, "text": needle, "labels": ["Claim"]},
        },
        {
            "id": rid,
            "from_name": "checkworthy",
            "to_name": "text",
            "type": "choices",
            "value": {**pos, "text": needle, "choices": [checkworthy]},
        },
    ]
    if claimant:
        out.append(
            {
                "id": rid,
                "from_name": "claimant_text",
                "to_name": "text",
                "type": "textarea",
                "value": {**pos, "text": [claimant]},
            }
        )
    return out


@pytest.fixture
def ls_env(label_studio: LabelStudioFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    monkeypatch.setenv("CORPUS_PSEUDONYM_KEY", PSEUDONYM_KEY)


def test_server_validates_generated_config(label_studio: LabelStudioFixture) -> None:
    xml = labeling_config.render(load_config(REPO / "corpus.toml"))
    client = lib.connect(label_studio.url, label_studio.api_key)
    with client:
        assert client.validate_config(xml) is None
        broken = xml.replace('toName="text"', 'toName="nope"', 1)
        assert "nope" in (client.validate_config(broken) or "")


def test_round_trip_two_annotators(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, ls_env: None
) -> None:
    corpus = make_corpus(tmp_path / "c", {"a-emoji": EMOJI_TEXT, "b-crlf": CRLF_TEXT})
    assert cli("tasks", cwd=corpus).exit_code == 0
    tasks = json.loads((corpus / "build/tasks.json").read_text(encoding="utf-8"))
    for task in tasks:
        text = task["data"]["text"]
        for r in task["predictions"][0]["result"]:
            v = r["value"]
            assert text[v["start"] : v["end"]] == v["text"]
    crlf_pred = [r["value"]["text"] for r in tasks[1]["predictions"][0]["result"]]
    assert "Jens\r\nStoltenberg" in crlf_pred

    first = cli("ls", "push", "--json", cwd=corpus)
    assert first.exit_code == 0, first.stderr
    pushed = json.loads(first.stdout)
    label_studio.track_project(pushed["project_id"])
    assert (pushed["created"], pushed["imported"]) == (True, 2)

    again = json.loads(cli("ls", "push", "--json", cwd=corpus).stdout)
    assert (again["created"], again["imported"], again["unchanged"]) == (False, 0, 2)

    write_articles(corpus, {"a-emoji": EMOJI_TEXT + " Updated.", "b-crlf": CRLF_TEXT})
    assert cli("tasks", cwd=corpus).exit_code == 0
    changed = json.loads(cli("ls", "push", "--json", cwd=corpus).stdout)
    assert (changed["imported"], changed["changed"]) == (0, ["a-emoji"])

    # Annotate: the admin and a second user who signed up through the form.
    bea = label_studio.signup("bea")
    pid = pushed["project_id"]
    with label_studio.http() as http:
        page = http.get("/api/tasks/", params={"project": pid, "include": "id,data"}).json()
    task_ids = {t["data"]["article_id"]: t["id"] for t in page["tasks"]}
    t1, t2 = EMOJI_TEXT, CRLF_TEXT
    admin_emoji = [
        span("e1", t1, "NATO", "ORG"),
        span("e2", t1, "Jens Stoltenberg", "PER"),
        span("e3", t1, "Tehran", "GPE"),
        *claim("c1", t1, "Russia moved drones", "check-worthy", None),
        relation("e2", "c1"),
        *claim("c2", t1, "Iran sold drones to Russia", "check-worthy", "people briefed"),
        *stances(united_states="unrelated", iran="against", russia="against"),
    ]
    bea_emoji = [
        span("x1", t1, "NATO", "ORG"),
        span("x2", t1, "Cafe\u0301", "NORP"),
        *stances(united_states="neutral", iran="against", russia="against"),
    ]
    admin_crlf = [
        span("e1", t2, "Jens\r\nStoltenberg", "PER"),
        *stances(united_states="neutral", iran="neutral", russia="unrelated"),
    ]
    bea_crlf = [
        span("y1", t2, "Washington", "GPE"),
        *stances(united_states="neutral", iran="neutral", russia="unrelated"),
    ]
    for token, aid, result in [
        (label_studio.api_key, "a-emoji", admin_emoji),
        (bea.token, "a-emoji", bea_emoji),
        (label_studio.api_key, "b-crlf", admin_crlf),
        (bea.token, "b-crlf", bea_crlf),
    ]:
        with label_studio.http(token) as http:
            resp = http.post(
                f"/api/tasks/{task_ids[aid]}/annotations/",
                json={"result": result, "lead_time": 30.5},
            )
            assert resp.status_code == 201, resp.text

    out = tmp_path / "pulled"
    res = cli("ls", "pull", "--out", str(out), "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    pulled = json.loads(res.stdout)
    folder = out / "geonews-annotation"
    assert pulled["dir"] == str(folder)
    assert (pulled["tasks"], pulled["annotations"], len(pulled["annotators"])) == (2, 4, 2)
    assert sorted(p.name for p in (folder / "tasks").iterdir()) == ["a-emoji.json", "b-crlf.json"]

    # No personal data anywhere: no email, no user name, no "created_username".
    for f in folder.rglob("*"):
        if f.is_file():
            raw = f.read_text(encoding="utf-8")
            assert "@" not in raw and "example.org" not in raw and "admin" not in raw, f
            assert "created_username" not in raw and "bea" not in raw

    cfg = load_config(corpus / "corpus.toml")
    anns = list(exports.iter_annotations([folder], cfg.scheme))
    by = {(a.article_id, a.annotator): a for a in anns}
    assert {a.annotator for a in anns} == set(pulled["annotators"])
    assert all(a.annotator.startswith("ann-") for a in anns)
    emoji_anns = [a for (aid, _), a in by.items() if aid == "a-emoji"]
    nato = [e for a in emoji_anns for e in a.entities if e.label == "ORG"]
    assert [e.text for e in nato] == ["NATO", "NATO"]
    assert nato[0].start == 14  # code points: after 😀 and 𝔸, not UTF-16's 16
    accented = [e for a in emoji_anns for e in a.entities if e.label == "NORP"]
    assert accented[0].text == "Cafe\u0301"
    crlf_ents = [e for (aid, _), a in by.items() if aid == "b-crlf" for e in a.entities]
    assert "Jens\r\nStoltenberg" in [e.text for e in crlf_ents]
    claims = {c.text: c for a in emoji_anns for c in a.claims}
    assert claims["Russia moved drones"].claimant == "Jens Stoltenberg"
    assert claims["Iran sold drones to Russia"].claimant == "people briefed"
    assert {s.target for a in anns for s in a.stances} == {"united_states", "iran", "russia"}

    # Pulling an unchanged project writes byte-identical files; --json equals the library.
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    second = json.loads(cli("ls", "pull", "--out", str(out), "--json", cwd=corpus).stdout)
    assert second["files"] == {"added": 0, "changed": 0, "removed": 0, "unchanged": 3}
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    direct = lib.pull(
        config=cfg,
        url=label_studio.url,
        api_key=label_studio.api_key,
        out=out,
        pseudonym_key=lib.pseudonym_key(cfg, secret=PSEUDONYM_KEY),
    )
    assert direct == second

    # Another key gives other pseudonyms (unguessable from emails without the key).
    keyed = cli("ls", "pull", "--out", str(tmp_path / "keyed"), "--json", "--pseudonym-key", "s3")
    keyed_ids = json.loads(keyed.stdout)["annotators"]
    assert len(keyed_ids) == 2 and not set(keyed_ids) & set(pulled["annotators"])
    meta = json.loads((tmp_path / "keyed/geonews-annotation/_project.json").read_bytes())
    assert meta["pseudonyms"]["key"] == "$CORPUS_PSEUDONYM_KEY"

    # A JSON export downloaded by hand from the UI reads into the same labels.
    with label_studio.http() as http:
        export = http.get(
            f"/api/projects/{pid}/export", params={"exportType": "JSON", "download_all_tasks": True}
        )
    ui_file = tmp_path / "ui-export.json"
    ui_file.write_bytes(export.content)
    ui_anns = list(exports.iter_annotations([ui_file], cfg.scheme))

    def key(a: Any) -> tuple:
        return (a.article_id, a.source.annotation_id, a.entities, a.claims, a.stances)

    assert sorted(map(key, ui_anns)) == sorted(map(key, anns))


def test_errors_exit_2_and_write_nothing(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = make_corpus(tmp_path / "c", {"a-emoji": EMOJI_TEXT})
    previous = corpus / "annotations" / "geonews-annotation" / "_project.json"
    previous.parent.mkdir(parents=True)
    previous.write_text('{"previous": true}\n', encoding="utf-8")
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.setenv("CORPUS_PSEUDONYM_KEY", PSEUDONYM_KEY)

    dead = f"http://127.0.0.1:{free_port()}"
    res = cli("ls", "pull", "--url", dead, "--api-key", "x" * 10, cwd=corpus)
    assert res.exit_code == 2
    assert "cannot reach Label Studio" in res.stderr and "hint:" in res.stderr

    res = cli("ls", "pull", "--url", label_studio.url, "--api-key", "wrong-key-123", cwd=corpus)
    assert res.exit_code == 2
    assert "refused the API key (401" in res.stderr

    res = cli(
        "ls",
        "pull",
        "--url",
        label_studio.url,
        "--api-key",
        label_studio.api_key,
        "--project-id",
        "987654",
        cwd=corpus,
    )
    assert res.exit_code == 2
    assert "no project 987654" in res.stderr and "Traceback" not in res.stderr

    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    res = cli("ls", "pull", "--url", label_studio.url, cwd=corpus)
    assert res.exit_code == 2 and "LABEL_STUDIO_API_KEY" in res.stderr

    assert previous.read_text(encoding="utf-8") == '{"previous": true}\n'
    assert sorted(p.name for p in previous.parent.iterdir()) == ["_project.json"]


def test_personal_access_token_works_like_the_legacy_token(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = make_corpus(tmp_path / "c", {"a-emoji": EMOJI_TEXT})
    assert cli("tasks", cwd=corpus).exit_code == 0
    pat = label_studio.personal_access_token(label_studio.signup("dana"))
    assert pat.count(".") == 2  # a JWT, exchanged for an access token by the client
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", pat)
    monkeypatch.setenv("CORPUS_PSEUDONYM_KEY", PSEUDONYM_KEY)
    pushed = cli("ls", "push", "--json", cwd=corpus)
    assert pushed.exit_code == 0, pushed.stderr
    label_studio.track_project(json.loads(pushed.stdout)["project_id"])
    pulled = cli("ls", "pull", "--json", cwd=corpus)
    assert pulled.exit_code == 0, pulled.stderr
    assert json.loads(pulled.stdout)["tasks"] == 1

    # A new label in the scheme updates the project's config and guidelines on the next push.
    toml = corpus / "corpus.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace(
            "[scheme.stance]",
            '[[scheme.entities]]\nlabel = "LAW"\nname = "Law"\ndefinition = "A named law."\n\n'
            "[scheme.stance]",
        ),
        encoding="utf-8",
    )
    again = json.loads(cli("ls", "push", "--json", cwd=corpus).stdout)
    assert again["updated_settings"] == ["expert_instruction", "label_config"]
    with label_studio.http() as http:
        config = http.get(f"/api/projects/{again['project_id']}/").json()["label_config"]
    assert '<Label value="LAW"' in config


class _CountingBackend:
    """A minimal ML backend on 127.0.0.1 that counts every request Label Studio makes
    (health, setup, predict) and answers each /predict task with an empty prediction."""

    VERSION = "counting-v1"

    def __init__(self) -> None:
        import threading
        from collections import Counter
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        calls: Counter[str] = Counter()
        self.calls = calls
        version = self.VERSION

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: Any, status: int = 200) -> None:
                data = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                calls[self.path] += 1
                if self.path.rstrip("/") == "/health":
                    self._answer({"status": "UP", "model_class": "Counting"})
                else:
                    self._answer({"error": "not here"}, 404)

            def do_POST(self) -> None:
                calls[self.path] += 1
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") == "/setup":
                    self._answer({"model_version": version})
                elif self.path.rstrip("/") == "/predict":
                    results = [
                        {"model_version": version, "score": 0.5, "result": []}
                        for _ in body.get("tasks", [])
                    ]
                    self._answer({"results": results, "model_version": version})
                else:
                    self._answer({"error": "not here"}, 404)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_listings_are_the_same_with_review_and_a_pull_never_asks_the_ml_backend(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, ls_env: None
) -> None:
    """Label Studio asks a connected ML backend for predictions on every task listing of a
    project with "retrieve predictions automatically" on, unless `review=true`: the toolkit's
    listings carry it, give the same answers, and a pull makes no request to the backend
    and creates no prediction (while a listing without it does both: the test can fail)."""
    texts = {"a-emoji": EMOJI_TEXT, "b-crlf": CRLF_TEXT, "c-plain": "Iran talked to Russia."}
    corpus = make_corpus(tmp_path / "c", texts)
    assert cli("tasks", "--no-preannotate", cwd=corpus).exit_code == 0
    pushed = cli("ls", "push", "--json", cwd=corpus)
    assert pushed.exit_code == 0, pushed.stdout
    pid = json.loads(pushed.stdout)["project_id"]
    label_studio.track_project(pid)
    with label_studio.http() as http:
        tasks = http.get(f"/api/tasks/?project={pid}&include=id,data&review=true").json()
        ids = sorted(t["id"] for t in tasks["tasks"])
        assert len(ids) == 3
        # one task with a prediction and an annotation, so the listings have something to show
        pred = {"task": ids[0], "model_version": "other", "score": 0.3, "result": []}
        http.post("/api/predictions/", json=pred).raise_for_status()
        http.post(f"/api/tasks/{ids[0]}/annotations/", json={"result": []}).raise_for_status()
        selected = json.dumps({"selectedItems": {"all": False, "included": ids}})
        for params in (
            {"include": "id"},
            {"include": "id,data"},
            {"include": "id,data,predictions", "fields": "all"},
            {"include": "id,predictions", "fields": "all", "query": selected},
        ):
            base = {"project": pid, "page": 1, "page_size": 10, **params}
            plain = http.get("/api/tasks/", params=base).raise_for_status().json()
            review = http.get("/api/tasks/", params={**base, "review": "true"}).json()
            assert review == plain, params
        before = http.get(f"/api/predictions/?project={pid}").json()

    backend = _CountingBackend()
    try:
        with label_studio.http() as http:
            http.post(
                "/api/ml/", json={"url": backend.url, "project": pid, "title": "counting"}
            ).raise_for_status()
            http.patch(
                f"/api/projects/{pid}/", json={"evaluate_predictions_automatically": True}
            ).raise_for_status()
            assert http.get(f"/api/projects/{pid}/").json()["evaluate_predictions_automatically"]
        assert backend.calls["/setup"] >= 1  # Label Studio reached it on connecting
        backend.calls.clear()
        pulled = cli("ls", "pull", "--out", str(tmp_path / "pulled"), "--json", cwd=corpus)
        assert pulled.exit_code == 0, pulled.stdout
        assert json.loads(pulled.stdout)["tasks"] == 3
        push_again = cli("ls", "push", "--update-predictions", "--json", cwd=corpus)
        assert push_again.exit_code == 0, push_again.stdout
        assert sum(backend.calls.values()) == 0, backend.calls
        with label_studio.http() as http:
            assert http.get(f"/api/predictions/?project={pid}").json() == before
            # the same listing without review=true: the server asks the backend and stores
            # its predictions on the two tasks that had none
            http.get(f"/api/tasks/?project={pid}&include=id&page=1&page_size=10")
            assert backend.calls["/predict"] >= 1
            after = http.get(f"/api/predictions/?project={pid}").json()
        new = [p for p in after if p["model_version"] == _CountingBackend.VERSION]
        assert sorted(p["task"] for p in new) == ids[1:]
        # connecting the backend made it the project's model (Label Studio names it by its
        # title): --update-predictions adds a newer file's predictions but keeps it
        with label_studio.http() as http:
            assert http.get(f"/api/projects/{pid}/").json()["model_version"] == "counting"
        assert cli("tasks", cwd=corpus).exit_code == 0  # now with the rule pre-annotations
        updated = cli("ls", "push", "--update-predictions", "--json", cwd=corpus)
        assert updated.exit_code == 0, updated.stdout
        preds = json.loads(updated.stdout)["predictions"]
        assert preds["added"] == 3
        assert preds["project_model_version"] == {"before": "counting", "after": "counting"}
        (note,) = preds["notes"]
        assert "'counting'" in note and preds["model_versions"][0] in note
        with label_studio.http() as http:
            assert http.get(f"/api/projects/{pid}/").json()["model_version"] == "counting"
    finally:
        backend.close()


def test_push_is_idempotent_with_an_adopted_article_id_field(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, ls_env: None
) -> None:
    """A corpus whose tasks carry the article id under another data key (`doc_id`, with the
    text under `content`) is pushed once: the second push finds every task by that key."""
    corpus = make_corpus(tmp_path / "c", {"a-emoji": EMOJI_TEXT, "b-crlf": CRLF_TEXT})
    cfg = corpus / "corpus.toml"
    text = cfg.read_text(encoding="utf-8")
    names = (
        '[scheme.names]\ntext = "content"\ntext_field = "content"\narticle_id_field = "doc_id"\n'
    )
    cfg.write_text(text.replace("[scheme.claims]", names + "\n[scheme.claims]", 1), "utf-8")
    title = "Adopted id field " + tmp_path.name[-12:]
    text = cfg.read_text(encoding="utf-8")
    old_title = 'project_title = "GeoNews annotation"'
    cfg.write_text(text.replace(old_title, f'project_title = "{title}"'), "utf-8")
    assert cli("tasks", cwd=corpus).exit_code == 0
    tasks = json.loads((corpus / "build" / "tasks.json").read_text(encoding="utf-8"))
    assert {t["data"]["doc_id"] for t in tasks} == {"a-emoji", "b-crlf"}
    assert all("article_id" not in t["data"] for t in tasks)
    first = cli("ls", "push", "--json", cwd=corpus)
    assert first.exit_code == 0, first.stderr
    second = cli("ls", "push", "--json", cwd=corpus)
    assert second.exit_code == 0, second.stderr
    out1, out2 = json.loads(first.stdout), json.loads(second.stdout)
    pid = out1["project_id"]
    label_studio._projects.append(pid)
    assert out1["imported"] == 2
    assert out2["imported"] == 0 and out2["project_id"] == pid
    with label_studio.http() as http:
        listed = http.get("/api/tasks/", params={"project": pid, "page_size": 100}).json()
    rows = listed["tasks"] if isinstance(listed, dict) else listed
    assert sorted(t["data"]["doc_id"] for t in rows) == ["a-emoji", "b-crlf"]
