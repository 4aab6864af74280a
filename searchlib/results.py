"""What a search gives back, made from the articles chosen: hits with their snippets and the
parts of their scores, facet counts and timelines.

Snippets are highlighted around the query's terms where the article's text has them (a phrase's
only where they form the phrase), found by analysing the text again as the build did;
``snippets.py`` picks and joins the fragments. Facets and timelines count over every article
selected, with numpy, from columns the snapshot reads once.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta

import attrs
import numpy as np

from .aliases import AliasTable
from .analysis import ANALYSED_CHARACTERS, token_terms
from .matching import Leaf, PhraseLeaf
from .models import Entity, FacetValue, Hit, IndexedArticle, ScorePart, Snippet, TimelineBucket
from .ranking import Placed, Selection
from .snapshot import UNDATED, Snapshot
from .snippets import hit_snippets, join_pieces

__all__ = ["make_hits", "Marked", "highlighted_terms", "term_offsets", "indexed_article", "facet_counts", "timeline_buckets",
           "canonical_entities", "marked_text", "HIGHLIGHTED_FIELDS", "PERIODS", "MAX_PERIODS"]

PERIODS = ("year", "month", "day")
#: Past this many periods between a timeline's first and last match, only periods with
#: matches are listed (an article dated in year 1 beside one of 2012 would make 735,000 days).
MAX_PERIODS = 10_000
#: The fields whose matched words snippets mark.
HIGHLIGHTED_FIELDS = frozenset({"text", "title", "caption", "body", "person", "organization", "place"})


@attrs.frozen
class Marked:
    """What snippets mark: ``words`` (terms) wherever they occur, and the terms of each of
    ``phrases`` (its terms in order, the positions allowed from each to the next, and the
    positions a line break adds in its field) only where they occur as that phrase."""

    words: frozenset[str] = frozenset()
    phrases: frozenset[tuple[tuple[str, ...], int, int]] = frozenset()


def make_hits(snapshot: Snapshot, placed: list[Placed], selection: Selection, *, explain: bool) -> tuple[Hit, ...]:
    """The hits of a page, each with its snippets (and explanation, if asked for)."""
    words = highlighted_terms(selection.leaves)
    return tuple(
        _hit(snapshot, rank, docnum, score, words, explanation(snapshot, docnum, selection) if explain else (),
             tuple(snapshot.id_of(d) for d in similar))
        for rank, docnum, score, similar in placed
    )


def highlighted_terms(leaves: Iterable[Leaf]) -> Marked:
    """What snippets mark of the terms a query searched in the text and names (its ``leaves``):
    a word searched alone wherever it occurs, a word of a phrase only in the phrase."""
    shown = [leaf for leaf in leaves if leaf[0] in HIGHLIGHTED_FIELDS]
    return Marked(frozenset(leaf[1] for leaf in shown if not isinstance(leaf, PhraseLeaf)),
                  frozenset((leaf.words, leaf.slop, _LINE_GAPS.get(leaf[0], 0)) for leaf in shown if isinstance(leaf, PhraseLeaf)))


#: The positions a line break adds in a field, as schema.make_schema's analyzers count them.
_LINE_GAPS = {"text": 1}


def term_offsets(tokens: Sequence[tuple[str, str | None, int, int, int]], marked: Marked) -> list[tuple[str, int, int]]:
    """Where ``marked`` occurs among a text's ``tokens`` (``analysis.token_terms``): ``(term,
    start, end)`` character offsets."""
    found = [(term, start, end) for _, term, start, end, _ in tokens if term in marked.words]
    words_only = [(term, start, end, breaks) for _, term, start, end, breaks in tokens if term is not None]
    for words, slop, line_gap in marked.phrases:
        # Positions as the phrase's field numbers them: stop words left out, a line break adding line_gap.
        kept = [(at + breaks * line_gap, term, start, end) for at, (term, start, end, breaks) in enumerate(words_only)]
        found += [kept[at][1:] for at in sorted(_in_phrase(kept, words, max(slop, 1)))]
    return found


def _in_phrase(kept: list[tuple[int, str, int, int]], words: tuple[str, ...], slop: int) -> set[int]:
    """The tokens of ``kept`` (position first, ascending) that are part of an occurrence of
    ``words`` in order, each within ``slop`` positions after the one before, as a phrase
    matches. One pass a word forward (the tokens that can end the phrase so far), one back (those
    that lead on to its end): time linear in the text, whatever the slop or the repeats."""
    reached: list[list[int]] = []
    for word in words:
        here = [at for at, token in enumerate(kept) if token[1] == word]
        if reached:
            before = [kept[at][0] for at in reached[-1]]
            here = [at for at in here if _any_within(before, kept[at][0] - slop, kept[at][0] - 1)]
        if not here:
            return set()
        reached.append(here)
    chosen, following = set(reached[-1]), reached[-1]
    for level in reversed(reached[:-1]):
        after = [kept[at][0] for at in following]
        following = [at for at in level if _any_within(after, kept[at][0] + 1, kept[at][0] + slop)]
        chosen.update(following)
    return chosen


def _any_within(positions: list[int], low: int, high: int) -> bool:
    """Whether any of ``positions`` (ascending) is from ``low`` to ``high``."""
    at = bisect_left(positions, low)
    return at < len(positions) and positions[at] <= high


def indexed_article(snapshot: Snapshot, docnum: int, words: Marked) -> IndexedArticle:
    """The whole article ``docnum``, its title, caption and body with ``words`` marked."""
    fields = snapshot.stored(docnum)

    def marked(name: str) -> Snippet:
        return marked_text(fields.get(name, ""), words)

    live = snapshot.live()
    moment = fields.get("date")
    return IndexedArticle(
        id=fields["id"], title=fields.get("title", ""), body=fields.get("body", ""),
        date=moment if isinstance(moment, datetime) else None, url=fields.get("url", ""),
        path=fields.get("path", ""), caption=fields.get("caption", ""),
        entities=canonical_entities(snapshot.aliases(), fields.get("entity_list", ())),
        copies=tuple(snapshot.id_of(other) for other in snapshot.stories().members(docnum).tolist() if other != docnum and live[other]),
        title_snippet=marked("title"), caption_snippet=marked("caption"), body_snippet=marked("body"),
    )


def marked_text(text: str, words: Marked) -> Snippet:
    """The whole of ``text`` with ``words`` marked where they occur."""
    return join_pieces([(text, [(start, end) for _, start, end in _matches(text, words)])])


def explanation(snapshot: Snapshot, docnum: int, selection: Selection) -> tuple[ScorePart, ...]:
    """The parts of one article's score, largest first: each matched word's BM25 in each field
    times its weight (the field's weight times how often the query gives the word and any ``^``
    boost, times the share feedback leaves it), each word feedback added, and closeness (field
    ``closeness``, the query's words as ``term``). They add up to the score."""
    rescored = selection.rescored
    kept = rescored.kept if rescored is not None else 1.0
    weights: dict[tuple[str, str], float] = defaultdict(float)
    for field, term, weight in selection.leaves:
        weights[field, term] += weight * kept
    for field, term, weight in rescored.expansion if rescored is not None else ():
        weights[field, term] += weight
    postings = snapshot.postings()
    parts = []
    for (field, term), weight in sorted(weights.items()):
        if postings.has(field, term, docnum):
            part = postings.part(field, term, docnum) * weight * selection.scaled.get((field, term), 1.0)
            parts.append(ScorePart(field, term, weight, part))
    if rescored is not None and docnum in rescored.closeness:
        close = rescored.closeness[docnum]
        parts.append(ScorePart("closeness", " ".join(rescored.close_terms), rescored.close_weight, close))
    return tuple(sorted(parts, key=lambda p: -p.score))


def _matches(text: str, words: Marked) -> list[tuple[str, int, int]]:
    """Where the query's words occur in ``text``: ``(word, start, end)`` character offsets. The
    text is analysed again (``token_terms``, as the build analysed it, with its terms kept from
    one article to the next): for a page of ten news articles that costs less than reading the
    offsets from the index, and needs none stored."""
    if not words.words and not words.phrases:
        return []
    return term_offsets(token_terms(text[:ANALYSED_CHARACTERS]), words)


def _hit(
    snapshot: Snapshot,
    rank: int,
    docnum: int,
    score: float,
    words: Marked,
    explained: tuple[ScorePart, ...],
    similar: tuple[str, ...],
) -> Hit:
    fields = snapshot.stored(docnum)
    body, title = fields.get("body", ""), fields.get("title", "")
    snippet, title_snippet = hit_snippets(title, body, _matches(title, words), _matches(body, words))
    moment = fields.get("date")
    return Hit(
        rank=rank,
        score=score,
        id=fields["id"],
        title=title,
        date=moment if isinstance(moment, datetime) else None,
        url=fields.get("url", ""),
        path=fields.get("path", ""),
        entities=canonical_entities(snapshot.aliases(), fields.get("entity_list", ())),
        snippet=snippet,
        title_snippet=title_snippet,
        explanation=explained,
        similar=similar,
    )


def canonical_entities(aliases: AliasTable, names: Iterable[tuple[str, str]]) -> tuple[Entity, ...]:
    """An article's entities (``(name, kind)`` as stored) by their canonical names (aliases.py),
    in order, each once."""
    return tuple(Entity(name, kind) for name, kind in dict.fromkeys((aliases.canonical(name, kind), kind) for name, kind in names))


def facet_counts(snapshot: Snapshot, mask: np.ndarray, top: int, kinds: tuple[str, ...]) -> dict[str, tuple[FacetValue, ...]]:
    """The ``top`` most mentioned entities of each kind among the articles in ``mask``, most
    first, then by name."""
    counted = {}
    for kind in kinds:
        facets = snapshot.facets(kind)
        counts = facets.counts(mask)
        present = np.flatnonzero(counts)
        best = sorted(present.tolist(), key=lambda at: (-counts[at], facets.names[at]))[:top]
        counted[kind] = tuple(FacetValue(facets.names[at], int(counts[at])) for at in best)
    return counted


_EPOCH = np.datetime64("0001-01-01T00:00:00", "us")
_UNITS = {"year": "Y", "month": "M", "day": "D"}


def timeline_buckets(snapshot: Snapshot, mask: np.ndarray, by: str) -> tuple[tuple[TimelineBucket, ...], int]:
    """The articles of ``mask`` counted by period, every period from the first to the last listed
    (only those with articles past ``MAX_PERIODS``), and the number of undated ones."""
    dates = snapshot.dates()[mask]
    dated = dates[dates != UNDATED]
    if not dated.size:
        return (), int(dates.size)
    periods = (_EPOCH + dated.astype("timedelta64[us]")).astype(f"datetime64[{_UNITS[by]}]")
    starts, counts = np.unique(periods, return_counts=True)
    found = {_as_date(start): int(count) for start, count in zip(starts, counts)}
    first, last = min(found), max(found)
    span = list(_periods_between(first, last, by, MAX_PERIODS + 1))
    listed = span if len(span) <= MAX_PERIODS else sorted(found)
    buckets = tuple(TimelineBucket(_period_label(start, by), start, found.get(start, 0)) for start in listed)
    return buckets, int(dates.size - dated.size)


def _as_date(value: np.datetime64) -> date:
    text = str(value.astype("datetime64[D]"))
    year, month, day = (int(part) for part in text.split("-"))
    return date(year, month, day)


def _period_label(start: date, by: str) -> str:
    return f"{start.year:04d}" if by == "year" else f"{start.year:04d}-{start.month:02d}" if by == "month" else start.isoformat()


def _periods_between(first: date, last: date, by: str, most: int) -> Iterator[date]:
    current: date | None = first
    for _ in range(most):
        if current is None or current > last:
            return
        yield current
        current = _next_period(current, by)


def _next_period(current: date, by: str) -> date | None:
    try:
        if by == "day":
            return current + timedelta(days=1)
        if by == "month":
            return (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        return current.replace(year=current.year + 1)
    except (OverflowError, ValueError):  # past the year 9999
        return None

