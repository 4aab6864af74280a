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
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
from whoosh import index as whoosh_index
from whoosh import query as whoosh_query
from whoosh import scoring
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup
from whoosh.searching import Searcher

from .errors import IndexCorruptError, QuerySyntaxError, SearchlibError
from .models import Hit, SearchResult, Snippet
from .schema import SEARCH_FIELDS, current_generation, read_metadata, rebuild_hint
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

    def search(self, query: str, *, limit: int = 10, page: int = 1) -> SearchResult:
        """Search the index.

        Args:
            query: words, ``"phrases"``, ``AND``/``OR``/``NOT``, ``field:word`` (fields: title,
                body, caption, entities, url, path, id, date).
            limit: hits per page, at least 1.
            page: which page of hits, from 1.

        Returns:
            ``SearchResult`` with the exact total and the hits of the page.

        Raises:
            QuerySyntaxError: the query cannot be parsed; the message gives the position.
            ValueError: ``limit`` or ``page`` is below 1.
        """
        if limit < 1 or page < 1:
            raise ValueError(f"limit and page must be at least 1, not {limit} and {page}")
        all_words, any_word = self._parse(query)
        offset, wanted = (page - 1) * limit, page * limit
        searcher = self._searcher
        first = searcher.search(all_words, limit=wanted, terms=True)
        passes = [first]
        total = len(first)
        if any_word is not None:
            masked = first.docs()
            rest = searcher.search(any_word, limit=max(wanted - total, 1), mask=masked, terms=True)
            passes.append(rest)
            # Not len(rest): Whoosh counts that without the mask.
            total = len(masked | set(searcher.docs_for_query(any_word)))
        ranked = [(results, hit) for results in passes for hit in results]
        hits = [
            self._hit(rank, results, hit)
            for rank, (results, hit) in enumerate(ranked[offset:wanted], start=offset + 1)
        ]
        return SearchResult(query=query, total=total, hits=tuple(hits))

    def _parse(self, text: str) -> tuple[whoosh_query.Query, whoosh_query.Query | None]:
        """The "all words" query, and the "any word" one when it differs."""
        schema = self._whoosh.schema
        check_query_syntax(text, schema.names())
        parsed = []
        for group in (AndGroup, OrGroup):
            parser = MultifieldParser(list(SEARCH_FIELDS), schema, fieldboosts=SEARCH_FIELDS, group=group)
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
            entities=[name for name in fields.get("entities", "").split("\n") if name],
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
                known = ", ".join(sorted(f for f in fields if f != "digest"))
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
