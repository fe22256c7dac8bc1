"""JSON Schemas (draft 2020-12) generated from the scheme, committed under `schemas/`.

Two files:

- `ls-task.schema.json`: one Label Studio task as we accept it (a UI JSON export, a JSONL line,
  or one file of the folder `corpus ls pull` writes). Label and choice enums come from
  corpus.toml, control names and data keys from its `[scheme.names]`.
  Results are told apart with `if`/`then` on `type` and `from_name` rather than
  `oneOf`, so validators name the failing field instead of "not valid under any of the given
  schemas" (see the performance notes).
- `annotation-record.schema.json`: our canonical per-annotator record (`model.Annotation`).

Structure only: what needs the text or the other regions (offsets, relations, overlaps,
stale tasks) is checked by `corpus_tools.validate`. So is what JSON Schema cannot say: an
offset written `12.0` is an "integer" to JSON Schema, but not an offset.

A labels region must carry `value.text` (Label Studio always writes it; without it shifted
offsets go unnoticed). A region's `id` is optional, as in Label Studio (results created
through the API may lack it); validation says what a missing id costs.
"""

from __future__ import annotations

import json
from typing import Any

from corpus_tools.config import CorpusConfig

DRAFT = "https://json-schema.org/draft/2020-12/schema"
TASK_SCHEMA_FILE = "ls-task.schema.json"
RECORD_SCHEMA_FILE = "annotation-record.schema.json"

JsonSchema = dict[str, Any]

_INT = {"type": "integer"}
_OFFSET = {"type": "integer", "minimum": 0}
_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def _chain(prop: str, cases: list[tuple[list[str], JsonSchema]]) -> JsonSchema:
    """`if prop in values1 then schema1 else if ...`: an if/then/else chain (no final else)."""
    values, then = cases[0]
    cond: JsonSchema = {"const": values[0]} if len(values) == 1 else {"enum": values}
    out: JsonSchema = {"if": {"properties": {prop: cond}, "required": [prop]}, "then": then}
    if len(cases) > 1:
        out["else"] = _chain(prop, cases[1:])
    return out


def _single_value_region(
    key: str, required: list[str], item: JsonSchema, span_value: JsonSchema
) -> JsonSchema:
    """A region whose `value[key]` is a one-element array of `item`."""
    return {
        "properties": {
            "value": {
                "type": "object",
                "required": required,
                "properties": {
                    **span_value,
                    key: {"type": "array", "minItems": 1, "maxItems": 1, "items": item},
                },
            }
        },
    }


def task_schema(config: CorpusConfig) -> JsonSchema:
    """The schema of one Label Studio task carrying our labeling config's results, in the
    corpus's control names (`[scheme.names]`).

    When the claim label sits in the entity control, that control's labels are the entity
    labels and the claim label. Only the text is required in `data`: `article_id` and
    `text_sha256` are checked when present (a task made elsewhere has neither; validation
    warns that its text cannot be tied to an ingested article).
    """
    scheme = config.scheme
    names = scheme.names
    stance_controls = list(scheme.stance_controls)
    span_value = {
        "start": _OFFSET,
        "end": _OFFSET,
        "text": _STR,
    }
    labels_entity = _single_value_region(
        "labels",
        ["start", "end", "text", "labels"],
        {"enum": list(scheme.entity_labels)},
        span_value,
    )
    labels_claim = _single_value_region(
        "labels", ["start", "end", "text", "labels"], {"const": names.claim_label}, span_value
    )
    labels_shared = _single_value_region(
        "labels",
        ["start", "end", "text", "labels"],
        {"enum": [*scheme.entity_labels, names.claim_label]},
        span_value,
    )
    checkworthy = _single_value_region(
        "choices", ["choices"], {"enum": list(scheme.checkworthy)}, span_value
    )
    stance = {
        "properties": {
            "value": {
                "type": "object",
                "required": ["choices"],
                "properties": {
                    "choices": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"enum": list(scheme.stance_labels)},
                    }
                },
            }
        }
    }

    def region(controls: list[str], cases: list[tuple[list[str], JsonSchema]]) -> JsonSchema:
        return {
            "required": ["from_name", "to_name", "value"],
            "properties": {
                "id": _STR,
                "from_name": {"enum": controls},
                "to_name": {"const": names.text},
                "value": {"type": "object"},
            },
            **_chain("from_name", cases),
        }

    textarea = {
        "required": ["from_name", "to_name", "value"],
        "properties": {
            "id": _STR,
            "from_name": {"const": names.claimant_text},
            "to_name": {"const": names.text},
            "value": {
                "type": "object",
                "required": ["text"],
                "properties": {
                    "start": _OFFSET,
                    "end": _OFFSET,
                    "text": {"type": "array", "items": _STR},
                },
            },
        },
    }
    relation = {
        "required": ["from_id", "to_id"],
        "properties": {
            "from_id": _STR,
            "to_id": _STR,
            "direction": {"enum": ["right", "left", "bi"]},
            "labels": {"type": "array", "items": {"const": scheme.claimant_relation}},
        },
    }
    if names.claims_in_entities:
        labels_region = region([names.entities], [([names.entities], labels_shared)])
    else:
        labels_region = region(
            [names.entities, names.claims],
            [([names.entities], labels_entity), ([names.claims], labels_claim)],
        )
    # An if/then/else chain on `type` (then on `from_name`): each result meets one `if` or
    # two, and errors name the field of the branch it took.
    result_item: JsonSchema = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": ["labels", "choices", "textarea", "relation"]}},
        **_chain(
            "type",
            [
                (["labels"], labels_region),
                (
                    ["choices"],
                    region(
                        [*stance_controls, names.checkworthy],
                        [(stance_controls, stance), ([names.checkworthy], checkworthy)],
                    ),
                ),
                (["textarea"], textarea),
                (["relation"], relation),
            ],
        ),
    }
    # completed_by: an int (UI sync export), an object (snapshot export: it carries emails,
    # which validation reports as personal data), or a pseudonym (pulled files).
    annotation = {
        "type": "object",
        "required": ["result"],
        "properties": {
            "id": {"type": ["integer", "string"]},
            "completed_by": {"type": ["integer", "string", "object", "null"]},
            "result": {"type": "array", "items": {"$ref": "#/$defs/result"}},
            "was_cancelled": {"type": "boolean"},
            "ground_truth": {"type": "boolean"},
            "lead_time": {"type": ["number", "null"]},
            "created_at": _NULLABLE_STR,
            "updated_at": _NULLABLE_STR,
            "task": {"type": ["integer", "null"]},
            "project": {"type": ["integer", "null"]},
        },
    }
    data_props: JsonSchema = {
        names.article_id_field: {"type": "string", "minLength": 1},
        "text_sha256": _SHA256,
        names.text_field: _STR,
        "title": _NULLABLE_STR,
        "outlet": _NULLABLE_STR,
        "published": _NULLABLE_STR,
        "url": _NULLABLE_STR,
    }
    if names.stance:
        data_props[names.stance_target_field] = _STR
    return {
        "$schema": DRAFT,
        "$id": f"urn:corpus-tools:{config.name}:{TASK_SCHEMA_FILE}",
        "title": f"{config.pretty_name}: one Label Studio task",
        "description": "Generated by `corpus schemas` from corpus.toml; do not edit.",
        "type": "object",
        "required": ["data"],
        "properties": {
            "id": {"type": ["integer", "string"]},
            "data": {"$ref": "#/$defs/data"},
            "annotations": {"type": "array", "items": {"$ref": "#/$defs/annotation"}},
            "drafts": {"type": "array"},
            "predictions": {
                "type": "array",
                "items": {"type": ["integer", "object"]},
            },
        },
        "$defs": {
            "data": {
                "type": "object",
                "required": [names.text_field],
                "properties": data_props,
            },
            "annotation": annotation,
            "result": result_item,
        },
    }


