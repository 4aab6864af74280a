"""The second pass over the best articles of a query: query expansion by pseudo-relevance feedback
when ``Ranking.feedback`` asks for it, then closeness (proximity.py), which counts by default.

The first pass (matching.py) scores every article by BM25; this one only reorders the best: the
articles matched stay those of the query's own words, and each tier (all the words, some) keeps
its articles. It also says what each hit's score is made of, for ``search(explain=True)``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import attrs
import numpy as np

from .analysis import token_terms
from .config import SEARCHABLE_TEXT_FIELDS, Ranking
from .proximity import DEPTH, PositionReader, closeness
from .scoring import top
from .schema import ENTITY_FIELDS, combined_text
from .snapshot import Snapshot

__all__ = ["Rescored", "Rescorer", "TEXT", "MOST_CLOSE_TERMS"]

Leaf = tuple[str, str, float]

#: The field whose positions closeness is measured in, and whose words feedback draws from.
TEXT = "text"
#: Closeness is measured for queries of at most this many distinct words (a pasted paragraph,
#: or a wildcard standing for a thousand words, is ranked by BM25 alone).
MOST_CLOSE_TERMS = 64


@attrs.frozen
class Rescored:
    """Every article's score after the second pass, and what went into it.

    ``kept`` is the share of the first pass's score kept (``1 -`` feedback's share),
    ``expansion`` the words feedback added, each with the weight it is searched with in each
    field, and ``closeness`` the closeness score of each rescored article, weighted by
    ``close_weight``, of the words ``close_terms``.
    """

    scores: np.ndarray
    kept: float = 1.0
    expansion: tuple[Leaf, ...] = ()
    closeness: dict[int, float] = attrs.field(factory=dict)
    close_terms: tuple[str, ...] = ()
    close_weight: float = 0.0


class Rescorer:
    """The second pass on one snapshot, with the settings of ``ranking``: ``proximity``,
    ``feedback``, ``feedback_terms``, ``feedback_weight`` and ``field_weights``. Positions read
    for closeness are kept, as posting lists are."""

    def __init__(self, snapshot: Snapshot, ranking: Ranking) -> None:
        self._snapshot, self._ranking = snapshot, ranking
        self._positions = PositionReader(snapshot.leaves(), TEXT)

    def rescore(self, scores: np.ndarray, leaves: Sequence[Leaf], groups: Sequence[np.ndarray]) -> Rescored:
        """``scores`` after the second pass; ``leaves`` are the terms the first pass searched,
        ``groups`` the matching articles in the order they rank (all the words, then some)."""
        kept: float = 1.0
        expansion: tuple[Leaf, ...] = ()
        if self._ranking.feedback:
            scores, kept, expansion = self._expand(scores, leaves, groups)
        weight = self._ranking.proximity
        terms = tuple(dict.fromkeys(term for field, term, _ in leaves if field in SEARCHABLE_TEXT_FIELDS))
        if not weight or not 2 <= len(terms) <= MOST_CLOSE_TERMS:
            return Rescored(scores, kept, expansion)
        candidates = np.sort(top(scores, groups, DEPTH))
        if not candidates.size:
            return Rescored(scores, kept, expansion)
        searcher, postings = self._snapshot.searcher, self._snapshot.postings()
        weighting = searcher.weighting
        k1, b = weighting.K1, weighting._field_B.get(TEXT, weighting.B)
        average = searcher.avg_field_length(TEXT) or 1
        saturation = k1 * ((1 - b) + b * postings.field_lengths(TEXT)[candidates] / average)
        close = weight * closeness(
            [self._positions.positions(term, candidates) for term in terms],
            [postings.idf(TEXT, term) for term in terms],
            saturation,
            k1,
        )
        scores = scores.copy()
        scores[candidates] += close
        found = np.flatnonzero(close)
        return Rescored(scores, kept, expansion, dict(zip(candidates[found].tolist(), close[found].tolist())), terms, weight)

    def _expand(self, scores: np.ndarray, leaves: Sequence[Leaf], groups: Sequence[np.ndarray]) -> tuple[np.ndarray, float, tuple[Leaf, ...]]:
        """RM3 (Lavrenko and Croft's relevance model, mixed with the query as Anserini does): the
        best ``feedback`` articles are taken as relevant, each weighted by its score; a word's
        weight is its share of each one's words, summed; the ``feedback_terms`` heaviest words
        join the query with ``1 - feedback_weight`` of its weight. The matching articles stay
        those of the query's own words: feedback only reorders them."""
        ranking = self._ranking
        relevant = top(scores, groups, ranking.feedback)
        total = float(scores[relevant].sum())
        if not relevant.size or total <= 0:
            return scores, 1.0, ()
        model: defaultdict[str, float] = defaultdict(float)
        for docnum in relevant.tolist():
            fields = self._snapshot.stored(docnum)
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
        weights = ranking.field_weights
        repeats: dict[str, float] = {}  # how often the query gives each word: its weight over its field's
        for field, term, weight in leaves:
            repeats[term] = max(repeats.get(term, 0.0), weight / weights.get(field, weights.get("entities", 1.0)))
        query_weight = sum(repeats.values())
        kept = ranking.feedback_weight
        matched = np.logical_or.reduce(list(groups))
        expanded = scores * kept
        expansion = []
        postings = self._snapshot.postings()
        for term, p in chosen:
            for field, field_weight in weights.items():
                if field == "entities" or field in ENTITY_FIELDS:
                    continue  # names are searched by kind; feedback keeps to the text
                weight = (1 - kept) * query_weight * p / mass * field_weight
                docs, parts = postings.postings(field, term)
                inside = matched[docs]
                expanded[docs[inside]] += weight * parts[inside]
                expansion.append((field, term, weight))
        return expanded, kept, tuple(expansion)
