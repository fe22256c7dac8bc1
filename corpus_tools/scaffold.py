"""`corpus init`: scaffold a new corpus repository from templates shipped in the package.

The result works with the installed package alone: corpus.toml (a small, complete scheme to
edit), empty `articles/` and `annotations/` folders, `schemas/` generated from the scheme, a
README stub and a .gitignore for build outputs. Existing files are never overwritten.

Given an existing Label Studio labeling config (`label_config`), the scheme is the one that
config asks (`labeling_config.scheme_from_config`), its control and object names kept in
`[scheme.names]`; the config itself is kept beside corpus.toml as
`label-config.original.xml` (not in `schemas/`, whose files are all generated).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

from corpus_tools.config import CONFIG_FILENAME, load_config, validate_config_dict
from corpus_tools.errors import DataError, UsageError
from corpus_tools.model import ScaffoldReport
from corpus_tools.store import atomic_write_text

if TYPE_CHECKING:
    from corpus_tools.labelstudio import Client

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
FOLDERS = ("articles", "annotations")
ORIGINAL_CONFIG = "label-config.original.xml"
DEFAULT_URL = "http://127.0.0.1:8080"

# What each `[scheme.names]` key names, written as a comment above it in an adopted corpus.toml.
_NAME_COMMENTS = {
    "text": "the <Text> object that shows the article",
    "text_field": "the task data key it shows ($field)",
    "entities": "the span <Labels> of the entity labels",
    "claims": "the span <Labels> holding the claim label (= entities: beside the entity labels)",
    "claim_label": "the label of a claim span",
    "checkworthy": "the per-region <Choices> of a claim's check-worthiness",
    "claimant_text": "the per-region <TextArea> naming a claim's claimant",
    "stance": "the one <Choices> asking stance; the target is in the task data",
    "stance_target_field": "the task data key naming the target (its id or name)",
    "stance_prefix": "stance <Choices> are named prefix + target id",
}


def corpus_name(directory: Path) -> str:
    """A valid corpus name derived from a folder name ("My News 2024" -> "my-news-2024")."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", directory.resolve().name.lower()).strip("-_")
    return slug if _NAME.match(slug) else "corpus"


def _template(name: str) -> str:
    return (resources.files("corpus_tools") / "templates" / name).read_text(encoding="utf-8")


def _toml_string(value: str) -> str:
    # A JSON string without ASCII escaping is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return _toml_string(value)
    return "[" + ", ".join(_toml_string(v) for v in value) + "]"


def _toml_table(header: str, table: Mapping[str, Any]) -> str:
    lines = [header] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n\n"


def scheme_toml(scheme: Mapping[str, Any]) -> str:
    """The `[scheme]` tables of corpus.toml for a scheme dict (as `scheme_from_config` makes),
    `[scheme.names]` with a comment on each name."""
    out = [
        "# Adopted from an existing Label Studio labeling config. The labels and choices are\n"
        "# that config's; definitions come from its hints (a placeholder says where it had "
        "none).\n\n"
    ]
    out += [_toml_table("[[scheme.entities]]", e) for e in scheme["entities"]]
    stance = {k: v for k, v in scheme["stance"].items() if k != "targets"}
    out.append(_toml_table("[scheme.stance]", stance))
    out += [_toml_table("[[scheme.stance.targets]]", t) for t in scheme["stance"]["targets"]]
    out.append(_toml_table("[scheme.claims]", scheme["claims"]))
    names = scheme.get("names", {})
    if names:
        lines = [
            "# The config's own control and object names (the defaults are those `corpus tasks`",
            "# generates: text, entities, claim, checkworthy, claimant_text, stance_<target>).",
            "# Validation, agreement and release read Label Studio results by these names.",
            "[scheme.names]",
        ]
        for key, value in names.items():
            lines += [f"# {_NAME_COMMENTS.get(key, key)}", f"{key} = {_toml_string(value)}"]
        out.append("\n".join(lines) + "\n\n")
    return "".join(out)


