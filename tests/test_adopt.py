"""Adopt an existing Label Studio project end to end (issue 12, "Show").

A project made elsewhere (tests/data/adopt/label-config.xml: a <Text> named `content`, spans in
`ner` with the claim label beside the entity labels, per-region `verifiable` choices and
`source` text areas, a `said_by` relation, ONE `stance` <Choices> with the target in the task
data; tasks without `text_sha256`, some without `article_id`; emoji, 𝔸, CRLF, combining marks)
goes through `corpus init --from-label-config`, `corpus ingest <export>`, `corpus ls import
<export>`, `validate`, `agree`, `adjudicate`, `release`, then `datasets.load_dataset`.

Expectations are computed here from the raw export (the results' own offsets and labels), not
through the library: gold is what both annotators marked alike (a region they marked
differently is a dispute), a stance row exists only for the target the task asked and both
annotators answered alike. The live test builds the project on the real server
(`scripts/make_adopt_sample.build_project`), plants a span with UTF-16 offsets after an emoji
(what an old client sends) and checks validation names exactly it; the server-free test runs
the same commands on the committed export, as the README shows them.
"""

from __future__ import annotations

import copy
import itertools
import json
import sys
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from ls_server import LabelStudioFixture

from corpus_tools.adjudicate import adjudicate
from corpus_tools.agreement import agree
from corpus_tools.agreement.report import ALL
from corpus_tools.config import load_config
from corpus_tools.model import Annotation, AnnotationSource, EntitySpan, StanceJudgement

REPO = Path(__file__).resolve().parent.parent
ADOPT = REPO / "tests" / "data" / "adopt"
CONFIG_XML = ADOPT / "label-config.xml"
EXPORT = ADOPT / "export.json"
sys.path.insert(0, str(REPO / "scripts"))

import make_adopt_sample as sample  # noqa: E402

CLAIM = "Claim"


# --- what the export says, read independently of the library ---------------------------------


def article_id(task: dict[str, Any]) -> str:
    return task["data"].get("article_id") or f"task-{task['id']}"


def target_id(name: str) -> str:
    return {"NATO": "nato", "the EU": "the_eu"}[name]


