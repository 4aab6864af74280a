"""Value types that cross searchlib's public boundary.

Everything here is a frozen attrs class: articles read from a corpus, the entities found in them,
what a build did, and what a search found. Nothing here knows about files or Whoosh; parsing of
external data lives in the modules that read it (``corpus``, ``query``).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from pathlib import Path

import attrs

__all__ = [
    "Article",
    "Entity",
    "ENTITY_KINDS",
    "Skipped",
    "SKIPPED_EXAMPLES",
    "SKIPPED_EXAMPLES_OF_A_KIND",
    "BuildReport",
    "Snippet",
    "Hit",
    "SearchResult",
    "FacetValue",
    "ScorePart",
    "Timeline",
    "TimelineBucket",
    "IndexedArticle",
]


def naive_utc(value: datetime | None) -> datetime | None:
    """Dates are timezone-naive throughout; aware ones are first converted to UTC.

    A time that has no UTC date Python can hold (``9999-12-31T23:59:59-14:00`` is in the year
    10000) is ``None``, unknown, as a date that cannot be read is."""
    if value is not None and value.tzinfo is not None:
        try:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:
            return None
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(value: str) -> str:
    """``value`` with each lone surrogate replaced by U+FFFD, the replacement character.

    Lone surrogates come from ``\\ud800`` escapes in JSON and from the bytes of a file name
    that are not UTF-8 (Python decodes those as surrogates); no UTF-8 output can hold them, so
    they are replaced where text enters searchlib: the same input always gives the same text,
    and so the same id."""
    return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value


@attrs.frozen
class Article:
    """One news article as read from the corpus.

    ``id`` is stable across builds: the path relative to the corpus root for article files,
    the ``id`` key for JSON Lines records. ``date`` is ``None`` when unknown. Lone surrogates in
    the text fields are replaced (``valid_text``), so every article can be written as UTF-8.
    """

    id: str = attrs.field(converter=valid_text)
    title: str = attrs.field(converter=valid_text)
    body: str = attrs.field(converter=valid_text)
    date: datetime | None = attrs.field(default=None, converter=naive_utc)
    url: str = attrs.field(default="", converter=valid_text)
    caption: str = attrs.field(default="", converter=valid_text)
    path: str = attrs.field(default="", converter=valid_text)


ENTITY_KINDS = ("person", "organization", "place")


@attrs.frozen
class Entity:
    """A named entity mentioned in an article: ``kind`` is ``person``, ``organization`` or ``place``."""

    name: str
    kind: str = attrs.field(validator=attrs.validators.in_(ENTITY_KINDS))


@attrs.frozen
class Skipped:
    """An input that was not indexed, and why (``line`` is 1-based, for JSON Lines records).

    ``kind`` names the reason for counting (``BuildReport.skipped_reasons``): ``unreadable``
    (a file or folder that cannot be read, a damaged gzip file), ``special-file`` (a FIFO,
    device or socket: never opened), ``outside-corpus`` (a symbolic link that leaves the
    corpus), ``too-large`` (a file or line over ``corpus.MAX_ARTICLE_BYTES``), ``too-deep``
    (JSON nested deeper than ``corpus.MAX_JSON_NESTING``), ``binary``, ``not-utf8``, ``empty``,
    ``not-json``, ``not-object``, ``no-id``, ``bad-field``, ``no-text``, ``duplicate-id``,
    ``not-indexed`` (the article's analysis failed), or ``other``."""

    path: str = attrs.field(converter=valid_text)
    reason: str = attrs.field(converter=valid_text)
    line: int | None = None
    kind: str = "other"

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.reason}"


#: The skipped inputs a report lists, and a build logs, one by one: the first thousand. Beyond
#: them only counts are kept, so that a corpus of millions of bad lines (a gzip file of one
#: repeated line) costs neither memory nor gigabytes of log.
SKIPPED_EXAMPLES = 1_000
#: Of one kind, only the first hundred are listed: a flood of one kind (three million repeated
#: ids) would otherwise fill the list before the one file too large or too deep came up.
SKIPPED_EXAMPLES_OF_A_KIND = 100


def _count_skipped(report: BuildReport) -> int:
    return len(report.skipped)


def _count_reasons(report: BuildReport) -> dict[str, int]:
    return dict(Counter(item.kind for item in report.skipped))


@attrs.frozen
class BuildReport:
    """What a build or an update (``kind``) did: articles added, updated and removed, the inputs
    skipped, how long it took, and the corpus it read.

    ``skipped`` lists the first ``SKIPPED_EXAMPLES`` inputs skipped, at most
    ``SKIPPED_EXAMPLES_OF_A_KIND`` of each kind; ``skipped_count`` counts them all, and
    ``skipped_reasons`` counts them by ``Skipped.kind``."""

    index: Path
    added: int
    skipped: tuple[Skipped, ...] = ()
    updated: int = 0
    removed: int = 0
    seconds: float = 0.0
    kind: str = "build"
    corpus: Path | None = None
    skipped_count: int = attrs.field(default=attrs.Factory(_count_skipped, takes_self=True))
    skipped_reasons: dict[str, int] = attrs.field(default=attrs.Factory(_count_reasons, takes_self=True), hash=False)


