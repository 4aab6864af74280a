"""One entity, one name across a corpus: a table of the names articles give the same entity.

One article names the U.S. Department of Agriculture "U.S. Agriculture Department", the next
"Agriculture Department", a third "USDA"; one names "Ronald Reagan", the next only "Reagan".
The extractor resolves short mentions within an article; across articles this module does, from
how many articles of the corpus give each name, so that facets and filters count one entity once.

The table is built from counts alone, ``(kind, name) -> number of articles``, which can be added
for new articles and subtracted for removed ones (a ``collections.Counter``): an update keeps the
counts of its generation and rebuilds the table from them, in one pass over the distinct names.
The rules, per kind:

* **person**: the spellings of one full name are one person ("Paul A. Volcker", "Paul Volcker":
  the same first and last word); a lone surname is the full name it ends when the corpus
  supports it: that full name is given by at least ``min_support`` articles and by at least
  ``dominance`` times as many as any other full name with that surname ("Reagan" -> "Ronald
  Reagan"; "Baker" stays, with James Baker and Howard Baker both often named).
* **organization**: names of the same words, in any order and spelling of "-isation", are one
  ("Agriculture Department", "Department of Agriculture"), also with a place before them
  ("U.S. Agriculture Department") when only one place is ever put before them (not "Foreign
  Ministry", which is France's in one article and Japan's in the next); an acronym is the
  organisation whose initials spell it ("USDA": U.S. Department of Agriculture, or its letters
  in another order for four or more; "OECD", "GATT"), with the same support and dominance.
* **place**: the extractor already gives every place its canonical name (``canonical_place``).

The canonical name of an entity is its most named full form: a full name before a surname, a
name before its acronym, then the most articles, a name without a typo's capitals ("Martin
PRocessing"), the longer name, the first in alphabetical order. The table is the same for the same counts, whatever their order.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs

from .models import Entity

__all__ = ["AliasTable", "count_names"]

FORMAT_VERSION = 1
# Words left out of an organisation's key and initials: "Department of Agriculture" is D, A.
_MINOR_WORDS = frozenset({"of", "the", "for", "and", "&", "on", "in", "de", "du", "la", "le", "des", "to"})
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_ACRONYM = re.compile(r"^(?:[A-Z][A-Z&]{1,7}|(?:[A-Z]\.){2,8})$")


def count_names(entity_lists: Iterable[Iterable[Entity]]) -> Counter[tuple[str, str]]:
    """How many articles give each ``(kind, name)``, from the entities of each article.

    Example:
        >>> count_names([[Entity("USDA", "organization")], [Entity("USDA", "organization")]])
        Counter({('organization', 'USDA'): 2})
    """
    counts: Counter[tuple[str, str]] = Counter()
    for entities in entity_lists:
        counts.update({(entity.kind, entity.name) for entity in entities})
    return counts


@attrs.frozen
class AliasTable:
    """Maps each variant name of an entity to its one canonical name, per kind.

    Build it with ``AliasTable.build(counts)``; ``canonical(name, kind)`` gives the name to
    show and count, ``aliases(name, kind)`` every name of the same entity (for filters).
    """

    # kind -> variant -> canonical name; names that are their own canonical name are left out
    variants: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict)
    _members: dict[tuple[str, str], tuple[str, ...]] = attrs.field(init=False, repr=False, eq=False)
    _folded: dict[tuple[str, str], str] = attrs.field(init=False, repr=False, eq=False)  # (kind, casefolded name) -> canonical

    def __attrs_post_init__(self) -> None:
        members: dict[tuple[str, str], list[str]] = defaultdict(list)
        for kind, table in self.variants.items():
            for variant, canonical in table.items():
                members[(kind, canonical)].append(variant)
        object.__setattr__(
            self, "_members", {key: tuple(sorted({key[1], *names})) for key, names in members.items()}
        )
        folded = {(kind, name.casefold()): canonical for (kind, canonical), names in self._members.items() for name in names}
        object.__setattr__(self, "_folded", folded)

    @classmethod
    def build(
        cls, counts: Mapping[tuple[str, str], int], *, min_support: int = 2, dominance: float = 10.0
    ) -> AliasTable:
        """The alias table of a corpus from its name counts (see ``count_names``).

        Args:
            counts: ``(kind, name) -> number of articles``; names counted zero or less are left out.
            min_support: the fewest articles that must give a full name for a surname or an
                acronym to stand for it.
            dominance: how many times more articles than any other candidate the chosen full
                name must have.
        """
        by_kind: dict[str, dict[str, int]] = defaultdict(dict)
        for (kind, name), count in counts.items():
            if count > 0:
                by_kind[kind][name] = count
        variants: dict[str, dict[str, str]] = {}
        for kind, names in sorted(by_kind.items()):
            if kind == "person":
                groups = _people(names, min_support, dominance)
            elif kind == "organization":
                groups = _organizations(names, min_support, dominance)
            else:
                continue
            table = {}
            for group in groups:
                canonical = max(group, key=lambda name: (_is_full(name, kind), names[name], _well_cased(name), len(name), _reverse(name)))
                table.update({name: canonical for name in group if name != canonical})
            if table:
                variants[kind] = dict(sorted(table.items()))
        return cls(variants)

    def canonical(self, name: str, kind: str) -> str:
        """The canonical name of ``name``: itself when it has no other."""
        return self.variants.get(kind, {}).get(name, name)

    def aliases(self, name: str, kind: str) -> tuple[str, ...]:
        """Every name of the entity ``name`` stands for, its canonical name included, sorted."""
        canonical = self.canonical(name, kind)
        return self._members.get((kind, canonical), (canonical,))

    def typed(self, name: str, kind: str) -> tuple[str, ...]:
        """``aliases`` of a name as a person types it, in any case ("usda"); the name alone when
        the table knows it not."""
        canonical = self._folded.get((kind, name.casefold()))
        return (name,) if canonical is None else self._members[(kind, canonical)]

    def groups(self) -> dict[str, dict[str, tuple[str, ...]]]:
        """Each kind's entities that have other names: the canonical name, then the others."""
        grouped: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
        for (kind, canonical), names in sorted(self._members.items()):
            grouped[kind][canonical] = tuple(name for name in names if name != canonical)
        return dict(grouped)

    def __len__(self) -> int:
        return sum(len(table) for table in self.variants.values())

    def to_json(self) -> str:
        return json.dumps({"version": FORMAT_VERSION, "variants": self.variants}, ensure_ascii=False, sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> AliasTable:
        data = json.loads(text)
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"alias table format {data.get('version')!r}, expected {FORMAT_VERSION}")
        return cls({kind: dict(table) for kind, table in data["variants"].items()})

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> AliasTable:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def _reverse(name: str) -> tuple[int, ...]:
    """Sorts names in reverse alphabetical order under ``max``: the first alphabetically wins."""
    return tuple(-ord(c) for c in name)


