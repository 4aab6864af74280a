"""Named-entity extraction: text in, typed names of people, organisations and places out.

The default extractor is offline and needs no downloads. It reads runs of capitalised words and
acronyms, then decides what each run is from evidence in the text and in the gazetteers of
``searchlib.gazetteers`` (places, first names, legal forms of companies):

* people: a job title or role before the name ("President Imomali Rakhmon", "Surgeon Renat
  Akchurin"), a known first name, an initial ("K. Benjamin", "T. Boone Pickens"), a surname
  ending of many languages ("Kolyvanov", "Popescu"), an age in apposition ("Okabe, 34,"), a
  nationality before the name ("Australian Tom Moody");
* organisations: a legal-form suffix (Inc, Corp, AG, SA, ...), an institutional word (Bank,
  Ministry, Commission, ...), a name in Reuters' ``<angle brackets>``, an acronym, or a name
  whose initials spell the acronym after it ("Organisation for Economic Cooperation and
  Development (OECD)");
* places: the gazetteers, a geographic last word ("Pamir Mountains"), a dateline ("DUSHANBE —",
  "FRANKFURT 1996-12-06"), a town after "in", "at", "near" or "the resort of".

What capitals alone get wrong is thrown out: a word capitalised only because it starts a
sentence, job titles, weekdays and months, lone adjectives and nationalities ("Russian",
"Americans"), events ("World Cup", "Labor Day"), ALL-CAPS headlines, tables of figures, and the
wire's own name and desks ("Reuters", "AP", "Warsaw Newsroom": an article's credit).

Sports reports (a section such as "SOCCER -" in the headline, or words such as "halftime",
"innings", "standings") are read differently: their results tables and standings are read, and
in team sports a town or county is a team ("Leicestershire beat Somerset", "Pohang 3 Ulsan 2")
while a country stays a place (a national side).

Within an article a short mention resolves to the full name it belongs to ("Rakhmon" ->
"Imomali Rakhmon", "NATO" -> "North Atlantic Treaty Organization", "Jordan" -> "Bill Jordan"),
and place aliases to one canonical name ("U.S.", "USA" -> "United States"). Organisation names
lose their legal form ("Ecolab Inc" -> "Ecolab"). Across articles, ``searchlib.aliases`` does
the same from the corpus's counts.

``SEARCHLIB_NER=nltk|spacy|auto`` (or ``backend=``) selects a statistical extractor when its
model is installed; see ``extractor()``.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from .errors import NerBackendError
from .gazetteers import Gazetteer, canonical_place, place_aliases
from .gazetteers import gazetteer as _gazetteer  # loaded once per process (_preload imports it from here)
from .models import ENTITY_KINDS, Entity

__all__ = [
    "extract_entities",
    "extractor",
    "canonical_place",
    "place_aliases",
    "BACKENDS",
    "KINDS",
]

logger = logging.getLogger(__name__)

Kind = Literal["person", "organization", "place"]
KINDS = ENTITY_KINDS
BACKENDS = ("rules", "nltk", "spacy", "auto")


# Words ------------------------------------------------------------------------------------------

_NOT_NAMES = frozenset(
    """
    a about after again against all also although an and another any are as at be because been
    before being between both but by can could did do does during each either even every few for
    from had has have he her here hers him his how however i if in into is it its just last least
    less many may me meanwhile might more most much must my neither never next no nor not now of
    off on once one only or other our out over own per perhaps same several she should since so
    some still such than that the their them then there these they this those though through thus
    to today tomorrow too under unless until up upon very was we were what whatever when where
    whether which while who whom whose why will with within without would yesterday yet you your
    democrat democrats democratic republican republicans
    monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december jan feb mar apr jun jul aug sep sept oct nov
    dec mr mrs ms dr reuter total terms proceeds interest redemption turnover output demand shares
    unlike besides despite including following according among amid anything everything something
    nothing senior latest earlier later further instead overall currently recently initially
    under affirmed separately published representatives officials sources analysts traders
    """.split()
)
# Words that start no name but may stand inside one ("Group of Seven").
_NOT_FIRST_WORDS = frozenset("former ex two three four five six seven eight nine ten i'm i've i'll i'd".split())
# Nouns whose "of" is followed by a place: "the Sardinian resort of Porto Cervo".
_LOCALITY_NOUNS = frozenset("town city village resort port province region island district suburb capital county".split())
# Words that name an office; a run is split at them, and a name right after one is a person.
_TITLES = frozenset(
    """
    president vice prime minister ministers minster secretary chairman chairwoman
    chief executive director king queen prince princess senator sen rep representative governor
    gov mayor judge justice pope sheikh premier chancellor deputy spokesman spokeswoman ambassador
    commander colonel col lieutenant lt captain capt sergeant admiral officer leader speaker
    economist analyst candidate founder major-general brigadier marshal commissioner inspector
    bishop cardinal archbishop rabbi imam cleric surgeon doctor professor prof lawyer attorney
    envoy negotiator striker midfielder defender goalkeeper keeper coach manager skipper
    batsman bowler spinner all-rounder winger referee umpire compatriot team-mate teammate
    veteran champion seed
    """.split()
)
# Words that make a name before them a person when they follow it in apposition are not used;
# these precede a person's name directly.
_PERSON_PREFIXES = frozenset({"mr", "mrs", "ms", "dr", "sir", "lord", "lady", "dame", "rev"})
_CONNECTORS = frozenset(
    {"of", "the", "de", "du", "da", "del", "della", "di", "dos", "das", "la", "le", "van", "von", "der", "den", "ten", "ter", "bin", "ibn", "al"}
)
_JOINERS = _CONNECTORS | {"and", "&", "for", "on"}
_SURNAME_PARTICLES = _CONNECTORS - {"of", "the"}  # words that may stand inside a name, never at its end
_ADJECTIVE_ENDINGS = ("ian", "ist", "ists", "ish", "ese", "ern", "ians", "ic", "ean", "an")
_ORG_WORDS = frozenset(
    """
    agency airlines airways assembly associates association authority administration bancorp bancshares
    bank banque board bulletin bureau cabinet caisse church commission committee communications
    congress council court customs daily department division exchange federation fund foundation
    group holdings industries institute international investments journal laboratories league
    ministry motors network news nations navy organization organisation parliament partners
    party petroleum pharmaceuticals police post productions program reserve resources securities
    senate service services society steel steelworkers systems technologies telecommunications
    times trust union university utilities brothers bros club
    """.split()
)
# The first words of names whose "of", "for", "on" and "and" stand inside them: "General
# Agreement on Tariffs and Trade", "Organisation for Economic Cooperation and Development".
_INSTITUTION_HEADS = _ORG_WORDS | {"agreement", "convention", "treaty", "accord", "conference"}
_PLACE_WORDS = frozenset(
    """
    airport avenue basin bay beach canal cape city coast county desert district gulf island islands lake
    mountains mountain ocean peninsula province region river sea square strait street valley
    """.split()
)
# All-caps words that are no organisation.
_NOT_ACRONYMS = frozenset(
    """
    AIDS AM PM CIF FOB GMT EST EDT GDP GNP CEO CFO NIL NA TV OK II III IV VI USD ECU SDR LIBOR
    ADR DLRS MLN PCT REUTER REUTERS ETA TAM IDB NOTE CORRECTION CORRECTED REPEAT UPDATE URGENT FLASH
    """.split()
)
# News agencies and other one-word organisations no rule can tell from a surname.
_KNOWN_ORGANIZATIONS = frozenset({"Tass", "Xinhua", "Kyodo", "Interfax", "Bernama", "Nasdaq", "NASDAQ"})
# Legal forms written before the name.
_LEGAL_PREFIXES = frozenset({"AB", "PT", "OAO", "ZAO", "PJSC"})
# Last words that make a capitalised run a thing, not a person: "General Agreement".
_NOT_SURNAMES = frozenset(
    "agreement accord treaty act plan program programme report bill index rate sales zone world "
    "market markets project fund dutch".split()
)
# Last words that make a run an event, a competition or a day, which is no organisation: "World
# Cup", "U.S. Open", "Labor Day", "Uruguay Round".
_EVENT_WORDS = frozenset(
    """
    cup open championship championships games olympics olympiad series prix tournament trophy
    classic masters bowl final finals rally marathon derby award awards prize festival day week
    summit conference tour round talks
    """.split()
)
# A body of an organisation, named after its acronym: "GATT Council" is GATT in a facet.
_BODY_WORDS = frozenset("council secretariat commission board assembly members ministers meeting session".split())
# The news agencies whose wire an archive holds: the credit of an article, no entity of it.
_WIRES = frozenset({"Reuters", "Reuter", "AP", "AFP", "UPI", "Associated Press", "Agence France-Presse", "Agence France Presse", "United Press International"})
# Nationality adjectives written before a person's name ("Australian Tom Moody") that the
# endings below miss.
_DEMONYMS = frozenset(
    """
    Dutch French Swiss Greek Thai Czech Welsh Scottish Irish Danish Finnish Polish Swedish Turkish
    British Kurdish Spanish Uzbek Tajik Kazakh Kyrgyz Serb Croat Bosnian Slovak Slovene Basque
    Flemish Maltese Cypriot Briton Scot Scots Swede Dane Finn Pole Turk Kurd Arab Jew Brit
    """.split()
)
# The endings of surnames of many languages: "Kolyvanov", "Popescu", "Ivanisevic", "Shevardnadze".
_SURNAME_ENDING = re.compile(
    r"(?:ov|ova|ev|eva|yev|yeva|enko|sky|ski|ska|skaya|vic|vich|wicz|escu|eanu|idis|ides|opoulos|oulos|"
    r"shvili|dze|yan|oglu|sson|czyk|chuk|zadeh|ovski|evski|ovic|evic|ic|berg|stein|mann)$"
)
# Institutions named by one word that is otherwise a common noun.
_INSTITUTIONS = frozenset(
    {"Parliament", "Congress", "Senate", "Cabinet", "Customs", "Pentagon", "Kremlin", "Treasury", "Fed", "Bundesbank", "Interpol", "Politburo", "Knesset", "Duma", "Bundestag", "Sejm"}
)
# Words of the names of sports clubs: "Manchester United", "Red Star", "Dinamo Bucharest".
_TEAM_WORDS = frozenset(
    """
    united city rovers athletic athletico atletico wanderers rangers celtic albion town county fc
    afc cf sc sporting real dynamo dinamo spartak lokomotiv olympique olympic racing inter borussia
    eintracht werder hertha fortuna hotspur villa forest palace argyle alexandra orient vale
    thistle academical hibernian hearts juventus lazio sampdoria fiorentina steaua rapid partizan
    hajduk sparta slavia legia ajax feyenoord psv benfica porto deportivo red star giants yankees
    mets dodgers cubs braves pirates padres cardinals reds astros rockies marlins expos phillies
    orioles tigers indians twins royals brewers athletics mariners angels jays sox bulls bears
    lions eagles patriots cowboys packers raiders dolphins jets knicks lakers celtics pistons
    rockets spurs suns kings bruins flyers canadiens oilers wolves saints sharks broncos warriors
    """.split()
)
_WORD = re.compile(r"[^\W\d_][\w'’.&\-]*|\d[\w.,/\-]*|\S")
_SENTENCE_BREAK = re.compile(
    r"(?<=[.!?])"  # first: most positions fail here, before the lookbehinds below are tried
    r"(?<!\b[A-Z]\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bCo\.)(?<!\bNo\.)(?<!\bMrs\.)"
    r"(?<!\bInc\.)(?<!\bLtd\.)(?<!\bGen\.)(?<!\bSen\.)(?<!\bGov\.)(?<!\bCorp\.)"
    r"[\"”’)]*\s+(?=[\"“‘(]?[A-Z0-9])"
    r"|\n\s*\n"
)
# A whitespace-separated token with a digit in it, matched from its start to its first digit
# (``\S*\d\S*`` tried every position of every token).
_DIGIT = re.compile(r"\d")
_DIGIT_IN_TOKEN = re.compile(r"(?<!\S)[^\s\d]*\d")
_DATELINE = re.compile(r"^\s*([A-Z][A-Z .'\-]{2,}?)(?:(?:,[^—\n]{0,30})?\s+[—–-]+\s|\s+\d{4}-\d\d-\d\d\s*(?:\n|$))")
# Sports reports name teams by their towns ("Leicestershire beat Somerset", "Pohang 3 Ulsan 2")
# and hold results tables; a section word starts their headline ("SOCCER - ...") or their
# words give them away.
_SPORTS_SECTION = re.compile(
    r"\A\s*(?:SOCCER|FOOTBALL|CRICKET|TENNIS|GOLF|BASEBALL|BASKETBALL|ATHLETICS|CYCLING|RUGBY|BOXING|"
    r"ICE HOCKEY|HOCKEY|MOTOR RACING|MOTOR-RACING|MOTORCYCLING|SQUASH|BADMINTON|SWIMMING|SKIING|"
    r"ALPINE SKIING|HORSE RACING|ROWING|SAILING|YACHTING|NFL|NBA|NHL|NHL ICE HOCKEY|FORMULA ONE|"
    r"VOLLEYBALL|HANDBALL|WRESTLING|JUDO|CHESS|TRIATHLON|SPORT|SPORTS|OLYMPICS|TABLE TENNIS|"
    r"SNOOKER|DARTS|GYMNASTICS|FENCING|SPEED SKATING|FIGURE SKATING|AMERICAN FOOTBALL)\b"
)
_SPORTS_WORDS = frozenset(
    """
    halftime half-time scorers innings wickets standings goals seeded tournament league
    championship striker midfielder goalkeeper coach semifinal semifinals semi-final quarterfinal
    quarter-final playoff playoffs inning homer touchdown touchdowns podium referee penalty
    equaliser equalizer batsman bowler overs unbeaten undefeated
    """.split()
)
_TEAM_SPORTS = frozenset(
    {"SOCCER", "FOOTBALL", "CRICKET", "BASEBALL", "BASKETBALL", "RUGBY", "ICE HOCKEY", "HOCKEY", "NFL",
     "NBA", "NHL", "NHL ICE HOCKEY", "VOLLEYBALL", "HANDBALL", "AMERICAN FOOTBALL"}
)
_TEAM_SPORTS_WORDS = frozenset(
    "halftime half-time scorers innings wickets standings goalkeeper striker midfielder touchdown "
    "touchdowns inning homer batsman bowler overs equaliser equalizer league".split()
)
_LOCATIVES = frozenset({"in", "at", "near", "from", "outside"})
_CRICKET_MARKS = frozenset({"b", "c", "st", "lbw"})  # "c Tillekeratne b Dharmasena": bowled, caught, stumped
_BOWLING_FIGURES = re.compile(r"^\d+(?:\.\d)?-\d+-\d+-\d+,?$")
_ANGLE_NAME = re.compile(r"<([^<>\n]{2,80})>")
_TICKER = re.compile(r"^[A-Z0-9.\-]{1,12}$")
_ACRONYM_DOTS = re.compile(r"(?:[A-Z]\.){2,}")
_INITIAL = re.compile(r"^[A-Z]\.$")
_ROMAN = frozenset({"II", "III", "IV", "Jr", "Sr", "Jr.", "Sr."})


# The rule-based extractor -----------------------------------------------------------------------


class _Run(NamedTuple):
    """Capitalised words that may be a name, and what the sentence says about them (a named
    tuple: an article makes hundreds, and attrs' frozen classes cost three times as much to make)."""

    words: tuple[str, ...]
    sentence_initial: bool = False
    after_title: bool = False
    before_title: bool = False
    bracketed: bool = False
    hint: str | None = None  # the kind the text says it is: a dateline, "(OECD)", ", 34,"
    after_locative: bool = False  # "in", "at", "near" before it: a place, if it may be one
    sports: int = 0  # in a sports report (1), of a team sport (2), where a city or county is a team
    in_table: bool = False  # a cell of a results table or standings


def extract_entities(text: str) -> tuple[Entity, ...]:
    """The distinct people, organisations and places named in ``text``, in order of first mention.

    Example:
        >>> extract_entities("DUSHANBE — Tajik President Imomali Rakhmon said. Rakhmon left.")
        (Entity(name='Dushanbe', kind='place'), Entity(name='Imomali Rakhmon', kind='person'))
    """
    gazetteer = _gazetteer()
    # Reuters marks company names <like this> (commas inside are dropped) and tickers <LIKE>.
    bracketed = {" ".join(m.group(1).replace(",", " ").split()) for m in _ANGLE_NAME.finditer(text)}
    text = _ANGLE_NAME.sub(lambda m: " " if _TICKER.match(m.group(1)) else f" {m.group(1).replace(',', ' ')} ", text)
    runs: list[_Run] = []
    sentences: list[list[str]] = []
    aliases: dict[str, str] = {}  # "ICCO" -> "International Cocoa Organization"
    # The lines, each a dateline's place, a table's line (None) or its sentences' words.
    lines: list[tuple[str, _Run | list[list[str]] | None]] = []
    for paragraph in re.split(r"\n\s*\n", text):
        dateline = _DATELINE.match(paragraph)
        if dateline:
            place = dateline[1].strip().title()
            # "LONDON 1996-08-30" is a dateline; "SOCCER - ..." may be a headline's section
            known = dateline[0].rstrip()[-1].isdigit() or gazetteer.place(place) or gazetteer.town(place)
            lines.append(("", _Run(tuple(place.split()), hint="place" if known else None)))
            paragraph = paragraph[dateline.end() :]
            if not known and paragraph.partition("\n")[0].isupper():
                paragraph = paragraph.partition("\n")[2]  # the rest of a headline: "CRICKET - SCOREBOARD."
        for line in paragraph.split("\n"):
            if _is_table_line(line):
                lines.append((line, None))
            else:
                line_sentences = [_WORD.findall(sentence) for sentence in _SENTENCE_BREAK.split(line)]
                lines.append((line, line_sentences))
                sentences.extend(line_sentences)
    sports = _sports(text, sentences)
    if sports:
        sentences = []
    for line, read in lines:
        if isinstance(read, _Run):
            runs.append(read)
        elif sports and (read is None or _DIGIT.search(line)):
            # a results table, a standing, a scorer: read, as table cells
            cells = _table_words(line, gazetteer)
            sentences.append(cells)
            runs.extend(_runs_in_sentence(cells, bracketed, gazetteer, aliases, sports=sports, table=True))
        elif read is not None:
            if sports:
                sentences.extend(read)
            for sentence in read:
                runs.extend(_runs_in_sentence(sentence, bracketed, gazetteer, aliases, sports=sports))
    # Words capitalised inside a sentence, of those that may be (a capital, or "al-", "el-").
    inside = {_clean(w) for words in sentences for w in words[1:] if w[0].isupper() or w[0] in "ae"}
    capitalised_inside = {word for word in inside if _is_capitalised(word)}
    runs = [r for r in (_drop_sentence_capital(r, capitalised_inside, gazetteer) for r in runs) if r.words]
    # Long names first, so that a short mention can be resolved against them.
    typed = _Known()
    if sports:  # the words the text writes in lower case are no teams ("Attendance: 200")
        typed.lower_words = {w.lower() for words in sentences for w in words if w[:1].islower()}
    found: list[tuple[int, str, Kind]] = []
    for order, run in sorted(enumerate(runs), key=lambda item: -len(item[1].words)):
        name, kind = _classify(run, gazetteer, typed, aliases)
        if name and kind:
            typed.add(name, kind)
            found.append((order, name, kind))
    distinct = dict.fromkeys((name, kind) for _, name, kind in sorted(found))
    return tuple(Entity(name, kind) for name, kind in distinct)


def _is_wire(name: str) -> bool:
    """The news agency whose wire the archive holds ("Reuters", "AP") and its desks ("Warsaw
    Newsroom", "Reuters Ottawa Bureau"): the article's credit, not one of its entities."""
    if name in _WIRES:
        return True
    last = name[name.rfind(" ") + 1 :]
    return last == "Newsroom" or (last == "Bureau" and name[: name.find(" ")] in _WIRES)


def _ends_organization_word(gazetteer: Gazetteer, word: str) -> bool:
    return gazetteer.is_legal_form(word) or word.lower() in _ORG_WORDS


def _sports(text: str, sentences: list[list[str]]) -> int:
    """Whether ``text`` is a sports report (1), of a team sport (2), where towns name teams: a
    sports section in its headline, or three sports words in its sentences; a team sport's
    section or one of its words ("halftime", "innings", "standings")."""
    section = _SPORTS_SECTION.match(text)
    words = _SPORTS_WORDS.intersection(itertools.chain.from_iterable(sentences))
    if section:
        return 2 if section[0].strip() in _TEAM_SPORTS or not words.isdisjoint(_TEAM_SPORTS_WORDS) else 1
    if len(words) >= 3:
        return 2 if not words.isdisjoint(_TEAM_SPORTS_WORDS) else 1
    return 0


def _table_words(line: str, gazetteer: Gazetteer) -> list[str]:
    """The words of a table line; ALL-CAPS names as names are written ("NEW YORK" -> "New York",
    "DETROIT 4 Kansas City 0" -> "Detroit")."""
    words = _WORD.findall(line)
    capitals = [w for w in words if w.isupper() and len(w) > 2 and w.isalpha()]
    if not capitals:
        return words
    if len(capitals) > 1 and " - " not in line:
        return [w.title() if w.isupper() and len(w) > 2 and w.isalpha() else w for w in words]
    return [w.title() if w in capitals and gazetteer.place(w) else w for w in words]


def _is_table_line(line: str) -> bool:
    """A line of a table of figures (many numbers, few words) holds no sentences."""
    if _DIGIT.search(line) is None:
        return False
    tokens = line.split()
    return len(tokens) >= 4 and len(_DIGIT_IN_TOKEN.findall(line)) * 3 >= len(tokens)


@lru_cache(maxsize=2**16)  # a news text's words repeat: these two ran 1.3 million times per 2,500 articles
def _clean(word: str) -> str:
    word = word.replace("’", "'")
    if _ACRONYM_DOTS.fullmatch(word) or _INITIAL.match(word):
        return word
    word = word.rstrip(".-,")
    return word[:-2] if word.endswith("'s") else word.rstrip("'")


@lru_cache(maxsize=2**16)
def _is_capitalised(word: str) -> bool:
    if word[:3].lower() in ("al-", "el-") and word[3:4].isupper():
        return True  # "al-Chalabi"
    if not word[:1].isupper():
        return False
    # "Soviet-era" is an adjective; "Al-Qaeda", "Moore-Handley" and "E-tron" are names.
    head, _, tail = word.rpartition("-")
    return not head or tail[:1].isupper() or (len(head) == 1 and tail[:1].isalpha())


def _is_possessive(word: str) -> bool:
    return word.replace("’", "'").endswith("'s")


def _runs_in_sentence(
    words: list[str], bracketed: set[str], gazetteer: Gazetteer, aliases: dict[str, str], *, sports: int = 0, table: bool = False
) -> Iterator[_Run]:
    """The runs of capitalised words in one sentence (or a table's line), each split at job titles."""
    # Most words start no name: only those with a capital may (or "al-Chalabi", "el-Sisi").
    starts = [i for i, w in enumerate(words) if w[0].isupper() or w[0] in "ae"]
    # Those are words of letters: with as many ALL-CAPS words as twice their number, count.
    if sum(map(str.isupper, words)) * 2 > len(starts):
        letters = [w for w in words if w[0].isalpha()]
        if len(letters) >= 2 and sum(w.isupper() and w not in ("I", "A") for w in letters) * 2 > len(letters):
            return  # an ALL-CAPS headline or table heading: capitals say nothing here
    first_word = next((i for i, w in enumerate(words) if w[0].isalpha()), 0)
    defined = _acronym_definitions(words, aliases, gazetteer) if "(" in words else {}
    index = 0
    for start in starts:
        if start < index:
            continue  # inside the last run
        if start in defined:  # "Organisation for Economic Cooperation and Development (OECD)"
            index = defined[start]
            yield _Run(tuple(_clean(w) for w in words[start:index]), start == first_word and not table, hint="organization")
            continue
        index = start
        cleaned = _clean(words[index])
        if not _is_capitalised(cleaned) or cleaned.lower() in _NOT_NAMES or cleaned.lower() in _NOT_FIRST_WORDS or cleaned[:3].lower() in ("al-", "el-"):
            continue
        stretch = [cleaned]
        index += 1
        while index < len(words) and index not in defined:
            previous, word = words[index - 1], words[index]
            cleaned = _clean(word)
            if gazetteer.is_legal_form(stretch[-1]) and not gazetteer.is_legal_form(cleaned) and word != "of":
                break  # a legal form ends the name: "E.L. International Ltd. ChemLawn has"
            if _is_possessive(previous):
                if not _ends_organization(words, index, gazetteer):
                    break  # "Moscow's support"; but "Moody's Investors Service Inc" goes on
                stretch[-1] = previous.replace("’", "'")
            if _is_capitalised(cleaned) and cleaned.lower() not in _NOT_NAMES:
                stretch.append(cleaned)
            elif word in _CONNECTORS and _capitalised_after(words, index + 1):
                stretch.append(word)
            elif word in ("for", "on") and stretch[-1].lower() in _INSTITUTION_HEADS and _capitalised_after(words, index + 1):
                stretch.append(word)  # "Organisation for Economic Cooperation", "General Agreement on Tariffs"
            elif word in ("and", "&") and _joins_organization(stretch, words, index + 1, gazetteer):
                stretch.append(word)
            elif word == "," and index + 1 < len(words) and gazetteer.is_legal_form(words[index + 1]):
                pass  # "Cargill, Inc."
            else:
                break
            index += 1
        if words[index : index + 1] == ["("] and index + 2 < len(words) and words[index + 2] == ")":
            acronym = words[index + 1]
            if acronym.isupper() and 2 <= len(acronym) <= 8:
                aliases.setdefault(acronym, _organization_name(_without_trailing_joiners(stretch), gazetteer))
        hint = "person" if _age_follows(words, index) or (sports and _is_cricketer(words, start, index)) else None
        if table and start == 0 and words[index : index + 1] == [":"]:
            hint = "label"  # "Leicester: Leicestershire beat ...", "Attendance: 200": a venue, or a label
        locative = start > 0 and (words[start - 1] in _LOCATIVES or words[start - 1] == "the" and start > 1 and words[start - 2] in _LOCATIVES)
        if start > 1 and words[start - 1] == "of" and words[start - 2].lower() in _LOCALITY_NOUNS:
            hint = hint or "locality"
        context = (hint, locative, sports, table) if hint or locative or sports else None
        yield from _split_stretch(stretch, start == first_word and not table, bracketed, gazetteer, context)


def _is_cricketer(words: list[str], start: int, end: int) -> bool:
    """ "c Tillekeratne b Dharmasena", "Vaas 7-0-29-0": a scorecard's fielders and bowlers."""
    if start > 0 and words[start - 1] in _CRICKET_MARKS:
        return True
    return end < len(words) and bool(_BOWLING_FIGURES.match(words[end]))


def _age_follows(words: list[str], index: int) -> bool:
    """ "Lynn Reaser, 45, said": an age in apposition follows a person."""
    if words[index : index + 1] != [","] or index + 1 >= len(words):
        return False
    age = words[index + 1]  # "34," is one token
    if age.endswith(","):
        return len(age) == 3 and age[:2].isdigit()
    return len(age) == 2 and age.isdigit() and words[index + 2 : index + 3] in ([","], [")"])


def _acronym_definitions(words: list[str], aliases: dict[str, str], gazetteer: Gazetteer) -> dict[int, int]:
    """Names defined by the acronym after them, whose capitalised words' initials spell it:
    "Organisation for Economic Cooperation and Development (OECD)" is one name, though "and"
    and "for" would split it elsewhere. Maps the name's first word to the word after its end."""
    spans = {}
    for index in range(2, len(words) - 2):
        acronym = words[index + 1]
        if words[index] != "(" or words[index + 2] != ")" or not acronym.isupper() or not 2 <= len(acronym) <= 8:
            continue
        initials = ""
        for start in range(index - 1, -1, -1):
            word = words[start]
            if word in _JOINERS or word in ("for", "in", "on"):
                continue
            if not word[:1].isupper():
                break
            initials = word[0] + initials
            if initials == acronym.replace(".", "") and word == _clean(word):
                spans[start] = index
                aliases[acronym] = _organization_name([_clean(w) for w in words[start:index]], gazetteer)
                break
            if len(initials) >= len(acronym):
                break
    return spans


def _is_acronym(word: str) -> bool:
    return len(word.replace(".", "")) >= 2 and (word.isupper() or bool(_ACRONYM_DOTS.fullmatch(word)))


def _capitalised_after(words: list[str], index: int) -> bool:
    while index < len(words) and words[index] in _CONNECTORS:
        index += 1
    return index < len(words) and _is_capitalised(_clean(words[index]))


def _capitalised_span(words: list[str], index: int) -> list[str]:
    span = []
    while index < len(words) and (_is_capitalised(_clean(words[index])) or words[index] in _CONNECTORS):
        span.append(_clean(words[index]))
        index += 1
    return span


def _ends_organization(words: list[str], index: int, gazetteer: Gazetteer) -> bool:
    span = _capitalised_span(words, index)
    return bool(span) and _ends_organization_word(gazetteer, span[-1])


def _joins_organization(before: list[str], words: list[str], index: int, gazetteer: Gazetteer) -> bool:
    """Whether "and" is inside one organisation's name: "Securities and Exchange Commission",
    "Merrill Lynch and Co"; never "Russia and Tajikistan" or "GTE Corp and United Telecom Inc"."""
    after = _capitalised_span(words, index)
    core = [w for w in after if not gazetteer.is_legal_form(w)]
    if not after or len(core) > 2 or gazetteer.is_legal_form(before[-1]):
        return False
    if len(core) == 2 and core[0].isupper():
        return False  # "... and LTV Corp", "... and NYLIFE Equity Inc": a second organisation
    if _ends_organization_word(gazetteer, after[-1]):
        return True
    # "Organisation for Economic Cooperation and Development", "Ministry of Trade and Industry":
    # an institution's portfolio, unless the words after name a place ("Bank of England and France")
    return (
        any(w.lower() in _INSTITUTION_HEADS for w in before) and ("of" in before or "for" in before or "on" in before)
        and not any(gazetteer.place(w) for w in core) and not gazetteer.place(" ".join(core))
    )


def _without_trailing_joiners(words: list[str]) -> list[str]:
    while words and words[-1] in _JOINERS:
        words = words[:-1]
    return words


def _split_stretch(
    stretch: list[str], sentence_initial: bool, bracketed: set[str], gazetteer: Gazetteer,
    context: tuple[str | None, bool, int, bool] | None = None,
) -> Iterator[_Run]:
    """Split a stretch of capitalised words into runs: at job titles ("Tajik President Imomali
    Rakhmon"), and at "of" before a place ("Dan Rostenkowski of Illinois"). ``context`` is what
    the text around says of the stretch: (hint, after "in", "at"..., in a sports report, in a table)."""
    hint, locative, sports, table = context or (None, False, 0, False)
    if len(stretch) == 1:  # most stretches: one word, a run unless it is a title or a joiner
        word = stretch[0]
        if word not in _JOINERS and (word in bracketed or word.lower().rstrip(".") not in _TITLES):
            yield _Run((word,), sentence_initial, False, False, word in bracketed, hint, locative, sports, table)
        return
    stretch = _without_trailing_joiners(stretch)
    if not stretch:
        return
    text = " ".join(stretch)
    organization = text in bracketed or (_ends_organization_word(gazetteer, stretch[-1]) and len(stretch) > 1)
    if organization:
        while len(stretch) > 2 and stretch[0].lower().rstrip(".") in _TITLES:
            stretch = stretch[1:]  # "Vice Minister of the International Trade and Industry Ministry"
            while stretch and stretch[0] in _CONNECTORS:
                stretch = stretch[1:]
        pieces = [(stretch, False, False)]
    elif len(stretch) == 2 and _is_acronym(stretch[0]) and gazetteer.place(stretch[0]) and not gazetteer.place(text):
        pieces = [([stretch[0]], False, False)]  # "U.S. Engineering", "U.K. Government": the place
    else:
        pieces = []
        current: list[str] = []
        after_title = False
        for word in stretch:
            if word.lower().rstrip(".") in _TITLES:
                if current:
                    pieces.append((current, after_title, True))
                current, after_title = [], True
            else:
                current.append(word)
        if current:
            pieces.append((current, after_title, False))
    for position, (words, after_title, before_title) in enumerate(pieces):
        if after_title:
            words = _person_after_portfolio(words, gazetteer)
        if not words:
            continue
        initial = sentence_initial and position == 0 and words[0] == stretch[0]
        for part in _split_at_of_place(words, gazetteer):
            whole = len(part) == len(stretch)
            yield _Run(
                tuple(part), initial, after_title, before_title, " ".join(part) in bracketed,
                hint if whole else None, locative and part[0] == stretch[0], sports, table,
            )
            initial = after_title = False  # "President Tono Eitel of Germany": Germany is no person


def _person_after_portfolio(words: list[str], gazetteer: Gazetteer) -> list[str]:
    """ "Secretary of State George Shultz": after the title comes the portfolio, then the person;
    "Minister of Agriculture" names no person at all."""
    portfolio = bool(words) and words[0] == "of"
    while words and words[0] in _CONNECTORS:
        words = words[1:]
    if words and words[0].lower() in gazetteer.first_names:
        return words  # "Mohammad Ibrahim Baluch"
    for start in range(1, len(words) - 1):
        if words[start].lower() in gazetteer.first_names and 2 <= len(words) - start <= 3:
            return words[start:]
    if portfolio:
        return words[1:]  # "Secretary of State Shultz", "Secretary of Agriculture"
    return words


def _split_at_of_place(words: list[str], gazetteer: Gazetteer) -> Iterator[list[str]]:
    """ "Dan Rostenkowski of Illinois", "Don Lowe Foods Inc of Pompano Beach", "David Rogers of
    Cargill's Commodity Marketing Division": two names. "Bank of Japan": one."""
    if "of" in words:
        cut = len(words) - 1 - words[::-1].index("of")
        before, after = words[:cut], words[cut + 1 :]
        while after and after[0] == "the":  # "Paul Volcker of the Federal Reserve"
            after = after[1:]
        before_is_organization = any(w.lower() in _ORG_WORDS for w in before) and not gazetteer.is_legal_form(before[-1] if before else "")
        after_is_name = gazetteer.place(" ".join(after)) or _looks_like_person(before, gazetteer) or (
            after and _is_acronym(after[0]) and len(after) == 1  # "Uruguay Round of GATT"
        )
        whole_is_organization = gazetteer.is_legal_form(words[-1])  # "Empire of Carolina Inc"
        if before and after and after_is_name and not before_is_organization and not whole_is_organization:
            yield from _split_at_of_place(before, gazetteer)
            yield after
            return
    yield words


def _drop_sentence_capital(run: _Run, capitalised_inside: set[str], gazetteer: Gazetteer) -> _Run:
    """A first word capitalised only because it starts the sentence is no part of a name."""
    first = run.words[0]
    if not run.sentence_initial or first.isupper() or first in capitalised_inside or run.bracketed:
        return run
    if gazetteer.place(" ".join(run.words)) or gazetteer.place(first):
        return run  # "Algeria will tender", "Canada, Britain and France agreed"
    if len(run.words) > 1 and run.words[1] not in _CONNECTORS and run.words[1] != "and":
        return run  # "Central Asia has ...": a capitalised pair is a name even at the start
    if len(run.words) > 2 and (_ends_organization_word(gazetteer, run.words[-1]) or first.lower() in _ORG_WORDS):
        return run  # "Standard and Poor's Corp said", "Bank of England said"
    words = run.words[1:]
    while words and words[0] in _JOINERS:
        words = words[1:]
    return run._replace(words=words, sentence_initial=False)


def _classify(
    run: _Run, gazetteer: Gazetteer, known: _Known, aliases: dict[str, str]
) -> tuple[str | None, Kind | None]:
    """The name a run spells and its kind; ``(None, None)`` where it is no name."""
    words = list(run.words)
    if len(words) > 1 and words[0] in _LEGAL_PREFIXES:
        return _organization_name(words[1:], gazetteer), "organization"  # "AB Astra"
    name = " ".join(words)
    if run.hint is None and not run.bracketed:
        same = known.first(name)
        if same:
            return same  # a name seen again: what it was the first time (the checks below agree)
    last = words[-1]
    if _is_wire(name):
        return None, None
    if len(words) > 1 and words[0] in _WIRES and not _ends_organization_word(gazetteer, last):
        return _classify(run._replace(words=run.words[1:]), gazetteer, known, aliases)  # "told Reuters MITI would"
    if run.hint == "place":  # a dateline
        return gazetteer.place(name) or gazetteer.town(name) or name, "place"
    if run.hint == "locality" and not known.first(name) and not _ends_organization_word(gazetteer, last):
        return gazetteer.place(name) or gazetteer.town(name) or name, "place"
    if run.hint == "label":  # "Leicester:" is where a match was played; "Scorers:" is no name
        place = gazetteer.place(name) or gazetteer.town(name)
        return (place, "place") if place else (None, None)
    if run.hint == "organization":  # defined by its acronym
        return _organization_name(words, gazetteer), "organization"
    if len(words) > 1 and last.lower() in _EVENT_WORDS and not run.bracketed:
        if _is_acronym(words[0]) and not gazetteer.place(words[0]) and words[0] not in _NOT_ACRONYMS:
            return known.first(words[0]) or (aliases.get(words[0], words[0]), "organization")  # "UEFA Cup"
        return None, None  # "World Cup", "Labor Day": events
    if len(words) == 2 and last.lower() in _BODY_WORDS and _is_acronym(words[0]) and not gazetteer.place(words[0]):
        return known.first(words[0]) or (aliases.get(words[0], words[0]), "organization")  # "GATT Council"
    if len(words) > 2 and _is_demonym(words[0], gazetteer) and not _ends_organization_word(gazetteer, last):
        rest = words[1:]
        if _looks_like_person(rest, gazetteer):
            return " ".join(rest), "person"  # "Australian Tom Moody"
    if run.bracketed or (len(words) > 1 and gazetteer.is_legal_form(last)):
        return _organization_name(words, gazetteer), "organization"
    if name in _NOT_ACRONYMS:
        return None, None
    same = known.first(name)
    if same:
        return same
    if name in aliases:  # "ICCO", defined as "International Cocoa Organization (ICCO)"
        return known.first(aliases[name]) or (aliases[name], "organization")
    if run.sports and not run.after_locative and not run.bracketed:
        team = _team(run, name, gazetteer, known)
        if team:
            return team
    full = known.full_name(name) if len(words) == 1 else None
    if full and full[1] == "person" and full[0].endswith(" " + name):
        return full  # "Jordan said", after "Bill Jordan": the person, not the country
    region = gazetteer.region(name)
    if region and not run.after_title:
        return region, "place"  # "China" stays a place beside "China Daily"
    if full:
        return full
    place = gazetteer.place(name)
    if place and not run.after_title:
        return place, "place"
    if name in _KNOWN_ORGANIZATIONS:
        return name, "organization"
    if last.lower() in _ORG_WORDS or any(a.lower() in _ORG_WORDS and b in _CONNECTORS for a, b in zip(words, words[1:])):
        return (name, "organization") if len(words) > 1 or name in _INSTITUTIONS else (None, None)
    if run.before_title:
        return None, None  # "Tajik President", "Environmental Affairs Minister"
    if (run.after_title or run.hint == "person") and not name.isupper():
        return name, "person"
    if len(words) == 1 and "-" in name and all(gazetteer.place(p) for p in name.split("-")):
        return None, None  # "U.S.-USSR": both sides are named elsewhere or not at all
    if len(words) == 1 and (name.isupper() or _ACRONYM_DOTS.fullmatch(name)) and len(name.replace(".", "")) >= 2:
        return (None, None) if name in _NOT_ACRONYMS else (name, "organization")
    if len(words) > 1 and last.lower() in _PLACE_WORDS:
        return name, "place"
    if len(words) > 1 and _looks_like_person(words, gazetteer):
        return name, "person"
    if len(words) == 1:
        town = gazetteer.town(name) if run.after_locative else None
        return (town, "place") if town else (None, None)  # a lone word the text says nothing more about
    if last.lower().endswith(_ADJECTIVE_ENDINGS) and not gazetteer.place(last):
        return None, None  # "Saudi Arabian", "West German": adjectives
    return name, "organization"


def _team(run: _Run, name: str, gazetteer: Gazetteer, known: _Known) -> tuple[str, Kind] | None:
    """What a name of a sports report is, where that differs from elsewhere: a town or county
    is a team ("Leicestershire beat Somerset", "Atlanta 83 49 .629"), a country stays a place
    (a national side is named as its country), and a name of a results table is a person
    unless it is one word ("Pete Sampras (U.S.)", "1. Daniel Komen (Kenya)")."""
    if gazetteer.country(name) or run.hint or run.after_title or run.before_title:
        return None
    words = run.words
    if len(words) == 1:
        if known.full_name(name) or name.isupper() or name in _NOT_ACRONYMS or name.lower() in known.lower_words:
            return None  # "Simmons" of "Phil Simmons", "NFL", "Attendance"
        if name.lower() in _EVENT_WORDS or gazetteer.is_area(name):
            return None  # "Open", "Cup", "Europe"
        if run.sentence_initial and not gazetteer.place(name):
            return None
        if gazetteer.place(name):
            return (name, "organization") if run.sports == 2 else None  # no teams in golf
        if _is_demonym(name, gazetteer) or name.endswith(_ADJECTIVE_ENDINGS[:4]):
            return None  # "European", "Olympic"
        if gazetteer.is_first_name(name) or _SURNAME_ENDING.search(name.lower()) or run.sports < 2:
            return None  # "Peter", "Panayiotopoulos": people named once
        return name, "organization"
    if gazetteer.is_first_name(words[0]) and _looks_like_person(list(words), gazetteer):
        return None  # "Carla Sacramento"
    if gazetteer.place(name):
        return (name, "organization") if run.in_table and run.sports == 2 else None  # "KANSAS CITY 61 74", not "in Kansas City"
    if run.sports == 2 and any(w.lower() in _TEAM_WORDS or gazetteer.place(w) for w in words):
        return name, "organization"  # "Kansas City", "Manchester City", "Red Star", "Rotor Volgograd"
    if run.in_table and not any(w.lower() in _ORG_WORDS or w.lower() in _EVENT_WORDS or w in _CONNECTORS for w in words) and len(words) <= 4:
        return name, "person"
    return None


def _looks_like_person(words: list[str], gazetteer: Gazetteer) -> bool:
    core = [w for w in words if w not in _ROMAN]
    if not 2 <= len(core) <= 4 or any(w in _CONNECTORS and w not in _SURNAME_PARTICLES for w in core):
        return False
    last = core[-1].lower()
    if last in _NOT_SURNAMES or last in _ORG_WORDS or last in _EVENT_WORDS or last in _PLACE_WORDS:
        return False  # "General Agreement", "Export Sales"
    if core[-1].isupper() or gazetteer.place(core[-1]) and not gazetteer.is_first_name(core[0]):
        return False
    if any(_INITIAL.match(w) for w in core[:-1]):
        return True  # "Frank B. Hall", "T. Boone Pickens", "K. Benjamin"
    return core[0].lower() in gazetteer.first_names or bool(_SURNAME_ENDING.search(last))


def _is_demonym(word: str, gazetteer: Gazetteer) -> bool:
    """ "Australian", "Saudi", "Dutch": a nationality written before a name."""
    if word in _DEMONYMS or word.endswith("s") and word[:-1] in _DEMONYMS:
        return True  # "Dutch", "Swedes"
    if word.endswith("s") and len(word) > 5:
        word = word[:-1]  # "Americans", "Mexicans"
    return (
        word.endswith(("an", "ese", "ish", "i")) and len(word) > 4 and word[0].isupper() and not word.isupper()
        and not gazetteer.is_first_name(word) and not gazetteer.place(word)
    )


def _organization_name(words: list[str], gazetteer: Gazetteer) -> str:
    """The name without its legal form: "Ecolab Inc" -> "Ecolab", "Merrill Lynch and Co Inc" ->
    "Merrill Lynch"."""
    while len(words) > 1 and (gazetteer.is_legal_form(words[-1]) or words[-1] in ("and", "&")):
        words = words[:-1]
    return " ".join(words)


class _Known:
    """The names an article's runs were classified as, in order, looked up as ``_classify``
    needs: by name, and by the one-word mentions that stand for a longer name (a person's first
    or last name, the first word of an organisation, or its initials). Each lookup finds the
    first such name; trying every name for each mention was quadratic in an article's names."""

    def __init__(self) -> None:
        self._names: list[tuple[str, Kind]] = []
        self._first: dict[str, tuple[str, Kind]] = {}
        self._by_word: dict[str, int] = {}  # a one-word mention -> the first name it stands for
        self._by_initials: dict[str, int] = {}
        self.lower_words: set[str] = set()

    def add(self, name: str, kind: Kind) -> None:
        number = len(self._names)
        self._names.append((name, kind))
        self._first.setdefault(name, (name, kind))
        parts = _name_parts(name)
        if parts is None or kind not in ("person", "organization"):
            return
        first, last, last_word, initials = parts
        for word in (first, last) if kind == "person" else (first, last_word):
            if word is not None:
                self._by_word.setdefault(word, number)
        if kind == "organization":
            self._by_initials.setdefault(initials, number)

    def first(self, name: str) -> tuple[str, Kind] | None:
        return self._first.get(name)

    def full_name(self, word: str) -> tuple[str, Kind] | None:
        """The first longer name that the one-word mention ``word`` stands for."""
        found = [n for n in (self._by_word.get(word), self._by_initials.get(word.replace(".", ""))) if n is not None]
        return self._names[min(found)] if found else None


@lru_cache(maxsize=2**16)  # an organisation's or person's name recurs across articles
def _name_parts(name: str) -> tuple[str, str, str | None, str] | None:
    """A name's first and last words, its last word again unless a connector joins its words
    ("Bank of England" does not stand for "England"), and its initials; None for one word."""
    words = name.split()
    if len(words) < 2:
        return None
    return words[0], words[-1], None if _CONNECTORS.intersection(words) else words[-1], _initials(words)


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w[:1].isupper())


