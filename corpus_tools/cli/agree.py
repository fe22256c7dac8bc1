"""CLI for the agree stage (being built)."""

from __future__ import annotations
