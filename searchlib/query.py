"""Open an index and search it: query parsing, ranking, and copying results into ``Hit`` values.

Ranking is Whoosh's BM25F over the text fields of ``schema.SEARCH_FIELDS`` with their weights
(the title counts twice the body). Plain words are combined the way news searchers expect: an
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
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
from whoosh import index as whoosh_index
from whoosh import query as whoosh_query
from whoosh import scoring, sorting
from whoosh.qparser import AndGroup, FieldAliasPlugin, MultifieldParser, OrGroup
from whoosh.searching import Searcher

from .errors import IndexCorruptError, QuerySyntaxError, SearchlibError
from .models import Entity, FacetValue, Hit, SearchResult, Snippet
from .schema import (
    ENTITY_FIELDS,
    FIELD_ALIASES,
    SEARCH_FIELDS,
    current_generation,
    facet_field,
    read_metadata,
    rebuild_hint,
)
from .snippets import body_highlighter, leading_snippet, title_highlighter

__all__ = ["Index", "check_query_syntax"]


@attrs.define
class Index:
    """An open index. Use as a context manager, or call ``close()``.

    Example:
        >>> with Index.open("indexes/main") as index:           # doctest: +SKIP
        ...     result = index.search("military base", limit=10)
    """

    path: Path
    generation: Path
    _whoosh: Any = attrs.field(repr=False)
    _searcher: Searcher = attrs.field(repr=False)

    @classmethod
    def open(cls, path: Path | str) -> Index:
        """Open the live generation of the index at ``path``.

        Raises:
            IndexNotFoundError: nothing was built there.
            IndexVersionError: it was built by an incompatible searchlib; rebuild it.
            IndexCorruptError: its files cannot be read.
        """
        path = Path(path)
        generation = current_generation(path)
        try:
            whoosh = whoosh_index.open_dir(str(generation))
            searcher = whoosh.searcher(weighting=scoring.BM25F())
        except SearchlibError:
            raise
        except Exception as exc:  # Whoosh raises many kinds here, pickle errors among them
            raise IndexCorruptError(
                f"Cannot open the index at '{path}' ({type(exc).__name__}: {exc}). "
                f"Rebuild it with: {rebuild_hint(path)}",
                path=path,
            ) from exc
        return cls(path, generation, whoosh, searcher)

    def close(self) -> None:
        """Release the index files."""
        self._searcher.close()
        self._whoosh.close()

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
        person: str | Iterable[str] = (),
        place: str | Iterable[str] = (),
        organization: str | Iterable[str] = (),
        facets: bool = False,
        facet_limit: int = 10,
    ) -> SearchResult:
        """Search the index.

        Args:
            query: words, ``"phrases"``, ``AND``/``OR``/``NOT``, ``field:word`` (fields: title,
                body, caption, entities or entity, person, organization or org, place, url,
                path, id, date).
            limit: hits per page, at least 1.
            page: which page of hits, from 1.
            person, place, organization: only articles that mention these entities (a name or
                several, all required; any part of a name, any known alias, any case).
            facets: also count the entities of each kind across all matching articles.
            facet_limit: how many entities of each kind to count in.

        Returns:
            ``SearchResult`` with the exact total, the hits of the page and, if asked, facets.

        Raises:
            QuerySyntaxError: the query cannot be parsed; the message gives the position.
            ValueError: ``limit`` or ``page`` is below 1.
        """
        if limit < 1 or page < 1:
            raise ValueError(f"limit and page must be at least 1, not {limit} and {page}")
        all_words, any_word = self._parse(query)
        restrict = self._entity_filter({"person": person, "place": place, "organization": organization})
        offset, wanted = (page - 1) * limit, page * limit
        searcher = self._searcher
        # Counted here, not with len(results): Whoosh's count ignores filters and masks once
        # its collector has skipped blocks of a large index.
        allowed = None if restrict is None else set(searcher.docs_for_query(restrict))
        if allowed is not None and not allowed:  # Whoosh reads an empty filter as no filter
            empty: dict[str, tuple[FacetValue, ...]] = {kind: () for kind in ENTITY_FIELDS} if facets else {}
            return SearchResult(query=query, total=0, hits=(), facets=empty)

        def matching(q: whoosh_query.Query) -> set[int]:
            ids = set(searcher.docs_for_query(q))
            return ids if allowed is None else ids & allowed

        with_all_words = matching(all_words)
        passes = [searcher.search(all_words, limit=wanted, terms=True, filter=allowed)]
        total = len(with_all_words)
        if any_word is not None:
            rest = max(wanted - total, 1)
            passes.append(searcher.search(any_word, limit=rest, mask=with_all_words, filter=allowed, terms=True))
            total = len(matching(any_word))
        ranked = [(results, hit) for results in passes for hit in results]
        hits = [
            self._hit(rank, results, hit)
            for rank, (results, hit) in enumerate(ranked[offset:wanted], start=offset + 1)
        ]
        counted = self._facets(any_word or all_words, allowed, facet_limit) if facets else {}
        return SearchResult(query=query, total=total, hits=tuple(hits), facets=counted)

    def _entity_filter(self, wanted: dict[str, str | Iterable[str]]) -> whoosh_query.Query | None:
        """All the named entities, each as a phrase of its analysed words in its kind's field."""
        clauses = []
        for kind, names in wanted.items():
            for name in [names] if isinstance(names, str) else names:
                analyzer = self._whoosh.schema[kind].analyzer
                words = [token.text for token in analyzer(name)]
                if not words:
                    raise ValueError(f"The {kind} filter {name!r} has no words to match")
                clauses.append(whoosh_query.Term(kind, words[0]) if len(words) == 1 else whoosh_query.Phrase(kind, words))
        return whoosh_query.And(clauses) if clauses else None

    def _facets(self, query: whoosh_query.Query, allowed: set[int] | None, top: int) -> dict[str, tuple[FacetValue, ...]]:
        """The most mentioned entities of each kind over every article the query matches."""
        groups = {
            kind: sorting.FieldFacet(facet_field(kind), allow_overlap=True, maptype=sorting.Count)
            for kind in ENTITY_FIELDS
        }
        results = self._searcher.search(query, limit=1, filter=allowed, groupedby=groups)
        counted = {}
        for kind in ENTITY_FIELDS:
            counts = {name: count for name, count in results.groups(kind).items() if name}
            best = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
            counted[kind] = tuple(FacetValue(name, count) for name, count in best)
        return counted

    def _parse(self, text: str) -> tuple[whoosh_query.Query, whoosh_query.Query | None]:
        """The "all words" query, and the "any word" one when it differs."""
        schema = self._whoosh.schema
        check_query_syntax(text, [*schema.names(), *FIELD_ALIASES])
        parsed = []
        for group in (AndGroup, OrGroup):
            parser = MultifieldParser(list(SEARCH_FIELDS), schema, fieldboosts=SEARCH_FIELDS, group=group)
            parser.add_plugin(FieldAliasPlugin({field: [alias] for alias, field in FIELD_ALIASES.items()}))
            try:
                parsed.append(parser.parse(text))
            except Exception as exc:  # Whoosh's parser raises few, but any is a syntax error
                raise QuerySyntaxError(f"Cannot parse the query {text!r}: {exc}", query=text) from exc
        all_words, any_word = (_exclude_nots(q) for q in parsed)
        return all_words, (None if any_word == all_words else any_word)

    def _hit(self, rank: int, results: Any, hit: Any) -> Hit:
        fields = hit.fields()
        body = fields.get("body", "")
        snippet = body_highlighter().highlight_hit(hit, "body", top=2, minscore=1)
        if not snippet.spans:
            snippet = leading_snippet(body)
        title = fields.get("title", "")
        title_snippet = title_highlighter().highlight_hit(hit, "title", top=1, minscore=1)
        if title_snippet.text != title:  # no match in the title: whole title, nothing marked
            title_snippet = Snippet(title)
        date = fields.get("date")
        return Hit(
            rank=rank,
            score=float(hit.score or 0.0),
            id=fields["id"],
            title=title,
            date=date if isinstance(date, datetime) else None,
            url=fields.get("url", ""),
            path=fields.get("path", ""),
            entities=tuple(Entity(name, kind) for name, kind in fields.get("entity_list", ())),
            snippet=snippet,
            title_snippet=title_snippet,
        )


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


SEARCHABLE_FIELDS = frozenset(
    {*SEARCH_FIELDS, *ENTITY_FIELDS, *FIELD_ALIASES, "url", "path", "id", "date"}
)
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
