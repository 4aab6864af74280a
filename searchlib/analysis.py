"""Text analysis: NLTK tokenising and Snowball stemming, as Whoosh Tokenizer and Filter classes.

The same analyzer runs over articles at index time and over query words at search time, so the
query "Military Bases" and the text "military base" meet at the stems ``militari`` and ``base``:

    NltkTokenizer      words, numbers and acronyms, with their character offsets (for highlighting)
    LowercaseFilter    Whoosh's
    CharsetFilter      Whoosh's accent folding: "Ceaușescu" == "ceausescu"
    StopFilter         a short stop list (Lucene's), positions kept so phrases still line up
    SnowballFilter     NLTK's Snowball ("Porter 2") English stemmer, with a cache

Only the parts of NLTK that need no downloaded data are used, and only those are imported:
``import nltk`` runs every NLTK module and SciPy (0.8 s, more than a whole search), so the
stemmer's module is loaded on its own (``_nltk_module``), and NLTK's ``RegexpTokenizer``, which
runs the pattern this module gives it, runs it here with ``re`` as the build always has
(``token_terms``), so that query words split as the index's did (NLTK 3.9 and later run it
with the ``regex`` engine, which also counts combining marks as parts of words). A search
rarely loads even the stemmer: the index keeps the stem of every word form it holds
(vocabulary.py), which ``remember_stems`` makes known. The schema, analyzers included, is
pickled into each index, so these classes keep stable import paths and pickle without their
NLTK objects. Changing what they produce means bumping ``schema.SCHEMA_VERSION``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import types
from bisect import bisect_left
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from whoosh.analysis import (
    CharsetFilter,
    CompositeAnalyzer,
    Filter,
    LowercaseFilter,
    Token,
    Tokenizer,
)
from whoosh.support.charset import accent_map

__all__ = [
    "NltkTokenizer",
    "SnowballFilter",
    "STOP_WORDS",
    "QUERY_STOP_WORDS",
    "news_analyzer",
    "name_list_analyzer",
    "spelling_analyzer",
    "fold",
    "analyze",
    "token_terms",
]

# Lucene's English stop list (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET): short and safe for ranking.
STOP_WORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with".split()
)

#: Common words a query leaves out, though the index keeps them (query_language.py), as Xapian's
#: QueryParser leaves out its stopper's words: question and function words ("what", "which",
#: "about", "from"), which in a question typed whole ("what did Reagan say about Nakasone")
#: only add articles that happen to use them. NLTK's English stop list less those that name
#: something in news ("us", "may", "will", "can", "won", "up", "over", "after"...) and less the
#: pieces of contractions the tokenizer never makes, plus "much", "many", "could", "would" and
#: the contractions it does make. A phrase keeps them, and so does a query of nothing else.
QUERY_STOP_WORDS = frozenset(
    "about against all am any because been being between both could did do does doing during "
    "each from further had has have having he her here hers herself him himself his how i its "
    "itself just many me much my myself nor now only other our ours ourselves own same she "
    "should so some than those through too until very we were what when where which while who "
    "whom why would you your yours yourself yourselves them themselves theirs what's it's "
    "don't doesn't i'm you're we're they're that's there's here's let's isn't aren't wasn't "
    "weren't".split()
)

# Acronyms with dots (U.S., U.N.), numbers with separators (6,000; 3.5), then words with inner
# apostrophes (Rakhmon's, don't). Hyphens and other punctuation split words, as in Lucene.
TOKEN_PATTERN = r"(?:[^\W\d_]\.){2,}|\d+(?:[.,]\d+)+|\w+(?:['’]\w+)*"
_SEPARATORS = re.compile(r"[.,]")
# The flags NLTK's RegexpTokenizer compiles its pattern with.
_NLTK_FLAGS = re.UNICODE | re.MULTILINE | re.DOTALL


class NltkTokenizer(Tokenizer):
    """Split text into word tokens with NLTK's ``RegexpTokenizer``, recording character offsets.

    Dots in acronyms and separators in numbers are removed from the token text ("U.S." -> "US",
    "6,000" -> "6000"); typographic apostrophes become ASCII ones. With ``line_gap``, each line
    break adds that many positions, so a phrase cannot match across the lines of a list.
    """

    def __init__(self, pattern: str = TOKEN_PATTERN, *, line_gap: int = 0) -> None:
        self.pattern = pattern
        self.line_gap = line_gap
        self._regex: Any = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NltkTokenizer) and self.__getstate__() == other.__getstate__()

    def __hash__(self) -> int:
        return hash((type(self), self.pattern, self.line_gap))

    def __getstate__(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "line_gap": self.line_gap}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.pattern = state["pattern"]
        self.line_gap = state.get("line_gap", 0)
        self._regex = None

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """The ``(start, end)`` offsets of the tokens in ``text``, as ``token_terms`` finds them."""
        if self._regex is None:
            self._regex = re.compile(self.pattern, _NLTK_FLAGS)
        return (match.span() for match in self._regex.finditer(text))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        gap, previous_end = 0, 0
        for pos, (start, end) in enumerate(self.spans(value)):
            if self.line_gap:
                gap += self.line_gap * value.count("\n", previous_end, start)
                previous_end = end
            word = value[start:end]
            if keeporiginal:
                token.original = word
            if "." in word or "," in word:
                word = _SEPARATORS.sub("", word)
            token.text = word.replace("’", "'")
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + pos + gap
            if chars:
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    for words, stems in _KNOWN_STEMS:
        at = bisect_left(words, word)
        if at < len(words) and words[at] == word and stems[at]:
            return stems[at]
    return _stemmer().stem(word)


#: Tables of word forms (sorted) and their stems, from the indexes open in this process.
_KNOWN_STEMS: list[tuple[list[str], list[str]]] = []


def remember_stems(words: list[str], stems: list[str]) -> None:
    """Make the stems of ``words`` (sorted) known, so that stemming them needs no NLTK: an
    index's vocabulary, when it is opened. The last few tables are kept."""
    _KNOWN_STEMS.insert(0, (words, stems))
    del _KNOWN_STEMS[4:]


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    """NLTK's Snowball English stemmer."""
    return _nltk_module("nltk.stem.snowball").SnowballStemmer("english")


