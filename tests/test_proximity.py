"""Closeness counts (proximity.py), and pseudo-relevance feedback (rescoring.Rescorer), on small
hand-made corpora whose BM25 scores are equal by construction, so that only closeness, or
feedback, can order them."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import searchlib
from searchlib import Ranking
from searchlib.proximity import PositionReader, closeness
from searchlib.scoring import top

#: Words that are no stop words and never searched for: every article is 40 of them, shuffled
#: (or the articles would be folded as copies of one story), with "military" and "base" put in
#: at chosen places, so BM25 scores them all alike.
FILLER = """council harbour budget roads minister report weather market rail court tunnel bridge
    school library museum garden theatre concert festival parade bakery tailor farmer fisherman
    railway station airport ferry tram bicycle lantern chimney orchard meadow river valley hill
    forest lake island village town""".split()


def filler(name: str, count: int = 40) -> list[str]:
    words = list(FILLER)
    random.Random(name).shuffle(words)
    return words[:count]


def article(name: str, first: int, second: int) -> dict[str, str]:
    body = filler(name)
    body[first], body[second] = "military", "base"
    return {"id": name, "title": "Local news", "body": " ".join(body)}


def write(where: Path, articles: list[dict[str, str]]) -> Path:
    corpus = where / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(a) + "\n" for a in articles))
    return corpus


@pytest.fixture(scope="module")
def apart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The two words 30, 10, 2 and 1 positions apart (in that order in the corpus), and one
    article with "military" only."""
    where = tmp_path_factory.mktemp("proximity")
    articles = [article("far", 5, 35), article("ten-apart", 5, 15), article("two-apart", 5, 7), article("adjacent", 5, 6)]
    articles.append({"id": "military-only", "title": "Local news", "body": " ".join(["military", *filler("military-only")[1:]])})
    searchlib.build(write(where, articles), where / "index")
    yield where / "index"


def ids(result: searchlib.SearchResult) -> list[str]:
    return [hit.id for hit in result.hits]


def test_the_nearer_the_words_the_higher_the_article(apart: Path) -> None:
    with searchlib.Index.open(apart, ranking=Ranking()) as index:
        for query in ("military base", "base military", "military bases"):  # either order, any form
            assert ids(index.search(query, match="any")) == ["adjacent", "two-apart", "ten-apart", "far", "military-only"]
        scores = [hit.score for hit in index.search("military base").hits]
        assert scores[0] > scores[1] > scores[2] > scores[3]
        assert scores[2] - scores[3] < 0.05 * (scores[0] - scores[3])  # ten apart: next to nothing


def test_without_closeness_the_same_words_score_the_same(apart: Path) -> None:
    with searchlib.Index.open(apart, ranking=Ranking(proximity=0)) as index:
        hits = index.search("military base").hits
    assert len({round(hit.score, 9) for hit in hits[:4]}) == 1
    assert [hit.id for hit in hits[:4]] == ["far", "ten-apart", "two-apart", "adjacent"]  # ties: corpus order


def test_closeness_reorders_but_never_adds_or_removes(apart: Path) -> None:
    with searchlib.Index.open(apart, ranking=Ranking()) as index, searchlib.Index.open(
        apart, ranking=Ranking(proximity=0)
    ) as plain:
        for query in ("military base", "military", "base weather", "military OR base"):
            with_closeness, without = index.search(query, limit=20, match="any"), plain.search(query, limit=20, match="any")
            assert with_closeness.total == without.total
            assert sorted(ids(with_closeness)) == sorted(ids(without))
            assert ids(with_closeness)[-1:] == ids(without)[-1:]  # an article with some words stays below
        # One word, or a query that is not plain words (a phrase here): nothing to measure.
        assert [h.score for h in index.search("military").hits] == [h.score for h in plain.search("military").hits]
        assert ids(index.search('"military base"')) == ids(plain.search('"military base"')) == ["adjacent"]


def test_closeness_is_explained_and_adds_up(apart: Path) -> None:
    with searchlib.Index.open(apart, ranking=Ranking(proximity=0.5)) as index:
        hit = index.search("military base", explain=True).hits[0]
    assert hit.id == "adjacent"
    assert [(p.field, p.term, p.weight) for p in hit.explanation][-1:] == [("closeness", "militari base", 0.5)]
    assert sum(p.score for p in hit.explanation) == pytest.approx(hit.score)


def test_ranked_ranks_as_search_does(apart: Path) -> None:
    with searchlib.Index.open(apart, ranking=Ranking()) as index:
        assert [doc for doc, _ in index.ranked("military base weather")] == ids(index.search("military base weather", match="any"))
        assert [score for _, score in index.ranked("military base")] == [h.score for h in index.search("military base", match="any").hits]


def test_closeness_of_neighbours() -> None:
    # Article 0: a b (adjacent). Article 1: a x b (two apart). Article 2: a a (one word only).
    # Article 3: a b a, where each "a" has "b" as its neighbour.
    positions = [
        (np.array([0, 1, 2, 2, 3, 3]), np.array([0, 0, 0, 1, 0, 2])),  # a
        (np.array([0, 1, 3]), np.array([1, 2, 1])),  # b
    ]
    idfs, k1 = [2.0, 3.0], 1.2
    saturation = np.full(4, 1.5)
    got = closeness(positions, idfs, saturation, k1)

    def part(idf: float, accumulator: float) -> float:
        return idf * (k1 + 1) * accumulator / (accumulator + 1.5)

    assert got[0] == pytest.approx(part(2.0, 3.0) + part(3.0, 2.0))  # each gains the other's idf
    assert got[1] == pytest.approx(part(2.0, 3.0 / 4) + part(3.0, 2.0 / 4))  # two apart: a quarter
    assert got[2] == 0.0
    assert got[3] == pytest.approx(part(2.0, 6.0) + part(3.0, 4.0))
    assert not closeness(positions[:1], idfs[:1], saturation, k1).any()  # one word: nothing


