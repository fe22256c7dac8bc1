"""Build one release: Parquet per config and split, the dataset card and the manifest.

Memory stays flat as the corpus grows: articles are streamed from `build/articles.parquet` in
batches (one row group of the table at a time), annotations and gold records are staged in a
temporary SQLite file and fetched per batch (`staging`, which also holds the article ids for
the unknown-article check), and every (config, split) file is written in row groups of
compact Arrow arrays (`parquet`). For the whole corpus only the id column (Arrow) and a split
code per article (numpy) are held; the manifest's article rows go to a scratch file.

Reproducible: no timestamps or absolute paths anywhere; Parquet written with fixed settings;
rows in articles-table order; the same inputs and version give byte-identical files.
The previous release (for split stability, label-id checks and the changelog) is the highest
version below this one found in the local hub folder (`<hub>/<name>/vX.Y.Z`) or in
`<dist>/X.Y.Z`, read from its `manifest.json`.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Collection, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from corpus_tools import adjudicate, exports, store
from corpus_tools.agreement import agree, render_markdown
from corpus_tools.agreement.core import latest_per_annotator, stance_per_task
from corpus_tools.config import CorpusConfig
from corpus_tools.constants import AGREEMENT_BOOTSTRAP, AGREEMENT_SEED
from corpus_tools.errors import DataError, UsageError
from corpus_tools.model import Annotation, Article, Finding, GoldRecord, ReleaseResult
from corpus_tools.release import card as card_mod
from corpus_tools.release import versions
from corpus_tools.release.features import (
    CONFIGS,
    SPLITS,
    ConfigName,
    LabelLists,
    check_append_only,
    features_for,
    label_lists,
)
from corpus_tools.release.parquet import SplitWriter
from corpus_tools.release.splits import assign_split_codes
from corpus_tools.release.staging import (
    NO_DISPUTES,
    ArticleDisputes,
    Staging,
    article_disputes,
    open_disputes,
)
from corpus_tools.release.tokens import align, mask_regions

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

ARTICLE_BATCH = 1000
# With the garbage collector paused (`gc_paused`), the young generations are collected once per
# this many batches: what little cyclic garbage a build makes cannot pile up.
COLLECT_EVERY = 10
# Agreement for the card is measured on at most this many articles (a deterministic sample by
# article id hash beyond it), so memory does not grow with the corpus.
AGREEMENT_MAX_ARTICLES = 1000
SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
MANIFEST = "manifest.json"
CARD = "README.md"


def parse_version(version: str) -> tuple[int, int, int]:
    """`1.2.0` or `v1.2.0` as a tuple; UsageError for anything else."""
    m = SEMVER.match(version.strip())
    if not m:
        raise UsageError(
            f"{version!r} is not a version of the form X.Y.Z",
            hint="Use semantic versioning, e.g. `corpus release 0.1.0`.",
        )
    return int(m[1]), int(m[2]), int(m[3])


def normalize_version(version: str) -> str:
    """`v1.2.0` -> `1.2.0` (folders in dist use the bare version, tags and hub folders `v`)."""
    return ".".join(map(str, parse_version(version)))


def data_path(config: ConfigName, split: str) -> str:
    """Where a (config, split) Parquet file lives inside a release folder."""
    return f"data/{config}/{split}-00000-of-00001.parquet"


@dataclass(frozen=True, slots=True)
class PreviousRelease:
    """A release found on disk: its version, folder and manifest."""

    version: str
    path: Path
    manifest: dict[str, Any]


def release_folders(config: CorpusConfig) -> dict[str, Path]:
    """Every release on disk by version: local hub folders win over dist folders."""
    found: dict[str, Path] = {}
    candidates = []
    if config.paths.dist.is_dir():
        candidates += [(p, p.name) for p in config.paths.dist.iterdir()]
    hub = config.paths.hub / config.name
    if hub.is_dir():
        candidates += [(p, p.name) for p in hub.iterdir()]
    for path, name in candidates:
        if SEMVER.match(name) and (path / MANIFEST).is_file():
            found[normalize_version(name)] = path
    return found


def find_previous(config: CorpusConfig, version: str) -> PreviousRelease | None:
    """The highest release strictly below `version`, or None for a first release."""
    current = parse_version(version)
    older = [v for v in release_folders(config) if parse_version(v) < current]
    if not older:
        return None
    best = max(older, key=parse_version)
    path = release_folders(config)[best]
    # An empty or broken manifest is a clear refusal (exit 2), before anything is written.
    manifest, _ = versions.read_manifest(path, what=f"release {best}")
    return PreviousRelease(best, path, manifest)


LAYERS = ("entities", "stance", "checkworthy")
GOLD_CONFIGS = ("entities", "stance", "claims")


@dataclass(slots=True)
class _Tally:
    """Label counts (in total and per split), provenance counts and findings gathered while
    writing."""

    labels: dict[str, Counter[str]] = field(default_factory=lambda: {k: Counter() for k in LAYERS})
    by_split: dict[str, dict[str, Counter[str]]] = field(
        default_factory=lambda: {k: {} for k in LAYERS}
    )
    provenance: dict[str, Counter[str]] = field(
        default_factory=lambda: {k: Counter() for k in GOLD_CONFIGS}
    )
    findings: list[Finding] = field(default_factory=list)
    annotators: set[str] = field(default_factory=set)
    gaps: Counter[str] = field(default_factory=Counter)  # what open disputes leave unknown
    outlets: set[str] = field(default_factory=set)

    def label(self, layer: str, label: str, split: str) -> None:
        self.labels[layer][label] += 1
        by = self.by_split[layer]
        if label not in by:
            by[label] = Counter()
        by[label][split] += 1


def _finding(slug: str, severity: str, message: str, ann: Annotation | None, **kw: Any) -> Finding:
    return Finding(
        slug=slug,
        severity="error" if severity == "error" else "warning",
        message=message,
        file=ann.source.file if ann else None,
        task_id=ann.source.task_id if ann else kw.pop("task_id", None),
        annotation_id=ann.source.annotation_id if ann else None,
        **kw,
    )


def _check_annotation(article: Article, ann: Annotation) -> Finding | None:
    """Why an annotation cannot be used (made on a changed text, a span outside the text), or
    None. Such annotations are reported, not used."""
    if ann.text_sha256 and ann.text_sha256 != article.text_sha256:
        return _finding(
            "stale-annotation",
            "warning",
            f"annotation by {ann.annotator} on article {article.article_id} was made on a "
            "different text; not used in this release",
            ann,
            hint="Re-annotate the task on the current text (`corpus tasks`, `corpus ls push`).",
        )
    n = len(article.text)
    if all(0 <= e.start < e.end <= n for e in ann.entities) and all(
        0 <= c.start < c.end <= n for c in ann.claims
    ):
        return None  # the common case; the loop below names the first span outside
    spans = [(e.start, e.end, e.region_id) for e in ann.entities]
    spans += [(c.start, c.end, c.region_id) for c in ann.claims]
    for start, end, rid in spans:
        if not 0 <= start < end <= n:
            return _finding(
                "span-out-of-bounds",
                "warning",
                f"span [{start}:{end}] outside article {article.article_id} "
                f"({n} code points); annotation not used",
                ann,
                region_id=rid,
                hint="Run `corpus validate` and fix the export.",
            )
    return None


def _gold_item_problem(text: str, start: int, end: int, item_text: str) -> str | None:
    """Why a gold span does not fit its article's text (bounds, `text[start:end]`), or None."""
    if not 0 <= start < end <= len(text):
        return f"outside the text ({len(text)} code points)"
    if text[start:end] != item_text:
        return f"text[{start}:{end}] is {text[start:end]!r}"
    return None


