"""Label Studio result regions that several test modules build the same way."""

from __future__ import annotations

from typing import Any


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
