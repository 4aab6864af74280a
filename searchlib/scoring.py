"""BM25 scoring: the weighting Whoosh's searcher uses, and the same scores computed a whole posting
list at a time for queries made only of words.

Whoosh scores one document at a time in Python: a matcher per term, a field-length lookup and a
score call per document, about a microsecond each several times over. A query of plain words (the
usual query: no phrase, no operator, no wildcard) does not need that machinery. ``WordScorer``
reads each word's posting list once into numpy arrays, with its BM25 part already computed from
the stored field lengths, keeps the arrays of recently used words, and adds them up into one
array of scores over all articles. The scores are Whoosh's, formula for formula (see the test
that pins them); only the order of additions may differ, by a rounding unit.

``Rescorer`` is the second pass over the best of those articles: query expansion by
pseudo-relevance feedback when ``Ranking.feedback`` asks for it, then closeness (proximity.py).
It also says what each hit's score is made of, for ``search(explain=True)``.
"""

from __future__ import annotations

from collections import Counter, OrderedDict, defaultdict
from collections.abc import Sequence
from math import log
from typing import Any

import attrs
import numpy as np
from whoosh import query as whoosh_query
from whoosh import scoring
from whoosh.matching import FilterMatcher, ListMatcher

from .analysis import token_terms
from .config import Ranking
from .models import ScorePart
from .proximity import DEPTH, PositionReader, closeness, top
from .schema import combined_text

__all__ = ["BM25", "Word", "plain_words", "WordScorer", "Rescorer", "Rescored"]

#: One word of a query: the ``(field, term, boost)`` clauses it is searched with, one per field.
Word = tuple[tuple[str, str, float], ...]


class BM25(scoring.BM25F):
    """Whoosh's BM25 with the idf of Lucene and of the BM25 literature, log(1 + (N - n + 0.5) /
    (n + 0.5)), in place of Whoosh's log(N / (n + 1)) + 1, whose + 1 lets words found in most
    articles ("system", "articles") weigh nearly as much as rare ones in a long query."""

    def idf(self, searcher: Any, fieldname: str, text: str) -> float:
        parent = searcher.get_parent()
        found, total = parent.doc_frequency(fieldname, text), parent.doc_count_all()
        return log(1 + (total - found + 0.5) / (found + 0.5))


def plain_words(query: whoosh_query.Query) -> list[Word] | None:
    """The words of a query that is nothing but words, each a term or an OR of the same word in
    several fields, combined by AND or OR; ``None`` for any other query."""
    subqueries = query.subqueries if isinstance(query, (whoosh_query.And, whoosh_query.Or)) else [query]
    if isinstance(query, whoosh_query.CompoundQuery) and query.boost != 1.0:
        return None
    words = []
    for sub in subqueries:
        terms = sub.subqueries if isinstance(sub, whoosh_query.Or) and sub.boost == 1.0 else [sub]
        if not all(type(term) is whoosh_query.Term for term in terms):
            return None
        words.append(tuple((term.fieldname, term.text, term.boost) for term in terms))
    return words


