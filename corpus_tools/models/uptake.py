"""What suggestions did to annotators: each predicted region accepted, edited or deleted.

Reads pulled annotations (`corpus ls pull` keeps each task's full predictions) and compares
every submitted annotation with the prediction it started from:

- **which prediction**: the annotation's `parent_prediction` (Label Studio sets it when the
  editor opens a task with suggestions and starts the annotation from one: the label stream,
  or a task without annotations in the quick view). Without it, the union of the task's
  predictions (what the editor's "create annotation" copies in, with each region's `origin`
  "prediction"), identical regions once. An annotation with neither trace (no
  `parent_prediction`, no region whose `origin` is "prediction" or "prediction-changed") is
  counted apart as `no_trace` and not classified: nothing says the annotator saw suggestions
  (an annotator who deleted every copied region looks the same, and is missed). Nor is an
  annotation copied from another one (`parent_annotation`, `from_annotation`).
- **the units compared**, per layer, read in the corpus's control names (`[scheme.names]`,
  through `Scheme.is_entity`, `is_claim` and `stance_target`): an entity span (start, end,
  label); a claim span (start, end, and its per-region check-worthiness choice as its label,
  or the claim label when it has none; the claim label may sit in the entity control); a
  stance answer on a target (the choice; with one stance control for every target, the target
  the task's data names). Relations and free-text claimants are not compared.
- **the outcome of each predicted unit** (one-to-one, deterministic):
  *accepted* — the annotation has the same unit (same layer, target, start, end and
  label/choice);
  *edited* — else an overlapping unit of the same layer (for a stance, the same target's
  answer) whose boundaries, label, or both differ (`edit` says which); when several overlap,
  the one with the same region id, then the largest overlap, then the nearest boundaries;
  *deleted* — no such unit. Units of the annotation that no prediction matched are *added*.
  Offsets are compared as the integers Label Studio stores (code points); `value.text` is
  never compared (the UI writes line breaks in it as backslash-n).

Counts and rates (over the predicted units) are reported overall and per layer, label,
annotator (pseudonyms as pulled), and model version (an added unit counts under the version
its annotation started from; a union of several is named `a+b`). Cancelled annotations are
skipped and counted.

**Anchoring**, when adjudicated gold is given: each predicted unit on an article whose gold
text is the task's text is *right* (gold has the same unit) or *wrong* (it has not); units in
ranges adjudication left open (disputes, dropped ties) are left out. Reported: how often
annotators accepted a wrong suggestion unchanged (`accepted_when_wrong`) beside how often
they accepted a right one (`accepted_when_right`), and the share of accepted suggestions gold
rejected (`wrong_share_of_accepted`). A high acceptance of wrong suggestions is anchoring.
Gold is adjudicated from these very annotations, so a wrong suggestion every annotator
accepted becomes gold and is invisible here: the figure is a lower bound.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from corpus_tools import store
from corpus_tools.config import (
    CLAIM_LABEL,
    ControlNames,
    CorpusConfig,
    Scheme,
)
from corpus_tools.errors import DataError, UsageError
from corpus_tools.exports import (
    annotator_id,
    export_files,
    iter_raw_tasks,
    region_id,
    task_article_id,
)

Layer = Literal["entities", "claims", "stance"]
Outcome = Literal["accepted", "edited", "deleted", "added"]
Verdict = Literal["right", "wrong"]
LAYERS: tuple[Layer, ...] = ("entities", "claims", "stance")
PREDICTION_ORIGINS = frozenset({"prediction", "prediction-changed"})
BASES = (
    "parent",
    "task",
    "no_trace",
    "from_annotation",
    "ids_only",
    "missing_parent",
    "no_predictions",
)


@dataclass(frozen=True, slots=True)
class Region:
    """One compared unit: an entity span, a claim span with its check-worthiness, or a stance
    answer (no offsets). `model_version` and `score` are set on predicted units."""

    layer: Layer
    control: str
    label: str
    start: int | None = None
    end: int | None = None
    region_id: str | None = None
    origin: str | None = None
    model_version: str | None = None
    score: float | None = None
    target: str | None = None  # a stance answer's target (None: not one of the scheme's)

    @property
    def unit(self) -> str:
        """What the unit answers: its layer, or a stance answer's target (its control when
        the target is none of the scheme's). Units are compared within one `unit`."""
        if self.layer == "stance":
            return f"stance/{self.target}" if self.target else f"stance-control/{self.control}"
        return self.layer


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome of one predicted unit (`annotated` None when deleted), or an added unit
    (`predicted` None). `edit` is "boundary", "label" or "boundary+label" when edited."""

    outcome: Outcome
    predicted: Region | None
    annotated: Region | None
    edit: str | None = None

    @property
    def region(self) -> Region:
        """The predicted unit, or the added one."""
        r = self.predicted or self.annotated
        assert r is not None
        return r


# --- reading results ---------------------------------------------------------------------------


def _offset(value: Mapping[str, Any], key: str) -> int:
    v = value.get(key)
    if type(v) is not int:
        raise ValueError(f"value.{key} is {v!r}, not an integer offset")
    return v


def _label(values: Any) -> str:
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{values!r} is not a list of labels")
    return "|".join(sorted(values)) if len(values) > 1 else values[0]


def _layer(
    rtype: Any,
    name: Any,
    labels: Any,
    scheme: Scheme | None,
    data: Mapping[str, Any],
) -> tuple[Layer | None, str | None]:
    """The layer of a result region (None: not a compared unit) and a stance answer's target,
    in the scheme's control names (the default names without a scheme)."""
    if not isinstance(name, str):
        return None, None
    names = scheme.names if scheme is not None else ControlNames()
    if rtype == "labels":
        label = labels[0] if isinstance(labels, list) and labels else None
        if scheme is None:
            shared = names.claims_in_entities
            if name == names.claims and (not shared or label == names.claim_label):
                return "claims", None
            return ("entities", None) if name == names.entities else (None, None)
        if scheme.is_claim(name, label):
            return "claims", None
        return ("entities", None) if scheme.is_entity(name, label) else (None, None)
    if rtype != "choices":
        return None, None
    if scheme is not None and name in scheme.stance_controls:
        return "stance", scheme.stance_target(name, data)
    if not names.stance and name.startswith(names.stance_prefix):
        # a per-target control; its target may have left the scheme since
        return "stance", name[len(names.stance_prefix) :]
    return None, None


