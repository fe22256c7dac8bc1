"""The Label Studio labeling config, generated from the scheme (being built)."""

from __future__ import annotations

from corpus_tools.config import CorpusConfig


def render(config: CorpusConfig) -> str:
    """The labeling-config XML for `config.scheme`."""
    raise NotImplementedError
