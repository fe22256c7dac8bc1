"""Structure: tasks against `ls-task.schema.json`.

`jsonschema-rs` decides valid / invalid for every task (fast). Only a task that fails is
walked with the reference `jsonschema` validator, whose errors (paths and messages) are the
findings; and only its failing parts: the task's own fields, its `data`, each annotation that
fails, each result that fails (the fast validator picks them out). The schema is the same,
split at `$defs` boundaries, so the errors are exactly what the reference validator gives on
the whole task, at a fraction of its cost (a plain reference run costs ~5 ms per task).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from corpus_tools.config import CorpusConfig
from corpus_tools.jsonschemas import task_schema
from corpus_tools.model import Finding
from corpus_tools.validate.slugs import Where, pointer

if TYPE_CHECKING:
    import jsonschema

Path_ = list[str | int]


class StructureChecker:
    """Both validators for one scheme, built once per run."""

    def __init__(self, config: CorpusConfig) -> None:
        schema = task_schema(config)
        self.schema = schema
        defs = schema["$defs"]
        self._fast = jsonschema_rs.validator_for(schema)
        self._annotation = jsonschema_rs.validator_for(
            {"$defs": defs, "$ref": "#/$defs/annotation"}
        )
        self._data = jsonschema_rs.validator_for(defs["data"])
        self._result = jsonschema_rs.validator_for(defs["result"])
        # The same schema cut at its $defs: each level checks its own keywords only.
        task_level = {k: v for k, v in schema.items() if k != "$defs"}
        task_level["properties"] = {
            **schema["properties"],
            "data": {"type": "object"},
            "annotations": {"type": "array"},
        }
        annotation_level = dict(defs["annotation"])
        annotation_level["properties"] = {
            **defs["annotation"]["properties"],
            "result": {"type": "array"},
        }
        self._levels = (task_level, defs["data"], annotation_level, defs["result"])

    @functools.cached_property
    def _refs(self) -> tuple[jsonschema.Draft202012Validator, ...]:
        """The reference validators (task, data, annotation, result levels), made when the
        first invalid task needs its messages: a valid export never imports jsonschema."""
        import jsonschema

        return tuple(jsonschema.Draft202012Validator(level) for level in self._levels)

    def is_valid(self, task: Any) -> bool:
        return bool(self._fast.is_valid(task))

    def annotation_ok(self, annotation: Any) -> bool:
        """Whether one annotation is well-formed (its semantic checks can run)."""
        return bool(self._annotation.is_valid(annotation))

    def result_ok(self, result: Any) -> bool:
        """Whether one result is well-formed (its semantic checks can run)."""
        return bool(self._result.is_valid(result))

    def data_ok(self, data: Any) -> bool:
        return bool(self._data.is_valid(data))

    def errors(self, task: Any) -> list[tuple[Path_, jsonschema.ValidationError]]:
        """The reference validator's errors on a task, each with its path from the task."""
        found: list[tuple[Path_, jsonschema.ValidationError]] = []

        def collect(validator: jsonschema.Draft202012Validator, node: Any, at: Path_) -> None:
            found.extend(([*at, *e.absolute_path], e) for e in validator.iter_errors(node))

        ref_task, ref_data, ref_annotation, ref_result = self._refs
        collect(ref_task, task, [])
        if not isinstance(task, dict):
            return found
        data = task.get("data")
        if isinstance(data, dict) and not self._data.is_valid(data):
            collect(ref_data, data, ["data"])
        annotations = task.get("annotations")
        if isinstance(annotations, list):
            for i, ann in enumerate(annotations):
                if self._annotation.is_valid(ann):
                    continue
                collect(ref_annotation, ann, ["annotations", i])
                results = ann.get("result") if isinstance(ann, dict) else None
                if isinstance(results, list):
                    for j, res in enumerate(results):
                        if not self._result.is_valid(res):
                            collect(ref_result, res, ["annotations", i, "result", j])
        return found

    def findings(self, task: Any, where: Where) -> list[Finding]:
        """The reference validator's errors on an invalid task, as findings."""
        errors = sorted(self.errors(task), key=lambda pe: [str(p) for p in pe[0]])
        return [_to_finding(err, path, task, where) for path, err in errors]


def _to_finding(err: jsonschema.ValidationError, path: Path_, task: Any, where: Where) -> Finding:
    ann_id, region_id = _ids(task, path)
    return where.finding(
        _slug(err, path),
        f"{pointer(*path) or '(task)'}: {_message(err)}",
        pointer=pointer(*path),
        annotation_id=ann_id,
        region_id=region_id,
    )


def _message(err: jsonschema.ValidationError) -> str:
    msg = err.message
    return msg if len(msg) <= 300 else msg[:297] + "..."


def _slug(err: jsonschema.ValidationError, path: Sequence[object]) -> str:
    keyword = err.validator
    names = [p for p in path if isinstance(p, str)]
    last = names[-1] if names else None
    if keyword in ("enum", "const"):
        if len(path) >= 2 and path[-2] == "labels":
            return "unknown-label"
        if len(path) >= 2 and path[-2] == "choices":
            return "unknown-choice"
        if last in ("from_name", "to_name"):
            return "unknown-control"
        if last == "type":
            return "unknown-result-type"
    if keyword == "required":
        return "missing-field"
    if keyword == "type":
        return "wrong-type"
    if keyword == "minimum" and last in ("start", "end"):
        return "span-out-of-bounds"
    return "schema-violation"


def _ids(task: Any, path: Sequence[object]) -> tuple[int | str | None, str | None]:
    """The annotation id and region id a schema error is inside, when it is."""
    if len(path) < 2 or path[0] != "annotations" or not isinstance(task, dict):
        return None, None
    try:
        ann = task["annotations"][path[1]]
    except (KeyError, IndexError, TypeError):
        return None, None
    ann_id = ann.get("id") if isinstance(ann, dict) else None
    ann_id = ann_id if isinstance(ann_id, int | str) and not isinstance(ann_id, bool) else None
    region_id = None
    if len(path) >= 4 and path[2] == "result" and isinstance(ann, dict):
        try:
            result = ann["result"][path[3]]
        except (KeyError, IndexError, TypeError):
            result = None
        if isinstance(result, dict) and isinstance(result.get("id"), str):
            region_id = result["id"]
    return ann_id, region_id
