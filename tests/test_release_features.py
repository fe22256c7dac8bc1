"""The card's YAML `features` list comes from public `datasets` pieces (`Features.to_dict()`),
not the private `DatasetInfo._to_yaml_dict()`; here the private call is the independent check,
for every config's features and for feature shapes the configs do not use (yet)."""

from __future__ import annotations

from pathlib import Path

import pytest
from datasets import ClassLabel, DatasetInfo, Features, LargeList, List, Value

from corpus_tools.config import load_config
from corpus_tools.release.features import CONFIGS, features_for, label_lists, yaml_features

REPO = Path(__file__).resolve().parent.parent


def private_yaml(features: Features) -> object:
    return DatasetInfo(features=features)._to_yaml_dict()["features"]


@pytest.mark.parametrize("config", CONFIGS)
def test_every_config_matches_the_private_conversion(config: str) -> None:
    labels = label_lists(load_config(REPO / "corpus.toml").scheme)
    features = features_for(config, labels)  # type: ignore[arg-type]
    got = yaml_features(features)
    assert got == private_yaml(features)
    assert [f["name"] for f in got] == list(features)


OTHER_SHAPES = {
    "fixed length list": Features({"x": List(Value("float32"), length=3)}),
    "list of lists": Features({"x": List(List(Value("int64")))}),
    "large list of structs": Features({"x": LargeList({"a": Value("string"), "b": Value("bool")})}),
    "list of class labels": Features({"x": List(ClassLabel(names=["no", "yes"]))}),
    "nested struct": Features({"x": {"y": {"z": Value("int8")}, "w": ClassLabel(names=["a"])}}),
    "struct in a list in a struct": Features({"x": {"y": List({"z": Value("string")})}}),
}


@pytest.mark.parametrize("name", OTHER_SHAPES)
def test_other_feature_shapes_match_the_private_conversion(name: str) -> None:
    features = OTHER_SHAPES[name]
    assert yaml_features(features) == private_yaml(features)


def test_the_release_modules_use_no_private_datasets_api() -> None:
    for path in sorted((REPO / "corpus_tools" / "release").glob("*.py")):
        assert "_to_yaml" not in path.read_text(encoding="utf-8"), path.name
