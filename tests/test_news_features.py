"""Dates, sorting, pages, proximity, fuzzy words, did-you-mean, more-like-this, timelines and
explain: through the API here, and through the command line in test_cli_news_features.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import searchlib
from searchlib import ArticleNotFoundError, QuerySyntaxError, Ranking, parse_period

from .conftest import SEED

EVERYTHING = "*"
UNDATED = {"wire-3", "4", "world/undated.txt"}
DATED_2013_ON = {"base-in-title.txt", "base-in-body.txt", "military-only.txt", "world/markets.txt", "long-article.txt"}


def ids(result: searchlib.SearchResult) -> list[str]:
    return [hit.id for hit in result.hits]


def test_everything_query_sees_the_whole_fixture_corpus(index: searchlib.Index) -> None:
    assert index.search(EVERYTHING).total == index.article_count == 12


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"since": "2013"}, DATED_2013_ON),
        ({"since": date(2013, 1, 1)}, DATED_2013_ON),
        ({"until": "2012-04-17"}, {SEED.name, "world/romania.txt", "wire-1", "wire-2"}),
        ({"since": "2013-03", "until": "2013-03"}, {"base-in-title.txt", "base-in-body.txt"}),
        ({"since": "1987-03-02", "until": "1987-03-02"}, {"wire-1"}),
        ({"since": datetime(1987, 3, 2, 10, 15), "until": "1987"}, {"wire-1", "wire-2"}),
        ({"since": datetime(1987, 3, 2, 15, 15, tzinfo=timezone(timedelta(hours=5))), "until": "1987"}, {"wire-1", "wire-2"}),
        ({"since": "1900", "until": "2100"}, set(range(0)) | {
            SEED.name, "world/romania.txt", "wire-1", "wire-2", *DATED_2013_ON}),
    ],
)
def test_since_and_until_are_inclusive_and_leave_out_undated_articles(index: searchlib.Index, filters: dict, expected: set[str]) -> None:
    result = index.search(EVERYTHING, limit=50, **filters)
    assert set(ids(result)) == expected and result.total == len(expected)
    assert not UNDATED & set(ids(result))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("date:2013", {"base-in-title.txt", "base-in-body.txt", "military-only.txt"}),
        ("date:2013-03", {"base-in-title.txt", "base-in-body.txt"}),
        ("date:2013-03-04", {"base-in-body.txt"}),
        ("date:[2012-01 to 2013-03-03]", {SEED.name, "base-in-title.txt"}),
        ("date:[2014 to]", {"long-article.txt", "world/markets.txt"}),
        ("date:[to 1987]", {"wire-1", "wire-2"}),
        ("military date:2013", {"base-in-title.txt", "base-in-body.txt", "military-only.txt"}),
        ("military AND date:2012", {SEED.name}),
        ("date:1987 OR date:2009", {"wire-1", "wire-2", "world/romania.txt"}),
        ('date:"last week"', set()),
    ],
)
def test_dates_in_the_query_language(index: searchlib.Index, query: str, expected: set[str]) -> None:
    result = index.search(query, limit=50)
    assert set(ids(result)) == expected and result.total == len(expected)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date:2012-13", "Cannot read the date '2012-13': use 2012, 2012-04, 2012-04-17, today, yesterday, this/last week|month|year, last 30 days (at position 1 of the query)"),
        ("base date:[2012 to 2013", "Unclosed '[' in a date range: add ']', as in date:[2012-01 to 2012-06] (at position 6 of the query)"),
        ("date:[2012 2013]", "A date range needs 'to' between its ends, as in date:[2012-01 to 2012-06] (at position 1 of the query)"),
        ("date:someday", "Cannot read the date 'someday': use 2012, 2012-04, 2012-04-17, today, yesterday, this/last week|month|year, last 30 days (at position 1 of the query)"),
        ('date:"last 99999999 days"', "The period 'last 99999999 days' reaches back before the year 1: give a shorter one (at position 1 of the query)"),
    ],
)
def test_bad_dates_in_the_query_are_one_line_errors_when_strict(index: searchlib.Index, query: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        index.search(query, strict=True)
    assert str(caught.value) == message
    notice = "Read " + repr(query[query.index("date:"):]).replace('"', "")[1:-1]
    assert index.search(query).notices[0].startswith(notice.split(" ")[0])  # read as words without strict


@pytest.mark.parametrize("query", ["date:[2013 to 2012]", "base date:[2012-04 to 2012-03]", "date:[2012-04-02 to 2012-04-01]"])
def test_a_date_range_that_ends_before_it_starts_is_an_error(index: searchlib.Index, query: str) -> None:
    with pytest.raises(QuerySyntaxError, match=r"The date range is empty: it starts .*, after its end .*; put the earlier date first"):
        index.search(query)


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("someday", None, "since: Cannot read the date 'someday': use 2012, 2012-04"),
        (None, "2012-02-30", "until: Cannot read the date '2012-02-30'"),
        ("2013", "2012", "The date span is empty: since 2013-01-01 is after until 2012-12-31"),
        ("last 0 days", None, "since: Cannot read the date 'last 0 days'"),  # not an "empty span" of a day before today
    ],
)
def test_bad_since_and_until_are_value_errors(index: searchlib.Index, since: str | None, until: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("|", r"\|")):
        index.search(EVERYTHING, since=since, until=until)


@pytest.mark.parametrize(
    ("text", "now", "start", "end"),
    [
        ("2012", None, datetime(2012, 1, 1), datetime(2012, 12, 31, 23, 59, 59, 999999)),
        ("2012-02", None, datetime(2012, 2, 1), datetime(2012, 2, 29, 23, 59, 59, 999999)),
        ("2012-4-7", None, datetime(2012, 4, 7), datetime(2012, 4, 7, 23, 59, 59, 999999)),
        ("today", datetime(2026, 11, 28, 15), datetime(2026, 11, 28), datetime(2026, 11, 28, 23, 59, 59, 999999)),
        ("yesterday", datetime(2026, 11, 28, 15), datetime(2026, 11, 27), datetime(2026, 11, 27, 23, 59, 59, 999999)),
        ("last week", datetime(2026, 11, 28, 15), datetime(2026, 11, 16), datetime(2026, 11, 22, 23, 59, 59, 999999)),
        ("this month", datetime(2026, 11, 28), datetime(2026, 11, 1), datetime(2026, 11, 30, 23, 59, 59, 999999)),
        ("Last Month", datetime(2026, 1, 10), datetime(2025, 12, 1), datetime(2025, 12, 31, 23, 59, 59, 999999)),
        ("last year", datetime(2026, 11, 28), datetime(2025, 1, 1), datetime(2025, 12, 31, 23, 59, 59, 999999)),
        ("last 30 days", datetime(2026, 11, 28, 9), datetime(2026, 10, 30), datetime(2026, 11, 28, 23, 59, 59, 999999)),
    ],
)
def test_parse_period(text: str, now: datetime | None, start: datetime, end: datetime) -> None:
    assert parse_period(text, now=now) == (start, end)


def test_sort_newest_and_oldest_put_undated_articles_last(index: searchlib.Index) -> None:
    newest = index.search(EVERYTHING, sort="newest", limit=50).hits
    oldest = index.search(EVERYTHING, sort="oldest", limit=50).hits
    for hits, descending in ((newest, True), (oldest, False)):
        dated = [hit.date for hit in hits if hit.date is not None]
        assert dated == sorted(dated, reverse=descending) and len(dated) == 9
        assert {hit.id for hit in hits[9:]} == UNDATED and all(hit.date is None for hit in hits[9:])
    assert newest[0].id == "world/markets.txt" and oldest[0].id == "wire-1"
    assert all(hit.score > 0 for hit in newest[:9])  # a real relevance score, not the sort key


def test_sorted_pages_run_on_into_the_undated(index: searchlib.Index) -> None:
    pages = [index.search(EVERYTHING, sort="oldest", limit=5, page=p) for p in (1, 2, 3)]
    assert [h.id for p in pages for h in p.hits] == ids(index.search(EVERYTHING, sort="oldest", limit=50))
    assert [p.pages for p in pages] == [3, 3, 3] and [p.page for p in pages] == [1, 2, 3]


def test_unknown_sort_is_an_error(index: searchlib.Index) -> None:
    with pytest.raises(ValueError, match="Unknown sort order 'best': use relevance, newest, oldest"):
        index.search("base", sort="best")


def test_proximity_differs_from_the_exact_phrase(index: searchlib.Index) -> None:
    assert ids(index.search('"council harbour"')) == []
    assert ids(index.search('"council harbour"~5')) == ["long-article.txt"]
    assert ids(index.search('"council harbour"~2')) == []


def test_prefix_and_fuzzy_words(index: searchlib.Index) -> None:
    military = set(ids(index.search("military", limit=50)))
    assert set(ids(index.search("militray~", limit=50))) == military
    assert military <= set(ids(index.search("milit*", limit=50)))
    assert set(ids(index.search("Zuerich~", limit=50))) == {"wire-2"}


@pytest.mark.parametrize(
    ("query", "suggestion"),
    [
        ("militray bsae", "military base"),
        ("Militray base", "Military base"),
        ("MILITRAY BASE", "MILITARY BASE"),
        ("title:parlament", "title:parliament"),
        ("military base", None),
        ("Zürich", None),
        ("xqzv", None),
        ("date:parlament militray", "date:parlament military"),  # a date is no word to correct
        ("What about a militray base?", "What about a military base?"),  # common words: left out, never corrected
        ("abuot military base", None),  # nor corrected into: "about" would be left out
        ("say", None),  # no article says "say", but one says "says": the search found it
    ],
)
def test_did_you_mean_uses_the_index_vocabulary_and_never_corrects_known_words(
    index: searchlib.Index, query: str, suggestion: str | None
) -> None:
    assert index.search(query).suggestion == suggestion
    assert index.suggest(query) == suggestion


def test_more_like_this_leaves_the_article_out_and_stays_on_topic(index: searchlib.Index) -> None:
    result = index.more_like("base-in-title.txt", limit=3)
    assert "base-in-title.txt" not in ids(index.more_like("base-in-title.txt", limit=50))
    assert ids(result)[0] in {"base-in-body.txt", SEED.name, "military-only.txt"}
    assert result.query == "like:base-in-title.txt" and result.total >= 1
    with pytest.raises(ArticleNotFoundError, match="No article with id 'nope' in the index at"):
        index.more_like("nope")


def test_more_like_this_takes_the_filters(index: searchlib.Index) -> None:
    assert set(ids(index.more_like(SEED.name, since="2013", limit=50))) <= DATED_2013_ON


def test_timeline_counts_add_up_to_the_total(index: searchlib.Index) -> None:
    timeline = index.timeline(EVERYTHING, by="year")
    periods = [b.period for b in timeline.buckets]
    assert periods == [str(year) for year in range(1987, 2016)]
    counts = {b.period: b.count for b in timeline.buckets}
    assert (counts["1987"], counts["2013"], counts["1990"]) == (2, 3, 0)
    assert timeline.undated == 3
    assert sum(counts.values()) + timeline.undated == timeline.total == 12


def test_timeline_by_month_and_day_with_filters(index: searchlib.Index) -> None:
    months = index.timeline("military", by="month", since="2013")
    assert [(b.period, b.count) for b in months.buckets] == [("2013-03", 2), ("2013-04", 0), ("2013-05", 1)]
    days = index.timeline("base", by="day", place="Tajikistan")
    assert [(b.period, b.count) for b in days.buckets] == [("2012-04-17", 1)]
    assert index.timeline("nothingmatches", by="day").buckets == ()
    with pytest.raises(ValueError, match="Unknown period 'week': use year, month, day"):
        index.timeline("base", by="week")


def test_explain_parts_add_up_to_the_score(index: searchlib.Index) -> None:
    result = index.search("military base", explain=True, limit=3)
    for hit in result.hits:
        assert hit.explanation
        assert sum(part.score for part in hit.explanation) == pytest.approx(hit.score)
    top = result.hits[0].explanation
    assert {(p.field, p.term, p.weight) for p in top} == {
        ("text", "militari", 1.0),
        ("text", "base", 1.0),
        ("closeness", "militari base", Ranking().proximity),  # the words stand near each other
    }
    assert index.search("military base").hits[0].explanation == ()


def test_explain_names_each_field_when_fields_are_weighted_apart(news_index: Path) -> None:
    with searchlib.Index.open(news_index, ranking=Ranking(field_weights="title=2,body=1")) as index:
        hit = index.search("military base", explain=True).hits[0]
    assert {(p.field, p.term) for p in hit.explanation} >= {("body", "militari"), ("body", "base"), ("title", "base")}
    assert {p.weight for p in hit.explanation if p.field == "title"} == {2.0}
    assert sum(part.score for part in hit.explanation) == pytest.approx(hit.score)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text("abcé", min_size=1, max_size=6), min_size=1, max_size=40, unique=True),
       st.text("abcé", max_size=6), st.integers(0, 2), st.integers(0, 3))
def test_near_spellings_are_every_word_within_the_edits_that_begins_as_the_typed_word(
        words: list[str], typed: str, distance: int, prefix: int) -> None:
    """words_within looks only through the run of sorted spellings that begin with the typed
    word's first ``prefix`` letters and are about its length: what it finds is what comparing
    every word finds."""
    from rapidfuzz.distance import DamerauLevenshtein

    from searchlib.matching import words_within

    class Source:
        def __init__(self) -> None:
            self.kept: dict[str, object] = {}

        def vocabulary(self) -> object:
            return type("V", (), {"words": sorted(words)})()

        def cached(self, name: str, make):  # type: ignore[no-untyped-def]
            return self.kept.setdefault(name, make())

    expected = {word: DamerauLevenshtein.distance(typed, word) for word in words
                if word[:prefix] == typed[:prefix] and DamerauLevenshtein.distance(typed, word) <= distance}
    assert words_within(Source(), typed, distance, prefix) == expected  # type: ignore[arg-type]
