"""What every command shares: the typer apps, option types, and error-to-exit-code mapping.

Only `corpus_tools.cli` imports typer. Each command module registers its commands on `app`
(or `ls_app`) and calls one library function.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from corpus_tools.config import CorpusConfig, load_config
from corpus_tools.errors import CorpusError

DEBUG_ENV = "CORPUS_DEBUG"


class _CorpusGroup(TyperGroup):
    """Maps CorpusError to a message and its exit code, for `main` and CliRunner alike."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CorpusError as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            raise typer.Exit(report_error(exc)) from None


app = typer.Typer(
    name="corpus",
    cls=_CorpusGroup,
    help="Build annotated news corpora: ingest → tasks → Label Studio → validate → agree → "
    "adjudicate → release.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
ls_app = typer.Typer(
    help="Talk to a Label Studio server: push the project and tasks, pull annotations.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(ls_app, name="ls")

console = Console()
err_console = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="CORPUS_CONFIG",
        help="corpus.toml to use (default: the nearest one in this or a parent folder).",
        dir_okay=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON for machines.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def get_config(path: Path | None) -> CorpusConfig:
    """Load the corpus definition for a command."""
    return load_config(path)


def print_json(obj: Any) -> None:
    """Print `obj` as indented JSON on stdout (no colour, no wrapping)."""
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def show_progress(quiet: bool) -> bool:
    """Progress bars only for people: not with --quiet, not when stderr is not a terminal."""
    return not quiet and sys.stderr.isatty()


def report_error(exc: CorpusError) -> int:
    """Print a CorpusError as a message (where, what, what to do) and return its exit code."""
    where = exc.location()
    lines = [Text.assemble(("error: ", "bold red"), exc.message)]
    if where and where not in exc.message:
        lines.append(Text(f"  at: {where}"))
    if exc.hint:
        lines.append(Text(f"  hint: {exc.hint}"))
    lines.append(Text(f"  (set {DEBUG_ENV}=1 for the traceback)", style="dim"))
    for line in lines:
        err_console.print(line, soft_wrap=True, highlight=False)
    return exc.exit_code


def main() -> None:
    """Console-script entry point."""
    app()


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[
        bool, typer.Option("--version", help="Show the version and exit.", is_eager=True)
    ] = False,
) -> None:
    """corpus: build annotated news corpora, from raw articles to a versioned dataset."""
    if version:
        from corpus_tools import __version__

        typer.echo(f"corpus-tools {__version__}")
        raise typer.Exit(0)
