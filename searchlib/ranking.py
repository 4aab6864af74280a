"""Which articles a search counts, and in what order it shows them.

``select`` turns a parsed query and the filters into a ``Selection``: the articles counted, in
tiers shown one after the other, with their scores. By default a search counts the articles that
have every word, as SQLite FTS5 and Meilisearch count, and says how many more have only some of
them; when none has them all it falls back to those with any, and says so. ``match="any"`` counts
both tiers, all the words first: the ranking ``searchlib eval`` measures, where a topic's words
are never all in one document.

``page`` orders a selection by relevance (BM25, tier by tier; equal scores in article order, as
Whoosh's collector has them) or by date (undated articles last, by relevance), folds the copies of
a story into its best-placed one, and cuts out a page, looking only as far down as the page needs
(``numpy.partition``).
"""

from __future__ import annotations

import attrs
import numpy as np

from .errors import InvalidOptionError
from .config import Ranking
from .matching import Leaf, match_both
from .query_language import ParsedQuery
from .rescoring import Rescored, Rescorer
from .scoring import top
from .snapshot import UNDATED, Snapshot

__all__ = ["Selection", "select", "page", "ordered", "SORTS", "MATCHES", "Placed"]

SORTS = ("relevance", "newest", "oldest")
MATCHES = ("all", "any")

#: A hit before its snippets: rank, document number, score, its story's other copies shown.
Placed = tuple[int, int, float, tuple[int, ...]]


@attrs.frozen
class Selection:
    """The articles a search counts, as ``tiers`` shown one after another, their ``scores``, the
    number that have only some of the words (not counted unless ``match="any"``), the terms
    searched and what the query had to be read as."""

    tiers: tuple[np.ndarray, ...]
    scores: np.ndarray
    some_words: int
    leaves: tuple[Leaf, ...]
    scaled: dict[tuple[str, str], float]
    notices: tuple[str, ...]
    rescored: Rescored | None = None

    @property
    def mask(self) -> np.ndarray:
        mask = self.tiers[0].copy()
        for tier in self.tiers[1:]:
            mask |= tier
        return mask

    @property
    def total(self) -> int:
        return int(sum(np.count_nonzero(tier) for tier in self.tiers))


def select(
    snapshot: Snapshot,
    parsed: ParsedQuery,
    *,
    ranking: Ranking,
    allowed: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    mode: str = "all",
) -> Selection:
    """The articles ``parsed`` selects among those ``allowed`` (all when ``None``), less those in
    ``exclude``, counted as ``mode`` says, scored by BM25 then rescored (rescoring.py: closeness,
    and feedback if ``ranking`` asks for it).

    Raises:
        InvalidOptionError: ``mode`` is neither ``all`` nor ``any``.
    """
    if mode not in MATCHES:
        raise InvalidOptionError(f"Unknown match {mode!r}: use {', '.join(MATCHES)}")
    full, everything = match_both(snapshot, parsed.all_words, parsed.any_word)
    base = snapshot.live() if allowed is None else allowed & snapshot.live()
    if exclude is not None:
        base = base & ~exclude
    with_all, with_any = full & base, everything.mask & base
    notices = list(parsed.notices) + list(everything.notices)
    some_words = 0
    if parsed.any_word is None:
        tiers: tuple[np.ndarray, ...] = (with_any,)
    elif mode == "any":
        tiers = (with_all, with_any & ~with_all)
    elif with_all.any():
        tiers = (with_all,)
        some_words = int(np.count_nonzero(with_any & ~with_all))
    else:
        tiers = (with_any,)
        if with_any.any():
            notices.append("No article has all the words, so these are the articles with some of them")
    if not parsed.has_words:
        notices.append(parsed.no_words_notice)
    rescorer = snapshot.cached(f"rescorer {ranking!r}", lambda: Rescorer(snapshot, ranking))
    rescored = rescorer.rescore(everything.scores, everything.leaves, tiers)
    return Selection(tiers, rescored.scores, some_words, everything.leaves, everything.scaled, tuple(notices), rescored)


def page(
    snapshot: Snapshot, selection: Selection, *, sort: str, limit: int, page_number: int, fold: bool
) -> tuple[list[Placed], int | None]:
    """The hits of one page, and the number of stories (``None`` without ``fold``).

    Raises:
        InvalidOptionError: ``limit`` or ``page_number`` is below 1, or ``sort`` is unknown.
    """
    if limit < 1 or page_number < 1:
        raise InvalidOptionError(f"limit and page must be at least 1, not {limit} and {page_number}")
    if sort not in SORTS:
        raise InvalidOptionError(f"Unknown sort order {sort!r}: use {', '.join(SORTS)}")
    mask = selection.mask
    stories = snapshot.stories()
    offset, wanted = (page_number - 1) * limit, page_number * limit
    total = selection.total
    count = wanted
    while True:
        order = _ordered(snapshot, selection, sort, count)
        if not fold:
            ranked = order
            break
        first_of_story: dict[int, int] = {}
        for docnum in order:
            first_of_story.setdefault(int(stories.codes[docnum]), docnum)
        ranked = list(first_of_story.values())
        if len(ranked) >= wanted or len(order) >= total:
            break
        count *= 4
    story_count = int(np.count_nonzero(np.bincount(stories.codes[mask], minlength=1))) if fold else None
    placed: list[Placed] = []
    for rank, docnum in enumerate(ranked[offset:wanted], start=offset + 1):
        similar: tuple[int, ...] = ()
        if fold:
            copies = stories.members(docnum)
            similar = tuple(d for d in copies[mask[copies]].tolist() if d != docnum)
        placed.append((rank, docnum, float(selection.scores[docnum]), similar))
    return placed, story_count


def ordered(snapshot: Snapshot, selection: Selection, sort: str, count: int) -> list[int]:
    """The first ``count`` articles of ``selection`` in ``sort`` order."""
    return _ordered(snapshot, selection, sort, count)


def _ordered(snapshot: Snapshot, selection: Selection, sort: str, count: int) -> list[int]:
    if sort == "relevance":
        return top(selection.scores, selection.tiers, count).tolist()
    dates = snapshot.dates()
    mask = selection.mask
    dated = np.flatnonzero(mask & (dates != UNDATED))
    order = _by_date(dates, dated, count, newest=sort == "newest")
    if len(order) < count:
        order += top(selection.scores, [mask & (dates == UNDATED)], count - len(order)).tolist()
    return order


def _by_date(dates: np.ndarray, candidates: np.ndarray, count: int, *, newest: bool) -> list[int]:
    """The first ``count`` of ``candidates`` by date, newest or oldest first; articles of the same
    date in article order (reversed for newest first, as Whoosh's reversed sort has them)."""
    keys = dates[candidates]
    if candidates.size > count:  # only those that can be among the first, ties at the cut kept
        if newest:
            cut = np.partition(keys, candidates.size - count)[candidates.size - count]
            chosen = keys >= cut
        else:
            cut = np.partition(keys, count - 1)[count - 1]
            chosen = keys <= cut
        candidates, keys = candidates[chosen], keys[chosen]
    order = np.lexsort((candidates, keys))
    if newest:
        order = order[::-1]
    return candidates[order][:count].tolist()
