"""`corpus tasks`: articles become Label Studio import JSON, with pre-annotations.

One task per article. `data` carries `article_id`, `text_sha256`, `title`, `outlet`,
`published`, `url` and the exact `text` (never normalised after ingest, so offsets computed
here and by annotators index the same string); the article id and the text sit under the
corpus's own data keys (`[scheme.names] article_id_field`, `text_field`), and pre-annotated
regions name its entity control and <Text> object (`entities`, `text`), so the tasks fit the
labeling config the corpus uses. Each pre-annotator adds one prediction
(`model_version`, `score`, `result`) whose regions have the same shape as annotations; region
ids are unique within a task. Tasks are written as one JSON array, sorted by `article_id`.

With `suggest` (`corpus tasks --suggest MODEL`), a trained bundle under build/models replaces
the rule pre-annotator and the plug-ins: each task gets ONE prediction, the Suggester's
(model, story projection and learned gazetteer merged; see `corpus_tools.models.suggest`),
because Label Studio's Data Manager sorts on "Prediction score", the mean over a task's
predictions, which a second prediction would blur. The task's `data.suggest_uncertainty` is
the suggestion's uncertainty (the prediction's score is 1 minus it), and the file is ordered
most uncertain first (ties by article_id), the order `corpus ls push` imports in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from corpus_tools import store
from corpus_tools.config import ControlNames, CorpusConfig
from corpus_tools.errors import DataError, UsageError
from corpus_tools.model import Article, PredictedSpan
from corpus_tools.preannotate import Preannotator, preannotators

TaskDict = dict[str, Any]
DATA_KEYS = ("article_id", "text_sha256", "title", "outlet", "published", "url", "text")
UNCERTAINTY_KEY = "suggest_uncertainty"
"""The extra `data` key of a task made with --suggest (the validator's task schema allows it)."""
ORDER_RULE = "suggest_uncertainty descending (most uncertain first), then article_id"


def task_data(article: Article, names: ControlNames | None = None) -> dict[str, Any]:
    """The `data` object of an article's task: the article id and the text under the
    corpus's data keys (`names`; default: `article_id` and `text`), in the order of
    DATA_KEYS."""
    n = names or ControlNames()
    return {
        n.article_id_field: article.article_id,
        "text_sha256": article.text_sha256,
        "title": article.title or "",
        "outlet": article.outlet or "",
        "published": article.published or "",
        "url": article.url or "",
        n.text_field: article.text,
    }


def span_result(
    span: PredictedSpan, region_id: str, names: ControlNames | None = None
) -> dict[str, Any]:
    """One predicted entity span as a Label Studio `labels` region of the corpus's entity
    control (`names`; default: the one `corpus tasks` generates)."""
    n = names or ControlNames()
    return {
        "id": region_id,
        "from_name": n.entities,
        "to_name": n.text,
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


def prediction(
    article: Article, annotator: Preannotator, index: int, names: ControlNames | None = None
) -> dict[str, Any]:
    """One pre-annotator's prediction for an article; checks every span against the text.
    Regions name the controls in `names` (default: those `corpus tasks` generates)."""
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
        result.append(span_result(span, f"p{index}-{i:04d}", names))
    score = sum(s.score for s in spans) / len(spans) if spans else 0.0
    return {"model_version": annotator.model_version, "score": round(score, 4), "result": result}


def build_task(
    article: Article, annotators: Sequence[Preannotator], names: ControlNames | None = None
) -> TaskDict:
    """The import JSON of one article, in the corpus's names (`names`)."""
    task: TaskDict = {"data": task_data(article, names)}
    if annotators:
        task["predictions"] = [prediction(article, a, i, names) for i, a in enumerate(annotators)]
    return task


def iter_tasks(
    articles: Iterable[Article],
    annotators: Sequence[Preannotator],
    names: ControlNames | None = None,
) -> Iterator[TaskDict]:
    """Tasks for `articles`, in the given order."""
    for article in articles:
        yield build_task(article, annotators, names)


def check_one_task_per_article(config: CorpusConfig) -> None:
    """UsageError when the corpus asks stance with one control whose target is in the task
    data (`[scheme.names] stance`): such a project has a task per (article, target), made
    by its own tooling, and nothing here says which targets an article is asked about.

    One task per article and target was considered and refused: every target's task would
    ask the article's entities and claims again, and adjudication keeps one decision per
    article, so the duplicated span work would either be wasted or conflict.
    """
    names = config.scheme.names
    if names.stance:
        raise UsageError(
            f"this corpus asks stance with one control ({names.stance!r}) on the target in "
            f"each task's data ({names.stance_target_field!r}): `corpus tasks` makes one task "
            "per article and cannot know which target each task should ask about",
            hint="Keep making tasks the project's way; then `corpus ingest` its Label Studio "
            "export (format labelstudio) and `corpus ls import` the export for validation, "
            "agreement and release.",
        )


def make_tasks(
    *,
    config: CorpusConfig,
    articles_path: Path | None = None,
    out: Path | None = None,
    preannotate: bool = True,
    suggest: str | Path | None = None,
    gold: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write the Label Studio import file for every article; return a summary.

    Reads `build/articles.parquet` (or `articles_path`), writes `build/tasks.json` (or `out`)
    atomically, sorted by article_id so the file is stable across runs. With `suggest` (a
    model version under build/models, a folder, or "latest") see `suggest_tasks`.
    """
    src = articles_path or config.paths.articles_parquet
    dest = out or config.paths.tasks_json
    check_one_task_per_article(config)
    if suggest is None and gold is not None:
        raise UsageError("--gold is only used with --suggest", hint="Add --suggest MODEL.")
    if suggest is not None and not preannotate:
        raise UsageError(
            "--suggest writes the model's predictions, --no-preannotate asks for none",
            hint="Drop one of the two options.",
        )
    if suggest is not None:
        return suggest_tasks(
            config=config, model=suggest, src=src, dest=dest, gold=gold, progress=progress
        )
    annotators = preannotators(config) if preannotate else []
    articles = sorted(store.iter_articles(src), key=lambda a: a.article_id)
    names = config.scheme.names
    tasks = list(iter_tasks(articles, annotators, names))
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


def suggest_tasks(
    *,
    config: CorpusConfig,
    model: str | Path,
    src: Path,
    dest: Path,
    gold: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Tasks with one Suggester prediction each, most uncertain first; return a summary.
    UsageError for a corpus whose stance control takes its target from the task data
    (`check_one_task_per_article`).

    The story siblings' gold comes from `gold` (default build/gold.jsonl); without any gold,
    story projection is skipped and the summary says so under `notes`.
    """
    from corpus_tools.models import bundle as bundles
    from corpus_tools.models.data import TrainingSet, load_training_set
    from corpus_tools.models.suggest import SOURCES, Suggester

    check_one_task_per_article(config)
    names = config.scheme.names
    bundle = bundles.load(config, model)
    notes: list[str] = []
    siblings: TrainingSet | None
    try:
        siblings = load_training_set(config, gold)
    except UsageError as exc:
        if gold is not None:
            raise UsageError(
                f"--gold {gold}: no gold for story projection ({exc.message})",
                hint="Pass a gold.jsonl or a release folder dist/VERSION, or leave --gold out.",
                path=str(gold),
            ) from None
        siblings = None
        notes.append(f"{exc.message}: story projection skipped")
    if siblings is not None and not len(siblings):
        notes.append(f"{siblings.source} has no usable gold: story projection skipped")
    articles = sorted(store.iter_articles(src), key=lambda a: a.article_id)
    suggester = Suggester(bundle, config, siblings)
    notes.extend(suggester.notes)  # what the suggestions leave out, and why (the claim gate)
    tasks: list[TaskDict] = []
    counts = {s: 0 for s in SOURCES} | {"agreed": 0}
    by_label: dict[str, int] = {}
    for i, (article, s) in enumerate(
        zip(articles, suggester.predict_many(articles), strict=True), 1
    ):
        data = task_data(article, names)
        data[UNCERTAINTY_KEY] = s.uncertainty
        tasks.append({"data": data, "predictions": [s.prediction]})
        for k, n in s.counts.items():
            counts[k] = counts.get(k, 0) + n
        for r in s.prediction["result"]:
            if r["type"] == "labels":
                label = r["value"]["labels"][0]
                by_label[label] = by_label.get(label, 0) + 1
        if progress:
            progress(i, len(articles))
    aid = names.article_id_field
    tasks.sort(key=lambda t: (-t["data"][UNCERTAINTY_KEY], t["data"][aid]))
    store.atomic_write_bytes(dest, store.dump_json(tasks))
    uncertainties = [t["data"][UNCERTAINTY_KEY] for t in tasks]
    return {
        "path": str(dest),
        "tasks": len(tasks),
        "model_version": bundle.version,
        "predicted_spans": sum(by_label.values()),
        "by_model": {bundle.version: sum(by_label.values())} if tasks else {},
        "by_label": dict(sorted(by_label.items())),
        "by_source": counts,
        "siblings": siblings.source if siblings is not None else None,
        "order": ORDER_RULE,
        "uncertainty": {
            "max": max(uncertainties, default=None),
            "min": min(uncertainties, default=None),
            "mean": round(sum(uncertainties) / len(uncertainties), 4) if tasks else None,
        },
        "first": [t["data"][aid] for t in tasks[:5]],
        "notes": notes,
    }
