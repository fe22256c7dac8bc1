"""Publishing to the Hub with the real `huggingface_hub` client against a loopback Hub double,
then the real `datasets.load_dataset(repo, config, revision=tag)` (in a subprocess with
HF_ENDPOINT pointing at the double)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from corpus_tools.config import load_config
from corpus_tools.errors import ConfigError, PublishError
from corpus_tools.publish import publish
from corpus_tools.release import build_release
from tests.hub_double import Blob, HubDouble
from tests.release_corpus import (
    build_corpus,
    make_article,
    run_python,
    with_more_articles,
)

REPO_ID = "example-org/geonews"
# huggingface_hub's LFS upload hands its HTTP client a file object (the client's own warning).
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")

LOAD = textwrap.dedent(
    """
    import json, sys
    from datasets import load_dataset
    out = {}
    for rev in sys.argv[1:]:
        ds = load_dataset("example-org/geonews", "stance", revision=rev)
        out[rev] = {
            k: sorted(r["article_id"] + "/" + r["target"] for r in v) for k, v in ds.items()
        }
    print(json.dumps(out))
    """
)


@pytest.fixture
def corpus(tmp_path: Path, repo_root: Path) -> Path:
    root = tmp_path / "corpus"
    build_corpus(root, repo_root)
    return root


def grow(corpus: Path, repo_root: Path) -> None:
    """The v0.2.0 corpus: five more articles on new stories."""
    extra = [
        make_article(f"new-{i}", f"Report {i}: Iran 😀 and Russia met in Doha.\r\nMore.", f"s-{i}")
        for i in range(5)
    ]
    with_more_articles(corpus, repo_root, extra)


def load_revisions(hub: HubDouble, home: Path, *revisions: str) -> dict[str, Any]:
    env = {
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(home),
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_TOKEN": hub.token,
    }
    out: dict[str, Any] = run_python(LOAD, *revisions, env=env)
    return out


def expected_stance(folder: Path) -> dict[str, list[str]]:
    import pyarrow.parquet as pq

    out = {}
    for split in ("train", "validation", "test"):
        t = pq.read_table(folder / "data" / "stance" / f"{split}-00000-of-00001.parquet")
        out[split] = sorted(
            f"{a}/{b}"
            for a, b in zip(t["article_id"].to_pylist(), t["target"].to_pylist(), strict=True)
        )
    return out


def test_publish_two_versions_and_load_each(
    hub: HubDouble, corpus: Path, repo_root: Path, tmp_path: Path, cli: Any
) -> None:
    res = cli("release", "0.1.0", "--publish", "--target", "hub", "--endpoint", hub.url, cwd=corpus)
    assert res.exit_code == 0, res.stderr
    assert 'load_dataset("example-org/geonews", "entities", revision="v0.1.0")' in res.stdout
    assert hub.token not in res.stdout + res.stderr
    grow(corpus, repo_root)
    res = cli("release", "0.2.0", "--json", cwd=corpus)
    assert res.exit_code == 0
    dry = cli(
        "publish",
        "0.2.0",
        "--target",
        "hub",
        "--dry-run",
        "--json",
        "--endpoint",
        hub.url,
        cwd=corpus,
    )
    plan = json.loads(dry.stdout)
    assert plan["dry_run"] and plan["commit"] is None
    assert "README.md" in plan["changed"] and "manifest.json" in plan["changed"]
    assert ".gitattributes" not in plan["deleted"]
    repo = hub.repos[REPO_ID]
    assert "v0.2.0" not in repo.tags and len(repo.commits) == 2  # dry run changed nothing
    res = cli("publish", "0.2.0", "--target", "hub", "--json", "--endpoint", hub.url, cwd=corpus)
    assert res.exit_code == 0, res.stderr
    done = json.loads(res.stdout)
    assert repo.tags["v0.2.0"] == done["commit"] == repo.branches["main"]
    assert repo.commits[done["commit"]].parent == repo.tags["v0.1.0"]  # one commit per release
    assert repo.commits[done["commit"]].title == "Release v0.2.0"

    got = load_revisions(hub, tmp_path / "hf", "v0.1.0", "v0.2.0")
    v1 = expected_stance(corpus / "dist" / "0.1.0")
    v2 = expected_stance(corpus / "dist" / "0.2.0")
    assert got["v0.1.0"] == v1
    assert got["v0.2.0"] == v2
    assert sum(map(len, v2.values())) == sum(map(len, v1.values())) + 15  # 5 articles x 3 targets


def test_existing_version_is_refused(
    hub: HubDouble, corpus: Path, repo_root: Path, cli: Any
) -> None:
    cfg = load_config(corpus / "corpus.toml")
    build_release(config=cfg, version="0.1.0")
    publish(config=cfg, version="0.1.0", target="hub", endpoint=hub.url)
    commits = len(hub.repos[REPO_ID].commits)
    tagged = hub.repos[REPO_ID].tags["v0.1.0"]
    # The same files again: nothing to do, exit 0, the same words as the local target.
    res = cli("publish", "0.1.0", "--target", "hub", "--endpoint", hub.url, cwd=corpus)
    assert res.exit_code == 0, res.stderr
    assert f"v0.1.0 already published (identical files) at the Hub ({REPO_ID}" in res.stdout
    # Other files under the same tag (published from another machine: no local record).
    (cfg.paths.hub / cfg.name / "publications.json").unlink()
    grow(corpus, repo_root)
    build_release(config=cfg, version="0.1.0")
    res = cli("publish", "0.1.0", "--target", "hub", "--endpoint", hub.url, cwd=corpus)
    assert res.exit_code == 2
    assert (
        f"version v0.1.0 is already published at the Hub ({REPO_ID}, commit {tagged[:12]})"
        in res.stderr
    )
    assert "hint: Bump the version" in res.stderr
    assert len(hub.repos[REPO_ID].commits) == commits


def test_stale_parent_is_refused(hub: HubDouble, corpus: Path, repo_root: Path) -> None:
    cfg = load_config(corpus / "corpus.toml")
    build_release(config=cfg, version="0.1.0")
    publish(config=cfg, version="0.1.0", target="hub", endpoint=hub.url)
    grow(corpus, repo_root)
    build_release(config=cfg, version="0.2.0")
    repo = hub.repos[REPO_ID]
    original = hub.dispatch

    def someone_pushes_first(method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        if method == "POST" and "/preupload/" in path and "v9" not in repo.branches:
            head = repo.commits[repo.branches["main"]]
            files = {
                **head.files,
                "NOTES.md": Blob(b"someone else's change\n", False),
                "data/old/train.parquet": Blob(b"PAR1 stale PAR1", True),
            }
            repo.branches["main"] = repo.commit(head.oid, "concurrent edit", files).oid
            repo.branches["v9"] = repo.branches["main"]
        return original(method, path, headers, body)

    hub.dispatch = someone_pushes_first  # type: ignore[method-assign]
    with pytest.raises(PublishError, match="changed since we read it") as err:
        publish(config=cfg, version="0.2.0", target="hub", endpoint=hub.url)
    assert "retry" in (err.value.hint or "")
    assert "v0.2.0" not in repo.tags
    assert repo.commits[repo.branches["main"]].title == "concurrent edit"
    # Retrying against the new head works, and keeps the other person's file.
    hub.dispatch = original  # type: ignore[method-assign]
    done = publish(config=cfg, version="0.2.0", target="hub", endpoint=hub.url)
    assert repo.tags["v0.2.0"] == done.commit
    assert "NOTES.md" in repo.commits[done.commit].files and "NOTES.md" not in done.deleted
    assert done.deleted == ("data/old/train.parquet",)  # a stale data file would break configs
    assert "data/old/train.parquet" not in repo.commits[done.commit].files


def test_missing_token_is_a_config_error(
    hub: HubDouble, corpus: Path, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_TOKEN")
    assert cli("release", "0.1.0", cwd=corpus).exit_code == 0
    res = cli("publish", "0.1.0", "--target", "hub", "--endpoint", hub.url, cwd=corpus)
    assert res.exit_code == 2
    assert "no Hugging Face token" in res.stderr
    assert "HF_TOKEN" in res.stderr and "hf auth login" in res.stderr
    assert REPO_ID not in hub.repos
    with pytest.raises(ConfigError):
        publish(
            config=load_config(corpus / "corpus.toml"),
            version="0.1.0",
            target="hub",
            endpoint=hub.url,
        )


def test_dry_run_on_a_new_repo_creates_nothing(hub: HubDouble, corpus: Path, cli: Any) -> None:
    assert cli("release", "0.1.0", cwd=corpus).exit_code == 0
    res = cli(
        "publish",
        "0.1.0",
        "--target",
        "hub",
        "--repo",
        "someone/new-corpus",
        "--dry-run",
        "--endpoint",
        hub.url,
        cwd=corpus,
    )
    assert res.exit_code == 0, res.stderr
    assert "would publish v0.1.0 to someone/new-corpus" in res.stdout
    assert "data/entities/train-00000-of-00001.parquet" in res.stdout
    assert hub.repos == {}
    assert not any(r.startswith("POST") for r in hub.requests)


def test_unreachable_hub_is_a_clear_error(hub: HubDouble, corpus: Path, cli: Any) -> None:
    import socket

    assert cli("release", "0.1.0", cwd=corpus).exit_code == 0
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    res = cli("publish", "0.1.0", "--target", "hub", "--endpoint", dead, cwd=corpus)
    assert res.exit_code == 2
    assert f"cannot reach the Hub at {dead}" in res.stderr
    assert "Traceback" not in res.stderr


def card_block(card: str, needle: str) -> str:
    """The card's ```python block that contains `needle`."""
    blocks = [b.split("```", 1)[0] for b in card.split("```python\n")[1:]]
    found = [b for b in blocks if needle in b]
    assert len(found) == 1, f"one python block with {needle!r} in the card"
    return found[0]


