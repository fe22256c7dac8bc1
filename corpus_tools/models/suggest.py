"""Suggestions: a trained bundle's outputs merged into one Label Studio prediction per article.

Three suggesters propose entity spans: the spaCy model (`model`), story projection (`projection`:
surface forms adjudicated in a sibling article of the same story, and spans carried through a
reprinted sentence) and the learned gazetteer (`gazetteer`). Claims come from the claim model
and from sentence projection; stance from the stance model. The merge rule, in order:

1. **Same span, several sources** (identical start, end and label): the scores combine as a
   noisy-OR, `1 - prod(1 - p_i)` over the sources (within one source, the best of its
   candidates). The sources look at different evidence (the model reads context, projection
   the story's own gold, the gazetteer corpus-wide surface forms), so agreement should raise the
   score above what any one of them gives; the max would throw that corroboration away. The
   gazetteer and surface-form projection both count gold surface forms, so their combination
   is optimistic when only those two agree; where the model proposes another span or label
   there, step 3 weighs that combined score against the model's.
2. **Below the floor**: a merged span whose combined score is under `MIN_SCORE` (0.3) is dropped.
   Claims have no common floor: each source applies its own cut before the merge. The claim
   model suggests the sentences whose P(claim) reaches the threshold it learned from its
   training gold (`ClaimModel.threshold`, saved with the bundle: calibrated probabilities of a
   claim are low where claims are rare, so a fixed 0.5 would suggest almost nothing); a
   projected claim needs `MIN_CLAIM_SCORE` (0.5), projection's own rule. The noisy-OR of step 1
   only raises a score, so a claim that passed its source's cut stays.
   **The claim gate**: a claim model that is not better than "every sentence is a claim" on
   out-of-fold gold (`ClaimModel.informative` False; see `corpus_tools.models.classify`)
   suggests no claims at all: flagging nearly every sentence is noise to an annotator, not a
   suggestion. Projected claims still come; `Suggester.notes` says why the model's do not.
3. **Overlapping different spans** (or one span with two labels): the higher combined score
   wins; ties go to the source priority model > projection > gazetteer (the best source among a
   span's contributors), then the longer span, then the leftmost.

Each kept region records its sources where Label Studio keeps and shows them: the region's
`meta.text` (the region's note in the UI, stored as-is with the prediction and carried into an
annotation that accepts it), each source with its own score, e.g.
`model 0.91 + projection 1.00 (from art-1c99…, surface) + gazetteer 0.75`.

**Uncertainty** (in [0, 1], higher = annotate first) is the mean over the layers that have a
decision of the mean per-decision *margin loss* `1 - (p1 - p2)`, where p1 and p2 are the two
highest probabilities of the decision:
- entities: each kept region is a yes/no decision with p = its combined score, so
  `1 - |2p - 1|`;
- stance: each target's distribution over the stance labels;
- claims: each ingested sentence's claim probability from the claim model, `1 - |2p - 1|`.
  This stays centred on 0.5, not on the model's learned threshold: the threshold decides
  which sentences are *shown* (a low cut, because a missed claim costs more than a deleted
  suggestion), while the margin loss measures how unsure the calibrated model is whether the
  sentence *is* a claim, which is what an annotation settles. A sentence at P = 0.1 is a
  likely non-claim that is suggested anyway when the cut is lower; it is not a coin flip.
  A closed claim gate does not remove this layer: the ranking of sentences is still the
  calibrated model's best guess of which ones are claims, only its cut is not worth showing.
Regions name the corpus's controls (`[scheme.names]`: an adopted project's `ner`, its claim
label beside the entity labels, ...). When the labeling config asks stance with one control
whose target is in the task data, a suggestion answers the stance on the targets its task asks
(`Scheme.task_targets` of the task's data, passed to `Suggester.predict_many`), so the stance
layer's uncertainty covers those targets only.

An article with no decision at all has uncertainty 1 (nothing is known about it). The
prediction's `score` is `1 - uncertainty`, so sorting Label Studio's Data Manager by
"Prediction score" ascending puts the most uncertain first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from corpus_tools import store
from corpus_tools.config import ControlNames, CorpusConfig
from corpus_tools.errors import DataError
from corpus_tools.model import Article, PredictedSpan
from corpus_tools.models.classify import GATE_CLOSED
from corpus_tools.preannotate import keep_non_overlapping

if TYPE_CHECKING:
    from corpus_tools.models.bundle import Bundle
    from corpus_tools.models.classify import PredictedClaim
    from corpus_tools.models.data import GoldArticle, TrainingSet
    from corpus_tools.models.project import Projected

SOURCES = ("model", "projection", "gazetteer")
"""Entity sources in priority order (ties in the overlap rule go to the earlier one)."""
MIN_SCORE = 0.3
"""Merged entity spans scoring below this are not suggested."""
MIN_CLAIM_SCORE = 0.5
"""Projected claims scoring below this are not suggested (projection's own rule; the claim
model's claims are cut at the model's learned threshold instead)."""
DIGITS = 4
"""Scores and the uncertainty are rounded to this many decimals (stable files, exact sort)."""
BATCH = 64
"""Articles per batch in `predict_many`."""

_PRIORITY = {s: i for i, s in enumerate(SOURCES)}


@dataclass(frozen=True)
class Suggestion:
    """One article's Label Studio prediction and how uncertain it is.

    `counts`: kept regions per source (a region merged from two sources counts for both) and
    `agreed` (regions with more than one source); `layers`: each layer's uncertainty.
    """

    prediction: dict[str, Any]
    uncertainty: float
    counts: dict[str, int] = field(default_factory=dict)
    layers: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One source's proposal for a span (an entity, or a claim with `label` None)."""

    start: int
    end: int
    label: str | None
    score: float
    source: str  # one of SOURCES
    note: str = ""  # e.g. the sibling article a projection came from
    checkworthy: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Merged:
    """Candidates for one (start, end, label) after the merge rule."""

    start: int
    end: int
    label: str | None
    score: float
    sources: tuple[Candidate, ...]  # best candidate per source, in priority order
    checkworthy: dict[str, float] = field(default_factory=dict)

    @property
    def priority(self) -> int:
        return min(_PRIORITY[c.source] for c in self.sources)

    def meta(self) -> str:
        parts = []
        for c in self.sources:
            part = f"{c.source} {c.score:.2f}"
            if c.note:
                part += f" ({c.note})"
            parts.append(part)
        return " + ".join(parts)


