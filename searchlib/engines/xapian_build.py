"""Writing Xapian shards: full builds and incremental updates, one process per shard.

What is written is searchlib's own analysis, as the Whoosh engine writes it: the same terms and
positions (``analysis.token_terms``), entities (``entities.extractor``), stories
(``duplicates.DuplicateFinder``) and digests (``indexer.article_digest``), laid out as
``xapian_layout`` says. Only the storage differs.

An article's shard is fixed by a hash of its id (``xapian_layout.shard_of``), so a shard can be
built or updated on its own machine from the same corpus (``--shard 2/3``): every writer reads
the whole corpus, gives every article its story and its order number (near-duplicates are
found across all shards, and ties in score are broken the same way on one index or on many),
and indexes only the articles of its shards. ``--shards N`` writes N shards at once: this
process reads the corpus and finds the stories, and one process per shard extracts entities,
analyses and writes (forked, and dying with this one, as workers.py's do).

The guarantees of the Whoosh engine hold per shard:

- **One writer at a time**: ``locks.WriterLock`` on each shard's directory (status 75 from the
  command line, or ``--wait``).
- **A build never touches the live database**: it writes a new generation beside it and
  switches the shard's stub file (``XAPIANDB``) to it in one atomic rename; the generation
  before stays, for readers that still have it open, and older ones go.
- **An update is one Xapian transaction** on the live generation: readers see the revision
  before it until it commits, atomically, with the shard's records (files read, counts; the
  near-duplicate finder's state is a file named in the same commit). A writer killed at any
  moment, even with SIGKILL, leaves the last committed revision; what it left is removed by
  the next writer.
- **Nothing is replaced by surprise**: the corpus check and ``max_delete`` apply per shard.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import xapian

from ..aliases import AliasTable
from ..analysis import NAME_LINE_GAP, token_terms
from ..corpus import SkipHandler, SkipLog, corpus_base, corpus_files, read_file
from ..duplicates import DuplicateFinder, signatures
from ..entities import Extractor, extractor, place_aliases
from ..errors import CorpusError, InvalidOptionError, WriteRefusedError, WriterError
from . import XAPIAN_MARKER, engine_there
from ..indexer import Progress, article_digest, deletion_limit
from ..locks import WriterLock
from ..models import Article, BuildReport, Skipped
from ..schema import TITLE_WEIGHT, facet_names, facet_value, list_generations, next_generation_name
from ..writer import ANALYSED_CHARACTERS, BATCH
from .xapian_layout import (
    DATE_SLOT, DATED_PREFIX, DAY_SLOT, DIGEST_SLOT, FACET_SLOTS, FILE_SLOT, FILES_KEY, ID_SLOT,
    METADATA_KEY, NEWEST_SLOT, OLDEST_SLOT, ORDER_SLOT, PREFIXES, SCHEMA, SPELLING_PREFIX,
    STORIES_KEY, STORY_SLOT, STUB, MAX_TERM_BYTES, ALIASES_KEY, NAME_PREFIXES, NAMES_DIGEST_KEY, NAMES_KEY,
    date_key, field_term, id_term, name_term, read_marker, story_term, shard_name, shard_of, write_marker,
)

__all__ = ["build", "update", "article_document", "parse_shard", "shard_directories"]

logger = logging.getLogger(__name__)

ProgressHandler = Callable[[Progress], None]
_RACY_NS = 3_000_000_000  # as indexer._RACY_NS: a file this recent is read again next time


# One article, as a Xapian document -------------------------------------------------------------


def article_document(article: Article, extract: Extractor, digest: str, story: str, order: int, file: str) -> xapian.Document:
    """The Xapian document of ``article``: the terms, positions and values ``xapian_layout``
    describes, from the same analysis the Whoosh engine indexes (writer.document_fields)."""
    document = xapian.Document()
    entities = extract(f"{article.caption[:ANALYSED_CHARACTERS]}\n\n{article.body[:ANALYSED_CHARACTERS]}")
    spellings: set[str] = set()
    base = 0  # positions in ``text`` before this part
    for name, value, copies in (("title", article.title, TITLE_WEIGHT), ("caption", article.caption, 1),
                                ("body", article.body, 1)):
        value = value[:ANALYSED_CHARACTERS]
        prefix = PREFIXES[name]
        kept = 0
        in_text: list[tuple[str, int]] = []
        for spelling, term, _start, _end, line_breaks in token_terms(value):
            spellings.add(spelling)
            if term is None:
                continue
            if _fits(term):
                document.add_posting(prefix + term, kept + 1, 0)
                in_text.append((term, kept + line_breaks))
            kept += 1
        for _ in range(copies):
            for term, position in in_text:
                document.add_posting(term, base + position + 1)
            base += kept + value.count("\n") + 1
    for spelling in spellings:
        if len(spelling.encode("utf-8", "surrogatepass")) <= MAX_TERM_BYTES:
            document.add_boolean_term(SPELLING_PREFIX + spelling)
    searchable: dict[str, list[str]] = {kind: [] for kind in FACET_SLOTS}
    for entity in entities:
        searchable[entity.kind].extend(place_aliases(entity.name) if entity.kind == "place" else (entity.name,))
    for kind, names in searchable.items():
        kept = 0
        for _spelling, term, _start, _end, line_breaks in token_terms("\n".join(names)):
            if term is not None:
                if _fits(term):
                    document.add_posting(PREFIXES[kind] + term, kept + NAME_LINE_GAP * line_breaks + 1, 0)
                kept += 1
    facets: dict[str, list[str]] = {kind: [] for kind in FACET_SLOTS}
    for kind, name in facet_names(facet_value(entities)):
        facets[kind].append(name)
        term = name_term(kind, name)
        if term is not None:
            document.add_boolean_term(term)
    for kind, names in facets.items():
        slots = FACET_SLOTS[kind]
        for slot, name in zip(slots[:-1], names):
            document.add_value(slot, name)
        if len(names) >= len(slots):
            document.add_value(slots[-1], "\n".join(names[len(slots) - 1:]))
    for field, value in (("id", article.id), ("url", article.url), ("path", article.path)):
        if value:
            document.add_boolean_term(field_term(field, value))
    document.add_boolean_term(DATED_PREFIX + ("yes" if article.date is not None else "no"))
    document.add_boolean_term(story_term(story))
    order_key = order.to_bytes(8, "big")
    if article.date is not None:
        key = date_key(article.date)
        document.add_value(DATE_SLOT, key)
        document.add_value(DAY_SLOT, article.date.date().isoformat())
        document.add_value(NEWEST_SLOT, key + order_key)
        document.add_value(OLDEST_SLOT, key + order_key)
    else:
        document.add_value(OLDEST_SLOT, b"\xff" * 17)
    document.add_value(STORY_SLOT, story)
    document.add_value(ORDER_SLOT, xapian.sortable_serialise(order))
    document.add_value(ID_SLOT, article.id)
    document.add_value(DIGEST_SLOT, digest)
    document.add_value(FILE_SLOT, file.encode("utf-8", "surrogatepass"))  # a file name need not be UTF-8
    document.set_data(json.dumps({
        "id": article.id, "title": article.title, "caption": article.caption, "body": article.body,
        "url": article.url, "path": article.path, "date": article.date.isoformat() if article.date else None,
        "entities": [[entity.name, entity.kind] for entity in entities], "story": story,
    }, ensure_ascii=False))
    return document


def _fits(term: str) -> bool:
    """Whether a term (with a prefix of two letters) is within Xapian's limit; longer ones (a
    run of letters with no space, in garbled text) are not indexed, but keep their position."""
    return len(term) <= MAX_TERM_BYTES // 4 or len(term.encode("utf-8", "surrogatepass")) <= MAX_TERM_BYTES - 2


# Shards on disk --------------------------------------------------------------------------------


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` as ``(1, 3)``: the shard (0-based) and the number of shards.

    Raises:
        InvalidOptionError: it is not ``i/N`` with ``1 <= i <= N``.
    """
    number, slash, total = text.partition("/")
    try:
        shard, shards = int(number), int(total)
        if not slash or not 1 <= shard <= shards:
            raise ValueError(text)
    except ValueError:
        raise InvalidOptionError(f"--shard {text!r}: write it as i/N, such as 2/3 for the second of three shards") from None
    return shard - 1, shards


