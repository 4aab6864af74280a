"""The Whoosh schema of a searchlib index, and how an index directory is laid out on disk.

An index directory holds generations, each a complete Whoosh index, a ``CURRENT`` file that
names the live one, and the writer lock::

    indexes/main/
        CURRENT             "gen-000004"
        WRITER.lock         held by the one running build or update (see locks.py)
        gen-000004/         Whoosh files, READERS.lock, searchlib.json (schema version, when
                            written, counts), files.json and stories.npz (what an update needs),
                            vocabulary.npz (the words "did you mean" draws from),
                            aliases.json (the names articles give one entity)
        gen-000003/         an older generation, still open in some reader; removed once not

A writer fills a new generation beside the live one and replaces ``CURRENT`` in one atomic
rename (indexer.py), so a search never sees a half-written index. ``SCHEMA_VERSION`` changes
whenever the fields or the analysis change; an index of another version must be rebuilt.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
from whoosh.fields import DATETIME, ID, STORED, TEXT, Schema

from .analysis import name_list_analyzer, news_analyzer
from .errors import IndexNotFoundError, IndexVersionError
from .models import ENTITY_KINDS, Entity

__all__ = [
    "SCHEMA_VERSION",
    "make_schema",
    "current_generation",
    "read_metadata",
    "write_metadata",
    "METADATA_FILE",
]

SCHEMA_VERSION = 8

#: The kinds of entity, each with a searchable field (names and, for places, their aliases, so
#: ``place:USA`` finds "United States") and a facet field of canonical names.
ENTITY_FIELDS = ENTITY_KINDS

#: Other names the query language accepts for fields.
FIELD_ALIASES = {"org": "organization", "entity": "entities"}


#: The alias table of a generation's names (aliases.py), written by each build and update.
ALIASES_STATE = "aliases.json"

#: The column of each article's entities as facets count them: ``kind<TAB>name`` lines.
FACETS_COLUMN = "facets"


def facet_value(entities: Iterable[Entity]) -> str:
    """An article's ``FACETS_COLUMN`` value: each entity once, by kind then name."""
    names = {(entity.kind, " ".join(entity.name.split())) for entity in entities}
    return "\n".join(f"{kind}\t{name}" for kind, name in sorted(names) if name)


def facet_names(value: str) -> Iterator[tuple[str, str]]:
    """The ``(kind, name)`` pairs of a ``FACETS_COLUMN`` value."""
    for line in value.split("\n") if value else ():
        kind, _, name = line.partition("\t")
        yield kind, name

CURRENT_FILE = "CURRENT"
METADATA_FILE = "searchlib.json"
#: The metadata's record of each segment file's size (``segment_files``).
SEGMENT_FILES = "segment_files"
GENERATION_PREFIX = "gen-"


Posting = tuple[bytes, int, float, bytes]  # term, frequency, weight, encoded value: as Whoosh's


@attrs.frozen
class Postings:
    """A text field's postings for one document, made beforehand (writer.text_postings), as
    three columns: the terms, each one's frequency (also its weight) and its encoded value."""

    terms: list[str]
    frequencies: list[int]
    values: list[bytes]

    def items(self) -> Iterator[Posting]:
        """The postings as ``TEXT.index`` yields them."""
        for term, frequency, value in zip(self.terms, self.frequencies, self.values):
            yield term.encode("utf-8"), frequency, float(frequency), value


class AnalysedText(TEXT):
    """Whoosh's ``TEXT`` field, which also takes ``Postings`` made beforehand instead of a string."""

    def index(self, value: Any, **kwargs: Any) -> Iterator[Posting]:
        if isinstance(value, Postings):
            return value.items()
        return super().index(value, **kwargs)


class ColumnOnly(ID):
    """An ``ID`` that is not indexed: a column (and stored), read by document number only."""

    indexed = False


def make_schema() -> Schema:
    """The schema every searchlib index is written with.

    Text fields store character offsets (``chars=True``) so snippets are highlighted from the
    index instead of re-analysing each article.
    """
    analyzer = news_analyzer()
    return Schema(
        # What plain words search: see combined_text. Positions for phrases; no offsets, since
        # snippets are highlighted in the title and body fields.
        text=AnalysedText(analyzer=news_analyzer(line_gap=1)),
        id=ID(stored=True, unique=True, sortable=True),  # a column too: ids of many hits, fast
        title=AnalysedText(analyzer=analyzer, stored=True, chars=True),
        caption=AnalysedText(analyzer=analyzer, stored=True, chars=True),
        body=AnalysedText(analyzer=analyzer, stored=True, chars=True),
        # Parsed as a field (entities:rakhmon) but never written: searched as the fields of each
        # kind (query._across_kinds). Writing all names again here cost a tenth of a build.
        entities=AnalysedText(analyzer=name_list_analyzer()),
        entity_list=STORED(),
        **{kind: AnalysedText(analyzer=name_list_analyzer()) for kind in ENTITY_FIELDS},
        # Read by document number when facets are counted (snapshot.Columns), never searched.
        **{FACETS_COLUMN: ColumnOnly(sortable=True)},
        date=DATETIME(stored=True, sortable=True),
        dated=ID(),
        url=ID(stored=True),
        path=ID(stored=True),
        story=ColumnOnly(stored=True, sortable=True),  # read by document number, never searched
        digest=STORED(),
    )


