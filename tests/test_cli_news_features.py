"""The news features through the command line: dates, sort, CSV and JSON export, did-you-mean,
--like, --explain and the timeline command, with their error paths."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from searchlib.cli import main, search
from searchlib.dates import parse_period


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, news_corpus: Path) -> str:
    directory = tmp_path_factory.mktemp("cli") / "index"
    assert CliRunner().invoke(main, ["build", str(news_corpus), "--index", str(directory), "--quiet"]).exit_code == 0
    return str(directory)


def run(index_dir: str, *args: str, command=search) -> Result:  # type: ignore[no-untyped-def]
    return CliRunner().invoke(command, [*args, "--index", index_dir])


def test_since_until_and_sort(index_dir: str) -> None:
    result = run(index_dir, "*", "--since", "2013", "--sort", "oldest", "--json")
    hits = json.loads(result.stdout)["hits"]
    assert [h["date"][:10] for h in hits] == ["2013-03-03", "2013-03-04", "2013-05-09", "2014-06-01", "2015-01-05"]


def test_json_carries_pages_and_suggestion(index_dir: str) -> None:
    document = json.loads(run(index_dir, "militray bsae", "--json", "--limit", "2").stdout)
    assert (document["total"], document["page"], document["pages"], document["suggestion"]) == (0, 1, 0, "military base")
    document = json.loads(run(index_dir, "*", "--json", "--limit", "5", "--page", "2").stdout)
    assert (document["total"], document["page"], document["pages"], document["limit"]) == (12, 2, 3, 5)
    assert [h["rank"] for h in document["hits"]] == [6, 7, 8, 9, 10]


def test_a_relative_date_filter_is_shown_with_the_day_it_stood_for(index_dir: str) -> None:
    start, end = parse_period("last year")[0], parse_period("yesterday")[1]
    head = run(index_dir, "military", "--since", "last year", "--until", "yesterday").stdout.splitlines()[0]
    assert f"from last year ({start:%Y-%m-%d}) until yesterday ({end:%Y-%m-%d})" in head
    assert run(index_dir, "military", "--since", "2013-03").stdout.startswith("3 articles match 'military' from 2013-03.")
    timeline = run(index_dir, "military", "--since", "last year", command=main.commands["timeline"]).stdout
    assert f"from last year ({start:%Y-%m-%d})" in timeline.splitlines()[0]


def test_did_you_mean_line(index_dir: str) -> None:
    lines = run(index_dir, "militray base").stdout.splitlines()
    assert lines[1] == "Did you mean: military base?"
    lines = run(index_dir, "militray base?").stdout.splitlines()  # the query's own question mark, not "base??"
    assert lines[1] == "Did you mean: military base?"


def test_csv_export(index_dir: str) -> None:
    rows = list(csv.reader(io.StringIO(run(index_dir, "military base", "--csv").stdout)))
    assert rows[0] == ["rank", "id", "title", "date", "url", "score", "snippet", "entities", "similar"]
    assert len(rows) == 4  # the three articles with both words
    top = dict(zip(rows[0], rows[1]))
    assert top["id"] == "000_6a031b2be50133bf.txt" and top["date"] == "2012-04-17T00:00:00"
    assert "military bases" in top["snippet"] and "[" not in top["snippet"]
    assert "person:Imomali Rakhmon" in top["entities"].split("; ")
    assert float(top["score"]) > 0


def test_like_and_explain(index_dir: str) -> None:
    like = run(index_dir, "--like", "base-in-title.txt", "--limit", "50", "--json")
    assert "base-in-title.txt" not in {h["id"] for h in json.loads(like.stdout)["hits"]}
    explained = run(index_dir, "military base", "--explain", "--limit", "1").stdout.splitlines()
    assert explained[-1].startswith("   score ") and " + text:militari " in explained[-1]
    parts = json.loads(run(index_dir, "military base", "--explain", "--json").stdout)["hits"][0]["explanation"]
    assert {"field", "term", "weight", "score"} == set(parts[0])


def test_timeline_text_json_and_csv(index_dir: str) -> None:
    text = run(index_dir, "military", "--since", "2013", command=main.commands["timeline"]).stdout.splitlines()
    assert text[0] == "'military' by month from 2013: 3 articles, 0 of them undated."
    assert text[1].startswith("2013-03  2  ") and text[1].endswith("█" * 40)
    assert text[2] == "2013-04  0  "
    document = json.loads(run(index_dir, "*", "--by", "year", "--json", command=main.commands["timeline"]).stdout)
    assert document["total"] == sum(b["count"] for b in document["buckets"]) + document["undated"] == 12
    rows = list(csv.reader(io.StringIO(run(index_dir, "*", "--by", "year", "--csv", command=main.commands["timeline"]).stdout)))
    assert rows[0] == ["period", "count"] and rows[1] == ["1987", "2"] and rows[-1] == ["undated", "3"]


@pytest.mark.parametrize(
    ("args", "head"),
    [
        (["military base", "--by", "year"], "'military base' by year: 3 articles, 0 of them undated; "
                                            "1 more with some of the words (--any counts them too)."),
        (["base", "--by", "year", "--place", "Tajikistan"], "'base' by year with place 'Tajikistan': 1 article, 0 of them undated."),
        (["military", "--until", "2013-03", "--org", "NATO"],
         "'military' by month until 2013-03, with organisation 'NATO': 1 article, 0 of them undated."),
        (["military base", "--any", "--by", "year", "--person", "Rakhmon"],
         "'military base' by year with person 'Rakhmon': 1 article with any of the words, 0 of them undated."),
    ],
)
def test_timeline_head_says_what_was_counted(index_dir: str, args: list[str], head: str) -> None:
    text = run(index_dir, *args, command=main.commands["timeline"]).stdout
    assert text.splitlines()[0] == head


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["base", "--since", "2012-13"], 2, "Invalid value for '--since': Cannot read the date '2012-13': use 2012, 2012-04"),
        (["base", "--sort", "best"], 2, "Invalid value for '--sort': 'best' is not one of 'relevance', 'newest', 'oldest'."),
        ([], 2, "Give a QUERY to search for, or --like ID."),
        (["base", "--like", "x"], 2, "Give a QUERY or --like ID, not both."),
        (["base", "--json", "--csv"], 2, "Choose one of --json and --csv."),
        (["--like", "nope"], 1, "Error: No article with id 'nope' in the index at"),
        (["date:2012-13", "--strict"], 1, "Error: Cannot read the date '2012-13': use 2012, 2012-04, 2012-04-17"),
        (["date:[2012-04 to 2012-03]"], 1, "Error: The date range is empty: it starts 2012-04-01, after its end 2012-03-31; put the earlier date first"),
        (["base", "--since", "2013", "--until", "2012"], 1, "Error: The date span is empty: since 2013-01-01 is after until 2012-12-31"),
    ],
)
def test_errors(index_dir: str, args: list[str], exit_code: int, message: str) -> None:
    result = run(index_dir, *args)
    assert result.exit_code == exit_code and message in result.stderr and "Traceback" not in result.output
