"""Adopting an existing Label Studio labeling config: `corpus init --from-label-config` and
`--from-project`. The corpus's generated config asks the same questions with the same names
(compared through `parse`, and through label-studio-sdk's LabelInterface as an independent
parser), the real server accepts it, and what a scheme cannot express is refused by tag."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, CliRun
from ls_server import LabelStudioFixture

from corpus_tools import labeling_config as lc
from corpus_tools import labelstudio as lib
from corpus_tools.config import ControlNames, load_config
from corpus_tools.errors import DataError, UsageError
from corpus_tools.scaffold import ORIGINAL_CONFIG, init_corpus, read_tasks

CONFIGS = REPO / "tests" / "data" / "label-configs"
SAMPLE = REPO / "schemas" / "labeling-config.xml"
ISSUE = CONFIGS / "issue.xml"
ADOPTED = {
    "sample": SAMPLE,
    "issue": ISSUE,
    "own-claim": CONFIGS / "own-claim.xml",
    "unprefixed": CONFIGS / "unprefixed.xml",
}
# The tasks of the issue's project name their target in data.target (the one `stance` control).
ISSUE_TASKS = [
    {"id": 1, "data": {"text": "Brussels 😀 said…", "target": "European Union"}},
    {"id": 2, "data": {"text": "NATO met.", "target": "NATO"}},
    {"id": 3, "data": {"text": "Again 𝔸.", "target": "European Union"}},
    {"id": 4, "data": {"text": "No target here."}},
]
LS_PYTHON = REPO / ".venv-ls" / "bin" / "python"


def _adopt(tmp_path: Path, xml_path: Path, tasks: list[dict[str, Any]] | None = None) -> Path:
    root = tmp_path / xml_path.stem
    init_corpus(directory=root, label_config=xml_path.read_text(encoding="utf-8"), tasks=tasks)
    return root


def _rendered(root: Path) -> str:
    return lc.render(load_config(root / "corpus.toml"))


def test_the_samples_own_config_adopts_to_the_samples_scheme(tmp_path: Path) -> None:
    root = _adopt(tmp_path, SAMPLE)
    adopted = load_config(root / "corpus.toml").scheme
    sample = load_config(REPO / "corpus.toml").scheme
    assert adopted == sample  # definitions, targets, descriptions, question, names: all of it
    assert adopted.digest() == sample.digest()
    assert (root / "schemas" / "labeling-config.xml").read_bytes() == SAMPLE.read_bytes()
    assert (root / ORIGINAL_CONFIG).read_bytes() == SAMPLE.read_bytes()


@pytest.mark.parametrize("which", sorted(ADOPTED))
def test_round_trip_asks_the_same_questions_with_the_same_names(
    tmp_path: Path, cli: CliRun, which: str
) -> None:
    original = ADOPTED[which]
    (tmp_path / "export.json").write_text(json.dumps(ISSUE_TASKS), encoding="utf-8")
    res = cli(
        "init", "c", "--from-label-config", str(original), "--tasks", "export.json",
        cwd=tmp_path,
    )  # fmt: skip
    assert res.exit_code == 0, res.stdout + res.stderr
    root = tmp_path / "c"
    rendered = _rendered(root)
    assert lc.parse(rendered).structure() == lc.parse(original.read_text("utf-8")).structure()
    assert (root / "schemas" / "labeling-config.xml").read_text(encoding="utf-8") == rendered
    check = cli("schemas", "--check", cwd=root)
    assert check.exit_code == 0, check.stdout
    # Adopting the generated config again gives the same scheme (a fixed point).
    again = init_corpus(directory=tmp_path / "again", label_config=rendered, tasks=ISSUE_TASKS)
    first = load_config(root / "corpus.toml").scheme
    assert load_config(Path(again.root) / "corpus.toml").scheme == first


def test_issue_config_names_and_targets(tmp_path: Path) -> None:
    scheme = load_config(_adopt(tmp_path, ISSUE, ISSUE_TASKS) / "corpus.toml").scheme
    names = scheme.names
    assert (names.text, names.text_field, names.entities, names.claims) == (
        "text", "text", "ner", "ner",
    )  # fmt: skip
    assert names.claims_in_entities and names.claim_label == "Claim"
    assert (names.checkworthy, names.claimant_text, names.stance) == (
        "checkworthy", "source", "stance",
    )  # fmt: skip
    assert names.stance_target_field == "target"
    assert scheme.entity_labels == ("Person", "Organization", "Location")
    assert scheme.is_claim("ner", "Claim") and scheme.is_entity("ner", "Person")
    assert scheme.checkworthy == ("yes", "no") and scheme.claimant_relation == "said_by"
    assert scheme.stance_labels == ("pro", "con", "neither")
    # Targets: the distinct values of data.target, in order of first appearance.
    assert [(t.id, t.name) for t in scheme.stance_targets] == [
        ("european_union", "European Union"),
        ("nato", "NATO"),
    ]
    assert scheme.stance_question_for("$target") == "Stance towards $target"
    assert scheme.task_targets({"target": "NATO"}) == ("nato",)
    # Definitions: from hints, else a placeholder that says the config had none.
    ents = {e.label: e for e in scheme.entities}
    assert ents["Person"].definition == "A named person."
    assert "gave no hint" in ents["Location"].definition
    assert (ents["Location"].hotkey, ents["Location"].color) == ("l", "orange")
    assert scheme.claim_definition == "A statement of fact that can be checked."


def test_issue_config_without_tasks_has_no_targets_yet(tmp_path: Path) -> None:
    scheme = load_config(_adopt(tmp_path, ISSUE) / "corpus.toml").scheme
    assert scheme.stance_targets == () and scheme.names.stance == "stance"
    toml = (tmp_path / "issue" / "corpus.toml").read_text(encoding="utf-8")
    assert "[scheme.names]" in toml and "# the one <Choices> asking stance" in toml


def test_own_claim_control_and_prefixed_stance_controls(tmp_path: Path) -> None:
    scheme = load_config(_adopt(tmp_path, CONFIGS / "own-claim.xml") / "corpus.toml").scheme
    names = scheme.names
    assert (names.text, names.text_field, names.entities, names.claims) == (
        "article", "body", "spans", "claim",
    )  # fmt: skip
    assert not names.claims_in_entities and names.claim_label == "Assertion"
    assert names.stance is None and names.stance_prefix == "pos_"
    assert [(t.id, t.name) for t in scheme.stance_targets] == [
        ("eu", "the EU"),
        ("nato", "NATO"),
        ("ukraine_government", "Ukraine’s government"),
    ]
    assert list(scheme.stance_controls) == ["pos_eu", "pos_nato", "pos_ukraine_government"]
    assert scheme.stance_question_for("NATO") == "Position on NATO"
    assert [e.label for e in scheme.entities] == ["PER", "Named event", "Lieu géographique"]
    assert scheme.entities[0].name == "Person"  # "Person: a named person." split
    assert scheme.entities[1].name == "Named event"  # a hint that is a sentence stays whole


def test_unprefixed_stance_controls_keep_their_names(tmp_path: Path) -> None:
    scheme = load_config(_adopt(tmp_path, CONFIGS / "unprefixed.xml") / "corpus.toml").scheme
    assert [(t.id, t.name, t.control) for t in scheme.stance_targets] == [
        ("eu_view", "eu_view", "eu_view"),
        ("nato_view", "nato_view", "nato-view"),
    ]
    assert scheme.stance_controls == {"eu_view": "eu_view", "nato-view": "nato_view"}
    assert scheme.names.claim_label == "claim" and scheme.names.claims == "label"


def test_default_names_keep_the_default_rendering() -> None:
    # The sample corpus has no [scheme.names]: its config is the committed golden file.
    cfg = load_config(REPO / "corpus.toml")
    assert cfg.scheme.names == ControlNames()
    assert lc.render(cfg) == SAMPLE.read_text(encoding="utf-8")


ISSUE_XML = ISSUE.read_text(encoding="utf-8")
TEXT_END = '<Text name="text" value="$text"/>'
REFUSED = {
    "second-text": (
        ISSUE_XML.replace(TEXT_END, TEXT_END + '<Text name="headline" value="$title"/>'),
        '<Text name="headline">',
    ),
    "image": (
        ISSUE_XML.replace(TEXT_END, TEXT_END + '<Image name="photo" value="$image"/>'),
        '<Image name="photo">',
    ),
    "hypertext": (
        ISSUE_XML.replace(TEXT_END, '<HyperText name="text" value="$html"/>'),
        '<HyperText name="text">',
    ),
    "rating": (
        ISSUE_XML.replace(TEXT_END, TEXT_END + '<Rating name="quality" toName="text"/>'),
        '<Rating name="quality">',
    ),
    "document-textarea": (
        ISSUE_XML.replace(TEXT_END, TEXT_END + '<TextArea name="notes" toName="text"/>'),
        '<TextArea name="notes">',
    ),
    "region-choices-on-entities": (
        ISSUE_XML.replace('whenTagName="ner" whenLabelValue="Claim"', 'whenLabelValue="Person"'),
        '<Choices name="checkworthy">',
    ),
    "region-choices-on-every-span": (
        ISSUE_XML.replace('visibleWhen="region-selected" whenTagName="ner"', ""),
        '<Choices name="checkworthy">',
    ),
    "second-labels-without-claim": (
        ISSUE_XML.replace(
            TEXT_END,
            TEXT_END + '<Labels name="topic" toName="text"><Label value="Economy"/></Labels>',
        ),
        '<Labels name="topic">',
    ),
    "two-relations": (
        ISSUE_XML.replace("</Relations>", '<Relation value="supports"/></Relations>'),
        "<Relations>",
    ),
    "stance-choices-differ": (
        ISSUE_XML.replace(
            TEXT_END,
            TEXT_END + '<Choices name="stance_b" toName="text"><Choice value="pro"/>'
            '<Choice value="con"/></Choices>',
        ),
        '<Choices name="stance_b">',
    ),
    "multiple-stance": (
        ISSUE_XML.replace(
            'name="stance" toName="text" choice="single"',
            'name="stance" toName="text" choice="multiple"',
        ),
        '<Choices name="stance">',
    ),
    "label-alias": (
        ISSUE_XML.replace('value="Location"', 'value="Location" alias="LOC"'),
        '<Label value="Location">',
    ),
    "other-object": (
        ISSUE_XML.replace(
            'toName="text" choice="single" required', 'toName="page" choice="single" required'
        ),
        '<Choices name="stance">',
    ),
    "stance-per-region": (
        ISSUE_XML.replace(
            '<Choices name="stance" toName="text"',
            '<Choices name="stance" toName="text" perRegion="true"',
        ),
        '<Choices name="stance">',
    ),
}
MISSING = {
    "no-claim-label": (
        ISSUE_XML.replace('value="Claim"', 'value="Statement"')
        .replace('whenLabelValue="Claim"', "")
        .replace('visibleWhen="region-selected" whenTagName="ner"', ""),
        "claim label",
    ),
    "no-stance-at-all": (
        ISSUE_XML.split('<Header value="Stance')[0] + "</View>",
        "per-document <Choices> (stance)",
    ),
    "no-relations": (
        ISSUE_XML.split("<Relations>")[0] + ISSUE_XML.split("</Relations>")[1],
        "<Relations>",
    ),
    "no-text": (ISSUE_XML.replace(TEXT_END, ""), "<Text"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_inexpressible_tags_are_refused_by_name(tmp_path: Path, cli: CliRun, case: str) -> None:
    xml, tag = REFUSED[case]
    assert xml != ISSUE_XML, "the mutation did not apply"
    with pytest.raises(UsageError, match="cannot be expressed") as err:
        lc.scheme_from_config(lc.parse(xml), tasks=ISSUE_TASKS)
    assert tag in err.value.message
    (tmp_path / "c.xml").write_text(xml, encoding="utf-8")
    res = cli("init", "out", "--from-label-config", "c.xml", cwd=tmp_path)
    assert res.exit_code == 2 and tag in res.stderr
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.parametrize("case", sorted(MISSING))
def test_missing_layers_are_named(case: str) -> None:
    xml, what = MISSING[case]
    assert xml != ISSUE_XML
    with pytest.raises(UsageError) as err:
        lc.scheme_from_config(lc.parse(xml), tasks=ISSUE_TASKS)
    message = err.value.message + (err.value.hint or "")
    assert what in err.value.message
    if "has no" in err.value.message:
        assert "out of scope" in message


@pytest.mark.parametrize(
    "xml",
    [
        '<!DOCTYPE View [<!ENTITY x "xxxxxxxx">]><View>&x;</View>',
        '<?xml version="1.0"?><!doctype View SYSTEM "file:///etc/passwd"><View/>',
    ],
)
def test_declarations_are_refused(xml: str) -> None:
    with pytest.raises(UsageError, match="declarations are not accepted"):
        lc.parse(xml)


def test_not_xml_is_a_usage_error(tmp_path: Path, cli: CliRun) -> None:
    with pytest.raises(UsageError, match="not well-formed XML"):
        lc.parse("<View><Labels></View>")
    (tmp_path / "bad.xml").write_text("<View>", encoding="utf-8")
    res = cli("init", "x", "--from-label-config", "bad.xml", cwd=tmp_path)
    assert res.exit_code == 2 and "not well-formed XML" in res.stderr


def test_parse_records_visibility_headers_and_options() -> None:
    parsed = lc.parse((CONFIGS / "own-claim.xml").read_text(encoding="utf-8"))
    worth = parsed.control("worth")
    assert worth is not None and worth.per_region and worth.choice == "single-radio"
    # Inherited from the enclosing <View>.
    assert (worth.visible_when, worth.when_tag_name) == ("region-selected", "claim")
    assert worth.header == "Worth checking?"
    spans = parsed.control("spans")
    assert spans is not None and spans.values[0].hotkey == "1"
    assert spans.values[2].background == "#336699"
    assert [(o.tag, o.name, o.data_field) for o in parsed.objects] == [("Text", "article", "body")]
    assert parsed.headers[0] == "Worth checking?"
    who = parsed.control("who")  # the box's header was the question of `worth`, not its own
    assert who is not None and who.header is None
    assert [c.key for c in parsed.controls][-1] == "pos_ukraine_government"


def test_tag_names_are_case_insensitive_as_in_label_studio() -> None:
    # The editor and label-studio-sdk (its tag classes) match tag names case-insensitively.
    lower = re.sub(r"<(/?)([A-Za-z]+)", lambda m: f"<{m[1]}{m[2].lower()}", ISSUE_XML)
    assert lower != ISSUE_XML and "<labels " in lower
    assert lc.parse(lower).structure() == lc.parse(ISSUE_XML).structure()
    assert lc.scheme_from_config(lc.parse(lower), tasks=ISSUE_TASKS) == lc.scheme_from_config(
        lc.parse(ISSUE_XML), tasks=ISSUE_TASKS
    )


def test_read_tasks_json_jsonl_and_errors(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps(ISSUE_TASKS), encoding="utf-8")
    (tmp_path / "a.jsonl").write_text(
        "\n".join(json.dumps(t) for t in ISSUE_TASKS) + "\n", encoding="utf-8"
    )
    assert read_tasks(tmp_path / "a.json") == read_tasks(tmp_path / "a.jsonl") == ISSUE_TASKS
    (tmp_path / "b.jsonl").write_text('{"data": {}}\n{oops\n', encoding="utf-8")
    with pytest.raises(DataError, match="line 2 is not JSON"):
        read_tasks(tmp_path / "b.jsonl")
    (tmp_path / "c.json").write_text('[{"data": 3}]', encoding="utf-8")
    with pytest.raises(DataError, match="item 0"):
        read_tasks(tmp_path / "c.json")


def test_init_option_combinations_are_refused(tmp_path: Path, cli: CliRun) -> None:
    res = cli("init", "x", "--tasks", "t.json", cwd=tmp_path)
    assert res.exit_code == 2 and "--tasks goes with --from-label-config" in res.stderr
    res = cli(
        "init", "x", "--from-label-config", str(ISSUE), "--from-project", "1", cwd=tmp_path
    )  # fmt: skip
    assert res.exit_code == 2 and "both given" in res.stderr
    assert not (tmp_path / "x").exists()


# --- label-studio-sdk as an independent parser ------------------------------------------------

SDK_DUMP = """
import json, sys
from label_studio_sdk.label_interface import LabelInterface
out = {}
for xml in json.load(sys.stdin):
    li = LabelInterface(xml)
    out[len(out)] = {
        "controls": {c.name: [c.tag, list(c.to_name), list(getattr(c, "labels", None) or [])]
                     for c in li.controls},
        "objects": {o.name: [o.tag, o.value] for o in li.objects},
    }
