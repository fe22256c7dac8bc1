"""`corpus check`: validation of annotations/ + schema drift + [gates], on the sample corpus's
annotations pulled from a real Label Studio."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_validate_support import article, write_articles

from corpus_tools.check import check
from corpus_tools.config import load_config
from corpus_tools.exports import iter_annotations

PULLED = "annotations/geonews-annotation/tasks"


def set_gates(corpus: Path, gates: str) -> None:
    toml = corpus / "corpus.toml"
    text = toml.read_text()
    new = re.sub(r"(?ms)^\[gates\]\n.*?(?=^\[)", f"[gates]\n{gates}\n\n", text)
    assert new != text or "[gates]" in text
    toml.write_text(new)


@pytest.fixture
def corpus(sample_corpus: Path) -> Path:
    """The sample corpus, its pulled annotations, and an articles table matching them."""
    tasks = sorted((sample_corpus / PULLED).glob("*.json"))
    assert tasks, "the sample corpus has pulled annotations"
    arts = []
    for f in tasks:
        data = orjson.loads(f.read_bytes())["data"]
        arts.append(article(data["article_id"], data["text"]))
    write_articles(sample_corpus, arts)
    set_gates(sample_corpus, "min_annotators = 2")
    return sample_corpus


def test_pulled_annotations_pass(corpus: Path, cli: Any) -> None:
    res = cli("check", cwd=corpus)
    assert res.exit_code == 0, res.stdout
    result = check(config=load_config(corpus / "corpus.toml"))
    assert result.valid
    assert result.validation.stats["tasks"] == len(list((corpus / PULLED).glob("*.json")))
    assert result.validation.stats["annotations"] >= 2 * result.validation.stats["tasks"]


def test_json_equals_library(corpus: Path, cli: Any) -> None:
    set_gates(corpus, "min_annotators = 3\nmin_f1_entities = 0.99")
    res = cli("check", "--format", "json", cwd=corpus)
    assert res.exit_code == 1
    lib = check(config=load_config(corpus / "corpus.toml")).to_dict()
    assert json.loads(res.stdout) == lib
    assert lib["valid"] is False
    assert set(lib) == {"valid", "validation", "schemas", "gates", "parts"}
    parts = lib["parts"]
    # the three parts agree with the reports they summarise
    findings = lib["validation"]["findings"]
    assert parts["validation"]["errors"] == sum(f["severity"] == "error" for f in findings)
    assert parts["validation"]["tasks"] == lib["validation"]["stats"]["tasks"]
    assert parts["schemas"] == {
        "valid": True,
        "status": "up to date",
        "folder": "schemas",
        "checked": len(list((corpus / "schemas").iterdir())),
        "drifted": [],
    }
    gates = {g["gate"]: g for g in parts["gates"]["gates"]}
    assert gates["min_f1_entities"]["passed"] is False
    assert gates["min_f1_entities"]["comparison"] == ">="
    low = {(f["file"], f["task_id"]) for f in findings if f["slug"] == "low-coverage"}
    assert gates["min_annotators"]["value"] == len(low) > 0
    assert parts["gates"]["valid"] is False


def test_gates_are_wired_and_coverage_not_counted_twice(corpus: Path) -> None:
    from corpus_tools.agreement import gate_findings

    set_gates(corpus, "min_annotators = 3\nmin_f1_entities = 0.99\nmin_f1_claims = 0.0")
    cfg = load_config(corpus / "corpus.toml")
    result = check(config=cfg)
    # Coverage: one finding per task with fewer than 3 completed annotations, from validation.
    low = [f for f in result.validation.findings if f.slug == "low-coverage"]
    per_task = {}
    for f in sorted((corpus / PULLED).glob("*.json")):
        task = orjson.loads(f.read_bytes())
        per_task[task["id"]] = len(
            {a["completed_by"] for a in task["annotations"] if not a.get("was_cancelled")}
        )
    assert sorted(f.task_id for f in low) == sorted(t for t, n in per_task.items() if n < 3)
    assert low and all(f.severity == "error" for f in low)
    # Agreement gates: exactly what corpus_tools.agreement reports on these annotations,
    # without its own min_annotators finding (validation's low-coverage covers it).
    anns = list(iter_annotations([corpus / "annotations"], cfg.scheme))
    expected = gate_findings(
        config=dataclasses.replace(cfg, gates=dataclasses.replace(cfg.gates, min_annotators=0)),
        annotations=anns,
    )
    assert [f.slug for f in result.gates.findings] == [f.slug for f in expected]
    assert "gate-f1-entities" in [f.slug for f in result.gates.findings]
    assert {f.file for f in result.gates.findings} == {"corpus.toml"}
    toml_lines = (corpus / "corpus.toml").read_text().splitlines()
    f1 = next(f for f in result.gates.findings if f.slug == "gate-f1-entities")
    assert f1.line is not None and toml_lines[f1.line - 1].startswith("min_f1_entities")
    assert "gate-min-annotators" not in [f.slug for f in result.gates.findings]
    assert not result.gates.valid and not result.valid


def test_schema_drift_fails_check(corpus: Path, cli: Any) -> None:
    target = corpus / "schemas" / "ls-task.schema.json"
    target.write_text(target.read_text().replace('"PER"', '"PERSON"'))
    res = cli("check", "--format", "github", cwd=corpus)
    assert res.exit_code == 1
    assert (
        "::error file=schemas/ls-task.schema.json,title=schema-drift::"
        "schemas/ls-task.schema.json differs from what corpus.toml generates" in res.stdout
    )
    (corpus / "schemas" / "stray.json").write_text("{}")
    result = check(config=load_config(corpus / "corpus.toml"))
    assert sorted(f.file for f in result.schemas.findings) == [
        "schemas/ls-task.schema.json",
        "schemas/stray.json",
    ]
    assert result.parts["schemas"]["status"] == "drifted"
    assert result.parts["schemas"]["drifted"] == [
        {"file": "schemas/ls-task.schema.json", "problem": "changed"},
        {"file": "schemas/stray.json", "problem": "unexpected"},
    ]
    text = cli("check", cwd=corpus)
    assert text.exit_code == 1
    assert "schemas     DRIFTED: schemas/ls-task.schema.json (changed)" in text.stdout


def test_personal_data_anywhere_under_annotations(corpus: Path, cli: Any) -> None:
    meta = corpus / "annotations" / "geonews-annotation" / "_project.json"
    meta.write_text(
        meta.read_text().replace('"source"', '"created_by": "anna@example.org",\n  "source"')
    )
    first = sorted((corpus / PULLED).glob("*.json"))[0]
    task = orjson.loads(first.read_bytes())
    task["annotations"][0]["completed_by"] = {"id": 4, "email": "bo@example.org"}
    first.write_bytes(orjson.dumps(task, option=orjson.OPT_INDENT_2))
    result = check(config=load_config(corpus / "corpus.toml"))
    found = [(f.file, f.slug) for f in result.validation.findings if f.slug == "personal-data"]
    rel = first.relative_to(corpus).as_posix()
    assert sorted(found) == sorted(
        [("annotations/geonews-annotation/_project.json", "personal-data"), (rel, "personal-data")]
    )
    meta_finding = next(f for f in result.validation.findings if f.file and "_project" in f.file)
    assert meta_finding.line is not None
    assert "anna@example.org" in meta.read_text().splitlines()[meta_finding.line - 1]
    assert cli("check", cwd=corpus).exit_code == 1


def test_no_annotations_folder_is_a_warning(sample_corpus: Path, cli: Any) -> None:
    import shutil

    shutil.rmtree(sample_corpus / "annotations")
    set_gates(sample_corpus, "min_annotators = 2")
    result = check(config=load_config(sample_corpus / "corpus.toml"))
    assert [f.slug for f in result.validation.findings] == ["no-tasks"]
    assert result.valid
    res = cli("check", "--format", "junit", cwd=sample_corpus)
    assert res.exit_code == 0
    assert "<testsuite" in res.stdout


def test_ci_workflow_and_hooks_run_real_commands(corpus: Path, cli: Any, repo_root: Path) -> None:
    """The workflow and pre-commit hooks call commands and options that exist, and the
    workflow's check step passes on a valid corpus."""
    import shlex

    import yaml

    workflow = yaml.safe_load((repo_root / ".github/workflows/annotations.yml").read_text())
    steps = workflow["jobs"]["check"]["steps"]
    runs = [s["run"] for s in steps if str(s.get("run", "")).startswith("corpus ")]
    assert "corpus check --format github --quiet" in runs
    hooks = yaml.safe_load((repo_root / ".pre-commit-hooks.yaml").read_text())
    local = yaml.safe_load((repo_root / ".pre-commit-config.yaml").read_text())
    entries = [h["entry"] for h in hooks] + [h["entry"] for h in local["repos"][0]["hooks"]]
    for line in runs + entries:
        argv = shlex.split(line)[1:]
        res = cli(*argv, "--help", cwd=corpus)
        assert res.exit_code == 0, (line, res.output)
    res = cli("check", "--format", "github", "--quiet", cwd=corpus)
    assert res.exit_code == 0, res.stdout
    assert "::error" not in res.stdout


