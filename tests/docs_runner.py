"""Run the command blocks of the README and the docs pages, in order, as a newcomer would.

`parse_page` reads a Markdown page's fenced code blocks (CommonMark fences of ``` or ~~~, with
an info string, indented ones inside lists too) and the `<!-- docs-run: ... -->` markers
stacked on the lines just before each fence (docs/ conventions, issue 15):

    <!-- docs-run: skip REASON -->   not run (the reason is required)
    <!-- docs-run: hub -->           talks to the real Hugging Face Hub: not run
    <!-- docs-run: background -->    started in the background; the runner waits for the server
    <!-- docs-run: exit N -->        the block must end with exit code N
    <!-- docs-run: python -->        a ```python block, run with .venv/bin/python

Only ```bash blocks (and marked ```python ones) run. A marker that steers no fence, an unknown
directive and a block that would run the test suite (`pytest`) without a skip marker are
`DocsError`s: the page is wrong, not the tool.

`DocsSession` is the newcomer's machine: a scratch copy of the repository's files (`git
ls-files`: the tracked ones and new ones not ignored, so a clone's content in CI and the
working tree's during development, never its build/, dist/, hub/ or .cache/), made a git
repository of its own so `git status` shows what the docs changed,
the real `.venv` and `.venv-ls` symlinked in, a private HOME and TMPDIR, HF_HUB_OFFLINE=1,
LANG=C.UTF-8, a PATH without any virtual environment, and a free port in place of 8080.
`scripts/setup.sh` is replaced in the copy by a one-line script that says the environment is
installed: the environment is the one the test suite runs in (CI has just installed it), and a
command line like `scripts/setup.sh && .venv/bin/corpus pipeline 0.1.0` then runs as written.

Each page runs as one bash session (`set -euo pipefail`): every block is a fresh `bash` that
first restores the variables, functions and working folder the previous block left (saved on
exit), so exports and `cd` carry over and each block has its own exit code and output.
Background blocks run in their own process group, stopped at the end of the page.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent

SETUP_STUB = (
    "#!/usr/bin/env bash\n"
    'echo "corpus-tools installed: .venv/bin/corpus (docs runner: the environment is the '
    'one already installed, scripts/setup.sh is not re-run)"\n'
)

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_COMMENT = re.compile(r"^ *<!--(?P<body>.*?)-->\s*$")
_DIRECTIVE = re.compile(r"^\s*docs-run:\s*(?P<word>[a-z]+)\s*(?P<arg>.*?)\s*$")
# A command that runs the test suite: `pytest ...`, `.venv/bin/pytest`, `python -m pytest`.
_PYTEST = re.compile(r"(?:^|[\s;&|(/])(?:pytest|py\.test)(?=$|[\s;&|)])|-m\s+pytest\b")
_PORT = re.compile(r"\b(127\.0\.0\.1|localhost):8080\b")
READY_LINE = "Label Studio is ready at"


class DocsError(Exception):
    """A page's blocks or markers are wrong (names the page and line)."""


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced code block of a page: where it is, its language, code and markers."""

    page: str
    line: int  # 1-based line of the opening fence
    lang: str  # first word of the info string ('' when none)
    code: str
    skip: str | None = None  # the reason, for `skip` and `hub`
    background: bool = False
    exit: int = 0
    python: bool = False

    @property
    def runs(self) -> bool:
        """Whether the runner executes it: a bash block, or a python block marked `python`."""
        if self.skip is not None:
            return False
        return self.lang == "bash" or (self.lang == "python" and self.python)

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    def command(self, limit: int = 3) -> str:
        """The block's first lines (what a failure names)."""
        lines = [ln for ln in self.code.splitlines() if ln.strip()]
        shown = "\n".join(lines[:limit])
        return shown + ("\n..." if len(lines) > limit else "")


