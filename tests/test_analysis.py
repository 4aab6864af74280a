"""Analysis: what the index holds for a text, and that it holds up on any text."""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchlib import analyze
from searchlib.analysis import TOKEN_PATTERN, NltkTokenizer, news_analyzer


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Military Bases", ["militari", "base"]),
        ("military base", ["militari", "base"]),
        ("Rakhmon's government", ["rakhmon", "govern"]),
        ("Rakhmon’s government", ["rakhmon", "govern"]),
        ("the U.S. and the U.N.", ["us", "un"]),
        ("6,000 troops; 6000 troops", ["6000", "troop", "6000", "troop"]),
        ("a Soviet-era base", ["soviet", "era", "base"]),
        ("Ceaușescu's CAFÉ in Zürich", ["ceausescu", "cafe", "zurich"]),
        ("To be or not to be", []),
        ("$3 billion in 1992-97", ["3", "billion", "1992", "97"]),
    ],
)
def test_analyze(text: str, terms: list[str]) -> None:
    assert analyze(text) == terms


def test_query_words_meet_index_words() -> None:
    """A search for any inflection finds the others: the same analysis runs on both sides."""
    assert analyze("bases based basing") == ["base"] * 3
    assert analyze("running runs") == ["run", "run"]


def test_character_offsets_point_at_the_original_words() -> None:
    text = "Tajik President Imomali Rakhmon’s secular government, in 1992-97."
    tokens = [(t.text, text[t.startchar : t.endchar]) for t in news_analyzer()(text, chars=True, positions=True)]
    assert tokens == [
        ("tajik", "Tajik"),
        ("presid", "President"),
        ("imomali", "Imomali"),
        ("rakhmon", "Rakhmon’s"),
        ("secular", "secular"),
        ("govern", "government"),
        ("1992", "1992"),
        ("97", "97"),
    ]


def test_stop_words_keep_positions_for_phrases() -> None:
    positions = [t.pos for t in news_analyzer()("Bank of the West", positions=True)]
    assert positions == [0, 1]  # renumbered, so "bank west" still matches as a phrase


def test_analyzer_pickles_without_nltk_objects_and_works_after() -> None:
    analyzer = news_analyzer()
    list(analyzer("warm up the NLTK objects"))
    data = pickle.dumps(analyzer)
    assert b"nltk" not in data
    restored = pickle.loads(data)
    assert restored == analyzer
    assert [t.text for t in restored("Military Bases")] == ["militari", "base"]


def test_untokenized_mode_yields_the_whole_value() -> None:
    assert [t.text for t in NltkTokenizer()("New York", tokenize=False)] == ["New York"]


@given(st.text(max_size=300))
def test_analysis_never_raises_and_offsets_stay_inside_the_text(text: str) -> None:
    for token in news_analyzer()(text, chars=True, positions=True):
        assert 0 <= token.startchar < token.endchar <= len(text)
        assert token.text


def test_name_lists_keep_names_apart_for_phrases() -> None:
    from searchlib.analysis import name_list_analyzer

    tokens = [(t.text, t.pos) for t in name_list_analyzer()("Coarse Grain\nExports\nBank of England", positions=True)]
    # "of" is gone and "england" follows "bank", so the phrase "Bank of England" matches.
    assert tokens == [("coars", 0), ("grain", 1), ("export", 102), ("bank", 203), ("england", 204)]


def test_stop_words_close_up_but_line_gaps_stay() -> None:
    from searchlib.analysis import news_analyzer

    analyzer = news_analyzer(line_gap=1)
    tokens = [(t.text, t.pos) for t in analyzer("The Bank of England\nvotes to the end", positions=True)]
    assert tokens == [("bank", 0), ("england", 1), ("vote", 3), ("end", 4)]
    kept = [(t.text, t.pos, t.stopped) for t in analyzer("Bank of England", positions=True, removestops=False)]
    assert kept == [("bank", 0, False), ("of", 1, True), ("england", 2, False)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200))
def test_query_words_split_as_the_index_splits_them(text: str) -> None:
    from searchlib.analysis import token_terms

    spans = list(NltkTokenizer().spans(text))
    assert spans == [(start, end) for _, _, start, end, _ in token_terms(text)]
    assert [text[a:b] for a, b in spans] == re.findall(TOKEN_PATTERN, text)


@pytest.mark.parametrize(("typed", "written"), [("İstanbul", "Istanbul"), ("İSTANBUL", "istanbul"), ("ﬁnance", "finance"),
                                                ("eﬀort", "effort"), ("Ceaușescu", "Ceausescu")])
def test_a_word_folds_as_its_plain_spelling_in_every_analysis(typed: str, written: str) -> None:
    from searchlib.analysis import fold, spelling_analyzer, token_terms

    assert analyze(typed) == analyze(written)
    assert [term for _, term, *_ in token_terms(typed)] == analyze(written)
    assert [t.text for t in spelling_analyzer()(typed)] == [fold(written)] == [fold(typed)]
