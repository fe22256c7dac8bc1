"""The dispute queue as Label Studio tasks for the adjudication project."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from corpus_tools import store
from corpus_tools.agreement.core import latest_per_annotator, stance_per_task
from corpus_tools.config import CorpusConfig
from corpus_tools.errors import DataError
from corpus_tools.model import (
    Annotation,
    Article,
    Dispute,
)

DISPUTES_FILE = "disputes.json"


# --- the dispute queue as Label Studio tasks --------------------------------------------------


def dispute_to_dict(d: Dispute) -> dict[str, Any]:
    return {
        "dispute_id": d.dispute_id,
        "article_id": d.article_id,
        "layer": d.layer,
        "reason": d.reason,
        "target": d.target,
        "start": d.start,
        "end": d.end,
        "candidates": {
            c.annotator: (
                [s.label for s in c.stances]
                if d.layer == "stance"
                else [[x.start, x.end, x.label] for x in c.entities]
                if d.layer == "entities"
                else [[x.start, x.end, x.checkworthy, x.claimant] for x in c.claims]
            )
            for c in d.candidates
        },
    }


def annotation_result(
    ann: Annotation, config: CorpusConfig, *, target: str | None = None
) -> list[dict[str, Any]]:
    """An Annotation back as Label Studio result regions (the shape `exports` parses), in the
    corpus's control names (`[scheme.names]`): a claim is a region of the claims control
    with the claim label, which may be the entity control itself.

    With one stance control for every target (`[scheme.names] stance`), a task can carry one
    stance answer only: the one on `target` (the target the queue task's data names); the
    annotation's answers on other targets are left out.
    """
    scheme = config.scheme
    names = scheme.names
    out: list[dict[str, Any]] = []
    ent_ids: dict[tuple[int, int, str], str] = {}
    for i, e in enumerate(ann.entities):
        rid = f"e{i}"
        ent_ids.setdefault((e.start, e.end, e.text), rid)
        out.append(
            {
                "id": rid,
                "from_name": names.entities,
                "to_name": names.text,
                "type": "labels",
                "origin": "prediction",
                "value": {"start": e.start, "end": e.end, "text": e.text, "labels": [e.label]},
            }
        )
    for i, c in enumerate(ann.claims):
        rid = f"c{i}"
        where = {"start": c.start, "end": c.end, "text": c.text}
        out.append(
            {
                "id": rid,
                "from_name": names.claims,
                "to_name": names.text,
                "type": "labels",
                "origin": "prediction",
                "value": {**where, "labels": [names.claim_label]},
            }
        )
        if c.checkworthy:
            out.append(
                {
                    "id": rid,
                    "from_name": names.checkworthy,
                    "to_name": names.text,
                    "type": "choices",
                    "origin": "prediction",
                    "value": {**where, "choices": [c.checkworthy]},
                }
            )
        ent = next((k for k in ent_ids if c.claimant_region_id and k[2] == c.claimant), None)
        if ent is not None:
            out.append(
                {
                    "type": "relation",
                    "from_id": ent_ids[ent],
                    "to_id": rid,
                    "direction": "right",
                    "labels": [config.scheme.claimant_relation],
                }
            )
        elif c.claimant:
            out.append(
                {
                    "id": rid,
                    "from_name": names.claimant_text,
                    "to_name": names.text,
                    "type": "textarea",
                    "origin": "prediction",
                    "value": {**where, "text": [c.claimant]},
                }
            )
    for s in ann.stances:
        if names.stance and s.target != target:
            continue  # the one stance control answers the task's own target only
        out.append(
            {
                "from_name": scheme.stance_control(s.target),
                "to_name": names.text,
                "type": "choices",
                "origin": "prediction",
                "value": {"choices": [s.label]},
            }
        )
    return out


def dispute_tasks(
    *,
    config: CorpusConfig,
    disputes: Sequence[Dispute],
    annotations: Sequence[Annotation],
    articles: Mapping[str, Article],
) -> list[dict[str, Any]]:
    """One Label Studio task per article with open disputes, for the adjudication project.

    `data` has the normal task keys (in the corpus's data keys) plus `dispute_ids` and a
    readable `disputes` summary; `predictions` carry each annotator's full version of the
    article (model_version = the annotator's pseudonym), so the adjudicator picks or edits one
    and submits the decision.

    With one stance control for every target (`[scheme.names] stance`) the task also names its
    target in `data[stance_target_field]` (the target's name, which the question shows),
    because the control asks about the target the task's data names. Still one task per
    article, since adjudication keeps one decision per article: the target is the first
    (by id) with an open stance dispute, else the first the annotators answered; an article
    disputed on several targets gets its other stance disputes in a later round (they stay
    open, listed in `disputes`).
    """
    from corpus_tools.adjudicate.vote import current_annotations
    from corpus_tools.tasks import task_data

    names = config.scheme.names
    # one stance control: an annotator's answers from each task of the article, per target
    by_article, _ = latest_per_annotator(
        current_annotations(annotations, articles)[0], per_target=stance_per_task(config)
    )
    grouped: dict[str, list[Dispute]] = defaultdict(list)
    for d in disputes:
        grouped[d.article_id].append(d)
    tasks = []
    for art in sorted(grouped):
        article = articles.get(art)
        if article is None:
            raise DataError(
                f"article {art!r} has open disputes but is not in the articles table",
                hint="Run `corpus ingest` so build/articles.parquet holds every annotated article.",
            )
        ds = grouped[art]
        versions = sorted(by_article.get(art, {}).items())
        data = task_data(article, names)
        target = _queue_target(ds, [ann for _, ann in versions]) if names.stance else None
        if target is not None:  # the name: the stance question shows it to the adjudicator
            data[names.stance_target_field] = next(
                (t.name for t in config.scheme.stance_targets if t.id == target), target
            )
        data["dispute_ids"] = [d.dispute_id for d in ds]
        data["disputes"] = "; ".join(_describe(d, article.text) for d in ds)
        preds = [
            {
                "model_version": who,
                "score": None,
                "result": annotation_result(ann, config, target=target),
            }
            for who, ann in versions
        ]
        tasks.append({"data": data, "predictions": preds})
    return tasks


def _queue_target(disputes: Sequence[Dispute], versions: Sequence[Annotation]) -> str | None:
    """The target a single-stance-control queue task asks about (see `dispute_tasks`)."""
    disputed = sorted(d.target for d in disputes if d.layer == "stance" and d.target)
    if disputed:
        return disputed[0]
    answered = sorted({s.target for ann in versions for s in ann.stances})
    return answered[0] if answered else None


def _describe(d: Dispute, text: str) -> str:
    if d.layer == "stance":
        return f"stance on {d.target}"
    assert d.start is not None and d.end is not None
    snippet = " ".join(text[d.start : d.end].split())
    if len(snippet) > 40:
        snippet = snippet[:37] + "..."
    return f"{d.layer} at {d.start}-{d.end} ({snippet!r})"


def write_disputes(path: Path, tasks: Sequence[dict[str, Any]]) -> None:
    """The dispute queue as Label Studio import JSON (a task array), atomically."""
    store.atomic_write_bytes(Path(path), store.dump_json(list(tasks)))
