"""Structure: tasks against `ls-task.schema.json`.

`jsonschema-rs` decides valid / invalid for every task (fast); only a task that fails is
walked again with the reference `jsonschema` validator, whose errors (paths and messages) are
the findings. So the findings are exactly the reference validator's, at the fast one's cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jsonschema
import jsonschema_rs

from corpus_tools.config import CorpusConfig
from corpus_tools.jsonschemas import task_schema
from corpus_tools.model import Finding
from corpus_tools.validate.slugs import Where, pointer


class StructureChecker:
    """Both validators for one scheme, built once per run."""

    def __init__(self, config: CorpusConfig) -> None:
        schema = task_schema(config)
        self.schema = schema
        self._fast = jsonschema_rs.validator_for(schema)
        self._reference = jsonschema.Draft202012Validator(schema)
        defs = schema["$defs"]
        self._annotation = jsonschema_rs.validator_for(
            {"$defs": defs, "$ref": "#/$defs/annotation"}
        )
        self._data = jsonschema_rs.validator_for({"$defs": defs, "$ref": "#/$defs/data"})

    def is_valid(self, task: Any) -> bool:
        return bool(self._fast.is_valid(task))

    def annotation_ok(self, annotation: Any) -> bool:
        """Whether one annotation is well-formed (its semantic checks can run)."""
        return bool(self._annotation.is_valid(annotation))

    def data_ok(self, data: Any) -> bool:
        return bool(self._data.is_valid(data))

    def findings(self, task: Any, where: Where) -> list[Finding]:
        """The reference validator's errors on an invalid task, as findings."""
        errors = sorted(
            self._reference.iter_errors(task),
            key=lambda e: [str(p) for p in e.absolute_path],
        )
        return [_to_finding(err, task, where) for err in errors]


def _to_finding(err: jsonschema.ValidationError, task: Any, where: Where) -> Finding:
    path = list(err.absolute_path)
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
