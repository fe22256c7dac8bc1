"""Read and validate `corpus.toml`, the single definition of a corpus.

Unknown keys are refused; every error is reported as a path such as
`[scheme -> entities -> 3 -> label]`, and the CLI exits 2 (a configuration error).
Relative paths in `[paths]` are resolved against the directory holding corpus.toml.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus_tools.constants import SAMPLE_ALLOCATIONS, SAMPLE_STRATA
from corpus_tools.errors import ConfigError

CONFIG_FILENAME = "corpus.toml"
ENV_CONFIG = "CORPUS_CONFIG"

# The default control names of the Label Studio labeling config (the one `corpus tasks`
# generates). A corpus may name them otherwise in `[scheme.names]` (an adopted project's
# config): code that reads or writes Label Studio results asks `Scheme.names`, never these.
TEXT_NAME = "text"
ENTITIES_NAME = "entities"
CLAIM_NAME = "claim"
CLAIM_LABEL = "Claim"
CHECKWORTHY_NAME = "checkworthy"
CLAIMANT_TEXT_NAME = "claimant_text"
STANCE_PREFIX = "stance_"


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


_STR = {"type": "string", "minLength": 1}
_STRS = {"type": "array", "items": _STR}
_RATIO = {"type": "number", "minimum": 0, "maximum": 1}
_ID = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
# A label as Label Studio shows it: any text without spaces at either end.
_LABEL = {"type": "string", "pattern": r"^\S(.*\S)?$"}
# `corpus sample`: what an article's stratum may be made of, and how N is shared among strata.
_NAME_KEYS = (
    "text",
    "text_field",
    "article_id_field",
    "entities",
    "claims",
    "claim_label",
    "checkworthy",
    "claimant_text",
    "stance",
    "stance_target_field",
    "stance_prefix",
)

CONFIG_SCHEMA: dict[str, Any] = _obj(
    {
        "corpus": _obj(
            {
                "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
                "pretty_name": _STR,
                "description": _STR,
                "license": _STR,
                "languages": _STRS,
                "task_categories": _STRS,
                "homepage": {"type": "string"},
            },
            ["name", "pretty_name", "license", "languages"],
        ),
        "paths": _obj(
            {
                "articles": _STR,
                "build": _STR,
                "annotations": _STR,
                "schemas": _STR,
                "dist": _STR,
                "hub": _STR,
            }
        ),
        "scheme": _obj(
            {
                "entities": {
                    "type": "array",
                    "minItems": 1,
                    "items": _obj(
                        {
                            "label": _LABEL,
                            "name": _STR,
                            "definition": _STR,
                            # Label Studio hotkeys: "p", "1", "ctrl+shift+e".
                            "hotkey": {"type": "string", "pattern": "^[A-Za-z0-9+_-]+$"},
                            # Any CSS colour Label Studio takes as a label's `background`.
                            "color": _STR,
                        },
                        ["label", "name", "definition"],
                    ),
                },
                "stance": _obj(
                    {
                        "labels": {**_STRS, "minItems": 2},
                        "question": _STR,
                        "targets": {
                            "type": "array",
                            "items": _obj(
                                {"id": _ID, "name": _STR, "description": _STR, "control": _STR},
                                ["id", "name"],
                            ),
                        },
                    },
                    ["labels"],
                ),
                "claims": _obj(
                    {
                        "definition": _STR,
                        "checkworthy": {**_STRS, "minItems": 2},
                        "claimant_relation": _STR,
                        "claimant_definition": _STR,
                    },
                    ["checkworthy"],
                ),
                "names": _obj({key: _STR for key in _NAME_KEYS}),
                "migrations": {
                    "type": "array",
                    "items": _obj(
                        {
                            "version": _STR,
                            "layer": {"enum": ["entities", "stance", "checkworthy"]},
                            "action": {"enum": ["rename", "deprecate"]},
                            "label": _STR,
                            "to": _STR,
                            "note": _STR,
                        },
                        ["version", "layer", "action", "label"],
                    ),
                },
            },
            ["entities", "stance", "claims"],
        ),
        "ingest": _obj(
            {
                "default_language": _STR,
                "boilerplate": _STRS,
                "strip_prefixes": _STRS,
                "drop_repeated_headline": {"type": "boolean"},
                "date_line": {"type": "boolean"},
                "min_chars": {"type": "integer", "minimum": 1},
                "max_record_bytes": {"type": "integer", "minimum": 1},
                "near_duplicates": _obj(
                    {
                        "method": {"enum": ["minhash"]},
                        "shingle_size": {"type": "integer", "minimum": 1},
                        "num_perm": {"type": "integer", "minimum": 16},
                        "threshold": _RATIO,
                    }
                ),
            }
        ),
        "preannotate": _obj(
            {
                "gazetteer": {
                    "type": "object",
                    "additionalProperties": _STRS,
                },
                "gazetteer_file": _STR,
                "dates": {"type": "boolean"},
                "model_version": _STR,
                "plugins": _STRS,
            }
        ),
        "labelstudio": _obj(
            {
                # Label Studio refuses project titles over 50 characters.
                "project_title": {**_STR, "maxLength": 50},
                "url": _STR,
                "adjudication_project_title": {**_STR, "maxLength": 50},
                "page_size": {"type": "integer", "minimum": 1},
                "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
                "retries": {"type": "integer", "minimum": 0, "maximum": 20},
                "backoff": {"type": "number", "minimum": 0, "maximum": 60},
                "pseudonym_key_file": _STR,
            }
        ),
        "splits": _obj(
            {
                "train": _RATIO,
                "validation": _RATIO,
                "test": _RATIO,
                "seed": _STR,
            }
        ),
        "gates": _obj(
            {
                "min_annotators": {"type": "integer", "minimum": 0},
                "min_alpha_stance": _RATIO,
                "min_f1_entities": _RATIO,
                "min_f1_claims": _RATIO,
                "max_open_disputes": {"type": "integer", "minimum": 0},
            }
        ),
        "adjudication": _obj(
            {
                "tie_rule": {"enum": ["dispute", "adjudicator", "first", "drop"]},
                "span_merge": {"enum": ["majority-exact", "majority-overlap", "union"]},
                "adjudicators": _STRS,
                "min_votes": {"type": "integer", "minimum": 1},
            }
        ),
        "release": _obj(
            {
                "size_hint": _STR,
                "annotations_creators": _STRS,
                "source_datasets": _STRS,
                "contact": _STR,
                "curators": _STR,
                "citation": _STR,
                "text_rights": _STR,
            }
        ),
        "sample": _obj(
            {
                "per_story": {"type": "integer", "minimum": 1},
                "strata": {
                    "type": "array",
                    "items": {"enum": [*SAMPLE_STRATA, "none"]},
                    "uniqueItems": True,
                },
                "allocation": {"enum": list(SAMPLE_ALLOCATIONS)},
                "seed": _STR,
            }
        ),
        # Annotator guidance beyond the scheme (corpus_tools.guidelines checks its names).
        "guidelines": {"type": "object"},
        "publish": _obj(
            {
                "target": {"enum": ["local", "hub"]},
                "repo_id": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"},
                "private": {"type": "boolean"},
            }
        ),
    },
    ["corpus", "scheme"],
)


@dataclass(frozen=True, slots=True)
class EntityLabel:
    """One entity label of the scheme; its position is its append-only class id."""

    label: str
    name: str
    definition: str
    hotkey: str | None = None
    color: str | None = None


@dataclass(frozen=True, slots=True)
class StanceTarget:
    """A target every article gets one stance answer for (or, when the labeling config asks
    stance with one control, each task whose data names it)."""

    id: str
    name: str
    description: str = ""
    control: str | None = None  # its <Choices> name, when not `stance_prefix` + id


@dataclass(frozen=True, slots=True)
class ControlNames:
    """How the labeling config names its parts; the defaults are the config `corpus tasks`
    generates, `[scheme.names]` gives an adopted project's names.

    Stance is asked with one <Choices> per target (named `stance_prefix` + target id, or the
    target's own `control`), or, when `stance` is set, with that one control for every task,
    the target being the task data's `stance_target_field` (a target's id or name). A claim
    is a region of the `claims` <Labels> with the label `claim_label`; that control may be the
    entity control itself, the claim label beside the entity labels.
    """

    text: str = TEXT_NAME  # the <Text> object's name
    text_field: str = "text"  # the task data key it shows ($text)
    article_id_field: str = "article_id"  # the task data key with the article id
    entities: str = ENTITIES_NAME
    claims: str = CLAIM_NAME
    claim_label: str = CLAIM_LABEL
    checkworthy: str = CHECKWORTHY_NAME
    claimant_text: str = CLAIMANT_TEXT_NAME
    stance: str | None = None
    stance_target_field: str = "target"
    stance_prefix: str = STANCE_PREFIX

    @property
    def claims_in_entities(self) -> bool:
        """Whether the claim label sits in the entity control, beside the entity labels."""
        return self.claims == self.entities


@dataclass(frozen=True, slots=True)
class Scheme:
    """The annotation scheme: entity labels, stance targets and labels, claim attributes."""

    entities: tuple[EntityLabel, ...]
    stance_labels: tuple[str, ...]
    stance_targets: tuple[StanceTarget, ...]
    stance_question: str
    claim_definition: str
    checkworthy: tuple[str, ...]
    claimant_relation: str
    claimant_definition: str
    migrations: tuple[dict[str, str], ...] = ()
    names: ControlNames = field(default_factory=ControlNames)

    @property
    def entity_labels(self) -> tuple[str, ...]:
        return tuple(e.label for e in self.entities)

    def stance_control(self, target_id: str) -> str:
        """The Label Studio control name that carries the stance on `target_id`."""
        if self.names.stance:
            return self.names.stance
        for t in self.stance_targets:
            if t.id == target_id and t.control:
                return t.control
        return f"{self.names.stance_prefix}{target_id}"

    @property
    def stance_controls(self) -> dict[str, str | None]:
        """Control name -> the target id it asks about (None: the one control whose target
        each task's data names)."""
        if self.names.stance:
            return {self.names.stance: None}
        return {self.stance_control(t.id): t.id for t in self.stance_targets}

    def target_id(self, value: object) -> str | None:
        """The target a task's data names (by id or by name), None when it is none of ours."""
        if not isinstance(value, str):
            return None
        for t in self.stance_targets:
            if value == t.id or value == t.name:
                return t.id
        return None

    def task_targets(self, data: Mapping[str, Any]) -> tuple[str, ...]:
        """The targets a task asks stance on: every target, or the one its data names (none
        when its data names no target of the scheme)."""
        if not self.names.stance:
            return tuple(t.id for t in self.stance_targets)
        found = self.target_id(data.get(self.names.stance_target_field))
        return (found,) if found else ()

    def stance_target(self, control: str, data: Mapping[str, Any]) -> str | None:
        """The target a stance answer from `control` is about (None: not a stance control,
        or the task's data names no target of the scheme)."""
        controls = self.stance_controls
        if control not in controls:
            return None
        target = controls[control]
        if target is None:
            return self.target_id(data.get(self.names.stance_target_field))
        return target

    def is_claim(self, control: str, label: object) -> bool:
        """Whether a labels region of `control` with `label` is a claim (not an entity)."""
        names = self.names
        if control != names.claims:
            return False
        return not names.claims_in_entities or label == names.claim_label

    def is_entity(self, control: str, label: object) -> bool:
        """Whether a labels region of `control` with `label` is an entity span."""
        names = self.names
        if control != names.entities:
            return False
        return not names.claims_in_entities or label != names.claim_label

    def stance_question_for(self, target: str) -> str:
        """The stance question about `target` as annotators read it (a `str.format` template:
        `{target}` is replaced, `{{` and `}}` are literal braces); the labeling config and the
        dataset card both show it this way."""
        return self.stance_question.format(target=target)

    def digest(self) -> str:
        """sha256 of the scheme's canonical JSON: the scheme hash in manifests."""
        payload = json.dumps(_scheme_dict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _scheme_dict(s: Scheme) -> dict[str, Any]:
    return {
        "entities": [
            {"label": e.label, "name": e.name, "definition": e.definition} for e in s.entities
        ],
        "stance": {
            "labels": list(s.stance_labels),
            "targets": [{"id": t.id, "name": t.name} for t in s.stance_targets],
        },
        "claims": {"checkworthy": list(s.checkworthy), "claimant": s.claimant_relation},
        "migrations": list(s.migrations),
    }


@dataclass(frozen=True, slots=True)
class Paths:
    """Resolved locations of the corpus's folders."""

    root: Path
    articles: Path
    build: Path
    annotations: Path
    schemas: Path
    dist: Path
    hub: Path

    @property
    def articles_parquet(self) -> Path:
        return self.build / "articles.parquet"

    @property
    def tasks_json(self) -> Path:
        return self.build / "tasks.json"


@dataclass(frozen=True, slots=True)
class NearDuplicates:
    """Story clustering settings (MinHash over word shingles)."""

    method: str = "minhash"
    shingle_size: int = 1
    num_perm: int = 128
    threshold: float = 0.14


DEFAULT_BOILERPLATE: tuple[str, ...] = (
    r"(?i)^thank you for reading this post.*subscribe",
    r"(?i)^(please )?subscribe( now)?( to)?\b",
    r"(?i)^join (our|the)?\s*.*\b(whatsapp|telegram|facebook)?\s*(group|channel|community)\b",
    r"(?i)^(also read|read more|read also|see also)\s*:",
    r"(?i)^skip to (main )?content$",
    r"(?i)^about (the )?author$",
    r"(?i)^related (news|stories|articles|posts)$",
    r"(?i)^\(written with inputs from .*\)$",
    r"(?i)^(share|share this|follow us)( on \w+)?:?$",
)

# Removed from the start of an article's first line (scraped skip links glued to the headline).
DEFAULT_STRIP_PREFIXES: tuple[str, ...] = (r"(?i)^skip to (main )?content\s*",)


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """Cleaning and clustering settings for `corpus ingest`."""

    default_language: str = "en"
    boilerplate: tuple[str, ...] = DEFAULT_BOILERPLATE
    strip_prefixes: tuple[str, ...] = DEFAULT_STRIP_PREFIXES
    drop_repeated_headline: bool = True
    date_line: bool = True
    min_chars: int = 200
    # A record (a file, a JSONL line, a CSV record) larger than this is a finding, not read.
    max_record_bytes: int = 4 * 1024 * 1024
    near_duplicates: NearDuplicates = field(default_factory=NearDuplicates)


@dataclass(frozen=True, slots=True)
class PreannotateConfig:
    """Rule-based pre-annotation: a gazetteer (inline or file) and date patterns."""

    gazetteer: dict[str, tuple[str, ...]] = field(default_factory=dict)
    gazetteer_file: Path | None = None
    dates: bool = True
    model_version: str = "gazetteer-v1"
    plugins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LabelStudioConfig:
    """Label Studio project settings (URL and key come from the environment)."""

    project_title: str
    url: str = "http://127.0.0.1:8080"
    adjudication_project_title: str = ""
    page_size: int = 100
    # HTTP: seconds per request, retries of idempotent calls, first backoff (doubles).
    timeout: float = 60.0
    retries: int = 5
    backoff: float = 0.5
    # A file holding the pseudonym key; must lie outside the corpus (and its repository).
    pseudonym_key_file: Path | None = None


@dataclass(frozen=True, slots=True)
class SplitConfig:
    """Split ratios by story cluster; `seed` makes assignment deterministic."""

    train: float = 0.8
    validation: float = 0.1
    test: float = 0.1
    seed: str = "corpus-tools"


@dataclass(frozen=True, slots=True)
class Gates:
    """Quality gates that `corpus check` enforces (None = not enforced)."""

    min_annotators: int = 1
    min_alpha_stance: float | None = None
    min_f1_entities: float | None = None
    min_f1_claims: float | None = None
    max_open_disputes: int | None = None


@dataclass(frozen=True, slots=True)
class AdjudicationConfig:
    """How several annotators' labels become one gold record."""

    tie_rule: str = "dispute"
    span_merge: str = "majority-exact"
    adjudicators: tuple[str, ...] = ()
    min_votes: int = 2


@dataclass(frozen=True, slots=True)
class ReleaseConfig:
    """Dataset card settings not covered by `[corpus]`."""

    size_hint: str | None = None
    annotations_creators: tuple[str, ...] = ("expert-generated",)
    source_datasets: tuple[str, ...] = ("original",)
    # Dataset card text (all optional; the card says plainly when one is missing).
    contact: str | None = None  # who answers questions about the dataset
    curators: str | None = None  # who curated it
    citation: str | None = None  # BibTeX; a @misc entry is generated when absent
    text_rights: str | None = None  # the copyright status of the article texts


@dataclass(frozen=True, slots=True)
class SampleConfig:
    """`corpus sample` settings: at most `per_story` articles per story, drawn across the
    `strata` (() for one stratum) with `allocation`; `seed` None means the corpus name."""

    per_story: int = 1
    strata: tuple[str, ...] = ("outlet", "month")
    allocation: str = "proportional"
    seed: str | None = None


@dataclass(frozen=True, slots=True)
class PublishConfig:
    """Where releases go: a local hub folder (default) or a Hugging Face Hub dataset repo."""

    target: str = "local"
    repo_id: str | None = None
    private: bool = False


@dataclass(frozen=True, slots=True)
class CorpusConfig:
    """The whole corpus definition, validated."""

    path: Path
    name: str
    pretty_name: str
    description: str
    license: str
    languages: tuple[str, ...]
    task_categories: tuple[str, ...]
    homepage: str | None
    paths: Paths
    scheme: Scheme
    ingest: IngestConfig
    preannotate: PreannotateConfig
    labelstudio: LabelStudioConfig
    splits: SplitConfig
    gates: Gates
    adjudication: AdjudicationConfig
    release: ReleaseConfig
    publish: PublishConfig
    sample: SampleConfig = field(default_factory=SampleConfig)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def format_path(parts: list[str | int] | Any) -> str:
    """`['scheme', 'entities', 3]` -> `[scheme -> entities -> 3]`."""
    return "[" + " -> ".join(str(p) for p in parts) + "]"


def validate_config_dict(data: dict[str, Any], source: str = CONFIG_FILENAME) -> None:
    """Raise ConfigError listing every schema violation and semantic problem, by path."""
    problems = [] if _plainly_valid(data) else _schema_problems(data)
    if not problems:
        problems.extend(_semantic_problems(data))
    if problems:
        raise ConfigError(
            f"{source} is not a valid corpus definition:\n  " + "\n  ".join(problems),
            hint="Fix the keys named above; `corpus init` writes a complete example.",
            path=source,
        )


def _schema_problems(data: dict[str, Any]) -> list[str]:
    """The reference validator's (`jsonschema`) violations of CONFIG_SCHEMA, by path."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    problems: list[str] = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            for key in extra:
                problems.append(f"{format_path([*err.path, key])} unknown key {key!r}")
        else:
            problems.append(
                f"{format_path(list(err.path)) if err.path else '[root]'} {err.message}"
            )
    return problems


# A str holding U+001C..U+001F (orjson writes them as \u001c..\u001f) or U+0085 (written as
# is): Python's `\S` refuses them and jsonschema_rs's (ECMA-262) accepts them, the one way the
# engines' patterns in CONFIG_SCHEMA differ with the fast one more lenient (every code point
# was tried; ECMA's `.` and `\S` are otherwise the stricter).
_PATTERN_DOUBT = re.compile(rb"\\u001[c-fC-F]|\xc2\x85")


def _plainly_valid(data: dict[str, Any]) -> bool:
    """True when `data` certainly has no schema violation, decided by jsonschema_rs (fast to
    import, unlike jsonschema: this spares every command ~0.05 s of CPU). Any doubt (invalid,
    a value it cannot take, a str where the engines' regexes may differ) is False, and the
    reference validator decides and words the errors, as before."""
    import orjson

    try:
        if _PATTERN_DOUBT.search(orjson.dumps(data)):
            return False
        return bool(_fast_validator().is_valid(data))
    except (TypeError, ValueError):
        return False


@functools.cache
def _fast_validator() -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for(CONFIG_SCHEMA)


def _semantic_problems(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    scheme = data["scheme"]
    seen: dict[str, int] = {}
    hotkeys: dict[str, int] = {}
    for i, ent in enumerate(scheme["entities"]):
        if ent["label"] in seen:
            problems.append(
                f"{format_path(['scheme', 'entities', i, 'label'])} duplicate label "
                f"{ent['label']!r} (first at index {seen[ent['label']]})"
            )
        seen.setdefault(ent["label"], i)
        if "hotkey" in ent:
            if ent["hotkey"] in hotkeys:
                problems.append(
                    f"{format_path(['scheme', 'entities', i, 'hotkey'])} hotkey "
                    f"{ent['hotkey']!r} already used at index {hotkeys[ent['hotkey']]}"
                )
            hotkeys.setdefault(ent["hotkey"], i)
    targets = [t["id"] for t in scheme["stance"].get("targets", [])]
    for i, t in enumerate(targets):
        if targets.index(t) != i:
            problems.append(
                f"{format_path(['scheme', 'stance', 'targets', i, 'id'])} duplicate {t!r}"
            )
    problems.extend(_name_problems(scheme, list(seen)))
    # Choice values become Label Studio <Choice> values and ClassLabel names: both need them
    # unique (a duplicate used to pass here and crash `corpus release`).
    problems.extend(_duplicates(["scheme", "stance", "labels"], scheme["stance"]["labels"]))
    problems.extend(
        _duplicates(["scheme", "claims", "checkworthy"], scheme["claims"]["checkworthy"])
    )
    if "question" in scheme["stance"]:
        problems.extend(_question_problems(scheme["stance"]["question"]))
    splits = data.get("splits", {})
    ratios = [splits.get(k) for k in ("train", "validation", "test")]
    if any(r is not None for r in ratios):
        total = sum(r or 0 for r in ratios)
        if abs(total - 1.0) > 1e-6:
            problems.append(
                f"{format_path(['splits'])} train + validation + test = {total:g}, not 1"
            )
    strata = data.get("sample", {}).get("strata", [])
    if "none" in strata and len(strata) > 1:
        problems.append(
            f'{format_path(["sample", "strata"])} "none" (one stratum) cannot be combined '
            "with other strata"
        )
    gaz = data.get("preannotate", {}).get("gazetteer", {})
    for label in gaz:
        if label not in seen:
            problems.append(
                f"{format_path(['preannotate', 'gazetteer', label])} is not an entity label "
                f"of the scheme ({', '.join(seen)})"
            )
    return problems


def _name_problems(scheme: dict[str, Any], entity_labels: list[str]) -> list[str]:
    """The control names of `[scheme.names]` and the targets' `control`s must not collide."""
    problems: list[str] = []
    names = ControlNames(**scheme.get("names", {}))
    targets = scheme["stance"].get("targets", [])
    where = ["scheme", "names"]
    if not names.stance and not targets:
        problems.append(
            f"{format_path(['scheme', 'stance', 'targets'])} no stance target: list the targets, "
            "or ask stance with one control whose target is in the task data "
            "([scheme.names] stance = ...)"
        )
    if names.stance:
        for i, t in enumerate(targets):
            if "control" in t:
                problems.append(
                    f"{format_path(['scheme', 'stance', 'targets', i, 'control'])} stance is "
                    f"asked with the one control {names.stance!r}: a target has no control "
                    "of its own"
                )
    if names.claims_in_entities and names.claim_label in entity_labels:
        problems.append(
            f"{format_path([*where, 'claim_label'])} {names.claim_label!r} is an entity label, "
            f"and claims share the entity control {names.entities!r}: name the claim label "
            "otherwise"
        )
    controls: dict[str, list[str | int]] = {}
    listed: list[tuple[str, list[str | int]]] = [(names.entities, [*where, "entities"])]
    if names.claims != names.entities:
        listed.append((names.claims, [*where, "claims"]))
    listed += [
        (names.checkworthy, [*where, "checkworthy"]),
        (names.claimant_text, [*where, "claimant_text"]),
    ]
    if names.stance:
        listed.append((names.stance, [*where, "stance"]))
    else:
        for i, t in enumerate(targets):
            control = t.get("control") or f"{names.stance_prefix}{t['id']}"
            listed.append((control, ["scheme", "stance", "targets", i, "control"]))
    for control, path in listed:
        if control == names.text:
            problems.append(
                f"{format_path(path)} {control!r} is the name of the <Text> object "
                "([scheme.names] text)"
            )
        elif control in controls:
            problems.append(
                f"{format_path(path)} control name {control!r} already names "
                f"{format_path(controls[control])}"
            )
        controls.setdefault(control, path)
    return problems


def _duplicates(path: list[str | int], values: list[str]) -> list[str]:
    first: dict[str, int] = {}
    out = []
    for i, v in enumerate(values):
        if v in first:
            out.append(
                f"{format_path([*path, i])} duplicate value {v!r} (first at index {first[v]})"
            )
        first.setdefault(v, i)
    return out


def _question_problems(question: str) -> list[str]:
    """The stance question is a `str.format` template whose only placeholder is `{target}`."""
    where = format_path(["scheme", "stance", "question"])
    try:
        fields = list(string.Formatter().parse(question))
    except ValueError as exc:
        return [f"{where} is not a valid template ({exc}); write literal braces as {{{{ and }}}}"]
    out = []
    for _, name, spec, conversion in fields:
        if name is None or (name == "target" and not spec and not conversion):
            continue
        shown = (
            "{"
            + name
            + (f"!{conversion}" if conversion else "")
            + (f":{spec}" if spec else "")
            + "}"
        )
        out.append(
            f"{where} unknown placeholder {shown}: the only placeholder is {{target}} "
            "(write literal braces as {{ and }})"
        )
    return out


def find_config(start: Path | None = None) -> Path:
    """The config to use: $CORPUS_CONFIG, else corpus.toml in `start` or a parent folder."""
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {CONFIG_FILENAME} in {here} or any parent folder",
        hint="Run the command inside a corpus repository, pass --config, or create one with "
        "`corpus init DIR`.",
    )


def load_config(path: Path | None = None) -> CorpusConfig:
    """Load and validate corpus.toml (found with `find_config` when `path` is None)."""
    cfg_path = Path(path) if path is not None else find_config()
    try:
        raw_bytes = cfg_path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{cfg_path}: no such file", path=str(cfg_path)) from None
    except OSError as exc:
        raise ConfigError(f"{cfg_path}: cannot read ({exc.strerror})", path=str(cfg_path)) from None
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{cfg_path}: not UTF-8 ({exc.reason})", path=str(cfg_path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{cfg_path}: invalid TOML: {exc}", path=str(cfg_path)) from None
    validate_config_dict(data, str(cfg_path))
    return _build(cfg_path, data)


def _build(cfg_path: Path, data: dict[str, Any]) -> CorpusConfig:
    root = cfg_path.resolve().parent
    p = data.get("paths", {})

    def rel(key: str, default: str) -> Path:
        return (root / p.get(key, default)).resolve()

    paths = Paths(
        root=root,
        articles=rel("articles", "articles"),
        build=rel("build", "build"),
        annotations=rel("annotations", "annotations"),
        schemas=rel("schemas", "schemas"),
        dist=rel("dist", "dist"),
        hub=rel("hub", "hub"),
    )
    s = data["scheme"]
    claims = s["claims"]
    scheme = Scheme(
        entities=tuple(EntityLabel(**e) for e in s["entities"]),
        stance_labels=tuple(s["stance"]["labels"]),
        stance_targets=tuple(StanceTarget(**t) for t in s["stance"].get("targets", [])),
        stance_question=s["stance"].get(
            "question", "What stance does the article take towards {target}?"
        ),
        claim_definition=claims.get(
            "definition", "A factual assertion that could be verified or refuted."
        ),
        checkworthy=tuple(claims["checkworthy"]),
        claimant_relation=claims.get("claimant_relation", "claimant"),
        claimant_definition=claims.get(
            "claimant_definition", "Who makes the claim: link an entity, or type it."
        ),
        migrations=tuple(s.get("migrations", [])),
        names=ControlNames(**s.get("names", {})),
    )
    ing = data.get("ingest", {})
    nd = NearDuplicates(**ing.get("near_duplicates", {}))
    ingest = IngestConfig(
        default_language=ing.get("default_language", "en"),
        boilerplate=tuple(ing.get("boilerplate", DEFAULT_BOILERPLATE)),
        strip_prefixes=tuple(ing.get("strip_prefixes", DEFAULT_STRIP_PREFIXES)),
        drop_repeated_headline=ing.get("drop_repeated_headline", True),
        date_line=ing.get("date_line", True),
        min_chars=ing.get("min_chars", 200),
        max_record_bytes=ing.get("max_record_bytes", 4 * 1024 * 1024),
        near_duplicates=nd,
    )
    pre = data.get("preannotate", {})
    preannotate = PreannotateConfig(
        gazetteer={k: tuple(v) for k, v in pre.get("gazetteer", {}).items()},
        gazetteer_file=(root / pre["gazetteer_file"]) if "gazetteer_file" in pre else None,
        dates=pre.get("dates", True),
        model_version=pre.get("model_version", "gazetteer-v1"),
        plugins=tuple(pre.get("plugins", [])),
    )
    ls = data.get("labelstudio", {})
    corpus = data["corpus"]
    labelstudio = LabelStudioConfig(
        project_title=ls.get("project_title", corpus["pretty_name"][:50]),
        url=ls.get("url", "http://127.0.0.1:8080"),
        adjudication_project_title=ls.get(
            "adjudication_project_title", f"{corpus['pretty_name'][:35]} (adjudication)"
        ),
        page_size=ls.get("page_size", 100),
        timeout=float(ls.get("timeout", 60.0)),
        retries=ls.get("retries", 5),
        backoff=float(ls.get("backoff", 0.5)),
        pseudonym_key_file=(
            (root / Path(ls["pseudonym_key_file"]).expanduser())
            if "pseudonym_key_file" in ls
            else None
        ),
    )
    adj = data.get("adjudication", {})
    rel_cfg = data.get("release", {})
    pub = data.get("publish", {})
    smp = data.get("sample", {})
    return CorpusConfig(
        path=cfg_path.resolve(),
        name=corpus["name"],
        pretty_name=corpus["pretty_name"],
        description=corpus.get("description", corpus["pretty_name"]),
        license=corpus["license"],
        languages=tuple(corpus["languages"]),
        task_categories=tuple(corpus.get("task_categories", ["token-classification"])),
        homepage=corpus.get("homepage"),
        paths=paths,
        scheme=scheme,
        ingest=ingest,
        preannotate=preannotate,
        labelstudio=labelstudio,
        splits=SplitConfig(**data.get("splits", {})),
        gates=Gates(**data.get("gates", {})),
        adjudication=AdjudicationConfig(
            tie_rule=adj.get("tie_rule", "dispute"),
            span_merge=adj.get("span_merge", "majority-exact"),
            adjudicators=tuple(adj.get("adjudicators", [])),
            min_votes=adj.get("min_votes", 2),
        ),
        release=ReleaseConfig(
            size_hint=rel_cfg.get("size_hint"),
            annotations_creators=tuple(rel_cfg.get("annotations_creators", ["expert-generated"])),
            source_datasets=tuple(rel_cfg.get("source_datasets", ["original"])),
            contact=rel_cfg.get("contact"),
            curators=rel_cfg.get("curators"),
            citation=rel_cfg.get("citation"),
            text_rights=rel_cfg.get("text_rights"),
        ),
        publish=PublishConfig(
            target=pub.get("target", "local"),
            repo_id=pub.get("repo_id"),
            private=pub.get("private", False),
        ),
        sample=SampleConfig(
            per_story=smp.get("per_story", 1),
            strata=tuple(x for x in smp.get("strata", ["outlet", "month"]) if x != "none"),
            allocation=smp.get("allocation", "proportional"),
            seed=smp.get("seed"),
        ),
        raw=data,
    )
