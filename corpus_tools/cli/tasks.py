"""CLI for the tasks stage (being built)."""

from __future__ import annotations
