"""A local Label Studio server run as a child process: for tests, the sample script, benchmarks.

The server lives in its own virtual environment (it pins Django, pyarrow<25 and more), so it is
started as a program, never imported. A fresh database migrates for ~30 s; `ensure_template`
does that once (`label-studio init`) and caches the data folder by the INSTALLED version (read
from the server venv's package metadata, so a venv upgraded in place gets a new template), so
later starts copy ~1.5 MB and take a few seconds.

Label Studio reads `LABEL_STUDIO_X`, `HEARTEX_X` and plain `X` from the environment (a stray
`PORT`, `HOST`, `USERNAME` or `CI=true` changes its behaviour), so it always runs with a
scrubbed environment and `HOME` set to its data folder. The legacy API token must be enabled at
`init`, when the organisation is created; otherwise every token call answers 401. Releases
1.18 and later take `--enable-legacy-api-token` and `LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN`
(either is enough: both are given where the flag exists); 1.14 to 1.16 have no flag and only
legacy tokens; 1.17 creates organisations with legacy tokens off and no switch, so the
template's organisation gets them turned on after `init` (see `enable_legacy_tokens`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from corpus_tools.errors import LabelStudioError, UsageError
from corpus_tools.labelstudio import has_feature, parse_version

LS_VERSION = "1.23.2"  # the release scripts/setup.sh installs into .venv-ls
ADMIN_EMAIL = "admin@corpus.invalid"
ADMIN_PASSWORD = "corpus-admin-pass"
ADMIN_TOKEN = "corpus-tools-test-token-0001"

_QUIET_ENV = {
    "LATEST_VERSION_CHECK": "false",
    "COLLECT_ANALYTICS": "false",
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    "PYTHONUNBUFFERED": "1",
    "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
}


# Label Studio refuses ML backends and webhooks on loopback and private addresses (its SSRF
# guard: `ML_BLOCK_LOCAL_IP`, `SSRF_PROTECTION_ENABLED`). A local `corpus serve` needs
# loopback only, so the guard stays on with Label Studio 1.23.2's own list of banned subnets
# (core/utils/io.py `validate_ip`) minus 127.0.0.0/8 and ::1: private networks, link-local
# (cloud metadata) and the rest stay blocked.
_LS_BANNED_SUBNETS = (
    "0.0.0.0/8,10.0.0.0/8,100.64.0.0/10,169.254.0.0/16,172.16.0.0/12,192.0.0.0/24,"
    "192.0.2.0/24,192.88.99.0/24,192.168.0.0/16,198.18.0.0/15,198.51.100.0/24,203.0.113.0/24,"
    "224.0.0.0/4,233.252.0.0/24,240.0.0.0/4,255.255.255.255/32,::/128,::ffff:0:0/96,"
    "::ffff:0:0:0/96,64:ff9b::/96,64:ff9b:1::/48,100::/64,2001:0000::/32,2001:20::/28,"
    "2001:db8::/32,2002::/16,fc00::/7,fe80::/10,ff00::/8"
)
LOOPBACK_ML_ENV = {
    "USE_DEFAULT_BANNED_SUBNETS": "false",
    "USER_ADDITIONAL_BANNED_SUBNETS": _LS_BANNED_SUBNETS,
}


@dataclass(frozen=True, slots=True)
class Account:
    """A Label Studio user who can log in (UI) and call the API (legacy token)."""

    email: str
    password: str
    token: str
    user_id: int


def _env(data_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        "HOME": str(data_dir),
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        **_QUIET_ENV,
        **(extra or {}),
    }
    return env


def installed_version(ls_bin: Path) -> str:
    """The version of the Label Studio that `ls_bin` runs, from its package metadata.

    Read from the `label_studio-*.dist-info` folder of the venv `ls_bin` lives in (no process,
    no Django start-up); else asked of the interpreter on its `#!` line. UsageError when
    neither tells (not a Label Studio program).
    """
    ls_bin = ls_bin.absolute()
    for info in sorted(ls_bin.parent.parent.glob("lib/python3*/site-packages/label_studio-*")):
        if info.suffix == ".dist-info" and (info / "METADATA").is_file():
            version = _metadata_version(info / "METADATA")
            if version:
                return version
    try:
        first = ls_bin.read_bytes()[:512].split(b"\n", 1)[0].decode("utf-8", "replace")
    except OSError:
        first = ""
    if first.startswith("#!"):
        python = first[2:].strip().split()[0] if first[2:].strip() else ""
        try:
            proc = subprocess.run(
                [
                    python,
                    "-c",
                    "import importlib.metadata as m; print(m.version('label-studio'))",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            proc = None
        if proc is not None and proc.returncode == 0 and parse_version(proc.stdout.strip()):
            return proc.stdout.strip()
    raise UsageError(
        f"{ls_bin}: cannot tell which Label Studio version this is",
        hint="Point it at the label-studio program of a venv with label-studio installed "
        "(scripts/setup.sh creates .venv-ls).",
    )


def _metadata_version(metadata: Path) -> str | None:
    with metadata.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("Version:"):
                return line.split(":", 1)[1].strip() or None
            if not line.strip():
                return None
    return None


def init_command(ls_bin: Path, data_dir: Path, version: str) -> list[str]:
    """`label-studio init` for a new data folder with the admin user and its legacy token;
    `--enable-legacy-api-token` only where `version` has it (1.18 and later)."""
    cmd = [
        str(ls_bin),
        "init",
        "--quiet",
        "--no-browser",
        "--data-dir",
        str(data_dir),
        "--username",
        ADMIN_EMAIL,
        "--password",
        ADMIN_PASSWORD,
        "--user-token",
        ADMIN_TOKEN,
    ]
    if has_feature("legacy-token-switch", version):
        cmd.append("--enable-legacy-api-token")
    return cmd


# Run in the server's own interpreter, on its database: turn legacy tokens on for every
# organisation (what the switch at `init` does from 1.18 on).
_ENABLE_LEGACY_TOKENS = """
import os, sys
import label_studio
sys.path.insert(0, os.path.dirname(label_studio.__file__))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "label_studio.core.settings.label_studio")
import django
django.setup()
from organizations.models import Organization
for org in Organization.objects.all():
    org.jwt.legacy_api_tokens_enabled = True
    org.jwt.save()
