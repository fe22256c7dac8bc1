"""The annotator guidelines: one source for Label Studio's instructions and the annotator guide.

corpus.toml's scheme gives each entity label its name, definition and hotkey, each stance
target its description, and the claim and claimant definitions. What an annotator also needs
lives in corpus.toml's `[guidelines]` table (optional; every key optional):

    [guidelines.entities.examples]   PER = "Rafael Grossi"          a span marked with the label
    [guidelines.stance.definitions]  favor = "..."                  what each stance value means
    [guidelines.stance.examples.favor]  target = "...", quote = "..."  a sentence of an article
                                                                    the gold gives that value
    [guidelines.claims]              example = "..."                a claim span
    [guidelines.claims.checkworthy."check-worthy"]  definition, example   each value
    [guidelines.claims.claimant]     entity = "IAEA", typed = "people briefed on the matter"

The examples are corpus data (quotes from its own annotations), not scheme: they sit outside
`[scheme]`, so adding or changing one leaves the scheme, its hash, the generated schemas and
every release untouched. `guide(config)` reads both into a `Guide`;
`html(guide)` is what `corpus ls push` sends as the project's `expert_instruction` (shown
before labeling), `markdown(guide)` is the block of docs/guides/annotator.md between
`<!-- guidelines:scheme -->` and `<!-- /guidelines:scheme -->` (scripts/docs_guidelines.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from corpus_tools.config import CorpusConfig
from corpus_tools.errors import ConfigError

GUIDELINES_TABLE = "guidelines"
BLOCK = "guidelines:scheme"


@dataclass(frozen=True, slots=True)
class Item:
    """One value to explain: its key (label or value), name, definition, hotkey, example."""

    key: str
    name: str
    definition: str
    hotkey: str | None = None
    example: str | None = None
    note: str | None = None  # what the example is (the article's gold stance towards a target)


@dataclass(frozen=True, slots=True)
class Guide:
    """Everything the annotator is told about the scheme, in the scheme's order."""

    title: str
    entities: tuple[Item, ...]
    targets: tuple[Item, ...]
    stance_question: str
    stance_values: tuple[Item, ...]
    claim: Item
    checkworthy: tuple[Item, ...]
    claimant_relation: str
    claimant_definition: str
    claimant_entity: str | None
    claimant_typed: str | None


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key, {})
        if not isinstance(data, dict):
            return {}
    return data


def _str(data: dict[str, Any], key: str, where: str, path: Path) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ConfigError(f"{path}: guidelines.{where}.{key} must be a string", path=str(path))


def load(config: CorpusConfig) -> dict[str, Any]:
    """corpus.toml's `[guidelines]` table ({} when there is none), its names checked against
    the scheme."""
    path = config.path
    data = config.raw.get(GUIDELINES_TABLE) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: [guidelines] must be a table", path=str(path))
    scheme = config.scheme
    known = {
        "entities.examples": set(scheme.entity_labels),
        "stance.definitions": set(scheme.stance_labels),
        "stance.examples": set(scheme.stance_labels),
        "claims.checkworthy": set(scheme.checkworthy),
    }
    for where, allowed in known.items():
        extra = sorted(set(_table(data, *where.split("."))) - allowed)
        if extra:
            raise ConfigError(
                f"{path}: [guidelines.{where}] names {', '.join(map(repr, extra))}, which "
                "the scheme does not have",
                path=str(path),
                hint="Use the labels and values of corpus.toml's [scheme].",
            )
    return data


def guide(config: CorpusConfig) -> Guide:
    """corpus.toml's scheme and its `[guidelines]` together."""
    s = config.scheme
    data = load(config)
    path = config.path
    examples = _table(data, "entities", "examples")
    entities = tuple(
        Item(e.label, e.name, e.definition, e.hotkey, _str(examples, e.label, "entities", path))
        for e in s.entities
    )
    targets = tuple(Item(t.id, t.name, t.description) for t in s.stance_targets)
    names = {t.id: t.name for t in s.stance_targets}
    defs = _table(data, "stance", "definitions")
    values = []
    for label in s.stance_labels:
        ex = _table(data, "stance", "examples", label)
        target = _str(ex, "target", f"stance.examples.{label}", path)
        if target is not None and target not in names:
            raise ConfigError(
                f"{path}: [guidelines.stance.examples.{label}] target {target!r} is not a "
                "stance target of the scheme",
                path=str(path),
            )
        quote = _str(ex, "quote", f"stance.examples.{label}", path)
        note = (
            f"an article whose gold stance towards {names[target]} is {label}"
            if target and quote
            else None
        )
        values.append(
            Item(
                label, label, _str(defs, label, "stance.definitions", path) or "", None, quote, note
            )
        )
    claims = _table(data, "claims")
    claim = Item(
        s.names.claim_label,
        s.names.claim_label,
        s.claim_definition,
        None,
        _str(claims, "example", "claims", path),
    )
    worth = _table(data, "claims", "checkworthy")
    checkworthy = tuple(
        Item(
            v,
            v,
            _str(_table(worth, v), "definition", f"claims.checkworthy.{v}", path) or "",
            None,
            _str(_table(worth, v), "example", f"claims.checkworthy.{v}", path),
        )
        for v in s.checkworthy
    )
    claimant = _table(data, "claims", "claimant")
    return Guide(
        title=config.pretty_name,
        entities=entities,
        targets=targets,
        stance_question=s.stance_question,
        stance_values=tuple(values),
        claim=claim,
        checkworthy=checkworthy,
        claimant_relation=s.claimant_relation,
        claimant_definition=s.claimant_definition,
        claimant_entity=_str(claimant, "entity", "claims.claimant", path),
        claimant_typed=_str(claimant, "typed", "claims.claimant", path),
    )