def regions(
    result: Iterable[Any],
    *,
    model_version: str | None = None,
    score: float | None = None,
    scheme: Scheme | None = None,
    data: Mapping[str, Any] | None = None,
) -> list[Region]:
    """The compared units of one annotation's or prediction's `result` list, in its order.

    Controls are read in `scheme`'s names (`[scheme.names]`; without a scheme, the names
    `corpus tasks` generates); `data` is the task's data, which names the target of a stance
    answer when one control asks stance on every target. A claim's label is the
    check-worthiness choice that shares its region id (the claim label, "Claim", when it has
    none). Raises ValueError naming the region for a unit that cannot be read (offsets that
    are not integers, an empty label list). `model_version` and `score` (the prediction's) go
    to every unit; a region's own `score` wins.
    """
    names = scheme.names if scheme is not None else ControlNames()
    task_data: Mapping[str, Any] = data or {}
    items = [r for r in result if isinstance(r, dict)]
    checkworthy: dict[str, Any] = {
        rid: (r.get("value") or {}).get("choices")
        for r in items
        if r.get("type") == "choices"
        and r.get("from_name") == names.checkworthy
        and (rid := region_id(r)) is not None
    }
    out: list[Region] = []
    for r in items:
        rtype, name, rid = r.get("type"), r.get("from_name"), region_id(r)
        raw_value = r.get("value")
        value: Mapping[str, Any] = raw_value if isinstance(raw_value, dict) else {}
        layer, target = _layer(rtype, name, value.get("labels"), scheme, task_data)
        if layer is None:
            continue  # relations, per-region answers, controls outside the scheme
        try:
            if layer == "stance":
                label, start, end = _label(value.get("choices")), None, None
            else:
                start, end = _offset(value, "start"), _offset(value, "end")
                cw = checkworthy.get(rid) if layer == "claims" and rid is not None else None
                label = _label(cw if cw is not None else value.get("labels"))
        except ValueError as exc:
            raise ValueError(f"region {rid or '(no id)'} of {name}: {exc}") from None
        own = r.get("score")
        origin = r.get("origin")
        out.append(
            Region(
                layer=layer,
                control=str(name),
                label=label,
                start=start,
                end=end,
                region_id=rid,
                origin=origin if isinstance(origin, str) else None,
                model_version=model_version,
                target=target,
                score=float(own) if isinstance(own, int | float) else score,
            )
        )
    return out


