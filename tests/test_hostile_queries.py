"""No query crashes, and output is safe where it lands (issue 17).

Hypothesis writes queries from the whole grammar (fields, dates and their ranges, boosts, fuzzy
words, wildcards, ranges, phrases with any slop, operators, nesting, ``-``, surrogates and control
characters) and runs them with every option: each returns a result, whose JSON, CSV and terminal
forms can all be written, or raises a ``SearchlibError`` of one line. The index holds articles
dated in the years 1 and 9999, and articles whose text carries terminal escapes, bidirectional
overrides, spreadsheet formulas and HTML.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchlib
from searchlib import formats
from searchlib.cli import _head_lines, _hit_lines, search

from .conftest import make_news_corpus

HOSTILE = [
    {"id": "far-future", "title": "Harbour budget of the far future", "date": "9999-12-31T23:59:59", "body": "The harbour budget, again."},
    {"id": "year-one", "title": "Harbour budget of year one", "date": "0001-01-01", "body": "The first harbour budget."},
    {"id": "escapes", "title": "Harbour \x1b[2J\x1b]0;owned\x07 news", "date": "2012-05-01",
     "body": "Harbour text with \x1b[31mcolour\x1b[0m and a \u202eright-to-left\u202c override."},
    {"id": "formula", "title": "=HYPERLINK(\"http://evil\",\"harbour\")", "date": "2012-05-02",
     "body": "+harbour -1 @SUM(A1) budget"},
    {"id": "html", "title": "<script>alert('harbour')</script>", "date": "2012-05-03",
     "body": "A harbour <a href=\"javascript:alert(1)\">link</a> & \"quotes\"."},
]


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> searchlib.Index:
    folder = make_news_corpus(tmp_path_factory.mktemp("hostile") / "corpus")
    (folder / "hostile.jsonl").write_text("".join(json.dumps(a) + "\n" for a in HOSTILE), encoding="utf-8")
    path = tmp_path_factory.mktemp("hostile-index") / "index"
    searchlib.build(folder, path)
    with searchlib.Index.open(path) as index:
        _OPEN["index"] = index  # for the hypothesis tests, which print their arguments when they fail
        yield index
    del _OPEN["index"]


words = st.one_of(
    st.sampled_from(["harbour", "budget", "military", "base", "Rakhmon", "grain", "the", "AND", "TO", "0", "1987", "a"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=6),
    st.sampled_from(["\ud800", "\udcff", "caf\udce9", "\x00", "\x1b[31m", "\u202e", "\t", "\r\n"]),
)
fields = st.sampled_from(["", "", "", "title:", "body:", "person:", "org:", "place:", "entity:", "entities:", "id:", "url:",
                          "text:", "date:", "author:", "site:", "title:date:", "body:date:"])
suffixes = st.sampled_from(["", "", "*", "?", "~", "~9", "~2/3", "^0", "^2.5", "^-1", "^99999999999999999999", "*~", "~^2"])
dates = st.sampled_from(["2012", "1987-13", '"last 99999999 days"', '"past 99999999999999999999 years"', "[1987 to]",
                         "[to 1987]", "[2013 to 2012]", '"1987 to 1988"', "x", "today", "[0001 TO]", "9999", "[", '"'])
atoms = st.one_of(
    st.builds(lambda f, w, s: f + w + s, fields, words, suffixes),
    st.builds(lambda ws, slop: '"' + " ".join(ws) + '"' + slop, st.lists(words, max_size=4), st.sampled_from(["", "~2", "~999999999"])),
    st.builds(lambda d: "date:" + d, dates),
    st.builds(lambda f, a, b: f"{f}[{a} TO {b}]", fields, words, words),
    st.sampled_from(["*", "?*", "*a*", "???", "(", ")", '"', "NOT", "-", ":", "{a TO c}", "AND", "OR"]),
)
queries = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a} {b})", inner, inner),
        st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(["AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", ""]), inner),
        st.builds(lambda a: "-" + a, inner),
    ),
    max_leaves=6,
)
periods = st.sampled_from([None, None, "2012", "9999", "0001", "yesterday", "last 30 days", date(1987, 3, 1)])
bad_periods = st.sampled_from(["last 99999999 days", "2012-13", "", "x", "10000", "past 99999999999999999999 years"])
options = st.fixed_dictionaries({}, optional={
    "sort": st.sampled_from(["relevance", "newest", "oldest"]),
    "since": periods,
    "until": periods,
    "person": st.sampled_from([(), "Rakhmon", ("Imomali", "Rakhmon")]),
    "place": st.sampled_from([(), "USA", "nowhere"]),
    "organization": st.sampled_from([(), "NATO"]),
    "facets": st.booleans(),
    "explain": st.booleans(),
    "fold_duplicates": st.booleans(),
    "match": st.sampled_from(["all", "any"]),
    "strict": st.booleans(),
    "page": st.integers(1, 4),
    "limit": st.integers(1, 30),
})
bad_options = st.one_of(
    st.fixed_dictionaries({"since": bad_periods}), st.fixed_dictionaries({"until": bad_periods}),
    st.fixed_dictionaries({"sort": st.sampled_from(["best", ""])}), st.fixed_dictionaries({"match": st.sampled_from(["some", ""])}),
    st.fixed_dictionaries({"page": st.integers(-3, 0)}), st.fixed_dictionaries({"limit": st.integers(-3, 0)}),
    st.fixed_dictionaries({"person": st.sampled_from(["", "\x00", "   ", "..."])}),
)
_OPEN: dict[str, searchlib.Index] = {}


def hostile() -> searchlib.Index:
    return _OPEN["index"]


def written(result: searchlib.SearchResult) -> None:
    """Every form of ``result`` can be written: JSON as UTF-8, CSV, terminal text."""
    json.dumps(formats.result_json(result), ensure_ascii=False).encode("utf-8")
    "".join(formats.csv_row(hit) for hit in result.hits).encode("utf-8")
    "\n".join(_head_lines(result) + [line for hit in result.hits for line in _hit_lines(hit, color=True, explain=True)]).encode("utf-8")


@pytest.mark.usefixtures("hostile_index")
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.one_of(queries, queries, st.text(max_size=40)), chosen=options)
def test_no_query_with_any_options_crashes(query: str, chosen: dict) -> None:
    try:
        result = hostile().search(query, **chosen)
    except searchlib.SearchlibError as error:
        assert "\n" not in str(error) and str(error)
        assert not isinstance(error, searchlib.QuerySyntaxError) or chosen.get("strict") or "empty" in str(error) or "date range" in str(error)
        return
    assert result.total >= 0 and len(result.hits) <= chosen.get("limit", 10)
    written(result)


@pytest.mark.usefixtures("hostile_index")
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=queries, chosen=bad_options)
def test_an_option_that_cannot_be_used_is_a_one_line_error(query: str, chosen: dict) -> None:
    with pytest.raises(searchlib.SearchlibError) as caught:
        hostile().search(f"({query}) OR harbour", **chosen)
    assert "\n" not in str(caught.value)


@pytest.mark.usefixtures("hostile_index")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=queries, by=st.sampled_from(["year", "month", "day", "week"]), since=periods, match=st.sampled_from(["all", "any"]))
def test_no_timeline_crashes(query: str, by: str, since: str | None, match: str) -> None:
    try:
        timeline = hostile().timeline(query, by=by, since=since, match=match)
    except searchlib.SearchlibError as error:
        assert "\n" not in str(error)
        return
    assert sum(b.count for b in timeline.buckets) + timeline.undated == timeline.total
    json.dumps(formats.timeline_json(timeline), ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("by", ["year", "month", "day"])
def test_dates_in_the_years_1_and_9999_chart_and_sort(hostile_index: searchlib.Index, by: str) -> None:
    timeline = hostile_index.timeline("harbour budget", by=by)
    periods = [bucket.period for bucket in timeline.buckets]
    assert periods[0].startswith("0001") and periods[-1].startswith("9999")
    assert len(periods) <= 10_000  # only the periods with articles, past that many
    newest = hostile_index.search("harbour budget", sort="newest")
    oldest = hostile_index.search("harbour budget", sort="oldest")
    assert newest.hits[0].id == "far-future" and oldest.hits[0].id == "year-one"


@pytest.mark.parametrize(
    "query",
    ['date:"last 99999999 days"', 'date:"past 99999999999999999999 years"', 'title:date:"1987-13"', 'body:date:"x"~2',
     'text:date:"1987 to 1988"', "gold^0", "text:date:[0001 TO]", "\udcff*", "NOT prices 0 date:1987"],
)
def test_the_queries_that_crashed(hostile_index: searchlib.Index, query: str) -> None:
    for strict in (False, True):
        try:
            result = hostile_index.search(query, explain=True, strict=strict)
        except searchlib.SearchlibError as error:
            assert strict and "\n" not in str(error)
        else:
            written(result)


def test_a_period_too_long_is_a_one_line_error_on_the_command_line(hostile_index: searchlib.Index) -> None:
    done = CliRunner().invoke(search, ["harbour", "--since", "last 99999999 days", "--index", str(hostile_index.path)])
    assert done.exit_code == 2 and "reaches back before the year 1" in done.output and "Traceback" not in done.output
    done = CliRunner().invoke(search, ['date:"last 99999999 days"', "--strict", "--index", str(hostile_index.path)])
    assert done.exit_code == 1 and done.output.count("\n") == 1


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(hostile_index: searchlib.Index) -> None:
    done = CliRunner().invoke(search, ["harbour", "--limit", "all", "--csv", "--index", str(hostile_index.path)])
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(done.stdout))}
    assert rows["formula"]["title"] == "'=HYPERLINK(\"http://evil\",\"harbour\")"
    for row in rows.values():
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())


def test_terminal_output_shows_control_characters_instead_of_running_them(hostile_index: searchlib.Index) -> None:
    done = CliRunner().invoke(search, ["harbour", "--all", "--limit", "20", "--color", "--index", str(hostile_index.path)],
                              color=True)
    text = done.stdout.replace("\x1b[1;33m", "").replace("\x1b[0m", "")  # our own highlighting
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert "␛[2J" in text and "<U+202E>" in text


def test_json_is_valid_utf8_whatever_the_arguments_and_the_articles(hostile_index: searchlib.Index, tmp_path: Path) -> None:
    arguments = [sys.executable, "-m", "searchlib", "search", b"harbour caf\xe9 \xff*", "--json", "--limit", "40", "--index",
                 str(hostile_index.path)]
    done = subprocess.run(arguments, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout.decode("utf-8"))  # strict UTF-8
    assert document["query"] == "harbour caf\ufffd \ufffd*"
    assert any(hit["id"] == "escapes" for hit in document["hits"])


def test_every_article_text_is_escaped_in_html_snippets(hostile_index: searchlib.Index) -> None:
    hit = next(h for h in hostile_index.search("harbour", limit=30, fold_duplicates=False).hits if h.id == "html")
    assert "<script>" not in hit.title_snippet.to_html() and "&lt;script&gt;" in hit.title_snippet.to_html()
    assert "<a " not in hit.snippet.to_html()


def test_a_query_on_an_index_where_not_matches_nearly_all(tmp_path: Path) -> None:
    """``NOT prices 0 date:1987`` on 500 articles raised IndexError inside Whoosh."""
    from .test_updates import write_wire

    write_wire(tmp_path / "wire.jsonl", 500)
    searchlib.build(tmp_path / "wire.jsonl", tmp_path / "index")
    with searchlib.Index.open(tmp_path / "index") as index:
        result = index.search("NOT price 0 date:1987", limit=600, fold_duplicates=False)
        with_zero = {hit.id for hit in index.search("0 date:1987", limit=600, fold_duplicates=False).hits}
        with_price = {hit.id for hit in index.search("price", limit=600, fold_duplicates=False).hits}
        assert with_zero and with_price & with_zero
        assert {hit.id for hit in result.hits} == with_zero - with_price
