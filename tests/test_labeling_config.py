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
