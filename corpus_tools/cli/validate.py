"""CLI for the validate stage (being built)."""

from __future__ import annotations