# --- matching ----------------------------------------------------------------------------------


def _overlap(a: Region, b: Region) -> int | None:
    """Overlap length of two units of one layer (stance answers always overlap: 1)."""
    if a.start is None or b.start is None or a.end is None or b.end is None:
        return 1
    n = min(a.end, b.end) - max(a.start, b.start)
    return n if n > 0 else None


def _edit(p: Region, a: Region) -> str:
    kinds = []
    if (p.start, p.end) != (a.start, a.end):
        kinds.append("boundary")
    if p.label != a.label:
        kinds.append("label")
    return "+".join(kinds)


def classify(predicted: Sequence[Region], annotated: Sequence[Region]) -> list[Match]:
    """Each predicted unit's outcome, then the added units (see the module docstring).

    One-to-one and order-independent in its result: exact matches first (a same region id
    preferred), then edits chosen greedily over all overlapping pairs by (same region id,
    overlap length, boundary distance, position).
    """
    p_used: dict[int, Match] = {}
    a_used: set[int] = set()

    def key(r: Region) -> tuple[Any, ...]:
        return (r.unit, r.start, r.end, r.label)

    by_key: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for j, a in enumerate(annotated):
        by_key[key(a)].append(j)
    for i, p in enumerate(predicted):
        free = [j for j in by_key.get(key(p), []) if j not in a_used]
        if free:
            kept = [j for j in free if p.region_id and annotated[j].region_id == p.region_id]
            j = (kept or free)[0]
            a_used.add(j)
            p_used[i] = Match("accepted", p, annotated[j])
    pairs: list[tuple[tuple[Any, ...], int, int]] = []
    for i, p in enumerate(predicted):
        if i in p_used:
            continue
        for j, a in enumerate(annotated):
            if j in a_used or a.unit != p.unit:
                continue
            n = _overlap(p, a)
            if n is None:
                continue
            dist = (
                abs((p.start or 0) - (a.start or 0)) + abs((p.end or 0) - (a.end or 0))
                if p.start is not None and a.start is not None
                else 0
            )
            same = bool(p.region_id) and a.region_id == p.region_id
            pairs.append(((not same, -n, dist, i, j), i, j))
    for _rank, i, j in sorted(pairs):
        if i in p_used or j in a_used:
            continue
        a_used.add(j)
        p_used[i] = Match("edited", predicted[i], annotated[j], _edit(predicted[i], annotated[j]))
    out = [p_used.get(i) or Match("deleted", p, None) for i, p in enumerate(predicted)]
    out.extend(Match("added", None, a) for j, a in enumerate(annotated) if j not in a_used)
    return out


# --- which prediction an annotation started from -----------------------------------------------


def _prediction_regions(
    pred: Mapping[str, Any], scheme: Scheme | None, data: Mapping[str, Any] | None
) -> list[Region]:
    version = pred.get("model_version")
    score = pred.get("score")
    return regions(
        pred.get("result") or [],
        model_version=str(version) if version not in (None, "") else "(none)",
        score=float(score) if isinstance(score, int | float) else None,
        scheme=scheme,
        data=data,
    )


