"""The documentation site: `mkdocs build --strict` passes, fails on a planted fault, and every
page of the nav renders in the real Chromium.

The site is built once per module from the repository (mkdocs.yml, README.md as the front
page, docs/), served by `http.server` on 127.0.0.1 and opened with Playwright in Debian's
Chromium (tests/browser.py): each page loads with no console error and no failed request, each
image has pixels, the search box finds a word, and the CLI page shows every command of the
typer app. The strict build is shown to fail, in a copy, on a broken link (in a page and in
the README), a page left out of the nav and a stale CLI page. The README's and pages' relative
links are also resolved as GitHub resolves them, file by file, without MkDocs.

Set CORPUS_SCREENSHOT_DIR=docs/img to refresh docs/img/site-front.png (the front page) and
docs/img/site-annotator-guide.png (the annotator's guide, once it is in the nav).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from browser import (  # noqa: F401  (the fixtures: browser_page, playwright_session)
    fixture_browser_page,
    fixture_playwright_session,
    screenshot_dir,
)
from conftest import REPO
from playwright.sync_api import Page

from corpus_tools.cli import _reference

# The banners some MkDocs plugins print about MkDocs 2 (they are not warnings of the build).
QUIET = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
SITE_FILES = ("mkdocs.yml", "README.md", "docs")
ANNOTATOR_GUIDE = "guides/annotator.md"
SEARCH_WORD = "pseudonym"  # on the maintainers' page (the pull's key), not on the front page


def mkdocs_build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` of the project at `root` into `site`."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root,
        env={**os.environ, **QUIET},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def nav_pages(config: Path) -> list[str]:
    """Every Markdown page of the nav in mkdocs.yml, in order."""
    pages: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            pages.append(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(yaml.safe_load(config.read_text(encoding="utf-8"))["nav"])
    return pages


def page_url(page: str) -> str:
    """The page's address under the site root (`use_directory_urls`)."""
    if page == "index.md":
        return ""
    return page.removesuffix(".md").removesuffix("/index") + "/"


@pytest.fixture(scope="module", name="site")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    built = mkdocs_build(REPO, site)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-5000:]
    return site


@pytest.fixture(scope="module", name="served")
def fixture_served(site: Path) -> Iterator[str]:
    """The built site over HTTP on a free loopback port; its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_strict_build_writes_every_nav_page(site: Path) -> None:
    pages = nav_pages(REPO / "mkdocs.yml")
    for page in pages:
        html = site / page_url(page) / "index.html"
        assert html.is_file(), f"{page}: no {html.relative_to(site)}"
    # Every Markdown file under docs/ is a page of the nav (strict fails on one left out; this
    # says which, and catches a nav that lists a page twice).
    on_disk = sorted(p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*.md"))
    assert sorted(pages) == on_disk
    # The CLI page is generated from the typer app, not copied from an old build.
    cli = (site / "cli" / "index.html").read_text(encoding="utf-8")
    for name, _ in _reference.iter_commands():
        assert f"<code>{name}</code>" in cli, name


def _copy(tmp_path: Path) -> Path:
    """A copy of what the site is built from; the library is the installed one."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in SITE_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name)
        else:
            shutil.copy2(src, root / name)
    (root / "corpus_tools").symlink_to(REPO / "corpus_tools", target_is_directory=True)
    return root


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _stale_cli(root: Path) -> None:
    page = root / "docs" / "cli.md"
    text = page.read_text(encoding="utf-8")
    first = re.search(r"^  -q, --quiet .*$", text, re.M)
    assert first, "no --quiet option line in docs/cli.md"
    page.write_text(text.replace(first.group(0), "  -q, --quiet  Say it all twice.", 1))


