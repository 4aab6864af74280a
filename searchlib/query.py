"""Open an index and search it: query parsing, ranking, and copying results into ``Hit`` values.

Ranking is BM25 (Lucene's idf, a repeated query word counting again) over the fields of
``config.Ranking.field_weights``: by default the one ``text`` field, where the title counts twice,
which makes it BM25F (schema.combined_text). Plain words are combined the way news searchers expect: an
article that has all of them ranks above any that has only some, yet partial matches are still
returned after them. That is done with two passes, "all words" then "any word, the first pass
masked out", so the total is exact and pages run straight across the two.

Whoosh's query language is used as it is (``"phrases"``, ``AND``/``OR``/``NOT``, ``field:word``,
``(groups)``), behind a check that turns what Whoosh would silently drop (an unclosed quote, an
``AND`` with nothing after it, an unknown field) into a ``QuerySyntaxError`` naming the position.
Whoosh's searcher and result objects never leave this module.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import sleep
from typing import Any

import attrs
import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein
from whoosh import index as whoosh_index
from whoosh import query as whoosh_query
from whoosh import sorting
from whoosh.qparser import AndGroup, FieldAliasPlugin, FuzzyTermPlugin, MultifieldParser, OrGroup
from whoosh.searching import Searcher

from .analysis import fold
from .config import SEARCHABLE_TEXT_FIELDS, Ranking
from .dates import parse_period
from .errors import ArticleNotFoundError, IndexCorruptError, InvalidOptionError, QuerySyntaxError
from .locks import READERS_LOCK, ReaderPin
from .models import Entity, FacetValue, Hit, ScorePart, SearchResult, Snippet, Timeline, TimelineBucket
from .schema import (
    ENTITY_FIELDS,
    FIELD_ALIASES,
    current_generation,
    facet_field,
    read_metadata,
    rebuild_hint,
)
from .scoring import BM25, Rescorer, Word, WordScorer, plain_words
from .snippets import body_highlighter, highlight_matches, leading_snippet, title_highlighter
from .vocabulary import load_vocabulary

__all__ = ["Index", "check_query_syntax", "plain_query"]


@attrs.define
class Index:
    """An open index. Use as a context manager, or call ``close()``.

    Example:
        >>> with Index.open("indexes/main") as index:           # doctest: +SKIP
        ...     result = index.search("military base", limit=10)
    """

    path: Path
    generation: Path
    ranking: Ranking
    _whoosh: Any = attrs.field(repr=False)
    _searcher: Searcher = attrs.field(repr=False)
    _pin: ReaderPin = attrs.field(repr=False)
    _cache: dict[str, Any] = attrs.field(factory=dict, repr=False)  # of the open generation

    @classmethod
    def open(cls, path: Path | str, *, ranking: Ranking | None = None) -> Index:
        """Open the live generation of the index at ``path``, pinned against removal.

        ``ranking`` sets BM25F's parameters and the field weights; by default
        ``Ranking.from_env()``, which is ``Ranking()`` unless the environment says otherwise.

        Raises:
            IndexNotFoundError: nothing was built there.
            IndexVersionError: it was built by an incompatible searchlib; rebuild it.
            IndexCorruptError: its files cannot be read.
            InvalidOptionError: a ``SEARCHLIB_BM25_*`` or ``SEARCHLIB_FIELD_WEIGHTS`` value
                cannot be used.
        """
        path = Path(path)
        if ranking is None:
            try:
                ranking = Ranking.from_env()
            except ValueError as error:
                raise InvalidOptionError(str(error)) from None
        for _attempt in range(5):
            generation = current_generation(path)
            pin = ReaderPin.take(generation)
            if pin is None and generation.is_dir() and not (generation / READERS_LOCK).exists():
                pin = ReaderPin()  # a read-only copy, or an index that has no reader lock file
            if pin is not None:
                break
            sleep(0.05)  # a writer switched generations and is removing this one: again
        else:
            raise IndexCorruptError(
                f"Cannot open the index at '{path}': its generation keeps disappearing. "
                f"Rebuild it with: {rebuild_hint(path)}",
                path=path,
            )
        try:
            whoosh = whoosh_index.open_dir(str(generation))
            searcher = whoosh.searcher(weighting=BM25(B=ranking.b, K1=ranking.k1))
        except Exception as exc:  # Whoosh raises many kinds here, pickle errors among them
            pin.release()
            raise IndexCorruptError(
                f"Cannot open the index at '{path}' ({type(exc).__name__}: {exc}). "
                f"Rebuild it with: {rebuild_hint(path)}",
                path=path,
            ) from exc
        return cls(path, generation, ranking, whoosh, searcher, pin)

    def refresh(self) -> bool:
        """Switch to the live generation if a writer has replaced the one open; ``True`` if so.

        A long-lived ``Index`` (a server, say) calls this now and then; searches already under
        way finish on the old generation.
        """
        if current_generation(self.path) == self.generation:
            return False
        fresh = Index.open(self.path, ranking=self.ranking)
        self.close()
        self.generation, self._whoosh, self._searcher, self._pin = fresh.generation, fresh._whoosh, fresh._searcher, fresh._pin
        self._cache.clear()
        return True

    def close(self) -> None:
        """Release the index files, and the generation for writers to remove."""
        self._searcher.close()
        self._whoosh.close()
        self._pin.release()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def article_count(self) -> int:
        """How many articles the index holds."""
        return int(self._searcher.doc_count())

    @property
    def metadata(self) -> dict[str, Any]:
        """What the build recorded: ``built_at``, ``corpus``, ``articles``, ``skipped``."""
        return read_metadata(self.generation)

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        page: int = 1,
        sort: str = "relevance",
        since: date | str | None = None,
        until: date | str | None = None,
        person: str | Iterable[str] = (),
        place: str | Iterable[str] = (),
        organization: str | Iterable[str] = (),
        facets: bool = False,
        facet_limit: int = 10,
        explain: bool = False,
        fold_duplicates: bool = True,
    ) -> SearchResult:
        """Search the index.

        Args:
            query: words, ``"phrases"`` (``"a b"~5`` for words within 5 of each other),
                ``AND``/``OR``/``NOT``, ``prefix*``, ``fuzzy~``, ``field:word`` (fields: title,
                body, caption, entities or entity, person, organization or org, place, url,
                path, id) and ``date:2012``, ``date:[2012-01 to 2012-06]``, ``date:"last week"``.
            limit: hits per page, at least 1.
            page: which page of hits, from 1.
            sort: ``relevance`` (articles with all the words first), ``newest`` or ``oldest``;
                undated articles come last in both date orders.
            since, until: only articles dated in this span, both ends included: a ``date``, a
                ``datetime`` or text as in ``dates.parse_period`` ("2012", "2012-04", "last
                week"). Undated articles are left out by a date filter.
            person, place, organization: only articles that mention these entities (a name or
                several, all required; any part of a name, any known alias, any case).
            facets: also count the entities of each kind across all matching articles.
            facet_limit: how many entities of each kind to count in.
            explain: give each hit the per-field, per-term parts of its score.
            fold_duplicates: show each story once, its other matching copies (wire repeats,
                corrections) listed in the hit's ``similar``; ``False`` shows every copy.

        Returns:
            ``SearchResult`` with the exact total, the hits of the page, a spelling suggestion
            when the query has words the index has never seen, and facets if asked.

        Raises:
            QuerySyntaxError: the query cannot be parsed; the message gives the position.
            ValueError: ``limit`` or ``page`` is below 1, ``sort`` is unknown, a date or an entity
                filter cannot be read.
        """
        all_words, any_word = self._parse(query)
        allowed = self._allowed(since, until, person=person, place=place, organization=organization)
        result = self._rank(
            query, all_words, any_word, allowed, limit=limit, page=page, sort=sort,
            facets=facets, facet_limit=facet_limit, explain=explain, fold=fold_duplicates,
        )
        return attrs.evolve(result, suggestion=self.suggest(query))

    def more_like(
        self,
        article_id: str,
        *,
        limit: int = 10,
        page: int = 1,
        sort: str = "relevance",
        since: date | str | None = None,
        until: date | str | None = None,
        person: str | Iterable[str] = (),
        place: str | Iterable[str] = (),
        organization: str | Iterable[str] = (),
        facets: bool = False,
        explain: bool = False,
        fold_duplicates: bool = True,
    ) -> SearchResult:
        """Articles on the same subject as the article ``article_id``, which is left out with
        its own copies (``fold_duplicates``).

        The query is the article's most distinctive words (Whoosh's Bo1 key-term model over its
        title and body) and named entities, ranked as ``search`` ranks, with the same options.

        Raises:
            ArticleNotFoundError: no article has that id.
        """
        docnum = self._docnum(article_id)
        like = self._like_query(docnum)
        allowed = self._allowed(since, until, person=person, place=place, organization=organization)
        exclude = {docnum}
        if fold_duplicates:
            codes, by_story, starts = self._story_index()
            exclude |= set(by_story[starts[codes[docnum]] : starts[codes[docnum] + 1]].tolist())
        return self._rank(
            f"like:{article_id}", like, None, allowed, limit=limit, page=page, sort=sort,
            facets=facets, explain=explain, exclude=exclude, fold=fold_duplicates,
        )

    def timeline(
        self,
        query: str,
        *,
        by: str = "month",
        since: date | str | None = None,
        until: date | str | None = None,
        person: str | Iterable[str] = (),
        place: str | Iterable[str] = (),
        organization: str | Iterable[str] = (),
    ) -> Timeline:
        """How many articles match ``query`` in each year, month or day.

        Periods between the first and the last with a match are all listed, empty ones with 0,
        so the counts chart as they are. ``undated`` counts matching articles without a date;
        the counts and ``undated`` add up to ``total``.
        """
        if by not in PERIODS:
            raise InvalidOptionError(f"Unknown period {by!r}: use {', '.join(PERIODS)}")
        all_words, any_word = self._parse(query)
        allowed = self._allowed(since, until, person=person, place=place, organization=organization)
        matched = self._matching(any_word or all_words, allowed)
        dated = matched & self._dated()
        column = self._searcher.reader().column_reader("date")
        counts = Counter(_period_start(column[docnum], by) for docnum in dated)
        buckets = [
            TimelineBucket(_period_label(start, by), start, counts.get(start, 0))
            for start in _periods_between(min(counts, default=None), max(counts, default=None), by)
        ]
        return Timeline(query=query, by=by, buckets=tuple(buckets), undated=len(matched) - len(dated), total=len(matched))

    def ranked(self, query: str, *, limit: int = 1000, plain: bool = False) -> tuple[tuple[str, float], ...]:
        """The ids and scores of the best ``limit`` articles, in the order ``search`` ranks them
        by relevance with every copy of a story, without snippets: what an evaluation needs.

        With ``plain``, the query is taken as typed text, its query-syntax characters ignored
        (see ``plain_query``), as test collections' topics are.
        """
        all_words, any_word = self._parse(plain_query(query) if plain else query)
        everything = any_word or all_words
        words = plain_words(everything)
        ids = self._ids()
        if words is None:
            ranked = self._fetch(self._relevance_passes(all_words, any_word, None), limit)
            return tuple((ids[hit.docnum], float(hit.score or 0.0)) for hit in ranked)
        # As _rank_words ranks (without folding, filters or pages).
        scorer: WordScorer = self._cached("scorer", lambda: WordScorer(self._searcher, self._cached("leaves", self._leaves)))
        rescorer: Rescorer = self._cached("rescorer", lambda: Rescorer(scorer, self._searcher, self.ranking))
        scores, found = scorer.scores(words)
        matched = found >= (len(words) if isinstance(everything, whoosh_query.And) else 1)
        groups = [matched & (found == len(words)), matched & (found < len(words))] if any_word is not None else [matched]
        scores = rescorer.rescore(scores, words, groups).scores
        return tuple((ids[docnum], float(scores[docnum])) for docnum in _best(scores, groups, limit))

    def _allowed(
        self,
        since: date | str | None,
        until: date | str | None,
        **entities: str | Iterable[str],
    ) -> set[int] | None:
        """The articles the filters let through, or ``None`` when there are no filters."""
        restrict = _all_of([_date_range(since, until), self._entity_filter(entities)])
        return None if restrict is None else set(self._searcher.docs_for_query(restrict))

    def _matching(self, query: whoosh_query.Query, allowed: set[int] | None) -> set[int]:
        # Counted here, not with len(results): Whoosh's count ignores filters and masks once
        # its collector has skipped blocks of a large index.
        ids = set(self._searcher.docs_for_query(query))
        return ids if allowed is None else ids & allowed

    def _rank(
        self,
        text: str,
        all_words: whoosh_query.Query,
        any_word: whoosh_query.Query | None,
        allowed: set[int] | None,
        *,
        limit: int,
        page: int,
        sort: str,
        facets: bool = False,
        facet_limit: int = 10,
        explain: bool = False,
        exclude: frozenset[int] | set[int] = frozenset(),
        fold: bool = True,
    ) -> SearchResult:
        """One page of hits: by relevance (all words first), or by date with undated last;
        with ``fold``, one hit a story, the story's other matching copies in ``similar``."""
        if limit < 1 or page < 1:
            raise InvalidOptionError(f"limit and page must be at least 1, not {limit} and {page}")
        if sort not in SORTS:
            raise InvalidOptionError(f"Unknown sort order {sort!r}: use {', '.join(SORTS)}")
        everything = any_word or all_words
        words = plain_words(everything) if sort == "relevance" else None
        if words is not None:
            required = isinstance(everything, whoosh_query.And)
            return self._rank_words(
                text, words, required=required, tiers=any_word is not None, allowed=allowed, exclude=exclude,
                limit=limit, page=page, facets=facets, facet_limit=facet_limit, fold=fold, everything=everything,
                explain=explain,
            )
        matched = self._matching(everything, allowed) - exclude
        if sort == "relevance":
            passes = self._relevance_passes(all_words, any_word, allowed, exclude)
        else:
            dated = matched & self._dated()
            passes = [
                (everything, {"filter": dated, "sortedby": "date", "reverse": sort == "newest"}),
                (everything, {"filter": matched - dated}),  # the undated, by relevance
            ]
        copies: dict[str, list[int]] = defaultdict(list)
        story_of = self._stories()
        for docnum in sorted(matched) if fold else ():
            copies[story_of[docnum]].append(docnum)
        stories = len(copies) if fold else None
        offset, wanted = (page - 1) * limit, page * limit
        fetch = wanted + len(matched) - len(copies) if fold else wanted  # enough to fill `wanted` stories
        ranked = self._fetch(passes, fetch, terms=True) if matched else []
        if fold:
            first_of_story: dict[str, Any] = {}
            for hit in ranked:
                first_of_story.setdefault(story_of[hit.docnum], hit)
            ranked = list(first_of_story.values())
        hits: list[_Pending] = []
        ids = self._ids()
        for rank, hit in enumerate(ranked[offset:wanted], start=offset + 1):
            others = [d for d in copies.get(story_of[hit.docnum], ()) if d != hit.docnum]
            similar = tuple(ids[d] for d in others)
            score = self._relevance(everything, hit.docnum) if sort != "relevance" else float(hit.score or 0.0)
            explanation = self._explain(hit) if explain else ()
            hits.append((rank, hit.docnum, score, self._matched_words(hit), explanation, similar))
        counted = self._facets(everything, matched, facet_limit) if facets else {}
        return SearchResult(
            query=text, total=len(matched), stories=stories, hits=self._hits(hits), facets=counted, page=page, limit=limit
        )

    def _rank_words(
        self,
        text: str,
        words: list[Word],
        *,
        required: bool,
        tiers: bool,
        allowed: set[int] | None,
        exclude: frozenset[int] | set[int],
        limit: int,
        page: int,
        facets: bool,
        facet_limit: int,
        fold: bool,
        everything: whoosh_query.Query,
        explain: bool = False,
    ) -> SearchResult:
        """``_rank`` for a query of plain words, by relevance, scored a posting list at a time
        (scoring.WordScorer) instead of an article at a time, then rescored (scoring.Rescorer:
        closeness, and feedback if the ranking asks for it)."""
        scorer: WordScorer = self._cached("scorer", lambda: WordScorer(self._searcher, self._cached("leaves", self._leaves)))
        rescorer: Rescorer = self._cached("rescorer", lambda: Rescorer(scorer, self._searcher, self.ranking))
        scores, found = scorer.scores(words)
        matched = found >= (len(words) if required else 1)
        if allowed is not None:
            matched &= self._mask(allowed)
        if exclude:
            matched[list(exclude)] = False
        total = int(matched.sum())
        codes, by_story, story_starts = self._story_index()
        offset, wanted = (page - 1) * limit, page * limit
        groups = [matched & (found == len(words)), matched & (found < len(words))] if tiers else [matched]
        rescored = rescorer.rescore(scores, words, groups)
        scores = rescored.scores
        count = wanted
        while True:
            order = _best(scores, groups, count)
            if not fold:
                ranked = order
                break
            first_of_story: dict[int, int] = {}
            for docnum in order:
                first_of_story.setdefault(int(codes[docnum]), docnum)
            ranked = list(first_of_story.values())
            if len(ranked) >= wanted or len(order) >= total:
                break
            count *= 4
        stories = int(np.count_nonzero(np.bincount(codes[matched], minlength=1))) if fold else None
        ids = self._ids()
        hits: list[_Pending] = []
        for rank, docnum in enumerate(ranked[offset:wanted], start=offset + 1):
            similar: tuple[str, ...] = ()
            if fold:
                code = codes[docnum]
                copies = by_story[story_starts[code] : story_starts[code + 1]]
                similar = tuple(ids[d] for d in copies[matched[copies]].tolist() if d != docnum)
            hit_words = {term for word in words for field, term, _ in word if _has(scorer.postings(field, term)[0], docnum)}
            explanation = rescorer.explain(rescored, words, docnum) if explain else ()
            hits.append((rank, docnum, float(scores[docnum]), hit_words, explanation, similar))
        counted = self._facets(everything, set(np.flatnonzero(matched).tolist()), facet_limit) if facets else {}
        return SearchResult(query=text, total=total, stories=stories, hits=self._hits(hits), facets=counted, page=page, limit=limit)

    def _mask(self, docnums: Iterable[int]) -> np.ndarray:
        mask = np.zeros(self._searcher.doc_count_all(), dtype=bool)
        mask[np.fromiter(docnums, dtype=np.int64)] = True
        return mask

    def _story_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each article's story as a number, and the articles grouped by story: the articles of
        story ``s`` are ``by_story[starts[s]:starts[s + 1]]``."""

        def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            _, codes = np.unique(np.array(list(self._stories()), dtype=object).astype(str), return_inverse=True)
            by_story = np.argsort(codes, kind="stable")
            starts = np.searchsorted(codes[by_story], np.arange(codes.max(initial=0) + 2))
            return codes, by_story, starts

        return self._cached("stories", make)

    def _relevance_passes(
        self,
        all_words: whoosh_query.Query,
        any_word: whoosh_query.Query | None,
        allowed: set[int] | None,
        exclude: frozenset[int] | set[int] = frozenset(),
    ) -> list[tuple[whoosh_query.Query, dict[str, Any]]]:
        """Articles with every word first, then the rest of those with any word."""
        passes: list[tuple[whoosh_query.Query, dict[str, Any]]] = [(all_words, {"filter": allowed, "mask": exclude})]
        if any_word is not None:
            passes.append((any_word, {"filter": allowed, "mask": self._matching(all_words, allowed) | exclude}))
        return passes

    def _fetch(self, passes: list[tuple[whoosh_query.Query, dict[str, Any]]], limit: int, *, terms: bool = False) -> list[Any]:
        """Whoosh hits of the passes in turn, up to ``limit`` in all."""
        ranked: list[Any] = []
        for q, options in passes:
            if len(ranked) >= limit:
                break
            if options.get("filter") == set():
                continue  # Whoosh reads an empty filter as no filter at all
            ranked.extend(self._searcher.search(q, limit=limit - len(ranked), terms=terms, **options))
        return ranked

    def _ids(self) -> Any:
        """Each article's id, by document number (a column, read without stored fields)."""
        return self._cached("ids", lambda: self._searcher.reader().column_reader("id"))

    def _stories(self) -> Any:
        """Each article's story id, by document number (a column, read without stored fields)."""
        return self._cached("story", lambda: self._searcher.reader().column_reader("story"))

    def _docnum(self, article_id: str) -> int:
        docnum = self._searcher.document_number(id=article_id)
        if docnum is None:
            raise ArticleNotFoundError(
                f"No article with id {article_id!r} in the index at '{self.path}'; "
                "ids are shown by search --json and in the search results",
                article_id=article_id,
            )
        return int(docnum)

    def _like_query(self, docnum: int) -> whoosh_query.Query:
        """The distinctive words and the names of one article, weighted, as an OR query."""
        fields = self._searcher.stored_fields(docnum)
        text = f"{fields.get('title', '')}\n{fields.get('body', '')}"
        key_terms = self._searcher.key_terms_from_text("text", text, numterms=15, normalize=True)
        clauses = [
            whoosh_query.Term(field, word, boost=weight * field_weight)
            for word, weight in key_terms
            for field, field_weight in self.ranking.field_weights.items()
        ]
        analyzer = self._whoosh.schema[ENTITY_FIELDS[0]].analyzer  # the same for each kind
        for name, kind in fields.get("entity_list", ())[:8]:
            words = [token.text for token in analyzer(name)]
            if words:
                clauses.append(whoosh_query.Phrase(kind, words) if len(words) > 1 else whoosh_query.Term(kind, words[0]))
        return whoosh_query.Or(clauses)

    def _dated(self) -> set[int]:
        """The articles that have a date."""
        return self._cached("dated", lambda: set(self._searcher.docs_for_query(whoosh_query.Term("dated", "yes"))))

    def _cached(self, name: str, make: Callable[[], Any]) -> Any:
        """``make()``, once per open generation."""
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    def _entity_filter(self, wanted: dict[str, str | Iterable[str]]) -> whoosh_query.Query | None:
        """All the named entities, each as a phrase of its analysed words in its kind's field."""
        clauses = []
        for kind, names in wanted.items():
            for name in [names] if isinstance(names, str) else names:
                analyzer = self._whoosh.schema[kind].analyzer
                words = [token.text for token in analyzer(name)]
                if not words:
                    raise InvalidOptionError(f"The {kind} filter {name!r} has no words to match")
                clauses.append(whoosh_query.Term(kind, words[0]) if len(words) == 1 else whoosh_query.Phrase(kind, words))
        return whoosh_query.And(clauses) if clauses else None

    def _facets(self, query: whoosh_query.Query, matched: set[int], top: int) -> dict[str, tuple[FacetValue, ...]]:
        """The most mentioned entities of each kind over every article the query matches."""
        if not matched:
            return {kind: () for kind in ENTITY_FIELDS}
        groups = {
            kind: sorting.FieldFacet(facet_field(kind), allow_overlap=True, maptype=sorting.Count)
            for kind in ENTITY_FIELDS
        }
        results = self._searcher.search(query, limit=1, filter=matched, groupedby=groups)
        counted = {}
        for kind in ENTITY_FIELDS:
            counts = {name: count for name, count in results.groups(kind).items() if name}
            best = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
            counted[kind] = tuple(FacetValue(name, count) for name, count in best)
        return counted

    def _parsers(self) -> tuple[MultifieldParser, MultifieldParser]:
        """The query parsers of the "all words" and the "any word" queries."""
        parsers = []
        for group in (AndGroup, OrGroup):
            weights = self.ranking.field_weights
            parser = MultifieldParser(list(weights), self._whoosh.schema, fieldboosts=weights, group=group)
            parser.add_plugin(FieldAliasPlugin({field: [alias] for alias, field in FIELD_ALIASES.items()}))
            parser.add_plugin(FuzzyTermPlugin())
            parsers.append(parser)
        return parsers[0], parsers[1]

    def _parse(self, text: str) -> tuple[whoosh_query.Query, whoosh_query.Query | None]:
        """The "all words" query, and the "any word" one when it differs."""
        typed = text.split()
        if typed and all(_PLAIN_WORD.fullmatch(word) for word in typed) and not _OPERATORS.intersection(typed):
            return self._parse_words(typed)
        schema = self._whoosh.schema
        text_without_dates, date_ranges = _take_date_clauses(text)
        check_query_syntax(text_without_dates, [*schema.names(), *FIELD_ALIASES])
        parsed = []
        for parser in self._cached("parsers", self._parsers):
            try:
                parsed.append(_count_repeats(parser.parse(text_without_dates, normalize=False)).normalize())
            except Exception as exc:  # Whoosh's parser raises few, but any is a syntax error
                raise QuerySyntaxError(f"Cannot parse the query {text!r}: {exc}", query=text) from exc
        all_words, any_word = (self._rewrite(q, date_ranges) for q in parsed)
        return all_words, (None if any_word == all_words else any_word)

    def _parse_words(self, typed: list[str]) -> tuple[whoosh_query.Query, whoosh_query.Query | None]:
        """``_parse`` for words and nothing else, the common query: the queries Whoosh's parser
        would make (a term a word and field, boosted by the field's weight), made directly."""
        schema, weights = self._whoosh.schema, self.ranking.field_weights
        words: list[whoosh_query.Query] = []
        for word in typed:
            terms = [
                whoosh_query.Term(field, term, boost=weight)
                for field, weight in weights.items()
                for term in schema[field].process_text(word, mode="query")
            ]
            if terms:
                words.append(terms[0] if len(terms) == 1 else whoosh_query.Or(terms))
        all_words, any_word = (_count_repeats(_across_kinds(group(words))).normalize()
                               for group in (whoosh_query.And, whoosh_query.Or))
        return all_words, (None if any_word == all_words else any_word)

    def _rewrite(self, query: whoosh_query.Query, date_ranges: dict[str, whoosh_query.Query]) -> whoosh_query.Query:
        """Put the date ranges back in place of their placeholders, make NOT exclude, and expand
        fuzzy words over the vocabulary of the text as written."""

        def rewrite(q: whoosh_query.Query) -> whoosh_query.Query:
            if isinstance(q, whoosh_query.Term) and q.fieldname == "id" and q.text in date_ranges:
                return date_ranges[q.text]
            if isinstance(q, whoosh_query.FuzzyTerm):
                return self._expand_fuzzy(q)
            return q.apply(rewrite)

        return _exclude_nots(_require_dates(_across_kinds(rewrite(query))))

    def _expand_fuzzy(self, q: whoosh_query.FuzzyTerm) -> whoosh_query.Query:
        """``militray~``: the words of the text within a few edits of the one typed (one edit
        for words of up to five letters, two beyond), searched by their stems."""
        typed = fold(q.text)
        distance = max(q.maxdist, 0 if len(typed) <= 2 else 1 if len(typed) <= 5 else 2)
        analyzer = self._whoosh.schema[q.fieldname].analyzer
        stems = {t.text for word in self._words_within(typed, distance, q.prefixlength) for t in analyzer(word)}
        return whoosh_query.Or([whoosh_query.Term(q.fieldname, stem, boost=q.boost) for stem in sorted(stems)])

    def _words_within(self, typed: str, distance: int, prefix: int = 0) -> dict[str, int]:
        """The words of the index's text within ``distance`` edits of ``typed`` (Damerau-
        Levenshtein: a swap of two letters is one edit), with their distances. The vocabulary is
        read once per generation and scanned by rapidfuzz, in C++: Whoosh's own scan computes
        each distance in Python, about a second a word on a 5,000-article index."""
        vocabulary: dict[tuple[str, int], list[str]] = self._cached("vocabulary", self._vocabulary)
        nearby = [
            word
            for (first, length), words in vocabulary.items()
            if abs(length - len(typed)) <= distance and (not prefix or first == typed[:1])
            for word in words
        ]
        found = process.extract(typed, nearby, scorer=DamerauLevenshtein.distance, score_cutoff=distance, limit=None)
        return {word: int(edits) for word, edits, _ in found if word[:prefix] == typed[:prefix]}

    def _vocabulary(self) -> dict[tuple[str, int], list[str]]:
        """The words of the index's text, by first letter and length: a word within two edits
        of another is within two letters of its length."""
        vocabulary: dict[tuple[str, int], list[str]] = defaultdict(list)
        for word in sorted(self._word_counts()):
            vocabulary[word[:1], len(word)].append(word)
        return vocabulary

    def _word_counts(self) -> Counter[str]:
        """Each word of the index's text and the number of articles it is in (vocabulary.py)."""
        return self._cached("word counts", lambda: load_vocabulary(self.generation))

    def suggest(self, query: str) -> str | None:
        """The query with each word the index has never seen replaced by the nearest word of
        the index that starts with the same letter (fewest edits, a swap of two letters counting as
        one; then the most frequent; as Lucene's DirectSpellChecker),
        or ``None`` if there is nothing to correct. Words the index holds are never changed.

        Example:
            ``index.suggest("militray base")`` -> ``"military base"``
        """
        counts = self._word_counts()
        changed = False

        def correct(match: re.Match[str]) -> str:
            nonlocal changed
            word = match.group()
            typed = fold(word)
            if len(typed) < 3 or word in _OPERATORS or counts[typed] > 0:
                return word
            candidates = self._words_within(typed, 2, prefix=1)  # as Lucene's DirectSpellChecker
            if not candidates:
                return word
            best = min(candidates, key=lambda c: (candidates[c], -counts[c], c))
            changed = True
            return best.capitalize() if word[:1].isupper() else best

        suggestion = _SUGGESTABLE_WORD.sub(correct, query)
        return suggestion if changed else None

    def _relevance(self, query: whoosh_query.Query, docnum: int) -> float:
        """The BM25F score of one article for ``query``: a date-sorted search has none of its own."""
        matcher = query.matcher(self._searcher)
        if matcher.is_active():
            matcher.skip_to(docnum)
            if matcher.is_active() and matcher.id() == docnum:
                return float(matcher.score())
        return 0.0

    def _explain(self, hit: Any) -> tuple[ScorePart, ...]:
        """The BM25 score of each matched word in each field, with its weight in the query: the
        field's weight times how often the word was given (and any ``^`` boost)."""
        weights = _term_weights(hit.results.q)
        parts = []
        for fieldname, term in sorted(hit.matched_terms()):
            word = self._whoosh.schema[fieldname].from_bytes(term)
            weight = weights.get((fieldname, word))
            if weight is None or (fieldname not in SEARCHABLE_TEXT_FIELDS and fieldname not in ENTITY_FIELDS):
                continue
            score = self._relevance(whoosh_query.Term(fieldname, word, boost=weight), hit.docnum)
            parts.append(ScorePart(fieldname, word, weight, score))
        return tuple(sorted(parts, key=lambda part: -part.score))

    def _leaves(self) -> list[tuple[Any, int]]:
        """The index's segments, each with the number of its first article."""
        return list(self._searcher.reader().leaf_readers())

    def _matched_words(self, hit: Any) -> set[str]:
        """The words of the query that ``hit`` matched in its text and names (the analysers of
        all these fields make the same terms, so any can be highlighted in the title and body)."""
        searched = {*SEARCHABLE_TEXT_FIELDS, *ENTITY_FIELDS}
        return {term.decode("utf-8") for fieldname, term in hit.matched_terms() if fieldname in searched}

    def _matches(self, hits: list[tuple[int, set[str]]], fieldname: str) -> dict[int, list[tuple[str, int, int]]]:
        """Where the words each hit matched occur in its ``fieldname``: ``(word, start, end)``
        character offsets, read from the index, one pass over a word's postings for all hits."""
        matches: dict[int, list[tuple[str, int, int]]] = {docnum: [] for docnum, _ in hits}
        for leaf, base in self._cached("leaves", self._leaves):
            in_leaf = [(docnum - base, words) for docnum, words in hits if base <= docnum < base + leaf.doc_count_all()]
            for word in set().union(*(words for _, words in in_leaf)):
                if (fieldname, word) not in leaf:
                    continue
                postings = leaf.postings(fieldname, word)  # without a scorer, which costs more than the read
                for docnum in sorted(docnum for docnum, words in in_leaf if word in words):
                    postings.skip_to(docnum)
                    if not postings.is_active():
                        break
                    if postings.id() == docnum:
                        found = postings.value_as("characters")
                        matches[docnum + base].extend((word, start, end) for _position, start, end in found)
        return matches

    def _hits(self, pending: list[_Pending]) -> tuple[Hit, ...]:
        """The hits of a page with their snippets, from ``(rank, docnum, score, the query's
        words it matched, explanation, similar)``."""
        matched = [(docnum, words) for _, docnum, _, words, _, _ in pending]
        body_matches, title_matches = self._matches(matched, "body"), self._matches(matched, "title")
        return tuple(
            self._hit(rank, docnum, score, body_matches[docnum], title_matches[docnum], explanation, similar)
            for rank, docnum, score, _words, explanation, similar in pending
        )

    def _hit(
        self,
        rank: int,
        docnum: int,
        score: float,
        body_matches: list[tuple[str, int, int]],
        title_matches: list[tuple[str, int, int]],
        explanation: tuple[ScorePart, ...],
        similar: tuple[str, ...],
    ) -> Hit:
        fields = self._searcher.stored_fields(docnum)
        body = fields.get("body", "")
        snippet = highlight_matches(body_highlighter(), body, body_matches, top=2)
        if not snippet.spans:
            snippet = leading_snippet(body)
        title = fields.get("title", "")
        title_snippet = highlight_matches(title_highlighter(), title, title_matches, top=1)
        if title_snippet.text != title:  # no match in the title: whole title, nothing marked
            title_snippet = Snippet(title)
        date = fields.get("date")
        return Hit(
            rank=rank,
            score=score,
            id=fields["id"],
            title=title,
            date=date if isinstance(date, datetime) else None,
            url=fields.get("url", ""),
            path=fields.get("path", ""),
            entities=tuple(Entity(name, kind) for name, kind in fields.get("entity_list", ())),
            snippet=snippet,
            title_snippet=title_snippet,
            explanation=explanation,
            similar=similar,
        )


