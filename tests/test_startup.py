"""Start-up: `corpus --help`, every command's `--help` and `corpus validate` on one task import
only what they use (the heavy stacks load inside the commands that need them).

Each case runs the real console entry point in a fresh interpreter and lists the modules it
imported. How fast that is, is shown by scripts/bench_startup.py, not asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import copy_gold

from corpus_tools.cli import _reference
from corpus_tools.validate import articles

# Libraries no help text needs; the start-up of every command used to pay for them.
HEAVY = {
    "pyarrow",
    "numpy",
    "httpx",
    "jsonschema",
    "sentencex",
    "trafilatura",
    "datasketch",
    "sklearn",
    "scipy",
    "pandas",
    "datasets",
    "huggingface_hub",
    "matplotlib",
    "spacy",
    "lxml",
}
# Validating a valid task needs jsonschema_rs (the fast structural check), nothing above;
# help prints through typer's own formatter, so not even rich (the commands' output) loads.
HELP_FORBIDDEN = HEAVY | {"jsonschema_rs", "rich"}

# Runs `corpus ARGS` as the console script does, then writes the imported modules as JSON to
# the file named by the environment (stdout and stderr stay the command's own).
_PROBE = """
import json, os, sys
from corpus_tools.cli import main
sys.argv = ["corpus", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
with open(os.environ["CORPUS_PROBE_OUT"], "w", encoding="utf-8") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""


def imported(args: list[str], cwd: Path, tmp_path: Path) -> tuple[int, set[str], str]:
    """(exit code, top-level packages imported, output) of `corpus ARGS` in a new process."""
    probe = tmp_path / f"probe-{len(list(tmp_path.glob('probe-*')))}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CORPUS_", "PYTHON"))}
    env["CORPUS_PROBE_OUT"] = str(probe)
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.is_file(), proc.stderr
    data = json.loads(probe.read_text(encoding="utf-8"))
    return data["code"], {m.split(".")[0] for m in data["modules"]}, proc.stdout + proc.stderr


COMMANDS = [name.split()[1:] for name, _ in _reference.iter_commands()]
GROUPS = sorted({tuple(words[:-1]) for words in COMMANDS if len(words) > 1})


def test_the_commands_are_all_probed() -> None:
    assert ["validate"] in COMMANDS and ["ls", "push"] in COMMANDS and len(COMMANDS) >= 15


@pytest.mark.parametrize(
    "words", [[], *map(list, GROUPS), *COMMANDS], ids=lambda w: " ".join(["corpus", *w])
)
def test_help_imports_no_heavy_library(words: list[str], tmp_path: Path) -> None:
    code, modules, out = imported([*words, "--help"], tmp_path, tmp_path)
    assert code == 0, out
    assert "Usage:" in out
    assert not modules & HELP_FORBIDDEN, sorted(modules & HELP_FORBIDDEN)


def test_ingest_formats_in_the_cli_are_the_readers() -> None:
    """`corpus ingest --help` shows them from `constants` without importing the ingest stack."""
    from corpus_tools.cli import ingest as cli_ingest
    from corpus_tools.ingest import FORMATS

    assert [f.value for f in cli_ingest.FormatChoice] == list(FORMATS)


def test_validate_one_task_imports_only_validation(sample_gold: Path, tmp_path: Path) -> None:
    root = copy_gold(sample_gold, tmp_path / "corpus")
    task = sorted((root / "annotations").rglob("tasks/*.json"))[0]
    args = ["validate", str(task.relative_to(root))]
    # The pairs are kept only from a table whose ctime is RACY_S old (the copy's is now).
    changed = (root / "build/articles.parquet").stat().st_ctime
    time.sleep(max(0.0, changed + articles.RACY_S + 0.1 - time.time()))
    # The first run reads the articles table (and keeps its id -> sha256 pairs), the second
    # finds the pairs kept; both report the same.
    first = imported(args, root, tmp_path)
    second = imported(args, root, tmp_path)
    assert first[0] == second[0] == 0, first[2] + second[2]
    assert first[2] == second[2]
    assert "1 task" in second[2]
    assert not second[1] & HEAVY, sorted(second[1] & HEAVY)
    assert "jsonschema_rs" in second[1]  # the structure was checked
    assert (root / "build" / articles.CACHE_NAME).is_file()


# The kept article hashes (corpus_tools.validate.articles), end to end.


