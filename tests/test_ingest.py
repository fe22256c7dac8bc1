"""`corpus ingest` on the sample corpus and on bad input: counts, cleaning, ids, stories."""

from __future__ import annotations

import csv
import itertools
import json
import shutil
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from conftest import CliRun

from corpus_tools.config import CorpusConfig, load_config
from corpus_tools.ingest import ingest
from corpus_tools.ingest.stories import jaccard, shingles
from corpus_tools.model import Article
from corpus_tools.store import ARTICLES_SCHEMA, iter_articles, sha256_file, sha256_text

DATA = Path(__file__).parent / "data"
SEED_000 = "000_0d9cd822c3ba238f.txt"
SEED_002 = "002_8995198625a47cb8.txt"


def _articles(corpus: Path) -> dict[str, Article]:
    """Ingested articles by source."""
    return {a.source: a for a in iter_articles(corpus / "build" / "articles.parquet")}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, repo_root_path: Path) -> Path:
    """The sample corpus, ingested once for the read-only tests of this module."""
    root = tmp_path_factory.mktemp("ingested")
    shutil.copy2(repo_root_path / "corpus.toml", root / "corpus.toml")
    shutil.copytree(repo_root_path / "articles", root / "articles")
    ingest(config=load_config(root / "corpus.toml"))
    return root


@pytest.fixture(scope="module")
def repo_root_path() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def bare_corpus(tmp_path: Path, repo_root: Path) -> Path:
    """A corpus with the repository's corpus.toml and an empty articles folder."""
    root = tmp_path / "bare"
    (root / "articles").mkdir(parents=True)
    shutil.copy2(repo_root / "corpus.toml", root / "corpus.toml")
    return root


# --- the sample corpus ------------------------------------------------------------------------


def _sample_inputs(root: Path) -> int:
    """Records in the sample's article files, counted independently of ingest's readers: one
    per .txt/.html file, one per non-blank JSONL line, one per CSV record."""
    n = 0
    for f in sorted((root / "articles").iterdir()):
        if f.suffix in (".txt", ".html"):
            n += 1
        elif f.suffix == ".jsonl":
            n += sum(1 for line in f.read_text(encoding="utf-8").splitlines() if line.strip())
        elif f.suffix == ".csv":
            with open(f, encoding="utf-8", newline="") as fh:
                n += sum(1 for _ in csv.DictReader(fh))
    return n


def test_sample_corpus_via_cli(cli: CliRun, sample_corpus: Path) -> None:
    result = cli("ingest", cwd=sample_corpus)
    assert result.exit_code == 0, result.stdout + result.stderr
    inputs = _sample_inputs(sample_corpus)
    assert inputs == 16  # 5 single-article files, 5 Northbridge Wire lines, 6 regional records
    # one regional record reprints a Northbridge Wire article verbatim (an exact duplicate);
    # five stories: drones, Odesa, IAEA report (with its edited reprint), prisoner swap, Red Sea
    for label, count in [
        ("inputs read", inputs),
        ("articles written", inputs - 1),
        ("stories", 5),
        ("duplicates dropped", 1),
        ("inputs rejected", 0),
    ]:
        assert f"│ {label}" in result.stdout
        line = next(x for x in result.stdout.splitlines() if f"│ {label}" in x)
        assert line.rstrip(" │").endswith(f" {count}"), line
    arts = _articles(sample_corpus)
    assert len(arts) == inputs - 1
    assert len({a.story_id for a in arts.values()}) == 5
    formats = {Path(s.split(":")[0]).suffix for s in arts}
    assert formats == {".txt", ".html", ".jsonl", ".csv"}


