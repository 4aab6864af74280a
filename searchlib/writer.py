"""Writing articles into Whoosh segments: each text analysed once, postings kept in memory, in
worker processes.

Whoosh's own writer runs each field through its own chain of token generators, puts every
posting through an external merge sort of pickled runs, looks a document's length up again for
each posting and writes a pickled, compressed block even for a word that occurs once; that was
three quarters of a build (BENCHMARKS.md, "Speed"). Here:

- ``document_fields`` makes an article's fields; ``text_postings`` the postings of its text
  fields (``title``, ``caption``, ``body``, the combined ``text``) and its words for the
  spelling vocabulary, from one pass of ``analysis.token_terms`` over each of its title,
  caption and body. The schema's text fields (``schema.AnalysedText``) take these ``Postings``.
- ``MemoryWriter`` is Whoosh's ``SegmentWriter`` with its posting pool in memory: each field's
  postings in columns, extended a document at a time (in document order), grouped by term with
  numpy when the segment is written (``_write_field``): the term table's entries computed for
  all terms at once, lists of a few postings kept in the table, longer ones in blocks
  (``_BlockWriter``), in Whoosh's layout but pickled with a protocol that pickles bytes as such;
  the term table's hash tables are CRC-32's (not MD5's) and laid out with numpy. A segment's
  files are left as separate files, not joined into one compound file: Whoosh reads a compound
  file's parts by copying each into memory as it is opened (45 ms of a command-line search of
  Reuters, and 160 MB of a search process's memory), a separate file as it is asked for.
- ``SegmentBuilder`` (entities, analysis, a ``MemoryWriter``) writes segments of its own, in
  this process or in each worker process of a build (workers.py); ``commit_segments`` lists them.

The segments are Whoosh's own, read by Whoosh's readers; tests/test_writer.py checks that they
hold what Whoosh's writer would have written, and that the postings are its analyzers'.
"""

from __future__ import annotations

import functools
import itertools
import logging
import operator
import shutil
import struct
import zlib
from array import array
from collections import Counter, defaultdict
from functools import lru_cache
from pickle import dumps
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3Codec, _lenfield
from whoosh.filedb.filetables import crc_hash
from whoosh.formats import Characters
from whoosh.index import TOC, clean_files
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.writing import SegmentWriter

from .analysis import ANALYSED_CHARACTERS, NAME_LINE_GAP, token_terms
from .entities import Extractor, extractor, place_aliases
from .models import Article
from .schema import ENTITY_FIELDS, FACETS_COLUMN, TITLE_WEIGHT, Posting, Postings, facet_value, make_schema

__all__ = [
    "MemoryWriter",
    "SegmentBuilder",
    "commit_segments",
    "document_fields",
    "fields_or_failure",
    "text_postings",
]

logger = logging.getLogger(__name__)


Token = tuple[str, "str | None", int, int, int]  # as analysis.token_terms gives them
Failure = tuple[str, str, str]  # article id, path, what went wrong
Task = tuple[Article, str, str]  # an article, its digest and its story
Built = tuple[list[Any], list[Failure], "Counter[str]", dict[str, "str | None"]]  # segments, failures, vocabulary, stems




def document_fields(article: Article, extract: Extractor, digest: str) -> dict[str, Any]:
    """The Whoosh fields of one article, its entities extracted with ``extract`` and its text
    fields' postings made here (``text_postings``); ``_words`` (which Whoosh ignores, as every
    name that starts with ``_``) has its words for the spelling vocabulary, with their stems.
    Only the first ``ANALYSED_CHARACTERS`` of each text are analysed."""
    entities = extract(f"{article.caption[:ANALYSED_CHARACTERS]}\n\n{article.body[:ANALYSED_CHARACTERS]}")
    postings, words = text_postings(_schema(), article.title, article.caption, article.body)
    fields: dict[str, Any] = {
        "id": article.id,
        **postings,
        "_words": words,
        "_stored_title": article.title,
        "_stored_caption": article.caption,
        "_stored_body": article.body,
        "url": article.url,
        "path": article.path,
        "digest": digest,
        "entity_list": tuple((entity.name, entity.kind) for entity in entities),
    }
    searchable: dict[str, list[str]] = {kind: [] for kind in ENTITY_FIELDS}
    for entity in entities:
        searchable[entity.kind].extend(place_aliases(entity.name) if entity.kind == "place" else (entity.name,))
    for kind, names in searchable.items():
        fields[kind] = _name_postings("\n".join(names))
    fields[FACETS_COLUMN] = facet_value(entities)
    if article.date is not None:
        fields["date"] = article.date
    fields["dated"] = "yes" if article.date is not None else "no"
    return fields


