"""Render the CLI reference page from the commands' own help (kept in sync by a test).

Regenerate with: python -m corpus_tools.cli._reference docs/cli.md
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from corpus_tools.cli.app import app

START = "<!-- cli-reference:start -->"
END = "<!-- cli-reference:end -->"
WIDTH = 100


def iter_commands() -> Iterator[tuple[str, Any]]:
    """(full name, click command) for every leaf command, in help order."""
    root = typer.main.get_command(app)

    def walk(prefix: str, cmd: Any) -> Iterator[tuple[str, Any]]:
        if hasattr(cmd, "list_commands"):
            ctx = cmd.context_class(cmd, info_name=prefix)
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None and not getattr(sub, "hidden", False):
                    yield from walk(f"{prefix} {name}", sub)
        else:
            yield prefix, cmd

    yield from walk("corpus", root)


def help_text(name: str, cmd: Any) -> str:
    """A command's --help text at a fixed width (independent of the terminal)."""
    ctx = cmd.context_class(cmd, info_name=name, terminal_width=WIDTH, max_content_width=WIDTH)
    return str(cmd.get_help(ctx)).rstrip()


def render() -> str:
    """The Markdown between the reference markers."""
    parts = [START, ""]
    root = typer.main.get_command(app)
    parts += ["```text", help_text("corpus", root), "```", ""]
    for name, cmd in iter_commands():
        parts += [f"## `{name}`", "", "```text", help_text(name, cmd), "```", ""]
    parts.append(END)
    return "\n".join(parts)


def replace_in(readme: str) -> str:
    """`readme` with its reference section regenerated."""
    i, j = readme.index(START), readme.index(END) + len(END)
    return readme[:i] + render() + readme[j:]


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/cli.md")
    target.write_text(replace_in(target.read_text(encoding="utf-8")), encoding="utf-8")
