"""Ranking quality beside peers: searchlib's defaults, plain Whoosh and bm25s on SciFact and CACM.

Each system indexes the collection's corpus and searches every judged topic as typed text; the
runs are scored alike, by ``searchlib.evaluate`` (ir-measures: nDCG@10, MAP over 1,000 hits,
Recall@100). The published BM25 figures of ``../shared/data/README.md`` are printed beside them.

Usage (with ``pip install -e '.[bench]'``):
    python benchmarks/quality.py [--data ../shared/data] [--collections scifact,cacm]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import searchlib
from peers import Bm25s, PlainWhoosh, read_records

HERE = Path(__file__).resolve().parent

#: Published figures (nDCG@10, MAP, R@100), from ../shared/data/README.md.
PUBLISHED = {
    "scifact": [("Anserini BM25 flat (published)", 0.6789, None, 0.9253), ("Anserini BM25 multifield (published)", 0.6647, None, 0.9076)],
    "cacm": [("Anserini BM25 (published)", None, 0.3123, None)],
}


class PeerIndex:
    """A peer seen as ``searchlib.evaluate`` sees an index: ranked ids for a typed text."""

    def __init__(self, peer: PlainWhoosh | Bm25s) -> None:
        self.peer = peer

    def ranked(self, text: str, *, limit: int, plain: bool) -> list[tuple[str, float]]:
        return [(doc, 0.0) for doc in self.peer.ranked(text, limit)]


def figure(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--collections", default="scifact,cacm")
    args = parser.parse_args()
    print("| collection | system | nDCG@10 | MAP | R@100 | index + search, s |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name in args.collections.split(","):
        folder = args.data / name
        topics = searchlib.read_topics(folder / "topics.tsv")
        qrels = folder / "qrels.txt"
        with tempfile.TemporaryDirectory() as work:
            started = time.perf_counter()
            searchlib.build(folder / "corpus.jsonl.gz", Path(work) / "searchlib", jobs=2)
            with searchlib.Index.open(Path(work) / "searchlib") as index:
                results = [("searchlib (defaults)", searchlib.evaluate(index, topics, qrels), time.perf_counter() - started)]
            for peer in (PlainWhoosh(), Bm25s()):
                started = time.perf_counter()
                peer.build(read_records(folder / "corpus.jsonl.gz"), Path(work) / peer.name)
                evaluation = searchlib.evaluate(PeerIndex(peer), topics, qrels)  # type: ignore[arg-type]
                results.append((peer.name, evaluation, time.perf_counter() - started))
        for system, evaluation, seconds in results:
            m = evaluation.measures
            print(f"| {name} | {system} | {m['nDCG@10']:.4f} | {m['AP']:.4f} | {m['R@100']:.4f} | {seconds:.0f} |", flush=True)
        for system, *published in PUBLISHED.get(name, []):
            print(f"| {name} | {system} | " + " | ".join(figure(v) for v in published) + " | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
