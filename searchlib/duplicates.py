"""Near-duplicate detection: the same story filed again (wire copies, corrections, re-posts).

Each article is reduced to the set of its five-word shingles, summarised by a MinHash, and
looked up in a MinHash LSH index (both from ``datasketch``), so a build finds the articles it
has already seen whose shingles overlap this one's by ``THRESHOLD`` or more without comparing
every pair: the cost grows with the number of articles, not with its square. Copies must also be
dated within ``WINDOW`` of each other. An article that
matches an earlier one joins that one's story; the story's id is the id of its first article.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

if TYPE_CHECKING:
    from datasketch import MinHash

__all__ = ["DuplicateFinder", "THRESHOLD", "WINDOW", "signature", "signatures"]

#: The estimated Jaccard similarity of shingle sets from which two articles are one story.
THRESHOLD = 0.7
#: How far apart two dated copies of one story may be. Repeats and corrections follow within
#: days; weekly and monthly reports that reuse one template ("USDA orange juice yield
#: estimate") are different stories.
WINDOW = timedelta(days=7)
PERMUTATIONS = 64
SCHEME = "affine32"  # datasketch 2 permutation scheme; 32-bit values, saved as such
SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+")


def signature(text: str) -> np.ndarray | None:
    """The MinHash values of the shingles of ``text`` (its overlapping five-word sequences,
    lower-cased, punctuation ignored); ``None`` for a text of fewer than six distinct shingles
    (ten words), which is a story of its own."""
    return signatures([text])[0]


def signatures(texts: list[str]) -> list[np.ndarray | None]:
    """``signature`` of each of ``texts``, computed together.

    A shingle's hash is made from its words' hashes (each word hashed once, then remembered),
    for all shingles of all the texts at once in numpy: hashing each shingle's text with SHA-1,
    one at a time, was four fifths of the time a build spent on stories, and numpy's calls for
    each text alone half of what was left."""
    words = [_WORD.findall(text.lower()) for text in texts]
    if len(_WORD_HASHES) > 1_000_000:
        _WORD_HASHES.clear()
    for word in set().union(*words).difference(_WORD_HASHES):
        _WORD_HASHES[word] = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
    lengths = np.array([len(found) for found in words], dtype=np.int64)
    hashes = np.fromiter(map(_WORD_HASHES.__getitem__, itertools.chain.from_iterable(words)), dtype=np.uint64,
                         count=int(lengths.sum()))
    # Shingles of the texts joined, those that run from one text into the next left out.
    count = max(hashes.size - SHINGLE_WORDS + 1, 0)
    combined = hashes[:count].copy()
    for offset in range(1, SHINGLE_WORDS):  # a polynomial in the five words' hashes, mod 2**64
        combined = combined * _MULTIPLIER + hashes[offset : offset + count]
    owner = np.repeat(np.arange(len(texts), dtype=np.uint64), lengths)[:count]  # the text a shingle starts in
    whole = np.arange(count) + SHINGLE_WORDS <= np.repeat(np.cumsum(lengths), lengths)[:count]
    shingles = (_fmix(combined[whole], 64) >> np.uint64(32)) | (owner[whole] << np.uint64(32))
    distinct = np.unique(shingles)  # by text, then shingle
    texts_of = (distinct >> np.uint64(32)).astype(np.int64)
    # What datasketch's MinHash.update_batch computes (scheme affine32): each hash mixed, then
    # each permutation a * h + b (mod 2**32), and the least value per permutation.
    a, b = _permutations()
    mixed = _fmix(distinct.astype(np.uint32), 32).reshape(-1, 1)
    sizes = np.bincount(texts_of, minlength=len(texts))
    firsts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    shingled = np.flatnonzero(sizes)  # reduceat's slices run from one of these texts to the next
    least: Any = np.minimum.reduceat(mixed * a + b, firsts[shingled], axis=0) if shingled.size else []
    result: list[np.ndarray | None] = [None] * len(texts)
    for text, values in zip(shingled.tolist(), least):
        if sizes[text] >= 6:
            result[text] = values
    return result


_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_WORD_HASHES: dict[str, int] = {}


# MurmurHash3's finalizers, for 32- and 64-bit values: (shift, multiplier, shift, multiplier, shift).
_FMIX = {
    32: (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16)),
    64: (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(33), np.uint64(0xC4CEB9FE1A85EC53), np.uint64(33)),
}


def _fmix(values: np.ndarray, width: int) -> np.ndarray:
    """MurmurHash3's finalizer: every bit of the result depends on every bit of the input
    (the 32-bit one is what datasketch applies before its permutations)."""
    first, times, second, again, third = _FMIX[width]
    values = values ^ (values >> first)
    values = values * times
    values = values ^ (values >> second)
    values = values * again
    return values ^ (values >> third)


def _minhash(values: np.ndarray | None = None) -> MinHash:
    from datasketch import MinHash

    # Drawing the permutations anew for each MinHash cost a third of its time.
    return MinHash(num_perm=PERMUTATIONS, hashvalues=values, scheme=SCHEME, permutations=_permutations())


@lru_cache(maxsize=1)
def _permutations() -> Any:
    from datasketch import MinHash

    return MinHash(num_perm=PERMUTATIONS, scheme=SCHEME).permutations


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
    _lsh: Any = attrs.field(init=False)  # datasketch.MinHashLSH, imported when first needed
    # Per article seen: its MinHash values (to confirm an LSH candidate) and its story.
    _signatures: dict[str, np.ndarray] = attrs.field(init=False, factory=dict)
    _stories: dict[str, str] = attrs.field(init=False, factory=dict)
    _dates: dict[str, datetime] = attrs.field(init=False, factory=dict)
    _order: dict[str, int] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        from datasketch import MinHashLSH  # with SciPy, a third of a second: writers only

        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=PERMUTATIONS)

    def story(self, article_id: str, text: str, date: datetime | None = None) -> str:
        """The story of this article: that of the earlier article it nearly duplicates (the
        most similar one dated within ``WINDOW`` of it), or its own id. Articles under ten
        words are stories of their own."""
        return self.story_of(article_id, signature(text), date)

    def story_of(self, article_id: str, values: np.ndarray | None, date: datetime | None = None) -> str:
        """``story`` for an article whose ``signature`` is already known."""
        if values is None:
            return article_id
        minhash = _minhash(values)
        similarity = {
            candidate: float(np.count_nonzero(self._signatures[candidate] == values)) / PERMUTATIONS
            for candidate in self._lsh.query(minhash)
            if self._close_in_time(date, self._dates.get(candidate))
        }
        # The most similar; of equals, the one met first, so stories do not depend on hashing.
        best = max(similarity, key=lambda c: (similarity[c], -self._order[c]), default=None)
        story = self._stories[best] if best is not None and similarity[best] >= self.threshold else article_id
        self._lsh.insert(article_id, minhash, check_duplication=False)
        self._signatures[article_id] = values
        self._stories[article_id] = story
        self._order[article_id] = len(self._order)
        if date is not None:
            self._dates[article_id] = date
        return story

    def forget(self, article_id: str) -> None:
        """Drop an article (removed from the corpus, or about to be re-read after a change)."""
        if article_id in self._signatures:
            self._lsh.remove(article_id)
            del self._signatures[article_id]
        self._stories.pop(article_id, None)
        self._dates.pop(article_id, None)

    def save(self, path: Path) -> None:
        """Write what the finder knows, so an update can go on where a build left off."""
        ids = [i for i in self._stories if i in self._signatures]
        values = np.array([self._signatures[i] for i in ids], dtype=np.uint32).reshape(len(ids), PERMUTATIONS)
        dates = np.array([self._dates[i].timestamp() if i in self._dates else np.nan for i in ids], dtype=np.float64)
        stories = [self._stories[i] for i in ids]
        with open(path, "wb") as stream:
            np.savez_compressed(stream, ids=np.array(ids, dtype=object), values=values, dates=dates,
                                stories=np.array(stories, dtype=object))

    @classmethod
    def load(cls, path: Path, *, threshold: float = THRESHOLD) -> DuplicateFinder:
        """A finder that knows the articles ``save`` wrote, in the order they were met."""
        finder = cls(threshold)
        with np.load(path, allow_pickle=True) as saved:
            for article_id, values, moment, story in zip(saved["ids"], saved["values"], saved["dates"], saved["stories"]):
                signature = _minhash(values.astype(np.uint64))
                finder._lsh.insert(article_id, signature, check_duplication=False)
                finder._signatures[article_id] = signature.hashvalues
                finder._stories[article_id] = str(story)
                finder._order[article_id] = len(finder._order)
                if not np.isnan(moment):
                    finder._dates[article_id] = datetime.fromtimestamp(float(moment))
        return finder

    @staticmethod
    def _close_in_time(first: datetime | None, second: datetime | None) -> bool:
        return first is None or second is None or abs(first - second) <= WINDOW