"""


def enable_legacy_tokens(ls_bin: Path, data_dir: Path, timeout: float) -> None:
    """Label Studio 1.17 creates an organisation with legacy tokens off and has no switch:
    turn them on in the new database, through the server's own models."""
    proc = subprocess.run(
        [str(ls_bin.parent / "python"), "-c", _ENABLE_LEGACY_TOKENS],
        env=_env(data_dir),
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise LabelStudioError(
            f"could not turn on legacy API tokens (exit {proc.returncode}): {proc.stderr[-2000:]}",
            hint="Use Label Studio 1.18 or later, or 1.16 or earlier.",
        )


def template_dir(cache_dir: Path, version: str) -> Path:
    """Where the migrated template of Label Studio `version` is cached."""
    return cache_dir.absolute() / f"label-studio-{version}-template"


def ensure_template(ls_bin: Path, cache_dir: Path, *, timeout: float = 240.0) -> Path:
    """A migrated data folder with the admin user, built once per installed version."""
    ls_bin, cache_dir = ls_bin.absolute(), cache_dir.absolute()
    if not ls_bin.is_file():
        raise UsageError(
            f"{ls_bin}: no label-studio program",
            hint="Install the server with scripts/setup.sh (it creates .venv-ls).",
        )
    version = installed_version(ls_bin)
    template = template_dir(cache_dir, version)
    if (template / "label_studio.sqlite3").is_file():
        return template
    cache_dir.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".template-", dir=cache_dir))
    try:
        proc = subprocess.run(
            init_command(ls_bin, build, version),
            env=_env(build),
            cwd=build,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(build, ignore_errors=True)
        raise LabelStudioError(
            f"label-studio init {version} could not run: {exc}",
            hint="Reinstall the server venv with scripts/setup.sh.",
        ) from None
    if proc.returncode != 0 or not (build / "label_studio.sqlite3").is_file():
        shutil.rmtree(build, ignore_errors=True)
        raise LabelStudioError(
            f"label-studio init {version} failed (exit {proc.returncode}): {proc.stderr[-2000:]}",
            hint="Reinstall the server venv with scripts/setup.sh.",
        )
    if has_feature("personal-access-tokens", version) and not has_feature(
        "legacy-token-switch", version
    ):
        try:
            enable_legacy_tokens(ls_bin, build, timeout)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
    try:
        os.replace(build, template)
    except OSError:
        # Another session finished its template first: use that one.
        shutil.rmtree(build, ignore_errors=True)
        if not (template / "label_studio.sqlite3").is_file():
            raise
    return template


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_STARTED = re.compile(r"Starting development server at http://127\.0\.0\.1:(\d+)/")


class LocalServer:
    """A Label Studio server on 127.0.0.1 over a copy of the cached template."""

    def __init__(
        self,
        *,
        ls_bin: Path,
        cache_dir: Path,
        data_dir: Path,
        port: int | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.ls_bin = ls_bin.absolute()
        self.extra_env = dict(extra_env or {})  # e.g. LOOPBACK_ML_ENV for `corpus serve`
        self.cache_dir = cache_dir.absolute()
        self.data_dir = data_dir.absolute()
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"
        self.admin = Account(ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, 1)
        self._version: str | None = None

    @property
    def version(self) -> str:
        """The installed Label Studio version this server runs (e.g. `1.23.2`)."""
        if self._version is None:
            self._version = installed_version(self.ls_bin)
        return self._version

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 120.0) -> LocalServer:
        """Copy the template (unless the data folder exists) and serve until /health answers."""
        if not (self.data_dir / "label_studio.sqlite3").is_file():
            template = ensure_template(self.ls_bin, self.cache_dir)
            shutil.copytree(template, self.data_dir, dirs_exist_ok=True)
        cmd = [
            str(self.ls_bin),
            "start",
            "--no-browser",
            "--data-dir",
            str(self.data_dir),
            "--internal-host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        self.proc = subprocess.Popen(
            cmd,
            env=_env(self.data_dir, self.extra_env),
            cwd=self.data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise LabelStudioError(
                    f"label-studio exited with {self.proc.returncode}: {self._log_tail()}"
                )
            moved = _STARTED.search(self._log_tail(20000))
            if moved and int(moved.group(1)) != self.port:
                # A busy port makes Label Studio move silently to port+1.
                self.port = int(moved.group(1))
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise LabelStudioError(f"label-studio did not answer /health in {timeout:.0f} s")

    def _log_tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_bytes()[-n:].decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        """Terminate the server (its whole process group), then kill it if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, 15)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=10)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def signup(self, email: str, password: str) -> Account:
        """A new user made through the sign-up form, with their API token."""
        return signup(self.url, email, password)


def signup(url: str, email: str, password: str) -> Account:
    """Create a user through the sign-up form (as a person would) and fetch their token.

    The community edition ignores passwords given to the users API, so a second annotator
    who can log in is made with the form, then asks for its token in that session.
    """
    with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as http:
        page = http.get("/user/signup/")
        csrf = http.cookies.get("csrftoken") or _csrf_from(page.text)
        resp = http.post(
            "/user/signup/",
            data={
                "csrfmiddlewaretoken": csrf,
                "email": email,
                "password": password,
                "allow_newsletters": "false",
            },
            headers={"Referer": f"{url}/user/signup/"},
        )
        if resp.status_code >= 400 or "/user/signup" in str(resp.url):
            raise LabelStudioError(
                f"sign-up of {email} failed ({resp.status_code})",
                hint="Is the email already registered? Log in with it instead.",
            )
        token = http.get("/api/current-user/token").json()["token"]
        who = http.get("/api/current-user/whoami").json()
    return Account(email, password, token, int(who["id"]))


def _csrf_from(html: str) -> str:
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return m.group(1) if m else ""