#: A hit before its snippets: rank, document number, score, the query's words it matched,
#: explanation, the ids of its folded copies.
_Pending = tuple[int, int, float, set[str], tuple[ScorePart, ...], tuple[str, ...]]


def _best(scores: np.ndarray, groups: list[np.ndarray], count: int) -> list[int]:
    """The first ``count`` articles: those of the first group by score, best first, then the
    next group's; equal scores in the order of the articles, as Whoosh's collector has them."""
    best: list[int] = []
    for group in groups:
        need = count - len(best)
        if need <= 0:
            break
        candidates = np.flatnonzero(group)
        if candidates.size > need:  # only those that can be among the best, ties at the cut kept
            values = scores[candidates]
            cut = np.partition(values, candidates.size - need)[candidates.size - need]
            candidates = candidates[values >= cut]
        candidates = candidates[np.lexsort((candidates, -scores[candidates]))]
        best.extend(candidates[:need].tolist())
    return best


def _has(sorted_docnums: np.ndarray, docnum: int) -> bool:
    at = int(np.searchsorted(sorted_docnums, docnum))
    return at < sorted_docnums.size and int(sorted_docnums[at]) == docnum


def _count_repeats(query: whoosh_query.Query) -> whoosh_query.Query:
    """A word (or phrase) given twice counts twice, as in BM25's query-term frequency and in
    Lucene: one clause with the boosts added up, where Whoosh's normalising would drop the repeat.
    In a long query, the words it repeats are what it is about."""
    if not isinstance(query, whoosh_query.CompoundQuery):
        return query
    merged: dict[whoosh_query.Query, whoosh_query.Query] = {}
    for sub in query.subqueries:
        sub = _count_repeats(sub)
        key = sub.with_boost(1.0)
        merged[key] = sub if key not in merged else sub.with_boost(merged[key].boost + sub.boost)
    return query.__class__(list(merged.values()), boost=query.boost)


