"""Label Studio result regions that several test modules build the same way."""

from __future__ import annotations

from typing import Any


def locate(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """Code point offsets of the `nth` (0-based) occurrence of `needle` in `text`."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return start, start + len(needle)


def stances(**labels: str) -> list[dict[str, Any]]:
    """One stance choice per target: `stances(iran="against")`."""
    return [
        {
            "from_name": f"stance_{t}",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [v]},
        }
        for t, v in labels.items()
    ]


def relation(from_id: str, to_id: str) -> dict[str, Any]:
    """A claimant relation between two regions."""
    return {
        "type": "relation",
        "from_id": from_id,
        "to_id": to_id,
        "direction": "right",
        "labels": ["claimant"],
    }