def _well_cased(name: str) -> bool:
    """Not "Martin PRocessing", "U.S. AGriculture Department": a typo's capitals."""
    return not any(len(w) > 2 and w[0].isupper() and w[1].isupper() and any(c.islower() for c in w) for w in name.split())


def _is_full(name: str, kind: str) -> bool:
    """A full name ("Ronald Reagan"), not a surname; a name, not its acronym ("USDA")."""
    return " " in name if kind == "person" else not _ACRONYM.match(name)


def _dominant(candidates: Mapping[int, int], min_support: int, dominance: float) -> int | None:
    """The one candidate (group number -> articles) the corpus supports, if there is one."""
    if not candidates:
        return None
    ranked = sorted(candidates.items(), key=lambda item: (-item[1], item[0]))
    best, count = ranked[0]
    if count < min_support or (len(ranked) > 1 and count < dominance * ranked[1][1]):
        return None
    return best


# People -----------------------------------------------------------------------------------------


def _people(names: Mapping[str, int], min_support: int, dominance: float) -> list[list[str]]:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    surnames: list[str] = []
    for name in sorted(names):
        words = [w for w in name.split() if w.lower() not in _SUFFIXES]
        if len(words) >= 2:
            groups[(words[0].lower(), words[-1].lower())].append(name)
        elif words:
            surnames.append(name)
    keys = sorted(groups)
    by_surname: dict[str, dict[int, int]] = defaultdict(dict)
    for number, key in enumerate(keys):
        by_surname[key[1]][number] = sum(names[name] for name in groups[key])
    merged = [list(groups[key]) for key in keys]
    for surname in surnames:
        found = _dominant(by_surname.get(surname.lower(), {}), min_support, dominance)
        if found is not None:
            merged[found].append(surname)
    return [group for group in merged if len(group) > 1]


