"""The `datasets.Features` of every config, generated from the scheme.

Class ids are positions in the scheme's label lists, so they are append-only: a release is
refused when a label list is not an extension of the previous release's (a rename is allowed
only when `[[scheme.migrations]]` records it). The same Features go into the card's
`dataset_info` and into each Parquet file's `huggingface` schema metadata.

`datasets` is imported lazily (about 0.6 s).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from corpus_tools.config import Scheme
from corpus_tools.errors import ConfigError
from corpus_tools.release.tokens import bio_names

if TYPE_CHECKING:
    import pyarrow as pa
    from datasets import Features

ConfigName = Literal["entities", "stance", "claims", "articles", "annotations"]
CONFIGS: tuple[ConfigName, ...] = ("entities", "stance", "claims", "articles", "annotations")
SPLITS: tuple[str, ...] = ("train", "validation", "test")

# Which scheme layer each ClassLabel list comes from (the keys of manifest["labels"]).
LabelLists = dict[str, list[str]]


def label_lists(scheme: Scheme) -> LabelLists:
    """Every ClassLabel's names, in class-id order."""
    return {
        "entities": list(scheme.entity_labels),
        "ner_tags": bio_names(scheme.entity_labels),
        "stance": list(scheme.stance_labels),
        "checkworthy": list(scheme.checkworthy),
    }


_MIGRATION_LAYER = {"entities": "entities", "ner_tags": "entities", "stance": "stance"}


def check_append_only(
    previous: Mapping[str, Sequence[str]], current: LabelLists, scheme: Scheme, *, since: str
) -> None:
    """Raise ConfigError if a class id of release `since` would change meaning."""
    renames: dict[tuple[str, str], str] = {}
    for m in scheme.migrations:
        if m.get("action") == "rename" and m.get("to"):
            renames[(m["layer"], m["label"])] = m["to"]
    problems: list[str] = []
    for key, old in previous.items():
        new = current.get(key, [])
        layer = _MIGRATION_LAYER.get(key, key)
        for i, name in enumerate(old):
            if i >= len(new):
                problems.append(f"{key}: id {i} ({name!r}) was removed")
                continue
            if new[i] == name:
                continue
            bare = name.split("-", 1)[1] if key == "ner_tags" and "-" in name else name
            to = renames.get((layer, bare))
            expected = name.replace(bare, to) if to else None
            if new[i] != expected:
                problems.append(f"{key}: id {i} was {name!r} in {since}, now {new[i]!r}")
    if problems:
        raise ConfigError(
            f"label ids would change meaning since release {since}:\n  " + "\n  ".join(problems),
            hint="Append new labels at the end of their list in corpus.toml; record a rename in "
            "[[scheme.migrations]] (action = 'rename'); never reorder or delete a label.",
            path="corpus.toml",
        )


