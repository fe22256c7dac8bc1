"""`corpus ingest` of WARC files: a generated CC-NEWS-like crawl (scripts/make_warc_corpus.py)
against the generator's ground truth, and damaged files against offsets found here with zlib
and byte searches (not with the WARC library ingest reads with)."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import re
import shutil
import sys
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from conftest import CliRun

from corpus_tools.config import load_config
from corpus_tools.ingest import ingest
from corpus_tools.ingest.readers import format_of
from corpus_tools.model import Article, IngestReport, RawArticle
from corpus_tools.store import iter_articles

ROOT = Path(__file__).resolve().parent.parent


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_warc_corpus", ROOT / "scripts" / "make_warc_corpus.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_warc_corpus"] = mod
    spec.loader.exec_module(mod)
    return mod


make = _generator()


def _corpus(root: Path, *, max_record_bytes: int | None = None) -> Path:
    (root / "articles").mkdir(parents=True)
    toml = (ROOT / "corpus.toml").read_text(encoding="utf-8")
    if max_record_bytes is not None:
        toml = toml.replace("[ingest]\n", f"[ingest]\nmax_record_bytes = {max_record_bytes}\n", 1)
    (root / "corpus.toml").write_text(toml, encoding="utf-8")
    return root


def _articles(root: Path) -> list[Article]:
    return list(iter_articles(root / "build" / "articles.parquet"))


def _aid(url: str) -> str:
    """DESIGN contract 3, computed here: the id of an article known by its URL."""
    return "art-" + hashlib.sha256(f"url:{url}".encode()).hexdigest()[:16]


# --- records located without the WARC library -------------------------------------------------


def _gz_records(data: bytes) -> list[tuple[int, bytes]]:
    """(offset, decompressed record) of each gzip member."""
    out = []
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj(31)
        rec = d.decompress(data[pos:])
        out.append((pos, rec))
        pos = len(data) - len(d.unused_data)
    return out


def _plain_records(data: bytes) -> list[tuple[int, bytes]]:
    starts = [m.start() for m in re.finditer(rb"WARC/1\.0\r\n", data)]
    return [(a, data[a:b]) for a, b in zip(starts, [*starts[1:], len(data)], strict=True)]


def _uri(rec: bytes) -> str | None:
    m = re.search(rb"WARC-Target-URI: (\S+)", rec)
    return m.group(1).decode() if m and b"WARC-Type: response" in rec else None


# --- the generated crawl, ingested once --------------------------------------------------------


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], IngestReport]:
    root = _corpus(tmp_path_factory.mktemp("warc"))
    truth = make.write_warc_corpus(root / "articles", 300, files=3, seed=7, workers=1)
    report = ingest(config=load_config(root / "corpus.toml"))
    return root, truth, report


def _copies(truth: dict[str, Any]) -> dict[int, list[dict[str, Any]]]:
    """Pages by the page whose text they carry (a page and its exact copies)."""
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in truth["pages"]:
        groups[p["copy_of"] if p["copy_of"] is not None else p["index"]].append(p)
    return groups


def test_every_page_is_one_article_or_a_reported_copy(crawl: Any) -> None:
    root, truth, report = crawl
    arts = {a.url: a for a in _articles(root)}
    groups = _copies(truth)
    # of a page and its copies, the one of the smallest article_id is kept
    kept = {min((p["url"] for p in g), key=_aid) for g in groups.values()}
    assert set(arts) == kept
    assert len(truth["pages"]) == 300 and len(kept) < 300  # copies were planted
    dups = [f for f in report.findings if f.slug == "exact-duplicate"]
    assert len(dups) == 300 - len(kept) == report.duplicates
    for url, a in arts.items():
        assert url is not None and a.article_id == _aid(url)
    assert report.ok and report.rejected == 0


def test_metadata_from_the_page_and_the_record(crawl: Any) -> None:
    root, truth, _ = crawl
    arts = {a.url: a for a in _articles(root)}
    by_url = {p["url"]: p for p in truth["pages"]}
    fallback = 0
    for url, a in arts.items():
        page = by_url[url]
        assert a.published == page["date"], url
        assert a.outlet == page["outlet"]
        assert a.title == page["title"]
        assert a.language == "en"
        file, _, offset = a.source.partition("#")
        assert file == f"articles/{page['file']}" and offset.isdigit()
        fallback += page["date_from"] == "warc"
    assert fallback > 0  # pages without a date of their own got the WARC-Date's day


def test_source_offsets_point_at_the_records(crawl: Any) -> None:
    root, truth, _ = crawl
    at: dict[str, str] = {}
    for name in truth["files"]:
        for offset, rec in _gz_records((root / "articles" / name).read_bytes()):
            if (uri := _uri(rec)) is not None:
                at[uri] = f"articles/{name}#{offset}"
    for a in _articles(root):
        assert a.url is not None and at[a.url] == a.source


def test_a_dropped_copy_is_named_by_its_record_offset(crawl: Any) -> None:
    """A finding about a WARC record (here each exact copy dropped) names its file and, as
    its `pointer`, the byte offset of the record: where to look in a file of thousands."""
    root, truth, report = crawl
    at: dict[str, str] = {}
    for name in truth["files"]:
        for offset, rec in _gz_records((root / "articles" / name).read_bytes()):
            if (uri := _uri(rec)) is not None:
                at[uri] = f"articles/{name}#{offset}"
    kept = {a.url for a in _articles(root)}
    dropped = {at[p["url"]] for p in truth["pages"] if p["url"] not in kept}
    dups = [f for f in report.findings if f.slug == "exact-duplicate"]
    assert dups and all(f.pointer and f.pointer.startswith("offset ") for f in dups)
    assert {f"{f.file}#{f.pointer[7:]}" for f in dups if f.pointer} == dropped
    offsets = [(f.file, int(f.pointer[7:])) for f in dups if f.pointer]
    assert offsets == sorted(offsets)  # listed in file order


def test_hard_characters_come_through(crawl: Any) -> None:
    root, truth, _ = crawl
    arts = {a.url: a for a in _articles(root)}
    checked = 0
    for page in truth["pages"]:
        a = arts.get(page["url"])
        if a is None or not page["hard"]:
            continue
        pieces = [a.text[s.start : s.end] for s in a.sentences]
        for hard in page["hard"]:
            assert any(hard in piece for piece in pieces), (hard, page["url"])
        checked += 1
    assert checked >= 20
    assert any("\U0001d518" in a.text for a in arts.values())  # the non-BMP letter


def test_planted_stories_come_out_as_stories(crawl: Any) -> None:
    root, truth, report = crawl
    by_url = {p["url"]: p["story"] for p in truth["pages"]}
    got: dict[str, set[str]] = defaultdict(set)
    want: dict[str, set[str]] = defaultdict(set)
    for a in _articles(root):
        assert a.url is not None and a.story_id is not None
        got[a.story_id].add(a.url)
        want[by_url[a.url]].add(a.url)
    assert {frozenset(g) for g in got.values()} == {frozenset(g) for g in want.values()}
    assert any(len(g) > 1 for g in want.values())
    assert report.stories == len(want)


def test_non_article_records_are_skipped_and_counted(crawl: Any) -> None:
    root, truth, report = crawl
    urls = {a.url for a in _articles(root)}
    assert not urls & {o["url"] for o in truth["others"]}
    kinds = {o["kind"] for o in truth["others"]}
    assert kinds == {"pdf", "jpeg", "404", "redirect"}
    per_file: dict[str, int] = defaultdict(int)
    for o in truth["others"]:
        per_file[f"articles/{o['file']}"] += 1
    skipped = {f.file: f for f in report.findings if f.slug == "warc-records-skipped"}
    assert set(skipped) == set(per_file)
    for name, n in per_file.items():
        assert skipped[name].severity == "info"
        assert skipped[name].message.startswith(f"{n:,} responses")


def test_cli_json_equals_the_library(crawl: Any, cli: CliRun, tmp_path: Path) -> None:
    root, _, report = crawl
    other = _corpus(tmp_path / "c")
    for f in (root / "articles").iterdir():
        shutil.copy2(f, other / "articles" / f.name)
    result = cli("ingest", "--json", cwd=other)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == report.to_dict()


# --- damaged files ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("small")
    truth = make.write_warc_corpus(folder / "gz", 24, files=1, seed=3, workers=1)
    make.write_warc_corpus(folder / "plain", 24, files=1, seed=3, gz=False, workers=1)
    return folder, truth


def _html_urls(records: list[tuple[int, bytes]], truth: dict[str, Any]) -> list[str]:
    pages = {p["url"] for p in truth["pages"]}
    return [u for _, rec in records if (u := _uri(rec)) is not None and u in pages]


def _run(root: Path, cli: CliRun) -> tuple[int, dict[str, Any]]:
    result = cli("ingest", "--json", cwd=root)
    return result.exit_code, json.loads(result.output)


def _kept_urls(root: Path) -> set[str | None]:
    return {a.url for a in _articles(root)}


def _expected_kept(urls: list[str], truth: dict[str, Any]) -> set[str]:
    """The URLs ingest keeps of these pages: one per exact-copy group present."""
    by_url = {p["url"]: p for p in truth["pages"]}
    groups: dict[int, list[str]] = defaultdict(list)
    for u in urls:
        p = by_url[u]
        groups[p["copy_of"] if p["copy_of"] is not None else p["index"]].append(u)
    return {min(g, key=_aid) for g in groups.values()}


def test_gzip_cut_in_a_header(small: Any, cli: CliRun, tmp_path: Path) -> None:
    folder, truth = small
    data = (folder / "gz" / truth["files"][0]).read_bytes()
    records = _gz_records(data)
    k = next(i for i in range(len(records) // 2, len(records)) if _uri(records[i][1]))
    start = records[k][0]
    root = _corpus(tmp_path / "c")
    (root / "articles" / "cut.warc.gz").write_bytes(data[: start + 40])
    code, out = _run(root, cli)
    assert code == 1
    bad = [f for f in out["findings"] if f["severity"] == "error"]
    assert [(f["slug"], f["pointer"]) for f in bad] == [
        ("malformed-warc-record", f"offset {start}")
    ]
    assert _kept_urls(root) == _expected_kept(_html_urls(records[:k], truth), truth)


def test_gzip_cut_in_the_middle_of_a_member(small: Any, cli: CliRun, tmp_path: Path) -> None:
    folder, truth = small
    data = (folder / "gz" / truth["files"][0]).read_bytes()
    records = _gz_records(data)
    # cut inside the member of a response record, two thirds through the file
    k = next(i for i in range(len(records) * 2 // 3, len(records)) if _uri(records[i][1]))
    cut_at, _ = records[k]
    nxt = records[k + 1][0] if k + 1 < len(records) else len(data)
    root = _corpus(tmp_path / "c")
    # 20 bytes before its end: past its WARC and HTTP headers (compressed, the last 8 bytes
    # are the gzip trailer), in its HTML
    (root / "articles" / "cut.warc.gz").write_bytes(data[: nxt - 20])
    code, out = _run(root, cli)
    assert code == 1
    bad = [f for f in out["findings"] if f["severity"] == "error"]
    assert [(f["slug"], f["file"], f["pointer"]) for f in bad] == [
        ("truncated-warc-record", "articles/cut.warc.gz", f"offset {cut_at}")
    ]
    assert f"offset {cut_at:,}" in bad[0]["message"]
    assert _kept_urls(root) == _expected_kept(_html_urls(records[:k], truth), truth)


def test_cut_member_followed_by_good_ones_reads_on(small: Any, cli: CliRun, tmp_path: Path) -> None:
    folder, truth = small
    data = (folder / "gz" / truth["files"][0]).read_bytes()
    records = _gz_records(data)
    k = next(i for i in range(len(records) // 3, len(records)) if _uri(records[i][1]))
    start, nxt = records[k][0], records[k + 1][0]
    root = _corpus(tmp_path / "c")
    damaged = data[: start + (nxt - start) // 2] + data[nxt:]
    (root / "articles" / "hole.warc.gz").write_bytes(damaged)
    code, out = _run(root, cli)
    assert code == 1
    bad = [f for f in out["findings"] if f["severity"] == "error"]
    assert [(f["slug"], f["pointer"]) for f in bad] == [
        ("malformed-warc-record", f"offset {start}")
    ]
    urls = _html_urls(records[:k] + records[k + 1 :], truth)
    assert _kept_urls(root) == _expected_kept(urls, truth)


def test_corrupted_warc_header(small: Any, cli: CliRun, tmp_path: Path) -> None:
    folder, truth = small
    data = (folder / "gz" / truth["files"][0]).read_bytes()
    records = _gz_records(data)
    k = next(i for i in range(len(records) // 2, len(records)) if _uri(records[i][1]))
    start, rec = records[k]
    broken = zlib.compress(rec.replace(b"WARC/1.0\r\n", b"WARC/9.X junk\r\n", 1), wbits=31)
    root = _corpus(tmp_path / "c")
    (root / "articles" / "bad.warc.gz").write_bytes(
        data[:start] + broken + data[records[k + 1][0] :]
    )
    code, out = _run(root, cli)
    assert code == 1
    bad = [f for f in out["findings"] if f["severity"] == "error"]
    assert [(f["slug"], f["file"], f["pointer"]) for f in bad] == [
        ("malformed-warc-record", "articles/bad.warc.gz", f"offset {start}")
    ]
    urls = _html_urls(records[:k] + records[k + 1 :], truth)
    assert _kept_urls(root) == _expected_kept(urls, truth)


def test_uncompressed_warc_and_a_content_length_past_the_end(
    small: Any, cli: CliRun, tmp_path: Path
) -> None:
    folder, truth = small
    plain = folder / "plain" / truth["files"][0].removesuffix(".gz")
    data = plain.read_bytes()
    records = _plain_records(data)
    root = _corpus(tmp_path / "c")
    shutil.copy2(plain, root / "articles" / "whole.warc")
    # the last response claims more bytes than the file holds
    k = max(i for i, (_, rec) in enumerate(records) if _uri(rec))
    start, rec = records[k]
    longer = re.sub(rb"Content-Length: (\d+)\r\n\r\nHTTP", rb"Content-Length: 9\1\r\n\r\nHTTP", rec)
    (root / "articles" / "long.warc").write_bytes(data[:start] + longer)
    code, out = _run(root, cli)
    assert code == 1
    bad = [f for f in out["findings"] if f["severity"] == "error"]
    assert [(f["slug"], f["file"], f["pointer"]) for f in bad] == [
        ("truncated-warc-record", "articles/long.warc", f"offset {start}")
    ]
    # every page of the whole file; the long file's copies of them are exact duplicates
    assert _kept_urls(root) == _expected_kept(_html_urls(records, truth), truth)
    assert format_of(Path("x.WARC")) == format_of(Path("y.warc.gz")) == "warc"


def test_bad_http_header_block(small: Any, cli: CliRun, tmp_path: Path) -> None:
    folder, truth = small
    data = (folder / "plain" / truth["files"][0].removesuffix(".gz")).read_bytes()
    records = _plain_records(data)
    k = next(i for i in range(len(records) // 2, len(records)) if _uri(records[i][1]))
    start, rec = records[k]
    broken = rec.replace(b"\r\nServer: nginx\r\n", b"\r\nServer nginx\r\n", 1)
    assert broken != rec
    root = _corpus(tmp_path / "c")
    (root / "articles" / "http.warc").write_bytes(data[:start] + broken + data[start + len(rec) :])
    code, out = _run(root, cli)
    assert code == 1
    bad = [f for f in out["findings"] if f["severity"] == "error"]
    assert [(f["slug"], f["pointer"]) for f in bad] == [
        ("malformed-http-record", f"offset {start}")
    ]
    urls = _html_urls(records[:k] + records[k + 1 :], truth)
    assert _kept_urls(root) == _expected_kept(urls, truth)


def test_record_over_max_record_bytes(small: Any, cli: CliRun, tmp_path: Path) -> None:
    folder, truth = small
    data = (folder / "gz" / truth["files"][0]).read_bytes()
    records = _gz_records(data)
    lengths = {
        off: int(m.group(1))
        for off, rec in records
        if _uri(rec) and (m := re.search(rb"Content-Length: (\d+)\r\n\r\n", rec))
    }
    limit = sorted(lengths.values())[len(lengths) // 2]
    root = _corpus(tmp_path / "c", max_record_bytes=limit)
    (root / "articles" / "big.dat").write_bytes(data)
    result = cli("ingest", "--json", "--format", "warc", cwd=root)
    assert result.exit_code == 1
    out = json.loads(result.output)
    bad = [f for f in out["findings"] if f["severity"] == "error"]
    assert sorted((f["slug"], f["pointer"]) for f in bad) == sorted(
        ("record-too-large", f"offset {off}") for off, n in lengths.items() if n > limit
    )
    small_ones = [(off, rec) for off, rec in records if lengths.get(off, 0) <= limit]
    assert _kept_urls(root) == _expected_kept(_html_urls(small_ones, truth), truth)


# --- charsets -----------------------------------------------------------------------------------


def _response(url: str, content_type: str, body: bytes, extra: str = "") -> bytes:
    http = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{extra}\r\n".encode() + body
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:" + url[-12:].zfill(12)
        + ">\r\nWARC-Date: 2024-05-06T07:08:09Z\r\n"
        f"WARC-Target-URI: {url}\r\nContent-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    )  # fmt: skip
    return head.encode() + http + b"\r\n\r\n"


PAGE = (
    "<html lang='fr'><head>{meta}<title>Un café à Zürich</title></head><body><article>"
    "<h1>Un café à Zürich</h1><p>{para}</p><p>{para}</p></article></body></html>"
)
PARA = (
    "Le conseil municipal a voté mercredi un crédit de trois millions pour la rénovation "
    "du café historique, fermé depuis l'été dernier. Les habitués, naïfs ou pas, espèrent "
    "une réouverture avant Noël, le café à 2 € « c'est notre deuxième salon », dit une voisine."
)


def test_pages_are_decoded_by_their_charset(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "c")

    def para(i: int) -> str:  # four texts, not exact duplicates of each other
        return PARA.replace("trois", f"{i} fois")

    xml = '<?xml version="1.0" encoding="utf-8"?>\n'
    pages = [
        # declared in the HTTP header
        ("https://a.example/1", "text/html; charset=windows-1252", "", "", "cp1252"),
        # declared in the page only
        ("https://a.example/2", "text/html", "", '<meta charset="iso-8859-15">', "iso-8859-15"),
        # not declared, and not UTF-8: guessed
        ("https://a.example/3", "text/html", "", "", "cp1252"),
        # not declared: UTF-8 (an XHTML page, whose XML declaration lxml refuses in a str)
        ("https://a.example/4", "application/xhtml+xml", xml, "", "utf-8"),
    ]
    data = b"".join(
        _response(url, ctype, (decl + PAGE.format(meta=meta, para=para(i))).encode(enc))
        for i, (url, ctype, decl, meta, enc) in enumerate(pages)
    )
    (root / "articles" / "charsets.warc").write_bytes(data)
    report = ingest(config=load_config(root / "corpus.toml"))
    assert report.ok and report.articles == 4, report.findings
    for a in _articles(root):
        assert "naïfs" in a.text and "réouverture" in a.text and "2 € « c'est" in a.text, a.url
        assert a.published == "2024-05-06" and a.outlet == "a.example" and a.language == "fr"


def test_http_codings_are_undone(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "c")
    html = [PAGE.format(meta="", para=PARA.replace("trois", f"{i} fois")) for i in range(5)]
    gz = gzip.compress(html[0].encode())
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (gz[:100], gz[100:])) + b"0\r\n\r\n"
    deflate = zlib.compress(html[1].encode())
    records = [
        _response(
            "https://b.example/0",
            "text/html; charset=utf-8",
            chunked,
            "Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n",
        ),
        _response("https://b.example/1", "text/html", deflate, "Content-Encoding: deflate\r\n"),
        _response(
            "https://b.example/2", "text/html", b"\x8b\x00 not brotli", "Content-Encoding: br\r\n"
        ),
        _response(
            "https://b.example/3", "text/html", b"\x1f\x8b junk", "Content-Encoding: gzip\r\n"
        ),
        _response("https://b.example/4", "text/html", html[4].encode()),
    ]
    (root / "articles" / "codings.warc").write_bytes(b"".join(records))
    report = ingest(config=load_config(root / "corpus.toml"))
    assert sorted(a.url or "" for a in _articles(root)) == [
        "https://b.example/0",
        "https://b.example/1",
        "https://b.example/4",
    ]
    assert all("réouverture" in a.text for a in _articles(root))
    found = sorted((f.slug, f.pointer) for f in report.findings)
    third = len(b"".join(records[:3]))
    assert found == [
        ("malformed-http-record", f"offset {third}"),
        ("warc-records-skipped", None),
    ]
    (skipped,) = [f for f in report.findings if f.slug == "warc-records-skipped"]
    assert "1 content-encoding br" in skipped.message


def test_an_unreadable_file_is_a_finding(tmp_path: Path) -> None:
    from corpus_tools.ingest.readers import read_warc

    got = list(read_warc(tmp_path / "gone.warc.gz", name="gone.warc.gz"))
    assert [(f.slug, f.file) for f in got if not isinstance(f, RawArticle)] == [
        ("unreadable-file", "gone.warc.gz")
    ]
