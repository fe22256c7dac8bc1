"""CI as its users meet it (issue 15 point 5): the workflow's path filters, the hooks' file
patterns against the folder walk, JUnit and GitHub output (names, escaping, repository-root
paths), and `corpus check`'s three parts and `--quiet`."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

import corpus_tools
from corpus_tools.adjudicate.vote import decisions_dir
from corpus_tools.config import load_config
from corpus_tools.exports import export_files
from corpus_tools.model import Finding, Report
from corpus_tools.validate.formats import render_github, render_junit
from corpus_tools.validate.reader import split_named

PULLED = "annotations/geonews-annotation"


def glob_re(pattern: str) -> re.Pattern[str]:
    """A GitHub `paths` filter as a regex: `**` any characters, `*` any but `/`."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + "$")


def test_workflow_paths_cover_everything_the_check_reads(repo_root: Path) -> None:
    wf_path = repo_root / ".github/workflows/annotations.yml"
    workflow = yaml.safe_load(wf_path.read_text())
    on = workflow[True]  # YAML 1.1 reads the key `on` as True
    pr, push = on["pull_request"]["paths"], on["push"]["paths"]
    assert pr == push
    cfg = load_config(repo_root / "corpus.toml")
    steps = workflow["jobs"]["check"]["steps"]
    install = next(s["run"] for s in steps if "pip install" in str(s.get("run", "")))
    constraints = re.search(r"-c (\S+)", install)
    assert constraints and (repo_root / constraints.group(1)).is_file()

    def rel(p: Path) -> str:
        return p.resolve().relative_to(repo_root.resolve()).as_posix()

    read = {
        # folders: any file below them
        rel(cfg.paths.annotations) + "/p/tasks/a.json",
        rel(cfg.paths.articles) + "/x.txt",
        rel(cfg.paths.schemas) + "/ls-task.schema.json",
        rel(decisions_dir(cfg)) + "/p/tasks/a.json",
        rel(Path(corpus_tools.__file__).parent) + "/validate/checks.py",
        # files
        rel(cfg.path),
        "pyproject.toml",
        constraints.group(1),
        rel(wf_path),
    }
    patterns = [glob_re(p) for p in pr]
    missing = sorted(p for p in read if not any(r.match(p) for r in patterns))
    assert missing == []
    assert not any(r.match("README.md") or r.match("docs/ci.md") for r in patterns)
    uses = [s["uses"] for s in steps if "uses" in s]
    assert all(re.fullmatch(r"actions/[\w-]+@v\d+", u) for u in uses), uses


NAMES = [
    "p/tasks/a.json",
    "p/tasks/b.jsonl",
    "p/_project.json",
    "p/tasks/_meta.json",
    "p/.hidden.json",
    ".p.pull-12/tasks/a.json",
    "p/tasks/a.json.bak",
    "p.bak/tasks/a.json",
    "p.tmp/a.json",
    "p~/a.json",
    "p/tasks/c.json~",
    "_p/tasks/a.json",  # a folder starting with `_` is walked
    "p/notes.txt",
]


def test_hook_patterns_and_explicit_files_follow_the_folder_walk(
    repo_root: Path, tmp_path: Path
) -> None:
    root = tmp_path / "corpus"
    folder = root / "annotations"
    for name in NAMES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("{}")
    walked = {f.relative_to(root).as_posix() for f in export_files([folder])}
    assert "annotations/p/tasks/a.json" in walked and len(walked) == 3

    hooks = {h["id"]: h for h in yaml.safe_load((repo_root / ".pre-commit-hooks.yaml").read_text())}
    validate = hooks["corpus-validate"]
    files, exclude = re.compile(validate["files"]), re.compile(validate["exclude"])
    all_names = {f"annotations/{n}" for n in NAMES}
    handed = {n for n in all_names if files.search(n) and not exclude.search(n)}
    assert handed == walked

    keep, skipped = split_named([root / n for n in sorted(all_names)], root=root)
    kept = {p.relative_to(root).as_posix() for p in keep}
    assert {n for n in kept if n.endswith((".json", ".jsonl"))} == walked
    assert all(s.reason for s in skipped)
    check = hooks["corpus-check"]
    assert re.search(check["files"], f"{PULLED}/_project.json")
    assert re.search(check["files"], "adjudication/p/tasks/a.json")


def test_validate_skips_a_named_project_file_with_a_note(sample_corpus: Path, cli: Any) -> None:
    meta = f"{PULLED}/_project.json"
    task = sorted((sample_corpus / PULLED / "tasks").glob("*.json"))[0]
    res = cli("validate", meta, "--json", cwd=sample_corpus)
    assert res.exit_code == 0, res.stdout
    out = json.loads(res.stdout)
    assert out["findings"] == [] and out["stats"]["files"] == 0
    assert [s["file"] for s in out["skipped"]] == [meta]
    res = cli("validate", meta, str(task), cwd=sample_corpus)
    assert res.exit_code == 0, res.stdout
    assert f"note: skipped {meta}" in res.stdout
    assert "in 1 file " in res.stdout
    # an interrupted pull's folder, named explicitly, is skipped too
    hidden = sample_corpus / "annotations" / ".p.pull-1" / "t.json"
    hidden.parent.mkdir(parents=True)
    hidden.write_text("{ broken")
    assert cli("validate", str(hidden), cwd=sample_corpus).exit_code == 0
    assert cli("validate", str(hidden), "-q", cwd=sample_corpus).stdout == ""
    # a missing file is still an error, whatever its name
    assert cli("validate", "annotations/_missing.json", cwd=sample_corpus).exit_code == 2


