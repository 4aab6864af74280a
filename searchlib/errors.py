"""The errors searchlib raises: one tree, each message naming the thing and the way out.

    SearchlibError
    ├── CorpusError            the corpus path is missing or is not something we can read
    ├── IndexNotFoundError     no index at the given path
    ├── IndexVersionError      the index was built by an incompatible version of searchlib
    ├── IndexCorruptError      the index exists but cannot be opened
    ├── IndexLockedError       another writer is updating the index (carries who)
    ├── IndexBuildingError     the index's first build is still running (carries who, how far)
    ├── WriteRefusedError      a build or update would replace or remove much of an index
    ├── ArticleNotFoundError   no article with that id in the index
    ├── InvalidOptionError     an option's value cannot be used (also a ValueError)
    ├── QuerySyntaxError       the query string cannot be parsed (carries the position)
    ├── NerBackendError        the entity extractor asked for is not installed
    ├── ShardUnavailableError  a shard of a Xapian index did not answer (carries which)
    └── XapianEngineError      what was asked is something only the Whoosh engine does

The library raises these and never prints or exits; the command line turns them into one-line
messages. Third-party exceptions are translated at the boundary (``raise ... from exc``).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "SearchlibError",
    "CorpusError",
    "IndexNotFoundError",
    "IndexVersionError",
    "IndexCorruptError",
    "IndexLockedError",
    "QuerySyntaxError",
    "ArticleNotFoundError",
    "InvalidOptionError",
    "NerBackendError",
    "WriterError",
    "WriteRefusedError",
    "IndexBuildingError",
    "ShardUnavailableError",
    "XapianEngineError",
]


class SearchlibError(Exception):
    """Base class of every error searchlib raises on purpose."""


class _PathError(SearchlibError):
    """An error about one file or directory, kept as ``path``."""

    def __init__(self, message: str, *, path: Path | str) -> None:
        super().__init__(message)
        self.path = Path(path)


class CorpusError(_PathError):
    """The corpus path cannot be read as a corpus."""


class IndexNotFoundError(_PathError):
    """There is no index at the path."""


class IndexVersionError(_PathError):
    """The index was written by a searchlib whose schema differs from this one."""


class IndexCorruptError(_PathError):
    """The index exists but its files cannot be read."""


class QuerySyntaxError(SearchlibError):
    """The query string is not valid; ``position`` is the 0-based character offset, if known."""

    def __init__(self, message: str, *, query: str, position: int | None = None) -> None:
        super().__init__(message)
        self.query = query
        self.position = position


class NerBackendError(SearchlibError):
    """The entity extractor asked for cannot be used here; the message says how to install it."""


class WriteRefusedError(_PathError):
    """A build or update stopped before changing anything: it would have read a corpus other
    than the index's, or removed more of its articles than allowed. ``path`` is the index."""


class WriterError(SearchlibError):
    """A build's worker process failed or died; the live index was left as it was."""


class ArticleNotFoundError(SearchlibError):
    """No article in the index has the id asked for."""

    def __init__(self, message: str, *, article_id: str) -> None:
        super().__init__(message)
        self.article_id = article_id


class InvalidOptionError(SearchlibError, ValueError):
    """An option passed to a searchlib call has a value it cannot use: a date it cannot read,
    an unknown sort order, a page below 1."""


class IndexLockedError(SearchlibError):
    """Another process is writing the index; ``holder`` has its pid, command and start time."""

    def __init__(self, message: str, *, holder: dict[str, object]) -> None:
        super().__init__(message)
        self.holder = holder


class IndexBuildingError(SearchlibError):
    """The index has no live generation yet: its first build is running. ``holder`` has the
    builder's pid, command, start time and progress."""

    def __init__(self, message: str, *, holder: dict[str, object]) -> None:
        super().__init__(message)
        self.holder = holder


class ShardUnavailableError(SearchlibError):
    """A shard of a Xapian index did not answer; ``shards`` names those that did not."""

    def __init__(self, message: str, *, shards: tuple[str, ...]) -> None:
        super().__init__(message)
        self.shards = shards


class XapianEngineError(SearchlibError):
    """What was asked is something only the Whoosh engine does; the message says what."""
