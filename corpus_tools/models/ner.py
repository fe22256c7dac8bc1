"""A spaCy NER pipeline trained on the gold spans (blank English; nothing downloaded).

The pipeline is `spacy.blank("en")` plus one `beam_ner` component (spaCy's transition-based
entity recogniser with a beam): a small hash-embedding CNN (`HashEmbedCNN`, width 64, depth 2)
under a 64-unit state layer, so it trains in seconds on a few dozen articles and in minutes
on thousands.

**Training data.** One example per sentence (the ingested sentences; `chunks`), its tokens
tagged BILUO from the gold spans; short examples keep updates cheap and the beam local.
What adjudication left open (`GoldArticle.missing_entities`: open disputes, dropped ties) is
*missing*: those tokens get spaCy's missing tag "-" and are left out of the loss, never taught
as "O". A gold span whose edges fall inside a token (spaCy's tokenizer cut the text elsewhere),
that starts or ends on whitespace, overlaps another gold span, or has a label outside
`labels` is not trained on either: its tokens become "-" as well, and it is counted in
`info["skipped_spans"]` (the first 100 are listed with their reason in `info["skipped"]`).
A span is never moved to the nearest token boundaries: that would teach a wrong span.

**Scores.** Prediction runs the beam (width `BEAM_WIDTH`) over each sentence: each finished
analysis in the beam has a probability (the beam's normalised scores, `Beam.probs`), and the
score of a predicted entity is the total probability of the analyses that contain it, with
the same start, end and label (`EntityRecognizer.scored_ents`). The entities returned are
those of the best analysis, so their scores are in (0, 1]: close to 1 when every analysis
agrees, lower when the beam hesitates between boundaries or labels. Measured on the sample
(leave one story out): spans scored >= 0.95 were right 82% of the time, those below 27%.

Offsets are spaCy's character offsets, which are code points into the same `str`, so
`article.text[start:end] == span.text` holds for every span (emoji, non-BMP letters, CRLF
and combining marks included; a token never splits a character from its accents).
"""

from __future__ import annotations

import bisect
import random
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus_tools import store
from corpus_tools.errors import DataError, UsageError
from corpus_tools.model import Article, PredictedSpan, Sentence
from corpus_tools.models.data import GoldArticle
from corpus_tools.preannotate import resolve_overlaps

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

NER_DIR = "ner"
PIPE = "beam_ner"
META_KEY = "corpus_tools"
BEAM_WIDTH = 16
BEAM_DENSITY = 0.0001  # keep analyses down to this share of the best one's probability
BEAM_UPDATE_PROB = 0.0  # updates are greedy (fast); the beam is used to predict
# Sentences per update: 8 on small gold (more updates per epoch learn more from a few
# articles), growing with the gold up to 32 so an epoch needs at least ~128 updates but not
# many more (per update overhead: 32 per batch trains 1.6x faster than 8 on 56 articles).
MIN_BATCH, MAX_BATCH, UPDATES_PER_EPOCH = 8, 32, 128
DROPOUT = 0.1
MISSING = "-"
MAX_SKIPPED_LISTED = 100  # skipped spans listed in info (all are counted)
MAX_CHUNK = 128  # tokens in one piece the beam runs on

# The component's model: small and fast (widths chosen by measuring on the sample; see
# docs/models.md). Stored in the pipeline's config.cfg, so `load` rebuilds it with no download.
MODEL_CONFIG: dict[str, Any] = {
    "@architectures": "spacy.TransitionBasedParser.v2",
    "state_type": "ner",
    "extra_state_tokens": False,
    "hidden_width": 64,
    "maxout_pieces": 2,
    "use_upper": True,
    "nO": None,
    "tok2vec": {
        "@architectures": "spacy.HashEmbedCNN.v2",
        "pretrained_vectors": None,
        "width": 64,
        "depth": 2,
        "embed_size": 2000,
        "window_size": 1,
        "maxout_pieces": 2,
        "subword_features": True,
    },
}


