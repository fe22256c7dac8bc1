"""CLI for the adjudicate stage (being built)."""

from __future__ import annotations
