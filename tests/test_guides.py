"""The annotator guide and Label Studio's in-app instructions say the same thing, and its
examples are real: every entity label, stance value and claim attribute of the scheme is in
docs/guides/annotator.md with its definition and an example quoted from the sample corpus,
and the project `corpus ls push` creates carries them too (read back from the real server).

The checks read corpus.toml (its [scheme] and [guidelines]) and the sample annotations on their
own paths (tomllib, exports.iter_annotations), not through corpus_tools.guidelines.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, CliRun
from ls_server import LabelStudioFixture

from corpus_tools import exports
from corpus_tools.config import load_config
from corpus_tools.errors import ConfigError

GUIDE = REPO / "docs" / "guides" / "annotator.md"


def _scheme() -> dict[str, Any]:
    return tomllib.loads((REPO / "corpus.toml").read_text(encoding="utf-8"))["scheme"]


def _extras() -> dict[str, Any]:
    return tomllib.loads((REPO / "corpus.toml").read_text(encoding="utf-8"))["guidelines"]


def _expected() -> list[tuple[str, str, str | None]]:
    """(key as shown, definition, example) for every value the annotator must know."""
    s, g = _scheme(), _extras()
    out: list[tuple[str, str, str | None]] = []
    for e in s["entities"]:
        out.append((e["label"], e["definition"], g["entities"]["examples"][e["label"]]))
    for label in s["stance"]["labels"]:
        ex = g["stance"]["examples"][label]
        out.append((label, g["stance"]["definitions"][label], ex["quote"]))
    for t in s["stance"]["targets"]:
        out.append((t["name"], t["description"], None))
    for value in s["claims"]["checkworthy"]:
        cw = g["claims"]["checkworthy"][value]
        out.append((value, cw["definition"], cw["example"]))
    return out


def _quoted(text: str) -> str:
    return f"\u201c{text}\u201d"


def test_every_label_value_and_attribute_is_in_the_guide() -> None:
    page = GUIDE.read_text(encoding="utf-8")
    lines = page.splitlines()
    for key, definition, example in _expected():
        (line,) = [ln for ln in lines if ln.startswith(f"- **{key}**")]
        assert definition in line, (key, line)
        if example is not None:
            assert _quoted(example) in line, (key, line)
    s, g = _scheme(), _extras()
    assert s["claims"]["definition"] in page
    assert s["claims"]["claimant_definition"] in page
    for how in ("entity", "typed"):
        assert _quoted(g["claims"]["claimant"][how]) in page


def test_generated_block_is_current() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import docs_guidelines
    finally:
        sys.path.remove(str(REPO / "scripts"))
    page = GUIDE.read_text(encoding="utf-8")
    assert docs_guidelines.rendered(page) == page, "run scripts/docs_guidelines.py --write"


def test_examples_are_quoted_from_the_sample_annotations() -> None:
    config = load_config(REPO / "corpus.toml")
    anns = list(exports.iter_annotations([REPO / "annotations"], config.scheme))
    texts = {}
    for task in (REPO / "annotations").glob("*/tasks/*.json"):
        data = json.loads(task.read_text(encoding="utf-8"))["data"]
        texts[data["article_id"]] = data["text"]
    g = _extras()
    entities = {(e.label, e.text) for a in anns for e in a.entities}
    for label, example in g["entities"]["examples"].items():
        assert (label, example) in entities, (label, example)
    claims = [c for a in anns for c in a.claims]
    assert g["claims"]["example"] in {c.text for c in claims}
    for value, cw in g["claims"]["checkworthy"].items():
        assert (cw["example"], value) in {(c.text, c.checkworthy) for c in claims}, value
    assert g["claims"]["claimant"]["entity"] in {c.claimant for c in claims}
    assert g["claims"]["claimant"]["typed"] in {c.claimant for c in claims}
    # A stance example: the one article quoting it, where most of its annotators gave the
    # value to the target.
    for label, ex in g["stance"]["examples"].items():
        (article,) = [aid for aid, text in texts.items() if ex["quote"] in text]
        votes = Counter(
            s.label
            for a in anns
            if a.article_id == article
            for s in a.stances
            if s.target == ex["target"]
        )
        assert votes and votes.most_common(1)[0] == (label, max(votes.values())), votes
        assert votes[label] * 2 > sum(votes.values()), (label, votes)


def test_guidelines_naming_a_label_the_scheme_lacks_are_refused(sample_corpus: Path) -> None:
    from corpus_tools.labelstudio import instructions_html

    cfg = sample_corpus / "corpus.toml"
    text = cfg.read_text(encoding="utf-8")
    head = "[guidelines.entities.examples]\n"
    assert head in text
    cfg.write_text(text.replace(head, head + 'MONEY = "$5"\n'), encoding="utf-8")
    with pytest.raises(ConfigError, match="MONEY"):
        instructions_html(load_config(sample_corpus / "corpus.toml"))


@pytest.mark.labelstudio
def test_pushed_project_instructions_hold_the_guide(
    sample_corpus: Path,
    cli: CliRun,
    label_studio: LabelStudioFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for cmd in (["ingest", "-q"], ["tasks", "-q"]):
        res = cli(*cmd, cwd=sample_corpus)
        assert res.exit_code == 0, res.output
    monkeypatch.setenv("LABEL_STUDIO_URL", label_studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", label_studio.api_key)
    res = cli("ls", "push", "--json", cwd=sample_corpus)
    assert res.exit_code == 0, res.output
    pid = json.loads(res.stdout)["project_id"]
    label_studio.track_project(pid)
    with label_studio.http() as http:
        project = http.get(f"/api/projects/{pid}/").json()
    shown = project["expert_instruction"]
    assert project["show_instruction"] is True
    for key, definition, example in _expected():
        assert f"<b>{escape(key)}</b>" in shown, key
        assert escape(definition) in shown, key
        if example is not None:
            assert escape(_quoted(example)) in shown, key
