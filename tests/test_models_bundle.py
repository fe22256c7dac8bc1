"""`corpus model train` and the model folder: versioned, atomic, with its card; refused for
another scheme. Real spaCy and scikit-learn on the sample corpus's own gold (few epochs)."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import copy_gold, run_cli

from corpus_tools import store
from corpus_tools.config import load_config
from corpus_tools.errors import ConfigError, UsageError
from corpus_tools.models import bundle as bundle_mod
from corpus_tools.models.bundle import CARD, LATEST, load, train, version_name
from corpus_tools.models.data import load_training_set

REPO = Path(__file__).resolve().parent.parent
EPOCHS = 1


@pytest.fixture(scope="module")
def gold_corpus(sample_gold: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample corpus after `corpus ingest` and `corpus adjudicate` (no model yet)."""
    return copy_gold(sample_gold, tmp_path_factory.mktemp("bundle") / "corpus")


@pytest.fixture(scope="module")
def trained(
    gold_corpus: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, bundle_mod.Bundle]:
    """A copy of the gold corpus with one model trained (EPOCHS epochs)."""
    root = tmp_path_factory.mktemp("trained") / "corpus"
    shutil.copytree(gold_corpus, root)
    config = load_config(root / "corpus.toml")
    return root, train(config, epochs=EPOCHS)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Callable[[Path], Path]:
    """A private copy of a prepared corpus folder (build/ included)."""

    def copy(src: Path) -> Path:
        dest = tmp_path / "corpus"
        shutil.copytree(src, dest)
        return dest

    return copy


def test_train_writes_a_complete_versioned_folder(
    trained: tuple[Path, bundle_mod.Bundle],
) -> None:
    root, b = trained
    config = load_config(root / "corpus.toml")
    models = root / "build" / "models"
    assert b.path == models / b.version and b.path.is_dir() and not b.reused
    assert b.version.startswith("geonews-") and len(b.version) == len("geonews-") + 12
    # every layer is in the folder, under the names the card gives
    assert (b.path / "gazetteer.json").is_file()
    assert (b.path / "ner").is_dir() and (b.path / "stance.joblib").is_file()
    assert (b.path / "claims.joblib").is_file()
    assert b.ner is not None and b.stance is not None and b.claims is not None
    assert (models / LATEST).read_text(encoding="utf-8").strip() == b.version
    assert not [p for p in models.iterdir() if p.name.startswith(".")]  # no temp folder left
    # the card: gold, hashes, counts per layer, library versions
    card = json.loads((b.path / CARD).read_text(encoding="utf-8"))
    training = load_training_set(config)
    assert card["version"] == b.version
    assert card["gold"]["sha256"] == store.sha256_file(root / "build" / "gold.jsonl")
    assert card["gold"]["kind"] == "gold.jsonl"
    assert card["scheme_sha256"] == config.scheme.digest()
    assert card["training"] == {"seed": 0, "epochs": EPOCHS}
    assert card["trained_on"]["articles"] == len(training) > 0
    assert card["trained_on"]["stories"] == len(training.stories)
    spans = sum(len(g.entities) for g in training)
    assert card["trained_on"]["entities"]["spans"] == spans > 0
    assert card["trained_on"]["claims"]["claims"] == sum(len(g.claims) for g in training)
    assert set(card["libraries"]) == {"python", "spacy", "scikit-learn", "corpus-tools"}
    assert card["libraries"]["spacy"].startswith("3.8")
    assert card["model_format"] == bundle_mod.MODEL_FORMAT
    # stance targets are looked for by their scheme names ("United States", not the id's
    # "united states")
    assert {t: row["name"] for t, row in card["info"]["stance"]["targets"].items()} == {
        t.id: t.name for t in config.scheme.stance_targets
    }
    assert card["extra"]["articles"] == 0
    for rel, digest in card["files"].items():
        assert store.sha256_file(b.path / rel) == digest
    assert any(rel.startswith("ner/") for rel in card["files"])
    assert card["metrics"]["training_set"]["entities"]["gazetteer"] > 0.5
    # every layer says the bundle's version (what Label Studio stores with a prediction)
    for m in (b.gazetteer, b.ner, b.stance, b.claims):
        assert m.model_version == b.version
    # the human card says what it is and how to use it
    readme = (b.path / "README.md").read_text(encoding="utf-8")
    assert f"corpus tasks --suggest {b.version}" in readme
    assert f"corpus serve --model {b.version}" in readme
    assert f"{len(training)} articles" in readme and "## Limits" in readme
    # load gives the same model back, by version, by folder and as latest
    for spec in ("latest", b.version, str(b.path)):
        again = load(config, spec)
        assert again.version == b.version and again.card["files"] == card["files"]
        assert again.gazetteer.forms == b.gazetteer.forms