def _check_gold(article: Article, gold: GoldRecord) -> tuple[GoldRecord, list[Finding]]:
    """Every gold span re-checked against the article text at release; a bad item is an
    error finding (the release is refused) and is left out of the rows."""
    text = article.text
    n = len(text)
    if all(
        0 <= g.span.start < g.span.end <= n and text[g.span.start : g.span.end] == g.span.text
        for g in gold.entities
    ) and all(
        0 <= g.claim.start < g.claim.end <= n and text[g.claim.start : g.claim.end] == g.claim.text
        for g in gold.claims
    ):
        return gold, []  # the common case; the loop below names each bad item
    findings: list[Finding] = []
    aid = article.article_id

    def bad(layer: str, i: int, start: int, end: int, item_text: str) -> bool:
        why = _gold_item_problem(article.text, start, end, item_text)
        if why is not None:
            findings.append(
                _finding(
                    "gold-span-mismatch",
                    "error",
                    f"article {aid}: gold {layer} item [{start}:{end}] {item_text!r} does not "
                    f"fit the article text: {why}",
                    None,
                    task_id=aid,
                    pointer=f"gold.jsonl/{aid}/{layer}/{i}",
                    hint="Run `corpus adjudicate` again on the current articles; never edit "
                    "gold.jsonl by hand.",
                )
            )
        return why is not None

    entities = tuple(
        g
        for i, g in enumerate(gold.entities)
        if not bad("entities", i, g.span.start, g.span.end, g.span.text)
    )
    claims = tuple(
        g
        for i, g in enumerate(gold.claims)
        if not bad("claims", i, g.claim.start, g.claim.end, g.claim.text)
    )
    if findings:
        gold = replace(gold, entities=entities, claims=claims)
    return gold, findings


