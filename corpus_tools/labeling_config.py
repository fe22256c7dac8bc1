"""Label Studio labeling configs: the one parser (`parse`), the scheme an existing config asks
(`scheme_from_config`, for `corpus init --from-label-config`), and the config generated from
the scheme in corpus.toml (`render`).

The generated config is one `<View>` with, top to bottom: a header (title, outlet, date; only
in a corpus with the default control names, whose tasks `corpus tasks` makes), the entity
labels and the claim label over the article text (in a control of its own, or beside the
entity labels when `[scheme.names]` says so), the claim's per-region fields (check-worthiness,
free-text claimant) shown only while a claim region is selected, the claimant relation, and the
stance questions (one required control per target, or one control whose target the task's data
names). Control names come from `Scheme.names`, the contract shared with `exports` and
validation.

Hover hints carry the scheme's definitions, so annotators read the guidelines where they label.
The XML is deterministic (attribute order as written, two-space indent) and committed as
`schemas/labeling-config.xml`; `corpus schemas --check` reports drift.

Parsing uses the standard library's ElementTree (microseconds, no dependency); a DOCTYPE or
entity declaration is refused before parsing, as Label Studio never needs one and entity
expansion is the classic XML bomb. label-studio-sdk's `LabelInterface` is the independent
cross-check in the tests (tests/test_adopt_config.py), not a run-time dependency: its install
pulls pandas, opencv and nltk, and its import takes about a second.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from corpus_tools.config import (
    CLAIM_LABEL,
    ControlNames,
    CorpusConfig,
)
from corpus_tools.errors import UsageError

CLAIM_COLOR = "#ffe119"
_CLAIM_HOTKEYS = "cqxzkmy"  # first one not taken by an entity label

# Tags that only arrange the page (no answer, no data).
LAYOUT_TAGS = frozenset(
    {"View", "Header", "Style", "Filter", "Collapse", "Panel", "Block", "Divider", "Script"}
)
# Tags that show task data (`value="$field"`).
OBJECT_TAGS = frozenset(
    {
        "Text",
        "HyperText",
        "Paragraphs",
        "Markdown",
        "Image",
        "Audio",
        "AudioPlus",
        "Video",
        "Table",
        "TimeSeries",
        "PDF",
        "List",
    }
)
# Tags that hold a control's options.
VALUE_TAGS = frozenset({"Label", "Choice", "Relation"})

# Control tags the scheme maps or names in a refusal; with the tags above, the names Label
# Studio matches case-insensitively (`<labels>` is `<Labels>`), canonicalised by `parse`.
CONTROL_TAGS = frozenset(
    {
        "Labels",
        "Choices",
        "TextArea",
        "Relations",
        "Rating",
        "Number",
        "DateTime",
        "Taxonomy",
        "Ranker",
        "Pairwise",
        "HyperTextLabels",
        "ParagraphLabels",
        "RectangleLabels",
        "PolygonLabels",
        "KeyPointLabels",
        "BrushLabels",
        "EllipseLabels",
        "TimeSeriesLabels",
    }
)
_CANONICAL = {t.lower(): t for t in LAYOUT_TAGS | OBJECT_TAGS | VALUE_TAGS | CONTROL_TAGS}
_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_.]*)")
_HOTKEY = re.compile(r"^[A-Za-z0-9+_-]+$")
_TARGET_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_DESCRIBED = re.compile(r"^(.*\S) \(([^()]+)\)$", re.DOTALL)
_NO_DEFINITION = "(The labeling config gave no hint for {what}: write its definition here.)"


@dataclass(frozen=True, slots=True)
class ConfigValue:
    """One option of a control: a <Label>, <Choice> or <Relation>, with its attributes."""

    tag: str
    value: str
    hint: str | None = None
    hotkey: str | None = None
    background: str | None = None
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class Control:
    """A tag that records an answer (Labels, Choices, TextArea, Relations, Rating, ...).

    `visible_when`, `when_tag_name` and `when_label_value` are the control's own, else those of
    the nearest enclosing <View> that sets them (Label Studio hides the whole box). `header` is
    the value of the last <Header> between the previous control and this one: the question
    annotators read.
    """

    tag: str
    name: str | None
    to_name: tuple[str, ...]
    per_region: bool
    choice: str | None
    required: bool
    values: tuple[ConfigValue, ...]
    visible_when: str | None = None
    when_tag_name: str | None = None
    when_label_value: str | None = None
    header: str | None = None
    attrs: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The control's name, or its tag for the nameless <Relations>."""
        return self.name or f"<{self.tag}>"

    @property
    def value_names(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.values)


