"""`corpus init`: scaffold a new corpus repository from templates shipped in the package.

The result works with the installed package alone: corpus.toml (a small, complete scheme to
edit), empty `articles/` and `annotations/` folders, `schemas/` generated from the scheme, a
README stub and a .gitignore for build outputs. Existing files are never overwritten.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from string import Template

from corpus_tools.config import CONFIG_FILENAME, load_config
from corpus_tools.errors import UsageError
from corpus_tools.model import ScaffoldReport
from corpus_tools.store import atomic_write_text

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
FOLDERS = ("articles", "annotations")


def corpus_name(directory: Path) -> str:
    """A valid corpus name derived from a folder name ("My News 2024" -> "my-news-2024")."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", directory.resolve().name.lower()).strip("-_")
    return slug if _NAME.match(slug) else "corpus"


def _template(name: str) -> str:
    return (resources.files("corpus_tools") / "templates" / name).read_text(encoding="utf-8")


def _toml_string(value: str) -> str:
    # A JSON string without ASCII escaping is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=False)


def init_corpus(
    *, directory: Path, name: str | None = None, pretty_name: str | None = None
) -> ScaffoldReport:
    """Create a corpus repository in `directory` (created if missing; must hold no corpus.toml)."""
    directory = Path(directory)
    name = name or corpus_name(directory)
    if not _NAME.match(name):
        raise UsageError(
            f"{name!r} is not a valid corpus name",
            hint="Use lower-case letters, digits, '-' and '_' (e.g. --name my-corpus).",
        )
    pretty = pretty_name or name.replace("-", " ").replace("_", " ").title()
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is a file, not a folder", path=str(directory))
    config_path = directory / CONFIG_FILENAME
    if config_path.exists():
        raise UsageError(
            f"{config_path} already exists",
            hint="Pick an empty or new folder; `corpus init` never overwrites a corpus.",
            path=str(config_path),
        )
    created: list[str] = []
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        CONFIG_FILENAME: Template(_template("corpus.toml.tmpl")).substitute(
            name=_toml_string(name), pretty_name=_toml_string(pretty)
        ),
        "README.md": Template(_template("README.md.tmpl")).substitute(pretty_name=pretty),
        ".gitignore": _template("gitignore.tmpl"),
    }
    for rel, content in files.items():
        target = directory / rel
        if not target.exists():
            atomic_write_text(target, content)
            target.chmod(0o644)  # atomic writes go through a private temporary file (0600)
            created.append(rel)
    for folder in FOLDERS:
        keep = directory / folder / ".gitkeep"
        if not keep.exists():
            atomic_write_text(keep, "")
            created.append(f"{folder}/")
    from corpus_tools import schemas

    config = load_config(config_path)
    created.extend(p.relative_to(directory.resolve()).as_posix() for p in schemas.write(config))
    return ScaffoldReport(root=str(directory), name=name, created=tuple(created))
