"""The release stage: Parquet configs and splits, dataset card, manifest (`corpus release`).

Submodules: `tokens` (BIO alignment), `features` (Features from the scheme), `splits`
(story-cluster splits, stable across releases), `card`, `build`. Gold records come from
`corpus adjudicate` (build/gold.jsonl).
"""

from __future__ import annotations

from corpus_tools.release.build import (
    build_release,
    find_previous,
    normalize_version,
    parse_version,
    release_folders,
)

__all__ = [
    "build_release",
    "find_previous",
    "normalize_version",
    "parse_version",
    "release_folders",
]
