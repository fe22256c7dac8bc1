"""`corpus agree` as one library call: read the pulled annotations, measure, write outputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from corpus_tools import store
from corpus_tools.agreement.core import AgreementReport, agree
from corpus_tools.agreement.markdown import render_markdown
from corpus_tools.agreement.plots import plot
from corpus_tools.config import CorpusConfig
from corpus_tools.constants import AGREEMENT_BOOTSTRAP, AGREEMENT_SEED
from corpus_tools.errors import DataError, UsageError
from corpus_tools.exports import iter_annotations, iter_raw_tasks

NO_ANNOTATIONS_HINT = (
    "Annotate the tasks in Label Studio, then `corpus ls pull`. If a pull emptied annotations "
    "that existed before, restore them from version control (`git restore annotations/`)."
)


def none_annotated(tasks: int) -> str:
    """`none of the 14 tasks has an annotation` (or its singular)."""
    if tasks == 1:
        return "the only task has no annotation"
    return f"none of the {tasks} tasks has an annotation"


def measure(
    *,
    config: CorpusConfig,
    paths: list[Path] | None = None,
    bootstrap: int = AGREEMENT_BOOTSTRAP,
    seed: int = AGREEMENT_SEED,
    markdown: Path | None = None,
    plots: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[AgreementReport, list[Path]]:
    """Agreement over the annotations in `paths` (default: the corpus's annotations folder).

    Token-level entity figures use build/articles.parquet when it exists. Writes the Markdown
    report to `markdown` and PNG plots into `plots` when given; returns the report and the
    files written.
    """
    sources = paths or [config.paths.annotations]
    for p in sources:
        if not Path(p).exists():
            raise UsageError(
                f"{p}: no such file or folder",
                path=str(p),
                hint="Pull annotations with `corpus ls pull` first, or pass export files.",
            )
    annotations = list(iter_annotations(sources, config.scheme))
    if not annotations:
        where = ", ".join(str(p) for p in sources)
        tasks = sum(1 for _ in iter_raw_tasks(sources))
        if not tasks:
            raise UsageError(
                f"no annotations in {where}: it holds no Label Studio tasks",
                hint="Pull annotations with `corpus ls pull` first, or pass export files.",
            )
        raise DataError(
            f"{none_annotated(tasks)} in {where}: there is no agreement to measure",
            hint=NO_ANNOTATIONS_HINT,
        )
    articles_path = config.paths.articles_parquet
    articles = store.load_articles(articles_path) if articles_path.is_file() else None
    report = agree(
        config=config,
        annotations=annotations,
        articles=articles,
        bootstrap=bootstrap,
        seed=seed,
        progress=progress,
    )
    written: list[Path] = []
    if markdown is not None:
        store.atomic_write_text(markdown, render_markdown(report))
        written.append(markdown)
    if plots is not None:
        written += plot(report, plots)
    return report, written