def started_from(
    ann: Mapping[str, Any],
    predictions: Sequence[Any],
    cache: dict[int, list[Region]] | None = None,
    *,
    scheme: Scheme | None = None,
    data: Mapping[str, Any] | None = None,
) -> tuple[str, list[Region], str | None]:
    """(basis, predicted units, model version label) for one annotation.

    basis: "parent" (its parent_prediction), "task" (no parent: the union of the task's
    predictions), "no_trace", "from_annotation" (copied from another annotation, whose
    regions keep their origins: not a suggestion's uptake), "ids_only" (predictions pulled
    as ids: pull again),
    "missing_parent" (the parent is not among the task's predictions), "no_predictions".
    `cache` keeps each prediction's units across the annotations of one task; `scheme` and
    `data` (the task's) read the predictions as `regions` does.
    """
    full = [p for p in predictions if isinstance(p, dict)]
    memo: dict[int, list[Region]] = {} if cache is None else cache

    def units_of(p: dict[str, Any]) -> list[Region]:
        if id(p) not in memo:
            memo[id(p)] = _prediction_regions(p, scheme, data)
        return memo[id(p)]

    parent = ann.get("parent_prediction")
    if not predictions and parent is None:
        return "no_predictions", [], None
    if predictions and not full:
        return "ids_only", [], None
    if isinstance(parent, int) and not isinstance(parent, bool):
        for p in full:
            if p.get("id") == parent:
                return "parent", units_of(p), _version(p)
        return "missing_parent", [], None
    if ann.get("parent_annotation") is not None:
        return "from_annotation", [], None
    origins = {r.get("origin") for r in ann.get("result") or [] if isinstance(r, dict)}
    if not origins & PREDICTION_ORIGINS:
        return "no_trace", [], None
    units: list[Region] = []
    seen: set[tuple[Any, ...]] = set()
    for p in sorted(full, key=_pred_id):
        for r in units_of(p):
            k = (r.unit, r.start, r.end, r.label)
            if k not in seen:  # the same unit from two predictions is one suggestion
                seen.add(k)
                units.append(r)
    versions = sorted({_version(p) for p in full})
    return "task", units, "+".join(versions) if versions else None


def _pred_id(pred: Mapping[str, Any]) -> int:
    pid = pred.get("id")
    return pid if isinstance(pid, int) else 0


def _version(pred: Mapping[str, Any]) -> str:
    v = pred.get("model_version")
    return str(v) if v not in (None, "") else "(none)"


# --- gold --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GoldView:
    """One article's adjudicated units, and the ranges and targets adjudication left open."""

    text_sha256: str
    units: frozenset[tuple[Any, ...]]  # (unit, start, end, label): entities and stances
    claims: Mapping[tuple[int, int], str | None]  # claim span -> its check-worthiness
    open_entities: tuple[tuple[int, int], ...] = ()
    open_claims: tuple[tuple[int, int], ...] = ()
    open_stances: frozenset[str] = frozenset()
    stance_targets: frozenset[str] = frozenset()
    claim_label: str = CLAIM_LABEL  # a claim region's label when it has no check-worthiness

    def verdict(self, r: Region) -> Verdict | None:
        """right / wrong for a predicted unit; None when adjudication left it open."""
        if r.layer == "stance":
            target = r.target
            if target is None or target in self.open_stances or target not in self.stance_targets:
                return None
            return "right" if (r.unit, None, None, r.label) in self.units else "wrong"
        assert r.start is not None and r.end is not None
        open_ranges = self.open_entities if r.layer == "entities" else self.open_claims
        if any(s < r.end and r.start < e for s, e in open_ranges):
            return None
        if r.layer == "claims":
            if (r.start, r.end) not in self.claims:
                return "wrong"
            if r.label == self.claim_label:  # the span alone was suggested, and gold has it
                return "right"
            gold = self.claims[(r.start, r.end)]
            if gold is None:  # gold has no check-worthiness to judge it by
                return None
            return "right" if r.label == gold else "wrong"
        return "right" if (r.unit, r.start, r.end, r.label) in self.units else "wrong"


