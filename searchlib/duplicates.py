"""Near-duplicate detection: the same story filed again (wire copies, corrections, re-posts).

Each article is reduced to the set of its five-word shingles, summarised by a MinHash signature,
and looked up by locality-sensitive hashing (LSH: bands of the signature), so a build finds the
articles it has already seen whose shingles overlap this one's by ``THRESHOLD`` or more without
comparing every pair: the cost grows with the number of articles, not with its square. Copies
must also be dated within ``WINDOW`` of each other. An article that matches an earlier one joins
that one's story; the story's id is the id of its first article.

The signatures, permutations and bands are datasketch's (MinHash with scheme affine32,
MinHashLSH), computed here with numpy and kept in arrays: datasketch's LSH held three times the
memory, imported SciPy, and handled one article per call."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from typing import Any

import attrs
import numpy as np

__all__ = ["DuplicateFinder", "THRESHOLD", "WINDOW", "SIGNATURE_CHARACTERS", "signature", "signatures"]

#: The estimated Jaccard similarity of shingle sets from which two articles are one story.
THRESHOLD = 0.7
#: How far apart two dated copies of one story may be. Repeats and corrections follow within
#: days; weekly and monthly reports that reuse one template ("USDA orange juice yield
#: estimate") are different stories.
WINDOW = timedelta(days=7)
PERMUTATIONS = 64
SHINGLE_WORDS = 5
_WORD = re.compile(r"\w+")
#: The characters of an article its signature is made from: the first 100,000 (some 16,000
#: words; the longest article of the corpora we test with, a Wikipedia page, has 93,000). Two
#: articles alike that far are one story whatever follows. Without a cap, each distinct shingle
#: cost 256 bytes in the permutations' matrix: one 200 MB article made numpy ask for 8 GiB.
SIGNATURE_CHARACTERS = 100_000
#: The characters whose shingles one numpy pass of ``signatures`` takes at most (a single
#: text of up to ``SIGNATURE_CHARACTERS`` aside): a batch of long articles is signed a part at a
#: time, in some 100 MB, while a batch of news articles (a few KB each) still takes one pass.
_PASS_CHARACTERS = 400_000


def signature(text: str) -> np.ndarray | None:
    """The MinHash values of the shingles of ``text`` (its overlapping five-word sequences,
    lower-cased, punctuation ignored); ``None`` for a text of fewer than six distinct shingles
    (ten words), which is a story of its own."""
    return signatures([text])[0]


def signatures(texts: list[str]) -> list[np.ndarray | None]:
    """``signature`` of each of ``texts`` (of its first ``SIGNATURE_CHARACTERS``), computed
    together.

    A shingle's hash is made from its words' hashes (each word hashed once, then remembered),
    for all shingles of all the texts at once in numpy: hashing each shingle's text with SHA-1,
    one at a time, was four fifths of the time a build spent on stories, and numpy's calls for
    each text alone half of what was left."""
    result: list[np.ndarray | None] = []
    for part in _parts([text[:SIGNATURE_CHARACTERS] for text in texts]):
        result += _signatures(part)
    return result


def _parts(texts: list[str]) -> Iterator[list[str]]:
    """``texts`` in runs of at most ``_PASS_CHARACTERS`` characters (a longer text alone)."""
    part: list[str] = []
    size = 0
    for text in texts:
        if part and size + len(text) > _PASS_CHARACTERS:
            yield part
            part, size = [], 0
        part.append(text)
        size += len(text)
    if part:
        yield part


def _signatures(texts: list[str]) -> list[np.ndarray | None]:
    words = [_WORD.findall(text.lower()) for text in texts]
    if len(_WORD_HASHES) > 1_000_000:
        _WORD_HASHES.clear()
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
    shingles.sort()  # by text, then shingle; np.unique took three times as long
    first = np.ones(shingles.size, dtype=bool)
    first[1:] = shingles[1:] != shingles[:-1]
    distinct = shingles[first]
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


class _WordHashes(dict[str, int]):
    """Each word's 64-bit hash, computed the first time it is asked for."""

    def __missing__(self, word: str) -> int:
        hashed = self[word] = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        return hashed