def _labels_digest(gold: GoldRecord | None) -> str:
    if gold is None:
        return ""
    payload = [
        [[g.span.start, g.span.end, g.span.label] for g in gold.entities],
        [[g.stance.target, g.stance.label] for g in gold.stances],
        [[g.claim.start, g.claim.end, g.claim.checkworthy, g.claim.claimant] for g in gold.claims],
    ]
    return store.sha256_text(orjson.dumps(payload).decode("utf-8"))


class _Builder:
    """Rows of every config for one article at a time."""

    def __init__(self, config: CorpusConfig, labels: LabelLists, out: Path) -> None:
        self.config = config
        self.features = {c: features_for(c, labels) for c in CONFIGS}
        self.ids = {k: {name: i for i, name in enumerate(v)} for k, v in labels.items()}
        self.targets = {t.id: t.name for t in config.scheme.stance_targets}
        self.writers = {
            (c, s): SplitWriter(out / data_path(c, s), self.features[c])
            for c in CONFIGS
            for s in SPLITS
        }
        self.tally = _Tally()

    def _label_id(
        self, layer: str, label: str | None, article_id: str, region: str | None
    ) -> int | None:
        if label is None:
            return None
        found = self.ids[layer].get(label)
        if found is None:
            self.tally.findings.append(
                _finding(
                    "unknown-label",
                    "error",
                    f"{layer} label {label!r} on article {article_id} is not in the scheme "
                    f"({', '.join(self.ids[layer])})",
                    None,
                    task_id=article_id,
                    region_id=region,
                    hint="Add the label to corpus.toml (at the end) or fix the annotation.",
                )
            )
        return found

    def article(
        self,
        article: Article,
        split: str,
        anns: list[Annotation],
        gold: GoldRecord | None,
        disputes: ArticleDisputes = NO_DISPUTES,
    ) -> list[Annotation]:
        """Write every config's rows of one article; returns the annotations used.

        Open disputes are never negatives: their tokens have `ner_mask` false, their claims
        make the article's claim list incomplete, a disputed stance target has no row.
        """
        aid = article.article_id
        used: list[Annotation] = []
        stale: set[str] = set()
        for ann in anns:
            problem = _check_annotation(article, ann)
            if problem is None:
                used.append(ann)
                continue
            self.tally.findings.append(problem)
            if problem.slug == "stale-annotation":
                stale.add(ann.annotator)
        self.tally.annotators.update(a.annotator for a in used)
        if gold is not None and gold.text_sha256 != article.text_sha256:
            self.tally.findings.append(
                _finding(
                    "stale-gold",
                    "error",
                    f"the gold record of article {aid} was made on a different text",
                    None,
                    task_id=aid,
                    hint="Run `corpus adjudicate` again on the current articles.",
                )
            )
            gold = None
        if gold is not None and stale & set(gold.annotators):
            self.tally.findings.append(
                _finding(
                    "stale-gold",
                    "error",
                    f"the gold record of article {aid} was built from annotations made on a "
                    f"different text (by {', '.join(sorted(stale & set(gold.annotators)))})",
                    None,
                    task_id=aid,
                    hint="Re-annotate the task on the current text (`corpus tasks`, "
                    "`corpus ls push`), then run `corpus adjudicate` again.",
                )
            )
            gold = None
        if gold is not None:
            gold, problems = _check_gold(article, gold)
            self.tally.findings.extend(problems)
        if article.outlet:
            self.tally.outlets.add(article.outlet)
        if disputes.claims:
            self.tally.gaps["claim_articles"] += 1
            self.tally.gaps["claim_regions"] += len(disputes.claims)
        self.tally.gaps["stance_targets"] += len(disputes.stance)
        w = self.writers
        # Rows are tuples in the order of the config's features (`features_for`).
        w["articles", split].add_row(
            article.article_id,
            article.title,
            article.url,
            article.outlet,
            article.source,
            article.published,
            article.language,
            article.text,
            article.text_sha256,
            [(x.start, x.end) for x in article.sentences],
            article.story_id,
            split,
            gold is not None,
            gold is not None and not disputes.claims,
            len(disputes.entities),
            len(disputes.stance),
            len(disputes.claims),
        )
        for ann in sorted(
            used, key=lambda a: (a.annotator, a.source.annotation_id or 0, a.source.task_id or 0)
        ):
            w["annotations", split].add_row(*self._annotation_row(ann))
        if gold is None:
            return used
        self._gold_rows(article, split, gold, disputes)
        return used

    def _gold_rows(
        self, article: Article, split: str, gold: GoldRecord, disputes: ArticleDisputes
    ) -> None:
        aid = article.article_id
        w = self.writers
        tally = self.tally
        kept = []
        entity_ids = self.ids["entities"]
        provenance = tally.provenance["entities"]
        counts = tally.labels["entities"]
        by_split = tally.by_split["entities"]
        for g in gold.entities:
            label = g.span.label
            if label not in entity_ids:
                self._label_id("entities", label, aid, g.span.region_id)  # the finding
                continue
            kept.append(g)
            counts[label] += 1  # as tally.label
            if label not in by_split:
                by_split[label] = Counter()
            by_split[label][split] += 1
            provenance[g.decision.provenance] += 1
        tok, findings = align(article.text, [g.span for g in kept], article_id=aid)
        tally.findings.extend(findings)
        n = len(article.text)
        regions = [(max(0, a), min(b, n)) for a, b in disputes.entities]
        mask = mask_regions(tok.offsets, regions)
        if regions:
            tally.gaps["entity_articles"] += 1
            tally.gaps["entity_regions"] += len(regions)
            tally.gaps["masked_tokens"] += mask.count(False)
        w["entities", split].add_row(
            aid,
            article.text,
            [
                (
                    g.span.start,
                    g.span.end,
                    entity_ids[g.span.label],
                    g.span.text,
                    g.decision.provenance,
                )
                for g in kept
            ],
            tok.tokens,
            list(map(self.ids["ner_tags"].__getitem__, tok.tags)),
            mask,
            regions,
        )
        for gs in gold.stances:
            st = gs.stance
            lid = self._label_id("stance", st.label, aid, None)
            if lid is None:
                continue
            if st.target not in self.targets:
                tally.findings.append(
                    _finding(
                        "unknown-target",
                        "error",
                        f"stance target {st.target!r} on article {aid} is not in the scheme "
                        f"({', '.join(self.targets)})",
                        None,
                        task_id=aid,
                        hint="Add the target to corpus.toml or run `corpus adjudicate` again.",
                    )
                )
                continue
            tally.label("stance", f"{st.target}: {st.label}", split)
            tally.provenance["stance"][gs.decision.provenance] += 1
            w["stance", split].add_row(
                aid,
                st.target,
                self.targets[st.target],
                article.text,
                lid,
                gs.decision.provenance,
            )
        for gold_claim in gold.claims:
            c = gold_claim.claim
            cw = self._label_id("checkworthy", c.checkworthy, aid, c.region_id)
            if c.checkworthy is not None and cw is None:
                continue
            tally.label("checkworthy", c.checkworthy or "(none)", split)
            tally.provenance["claims"][gold_claim.decision.provenance] += 1
            w["claims", split].add_row(
                f"{aid}:{c.start}-{c.end}",
                aid,
                c.text,
                (c.start, c.end),
                cw,
                c.claimant,
                gold_claim.decision.provenance,
                not disputes.claims,
                len(disputes.claims),
            )

    def _annotation_row(self, ann: Annotation) -> tuple[Any, ...]:
        """An `annotations` row, its values in the order of the config's features."""
        aid = ann.article_id
        ents = []
        entity_ids = self.ids["entities"]
        for e in ann.entities:
            lid = entity_ids.get(e.label)
            if lid is None:
                self._label_id("entities", e.label, aid, e.region_id)  # the finding
            else:
                ents.append((e.start, e.end, lid, e.text))
        stances = []
        for s in ann.stances:
            lid = self._label_id("stance", s.label, aid, None)
            if lid is not None:
                stances.append((s.target, lid))
        claims = []
        for c in ann.claims:
            cw = self._label_id("checkworthy", c.checkworthy, aid, c.region_id)
            if c.checkworthy is None or cw is not None:
                claims.append((c.start, c.end, c.text, cw, c.claimant))
        return (
            aid,
            ann.annotator,
            ann.source.task_id,
            ann.source.annotation_id,
            ents,
            stances,
            claims,
            ann.lead_time,
            ann.ground_truth,
        )

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _progress(
    items: Iterator[Article], total: int | None, on: bool, what: str
) -> Iterator[Article]:
    if not on:
        yield from items
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(what, total=total)
        for item in items:
            yield item
            bar.advance(task)


