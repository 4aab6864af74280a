"""The worker processes of a build: N processes that analyse articles and write segments, which
never outlive the build, however it ends.

``build_segments`` starts one server process, a fresh interpreter (``python -m
searchlib._worker_server``) that loads what every worker needs once (``_preload``: NLTK's stemmer and
the gazetteers), then forks the N workers, which share those pages. Batches of articles go to
the workers, batch ``i`` to worker ``i % N`` (so the same corpus always makes the same index),
each through a pipe of its own fed by a thread of this process, up to ``_QUEUED`` batches ahead;
each worker sends back its segments, the articles it could not analyse and its vocabulary.

Why not ``multiprocessing``: its fork server, resource tracker and workers stayed alive for good
after the process that started them was killed (each held the others' pipes open, and a worker
blocked reading half a batch never looked up again), and its workers import the caller's
``__main__`` again, so a script without an ``if __name__ == "__main__":`` guard ran its build
once more in every worker. Here the workers run searchlib's code only, and each process dies
with its parent: the kernel kills it when its parent ends (``PR_SET_PDEATHSIG``), and a thread
that watches the parent's pid covers the rest (a parent that is a thread which ended, a kernel
without prctl). Killing the build with SIGKILL or SIGTERM, Ctrl-C, running out of memory or a
failing worker all leave no process behind within a second or so.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, cast

from .errors import WriterError
from .writer import Built, SegmentBuilder, Task

__all__ = ["build_segments"]

logger = logging.getLogger(__name__)

# Batches of articles queued for each worker. Batches go to the workers in turn, so while one
# worker writes a segment (seconds) the reading process waits to queue its next batch and the
# other worker has only its own queue to work on: 32 batches (about 6 s of work, 6 MB of
# Wikipedia articles) keep it busy; with 4, a 100,000-article build idled a core a fifth of the time.
_QUEUED = 32
_WATCH_SECONDS = 0.5  # how often a worker looks whether its parent is still there
_PR_SET_PDEATHSIG = 1


def build_segments(path: Path, batches: Iterable[list[Task]], *, ner: str | None, jobs: int) -> Built:
    """Index ``batches`` of articles into new segments of the index at ``path`` in ``jobs``
    worker processes, batch ``i`` in worker ``i % jobs``. Returns the segments, to be
    committed, the articles that failed and the articles' vocabulary.

    Raises:
        WriterError: a worker failed or died (the build stops at once), or none could start.
    """
    with _Workers(path, ner=ner, jobs=jobs) as workers:
        for number, batch in enumerate(batches):
            workers.send(number % jobs, batch)
        return workers.finish()


class _Sender(threading.Thread):
    """Feeds one worker's pipe from a queue, so that this process goes on reading the corpus
    while the worker is busy; remembers the error that ended it (the worker gone)."""

    def __init__(self, connection: Connection, number: int) -> None:
        super().__init__(name=f"searchlib-worker-{number}", daemon=True)
        self.connection = connection
        self.queue: queue.Queue[list[Task] | None] = queue.Queue(maxsize=_QUEUED)
        self.error: BaseException | None = None
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    batch = self.queue.get(timeout=0.2)
                except queue.Empty:
                    continue
                self.connection.send(batch)
                if batch is None:
                    return
        except OSError as exc:  # the worker ended
            self.error = exc


class _Workers:
    """The server process and its workers, seen from the build: ``send`` batches, then
    ``finish``; leaving the ``with`` block stops every process, whatever happened."""

    def __init__(self, path: Path, *, ner: str | None, jobs: int) -> None:
        self.jobs = jobs
        self.results: list[Connection] = []
        self.senders: list[_Sender] = []
        self.outcomes: dict[int, Built] = {}
        self.errors = tempfile.TemporaryFile()  # the server's stderr: gone with the file handle
        ends: list[int] = []
        try:
            for number in range(jobs):
                task_read, task_write = os.pipe()
                result_read, result_write = os.pipe()
                ends += [task_read, result_write]
                self.senders.append(_Sender(Connection(task_write, readable=False), number))
                self.results.append(Connection(result_read, writable=False))
            command = [sys.executable, "-m", f"{__package__}._worker_server", "--parent", str(os.getpid()), "--index", str(path),
                       "--ner", ner or "", "--pipes", ",".join(map(str, ends))]
            self.server = subprocess.Popen(
                command, pass_fds=ends, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self.errors, env=_environment(),
            )
        except OSError as exc:
            self.close()
            raise WriterError(f"The worker processes of the build could not start: {exc}") from exc
        finally:
            for end in ends:
                os.close(end)
        for sender in self.senders:
            sender.start()

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, number: int, batch: list[Task] | None) -> None:
        """Queue ``batch`` for worker ``number``, waiting while its queue is full."""
        while True:
            self._check()
            try:
                self.senders[number].queue.put(batch, timeout=1)
                return
            except queue.Full:
                pass

    def finish(self) -> Built:
        """Tell the workers there is no more, and gather what each made."""
        for number in range(self.jobs):
            self.send(number, None)
        while len(self.outcomes) < self.jobs:
            self._check(timeout=1)
        built = [self.outcomes[number] for number in range(self.jobs)]
        vocabulary, stems = built[0][2], built[0][3]
        for _, _, more, more_stems in built[1:]:
            vocabulary.update(more)  # in place: these are the largest objects a build holds at the end
            stems.update(more_stems)
        return ([segment for segments, *_ in built for segment in segments],
                [failure for _, failed, *_ in built for failure in failed],
                vocabulary, stems)

    def _check(self, timeout: float = 0) -> None:
        """Take in what workers have sent; raise if one failed or is gone."""
        waiting = [conn for number, conn in enumerate(self.results) if number not in self.outcomes]
        for ready in wait(waiting, timeout):
            conn = cast(Connection, ready)
            number = self.results.index(conn)
            try:
                kind, *outcome = conn.recv()
            except (EOFError, OSError):
                raise WriterError(self._died()) from None
            if kind == "failed":
                logger.debug("worker %d failed:\n%s", number, outcome[1])
                raise WriterError(f"A worker process of the build failed: {outcome[0]}")
            self.outcomes[number] = outcome[0]
        if any(sender.error is not None for sender in self.senders):
            raise WriterError(self._died())

    def _died(self) -> str:
        self.errors.seek(0)
        said = self.errors.read().decode("utf-8", "replace").strip().splitlines()
        logger.debug("the worker server wrote: %s", "\n".join(said))
        cause = f" ({said[-1][:300]})" if said else ""
        return (f"A worker process of the build ended before finishing its work{cause}; "
                "if it ran out of memory, build with fewer --jobs")

    def close(self) -> None:
        """Stop the server (its workers die with it) and close every pipe."""
        for sender in self.senders:
            sender.stopping.set()
        server = getattr(self, "server", None)
        if server is not None:
            if server.poll() is None and len(self.outcomes) < self.jobs:
                server.kill()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        for sender in self.senders:
            if sender.is_alive():
                sender.join()  # a send under way fails once the workers are gone
            sender.connection.close()
        for conn in self.results:
            conn.close()
        self.errors.close()


def _environment() -> dict[str, str]:
    """The server imports this searchlib, wherever the caller found it on its path."""
    here = str(Path(__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": here if not path else os.pathsep.join([here, path])}


# In the server and the workers -----------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """End this process when ``parent`` ends: the kernel's parent-death signal where there is
    one, and a thread that looks at the parent's pid twice a second."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it ended before the signal was asked for
        os._exit(1)


