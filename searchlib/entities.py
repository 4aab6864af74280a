"""Named-entity extraction: text in, the names of people, organisations and places out.

This first extractor is offline and needs no data: it reads runs of capitalised words and
acronyms, then throws out what capitals alone get wrong. A word capitalised only because it
starts a sentence counts only if the article also capitalises it elsewhere; job titles split a
run ("Tajik President Imomali Rakhmon" -> "Tajik", "Imomali Rakhmon"); weekdays, months and
function words are never names; an ALL-CAPS dateline ("DUSHANBE —") is read as a name; a
possessive is dropped ("Moscow's" -> "Moscow"); and a short mention resolves to the longer name
it belongs to ("Rakhmon" -> "Imomali Rakhmon"). It does not yet tell people from places.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from .models import Entity

__all__ = ["extract_entities"]

_NOT_NAMES = frozenset(
    """
    a about after again against all also although an and another any are as at be because been
    before being between both but by can could did do does during each either even every few for
    from had has have he her here hers him his how however i if in into is it its just last least
    less many may me meanwhile might more most much must my neither never next no nor not now of
    off on once one only or other our out over own per perhaps same several she should since so
    some still such than that the their them then there these they this those though through thus
    to today tomorrow too under unless until up upon us very was we were what whatever when where
    whether which while who whom whose why will with within without would yesterday yet you your
    monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december jan feb mar apr jun jul aug sep sept oct nov
    dec mr mrs ms dr st
    """.split()
)
_TITLES = frozenset(
    """
    president vice prime minister ministers secretary general gen chairman chairwoman chief
    executive director king queen prince princess senator sen rep representative governor gov
    mayor judge justice pope sheikh premier chancellor deputy spokesman spokeswoman ambassador
    commander colonel col lieutenant lt captain capt sergeant admiral officer leader
    foreign defense defence interior finance economy trade state former acting
    """.split()
)
_CONNECTORS = frozenset({"of", "the", "de", "du", "da", "del", "la", "le", "van", "von", "der", "bin", "al"})
_ADJECTIVE_ENDINGS = ("ian", "ist", "ists", "ish", "ese", "ern", "ians", "ic")

_WORD = re.compile(r"[^\W\d_][\w'’.\-]*|\S")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"”’)]*\s+|\n\s*\n")
_DATELINE = re.compile(r"^\s*([A-Z][A-Z .'\-]{2,}?)(?:,[^—\n]{0,30})?\s+[—–-]+\s")


def extract_entities(text: str) -> tuple[Entity, ...]:
    """The distinct names mentioned in ``text``, in order of first mention.

    Example:
        >>> [e.name for e in extract_entities("DUSHANBE — Tajik President Imomali Rakhmon said. Rakhmon left.")]
        ['Dushanbe', 'Tajik', 'Imomali Rakhmon']
    """
    runs: list[tuple[list[str], bool]] = []
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        dateline = _DATELINE.match(paragraph)
        if dateline:
            runs.append((dateline[1].strip().title().split(), False))
            paragraph = paragraph[dateline.end() :]
        for sentence in _SENTENCE_BREAK.split(paragraph):
            sentences.append(sentence)
            runs.extend(_runs_in_sentence(sentence))
    capitalised_inside = _capitalised_mid_sentence(sentences)
    names = []
    for run, sentence_initial in runs:
        if sentence_initial and not run[0].isupper() and run[0] not in capitalised_inside:
            # Capitalised perhaps only because it starts the sentence: "Shares" is dropped,
            # "Officials of the U.S." is "U.S.", but "Central Asia" stays whole.
            if len(run) == 1 or run[1] in _CONNECTORS:
                run = run[1:]
            while run and run[0] in _CONNECTORS:
                run = run[1:]
        name = _name(run)
        if name:
            names.append(name)
    return tuple(Entity(name) for name in _resolve_short_mentions(names))


_ACRONYM = re.compile(r"(?:[A-Z]\.){2,}")


def _clean(word: str) -> str:
    word = word.replace("’", "'")
    if _ACRONYM.fullmatch(word):
        return word
    word = word.rstrip(".-")
    return word[:-2] if word.endswith("'s") else word.rstrip("'")


def _is_capitalised(word: str) -> bool:
    if not word[:1].isupper():
        return False
    # "Soviet-era" is an adjective; "Al-Qaeda" and "Abu-Dhabi" are names.
    return "-" not in word or word.rsplit("-", 1)[1][:1].isupper()


def _runs_in_sentence(sentence: str) -> Iterator[tuple[list[str], bool]]:
    """Runs of capitalised words, each with whether it starts the sentence."""
    words = [m.group() for m in _WORD.finditer(sentence)]
    if sum(w.isupper() for w in words if len(w) > 1) > max(3, len(words) // 2):
        return  # an ALL-CAPS headline: capitals say nothing here
    first_word = next((i for i, w in enumerate(words) if w[:1].isalpha()), 0)
    run: list[str] = []
    start = 0
    for index, word in enumerate(words + ["."]):
        cleaned = _clean(word)
        lower = cleaned.lower()
        if _is_capitalised(cleaned) and lower not in _TITLES and (lower not in _NOT_NAMES or run):
            if not run:
                start = index
            run.append(cleaned)
            if cleaned != word.rstrip(".") and cleaned + "'s" == word.replace("’", "'"):
                yield from _trim(run, start == first_word)
                run = []
            continue
        if run and lower in _CONNECTORS and _connects(words, index + 1):
            run.append(lower)
            continue
        if run:
            yield from _trim(run, start == first_word)
            run = []


def _connects(words: list[str], index: int) -> bool:
    """Whether a connector ("of", "the") is followed, past other connectors, by a capitalised word."""
    while index < len(words) and words[index] in _CONNECTORS:
        index += 1
    return index < len(words) and _is_capitalised(_clean(words[index]))


def _trim(run: list[str], sentence_initial: bool) -> Iterator[tuple[list[str], bool]]:
    """Drop trailing connectors and function words, and a leading one that starts a sentence."""
    while run and (run[-1] in _CONNECTORS or run[-1].lower() in _NOT_NAMES):
        run = run[:-1]
    if run and sentence_initial and run[0].lower() in _NOT_NAMES:
        run, sentence_initial = run[1:], False
    if run:
        yield run, sentence_initial


def _name(run: list[str]) -> str | None:
    """The name a run spells, or None where it is no name."""
    if not run:
        return None
    name = " ".join(run)
    if len(run) == 1 and not name.isupper():
        if len(name) > 3 and name.lower().endswith(_ADJECTIVE_ENDINGS):
            return None  # a lone "Russian", "Islamist", "Western": an adjective, not a name
        if len(name) < 3 or "'" in name:
            return None  # "Co", "I'd"
    return name


def _capitalised_mid_sentence(sentences: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for sentence in sentences:
        words = [_clean(m.group()) for m in _WORD.finditer(sentence)]
        found.update(w for w in words[1:] if _is_capitalised(w))
    return found


def _resolve_short_mentions(names: Iterable[str]) -> list[str]:
    """Distinct names in order; a one-word name inside a longer one is that longer name."""
    ordered = list(dict.fromkeys(names))
    longer = [n for n in ordered if " " in n]
    resolved: list[str] = []
    for name in ordered:
        if " " not in name:
            name = next((full for full in longer if name in full.split()), name)
        if name not in resolved:
            resolved.append(name)
    return resolved
