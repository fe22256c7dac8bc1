"""Write a CC-NEWS-like WARC corpus of synthetic news pages, with its ground truth.

Each file (`crawl-00000.warc.gz`, ...; `.warc` with `gz=False` / `--plain`) opens with a
`warcinfo` record, then holds for each fetched page a `request` and a `response` record
(WARC/1.0, HTTP/1.1, WARC-Target-URI, WARC-Date, WARC-Record-ID, WARC-Payload-Digest). With
gz every record is its own gzip member, as in CC-NEWS, so a reader can seek to any record.
The records are written as plain bytes (no WARC library): the reader in `corpus ingest` uses
one, so the two are independent.

Pages are news articles in HTML that trafilatura extracts (title, og:site_name,
article:published_time, nav, article, footer), from 20 outlets over three months
(2024-01-01 .. 2024-03-31), 150-600 words each. Words come from a seeded pseudo-vocabulary of
40,000 content words (distinct in their first 7 letters, none an English stop word) drawn
uniformly, with English function words between them, so unrelated pages share almost no
content words (Jaccard ~0.01, far under ingest's story threshold 0.14).

Planted:
- near-duplicate stories: groups of 2-5 pages rewriting one base text (about one content word
  in ten replaced, a paragraph dropped or one added): content-word Jaccard ~0.5-0.8;
- exact duplicates: the same title and body at another URL (often another outlet);
- one page in ten without `article:published_time` and without a date in its URL (ingest falls
  back to the WARC-Date's day, which the truth gives as `date`);
- hard characters in one page in five: an emoji, a non-BMP letter (𝔘), a combining mark (the
  exact strings are in the truth's `hard`), and CRLF line ends in the HTML of one page in four;
- records that are not articles: application/pdf and image/jpeg responses, a 404 page and a
  301 redirect (at least one of each per file, and one of each per 500 articles).

The truth (returned; `--truth FILE` writes it as JSON): `pages`, one entry per HTML article
response (url, file, story group, exact-duplicate group, outlet, date, hard strings), and
`others`, one per non-article response (url, file, kind).

Usage: python scripts/make_warc_corpus.py OUT --articles N [--files K] [--seed S] [--plain]
       [--truth FILE]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import functools
import gzip
import hashlib
import itertools
import json
import multiprocessing
import os
import random
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from corpus_tools.ingest.stopwords import ENGLISH_STOP_WORDS

VOCAB = 40_000
OUTLETS = 20
START = dt.date(2024, 1, 1)
DAYS = 91
_FUNCTION_TEXT = (
    "the the the of of and and to to in a a that for on with as was by at from is "
    "were has had after said their its this which"
)
FUNCTION_WORDS = _FUNCTION_TEXT.split()
_ONSETS = "b c d f g h j k l m n p r s t v w z br cr dr fr gr pr tr bl cl fl gl pl sl st sh ch th"
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ou")
_CODAS = ["", "", "", "n", "r", "s", "l", "m", "t", "nd", "st", "rk"]
_ONSET_LIST = _ONSETS.split()
_SECTIONS = ("world", "politics", "business", "science", "local", "culture")
EMOJI = ("🌍", "📰", "🚀", "🎉", "🔥", "🌧️")
NOT_ARTICLES = ("pdf", "jpeg", "404", "redirect")
CRLF_EVERY = 4
HARD_EVERY = 5
NODATE_EVERY = 10


def _vocabulary(seed: int) -> list[str]:
    """VOCAB pseudo-words, distinct in their first 7 letters, none a stop word."""
    rng = np.random.default_rng([seed, 1])
    words: list[str] = []
    stems: set[str] = set()
    while len(words) < VOCAB:
        n = int(rng.integers(2, 5))
        w = "".join(
            _ONSET_LIST[rng.integers(len(_ONSET_LIST))]
            + _VOWELS[rng.integers(len(_VOWELS))]
            + _CODAS[rng.integers(len(_CODAS))]
            for _ in range(n)
        )
        if len(w) < 4 or w[:7] in stems or w in ENGLISH_STOP_WORDS:
            continue
        stems.add(w[:7])
        words.append(w)
    return words


def _outlets(seed: int) -> list[tuple[str, str]]:
    """(site name, hostname) of each outlet."""
    rng = np.random.default_rng([seed, 2])
    kinds = ("Times", "Herald", "Courier", "Gazette", "Post", "Ledger", "Chronicle", "Tribune")
    places = (
        "Harbour", "Northfield", "Riverside", "Eastbay", "Lakeside", "Westmoor", "Hillcrest",
        "Stonebridge", "Greenvale", "Redcliff", "Ashford", "Brookhaven", "Fairport", "Oakridge",
        "Pinecrest", "Sandown", "Millbrook", "Kingsbay", "Elmstead", "Marlow",
    )  # fmt: skip
    out = []
    for i, place in enumerate(places[:OUTLETS]):
        kind = kinds[int(rng.integers(len(kinds)))]
        name = f"The {place} {kind}"
        out.append((name, f"www.{place.lower()}{kind.lower()}{i}.example"))
    return out


Body = tuple[np.ndarray, list[int]]
"""An article's token ids and where its paragraphs start (and the last one ends)."""


