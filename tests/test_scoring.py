"""Queries are matched and scored a posting list at a time (matching.py, scoring.TermPostings),
not one article at a time by Whoosh's matchers. This pins the two together: on a fixed corpus,
with deleted articles in the index and several segments, the same articles in the same order
with the same scores as Whoosh's own searcher gives for the same parsed query."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest

import searchlib
from searchlib.query_language import parse_query

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


def whoosh_ranked(index: searchlib.Index, query: str) -> list[tuple[str, float]]:
    """What Whoosh's own searcher ranks for the parsed query: every article with all the words,
    by score, then the rest of those with any."""
    snapshot = index._snapshot
    parsed = parse_query(query, snapshot.schema, index.ranking.field_weights)
    ranked = list(snapshot.searcher.search(parsed.all_words, limit=None))
    if parsed.any_word is not None:
        ranked += snapshot.searcher.search(parsed.any_word, limit=None, mask={hit.docnum for hit in ranked})
    ids = snapshot.ids()
    return [(ids[hit.docnum], float(hit.score)) for hit in ranked]


def in_order_but_ties(ours: list[tuple[str, float]], theirs: list[tuple[str, float]]) -> None:
    assert len(ours) == len(theirs)
    assert [score for _, score in ours] == pytest.approx([score for _, score in theirs], rel=1e-9)
    assert dict(ours) == pytest.approx(dict(theirs), rel=1e-9)  # the same score for each article
    untied = [i for i, (_, score) in enumerate(theirs) if sum(abs(s - score) < 1e-9 for _, s in theirs) == 1]
    assert [ours[i][0] for i in untied] == [theirs[i][0] for i in untied]


OPERATOR_QUERIES = ['"harvest drought"', '"wheat export"~3', "title:grain", "grain AND (wheat OR volcano)",
                    "harv*", "title:harvest^2 frost", "(frost OR coffee) AND (cocoa OR bank)"]


@pytest.mark.parametrize("query", queries() + OPERATOR_QUERIES)
def test_matching_scores_as_whoosh_does(bm25_only: searchlib.Index, query: str) -> None:
    ours = bm25_only.search(query, match="any", limit=1000, fold_duplicates=False)
    assert ours.total == len(whoosh_ranked(bm25_only, query))
    in_order_but_ties([(hit.id, hit.score) for hit in ours.hits], whoosh_ranked(bm25_only, query))


@pytest.mark.parametrize("query", queries() + OPERATOR_QUERIES)
def test_ranked_ranks_as_search_does(index: searchlib.Index, query: str) -> None:
    # searchlib eval measures ranked(): the order of search, closeness and all, every copy kept.
    ranked = index.ranked(query, limit=40)
    hits = index.search(query, limit=40, fold_duplicates=False, match="any").hits
    assert [doc for doc, _ in ranked] == [hit.id for hit in hits]
    assert [score for _, score in ranked] == [hit.score for hit in hits]


@pytest.mark.parametrize("query", queries()[:20] + OPERATOR_QUERIES)
def test_explained_parts_add_up_to_the_score(index: searchlib.Index, query: str) -> None:
    for hit in index.search(query, explain=True, limit=10, match="any").hits:
        assert sum(part.score for part in hit.explanation) == pytest.approx(hit.score, rel=1e-9)
    assert [h.id for h in index.search(query, explain=True).hits] == [h.id for h in index.search(query).hits]


def test_the_pinned_corpus_really_has_copies_deletions_and_segments(index: searchlib.Index) -> None:
    harvest = index.search("harvest", limit=50)
    assert harvest.total > harvest.stories > 40  # copies folded
    assert any(hit.similar for hit in harvest.hits)
    reader = index._snapshot.searcher.reader()
    assert reader.has_deletions()
    assert len(list(reader.leaf_readers())) >= 2


@pytest.mark.parametrize("field_weights", ["text=1", "title=2,body=1,entities=1.5"])
def test_plain_words_are_parsed_as_the_query_parser_would(index: searchlib.Index, field_weights: str) -> None:
    # Words alone skip Whoosh's parser; in brackets, they go through it.
    with searchlib.Index.open(index.path, ranking=searchlib.Ranking(field_weights=field_weights, proximity=0)) as weighted:
        for query in [*queries()[:10], "harvest harvest", "the of", "Grain 1987 Ürümqi", "and or not"]:
            direct, parsed = weighted.search(query, limit=30, match="any"), weighted.search(f"({query})", limit=30, match="any")
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
    result = bm25_only.search(query, limit=5, match="any")
    assert (result.total, [hit.id for hit in result.hits]) == (total, top)
    result = index.search(query, limit=5, match="any")
    assert (result.total, [hit.id for hit in result.hits]) == (total, closeness)
