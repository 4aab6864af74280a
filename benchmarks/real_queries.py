"""Any text a person types is a query: real web queries (MS MARCO), as typed, through
``Index.search`` on an index; counts the errors (there must be none), the notices of how queries
were read, and the slowest queries.

Usage:
    python benchmarks/real_queries.py --data ../shared/data --index indexes/reuters [--queries 10000]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import sys
import time
from pathlib import Path

import searchlib

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=10_000)
    args = parser.parse_args()
    errors: collections.Counter[str] = collections.Counter()
    notices: collections.Counter[str] = collections.Counter()
    times: list[tuple[float, str]] = []
    started = time.perf_counter()
    with searchlib.Index.open(args.index) as index, gzip.open(args.data / "queries-msmarco.tsv.gz", "rt", encoding="utf-8") as stream:
        for line, _ in zip(stream, range(args.queries)):
            text = line.rstrip("\n").split("\t", 1)[-1]
            begun = time.perf_counter()
            try:
                notices.update(notice.split(":")[0][:50] for notice in index.search(text).notices)
            except Exception as error:  # noqa: BLE001 (any error counts, SearchlibError too)
                errors[f"{type(error).__name__}: {str(error)[:80]}"] += 1
            times.append((time.perf_counter() - begun, text))
    times.sort(reverse=True)
    print(f"{len(times):,} queries in {time.perf_counter() - started:.1f} s; errors: {sum(errors.values())}")
    for error, count in errors.most_common(10):
        print(f"  {count} {error}")
    print("slowest:", "; ".join(f"{seconds:.3f} s {text[:50]!r}" for seconds, text in times[:5]))
    print("notices:", "; ".join(f"{count:,} {notice!r}" for notice, count in notices.most_common(8)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
