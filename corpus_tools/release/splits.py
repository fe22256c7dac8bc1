"""Train/validation/test by story cluster, stable across releases.

Rules, in order:
1. An article that was in a split in the previous release keeps it.
2. A story cluster takes one split: the split its previously released articles were in; if
   they were in several (the clustering changed), the cluster goes where most of them were
   (ties: test, then validation, then train, so evaluation sets do not shrink) and every
   article that has to move is reported (`split-moved`), so no story ever crosses splits.
3. New clusters are assigned in the order of sha256(seed + story id) to the split furthest
   below its configured share of articles, which keeps the ratios close even in a small
   corpus and does not depend on file order.
Articles without a story id form a cluster of their own.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from corpus_tools.config import SplitConfig
from corpus_tools.model import Finding
from corpus_tools.release.features import SPLITS

_TIE_ORDER = {"test": 0, "validation": 1, "train": 2}


def cluster_of(article_id: str, story_id: str | None) -> str:
    """The story cluster an article belongs to (itself when it has no story id)."""
    return story_id or f"article:{article_id}"


def assign_splits(
    articles: Iterable[tuple[str, str | None]],
    ratios: SplitConfig,
    previous: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[Finding]]:
    """Map every (article_id, story_id) to a split; findings for articles that had to move."""
    previous = previous or {}
    clusters: dict[str, list[str]] = defaultdict(list)
    for article_id, story_id in articles:
        clusters[cluster_of(article_id, story_id)].append(article_id)
    out: dict[str, str] = {}
    findings: list[Finding] = []
    counts: Counter[str] = Counter()
    new_clusters: list[str] = []
    for cluster, members in clusters.items():
        before = Counter(previous[a] for a in members if a in previous)
        if not before:
            new_clusters.append(cluster)
            continue
        split = min(before, key=lambda s: (-before[s], _TIE_ORDER.get(s, 3)))
        for a in members:
            out[a] = split
            if a in previous and previous[a] != split:
                findings.append(
                    Finding(
                        slug="split-moved",
                        severity="warning",
                        message=(
                            f"article {a} moves from {previous[a]} to {split}: its story "
                            f"cluster {cluster} now also holds articles released in {split}"
                        ),
                        task_id=a,
                        hint="The story clustering changed; the changelog lists the move.",
                    )
                )
        counts[split] += len(members)
    share = {"train": ratios.train, "validation": ratios.validation, "test": ratios.test}
    total = sum(len(m) for m in clusters.values())
    seed = ratios.seed.encode("utf-8")

    def order(cluster: str) -> str:
        return hashlib.sha256(seed + b"\0" + cluster.encode("utf-8")).hexdigest()

    for cluster in sorted(new_clusters, key=order):
        members = clusters[cluster]
        # The split with the largest deficit against its share of the whole corpus.
        split = max(
            SPLITS, key=lambda s: (share[s] * total - counts[s], share[s], -SPLITS.index(s))
        )
        for a in members:
            out[a] = split
        counts[split] += len(members)
    return out, findings
