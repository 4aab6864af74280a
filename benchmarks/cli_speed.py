"""How long a whole ``search QUERY`` command takes, start to exit, beside the least a program must
do to answer the same query from the same articles: a minimal plain-Whoosh script (open the index,
parse the words, print ten highlighted hits) and SQLite's command-line shell with an FTS5 query.

Each query is run by the three in turn, in fresh processes, with the page cache warm (every
command is run once before timing); wall time and the process's peak resident memory (from
``wait4``) are kept, and the medians compared as ratios of the same run, since this machine is
shared. The targets (issue 18): ``search`` under 0.25 s, and within 1.5 times the plain-Whoosh
script.

Usage (the peers' indexes are built in --work the first time):
    python benchmarks/cli_speed.py --data ../shared/data --index indexes/reuters [--queries 40]
"""

from __future__ import annotations

import argparse
import compileall
import gzip
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from peers import PlainWhoosh, SqliteFts5, read_records, words_only

HERE = Path(__file__).resolve().parent

PLAIN_WHOOSH = """
import sys
from whoosh import index
from whoosh.qparser import MultifieldParser, OrGroup
ix = index.open_dir(sys.argv[1])
with ix.searcher() as searcher:
    query = MultifieldParser(["title", "body"], ix.schema, group=OrGroup).parse(sys.argv[2])
    hits = searcher.search(query, limit=10)
    print(len(hits), "articles match")
    for hit in hits:
        print(hit["title"])
        print(hit.highlights("body"))
"""


def timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident kilobytes of one run of ``command`` (measured by GNU time,
    which starts it: the rusage of a child of this process would count this process's pages)."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed: {done.stderr}")
    return seconds, int(done.stderr.strip().splitlines()[-1])


def queries(path: Path, count: int) -> list[str]:
    chosen = []
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            text = words_only(line.split("\t", 1)[-1]).strip()
            if text and len(chosen) < count:
                chosen.append(" ".join(text.split()[:6]))
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--index", type=Path, required=True, help="a searchlib index of reuters21578.jsonl.gz")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "searchlib-cli-speed")
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    corpus = args.data / "reuters21578.jsonl.gz"
    whoosh_index, fts = args.work / "whoosh", args.work / "fts5"
    if not whoosh_index.exists():
        PlainWhoosh().build(read_records(corpus), whoosh_index)
    if not (fts / "fts.db").exists():
        SqliteFts5().build(read_records(corpus), fts)
    search = shutil.which("search", path=str(Path(sys.executable).parent)) or "search"
    sqlite = shutil.which("sqlite3")
    chosen = queries(args.data / "queries-msmarco.tsv.gz", args.queries)
    systems = {
        "searchlib `search`": lambda q: [search, q, "--index", str(args.index), "--no-color"],
        "plain Whoosh script": lambda q: [sys.executable, "-c", PLAIN_WHOOSH, str(whoosh_index), q],
    }
    if sqlite:
        systems["sqlite3 FTS5"] = lambda q: [
            sqlite, str(fts / "fts.db"),
            "SELECT id, snippet(articles, 2, '[', ']', '…', 24) FROM articles WHERE articles MATCH "
            + "'" + " OR ".join(f'"{w}"' for w in q.split()).replace("'", "''") + "' ORDER BY bm25(articles, 0, 2.0, 1.0) LIMIT 10",
        ]
    # pip compiles the modules of a package it installs (Whoosh's, here); an editable install's
    # are compiled as they are first imported, unless PYTHONDONTWRITEBYTECODE is set, as it is on
    # these machines. Compile searchlib's as pip would, so that both commands start from bytecode.
    import searchlib

    compileall.compile_dir(str(Path(searchlib.__file__).parent), quiet=1)
    for make in systems.values():  # warm the page cache
        timed(make(chosen[0]))
    results: dict[str, list[tuple[float, int]]] = {name: [] for name in systems}
    for query in chosen:
        for name, make in systems.items():
            results[name].append(timed(make(query)))
    plain = statistics.median(s for s, _ in results["plain Whoosh script"])
    print(f"{len(chosen)} MS MARCO queries on Reuters-21578, each run by all in turn; medians\n")
    print("| command | wall, s | p90 wall, s | peak RSS, MiB | wall / plain Whoosh |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, runs in results.items():
        walls = sorted(s for s, _ in runs)
        median = statistics.median(walls)
        rss = statistics.median(kb for _, kb in runs) / 1024
        print(f"| {name} | {median:.3f} | {walls[int(0.9 * (len(walls) - 1))]:.3f} | {rss:.0f} | {median / plain:.2f}x |")
    ours = statistics.median(s for s, _ in results["searchlib `search`"])
    met = ours < 0.25 and ours / plain <= 1.5
    print(f"\ntargets (under 0.25 s, within 1.5x plain Whoosh): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