def fields_or_failure(article: Article, extract: Extractor, digest: str) -> dict[str, Any] | Failure:
    """``document_fields``, or what went wrong (and logged): one article's failure must not stop
    a build or an update."""
    try:
        return document_fields(article, extract, digest)
    except Exception as exc:
        logger.exception("could not index %s", article.id)
        return article.id, article.path, f"{type(exc).__name__}: {exc}"


@lru_cache(maxsize=1)
def _schema() -> Any:
    return make_schema()


def text_postings(schema: Any, title: str, caption: str, body: str) -> tuple[dict[str, Postings], dict[str, str | None]]:
    """The postings of an article's text fields, as the schema's analyzers would make them:
    ``title``, ``caption`` and ``body`` with positions and offsets; ``text`` (``combined_text``)
    with positions, where each line break adds one. And its distinct words as written
    (``vocabulary.article_words``), each with its stem (``None`` for a stop word).

    One pass over each part's tokens makes its own field's postings and its share of ``text``:
    there a token's position is the number of words kept before it in the joined text plus the
    line breaks before it (NltkTokenizer with ``line_gap=1``, then StopFilter).

    Of each part, only the first ``ANALYSED_CHARACTERS`` are analysed."""
    postings: dict[str, Postings] = {}
    words: dict[str, str | None] = {}
    combined: dict[str, list[int]] = {}
    base = 0  # positions in ``text`` before this part
    for name, value, copies in (("title", title, TITLE_WEIGHT), ("caption", caption, 1), ("body", body, 1)):
        value = value[:ANALYSED_CHARACTERS]
        tokens = token_terms(value)
        words.update(map(_SPELLING_AND_TERM, tokens))
        seen: dict[str, list[tuple[int, int, int]]] = {}
        in_text: list[tuple[str, int]] = []
        kept = 0
        for _, term, start, end, line_breaks in tokens:
            if term is not None:
                found = seen.get(term)
                if found is None:
                    seen[term] = [(kept, start, end)]
                else:
                    found.append((kept, start, end))
                in_text.append((term, kept + line_breaks))
                kept += 1
        postings[name] = _encoded(schema[name].format, seen)
        for _ in range(copies):
            for term, position in in_text:
                found_in_text = combined.get(term)
                if found_in_text is None:
                    combined[term] = [base + position]
                else:
                    found_in_text.append(base + position)
            base += kept + value.count("\n") + 1
    postings["text"] = _encoded(schema["text"].format, combined)
    return postings, words


_SPELLING_AND_TERM = operator.itemgetter(0, 1)


def _name_postings(names: str) -> Postings:
    """A name list's postings, as ``name_list_analyzer`` makes them."""
    return _postings(_schema()[ENTITY_FIELDS[0]].format, token_terms(names), line_gap=NAME_LINE_GAP)


def _postings(format_: Any, tokens: list[Token], *, line_gap: int = 0, chars: bool = False) -> Postings:
    # A token's position is the number of words kept before it plus line_gap for each line
    # break before it: what NltkTokenizer numbers, less the stop words StopFilter removes.
    seen: dict[str, list[Any]] = {}
    kept = 0
    for _, term, start, end, line_breaks in tokens:
        if term is not None:
            position = kept + line_gap * line_breaks
            seen.setdefault(term, []).append((position, start, end) if chars else position)
            kept += 1
    return _encoded(format_, seen)


def _encoded(format_: Any, seen: dict[str, list[Any]]) -> Postings:
    encode = format_.encode
    if isinstance(format_, Characters):  # most words occur once: Characters.encode of one span, inlined
        values = [_ONE + dumps([(found[0][0], found[0][1], found[0][2] - found[0][1])], 2) if len(found) == 1
                  else encode(found) for found in seen.values()]
    else:  # positions: most words occur once in an article, at positions that recur
        values = [_one_position(found[0], encode) if len(found) == 1 else encode(found) for found in seen.values()]
    return Postings(list(seen), [len(found) for found in seen.values()], values)


_ONE = pack_uint(1)
_ONE_POSITION: dict[int, bytes] = {}


