"""Build an index from a corpus: read, analyse, extract entities, write a new generation, swap.

A build never touches the live generation. It writes a complete new Whoosh index beside it and
only then points ``CURRENT`` at it, so searches running meanwhile keep answering from the old
one, and a build that fails or is killed leaves the last good index in place. The generation
before the new one is kept for readers that still have it open; older ones are removed.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from .corpus import read_corpus
from .duplicates import DuplicateFinder
from .entities import Extractor, extract_entities, extractor, place_aliases
from .errors import CorpusError
from .models import Article, BuildReport, Skipped
from .schema import (
    ENTITY_FIELDS,
    SCHEMA_VERSION,
    facet_field,
    list_generations,
    make_schema,
    next_generation_name,
    switch_generation,
    write_metadata,
)

__all__ = ["build"]

logger = logging.getLogger(__name__)


def build(
    corpus: Path | str,
    index: Path | str,
    *,
    on_skip: Callable[[Skipped], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    ner: str | None = None,
) -> BuildReport:
    """Index every article under ``corpus`` into a new generation of the index at ``index``.

    Args:
        corpus: a directory of article files (read recursively) or one corpus file.
        index: the index directory; created if missing.
        on_skip: called for each file or line skipped, as it happens (also in the report).
        on_progress: called with the number of articles indexed so far, every 500 articles.
        ner: the entity extractor: ``rules`` (the default, offline), ``nltk``, ``spacy`` or
            ``auto``; default ``$SEARCHLIB_NER``, then ``rules``.

    Returns:
        A ``BuildReport`` with the number of articles indexed and the inputs skipped.

    Raises:
        CorpusError: the corpus does not exist, or not one article in it could be read (the
            live index, if any, is then left as it was).
        NerBackendError: the entity extractor asked for is not installed.
    """
    started = time.perf_counter()
    extract = extractor(ner)
    corpus, index = Path(corpus), Path(index)
    skipped: list[Skipped] = []

    def skip(item: Skipped) -> None:
        skipped.append(item)
        logger.warning("skipped %s", item)
        if on_skip is not None:
            on_skip(item)

    articles = read_corpus(corpus, on_skip=skip)
    index.mkdir(parents=True, exist_ok=True)
    generation = index / next_generation_name(index)
    generation.mkdir()
    try:
        count = _write_generation(generation, articles, extract, on_progress)
        if count == 0:
            raise CorpusError(
                f"No article could be read from '{corpus}' ({len(skipped)} skipped); "
                "the index was left as it was",
                path=corpus,
            )
        write_metadata(
            generation,
            {
                "schema_version": SCHEMA_VERSION,
                "built_at": datetime.now().isoformat(timespec="seconds"),
                "corpus": str(corpus.resolve()),
                "articles": count,
                "skipped": len(skipped),
            },
        )
        switch_generation(index, generation)
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    _remove_old_generations(index, keep=generation)
    return BuildReport(
        index=index, added=count, skipped=tuple(skipped), seconds=time.perf_counter() - started
    )


def _write_generation(
    generation: Path, articles: Any, extract: Extractor, on_progress: Callable[[int], None] | None
) -> int:
    whoosh = whoosh_index.create_in(str(generation), make_schema())
    duplicates = DuplicateFinder()
    count = 0
    with whoosh.writer(limitmb=256) as writer:
        for article in articles:
            fields = document_fields(article, extract)
            fields["story"] = duplicates.story(article.id, f"{article.title}\n{article.body}", article.date)
            writer.add_document(**fields)
            count += 1
            if on_progress is not None and count % 500 == 0:
                on_progress(count)
    whoosh.close()
    return count


def document_fields(article: Article, extract: Extractor = extract_entities) -> dict[str, Any]:
    """The Whoosh fields of one article, its entities extracted with ``extract``."""
    entities = extract(f"{article.caption}\n\n{article.body}")
    fields: dict[str, Any] = {
        "id": article.id,
        "title": article.title,
        "caption": article.caption,
        "body": article.body,
        "spell": f"{article.title}\n{article.caption}\n{article.body}",
        "url": article.url,
        "path": article.path,
        "digest": article_digest(article),
        "entity_list": tuple((entity.name, entity.kind) for entity in entities),
    }
    searchable: dict[str, list[str]] = {kind: [] for kind in ENTITY_FIELDS}
    for entity in entities:
        searchable[entity.kind].extend(place_aliases(entity.name) if entity.kind == "place" else (entity.name,))
    fields["entities"] = "\n".join(itertools.chain.from_iterable(searchable.values()))
    for kind, names in searchable.items():
        fields[kind] = "\n".join(names)
        fields[facet_field(kind)] = ",".join(
            entity.name.replace(",", " ") for entity in entities if entity.kind == kind
        )
    if article.date is not None:
        fields["date"] = article.date
    fields["dated"] = "yes" if article.date is not None else "no"
    return fields


def article_digest(article: Article) -> str:
    """A hash of what is indexed of an article: it changes exactly when re-indexing would."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (article.title, article.caption, article.body, article.url, str(article.date)):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def _remove_old_generations(index: Path, *, keep: Path) -> None:
    """Remove generations older than the one before ``keep``: readers may still use that one."""
    older = [g for g in list_generations(index) if g.name < keep.name]
    for generation in older[:-1]:
        shutil.rmtree(generation, ignore_errors=True)
