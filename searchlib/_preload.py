"""What the worker processes of a build share: imported once by the server they are forked from
(workers.build_segments), so that the gazetteers of the default entity extractor and NLTK's
stemmer (importing NLTK takes a second and a half) are loaded once, not in each worker, and
their memory pages are shared with every worker.

NLTK's package imports SciPy for a statistic of its collocations (Fisher's exact test), which
indexing never uses: 0.6 s of the server's start, before any worker can begin, and 34 MB. The
server imports NLTK with SciPy hidden, which NLTK allows for (it catches the ImportError), and
only meanwhile: anything imported later finds SciPy as usual.

``gc.freeze`` keeps the collector from writing to these objects' headers, which would copy
the shared pages into each worker."""

import gc
import sys

from .analysis import _stemmer
from .entities import _gazetteer

_gazetteer()
_hidden = "scipy" not in sys.modules
if _hidden:
    sys.modules["scipy"] = None  # type: ignore[assignment]  # import scipy raises ImportError
try:
    _stemmer()
finally:
    if _hidden:
        del sys.modules["scipy"]
gc.freeze()
