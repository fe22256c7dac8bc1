"""Small corpora for release/publish tests: an articles.parquet and Label Studio task files.

Built in tmp_path from the repository's corpus.toml, the two seed articles and synthetic
articles with emoji, non-BMP letters, CRLF line ends and combining accents.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from ls_regions import locate

from corpus_tools import adjudicate, store
from corpus_tools.config import CorpusConfig, load_config
from corpus_tools.model import Article

SEED_FILES = ("000_0d9cd822c3ba238f.txt", "002_8995198625a47cb8.txt")

# Synthetic texts: every hard case of offsets (😀 and 𝔸 are one code point each in Python,
# two UTF-16 units; "e\u0301" is two code points; CRLF line ends).
TRICKY = [
    "Zelensky 😀 met NATO officials in Kyiv.\r\nRussia fired drones at Odesa.",
    "𝔸lpha Group said Iran supplied drones to Russia, Reuters reported.",
    "Cafe\u0301 owners in Tehran told the BBC that US sanctions bite.\r\n\r\nMore later.",
    "The IAEA said Iran enriched uranium; Washington called it a provocation 🚀.",
    "Putin told Russian media that NATO was to blame for the war in Ukraine.",
    "Oman hosted indirect talks between Iran and the United States last week.",
]


def make_article(article_id: str, text: str, story_id: str | None, **kw: Any) -> Article:
    return Article(
        article_id=article_id,
        source=kw.get("source", f"articles/{article_id}.txt"),
        outlet=kw.get("outlet", "Test Wire"),
        url=kw.get("url"),
        title=kw.get("title", text.split("\n")[0][:60]),
        published=kw.get("published", "2024-12-13"),
        language="en",
        text=text,
        text_sha256=store.sha256_text(text),
        story_id=story_id,
    )


def write_articles(path: Path, articles: list[Article]) -> None:
    rows = [store.article_to_row(a) for a in articles]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=store.ARTICLES_SCHEMA), path)


def ent(rid: str, text: str, needle: str, label: str, nth: int = 0) -> dict[str, Any]:
    """An entity region on the `nth` occurrence of `needle` in `text`."""
    start, end = locate(text, needle, nth)
    return {
        "id": rid,
        "type": "labels",
        "from_name": "entities",
        "to_name": "text",
        "value": {
            "start": start,
            "end": end,
            "text": needle,
            "labels": [label],
        },
    }


def span(rid: str, text: str, start: int, end: int, label: str) -> dict[str, Any]:
    """An entity region at code points [start, end) of `text`, with `value.text` as Label
    Studio writes it (text[start:end], clipped by slicing when the offsets run past the end)."""
    return {
        "id": rid,
        "type": "labels",
        "from_name": "entities",
        "to_name": "text",
        "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]},
    }


def stance(target: str, label: str) -> dict[str, Any]:
    return {
        "id": f"st-{target}",
        "type": "choices",
        "from_name": f"stance_{target}",
        "to_name": "text",
        "value": {"choices": [label]},
    }


def claim(rid: str, text: str, needle: str, checkworthy: str) -> list[dict[str, Any]]:
    """A claim region and its per-region check-worthiness (both carry start, end and text, as
    Label Studio writes them)."""
    start = text.index(needle)
    where = {"start": start, "end": start + len(needle), "text": needle}
    return [
        {
            "id": rid,
            "type": "labels",
            "from_name": "claim",
            "to_name": "text",
            "value": {**where, "labels": ["Claim"]},
        },
        {
            "id": rid,
            "type": "choices",
            "from_name": "checkworthy",
            "to_name": "text",
            "value": {**where, "choices": [checkworthy]},
        },
    ]


def task(
    task_id: int, article: Article, annotations: list[tuple[str, list[dict[str, Any]]]]
) -> dict[str, Any]:
    """A Label Studio task as `corpus ls pull` writes it; annotations: (annotator, results)."""
    return {
        "id": task_id,
        "data": {
            "text": article.text,
            "article_id": article.article_id,
            "text_sha256": article.text_sha256,
        },
        "annotations": [
            {
                "id": task_id * 100 + i,
                "completed_by": who,
                "result": results,
                "was_cancelled": False,
                "ground_truth": False,
                "lead_time": 12.5,
                "updated_at": "2024-12-14T10:00:00Z",
            }
            for i, (who, results) in enumerate(annotations)
        ],
    }


def write_tasks(folder: Path, tasks: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for t in tasks:
        (folder / f"task-{t['id']:05d}.json").write_bytes(
            orjson.dumps(t, option=orjson.OPT_INDENT_2)
        )


def base_dir(root: Path, repo: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy2(repo / "corpus.toml", root / "corpus.toml")
    return root


def seed_articles(repo: Path) -> list[Article]:
    out = []
    for i, name in enumerate(SEED_FILES):
        text = (repo / "articles" / name).read_text(encoding="utf-8")
        out.append(make_article(f"seed-{i}", text, "story-drones", source=f"articles/{name}"))
    return out


def tricky_articles() -> list[Article]:
    stories = ["story-kyiv", "story-alpha", "story-cafe", "story-iaea", "story-putin", "story-oman"]
    return [make_article(f"tricky-{i}", text, stories[i]) for i, text in enumerate(TRICKY)]


def annotate(article: Article, task_id: int, *, extra: bool = False) -> dict[str, Any]:
    """Two annotators who agree on most things (a third entity only from the first)."""
    t = article.text
    results: list[dict[str, Any]] = []
    n = 0
    for needle, label in (
        ("Iran", "GPE"),
        ("Russia", "GPE"),
        ("NATO", "ORG"),
        ("Zelensky", "PER"),
        ("𝔸lpha Group", "ORG"),
        ("Tehran", "GPE"),
        ("Financial Times", "ORG"),
        ("drones", "WEAPON"),
    ):
        if needle in t:
            results.append(ent(f"e{n}", t, needle, label))
            n += 1
    results.append(stance("iran", "against" if "Iran" in t else "unrelated"))
    results.append(stance("russia", "against" if "Russia" in t else "unrelated"))
    results.append(stance("united_states", "neutral" if "US" in t else "unrelated"))
    first = t.split(".")[0]
    if len(first) > 5:
        results += claim("c0", t, first, "check-worthy")
    second = list(results)
    if extra and "US" in t:
        second.append(ent("x1", t, "US", "GPE"))
    return task(task_id, article, [("annotator-a", results), ("annotator-b", second)])


def build_corpus(
    root: Path, repo: Path, articles: list[Article] | None = None
) -> tuple[CorpusConfig, list[Article]]:
    """corpus.toml + build/articles.parquet + annotations/ (two annotators per article)."""
    base_dir(root, repo)
    arts = articles if articles is not None else seed_articles(repo) + tricky_articles()
    write_articles(root / "build" / "articles.parquet", arts)
    write_tasks(root / "annotations", [annotate(a, i + 1) for i, a in enumerate(arts)])
    config = load_config(root / "corpus.toml")
    adjudicate.run(config=config)
    return config, arts


def with_more_articles(root: Path, repo: Path, extra: list[Article]) -> None:
    """The corpus at `root` grown by `extra` articles: the articles table and annotations/
    rewritten (two annotators per article, as `build_corpus`), then re-adjudicated."""
    arts = seed_articles(repo) + tricky_articles() + extra
    write_articles(root / "build" / "articles.parquet", arts)
    shutil.rmtree(root / "annotations")
    write_tasks(root / "annotations", [annotate(a, i + 1) for i, a in enumerate(arts)])
    adjudicate.run(config=load_config(root / "corpus.toml"))


def run_python(script: str, *args: str, env: dict[str, str]) -> Any:
    """Run `script` in a fresh Python (os.environ plus `env`); its last stdout line as JSON."""
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