# Organisations ----------------------------------------------------------------------------------


def _organizations(names: Mapping[str, int], min_support: int, dominance: float) -> list[list[str]]:
    # Names of the same words, and the places put before them.
    by_words: dict[tuple[str, ...], dict[str | None, list[str]]] = defaultdict(lambda: defaultdict(list))
    acronyms: list[str] = []
    place_words: dict[str, int] = {}  # how many words of a name name the place before it
    for name in sorted(names):
        if _ACRONYM.match(name):
            if "." not in name or len(name) > 4:  # not "A.D.", "J.P.": a person's initials as often
                acronyms.append(name)
            continue
        place, words = _place_and_words(name)
        place_words[name] = _place_length(name) if place else 0
        if words:
            by_words[tuple(sorted(words))][place].append(name)
    groups: list[list[str]] = []
    for _, by_place in sorted(by_words.items()):
        places = sorted(p for p in by_place if p is not None)
        if None in by_place and places:  # "Agriculture Department" is the U.S. one, if the corpus says so
            totals = {number: sum(names[name] for name in by_place[place]) for number, place in enumerate(places)}
            found = _dominant(totals, min_support, dominance)
            if found is not None:
                by_place[places[found]] += by_place.pop(None)
        groups.extend(group for _, group in sorted(by_place.items(), key=lambda item: item[0] or ""))
    # Acronyms: the group whose names' initials spell it.
    by_initials: dict[str, dict[int, int]] = defaultdict(dict)
    for number, group in enumerate(groups):
        total = sum(names[name] for name in group)
        for spelled in {spelling for name in group for spelling in _initials(name, place_words[name])}:
            by_initials[spelled][number] = total
    for acronym in acronyms:
        letters = acronym.replace(".", "")
        candidates = dict(by_initials.get(letters, {}))
        if len(letters) >= 4:
            for number, total in by_initials.get("".join(sorted(letters)) + "~", {}).items():
                candidates.setdefault(number, total)
        found = _dominant(candidates, min_support, dominance)
        if found is None:
            groups.append([acronym])
        else:
            groups[found].append(acronym)
    return [group for group in groups if len(group) > 1]


def _place_and_words(name: str) -> tuple[str | None, list[str]]:
    """The canonical place put before an organisation's name, if any, and the name's other words
    as its key: lower case, "-isation" spelt "-ization", no hyphens ("Co-operation"), minor words
    left out."""
    words = name.split()
    length = _place_length(name)
    place = _canonical_place(" ".join(words[:length])) if length else None
    words = words[length:]
    key = [w.lower().replace("isation", "ization").replace("-", "").strip(".,'") for w in words]
    return place, [w for w in key if w and w not in _MINOR_WORDS]


def _place_length(name: str) -> int:
    """How many of the first words of an organisation's name name a place ("U.S.", "West German")."""
    words = name.split()
    for length in (2, 1):
        if len(words) > length and _canonical_place(" ".join(words[:length])):
            return length
    return 0


def _initials(name: str, place_words: int) -> set[str]:
    """The acronyms a name may be written as: its words' initials, an abbreviation's letters
    ("U.S." is US), with and without the place before it (``place_words`` long), and (marked
    "~") its letters sorted."""
    words = name.split()
    words = words[:place_words] + [w for w in words[place_words:] if w.lower() not in _MINOR_WORDS]
    spelled = set()
    for start in {0, place_words}:
        letters = "".join(w.replace(".", "") if w.endswith(".") and w.isupper() else w[0] for w in words[start:])
        letters = letters.upper()
        if len(letters) >= 2:
            spelled.add(letters)
            if len(letters) >= 4:
                spelled.add("".join(sorted(letters)) + "~")
    return spelled


def _canonical_place(name: str) -> str | None:
    """``gazetteers.canonical_place``, imported when a table is built: a search only loads one."""
    from .gazetteers import canonical_place

    return canonical_place(name)
