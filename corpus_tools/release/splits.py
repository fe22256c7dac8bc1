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
from typing import TYPE_CHECKING

from corpus_tools.config import SplitConfig
from corpus_tools.model import Finding
from corpus_tools.release.features import SPLITS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

_TIE_ORDER = {"test": 0, "validation": 1, "train": 2}


def assign_splits(
    articles: Iterable[tuple[str, str | None]],
    ratios: SplitConfig,
    previous: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[Finding]]:
    """Map every (article_id, story_id) to a split; findings for articles that had to move.

    The same rules as the release's `assign_split_codes`, over Python tuples.
    """
    import pyarrow as pa

    pairs = list(articles)
    ids = [a for a, _ in pairs]
    codes, names, findings = assign_split_codes(
        pa.array(ids, pa.string()), pa.array([s for _, s in pairs], pa.string()), ratios, previous
    )
    return {a: names[c] for a, c in zip(ids, codes.tolist(), strict=True)}, findings


def assign_split_codes(
    article_ids: pa.Array,
    story_ids: pa.Array,
    ratios: SplitConfig,
    previous: Mapping[str, str] | None = None,
) -> tuple[npt.NDArray[np.int8], list[str], list[Finding]]:
    """Each article's split, over two string columns with per-article state in arrays: a
    code into the returned split names (SPLITS first, then any other split name a previous
    release used), in column order, and findings for the articles that had to move.

    Clusters are numbered in order of first appearance (Arrow's dictionary encoding), so
    findings come in the order of the articles' clusters' first appearance.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(article_ids, pa.ChunkedArray):
        article_ids = article_ids.combine_chunks()
    if isinstance(story_ids, pa.ChunkedArray):
        story_ids = story_ids.combine_chunks()
    previous = previous or {}
    has_story = pc.fill_null(pc.not_equal(story_ids, ""), False)
    own = pc.binary_join_element_wise("article:", article_ids, "")
    encoded = pc.dictionary_encode(pc.if_else(has_story, story_ids, own))
    cluster = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    names: pa.Array = encoded.dictionary
    size = np.bincount(cluster, minlength=len(names)).tolist()
    split_names = list(SPLITS)
    code = {s: i for i, s in enumerate(split_names)}
    split_of = np.full(len(names), -1, dtype=np.int8)
    findings: list[Finding] = []
    counts: Counter[str] = Counter()
    if previous:
        before: dict[int, Counter[str]] = {}
        members: dict[int, list[str]] = defaultdict(list)
        ids, clusters = article_ids.to_pylist(), cluster.tolist()
        for a, c in zip(ids, clusters, strict=True):
            if a in previous:
                before.setdefault(c, Counter())[previous[a]] += 1
        for a, c in zip(ids, clusters, strict=True):
            if c in before:
                members[c].append(a)
        del ids, clusters
        for c in sorted(before):
            counted = before[c]
            split = min(counted, key=lambda s: (-counted[s], _TIE_ORDER.get(s, 3)))
            if split not in code:
                code[split] = len(split_names)
                split_names.append(split)
            split_of[c] = code[split]
            name = names[c].as_py()
            for a in members[c]:
                if a in previous and previous[a] != split:
                    findings.append(
                        Finding(
                            slug="split-moved",
                            severity="warning",
                            message=(
                                f"article {a} moves from {previous[a]} to {split}: its story "
                                f"cluster {name} now also holds articles released in {split}"
                            ),
                            task_id=a,
                            hint="The story clustering changed; the changelog lists the move.",
                        )
                    )
            counts[split] += size[c]
    share = {"train": ratios.train, "validation": ratios.validation, "test": ratios.test}
    total = len(article_ids)
    seed = ratios.seed.encode("utf-8")
    new = np.flatnonzero(split_of < 0)
    # sha256(seed + cluster) of each new cluster as four big-endian words: sorting them sorts
    # by the hex digest (rule 3).
    digests = bytearray()
    step = 65536
    for start in range(0, len(new), step):
        part = names.take(pa.array(new[start : start + step]))
        for cluster_name in part.to_pylist():
            digests += hashlib.sha256(seed + b"\0" + cluster_name.encode("utf-8")).digest()
    words = np.frombuffer(bytes(digests), dtype=">u8").reshape(-1, 4)
    order = new[np.lexsort((words[:, 3], words[:, 2], words[:, 1], words[:, 0]))]
    for c in order.tolist():
        # The split with the largest deficit against its share of the whole corpus.
        split = max(
            SPLITS, key=lambda s: (share[s] * total - counts[s], share[s], -SPLITS.index(s))
        )
        split_of[c] = code[split]
        counts[split] += size[c]
    return split_of[cluster], split_names, findings