def record_schema(config: CorpusConfig) -> JsonSchema:
    """The schema of our canonical annotation record (`model.Annotation` as JSON)."""
    scheme = config.scheme

    def obj(props: JsonSchema, required: list[str]) -> JsonSchema:
        return {
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        }

    span = {"start": _OFFSET, "end": _OFFSET, "text": _STR}
    return {
        "$schema": DRAFT,
        "$id": f"urn:corpus-tools:{config.name}:{RECORD_SCHEMA_FILE}",
        "title": f"{config.pretty_name}: one annotator's labels on one article",
        "description": "Generated by `corpus schemas` from corpus.toml; do not edit.",
        **obj(
            {
                "article_id": {"type": "string", "minLength": 1},
                "annotator": {"type": "string", "minLength": 1},
                "source": obj(
                    {
                        "task_id": {"type": ["integer", "null"]},
                        "annotation_id": {"type": ["integer", "null"]},
                        "updated_at": _NULLABLE_STR,
                        "file": _NULLABLE_STR,
                    },
                    ["task_id", "annotation_id", "updated_at"],
                ),
                "entities": {
                    "type": "array",
                    "items": obj(
                        {
                            **span,
                            "label": {"enum": list(scheme.entity_labels)},
                            "region_id": _NULLABLE_STR,
                        },
                        ["start", "end", "label", "text"],
                    ),
                },
                "stances": {
                    "type": "array",
                    "items": obj(
                        {
                            "target": {"enum": [t.id for t in scheme.stance_targets]},
                            "label": {"enum": list(scheme.stance_labels)},
                        },
                        ["target", "label"],
                    ),
                },
                "claims": {
                    "type": "array",
                    "items": obj(
                        {
                            **span,
                            "checkworthy": {"enum": [*scheme.checkworthy, None]},
                            "claimant": _NULLABLE_STR,
                            "claimant_region_id": _NULLABLE_STR,
                            "region_id": _NULLABLE_STR,
                        },
                        ["start", "end", "text", "checkworthy", "claimant"],
                    ),
                },
                "lead_time": {"type": ["number", "null"]},
                "was_cancelled": {"type": "boolean"},
                "ground_truth": {"type": "boolean"},
                "text_sha256": {"anyOf": [_SHA256, {"type": "null"}]},
            },
            ["article_id", "annotator", "source", "entities", "stances", "claims"],
        ),
    }


def dumps(schema: JsonSchema) -> str:
    """Deterministic text of a schema file (2-space indent, trailing newline)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def render_all(config: CorpusConfig) -> dict[str, str]:
    """File name -> JSON Schema text, for every JSON Schema under `schemas/`."""
    return {
        RECORD_SCHEMA_FILE: dumps(record_schema(config)),
        TASK_SCHEMA_FILE: dumps(task_schema(config)),
    }
