"""Query parameters, read and bounded, into the options ``Index.search`` and its kin take.

The names are those of ``search``'s options: ``q`` (the query), ``page``, ``limit``, ``sort``,
``since``, ``until``, ``person``, ``place`` and ``org`` (repeatable), ``any``, ``strict``,
``facets``, ``facet_limit``, ``explain``, ``all``, and ``by`` for timelines. Every value a
client can send is bounded here, before the library sees it: the query's length, the page
size, how deep pages go, the number and length of filters, so that no request can ask the
server for unbounded work. A value that cannot be used is a ``BadParameter`` naming the
parameter, which the routes answer with 400.

A ``Search`` is also the page's whole state: ``Search.query_string`` writes it back into a URL
(defaults left out), so every link of the page is the current search with one thing changed.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlencode

import attrs

import searchlib
from searchlib import formats

__all__ = ["BadParameter", "Search", "read_search", "read_timeline_period", "read_article_id", "MAX_QUERY_CHARS",
           "MAX_LIMIT", "MAX_PAGE", "MAX_HITS_DEEP"]

#: The longest query accepted, in characters (the library's own limit is far higher).
MAX_QUERY_CHARS = 2_000
#: The most hits on one page.
MAX_LIMIT = 100
#: The highest page number, and how deep into the hits pages may go (page times limit).
MAX_PAGE = 1_000
MAX_HITS_DEEP = 10_000
#: Filters of one kind, and the length of one filter value or date.
MAX_FILTERS = 10
MAX_VALUE_CHARS = 200
#: The most names of each kind a facet lists.
MAX_FACET_LIMIT = 50
#: The longest article id looked up.
MAX_ID_CHARS = 1_000

SORTS = ("relevance", "newest", "oldest")
PERIODS = ("year", "month", "day")
_TRUE = {"", "1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class BadParameter(ValueError):
    """A query parameter whose value cannot be used; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class Params(Protocol):
    """What is read from a request's query string (Starlette's ``QueryParams`` is one)."""

    def getlist(self, key: str) -> list[str]: ...


@attrs.frozen
class Search:
    """A search as the page and the API ask for it, every value already bounded."""

    query: str = ""
    page: int = 1
    limit: int = 10
    sort: str = "relevance"
    since: str | None = None
    until: str | None = None
    person: tuple[str, ...] = ()
    place: tuple[str, ...] = ()
    organization: tuple[str, ...] = ()
    any_words: bool = False
    strict: bool = False
    facets: bool = False
    facet_limit: int = 10
    explain: bool = False
    all_copies: bool = False

    def filters(self) -> dict[str, Any]:
        """The date and entity filters, as ``Index.search`` and ``Index.timeline`` take them."""
        return dict(since=self.since, until=self.until, person=self.person, place=self.place,
                    organization=self.organization)

    def search_options(self) -> dict[str, Any]:
        """Keyword arguments of ``Index.search`` (the query apart)."""
        return dict(limit=self.limit, page=self.page, sort=self.sort, facets=self.facets, facet_limit=self.facet_limit,
                    explain=self.explain, fold_duplicates=not self.all_copies, match="any" if self.any_words else "all",
                    strict=self.strict, **self.filters())

    def more_like_options(self) -> dict[str, Any]:
        """Keyword arguments of ``Index.more_like`` (the id apart)."""
        return dict(limit=self.limit, page=self.page, sort=self.sort, facets=self.facets, explain=self.explain,
                    fold_duplicates=not self.all_copies, **self.filters())

    def timeline_options(self) -> dict[str, Any]:
        """Keyword arguments of ``Index.timeline`` (the query and the period apart)."""
        return dict(match="any" if self.any_words else "all", strict=self.strict, **self.filters())

    @property
    def has_filters(self) -> bool:
        return bool(self.since or self.until or self.person or self.place or self.organization)

    def query_string(self, **changes: Any) -> str:
        """This search with ``changes`` as a URL query string, defaults left out; a change of
        anything but the page goes back to the first page."""
        if changes and "page" not in changes:
            changes["page"] = 1
        search = attrs.evolve(self, **changes)
        pairs: list[tuple[str, Any]] = [("q", search.query)]
        for name, value, default in (("sort", search.sort, "relevance"), ("since", search.since, None),
                                     ("until", search.until, None)):
            if value != default:
                pairs.append((name, value))
        pairs += [("person", name) for name in search.person]
        pairs += [("place", name) for name in search.place]
        pairs += [("org", name) for name in search.organization]
        for name, flag in (("any", search.any_words), ("strict", search.strict), ("all", search.all_copies)):
            if flag:
                pairs.append((name, "1"))
        if search.limit != 10:
            pairs.append(("limit", search.limit))
        if search.page != 1:
            pairs.append(("page", search.page))
        return urlencode(pairs)

    def adding(self, kind: str, name: str) -> str:
        """The query string with one more entity filter of ``kind``."""
        present = getattr(self, kind)
        return self.query_string(**{kind: present if name in present else (*present, name)})

    def removing(self, kind: str, name: str) -> str:
        """The query string without the entity filter ``name`` of ``kind``."""
        return self.query_string(**{kind: tuple(value for value in getattr(self, kind) if value != name)})


