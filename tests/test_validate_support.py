"""Builders shared by the validation tests: a corpus with an articles table, and tasks
annotated the way Label Studio exports them (code-point offsets, newline quirk in
value.text, per-region choices sharing the claim's id, relations by region id)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from ls_regions import locate, relation

from corpus_tools.config import CorpusConfig, load_config
from corpus_tools.model import Article
from corpus_tools.store import ARTICLES_SCHEMA, article_to_row, sha256_text

# Emoji, a non-BMP letter, a combining accent and a CRLF line end: code points, UTF-16
# units and bytes all differ, and the claim crosses the line break.
TEXT_A = (
    "Cafe\u0301 😀 report: NATO chief Jens Stoltenberg said 𝔸 drones hit Kyiv.\r\n"
    "Russia denied it, and Iran stayed silent."
)
TEXT_B = "Officials in Tehran said talks with Washington would resume in Doha next week."


def article(article_id: str, text: str) -> Article:
    return Article(
        article_id=article_id,
        source=f"articles/{article_id}.txt",
        outlet="Example Wire",
        url=f"https://example.org/{article_id}",
        title=article_id,
        published="2026-01-05",
        language="en",
        text=text,
        text_sha256=sha256_text(text),
    )


def write_articles(corpus: Path, articles: list[Article]) -> Path:
    path = corpus / "build" / "articles.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([article_to_row(a) for a in articles], schema=ARTICLES_SCHEMA)
    pq.write_table(table, path)
    return path


def quirk(s: str) -> str:
    return s.replace("\r", "\\n").replace("\n", "\\n")


def entity(text: str, rid: str, needle: str, label: str) -> dict[str, Any]:
    s, e = locate(text, needle)
    return {
        "id": rid,
        "from_name": "entities",
        "to_name": "text",
        "type": "labels",
        "origin": "manual",
        "value": {"start": s, "end": e, "text": quirk(text[s:e]), "labels": [label]},
    }


def claim_results(
    text: str, rid: str, needle: str, checkworthy: str = "check-worthy"
) -> list[dict[str, Any]]:
    s, e = locate(text, needle)
    span = {"start": s, "end": e, "text": quirk(text[s:e])}
    return [
        {
            "id": rid,
            "from_name": "claim",
            "to_name": "text",
            "type": "labels",
            "value": {**span, "labels": ["Claim"]},
        },
        {
            "id": rid,
            "from_name": "checkworthy",
            "to_name": "text",
            "type": "choices",
            "value": {**span, "choices": [checkworthy]},
        },
        {
            "id": rid,
            "from_name": "claimant_text",
            "to_name": "text",
            "type": "textarea",
            "value": {"start": s, "end": e, "text": ["officials"]},
        },
    ]


def stances(config: CorpusConfig, label: str = "neutral") -> list[dict[str, Any]]:
    return [
        {
            "from_name": config.scheme.stance_control(t.id),
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [label]},
        }
        for t in config.scheme.stance_targets
    ]


def annotation(ann_id: int, who: str, result: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": ann_id,
        "completed_by": who,
        "result": result,
        "was_cancelled": False,
        "ground_truth": False,
        "lead_time": 12.5,
        "created_at": "2026-01-05T10:00:00Z",
        "updated_at": "2026-01-05T10:01:00Z",
        "task": 1,
        "project": 1,
    }


def task_a(config: CorpusConfig, task_id: int = 1) -> dict[str, Any]:
    """A valid task on TEXT_A with two annotators' full annotations."""
    text = TEXT_A
    anns = []
    for k, who in enumerate(("ann-1", "ann-2")):
        p = f"a{k}"
        result = [
            entity(text, f"{p}-nato", "NATO", "ORG"),
            entity(text, f"{p}-jens", "Jens Stoltenberg", "PER"),
            entity(text, f"{p}-drones", "drones", "WEAPON"),
            entity(text, f"{p}-kyiv", "Kyiv", "GPE"),
            entity(text, f"{p}-russia", "Russia", "GPE"),
            *claim_results(text, f"{p}-claim", "drones hit Kyiv.\r\nRussia denied it"),
            relation(f"{p}-jens", f"{p}-claim"),
            *stances(config),
        ]
        anns.append(annotation(10 * task_id + k, who, result))
    return _task(task_id, "a", text, anns)


def task_b(config: CorpusConfig, task_id: int = 2) -> dict[str, Any]:
    """A valid task on TEXT_B (no claims) with two annotators."""
    text = TEXT_B
    anns = [
        annotation(
            10 * task_id + k,
            who,
            [entity(text, f"b{k}-teh", "Tehran", "GPE"), *stances(config, "unrelated")],
        )
        for k, who in enumerate(("ann-1", "ann-2"))
    ]
    return _task(task_id, "b", text, anns)


def _task(task_id: int, article_id: str, text: str, anns: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": task_id,
        "data": {
            "article_id": article_id,
            "text_sha256": sha256_text(text),
            "title": article_id,
            "outlet": "Example Wire",
            "published": "2026-01-05",
            "url": f"https://example.org/{article_id}",
            "text": text,
        },
        "annotations": anns,
        "drafts": [],
        "predictions": [],
    }


def setup_corpus(corpus: Path) -> CorpusConfig:
    """The sample corpus with an articles table holding articles `a` and `b`."""
    write_articles(corpus, [article("a", TEXT_A), article("b", TEXT_B)])
    return load_config(corpus / "corpus.toml")


def write_json(path: Path, obj: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(obj, option=orjson.OPT_INDENT_2))
    return path


def write_jsonl(path: Path, tasks: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(t) + b"\n" for t in tasks))
    return path


def clone(obj: Any) -> Any:
    return copy.deepcopy(obj)
