"""Settings: where the corpus and the index live.

Defaults are relative to the working directory, so that a fresh clone works as it is:
``./corpus`` (which ships the seed article) and ``./indexes/main``. ``Settings.from_env()`` reads
``SEARCHLIB_CORPUS`` and ``SEARCHLIB_INDEX``; nothing is read at import time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from .errors import InvalidOptionError

__all__ = ["Settings", "Ranking", "DEFAULT_CORPUS", "DEFAULT_INDEX", "DEFAULT_FIELD_WEIGHTS"]

DEFAULT_CORPUS = Path("corpus")
DEFAULT_INDEX = Path("indexes/main")

#: The fields plain words search, and how much a match in each counts. By default one field,
#: ``text``: title, caption and body combined with the title counted twice (schema.combined_text),
#: which is BM25F proper; naming separate fields instead adds up a BM25 score per field.
DEFAULT_FIELD_WEIGHTS = {"text": 1.0}
SEARCHABLE_TEXT_FIELDS = ("text", "title", "entities", "caption", "body")
#: The fields whose words the spelling vocabulary holds as written: a wildcard in them is matched
#: against those words, then searched by their stems (matching.spelled_stems).
SPELLED_FIELDS = frozenset({"text", "title", "caption", "body"})


@attrs.frozen(kw_only=True)
class Settings:
    """Paths searchlib works with when the caller does not name them."""

    corpus: Path = attrs.field(default=DEFAULT_CORPUS, converter=Path)
    index: Path = attrs.field(default=DEFAULT_INDEX, converter=Path)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``SEARCHLIB_CORPUS`` / ``SEARCHLIB_INDEX``, defaults where unset or empty."""
        env = os.environ if environ is None else environ
        values = {
            name: env[var]
            for name, var in (("corpus", "SEARCHLIB_CORPUS"), ("index", "SEARCHLIB_INDEX"))
            if env.get(var)
        }
        return cls(**values)


def _weights(value: Mapping[str, float] | str) -> dict[str, float]:
    """Field weights from a mapping or from text like ``"title=2,body=1"``."""
    if isinstance(value, str):
        pairs = [part.split("=", 1) for part in value.split(",") if part.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError(f"Field weights {value!r}: write them as field=weight,field=weight")
        value = {name.strip(): float(weight) for name, weight in pairs}
    unknown = set(value) - set(SEARCHABLE_TEXT_FIELDS)
    if unknown or not value:
        raise ValueError(
            f"Field weights {dict(value)!r}: give one or more of {', '.join(SEARCHABLE_TEXT_FIELDS)}"
        )
    if not all(0 < weight <= 100 for weight in value.values()):  # so neither nan nor inf
        raise ValueError(f"Field weights {dict(value)!r}: each must be above 0 and at most 100")
    return dict(value)


def _within(low: float, high: float) -> Callable[[Any, Any, float], None]:
    """A validator: the value is a number from ``low`` to ``high`` (so not NaN, nor infinite,
    which would make every score NaN)."""

    def check(instance: Any, attribute: Any, value: float) -> None:
        if not low <= value <= high:
            raise InvalidOptionError(f"{attribute.name} must be from {low:g} to {high:g}, not {value!r}")

    return check


@attrs.frozen(kw_only=True)
class Ranking:
    """How plain words are scored: Whoosh's BM25F parameters, the weight of each field, how much
    closeness counts, and query expansion.

    ``k1`` sets how fast repeats of a word stop adding to the score, ``b`` how much a long
    article is discounted; ``field_weights`` names the fields a plain query searches and how
    much a match in each counts. ``proximity`` is the weight of the closeness score
    (proximity.py; 0 turns it off). ``feedback`` is the number of best articles taken as
    relevant for pseudo-relevance feedback (RM3, as Anserini has it; 0, the default, turns it
    off): the ``feedback_terms`` words most typical of them are added to the query, which keeps
    ``feedback_weight`` of the weight. ``Ranking.from_env()`` reads ``SEARCHLIB_BM25_K1``,
    ``SEARCHLIB_BM25_B``, ``SEARCHLIB_FIELD_WEIGHTS`` (``title=2,body=1``),
    ``SEARCHLIB_PROXIMITY``, ``SEARCHLIB_FEEDBACK``, ``SEARCHLIB_FEEDBACK_TERMS`` and
    ``SEARCHLIB_FEEDBACK_WEIGHT``.
    """

    k1: float = attrs.field(default=1.2, converter=float, validator=_within(0, 10))
    b: float = attrs.field(default=0.75, converter=float, validator=_within(0, 1))
    field_weights: dict[str, float] = attrs.field(factory=lambda: dict(DEFAULT_FIELD_WEIGHTS), converter=_weights)
    proximity: float = attrs.field(default=0.25, converter=float, validator=_within(0, 10))
    feedback: int = attrs.field(default=0, converter=int, validator=_within(0, 1000))
    feedback_terms: int = attrs.field(default=10, converter=int, validator=_within(1, 1000))
    feedback_weight: float = attrs.field(default=0.5, converter=float, validator=_within(0, 1))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Ranking:
        """The ranking the environment asks for, defaults where it says nothing.

        Raises:
            ValueError: a variable's value cannot be used; the message names the variable.
        """
        env = os.environ if environ is None else environ
        given = {name: env[var] for name, var in _RANKING_VARIABLES.items() if env.get(var)}
        try:
            return cls(**given)
        except ValueError as error:
            names = ", ".join(_RANKING_VARIABLES[name] for name in given)
            raise ValueError(f"{names}: {error}") from None


_RANKING_VARIABLES = {
    "k1": "SEARCHLIB_BM25_K1",
    "b": "SEARCHLIB_BM25_B",
    "field_weights": "SEARCHLIB_FIELD_WEIGHTS",
    "proximity": "SEARCHLIB_PROXIMITY",
    "feedback": "SEARCHLIB_FEEDBACK",
    "feedback_terms": "SEARCHLIB_FEEDBACK_TERMS",
    "feedback_weight": "SEARCHLIB_FEEDBACK_WEIGHT",
}