def _one_position(position: int, encode: Any) -> bytes:
    value = _ONE_POSITION.get(position)
    if value is None:
        value = _ONE_POSITION[position] = encode([position])
    return value


_POSTING_SIZE = 40  # bytes a posting costs the pool beyond its value: a reference, three numbers, slack


# Posting lists this short are kept in the term table (two in three terms of a news corpus
# occur once): no block of their own, with its header, pickle and compression, to write or read.
INLINE_LIMIT = 4


@attrs.define
class _Column:
    """One field's postings in the order they came, a column each: term, document, weight, and
    where its value ends in ``packed``, where the values follow one another (a bytes object
    each would cost more than most values)."""

    terms: list[str | bytes] = attrs.field(factory=list)
    documents: array = attrs.field(factory=lambda: array("I"))
    weights: array = attrs.field(factory=lambda: array("d"))
    ends: array = attrs.field(factory=lambda: array("I"))
    packed: bytearray = attrs.field(factory=bytearray)


class MemoryPool:
    """Whoosh's posting pool, without its external sort: each field's postings kept in columns
    in the order they come, which is document order, and grouped by term (numpy's stable sort)
    only when written."""

    def __init__(self) -> None:
        self._fields: dict[str, _Column] = defaultdict(_Column)
        self.size = 0  # roughly the bytes held

    def add(self, posting: tuple[str, bytes, int, float, bytes | None]) -> None:
        """Add one posting, as Whoosh's pool takes them (when segments are merged)."""
        fieldname, btext, docnum, weight, vbytes = posting
        self.add_postings(fieldname, docnum, [(btext, 0, weight, vbytes or b"")])

    def add_postings(self, fieldname: str, docnum: int, items: list[Posting] | Postings) -> int:
        """Add a document's postings in one field; return the sum of their frequencies."""
        column = self._fields[fieldname]
        terms: list[str] | list[bytes]
        weights: list[int] | list[float]
        if isinstance(items, Postings):
            terms, frequencies, weights, values = items.terms, items.frequencies, items.frequencies, items.values
        else:
            terms = [term for term, _, _, _ in items]
            frequencies = [frequency for _, frequency, _, _ in items]
            weights = [weight for _, _, weight, _ in items]
            values = [value for _, _, _, value in items]
        column.terms.extend(terms)
        column.documents.extend(itertools.repeat(docnum, len(terms)))
        column.weights.extend(weights)
        column.ends.extend(itertools.accumulate(map(len, values), initial=len(column.packed)))
        del column.ends[-len(terms) - 1]  # the initial value accumulate starts from
        joined = b"".join(values)
        column.packed += joined
        self.size += _POSTING_SIZE * len(terms) + len(joined)
        return sum(frequencies)

    def write(self, fieldwriter: Any, schema: Any, lengths_of: Any) -> None:
        """Write every term's postings, in field and term order."""
        for fieldname in sorted(self._fields):
            fieldwriter.start_field(fieldname, schema[fieldname])
            _write_field(fieldwriter, self._fields.pop(fieldname), lengths_of(fieldname))
            fieldwriter.finish_field()
        self.size = 0

    def cleanup(self) -> None:
        self._fields.clear()
        self.size = 0


# A term's entry in the term table, as W3TermInfo packs it: whether its postings are inlined,
# their total weight, document frequency, shortest and longest document (length bytes), largest
# weight, first and last document.
_TERM_INFO = np.dtype([("inlined", "u1"), ("weight", ">f4"), ("df", ">u4"), ("minlength", "u1"),
                       ("maxlength", "u1"), ("maxweight", ">f4"), ("minid", ">u4"), ("maxid", ">u4")])
# The pickle protocol of inlined postings and block data, which Whoosh reads with pickle.loads,
# whatever the protocol. Whoosh writes protocol 2, which pickles each bytes value through
# codecs.encode of a str: 8 times the time to write and to read a block of 128 values as
# protocol 5, and 2.4 times its compressed size.
_PICKLE = 5
_CRC32 = 1  # filetables._hash_functions[1]: crc_hash
_TERMS_MAGIC = b"HSH3"  # HashWriter's default
_RECORD = struct.Struct("!ii")  # a term table record's key and value lengths (filetables._lengths)
_CHUNK = 1 << 16  # postings turned into Python objects at a time


