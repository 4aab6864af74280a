"""searchlib: search archives of news articles.

Example:
    >>> import searchlib
    >>> report = searchlib.build("corpus", "indexes/main")               # doctest: +SKIP
    >>> with searchlib.Index.open("indexes/main") as index:              # doctest: +SKIP
    ...     for hit in index.search("military base").hits:
    ...         print(hit.rank, hit.title, hit.snippet.to_text())
"""

from importlib.metadata import PackageNotFoundError, version

from .analysis import analyze
from .config import Ranking, Settings
from .corpus import read_corpus
from .dates import parse_period
from .entities import extract_entities
from .entities import extractor as entity_extractor
from .evaluation import Evaluation, evaluate, read_topics
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
    WriteRefusedError,
    WriterError,
)
from .indexer import Progress, build, index_status, update
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
from .query import Index

try:
    __version__ = version("searchlib")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

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
    "QuerySyntaxError",
    "NerBackendError",
    "WriterError",
    "WriteRefusedError",
    "IndexBuildingError",
    "ArticleNotFoundError",
    "InvalidOptionError",
]
