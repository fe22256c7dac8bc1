"""Gold records as JSON Lines: one article per line, sorted by article_id, keys sorted
(the shape is documented in `corpus_tools.adjudicate`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from corpus_tools import store
from corpus_tools.errors import DataError
from corpus_tools.model import (
    Claim,
    Decision,
    EntitySpan,
    GoldClaim,
    GoldEntity,
    GoldRecord,
    GoldStance,
    StanceJudgement,
)

GOLD_FILE = "gold.jsonl"


# --- gold records as JSON Lines ---------------------------------------------------------------


def _decision_dict(d: Decision) -> dict[str, Any]:
    return {
        "provenance": d.provenance,
        "annotators": list(d.annotators),
        "decided_by": d.decided_by,
        "rule": d.rule,
    }


def gold_to_dict(rec: GoldRecord) -> dict[str, Any]:
    """A GoldRecord as the documented JSON object (`dropped` only when a tie was dropped)."""
    return {
        **({"dropped": list(rec.dropped)} if rec.dropped else {}),
        "article_id": rec.article_id,
        "text_sha256": rec.text_sha256,
        "annotators": list(rec.annotators),
        "entities": [
            {
                "start": g.span.start,
                "end": g.span.end,
                "label": g.span.label,
                "text": g.span.text,
                "decision": _decision_dict(g.decision),
            }
            for g in rec.entities
        ],
        "stances": [
            {
                "target": g.stance.target,
                "label": g.stance.label,
                "decision": _decision_dict(g.decision),
            }
            for g in rec.stances
        ],
        "claims": [
            {
                "start": g.claim.start,
                "end": g.claim.end,
                "text": g.claim.text,
                "checkworthy": g.claim.checkworthy,
                "claimant": g.claim.claimant,
                "decision": _decision_dict(g.decision),
            }
            for g in rec.claims
        ],
    }


def _decision(d: dict[str, Any]) -> Decision:
    return Decision(
        d["provenance"], tuple(d.get("annotators") or ()), d.get("decided_by"), d.get("rule")
    )


def gold_from_dict(d: dict[str, Any]) -> GoldRecord:
    """The inverse of `gold_to_dict`."""
    return GoldRecord(
        article_id=d["article_id"],
        text_sha256=d["text_sha256"],
        annotators=tuple(d.get("annotators") or ()),
        dropped=tuple(str(x) for x in d.get("dropped") or ()),
        entities=tuple(
            GoldEntity(
                EntitySpan(e["start"], e["end"], e["label"], e["text"]), _decision(e["decision"])
            )
            for e in d.get("entities") or ()
        ),
        stances=tuple(
            GoldStance(StanceJudgement(s["target"], s["label"]), _decision(s["decision"]))
            for s in d.get("stances") or ()
        ),
        claims=tuple(
            GoldClaim(
                Claim(c["start"], c["end"], c["text"], c.get("checkworthy"), c.get("claimant")),
                _decision(c["decision"]),
            )
            for c in d.get("claims") or ()
        ),
    )


def write_gold(path: Path, records: Sequence[GoldRecord]) -> None:
    """Write gold records as deterministic JSON Lines (sorted by article_id), atomically."""
    lines = [
        orjson.dumps(gold_to_dict(r), option=orjson.OPT_SORT_KEYS)
        for r in sorted(records, key=lambda r: r.article_id)
    ]
    store.atomic_write_bytes(Path(path), b"".join(line + b"\n" for line in lines))


def iter_gold(path: Path) -> Iterator[GoldRecord]:
    """Stream gold records written by `write_gold`, line by line; DataError names the bad line."""
    path = Path(path)
    try:
        fh = open(path, "rb")  # noqa: SIM115  (closed by the with below)
    except OSError as exc:
        raise DataError(
            f"{path}: cannot read ({exc.strerror})",
            path=str(path),
            hint="Run `corpus adjudicate` first.",
        ) from None
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = gold_from_dict(orjson.loads(line))
            except (orjson.JSONDecodeError, KeyError, TypeError, IndexError) as exc:
                raise DataError(
                    f"{path}:{lineno}: not a gold record ({exc.__class__.__name__}: {exc})",
                    path=str(path),
                    hint="Regenerate it with `corpus adjudicate`.",
                ) from None
            yield rec


def read_gold(path: Path) -> list[GoldRecord]:
    """All gold records of a file written by `write_gold` (see `iter_gold`)."""
    return list(iter_gold(path))
