"""Helpers shared by the scripts that annotate on a real Label Studio (annotate_sample.py,
make_adopt_sample.py): exact-search offsets, the UI's `value.text`, the private server and the
annotators' API clients. Imported by file name, the scripts/ folder being on sys.path (it is
the folder of the script that runs, and tests/test_adopt.py puts it there)."""

from __future__ import annotations

from pathlib import Path

import httpx

from corpus_tools.labelstudio_server import LocalServer

REPO = Path(__file__).resolve().parent.parent


def find(text: str, needle: str, nth: int = 0) -> int:
    """The code-point offset of the nth occurrence of `needle` (SystemExit when absent)."""
    pos = -1
    for _ in range(nth + 1):
        pos = text.find(needle, pos + 1)
        if pos < 0:
            raise SystemExit(f"not in the text: {needle!r}")
    return pos


def ui_text(text: str) -> str:
    """`value.text` as the Label Studio UI stores it: each CR or LF as backslash-n."""
    return text.replace("\r", "\\n").replace("\n", "\\n")


def start_server(work: Path) -> LocalServer:
    """A private Label Studio from the repository's .venv-ls, its data under `work`."""
    return LocalServer(
        ls_bin=REPO / ".venv-ls/bin/label-studio",
        cache_dir=REPO / ".cache",
        data_dir=work / "ls-data",
    ).start()


def api(url: str, token: str) -> httpx.Client:
    """An API client of the server at `url` as the user of `token`."""
    return httpx.Client(base_url=url, headers={"Authorization": f"Token {token}"}, timeout=60)
