"""Pre-annotation: entity spans proposed to annotators as Label Studio predictions.

A pre-annotator is anything with a `model_version` and a `predict(article)` that returns
`PredictedSpan`s (code-point offsets into `article.text`, `text == article.text[start:end]`).

Built in:
- `RulePreannotator`: a gazetteer (inline in corpus.toml and/or a file) plus date patterns.
  Matching is case-sensitive ("US" is not "us"), on word boundaries, and a multi-word term
  matches across any run of whitespace, line breaks included (so "Jens\\r\\nStoltenberg" is
  found, and its span keeps the CRLF). Overlaps are resolved longest-first, then leftmost.
- `SpacyPreannotator`: a spaCy pipeline folder (one trained from the gold by `corpus model
  train`: `spacy:build/models/<version>/ner`) or an installed package; scheme labels pass
  through, OntoNotes labels are mapped (PERSON -> PER, ...), unknown ones dropped; a beam
  recogniser gives real scores.

Plug-ins are named in `[preannotate] plugins`: `"spacy:build/models/<version>/ner"`, or
`"package.module:factory"` where `factory(config)` returns a pre-annotator. A plug-in that
fails to import, whose factory raises, or whose `predict` raises or returns something other
than a list of `PredictedSpan` is a ConfigError naming it (and the article), so `corpus tasks`
stops with exit 2 and writes no tasks file.
"""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from corpus_tools.config import CorpusConfig, format_path
from corpus_tools.errors import ConfigError, UsageError
from corpus_tools.model import Article, PredictedSpan

GAZETTEER_SCORE = 0.9
DATE_SCORE = 0.8


@runtime_checkable
class Preannotator(Protocol):
    """What `corpus tasks` needs from a pre-annotator."""

    model_version: str

    def predict(self, article: Article) -> list[PredictedSpan]:
        """Spans for one article; offsets are code points into `article.text`."""
        ...


_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_MON = rf"(?:{_MONTHS}|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?)"
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
# Each pattern's group "d" is the date span (context words outside it are not labelled).
DATE_PATTERNS: tuple[str, ...] = (
    rf"(?P<d>{_MON}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})",  # December 13, 2024
    rf"(?P<d>\d{{1,2}}(?:st|nd|rd|th)?\s+{_MON},?\s+\d{{4}})",  # 13 December 2024
    rf"(?P<d>{_MON}\s+\d{{4}})",  # December 2024
    r"(?P<d>\d{4}-\d{2}-\d{2})",  # 2024-12-13
    rf"(?P<d>(?:last|next|this)\s+(?:week|month|year|{_WEEKDAYS}))",
    rf"(?P<d>yesterday|today|tomorrow|{_WEEKDAYS})",
    rf"(?:since|in|until|by|from|before|after)\s+(?P<d>{_MONTHS})",  # since April
)


def _term_pattern(term: str) -> str:
    words = term.split()
    return r"\s+".join(re.escape(w) for w in words)


class RulePreannotator:
    """Gazetteer terms and date patterns; deterministic, no model needed."""

    def __init__(
        self,
        gazetteer: Mapping[str, Sequence[str]],
        *,
        dates: bool = True,
        date_label: str | None = "DATE",
        model_version: str = "gazetteer-v1",
    ) -> None:
        self.model_version = model_version
        label_of: dict[str, str] = {}
        for label, terms in gazetteer.items():
            for term in terms:
                key = " ".join(term.split())
                if key:
                    label_of.setdefault(key, label)  # first label listed wins
        self._label_of = label_of
        self._gazetteer: re.Pattern[str] | None = None
        if label_of:
            alternatives = sorted(label_of, key=lambda t: (-len(t), t))
            self._gazetteer = re.compile(
                r"(?<!\w)(?:" + "|".join(_term_pattern(t) for t in alternatives) + r")(?!\w)"
            )
        self._dates: re.Pattern[str] | None = None
        self._date_label = date_label
        if dates and date_label:
            # Named groups cannot repeat in one pattern: number them d0, d1, ...
            alts = [p.replace("(?P<d>", f"(?P<d{i}>") for i, p in enumerate(DATE_PATTERNS)]
            self._dates = re.compile(r"(?<!\w)(?:" + "|".join(alts) + r")(?!\w)")

    def predict(self, article: Article) -> list[PredictedSpan]:
        text = article.text
        found: list[PredictedSpan] = []
        if self._gazetteer is not None:
            for m in self._gazetteer.finditer(text):
                label = self._label_of[" ".join(m.group(0).split())]
                found.append(PredictedSpan(m.start(), m.end(), label, m.group(0), GAZETTEER_SCORE))
        if self._dates is not None and self._date_label:
            for m in self._dates.finditer(text):
                start, end = _date_span(m)
                found.append(
                    PredictedSpan(start, end, self._date_label, text[start:end], DATE_SCORE)
                )
        return resolve_overlaps(found)


