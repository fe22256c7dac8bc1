"""The Label Studio labeling config, generated from the scheme in corpus.toml.

One `<View>` with, top to bottom: a header (title, outlet, date), the entity labels and the
Claim label over the article text, the claim's per-region fields (check-worthiness, free-text
claimant) shown only while a Claim region is selected, the claimant relation, and one required
stance question per target. Control names are the contract shared with `exports` and
validation (constants in `corpus_tools.config`).

Hover hints carry the scheme's definitions, so annotators read the guidelines where they label.
The XML is deterministic (attribute order as written, two-space indent) and committed as
`schemas/labeling-config.xml`; `corpus schemas --check` reports drift.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from corpus_tools.config import (
    CHECKWORTHY_NAME,
    CLAIM_LABEL,
    CLAIM_NAME,
    CLAIMANT_TEXT_NAME,
    ENTITIES_NAME,
    TEXT_NAME,
    CorpusConfig,
)

CLAIM_COLOR = "#ffe119"
_CLAIM_HOTKEYS = "cqxzkmy"  # first one not taken by an entity label


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, attrs)


def render(config: CorpusConfig) -> str:
    """The labeling-config XML for `config.scheme` (a string ending in a newline)."""
    scheme = config.scheme
    root = ET.Element("View")
    head = _sub(root, "View", style="margin-bottom: 0.5em")
    _sub(head, "Header", value="$title", size="3")
    # Outlet and date as two headers: a missing outlet leaves no stray separator.
    _sub(head, "Header", value="$outlet", size="6")
    _sub(head, "Header", value="$published", size="6")

    ents = _sub(root, "Labels", name=ENTITIES_NAME, toName=TEXT_NAME, showInline="true")
    for e in scheme.entities:
        attrs = {"value": e.label, "hint": f"{e.name}: {e.definition}"}
        if e.hotkey:
            attrs["hotkey"] = e.hotkey
        if e.color:
            attrs["background"] = e.color
        _sub(ents, "Label", **attrs)

    taken = {e.hotkey for e in scheme.entities if e.hotkey}
    claim_attrs = {"value": CLAIM_LABEL, "hint": scheme.claim_definition}
    free = [k for k in _CLAIM_HOTKEYS if k not in taken]
    if free:
        claim_attrs["hotkey"] = free[0]
    claim_attrs["background"] = CLAIM_COLOR
    claims = _sub(root, "Labels", name=CLAIM_NAME, toName=TEXT_NAME, showInline="true")
    _sub(claims, "Label", **claim_attrs)

    _sub(root, "Text", name=TEXT_NAME, value="$text")

    rels = _sub(root, "Relations")
    _sub(rels, "Relation", value=scheme.claimant_relation, hint=scheme.claimant_definition)

    per_claim = {
        "visibleWhen": "region-selected",
        "whenTagName": CLAIM_NAME,
        "whenLabelValue": CLAIM_LABEL,
    }
    # The whole box (its heading too) shows only while a Claim region is selected.
    claim_box = _sub(root, "View", style="margin-top: 0.5em", **per_claim)
    _sub(claim_box, "Header", value="Selected claim: is it worth checking?", size="5")
    cw = _sub(
        claim_box,
        "Choices",
        name=CHECKWORTHY_NAME,
        toName=TEXT_NAME,
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
        name=CLAIMANT_TEXT_NAME,
        toName=TEXT_NAME,
        perRegion="true",
        maxSubmissions="1",
        editable="true",
        placeholder="Claimant, when it is not a named entity (e.g. people briefed on the matter)",
        **per_claim,
    )

    stance_box = _sub(root, "View", style="margin-top: 1em")
    for target in scheme.stance_targets:
        question = scheme.stance_question_for(target.name)
        _sub(stance_box, "Header", value=f"{question} ({target.description})", size="5")
        ch = _sub(
            stance_box,
            "Choices",
            name=scheme.stance_control(target.id),
            toName=TEXT_NAME,
            choice="single-radio",
            required="true",
            showInline="true",
        )
        for label in scheme.stance_labels:
            _sub(ch, "Choice", value=label)

    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="unicode") + "\n"
