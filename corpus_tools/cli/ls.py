"""CLI for the ls stage (being built)."""

from __future__ import annotations
