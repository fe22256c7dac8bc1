"""The edge where raw Label Studio JSON becomes our records.

Reads what Label Studio gives (a JSON array export downloaded from the UI, JSONL with one task
per line, or the folder `corpus ls pull` writes: one pretty JSON task per file) and converts
tasks into `Annotation` records. Validation (`corpus_tools.validate`) checks the raw dicts and
reports findings; the stages after it (agreement, adjudication, release) call `parse_task`.
Results are read in the corpus's own control names (`Scheme.names`, `[scheme.names]`), and a
task made elsewhere (no `text_sha256`, maybe no `article_id`) is read by its own text and id.

Label Studio quirk: across a line break the UI stores `value.text` with each `\\r`/`\\n` as the
two characters backslash-n. `value.text` is only a hint; the truth is `text[start:end]`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from corpus_tools.config import Scheme
from corpus_tools.errors import DataError
from corpus_tools.model import (
    Annotation,
    AnnotationSource,
    Claim,
    EntitySpan,
    Finding,
    StanceJudgement,
)

RawTask = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TaskLocation:
    """Where a raw task was read: file, and its index in an array or its JSONL line (1-based)."""

    file: str
    index: int | None = None
    line: int | None = None


def export_files(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into the export files to read, sorted for stable output.

    In a folder, every `*.json` / `*.jsonl` below it is read, except files starting with `_`
    (such as the `_project.json` that `corpus ls pull` writes beside the tasks) and anything
    temporary, hidden or a backup: a file or folder below it whose name starts with `.` or
    ends with `.bak`, `.tmp`, `.old`, `.orig` or `~` (an interrupted pull's
    `.<project>.pull-*` folder, an editor's backup). A file named explicitly is always read.
    """
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if _is_export_file(f, p)))
        else:
            out.append(p)
    return out


# What the folder walk passes over: the metadata a pull writes beside the tasks (`_` names),
# hidden and interrupted-pull files and folders (`.` names), backups and temporary files.
SKIPPED_ENDINGS = (".bak", ".tmp", ".old", ".orig", "~")


def _is_export_file(f: Path, root: Path) -> bool:
    return (
        f.suffix in {".json", ".jsonl"}
        and _why_skipped(f.name, f.relative_to(root).parts) is None
        and f.is_file()
    )


def skip_reason(path: Path, root: Path) -> str | None:
    """Why the folder walk (`export_files`) would pass over `path`, or None when it reads it:
    the same rule for a file named explicitly (`corpus validate FILE`).

    The name's parts are taken relative to `root` (the corpus root) when `path` is below it,
    so a hidden folder above the corpus does not count; else only the file's own name.
    """
    try:
        parts = path.resolve().relative_to(root.resolve()).parts
    except ValueError:
        parts = (path.name,)
    return _why_skipped(path.name, parts) if parts else None


def _why_skipped(name: str, parts: tuple[str, ...]) -> str | None:
    if name.startswith("_"):
        return "its name starts with `_`: metadata written beside the tasks (`_project.json`)"
    for part in parts:
        if part.startswith("."):
            return f"`{part}` starts with `.`: a hidden or interrupted-pull file"
        if part.endswith(SKIPPED_ENDINGS):
            return f"`{part}` is a backup or temporary file"
    return None


def iter_raw_tasks(paths: Iterable[Path]) -> Iterator[tuple[TaskLocation, RawTask]]:
    """Yield (location, task dict) for every task in the given files and folders.

    Files are streamed by the reader validation uses (`corpus_tools.validate.reader`), so an
    export is never held in memory whole. Raises DataError on the first problem in a file
    (validation reports a finding instead and goes on); tasks before it may have been yielded.
    """
    # Imported here: corpus_tools.validate imports this module.
    from corpus_tools.validate.reader import read_tasks

    for f in export_files(paths):
        name = str(f)
        findings: list[Finding] = []
        jsonl = f.suffix == ".jsonl"
        for item in read_tasks(f, name, findings):
            _raise_finding(findings, name)
            where = item.where
            try:
                obj = orjson.loads(item.raw)
            except orjson.JSONDecodeError as exc:
                at = f"{name}:{where.line}" if jsonl else name
                raise DataError(f"{at}: not JSON ({exc})", path=name) from None
            if jsonl:
                loc = TaskLocation(name, line=where.line)
            elif where.prefix:  # "/3": the task's index in a JSON array
                loc = TaskLocation(name, index=int(where.prefix[1:]))
            else:
                loc = TaskLocation(name)
            yield loc, _as_task(obj, name)
        _raise_finding(findings, name)