class WordScorer:
    """BM25 scores of plain-word queries over one searcher's generation, a posting list at a time.

    ``leaves`` are the searcher's segments with the number of each one's first article;
    ``cache_postings`` bounds how many postings are kept in memory (16 bytes each).
    """

    def __init__(self, searcher: Any, leaves: list[tuple[Any, int]], *, cache_postings: int = 8_000_000) -> None:
        self._searcher = searcher
        self.size = searcher.doc_count_all()
        self._leaves = leaves
        self._lengths: dict[str, np.ndarray] = {}
        self._postings: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cached, self._cache_limit = 0, cache_postings

    @property
    def leaves(self) -> list[tuple[Any, int]]:
        """The segments scored, each with the number of its first article."""
        return self._leaves

    def scores(self, words: Sequence[Word]) -> tuple[np.ndarray, np.ndarray]:
        """The score of every article, and how many of ``words`` it has (0 for no match)."""
        scores = np.zeros(self.size)
        found = np.zeros(self.size, dtype=np.int32)
        for word in words:
            has_word = np.zeros(self.size, dtype=bool) if len(word) > 1 else None
            for field, term, boost in word:
                docs, parts = self.postings(field, term)
                scores[docs] += parts * boost
                if has_word is None:
                    found[docs] += 1
                else:
                    has_word[docs] = True
            if has_word is not None:
                found += has_word
        return scores, found

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The articles that have ``term`` in ``field``, in order, and its BM25 part in each."""
        key = (field, term)
        if key in self._postings:
            self._postings.move_to_end(key)
            return self._postings[key]
        docs = self._read_docs_and_weights(field, term)
        if docs[0].size:
            lengths = self.field_lengths(field)[docs[0]]
            weighting = self._searcher.weighting
            idf, average = self._searcher.idf(field, term), self._searcher.avg_field_length(field) or 1
            k1, b = weighting.K1, weighting._field_B.get(field, weighting.B)
            tf = docs[1]
            parts = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths / average)))  # scoring.bm25
            docs = (docs[0], parts)
        self._postings[key] = docs
        self._cached += docs[0].size
        while self._cached > self._cache_limit and len(self._postings) > 1:
            _, (old, _parts) = self._postings.popitem(last=False)
            self._cached -= old.size
        return docs

    def _read_docs_and_weights(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and term frequencies, read a block of postings at a time."""
        ids: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        for leaf, offset in self._leaves:
            if (field, term) not in leaf:
                continue
            matcher = leaf.postings(field, term)
            deleted = None
            if isinstance(matcher, FilterMatcher):  # the segment has deleted documents
                matcher, deleted = matcher.child, np.fromiter(matcher._ids, dtype=np.int64)
            start = len(ids)
            if isinstance(matcher, ListMatcher):  # a short list, kept in the term's entry (writer.py)
                ids.append(np.asarray(matcher._ids, dtype=np.int64) + offset)
                weights.append(np.asarray(matcher._weights, dtype=np.float64))
            while not isinstance(matcher, ListMatcher) and matcher.is_active():  # W3's blocks
                matcher._read_ids()
                matcher._read_weights()
                ids.append(np.asarray(matcher._ids, dtype=np.int64) + offset)
                weights.append(np.asarray(matcher._weights, dtype=np.float64))
                matcher._next_block()
            if deleted is not None and deleted.size and len(ids) > start:
                segment_ids, segment_weights = np.concatenate(ids[start:]), np.concatenate(weights[start:])
                kept = ~np.isin(segment_ids, deleted + offset)
                ids[start:], weights[start:] = [segment_ids[kept]], [segment_weights[kept]]
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(ids), np.concatenate(weights)

    def field_lengths(self, field: str) -> np.ndarray:
        """Every article's length in ``field``, as Whoosh stores it (one byte, coarse when long)."""
        if field not in self._lengths:
            lengths = np.zeros(self.size)
            for leaf, offset in self._leaves:
                count = leaf.doc_count_all()
                lengths[offset : offset + count] = [leaf.doc_field_length(doc, field, 0) or 0 for doc in range(count)]
            self._lengths[field] = lengths
        return self._lengths[field]


#: The field whose positions closeness is measured in, and whose words feedback draws from.
TEXT = "text"


@attrs.frozen
class Rescored:
    """Every article's score after the second pass, and what went into it.

    ``kept`` is the share of the first pass's score kept (``1 - `` feedback's share),
    ``expansion`` the words feedback added, each with the weight it is searched with in each
    field, and ``closeness`` the closeness score of each rescored article, weighted.
    """

    scores: np.ndarray
    kept: float = 1.0
    expansion: tuple[tuple[str, str, float], ...] = ()
    closeness: dict[int, float] = attrs.field(factory=dict)


