"""The spelling vocabulary: every word of the articles as written (lower-cased, accents folded,
not stemmed), with the number of articles it occurs in. "Did you mean" and fuzzy words draw
from it (query.py).

It is kept beside the Whoosh index of each generation, in ``vocabulary.json``, rather than as
an indexed field: a build counts it as it analyses (``analysis.token_terms`` gives each word's
spelling form anyway), where a field cost a third of all the postings a build wrote. An update
subtracts the words of the articles it removes or replaces and adds those of the articles it
indexes.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .analysis import token_terms
from .schema import write_json

__all__ = ["VOCABULARY_STATE", "article_words", "load_vocabulary", "save_vocabulary"]

VOCABULARY_STATE = "vocabulary.json"


def article_words(*texts: str) -> set[str]:
    """The distinct words of an article's texts, as the vocabulary holds them."""
    return {spelling for text in texts for spelling, *_ in token_terms(text)}


def load_vocabulary(generation: Path) -> Counter[str]:
    """The vocabulary of a generation: each word and the number of articles it is in (empty
    when the generation has none)."""
    try:
        return Counter(json.loads((generation / VOCABULARY_STATE).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return Counter()


def save_vocabulary(generation: Path, vocabulary: Counter[str]) -> None:
    for word in [word for word, count in vocabulary.items() if count <= 0]:  # removed by an update
        del vocabulary[word]
    write_json(generation / VOCABULARY_STATE, vocabulary, indent=None)
