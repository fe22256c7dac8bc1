"""The dataset card (`README.md`): YAML metadata `datasets` and the Hub read, then prose.

The YAML carries `configs` (data files per split) and the full `dataset_info` (features,
splits with `num_examples`/`num_bytes`, sizes): `datasets` then loads the label names and
checks split sizes, and its cache key (which hashes this YAML) changes with every release.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import yaml

from corpus_tools.config import CorpusConfig
from corpus_tools.model import Finding
from corpus_tools.release.features import CONFIGS, SPLITS, ConfigName, LabelLists, yaml_features

if TYPE_CHECKING:
    from datasets import Features

    from corpus_tools.release.build import PreviousRelease

ROW_UNIT = {
    "entities": "annotated article (text, entity spans, tokens, BIO `ner_tags`)",
    "stance": "(article, target) pair with the gold stance label",
    "claims": "gold claim (span, check-worthiness, claimant)",
    "articles": "article (all metadata, story cluster and split)",
    "annotations": "(article, annotator): raw labels for disagreement-aware training",
}


@dataclass(frozen=True, slots=True)
class CardInfo:
    """What the card needs from the build."""

    features: Mapping[ConfigName, Features]
    writers: Mapping[tuple[ConfigName, str], tuple[int, int, int]]  # examples, bytes, file size
    label_counts: Mapping[str, Mapping[str, int]]
    labels: LabelLists
    findings: Sequence[Finding]
    previous: PreviousRelease | None
    articles: Iterable[str]  # compact JSON rows: id, split, text sha256, labels sha256
    gold_source: str
    annotators: int = 0
    disputed_articles: int = 0
    disputed_items: int = 0
    agreement_markdown: str | None = None
    # label -> split -> count, per layer (entities, stance "target: label", checkworthy)
    label_counts_by_split: Mapping[str, Mapping[str, Mapping[str, int]]] | None = None
    # config (entities, stance, claims) -> provenance -> gold items
    provenance_counts: Mapping[str, Mapping[str, int]] | None = None
    stories: Mapping[str, int] | None = None  # story clusters per split
    gaps: Mapping[str, int] | None = None  # masked tokens, incomplete claim lists, ...
    outlets: Sequence[str] = ()


def size_category(n: int) -> str:
    """The Hub's `size_categories` value for `n` examples."""
    for limit, name in (
        (10**3, "n<1K"),
        (10**4, "1K<n<10K"),
        (10**5, "10K<n<100K"),
        (10**6, "100K<n<1M"),
        (10**7, "1M<n<10M"),
        (10**8, "10M<n<100M"),
        (10**9, "100M<n<1B"),
        (10**10, "1B<n<10B"),
        (10**11, "10B<n<100B"),
        (10**12, "100B<n<1T"),
    ):
        if n < limit:
            return name
    return "n>1T"


def card_metadata(config: CorpusConfig, info: CardInfo) -> dict[str, Any]:
    """The YAML block of the card, as a dict in display order."""
    from corpus_tools.release.build import data_path

    n_articles = sum(info.writers["articles", s][0] for s in SPLITS)
    # `datasets` refuses a split without rows ("corresponds to no data"): such splits (and
    # configs without any row) have no file and are left out of the metadata.
    present = {c: [s for s in SPLITS if info.writers[c, s][0] > 0] for c in CONFIGS}
    configs = [
        {
            "config_name": c,
            "data_files": [{"split": s, "path": data_path(c, s)} for s in present[c]],
            **({"default": True} if c == "entities" else {}),
        }
        for c in CONFIGS
        if present[c]
    ]
    dataset_info = []
    for c in CONFIGS:
        if not present[c]:
            continue
        splits = [
            {"name": s, "num_bytes": info.writers[c, s][1], "num_examples": info.writers[c, s][0]}
            for s in present[c]
        ]
        dataset_info.append(
            {
                "config_name": c,
                "features": yaml_features(info.features[c]),
                "splits": splits,
                "download_size": sum(info.writers[c, s][2] for s in present[c]),
                "dataset_size": sum(info.writers[c, s][1] for s in present[c]),
            }
        )
    meta: dict[str, Any] = {
        "pretty_name": config.pretty_name,
        "license": config.license,
        "language": list(config.languages),
        "task_categories": list(config.task_categories),
        # stance towards a target is not sentiment: a multi-class label per (article, target);
        # claim check-worthiness is the first step of fact-checking
        "task_ids": ["named-entity-recognition", "multi-class-classification", "fact-checking"],
        "annotations_creators": list(config.release.annotations_creators),
        "language_creators": ["found"],
        "multilinguality": ["monolingual" if len(config.languages) == 1 else "multilingual"],
        "source_datasets": list(config.release.source_datasets),
        "size_categories": [config.release.size_hint or size_category(n_articles)],
        "tags": ["news", "stance-detection", "claim-detection", "label-studio"],
        "configs": configs,
        "dataset_info": dataset_info,
    }
    if config.homepage:
        meta["homepage"] = config.homepage
    return meta


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(lines)