def _raise_finding(findings: list[Finding], name: str) -> None:
    """Raise the reader's first finding about a file as a DataError (warnings included)."""
    if findings:
        first = findings[0]
        at = f"{name}:{first.line}" if first.line is not None else name
        raise DataError(f"{at}: {first.message}", path=name, hint=first.hint)


def _as_task(obj: Any, name: str) -> RawTask:
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), dict):
        if is_json_min_row(obj):
            from corpus_tools.validate.slugs import hint

            raise DataError(
                f"{name}: {LOSSY['JSON-MIN']}", path=name, hint=hint("lossy-export")
            ) from None
        raise DataError(f"{name}: not a Label Studio task (no 'data' object)", path=name)
    return obj


_DROPS = "without region ids, relations or per-region answers"
LOSSY = {
    "JSON-MIN": f"a Label Studio JSON-MIN export (one flat row per annotation, {_DROPS})",
    "CSV": f"a Label Studio CSV export (one row per annotation, {_DROPS})",
    "TSV": f"a Label Studio TSV export (one row per annotation, {_DROPS})",
}
"""The lossy export formats Label Studio offers, as findings and errors name them."""


def is_json_min_row(obj: Any) -> bool:
    """Whether a parsed value is a row of Label Studio's JSON-MIN export: the task's data
    fields at the top level (no `data` object), with `annotator` and `annotation_id` for an
    annotated task, or only `id` beside them for a task without annotations."""
    if not isinstance(obj, dict) or "data" in obj or "annotations" in obj:
        return False
    if "annotation_id" in obj or "annotator" in obj:
        return True
    return "id" in obj and ("text" in obj or "article_id" in obj)


def csv_export_kind(header: str, suffix: str) -> str | None:
    """`CSV` / `TSV` when a header line is one of Label Studio's CSV or TSV exports."""
    sep = "\t" if suffix == ".tsv" else ","
    names = {c.strip().strip('"') for c in header.split(sep)}
    if {"annotation_id", "annotator"} & names or {"id", "text"} <= names:
        return "TSV" if sep == "\t" else "CSV"
    return None


def annotator_id(completed_by: Any) -> str:
    """A pseudonymous annotator id from `completed_by`.

    Pulled files already carry a pseudonym (a string). A sync export from the UI carries the
    user's numeric id (`user-3`); a snapshot export carries an object, of which only the id is
    used, never the email or names.
    """
    if isinstance(completed_by, str):
        return completed_by
    if isinstance(completed_by, bool):
        return "unknown"
    if isinstance(completed_by, int):
        return f"user-{completed_by}"
    if isinstance(completed_by, dict) and isinstance(completed_by.get("id"), int):
        return f"user-{completed_by['id']}"
    return "unknown"


def unescape_value_text(value_text: str) -> str:
    """Undo the UI's newline quirk: literal backslash-n in `value.text` stands for a line break."""
    return value_text.replace("\\n", "\n")


def _region_text(text: str, start: int, end: int) -> str:
    return text[start:end]


def region_id(result: dict[str, Any]) -> str | None:
    """A result's region id; None when it has none (or an empty one).

    Label Studio's editor gives such a result a region of its own under a fresh id
    (`id || guidGenerator()` in `deserializeSingleResult`), so nothing can refer to it: no
    relation, and no per-region answer (an answer without an id belongs to no region).
    """
    rid = result.get("id")
    if rid is None or rid == "":
        return None
    return str(rid)