def _date_span(m: re.Match[str]) -> tuple[int, int]:
    # The combined pattern has one date group per alternative; take the one that matched.
    spans = [m.span(g) for g in range(1, (m.re.groups or 0) + 1) if m.start(g) >= 0]
    return spans[0] if spans else m.span()


class _Span(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


S = TypeVar("S", bound=_Span)


def keep_non_overlapping(spans: Iterable[S], rank: Callable[[S], Any]) -> list[S]:
    """Greedily keep spans in `rank` order, each only if it overlaps none kept before; the
    kept ones come back in rank order (every overlap rule of pre-annotation, projection and
    the suggestion merge is this loop with its own rank)."""
    kept: list[S] = []
    for s in sorted(spans, key=rank):
        if not any(s.start < k.end and k.start < s.end for k in kept):
            kept.append(s)
    return kept


def resolve_overlaps(spans: Iterable[PredictedSpan]) -> list[PredictedSpan]:
    """Keep non-overlapping spans, longest first (then leftmost); return them in text order."""
    kept = keep_non_overlapping(
        (s for s in spans if s.end > s.start), lambda s: (-(s.end - s.start), s.start, s.label)
    )
    return sorted(kept, key=lambda s: (s.start, s.end, s.label))


# spaCy's OntoNotes labels onto this project's scheme labels (applied only where both exist).
SPACY_LABELS = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "GPE",
    "LOC": "LOC",
    "NORP": "NORP",
    "DATE": "DATE",
    "EVENT": "EVENT",
    "FAC": "LOC",
}
SPACY_SCORE = 0.7
"""The score of a span from a greedy (non-beam) NER component, which gives no probability."""


