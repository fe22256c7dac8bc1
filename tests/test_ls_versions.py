"""Label Studio releases: version parsing, the supported range, feature gates, the template
cache keyed by the installed version, and what the client says to a server too old for a key.

The client tests talk to a real HTTP server on 127.0.0.1 that answers like an old Label
Studio (`/api/version`, 404 on `/api/token/refresh/`); the live ones run on whatever release
the `label_studio` fixture starts (scripts/test-label-studio-version.sh VERSION).
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ls_server import LS_BIN, LabelStudioFixture

from corpus_tools import labelstudio as lib
from corpus_tools import labelstudio_server as srv
from corpus_tools.errors import LabelStudioError, UsageError

# A JWT-shaped key (header.payload.signature), as a personal access token looks.
JWT_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("1.14.0.post0", (1, 14, 0)),
        ("1.23.2", (1, 23, 2)),
        ("1.9", (1, 9, 0)),
        ("v1.20.0", (1, 20, 0)),
        ("1.12.0rc1", (1, 12, 0)),
        ("unknown", None),
        ("", None),
        (None, None),
        ("1", None),
    ],
)
def test_parse_version(text: str | None, want: tuple[int, int, int] | None) -> None:
    assert lib.parse_version(text) == want


@pytest.mark.parametrize(
    ("version", "inside"),
    [
        ("1.13.1", False),
        ("1.14.0", True),
        ("1.14.0.post0", True),
        ("1.20.0", True),
        ("1.23.2", True),
        ("1.23.99", True),
        ("1.24.0", False),
        ("2.0.0", False),
        ("1.9.2", False),  # 9 < 14 as numbers, though "1.9" > "1.14" as text
        ("nonsense", False),
    ],
)
def test_supported_range(version: str, inside: bool) -> None:
    assert lib.is_supported(version) is inside
    warning = lib.support_warning(version)
    assert (warning is None) is inside
    if warning:
        assert version in warning and "1.14 to 1.23" in warning


def test_the_range_covers_at_least_1_14_to_1_23_and_every_tested_release() -> None:
    assert lib.SUPPORTED_MIN <= (1, 14) and lib.SUPPORTED_MAX >= (1, 23)
    for version in lib.TESTED_VERSIONS:
        assert lib.is_supported(version), version


@pytest.mark.parametrize("feature", sorted(lib.FEATURES))
def test_feature_gate_at_its_first_release(feature: str) -> None:
    major, minor = lib.FEATURES[feature][0]
    before, first, later = f"{major}.{minor - 1}.9", f"{major}.{minor}.0", f"{major}.{minor + 1}"
    assert not lib.has_feature(feature, before)
    assert lib.has_feature(feature, first) and lib.has_feature(feature, later)
    message = lib.missing_feature(feature, before)
    assert message is not None and message.startswith(f"Label Studio {before} has no ")
    assert f"added in {major}.{minor}" in message
    assert lib.missing_feature(feature, first) is None
    # an unreadable version: the server's own answer tells, no gate
    assert lib.has_feature(feature, "unknown") and lib.missing_feature(feature, None) is None


def test_personal_access_tokens_came_with_1_17_and_the_init_switch_with_1_18() -> None:
    # measured on the releases' code: jwt_auth/ appears in 1.17.0, `init
    # --enable-legacy-api-token` and $LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN in 1.18.0
    assert not lib.has_feature("personal-access-tokens", "1.16.0")
    assert lib.has_feature("personal-access-tokens", "1.17.0")
    assert not lib.has_feature("legacy-token-switch", "1.17.0")
    assert lib.has_feature("legacy-token-switch", "1.18.0")


_INIT_FLAG = [
    ("1.14.0.post0", False),
    ("1.16.0", False),
    ("1.17.0", False),
    ("1.18.0", True),
    ("1.20.0", True),
    ("1.23.2", True),
]


@pytest.mark.parametrize(("version", "flag"), _INIT_FLAG)
def test_init_passes_the_legacy_token_flag_only_where_it_exists(version: str, flag: bool) -> None:
    cmd = srv.init_command(Path("/ls/bin/label-studio"), Path("/data"), version)
    assert ("--enable-legacy-api-token" in cmd) is flag
    assert cmd[1] == "init" and cmd[cmd.index("--user-token") + 1] == srv.ADMIN_TOKEN


def _fake_venv(root: Path, version: str | None) -> Path:
    """A folder shaped like a venv with label-studio `version` installed (metadata only)."""
    (root / "bin").mkdir(parents=True)
    ls_bin = root / "bin" / "label-studio"
    ls_bin.write_text("#!/nonexistent/python\n", encoding="utf-8")
    if version is not None:
        info = root / "lib" / "python3.11" / "site-packages" / f"label_studio-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: label-studio\nVersion: {version}\n\nbody\n",
            encoding="utf-8",
        )
    return ls_bin


def test_installed_version_comes_from_the_venvs_metadata(tmp_path: Path) -> None:
    assert srv.installed_version(_fake_venv(tmp_path / "a", "1.14.0.post0")) == "1.14.0.post0"
    with pytest.raises(UsageError, match="cannot tell which Label Studio version"):
        srv.installed_version(_fake_venv(tmp_path / "b", None))


@pytest.mark.skipif(not LS_BIN.is_file(), reason="no Label Studio server venv")
def test_installed_version_of_the_real_server_venv() -> None:
    python = LS_BIN.parent / "python"
    asked = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('label-studio'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert srv.installed_version(LS_BIN) == asked


def test_template_cache_is_keyed_by_the_installed_version(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for version in ("1.14.0.post0", "1.20.0"):
        made = srv.template_dir(cache, version)
        made.mkdir(parents=True)
        (made / "label_studio.sqlite3").write_text(version, encoding="utf-8")
    old = _fake_venv(tmp_path / "old", "1.14.0.post0")
    new = _fake_venv(tmp_path / "new", "1.20.0")
    # a cached template is used as it is: no `label-studio init` runs (the fake cannot run)
    got_old, got_new = srv.ensure_template(old, cache), srv.ensure_template(new, cache)
    assert (got_old / "label_studio.sqlite3").read_text(encoding="utf-8") == "1.14.0.post0"
    assert (got_new / "label_studio.sqlite3").read_text(encoding="utf-8") == "1.20.0"
    # a release without a template is built, not served another release's database
    other = _fake_venv(tmp_path / "other", "1.23.2")
    with pytest.raises(LabelStudioError, match="label-studio init"):
        srv.ensure_template(other, cache, timeout=30)
    assert not (srv.template_dir(cache, "1.23.2") / "label_studio.sqlite3").exists()


# --- the client against a server that answers like an old release -----------------------------


class _OldServer(BaseHTTPRequestHandler):
    release: str | None = "1.14.0.post0"

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/api/version" and self.release is not None:
            self._answer(200, {"release": self.release})
        else:
            self._answer(404, {"detail": "Not found."})

    def do_POST(self) -> None:
        self._answer(404, {"detail": "Not found."})

    def _answer(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def old_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """The address of a server that reports `request.param` as its release (None: does
    not say) and has no token endpoints."""
    handler = type("Handler", (_OldServer,), {"release": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("old_server", ["1.14.0.post0"], indirect=True)
def test_personal_access_token_on_a_release_without_them(old_server: str) -> None:
    with pytest.raises(LabelStudioError) as caught:
        lib.Client(old_server, JWT_KEY, retries=0)
    err = caught.value
    assert err.message.startswith("Label Studio 1.14.0.post0 has no personal access tokens")
    assert "legacy token" in (err.hint or "") and "Token" in (err.hint or "")
    assert JWT_KEY not in err.message + (err.hint or "")


@pytest.mark.parametrize("old_server", ["1.23.2", None], indirect=True)
def test_a_404_from_a_release_with_tokens_is_a_refused_token(old_server: str) -> None:
    # 1.17+ has the endpoint: a 404 there (a proxy, a path prefix) is not "too old"
    with pytest.raises(LabelStudioError, match="refused the personal access token"):
        lib.Client(old_server, JWT_KEY, retries=0)


@pytest.mark.parametrize("old_server", ["1.14.0.post0"], indirect=True)
def test_client_names_the_release_a_feature_needs(old_server: str) -> None:
    with lib.Client(old_server, "legacy-token-123456", retries=0) as client:
        assert client.version() == "1.14.0.post0"
        with pytest.raises(LabelStudioError) as caught:
            client.require("personal-access-tokens")
    assert "Label Studio 1.14.0.post0 has no personal access tokens" in caught.value.message
    assert "1.17 or later" in (caught.value.hint or "")


@pytest.mark.parametrize("old_server", [None], indirect=True)
def test_client_version_unknown_when_the_server_does_not_say(old_server: str) -> None:
    with lib.Client(old_server, "legacy-token-123456", retries=0) as client:
        assert client.version() == "unknown"
        client.require("personal-access-tokens")  # no gate without a version


# --- live: the release the fixture runs --------------------------------------------------------


@pytest.mark.labelstudio
def test_client_reports_the_installed_release(label_studio: LabelStudioFixture) -> None:
    with lib.Client(label_studio.url, label_studio.api_key) as client:
        assert client.version() == label_studio.version == srv.installed_version(LS_BIN)
    assert lib.is_supported(label_studio.version), lib.support_warning(label_studio.version)


@pytest.mark.labelstudio
def test_a_token_shaped_key_on_the_live_server(label_studio: LabelStudioFixture) -> None:
    """Too old for personal access tokens: says so, naming the release; new enough: a bogus
    token is refused as a token."""
    with pytest.raises(LabelStudioError) as caught:
        lib.Client(label_studio.url, JWT_KEY, retries=0)
    missing = lib.missing_feature("personal-access-tokens", label_studio.version)
    if missing:
        assert caught.value.message.startswith(missing)
        assert "legacy token" in (caught.value.hint or "")
    else:  # 401 "Token is invalid" (1.20) or a refused refresh: refused, not "too old"
        assert "refused the" in caught.value.message
        assert "has no personal access tokens" not in caught.value.message