def _write_field(fieldwriter: Any, column: _Column, lengths: np.ndarray | None) -> None:
    """Write one field's postings as Whoosh's ``W3FieldWriter`` would (but pickled with protocol
    ``_PICKLE``, which its readers read as well): lists of fewer than ``INLINE_LIMIT`` postings
    pickled in the term's entry, longer ones in blocks of the posting file. The entries'
    statistics are computed with numpy for all terms at once and the term table's records
    written a chunk at a time; Whoosh's writer makes objects and calls a dozen methods for each
    term, most of the time a segment took to write.

    ``lengths`` are the documents' length bytes in this field (None if it keeps none).
    """
    numbers: dict[str | bytes, Any] = dict.fromkeys(column.terms)  # each term once, in the order met
    for number, word in enumerate(numbers):
        numbers[word] = number
    term_numbers = np.fromiter(map(numbers.__getitem__, column.terms), dtype=np.int64, count=len(column.terms))
    terms = [term.encode("utf-8") if isinstance(term, str) else term for term in numbers]
    by_term = sorted(range(len(terms)), key=terms.__getitem__)
    rank = np.empty(len(terms), dtype=np.int64)
    rank[by_term] = np.arange(len(terms))
    posting_ranks = rank[term_numbers]
    order = np.argsort(posting_ranks, kind="stable")  # by term, each term's in document order
    starts = np.concatenate(([0], np.cumsum(np.bincount(posting_ranks, minlength=len(terms)))))
    documents = np.frombuffer(column.documents, dtype=np.uint32)[order]
    weights = np.frombuffer(column.weights)[order]
    ends = np.frombuffer(column.ends, dtype=np.uint32)
    begins = np.concatenate(([0], ends[:-1]))[order]
    ends = ends[order]
    packed = bytes(column.packed)
    del column, term_numbers, posting_ranks, order
    if not terms:
        return

    firsts, counts = starts[:-1], np.diff(starts)
    info = np.zeros(len(terms), dtype=_TERM_INFO)
    info["df"] = counts
    info["inlined"] = counts < INLINE_LIMIT
    info["weight"] = np.add.reduceat(weights.astype(np.float32).astype(np.float64), firsts)
    info["maxweight"] = np.maximum(np.maximum.reduceat(weights, firsts), 0)
    info["minid"], info["maxid"] = documents[firsts], documents[starts[1:] - 1]
    if lengths is None:
        length_bytes = np.zeros(len(documents), dtype=np.uint8)
    else:  # the shortest of the lengths known (not 0)
        length_bytes = lengths[documents]
        shortest = np.minimum.reduceat(np.where(length_bytes == 0, 256, length_bytes.astype(np.int16)), firsts)
        info["minlength"] = np.where(shortest == 256, 0, shortest)
        info["maxlength"] = np.maximum.reduceat(length_bytes, firsts)
    entries = info.tobytes()
    size = info.itemsize
    inlined = info["inlined"].tolist()
    del info

    blocks = _BlockWriter(fieldwriter._postwriter, fieldwriter._format)
    prefix = pack_ushort(fieldwriter._fieldid)
    tindex = fieldwriter._tindex
    position = tindex.dbfile.tell()
    done = 0
    while done < len(terms):  # a chunk of terms at a time, their postings as Python objects
        stop = min(len(terms), max(done + 1, int(np.searchsorted(starts, starts[done] + _CHUNK, side="right")) - 1))
        base = int(starts[done])
        chunk = slice(base, int(starts[stop]))
        ids = documents[chunk].tolist()
        gaps = np.diff(documents[chunk], prepend=0).tolist()  # from the posting before
        weights32 = weights[chunk].astype(np.float32).tolist()  # as Whoosh keeps them
        weights64 = weights[chunk].tolist()
        bytes_of = length_bytes[chunk].tolist()
        values = [packed[b:e] for b, e in zip(begins[chunk].tolist(), ends[chunk].tolist())] if packed else None
        records = []
        for number in range(done, stop):
            first, last = int(starts[number]) - base, int(starts[number + 1]) - base
            key = prefix + terms[by_term[number]]
            entry = entries[number * size:(number + 1) * size]
            mine = values[first:last] if values is not None else []
            if inlined[number]:
                entry += dumps((tuple(ids[first:last]), tuple(weights32[first:last]), tuple(mine)), _PICKLE)
            else:
                entry += blocks.write(ids[first:last], gaps[first:last], weights32[first:last], weights64[first:last],
                                      mine, bytes_of[first:last])
            record = _RECORD.pack(len(key), len(entry)) + key + entry
            records.append(record)
            hashed = tindex.hashfn(key)
            tindex.buckets[hashed & 255].append((hashed, position))
            tindex.index.append(position)
            position += len(record)
        tindex.dbfile.write(b"".join(records))
        done = stop
    tindex.lastkey = prefix + terms[by_term[-1]]