def test_json_output_equals_the_library_result(cli: CliRun, sample_corpus: Path) -> None:
    result = cli("ingest", "--json", cwd=sample_corpus)
    assert result.exit_code == 0
    lib = ingest(config=load_config(sample_corpus / "corpus.toml"))
    assert json.loads(result.stdout) == lib.to_dict()
    dup = [f for f in lib.findings if f.slug == "exact-duplicate"]
    assert len(dup) == 1 and dup[0].severity == "warning"
    assert (dup[0].file, dup[0].line) == ("articles/northbridge-wire.jsonl", 2)


def test_table_has_the_declared_schema_sorted_by_id(sample_corpus: Path) -> None:
    cfg = load_config(sample_corpus / "corpus.toml")
    ingest(config=cfg)
    table = pq.read_table(cfg.paths.articles_parquet)
    assert table.schema.equals(ARTICLES_SCHEMA)
    ids = table.column("article_id").to_pylist()
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    meta = pq.ParquetFile(cfg.paths.articles_parquet).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    for a in iter_articles(cfg.paths.articles_parquet):
        assert a.text_sha256 == sha256_text(a.text)
        assert a.article_id.startswith("art-") and len(a.article_id) == 20
        assert a.story_id is not None and a.story_id.startswith("story-")
        assert a.language == "en"


def test_rerun_is_byte_identical(sample_corpus: Path) -> None:
    cfg = load_config(sample_corpus / "corpus.toml")
    ingest(config=cfg)
    first = sha256_file(cfg.paths.articles_parquet)
    # File order must not matter either: rename files so they list in another order.
    for f in sorted(cfg.paths.articles.iterdir()):
        if not f.name.startswith("."):
            f.rename(f.with_name("z-" + f.name))
    ingest(config=cfg)
    renamed = {a.article_id: a for a in iter_articles(cfg.paths.articles_parquet)}
    for f in sorted(cfg.paths.articles.iterdir()):
        if f.name.startswith("z-"):
            f.rename(f.with_name(f.name[2:]))
    ingest(config=cfg)
    assert sha256_file(cfg.paths.articles_parquet) == first
    again = {a.article_id: a for a in iter_articles(cfg.paths.articles_parquet)}
    assert renamed.keys() == again.keys()
    assert {k: a.story_id for k, a in renamed.items()} == {k: a.story_id for k, a in again.items()}


def test_adding_an_article_changes_no_other_id(sample_corpus: Path) -> None:
    cfg = load_config(sample_corpus / "corpus.toml")
    ingest(config=cfg)
    before = {
        a.article_id: (a.text_sha256, a.story_id) for a in iter_articles(cfg.paths.articles_parquet)
    }
    extra = {
        "id": "new-1",
        "outlet": "Test Outlet",
        "title": "Flood barriers hold as river peaks",
        "text": "Flood barriers along the river held overnight as water levels peaked, "
        "engineers said. Volunteers filled sandbags in the old town while the city council "
        "opened two schools as shelters for families from low-lying streets. Forecasters "
        "expect the water to recede by the weekend.",
    }
    with open(cfg.paths.articles / "northbridge-wire.jsonl", "ab") as fh:
        fh.write(orjson.dumps(extra) + b"\n")
    report = ingest(config=cfg)
    assert (
        report.articles == len(before) + 1
        and report.stories == len({story for _, story in before.values()}) + 1
    )
    after = {
        a.article_id: (a.text_sha256, a.story_id) for a in iter_articles(cfg.paths.articles_parquet)
    }
    assert set(after) - set(before) == {next(iter(set(after) - set(before)))}
    assert {k: after[k] for k in before} == before


# --- cleaning the seed articles ---------------------------------------------------------------

