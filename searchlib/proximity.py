"""Closeness counts: an article where the query's words stand together ranks above one where
they are scattered.

BM25 scores each word on its own: "military" in the first paragraph and "base" in the last score
as "military base". The closeness score of Büttcher, Clarke and Lushman ("Term proximity scoring
for ad-hoc retrieval on very large text collections", SIGIR 2006) adds what BM25 leaves out. The
occurrences of the query's words in an article are taken in order; each pair of neighbours that
are different words, ``d`` positions apart, adds ``idf(other word) / d**2`` to each word's
accumulator. An accumulator counts as a term frequency does in BM25: saturated by ``k1``,
discounted by the article's length and weighted by the word's idf; the words' parts add up. Words
next to each other count fully, words two apart a quarter, words ten apart a hundredth: for a
two-word query that is the phrase, near-phrases and little else; for a long one, whichever of its
words stand together. (Büttcher et al. weight each word's part by ``min(1, idf)``; by the idf, the
closeness of rare words counts as their frequency does. On the test collections the two are
alike; on news, the idf lets a phrase of two words lift an article past one that only has more
of them, which ``min(1, idf)`` did not: BENCHMARKS.md.)

Reading positions is dearer than reading frequencies, so only the best ``DEPTH`` articles of the
BM25 ranking are rescored, as Elasticsearch's rescore window does: the closeness score is never
negative, so no article below them could have risen above them. The positions are those of the
``text`` field (the title twice, the caption and the body; a line break adds one position, so
words either side of one are two apart), read a whole posting list at a time and kept.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from whoosh.matching import FilterMatcher, ListMatcher

__all__ = ["DEPTH", "PositionReader", "closeness"]

#: How many of the best articles by BM25 are rescored. Quality on the four test collections was
#: the same with 100, 200, 500 and 1,000 (BENCHMARKS.md), in nDCG@10 and in MAP over 1,000 hits.
DEPTH = 100

#: Positions are kept in one int64 key per occurrence: the candidate's number times this, plus
#: the position (positions in a field stay below 2**32).
_STRIDE = 1 << 32


class PositionReader:
    """Where terms occur in one field, read from the index's postings a whole list at a time and
    kept, as ``scoring.TermPostings`` keeps its postings: ``cache_positions`` bounds how many
    positions are kept (4 bytes each, and 16 for each article they are in: about 14 bytes a
    position on Reuters, 110 MB at most).

    ``leaves`` are the searcher's segments with the number of each one's first article.
    """

    def __init__(self, leaves: Sequence[tuple[Any, int]], field: str = "text", *, cache_positions: int = 8_000_000) -> None:
        self._leaves = leaves
        self.field = field
        self._terms: OrderedDict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()
        self._cached, self._cache_limit = 0, cache_positions

    def positions(self, term: str, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For ``docs``, sorted article numbers: the index into ``docs`` of each occurrence of
        ``term`` in them, and its position, ordered by article then position."""
        articles, starts, positions = self._postings(term)
        at = np.searchsorted(articles, docs)
        at[at == articles.size] = 0
        has = np.flatnonzero(articles[at] == docs) if articles.size else np.zeros(0, dtype=np.int64)
        begins, ends = starts[at[has]], starts[at[has] + 1]
        sizes = ends - begins
        firsts = np.cumsum(sizes) - sizes  # where each article's positions go in the result
        return np.repeat(has, sizes), positions[np.repeat(begins - firsts, sizes) + np.arange(int(sizes.sum()))]

    def _postings(self, term: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The articles ``term`` is in, where each one's positions start (and, last, where they
        end), and the positions."""
        if term in self._terms:
            self._terms.move_to_end(term)
            return self._terms[term]
        articles: list[np.ndarray] = []
        counts: list[int] = []
        gaps: list[int] = []
        decoded: dict[bytes, list[int]] = {}  # most values recur: one occurrence at a few positions
        for leaf, offset in self._leaves:
            if (self.field, term) not in leaf:
                continue
            matcher = leaf.postings(self.field, term)
            if isinstance(matcher, FilterMatcher):  # deleted articles stay: none is ever asked for
                matcher = matcher.child
            for ids, values in _blocks(matcher):
                articles.append(np.asarray(ids, dtype=np.int64) + offset)
                for value in values:
                    found = decoded.get(value)
                    if found is None:
                        found = decoded[value] = _gaps(value)
                    counts.append(len(found))
                    gaps.extend(found)
        starts = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        running = np.cumsum(np.asarray(gaps, dtype=np.int64))
        # Gaps restart at each article: subtract the running total before its first position.
        before = np.repeat(np.concatenate(([0], running[starts[1:-1] - 1])), counts) if counts else running
        entry = (
            np.concatenate(articles) if articles else np.zeros(0, dtype=np.int64),
            starts,
            (running - before).astype(np.int32),
        )
        self._terms[term] = entry
        self._cached += entry[2].size
        while self._cached > self._cache_limit and len(self._terms) > 1:
            _, (_articles, _starts, old) = self._terms.popitem(last=False)
            self._cached -= old.size
        return entry


def _gaps(value: bytes) -> list[int]:
    """The positions of one posting as ``formats.Positions`` encodes them: a count, then the
    gaps between positions, pickled (Whoosh leaves off the pickle's final ``.``)."""
    gaps: list[int] = pickle.loads(value[4:] if value.endswith(b".") else value[4:] + b".")
    return gaps


def _blocks(matcher: Any) -> Iterator[tuple[Any, Any]]:
    """The ``(ids, values)`` of each block of one segment's postings of a term."""
    if isinstance(matcher, ListMatcher):  # a short list, kept in the term's entry (writer.py)
        yield matcher._ids, matcher._values
        return
    while matcher.is_active():
        matcher._read_ids()
        matcher._read_values()
        yield matcher._ids, matcher._values
        matcher._next_block()


def closeness(
    positions: Sequence[tuple[np.ndarray, np.ndarray]],
    idfs: Sequence[float],
    saturation: np.ndarray,
    k1: float,
) -> np.ndarray:
    """The closeness score of some articles (Büttcher, Clarke and Lushman 2006).

    Args:
        positions: for each distinct word of the query, ``PositionReader.positions`` in the
            articles.
        idfs: each word's idf.
        saturation: each article's BM25 ``K``, ``k1 * (1 - b + b * length / average length)``.
        k1: BM25's ``k1``.

    Returns:
        Each article's score: over the words, ``idf * (k1 + 1) * a / (a + K)``, where ``a`` is
        the word's accumulator.
    """
    count, words = saturation.size, len(positions)
    if words < 2:
        return np.zeros(count)
    article = np.concatenate([which for which, _ in positions])
    where = np.concatenate([at for _, at in positions])
    word = np.concatenate([np.full(which.size, n) for n, (which, _) in enumerate(positions)])
    order = np.lexsort((word, article * _STRIDE + where))  # each article's occurrences in order
    article, where, word = article[order], where[order], word[order]
    gap = (where[1:] - where[:-1]).astype(np.float64)
    neighbours = np.flatnonzero((article[1:] == article[:-1]) & (word[1:] != word[:-1]) & (gap > 0))
    first, second, near = neighbours, neighbours + 1, 1.0 / gap[neighbours] ** 2
    idf = np.asarray(idfs, dtype=np.float64)
    flat = np.zeros(count * words)
    np.add.at(flat, article[second] * words + word[second], idf[word[first]] * near)
    np.add.at(flat, article[first] * words + word[first], idf[word[second]] * near)
    accumulators = flat.reshape(count, words)
    parts = (k1 + 1) * accumulators / (accumulators + saturation[:, None])
    return np.asarray(parts @ idf)
