"""Main text and metadata of an HTML page, with trafilatura (no regexes over markup).

trafilatura drops navigation, footers, newsletter boxes and comment sections; it keeps
in-article cross-links ("Read more: ..."), which the line rules of `clean` remove afterwards.
"""

from __future__ import annotations

import re

import lxml.html
import trafilatura
from lxml.etree import ParserError

from corpus_tools.model import Finding, RawArticle

# An XHTML page's `<?xml ... encoding="..."?>`: lxml refuses a str that declares an encoding,
# and the text is decoded already, so the declaration is dropped before parsing.
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")


def extract(html: str, *, source: str) -> RawArticle | Finding:
    """The article in one HTML page; a Finding when the page has no extractable text."""
    try:
        tree = lxml.html.document_fromstring(_XML_DECLARATION.sub("", html, count=1))
    except (ParserError, ValueError) as exc:
        return Finding("unparseable-html", "error", f"not an HTML document ({exc})", file=source)
    lang = tree.get("lang") or None
    doc = trafilatura.bare_extraction(
        tree,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        deduplicate=False,
    )
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        return Finding(
            "empty-body",
            "error",
            "no article text found in the page",
            file=source,
            hint="Check that the page holds the article itself, not a teaser or an index.",
        )
    # trafilatura puts one block per line; make blocks paragraphs, as in the other formats.
    body = "\n\n".join(line for line in text.split("\n"))
    return RawArticle(
        source=source,
        file=source,
        line=None,
        text=body,
        fmt="html",
        url=getattr(doc, "url", None) or None,
        outlet=getattr(doc, "sitename", None) or getattr(doc, "hostname", None) or None,
        title=getattr(doc, "title", None) or None,
        published=getattr(doc, "date", None) or None,
        language=lang.split("-")[0].lower() if lang else None,
    )
