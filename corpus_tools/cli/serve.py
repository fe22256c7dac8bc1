"""`corpus serve`: a Label Studio ML backend on 127.0.0.1, suggesting from a trained model."""

from __future__ import annotations
