"""BM25 scoring: the weighting Whoosh's searcher uses, and the same scores computed a whole posting
list at a time.

Whoosh scores one document at a time in Python: a matcher per term, a field-length lookup and a
score call per document, about a microsecond each several times over. ``TermPostings`` reads a
term's posting list once into numpy arrays, with its BM25 part already computed from the stored
field lengths, and keeps the arrays of recently used terms; matching.py adds them up into one
array of scores over all articles. The scores are Whoosh's, formula for formula (see the test
that pins them); only the order of additions may differ, by a rounding unit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from math import log
from typing import Any

import numpy as np
from whoosh import scoring
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.matching import FilterMatcher, ListMatcher
from whoosh.util.numeric import byte_to_length

from .columns import numbers

__all__ = ["BM25", "TermPostings", "top"]


class BM25(scoring.BM25F):
    """Whoosh's BM25 with the idf of Lucene and of the BM25 literature, log(1 + (N - n + 0.5) /
    (n + 0.5)), in place of Whoosh's log(N / (n + 1)) + 1, whose + 1 lets words found in most
    articles ("system", "articles") weigh nearly as much as rare ones in a long query."""

    def idf(self, searcher: Any, fieldname: str, text: str) -> float:
        parent = searcher.get_parent()
        found, total = parent.doc_frequency(fieldname, text), parent.doc_count_all()
        return log(1 + (total - found + 0.5) / (found + 0.5))


class TermPostings:
    """Posting lists of one searcher's generation as arrays: the articles that have a term, and
    the term's BM25 part in each, read a block at a time and kept (the most recently used, up to
    ``cache_postings`` postings of 16 bytes each).

    ``leaves`` are the searcher's segments with the number of each one's first article.
    """

    def __init__(self, searcher: Any, leaves: list[tuple[Any, int]], *, cache_postings: int = 8_000_000) -> None:
        self._searcher = searcher
        self.size = searcher.doc_count_all()
        self._leaves = leaves
        self._lengths: dict[str, np.ndarray] = {}
        self._postings: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cached, self._cache_limit = 0, cache_postings

    def postings(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The articles that have ``term`` in ``field``, in order, and its BM25 part in each."""
        key = (field, term)
        if key in self._postings:
            self._postings.move_to_end(key)
            return self._postings[key]
        try:
            self._searcher.schema[field].to_bytes(term)
        except Exception:  # noqa: BLE001 (Whoosh raises ValueError, or bare Exception, for a word its field cannot hold)
            docs = np.zeros(0, dtype=np.int64), np.zeros(0)  # a date field asked for "last": no article has it
        else:  # and a file that cannot be read is an error, not "no article has it"
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

    def idf(self, field: str, term: str) -> float:
        return float(self._searcher.idf(field, term))

    def has(self, field: str, term: str, docnum: int) -> bool:
        """Whether article ``docnum`` has ``term`` in ``field``."""
        docs = self.postings(field, term)[0]
        at = int(np.searchsorted(docs, docnum))
        return at < docs.size and int(docs[at]) == docnum

    def part(self, field: str, term: str, docnum: int) -> float:
        """``term``'s BM25 part in article ``docnum`` (0 where it is not)."""
        docs, parts = self.postings(field, term)
        at = int(np.searchsorted(docs, docnum))
        return float(parts[at]) if at < docs.size and int(docs[at]) == docnum else 0.0

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
        """Every article's length in ``field``, as Whoosh stores it (one byte, coarse when long),
        each segment's column read at once (columns.py)."""
        if field not in self._lengths:
            readers = [(leaf._perdoc.column_reader(_lenfield(field), LENGTHS_COLUMN), base)  # Whoosh's reader of lengths
                       for leaf, base in self._leaves if leaf._perdoc.has_column(_lenfield(field))]
            self._lengths[field] = _BYTE_LENGTHS[numbers(readers, self.size, 0)]
        return self._lengths[field]


# What each length byte stands for (Whoosh's byte_to_length; the byte 0 is no length).
_BYTE_LENGTHS = np.array([0] + [byte_to_length(byte) for byte in range(1, 256)], dtype=np.float64)


def top(scores: np.ndarray, groups: Sequence[np.ndarray], count: int) -> np.ndarray:
    """The first ``count`` articles: those of the first group by score, best first, then the
    next group's; equal scores in the order of the articles, as Whoosh's collector has them.
    Only those that can be among the first are sorted (``numpy.partition``)."""
    best: list[np.ndarray] = []
    need = count
    for group in groups:
        if need <= 0:
            break
        candidates = np.flatnonzero(group)
        if candidates.size > need:  # only those that can be among the best, ties at the cut kept
            values = scores[candidates]
            cut = np.partition(values, candidates.size - need)[candidates.size - need]
            candidates = candidates[values >= cut]
        candidates = candidates[np.lexsort((candidates, -scores[candidates]))][:need]
        best.append(candidates)
        need -= candidates.size
    return np.concatenate(best) if best else np.zeros(0, dtype=np.int64)
