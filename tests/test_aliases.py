"""The alias table: one canonical name per entity across a corpus, built from name counts."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from searchlib import Entity
from searchlib.aliases import AliasTable, count_names

ORG, PERSON = "organization", "person"


def corpus() -> list[list[Entity]]:
    """Articles as the extractor gives them: several names for the same entities."""
    articles = [
        [Entity("U.S. Agriculture Department", ORG), Entity("Ronald Reagan", PERSON)],
        [Entity("USDA", ORG), Entity("Reagan", PERSON)],
        [Entity("Agriculture Department", ORG), Entity("Reagan", PERSON), Entity("James Baker", PERSON)],
        [Entity("U.S. Department of Agriculture", ORG), Entity("Ronald Reagan", PERSON)],
        [Entity("U.S. Agriculture Department", ORG), Entity("Howard Baker", PERSON), Entity("Baker", PERSON)],
        [Entity("Organisation for Economic Cooperation and Development", ORG), Entity("OECD", ORG)],
        [Entity("Organization for Economic Cooperation and Development", ORG)],
        [Entity("General Agreement on Tariffs and Trade", ORG), Entity("Paul A. Volcker", PERSON)],
        [Entity("General Agreement on Tariffs and Trade", ORG), Entity("GATT", ORG), Entity("Paul Volcker", PERSON)],
        [Entity("French Foreign Ministry", ORG), Entity("Foreign Ministry", ORG)],
        [Entity("Japanese Foreign Ministry", ORG), Entity("James Baker", PERSON), Entity("Howard Baker", PERSON)],
        [Entity("Reagan", PERSON), Entity("Moscow", "place")],
    ]
    return articles


@pytest.fixture(scope="module")
def table() -> AliasTable:
    return AliasTable.build(count_names(corpus()))


@pytest.mark.parametrize(
    ("name", "kind", "canonical"),
    [
        ("USDA", ORG, "U.S. Agriculture Department"),
        ("Agriculture Department", ORG, "U.S. Agriculture Department"),
        ("U.S. Department of Agriculture", ORG, "U.S. Agriculture Department"),
        ("OECD", ORG, "Organisation for Economic Cooperation and Development"),
        ("Organization for Economic Cooperation and Development", ORG, "Organisation for Economic Cooperation and Development"),
        ("GATT", ORG, "General Agreement on Tariffs and Trade"),
        ("Reagan", PERSON, "Ronald Reagan"),
        ("Paul Volcker", PERSON, "Paul A. Volcker"),  # as often named: the longer
        # ambiguous: two Bakers, two foreign ministries
        ("Baker", PERSON, "Baker"),
        ("Foreign Ministry", ORG, "Foreign Ministry"),
        ("French Foreign Ministry", ORG, "French Foreign Ministry"),
        # unknown names and places are their own canonical name
        ("Moscow", "place", "Moscow"),
        ("Nobody", PERSON, "Nobody"),
    ],
)
def test_canonical_names(table: AliasTable, name: str, kind: str, canonical: str) -> None:
    assert table.canonical(name, kind) == canonical


def test_aliases_list_every_name_of_the_entity(table: AliasTable) -> None:
    usda = ("Agriculture Department", "U.S. Agriculture Department", "U.S. Department of Agriculture", "USDA")
    assert table.aliases("USDA", ORG) == usda
    assert table.aliases("U.S. Agriculture Department", ORG) == usda
    assert table.aliases("Reagan", PERSON) == ("Reagan", "Ronald Reagan")
    assert table.aliases("Baker", PERSON) == ("Baker",)


def test_the_table_is_the_same_whatever_the_order_of_the_counts() -> None:
    counts = count_names(corpus())
    items = list(counts.items())
    random.Random(4).shuffle(items)
    assert AliasTable.build(dict(items)) == AliasTable.build(counts)


def test_counts_add_and_subtract_as_articles_come_and_go() -> None:
    """An update keeps the counts of its generation: add the new articles' names, subtract the
    removed ones', rebuild. A lone surname stands for a full name only while the corpus supports it."""
    articles = corpus()
    counts = count_names(articles)
    assert AliasTable.build(counts).canonical("Reagan", PERSON) == "Ronald Reagan"
    removed = [a for a in articles if Entity("Ronald Reagan", PERSON) in a]
    counts -= count_names(removed)
    assert AliasTable.build(counts).canonical("Reagan", PERSON) == "Reagan"
    counts += count_names([[Entity("Nancy Reagan", PERSON)], [Entity("Nancy Reagan", PERSON)]])
    assert AliasTable.build(counts).canonical("Reagan", PERSON) == "Nancy Reagan"
    assert count_names([]) == Counter()