_WORD_HASHES = _WordHashes()


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


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The 64 permutations ``a * h + b`` (mod 2**32): datasketch's (MinHash, scheme affine32,
    seed 1), drawn as it draws them, so signatures are what its MinHash computes."""
    draw = np.random.RandomState(1)
    a = draw.randint(0, 1 << 31, PERMUTATIONS, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = draw.randint(0, 1 << 32, PERMUTATIONS, dtype=np.uint32)
    return a, b


#: LSH bands: two articles are compared when all the values of one band of their signatures are
#: equal. Eight bands of eight values is what datasketch's MinHashLSH chooses for THRESHOLD 0.7
#: and 64 permutations (false positives and false negatives weighed alike).
BANDS, ROWS = 8, 8
_BAND_MULTIPLIER = np.uint64(0x100000001B3)


def _band_keys(values: np.ndarray) -> np.ndarray:
    """A 64-bit key for each band of each signature (a row of ``values``), different for each
    band number: the band's number and values as a polynomial in ``_BAND_MULTIPLIER`` (mod
    2**64), mixed."""
    rows = values.reshape(-1, BANDS, ROWS).astype(np.uint64)
    return _fmix(rows @ _ROW_POWERS + _BAND_STARTS, 64)


_ROW_POWERS = np.array([pow(int(_BAND_MULTIPLIER), ROWS - 1 - row, 2**64) for row in range(ROWS)], dtype=np.uint64)
_BAND_STARTS = np.arange(BANDS, dtype=np.uint64) * np.uint64(pow(int(_BAND_MULTIPLIER), ROWS, 2**64))


@attrs.define
class DuplicateFinder:
    """Assigns each article a story id as a build meets it.

    Example:
        >>> finder = DuplicateFinder()
        >>> finder.story("a", "Wheat exports rose sharply in March, traders in Chicago said on Monday.")
        'a'
        >>> finder.story("b", "Wheat exports rose sharply in March, traders in Chicago said on Monday. Corrected.")
        'a'

    The articles it knows are rows of arrays, in the order met: their signatures, dates and, per
    band, the row met before with the same band, so the rows sharing a band are a chain from the
    last one (``_last``, by band key). datasketch's MinHashLSH, used before, held a set and a
    bytes key per band and article: 284 MB for 100,000 articles, about three times this.
    """

    threshold: float = THRESHOLD
    _rows: dict[str, int] = attrs.field(init=False, factory=dict)  # article id -> its row
    _ids: list[str] = attrs.field(init=False, factory=list)
    _stories: list[str] = attrs.field(init=False, factory=list)
    _values: np.ndarray = attrs.field(init=False, factory=lambda: np.zeros((0, PERMUTATIONS), dtype=np.uint32))
    _dates: np.ndarray = attrs.field(init=False, factory=lambda: np.zeros(0))  # POSIX seconds, NaN if undated
    _before: np.ndarray = attrs.field(init=False, factory=lambda: np.zeros((0, BANDS), dtype=np.int32))
    _last: dict[int, int] = attrs.field(init=False, factory=dict)  # band key -> last row with it

    def story(self, article_id: str, text: str, date: datetime | None = None) -> str:
        """The story of this article: that of the earlier article it nearly duplicates (the
        most similar one dated within ``WINDOW`` of it), or its own id. Articles under ten
        words are stories of their own."""
        return self.story_of(article_id, signature(text), date)

    def story_of(self, article_id: str, values: np.ndarray | None, date: datetime | None = None) -> str:
        """``story`` for an article whose ``signature`` is already known."""
        if values is None:
            return article_id
        keys = _band_keys(values)[0].tolist()
        candidates = set()
        for band, key in enumerate(keys):
            row = self._last.get(key, -1)
            while row >= 0:
                candidates.add(row)
                row = int(self._before[row, band])
        moment = _seconds(date)
        best, similarity = None, 0.0
        for row in sorted(candidates):  # of equals, the one met first
            if self._known(row) and self._close_in_time(moment, float(self._dates[row])):
                alike = float(np.count_nonzero(self._values[row] == values)) / PERMUTATIONS
                if alike > similarity:
                    best, similarity = row, alike
        story = self._stories[best] if best is not None and similarity >= self.threshold else article_id
        self._add(article_id, values, moment, story, keys)
        return story

    def _add(self, article_id: str, values: np.ndarray, moment: float, story: str, keys: list[int]) -> None:
        row = len(self._ids)
        if row == len(self._values):  # grow the arrays, doubling
            size = max(1024, 2 * row)
            self._values = np.resize(self._values, (size, PERMUTATIONS))
            self._dates = np.resize(self._dates, size)
            self._before = np.resize(self._before, (size, BANDS))
        self._values[row] = values
        self._dates[row] = moment
        self._before[row] = [self._last.get(key, -1) for key in keys]
        for key in keys:
            self._last[key] = row
        self._ids.append(article_id)
        self._stories.append(story)
        self._rows[article_id] = row

    def forget(self, article_id: str) -> None:
        """Drop an article (removed from the corpus, or about to be re-read after a change)."""
        self._rows.pop(article_id, None)

    def _known(self, row: int) -> bool:
        """Whether the article of ``row`` is still known: not forgotten, nor met again since."""
        return self._rows.get(self._ids[row]) == row

    def save(self, path: Path) -> None:
        """Write what the finder knows, so an update can go on where a build left off."""
        rows = sorted(self._rows.values())
        with open(path, "wb") as stream:  # not compressed: hashes barely shrink (a tenth), for 15 times the time
            np.savez(stream, ids=np.array([self._ids[row] for row in rows], dtype=object),
                     values=self._values[rows], dates=self._dates[rows],
                     stories=np.array([self._stories[row] for row in rows], dtype=object))

    @classmethod
    def load(cls, path: Path, *, threshold: float = THRESHOLD) -> DuplicateFinder:
        """A finder that knows the articles ``save`` wrote, in the order they were met."""
        finder = cls(threshold)
        with np.load(path, allow_pickle=True) as saved:
            finder._ids = [str(article_id) for article_id in saved["ids"]]
            finder._stories = [str(story) for story in saved["stories"]]
            finder._values = saved["values"].astype(np.uint32).reshape(-1, PERMUTATIONS)
            finder._dates = saved["dates"].astype(np.float64)
        finder._rows = {article_id: row for row, article_id in enumerate(finder._ids)}
        if not finder._ids:  # every article too short for a signature: no chains to link
            return finder
        # The chains of rows that share a band, as _add links them one row at a time: each row
        # to the row before it with the same key, and the key to its last row.
        keys = _band_keys(finder._values)
        finder._before = np.full(keys.shape, -1, dtype=np.int32)
        for band in range(BANDS):
            order = np.argsort(keys[:, band], kind="stable")
            ordered = keys[order, band]
            same = ordered[1:] == ordered[:-1]
            finder._before[order[1:][same], band] = order[:-1][same]
            last = np.append(~same, True)
            finder._last.update(zip(ordered[last].tolist(), order[last].tolist()))
        return finder

    @staticmethod
    def _close_in_time(first: float, second: float) -> bool:
        return np.isnan(first) or np.isnan(second) or abs(first - second) <= WINDOW.total_seconds()


_EPOCH = datetime(1970, 1, 1)


def _seconds(date: datetime | None) -> float:
    """A date as POSIX seconds (NaN if unknown). Dates are UTC, naive or not: subtracted from
    the epoch rather than ``datetime.timestamp``, which takes a naive one for local time and
    fails on any date that local time puts before the year 1."""
    if date is None:
        return np.nan
    return (date - (_EPOCH if date.tzinfo is None else _EPOCH.replace(tzinfo=timezone.utc))).total_seconds()
