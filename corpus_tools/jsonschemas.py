"""JSON Schemas (draft 2020-12) generated from the scheme (being built)."""

from __future__ import annotations

from corpus_tools.config import CorpusConfig


def render_all(config: CorpusConfig) -> dict[str, str]:
    """File name -> JSON Schema text."""
    return {}
