"""JSON Schemas generated from the scheme: valid draft 2020-12, committed, drift detected."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import pytest
from test_validate_support import clone, task_a

from corpus_tools import jsonschemas, schemas
from corpus_tools.config import CorpusConfig, load_config
from corpus_tools.exports import parse_task


@pytest.fixture
def cfg(repo_root: Path) -> CorpusConfig:
    return load_config(repo_root / "corpus.toml")


def test_render_all_is_valid_draft_2020_12(cfg: CorpusConfig) -> None:
    files = jsonschemas.render_all(cfg)
    assert sorted(files) == ["annotation-record.schema.json", "ls-task.schema.json"]
    for text in files.values():
        schema = json.loads(text)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
        assert text.endswith("\n")
    assert jsonschemas.render_all(cfg) == files  # deterministic


def test_committed_schemas_match_the_scheme(cfg: CorpusConfig, repo_root: Path) -> None:
    """Golden files: regenerate with `corpus schemas` when the scheme changes."""
    for name, text in jsonschemas.render_all(cfg).items():
        assert (repo_root / "schemas" / name).read_text(encoding="utf-8") == text, name


def test_enums_come_from_corpus_toml(cfg: CorpusConfig) -> None:
    schema = jsonschemas.task_schema(cfg)
    text = json.dumps(schema)
    for label in cfg.scheme.entity_labels:
        assert f'"{label}"' in text
    for value in (*cfg.scheme.checkworthy, *cfg.scheme.stance_labels):
        assert f'"{value}"' in text
    for target in cfg.scheme.stance_targets:
        assert f'"stance_{target.id}"' in text
    assert "oneOf" not in text  # if/then discriminators: messages name the failing field


def test_adding_a_label_is_drift_until_regenerated(sample_corpus: Path, cli: Any) -> None:
    assert cli("schemas", cwd=sample_corpus).exit_code == 0
    assert cli("schemas", "--check", cwd=sample_corpus).exit_code == 0
    toml = sample_corpus / "corpus.toml"
    text = toml.read_text()
    assert "[scheme.stance]" in text
    toml.write_text(
        text.replace(
            "[scheme.stance]",
            '[[scheme.entities]]\nlabel = "PRODUCT"\nname = "Product"\n'
            'definition = "A named product."\n\n[scheme.stance]',
            1,
        )
    )
    res = cli("schemas", "--check", cwd=sample_corpus)
    assert res.exit_code == 1
    assert "ls-task.schema.json" in res.stdout
    assert cli("schemas", cwd=sample_corpus).exit_code == 0
    assert cli("schemas", "--check", cwd=sample_corpus).exit_code == 0
    task_schema = json.loads((sample_corpus / "schemas" / "ls-task.schema.json").read_text())
    assert "PRODUCT" in json.dumps(task_schema)
    assert schemas.check(load_config(toml)) == []


def _errors(schema: dict[str, Any], instance: Any) -> list[jsonschema.ValidationError]:
    return list(jsonschema.Draft202012Validator(schema).iter_errors(instance))


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["annotations", 0, "result", 0, "value", "start"], -1, "-1 is less than the minimum of 0"),
        (["annotations", 0, "result", 0, "value", "labels", 0], "FOO", "'FOO' is not one of"),
        (["annotations", 0, "result", 6, "value", "choices", 0], "meh", "'meh' is not one of"),
        (["annotations", 0, "result", 8, "labels", 0], "author", "'claimant' was expected"),
        (["annotations", 0, "result", 0, "from_name"], "ner", "'ner' is not one of"),
        (["data", "text_sha256"], "abc", "does not match"),
        (["annotations", 0, "was_cancelled"], "no", "is not of type 'boolean'"),
    ],
)
def test_messages_name_the_field(
    cfg: CorpusConfig, path: list[Any], value: Any, message: str
) -> None:
    schema = jsonschemas.task_schema(cfg)
    task = task_a(cfg)
    assert _errors(schema, task) == []
    node: Any = task
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    errors = _errors(schema, task)
    assert [list(e.absolute_path) for e in errors] == [path]
    assert message in errors[0].message
    assert not jsonschema_rs.validator_for(schema).is_valid(task)


def test_record_schema_accepts_parsed_annotations(cfg: CorpusConfig) -> None:
    schema = jsonschemas.record_schema(cfg)
    records = parse_task(task_a(cfg), cfg.scheme, file="a.json")
    assert len(records) == 2
    for rec in records:
        doc = json.loads(json.dumps(dataclasses.asdict(rec)))
        assert _errors(schema, doc) == []
        bad = clone(doc)
        bad["entities"][0]["label"] = "NOPE"
        assert [list(e.absolute_path) for e in _errors(schema, bad)] == [["entities", 0, "label"]]
    claim = records[0].claims[0]
    assert claim.claimant == "Jens Stoltenberg" and claim.checkworthy == "check-worthy"
