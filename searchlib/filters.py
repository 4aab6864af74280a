"""The filters of a search: a date span (``since``/``until``) and the entities an article must
mention (``person``, ``place``, ``organization``, by any of their names), as one query that
matching.py evaluates into the set of articles allowed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from whoosh import query as whoosh_query

from .aliases import AliasTable
from .dates import parse_period
from .errors import InvalidOptionError
from .models import naive_utc

__all__ = ["filter_query", "date_range"]


def filter_query(
    schema: Any,
    since: date | str | None,
    until: date | str | None,
    entities: dict[str, str | Iterable[str]],
    aliases: AliasTable | None = None,
) -> whoosh_query.Query | None:
    """The query of every filter given, or ``None`` when there are none. A name stands for every
    name ``aliases`` gives its entity ("USDA" for the U.S. Agriculture Department too).

    Raises:
        InvalidOptionError: a date cannot be read, the span is empty, or a name has no words.
    """
    present = [q for q in (date_range(since, until), _entity_filter(schema, entities, aliases or AliasTable())) if q is not None]
    return whoosh_query.And(present) if len(present) > 1 else (present[0] if present else None)


def date_range(since: date | str | None, until: date | str | None) -> whoosh_query.Query | None:
    """The span from the start of ``since`` to the end of ``until``; ``None`` for no limit."""
    if since is None and until is None:
        return None
    start = None if since is None else _period(since, "since")[0]
    end = None if until is None else _period(until, "until")[1]
    if start is not None and end is not None and start > end:
        raise InvalidOptionError(f"The date span is empty: since {start:%Y-%m-%d} is after until {end:%Y-%m-%d}")
    return whoosh_query.DateRange("date", start, end)


def _period(value: date | str, name: str) -> tuple[datetime, datetime]:
    if isinstance(value, datetime):
        moment = naive_utc(value)  # the index holds dates as naive UTC
        if moment is None:
            raise InvalidOptionError(f"{name}: {value.isoformat()} has no UTC date Python can hold")
        return moment, moment
    if isinstance(value, date):
        return datetime.combine(value, time.min), datetime.combine(value, time.max)
    try:
        return parse_period(value)
    except ValueError as error:
        raise InvalidOptionError(f"{name}: {error}") from None


def _entity_filter(schema: Any, wanted: dict[str, str | Iterable[str]], aliases: AliasTable) -> whoosh_query.Query | None:
    """All the named entities, each as a phrase of its analysed words in its kind's field, or
    of those of any of its names."""
    clauses = []
    for kind, names in wanted.items():
        for name in [names] if isinstance(names, str) else names:
            if not [token.text for token in schema[kind].analyzer(name)]:
                raise InvalidOptionError(f"The {kind} filter {name!r} has no words to match")
            ways = []
            for alias in aliases.typed(name, kind):
                words = [token.text for token in schema[kind].analyzer(alias)]
                if words:
                    ways.append(whoosh_query.Term(kind, words[0]) if len(words) == 1 else whoosh_query.Phrase(kind, words))
            clauses.append(ways[0] if len(ways) == 1 else whoosh_query.Or(ways))
    return whoosh_query.And(clauses) if clauses else None
