"""`corpus model train` / `corpus model evaluate`: models trained from the corpus's own gold."""

from __future__ import annotations