def _nltk_module(name: str) -> Any:
    """The NLTK module ``name``, imported without running ``nltk/__init__`` (which imports all of
    NLTK, SciPy among it: 0.8 s) unless NLTK is imported already. The package modules it is
    loaded under are placeholders, taken away again after, so that a later ``import nltk``
    imports the whole package as usual."""
    if "nltk" in sys.modules:
        return importlib.import_module(name)
    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        return importlib.import_module(name)  # raises what the missing package raises
    root = list(spec.submodule_search_locations)[0]
    before = set(sys.modules)
    placeholders = {"nltk": root, "nltk.stem": os.path.join(root, "stem")}
    for package, folder in placeholders.items():
        sys.modules[package] = module = types.ModuleType(package)
        module.__path__ = [folder]
    sys.modules["nltk.corpus"] = corpus = types.ModuleType("nltk.corpus")
    corpus.stopwords = None  # type: ignore[attr-defined]  # only for an option the stemmer is not given
    try:
        return importlib.import_module(name)
    finally:
        for loaded in set(sys.modules) - before:
            del sys.modules[loaded]


class SnowballFilter(Filter):
    """Stem each token with NLTK's Snowball English stemmer ("Porter 2").

    Stems are cached process-wide: news vocabulary repeats heavily, and stemming dominates
    analysis time otherwise. Tokens of digits are left alone.
    """

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SnowballFilter)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            if not token.stopped and not token.text.isdigit():
                token.text = _stem(token.text)
            yield token


class StopFilter(Filter):
    """Remove the stop words, moving each later word up one position per word removed: a phrase
    matches across a removed stop word ("Bank of England" is "bank england"), yet the gaps the
    tokenizer leaves between lines stay, which Whoosh's own ``StopFilter`` either renumbers
    away or keeps with the holes of the removed words."""

    def __init__(self, stoplist: frozenset[str] = STOP_WORDS) -> None:
        self.stoplist = stoplist

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StopFilter) and self.stoplist == other.stoplist

    def __hash__(self) -> int:
        return hash((type(self), self.stoplist))

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        removed = 0
        for token in tokens:
            if token.text in self.stoplist:
                if token.removestops:
                    removed += 1
                    continue
                token.stopped = True
            if token.positions:
                token.pos -= removed
            yield token


#: How a lower-cased word is folded: Whoosh's accent map ("ș" -> "s"), and what it leaves out:
#: the dot that lower-casing the Turkish "İ" leaves (``"İ".lower()`` is "i" and U+0307, so
#: "İstanbul" missed "Istanbul") and the Latin ligatures of typeset text ("ﬁnance").
FOLD_MAP = {**accent_map, 0x0307: None, 0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl",
            0xFB05: "st", 0xFB06: "st"}