def _across_kinds(query: whoosh_query.Query) -> whoosh_query.Query:
    """The query with each part of it in the ``entities`` field (``entities:rakhmon``, or a field
    weight for it) made an OR of the same part in the field of each kind of entity: the index
    keeps no field of all the names, which would hold each name twice (schema.make_schema)."""
    if query.is_leaf() and query.field() == "entities":
        copies = []
        for kind in ENTITY_FIELDS:
            copy = query.copy()
            copy.fieldname = kind
            copies.append(copy)
        return whoosh_query.Or(copies)
    return query.apply(_across_kinds)


def _term_weights(query: whoosh_query.Query) -> dict[tuple[str, str], float]:
    """The boost of each word of ``query``, by field, the boosts of the groups around it in."""
    weights: dict[tuple[str, str], float] = {}

    def walk(q: whoosh_query.Query, scale: float) -> None:
        if isinstance(q, whoosh_query.Term):
            key = (q.fieldname, q.text)
            weights[key] = weights.get(key, 0.0) + scale * q.boost
        for child in q.children():
            walk(child, scale * q.boost)

    walk(query, 1.0)
    return weights


_SYNTAX_CHARACTERS = re.compile(r'["():\[\]{}^~*?\\]|(?<!\w)[+\-!]')


def plain_query(text: str) -> str:
    """``text`` with nothing the query language would read as syntax: quotes, brackets, colons,
    ``^ ~ * ? + - !`` go, and ``AND``/``OR``/``NOT``/``TO`` become ordinary (stop) words. For text
    typed as a whole, such as test-collection topics; an empty result means no words at all."""
    words = _SYNTAX_CHARACTERS.sub(" ", text).split()
    return " ".join(word.lower() if word in _OPERATORS else word for word in words)