def _as_spans(spans: Iterable[Iterable[int]]) -> tuple[tuple[int, int], ...]:
    return tuple((int(start), int(end)) for start, end in spans)


@attrs.frozen
class Snippet:
    """A piece of text with the character spans of the matched words in it.

    ``spans`` are ``(start, end)`` offsets into ``text``, sorted and non-overlapping; render the
    snippet with ``to_text`` (``[match]`` markers), ``to_ansi`` (bold on a terminal) or
    ``to_html`` (``<mark>``, the rest escaped).
    """

    text: str
    spans: tuple[tuple[int, int], ...] = attrs.field(converter=_as_spans, default=())

    def render(self, before: str, after: str, escape: Callable[[str], str] = str) -> str:
        """The text with each match between ``before`` and ``after``, the rest (and the matches)
        passed through ``escape``."""
        parts: list[str] = []
        last = 0
        for start, end in self.spans:
            parts += [escape(self.text[last:start]), before, escape(self.text[start:end]), after]
            last = end
        parts.append(escape(self.text[last:]))
        return "".join(parts)

    def to_text(self) -> str:
        """The text with each match in square brackets: ``set up [military bases] on``."""
        return self.render("[", "]")

    def to_ansi(self) -> str:
        """The text with each match in bold yellow, for a terminal."""
        return self.render("\x1b[1;33m", "\x1b[0m")

    def to_html(self) -> str:
        """HTML-escaped text with each match in ``<mark>``."""
        return self.render("<mark>", "</mark>", html.escape)

    @property
    def matches(self) -> tuple[str, ...]:
        """The matched words, as they appear in the text."""
        return tuple(self.text[a:b] for a, b in self.spans)


@attrs.frozen
class ScorePart:
    """How much one word matched in one field added to a hit's score: BM25 times ``weight``, the
    field's weight times how often the query gives the word (and any ``^`` boost)."""

    field: str
    term: str
    weight: float
    score: float


@attrs.frozen
class Hit:
    """One search result: the article's stored fields, its score and highlighted snippets.

    ``similar`` lists the ids of the other matching copies of the same story (wire repeats,
    corrections) that were folded into this hit; ``explanation`` the parts of its score.
    """

    rank: int
    score: float
    id: str
    title: str
    date: datetime | None
    url: str
    path: str
    entities: tuple[Entity, ...]
    snippet: Snippet
    title_snippet: Snippet
    explanation: tuple[ScorePart, ...] = ()
    similar: tuple[str, ...] = ()


@attrs.frozen
class FacetValue:
    """One entity and the number of matching articles that mention it."""

    name: str
    count: int


@attrs.frozen
class SearchResult:
    """The answer to a query: the exact number of articles counted and the hits of this page.

    ``total`` counts the articles with every word of the query (``match="all"``, the default),
    or with any when none has them all or ``match="any"``; ``some_words`` counts the articles
    with only some of the words, which ``total`` leaves out. ``stories`` counts them with
    near-duplicates folded (each story once), as hits are shown.

    ``suggestion`` is the query with misspelt words corrected ("Did you mean"), or ``None``;
    ``notices`` say how the query was read where it could not be read as written, or was cut.
    ``facets`` maps each entity kind (``person``, ``organization``, ``place``) to the entities
    most mentioned across all counted articles, most first; it is empty unless asked for.
    """

    query: str
    total: int
    hits: tuple[Hit, ...]
    facets: dict[str, tuple[FacetValue, ...]] = attrs.field(factory=dict)
    suggestion: str | None = None
    page: int = 1
    limit: int = 10
    stories: int | None = None
    some_words: int = 0
    notices: tuple[str, ...] = ()
    match: str = "all"

    @property
    def pages(self) -> int:
        """How many pages of ``limit`` hits there are (one hit a story when duplicates fold)."""
        return -(-(self.total if self.stories is None else self.stories) // self.limit)


@attrs.frozen
class TimelineBucket:
    """The number of matching articles dated in one year, month or day."""

    period: str
    start: date
    count: int


@attrs.frozen
class Timeline:
    """The articles a search counts, counted by period; ``undated`` ones are counted apart.
    ``some_words`` and ``notices`` are as in ``SearchResult``."""

    query: str
    by: str
    buckets: tuple[TimelineBucket, ...]
    undated: int
    total: int
    some_words: int = 0
    notices: tuple[str, ...] = ()


@attrs.frozen
class IndexedArticle:
    """One whole article as the index holds it (``Index.article``): its stored fields, the
    entities found in it and the ids of the other copies of its story (``copies``).

    ``title_snippet``, ``caption_snippet`` and ``body_snippet`` hold the whole of each field,
    their spans marking the words a query matched (none without a query)."""

    id: str
    title: str
    body: str
    date: datetime | None
    url: str
    path: str
    caption: str
    entities: tuple[Entity, ...]
    copies: tuple[str, ...]
    title_snippet: Snippet
    caption_snippet: Snippet
    body_snippet: Snippet
