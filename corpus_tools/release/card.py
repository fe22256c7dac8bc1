"""The dataset card (`README.md`): YAML metadata `datasets` and the Hub read, then prose.

The YAML carries `configs` (data files per split) and the full `dataset_info` (features,
splits with `num_examples`/`num_bytes`, sizes): `datasets` then loads the label names and
checks split sizes, and its cache key (which hashes this YAML) changes with every release.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
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
    articles: Sequence[str]  # compact JSON rows: id, split, text sha256, labels sha256
    gold_source: str
    annotators: int = 0
    disputed_articles: int = 0
    disputed_items: int = 0
    agreement_markdown: str | None = None


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
        "task_ids": ["named-entity-recognition", "sentiment-classification"],
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
    old = {row[0]: row for row in prev.manifest.get("articles", [])}
    new = {row[0]: row for row in map(orjson.loads, info.articles)}
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    both = sorted(new.keys() & old.keys())
    text_changed = [a for a in both if old[a][2] != new[a][2]]
    labels_changed = [a for a in both if old[a][3] != new[a][3] and old[a][2] == new[a][2]]
    moved = [a for a in both if old[a][1] != new[a][1]]

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


def render(*, config: CorpusConfig, version: str, builder_info: CardInfo) -> str:
    """The full README.md of release `version`."""
    info = builder_info
    meta = card_metadata(config, info)
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    scheme = config.scheme
    repo = config.publish.repo_id or f"<org>/{config.name}"
    local = os.path.relpath(config.paths.hub, config.paths.root).replace(os.sep, "/")
    tag = f"v{version}"
    counts_rows = [
        [f"`{c}`", ROW_UNIT[c], *(info.writers[c, s][0] for s in SPLITS)] for c in CONFIGS
    ]
    ent_rows = [[i, f"`{e.label}`", e.name, e.definition] for i, e in enumerate(scheme.entities)]
    stance_rows = [[i, f"`{label}`"] for i, label in enumerate(scheme.stance_labels)]
    target_rows = [[f"`{t.id}`", t.name, t.description] for t in scheme.stance_targets]
    cw_rows = [[i, f"`{label}`"] for i, label in enumerate(scheme.checkworthy)]
    by_slug = Counter(f.slug for f in info.findings)
    findings_text = (
        "\n".join(f"- `{slug}`: {n}" for slug, n in sorted(by_slug.items()))
        if by_slug
        else "- none"
    )
    agreement = info.agreement_markdown or (
        "## Inter-annotator agreement\n\nNo annotations were available to measure agreement."
    )
    parts = [
        "---",
        front.rstrip("\n"),
        "---",
        "",
        f"# {config.pretty_name}",
        "",
        config.description,
        "",
        f"Release **{tag}**. Built by corpus-tools from the files listed in `manifest.json` "
        "(input hashes, scheme hash, tool version, file checksums); rebuilding from the same "
        "inputs gives byte-identical files.",
        "",
        "## Configs and splits",
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
        "## Labels",
        "",
        "Class ids are positions in these lists and are append-only across releases: new labels "
        "are added at the end, a renamed label keeps its id.",
        "",
        "### Entities (`entities.label`, `annotations.entities.label`)",
        "",
        _table(["id", "label", "name", "definition"], ent_rows),
        "",
        "`ner_tags` use BIO: id 0 is `O`, then `B-X`, `I-X` for each label above in order "
        f"({len(info.labels['ner_tags'])} tags). Tokens are runs of letters, digits and "
        "combining marks, or single other characters (one grapheme each); offsets are Unicode "
        "code points. A span whose end falls inside a token splits that token, so tags match "
        "the character spans exactly.",
        "",
        "### Stance (`stance.label`)",
        "",
        scheme.stance_question.replace("{target}", "*the target*"),
        "",
        _table(["id", "label"], stance_rows),
        "",
        "Targets:",
        "",
        _table(["target", "name", "description"], target_rows),
        "",
        "### Claims (`claims.checkworthy`)",
        "",
        scheme.claim_definition,
        "",
        _table(["id", "label"], cw_rows),
        "",
        f"Claimant: {scheme.claimant_definition}",
        "",
        "## Annotation process",
        "",
        "Articles were annotated in Label Studio with a labeling configuration generated from "
        "the scheme above, with rule-based pre-annotations "
        f"(`{config.preannotate.model_version}`) that annotators corrected. "
        f"Annotators ({info.annotators}) appear only as pseudonymous ids. "
        f"Gold labels come from: {info.gold_source}. "
        + (
            f"{info.disputed_articles} article(s) still have {info.disputed_items} open "
            "dispute(s) (annotators disagreed and no adjudicator has decided yet): those items "
            "are **not** in the gold configs (`entities`, `stance`, `claims`); the `annotations` "
            "config has every annotator's version."
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
        "## How to load",
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
        "Offline, `datasets` may answer from another cached revision; pin by sha there too.",
        "",
        "From the local hub folder (no account, works offline):",
        "",
        "```python",
        f'load_dataset("{local}/{config.name}/{tag}", "entities")',
        "```",
        "",
        "## Changelog",
        "",
        changelog(info),
        "",
    ]
    return "\n".join(parts)