def changelog(info: CardInfo) -> str:
    """Articles added/removed/changed and the label distribution shift since the previous."""
    prev = info.previous
    if prev is None:
        return "First release."
    # The new rows are compared one at a time as they are read (never all parsed at once);
    # `unseen` ends as the previous release's articles that are gone.
    unseen = {row[0]: row for row in prev.manifest.get("articles", [])}
    added: list[str] = []
    text_changed: list[str] = []
    labels_changed: list[str] = []
    moved: list[str] = []
    for line in info.articles:
        new = orjson.loads(line)
        a = new[0]
        before = unseen.pop(a, None)
        if before is None:
            added.append(a)
            continue
        if before[2] != new[2]:
            text_changed.append(a)
        elif before[3] != new[3]:
            labels_changed.append(a)
        if before[1] != new[1]:
            moved.append(a)
    removed = sorted(unseen)
    del unseen
    for found in (added, text_changed, labels_changed, moved):
        found.sort()

    def few(ids: Sequence[str]) -> str:
        shown = ", ".join(f"`{a}`" for a in ids[:20])
        return shown + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")

    lines = [
        f"Changes since [v{prev.version}](../v{prev.version}) "
        f"(tool {prev.manifest.get('tool', {}).get('version', '?')}):",
        "",
        _table(
            ["change", "articles", "which"],
            [
                ["added", len(added), few(added)],
                ["removed", len(removed), few(removed)],
                ["text changed", len(text_changed), few(text_changed)],
                ["labels changed", len(labels_changed), few(labels_changed)],
                ["moved split", len(moved), few(moved)],
            ],
        ),
        "",
        "Label distribution shift (gold items):",
        "",
    ]
    rows = []
    old_counts = prev.manifest.get("label_counts", {})
    for layer in ("entities", "stance", "checkworthy"):
        before = Counter(old_counts.get(layer, {}))
        after = Counter(info.label_counts.get(layer, {}))
        for label in sorted(before.keys() | after.keys()):
            delta = after[label] - before[label]
            rows.append([layer, label, before[label], after[label], f"{delta:+d}"])
    lines.append(_table(["layer", "label", f"v{prev.version}", "this release", "change"], rows))
    return "\n".join(lines)


def label_set_changes(info: CardInfo) -> list[str]:
    """Label lists that grew or were renamed since the previous release (class counts change)."""
    prev = info.previous
    if prev is None:
        return []
    old_labels: Mapping[str, Sequence[str]] = prev.manifest.get("labels", {})
    lines = []
    for key in ("entities", "stance", "checkworthy"):
        old, new = list(old_labels.get(key, [])), info.labels.get(key, [])
        added = new[len(old) :]
        renamed = [f"`{a}` → `{b}`" for a, b in zip(old, new, strict=False) if a != b]
        if added:
            lines.append(f"- {key}: added {', '.join(f'`{x}`' for x in added)}")
        if renamed:
            lines.append(f"- {key}: renamed {', '.join(renamed)}")
    old_n, new_n = len(old_labels.get("ner_tags", [])), len(info.labels["ner_tags"])
    if old_labels.get("ner_tags") and old_n != new_n:
        lines.append(
            f"- `ner_tags`: {old_n} → {new_n} classes (a token classifier's output layer must "
            "grow; existing ids keep their meaning)"
        )
    for key, what in (("stance", "`stance.label`"), ("checkworthy", "`claims.checkworthy`")):
        o, n = len(old_labels.get(key, [])), len(info.labels.get(key, []))
        if o and o != n:
            lines.append(f"- {what}: {o} → {n} classes")
    return lines