def task_text(task: RawTask, scheme: Scheme) -> str | None:
    """The text a task shows (`data[<text_field>]`), None when it has none."""
    data = task.get("data")
    text = data.get(scheme.names.text_field) if isinstance(data, dict) else None
    return text if isinstance(text, str) else None


def task_article_id(task: RawTask, scheme: Scheme) -> str | None:
    """The article a task is about: `data[<article_id_field>]`, else `task-<task id>` for a
    task made elsewhere (an adopted project's); None when it has neither.

    `corpus ingest` gives the articles it reads from a Label Studio export the same ids, so
    annotations, the articles table and releases agree.
    """
    data = task.get("data")
    if isinstance(data, dict):
        aid = data.get(scheme.names.article_id_field)
        if isinstance(aid, str) and aid:
            return aid
    tid = task.get("id")
    if isinstance(tid, int) and not isinstance(tid, bool):
        return f"task-{tid}"
    return None


def task_sha256(task: RawTask, scheme: Scheme) -> str | None:
    """The sha256 of the text a task's annotations are about: `data.text_sha256` when the
    task carries it (tasks `corpus tasks` made), else the sha256 of the task's own text (a
    task made elsewhere); None when it has neither."""
    data = task.get("data")
    if isinstance(data, dict):
        sha = data.get("text_sha256")
        if isinstance(sha, str) and sha:
            return sha
    text = task_text(task, scheme)
    if text is None:
        return None
    from corpus_tools.store import sha256_text

    return sha256_text(text)


def _offset(value: dict[str, Any], key: str) -> int:
    """An offset as written: an integer, never a float rounded to one (`12.0`, `1e19`)."""
    v = value[key]
    if type(v) is not int:
        raise ValueError(f"value.{key} is {v!r}, not an integer offset")
    return v


def parse_task(
    task: RawTask, scheme: Scheme, *, file: str | None = None, include_cancelled: bool = False
) -> list[Annotation]:
    """The Annotation records of one raw task (cancelled ones only on request).

    Assumes the task passed validation; raises DataError naming the task and annotation when
    a region cannot be read at all.
    """
    names = scheme.names
    text = task_text(task, scheme)
    article_id = task_article_id(task, scheme)
    task_id = task.get("id")
    if text is None or article_id is None:
        raise DataError(
            f"task has no data.{names.text_field} or data.{names.article_id_field}",
            path=file,
            task_id=task_id,
        )
    out: list[Annotation] = []
    for ann in task.get("annotations") or []:
        cancelled = bool(ann.get("was_cancelled"))
        if cancelled and not include_cancelled:
            continue
        out.append(_parse_annotation(ann, text, article_id, task, scheme, file))
    return out


def parse_annotation(
    ann: dict[str, Any], task: RawTask, scheme: Scheme, *, file: str | None = None
) -> Annotation:
    """The Annotation record of one annotation of a raw task (DataError when unreadable)."""
    text = task_text(task, scheme)
    article_id = task_article_id(task, scheme)
    if text is None:
        raise DataError(
            f"task has no data.{scheme.names.text_field}", path=file, task_id=task.get("id")
        )
    return _parse_annotation(ann, text, article_id or "", task, scheme, file)


