"""Uses ../shared/data: the whole Reuters-21578 corpus, built once. Skips only where it is absent."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import searchlib

from .conftest import SHARED_DATA

REUTERS = SHARED_DATA / "reuters21578.jsonl.gz"

pytestmark = pytest.mark.skipif(not REUTERS.exists(), reason=f"needs the shared data set {REUTERS}")


@pytest.fixture(scope="module")
def reuters(tmp_path_factory: pytest.TempPathFactory) -> tuple[searchlib.BuildReport, Path]:
    index = tmp_path_factory.mktemp("reuters") / "index"
    return searchlib.build(REUTERS, index, jobs=2), index


def test_shared_data_reuters_indexes_every_article(reuters: tuple[searchlib.BuildReport, Path]) -> None:
    report, index = reuters
    assert (report.added, report.skipped) == (20841, ())
    with searchlib.Index.open(index) as opened:
        assert opened.article_count == 20841


def test_shared_data_reuters_searches_are_sensible(reuters: tuple[searchlib.BuildReport, Path]) -> None:
    with searchlib.Index.open(reuters[1]) as index:
        cocoa = index.search("cocoa", limit=10)
        assert cocoa.total > 50
        assert all("COCOA" in hit.title or "cocoa" in hit.snippet.text.lower() for hit in cocoa.hits)
        phrase = index.search('"grain exports"', limit=5)
        words = index.search("grain exports", limit=5)
        assert 0 < phrase.total < words.total
        assert all("grain export" in hit.title.lower() + hit.snippet.text.lower() for hit in phrase.hits)
        opec = {hit.id for hit in index.search("opec oil prices", limit=10).hits}
        articles = [a for a in searchlib.read_corpus(REUTERS) if a.id in opec]
        assert len(articles) == 10
        assert all({"opec", "oil", "price"} <= set(searchlib.analyze(f"{a.title} {a.body}")) for a in articles)
        dated = index.search("title:gold", limit=3).hits
        assert all(hit.date is not None and hit.date.year == 1987 for hit in dated)


def test_shared_data_reuters_military_base_ranks_the_phrase_first(reuters: tuple[searchlib.BuildReport, Path]) -> None:
    # Issue 20: without closeness, stories with "military" in the title and "Air Force Base" far
    # below came first, and the two with "military bases" were third and sixth.
    with searchlib.Index.open(reuters[1], ranking=searchlib.Ranking()) as index:
        hits = index.search("military base", limit=2).hits
    assert [hit.id for hit in hits] == ["reuters-7431", "reuters-3934"]
    assert all("military bases" in hit.snippet.text.lower() for hit in hits)


def test_shared_data_reuters_damaged_copy_keeps_the_good_articles(tmp_path: Path) -> None:
    lines = gzip.open(REUTERS, "rb").read().splitlines()[:400]
    lines[10] = b'{"id": "broken", "title": '
    damaged = gzip.compress(b"\n".join(lines) + b"\n")
    path = tmp_path / "damaged.jsonl.gz"
    path.write_bytes(damaged[: len(damaged) * 3 // 4])
    report = searchlib.build(path, tmp_path / "index")
    assert 150 < report.added < 399
    assert report.skipped[0].line == 11 and report.skipped[0].reason.startswith("not valid JSON")
    assert "cannot read a gzip file after line" in report.skipped[-1].reason


def test_shared_data_reuters_entity_filters_and_facets(reuters: tuple[searchlib.BuildReport, Path]) -> None:
    with searchlib.Index.open(reuters[1]) as index:
        grain = index.search("grain", place="USSR", facets=True, limit=5)
        places = [value.name for value in grain.facets["place"]]
        assert places[0] == "Soviet Union" and grain.facets["place"][0].count == grain.total
        assert "United States" in places[:3]
        assert all(v.count <= grain.total for kind in grain.facets for v in grain.facets[kind])
        by_alias = {alias: index.search("grain", place=alias).total for alias in ("USSR", "Soviet Union", "soviet union")}
        assert len(set(by_alias.values())) == 1
        opec = index.search("oil", organization="OPEC", facets=True)
        # One entity under one name: OPEC's is its full name, which articles define the acronym by.
        assert opec.facets["organization"][0].name == index.aliases.canonical("OPEC", "organization")
        assert "OPEC" in index.aliases.typed("opec", "organization")
        assert {"Saudi Arabia", "Kuwait"} <= {v.name for v in opec.facets["place"]}
        volcker = index.search("person:Volcker", limit=10)
        assert volcker.total > 20
        assert all(any(e.name == "Paul Volcker" for e in hit.entities) for hit in volcker.hits)


def test_shared_data_reuters_dates_sort_and_timeline(reuters: tuple[searchlib.BuildReport, Path]) -> None:
    with searchlib.Index.open(reuters[1]) as index:
        april = index.search("grain", since="1987-04", until="1987-04", limit=50)
        assert april.total > 50
        assert all(hit.date is not None and (hit.date.year, hit.date.month) == (1987, 4) for hit in april.hits)
        in_query = index.search("grain date:1987-04", limit=1)
        assert in_query.total == april.total
        newest = [hit.date for hit in index.search("grain", sort="newest", limit=100).hits]
        assert newest == sorted(newest, reverse=True)
        timeline = index.timeline("grain", by="month")
        assert sum(b.count for b in timeline.buckets) + timeline.undated == timeline.total == index.search("grain").total
        assert [b.period for b in timeline.buckets][:2] == ["1987-02", "1987-03"]


def test_shared_data_reuters_proximity_suggestion_and_more_like_this(reuters: tuple[searchlib.BuildReport, Path]) -> None:
    with searchlib.Index.open(reuters[1]) as index:
        phrase, near = index.search('"grain exports"').total, index.search('"grain exports"~3').total
        assert 0 < phrase < near
        assert index.search("grain exprots").suggestion == "grain exports"
        assert index.search("militray coup").suggestion == "military coup"
        assert index.search("grain exports").suggestion is None
        like = index.more_like("reuters-11316", limit=10)  # "Soviet Union features in U.K. grain exports"
        assert "reuters-11316" not in {hit.id for hit in like.hits}
        words = [set(searchlib.analyze(hit.title)) for hit in like.hits]
        assert sum(bool(w & {"grain", "wheat", "barley", "export"}) for w in words) >= 8


def test_shared_data_reuters_known_wire_repeats_fold_together(reuters: tuple[searchlib.BuildReport, Path]) -> None:
    with searchlib.Index.open(reuters[1]) as index:
        # Filed twice, at 05:42 and 07:11 the same day.
        result = index.search('"Bank of Japan will sell 300 billion yen of financing bills"', limit=5)
        story = next(hit for hit in result.hits if hit.id in {"reuters-5809", "reuters-5853"})
        assert {story.id, *story.similar} >= {"reuters-5809", "reuters-5853"}
        assert result.stories < result.total
        everything = index.search('"Bank of Japan will sell 300 billion yen of financing bills"', fold_duplicates=False, limit=10)
        assert {"reuters-5809", "reuters-5853"} <= {hit.id for hit in everything.hits}


def test_shared_data_reuters_real_queries_all_answer(reuters: tuple[searchlib.BuildReport, Path]) -> None:
    """Any text a person types is a query (issue 18): the first 2,000 MS MARCO web queries, as
    typed (colons, question marks, quotes and all), each answer on Reuters without an error.
    (benchmarks and the closing note run the first 10,000.)"""
    queries = REUTERS.parent / "queries-msmarco.tsv.gz"
    with gzip.open(queries, "rt", encoding="utf-8") as stream:
        typed = [line.rstrip("\n").split("\t", 1)[-1] for line, _ in zip(stream, range(2000))]
    with searchlib.Index.open(reuters[1]) as index:
        for text in typed:
            result = index.search(text)
            assert result.total >= len(result.hits)
