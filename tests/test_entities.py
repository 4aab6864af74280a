"""The first entity extractor, on the seed article and on the cases capitals alone get wrong."""

from __future__ import annotations

import pytest

from searchlib import Entity, extract_entities, read_corpus

from .conftest import SEED


def names(text: str) -> list[str]:
    return [entity.name for entity in extract_entities(text)]


def test_seed_article_names() -> None:
    article = next(read_corpus(SEED))
    found = names(article.body)
    for expected in ["Tajikistan", "Russia", "Dushanbe", "Afghanistan", "Moscow", "Central Asia", "NATO", "Imomali Rakhmon", "Pamir Mountains"]:
        assert expected in found
    for wrong in ["Tuesday", "Islamist", "President", "Rakhmon", "Relations", "The", "Russian", "Soviet-era", "November"]:
        assert wrong not in found


def test_entities_are_typed_values_in_order_of_first_mention() -> None:
    assert extract_entities("Talks in Geneva stalled. Later, Geneva and Paris agreed.") == (
        Entity("Geneva"),
        Entity("Paris"),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DUSHANBE — Officials met on Monday.", ["Dushanbe"]),
        ("SALVADOR, Feb 26 - Showers continued in the Bahia cocoa zone.", ["Salvador", "Bahia"]),
        ("Prime Minister Dmitry Medvedev spoke in Moscow.", ["Dmitry Medvedev", "Moscow"]),
        ("The Bank of England raised rates. The Bank of England said so.", ["Bank of England"]),
        ("Shares rose. Analysts expect more. Shares fell in Tokyo.", ["Tokyo"]),
        ("He met Angela Merkel in Berlin. Merkel's aides said so.", ["Angela Merkel", "Berlin"]),
        ("Officials of the U.S. and NATO met.", ["U.S.", "NATO"]),
        ("OIL PRICES FALL AS OPEC MEETS IN VIENNA AGAIN TODAY", []),
    ],
)
def test_extraction_cases(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_empty_and_lowercase_text_have_no_entities() -> None:
    assert extract_entities("") == ()
    assert extract_entities("nothing here is a name at all.") == ()