def news_analyzer(*, line_gap: int = 0) -> CompositeAnalyzer:
    """The analyzer of the article text fields, and of query words; ``line_gap`` as for
    ``NltkTokenizer`` (the combined ``text`` field keeps a phrase from spanning two fields)."""
    return (
        NltkTokenizer(line_gap=line_gap)
        | LowercaseFilter()
        | CharsetFilter(FOLD_MAP)
        | StopFilter()
        | SnowballFilter()
    )


#: The characters of each of an article's title, caption and body that are analysed (words,
#: positions, names): the first 1,000,000, Elasticsearch's limit for highlighting
#: (``index.highlight.max_analyzed_offset``), ten times the longest article of the corpora we
#: test with. The whole text is stored and shown; words beyond the limit are not searchable.
#: Analysis holds some 200 bytes a word: one article of 10 MB of one-letter words, the most
#: words it can hold, now costs a build 200 MB more than the rest (one of 10 MB of news text took
#: 1.15 GB before the limit, 60 MB with it).
ANALYSED_CHARACTERS = 1_000_000

#: Positions a line break adds between the names of a name list.
NAME_LINE_GAP = 100


def name_list_analyzer() -> CompositeAnalyzer:
    """The analyzer of a list of names, one a line: the same terms as ``news_analyzer``, but
    positions jump at each line, so "grain exports" does not match "Coarse Grain\nExports"."""
    return (
        NltkTokenizer(line_gap=NAME_LINE_GAP)
        | LowercaseFilter()
        | CharsetFilter(FOLD_MAP)
        | StopFilter()
        | SnowballFilter()
    )


def spelling_analyzer() -> CompositeAnalyzer:
    """Words as written, only lower-cased and without accents: the vocabulary "did you mean"
    suggestions and fuzzy matches are drawn from (stems are no words to suggest)."""
    return NltkTokenizer() | LowercaseFilter() | CharsetFilter(FOLD_MAP)


_TOKEN = re.compile(TOKEN_PATTERN, _NLTK_FLAGS)
_TERMS: dict[str, tuple[str, str | None]] = {}
# About 60 MB: a worker of a 100,000-article build meets some 210,000 word forms. Stemming is
# most of the cost of a new form; with 100,000 kept (and the stems' LRU cache of as many) it
# stemmed half as many again, as forms cleared out came back.
_TERMS_LIMIT = 250_000


def token_terms(text: str) -> list[tuple[str, str | None, int, int, int]]:
    """Every token of ``text`` in one pass, as both ``spelling_analyzer`` and ``news_analyzer``
    see it: ``(spelling, term, start, end, line_breaks)``, the term ``None`` for a stop word and
    ``line_breaks`` the number of line breaks before the token.

    What the indexer derives every text field's postings from (analysing an article once rather
    than once per field, through Whoosh's token generators); tests pin it to the analyzers.
    """
    found: list[tuple[str, str | None, int, int, int]] = []
    append, known = found.append, _TERMS.get
    begin, breaks = 0, 0
    while begin <= len(text):  # a line at a time: no token spans a line break
        end_of_line = text.find("\n", begin)
        if end_of_line < 0:
            end_of_line = len(text)
        for match in _TOKEN.finditer(text, begin, end_of_line):
            word = match.group()
            spelling, term = known(word) or _terms(word)
            append((spelling, term, match.start(), match.end(), breaks))
        begin, breaks = end_of_line + 1, breaks + 1
    return found


def _terms(word: str) -> tuple[str, str | None]:
    if len(_TERMS) >= _TERMS_LIMIT:
        _TERMS.clear()
    folded = word
    if "." in folded or "," in folded:
        folded = _SEPARATORS.sub("", folded)
    folded = folded.replace("’", "'").lower().translate(FOLD_MAP)
    term = None if folded in STOP_WORDS else folded if folded.isdigit() else _stem(folded)  # an open index's stems first
    _TERMS[word] = terms = (folded, term)
    return terms


def fold(word: str) -> str:
    """A word as the spelling vocabulary holds it: "Zürich" -> "zurich"."""
    return next((token.text for token in spelling_analyzer()(word)), "")


def fold_pattern(pattern: str) -> str:
    """A wildcard pattern as the spelling vocabulary holds words: lower case, accents folded, the
    wildcards kept (``Mil*tary`` -> ``mil*tary``)."""
    return "".join(part if part in "*?" else fold(part) for part in re.split(r"([*?])", pattern))


def analyze(text: str) -> list[str]:
    """The terms the index holds for ``text``: ``analyze("Military Bases")`` -> ``['militari', 'base']``."""
    return [token.text for token in news_analyzer()(text)]