class SpacyPreannotator:
    """Named entities from a spaCy pipeline: a trained pipeline folder or an installed package.

    `model` is a folder (`build/models/<version>/ner`, as `corpus model train` writes; a
    relative path is taken from corpus.toml's folder, then from the working directory) or the
    name of an installed pipeline package. Labels: a label that is already one of the scheme's
    passes through as it is; only other labels go through the OntoNotes map (PERSON -> PER,
    FAC -> LOC, ...); the rest are dropped. Scores: when the pipeline's entity recogniser keeps
    a beam (`beam_ner`, beam_width >= 2), each span's score is the beam's probability of that
    span (spaCy's `scored_ents`: the total probability of the analyses that contain it); a
    greedy recogniser gives none, so its spans score `score` (0.7). Spans are trimmed of
    whitespace at their edges, never moved beyond them. A pipeline that `corpus model train`
    wrote is run through `corpus_tools.models.ner.SpacyNer` (the beam over the article's
    sentences, as it was trained), so the plug-in gives what `corpus tasks --suggest` gets
    from the same model.
    """

    def __init__(
        self,
        model: str,
        labels: Iterable[str],
        score: float = SPACY_SCORE,
        *,
        root: Path | None = None,
    ) -> None:
        try:
            import spacy
            from spacy.pipeline import EntityRecognizer
        except ImportError:
            raise UsageError(
                "the spaCy pre-annotator needs spaCy",
                hint=f"pip install spacy (or 'corpus-tools[model]'), or remove "
                f"'spacy:{model}' from [preannotate] plugins.",
            ) from None
        path = _pipeline_path(model, root)
        try:
            self._nlp = spacy.load(path if path is not None else model, exclude=["lemmatizer"])
        except (OSError, ValueError, KeyError) as exc:
            if path is not None:
                raise UsageError(
                    f"{path}: not a spaCy pipeline folder ({exc})",
                    hint="Train one with `corpus model train` (it writes "
                    "build/models/<version>/ner), or fix [preannotate] plugins in corpus.toml.",
                    path=str(path),
                ) from None
            raise UsageError(
                f"spaCy model {model!r} is neither an installed package nor a pipeline folder",
                hint="Use a pipeline trained from the corpus's gold: `corpus model train`, then "
                "'spacy:build/models/<version>/ner' in [preannotate] plugins (no packaged "
                "model can be downloaded here).",
            ) from None
        ners = [
            (name, pipe) for name, pipe in self._nlp.pipeline if isinstance(pipe, EntityRecognizer)
        ]
        if not ners:
            raise UsageError(
                f"spaCy pipeline {model!r} has no entity recogniser",
                hint="Use a pipeline with an 'ner' or 'beam_ner' component.",
            )
        self._ner_name, self._ner = ners[-1]
        self._beam = int(self._ner.cfg.get("beam_width", 1)) >= 2
        self._own: Any = None
        from corpus_tools.models import ner as own_ner

        if own_ner.META_KEY in self._nlp.meta and own_ner.PIPE in self._nlp.pipe_names:
            # trained by `corpus model train`: predict as the model itself does (the beam
            # over the article's sentences, as it was trained), so the plug-in and
            # `corpus tasks --suggest` give the same spans and scores
            self._own = own_ner.SpacyNer(self._nlp)
        self._allowed = set(labels)
        self._map = {k: v for k, v in SPACY_LABELS.items() if v in self._allowed}
        self._score = score
        self.model_version = f"spacy-{model}-{self._nlp.meta.get('version', '0')}"

    def _label(self, label: str) -> str | None:
        if label in self._allowed:
            return label
        return self._map.get(label)

    def predict(self, article: Article) -> list[PredictedSpan]:
        text = article.text
        if self._own is not None:
            mapped = []
            for s in self._own.predict(article):
                label = self._label(s.label)
                if label is not None:
                    mapped.append(PredictedSpan(s.start, s.end, label, s.text, s.score))
            return resolve_overlaps(mapped)
        if not self._beam:
            doc = self._nlp(text)
            scores: dict[tuple[int, int, str], float] = {}
        else:
            # the beam's per-entity probabilities exist only on the beams themselves: run
            # the pipeline without the recogniser, then the recogniser by hand
            with self._nlp.select_pipes(disable=[self._ner_name]):
                doc = self._nlp(text)
            if len(doc):
                beams = self._ner.predict([doc])
                self._ner.set_annotations([doc], beams)
                scores = self._ner.scored_ents(beams)[0]
            else:
                scores = {}
        out = []
        for ent in doc.ents:
            label = self._label(ent.label_)
            if label is None:
                continue
            start, end = ent.start_char, ent.end_char
            while start < end and text[start].isspace():
                start += 1
            while end > start and text[end - 1].isspace():
                end -= 1
            if end <= start:
                continue
            if self._beam:
                # the best analysis is in the beam, so p > 0; the floor guards underflow
                p = min(1.0, max(float(scores.get((ent.start, ent.end, ent.label_), 0.0)), 1e-6))
            else:
                p = self._score
            # spaCy character offsets are code points into the same str.
            out.append(PredictedSpan(start, end, label, text[start:end], p))
        return resolve_overlaps(out)


def _pipeline_path(model: str, root: Path | None) -> Path | None:
    """The pipeline folder `model` names (corpus.toml's folder first), or None (a package)."""
    candidate = Path(model).expanduser()
    places = [candidate] if candidate.is_absolute() else []
    if not candidate.is_absolute():
        if root is not None:
            places.append(root / candidate)
        places.append(Path.cwd() / candidate)
    for place in places:
        if place.is_dir():
            return place
    looks_like_path = "/" in model or "\\" in model or model.startswith(".")
    if looks_like_path:
        return places[0]
    return None