def _require_dates(query: whoosh_query.Query) -> whoosh_query.Query:
    """A ``date:`` clause beside plain words restricts them: "grain date:1987" means grain
    articles of 1987, not grain articles or anything from 1987."""
    if not isinstance(query, whoosh_query.Or):
        return query
    dates = [q for q in query.subqueries if isinstance(q, whoosh_query.DateRange)]
    others = [q for q in query.subqueries if not isinstance(q, whoosh_query.DateRange)]
    if not dates or not others:
        return query
    words = others[0] if len(others) == 1 else whoosh_query.Or(others, boost=query.boost)
    return whoosh_query.And([words, *dates])


def _exclude_nots(query: whoosh_query.Query) -> whoosh_query.Query:
    """Make ``NOT x`` exclude inside an OR group too, as it does in Lucene.

    Whoosh reads "tajik NOT russia" under an OR group as "tajik OR (anything but russia)",
    which matches nearly everything. Here the negated clauses of an OR are pulled out of it:
    ``Or(a, b, Not(c))`` becomes ``AndNot(Or(a, b), c)``.
    """
    query = query.apply(_exclude_nots)
    if not isinstance(query, whoosh_query.Or):
        return query
    negated = [q.query for q in query.subqueries if isinstance(q, whoosh_query.Not)]
    if not negated:
        return query
    kept = [q for q in query.subqueries if not isinstance(q, whoosh_query.Not)]
    positive = whoosh_query.Or(kept, boost=query.boost) if kept else whoosh_query.Every()
    return whoosh_query.AndNot(positive, whoosh_query.Or(negated))