# Choosing an extractor --------------------------------------------------------------------------

Extractor = Callable[[str], tuple[Entity, ...]]


def extractor(backend: str | None = None) -> Extractor:
    """The entity extractor for ``backend`` (default: ``$SEARCHLIB_NER``, then ``rules``).

    ``rules`` is the offline extractor of this module. ``nltk`` uses NLTK's named-entity chunker
    and ``spacy`` spaCy's ``en_core_web_sm`` model, when installed; ``auto`` picks the best one
    installed.

    Raises:
        NerBackendError: an unknown backend, or one whose model is not installed; the message
            says how to install it.
    """
    choice = (backend or os.environ.get("SEARCHLIB_NER") or "rules").strip().lower()
    if choice not in BACKENDS:
        raise NerBackendError(f"Unknown entity extractor {choice!r}: choose one of {', '.join(BACKENDS)}")
    if choice == "rules":
        return extract_entities
    if choice == "auto":
        for candidate in (_spacy_extractor, _nltk_extractor):
            try:
                return candidate()
            except NerBackendError:
                continue
        return extract_entities
    return _spacy_extractor() if choice == "spacy" else _nltk_extractor()


_NLTK_RESOURCES = (
    ("chunkers/maxent_ne_chunker_tab", "maxent_ne_chunker_tab"),
    ("taggers/averaged_perceptron_tagger_eng", "averaged_perceptron_tagger_eng"),
    ("tokenizers/punkt_tab", "punkt_tab"),
    ("corpora/words", "words"),
)
_NLTK_KINDS: dict[str, Kind] = {
    "PERSON": "person", "ORGANIZATION": "organization", "GPE": "place", "LOCATION": "place", "FACILITY": "place"
}


