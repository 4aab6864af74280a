"""searchlib: search archives of news articles.

Example:
    >>> import searchlib
    >>> report = searchlib.build("corpus", "indexes/main")               # doctest: +SKIP
    >>> with searchlib.Index.open("indexes/main") as index:              # doctest: +SKIP
    ...     for hit in index.search("military base").hits:
    ...         print(hit.rank, hit.title, hit.snippet.to_text())

The public names are imported when first used (PEP 562), so that ``import searchlib`` costs
only what is used: a search never imports the indexer, the entity extractor or the evaluation,
and a command-line search starts in a fraction of the time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ArticleNotFoundError,
    CorpusError,
    IndexBuildingError,
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    IndexVersionError,
    InvalidOptionError,
    NerBackendError,
    QuerySyntaxError,
    SearchlibError,
    ShardUnavailableError,
    WriteRefusedError,
    WriterError,
    XapianEngineError,
)
from .models import (
    Article,
    BuildReport,
    Entity,
    FacetValue,
    Hit,
    IndexedArticle,
    ScorePart,
    SearchResult,
    Skipped,
    Snippet,
    Timeline,
    TimelineBucket,
)

if TYPE_CHECKING:
    from . import formats
    from .aliases import AliasTable
    from .analysis import analyze
    from .config import Ranking, Settings
    from .corpus import read_corpus
    from .dates import parse_period
    from .entities import extract_entities
    from .entities import extractor as entity_extractor
    from .evaluation import Evaluation, evaluate, read_topics
    from .indexer import Progress, build, index_status, update
    from .query import Index

#: Each name imported on first use, and the module it comes from (and its name there).
_LAZY = {
    "AliasTable": ("aliases", "AliasTable"),
    "analyze": ("analysis", "analyze"),
    "Ranking": ("config", "Ranking"),
    "Settings": ("config", "Settings"),
    "read_corpus": ("corpus", "read_corpus"),
    "parse_period": ("dates", "parse_period"),
    "extract_entities": ("entities", "extract_entities"),
    "entity_extractor": ("entities", "extractor"),
    "Evaluation": ("evaluation", "Evaluation"),
    "evaluate": ("evaluation", "evaluate"),
    "read_topics": ("evaluation", "read_topics"),
    "Progress": ("indexer", "Progress"),
    "build": ("indexer", "build"),
    "index_status": ("indexer", "index_status"),
    "update": ("indexer", "update"),
    "Index": ("query", "Index"),
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value: Any = version("searchlib")
        except PackageNotFoundError:  # running from a source tree that was never installed
            value = "0+unknown"
    elif name == "formats":
        value = importlib.import_module(".formats", __name__)
    elif name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attribute)
    else:
        raise AttributeError(f"module 'searchlib' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, "__version__", "formats"})


__all__ = [
    "__version__",
    "build",
    "update",
    "index_status",
    "Progress",
    "Index",
    "read_corpus",
    "evaluate",
    "read_topics",
    "Evaluation",
    "parse_period",
    "extract_entities",
    "entity_extractor",
    "analyze",
    "Settings",
    "Ranking",
    "Article",
    "BuildReport",
    "Entity",
    "Hit",
    "IndexedArticle",
    "FacetValue",
    "ScorePart",
    "Timeline",
    "TimelineBucket",
    "SearchResult",
    "Skipped",
    "Snippet",
    "SearchlibError",
    "CorpusError",
    "IndexNotFoundError",
    "IndexVersionError",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexBuildingError",
    "QuerySyntaxError",
    "NerBackendError",
    "WriterError",
    "WriteRefusedError",
    "ArticleNotFoundError",
    "InvalidOptionError",
    "ShardUnavailableError",
    "XapianEngineError",
    "formats",
    "AliasTable",
]
