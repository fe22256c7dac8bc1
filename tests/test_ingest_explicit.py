"""`corpus ingest FILE...` loses nothing silently (issue 15, point 4).

Files named on the command line, written to the default output, may not drop articles that
output holds: exit 1, the lost ids named, nothing written, unless --allow-deletions. An ingest
of the articles folder (the truth) and one written elsewhere (--out) replace as before. The
expected losses are computed independently: the ids of a folder ingest minus those of an
ingest of the same files into another file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import CliRun

FILES = ("articles/northbridge-wire.jsonl", "articles/regional-outlets.csv")


def _ids(path: Path) -> set[str]:
    files = sorted(path.glob("part-*.parquet")) if path.is_dir() else [path]
    return {
        i for f in files for i in pq.read_table(f, columns=["article_id"])["article_id"].to_pylist()
    }


@pytest.fixture
def ingested(sample_corpus: Path, cli: CliRun) -> Path:
    r = cli("ingest", "-q", cwd=sample_corpus)
    assert r.exit_code == 0, r.output
    return sample_corpus


def test_named_files_refused_when_they_would_drop_articles(ingested: Path, cli: CliRun) -> None:
    table = ingested / "build" / "articles.parquet"
    before = table.read_bytes()
    r = cli("ingest", "--out", "build/subset.parquet", *FILES, cwd=ingested)
    assert r.exit_code == 0, r.output
    assert "wrote build/subset.parquet" in r.output
    held, kept = _ids(table), _ids(ingested / "build" / "subset.parquet")
    lost = sorted(held - kept)
    assert lost and kept  # the sample: some articles come from other files

    r = cli("ingest", *FILES, cwd=ingested)
    assert r.exit_code == 1, r.output
    assert table.read_bytes() == before  # nothing written
    m = re.search(r"holds (\d+) articles .* would drop (\d+) of them \(([^)]*)\)", r.output)
    assert m is not None, r.output
    assert (int(m[1]), int(m[2])) == (len(held), len(lost))
    assert m[3].startswith(", ".join(lost[:5]))
    assert "--allow-deletions" in r.output and "--out FILE" in r.output
    assert not list((ingested / "build").glob(".articles.parquet.*.tmp"))

    r = cli("ingest", "--json", *FILES, cwd=ingested)
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["exit_code"] == 1 and doc["error"]["slug"] == "data-error"
    assert doc["error"]["path"] == "build/articles.parquet"
    assert f"would drop {len(lost)} of them" in doc["error"]["message"]
    assert table.read_bytes() == before

    r = cli("ingest", "--allow-deletions", *FILES, cwd=ingested)
    assert r.exit_code == 0, r.output
    assert _ids(table) == kept


def test_folder_ingest_and_supersets_replace_as_before(ingested: Path, cli: CliRun) -> None:
    table = ingested / "build" / "articles.parquet"
    held = _ids(table)
    r = cli("ingest", "--allow-deletions", FILES[0], cwd=ingested)
    assert r.exit_code == 0, r.output
    assert not held <= _ids(table)  # (a duplicate's other copy may be kept: not a subset)
    # the articles folder is the truth: named or not, it replaces the table without asking
    r = cli("ingest", "articles/", cwd=ingested)
    assert r.exit_code == 0, r.output
    assert _ids(table) == held
    r = cli("ingest", "--allow-deletions", FILES[0], cwd=ingested)
    r = cli("ingest", cwd=ingested)
    assert r.exit_code == 0 and _ids(table) == held
    # every file named: nothing lost, no refusal
    names = sorted(str(p.relative_to(ingested)) for p in (ingested / "articles").iterdir())
    r = cli("ingest", *names, cwd=ingested)
    assert r.exit_code == 0, r.output
    assert _ids(table) == held
    # --out naming the default output is not "elsewhere"
    r = cli("ingest", "--out", "build/articles.parquet", FILES[0], cwd=ingested)
    assert r.exit_code == 1 and _ids(table) == held


def test_no_table_yet_is_no_refusal(sample_corpus: Path, cli: CliRun) -> None:
    r = cli("ingest", *FILES, cwd=sample_corpus)
    assert r.exit_code == 0, r.output
    assert _ids(sample_corpus / "build" / "articles.parquet")


def test_ray_engine_refuses_the_same_way(ingested: Path, cli: CliRun, ray_cluster: object) -> None:
    r = cli("ingest", "--engine", "ray", "-q", cwd=ingested)
    assert r.exit_code == 0, r.output
    pool = ingested / "build" / "pool"
    held = _ids(pool)
    assert held == _ids(ingested / "build" / "articles.parquet")  # same rows as local
    shards = {p.name: p.read_bytes() for p in pool.iterdir()}
    r = cli("ingest", "--engine", "ray", "-q", *FILES, cwd=ingested)
    assert r.exit_code == 1, r.output
    assert "build/pool holds" in r.output and "nothing was written" in r.output
    assert {p.name: p.read_bytes() for p in pool.iterdir()} == shards
    r = cli("ingest", "--engine", "ray", "-q", "--allow-deletions", *FILES, cwd=ingested)
    assert r.exit_code == 0, r.output
    assert not held <= _ids(pool)
    r = cli("ingest", "--out", "build/subset.parquet", *FILES, cwd=ingested)
    assert _ids(pool) == _ids(ingested / "build" / "subset.parquet")  # as the local engine