PROVENANCE_MEANING = {
    "unanimous": "every annotator of the article gave this answer",
    "majority": "more than half of the annotators (and at least `min_votes`) gave it",
    "adjudicated": "an adjudicator decided it (a tie or a dispute they settled)",
    "ground_truth": "a Label Studio ground-truth annotation decided the whole article",
    "single": "the article had one annotator",
    "tie": "annotators were split; the tie rule picked the first submitted version",
    "union": "`span_merge = union`: kept although not every annotator marked it",
}


def provenance_section(config: CorpusConfig, info: CardInfo) -> str:
    """Counts of gold items by provenance per config, the adjudication settings, tie rule."""
    counts = info.provenance_counts or {}
    adj = config.adjudication
    rows = [
        [f"`{c}`", f"`{p}`", n, PROVENANCE_MEANING.get(p, "")]
        for c in ("entities", "stance", "claims")
        for p, n in sorted(counts.get(c, {}).items())
    ]
    lines = [
        "Every gold item has a `provenance` column (`entities.provenance`, `stance.provenance`, "
        "`claims.provenance`): how it was decided.",
        "",
        _table(["config", "provenance", "items", "meaning"], rows) if rows else "No gold items.",
        "",
        f'Adjudication settings: `tie_rule = "{adj.tie_rule}"`, '
        f'`span_merge = "{adj.span_merge}"`, `min_votes = {adj.min_votes}`, '
        f"{len(adj.adjudicators)} designated adjudicator(s).",
    ]
    ties = sum(c.get("tie", 0) for c in counts.values())
    if adj.tie_rule == "first":
        lines += [
            "",
            f'> **Ties were not adjudicated**: with `tie_rule = "first"`, {ties} gold item(s) '
            "(provenance `tie`) are the version of the annotator who submitted first, not a "
            "majority. Filter them out (`provenance != 'tie'`) for a stricter gold.",
        ]
    elif adj.tie_rule == "drop":
        lines += [
            "",
            '> **Ties were dropped**: with `tie_rule = "drop"`, items the annotators were split '
            "on are left out of the gold configs and masked like open disputes (`ner_mask` "
            "false over the region, `claims_complete` false, the `open_*_disputes` counts), so "
            "they are never negatives. The `annotations` config has every version.",
        ]
    elif adj.tie_rule == "adjudicator":
        lines += [
            "",
            '> With `tie_rule = "adjudicator"`, ties were broken by a designated adjudicator\'s '
            "own labels (provenance `adjudicated`); the others' majority stands elsewhere.",
        ]
    return "\n".join(lines)


def mask_section(info: CardInfo) -> str:
    """What open disputes mean in each gold config, with the training line that uses the mask."""
    gaps = info.gaps or {}
    return "\n".join(
        [
            "An item the annotators disagree on and no adjudicator has decided yet is **unknown**, "
            "never a negative:",
            "",
            "- `entities`: `ner_mask` (one boolean per token, same length as `tokens`) is false "
            "on every token that overlaps an open dispute (a token only partly inside is masked "
            "too); such tokens carry tag `O` in `ner_tags` only as a placeholder. "
            "`disputed_regions` gives the character ranges. "
            f"In this release: {gaps.get('masked_tokens', 0)} masked token(s) in "
            f"{gaps.get('entity_regions', 0)} region(s) of "
            f"{gaps.get('entity_articles', 0)} article(s).",
            "- `claims`: each row says whether its article's claim list is complete "
            "(`claims_complete`, `open_claim_disputes`); the `articles` config says the same for "
            "every article, also those without any gold claim (`claims_complete` is false "
            "without a gold record, `has_gold`). "
            f"In this release: {gaps.get('claim_articles', 0)} article(s) with an incomplete "
            f"claim list ({gaps.get('claim_regions', 0)} open claim dispute(s)).",
            "- `stance`: a disputed target has no row (do not read a missing row as `unrelated`); "
            "`articles.open_stance_disputes` counts them. "
            f"In this release: {gaps.get('stance_targets', 0)} disputed (article, target) "
            "pair(s).",
            "",
            "Training a token classifier, ignore masked tokens in the loss:",
            "",
            "```python",
            'labels = [t if keep else -100 for t, keep in zip(row["ner_tags"], row["ner_mask"])]',
            "```",
            "",
            "An article without a gold claim is a negative only when its `articles` row has "
            '`claims_complete` true: `articles.filter(lambda a: a["claims_complete"])`.',
        ]
    )


