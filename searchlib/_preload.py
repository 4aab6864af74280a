"""What the worker processes of a build share: imported once by the server they are forked from
(writer.build_segments), so that the gazetteers of the default entity extractor are loaded
once, not in each worker, and their memory pages are shared with every worker.

``gc.freeze`` keeps the collector from writing to these objects' headers, which would copy
the shared pages into each worker."""

import gc

from .entities import _gazetteer

_gazetteer()
gc.freeze()
