"""Who may touch an index: one writer at a time, and readers that pin their generation.

Both are ``flock`` locks, which the kernel drops when the process holding them ends, however it
ends: a writer killed with SIGKILL leaves no lock behind, only a note of who it was, which the next
writer overwrites. Nothing here ever needs clearing by hand.

* The writer lock (``WRITER.lock`` in the index directory) is exclusive. Its file holds the
  holder's pid, command and start time, so a second writer can say who is running.
* Each generation has a ``READERS.lock`` file. An open ``Index`` holds a shared lock on its
  generation's; a writer removes an old generation only if it can take that lock exclusively,
  that is when no reader has the generation open.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from collections.abc import Callable
from typing import IO, Any

import attrs

from .errors import IndexLockedError

__all__ = ["WriterLock", "ReaderPin", "READERS_LOCK", "WRITER_LOCK", "writer_running", "writer_of", "try_remove_generation"]

WRITER_LOCK = "WRITER.lock"
_NOTE_SECONDS = 1.0  # how often a writer notes its progress in the lock file
READERS_LOCK = "READERS.lock"


@attrs.define
class WriterLock:
    """The index's writer lock, held from ``acquire`` to ``release`` (or the ``with`` block)."""

    index_dir: Path
    _file: IO[str] | None = attrs.field(default=None, init=False, repr=False)
    _holder: dict[str, Any] = attrs.field(factory=dict, init=False, repr=False)

    def acquire(self, *, wait: float = 0.0) -> WriterLock:
        """Take the lock, waiting up to ``wait`` seconds for a running writer to finish.

        Raises:
            IndexLockedError: another process holds the lock; the message names it.
        """
        self.index_dir.mkdir(parents=True, exist_ok=True)
        stream = open(self.index_dir / WRITER_LOCK, "a+", encoding="utf-8")
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(stream)
                    stream.close()
                    raise IndexLockedError(_locked_message(self.index_dir, holder, wait), holder=holder) from None
                time.sleep(min(0.2, max(deadline - time.monotonic(), 0.01)))
        self._file = stream
        self._holder = {
            "pid": os.getpid(),
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:200],
            "started": datetime.now().isoformat(timespec="seconds"),
        }
        self._write_holder()
        return self

    def _write_holder(self) -> None:
        assert self._file is not None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(json.dumps(self._holder))
        self._file.flush()

    def noting(self, on_progress: Callable[[Any], None] | None) -> Callable[[Any], None]:
        """A progress handler that also notes the progress in the lock file, at most once a
        second, for ``searchlib status`` and searches of an index still being built to show;
        then calls ``on_progress``."""
        last = 0.0

        def note(progress: Any) -> None:
            nonlocal last
            if self._file is not None and time.monotonic() - last >= _NOTE_SECONDS:
                last = time.monotonic()
                self._holder["progress"] = {
                    "articles": progress.articles, "done_bytes": progress.done_bytes, "total_bytes": progress.total_bytes,
                }
                self._write_holder()
            if on_progress is not None:
                on_progress(progress)

        return note

    def release(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
            self._file.flush()
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> WriterLock:
        return self if self._file is not None else self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def _read_holder(stream: IO[str]) -> dict[str, Any]:
    for _attempt in range(3):  # the writer rewrites it now and then: a read may catch it half written
        try:
            stream.seek(0)
            holder = json.loads(stream.read() or "{}")
            return holder if isinstance(holder, dict) else {}
        except ValueError:
            time.sleep(0.01)
        except OSError:
            break
    return {}


def _locked_message(index_dir: Path, holder: dict[str, Any], waited: float) -> str:
    who = f"process {holder.get('pid', '?')} ({holder.get('command', 'a searchlib writer')}, started {holder.get('started', '?')})"
    waiting = f" after waiting {waited:g} s" if waited else ""
    return f"Another writer is updating '{index_dir}'{waiting}: {who}. Try again later, or wait for it with --wait SECONDS"


def writer_running(index_dir: Path) -> dict[str, Any] | None:
    """Who holds the writer lock now, or ``None`` when no writer is running."""
    path = index_dir / WRITER_LOCK
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as stream:
        try:
            fcntl.flock(stream, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(stream) or {"pid": None}
        fcntl.flock(stream, fcntl.LOCK_UN)
        return None


def writer_of(index: Path) -> dict[str, Any] | None:
    """Who writes the index at ``index`` now: its writer, or that of one of its shards (the
    Xapian engine locks each shard), or ``None``."""
    for directory in (index, *sorted(index.glob("shard-*-of-*"))):
        holder = writer_running(directory)
        if holder is not None:
            return holder
    return None


@attrs.define
class ReaderPin:
    """A shared lock on one generation, keeping writers from removing it while it is read."""

    _file: IO[bytes] | None = attrs.field(default=None, repr=False)

    @classmethod
    def take(cls, generation: Path) -> ReaderPin | None:
        """Pin ``generation``; ``None`` if it is being removed (open the current one again)."""
        try:
            stream = open(generation / READERS_LOCK, "rb")
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(stream, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            stream.close()
            return None
        return cls(stream)

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def try_remove_generation(generation: Path) -> bool:
    """Remove a generation no reader has open; ``False`` (and nothing removed) if one has."""
    import shutil

    try:
        stream = open(generation / READERS_LOCK, "rb")
    except FileNotFoundError:
        shutil.rmtree(generation, ignore_errors=True)  # a generation a writer never finished
        return True
    with stream:
        try:
            fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        shutil.rmtree(generation, ignore_errors=True)
        return True