def versions(task: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each annotator's (by e-mail) entities, claims and stance, from the raw results."""
    out: dict[str, dict[str, Any]] = {}
    text = task["data"]["content"]
    for ann in task["annotations"]:
        if ann["was_cancelled"]:
            continue
        res = ann["result"]
        by_id = {r["id"]: r for r in res if r.get("type") == "labels"}
        ents = {
            (v["start"], v["end"], v["labels"][0])
            for r in res
            if r.get("type") == "labels" and (v := r["value"])["labels"][0] != CLAIM
        }
        claims = set()
        for r in res:
            if r.get("type") != "labels" or r["value"]["labels"][0] != CLAIM:
                continue
            v = r["value"]
            cw = next(
                x["value"]["choices"][0]
                for x in res
                if x.get("id") == r["id"] and x["from_name"] == "verifiable"
            )
            rel = [x for x in res if x.get("type") == "relation" and x["from_id"] == r["id"]]
            typed = [x for x in res if x.get("id") == r["id"] and x["from_name"] == "source"]
            if rel:
                e = by_id[rel[0]["to_id"]]["value"]
                claimant = text[e["start"] : e["end"]]
            else:
                claimant = typed[0]["value"]["text"][0]
            claims.add((v["start"], v["end"], cw, claimant))
        (stance,) = [r["value"]["choices"][0] for r in res if r.get("from_name") == "stance"]
        out[ann["completed_by"]["email"]] = {
            "entities": ents,
            "claims": claims,
            "stance": stance,
            "order": (ann["updated_at"], ann["id"]),
        }
    return out


def per_article(export: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """{article: {annotator: version}} over an article's tasks (one per target asked): the
    spans of the annotator's latest annotation, their stance answer per target."""
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for task in export:
        target = target_id(task["data"]["target"])
        for who, v in versions(task).items():
            mine = out[article_id(task)].setdefault(who, {"stances": {}, "order": ("", -1)})
            mine["stances"][target] = v["stance"]
            if v["order"] > mine["order"]:
                mine.update(entities=v["entities"], claims=v["claims"], order=v["order"])
    return out


def stance_items(export: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """The answers per (article, asked target)."""
    items: dict[tuple[str, str], list[str]] = defaultdict(list)
    for aid, anns in per_article(export).items():
        for v in anns.values():
            for target, label in v["stances"].items():
                items[aid, target].append(label)
    return items


def agreed_spans(sets: list[set[tuple[Any, ...]]]) -> set[tuple[Any, ...]]:
    """Gold spans: one annotator -> theirs; two -> those both marked, unless another span
    (of either) overlaps them (that region is disputed)."""
    if len(sets) == 1:
        return set(sets[0])
    both = set.intersection(*sets)
    every = set.union(*sets)
    return {s for s in both if not any(o != s and o[0] < s[1] and s[0] < o[1] for o in every)}


def expected(export: list[dict[str, Any]]) -> dict[str, Any]:
    """Gold entities, claims and stance rows, and the disputed stance items, per article."""
    texts = {article_id(t): t["data"]["content"] for t in export}
    arts = per_article(export)
    stance: set[tuple[str, str, str]] = set()
    disputed_stance: set[tuple[str, str]] = set()
    for (aid, target), answers in stance_items(export).items():
        if len(set(answers)) == 1:
            stance.add((aid, target, answers[0]))
        else:
            disputed_stance.add((aid, target))
    return {
        "entities": {
            a: agreed_spans([v["entities"] for v in vs.values()]) for a, vs in arts.items()
        },
        "claims": {a: agreed_spans([v["claims"] for v in vs.values()]) for a, vs in arts.items()},
        "stance": stance,
        "disputed_stance": disputed_stance,
        "texts": texts,
    }


def percent_stance_agreement(export: list[dict[str, Any]]) -> float:
    """Mean pairwise agreement over the (article, asked target) items with two answers."""
    per_item = []
    for answers in stance_items(export).values():
        pairs = list(itertools.combinations(answers, 2))
        if pairs:
            per_item.append(sum(a == b for a, b in pairs) / len(pairs))
    return sum(per_item) / len(per_item)


# --- the commands ----------------------------------------------------------------------------


def adopt(cli: Any, root: Path, export: Path) -> Path:
    """`corpus init --from-label-config`, `ingest`, `ls import` into `root/adopted`."""
    res = cli(
        "init",
        "adopted",
        "--from-label-config",
        str(CONFIG_XML),
        "--tasks",
        str(export),
        cwd=root,
    )
    assert res.exit_code == 0, res.output
    corpus = root / "adopted"
    res = cli("ingest", str(export), "--json", "-q", cwd=corpus)
    assert res.exit_code == 0, res.output
    tasks = json.loads(export.read_text(encoding="utf-8"))
    assert json.loads(res.stdout)["articles"] == len({article_id(t) for t in tasks})
    key = root / "pseudonym.key"  # outside the corpus, as `corpus ls pull` wants it
    key.write_text("a secret of this test\n", encoding="utf-8")
    res = cli("ls", "import", str(export), "--pseudonym-key-file", str(key), "--json", cwd=corpus)
    assert res.exit_code == 0, res.output
    return corpus


def validate_json(cli: Any, corpus: Path) -> tuple[int, dict[str, Any]]:
    res = cli("validate", "annotations", "--json", cwd=corpus)
    assert res.exit_code in (0, 1), res.output
    return res.exit_code, json.loads(res.stdout)


def run_stages(cli: Any, corpus: Path, export: list[dict[str, Any]]) -> None:
    """validate, agree, adjudicate, release and load_dataset; every figure checked against
    `expected(export)`."""
    want = expected(export)
    code, report = validate_json(cli, corpus)
    assert code == 0, report["findings"]
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    # the articles table holds each task's text (same sha256): nothing says "not tied"
    assert not [f for f in report["findings"] if f["slug"] == "text-not-tied"]

    res = cli("agree", "--json", "--bootstrap", "50", "-q", cwd=corpus)
    assert res.exit_code == 0, res.output
    agreement = json.loads(res.stdout)
    stance = {s["target"]: s for s in agreement["stance"]}
    # one item per (article, the target its task asked) rated twice: never the other target
    asked = Counter(t for (_, t), answers in stance_items(export).items() if len(answers) > 1)
    assert {k: v["items"] for k, v in stance.items() if k != ALL} == dict(asked)
    assert stance[ALL]["items"] == sum(asked.values())
    assert stance[ALL]["percent"]["value"] == pytest.approx(percent_stance_agreement(export))

    # exact span F1 over the annotator pairs of each article (micro): 2|A∩B| / (|A| + |B|)
    matched = total = 0
    for anns in per_article(export).values():
        for a, b in itertools.combinations(anns.values(), 2):
            matched += len(a["entities"] & b["entities"])
            total += len(a["entities"]) + len(b["entities"])
    assert agreement["entities"]["overall"]["exact_f1"]["value"] == pytest.approx(
        2 * matched / total
    )

    res = cli("adjudicate", "--json", cwd=corpus)
    assert res.exit_code == 0, res.output
    adjudicated = json.loads(res.stdout)
    stance_disputes = {
        (d["article_id"], d["target"]) for d in adjudicated["disputes"] if d["layer"] == "stance"
    }
    assert stance_disputes == want["disputed_stance"]

    res = cli("release", "0.1.0", "--json", "-q", cwd=corpus)
    assert res.exit_code == 0, res.output
    folder = corpus / "dist" / "0.1.0"
    rows = load_release(folder, corpus.parent / "hf-cache")

    texts = want["texts"]
    got_ents = {r["article_id"]: r for r in rows["entities"]}
    assert set(got_ents) == set(want["entities"])
    for aid, row in got_ents.items():
        assert row["text"] == texts[aid]
        spans = {(e["start"], e["end"], ENTITY_NAMES[e["label"]]) for e in row["entities"]}
        assert spans == want["entities"][aid], aid
        for e in row["entities"]:
            assert texts[aid][e["start"] : e["end"]] == e["text"]
    got_stance = {(r["article_id"], r["target"], STANCE_NAMES[r["label"]]) for r in rows["stance"]}
    assert got_stance == want["stance"]
    got_claims: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
    for r in rows["claims"]:
        s, e = r["span"]["start"], r["span"]["end"]
        assert texts[r["article_id"]][s:e] == r["text"]
        got_claims[r["article_id"]].add((s, e, CW_NAMES[r["checkworthy"]], r["claimant"]))
    assert dict(got_claims) == {k: v for k, v in want["claims"].items() if v}

    # the training set from that release: only a disputed asked target is missing
    from corpus_tools.models.data import from_release

    ts = from_release(load_config(corpus / "corpus.toml"), folder)
    missing = {(g.article_id, t) for g in ts for t in g.missing_stances}
    assert missing == want["disputed_stance"]


ENTITY_NAMES = ["PER", "ORG", "LOC"]
STANCE_NAMES = ["support", "oppose", "neutral", "off-topic"]
CW_NAMES = ["verifiable", "opinion"]


def load_release(folder: Path, cache: Path) -> dict[str, list[dict[str, Any]]]:
    """Every row of the entities, stance and claims configs, through `datasets.load_dataset`
    (all splits); the ClassLabel names checked against the scheme's order."""
    from datasets import load_dataset

    out: dict[str, list[dict[str, Any]]] = {}
    for config in ("entities", "stance", "claims"):
        ds = load_dataset(str(folder), config, cache_dir=str(cache))
        out[config] = [row for split in ds.values() for row in split.to_list()]
        feats = next(iter(ds.values())).features
        if config == "stance":
            assert feats["label"].names == STANCE_NAMES
        if config == "claims":
            assert feats["checkworthy"].names == CW_NAMES
        if config == "entities":
            ents = feats["entities"]
            label = ents[0]["label"] if isinstance(ents, list) else ents.feature["label"]
            assert label.names == ENTITY_NAMES
    return out


def plant_utf16(export: list[dict[str, Any]]) -> tuple[int, int]:
    """Shift the first span after an emoji to UTF-16 offsets (as an old client writes them);
    returns (task id, annotation id) of the planted annotation."""
    for task in export:
        text = task["data"]["content"]
        for ann in task["annotations"]:
            for r in ann["result"]:
                v = r.get("value", {})
                if r.get("type") != "labels" or not any(
                    ord(c) > 0xFFFF for c in text[: v["start"]]
                ):
                    continue
                extra = sum(ord(c) > 0xFFFF for c in text[: v["start"]])
                v["start"] += extra
                v["end"] += extra
                return task["id"], ann["id"]
    raise AssertionError("no span after a non-BMP character")


# --- the tests -------------------------------------------------------------------------------


def test_committed_export_is_the_sample() -> None:
    """The committed export is what scripts/make_adopt_sample.py asks for: every task's data,
    and each annotator's results exactly as the script builds them (code-point offsets)."""
    export = json.loads(EXPORT.read_text(encoding="utf-8"))
    assert [t["data"] for t in export] == sample.TASKS
    for i, task in enumerate(export):
        got = {a["completed_by"]["email"]: a["result"] for a in task["annotations"]}
        want = {
            f"{who}@example.org": sample.results(sample.TASKS[i]["content"], spec, f"{who[0]}{i}")
            for who, spec in sample.LABELS[i].items()
        }
        assert got == want
        assert "text_sha256" not in task["data"]
    emails = {a["completed_by"]["email"] for t in export for a in t["annotations"]}
    assert emails == {"anna@example.org", "ben@example.org"}  # made-up users only


def test_adopt_committed_export(cli: Any, tmp_path: Path) -> None:
    """The README's path on the committed export: every stage, load_dataset at the end."""
    export = json.loads(EXPORT.read_text(encoding="utf-8"))
    corpus = adopt(cli, tmp_path, EXPORT)
    run_stages(cli, corpus, export)
    # pseudonymised at import: no e-mail in anything written, the release included
    for path in corpus.rglob("*"):
        if path.is_file():
            assert b"@example.org" not in path.read_bytes(), path


def test_adopted_validation_catches_utf16(cli: Any, tmp_path: Path) -> None:
    """A span with UTF-16 offsets after an emoji is the one finding; the spans made after
    emoji, 𝔸 and combining marks pass."""
    export = json.loads(EXPORT.read_text(encoding="utf-8"))
    bad = copy.deepcopy(export)
    task_id, ann_id = plant_utf16(bad)
    path = tmp_path / "planted.json"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    corpus = adopt(cli, tmp_path, path)
    code, report = validate_json(cli, corpus)
    assert code == 1
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [(f["slug"], f["task_id"], f["annotation_id"]) for f in errors] == [
        ("utf16-offsets", task_id, ann_id)
    ]


@pytest.mark.labelstudio
def test_adopt_live_project(label_studio: LabelStudioFixture, cli: Any, tmp_path: Path) -> None:
    """On the real server: the project built and annotated through the API as two users, a
    UTF-16 span planted by a third (an old client) and caught, then removed; the snapshot
    export adopted and taken through every stage."""
    accounts = {name: label_studio.signup(f"adopt-{name}") for name in sample.ANNOTATORS}
    pid, ids = sample.build_project(label_studio.url, label_studio.api_key, accounts)
    label_studio.track_project(pid)

    # an old client sends UTF-16 offsets: "NATO" after 😀 and 𝔸 is 14-18 in code points
    text = sample.TASKS[0]["content"]
    start = text.index("NATO")
    units = len(text[:start].encode("utf-16-le")) // 2
    assert units == start + 2
    old = label_studio.signup("adopt-old-client")
    with label_studio.http(old.token) as http:
        resp = http.post(
            f"/api/tasks/{ids[0]}/annotations/",
            json={
                "result": [
                    {
                        "id": "old1",
                        "from_name": "ner",
                        "to_name": "content",
                        "type": "labels",
                        "value": {
                            "start": units,
                            "end": units + 4,
                            "text": "NATO",
                            "labels": ["ORG"],
                        },
                    },
                    {
                        "from_name": "stance",
                        "to_name": "content",
                        "type": "choices",
                        "value": {"choices": ["neutral"]},
                    },
                ]
            },
        )
        resp.raise_for_status()
        planted = int(resp.json()["id"])
    first = tmp_path / "first.json"
    first.write_text(
        json.dumps(sample.export(label_studio.url, label_studio.api_key, pid)), encoding="utf-8"
    )
    (tmp_path / "planted").mkdir()
    corpus = adopt(cli, tmp_path / "planted", first)
    code, report = validate_json(cli, corpus)
    assert code == 1
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [(f["slug"], f["task_id"], f["annotation_id"]) for f in errors] == [
        ("utf16-offsets", ids[0], planted)
    ]

    with label_studio.http() as http:
        http.delete(f"/api/annotations/{planted}/").raise_for_status()
    export = sample.export(label_studio.url, label_studio.api_key, pid)
    # what the server gives back is what the annotators made (and what is committed)
    for i, task in enumerate(export):
        assert task["data"] == sample.TASKS[i]
        got = {a["completed_by"]["email"]: a["result"] for a in task["annotations"]}
        assert got == {
            f"adopt-{who}@example.org": sample.results(
                sample.TASKS[i]["content"], spec, f"{who[0]}{i}"
            )
            for who, spec in sample.LABELS[i].items()
        }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "clean").mkdir()
    corpus = adopt(cli, tmp_path / "clean", path)
    run_stages(cli, corpus, export)


# --- the stages on one-target-per-task annotations (no server, no export parsing) -------------


def _ann(article: str, who: str, task_id: int, n: int, stances: dict[str, str]) -> Annotation:
    return Annotation(
        article_id=article,
        annotator=who,
        source=AnnotationSource(
            task_id=task_id, annotation_id=n, updated_at=f"2026-01-01T00:{n:02d}Z"
        ),
        entities=(EntitySpan(0, 4, "ORG", "NATO"),),
        stances=tuple(StanceJudgement(t, lab) for t, lab in stances.items()),
    )


PER_TASK = [
    # one task asking nato, both annotators
    _ann("one", "anna", 1, 1, {"nato": "support"}),
    _ann("one", "ben", 1, 2, {"nato": "support"}),
    # one task per target, each done by another annotator
    _ann("split", "anna", 10, 3, {"nato": "oppose"}),
    _ann("split", "ben", 11, 4, {"the_eu": "neutral"}),
    # one task per target, both done by both: nato agreed, the_eu not
    _ann("both", "anna", 20, 5, {"nato": "support"}),
    _ann("both", "ben", 20, 6, {"nato": "support"}),
    _ann("both", "anna", 21, 7, {"the_eu": "oppose"}),
    _ann("both", "ben", 21, 8, {"the_eu": "neutral"}),
]


def test_unasked_targets_are_not_asked(cli: Any, tmp_path: Path) -> None:
    """With one stance control each task asks one target: a target no task of the article
    asked gets no vote, no dispute and no item; an annotator's answers in an article's other
    tasks are kept (their stance per target), and a target's vote counts who was asked."""
    res = cli(
        "init",
        "adopted",
        "--from-label-config",
        str(CONFIG_XML),
        "--tasks",
        str(EXPORT),
        cwd=tmp_path,
    )
    assert res.exit_code == 0, res.output
    config = load_config(tmp_path / "adopted" / "corpus.toml")
    assert [t.id for t in config.scheme.stance_targets] == ["nato", "the_eu"]

    result = adjudicate(config=config, annotations=PER_TASK)
    gold = {
        (g.article_id, s.stance.target): (s.stance.label, s.decision.provenance)
        for g in result.gold
        for s in g.stances
    }
    assert gold == {
        ("one", "nato"): ("support", "unanimous"),
        ("split", "nato"): ("oppose", "single"),
        ("split", "the_eu"): ("neutral", "single"),
        ("both", "nato"): ("support", "unanimous"),
    }
    assert [(d.article_id, d.layer, d.target) for d in result.disputes] == [
        ("both", "stance", "the_eu")
    ]

    report = agree(config=config, annotations=PER_TASK, bootstrap=20)
    items = {s.target: (s.items, s.ratings) for s in report.stance}
    # nato: "one" and "both" rated twice, "split" once; the_eu: "both" twice, "split" once
    assert items == {ALL: (3, 8), "nato": (2, 5), "the_eu": (1, 3)}
    assert not [n for n in report.notes if "older duplicate" in n]
    # the same annotations where every task asked every target (the default): the older
    # annotation of an annotator is dropped, and one answer among two annotators is a tie
    everyone = replace(
        config, scheme=replace(config.scheme, names=replace(config.scheme.names, stance=None))
    )
    default = adjudicate(config=everyone, annotations=PER_TASK)
    assert ("split", "stance", "nato") in {
        (d.article_id, d.layer, d.target) for d in default.disputes
    }