def read_search(params: Params, *, need_query: bool = True, facets: bool | None = None) -> Search:
    """The search that ``params`` ask for.

    Args:
        need_query: the query ``q`` must be given (not for "more like this").
        facets: the facets, whatever the parameters say (the page always shows them).

    Raises:
        BadParameter: a value is missing, out of bounds or not understood.
    """
    query = _text(params, "q", MAX_QUERY_CHARS) or ""
    if need_query and not query.strip():
        raise BadParameter("q", "Give a query: q=words to search for")
    limit = _number(params, "limit", 10, 1, MAX_LIMIT)
    page = _number(params, "page", 1, 1, MAX_PAGE)
    if page * limit > MAX_HITS_DEEP:
        raise BadParameter("page", f"Pages go {MAX_HITS_DEEP:,} hits deep at most: page {page} of {limit} hits "
                                   f"is past hit {MAX_HITS_DEEP:,}; narrow the search instead")
    sort = _text(params, "sort", 20) or "relevance"
    if sort not in SORTS:
        raise BadParameter("sort", f"Unknown sort {_shown(sort)}: use {', '.join(SORTS)}")
    return Search(
        query=query, page=page, limit=limit, sort=sort,
        since=_period(params, "since"), until=_period(params, "until"),
        person=_names(params, "person"), place=_names(params, "place"),
        organization=_names(params, "org") + _names(params, "organization"),
        any_words=_flag(params, "any"), strict=_flag(params, "strict"),
        facets=_flag(params, "facets") if facets is None else facets,
        facet_limit=_number(params, "facet_limit", 10, 1, MAX_FACET_LIMIT),
        explain=_flag(params, "explain"), all_copies=_flag(params, "all"),
    )


def read_timeline_period(params: Params) -> str | None:
    """The ``by`` parameter of a timeline: ``year``, ``month``, ``day``, or ``None`` (chosen by
    the span)."""
    by = _text(params, "by", 20) or None
    if by is not None and by not in PERIODS:
        raise BadParameter("by", f"Unknown period {_shown(by)}: use {', '.join(PERIODS)}")
    return by


def read_article_id(article_id: str) -> str:
    """An article id from a URL, bounded. It is only ever looked up in the index, never used as
    a path, so ``../`` in it is just characters."""
    if not article_id or len(article_id) > MAX_ID_CHARS:
        raise BadParameter("id", f"An article id is 1 to {MAX_ID_CHARS:,} characters long")
    return formats.safe(article_id)


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def _text(params: Params, name: str, most: int) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise BadParameter(name, f"Give {name} once")
    if not values:
        return None
    value = formats.safe(values[0])
    if len(value) > most:
        raise BadParameter(name, f"{name} is {len(value):,} characters long; the most is {most:,}")
    return value


def _number(params: Params, name: str, default: int, least: int, most: int) -> int:
    value = _text(params, name, 20)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadParameter(name, f"{name} must be a whole number from {least} to {most:,}, not {_shown(value)}") from None
    if not least <= number <= most:
        raise BadParameter(name, f"{name} must be from {least} to {most:,}, not {number:,}")
    return number


def _flag(params: Params, name: str) -> bool:
    value = _text(params, name, 10)
    if value is None:
        return False
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise BadParameter(name, f"{name} is 1 or 0 (true or false), not {_shown(value)}")


def _period(params: Params, name: str) -> str | None:
    value = (_text(params, name, MAX_VALUE_CHARS) or "").strip()
    if not value:
        return None
    try:
        searchlib.parse_period(value)
    except ValueError as error:
        raise BadParameter(name, f"{name}: {error}") from None
    return value


def _names(params: Params, name: str) -> tuple[str, ...]:
    values = [formats.safe(value).strip() for value in params.getlist(name)]
    values = [value for value in values if value]
    if len(values) > MAX_FILTERS:
        raise BadParameter(name, f"At most {MAX_FILTERS} {name} filters")
    for value in values:
        if len(value) > MAX_VALUE_CHARS:
            raise BadParameter(name, f"A {name} filter is {len(value):,} characters long; the most is {MAX_VALUE_CHARS}")
    return tuple(dict.fromkeys(values))