def _write_table(path: Path, pairs: list[tuple[str, str]]) -> None:
    """A two-column articles table whose size depends only on the lengths of its strings."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"article_id": [a for a, _ in pairs], "text_sha256": [s for _, s in pairs]})
    pq.write_table(table, path, compression="none", use_dictionary=False, write_statistics=False)


def test_kept_hashes_follow_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(articles, "RACY_S", 0.0)
    table = tmp_path / "build" / "articles.parquet"
    table.parent.mkdir()
    kept = articles.cache_path(table)
    one = [("art-1", "a" * 64), ("art-2", "b" * 64)]
    two = [("art-1", "a" * 64), ("art-2", "c" * 64)]  # one article's text changed
    _write_table(table, one)
    assert articles.article_hashes(table) == dict(one)
    assert orjson.loads(kept.read_bytes())["hashes"] == dict(one)

    # Replaced atomically by a table of the same size: noticed, and the pairs kept anew.
    other = table.with_name("next.parquet")
    _write_table(other, two)
    assert other.stat().st_size == table.stat().st_size
    os.replace(other, table)
    assert articles.article_hashes(table) == dict(two)
    assert orjson.loads(kept.read_bytes())["hashes"] == dict(two)

    # While the table is the same, the kept pairs are what is read (not the table).
    doc = orjson.loads(kept.read_bytes())
    kept.write_bytes(orjson.dumps({**doc, "hashes": {"art-9": "d" * 64}}))
    assert articles.article_hashes(table) == {"art-9": "d" * 64}

    # A corrupt, foreign or stale file is ignored and rewritten.
    for bad in (
        b"{not json",
        b"[]",
        orjson.dumps({**doc, "format": 0}),
        orjson.dumps({**doc, "hashes": {"art-1": 5}}),
        orjson.dumps({**doc, "table": [doc["table"][0], 0, 0, 0]}),
    ):
        kept.write_bytes(bad)
        assert articles.article_hashes(table) == dict(two), bad
        assert orjson.loads(kept.read_bytes()) == doc, bad


def test_a_table_changed_just_now_is_not_kept(tmp_path: Path) -> None:
    table = tmp_path / "articles.parquet"
    _write_table(table, [("art-1", "a" * 64)])
    assert articles.article_hashes(table) == {"art-1": "a" * 64}
    assert not articles.cache_path(table).exists()  # its ctime is younger than RACY_S


def test_an_unwritable_folder_only_costs_the_shortcut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(articles, "RACY_S", 0.0)
    table = tmp_path / "articles.parquet"
    _write_table(table, [("art-1", "a" * 64)])
    articles.cache_path(table).mkdir()  # a folder where the file belongs: it cannot be written
    assert articles.article_hashes(table) == {"art-1": "a" * 64}


def test_findings_are_the_same_with_and_without_kept_hashes(
    sample_gold: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    from corpus_tools.config import load_config
    from corpus_tools.validate import load_article_hashes, validate

    monkeypatch.setattr(articles, "RACY_S", 0.0)
    root = copy_gold(sample_gold, tmp_path / "corpus")
    table = root / "build" / "articles.parquet"
    data = pq.read_table(table)
    shas = data.column("text_sha256").to_pylist()
    shas[0] = "0" * 64  # the first article's text changed since it was annotated
    data = data.set_column(data.schema.get_field_index("text_sha256"), "text_sha256", [shas])
    pq.write_table(data, table)
    cfg = load_config(root / "corpus.toml")
    paths = [root / "annotations"]

    given = validate(config=cfg, paths=paths, articles=load_article_hashes(table)).to_dict()
    assert not articles.cache_path(table).exists()
    read = validate(config=cfg, paths=paths).to_dict()  # reads the table, keeps the pairs
    assert articles.cache_path(table).is_file()

    def unread(*args: object) -> dict[str, str]:
        raise AssertionError("the table was read although its pairs were kept")

    monkeypatch.setattr(articles, "read_table", unread)
    from_kept = validate(config=cfg, paths=paths).to_dict()
    assert given == read == from_kept
    findings = from_kept["findings"]
    assert isinstance(findings, list)
    assert "stale-annotation" in {f["slug"] for f in findings}


# corpus.toml is checked by jsonschema_rs first; jsonschema decides whenever it has doubts.


def _leaves(node: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]
    return [path]


def _with(data: object, path: tuple[object, ...], value: object) -> object:
    import copy

    new = copy.deepcopy(data)
    node: Any = new
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return new


def test_the_fast_config_check_never_passes_what_jsonschema_refuses(repo_root: Path) -> None:
    import tomllib

    from corpus_tools import config

    data = tomllib.loads((repo_root / "corpus.toml").read_text(encoding="utf-8"))
    assert config._plainly_valid(data) and not config._schema_problems(data)
    variants: list[object] = ["", " x", "x ", "x\x1f", "\x1cx", "a\x85", "abc\n", "A-b.1", -1, 2.5]
    refused = passed = 0
    for path in _leaves(data):
        for value in variants:
            mutated = _with(data, path, value)
            assert isinstance(mutated, dict)
            if config._plainly_valid(mutated):
                passed += 1
                assert config._schema_problems(mutated) == [], (path, value)
            elif config._schema_problems(mutated):
                refused += 1
    assert refused and passed  # both ways were taken


def test_an_unreadable_table_is_named_as_before(tmp_path: Path) -> None:
    from corpus_tools.errors import DataError

    table = tmp_path / "articles.parquet"
    table.write_bytes(b"not parquet")
    with pytest.raises(DataError) as err:
        articles.article_hashes(table)
    message = err.value.message
    assert message.startswith(f"{table}: not a readable articles table (")
    assert f"'{table}'" in message  # pyarrow names the file it could not open
    assert not articles.cache_path(table).exists()