def label_count_section(info: CardInfo) -> str:
    """Gold label counts per layer and split, and warnings where a split is too small."""
    by_split = info.label_counts_by_split or {}
    stories = info.stories or {}
    rows = []
    for layer in ("entities", "stance", "checkworthy"):
        for label, counts in by_split.get(layer, {}).items():
            rows.append([layer, f"`{label}`", *(counts.get(s, 0) for s in SPLITS)])
    warnings: list[str] = []
    present = [s for s in SPLITS if info.writers["articles", s][0] > 0]
    for s in SPLITS:
        if s not in present:
            warnings.append(f"`{s}` has no articles: nothing can be measured on it")
        elif stories.get(s, 0) == 1:
            warnings.append(
                f"`{s}` has one story: its articles cover one event, so scores on it measure "
                "that event, not the task"
            )
    scheme_labels = {
        "entities": list(info.labels["entities"]),
        "checkworthy": list(info.labels["checkworthy"]),
    }
    for layer in ("entities", "stance", "checkworthy"):
        seen = by_split.get(layer, {})
        for label in scheme_labels.get(layer, []):
            if label not in seen:
                warnings.append(f"{layer} `{label}` never occurs in this release")
        for label, counts in seen.items():
            for s in present:
                if not counts.get(s):
                    warnings.append(f"{layer} `{label}` never occurs in `{s}`")
    lines = [
        "Gold items per label and split (stance as `target: label`):",
        "",
        _table(["layer", "label", *SPLITS], rows) if rows else "No gold items.",
        "",
    ]
    if warnings:
        lines += [
            f"**Warning: splits too small to measure everything** ({len(warnings)}):",
            "",
            *(f"- {w}" for w in warnings),
        ]
    else:
        lines.append("Every label occurs in every split; every split has more than one story.")
    return "\n".join(lines)


def citation(config: CorpusConfig, version: str, url: str) -> tuple[str, str]:
    """BibTeX and APA text: `[release] citation` when set, else a generated @misc entry."""
    key = re.sub(r"[^A-Za-z0-9]+", "_", f"{config.name}_v{version}")
    who = config.release.curators or f"{config.name} maintainers"
    bibtex = config.release.citation or "\n".join(
        [
            f"@misc{{{key},",
            f"  title = {{{{{config.pretty_name}}}}},",
            f"  author = {{{{{who}}}}},",
            f"  version = {{{version}}},",
            f"  howpublished = {{{url}}},",
            f"  note = {{Release v{version}, built with corpus-tools}}",
            "}",
        ]
    )
    apa = f"{who}. *{config.pretty_name}* (Version {version}) [Data set]. {url}"
    return bibtex.strip(), apa


