"""Plain-word queries are scored a posting list at a time (scoring.WordScorer), then rescored
(scoring.Rescorer: closeness); every other query one article at a time by Whoosh. This pins the
two together: with closeness off, on a fixed corpus with deleted articles in the index, the same
hits in the same order with the same scores, explanations, totals, folded copies and pages; and
``ranked`` (what ``searchlib eval`` measures) ranks as ``search`` does, closeness on or off."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest

import searchlib
from searchlib import query as query_module

VOCABULARY = (
    "grain wheat export harbour strike minister bank rates oil price tanker frost coffee cocoa "
    "election rebel border treaty airline merger steel union court ruling drought harvest"
).split()


def article(number: int, rng: random.Random) -> dict[str, object]:
    weights = [1 / (rank + 1) for rank in range(len(VOCABULARY))]  # some words common, most rare
    title = " ".join(rng.choices(VOCABULARY, weights, k=rng.randint(2, 6)))
    body = " ".join(rng.choices(VOCABULARY, weights, k=rng.randint(5, 300)))
    return {"id": f"a{number}", "title": title.capitalize(), "date": f"2012-{rng.randint(1, 12):02d}-10", "body": body}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> searchlib.Index:
    rng = random.Random(20261128)
    articles = [article(n, rng) for n in range(400)]
    articles += [dict(articles[n], id=f"copy{n}") for n in range(0, 60, 3)]  # copies: stories to fold
    where = tmp_path_factory.mktemp("scoring")
    corpus = where / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(a) + "\n" for a in articles))
    searchlib.build(corpus, where / "index", jobs=2)  # two segments: article numbers offset in the second
    for changed in articles[100:140]:  # re-indexed: the old copies stay in the segment, deleted
        changed["body"] = f"{changed['body']} harvest"
    corpus.write_text("".join(json.dumps(a) + "\n" for a in articles))
    searchlib.update(corpus, where / "index")
    with searchlib.Index.open(where / "index", ranking=searchlib.Ranking()) as opened:
        yield opened


@pytest.fixture(scope="module")
def bm25_only(index: searchlib.Index) -> Iterator[searchlib.Index]:
    """The same index with closeness off: BM25F alone, which Whoosh's searcher computes too."""
    with searchlib.Index.open(index.path, ranking=searchlib.Ranking(proximity=0)) as opened:
        yield opened


def queries() -> list[str]:
    rng = random.Random(7)
    chosen = [" ".join(rng.sample(VOCABULARY, rng.randint(1, 4))) for _ in range(40)]
    return chosen + ["harvest", "harvest harvest grain", "grain AND wheat", "grain OR volcano", "volcano", "frost zebra"]


def same(fast: searchlib.SearchResult, whoosh: searchlib.SearchResult) -> None:
    assert (fast.total, fast.stories, fast.pages) == (whoosh.total, whoosh.stories, whoosh.pages)
    assert [h.score for h in fast.hits] == pytest.approx([h.score for h in whoosh.hits], rel=1e-12)
    # Ids in the same order, except where two scores are equal to a rounding unit.
    assert sorted(zip([round(h.score, 9) for h in fast.hits], [h.id for h in fast.hits])) == sorted(
        zip([round(h.score, 9) for h in whoosh.hits], [h.id for h in whoosh.hits])
    )
    assert [h.id for h in fast.hits if not _tied(fast, h)] == [h.id for h in whoosh.hits if not _tied(whoosh, h)]
    assert [(h.snippet, h.title_snippet, set(h.similar)) for h in fast.hits if not _tied(fast, h)] == [
        (h.snippet, h.title_snippet, set(h.similar)) for h in whoosh.hits if not _tied(whoosh, h)
    ]


def _tied(result: searchlib.SearchResult, hit: searchlib.Hit) -> bool:
    return sum(abs(other.score - hit.score) < 1e-9 for other in result.hits) > 1


OPTIONS = ({"limit": 15}, {"limit": 10, "page": 3}, {"limit": 20, "fold_duplicates": False}, {"since": "2012-06"})


