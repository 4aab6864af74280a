"""``Index``: an open index and everything a search asks of it, as the one public entry point.

Each call is a few steps through the modules that do the work, each found by its name:

    query_language  the text typed, into a query (notices of how it was read)
    common_words    the common words a query leaves out, and the stop words it cannot search
    filters         dates and entities, into the set of articles allowed
    matching        the query over all articles at once, into a match set and scores (numpy)
    ranking         what is counted and in what order, stories folded, a page cut out
    results         hits with snippets and explanations, facets, timelines
    suggestions     "did you mean"
    snapshot        the open generation, and the columns read from it once

Ranking is BM25 (Lucene's idf, a repeated query word counting again) over the fields of
``config.Ranking.field_weights``: by default the one ``text`` field, where the title counts twice,
which makes it BM25F (schema.combined_text). Whoosh's searcher and result objects never leave
these modules; what comes back is frozen values (models.py).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from math import log
from pathlib import Path
from time import perf_counter
from typing import Any

import attrs
import numpy as np
from whoosh import query as whoosh_query

from .aliases import AliasTable
from .analysis import token_terms
from .config import Ranking
from .engines import is_xapian, xapian_module
from .errors import ArticleNotFoundError, InvalidOptionError, SearchlibError
from .filters import filter_query
from .matching import match
from .models import IndexedArticle, SearchResult, Timeline
from .query_language import ParsedQuery, parse_query, plain_query
from .ranking import MATCHES, SORTS, Selection, ordered, page, select
from .results import PERIODS, Marked, facet_counts, highlighted_terms, indexed_article, make_hits, timeline_buckets
from .schema import ENTITY_FIELDS
from .snapshot import Snapshot
from .suggestions import suggest

__all__ = ["Index", "plain_query", "SORTS", "MATCHES", "PERIODS"]

logger = logging.getLogger(__name__)

Names = str | Iterable[str]


@attrs.define
class Index:
    """An open index. Use as a context manager, or call ``close()``.

    Example:
        >>> with Index.open("indexes/main") as index:           # doctest: +SKIP
        ...     result = index.search("military base", limit=10)
    """

    path: Path
    ranking: Ranking
    _snapshot: Snapshot = attrs.field(repr=False)
    _preload: bool = attrs.field(default=True, repr=False)

    @classmethod
    def open(cls, path: Path | str, *, ranking: Ranking | None = None, wait: float = 0.0, preload: bool = True) -> Index:
        """Open the live generation of the index at ``path``, pinned against removal.

        ``ranking`` sets BM25F's parameters and the field weights; by default
        ``Ranking.from_env()``, which is ``Ranking()`` unless the environment says otherwise.
        ``wait`` is how many seconds to wait for the index's first build, if it is running.
        ``preload`` matters only for an index written before segments were kept as separate
        files (writer.py): its segments, one compound file each, are then mapped and each part
        copied into memory as it is opened; ``preload=False`` reads what each search needs.

        Raises:
            IndexNotFoundError: nothing was built there.
            IndexBuildingError: the first build of the index is running (after ``wait``).
            IndexVersionError: it was built by an incompatible searchlib; rebuild it.
            IndexCorruptError: its files cannot be read.
            InvalidOptionError: a ``SEARCHLIB_BM25_*`` or ``SEARCHLIB_FIELD_WEIGHTS`` value
                cannot be used.
        """
        if ranking is None:
            try:
                ranking = Ranking.from_env()
            except ValueError as error:
                raise InvalidOptionError(str(error)) from None
        if is_xapian(path):  # a Xapian index, cluster file or xapian:// address: engines/xapian.py
            opened: Index = xapian_module("xapian").XapianIndex.open(path, ranking=ranking, wait=wait)
            return opened
        path = Path(path)
        return cls(path, ranking, Snapshot.open(path, ranking, wait=wait, preload=preload), preload)

    @property
    def generation(self) -> Path:
        """The directory of the generation open."""
        return self._snapshot.generation

    def refresh(self) -> bool:
        """Switch to the live generation if a writer has replaced the one open; ``True`` if so.

        A long-lived ``Index`` (a server, say) calls this now and then; searches already under
        way finish on the old generation.
        """
        fresh = Snapshot.open(self.path, self.ranking, preload=self._preload)
        if fresh.generation == self._snapshot.generation:
            fresh.close()
            return False
        old, self._snapshot = self._snapshot, fresh
        old.close()
        return True

    def close(self) -> None:
        """Release the index files, and the generation for writers to remove."""
        self._snapshot.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def article_count(self) -> int:
        """How many articles the index holds."""
        return self._snapshot.article_count

    @property
    def aliases(self) -> AliasTable:
        """The names the articles give one entity, under the one name facets, filters and hits
        use ("USDA" and "Agriculture Department" as "U.S. Agriculture Department"): aliases.py."""
        return self._snapshot.aliases()

    @property
    def metadata(self) -> dict[str, Any]:
        """What the build recorded: ``built_at``, ``corpus``, ``articles``, ``skipped``."""
        return self._snapshot.metadata

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        page: int = 1,
        sort: str = "relevance",
        since: date | str | None = None,
        until: date | str | None = None,
        person: Names = (),
        place: Names = (),
        organization: Names = (),
        facets: bool = False,
        facet_limit: int = 10,
        explain: bool = False,
        fold_duplicates: bool = True,
        match: str = "all",
        strict: bool = False,
    ) -> SearchResult:
        """Search the index.

        Args:
            query: any text. Its syntax: words, ``"phrases"`` (``"a b"~5`` for words within 5
                of each other), ``AND``/``OR``/``NOT``, ``prefix*``, ``fuzzy~``, ``field:word``
                (fields: title, body, caption, entities or entity, person, organization or org,
                place, url, path, id) and ``date:2012``, ``date:[2012-01 to 2012-06]``,
                ``date:"last week"``. Text the syntax cannot mean is read as words, and
                ``notices`` say how; with ``strict`` it is a ``QuerySyntaxError`` instead.
            limit: hits per page, at least 1.
            page: which page of hits, from 1.
            sort: ``relevance``, ``newest`` or ``oldest``; undated articles come last in both
                date orders.
            since, until: only articles dated in this span, both ends included: a ``date``, a
                ``datetime`` or text as in ``dates.parse_period`` ("2012", "2012-04", "last
                week"). Undated articles are left out by a date filter.
            person, place, organization: only articles that mention these entities (a name or
                several, all required; any part of a name, any known alias, any case).
            facets: also count the entities of each kind across all counted articles.
            facet_limit: how many entities of each kind to count in.
            explain: give each hit the per-field, per-term parts of its score.
            fold_duplicates: show each story once, its other matching copies (wire repeats,
                corrections) listed in the hit's ``similar``; ``False`` shows every copy.
            match: ``all``: count and show the articles with every word (``some_words`` says how
                many more have only some; if none has them all, those with any are shown, and a
                notice says so); ``any``: count and show those with any word, all the words first.
            strict: raise on syntax the query language cannot read, instead of reading it as words.

        Returns:
            ``SearchResult`` with the exact total, the hits of the page, a spelling suggestion,
            the notices of how the query was read, and facets if asked.

        Raises:
            QuerySyntaxError: the query is empty, or (``strict``) its syntax cannot be read.
            InvalidOptionError: ``limit`` or ``page`` is below 1, ``sort`` or ``match`` is
                unknown, a date or an entity filter cannot be read.
        """
        started = perf_counter()
        parsed = self._parse(query, strict)
        selection = self._select(parsed, since, until, person, place, organization, match)
        result = self._result(query, selection, limit=limit, page_number=page, sort=sort, facets=facets,
                              facet_limit=facet_limit, explain=explain, fold=fold_duplicates, mode=match)
        result = attrs.evolve(result, suggestion=self.suggest(query))
        logger.info("searched %r: %d of %d articles, page %d, in %.1f ms", query, result.total,
                    self.article_count, page, 1000 * (perf_counter() - started))
        return result

    def hits(
        self,
        query: str,
        *,
        sort: str = "relevance",
        since: date | str | None = None,
        until: date | str | None = None,
        person: Names = (),
        place: Names = (),
        organization: Names = (),
        explain: bool = False,
        fold_duplicates: bool = True,
        match: str = "all",
        strict: bool = False,
        batch: int = 200,
    ) -> Iterator[Any]:
        """Every hit ``search`` counts, in its order, made ``batch`` at a time: for exports.
        Options as for ``search``; the first value is the ``SearchResult`` of the first batch
        (its total, notices and suggestion), then come the ``Hit`` values."""
        parsed = self._parse(query, strict)
        selection = self._select(parsed, since, until, person, place, organization, match)
        first = self._result(query, selection, limit=batch, page_number=1, sort=sort, facets=False,
                             facet_limit=0, explain=explain, fold=fold_duplicates, mode=match)
        yield attrs.evolve(first, suggestion=self.suggest(query))
        yield from first.hits
        number = 1
        while number * batch < (first.stories if first.stories is not None else first.total):
            number += 1
            placed, _ = page(self._snapshot, selection, sort=sort, limit=batch, page_number=number, fold=fold_duplicates)
            if not placed:
                break
            yield from make_hits(self._snapshot, placed, selection, explain=explain)

    def more_like(
        self,
        article_id: str,
        *,
        limit: int = 10,
        page: int = 1,
        sort: str = "relevance",
        since: date | str | None = None,
        until: date | str | None = None,
        person: Names = (),
        place: Names = (),
        organization: Names = (),
        facets: bool = False,
        explain: bool = False,
        fold_duplicates: bool = True,
    ) -> SearchResult:
        """Articles on the same subject as the article ``article_id``, which is left out with
        its own copies (``fold_duplicates``).

        The query is the article's most distinctive words (Bo1, as Terrier and Whoosh weigh
        them, over its title and body) and named entities, ranked as ``search`` ranks, with the
        same options.

        Raises:
            ArticleNotFoundError: no article has that id.
        """
        snapshot = self._snapshot
        docnum = snapshot.docnum(article_id)
        if docnum is None:
            raise ArticleNotFoundError(
                f"No article with id {article_id!r} in the index at '{self.path}'; "
                "ids are shown by search --json and in the search results",
                article_id=article_id,
            )
        exclude = np.zeros(snapshot.size, dtype=bool)
        exclude[snapshot.stories().members(docnum) if fold_duplicates else docnum] = True
        like = ParsedQuery(f"like:{article_id}", _like_query(snapshot, docnum, self.ranking.field_weights), None)
        allowed = self._allowed(since, until, person, place, organization)
        selection = select(snapshot, like, ranking=self.ranking, allowed=allowed, exclude=exclude)
        return self._result(f"like:{article_id}", selection, limit=limit, page_number=page, sort=sort, facets=facets,
                            facet_limit=10, explain=explain, fold=fold_duplicates, mode="any")

    def timeline(
        self,
        query: str,
        *,
        by: str = "month",
        since: date | str | None = None,
        until: date | str | None = None,
        person: Names = (),
        place: Names = (),
        organization: Names = (),
        match: str = "all",
        strict: bool = False,
    ) -> Timeline:
        """How many of the articles ``search`` counts for ``query`` are dated in each year,
        month or day.

        Periods between the first and the last with a match are all listed, empty ones with 0,
        so the counts chart as they are. ``undated`` counts matching articles without a date;
        the counts and ``undated`` add up to ``total``.
        """
        if by not in PERIODS:
            raise InvalidOptionError(f"Unknown period {by!r}: use {', '.join(PERIODS)}")
        selection = self._select(self._parse(query, strict), since, until, person, place, organization, match)
        buckets, undated = timeline_buckets(self._snapshot, selection.mask, by)
        return Timeline(query=query, by=by, buckets=buckets, undated=undated, total=selection.total,
                        some_words=selection.some_words, notices=selection.notices)

    def ranked(self, query: str, *, limit: int = 1000, plain: bool = False) -> tuple[tuple[str, float], ...]:
        """The ids and scores of the best ``limit`` articles, all the words first, then some,
        every copy of a story kept, without snippets: what an evaluation needs.

        With ``plain``, the query is taken as typed text, its query-syntax characters ignored
        (see ``plain_query``), as test collections' topics are.
        """
        parsed = self._parse(plain_query(query) if plain else query, strict=False)
        selection = select(self._snapshot, parsed, ranking=self.ranking, mode="any")
        ids = self._snapshot.ids()
        return tuple((ids[docnum], float(selection.scores[docnum])) for docnum in ordered(self._snapshot, selection, "relevance", limit))

    def suggest(self, query: str) -> str | None:
        """The query with misspelt words corrected ("did you mean"), or ``None``; see
        suggestions.py."""
        return suggest(self._snapshot, query)

    def _parse(self, query: str, strict: bool) -> ParsedQuery:
        self._snapshot.vocabulary()  # its stems spare loading NLTK's stemmer
        parsed = parse_query(query, self._snapshot.schema, self.ranking.field_weights, strict=strict)
        logger.info("parsed %r as %s%s", query, parsed.any_word or parsed.all_words,
                    "".join(f"; {notice}" for notice in parsed.notices))
        return parsed

    def _allowed(self, since: date | str | None, until: date | str | None, person: Names, place: Names,
                 organization: Names) -> np.ndarray | None:
        """The articles the filters let through, or ``None`` when there are no filters."""
        restrict = filter_query(self._snapshot.schema, since, until,
                                {"person": person, "place": place, "organization": organization}, self._snapshot.aliases())
        return None if restrict is None else match(self._snapshot, restrict).mask

    def _select(self, parsed: ParsedQuery, since: date | str | None, until: date | str | None, person: Names,
                place: Names, organization: Names, mode: str) -> Selection:
        allowed = self._allowed(since, until, person, place, organization)
        return select(self._snapshot, parsed, ranking=self.ranking, allowed=allowed, mode=mode)

    def _result(self, text: str, selection: Selection, *, limit: int, page_number: int, sort: str, facets: bool,
                facet_limit: int, explain: bool, fold: bool, mode: str) -> SearchResult:
        placed, stories = page(self._snapshot, selection, sort=sort, limit=limit, page_number=page_number, fold=fold)
        counted = facet_counts(self._snapshot, selection.mask, facet_limit, ENTITY_FIELDS) if facets else {}
        return SearchResult(
            query=text, total=selection.total, stories=stories, hits=make_hits(self._snapshot, placed, selection, explain=explain),
            facets=counted, page=page_number, limit=limit, some_words=selection.some_words,
            notices=selection.notices, match=mode,
        )

    def article(self, article_id: str, *, query: str | None = None) -> IndexedArticle:
        """The whole article ``article_id`` as the index holds it, with its entities and the ids
        of the other copies of its story. With ``query``, the words ``search`` matches are
        marked in its ``title_snippet``, ``caption_snippet`` and ``body_snippet``, as snippets
        mark them; a query that cannot be read marks nothing.

        Raises:
            ArticleNotFoundError: no article has that id.
        """
        snapshot = self._snapshot
        docnum = snapshot.docnum(article_id)
        if docnum is None:
            raise ArticleNotFoundError(
                f"No article with id {article_id!r} in the index at '{self.path}'; "
                "ids are shown by search --json and in the search results",
                article_id=article_id,
            )
        words = Marked()
        if query:
            try:
                words = highlighted_terms(select(snapshot, self._parse(query, strict=False), ranking=self.ranking).leaves)
            except SearchlibError:
                pass
        return indexed_article(snapshot, docnum, words)


#: How many distinctive words of an article "more like this" searches, and how many names.
LIKE_WORDS, LIKE_NAMES = 15, 8


def _like_query(snapshot: Snapshot, docnum: int, field_weights: dict[str, float]) -> whoosh_query.Query:
    """The distinctive words and the names of one article, weighted, as an OR query: its words
    weighed by Bo1 (Whoosh's ``key_terms_from_text``, computed from the words' stems and the
    collection frequencies instead of a second run of the analyzer), the weights normalised."""
    fields = snapshot.stored(docnum)
    counts = Counter(term for _, term, *_ in token_terms(f"{fields.get('title', '')}\n{fields.get('body', '')}") if term)
    reader = snapshot.searcher.reader()
    size = snapshot.size
    scored = []
    for word, weight in counts.items():
        if ("text", word) in reader:
            f = reader.frequency("text", word) / size
            scored.append((weight * log((1.0 + f) / f, 2) + log(1.0 + f, 2), word))
    clauses: list[whoosh_query.Query] = []
    if scored:
        best = max(score for score, _ in scored)
        f = best / size
        norm = (best * log((1.0 + f) / f) + log(1.0 + f)) / log(2.0) if best else best
        scored.sort(key=lambda item: (-item[0] / norm, item[1]))
        clauses = [
            whoosh_query.Term(field, word, boost=(score / norm) * field_weight)
            for score, word in scored[:LIKE_WORDS]
            for field, field_weight in field_weights.items()
        ]
    analyzer = snapshot.schema[ENTITY_FIELDS[0]].analyzer  # the same for each kind
    for name, kind in fields.get("entity_list", ())[:LIKE_NAMES]:
        words = [token.text for token in analyzer(name)]
        if words:
            clauses.append(whoosh_query.Phrase(kind, words) if len(words) > 1 else whoosh_query.Term(kind, words[0]))
    return whoosh_query.Or(clauses) if clauses else whoosh_query.NullQuery
