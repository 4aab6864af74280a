"""Write indexes: full builds and incremental updates, each into a new generation, one writer at
a time.

Neither ever touches the live generation. A **build** writes a complete new Whoosh index beside
it; an **update** starts its new generation as hard links to the live one's files (Whoosh never
changes a segment file once written, so the links cost nothing and the live generation cannot
see the update's changes), then deletes and adds only the articles whose files or contents
changed. Either way ``CURRENT`` is switched to the new generation in one atomic rename only once
it is complete, so searches running meanwhile keep answering from the old one, and a writer that
fails or is killed (even with SIGKILL) leaves the last good index in place. The next writer
removes what a dead one left, and old generations once no reader has them open.

An update knows what changed from ``files.json`` in each generation: every corpus file's size
and modification time and the content digest of each of its articles. A file whose size and
time are unchanged is not read again; an article whose digest is unchanged is not analysed again.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import attrs
import numpy as np
from whoosh import index as whoosh_index

from .aliases import AliasTable
from .columns import texts
from .corpus import SkipHandler, SkipLog, corpus_base, corpus_files, read_file
from .duplicates import DuplicateFinder, signatures
from .engines import XAPIAN_MARKER, engine_there, engine_to_write, is_xapian, xapian_module
from .engines.xapian_layout import FILES_KEY
from .entities import extractor
from .errors import CorpusError, IndexBuildingError, IndexNotFoundError, InvalidOptionError, WriteRefusedError
from .locks import READERS_LOCK, WriterLock, try_remove_generation, writer_of
from .models import Article, BuildReport, Skipped
from .schema import (
    ALIASES_STATE,
    CURRENT_FILE,
    FACETS_COLUMN,
    METADATA_FILE,
    SCHEMA_VERSION,
    SEGMENT_FILES,
    facet_names,
    list_generations,
    make_schema,
    next_generation_name,
    read_metadata,
    segment_files,
    switch_generation,
    write_json,
    write_metadata,
)
from .snapshot import STORY_NUMBERS, story_digest, story_numbers
from .vocabulary import VOCABULARY_STATE, Vocabulary, article_words, save_vocabulary
from .workers import build_segments
from .writer import (
    BATCH,
    Failure,
    MemoryWriter,
    SegmentBuilder,
    Task,
    commit_segments,
    fields_or_failure,
)

__all__ = ["build", "update", "index_status", "Progress", "article_digest", "changed_files"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

FILES_STATE = "files.json"
#: How recent a file's modification time must be for the next update to read it again whatever
#: its size and time say: more than any file system's timestamp granularity (FAT's is 2 s).
_RACY_NS = 3_000_000_000
STORIES_STATE = "stories.npz"
# Files of a generation that a new generation must not share: its own locks and records.
_NOT_LINKED = {READERS_LOCK, METADATA_FILE, FILES_STATE, STORIES_STATE, STORY_NUMBERS, VOCABULARY_STATE, ALIASES_STATE,
               "MAIN_WRITELOCK"}


@attrs.frozen
class Progress:
    """How far a build or update has come: articles written, and bytes of corpus files read."""

    articles: int
    done_bytes: int
    total_bytes: int


ProgressHandler = Callable[[Progress], None]


def build(
    corpus: Path | str | None,
    index: Path | str,
    *,
    on_skip: SkipHandler | None = None,
    on_progress: ProgressHandler | None = None,
    ner: str | None = None,
    jobs: int = 1,
    wait: float = 0.0,
    max_delete: int | str | None = None,
    switch_corpus: bool = False,
    follow_symlinks: bool = False,
    engine: str | None = None,
    shards: int | None = None,
    shard: str | None = None,
) -> BuildReport:
    """Index every article under ``corpus`` into a new generation of the index at ``index``.

    A build never replaces an index by surprise: over an index built from another corpus it
    needs ``switch_corpus``, and it refuses to leave out more of the index's articles than
    ``max_delete`` allows; either way nothing is changed when it refuses.

    Args:
        corpus: a directory of article files (read recursively) or one corpus file; ``None``
            for the corpus the index was built from.
        index: the index directory; created if missing.
        on_skip: called for each file or line skipped, as it happens (also in the report).
        on_progress: called now and then with a ``Progress``.
        ner: the entity extractor: ``rules`` (the default, offline), ``nltk``, ``spacy`` or
            ``auto``; default ``$SEARCHLIB_NER``, then ``rules``.
        jobs: worker processes that extract entities, analyse articles and write segments of
            the index (writer.build_segments); 1 does it all in this process.
        wait: seconds to wait for another writer of this index to finish.
        max_delete: how many of the index's articles may be gone from the corpus: a count, or
            a share of the index as text (``"50%"``, the default; ``"100%"`` for no limit), as
            rsync's ``--max-delete``. A corpus that vanished, or the wrong one, stops here.
        switch_corpus: allow reading a corpus other than the one the index was built from.
        follow_symlinks: also read what symbolic links lead to outside the corpus (by default
            such links are skipped and reported: nothing outside the corpus is read).

    Returns:
        A ``BuildReport``: the articles indexed (``added``), the corpus read and the inputs
        skipped (the first ``SKIPPED_EXAMPLES`` of them, ``SKIPPED_EXAMPLES_OF_A_KIND`` of a
        kind, and the counts of all).

    Raises:
        CorpusError: the corpus does not exist, none was given and the index records none, or
            not one article in it could be read (the live index is then left as it was).
        WriteRefusedError: the corpus is not the index's, or too many articles would go.
        IndexLockedError: another writer is running, and did not finish within ``wait``.
        NerBackendError: the entity extractor asked for is not installed.

    ``engine="xapian"`` writes a Xapian index of ``shards`` shards, or only shard ``shard``
    (``"i/N"``) of one whose shards are built on several machines (engines/xapian_build.py).
    Without ``engine`` (and ``shards``) a build keeps the engine (and the shards) of the index
    there, else writes a Whoosh index; one of another engine or number of shards is refused
    (``WriteRefusedError``): it would be left beside the new one, or replaced.
    """
    deletion_limit(max_delete, 0)  # a bad value fails here, before the corpus is listed
    engine, shards = engine_to_write(Path(index), engine, shards, shard)
    if engine == "xapian":
        written: BuildReport = xapian_module("xapian_build").build(
            corpus, index, shards=shards, shard=shard, on_skip=on_skip, on_progress=on_progress, ner=ner, wait=wait,
            max_delete=max_delete, switch_corpus=switch_corpus, follow_symlinks=follow_symlinks)
        return written
    return _write(_optional_path(corpus), Path(index), incremental=False, on_skip=on_skip,
                  on_progress=on_progress, ner=ner, jobs=jobs, wait=wait,
                  max_delete=max_delete, switch_corpus=switch_corpus, follow_symlinks=follow_symlinks)


def update(
    corpus: Path | str | None,
    index: Path | str,
    *,
    on_skip: SkipHandler | None = None,
    on_progress: ProgressHandler | None = None,
    ner: str | None = None,
    wait: float = 0.0,
    max_delete: int | str | None = None,
    switch_corpus: bool = False,
    follow_symlinks: bool = False,
    shard: str | None = None,
) -> BuildReport:
    """Bring the index at ``index`` up to date with ``corpus`` (``None``: the corpus it was
    built from), re-analysing only what changed.

    Added and changed articles (by content digest) are indexed, articles gone from the corpus
    are removed, and the report counts each (``added``, ``updated``, ``removed``); with nothing
    changed no new generation is written. Without an index, or with one of another schema
    version, it builds one. Arguments and errors are those of ``build``; a Xapian index is
    updated shard by shard (only shard ``shard``, ``"i/N"``, if given).
    """
    deletion_limit(max_delete, 0)
    there = engine_there(Path(index))  # a Xapian first build still running counts: it has shards, no marker yet
    if (there is not None and there[0] == "xapian") or shard is not None:
        updated: BuildReport = xapian_module("xapian_build").update(
            corpus, index, shard=shard, on_skip=on_skip, on_progress=on_progress, ner=ner, wait=wait,
            max_delete=max_delete, switch_corpus=switch_corpus, follow_symlinks=follow_symlinks)
        return updated
    return _write(_optional_path(corpus), Path(index), incremental=True, on_skip=on_skip,
                  on_progress=on_progress, ner=ner, jobs=1, wait=wait,
                  max_delete=max_delete, switch_corpus=switch_corpus, follow_symlinks=follow_symlinks)


def _optional_path(value: Path | str | None) -> Path | None:
    return None if value is None else Path(value)


@attrs.frozen
class _FileState:
    size: int
    mtime_ns: int
    articles: dict[str, str]  # id -> digest, in file order
    # Read again next time, whatever its size and time: it was written moments before it was
    # read, and could be written again within the same clock tick unseen (git's "racy clean").
    racy: bool = False

    def unchanged(self, size: int, mtime_ns: int) -> bool:
        """Whether the file need not be read again: it has the size and time it had."""
        return not self.racy and self.same_stat(size, mtime_ns)

    def same_stat(self, size: int, mtime_ns: int) -> bool:
        return (self.size, self.mtime_ns) == (size, mtime_ns)

    def to_json(self) -> dict[str, Any]:
        state = {"size": self.size, "mtime_ns": self.mtime_ns, "articles": self.articles}
        return {**state, "racy": True} if self.racy else state


def _load_files(generation: Path) -> dict[str, _FileState]:
    try:
        raw = json.loads((generation / FILES_STATE).read_text(encoding="utf-8"))
        return {name: _FileState(**entry) for name, entry in raw.items()}
    except (OSError, ValueError, TypeError):
        return {}


@attrs.define
class _NewGeneration:
    """The generation a writer fills, created only when there is something to write: by a
    build, as segments of its own (``build``); by an update, as the live generation's files
    with changes (``writer``)."""

    index: Path
    live: Path | None
    jobs: int
    ner: str | None
    path: Path | None = None
    whoosh: Any = None
    writer: Any = None
    finder: DuplicateFinder = attrs.field(factory=DuplicateFinder)
    vocabulary: Counter[str] = attrs.field(factory=Counter)
    stems: dict[str, str | None] = attrs.field(factory=dict)

    def create(self) -> Path:
        """Create the generation's directory and index (with the live one's files and stories)."""
        if self.path is None:
            if self.live is not None and (self.live / STORIES_STATE).exists():
                self.finder = DuplicateFinder.load(self.live / STORIES_STATE)
            if self.live is not None:
                known = Vocabulary.load(self.live)
                self.vocabulary, self.stems = known.counter(), known.stem_map()
            self.path = self.index / next_generation_name(self.index)
            self.path.mkdir()
            (self.path / READERS_LOCK).touch()
            if self.live is None:
                self.whoosh = whoosh_index.create_in(str(self.path), make_schema())
            else:
                for item in self.live.iterdir():
                    if item.name not in _NOT_LINKED:
                        os.link(item, self.path / item.name)
                self.whoosh = whoosh_index.open_dir(str(self.path))
        return self.path

    def build(self, tasks: Iterator[Task]) -> list[Failure]:
        """Index every article of ``tasks`` into segments, in ``jobs`` worker processes or here,
        and commit them; return the articles that failed."""
        first = next(tasks, None)
        if first is None:
            return []
        path = self.create()
        tasks = itertools.chain([first], tasks)
        if self.jobs > 1:
            segments, failed, self.vocabulary, self.stems = build_segments(
                path, _batches(tasks, BATCH), ner=self.ner, jobs=self.jobs)
        else:
            builder = SegmentBuilder(str(path), self.ner)
            for task in tasks:
                builder.add(*task)
            segments, failed, self.vocabulary, self.stems = builder.finish()
        commit_segments(path, segments)
        return failed

    def remove(self, article_id: str) -> None:
        """Delete an article from an update's generation, its words from the vocabulary."""
        writer = self.open()
        old = writer.searcher().document(id=article_id)
        if old is not None:
            self.vocabulary.subtract(article_words(old.get("title", ""), old.get("caption", ""), old.get("body", "")))
        writer.delete_by_term("id", article_id)
        self.finder.forget(article_id)

    def open(self) -> Any:
        """The writer of an update, creating the generation on first use."""
        if self.writer is None:
            self.create()
            self.writer = MemoryWriter(self.whoosh)
        return self.writer

    def flush_when_full(self) -> None:
        """Write the postings held out as a segment once the writer is full."""
        if self.writer.full:
            self.writer.commit(merge=False)
            self.writer = MemoryWriter(self.whoosh)


