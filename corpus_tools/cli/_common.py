"""What every command shares: the typer apps, option types, and error-to-exit-code mapping.

Only `corpus_tools.cli` imports typer. Each command module registers its commands on `app`
(or `ls_app`) and calls one library function.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from typer._click.core import Context  # typer vendors its own click
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup

from corpus_tools.constants import ENGINES
from corpus_tools.errors import (
    FILE_SYSTEM_ERRNOS,
    CorpusError,
    FileSystemError,
    UsageError,
    printable,
)

if TYPE_CHECKING:
    from rich.console import Console

    from corpus_tools.config import CorpusConfig

DEBUG_ENV = "CORPUS_DEBUG"


class _CorpusGroup(TyperGroup):
    """The one place where errors become messages and exit codes, for `main` and CliRunner.

    CorpusError -> its message and exit code; an OSError that is an ordinary failure of the
    file system (disk full, name too long, permission denied, ...), or a SQLite error that is
    one (a scratch database on a full disk) -> FileSystemError, exit 2;
    with `--json` (or `--format json`) the error is printed as JSON on stdout, also for
    click's own usage errors. Anything else is a bug and keeps its traceback.
    """

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGV_META] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClickUsageError as exc:
            if not wants_json(ctx):
                raise
            usage = UsageError(exc.format_message(), hint="See the command's --help.")
            raise typer.Exit(report_error(usage, as_json=True)) from None
        except Exception as exc:
            err = known_error(exc)
            if err is None or os.environ.get(DEBUG_ENV):
                raise
            raise typer.Exit(report_error(err, as_json=wants_json(ctx))) from None


def known_error(exc: Exception) -> CorpusError | None:
    """The CorpusError that `exc` is or stands for; None for anything else (a bug)."""
    if isinstance(exc, CorpusError):
        return exc
    # shutil and sqlite3 are looked up, not imported: an error of theirs means they were.
    shutil, sqlite3 = sys.modules.get("shutil"), sys.modules.get("sqlite3")
    if shutil is not None and isinstance(exc, shutil.Error):  # copytree's failed files (no errno)
        return FileSystemError.from_copy_error(exc)
    if isinstance(exc, OSError):
        return FileSystemError.from_os_error(exc) if exc.errno in FILE_SYSTEM_ERRNOS else None
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):  # release's scratch database
        return FileSystemError.from_sqlite_error(exc)
    return None


_ARGV_META = "corpus_tools.argv"


def wants_json(ctx: Context) -> bool:
    """True when the command line asks for JSON output (`--json`, `--format json`)."""
    args = ctx.meta.get(_ARGV_META, [])
    if "--" in args:
        args = args[: args.index("--")]
    for i, arg in enumerate(args):
        if arg in ("--json", "--format=json", "-fjson"):
            return True
        if arg in ("--format", "-f") and args[i + 1 : i + 2] == ["json"]:
            return True
    return False


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
model_app = typer.Typer(
    help="Models trained from the corpus's own gold: train, evaluate, and what suggestions did.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(model_app, name="model")


class _LazyConsole:
    """A rich Console made on first use: rich is imported by the first thing printed, not by
    every start-up (`--help` needs none of it)."""

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def get(self) -> Console:
        """The Console itself (for rich APIs that take one)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


console = cast("Console", _LazyConsole())
err_console = cast("Console", _LazyConsole(stderr=True))

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
# --engine and --address of the stages that run on Ray too (ingest, sample)
EngineChoice = Enum("EngineChoice", {e: e for e in ENGINES}, type=str)  # type: ignore[misc]
AddressOpt = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="With --engine ray: an existing Ray cluster (ray://head:10001, head:6379 or auto); "
        "default: a local Ray started for this command.",
    ),
]


def real_console(c: Console) -> Console:
    """The rich Console behind `console` or `err_console` (made now if it was not yet)."""
    return c.get() if isinstance(c, _LazyConsole) else c


def get_config(path: Path | None) -> CorpusConfig:
    """Load the corpus definition for a command."""
    from corpus_tools.config import load_config

    return load_config(path)


def shown(path: str | Path, root: Path | None = None) -> str:
    """A path as the user should see it in a "wrote/read PATH" message: relative to the
    working folder when it is inside it, else absolute; never relative to the corpus root.

    `root`: the folder a relative `path` is relative to (a library result that names files
    relative to the corpus root, like ingest's `output`); default the working folder.
    """
    from corpus_tools.store import display_path

    p = Path(path)
    if not p.is_absolute():
        p = (root if root is not None else Path.cwd()) / p
    return display_path(Path(os.path.normpath(p)))


def print_json(obj: Any) -> None:
    """Print `obj` as indented JSON on stdout (no colour, no wrapping)."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, default=str)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a file name that is not UTF-8: its bytes as \xNN text
        text = json.dumps(_printable_tree(obj), indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(text + "\n")


def _printable_tree(obj: Any) -> Any:
    if isinstance(obj, str):
        return printable(obj)
    if isinstance(obj, dict):
        return {_printable_tree(k): _printable_tree(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_printable_tree(v) for v in obj]
    return obj


def show_progress(quiet: bool) -> bool:
    """Progress bars only for people: not with --quiet, not when stderr is not a terminal."""
    return not quiet and sys.stderr.isatty()


@contextlib.contextmanager
def progress_bar(
    quiet: bool, what: str, total: int | None = None
) -> Iterator[Callable[[int, int], None] | None]:
    """A transient progress bar on stderr, only for people (see `show_progress`); yields the
    `progress(done, total)` callback the library functions take, or None."""
    if not show_progress(quiet):
        yield None
        return
    from rich.progress import Progress

    with Progress(console=real_console(err_console), transient=True) as bar:
        task = bar.add_task(what, total=total)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def report_error(exc: CorpusError, *, as_json: bool = False) -> int:
    """Print a CorpusError (where, what, what to do) and return its exit code.

    As text on stderr; with `as_json`, as `{"error": {...}, "exit_code": N}` on stdout.
    """
    if as_json:
        print_json({"error": exc.to_dict(), "exit_code": exc.exit_code})
        return exc.exit_code
    from rich.text import Text

    where = printable(exc.location())
    message = printable(exc.message)
    lines = [Text.assemble(("error: ", "bold red"), message)]
    if where and where not in message:
        lines.append(Text(f"  at: {where}"))
    if exc.hint:
        lines.append(Text(f"  hint: {printable(exc.hint)}"))
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
