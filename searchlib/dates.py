"""Periods of time as people type them: "2012", "2012-04", "2012-04-17", "last week".

A period is a pair of timezone-naive datetimes, both inclusive: "2012-04" is from April 1, 2012
at midnight to April 30, 2012 at 23:59:59.999999. ``--since`` takes the start of its period and
``--until`` the end, so ``--since 2012 --until 2012`` is all of 2012. Relative periods ("today",
"yesterday", "this week", "last month", "last 30 days", "past 2 years") count back from ``now``.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

__all__ = ["parse_period", "is_relative", "microseconds", "DATE_HELP"]

DATE_HELP = "2012, 2012-04, 2012-04-17, today, yesterday, this/last week|month|year, last 30 days"

_ABSOLUTE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_RELATIVE_SPAN = re.compile(r"^(?:last|past) (\d+) (day|week|month|year)s?$")
_RELATIVE_NAMED = re.compile(r"^(this|last) (week|month|year)$")
_END_OF_DAY = timedelta(days=1) - timedelta(microseconds=1)


def parse_period(text: str, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The first and last instant of the period ``text`` names.

    Raises:
        ValueError: ``text`` is no period this function reads; the message lists the forms.
    """
    cleaned = _cleaned(text)
    match = _ABSOLUTE.match(cleaned)
    try:
        if match:
            return _absolute(*match.groups())
        return _relative(cleaned, now or datetime.now())
    except OverflowError:
        raise ValueError(f"The period {text!r} reaches back before the year 1: give a shorter one") from None
    except ValueError:
        raise ValueError(f"Cannot read the date {text!r}: use {DATE_HELP}") from None


def is_relative(text: str) -> bool:
    """Whether ``text`` names a period counted back from now ("last year"), not a date."""
    return not _ABSOLUTE.match(_cleaned(text))


def _cleaned(text: str) -> str:
    return " ".join(text.strip().lower().split())


def _absolute(year: str, month: str | None, day: str | None) -> tuple[datetime, datetime]:
    if day is not None:
        start = datetime(int(year), int(month or 1), int(day))
        return start, start + _END_OF_DAY
    if month is not None:
        first = datetime(int(year), int(month), 1)
        last = calendar.monthrange(first.year, first.month)[1]
        return first, first.replace(day=last) + _END_OF_DAY
    return datetime(int(year), 1, 1), datetime(int(year), 12, 31) + _END_OF_DAY


def _relative(text: str, now: datetime) -> tuple[datetime, datetime]:
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if text == "today":
        return today, today + _END_OF_DAY
    if text == "yesterday":
        return today - timedelta(days=1), today - timedelta(microseconds=1)
    span = _RELATIVE_SPAN.match(text)
    if span:
        count, unit = int(span[1]), span[2]
        if count < 1:
            raise ValueError(f"'{text}' is no span: count from 1 ({span[0].split()[0]} 1 {unit})")
        days = {"day": 1, "week": 7, "month": 30, "year": 365}[unit] * count
        return today - timedelta(days=days - 1), today + _END_OF_DAY
    named = _RELATIVE_NAMED.match(text)
    if not named:
        raise ValueError(text)
    which, unit = named.groups()
    if unit == "week":
        start = today - timedelta(days=today.weekday())
        if which == "last":
            start -= timedelta(weeks=1)
        return start, start + timedelta(weeks=1) - timedelta(microseconds=1)
    if unit == "month":
        first = today.replace(day=1)
        if which == "last":
            first = (first - timedelta(days=1)).replace(day=1)
        return _absolute(str(first.year), str(first.month), None)
    year = today.year - (which == "last")
    return _absolute(str(year), None, None)


def microseconds(moment: datetime) -> int:
    """A (naive) datetime as microseconds since 0001-01-01: what Whoosh's date column holds, and
    the Xapian engine's date values."""
    delta = moment - datetime.min
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
