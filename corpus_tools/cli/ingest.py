"""CLI for the ingest stage (being built)."""

from __future__ import annotations
