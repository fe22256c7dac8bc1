"""`adjudicate`: several annotators' labels become one gold record per article.

Modules: `vote` (the rules below), `gold` (gold records as JSON Lines), `queue` (the dispute
queue as Label Studio tasks); `run` is `corpus adjudicate`.

Per article, with the latest non-cancelled annotation of each annotator (an annotation whose
task carried another `text_sha256` than the article's was made on an older text: it is left
out of the vote and reported as a `stale-annotation` finding naming its file, task and id):

1. A Label Studio `ground_truth` annotation decides the whole article (provenance
   `ground_truth`, decided_by = its annotator).
2. An annotation by a designated adjudicator (`[adjudication] adjudicators`) decides the
   whole article (`adjudicated`) -- except under `tie_rule = "adjudicator"`, where the
   adjudicator's labels only break ties (see below) and the others' majority stands.
3. Otherwise every item is voted on by the article's annotators. Items are a stance per
   target, and span *regions*: entity spans (or claims) of all annotators that overlap one
   another form one region, so competing versions of one mention are decided together.
   - every annotator gave the same answer: `unanimous`;
   - more than half of the annotators support it, and at least `min_votes` of them:
     `majority` (fewer than half: rejected);
   - otherwise it is a tie, resolved by `tie_rule`: `dispute` (into the dispute queue),
     `adjudicator` (an adjudicator's own labels for the item, else the queue), `first` (the
     version of the annotation submitted first, provenance `tie`, rule `first`), `drop`
     (left out of gold, listed in `dropped` and in the gold record's `dropped` ids, which the
     release masks like open disputes).
   Span support follows `span_merge`: `majority-exact` (a span counts the annotators who
   marked exactly it: start, end, label; for claims start, end, check-worthiness and
   claimant), `majority-overlap` (a region counts the annotators who marked anything in it;
   the gold version is the exact version of the region's spans that more than half of the
   annotators gave: the most common version of a 2-1-1 split is only a plurality, a tie),
   `union` (every distinct span is kept; provenance `unanimous` when all marked it, else
   `union`). A stance answer of 2 of 4 annotators (2-1-1) is likewise a tie, not a majority.
   One annotator only: everything is `single`.
4. Adjudicator decisions pulled back from the adjudication project (`decisions`) settle the
   open disputes of their article: their labels in the disputed region (or for the disputed
   stance target) win, provenance `adjudicated`, decided_by = the adjudicator's pseudonym.
   A decision without a label in a disputed span region means "no span there".
   `decision.annotators` then lists the annotators whose version the adjudicator chose
   (empty: a version of their own). A decision made on another text (its `text_sha256`
   differs from the article's) is not applied and is counted as `decisions.stale`.

Stance asked with one control, the target in each task's data (`[scheme.names] stance`, an
adopted project's config): each task asks one target, so an article's stance items are only
the targets its tasks asked. The vote on a target counts the annotators who answered it (an
article may have one task per target, done by different people), and an annotator with
several tasks of one article keeps their answer per target (their spans: the latest
annotation's). A target no task of the article asked is not asked: no vote, no dispute, no
gold stance.

Gold records are JSON Lines (`write_gold` / `read_gold`, or `iter_gold` to stream), one article
per line, sorted by article_id, keys sorted:

    {"article_id": "...", "text_sha256": "...", "annotators": ["user-1", "user-2"],
     "entities": [{"start": 0, "end": 4, "label": "ORG", "text": "NATO",
                   "decision": {"provenance": "majority", "annotators": ["user-1"],
                                "decided_by": null, "rule": null}}],
     "stances": [{"target": "iran", "label": "against", "decision": {...}}],
     "claims": [{"start": 5, "end": 40, "text": "...", "checkworthy": "check-worthy",
                 "claimant": "Jens Stoltenberg", "decision": {...}}]}

A record with ties dropped by `tie_rule = "drop"` also has `"dropped": ["entities/12-30",
"stance/iran", "claims/5-40"]` (the key is absent otherwise).

`decision.annotators` lists who supported the gold version. Region ids are not kept (they
belong to one annotator's annotation); a claimant is kept as its text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus_tools import store
from corpus_tools.adjudicate.gold import (
    GOLD_FILE,
    gold_from_dict,
    gold_to_dict,
    iter_gold,
    read_gold,
    write_gold,
)
from corpus_tools.adjudicate.queue import (
    DISPUTES_FILE,
    annotation_result,
    dispute_tasks,
    dispute_to_dict,
    write_disputes,
)
from corpus_tools.adjudicate.vote import (
    DECISIONS_DIR,
    AdjudicationResult,
    adjudicate,
    adjudication_config,
    decisions_dir,
    load_decisions,
)
from corpus_tools.config import CorpusConfig
from corpus_tools.errors import UsageError
from corpus_tools.exports import iter_annotations


def run(
    *,
    config: CorpusConfig,
    annotations_path: Path | None = None,
    decisions_path: Path | None = None,
) -> dict[str, Any]:
    """`corpus adjudicate`: read annotations, decisions and articles; write gold and disputes.

    Returns the summary printed by the CLI (and its `--json`).
    """
    anns_dir = config.paths.annotations if annotations_path is None else Path(annotations_path)
    if not anns_dir.exists():
        raise UsageError(
            f"{anns_dir}: no such file or folder",
            path=str(anns_dir),
            hint="Pull annotations with `corpus ls pull` first.",
        )
    annotations = list(iter_annotations([anns_dir], config.scheme))
    decisions = load_decisions(config, decisions_path)
    articles = store.load_articles(config.paths.articles_parquet)
    result = adjudicate(
        config=config, annotations=annotations, articles=articles, decisions=decisions
    )
    gold_path = config.paths.build / GOLD_FILE
    disputes_path = config.paths.build / DISPUTES_FILE
    tasks = dispute_tasks(
        config=config, disputes=result.disputes, annotations=annotations, articles=articles
    )
    write_gold(gold_path, result.gold)
    write_disputes(disputes_path, tasks)
    return {
        **result.to_dict(),
        "decisions": len(decisions),
        "gold_file": str(gold_path),
        "disputes_file": str(disputes_path),
        "dispute_tasks": len(tasks),
    }


__all__ = [
    "DECISIONS_DIR",
    "DISPUTES_FILE",
    "GOLD_FILE",
    "AdjudicationResult",
    "adjudicate",
    "adjudication_config",
    "annotation_result",
    "decisions_dir",
    "dispute_tasks",
    "dispute_to_dict",
    "gold_from_dict",
    "gold_to_dict",
    "iter_gold",
    "load_decisions",
    "read_gold",
    "run",
    "write_disputes",
    "write_gold",
]
