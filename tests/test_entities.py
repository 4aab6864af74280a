"""Entity extraction: typed names on the seed article, the cases capitals alone get wrong,
aliases and short mentions, and the optional statistical back ends."""

from __future__ import annotations

import pytest

import searchlib
from searchlib import Entity, NerBackendError, extract_entities, read_corpus
from searchlib.entities import canonical_place, place_aliases

from .conftest import SEED


def typed(text: str) -> list[tuple[str, str]]:
    return [(entity.name, entity.kind) for entity in extract_entities(text)]


def test_seed_article_entities() -> None:
    article = next(read_corpus(SEED))
    found = extract_entities(f"{article.caption}\n\n{article.body}")
    places = {e.name for e in found if e.kind == "place"}
    assert {"Tajikistan", "Russia", "Dushanbe", "Afghanistan", "Moscow", "Central Asia", "Pamir Mountains"} <= places
    assert Entity("Imomali Rakhmon", "person") in found
    assert Entity("NATO", "organization") in found
    names = {e.name for e in found}
    for wrong in ["Tuesday", "Islamist", "President", "Rakhmon", "Tajik", "Relations", "Russian", "Soviet-era", "November", "Estonian"]:
        assert wrong not in names


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DUSHANBE — Officials met on Monday.", [("Dushanbe", "place")]),
        ("SALVADOR, Feb 26 - Showers continued in the Bahia cocoa zone.", [("Salvador", "place"), ("Bahia", "place")]),
        ("Prime Minister Dmitry Medvedev spoke in Moscow.", [("Dmitry Medvedev", "person"), ("Moscow", "place")]),
        ("The Bank of England raised rates. The Bank of England said so.", [("Bank of England", "organization")]),
        ("Shares rose. Analysts expect more. Shares fell in Tokyo.", [("Tokyo", "place")]),
        ("He met Angela Merkel in Berlin. Merkel's aides said so.", [("Angela Merkel", "person"), ("Berlin", "place")]),
        ("Officials of the U.S. and NATO met.", [("United States", "place"), ("NATO", "organization")]),
        ("Ecolab Inc said it would buy ChemLawn Corp. Ecolab expects gains.", [("Ecolab", "organization"), ("ChemLawn", "organization")]),
        ("The North Atlantic Treaty Organization met. NATO delegates agreed.", [("North Atlantic Treaty Organization", "organization")]),
        ("House Speaker James Wright, a Texas Democrat, met Dan Rostenkowski of Illinois.",
         [("James Wright", "person"), ("Texas", "place"), ("Dan Rostenkowski", "person"), ("Illinois", "place")]),
        ("It filed with the Securities and Exchange Commission on Friday.", [("Securities and Exchange Commission", "organization")]),
        ("Viratek Inc and SPI Pharmaceuticals Inc will sell shares.", [("Viratek", "organization"), ("SPI Pharmaceuticals", "organization")]),
        ("The unit of <New York Life Insurance Co> and <Comstock> agreed.", [("New York Life Insurance", "organization"), ("Comstock", "organization")]),
        ("Algeria will tender on April 3 for sunflowerseed oil, traders said.", [("Algeria", "place")]),
        ("Russia and Tajikistan signed. Moscow's support helped.", [("Russia", "place"), ("Tajikistan", "place"), ("Moscow", "place")]),
        ("OIL PRICES FALL AS OPEC MEETS IN VIENNA AGAIN TODAY", []),
        ("Start Stcks 14.91 14.93 10.53 10.53 Production 81.22 81.19 88.01", []),
    ],
)
def test_extraction_cases(text: str, expected: list[tuple[str, str]]) -> None:
    assert typed(text) == expected


def test_place_aliases_share_one_canonical_name() -> None:
    assert {canonical_place(alias) for alias in ["U.S.", "US", "USA", "United States", "America"]} == {"United States"}
    assert canonical_place("Britain") == canonical_place("U.K.") == "United Kingdom"
    assert canonical_place("Fla.") == "Florida" and canonical_place("Peking") == "Beijing"
    assert {"us", "usa", "united states", "america"} <= set(place_aliases("U.S."))
    assert canonical_place("Tuesday") is None


def test_empty_and_lowercase_text_have_no_entities() -> None:
    assert extract_entities("") == ()
    assert extract_entities("nothing here is a name at all.") == ()


def test_entity_kinds_are_validated() -> None:
    with pytest.raises(ValueError, match="'kind' must be in"):
        Entity("Tajikistan", "country")


def test_default_extractor_is_the_offline_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEARCHLIB_NER", raising=False)
    assert searchlib.entity_extractor() is extract_entities
    assert searchlib.entity_extractor("rules") is extract_entities


def test_unknown_extractor_is_a_one_line_error() -> None:
    with pytest.raises(NerBackendError, match=r"^Unknown entity extractor 'bert': choose one of rules, nltk, spacy, auto$"):
        searchlib.entity_extractor("bert")


def test_missing_nltk_data_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import nltk

    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])  # an empty NLTK data folder
    with pytest.raises(NerBackendError, match=r"needs NLTK data that is not installed: python -m nltk\.downloader maxent_ne_chunker_tab"):
        searchlib.entity_extractor("nltk")


def test_missing_spacy_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy fails, as where it is not installed
    with pytest.raises(NerBackendError, match="pip install spacy, then python -m spacy download en_core_web_sm"):
        searchlib.entity_extractor("spacy")


def test_auto_falls_back_to_the_offline_extractor(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sys

    import nltk

    monkeypatch.setitem(sys.modules, "spacy", None)
    monkeypatch.setattr(nltk.data, "path", [str(tmp_path)])
    assert searchlib.entity_extractor("auto") is extract_entities
