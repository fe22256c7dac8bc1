"""The annotator's gestures in the real Label Studio UI, driven by Playwright in Debian's Chromium.

Playwright's own browser download cannot work on a closed network, so the tests launch the
Debian package's `chromium` through `executable_path`, with the flags that keep headless
Chromium quiet offline (no background networking, component updates or sync) and a fresh,
empty profile folder per test.

Everything is done as a person would: log in through the form, click a label chip, drag the
mouse across the words, click a region, pick choices, type, submit. Character positions are
turned into screen positions by walking the rendered text (`_LOCATE_JS`): Label Studio draws
each `\\r` and `\\n` of the task text as a `<br>`, and JavaScript counts UTF-16 units, so the
walk counts code points and line breaks to land on Python's `text[start:end]`.

    from browser import fixture_annotator, fixture_browser_page, fixture_playwright_session

    def test_x(annotator: LabelingPage):        # a logged-out page on a fresh profile
        annotator.login(url, email, password)
        annotator.open_task(project_id, task_id, text)
        annotator.pick_label("PER"); annotator.select_text(10, 26)
"""

from __future__ import annotations

import os
import re
import shutil
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Playwright, sync_playwright

CHROMIUM = Path(
    os.environ.get("CORPUS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)
# From the tool library's notes on this kind of machine: without the background-networking
# flags Chromium keeps opening connections that the closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1400}  # tall enough for an article and its questions
TIMEOUT_MS = 20_000
DOUBLE_CLICK_MS = 600  # a little over Chromium's double-click interval (500 ms)
# Set to a folder (e.g. docs) to have the tests save the README's screenshots there.
SCREENSHOT_ENV = "CORPUS_SCREENSHOT_DIR"

# Label Studio's editor draws random values: each new region's id (shown in the Info panel as
# "ID NQRQFh2FFK") and a user's avatar colour. Seeded here, before any of the page's scripts
# run, with a fixed xorshift sequence for Math.random and crypto.getRandomValues (and
# randomUUID, built on it), so that two runs draw the same page and a refreshed screenshot
# is the same file unless the page really changed (tests/test_browser.py compares two).
SEED_RANDOM_JS = """
(() => {
  let s = 0x2545f491;
  const next32 = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
  Math.random = () => next32() / 4294967296;
  const fill = (arr) => {
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    for (let i = 0; i < bytes.length; i++) bytes[i] = next32() & 0xff;
    return arr;
  };
  crypto.getRandomValues = fill;
  crypto.randomUUID = () => {
    const b = fill(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map(x => x.toString(16).padStart(2, '0')).join('');
    const part = (a, b) => h.slice(a, b);
    return [part(0, 8), part(8, 12), part(12, 16), part(16, 20), part(20)].join('-');
  };
})();
"""

# Screen boxes of the first and last character of text[start:end] in the rendered task text.
_LOCATE_JS = """
([start, end]) => {
  const root = document.querySelector('.lsf-htx-richtext');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
  const box = (node, unit, len) => {
    const r = document.createRange();
    r.setStart(node, unit); r.setEnd(node, unit + len);
    const b = r.getBoundingClientRect();
    return {x: b.x, y: b.y, w: b.width, h: b.height};
  };
  let cp = 0, first = null, last = null;
  while (walker.nextNode()) {
    const n = walker.currentNode;
    if (n.nodeType === 1) { if (n.tagName === 'BR') cp += 1; continue; }
    let unit = 0;
    for (const ch of n.data) {            // iterates code points, not UTF-16 units
      if (cp === start) first = box(n, unit, ch.length);
      if (cp === end - 1) last = box(n, unit, ch.length);
      cp += 1; unit += ch.length;
    }
  }
  return {first, last, length: cp};
}
"""

# Every highlighted region drawn in the text: one entry per region, its segments merged.
# Label Studio 1.23 puts the region's offsets on the element (data-start, data-end); older
# releases (1.14 to 1.20) do not, so they are also counted from the text the region wraps,
# walking the text as _LOCATE_JS does (code points, one per <br>), and used when missing.
_HIGHLIGHTS_JS = """
() => {
  const out = {};
  const root = document.querySelector('.lsf-htx-richtext');
  const spans = new Map();
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
  let cp = 0;
  while (walker.nextNode()) {
    const n = walker.currentNode;
    if (n.nodeType === 1) { if (n.tagName === 'BR') cp += 1; continue; }
    const len = [...n.data].length;
    spans.set(n, [cp, cp + len]);
    cp += len;
  }
  for (const el of document.querySelectorAll('.lsf-htx-richtext .htx-highlight')) {
    const key = [...el.classList].find(c => /^htx-highlight-.+/.test(c));
    const r = el.getBoundingClientRect();
    const seg = {x: r.x, y: r.y, w: r.width, h: r.height};
    const o = out[key] || (out[key] = {
      segments: [], text: '', label: null, start: null, end: null,
      background: getComputedStyle(el).backgroundColor});
    o.segments.push(seg);
    // only the text directly inside this region, not inside regions nested in it
    o.text += [...el.childNodes].map(c => c.nodeType === 3 ? c.data : c.textContent).join('');
    if (el.dataset.label) o.label = el.dataset.label;
    if (el.dataset.start !== undefined) o.start = Number(el.dataset.start);
    if (el.dataset.end !== undefined) o.end = Number(el.dataset.end);
    for (const [n, [a, b]] of spans) {
      if (!el.contains(n) || a === b) continue;
      o.walkStart = Math.min(o.walkStart ?? a, a);
      o.walkEnd = Math.max(o.walkEnd ?? b, b);
    }
  }
  for (const o of Object.values(out)) {
    if (o.start === null) o.start = o.walkStart ?? null;
    if (o.end === null) o.end = o.walkEnd ?? null;
    delete o.walkStart; delete o.walkEnd;
  }
  return Object.values(out);
}
"""


_REGION_COUNT_JS = """
() => new Set([...document.querySelectorAll('.lsf-htx-richtext .htx-highlight')]
  .map(el => [...el.classList].find(c => /^htx-highlight-.+/.test(c)))).size
"""


# Is the region drawn at this point selected?
_ACTIVE_AT_JS = """
([x, y]) => {
  const el = document.elementFromPoint(x, y);
  const hl = el && el.closest('.htx-highlight');
  return !!hl && hl.classList.contains('__active');
}
"""


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle on the page, in CSS pixels."""

    x: float
    y: float
    w: float
    h: float

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)


@dataclass(frozen=True, slots=True)
class Highlight:
    """A region as the page draws it: label, code-point offsets, text shown, boxes, colour."""

    label: str
    start: int
    end: int
    text: str
    segments: tuple[Box, ...]
    background: str


def shown(text: str) -> str:
    """`text` as the page shows it: each line break is a `<br>`, not a character."""
    return text.replace("\r", "").replace("\n", "")


def choice_headers(label_config: str) -> dict[str, str]:
    """For each `<Choices>` control, the `<Header>` written just before it (its question)."""
    out: dict[str, str] = {}
    for view in ET.fromstring(label_config).iter("View"):
        header: str | None = None
        for child in view:
            if child.tag == "Header":
                header = child.get("value")
            elif child.tag == "Choices" and header is not None:
                out[child.get("name", "")] = header
    return out


class LabelingPage:
    """One annotator's browser tab on the Label Studio labeling interface."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.text = ""
        self.errors: list[str] = []
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    # -- navigation --------------------------------------------------------------------------
    def login(self, url: str, email: str, password: str) -> None:
        """Log in through the sign-in form."""
        self.url = url.rstrip("/")
        self.page.goto(f"{self.url}/user/login/")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", password)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")
        if "/user/login" in self.page.url:
            raise AssertionError(f"login as {email} failed: still on {self.page.url}")

    def open_task(self, project_id: int, task_id: int, text: str) -> None:
        """Open a task in the labeling stream and wait until its text is drawn in full."""
        self.text = text
        self.page.goto(f"{self.url}/projects/{project_id}/data?task={task_id}")
        self.page.wait_for_selector(".lsf-htx-richtext .lsf-richtext__line")
        self.page.wait_for_load_state("networkidle")
        drawn = self._locate(0, 1)["length"]
        assert drawn == len(text), f"page draws {drawn} characters, task text has {len(text)}"

    # -- reading the page --------------------------------------------------------------------
    def _locate(self, start: int, end: int) -> dict[str, Any]:
        return dict(self.page.evaluate(_LOCATE_JS, [start, end]))

    def char_boxes(self, start: int, end: int) -> tuple[Box, Box]:
        """Boxes of the first and the last character of `text[start:end]`."""
        found = self._locate(start, end)
        if found["first"] is None or found["last"] is None:
            raise AssertionError(f"[{start}, {end}) is not on the page")
        return Box(**found["first"]), Box(**found["last"])

    def highlights(self) -> list[Highlight]:
        """Every region drawn in the text, in document order."""
        out = []
        for h in self.page.evaluate(_HIGHLIGHTS_JS):
            label = (h["label"] or "").split(":", 1)[-1]
            boxes = tuple(Box(**s) for s in h["segments"])
            out.append(Highlight(label, h["start"], h["end"], h["text"], boxes, h["background"]))
        return out

    def wait_for_regions(self, n: int) -> None:
        """Wait until at least `n` regions are drawn (pre-annotations load after the text)."""
        self.page.wait_for_function(f"n => ({_REGION_COUNT_JS})() >= n", arg=n)

    def region_count(self) -> int:
        """Regions drawn in the text (the side panel's list is virtual: it shows a few)."""
        return int(self.page.evaluate(_REGION_COUNT_JS))

    # -- gestures ----------------------------------------------------------------------------
    def pick_label(self, label: str, *, hotkey: str | None = None) -> None:
        """Make `label` the active label: press its hotkey, else click its chip.

        Any selected region is unselected first (a label picked while a region is selected
        relabels that region instead).
        """
        self.page.keyboard.press("Escape")
        name = re.compile(rf"^{re.escape(label)}$")
        chip = self.page.locator(
            ".lsf-label", has=self.page.locator(".lsf-label__text", has_text=name)
        )
        if hotkey:
            assert chip.locator(".lsf-label__hotkey").inner_text() == hotkey
            self.page.keyboard.press(hotkey)
        else:
            chip.click()
        self.page.wait_for_function(
            "el => el.classList.contains('lsf-label_selected')", arg=chip.element_handle()
        )

    def select_text(self, start: int, end: int) -> None:
        """Drag the mouse from the first to the last character of `text[start:end]`."""
        first, last = self.char_boxes(start, end)
        mouse = self.page.mouse
        mouse.move(first.x + 1, first.y + first.h / 2)
        mouse.down()
        mouse.move(*last.center, steps=8)
        mouse.move(last.x + last.w - 1, last.y + last.h / 2, steps=2)
        before = self.region_count()
        mouse.up()
        self.page.wait_for_function(f"n => ({_REGION_COUNT_JS})() > n", arg=before)
        # A click that follows the drag's mouse-up within the double-click interval is taken
        # as a double click and selects nothing: let it pass, as a person's hand would.
        self.page.wait_for_timeout(DOUBLE_CLICK_MS)

    def click_text(self, offset: int) -> None:
        """Click the character at `offset`."""
        box, _ = self.char_boxes(offset, offset + 1)
        self.page.mouse.click(*box.center)

    def select_region(self, offset: int) -> None:
        """Click the region drawn at `offset` until it shows as selected (at most twice).

        After a drag that began on an existing region (a claim that starts with a
        pre-annotated entity), Label Studio ignores the next click on a region; a person
        clicks again, and so does this.
        """
        box, _ = self.char_boxes(offset, offset + 1)
        for _ in range(2):
            self.page.keyboard.press("Escape")
            self.page.mouse.click(*box.center)
            self.page.wait_for_timeout(DOUBLE_CLICK_MS)
            if self.page.evaluate(_ACTIVE_AT_JS, list(box.center)):
                return
        raise AssertionError(
            f"no region at {offset} ({self.text[offset : offset + 20]!r}) selected"
        )

    def relate(self, source: int, target: int, label: str) -> None:
        """Draw a relation from the region at offset `source` to the one at `target`, label it."""
        self.select_region(source)
        self.page.click("button[aria-label='Create Relation']")
        self.click_text(target)
        self.page.click(".lsf-panel-tabs__tab:has-text('Relations')")
        item = self.page.locator(".lsf-relations__item").last
        item.hover()
        item.locator("button[aria-label='Show Relation Labels']").click()
        # 1.20 and later: Label Studio's own select (data-testid); 1.14: an antd Select.
        meta = item.locator(".lsf-relation-meta")
        meta.locator("[data-testid^=select-trigger], .ant-select-selector").first.click()
        self.page.locator(
            f"[data-testid='select-option-{label}'], "
            f".ant-select-item-option-content:text-is({_css_string(label)})"
        ).first.click()
        self.page.keyboard.press("Escape")
        shown_label = meta.locator(
            "[data-testid=select-display-value], .ant-select-selection-item"
        ).first
        assert shown_label.inner_text().strip() == label
        self.page.click(".lsf-panel-tabs__tab:has-text('Regions')")

    def choose(self, question: str, value: str) -> None:
        """Tick `value` in the choices that follow the header `question`."""
        group = self.page.locator(
            "xpath=//*[normalize-space(.)=$q]/following-sibling::div"
            "[contains(concat(' ', @class, ' '), ' lsf-choices ')][1]".replace(
                "$q", _xpath_literal(question)
            )
        )
        css = f"input[name={_css_string(value)}]"
        group.locator(".lsf-choice__checkbox", has=self.page.locator(css)).click()
        box = group.locator(css)
        assert box.is_checked(), f"{value!r} is not ticked under {question!r}"

    def type_answer(self, name: str, value: str) -> None:
        """Type into the text area control `name` and press Enter (adds the answer)."""
        field = self.page.locator(f"[name={_css_string(name)}]")
        field.fill(value)
        field.press("Enter")

    def submit(self) -> dict[str, Any]:
        """Press Submit; return the annotation the server stored."""
        with self.page.expect_response(
            lambda r: r.request.method == "POST" and "/annotations" in r.url
        ) as resp:
            self.page.click(SUBMIT_BUTTON)
        assert resp.value.status == 201, resp.value.text()
        return dict(resp.value.json())

    def screenshot(self, path: Path) -> Path:
        """The page as shown, steady: CSS animations finished, no text caret, the mouse off
        the page (no hover state); the random values are seeded (SEED_RANDOM_JS)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.mouse.move(0, 0)
        self.settle()
        self.page.screenshot(path=str(path), animations="disabled", caret="hide")
        return path

    def buttons(self) -> list[tuple[bool, float, float, float, float]]:
        """Every button's disabled state and box (x, y, width, height in screenshot pixels)."""
        found = self.page.evaluate(
            "() => [...document.querySelectorAll('button')].map(b => {"
            " const r = b.getBoundingClientRect(), k = window.devicePixelRatio;"
            " return [b.disabled, r.x * k, r.y * k, r.width * k, r.height * k]; })"
        )
        return [tuple(b) for b in found]

    def settle(self, quiet: float = 1.0, limit: float = 15.0) -> None:
        """Wait until the page has stopped changing for `quiet` seconds (at most `limit`): the
        editor enables its undo and reset buttons a moment after the regions are drawn, later
        on a loaded machine, and a screenshot taken between showed them disabled."""
        probe = (
            "() => [...document.querySelectorAll('button')].map(b => b.disabled ? 1 : 0).join('')"
            " + ':' + document.body.innerHTML.length"
        )
        start = last_change = time.monotonic()
        seen = self.page.evaluate(probe)
        while time.monotonic() - last_change < quiet and time.monotonic() - start < limit:
            self.page.wait_for_timeout(100)
            now = self.page.evaluate(probe)
            if now != seen:
                seen, last_change = now, time.monotonic()

    def same_page(self) -> LabelingPage:
        """A second tab of the same browser profile (logged in as this one), fresh scripts."""
        other = LabelingPage(self.page.context.new_page())
        other.url = self.url
        return other


# The editor's Submit button: 1.23 names it by aria-label; 1.14 to 1.20 have a plain button
# whose text is "Submit" in the bottom bar (`.lsf-controls`), beside "Submit and exit" (not
# matched: :text-is is the whole text).
SUBMIT_BUTTON = (
    "button[aria-label='Submit current annotation'], .lsf-controls button:text-is('Submit')"
)


def _xpath_literal(s: str) -> str:
    if "'" not in s:
        return f"'{s}'"
    if '"' not in s:
        return f'"{s}"'
    return "concat('" + s.replace("'", "', \"'\", '") + "')"


def _css_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# The one driver of the test session. Each test module that imports the fixture below gets its
# own session-scoped copy of it, and a second `sync_playwright()` started while the first runs
# fails ("Sync API inside the asyncio loop"): the copies share this one, and the copy that
# started it stops it when the session ends.
_DRIVER: list[Playwright] = []


@pytest.fixture(scope="session", name="playwright_session")
def fixture_playwright_session() -> Iterator[Playwright]:
    """Playwright's driver, once per test session (Chromium starts per test)."""
    if not CHROMIUM.is_file():
        message = f"no Chromium at {CHROMIUM}: apt-get install chromium (scripts/setup.sh --test)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: its absence there is a broken setup
        pytest.skip(message)
    if _DRIVER:
        yield _DRIVER[0]
        return
    with sync_playwright() as pw:
        _DRIVER.append(pw)
        try:
            yield pw
        finally:
            _DRIVER.clear()


@pytest.fixture(name="browser_page")
def fixture_browser_page(playwright_session: Playwright, tmp_path: Path) -> Iterator[Page]:
    """A page in Debian's headless Chromium with a new empty profile; closed after the test.

    A screenshot of the last state is kept in the test's tmp_path (printed on failure).
    """
    context = playwright_session.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        viewport=VIEWPORT,  # type: ignore[arg-type]
        locale="en-US",
    )
    context.add_init_script(SEED_RANDOM_JS)
    page = context.pages[0] if context.pages else context.new_page()
    try:
        yield page
    finally:
        last = tmp_path / "last-screen.png"
        try:
            page.screenshot(path=str(last))
            print(f"last screen: {last}")
        except Exception as exc:  # the page may be gone; the test's own error matters more
            print(f"no last screen: {exc}")
        context.close()


@pytest.fixture(name="annotator")
def fixture_annotator(browser_page: Page) -> LabelingPage:
    """The labeling gestures on a fresh browser page."""
    return LabelingPage(browser_page)


# Read once, at collection, while the working folder is still where pytest was started.
_SCREENSHOTS = (
    Path(os.environ[SCREENSHOT_ENV]).absolute() if os.environ.get(SCREENSHOT_ENV) else None
)


def screenshot_dir() -> Path | None:
    """Where to save the README's screenshots, when asked for (`CORPUS_SCREENSHOT_DIR`)."""
    return _SCREENSHOTS