def load_gazetteer_file(path: Path) -> dict[str, list[str]]:
    """A gazetteer file: TOML or JSON `{LABEL: [terms]}`, or TSV lines `LABEL<TAB>term`."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the gazetteer file ({exc.strerror})",
            path=str(path),
            hint="Fix [preannotate] gazetteer_file in corpus.toml.",
        ) from None
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(raw)
        elif path.suffix == ".json":
            data = json.loads(raw)
        else:
            data = {}
            for lineno, line in enumerate(raw.splitlines(), 1):
                if not line.strip() or line.startswith("#"):
                    continue
                label, sep, term = line.partition("\t")
                if not sep or not term.strip():
                    raise ValueError(f"line {lineno}: expected LABEL<TAB>term")
                data.setdefault(label.strip(), []).append(term.strip())
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not a gazetteer ({exc})", path=str(path)) from None
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(t, str) for t in v) for v in data.values()
    ):
        raise ConfigError(f"{path}: a gazetteer maps each label to a list of terms", path=str(path))
    return data


def rule_preannotator(config: CorpusConfig) -> RulePreannotator:
    """The gazetteer + dates pre-annotator described by `[preannotate]`."""
    pre = config.preannotate
    gazetteer: dict[str, list[str]] = {k: list(v) for k, v in pre.gazetteer.items()}
    if pre.gazetteer_file is not None:
        for label, terms in load_gazetteer_file(pre.gazetteer_file).items():
            gazetteer.setdefault(label, []).extend(terms)
    labels = set(config.scheme.entity_labels)
    unknown = sorted(set(gazetteer) - labels)
    if unknown:
        raise ConfigError(
            f"gazetteer labels not in the scheme: {', '.join(unknown)}",
            hint=f"Use one of {', '.join(config.scheme.entity_labels)}.",
        )
    return RulePreannotator(
        gazetteer,
        dates=pre.dates,
        date_label="DATE" if "DATE" in labels else None,
        model_version=pre.model_version,
    )


def load_plugin(spec: str, config: CorpusConfig, index: int = 0) -> Preannotator:
    """A pre-annotator from a plug-in spec: `spacy:MODEL` or `module:factory`.

    Whatever goes wrong while importing the module or calling the factory is a ConfigError
    that names the plug-in and its place in corpus.toml (`index` in `[preannotate] plugins`).
    """
    where = format_path(["preannotate", "plugins", index])
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ConfigError(
            f"{where} pre-annotator plug-in {spec!r} is not 'spacy:MODEL' or 'module:factory'",
            hint="Fix [preannotate] plugins in corpus.toml.",
            path=str(config.path),
        )
    if kind == "spacy":
        return PluginPreannotator(
            spec,
            where,
            SpacyPreannotator(rest, config.scheme.entity_labels, root=config.paths.root),
            str(config.path),
        )
    remove = "or remove it from [preannotate] plugins in corpus.toml."
    try:
        module = importlib.import_module(kind)
        factory: Callable[[CorpusConfig], Any] = getattr(module, rest)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"{where} pre-annotator plug-in {spec!r} cannot be loaded ({exc})",
            hint=f"Install the package that provides it, {remove}",
            path=str(config.path),
        ) from None
    except Exception as exc:  # the plug-in's own code failed on import
        raise ConfigError(
            f"{where} pre-annotator plug-in {spec!r} failed on import: {type(exc).__name__}: {exc}",
            hint=f"Fix the plug-in module {kind!r}, {remove}",
            path=str(config.path),
        ) from exc
    try:
        annotator = factory(config)
    except Exception as exc:  # a factory that fails is the plug-in's problem, named as such
        raise ConfigError(
            f"{where} pre-annotator plug-in {spec!r} failed: its factory raised "
            f"{type(exc).__name__}: {exc}",
            hint=f"Fix what the plug-in needs (its model files, settings), {remove}",
            path=str(config.path),
        ) from exc
    if not isinstance(annotator, Preannotator):
        raise ConfigError(
            f"{where} pre-annotator plug-in {spec!r} returned {type(annotator).__name__}, "
            "which has no model_version and predict(article)",
            path=str(config.path),
        )
    return PluginPreannotator(spec, where, annotator, str(config.path))


class PluginPreannotator:
    """A plug-in's pre-annotator, whose `predict` failing (raising, or returning something
    other than a list of PredictedSpan) is a ConfigError naming the plug-in and the article."""

    def __init__(self, spec: str, where: str, inner: Preannotator, config_path: str) -> None:
        self.spec = spec
        self.where = where
        self.inner = inner
        self.config_path = config_path
        self.model_version: str = inner.model_version

    def _error(self, article: Article, what: str) -> ConfigError:
        return ConfigError(
            f"{self.where} pre-annotator plug-in {self.spec!r} ({self.model_version}) {what} "
            f"on article {article.article_id!r}",
            hint="Fix the plug-in, or remove it from [preannotate] plugins in corpus.toml "
            "(or run `corpus tasks --no-preannotate`).",
            path=self.config_path,
            task_id=article.article_id,
        )

    def predict(self, article: Article) -> list[PredictedSpan]:
        try:
            spans = self.inner.predict(article)
        except Exception as exc:  # the plug-in's own code failed: name it, not a traceback
            raise self._error(
                article, f"failed: predict raised {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(spans, list | tuple) or not all(
            isinstance(x, PredictedSpan) for x in spans
        ):
            raise self._error(
                article, f"returned {type(spans).__name__}, not a list of PredictedSpan"
            )
        return list(spans)


def preannotators(config: CorpusConfig) -> list[Preannotator]:
    """Every configured pre-annotator: the rule-based one, then plug-ins in order."""
    out: list[Preannotator] = [rule_preannotator(config)]
    out.extend(load_plugin(spec, config, i) for i, spec in enumerate(config.preannotate.plugins))
    return out
