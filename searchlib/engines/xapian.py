"""The Xapian engine's search side: ``XapianIndex``, the same public methods as ``query.Index``
over a local Xapian index or over shards served on other machines.

What is shared with the Whoosh engine and what is Xapian's own:

    shared   query_language.parse_query (the text into a tree of Whoosh query objects, used here
             as the engine-independent form of a query), filters.filter_query, the analysis,
             suggestions.suggest and query._like_query (fed by ``_SharedView``, which answers
             from Xapian what they read from a Whoosh snapshot), proximity.closeness (fed
             positions), the alias table (aliases.py, made by the writer), results.timeline_buckets
             (fed counts), snippets, and the ``models`` values
    Xapian   matching (``_Translator``: the query tree into a ``xapian.Query``), scoring
             (``xapian.BM25PlusWeight``), ordering, paging, story folding (``set_collapse_key``
             on the story slot), counts and facets (match spies over every match)

**Shards.** However many shards there are, and wherever they are, they are opened as one
``xapian.Database`` (``add_database``): Xapian sends the query to every shard, gathers the
statistics of all of them first, so each shard weighs with the collection's document count,
term frequencies and average length, and merges the results. The scores are those one index of
the same articles would give (tests/test_xapian_shards.py pins that to 1e-6).

**Scoring.** BM25 with searchlib's k1 and b over the combined ``text`` field: Xapian's
``BM25PlusWeight(k1, 0, 0, b, 0, 0)``, BM25+ with delta 0, which is BM25 with the idf
``log((N + 1) / n)``. Lucene's (and the Whoosh engine's) is ``log(1 + (N - n + 0.5) / (n + 0.5))
= log((N + 1) / (n + 0.5))``: the two differ by less than ``log(1.5)`` for a word in one article
and by nothing that counts for common words. Xapian's own ``BM25Weight`` would not do: its idf
``log((N - n + 0.5) / (n + 0.5))`` goes negative for words in more than half the articles and is
then clamped. Document lengths are exact here (Whoosh keeps them in a byte). A repeated query
word counts again through ``OP_SCALE_WEIGHT`` (k3 is 0: Xapian's own query-frequency factor is
off), as do ``^`` boosts and the weights of fuzzy words. A custom ``xapian.Weight`` in Python
cannot be used: ``xapian-tcpsrv`` only knows Xapian's built-in schemes.

**Closeness**, as the Whoosh engine's second pass (rescoring.py): the best ``proximity.DEPTH``
articles by BM25, tier by tier, are read for the positions of the query's words
(``Database.positionlist``, one request a word and article to a remote shard) and given
``Ranking.proximity`` times their closeness, with Xapian's idf and exact lengths. The closeness
of each joins the query as a ``ValueMapPostingSource`` on the id slot (``OP_AND_MAYBE``: it
reorders, never matches), so Xapian itself orders, folds stories by their best copy after
closeness, and pages, on one index or on shards alike.

**What the Xapian engine does differently, and says so.** Words in one field (``title:gold``,
``person:rakhmon``) match exactly as in the Whoosh engine, but are scored as the same word in
the combined text (Xapian keeps one length per document, the combined text's, so a BM25 per
field cannot be computed): a search's ``notices`` say so. Plain words are searched in ``text``
only, so ``field_weights`` other than ``text`` are an error (``XapianEngineError``), not a
silent difference; so is ``Ranking.feedback``.

**A shard that does not answer** is a ``ShardUnavailableError`` naming it, unless the cluster
allows partial results (``xapian://a:1,b:2?partial=yes``, or ``partial = yes`` in a cluster
file): then the search answers from the shards that do, and ``notices`` say which did not. A
shard that comes back is used again by the next search.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from functools import lru_cache
from math import log
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import attrs
import numpy as np
import xapian
from whoosh import query as whoosh_query

from ..aliases import AliasTable
from ..analysis import analyze, token_terms
from ..dates import microseconds
from ..config import SEARCHABLE_TEXT_FIELDS, Ranking
from ..errors import (
    ArticleNotFoundError, IndexCorruptError, IndexNotFoundError, InvalidOptionError,
    SearchlibError, ShardUnavailableError, XapianEngineError,
)
from ..filters import filter_query
from ..matching import (
    MAX_EXPANDED_POSTINGS, MAX_EXPANSIONS, choose_expansions, fuzzy_weights, is_spelled, literal_start, matching_terms,
    PhraseLeaf, multi_term_queries, spelled_stems,
)
from ..models import FacetValue, Hit, IndexedArticle, ScorePart, SearchResult, Snippet, Timeline
from ..proximity import DEPTH, closeness
from ..query_language import ParsedQuery, parse_query, plain_query
from ..ranking import MATCHES, SORTS
from ..rescoring import MOST_CLOSE_TERMS
from ..results import (
    HIGHLIGHTED_FIELDS, PERIODS, Marked, canonical_entities, highlighted_terms, marked_text, term_offsets, timeline_buckets,
)
from ..schema import ENTITY_FIELDS, make_schema
from ..snapshot import UNDATED, wait_for_first_build
from ..snippets import hit_snippets
from ..suggestions import suggest
from ..writer import ANALYSED_CHARACTERS
from . import is_xapian_address
from .xapian_layout import (
    ALIASES_KEY, DATE_SLOT, DAY_SLOT, FACET_SLOTS, ID_SLOT, METADATA_KEY, NAMES_DIGEST_KEY, NAMES_KEY, NEWEST_SLOT,
    OLDEST_SLOT, ORDER_SLOT, PREFIXES, SPELLING_PREFIX, STORY_SLOT, date_key, field_term, id_term, name_term,
    read_marker, shard_name, story_term,
)

__all__ = ["XapianIndex", "ShardUnavailableError", "XapianEngineError", "open_index", "parse_location"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
Names = str | Iterable[str]

#: Seconds a remote shard may take to answer one request, and to accept a connection.
TIMEOUT, CONNECT_TIMEOUT = 10.0, 2.0
#: How often a shard that did not answer is tried again (by the searches that follow).
RETRY_SECONDS = 1.0
#: The fields whose words are scored (as the same word of the combined text); others only match.
_SCORED_FIELDS = frozenset({"text", "title", "caption", "body", "person", "organization", "place"})


# Where the shards are ---------------------------------------------------------------------------


@attrs.frozen
class Location:
    """The shards of an index: local database directories, or remote ``(host, port)`` pairs."""

    name: str
    local: tuple[Path, ...] = ()
    remote: tuple[tuple[str, int], ...] = ()
    partial: bool = False
    timeout: float = TIMEOUT

    def shard_names(self) -> list[str]:
        return [str(path) for path in self.local] + [f"{host}:{port}" for host, port in self.remote]


def parse_location(location: Path | str) -> Location:
    """Where the shards of ``location`` are: a Xapian index directory (``XAPIAN.json``), a
    cluster file (``host:port`` a line, ``#`` comments, ``partial = yes``, ``timeout = 5``) or a
    ``xapian://host:port,host:port?partial=yes&timeout=5`` address.

    Raises:
        IndexNotFoundError: nothing is there, or a shard directory is missing.
        IndexVersionError: a local index of another searchlib.
        InvalidOptionError: an address or a line of a cluster file cannot be read.
    """
    text = str(location)
    if is_xapian_address(text):
        rest = text[len("xapian:"):].lstrip("/")
        hosts, _, query = rest.partition("?")
        options = {key: values[-1] for key, values in parse_qs(query).items()}
        shown = "xapian://" + rest  # a Path made of the address has lost a slash
        return _cluster(shown, [part for part in hosts.split(",") if part.strip()], options)
    path = Path(location)
    if path.is_file():
        lines, options = [], {}
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise IndexNotFoundError(f"Cannot read the cluster file '{path}': {exc}", path=path) from exc
        for line in content.splitlines():
            line = line.split("#", 1)[0].strip()
            if "=" in line:
                key, _, value = line.partition("=")
                options[key.strip()] = value.strip()
            elif line:
                lines.append(line)
        return _cluster(str(path), lines, options)
    marker = read_marker(path)
    shards = int(marker["shards"])
    directories = tuple(path / shard_name(number, shards) for number in range(shards))
    missing = [d.name for d in directories if not d.is_dir()]
    if missing:
        raise IndexNotFoundError(
            f"The Xapian index at '{path}' has {shards} shards, but {', '.join(missing)} is not on this machine: "
            "search the shards where they are served, through a cluster file or xapian://host:port,… address",
            path=path)
    return Location(str(path), local=directories)


def _cluster(name: str, entries: list[str], options: dict[str, str]) -> Location:
    remote = []
    for entry in entries:
        host, colon, port = entry.strip().rpartition(":")
        if not colon or not port.isdigit() or not host:
            raise InvalidOptionError(f"'{entry}' in '{name}' is no shard address: write host:port, such as 10.0.0.5:7001")
        remote.append((host.strip("[]"), int(port)))
    if not remote:
        raise InvalidOptionError(f"'{name}' lists no shard: write host:port, one a line or comma-separated")
    unknown = sorted(set(options) - {"partial", "timeout"})
    if unknown:
        raise InvalidOptionError(f"Unknown option {unknown[0]!r} in '{name}': the options are partial and timeout")
    flag = options.get("partial", "no").lower()
    if flag not in _YES + _NO:
        raise InvalidOptionError(f"partial {options['partial']!r} in '{name}': give yes or no")
    try:
        timeout = float(options.get("timeout", TIMEOUT))
        if not 0 < timeout <= MAX_TIMEOUT:
            raise ValueError(timeout)
    except ValueError:
        raise InvalidOptionError(f"timeout {options['timeout']!r} in '{name}': give seconds, more than 0 and at most "
                                 f"{MAX_TIMEOUT:g}, such as 5") from None
    return Location(name, remote=tuple(remote), partial=flag in _YES, timeout=timeout)


_YES = ("1", "yes", "true", "on")
_NO = ("0", "no", "false", "off")
#: The longest a shard may take to answer, in seconds: an hour (Xapian takes milliseconds in a
#: 32-bit number of microseconds).
MAX_TIMEOUT = 3600.0


class _Shards:
    """The open shards, combined into one database; shards that stop answering are set aside
    (and tried again) or make a ``ShardUnavailableError``, as the location allows."""

    def __init__(self, location: Location) -> None:
        self.location = location
        self.names = location.shard_names()
        self.open: dict[str, xapian.Database] = {}
        self.down: dict[str, str] = {}  # shard -> why
        self.tried = 0.0
        self.database = xapian.Database()
        for name in self.names:
            self._connect(name)
        self._combine()

    def _connect(self, name: str) -> None:
        try:
            if name in self.location.shard_names()[: len(self.location.local)]:
                self.open[name] = xapian.Database(name)
            else:
                host, _, port = name.rpartition(":")
                self.open[name] = xapian.remote_open(host, int(port), int(self.location.timeout * 1000),
                                                     int(CONNECT_TIMEOUT * 1000))
            self.down.pop(name, None)
        except xapian.DatabaseOpeningError as exc:
            raise IndexCorruptError(f"Cannot open the Xapian shard '{name}' ({exc}). Rebuild it with: searchlib build "
                                    "CORPUS --engine xapian --index DIR", path=name) from exc
        except xapian.Error as exc:  # NetworkError, NetworkTimeoutError: the server is not there
            self.open.pop(name, None)
            self.down[name] = str(exc).split(" (context:")[0]
        self.tried = time.monotonic()

    def _combine(self) -> None:
        if self.down and not self.location.partial:
            raise self.error()
        if not self.open:
            raise self.error()
        self.database = xapian.Database()
        for name in self.names:
            if name in self.open:
                self.database.add_database(self.open[name])

    def error(self) -> ShardUnavailableError:
        down = tuple(name for name in self.names if name in self.down)
        why = "; ".join(f"{name}: {self.down[name]}" for name in down)
        allow = "" if self.location.partial else (
            ", or allow partial results with ?partial=yes after the address (partial = yes in a cluster file)")
        return ShardUnavailableError(
            f"{len(down)} of the {len(self.names)} shards of '{self.location.name}' did not answer ({why}). "
            f"Start it again (searchlib serve-shard DIR --port PORT on its machine){allow}", shards=down)

    def notices(self) -> tuple[str, ...]:
        if not self.down:
            return ()
        down = [name for name in self.names if name in self.down]
        return (f"Partial results: {len(self.names) - len(down)} of {len(self.names)} shards answered; "
                f"{', '.join(down)} did not",)

    def retry_down(self) -> None:
        """Reconnect shards that did not answer, at most every ``RETRY_SECONDS``."""
        if self.down and time.monotonic() - self.tried >= RETRY_SECONDS:
            for name in list(self.down):
                self._connect(name)
            self._combine()

    def failed(self, exc: xapian.Error) -> None:
        """A request failed: connect to every shard again (a connection cut in the middle of a
        request cannot be used again), setting aside those that do not answer."""
        logger.info("a shard failed: %s", exc)
        for name, database in list(self.open.items()):
            database.close()
            self._connect(name)
        self._combine()

    def close(self) -> None:
        for database in self.open.values():
            database.close()
        self.database.close()


def open_index(location: Path | str, *, ranking: Ranking, wait: float = 0.0) -> XapianIndex:
    """Open the Xapian index at ``location`` (see ``parse_location``)."""
    return XapianIndex.open(location, ranking=ranking, wait=wait)


# What the shared helpers read, answered from Xapian ---------------------------------------------


class _Vocabulary:
    """The spelling vocabulary (``XW`` terms): a word's count is its term frequency, asked of the
    shards one word at a time; the whole list is read once, only when "did you mean" or a fuzzy
    word needs to look through it."""

    def __init__(self, database: xapian.Database) -> None:
        self._database = database
        self._counts: dict[str, int] = {}
        self._words: list[str] | None = None
        self._count_array: np.ndarray | None = None

    def count(self, word: str) -> int:
        if word not in self._counts:
            if self._words is not None:
                return 0
            self._counts[word] = int(self._database.get_termfreq(SPELLING_PREFIX + word))
        return self._counts[word]

    @property
    def words(self) -> list[str]:
        if self._words is None:
            prefix = SPELLING_PREFIX.encode()
            counts = {}
            for item in self._database.allterms(prefix):
                counts[item.term[len(prefix):].decode("utf-8", "surrogatepass")] = int(item.termfreq)
            self._counts, self._words = counts, sorted(counts)
        return self._words

    @property
    def counts(self) -> np.ndarray:
        """Each word's count, in word order (``Vocabulary.counts``)."""
        words = self.words
        if self._count_array is None:
            self._count_array = np.fromiter((self._counts[word] for word in words), dtype=np.int64, count=len(words))
        return self._count_array

    @property
    def stems(self) -> _Stems:
        """Each word's stem, in word order (``Vocabulary.stems``), found as it is asked for."""
        return _Stems(self.words)


class _Stems:
    """The stem of the word at each place of a sorted word list, analysed when first asked for
    ("" for a stop word): wildcards stem only the few words they match."""

    def __init__(self, words: list[str]) -> None:
        self._words = words

    def __getitem__(self, at: int) -> str:
        return _stem_of(self._words[at])


@lru_cache(maxsize=100_000)
def _stem_of(word: str) -> str:
    return next(iter(analyze(word)), "")


class _Reader:
    """``searcher.reader()`` as ``query._like_query`` asks it: is a term there, how often."""

    def __init__(self, database: xapian.Database) -> None:
        self._database = database

    def __contains__(self, key: tuple[str, str]) -> bool:
        return bool(self._database.term_exists(field_term(key[0], key[1]) if key[0] != "text" else key[1]))

    def frequency(self, field: str, term: str) -> int:
        return int(self._database.get_collection_freq(field_term(field, term) if field != "text" else term))


class _SharedView:
    """What suggestions.suggest, matching.words_within and query._like_query read from a Whoosh
    ``Snapshot``, answered from the open shards."""

    def __init__(self, database: xapian.Database, schema: Any) -> None:
        self.database = database
        self.schema = schema
        self.size = int(database.get_doccount())
        self._cache: dict[str, Any] = {}
        self._vocabulary = _Vocabulary(database)
        reader = _Reader(database)
        self.searcher = type("Searcher", (), {"reader": staticmethod(lambda: reader)})()

    def vocabulary(self) -> _Vocabulary:
        return self._vocabulary

    def articles_with(self, term: str) -> int:
        return int(self.database.get_termfreq(term))  # a word of the text is a term without prefix

    def cached(self, name: str, make: Callable[[], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    def stored(self, docid: int) -> dict[str, Any]:
        data = _data(self.database.get_document(docid))
        return {**data, "entity_list": tuple((name, kind) for name, kind in data["entities"])}


def _data(document: xapian.Document) -> dict[str, Any]:
    return json.loads(document.get_data())


@lru_cache(maxsize=1)
def _schema() -> Any:
    return make_schema()


# The query tree into a Xapian query -------------------------------------------------------------


_NOTHING = xapian.Query.MatchNothing


def _scaled(query: xapian.Query, factor: float) -> xapian.Query:
    return query if factor == 1.0 else xapian.Query(xapian.Query.OP_SCALE_WEIGHT, query, factor)


def _every(weight: float) -> xapian.Query:
    """Every article, each scoring ``weight`` (Lucene's MatchAllDocsQuery scores 1)."""
    return _scaled(xapian.Query(xapian.FixedWeightPostingSource(1.0)), weight) if weight else _scaled(xapian.Query.MatchAll, 0.0)


def _combine(operator: int, queries: list[xapian.Query]) -> xapian.Query:
    if not queries:
        return _NOTHING
    return queries[0] if len(queries) == 1 else xapian.Query(operator, queries)


class _Translator:
    """One query tree's translation: the Xapian query, the terms searched in positive places
    (``leaves``, with their weights, for snippets and explanations, and how fuzzy ones were
    scaled), what it had to cut (``notices``) and the fields whose words it ranks as words of
    the combined text (``ranked_as_text``). Words that stand for many terms are expanded over
    the shards' terms as matching.py expands them over Whoosh's."""

    def __init__(self, view: _SharedView, query: whoosh_query.Query) -> None:
        self.view = view
        self.database = view.database
        self.leaves: list[tuple[str, str, float]] = []
        self.scaled: dict[tuple[str, str], float] = {}
        self.notices: list[str] = []
        self.ranked_as_text: set[str] = set()
        multi = sum(1 for _ in multi_term_queries(query))
        self.share = MAX_EXPANSIONS // max(multi, 1)
        self.postings_share = MAX_EXPANDED_POSTINGS // max(multi, 1)

    def translate(self, q: whoosh_query.Query, boost: float = 1.0, positive: bool = True) -> xapian.Query:
        boost *= q.boost
        if isinstance(q, whoosh_query.Term):
            return self.term(q.fieldname, q.text, boost, positive)
        if isinstance(q, (whoosh_query.And, whoosh_query.Or)):
            kept = [self.translate(sub, boost, positive) for sub in q.subqueries if not isinstance(sub, whoosh_query.Not)]
            excluded = [self.translate(sub.query, 1.0, False) for sub in q.subqueries if isinstance(sub, whoosh_query.Not)]
            if isinstance(q, whoosh_query.And):
                base = _combine(xapian.Query.OP_AND, kept) if kept else _every(0.0)
            else:
                base = _combine(xapian.Query.OP_OR, kept)
            return xapian.Query(xapian.Query.OP_AND_NOT, base, _combine(xapian.Query.OP_OR, excluded)) if excluded else base
        if isinstance(q, whoosh_query.AndNot):
            return xapian.Query(xapian.Query.OP_AND_NOT, self.translate(q.a, boost, positive), self.translate(q.b, 1.0, False))
        if isinstance(q, whoosh_query.AndMaybe):
            return xapian.Query(xapian.Query.OP_AND_MAYBE, self.translate(q.a, boost, positive), self.translate(q.b, boost, positive))
        if isinstance(q, whoosh_query.Require):
            return xapian.Query(xapian.Query.OP_FILTER, self.translate(q.a, boost, positive), self.translate(q.b, 1.0, False))
        if isinstance(q, whoosh_query.Not):
            return xapian.Query(xapian.Query.OP_AND_NOT, _every(0.0), self.translate(q.query, 1.0, False))
        if isinstance(q, whoosh_query.Phrase):
            return self.phrase(q, boost, positive)
        if isinstance(q, whoosh_query.DateRange):
            return _date_range(q.startdate, q.enddate)
        if isinstance(q, whoosh_query.FuzzyTerm):
            return self.fuzzy(q, boost, positive)
        if isinstance(q, whoosh_query.Wildcard) and not q.text.strip("*"):
            q = whoosh_query.Every()
        if isinstance(q, (whoosh_query.Prefix, whoosh_query.Wildcard, whoosh_query.Regex, whoosh_query.TermRange)):
            return self.expanded(q, boost, positive)
        if isinstance(q, whoosh_query.Every):
            return _every(boost if positive else 0.0)
        if q is whoosh_query.NullQuery or isinstance(q, type(whoosh_query.NullQuery)):
            return _NOTHING
        raise XapianEngineError(f"The Xapian engine cannot search {q!r}; the Whoosh engine can")

    def term(self, field: str, term: str, boost: float, positive: bool, scale: float = 1.0) -> xapian.Query:
        """A word in a field: matched by the field's term, scored as the same word of ``text``."""
        if field not in PREFIXES:
            return _NOTHING
        if field == "text":
            matched = xapian.Query(term)
        else:
            matched = xapian.Query(field_term(field, term))
        if not positive or field not in _SCORED_FIELDS:
            return _scaled(matched, 0.0) if field == "text" else matched
        self.leaves.append((field, term, boost))
        if scale != 1.0:
            self.scaled[field, term] = scale
        scored = _scaled(xapian.Query(term), boost * scale)
        if field == "text":
            return scored
        self.ranked_as_text.add(field)
        return xapian.Query(xapian.Query.OP_AND_MAYBE, matched, scored)

    def phrase(self, q: whoosh_query.Phrase, boost: float, positive: bool) -> xapian.Query:
        """The words in order, each within ``slop`` of the one before (Whoosh's SpanNear2: a
        window of ``1 + (n - 1) * slop`` positions), scored as the distinct words."""
        if len(q.words) == 1:
            return self.term(q.fieldname, q.words[0], boost, positive)
        if q.fieldname not in PREFIXES:
            return _NOTHING
        prefix = PREFIXES[q.fieldname]
        window = min(1 + (len(q.words) - 1) * max(q.slop, 1), 2**31 - 1)  # Xapian's window is 32 bits; no article is longer
        matched = xapian.Query(xapian.Query.OP_PHRASE, [xapian.Query(prefix + word) for word in q.words], window)
        if not positive or q.fieldname not in _SCORED_FIELDS:
            return _scaled(matched, 0.0)
        if q.fieldname != "text":
            self.ranked_as_text.add(q.fieldname)
        scored = []
        for word in dict.fromkeys(q.words):  # the leaves in the phrase's field, as matching.py has them
            self.leaves.append(PhraseLeaf.of((q.fieldname, word, boost), q.words, q.slop))
            scored.append(_scaled(xapian.Query(word), boost))
        return xapian.Query(xapian.Query.OP_AND_MAYBE, _scaled(matched, 0.0), _combine(xapian.Query.OP_OR, scored))

    def fuzzy(self, q: whoosh_query.FuzzyTerm, boost: float, positive: bool) -> xapian.Query:
        """``militray~``, as matching._Evaluation.fuzzy: the index's spellings within a few
        edits, the nearest first, each scored with the idf of the most frequent of them."""
        weights = fuzzy_weights(self.view, q, lambda term: self.idf(q.fieldname, term), self.notices)
        if not weights:
            return _NOTHING
        return _combine(xapian.Query.OP_OR, [self.term(q.fieldname, term, boost, positive, scale=weight)
                                             for term, weight in weights.items()])

    def idf(self, field: str, term: str) -> float:
        found = self.database.get_termfreq(term)  # scored as the word of ``text``
        return log((self.view.size + 1) / found) if found else 0.0

    def expanded(self, q: whoosh_query.Query, boost: float, positive: bool) -> xapian.Query:
        """A word with wildcards, or a range: the field's terms it stands for, the terms in the
        most articles first when there are too many."""
        field = q.fieldname
        if field not in PREFIXES:
            return _NOTHING
        if is_spelled(q):  # the words as written, searched by their stems, as matching.py does
            terms = choose_expansions(q, spelled_stems(self.view, q), self.share, self.postings_share, self.notices)
            return _combine(xapian.Query.OP_OR, [self.term(field, term, boost, positive) for term in terms])
        prefix = PREFIXES[field]
        listed: list[tuple[str, int]] = []  # the field's terms from where q's start, in order, as matching.py reads them
        for item in self.database.allterms((prefix + literal_start(q)).encode("utf-8", "surrogatepass")):
            raw = item.term.decode("utf-8", "surrogatepass")[len(prefix):]
            if prefix or not raw[:1].isupper():  # not a prefixed term of another field
                listed.append((raw, int(item.termfreq)))
        chosen = [listed[at] for at in matching_terms(q, [raw for raw, _ in listed])]
        terms = choose_expansions(q, dict(chosen), self.share, self.postings_share, self.notices)
        return _combine(xapian.Query.OP_OR, [self.term(field, term, boost, positive) for term in terms])


def _date_range(start: datetime | None, end: datetime | None) -> xapian.Query:
    if start is None and end is None:
        return xapian.Query(xapian.Query.OP_VALUE_GE, DATE_SLOT, b"")
    if start is None:
        return xapian.Query(xapian.Query.OP_VALUE_LE, DATE_SLOT, date_key(end))  # type: ignore[arg-type]
    if end is None:
        return xapian.Query(xapian.Query.OP_VALUE_GE, DATE_SLOT, date_key(start))
    return xapian.Query(xapian.Query.OP_VALUE_RANGE, DATE_SLOT, date_key(start), date_key(end))


# Searching -------------------------------------------------------------------------------------


@attrs.frozen
class _Closeness:
    """The second pass of a search (rescoring.Rescorer's closeness): the closeness part of the
    score of each article rescored (by id; those with none left out), of the words ``terms``,
    weighted by ``weight``."""

    scores: dict[bytes, float]
    terms: tuple[str, ...]
    weight: float

    def query(self) -> xapian.Query:
        """What adds each article's closeness to its score: a value map on the id slot, which
        ``xapian-tcpsrv`` knows (a posting source written in Python would not run there)."""
        source = xapian.ValueMapPostingSource(ID_SLOT)
        for article_id, score in self.scores.items():
            source.add_mapping(article_id, score)
        return xapian.Query(source)


@attrs.frozen
class _Selection:
    """What a search counts: ``tiers`` (queries shown one after another), their totals, the
    query of all of them (``union``), the terms searched, the notices, and the closeness of the
    articles rescored (``ranked`` adds it to a query's scores)."""

    tiers: tuple[xapian.Query, ...]
    totals: tuple[int, ...]
    union: xapian.Query
    some_words: int
    leaves: tuple[tuple[str, str, float], ...]
    scaled: dict[tuple[str, str], float]
    notices: tuple[str, ...]
    closeness: _Closeness | None = None

    @property
    def total(self) -> int:
        return sum(self.totals)

    def ranked(self, query: xapian.Query) -> xapian.Query:
        """``query`` (a tier, or the union) scored as the search ranks: BM25, and closeness."""
        if self.closeness is None:
            return query
        return xapian.Query(xapian.Query.OP_AND_MAYBE, query, self.closeness.query())


@attrs.define
class XapianIndex:
    """An open Xapian index, local or sharded over machines. Use as a context manager, or call
    ``close()``. Its methods are those of ``query.Index``, with the same arguments and values."""

    path: Path | str
    ranking: Ranking
    _location: Location = attrs.field(repr=False)
    _shards: _Shards = attrs.field(repr=False)
    _view: _SharedView = attrs.field(repr=False)

    @classmethod
    def open(cls, location: Path | str, *, ranking: Ranking, wait: float = 0.0) -> XapianIndex:
        """Open the shards of ``location`` (see ``parse_location``).

        Raises:
            XapianEngineError: ``ranking`` asks for field weights or feedback the Xapian engine
                cannot give.
            ShardUnavailableError: a shard did not answer (and partial results are not allowed).
            IndexBuildingError: the first build of the index is running (after ``wait``).
            IndexNotFoundError, IndexVersionError, IndexCorruptError: as ``Index.open``.
        """
        if set(ranking.field_weights) != {"text"}:
            shown = ",".join(f"{field}={weight:g}" for field, weight in ranking.field_weights.items())
            raise XapianEngineError(
                f"The Xapian engine scores plain words in the combined text only; the field weights {shown} "
                "(SEARCHLIB_FIELD_WEIGHTS) need the Whoosh engine")
        if ranking.feedback:
            raise XapianEngineError(
                f"The Xapian engine does not expand queries by pseudo-relevance feedback (feedback={ranking.feedback}, "
                "SEARCHLIB_FEEDBACK): it needs the Whoosh engine, or feedback=0")
        where = _located(location, wait)
        shards = _Shards(where)
        started = time.monotonic()
        opened = cls(where.name if is_xapian_address(location) else Path(location), ranking, where, shards,
                     _SharedView(shards.database, _schema()))
        logger.info("opened Xapian index %s: %d shards, %d articles, in %.1f ms", where.name, len(where.shard_names()),
                    opened.article_count, 1000 * (time.monotonic() - started))
        return opened

    # The index as a whole ----------------------------------------------------------------------

    @property
    def generation(self) -> Path:
        """Where the index is (Xapian indexes have a generation per shard; see ``metadata``)."""
        return Path(self._location.name)

    @property
    def article_count(self) -> int:
        return int(self._run(lambda database: database.get_doccount()))

    @property
    def metadata(self) -> dict[str, Any]:
        """What the builds of the shards recorded: ``built_at`` (the latest), ``corpus``,
        ``articles``, ``skipped``, and ``shards``: each shard's own record."""

        def read(database: xapian.Database) -> dict[str, Any]:
            records = []
            for name in self._shards.names:
                shard = self._shards.open.get(name)
                record = json.loads(shard.get_metadata(METADATA_KEY) or b"{}") if shard is not None else {"down": True}
                records.append({"shard": name, **record})
            return {
                "engine": "xapian",
                "built_at": max((r.get("built_at", "") for r in records), default=None) or None,
                "corpus": next((r["corpus"] for r in records if r.get("corpus")), None),
                "articles": int(database.get_doccount()),
                "skipped": max((r.get("skipped", 0) for r in records), default=0),
                "schema_version": next((r["schema_version"] for r in records if r.get("schema_version")), None),
                "shards": records,
            }

        return self._run(read)

    @property
    def aliases(self) -> AliasTable:
        """As ``query.Index.aliases``: the names the articles give one entity, under the one
        name facets, filters and hits use (aliases.py)."""
        return self._run(lambda _: self._aliases())

    def refresh(self) -> bool:
        """Open the shards again if a writer has committed to one since; ``True`` if so."""
        fresh = _Shards(self._location)
        if _revisions(fresh) == _revisions(self._shards):
            fresh.close()
            return False
        old, self._shards = self._shards, fresh
        self._view = _SharedView(fresh.database, _schema())
        old.close()
        return True

    def close(self) -> None:
        self._shards.close()

    def __enter__(self) -> XapianIndex:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self, work: Callable[[xapian.Database], T]) -> T:
        """``work(database)``, again without the shards that stopped answering (partial
        results), or a ``ShardUnavailableError``."""
        self._shards.retry_down()
        for attempt in range(3):
            if self._view.database is not self._shards.database:
                self._view = _SharedView(self._shards.database, _schema())
            try:
                return work(self._shards.database)
            except (xapian.NetworkError, xapian.DatabaseModifiedError, xapian.DatabaseClosedError) as exc:
                logger.info("a shard failed (%s): %s", type(exc).__name__, exc)
                if isinstance(exc, xapian.DatabaseModifiedError):
                    self._shards.database.reopen()
                else:
                    self._shards.failed(exc)
        raise self._shards.error()

    # Searches ----------------------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 10, page: int = 1, sort: str = "relevance",
               since: date | str | None = None, until: date | str | None = None, person: Names = (),
               place: Names = (), organization: Names = (), facets: bool = False, facet_limit: int = 10,
               explain: bool = False, fold_duplicates: bool = True, match: str = "all", strict: bool = False) -> SearchResult:
        """As ``query.Index.search``."""
        started = time.perf_counter()
        parsed = self._parse(query, strict)

        def work(database: xapian.Database) -> SearchResult:
            selection = self._select(parsed, since, until, person, place, organization, match, typed=True)
            result = self._result(query, selection, limit=limit, page_number=page, sort=sort, facets=facets,
                                  facet_limit=facet_limit, explain=explain, fold=fold_duplicates, mode=match)
            return attrs.evolve(result, suggestion=suggest(self._view, query))  # type: ignore[arg-type]

        result = self._run(work)
        logger.info("searched %r: %d articles, page %d, in %.1f ms", query, result.total, page,
                    1000 * (time.perf_counter() - started))
        return result

    def hits(self, query: str, *, sort: str = "relevance", since: date | str | None = None,
             until: date | str | None = None, person: Names = (), place: Names = (), organization: Names = (),
             explain: bool = False, fold_duplicates: bool = True, match: str = "all", strict: bool = False,
             batch: int = 200) -> Iterator[Any]:
        """As ``query.Index.hits``: the ``SearchResult`` of the first batch, then every hit."""
        parsed = self._parse(query, strict)
        selection = self._run(lambda _: self._select(parsed, since, until, person, place, organization, match, typed=True))
        number = 1
        while True:
            result = self._run(lambda _: self._result(query, selection, limit=batch, page_number=number, sort=sort,
                                                      facets=False, facet_limit=0, explain=explain,
                                                      fold=fold_duplicates, mode=match))
            if number == 1:
                yield attrs.evolve(result, suggestion=self.suggest(query))
            yield from result.hits
            counted = result.stories if result.stories is not None else result.total
            if not result.hits or number * batch >= counted:
                return
            number += 1

    def more_like(self, article_id: str, *, limit: int = 10, page: int = 1, sort: str = "relevance",
                  since: date | str | None = None, until: date | str | None = None, person: Names = (),
                  place: Names = (), organization: Names = (), facets: bool = False, explain: bool = False,
                  fold_duplicates: bool = True) -> SearchResult:
        """As ``query.Index.more_like``."""
        from ..query import _like_query  # the same "more like this" query as the Whoosh engine's

        def work(database: xapian.Database) -> SearchResult:
            docid = self._docid(database, article_id)
            like = _like_query(self._view, docid, self.ranking.field_weights)  # type: ignore[arg-type]
            parsed = ParsedQuery(f"like:{article_id}", like, None)
            stored = self._view.stored(docid)
            exclude = xapian.Query(story_term(stored["story"])) if fold_duplicates else xapian.Query(id_term(article_id))
            selection = self._select(parsed, since, until, person, place, organization, "any", exclude=exclude)
            return self._result(f"like:{article_id}", selection, limit=limit, page_number=page, sort=sort, facets=facets,
                                facet_limit=10, explain=explain, fold=fold_duplicates, mode="any")

        return self._run(work)

    def timeline(self, query: str, *, by: str = "month", since: date | str | None = None,
                 until: date | str | None = None, person: Names = (), place: Names = (), organization: Names = (),
                 match: str = "all", strict: bool = False) -> Timeline:
        """As ``query.Index.timeline``."""
        if by not in PERIODS:
            raise InvalidOptionError(f"Unknown period {by!r}: use {', '.join(PERIODS)}")
        parsed = self._parse(query, strict)

        def work(database: xapian.Database) -> Timeline:
            selection = self._select(parsed, since, until, person, place, organization, match, rescore=False)
            days = self._spy(selection.union, [DAY_SLOT])[DAY_SLOT]
            dates = [microseconds(datetime.fromisoformat(day)) for day, count in days.items() for _ in range(count)]
            dates += [UNDATED] * (selection.total - len(dates))
            view = type("Dates", (), {"dates": staticmethod(lambda: np.array(dates, dtype=np.int64))})()
            buckets, undated = timeline_buckets(view, np.ones(len(dates), dtype=bool), by)
            return Timeline(query=query, by=by, buckets=buckets, undated=undated, total=selection.total,
                            some_words=selection.some_words, notices=selection.notices + self._shards.notices())

        return self._run(work)

    def ranked(self, query: str, *, limit: int = 1000, plain: bool = False) -> tuple[tuple[str, float], ...]:
        """As ``query.Index.ranked``: ids and scores, all the words first, every copy kept."""
        parsed = self._parse(plain_query(query) if plain else query, strict=False)

        def work(database: xapian.Database) -> tuple[tuple[str, float], ...]:
            selection = self._select(parsed, None, None, (), (), (), "any")
            found: list[tuple[str, float]] = []
            for tier in selection.tiers:
                if len(found) >= limit:
                    break
                mset = self._enquire(selection.ranked(tier), "relevance", fold=False).get_mset(0, limit - len(found))
                mset.fetch()
                for item in mset:
                    found.append((item.document.get_value(ID_SLOT).decode("utf-8", "surrogatepass"), float(item.weight)))
            return tuple(found)

        return self._run(work)

    def suggest(self, query: str) -> str | None:
        """As ``query.Index.suggest``: "did you mean", from the shards' spellings."""
        return self._run(lambda _: suggest(self._view, query))  # type: ignore[arg-type]

    def article(self, article_id: str, *, query: str | None = None) -> IndexedArticle:
        """As ``query.Index.article``: the whole article, its entities by their canonical names,
        the ids of the other copies of its story, and with ``query`` the words ``search``
        matches marked (a query that cannot be read marks nothing).

        Raises:
            ArticleNotFoundError: no article has that id.
        """

        def work(database: xapian.Database) -> IndexedArticle:
            fields = _data(database.get_document(self._docid(database, article_id)))
            words = Marked()
            if query:
                try:
                    parsed = self._parse(query, strict=False)
                    translator = _Translator(self._view, parsed.any_word if parsed.any_word is not None else parsed.all_words)
                    translator.translate(parsed.any_word if parsed.any_word is not None else parsed.all_words)
                    words = highlighted_terms(translator.leaves)
                except SearchlibError:
                    pass

            def marked(name: str) -> Snippet:
                return marked_text(fields.get(name) or "", words)

            copies = self._copies({fields["story"]})
            return IndexedArticle(
                id=fields["id"], title=fields.get("title") or "", body=fields.get("body") or "",
                date=datetime.fromisoformat(fields["date"]) if fields.get("date") else None,
                url=fields.get("url") or "", path=fields.get("path") or "", caption=fields.get("caption") or "",
                entities=canonical_entities(self._aliases(), fields.get("entities", ())),
                copies=tuple(other for other in copies.get(fields["story"], ()) if other != article_id),
                title_snippet=marked("title"), caption_snippet=marked("caption"), body_snippet=marked("body"),
            )

        return self._run(work)

    # The steps of a search ---------------------------------------------------------------------

    def _parse(self, query: str, strict: bool) -> ParsedQuery:
        return parse_query(query, _schema(), self.ranking.field_weights, strict=strict)

    def _weighting(self) -> xapian.Weight:
        return xapian.BM25PlusWeight(self.ranking.k1, 0, 0, self.ranking.b, 0, 0)

    def _enquire(self, query: xapian.Query, sort: str, *, fold: bool) -> xapian.Enquire:
        enquire = xapian.Enquire(self._shards.database)
        enquire.set_query(query)
        enquire.set_weighting_scheme(self._weighting())
        if sort == "relevance":
            enquire.set_sort_by_relevance_then_value(ORDER_SLOT, False)
        elif sort == "newest":
            enquire.set_sort_by_value_then_relevance(NEWEST_SLOT, True)
        else:
            enquire.set_sort_by_value_then_relevance(OLDEST_SLOT, False)
        if fold:
            enquire.set_collapse_key(STORY_SLOT)
        return enquire

    def _count(self, query: xapian.Query) -> int:
        """How many articles ``query`` matches, exactly (every match checked)."""
        database = self._shards.database
        enquire = xapian.Enquire(database)
        enquire.set_query(query)
        enquire.set_weighting_scheme(xapian.BoolWeight())
        return int(enquire.get_mset(0, 0, database.get_doccount()).get_matches_estimated())

    def _stories(self, query: xapian.Query) -> int:
        """How many stories ``query`` matches, exactly. Xapian's counts of collapsed matches are
        estimates, so the stories are counted by a match spy on the story slot."""
        return len(self._spy(query, [STORY_SLOT])[STORY_SLOT])

    def _spy(self, query: xapian.Query, slots: list[int]) -> dict[int, Counter[str]]:
        """How many of the articles ``query`` matches hold each value of each slot."""
        database = self._shards.database
        enquire = xapian.Enquire(database)
        enquire.set_query(query)
        enquire.set_weighting_scheme(xapian.BoolWeight())
        spies = {slot: xapian.ValueCountMatchSpy(slot) for slot in slots}
        for spy in spies.values():
            enquire.add_matchspy(spy)
        enquire.get_mset(0, 0, database.get_doccount())
        return {slot: Counter({item.term.decode("utf-8", "surrogatepass"): int(item.termfreq) for item in spy.values()})
                for slot, spy in spies.items()}

    def _aliases(self) -> AliasTable:
        """The index's alias table: the one its writer recorded from every shard's name counts,
        if the shards' counts are still those (their digests say so); else, for shards written
        apart, made here from their counts (a second or two for Reuters), once per open index."""

        def make() -> AliasTable:
            shards = [self._shards.open[name] for name in self._shards.names if name in self._shards.open]
            digests = [shard.get_metadata(NAMES_DIGEST_KEY).decode() for shard in shards]
            for shard in shards:
                record = json.loads(shard.get_metadata(ALIASES_KEY) or b"{}")
                if record.get("digests") == digests:
                    return AliasTable({kind: dict(table) for kind, table in record["variants"].items()})
            counts: Counter[tuple[str, str]] = Counter()
            for shard in shards:
                for kind, name, count in json.loads(shard.get_metadata(NAMES_KEY) or b"[]"):
                    counts[kind, name] += count
            logger.info("making the alias table of %s from the names of its %d shards", self._location.name, len(shards))
            return AliasTable.build(counts)

        table: AliasTable = self._view.cached("aliases", make)
        return table

    def _select(self, parsed: ParsedQuery, since: date | str | None, until: date | str | None, person: Names,
                place: Names, organization: Names, mode: str, *, exclude: xapian.Query | None = None,
                typed: bool = False, rescore: bool = True) -> _Selection:
        """As ranking.select: the tiers of articles counted, each as a query, and the closeness
        of the best of them (unless not ``rescore``). A ``typed`` query is the reader's: the
        notices say which of its words are ranked differently from the Whoosh engine."""
        if mode not in MATCHES:
            raise InvalidOptionError(f"Unknown match {mode!r}: use {', '.join(MATCHES)}")
        schema = _schema()
        named = {"person": person, "place": place, "organization": organization}
        restrict = filter_query(schema, since, until, named, self._aliases() if any(named.values()) else None)
        translator = _Translator(self._view, parsed.any_word if parsed.any_word is not None else parsed.all_words)
        allowed = None if restrict is None else translator.translate(restrict, 1.0, False)
        any_word = translator.translate(parsed.any_word if parsed.any_word is not None else parsed.all_words)
        leaves, scaled = tuple(translator.leaves), dict(translator.scaled)
        all_words = any_word if parsed.any_word is None else _Translator(self._view, parsed.all_words).translate(parsed.all_words)

        def narrowed(query: xapian.Query) -> xapian.Query:
            if allowed is not None:
                query = xapian.Query(xapian.Query.OP_FILTER, query, allowed)
            if exclude is not None:
                query = xapian.Query(xapian.Query.OP_AND_NOT, query, exclude)
            return query

        with_all, with_any = narrowed(all_words), narrowed(any_word)
        notices = list(parsed.notices) + translator.notices
        some_words = 0
        tiers: tuple[xapian.Query, ...]
        if parsed.any_word is None:
            tiers, union = (with_any,), with_any
            totals: tuple[int, ...] = (self._count(with_any),)
        else:
            count_all = self._count(with_all)
            rest = xapian.Query(xapian.Query.OP_AND_NOT, with_any, with_all)  # all words is no subset of any with NOT
            if mode == "any":
                tiers, union = (with_all, rest), xapian.Query(xapian.Query.OP_OR, with_all, rest)
                totals = (count_all, self._count(rest))
            elif count_all:
                tiers, union, totals = (with_all,), with_all, (count_all,)
                some_words = self._count(rest)
            else:
                tiers, union = (with_any,), with_any
                totals = (self._count(with_any),)
                if totals[0]:
                    notices.append("No article has all the words, so these are the articles with some of them")
        if not parsed.has_words:
            notices.append(parsed.no_words_notice)
        if typed and translator.ranked_as_text:
            fields = sorted(translator.ranked_as_text)
            notices.append(f"On the Xapian engine, {' and '.join(f'{field}:' for field in fields)} words match in "
                           f"{'that field' if len(fields) == 1 else 'those fields'} only but are ranked as words of the "
                           "whole text")
        close = self._closeness(tiers, leaves) if rescore else None
        return _Selection(tiers, totals, union, some_words, leaves, scaled, tuple(notices) + self._shards.notices(), close)

    def _closeness(self, tiers: tuple[xapian.Query, ...], leaves: tuple[tuple[str, str, float], ...]) -> _Closeness | None:
        """As rescoring.Rescorer.rescore: the closeness (proximity.py) of the best ``DEPTH``
        articles by BM25, tier by tier, every copy of a story kept, weighted by
        ``Ranking.proximity``; computed with Xapian's idf, the articles' lengths and the average
        length, from the positions of the query's words in the combined text."""
        weight = self.ranking.proximity
        terms = tuple(dict.fromkeys(term for field, term, _ in leaves if field in SEARCHABLE_TEXT_FIELDS))
        if not weight or not 2 <= len(terms) <= MOST_CLOSE_TERMS:
            return None
        head: list[tuple[int, bytes]] = []  # docid, article id
        for tier in tiers:
            if len(head) >= DEPTH:
                break
            enquire = self._enquire(tier, "relevance", fold=False)
            enquire.set_collapse_key(ID_SLOT)  # ids are unique: it collapses nothing, and gives each id unfetched
            head += [(item.docid, item.collapse_key) for item in enquire.get_mset(0, DEPTH - len(head))]
        if not head:
            return None
        database = self._shards.database
        positions = []
        for term in terms:
            which: list[int] = []
            where: list[int] = []
            for number, (docid, _) in enumerate(head):
                found = list(database.positionlist(docid, term))
                which += [number] * len(found)
                where += found
            positions.append((np.array(which, dtype=np.int64), np.array(where, dtype=np.int64)))
        size = database.get_doccount()
        idfs = []
        for term in terms:
            found = database.get_termfreq(term)
            idfs.append(log((size + 1) / found) if found else 0.0)
        k1, b = self.ranking.k1, self.ranking.b
        lengths = np.array([database.get_doclength(docid) for docid, _ in head], dtype=np.float64)
        saturation = k1 * ((1 - b) + b * lengths / (database.get_avlength() or 1.0))
        close = weight * closeness(positions, idfs, saturation, k1)
        scores = {article_id: float(score) for (_, article_id), score in zip(head, close) if score}
        return _Closeness(scores, terms, weight) if scores else None

    def _result(self, text: str, selection: _Selection, *, limit: int, page_number: int, sort: str, facets: bool,
                facet_limit: int, explain: bool, fold: bool, mode: str) -> SearchResult:
        placed, stories = self._page(selection, sort=sort, limit=limit, page_number=page_number, fold=fold)
        counted = self._facets(selection, facet_limit) if facets else {}
        return SearchResult(query=text, total=selection.total, stories=stories,
                            hits=self._hits(placed, selection, explain=explain), facets=counted, page=page_number,
                            limit=limit, some_words=selection.some_words, notices=selection.notices, match=mode)

    def _page(self, selection: _Selection, *, sort: str, limit: int, page_number: int,
              fold: bool) -> tuple[list[tuple[int, xapian.MSetItem, tuple[str, ...]]], int | None]:
        """As ranking.page: the hits of one page (stories folded into their best-placed copy,
        as Xapian collapses them, by the scores after closeness) and the number of stories."""
        if limit < 1 or page_number < 1:
            raise InvalidOptionError(f"limit and page must be at least 1, not {limit} and {page_number}")
        if sort not in SORTS:
            raise InvalidOptionError(f"Unknown sort order {sort!r}: use {', '.join(SORTS)}")
        tiers = selection.tiers if sort == "relevance" else (selection.union,)
        offset, wanted = (page_number - 1) * limit, limit
        items: list[xapian.MSetItem] = []
        shown_before: list[xapian.Query] = []  # earlier tiers: their stories are shown there
        stories = self._stories(selection.union) if fold else None
        for number, tier in enumerate(tiers):
            if wanted <= 0:
                break
            query = tier
            if fold and shown_before:
                query = xapian.Query(xapian.Query.OP_AND_NOT, tier, self._stories_of(_combine(xapian.Query.OP_OR, shown_before)))
            mset = self._enquire(selection.ranked(query), sort, fold=fold).get_mset(offset, wanted)
            if offset == 0:  # the page's documents in one request to each shard, not one each (fetch() of an
                mset.fetch()  # MSet that starts further down crashes Xapian 1.4's remote backend)
            items += list(mset)
            wanted -= mset.size()
            if wanted > 0 and number + 1 < len(tiers):  # the page goes on into the next tier
                offset = max(0, offset - (self._stories(query) if fold else selection.totals[number]))
            shown_before.append(tier)
        similar: dict[str, list[str]] = {}
        if fold and items:
            similar = self._copies({item.document.get_value(STORY_SLOT).decode("utf-8", "surrogatepass") for item in items},
                                   selection.union)
        placed = []
        for rank, item in enumerate(items, start=(page_number - 1) * limit + 1):
            others: tuple[str, ...] = ()
            if fold:
                own = item.document.get_value(ID_SLOT).decode("utf-8", "surrogatepass")
                story = item.document.get_value(STORY_SLOT).decode("utf-8", "surrogatepass")
                others = tuple(i for i in similar.get(story, []) if i != own)
            placed.append((rank, item, others))
        return placed, stories

    def _copies(self, stories: set[str], within: xapian.Query | None = None) -> dict[str, list[str]]:
        """The ids of the copies of each of ``stories`` (among those ``within`` matches), in
        article order."""
        database = self._shards.database
        copies = _combine(xapian.Query.OP_OR, [xapian.Query(story_term(story)) for story in sorted(stories)])
        enquire = xapian.Enquire(database)
        enquire.set_query(copies if within is None else xapian.Query(xapian.Query.OP_FILTER, within, copies))
        enquire.set_weighting_scheme(xapian.BoolWeight())
        enquire.set_sort_by_value(ORDER_SLOT, False)
        found = enquire.get_mset(0, database.get_doccount())
        found.fetch()
        by_story: dict[str, list[str]] = {}
        for item in found:
            document = item.document
            by_story.setdefault(document.get_value(STORY_SLOT).decode("utf-8", "surrogatepass"), []).append(
                document.get_value(ID_SLOT).decode("utf-8", "surrogatepass"))
        return by_story

    def _stories_of(self, query: xapian.Query) -> xapian.Query:
        """The articles of every story with a copy among those ``query`` matches."""
        stories = self._spy(query, [STORY_SLOT])[STORY_SLOT]
        return _combine(xapian.Query.OP_OR, [xapian.Query(story_term(story)) for story in sorted(stories)])

    def _facets(self, selection: _Selection, top: int) -> dict[str, tuple[FacetValue, ...]]:
        """As results.facet_counts: the ``top`` entities of each kind, by canonical name, the
        most mentioned first. A match spy counts each name's articles; an entity of several
        names among them is counted again by its names' terms, each article once (an article may
        give two of its names), as far as it takes to know the ``top``."""
        slots = [slot for kind in ENTITY_FIELDS for slot in FACET_SLOTS[kind]]
        counted = self._spy(selection.union, slots)
        canonical = self._aliases().canonical
        found = {}
        for kind in ENTITY_FIELDS:
            names: Counter[str] = Counter()
            for slot in FACET_SLOTS[kind][:-1]:
                names.update(counted[slot])
            for joined, count in counted[FACET_SLOTS[kind][-1]].items():
                for name in joined.split("\n"):
                    names[name] += count
            groups: dict[str, list[str]] = {}
            for name in names:
                groups.setdefault(canonical(name, kind), []).append(name)
            counts = {entity: sum(names[name] for name in group) for entity, group in groups.items()}
            exact = {entity for entity, group in groups.items() if len(group) == 1}
            while True:  # a sum over several names is at least the count: count the best again until sure
                best = sorted(counts, key=lambda entity: (-counts[entity], entity))[:top]
                unsure = [entity for entity in best if entity not in exact]
                if not unsure:
                    break
                for entity in unsure:
                    terms = [xapian.Query(term) for term in (name_term(kind, name) for name in groups[entity]) if term]
                    counts[entity] = self._count(xapian.Query(xapian.Query.OP_FILTER, selection.union,
                                                              _combine(xapian.Query.OP_OR, terms)))
                    exact.add(entity)
            found[kind] = tuple(FacetValue(entity, counts[entity]) for entity in best if counts[entity])
        return found

    def _hits(self, placed: list[tuple[int, xapian.MSetItem, tuple[str, ...]]], selection: _Selection, *,
              explain: bool) -> tuple[Hit, ...]:
        """The hits of a page with their snippets: the words each hit matched are found by
        analysing its title, caption and body again (a few ms a page, no request to the shards);
        only names (``person:`` and the like) are looked up in its terms."""
        database = self._shards.database
        aliases = self._aliases()
        hits = []
        plain = [leaf for leaf in selection.leaves if not isinstance(leaf, PhraseLeaf)]  # a phrase's words: only in it
        phrases = highlighted_terms(selection.leaves).phrases
        in_text = {(field, term) for field, term, _ in plain if field in ("text", "title", "caption", "body")}
        in_names = {(field, term) for field, term, _ in plain if field in HIGHLIGHTED_FIELDS} - in_text
        for rank, item, similar in placed:
            fields = _data(item.document)
            tokens = {name: token_terms(fields.get(name, "")[:ANALYSED_CHARACTERS]) for name in ("title", "caption", "body")}
            terms = {name: {token[1] for token in found} for name, found in tokens.items()}
            words = {term for field, term in in_text
                     if (term in terms["title"] or term in terms["caption"] or term in terms["body"] if field == "text"
                         else term in terms[field])}
            present: set[str] = set()
            if in_names or explain:
                present = {term.term.decode("utf-8", "surrogatepass") for term in database.termlist(item.docid)}
                words |= {term for field, term in in_names if PREFIXES[field] + term in present}
            body, title = fields.get("body", ""), fields.get("title", "")
            marked = Marked(frozenset(words), phrases)
            snippet, title_snippet = hit_snippets(title, body, term_offsets(tokens["title"], marked), term_offsets(tokens["body"], marked))
            explained = self._explain(item, fields["id"], present, selection) if explain else ()
            hits.append(Hit(
                rank=rank, score=float(item.weight), id=fields["id"], title=title,
                date=datetime.fromisoformat(fields["date"]) if fields.get("date") else None,
                url=fields.get("url", ""), path=fields.get("path", ""),
                entities=canonical_entities(aliases, fields.get("entities", ())),
                snippet=snippet, title_snippet=title_snippet, explanation=explained, similar=similar,
            ))
        return tuple(hits)

    def _explain(self, item: xapian.MSetItem, article_id: str, present: set[str],
                 selection: _Selection) -> tuple[ScorePart, ...]:
        """As results.explanation: the BM25 part of each matched word, computed as Xapian's
        ``BM25PlusWeight`` computes it, times its weight in the query, and closeness (field
        ``closeness``, the query's words as ``term``). They add up to the score."""
        database = self._shards.database
        weights: dict[tuple[str, str], float] = {}
        for field, term, weight in selection.leaves:
            weights[field, term] = weights.get((field, term), 0.0) + weight
        size, average = database.get_doccount(), database.get_avlength() or 1.0
        length = database.get_doclength(item.docid)
        k1, b = self.ranking.k1, self.ranking.b
        frequencies = {t.term.decode("utf-8", "surrogatepass"): t.wdf for t in database.termlist(item.docid)}
        parts = []
        for (field, term), weight in sorted(weights.items()):
            matched = term if field == "text" else PREFIXES[field] + term
            if matched not in present:
                continue
            tf, found = frequencies.get(term, 0), database.get_termfreq(term)
            part = log((size + 1) / found) * (k1 + 1) * tf / (k1 * ((1 - b) + b * length / average) + tf) if found and tf else 0.0
            parts.append(ScorePart(field, term, weight, part * weight * selection.scaled.get((field, term), 1.0)))
        close = selection.closeness
        key = article_id.encode("utf-8", "surrogatepass")
        if close is not None and key in close.scores:
            parts.append(ScorePart("closeness", " ".join(close.terms), close.weight, close.scores[key]))
        return tuple(sorted(parts, key=lambda p: -p.score))

    def _docid(self, database: xapian.Database, article_id: str) -> int:
        for posting in database.postlist(id_term(article_id)):
            return int(posting.docid)
        raise ArticleNotFoundError(
            f"No article with id {article_id!r} in the index at '{self.path}'; ids are shown by search --json and in "
            "the search results", article_id=article_id)


def _located(location: Path | str, wait: float) -> Location:
    """``parse_location``, waiting up to ``wait`` seconds for the first build of a local index
    (``XAPIAN.json`` is written last; the build holds its shards' locks).

    Raises:
        IndexBuildingError: the first build is still running.
    """
    if is_xapian_address(location) or not Path(location).is_dir():
        return parse_location(location)
    return wait_for_first_build(Path(location), lambda: parse_location(location), wait)


def _revisions(shards: _Shards) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for name in shards.names:
        database = shards.open.get(name)
        if database is None:
            found.append((name, None))
            continue
        try:
            found.append((name, (database.get_uuid(), database.get_revision())))
        except xapian.Error:
            found.append((name, (database.get_uuid(), database.get_doccount(), database.get_lastdocid())))
    return found
