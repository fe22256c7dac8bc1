"""The main job end to end on the sample corpus: `corpus pipeline VERSION`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CliRun

from corpus_tools.config import load_config
from corpus_tools.pipeline import STAGES, run_pipeline


def test_pipeline_on_the_sample_corpus_publishes_a_loadable_release(
    cli: CliRun, sample_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = cli("pipeline", "0.1.0", "--json", cwd=sample_corpus)
    assert result.exit_code == 0, result.stdout + result.stderr
    out = json.loads(result.stdout)
    assert out["ok"] and out["failed"] is None
    assert list(out["stages"]) == list(STAGES)
    assert out["stages"]["ingest"]["articles"] >= 12
    assert out["stages"]["check"]["valid"] is True
    assert out["load_line"] == 'load_dataset("hub/geonews/v0.1.0", "entities")'

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from datasets import load_dataset

    ds = load_dataset(str(sample_corpus / "hub/geonews/v0.1.0"), "entities")
    rows = sum(ds[s].num_rows for s in ds)
    assert rows == out["stages"]["ingest"]["articles"]
    for split in ds.values():
        for row in split:
            for ent in row["entities"]:
                assert row["text"][ent["start"] : ent["end"]] == ent["text"]

    # Unchanged inputs, same version: rebuilt identically, reported as already published.
    again = cli("pipeline", "0.1.0", "--json", cwd=sample_corpus)
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["stages"]["publish"]["already_published"] is True
    table = cli("pipeline", "0.1.0", cwd=sample_corpus)
    assert table.exit_code == 0, table.stderr
    assert "already published (identical files)" in table.stdout


def test_pipeline_refuses_to_rewrite_a_published_version(cli: CliRun, sample_corpus: Path) -> None:
    config = load_config(sample_corpus / "corpus.toml")
    assert run_pipeline(config=config, version="0.1.0").ok
    published = sample_corpus / "hub/geonews/v0.1.0"
    before = {p: p.read_bytes() for p in published.rglob("*") if p.is_file()}
    built = sample_corpus / "dist/0.1.0"
    built_before = {p: p.read_bytes() for p in built.rglob("*") if p.is_file()}

    # One annotator changes one stance answer: the same version would now differ.
    task_file = sorted((sample_corpus / "annotations").rglob("tasks/*.json"))[0]
    task = json.loads(task_file.read_text(encoding="utf-8"))
    for ann in task["annotations"]:
        for r in ann["result"]:
            if r.get("from_name", "").startswith("stance_"):
                old = r["value"]["choices"][0]
                r["value"]["choices"] = ["favor" if old != "favor" else "against"]
                break
    task_file.write_text(json.dumps(task, indent=2, ensure_ascii=False), encoding="utf-8")

    result = cli("pipeline", "0.1.0", cwd=sample_corpus)
    assert result.exit_code == 2
    assert "version v0.1.0 is already published at the local hub folder" in result.stderr
    assert {p: p.read_bytes() for p in published.rglob("*") if p.is_file()} == before
    # The refusal comes before dist/0.1.0 is touched (it was rewritten first before).
    assert {p: p.read_bytes() for p in built.rglob("*") if p.is_file()} == built_before


def test_pipeline_stops_at_the_first_failing_stage(cli: CliRun, sample_corpus: Path) -> None:
    task_file = sorted((sample_corpus / "annotations").rglob("tasks/*.json"))[0]
    task = json.loads(task_file.read_text(encoding="utf-8"))
    region = next(
        r for a in task["annotations"] for r in a["result"] if r.get("from_name") == "entities"
    )
    region["value"]["labels"] = ["NOT_A_LABEL"]
    task_file.write_text(json.dumps(task, indent=2, ensure_ascii=False), encoding="utf-8")

    result = cli("pipeline", "0.1.0", cwd=sample_corpus)
    assert result.exit_code == 1
    assert "stage check failed" in result.stdout
    assert not (sample_corpus / "dist").exists()
    assert not (sample_corpus / "hub").exists()