def _parse_annotation(
    ann: dict[str, Any],
    text: str,
    article_id: str,
    task: RawTask,
    scheme: Scheme,
    file: str | None,
) -> Annotation:
    task_id = task.get("id")
    ann_id = ann.get("id")
    entities: list[EntitySpan] = []
    claim_regions: dict[str, tuple[int, int]] = {}
    anonymous_claims: list[tuple[int, int]] = []  # claims without an id: nothing refers to them
    checkworthy: dict[str, str] = {}
    claimant_text: dict[str, str] = {}
    relations: list[tuple[str, str]] = []
    stances: list[StanceJudgement] = []
    names = scheme.names
    data = task.get("data")
    if not isinstance(data, dict):
        data = {}
    stance_controls = scheme.stance_controls
    entity_by_id: dict[str, EntitySpan] = {}
    for result in ann.get("result") or []:
        rtype = result.get("type")
        name = result.get("from_name", "")
        value = result.get("value") or {}
        rid = region_id(result)
        try:
            if rtype == "relation":
                if scheme.claimant_relation in (result.get("labels") or [scheme.claimant_relation]):
                    relations.append((str(result["from_id"]), str(result["to_id"])))
            elif rtype == "labels" and scheme.is_entity(name, _first_label(value)):
                start, end = _offset(value, "start"), _offset(value, "end")
                span = EntitySpan(
                    start, end, str(value["labels"][0]), _region_text(text, start, end), rid
                )
                entities.append(span)
                if rid is not None:
                    entity_by_id[rid] = span
            elif rtype == "labels" and scheme.is_claim(name, _first_label(value)):
                offsets = (_offset(value, "start"), _offset(value, "end"))
                if rid is None:
                    anonymous_claims.append(offsets)
                else:
                    claim_regions[rid] = offsets
            elif rtype == "choices" and name in stance_controls:
                target = scheme.stance_target(name, data)
                if target is not None and value.get("choices"):
                    stances.append(StanceJudgement(target, str(value["choices"][0])))
            elif rid is None:
                pass  # a per-region answer without an id belongs to no region
            elif rtype == "choices" and name == names.checkworthy:
                checkworthy[rid] = str(value["choices"][0])
            elif rtype == "textarea" and name == names.claimant_text:
                vals = value.get("text") or []
                joined = " ".join(str(v) for v in vals).strip()
                if joined:
                    claimant_text[rid] = joined
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise DataError(
                f"unreadable {rtype or 'result'} region ({exc.__class__.__name__}: {exc})",
                path=file,
                task_id=task_id,
                annotation_id=ann_id,
                region_id=rid,
                hint="Run `corpus validate` for the full list of problems.",
            ) from None
    claimant_entity: dict[str, str] = {}
    for a, b in relations:
        if a in entity_by_id and b in claim_regions:
            claimant_entity[b] = a
        elif b in entity_by_id and a in claim_regions:
            claimant_entity[a] = b
    claims: list[Claim] = [
        Claim(start=s, end=e, text=_region_text(text, s, e), checkworthy=None, claimant=None)
        for s, e in anonymous_claims
    ]
    for rid, (start, end) in claim_regions.items():
        ent_id = claimant_entity.get(rid)
        claimant = entity_by_id[ent_id].text if ent_id else claimant_text.get(rid)
        claims.append(
            Claim(
                start=start,
                end=end,
                text=_region_text(text, start, end),
                checkworthy=checkworthy.get(rid),
                claimant=claimant,
                claimant_region_id=ent_id,
                region_id=rid,
            )
        )
    entities.sort(key=lambda e: (e.start, e.end, e.label))
    claims.sort(key=lambda c: (c.start, c.end))
    stances.sort(key=lambda s: s.target)
    lead = ann.get("lead_time")
    return Annotation(
        article_id=article_id,
        annotator=annotator_id(ann.get("completed_by")),
        source=AnnotationSource(
            task_id=task_id if isinstance(task_id, int) else None,
            annotation_id=ann_id if isinstance(ann_id, int) else None,
            updated_at=ann.get("updated_at"),
            file=file,
        ),
        entities=tuple(entities),
        stances=tuple(stances),
        claims=tuple(claims),
        lead_time=float(lead) if isinstance(lead, int | float) else None,
        was_cancelled=bool(ann.get("was_cancelled")),
        ground_truth=bool(ann.get("ground_truth")),
        text_sha256=task_sha256(task, scheme),
    )


def _first_label(value: dict[str, Any]) -> object:
    """The first label of a labels region's value (None when it has none)."""
    labels = value.get("labels")
    return labels[0] if isinstance(labels, list) and labels else None


def iter_annotations(
    paths: Iterable[Path], scheme: Scheme, *, include_cancelled: bool = False
) -> Iterator[Annotation]:
    """Every Annotation in the given export files and folders."""
    for loc, task in iter_raw_tasks(paths):
        yield from parse_task(task, scheme, file=loc.file, include_cancelled=include_cancelled)
