"""Settings: where the corpus and the index live.

Defaults are relative to the working directory, so that a fresh clone works as it is:
``./corpus`` (which ships the seed article) and ``./indexes/main``. ``Settings.from_env()`` reads
``SEARCHLIB_CORPUS`` and ``SEARCHLIB_INDEX``; nothing is read at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import attrs

__all__ = ["Settings", "DEFAULT_CORPUS", "DEFAULT_INDEX"]

DEFAULT_CORPUS = Path("corpus")
DEFAULT_INDEX = Path("indexes/main")


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
