"""Speed beside peers: build, query and update times of searchlib, plain Whoosh, SQLite FTS5 and
tantivy, on Reuters-21578 and on a scale series of larger corpora, all in one run.

For each corpus and system, in child processes so that one does not warm another:

- **build**: articles a second over the whole pipeline (reading the corpus file, analysis,
  searchlib's entities and near-duplicates, writing), and the peak memory: the sum of the peak
  resident set sizes of the build's processes (``rebuild.run``: exact for one process, an upper
  bound for searchlib's several);
- **query**: p50 and p95 latency of a top-10 search *with snippets* of the body, over real web
  queries (``queries-msmarco.tsv.gz``), warm: the index opened and every query run once before
  the timed pass;
- **update, nothing changed**: ``searchlib update``; a peer, having no change detection, re-adds
  every article the way its documentation updates one (``update_document``, ``INSERT OR REPLACE``,
  delete and add).

A build of a corpus under ``--long`` articles takes seconds, where a neighbour's burst of work on
this shared machine moves one run by a fifth: it runs ``--runs`` times, each system in turn, and
the median run counts (its time and its memory). A longer build runs once, the noise averaged
within its minutes. Queries and the update run on the last build.

Ratios are to plain Whoosh in the same run. The scale series is Reuters, then the Wikipedia slice,
then both again with fresh ids, cut at each size. With ``--plot``, latency and build time against
corpus size are drawn to that PNG.

Usage (with ``pip install -e '.[bench]'``):
    python benchmarks/speed.py [--data ../shared/data] [--sizes reuters,20000,50000,100000,200000]
        [--queries 1000] [--systems searchlib,whoosh,fts5,tantivy] [--runs 3] [--long 100000]
        [--plot benchmarks/speed.png]
    python benchmarks/speed.py --plot-from OUTPUT --plot benchmarks/speed.png  # from tables printed before
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from peers import PlainWhoosh, SqliteFts5, Tantivy, read_records, words_only
from rebuild import run, write_corpus

HERE = Path(__file__).resolve().parent
SYSTEMS = {"searchlib": "searchlib", "whoosh": "plain Whoosh", "fts5": "SQLite FTS5", "tantivy": "tantivy"}


class Searchlib:
    """searchlib as its README has it: ``searchlib build --jobs 2``, ``Index.search``."""

    name = "searchlib"

    def build(self, corpus: Path, where: Path) -> None:
        command = [sys.executable, "-m", "searchlib", "build", str(corpus), "--index", str(where), "--jobs", "2", "--quiet"]
        subprocess.run(command, check=True)

    def update(self, corpus: Path, where: Path) -> None:
        subprocess.run([sys.executable, "-m", "searchlib", "update", str(corpus), "--index", str(where), "--quiet"], check=True)

    def open(self, where: Path) -> None:
        import searchlib

        self._index = searchlib.Index.open(where)

    def page(self, text: str) -> list[tuple[str, str]]:
        words = words_only(text)
        if not words.strip():
            return []
        return [(hit.id, hit.snippet.to_text()) for hit in self._index.search(words, limit=10).hits]


def peer(system: str) -> Any:
    return {"searchlib": Searchlib, "whoosh": PlainWhoosh, "fts5": SqliteFts5, "tantivy": Tantivy}[system]()


def worker(args: argparse.Namespace) -> None:
    """One measurement in this (child) process; prints its figures as JSON."""
    engine = peer(args.system)
    corpus, where = Path(args.corpus), Path(args.index)
    if args.worker == "build":
        engine.build(corpus, where) if args.system == "searchlib" else engine.build(read_records(corpus), where)
        print(json.dumps({}))
    elif args.worker == "update":
        started = time.perf_counter()
        engine.update(corpus, where) if args.system == "searchlib" else engine.update(read_records(corpus), where)
        print(json.dumps({"seconds": time.perf_counter() - started}))
    else:
        engine.open(where)
        queries = read_queries(Path(args.queries), args.count)
        for text in queries:  # warm: files in the page cache, caches filled
            engine.page(text)
        latencies = []
        for text in queries:
            started = time.perf_counter()
            engine.page(text)
            latencies.append(time.perf_counter() - started)
        cuts = statistics.quantiles(latencies, n=100)
        print(json.dumps({"p50": cuts[49], "p95": cuts[94]}))


def read_queries(path: Path, count: int) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [line.rstrip("\n").split("\t", 1)[1] for _, line in zip(range(count), lines)]


def measure(system: str, stage: str, corpus: Path, index: Path, extra: Sequence[str] = ()) -> dict[str, float]:
    command = [sys.executable, __file__, "--worker", stage, "--system", system, "--corpus", str(corpus), "--index", str(index), *extra]
    seconds, peak, output = run(command)
    return {**json.loads(output), "wall": seconds, "peak": peak}


def build_runs(systems: Sequence[str], corpus: Path, work: Path, runs: int) -> dict[str, tuple[Path, list[dict[str, float]]]]:
    """Build ``corpus`` with each system ``runs`` times, the systems in turn, each build into a
    new directory; return each system's last index and the figures of its runs."""
    done: dict[str, list[dict[str, float]]] = {system: [] for system in systems}
    last: dict[str, Path] = {}
    for run_number in range(runs):
        for system in systems:
            index = work / f"{system}-{run_number}"
            done[system].append(measure(system, "build", corpus, index))
            if system in last:
                shutil.rmtree(last[system])
            last[system] = index
    return {system: (last[system], done[system]) for system in systems}


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run of median time (of two, the slower)."""
    return sorted(runs, key=lambda build: (build["wall"], build["peak"]))[len(runs) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--sizes", default="reuters,20000,50000,100000,200000")
    parser.add_argument("--queries", type=int, default=1000, dest="count")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--runs", type=int, default=3, help="builds of each system of a corpus under --long articles; the median counts")
    parser.add_argument("--long", type=int, default=100_000, help="corpora of this many articles or more are built once")
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument("--no-peer-updates", action="store_true", help="skip the peers' re-adding updates (the longest steps)")
    parser.add_argument("--plot-from", type=Path, default=None, help="draw --plot from the tables this command printed, and stop")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--system", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--index", help=argparse.SUPPRESS)
    parser.add_argument("--query-file", dest="queries", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return 0
    if args.plot_from:
        plot(read_tables(args.plot_from), args.plot or HERE / "speed.png")
        return 0
    queries = args.data / "queries-msmarco.tsv.gz"
    systems = args.systems.split(",")
    rows: list[dict[str, Any]] = []
    for size in args.sizes.split(","):
        with tempfile.TemporaryDirectory() as work:
            if size == "reuters":
                corpus, articles = args.data / "reuters21578.jsonl.gz", sum(1 for _ in read_records(args.data / "reuters21578.jsonl.gz"))
            else:
                corpus, articles = Path(work) / "corpus.jsonl", int(size)
                write_corpus(args.data, articles, corpus)
            runs = max(1, args.runs) if articles < args.long else 1
            print(f"\n### {size if size == 'reuters' else f'{articles:,} articles'}: {articles:,} articles, {args.count:,} queries\n")
            if runs > 1:
                print(f"Builds: the median of {runs} runs, each system in turn.\n")
            print("| system | build, articles/s (x plain Whoosh) | build peak memory, MB | query p50, ms (x) | query p95, ms (x) | update, nothing changed, s (x) |")
            print("| --- | ---: | ---: | ---: | ---: | ---: |", flush=True)
            built = build_runs(systems, corpus, Path(work), runs)
            figures = {}
            for system in systems:
                index, build = built[system][0], median_run(built[system][1])
                query = measure(system, "query", corpus, index, ["--query-file", str(queries), "--queries", str(args.count)])
                skip_update = args.no_peer_updates and system != "searchlib"
                update = {"seconds": float("nan")} if skip_update else measure(system, "update", corpus, index)
                figures[system] = {"rate": articles / build["wall"], "peak": build["peak"], "p50": query["p50"], "p95": query["p95"], "update": update["seconds"]}
                base = figures.get("whoosh")
                f = figures[system]

                def ratio(key: str) -> str:
                    return f" ({f[key] / base[key]:.2f}x)" if base and base[key] == base[key] else ""

                print(f"| {SYSTEMS[system]} | {f['rate']:,.0f}{ratio('rate')} | {f['peak'] / 2**20:,.0f} | {f['p50'] * 1000:.1f}{ratio('p50')} "
                      f"| {f['p95'] * 1000:.1f}{ratio('p95')} | {f['update']:.1f}{ratio('update')} |", flush=True)
                rows.append({"size": size, "articles": articles, "system": system, **f})
            if runs > 1:
                print("\nBuild runs, articles/s: " + "; ".join(
                    f"{SYSTEMS[system]} " + ", ".join(f"{articles / run['wall']:,.0f}" for run in built[system][1]) for system in systems))
    print("\n" + json.dumps(rows))
    if args.plot:
        plot(rows, args.plot)
    return 0


def read_tables(path: Path) -> list[dict[str, Any]]:
    """The rows of the tables in this command's output (of a run stopped before its end, too)."""
    rows, size, articles = [], "", 0
    names = {label: system for system, label in SYSTEMS.items()}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            size, articles = line[4:].split(":")[0].split()[0].replace(",", ""), int(line.split(": ")[1].split()[0].replace(",", ""))
        cells = [cell.strip().split(" (")[0].replace(",", "") for cell in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0] in names:
            rate, peak, p50, p95, update = map(float, cells[1:])
            rows.append({"size": size, "articles": articles, "system": names[cells[0]], "rate": rate,
                         "peak": peak * 2**20, "p50": p50 / 1000, "p95": p95 / 1000, "update": update})
    return rows


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [row for row in rows if row["size"] != "reuters"]
    figure, (latency, build) = plt.subplots(1, 2, figsize=(11, 4.2))
    for system, label in SYSTEMS.items():
        points = sorted((r["articles"], r["p50"] * 1000, r["articles"] / r["rate"]) for r in series if r["system"] == system)
        if points:
            sizes, p50, seconds = zip(*points)
            latency.plot(sizes, p50, marker="o", label=label)
            build.plot(sizes, seconds, marker="o", label=label)
    latency.set(title="Query p50 with snippets", xlabel="articles", ylabel="ms", xscale="log", yscale="log")
    build.set(title="Build time", xlabel="articles", ylabel="seconds", xscale="log", yscale="log")
    for axes in (latency, build):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
