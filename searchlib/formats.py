"""Results as JSON documents, CSV rows and terminal text: the forms the command line prints and
the web API sends, made in one place so that they stay the same.

Everything that came from articles is made safe for where it lands. Text is always valid UTF-8:
a lone surrogate (from bytes that were not UTF-8) becomes U+FFFD. A CSV cell that a spreadsheet
would run as a formula (one starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return)
gets a leading ``'``, as OWASP's CSV-injection rule says. Text for a terminal shows control
characters and bidirectional overrides as visible symbols instead of letting them act (colours,
clearing the screen, setting the window title, reordering the line).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .models import Entity, Hit, SearchResult, Snippet, Timeline

__all__ = [
    "CSV_COLUMNS",
    "result_json",
    "hit_json",
    "timeline_json",
    "csv_header",
    "csv_row",
    "safe",
    "for_terminal",
    "spreadsheet_safe",
]

CSV_COLUMNS = ("rank", "id", "title", "date", "url", "score", "snippet", "entities", "similar")

_SURROGATES = re.compile("[\ud800-\udfff]")
# C0 and C1 control characters but for tab and newline, and the bidirectional controls.
_UNSAFE_ON_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(text: str) -> str:
    """``text`` as valid UTF-8: each lone surrogate replaced by U+FFFD."""
    return _SURROGATES.sub("\ufffd", text) if _SURROGATES.search(text) else text


def for_terminal(text: str) -> str:
    """``text`` to show on a terminal: control characters as their visible symbols (ESC as
    ``␛``), bidirectional controls as ``<U+202E>``."""
    return _UNSAFE_ON_TERMINAL.sub(_visible, safe(text))


def _visible(found: re.Match[str]) -> str:
    char = found.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def spreadsheet_safe(cell: str) -> str:
    """A CSV cell that no spreadsheet runs as a formula (OWASP: a leading ``'``)."""
    cell = safe(cell)
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _entity_json(entity: Entity) -> dict[str, str]:
    return {"name": safe(entity.name), "kind": entity.kind}


def _snippet_json(snippet: Snippet) -> dict[str, Any]:
    return {"text": safe(snippet.text), "highlights": [list(span) for span in snippet.spans]}


def hit_json(hit: Hit) -> dict[str, Any]:
    """One hit as ``search --json`` and the web API give it."""
    document: dict[str, Any] = {
        "rank": hit.rank,
        "id": safe(hit.id),
        "title": safe(hit.title),
        "date": _iso(hit.date),
        "url": safe(hit.url),
        "path": safe(hit.path),
        "score": round(hit.score, 4),
        "snippet": _snippet_json(hit.snippet),
        "title_highlights": [list(span) for span in hit.title_snippet.spans],
        "entities": [_entity_json(entity) for entity in hit.entities],
        "similar": [safe(similar) for similar in hit.similar],
    }
    if hit.explanation:
        document["explanation"] = [
            {"field": p.field, "term": safe(p.term), "weight": p.weight, "score": round(p.score, 4)} for p in hit.explanation
        ]
    return document


def result_json(result: SearchResult, *, hits: bool = True) -> dict[str, Any]:
    """A search result as ``search --json`` gives it (``hits`` False leaves the hits out, for a
    caller that streams them)."""
    document: dict[str, Any] = {
        "query": safe(result.query),
        "match": result.match,
        "total": result.total,
        "some_words": result.some_words,
        "stories": result.total if result.stories is None else result.stories,
        "page": result.page,
        "pages": result.pages,
        "limit": result.limit,
        "suggestion": None if result.suggestion is None else safe(result.suggestion),
        "notices": list(result.notices),
    }
    if hits:
        document["hits"] = [hit_json(hit) for hit in result.hits]
    if result.facets:
        document["facets"] = {
            kind: [{"name": safe(v.name), "count": v.count} for v in values] for kind, values in result.facets.items()
        }
    return document


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    return {
        "query": safe(timeline.query),
        "by": timeline.by,
        "total": timeline.total,
        "some_words": timeline.some_words,
        "undated": timeline.undated,
        "notices": list(timeline.notices),
        "buckets": [{"period": b.period, "count": b.count} for b in timeline.buckets],
    }


def csv_header() -> str:
    return _csv_line(CSV_COLUMNS)


def csv_row(hit: Hit) -> str:
    """A hit as a CSV line: the snippet as plain text, entities as ``kind:name; ...``, similar
    ids separated by spaces, every cell safe from spreadsheet formulas."""
    entities = "; ".join(f"{e.kind}:{e.name}" for e in hit.entities)
    cells = [str(hit.rank), hit.id, hit.title, _iso(hit.date) or "", hit.url, f"{hit.score:.4f}", hit.snippet.text,
             entities, " ".join(hit.similar)]
    return _csv_line(spreadsheet_safe(cell) for cell in cells)


def _csv_line(cells: Iterable[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(list(cells))
    return out.getvalue()