@pytest.mark.parametrize("query", queries())
def test_plain_words_rank_as_whoosh_does(bm25_only: searchlib.Index, query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = [bm25_only.search(query, explain=explain, **options) for options in OPTIONS for explain in (False, True)]  # type: ignore[arg-type]
    fast_ranked = bm25_only.ranked(query, limit=60)
    monkeypatch.setattr(query_module, "plain_words", lambda query: None)  # from here on, Whoosh's searcher
    whoosh = [bm25_only.search(query, explain=explain, **options) for options in OPTIONS for explain in (False, True)]  # type: ignore[arg-type]
    for mine, theirs in zip(fast, whoosh):
        same(mine, theirs)
        for hit, other in zip(mine.hits, theirs.hits):
            if hit.id == other.id:
                assert [(p.field, p.term, p.weight) for p in hit.explanation] == [(p.field, p.term, p.weight) for p in other.explanation]
                assert [p.score for p in hit.explanation] == pytest.approx([p.score for p in other.explanation], rel=1e-12)
    whoosh_ranked = bm25_only.ranked(query, limit=60)
    assert [score for _, score in fast_ranked] == pytest.approx([score for _, score in whoosh_ranked], rel=1e-12)
    assert sorted((round(score, 9), doc) for doc, score in fast_ranked) == sorted((round(score, 9), doc) for doc, score in whoosh_ranked)


@pytest.mark.parametrize("query", queries())
def test_ranked_ranks_as_search_does(index: searchlib.Index, query: str) -> None:
    # searchlib eval measures ranked(): the order of search, closeness and all, every copy kept.
    ranked = index.ranked(query, limit=40)
    hits = index.search(query, limit=40, fold_duplicates=False).hits
    assert [doc for doc, _ in ranked] == [hit.id for hit in hits]
    assert [score for _, score in ranked] == [hit.score for hit in hits]


@pytest.mark.parametrize("query", queries()[:20])
def test_explained_parts_add_up_to_the_score(index: searchlib.Index, query: str) -> None:
    for hit in index.search(query, explain=True, limit=10).hits:
        assert sum(part.score for part in hit.explanation) == pytest.approx(hit.score, rel=1e-9)
    assert [h.id for h in index.search(query, explain=True).hits] == [h.id for h in index.search(query).hits]


def test_the_pinned_corpus_really_has_copies_deletions_and_segments(index: searchlib.Index) -> None:
    harvest = index.search("harvest", limit=50)
    assert harvest.total > harvest.stories > 40  # copies folded
    assert any(hit.similar for hit in harvest.hits)
    reader = index._searcher.reader()
    assert reader.has_deletions()
    assert len(list(reader.leaf_readers())) >= 2


@pytest.mark.parametrize("field_weights", ["text=1", "title=2,body=1,entities=1.5"])
def test_plain_words_are_parsed_as_the_query_parser_would(index: searchlib.Index, field_weights: str) -> None:
    # Words alone skip Whoosh's parser; in brackets, they go through it.
    with searchlib.Index.open(index.path, ranking=searchlib.Ranking(field_weights=field_weights)) as weighted:
        for query in [*queries()[:10], "harvest harvest", "the of", "Grain 1987 Ürümqi", "and or not"]:
            direct, parsed = weighted.search(query, limit=30), weighted.search(f"({query})", limit=30)
            assert [(h.id, h.score) for h in direct.hits] == [(h.id, h.score) for h in parsed.hits]
            assert direct.total == parsed.total


@pytest.mark.parametrize(
    ("query", "total", "top", "closeness"),
    [
        ("cocoa frost", 400, ["a394", "a60", "a86", "a150", "a257"], ["a394", "a86", "a246", "a106", "a167"]),
        ("harvest drought court", 398, ["a6", "a81", "a330", "a105", "a104"], ["a6", "a81", "a330", "a105", "a104"]),
        ("airline merger union steel", 402, ["a193", "a35", "a309", "a68", "a255"], ["a309", "a35", "a193", "a68", "a291"]),
    ],
)
def test_top_results_stay_as_pinned(
    index: searchlib.Index, bm25_only: searchlib.Index, query: str, total: int, top: list[str], closeness: list[str]
) -> None:
    # BM25F's were recorded when the posting-list scorer came in (issue 6), those with closeness
    # when it came in (issue 20): a speed-up must not move them. A deliberate ranking change
    # updates them, saying why.
    result = bm25_only.search(query, limit=5)
    assert (result.total, [hit.id for hit in result.hits]) == (total, top)
    result = index.search(query, limit=5)
    assert (result.total, [hit.id for hit in result.hits]) == (total, closeness)
