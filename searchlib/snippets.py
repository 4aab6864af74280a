"""Snippets: the best fragments of an article, with the matched words as they appear in the text.

Whoosh finds the fragments: ``PinpointFragmenter`` places them around the character offsets
stored in the index for each matched word (no re-analysis, original words not stems, and no
32K character limit, so long articles highlight to their end), and ``score_fragment`` picks the
fragments with the most distinct matched words. This module turns them into ``Snippet`` values:
fragment texts joined by " … ", with the spans of the matches, adjacent matches merged
("[military bases]", not "[military] [bases]").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any

from whoosh import highlight
from whoosh.analysis import Token

from .models import Snippet

__all__ = ["body_highlighter", "title_highlighter", "highlight_matches", "leading_snippet", "hit_snippets", "SnippetFormatter"]

SEPARATOR = " … "
FRAGMENT_CHARS = 120
CONTEXT_CHARS = 50
FRAGMENTS = 2


class SnippetFormatter(highlight.Formatter):
    """A Whoosh formatter that returns a ``Snippet`` instead of marked-up text."""

    def format(self, fragments: Sequence[Any], replace: bool = False) -> Snippet:
        if not fragments:
            return Snippet("")
        source = fragments[0].text
        # Fragments that overlap or nearly touch become one, so no words are shown twice.
        ranges: list[tuple[int, int, list[Any]]] = []
        for fragment in sorted(fragments, key=lambda f: f.startchar):
            if ranges and fragment.startchar <= ranges[-1][1] + 20:
                start, end, matches = ranges[-1]
                ranges[-1] = (start, max(end, fragment.endchar), matches + list(fragment.matches))
            else:
                ranges.append((fragment.startchar, fragment.endchar, list(fragment.matches)))
        pieces = []
        for start, end, matches in ranges:
            text = source[start:end]
            spans = [(t.startchar - start, t.endchar - start) for t in matches]
            if start > 0:
                text, spans = "…" + text, [(a + 1, b + 1) for a, b in spans]
            if end < len(source):
                text += "…"
            pieces.append(_squeeze_whitespace(text, spans))
        return join_pieces(pieces)


def join_pieces(pieces: Sequence[tuple[str, list[tuple[int, int]]]]) -> Snippet:
    """One snippet of several fragments: spans shifted into place, adjacent ones merged."""
    text = ""
    spans: list[tuple[int, int]] = []
    for piece, piece_spans in pieces:
        if text:  # one separator between fragments, not "… … …"
            text = text.removesuffix("…") + SEPARATOR
            if piece.startswith("…"):
                piece, piece_spans = piece[1:], [(a - 1, b - 1) for a, b in piece_spans]
        offset = len(text)
        spans.extend((a + offset, b + offset) for a, b in piece_spans)
        text += piece
    return Snippet(text, _merge(text, spans))


def _squeeze_whitespace(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """Paragraph breaks and runs of spaces become one space (none at the start); spans follow
    the characters. A few runs a fragment: worked out run by run, not character by character."""
    runs = [(m.start(), m.end(), 0 if m.start() == 0 else 1) for m in _WHITESPACE.finditer(text)]
    if not runs:
        return text, spans
    pieces, last = [], 0
    for start, end, kept in runs:
        pieces += [text[last:start], " " * kept]
        last = end
    pieces.append(text[last:])
    starts = [start for start, _, _ in runs]
    removed_before = [0]  # characters removed by the runs before each run
    for start, end, kept in runs:
        removed_before.append(removed_before[-1] + (end - start) - kept)

    def where(offset: int) -> int:
        at = bisect_right(starts, offset) - 1  # the last run that starts at or before offset
        if at < 0:
            return offset
        start, end, kept = runs[at]
        if offset >= end:
            return offset - removed_before[at + 1]
        squeezed = start - removed_before[at]
        return squeezed if offset == start else squeezed + kept

    return "".join(pieces), [(where(a), where(b)) for a, b in spans]


_WHITESPACE = re.compile(r"\s+")


def _merge(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip()):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def score_fragment(fragment: Any) -> float:
    """Rank fragments: more distinct query words first, then nearer the start of the article
    (a news lead sums the story up), then more matches."""
    distinct = len({token.text for token in fragment.matches})
    earliness = 1 - fragment.startchar / max(len(fragment.text), 1)
    return distinct * 100 + earliness * 10 + min(len(fragment.matches), 3)


def body_highlighter() -> highlight.Highlighter:
    """Fragments of up to about 220 characters around the matches, shown in text order."""
    return highlight.Highlighter(
        fragmenter=highlight.PinpointFragmenter(
            maxchars=FRAGMENT_CHARS, surround=CONTEXT_CHARS, autotrim=True, charlimit=None
        ),
        scorer=score_fragment,
        formatter=SnippetFormatter(),
        order=highlight.FIRST,
    )


def title_highlighter() -> highlight.Highlighter:
    """The whole title, matches marked."""
    return highlight.Highlighter(
        fragmenter=highlight.PinpointFragmenter(maxchars=10_000, surround=10_000, charlimit=None),
        formatter=SnippetFormatter(),
    )


def highlight_matches(
    highlighter: highlight.Highlighter, text: str, matches: Iterable[tuple[str, int, int]], *, top: int
) -> Snippet:
    """The ``top`` best fragments of ``text`` around ``matches``, ``(word, start, end)`` offsets
    as the index stores them for one article (see ``Index._matches``)."""
    longest: dict[int, tuple[str, int, int]] = {}
    for word, start, end in matches:  # a word matched as itself and as part of a name: once
        if start not in longest or end > longest[start][2]:
            longest[start] = (word, start, end)
    tokens = [Token(text=word, startchar=start, endchar=end) for word, start, end in sorted(longest.values(), key=lambda m: m[1])]
    fragments = highlighter.fragmenter.fragment_matches(text, tokens)
    best = highlight.top_fragments(fragments, top, highlighter.scorer, highlighter.order, minscore=1)
    return highlighter.formatter.format(best)


_WORD_BOUNDARY = re.compile(r"\s+\S*$")


def leading_snippet(text: str, maxchars: int = FRAGMENT_CHARS + CONTEXT_CHARS) -> Snippet:
    """The start of ``text`` up to a word boundary, for a hit whose body matched nothing."""
    text = " ".join(text.split())
    if len(text) <= maxchars:
        return Snippet(text)
    cut = _WORD_BOUNDARY.sub("", text[: maxchars + 1])
    return Snippet(cut + "…")


def hit_snippets(title: str, body: str, title_matches: Iterable[tuple[str, int, int]],
                 body_matches: Iterable[tuple[str, int, int]]) -> tuple[Snippet, Snippet]:
    """A hit's snippet and its title marked, from where the query's words are in each: the two
    best fragments of the body (its start, or the headline of a flash, where no word matched
    in it), and the whole title (nothing marked where no word matched in it)."""
    snippet = highlight_matches(body_highlighter(), body, body_matches, top=2)
    if not snippet.spans:
        snippet = leading_snippet(body if body.strip() else title)
    title_snippet = highlight_matches(title_highlighter(), title, title_matches, top=1)
    if title_snippet.text != title:
        title_snippet = Snippet(title)
    return snippet, title_snippet
