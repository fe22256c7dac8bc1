"""Annotate the sample corpus through a real Label Studio and pull the result into annotations/.

The labels live in scripts/sample_labels.toml (by article and annotator); this script turns
them into Label Studio results by exact search in each article's text (so offsets are right
by construction: after emoji, across CRLF, with combining accents), submits them as three
annotators who signed up through the form (anna, ben, chen), each starting from the task's
prediction (the gazetteer pre-annotation) as the editor does (`parent_prediction` set, the
regions kept from it with their ids and origin "prediction", the others "manual": see
`start_from_prediction`), then runs the same pull as `corpus ls pull` into the repository's
annotations/.

    .venv/bin/python scripts/annotate_sample.py             # a private server, started here
    .venv/bin/python scripts/annotate_sample.py --url URL --api-key KEY   # an existing one

The corpus is ingested into a temporary copy (the repository's build/ is left alone).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _ls_helpers import api, find, start_server, ui_text  # noqa: E402

from corpus_tools import labelstudio, store, tasks  # noqa: E402
from corpus_tools.config import load_config  # noqa: E402
from corpus_tools.ingest import ingest  # noqa: E402
from corpus_tools.labelstudio_server import LocalServer, signup  # noqa: E402
from corpus_tools.model import Article  # noqa: E402
from corpus_tools.preannotate import RulePreannotator  # noqa: E402

ANNOTATORS = ("anna", "ben", "chen")
PASSWORD = "sample-annotator-1"


def region_id(*parts: str) -> str:
    """A 10-character region id like the UI's, derived from (article, annotator, region) so
    reruns give the same ids; no annotator name ends up in the pulled files."""
    return hashlib.sha256("/".join(parts).encode("utf-8")).hexdigest()[:10]


def entity_regions(article: Article, labels: dict[str, Any], who: str) -> list[dict[str, Any]]:
    """Every occurrence of each listed mention, minus the skipped ones, as regions."""
    finder = RulePreannotator(
        {
            label: [m for m, lab in labels["entities"].items() if lab == label]
            for label in set(labels["entities"].values())
        },
        dates=False,
    )
    spans = finder.predict(article)
    skip = {(m, int(n)) for m, n in labels.get("skip", [])}
    seen: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for s in spans:
        k = seen.get(s.text, 0)
        seen[s.text] = k + 1
        if (s.text, k) in skip:
            continue
        out.append(
            {
                "id": region_id(article.article_id, str(ANNOTATORS.index(who)), f"e{len(out)}"),
                "from_name": "entities",
                "to_name": "text",
                "type": "labels",
                "origin": "manual",
                "value": {
                    "start": s.start,
                    "end": s.end,
                    "text": ui_text(s.text),
                    "labels": [s.label],
                },
            }
        )
    for mention, _n in skip:
        if mention not in seen:
            raise SystemExit(f"{article.article_id}/{who}: skip {mention!r} never labelled")
    return out


def claim_regions(
    article: Article, labels: dict[str, Any], who: str, entities: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    text = article.text
    out: list[dict[str, Any]] = []
    for i, c in enumerate(labels.get("claims", [])):
        start = find(text, c["text"], int(c.get("nth", 0)))
        end = start + len(c["text"])
        rid = region_id(article.article_id, str(ANNOTATORS.index(who)), f"c{i}")
        pos = {"start": start, "end": end}
        out.append(
            {
                "id": rid,
                "from_name": "claim",
                "to_name": "text",
                "type": "labels",
                "origin": "manual",
                "value": {**pos, "text": ui_text(c["text"]), "labels": ["Claim"]},
            }
        )
        out.append(
            {
                "id": rid,
                "from_name": "checkworthy",
                "to_name": "text",
                "type": "choices",
                "origin": "manual",
                "value": {**pos, "text": ui_text(c["text"]), "choices": [c["checkworthy"]]},
            }
        )
        if "claimant" in c:
            candidates = [
                e
                for e in entities
                if text[e["value"]["start"] : e["value"]["end"]] == c["claimant"]
            ]
            if not candidates:
                raise SystemExit(
                    f"{article.article_id}/{who}: claimant {c['claimant']!r} not labelled"
                )
            nearest = min(candidates, key=lambda e: abs(e["value"]["start"] - start))
            out.append(
                {
                    "type": "relation",
                    "from_id": nearest["id"],
                    "to_id": rid,
                    "direction": "right",
                    "labels": ["claimant"],
                }
            )
        else:
            out.append(
                {
                    "id": rid,
                    "from_name": "claimant_text",
                    "to_name": "text",
                    "type": "textarea",
                    "origin": "manual",
                    "value": {**pos, "text": [c["claimant_text"]]},
                }
            )
    return out


def stance_results(labels: dict[str, Any], targets: list[str]) -> list[dict[str, Any]]:
    missing = set(targets) - set(labels["stance"])
    if missing:
        raise SystemExit(f"stance missing for {sorted(missing)}")
    return [
        {
            "from_name": f"stance_{t}",
            "to_name": "text",
            "type": "choices",
            "origin": "manual",
            "value": {"choices": [labels["stance"][t]]},
        }
        for t in targets
    ]


def build_results(
    article: Article, labels: dict[str, Any], who: str, targets: list[str]
) -> list[dict[str, Any]]:
    ents = entity_regions(article, labels, who)
    return ents + claim_regions(article, labels, who, ents) + stance_results(labels, targets)


def start_from_prediction(
    result: list[dict[str, Any]], prediction: dict[str, Any]
) -> list[dict[str, Any]]:
    """`result` as the Label Studio 1.23.2 editor submits it when the annotator started from
    the task's prediction (the gazetteer pre-annotation imported with the tasks), without
    changing a single label, offset or choice.

    The editor copies the prediction's regions into the new annotation with `origin`
    "prediction" and their region ids (libs/editor: `addAnnotationFromPrediction` keeps the
    id before `#`, `Result.serialize` writes `area.cleanId`). The annotator then deletes the
    regions they do not want and draws their own ("manual", a new id). A copied region stays
    "prediction" even when relabelled: only `notifyDrawingFinished` turns it into
    "prediction-changed", and the Text tag calls it when a region is drawn, never on a label
    change (a text span's boundaries cannot be dragged: an annotator who wants other
    boundaries deletes the region and draws a new one). So an entity region at a predicted
    span takes that region's id and origin "prediction" (its label the annotator's), relations
    follow the new ids, and everything else stays "manual".
    """
    predicted: dict[tuple[int, int], dict[str, Any]] = {}
    for r in prediction.get("result") or []:
        v = r.get("value") or {}
        if r.get("from_name") == "entities" and "start" in v:
            predicted.setdefault((v["start"], v["end"]), r)
    renamed: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for r in result:
        v = r.get("value") or {}
        p = (
            predicted.pop((v["start"], v["end"]), None)
            if r.get("from_name") == "entities"
            else None
        )
        if p is not None:
            renamed[r["id"]] = p["id"]
            r = {**r, "id": p["id"], "origin": "prediction"}
        out.append(r)
    for r in out:
        if r.get("type") == "relation":
            r["from_id"] = renamed.get(r["from_id"], r["from_id"])
            r["to_id"] = renamed.get(r["to_id"], r["to_id"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="an existing Label Studio (default: start a private one)")
    ap.add_argument("--api-key", help="its admin API token")
    ap.add_argument("--labels", type=Path, default=REPO / "scripts" / "sample_labels.toml")
    ap.add_argument("--out", type=Path, default=REPO / "annotations")
    args = ap.parse_args()
    labels = tomllib.loads(args.labels.read_text(encoding="utf-8"))

    work = Path(tempfile.mkdtemp(prefix="annotate-sample-"))
    server: LocalServer | None = None
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        shutil.copy2(REPO / "corpus.toml", corpus / "corpus.toml")
        shutil.copytree(REPO / "articles", corpus / "articles")
        cfg = load_config(corpus / "corpus.toml")
        ingest(config=cfg)
        print(tasks.make_tasks(config=cfg))
        articles = store.load_articles(cfg.paths.articles_parquet)
        unknown = sorted(set(labels) - set(articles))
        if unknown:
            raise SystemExit(f"labels for unknown articles: {unknown}")
        unlabelled = sorted(set(articles) - set(labels))
        if unlabelled:
            raise SystemExit(f"articles without labels: {unlabelled}")

        if args.url:
            url, key = args.url, args.api_key or ""
        else:
            server = start_server(work)
            url, key = server.url, server.admin.token
        print(labelstudio.push(config=cfg, url=url, api_key=key))
        accounts = {n: signup(url, f"{n}@example.org", PASSWORD) for n in ANNOTATORS}
        with labelstudio.connect(url, key) as client:
            project = labelstudio.find_project(client, cfg.labelstudio.project_title)
            assert project is not None
            ids: dict[str, int] = {}
            for _total, page in client.iter_task_pages(
                int(project["id"]), page_size=1000, include="id,data"
            ):
                ids.update({t["data"]["article_id"]: int(t["id"]) for t in page})
            predictions = client.task_predictions(int(project["id"]), sorted(ids.values()))
        for article_id, task_id in ids.items():
            if len(predictions[task_id]) != 1:
                raise SystemExit(f"{article_id}: {len(predictions[task_id])} predictions, not 1")
        targets = [t.id for t in cfg.scheme.stance_targets]
        n = 0
        for article_id in sorted(labels):
            for who in sorted(labels[article_id]):
                result = build_results(articles[article_id], labels[article_id][who], who, targets)
                lead = 45.0 + 4.5 * len(result)
                (prediction,) = predictions[ids[article_id]]
                result = start_from_prediction(result, prediction)
                with api(url, accounts[who].token) as http:
                    resp = http.post(
                        f"/api/tasks/{ids[article_id]}/annotations/",
                        json={
                            "result": result,
                            "lead_time": lead,
                            "parent_prediction": prediction["id"],
                        },
                    )
                    resp.raise_for_status()
                n += 1
        print(f"submitted {n} annotations")
        # The sample's pseudonyms were made with the corpus name as key, before a secret key
        # was required: it is kept so that they stay stable. It is public, so these
        # pseudonyms are reversible; that is acceptable only because the sample's annotators
        # are made up (anna@, ben@, chen@example.org). A real corpus uses a secret key.
        sample_key = labelstudio.pseudonym_key(cfg, secret=cfg.name)
        print(
            labelstudio.pull(
                config=cfg,
                url=url,
                api_key=key,
                out=args.out,
                pseudonym_key=sample_key,
                allow_deletions=True,  # a rebuild from sample_labels.toml replaces them
            )
        )
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
