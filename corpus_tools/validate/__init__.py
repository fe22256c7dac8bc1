"""`corpus validate`: Label Studio exports checked for structure and meaning.

Accepts JSON array exports from the UI, JSONL, and the folder `corpus ls pull` writes, in any
mix. Each task is checked against `ls-task.schema.json` (fast validator for the pass, the
reference `jsonschema` for the messages on failure), then for meaning against the scheme, its
own text and the articles table (`checks`). Nothing stops at the first problem: every file,
task and well-formed result is checked, and each problem is a located `Finding`.

Across tasks: duplicate JSON keys (`keys`), and one task (id or article) or annotation id
read twice, in one file or two.

Memory stays nearly flat however large the export: tasks are streamed one at a time
(`reader`); what stays is the ids that find a task read twice (~0.45 KB per task).

A task made elsewhere (no `text_sha256`: an adopted project's) is checked against its own
text, and tied to the articles table by its article id and the sha256 of that text
(`text-not-tied` when it cannot be, `stale-annotation` when the article's text differs).

When build/articles.parquet is missing, each task's text is still checked against its own
`text_sha256`, and one `article-checks-skipped` warning says that unknown and stale articles
were not checked (validation does not build the articles table on the fly: that is
`corpus ingest`'s job, and CI should run it first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corpus_tools.validate.engine import (
        SLUGS,
        TaskSink,
        load_article_hashes,
        validate,
    )
    from corpus_tools.validate.engine import (
        STAT_KEYS as STAT_KEYS,
    )
    from corpus_tools.validate.engine import (
        run as run,
    )

__all__ = ["SLUGS", "TaskSink", "load_article_hashes", "validate"]

_ENGINE = frozenset({"SLUGS", "STAT_KEYS", "TaskSink", "load_article_hashes", "run", "validate"})


def __getattr__(name: str) -> Any:
    # The engine (jsonschema_rs, msgspec, the checks) loads on first use of its names.
    if name in _ENGINE:
        from corpus_tools.validate import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
