"""A trained model: a versioned folder under `build/models/` with its card.

`train` reads the adjudicated gold (`build/gold.jsonl` or a release folder), trains every
layer (the learned gazetteer, the spaCy NER pipeline, the stance and claim classifiers) and
writes them into one folder:

    build/models/
      LATEST                     the newest version's name (one line)
      evaluation.json            the last `corpus model evaluate` (its gold's hash inside)
      geonews-3f9c0e2a61d4/      one version
        card.json                what it was trained on, its metrics, library versions
        README.md                the same for people, and how to use it
        gazetteer.json  ner/  stance.joblib  claims.joblib

The version name is `<corpus name>-<12 hex>`, a hash of everything that decides the model:
the gold's sha256 (the manifest's for a release), the extra labelled articles, the scheme
hash, the seed, the epochs, the library versions (corpus-tools' among them) and
`MODEL_FORMAT`, the version of the training code. Training the same inputs again finds
the folder and reuses it (`Bundle.reused`). The corpus-tools version does not change with
every commit, so `MODEL_FORMAT` is what makes a code change retrain: bump it whenever the
training code changes what a model is (its features, rules, threshold or gate, the files it
writes), or `corpus model train` keeps reusing a folder trained by the old code.

A folder is built under a dot-name beside its final place and renamed into place only when
complete, then `LATEST` is replaced atomically: a reader never sees half a model under a
version name, and `LATEST` always names a complete one.

`load` refuses a model whose scheme hash is not the corpus's (ConfigError, exit 2): its
labels would not mean what the corpus's labels mean.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpus_tools import __version__, store
from corpus_tools.config import CorpusConfig
from corpus_tools.errors import ConfigError, UsageError
from corpus_tools.models.data import GoldArticle, TrainingSet, load_training_set

if TYPE_CHECKING:
    from corpus_tools.models.classify import ClaimModel, StanceModel
    from corpus_tools.models.gazetteer import LearnedGazetteer
    from corpus_tools.models.ner import SpacyNer

MODELS_DIR = "models"
LATEST = "LATEST"
CARD = "card.json"
CARD_README = "README.md"
EVALUATION = "evaluation.json"
CARD_FORMAT = 1
MODEL_FORMAT = 2
"""The training code's version, hashed into every model version: bump it whenever training
changes what a model is (1: up to the learned claim threshold; 2: the claim gate, stance
targets looked for by their scheme names)."""
HASH_CHARS = 12

Progress = Callable[[int, int], None]


def models_dir(config: CorpusConfig) -> Path:
    """`build/models` of this corpus."""
    return config.paths.build / MODELS_DIR


@dataclass
class Layers:
    """The trained layers; a layer is None when the gold has nothing to train it on."""

    gazetteer: LearnedGazetteer
    ner: SpacyNer | None
    stance: StanceModel | None
    claims: ClaimModel | None


@dataclass
class Bundle:
    """A trained model loaded from its folder (`version` is the folder name and the
    `model_version` Label Studio stores with each prediction)."""

    path: Path
    version: str
    card: dict[str, Any]
    gazetteer: LearnedGazetteer
    ner: SpacyNer | None
    stance: StanceModel | None
    claims: ClaimModel | None
    reused: bool = field(default=False)  # train found this version already built


# ---------------------------------------------------------------------------------------------
# training


def training_steps(epochs: int) -> int:
    """Progress units of one `fit_layers` call: NER epochs, then gazetteer, stance, claims."""
    return epochs + 3


def fit_layers(
    config: CorpusConfig,
    items: Sequence[GoldArticle],
    *,
    seed: int = 0,
    epochs: int = 20,
    progress: Progress | None = None,
) -> Layers:
    """Train every layer on `items` (progress in `training_steps(epochs)` units).

    A layer the gold has no labels for is None: no entity span → no NER pipeline; no stance
    judgement → no stance model; no claim → no claim model (an untrained classifier's
    probabilities would be invented, not learned).
    """
    from corpus_tools.models.classify import ClaimModel, StanceModel
    from corpus_tools.models.gazetteer import LearnedGazetteer
    from corpus_tools.models.ner import SpacyNer

    scheme = config.scheme
    total = training_steps(epochs)

    def step(done: int) -> None:
        if progress is not None:
            progress(done, total)

    step(0)
    ner: SpacyNer | None = None
    if scheme.entity_labels and any(g.entities for g in items):

        def ner_progress(done: int, _total: int) -> None:
            step(min(done, epochs))

        ner = SpacyNer.train(
            items, scheme.entity_labels, seed=seed, epochs=epochs, progress=ner_progress
        )
    step(epochs)
    gazetteer = LearnedGazetteer.fit(items)
    step(epochs + 1)
    stance: StanceModel | None = None
    targets = [t.id for t in scheme.stance_targets]
    if targets and any(s.target in targets for g in items for s in g.stances):
        stance = StanceModel.fit(
            items,
            targets,
            scheme.stance_labels,
            seed=seed,
            target_names={t.id: t.name for t in scheme.stance_targets},
        )
    step(epochs + 2)
    claims: ClaimModel | None = None
    if any(g.claims for g in items):
        claims = ClaimModel.fit(items, scheme.checkworthy, seed=seed)
    step(total)
    return Layers(gazetteer=gazetteer, ner=ner, stance=stance, claims=claims)


def _item_record(g: GoldArticle) -> dict[str, Any]:
    """Everything of a gold article that training reads, in a canonical form (for hashing)."""
    a = g.article
    return {
        "article_id": a.article_id,
        "text_sha256": store.sha256_text(a.text),
        "story": g.story,
        "sentences": [[s.start, s.end] for s in a.sentences],
        "entities": [[e.start, e.end, e.label] for e in g.entities],
        "stances": [[s.target, s.label] for s in g.stances],
        "claims": [[c.start, c.end, c.checkworthy, c.claimant] for c in g.claims],
        "missing_entities": [list(r) for r in g.missing_entities],
        "missing_claims": [list(r) for r in g.missing_claims],
        "missing_stances": list(g.missing_stances),
    }


def _sha256_json(obj: Any) -> str:
    payload = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of what decides a trained model's bytes (read without importing spaCy)."""

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "python": platform.python_version(),
        "spacy": version("spacy"),
        "scikit-learn": version("scikit-learn"),
        "corpus-tools": __version__,
    }