def _spacy() -> Any:
    try:
        import spacy
    except ImportError:
        raise UsageError(
            "the NER model needs spaCy",
            hint="pip install 'corpus-tools[model]' (spaCy 3.8).",
        ) from None
    return spacy


def biluo_tags(
    doc: Doc, item: GoldArticle, labels: Iterable[str]
) -> tuple[list[str], list[tuple[int, int, str, str]]]:
    """The BILUO tags of `doc` (the tokens of `item.article.text`) from the gold spans.

    Returns the tags and the spans not trained on, as (start, end, label, reason). Tokens of a
    missing range or of a skipped span are "-" (missing), never "O".
    """
    text = item.article.text
    allowed = set(labels)
    tags = ["O"] * len(doc)
    owner: list[int | None] = [None] * len(doc)  # which gold span tagged the token
    skipped: list[tuple[int, int, str, str]] = []
    to_mark: list[tuple[int, int]] = list(item.missing_entities)

    starts = [t.idx for t in doc]
    ends = [t.idx + len(t.text) for t in doc]

    def tokens_over(start: int, end: int) -> range:
        # the tokens whose characters overlap [start, end): ends after start, starts before end
        return range(bisect.bisect_right(ends, start), bisect.bisect_left(starts, end))

    for k, e in enumerate(sorted(item.entities, key=lambda e: (e.start, -e.end, e.label))):
        reason = None
        span = doc.char_span(e.start, e.end, alignment_mode="strict")
        frag = text[e.start : e.end]
        if e.label not in allowed:
            reason = "unknown-label"
        elif span is None:
            reason = "not-token-aligned"
        elif not frag or frag != frag.strip():
            reason = "whitespace-edge"
        elif any(owner[i] is not None for i in range(span.start, span.end)):
            reason = "overlaps-another-span"
        if reason is not None or span is None:
            skipped.append((e.start, e.end, e.label, reason or "not-token-aligned"))
            to_mark.append((e.start, e.end))
            continue
        n = span.end - span.start
        for j, i in enumerate(range(span.start, span.end)):
            owner[i] = k
            if n == 1:
                tags[i] = f"U-{e.label}"
            else:
                tags[i] = f"{'B' if j == 0 else 'L' if j == n - 1 else 'I'}-{e.label}"
    for start, end in to_mark:
        for i in tokens_over(start, end):
            if owner[i] is None:
                tags[i] = MISSING
    return tags, skipped