def gold_views(items: Iterable[Any], scheme: Scheme | None = None) -> dict[str, GoldView]:
    """GoldView per article_id from `corpus_tools.models.data.GoldArticle`s (`scheme` gives
    the claim label; default "Claim")."""
    claim_label = scheme.names.claim_label if scheme is not None else CLAIM_LABEL
    out: dict[str, GoldView] = {}
    for g in items:
        units: set[tuple[Any, ...]] = set()
        for e in g.entities:
            units.add(("entities", e.start, e.end, e.label))
        for s in g.stances:
            units.add((f"stance/{s.target}", None, None, s.label))
        out[g.article_id] = GoldView(
            text_sha256=g.article.text_sha256,
            units=frozenset(units),
            claims={(c.start, c.end): c.checkworthy for c in g.claims},
            open_entities=tuple(g.missing_entities),
            open_claims=tuple(g.missing_claims),
            open_stances=frozenset(g.missing_stances),
            stance_targets=frozenset(s.target for s in g.stances) | set(g.missing_stances),
            claim_label=claim_label,
        )
    return out


# --- counting ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts of one group (a layer, label, annotator or model version)."""

    predicted: int = 0
    accepted: int = 0
    edited: int = 0
    deleted: int = 0
    added: int = 0
    edits: Counter[str] = field(default_factory=Counter)
    origins: Counter[str] = field(default_factory=Counter)  # "<outcome>:<origin>"
    gold: Counter[str] = field(default_factory=Counter)  # "right"/"wrong" + "accepted_*"

    def add(self, m: Match, verdict: Verdict | None) -> None:
        if m.outcome == "added":
            self.added += 1
        else:
            self.predicted += 1
            setattr(self, m.outcome, getattr(self, m.outcome) + 1)
            if m.edit:
                self.edits[m.edit] += 1
            if verdict is not None:
                self.gold[verdict] += 1
                if m.outcome == "accepted":
                    self.gold[f"accepted_{verdict}"] += 1
        if m.annotated is not None:
            self.origins[f"{m.outcome}:{m.annotated.origin or '(none)'}"] += 1

    def to_dict(self) -> dict[str, Any]:
        def rate(n: int, d: int) -> float | None:
            return round(n / d, 4) if d else None

        out: dict[str, Any] = {
            "predicted": self.predicted,
            "accepted": self.accepted,
            "edited": self.edited,
            "deleted": self.deleted,
            "added": self.added,
            "accepted_rate": rate(self.accepted, self.predicted),
            "edited_rate": rate(self.edited, self.predicted),
            "deleted_rate": rate(self.deleted, self.predicted),
            "edits": {k: self.edits.get(k, 0) for k in ("boundary", "label", "boundary+label")},
            "origins": dict(sorted(self.origins.items())),
        }
        right, wrong = self.gold["right"], self.gold["wrong"]
        out["gold"] = {
            "right": right,
            "wrong": wrong,
            "accepted_right": self.gold["accepted_right"],
            "accepted_wrong": self.gold["accepted_wrong"],
            "accepted_when_right": rate(self.gold["accepted_right"], right),
            "accepted_when_wrong": rate(self.gold["accepted_wrong"], wrong),
            "wrong_share_of_accepted": rate(
                self.gold["accepted_wrong"],
                self.gold["accepted_right"] + self.gold["accepted_wrong"],
            ),
        }
        return out


