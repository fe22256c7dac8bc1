"""A real Label Studio server for the tests: one per session, a fresh project per test.

The server (label-studio 1.23.2 in the repo's `.venv-ls`, or the program named by
$CORPUS_TEST_LS_BIN: scripts/test-label-studio-version.sh runs other releases) starts from a
migrated template cached under `.cache/` by its installed version (built by `label-studio init`
the first time, ~30 s), copied into the session's temporary folder; later sessions start in a
few seconds. Tests that use it are marked `labelstudio` and skipped when the server venv is
missing (run scripts/setup.sh). A test of a feature the running release lacks calls
`label_studio.require("personal-access-tokens")`: a skip that names the release.

    def test_x(label_studio):            # LabelStudioFixture
        label_studio.url, label_studio.api_key, label_studio.admin.password
        anna = label_studio.signup("anna")                 # a second user, via the form
        pid = label_studio.new_project(label_config=xml)   # deleted after the test
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from corpus_tools.labelstudio import missing_feature
from corpus_tools.labelstudio_server import LOOPBACK_ML_ENV, Account, LocalServer

REPO = Path(__file__).resolve().parent.parent
LS_BIN = Path(os.environ.get("CORPUS_TEST_LS_BIN", REPO / ".venv-ls" / "bin" / "label-studio"))
CACHE = REPO / ".cache"


@dataclass
class LabelStudioFixture:
    """The running server, its admin (url, api key, password) and per-test helpers."""

    server: LocalServer
    _projects: list[int] = field(default_factory=list)
    _users: dict[str, Account] = field(default_factory=dict)
    _counter: Iterator[int] = field(default_factory=itertools.count)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def admin(self) -> Account:
        return self.server.admin

    @property
    def api_key(self) -> str:
        return self.server.admin.token

    @property
    def version(self) -> str:
        """The running Label Studio release (`1.23.2`)."""
        return self.server.version

    def require(self, feature: str) -> None:
        """Skip the test, naming the release, when the server lacks `feature` (FEATURES)."""
        missing = missing_feature(feature, self.version)
        if missing:
            pytest.skip(missing)

    def http(self, token: str | None = None) -> httpx.Client:
        """An API client authenticated as the admin (or as the owner of `token`)."""
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Token {token or self.api_key}"},
            timeout=60,
        )

    def signup(self, name: str, password: str = "annotator-pass-1") -> Account:
        """A user who signed up through the form (cached per session by `name`)."""
        if name not in self._users:
            self._users[name] = self.server.signup(f"{name}@example.org", password)
        return self._users[name]

    def login(self, account: Account) -> httpx.Client:
        """A browser-like session logged in through the login form (cookies, CSRF); the
        caller closes it (it is already open, so not usable in a `with`)."""
        http = httpx.Client(base_url=self.url, timeout=60, follow_redirects=True)
        http.get("/user/login/")
        http.post(
            "/user/login/",
            data={
                "csrfmiddlewaretoken": http.cookies.get("csrftoken") or "",
                "email": account.email,
                "password": account.password,
            },
            headers={"Referer": f"{self.url}/user/login/"},
        )
        return http

    def personal_access_token(self, account: Account) -> str:
        """A personal access token (a JWT refresh token) made in a logged-in session; a skip
        on releases without them."""
        self.require("personal-access-tokens")
        http = self.login(account)
        try:
            resp = http.post(
                "/api/token/",
                headers={"X-CSRFToken": http.cookies.get("csrftoken") or "", "Referer": self.url},
            )
            resp.raise_for_status()
            return str(resp.json()["token"])
        finally:
            http.close()

    def new_project(self, **settings: Any) -> int:
        """Create a project (deleted at the end of the test); return its id."""
        settings.setdefault("title", f"test project {next(self._counter)}")
        with self.http() as http:
            resp = http.post("/api/projects/", json=settings)
            resp.raise_for_status()
            pid = int(resp.json()["id"])
        self._projects.append(pid)
        return pid

    def track_project(self, project_id: int) -> None:
        """Delete a project made by the code under test at the end of the test."""
        self._projects.append(project_id)

    def delete_projects(self) -> None:
        with self.http() as http:
            for pid in self._projects:
                http.delete(f"/api/projects/{pid}/")
        self._projects.clear()


@pytest.fixture(scope="session")
def _label_studio_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    if not LS_BIN.is_file():
        pytest.skip("Label Studio server not installed (.venv-ls); run scripts/setup.sh")
    # LOOPBACK_ML_ENV: `corpus serve` on 127.0.0.1 may be connected as an ML backend (and get
    # its webhook); every other private or reserved address stays blocked.
    server = LocalServer(
        ls_bin=LS_BIN,
        cache_dir=CACHE,
        data_dir=tmp_path_factory.mktemp("label-studio"),
        extra_env=LOOPBACK_ML_ENV,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def label_studio(_label_studio_server: LocalServer) -> Iterator[LabelStudioFixture]:
    """The session's Label Studio server; projects made in the test are deleted after it."""
    fx = LabelStudioFixture(_label_studio_server)
    _SHARED_USERS.setdefault(id(_label_studio_server), fx._users)
    fx._users = _SHARED_USERS[id(_label_studio_server)]
    try:
        yield fx
    finally:
        fx.delete_projects()


_SHARED_USERS: dict[int, dict[str, Account]] = {}
