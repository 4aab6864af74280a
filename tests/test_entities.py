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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Reuters-21578, as a user found them (issue 21)
        ("Members of the Organisation for Economic Cooperation and Development (OECD) met. The OECD said so.",
         [("Organisation for Economic Cooperation and Development", "organization")]),
        ("The GATT Council met on Monday.", [("GATT", "organization")]),
        ("Talks under the General Agreement on Tariffs and Trade resumed; Salomon Brothers agreed.",
         [("General Agreement on Tariffs and Trade", "organization"), ("Salomon Brothers", "organization")]),
        ("Talks in the Uruguay Round of GATT resumed.", [("GATT", "organization")]),
        ("Texas oilman T. Boone Pickens sold his stake.", [("Texas", "place"), ("T. Boone Pickens", "person")]),
        ("U.S. Agriculture Secretary Richard Lyng said the Agriculture Department would act.",
         [("Richard Lyng", "person"), ("Agriculture Department", "organization")]),
        ("The U.S. Agriculture Department (USDA) said exports rose. USDA officials agreed.",
         [("U.S. Agriculture Department", "organization")]),
        ("John Kerin, Minister of Agriculture, said so. The Secretary of Agriculture agreed.", [("John Kerin", "person")]),
        ("Standard and Poor's Corp cut the rating. Standard and Poor's said more.", [("Standard and Poor's", "organization")]),
        ("Bank of England officials met on Monday.", [("Bank of England", "organization")]),
        ("NOTE: the full name of the company is Acme Corp.", [("Acme", "organization")]),
        # the wire is the article's credit, not its entity
        ("LONDON (Reuters) - Britain will sell bonds, Reuters reported. AP and AFP said so too.",
         [("London", "place"), ("United Kingdom", "place")]),
        ("The central bank met on Friday.\n-- Warsaw Newsroom +48 22 653 9700", []),
        # places the gazetteer did not know; datelines of the form "CITY YYYY-MM-DD"
        ("FRANKFURT 1996-12-06\nDealers in Hanover and Rangoon said so.",
         [("Frankfurt am Main", "place"), ("Hannover", "place"), ("Yangon", "place")]),
        ("He flew from Northern Ireland to Zürich via Bosnia.",
         [("Northern Ireland", "place"), ("Zurich", "place"), ("Bosnia and Herzegovina", "place")]),
        # people the capitals alone did not give
        ("K. Benjamin and Takanobu Okabe, 34, won.", [("K. Benjamin", "person"), ("Takanobu Okabe", "person")]),
        ("Surgeon Renat Akchurin operated.", [("Renat Akchurin", "person")]),
        ("Australian Tom Moody took six wickets.", [("Tom Moody", "person")]),
        ("Bill Jordan, the union leader, spoke. Jordan said he would strike.", [("Bill Jordan", "person")]),
        ("Analyst John Casesa of Schroder Wertheim said so.",
         [("John Casesa", "person"), ("Schroder Wertheim", "organization")]),
        # events are no organisations
        ("He won the World Cup before Labor Day.", []),
        # sports reports: results tables, teams named by their towns
        ("SOCCER - KOREAN RESULTS.\n\nSEOUL 1996-08-30\nPohang 3 Ulsan 2 (halftime 1-0)\nRomania - Cosmin Contra (31st)",
         [("Seoul", "place"), ("Pohang", "organization"), ("Ulsan", "organization"), ("Romania", "place"), ("Cosmin Contra", "person")]),
        ("CRICKET - SCOREBOARD.\n\nLONDON 1996-08-30\nLeicestershire beat Somerset, and Somerset lost to Leicestershire again.\nM. Waugh c Healy b Fleming 50",
         [("London", "place"), ("Somerset", "organization"), ("Leicestershire", "organization"), ("M. Waugh", "person"),
          ("Healy", "person"), ("Fleming", "person")]),
        ("BASEBALL - STANDINGS.\n\nNEW YORK 1996-08-30\nW L PCT GB\nNEW YORK 74 59 .556 -\nKANSAS CITY 61 74 .452 20",
         [("New York", "place"), ("Kansas City", "organization")]),
    ],
)
def test_issue_21_cases(text: str, expected: list[tuple[str, str]]) -> None:
    assert typed(text) == expected


def test_place_aliases_share_one_canonical_name() -> None:
    assert {canonical_place(alias) for alias in ["U.S.", "US", "USA", "United States", "America"]} == {"United States"}
    assert canonical_place("Britain") == canonical_place("U.K.") == "United Kingdom"
    assert canonical_place("Fla.") == "Florida" and canonical_place("Peking") == "Beijing"
    assert {"us", "usa", "united states", "america"} <= set(place_aliases("U.S."))
    assert canonical_place("Tuesday") is None
    for alias, place in [("Frankfurt", "Frankfurt am Main"), ("Hanover", "Hannover"), ("Rangoon", "Yangon"),
                         ("Northern Ireland", "Northern Ireland"), ("England", "England"), ("Kazakstan", "Kazakhstan"),
                         ("Zurich", "Zurich"), ("Zürich", "Zurich")]:
        assert canonical_place(alias) == place
    # a large city's other names count only when they are spellings of its name
    assert canonical_place("White House") is None and canonical_place("Rest") is None


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


def test_nltk_chunker_and_tagger_load_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """``nltk.ne_chunk`` loads its model on every call (0.9 s a sentence); the extractor loads the
    chunker and the tagger once, however many extractors and texts. Stand-ins for NLTK's models,
    so that the test runs where NLTK's data is not installed."""
    import nltk
    import nltk.chunk
    import nltk.tag

    from searchlib import entities

    loaded: list[str] = []

    class Tagger:
        def tag(self, tokens: list[str]) -> list[tuple[str, str]]:
            return [(token, "NNP") for token in tokens]

    class Chunker:
        def parse(self, tagged: list[tuple[str, str]]) -> nltk.Tree:
            return nltk.Tree("S", [nltk.Tree("GPE", tagged[:1]), *tagged[1:]])

    monkeypatch.setattr(nltk.data, "find", lambda path: path)
    monkeypatch.setattr(nltk, "sent_tokenize", lambda text: text.split(". "))
    monkeypatch.setattr(nltk, "word_tokenize", str.split)
    monkeypatch.setattr(nltk.tag, "PerceptronTagger", lambda: loaded.append("tagger") or Tagger())
    monkeypatch.setattr(nltk.chunk, "ne_chunker", lambda: loaded.append("chunker") or Chunker())
    entities._nltk_models.cache_clear()
    try:
        for _ in range(2):
            extract = searchlib.entity_extractor("nltk")
            assert extract("Moscow is big. Reuters said so") == (Entity("Moscow", "place"),)
            assert extract("Paris is far") == (Entity("Paris", "place"),)
    finally:
        entities._nltk_models.cache_clear()
    assert loaded == ["tagger", "chunker"]
