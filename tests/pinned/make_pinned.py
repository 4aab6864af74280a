"""Writes tests/pinned/results.json: what searches, facets, date orders, filters, timelines,
more-like-this and explain give on a fixed corpus (tests/test_pinned_results.py compares).

Run it only for a deliberate change of results, and say why in the commit:
    python tests/pinned/make_pinned.py
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

import searchlib  # noqa: E402

WORDS = ("grain wheat export harbour strike minister bank rates oil price tanker frost coffee cocoa "
         "election rebel border treaty airline merger steel union court ruling drought harvest").split()
SENTENCES = [
    "President Ronald Reagan met Chancellor Helmut Kohl in Bonn.",
    "Prime Minister Yasuhiro Nakasone visited Washington.",
    "The International Monetary Fund said Brazil must cut spending.",
    "Officials of the European Community met in Brussels.",
    "Paul Volcker of the Federal Reserve spoke in New York.",
    "OPEC ministers gathered in Vienna to discuss oil output.",
    "General Motors Corp said sales in Canada fell.",
    "The World Bank lent money to Mexico and Argentina.",
    "Finance Minister Gerhard Stoltenberg spoke in Frankfurt.",
    "Exxon Corp and Texaco Inc reported results in Houston.",
]
QUERIES = ["grain", "oil price", "harvest drought court", "frost coffee cocoa bank", "reagan", "strike union",
           "wheat export harbour tanker", "volcker rates"]


def corpus(path: Path) -> Path:
    rng = random.Random(20261130)
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    with path.open("w", encoding="utf-8") as stream:
        for number in range(300):
            body = []
            for _ in range(rng.randint(2, 6)):
                body.append(" ".join(rng.choices(WORDS, weights, k=rng.randint(4, 30))).capitalize() + ".")
                if rng.random() < 0.6:
                    body.append(rng.choice(SENTENCES))
            date = None if number % 17 == 0 else f"1987-{1 + number % 9:02d}-{1 + number % 27:02d}"
            title = " ".join(rng.choices(WORDS, weights, k=rng.randint(2, 5))).capitalize()
            record = {"id": f"p{number}", "title": title, "date": date, "body": " ".join(body)}
            stream.write(json.dumps(record) + "\n")
            if number % 10 == 0:  # a wire repeat: a story to fold
                stream.write(json.dumps({**record, "id": f"p{number}-copy"}) + "\n")
    return path


def hits(result: searchlib.SearchResult) -> list[Any]:
    return [[hit.id, round(hit.score, 6), sorted(hit.similar)] for hit in result.hits]


def facets(result: searchlib.SearchResult) -> dict[str, Any]:
    return {kind: [[v.name, v.count] for v in values] for kind, values in result.facets.items()}


def results(index: searchlib.Index, any_words: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for query in QUERIES:
        plain = index.search(query, limit=20, **any_words)
        found[f"search {query}"] = [plain.total, plain.stories, hits(plain)]
        found[f"page 2 {query}"] = hits(index.search(query, limit=7, page=2, **any_words))
        found[f"all copies {query}"] = hits(index.search(query, limit=20, fold_duplicates=False, **any_words))
        found[f"facets {query}"] = facets(index.search(query, facets=True, facet_limit=5, **any_words))
        for sort in ("newest", "oldest"):
            dated = index.search(query, sort=sort, limit=30, **any_words)
            found[f"{sort} {query}"] = [dated.total, [hit.id for hit in dated.hits]]
        filtered = index.search(query, since="1987-03", until="1987-06", place="Bonn", limit=20, **any_words)
        found[f"filtered {query}"] = [filtered.total, hits(filtered)]
        timeline = index.timeline(query, by="month", **any_words)
        found[f"timeline {query}"] = [timeline.total, timeline.undated, [[b.period, b.count] for b in timeline.buckets]]
        explained = index.search(query, explain=True, limit=3, **any_words)
        found[f"explain {query}"] = [[[p.field, p.term, p.weight, round(p.score, 6)] for p in hit.explanation]
                                     for hit in explained.hits]
    for article in ("p3", "p10", "p42"):
        like = index.more_like(article, limit=10)
        found[f"more like {article}"] = [like.total, hits(like)]
        found[f"more like facets {article}"] = facets(index.more_like(article, facets=True))
    return found


def pinned_results(any_words: dict[str, Any], *, preload: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as work:
        searchlib.build(corpus(Path(work) / "pinned.jsonl"), Path(work) / "index", jobs=1)
        # BM25 alone: these pin how searches work, not the ranking's defaults (tests/test_scoring.py).
        with searchlib.Index.open(Path(work) / "index", ranking=searchlib.Ranking(proximity=0), preload=preload) as index:
            return results(index, any_words)


if __name__ == "__main__":
    (HERE / "results.json").write_text(json.dumps(pinned_results({"match": "any"}), indent=1) + "\n", encoding="utf-8")
