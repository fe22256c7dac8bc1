"""`corpus schemas`: every file under `schemas/` is generated from corpus.toml.

The labeling config comes from `corpus_tools.labeling_config`, the JSON Schemas from
`corpus_tools.jsonschemas`. `check` reports drift between the committed files and the scheme.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from corpus_tools.config import CorpusConfig
from corpus_tools.store import atomic_write_text


def generate(config: CorpusConfig) -> dict[str, str]:
    """File name -> content of every generated schema file, from the scheme."""
    from corpus_tools import jsonschemas, labeling_config

    files: dict[str, str] = {}
    files["labeling-config.xml"] = labeling_config.render(config)
    files.update(jsonschemas.render_all(config))
    return dict(sorted(files.items()))


@dataclass(frozen=True, slots=True)
class SchemaDrift:
    """One schema file that differs from what the scheme generates."""

    file: str
    problem: str  # "missing" | "changed" | "unexpected"


def write(config: CorpusConfig) -> list[Path]:
    """Write every generated file under `paths.schemas` (atomically); return what was written."""
    out: list[Path] = []
    for name, content in generate(config).items():
        target = config.paths.schemas / name
        if not target.exists() or target.read_text(encoding="utf-8") != content:
            atomic_write_text(target, content)
            out.append(target)
    return out


def check(config: CorpusConfig) -> list[SchemaDrift]:
    """Compare committed files with freshly generated ones; empty when in sync."""
    drift: list[SchemaDrift] = []
    expected = generate(config)
    for name, content in expected.items():
        target = config.paths.schemas / name
        if not target.exists():
            drift.append(SchemaDrift(name, "missing"))
        elif target.read_text(encoding="utf-8") != content:
            drift.append(SchemaDrift(name, "changed"))
    if config.paths.schemas.is_dir():
        for f in sorted(config.paths.schemas.iterdir()):
            if f.is_file() and f.name not in expected and not f.name.startswith("."):
                drift.append(SchemaDrift(f.name, "unexpected"))
    return drift
