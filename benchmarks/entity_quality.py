"""Entity extraction: precision, recall and F1 per kind on a labelled set, and speed.

Two labelled sets, referenced by id (the texts stay in ../shared/data): the development set
``benchmarks/entities/annotations.jsonl`` (the seed article and 59 Reuters-21578 articles), on
whose errors the rules were tuned, and the held-out set ``benchmarks/entities/heldout.jsonl``
(20 more Reuters articles, labelled after the rules were written; BENCHMARKS.md says how it
was used). Each line lists, per kind, the distinct entities a careful reader finds in the
article body; ``A|B`` gives accepted spellings of one entity. Matching ignores case, a leading "the" and legal forms (Inc, Corp, Co, Ltd, ...),
and each labelled entity can be matched once: a second name for the same entity (an unresolved
short mention) counts as a false positive.

Usage:
    python benchmarks/entity_quality.py [--data ../shared/data] [--errors] [--speed N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import searchlib
from searchlib.analysis import news_analyzer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KINDS = ("person", "organization", "place")
LABELLED_SETS = (
    ("Development set (the rules were tuned while reading its errors)", "annotations.jsonl"),
    ("Held-out set (labelled after the rules were written; see BENCHMARKS.md)", "heldout.jsonl"),
)


LEGAL_FORMS = re.compile(
    r"(,? (inc|corp|co|ltd|plc|sa|ag|nv|lp|l\.p|llc|gmbh|spa|and co|& co|corporation|company|incorporated|limited)\.?)+$"
)


def normalise(name: str) -> str:
    """Compare names ignoring case, a leading "the" and a trailing legal form ("Inc", "and Co")."""
    name = re.sub(r"\s+", " ", name.strip().casefold().replace("’", "'"))
    name = re.sub(r"^the ", "", name)
    return LEGAL_FORMS.sub("", name) or name


def load_texts(data: Path) -> dict[str, str]:
    texts = {}
    for article in searchlib.read_corpus(ROOT / "corpus"):
        texts[f"seed:{article.id}"] = f"{article.caption}\n\n{article.body}"
    with gzip.open(data / "reuters21578.jsonl.gz", "rt", encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            texts[record["id"]] = record["body"]
    return texts


def score(annotations: list[dict], texts: dict[str, str], show_errors: bool) -> dict[str, Counter]:
    counts = {kind: Counter() for kind in KINDS}
    for labels in annotations:
        found = searchlib.extract_entities(texts[labels["id"]])
        for kind in KINDS:
            gold = [{normalise(a) for a in entry.split("|")} for entry in labels[kind]]
            matched = [False] * len(gold)
            false_positives = []
            for entity in (e for e in found if e.kind == kind):
                hit = next((i for i, g in enumerate(gold) if normalise(entity.name) in g and not matched[i]), None)
                if hit is None:
                    false_positives.append(entity.name)
                else:
                    matched[hit] = True
            missed = [labels[kind][i] for i, m in enumerate(matched) if not m]
            counts[kind].update(tp=sum(matched), fp=len(false_positives), fn=len(missed))
            if show_errors and (false_positives or missed):
                print(f"{labels['id']} {kind}: extra {false_positives} missed {missed}")
    return counts


def report_quality(counts: dict[str, Counter], articles: int) -> None:
    print(f"Entity extraction quality on {articles} labelled articles")
    print("| kind | labelled | found | precision | recall | F1 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for kind in KINDS:
        c = counts[kind]
        precision = c["tp"] / max(c["tp"] + c["fp"], 1)
        recall = c["tp"] / max(c["tp"] + c["fn"], 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        print(f"| {kind} | {c['tp'] + c['fn']} | {c['tp'] + c['fp']} | {precision:.3f} | {recall:.3f} | {f1:.3f} |")


def report_speed(texts: list[str]) -> None:
    searchlib.extract_entities("Warm up the gazetteers in Moscow.")
    started = time.perf_counter()
    for text in texts:
        searchlib.extract_entities(text)
    extraction = time.perf_counter() - started
    analyzer = news_analyzer()
    started = time.perf_counter()
    for text in texts:
        for _ in analyzer(text):
            pass
    analysis = time.perf_counter() - started
    print(f"\nSpeed on {len(texts):,} Reuters articles, one process (one core):")
    print("| step | seconds | articles/s |")
    print("| --- | ---: | ---: |")
    print(f"| entity extraction | {extraction:.2f} | {len(texts) / extraction:,.0f} |")
    print(f"| analysis of the same text (peer) | {analysis:.2f} | {len(texts) / analysis:,.0f} |")
    print(f"extraction / analysis time: {extraction / analysis:.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--errors", action="store_true", help="list the false positives and misses")
    parser.add_argument("--speed", type=int, default=20841, metavar="N", help="articles for the speed run (0: none)")
    args = parser.parse_args()
    if not (args.data / "reuters21578.jsonl.gz").exists():
        print(f"needs {args.data / 'reuters21578.jsonl.gz'}; pass --data", file=sys.stderr)
        return 2
    texts = load_texts(args.data)
    for title, file in LABELLED_SETS:
        annotations = [json.loads(line) for line in (HERE / "entities" / file).open()]
        print(f"\n{title}:")
        report_quality(score(annotations, texts, args.errors), len(annotations))
    if args.speed:
        report_speed([t for k, t in texts.items() if not k.startswith("seed:")][: args.speed])
    return 0


if __name__ == "__main__":
    sys.exit(main())
