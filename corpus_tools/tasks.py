"""`corpus tasks`: articles become Label Studio import JSON, with pre-annotations.

One task per article. `data` carries `article_id`, `text_sha256`, `title`, `outlet`,
`published`, `url` and the exact `text` (never normalised after ingest, so offsets computed
here and by annotators index the same string). Each pre-annotator adds one prediction
(`model_version`, `score`, `result`) whose regions have the same shape as annotations; region
ids are unique within a task. Tasks are written as one JSON array, sorted by `article_id`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from corpus_tools import store
from corpus_tools.config import ENTITIES_NAME, TEXT_NAME, CorpusConfig
from corpus_tools.errors import DataError
from corpus_tools.model import Article, PredictedSpan
from corpus_tools.preannotate import Preannotator, preannotators

TaskDict = dict[str, Any]
DATA_KEYS = ("article_id", "text_sha256", "title", "outlet", "published", "url", "text")


def task_data(article: Article) -> dict[str, Any]:
    """The `data` object of an article's task."""
    return {
        "article_id": article.article_id,
        "text_sha256": article.text_sha256,
        "title": article.title or "",
        "outlet": article.outlet or "",
        "published": article.published or "",
        "url": article.url or "",
        "text": article.text,
    }


def span_result(span: PredictedSpan, region_id: str) -> dict[str, Any]:
    """One predicted entity span as a Label Studio `labels` region."""
    return {
        "id": region_id,
        "from_name": ENTITIES_NAME,
        "to_name": TEXT_NAME,
        "type": "labels",
        "origin": "prediction",
        "score": span.score,
        "value": {
            "start": span.start,
            "end": span.end,
            "text": span.text,
            "labels": [span.label],
        },
    }


def prediction(article: Article, annotator: Preannotator, index: int) -> dict[str, Any]:
    """One pre-annotator's prediction for an article; checks every span against the text."""
    spans = annotator.predict(article)
    result = []
    for i, span in enumerate(spans):
        if not (0 <= span.start < span.end <= len(article.text)) or (
            article.text[span.start : span.end] != span.text
        ):
            raise DataError(
                f"pre-annotator {annotator.model_version!r} proposed span "
                f"[{span.start}, {span.end}) {span.text!r} that is not the article's text there",
                task_id=article.article_id,
                hint="Pre-annotators must return code-point offsets into article.text.",
            )
        result.append(span_result(span, f"p{index}-{i:04d}"))
    score = sum(s.score for s in spans) / len(spans) if spans else 0.0
    return {"model_version": annotator.model_version, "score": round(score, 4), "result": result}


def build_task(article: Article, annotators: Sequence[Preannotator]) -> TaskDict:
    """The import JSON of one article."""
    task: TaskDict = {"data": task_data(article)}
    if annotators:
        task["predictions"] = [prediction(article, a, i) for i, a in enumerate(annotators)]
    return task


def iter_tasks(
    articles: Iterable[Article], annotators: Sequence[Preannotator]
) -> Iterator[TaskDict]:
    """Tasks for `articles`, in the given order."""
    for article in articles:
        yield build_task(article, annotators)


def make_tasks(
    *,
    config: CorpusConfig,
    articles_path: Path | None = None,
    out: Path | None = None,
    preannotate: bool = True,
) -> dict[str, Any]:
    """Write the Label Studio import file for every article; return a summary.

    Reads `build/articles.parquet` (or `articles_path`), writes `build/tasks.json` (or `out`)
    atomically, sorted by article_id so the file is stable across runs.
    """
    src = articles_path or config.paths.articles_parquet
    dest = out or config.paths.tasks_json
    annotators = preannotators(config) if preannotate else []
    articles = sorted(store.iter_articles(src), key=lambda a: a.article_id)
    tasks = list(iter_tasks(articles, annotators))
    store.atomic_write_bytes(dest, store.dump_json(tasks))
    by_model: dict[str, int] = {a.model_version: 0 for a in annotators}
    labels: dict[str, int] = {}
    for task in tasks:
        for pred in task.get("predictions", []):
            by_model[pred["model_version"]] += len(pred["result"])
            for r in pred["result"]:
                label = r["value"]["labels"][0]
                labels[label] = labels.get(label, 0) + 1
    return {
        "path": str(dest),
        "tasks": len(tasks),
        "predicted_spans": sum(by_model.values()),
        "by_model": dict(sorted(by_model.items())),
        "by_label": dict(sorted(labels.items())),
    }