SEED_BOILERPLATE = {
    SEED_000: [
        "December 13, 2024",
        "US wants Iran to stop selling drones to Russia",
        "US wants Iran to stop selling drones to Russia.",
        "Thank you for reading this post, don't forget to subscribe!",
        "(Written with inputs from Financial Times)",
        "About Author",
        "Skip to content",  # the scraper's next page began here
    ],
    SEED_002: [
        "US Urges Iran to Cease Drone Sales to Russia Amid Concerns for Ukraine Conflict",
        "Also Read:\u00a0Undercover Intrigue: Britain Detains Three Alleged Russian Spies, "
        "BBC Reveals",
        "Also Read:\u00a0Peace Hopes Rise: Putin, US Advocate Peace While Niger Junta Signals "
        "Willingness for Talks",
        "Also Read:\u00a0Judge from California enters a not guilty plea to wife's murder",
        "Join NewsTrack Whatsapp group",
        "Related News",
    ],
}


@pytest.mark.parametrize("seed", [SEED_000, SEED_002])
def test_seed_boilerplate_goes_and_every_body_sentence_survives(ingested: Path, seed: str) -> None:
    article = _articles(ingested)[f"articles/{seed}"]
    original = (ingested / "articles" / seed).read_text(encoding="utf-8")
    lines = [line.strip() for line in original.splitlines() if line.strip()]
    boilerplate = SEED_BOILERPLATE[seed]
    assert set(boilerplate) <= set(lines), "the named lines must be real lines of the seed"
    body = [line for line in lines if line not in boilerplate]
    assert len(body) >= 9
    kept = article.text.split("\n\n")
    assert kept == body  # every body line, in order, unchanged; nothing else
    for line in boilerplate:
        assert line not in kept
    assert "Skip to content" not in article.text and "subscribe" not in article.text


def test_seed_metadata(ingested: Path) -> None:
    arts = _articles(ingested)
    a, b = arts[f"articles/{SEED_000}"], arts[f"articles/{SEED_002}"]
    assert a.published == "2024-12-13"
    assert a.title == "US wants Iran to stop selling drones to Russia"
    assert (
        b.title == "US Urges Iran to Cease Drone Sales to Russia Amid Concerns for Ukraine Conflict"
    )
    assert b.published is None
    assert a.story_id == b.story_id  # one story, two outlets
    html = arts["articles/meridian-courier-iran-drones.html"]
    assert html.outlet == "The Meridian Courier"
    assert html.published == "2023-06-14"
    assert html.url is not None and html.url.endswith("washington-presses-tehran-drone-deliveries")
    assert html.story_id == a.story_id
    for boiler in ("Skip to content", "Subscribe", "Related News", "Also Read", "All rights"):
        assert boiler not in html.text
    assert html.text.startswith("The United States has asked Iran")  # headline not repeated
    csv_row = arts["articles/regional-outlets.csv:2"]
    assert (csv_row.outlet, csv_row.published) == ("Baltic Observer", "2023-07-21")


# --- stories ----------------------------------------------------------------------------------