SORTS = ("relevance", "newest", "oldest")
PERIODS = ("year", "month", "day")


def _period_start(moment: datetime, by: str) -> date:
    day = moment.date()
    return day.replace(month=1, day=1) if by == "year" else day.replace(day=1) if by == "month" else day


def _period_label(start: date, by: str) -> str:
    return f"{start:%Y}" if by == "year" else f"{start:%Y-%m}" if by == "month" else f"{start:%Y-%m-%d}"


def _periods_between(first: date | None, last: date | None, by: str) -> Iterator[date]:
    current = first
    while current is not None and last is not None and current <= last:
        yield current
        if by == "day":
            current += timedelta(days=1)
        elif by == "month":
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            current = current.replace(year=current.year + 1)


def _all_of(queries: list[whoosh_query.Query | None]) -> whoosh_query.Query | None:
    present = [q for q in queries if q is not None]
    return whoosh_query.And(present) if len(present) > 1 else (present[0] if present else None)


def _date_range(since: date | str | None, until: date | str | None) -> whoosh_query.Query | None:
    """The span from the start of ``since`` to the end of ``until``; ``None`` for no limit."""
    if since is None and until is None:
        return None
    start = None if since is None else _period(since, "since")[0]
    end = None if until is None else _period(until, "until")[1]
    if start is not None and end is not None and start > end:
        raise InvalidOptionError(f"The date span is empty: since {start:%Y-%m-%d} is after until {end:%Y-%m-%d}")
    return whoosh_query.DateRange("date", start, end)


