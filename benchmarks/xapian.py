"""The Xapian engine beside the Whoosh engine, in one run (issue 22): ranking quality, build
throughput with 1, 2 and 4 shards, query latency with snippets over 1, 2 and 4 remote shards,
and a scale run over 4 shards.

- **quality**: ``searchlib.evaluate`` (what ``searchlib eval`` prints) on SciFact, CACM, MED and
  CISI with both engines, the Xapian index in 2 shards;
- **build**: Reuters-21578 (20,841 articles) with the Whoosh engine (``--jobs 2``) and with the
  Xapian engine in 1, 2 and 4 shards (a process each): wall time, articles a second, peak memory
  (the sum of the peak RSS of the build's processes, ``rebuild.run``) and size on disk;
- **latency**: p50 and p95 of a top-10 search with snippets (``Index.search``), over real web
  queries (``queries-msmarco.tsv.gz``), warm (every query run once before the timed pass), in
  a child process of its own: the Whoosh index, the 1-shard Xapian index opened locally, and the
  1-, 2- and 4-shard builds served by ``xapian-tcpsrv`` on 127.0.0.1;
- **scale**: Reuters and the Wikipedia slice repeated with fresh ids (``rebuild.write_corpus``),
  ``--scale`` articles over 4 shards: build time, peak memory, disk, and latency over the 4
  remote shards;
- **overlap**: on Reuters, how many of the Whoosh engine's top 10 the Xapian engine also has.

All shards of a run are on this one machine (2 cores, shared with other work): remote shards
here measure Xapian's protocol and merging, not a network.

Usage (the xapian extra and xapian-tools installed):
    python benchmarks/xapian.py [--data ../shared/data]
        [--parts quality,build,latency,overlap,scale] [--queries 500] [--scale 200000] [--scale-queries 200]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rebuild import run, write_corpus

HERE = Path(__file__).resolve().parent
# This file's name is the bindings' module name: its folder must not be where ``import xapian``
# looks (so the commands below are the console scripts, which do not put the folder first).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
COLLECTIONS = ("scifact", "cacm", "med", "cisi")


def searchlib_command(*arguments: str) -> list[str]:
    return [str(Path(sys.executable).parent / "searchlib"), *arguments]


def disk(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Servers:
    """``xapian-tcpsrv`` for each shard of a Xapian index, on 127.0.0.1 (``searchlib serve-shard``)."""

    def __init__(self, index: Path) -> None:
        shards = sorted(p for p in index.iterdir() if p.name.startswith("shard-"))
        self.processes, ports = [], []
        for shard in shards:
            port = free_port()
            self.processes.append(subprocess.Popen(searchlib_command("serve-shard", str(shard), "--port", str(port)),
                                                   start_new_session=True, stdout=subprocess.DEVNULL))
            ports.append(port)
        for port in ports:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        self.address = "xapian://" + ",".join(f"127.0.0.1:{port}" for port in ports)

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


def latency(index: str, queries: Path, count: int) -> dict[str, float]:
    """p50 and p95 in a child process (``--worker``)."""
    output = subprocess.run([sys.executable, __file__, "--worker", index, "--query-file", str(queries),
                             "--queries", str(count)], check=True, capture_output=True, text=True).stdout
    return json.loads(output)


def worker(index: str, queries: Path, count: int) -> None:
    import searchlib
    from searchlib.query import plain_query

    with gzip.open(queries, "rt", encoding="utf-8") as lines:
        texts = [plain_query(line.rstrip("\n").split("\t", 1)[1]) for _, line in zip(range(count), lines)]
    texts = [text for text in texts if text.strip()]
    with searchlib.Index.open(index) as opened:
        for text in texts:  # warm
            opened.search(text, limit=10)
        timings = []
        for text in texts:
            started = time.perf_counter()
            result = opened.search(text, limit=10)
            [hit.snippet.to_text() for hit in result.hits]
            timings.append(time.perf_counter() - started)
    cuts = statistics.quantiles(timings, n=100)
    print(json.dumps({"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "queries": len(texts)}))


def quality(data: Path, work: Path) -> None:
    import searchlib

    print("\n## Quality: searchlib eval, both engines (Xapian in 2 shards)\n")
    print("| collection | Whoosh nDCG@10 | Xapian nDCG@10 | difference | Whoosh MAP | Xapian MAP | Whoosh R@100 | Xapian R@100 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in COLLECTIONS:
        folder = data / name
        figures = {}
        for engine in ("whoosh", "xapian"):
            index = work / f"{name}-{engine}"
            searchlib.build(folder / "corpus.jsonl.gz", index, engine=engine, jobs=2, shards=2 if engine == "xapian" else 1)
            with searchlib.Index.open(index) as opened:
                figures[engine] = searchlib.evaluate(opened, searchlib.read_topics(folder / "topics.tsv"), folder / "qrels.txt").measures
        w, x = figures["whoosh"], figures["xapian"]
        print(f"| {name} | {w['nDCG@10']:.4f} | {x['nDCG@10']:.4f} | {x['nDCG@10'] - w['nDCG@10']:+.4f} | {w['AP']:.4f} | "
              f"{x['AP']:.4f} | {w['R@100']:.4f} | {x['R@100']:.4f} |", flush=True)


def build_and_latency(data: Path, work: Path, parts: set[str], count: int) -> None:
    corpus = data / "reuters21578.jsonl.gz"
    queries = data / "queries-msmarco.tsv.gz"
    builds: dict[str, Path] = {}
    if "build" in parts:
        print("\n## Build: Reuters-21578, 20,841 articles\n")
        print("| engine | processes | s | articles/s | peak memory (MB) | disk (MB) |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, arguments in (("Whoosh", ["--jobs", "2"]), ("Xapian, 1 shard", ["--engine", "xapian", "--shards", "1"]),
                             ("Xapian, 2 shards", ["--engine", "xapian", "--shards", "2"]),
                             ("Xapian, 4 shards", ["--engine", "xapian", "--shards", "4"])):
        index = work / label.replace(",", "").replace(" ", "-")
        seconds, peak, _ = run(searchlib_command("build", str(corpus), "--index", str(index), "--quiet", *arguments))
        builds[label] = index
        if "build" in parts:
            processes = arguments[-1] if label != "Whoosh" else "2 workers"
            print(f"| {label} | {processes} | {seconds:.1f} | {20841 / seconds:,.0f} | {peak / 2**20:,.0f} | "
                  f"{disk(index) / 2**20:,.1f} |", flush=True)
    if "latency" not in parts:
        return
    print(f"\n## Query latency: top 10 with snippets, {count} MS MARCO queries, Reuters, warm\n")
    print("| engine | p50 ms | p95 ms |")
    print("| --- | ---: | ---: |")
    rows = [("Whoosh, local", str(builds["Whoosh"])), ("Xapian, 1 shard, local", str(builds["Xapian, 1 shard"]))]
    for label, where in rows:
        figures = latency(where, queries, count)
        print(f"| {label} | {figures['p50']:.1f} | {figures['p95']:.1f} |", flush=True)
    for shards in (1, 2, 4):
        servers = Servers(builds[f"Xapian, {shards} shard{'s' if shards > 1 else ''}"])
        try:
            figures = latency(servers.address, queries, count)
        finally:
            servers.stop()
        print(f"| Xapian, {shards} remote shard{'s' if shards > 1 else ''} | {figures['p50']:.1f} | {figures['p95']:.1f} |",
              flush=True)


def overlap(data: Path, work: Path, count: int) -> None:
    """How many of the Whoosh engine's top 10 the Xapian engine also has, over the queries."""
    import searchlib
    from searchlib.query import plain_query

    corpus = data / "reuters21578.jsonl.gz"
    searchlib.build(corpus, work / "overlap-whoosh", jobs=2)
    searchlib.build(corpus, work / "overlap-xapian", engine="xapian", shards=2)
    with gzip.open(data / "queries-msmarco.tsv.gz", "rt", encoding="utf-8") as lines:
        texts = [plain_query(line.rstrip("\n").split("\t", 1)[1]) for _, line in zip(range(count), lines)]
    shares, same_total = [], 0
    with searchlib.Index.open(work / "overlap-whoosh") as whoosh, searchlib.Index.open(work / "overlap-xapian") as xapian_index:
        for text in (t for t in texts if t.strip()):
            a, b = whoosh.search(text), xapian_index.search(text)
            same_total += (a.total, a.stories) == (b.total, b.stories)
            if a.hits:
                shares.append(len({h.id for h in a.hits} & {h.id for h in b.hits}) / len(a.hits))
    print(f"\n## Whoosh and Xapian engines on Reuters, {len(shares)} MS MARCO queries with hits\n")
    print(f"top-10 overlap: mean {statistics.mean(shares):.3f}, median {statistics.median(shares):.2f}, "
          f"identical sets {sum(s == 1 for s in shares) / len(shares):.0%}, under half {sum(s < 0.5 for s in shares) / len(shares):.0%}; "
          f"same total and stories: {same_total / len(shares):.0%} of the queries", flush=True)