#: How many times the title counts in ``text``: BM25F's field weight for it, the other fields 1.
TITLE_WEIGHT = 2


def combined_text(title: str, caption: str, body: str) -> str:
    """The ``text`` field: the title ``TITLE_WEIGHT`` times, the caption and the body, one
    field for BM25F (Robertson and Zaragoza): a word's frequencies in the fields, weighted, add
    up to one frequency, and the weighted lengths to one length, saturated and normalised once.
    A line between the parts keeps a phrase from running from one into the next."""
    return "\n".join([title] * TITLE_WEIGHT + [caption, body])


def rebuild_hint(index_dir: Path) -> str:
    return f"searchlib build CORPUS --index {index_dir}"


def current_generation(index_dir: Path) -> Path:
    """The directory of the live generation of the index at ``index_dir``.

    Raises:
        IndexNotFoundError: there is no built index there.
        IndexVersionError: the index was written by an incompatible searchlib.
    """
    pointer = index_dir / CURRENT_FILE
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFoundError(
            f"No index at '{index_dir}'. Build it with: {rebuild_hint(index_dir)}{_nearby_index(index_dir)}",
            path=index_dir,
        ) from None
    except OSError as exc:
        raise IndexNotFoundError(
            f"Cannot read the index at '{index_dir}': {exc.strerror or exc}", path=index_dir
        ) from exc
    generation = index_dir / name
    version = read_metadata(generation).get("schema_version")
    if version != SCHEMA_VERSION and generation.is_dir():
        raise IndexVersionError(
            f"The index at '{index_dir}' has schema version {version}, this searchlib needs "
            f"version {SCHEMA_VERSION}. Rebuild with: {rebuild_hint(index_dir)}",
            path=index_dir,
        )
    return generation


def _nearby_index(index_dir: Path) -> str:
    """`` (did you mean 'indexes/reuters'?)`` when an index beside ``index_dir`` has a name a
    typing slip away from it; else nothing."""
    try:
        siblings = [p.name for p in index_dir.parent.iterdir() if (p / CURRENT_FILE).is_file()]
    except OSError:
        return ""
    close = difflib.get_close_matches(index_dir.name, siblings, n=1, cutoff=0.75)
    return f" (did you mean '{index_dir.parent / close[0]}'?)" if close else ""


def read_metadata(generation: Path) -> dict[str, Any]:
    """What a build recorded about a generation (empty when it recorded nothing readable)."""
    try:
        data = json.loads((generation / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def segment_files(generation: Path, segment_ids: Iterable[str]) -> dict[str, int]:
    """The size of each file of the generation's Whoosh segments (``segment_ids``), as its
    writer leaves them, for ``damaged_files`` to compare: Whoosh takes a missing column file for
    a field without one, and a short one for fewer articles, so a lost or cut file gave wrong
    counts, not an error."""
    starts = tuple(f"{segment_id}." for segment_id in segment_ids)
    return {item.name: item.stat().st_size for item in sorted(generation.iterdir()) if item.name.startswith(starts)}


def damaged_files(generation: Path, metadata: dict[str, Any]) -> list[str]:
    """The generation's segment files that are missing or not the size its writer recorded in
    its ``metadata`` (none for a generation whose writer recorded no sizes)."""
    damaged = []
    for name, size in (metadata.get(SEGMENT_FILES) or {}).items():
        try:
            found = (generation / name).stat().st_size
        except OSError:
            damaged.append(f"{name} is missing")
            continue
        if found != size:
            damaged.append(f"{name} has {found:,} bytes, not {size:,}")
    return damaged


def write_metadata(generation: Path, metadata: dict[str, Any]) -> None:
    write_json(generation / METADATA_FILE, metadata)


def write_json(path: Path, data: Any, *, indent: int | None = 1) -> None:
    """Replace ``path`` with ``data`` as JSON in one atomic rename."""
    _write_atomically(path, json.dumps(data, indent=indent, default=str))


def list_generations(index_dir: Path) -> list[Path]:
    """Generation directories, oldest first."""
    if not index_dir.is_dir():
        return []
    return sorted(p for p in index_dir.iterdir() if p.name.startswith(GENERATION_PREFIX) and p.is_dir())


def next_generation_name(index_dir: Path) -> str:
    numbers = [int(p.name[len(GENERATION_PREFIX) :]) for p in list_generations(index_dir) if p.name[len(GENERATION_PREFIX) :].isdigit()]
    return f"{GENERATION_PREFIX}{max(numbers, default=0) + 1:06d}"


def switch_generation(index_dir: Path, generation: Path) -> None:
    """Make ``generation`` the live one, in one atomic rename."""
    _write_atomically(index_dir / CURRENT_FILE, generation.name + "\n")


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