def _period(value: date | str, name: str) -> tuple[datetime, datetime]:
    if isinstance(value, datetime):
        return value, value
    if isinstance(value, date):
        return datetime.combine(value, time.min), datetime.combine(value, time.max)
    try:
        return parse_period(value)
    except ValueError as error:
        raise InvalidOptionError(f"{name}: {error}") from None


SEARCHABLE_FIELDS = frozenset(
    {*SEARCHABLE_TEXT_FIELDS, *ENTITY_FIELDS, *FIELD_ALIASES, "url", "path", "id", "date"}
)
_DATE_CLAUSE = re.compile(r'(?<![\w:])date:(\[[^\]]*\]?|"[^"]*"?|[^\s()]+)', re.IGNORECASE)
_RANGE_TO = re.compile(r"(?:^|\s+)to(?:\s+|$)", re.IGNORECASE)


def _take_date_clauses(text: str) -> tuple[str, dict[str, whoosh_query.Query]]:
    """Replace each ``date:`` clause by a placeholder term, and read its period.

    Whoosh's own date parsing reads "2012-01" as the whole year and drops what it cannot read,
    so searchlib reads dates itself (``dates.parse_period``) and puts the ranges back after
    Whoosh has parsed the rest.
    """
    ranges: dict[str, whoosh_query.Query] = {}

    def replace(match: re.Match[str]) -> str:
        value, position = match.group(1), match.start()
        placeholder = f"searchlibdate{len(ranges)}"
        try:
            if value.startswith("["):
                if not value.endswith("]"):
                    raise ValueError("Unclosed '[' in a date range: add ']', as in date:[2012-01 to 2012-06]")
                ends = _RANGE_TO.split(value[1:-1].strip())
                if len(ends) != 2:
                    raise ValueError("A date range needs 'to' between its ends, as in date:[2012-01 to 2012-06]")
                start = parse_period(ends[0])[0] if ends[0].strip() else None
                end = parse_period(ends[1])[1] if ends[1].strip() else None
            else:
                start, end = parse_period(value.strip('"'))
        except ValueError as error:
            raise QuerySyntaxError(f"{error} (at position {position + 1} of the query)", query=text, position=position) from None
        ranges[placeholder] = whoosh_query.DateRange("date", start, end)
        return f"id:{placeholder}"

    return _DATE_CLAUSE.sub(replace, text), ranges


