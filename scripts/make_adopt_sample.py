"""Build the "adopted project" sample on a real Label Studio and download its snapshot export.

A project as another team would have made it, not `corpus tasks`: the hand-written config
tests/data/adopt/label-config.xml (a <Text> named `content` showing `$content`, spans in one
`ner` <Labels> with the claim label beside the entity labels, per-region `verifiable` choices
and `source` text areas on claims, a `said_by` relation, ONE `stance` <Choices> whose header
asks about `$target`, the target in the task data), tasks with their own fields (no
`text_sha256`; some without `article_id`) and texts with emoji, non-BMP letters (𝔸), CRLF and
combining marks. Two annotators who signed up through the form (anna@ and ben@example.org:
made-up users) annotate it through the API: agreements, and disagreements on spans and stance.
Offsets are found by exact search in each task's text, so they are Python code points by
construction (spans after 😀, 𝔸 and 🤷🏽‍♀️ included). The snapshot export (annotations'
`completed_by` as user objects with e-mails) is written to tests/data/adopt/export.json.

    .venv/bin/python scripts/make_adopt_sample.py          # a private server, started here
    LABEL_STUDIO_URL=http://127.0.0.1:8080 LABEL_STUDIO_API_KEY=... \\
        .venv/bin/python scripts/make_adopt_sample.py      # an existing server

tests/test_adopt.py runs `build_project` on the test server and checks the whole path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _ls_helpers import api, find, start_server, ui_text  # noqa: E402

from corpus_tools import store  # noqa: E402
from corpus_tools.labelstudio_server import Account, LocalServer, signup  # noqa: E402

CONFIG = REPO / "tests" / "data" / "adopt" / "label-config.xml"
EXPORT = REPO / "tests" / "data" / "adopt" / "export.json"
ANNOTATORS = ("anna", "ben")
PASSWORD = "adopt-annotator-1"
TITLE = "Newsroom claims (adopted)"

# The project's tasks, as that team wrote them: `content`, `headline`, `target`, sometimes an
# `article_id`, never a `text_sha256`.
TASKS: list[dict[str, Any]] = [
    {
        "article_id": "border-troops",
        "headline": "Troops at the border",
        "target": "NATO",
        "content": "😀 Breaking 𝔸: NATO spokesman Jens Stoltenberg said Russia moved 10,000 "
        'troops to the border.\r\nThe EU called the move "a grave escalation".',
    },
    {
        # no article_id: the task's own id names it (`task-<id>`); combining marks
        "headline": "Research money",
        "target": "the EU",
        "content": "Zoe\u0308 Mu\u0308ller, an adviser in Bru\u0308ssel, said the EU will "
        "fund 𝔸𝔹 research.\r\n\r\nCritics called the plan a waste 🙄.",
    },
    {
        "article_id": "lisbon-quote",
        "headline": "A minister's view",
        "target": "NATO",
        "content": 'Line one\r\nMinister Ana Lima said: "NATO is obsolete."\r\nOthers '
        "disagreed 🤷🏽\u200d♀️ in Lisbon.",
    },
    {
        "headline": "Summit costs",
        "target": "the EU",
        "content": "Brussels 🇪🇺 — The EU and NATO met in Vilnius on Monday. Officials said "
        "the summit cost €2 million.",
    },
    {
        "article_id": "ankara-vote",
        "headline": "Parliament vote",
        "target": "NATO",
        "content": "Ankara 𝔸 — Turkey's parliament approved Sweden's NATO bid on Tuesday.",
    },
    {
        # the first article again, asked about another target: one task per (article, target)
        "article_id": "border-troops",
        "headline": "Troops at the border",
        "target": "the EU",
        "content": "😀 Breaking 𝔸: NATO spokesman Jens Stoltenberg said Russia moved 10,000 "
        'troops to the border.\r\nThe EU called the move "a grave escalation".',
    },
]

# What each annotator does, by task index. Entities: (text, label[, nth occurrence]).
# Claims: text, verifiable answer, and a claimant: `said_by` an entity ("rel") or typed
# into the `source` text area ("text"). Stance: the one answer about the task's target.
Spec = dict[str, Any]
_T1_ENTS = [("NATO", "ORG"), ("Jens Stoltenberg", "PER"), ("Russia", "LOC")]
_T1_CLAIM = {
    "text": "Russia moved 10,000 troops to the border",
    "verifiable": "verifiable",
    "rel": "Jens Stoltenberg",
}
_T2_ENTS = [("Zoe\u0308 Mu\u0308ller", "PER"), ("Bru\u0308ssel", "LOC"), ("the EU", "ORG")]
_T2_CLAIM = {
    "text": "the EU will fund 𝔸𝔹 research",
    "verifiable": "verifiable",
    "rel": "Zoe\u0308 Mu\u0308ller",
}
_T4_ENTS = [("Brussels", "LOC"), ("The EU", "ORG"), ("NATO", "ORG"), ("Vilnius", "LOC")]
_T4_CLAIM = {
    "text": "the summit cost €2 million",
    "verifiable": "verifiable",
    "source": "Officials",
}
LABELS: dict[int, dict[str, Spec]] = {
    0: {  # spans after 😀 and 𝔸; ben leaves "The EU" out (an entity dispute); same stance
        "anna": {
            "entities": [*_T1_ENTS, ("The EU", "ORG")],
            "claims": [_T1_CLAIM],
            "stance": "neutral",
        },
        "ben": {"entities": _T1_ENTS, "claims": [_T1_CLAIM], "stance": "neutral"},
    },
    1: {  # combining marks; same spans, the stance differs (a stance dispute)
        "anna": {"entities": _T2_ENTS, "claims": [_T2_CLAIM], "stance": "support"},
        "ben": {"entities": _T2_ENTS, "claims": [_T2_CLAIM], "stance": "neutral"},
    },
    2: {  # CRLF, a ZWJ emoji sequence; the PER boundary differs (an entity dispute)
        "anna": {
            "entities": [("Ana Lima", "PER"), ("NATO", "ORG"), ("Lisbon", "LOC")],
            "claims": [
                {"text": "NATO is obsolete.", "verifiable": "opinion", "source": "Ana Lima"}
            ],
            "stance": "oppose",
        },
        "ben": {
            "entities": [("Minister Ana Lima", "PER"), ("NATO", "ORG"), ("Lisbon", "LOC")],
            "claims": [
                {"text": "NATO is obsolete.", "verifiable": "opinion", "source": "Ana Lima"}
            ],
            "stance": "oppose",
        },
    },
    3: {  # a flag emoji (two code points); full agreement
        "anna": {"entities": _T4_ENTS, "claims": [_T4_CLAIM], "stance": "neutral"},
        "ben": {"entities": _T4_ENTS, "claims": [_T4_CLAIM], "stance": "neutral"},
    },
    5: {  # the first article's task about the EU: the same spans, one more stance answer
        "anna": {
            "entities": [*_T1_ENTS, ("The EU", "ORG")],
            "claims": [_T1_CLAIM],
            "stance": "oppose",
        },
        "ben": {"entities": _T1_ENTS, "claims": [_T1_CLAIM], "stance": "oppose"},
    },
    4: {  # one annotator only
        "anna": {
            "entities": [("Ankara", "LOC"), ("Turkey", "LOC"), ("Sweden", "LOC"), ("NATO", "ORG")],
            "claims": [],
            "stance": "support",
        },
    },
}


def results(text: str, spec: Spec, prefix: str) -> list[dict[str, Any]]:
    """Label Studio results of one annotator on one task, in the project's control names."""
    out: list[dict[str, Any]] = []
    entity_ids: dict[str, str] = {}

    def span(rid: str, start: int, end: int, label: str) -> dict[str, Any]:
        return {
            "id": rid,
            "from_name": "ner",
            "to_name": "content",
            "type": "labels",
            "origin": "manual",
            "value": {
                "start": start,
                "end": end,
                "text": ui_text(text[start:end]),
                "labels": [label],
            },
        }

    for i, (mention, label, *nth) in enumerate(spec["entities"]):
        start = find(text, mention, nth[0] if nth else 0)
        rid = f"{prefix}e{i}"
        entity_ids[mention] = rid
        out.append(span(rid, start, start + len(mention), label))
    for i, claim in enumerate(spec["claims"]):
        start = find(text, claim["text"])
        end = start + len(claim["text"])
        rid = f"{prefix}c{i}"
        pos = {"start": start, "end": end}
        out.append(span(rid, start, end, "Claim"))
        out.append(
            {
                "id": rid,
                "from_name": "verifiable",
                "to_name": "content",
                "type": "choices",
                "origin": "manual",
                "value": {**pos, "text": ui_text(claim["text"]), "choices": [claim["verifiable"]]},
            }
        )
        if "rel" in claim:
            out.append(
                {
                    "type": "relation",
                    "from_id": rid,
                    "to_id": entity_ids[claim["rel"]],
                    "direction": "right",
                    "labels": ["said_by"],
                }
            )
        else:
            out.append(
                {
                    "id": rid,
                    "from_name": "source",
                    "to_name": "content",
                    "type": "textarea",
                    "origin": "manual",
                    "value": {**pos, "text": [claim["source"]]},
                }
            )
    out.append(
        {
            "id": f"{prefix}st",
            "from_name": "stance",
            "to_name": "content",
            "type": "choices",
            "origin": "manual",
            "value": {"choices": [spec["stance"]]},
        }
    )
    return out