@dataclass(frozen=True, slots=True)
class ConfigObject:
    """A tag that shows task data: <Text name="text" value="$text"/>, <Image .../>, ..."""

    tag: str
    name: str
    value: str

    @property
    def data_field(self) -> str | None:
        """The task data key the object shows (`$text` -> "text"), None for a literal value."""
        m = _VAR.fullmatch(self.value)
        return m.group(1) if m else None


@dataclass(frozen=True, slots=True)
class LabelConfig:
    """A labeling config as parsed: its controls and objects in document order, and the
    values of its <Header>s."""

    controls: tuple[Control, ...]
    objects: tuple[ConfigObject, ...]
    headers: tuple[str, ...]

    def control(self, name: str) -> Control | None:
        return next((c for c in self.controls if c.name == name), None)

    def structure(self) -> dict[str, Any]:
        """What the config asks, normalised for comparison: per control (by name) its tag,
        targets, per-region flag and option values (as a sorted list: their order is
        presentation), and the objects with the data they show."""
        return {
            "controls": {
                c.key: {
                    "tag": c.tag,
                    "toName": list(c.to_name),
                    "perRegion": c.per_region,
                    "values": sorted(c.value_names),
                }
                for c in self.controls
            },
            "objects": {o.name: {"tag": o.tag, "value": o.value} for o in self.objects},
        }


def _refuse_declarations(xml: str) -> None:
    # Label Studio configs never need a DOCTYPE; entity declarations are how XML bombs and
    # external-entity reads get in. ElementTree would expand internal entities, so refuse first.
    head = xml.upper()
    for marker in ("<!DOCTYPE", "<!ENTITY"):
        if marker in head:
            raise UsageError(
                f"the labeling config contains {marker}: declarations are not accepted",
                hint="Remove the DOCTYPE/ENTITY declarations; Label Studio does not use them.",
            )


def parse(xml: str) -> LabelConfig:
    """Parse a Label Studio labeling config; UsageError when it is not XML or declares
    entities. Every tag with a `toName` (or a <Relations>) is a control, every tag with a name
    and a `value` that is not a control is an object, the rest is layout."""
    _refuse_declarations(xml)
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise UsageError(
            f"the labeling config is not well-formed XML ({exc})",
            hint="Check it in Label Studio's labeling interface editor, or with an XML linter.",
        ) from None
    controls: list[Control] = []
    objects: list[ConfigObject] = []
    headers: list[str] = []
    header: list[str | None] = [None]

    def walk(el: ET.Element, inherited: dict[str, str]) -> None:
        tag = el.tag
        own = {k: v for k, v in el.attrib.items() if k in _VISIBILITY}
        visibility = {**inherited, **own} if own else inherited
        if tag == "Header":
            text = el.get("value")
            if text is None:
                text = (el.text or "").strip() or None
            if text:
                headers.append(text)
            header[0] = text
        elif el.get("toName") is not None or tag == "Relations":
            controls.append(_control(el, visibility, header[0]))
            header[0] = None  # a header is the question of the next control only
            return  # options only below a control
        elif el.get("name") is not None and (tag in OBJECT_TAGS or el.get("value") is not None):
            objects.append(
                ConfigObject(tag=tag, name=el.get("name", ""), value=el.get("value", ""))
            )
        for child in el:
            walk(child, visibility)

    for el in root.iter():
        el.tag = _CANONICAL.get(el.tag.lower(), el.tag)
    walk(root, {})
    return LabelConfig(controls=tuple(controls), objects=tuple(objects), headers=tuple(headers))


_VISIBILITY = ("visibleWhen", "whenTagName", "whenLabelValue")


