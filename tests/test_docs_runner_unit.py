"""The docs runner's own tests: how it reads fences and markers, and how it runs a page.

The parser cases are small Markdown texts; the session cases run a few-line page on a tiny git
repository of their own (seconds, no Label Studio).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.docs_runner import (
    REPO,
    BlockFailed,
    DocsError,
    DocsSession,
    parse_page,
    runs_test_suite,
    with_port,
)


def blocks(text: str) -> list[tuple[int, str, str]]:
    return [(b.line, b.lang, b.code) for b in parse_page(text, "p.md")]


# --- fences --------------------------------------------------------------------------------


def test_backtick_and_tilde_fences_with_info_strings_and_line_numbers() -> None:
    text = (
        "# Title\n\n"
        "```bash\necho one\n```\n\n"
        "~~~ bash title=two\necho two\n~~~\n"
        "```\nplain\n```\n"
        "````text\n```bash\nnot a fence of its own\n```\n````\n"
    )
    assert blocks(text) == [
        (3, "bash", "echo one"),
        (7, "bash", "echo two"),
        (10, "", "plain"),
        (13, "text", "```bash\nnot a fence of its own\n```"),
    ]


def test_a_fence_closes_only_on_its_own_character_and_length() -> None:
    text = "~~~bash\necho a\n```\necho b\n~~~~\n\n```bash\n``\n```\n"
    assert blocks(text) == [(1, "bash", "echo a\n```\necho b"), (7, "bash", "``")]


def test_indented_fence_in_a_list_loses_its_indentation() -> None:
    text = "1. Start the server:\n\n   ```bash\n   cd build\n     echo indented\n   ```\n2. Next.\n"
    assert blocks(text) == [(3, "bash", "cd build\n  echo indented")]


def test_unclosed_fence_runs_to_the_end_and_backticks_in_info_are_no_fence() -> None:
    assert blocks("``` `inline` ```\n\n```bash\necho a\n") == [(3, "bash", "echo a")]


# --- markers -------------------------------------------------------------------------------


def test_stacked_markers_mix_with_other_comments() -> None:
    text = (
        "<!-- docs-run: exit 2 -->\n"
        "<!-- main-command -->\n"
        "<!--docs-run:python-->\n"
        "```python\nprint(1)\n```\n"
        "<!-- test-command -->\n"
        "<!-- docs-run: skip runs the test suite -->\n"
        "```bash\n.venv/bin/python -m pytest\n```\n"
        "<!-- docs-run: hub -->\n"
        "```bash\n.venv/bin/corpus publish 0.1.0 --hub\n```\n"
        "<!-- docs-run: background -->\n"
        "```bash\nscripts/start-label-studio.sh\n```\n"
    )
    py, test, hub, bg = parse_page(text, "p.md")
    assert (py.line, py.python, py.exit, py.runs) == (4, True, 2, True)
    assert (test.skip, test.runs) == ("runs the test suite", False)
    assert hub.skip is not None and "Hugging Face Hub" in hub.skip and not hub.runs
    assert bg.background and bg.runs and bg.exit == 0


def test_what_runs_bash_and_marked_python_only() -> None:
    text = (
        "```python\nprint(1)\n```\n```console\n$ ls\n```\n```sh\nls\n```\n```text\nls\n```\n"
        "```bash\nls\n```\n"
    )
    assert [b.runs for b in parse_page(text, "p.md")] == [False, False, False, False, True]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("<!-- docs-run: skip -->\n```bash\nls\n```\n", "needs a reason"),
        ("<!-- docs-run: exit two -->\n```bash\nls\n```\n", "needs an exit code"),
        ("<!-- docs-run: python -->\n```bash\nls\n```\n", "`docs-run: python` on a ```bash"),
        ("<!-- docs-run: sometimes -->\n```bash\nls\n```\n", "unknown docs-run directive"),
        ("<!-- docs-run: background now -->\n```bash\nls\n```\n", "takes no argument"),
        ("<!-- docs-run: background -->\n<!-- docs-run: exit 1 -->\n```bash\nx\n```\n", "exit"),
        # A blank line between the marker and the fence: it steers nothing.
        ("<!-- docs-run: skip installs -->\n\n```bash\nls\n```\n", "p.md:1: a docs-run marker"),
        ("text\n<!-- docs-run: hub -->\nmore text\n", "p.md:2: a docs-run marker"),
        ("<!-- docs-run skip installs -->\n```bash\nls\n```\n", "p.md:1: malformed"),
    ],
)
def test_wrong_markers_are_refused_with_their_line(text: str, says: str) -> None:
    with pytest.raises(DocsError) as err:
        parse_page(text, "p.md")
    assert says in str(err.value)


# --- the test suite is never run by the runner -----------------------------------------------


@pytest.mark.parametrize(
    ("code", "runs"),
    [
        (".venv/bin/python -m pytest", True),
        ("scripts/setup.sh --test && .venv/bin/python -m pytest", True),
        (".venv/bin/pytest tests/test_cli.py -q", True),
        ("cd x; pytest", True),
        ("CORPUS_SCREENSHOT_DIR=docs .venv/bin/python -m pytest tests/test_browser.py", True),
        ("# .venv/bin/python -m pytest, in a comment", False),
        (".venv/bin/corpus check   # CI also runs pytest", False),
        ("cat tests/test_pytest_style.py", False),
        (".venv/bin/pip install pytest-timeout", False),
    ],
)
def test_runs_test_suite(code: str, runs: bool) -> None:
    assert runs_test_suite(code) is runs


def test_an_unmarked_test_command_is_refused_naming_page_and_line() -> None:
    text = "Run the tests:\n\n```bash\nscripts/setup.sh --test && .venv/bin/python -m pytest\n```\n"
    with pytest.raises(DocsError, match=r"README\.md:3: this block runs the test suite"):
        parse_page(text, "README.md")
    marked = "<!-- docs-run: skip runs the test suite -->\n" + text.split("\n\n", 1)[1]
    assert not parse_page(marked, "README.md")[0].runs


def test_port_8080_is_replaced_on_loopback_only() -> None:
    code = "curl http://127.0.0.1:8080/health localhost:8080 example.org:8080 127.0.0.1:80800"
    assert with_port(code, 5123) == (
        "curl http://127.0.0.1:5123/health localhost:5123 example.org:8080 127.0.0.1:80800"
    )


# --- running a page on a tiny repository -----------------------------------------------------


@pytest.fixture
def session(tmp_path: Path) -> Iterator[DocsSession]:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "annotations").mkdir()
    (repo / "annotations" / "1.json").write_text("{}\n")
    (repo / "scripts" / "setup.sh").write_text("#!/bin/sh\necho installing; exit 9\n")
    (repo / "build").mkdir()
    (repo / "build" / "stale.txt").write_text("not committed\n")
    (repo / "new-page.md").write_text("new, not yet committed\n")
    (repo / ".gitignore").write_text("/build/\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run(
        [*git, "add", "--", ".gitignore", "annotations", "scripts"], cwd=repo, check=True
    )
    subprocess.run([*git, "commit", "-qm", "t"], cwd=repo, check=True)
    (repo / ".venv").symlink_to(REPO / ".venv")
    s = DocsSession(tmp_path / "run", repo=repo, timeout=60)
    s.make_copy()
    try:
        yield s
    finally:
        s.stop_background()  # nothing left running, even when a test fails


def test_exports_cd_and_variables_carry_over_and_exit_codes_are_checked(
    session: DocsSession,
) -> None:
    page = (
        "```bash\nscripts/setup.sh && echo setup-ok\nexport GREETING=hello\n"
        "mkdir -p sub && cd sub\n"
        'name=world\nshout() { echo "$1!"; }\n```\n'
        '<!-- docs-run: exit 3 -->\n```bash\necho "$GREETING $name from $(basename "$PWD")"\n'
        "shout hi\nexit 3\n```\n"
        "<!-- docs-run: python -->\n```python\nimport os, pathlib\n"
        "env = os.environ\n"
        "print(env['GREETING'], pathlib.Path.cwd().name, env['HF_HUB_OFFLINE'])\n```\n"
        '```bash\necho "$HOME" "$TMPDIR"; cat ../new-page.md; ls ../build 2>&1 || true\n```\n'
    )
    out = session.run_page("guide.md", page)
    assert [o.code for o in out] == [0, 3, 0, 0]
    assert "setup-ok" in out[0].output and "installing" not in out[0].output
    assert "hello world from sub" in out[1].output and "hi!" in out[1].output
    assert out[2].output.split() == ["hello", "sub", "1"]
    home, tmp = out[3].output.split()[:2]
    assert Path(home) == session.home and Path(tmp) == session.tmp
    # A new file not ignored is copied; the ignored build/ of the repository is not.
    assert "new, not yet committed" in out[3].output and "No such file" in out[3].output


def test_a_failure_names_page_line_command_and_output_and_stops_the_page(
    session: DocsSession,
) -> None:
    page = (
        "intro\n\n```bash\necho first\n```\n\n"
        "```bash\necho about to fail\nfalse\necho never\n```\n```bash\ntouch ran-after\n```\n"
    )
    with pytest.raises(BlockFailed) as err:
        session.run_page("docs/x.md", page)
    message = str(err.value)
    assert message.startswith("docs/x.md:7: exit 1, expected 0")
    assert "echo about to fail" in message and message.endswith("output ---\nabout to fail")
    assert "never" not in err.value.failed.output
    assert not (session.root / "ran-after").exists()
    # An expected refusal that succeeds fails too; so does a traceback with exit 0.
    with pytest.raises(BlockFailed, match=r"x\.md:2: exit 0, expected 2"):
        session.run_page("x.md", "<!-- docs-run: exit 2 -->\n```bash\ntrue\n```\n")
    tb = "```bash\necho 'Traceback (most recent call last):' >&2\n```\n"
    with pytest.raises(BlockFailed, match=r"x\.md:1: a traceback in the output"):
        session.run_page("x.md", tb)


def test_background_block_is_waited_for_and_stopped_with_the_page(session: DocsSession) -> None:
    page = (
        "<!-- docs-run: background -->\n```bash\nmkdir -p srv && echo ok > srv/health\n"
        'exec python3 -m http.server "$PORT" --bind 127.0.0.1 --directory srv\n```\n'
        "```bash\ncurl -fs http://127.0.0.1:8080/health\n```\n"
    )
    out = session.run_page("bg.md", page)
    assert out[0].note == "ready" and out[1].output.strip() == "ok"
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{session.port}/health", timeout=2)


def test_changed_annotations_are_seen_and_restored(session: DocsSession) -> None:
    page = (
        "```bash\nrm annotations/1.json && echo new > annotations/2.json\n"
        "mkdir -p adjudication/x && echo d > adjudication/x/decisions.json\n```\n"
    )
    session.run_page("x.md", page)
    changed = session.changed("annotations", "adjudication").splitlines()
    assert sorted(changed) == [
        " D annotations/1.json",
        "?? adjudication/x/decisions.json",
        "?? annotations/2.json",
    ]
    session.restore("annotations", "adjudication")
    assert session.changed("annotations", "adjudication") == ""
    assert (session.root / "annotations" / "1.json").read_text() == "{}\n"
    assert not (session.root / "adjudication").exists()


def test_a_long_output_shows_its_head_and_tail(session: DocsSession) -> None:
    page = '```bash\nfor i in $(seq 1 100); do echo "line $i"; done\nexit 4\n```\n'
    with pytest.raises(BlockFailed) as err:
        session.run_page("x.md", page)
    shown = str(err.value).split("--- output ---\n", 1)[1].splitlines()
    assert shown[:12] == [f"line {i}" for i in range(1, 13)]
    assert shown[12] == "[... 58 lines ...]"
    assert shown[13:] == [f"line {i}" for i in range(71, 101)]


def test_the_environment_is_a_newcomers(
    session: DocsSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    venv_bin = str(REPO / ".venv" / "bin")
    monkeypatch.setenv("PATH", f"{venv_bin}:/usr/bin:/bin")
    monkeypatch.setenv("CORPUS_CONFIG", "/elsewhere/corpus.toml")
    env = session.env()
    assert env["PATH"] == "/usr/bin:/bin"  # an activated venv is not the reader's
    assert "CORPUS_CONFIG" not in env and "VIRTUAL_ENV" not in env
    assert (env["HF_HUB_OFFLINE"], env["LANG"], env["PORT"]) == ("1", "C.UTF-8", str(session.port))
