"""`corpus pipeline`: the main job, every stage in order on one corpus.

ingest → schemas --check → tasks → check → adjudicate → release → publish (local hub folder).
Each stage is the same library function its own command calls; the pipeline stops at the
first stage whose data fails (exit 1), and says which.

Re-running the pipeline with the same inputs and version is safe: the release is rebuilt
byte-identically, and a version already published with identical files is reported as such
(exit 0). A published version whose files would differ is refused before `dist/` is touched,
with the same rule and words as `corpus release` and `corpus publish` (`release.versions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corpus_tools import adjudicate, check, ingest, publish, schemas, tasks
from corpus_tools.config import CorpusConfig
from corpus_tools.release import build_release
from corpus_tools.release.build import normalize_version

STAGES = ("ingest", "schemas", "tasks", "check", "adjudicate", "release", "publish")


@dataclass(slots=True)
class PipelineResult:
    """What each stage reported, the stage that failed (if any), and how to load the result."""

    version: str
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: str | None = None
    load_line: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "ok": self.ok,
            "failed": self.failed,
            "load_line": self.load_line,
            "stages": self.stages,
        }


def run_pipeline(
    *, config: CorpusConfig, version: str, publish_local: bool = True, progress: bool = False
) -> PipelineResult:
    """Run every stage on `config`'s corpus; stop at the first stage whose data fails."""
    version = normalize_version(version)
    result = PipelineResult(version=version)

    ing = ingest.ingest(config=config, progress=progress)
    result.stages["ingest"] = ing.to_dict()
    if not ing.ok:
        result.failed = "ingest"
        return result

    drift = schemas.check(config)
    result.stages["schemas"] = {"in_sync": not drift, "drift": [d.__dict__ for d in drift]}
    if drift:
        result.failed = "schemas"
        return result

    result.stages["tasks"] = tasks.make_tasks(config=config)

    checked = check.check(config=config, progress=progress)
    result.stages["check"] = checked.to_dict()
    if not checked.valid:
        result.failed = "check"
        return result

    result.stages["adjudicate"] = adjudicate.run(config=config)

    rel = build_release(config=config, version=version, progress=progress)
    result.stages["release"] = rel.to_dict()
    if not publish_local:
        return result

    pub = publish.publish(config=config, version=version, target="local")
    result.stages["publish"] = pub.to_dict()
    result.load_line = pub.load_line
    return result