def noisy_or(scores: Iterable[float]) -> float:
    """`1 - prod(1 - p)`: the chance that at least one of independent sources is right."""
    miss = 1.0
    for p in scores:
        miss *= 1.0 - min(max(p, 0.0), 1.0)
    return 1.0 - miss


def merge(candidates: Iterable[Candidate], *, min_score: float = MIN_SCORE) -> list[Merged]:
    """The merge rule (see the module docstring): combine identical spans, drop those under
    `min_score`, resolve overlaps by score then source priority; return text order."""
    groups: dict[tuple[int, int, str | None], dict[str, Candidate]] = {}
    for c in candidates:
        best = groups.setdefault((c.start, c.end, c.label), {})
        if c.source not in best or c.score > best[c.source].score:
            best[c.source] = c
    merged: list[Merged] = []
    for (start, end, label), by_source in groups.items():
        sources = tuple(sorted(by_source.values(), key=lambda c: _PRIORITY[c.source]))
        score = noisy_or(c.score for c in sources)
        if score < min_score:
            continue
        # check-worthiness: the first source (in priority order) that has a distribution
        checkworthy = next((c.checkworthy for c in sources if c.checkworthy), {})
        merged.append(Merged(start, end, label, score, sources, checkworthy))
    kept = keep_non_overlapping(
        merged,
        lambda m: (-round(m.score, DIGITS), m.priority, m.start - m.end, m.start, m.label or ""),
    )
    return sorted(kept, key=lambda m: (m.start, m.end, m.label or ""))


def margin_loss(probabilities: Iterable[float]) -> float:
    """`1 - (p1 - p2)` for the two highest probabilities (p2 = 0 when there is one)."""
    top = sorted(probabilities, reverse=True)[:2]
    if not top:
        return 1.0
    p1 = top[0]
    p2 = top[1] if len(top) > 1 else 0.0
    return min(max(1.0 - (p1 - p2), 0.0), 1.0)


def binary_margin_loss(p: float) -> float:
    """The margin loss of a yes/no decision with P(yes) = p: `1 - |2p - 1|`."""
    return margin_loss((p, 1.0 - p))