def test_a_full_name_must_be_supported_and_dominant() -> None:
    once = Counter({(PERSON, "Ronald Reagan"): 1, (PERSON, "Reagan"): 9})
    assert AliasTable.build(once).canonical("Reagan", PERSON) == "Reagan"  # one article is no support
    close = Counter({(PERSON, "James Baker"): 20, (PERSON, "Howard Baker"): 5, (PERSON, "Baker"): 30})
    assert AliasTable.build(close).canonical("Baker", PERSON) == "Baker"
    dominant = Counter({(PERSON, "James Baker"): 60, (PERSON, "Howard Baker"): 5, (PERSON, "Baker"): 30})
    assert AliasTable.build(dominant).canonical("Baker", PERSON) == "James Baker"


def test_json_round_trip(table: AliasTable, tmp_path: Path) -> None:
    path = tmp_path / "aliases.json"
    table.save(path)
    loaded = AliasTable.load(path)
    assert loaded == table
    assert loaded.aliases("GATT", ORG) == table.aliases("GATT", ORG)
    assert len(loaded) == len(table) > 0


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="alias table format 99"):
        AliasTable.from_json('{"version": 99, "variants": {}}')


def test_names_counted_zero_are_left_out() -> None:
    counts = Counter({(ORG, "USDA"): 0, (ORG, "U.S. Department of Agriculture"): 3})
    assert len(AliasTable.build(counts)) == 0


def test_an_index_counts_filters_and_shows_one_entity_under_one_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 21: facets, filters and hits treat "USDA", "Agriculture Department" and "U.S.
    Agriculture Department" as one organisation, and a lone "Reagan" as the "Ronald Reagan" of
    the other articles; ``searchlib entities --aliases`` shows the table."""
    import json

    from click.testing import CliRunner

    import searchlib
    from searchlib.cli import main

    bodies = ["The U.S. Agriculture Department said wheat exports rose. President Ronald Reagan agreed."] * 3
    bodies += ["The Agriculture Department said wheat stocks fell. Ronald Reagan spoke.",
               "USDA officials met President Reagan, who said the wheat harvest was large."]
    corpus = tmp_path / "wire.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"a{n}", "title": "Wheat", "body": body}) + "\n" for n, body in enumerate(bodies)))
    searchlib.build(corpus, tmp_path / "index")
    with searchlib.Index.open(tmp_path / "index") as index:
        facets = index.search("wheat", facets=True).facets
        assert [(v.name, v.count) for v in facets["organization"]] == [("U.S. Agriculture Department", 5)]
        assert [(v.name, v.count) for v in facets["person"]] == [("Ronald Reagan", 5)]
        for name in ("USDA", "usda", "Agriculture Department"):
            assert index.search("wheat", organization=name).total == 5
        assert index.search("wheat", person="Reagan").total == 5
        hit = next(h for h in index.search("wheat", limit=10).hits if h.id == "a4")
        assert {e.name for e in hit.entities} >= {"U.S. Agriculture Department", "Ronald Reagan"}
        assert index.aliases.typed("usda", "organization") == ("Agriculture Department", "U.S. Agriculture Department", "USDA")
    shown = CliRunner().invoke(main, ["entities", "--aliases", "--index", str(tmp_path / "index"), "--json"], catch_exceptions=False)
    assert json.loads(shown.stdout)["organization"] == {"U.S. Agriculture Department": ["Agriculture Department", "USDA"]}
