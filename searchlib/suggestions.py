""""Did you mean": the query with its misspelt words corrected from the index's own words.

As Lucene's DirectSpellChecker: a correction is a word of the spelling vocabulary (words as
written, not stems) within two edits of the word typed (Damerau-Levenshtein, a swap of two
letters counting as one), starting with the same letter, which is rarely the one mistyped; the
fewest edits win, then the most frequent. A word the index does not hold is corrected when there
is such a word. A word it holds, as typed or in another form ("say", where articles say "says"),
is corrected only when it is rare and a near spelling is far more frequent (Lucene's
SUGGEST_MORE_POPULAR, with its maxQueryFrequency): "Volker", in one Reuters article, is
corrected to "Volcker", in 118; a word that stems as its correction does (a plural, say) never
is, since it finds the same. Common words are neither corrected nor corrections: a query leaves
them out (query_language.py), or the index never held them.
"""

from __future__ import annotations

import re

from .analysis import QUERY_STOP_WORDS, STOP_WORDS, fold
from .matching import words_within
from .query_language import OPERATORS
from .snapshot import Snapshot

__all__ = ["suggest"]

#: A word the index holds is taken for a possible slip only if it is in this few articles (or
#: one in 10,000, in a larger index): wire copy has its typos, once or twice ("intrest").
RARE = 2
#: A near spelling corrects such a word if it is in this many times more articles, and in at
#: least ``POPULAR``: "Volker" (1 Reuters article) becomes "Volcker" (118); "coup" (14) stays,
#: though "corp" is in 5,150.
MORE_POPULAR = 20
POPULAR = 10
#: How many words of a query are looked up (a few milliseconds each): a pasted paragraph of
#: 2,000 words would take ten seconds.
MOST_WORDS = 12
_COMMON = STOP_WORDS | QUERY_STOP_WORDS
# Words a user typed: not field names ("title:"), not dates ("date:march"), not inside date
# clauses or ranges.
_SUGGESTABLE_WORD = re.compile(r"(?<![\w*~^\[])(?<![dD][aA][tT][eE]:)[^\W\d_][\w'’]*(?![\w:*~\]])(?!\S*\])")


def suggest(snapshot: Snapshot, query: str) -> str | None:
    """The query with its misspelt words corrected, or ``None`` if there is nothing to correct.

    Example:
        ``suggest(snapshot, "militray base")`` -> ``"military base"``
    """
    vocabulary = snapshot.vocabulary()
    changed = False
    looked_up = 0

    def correct(match: re.Match[str]) -> str:
        nonlocal changed, looked_up
        word = match.group()
        typed = fold(word)
        if len(typed) < 3 or word in OPERATORS or typed in _COMMON or looked_up >= MOST_WORDS:
            return word  # a common word is left out or not indexed: nothing to correct
        looked_up += 1
        stem = _stem_of(snapshot, typed)
        # The articles with the word as typed, or else with another form of it ("say": "says").
        count = vocabulary.count(typed) or snapshot.articles_with(stem)
        if count > max(RARE, snapshot.size // 10_000):
            return word  # too common to be a slip
        candidates = words_within(snapshot, typed, 2, prefix=1)
        candidates.pop(typed, None)
        least = max(MORE_POPULAR * count, POPULAR) if count else 0
        candidates = {c: edits for c, edits in candidates.items()
                      if vocabulary.count(c) >= least and _stem_of(snapshot, c) != stem}
        if not candidates:
            return word
        best = min(candidates, key=lambda c: (candidates[c], -vocabulary.count(c), c))
        if best in _COMMON:
            return word  # "whatt" is "what", which a search leaves out: no "wyatt" in its place
        changed = True
        if len(word) > 1 and word.isupper():
            return best.upper()  # "WHEET" is "WHEAT": "Wheat" in capitals would make the query's other words acronyms
        return best.capitalize() if word[:1].isupper() else best

    suggestion = _SUGGESTABLE_WORD.sub(correct, query)
    return suggestion if changed else None


def _stem_of(snapshot: Snapshot, word: str) -> str:
    """The term the index holds for ``word`` (itself for a stop word)."""
    return next(iter(snapshot.schema["body"].process_text(word, mode="query")), word)
