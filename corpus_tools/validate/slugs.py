"""Every finding `corpus validate` and `corpus check` can report: stable slug, severity, hint.

Slugs are part of the interface (CI filters and scripts match on them): add new ones, never
rename. `Where` builds findings for one place in one file, with severity and hint taken from
this table so each slug means the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from corpus_tools.model import Finding, Severity

_REVALIDATE = (
    "Fix it in Label Studio and pull again, or edit the file, then rerun `corpus validate`."
)

SLUGS: dict[str, tuple[Severity, str]] = {
    # files
    "file-unreadable": ("error", "Check that the file exists and is readable."),
    "not-json": (
        "error",
        "The file is not valid JSON here; re-download or re-pull it (`corpus ls pull`). "
        "JSONL files must be named *.jsonl.",
    ),
    "truncated-file": (
        "error",
        "The file ends in the middle of a task: the download or pull was interrupted; "
        "fetch it again.",
    ),
    "bad-encoding": ("error", "Save the file as UTF-8 (without a byte order mark)."),
    "utf8-bom": ("warning", "Save the file as UTF-8 without a byte order mark."),
    "not-a-task": (
        "error",
        "Expected a Label Studio task (an object with `data`) or a JSON array of them; "
        "export as JSON from Label Studio or use `corpus ls pull`.",
    ),
    "too-large": (
        "error",
        "A single task this large is not a Label Studio export; check the file.",
    ),
    "no-tasks": ("warning", "The path holds no tasks; check that you passed the right folder."),
    "lossy-export": (
        "error",
        "This Label Studio export format drops what validation and the release need (region "
        "ids, relations, per-region answers). In Label Studio open the project, click Export, "
        "choose JSON (not JSON-MIN, CSV or TSV) and export again; or run `corpus ls pull`.",
    ),
    "duplicate-key": (
        "error",
        "One JSON object names the same key twice; readers keep only one of the values (which "
        "one depends on the reader), so the file says two things. Delete the wrong one, or "
        "re-export the task from Label Studio.",
    ),
    # structure (JSON Schema)
    "schema-violation": ("error", _REVALIDATE + " The schema is schemas/ls-task.schema.json."),
    "missing-field": ("error", _REVALIDATE),
    "wrong-type": ("error", _REVALIDATE),
    "unknown-label": (
        "error",
        "The label is not in corpus.toml's scheme: relabel the region, or add the label to "
        "the scheme (append-only) and run `corpus schemas`.",
    ),
    "unknown-choice": (
        "error",
        "The choice is not in corpus.toml's scheme: choose a configured value in Label Studio.",
    ),
    "unknown-control": (
        "error",
        "The result comes from a control our labeling config does not have: was the project "
        "created from schemas/labeling-config.xml? A project adopted with its own labeling "
        "config names its controls in [scheme.names] of corpus.toml (`corpus init "
        "--from-label-config` writes them).",
    ),
    "unknown-result-type": ("error", "Only labels, choices, textarea and relation are used."),
    # offsets
    "span-out-of-bounds": (
        "error",
        "The region points outside the task text: redraw it in Label Studio.",
    ),
    "span-inverted": ("error", "The region's start is not before its end: redraw it."),
    "text-mismatch": (
        "error",
        "text[start:end] differs from the region's value.text: the offsets or the text "
        "changed; redraw the region.",
    ),
    "offset-not-integer": (
        "error",
        "Offsets are whole code-point counts written as plain integers (12, not 12.0 or 1.2e1, "
        "and within 64 bits); a reader would round or drop the region. Redraw it in Label "
        "Studio or fix the number.",
    ),
    "utf16-offsets": (
        "error",
        "The offsets count UTF-16 code units (old client or script): rerun with "
        "`--repair-utf16` to convert them to code points (a .bak copy is kept).",
    ),
    # regions
    "duplicate-region-id": ("error", "Two regions share one id: delete one and redraw it."),
    "overlapping-spans": (
        "error",
        "Two regions with the same label overlap: merge them or delete one.",
    ),
    "orphan-attribute": (
        "error",
        "A check-worthiness or claimant answer has no claim region with its id: select the "
        "claim region in Label Studio and answer there.",
    ),
    "attribute-offsets-mismatch": (
        "warning",
        "A per-region answer's offsets differ from its claim region; redraw the claim.",
    ),
    "claim-without-checkworthy": ("warning", "Answer check-worthiness for every claim."),
    "relation-missing-region": (
        "error",
        "The relation names a region that is not in the annotation: delete and redraw it.",
    ),
    "relation-wrong-kind": (
        "error",
        "A claimant relation links an entity region to a claim region; redraw it.",
    ),
    "ground-truth-conflict": (
        "error",
        "Two annotations of one task are marked ground truth and say different things; the "
        "release would keep only the latest. Unmark one in Label Studio (the ground-truth "
        "star beside the annotation), or make them agree.",
    ),
    "duplicate-task": (
        "error",
        "The same task (task id or article) is read twice, so its annotations would count "
        "twice: keep one export of each project (a `corpus ls pull` folder or one UI export, "
        "not both), and one task per article.",
    ),
    "duplicate-annotation-id": (
        "error",
        "Label Studio gives every annotation its own id: the same id twice means an export "
        "was copied or merged by hand. Keep one copy.",
    ),
    "stance-missing": ("error", "Answer the stance question for every target."),
    "stance-multiple": ("error", "Give exactly one stance answer per target."),
    "unknown-stance-target": (
        "error",
        "With one stance control, each task's data names the target it asks about: add the "
        "target to [[scheme.stance.targets]] in corpus.toml (its id or name is matched), or "
        "correct the task's data.",
    ),
    # articles
    "text-hash-mismatch": (
        "error",
        "data.text no longer matches data.text_sha256: the task text was edited after "
        "`corpus tasks`; never edit task text, re-create the task instead.",
    ),
    "unknown-article": (
        "error",
        "No article with this article_id in build/articles.parquet: run `corpus ingest`, or "
        "remove the task if the article was dropped.",
    ),
    "stale-annotation": (
        "error",
        "The article's text changed since the task was made, so the offsets may point at the "
        "wrong words: re-create the task (`corpus tasks`) and re-annotate; nothing is "
        "re-aligned automatically.",
    ),
    "text-not-tied": (
        "warning",
        "The task carries no text_sha256 (it was made outside `corpus tasks`), so its offsets "
        "are checked against its own text only. Run `corpus ingest` on the export (it reads "
        "Label Studio exports) so the articles table holds this text under the task's "
        "article id.",
    ),
    "article-checks-skipped": (
        "warning",
        "No build/articles.parquet: unknown and stale articles were not checked. Run "
        "`corpus ingest` first.",
    ),
    # people and gates
    "personal-data": (
        "error",
        "Annotations must carry pseudonyms only: pull with `corpus ls pull` (which "
        "pseudonymises) instead of committing a raw export, and remove the data.",
    ),
    "low-coverage": (
        "error",
        "Fewer completed annotations than [gates] min_annotators: get more annotators on "
        "the task, or lower the gate in corpus.toml.",
    ),
    "schema-drift": ("error", "Run `corpus schemas` and commit the result."),
    "agreement-gate": ("error", "Agreement is below the [gates] threshold; see `corpus agree`."),
}


def hint(slug: str) -> str:
    """The hint for `slug`."""
    return SLUGS[slug][1]


@dataclass(slots=True)
class Where:
    """The place findings are about: a file, and optionally a task in it."""

    file: str
    line: int | None = None
    prefix: str = ""  # JSON pointer of the task inside the file ("/3" in an array)
    task_id: int | str | None = None

    def finding(
        self,
        slug: str,
        message: str,
        *,
        pointer: str | None = None,
        annotation_id: int | str | None = None,
        region_id: str | None = None,
        severity: Severity | None = None,
        line: int | None = None,
    ) -> Finding:
        sev, hint_text = SLUGS[slug]
        return Finding(
            slug=slug,
            severity=severity or sev,
            message=message,
            file=self.file,
            line=line if line is not None else self.line,
            task_id=self.task_id,
            annotation_id=annotation_id,
            region_id=region_id,
            pointer=(self.prefix + pointer) if pointer is not None else (self.prefix or None),
            hint=hint_text,
        )


def pointer(*parts: object) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
