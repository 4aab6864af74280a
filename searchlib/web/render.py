"""What the templates need beyond Jinja2's autoescaping: marked snippets, links that are safe to
follow, dates as people read them, and the bars of a timeline.

Article text is never trusted: it reaches a page only through ``html.escape`` (Jinja2's
autoescaping, or ``Snippet.to_html``, which escapes everything but its own ``<mark>``), and a
link is made of an article's url only when it is ``http`` or ``https``, so a ``javascript:``
url shows as text. Nothing here reads the index.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote, urlsplit

import attrs
from markupsafe import Markup

from searchlib import Snippet, Timeline

__all__ = ["marked", "paragraphs", "web_link", "day", "article_path", "Bar", "bars", "HEIGHTS"]

#: Bars are drawn in this many heights (CSS classes ``h0`` to ``h20``: no inline styles, which
#: the page's Content-Security-Policy forbids).
HEIGHTS = 20
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_CONTROL = re.compile("[\x00-\x20\x7f-\x9f]")


def marked(snippet: Snippet) -> Markup:
    """The snippet as HTML: its text escaped, its matches in ``<mark>``."""
    return Markup(snippet.to_html())


def paragraphs(snippet: Snippet) -> Iterator[Markup]:
    """A whole article's text as HTML paragraphs (split at blank lines), matches marked."""
    text = snippet.text
    start = 0
    breaks = [(found.start(), found.end()) for found in _PARAGRAPH_BREAK.finditer(text)] + [(len(text), len(text))]
    for end, next_start in breaks:
        spans = [(max(a, start) - start, min(b, end) - start) for a, b in snippet.spans if a < end and b > start]
        piece = Snippet(text[start:end], spans)
        if piece.text.strip():
            yield marked(piece)
        start = next_start


def web_link(url: str) -> str | None:
    """``url`` if it is an absolute ``http`` or ``https`` URL that a link may point to, else
    ``None`` (``javascript:``, ``data:``, relative or malformed urls are shown as text)."""
    cleaned = url.strip()
    if not cleaned or _CONTROL.search(cleaned):
        return None
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return cleaned


def day(moment: datetime | None) -> str:
    """``26 Feb 1987``, or ``undated``."""
    return f"{moment.day} {moment:%b %Y}" if moment else "undated"


def article_path(article_id: str) -> str:
    """The page of an article: its id as one path segment, every reserved character escaped."""
    return "/articles/" + quote(article_id, safe="")


@attrs.frozen
class Bar:
    """One period of a timeline as drawn: its label, count and height class (0 to ``HEIGHTS``)."""

    period: str
    count: int
    height: int


def bars(timeline: Timeline) -> list[Bar]:
    """The periods of ``timeline``, each with its height relative to the highest."""
    peak = max((bucket.count for bucket in timeline.buckets), default=0)
    return [Bar(b.period, b.count, -(-b.count * HEIGHTS // peak) if peak else 0) for b in timeline.buckets]