def batch_size_for(n_examples: int) -> int:
    """Sentences per update for a training set of `n_examples` sentences."""
    return min(MAX_BATCH, max(MIN_BATCH, n_examples // UPDATES_PER_EPOCH))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without whitespace at its edges (offsets moved, never the text changed)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def chunks(doc: Doc, sentences: Sequence[Sentence], tags: Sequence[str] = ()) -> list[range]:
    """Token ranges of `doc`, one per sentence, that training and prediction run the beam on.

    The ingested sentences decide the cuts (a token goes to the sentence its first character
    is in; whitespace between sentences stays with the sentence before). An article without
    sentences (a Label Studio task) is cut after line breaks and after ". ! ?" before a
    capital. Pieces longer than MAX_CHUNK tokens are cut further. No cut falls inside a gold
    entity (`tags`), so no span is split.
    """
    n = len(doc)
    cuts: set[int] = set()
    if sentences:
        starts = [t.idx for t in doc]
        cuts.update(bisect.bisect_left(starts, st.start) for st in sentences)
    else:
        for i, tok in enumerate(doc[:-1]):
            nxt = doc[i + 1]
            if (tok.is_space and "\n" in tok.text) or (
                tok.text in {".", "!", "?"} and (nxt.is_space or nxt.text[:1].isupper())
            ):
                cuts.add(i + 1)
    bounds = sorted(c for c in cuts if 0 < c < n)
    out: list[range] = []
    a = 0
    for b in [*bounds, n]:
        while b - a > MAX_CHUNK:
            out.append(range(a, a + MAX_CHUNK))
            a += MAX_CHUNK
        if b > a:
            out.append(range(a, b))
        a = b
    if tags:
        # merge a piece into the previous one where the cut would split a gold span
        merged: list[range] = []
        for r in out:
            if merged and tags[r.start][:2] in ("I-", "L-"):
                merged[-1] = range(merged[-1].start, r.stop)
            else:
                merged.append(r)
        out = merged
    return [r for r in out if not all(doc[i].is_space for i in r)]


class SpacyNer:
    """A blank-English spaCy pipeline with a beam NER component, trained on the gold spans."""

    model_version: str = "spacy-ner"

    def __init__(self, nlp: Language, info: dict[str, Any] | None = None) -> None:
        self.nlp = nlp
        meta = nlp.meta.get(META_KEY) or {}
        self.info: dict[str, Any] = dict(info if info is not None else meta.get("info", {}))
        self.labels: tuple[str, ...] = tuple(meta.get("labels") or self._ner().labels)

    def _ner(self) -> Any:
        """The beam NER component (typed Any: its beam methods are not in spaCy's stubs)."""
        return self.nlp.get_pipe(PIPE)

    # -- training -----------------------------------------------------------------------

    @classmethod
    def train(
        cls,
        items: Sequence[GoldArticle],
        labels: Sequence[str],
        *,
        seed: int = 0,
        epochs: int = 20,
        progress: Callable[[int, int], None] | None = None,
    ) -> SpacyNer:
        """Train on `items` (missing ranges left out of the loss); deterministic for a seed.

        `progress(epoch, epochs)` is called after each epoch (1-based).
        """
        spacy = _spacy()
        from spacy.training import Example
        from spacy.util import fix_random_seed, minibatch

        if epochs < 1:
            raise UsageError(f"epochs must be at least 1, not {epochs}")
        if not labels:
            raise UsageError("no entity labels to train on", hint="Check [scheme] entities.")
        fix_random_seed(seed)
        nlp = spacy.blank("en")
        ner = nlp.add_pipe(
            PIPE,
            config={
                "model": MODEL_CONFIG,
                "beam_width": BEAM_WIDTH,
                "beam_density": BEAM_DENSITY,
                "beam_update_prob": BEAM_UPDATE_PROB,
            },
        )
        for label in labels:
            ner.add_label(label)
        examples = []
        skipped: list[dict[str, Any]] = []
        n_tokens = n_missing = n_entities = 0
        for item in items:
            doc = nlp.make_doc(item.article.text)
            tags, bad = biluo_tags(doc, item, labels)
            skipped.extend(
                {"article_id": item.article_id, "start": s, "end": e, "label": lab, "reason": r}
                for s, e, lab, r in bad
            )
            n_tokens += len(doc)
            n_missing += tags.count(MISSING)
            n_entities += sum(t[0] in "BU" for t in tags if t != MISSING)
            for r in chunks(doc, item.article.sentences, tags):
                piece = doc[r.start : r.stop].as_doc()
                examples.append(Example.from_dict(piece, {"entities": tags[r.start : r.stop]}))
        if not examples:
            raise UsageError(
                "no gold articles to train the NER model on",
                hint="Adjudicate some annotations first (`corpus adjudicate`).",
            )
        optimizer = nlp.initialize(lambda: examples)
        batch_size = batch_size_for(len(examples))
        rng = random.Random(seed)
        epoch_losses: list[float] = []
        for epoch in range(1, epochs + 1):
            order = list(examples)
            rng.shuffle(order)
            losses: dict[str, float] = {}
            for batch in minibatch(order, size=batch_size):
                nlp.update(batch, sgd=optimizer, drop=DROPOUT, losses=losses)
            epoch_losses.append(round(float(losses.get(PIPE, 0.0)), 4))
            if progress is not None:
                progress(epoch, epochs)
        info = {
            "articles": len(items),
            "examples": len(examples),
            "tokens": n_tokens,
            "entities": n_entities,
            "missing_tokens": n_missing,
            "skipped_spans": len(skipped),
            "skipped": skipped[:MAX_SKIPPED_LISTED],
            "epochs": epochs,
            "losses": epoch_losses,
            "seed": seed,
            "beam_width": BEAM_WIDTH,
            "batch_size": batch_size,
            "spacy": spacy.__version__,
        }
        nlp.meta[META_KEY] = {"labels": list(labels), "info": info}
        return cls(nlp, info)

    # -- prediction ---------------------------------------------------------------------

    def predict(self, article: Article) -> list[PredictedSpan]:
        """The entities of the beam's best analysis, each scored by its beam probability."""
        return next(self.predict_many([article]))

    def predict_many(
        self, articles: Iterable[Article], *, batch_size: int = 64
    ) -> Iterator[list[PredictedSpan]]:
        """`predict` over many articles: tokenised with `nlp.pipe`, the beam run on batches
        of sentences (`chunks`), offsets mapped back to each article's text."""
        from spacy.util import minibatch

        ner = self._ner()
        for group in minibatch(articles, size=batch_size):
            texts = [a.text for a in group]
            # nlp.pipe without the component only tokenises (`disable` here changes no state,
            # so threads may share the model); the beam runs below, because the per-entity
            # probabilities come from the beams themselves
            docs = list(self.nlp.pipe(texts, batch_size=batch_size, disable=[PIPE]))
            pieces: list[tuple[int, int, Doc]] = []  # (article index, char offset, piece)
            for k, (article, doc) in enumerate(zip(group, docs, strict=True)):
                for r in chunks(doc, article.sentences):
                    pieces.append((k, doc[r.start].idx, doc[r.start : r.stop].as_doc()))
            found: list[list[PredictedSpan]] = [[] for _ in group]
            if pieces:
                piece_docs = [p[2] for p in pieces]
                beams = ner.predict(piece_docs)
                ner.set_annotations(piece_docs, beams)
                for (k, base, piece), scores in zip(pieces, ner.scored_ents(beams), strict=True):
                    text = texts[k]
                    for ent in piece.ents:
                        start, end = _trim(text, base + ent.start_char, base + ent.end_char)
                        if end <= start:
                            continue
                        # the best analysis is in the beam, so its entities have a
                        # probability > 0; the bounds only guard float rounding
                        p = scores.get((ent.start, ent.end, ent.label_), 0.0)
                        score = min(1.0, max(float(p), 1e-6))
                        found[k].append(
                            PredictedSpan(start, end, ent.label_, text[start:end], score)
                        )
            yield from (resolve_overlaps(spans) for spans in found)

    # -- persistence --------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write the pipeline to `folder/ner/` (replaced as a whole: old or new, never half)."""
        folder = Path(folder)
        target = folder / NER_DIR
        self.nlp.meta[META_KEY] = {"labels": list(self.labels), "info": self.info}
        with store.fs_errors(target):
            folder.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix=f".{NER_DIR}.", dir=folder))
            try:
                new = scratch / "new"
                self.nlp.to_disk(new)
                store.swap_in(new, target, scratch / "old")
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> SpacyNer:
        """The pipeline saved in `folder/ner/` (read from disk only: no network)."""
        spacy = _spacy()
        path = Path(folder) / NER_DIR
        if not (path / "config.cfg").is_file():
            raise DataError(
                f"{store.display_path(path)}: no trained NER pipeline here",
                hint="Train one with `corpus model train`.",
                path=str(path),
            )
        try:
            nlp = spacy.load(path)
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(
                f"{store.display_path(path)}: cannot load the NER pipeline ({exc})",
                hint="Retrain with `corpus model train`.",
                path=str(path),
            ) from None
        if PIPE not in nlp.pipe_names:
            raise DataError(
                f"{store.display_path(path)}: the pipeline has no {PIPE} component",
                hint="Retrain with `corpus model train`.",
                path=str(path),
            )
        return cls(nlp)