class _BlockWriter:
    """Writes long posting lists to the posting file as ``W3PostingsWriter`` does: a header,
    then blocks of ``blocklimit`` postings, each its pickled (protocol ``_PICKLE``) and
    compressed data after a pickled summary, the last one's length negative."""

    def __init__(self, postwriter: Any, format_: Any) -> None:
        self._file = postwriter._postfile
        self._limit = postwriter._blocklimit
        self._compression = postwriter._compression
        self._fixed_size = format_.fixed_value_size()

    def write(self, ids: list[int], gaps: list[int], weights32: list[float], weights: list[float],
              values: list[bytes], length_bytes: list[int]) -> bytes:
        """Write one term's postings (``gaps``: each id less the one before); return the extent
        its term table entry records. ``values`` are empty for a format that keeps none (as
        Whoosh's writer leaves out the empty values), and none of them is empty otherwise."""
        pieces = [WHOOSH3_HEADER_MAGIC]
        limit = self._limit
        for begin in range(0, len(ids), limit):
            end = begin + limit
            block_ids = ids[begin:end]
            deltas = [block_ids[0], *gaps[begin + 1:end]]
            block_weights = weights32[begin:end]
            mini_weights: float | tuple[float, ...] | None
            if block_weights.count(block_weights[0]) == len(block_weights):
                mini_weights = None if block_weights[0] == 1.0 else block_weights[0]
            else:
                mini_weights = tuple(block_weights)
            if self._fixed_size is None or self._fixed_size < 0:
                mini_values: Any = tuple(values[begin:end])
            elif self._fixed_size == 0:
                mini_values = None
            else:
                mini_values = b"".join(values[begin:end])
            data = dumps((tuple(deltas), mini_weights, mini_values), _PICKLE)
            if self._compression:
                data = zlib.compress(data, self._compression)
            known = length_bytes[begin:end]
            if 0 in known:  # a length of 0 is no length known
                known = [length for length in known if length]
            summary = dumps((len(block_ids), block_ids[-1], max(0, *weights[begin:end]), self._compression,
                             min(known, default=0), max(known, default=0)), 2)
            size = len(summary) + len(data)
            pieces += [pack_int(-size if end >= len(ids) else size), summary, data]
        joined = b"".join(pieces)
        offset = self._file.tell()
        self._file.write(joined)
        return pack_long(offset) + pack_int(len(joined))


#: The postings a writer holds in memory before it writes them out as a segment of their own.
POOL_MEMORY_MB = 64


