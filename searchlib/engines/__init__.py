"""The engines an index can live in, and how ``Index.open`` and ``build`` tell them apart.

searchlib's own parts are the same whatever the engine: the analysis (``analysis.token_terms``:
NLTK tokens and Snowball stems, accent folding, stop words), the entities, the stories of
near-duplicates, the dates, the query language (``query_language.parse_query``: text into a tree
of query objects), and the values a search returns (``models``). An engine does three things
only: it **stores** the analysed articles, **matches** a parsed query against them and
**scores** the matches.

    whoosh   the default, embedded engine: one directory of generations on this machine.
             Storage in ``schema``/``writer``/``workers``, matching in ``matching``/``ranking``,
             scoring in ``scoring``, all behind ``query.Index`` (left where they were).
    xapian   the scale-out engine (``engines/xapian.py`` searches, ``engines/xapian_build.py``
             writes): the articles split into shards by a hash of their id, each shard a Xapian
             database, searched here or served by ``xapian-tcpsrv`` on other machines; Xapian
             spreads a search over the shards and merges it with global statistics, so the
             scores are those of one index.

Both offer the same public methods (``search``, ``hits``, ``timeline``, ``more_like``,
``suggest``, ``ranked``, ``refresh``, ``close``, ``article_count``, ``metadata``); a feature one
engine cannot give is a ``SearchlibError`` saying so. Which engine an index uses is told by
what ``Index.open`` is given (``is_xapian``): a Whoosh index directory (a ``CURRENT`` file), a
Xapian index directory (``XAPIAN.json``), a cluster file (``host:port`` a line) or a
``xapian://host:port,host:port`` address. Nothing here imports Xapian: a Whoosh user needs no
Xapian installed.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from types import ModuleType

from ..errors import InvalidOptionError, SearchlibError, WriteRefusedError
from ..schema import CURRENT_FILE, GENERATION_PREFIX

__all__ = ["ENGINES", "XAPIAN_MARKER", "is_xapian", "is_xapian_address", "xapian_module", "engine_there", "engine_to_write"]

ENGINES = ("whoosh", "xapian")
#: The file that makes a directory a Xapian index of searchlib's (its shards are beside it).
XAPIAN_MARKER = "XAPIAN.json"
#: How a cluster of remote shards is written: ``xapian://host:port,host:port``.
XAPIAN_SCHEME = "xapian:"


def is_xapian_address(location: Path | str) -> bool:
    """Whether ``location`` is a ``xapian://`` address (a ``Path`` made of one has lost a slash)."""
    return str(location).startswith(XAPIAN_SCHEME)


def is_xapian(location: Path | str) -> bool:
    """Whether ``location`` names a Xapian index: an address, a searchlib Xapian directory (or
    one whose shards are being written for the first time: ``XAPIAN.json`` comes last), or a
    cluster file (a file that is not a Whoosh index)."""
    if is_xapian_address(location):
        return True
    path = Path(location)
    return (path / XAPIAN_MARKER).is_file() or path.is_file() or (path.is_dir() and any(path.glob("shard-*-of-*")))


def engine_to_write(index: Path, engine: str | None, shards: int | None, shard: str | None) -> tuple[str, int]:
    """The engine and number of shards a build of ``index`` writes, from what was asked and
    what is there.

    Raises:
        InvalidOptionError: an unknown engine, or shards asked of the Whoosh engine.
        WriteRefusedError: the index there is of another engine or number of shards.
    """
    if engine not in (None, *ENGINES):
        raise InvalidOptionError(f"Unknown engine {engine!r}: use {' or '.join(ENGINES)}")
    of_shard = re.fullmatch(r"\s*\d+\s*/\s*(\d+)\s*", shard or "")
    if shards is not None and of_shard and int(of_shard[1]) != shards:
        raise InvalidOptionError(f"--shard {shard} is a shard of {int(of_shard[1])}, not of --shards {shards}")
    there = engine_there(index)
    engine = engine or ("xapian" if shards is not None or shard is not None else there[0] if there else "whoosh")
    if engine == "whoosh":
        if (shards or 1) != 1 or shard is not None:
            raise InvalidOptionError("--shards and --shard are for Xapian shards: add --engine xapian")
        wanted = ("whoosh", 1)
    else:
        count = shards or (int(of_shard[1]) if of_shard else there[1] if there and there[0] == "xapian" else 1)
        wanted = ("xapian", count)
    if there is not None and there != wanted:
        raise WriteRefusedError(
            f"The index at '{index}' is {_engine_text(there)}, not {_engine_text(wanted)}: a build would leave it "
            f"beside the new one, or replace it. Give another --index, or remove '{index}' first to replace it",
            path=index)
    return wanted


def engine_there(index: Path) -> tuple[str, int] | None:
    """The engine of the index at ``index`` and its number of shards (1 for Whoosh), or
    ``None`` if nothing is there; shards of a first build still running count."""
    if (index / XAPIAN_MARKER).is_file():
        try:
            return "xapian", int(json.loads((index / XAPIAN_MARKER).read_text(encoding="utf-8"))["shards"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    counts = {match[1] for match in (re.fullmatch(r"shard-\d+-of-(\d+)", path.name) for path in _listing(index)) if match}
    if counts:
        return "xapian", int(max(counts))
    if (index / CURRENT_FILE).exists() or any(path.name.startswith(GENERATION_PREFIX) for path in _listing(index)):
        return "whoosh", 1
    return None


def _listing(index: Path) -> list[Path]:
    try:
        return list(index.iterdir())
    except OSError:
        return []


def _engine_text(engine: tuple[str, int]) -> str:
    kind, shards = engine
    return "a Whoosh index" if kind == "whoosh" else f"a Xapian index of {shards} shard{'s' if shards > 1 else ''}"


def xapian_module(name: str) -> ModuleType:
    """The Xapian engine's module ``name`` (``xapian``: searching, ``xapian_build``: writing).

    Raises:
        SearchlibError: Xapian's Python bindings are not installed; the message says how.
    """
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ImportError as exc:
        if exc.name != "xapian" and "xapian" not in str(exc):
            raise
        raise SearchlibError(
            "The Xapian engine needs Xapian's Python bindings: pip install 'searchlib[xapian]' "
            "(xapian-bindings-binary), or Debian's python3-xapian") from exc
