"""Synthetic Label Studio exports for benchmarks and tests.

Each task has a ~3,000-character article (with an emoji, a non-BMP letter, a combining accent
and CRLF line ends, so code points and UTF-16 units differ) and `annotations` completed
annotations, each with 15 entity regions, one claim with its check-worthiness, claimant text
and claimant relation, and one stance answer per target: ~18 regions with offsets per
annotation, the shape `corpus ls pull` and the UI export produce. The export is valid for the
given scheme: validation finds nothing but what you break on purpose.

    python scripts/make_synthetic_export.py export.json --tasks 10000
    python scripts/make_synthetic_export.py export.jsonl --tasks 1000 --seed 7

Importable: `synthetic_tasks(n, seed)` yields the task dicts one at a time.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

ENTITY_LABELS = ("PER", "ORG", "GPE", "LOC", "NORP", "DATE", "EVENT", "WEAPON")
STANCE_TARGETS = ("united_states", "iran", "russia")
STANCE_LABELS = ("favor", "against", "neutral", "unrelated")
CHECKWORTHY = ("check-worthy", "not check-worthy")

_WORDS = tuple(
    str.split(
        "the minister said talks in Geneva would resume after a week of strikes on ports "
        "officials in Tehran and Washington denied reports that drones had crossed the border "
        "analysts expect sanctions to widen while envoys meet in Doha to discuss prisoners "
        "Café Zürich naïve résumé Москва 😀 𝔸lpha"
    )
)


def _text(rng: random.Random, chars: int) -> str:
    parts: list[str] = []
    size = 0
    while size < chars:
        sentence = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 20)))
        sentence = sentence[0].upper() + sentence[1:] + "."
        sep = "\r\n" if rng.random() < 0.15 else " "
        parts.append(sentence + sep)
        size += len(sentence) + len(sep)
    # A combining accent (two code points for one letter) early in every text.
    return "Cafe\u0301 report 😀 " + "".join(parts).rstrip()


def _word_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = None
    for i, ch in enumerate(text):
        if ch.isspace() or ch == ".":
            if start is not None:
                spans.append((start, i))
                start = None
        elif start is None:
            start = i
    if start is not None:
        spans.append((start, len(text)))
    return spans


def _quirk(span: str) -> str:
    return span.replace("\r", "\\n").replace("\n", "\\n")


def _annotation(
    rng: random.Random, text: str, words: list[tuple[int, int]], ann_id: int, task_id: int
) -> dict[str, Any]:
    result: list[dict[str, Any]] = []
    picks = sorted(rng.sample(range(len(words) - 2), 16))
    # 15 entities on distinct words (never overlapping), 1 claim over a few words after them.
    ent_ids = []
    for k, w in enumerate(picks[:15]):
        s, e = words[w]
        rid = f"e{ann_id}-{k}"
        ent_ids.append(rid)
        result.append(
            {
                "id": rid,
                "from_name": "entities",
                "to_name": "text",
                "type": "labels",
                "origin": "manual",
                "value": {
                    "start": s,
                    "end": e,
                    "text": _quirk(text[s:e]),
                    "labels": [rng.choice(ENTITY_LABELS)],
                },
            }
        )
    w = picks[15]
    s, e = words[w][0], words[min(w + 2, len(words) - 1)][1]
    cid = f"c{ann_id}"
    span = {"start": s, "end": e, "text": _quirk(text[s:e])}
    result.append(
        {
            "id": cid,
            "from_name": "claim",
            "to_name": "text",
            "type": "labels",
            "origin": "manual",
            "value": {**span, "labels": ["Claim"]},
        }
    )
    result.append(
        {
            "id": cid,
            "from_name": "checkworthy",
            "to_name": "text",
            "type": "choices",
            "origin": "manual",
            "value": {**span, "choices": [rng.choice(CHECKWORTHY)]},
        }
    )
    result.append(
        {
            "id": cid,
            "from_name": "claimant_text",
            "to_name": "text",
            "type": "textarea",
            "origin": "manual",
            "value": {"start": s, "end": e, "text": ["officials"]},
        }
    )
    result.append(
        {
            "type": "relation",
            "from_id": rng.choice(ent_ids),
            "to_id": cid,
            "direction": "right",
            "labels": ["claimant"],
        }
    )
    for target in STANCE_TARGETS:
        result.append(
            {
                "from_name": f"stance_{target}",
                "to_name": "text",
                "type": "choices",
                "origin": "manual",
                "value": {"choices": [rng.choice(STANCE_LABELS)]},
            }
        )
    return {
        "id": ann_id,
        "completed_by": 1 + ann_id % 3,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
        "lead_time": round(rng.uniform(30, 600), 3),
        "created_at": "2026-01-05T10:00:00.000000Z",
        "updated_at": "2026-01-05T10:05:00.000000Z",
        "draft_created_at": None,
        "task": task_id,
        "project": 1,
        "last_action": None,
        "unique_id": f"u-{task_id}-{ann_id}",
    }


def synthetic_tasks(
    n: int, seed: int = 0, *, annotations: int = 2, chars: int = 3000
) -> Iterator[dict[str, Any]]:
    """`n` Label Studio tasks as a UI JSON export holds them, deterministic for `seed`."""
    rng = random.Random(seed)
    ann_id = 0
    for task_id in range(1, n + 1):
        text = _text(rng, chars)
        words = _word_spans(text)
        anns = []
        for _ in range(annotations):
            ann_id += 1
            anns.append(_annotation(rng, text, words, ann_id, task_id))
        yield {
            "id": task_id,
            "data": {
                "article_id": f"synthetic-{seed}-{task_id:07d}",
                "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "title": f"Synthetic article {task_id}",
                "outlet": "Synthetic Wire",
                "published": "2026-01-05",
                "url": f"https://example.org/news/{task_id}",
                "text": text,
            },
            "annotations": anns,
            "drafts": [],
            "predictions": [],
            "meta": {},
            "created_at": "2026-01-05T09:00:00.000000Z",
            "updated_at": "2026-01-05T10:05:00.000000Z",
            "inner_id": task_id,
            "total_annotations": annotations,
            "cancelled_annotations": 0,
            "total_predictions": 0,
            "project": 1,
        }


def write_export(path: Path, n: int, seed: int = 0, *, annotations: int = 2) -> int:
    """Write a JSON array (indented, like the UI export) or JSONL (by suffix); return bytes."""
    written = 0
    with open(path, "wb") as fh:
        if path.suffix == ".jsonl":
            for task in synthetic_tasks(n, seed, annotations=annotations):
                written += fh.write(orjson.dumps(task) + b"\n")
            return written
        written += fh.write(b"[\n")
        for i, task in enumerate(synthetic_tasks(n, seed, annotations=annotations)):
            if i:
                written += fh.write(b",\n")
            written += fh.write(orjson.dumps(task, option=orjson.OPT_INDENT_2))
        written += fh.write(b"\n]\n")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="*.json (array) or *.jsonl")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--annotations", type=int, default=2)
    args = parser.parse_args(argv)
    size = write_export(args.out, args.tasks, args.seed, annotations=args.annotations)
    print(f"wrote {args.tasks} tasks, {size / 1e6:.1f} MB to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