def _control(el: ET.Element, visibility: dict[str, str], header: str | None) -> Control:
    values = tuple(
        ConfigValue(
            tag=v.tag,
            value=v.get("value", ""),
            hint=v.get("hint"),
            hotkey=v.get("hotkey"),
            background=v.get("background"),
            alias=v.get("alias"),
        )
        for v in el.iter()
        if v is not el and v.tag in VALUE_TAGS
    )
    to_name = tuple(n for n in (el.get("toName") or "").split(",") if n)
    return Control(
        tag=el.tag,
        name=el.get("name"),
        to_name=to_name,
        per_region=(el.get("perRegion") or "").lower() == "true",
        choice=el.get("choice"),
        required=(el.get("required") or "").lower() == "true",
        values=values,
        visible_when=visibility.get("visibleWhen"),
        when_tag_name=visibility.get("whenTagName"),
        when_label_value=visibility.get("whenLabelValue"),
        header=header,
        attrs=dict(el.attrib),
    )


# --- adopting a config ---------------------------------------------------------------------------


def _cannot(what: str, why: str) -> UsageError:
    return UsageError(
        f"the labeling config's {what} cannot be expressed in a corpus scheme: {why}",
        hint="Adopt a config with one <Text>, span <Labels> with a claim label, per-region "
        "check-worthiness <Choices> and claimant <TextArea>, one <Relations>, and stance "
        "<Choices>; remove or rework the tag named above (a copy of the project works).",
    )


def _missing(what: str) -> UsageError:
    return UsageError(
        f"the labeling config has no {what}",
        hint="A corpus scheme has entities, claims (with check-worthiness, a claimant text and "
        "a claimant relation) and stance; adopting a config without one of these layers is "
        "not supported yet (optional layers are out of scope for now). Add the missing "
        "control to a copy of the config and adopt that.",
    )


def _tag(c: Control) -> str:
    return f'<{c.tag} name="{c.name}">' if c.name else f"<{c.tag}>"


def target_id(value: str) -> str:
    """A stance target id from a name or value ("United States" -> "united_states")."""
    ascii_ = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_.lower()).strip("_")
    if not slug:
        return "target"
    return slug if slug[0].isalpha() else f"t_{slug}"


def _unique(ids: Iterable[str]) -> list[str]:
    out: list[str] = []
    for i in ids:
        candidate, n = i, 2
        while candidate in out:
            candidate, n = f"{i}_{n}", n + 1
        out.append(candidate)
    return out


def _split_hint(hint: str | None, label: str) -> tuple[str, str]:
    """(name, definition) from a hint: "Person: A named person." as `render` writes it, else
    the label as name and the whole hint as definition."""
    if not hint or not hint.strip():
        return label, _NO_DEFINITION.format(what=f"the label {label!r}")
    head, sep, rest = hint.partition(": ")
    if sep and rest.strip() and len(head) <= 40 and not re.search(r"[.!?;]", head):
        return head.strip(), rest.strip()
    return label, hint.strip()


