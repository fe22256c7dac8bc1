"""The learned gazetteer: every adjudicated surface form with its label counts.

As INCEpTION's string matcher does, the gazetteer remembers each surface form the gold labels
(whitespace-normalised: "Jens\\r\\nStoltenberg" is the form "Jens Stoltenberg"; case-sensitive:
"US" is not "us") with how often it carried each label, and proposes the form wherever it
occurs again as a whole word. A multi-word form matches across any run of whitespace, line
breaks included, and the span keeps the exact text. Matching is leftmost-longest and
non-overlapping; forms are looked up by their first word in a dictionary (no regular
expression of all forms, whose compilation took 19 s for 20,000 forms), so it stays fast with
tens of thousands of forms.

**Score** of a match of form f, proposed with its most frequent label L (ties: the label that
sorts first):

    score = count(f, L) / count(f)  ×  labelled(f) / occurrences(f)

- `count(f, L) / count(f)`: the label share, how often the gold gave f the label L;
- `labelled(f) / occurrences(f)`: how often f was labelled where it occurs in the gold texts.
  `occurrences(f)` counts f's gold spans plus the places where the matcher finds f in the gold
  texts with no gold span at exactly that range (so "May" the verb lowers the score of "May"
  the month). An unlabelled match that overlaps a *missing* range (an open dispute or a
  dropped tie) is not counted: what adjudication left open is not a negative. A match is found
  the way `predict` finds it (leftmost-longest), so "Sea" inside a found "Black Sea" is not an
  occurrence of "Sea".

Both factors are in (0, 1] (every form has at least one labelled occurrence), so the score is.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from corpus_tools import store
from corpus_tools.errors import DataError
from corpus_tools.model import Article, PredictedSpan
from corpus_tools.models.data import GoldArticle

GAZETTEER_FILE = "gazetteer.json"
FORMAT_VERSION = 1

# Combining marks count as word characters at a match's edges (re's \w does not include
# them), so "Jose" never matches the start of "Jose\u0301": a span never splits a character
# from its accents. These are the main combining blocks; `_splits_cluster` checks the rest.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f\u200d"
_WORD = re.compile(rf"[\w{_MARKS}]")
# A text is read as runs of word characters and single other characters; a form is keyed by
# its first run, and a whole-word match of the form starts with the same run in the text.
_RUN = re.compile(rf"[\w{_MARKS}]+|\S")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The form of a surface text: runs of whitespace become one space, ends stripped."""
    return " ".join(text.split())


def _match_at(text: str, pos: int, words: Sequence[str]) -> int:
    """The end of the form (its `words`, any whitespace between) matched at `pos`, or -1.

    The match must end a word: the next character is not a word character or a mark.
    """
    for k, word in enumerate(words):
        if k:
            ws = _SPACE.match(text, pos)
            if ws is None:
                return -1
            pos = ws.end()
        if not text.startswith(word, pos):
            return -1
        pos += len(word)
    if pos < len(text) and _WORD.match(text, pos):
        return -1
    return pos


def _splits_cluster(text: str, start: int, end: int) -> bool:
    """True if the span starts on a combining mark or the next character is one."""
    return unicodedata.category(text[start])[0] == "M" or (
        end < len(text) and unicodedata.category(text[end])[0] == "M"
    )