def test_json_gate_figures_are_the_unrounded_measurements(corpus: Path, cli: Any) -> None:
    """`corpus check --format json` carries each gate's figure at full precision beside its
    threshold (issue 10 point 6): the values equal what the library measures, with the
    resamples `corpus agree` uses (one figure, one interval: issue 15 point 3)."""
    from corpus_tools.adjudicate import adjudicate, load_decisions
    from corpus_tools.agreement import agree

    set_gates(
        corpus,
        "min_annotators = 2\nmin_alpha_stance = 0.05\nmin_f1_entities = 0.99\n"
        "min_f1_claims = 0.1\nmax_open_disputes = 1000",
    )
    res = cli("check", "--format", "json", cwd=corpus)
    assert res.exit_code == 1, res.stdout  # the entity gate fails, the others pass
    figures = {f["gate"]: f for f in json.loads(res.stdout)["gates"]["figures"]}
    cfg = load_config(corpus / "corpus.toml")
    anns = list(iter_annotations([corpus / "annotations"], cfg.scheme))
    rep = agree(config=cfg, annotations=anns, bootstrap=1000, seed=0)  # corpus agree's defaults
    expected = {
        "min_alpha_stance": (rep.stance_overall().alpha, 0.05),
        "min_f1_entities": (rep.entities.overall.exact_f1, 0.99),
        "min_f1_claims": (rep.claims.overall.overlap_f1, 0.1),
    }
    for key, (est, threshold) in expected.items():
        fig = figures[key]
        assert (fig["value"], fig["low"], fig["high"]) == (est.value, est.low, est.high), key
        assert fig["threshold"] == threshold
        assert fig["passed"] is (est.value is not None and est.value >= threshold)
    assert figures["min_f1_entities"]["passed"] is False
    assert figures["min_alpha_stance"]["passed"] is True
    values = [f["value"] for k, f in figures.items() if k != "max_open_disputes"]
    assert any(round(v, 4) != v for v in values), values  # the test can fail on rounding
    disputes = adjudicate(
        config=cfg, annotations=anns, articles=None, decisions=load_decisions(cfg)
    ).disputes
    assert figures["max_open_disputes"]["value"] == len(disputes)
    assert figures["max_open_disputes"]["passed"] is True
    assert "min_annotators" not in figures  # coverage is validation's, per task


