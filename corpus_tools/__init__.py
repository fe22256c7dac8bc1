"""corpus-tools: build annotated news corpora."""

__version__ = "0.1.0"