def test_the_cards_offline_pin_loads_the_older_version(
    hub: HubDouble, corpus: Path, repo_root: Path, tmp_path: Path
) -> None:
    """Offline, `load_dataset(repo, revision=sha)` answers with the latest cached revision
    (datasets 5.2); the card's way to pin must give the pinned version's data."""
    cfg = load_config(corpus / "corpus.toml")
    build_release(config=cfg, version="0.1.0")
    old = publish(config=cfg, version="0.1.0", target="hub", endpoint=hub.url).commit
    grow(corpus, repo_root)
    build_release(config=cfg, version="0.2.0")
    publish(config=cfg, version="0.2.0", target="hub", endpoint=hub.url)
    assert old is not None
    home = tmp_path / "hf"
    online = load_revisions(hub, home, "v0.1.0", "v0.2.0")  # both cached now
    assert online["v0.1.0"] != online["v0.2.0"]

    card = (corpus / "dist/0.2.0/README.md").read_text(encoding="utf-8")
    pin = card_block(card, "snapshot_download").replace("<commit sha>", old)
    script = pin + textwrap.dedent(
        """
        import json
        print(json.dumps({k: sorted(v["article_id"]) for k, v in entities.items()}))
        """
    )
    env = {
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(home),
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_TOKEN": hub.token,
    }
    expected = expected_ids(corpus / "dist/0.1.0", "entities")
    assert run_python(script, env=env) == expected  # once online, as the card says
    requests = len(hub.requests)
    offline = {**env, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    assert run_python(script, env=offline) == expected
    assert len(hub.requests) == requests  # really offline
    newer = expected_ids(corpus / "dist/0.2.0", "entities")
    assert newer != expected


def expected_ids(folder: Path, config: str) -> dict[str, list[str]]:
    import pyarrow.parquet as pq

    out = {}
    for p in sorted((folder / "data" / config).glob("*.parquet")):
        out[p.name.split("-")[0]] = sorted(pq.read_table(p)["article_id"].to_pylist())
    return out


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda files, name: files.__setitem__(name, "abc"), "not an object"),
        (lambda files, name: files[name].pop("sha256"), "no sha256"),
        (lambda files, name: files[name].__setitem__("sha256", 12), "no sha256"),
        (lambda files, name: files.__setitem__("../outside.parquet", files.pop(name)), "outside"),
    ],
    ids=["not-a-dict", "no-sha256", "sha256-not-text", "path-outside"],
)
def test_a_malformed_manifest_files_entry_is_a_clear_usage_error(
    hub: HubDouble, corpus: Path, cli: Any, edit: Any, says: str
) -> None:
    assert cli("release", "0.1.0", cwd=corpus).exit_code == 0
    mpath = corpus / "dist" / "0.1.0" / "manifest.json"
    manifest = json.loads(mpath.read_bytes())
    name = sorted(manifest["files"])[0]
    edit(manifest["files"], name)
    mpath.write_text(json.dumps(manifest), encoding="utf-8")
    for target in (["--target", "local"], ["--target", "hub", "--endpoint", hub.url]):
        res = cli("publish", "0.1.0", *target, cwd=corpus)
        assert res.exit_code == 2, (res.stdout, res.stderr)
        assert "Traceback" not in res.stdout + res.stderr
        assert "manifest.json" in res.stderr and says in res.stderr
    assert hub.repos == {} and not (corpus / "hub").exists()
