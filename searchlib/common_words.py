"""Common words in a query: those it leaves out, and those the index cannot hold.

A query leaves out the common words of ``analysis.QUERY_STOP_WORDS`` ("what", "which", "about")
from its plain words, as Xapian's QueryParser leaves out its stopper's: the index keeps them, and
a query that asks for one (a phrase or quotes, an operator, ``NOT`` or ``+``, a field, a boost, a
group that is an operand or boosted, capitals among small letters) searches it. ``CommonWords``
is the Whoosh parser plugin that leaves them out; query_language.py parses again without it when
nothing else is left. The index never holds the stop words of ``analysis.STOP_WORDS``, in any
case; ``unsearched_acronyms`` and ``unindexed`` name those typed, for the notices that say so.
"""

from __future__ import annotations

from typing import Any

from whoosh.qparser import BoostPlugin, Plugin, QueryParser, syntax

from .analysis import QUERY_STOP_WORDS, token_terms

__all__ = ["CommonWords", "is_common", "shouting", "terms_of", "unsearched_acronyms", "unindexed", "unindexed_reason",
           "left_out_notice"]

def is_common(word: str, *, shouting: bool) -> bool:
    """Whether ``word``, as typed, is one of the common words a query leaves out
    (``analysis.QUERY_STOP_WORDS``); not when it is in capitals in a query with small letters
    ("WHO", the World Health Organization)."""
    spellings = [spelling for spelling, *_ in token_terms(word)]
    if len(spellings) != 1 or spellings[0] not in QUERY_STOP_WORDS:
        return False
    return shouting or not (len(word) > 1 and word.isupper())


def terms_of(word: str) -> set[str]:
    """The terms the index holds for ``word``."""
    return {term for _, term, *_ in token_terms(word) if term is not None}


def shouting(text: str) -> bool:
    """Whether ``text`` is typed without small letters, when capitals say nothing of a word."""
    return not any(character.islower() for character in text)


def unsearched_acronyms(text: str, *, shouting: bool, operators: frozenset[str]) -> tuple[str, ...]:
    """The notice of the acronyms in ``text`` that the index cannot hold, being stop words in
    capitals ("Is IT spending up?"), unless the whole text is in capitals; the query language's
    ``operators`` are none."""
    acronyms = [] if shouting else [word for word in unindexed(text)
                                    if len(word) > 1 and word.isupper() and word not in operators]
    return (f"Not searched: {unindexed_reason(acronyms)}",) if acronyms else ()


def unindexed(text: str) -> list[str]:
    """The words of ``text`` that the analysis stops (``analysis.STOP_WORDS``), which the index
    never holds, as typed."""
    return list(dict.fromkeys(text[start:end] for _, term, start, end, _ in token_terms(text) if term is None))


def unindexed_reason(words: list[str]) -> str:
    listed = ", ".join(f"'{word}'" for word in words)
    return f"the index leaves out {listed}, as it does every very common word (in any case)"


def left_out_notice(words: list[str]) -> str:
    listed = ", ".join(f"'{word}'" for word in words)
    kind = "the common word" if len(words) == 1 else "the common words"
    return f"Left out {kind} {listed}: put a word in quotes to search for it too"


class CommonWords(Plugin):
    """Leave out the plain words that are common words (``is_common``), keeping them in
    ``left_out``: those typed with no field, no operator on either side, no ``NOT``, ``+``,
    boost, wildcard or ``~``, outside quotes (a phrase is a node of its own) and not in a group
    that is an operand or has a boost."""

    def __init__(self, *, shouting: bool) -> None:
        self.shouting = shouting
        self.left_out: list[str] = []

    def filters(self, parser: QueryParser) -> list[tuple[Any, int]]:
        return [(self._leave_out, 105)]  # after explicit fields are read (100), before the others are given (110)

    def _leave_out(self, parser: QueryParser, group: syntax.GroupNode, bound: bool = False) -> syntax.GroupNode:
        """``group`` less its common words; none if the group is ``bound`` ("grain NOT (what)")."""
        nodes = list(group)
        kept = group.empty_copy()
        for at, node in enumerate(nodes):
            if isinstance(node, syntax.GroupNode):
                kept.append(self._leave_out(parser, node, bound or _bound(nodes, at)))
            elif (not bound and type(node) is syntax.WordNode and node.fieldname is None and not _bound(nodes, at)
                  and not node.text.startswith("+") and is_common(node.text, shouting=self.shouting)):
                self.left_out.append(node.text)
            else:
                kept.append(node)
        return kept


def _bound(nodes: list[syntax.SyntaxNode], at: int) -> bool:
    """Whether the word at ``at`` is an operator's operand, or has a boost."""
    before = next((n for n in reversed(nodes[:at]) if not isinstance(n, syntax.Whitespace)), None)
    after = next((n for n in nodes[at + 1:] if not isinstance(n, syntax.Whitespace)), None)
    return isinstance(before, syntax.Operator) or isinstance(after, (syntax.InfixOperator, BoostPlugin.BoostNode))