@dataclass(frozen=True, slots=True)
class Classified:
    """One annotation's matches, with who made it and what it started from."""

    article_id: str
    task_id: Any
    annotation_id: Any
    annotator: str
    basis: str
    model_version: str | None
    matches: tuple[Match, ...]
    verdicts: tuple[Verdict | None, ...]  # one per match (None without gold)


def classify_task(
    task: Mapping[str, Any],
    *,
    gold: Mapping[str, GoldView] | None = None,
    file: str | None = None,
    scheme: Scheme | None = None,
) -> tuple[list[Classified], Counter[str]]:
    """The classified annotations of one raw task, and its annotations counted per basis
    (and `cancelled`). DataError names the task, annotation and region of an unreadable one.
    `scheme` names the controls and data keys (default: those `corpus tasks` generates)."""
    names = scheme.names if scheme is not None else ControlNames()
    raw_data = task.get("data")
    data: Mapping[str, Any] = raw_data if isinstance(raw_data, dict) else {}
    if scheme is not None:
        aid: Any = task_article_id(dict(task), scheme)
    else:
        aid = data.get(names.article_id_field)
    article_id = aid if isinstance(aid, str) else ""
    predictions = task.get("predictions") or []
    view = (gold or {}).get(article_id)
    if view is not None:
        sha = data.get("text_sha256")
        if not isinstance(sha, str):
            text = data.get(names.text_field)
            sha = store.sha256_text(text) if isinstance(text, str) else None
        if sha != view.text_sha256:
            view = None  # gold made on another text: no verdicts
    out: list[Classified] = []
    counts: Counter[str] = Counter()
    cache: dict[int, list[Region]] = {}
    for ann in task.get("annotations") or []:
        if not isinstance(ann, dict):
            continue
        if ann.get("was_cancelled"):
            counts["cancelled"] += 1
            continue
        try:
            basis, predicted, version = started_from(
                ann, predictions, cache, scheme=scheme, data=data
            )
            counts[basis] += 1
            if basis not in ("parent", "task"):
                continue
            matches = classify(
                predicted, regions(ann.get("result") or [], scheme=scheme, data=data)
            )
        except ValueError as exc:
            raise DataError(
                f"cannot read a region: {exc}",
                path=file,
                task_id=task.get("id"),
                annotation_id=ann.get("id"),
                hint="Run `corpus validate` for the full list of problems.",
            ) from None
        verdicts = tuple(
            view.verdict(m.predicted) if view is not None and m.predicted is not None else None
            for m in matches
        )
        out.append(
            Classified(
                article_id=article_id,
                task_id=task.get("id"),
                annotation_id=ann.get("id"),
                annotator=annotator_id(ann.get("completed_by")),
                basis=basis,
                model_version=version,
                matches=tuple(matches),
                verdicts=verdicts,
            )
        )
    return out, counts


Groups = dict[tuple[str, ...], Tally]


