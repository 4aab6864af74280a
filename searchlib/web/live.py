"""The one open ``Index`` of a server, shared by every request.

Opening an index costs far more than a search (columns, posting arrays and the vocabulary are
read once and kept by the open ``Index``), so a server opens it once. ``Index`` methods are not
made for several threads at once, so every call runs in one thread of its own, in the order the
requests came: the event loop stays free for reading requests and writing responses, and searches
on two cores would not run faster side by side anyway (they hold the GIL).

Before each call that thread looks at the index's ``CURRENT`` file (one ``stat``, about a
microsecond): a build or update that made a new generation live replaced it in one rename, so
its inode or time changed. The new generation is then opened in a thread of its own, as a second
``Index`` that no request touches, and warmed there (the term lists wildcards expand over, the
columns facets, dates and stories are counted from, the spelling vocabulary: seconds of reading
on a large index, which would otherwise fall on the first requests after the switch). Requests go
on meanwhile on the old generation; the next call after the new one is ready switches to it, and
closes the old one, which releases it to writers. A generation that fails to open leaves the
server where it was, and is tried again a second later.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from time import monotonic
from typing import Any, TypeVar

import searchlib
from searchlib.engines import is_xapian

__all__ = ["LiveIndex", "warm"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds before a generation that failed to open is tried again.
RETRY_SECONDS = 1.0


def warm(index: searchlib.Index) -> None:
    """Read what searches read once per generation, so that no request waits for it."""
    index.search("a*", limit=10, facets=True)  # the text field's terms, ids, stories, facets
    index.search("a*", limit=10, sort="newest")  # dates
    index.suggest("searchlib")  # the spelling vocabulary


class LiveIndex:
    """An ``Index`` opened once and used from one thread, kept on the live generation."""

    def __init__(self, index: searchlib.Index) -> None:
        self._index = index
        self._current = Path(index.path) / "CURRENT"
        self._shards = is_xapian(index.path)  # a Xapian index has no CURRENT: its shards' revisions are followed
        self._seen = self._stamp()
        self._retry_at = 0.0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="searchlib-index")
        self._preparing: threading.Thread | None = None
        self._prepared: tuple[tuple[int, int], searchlib.Index] | None = None

    @classmethod
    def open(cls, path: Path | str) -> LiveIndex:
        """Open the index at ``path``.

        Raises:
            SearchlibError: as ``Index.open`` says (no index there, being built, unreadable).
        """
        return cls(searchlib.Index.open(path))

    @property
    def path(self) -> Path:
        return self._index.path

    @property
    def article_count(self) -> int:
        return self._index.article_count

    @property
    def metadata(self) -> dict[str, Any]:
        """What the build of the generation open recorded (see ``Index.metadata``)."""
        return self._index.metadata

    async def call(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``work(index, *args, **kwargs)`` in the index's thread, on the live generation."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, partial(self._run, work, *args, **kwargs))

    def _run(self, work: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        self._follow()
        return work(self._index, *args, **kwargs)

    def _follow(self) -> None:
        """Switch to a generation prepared since the last call, or start preparing one if
        ``CURRENT`` changed; a Xapian index moves to its shards' new revisions (at most once a
        ``RETRY_SECONDS``: opening the shards is a request to each)."""
        if self._shards:
            if monotonic() >= self._retry_at:
                self._retry_at = monotonic() + RETRY_SECONDS
                try:
                    if self._index.refresh():
                        logger.info("now serving the shards' new revisions")
                except searchlib.SearchlibError as error:
                    logger.warning("staying on the shards' revisions open: %s", error)
            return
        if self._prepared is not None:
            (seen, fresh), self._prepared = self._prepared, None
            old, self._index, self._seen = self._index, fresh, seen
            old.close()
            logger.info("now serving %s", fresh.generation.name)
        stamp = self._stamp()
        if stamp is None or stamp == self._seen or self._preparing is not None or monotonic() < self._retry_at:
            return
        self._preparing = threading.Thread(target=self._prepare, args=(stamp,), name="searchlib-prepare", daemon=True)
        self._preparing.start()

    def _prepare(self, stamp: tuple[int, int]) -> None:
        """Open and warm the live generation, in a thread of its own."""
        try:
            fresh = searchlib.Index.open(self._index.path, ranking=self._index.ranking)
        except (searchlib.SearchlibError, OSError) as error:
            logger.warning("staying on %s: could not open the new generation (%s)", self._index.generation.name, error)
            self._retry_at = monotonic() + RETRY_SECONDS
            self._preparing = None
            return
        if fresh.generation == self._index.generation:
            fresh.close()  # CURRENT was rewritten with the same generation
            self._seen = stamp
        else:
            try:
                warm(fresh)
            except Exception:  # a warm-up that fails only leaves the caches cold
                logger.exception("could not warm %s", fresh.generation.name)
            self._prepared = (stamp, fresh)
        self._preparing = None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self._current)
        except OSError:
            return None  # removed or unreadable for now: keep the generation we have
        return found.st_ino, found.st_mtime_ns

    def close(self) -> None:
        """Wait for the calls under way and any generation being prepared, then close."""
        self._thread.shutdown(wait=True)
        preparing = self._preparing
        if preparing is not None:
            preparing.join()
        if self._prepared is not None:
            self._prepared[1].close()
        self._index.close()
