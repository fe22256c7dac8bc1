"""`corpus validate` on exports made by a real Label Studio 1.23.2 with our labeling config:
the UI's sync JSON export is valid; the snapshot export (annotators as user objects with
emails) is personal data; offsets an old client wrote as UTF-16 units are found and repaired;
the lossy JSON-MIN, CSV and TSV exports get one clear finding each; results an API client
created without ids are read as Label Studio reads them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from ls_server import LabelStudioFixture
from test_validate_support import TEXT_A, setup_corpus, task_a

from corpus_tools import labeling_config
from corpus_tools.config import CorpusConfig
from corpus_tools.errors import DataError
from corpus_tools.exports import iter_annotations
from corpus_tools.validate import validate

pytestmark = pytest.mark.labelstudio


def _project_with_annotated_task(
    label_studio: LabelStudioFixture,
    cfg: CorpusConfig,
    utf16: bool = False,
    without_ids: bool = False,
) -> int:
    pid = label_studio.new_project(label_config=labeling_config.render(cfg))
    task = task_a(cfg)
    # Two real annotators: the admin, and a user who signed up through the form.
    tokens = [label_studio.api_key, label_studio.signup("vera").token]
    with label_studio.http() as http:
        resp = http.post(f"/api/projects/{pid}/import", json=[{"data": task["data"]}])
        assert resp.status_code == 201, resp.text
        page = http.get("/api/tasks/", params={"project": pid}).json()
        (tid,) = [t["id"] for t in page["tasks"]]
    for token, ann in zip(tokens, task["annotations"], strict=True):
        result = ann["result"]
        if without_ids:  # as an API client may send them: no region ids, so no relations
            result = [r for r in result if r["type"] != "relation"]
            for r in result:
                r.pop("id", None)
        if utf16:  # as a 2021 client would send: positions in UTF-16 code units
            for r in result:
                v = r.get("value", {})
                if "start" in v:
                    v["start"] = len(TEXT_A[: v["start"]].encode("utf-16-le")) // 2
                    v["end"] = len(TEXT_A[: v["end"]].encode("utf-16-le")) // 2
        with label_studio.http(token) as http:
            resp = http.post(
                f"/api/tasks/{tid}/annotations/", json={"result": result, "lead_time": 20.0}
            )
        assert resp.status_code == 201, resp.text
    return pid


def _sync_export(
    label_studio: LabelStudioFixture, pid: int, out: Path, export_type: str = "JSON"
) -> Path:
    with label_studio.http() as http:
        resp = http.get(
            f"/api/projects/{pid}/export",
            params={"exportType": export_type, "download_all_tasks": True},
        )
    resp.raise_for_status()
    out.write_bytes(resp.content)
    return out


def _snapshot_export(label_studio: LabelStudioFixture, pid: int, out: Path) -> Path:
    options: dict[str, Any] = {
        "serialization_options": {
            "predictions": {"only_id": False},
            "annotations__completed_by": {"only_id": False},
        }
    }
    with label_studio.http() as http:
        created = http.post(f"/api/projects/{pid}/exports/", json=options)
        assert created.status_code == 201, created.text
        eid = created.json()["id"]
        for _ in range(50):
            if http.get(f"/api/projects/{pid}/exports/{eid}").json().get("status") == "completed":
                break
            time.sleep(0.2)
        resp = http.get(
            f"/api/projects/{pid}/exports/{eid}/download", params={"exportType": "JSON"}
        )
    resp.raise_for_status()
    out.write_bytes(resp.content)
    return out


def test_real_exports(
    label_studio: LabelStudioFixture, sample_corpus: Path, tmp_path: Path
) -> None:
    cfg = setup_corpus(sample_corpus)
    pid = _project_with_annotated_task(label_studio, cfg)

    ui = _sync_export(label_studio, pid, tmp_path / "ui-export.json")
    exported = json.loads(ui.read_text())
    assert isinstance(exported[0]["annotations"][0]["completed_by"], int)
    report = validate(config=cfg, paths=[ui])
    assert report.findings == [], report.findings
    assert (report.stats["tasks"], report.stats["annotations"]) == (1, 2)

    snap = _snapshot_export(label_studio, pid, tmp_path / "snapshot.json")
    report = validate(config=cfg, paths=[snap])
    personal = [f for f in report.findings if f.slug == "personal-data"]
    assert len(personal) == 2  # one per annotation: completed_by carries the email
    assert {f.pointer for f in personal} == {
        "/0/annotations/0/completed_by",
        "/0/annotations/1/completed_by",
    }
    assert not report.valid


def test_utf16_offsets_from_an_old_client(
    label_studio: LabelStudioFixture, sample_corpus: Path, tmp_path: Path
) -> None:
    cfg = setup_corpus(sample_corpus)
    pid = _project_with_annotated_task(label_studio, cfg, utf16=True)
    ui = _sync_export(label_studio, pid, tmp_path / "old-client.json")
    report = validate(config=cfg, paths=[ui])
    slugs = {f.slug for f in report.findings}
    assert "utf16-offsets" in slugs
    # Everything after the emoji and 𝔸 moved; the region before them did not.
    report = validate(config=cfg, paths=[ui], repair_utf16=True)
    assert report.valid, report.findings
    assert validate(config=cfg, paths=[ui]).findings == []
    assert (tmp_path / "old-client.json.bak").exists()


@pytest.mark.parametrize(
    ("export_type", "name"),
    [("JSON_MIN", "min.json"), ("CSV", "export.csv"), ("TSV", "export.tsv")],
)
def test_lossy_exports_get_one_clear_finding(
    label_studio: LabelStudioFixture,
    sample_corpus: Path,
    tmp_path: Path,
    export_type: str,
    name: str,
) -> None:
    """JSON-MIN, CSV and TSV drop region ids, relations and per-region answers: one finding
    per file that says so and how to export JSON instead, not a flood of missing fields."""
    cfg = setup_corpus(sample_corpus)
    pid = _project_with_annotated_task(label_studio, cfg)
    lossy = _sync_export(label_studio, pid, tmp_path / name, export_type)
    good = _sync_export(
        label_studio, _project_with_annotated_task(label_studio, cfg), tmp_path / "z.json"
    )
    report = validate(config=cfg, paths=[lossy, good])
    (hit,) = [f for f in report.findings if f.file == str(lossy)]
    assert (hit.slug, hit.severity) == ("lossy-export", "error")
    assert export_type.replace("_", "-") in hit.message
    assert hit.hint is not None and "Export" in hit.hint and "JSON" in hit.hint
    # The good export beside it is still read and checked (its task ids are new ones).
    assert [f for f in report.findings if f.file == str(good)] == []
    assert report.stats["tasks"] == 1
    # The readers after validation stop on it with the same explanation.
    with pytest.raises(DataError, match=export_type.replace("_", "-")):
        list(iter_annotations([lossy], cfg.scheme))


def test_results_created_without_ids(
    label_studio: LabelStudioFixture, sample_corpus: Path, tmp_path: Path
) -> None:
    """Label Studio stores and exports results an API client sent without ids as they are:
    validation says what is lost (the per-region answers tie to no claim), and parse_task
    reads the export the same way (no answer tied to the claim, every span kept)."""
    cfg = setup_corpus(sample_corpus)
    pid = _project_with_annotated_task(label_studio, cfg, without_ids=True)
    ui = _sync_export(label_studio, pid, tmp_path / "api.json")
    exported = json.loads(ui.read_text())
    results = [r for a in exported[0]["annotations"] for r in a["result"]]
    assert results and all(not r.get("id") for r in results)  # stored without ids
    report = validate(config=cfg, paths=[ui])
    got = sorted({(f.slug, f.severity) for f in report.findings})
    assert got == [("claim-without-checkworthy", "warning"), ("orphan-attribute", "error")]
    assert report.stats["regions"] == 2 * 6
    for ann in iter_annotations([ui], cfg.scheme):
        assert len(ann.entities) == 5
        assert [(c.checkworthy, c.claimant, c.region_id) for c in ann.claims] == [
            (None, None, None)
        ]