def _article_ids(path: Path) -> tuple[pa.Array, pa.Array]:
    """The article_id and story_id columns of the articles table, in file order: only those
    two columns are read. The table is opened by `store.iter_articles` first, so a missing or
    unreadable table, or one without the articles columns, is refused the same way; so is a
    duplicate article_id (the first one in file order is named)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    next(store.iter_articles(path, batch_size=1), None)
    table = pq.read_table(path, columns=["article_id", "story_id"])
    ids = table.column(0).combine_chunks()
    stories = table.column(1).combine_chunks()
    if len(pc.unique(ids)) != len(ids):
        seen: set[str] = set()
        for start in range(0, len(ids), 65536):
            for article_id in ids.slice(start, 65536).to_pylist():
                if article_id in seen:
                    raise DataError(
                        f"{path}: duplicate article_id {article_id}",
                        path=str(path),
                        hint="Rebuild the table with `corpus ingest`.",
                    )
                seen.add(article_id)
    return ids.cast(pa.string()), stories.cast(pa.string())


def _iter_articles(path: Path) -> Iterator[Article]:
    """The articles of a table `_article_ids` has read, as `store.iter_articles` gives them,
    read one row group at a time: pyarrow's batch reader over a whole file holds about 1 MB
    per row group of the file (23 MB for a 100k-article table of 20 row groups), one row
    group's reader holds only that row group."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    names = store.ARTICLES_SCHEMA.names
    for group in range(pf.num_row_groups):
        for batch in pf.iter_batches(batch_size=1024, row_groups=[group], columns=names):
            for row in batch.to_pylist():
                yield store.row_to_article(row)