PLANTED: dict[str, tuple[Callable[[Path], None], str]] = {
    "broken link in a page": (
        lambda root: _append(root / "docs" / "ci.md", "\nSee [the old page](no-such-page.md).\n"),
        "no-such-page.md",
    ),
    "broken anchor": (
        lambda root: _append(root / "docs" / "ci.md", "\nSee [gates](maintainers.md#no-gates).\n"),
        "no-gates",
    ),
    "broken link in the README": (
        lambda root: _append(root / "README.md", "\n- [Gone](docs/gone.md)\n"),
        "gone.md",
    ),
    "page left out of the nav": (
        lambda root: (root / "docs" / "orphan.md").write_text("# Orphan\n", encoding="utf-8"),
        "orphan.md",
    ),
    "stale CLI page": (_stale_cli, "docs/cli.md is stale"),
}


def test_strict_build_of_an_untouched_copy_passes(tmp_path: Path) -> None:
    """The copy the faults are planted in builds as it is (so each failure below is the fault's)."""
    built = mkdocs_build(_copy(tmp_path), tmp_path / "site")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-5000:]


@pytest.mark.parametrize("fault", sorted(PLANTED))
def test_strict_build_fails_on_a_planted_fault(tmp_path: Path, fault: str) -> None:
    root = _copy(tmp_path)
    plant, expected = PLANTED[fault]
    plant(root)
    built = mkdocs_build(root, tmp_path / "site")
    out = built.stdout + built.stderr
    assert built.returncode != 0, out[-3000:]
    # The fault is named in a warning (or what follows it: the omitted pages come as a list).
    first = min((i for i in (out.find("WARNING"), out.find("ERROR")) if i >= 0), default=-1)
    assert first >= 0 and expected in out[first:], out[-3000:]


LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_relative_links_resolve_as_on_github() -> None:
    """Each relative link of README.md and docs/*.md names a file that exists (GitHub's view)."""
    broken = []
    sources = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    for source in sources:
        text = source.read_text(encoding="utf-8")
        text = re.sub(r"```.*?```", "", text, flags=re.S)  # links in code are not links
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = target.split("#", 1)[0]
            if not (source.parent / path).exists():
                broken.append(f"{source.relative_to(REPO)}: {target}")
    assert not broken, broken
    assert len(sources) >= 10


@pytest.mark.browser
def test_every_page_renders_in_chromium(served: str, browser_page: Page) -> None:
    page = browser_page
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} {r.failure}"))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    images = 0
    for md in nav_pages(REPO / "mkdocs.yml"):
        response = page.goto(served + page_url(md), wait_until="networkidle")
        assert response is not None and response.ok, md
        assert page.locator("article h1").count() == 1, f"{md}: no title"
        bad = page.evaluate(
            "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
            ".map(i => i.getAttribute('src'))"
        )
        assert bad == [], f"{md}: images without pixels: {bad}"
        images += page.evaluate("document.images.length")
        assert problems == [], f"{md}: {problems}"
    assert images > 0  # the annotators' screenshots are on a page of the nav

    # The search box finds a word of another page.
    page.goto(served, wait_until="networkidle")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator(".md-search__input").press_sequentially(SEARCH_WORD, delay=50)
    hits = page.locator(".md-search-result__item a")
    hits.first.wait_for(timeout=20_000)
    hrefs = hits.evaluate_all("links => links.map(a => a.href)")
    assert any("/maintainers/" in h for h in hrefs), hrefs

    # The CLI page names every command of the typer app in a heading.
    page.goto(served + "cli/", wait_until="networkidle")
    headings = page.locator("article h2 code").all_inner_texts()
    commands = [name for name, _ in _reference.iter_commands()]
    assert sorted(commands) == sorted(set(headings) & set(commands)), headings
    assert len(commands) >= 10
    assert problems == [], problems


@pytest.mark.browser
def test_screenshots(served: str, browser_page: Page) -> None:
    """The front page (and the annotator's guide, once it is in the nav) as PNG images."""
    shots = screenshot_dir()
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 1000})
    targets = {"site-front.png": ""}
    if ANNOTATOR_GUIDE in nav_pages(REPO / "mkdocs.yml"):
        targets["site-annotator-guide.png"] = page_url(ANNOTATOR_GUIDE)
    for name, url in targets.items():
        page.goto(served + url, wait_until="networkidle")
        page.evaluate("document.fonts.ready")
        png = page.screenshot()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, name
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            (shots / name).write_bytes(png)