def scale(data: Path, work: Path, size: int, count: int) -> None:
    corpus = work / "scale.jsonl"
    write_corpus(data, size, corpus)
    index = work / "scale"
    print(f"\n## Scale: {size:,} articles (Reuters and the Wikipedia slice, repeated with fresh ids), 4 shards\n")
    seconds, peak, _ = run(searchlib_command("build", str(corpus), "--index", str(index), "--quiet", "--engine", "xapian",
                                             "--shards", "4"))
    print(f"corpus {corpus.stat().st_size / 2**20:,.0f} MB; build {seconds:,.0f} s ({size / seconds:,.0f} articles/s), "
          f"peak memory {peak / 2**20:,.0f} MB, disk {disk(index) / 2**20:,.0f} MB", flush=True)
    corpus.unlink()
    servers = Servers(index)
    try:
        figures = latency(servers.address, data / "queries-msmarco.tsv.gz", count)
    finally:
        servers.stop()
    print(f"query over 4 remote shards, top 10 with snippets, {count} queries: p50 {figures['p50']:.1f} ms, "
          f"p95 {figures['p95']:.1f} ms", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--parts", default="quality,build,latency,overlap,scale")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--scale", type=int, default=200_000)
    parser.add_argument("--scale-queries", type=int, default=200)
    parser.add_argument("--work", type=Path, default=None, help="where to build (default: a temporary folder)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--query-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.query_file, args.queries)
        return 0
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory(prefix="searchlib-xapian-", dir=args.work) as scratch:
        work = Path(scratch)
        if "quality" in parts:
            quality(args.data, work)
        if parts & {"build", "latency"}:
            build_and_latency(args.data, work, parts, args.queries)
        if "overlap" in parts:
            overlap(args.data, work, args.queries)
        if "scale" in parts:
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            scale(args.data, work, args.scale, args.scale_queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