def parse_page(text: str, page: str) -> list[Block]:
    """The fenced code blocks of a Markdown page, with their markers; DocsError when wrong."""
    lines = text.splitlines()
    blocks: list[Block] = []
    used: set[int] = set()  # line numbers (0-based) of docs-run markers that steer a fence
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or (m["fence"][0] == "`" and "`" in m["info"]):
            i += 1
            continue
        indent, fence = len(m["indent"]), m["fence"]
        closing = re.compile(rf"^ *{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            # CommonMark: up to the opening fence's indentation is removed from each line.
            ln = lines[j]
            strip = len(ln) - len(ln.lstrip(" "))
            body.append(ln[min(strip, indent) :])
            j += 1
        markers, marker_lines = _markers_before(lines, i, page)
        used.update(marker_lines)
        words = m["info"].strip().split()
        blocks.append(_block(page, i + 1, words[0] if words else "", "\n".join(body), markers))
        i = j + 1
    for n, ln in enumerate(lines):
        c = _COMMENT.match(ln)
        if c and _DIRECTIVE.match(c["body"]) and n not in used:
            raise DocsError(f"{page}:{n + 1}: a docs-run marker that steers no code block")
    return blocks


def _markers_before(
    lines: list[str], fence: int, page: str
) -> tuple[list[tuple[int, str, str]], list[int]]:
    """The docs-run directives in the HTML comment lines stacked just above line `fence`."""
    found: list[tuple[int, str, str]] = []
    at: list[int] = []
    k = fence - 1
    while k >= 0:
        c = _COMMENT.match(lines[k])
        if not c:
            break
        d = _DIRECTIVE.match(c["body"])
        if d:
            found.append((k + 1, d["word"], d["arg"]))
            at.append(k)
        elif "docs-run" in c["body"]:
            raise DocsError(f"{page}:{k + 1}: malformed docs-run marker: {lines[k].strip()}")
        k -= 1
    return found[::-1], at


def _block(
    page: str, line: int, lang: str, code: str, markers: list[tuple[int, str, str]]
) -> Block:
    skip: str | None = None
    background = python = False
    expect = 0
    for at, word, arg in markers:
        where = f"{page}:{at}"
        if word == "skip":
            if not arg:
                raise DocsError(f"{where}: `docs-run: skip` needs a reason")
            skip = arg
        elif word == "hub":
            skip = "talks to the real Hugging Face Hub" + (f" ({arg})" if arg else "")
        elif word == "background":
            background = True
        elif word == "python":
            if lang != "python":
                raise DocsError(
                    f"{where}: `docs-run: python` on a ```{lang or '(no language)'} block"
                )
            python = True
        elif word == "exit":
            if not re.fullmatch(r"\d{1,3}", arg):
                raise DocsError(f"{where}: `docs-run: exit N` needs an exit code, not {arg!r}")
            expect = int(arg)
        else:
            raise DocsError(f"{where}: unknown docs-run directive {word!r}")
        if arg and word in ("background", "python"):
            raise DocsError(f"{where}: `docs-run: {word}` takes no argument ({arg!r})")
    block = Block(page, line, lang, code, skip, background, expect, python)
    if background and expect:
        raise DocsError(f"{page}:{line}: a background block has no exit code to check")
    if block.runs and runs_test_suite(code):
        raise DocsError(
            f"{page}:{line}: this block runs the test suite (pytest); the docs runner is part of "
            "it: mark it `<!-- docs-run: skip runs the test suite -->`"
        )
    return block


def runs_test_suite(code: str) -> bool:
    """Whether a command of `code` (comments aside) runs pytest."""
    for ln in code.splitlines():
        cmd = ln.split(" #", 1)[0]
        if cmd.lstrip().startswith("#"):
            continue
        if _PYTEST.search(cmd):
            return True
    return False


def with_port(code: str, port: int) -> str:
    """`code` with 127.0.0.1:8080 / localhost:8080 on `port`."""
    return _PORT.sub(lambda m: f"{m[1]}:{port}", code)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- running -----------------------------------------------------------------------------------

# Bash's own variables, which a restored session must not set (read-only or owned by bash).
_BASH_OWN = (
    "BASH.*|BASHOPTS|SHELLOPTS|EUID|UID|PPID|GROUPS|FUNCNAME|PIPESTATUS|RANDOM|SRANDOM|SECONDS|"
    "LINENO|HISTCMD|EPOCHREALTIME|EPOCHSECONDS|DIRSTACK|COMP_.*|OPTIND|OPTARG|PWD|OLDPWD|SHLVL|_|"
    "__docs_.*|__DOCS_.*"
)
_SAVE = f"""__docs_save() {{
  {{ declare -p $(compgen -v | grep -Ev '^({_BASH_OWN})$') 2>/dev/null || true
     declare -f
     printf 'cd -- %q\\n' "$PWD"
  }} > "$__DOCS_STATE.new" && mv -f "$__DOCS_STATE.new" "$__DOCS_STATE"
}}
"""


@dataclass
class Outcome:
    """What one block did: exit code (None: not run, or still running in the background),
    combined output, seconds; `failed` with a note saying how, or the reason it was skipped."""

    block: Block
    code: int | None
    output: str
    seconds: float
    note: str = ""
    failed: bool = False


@dataclass
class DocsSession:
    """The scratch machine the pages run on (see the module docstring)."""

    base: Path
    repo: Path = REPO
    port: int = field(default_factory=free_port)
    timeout: float = 900
    root: Path = field(init=False)
    home: Path = field(init=False)
    tmp: Path = field(init=False)
    ls_data: Path = field(init=False)
    _background: list[tuple[Block, subprocess.Popen[bytes], Path]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = self.base / "corpus"
        self.home = self.base / "home"
        self.tmp = self.base / "tmp"
        self.ls_data = self.base / "label-studio-data"
        for d in (self.home, self.tmp):
            d.mkdir(parents=True, exist_ok=True)

    # the scratch copy ----------------------------------------------------------------------

    def make_copy(self) -> None:
        """Copy the repository's files, link the venvs, stub setup.sh, git init the copy."""
        # Tracked files and new ones not ignored (what the next commit can hold: a tracked
        # module may already import a new one); never the ignored outputs (build/, dist/, ...).
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=self.repo,
            capture_output=True,
            check=True,
        )
        files = sorted(set(listed.stdout.decode("utf-8").split("\0")))
        for rel in filter(None, files):
            if rel.split("/", 1)[0] in (".venv", ".venv-ls"):
                continue  # linked below
            src = self.repo / rel
            if not src.is_file() and not src.is_symlink():
                continue  # deleted in the working tree
            dest = self.root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest, follow_symlinks=False)
        for venv in (".venv", ".venv-ls"):
            if (self.repo / venv).exists():
                (self.root / venv).symlink_to(self.repo / venv)
        setup = self.root / "scripts" / "setup.sh"
        if setup.exists():
            setup.write_text(SETUP_STUB, encoding="utf-8")
            setup.chmod(0o755)
        git = ["git", "-c", "user.name=docs-run", "-c", "user.email=docs-run@example.invalid"]
        for args in (
            ["init", "-q", "-b", "main"],
            ["add", "-A"],
            ["commit", "-q", "-m", "scratch"],
        ):
            subprocess.run(
                git + args, cwd=self.root, env=self.env(), capture_output=True, check=True
            )

    def changed(self, *folders: str) -> str:
        """`git status --porcelain` of `folders` in the scratch copy ('' when unchanged)."""
        return subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "--", *folders],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def restore(self, *folders: str) -> None:
        """Put `folders` of the scratch copy back as committed (after a page changed them):
        tracked files restored, new ones removed."""
        env = self.env()
        for folder in folders:
            git = ["git", "-C", str(self.root)]
            tracked = subprocess.run(
                [*git, "ls-files", "--", folder], env=env, capture_output=True, check=True
            ).stdout
            if tracked:
                subprocess.run([*git, "checkout", "-q", "HEAD", "--", folder], env=env, check=True)
            subprocess.run([*git, "clean", "-qfdx", "--", folder], env=env, check=True)

    def env(self) -> dict[str, str]:
        """A newcomer's environment: nothing of the caller's but a PATH without venvs."""
        path = [
            p
            for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
            if p and not (Path(p).parent / "pyvenv.cfg").exists()
        ]
        return {
            "PATH": os.pathsep.join(path),
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "LANG": "C.UTF-8",
            "HF_HUB_OFFLINE": "1",
            "PORT": str(self.port),
            "LABEL_STUDIO_DATA": str(self.ls_data),
            "TERM": "dumb",
        }

    # running a page ------------------------------------------------------------------------

    def run_page(self, page: str, text: str | None = None) -> list[Outcome]:
        """Run the page's blocks in order (the page's `text`, by default read from the
        repository), stopping at the first failure (a `BlockFailed`); the page's background
        processes are stopped at the end, failed or not."""
        if text is None:
            text = (self.repo / page).read_text(encoding="utf-8")
        blocks = parse_page(text, page)
        state = self.base / f"state-{page.replace('/', '_')}.sh"
        state.write_text(f"cd -- {shlex.quote(str(self.root))}\n", encoding="utf-8")
        outcomes: list[Outcome] = []
        try:
            for block in blocks:
                if block.lang not in ("bash", "python"):
                    continue
                if not block.runs:
                    why = block.skip or "a python block without `docs-run: python`"
                    outcomes.append(Outcome(block, None, "", 0.0, f"skipped: {why}"))
                    continue
                outcome = self._run(block, state)
                outcomes.append(outcome)
                if outcome.failed:
                    raise BlockFailed(outcome, outcomes)
        finally:
            self.stop_background()
        return outcomes

    def _script(self, block: Block, state: Path) -> str:
        code = with_port(block.code, self.port)
        if block.python:
            src = self.base / f"block-{block.page.replace('/', '_')}-{block.line}.py"
            src.write_text(code + "\n", encoding="utf-8")
            python = self.root / ".venv" / "bin" / "python"
            code = f"{shlex.quote(str(python))} {shlex.quote(str(src))}"
        return (
            f"__DOCS_STATE={shlex.quote(str(state))}\n{_SAVE}"
            f'source "$__DOCS_STATE"\n'
            "trap '__docs_save' EXIT\n"
            "set -euo pipefail\n"
            f"{code}\n"
        )

    def _run(self, block: Block, state: Path) -> Outcome:
        script = self._script(block, state)
        start = time.monotonic()
        if block.background:
            return self._start_background(block, script, start)
        proc = subprocess.Popen(
            ["bash", "-c", script],
            cwd=self.root,
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=self.timeout)
            code = proc.returncode
            note = ""
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, _ = proc.communicate()
            code, note = -1, f"timed out after {self.timeout:.0f} s"
        _kill_group(proc)  # anything the block left running in the background
        text = out.decode("utf-8", "replace")
        if not note and code != block.exit:
            note = f"exit {code}, expected {block.exit}"
        if not note and "Traceback (most recent call last)" in text:
            note = "a traceback in the output"
        seconds = time.monotonic() - start
        return Outcome(block, code, text, seconds, note or f"exit {code}", failed=bool(note))

    def _start_background(self, block: Block, script: str, start: float) -> Outcome:
        log = self.base / f"background-{block.page.replace('/', '_')}-{block.line}.log"
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                ["bash", "-c", script.replace("trap '__docs_save' EXIT\n", "")],
                cwd=self.root,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._background.append((block, proc, log))
        wants_ready = "start-label-studio.sh" in block.code
        deadline = time.monotonic() + self.timeout
        note = ""
        while True:
            text = log.read_text(encoding="utf-8", errors="replace")
            if proc.poll() is not None:
                note = f"the background process ended (exit {proc.returncode}) before it was ready"
                break
            if wants_ready and READY_LINE in text:
                break
            if not wants_ready and _answers(f"http://127.0.0.1:{self.port}/health"):
                break
            if time.monotonic() > deadline:
                note = f"not ready after {self.timeout:.0f} s"
                break
            time.sleep(0.5)
        if not note and "Traceback (most recent call last)" in text:
            note = "a traceback in the output"
        seconds = time.monotonic() - start
        return Outcome(block, proc.returncode, text, seconds, note or "ready", failed=bool(note))

    def stop_background(self) -> None:
        """Stop every background block's process group (TERM, then KILL after 20 s)."""
        while self._background:
            _, proc, _ = self._background.pop()
            _kill_group(proc)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """TERM the process group `proc` leads, KILL it if still there after 20 s."""
    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                proc.poll()
                return
            proc.poll()
            time.sleep(0.2)
    proc.poll()


class BlockFailed(AssertionError):
    """A block ended with the wrong exit code (or a traceback, or never got ready)."""

    def __init__(self, failed: Outcome, outcomes: list[Outcome]) -> None:
        self.failed = failed
        self.outcomes = outcomes
        b = failed.block
        lines = failed.output.rstrip().splitlines()
        if len(lines) > 50:  # the first lines often say what went wrong, the last ones where
            lines = [*lines[:12], f"[... {len(lines) - 42} lines ...]", *lines[-30:]]
        tail = "\n".join(lines)
        super().__init__(
            f"{b.where}: {failed.note}\n--- command ---\n{b.command(6)}\n--- output ---\n{tail}"
        )


def timings(outcomes: list[Outcome]) -> Iterator[str]:
    """One line per block: where, seconds, how it went, its first line."""
    for o in outcomes:
        first = o.block.command(1).splitlines()[0] if o.block.code.strip() else ""
        yield f"  {o.block.where:<34} {o.seconds:7.1f} s  {o.note[:40]:<40} {first[:60]}"
