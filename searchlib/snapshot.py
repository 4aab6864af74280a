"""One open generation of an index, and what searches read from it once and keep.

A ``Snapshot`` is Whoosh's searcher over the live generation, pinned against removal (locks.py),
with the columns every search feature works from, each read on first use and kept while the
snapshot is open: article ids, stories, dates, the entities facets count, which articles are
deleted, the spelling vocabulary, each field's terms, and posting lists as numpy arrays
(scoring.TermPostings). Reading them once is what makes facets, date orders, filters, timelines
and explanations cost about what a plain search costs: each is then arithmetic over arrays.

Nothing here knows the query language or the shape of results; ``query.Index`` opens a snapshot
and replaces it when a writer makes a newer generation live.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from time import monotonic, sleep
from typing import Any, TypeVar

import attrs
import numpy as np
from whoosh.filedb.filestore import FileStorage
from whoosh.searching import Searcher

from .aliases import AliasTable
from .analysis import remember_stems
from .columns import numbers, texts
from .config import Ranking
from .errors import IndexBuildingError, IndexCorruptError, IndexNotFoundError
from .locks import READERS_LOCK, ReaderPin, writer_of
from .models import ENTITY_KINDS
from .schema import (
    ALIASES_STATE,
    FACETS_COLUMN,
    current_generation,
    damaged_files,
    facet_names,
    read_metadata,
    rebuild_hint,
)
from .scoring import BM25, TermPostings
from .vocabulary import Vocabulary

__all__ = ["STORY_NUMBERS", "Snapshot", "Facets", "Stories", "UNDATED", "story_digest", "story_numbers",
           "wait_for_first_build"]

logger = logging.getLogger(__name__)

#: Each article's story as a number, kept beside a generation's segments by its writer: read
#: in a millisecond, where numbering the stories of Reuters' 20,841 articles took 11 ms of each
#: command-line search.
STORY_NUMBERS = "story-numbers.npy"

#: The date of an undated article in ``Snapshot.dates``.
UNDATED = np.iinfo(np.int64).min

T = TypeVar("T")
_MISSING_DATE = (1 << 64) - 1  # what Whoosh's date column holds for an article without one


@attrs.frozen
class Stories:
    """Each article's story as a number (``codes``), and the articles grouped by story: those of
    story ``s`` are ``by_story[starts[s]:starts[s + 1]]``."""

    codes: np.ndarray
    by_story: np.ndarray
    starts: np.ndarray

    def members(self, docnum: int) -> np.ndarray:
        code = self.codes[docnum]
        return self.by_story[self.starts[code] : self.starts[code + 1]]


@attrs.frozen
class Facets:
    """One kind's entities, as facets count them: the names, and an entry for each article and
    name it mentions: the name's number in ``values``, the article in ``owners``."""

    names: list[str]
    values: np.ndarray
    owners: np.ndarray

    def counts(self, mask: np.ndarray) -> np.ndarray:
        """How many of the articles in ``mask`` mention each name."""
        return np.bincount(self.values[mask[self.owners]], minlength=len(self.names))