def _nltk_extractor() -> Extractor:
    import nltk

    missing = []
    for path, package in _NLTK_RESOURCES:
        try:
            nltk.data.find(path)
        except LookupError:
            missing.append(package)
    if missing:
        raise NerBackendError(
            "The nltk entity extractor needs NLTK data that is not installed: "
            f"python -m nltk.downloader {' '.join(missing)}"
        )

    tagger, chunker = _nltk_models()

    def extract(text: str) -> tuple[Entity, ...]:
        found: dict[str, Kind] = {}
        for sentence in nltk.sent_tokenize(text):
            tree = chunker.parse(tagger.tag(nltk.word_tokenize(sentence)))
            for subtree in tree.subtrees(lambda t: t.label() in _NLTK_KINDS):
                name = " ".join(word for word, _ in subtree.leaves())
                kind = _NLTK_KINDS[subtree.label()]
                if kind == "place":
                    name = canonical_place(name) or name
                if not _is_wire(name):
                    found.setdefault(name, kind)
        return tuple(Entity(name, kind) for name, kind in found.items())

    return extract


@lru_cache(maxsize=1)
def _nltk_models() -> tuple[Any, Any]:
    """NLTK's part-of-speech tagger and named-entity chunker, loaded once per process:
    ``nltk.ne_chunk`` loads its model again on every call, about 0.9 s a sentence."""
    import nltk.chunk
    import nltk.tag

    return nltk.tag.PerceptronTagger(), nltk.chunk.ne_chunker()


_SPACY_KINDS: dict[str, Kind] = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place", "FAC": "place"}


def _spacy_extractor() -> Extractor:
    try:
        import spacy
    except ImportError:
        raise NerBackendError(
            "The spacy entity extractor needs spaCy and its English model: "
            "pip install spacy, then python -m spacy download en_core_web_sm"
        ) from None
    try:
        nlp: Any = spacy.load("en_core_web_sm", disable=["lemmatizer"])
    except OSError:
        raise NerBackendError(
            "The spacy entity extractor needs the en_core_web_sm model: python -m spacy download en_core_web_sm"
        ) from None

    def extract(text: str) -> tuple[Entity, ...]:
        found: dict[str, Kind] = {}
        for ent in nlp(text).ents:
            kind = _SPACY_KINDS.get(ent.label_)
            if kind and not _is_wire(ent.text.strip()):
                name = ent.text.strip()
                found.setdefault(canonical_place(name) or name if kind == "place" else name, kind)
        return tuple(Entity(name, kind) for name, kind in found.items())

    return extract