def render(*, config: CorpusConfig, version: str, builder_info: CardInfo) -> str:
    """The full README.md of release `version`, following the sections of huggingface_hub's
    dataset card template (templates/datasetcard_template.md), generated from corpus.toml and
    the data."""
    info = builder_info
    meta = card_metadata(config, info)
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    scheme = config.scheme
    rel = config.release
    repo = config.publish.repo_id or f"<org>/{config.name}"
    hub_url = f"https://huggingface.co/datasets/{repo}"
    url = config.homepage or hub_url
    local = os.path.relpath(config.paths.hub, config.paths.root).replace(os.sep, "/")
    tag = f"v{version}"
    n_articles = sum(info.writers["articles", s][0] for s in SPLITS)
    counts_rows = [
        [f"`{c}`", ROW_UNIT[c], *(info.writers[c, s][0] for s in SPLITS)] for c in CONFIGS
    ]
    ent_rows = [[i, f"`{e.label}`", e.name, e.definition] for i, e in enumerate(scheme.entities)]
    stance_rows = [[i, f"`{label}`"] for i, label in enumerate(scheme.stance_labels)]
    target_rows = [[f"`{t.id}`", t.name, t.description] for t in scheme.stance_targets]
    # Asked with one control, each task named its one target (an adopted project's tasks):
    # an article has no row for the targets it was not asked about.
    single = scheme.names.stance is not None
    stance_scope = (
        f"the one target its task asked about (`{scheme.names.stance_target_field}`)"
        if single
        else "each configured target"
    )
    one_target = (
        [
            "Each article was asked about one target, the one its Label Studio task named "
            f"(`{scheme.names.stance_target_field}`): the `stance` config has no row for the "
            "other targets, which were not asked (not a disputed or `unrelated` answer).",
            "",
        ]
        if single
        else []
    )
    cw_rows = [[i, f"`{label}`"] for i, label in enumerate(scheme.checkworthy)]
    by_slug = Counter(f.slug for f in info.findings)
    findings_text = (
        "\n".join(f"- `{slug}`: {n}" for slug, n in sorted(by_slug.items()))
        if by_slug
        else "- none"
    )
    agreement = info.agreement_markdown or (
        "#### Inter-annotator agreement\n\nNo annotations were available to measure agreement."
    )
    outlets = list(info.outlets)
    outlet_text = (
        ", ".join(outlets[:15]) + (f" and {len(outlets) - 15} more" if len(outlets) > 15 else "")
        if outlets
        else "the outlets named in the `articles` config"
    )
    persons = (info.label_counts.get("entities") or {}).get("PER")
    rights = rel.text_rights or (
        f"The article texts are news reporting by their publishers ({outlet_text}) and remain "
        "under the publishers' copyright unless a source says otherwise. The dataset license "
        f"(`{config.license}`) covers the annotations and the compilation; it does not grant "
        "rights in the news text. Check each outlet's terms before redistributing the texts "
        "(the `articles` config has each article's `outlet` and `url`)."
    )
    bibtex, apa = citation(config, version, url)
    contact = rel.contact or (
        f"Open a discussion on the dataset page ({hub_url}/discussions)."
        if config.publish.repo_id
        else "The maintainers of this corpus (no contact is configured: set `[release] contact` "
        "in corpus.toml)."
    )
    changes = label_set_changes(info)
    parts = [
        "---",
        front.rstrip("\n"),
        "---",
        "",
        f"# Dataset Card for {config.pretty_name}",
        "",
        config.description,
        "",
        f"Release **{tag}**. Built by corpus-tools from the files listed in `manifest.json` "
        "(input hashes, scheme hash, tool version, file checksums); rebuilding from the same "
        "inputs gives byte-identical files.",
        "",
        "## Dataset Details",
        "",
        "### Dataset Description",
        "",
        f"{n_articles} news article(s) with gold named entities (BIO tags over code-point "
        f"tokens), the article's stance towards {stance_scope}, and claims with their "
        "check-worthiness and claimant; every annotator's raw labels are kept beside the gold.",
        "",
        f"- **Curated by:** {rel.curators or 'not stated (`[release] curators` in corpus.toml)'}",
        f"- **Language(s) (NLP):** {', '.join(config.languages)}",
        f"- **License:** `{config.license}` for the annotations (see *Source Data* for the "
        "copyright of the news text)",
        "",
        "### Dataset Sources",
        "",
        f"- **Repository:** {hub_url if config.publish.repo_id else 'local release folder'}",
        *([f"- **Homepage:** {config.homepage}"] if config.homepage else []),
        "",
        "## Uses",
        "",
        "### Direct Use",
        "",
        "Training and evaluating named-entity recognition, target-dependent stance "
        "classification and check-worthy claim detection on geopolitical news; studying "
        "annotator disagreement (the `annotations` config). Mask open disputes when training "
        "(see *Open disputes are not negatives*).",
        "",
        "### Out-of-Scope Use",
        "",
        "- Judging whether a claim is true: `checkworthy` says a claim is worth checking, not "
        "that it is false.",
        "- Sentiment analysis: stance is how the article presents a target, not the tone of "
        "its words.",
        "- Profiling, tracking or making decisions about the people named in the articles.",
        "- Measuring the media in general: the articles are a small, topic-selected sample of "
        f"{len(outlets) or 'a few'} outlet(s).",
        "",
        "## Dataset Structure",
        "",
        "### Configs and splits",
        "",
        _table(["config", "one row per", *SPLITS], counts_rows),
        "",
        "A split without rows has no file and is not listed in the metadata (`datasets` "
        "cannot load an empty split); a config without any row is left out likewise.",
        "",
        "Splits are assigned by **story cluster** (near-duplicate coverage of one event): all "
        "articles of a story share one split, so **no story crosses splits**. An article keeps "
        "its split in every later release.",
        "",
        "### Labels",
        "",
        "Class ids are positions in these lists and are append-only across releases: new labels "
        "are added at the end, a renamed label keeps its id.",
        "",
        "#### Entities (`entities.label`, `annotations.entities.label`)",
        "",
        _table(["id", "label", "name", "definition"], ent_rows),
        "",
        "`ner_tags` use BIO: id 0 is `O`, then `B-X`, `I-X` for each label above in order "
        f"({len(info.labels['ner_tags'])} tags). Tokens are runs of letters, digits and "
        "combining marks, or single other characters (one grapheme each); offsets are Unicode "
        "code points. A span whose end falls inside a token splits that token, so tags match "
        "the character spans exactly.",
        "",
        "#### Stance (`stance.label`)",
        "",
        scheme.stance_question_for("*the target*"),
        "",
        _table(["id", "label"], stance_rows),
        "",
        *one_target,
        "Targets:",
        "",
        _table(["target", "name", "description"], target_rows),
        "",
        "#### Claims (`claims.checkworthy`)",
        "",
        scheme.claim_definition,
        "",
        _table(["id", "label"], cw_rows),
        "",
        f"Claimant: {scheme.claimant_definition}",
        "",
        "### Open disputes are not negatives",
        "",
        mask_section(info),
        "",
        "### Where the gold labels come from",
        "",
        provenance_section(config, info),
        "",
        "### Label counts per split",
        "",
        label_count_section(info),
        "",
        "## Dataset Creation",
        "",
        "### Curation Rationale",
        "",
        config.description,
        "",
        "### Source Data",
        "",
        "#### Data Collection and Processing",
        "",
        "Articles were ingested by corpus-tools (`corpus ingest`) from text, HTML, JSON Lines "
        "and CSV files: boilerplate lines dropped, the headline and a leading date line taken "
        "as title and date, spaces squeezed, line ends kept (Unicode is not normalised); exact "
        "duplicates dropped; near-duplicates grouped into story clusters (MinHash LSH "
        "candidates verified by exact Jaccard similarity). Each text is hashed (`text_sha256`) "
        "so annotations made on another text are never used.",
        "",
        "#### Who are the source data producers?",
        "",
        f"Journalists and news organisations: {outlet_text}. {rights}",
        "",
        "### Annotations",
        "",
        "#### Annotation process",
        "",
        "Articles were annotated in Label Studio with a labeling configuration generated from "
        "the scheme above, with rule-based pre-annotations "
        f"(`{config.preannotate.model_version}`) that annotators corrected. "
        f"Gold labels come from: {info.gold_source}. "
        + (
            f"{info.disputed_articles} article(s) still have {info.disputed_items} open "
            "dispute(s) (annotators disagreed and no adjudicator has decided yet): those items "
            "are **not** in the gold labels (`entities`, `stance`, `claims`) and are marked as "
            "unknown, never as negatives; the `annotations` config has every annotator's "
            "version."
            if info.disputed_articles
            else "No disputes are open."
        ),
        "",
        "Findings noticed while building this release (reported, never dropped silently):",
        "",
        findings_text,
        "",
        agreement,
        "",
        "#### Who are the annotators?",
        "",
        f"{info.annotators} annotator(s), shown only as pseudonymous ids (a keyed hash of "
        "their Label Studio account); no other information about them is published.",
        "",
        "#### Personal and Sensitive Information",
        "",
        "The articles are news reports that **name real people** (officials, politicians, "
        "sources quoted, sometimes private individuals)"
        + (f"; `PER` marks {persons} gold person mention(s)" if persons else "")
        + ". They may report political opinions, religious or national affiliations and "
        "alleged wrongdoing of named people. Nothing was anonymised in the texts; annotators "
        "are pseudonymised. Remove an article on request by its subject or publisher in the "
        "next release (the changelog lists removals).",
        "",
        "## Bias, Risks, and Limitations",
        "",
        f"- Coverage: {n_articles} article(s) from {len(outlets) or 'few'} outlet(s), in "
        f"{', '.join(config.languages)}, on a few geopolitical topics; the stance targets are a "
        "fixed list chosen by the maintainers.",
        f"- Labels reflect {info.annotators} annotator(s) and the adjudication rules above; "
        "pre-annotations may anchor annotators towards the gazetteer's entities.",
        "- Small splits: see the warnings under *Label counts per split*; scores on a split of "
        "one story or without a label measure little.",
        "- News text carries its outlets' framing; a model trained on it learns that framing.",
        "",
        "### Recommendations",
        "",
        "Report results per split with the release tag; mask open disputes (`ner_mask`, "
        "`claims_complete`); check provenance counts before treating gold as adjudicated; do not "
        "use stance labels as a measure of an outlet's bias without more data.",
        "",
        "## Citation",
        "",
        "**BibTeX:**",
        "",
        "```bibtex",
        bibtex,
        "```",
        "",
        "**APA:**",
        "",
        apa,
        "",
        "## Glossary",
        "",
        "- **Open dispute**: an item annotators disagreed on that no adjudicator has decided; "
        "unknown, not negative.",
        "- **Story cluster**: articles covering one event (near-duplicates); the unit of the "
        "split.",
        "- **Provenance**: how a gold item was decided (see *Where the gold labels come from*).",
        "",
        "## More Information",
        "",
        "### How to load",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        f'entities = load_dataset("{repo}", "entities", revision="{tag}")',
    ]
    parts += [f'{c} = load_dataset("{repo}", "{c}", revision="{tag}")' for c in CONFIGS[1:]]
    parts += [
        "```",
        "",
        f'`revision="{tag}"` selects this release\'s tag. A tag can be moved; for an exact, '
        "immutable pin use the commit sha the tag points to "
        f'(`load_dataset("{repo}", "entities", revision="<commit sha>")`; '
        f'`huggingface_hub.HfApi().list_repo_refs("{repo}", repo_type="dataset")` lists it). '
        "Offline (`HF_HUB_OFFLINE=1`), `load_dataset` answers from the latest cached revision "
        "whatever `revision` says. To pin a version that also loads offline, download its commit "
        "once while online and load that folder; offline, the same lines load the cached copy of "
        "exactly that commit:",
        "",
        "```python",
        "from datasets import load_dataset",
        "from huggingface_hub import snapshot_download",
        "",
        f'path = snapshot_download("{repo}", repo_type="dataset", revision="<commit sha>")',
        'entities = load_dataset(path, "entities")',
        "```",
        "",
        "From the local hub folder (no account, works offline):",
        "",
        "```python",
        f'load_dataset("{local}/{config.name}/{tag}", "entities")',
        "```",
        "",
        "### Changelog",
        "",
        changelog(info),
        "",
        *(["Label set changes:", "", *changes, ""] if changes else []),
        "## Dataset Card Authors",
        "",
        rel.curators or "Generated by corpus-tools from corpus.toml and the release data.",
        "",
        "## Dataset Card Contact",
        "",
        contact,
        "",
    ]
    return "\n".join(parts)