def _stories_per_split(
    ids: pa.Array, story_ids: pa.Array, codes: npt.NDArray[np.int8], names: Sequence[str]
) -> dict[str, int]:
    """How many distinct stories (`story_id or article_id`) each split holds."""
    import numpy as np
    import pyarrow.compute as pc

    has_story = pc.fill_null(pc.not_equal(story_ids, ""), False)
    keys = pc.dictionary_encode(pc.if_else(has_story, story_ids, ids)).indices
    pairs = np.unique(keys.to_numpy(zero_copy_only=False).astype(np.int64) * len(names) + codes)
    per_code = np.bincount(pairs % len(names), minlength=len(names)).tolist()
    return {s: per_code[names.index(s)] for s in SPLITS}


class _Column(Collection[str]):
    """A string column as a collection, read in slices (no list of the whole column)."""

    STEP = 65536

    def __init__(self, column: pa.Array) -> None:
        self.column = column

    def __len__(self) -> int:
        return len(self.column)

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self.column), self.STEP):
            yield from self.column.slice(start, self.STEP).to_pylist()

    def __contains__(self, item: object) -> bool:
        return any(item == x for x in self)


class _Lines(Iterable[str]):
    """The lines of a scratch file (written elsewhere), read again on each iteration."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __iter__(self) -> Iterator[str]:
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                yield line.rstrip("\n")


def _batches(items: Iterator[Article], size: int) -> Iterator[list[Article]]:
    batch: list[Article] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def build_release(*, config: CorpusConfig, version: str, progress: bool = False) -> ReleaseResult:
    """Build release `version` into `<dist>/<version>/` and return what was written.

    Raises DataError (exit 1) when an annotation uses a label that is not in the scheme:
    nothing is written then and the previous build stays in place.
    """
    version = normalize_version(version)
    previous = find_previous(config, version)
    # Refuses (exit 2) a published version it cannot read; leases dist/, sweeps stale temps.
    guard = versions.guard_build(config, version)
    with guard.lease, gc_paused():  # held until the build is in place or has failed
        return _build(config, version, previous, guard, progress=progress)


@contextlib.contextmanager
def gc_paused() -> Generator[None, None, None]:
    """Python's cyclic garbage collector off for the block, restored as it was on any exit.

    A build allocates millions of small objects that live briefly (rows, spans, tokens) or for
    the whole build; with the collector on, its full passes over the long-lived ones took about
    30% of the CPU. Reference counting still frees everything that is not in a cycle, and the
    build calls `collect_young()` every COLLECT_EVERY batches of articles, so cyclic garbage
    (there is little) cannot pile up: memory stays flat.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def collect_young() -> None:
    """Collect the young generations only (the objects made since the last call): their
    survivors move to the oldest generation, which is not scanned again during the build."""
    gc.collect(1)