class _Text:
    """Paragraphs of seeded words, as arrays of token ids (content words 0..VOCAB-1, then the
    function words), rendered to sentences through tables of every token's four spellings."""

    def __init__(self, seed: int) -> None:
        words = _vocabulary(seed) + FUNCTION_WORDS
        self.n = len(words)
        # spelling k * n + t of token t: k = 0 plain, 1 capitalised, 2 with a full stop, 3 both
        self.table = np.array(
            words
            + [w.capitalize() for w in words]
            + [w + "." for w in words]
            + [w.capitalize() + "." for w in words],
            dtype=object,
        )
        self.words = words

    def tokens(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` token ids, about one in three a function word."""
        ids = rng.integers(0, VOCAB, n)
        func = rng.random(n) < 0.33
        ids[func] = VOCAB + rng.integers(0, self.n - VOCAB, int(func.sum()))
        return ids

    def body(self, rng: np.random.Generator) -> Body:
        """150-600 words in paragraphs of 40-110."""
        total = int(rng.integers(150, 601))
        cuts = np.cumsum(rng.integers(40, 110, total // 40 + 1))
        return self.tokens(rng, total), [0, *cuts[cuts < total].tolist(), total]

    def rewrite(self, base: Body, rng: np.random.Generator) -> Body:
        """A light rewrite: ~10% of the words replaced, a paragraph dropped or one added."""
        tokens, bounds = base
        tokens = tokens.copy()
        swap = rng.random(len(tokens)) < 0.1
        swap[int(rng.integers(len(tokens)))] = True
        tokens[swap] = rng.integers(0, VOCAB, int(swap.sum()))
        r = rng.random()
        paras = len(bounds) - 1
        if r < 0.4 and paras > 2:
            k = int(rng.integers(paras))
            a, b = bounds[k], bounds[k + 1]
            tokens = np.concatenate([tokens[:a], tokens[b:]])
            bounds = bounds[: k + 1] + [x - (b - a) for x in bounds[k + 2 :]]
        elif r < 0.8:
            k = int(rng.integers(paras + 1))
            a = bounds[k]
            tokens = np.concatenate([tokens[:a], self.tokens(rng, 60), tokens[a:]])
            bounds = bounds[: k + 1] + [x + 60 for x in bounds[k:]]
        return tokens, bounds

    def render(self, body: Body, rng: np.random.Generator) -> list[str]:
        """The paragraphs, cut into capitalised sentences of 8-22 words."""
        tokens, bounds = body
        n = len(tokens)
        start = np.zeros(n + 1, dtype=np.int64)
        start[np.cumsum(rng.integers(8, 23, n // 8 + 1)).clip(max=n)] = 1
        start[bounds] = 1
        spell = start[:n] + 2 * start[1:]
        words = self.table[tokens + spell * self.n].tolist()
        return [" ".join(words[a:b]) for a, b in itertools.pairwise(bounds)]

    def title(self, body: Body) -> str:
        return " ".join(self.words[t].capitalize() for t in body[0][:10].tolist() if t < VOCAB)


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _page_html(
    *, title: str, site: str, published: str | None, paras: list[str], crlf: bool
) -> bytes:
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{_esc(title)} | {_esc(site)}</title>",
        f'<meta property="og:site_name" content="{_esc(site)}">',
        f'<meta property="og:title" content="{_esc(title)}">',
        meta,
        "</head>",
        "<body>",
        '<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a> '
        '<a href="/subscribe">Subscribe</a></nav>',
        "<article>",
        f"<h1>{_esc(title)}</h1>",
        *(f"<p>{_esc(p)}</p>" for p in paras),
        "</article>",
        f"<footer><p>Copyright {_esc(site)}. All rights reserved.</p>"
        '<p><a href="/privacy">Privacy</a> <a href="/contact">Contact us</a></p></footer>',
        "</body>",
        "</html>",
    ]
    return ("\r\n" if crlf else "\n").join(x for x in lines if x).encode("utf-8")


def _http(status: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1") + body


def _digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


class _Out:
    """One WARC file being written: records as bytes, each its own gzip member with gz."""

    def __init__(self, path: Path, gz: bool, rng: random.Random) -> None:
        self.fh = open(path, "wb")  # noqa: SIM115 (closed in close())
        self.gz = gz
        self.rng = rng
        self.info_id = self._id()

    def _id(self) -> str:
        return f"<urn:uuid:{uuid.UUID(int=self.rng.getrandbits(128), version=4)}>"

    def record(
        self, headers: list[tuple[str, str]], block: bytes, *, rid: str | None = None
    ) -> str:
        rid = rid or self._id()
        head = (
            "WARC/1.0\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers[:1])
            + f"WARC-Record-ID: {rid}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers[1:])
            + f"Content-Length: {len(block)}\r\n\r\n"
        )
        data = head.encode("utf-8") + block + b"\r\n\r\n"
        self.fh.write(gzip.compress(data, compresslevel=6, mtime=0) if self.gz else data)
        return rid

    def warcinfo(self, name: str, date: str) -> None:
        fields = (
            b"software: corpus-tools make_warc_corpus\r\n"
            b"format: WARC File Format 1.0\r\n"
            b"description: synthetic news pages for tests and benchmarks\r\n"
        )
        self.record(
            [
                ("WARC-Type", "warcinfo"),
                ("WARC-Date", date),
                ("WARC-Filename", name),
                ("Content-Type", "application/warc-fields"),
            ],
            fields,
            rid=self.info_id,
        )

    def fetch(self, url: str, date: str, http: bytes) -> None:
        host, _, path = url.split("://", 1)[1].partition("/")
        req = (
            f"GET /{path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: corpus-tools-synthetic/1.0\r\n"
            "Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n\r\n"
        ).encode()
        rid = self.record(
            [
                ("WARC-Type", "request"),
                ("WARC-Date", date),
                ("WARC-Warcinfo-ID", self.info_id),
                ("WARC-Target-URI", url),
                ("Content-Type", "application/http; msgtype=request"),
            ],
            req,
        )
        payload = http.split(b"\r\n\r\n", 1)[1]
        self.record(
            [
                ("WARC-Type", "response"),
                ("WARC-Date", date),
                ("WARC-Warcinfo-ID", self.info_id),
                ("WARC-Concurrent-To", rid),
                ("WARC-Target-URI", url),
                ("WARC-Payload-Digest", _digest(payload)),
                ("Content-Type", "application/http; msgtype=response"),
            ],
            http,
        )

    def close(self) -> None:
        self.fh.close()


def _plan(articles: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(story group, exact-copy source) per page position: near-duplicate groups of 2-5
    pages hold about a third of the pages, spread over the files and days; about one page in
    twenty is an exact copy of an earlier page (source -1: not a copy)."""
    groups: list[int] = []
    group = 0
    copies = 0
    while len(groups) + copies < articles:
        r = rng.random()
        if r < 0.05:
            copies += 1
            continue
        size = int(rng.integers(2, 6)) if r < 0.17 else 1
        groups.extend([group] * min(size, articles - len(groups) - copies))
        group += 1
    group_of = np.full(articles, -1, dtype=np.int64)
    copy_of = np.full(articles, -1, dtype=np.int64)
    order = rng.permutation(articles)
    group_of[order[: len(groups)]] = groups
    for i in np.sort(order[len(groups) :]).tolist():
        # a copy of an earlier original page (one that is not a copy itself)
        for _ in range(20):
            src = int(rng.integers(max(i, 1)))
            if i > 0 and copy_of[src] < 0 and group_of[src] >= 0:
                copy_of[i] = src
                break
        else:  # no original before it: the page is an original of its own story
            group_of[i] = group
            group += 1
    return group_of, copy_of


class _Page:
    """Everything about one article page but its HTML."""

    __slots__ = ("crawl", "date_from", "host", "index", "nodate", "pub", "site", "url")

    def __init__(self, i: int, articles: int, seed: int, outlets: list[tuple[str, str]]) -> None:
        rng = random.Random((seed << 40) | i)
        day = START + dt.timedelta(days=i * DAYS // articles)  # crawled in date order
        self.crawl = dt.datetime.combine(day, dt.time()) + dt.timedelta(
            seconds=rng.randrange(86_400)
        )
        # published up to a day before it was fetched
        self.pub = self.crawl - dt.timedelta(seconds=rng.randrange(86_400))
        self.site, self.host = outlets[rng.randrange(len(outlets))]
        self.nodate = i % NODATE_EVERY == NODATE_EVERY - 1
        section = _SECTIONS[rng.randrange(len(_SECTIONS))]
        when = "" if self.nodate else f"{self.pub:%Y/%m/%d}/"
        self.url = f"https://{self.host}/{section}/{when}story-{i:07d}"
        self.index = i


def _body(text: _Text, seed: int, i: int, group: int) -> tuple[str, list[str], list[str]]:
    """(title, paragraphs, hard strings) of original page `i` (a pure function of them)."""
    prng = np.random.default_rng([seed, 4, i])
    if group >= 0:
        base = text.body(np.random.default_rng([seed, 5, group]))
        tokens = text.rewrite(base, prng)
        title = text.title(base)
    else:
        tokens = text.body(prng)
        title = text.title(tokens)
    paras = text.render(tokens, prng)
    hard: list[str] = []
    if i % HARD_EVERY == 0:
        w1, w2 = (text.words[t] for t in prng.integers(0, VOCAB, 2).tolist())
        hard = ["𝔘" + w1, EMOJI[int(prng.integers(len(EMOJI)))], w2[:2] + "e\u0301" + w2[2:]]
        paras[-1] += f" Crowds in {hard[0]} cheered {hard[1]} at the {hard[2]} fair."
    return title, paras, hard


def _write_file(
    job: tuple[Path, str, int, int, int, int, bool, np.ndarray, np.ndarray],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Write one WARC file of pages lo..hi-1; return its truth (pages, others)."""
    folder, name, f, lo, hi, seed, gz, group_of, copy_of = job
    articles = len(group_of)
    text = _text(seed)
    outlets = _outlets(seed)
    rng = np.random.default_rng([seed, 3, f])
    out = _Out(folder / name, gz, random.Random((seed << 40) | (1 << 39) | f))
    first_day = START + dt.timedelta(days=lo * DAYS // articles)
    out.warcinfo(name, f"{first_day.isoformat()}T00:00:00Z")
    n_other = max(1, (hi - lo) // 500)
    extras = {int(k): kind for kind in NOT_ARTICLES for k in rng.integers(lo, hi, n_other).tolist()}
    pages: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for i in range(lo, hi):
        page = _Page(i, articles, seed, outlets)
        src = int(copy_of[i])
        orig = src if src >= 0 else i
        title, paras, hard = _body(text, seed, orig, int(group_of[orig]))
        pub_iso = None if page.nodate else page.pub.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        html = _page_html(
            title=title, site=page.site, published=pub_iso, paras=paras, crlf=i % CRLF_EVERY == 1
        )
        http = _http(
            "200 OK",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(html))),
                ("Server", "nginx"),
            ],
            html,
        )
        date = f"{page.crawl:%Y-%m-%dT%H:%M:%SZ}"
        out.fetch(page.url, date, http)
        group = int(group_of[orig])
        pages.append(
            {
                "url": page.url,
                "file": name,
                "index": i,
                "story": f"story-{group}" if group >= 0 else f"single-{orig}",
                "copy_of": src if src >= 0 else None,
                "outlet": page.site,
                "host": page.host,
                "date": (page.crawl if page.nodate else page.pub).date().isoformat(),
                "date_from": "warc" if page.nodate else "page",
                "warc_date": date,
                "title": title,
                "hard": hard,
            }
        )
        if i in extras:
            others.append(_other(out, extras[i], page.host, date, name, i))
    out.close()
    return pages, others


@functools.cache
def _text(seed: int) -> _Text:
    return _Text(seed)


def write_warc_corpus(
    folder: Path,
    articles: int,
    *,
    files: int = 4,
    seed: int = 0,
    gz: bool = True,
    workers: int | None = None,
) -> dict[str, Any]:
    """Write `articles` HTML article pages (plus a few non-article responses) as `files` WARC
    files in `folder`; return the ground truth (see the module docstring).

    `workers` processes write the files (default: one per CPU, at most one per file); the
    output does not depend on it.
    """
    if articles < 1 or files < 1:
        raise ValueError("articles and files must be at least 1")
    folder.mkdir(parents=True, exist_ok=True)
    group_of, copy_of = _plan(articles, np.random.default_rng([seed, 0]))
    ext = ".warc.gz" if gz else ".warc"
    per_file = -(-articles // files)
    names = [f"crawl-{f:05d}{ext}" for f in range(files)]
    jobs = [
        (folder, names[f], f, f * per_file, min(articles, (f + 1) * per_file), seed, gz,
         group_of, copy_of)
        for f in range(files)
    ]  # fmt: skip
    jobs = [j for j in jobs if j[3] < j[4]]
    if workers is None:
        workers = min(len(jobs), os.cpu_count() or 1, max(1, articles // 2000))
    if workers > 1:
        ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            results = list(pool.map(_write_file, jobs))
    else:
        results = [_write_file(j) for j in jobs]
    return {
        "seed": seed,
        "files": [j[1] for j in jobs],
        "pages": [p for pages, _ in results for p in pages],
        "others": [o for _, others in results for o in others],
    }


def _other(out: _Out, kind: str, host: str, date: str, name: str, n: int) -> dict[str, Any]:
    """A response that is not an article page."""
    if kind == "pdf":
        url = f"https://{host}/files/report-{n}.pdf"
        body = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
        http = _http("200 OK", [("Content-Type", "application/pdf")], body)
    elif kind == "jpeg":
        url = f"https://{host}/images/photo-{n}.jpg"
        body = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
        http = _http("200 OK", [("Content-Type", "image/jpeg")], body)
    elif kind == "404":
        url = f"https://{host}/world/missing-{n}"
        body = (
            b"<html><head><title>Not found</title></head><body><article><p>The page you were "
            b"looking for could not be found. It may have been moved or deleted by the "
            b"editors of this site some time ago.</p></article></body></html>"
        )
        http = _http("404 Not Found", [("Content-Type", "text/html; charset=utf-8")], body)
    else:
        url = f"https://{host}/r/{n}"
        http = _http(
            "301 Moved Permanently",
            [("Location", f"https://{host}/world/story-{n}"), ("Content-Length", "0")],
            b"",
        )
    out.fetch(url, date, http)
    return {"url": url, "file": name, "kind": kind}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="folder to write the WARC files into")
    ap.add_argument("--articles", type=int, required=True, help="HTML article pages")
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plain", action="store_true", help="uncompressed .warc files")
    ap.add_argument("--truth", type=Path, help="write the ground truth here (JSON)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    truth = write_warc_corpus(
        args.out, args.articles, files=args.files, seed=args.seed, gz=not args.plain
    )
    took = time.perf_counter() - t0
    size = sum((args.out / f).stat().st_size for f in truth["files"])
    if args.truth:
        args.truth.write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    print(
        f"{len(truth['pages']):,} article pages and {len(truth['others']):,} other responses in "
        f"{len(truth['files'])} files, {size / 1e6:.1f} MB "
        f"({size / len(truth['pages']):,.0f} bytes/article), {took:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