class MemoryWriter(SegmentWriter):
    """Whoosh's ``SegmentWriter`` with the ``MemoryPool``: ``full`` says when it holds
    ``POOL_MEMORY_MB``, for a build to commit a segment and start the next."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, codec=W3Codec(inlinelimit=INLINE_LIMIT), compound=False, **kwargs)
        self.pool = MemoryPool()
        # The term table hashed with CRC-32 (its header says so, for its readers), not MD5: a
        # tenth of the time per term. OrderedHashWriter takes no hash type: set it after its
        # header (magic, then the type's byte) is written.
        table = self.fieldwriter._tindex
        table.hashtype, table.hashfn = _CRC32, crc_hash
        end = table.dbfile.tell()
        table.dbfile.seek(table.startoffset + len(_TERMS_MAGIC))
        table.dbfile.write_byte(_CRC32)
        table.dbfile.seek(end)
        table._write_hashes = functools.partial(_write_hash_tables, table)

    @property
    def full(self) -> bool:
        return self.pool.size > POOL_MEMORY_MB * 2**20

    def add_document(self, **fields: Any) -> None:
        """Whoosh's ``add_document``, with a field's postings put in the pool at once, and
        without what the schema does not use (document and field boosts, term vectors)."""
        self._check_state()
        perdoc, docnum = self.perdocwriter, self.docnum
        perdoc.start_doc(docnum)
        try:
            for name in sorted(name for name in fields if not name.startswith("_")):
                value = fields[name]
                if value is None:
                    continue
                field = self.schema[name]
                length = 0
                if field.indexed:
                    items = value if isinstance(value, Postings) else list(field.index(value))
                    frequencies = self.pool.add_postings(name, docnum, items)
                    length = frequencies if field.scorable else 0
                stored = fields.get(f"_stored_{name}", value)
                perdoc.add_field(name, field, stored if field.stored else None, length)
                if field.column_type and stored is not None:
                    perdoc.add_column_value(name, field.column_type, field.to_column_value(stored))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        reader = self.per_document_reader()
        try:
            def lengths_of(fieldname: str) -> np.ndarray | None:
                name = _lenfield(fieldname)
                if not reader.has_column(name):
                    return None
                return np.fromiter(reader.column_reader(name, LENGTHS_COLUMN), dtype=np.uint8)

            self.pool.write(self.fieldwriter, self.schema, lengths_of)
        finally:
            reader.close()
        self.fieldwriter.close()


_SLOT = np.dtype([("hash", ">u4"), ("position", ">i8")])  # filetables._pointer


def _write_hash_tables(table: Any) -> None:
    """``HashWriter._write_hashes`` with numpy: each of the 256 buckets of keys written as a
    table of twice as many slots, each key at the first free slot from ``(hash >> 8) % slots``
    on (linear probing, which the readers follow), all of a bucket's keys placed at once: in
    order of their first slots, each key takes ``max(first, previous + 1)``."""
    for entries in table.buckets:
        slots = 2 * len(entries)
        table.directory.append((table.dbfile.tell(), slots))
        if not entries:
            continue
        pairs = np.array(entries, dtype=np.int64)
        firsts = (pairs[:, 0] >> 8) % slots
        order = np.argsort(firsts, kind="stable")
        steps = np.arange(len(entries))
        placed = np.maximum.accumulate(firsts[order] - steps) + steps
        if placed[-1] >= slots:  # rare: keys would run past the last slot, on to the first
            order, placed = steps, _probed(firsts.tolist(), slots)
        hashed = np.zeros(slots, dtype=_SLOT)
        hashed["hash"][placed] = pairs[order, 0]
        hashed["position"][placed] = pairs[order, 1]
        table.dbfile.write(hashed.tobytes())


def _probed(firsts: list[int], slots: int) -> np.ndarray:
    """Each key's slot, keys placed one at a time, as Whoosh places them."""
    taken = [False] * slots
    placed = []
    for slot in firsts:
        while taken[slot]:
            slot = (slot + 1) % slots
        taken[slot] = True
        placed.append(slot)
    return np.array(placed)


class SegmentBuilder:
    """Analyses articles and writes them into new segments of the index at ``path``, which it
    lists in no table of contents: ``finish`` returns them, for the build to commit. An article
    whose analysis fails is left out and returned among the failures."""

    def __init__(self, path: str, ner: str | None) -> None:
        self._index = whoosh_index.open_dir(path)
        self._extract = extractor(ner)
        self._writer: MemoryWriter | None = None
        self.segments: list[Any] = []
        self.failed: list[Failure] = []
        self.vocabulary: Counter[str] = Counter()
        self.stems: dict[str, str | None] = {}

    def add(self, article: Article, digest: str, story: str) -> None:
        fields = fields_or_failure(article, self._extract, digest)
        if isinstance(fields, tuple):
            self.failed.append(fields)
            return
        if self._writer is None:
            self._writer = MemoryWriter(self._index, _lk=False)
        self._writer.add_document(**fields, story=story)
        self.vocabulary.update(fields["_words"].keys())
        self.stems.update(fields["_words"])
        if self._writer.full:
            self._close_segment()

    def finish(self) -> Built:
        self._close_segment()
        return self.segments, self.failed, self.vocabulary, self.stems

    def _close_segment(self) -> None:
        if self._writer is not None:
            self.segments.append(self._writer._finalize_segment())
            self._writer = None


# Articles handed to a worker (workers.py) at a time, and signed for near-duplicates together.
BATCH = 64


def commit_segments(path: Path, segments: list[Any]) -> None:
    """List ``segments`` in the table of contents of the index at ``path``, beside its own."""
    ix = whoosh_index.open_dir(str(path))
    toc = ix._read_toc()
    segments = toc.segments + segments
    TOC(toc.schema, segments, toc.generation + 1).write(ix.storage, ix.indexname)
    clean_files(ix.storage, ix.indexname, toc.generation + 1, segments)
    shutil.rmtree(path / f"{ix.indexname}.tmp", ignore_errors=True)  # made, unused, by each writer
