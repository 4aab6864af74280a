"""The query language: text as a person types it, into the queries matching.py evaluates.

Whoosh's parser reads the syntax (``"phrases"``, ``AND``/``OR``/``NOT``, ``field:word``,
``(groups)``, ``prefix*``, ``fuzzy~``), behind ``read_query``, which walks the text first and
reads ``-word`` as ``NOT word``, as web search engines do. By
default any text is a query, as in a search box: what the syntax cannot mean is read as words and
the result says how (``ParsedQuery.notices``): an unknown ``word:`` is a word, an unclosed quote
or parenthesis is closed, a stray ``)`` dropped, an operator without a word on each side is a
word, a ``?`` ending a word is a question mark, not a wildcard, and a date that cannot be read is
words. With ``strict`` each of these is a ``QuerySyntaxError`` naming the position, for programs
that want to know.

Dates are read here (``dates.parse_period``: "2012-04" is April, not all 2012 as Whoosh reads
it), taken out before Whoosh parses the rest and put back after. Common words ("what", "which",
"about") are left out of the plain words (common_words.py) unless the query asks for them or has
nothing else, and ``notices`` names them. The parsed query is then rewritten: a ``*`` beside words adds
nothing, a repeated word counts again (BM25's query-term frequency), ``entities:`` searches the
fields of the three kinds, a ``date:`` clause beside words restricts them, and ``NOT`` excludes
inside groups as it does in Lucene.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from typing import Any

import attrs
from whoosh import query as whoosh_query
from whoosh.qparser import AndGroup, FieldAliasPlugin, FuzzyTermPlugin, MultifieldPlugin, OrGroup, QueryParser

from . import common_words
from .analysis import fold_pattern
from .config import SEARCHABLE_TEXT_FIELDS, SPELLED_FIELDS
from .dates import parse_period
from .errors import QuerySyntaxError
from .schema import ENTITY_FIELDS, FIELD_ALIASES

__all__ = ["ParsedQuery", "parse_query", "read_query", "plain_query", "SEARCHABLE_FIELDS", "MAX_QUERY_CHARS", "OPERATORS"]

SEARCHABLE_FIELDS = frozenset({*SEARCHABLE_TEXT_FIELDS, *ENTITY_FIELDS, *FIELD_ALIASES, "url", "path", "id", "date"})
#: The longest query read (Lucene's limit is on clauses; this is about 2,000 words).
MAX_QUERY_CHARS = 20_000

OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"})
#: Typographic double quotes, as word processors and phones type them, are quotes: “military base”.
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"'})
_BINARY = frozenset({"AND", "OR", "ANDNOT", "ANDMAYBE"})
_PLAIN_WORD = re.compile(r"[^\W_]+")
_QUERY_TOKEN = re.compile(r'"[^"]*"?|[()]|[^\s()"]+')
_FIELD_PREFIX = re.compile(r"([A-Za-z_]\w*):(.*)", re.DOTALL)
_INNER_COLON = re.compile(r"(?<=\w):")
_EXCLUDED = re.compile(r"-[^\W\d_]")
_QUESTION_MARKS = re.compile(r"(?<=\w)\?+$")
#: A boost or a distance at a word's end (``^2``, ``~1``, ``~``), or after a phrase (a token of its own).
_SUFFIX = re.compile(r"[\^~][^\s\^~]*$")
_VALID_SUFFIX = re.compile(r"\^(?:\d+(?:\.\d+)?|\.\d+)|~\d*")
_DATE_CLAUSE = re.compile(r'(?<![\w:])date:(\[[^\]]*\]?|"[^"]*"?|[^\s()]+)', re.IGNORECASE)
_RANGE_TO = re.compile(r"(?:^|\s+)to(?:\s+|$)", re.IGNORECASE)
_SYNTAX_CHARACTERS = re.compile(r'["():\[\]{}^~*?\\]|(?<!\w)[+\-!]')


@attrs.frozen
class ParsedQuery:
    """A query as parsed: ``all_words`` (the words combined by AND) and ``any_word`` (by OR;
    ``None`` when that is the same query), and how the text was read where it could not be
    read as written."""

    text: str
    all_words: whoosh_query.Query
    any_word: whoosh_query.Query | None
    notices: tuple[str, ...] = ()

    @property
    def has_words(self) -> bool:
        return self.all_words is not whoosh_query.NullQuery

    @property
    def no_words_notice(self) -> str:
        """What a result says when the query has no words to search for, and why."""
        stopped = common_words.unindexed(self.text)  # with no words, an operator was read as one too
        if stopped:
            return f"The query has no words to search for: {common_words.unindexed_reason(stopped)}"
        if _PLAIN_WORD.search(self.text):
            return "The query has no words to search for"
        return "The query has no words to search for, only punctuation"


def parse_query(text: str, schema: object, field_weights: dict[str, float], *, strict: bool = False) -> ParsedQuery:
    """Parse ``text`` for the index of ``schema``, plain words searching ``field_weights``.

    Raises:
        QuerySyntaxError: the query is empty or too long; with ``strict``, also whatever syntax
            it cannot read (the message gives the position); a date range that ends before it
            starts, always.
    """
    text = _printable(text).translate(_QUOTES)
    if not text.strip():
        raise QuerySyntaxError("The query is empty: give at least one word to search for", query=text)
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"The query is {len(text):,} characters long; the most is {MAX_QUERY_CHARS:,}", query=text)
    typed = text.split()
    shouting = common_words.shouting(text)
    unsearched = common_words.unsearched_acronyms(text, shouting=shouting, operators=OPERATORS)
    if all(_PLAIN_WORD.fullmatch(word) for word in typed) and not OPERATORS.intersection(typed):
        words = _parse_words(text, typed, schema, field_weights)
        return attrs.evolve(words, notices=words.notices + unsearched) if words.has_words else words
    notices: list[str] = []
    without_dates, date_ranges = _take_date_clauses(text, strict, notices)
    fields = [*schema.names(), *FIELD_ALIASES]  # type: ignore[attr-defined]
    repaired, repairs = read_query(without_dates, fields, strict=strict)
    notices += repairs
    for leave_out in (True, False):
        parsers = _parsers(schema, field_weights, leave_out=leave_out, shouting=shouting)
        parsed = []
        for parser in parsers:
            try:
                parsed.append(_count_repeats(_everything_within(parser.parse(repaired, normalize=False))).normalize())
            except Exception as exc:  # Whoosh's parser raises few, but any is a syntax error
                if strict:
                    raise QuerySyntaxError(f"Cannot parse the query {text!r}: {exc}", query=text) from exc
                return _as_plain_words(text, schema, field_weights, notices)
        left_out = list(dict.fromkeys(word for parser in parsers for plugin in parser.plugins
                                      if isinstance(plugin, common_words.CommonWords) for word in plugin.left_out))
        if not left_out or _searches_words(parsed[1], date_ranges):
            break  # else nothing but common words (dates, words left out by NOT): search those
    searched = {leaf.text for leaf in parsed[1].leaves() if isinstance(leaf, whoosh_query.Term)}
    left_out = [word for word in left_out if not searched.intersection(common_words.terms_of(word))]  # '"what" what': searched
    if left_out:
        notices.append(common_words.left_out_notice(left_out))
    all_words, any_word = (_rewrite(q, date_ranges) for q in parsed)
    if all_words is not whoosh_query.NullQuery:  # else no_words_notice says it
        notices += unsearched
    return ParsedQuery(text, all_words, None if any_word == all_words else any_word, tuple(notices))


def _printable(text: str) -> str:
    """``text`` with what cannot be searched made harmless: control characters are spaces, lone
    surrogates (from undecodable bytes) the replacement character."""
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text) if _has_controls(text) else text


def _has_surrogates(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


def _has_controls(text: str) -> bool:
    return any(c < " " or "\x7f" <= c <= "\x9f" for c in text)


def _parse_words(text: str, typed: list[str], schema: object, weights: dict[str, float]) -> ParsedQuery:
    """Words and nothing else, the common query: the queries Whoosh's parser would make (a term
    a word and field, boosted by the field's weight), made directly, less the common words
    unless there is nothing else."""
    words: list[tuple[str, whoosh_query.Query]] = []
    for word in typed:
        terms = [
            whoosh_query.Term(field, term, boost=weight)
            for field, weight in weights.items()
            for term in schema[field].process_text(word, mode="query")  # type: ignore[index]
        ]
        if terms:
            words.append((word, terms[0] if len(terms) == 1 else whoosh_query.Or(terms)))
    shouting = common_words.shouting(text)
    common = {word for word, _ in words if common_words.is_common(word, shouting=shouting)}
    notices: tuple[str, ...] = ()
    if common and any(word not in common for word, _ in words):
        notices = (common_words.left_out_notice(list(dict.fromkeys(word for word, _ in words if word in common))),)
        words = [(word, q) for word, q in words if word not in common]
    queries = [q for _, q in words]
    all_words, any_word = (_count_repeats(_across_kinds(group(queries))).normalize() for group in (whoosh_query.And, whoosh_query.Or))
    return ParsedQuery(text, all_words, None if any_word == all_words else any_word, notices)


def _searches_words(query: whoosh_query.Query, date_ranges: dict[str, whoosh_query.Query]) -> bool:
    """Whether ``query`` finds articles by some word: not only by a date clause (its placeholder
    term), a ``*``, nor what NOT leaves out ("what NOT grain" is no query of "everything but")."""
    if isinstance(query, (whoosh_query.Not, whoosh_query.Every)) or query is whoosh_query.NullQuery:
        return False  # "what *": * beside the word left out would be every article
    if isinstance(query, whoosh_query.AndNot):
        return _searches_words(query.a, date_ranges)
    if query.is_leaf():
        return not (isinstance(query, whoosh_query.Term) and query.fieldname == "id" and query.text in date_ranges)
    return any(_searches_words(sub, date_ranges) for sub in query.children())


def _as_plain_words(text: str, schema: object, weights: dict[str, float], notices: list[str]) -> ParsedQuery:
    plain = plain_query(text)
    notices.append("Could not read the query's syntax, so its words were searched")
    parsed = _parse_words(plain, plain.split(), schema, weights) if plain.strip() else None
    if parsed is None:
        return ParsedQuery(text, whoosh_query.NullQuery, None, tuple(notices))
    return attrs.evolve(parsed, text=text, notices=tuple(notices))


class _Parser(QueryParser):
    """Whoosh's parser, except that a word with wildcards in a text field is kept as written
    (folded): Whoosh stems it, and ``*tary`` became ``*tari``, which no written word ends with
    (the engines match it against the words as written, matching.spelled_stems)."""

    def term_query(self, fieldname: str, text: str, termclass: Any, boost: float = 1.0, tokenize: bool = True,
                   removestops: bool = True) -> Any:
        if termclass in (whoosh_query.Wildcard, whoosh_query.Prefix) and fieldname in SPELLED_FIELDS:
            pattern = fold_pattern(text)
            if pattern.strip("*?"):
                return termclass(fieldname, pattern, boost=boost)
        return super().term_query(fieldname, text, termclass, boost, tokenize, removestops)


def _parsers(schema: object, weights: dict[str, float], *, leave_out: bool, shouting: bool) -> tuple[QueryParser, QueryParser]:
    """The query parsers of the "all words" and the "any word" queries, with the plugin that
    leaves out the common words if ``leave_out``."""
    parsers = []
    for group in (AndGroup, OrGroup):
        parser = _Parser(None, schema, group=group)  # Whoosh's MultifieldParser, with our term_query
        if leave_out:
            parser.add_plugin(common_words.CommonWords(shouting=shouting))
        parser.add_plugin(MultifieldPlugin(list(weights), fieldboosts=weights))
        parser.add_plugin(FieldAliasPlugin({field: [alias] for alias, field in FIELD_ALIASES.items()}))
        parser.add_plugin(FuzzyTermPlugin())
        parsers.append(parser)
    return parsers[0], parsers[1]


def read_query(text: str, fields: list[str], *, strict: bool) -> tuple[str, list[str]]:
    """Walk the syntax of ``text``: what Whoosh's forgiving parser would silently drop or
    misread. With ``strict``, raise on the first problem; else repair it and say how.

    Returns:
        The text to parse, and the notices of what was read differently.

    Raises:
        QuerySyntaxError: with ``strict``: an unclosed quote or parenthesis, a stray ``)``, an
            operator missing a side, a ``field:`` Whoosh does not know or without a word.
    """
    notices: list[str] = []
    edits: dict[int, tuple[int, str]] = {}  # start -> (end, replacement)
    appended: list[str] = []

    def problem(message: str, position: int, notice: str) -> None:
        if strict:
            raise QuerySyntaxError(f"{message} (at position {position + 1} of the query)", query=text, position=position)
        notices.append(notice)

    def as_word(token: str, position: int) -> None:
        edits[position] = (position + len(token), token.lower())

    open_parens: list[int] = []
    pending: tuple[str, int] | None = None  # the operator still waiting for its right side
    have_operand = False  # something an AND/OR can follow
    tokens = list(_QUERY_TOKEN.finditer(text))
    for index, found in enumerate(tokens):
        token, position = found.group(), found.start()
        if token.startswith('"'):
            if len(token) == 1 or not token.endswith('"'):
                problem('Unclosed quote: add the closing "', position, f'Closed the quote opened at position {position + 1}')
                appended.append('"')
            pending, have_operand = None, True
            continue
        if token == "(":
            open_parens.append(position)
            have_operand = False
            continue
        if token == ")":
            if not open_parens:
                problem("Unmatched ')': remove it or add '(' before it", position, f"Left out the ')' at position {position + 1}, which closed nothing")
                edits[position] = (position + 1, " ")
                continue
            if pending:
                problem(f"'{pending[0]}' needs a word after it", pending[1], _operator_notice(pending[0]))
                as_word(*pending)
                pending = None
            open_parens.pop()
            have_operand = True
            continue
        if token in _BINARY:
            if not have_operand or pending:
                problem(f"'{token}' needs a word before it", position, _operator_notice(token))
                as_word(token, position)
                pending, have_operand = None, True
                continue
            pending, have_operand = (token, position), False
            continue
        if token == "NOT":
            if pending and pending[0] == "NOT":
                problem("'NOT' needs a word after it", pending[1], _operator_notice("NOT"))
                as_word(*pending)
            pending, have_operand = (token, position), False
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if _EXCLUDED.match(token) or (token == "-" and following is not None and following.start() == found.end()
                                      and following.group()[0] in '"('):
            edits[position] = (position + 1, "NOT ")  # -word, -"phrase", -(group): left out, as web search engines read it
            token, position = token[1:], position + 1
            if not token:
                pending, have_operand = None, False
                continue
        field = _FIELD_PREFIX.match(token)
        if token.startswith(("http://", "https://")):  # a web address: its words
            _neutralise_colons(token, position, edits)
        elif field:
            name, rest = field.groups()
            attached = following is not None and following.start() == found.end() and following.group()[0] in '("'
            if name not in fields:
                known = ", ".join(sorted(f for f in fields if f in SEARCHABLE_FIELDS))
                problem(f"Unknown field '{name}:'; the fields are {known}", position,
                        f"Read '{name}:' as a word: it is no field (the fields are {known})")
                _neutralise_colons(token, position, edits)
            elif not rest and not attached:
                problem(f"'{name}:' needs a word right after it, as in {name}:word", position,
                        f"Read '{name}:' as a word: a field needs a word right after it, as in {name}:word")
                _neutralise_colons(token, position, edits)
            elif _INNER_COLON.search(rest) and not rest.startswith(("[", "{")):
                problem(f"'{name}:' is followed by another field", position,
                        f"Read what follows '{name}:' as words")
                inner = position + len(name) + 1
                _neutralise_colons(rest, inner, edits)
            elif not rest:
                continue  # the group or phrase that follows is the operand
        elif not strict:
            _neutralise_colons(token, position, edits)
        suffix = _SUFFIX.search(token)
        if suffix and not _VALID_SUFFIX.fullmatch(suffix.group()):
            shown = suffix.group()
            problem(f"'{shown}' is no boost or distance: write a number after it, as in grain^2, grain~1 or "
                    '"grain exports"~3', position + suffix.start(),
                    f"Read '{token}' as words: '{shown}' is no boost or distance (grain^2, grain~1)")
            edits.setdefault(position + suffix.start(), (position + suffix.start() + 1, " "))
        if not strict and "?" in token and not _PLAIN_WORD.search(token):  # "military base ?": no one-letter word
            edits[position] = (position + len(token), " ")
        elif not strict and _QUESTION_MARKS.search(token) and token.strip("?*"):
            end = position + len(token)
            start = end - len(_QUESTION_MARKS.search(token).group())  # type: ignore[union-attr]
            edits.setdefault(start, (end, " "))
        pending, have_operand = None, True
    if pending:
        problem(f"'{pending[0]}' needs a word after it", pending[1], _operator_notice(pending[0]))
        as_word(*pending)
    for position in reversed(open_parens):
        problem("Unclosed '(': add the closing ')'", position, f"Closed the '(' opened at position {position + 1}")
        appended.append(")")
    return _apply(text, edits) + "".join(appended), notices


def _operator_notice(operator: str) -> str:
    side = "before and after it" if operator in _BINARY else "after it"
    return f"Read '{operator}' as a word: it needs a word {side}"


def _neutralise_colons(token: str, position: int, edits: dict[int, tuple[int, str]]) -> None:
    """A colon inside a word that is no field separator becomes a space."""
    for colon in _INNER_COLON.finditer(token):
        edits.setdefault(position + colon.start(), (position + colon.end(), " "))


def _apply(text: str, edits: dict[int, tuple[int, str]]) -> str:
    out, last = [], 0
    for start in sorted(edits):
        end, replacement = edits[start]
        if start < last:
            continue
        out += [text[last:start], replacement]
        last = end
    out.append(text[last:])
    return "".join(out)


def plain_query(text: str) -> str:
    """``text`` with nothing the query language would read as syntax: quotes, brackets, colons,
    ``^ ~ * ? + - !`` go, and ``AND``/``OR``/``NOT``/``TO`` become ordinary (stop) words. For
    text typed as a whole, such as test-collection topics; an empty result means no words at all."""
    words = _SYNTAX_CHARACTERS.sub(" ", text).split()
    return " ".join(word.lower() if word in OPERATORS else word for word in words)


def _take_date_clauses(text: str, strict: bool, notices: list[str]) -> tuple[str, dict[str, whoosh_query.Query]]:
    """Replace each ``date:`` clause by a placeholder term, and read its period.

    Whoosh's own date parsing reads "2012-01" as the whole year and drops what it cannot read,
    so searchlib reads dates itself (``dates.parse_period``) and puts the ranges back after
    Whoosh has parsed the rest. A date that cannot be read is searched as words (an error with
    ``strict``); a range that ends before it starts is an error.
    """
    ranges: dict[str, whoosh_query.Query] = {}

    def replace(match: re.Match[str]) -> str:
        value, position = match.group(1), match.start()

        def fail(message: str) -> QuerySyntaxError:
            return QuerySyntaxError(f"{message} (at position {position + 1} of the query)", query=text, position=position)

        try:
            start, end = _date_span(value)
        except ValueError as error:
            if strict:
                raise fail(str(error)) from None
            notices.append(f"Read 'date:{value}' as words: {error}")
            return f"date {value}"
        if start is not None and end is not None and start > end:
            raise fail(f"The date range is empty: it starts {start:%Y-%m-%d}, after its end {end:%Y-%m-%d}; "
                       "put the earlier date first")
        placeholder = f"searchlibdate{len(ranges)}"
        ranges[placeholder] = whoosh_query.DateRange("date", start, end)
        return f"id:{placeholder}"

    return _DATE_CLAUSE.sub(replace, text), ranges


def _date_span(value: str) -> tuple[datetime | None, datetime | None]:
    """The first and last instant of a ``date:`` clause's value (either may be open in a range).

    Raises:
        ValueError: the value cannot be read; the message says how to write it.
    """
    if not value.startswith("["):
        return parse_period(value.strip('"'))
    if not value.endswith("]"):
        raise ValueError("Unclosed '[' in a date range: add ']', as in date:[2012-01 to 2012-06]")
    ends = _RANGE_TO.split(value[1:-1].strip())
    if len(ends) != 2:
        raise ValueError("A date range needs 'to' between its ends, as in date:[2012-01 to 2012-06]")
    start = parse_period(ends[0])[0] if ends[0].strip() else None
    end = parse_period(ends[1])[1] if ends[1].strip() else None
    return start, end


def _rewrite(query: whoosh_query.Query, date_ranges: dict[str, whoosh_query.Query]) -> whoosh_query.Query:
    """Put the date ranges back in place of their placeholders, search ``entities:`` in the
    fields of each kind, make a date clause restrict the words beside it, and NOT exclude."""

    def restore(q: whoosh_query.Query) -> whoosh_query.Query:
        if isinstance(q, whoosh_query.Term) and q.fieldname == "id" and q.text in date_ranges:
            return date_ranges[q.text]
        return q.apply(restore)

    return _exclude_nots(_require_dates(_across_kinds(restore(query))))


def _count_repeats(query: whoosh_query.Query) -> whoosh_query.Query:
    """A word (or phrase) given twice counts twice, as in BM25's query-term frequency and in
    Lucene: one clause with the boosts added up, where Whoosh's normalising would drop the repeat.
    In a long query, the words it repeats are what it is about."""
    if isinstance(query, whoosh_query.BinaryQuery):
        return query.apply(_count_repeats)
    if not isinstance(query, whoosh_query.CompoundQuery):
        return query
    merged: dict[whoosh_query.Query, whoosh_query.Query] = {}
    for sub in query.subqueries:
        sub = _count_repeats(sub)
        key = sub.with_boost(1.0)
        merged[key] = sub if key not in merged else sub.with_boost(merged[key].boost + sub.boost)
    return query.__class__(list(merged.values()), boost=query.boost)


def _everything_within(query: whoosh_query.Query) -> whoosh_query.Query:
    """``grain *`` is grain: a ``*`` (every article) beside other parts of an AND or an OR is
    dropped. Whoosh's normalising made the group the ``*``: every article, all scored alike."""
    if query.is_leaf():
        return query
    query = query.apply(_everything_within)
    if isinstance(query, (whoosh_query.And, whoosh_query.Or)):
        parts = [(q, q.normalize()) for q in query.subqueries]
        words = [q for q, normal in parts if normal is not whoosh_query.NullQuery and not isinstance(normal, whoosh_query.Every)]
        if words and any(isinstance(normal, whoosh_query.Every) for _, normal in parts):
            return query.__class__(words, boost=query.boost)  # not beside a stop word alone: "the *" is *
    return query


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
    which matches nearly everything. Here the negated clauses of an OR (or an AND) are pulled
    out of it: ``Or(a, b, Not(c))`` becomes ``AndNot(Or(a, b), c)``.
    """
    query = query.apply(_exclude_nots)
    if not isinstance(query, (whoosh_query.Or, whoosh_query.And)):
        return query
    negated = [q.query for q in query.subqueries if isinstance(q, whoosh_query.Not)]
    if not negated:
        return query
    kept = [q for q in query.subqueries if not isinstance(q, whoosh_query.Not)]
    positive = query.__class__(kept, boost=query.boost) if kept else whoosh_query.Every()
    return whoosh_query.AndNot(positive, whoosh_query.Or(negated))

