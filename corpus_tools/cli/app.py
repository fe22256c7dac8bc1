"""The `corpus` command: importing this module registers every command on the app."""

from __future__ import annotations

from corpus_tools.cli import (  # noqa: F401  (each module registers its commands)
    adjudicate,
    agree,
    ingest,
    init,
    ls,
    model,
    pipeline,
    release,
    sample,
    schemas,
    serve,
    tasks,
    uptake,
    validate,
)
from corpus_tools.cli._common import app, main

__all__ = ["app", "main"]
