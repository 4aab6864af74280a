"""Reading corpora: the native article format, JSON Lines, and every kind of bad input."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchlib import CorpusError, Skipped, read_corpus
from searchlib.corpus import parse_article_text, parse_date

from .conftest import FIXTURES, SEED


def read_all(root: Path) -> tuple[list, list[Skipped]]:
    skipped: list[Skipped] = []
    return list(read_corpus(root, on_skip=skipped.append)), skipped


def test_seed_article_is_parsed_into_its_parts() -> None:
    (article,), skipped = read_all(SEED)
    assert skipped == []
    assert article.id == SEED.name
    assert article.title == "Tajikistan Rejects Foreign Base Offers in Deference to Russia"
    assert article.date == datetime(2012, 4, 17)
    assert article.url.startswith("https://www.themoscowtimes.com/2012/04/17/tajikistan-rejects")
    assert article.caption == "The hilly landscape outside the Tajikistan capital of Dushanbe. Denis Grishkin"
    assert article.body.startswith("DUSHANBE — Tajikistan has rejected requests")
    assert article.body.rstrip().endswith("always be with its partner in its hard times.\"")


def test_seed_markdown_escapes_are_undone_and_broken_paragraph_joined() -> None:
    (article,), _ = read_all(SEED)
    assert "about $3 billion" in article.body and "\\$" not in article.body
    assert "promising wonders in return for opening their military bases" in article.body
    assert "Original url" not in article.body and "**" not in article.caption


def test_ids_are_paths_relative_to_the_corpus_root_or_the_jsonl_id() -> None:
    articles, _ = read_all(FIXTURES)
    ids = [a.id for a in articles]
    assert "world/romania.txt" in ids and "base-in-title.txt" in ids
    assert {"wire-1", "wire-2", "wire-3", "4"} <= set(ids)
    assert ids == sorted(ids, key=ids.index)  # stable order: a second read gives the same list
    assert ids == [a.id for a in read_all(FIXTURES)[0]]


def test_native_format_variants() -> None:
    articles = {a.id: a for a in read_all(FIXTURES)[0]}
    romania = articles["world/romania.txt"]
    assert romania.date == datetime(2009, 12, 22)  # "Tuesday, 22 December 2009"
    assert romania.url == "https://example.com/2009/12/22/ceausescu"  # url on the same line
    assert romania.caption == "Crowds gather in Bucharest. Ion Popescu"
    markets = articles["world/markets.txt"]
    assert markets.title == "Markets Rally as *Oil* Slips Below $50"
    assert markets.date == datetime(2015, 1, 5)  # "Jan 5th, 2015"
    assert "price of Brent crude fell below $50 a barrel for the first time" in markets.body
    assert "according to traders in London." in markets.body  # link text kept, target dropped


def test_an_unreadable_date_line_becomes_an_unknown_date() -> None:
    article = read_all(FIXTURES / "world" / "undated.txt")[0][0]
    assert article.date is None
    assert article.body == "The harbour festival returns with boats, music and a fish market on the quay."


def test_jsonl_records_dates_and_missing_values() -> None:
    articles = {a.id: a for a in read_all(FIXTURES / "wire.jsonl")[0]}
    assert articles["wire-1"].date == datetime(1987, 3, 2, 10, 15)
    assert articles["wire-1"].url == "https://example.com/wire-1"
    assert articles["wire-2"].title == "Zürich bank merger"
    assert articles["wire-3"].date is None  # "March 1987 sometime"
    assert articles["4"].date is None and articles["4"].path.endswith("wire.jsonl")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("April 17, 2012", datetime(2012, 4, 17)),
        ("Tuesday, April 17, 2012", datetime(2012, 4, 17)),
        ("17 April 2012", datetime(2012, 4, 17)),
        ("Apr. 17, 2012", datetime(2012, 4, 17)),
        ("April 1st, 2012", datetime(2012, 4, 1)),
        ("2012-04-17", datetime(2012, 4, 17)),
        ("1987-02-26T15:01:01", datetime(1987, 2, 26, 15, 1, 1)),
        ("2012-04-17T10:00:00+04:00", datetime(2012, 4, 17, 6, 0)),
        ("2012-04-17T06:00:00Z", datetime(2012, 4, 17, 6, 0)),
        ("April 31, 2012", None),
        ("next Tuesday", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


GOOD_ARTICLE = "A Good Headline\n\nMay 1, 2020\n\nA good body paragraph.\n"


def test_bad_files_are_skipped_with_reasons_and_good_ones_kept(tmp_path: Path) -> None:
    write(tmp_path / "good.txt", GOOD_ARTICLE)
    write(tmp_path / "latin1.txt", "Caf\xe9 News\n\nMay 1, 2020\n\nBody.\n".encode("latin-1"))
    write(tmp_path / "empty.txt", "  \n\n")
    write(tmp_path / "binary.txt", b"\x89PNG\r\n\x1a\n\0\0\0")
    write(tmp_path / "headline-only.txt", "Just A Headline\n")
    write(tmp_path / "notes.md", "ignored: not a corpus file")
    write(tmp_path / ".hidden" / "x.txt", GOOD_ARTICLE)
    articles, skipped = read_all(tmp_path)
    assert [a.id for a in articles] == ["good.txt"]
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert {Path(s.path).name: s.kind for s in skipped} == {"latin1.txt": "not-utf8", "empty.txt": "empty", "binary.txt": "binary",
                                                             "headline-only.txt": "no-text"}
    assert reasons == {
        "latin1.txt": "not valid UTF-8 at byte 3; convert the file to UTF-8",
        "empty.txt": "empty article: no headline or text",
        "binary.txt": "binary data (NUL bytes), not a text article",
        "headline-only.txt": "no body text after the headline",
    }


def test_bad_jsonl_lines_are_skipped_with_line_numbers(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "title": "Alpha", "body": "First."}),
        "{not json",
        "",
        json.dumps(["a", "list"]),
        json.dumps({"title": "No id", "body": "x"}),
        json.dumps({"id": "e", "title": "", "body": ""}),
        json.dumps({"id": "f", "title": "Bad body", "body": 42}),
        json.dumps({"id": "a", "title": "Alpha again", "body": "Duplicate."}),
        json.dumps({"id": "g", "title": "Bad date", "date": "yesterday-ish", "body": "Still indexed."}),
    ]
    path = write(tmp_path / "wire.jsonl", "\n".join(lines) + "\n")
    articles, skipped = read_all(path)
    assert [a.id for a in articles] == ["a", "g"]
    assert articles[1].date is None
    assert [(s.line, s.reason) for s in skipped] == [
        (2, "not valid JSON (Expecting property name enclosed in double quotes at column 2)"),
        (4, "expected a JSON object, found list"),
        (5, "missing 'id' (a string or number)"),
        (6, "no 'title' or 'body' text"),
        (7, "'body' must be a string, found int"),
        (8, f"duplicate id 'a', first read from {path}:1"),
    ]
    assert str(skipped[0]) == f"{path}:2: " + skipped[0].reason


def test_invalid_utf8_line_in_jsonl_skips_only_that_line(tmp_path: Path) -> None:
    good = json.dumps({"id": "ok", "title": "Fine", "body": "Fine."}).encode()
    path = write(tmp_path / "mixed.jsonl", b'{"id": "bad", "title": "\xff", "body": "x"}\n' + good + b"\n")
    articles, skipped = read_all(path)
    assert [a.id for a in articles] == ["ok"]
    assert skipped[0].line == 1 and "UTF-8" in skipped[0].reason


def test_truncated_gzip_keeps_the_lines_before_the_damage(tmp_path: Path) -> None:
    records = [json.dumps({"id": f"r{i}", "title": f"Record {i}", "body": "word " * 200}) for i in range(300)]
    whole = gzip.compress(("\n".join(records) + "\n").encode())
    path = write(tmp_path / "cut.jsonl.gz", whole[: len(whole) * 2 // 3])
    articles, skipped = read_all(path)
    assert 0 < len(articles) < 300
    assert [a.id for a in articles] == [f"r{i}" for i in range(len(articles))]
    (problem,) = skipped
    assert problem.path == str(path) and "cannot read a gzip file after line" in problem.reason


def test_not_gzip_at_all(tmp_path: Path) -> None:
    path = write(tmp_path / "fake.jsonl.gz", b"this is not gzip")
    articles, skipped = read_all(path)
    assert articles == [] and "cannot read a gzip file after line 0" in skipped[0].reason


def test_missing_corpus_and_wrong_file_kind_raise_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"No corpus at '.*nowhere': give a directory"):
        read_all(tmp_path / "nowhere")
    other = write(tmp_path / "notes.md", "x")
    with pytest.raises(CorpusError, match=r"is not a corpus file: expected a directory or a file ending in"):
        read_all(other)


def test_carriage_returns_and_bom_are_handled() -> None:
    text = "\ufeffHeadline Here\r\n\r\nMay 1, 2020\r\n\r\nFirst paragraph\r\n\r\ncontinues here.\r\n"
    article = parse_article_text(text.lstrip("\ufeff"), id="x")
    assert (article.title, article.date, article.body) == (
        "Headline Here",
        datetime(2020, 5, 1),
        "First paragraph continues here.",
    )


@given(st.text(max_size=400))
def test_parsing_any_text_gives_an_article_or_a_value_error(text: str) -> None:
    try:
        article = parse_article_text(text, id="x")
    except ValueError as error:
        assert str(error) in {"empty article: no headline or text", "no body text after the headline"}
    else:
        assert article.title and article.body
