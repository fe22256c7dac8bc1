"""The thin typer CLI over the library (the only package that imports typer)."""

from corpus_tools.cli.app import app, main

__all__ = ["app", "main"]
