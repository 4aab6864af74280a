"""Every search feature beside a plain search: facets, more-like-this, date order, date and
entity filters, timelines, explanations, and the combination the web page makes on each keystroke
(facets, a timeline and a filter), with plain Whoosh's equivalents where it has them.

In one process per system, on an index of the corpus, warm (each query once before the timed
pass): p50 and p95 of each call over MS MARCO queries (punctuation as spaces), and each p50 as a
ratio to plain ``search(q)`` in the same run. Plain Whoosh is measured as its documentation does
these: ``sortedby="date"``, ``groupedby`` facets of its keyword fields, ``more_like_this``.

Targets (issue 23), p50 on Reuters: facets, date order, date and entity filters, timeline each
within 2x plain search; more-like-this within 5x; explain within 10x.

Usage:
    python benchmarks/features.py --data ../shared/data [--sizes reuters,20000,200000] [--queries 150]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import searchlib
from peers import read_records, words_only
from rebuild import write_corpus

HERE = Path(__file__).resolve().parent
TARGETS = {"facets": 2, "sort newest": 2, "since 1987-04": 2, "place filter": 2, "timeline": 2, "more like": 5, "explain": 10,
           "facets + timeline + filter": None}


def queries(path: Path, count: int) -> list[str]:
    chosen = []
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            text = " ".join(words_only(line.split("\t", 1)[-1]).split())
            if text:
                chosen.append(text)
            if len(chosen) == count:
                break
    return chosen


def timed(call: Callable[[str], Any], inputs: list[str]) -> tuple[float, float]:
    for text in inputs:  # warm
        call(text)
    times = []
    for text in inputs:
        started = time.perf_counter()
        call(text)
        times.append(time.perf_counter() - started)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def searchlib_calls(index: searchlib.Index, articles: list[str]) -> dict[str, Callable[[str], Any]]:
    like = iter(articles * 10)
    return {
        "search": lambda q: index.search(q),
        "facets": lambda q: index.search(q, facets=True),
        "sort newest": lambda q: index.search(q, sort="newest"),
        "since 1987-04": lambda q: index.search(q, since="1987-04"),
        "place filter": lambda q: index.search(q, place="USA"),
        "timeline": lambda q: index.timeline(q, by="month"),
        "explain": lambda q: index.search(q, explain=True),
        "more like": lambda q: index.more_like(next(like)),
        "facets + timeline + filter": lambda q: (index.search(q, facets=True, since="1987-03"), index.timeline(q, since="1987-03")),
    }


def whoosh_calls(where: Path, corpus: Path) -> dict[str, Callable[[str], Any]]:
    """Plain Whoosh with a date and a keyword field of places, as its documentation has these."""
    from whoosh import index as whoosh_index
    from whoosh import sorting
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import DATETIME, ID, KEYWORD, TEXT, Schema
    from whoosh.qparser import MultifieldParser, OrGroup

    from searchlib.corpus import parse_date

    if not where.exists():
        schema = Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=StemmingAnalyzer(), stored=True),
                        body=TEXT(analyzer=StemmingAnalyzer(), stored=True), date=DATETIME(sortable=True),
                        places=KEYWORD(commas=True))
        where.mkdir(parents=True)
        writer = whoosh_index.create_in(str(where), schema).writer()
        for record in read_records(corpus):
            moment = parse_date(record.get("date") or "")
            writer.add_document(id=record["id"], title=record.get("title") or "", body=record.get("body") or "",
                                **({"date": moment} if moment else {}), places=(record.get("dateline") or "").split(",")[0].strip())
        writer.commit()
    ix = whoosh_index.open_dir(str(where))
    searcher = ix.searcher()
    parser = MultifieldParser(["title", "body"], ix.schema, group=OrGroup)
    some = iter(list(range(0, min(searcher.doc_count(), 2000), 7)) * 10)

    def page(q: str, **options: Any) -> Any:
        hits = searcher.search(parser.parse(q), limit=10, **options)
        return [hit.highlights("body") for hit in hits]

    return {
        "search": lambda q: page(q),
        "facets": lambda q: page(q, groupedby={"places": sorting.FieldFacet("places", allow_overlap=True, maptype=sorting.Count)}),
        "sort newest": lambda q: page(q, sortedby="date", reverse=True),
        "more like": lambda q: searcher.more_like(next(some), "body", top=10),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--sizes", default="reuters")
    parser.add_argument("--queries", type=int, default=150)
    parser.add_argument("--no-whoosh", action="store_true")
    args = parser.parse_args()
    inputs = queries(args.data / "queries-msmarco.tsv.gz", args.queries)
    for size in args.sizes.split(","):
        with tempfile.TemporaryDirectory() as work:
            if size == "reuters":
                corpus = args.data / "reuters21578.jsonl.gz"
            else:
                corpus = Path(work) / "corpus.jsonl"
                write_corpus(args.data, int(size), corpus)
            searchlib.build(corpus, Path(work) / "index", jobs=2)
            with searchlib.Index.open(Path(work) / "index") as index:
                ids = [hit.id for hit in index.search("oil prices", limit=30, match="any").hits]
                figures = {name: timed(call, inputs) for name, call in searchlib_calls(index, ids).items()}
                count = index.article_count
            peers = {} if args.no_whoosh else {name: timed(call, inputs) for name, call in whoosh_calls(Path(work) / "whoosh", corpus).items()}
            base = figures["search"][0]
            print(f"\n### {size}: {count:,} articles, {len(inputs)} queries, warm\n")
            print("| call | p50, ms | p95, ms | p50 / search | target | plain Whoosh p50, ms |")
            print("| --- | ---: | ---: | ---: | ---: | ---: |")
            for name, (p50, p95) in figures.items():
                target = TARGETS.get(name)
                mark = "" if target is None or name == "search" else (" met" if p50 / base <= target else " NOT met")
                peer = f"{peers[name][0] * 1000:.1f}" if name in peers else ""
                print(f"| `{name}` | {p50 * 1000:.1f} | {p95 * 1000:.1f} | {p50 / base:.2f}x | "
                      f"{'' if target is None else f'{target}x'}{mark} | {peer} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