def _pairs() -> list[dict[str, object]]:
    with open(DATA / "story_pairs.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_story_clusters_match_the_labelled_pairs(ingested: Path) -> None:
    arts = _articles(ingested)
    pairs = _pairs()
    assert (
        sum(bool(p["same_story"]) for p in pairs) >= 10
        and sum(not p["same_story"] for p in pairs) >= 50
    )
    wrong = [
        (p["a"], p["b"])
        for p in pairs
        if (arts[str(p["a"])].story_id == arts[str(p["b"])].story_id) != p["same_story"]
    ]
    assert wrong == []


def _components(texts: dict[str, set[str]], threshold: float) -> set[frozenset[str]]:
    parent = {k: k for k in texts}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in itertools.combinations(sorted(texts), 2):
        if jaccard(texts[a], texts[b]) >= threshold:
            parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for k in texts:
        groups.setdefault(find(k), set()).add(k)
    return {frozenset(g) for g in groups.values()}


def test_threshold_lies_inside_the_measured_window(sample_corpus: Path) -> None:
    """Sweep thresholds with exact Jaccard (no LSH): the configured one must separate cleanly."""
    cfg = load_config(sample_corpus / "corpus.toml")
    ingest(config=cfg)
    arts = _articles(sample_corpus)
    nd = cfg.ingest.near_duplicates
    sets = {k: shingles(a.text, nd.shingle_size) for k, a in arts.items()}
    label: dict[str, str] = {}
    for p in _pairs():
        stories = p["stories"]
        assert isinstance(stories, list)
        label[str(p["a"])], label[str(p["b"])] = stories
    truth: dict[str, set[str]] = {}
    for k, s in label.items():
        truth.setdefault(s, set()).add(k)
    expected = {frozenset(g) for g in truth.values()}
    good = [t / 1000 for t in range(50, 400, 5) if _components(sets, t / 1000) == expected]
    assert good, "no threshold separates the labelled stories"
    low, high = min(good), max(good)
    assert low < nd.threshold < high, (low, high)


def test_story_ids_do_not_depend_on_unrelated_articles(bare_corpus: Path) -> None:
    cfg = load_config(bare_corpus / "corpus.toml")
    src = Path(cfg.path).parent
    repo_articles = Path(__file__).resolve().parent.parent / "articles"
    shutil.copy2(repo_articles / SEED_000, src / "articles" / SEED_000)
    shutil.copy2(repo_articles / SEED_002, src / "articles" / SEED_002)
    ingest(config=cfg)
    two = {a.source: a.story_id for a in iter_articles(cfg.paths.articles_parquet)}
    assert len(set(two.values())) == 1
    shutil.copy2(repo_articles / "regional-outlets.csv", src / "articles" / "regional-outlets.csv")
    ingest(config=cfg)
    more = {a.source: a.story_id for a in iter_articles(cfg.paths.articles_parquet)}
    assert {k: more[k] for k in two} == two


# --- special characters and offsets -----------------------------------------------------------


def test_special_characters_survive_exactly(ingested: Path) -> None:
    arts = _articles(ingested)
    texts = "".join(a.text for a in arts.values())
    for needle in ("🇺🇦 Odesa", "🚀", "𝔸rmsWatch", "Jose\u0301 Manuel Albares"):
        assert needle in texts, needle
    assert "Jos\u00e9" not in texts  # not NFC-normalised
    crlf = arts["articles/danube-dispatch-iaea.txt"]
    assert "\r\n\r\n" in crlf.text and "\n\n" not in crlf.text.replace("\r\n", "")
    assert crlf.published == "2023-09-05"
    for a in arts.values():
        prev = 0
        for s in a.sentences:
            piece = a.text[s.start : s.end]
            assert prev <= s.start < s.end <= len(a.text)
            assert piece == piece.strip() and "\n" not in piece and "\r" not in piece
            prev = s.end
    emoji = arts["articles/regional-outlets.csv:38"]
    quote = next(
        emoji.text[s.start : s.end] for s in emoji.sentences if "🇺🇦" in emoji.text[s.start : s.end]
    )
    assert quote.startswith("“🇺🇦 Odesa keeps working.")


# --- bad input --------------------------------------------------------------------------------

GOOD_BODY = (
    "Negotiators from both sides met in Geneva on Tuesday to discuss a ceasefire. "
    "Officials said the talks were constructive but that no agreement had been reached. "
    "A second round is expected next month, according to diplomats familiar with the plans."
)


def _write_bad_inputs(articles: Path) -> None:
    (articles / "good.txt").write_text("Talks resume in Geneva\n\n" + GOOD_BODY, encoding="utf-8")
    (articles / "latin1.txt").write_bytes(
        ("Line one\nCaf\xe9 au lait " + GOOD_BODY).encode("latin-1")
    )
    (articles / "bom.txt").write_bytes(
        "\ufeffBOM headline here\n\n".encode() + GOOD_BODY.replace("Geneva", "Vienna").encode()
    )
    (articles / "empty.txt").write_text("Subscribe now\n\nRelated News\n", encoding="utf-8")
    (articles / "short.txt").write_text("Just one short line of text.", encoding="utf-8")
    lines = [
        orjson.dumps({"id": "j1", "text": GOOD_BODY.replace("Geneva", "Oslo")}),
        b'{"id": "j2", "text": "unterminated',
        orjson.dumps(["not", "an", "object"]),
        orjson.dumps({"id": "j4", "body": GOOD_BODY}),
        orjson.dumps({"id": "j5", "text": GOOD_BODY.replace("Geneva", "Doha"), "title": {"a": 1}}),
        b'{"id": "j6", "text": "' + "Caf\xe9 ".encode("latin-1") + b'"}',
        orjson.dumps({"id": "j1", "text": GOOD_BODY.replace("Geneva", "Rome")}),
    ]
    (articles / "feed.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (articles / "nocol.csv").write_text("id,body\n1,hello\n", encoding="utf-8")
    (articles / "rows.csv").write_text(
        "id,title,text\n"
        f'c1,Talks in Paris,"{GOOD_BODY.replace("Geneva", "Paris")}"\n'
        "c2,too,many,fields\n"
        f'c3,Talks in Ankara,"{GOOD_BODY.replace("Geneva", "Ankara")}\r\nSecond paragraph."\n',
        encoding="utf-8",
        newline="",
    )
    (articles / "notes.md").write_text("not an article", encoding="utf-8")


def test_bad_input_is_reported_and_good_articles_still_written(
    cli: CliRun, bare_corpus: Path
) -> None:
    _write_bad_inputs(bare_corpus / "articles")
    result = cli("ingest", "--json", cwd=bare_corpus)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    found = {(f["slug"], f["file"], f["line"]) for f in report["findings"]}
    assert found == {
        ("undecodable-bytes", "articles/latin1.txt", 2),
        ("bom-stripped", "articles/bom.txt", 1),
        ("empty-body", "articles/empty.txt", None),
        ("short-body", "articles/short.txt", None),
        ("malformed-jsonl-line", "articles/feed.jsonl", 2),
        ("malformed-jsonl-line", "articles/feed.jsonl", 3),
        ("missing-field", "articles/feed.jsonl", 4),
        ("bad-field", "articles/feed.jsonl", 5),
        ("undecodable-bytes", "articles/feed.jsonl", 6),
        ("duplicate-id", "articles/feed.jsonl", 7),
        ("missing-column", "articles/nocol.csv", 1),
        ("malformed-csv-row", "articles/rows.csv", 3),
        ("unknown-format", "articles/notes.md", None),
    }
    severities = {f["slug"]: f["severity"] for f in report["findings"]}
    assert severities["bom-stripped"] == "warning" and severities["unknown-format"] == "info"
    assert all(
        f["message"] and f["severity"] in ("error", "warning", "info") for f in report["findings"]
    )
    assert report["rejected"] == 11
    arts = _articles(bare_corpus)
    assert sorted(arts) == [
        "articles/bom.txt",
        "articles/feed.jsonl:1",
        "articles/good.txt",
        "articles/rows.csv:2",
        "articles/rows.csv:4",
    ]
    assert arts["articles/bom.txt"].title == "BOM headline here"
    assert not arts["articles/bom.txt"].text.startswith("\ufeff")
    # A CRLF inside a quoted CSV field is kept as is (no blank line is invented).
    assert arts["articles/rows.csv:4"].text.endswith("plans.\r\nSecond paragraph.")


def test_human_output_names_file_and_line(cli: CliRun, bare_corpus: Path) -> None:
    _write_bad_inputs(bare_corpus / "articles")
    result = cli("ingest", cwd=bare_corpus)
    assert result.exit_code == 1
    assert "malformed-jsonl-line" in result.stdout
    assert "inputs rejected" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_unreadable_file_is_a_finding(tmp_path: Path) -> None:
    from corpus_tools.ingest.readers import read_file

    folder = tmp_path / "looks-like.txt"
    folder.mkdir()
    items = list(read_file(folder, name="looks-like.txt", fmt="txt"))
    assert len(items) == 1
    f = items[0]
    assert not isinstance(f, Article)
    assert (
        getattr(f, "slug", None) == "unreadable-file"
        and getattr(f, "file", None) == "looks-like.txt"
    )


def test_format_flag_and_explicit_paths(cli: CliRun, bare_corpus: Path, tmp_path: Path) -> None:
    feed = tmp_path / "feed.data"
    feed.write_bytes(orjson.dumps({"url": "https://example.org/a", "text": GOOD_BODY}) + b"\n")
    result = cli("ingest", str(feed), "--format", "jsonl", "--json", cwd=bare_corpus)
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["articles"] == 1
    (article,) = _articles(bare_corpus).values()
    assert article.url == "https://example.org/a"
    result = cli("ingest", str(feed), cwd=bare_corpus)  # would empty the table: refused
    assert result.exit_code == 1 and "would drop 1 of them" in result.stderr
    assert len(_articles(bare_corpus)) == 1
    result = cli("ingest", str(feed), "--allow-deletions", cwd=bare_corpus)
    assert result.exit_code == 0 and "unknown-format" in result.stdout
    result = cli("ingest", "--format", "pdf", cwd=bare_corpus)
    assert result.exit_code == 2
    result = cli("ingest", str(tmp_path / "missing.txt"), cwd=bare_corpus)
    assert result.exit_code == 2 and "no such file or folder" in result.stderr


def test_empty_articles_folder(cli: CliRun, bare_corpus: Path) -> None:
    result = cli("ingest", cwd=bare_corpus)
    assert result.exit_code == 0
    assert "nothing to ingest" in result.stdout
    assert pq.read_table(bare_corpus / "build" / "articles.parquet").num_rows == 0


def test_ids_come_from_identity_not_position(bare_corpus: Path) -> None:
    cfg: CorpusConfig = load_config(bare_corpus / "corpus.toml")
    rows = [
        {"id": "x-1", "url": "https://example.org/1", "text": GOOD_BODY},
        {"url": "https://example.org/2", "text": GOOD_BODY.replace("Geneva", "Oslo")},
        {"text": GOOD_BODY.replace("Geneva", "Rome")},
    ]
    feed = cfg.paths.articles / "a.jsonl"
    feed.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    ingest(config=cfg)
    first = {a.url: a.article_id for a in iter_articles(cfg.paths.articles_parquet)}
    # Reorder, rename, and change the URL of the record that has an explicit id.
    rows[0]["url"] = "https://example.org/moved"
    feed.unlink()
    (cfg.paths.articles / "b.jsonl").write_bytes(
        b"".join(orjson.dumps(r) + b"\n" for r in reversed(rows))
    )
    ingest(config=cfg)
    second = {a.url: a.article_id for a in iter_articles(cfg.paths.articles_parquet)}
    assert second["https://example.org/moved"] == first["https://example.org/1"]
    assert second["https://example.org/2"] == first["https://example.org/2"]
    assert second[None] == first[None]


def test_workers_give_the_same_bytes(cli: CliRun, sample_corpus: Path) -> None:
    cfg = load_config(sample_corpus / "corpus.toml")
    one = ingest(config=cfg)
    first = sha256_file(cfg.paths.articles_parquet)
    result = cli("ingest", "--workers", "2", "--json", cwd=sample_corpus)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == one.to_dict()
    assert sha256_file(cfg.paths.articles_parquet) == first


def test_progress_bar_does_not_change_the_result(sample_corpus: Path) -> None:
    cfg = load_config(sample_corpus / "corpus.toml")
    quiet = ingest(config=cfg)
    first = sha256_file(cfg.paths.articles_parquet)
    shown = ingest(config=cfg, progress=True)
    assert shown == quiet
    assert sha256_file(cfg.paths.articles_parquet) == first