def _watch_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="searchlib-watch-parent", daemon=True).start()


def serve(arguments: list[str]) -> int:
    """The server (``python -m searchlib._worker_server``): load once, fork the workers, wait
    for them."""
    parser = argparse.ArgumentParser(prog="python -m searchlib._worker_server")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--ner", default="")
    parser.add_argument("--pipes", required=True)
    options = parser.parse_args(arguments)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle: it stops us
    _die_with_parent(options.parent)
    from . import _preload  # noqa: F401  (loads the stemmer and the gazetteers, then freezes them)

    ends = [int(fd) for fd in options.pipes.split(",")]
    pairs = list(zip(ends[0::2], ends[1::2]))
    server = os.getpid()
    children = []
    for number, (tasks, results) in enumerate(pairs):
        pid = os.fork()
        if pid == 0:
            for fd in ends:
                if fd not in (tasks, results):
                    os.close(fd)
            _die_with_parent(server)
            _watch_parent(server)
            _work(options.index, options.ner or None, Connection(tasks, writable=False), Connection(results, readable=False))
            os._exit(0)
        children.append(pid)
    for fd in ends:
        os.close(fd)
    _watch_parent(options.parent)  # only now: forking a process that runs a thread is unsafe
    for pid in children:
        os.waitpid(pid, 0)
    return 0


def _work(path: str, ner: str | None, tasks: Connection, results: Connection) -> None:
    """A worker: analyse and write the batches that come, then send what was made."""
    try:
        builder = SegmentBuilder(path, ner)
        while (batch := tasks.recv()) is not None:
            for article, digest, story in batch:
                builder.add(article, digest, story)
        message: tuple[Any, ...] = ("built", builder.finish())
    except EOFError:  # the build is gone
        os._exit(1)
    except BaseException as exc:
        message = ("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc())
    results.send(message)
