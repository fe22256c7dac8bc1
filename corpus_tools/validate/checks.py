"""Meaning: one task's annotations against the scheme, the task text and the articles.

Runs on tasks that are well-formed, so it may index fields the schema requires; in a task
that failed the schema, on every result that passed it (a result that is well-formed is
checked even when a sibling is not, so one run shows all of an annotation's problems).
Offsets are code points; the truth is `text[start:end]`.

Results are read in the corpus's own control names (`[scheme.names]`): a labels region is a
claim or an entity by its control and, when the claim label sits in the entity control, by
its label; with one stance control, each task's data names the target its answer is about.
A task without `text_sha256` (made outside `corpus tasks`) is checked against its own text
and tied to the articles table by its article id and the sha256 of that text.

`value.text` is compared allowing for the Label Studio newline quirk (the UI writes each
`\\r` / `\\n` as the two characters backslash-n).

A result without an `id` (or with an empty one: results created through the API) is what
Label Studio's editor makes of it (`deserializeSingleResult`: `id || guidGenerator()`): a
region of its own under a fresh id, which nothing else can name. So an entity or claim
without an id is a region that no relation or per-region answer refers to, and a per-region
answer without an id belongs to no region. `exports.parse_task` reads them the same way.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from corpus_tools.config import CorpusConfig
from corpus_tools.errors import DataError
from corpus_tools.exports import annotator_id, parse_annotation, region_id, task_article_id
from corpus_tools.model import Annotation, Finding
from corpus_tools.validate.slugs import Where, pointer

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PERSONAL_KEYS = ("email", "first_name", "last_name", "username")


@dataclass(frozen=True, slots=True)
class Utf16Fix:
    """Code-point offsets for a region whose offsets were UTF-16 code units."""

    annotation_index: int
    result_index: int
    start: int
    end: int


def quirk(span: str) -> str:
    """`span` as the Label Studio UI writes it into value.text (line breaks as backslash-n)."""
    return span.replace("\r", "\\n").replace("\n", "\\n")


def utf16_to_code_points(text: str, start: int, end: int, expected: str) -> tuple[int, int] | None:
    """Code-point offsets when (start, end) are UTF-16 units selecting `expected`, else None."""
    units = text.encode("utf-16-le")
    if end * 2 > len(units) or start > end:
        return None
    try:
        span = units[start * 2 : end * 2].decode("utf-16-le")
        cp_start = len(units[: start * 2].decode("utf-16-le"))
    except UnicodeDecodeError:  # the offset splits a surrogate pair
        return None
    if span != expected and quirk(span) != expected:
        return None
    return cp_start, cp_start + len(span)


class SemanticChecker:
    """The semantic rules for one scheme, and the article table (article_id -> text_sha256)."""

    def __init__(self, config: CorpusConfig, articles: Mapping[str, str] | None) -> None:
        scheme = config.scheme
        self.scheme = scheme
        self.articles = articles
        self.min_annotators = config.gates.min_annotators
        self.relation_label = scheme.claimant_relation
        names = scheme.names
        self.text_field = names.text_field
        self.entities_name = names.entities
        self.claims_name = names.claims
        self.claim_label = names.claim_label
        self.shared_labels = names.claims_in_entities
        self.checkworthy_name = names.checkworthy
        # control -> target id; None: the one stance control, its target in the task data
        self.stance_controls = scheme.stance_controls
        self.single_stance = names.stance
        self.target_field = names.stance_target_field

    def check_task(
        self,
        task: dict[str, Any],
        where: Where,
        out: list[Finding],
        stats: dict[str, int],
        *,
        annotation_ok: Callable[[Any], bool] | None = None,
        result_ok: Callable[[Any], bool] | None = None,
        data_ok: bool = True,
    ) -> list[Utf16Fix]:
        """Append the task's findings to `out`, count into `stats`; return UTF-16 repairs.

        `annotation_ok` and `result_ok` are given for a task that failed the schema: in an
        annotation `annotation_ok` rejects, only the results `result_ok` accepts are checked
        (the schema findings cover the others; references to them are not reported again).
        """
        fixes: list[Utf16Fix] = []
        data = task.get("data")
        text: str | None = None
        stance_controls = self.stance_controls
        if isinstance(data, dict):
            field = self.text_field
            if data_ok:
                text = data[field]
                self._check_article(task, data, text, where, out)
            elif isinstance(data.get(field), str):
                text = data[field]  # the offsets can still be checked against it
            if self.single_stance:
                stance_controls = self._task_stance(data, where, out)
        annotations = task.get("annotations")
        annotators: set[str] = set()
        truths: list[int] = []
        if isinstance(annotations, list):
            for i, ann in enumerate(annotations):
                if not isinstance(ann, dict):
                    continue
                who = ann.get("completed_by")
                if who.__class__ is not str:  # pulled files carry pseudonyms: nothing to check
                    self._check_personal(ann, i, where, out)
                    who = annotator_id(who)
                    if who == "unknown":
                        who = f"annotation #{i}"
                if ann.get("was_cancelled") is True:
                    stats["cancelled"] += 1
                    continue
                annotators.add(who)
                stats["annotations"] += 1
                if ann.get("ground_truth") is True:
                    truths.append(i)
                if text is None:
                    continue
                valid: list[bool] | None = None
                if annotation_ok is not None and not annotation_ok(ann):
                    results = ann.get("result")
                    if not isinstance(results, list) or result_ok is None:
                        continue
                    valid = [result_ok(r) for r in results]
                self._check_annotation(
                    ann, i, text, where, out, stats, fixes, stance_controls, valid
                )
            if len(truths) > 1 and text is not None:
                self._check_ground_truths(task, truths, where, out)
        drafts = task.get("drafts")
        if isinstance(drafts, list):
            stats["drafts"] += len(drafts)
        predictions = task.get("predictions")
        if isinstance(predictions, list):
            stats["predictions"] += len(predictions)
        if len(annotators) < self.min_annotators:
            out.append(
                where.finding(
                    "low-coverage",
                    f"{len(annotators)} annotator(s) completed this task, the gate "
                    f"min_annotators needs {self.min_annotators} (cancelled annotations and "
                    "drafts do not count)",
                )
            )
        return fixes

    def _task_stance(
        self, data: dict[str, Any], where: Where, out: list[Finding]
    ) -> dict[str, str | None]:
        """With one stance control: {control: the target the task's data names}, or
        {control: None} (no count is checked) after an `unknown-stance-target` finding."""
        control = self.single_stance
        assert control is not None
        value = data.get(self.target_field)
        target = self.scheme.target_id(value)
        if target is None:
            known = ", ".join(
                t.id if t.name == t.id else f"{t.id} ({t.name})" for t in self.scheme.stance_targets
            )
            out.append(
                where.finding(
                    "unknown-stance-target",
                    f"data.{self.target_field} is {_short(value)}, not a stance target of the "
                    f"scheme (known: {known or 'none'})",
                    pointer=pointer("data", self.target_field),
                )
            )
        return {control: target}

    def _check_article(
        self,
        task: dict[str, Any],
        data: dict[str, Any],
        text: str,
        where: Where,
        out: list[Finding],
    ) -> None:
        sha = data.get("text_sha256")
        if sha is None:
            self._check_untied(task, text, where, out)
            return
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != sha:  # store.sha256_text
            out.append(
                where.finding(
                    "text-hash-mismatch",
                    f"sha256 of data.{self.text_field} is not data.text_sha256",
                    pointer=pointer("data", self.text_field),
                )
            )
        if self.articles is None:
            return
        article_id = task_article_id(task, self.scheme)
        known = self.articles.get(article_id) if article_id is not None else None
        if known is None:
            shown_id = repr(article_id) if article_id is not None else "(no id)"
            out.append(
                where.finding(
                    "unknown-article",
                    f"article {shown_id} is not in the articles table",
                    pointer="/data/article_id",
                )
            )
        elif known != sha:
            out.append(
                where.finding(
                    "stale-annotation",
                    f"article {article_id!r} has text_sha256 {known[:12]}…, the task was made "
                    f"from {str(sha)[:12]}…: its annotations are stale",
                    pointer="/data/text_sha256",
                )
            )

    def _check_untied(
        self, task: dict[str, Any], text: str, where: Where, out: list[Finding]
    ) -> None:
        """A task without text_sha256 (made elsewhere): its own text is the truth for the
        offsets; the articles table ties it to an ingested article, or says it is stale."""
        article_id = task_article_id(task, self.scheme)
        known = None
        if self.articles is not None and article_id is not None:
            known = self.articles.get(article_id)
        if known is None:
            shown_id = repr(article_id) if article_id is not None else "(no id)"
            out.append(
                where.finding(
                    "text-not-tied",
                    "the task's text cannot be tied to an ingested article: no text_sha256, "
                    f"and no article {shown_id} with this text in the articles table",
                    pointer=pointer("data", self.text_field),
                )
            )
            return
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()  # store.sha256_text
        if known != sha:
            out.append(
                where.finding(
                    "stale-annotation",
                    f"article {article_id!r} has text_sha256 {known[:12]}…, the task's text "
                    f"differs (sha256 {sha[:12]}…): its annotations are stale",
                    pointer=pointer("data", self.text_field),
                )
            )

    def _check_personal(
        self, ann: dict[str, Any], i: int, where: Where, out: list[Finding]
    ) -> None:
        who = ann.get("completed_by")
        if isinstance(who, dict) and any(who.get(k) for k in _PERSONAL_KEYS):
            keys = ", ".join(k for k in _PERSONAL_KEYS if who.get(k))
            out.append(
                where.finding(
                    "personal-data",
                    f"completed_by carries the annotator's {keys}",
                    pointer=pointer("annotations", i, "completed_by"),
                    annotation_id=_id(ann.get("id")),
                )
            )

    def _check_annotation(
        self,
        ann: dict[str, Any],
        ai: int,
        text: str,
        where: Where,
        out: list[Finding],
        stats: dict[str, int],
        fixes: list[Utf16Fix],
        stance_controls: dict[str, str | None],
        valid: list[bool] | None = None,
    ) -> None:
        """One annotation's results; with `valid`, only those it marks (the others failed
        the schema: their ids and answers are noted so no finding repeats their problem).
        `stance_controls` maps each stance control to the target it asks (None: not checked)."""
        ann_id = _id(ann.get("id"))
        n = len(text)
        claims_name = self.claims_name
        shared = self.shared_labels
        claim_label = self.claim_label
        regions: dict[str, _Region] = {}  # id -> (shown kind, start, end, is a claim)
        spans: list[tuple[str, int, int, str, int]] = []  # (label, start, end, id or "", index)
        attributes: list[tuple[str | None, str, int, Any, Any]] = []
        relations: list[int] = []
        stance_counts = dict.fromkeys(stance_controls, 0)
        claims: list[tuple[str | None, int]] = []  # (id, index)
        unchecked = _Unchecked() if valid is not None else _NONE_UNCHECKED
        results = ann["result"]
        for ri, res in enumerate(results):
            if valid is not None and not valid[ri]:
                unchecked.note(res, stance_counts, self.checkworthy_name)
                continue
            rtype = res["type"]
            if rtype == "relation":
                relations.append(ri)
                continue
            name = res["from_name"]
            value = res["value"]
            if name in stance_controls:
                stance_counts[name] += len(value["choices"])
                continue
            start = value.get("start")
            end = value.get("end")
            rid = res.get("id")
            if rid.__class__ is not str or not rid:
                rid = None  # a region of its own, that nothing can name (see the docstring)
            if rtype != "labels":  # per-region check-worthiness or claimant text
                attributes.append((rid, name, ri, start, end))
            if type(start) is not int or type(end) is not int:
                if start.__class__ is float or end.__class__ is float:
                    # 12.0 or 1e19 pass the schema's "integer": say so, keep the region
                    self._not_integer(value, where, out, ai, ri, ann_id, rid)
                if rtype == "labels":
                    self._add_region(
                        regions,
                        claims,
                        rid,
                        self._kind(name, value),
                        start,
                        end,
                        ai,
                        ri,
                        ann_id,
                        where,
                        out,
                    )
                continue
            # Fast path: offsets inside the text and value.text (a hint) agreeing with them.
            hint_text = value.get("text")
            ok = (
                end <= n
                and start < end
                and (
                    hint_text.__class__ is not str
                    or hint_text == text[start:end]
                    or hint_text == quirk(text[start:end])
                )
            ) or self._span_problem(
                text, n, start, end, hint_text, where, out, ai, ri, ann_id, rid, fixes
            )
            if rtype == "labels":
                is_claim = name == claims_name and (not shared or value["labels"][0] == claim_label)
                if is_claim or rid is None or rid in regions:
                    self._add_region(
                        regions,
                        claims,
                        rid,
                        self._kind(name, value),
                        start,
                        end,
                        ai,
                        ri,
                        ann_id,
                        where,
                        out,
                    )
                elif shared:
                    regions[rid] = (f"{name} {value['labels'][0]}", start, end, False)
                else:
                    regions[rid] = (name, start, end, False)
                if ok:
                    spans.append((value["labels"][0], start, end, rid or "", ri))
        stats["regions"] += len(spans)
        if fixes:
            self._follow_utf16(results, attributes, fixes, ai, ann_id, where, out)
        for rid, name, ri, start, end in attributes:
            self._check_attribute(
                regions, unchecked, rid, name, ri, start, end, ai, ann_id, where, out
            )
        for ri in relations:
            self._check_relation(regions, unchecked, results[ri], ri, ai, ann_id, where, out)
        if claims:
            self._check_claims_answered(claims, attributes, unchecked, ai, ann_id, where, out)
        for control, count in stance_counts.items():
            if count != 1:
                target = stance_controls[control]
                if target is None:
                    continue  # the task names no known target: reported once for the task
                out.append(
                    where.finding(
                        "stance-missing" if count == 0 else "stance-multiple",
                        f"stance on {target!r}: {count} answers, expected exactly one",
                        pointer=pointer("annotations", ai, "result"),
                        annotation_id=ann_id,
                    )
                )
        _check_overlaps(spans, ai, ann_id, where, out)

    def _add_region(
        self,
        regions: dict[str, _Region],
        claims: list[tuple[str | None, int]],
        rid: str | None,
        kind: tuple[str, bool],
        start: Any,
        end: Any,
        ai: int,
        ri: int,
        ann_id: int | str | None,
        where: Where,
        out: list[Finding],
    ) -> None:
        """Register a labels region under its id (one without an id can't be named);
        `kind` is how messages name it and whether it is a claim."""
        if kind[1]:
            claims.append((rid, ri))
        if rid is None:
            return
        if rid in regions:
            out.append(
                where.finding(
                    "duplicate-region-id",
                    f"region id {rid!r} is used by two regions",
                    pointer=pointer("annotations", ai, "result", ri, "id"),
                    annotation_id=ann_id,
                    region_id=rid,
                )
            )
        else:
            regions[rid] = (kind[0], start, end, kind[1])

    def _kind(self, name: str, value: dict[str, Any]) -> tuple[str, bool]:
        """How messages name a labels region of control `name`, and whether it is a claim
        (with the claim label in the entity control, its label tells)."""
        if not self.shared_labels:
            return name, name == self.claims_name
        labels = value.get("labels")
        label = labels[0] if isinstance(labels, list) and labels else None
        return f"{name} {label}", self.scheme.is_claim(name, label)

    def _not_integer(
        self,
        value: dict[str, Any],
        where: Where,
        out: list[Finding],
        ai: int,
        ri: int,
        ann_id: int | str | None,
        rid: str | None,
    ) -> None:
        keys = [k for k in ("start", "end") if value.get(k).__class__ is float]
        shown = ", ".join(f"value.{k} is {value[k]!r}" for k in keys)
        out.append(
            where.finding(
                "offset-not-integer",
                f"{shown}: not an integer (written with a fraction or an exponent, or "
                "beyond 64 bits)",
                pointer=pointer("annotations", ai, "result", ri, "value"),
                annotation_id=ann_id,
                region_id=rid,
            )
        )

    def _check_ground_truths(
        self, task: dict[str, Any], truths: list[int], where: Where, out: list[Finding]
    ) -> None:
        """Two ground-truth annotations must say the same: the release keeps only one."""
        anns = task["annotations"]
        labels: list[tuple[int, tuple[Any, ...]]] = []
        for i in truths:
            try:
                rec = parse_annotation(anns[i], task, self.scheme)
            except DataError:
                continue  # unreadable: its findings are reported already
            labels.append((i, _gold_view(rec)))
        if len(labels) < 2:
            return
        first, first_view = labels[0]
        first_id = _id(anns[first].get("id"))
        for i, view in labels[1:]:
            layers = [name for name, a, b in zip(_LAYERS, first_view, view, strict=True) if a != b]
            if not layers:
                continue
            ann_id = _id(anns[i].get("id"))
            out.append(
                where.finding(
                    "ground-truth-conflict",
                    f"annotations {first_id} and {ann_id} are both ground truth and differ in "
                    f"{', '.join(layers)}: a release would keep only the latest of them",
                    pointer=pointer("annotations", i),
                    annotation_id=ann_id,
                )
            )

    def _span_problem(
        self,
        text: str,
        n: int,
        start: int,
        end: int,
        hint_text: Any,
        where: Where,
        out: list[Finding],
        ai: int,
        ri: int,
        ann_id: int | str | None,
        rid: str | None,
        fixes: list[Utf16Fix],
    ) -> bool:
        """Report what is wrong with offsets that failed the fast path; always False."""
        at = pointer("annotations", ai, "result", ri, "value")

        def finding(slug: str, message: str) -> Finding:
            return where.finding(slug, message, pointer=at, annotation_id=ann_id, region_id=rid)

        if start >= end:
            out.append(finding("span-inverted", f"start {start} is not before end {end}"))
            return False
        if isinstance(hint_text, str):
            fixed = utf16_to_code_points(text, start, end, hint_text)
            if fixed is not None:
                out.append(
                    finding(
                        "utf16-offsets",
                        f"offsets {start}-{end} are UTF-16 code units; in code points the "
                        f"region {hint_text!r} is {fixed[0]}-{fixed[1]}",
                    )
                )
                fixes.append(Utf16Fix(ai, ri, fixed[0], fixed[1]))
                return False
        if end > n:
            out.append(
                finding("span-out-of-bounds", f"end {end} is past the end of the text ({n})")
            )
            return False
        out.append(
            finding(
                "text-mismatch",
                f"text[{start}:{end}] is {_short(text[start:end])}, value.text is "
                f"{_short(hint_text)}",
            )
        )
        return False

    def _follow_utf16(
        self,
        results: list[dict[str, Any]],
        attributes: list[tuple[str | None, str, int, Any, Any]],
        fixes: list[Utf16Fix],
        ai: int,
        ann_id: int | str | None,
        where: Where,
        out: list[Finding],
    ) -> None:
        """A claimant textarea has offsets but no text to compare: when they equal its claim
        region's UTF-16 offsets, they are UTF-16 too, and are repaired with the claim."""
        moved: dict[str, tuple[int, int, Utf16Fix]] = {}
        fixed = {fx.result_index for fx in fixes if fx.annotation_index == ai}
        for fx in fixes:
            if fx.annotation_index != ai:
                continue
            res = results[fx.result_index]
            rid = region_id(res)
            if res["type"] == "labels" and rid is not None:
                moved[rid] = (res["value"]["start"], res["value"]["end"], fx)
        for rid, _name, ri, start, end in attributes:
            hit = moved.get(rid) if rid is not None else None
            if ri in fixed or hit is None or (start, end) != hit[:2]:
                continue
            fx = hit[2]
            fixes.append(Utf16Fix(ai, ri, fx.start, fx.end))
            out.append(
                where.finding(
                    "utf16-offsets",
                    f"offsets {start}-{end} are its claim region's UTF-16 offsets; in code "
                    f"points {fx.start}-{fx.end}",
                    pointer=pointer("annotations", ai, "result", ri, "value"),
                    annotation_id=ann_id,
                    region_id=rid,
                )
            )

    def _check_attribute(
        self,
        regions: dict[str, _Region],
        unchecked: _Unchecked,
        rid: str | None,
        name: str,
        ri: int,
        start: Any,
        end: Any,
        ai: int,
        ann_id: int | str | None,
        where: Where,
        out: list[Finding],
    ) -> None:
        if rid is None:
            out.append(
                where.finding(
                    "orphan-attribute",
                    f"{name} answer without an id: it belongs to no region (Label Studio gives "
                    "such a result a region of its own, so no claim gets this answer)",
                    pointer=pointer("annotations", ai, "result", ri),
                    annotation_id=ann_id,
                )
            )
            return
        if rid in unchecked.ids and rid not in regions:
            return  # its region failed the schema: reported there
        region = regions.get(rid)
        if region is None or not region[3]:
            what = "no region" if region is None else f"a {region[0]} region, not a claim"
            out.append(
                where.finding(
                    "orphan-attribute",
                    f"{name} answer for region {rid!r}, which is {what}",
                    pointer=pointer("annotations", ai, "result", ri),
                    annotation_id=ann_id,
                    region_id=rid,
                )
            )
        elif start is not None and (start, end) != region[1:3]:
            out.append(
                where.finding(
                    "attribute-offsets-mismatch",
                    f"{name} answer has offsets {start}-{end}, its claim region "
                    f"{region[1]}-{region[2]}",
                    pointer=pointer("annotations", ai, "result", ri),
                    annotation_id=ann_id,
                    region_id=rid,
                )
            )

    def _check_relation(
        self,
        regions: dict[str, _Region],
        unchecked: _Unchecked,
        res: dict[str, Any],
        ri: int,
        ai: int,
        ann_id: int | str | None,
        where: Where,
        out: list[Finding],
    ) -> None:
        ends = (res["from_id"], res["to_id"])
        if unchecked.ids and any(r in unchecked.ids and r not in regions for r in ends):
            return  # a region it names failed the schema: reported there
        missing = [r for r in ends if r not in regions]
        if missing:
            out.append(
                where.finding(
                    "relation-missing-region",
                    f"relation {ends[0]!r} -> {ends[1]!r} names missing region(s) "
                    + ", ".join(repr(m) for m in missing),
                    pointer=pointer("annotations", ai, "result", ri),
                    annotation_id=ann_id,
                    region_id=missing[0],
                )
            )
            return
        if regions[ends[0]][3] == regions[ends[1]][3]:  # not one entity and one claim
            out.append(
                where.finding(
                    "relation-wrong-kind",
                    f"{self.relation_label} relation {ends[0]!r} -> {ends[1]!r} links "
                    f"{regions[ends[0]][0]} to {regions[ends[1]][0]}, not an entity to a claim",
                    pointer=pointer("annotations", ai, "result", ri),
                    annotation_id=ann_id,
                    region_id=ends[0],
                )
            )

    def _check_claims_answered(
        self,
        claims: list[tuple[str | None, int]],
        attributes: list[tuple[str | None, str, int, Any, Any]],
        unchecked: _Unchecked,
        ai: int,
        ann_id: int | str | None,
        where: Where,
        out: list[Finding],
    ) -> None:
        checkworthy = self.checkworthy_name
        answered = {rid for rid, name, *_ in attributes if name == checkworthy}
        if unchecked.answered:
            answered |= unchecked.answered
        seen: set[str] = set()
        for rid, ri in claims:
            if rid is None:
                out.append(
                    where.finding(
                        "claim-without-checkworthy",
                        "claim region without an id: no check-worthiness answer can refer to it",
                        pointer=pointer("annotations", ai, "result", ri),
                        annotation_id=ann_id,
                    )
                )
            elif rid not in answered and rid not in seen:
                seen.add(rid)
                out.append(
                    where.finding(
                        "claim-without-checkworthy",
                        f"claim region {rid!r} has no check-worthiness answer",
                        pointer=pointer("annotations", ai, "result"),
                        annotation_id=ann_id,
                        region_id=rid,
                    )
                )


def _check_overlaps(
    spans: list[tuple[str, int, int, str, int]],
    ai: int,
    ann_id: int | str | None,
    where: Where,
    out: list[Finding],
) -> None:
    """Regions of one label that overlap (sorted by label, then start: one sweep)."""
    spans.sort()
    label = None
    reach_end, reach_id = 0, ""
    for lab, start, end, rid, ri in spans:
        if lab != label:
            label, reach_end, reach_id = lab, end, rid
            continue
        if start < reach_end:
            out.append(
                where.finding(
                    "overlapping-spans",
                    f"{lab} region {rid or '(no id)'!r} ({start}-{end}) overlaps {lab} region "
                    f"{reach_id or '(no id)'!r} (ends at {reach_end})",
                    pointer=pointer("annotations", ai, "result", ri),
                    annotation_id=ann_id,
                    region_id=rid or None,
                )
            )
        if end > reach_end:
            reach_end, reach_id = end, rid


def scan_emails(task: dict[str, Any], where: Where, out: list[Finding]) -> None:
    """Report strings that look like email addresses anywhere in the task but its article data.

    `completed_by` objects are reported on their own (see `_check_personal`).
    """
    for key, value in task.items():
        if key == "data":
            continue
        _walk(value, [key], task, where, out)


def _walk(
    node: Any, path: list[object], task: dict[str, Any], where: Where, out: list[Finding]
) -> None:
    if isinstance(node, str):
        if "@" in node and EMAIL.search(node):
            ann_id = None
            if len(path) >= 2 and path[0] == "annotations":
                anns = task.get("annotations")
                if isinstance(anns, list) and isinstance(path[1], int):
                    a = anns[path[1]]
                    ann_id = _id(a.get("id")) if isinstance(a, dict) else None
            out.append(
                where.finding(
                    "personal-data",
                    f"{pointer(*path)} looks like an email address",
                    pointer=pointer(*path),
                    annotation_id=ann_id,
                )
            )
    elif isinstance(node, dict):
        if path[-1] == "completed_by":
            return
        for k, v in node.items():
            _walk(v, [*path, k], task, where, out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _walk(v, [*path, i], task, where, out)


class _Unchecked:
    """What the results that failed the schema still tell: the ids they carry, the claims
    they answer and the stance questions they answer (so none is reported as missing)."""

    __slots__ = ("answered", "ids")

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.answered: set[str] = set()

    def note(self, res: Any, stance_counts: dict[str, int], checkworthy: str) -> None:
        if not isinstance(res, dict):
            return
        rid = res.get("id")
        name = res.get("from_name")
        if isinstance(rid, str) and rid:
            self.ids.add(rid)
            if name == checkworthy:
                self.answered.add(rid)
        if isinstance(name, str) and name in stance_counts:
            stance_counts[name] += 1


_Region = tuple[str, Any, Any, bool]
"""A labels region: how messages name it, start, end, whether it is a claim."""

_NONE_UNCHECKED = _Unchecked()  # shared by annotations that passed the schema: stays empty

_LAYERS = ("entities", "claims", "stances")


def _gold_view(rec: Annotation) -> tuple[Any, ...]:
    """What an annotation says, without region ids or who said it (one item per layer)."""
    return (
        sorted((e.start, e.end, e.label) for e in rec.entities),
        sorted((c.start, c.end, str(c.checkworthy), str(c.claimant)) for c in rec.claims),
        sorted((s.target, s.label) for s in rec.stances),
    )


def _id(value: Any) -> int | str | None:
    if isinstance(value, bool):
        return None
    return value if isinstance(value, int | str) else None


def _short(value: Any) -> str:
    s = repr(value)
    return s if len(s) <= 60 else s[:57] + "…"
