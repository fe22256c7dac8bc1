"""Meaning: one task's annotations against the scheme, the task text and the articles.

Runs on tasks (or, in a task that failed the schema, on the annotations) that are
well-formed, so it may index fields the schema requires. Offsets are code points; the
truth is `text[start:end]`. `value.text` is compared allowing for the Label Studio newline
quirk (the UI writes each `\\r` / `\\n` as the two characters backslash-n).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from corpus_tools.config import (
    CHECKWORTHY_NAME,
    CLAIM_NAME,
    ENTITIES_NAME,
    CorpusConfig,
)
from corpus_tools.exports import annotator_id
from corpus_tools.model import Finding
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
        self.articles = articles
        self.min_annotators = config.gates.min_annotators
        self.relation_label = scheme.claimant_relation
        self.stance_controls = {scheme.stance_control(t.id): t.id for t in scheme.stance_targets}

    def check_task(
        self,
        task: dict[str, Any],
        where: Where,
        out: list[Finding],
        stats: dict[str, int],
        *,
        annotation_ok: Callable[[Any], bool] | None = None,
        data_ok: bool = True,
    ) -> list[Utf16Fix]:
        """Append the task's findings to `out`, count into `stats`; return UTF-16 repairs.

        `annotation_ok` is given for a task that failed the schema: only annotations it
        accepts are checked (the schema findings already cover the others).
        """
        fixes: list[Utf16Fix] = []
        data = task.get("data")
        text: str | None = None
        if data_ok and isinstance(data, dict):
            text = data["text"]
            self._check_article(data, text, where, out)
        annotations = task.get("annotations")
        annotators: set[str] = set()
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
                if text is None or (annotation_ok is not None and not annotation_ok(ann)):
                    continue
                self._check_annotation(ann, i, text, where, out, stats, fixes)
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

    def _check_article(
        self, data: dict[str, Any], text: str, where: Where, out: list[Finding]
    ) -> None:
        sha = data["text_sha256"]
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != sha:  # store.sha256_text
            out.append(
                where.finding(
                    "text-hash-mismatch",
                    "sha256 of data.text is not data.text_sha256",
                    pointer="/data/text",
                )
            )
        if self.articles is None:
            return
        article_id = data["article_id"]
        known = self.articles.get(article_id)
        if known is None:
            out.append(
                where.finding(
                    "unknown-article",
                    f"article {article_id!r} is not in the articles table",
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
    ) -> None:
        ann_id = _id(ann.get("id"))
        n = len(text)
        stance_controls = self.stance_controls
        regions: dict[str, tuple[str, int, int]] = {}  # id -> (from_name, start, end)
        spans: list[tuple[str, int, int, str, int]] = []  # (label, start, end, id, index)
        attributes: list[tuple[str, str, int, int | None, int | None]] = []
        relations: list[int] = []
        stance_counts = dict.fromkeys(stance_controls, 0)
        claims: list[str] = []
        results = ann["result"]
        for ri, res in enumerate(results):
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
            if rtype != "labels":  # per-region check-worthiness or claimant text
                attributes.append((res["id"], name, ri, start, end))
            if type(start) is not int or type(end) is not int:
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
                text, n, start, end, hint_text, where, out, ai, ri, ann_id, res.get("id"), fixes
            )
            if rtype == "labels":
                rid = res["id"]
                if name == CLAIM_NAME:
                    claims.append(rid)
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
                    regions[rid] = (name, start, end)
                if ok:
                    spans.append((value["labels"][0], start, end, rid, ri))
        stats["regions"] += len(spans)
        if fixes:
            self._follow_utf16(results, attributes, fixes, ai, ann_id, where, out)
        for rid, name, ri, start, end in attributes:
            self._check_attribute(regions, rid, name, ri, start, end, ai, ann_id, where, out)
        for ri in relations:
            self._check_relation(regions, results[ri], ri, ai, ann_id, where, out)
        if claims:
            self._check_claims_answered(claims, attributes, ai, ann_id, where, out)
        for control, count in stance_counts.items():
            if count != 1:
                target = stance_controls[control]
                out.append(
                    where.finding(
                        "stance-missing" if count == 0 else "stance-multiple",
                        f"stance on {target!r}: {count} answers, expected exactly one",
                        pointer=pointer("annotations", ai, "result"),
                        annotation_id=ann_id,
                    )
                )
        _check_overlaps(spans, ai, ann_id, where, out)

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
        attributes: list[tuple[str, str, int, int | None, int | None]],
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
            if res["type"] == "labels":
                moved[res["id"]] = (res["value"]["start"], res["value"]["end"], fx)
        for rid, _name, ri, start, end in attributes:
            hit = moved.get(rid)
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
        regions: dict[str, tuple[str, int, int]],
        rid: str,
        name: str,
        ri: int,
        start: int | None,
        end: int | None,
        ai: int,
        ann_id: int | str | None,
        where: Where,
        out: list[Finding],
    ) -> None:
        region = regions.get(rid)
        if region is None or region[0] != CLAIM_NAME:
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
        elif start is not None and (start, end) != region[1:]:
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
        regions: dict[str, tuple[str, int, int]],
        res: dict[str, Any],
        ri: int,
        ai: int,
        ann_id: int | str | None,
        where: Where,
        out: list[Finding],
    ) -> None:
        ends = (res["from_id"], res["to_id"])
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
        kinds = {regions[ends[0]][0], regions[ends[1]][0]}
        if kinds != {ENTITIES_NAME, CLAIM_NAME}:
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
        claims: list[str],
        attributes: list[tuple[str, str, int, int | None, int | None]],
        ai: int,
        ann_id: int | str | None,
        where: Where,
        out: list[Finding],
    ) -> None:
        answered = {rid for rid, name, *_ in attributes if name == CHECKWORTHY_NAME}
        for rid in dict.fromkeys(claims):
            if rid not in answered:
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
                    f"{lab} region {rid!r} ({start}-{end}) overlaps {lab} region "
                    f"{reach_id!r} (ends at {reach_end})",
                    pointer=pointer("annotations", ai, "result", ri),
                    annotation_id=ann_id,
                    region_id=rid,
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


def _id(value: Any) -> int | str | None:
    if isinstance(value, bool):
        return None
    return value if isinstance(value, int | str) else None


def _short(value: Any) -> str:
    s = repr(value)
    return s if len(s) <= 60 else s[:57] + "…"
