"""Matching and scoring a parsed query over a whole snapshot at once, in numpy.

A query (Whoosh's query objects, as query_language.py makes them) is evaluated into a ``Match``:
which articles it matches, as a boolean array over all document numbers, and each article's
BM25 score, as a float array. A term is its posting list (scoring.TermPostings, read once per
snapshot); AND, OR and NOT are array operations; a phrase is checked on positions by Whoosh, then
scored as its words; a date range is a comparison on the date column. Whoosh's own matchers,
which score one article at a time in Python, are used for positions only.

Words that stand for many terms (``co*``, ``*ing``, ``volker~``, ``title:[a to c]``) are
expanded here, over the spelling vocabulary or the field's terms, to at most ``MAX_EXPANSIONS``
terms for the whole query (Lucene's 1,024 clauses) and ``MAX_EXPANDED_POSTINGS`` postings (what
reading them costs): the terms in the most articles first, or for
a fuzzy word the nearest spellings first (at most ``MAX_FUZZY`` of them, Elasticsearch's
``max_expansions``). A query cut that way says so in ``Match.notices``. Fuzzy terms score as
Lucene's blended rewrite scores them: each with the idf of the most frequent of them, times how
alike it is to the word typed, so that a common correct spelling outranks rare look-alikes.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs
import numpy as np
from whoosh import query as whoosh_query

from .analysis import fold, fold_pattern
from .config import SPELLED_FIELDS
from .dates import microseconds
from .snapshot import UNDATED, Snapshot

__all__ = ["Match", "match", "match_both", "words_within", "fuzzy_weights", "is_spelled", "spelled_stems", "choose_expansions",
           "multi_term_queries", "matching_terms", "literal_start", "MAX_EXPANSIONS", "MAX_EXPANDED_POSTINGS", "MAX_FUZZY", "Leaf",
           "PhraseLeaf"]

logger = logging.getLogger(__name__)

#: Terms that words with wildcards, fuzzy words and ranges may stand for, in one query.
MAX_EXPANSIONS = 256
#: Postings those terms may have in all, about 0.3 s of reading the first time (a wildcard that
#: stands for the thousand most common words of Reuters would read a million postings, 1.5 s).
MAX_EXPANDED_POSTINGS = 250_000
#: The fields whose wildcards match the words as written (they share the analysis of the text).
#: Spellings a fuzzy word may stand for (Elasticsearch's ``max_expansions``).
MAX_FUZZY = 50
#: The most edits a fuzzy word may be away from what it matches (Lucene's limit).
MAX_EDITS = 2
#: How much less a fuzzy word's match counts for each edit away from the word typed.
FUZZY_EDIT = 0.2

#: A term a query searches, as scored: field, term and the weight (boosts) it counts with.
Leaf = tuple[str, str, float]


class PhraseLeaf(tuple[str, str, float]):
    """A ``Leaf`` searched as a word of a phrase: to ranking and explanations a leaf like any
    other; snippets mark it only where it occurs in ``words``, the phrase's terms in order, each
    within ``slop`` positions of the one before."""

    words: tuple[str, ...] = ()
    slop: int = 1

    @classmethod
    def of(cls, leaf: Leaf, words: Iterable[str], slop: int) -> PhraseLeaf:
        made = cls(leaf)
        made.words, made.slop = tuple(words), slop
        return made


@attrs.frozen
class Match:
    """What a query matches: ``mask`` (which articles) and ``scores`` (BM25, 0 where not
    matched), the terms it searched in positive positions (``leaves``, for highlighting and
    explanations, with how each was scaled if not plainly), and what it had to cut (``notices``)."""

    mask: np.ndarray
    scores: np.ndarray
    leaves: tuple[Leaf, ...] = ()
    scaled: dict[tuple[str, str], float] = attrs.field(factory=dict)
    notices: tuple[str, ...] = ()


def match(snapshot: Snapshot, query: whoosh_query.Query) -> Match:
    """Evaluate ``query`` over every article of ``snapshot``."""
    evaluation = _Evaluation(snapshot, query)
    mask, scores = evaluation.evaluate(query, 1.0)
    mask &= snapshot.live()
    scores[~mask] = 0.0
    return Match(mask, scores, tuple(evaluation.leaves), evaluation.scaled, tuple(evaluation.notices))


def match_both(snapshot: Snapshot, all_words: whoosh_query.Query, any_word: whoosh_query.Query | None) -> tuple[np.ndarray, Match]:
    """The articles with all the words, and the ``Match`` of any word (of all, when ``any_word``
    is ``None``). Where the two are the same words joined by AND and by OR, as a query of plain
    words is, the words are added up once and the articles with all of them counted off."""
    if any_word is None:
        everything = match(snapshot, all_words)
        return everything.mask, everything
    if (isinstance(all_words, whoosh_query.And) and isinstance(any_word, whoosh_query.Or)
            and all_words.subqueries == any_word.subqueries and all_words.boost == any_word.boost
            and not any(isinstance(q, whoosh_query.Not) for q in any_word.subqueries)):
        evaluation = _Evaluation(snapshot, any_word)
        found, scores = evaluation.counted(any_word, 1.0)
        live = snapshot.live()
        mask = (found > 0) & live
        scores[~mask] = 0.0
        everything = Match(mask, scores, tuple(evaluation.leaves), evaluation.scaled, tuple(evaluation.notices))
        return (found >= len(any_word.subqueries)) & live, everything
    return match(snapshot, all_words).mask, match(snapshot, any_word)


_SCORED_KINDS = frozenset({"text", "title", "caption", "body", "entities", "person", "organization", "place"})


class _Evaluation:
    """One query's evaluation: the arrays, the leaves met, the expansions' budget and notices."""

    def __init__(self, snapshot: Snapshot, query: whoosh_query.Query) -> None:
        self.snapshot = snapshot
        self.size = snapshot.size
        self.postings = snapshot.postings()
        self.leaves: list[Leaf] = []
        self.scaled: dict[tuple[str, str], float] = {}
        self.notices: list[str] = []
        multi = list(multi_term_queries(query))
        self.share = MAX_EXPANSIONS // max(len(multi), 1)  # each such word's part of the budgets
        self.postings_share = MAX_EXPANDED_POSTINGS // max(len(multi), 1)

    def empty(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(self.size, dtype=bool), np.zeros(self.size)

    def evaluate(self, q: whoosh_query.Query, boost: float, positive: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The articles ``q`` matches and their scores, scaled by ``boost`` (the boosts of the
        groups around it); ``positive`` is false under a NOT, where terms score nothing."""
        boost *= q.boost
        if isinstance(q, whoosh_query.Term):
            return self.terms([(q.fieldname, q.text, 1.0)], boost, positive)
        if isinstance(q, (whoosh_query.And, whoosh_query.Or)):
            return self.compound(q, boost, positive)
        if isinstance(q, whoosh_query.AndNot):
            mask, scores = self.evaluate(q.a, boost, positive)
            excluded, _ = self.evaluate(q.b, 1.0, False)
            return mask & ~excluded, scores
        if isinstance(q, whoosh_query.AndMaybe):
            mask, scores = self.evaluate(q.a, boost, positive)
            maybe, more = self.evaluate(q.b, boost, positive)
            return mask, scores + np.where(mask, more, 0.0)
        if isinstance(q, whoosh_query.Require):
            mask, scores = self.evaluate(q.a, boost, positive)
            required, _ = self.evaluate(q.b, 1.0, False)
            return mask & required, scores
        if isinstance(q, whoosh_query.Not):
            excluded, _ = self.evaluate(q.query, 1.0, False)
            return self.snapshot.live() & ~excluded, np.zeros(self.size)
        if isinstance(q, whoosh_query.Phrase):
            return self.phrase(q, boost, positive)
        if isinstance(q, whoosh_query.DateRange):
            return self.dates(q)
        if isinstance(q, whoosh_query.FuzzyTerm):
            return self.fuzzy(q, boost, positive)
        if isinstance(q, whoosh_query.Wildcard) and not q.text.strip("*"):
            q = whoosh_query.Every()  # "*": every article, not every word
        if isinstance(q, (whoosh_query.Prefix, whoosh_query.Wildcard, whoosh_query.Regex, whoosh_query.TermRange)):
            return self.expanded(q, boost, positive)
        if isinstance(q, whoosh_query.Every):  # scored 1 each, as Lucene's MatchAllDocsQuery
            live = self.snapshot.live()
            return live.copy(), np.where(live, boost if positive else 0.0, 0.0)
        if q is whoosh_query.NullQuery or isinstance(q, type(whoosh_query.NullQuery)):
            return self.empty()
        logger.info("matching %r with Whoosh's matcher: no score", q)
        return self._whoosh_matches(q), np.zeros(self.size)

    def terms(self, terms: list[tuple[str, str, float]], boost: float, positive: bool) -> tuple[np.ndarray, np.ndarray]:
        """The articles with any of ``terms`` (field, term, scale) and the sum of their parts."""
        mask, scores = self.empty()
        for field, term, scale in terms:
            docs, parts = self.postings.postings(field, term)
            mask[docs] = True
            if positive and field in _SCORED_KINDS:
                scores[docs] += parts * (boost * scale)
                self.leaves.append((field, term, boost))
                if scale != 1.0:
                    self.scaled[field, term] = scale
        return mask, scores

    def compound(self, q: whoosh_query.CompoundQuery, boost: float, positive: bool) -> tuple[np.ndarray, np.ndarray]:
        """AND and OR: how many of the clauses each article matches, added up clause by clause
        (a word's postings straight into the sums, no array of its own); NOT clauses exclude."""
        found, scores, excluded, needed = self._count(q, boost, positive)
        if isinstance(q, whoosh_query.And):
            mask = found >= needed if needed else self.snapshot.live().copy()
        else:
            mask = found > 0 if needed else np.zeros(self.size, dtype=bool)
        return mask & ~excluded, scores

    def counted(self, q: whoosh_query.CompoundQuery, boost: float) -> tuple[np.ndarray, np.ndarray]:
        """How many of the clauses of ``q`` (with no NOT among them) each article matches, and
        the scores."""
        found, scores, _, _ = self._count(q, boost * q.boost, True)
        return found, scores

    def _count(self, q: whoosh_query.CompoundQuery, boost: float, positive: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        found = np.zeros(self.size, dtype=np.int32)
        scores = np.zeros(self.size)
        excluded = np.zeros(self.size, dtype=bool)
        needed = 0
        for sub in q.subqueries:
            if isinstance(sub, whoosh_query.Not):
                excluded |= self.evaluate(sub.query, 1.0, False)[0]
                continue
            needed += 1
            if isinstance(sub, whoosh_query.Term):  # the usual clause: added in place
                docs, parts = self.postings.postings(sub.fieldname, sub.text)
                found[docs] += 1
                if positive and sub.fieldname in _SCORED_KINDS:
                    scores[docs] += parts * (boost * sub.boost)
                    self.leaves.append((sub.fieldname, sub.text, boost * sub.boost))
                continue
            mask, more = self.evaluate(sub, boost, positive)
            found += mask
            scores += more
        return found, scores, excluded, needed

    def phrase(self, q: whoosh_query.Phrase, boost: float, positive: bool) -> tuple[np.ndarray, np.ndarray]:
        """Articles with the words in order (within ``slop``), checked on positions by Whoosh
        among the articles that have them all; scored as the words."""
        mask = self._whoosh_matches(q.with_boost(1.0))
        first = len(self.leaves)
        _, scores = self.terms([(q.fieldname, word, 1.0) for word in dict.fromkeys(q.words)], boost, positive)
        self.leaves[first:] = [PhraseLeaf.of(leaf, q.words, q.slop) for leaf in self.leaves[first:]]
        return mask, np.where(mask, scores, 0.0)

    def _whoosh_matches(self, q: whoosh_query.Query) -> np.ndarray:
        """The articles Whoosh's own matcher finds for ``q`` (none, where Whoosh cannot match it:
        a phrase in a field without positions, words a date field cannot hold)."""
        mask, _ = self.empty()
        try:
            mask[np.fromiter(self.snapshot.searcher.docs_for_query(q), dtype=np.int64)] = True
        except Exception as exc:  # noqa: BLE001 (Whoosh raises bare Exception and many kinds)
            logger.info("no articles for %r: Whoosh cannot match it (%s: %s)", q, type(exc).__name__, exc)
            mask[:] = False
        return mask

    def dates(self, q: whoosh_query.DateRange) -> tuple[np.ndarray, np.ndarray]:
        dates = self.snapshot.dates()
        mask = dates != UNDATED
        if q.startdate is not None:
            mask &= dates >= microseconds(q.startdate)
        if q.enddate is not None:
            mask &= dates <= microseconds(q.enddate)
        return mask, np.zeros(self.size)

    def expanded(self, q: whoosh_query.Query, boost: float, positive: bool) -> tuple[np.ndarray, np.ndarray]:
        """A word with wildcards, or a range: the terms it stands for, as an OR; the terms in the
        most articles first, as many as its share of ``MAX_EXPANSIONS`` terms and of
        ``MAX_EXPANDED_POSTINGS`` postings allows.

        In the text fields a wildcard is matched against the words as written (the spelling
        vocabulary, which a search has loaded anyway), then searched by their stems: ``milit*``
        is "military", "militia", "militants"; elsewhere, and for ranges, against the field's
        terms."""
        field = q.fieldname
        if is_spelled(q):
            found = spelled_stems(self.snapshot, q)
        else:
            terms, frequencies = self.snapshot.terms(field, literal_start(q))
            found = {terms[at]: int(frequencies[at]) for at in matching_terms(q, terms)}
        chosen = choose_expansions(q, found, self.share, self.postings_share, self.notices)
        return self.terms([(field, term, 1.0) for term in chosen], boost, positive)

    def fuzzy(self, q: whoosh_query.FuzzyTerm, boost: float, positive: bool) -> tuple[np.ndarray, np.ndarray]:
        """``militray~``: the terms of the spellings of the index within a few edits of the word
        typed (one for words of three to five letters, two beyond; at most ``MAX_EDITS``), the
        nearest first, then the most frequent, at most ``MAX_FUZZY``.

        As Lucene's TopTermsBlendedFreqScoringRewrite, every term scores with the idf of the most
        frequent of them (a rare misspelling must not outweigh the common word), times a weight
        for how likely it is the word meant: ``FUZZY_EDIT`` to the power of its edits, times its
        frequency on a log scale. So "Volker~" finds the article that says "Volker" and then the
        118 that say "Volcker" before any "Bolger" (two edits), and "coup~" keeps coups ahead of
        the far more frequent "corp"."""
        weights = fuzzy_weights(self.snapshot, q, lambda term: self.postings.idf(q.fieldname, term), self.notices)
        if not weights:
            return self.empty()
        return self.terms([(q.fieldname, term, weight) for term, weight in weights.items()], boost, positive)




def is_spelled(q: whoosh_query.Query) -> bool:
    """Whether the wildcard ``q`` is matched against the words as written (in the text fields),
    not against the field's terms."""
    return q.fieldname in SPELLED_FIELDS and not isinstance(q, whoosh_query.TermRange)


def spelled_stems(source: Any, q: whoosh_query.Query) -> dict[str, int]:
    """The stems of the written words a wildcard matches in ``source``'s spelling vocabulary
    (a snapshot, or an engine's view of one), each with the number of articles its most
    frequent spelling is in."""
    vocabulary = source.vocabulary()
    pattern = fold_pattern(q.text) + ("*" if isinstance(q, whoosh_query.Prefix) else "")
    compiled = re.compile(fnmatch.translate(pattern))
    literal = _literal_prefix(pattern)
    found: dict[str, int] = {}
    at = bisect_left(vocabulary.words, literal)
    while at < len(vocabulary.words) and vocabulary.words[at].startswith(literal):
        word = vocabulary.words[at]
        if compiled.match(word):
            stem = vocabulary.stems[at] or word
            found[stem] = max(found.get(stem, 0), int(vocabulary.counts[at]))
        at += 1
    return found


def choose_expansions(q: whoosh_query.Query, found: dict[str, int], share: int, postings_share: int,
                      notices: list[str]) -> list[str]:
    """The terms of ``found`` (term: articles) a word with wildcards, or a range, is searched
    for: those in the most articles first, as many as ``share`` terms and ``postings_share``
    postings allow, in term order; a notice when some were left out."""
    chosen: list[str] = []
    postings = 0
    for term, frequency in sorted(found.items(), key=lambda item: (-item[1], item[0])):
        if chosen and (len(chosen) >= share or postings + frequency > postings_share):
            break
        chosen.append(term)
        postings += frequency
    if len(chosen) < len(found):
        notices.append(f"'{_shown(q)}' stands for {len(found):,} words; only the {len(chosen):,} in the most articles "
                       "were searched (make it longer to search fewer)")
    return sorted(chosen)


def fuzzy_weights(source: Any, q: whoosh_query.FuzzyTerm, idf: Callable[[str], float],
                  notices: list[str]) -> dict[str, float]:
    """The terms a fuzzy word ``q`` stands for in ``source`` (a snapshot, or an engine's view
    with the same ``vocabulary``, ``schema`` and spellings), each with its weight, as
    ``_Evaluation.fuzzy`` describes; a notice when more spellings were near than were searched.
    ``idf`` gives a term's idf in ``q``'s field."""
    typed = fold(q.text)
    distance = min(MAX_EDITS, max(q.maxdist, 0 if len(typed) <= 2 else 1 if len(typed) <= 5 else 2))
    vocabulary = source.vocabulary()
    near = words_within(source, typed, distance, q.prefixlength)
    ranked = sorted(near.items(), key=lambda item: (item[1], -vocabulary.count(item[0]), item[0]))
    analyzer = source.schema[q.fieldname].analyzer
    nearest: dict[str, tuple[int, int]] = {}  # term -> edits and articles of its nearest spelling
    for word, edits in ranked:
        for token in analyzer(word):
            nearest.setdefault(token.text, (edits, vocabulary.count(word)))
        if len(nearest) >= MAX_FUZZY:
            break
    if len(ranked) > len(nearest) and len(nearest) >= MAX_FUZZY:
        notices.append(f"'{q.text}~' is near {len(ranked):,} spellings; the {MAX_FUZZY} nearest were searched")
    if not nearest:
        return {}
    most = 1 + np.log(max(count for _, count in nearest.values()) or 1)
    idfs = {term: idf(term) for term in nearest}
    blended = min(idfs.values())  # the idf of the term in the most articles
    return {term: float(FUZZY_EDIT ** edits * (1 + np.log(max(count, 1))) / most * blended / idfs[term]) if idfs[term] else 0.0
            for term, (edits, count) in nearest.items()}


def multi_term_queries(query: whoosh_query.Query) -> Iterator[whoosh_query.Query]:
    if isinstance(query, whoosh_query.Wildcard) and not query.text.strip("*"):
        return
    if isinstance(query, (whoosh_query.Prefix, whoosh_query.Wildcard, whoosh_query.Regex, whoosh_query.TermRange)):
        yield query
    for child in query.children():
        yield from multi_term_queries(child)


def matching_terms(q: whoosh_query.Query, terms: list[str]) -> list[int]:
    """The positions in ``terms`` (sorted) of those ``q`` stands for."""
    if isinstance(q, whoosh_query.Prefix):
        start = bisect_left(terms, q.text)
        end = start
        while end < len(terms) and terms[end].startswith(q.text):
            end += 1
        return list(range(start, end))
    if isinstance(q, whoosh_query.TermRange):
        start = 0 if q.start is None else bisect_left(terms, q.start)
        chosen = []
        for at in range(start, len(terms)):
            term = terms[at]
            if q.end is not None and (term > q.end or (q.endexcl and term == q.end)):
                break
            if not (q.startexcl and term == q.start):
                chosen.append(at)
        return chosen
    pattern = q.text if isinstance(q, whoosh_query.Regex) else fnmatch.translate(q.text)
    try:
        compiled = re.compile(pattern)
    except re.error:
        return []
    literal = _literal_prefix(q.text) if isinstance(q, whoosh_query.Wildcard) else ""
    start = bisect_left(terms, literal)
    chosen = []
    for at in range(start, len(terms)):
        term = terms[at]
        if literal and not term.startswith(literal):
            break
        if compiled.match(term):
            chosen.append(at)
    return chosen


def literal_start(q: whoosh_query.Query) -> str:
    """What every term ``q`` stands for starts with (nothing, for a leading wildcard or a range)."""
    if isinstance(q, whoosh_query.Prefix):
        return q.text
    if isinstance(q, whoosh_query.Wildcard):
        return _literal_prefix(q.text)
    return ""


def _literal_prefix(pattern: str) -> str:
    """What a wildcard pattern starts with before its first wildcard: the terms to scan from."""
    cut = min((pattern.find(c) for c in "*?[" if c in pattern), default=len(pattern))
    return pattern[:cut]


def _shown(q: whoosh_query.Query) -> str:
    if isinstance(q, whoosh_query.Prefix):
        return f"{q.text}*"
    if isinstance(q, whoosh_query.TermRange):
        return f"{q.fieldname}:[{q.start or ''} to {q.end or ''}]"
    return str(q.text)




def words_within(snapshot: Snapshot, typed: str, distance: int, prefix: int = 0) -> dict[str, int]:
    """The spellings of the index within ``distance`` edits of ``typed`` (Damerau-Levenshtein:
    a swap of two letters is one edit), with their distances, found by rapidfuzz, in C++, among
    the spellings of about the same length (a word within two edits of another is within two
    letters of its length) that begin with the first ``prefix`` letters of ``typed``: a run of
    the sorted spellings."""
    from rapidfuzz import process  # only when a word is misspelt or fuzzy
    from rapidfuzz.distance import DamerauLevenshtein

    words = snapshot.vocabulary().words
    lengths = snapshot.cached("spelling lengths", lambda: np.fromiter(map(len, words), dtype=np.int64, count=len(words)))
    start = typed[:prefix]
    first = bisect_left(words, start)
    last = bisect_left(words, start + _LAST_CHARACTER, first) if start else len(words)
    if len(typed) < prefix:  # shorter than the prefix: only itself begins with its first letters
        last = first + (first < len(words) and words[first] == typed)
    near = first + np.flatnonzero(np.abs(lengths[first:last] - len(typed)) <= distance)
    found = process.extract(typed, [words[at] for at in near.tolist()], scorer=DamerauLevenshtein.distance,
                            score_cutoff=distance, limit=None)
    return {word: int(edits) for word, edits, _ in found}


_LAST_CHARACTER = chr(0x10FFFF)  # after every word that begins with a run of letters, in order