def _story_text(article: Article) -> str:
    """What near-duplicates are found by: the title and the body."""
    return f"{article.title}\n{article.body}"


def _batches(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(itertools.islice(items, size)):
        yield batch


def _write(
    corpus: Path | None,
    index: Path,
    *,
    incremental: bool,
    on_skip: SkipHandler | None,
    on_progress: ProgressHandler | None,
    ner: str | None,
    jobs: int,
    wait: float,
    max_delete: int | str | None,
    switch_corpus: bool,
    follow_symlinks: bool,
) -> BuildReport:
    started = time.perf_counter()
    extractor(ner)  # an extractor that is not installed fails here, before anything is read
    corpus = _corpus_to_read(corpus, index, "update" if incremental else "build")
    # A missing corpus fails here, before any lock is taken; what the listing leaves out is
    # reported once the lock is held, with the rest.
    left_out: list[Skipped] = []
    files = list(corpus_files(corpus, on_skip=left_out.append, follow_symlinks=follow_symlinks))
    skip = SkipLog(on_skip)

    logger.info("%s of %s from %s: %d corpus files", "update" if incremental else "build", index, corpus, len(files))
    with WriterLock(index).acquire(wait=wait) as lock:
        for item in left_out:
            skip(item)
        remove_leftovers(index)
        held = _Held.read(index)
        held.check_corpus(corpus, index, switch_corpus)
        live = _live_generation(index) if incremental else None
        previous = _load_files(live) if live is not None else {}
        generation = _NewGeneration(index, live, jobs, ner)
        try:
            unreadable = [Path(item.path) for item in left_out if item.kind == "unreadable"]
            counts, files_now = _apply(corpus, files, previous, generation, ner, skip, lock.noting(on_progress), unreadable)
            articles = sum(len(state.articles) for state in files_now.values())
            if articles == 0:
                raise CorpusError(
                    f"No article could be read from '{corpus}' ({skip.total()} skipped); "
                    "the index was left as it was",
                    path=corpus,
                )
            held.check_removals(files_now, corpus, index, max_delete, "update" if incremental else "build")
            if generation.writer is not None:
                generation.writer.commit()  # merging small segments, as Whoosh does
            if generation.path is not None:
                save_vocabulary(generation.path, generation.vocabulary, generation.stems)
                _finish(generation.path, corpus, files_now, generation.finder, articles, skip.total(), counts)
                switch_generation(index, generation.path)
                logger.info("%s is live: %d articles (added %d, updated %d, removed %d)", generation.path.name, articles,
                            counts["added"], counts["updated"], counts["removed"])
            elif live is not None and files_now != previous:
                write_json(live / FILES_STATE, {name: state.to_json() for name, state in files_now.items()})
        except BaseException:
            if generation.writer is not None:
                generation.writer.cancel()
            if generation.path is not None:
                try_remove_generation(generation.path)
            raise
        remove_old_generations(index)
    return BuildReport(
        index=index,
        added=counts["added"],
        updated=counts["updated"],
        removed=counts["removed"],
        seconds=time.perf_counter() - started,
        kind="update" if incremental else "build",
        corpus=corpus,
        **skip.report_fields(),  # type: ignore[arg-type]
    )


def _corpus_to_read(corpus: Path | None, index: Path, command: str) -> Path:
    """``corpus``, or the one the index was built from when it is ``None``."""
    if corpus is not None:
        return corpus
    recorded = _Held.read(index).corpus
    if recorded is None:
        if _read_current(index) is None:
            raise IndexNotFoundError(
                f"No index at '{index}' to {command}, and no corpus given: build one with: "
                f"searchlib build CORPUS --index {index}",
                path=index,
            )
        raise CorpusError(
            f"The index at '{index}' does not record the corpus it was built from; "
            f"give it: searchlib {command} CORPUS --index {index}",
            path=index,
        )
    return recorded


@attrs.frozen
class _Held:
    """What the live generation holds, as far as a writer must not lose it by surprise: the
    corpus it was built from and the ids of its articles."""

    corpus: Path | None
    ids: frozenset[str]

    @classmethod
    def read(cls, index: Path) -> _Held:
        name = _read_current(index)
        if name is None:
            return cls(None, frozenset())
        generation = index / name
        recorded = read_metadata(generation).get("corpus")
        ids = frozenset(i for state in _load_files(generation).values() for i in state.articles)
        return cls(Path(recorded) if recorded else None, ids)

    def check_corpus(self, corpus: Path, index: Path, switch_corpus: bool) -> None:
        """Refuse to read a corpus other than the index's, unless asked to switch."""
        if self.corpus is None or switch_corpus or corpus.resolve() == self.corpus:
            return
        raise WriteRefusedError(
            f"The index at '{index}' holds {_articles(len(self.ids))} from '{self.corpus}', not from "
            f"'{corpus.resolve()}'; nothing was changed. To replace them with the articles of "
            f"'{corpus}', add --switch-corpus; to index it apart, give another --index",
            path=index,
        )

    def check_removals(self, now: dict[str, _FileState], corpus: Path, index: Path,
                       max_delete: int | str | None, command: str) -> None:
        """Refuse to leave out more of the index's articles than ``max_delete`` allows."""
        kept = {i for state in now.values() for i in state.articles}
        gone = len(self.ids - kept)
        allowed = deletion_limit(max_delete, len(self.ids))
        if gone <= allowed:
            return
        share = "" if max_delete is None else f" (--max-delete {max_delete})"
        raise WriteRefusedError(
            f"This {command} would remove {gone:,} of the {_articles(len(self.ids))} of '{index}', "
            f"more than the {allowed:,} allowed{share}, because '{corpus}' no longer has them; "
            f"nothing was changed. If they are gone for good, run it again with --max-delete 100%",
            path=index,
        )


def _articles(count: int) -> str:
    return f"{count:,} article" + ("" if count == 1 else "s")


DEFAULT_MAX_DELETE = "50%"


def deletion_limit(max_delete: int | str | None, articles: int) -> int:
    """How many of ``articles`` may be removed: ``max_delete`` as a count, or as a share of
    them (``"50%"``, the default).

    Raises:
        InvalidOptionError: ``max_delete`` is neither.
    """
    value = DEFAULT_MAX_DELETE if max_delete is None else max_delete
    text = str(value).strip()
    try:
        if text.endswith("%"):
            share = float(text[:-1])
            if not 0 <= share <= 100:
                raise ValueError(text)
            return int(articles * share / 100)
        count = int(text)
        if count < 0:
            raise ValueError(text)
        return count
    except ValueError:
        raise InvalidOptionError(
            f"max_delete {value!r}: give a number of articles (100) or a share of the index (50%)"
        ) from None


def _apply(
    corpus: Path,
    files: list[Path],
    previous: dict[str, _FileState],
    generation: _NewGeneration,
    ner: str | None,
    skip: SkipHandler,
    on_progress: ProgressHandler | None,
    unreadable: list[Path] = [],  # noqa: B006 (read only)
) -> tuple[dict[str, int], dict[str, _FileState]]:
    """Write what changed into ``generation``; return the counts and the corpus state now.

    A file or folder that cannot be read now (permissions, a disk gone for a moment) keeps what
    was indexed of it, to be read again next time: only what the corpus no longer has is removed.
    """
    base = corpus_base(corpus)
    digest_before = {i: d for state in previous.values() for i, d in state.articles.items()}
    claimed: dict[str, str] = {}  # id -> where it was first read, for duplicate-id reports
    counts = {"added": 0, "updated": 0, "removed": 0}
    files_now: dict[str, _FileState] = {}
    fingerprints = _fingerprints(corpus, files)

    def keep(name: str, state: _FileState) -> None:
        """What was indexed of a file that cannot be read now, kept, and read again next time."""
        articles = {i: d for i, d in state.articles.items() if i not in claimed}
        claimed.update(dict.fromkeys(articles, name))
        files_now[name] = attrs.evolve(state, articles=articles, racy=True)

    hidden = [folder.resolve().relative_to(base.resolve()).as_posix() for folder in unreadable
              if folder.resolve().is_relative_to(base.resolve())]
    for name, state in previous.items():
        if name not in fingerprints and any(name.startswith(f"{folder}/") or folder == "." for folder in hidden):
            keep(name, state)
    racy_after = time.time_ns() - _RACY_NS  # files changed since may change again unseen
    total = sum(size for _, size, _ in fingerprints.values())

    def changed() -> Iterator[tuple[Article, str]]:
        """The articles to index, read file by file; ``files_now`` filled in as a side effect."""
        done = 0
        for name, (path, size, mtime_ns) in fingerprints.items():
            state = previous.get(name)
            if state is not None and state.unchanged(size, mtime_ns):
                articles = {i: d for i, d in state.articles.items() if i not in claimed}
                claimed.update(dict.fromkeys(articles, name))
                files_now[name] = attrs.evolve(state, articles=articles)
            else:
                articles = {}
                problems: list[Skipped] = []

                def noted(item: Skipped) -> None:
                    problems.append(item)
                    skip(item)

                reading = read_file(path, base, noted, on_bytes=_progress_at(on_progress, done, total, counts))
                for article, line in reading:
                    if article.id in claimed:
                        reason = f"duplicate id {article.id!r}, first read from {claimed[article.id]}"
                        skip(Skipped(str(path), reason, line=line, kind="duplicate-id"))
                        continue
                    claimed[article.id] = name if line is None else f"{name}:{line}"
                    digest = articles[article.id] = article_digest(article)
                    if digest_before.get(article.id) != digest:
                        yield article, digest
                if state is not None and not articles and any(p.kind == "unreadable" and p.line is None for p in problems):
                    keep(name, state)
                else:
                    files_now[name] = _FileState(size, mtime_ns, articles, racy=mtime_ns >= racy_after)
            done += size
            if on_progress is not None:
                on_progress(Progress(counts["added"] + counts["updated"], done, total))

    def story(article: Article) -> str:
        return generation.finder.story(article.id, _story_text(article), article.date)

    def added() -> Iterator[tuple[Article, str]]:
        for article, digest in changed():
            counts["added"] += 1
            yield article, digest

    def tasks() -> Iterator[Task]:
        for batch in _batches(added(), BATCH):  # signatures a batch at a time: numpy's calls shared
            values = signatures([_story_text(article) for article, _ in batch])
            for (article, digest), signature in zip(batch, values):
                yield article, digest, generation.finder.story_of(article.id, signature, article.date)

    failed: list[Failure] = []
    if generation.live is None:
        failed = generation.build(tasks())
    else:
        extract = extractor(ner)
        for article, digest in changed():
            fields = fields_or_failure(article, extract, digest)
            if isinstance(fields, tuple):
                failed.append(fields)
                continue
            if article.id in digest_before:
                generation.remove(article.id)
                counts["updated"] += 1
            else:
                counts["added"] += 1
            generation.open().add_document(**fields, story=story(article))
            generation.vocabulary.update(fields["_words"].keys())
            generation.stems.update(fields["_words"])
            generation.flush_when_full()
    for article_id in digest_before.keys() - claimed.keys():
        generation.remove(article_id)
        counts["removed"] += 1
    for article_id, path, problem in failed:
        skip(Skipped(path, f"article {article_id!r} could not be indexed ({problem}); the next update tries it again",
                     kind="not-indexed"))
    if failed and generation.live is None:  # a build counted them, and gave them stories
        counts["added"] -= len(failed)
        for article_id, *_ in failed:
            generation.finder.forget(article_id)
    if failed:
        left_out = {article_id for article_id, *_ in failed}
        files_now = {name: _without(state, left_out, digest_before) for name, state in files_now.items()}
    return counts, files_now


def _without(state: _FileState, left_out: set[str], digest_before: dict[str, str]) -> _FileState:
    """A file's state with the articles that failed recorded as before (an update keeps their
    old version) or not at all, and its size unknown, so that the next update reads it again."""
    if left_out.isdisjoint(state.articles):
        return state
    articles = {i: digest_before[i] if i in left_out else d for i, d in state.articles.items()
                if i not in left_out or i in digest_before}
    return attrs.evolve(state, size=-1, articles=articles)


def _progress_at(
    on_progress: ProgressHandler | None, done: int, total: int, counts: dict[str, int]
) -> Callable[[int], None] | None:
    if on_progress is None:
        return None
    return lambda position: on_progress(Progress(counts["added"] + counts["updated"], done + position, total))


def _fingerprints(corpus: Path, files: Iterable[Path]) -> dict[str, tuple[Path, int, int]]:
    """Each corpus file by its name relative to the corpus, with its size and modification time."""
    base = corpus_base(corpus)
    return {path.relative_to(base).as_posix(): (path, *_stat(path)) for path in files}


def _stat(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        return 0, 0
    return info.st_size, info.st_mtime_ns


def _live_generation(index: Path) -> Path | None:
    """The live generation an update can start from; ``None`` to build from scratch."""
    name = _read_current(index)
    if name is None:
        return None
    live = index / name
    if read_metadata(live).get("schema_version") != SCHEMA_VERSION or not (live / FILES_STATE).exists():
        logger.info("the index at %s is of another schema version: rebuilding it", index)
        return None
    return live


def _read_current(index: Path) -> str | None:
    try:
        return (index / CURRENT_FILE).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _finish(
    generation: Path,
    corpus: Path,
    files_now: dict[str, _FileState],
    finder: DuplicateFinder,
    articles: int,
    skipped: int,
    counts: dict[str, int],
) -> None:
    """Record what the new generation holds, and make sure it is on disk before the switch."""
    finder.save(generation / STORIES_STATE)
    with whoosh_index.open_dir(str(generation)).reader() as reader:  # read once for all three
        leaves = list(reader.leaf_readers())
        _save_aliases(generation, leaves)
        numbers_digest = _save_story_numbers(generation, leaves, reader.doc_count_all())
        files = segment_files(generation, [leaf.segment().segment_id() for leaf, _ in leaves])
    write_json(generation / FILES_STATE, {name: state.to_json() for name, state in files_now.items()})
    write_metadata(
        generation,
        {
            "schema_version": SCHEMA_VERSION,
            "built_at": datetime.now().isoformat(timespec="seconds"),
            "corpus": str(corpus.resolve()),
            "articles": articles,
            "skipped": skipped,
            **counts,
            STORY_NUMBERS: numbers_digest,
            SEGMENT_FILES: files,
        },
    )
    for item in generation.iterdir():
        with open(item, "rb") as stream:
            os.fsync(stream.fileno())


def _save_aliases(generation: Path, leaves: list[tuple[Any, int]]) -> None:
    """The generation's alias table (aliases.py), made from how many of its articles give each
    name: read from the facets column of each of its segments (``leaves``), deleted articles
    left out (0.5 s for Reuters)."""
    counts: Counter[tuple[str, str]] = Counter()
    for leaf, _ in leaves:
        deleted = leaf.deleted_docs_set
        values = texts([(leaf.column_reader(FACETS_COLUMN, translate=False), 0)], leaf.doc_count_all())
        for docnum, value in enumerate(values):
            if docnum not in deleted:
                counts.update(set(facet_names(value)))
    AliasTable.build(counts).save(generation / ALIASES_STATE)


def _save_story_numbers(generation: Path, leaves: list[tuple[Any, int]], size: int) -> str:
    """Keep each article's story as a number (snapshot.STORY_NUMBERS), for searches to read at
    once; return their digest, for the metadata."""
    columns = [(leaf.column_reader("story", translate=False), base) for leaf, base in leaves]
    numbers = story_numbers(texts(columns, size)).astype(np.int32)
    with open(generation / STORY_NUMBERS, "wb") as stream:
        np.save(stream, numbers)
    return story_digest(numbers)


def remove_leftovers(index: Path) -> None:
    """Remove what a writer that died left: generations newer than the live one, temp files.
    Call only while holding the writer lock."""
    current = _read_current(index)
    for generation in list_generations(index):
        if current is None or generation.name > current:
            logger.info("removing %s, left by a writer that did not finish", generation)
            try_remove_generation(generation)
    for temporary in index.glob(".*.tmp"):
        temporary.unlink(missing_ok=True)


def remove_old_generations(index: Path) -> None:
    """Remove every generation but the live one that no reader has open."""
    current = _read_current(index)
    for generation in list_generations(index):
        if generation.name != current and not try_remove_generation(generation):
            logger.info("keeping %s: a reader still has it open", generation)


def index_status(index: Path | str) -> dict[str, Any]:
    """What the index at ``index`` holds and whether it is being written: its generation,
    article count, when and from which corpus it was written, how many corpus files changed
    since (``None`` if the corpus is gone), and the running writer (``None`` if none) with its
    progress. While the first build runs, only ``index`` and ``writer`` are set.

    Raises:
        IndexNotFoundError, IndexVersionError, IndexCorruptError: as ``Index.open``.
    """
    from .query import Index  # query builds on this layer's siblings; imported on use only

    index = Path(index)
    shards = xapian_module("xapian_build").index_shards_records(index) if (index / XAPIAN_MARKER).is_file() else []
    if any(generation is None for _, generation, _ in shards):  # shards on several machines: those on this one
        return _local_shards_status(index, shards)
    try:
        opened = Index.open(index)
    except IndexBuildingError as building:  # no generation yet: the first build is running
        return {"index": str(index), "generation": None, "articles": None, "built_at": None, "corpus": None,
                "skipped": None, "schema_version": None, "changed_files": None, "writer": building.holder}
    with opened:
        metadata = opened.metadata
        info: dict[str, Any] = {
            "index": str(opened.path),  # a xapian:// address as written (a Path of it has lost a slash)
            "generation": opened.generation.name,
            "articles": opened.article_count,
            "built_at": metadata.get("built_at"),
            "corpus": metadata.get("corpus"),
            "skipped": metadata.get("skipped"),
            "schema_version": metadata.get("schema_version"),
            "changed_files": None,
        }
        if shards:  # local shards: each records the corpus files it read
            info["generation"] = ", ".join(f"{shard}/{generation}" for shard, generation, _ in shards)
            recorded = _shards_files(shards)
        elif is_xapian(index):  # remote shards: their files are on their machines
            recorded = {}
        else:
            recorded = {name: (state.size, state.mtime_ns) for name, state in _load_files(opened.generation).items()}
        if metadata.get("corpus") and recorded:
            try:
                info["changed_files"] = changed_files(Path(metadata["corpus"]), recorded)
            except CorpusError:
                pass
    info["writer"] = writer_of(index)
    return info


def _local_shards_status(index: Path, shards: list[tuple[str, str | None, dict[str, Any]]]) -> dict[str, Any]:
    """``index_status`` of the shards of ``index`` on this machine, from their records."""
    here = [(name, generation, records) for name, generation, records in shards if generation is not None]
    corpus = next((records["corpus"] for _, _, records in here if records.get("corpus")), None)
    changed = None
    if corpus and here:
        try:
            changed = changed_files(Path(corpus), _shards_files(here))
        except CorpusError:
            pass
    return {
        "index": str(index),
        "generation": ", ".join(f"{name}/{generation}" for name, generation, _ in here) or None,
        "shards_here": f"{len(here)} of {len(shards)}",
        "articles": sum(int(records.get("articles", 0)) for _, _, records in here),
        "built_at": max((records["built_at"] for _, _, records in here if records.get("built_at")), default=None),
        "corpus": corpus,
        "skipped": sum(int(records.get("skipped", 0)) for _, _, records in here),
        "schema_version": next((records["schema_version"] for _, _, records in here if records.get("schema_version")), None),
        "changed_files": changed,
        "writer": writer_of(index),
    }


def _shards_files(shards: Sequence[tuple[str, str | None, dict[str, Any]]]) -> dict[str, tuple[int, int]]:
    """The corpus files the shards record having read, each with its size and modification time."""
    return {name: (state[0], state[1]) for _, _, records in shards for name, state in records.get(FILES_KEY, {}).items()}


def changed_files(corpus: Path | str, previous: dict[str, tuple[int, int]]) -> int:
    """How many files of ``corpus`` were added, changed or removed since they were recorded as
    ``previous`` (each file's size and modification time, by its name in the corpus).

    Raises:
        CorpusError: the corpus is gone.
    """
    now = _fingerprints(Path(corpus), corpus_files(corpus))
    changed = sum(1 for name, (_, size, mtime_ns) in now.items() if previous.get(name) != (size, mtime_ns))
    return changed + len(previous.keys() - now.keys())


def article_digest(article: Article) -> str:
    """A hash of what is indexed of an article: it changes exactly when re-indexing would."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (article.title, article.caption, article.body, article.url, str(article.date)):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()