def uncertainty(layers: Mapping[str, Sequence[float]]) -> tuple[float, dict[str, float]]:
    """The mean over layers that have decisions of each layer's mean margin loss (1 if none).

    `layers` maps a layer to its per-decision margin losses; returns the uncertainty and the
    per-layer means.
    """
    means = {name: sum(v) / len(v) for name, v in layers.items() if v}
    if not means:
        return 1.0, {}
    return sum(means.values()) / len(means), means


def article_from_task(
    task: Mapping[str, Any],
    *,
    known: Mapping[str, Article] | None = None,
    names: ControlNames | None = None,
) -> Article:
    """A Label Studio task (from a server, an export or build/tasks.json) as an Article.

    The task's text (`data.text`, or the corpus's `[scheme.names] text_field` with `names`)
    is the truth: `text_sha256` is computed from it (a stale `data.text_sha256` does not
    matter here). The id is `data.article_id` (`article_id_field`), else `task-<id>`, the
    id `corpus ingest` gives an article read from a Label Studio export. When `known` (e.g.
    the ingested articles) has that id with the same text, that Article is returned (its
    sentences, story and metadata); otherwise sentences come from ingest's splitter and the
    story from `data.story_id` if any (a Suggester also finds the story of an article id that
    is in its gold).
    """
    n = names or ControlNames()
    data = task.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get(n.text_field), str):
        raise DataError(
            f"task {task.get('id')!r} has no data.{n.text_field} to suggest on",
            task_id=task.get("id") if isinstance(task.get("id"), int | str) else None,
            hint=f"Suggestions need the task's text in data.{n.text_field} ([scheme.names] "
            "text_field in corpus.toml), as the labeling config shows it.",
        )
    text: str = data[n.text_field]
    sha = store.sha256_text(text)
    aid = data.get(n.article_id_field)
    article_id = aid if isinstance(aid, str) and aid else f"task-{task.get('id')}"
    prior = (known or {}).get(article_id)
    if prior is not None and prior.text_sha256 == sha:
        return prior
    from corpus_tools.ingest.clean import sentences

    def opt(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) and value else None

    language = opt("language") or "en"
    return Article(
        article_id=article_id,
        source="label-studio",
        outlet=opt("outlet"),
        url=opt("url"),
        title=opt("title"),
        published=opt("published"),
        language=language,
        text=text,
        text_sha256=sha,
        sentences=sentences(text, language),
        story_id=opt("story_id"),
    )