def _build(
    config: CorpusConfig,
    version: str,
    previous: PreviousRelease | None,
    guard: versions.BuildGuard,
    *,
    progress: bool,
) -> ReleaseResult:
    """`build_release` under its guard's lease."""
    root = config.paths.root
    labels = label_lists(config.scheme)
    if previous is not None:
        check_append_only(
            previous.manifest.get("labels", {}), labels, config.scheme, since=previous.version
        )
    articles_path = config.paths.articles_parquet
    # Pass 1: ids and story ids only, for the splits. Per-article state is held in Arrow and
    # numpy arrays (ids, a split code per article), not Python objects: memory stays flat.
    ids, story_ids = _article_ids(articles_path)
    prev_splits = {
        row[0]: row[1] for row in (previous.manifest.get("articles", []) if previous else [])
    }
    split_codes, split_names, split_findings = assign_split_codes(
        ids, story_ids, config.splits, prev_splits
    )
    stories = _stories_per_split(ids, story_ids, split_codes, split_names)
    del story_ids
    n_articles = len(ids)

    ann_files = exports.export_files([config.paths.annotations])
    if not config.paths.annotations.is_dir() or not ann_files:
        raise UsageError(
            f"{config.paths.annotations}: no annotation exports to release",
            path=str(config.paths.annotations),
            hint="Pull the annotations first: `corpus ls pull`.",
        )
    gold_path = config.paths.build / adjudicate.GOLD_FILE
    if not gold_path.is_file():
        raise UsageError(
            f"{gold_path}: no gold records to release",
            path=str(gold_path),
            hint="Run `corpus adjudicate` first.",
        )
    disputes_path = config.paths.build / adjudicate.DISPUTES_FILE
    disputes = open_disputes(disputes_path, config.scheme.names.article_id_field)
    sample = _agreement_sample(_Column(ids))
    config.paths.dist.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", suffix=".tmp", dir=config.paths.dist))
    try:
        staging = Staging(tmp / "staging.sqlite")
        try:
            staging.load_article_ids(_Column(ids))
            staging.load(exports.iter_annotations(ann_files, config.scheme))
            staging.load_gold(gold_path)
            out = tmp / "release"
            builder = _Builder(config, labels, out)
            # One compact JSON row per article (id, split, text sha256, labels sha256), written
            # to a scratch file as they come (the card's changelog and the manifest read it).
            manifest_articles = _Lines(tmp / "manifest-articles.jsonl")
            rows_out = open(manifest_articles.path, "wb")  # noqa: SIM115  (closed below)
            released_disputes: set[str] = set()  # articles with open disputes, released
            sample_articles: dict[str, Article] = {}
            sample_anns: list[Annotation] = []
            articles_iter = _progress(
                _iter_articles(articles_path), n_articles, progress, "release"
            )
            position = 0
            per_target = stance_per_task(config)
            for n_batch, batch in enumerate(_batches(articles_iter, ARTICLE_BATCH)):
                if n_batch % COLLECT_EVERY == 0:
                    collect_young()
                ids_ = [a.article_id for a in batch]
                if ids_ != ids.slice(position, len(ids_)).to_pylist():
                    raise DataError(
                        f"{articles_path}: the table changed while the release was built",
                        path=str(articles_path),
                        hint="Run `corpus release` again once `corpus ingest` has finished.",
                    )
                codes = split_codes[position : position + len(ids_)].tolist()
                position += len(ids_)
                anns = staging.fetch(ids_)  # the latest annotation of each annotator:
                latest, _ = latest_per_annotator(
                    [a for v in anns.values() for a in v], per_target=per_target
                )
                golds = staging.fetch_gold(ids_)
                for art, code in zip(batch, codes, strict=True):
                    split = split_names[code]
                    gold = golds.get(art.article_id)
                    mine = list(latest.get(art.article_id, {}).values())
                    found = disputes.get(art.article_id)
                    if art.article_id in disputes:
                        released_disputes.add(art.article_id)
                    if gold is not None and gold.dropped:  # ties a `drop` rule left out
                        found = [*(found or ()), *gold.dropped]
                    used = builder.article(
                        art,
                        split,
                        mine,
                        gold,
                        article_disputes(found, source=disputes_path) if found else NO_DISPUTES,
                    )
                    rows_out.write(
                        orjson.dumps([art.article_id, split, art.text_sha256, _labels_digest(gold)])
                        + b"\n"
                    )
                    if art.article_id in sample and used:
                        sample_articles[art.article_id] = art
                        sample_anns.extend(used)
            rows_out.close()
            if position != n_articles:
                raise DataError(
                    f"{articles_path}: the table changed while the release was built",
                    path=str(articles_path),
                    hint="Run `corpus release` again once `corpus ingest` has finished.",
                )
            builder.close()
            for w in builder.writers.values():
                if w.num_examples == 0:  # see card.card_metadata: no file for an empty split
                    w.path.unlink()
            for what, ids_iter in (
                ("annotations", staging.unknown_article_ids()),
                ("a gold record", staging.unknown_gold_article_ids()),
            ):
                for aid in ids_iter:  # not in the articles table
                    builder.tally.findings.append(
                        _finding(
                            "unknown-article",
                            "warning",
                            f"{what} for article {aid}, which is not in the articles "
                            "table; not released",
                            None,
                            task_id=aid,
                            hint="Re-run `corpus ingest`, `corpus adjudicate`, or remove "
                            "the stale export.",
                        )
                    )
        finally:
            staging.close()
        dispute_findings = [
            _finding(
                "open-dispute",
                "warning",
                f"article {aid}: {len(items)} item(s) still in dispute are not in the gold "
                f"labels ({', '.join(items[:5])}{', ...' if len(items) > 5 else ''})",
                None,
                task_id=aid,
                hint="Settle them in the adjudication project and run `corpus adjudicate` again.",
            )
            for aid, items in sorted(disputes.items())
            if aid in released_disputes
        ]
        findings = split_findings + builder.tally.findings + dispute_findings + guard.findings
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            shown = "\n  ".join(f.message for f in errors[:10])
            more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
            raise DataError(
                f"release {version} refused: {len(errors)} error(s) in the data\n  {shown}{more}",
                hint=" ".join(dict.fromkeys(f.hint for f in errors if f.hint))
                or "Run `corpus check` and fix the annotations or the scheme.",
            )
        counts: dict[str, dict[str, int]] = {
            c: {s: builder.writers[c, s].num_examples for s in SPLITS} for c in CONFIGS
        }
        inputs = {
            "articles": {
                "path": _rel(articles_path, root),
                "sha256": store.sha256_file(articles_path),
            },
            "annotations": [
                {"path": _rel(f, root), "sha256": store.sha256_file(f)} for f in ann_files
            ],
            "gold": {"path": _rel(gold_path, root), "sha256": store.sha256_file(gold_path)},
            "disputes": (
                {"path": _rel(disputes_path, root), "sha256": store.sha256_file(disputes_path)}
                if disputes_path.is_file()
                else None
            ),
        }
        agreement_md = _agreement_markdown(config, sample_anns, sample_articles, total=n_articles)
        del sample_anns, sample_articles
        label_counts = {k: dict(sorted(v.items())) for k, v in builder.tally.labels.items()}
        label_counts_by_split = {
            layer: {
                label: {s: by[label][s] for s in SPLITS if by[label][s]} for label in sorted(by)
            }
            for layer, by in builder.tally.by_split.items()
        }
        provenance_counts = {
            c: dict(sorted(v.items())) for c, v in builder.tally.provenance.items()
        }
        gold_source = f"adjudication (`corpus adjudicate`, {_rel(gold_path, root)})"
        card_text = card_mod.render(
            config=config,
            version=version,
            builder_info=card_mod.CardInfo(
                features=builder.features,
                writers={
                    k: (w.num_examples, w.num_bytes, w.path.stat().st_size if w.num_examples else 0)
                    for k, w in builder.writers.items()
                },
                label_counts=label_counts,
                labels=labels,
                findings=findings,
                previous=previous,
                articles=manifest_articles,
                gold_source=gold_source,
                annotators=len(builder.tally.annotators),
                disputed_articles=len(dispute_findings),
                disputed_items=sum(len(v) for k, v in disputes.items() if k in released_disputes),
                agreement_markdown=agreement_md,
                label_counts_by_split=label_counts_by_split,
                provenance_counts=provenance_counts,
                stories=stories,
                gaps=dict(builder.tally.gaps),
                outlets=sorted(builder.tally.outlets),
            ),
        )
        store.atomic_write_text(out / CARD, card_text)
        files = {
            p.relative_to(out).as_posix(): store.sha256_file(p)
            for p in sorted(out.rglob("*"))
            if p.is_file()
        }
        manifest = {
            "name": config.name,
            "version": version,
            "tag": f"v{version}",
            "tool": versions.tool_info(),
            "scheme_sha256": config.scheme.digest(),
            "previous": previous.version if previous else None,
            "gold_source": _rel(gold_path, root),
            "inputs": inputs,
            "labels": labels,
            "counts": counts,
            "label_counts": label_counts,
            "label_counts_by_split": label_counts_by_split,
            "provenance_counts": provenance_counts,
            "files": {
                name: {"sha256": digest, "bytes": (out / name).stat().st_size}
                for name, digest in files.items()
            },
        }
        with store.atomic_path(out / MANIFEST) as tmp_manifest:
            write_manifest(tmp_manifest, manifest, manifest_articles)
        final = config.paths.dist / version
        _swap_in(out, final, tmp, guard)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ReleaseResult(
        version=version,
        path=str(final),
        status=guard.status,
        message=guard.message,
        previous=previous.version if previous else None,
        counts=counts,
        files=files,
        findings=tuple(findings),
        gold_source=_rel(gold_path, root),
    )


