"""What a release promises about its gold (issue 10, points 1, 2, 5, 16 release side).

An open dispute is never published as a negative (`ner_mask`, `claims_complete`); every gold
item says where it came from (`provenance`); the card follows the Hub's dataset card template;
planted bugs in the release path (a span one past the text, B- after a same-label entity, stale
annotations, a gold item past its text) fail here. Real `build_release`, real
`datasets.load_dataset` in a subprocess, real `corpus adjudicate`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from corpus_tools import adjudicate, store
from corpus_tools.config import load_config
from corpus_tools.model import Decision, EntitySpan, GoldEntity, GoldRecord
from corpus_tools.release import build_release
from corpus_tools.release.tokens import align
from tests.release_corpus import (
    build_corpus,
    claim,
    ent,
    make_article,
    span,
    stance,
    task,
    write_articles,
    write_tasks,
)
from tests.test_release import load_in_subprocess

# One article where the two annotators disagree on one entity ("US"), one stance target
# (iran) and one claim (the second sentence): three open disputes under tie_rule = "dispute".
DISPUTED = "Iran said the US lied. Russia denied the report. NATO met in Kyiv."


def _disputed_task(task_id: int, art: Any) -> dict[str, Any]:
    t = art.text
    common = [
        ent("e0", t, "Iran", "GPE"),
        ent("e1", t, "Russia", "GPE"),
        ent("e2", t, "NATO", "ORG"),
        ent("e3", t, "Kyiv", "GPE"),
        stance("russia", "against"),
        *claim("c0", t, "Iran said the US lied", "check-worthy"),
    ]
    a = [
        *common,
        ent("e4", t, "US", "GPE"),
        stance("iran", "against"),
        *claim("c1", t, "Russia denied the report", "check-worthy"),
    ]
    b = [*common, stance("iran", "favor")]
    return task(task_id, art, [("annotator-a", a), ("annotator-b", b)])


@pytest.fixture
def disputed(tmp_path: Path, repo_root: Path) -> Path:
    """The standard test corpus plus the three-dispute article `disputed`."""
    root = tmp_path / "corpus"
    cfg, arts = build_corpus(root, repo_root)
    art = make_article("disputed", DISPUTED, "story-disputed")
    write_articles(cfg.paths.articles_parquet, [*arts, art])
    write_tasks(cfg.paths.annotations, [_disputed_task(500, art)])
    adjudicate.run(config=cfg)
    return root


def _open_regions(root: Path) -> dict[str, list[tuple[int, int]]]:
    """Open entity dispute regions per article, read from disputes.json independently."""
    out: dict[str, list[tuple[int, int]]] = {}
    for t in orjson.loads((root / "build" / "disputes.json").read_bytes()):
        for d in t["data"]["dispute_ids"]:
            aid, layer, rest = d.split("/", 2)
            if layer == "entities":
                a, b = rest.split("-")
                out.setdefault(aid, []).append((int(a), int(b)))
    return out


def _token_offsets(text: str, tokens: list[str]) -> list[tuple[int, int]]:
    pos, out = 0, []
    for tok in tokens:
        i = text.index(tok, pos)
        out.append((i, i + len(tok)))
        pos = i + len(tok)
    return out


def _rows(got: dict[str, Any], config: str) -> list[dict[str, Any]]:
    return [r for split in got[config]["rows"].values() for r in split]


def test_open_disputes_are_masked_never_negatives(disputed: Path, tmp_path: Path) -> None:
    cfg = load_config(disputed / "corpus.toml")
    result = build_release(config=cfg, version="0.1.0")
    got = load_in_subprocess(Path(result.path), tmp_path / "hf")
    regions = _open_regions(disputed)
    assert regions["disputed"] == [(DISPUTED.index("US"), DISPUTED.index("US") + 2)]
    ents = {r["article_id"]: r for r in _rows(got, "entities")}
    masked_tokens = 0
    for aid, row in ents.items():
        assert len(row["ner_mask"]) == len(row["tokens"]) == len(row["ner_tags"])
        offsets = _token_offsets(row["text"], row["tokens"])
        for (a, b), keep in zip(offsets, row["ner_mask"], strict=True):
            inside = any(a < e and b > s for s, e in regions.get(aid, []))
            assert keep is not inside, (aid, row["text"][a:b])
            masked_tokens += inside
        assert [(d["start"], d["end"]) for d in row["disputed_regions"]] == sorted(
            regions.get(aid, [])
        )
    assert masked_tokens >= 1
    us = ents["disputed"]["tokens"].index("US")
    assert ents["disputed"]["ner_mask"][us] is False
    # Stance: the disputed target has no row; the agreed one has.
    stance_rows = [r for r in _rows(got, "stance") if r["article_id"] == "disputed"]
    assert [r["target"] for r in stance_rows] == ["russia"]
    # Claims: the agreed claim is published and says the list is incomplete.
    claims = [r for r in _rows(got, "claims") if r["article_id"] == "disputed"]
    assert [r["text"] for r in claims] == ["Iran said the US lied"]
    assert claims[0]["claims_complete"] is False and claims[0]["open_claim_disputes"] == 1
    others = [r for r in _rows(got, "claims") if r["article_id"] != "disputed"]
    assert others and all(r["claims_complete"] and r["open_claim_disputes"] == 0 for r in others)
    arts = {r["article_id"]: r for r in _rows(got, "articles")}
    d = arts["disputed"]
    assert (d["open_entity_disputes"], d["open_stance_disputes"], d["open_claim_disputes"]) == (
        1,
        1,
        1,
    )
    assert d["claims_complete"] is False and d["has_gold"] is True
    assert all(a["claims_complete"] for k, a in arts.items() if k != "disputed")
    card = (Path(result.path) / "README.md").read_text(encoding="utf-8")
    assert "ner_mask" in card and "-100" in card
    assert "a disputed target has no row" in card
    assert "claims_complete" in card


def test_provenance_of_every_gold_item(disputed: Path, tmp_path: Path) -> None:
    cfg = load_config(disputed / "corpus.toml")
    result = build_release(config=cfg, version="0.1.0")
    got = load_in_subprocess(Path(result.path), tmp_path / "hf")
    gold = {g.article_id: g for g in adjudicate.iter_gold(cfg.paths.build / "gold.jsonl")}
    seen: dict[str, dict[str, int]] = {"entities": {}, "stance": {}, "claims": {}}
    for row in _rows(got, "entities"):
        want = {
            (g.span.start, g.span.end): g.decision.provenance
            for g in gold[row["article_id"]].entities
        }
        for e in row["entities"]:
            assert e["provenance"] == want[e["start"], e["end"]]
            seen["entities"][e["provenance"]] = seen["entities"].get(e["provenance"], 0) + 1
    for row in _rows(got, "stance"):
        want_s = {g.stance.target: g.decision.provenance for g in gold[row["article_id"]].stances}
        assert row["provenance"] == want_s[row["target"]]
        seen["stance"][row["provenance"]] = seen["stance"].get(row["provenance"], 0) + 1
    for row in _rows(got, "claims"):
        want_c = {
            (g.claim.start, g.claim.end): g.decision.provenance
            for g in gold[row["article_id"]].claims
        }
        assert row["provenance"] == want_c[row["span"]["start"], row["span"]["end"]]
        seen["claims"][row["provenance"]] = seen["claims"].get(row["provenance"], 0) + 1
    card = (Path(result.path) / "README.md").read_text(encoding="utf-8")
    section = card.split("### Where the gold labels come from")[1].split("\n## ")[0]
    for config, counts in seen.items():
        for prov, n in counts.items():
            assert f"| `{config}` | `{prov}` | {n} |" in section, (config, prov, n)
    assert 'tie_rule = "dispute"' in section
    manifest = json.loads((Path(result.path) / "manifest.json").read_text())
    assert manifest["provenance_counts"] == {k: dict(sorted(v.items())) for k, v in seen.items()}


def test_tie_rule_first_is_visible_in_the_card(disputed: Path, tmp_path: Path) -> None:
    toml = disputed / "corpus.toml"
    toml.write_text(toml.read_text().replace('tie_rule = "dispute"', 'tie_rule = "first"'))
    cfg = load_config(toml)
    adjudicate.run(config=cfg)
    result = build_release(config=cfg, version="0.1.0")
    got = load_in_subprocess(Path(result.path), tmp_path / "hf")
    row = next(r for r in _rows(got, "entities") if r["article_id"] == "disputed")
    us = [e for e in row["entities"] if e["text"] == "US"]
    assert us and us[0]["provenance"] == "tie"
    assert all(row["ner_mask"])
    card = (Path(result.path) / "README.md").read_text(encoding="utf-8")
    section = card.split("### Where the gold labels come from")[1].split("\n## ")[0]
    assert 'tie_rule = "first"' in section
    assert "| `entities` | `tie` | 1 |" in section
    assert "not a majority" in section


# --- the card against huggingface_hub's template -----------------------------------------------


def _headings(markdown: str) -> list[tuple[int, str]]:
    body = markdown.split("\n---\n", 1)[1] if markdown.startswith("---") else markdown
    out = []
    in_code = False
    for line in body.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        m = re.match(r"^(#{1,6}) (.+?)\s*$", line)
        if m and not in_code:
            out.append((len(m[1]), m[2].replace(" [optional]", "")))
    return out


def test_card_has_every_heading_of_the_hub_template(disputed: Path) -> None:
    import huggingface_hub

    template = (
        Path(huggingface_hub.__file__).parent / "templates" / "datasetcard_template.md"
    ).read_text(encoding="utf-8")
    want = _headings(template)
    assert want[0][1].startswith("Dataset Card for") and len(want) > 20
    cfg = load_config(disputed / "corpus.toml")
    result = build_release(config=cfg, version="0.1.0")
    card = (Path(result.path) / "README.md").read_text(encoding="utf-8")
    have = _headings(card)
    assert have[0] == (1, f"Dataset Card for {cfg.pretty_name}")
    # Every template heading, at its level and in its order (the card may add subsections).
    it = iter(have[1:])
    for heading in want[1:]:
        assert any(h == heading for h in it), heading
    assert "[More Information Needed]" not in card
    for needle in (
        "copyright",
        "named",  # real people are named in the news
        "Out-of-Scope",
        "@misc{",
        cfg.license,
    ):
        assert needle.lower() in card.lower(), needle
    meta = yaml.safe_load(card.split("---\n")[1])
    assert "sentiment-classification" not in meta["task_ids"]
    assert "named-entity-recognition" in meta["task_ids"]


def test_card_label_counts_per_split_and_small_split_warnings(disputed: Path) -> None:
    cfg = load_config(disputed / "corpus.toml")
    result = build_release(config=cfg, version="0.1.0")
    folder = Path(result.path)
    manifest = json.loads((folder / "manifest.json").read_text())
    card = (folder / "README.md").read_text(encoding="utf-8")
    by_split = manifest["label_counts_by_split"]
    section = card.split("### Label counts per split")[1].split("\n## ")[0]
    splits = ("train", "validation", "test")
    for layer, labels in by_split.items():
        for label, counts in labels.items():
            cells = " | ".join(str(counts.get(s, 0)) for s in splits)
            assert f"| {layer} | `{label}` | {cells} |" in section, (layer, label)
    # Warnings derived from the data: labels missing from a split with rows, one-story splits.
    import pyarrow.parquet as pq

    stories: dict[str, set[str]] = {}
    for split in splits:
        path = folder / "data" / "articles" / f"{split}-00000-of-00001.parquet"
        if path.exists():
            for r in pq.read_table(path).to_pylist():
                stories.setdefault(split, set()).add(r["story_id"] or r["article_id"])
    expected = []
    for split, s in stories.items():
        if len(s) == 1:
            expected.append(f"`{split}` has one story")
    for layer, labels in by_split.items():
        for label, counts in labels.items():
            for split in stories:
                if not counts.get(split):
                    expected.append(f"{layer} `{label}` never occurs in `{split}`")
    assert expected  # the small test corpus must trigger some
    for line in expected:
        assert line in section, line


def test_changelog_lists_label_set_changes(disputed: Path, cli: Any) -> None:
    assert cli("release", "0.1.0", "--publish", cwd=disputed).exit_code == 0
    toml = disputed / "corpus.toml"
    law = '\n[[scheme.entities]]\nlabel = "LAW"\nname = "Law"\ndefinition = "A named law."\n'
    toml.write_text(toml.read_text() + law)
    res = cli("release", "0.2.0", cwd=disputed)
    assert res.exit_code == 0, res.stderr
    old = json.loads((disputed / "hub" / "geonews" / "v0.1.0" / "manifest.json").read_text())
    new = json.loads((disputed / "dist" / "0.2.0" / "manifest.json").read_text())
    changelog = (disputed / "dist" / "0.2.0" / "README.md").read_text().split("## Changelog")[1]
    n_old, n_new = len(old["labels"]["ner_tags"]), len(new["labels"]["ner_tags"])
    assert n_new == n_old + 2
    assert "entities: added `LAW`" in changelog
    assert f"`ner_tags`: {n_old} → {n_new} classes" in changelog


# --- planted bugs that must fail a test (point 16, release side) -------------------------------


def _annotation_rows(folder: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows = []
    for path in sorted((folder / "data" / "annotations").glob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


def test_annotation_span_one_past_the_text_is_not_released(tmp_path: Path, repo_root: Path) -> None:
    cfg, arts = build_corpus(tmp_path / "c", repo_root)
    art = make_article("edge", "Talks with Iran", "story-edge")
    n = len(art.text)
    good = [ent("e0", art.text, "Iran", "GPE")]
    # annotator-b's span ends one past the text ([11:16] on a 15-code-point text).
    bad = [*good, span("x9", art.text, n - 4, n + 1, "GPE")]
    bad_ann = task(600, art, [("annotator-a", good), ("annotator-b", bad)])
    write_articles(cfg.paths.articles_parquet, [*arts, art])
    write_tasks(cfg.paths.annotations, [bad_ann])
    adjudicate.run(config=cfg)
    result = build_release(config=cfg, version="0.1.0")
    found = [f for f in result.findings if f.slug == "span-out-of-bounds"]
    assert [(f.task_id, f.region_id) for f in found] == [(600, "x9")]
    assert f"[{n - 4}:{n + 1}]" in found[0].message
    rows = [r for r in _annotation_rows(Path(result.path)) if r["article_id"] == "edge"]
    assert [r["annotator"] for r in rows] == ["annotator-a"]


def test_second_entity_right_after_one_of_the_same_label_starts_with_b() -> None:
    text = "Iran Russia and China"
    spans = [
        EntitySpan(0, 4, "GPE", "Iran"),
        EntitySpan(5, 11, "GPE", "Russia"),
        EntitySpan(16, 21, "GPE", "China"),
    ]
    tok, _ = align(text, spans, article_id="x")
    assert list(tok.tags) == ["B-GPE", "B-GPE", "O", "B-GPE"]
    # Touching spans (no space between) too.
    tok, _ = align(
        "AB", [EntitySpan(0, 1, "ORG", "A"), EntitySpan(1, 2, "ORG", "B")], article_id="y"
    )
    assert list(tok.tags) == ["B-ORG", "B-ORG"]
    two = [EntitySpan(0, 11, "GPE", "Iran Russia")]
    tok, _ = align(text, two, article_id="z")
    assert list(tok.tags) == ["B-GPE", "I-GPE", "O", "O"]


def test_adjacent_same_label_entities_in_a_release(tmp_path: Path, repo_root: Path) -> None:
    cfg, arts = build_corpus(tmp_path / "c", repo_root)
    art = make_article("pair", "Iran Russia talks", "story-pair")
    results = [ent("e0", art.text, "Iran", "GPE"), ent("e1", art.text, "Russia", "GPE")]
    write_articles(cfg.paths.articles_parquet, [*arts, art])
    write_tasks(cfg.paths.annotations, [task(700, art, [("a", results), ("b", results)])])
    adjudicate.run(config=cfg)
    result = build_release(config=cfg, version="0.1.0")
    got = load_in_subprocess(Path(result.path), tmp_path / "hf")
    row = next(r for r in _rows(got, "entities") if r["article_id"] == "pair")
    names = got["ner_names"]
    assert [names[t] for t in row["ner_tags"]] == ["B-GPE", "B-GPE", "O"]


def test_annotations_made_on_a_changed_text_are_not_released(
    tmp_path: Path, repo_root: Path, cli: Any
) -> None:
    """The text was corrected after annotation: the old offsets point elsewhere now."""
    cfg, arts = build_corpus(tmp_path / "c", repo_root)
    old = make_article("moved", "Iran met Russia in Oman.", "story-moved")
    new = make_article("moved", "Yesterday Iran met Russia in Oman.", "story-moved")
    results = [ent("e0", old.text, "Iran", "GPE"), ent("e1", old.text, "Russia", "GPE")]
    write_articles(cfg.paths.articles_parquet, [*arts, new])
    write_tasks(cfg.paths.annotations, [task(800, old, [("a", results), ("b", results)])])
    # `corpus adjudicate` leaves them out of the vote and says so: no gold record for "moved"
    summary = adjudicate.run(config=cfg)
    assert [(f["slug"], f["task_id"]) for f in summary["findings"]] == [
        ("stale-annotation", 800)
    ] * 2
    gold_path = cfg.paths.build / "gold.jsonl"
    made = list(adjudicate.iter_gold(gold_path))
    assert "moved" not in {g.article_id for g in made}
    # a gold record built from them anyway (stamped with the current text's sha256, as
    # adjudicate did before) still refuses the release
    forged = GoldRecord(
        article_id="moved",
        text_sha256=new.text_sha256,
        annotators=("a", "b"),
        entities=tuple(
            GoldEntity(
                EntitySpan(old.text.index(w), old.text.index(w) + len(w), "GPE", w),
                Decision("unanimous", ("a", "b")),
            )
            for w in ("Iran", "Russia")
        ),
    )
    adjudicate.write_gold(gold_path, [*made, forged])
    res = cli("release", "0.1.0", cwd=cfg.paths.root)
    assert res.exit_code == 1, res.stdout
    assert "article moved" in res.stderr and "different text" in res.stderr
    assert not (cfg.paths.dist / "0.1.0").exists()
    # Without a gold record built from them, the stale annotations are reported, not used.
    adjudicate.write_gold(gold_path, made)
    result = build_release(config=cfg, version="0.1.0")
    stale = [f for f in result.findings if f.slug == "stale-annotation"]
    assert {f.task_id for f in stale} == {800} and len(stale) == 2
    assert not [r for r in _annotation_rows(Path(result.path)) if r["article_id"] == "moved"]


def test_gold_item_past_its_text_is_never_published(
    tmp_path: Path, repo_root: Path, cli: Any
) -> None:
    """`corpus release` alone re-checks gold.jsonl against the article text."""
    cfg, arts = build_corpus(tmp_path / "c", repo_root)
    gold_path = cfg.paths.build / "gold.jsonl"
    lines = gold_path.read_text(encoding="utf-8").splitlines()
    target = next(i for i, line in enumerate(lines) if '"article_id":"tricky-3"' in line)
    rec = json.loads(lines[target])
    text = next(a.text for a in arts if a.article_id == "tricky-3")
    n = len(text)
    rec["entities"].append(
        {
            "start": n - 2,
            "end": n + 1,
            "label": "ORG",
            "text": text[n - 2 :],
            "decision": rec["entities"][0]["decision"],
        }
    )
    lines[target] = json.dumps(rec, sort_keys=True, ensure_ascii=False)
    gold_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = cli("release", "0.1.0", cwd=cfg.paths.root)
    assert res.exit_code == 1, res.stdout
    assert f"article tricky-3: gold entities item [{n - 2}:{n + 1}]" in res.stderr
    assert not (cfg.paths.dist / "0.1.0").exists()
    # A gold item whose text does not match text[start:end] is refused the same way.
    rec["entities"][-1] = {**rec["entities"][-1], "end": n - 1, "text": "zz"}
    lines[target] = json.dumps(rec, sort_keys=True, ensure_ascii=False)
    gold_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = cli("release", "0.1.0", cwd=cfg.paths.root)
    assert res.exit_code == 1
    assert f"[{n - 2}:{n - 1}]" in res.stderr and "'zz'" in res.stderr
    assert store.sha256_file(gold_path)  # the input is left as it was


def test_card_uses_the_optional_release_keys(disputed: Path) -> None:
    toml = disputed / "corpus.toml"
    keys = (
        'contact = "Data desk <data@example.org>"\n'
        'curators = "The Example Newsroom Lab"\n'
        'citation = "@article{example2025, title = {An Example}}"\n'
        'text_rights = "Texts licensed from the outlets for research use only."\n'
    )
    toml.write_text(toml.read_text().replace("[release]\n", "[release]\n" + keys))
    cfg = load_config(toml)
    card = (Path(build_release(config=cfg, version="0.1.0").path) / "README.md").read_text()
    contact = card.split("## Dataset Card Contact")[1]
    assert "Data desk <data@example.org>" in contact
    assert "The Example Newsroom Lab" in card.split("## Dataset Card Authors")[1]
    assert "@article{example2025, title = {An Example}}" in card.split("## Citation")[1]
    assert "@misc{" not in card
    source = card.split("#### Who are the source data producers?")[1].split("### Annotations")[0]
    assert "Texts licensed from the outlets for research use only." in source


def test_gold_stance_for_an_unknown_target_refuses_the_release(
    tmp_path: Path, repo_root: Path, cli: Any
) -> None:
    """A gold stance whose target is not in the scheme was dropped silently before."""
    cfg, _ = build_corpus(tmp_path / "c", repo_root)
    gold_path = cfg.paths.build / "gold.jsonl"
    lines = gold_path.read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[0])
    rec["stances"].append({**rec["stances"][0], "target": "atlantis"})
    lines[0] = json.dumps(rec, sort_keys=True, ensure_ascii=False)
    gold_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = cli("release", "0.1.0", cwd=cfg.paths.root)
    assert res.exit_code == 1, res.stdout
    assert f"stance target 'atlantis' on article {rec['article_id']}" in res.stderr
    assert not (cfg.paths.dist / "0.1.0").exists()


def test_a_dispute_id_that_cannot_be_masked_is_a_data_error(disputed: Path, cli: Any) -> None:
    path = disputed / "build" / "disputes.json"
    tasks = orjson.loads(path.read_bytes())
    tasks[0]["data"]["dispute_ids"].append(f"{tasks[0]['data']['article_id']}/entities/somewhere")
    path.write_bytes(orjson.dumps(tasks))
    res = cli("release", "0.1.0", cwd=disputed)
    assert res.exit_code == 1, res.stdout
    assert "dispute id 'entities/somewhere' is not" in res.stderr
    assert "Regenerate it with `corpus adjudicate`." in res.stderr
    assert not (disputed / "dist" / "0.1.0").exists()


def _release_rows(folder: Path, config: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = []
    for path in sorted((folder / "data" / config).glob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return sorted(rows, key=lambda r: (r["article_id"], r.get("target") or "", r.get("start", 0)))


MASKED = {
    "entities": ("article_id", "tokens", "ner_mask", "disputed_regions"),
    "articles": (
        "article_id",
        "claims_complete",
        "open_entity_disputes",
        "open_stance_disputes",
        "open_claim_disputes",
    ),
    "claims": ("article_id", "text", "claims_complete", "open_claim_disputes"),
    "stance": ("article_id", "target"),
}


def test_dropped_ties_are_masked_like_open_disputes(
    disputed: Path, tmp_path: Path, repo_root: Path
) -> None:
    """tie_rule = "drop": the items left out of gold are recorded (gold.jsonl `dropped`) and
    the release masks them exactly as it masks the same items left open under "dispute"."""
    cfg = load_config(disputed / "corpus.toml")
    as_disputes = Path(build_release(config=cfg, version="0.1.0").path)
    toml = disputed / "corpus.toml"
    text = toml.read_text(encoding="utf-8")
    assert 'tie_rule = "dispute"' in text
    toml.write_text(text.replace('tie_rule = "dispute"', 'tie_rule = "drop"'), encoding="utf-8")
    cfg = load_config(toml)
    summary = adjudicate.run(config=cfg)
    assert summary["dropped"] == 3 and summary["open_disputes"] == 0
    assert orjson.loads((cfg.paths.build / "disputes.json").read_bytes()) == []
    gold = {
        g["article_id"]: g for g in map(orjson.loads, (cfg.paths.build / "gold.jsonl").open("rb"))
    }
    us = DISPUTED.index("US")
    second = DISPUTED.index("Russia denied the report")
    assert gold["disputed"]["dropped"] == sorted(
        [f"entities/{us}-{us + 2}", "stance/iran", f"claims/{second}-{second + 24}"]
    )
    assert all("dropped" not in g for k, g in gold.items() if k != "disputed")
    read = {g.article_id: g for g in adjudicate.read_gold(cfg.paths.build / "gold.jsonl")}
    assert list(read["disputed"].dropped) == gold["disputed"]["dropped"]
    assert all(g.dropped == () for k, g in read.items() if k != "disputed")
    as_drops = Path(build_release(config=cfg, version="0.2.0").path)
    for config, columns in MASKED.items():
        want = [{c: r[c] for c in columns} for r in _release_rows(as_disputes, config)]
        got = [{c: r[c] for c in columns} for r in _release_rows(as_drops, config)]
        assert got == want, config
    arts = {r["article_id"]: r for r in _release_rows(as_drops, "articles")}
    assert arts["disputed"]["claims_complete"] is False
    ents = {r["article_id"]: r for r in _release_rows(as_drops, "entities")}
    assert ents["disputed"]["ner_mask"][ents["disputed"]["tokens"].index("US")] is False
    card = (as_drops / "README.md").read_text(encoding="utf-8")
    assert "masked like open disputes" in card and "**not** masked" not in card
