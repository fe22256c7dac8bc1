"""CLI for the init stage (being built)."""

from __future__ import annotations
