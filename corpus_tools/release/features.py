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
    """The `features` list of a `dataset_info` entry, as `datasets` writes it."""
    from datasets import DatasetInfo

    out: list[dict[str, Any]] = DatasetInfo(features=features)._to_yaml_dict()["features"]
    return out