def uptake(
    paths: Sequence[Path],
    *,
    gold: Iterable[Any] | None = None,
    gold_source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    scheme: Scheme | None = None,
) -> dict[str, Any]:
    """Uptake of suggestions in the pulled annotations under `paths` (files or folders), read
    in `scheme`'s control names (default: those `corpus tasks` generates).

    `gold`: GoldArticles (`corpus_tools.models.data.load_training_set(...).items`) for the
    anchoring figures, `gold_source` naming where they came from. Returns plain data: the
    annotations counted per basis, tallies overall and per layer, label, annotator and
    model version, the label changes of edited units, and notes on what was not measured.
    `progress(files read, files)` is called as the files are read.
    """
    views = gold_views(gold, scheme) if gold is not None else None
    overall = Tally()
    by: dict[str, Groups] = {
        k: defaultdict(Tally) for k in ("layer", "label", "annotator", "model")
    }
    changes: Counter[tuple[str, str, str]] = Counter()
    bases: Counter[str] = Counter()
    tasks = 0
    gold_articles: set[str] = set()
    files = export_files(paths)
    done: set[str] = set()
    for loc, task in iter_raw_tasks(files):
        if progress and loc.file not in done:
            done.add(loc.file)
            progress(len(done) - 1, len(files))
        tasks += 1
        classified, counts = classify_task(task, gold=views, file=loc.file, scheme=scheme)
        bases.update(counts)
        for c in classified:
            for m, v in zip(c.matches, c.verdicts, strict=True):
                r = m.region
                label = m.predicted.label if m.predicted is not None else r.label
                version = (
                    m.predicted.model_version if m.predicted is not None else c.model_version
                ) or "(none)"
                overall.add(m, v)
                by["layer"][(r.layer,)].add(m, v)
                by["label"][(r.layer, label)].add(m, v)
                by["annotator"][(c.annotator,)].add(m, v)
                by["model"][(version,)].add(m, v)
                if v is not None:
                    gold_articles.add(c.article_id)
                if m.outcome == "edited" and m.annotated is not None and "label" in (m.edit or ""):
                    changes[(r.layer, label, m.annotated.label)] += 1
    if progress:
        progress(len(files), len(files))
    notes: list[str] = []
    if bases["ids_only"]:
        notes.append(
            f"{bases['ids_only']} annotations are on tasks pulled with prediction ids only "
            "(before `corpus ls pull` kept predictions): pull again to measure them"
        )
    if bases["no_trace"]:
        notes.append(
            f"{bases['no_trace']} annotations carry no trace of a suggestion (no "
            "parent_prediction, no region of origin 'prediction'): not counted"
        )
    if bases["from_annotation"]:
        notes.append(
            f"{bases['from_annotation']} annotations were copied from another annotation "
            "(parent_annotation): not counted"
        )
    if bases["missing_parent"]:
        notes.append(
            f"{bases['missing_parent']} annotations started from a prediction the task no "
            "longer has: not counted"
        )
    return {
        "paths": [str(p) for p in paths],
        "tasks": tasks,
        "annotations": {
            "measured": bases["parent"] + bases["task"],
            **{b: bases[b] for b in BASES},
            "cancelled": bases["cancelled"],
        },
        "gold": None
        if views is None
        else {
            "source": gold_source,
            "articles": len(views),
            "articles_measured": len(gold_articles),
        },
        "overall": overall.to_dict(),
        "by_layer": [{"layer": layer, **by["layer"][(layer,)].to_dict()} for layer in LAYERS],
        "by_label": [
            {"layer": k[0], "label": k[1], **t.to_dict()} for k, t in sorted(by["label"].items())
        ],
        "by_annotator": [
            {"annotator": k[0], **t.to_dict()} for k, t in sorted(by["annotator"].items())
        ],
        "by_model_version": [
            {"model_version": k[0], **t.to_dict()} for k, t in sorted(by["model"].items())
        ],
        "label_changes": [
            {"layer": layer, "from": a, "to": b, "count": n}
            for (layer, a, b), n in sorted(changes.items())
        ],
        "notes": notes,
    }


def measure(
    *,
    config: CorpusConfig,
    paths: Sequence[Path] | None = None,
    gold: Path | None = None,
    use_gold: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """`uptake` over `paths` (default: the corpus's annotations/), with the anchoring figures
    from `gold` (a gold.jsonl or a release folder; default `build/gold.jsonl` when it exists,
    none when `use_gold` is false)."""
    targets = list(paths) if paths else [config.paths.annotations]
    for p in targets:
        if not Path(p).exists():
            raise UsageError(
                f"{store.display_path(Path(p))}: no such file or folder",
                path=str(p),
                hint="Pull the annotations first (`corpus ls pull`), or name an export.",
            )
    items = None
    source = None
    if use_gold:
        default = config.paths.build / "gold.jsonl"
        if gold is not None or default.is_file():
            from corpus_tools.models.data import load_training_set

            training = load_training_set(config, gold)
            items, source = training.items, training.source
    return uptake(targets, gold=items, gold_source=source, progress=progress, scheme=config.scheme)
