"""Searching: ranking, the query language, snippets, pages and syntax errors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchlib
from searchlib import Entity, QuerySyntaxError, ScorePart, Snippet
from searchlib.analysis import token_terms
from searchlib.query_language import parse_query
from searchlib.results import Marked, term_offsets
from searchlib.schema import make_schema

from .conftest import LONG_ARTICLE_WORD, SEED


def ids(result: searchlib.SearchResult) -> list[str]:
    return [hit.id for hit in result.hits]


def test_military_base_finds_the_seed_article_first_with_the_phrase_highlighted(index: searchlib.Index) -> None:
    result = index.search("military base")
    top = result.hits[0]
    assert top.id == SEED.name
    assert top.rank == 1 and top.score > 0
    assert "military bases" in top.snippet.matches
    assert "[military bases] on its territory" in top.snippet.to_text()
    assert top.title_snippet.to_text() == "Tajikistan Rejects Foreign [Base] Offers in Deference to Russia"


@pytest.mark.parametrize(
    ("query", "title", "body"),
    [
        ('"military base"', "Tajikistan Rejects Foreign Base Offers in Deference to Russia",
         ("military bases", "military bases", "military base")),
        # A word of the query outside the phrase is marked wherever it is, as without the phrase.
        ('"military base" base', "Tajikistan Rejects Foreign [Base] Offers in Deference to Russia",
         ("military bases", "bases", "military bases", "military base", "Base", "base")),
    ],
)
def test_a_phrase_is_marked_only_where_its_words_form_it(index: searchlib.Index, query: str, title: str,
                                                         body: tuple[str, ...]) -> None:
    article = index.article(SEED.name, query=query)
    assert (article.title_snippet.to_text(), article.body_snippet.matches) == (title, body)
    top = index.search(query).hits[0]
    assert top.id == SEED.name and top.title_snippet.to_text() == title
    assert set(top.snippet.matches) <= set(body) and "military bases" in top.snippet.matches


def _phrase_marks(text: str, phrase: tuple[str, ...], slop: int) -> list[int]:
    """The token numbers ``term_offsets`` marks for ``phrase`` in ``text`` (no stop words in it)."""
    tokens = token_terms(text)
    starts = [start for _, _, start, _, _ in tokens]
    return sorted(starts.index(start) for _, start, _ in term_offsets(tokens, Marked(phrases=frozenset({(phrase, slop, 1)}))))


@given(st.lists(st.sampled_from("xyz"), max_size=12), st.lists(st.sampled_from("xyz"), min_size=1, max_size=4),
       st.integers(1, 3))
def test_a_phrase_marks_exactly_the_words_of_its_occurrences(text: list[str], phrase: list[str], slop: int) -> None:
    words = " ".join(text)
    expected: set[int] = set()
    for chosen in itertools.combinations(range(len(text)), len(phrase)):
        if ([text[at] for at in chosen] == phrase
                and all(0 < b - a <= slop for a, b in zip(chosen, chosen[1:]))):
            expected.update(chosen)
    assert _phrase_marks(words, tuple(phrase), slop) == sorted(expected)


def test_a_phrase_is_marked_where_its_field_matched_it_across_lines(tmp_path: Path) -> None:
    # body: counts no position for a line break; text (plain words) counts one, so there a
    # phrase does not run on from one paragraph into the next.
    lines = [json.dumps({"id": "a", "title": "Polls", "body": "The figures show.\n\nThey gave Labour 35 pct."})]
    (tmp_path / "news.jsonl").write_text("\n".join(lines), encoding="utf-8")
    searchlib.build(tmp_path / "news.jsonl", tmp_path / "index")
    with searchlib.Index.open(tmp_path / "index") as small:
        assert small.search('body:"show gave"').hits[0].snippet.matches == ("show", "gave")
        assert small.search('"show gave"').total == 0


def test_a_long_phrase_over_many_repeats_is_marked_at_once() -> None:
    # Trying each way a phrase could go on, as the first version did, takes 40^7 steps here.
    text = " ".join(["b"] * 3000 + ["c"])
    assert _phrase_marks(text, ("b",) * 8 + ("c",), 40) == list(range(3000 - 8 * 40, 3001))


def test_articles_with_every_word_are_counted_and_those_with_some_said_apart(index: searchlib.Index) -> None:
    result = index.search("military base")
    assert ids(result) == [SEED.name, "base-in-title.txt", "base-in-body.txt"]
    assert (result.total, result.some_words, result.match) == (3, 1, "all")
    assert index.timeline("military base").total == 3
    assert sum(v.count for v in index.search("military base", facets=True).facets["place"]) <= 3 * 10


def test_with_match_any_articles_with_all_words_rank_above_those_with_some(index: searchlib.Index) -> None:
    result = index.search("military base", match="any")
    assert ids(result)[:3] == [SEED.name, "base-in-title.txt", "base-in-body.txt"]
    # "military" four times, "base" never: still returned, after every article with both words.
    assert ids(result)[3:] == ["military-only.txt"]
    assert (result.total, result.some_words) == (4, 0)
    # Weighted up, "military" alone outscores both words in a long article (closeness included);
    # it still comes after.
    boosted = index.search("military^8 base", match="any")
    assert ids(boosted)[2:] == ["base-in-body.txt", "military-only.txt"]
    assert boosted.hits[3].score > boosted.hits[2].score


def test_with_no_article_having_every_word_those_with_some_are_shown_and_it_says_so(index: searchlib.Index) -> None:
    result = index.search("military zanzibar")
    assert result.total == 4 and result.some_words == 0
    assert result.notices == ("No article has all the words, so these are the articles with some of them",)


def test_a_repeated_query_word_counts_once_per_repeat(index: searchlib.Index) -> None:
    article = index.search("military base").hits[0].id

    def militari(query: str) -> ScorePart:
        hit = next(hit for hit in index.search(query, explain=True).hits if hit.id == article)
        return next(p for p in hit.explanation if p.term == "militari")

    once, twice = militari("military base"), militari("military base militaries")  # same stem
    assert (once.weight, twice.weight) == (1.0, 2.0)
    assert twice.score == pytest.approx(2 * once.score)


def test_a_word_in_nearly_every_article_counts_for_little(tmp_path: Path) -> None:
    # Lucene's idf: "report" (in all 10) weighs 2% of "volcano" (in 1); Whoosh's own idf, 38%.
    lines = [
        json.dumps({"id": f"a{i}", "title": f"Story {i}", "body": "The report came out." + (" A volcano erupted." if i == 0 else "")})
        for i in range(10)
    ]
    (tmp_path / "news.jsonl").write_text("\n".join(lines), encoding="utf-8")
    searchlib.build(tmp_path / "news.jsonl", tmp_path / "index")
    with searchlib.Index.open(tmp_path / "index") as small:
        parts = {p.term: p.score for p in small.search("volcano report", explain=True).hits[0].explanation}
    assert parts["report"] < 0.05 * parts["volcano"]


def test_title_weighs_more_than_body(index: searchlib.Index) -> None:
    result = index.search("military base NOT tajikistan")
    assert ids(result)[:2] == ["base-in-title.txt", "base-in-body.txt"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"military base"', {SEED.name, "base-in-title.txt", "base-in-body.txt"}),
        ('"base military"', set()),
        ('"parliament vote"', set()),  # the title's last word, the body's first
        ('"parliament military"', set()),  # the title's end, then its second copy in `text`
        ("military AND parade", {"military-only.txt"}),
        ("parade OR festival", {"military-only.txt", "world/undated.txt"}),
        ("military NOT base", {"military-only.txt"}),
        ("military -base", {"military-only.txt"}),
        ('military -"military base"', {"military-only.txt"}),
        ("(parade OR coast) AND military", {"military-only.txt", "base-in-title.txt", "base-in-body.txt"}),
        ("title:parade", {"military-only.txt"}),
        ("title:budget", {"base-in-body.txt"}),
        ("body:budget", {"long-article.txt"}),
        ("entities:rakhmon", {SEED.name}),
        ('entities:"imomali rakhmon"', {SEED.name}),  # entities: searches the field of each kind
        ('entities:"rakhmon imomali"', set()),
        ("entities:rakhm*", {SEED.name}),
        ("entities:rakhmn~", {SEED.name}),
        ("entities:nato AND entities:tajikistan", {SEED.name}),
        ("caption:bucharest", {"world/romania.txt"}),
        ('title:"grain exports"', {"wire-1"}),
        ("ceausescu", {"world/romania.txt"}),
        ("Zurich", {"wire-2"}),
        ("the", set()),
        ("person:rakhmon", {SEED.name}),
        ('person:"Imomali Rakhmon"', {SEED.name}),
        ("person:tajikistan", set()),
        ("org:NATO", {SEED.name}),
        ("organization:nato", {SEED.name}),
        ("place:USA", {"world/markets.txt"}),
        ("place:U.S.", {"world/markets.txt"}),
        ('place:"central asia"', {SEED.name}),
        ("entity:Russia", {SEED.name}),
        ("entity:london", {"world/markets.txt", "wire-3", "4"}),
        ("military AND place:tajikistan", {SEED.name}),
    ],
)
def test_query_language(index: searchlib.Index, query: str, expected: set[str]) -> None:
    result = index.search(query, limit=50)
    assert set(ids(result)) == expected
    assert result.total == len(expected)


def test_stemming_and_accents_meet_in_the_middle(index: searchlib.Index) -> None:
    (hit,) = index.search("Romanian remembering cafes Zürich OR bucharest").hits[:1]
    assert hit.id == "world/romania.txt"
    assert index.search("CAFÉ").hits[0].snippet.matches == ("café",)


def test_long_articles_are_highlighted_past_32k_characters(index: searchlib.Index) -> None:
    (hit,) = index.search(LONG_ARTICLE_WORD).hits
    assert hit.snippet.matches == (LONG_ARTICLE_WORD,)
    assert hit.snippet.text.startswith("…") and len(hit.snippet.text) < 400


def test_snippet_of_a_title_only_match_is_the_start_of_the_body(index: searchlib.Index) -> None:
    (hit,) = index.search("title:parliament").hits
    assert hit.snippet == Snippet("The vote passed after a long debate over funding and the environmental impact on the coast.")
    assert hit.title_snippet.matches == ("Parliament",)


def test_pages_run_across_the_all_words_and_some_words_tiers(index: searchlib.Index) -> None:
    everything = ids(index.search("military base", limit=10, match="any"))
    pages = [index.search("military base", limit=1, page=p, match="any") for p in (1, 2, 3, 4, 5)]
    assert [h.id for p in pages for h in p.hits] == everything
    assert [p.total for p in pages] == [4] * 5
    assert [h.rank for p in pages for h in p.hits] == [1, 2, 3, 4]
    assert pages[4].hits == ()


@pytest.mark.parametrize(
    ("query", "message", "position"),
    [
        ("", "The query is empty: give at least one word to search for", None),
        ("   ", "The query is empty: give at least one word to search for", None),
        ('"military base', 'Unclosed quote: add the closing " (at position 1 of the query)', 0),
        ("military AND", "'AND' needs a word after it (at position 10 of the query)", 9),
        ("OR base", "'OR' needs a word before it (at position 1 of the query)", 0),
        ("NOT", "'NOT' needs a word after it (at position 1 of the query)", 0),
        ("(military base", "Unclosed '(': add the closing ')' (at position 1 of the query)", 0),
        ("military)", "Unmatched ')': remove it or add '(' before it (at position 9 of the query)", 8),
        ("(military AND)", "'AND' needs a word after it (at position 11 of the query)", 10),
        ("author:smith", "Unknown field 'author:'; the fields are body, caption, date, entities, entity, id, org, organization, path, person, place, text, title, url (at position 1 of the query)", 0),
        ("title: base", "'title:' needs a word right after it, as in title:word (at position 1 of the query)", 0),
        ("base^-1", "'^-1' is no boost or distance: write a number after it, as in grain^2, grain~1 or \"grain exports\"~3 "
         "(at position 5 of the query)", 4),
        ('"military base"~-3', "'~-3' is no boost or distance: write a number after it, as in grain^2, grain~1 or "
         '"grain exports"~3 (at position 16 of the query)', 15),
    ],
)
def test_strict_syntax_errors_are_one_line_messages(index: searchlib.Index, query: str, message: str, position: int | None) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        index.search(query, strict=True)
    assert str(caught.value) == message
    assert caught.value.position == position and "\n" not in message


@pytest.mark.parametrize(
    ("query", "read_as", "notice"),
    [
        ('"military base', '"military base"', 'Closed the quote opened at position 1'),
        ("military AND", "military", "Read 'AND' as a word: it needs a word before and after it"),
        ("OR base", "base", "Read 'OR' as a word: it needs a word before and after it"),
        ("(military base", "military base", "Closed the '(' opened at position 1"),
        ("military)", "military", "Left out the ')' at position 9, which closed nothing"),
        ("author:smith", "author smith", "Read 'author:' as a word: it is no field"),
        ("title: base", "title base", "Read 'title:' as a word: a field needs a word right after it, as in title:word"),
        ("credit cards: how many days in a billing cycle", "credit cards how many days in a billing cycle", "Read 'cards:' as a word"),
        ("date:someday grain", "date someday grain", "Read 'date:someday' as words: Cannot read the date 'someday'"),
        ("base^1e400 military", "base 1e400 military", "Read 'base^1e400' as words: '^1e400' is no boost or distance"),
        ("military~abc", "military abc", "Read 'military~abc' as words: '~abc' is no boost or distance"),
    ],
)
def test_any_text_is_a_query_read_as_words_with_a_notice(index: searchlib.Index, query: str, read_as: str, notice: str) -> None:
    result = index.search(query, match="any")
    assert any(n.startswith(notice) for n in result.notices), result.notices
    assert ids(result) == ids(index.search(read_as, match="any"))


@pytest.mark.parametrize("query", ["what is a military base?", "military base?", "base?", "military base ?", "military base ??"])
def test_a_question_mark_ending_a_word_is_punctuation(index: searchlib.Index, query: str) -> None:
    assert ids(index.search(query)) == ids(index.search(query.replace("?", "")))


def test_a_question_typed_whole_leaves_out_its_common_words_and_says_which(index: searchlib.Index) -> None:
    question, plain = index.search("What about a military base?"), index.search("military base")
    # No article has "what": searched, it left none with every word, and ranked by chance words.
    assert ids(question) == ids(plain) and question.total == plain.total == 3
    assert question.notices == ("Left out the common words 'What', 'about': put a word in quotes to search for it too",)


@pytest.mark.parametrize(
    "query",
    ['"about" military base', "military base NOT about", "military base -about", "text:about base",
     "about^2 military base", "military AND about", "ABOUT military base", "about", "what about", "date:2012 about",
     "about NOT military", "about -military", "military NOT (about)", "military OR (about which)", "(about)^2 military",
     "military +about", "“about” military", '"about" about military', "about *", "military -(about which)"],
)
def test_a_common_word_is_searched_when_asked_for(query: str) -> None:
    """In quotes, with an operator, a field or a boost, in capitals among small letters, and
    when there is nothing else to search."""
    parsed = parse_query(query, make_schema(), {"text": 1.0})
    assert "about" in {getattr(leaf, "text", None) for leaf in parsed.all_words.leaves()}
    assert not any(notice.startswith("Left out") for notice in parsed.notices)


def test_a_query_in_capitals_leaves_out_its_common_words_too() -> None:
    parsed = parse_query("WHO IS THE PRESIDENT", make_schema(), {"text": 1.0})
    assert [leaf.text for leaf in parsed.all_words.leaves()] == ["presid"]
    assert parsed.notices == ("Left out the common word 'WHO': put a word in quotes to search for it too",)


def test_a_star_beside_words_adds_nothing_to_them(index: searchlib.Index) -> None:
    # Whoosh's normalising made "military AND *" the "*": every article, counted as having all the words.
    assert ids(index.search("military *")) == ids(index.search("military"))
    assert index.search("military *").total == index.search("military").total < index.search("*").total
    assert index.search("the *").total == index.search("* !").total == index.search("*").total  # no word beside it


def test_a_query_of_punctuation_says_it_has_no_words(index: searchlib.Index) -> None:
    for query in ['"', '""', "?", "!?"]:
        result = index.search(query)
        assert result.total == 0 and result.notices[-1] == "The query has no words to search for, only punctuation"


def test_a_query_of_only_stop_words_finds_nothing_and_says_why(index: searchlib.Index) -> None:
    result = index.search("AND")
    assert result.total == 0 and "no words to search for" in result.notices[-1]
    assert index.search("The IT").notices == (
        "The query has no words to search for: the index leaves out 'The', 'IT', as it does every very common word (in any case)",)


@pytest.mark.parametrize(("query", "notices"), [
    ("Is IT spending up", ("Not searched: the index leaves out 'IT', as it does every very common word (in any case)",)),
    ('"IT spending" OR budget', ("Not searched: the index leaves out 'IT', as it does every very common word (in any case)",)),
    ("is it spending up", ()),  # no acronym: stop words as ever, said nothing of
    ("IS IT SPENDING UP", ()),  # all in capitals: no acronym to tell apart
    ("military AND base", ()),  # an operator
])
def test_an_acronym_the_index_cannot_hold_is_said_to_be_unsearched(query: str, notices: tuple[str, ...]) -> None:
    assert parse_query(query, make_schema(), {"text": 1.0}).notices == notices


def test_field_with_a_phrase_or_group_is_accepted(index: searchlib.Index) -> None:
    assert ids(index.search('title:"military base"')) == ["base-in-title.txt"]
    assert set(ids(index.search("title:(parade OR festival)"))) == {"military-only.txt", "world/undated.txt"}


def test_limit_and_page_must_be_positive(index: searchlib.Index) -> None:
    with pytest.raises(ValueError, match="must be at least 1"):
        index.search("base", limit=0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(list('ab "():*^~-+[]{}') + [" AND ", " OR ", "NOT ", "title:", "foo:", "base"]), max_size=12).map("".join))
def test_any_query_returns_a_result_or_a_syntax_error(index: searchlib.Index, query: str) -> None:
    try:
        result = index.search(query)
    except QuerySyntaxError as error:
        assert "\n" not in str(error)
    else:
        assert result.total >= len(result.hits)


def test_snippet_rendering() -> None:
    snippet = Snippet("set up military bases <here> & there", [(7, 21)])
    assert snippet.to_text() == "set up [military bases] <here> & there"
    assert snippet.to_ansi() == "set up \x1b[1;33mmilitary bases\x1b[0m <here> & there"
    assert snippet.to_html() == "set up <mark>military bases</mark> &lt;here&gt; &amp; there"
    assert snippet.matches == ("military bases",)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"place": "Tajikistan"}, {SEED.name}),
        ({"place": "tajikistan"}, {SEED.name}),
        ({"place": ["Tajikistan", "Moscow"]}, {SEED.name}),
        ({"place": ["Tajikistan", "London"]}, set()),
        ({"person": "Rakhmon"}, {SEED.name}),
        ({"person": "Imomali Rakhmon", "organization": "NATO"}, {SEED.name}),
        ({"organization": "NATO", "place": "Russia"}, {SEED.name}),
        ({"place": "Paris"}, set()),
    ],
)
def test_entity_filters_apply_to_both_ranking_tiers_and_the_total(index: searchlib.Index, filters: dict, expected: set[str]) -> None:
    result = index.search("military base", limit=50, **filters)
    assert set(ids(result)) == expected and result.total == len(expected)


def test_place_filter_matches_any_alias(index: searchlib.Index) -> None:
    by_alias = [ids(index.search("dollar OR shares", place=alias)) for alias in ("USA", "U.S.", "united states", "America")]
    assert by_alias == [["world/markets.txt"]] * 4


def test_a_filter_without_words_is_an_error(index: searchlib.Index) -> None:
    with pytest.raises(ValueError, match="The place filter '...' has no words to match"):
        index.search("base", place="...")


def test_facets_count_entities_over_every_match_not_just_the_page(index: searchlib.Index) -> None:
    result = index.search("capital OR london", limit=1, facets=True)
    assert result.total == 6 and len(result.hits) == 1
    places = {value.name: value.count for value in result.facets["place"]}
    assert places["London"] == 3 and places["Tajikistan"] == 1
    assert [v.name for v in result.facets["place"]][0] == "London"  # most mentioned first
    assert {v.name for v in result.facets["organization"]} == {"Bank of England", "NATO"}
    assert {v.name for v in result.facets["person"]} == {"Denis Grishkin", "Imomali Rakhmon", "Ion Popescu", "Nicolae Ceaușescu"}
    assert index.search("capital", facets=False).facets == {}


def test_facets_follow_the_filters(index: searchlib.Index) -> None:
    result = index.search("capital OR london", facets=True, place="London", facet_limit=2)
    assert result.total == 3
    assert [(v.name, v.count) for v in result.facets["place"]][0] == ("London", 3)
    assert len(result.facets["place"]) == 2


def test_hits_carry_typed_entities(index: searchlib.Index) -> None:
    top = index.search("military base").hits[0]
    assert Entity("Imomali Rakhmon", "person") in top.entities
    assert Entity("NATO", "organization") in top.entities
    assert Entity("Tajikistan", "place") in top.entities


def test_ranking_settings_change_scores_and_searched_fields(news_index) -> None:  # type: ignore[no-untyped-def]
    from searchlib import Ranking

    with searchlib.Index.open(news_index, ranking=Ranking(field_weights={"title": 1.0})) as titles_only:
        hits = [h.id for h in titles_only.search("military base", match="any").hits]
        assert hits[0] == "base-in-title.txt" and set(hits) == {"base-in-title.txt", SEED.name, "military-only.txt"}
    with searchlib.Index.open(news_index, ranking=Ranking(field_weights={"entities": 1.0})) as names_only:
        assert [h.id for h in names_only.search("rakhmon").hits] == [SEED.name]  # a name, found in person
        assert names_only.search("foreign").total == 0  # a word of the text, in no name
    with searchlib.Index.open(news_index, ranking=Ranking(k1=0.9, b=0.4)) as tuned:
        default = searchlib.Index.open(news_index)
        assert tuned.search("military base").hits[0].score != default.search("military base").hits[0].score
        default.close()


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SEARCHLIB_BM25_B": "2"}, "SEARCHLIB_BM25_B: b must be from 0 to 1, not 2.0"),
        ({"SEARCHLIB_BM25_K1": "inf"}, "SEARCHLIB_BM25_K1: k1 must be from 0 to 10, not inf"),
        ({"SEARCHLIB_BM25_K1": "nan"}, "SEARCHLIB_BM25_K1: k1 must be from 0 to 10, not nan"),
        ({"SEARCHLIB_FIELD_WEIGHTS": "title=inf"}, "SEARCHLIB_FIELD_WEIGHTS: Field weights {'title': inf}: each must be above 0 and at most 100"),
        ({"SEARCHLIB_FIELD_WEIGHTS": "title=nan,body=1"},
         "SEARCHLIB_FIELD_WEIGHTS: Field weights {'title': nan, 'body': 1.0}: each must be above 0 and at most 100"),
        ({"SEARCHLIB_FIELD_WEIGHTS": "author=2"}, "SEARCHLIB_FIELD_WEIGHTS: Field weights {'author': 2.0}: give one or more of text, title, entities, caption, body"),
        ({"SEARCHLIB_FIELD_WEIGHTS": "title"}, "SEARCHLIB_FIELD_WEIGHTS: Field weights 'title': write them as field=weight,field=weight"),
    ],
)
def test_ranking_from_the_environment(news_index, monkeypatch: pytest.MonkeyPatch, environ: dict, message: str) -> None:  # type: ignore[no-untyped-def]
    from searchlib import InvalidOptionError, Ranking

    assert Ranking.from_env({"SEARCHLIB_BM25_K1": "0.9", "SEARCHLIB_FIELD_WEIGHTS": "title=3, body=1"}) == Ranking(
        k1=0.9, field_weights={"title": 3.0, "body": 1.0}
    )
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(InvalidOptionError) as caught:
        searchlib.Index.open(news_index)
    assert str(caught.value) == message


def _squeezed_one_character_at_a_time(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    out: list[str] = []
    where = [0] * (len(text) + 1)
    for offset, char in enumerate(text):
        where[offset] = len(out)
        if not char.isspace():
            out.append(char)
        elif out and out[-1] != " ":
            out.append(" ")
    where[len(text)] = len(out)
    return "".join(out), [(where[a], where[b]) for a, b in spans]


@given(st.text(alphabet="ab \n\t\u00a0", max_size=30), st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=4))
def test_whitespace_is_squeezed_run_by_run_as_it_was_character_by_character(text: str, pairs: list[tuple[int, int]]) -> None:
    from searchlib.snippets import _squeeze_whitespace

    spans = [(min(a, b, len(text)), min(max(a, b), len(text))) for a, b in pairs]
    assert _squeeze_whitespace(text, spans) == _squeezed_one_character_at_a_time(text, spans)


def test_a_wildcard_matches_the_words_as_written_not_their_stems(tmp_path: Path) -> None:
    """Whoosh's parser stems a wildcard's text: ``*tary`` became ``*tari``, which no written word
    ends with, so "military" and "secretary" were not found."""
    corpus = tmp_path / "c.jsonl"
    bodies = ["The military base closed.", "The secretary spoke.", "Tarifs rose.", "A military tariff."]
    corpus.write_text("".join(json.dumps({"id": f"a{n}", "title": "News", "body": body}) + "\n" for n, body in enumerate(bodies)))
    searchlib.build(corpus, tmp_path / "index")
    with searchlib.Index.open(tmp_path / "index") as index:
        assert {hit.id for hit in index.search("*tary").hits} == {"a0", "a1", "a3"}
        assert {hit.id for hit in index.search("Mil*TARY").hits} == {"a0", "a3"}
        assert {hit.id for hit in index.search("body:tarif*").hits} == {"a2", "a3"}