class Rescorer:
    """The second pass over the articles a plain-word query matched, on one searcher's generation.

    Args:
        scorer: the first pass's ``WordScorer`` (its postings are read again for feedback's
            words and for explanations).
        searcher: the Whoosh searcher, for idfs, its BM25 parameters and stored fields.
        ranking: the settings: ``proximity``, ``feedback``, ``feedback_terms``,
            ``feedback_weight`` and ``field_weights``.
    """

    def __init__(self, scorer: WordScorer, searcher: Any, ranking: Ranking) -> None:
        self._scorer, self._searcher, self._ranking = scorer, searcher, ranking
        self._positions = PositionReader(scorer.leaves, TEXT)

    def rescore(self, scores: np.ndarray, words: Sequence[Word], groups: Sequence[np.ndarray]) -> Rescored:
        """``scores`` (from ``WordScorer.scores(words)``) after the second pass.

        ``groups`` are the matching articles in the order they rank (those with all the words,
        then the others); each keeps its articles, only their order within it can change.
        """
        kept: float = 1.0
        expansion: tuple[tuple[str, str, float], ...] = ()
        if self._ranking.feedback:
            scores, kept, expansion = self._expand(scores, words, groups)
        weight = self._ranking.proximity
        terms = _distinct_terms(words)
        if not weight or len(terms) < 2:
            return Rescored(scores, kept, expansion)
        candidates = np.sort(top(scores, groups, DEPTH))
        if not candidates.size:
            return Rescored(scores, kept, expansion)
        weighting = self._searcher.weighting
        k1, b = weighting.K1, weighting._field_B.get(TEXT, weighting.B)
        average = self._searcher.avg_field_length(TEXT) or 1
        saturation = k1 * ((1 - b) + b * self._scorer.field_lengths(TEXT)[candidates] / average)
        close = weight * closeness(
            [self._positions.positions(term, candidates) for term in terms],
            [self._searcher.idf(TEXT, term) for term in terms],
            saturation,
            k1,
        )
        scores = scores.copy()
        scores[candidates] += close
        found = np.flatnonzero(close)
        return Rescored(scores, kept, expansion, dict(zip(candidates[found].tolist(), close[found].tolist())))

    def explain(self, rescored: Rescored, words: Sequence[Word], docnum: int) -> tuple[ScorePart, ...]:
        """The parts of one article's score, largest first: each word's BM25 in each field times
        its weight (the field's weight times how often the query gives the word, times the share
        feedback leaves it), each word feedback added, and closeness (field ``closeness``, the
        query's words as ``term``). They add up to the score."""
        weights: dict[tuple[str, str], float] = {}
        for word in words:
            for field, term, boost in word:
                weights[field, term] = weights.get((field, term), 0.0) + boost * rescored.kept
        for field, term, weight in rescored.expansion:
            weights[field, term] = weights.get((field, term), 0.0) + weight
        parts = []
        for (field, term), weight in weights.items():
            docs, scores = self._scorer.postings(field, term)
            at = int(np.searchsorted(docs, docnum))
            if at < docs.size and docs[at] == docnum:
                parts.append(ScorePart(field, term, weight, weight * float(scores[at])))
        if docnum in rescored.closeness:
            query = " ".join(_distinct_terms(words))
            parts.append(ScorePart("closeness", query, self._ranking.proximity, rescored.closeness[docnum]))
        return tuple(sorted(parts, key=lambda part: -part.score))

    def _expand(
        self, scores: np.ndarray, words: Sequence[Word], groups: Sequence[np.ndarray]
    ) -> tuple[np.ndarray, float, tuple[tuple[str, str, float], ...]]:
        """RM3 (Lavrenko and Croft's relevance model, mixed with the query as Anserini does): the
        best ``feedback`` articles are taken as relevant, each weighted by its score; a word's
        weight is its share of each one's words, summed; the ``feedback_terms`` heaviest words
        join the query with ``1 - feedback_weight`` of its weight. The matching articles stay
        those of the query's own words: feedback only reorders them."""
        ranking = self._ranking
        relevant = top(scores, groups, ranking.feedback)
        model: defaultdict[str, float] = defaultdict(float)
        total = float(scores[relevant].sum())
        if not relevant.size or total <= 0:
            return scores, 1.0, ()
        for docnum in relevant.tolist():
            fields = self._searcher.stored_fields(docnum)
            text = combined_text(fields.get("title", ""), fields.get("caption", ""), fields.get("body", ""))
            terms = [term for _, term, *_ in token_terms(text) if term is not None]
            share = float(scores[docnum]) / total / max(len(terms), 1)
            for term, count in Counter(terms).items():
                model[term] += share * count
        heaviest = sorted(model.items(), key=lambda item: -item[1])
        chosen = [(term, p) for term, p in heaviest if len(term) > 1 and not term.isdigit()][: ranking.feedback_terms]
        mass = sum(p for _, p in chosen)
        if not chosen or mass <= 0:
            return scores, 1.0, ()
        query_weight = sum(_repeats(word, ranking) for word in words)  # the query's words, counted
        kept = ranking.feedback_weight
        matched = np.logical_or.reduce(list(groups))
        expanded = scores * kept
        expansion = []
        for term, p in chosen:
            for field, field_weight in ranking.field_weights.items():
                if field == "entities":
                    continue  # names are searched by kind (query._across_kinds); feedback keeps to text
                weight = (1 - kept) * query_weight * p / mass * field_weight
                docs, parts = self._scorer.postings(field, term)
                inside = matched[docs]
                expanded[docs[inside]] += weight * parts[inside]
                expansion.append((field, term, weight))
        return expanded, kept, tuple(expansion)


def _distinct_terms(words: Sequence[Word]) -> list[str]:
    """The terms of the query's words in the order given, each once (every searched field has
    the same analysis, so a term is the same word in each)."""
    return list(dict.fromkeys(term for word in words for _field, term, _boost in word))


def _repeats(word: Word, ranking: Ranking) -> float:
    """How often the query gives a word: its boost over the weight of its field."""
    field, _term, boost = word[0]
    weights = ranking.field_weights
    return boost / weights.get(field, weights.get("entities", 1.0))
