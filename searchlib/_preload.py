"""What the worker processes of a build share: imported once by the server they are forked from
(workers.py), so that the gazetteers of the default entity extractor and NLTK's stemmer are
loaded once, not in each worker, and their memory pages are shared with every worker.

``gc.freeze`` keeps the collector from writing to these objects' headers, which would copy
the shared pages into each worker."""

import gc

from .analysis import _stemmer
from .entities import _gazetteer

_gazetteer()
_stemmer()
gc.freeze()
