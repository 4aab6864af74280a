"""The spelling vocabulary: every word of the articles as written (lower-cased, accents folded,
not stemmed), with the number of articles it occurs in and its stem. "Did you mean", fuzzy words
and query analysis draw from it (query.py, suggestions.py, analysis.remember_stems).

It is kept beside the Whoosh index of each generation, in ``vocabulary.npz``, rather than as an
indexed field: a build counts it as it analyses (``analysis.token_terms`` gives each word's
spelling form and stem anyway), where a field cost a third of all the postings a build wrote.
An update subtracts the words of the articles it removes or replaces and adds those of the
articles it indexes.

The file holds three columns in word order: the words and the stems each as one block of text,
a line a word, and the counts as numbers. A search reads it in milliseconds (a JSON object of the
64,000 words of Reuters took 40 ms to parse, a tenth of a whole command-line search), looks a
word up by bisection, and stems a query word it holds without loading NLTK.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import attrs
import numpy as np

from .analysis import token_terms

__all__ = ["VOCABULARY_STATE", "Vocabulary", "article_words", "save_vocabulary"]

VOCABULARY_STATE = "vocabulary.npz"


def article_words(*texts: str) -> set[str]:
    """The distinct words of an article's texts, as the vocabulary holds them."""
    return {spelling for text in texts for spelling, *_ in token_terms(text)}


@attrs.frozen
class Vocabulary:
    """A generation's words, sorted, with the number of articles each is in and its stem (empty
    for a stop word)."""

    words: list[str]
    counts: np.ndarray
    stems: list[str]

    @classmethod
    def load(cls, generation: Path) -> Vocabulary:
        """The vocabulary of a generation (empty when it has none)."""
        try:
            with np.load(generation / VOCABULARY_STATE) as saved:
                counts = saved["counts"].astype(np.int64)
                words, stems = (_lines(saved[name], len(counts)) for name in ("words", "stems"))
                return cls(words, counts, stems)
        except (OSError, ValueError, KeyError):
            return cls([], np.zeros(0, dtype=np.int64), [])

    def count(self, word: str) -> int:
        """How many articles ``word`` (as the vocabulary holds it) is in."""
        at = bisect_left(self.words, word)
        return int(self.counts[at]) if at < len(self.words) and self.words[at] == word else 0

    def counter(self) -> Counter[str]:
        """Each word's count, for a writer to change."""
        return Counter(dict(zip(self.words, self.counts.tolist())))

    def stem_map(self) -> dict[str, str | None]:
        return dict(zip(self.words, self.stems))


def save_vocabulary(generation: Path, counts: Counter[str], stems: Mapping[str, str | None]) -> None:
    """Write the words whose count is above 0 (an update leaves removed words at 0) with their
    counts and stems."""
    words = sorted(word for word, count in counts.items() if count > 0)
    with open(generation / VOCABULARY_STATE, "wb") as stream:
        np.savez(stream, words=_block(words), stems=_block([stems.get(word) or "" for word in words]),
                 counts=np.array([counts[word] for word in words], dtype=np.uint32))


def _block(lines: list[str]) -> np.ndarray:
    return np.frombuffer("\n".join(lines).encode("utf-8", "surrogatepass"), dtype=np.uint8)


def _lines(block: np.ndarray, count: int) -> list[str]:
    """The ``count`` lines of ``block`` (one empty line and none are both empty)."""
    return block.tobytes().decode("utf-8", "surrogatepass").split("\n") if count else []
