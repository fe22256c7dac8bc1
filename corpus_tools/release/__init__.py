"""The release stage: Parquet configs and splits, dataset card, manifest (`corpus release`).

Submodules: `tokens` (BIO alignment), `features` (Features from the scheme), `splits`
(story-cluster splits, stable across releases), `gold` (gold records), `card`, `build`.
"""

from __future__ import annotations

from corpus_tools.release.build import (
    build_release,
    find_previous,
    normalize_version,
    parse_version,
    release_folders,
)
from corpus_tools.release.gold import gold_from_annotations

__all__ = [
    "build_release",
    "find_previous",
    "gold_from_annotations",
    "normalize_version",
    "parse_version",
    "release_folders",
]