def shard_directories(index: Path) -> list[Path]:
    """The shard directories of the Xapian index at ``index``, in order (those on this machine
    that exist, for an index whose shards live on several)."""
    shards = int(read_marker(index)["shards"])
    return [index / shard_name(number, shards) for number in range(shards)]


def live_generation(shard: Path) -> Path | None:
    """The generation the shard's stub names, or ``None`` before its first build."""
    try:
        words = (shard / STUB).read_text(encoding="utf-8").split()
    except OSError:
        return None
    return shard / words[-1] if len(words) == 2 else None


def _switch(shard: Path, generation: Path) -> None:
    """Make ``generation`` the shard's live database: the stub replaced in one atomic rename."""
    temporary = shard / f".{STUB}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as stream:
        stream.write(f"auto {generation.name}\n")
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, shard / STUB)
    directory = os.open(shard, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _remove_leftovers(shard: Path) -> None:
    """What a writer that died left: generations newer than the live one, stub temp files, and
    finder files no commit names. Call only while holding the shard's writer lock."""
    live = live_generation(shard)
    for generation in list_generations(shard):
        if live is None or generation.name > live.name:
            logger.info("removing %s, left by a writer that did not finish", generation)
            shutil.rmtree(generation, ignore_errors=True)
    for temporary in shard.glob(f".{STUB}.*.tmp"):
        temporary.unlink(missing_ok=True)
    if live is not None and live.is_dir():
        named = _metadata(live).get(STORIES_KEY)
        for stories in live.glob("stories-*.npz"):
            if stories.name != named:
                stories.unlink(missing_ok=True)


def _remove_old_generations(shard: Path) -> None:
    """Keep the live generation and the one before (remote readers may still have it open)."""
    live = live_generation(shard)
    older = [g for g in list_generations(shard) if live is None or g.name < live.name]
    for generation in older[:-1]:
        shutil.rmtree(generation, ignore_errors=True)


def _metadata(generation: Path) -> dict[str, Any]:
    """The shard's records: the searchlib metadata, with the files state and the finder's file."""
    try:
        database = xapian.Database(str(generation))
    except xapian.Error:
        return {}
    try:
        found = json.loads(database.get_metadata(METADATA_KEY) or b"{}")
        found[FILES_KEY] = json.loads(database.get_metadata(FILES_KEY) or b"{}")
        found[STORIES_KEY] = database.get_metadata(STORIES_KEY).decode("utf-8")
        return found
    finally:
        database.close()


# The process that writes one shard -------------------------------------------------------------


class _ShardWriter:
    """Writes one shard's generation: a new database (a build), or one transaction on the live
    one (an update)."""

    def __init__(self, generation: Path, create: bool, ner: str | None) -> None:
        self.database = xapian.WritableDatabase(str(generation), xapian.DB_CREATE if create else xapian.DB_OPEN)
        self.create = create
        if not create:
            self.database.begin_transaction()
        self.extract = extractor(ner)
        self.failed: list[tuple[str, str, str]] = []

    def add(self, tasks: list[tuple[Article, str, str, int, str]]) -> None:
        for article, digest, story, order, file in tasks:
            try:
                document = article_document(article, self.extract, digest, story, order, file)
            except Exception as exc:
                logger.exception("could not index %s", article.id)
                self.failed.append((article.id, article.path, f"{type(exc).__name__}: {exc}"))
                continue
            if self.create:  # a new generation holds no article yet: no look-up of its id
                self.database.add_document(document)
            else:
                self.database.replace_document(id_term(article.id), document)

    def remove(self, ids: list[str]) -> None:
        for article_id in ids:
            self.database.delete_document(id_term(article_id))

    def names(self) -> tuple[list[list[Any]], str]:
        """How many of the shard's articles give each name, as written so far (a transaction's
        changes included), and a digest of those counts."""
        counts = []
        for kind, prefix in NAME_PREFIXES.items():
            for item in self.database.allterms(prefix.encode()):
                counts.append([kind, item.term[len(prefix):].decode("utf-8", "surrogatepass"), int(item.termfreq)])
        text = json.dumps(counts, ensure_ascii=False)
        return counts, hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()

    def commit(self, metadata: dict[str, Any], files: dict[str, Any], stories: str, aliases: dict[str, Any] | None) -> None:
        """Commit with the shard's records; ``aliases`` is the index's alias table with the
        digests of the counts it was made from, when this write knew every shard's."""
        metadata = {**metadata, "articles": self.database.get_doccount()}
        self.database.set_metadata(METADATA_KEY, json.dumps(metadata))
        self.database.set_metadata(FILES_KEY, json.dumps(files))
        self.database.set_metadata(STORIES_KEY, stories)
        counts, digest = self.names()
        self.database.set_metadata(NAMES_KEY, json.dumps(counts, ensure_ascii=False))
        self.database.set_metadata(NAMES_DIGEST_KEY, digest)
        if aliases is not None:
            self.database.set_metadata(ALIASES_KEY, json.dumps(aliases, ensure_ascii=False))
        if self.create:
            self.database.commit()
        else:
            self.database.commit_transaction()
        self.database.close()

    def cancel(self) -> None:
        if not self.create:
            self.database.cancel_transaction()
        self.database.close()


def _serve_shard_writer(generation: Path, create: bool, ner: str | None, tasks: Connection, results: Connection) -> None:
    """A shard process: apply what comes, then commit or cancel as told."""
    try:
        writer = _ShardWriter(generation, create, ner)
        while True:
            kind, *message = tasks.recv()
            if kind == "add":
                writer.add(message[0])
            elif kind == "remove":
                writer.remove(message[0])
            elif kind == "prepare":
                results.send(("prepared", (writer.failed, *writer.names())))
            elif kind == "commit":
                writer.commit(*message)
                results.send(("committed", None))
                return
            else:
                writer.cancel()
                return
    except EOFError:  # the build is gone
        os._exit(1)
    except BaseException as exc:
        results.send(("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc()))


class _ShardProcesses:
    """One forked process per shard written, fed through pipes by threads (workers._Sender), each
    dying with this process (workers._die_with_parent)."""

    def __init__(self, generations: dict[int, tuple[Path, bool]], ner: str | None) -> None:
        from ..workers import _die_with_parent, _Sender, _watch_parent

        self.senders: dict[int, Any] = {}
        self.results: dict[int, Connection] = {}
        self.pids: dict[int, int] = {}
        pipes = {number: (os.pipe(), os.pipe()) for number in generations}
        parent = os.getpid()
        for number, (generation, create) in generations.items():
            pid = os.fork()
            if pid == 0:  # the shard process
                (task_read, task_write), (result_read, result_write) = pipes[number]
                for other, ((a, b), (c, d)) in pipes.items():
                    for fd in (a, b, c, d):
                        if fd not in (task_read, result_write):
                            os.close(fd)
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's: it stops us
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _die_with_parent(parent)
                _watch_parent(parent)
                code = 0
                try:
                    _serve_shard_writer(generation, create, ner, Connection(task_read, writable=False),
                                        Connection(result_write, readable=False))
                except BaseException:
                    code = 1
                os._exit(code)
            self.pids[number] = pid
        for number, ((task_read, task_write), (result_read, result_write)) in pipes.items():
            os.close(task_read)
            os.close(result_write)
            self.senders[number] = _Sender(Connection(task_write, readable=False), number)
            self.results[number] = Connection(result_read, writable=False)
        for sender in self.senders.values():
            sender.start()

    def send(self, number: int, message: tuple[Any, ...]) -> None:
        sender = self.senders[number]
        while True:
            if sender.error is not None or not sender.is_alive():
                raise WriterError(self._died(number))
            try:
                sender.queue.put(message, timeout=1)
                return
            except Exception:  # queue.Full: the shard is busy
                continue

    def answer(self, number: int, expected: str) -> Any:
        """Wait for the shard's answer to what was sent."""
        connection = self.results[number]
        try:
            kind, *answer = connection.recv()
        except (EOFError, OSError):
            raise WriterError(self._died(number)) from None
        if kind != expected:
            logger.debug("shard %d failed:\n%s", number + 1, answer[-1])
            raise WriterError(f"The process writing shard {number + 1} failed: {answer[0]}")
        return answer[0]

    def _died(self, number: int) -> str:
        connection = self.results[number]
        if connection.poll(0.5):
            try:
                kind, *answer = connection.recv()
                if kind == "failed":
                    return f"The process writing shard {number + 1} failed: {answer[0]}"
            except (EOFError, OSError):
                pass
        return (f"The process writing shard {number + 1} ended before finishing its work; "
                "if it ran out of memory, write fewer shards at once (--shard i/N)")

    def close(self) -> None:
        """Stop every shard process (those still working are killed) and close the pipes."""
        for sender in self.senders.values():
            sender.stopping.set()
        for number, pid in self.pids.items():
            try:
                finished, _ = os.waitpid(pid, os.WNOHANG)
                if not finished:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        for sender in self.senders.values():
            if sender.is_alive():
                sender.join()
            sender.connection.close()
        for connection in self.results.values():
            connection.close()


# A build or an update --------------------------------------------------------------------------


def build(corpus: Path | str | None, index: Path | str, *, shards: int = 1, shard: str | None = None,
          **options: Any) -> BuildReport:
    """Build the Xapian index at ``index`` from ``corpus``: all ``shards`` shards, or only
    ``shard`` (``"i/N"``). Options and errors are those of ``searchlib.build`` (``jobs`` is
    not used: one process writes each shard)."""
    only = None
    if shard is not None:
        number, shards = parse_shard(shard)
        only = [number]
    if shards < 1:
        raise InvalidOptionError(f"shards must be at least 1, not {shards}")
    return _write(None if corpus is None else Path(corpus), Path(index), incremental=False, shards=shards,
                  only=only, **options)


def update(corpus: Path | str | None, index: Path | str, *, shard: str | None = None, **options: Any) -> BuildReport:
    """Bring the Xapian index at ``index`` up to date with ``corpus``, each shard in one
    transaction (only shard ``"i/N"`` with ``shard``). Options and errors as ``searchlib.update``."""
    index = Path(index)
    there = engine_there(index)  # a first build's shards count before it writes XAPIAN.json last: their locks
    shards = there[1] if there is not None and there[0] == "xapian" else int(read_marker(index)["shards"])  # then wait, or 75
    only = None
    if shard is not None:
        number, given = parse_shard(shard)
        if given != shards:
            raise InvalidOptionError(f"--shard {shard}: the index at '{index}' has {shards} shards, not {given}")
        only = [number]
    else:
        here = [number for number in range(shards) if (index / shard_name(number, shards)).is_dir()]
        if here and len(here) < shards and (index / XAPIAN_MARKER).is_file():  # shards on several machines
            named = ", ".join(f"--shard {number + 1}/{shards}" for number in here)
            raise WriteRefusedError(
                f"Only {len(here)} of the {shards} shards of '{index}' are on this machine: update them with {named} "
                "(an update of them all would build the others here)", path=index)
    return _write(None if corpus is None else Path(corpus), index, incremental=True, shards=shards, only=only, **options)


def _write(corpus: Path | None, index: Path, *, incremental: bool, shards: int, only: list[int] | None,
           on_skip: SkipHandler | None = None, on_progress: ProgressHandler | None = None, ner: str | None = None,
           jobs: int = 1, wait: float = 0.0, max_delete: int | str | None = None, switch_corpus: bool = False,
           follow_symlinks: bool = False) -> BuildReport:
    started = time.perf_counter()
    extractor(ner)  # an extractor that is not installed fails here, before anything is read
    numbers = list(range(shards)) if only is None else only
    directories = {number: index / shard_name(number, shards) for number in numbers}
    command = "update" if incremental else "build"
    if corpus is None:
        recorded = [_metadata(g).get("corpus") for g in map(live_generation, directories.values()) if g is not None]
        if not any(recorded):
            raise CorpusError(f"No corpus given, and the index at '{index}' records none: "
                              f"searchlib {command} CORPUS --index {index}", path=index)
        corpus = Path(next(r for r in recorded if r))
    left_out: list[Skipped] = []
    files = list(corpus_files(corpus, on_skip=left_out.append, follow_symlinks=follow_symlinks))
    skip = SkipLog(on_skip)

    locks = []
    try:
        for number in numbers:  # in order, so two writers of overlapping shards cannot deadlock
            locks.append(WriterLock(directories[number]).acquire(wait=wait))
        for item in left_out:
            skip(item)
        counts = _apply(corpus, files, index, directories, shards, incremental=incremental, ner=ner, skip=skip,
                        on_progress=locks[0].noting(on_progress), max_delete=max_delete,
                        switch_corpus=switch_corpus, skipped_total=skip.total)
        if not incremental or not (index / "XAPIAN.json").exists():
            write_marker(index, shards)
    finally:
        for lock in locks:
            lock.release()
    return BuildReport(index=index, added=counts["added"], updated=counts["updated"], removed=counts["removed"],
                       seconds=time.perf_counter() - started, kind=command, corpus=corpus,
                       **skip.report_fields())  # type: ignore[arg-type]


class _ShardState:
    """What one shard holds before the write: its files as read, its articles' digests and
    files, the corpus it was built from, its finder's file."""

    def __init__(self, directory: Path, incremental: bool) -> None:
        self.directory = directory
        self.live = live_generation(directory)
        if self.live is not None and not self.live.is_dir():
            self.live = None
        records = _metadata(self.live) if self.live is not None else {}
        if records.get("schema_version") != SCHEMA:
            self.live, records = None, {}
        self.in_place = incremental and self.live is not None
        self.files: dict[str, list[Any]] = records.get(FILES_KEY, {})
        self.corpus = records.get("corpus")
        self.stories = records.get(STORIES_KEY) or ""
        self.next_order = int(records.get("next_order", 0))
        self.articles: dict[str, tuple[str, str]] = {}  # id -> digest, file
        if self.live is not None:
            database = xapian.Database(str(self.live))
            ids = {v.docid: v.value.decode("utf-8", "surrogatepass") for v in database.valuestream(ID_SLOT)}
            digests = {v.docid: v.value.decode() for v in database.valuestream(DIGEST_SLOT)}
            files = {v.docid: v.value.decode("utf-8", "surrogatepass") for v in database.valuestream(FILE_SLOT)}
            self.articles = {ids[d]: (digests.get(d, ""), files.get(d, "")) for d in ids}
            database.close()
        if not self.in_place:  # a build: nothing of the live generation is kept but the guards' view
            self.files, self.stories, self.next_order = {}, "", 0
        # The generation written: a new one for a build (or a first update), else the live one.
        self.generation = self.live if self.in_place and self.live is not None else directory / next_generation_name(directory)

    def unchanged(self, name: str, size: int, mtime_ns: int) -> bool:
        state = self.files.get(name)
        return state is not None and not state[2] and (state[0], state[1]) == (size, mtime_ns)


def _apply(corpus: Path, files: list[Path], index: Path, directories: dict[int, Path], shards: int, *,
           incremental: bool, ner: str | None, skip: SkipHandler, on_progress: ProgressHandler,
           max_delete: int | str | None, switch_corpus: bool, skipped_total: Callable[[], int]) -> dict[str, int]:
    """Read what changed, have the shard processes write it, check the guards, commit."""
    for directory in directories.values():
        _remove_leftovers(directory)
    states = {number: _ShardState(directory, incremental) for number, directory in directories.items()}
    for number, state in states.items():
        if state.corpus is not None and not switch_corpus and Path(state.corpus) != corpus.resolve():
            raise WriteRefusedError(
                f"Shard {number + 1} of the index at '{index}' holds {len(state.articles):,} articles from "
                f"'{state.corpus}', not from '{corpus.resolve()}'; nothing was changed. To replace them with the "
                f"articles of '{corpus}', add --switch-corpus; to index it apart, give another --index", path=index)
    finder = DuplicateFinder()
    first = next(iter(states.values()))
    if first.in_place and first.live is not None and first.stories and (first.live / first.stories).exists():
        finder = DuplicateFinder.load(first.live / first.stories)
    base = corpus_base(corpus)
    fingerprints = {}
    for path in files:
        try:
            info = path.stat()
            fingerprints[path.relative_to(base).as_posix()] = (path, info.st_size, info.st_mtime_ns)
        except OSError:
            fingerprints[path.relative_to(base).as_posix()] = (path, 0, 0)
    total = sum(size for _, size, _ in fingerprints.values())
    racy_after = time.time_ns() - _RACY_NS
    counts = {"added": 0, "updated": 0, "removed": 0}
    claimed: dict[str, str] = {}
    files_now: dict[int, dict[str, list[Any]]] = {number: {} for number in states}
    unreadable_files: set[str] = set()
    order = max(state.next_order for state in states.values())
    written = 0
    by_file: dict[str, list[str]] = {}
    for state in states.values():
        for article_id, (_digest, file) in state.articles.items():
            by_file.setdefault(file, []).append(article_id)
    for state in states.values():
        if not state.in_place:
            state.generation.mkdir(parents=True)
    processes = _ShardProcesses({n: (s.generation, not s.in_place) for n, s in states.items()}, ner)
    pending: dict[int, list[Any]] = {number: [] for number in states}
    try:
        def flush(number: int) -> None:
            if pending[number]:
                processes.send(number, ("add", pending[number]))
                pending[number] = []

        def changed() -> Iterator[tuple[Article, str, str]]:
            done = 0
            for name, (path, size, mtime_ns) in fingerprints.items():
                if incremental and all(state.unchanged(name, size, mtime_ns) for state in states.values()):
                    for number, state in states.items():
                        files_now[number][name] = state.files[name]
                    for article_id in by_file.get(name, ()):
                        claimed.setdefault(article_id, name)
                else:
                    problems: list[Skipped] = []

                    def noted(item: Skipped) -> None:
                        problems.append(item)
                        skip(item)

                    for article, line in read_file(path, base, noted):
                        if article.id in claimed:
                            skip(Skipped(str(path), f"duplicate id {article.id!r}, first read from {claimed[article.id]}",
                                         line=line, kind="duplicate-id"))
                            continue
                        claimed[article.id] = name if line is None else f"{name}:{line}"
                        yield article, article_digest(article), name
                    if any(p.kind == "unreadable" and p.line is None for p in problems):
                        unreadable_files.add(name)
                    for number in states:
                        files_now[number][name] = [size, mtime_ns, mtime_ns >= racy_after]
                done += size
                on_progress(Progress(written, done, total))

        batch: list[tuple[Article, str, str]] = []

        def dispatch(batch: list[tuple[Article, str, str]]) -> None:
            nonlocal order, written
            values = signatures([f"{article.title}\n{article.body}" for article, _, _ in batch])
            for (article, digest, name), signature in zip(batch, values):
                number = shard_of(article.id, shards)
                state = states.get(number)
                before = state.articles.get(article.id) if state is not None else None
                if state is not None and state.in_place and before is not None and before[0] == digest:
                    continue  # unchanged: its story and order stay
                finder.forget(article.id)
                story = finder.story_of(article.id, signature, article.date)
                order += 1
                if state is None:
                    continue  # another machine's shard: its story is known all the same
                pending[number].append((article, digest, story, order, name))
                counts["updated" if before is not None and state.in_place else "added"] += 1
                written += 1
                if len(pending[number]) >= BATCH:
                    flush(number)

        for item in changed():
            batch.append(item)
            if len(batch) >= BATCH:
                dispatch(batch)
                batch = []
        if batch:
            dispatch(batch)
        kept = set(claimed)
        for number, state in states.items():
            gone = [article_id for article_id, (_, file) in state.articles.items()
                    if article_id not in kept and file not in unreadable_files]
            for article_id in gone:
                finder.forget(article_id)
            allowed = deletion_limit(max_delete, len(state.articles))
            if len(gone) > allowed:
                share = "" if max_delete is None else f" (--max-delete {max_delete})"
                raise WriteRefusedError(
                    f"This {'update' if incremental else 'build'} would remove {len(gone):,} of the "
                    f"{len(state.articles):,} articles of shard {number + 1} of '{index}', more than the {allowed:,} "
                    f"allowed{share}, because '{corpus}' no longer has them; nothing was changed. If they are gone "
                    "for good, run it again with --max-delete 100%", path=index)
            if gone and state.in_place:
                processes.send(number, ("remove", gone))
                counts["removed"] += len(gone)
            flush(number)
        if not claimed:
            raise CorpusError(f"No article could be read from '{corpus}' ({skipped_total()} skipped); "
                              "the index was left as it was", path=corpus)
        for number in states:
            processes.send(number, ("prepare",))
        stories = f"stories-{uuid.uuid4().hex}.npz"
        _save_stories(finder, [state.generation / stories for state in states.values()])  # while the shards prepare
        prepared = {number: processes.answer(number, "prepared") for number in states}
        aliases = _alias_record(prepared, shards)
        for number, (failed, _counts, _digest) in prepared.items():
            for article_id, path, problem in failed:
                skip(Skipped(path, f"article {article_id!r} could not be indexed ({problem}); the next update tries "
                                   "it again", kind="not-indexed"))
                counts["added"] -= 1
                name = claimed.get(article_id, "").split(":")[0]
                if name in files_now[number]:
                    files_now[number][name][2] = True  # read again next time
        for number in states:  # the shards commit at once, each on its own core where there are enough
            metadata = {"schema_version": SCHEMA, "built_at": datetime.now().isoformat(timespec="seconds"),
                        "corpus": str(corpus.resolve()), "skipped": skipped_total(), "next_order": order,
                        "shard": f"{number + 1}/{shards}", **counts}
            processes.send(number, ("commit", metadata, files_now[number], stories, aliases))
        for number in states:
            processes.answer(number, "committed")
        for state in states.values():  # a build's new generations go live only once every shard has committed
            if not state.in_place:
                _switch(state.directory, state.generation)
                _remove_old_generations(state.directory)
            elif state.live is not None:
                old = state.live / state.stories if state.stories else None
                if old is not None and old.name != stories:
                    old.unlink(missing_ok=True)
    except BaseException:
        for number, state in states.items():
            try:
                processes.send(number, ("cancel",))
            except WriterError:
                pass
        processes.close()
        for state in states.values():
            if not state.in_place:
                shutil.rmtree(state.generation, ignore_errors=True)
        raise
    processes.close()
    return counts


def _save_stories(finder: DuplicateFinder, paths: list[Path]) -> None:
    """Write the finder's state to each of ``paths`` (one file a shard, all alike): saved once
    and copied, which at a million articles is seconds less for each shard after the first."""
    finder.save(paths[0])
    for path in paths[1:]:
        shutil.copyfile(paths[0], path)
    for path in paths:
        with open(path, "rb") as stream:
            os.fsync(stream.fileno())


def _alias_record(prepared: dict[int, tuple[Any, list[list[Any]], str]], shards: int) -> dict[str, Any] | None:
    """The index's alias table (aliases.py) from how many articles of every shard give each
    name, with the digests of those counts; ``None`` when this write holds only some shards
    (shards written on separate machines: a search then makes the table, xapian.py)."""
    if len(prepared) < shards:
        return None
    counts: Counter[tuple[str, str]] = Counter()
    for _failed, named, _digest in prepared.values():
        counts.update({(kind, name): count for kind, name, count in named})
    table = AliasTable.build(counts)
    return {"digests": [prepared[number][2] for number in range(shards)], "variants": table.variants}


def index_shards_records(index: Path) -> list[tuple[str, str | None, dict[str, Any]]]:
    """Each shard of ``index``: its name, its live generation (``None`` where it is not on this
    machine) and its records (``FILES_KEY``: the corpus files it read, name: size, modification
    time, …), for ``searchlib status``."""
    found = []
    for directory in shard_directories(index):
        live = live_generation(directory) if directory.is_dir() else None
        found.append((directory.name, live.name if live else None, _metadata(live) if live is not None else {}))
    return found
