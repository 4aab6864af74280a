"""Entity extraction: precision, recall and F1 per kind on labelled sets, and speed.

Three labelled sets. The public one is the CoNLL-2003 English development set
(``../shared/data/conll2003-dev/docs.jsonl``: 216 Reuters documents of 1996 with their gold
people, organisations and places), scored exactly as that folder's README defines, so that the
figures compare with the peers measured there: per document, the distinct names of each kind;
names lower-cased, whitespace collapsed, a leading "the", a trailing "'s" and surrounding
punctuation removed; two places equal when ``canonical_place`` maps both to the same place; a
gold name also found when it is a short form (a contiguous whole-word part, or the acronym of
its words other than "of", "and", ...) of a gold name of the same document and kind that was
predicted; counts summed over all documents (micro-averaged).

The team's own sets are referenced by id (the texts stay in ../shared/data): the development set
``benchmarks/entities/annotations.jsonl`` (the seed article and 59 Reuters-21578 articles), on
whose errors the rules were tuned, and the held-out set ``benchmarks/entities/heldout.jsonl``
(20 more Reuters articles, labelled after the rules were written; BENCHMARKS.md says how it
was used). Each line lists, per kind, the distinct entities a careful reader finds in the
article body; ``A|B`` gives accepted spellings of one entity. Matching ignores case, a leading
"the" and legal forms (Inc, Corp, Co, Ltd, ...), places are equal when ``canonical_place`` maps
both to the same place (as in the CoNLL scoring), and each labelled entity can be matched once: a
second name for the same entity (an unresolved short mention) counts as a false positive.

Speed is documents a second of CPU time in one process (one core): on the CoNLL documents (the
best of five passes) and on the Reuters-21578 bodies, beside searchlib's own text analysis of the same
texts as a peer run in the same process (the machine is shared, so the ratio is steadier than
either figure).

The alias table (``searchlib.aliases``) is measured on all Reuters-21578 articles: for a few
entities, how many distinct facet values (names) the corpus gives them, without and with it.

Usage:
    python benchmarks/entity_quality.py [--data ../shared/data] [--ner rules,spacy] [--errors] [--speed N] [--no-aliases]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import searchlib
from searchlib.analysis import news_analyzer
from searchlib.entities import canonical_place

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KINDS = ("person", "organization", "place")
LABELLED_SETS = (
    ("Development set (the rules were tuned while reading its errors)", "annotations.jsonl"),
    ("Held-out set (labelled after the rules were written; see BENCHMARKS.md)", "heldout.jsonl"),
)
CONLL = Path("conll2003-dev") / "docs.jsonl"
Extract = Callable[[str], Iterable[searchlib.Entity]]


# The team's labelled Reuters sets ---------------------------------------------------------------

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


def score(annotations: list[dict], texts: dict[str, str], extract: Extract, show_errors: bool) -> dict[str, Counter]:
    counts = {kind: Counter() for kind in KINDS}
    for labels in annotations:
        found = list(extract(texts[labels["id"]]))
        for kind in KINDS:
            gold = [{_same_as(normalise(a), kind) for a in entry.split("|")} for entry in labels[kind]]
            matched = [False] * len(gold)
            false_positives = []
            for entity in (e for e in found if e.kind == kind):
                name = _same_as(normalise(entity.name), kind)
                hit = next((i for i, g in enumerate(gold) if name in g and not matched[i]), None)
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


# CoNLL-2003, scored as ../shared/data/README.md defines -----------------------------------------

_NOT_IN_ACRONYMS = frozenset({"of", "and", "for", "the", "de", "&", "in", "on", "a"})


def conll_name(name: str) -> str:
    """A name as the CoNLL scoring compares it: lower case, whitespace collapsed, no leading "the",
    trailing "'s" or surrounding punctuation."""
    name = " ".join(name.lower().replace("’", "'").split())
    name = re.sub(r"^the ", "", name)
    name = re.sub(r"'s$", "", name)
    return name.strip(" .,;:!?\"'()[]{}-")


def _same_as(name: str, kind: str) -> str:
    """What a name is compared by: places by their canonical place, when the gazetteer knows it."""
    if kind == "place":
        place = canonical_place(name)
        if place:
            return "@" + place.lower()
    return name


def _is_short_form(short: str, full: str) -> bool:
    """ "clinton" of "bill clinton" (a contiguous whole-word part), "oecd" of "organisation for
    economic cooperation and development" (the acronym of its words but "of", "and", ...)."""
    part, whole = short.split(), full.split()
    if len(part) < len(whole) and any(whole[i : i + len(part)] == part for i in range(len(whole) - len(part) + 1)):
        return True
    initials = "".join(w[0] for w in whole if w not in _NOT_IN_ACRONYMS and w[0].isalnum())
    return len(whole) > 1 and short.replace(".", "") == initials


