"""CLI for the release stage (being built)."""

from __future__ import annotations