# --- tasks without a single annotation (issue 15 point 1) -----------------------------------


def strip_annotations(corpus: Path) -> int:
    """Empty every pulled task's annotations, as a pull from a fresh server leaves them."""
    files = sorted((corpus / PULLED).glob("*.json"))
    for f in files:
        t = orjson.loads(f.read_bytes())
        t["annotations"] = []
        f.write_bytes(orjson.dumps(t, option=orjson.OPT_INDENT_2))
    return len(files)


@pytest.mark.parametrize(
    "gates",
    [
        "min_annotators = 2\nmin_alpha_stance = 0.4\nmin_f1_entities = 0.6\n"
        "min_f1_claims = 0.3\nmax_open_disputes = 200",
        "min_annotators = 0",  # no gate set at all: still no evidence, still a failure
    ],
)
def test_no_annotation_at_all_is_a_gate_failure_not_a_traceback(
    sample_corpus: Path, cli: Any, gates: str
) -> None:
    n_tasks = strip_annotations(sample_corpus)
    set_gates(sample_corpus, gates)
    res = cli("check", "--format", "json", cwd=sample_corpus)
    assert res.exit_code == 1, res.stdout + res.stderr
    out = json.loads(res.stdout)
    (finding,) = out["gates"]["findings"]
    assert finding["slug"] == "gate-no-annotations" and finding["severity"] == "error"
    assert f"none of the {n_tasks} tasks has an annotation" in finding["message"]
    assert all(
        f["value"] is None and f["passed"] is False
        for f in out["gates"]["figures"]
        if f["gate"] != "max_open_disputes"
    )
    text = cli("check", cwd=sample_corpus)
    assert text.exit_code == 1
    assert "none of the" in text.stdout + text.stderr
    assert "Traceback" not in text.stdout + text.stderr


def test_pipeline_without_annotations_stops_at_check(sample_corpus: Path, cli: Any) -> None:
    strip_annotations(sample_corpus)
    res = cli("pipeline", "0.1.0", "--no-publish", "--json", cwd=sample_corpus)
    assert res.exit_code == 1, res.stdout + res.stderr
    out = json.loads(res.stdout)
    assert out["failed"] == "check"
    slugs = [f["slug"] for f in out["stages"]["check"]["gates"]["findings"]]
    assert "gate-no-annotations" in slugs
    assert not (sample_corpus / "dist").exists()
