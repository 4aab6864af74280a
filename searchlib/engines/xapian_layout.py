"""How searchlib lays an article out in a Xapian document: the terms of each field, the value
slots, and how an index directory holds its shards. Shared by the build (``xapian_build``) and
the search (``xapian``) sides; nothing here talks to a database.

Terms (Xapian's convention: a field is a prefix of capitals; the combined text has none)::

    (none)  the combined ``text`` field (title twice, caption, body; schema.combined_text): the
            only terms with a within-document frequency (wdf), so that a document's length in
            Xapian (the sum of its wdfs) is its length in ``text``, which BM25 normalises by
    XT XC XB            title, caption, body: positions only (wdf 0), for ``title:`` and phrases
    XP XO XL            person, organization, place names (places with aliases): positions only
    Q XU XF             id, url, path: whole values (hashed past ``MAX_TERM_BYTES``)
    XNP XNO XNL         each person, organization and place name whole, as facets count it
                        (boolean): the articles that give a name, for facets that count an
                        entity of several names (aliases.py) once an article; names past
                        Xapian's term limit (240 bytes, none in practice) have none
    XD                  ``XDyes`` / ``XDno``: dated or not
    XS                  the story: the copies of one story, for "similar"
    XW                  each word as written, for "did you mean" and fuzzy words; its term
                        frequency is the number of articles the word is in

Positions are those the Whoosh engine stores (writer.text_postings), plus one (Xapian's
positions start at 1), so that phrases match the same articles in both engines.

Value slots hold what is read per matching document without reading the document: dates (range
filters, date orders, timelines), the story (Xapian collapses a story to its best copy), an
order number (ties in score are broken by it, the same on one index or on shards), facets.

Each shard's metadata records, in the commit that changes its articles, how many of them give
each name (``NAMES_KEY``, and a digest of those counts), and the alias table (aliases.py) of the
whole index when the writer knew every shard's counts (``ALIASES_KEY``, with the digests it was
made from): a search reads the table, and makes it again only if the digests say the shards
changed apart (shards written on separate machines).

An index directory::

    indexes/reuters-x/
        XAPIAN.json               {"engine": "xapian", "shards": 3, "schema_version": …}
        shard-1-of-3/             one shard: what ``searchlib serve-shard`` serves
            XAPIANDB              a Xapian stub database: "auto gen-000002"
            WRITER.lock           the shard's writer lock (locks.WriterLock)
            gen-000002/           a Xapian (glass) database, and stories-*.npz beside its files
        shard-2-of-3/ …
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from ..dates import microseconds
from ..errors import IndexNotFoundError, IndexVersionError
from ..schema import SCHEMA_VERSION
from . import XAPIAN_MARKER

__all__ = [
    "PREFIXES", "ID_PREFIX", "STORY_PREFIX", "SPELLING_PREFIX", "DATED_PREFIX", "MAX_TERM_BYTES",
    "DATE_SLOT", "DAY_SLOT", "STORY_SLOT", "ORDER_SLOT", "NEWEST_SLOT", "OLDEST_SLOT", "ID_SLOT",
    "DIGEST_SLOT", "FILE_SLOT", "FACET_SLOTS", "FACETS_PER_SLOT",
    "STUB", "SCHEMA", "story_term", "shard_of", "shard_name", "read_marker", "write_marker", "id_term", "field_term",
    "date_key", "METADATA_KEY", "FILES_KEY", "STORIES_KEY", "NAME_PREFIXES", "name_term", "NAMES_KEY",
    "NAMES_DIGEST_KEY", "ALIASES_KEY",
]

#: The schema version of a Xapian index: searchlib's (the analysis), and this layout's.
SCHEMA = f"{SCHEMA_VERSION}.x2"

PREFIXES = {
    "text": "", "title": "XT", "caption": "XC", "body": "XB",
    "person": "XP", "organization": "XO", "place": "XL",
    "id": "Q", "url": "XU", "path": "XF", "dated": "XD",
}
ID_PREFIX = PREFIXES["id"]
STORY_PREFIX = "XS"
SPELLING_PREFIX = "XW"
#: Whole entity names, one prefix a kind.
NAME_PREFIXES = {"person": "XNP", "organization": "XNO", "place": "XNL"}
DATED_PREFIX = PREFIXES["dated"]
#: Xapian's limit on a term is 245 bytes; longer values are kept as a hash.
MAX_TERM_BYTES = 240

DATE_SLOT = 0      # 8 bytes, big-endian microseconds since 0001-01-01 (dated articles only)
DAY_SLOT = 1       # "YYYY-MM-DD" (dated articles only): what timelines count
STORY_SLOT = 2     # the story id: the collapse key
ORDER_SLOT = 3     # the article's order number (sortable_serialise): ties in score
NEWEST_SLOT = 4    # date key + order, for newest first; undated: empty, which sorts last
OLDEST_SLOT = 5    # date key + order, for oldest first; undated: all 0xff, which sorts last
ID_SLOT = 6        # the article id
DIGEST_SLOT = 7    # the digest of what was indexed (indexer.article_digest): updates
FILE_SLOT = 8      # the corpus file it was read from: updates
#: Facets: each kind's names, the first ``FACETS_PER_SLOT - 1`` one a slot, the rest joined
#: by line breaks in the kind's last slot. A match spy counts each slot's values.
FACETS_PER_SLOT = 8
FACET_SLOTS = {kind: tuple(range(10 + number * FACETS_PER_SLOT, 10 + (number + 1) * FACETS_PER_SLOT))
               for number, kind in enumerate(("person", "organization", "place"))}

STUB = "XAPIANDB"  # Xapian opens a directory holding this file as the database it names
METADATA_KEY = "searchlib"              # JSON: schema version, corpus, counts, when built
FILES_KEY = "searchlib.files"           # JSON: each corpus file's size and time, as read
STORIES_KEY = "searchlib.stories"       # the file of the near-duplicate finder's state
NAMES_KEY = "searchlib.names"           # JSON: [[kind, name, articles], …] of this shard
NAMES_DIGEST_KEY = "searchlib.names.digest"  # a digest of NAMES_KEY's counts
ALIASES_KEY = "searchlib.aliases"       # JSON: {"digests": [each shard's], "variants": the table's}


def _bounded(term: str) -> str:
    if len(term.encode("utf-8", "surrogatepass")) <= MAX_TERM_BYTES:
        return term
    return term[:40] + "#" + hashlib.blake2b(term.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def field_term(field: str, term: str) -> str:
    """The Xapian term of ``term`` in ``field`` (a whole value, for id, url and path)."""
    return _bounded(PREFIXES[field] + term)


def id_term(article_id: str) -> str:
    return field_term("id", article_id)


def name_term(kind: str, name: str) -> str | None:
    """The term of an article that gives the ``kind`` name ``name`` (as ``schema.facet_value``
    writes it), or ``None`` for a name too long to be a term."""
    term = NAME_PREFIXES[kind] + name
    return term if len(term.encode("utf-8", "surrogatepass")) <= MAX_TERM_BYTES else None


def story_term(story: str) -> str:
    """The term every copy of the story ``story`` has."""
    return _bounded(STORY_PREFIX + story)


def shard_of(article_id: str, shards: int) -> int:
    """The shard (0-based) an article belongs to: fixed by its id, whichever machine asks."""
    digest = hashlib.blake2b(article_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def shard_name(number: int, shards: int) -> str:
    """The directory of shard ``number`` (0-based) of ``shards``: ``shard-1-of-3`` and on."""
    return f"shard-{number + 1}-of-{shards}"


def date_key(moment: datetime) -> bytes:
    """A date as 8 bytes that sort as the dates do: microseconds since 0001-01-01."""
    return microseconds(moment).to_bytes(8, "big")


def read_marker(index: Path) -> dict[str, Any]:
    """What ``XAPIAN.json`` says of the index at ``index``.

    Raises:
        IndexNotFoundError: there is no Xapian index there.
        IndexVersionError: it was written by an incompatible searchlib.
    """
    try:
        marker = json.loads((index / XAPIAN_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise IndexNotFoundError(
            f"No Xapian index at '{index}'. Build it with: searchlib build CORPUS --engine xapian --index {index}",
            path=index) from None
    if marker.get("schema_version") != SCHEMA:
        raise IndexVersionError(
            f"The Xapian index at '{index}' has schema version {marker.get('schema_version')}, this searchlib needs "
            f"{SCHEMA}. Rebuild with: searchlib build CORPUS --engine xapian --shards {marker.get('shards', 1)} --index {index}",
            path=index)
    return marker


def write_marker(index: Path, shards: int) -> None:
    from ..schema import write_json

    write_json(index / XAPIAN_MARKER, {"engine": "xapian", "shards": shards, "schema_version": SCHEMA})
