"""Near-duplicate detection: the same story filed again (wire copies, corrections, re-posts).

Each article is reduced to the set of its five-word shingles, summarised by a MinHash, and
looked up in a MinHash LSH index (both from ``datasketch``), so a build finds the articles it
has already seen whose shingles overlap this one's by ``THRESHOLD`` or more without comparing
every pair: the cost grows with the number of articles, not with its square. Copies must also be
dated within ``WINDOW`` of each other. An article that
matches an earlier one joins that one's story; the story's id is the id of its first article.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import attrs
import numpy as np
from datasketch import MinHash, MinHashLSH

__all__ = ["DuplicateFinder", "THRESHOLD", "WINDOW", "shingles"]

#: The estimated Jaccard similarity of shingle sets from which two articles are one story.
THRESHOLD = 0.7
#: How far apart two dated copies of one story may be. Repeats and corrections follow within
#: days; weekly and monthly reports that reuse one template ("USDA orange juice yield
#: estimate") are different stories.
WINDOW = timedelta(days=7)
PERMUTATIONS = 64
SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+")


def shingles(text: str) -> set[bytes]:
    """The overlapping five-word sequences of ``text``, lower-cased, punctuation ignored."""
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE_WORDS:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(len(words) - SHINGLE_WORDS + 1)}


@attrs.define
class DuplicateFinder:
    """Assigns each article a story id as a build meets it.

    Example:
        >>> finder = DuplicateFinder()
        >>> finder.story("a", "Wheat exports rose sharply in March, traders in Chicago said on Monday.")
        'a'
        >>> finder.story("b", "Wheat exports rose sharply in March, traders in Chicago said on Monday. Corrected.")
        'a'
    """

    threshold: float = THRESHOLD
    _lsh: MinHashLSH = attrs.field(init=False)
    # Per article seen: its MinHash values (to confirm an LSH candidate) and its story.
    _signatures: dict[str, np.ndarray] = attrs.field(init=False, factory=dict)
    _stories: dict[str, str] = attrs.field(init=False, factory=dict)
    _dates: dict[str, datetime] = attrs.field(init=False, factory=dict)
    _order: dict[str, int] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=PERMUTATIONS)

    def story(self, article_id: str, text: str, date: datetime | None = None) -> str:
        """The story of this article: that of the earlier article it nearly duplicates (the
        most similar one dated within ``WINDOW`` of it), or its own id. Articles under ten
        words are stories of their own."""
        parts = shingles(text)
        if len(parts) < 6:
            return article_id
        signature = MinHash(num_perm=PERMUTATIONS)
        signature.update_batch(list(parts))
        values = signature.hashvalues
        similarity = {
            candidate: float(np.count_nonzero(self._signatures[candidate] == values)) / PERMUTATIONS
            for candidate in self._lsh.query(signature)
            if self._close_in_time(date, self._dates.get(candidate))
        }
        # The most similar; of equals, the one met first, so stories do not depend on hashing.
        best = max(similarity, key=lambda c: (similarity[c], -self._order[c]), default=None)
        story = self._stories[best] if best is not None and similarity[best] >= self.threshold else article_id
        self._lsh.insert(article_id, signature, check_duplication=False)
        self._signatures[article_id] = values
        self._stories[article_id] = story
        self._order[article_id] = len(self._order)
        if date is not None:
            self._dates[article_id] = date
        return story

    @staticmethod
    def _close_in_time(first: datetime | None, second: datetime | None) -> bool:
        return first is None or second is None or abs(first - second) <= WINDOW