def test_top_takes_the_groups_in_turn() -> None:
    scores = np.array([5.0, 9.0, 1.0, 7.0, 7.0, 3.0])
    first = np.array([False, False, True, False, True, True])
    assert top(scores, [first, ~first], 4).tolist() == [4, 5, 2, 1]
    assert top(scores, [~first], 2).tolist() == [1, 3]
    assert top(scores, [first], 10).tolist() == [4, 5, 2]


def test_positions_are_read_as_whoosh_reads_them(tmp_path: Path) -> None:
    # Two segments (two jobs) and deleted articles (an update): offsets and deletions handled.
    articles = [article(f"a{n}", n % 30, 30 + n % 10) for n in range(60)]
    corpus = write(tmp_path, articles)
    searchlib.build(corpus, tmp_path / "index", jobs=2)
    articles[3]["body"] += " military"
    write(tmp_path, articles)
    searchlib.update(corpus, tmp_path / "index")
    with searchlib.Index.open(tmp_path / "index") as index:
        searcher = index._snapshot.searcher
        reader = PositionReader(list(searcher.reader().leaf_readers()))
        docs = np.array(sorted(searcher.document_number(id=a["id"]) for a in articles))
        for term in ("militari", "base", "harbour", "nothing"):
            which, where = reader.positions(term, docs)
            expected: list[tuple[int, int]] = []
            if searcher.reader().doc_frequency("text", term):
                matcher = searcher.reader().postings("text", term)
                while matcher.is_active():
                    if matcher.id() in set(docs.tolist()):
                        at = int(np.searchsorted(docs, matcher.id()))
                        expected += [(at, p) for p in matcher.value_as("positions")]
                    matcher.next()
            assert list(zip(which.tolist(), where.tolist())) == sorted(expected)


@pytest.fixture(scope="module")
def volcanoes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three articles about a volcano's ash, then two that name a volcano once, one about ash and
    one about football, alike for BM25 (the football one first in the corpus)."""
    where = tmp_path_factory.mktemp("feedback")
    about = "volcano volcano ash eruption ash cloud eruption flights grounded ash"
    articles = [{"id": f"eruption{n}", "title": "Volcano erupts", "body": " ".join([about, *filler(f"e{n}", 10)])} for n in range(3)]
    articles.append({"id": "football", "title": "Local news", "body": " ".join(["volcano match goal penalty referee", *filler("f", 10)])})
    articles.append({"id": "ash", "title": "Local news", "body": " ".join(["volcano ash cloud eruption flights", *filler("a", 10)])})
    articles.append({"id": "unrelated", "title": "Local news", "body": " ".join(["ash trees planted in the park", *filler("u", 10)])})
    searchlib.build(write(where, articles), where / "index")
    return where / "index"


def test_feedback_is_off_by_default(volcanoes: Path) -> None:
    with searchlib.Index.open(volcanoes, ranking=Ranking()) as index:
        assert ids(index.search("volcano"))[3:] == ["football", "ash"]  # alike: corpus order


def test_feedback_brings_up_articles_like_the_best(volcanoes: Path) -> None:
    with searchlib.Index.open(volcanoes, ranking=Ranking(feedback=3)) as index:
        result = index.search("volcano", explain=True)
        assert ids(result)[3:] == ["ash", "football"]  # "ash", "eruption" are the best's words
        assert result.total == 5  # feedback reorders what the query's words match; "unrelated" stays out
        hit = result.hits[3]
        parts = {p.term: p for p in hit.explanation}
        assert {"volcano", "ash", "erupt"} <= set(parts)
        # The query keeps half its weight; "volcano", also a word of the best articles, gains more.
        assert Ranking().feedback_weight < parts["volcano"].weight < 1
        assert sum(p.score for p in hit.explanation) == pytest.approx(hit.score)
        assert [doc for doc, _ in index.ranked("volcano")] == ids(result)


def test_ranking_settings_from_the_environment() -> None:
    env = {"SEARCHLIB_PROXIMITY": "0", "SEARCHLIB_FEEDBACK": "10", "SEARCHLIB_FEEDBACK_TERMS": "20", "SEARCHLIB_FEEDBACK_WEIGHT": "0.7"}
    assert Ranking.from_env(env) == Ranking(proximity=0, feedback=10, feedback_terms=20, feedback_weight=0.7)
    assert (Ranking().proximity, Ranking().feedback) == (0.25, 0)
    with pytest.raises(ValueError, match="SEARCHLIB_FEEDBACK_WEIGHT: feedback_weight must be from 0 to 1, not 1.5"):
        Ranking.from_env({"SEARCHLIB_FEEDBACK_WEIGHT": "1.5"})
    with pytest.raises(ValueError, match="SEARCHLIB_PROXIMITY: proximity must be from 0 to 10, not -1.0"):
        Ranking.from_env({"SEARCHLIB_PROXIMITY": "-1"})