def test_same_inputs_reuse_the_version(
    trained: tuple[Path, bundle_mod.Bundle], corpus_copy: Callable[[Path], Path]
) -> None:
    root = corpus_copy(trained[0])
    first = trained[1]
    card_before = (root / "build/models" / first.version / CARD).read_bytes()
    code, out = run_cli("model", "train", "--epochs", str(EPOCHS), "--json", cwd=root)
    assert code == 0, out
    data = json.loads(out)
    assert data["version"] == first.version and data["reused"] is True
    assert (root / "build/models" / first.version / CARD).read_bytes() == card_before
    assert [p.name for p in (root / "build/models").iterdir() if p.is_dir()] == [first.version]
    # the text output says so too
    code, out = run_cli("model", "train", "--epochs", str(EPOCHS), cwd=root)
    assert code == 0 and "reused (same inputs)" in out and first.version in out
    # the claim detector's threshold and its gate (closed on the sample), and why
    text = " ".join(out.replace("│", " ").split())
    assert first.claims is not None and not first.claims.informative
    assert f"threshold {first.claims.threshold:.3f}" in text and "gate closed" in text
    assert "claim detector not better than every-sentence" in text


def test_a_new_model_format_is_a_new_version_not_the_old_folder(
    trained: tuple[Path, bundle_mod.Bundle],
    corpus_copy: Callable[[Path], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Changed training code (MODEL_FORMAT bumped) on the same gold retrains instead of
    reusing the folder the old code wrote."""
    root = corpus_copy(trained[0])
    first = trained[1]
    config = load_config(root / "corpus.toml")
    training = load_training_set(config)
    assert version_name(config, training, (), seed=0, epochs=EPOCHS) == first.version
    monkeypatch.setattr(bundle_mod, "MODEL_FORMAT", bundle_mod.MODEL_FORMAT + 1)
    bumped = version_name(config, training, (), seed=0, epochs=EPOCHS)
    assert bumped != first.version
    b = train(config, epochs=EPOCHS)
    assert b.version == bumped and not b.reused
    assert b.card["model_format"] == bundle_mod.MODEL_FORMAT
    assert load(config, first.version).version == first.version  # the old one is untouched


def test_changed_gold_seed_or_extra_give_new_versions(
    trained: tuple[Path, bundle_mod.Bundle], corpus_copy: Callable[[Path], Path]
) -> None:
    root = corpus_copy(trained[0])
    first = trained[1]
    config = load_config(root / "corpus.toml")
    training = load_training_set(config)
    assert version_name(config, training, (), seed=0, epochs=EPOCHS) == first.version
    assert version_name(config, training, (), seed=1, epochs=EPOCHS) != first.version
    assert version_name(config, training, (), seed=0, epochs=EPOCHS + 1) != first.version
    # a changed gold file (one record fewer) is another version
    gold = root / "build/gold.jsonl"
    lines = gold.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = root / "build/gold-changed.jsonl"
    changed.write_text("".join(lines[:-1]), encoding="utf-8")
    other = load_training_set(config, changed)
    assert version_name(config, other, (), seed=0, epochs=EPOCHS) != first.version
    # extra labelled articles: a new folder, LATEST moves, the first model is untouched
    g = training.items[0]
    newer = dataclasses.replace(g, entities=g.entities[1:])
    b = train(config, extra=[newer], epochs=EPOCHS)
    assert b.version != first.version and not b.reused
    assert b.card["extra"]["articles"] == 1
    assert b.card["trained_on"]["entities"]["spans"] == (
        first.card["trained_on"]["entities"]["spans"] - 1
    )  # the extra article replaced its gold version
    assert (root / "build/models" / LATEST).read_text(encoding="utf-8").strip() == b.version
    assert load(config, first.version).version == first.version


def test_a_model_of_another_scheme_is_refused(
    trained: tuple[Path, bundle_mod.Bundle], corpus_copy: Callable[[Path], Path]
) -> None:
    root = corpus_copy(trained[0])
    toml = root / "corpus.toml"
    text = toml.read_text(encoding="utf-8")
    anchor = '[[scheme.entities]]\nlabel = "WEAPON"'
    assert anchor in text
    toml.write_text(
        text.replace(
            anchor,
            '[[scheme.entities]]\nlabel = "MONEY"\nname = "Money"\n'
            'definition = "An amount of money."\nhotkey = "m"\ncolor = "#000075"\n\n' + anchor,
        ),
        encoding="utf-8",
    )
    config = load_config(toml)
    with pytest.raises(ConfigError) as err:
        load(config)
    assert err.value.exit_code == 2
    assert "another scheme" in err.value.message and "corpus model train" in str(err.value.hint)
    # through the CLI: the command that uses a model stops with exit 2 and the hint
    code, out = run_cli("tasks", "--suggest", "latest", cwd=root)
    assert code == 2, out
    assert "another scheme" in out


def test_train_from_a_release_folder(
    gold_corpus: Path, corpus_copy: Callable[[Path], Path]
) -> None:
    root = corpus_copy(gold_corpus)
    code, out = run_cli("release", "0.0.1", cwd=root)
    assert code == 0, out
    code, out = run_cli(
        "model", "train", "--gold", "dist/0.0.1", "--epochs", "1", "--json", cwd=root
    )
    assert code == 0, out
    data = json.loads(out)
    card = data["card"]
    assert card["gold"]["kind"] == "release"
    assert card["gold"]["source"] == "dist/0.0.1"
    assert card["gold"]["sha256"] == store.sha256_file(root / "dist/0.0.1/manifest.json")
    config = load_config(root / "corpus.toml")
    released = load_training_set(config, root / "dist/0.0.1")
    assert card["trained_on"]["articles"] == len(released) > 0
    assert card["trained_on"]["entities"]["spans"] == sum(len(g.entities) for g in released)
    assert load(config).version == data["version"]


def test_no_gold_is_a_usage_error_pointing_to_adjudicate(sample_corpus: Path, cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("model", "train", "--epochs", "1", cwd=sample_corpus)
    assert r.exit_code == 2
    assert "no gold to train on" in r.output and "corpus adjudicate" in r.output
    r = cli("model", "train", "--json", cwd=sample_corpus)
    assert r.exit_code == 2 and json.loads(r.output)["error"]["slug"] == "usage-error"


def test_missing_or_damaged_models_are_usage_errors(
    trained: tuple[Path, bundle_mod.Bundle], corpus_copy: Callable[[Path], Path]
) -> None:
    root = corpus_copy(trained[0])
    version = trained[1].version
    config = load_config(root / "corpus.toml")
    with pytest.raises(UsageError, match="no model 'nope'") as err:
        load(config, "nope")
    assert version in str(err.value.hint)
    folder = root / "build/models" / version
    stance = folder / "stance.joblib"
    stance.write_bytes(stance.read_bytes()[:-10])
    with pytest.raises(UsageError, match=r"damaged model \(stance.joblib is changed\)"):
        load(config)
    (folder / CARD).write_text("{not json", encoding="utf-8")
    with pytest.raises(UsageError, match="unreadable model card"):
        load(config, version)
    # a damaged folder under the version name is rebuilt by the next train of the same inputs
    b = train(config, epochs=EPOCHS)
    assert b.version == version and not b.reused
    assert load(config).version == version
    (root / "build/models" / LATEST).unlink()
    shutil.rmtree(root / "build/models" / version)
    with pytest.raises(UsageError, match="no trained model") as err:
        load(config)
    assert "corpus model train" in str(err.value.hint)


def _assert_consistent(root: Path) -> list[str]:
    """No half model under a version name; LATEST (if any) names a complete model."""
    config = load_config(root / "corpus.toml")
    models = root / "build/models"
    complete: list[str] = []
    if not models.exists():
        return complete
    for p in sorted(models.iterdir()):
        if p.is_dir() and not p.name.startswith("."):
            assert load(config, p).version == p.name  # card present, every file's hash right
            complete.append(p.name)
    if (models / LATEST).exists():
        name = (models / LATEST).read_text(encoding="utf-8").strip()
        assert name in complete
        assert load(config, "latest").version == name
    return complete


def test_killed_training_never_leaves_a_half_model(
    gold_corpus: Path, corpus_copy: Callable[[Path], Path]
) -> None:
    """SIGKILL `corpus model train` at random moments of its run (the run's length measured
    first, so the kills land from the imports to the final rename)."""
    root = corpus_copy(gold_corpus)
    corpus = Path(sys.executable).parent / "corpus"
    env = {k: v for k, v in os.environ.items() if k != "CORPUS_CONFIG"}

    def cmd(seed: int) -> list[str]:
        return [str(corpus), "model", "train", "--epochs", "1", "--seed", str(seed), "--quiet"]

    assert not (root / "build/models").exists()
    started = time.monotonic()
    done = subprocess.run(cmd(0), cwd=root, env=env, capture_output=True, timeout=300, check=False)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert len(_assert_consistent(root)) == 1
    rng = random.Random(20261130)
    killed = 0
    for seed in (1, 2, 3):
        proc = subprocess.Popen(
            cmd(seed), cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.3, 0.97) * took)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
        _assert_consistent(root)
    assert killed  # at least one run was killed part-way
    # what killed runs left (dot-named, their process gone) is removed by the next training
    bundle_mod._stale_temp_folders(root / "build/models")
    assert not [p for p in (root / "build/models").iterdir() if p.name.startswith(".")]
    assert _assert_consistent(root)


def test_a_write_that_fails_leaves_no_model_and_latest_unchanged(
    trained: tuple[Path, bundle_mod.Bundle],
    corpus_copy: Callable[[Path], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The disk fills up while the folder is being flushed, just before the rename."""
    import errno

    from corpus_tools.errors import FileSystemError

    root = corpus_copy(trained[0])
    config = load_config(root / "corpus.toml")
    models = root / "build/models"

    def disk_full(folder: Path) -> None:
        assert folder.name.startswith(".") and (folder / CARD).is_file()  # complete, not in place
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bundle_mod, "_fsync_tree", disk_full)
    with pytest.raises(FileSystemError) as err:
        train(config, epochs=EPOCHS, seed=7)
    assert err.value.exit_code == 2
    assert sorted(p.name for p in models.iterdir()) == sorted([LATEST, trained[1].version])
    assert (models / LATEST).read_text(encoding="utf-8").strip() == trained[1].version