def version_name(
    config: CorpusConfig,
    training: TrainingSet,
    extra: Sequence[GoldArticle],
    *,
    seed: int,
    epochs: int,
) -> str:
    """`<corpus name>-<12 hex>`: a hash of every input that decides the model."""
    inputs = {
        "format": CARD_FORMAT,
        "gold_sha256": training.source_sha256,
        "extra_sha256": _sha256_json([_item_record(g) for g in extra]),
        "scheme_sha256": config.scheme.digest(),
        "seed": seed,
        "epochs": epochs,
        "libraries": library_versions(),
        "model_format": MODEL_FORMAT,
    }
    return f"{config.name}-{_sha256_json(inputs)[:HASH_CHARS]}"


def merge_extra(
    items: Sequence[GoldArticle], extra: Sequence[GoldArticle]
) -> tuple[GoldArticle, ...]:
    """The gold with the extra articles; an extra article replaces the gold article of the
    same id (a newer annotation of it), the rest are added. Sorted by article_id."""
    by_id = {g.article_id: g for g in items}
    for g in extra:
        by_id[g.article_id] = g
    return tuple(by_id[k] for k in sorted(by_id))


def _counts(items: Sequence[GoldArticle]) -> dict[str, Any]:
    """What the gold holds, per layer (the card's 'trained on')."""
    entity_labels: Counter[str] = Counter(e.label for g in items for e in g.entities)
    stance: dict[str, Counter[str]] = {}
    for g in items:
        for s in g.stances:
            stance.setdefault(s.target, Counter())[s.label] += 1
    checkworthy: Counter[str] = Counter(c.checkworthy or "(none)" for g in items for c in g.claims)
    return {
        "articles": len(items),
        "stories": len({g.story for g in items}),
        "entities": {
            "articles": sum(1 for g in items if g.entities),
            "spans": sum(entity_labels.values()),
            "labels": dict(sorted(entity_labels.items())),
            "missing_ranges": sum(len(g.missing_entities) for g in items),
        },
        "stance": {
            "articles": sum(1 for g in items if g.stances),
            "judgements": {t: dict(sorted(c.items())) for t, c in sorted(stance.items())},
            "missing": sum(len(g.missing_stances) for g in items),
        },
        "claims": {
            "articles": sum(1 for g in items if g.claims),
            "claims": sum(checkworthy.values()),
            "checkworthy": dict(sorted(checkworthy.items())),
            "sentences": sum(len(g.article.sentences) for g in items),
            "missing_ranges": sum(len(g.missing_claims) for g in items),
        },
    }


