"""Ranking quality beside peers: searchlib's defaults, plain Whoosh and bm25s on every test
collection in ``../shared/data``.

A test collection is a folder with ``corpus.jsonl.gz``, ``topics.tsv`` and ``qrels.txt`` (SciFact,
CACM, MED and CISI today). Each system indexes the corpus and searches every judged topic as typed
text; the runs are scored alike, by ``searchlib.evaluate`` (ir-measures: nDCG@10, MAP over 1,000
hits, Recall@100). The published BM25 figures of ``../shared/data/README.md`` are printed beside
them, and last, how far searchlib's defaults are ahead of the best peer on each collection.

``--ranking`` adds rows of searchlib with other settings (``Ranking`` fields, as
``proximity=0,b=0.8``) over the same index: how a sweep of the defaults is run.

Usage (with ``pip install -e '.[bench]'``):
    python benchmarks/quality.py [--data ../shared/data] [--collections scifact,cacm,med,cisi]
        [--systems searchlib,whoosh,bm25s] [--ranking proximity=0 --ranking proximity=0.5 ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import searchlib
from peers import Bm25s, PlainWhoosh, read_records

HERE = Path(__file__).resolve().parent
DEFAULTS = "searchlib (defaults)"
PEERS = {"whoosh": PlainWhoosh, "bm25s": Bm25s}

#: Published figures (nDCG@10, MAP, R@100), from ../shared/data/README.md.
PUBLISHED = {
    "scifact": [
        ("Anserini BM25 flat (published)", 0.6789, None, 0.9253),
        ("Anserini BM25 multifield (published)", 0.6647, None, 0.9076),
        ("BEIR BM25, Elasticsearch (published)", 0.665, None, None),
    ],
    "cacm": [("Anserini BM25 (published)", None, 0.3123, None)],
}


class PeerIndex:
    """A peer seen as ``searchlib.evaluate`` sees an index: ranked ids for a typed text."""

    def __init__(self, peer: PlainWhoosh | Bm25s) -> None:
        self.peer = peer

    def ranked(self, text: str, *, limit: int, plain: bool) -> list[tuple[str, float]]:
        return [(doc, 0.0) for doc in self.peer.ranked(text, limit)]


#: The order of the table: the collections that came first, then any other by name.
ORDER = ("scifact", "cacm", "med", "cisi")


def collections(data: Path) -> list[str]:
    """The folders of ``data`` that are test collections."""
    needed = ("corpus.jsonl.gz", "topics.tsv", "qrels.txt")
    found = [p.name for p in data.iterdir() if p.is_dir() and all((p / name).exists() for name in needed)]
    return sorted(found, key=lambda name: (ORDER.index(name) if name in ORDER else len(ORDER), name))


def ranking(text: str) -> searchlib.Ranking:
    """``proximity=0,b=0.8`` -> ``Ranking(proximity=0, b=0.8)``."""
    fields: dict[str, Any] = dict(part.split("=", 1) for part in text.split(",") if part.strip())
    return searchlib.Ranking(**fields)


def figure(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def evaluate(name: str, folder: Path, systems: list[str], rankings: list[str]) -> list[tuple[str, dict[str, float], float]]:
    """Each system's measures on one collection, and the seconds it took to index and search."""
    topics = searchlib.read_topics(folder / "topics.tsv")
    qrels = folder / "qrels.txt"
    results = []
    with tempfile.TemporaryDirectory() as work:
        if "searchlib" in systems:
            started = time.perf_counter()
            searchlib.build(folder / "corpus.jsonl.gz", Path(work) / "searchlib", jobs=2)
            built = time.perf_counter() - started
            for label, settings in [(DEFAULTS, searchlib.Ranking()), *((f"searchlib ({r})", ranking(r)) for r in rankings)]:
                started = time.perf_counter()
                with searchlib.Index.open(Path(work) / "searchlib", ranking=settings) as index:
                    measures = searchlib.evaluate(index, topics, qrels).measures
                results.append((label, measures, built + time.perf_counter() - started))
        for system in (s for s in systems if s in PEERS):
            peer = PEERS[system]()
            started = time.perf_counter()
            peer.build(read_records(folder / "corpus.jsonl.gz"), Path(work) / peer.name)
            evaluation = searchlib.evaluate(PeerIndex(peer), topics, qrels)  # type: ignore[arg-type]
            results.append((peer.name, evaluation.measures, time.perf_counter() - started))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--collections", help="comma-separated; by default every test collection in --data")
    parser.add_argument("--systems", default="searchlib,whoosh,bm25s")
    parser.add_argument("--ranking", action="append", default=[], help="searchlib with these settings too, as proximity=0,b=0.8")
    args = parser.parse_args()
    names = args.collections.split(",") if args.collections else collections(args.data)
    systems = args.systems.split(",")
    print("| collection | system | nDCG@10 | MAP | R@100 | index + search, s |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    leads = []
    for name in names:
        results = evaluate(name, args.data / name, systems, args.ranking)
        for system, m, seconds in results:
            print(f"| {name} | {system} | {m['nDCG@10']:.4f} | {m['AP']:.4f} | {m['R@100']:.4f} | {seconds:.0f} |", flush=True)
        for system, *published in PUBLISHED.get(name, []):
            print(f"| {name} | {system} | " + " | ".join(figure(v) for v in published) + " | |")
        ours = next((m for system, m, _ in results if system == DEFAULTS), None)
        peers = [m for system, m, _ in results if system in {p.name for p in PEERS.values()}]
        if ours and peers:
            leads.append((name, *(ours[k] - max(p[k] for p in peers) for k in ("nDCG@10", "AP"))))
    if leads:
        print("\nsearchlib's defaults ahead of the best peer (nDCG@10, MAP):")
        for name, ndcg, average_precision in leads:
            print(f"  {name}: {ndcg:+.4f}, {average_precision:+.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
