"""`corpus validate` on exports made by a real Label Studio 1.23.2 with our labeling config:
the UI's sync JSON export is valid; the snapshot export (annotators as user objects with
emails) is personal data; offsets an old client wrote as UTF-16 units are found and repaired."""

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
from corpus_tools.validate import validate

pytestmark = pytest.mark.labelstudio


def _project_with_annotated_task(
    label_studio: LabelStudioFixture, cfg: CorpusConfig, utf16: bool = False
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


def _sync_export(label_studio: LabelStudioFixture, pid: int, out: Path) -> Path:
    with label_studio.http() as http:
        resp = http.get(
            f"/api/projects/{pid}/export", params={"exportType": "JSON", "download_all_tasks": True}
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