class LearnedGazetteer:
    """Surface forms from the gold with their label counts; proposes them as whole words."""

    model_version: str = "gazetteer"

    def __init__(
        self,
        forms: Mapping[str, Mapping[str, int]],
        occurrences: Mapping[str, tuple[int, int]] | None = None,
    ) -> None:
        """`forms`: form -> label -> count; `occurrences`: form -> (labelled, all) in the
        gold texts (a form missing there counts as always labelled where it occurs)."""
        self.forms: dict[str, dict[str, int]] = {
            f: {lab: int(n) for lab, n in sorted(labels.items()) if n > 0}
            for f, labels in sorted(forms.items())
            if f and any(n > 0 for n in labels.values())
        }
        occ = dict(occurrences or {})
        self.occurrences: dict[str, tuple[int, int]] = {}
        for f in self.forms:
            labelled, total = occ.get(f, (1, 1))
            labelled = max(int(labelled), 1)
            self.occurrences[f] = (labelled, max(int(total), labelled))
        self._index: dict[str, list[tuple[str, tuple[str, ...]]]] | None = None

    # -- learning -----------------------------------------------------------------------

    @classmethod
    def fit(cls, items: Iterable[GoldArticle]) -> LearnedGazetteer:
        """Count every gold surface form's labels, then where the forms occur unlabelled."""
        items = list(items)
        counts: dict[str, Counter[str]] = {}
        for g in items:
            for e in g.entities:
                form = normalise(g.article.text[e.start : e.end])
                if form:
                    counts.setdefault(form, Counter())[e.label] += 1
        gaz = cls({f: dict(c) for f, c in counts.items()})
        labelled: Counter[str] = Counter()
        unlabelled: Counter[str] = Counter()
        for g in items:
            text = g.article.text
            for e in g.entities:
                form = normalise(text[e.start : e.end])
                if form:
                    labelled[form] += 1
            gold = {(e.start, e.end) for e in g.entities}
            for start, end in gaz._matches(text):
                if (start, end) in gold:
                    continue
                if any(start < me and ms < end for ms, me in g.missing_entities):
                    continue  # left open by adjudication: not a negative
                unlabelled[normalise(text[start:end])] += 1
        gaz.occurrences = {f: (labelled[f], labelled[f] + unlabelled[f]) for f in gaz.forms}
        return gaz

    # -- prediction ---------------------------------------------------------------------

    def _by_first_run(self) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
        """Forms by their first run (see `_RUN`), built on first use."""
        if self._index is None:
            index: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
            for form in self.forms:
                first = _RUN.match(form)
                if first is not None:
                    index.setdefault(first.group(), []).append((form, tuple(form.split(" "))))
            self._index = index
        return self._index

    def _matches(self, text: str) -> list[tuple[int, int]]:
        """Leftmost-longest, non-overlapping whole-word matches of the forms.

        A match starts where no word character (or mark) precedes and ends where none
        follows; a multi-word form matches across any run of whitespace.
        """
        index = self._by_first_run()
        if not index:
            return []
        out: list[tuple[int, int]] = []
        after = 0  # matches do not overlap: the next starts at or after the last end
        for run in _RUN.finditer(text):
            start = run.start()
            if start < after or (start and _WORD.match(text, start - 1)):
                continue
            candidates = index.get(run.group())
            if not candidates:
                continue
            end = max(_match_at(text, start, words) for _, words in candidates)
            if end > start and not _splits_cluster(text, start, end):
                out.append((start, end))
                after = end
        return out

    def label_and_score(self, form: str) -> tuple[str, float] | None:
        """The label proposed for `form` and its score (see the module doc), or None."""
        labels = self.forms.get(form)
        if not labels:
            return None
        label, n = min(labels.items(), key=lambda kv: (-kv[1], kv[0]))
        labelled, total = self.occurrences[form]
        return label, (n / sum(labels.values())) * (labelled / total)

    def predict(self, article: Article) -> list[PredictedSpan]:
        """Every whole-word match of a learned form, with its most frequent label."""
        text = article.text
        out = []
        for start, end in self._matches(text):
            found = self.label_and_score(normalise(text[start:end]))
            if found is not None:
                label, score = found
                out.append(PredictedSpan(start, end, label, text[start:end], score))
        return out

    # -- persistence --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "model_version": self.model_version,
            "forms": {
                f: {"labels": dict(labels), "labelled": occ[0], "occurrences": occ[1]}
                for (f, labels), occ in zip(
                    self.forms.items(), self.occurrences.values(), strict=True
                )
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LearnedGazetteer:
        try:
            if d.get("format") != FORMAT_VERSION:
                raise ValueError(f"format {d.get('format')!r}, expected {FORMAT_VERSION}")
            raw = d["forms"]
            gaz = cls(
                {f: dict(v["labels"]) for f, v in raw.items()},
                {f: (int(v["labelled"]), int(v["occurrences"])) for f, v in raw.items()},
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"not a learned gazetteer ({type(exc).__name__}: {exc})",
                hint="Retrain with `corpus model train`.",
            ) from None
        if isinstance(d.get("model_version"), str):
            gaz.model_version = d["model_version"]
        return gaz

    def save(self, folder: Path) -> None:
        """Write `folder/gazetteer.json` (sorted keys, so the same gold gives the same bytes)."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, indent=1) + "\n"
        store.atomic_write_text(Path(folder) / GAZETTEER_FILE, text)

    @classmethod
    def load(cls, folder: Path) -> LearnedGazetteer:
        path = Path(folder) / GAZETTEER_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(
                f"{store.display_path(path)}: cannot read the gazetteer ({exc})",
                hint="Retrain with `corpus model train`.",
                path=str(path),
            ) from None
        try:
            return cls.from_dict(data)
        except DataError as exc:
            raise DataError(
                f"{store.display_path(path)}: {exc.message}", hint=exc.hint, path=str(path)
            ) from None