def snapshot_export(http: httpx.Client, project_id: int) -> list[dict[str, Any]]:
    """A snapshot export with full user objects (what `corpus ls import` pseudonymises)."""
    options = {
        "serialization_options": {
            "predictions": {"only_id": False},
            "annotations__completed_by": {"only_id": False},
        }
    }
    created = http.post(f"/api/projects/{project_id}/exports/", json=options)
    created.raise_for_status()
    eid = created.json()["id"]
    for _ in range(100):
        status = http.get(f"/api/projects/{project_id}/exports/{eid}").json().get("status")
        if status == "completed":
            break
        time.sleep(0.2)
    resp = http.get(
        f"/api/projects/{project_id}/exports/{eid}/download", params={"exportType": "JSON"}
    )
    resp.raise_for_status()
    tasks: list[dict[str, Any]] = resp.json()
    return sorted(tasks, key=lambda t: int(t["id"]))


def build_project(
    url: str,
    api_key: str,
    accounts: dict[str, Account],
    *,
    title: str = TITLE,
) -> tuple[int, list[int]]:
    """Create the project, import the tasks and submit every annotator's labels.

    `accounts` maps each name of ANNOTATORS to a user who can call the API. Returns the
    project id and the task ids (in TASKS order).
    """
    with api(url, api_key) as http:
        resp = http.post(
            "/api/projects/",
            json={"title": title, "label_config": CONFIG.read_text(encoding="utf-8")},
        )
        resp.raise_for_status()
        pid = int(resp.json()["id"])
        resp = http.post(
            f"/api/projects/{pid}/import",
            params={"return_task_ids": "true"},
            json=[{"data": t} for t in TASKS],
        )
        resp.raise_for_status()
        ids = [int(i) for i in resp.json()["task_ids"]]
    if len(ids) != len(TASKS):
        raise SystemExit(f"imported {len(ids)} tasks, not {len(TASKS)}")
    for index, by_who in sorted(LABELS.items()):
        text = TASKS[index]["content"]
        for who, spec in sorted(by_who.items()):
            with api(url, accounts[who].token) as http:
                resp = http.post(
                    f"/api/tasks/{ids[index]}/annotations/",
                    json={
                        "result": results(text, spec, f"{who[0]}{index}"),
                        "lead_time": 30.0 + 7.5 * len(spec["entities"]),
                    },
                )
                resp.raise_for_status()
    return pid, ids


def export(url: str, api_key: str, project_id: int) -> list[dict[str, Any]]:
    """The project's snapshot export, tasks in id order."""
    with api(url, api_key) as http:
        return snapshot_export(http, project_id)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=EXPORT)
    args = ap.parse_args(argv)
    url = os.environ.get("LABEL_STUDIO_URL")
    key = os.environ.get("LABEL_STUDIO_API_KEY", "")
    server: LocalServer | None = None
    work = Path(tempfile.mkdtemp(prefix="adopt-sample-"))
    make_account: Callable[[str], Account]
    try:
        if not url:
            server = start_server(work)
            url, key = server.url, server.admin.token
        make_account = lambda name: signup(url, f"{name}@example.org", PASSWORD)  # noqa: E731
        accounts = {n: make_account(n) for n in ANNOTATORS}
        pid, ids = build_project(url, key, accounts)
        tasks = export(url, key, pid)
        text = json.dumps(tasks, ensure_ascii=False, indent=1) + "\n"
        store.atomic_write_text(args.out, text)
        print(f"project {pid}: {len(ids)} tasks, export written to {args.out}")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
