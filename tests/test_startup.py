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
# Validating a valid task needs jsonschema_rs (the fast structural check), nothing above.
HELP_FORBIDDEN = HEAVY | {"jsonschema_rs"}

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


def test_the_commands_are_all_probed() -> None:
    assert ["validate"] in COMMANDS and ["ls", "push"] in COMMANDS and len(COMMANDS) >= 15


@pytest.mark.parametrize("words", [[], *COMMANDS], ids=lambda w: " ".join(["corpus", *w]))
def test_help_imports_no_heavy_library(words: list[str], tmp_path: Path) -> None:
    code, modules, out = imported([*words, "--help"], tmp_path, tmp_path)
    assert code == 0, out
    assert "Usage:" in out
    assert not modules & HELP_FORBIDDEN, sorted(modules & HELP_FORBIDDEN)


def test_constants_spelled_out_in_the_cli_are_the_librarys() -> None:
    """Help shows these without importing their libraries: the same values."""
    from corpus_tools import labelstudio, serve
    from corpus_tools.cli import ingest as cli_ingest
    from corpus_tools.cli import ls as cli_ls
    from corpus_tools.cli import serve as cli_serve
    from corpus_tools.ingest import FORMATS

    assert [f.value for f in cli_ingest.FormatChoice] == list(FORMATS)
    for name in ("ENV_URL", "ENV_API_KEY", "ENV_PSEUDONYM_KEY"):
        assert getattr(cli_ls, name) == getattr(labelstudio, name), name
    assert (cli_serve.DEFAULT_HOST, cli_serve.DEFAULT_PORT) == (
        serve.DEFAULT_HOST,
        serve.DEFAULT_PORT,
    )


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
