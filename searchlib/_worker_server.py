"""``python -m searchlib._worker_server``: the server of a build's worker processes (workers.py).
A module of its own, so that running it does not import ``workers`` a second time as
``__main__``."""

import sys

from .workers import serve

sys.exit(serve(sys.argv[1:]))
