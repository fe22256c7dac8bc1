"""corpus.toml validation: unknown keys refused, bad values named by path, exit 2 via the CLI."""

from __future__ import annotations

import copy
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun

from corpus_tools.config import (
    DEFAULT_BOILERPLATE,
    CorpusConfig,
    load_config,
    validate_config_dict,
)
from corpus_tools.errors import ConfigError


@pytest.fixture
def raw(repo_root: Path) -> dict[str, Any]:
    return tomllib.loads((repo_root / "corpus.toml").read_text(encoding="utf-8"))


def _problems(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config_dict(data, "corpus.toml")
    return info.value.message


def test_repository_config_is_valid(repo_root: Path) -> None:
    cfg = load_config(repo_root / "corpus.toml")
    assert isinstance(cfg, CorpusConfig)
    assert cfg.scheme.entity_labels == (
        "PER",
        "ORG",
        "GPE",
        "LOC",
        "NORP",
        "DATE",
        "EVENT",
        "WEAPON",
    )
    assert [t.id for t in cfg.scheme.stance_targets] == ["united_states", "iran", "russia"]
    assert cfg.paths.articles == (repo_root / "articles").resolve()
    assert cfg.paths.articles_parquet == (repo_root / "build" / "articles.parquet").resolve()
    assert cfg.ingest.near_duplicates.threshold == 0.14


def _set(data: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["scheme", "entities", 3, "label"], " LOC", "[scheme -> entities -> 3 -> label]"),
        (["scheme", "entities", 3, "label"], 7, "[scheme -> entities -> 3 -> label] 7 is not"),
        (["scheme", "entities", 0, "color"], "", "[scheme -> entities -> 0 -> color]"),
        (["scheme", "entities", 2, "hotkey"], "ctrl e", "[scheme -> entities -> 2 -> hotkey]"),
        (["corpus", "name"], "Geo News", "[corpus -> name]"),
        (["splits", "train"], 1.5, "[splits -> train] 1.5 is greater than the maximum of 1"),
        (["ingest", "min_chars"], 0, "[ingest -> min_chars] 0 is less than the minimum of 1"),
        (["ingest", "near_duplicates", "threshold"], -0.1, "[ingest -> near_duplicates -> "),
        (["ingest", "near_duplicates", "method"], "simhash", "'simhash' is not one of"),
        (["ingest", "boilerplate"], "subscribe", "[ingest -> boilerplate] 'subscribe' is not"),
        (["ingest", "drop_repeated_headline"], "yes", "[ingest -> drop_repeated_headline]"),
        (["publish", "target"], "s3", "[publish -> target] 's3' is not one of"),
        (["scheme", "stance", "labels"], ["favor"], "[scheme -> stance -> labels]"),
    ],
)
def test_bad_values_are_named_by_path(
    raw: dict[str, Any], path: list[str | int], value: Any, expected: str
) -> None:
    assert expected in _problems(_set(raw, path, value))


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ([], "extra_section"),
        (["corpus"], "nmae"),
        (["ingest"], "boilerplates"),
        (["ingest", "near_duplicates"], "bands"),
        (["scheme", "entities", 3], "colour"),
        (["scheme", "stance", "targets", 1], "label"),
    ],
)
def test_unknown_keys_are_refused(raw: dict[str, Any], path: list[str | int], key: str) -> None:
    data = copy.deepcopy(raw)
    node: Any = data
    for p in path:
        node = node[p]
    node[key] = "x"
    where = "[" + " -> ".join(str(p) for p in [*path, key]) + "]"
    assert f"{where} unknown key {key!r}" in _problems(data)


def test_every_problem_is_reported_not_only_the_first(raw: dict[str, Any]) -> None:
    data = _set(raw, ["scheme", "entities", 3, "label"], "loc ")
    data["corpus"]["nmae"] = "x"
    data["splits"]["test"] = 2
    message = _problems(data)
    assert "[scheme -> entities -> 3 -> label]" in message
    assert "[corpus -> nmae] unknown key" in message
    assert "[splits -> test]" in message


def test_missing_required_section(raw: dict[str, Any]) -> None:
    del raw["scheme"]
    assert "'scheme' is a required property" in _problems(raw)


def test_semantic_problems_are_named_by_path(raw: dict[str, Any]) -> None:
    data = _set(raw, ["scheme", "entities", 4, "label"], "PER")
    assert "[scheme -> entities -> 4 -> label] duplicate label 'PER'" in _problems(data)
    data = _set(raw, ["splits", "train"], 0.5)
    assert "[splits] train + validation + test = 0.8, not 1" in _problems(data)


def test_ingest_defaults_apply_when_the_section_is_absent(tmp_path: Path, repo_root: Path) -> None:
    text = (repo_root / "corpus.toml").read_text(encoding="utf-8")
    start = text.index("[ingest]")
    end = text.index("[preannotate]")
    (tmp_path / "corpus.toml").write_text(text[:start] + text[end:], encoding="utf-8")
    cfg = load_config(tmp_path / "corpus.toml")
    assert cfg.ingest.boilerplate == DEFAULT_BOILERPLATE
    assert cfg.ingest.min_chars == 200
    assert cfg.ingest.strip_prefixes