def score_conll(docs: list[dict], extract: Extract, errors: list[str] | None = None) -> dict[str, Counter]:
    """Per kind: ``predicted``, ``right`` (predicted names equal to a gold one), ``gold`` and
    ``found`` (gold names predicted, or short forms of gold names predicted), summed over documents."""
    counts = {kind: Counter() for kind in KINDS}
    for doc in docs:
        found = list(extract(doc["text"]))
        for kind in KINDS:
            gold = {conll_name(e["name"]) for e in doc["entities"] if e["kind"] == kind} - {""}
            predicted = {conll_name(e.name) for e in found if e.kind == kind} - {""}
            gold_keys = {_same_as(g, kind) for g in gold}
            predicted_keys = {_same_as(p, kind) for p in predicted}
            right = {p for p in predicted if _same_as(p, kind) in gold_keys}
            matched = {g for g in gold if _same_as(g, kind) in predicted_keys}
            short = {g for g in gold - matched if any(_is_short_form(g, m) for m in matched)}
            counts[kind].update(predicted=len(predicted), right=len(right), gold=len(gold), found=len(matched | short))
            if errors is not None and (predicted - right or gold - matched - short):
                errors.append(f"{doc['id']} {kind}: extra {sorted(predicted - right)} missed {sorted(gold - matched - short)}")
    return counts


def report_conll(results: dict[str, tuple[dict[str, Counter], float]], documents: int) -> None:
    print(f"CoNLL-2003 English dev ({documents} documents), scored as ../shared/data/README.md defines:")
    names = list(results)
    print("| kind | " + " | ".join(f"`{name}` P / R / F1" for name in names) + " |")
    print("| --- |" + " --- |" * len(names))
    for kind in KINDS:
        cells = []
        for name in names:
            c = results[name][0][kind]
            precision = c["right"] / max(c["predicted"], 1)
            recall = c["found"] / max(c["gold"], 1)
            f1 = 2 * precision * recall / max(precision + recall, 1e-9)
            cells.append(f"{precision:.3f} / {recall:.3f} / **{f1:.3f}**")
        print(f"| {kind} | " + " | ".join(cells) + " |")
    print("| documents a second, one core | " + " | ".join(f"{results[n][1]:,.0f}" for n in names) + " |")


def documents_per_second(extract: Extract, texts: list[str], passes: int) -> float:
    """The best of ``passes`` runs over ``texts``, in CPU time: the machine is shared, and the
    best run is the one least disturbed by others."""
    best = float("inf")
    for _ in range(passes):
        started = time.process_time()
        for text in texts:
            extract(text)
        best = min(best, time.process_time() - started)
    return len(texts) / best


# Speed on Reuters -------------------------------------------------------------------------------


def report_speed(texts: list[str]) -> None:
    searchlib.extract_entities("Warm up the gazetteers in Moscow.")
    started = time.process_time()
    for text in texts:
        searchlib.extract_entities(text)
    extraction = time.process_time() - started
    analyzer = news_analyzer()
    started = time.process_time()
    for text in texts:
        for _ in analyzer(text):
            pass
    analysis = time.process_time() - started
    print(f"\nSpeed on {len(texts):,} Reuters articles, one process (one core), CPU time:")
    print("| step | seconds | articles/s |")
    print("| --- | ---: | ---: |")
    print(f"| entity extraction (`rules`) | {extraction:.2f} | {len(texts) / extraction:,.0f} |")
    print(f"| analysis of the same text (peer) | {analysis:.2f} | {len(texts) / analysis:,.0f} |")
    print(f"extraction / analysis time: {extraction / analysis:.2f}x")


# One entity, one name across the corpus ------------------------------------------------------------