_PLAIN_WORD = re.compile(r"[^\W_]+")
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"})
# Words a user typed: not field names ("title:"), not inside date clauses or ranges.
_SUGGESTABLE_WORD = re.compile(r"(?<![\w*~^\[])[^\W\d_][\w'’]*(?![\w:*~\]])(?!\S*\])")

_QUERY_TOKEN = re.compile(r'"[^"]*"?|[()]|[^\s()"]+')
_FIELD_PREFIX = re.compile(r"([A-Za-z_]\w*):(.*)", re.DOTALL)
_BINARY = frozenset({"AND", "OR", "ANDNOT", "ANDMAYBE"})


def check_query_syntax(text: str, fields: list[str]) -> None:
    """Raise ``QuerySyntaxError`` for what Whoosh's forgiving parser would silently drop.

    Raises:
        QuerySyntaxError: an empty query, an unclosed quote or parenthesis, an operator missing
            a side, or a ``field:`` Whoosh does not know.
    """

    def fail(message: str, position: int) -> QuerySyntaxError:
        return QuerySyntaxError(f"{message} (at position {position + 1} of the query)", query=text, position=position)

    if not text.strip():
        raise QuerySyntaxError("The query is empty: give at least one word to search for", query=text)
    open_parens: list[int] = []
    need_operand: tuple[str, int] | None = None  # the operator still waiting for its right side
    have_operand = False  # something that an AND/OR can follow
    tokens = list(_QUERY_TOKEN.finditer(text))
    for index, match in enumerate(tokens):
        token, position = match.group(), match.start()
        if token.startswith('"') and (len(token) == 1 or not token.endswith('"')):
            raise fail('Unclosed quote: add the closing "', position)
        if token == "(":
            open_parens.append(position)
            have_operand = False
            continue
        if token == ")":
            if not open_parens:
                raise fail("Unmatched ')': remove it or add '(' before it", position)
            if need_operand:
                raise fail(f"'{need_operand[0]}' needs a word after it", need_operand[1])
            open_parens.pop()
            have_operand = True
            continue
        if token in _BINARY:
            if not have_operand or need_operand:
                raise fail(f"'{token}' needs a word before it", position)
            need_operand, have_operand = (token, position), False
            continue
        if token == "NOT":
            need_operand, have_operand = (token, position), False
            continue
        field = _FIELD_PREFIX.match(token)
        if field and not token.startswith("http"):
            name, rest = field.groups()
            if name not in fields:
                known = ", ".join(sorted(f for f in fields if f in SEARCHABLE_FIELDS))
                raise fail(f"Unknown field '{name}:'; the fields are {known}", position)
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            attached = following is not None and following.start() == match.end() and following.group()[0] in '("'
            if not rest and not attached:
                raise fail(f"'{name}:' needs a word right after it, as in {name}:word", position)
            if not rest:
                continue  # the group or phrase that follows is the operand
        need_operand, have_operand = None, True
    if need_operand:
        raise fail(f"'{need_operand[0]}' needs a word after it", need_operand[1])
    if open_parens:
        raise fail("Unclosed '(': add the closing ')'", open_parens[-1])