def test_junit_escapes_control_characters_and_counts_right() -> None:
    report = Report(
        findings=[
            Finding("not-json", "error", "bad\x00byte \x1b[31m", file="a\x1bb\nc.json", line=2),
            Finding("not-json", "error", "again", file="a\x1bb\nc.json", line=5),
            Finding("utf8-bom", "warning", "bom\ufffe", file="bad\udcffname.json", line=1),
        ],
        stats={"files": 3},
    )
    xml = render_junit(report, suite="corpus check", files=["a\x1bb\nc.json", "clean.json"])
    root = ET.fromstring(xml.split("\n", 1)[1])
    (suite,) = root.iter("testsuite")
    cases = list(suite.iter("testcase"))
    # a JUnit consumer's counts: tests = cases, failures = cases with <failure>, no errors
    assert suite.get("tests") == str(len(cases)) == "4"
    assert suite.get("failures") == str(sum(c.find("failure") is not None for c in cases))
    assert suite.get("errors") == str(sum(c.find("error") is not None for c in cases)) == "0"
    assert suite.get("name") == "corpus check"
    first = cases[0]
    assert first.get("file") == "a\\x1bb\\x0ac.json" and first.get("line") == "2"
    assert first.get("name") == "a\\x1bb\\x0ac.json:2 not-json"
    failure = first.find("failure")
    assert failure is not None
    assert failure.get("message") == "bad\\x00byte \\x1b[31m"
    assert cases[2].get("file") == "bad\\udcffname.json"
    assert [c.get("name") for c in cases][-1] == "clean.json"
    # the whole document is writable as UTF-8 (no surrogate, no raw control character)
    xml.encode("utf-8")
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", xml)
    gh = render_github(report)
    gh.encode("utf-8")
    assert "file=a\\x1bb\\x0ac.json,line=2" in gh


def _plant_error(corpus: Path) -> str:
    target = sorted((corpus / PULLED / "tasks").glob("*.json"))[2]
    task = orjson.loads(target.read_bytes())
    task["annotations"][0]["result"][0]["value"]["labels"] = ["NOT-A-LABEL"]
    target.write_bytes(orjson.dumps(task, option=orjson.OPT_INDENT_2))
    return target.relative_to(corpus).as_posix()


@pytest.mark.parametrize("command", ["check", "validate"])
def test_ci_paths_are_relative_to_the_repository_root(
    tmp_path: Path, cli: Any, command: str
) -> None:
    from conftest import copy_sample

    repo = tmp_path / "repo"
    corpus = copy_sample(repo / "data" / "corpus")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    bad = _plant_error(corpus)
    args = [command] + (["annotations"] if command == "validate" else [])
    outs = {}
    for cwd in (corpus, corpus / "annotations" / "geonews-annotation", repo):
        extra = [] if cwd == corpus else ["-c", str(corpus / "corpus.toml")]
        argv = list(args)
        if command == "validate" and cwd != corpus:
            argv = [command, str(corpus / "annotations")]
        gh = cli(*argv, *extra, "--format", "github", cwd=cwd)
        ju = cli(*argv, *extra, "--format", "junit", cwd=cwd)
        assert gh.exit_code == ju.exit_code == 1, gh.stdout
        files = sorted(set(re.findall(r"file=([^,:]+)", gh.stdout)))
        cases = ET.fromstring(ju.stdout.split("\n", 1)[1]).iter("testcase")
        failing = sorted({c.get("file") for c in cases if c.find("failure") is not None})
        outs[cwd] = (files, failing)
    assert len(set(map(str, outs.values()))) == 1, outs
    files, failing = outs[corpus]
    assert f"data/corpus/{bad}" in files and failing == [f"data/corpus/{bad}"]
    suite = ET.fromstring(
        cli(*args, "--format", "junit", cwd=corpus).stdout.split("\n", 1)[1]
    ).find("testsuite")
    assert suite is not None and suite.get("name") == f"corpus {command}"


def test_check_prints_three_parts_and_quiet_means_quiet(sample_corpus: Path, cli: Any) -> None:
    res = cli("check", cwd=sample_corpus)
    lines = res.stdout.splitlines()
    heads = [ln.split()[0] for ln in lines if ln and not ln.startswith(" ")]
    assert heads[:3] == ["validation", "schemas", "gates"], res.stdout
    lib = json.loads(cli("check", "--json", cwd=sample_corpus).stdout)
    for g in lib["parts"]["gates"]["gates"]:
        line = next(ln for ln in lines if ln.strip().startswith(g["gate"] + " "))
        assert ("pass" if g["passed"] else "FAIL") in line.split()
        if g["low"] is not None:
            assert f"[{g['low']:.3f}, {g['high']:.3f}]" in line
            assert f"{g['comparison']} {g['threshold']}" in line
    assert res.exit_code == (0 if lib["valid"] else 1)
    if res.exit_code == 0:
        assert cli("check", "-q", cwd=sample_corpus).stdout == ""
    bad = _plant_error(sample_corpus)
    quiet = cli("check", "--quiet", cwd=sample_corpus)
    assert quiet.exit_code == 1
    assert bad in quiet.stdout and "unknown-label" in quiet.stdout
    assert "validation" not in quiet.stdout.split()[0] and "INVALID" not in quiet.stdout