# --- rendering ---------------------------------------------------------------------------------
# Both renderers say the same sentences in the same order; only the markup differs.


def _q(text: str) -> str:
    return f"\u201c{text}\u201d"


def _question(g: Guide) -> str:
    return g.stance_question.replace("{target}", "the target")


def _example(item: Item, esc: Callable[[str], str], label: str) -> str:
    """ " Example: “…” (note)." in either format (`esc` escapes text, `label` is emphasised)."""
    if not item.example:
        return ""
    after = f" ({esc(item.note)})" if item.note else ""
    return f" {label} {esc(_q(item.example))}{after}."


def _definition(item: Item, esc: Callable[[str], str]) -> str:
    return f": {esc(item.definition)}" if item.definition else ""


def html(g: Guide) -> str:
    """Label Studio's instructions (the project's `expert_instruction`)."""
    e = escape

    def example(item: Item) -> str:
        return _example(item, e, "<i>Example:</i>")

    def definition(item: Item) -> str:
        return _definition(item, e)

    ents = "".join(
        f"<li><b>{e(i.key)}</b> ({e(i.name)}"
        + (f", key <kbd>{e(i.hotkey)}</kbd>" if i.hotkey else "")
        + f"){definition(i)}{example(i)}</li>"
        for i in g.entities
    )
    targets = "".join(f"<li><b>{e(t.name)}</b>{definition(t)}</li>" for t in g.targets)
    values = "".join(
        f"<li><b>{e(v.key)}</b>{definition(v)}{example(v)}</li>" for v in g.stance_values
    )
    worth = "".join(f"<li><b>{e(v.key)}</b>{definition(v)}{example(v)}</li>" for v in g.checkworthy)
    claimant = e(g.claimant_definition)
    if g.claimant_entity:
        claimant += f" <i>Example of an entity claimant:</i> {e(_q(g.claimant_entity))}."
    if g.claimant_typed:
        claimant += f" <i>Example of a typed claimant:</i> {e(_q(g.claimant_typed))}."
    return (
        f"<h3>{e(g.title)}</h3>"
        f"<h4>Entities</h4><p>Press the label's key (or click it), then select the words.</p>"
        f"<ul>{ents}</ul>"
        f"<h4>Claims</h4><p>{e(g.claim.definition)} Mark the claim span with "
        f"<b>{e(g.claim.key)}</b>.{example(g.claim)}</p>"
        f"<p>Then choose its check-worthiness:</p><ul>{worth}</ul>"
        f"<p><b>Claimant</b> (relation <b>{e(g.claimant_relation)}</b>): {claimant}</p>"
        f"<h4>Stance</h4><p>One answer per target, to the question "
        f"{e(_q(_question(g)))}:</p><ul>{targets}</ul>"
        f"<p>The answers:</p><ul>{values}</ul>"
    )


def markdown(g: Guide) -> str:
    """The same guidance as Markdown (the annotator guide's generated block)."""

    def example(item: Item) -> str:
        return _example(item, str, "*Example:*")

    def definition(item: Item) -> str:
        return _definition(item, str)

    lines = ["### Entities", "", "Press the label's key (or click it), then select the words.", ""]
    for i in g.entities:
        key = f", key `{i.hotkey}`" if i.hotkey else ""
        lines.append(f"- **{i.key}** ({i.name}{key}){definition(i)}{example(i)}")
    lines += [
        "",
        "### Claims",
        "",
        f"{g.claim.definition} Mark the claim span with **{g.claim.key}**.{example(g.claim)}",
        "",
        "Then choose its check-worthiness:",
        "",
    ]
    lines += [f"- **{v.key}**{definition(v)}{example(v)}" for v in g.checkworthy]
    claimant = g.claimant_definition
    if g.claimant_entity:
        claimant += f" *Example of an entity claimant:* {_q(g.claimant_entity)}."
    if g.claimant_typed:
        claimant += f" *Example of a typed claimant:* {_q(g.claimant_typed)}."
    lines += ["", f"**Claimant** (relation **{g.claimant_relation}**): {claimant}", ""]
    lines += [
        "### Stance",
        "",
        f"One answer per target, to the question {_q(_question(g))}:",
        "",
    ]
    lines += [f"- **{t.name}**{definition(t)}" for t in g.targets]
    lines += ["", "The answers:", ""]
    lines += [f"- **{v.key}**{definition(v)}{example(v)}" for v in g.stance_values]
    return "\n".join(lines) + "\n"
