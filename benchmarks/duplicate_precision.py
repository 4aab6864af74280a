"""Near-duplicate detection on Reuters-21578: how many stories it folds, how fast, and its
precision on labelled pairs.

The pairs in ``benchmarks/duplicates/pairs.jsonl`` were drawn at random from the pairs the
detector put in one story (each article with its story's first article) and labelled by reading
both texts: ``same`` is true when they report the same story (a repeat, a correction, a re-post
with small edits), false when they are different stories that merely share wording (two monthly
reports written to one template, say). Sample A (seed 7) was drawn before the date window was
added, sample B (seed 8) after; precision is counted over the labelled pairs the detector still
folds. ``--sample N --seed S`` prints a fresh sample to label.

Usage:
    python benchmarks/duplicate_precision.py [--data ../shared/data] [--sample N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

from searchlib.corpus import parse_date
from searchlib.duplicates import THRESHOLD, WINDOW, DuplicateFinder

HERE = Path(__file__).resolve().parent
LABELS = HERE / "duplicates" / "pairs.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--sample", type=int, default=0, metavar="N", help="print N pairs to label, then stop")
    parser.add_argument("--seed", type=int, default=8, help="random seed of --sample")
    args = parser.parse_args()
    corpus = args.data / "reuters21578.jsonl.gz"
    if not corpus.exists():
        print(f"needs {corpus}; pass --data", file=sys.stderr)
        return 2
    records = {r["id"]: r for r in map(json.loads, gzip.open(corpus, "rt", encoding="utf-8"))}
    finder = DuplicateFinder()
    started = time.perf_counter()
    story = {
        article_id: finder.story(article_id, f"{r['title']}\n{r['body']}", parse_date(r.get("date") or ""))
        for article_id, r in records.items()
    }
    seconds = time.perf_counter() - started
    sizes = Counter(story.values())
    pairs = sorted((first, article) for article, first in story.items() if article != first)
    print(f"{len(records):,} articles, {len(sizes):,} stories; {sum(1 for n in sizes.values() if n > 1):,} stories "
          f"of two or more articles hold {sum(n for n in sizes.values() if n > 1):,} articles ({len(pairs):,} pairs)")
    print(f"detection: {seconds:.1f} s, {len(records) / seconds:,.0f} articles/s (threshold {THRESHOLD}, window {WINDOW.days} days)")
    if args.sample:
        for first, other in random.Random(args.seed).sample(pairs, args.sample):
            for article_id in (first, other):
                r = records[article_id]
                print(f"--- {article_id} | {r['date']} | {r['title']}\n{r['body'][:400]}")
            print("=" * 60)
        return 0
    labels = [json.loads(line) for line in LABELS.open()]
    for sample in sorted({label["sample"] for label in labels}):
        drawn = [label for label in labels if label["sample"] == sample]
        folded = [label for label in drawn if story[label["b"]] == story[label["a"]]]
        same = sum(label["same"] for label in folded)
        print(f"sample {sample}: {len(drawn)} labelled pairs, {len(folded)} still folded, "
              f"of which {same} are the same story: precision {same / max(len(folded), 1):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