class Suggester:
    """A bundle's models, story projection and gazetteer as one Label Studio prediction.

    `siblings`: gold articles whose stories may be shared with the articles to suggest on
    (usually `load_training_set(config)`); without it, projection is skipped. `notes`: what
    the suggestions leave out and why, for a summary (the closed claim gate).
    """

    def __init__(
        self, bundle: Bundle, config: CorpusConfig, siblings: TrainingSet | None = None
    ) -> None:
        self.bundle = bundle
        self.config = config
        self.model_version: str = bundle.version
        self._entity_labels = set(config.scheme.entity_labels)
        self._stance_labels = set(config.scheme.stance_labels)
        self._checkworthy = set(config.scheme.checkworthy)
        self._names = config.scheme.names
        # the targets an article is asked about when the caller does not say (see predict_many)
        self._targets = tuple(config.scheme.task_targets({}))
        self._stories: dict[str, list[GoldArticle]] = {}
        self._story_of: dict[str, str] = {}
        for g in siblings or ():
            self._stories.setdefault(g.story, []).append(g)
            self._story_of[g.article_id] = g.story
        claims = bundle.claims
        # the claim gate: an uninformative detector's claims are not suggested
        self.model_claims: bool = claims is not None and bool(getattr(claims, "informative", True))
        self.notes: list[str] = []
        if claims is not None and not self.model_claims:
            self.notes.append(str(claims.gate.get("reason") or GATE_CLOSED))

    def siblings_of(self, article: Article) -> list[GoldArticle]:
        """Gold articles of the article's story, the article itself excluded."""
        story = article.story_id or self._story_of.get(article.article_id)
        if story is None:
            return []
        return [g for g in self._stories.get(story, ()) if g.article_id != article.article_id]

    def predict(self, article: Article, *, targets: Sequence[str] | None = None) -> Suggestion:
        """One article's prediction (see the module docstring for the rule); `targets` as in
        `predict_many`."""
        return next(self.predict_many([article], targets=None if targets is None else [targets]))

    def predict_many(
        self,
        articles: Iterable[Article],
        *,
        batch_size: int = BATCH,
        targets: Iterable[Sequence[str]] | None = None,
    ) -> Iterator[Suggestion]:
        """`predict` for many articles: each model runs on a batch at once (the same results
        as one article at a time, several times faster).

        `targets`: per article, the stance targets its task asks about (`Scheme.task_targets`
        of the task's data). Default: every target when the labeling config has a control
        per target; none when it asks stance with one control whose target is in the task's
        data (the article alone does not say which).
        """
        batch: list[tuple[Article, tuple[str, ...]]] = []
        asked = iter(targets) if targets is not None else None
        for article in articles:
            these = tuple(next(asked)) if asked is not None else self._targets
            batch.append((article, these))
            if len(batch) >= batch_size:
                yield from self._batch(batch)
                batch = []
        if batch:
            yield from self._batch(batch)

    def _batch(self, items: Sequence[tuple[Article, tuple[str, ...]]]) -> Iterator[Suggestion]:
        articles = [a for a, _ in items]
        n = len(articles)
        b = self.bundle
        spans: list[list[PredictedSpan]] = (
            list(b.ner.predict_many(articles)) if b.ner is not None else [[] for _ in articles]
        )
        stances: list[dict[str, dict[str, float]]] = [{} for _ in range(n)]
        if b.stance is not None:
            many = getattr(b.stance, "predict_many", None)
            stances = list(many(articles)) if many else [b.stance.predict(a) for a in articles]
        claims: list[list[Any]] = [[] for _ in range(n)]
        scores: list[list[tuple[int, int, float]]] = [[] for _ in range(n)]
        if b.claims is not None:
            cm = b.claims
            many = getattr(cm, "predict_many", None)
            # threshold None: the sentences at or above the model's learned threshold
            if self.model_claims:
                claims = list(many(articles)) if many else [cm.predict(a) for a in articles]
            many = getattr(cm, "sentence_scores_many", None)
            scores = list(many(articles)) if many else [cm.sentence_scores(a) for a in articles]
        for i, (article, targets) in enumerate(items):
            yield self._suggest(article, targets, spans[i], stances[i], claims[i], scores[i])

    # --- the parts -----------------------------------------------------------------------

    def _check(self, article: Article, source: str, start: int, end: int, text: str) -> None:
        if not (0 <= start < end <= len(article.text)) or article.text[start:end] != text:
            raise DataError(
                f"suggester {source!r} of model {self.model_version!r} proposed "
                f"[{start}, {end}) {text!r}, which is not the article's text there",
                task_id=article.article_id,
                hint="A suggester must return code-point offsets into article.text; "
                "retrain the model (`corpus model train`) or report the bug.",
            )

    def _entity_candidates(
        self, article: Article, spans: Sequence[PredictedSpan], projected: Sequence[Projected]
    ) -> list[Candidate]:
        out: list[Candidate] = []
        from_gazetteer = self.bundle.gazetteer.predict(article)
        for source, found in (("model", spans), ("gazetteer", from_gazetteer)):
            for s in found:
                self._check(article, source, s.start, s.end, s.text)
                out.append(Candidate(s.start, s.end, s.label, float(s.score), source))
        for p in projected:
            if p.kind == "entity" and p.label is not None:
                out.append(
                    Candidate(
                        p.start,
                        p.end,
                        p.label,
                        float(p.score),
                        "projection",
                        f"from {p.source}, {p.method}",
                    )
                )
        for c in out:
            if c.label not in self._entity_labels:
                raise DataError(
                    f"suggester {c.source!r} of model {self.model_version!r} proposed label "
                    f"{c.label!r}, which is not in the scheme",
                    task_id=article.article_id,
                    hint="Retrain the model with this corpus.toml (`corpus model train`).",
                )
        return out

    def _projected(self, article: Article) -> list[Projected]:
        """Surface forms and reprinted sentences carried from the article's story siblings."""
        siblings = self.siblings_of(article)
        if not siblings:
            return []
        from corpus_tools.models.project import project_sentences, story_surface_forms

        found = [*story_surface_forms(article, siblings), *project_sentences(article, siblings)]
        for p in found:
            self._check(article, "projection", p.start, p.end, p.text)
        return found

    def _claim_candidates(
        self, article: Article, claims: Sequence[PredictedClaim], projected: Sequence[Projected]
    ) -> list[Candidate]:
        out: list[Candidate] = []
        for c in claims:
            self._check(article, "claims", c.start, c.end, c.text)
            cw = {k: float(v) for k, v in c.checkworthy.items() if k in self._checkworthy}
            out.append(Candidate(c.start, c.end, None, float(c.score), "model", "", cw))
        for p in projected:
            if p.kind == "claim" and p.score >= MIN_CLAIM_SCORE:
                cw = {p.checkworthy: float(p.score)} if p.checkworthy in self._checkworthy else {}
                out.append(
                    Candidate(
                        p.start,
                        p.end,
                        None,
                        float(p.score),
                        "projection",
                        f"from {p.source}, {p.method}",
                        cw,
                    )
                )
        return out

    def _suggest(
        self,
        article: Article,
        targets: Sequence[str],
        spans: Sequence[PredictedSpan],
        stances: Mapping[str, Mapping[str, float]],
        claims: Sequence[PredictedClaim],
        sentence_scores: Sequence[tuple[int, int, float]],
    ) -> Suggestion:
        projected = self._projected(article)
        text = article.text
        names = self._names
        result: list[dict[str, Any]] = []
        counts = {s: 0 for s in SOURCES} | {"agreed": 0}

        def count(m: Merged) -> None:
            for c in m.sources:
                counts[c.source] += 1
            if len(m.sources) > 1:
                counts["agreed"] += 1

        entities = merge(self._entity_candidates(article, spans, projected))
        for i, m in enumerate(entities):
            count(m)
            result.append(
                {
                    "id": f"e{i:04d}",
                    "from_name": names.entities,
                    "to_name": names.text,
                    "type": "labels",
                    "origin": "prediction",
                    "score": round(m.score, DIGITS),
                    "meta": {"text": [m.meta()]},
                    "value": {
                        "start": m.start,
                        "end": m.end,
                        "text": text[m.start : m.end],
                        "labels": [m.label],
                    },
                }
            )
        stance_losses: list[float] = []
        if stances:
            dists = stances
            for target in targets:
                dist = {k: float(v) for k, v in (dists.get(target) or {}).items()}
                if not dist:
                    continue
                unknown = sorted(set(dist) - self._stance_labels)
                if unknown:
                    raise DataError(
                        f"stance model of {self.model_version!r} answered {unknown} for "
                        f"{target!r}, not a stance label of the scheme",
                        task_id=article.article_id,
                        hint="Retrain the model with this corpus.toml (`corpus model train`).",
                    )
                label = max(sorted(dist), key=lambda k: dist[k])
                stance_losses.append(margin_loss(dist.values()))
                result.append(
                    {
                        "id": f"s-{target}",
                        "from_name": self.config.scheme.stance_control(target),
                        "to_name": names.text,
                        "type": "choices",
                        "origin": "prediction",
                        "score": round(dist[label], DIGITS),
                        "value": {"choices": [label]},
                    }
                )
        claim_losses = [binary_margin_loss(p) for _s, _e, p in sentence_scores]
        # each source's candidates passed its own cut already (see the module docstring)
        merged_claims = merge(self._claim_candidates(article, claims, projected), min_score=0.0)
        for i, m in enumerate(merged_claims):
            count(m)
            rid = f"c{i:04d}"
            span = {"start": m.start, "end": m.end, "text": text[m.start : m.end]}
            result.append(
                {
                    "id": rid,
                    "from_name": names.claims,
                    "to_name": names.text,
                    "type": "labels",
                    "origin": "prediction",
                    "score": round(m.score, DIGITS),
                    "meta": {"text": [m.meta()]},
                    "value": {**span, "labels": [names.claim_label]},
                }
            )
            if m.checkworthy:
                cw = m.checkworthy
                label = max(sorted(cw), key=lambda k: cw[k])
                result.append(
                    {
                        "id": rid,  # per-region choices share the claim region's id
                        "from_name": names.checkworthy,
                        "to_name": names.text,
                        "type": "choices",
                        "origin": "prediction",
                        "score": round(cw[label], DIGITS),
                        "value": {**span, "choices": [label]},
                    }
                )
        value, layers = uncertainty(
            {
                "entities": [binary_margin_loss(m.score) for m in entities],
                "stance": stance_losses,
                "claims": claim_losses,
            }
        )
        u = round(value, DIGITS)
        return Suggestion(
            prediction={
                "model_version": self.model_version,
                "score": round(1.0 - u, DIGITS),
                "result": result,
            },
            uncertainty=u,
            counts=counts,
            layers={k: round(v, DIGITS) for k, v in layers.items()},
        )
