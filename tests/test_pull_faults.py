"""`corpus ls pull` under faults, against the real Label Studio: killed pulls, flaky HTTP,
secrets in answers, odd file systems, a server that lacks the local annotations.

Faults are real: the pull runs as a subprocess killed with SIGKILL at seeded random moments;
HTTP faults come from a loopback proxy (a thread here) in front of the real server that fails
chosen requests with 503/500/429, drops the connection, or answers too slowly; a full disk is
the kernel's file-size limit (RLIMIT_FSIZE) on the pulling process.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import REPO, CliRun
from ls_server import LabelStudioFixture
from test_labelstudio import make_corpus

from corpus_tools import exports, labeling_config
from corpus_tools import labelstudio as lib
from corpus_tools.config import CorpusConfig, load_config
from corpus_tools.labelstudio_server import free_port

pytestmark = pytest.mark.labelstudio

KEY = "pull-faults-test-key"
CORPUS_BIN = str(Path(sys.executable).parent / "corpus")
WORDS = ["the", "minister", "said", "talks", "in", "Doha", "would", "resume", "while"]
NAMES = ["NATO", "Iran", "Russia", "Ukraine", "Tehran", "Qatar"]


def article_text(rng: random.Random, n_words: int) -> str:
    words = [rng.choice(WORDS if rng.random() < 0.85 else NAMES) for _ in range(n_words)]
    return " ".join(words) + "."


def set_labelstudio(corpus: Path, **values: Any) -> CorpusConfig:
    """Override `[labelstudio]` keys in the corpus's corpus.toml; return the loaded config."""
    toml = corpus / "corpus.toml"
    text = toml.read_text(encoding="utf-8")
    head, sep, tail = text.partition("[labelstudio]\n")
    assert sep
    lines = [ln for ln in tail.split("\n") if ln.split(" =")[0].strip() not in values]
    extra = [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    toml.write_text(head + sep + "\n".join(extra + lines), encoding="utf-8")
    return load_config(toml)


def annotated_project(
    label_studio: LabelStudioFixture,
    cli: CliRun,
    corpus: Path,
    title: str,
    *,
    annotate: bool = True,
    ids: list[str] | None = None,
) -> int:
    """A project on the real server with one task per article of `corpus` (built by
    `corpus tasks`), each with one annotation (its pre-annotation, submitted by the admin)
    unless `annotate` is false. Imported through the API, as a bulk import would be."""
    assert cli("tasks", cwd=corpus).exit_code == 0
    cfg = load_config(corpus / "corpus.toml")
    tasks = json.loads((corpus / "build/tasks.json").read_text(encoding="utf-8"))
    if annotate:
        for t in tasks:
            t["annotations"] = [{"result": t["predictions"][0]["result"], "lead_time": 2.0}]
    if ids is not None:
        for t, aid in zip(tasks, ids, strict=False):
            t["data"]["article_id"] = aid
    pid = label_studio.new_project(title=title, label_config=labeling_config.render(cfg))
    with label_studio.http() as http:
        resp = http.post(f"/api/projects/{pid}/import", json=tasks, timeout=300)
        assert resp.status_code == 201, resp.text
    return pid


def snapshot(folder: Path) -> dict[str, bytes]:
    """What a reader gets from `folder`: the export files it picks and their bytes."""
    return {
        f.relative_to(folder).as_posix(): f.read_bytes()
        for f in exports.export_files([folder])
        if f.is_file()
    }


def leftovers(annotations: Path) -> list[str]:
    return sorted(p.name for p in annotations.iterdir() if p.name.startswith("."))


# --- point 10: a killed pull leaves nothing a reader picks up ------------------------------


def test_killed_pull_leaves_old_or_new_never_a_mix(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(20261130)
    texts = {f"art-{i:04d}": article_text(rng, 60) for i in range(60)}
    corpus = make_corpus(tmp_path / "c", texts)
    cfg = set_labelstudio(corpus, page_size=3, project_title="Kill test")
    pid = annotated_project(label_studio, cli, corpus, "Kill test")
    annotations = cfg.paths.annotations
    env = {
        **os.environ,
        "LABEL_STUDIO_URL": label_studio.url,
        "LABEL_STUDIO_API_KEY": label_studio.api_key,
        "CORPUS_CONFIG": str(corpus / "corpus.toml"),
    }
    env.pop("CORPUS_DEBUG", None)
    cmd = [CORPUS_BIN, "ls", "pull", "--project-id", str(pid)]

    def writing() -> bool:  # the pull's hidden snapshot folder exists
        return annotations.is_dir() and any(
            p.name.startswith(".kill-test.pull-") for p in annotations.iterdir()
        )

    def pull(key: str, kill: float | None = None, *, from_writing: bool = False) -> tuple:
        """Run a pull; SIGKILL it `kill` seconds after its start (or after it began writing
        its snapshot). Returns (exit code, when writing began, how long it ran)."""
        proc = subprocess.Popen(
            [*cmd, "-q"],
            env={**env, "CORPUS_PSEUDONYM_KEY": key},
            cwd=corpus,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        t0 = time.monotonic()
        began = None
        while proc.poll() is None:
            now = time.monotonic() - t0
            if began is None and writing():
                began = now
            start = began if from_writing else 0.0
            if kill is not None and start is not None and now >= start + kill:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, -signal.SIGKILL), err.decode()
        return proc.returncode, began, time.monotonic() - t0

    def readers() -> tuple[dict[str, bytes], list[tuple[str, str, int]], dict[str, Any]]:
        files = snapshot(annotations)
        anns = sorted(
            (a.article_id, a.annotator, len(a.entities))
            for a in exports.iter_annotations([annotations], cfg.scheme)
        )
        res = cli("validate", str(annotations), "--format", "json", cwd=corpus)
        report = json.loads(res.stdout)
        return files, anns, {"stats": report["stats"], "findings": report["findings"]}

    # The old state: a complete pull with the first key. Time it to place the kills.
    rc, began, duration = pull("key-0")
    assert rc == 0 and began is not None
    assert len(snapshot(annotations)) == 60 and leftovers(annotations) == []
    old = readers()

    killed_mid_pull = 0
    for round_ in range(1, 7):
        key = f"key-{round_}"  # a new key changes every file: a mix would show
        # Odd rounds: any moment of the run; even rounds: while it writes or swaps.
        if round_ % 2:
            rc, _, _ = pull(key, rng.uniform(0.0, duration))
        else:
            rc, _, _ = pull(key, rng.uniform(0.0, duration - began), from_writing=True)
        left = leftovers(annotations)
        seen = readers()
        killed_mid_pull += rc == -signal.SIGKILL and bool(left)
        assert pull(key)[0] == 0  # the re-run recovers ...
        after = leftovers(annotations)
        new = readers()
        assert old != new
        for i, what in enumerate(("files", "annotations", "validate report")):
            assert seen[i] in (old[i], new[i]), f"round {round_}: {what} a mix of old and new"
        assert after == []  # ... and sweeps what the killed one left
        old = new
    assert killed_mid_pull >= 2, "too few kills landed inside a pull: the test proved little"


# --- point 11: transient HTTP errors are retried on idempotent calls -----------------------


class FaultProxy:
    """A loopback HTTP proxy in front of the real server that misbehaves on chosen requests.

    `faults[n]` applies to the n-th (1-based) request whose path contains `match`: "503",
    "500", "502", "429" (Retry-After: `retry_after`), "drop" (close without an answer),
    "slow" (answer after `slow` seconds), "echo" (a 500 page echoing the request headers, as
    Django's debug page does). `always` applies to every matching request.
    """

    def __init__(
        self,
        upstream: str,
        *,
        match: str = "",
        faults: dict[int, str] | None = None,
        always: str | None = None,
        retry_after: str = "1",
        slow: float = 3.0,
    ) -> None:
        self.upstream = upstream
        self.match = match
        self.faults = faults or {}
        self.always = always
        self.retry_after = retry_after
        self.slow = slow
        self.seen: list[tuple[float, str, str, str | None]] = []
        self.lock = threading.Lock()
        self.client = httpx.Client(base_url=upstream, timeout=120)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy.fault_for(self.command, self.path)
                if fault == "drop":
                    self.close_connection = True
                    return
                if fault in ("500", "502", "503", "429"):
                    self.send_response(int(fault))
                    if fault == "429":
                        self.send_header("Retry-After", proxy.retry_after)
                    self.send_header("Content-Length", "5")
                    self.end_headers()
                    self.wfile.write(b"fault")
                    return
                if fault == "echo":
                    page = "".join(f"HTTP_{k.upper()} = {v!r}\n" for k, v in self.headers.items())
                    data = f"<pre>Server Error\n{page}</pre>".encode()
                    self.send_response(500)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if fault == "slow":
                    time.sleep(proxy.slow)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                try:
                    resp = proxy.client.request(
                        self.command, self.path, headers=headers, content=body
                    )
                except (httpx.HTTPError, RuntimeError):
                    return  # the test ended while a slow answer was pending
                skip = {"transfer-encoding", "connection", "content-encoding", "content-length"}
                try:
                    self.send_response(resp.status_code)
                    for k, v in resp.headers.multi_items():
                        if k.lower() not in skip:
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(resp.content)))
                    self.end_headers()
                    self.wfile.write(resp.content)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout): as a real server would see it

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def fault_for(self, method: str, path: str) -> str | None:
        with self.lock:
            fault = None
            if self.match in path:
                n = sum(1 for _, _, p, _ in self.seen if self.match in p) + 1
                fault = self.always or self.faults.get(n)
            self.seen.append((time.monotonic(), method, path, fault))
            return fault

    def matching(self) -> list[tuple[float, str, str, str | None]]:
        return [s for s in self.seen if self.match in s[2]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.client.close()


@pytest.fixture
def small_project(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, int]]:
    """A corpus of 12 annotated articles and its project; pages of 2 tasks (6 exports)."""
    rng = random.Random(11)
    corpus = make_corpus(tmp_path / "c", {f"a{i:02d}": article_text(rng, 40) for i in range(12)})
    set_labelstudio(corpus, page_size=2, backoff=0.01, timeout=8, project_title="Flaky")
    pid = annotated_project(label_studio, cli, corpus, "Flaky")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    monkeypatch.setenv("CORPUS_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    yield corpus, pid


def test_flaky_pages_are_retried_and_the_pull_completes(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, small_project: tuple[Path, int]
) -> None:
    corpus, pid = small_project
    direct = cli("ls", "pull", "--url", label_studio.url, "--project-id", str(pid),
                 "--out", str(tmp_path / "direct"), cwd=corpus)  # fmt: skip
    assert direct.exit_code == 0, direct.stderr
    faults = {1: "503", 2: "drop", 3: "500", 4: "429", 5: "slow", 7: "502"}
    with FaultProxy(label_studio.url, match="/export", faults=faults, slow=20) as proxy:
        res = cli(
            "ls", "pull", "--url", proxy.url, "--project-id", str(pid), "--json",
            "--out", str(tmp_path / "flaky"), cwd=corpus,
        )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["retried_requests"] == len(faults)
    exports_seen = proxy.matching()
    assert len(exports_seen) == 6 + len(faults)  # each fault cost exactly one more request
    # The 429's Retry-After (1 s) was honoured, not the 0.01 s backoff.
    i429 = next(i for i, s in enumerate(exports_seen) if s[3] == "429")
    assert exports_seen[i429 + 1][0] - exports_seen[i429][0] >= 0.95
    assert snapshot(tmp_path / "flaky") == snapshot(tmp_path / "direct")


def test_a_page_that_keeps_failing_ends_the_pull_cleanly(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, small_project: tuple[Path, int]
) -> None:
    corpus, pid = small_project
    out = tmp_path / "out"
    first = cli("ls", "pull", "--url", label_studio.url, "--project-id", str(pid),
                "--out", str(out), cwd=corpus)  # fmt: skip
    assert first.exit_code == 0, first.stderr
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    set_labelstudio(corpus, retries=3)
    with FaultProxy(label_studio.url, match="/export", always="503") as proxy:
        res = cli(
            "ls", "pull", "--url", proxy.url, "--project-id", str(pid), "--out", str(out),
            cwd=corpus,
        )  # fmt: skip
    assert res.exit_code == 2 and "Traceback" not in res.stderr
    assert "503 (after 3 retries)" in res.stderr
    assert len(proxy.matching()) == 4
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert leftovers(out) == []


def test_a_server_outside_the_supported_range_gets_a_note(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, small_project: tuple[Path, int]
) -> None:
    # As `corpus ls push` does: a note, not a refusal. The real server (in range) gets none;
    # behind a proxy that fails `/api/version`, its release is unknown, so outside the range.
    corpus, pid = small_project
    direct = cli("ls", "pull", "--url", label_studio.url, "--project-id", str(pid), "--json",
                 "--out", str(tmp_path / "direct"), cwd=corpus)  # fmt: skip
    assert direct.exit_code == 0, direct.stderr
    assert "notes" not in json.loads(direct.stdout)
    with FaultProxy(label_studio.url, match="/api/version", always="500") as proxy:
        res = cli("ls", "pull", "--url", proxy.url, "--project-id", str(pid),
                  "--out", str(tmp_path / "unknown"), cwd=corpus)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert proxy.matching()  # the version was asked, through the proxy
    note = lib.support_warning("unknown")
    assert note is not None and lib.range_text() in note
    assert f"note: {note}" in " ".join(res.stdout.split())  # rich may wrap the line
    assert snapshot(tmp_path / "unknown") == snapshot(tmp_path / "direct")  # pulled as ever


def test_task_import_is_not_retried(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = make_corpus(tmp_path / "c", {"a1": "NATO met in Qatar.", "a2": "Iran and Russia."})
    set_labelstudio(corpus, backoff=0.01, project_title="No retry import")
    assert cli("tasks", cwd=corpus).exit_code == 0
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    with FaultProxy(label_studio.url, match="/import", faults={1: "503"}) as proxy:
        res = cli("ls", "push", "--url", proxy.url, "--json", cwd=corpus)
    with label_studio.http() as http:
        projects = http.get("/api/projects/", params={"page_size": 1000}).json()["results"]
    for p in projects:
        if p["title"] == "No retry import":
            label_studio.track_project(int(p["id"]))
    assert res.exit_code == 2 and "503" in res.stdout  # --json: the error as JSON
    assert [s[1] for s in proxy.matching()] == ["POST"]  # sent once: a retry could duplicate
    # Push is idempotent: the next run imports what the failed one did not.
    again = cli("ls", "push", "--url", label_studio.url, "--json", cwd=corpus)
    assert json.loads(again.stdout)["imported"] == 2


# --- point 12: no pull without a secret pseudonym key --------------------------------------


def test_pull_without_a_pseudonym_key_is_refused(
    tmp_path: Path,
    cli: CliRun,
    label_studio: LabelStudioFixture,
    small_project: tuple[Path, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus, _ = small_project
    monkeypatch.delenv("CORPUS_PSEUDONYM_KEY")
    out = tmp_path / "out"
    res = cli("ls", "pull", "--url", label_studio.url, "--out", str(out), cwd=corpus)
    assert res.exit_code == 2 and "no pseudonym key" in res.stderr
    assert "CORPUS_PSEUDONYM_KEY" in res.stderr and "secrets.token_hex" in res.stderr
    assert not out.exists()
    inside = corpus / "pseudonym.key"
    inside.write_text("a-secret-in-the-wrong-place\n", encoding="utf-8")
    res = cli("ls", "pull", "--url", label_studio.url, "--out", str(out),
              "--pseudonym-key-file", str(inside), cwd=corpus)  # fmt: skip
    assert res.exit_code == 2 and "inside" in res.stderr and not out.exists()
    outside = tmp_path / "home" / "pseudonym.key"
    outside.parent.mkdir()
    outside.write_text(KEY + "\n", encoding="utf-8")
    set_labelstudio(corpus, pseudonym_key_file=str(outside))
    res = cli("ls", "pull", "--url", label_studio.url, "--out", str(out), "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    cfg = load_config(corpus / "corpus.toml")
    admin = lib.pseudonym(label_studio.admin.email, KEY.encode())
    assert json.loads(res.stdout)["annotators"] == [admin]
    meta = json.loads((out / "flaky" / "_project.json").read_bytes())
    assert meta["pseudonyms"]["key"] == "key file" and cfg.name.encode() != KEY.encode()


# --- point 13: secrets never reach output --------------------------------------------------


def test_error_messages_carry_no_token_and_no_url_credentials(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, small_project: tuple[Path, int]
) -> None:
    corpus, pid = small_project
    token = label_studio.api_key
    set_labelstudio(corpus, retries=0)
    # A server error page that echoes the request headers (Django's debug page does).
    with FaultProxy(label_studio.url, match="/api/projects/", always="echo") as proxy:
        res = cli("ls", "pull", "--url", proxy.url, "--project-id", str(pid), cwd=corpus)
    assert res.exit_code == 2 and "HTTP_AUTHORIZATION" in res.stderr  # the body is quoted ...
    assert token not in res.stdout + res.stderr  # ... without the token
    # URL credentials: refused by the real server, and for an unreachable one.
    host = label_studio.url.removeprefix("http://")
    for url in (f"http://kim:hunter2-pw@{host}", f"http://kim:hunter2-pw@127.0.0.1:{free_port()}"):
        res = cli("ls", "pull", "--url", url, "--project-id", str(pid), cwd=corpus)
        assert res.exit_code == 2, res.stderr
        assert "hunter2" not in res.stdout + res.stderr and "kim" not in res.stderr
    # A wrong token is not repeated back either.
    wrong = "wrong-token-0123456789abcdef"
    res = cli("ls", "pull", "--url", label_studio.url, "--api-key", wrong, cwd=corpus)
    assert res.exit_code == 2 and "refused the API key" in res.stderr
    assert wrong not in res.stderr


# --- point 14 (pull side): long names, a full disk, a file where the folder belongs --------


def test_a_300_character_article_id_pulls(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_id = "story-" + "x" * 294
    corpus = make_corpus(tmp_path / "c", {"a1": "NATO met in Qatar.", "a2": "Iran and Russia."})
    set_labelstudio(corpus, project_title="Long ids")
    pid = annotated_project(label_studio, cli, corpus, "Long ids", ids=[long_id, long_id + "2"])
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("CORPUS_PSEUDONYM_KEY", KEY)
    res = cli("ls", "pull", "--project-id", str(pid), "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    names = sorted(p.name for p in (corpus / "annotations/long-ids/tasks").iterdir())
    assert len(names) == 2 and all(len(n) <= 140 for n in names)
    again = cli("ls", "pull", "--project-id", str(pid), "--json", cwd=corpus)
    assert json.loads(again.stdout)["files"]["unchanged"] == 3  # stable names
    scheme = load_config(corpus / "corpus.toml").scheme
    read = {a.article_id for a in exports.iter_annotations([corpus / "annotations"], scheme)}
    assert read == {long_id, long_id + "2"}


def test_disk_full_and_a_file_in_the_way_exit_2_and_keep_the_old_files(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, small_project: tuple[Path, int]
) -> None:
    corpus, _ = small_project
    assert cli("ls", "pull", "--url", label_studio.url, cwd=corpus).exit_code == 0
    folder = corpus / "annotations" / "flaky"
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    def limit_file_size() -> None:  # the kernel refuses writes past 1 kB: a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    proc = subprocess.run(
        [CORPUS_BIN, "ls", "pull", "--url", label_studio.url],
        cwd=corpus,
        env={**os.environ, "CORPUS_CONFIG": str(corpus / "corpus.toml")},
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "cannot write the pulled annotations" in proc.stderr and "File too large" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    assert leftovers(corpus / "annotations") == []

    # A file where the project's folder belongs; a file where the annotations folder belongs.
    blocked = tmp_path / "blocked"
    (blocked / "flaky").parent.mkdir()
    (blocked / "flaky").write_text("not a folder\n", encoding="utf-8")
    res = cli("ls", "pull", "--url", label_studio.url, "--out", str(blocked), cwd=corpus)
    assert res.exit_code == 2 and "a file is where" in res.stderr
    (tmp_path / "afile").write_text("x\n", encoding="utf-8")
    res = cli("ls", "pull", "--url", label_studio.url, "--out", str(tmp_path / "afile/sub"))
    assert res.exit_code == 2 and "Traceback" not in res.stderr, res.stderr
    assert (blocked / "flaky").read_text(encoding="utf-8") == "not a folder\n"


# --- issue 15 point 1: a pull that would drop local annotations is refused -----------------


def sample_copy(tmp_path: Path, cli: CliRun) -> Path:
    """The sample corpus (corpus.toml, articles, the committed annotations), ingested."""
    corpus = tmp_path / "sample"
    corpus.mkdir()
    shutil.copy2(REPO / "corpus.toml", corpus / "corpus.toml")
    for part in ("articles", "annotations"):
        shutil.copytree(REPO / part, corpus / part)
    assert cli("ingest", cwd=corpus).exit_code == 0
    return corpus


def test_pull_from_a_server_without_the_annotations_is_refused(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README walkthrough: the sample's annotations, a fresh server with the same tasks
    and none of the annotations. The pull is refused (exit 1) and changes nothing."""
    corpus = sample_copy(tmp_path, cli)
    fresh = load_config(corpus / "corpus.toml")
    title = fresh.labelstudio.project_title  # the sample's project, on a fresh server
    pid = annotated_project(label_studio, cli, corpus, title, annotate=False)
    sample = corpus / "annotations" / "geonews-annotation"
    before = {p: p.read_bytes() for p in sample.rglob("*") if p.is_file()}
    local = sum(len(json.loads(f.read_bytes())["annotations"]) for f in sample.glob("tasks/*"))
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("CORPUS_PSEUDONYM_KEY", fresh.name)
    res = cli("ls", "pull", "--project-id", str(pid), cwd=corpus)
    assert res.exit_code == 1, res.stderr
    assert f"would drop {local} of the {local} annotations" in res.stderr
    assert "--allow-deletions" in res.stderr
    assert {p: p.read_bytes() for p in sample.rglob("*") if p.is_file()} == before
    assert leftovers(corpus / "annotations") == []
    forced = cli("ls", "pull", "--project-id", str(pid), "--allow-deletions", "--json", cwd=corpus)
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(forced.stdout)["dropped_annotations"] == local


def test_pull_from_another_server_whose_annotation_ids_coincide_is_refused(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every fresh server numbers annotations from 1, so a pull from another server (or a
    reset one) can bring annotations whose ids are the ones the folder holds, with other
    content: found by the docs runner, where such a pull replaced the sample without a word.
    The folder's annotations are made to carry exactly the server's ids (their own creation
    times kept): the pull must still be refused, and a pull that really keeps them is not."""
    corpus = sample_copy(tmp_path, cli)
    cfg = load_config(corpus / "corpus.toml")
    pid = annotated_project(label_studio, cli, corpus, cfg.labelstudio.project_title)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("CORPUS_PSEUDONYM_KEY", cfg.name)
    look = tmp_path / "look"
    res = cli("ls", "pull", "--project-id", str(pid), "--out", str(look), cwd=corpus)
    assert res.exit_code == 0, res.stderr
    server = {
        f.name: json.loads(f.read_bytes())["annotations"] for f in look.glob("*/tasks/*.json")
    }
    sample = corpus / "annotations" / "geonews-annotation"
    coinciding = 0
    for f in sorted(sample.glob("tasks/*.json")):
        task = json.loads(f.read_bytes())
        theirs = server.get(f.name)
        if not theirs or not task["annotations"]:
            continue
        ours = task["annotations"][0]
        assert ours["created_at"] != theirs[0]["created_at"]
        ours["id"] = theirs[0]["id"]  # the same id, another server's annotation
        task["annotations"] = [ours]
        f.write_text(json.dumps(task, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        coinciding += 1
    assert coinciding >= 10
    before = {p: p.read_bytes() for p in sample.rglob("*") if p.is_file()}
    res = cli("ls", "pull", "--project-id", str(pid), cwd=corpus)
    assert res.exit_code == 1, res.stdout + res.stderr
    assert f"would drop {coinciding} of the {coinciding} annotations" in res.stderr
    assert {p: p.read_bytes() for p in sample.rglob("*") if p.is_file()} == before
    # The server's own annotations, pulled before, are kept by the next pull: no refusal.
    again = cli("ls", "pull", "--project-id", str(pid), "--out", str(look), cwd=corpus)
    assert again.exit_code == 0, again.stderr
