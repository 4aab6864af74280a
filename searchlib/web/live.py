"""The one open ``Index`` of a server, shared by every request.

Opening an index costs far more than a search (columns, posting arrays and the vocabulary are
read once and kept by the open ``Index``), so a server opens it once. ``Index`` methods are not
made for several threads at once, so every call runs in one thread of its own, in the order the
requests came: the event loop stays free for reading requests and writing responses, and searches
on two cores would not run faster side by side anyway (they hold the GIL).

Before each call the thread looks at the index's ``CURRENT`` file (one ``stat``, about a
microsecond): a build or update that made a new generation live replaced it in one rename, so
its inode or time changed, and ``Index.refresh()`` moves to the new generation. Requests under
way finish on the old one, which stays pinned until then; a refresh that fails leaves the server
on the generation it has, and is tried again a second later.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from time import monotonic
from typing import Any, TypeVar

import searchlib

__all__ = ["LiveIndex"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds before a refresh that failed is tried again.
RETRY_SECONDS = 1.0


class LiveIndex:
    """An ``Index`` opened once and used from one thread, kept on the live generation."""

    def __init__(self, index: searchlib.Index) -> None:
        self._index = index
        self._current = index.path / "CURRENT"
        self._seen = self._stamp()
        self._retry_at = 0.0
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="searchlib-index")

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
        """Move to the live generation if ``CURRENT`` changed since we last looked."""
        stamp = self._stamp()
        if stamp == self._seen or stamp is None or monotonic() < self._retry_at:
            return
        try:
            moved = self._index.refresh()
        except (searchlib.SearchlibError, OSError) as error:
            self._retry_at = monotonic() + RETRY_SECONDS
            logger.warning("staying on %s: could not open the new generation (%s)", self._index.generation.name, error)
            return
        self._seen = stamp
        if moved:
            logger.info("now serving %s", self._index.generation.name)

    def _stamp(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self._current)
        except OSError:
            return None  # removed or unreadable for now: keep the generation we have
        return found.st_ino, found.st_mtime_ns

    def close(self) -> None:
        """Wait for the calls under way, then close the index."""
        self._thread.shutdown(wait=True)
        self._index.close()