def _brace(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _common_affixes(texts: list[str]) -> tuple[str, str]:
    """The longest common prefix and suffix of `texts` that leave each a non-empty middle."""
    shortest = min(len(t) for t in texts)
    p = 0
    while p < shortest and len({t[p] for t in texts}) == 1:
        p += 1
    s = 0
    while s < shortest - p and len({t[len(t) - 1 - s] for t in texts}) == 1:
        s += 1
    prefix, suffix = texts[0][:p], texts[0][len(texts[0]) - s :] if s else ""
    # Cut back to word boundaries, so "Iran" and "Israel" do not share "I".
    while prefix and (prefix[-1].isalnum() or prefix[-1] == "_"):
        prefix = prefix[:-1]
    while suffix and (suffix[0].isalnum() or suffix[0] == "_"):
        suffix = suffix[1:]
    return prefix, suffix


def _name_prefix(names: list[str]) -> str:
    """The common prefix of control names up to its last '_' or '-' ("stance_"), or ""."""
    if len(names) < 2:
        return ""
    p = 0
    shortest = min(len(n) for n in names)
    while p < shortest and len({n[p] for n in names}) == 1:
        p += 1
    prefix = names[0][:p]
    cut = max(prefix.rfind("_"), prefix.rfind("-"))
    prefix = prefix[: cut + 1] if cut >= 0 else ""
    if all(_TARGET_ID.match(n[len(prefix) :]) for n in names):
        return prefix
    return ""


def needs_tasks(parsed: LabelConfig) -> bool:
    """Whether adopting `parsed` takes its targets from the tasks (one stance control)."""
    stance = [c for c in parsed.controls if c.tag == "Choices" and not c.per_region]
    return len(stance) == 1


def scheme_from_config(
    parsed: LabelConfig, *, tasks: Iterable[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The `[scheme]` table (entities, stance, claims, names) of a corpus.toml whose generated
    labeling config asks what `parsed` asks, with the same control and object names.

    With one per-document stance <Choices>, the targets are the distinct values of the tasks'
    `data[stance_target_field]` (`tasks`: Label Studio tasks or export items; none given: no
    targets, every task's target then shows as unknown until they are listed). UsageError
    naming the tag for what the scheme cannot express, or naming the layer that is missing.
    """
    text_obj = _text_object(parsed)
    names: dict[str, str] = {}
    if text_obj.name != "text":
        names["text"] = text_obj.name
    field_ = text_obj.data_field or ""
    if field_ != "text":
        names["text_field"] = field_
    by_tag: dict[str, list[Control]] = {}
    for c in parsed.controls:
        if c.tag != "Relations":
            if not c.name:
                raise _cannot(f"<{c.tag}>", "it has no name")
            if c.to_name != (text_obj.name,):
                raise _cannot(
                    _tag(c),
                    f"it labels {','.join(c.to_name) or 'nothing'!r}, not the text "
                    f"{text_obj.name!r}",
                )
        if c.tag not in ("Labels", "Choices", "TextArea", "Relations"):
            raise _cannot(_tag(c), f"a corpus scheme has no <{c.tag}> layer")
        by_tag.setdefault(c.tag, []).append(c)
    choices = by_tag.get("Choices", [])
    per_region = [c for c in choices if c.per_region]
    texts = by_tag.get("TextArea", [])
    for t in texts:
        if not t.per_region:
            raise _cannot(_tag(t), "a per-document <TextArea> (only a claim's claimant is text)")
    claims_ctrl, claim_label, entities_ctrl = _claims_and_entities(
        by_tag.get("Labels", []), [*per_region, *texts]
    )
    if entities_ctrl.name != "entities":
        names["entities"] = str(entities_ctrl.name)
    if claims_ctrl.name != "claim":
        names["claims"] = str(claims_ctrl.name)
    if claim_label.value != CLAIM_LABEL:
        names["claim_label"] = claim_label.value
    entities = _entities(entities_ctrl, claim_label)

    claims: dict[str, Any] = {}
    if claim_label.hint:
        claims["definition"] = claim_label.hint
    checkworthy = _one(per_region, "per-region <Choices> (check-worthiness of a claim)")
    _per_claim(checkworthy, claims_ctrl, claim_label, entities_ctrl)
    if checkworthy.choice == "multiple":
        raise _cannot(_tag(checkworthy), 'choice="multiple" (a claim has one check-worthiness)')
    if len(set(checkworthy.value_names)) < 2:
        raise _cannot(_tag(checkworthy), "fewer than two distinct choices")
    claims["checkworthy"] = list(checkworthy.value_names)
    if checkworthy.name != "checkworthy":
        names["checkworthy"] = str(checkworthy.name)
    claimant = _one(texts, "per-region <TextArea> (a claim's claimant as text)")
    _per_claim(claimant, claims_ctrl, claim_label, entities_ctrl)
    if claimant.name != "claimant_text":
        names["claimant_text"] = str(claimant.name)
    relations = _one(by_tag.get("Relations", []), "<Relations> (a claim's claimant relation)")
    if len(relations.values) != 1:
        raise _cannot(
            "<Relations>",
            f"it has {len(relations.values)} <Relation> values; a scheme has one (the claimant)",
        )
    rel = relations.values[0]
    claims["claimant_relation"] = rel.value
    if rel.hint:
        claims["claimant_definition"] = rel.hint

    stance, stance_names = _stance([c for c in choices if not c.per_region], tasks)
    names.update(stance_names)
    scheme: dict[str, Any] = {"entities": entities, "stance": stance, "claims": claims}
    if names:
        scheme["names"] = names
    return scheme


def _text_object(parsed: LabelConfig) -> ConfigObject:
    texts = [o for o in parsed.objects if o.tag == "Text"]
    for o in parsed.objects:
        if o.tag != "Text":
            raise _cannot(
                f'<{o.tag} name="{o.name}">', "a corpus annotates one article text (<Text>)"
            )
    if not texts:
        raise _missing('<Text name="..." value="$field"> (the article text)')
    if len(texts) > 1:
        raise _cannot(f'<Text name="{texts[1].name}">', "a second <Text>; a corpus has one text")
    obj = texts[0]
    if obj.data_field is None:
        raise _cannot(f'<Text name="{obj.name}">', f"its value {obj.value!r} is not a $field")
    return obj


def _one(controls: list[Control], what: str) -> Control:
    if not controls:
        raise _missing(what)
    if len(controls) > 1:
        raise _cannot(_tag(controls[1]), f"a second {what}; a scheme has one")
    return controls[0]


def _claims_and_entities(
    labels: list[Control], per_region: list[Control]
) -> tuple[Control, ConfigValue, Control]:
    """(claims control, claim label, entities control): the claim label is what the
    per-region controls show for, else the label that reads "claim"."""
    if not labels:
        raise _missing("span <Labels> (entities and claims)")
    if len(labels) > 2:
        raise _cannot(_tag(labels[2]), "a third span <Labels>; a scheme has entities and claims")
    for c in labels:
        if c.per_region:
            raise _cannot(_tag(c), "per-region <Labels>")
    shown_for = {c.when_label_value for c in per_region if c.when_label_value}
    if len(shown_for) > 1:
        # Name the control that is not shown for the label that reads "claim".
        claimish = [v for v in shown_for if v.casefold() == "claim"]
        odd = [c for c in per_region if c.when_label_value not in (None, *claimish[:1])]
        raise _cannot(
            _tag(odd[0]),
            f"per-region controls shown for different labels ({', '.join(sorted(shown_for))})",
        )
    wanted = next(iter(shown_for), None)
    if wanted is None:
        # Shown for every region of one <Labels> that has a single label: that is the claim.
        shown_in = {c.when_tag_name for c in per_region if c.when_tag_name}
        single = [c for c in labels if c.name in shown_in and len(c.values) == 1]
        if len(shown_in) == 1 and single:
            wanted = single[0].values[0].value
    found: list[tuple[Control, ConfigValue]] = []
    for c in labels:
        for v in c.values:
            if (v.value == wanted) if wanted else (v.value.casefold() == "claim"):
                found.append((c, v))
    if not found:
        if wanted:
            raise _cannot(
                _tag(per_region[0]),
                f"it is shown for the label {wanted!r}, which no span <Labels> has",
            )
        raise _missing(
            'claim label (a <Label value="Claim">, or one the per-region '
            "controls are shown for with whenLabelValue)"
        )
    if len(found) > 1:
        raise _cannot(_tag(found[1][0]), f"a second label {found[1][1].value!r}")
    claims_ctrl, claim_label = found[0]
    if wanted:
        named = [v.value for c in labels for v in c.values if v.value.casefold() == "claim"]
        if named and named[0] != wanted:
            raise _cannot(
                _tag(per_region[0]),
                f"it is shown for {wanted!r} spans, not for the claim label {named[0]!r} "
                "(per-region answers on entity spans)",
            )
    others = [c for c in labels if c is not claims_ctrl]
    if others:
        if len(claims_ctrl.values) > 1:
            raise _cannot(
                _tag(others[0]),
                "a second span <Labels> without the claim label, while the claim label sits "
                f"beside the entity labels in {_tag(claims_ctrl)}",
            )
        entities_ctrl = others[0]
    else:
        if len(claims_ctrl.values) < 2:
            raise _missing("entity labels (a span <Labels> besides the claim label)")
        entities_ctrl = claims_ctrl
    return claims_ctrl, claim_label, entities_ctrl


def _per_claim(
    c: Control, claims_ctrl: Control, claim_label: ConfigValue, entities_ctrl: Control
) -> None:
    """A per-region control must be shown for claim regions only (by label, or by the claim
    control when it is not the entity control)."""
    if c.when_tag_name and c.when_tag_name != claims_ctrl.name:
        raise _cannot(_tag(c), f"it is shown for regions of {c.when_tag_name!r}, not of claims")
    by_label = c.when_label_value == claim_label.value
    by_control = c.when_tag_name == claims_ctrl.name and claims_ctrl is not entities_ctrl
    if not (c.visible_when == "region-selected" and (by_label or by_control)):
        raise _cannot(
            _tag(c),
            "it is per-region but not limited to claim regions, so it would ask about entity "
            f'spans too (add visibleWhen="region-selected" whenLabelValue="{claim_label.value}")',
        )


def _entities(ctrl: Control, claim_label: ConfigValue) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for v in ctrl.values:
        if v is claim_label:
            continue
        if v.tag != "Label":
            raise _cannot(_tag(ctrl), f"it holds a <{v.tag}>")
        if v.alias:
            raise _cannot(f'<Label value="{v.value}">', "an alias (results would carry the alias)")
        name, definition = _split_hint(v.hint, v.value)
        ent = {"label": v.value, "name": name, "definition": definition}
        if v.hotkey:
            if not _HOTKEY.match(v.hotkey):
                raise _cannot(f'<Label value="{v.value}">', f"hotkey {v.hotkey!r}")
            ent["hotkey"] = v.hotkey
        if v.background:
            ent["color"] = v.background
        out.append(ent)
    return out


def _stance(
    stance: list[Control], tasks: Iterable[Mapping[str, Any]] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The `[scheme.stance]` table and the names it needs, from the per-document <Choices>."""
    if not stance:
        raise _missing("per-document <Choices> (stance)")
    labels = stance[0].value_names
    for c in stance:
        if c.choice == "multiple":
            raise _cannot(_tag(c), 'choice="multiple" (a stance is one answer)')
        if c.value_names != labels:
            raise _cannot(
                _tag(c),
                f"its choices differ from those of {_tag(stance[0])}; all stance "
                "questions share one set of labels",
            )
    if len(set(labels)) < 2:
        raise _cannot(_tag(stance[0]), "fewer than two distinct stance choices")
    names: dict[str, str] = {}
    table: dict[str, Any] = {"labels": list(labels)}
    if len(stance) == 1:
        (c,) = stance
        names["stance"] = str(c.name)
        header = c.header or ""
        fields = _VAR.findall(header)
        field_ = fields[0] if len(fields) == 1 else "target"
        if field_ != "target":
            names["stance_target_field"] = field_
        if len(fields) == 1:
            table["question"] = _VAR.sub("{target}", _brace(header), count=1)
        values: dict[str, None] = {}
        for task in tasks or ():
            data = task.get("data") if isinstance(task.get("data"), Mapping) else task
            value = data.get(field_) if isinstance(data, Mapping) else None
            if isinstance(value, str) and value.strip():
                values.setdefault(value)
        ids = _unique(target_id(v) for v in values)
        table["targets"] = [{"id": i, "name": v} for i, v in zip(ids, values, strict=True)]
        return table, names
    control_names = [str(c.name) for c in stance]
    prefix = _name_prefix(control_names)
    if prefix and prefix != "stance_":
        names["stance_prefix"] = prefix
    ids = _unique(n[len(prefix) :] if prefix else target_id(n) for n in control_names)
    headers = [c.header for c in stance]
    # Without headers to name them, targets are named by their ids: a humanised "Eu view" and
    # "Nato view" would read back as "Eu" and "Nato" from the generated questions.
    target_names = list(ids)
    descriptions = [""] * len(stance)
    if all(headers) and len(set(headers)) == len(headers):
        texts = [str(h) for h in headers]
        described = [_DESCRIBED.match(t) for t in texts]
        if all(described):
            # "Question about Iran? (The Iranian government.)", as `render` writes it.
            texts = [m.group(1) for m in described if m]
            descriptions = [m.group(2) for m in described if m]
        pre, suf = _common_affixes(texts)
        middles = [t[len(pre) : len(t) - len(suf)].strip() for t in texts]
        if all(middles):
            target_names = middles
            table["question"] = f"{_brace(pre)}{{target}}{_brace(suf)}"
    targets = []
    for name, tid, control, description in zip(
        target_names, ids, control_names, descriptions, strict=True
    ):
        t = {"id": tid, "name": name}
        if description:
            t["description"] = description
        if control != f"{prefix or 'stance_'}{tid}":
            t["control"] = control
        targets.append(t)
    table["targets"] = targets
    return table, names


# --- rendering the scheme -----------------------------------------------------------------------


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, attrs)


def render(config: CorpusConfig) -> str:
    """The labeling-config XML for `config.scheme` in its control names (a string ending in a
    newline)."""
    scheme = config.scheme
    names = scheme.names
    root = ET.Element("View")
    if names == ControlNames():
        # The article's header, from the task data `corpus tasks` writes; an adopted
        # project's tasks need not carry these fields.
        head = _sub(root, "View", style="margin-bottom: 0.5em")
        _sub(head, "Header", value="$title", size="3")
        # Outlet and date as two headers: a missing outlet leaves no stray separator.
        _sub(head, "Header", value="$outlet", size="6")
        _sub(head, "Header", value="$published", size="6")

    ents = _sub(root, "Labels", name=names.entities, toName=names.text, showInline="true")
    for e in scheme.entities:
        attrs = {"value": e.label, "hint": f"{e.name}: {e.definition}"}
        if e.hotkey:
            attrs["hotkey"] = e.hotkey
        if e.color:
            attrs["background"] = e.color
        _sub(ents, "Label", **attrs)

    taken = {e.hotkey for e in scheme.entities if e.hotkey}
    claim_attrs = {"value": names.claim_label, "hint": scheme.claim_definition}
    free = [k for k in _CLAIM_HOTKEYS if k not in taken]
    if free:
        claim_attrs["hotkey"] = free[0]
    claim_attrs["background"] = CLAIM_COLOR
    if names.claims_in_entities:
        claims = ents
    else:
        claims = _sub(root, "Labels", name=names.claims, toName=names.text, showInline="true")
    _sub(claims, "Label", **claim_attrs)

    _sub(root, "Text", name=names.text, value=f"${names.text_field}")

    rels = _sub(root, "Relations")
    _sub(rels, "Relation", value=scheme.claimant_relation, hint=scheme.claimant_definition)

    per_claim = {
        "visibleWhen": "region-selected",
        "whenTagName": names.claims,
        "whenLabelValue": names.claim_label,
    }
    # The whole box (its heading too) shows only while a claim region is selected.
    claim_box = _sub(root, "View", style="margin-top: 0.5em", **per_claim)
    _sub(claim_box, "Header", value="Selected claim: is it worth checking?", size="5")
    cw = _sub(
        claim_box,
        "Choices",
        name=names.checkworthy,
        toName=names.text,
        perRegion="true",
        required="true",
        choice="single-radio",
        showInline="true",
        **per_claim,
    )
    for value in scheme.checkworthy:
        _sub(cw, "Choice", value=value)
    _sub(
        claim_box,
        "TextArea",
        name=names.claimant_text,
        toName=names.text,
        perRegion="true",
        maxSubmissions="1",
        editable="true",
        placeholder="Claimant, when it is not a named entity (e.g. people briefed on the matter)",
        **per_claim,
    )

    stance_box = _sub(root, "View", style="margin-top: 1em")
    if names.stance:
        # One question; Label Studio fills in the target from the task's data.
        question = scheme.stance_question_for(f"${names.stance_target_field}")
        asked = [(question, names.stance)]
    else:
        asked = []
        for target in scheme.stance_targets:
            question = scheme.stance_question_for(target.name)
            if target.description:
                question = f"{question} ({target.description})"
            asked.append((question, scheme.stance_control(target.id)))
    for question, control in asked:
        _sub(stance_box, "Header", value=question, size="5")
        ch = _sub(
            stance_box,
            "Choices",
            name=control,
            toName=names.text,
            choice="single-radio",
            required="true",
            showInline="true",
        )
        for label in scheme.stance_labels:
            _sub(ch, "Choice", value=label)

    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode") + "\n"
