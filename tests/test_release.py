"""`corpus release` + local publish: real Parquet, real `datasets.load_dataset` (in a subprocess
with HF_HUB_OFFLINE=1 and HF_HOME in tmp_path), splits, card, manifest, reproducibility."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_tools import adjudicate
from corpus_tools.config import load_config
from corpus_tools.errors import DataError
from corpus_tools.model import EntitySpan
from corpus_tools.publish import publish
from corpus_tools.release import build_release
from corpus_tools.release.splits import assign_splits
from corpus_tools.release.tokens import align, bio_names
from tests.release_corpus import (
    annotate,
    build_corpus,
    ent,
    make_article,
    run_python,
    span,
    task,
    write_articles,
    write_tasks,
)

LOAD_ALL = textwrap.dedent(
    """
    import json, sys
    from datasets import load_dataset
    out = {}
    for config in ["entities", "stance", "claims", "articles", "annotations"]:
        ds = load_dataset(sys.argv[1], config)
        out[config] = {
            "splits": {k: v.num_rows for k, v in ds.items()},
            "features": {k: repr(v) for k, v in ds["train"].features.items()},
            "rows": {k: v.to_list() for k, v in ds.items()},
        }
    feats = ds["train"].features
    ent = load_dataset(sys.argv[1], "entities")["train"].features
    out["entity_names"] = ent["entities"][0]["label"].names if isinstance(
        ent["entities"], list) else ent["entities"].feature["label"].names
    out["ner_names"] = ent["ner_tags"].feature.names
    st = load_dataset(sys.argv[1], "stance")["train"].features
    out["stance_names"] = st["label"].names
    print(json.dumps(out))
    """
)


def load_in_subprocess(folder: Path, home: Path) -> dict[str, Any]:
    """Real `load_dataset` on a local release folder, offline, with its own HF cache."""
    env = {
        "HF_HOME": str(home),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }
    result: dict[str, Any] = run_python(LOAD_ALL, str(folder), env=env)
    return result


@pytest.fixture
def corpus(tmp_path: Path, repo_root: Path) -> Path:
    root = tmp_path / "corpus"
    build_corpus(root, repo_root)
    return root


def test_release_loads_with_datasets(corpus: Path, tmp_path: Path, cli: Any) -> None:
    res = cli("release", "0.1.0", "--publish", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    assert 'load_dataset("hub/geonews/v0.1.0", "entities")' in res.stdout
    folder = corpus / "hub" / "geonews" / "v0.1.0"
    cfg = load_config(corpus / "corpus.toml")
    manifest = json.loads((folder / "manifest.json").read_text())
    got = load_in_subprocess(folder, tmp_path / "hf")

    # ClassLabel names in scheme order, from the card and the files.
    assert got["entity_names"] == list(cfg.scheme.entity_labels)
    assert got["ner_names"] == bio_names(cfg.scheme.entity_labels)
    assert got["stance_names"] == list(cfg.scheme.stance_labels)
    # Split sizes equal the manifest's counts; 8 articles, all annotated.
    for config, splits in manifest["counts"].items():
        assert got[config]["splits"] == splits
    assert sum(manifest["counts"]["articles"].values()) == 8
    assert sum(manifest["counts"]["stance"].values()) == 24  # 3 targets x 8 articles

    rows = {r["article_id"]: r for split in got["entities"]["rows"].values() for r in split}
    names = got["entity_names"]
    # A known entity of a seed article, with its exact text.
    seed = rows["seed-0"]
    ft = [e for e in seed["entities"] if e["text"] == "Financial Times"]
    assert ft and names[ft[0]["label"]] == "ORG"
    assert seed["text"][ft[0]["start"] : ft[0]["end"]] == "Financial Times"
    # Code-point offsets survive emoji, non-BMP letters, CRLF and combining accents.
    for row in rows.values():
        for e in row["entities"]:
            assert row["text"][e["start"] : e["end"]] == e["text"]
        tok, _ = align(
            row["text"],
            [
                EntitySpan(e["start"], e["end"], names[e["label"]], e["text"])
                for e in row["entities"]
            ],
            article_id=row["article_id"],
        )
        assert row["tokens"] == list(tok.tokens)
        assert [got["ner_names"][t] for t in row["ner_tags"]] == list(tok.tags)
    alpha = rows["tricky-1"]
    assert alpha["tokens"][0] == "𝔸lpha"
    assert got["ner_names"][alpha["ner_tags"][0]] == "B-ORG"
    assert any(e["text"] == "𝔸lpha Group" and e["start"] == 0 for e in alpha["entities"])
    assert "Cafe\u0301" in rows["tricky-2"]["tokens"]
    assert "😀" in rows["tricky-0"]["tokens"]

    # No story crosses splits (the card says so; this proves it).
    story_split: dict[str, set[str]] = {}
    for split, arts in got["articles"]["rows"].items():
        for a in arts:
            assert a["split"] == split
            story_split.setdefault(a["story_id"], set()).add(split)
    assert story_split and all(len(s) == 1 for s in story_split.values())
    card = (folder / "README.md").read_text()
    assert "no story crosses splits" in card
    assert {row["article_id"] for row in got["annotations"]["rows"]["train"]} <= {
        a["article_id"] for a in got["articles"]["rows"]["train"]
    }


def test_card_yaml_and_manifest(corpus: Path) -> None:
    cfg = load_config(corpus / "corpus.toml")
    result = build_release(config=cfg, version="v0.1.0")
    folder = Path(result.path)
    card = (folder / "README.md").read_text()
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["license"] == "cc-by-4.0"
    assert meta["language"] == ["en"]
    assert meta["pretty_name"] == cfg.pretty_name
    assert meta["annotations_creators"] == ["expert-generated"]
    assert meta["size_categories"] == ["n<1K"]
    assert [c["config_name"] for c in meta["configs"]] == [
        "entities",
        "stance",
        "claims",
        "articles",
        "annotations",
    ]
    info = {d["config_name"]: d for d in meta["dataset_info"]}
    manifest = json.loads((folder / "manifest.json").read_text())
    for name, d in info.items():
        assert {s["name"]: s["num_examples"] for s in d["splits"]} == manifest["counts"][name]
        sizes = sum(
            (folder / f).stat().st_size for f in manifest["files"] if f.startswith(f"data/{name}/")
        )
        assert d["download_size"] == sizes
    for name, meta_f in manifest["files"].items():
        import hashlib

        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == meta_f["sha256"]
    assert manifest["scheme_sha256"] == cfg.scheme.digest()
    # The Parquet files embed the same Features as the card's dataset_info.
    import pyarrow.parquet as pq
    from datasets import Features

    for name, d in info.items():
        yaml_features = Features._from_yaml_list(d["features"])
        for split in ("train", "validation", "test"):
            path = folder / "data" / name / f"{split}-00000-of-00001.parquet"
            meta = json.loads(pq.read_schema(path).metadata[b"huggingface"])
            assert Features.from_dict(meta["info"]["features"]) == yaml_features, (name, split)
    assert manifest["inputs"]["articles"]["path"] == "build/articles.parquet"
    assert len(manifest["inputs"]["annotations"]) == 8
    assert 'revision="v0.1.0"' in card and "commit sha" in card
    for label in cfg.scheme.entities:
        assert label.definition in card
    agreement = card.split("## Inter-annotator agreement")[1].split("## How to load")[0]
    assert "Krippendorff's α" in agreement and "16 annotations of 8 articles" in agreement
    assert "Gold labels come from: adjudication" in card
    assert manifest["inputs"]["gold"]["path"] == "build/gold.jsonl"


def test_release_needs_gold_records(corpus: Path, cli: Any) -> None:
    (corpus / "build" / "gold.jsonl").unlink()
    res = cli("release", "0.1.0", cwd=corpus)
    assert res.exit_code == 2
    assert "no gold records to release" in res.stderr
    assert "hint: Run `corpus adjudicate` first." in res.stderr
    assert not (corpus / "dist" / "0.1.0").exists()


def test_two_builds_are_byte_identical(tmp_path: Path, repo_root: Path) -> None:
    a, _ = build_corpus(tmp_path / "a", repo_root)
    b, _ = build_corpus(tmp_path / "elsewhere" / "b", repo_root)
    ra = build_release(config=a, version="0.3.1")
    first = {
        p.relative_to(ra.path): p.read_bytes() for p in Path(ra.path).rglob("*") if p.is_file()
    }
    again = build_release(config=a, version="0.3.1")
    rb = build_release(config=b, version="0.3.1")
    for res in (again, rb):
        files = {
            p.relative_to(res.path): p.read_bytes()
            for p in Path(res.path).rglob("*")
            if p.is_file()
        }
        assert files.keys() == first.keys()
        for name, data in files.items():
            assert data == first[name], name
    assert not any(str(tmp_path) in d.decode("utf-8", "replace") for d in first.values())


def test_splits_are_stable_and_changelog(corpus: Path, repo_root: Path) -> None:
    cfg = load_config(corpus / "corpus.toml")
    v1 = build_release(config=cfg, version="0.1.0")
    publish(config=cfg, version="0.1.0", target="local")
    m1 = json.loads((Path(v1.path) / "manifest.json").read_text())
    old = {row[0]: row[1] for row in m1["articles"]}
    # v0.2.0: one more article in the seeds' story, twelve new stories, one article removed.
    from tests.release_corpus import seed_articles, tricky_articles

    arts = seed_articles(repo_root) + tricky_articles()[1:]
    arts.append(make_article("seed-2", arts[0].text + "\nUpdate: talks continue.", "story-drones"))
    arts += [
        make_article(f"new-{i}", f"Report {i}: Iran and Russia signed a deal in Moscow.", f"s-{i}")
        for i in range(12)
    ]
    write_articles(corpus / "build" / "articles.parquet", arts)
    shutil.rmtree(corpus / "annotations")
    write_tasks(corpus / "annotations", [annotate(a, i + 1) for i, a in enumerate(arts)])
    adjudicate.run(config=cfg)
    v2 = build_release(config=cfg, version="0.2.0")
    assert v2.previous == "0.1.0"
    m2 = json.loads((Path(v2.path) / "manifest.json").read_text())
    new = {row[0]: row[1] for row in m2["articles"]}
    for aid, split in old.items():
        if aid in new:
            assert new[aid] == split, aid
    assert new["seed-2"] == old["seed-0"]
    assert set(new.values()) == {"train", "validation", "test"}
    card = (Path(v2.path) / "README.md").read_text()
    changelog = card.split("## Changelog")[1]
    assert "| added | 13 |" in changelog and "`seed-2`" in changelog
    assert "| removed | 1 | `tricky-0` |" in changelog
    assert "entities | GPE |" in changelog


def test_assign_splits_never_splits_a_story() -> None:
    arts = [(f"a{i}", f"s{i % 7}") for i in range(50)] + [("lonely", None)]
    prev = {"a0": "test", "a7": "train", "a14": "train"}  # story s0 was split: it must merge
    out, findings = assign_splits(arts, load_config_splits(), prev)
    by_story: dict[str, set[str]] = {}
    for aid, story in arts:
        by_story.setdefault(story or aid, set()).add(out[aid])
    assert all(len(s) == 1 for s in by_story.values())
    assert out["a0"] == "train"
    assert [f.slug for f in findings] == ["split-moved"]


def load_config_splits() -> Any:
    from corpus_tools.config import SplitConfig

    return SplitConfig(train=0.7, validation=0.15, test=0.15, seed="x")


def test_label_ids_are_append_only(corpus: Path, cli: Any) -> None:
    assert cli("release", "0.1.0", "--publish", cwd=corpus).exit_code == 0
    toml = (corpus / "corpus.toml").read_text()
    swapped = (
        toml.replace('label = "PER"', 'label = "TMP"')
        .replace('label = "ORG"', 'label = "PER"')
        .replace('label = "TMP"', 'label = "ORG"')
    )
    (corpus / "corpus.toml").write_text(swapped)
    res = cli("release", "0.2.0", cwd=corpus)
    assert res.exit_code == 2
    assert "id 0 was 'PER' in 0.1.0, now 'ORG'" in res.stderr
    assert "Append new labels at the end" in res.stderr
    assert not (corpus / "dist" / "0.2.0").exists()
    # Appending a label at the end keeps every id: accepted.
    law = '\n[[scheme.entities]]\nlabel = "LAW"\nname = "Law"\ndefinition = "A named law."\n'
    (corpus / "corpus.toml").write_text(toml + law)
    res = cli("release", "0.2.0", "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    labels = json.loads((corpus / "dist" / "0.2.0" / "manifest.json").read_text())["labels"]
    assert labels["entities"][-1] == "LAW" and labels["ner_tags"][-2:] == ["B-LAW", "I-LAW"]


def test_unknown_label_refuses_the_release(corpus: Path, cli: Any) -> None:
    cfg = load_config(corpus / "corpus.toml")
    art = make_article("odd", "Iran 😀 and the Moon.", "story-odd")
    write_tasks(
        corpus / "annotations",
        [task(99, art, [("annotator-a", [ent("e1", art.text, "Moon", "MOON")])])],
    )
    arts = [*_articles(corpus), art]
    write_articles(corpus / "build" / "articles.parquet", arts)
    adjudicate.run(config=cfg)
    with pytest.raises(DataError, match="label 'MOON' on article odd is not in the scheme"):
        build_release(config=cfg, version="0.1.0")
    assert not (corpus / "dist" / "0.1.0").exists()


def _articles(corpus: Path) -> list[Any]:
    from corpus_tools.store import iter_articles

    return list(iter_articles(corpus / "build" / "articles.parquet"))


def test_span_inside_token_is_split_and_reported(corpus: Path) -> None:
    cfg = load_config(corpus / "corpus.toml")
    art = make_article("partial", "Pro-Russian drones 😀 hit Kyiv.", "story-partial")
    start = art.text.index("Russian")
    results = [span("p1", art.text, start, start + len("Russia"), "GPE")]
    write_tasks(corpus / "annotations", [task(77, art, [("annotator-a", results)])])
    write_articles(corpus / "build" / "articles.parquet", [*_articles(corpus), art])
    adjudicate.run(config=cfg)
    result = build_release(config=cfg, version="0.1.0")
    found = [f for f in result.findings if f.slug == "span-splits-token" and f.task_id == "partial"]
    assert found and "'Russian'" in found[0].message
    tok, _ = align(art.text, [EntitySpan(start, start + 6, "GPE", "Russia")], article_id="x")
    assert "Russia" in tok.tokens and "n" in tok.tokens
    assert tok.tags[tok.tokens.index("Russia")] == "B-GPE"


def test_cli_json_equals_library(corpus: Path, cli: Any) -> None:
    res = cli("release", "0.1.0", "--json", cwd=corpus)
    assert res.exit_code == 0, res.stderr
    lib = build_release(config=load_config(corpus / "corpus.toml"), version="0.1.0")
    assert json.loads(res.stdout) == json.loads(json.dumps(lib.to_dict()))
    res = cli("publish", "0.1.0", "--dry-run", "--json", cwd=corpus)
    assert res.exit_code == 0
    dry = json.loads(res.stdout)
    assert dry["dry_run"] and "manifest.json" in dry["added"]
    assert not (corpus / "hub").exists()
    res = cli("publish", "0.1.0", "--json", cwd=corpus)
    assert json.loads(res.stdout)["location"].endswith("hub/geonews/v0.1.0")


def test_existing_local_version_is_refused(corpus: Path, cli: Any) -> None:
    assert cli("release", "0.1.0", "--publish", cwd=corpus).exit_code == 0
    before = sorted(p.read_bytes() for p in (corpus / "hub").rglob("*") if p.is_file())
    # Identical files: one answer, exit 0, for publish and release --publish (issue 15.2);
    # other files are refused (tests/test_release_versions.py).
    res = cli("publish", "0.1.0", cwd=corpus)
    assert res.exit_code == 0
    assert "v0.1.0 already published (identical files)" in res.stdout
    assert sorted(p.read_bytes() for p in (corpus / "hub").rglob("*") if p.is_file()) == before
    dist_card = (corpus / "dist" / "0.1.0" / "README.md").stat().st_mtime_ns
    res = cli("release", "0.1.0", "--publish", cwd=corpus)
    assert res.exit_code == 0 and "already published (identical files)" in res.stdout
    assert (corpus / "dist" / "0.1.0" / "README.md").stat().st_mtime_ns == dist_card
    res = cli("publish", "0.9.0", cwd=corpus)
    assert res.exit_code == 2 and "no built release here" in res.stderr
    assert "hint: Build it first: `corpus release 0.9.0`." in res.stderr
    res = cli("release", "1.0", cwd=corpus)
    assert res.exit_code == 2 and "X.Y.Z" in res.stderr


def test_tampered_release_is_not_published(corpus: Path, cli: Any) -> None:
    assert cli("release", "0.1.0", cwd=corpus).exit_code == 0
    card = corpus / "dist" / "0.1.0" / "README.md"
    card.write_text(card.read_text() + "\nedited by hand\n")
    res = cli("publish", "0.1.0", cwd=corpus)
    assert res.exit_code == 1
    assert "files differ from manifest.json: README.md" in res.stderr


ALPHABET = st.sampled_from(["a", "b", "Z", " ", "\r\n", "😀", "𝔸", "e\u0301", ".", "-", "7"])


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    pieces=st.lists(ALPHABET, min_size=1, max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8),
    labels=st.lists(st.sampled_from(["GPE", "PER"]), min_size=8, max_size=8),
    touching=st.booleans(),
)
def test_bio_tags_match_character_spans(
    pieces: list[str], cuts: list[int], labels: list[str], touching: bool
) -> None:
    text = "".join(pieces)
    points = sorted({c % (len(text) + 1) for c in cuts})
    # labels may repeat and spans may touch: a span right after one of the same label still
    # starts with B-
    pairs = (
        list(itertools.pairwise(points))
        if touching
        else list(zip(points[::2], points[1::2], strict=False))
    )
    spans = [EntitySpan(a, b, labels[i], text[a:b]) for i, (a, b) in enumerate(pairs) if a < b]
    tok, findings = align(text, spans, article_id="p")
    assert list(tok.tokens) == [text[a:b] for a, b in tok.offsets]
    assert all(not t.isspace() and t for t in tok.tokens)
    for (a, b), tag in zip(tok.offsets, tok.tags, strict=True):
        inside = [e for e in spans if e.start <= a and b <= e.end]
        for e in spans:  # no token straddles a span boundary
            assert not (a < e.start < b or a < e.end < b)
        if not inside:
            assert tag == "O"
        else:
            e = inside[0]
            first = min(x for x, _ in [o for o in tok.offsets if o[0] >= e.start and o[1] <= e.end])
            assert tag == f"{'B' if a == first else 'I'}-{e.label}"
    assert all(f.slug in {"span-splits-token", "entity-without-tokens"} for f in findings)


def test_rename_needs_a_recorded_migration(corpus: Path) -> None:
    from dataclasses import replace

    from corpus_tools.errors import ConfigError
    from corpus_tools.release.features import check_append_only, label_lists

    scheme = load_config(corpus / "corpus.toml").scheme
    before = label_lists(scheme)
    renamed = replace(
        scheme,
        entities=(replace(scheme.entities[0], label="PERSON"), *scheme.entities[1:]),
    )
    with pytest.raises(ConfigError, match=r"id 0 was 'PER' in 0\.1\.0, now 'PERSON'"):
        check_append_only(before, label_lists(renamed), renamed, since="0.1.0")
    migrated = replace(
        renamed,
        migrations=(
            {
                "version": "0.2.0",
                "layer": "entities",
                "action": "rename",
                "label": "PER",
                "to": "PERSON",
            },
        ),
    )
    check_append_only(before, label_lists(migrated), migrated, since="0.1.0")
    dropped = replace(scheme, stance_labels=scheme.stance_labels[:-1])
    with pytest.raises(ConfigError, match="id 3 \\('unrelated'\\) was removed"):
        check_append_only(before, label_lists(dropped), dropped, since="0.1.0")


def test_label_range_check_catches_ids_beyond_the_names() -> None:
    import pyarrow as pa

    from corpus_tools.release.features import features_for
    from corpus_tools.release.parquet import check_label_ranges

    labels = {
        "entities": ["PER", "ORG"],
        "ner_tags": bio_names(["PER", "ORG"]),
        "stance": ["favor", "against"],
        "checkworthy": ["yes", "no"],
    }
    feats = features_for("entities", labels)
    row = {
        "article_id": "a",
        "text": "Ann",
        "entities": [{"start": 0, "end": 3, "label": 1, "text": "Ann"}],
        "tokens": ["Ann"],
        "ner_tags": [4],
    }
    check_label_ranges(pa.Table.from_pylist([row], schema=feats.arrow_schema), feats)
    bad = {**row, "ner_tags": [5]}
    with pytest.raises(DataError, match=r"ner_tags\[\]: class id out of range \[5, 5\] for 5"):
        check_label_ranges(pa.Table.from_pylist([bad], schema=feats.arrow_schema), feats)
    bad = {**row, "entities": [{"start": 0, "end": 3, "label": 2, "text": "Ann"}]}
    with pytest.raises(DataError, match=r"entities\[\]\.label"):
        check_label_ranges(pa.Table.from_pylist([bad], schema=feats.arrow_schema), feats)


@pytest.mark.parametrize(
    ("n", "category"),
    [
        (0, "n<1K"),
        (999, "n<1K"),
        (1000, "1K<n<10K"),
        (99_999, "10K<n<100K"),
        (100_000, "100K<n<1M"),
        (12_000_000, "10M<n<100M"),
    ],
)
def test_size_category(n: int, category: str) -> None:
    from corpus_tools.release.card import size_category

    assert size_category(n) == category


def test_agreement_on_a_bounded_sample(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from corpus_tools.release import build

    monkeypatch.setattr(build, "AGREEMENT_MAX_ARTICLES", 3)
    result = build_release(config=load_config(corpus / "corpus.toml"), version="0.1.0")
    card = (Path(result.path) / "README.md").read_text()
    section = card.split("## Inter-annotator agreement")[1].split("## How to load")[0]
    assert "deterministic sample of 3 of 8 articles" in section
    assert "6 annotations of 3 articles" in section


@settings(max_examples=100, deadline=None)
@given(
    stories=st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=60),
    previous=st.dictionaries(
        st.integers(min_value=0, max_value=59),
        st.sampled_from(["train", "validation", "test"]),
        max_size=30,
    ),
)
def test_splits_property(stories: list[int], previous: dict[int, str]) -> None:
    arts = [(f"a{i}", f"s{story}") for i, story in enumerate(stories)]
    prev = {f"a{i}": split for i, split in previous.items() if i < len(arts)}
    out, findings = assign_splits(arts, load_config_splits(), prev)
    assert set(out) == {a for a, _ in arts}
    by_story: dict[str, set[str]] = {}
    for aid, story in arts:
        by_story.setdefault(story, set()).add(out[aid])
    assert all(len(s) == 1 for s in by_story.values())  # no story crosses splits
    moved = {f.task_id for f in findings}
    for aid, split in prev.items():  # an article keeps its split unless reported as moved
        assert out[aid] == split or aid in moved
    again, _ = assign_splits(list(reversed(arts)), load_config_splits(), prev)
    assert again == out  # independent of input order


def _reference_splits(
    articles: list[tuple[str, str | None]], ratios: Any, previous: dict[str, str]
) -> tuple[dict[str, str], list[Any]]:
    """The split rules written plainly over dicts (the release's first implementation, kept
    here as the oracle of `assign_split_codes`)."""
    import hashlib
    from collections import Counter, defaultdict

    from corpus_tools.model import Finding
    from corpus_tools.release.features import SPLITS

    tie = {"test": 0, "validation": 1, "train": 2}
    clusters: dict[str, list[str]] = defaultdict(list)
    for article_id, story_id in articles:
        clusters[story_id or f"article:{article_id}"].append(article_id)
    out: dict[str, str] = {}
    findings: list[Finding] = []
    counts: Counter[str] = Counter()
    new_clusters: list[str] = []
    for cluster, members in clusters.items():
        before = Counter(previous[a] for a in members if a in previous)
        if not before:
            new_clusters.append(cluster)
            continue
        split = min(before, key=lambda s: (-before[s], tie.get(s, 3)))
        for a in members:
            out[a] = split
            if a in previous and previous[a] != split:
                findings.append(
                    Finding(
                        slug="split-moved",
                        severity="warning",
                        message=(
                            f"article {a} moves from {previous[a]} to {split}: its story "
                            f"cluster {cluster} now also holds articles released in {split}"
                        ),
                        task_id=a,
                        hint="The story clustering changed; the changelog lists the move.",
                    )
                )
        counts[split] += len(members)
    share = {"train": ratios.train, "validation": ratios.validation, "test": ratios.test}
    total = sum(len(m) for m in clusters.values())
    seed = ratios.seed.encode("utf-8")
    for cluster in sorted(
        new_clusters, key=lambda c: hashlib.sha256(seed + b"\0" + c.encode("utf-8")).hexdigest()
    ):
        split = max(
            SPLITS, key=lambda s: (share[s] * total - counts[s], share[s], -SPLITS.index(s))
        )
        for a in clusters[cluster]:
            out[a] = split
        counts[split] += len(clusters[cluster])
    return out, findings


@settings(max_examples=200)
@given(
    stories=st.lists(
        st.sampled_from([None, "", "s0", "s1", "s2", "s3", "a1", "article:a1", "article:a2"]),
        max_size=40,
    ),
    previous=st.dictionaries(
        st.integers(min_value=0, max_value=45),
        st.sampled_from(["train", "validation", "test", "dev"]),
        max_size=30,
    ),
    seed=st.text(max_size=3),
)
def test_split_codes_equal_the_plain_rules(
    stories: list[str | None], previous: dict[int, str], seed: str
) -> None:
    """The release assigns splits over Arrow columns (`assign_split_codes`, memory flat):
    the same splits and findings, in the same order, as the rules written over dicts,
    with stories missing or empty, a story id that names an article's own cluster, and a
    previous release with a split name outside the three."""
    from corpus_tools.config import SplitConfig
    from corpus_tools.release.splits import assign_split_codes

    arts = [(f"a{i}", story) for i, story in enumerate(stories)]
    prev = {f"a{i}": split for i, split in previous.items()} | {"gone": "test"}
    ratios = SplitConfig(train=0.6, validation=0.25, test=0.15, seed=seed)
    out, findings = _reference_splits(arts, ratios, prev)
    codes, names, code_findings = assign_split_codes(
        pa.array([a for a, _ in arts], pa.string()),
        pa.array([s for _, s in arts], pa.string()),
        ratios,
        prev,
    )
    assert {a: names[c] for (a, _), c in zip(arts, codes.tolist(), strict=True)} == out
    assert code_findings == findings


def test_gold_on_a_changed_text_refuses_the_release(corpus: Path, cli: Any) -> None:
    arts = _articles(corpus)
    changed = make_article("tricky-0", arts[2].text + " Corrected.", arts[2].story_id)
    assert arts[2].article_id == "tricky-0"
    write_articles(corpus / "build" / "articles.parquet", [*arts[:2], changed, *arts[3:]])
    res = cli("release", "0.1.0", cwd=corpus)
    assert res.exit_code == 1
    assert "the gold record of article tricky-0 was made on a different text" in res.stderr
    assert "hint: Run `corpus adjudicate` again on the current articles." in res.stderr
    assert not (corpus / "dist" / "0.1.0").exists()


def test_open_disputes_are_reported_in_findings_and_card(corpus: Path) -> None:
    cfg = load_config(corpus / "corpus.toml")
    arts = _articles(corpus)
    write_tasks(corpus / "annotations", [annotate(arts[0], 1, extra=True)])  # one-sided "US"
    adjudicate.run(config=cfg)
    result = build_release(config=cfg, version="0.1.0")
    disputed = [f for f in result.findings if f.slug == "open-dispute"]
    assert [f.task_id for f in disputed] == ["seed-0"]
    assert "entities/" in disputed[0].message
    card = (Path(result.path) / "README.md").read_text()
    assert "1 article(s) still have 1 open dispute(s)" in card
    manifest = json.loads((Path(result.path) / "manifest.json").read_text())
    assert manifest["inputs"]["disputes"]["path"] == "build/disputes.json"


COUNT_ROWS = textwrap.dedent(
    """
    import json, sys
    from datasets import load_dataset
    print(json.dumps([
        sorted(load_dataset(folder, "articles")["train"]["article_id"]) for folder in sys.argv[1:]
    ]))
    """
)


def test_same_version_name_in_two_corpora_does_not_collide_in_the_cache(
    tmp_path: Path, repo_root: Path
) -> None:
    """`datasets` keys a local folder's cache on its name and the card's YAML: the card's full
    dataset_info (sizes, counts) keeps two different `v0.1.0` folders apart."""
    from tests.release_corpus import tricky_articles

    a, _ = build_corpus(tmp_path / "a", repo_root)
    b, _ = build_corpus(tmp_path / "b", repo_root, articles=tricky_articles()[:3])
    folders = []
    for cfg in (a, b):
        build_release(config=cfg, version="0.1.0")
        folders.append(publish(config=cfg, version="0.1.0", target="local").location)
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1"}
    got_a, got_b = run_python(COUNT_ROWS, *folders, env=env)
    for cfg, got in ((a, got_a), (b, got_b)):
        manifest = json.loads((cfg.paths.dist / "0.1.0" / "manifest.json").read_text())
        assert got == sorted(r[0] for r in manifest["articles"] if r[1] == "train")
    assert got_a != got_b


GOLDEN_YAML = Path(__file__).parent / "golden" / "release_card_metadata.yml"


def test_card_metadata_golden(corpus: Path) -> None:
    """The card's YAML block (configs, dataset_info with features and sizes) of the test corpus.

    Regenerate after an intended change with:
    CORPUS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_release.py -k golden
    """
    result = build_release(config=load_config(corpus / "corpus.toml"), version="0.1.0")
    card = (Path(result.path) / "README.md").read_text(encoding="utf-8")
    front = card.split("---\n")[1]
    if os.environ.get("CORPUS_UPDATE_GOLDEN"):
        GOLDEN_YAML.parent.mkdir(exist_ok=True)
        GOLDEN_YAML.write_text(front, encoding="utf-8")
    assert front == GOLDEN_YAML.read_text(encoding="utf-8")


def test_card_shows_the_stance_question_as_annotators_read_it(corpus: Path) -> None:
    """Loose end of issue 10: `{{`/`}}` in the question are literal braces in Label Studio (a
    str.format template), so the card shows single braces too, and `{target}` as the target."""
    from corpus_tools.labeling_config import render

    toml = corpus / "corpus.toml"
    text = toml.read_text(encoding="utf-8")
    old = 'question = "Taken as a whole, how does the article present {target}?"'
    assert old in text
    toml.write_text(
        text.replace(old, 'question = "Is {target} shown {{for}} or {{against}}?"'),
        encoding="utf-8",
    )
    cfg = load_config(corpus / "corpus.toml")
    name = cfg.scheme.stance_targets[0].name
    assert f"Is {name} shown {{for}} or {{against}}?" in render(cfg)
    card = (Path(build_release(config=cfg, version="v0.1.0").path) / "README.md").read_text()
    stance = card.split("#### Stance")[1].split("####")[0]
    assert "Is *the target* shown {for} or {against}?" in stance
    assert "{{" not in stance and "}}" not in stance


def test_the_synthetic_corpora_are_valid_label_studio_exports(
    tmp_path: Path, repo_root: Path, cli: Any
) -> None:
    """tests/release_corpus.py writes spans as Label Studio writes them (value.text on every
    span, start/end/text on per-region choices, every stance target answered), so
    `corpus validate` finds nothing wrong with them."""
    from tests.release_corpus import claim, stance

    cfg, arts = build_corpus(tmp_path / "c", repo_root)
    art = make_article("edge", "Pro-Russian drones 😀 hit Kyiv.", "story-edge")
    start = art.text.index("😀")
    extra = [span("s1", art.text, start, start + 1, "WEAPON")]
    extra += claim("c0", art.text, "Pro-Russian drones", "check-worthy")
    extra += [stance(t.id, "unrelated") for t in cfg.scheme.stance_targets]
    both = [("annotator-a", extra), ("annotator-b", extra)]
    write_tasks(cfg.paths.annotations, [task(900, art, both)])
    write_articles(cfg.paths.articles_parquet, [*arts, art])
    res = cli("validate", "annotations", "--format", "json", cwd=tmp_path / "c")
    report = json.loads(res.stdout)
    assert res.exit_code == 0 and report["findings"] == [], res.stdout[-3000:]
    assert report["stats"]["tasks"] == 9, res.stdout[-2000:]
    emoji = json.loads((cfg.paths.annotations / "task-00900.json").read_bytes())
    assert emoji["annotations"][0]["result"][0]["value"]["text"] == "😀"