@attrs.define
class Snapshot:
    """An open generation. Use ``close()`` when done."""

    index_dir: Path
    generation: Path
    whoosh: Any = attrs.field(repr=False)
    searcher: Searcher = attrs.field(repr=False)
    _pin: ReaderPin = attrs.field(repr=False)
    _metadata: dict[str, Any] = attrs.field(repr=False)  # read once: a generation is never rewritten
    _cache: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def open(cls, index_dir: Path, ranking: Ranking, *, wait: float = 0.0, preload: bool = True) -> Snapshot:
        """Open and pin the live generation of the index at ``index_dir``. ``preload`` matters
        only for segments written as compound files (before writer.py kept their files apart):
        Whoosh then maps each and copies the parts it opens into memory, else it reads what each
        search needs from the files.

        Raises:
            IndexNotFoundError, IndexBuildingError, IndexVersionError, IndexCorruptError: as
            ``Index.open`` says.
        """
        started = monotonic()
        for _attempt in range(5):
            generation = wait_for_first_build(index_dir, lambda: current_generation(index_dir), wait)
            pin = ReaderPin.take(generation)
            if pin is None and generation.is_dir() and not (generation / READERS_LOCK).exists():
                pin = ReaderPin()  # a read-only copy, or an index that has no reader lock file
            if pin is not None:
                break
            sleep(0.05)  # a writer switched generations and is removing this one: again
        else:
            raise IndexCorruptError(
                f"Cannot open the index at '{index_dir}': its generation keeps disappearing. "
                f"Rebuild it with: {rebuild_hint(index_dir)}",
                path=index_dir,
            )
        metadata = read_metadata(generation)
        damaged = damaged_files(generation, metadata)
        if damaged:
            pin.release()
            raise IndexCorruptError(
                f"The index at '{index_dir}' is damaged: {'; '.join(damaged[:3])}"
                f"{f' (and {len(damaged) - 3} more)' if len(damaged) > 3 else ''}. Rebuild it with: {rebuild_hint(index_dir)}",
                path=index_dir,
            )
        try:
            whoosh = FileStorage(str(generation), supports_mmap=preload).open_index()
            searcher = whoosh.searcher(weighting=BM25(B=ranking.b, K1=ranking.k1))
        except Exception as exc:  # Whoosh raises many kinds here, pickle errors among them
            pin.release()
            raise IndexCorruptError(
                f"Cannot open the index at '{index_dir}' ({type(exc).__name__}: {exc}). "
                f"Rebuild it with: {rebuild_hint(index_dir)}",
                path=index_dir,
            ) from exc
        opened = cls(index_dir, generation, whoosh, searcher, pin, metadata)
        logger.info("opened %s, generation %s: %d articles, %d segments, in %.1f ms", index_dir, generation.name,
                    opened.article_count, len(opened.leaves()), 1000 * (monotonic() - started))
        return opened

    def close(self) -> None:
        """Release the index files, and the generation for writers to remove."""
        self.searcher.close()
        self.whoosh.close()
        self._pin.release()

    @property
    def schema(self) -> Any:
        return self.searcher.schema  # the index's own reads its table of contents again each time

    @property
    def size(self) -> int:
        """Document numbers run from 0 to ``size`` (deleted articles included)."""
        return int(self.searcher.doc_count_all())

    @property
    def article_count(self) -> int:
        return int(self.searcher.doc_count())

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    def cached(self, name: str, make: Callable[[], Any]) -> Any:
        """``make()``, once while this snapshot is open."""
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    def leaves(self) -> list[tuple[Any, int]]:
        """The segments, each with the number of its first article."""
        return self.cached("leaves", lambda: list(self.searcher.reader().leaf_readers()))

    def live(self) -> np.ndarray:
        """Which document numbers are articles, not deleted ones."""

        def make() -> np.ndarray:
            live = np.ones(self.size, dtype=bool)
            for leaf, base in self.leaves():
                if leaf.has_deletions():
                    live[base + np.fromiter(leaf.deleted_docs_set, dtype=np.int64)] = False
            return live

        return self.cached("live", make)

    def postings(self) -> TermPostings:
        """Posting lists as arrays, with their BM25 parts, read once and kept."""
        return self.cached("postings", lambda: TermPostings(self.searcher, self.leaves()))

    def articles_with(self, term: str) -> int:
        """The number of articles with ``term`` in their text (a stem, as the index holds it)."""
        return int(self.postings().postings("text", term)[0].size)

    def ids(self) -> list[str]:
        """Each article's id, by document number (all of them: for a whole ranking)."""
        return self.cached("ids", lambda: texts(self._columns("id"), self.size))

    def _columns(self, name: str) -> list[tuple[Any, int]]:
        """Each segment's raw reader of the column ``name``, with the number of its first article."""
        return [(leaf.column_reader(name, translate=False), base) for leaf, base in self.leaves()]

    def id_of(self, docnum: int) -> str:
        """One article's id, read from the column without reading the others (a page of hits
        needs ten; reading all 20,000 of Reuters took 20 ms)."""
        if "ids" in self._cache:
            return str(self._cache["ids"][docnum])
        column = self.cached("id column", lambda: self.searcher.reader().column_reader("id"))
        return str(column[docnum])

    def docnum(self, article_id: str) -> int | None:
        docnum = self.searcher.document_number(id=article_id)
        return None if docnum is None else int(docnum)

    def stories(self) -> Stories:
        def make() -> Stories:
            codes = self._saved_story_numbers()
            if codes is None:  # an index written before the numbers were kept
                codes = story_numbers(texts(self._columns("story"), self.size))
            by_story = np.argsort(codes, kind="stable")
            starts = np.searchsorted(codes[by_story], np.arange(codes.max(initial=0) + 2))
            return Stories(codes, by_story, starts)

        return self.cached("stories", make)

    def _saved_story_numbers(self) -> np.ndarray | None:
        """The numbers the writer kept, if they are what it recorded (a file of another
        generation, a cut or damaged one, or none is read again from the column)."""
        try:
            codes = np.load(self.generation / STORY_NUMBERS, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if codes.shape != (self.size,) or story_digest(codes) != self.metadata.get(STORY_NUMBERS):
            return None
        return codes.astype(np.int64)

    def dates(self) -> np.ndarray:
        """Each article's date in microseconds since 0001-01-01 (as Whoosh stores it), or
        ``UNDATED``."""

        def make() -> np.ndarray:
            dates = numbers(self._columns("date"), self.size, _MISSING_DATE)
            dates[dates == -1] = UNDATED  # 2**64 - 1: what Whoosh holds for an article without a date
            return dates

        return self.cached("dates", make)

    def facets(self, kind: str) -> Facets:
        """The entities of ``kind`` each article mentions, as facets count them."""
        return self.cached("facets", self._read_facets)[kind]

    def _read_facets(self) -> dict[str, Facets]:
        """Each article's entities by their canonical names (the alias table's), each once."""
        numbers: dict[str, dict[str, int]] = {kind: {} for kind in ENTITY_KINDS}
        values: dict[str, list[int]] = {kind: [] for kind in ENTITY_KINDS}
        owners: dict[str, list[int]] = {kind: [] for kind in ENTITY_KINDS}
        canonical = self.aliases().canonical
        for docnum, value in enumerate(texts(self._columns(FACETS_COLUMN), self.size)):
            for kind, name in {(kind, canonical(name, kind)) for kind, name in facet_names(value)}:
                known = numbers[kind]
                values[kind].append(known.setdefault(name, len(known)))
                owners[kind].append(docnum)
        return {kind: Facets(list(numbers[kind]), np.array(values[kind], dtype=np.int64),
                             np.array(owners[kind], dtype=np.int64)) for kind in ENTITY_KINDS}

    def aliases(self) -> AliasTable:
        """The generation's alias table: the names articles give one entity (aliases.py)."""

        def make() -> AliasTable:
            try:
                return AliasTable.load(self.generation / ALIASES_STATE)
            except (OSError, ValueError, KeyError):
                return AliasTable()

        return self.cached("aliases", make)

    def vocabulary(self) -> Vocabulary:
        """The spelling vocabulary; its stems are made known to the analyzers."""

        def make() -> Vocabulary:
            vocabulary = Vocabulary.load(self.generation)
            remember_stems(vocabulary.words, vocabulary.stems)
            return vocabulary

        return self.cached("vocabulary", make)

    def terms(self, field: str, prefix: str = "") -> tuple[list[str], np.ndarray]:
        """The terms of ``field`` that start with ``prefix``, in order, with the number of
        articles each is in; read segment by segment (a reader of several segments looks each
        term up in all of them: 26 s for the 50,000 words of Reuters' text against 0.3 s), and
        kept for the whole field."""
        if not prefix:
            return self.cached(f"terms {field}", lambda: self._read_terms(field, ""))
        return self._read_terms(field, prefix)

    def _read_terms(self, field: str, prefix: str) -> tuple[list[str], np.ndarray]:
        if field not in self.schema or not self.schema[field].indexed:
            return [], np.zeros(0, dtype=np.int64)
        found: dict[bytes, int] = {}
        start = self.schema[field].to_bytes(prefix)
        for leaf, _ in self.leaves():
            for term, info in leaf.iter_prefix(field, start):
                found[term] = found.get(term, 0) + info.doc_frequency()
        from_bytes = self.schema[field].from_bytes
        ordered = sorted(found)
        return [from_bytes(term) for term in ordered], np.array([found[term] for term in ordered], dtype=np.int64)

    def stored(self, docnum: int) -> dict[str, Any]:
        return self.searcher.stored_fields(docnum)


def story_digest(numbers: np.ndarray) -> str:
    """What the writer records of the story numbers it keeps, to know them again."""
    return hashlib.blake2b(f"{numbers.dtype.str}{numbers.shape}".encode() + numbers.tobytes(), digest_size=16).hexdigest()


def story_numbers(stories: list[str]) -> np.ndarray:
    """Each article's story (the values of the ``story`` column) as a number: the order the
    story is first met in."""
    numbers: dict[str, int] = {}
    return np.fromiter((numbers.setdefault(story, len(numbers)) for story in stories), dtype=np.int64, count=len(stories))


def wait_for_first_build(path: Path, find: Callable[[], T], wait: float) -> T:
    """``find()`` (what opens the index at ``path``), waiting up to ``wait`` seconds while it
    finds no index and a first build of ``path`` (or of one of its shards) is running.

    Raises:
        IndexBuildingError: the first build is still running.
        IndexNotFoundError: as ``find`` raises it, when no build is running.
    """
    deadline = monotonic() + wait
    while True:
        try:
            return find()
        except IndexNotFoundError:
            holder = writer_of(path)
            if holder is None:
                raise
            if monotonic() >= deadline:
                raise IndexBuildingError(_building_message(path, holder, wait), holder=holder) from None
            sleep(min(0.25, max(deadline - monotonic(), 0.01)))


def _building_message(path: Path, holder: dict[str, Any], waited: float) -> str:
    who = f"process {holder.get('pid', '?')} ({holder.get('command', 'a searchlib build')}, started {holder.get('started', '?')})"
    progress = holder.get("progress") or {}
    done = ""
    if progress:
        done = f", {progress.get('articles', 0):,} articles so far"
        if progress.get("total_bytes"):
            done += f", {100 * progress.get('done_bytes', 0) / progress['total_bytes']:.0f}% of the corpus read"
    after = f" after waiting {waited:g} s" if waited else ""
    return (f"The index at '{path}' is still being built{after}: {who}{done}. "
            "Search again when it is done, or wait for it with --wait SECONDS")
