"""`corpus model uptake`: what suggestions did to annotators (accepted, edited, deleted)."""

from __future__ import annotations
