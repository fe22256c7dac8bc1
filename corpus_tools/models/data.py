"""The training set: adjudicated gold joined with the articles it labels.

Two sources give the same `TrainingSet`:
- `build/gold.jsonl` (from `corpus adjudicate`) with `build/articles.parquet` for the texts,
  sentences and stories, and `build/disputes.json` for what is still open;
- a release folder (`dist/VERSION` or `hub/<name>/vVERSION`): its Parquet configs.

What adjudication left open (a disputed entity or claim region, a tie that `tie_rule = "drop"`
left out) is *missing*, never a negative: `GoldArticle.missing_entities` and
`missing_claims` carry those ranges so a learner can leave them out of its loss. Only articles
whose gold text hash matches the article's text are used (a stale record is skipped and
counted, never trained on the wrong text).

When the labeling config asks stance with one control (`[scheme.names] stance`), each task
asked about the one target its data names: an article's other targets were *not asked*, and
are neither missing nor negative (no `missing_stances` entry, no judgement).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus_tools import store
from corpus_tools.config import CorpusConfig
from corpus_tools.errors import DataError, UsageError
from corpus_tools.model import Article, Claim, EntitySpan, Sentence, StanceJudgement

Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class GoldArticle:
    """One article with its adjudicated labels (offsets are code points into `article.text`)."""

    article: Article
    entities: tuple[EntitySpan, ...] = ()
    stances: tuple[StanceJudgement, ...] = ()
    claims: tuple[Claim, ...] = ()
    missing_entities: tuple[Range, ...] = ()  # open entity disputes and dropped ties
    missing_claims: tuple[Range, ...] = ()  # open claim disputes and dropped ties
    missing_stances: tuple[str, ...] = ()  # targets with an open dispute or a dropped tie

    @property
    def article_id(self) -> str:
        return self.article.article_id

    @property
    def story(self) -> str:
        """The story id (the article's own id when ingest gave it none)."""
        return self.article.story_id or self.article.article_id

    @property
    def claims_complete(self) -> bool:
        return not self.missing_claims


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """Gold articles sorted by article_id, and where they came from."""

    items: tuple[GoldArticle, ...]
    source: str  # the gold file or release folder, as the user would type it
    source_sha256: str  # sha256 of gold.jsonl, or of the release's manifest.json
    scheme_sha256: str
    skipped: tuple[str, ...] = field(default=())  # article ids left out (stale or no text)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[GoldArticle]:
        return iter(self.items)

    @property
    def stories(self) -> list[str]:
        """Story ids in a stable order (sorted)."""
        return sorted({g.story for g in self.items})

    def subset(self, stories: Sequence[str] | set[str]) -> tuple[GoldArticle, ...]:
        """The gold articles of the given stories (in article_id order)."""
        wanted = set(stories)
        return tuple(g for g in self.items if g.story in wanted)


def _parse_range(item: str) -> tuple[str, Range | str] | None:
    """`entities/12-20` → ("entities", (12, 20)); `stance/iran` → ("stance", "iran")."""
    layer, sep, rest = item.partition("/")
    if not sep:
        return None
    if layer == "stance":
        return layer, rest
    start, dash, end = rest.partition("-")
    if not dash or not start.isdigit() or not end.isdigit():
        return None
    return layer, (int(start), int(end))


def _open_items(disputes_path: Path, id_field: str = "article_id") -> dict[str, list[str]]:
    """Open dispute items per article (`entities/S-E`, `claims/S-E`, `stance/T`); a queue
    task names its article in `data[id_field]` (the corpus's `article_id_field`)."""
    if not disputes_path.is_file():
        return {}
    try:
        tasks = json.loads(disputes_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(
            f"{disputes_path}: not a dispute queue ({exc})", path=str(disputes_path)
        ) from None
    out: dict[str, list[str]] = {}
    for task in tasks if isinstance(tasks, list) else []:
        data = task.get("data", {}) if isinstance(task, dict) else {}
        aid = data.get(id_field, data.get("article_id"))
        for did in data.get("dispute_ids", []) or []:
            # dispute ids are `ARTICLE/LAYER/ITEM`; the article id has no "/"
            if isinstance(aid, str) and isinstance(did, str) and did.startswith(aid + "/"):
                out.setdefault(aid, []).append(did[len(aid) + 1 :])
    return out


def _gold_article(
    article: Article,
    entities: Sequence[EntitySpan],
    stances: Sequence[StanceJudgement],
    claims: Sequence[Claim],
    open_items: Sequence[str],
) -> GoldArticle:
    missing: dict[str, list[Any]] = {"entities": [], "claims": [], "stance": []}
    for item in open_items:
        parsed = _parse_range(item)
        if parsed is not None and parsed[0] in missing:
            missing[parsed[0]].append(parsed[1])
    return GoldArticle(
        article=article,
        entities=tuple(sorted(entities, key=lambda e: (e.start, e.end, e.label))),
        stances=tuple(sorted(stances, key=lambda s: s.target)),
        claims=tuple(sorted(claims, key=lambda c: (c.start, c.end))),
        missing_entities=tuple(sorted(set(missing["entities"]))),
        missing_claims=tuple(sorted(set(missing["claims"]))),
        missing_stances=tuple(sorted(set(missing["stance"]))),
    )


def from_gold_file(config: CorpusConfig, gold_path: Path | None = None) -> TrainingSet:
    """Gold from `build/gold.jsonl` (or `gold_path`), texts from `build/articles.parquet`."""
    from corpus_tools.adjudicate.gold import iter_gold
    from corpus_tools.adjudicate.queue import DISPUTES_FILE

    gold_path = Path(gold_path) if gold_path else config.paths.build / "gold.jsonl"
    if not gold_path.is_file():
        raise UsageError(
            f"{store.display_path(gold_path)}: no gold to train on",
            hint="Run `corpus adjudicate` first (or pass --gold dist/VERSION).",
            path=str(gold_path),
        )
    articles = store.load_articles(config.paths.articles_parquet)
    open_items = _open_items(gold_path.parent / DISPUTES_FILE, config.scheme.names.article_id_field)
    items: list[GoldArticle] = []
    skipped: list[str] = []
    for rec in iter_gold(gold_path):
        article = articles.get(rec.article_id)
        if article is None or article.text_sha256 != rec.text_sha256:
            skipped.append(rec.article_id)
            continue
        items.append(
            _gold_article(
                article,
                [g.span for g in rec.entities],
                [g.stance for g in rec.stances],
                [g.claim for g in rec.claims],
                [*open_items.get(rec.article_id, []), *rec.dropped],
            )
        )
    return TrainingSet(
        items=tuple(sorted(items, key=lambda g: g.article_id)),
        source=store.display_path(gold_path),
        source_sha256=store.sha256_file(gold_path),
        scheme_sha256=config.scheme.digest(),
        skipped=tuple(skipped),
    )


def _rows(folder: Path, config_name: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    files = sorted((folder / "data" / config_name).glob("*.parquet"))
    rows: list[dict[str, Any]] = []
    for f in files:
        try:
            rows.extend(pq.read_table(f).to_pylist())
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise DataError(f"{f}: not a readable Parquet file ({exc})", path=str(f)) from None
    return rows


def from_release(config: CorpusConfig, folder: Path) -> TrainingSet:
    """Gold from a release folder (`dist/VERSION`): its articles, entities, stance and claims."""
    from corpus_tools.release import versions

    folder = Path(folder)
    manifest, manifest_sha = versions.read_manifest(folder, what=store.display_path(folder))
    released_scheme = manifest.get("scheme_sha256")
    stories: dict[str, Article] = {}
    incomplete: set[str] = set()
    for row in _rows(folder, "articles"):
        if not row.get("has_gold", True):
            continue
        if row.get("claims_complete") is False:
            incomplete.add(row["article_id"])
        text = row["text"]
        stories[row["article_id"]] = Article(
            article_id=row["article_id"],
            source=row.get("source") or "",
            outlet=row.get("outlet"),
            url=row.get("url"),
            title=row.get("title"),
            published=row.get("published"),
            language=row.get("language") or "en",
            text=text,
            text_sha256=store.sha256_text(text),
            sentences=tuple(Sentence(s["start"], s["end"]) for s in row.get("sentences") or []),
            story_id=row.get("story_id"),
        )
    scheme = config.scheme

    def name(names: Sequence[str], value: Any) -> Any:
        # ClassLabel columns hold the class id; the scheme's label order is the id
        return names[value] if isinstance(value, int) and 0 <= value < len(names) else value

    ents: dict[str, list[EntitySpan]] = {}
    missing: dict[str, list[str]] = {}
    for row in _rows(folder, "entities"):
        aid = row["article_id"]
        ents[aid] = [
            EntitySpan(e["start"], e["end"], name(scheme.entity_labels, e["label"]), e["text"])
            for e in row["entities"]
        ]
        missing.setdefault(aid, []).extend(
            f"entities/{r['start']}-{r['end']}" for r in row.get("disputed_regions") or []
        )
    stances: dict[str, list[StanceJudgement]] = {}
    for row in _rows(folder, "stance"):
        stances.setdefault(row["article_id"], []).append(
            StanceJudgement(row["target"], name(scheme.stance_labels, row["label"]))
        )
    claims: dict[str, list[Claim]] = {}
    for row in _rows(folder, "claims"):
        aid = row["article_id"]
        span = row["span"]
        claims.setdefault(aid, []).append(
            Claim(
                span["start"],
                span["end"],
                row["text"],
                name(scheme.checkworthy, row.get("checkworthy")),
                row.get("claimant"),
            )
        )
    # The targets each article was asked about, from its annotators' raw answers: with one
    # stance control (`[scheme.names] stance`) each task names its own target.
    single = bool(scheme.names.stance)
    asked: dict[str, set[str]] = {}
    if single:
        for row in _rows(folder, "annotations"):
            asked.setdefault(row["article_id"], set()).update(
                s["target"] for s in row.get("stances") or []
            )
    items = []
    for aid, cs in claims.items():
        # the claim's text is the article's text at its span (never trusted from the row)
        if aid in stories:
            text = stories[aid].text
            claims[aid] = [
                Claim(c.start, c.end, text[c.start : c.end], c.checkworthy, c.claimant) for c in cs
            ]
    for aid, article in stories.items():
        extra = missing.get(aid, [])
        if aid in incomplete:
            # the release says which articles' claims are incomplete, not where: the whole
            # text is missing for claim negatives
            extra = [*extra, f"claims/0-{len(article.text)}"]
        # a stance target without a row is open (disputed or dropped), not a negative; asked
        # with one control, an article's task asked one target: the others were not asked
        answered = {s.target for s in stances.get(aid, [])}
        targets = asked.get(aid, set()) if single else {t.id for t in scheme.stance_targets}
        extra += [f"stance/{t.id}" for t in scheme.stance_targets if t.id in targets - answered]
        items.append(
            _gold_article(
                article, ents.get(aid, []), stances.get(aid, []), claims.get(aid, []), extra
            )
        )
    return TrainingSet(
        items=tuple(sorted(items, key=lambda g: g.article_id)),
        source=store.display_path(folder),
        source_sha256=manifest_sha,
        scheme_sha256=str(released_scheme or ""),
    )


def load_training_set(config: CorpusConfig, gold: Path | None = None) -> TrainingSet:
    """The training set from `gold` (a gold.jsonl file or a release folder; default
    `build/gold.jsonl`). A release made with another scheme is refused (ConfigError)."""
    from corpus_tools.errors import ConfigError

    if gold is not None and Path(gold).is_dir():
        ts = from_release(config, Path(gold))
        if ts.scheme_sha256 != config.scheme.digest():
            raise ConfigError(
                f"{ts.source}: released with another scheme than corpus.toml's "
                f"({ts.scheme_sha256[:12]} vs {config.scheme.digest()[:12]})",
                hint="Train from a release of this scheme, or from build/gold.jsonl.",
                path=str(gold),
            )
        return ts
    return from_gold_file(config, gold)