def init_corpus(
    *,
    directory: Path,
    name: str | None = None,
    pretty_name: str | None = None,
    label_config: str | None = None,
    tasks: Sequence[Mapping[str, Any]] | None = None,
    url: str | None = None,
    project_title: str | None = None,
) -> ScaffoldReport:
    """Create a corpus repository in `directory` (created if missing; must hold no corpus.toml).

    With `label_config` (a Label Studio labeling config) the scheme reproduces that config,
    names included; `tasks` (Label Studio tasks or export items) give the stance targets when
    the config asks stance with one control. `url` and `project_title` fill `[labelstudio]`.
    Nothing is written when the config cannot be adopted (UsageError naming the tag).
    """
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
    if label_config is None:
        scheme = _template("scheme.toml.tmpl")
    else:
        from corpus_tools import labeling_config

        parsed = labeling_config.parse(label_config)
        scheme = scheme_toml(labeling_config.scheme_from_config(parsed, tasks=tasks))
    toml_text = Template(_template("corpus.toml.tmpl")).substitute(
        name=_toml_string(name),
        pretty_name=_toml_string(pretty),
        project_title=_toml_string((project_title or pretty)[:50]),
        url=_toml_string(url or DEFAULT_URL),
        scheme=scheme,
    )
    _check(toml_text, config_path)
    created: list[str] = []
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        CONFIG_FILENAME: toml_text,
        "README.md": Template(_template("README.md.tmpl")).substitute(pretty_name=pretty),
        ".gitignore": _template("gitignore.tmpl"),
    }
    if label_config is not None:
        files[ORIGINAL_CONFIG] = label_config
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


def _check(toml_text: str, config_path: Path) -> None:
    """Validate the corpus.toml before anything is written (an adopted config's names may
    collide: the message names the key)."""
    import tomllib

    validate_config_dict(tomllib.loads(toml_text), str(config_path))


def read_label_config(path: Path) -> str:
    """The text of a labeling config file (UsageError when it cannot be read)."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path}: cannot read the labeling config ({exc})",
            hint="Pass the XML of the project's labeling config (Settings → Labeling Interface "
            "→ Code), saved as UTF-8.",
            path=str(path),
        ) from None


def read_tasks(path: Path) -> list[dict[str, Any]]:
    """The tasks of a Label Studio JSON export (an array) or a JSONL file of tasks, for their
    data only (the stance targets); DataError naming the file and line when unreadable."""
    try:
        raw = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the tasks ({exc})", path=str(path)) from None
    hint = "Pass a Label Studio JSON export (Export → JSON) or a JSONL file of tasks."
    items: list[Any]
    try:
        loaded = json.loads(raw)
        items = loaded if isinstance(loaded, list) else [loaded]
    except json.JSONDecodeError:
        items = []
        for n, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"{path}: line {n} is not JSON ({exc.msg})", hint=hint, path=str(path)
                ) from None
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("data", {}), dict):
            raise DataError(
                f"{path}: item {i} is not a Label Studio task (an object with `data`)",
                hint=hint,
                path=str(path),
            )
    return items


def project_sources(
    client: Client, project_id: int, *, page_size: int = 100
) -> tuple[str, str, list[dict[str, Any]]]:
    """(title, labeling config, tasks) of a live project; the tasks (their `data` only) are
    listed only when the config asks stance with one control, whose targets they name."""
    from corpus_tools import labeling_config

    project = client.project(project_id)
    xml = str(project.get("label_config") or "")
    title = str(project.get("title") or "")
    tasks: list[dict[str, Any]] = []
    if xml and labeling_config.needs_tasks(labeling_config.parse(xml)):
        for _total, page in client.iter_task_pages(
            project_id, page_size=page_size, fields=None, include="id,data"
        ):
            tasks.extend({"data": t.get("data") or {}} for t in page)
    return title, xml, tasks
