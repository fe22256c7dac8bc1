"""Annotations and gold records staged in a temporary SQLite file, looked up per batch.

The release streams articles in batches; staging lets it fetch each batch's annotations and
gold record without holding the corpus's labels in memory (records are stored as msgpack).
"""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import orjson

from corpus_tools import adjudicate
from corpus_tools.errors import DataError
from corpus_tools.model import Annotation, GoldRecord

_REGION = re.compile(r"^([0-9]+)-([0-9]+)$")


class Staging:
    """Annotations staged in a temporary SQLite file, fetched per batch of articles."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE ann (article_id TEXT, seq INTEGER, blob BLOB)")
        self.db.execute("CREATE TABLE gold (article_id TEXT PRIMARY KEY, blob BLOB)")
        self.db.execute("CREATE TABLE art (article_id TEXT PRIMARY KEY) WITHOUT ROWID")
        self._enc = msgspec.msgpack.Encoder()
        self._dec = msgspec.msgpack.Decoder(Annotation)
        self._gold_dec = msgspec.msgpack.Decoder(GoldRecord)

    def load_article_ids(self, ids: Iterable[str]) -> None:
        """The ids of the articles being released (for `unknown_article_ids`)."""
        it = iter(ids)
        while chunk := [(a,) for a in itertools.islice(it, 5000)]:
            self.db.executemany("INSERT INTO art VALUES (?)", chunk)

    def load(self, annotations: Iterator[Annotation]) -> int:
        n = 0
        batch: list[tuple[str, int, bytes]] = []
        for ann in annotations:
            batch.append((ann.article_id, n, self._enc.encode(ann)))
            n += 1
            if len(batch) >= 5000:
                self.db.executemany("INSERT INTO ann VALUES (?, ?, ?)", batch)
                batch.clear()
        self.db.executemany("INSERT INTO ann VALUES (?, ?, ?)", batch)
        self.db.execute("CREATE INDEX ann_article ON ann (article_id, seq)")
        return n

    def load_gold(self, path: Path) -> int:
        """Stage `build/gold.jsonl` record by record (streamed by `adjudicate.iter_gold`)."""
        n = 0
        batch: list[tuple[str, bytes]] = []
        for rec in adjudicate.iter_gold(path):
            batch.append((rec.article_id, self._enc.encode(rec)))
            n += 1
            if len(batch) >= 5000:
                self._insert_gold(batch, path)
                batch.clear()
        self._insert_gold(batch, path)
        return n

    def _insert_gold(self, batch: list[tuple[str, bytes]], path: Path) -> None:
        try:
            self.db.executemany("INSERT INTO gold VALUES (?, ?)", batch)
        except sqlite3.IntegrityError:
            raise DataError(
                f"{path}: an article has more than one gold record",
                path=str(path),
                hint="Regenerate it with `corpus adjudicate`.",
            ) from None

    def fetch_gold(self, ids: Sequence[str]) -> dict[str, GoldRecord]:
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT article_id, blob FROM gold WHERE article_id IN ({marks})", list(ids)
        )
        return {aid: self._gold_dec.decode(blob) for aid, blob in rows}

    def unknown_gold_article_ids(self) -> Iterator[str]:
        """Article ids of gold records that are not in the articles (`load_article_ids`),
        sorted."""
        yield from self._ids(
            "SELECT article_id FROM gold WHERE article_id NOT IN (SELECT article_id FROM art)"
            " ORDER BY 1"
        )

    def fetch(self, ids: Sequence[str]) -> dict[str, list[Annotation]]:
        out: dict[str, list[Annotation]] = {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT article_id, blob FROM ann WHERE article_id IN ({marks}) ORDER BY seq",
            list(ids),
        )
        for article_id, blob in rows:
            out.setdefault(article_id, []).append(self._dec.decode(blob))
        return out

    def unknown_article_ids(self) -> Iterator[str]:
        """Article ids with annotations that are not in the articles (`load_article_ids`),
        sorted."""
        yield from self._ids(
            "SELECT DISTINCT article_id FROM ann"
            " WHERE article_id NOT IN (SELECT article_id FROM art) ORDER BY 1"
        )

    def _ids(self, query: str) -> Iterator[str]:
        for (article_id,) in self.db.execute(query):
            yield article_id

    def close(self) -> None:
        self.db.close()


def open_disputes(path: Path, id_field: str = "article_id") -> dict[str, list[str]]:
    """Open dispute ids per article from the queue `corpus adjudicate` writes (none if absent);
    a queue task names its article in `data[id_field]` (the corpus's `article_id_field`)."""
    if not path.is_file():
        return {}
    try:
        tasks = orjson.loads(path.read_bytes())
        out: dict[str, list[str]] = {}
        for t in tasks:
            data = t["data"]
            aid = data[id_field] if id_field in data else data["article_id"]
            out.setdefault(str(aid), []).extend(
                str(d).split("/", 1)[-1] for d in data.get("dispute_ids") or ()
            )
        return out
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(
            f"{path}: not a dispute queue ({exc.__class__.__name__}: {exc})",
            path=str(path),
            hint="Regenerate it with `corpus adjudicate`.",
        ) from None


@dataclass(frozen=True, slots=True)
class ArticleDisputes:
    """An article's open disputes by layer: entity and claim regions, stance targets."""

    entities: tuple[tuple[int, int], ...] = ()
    stance: tuple[str, ...] = ()
    claims: tuple[tuple[int, int], ...] = ()

    @property
    def total(self) -> int:
        return len(self.entities) + len(self.stance) + len(self.claims)


NO_DISPUTES = ArticleDisputes()


def article_disputes(items: Sequence[str], *, source: Path) -> ArticleDisputes:
    """`open_disputes` ids of one article (`entities/12-30`, `stance/iran`, `claims/5-40`) by
    layer; DataError for an id of another shape (the regions must be exact to mask them)."""
    regions: dict[str, list[tuple[int, int]]] = {"entities": [], "claims": []}
    targets: list[str] = []
    for item in items:
        layer, _, rest = item.partition("/")
        if layer == "stance" and rest:
            targets.append(rest)
            continue
        m = _REGION.match(rest)
        if layer not in regions or m is None:
            raise DataError(
                f"{source}: dispute id {item!r} is not `entities/START-END`, "
                "`claims/START-END` or `stance/TARGET`",
                path=str(source),
                hint="Regenerate it with `corpus adjudicate`.",
            )
        regions[layer].append((int(m[1]), int(m[2])))
    return ArticleDisputes(
        tuple(sorted(regions["entities"])), tuple(sorted(targets)), tuple(sorted(regions["claims"]))
    )