def write_manifest(path: Path, manifest: dict[str, Any], articles: Iterable[str]) -> None:
    """`manifest` as `store.dump_json` writes it, plus its `articles` key (sorted first), one
    compact row per line, streamed so the rows are never assembled into one big object."""
    rest = store.dump_json(manifest)  # "{\n" + the other keys, all sorting after "articles"
    with open(path, "wb") as fh:
        fh.write(b'{\n  "articles": [')
        empty = True
        for row in articles:
            fh.write(b"\n    " if empty else b",\n    ")
            fh.write(row.encode("utf-8"))
            empty = False
        fh.write(b"],\n" if empty else b"\n  ],\n")
        fh.write(rest[2:])


def _sample_key(article_id: str) -> str:
    return store.sha256_text(f"agreement-sample\0{article_id}")


def _agreement_sample(ids: Collection[str]) -> set[str]:
    """The articles agreement is measured on: all, or a deterministic sample by id hash."""
    if len(ids) <= AGREEMENT_MAX_ARTICLES:
        return set(ids)
    return set(heapq.nsmallest(AGREEMENT_MAX_ARTICLES, ids, key=_sample_key))


def _agreement_markdown(
    config: CorpusConfig,
    annotations: list[Annotation],
    articles: dict[str, Article],
    *,
    total: int,
) -> str | None:
    """The card's agreement section, from `corpus_tools.agreement` (None without annotations)."""
    if not annotations:
        return None
    report = agree(
        config=config,
        annotations=annotations,
        articles=articles,
        bootstrap=AGREEMENT_BOOTSTRAP,
        seed=AGREEMENT_SEED,
    )
    text = render_markdown(report, heading_level=4).strip()
    if len(articles) < total:
        head, _, rest = text.partition("\n")
        text = (
            f"{head}\n\nMeasured on a deterministic sample of {len(articles)} of {total} "
            f"articles (by article id hash).\n{rest}"
        )
    return text


def _swap_in(new: Path, final: Path, tmp: Path, guard: versions.BuildGuard) -> None:
    """Put the finished folder in place once `guard` admits it (a published version is never
    given other content): one atomic exchange, so readers of `final` see the old build or the
    new one; the old build ends up inside `tmp` and goes with it. An intact build with the
    same files is left as it is."""
    if guard.admit(new, final):
        store.swap_in(new, final, tmp / "old")