# Entities of Reuters-21578 and the names the extractor gives them (a name is counted when it
# matches; the alias table should give them one value in facets).
ALIAS_PROBES = (
    ("organization", "USDA", r"^(USDA|(U\.S\. )?(Agriculture Department|Department of Agriculture))$"),
    ("organization", "OECD", r"^(OECD|Organi[sz]ation (for|of) Economic Co-?operation and Development)$"),
    ("organization", "GATT", r"^(GATT|General Agreement (on|of) (Tariffs and Trade|Trade and Tariffs))$"),
    ("organization", "EC", r"^(EC|European Community)$"),
    ("organization", "SEC", r"^(SEC|(U\.S\. )?Securities and Exchange Commission)$"),
    ("organization", "Fed", r"^(Fed|(U\.S\. )?Federal Reserve( Board)?)$"),
    ("person", "Reagan", r"^((President )?Ronald (W\. )?)?Reagan$"),
    ("person", "Volcker", r"^(Paul (A\. )?)?Volcker$"),
    ("person", "James Baker", r"^(James (A\. )?)?Baker$"),
    ("person", "Yeutter", r"^(Clayton (K\. )?)?Yeutter$"),
)


def report_aliases(texts: list[str]) -> None:
    """Distinct facet values for the same entity on Reuters-21578, without and with the alias table."""
    from searchlib.aliases import AliasTable, count_names

    counts = count_names(searchlib.extract_entities(text) for text in texts)
    started = time.process_time()
    table = AliasTable.build(counts)
    seconds = time.process_time() - started
    print(f"\nOne entity, one name: the alias table of {len(texts):,} Reuters articles ({len(counts):,} distinct names,")
    print(f"{len(table):,} of them aliases), built from the counts in {seconds:.2f} s CPU:")
    print("| entity | kind | facet values before | after | articles under its top value before | after |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for kind, entity, pattern in ALIAS_PROBES:
        names = {name: count for (k, name), count in counts.items() if k == kind and re.match(pattern, name)}
        after = Counter()
        for name, count in names.items():
            after[table.canonical(name, kind)] += count  # an article naming two variants counts twice here
        top_before = max(names.values(), default=0)
        top_after = max(after.values(), default=0)
        print(f"| {entity} | {kind} | {len(names)} | {len(after)} | {top_before} | {top_after} |")
    print("(values: the distinct names matching the entity; articles: summed per name, so an article that")
    print("names two variants counts twice under the top value after)")


def available_extractors(names: list[str]) -> dict[str, Extract]:
    chosen = {}
    for name in names:
        try:
            chosen[name] = searchlib.entity_extractor(name)
        except searchlib.NerBackendError as error:
            print(f"`{name}` not measured: {error}", file=sys.stderr)
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--ner", default="rules,spacy", help="extractors to score, comma-separated; those not installed are skipped (default: rules,spacy)")
    parser.add_argument("--errors", action="store_true", help="list the false positives and misses")
    parser.add_argument("--speed", type=int, default=20841, metavar="N", help="Reuters articles for the speed run (0: none)")
    parser.add_argument("--no-aliases", action="store_true", help="skip the alias table's run over all Reuters articles")
    args = parser.parse_args()
    if not (args.data / "reuters21578.jsonl.gz").exists() or not (args.data / CONLL).exists():
        print(f"needs {args.data / 'reuters21578.jsonl.gz'} and {args.data / CONLL}; pass --data", file=sys.stderr)
        return 2
    extractors = available_extractors(args.ner.split(","))
    docs = [json.loads(line) for line in (args.data / CONLL).open(encoding="utf-8")]
    results = {}
    for name, extract in extractors.items():
        extract("Warm up the gazetteers and models in Moscow.")
        errors: list[str] | None = [] if args.errors else None
        counts = score_conll(docs, extract, errors)
        passes = 5 if name in ("rules",) else 1
        results[name] = (counts, documents_per_second(extract, [d["text"] for d in docs], passes))
        for line in errors or ():
            print(f"[{name}] {line}")
    print()
    report_conll(results, len(docs))
    texts = load_texts(args.data)
    for title, file in LABELLED_SETS:
        annotations = [json.loads(line) for line in (HERE / "entities" / file).open()]
        for name, extract in extractors.items():
            print(f"\n{title}, `{name}`:")
            report_quality(score(annotations, texts, extract, args.errors), len(annotations))
    reuters = [t for k, t in texts.items() if not k.startswith("seed:")]
    if args.speed:
        report_speed(reuters[: args.speed])
    if not args.no_aliases:
        report_aliases(reuters)
    return 0


if __name__ == "__main__":
    sys.exit(main())