def _files(folder: Path) -> dict[str, str]:
    """sha256 of every file a model folder holds but its card and README (sorted paths)."""
    out: dict[str, str] = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel not in (CARD, CARD_README, EVALUATION):
            out[rel] = store.sha256_file(p)
    return out


_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.[A-Za-z0-9_]+(?:\.old)?\.tmp$")


def _stale_temp_folders(root: Path) -> None:
    """Remove dot-named temp folders a killed `train` left (their process is gone)."""
    if not root.is_dir():
        return
    for p in root.iterdir():
        m = _TEMP_NAME.match(p.name)
        if m is None or not p.is_dir():
            continue
        pid = int(m.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except PermissionError:  # another user's live process
            continue


def _fsync_tree(folder: Path) -> None:
    """Flush a folder's files and the folder entries to disk before it is renamed in."""
    for p in [*sorted(folder.rglob("*"), reverse=True), folder]:
        with contextlib.suppress(OSError):
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def train(
    config: CorpusConfig,
    gold: Path | None = None,
    *,
    extra: Sequence[GoldArticle] = (),
    seed: int = 0,
    epochs: int = 20,
    progress: Progress | None = None,
) -> Bundle:
    """Train every layer on the gold (plus `extra` labelled articles) and write the model
    folder `build/models/<version>` atomically; `LATEST` then names it.

    `gold`: `build/gold.jsonl` (default), another gold file, or a release folder
    (`dist/VERSION`). The same inputs give the same version: the existing folder is reused
    (`Bundle.reused`), nothing is trained. `progress(done, total)` is called while training.
    """
    if epochs < 1:
        raise UsageError(f"--epochs {epochs}: train at least one epoch", hint="Use --epochs 20.")
    training = load_training_set(config, gold)
    items = merge_extra(training.items, extra)
    if not items:
        raise UsageError(
            f"{training.source}: no gold article to train on"
            + (f" ({len(training.skipped)} stale records skipped)" if training.skipped else ""),
            hint="Run `corpus adjudicate` (after `corpus ls pull`) to make gold, "
            "or pass --gold dist/VERSION.",
            path=training.source,
        )
    version = version_name(config, training, extra, seed=seed, epochs=epochs)
    root = models_dir(config)
    final = root / version
    with store.fs_errors(root):
        root.mkdir(parents=True, exist_ok=True)
        _stale_temp_folders(root)
        if (final / CARD).is_file():
            try:
                bundle = load(config, final)
            except UsageError:
                bundle = None  # a damaged folder under this name: build it again
            if bundle is not None:
                bundle.reused = True
                if progress is not None:
                    progress(1, 1)
                _set_latest(root, version)
                return bundle
        layers = fit_layers(config, items, seed=seed, epochs=epochs, progress=progress)
        # unique per process and call (a server may retrain in a thread); the pid in the name
        # lets a later run remove what a killed one left
        tmp = Path(tempfile.mkdtemp(prefix=f".{version}.{os.getpid()}.", suffix=".tmp", dir=root))
        try:
            os.chmod(tmp, 0o777 & ~store._umask())  # mkdtemp's 0700 is not a model folder's mode
            _write_layers(layers, tmp)
            kind = "release" if gold is not None and Path(gold).is_dir() else "gold.jsonl"
            card = _card(
                config, version, training, items, extra, layers, kind=kind, seed=seed, epochs=epochs
            )
            card["files"] = _files(tmp)
            (tmp / CARD).write_bytes(store.dump_json(card))
            (tmp / CARD_README).write_text(card_readme(card), encoding="utf-8")
            _fsync_tree(tmp)
            old = tmp.with_name(tmp.name.removesuffix(".tmp") + ".old.tmp")
            store.swap_in(tmp, final, old)
            for leftover in (tmp, old):
                shutil.rmtree(leftover, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _set_latest(root, version)
    _name_layers(layers, version)
    return Bundle(
        path=final,
        version=version,
        card=card,
        gazetteer=layers.gazetteer,
        ner=layers.ner,
        stance=layers.stance,
        claims=layers.claims,
    )


def _set_latest(root: Path, version: str) -> None:
    store.atomic_write_text(root / LATEST, version + "\n")


def _write_layers(layers: Layers, folder: Path) -> None:
    layers.gazetteer.save(folder)
    for model in (layers.ner, layers.stance, layers.claims):
        if model is not None:
            model.save(folder)


def _name_layers(layers: Layers | Bundle, version: str) -> None:
    """Every layer's model_version is the bundle's version (what Label Studio stores)."""
    for model in (layers.gazetteer, layers.ner, layers.stance, layers.claims):
        if model is not None:
            model.model_version = version


def _card(
    config: CorpusConfig,
    version: str,
    training: TrainingSet,
    items: Sequence[GoldArticle],
    extra: Sequence[GoldArticle],
    layers: Layers,
    *,
    kind: str,
    seed: int,
    epochs: int,
) -> dict[str, Any]:
    from corpus_tools.models.evaluate import training_set_metrics

    counts = _counts(items)
    layer_files = {
        "gazetteer": "gazetteer.json",
        "ner": "ner/" if layers.ner is not None else None,
        "stance": "stance.joblib" if layers.stance is not None else None,
        "claims": "claims.joblib" if layers.claims is not None else None,
    }
    info = {
        name: getattr(model, "info", None)
        for name, model in (
            ("ner", layers.ner),
            ("stance", layers.stance),
            ("claims", layers.claims),
        )
        if model is not None
    }
    card: dict[str, Any] = {
        "format": CARD_FORMAT,
        "version": version,
        "corpus": config.name,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "gold": {
            "source": training.source,
            "kind": kind,
            "sha256": training.source_sha256,
            "articles": len(training.items),
            "skipped": len(training.skipped),
        },
        "extra": {
            "articles": len(extra),
            "sha256": _sha256_json([_item_record(g) for g in extra]),
        },
        "trained_on": counts,
        "scheme_sha256": config.scheme.digest(),
        "training": {"seed": seed, "epochs": epochs},
        "layers": layer_files,
        "info": _jsonable(info),
        "metrics": {
            "training_set": training_set_metrics(config, items, layers),
            "cross_validated": _cv_summary(models_dir(config) / EVALUATION, training),
        },
        "libraries": library_versions(),
        "model_format": MODEL_FORMAT,
    }
    return card


def claim_gate(card: dict[str, Any]) -> dict[str, Any] | None:
    """The claim detector's gate as the card records it (None without a claim layer, or a
    card written before the gate: `ClaimModel.gate` of the loaded model has it then)."""
    gate = (card.get("info") or {}).get("claims", {}).get("detector", {}).get("gate")
    return gate if card.get("layers", {}).get("claims") and isinstance(gate, dict) else None


def _jsonable(obj: Any) -> Any:
    """`obj` through JSON (numpy numbers and tuples become plain JSON values)."""
    return json.loads(json.dumps(obj, default=_json_default))


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, set | frozenset):
        return sorted(o)
    return str(o)


def _cv_summary(path: Path, training: TrainingSet) -> dict[str, Any] | None:
    """The cross-validated figures of the last evaluation, if it was on this same gold."""
    try:
        ev = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(ev, dict) or ev.get("gold", {}).get("sha256") != training.source_sha256:
        return None
    return cv_summary(ev)


def cv_summary(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The card's short form of an evaluation: F1 per layer beside the baseline, slopes."""
    return {
        "folds": evaluation.get("folds"),
        "epochs": evaluation.get("epochs"),
        "seed": evaluation.get("seed"),
        "summary": evaluation.get("summary"),
        "slope_per_doubling": evaluation.get("learning_curve", {}).get("slope_per_doubling"),
        "file": EVALUATION,
    }


# ---------------------------------------------------------------------------------------------
# the human card


def _fmt(x: Any) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def card_readme(card: dict[str, Any]) -> str:
    """The short human card of a model folder (README.md)."""
    t = card["trained_on"]
    v = card["version"]
    lines = [
        f"# Model {v}",
        "",
        f"Trained by corpus-tools {card['libraries']['corpus-tools']} on {card['created']} "
        f"from the corpus's own adjudicated gold: `{card['gold']['source']}` "
        f"(sha256 `{card['gold']['sha256'][:16]}…`), {t['articles']} articles in "
        f"{t['stories']} stories"
        + (
            f", plus {card['extra']['articles']} newly labelled articles"
            if card["extra"]["articles"]
            else ""
        )
        + f". Scheme `{card['scheme_sha256'][:16]}…`; seed {card['training']['seed']}, "
        f"{card['training']['epochs']} epochs. Nothing was downloaded.",
        "",
        "| layer | model | trained on |",
        "|---|---|---|",
        f"| entities | spaCy NER (`ner/`) + learned gazetteer (`gazetteer.json`) | "
        f"{t['entities']['spans']} spans in {t['entities']['articles']} articles |",
        f"| stance | calibrated classifier per target (`stance.joblib`) | "
        f"{sum(sum(c.values()) for c in t['stance']['judgements'].values())} judgements |",
        f"| claims | sentence-level detector + check-worthiness (`claims.joblib`) | "
        f"{t['claims']['claims']} claims, {t['claims']['sentences']} sentences |",
        "",
    ]
    missing = [k for k in ("ner", "stance", "claims") if card["layers"].get(k) is None]
    if missing:
        lines += [f"Not trained (no gold for them): {', '.join(missing)}.", ""]
    gate = claim_gate(card)
    if gate is not None:
        cut = card["info"]["claims"]["detector"].get("threshold", {}).get("value")
        lines += [
            (
                f"Claim suggestions: on, at the learned threshold {_fmt(cut)} ({gate['reason']})."
                if gate.get("informative")
                else f"Claim suggestions: off ({gate['reason']}); projected claims still come."
            ),
            "",
        ]
    cv = card["metrics"].get("cross_validated")
    if cv and cv.get("summary"):
        lines += [
            f"Cross-validated ({cv['folds']} story-grouped folds; F1, model vs baseline):",
            "",
            "| layer | model | baseline |",
            "|---|---|---|",
        ]
        for layer, row in cv["summary"].items():
            model = _fmt(row.get("model"))
            if row.get("model+gazetteer") is not None:
                model += f" (with the gazetteer: {_fmt(row['model+gazetteer'])})"
            lines.append(
                f"| {layer} ({row.get('metric')}) | {model} | {_fmt(row.get('baseline'))} "
                f"({row.get('baseline_name')}) |"
            )
        slopes = cv.get("slope_per_doubling") or {}
        if any(v is not None for v in slopes.values()):
            lines += [
                "",
                "F1 gained per doubling of gold (learning curve): "
                + ", ".join(f"{k} {v:+.3f}" for k, v in slopes.items() if v is not None)
                + ".",
            ]
        lines.append("")
    else:
        lines += [
            "Cross-validated figures: not yet measured on this gold; run `corpus model evaluate`.",
            "",
        ]
    lines += [
        "## Use",
        "",
        "```",
        f"corpus tasks --suggest {v}     # predictions with scores in the Label Studio tasks",
        f"corpus serve --model {v}       # a Label Studio ML backend on 127.0.0.1",
        "```",
        "",
        "## Limits",
        "",
        "- Learned from this corpus's gold only: it knows the names, outlets and wording the "
        "annotators labelled, and little else. Figures on the training set (in card.json) are "
        "optimistic; the cross-validated ones are what to expect on a new story.",
        "- Open disputes and dropped ties were left out of training (missing, not negatives).",
        "- Suggestions are for annotators to correct, not labels: never release them as gold.",
        "- Only for this scheme: `corpus` refuses it once corpus.toml's scheme changes.",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# loading


def list_versions(config: CorpusConfig) -> list[str]:
    """Model versions under build/models (complete folders only), sorted by name."""
    root = models_dir(config)
    if not root.is_dir():
        return []
    return sorted(
        p.name for p in root.iterdir() if not p.name.startswith(".") and (p / CARD).is_file()
    )


def resolve(config: CorpusConfig, spec: str | Path = "latest") -> Path:
    """The folder of a model: a folder path, a version name under build/models, or "latest"."""
    root = models_dir(config)
    available = list_versions(config)
    hint = (
        f"Use one of: {', '.join(available)} (or 'latest')."
        if available
        else "Train one first: corpus model train"
    )
    if str(spec) == "latest":
        try:
            name = (root / LATEST).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise UsageError(
                f"{store.display_path(root)}: no trained model", hint=hint, path=str(root)
            ) from None
        if not name or "/" in name or name.startswith("."):
            raise UsageError(
                f"{store.display_path(root / LATEST)}: does not name a model version",
                hint="Train again: corpus model train",
                path=str(root / LATEST),
            )
        return root / name
    path = Path(spec)
    if path.is_dir():
        return path
    if "/" not in str(spec) and (root / str(spec)).is_dir():
        return root / str(spec)
    raise UsageError(f"no model {str(spec)!r}", hint=hint, path=str(root))


def read_card(folder: Path) -> dict[str, Any]:
    """The card of a model folder (UsageError when it is missing or not a card)."""
    where = store.display_path(folder)
    try:
        card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"{where}: not a model folder (no {CARD})",
            hint="Train one with `corpus model train`, or name a folder under build/models.",
            path=str(folder),
        ) from None
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"{where}/{CARD}: unreadable model card ({exc})",
            hint="Train the model again: corpus model train",
            path=str(folder / CARD),
        ) from None
    needed = ("version", "scheme_sha256", "layers", "files")
    if not isinstance(card, dict) or any(k not in card for k in needed):
        raise UsageError(
            f"{where}/{CARD}: not a model card (needs {', '.join(needed)})",
            hint="Train the model again: corpus model train",
            path=str(folder / CARD),
        )
    return card


def load(config: CorpusConfig, spec: str | Path = "latest") -> Bundle:
    """A trained model: `spec` is a folder, a version name under build/models, or "latest".

    ConfigError (exit 2) when the model was trained on another scheme than corpus.toml's;
    UsageError when it is missing or damaged (a file missing or changed since training).
    """
    from corpus_tools.models.classify import ClaimModel, StanceModel
    from corpus_tools.models.gazetteer import LearnedGazetteer
    from corpus_tools.models.ner import SpacyNer

    folder = resolve(config, spec)
    card = read_card(folder)
    where = store.display_path(folder)
    if card["scheme_sha256"] != config.scheme.digest():
        raise ConfigError(
            f"{where}: model trained on another scheme than corpus.toml's "
            f"({str(card['scheme_sha256'])[:12]} vs {config.scheme.digest()[:12]}); its labels "
            "would not mean the corpus's",
            hint="Train a model for this scheme (corpus adjudicate, then corpus model train), "
            "or use the corpus.toml the model was trained with.",
            path=str(folder / CARD),
        )
    files = card["files"]
    for rel, digest in sorted(files.items()):
        p = folder / rel
        if not p.is_file() or store.sha256_file(p) != digest:
            raise UsageError(
                f"{where}: damaged model ({rel} is {'changed' if p.is_file() else 'missing'})",
                hint="Train it again: corpus model train",
                path=str(p),
            )
    layers = card["layers"]
    try:
        gazetteer = LearnedGazetteer.load(folder)
        ner = SpacyNer.load(folder) if layers.get("ner") else None
        stance = StanceModel.load(folder) if layers.get("stance") else None
        claims = ClaimModel.load(folder) if layers.get("claims") else None
    except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
        raise UsageError(
            f"{where}: cannot load the model ({type(exc).__name__}: {exc})",
            hint="Train it again: corpus model train (library versions may differ: "
            f"{card.get('libraries')})",
            path=str(folder),
        ) from None
    version = str(card["version"])
    bundle = Bundle(
        path=folder,
        version=version,
        card=card,
        gazetteer=gazetteer,
        ner=ner,
        stance=stance,
        claims=claims,
    )
    _name_layers(bundle, version)
    return bundle


def update_card(folder: Path, evaluation: dict[str, Any]) -> dict[str, Any]:
    """Add an evaluation's cross-validated figures to a model's card (card.json, README.md
    and evaluation.json, each replaced atomically; the model's files are untouched)."""
    card = read_card(folder)
    card.setdefault("metrics", {})["cross_validated"] = cv_summary(evaluation)
    store.atomic_write_bytes(folder / EVALUATION, store.dump_json(_jsonable(evaluation)))
    store.atomic_write_bytes(folder / CARD, store.dump_json(card))
    store.atomic_write_text(folder / CARD_README, card_readme(card))
    return card


def iter_layers(bundle: Bundle | Layers) -> Iterable[tuple[str, Any]]:
    """(name, model) for every trained layer."""
    for name in ("gazetteer", "ner", "stance", "claims"):
        model = getattr(bundle, name)
        if model is not None:
            yield name, model