print(json.dumps(list(out.values())))
"""


def _ours(xml: str) -> dict[str, Any]:
    parsed = lc.parse(xml)
    return {
        "controls": {
            # The SDK lists a label by its alias when it has one (what results carry).
            c.name: [c.tag, list(c.to_name), [v.alias or v.value for v in c.values]]
            for c in parsed.controls
            if c.name
        },
        "objects": {o.name: [o.tag, o.value] for o in parsed.objects},
    }


@pytest.mark.skipif(not LS_PYTHON.exists(), reason="no .venv-ls (run scripts/setup.sh)")
def test_parse_agrees_with_label_studio_sdk(tmp_path: Path) -> None:
    xmls = [p.read_text(encoding="utf-8") for p in ADOPTED.values()]
    xmls += [_rendered(_adopt(tmp_path, p, ISSUE_TASKS)) for p in ADOPTED.values()]
    xmls += [xml for xml, _ in REFUSED.values()]
    done = subprocess.run(
        [str(LS_PYTHON), "-c", SDK_DUMP],
        input=json.dumps(xmls),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    theirs = json.loads(done.stdout)
    assert len(theirs) == len(xmls)
    for xml, sdk in zip(xmls, theirs, strict=True):
        assert _ours(xml) == sdk, xml


# --- the real server ----------------------------------------------------------------------------


@pytest.mark.labelstudio
def test_server_accepts_originals_and_generated_configs(
    tmp_path: Path, label_studio: LabelStudioFixture
) -> None:
    with lib.Client(label_studio.url, label_studio.api_key) as client:
        for which, path in ADOPTED.items():
            original = path.read_text(encoding="utf-8")
            assert client.validate_config(original) is None, which  # a realistic input
            rendered = _rendered(_adopt(tmp_path, path, ISSUE_TASKS))
            assert client.validate_config(rendered) is None, which
        # The check can fail: a control pointing at no object is refused.
        assert client.validate_config(ISSUE_XML.replace(TEXT_END, "")) is not None


@pytest.mark.labelstudio
def test_init_from_a_live_project(
    tmp_path: Path, cli: CliRun, label_studio: LabelStudioFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = label_studio.new_project(title="Adopt me", label_config=ISSUE_XML)
    with label_studio.http() as http:
        data = [{"data": t["data"]} for t in ISSUE_TASKS]
        assert http.post(f"/api/projects/{pid}/import", json=data).status_code == 201
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    res = cli(
        "init", "live", "--from-project", str(pid), "--url", label_studio.url, "--json",
        cwd=tmp_path,
    )  # fmt: skip
    assert res.exit_code == 0, res.stdout + res.stderr
    assert label_studio.api_key not in res.stdout
    cfg = load_config(tmp_path / "live" / "corpus.toml")
    assert [t.name for t in cfg.scheme.stance_targets] == ["European Union", "NATO"]
    assert (cfg.labelstudio.url, cfg.labelstudio.project_title) == (label_studio.url, "Adopt me")
    assert cfg.pretty_name == "Adopt me"  # the project's title unless --pretty-name
    assert lc.parse(lc.render(cfg)).structure() == lc.parse(ISSUE_XML).structure()
    # The server keeps the config as sent, less the final newline.
    kept = (tmp_path / "live" / ORIGINAL_CONFIG).read_text(encoding="utf-8")
    assert kept.strip() == ISSUE_XML.strip()
    toml = (tmp_path / "live" / "corpus.toml").read_text(encoding="utf-8")
    assert label_studio.api_key not in toml
    missing = cli(
        "init", "none", "--from-project", "999999", "--url", label_studio.url, cwd=tmp_path
    )  # fmt: skip
    assert missing.exit_code == 2 and "no project 999999" in missing.stderr
