"""The labeling config generated from the scheme: structure, golden file, drift check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import REPO, CliRun

from corpus_tools import labeling_config
from corpus_tools.config import load_config


def _root() -> ET.Element:
    return ET.fromstring(labeling_config.render(load_config(REPO / "corpus.toml")))


def test_committed_config_is_what_the_scheme_generates() -> None:
    # Golden file; regenerate with `corpus schemas`.
    committed = (REPO / "schemas" / "labeling-config.xml").read_text(encoding="utf-8")
    assert committed == labeling_config.render(load_config(REPO / "corpus.toml"))


def test_every_scheme_label_is_a_control_value() -> None:
    cfg = load_config(REPO / "corpus.toml")
    root = _root()
    ents = root.find(".//Labels[@name='entities']")
    assert ents is not None and ents.get("toName") == "text"
    got = [(lab.get("value"), lab.get("hotkey"), lab.get("background")) for lab in ents]
    assert got == [(e.label, e.hotkey, e.color) for e in cfg.scheme.entities]
    for lab, e in zip(ents, cfg.scheme.entities, strict=True):
        assert e.definition in (lab.get("hint") or "")
    claim = root.find(".//Labels[@name='claim']/Label")
    assert claim is not None and claim.get("value") == "Claim"
    hotkeys = [el.get("hotkey") for el in root.iter("Label") if el.get("hotkey")]
    assert len(hotkeys) == len(set(hotkeys))


def test_claim_fields_are_per_region_and_only_for_claims() -> None:
    root = _root()
    cw = root.find(".//Choices[@name='checkworthy']")
    assert cw is not None
    assert (cw.get("perRegion"), cw.get("required")) == ("true", "true")
    assert (cw.get("visibleWhen"), cw.get("whenTagName"), cw.get("whenLabelValue")) == (
        "region-selected",
        "claim",
        "Claim",
    )
    assert [c.get("value") for c in cw] == ["check-worthy", "not check-worthy"]
    ta = root.find(".//TextArea[@name='claimant_text']")
    assert ta is not None and ta.get("perRegion") == "true"
    rel = root.find(".//Relations/Relation")
    assert rel is not None and rel.get("value") == "claimant"


def test_one_required_stance_question_per_target() -> None:
    cfg = load_config(REPO / "corpus.toml")
    root = _root()
    stances = [c for c in root.iter("Choices") if (c.get("name") or "").startswith("stance_")]
    assert [c.get("name") for c in stances] == [f"stance_{t.id}" for t in cfg.scheme.stance_targets]
    for c in stances:
        assert (c.get("required"), c.get("choice")) == ("true", "single-radio")
        assert [x.get("value") for x in c] == list(cfg.scheme.stance_labels)
    headers = [h.get("value") or "" for h in root.iter("Header")]
    assert {"$title", "$outlet", "$published"} <= set(headers)
    for t in cfg.scheme.stance_targets:
        assert any(t.name in h for h in headers)


def test_added_label_appears_and_check_reports_drift(
    tmp_path: Path, cli: CliRun, sample_corpus: Path
) -> None:
    toml = sample_corpus / "corpus.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(
        text.replace(
            "[scheme.stance]",
            '[[scheme.entities]]\nlabel = "LAW"\nname = "Law"\n'
            'definition = "A named law or treaty & its <articles>."\nhotkey = "x"\n\n'
            "[scheme.stance]",
        ),
        encoding="utf-8",
    )
    xml = labeling_config.render(load_config(toml))
    assert '<Label value="LAW" hint="Law: A named law or treaty &amp; its &lt;articles&gt;."' in xml
    res = cli("schemas", "--check", cwd=sample_corpus)
    assert res.exit_code == 1 and "labeling-config.xml: changed" in res.stdout
    assert cli("schemas", cwd=sample_corpus).exit_code == 0
    assert (sample_corpus / "schemas/labeling-config.xml").read_text(encoding="utf-8") == xml


def _with_names(sample_corpus: Path, names: str, targets: str | None = None) -> str:
    toml = sample_corpus / "corpus.toml"
    text = toml.read_text(encoding="utf-8")
    if targets is not None:
        head, _, rest = text.partition("[[scheme.stance.targets]]")
        text = head + targets + "\n[scheme.claims]" + rest.partition("[scheme.claims]")[2]
    text = text.replace("[ingest]\n", names + "\n[ingest]\n", 1)
    toml.write_text(text, encoding="utf-8")
    return labeling_config.render(load_config(toml))


def test_render_in_adopted_names_one_stance_control(sample_corpus: Path) -> None:
    xml = _with_names(
        sample_corpus,
        '[scheme.names]\ntext = "body"\ntext_field = "content"\nentities = "ner"\n'
        'claims = "ner"\nclaim_label = "Assertion"\nstance = "stance"\n'
        'stance_target_field = "about"\n',
        targets="",
    )
    root = ET.fromstring(xml)
    # No $title/$outlet/$published header: an adopted project's tasks need not carry them.
    assert [h.get("value") for h in root.iter("Header")] == [
        "Selected claim: is it worth checking?",
        "Taken as a whole, how does the article present $about?",
    ]
    (text,) = root.iter("Text")
    assert (text.get("name"), text.get("value")) == ("body", "$content")
    (labels,) = root.iter("Labels")  # the claim label beside the entity labels
    assert labels.get("name") == "ner" and labels.get("toName") == "body"
    assert [lab.get("value") for lab in labels][-1] == "Assertion"
    cw = root.find(".//Choices[@name='checkworthy']")
    assert cw is not None
    assert (cw.get("whenTagName"), cw.get("whenLabelValue"), cw.get("toName")) == (
        "ner",
        "Assertion",
        "body",
    )
    stance = [c for c in root.iter("Choices") if c.get("perRegion") != "true"]
    assert [c.get("name") for c in stance] == ["stance"]


def test_render_targets_own_controls_and_no_empty_description(sample_corpus: Path) -> None:
    xml = _with_names(
        sample_corpus,
        "",
        targets='[[scheme.stance.targets]]\nid = "eu"\nname = "The EU"\ncontrol = "eu-view"\n\n'
        '[[scheme.stance.targets]]\nid = "nato"\nname = "NATO"\ndescription = "The alliance."\n',
    )
    root = ET.fromstring(xml)
    stance = [c.get("name") for c in root.iter("Choices") if c.get("perRegion") != "true"]
    assert stance == ["eu-view", "stance_nato"]
    headers = [h.get("value") for h in root.iter("Header")][-2:]
    assert headers == [
        "Taken as a whole, how does the article present The EU?",
        "Taken as a whole, how does the article present NATO? (The alliance.)",
    ]
