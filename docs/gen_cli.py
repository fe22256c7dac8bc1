"""mkdocs-gen-files script: docs/cli.md from the typer app, checked against the committed page.

The page is every command's --help (corpus_tools.cli._reference). The site always gets the
fresh text; a committed docs/cli.md that differs is a warning, so `mkdocs build --strict` fails
and names the command that regenerates it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import mkdocs_gen_files

from corpus_tools.cli import _reference

PAGE = "cli.md"
log = logging.getLogger("mkdocs.plugins.gen_cli")

committed = Path(__file__).resolve().parent / PAGE
fresh = _reference.replace_in(committed.read_text(encoding="utf-8"))
if fresh != committed.read_text(encoding="utf-8"):
    log.warning(
        "docs/%s is stale (a command's --help changed): "
        "run `.venv/bin/python -m corpus_tools.cli._reference docs/%s`",
        PAGE,
        PAGE,
    )
with mkdocs_gen_files.open(PAGE, "w") as f:
    f.write(fresh)