def test_invalid_toml_and_bad_bytes_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "corpus.toml"
    bad.write_text("[corpus\nname = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(bad)
    bad.write_bytes(b'[corpus]\nname = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(bad)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('label = "LOC"', 'label = " loc"', "[scheme -> entities -> 3 -> label]"),
        ("min_chars = 200", "min_chars = 200\nmin_words = 3", "[ingest -> min_words] unknown key"),
        ("threshold = 0.14", "threshold = 1.4", "[ingest -> near_duplicates -> threshold]"),
    ],
)
def test_cli_exits_2_with_the_path(
    cli: CliRun, sample_corpus: Path, old: str, new: str, expected: str
) -> None:
    cfg = sample_corpus / "corpus.toml"
    text = cfg.read_text(encoding="utf-8")
    assert old in text
    cfg.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = cli("ingest", cwd=sample_corpus)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (sample_corpus / "build" / "articles.parquet").exists()


def test_bad_boilerplate_regex_is_a_config_error_by_path(cli: CliRun, sample_corpus: Path) -> None:
    cfg = sample_corpus / "corpus.toml"
    text = cfg.read_text(encoding="utf-8")
    cfg.write_text(
        text.replace("min_chars = 200", "min_chars = 200\nboilerplate = ['^ok$', '(unclosed']"),
        encoding="utf-8",
    )
    result = cli("ingest", cwd=sample_corpus)
    assert result.exit_code == 2
    assert "[ingest -> boilerplate -> 1] is not a valid regular expression" in result.stderr


# --- errors that used to surface late (issue 10 point 14) -----------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How does the article present {topic}?", "unknown placeholder {topic}"),
        ("How does it present {0}?", "unknown placeholder {0}"),
        ("How does it present {target?", "not a valid template"),
        ("How does it present {target!z}?", "unknown placeholder {target!z}"),
        ("How does it present {target:>10}?", "unknown placeholder {target:>10}"),
        ("How does it present {target} } ?", "not a valid template"),
        ("How does it present {target.name}?", "unknown placeholder {target.name}"),
    ],
)
def test_stance_question_placeholders_are_checked_at_load(
    raw: dict[str, Any], question: str, expected: str
) -> None:
    message = _problems(_set(raw, ["scheme", "stance", "question"], question))
    assert "[scheme -> stance -> question]" in message
    assert expected in message


@pytest.mark.parametrize(
    "question",
    [
        "Taken as a whole, how does the article present {target}?",
        "Stance on {target} ({{literal braces}})?",
        "Stance?",
    ],
)
def test_valid_stance_questions_load(raw: dict[str, Any], question: str) -> None:
    validate_config_dict(_set(raw, ["scheme", "stance", "question"], question))


@pytest.mark.parametrize(
    ("path", "values", "expected"),
    [
        (
            ["scheme", "claims", "checkworthy"],
            ["check-worthy", "not check-worthy", "check-worthy"],
            "[scheme -> claims -> checkworthy -> 2] duplicate value 'check-worthy' "
            "(first at index 0)",
        ),
        (
            ["scheme", "stance", "labels"],
            ["favor", "against", "favor", "neutral"],
            "[scheme -> stance -> labels -> 2] duplicate value 'favor' (first at index 0)",
        ),
    ],
)
def test_duplicate_choice_values_are_named_at_load(
    raw: dict[str, Any], path: list[str | int], values: list[str], expected: str
) -> None:
    assert expected in _problems(_set(raw, path, values))


def test_cli_refuses_bad_question_and_duplicate_choices_before_any_work(
    cli: CliRun, sample_corpus: Path
) -> None:
    cfg = sample_corpus / "corpus.toml"
    text = cfg.read_text(encoding="utf-8")
    bad = text.replace("present {target}?", "present {topic}?", 1).replace(
        'checkworthy = ["check-worthy", "not check-worthy"]',
        'checkworthy = ["check-worthy", "not check-worthy", "check-worthy"]',
        1,
    )
    assert bad.count("{topic}") == 1
    assert bad.count('"check-worthy", "not check-worthy", "check-worthy"]') == 1
    cfg.write_text(bad, encoding="utf-8")
    for command in (["schemas"], ["release", "0.1.0"], ["check"]):
        result = cli(*command, cwd=sample_corpus)
        assert result.exit_code == 2, (command, result.stdout, result.stderr)
        assert "[scheme -> stance -> question]" in result.stderr
        assert "[scheme -> claims -> checkworthy -> 2]" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout


FAILING_PLUGINS = """
def broken(config):
    raise RuntimeError("model file weights.bin is missing")
"""


@pytest.mark.parametrize(
    ("module", "source", "spec", "expected"),
    [
        ("failing_factory_ct", FAILING_PLUGINS, "failing_factory_ct:broken", "weights.bin"),
        ("failing_import_ct", "1 / 0\n", "failing_import_ct:factory", "ZeroDivisionError"),
    ],
)
def test_a_plugin_that_fails_is_a_config_error_naming_it(
    tmp_path: Path,
    cli: CliRun,
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    source: str,
    spec: str,
    expected: str,
) -> None:
    from test_labelstudio import EMOJI_TEXT, make_corpus

    (tmp_path / f"{module}.py").write_text(source, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    corpus = make_corpus(tmp_path / "c", {"a-emoji": EMOJI_TEXT})
    toml = corpus / "corpus.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace(
            'model_version = "gazetteer-v1"',
            f'model_version = "gazetteer-v1"\nplugins = ["{spec}"]',
        ),
        encoding="utf-8",
    )
    result = cli("tasks", cwd=corpus)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert f"plug-in {spec!r}" in result.stderr
    assert "[preannotate -> plugins -> 0]" in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (corpus / "build" / "tasks.json").exists()