def features_for(config: ConfigName, labels: LabelLists) -> Features:
    """The datasets.Features of one config."""
    from datasets import ClassLabel, Features, List, Value

    entity = ClassLabel(names=labels["entities"])
    stance = ClassLabel(names=labels["stance"])
    checkworthy = ClassLabel(names=labels["checkworthy"])
    span = {
        "start": Value("int32"),
        "end": Value("int32"),
        "label": entity,
        "text": Value("string"),
    }
    if config == "entities":
        return Features(
            {
                "article_id": Value("string"),
                "text": Value("string"),
                "entities": List({**span, "provenance": Value("string")}),
                "tokens": List(Value("string")),
                "ner_tags": List(ClassLabel(names=labels["ner_tags"])),
                # false on a token inside an open dispute: its tag is unknown, not `O`
                "ner_mask": List(Value("bool")),
                "disputed_regions": List({"start": Value("int32"), "end": Value("int32")}),
            }
        )
    if config == "stance":
        return Features(
            {
                "article_id": Value("string"),
                "target": Value("string"),
                "target_name": Value("string"),
                "text": Value("string"),
                "label": stance,
                "provenance": Value("string"),
            }
        )
    if config == "claims":
        return Features(
            {
                "claim_id": Value("string"),
                "article_id": Value("string"),
                "text": Value("string"),
                "span": {"start": Value("int32"), "end": Value("int32")},
                "checkworthy": checkworthy,
                "claimant": Value("string"),
                "provenance": Value("string"),
                # false when claims of this article are still in dispute (not "no claim")
                "claims_complete": Value("bool"),
                "open_claim_disputes": Value("int32"),
            }
        )
    if config == "articles":
        return Features(
            {
                "article_id": Value("string"),
                "title": Value("string"),
                "url": Value("string"),
                "outlet": Value("string"),
                "source": Value("string"),
                "published": Value("string"),
                "language": Value("string"),
                "text": Value("string"),
                "text_sha256": Value("string"),
                "sentences": List({"start": Value("int32"), "end": Value("int32")}),
                "story_id": Value("string"),
                "split": Value("string"),
                "has_gold": Value("bool"),
                "claims_complete": Value("bool"),
                "open_entity_disputes": Value("int32"),
                "open_stance_disputes": Value("int32"),
                "open_claim_disputes": Value("int32"),
            }
        )
    return Features(
        {
            "article_id": Value("string"),
            "annotator": Value("string"),
            "task_id": Value("int64"),
            "annotation_id": Value("int64"),
            "entities": List(span),
            "stances": List({"target": Value("string"), "label": stance}),
            "claims": List(
                {
                    "start": Value("int32"),
                    "end": Value("int32"),
                    "text": Value("string"),
                    "checkworthy": checkworthy,
                    "claimant": Value("string"),
                }
            ),
            "lead_time": Value("float64"),
            "ground_truth": Value("bool"),
        }
    )


def arrow_schema(features: Features) -> pa.Schema:
    """The Arrow schema with the `huggingface` metadata `datasets` reads back."""
    schema: pa.Schema = features.arrow_schema
    return schema


def yaml_features(features: Features) -> list[dict[str, Any]]:
    """The `features` list of a `dataset_info` entry, as `datasets` writes it in a card.

    Built from the public `Features.to_dict()` (the JSON form), with the simplifications the
    card's YAML uses: a struct is a list of `{name, ...}`, a list of one dtype or of a struct
    is written inline, a ClassLabel's names are keyed by their id as a string, and a type
    without arguments is its snake_case name.
    """
    out: list[dict[str, Any]] = _plain(_yaml_type(features.to_dict())["struct"])
    return out


_LIST_TYPES = ("large_list", "list", "sequence")


def _simplify(feature: dict[str, Any]) -> dict[str, Any]:
    for kind in _LIST_TYPES:
        if isinstance(feature.get(kind), dict) and list(feature[kind]) == ["dtype"]:
            feature[kind] = feature[kind]["dtype"]
        if isinstance(feature.get(kind), dict) and list(feature[kind]) == ["struct"]:
            feature[kind] = feature[kind]["struct"]
    label = feature.get("class_label")
    if isinstance(label, dict) and isinstance(label.get("names"), list):
        label["names"] = {str(i): name for i, name in enumerate(label["names"])}
    return feature


def _plain(obj: Any) -> Any:
    """Tuples as lists, all the way down (YAML writes no tuples)."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def _yaml_type(obj: Any) -> dict[str, Any]:
    """A feature of `Features.to_dict()` (or the whole dict, a struct) in the card's form."""
    from datasets.naming import camelcase_to_snakecase as _snake

    if isinstance(obj, dict):
        obj = dict(obj)
        kind = obj.pop("_type", None)
        if kind in ("List", "LargeList"):
            inner = _yaml_type(obj.pop("feature"))
            key = "list" if kind == "List" else "large_list"
            return _simplify({key: inner, **obj})
        if kind == "Value":
            return obj
        if kind and not obj:
            return {"dtype": _snake(kind)}
        if kind:
            return {"dtype": _simplify({_snake(kind): obj})}
        return {"struct": [{"name": name, **_yaml_type(sub)} for name, sub in obj.items()]}
    if isinstance(obj, list | tuple):
        return _simplify({"list": _simplify(_yaml_type(obj[0]))})
    raise TypeError(f"not a feature of Features.to_dict(): {obj!r}")
