"""Ranking quality on a test collection: topics, relevance judgments, and standard measures.

A test collection is a corpus, a topics file (``qid<TAB>query text``) and a qrels file (TREC
format: ``qid 0 docid relevance``). Every judged topic is searched as typed text with the
settings ``search`` uses (``Index.ranked``), and the run is scored by ``ir-measures``, the
maintained interface to trec_eval's measures: nDCG@10, MAP (average precision over the first
1,000 hits) and Recall@100.
"""

from __future__ import annotations

from pathlib import Path

import attrs

from .errors import CorpusError, QuerySyntaxError
from .query import Index

__all__ = ["Evaluation", "evaluate", "read_topics", "MEASURES"]

MEASURES = ("nDCG@10", "AP", "R@100")
DEPTH = 1000


@attrs.frozen
class Evaluation:
    """The mean of each measure over the judged topics, and the run that earned it.

    ``run`` holds ``(qid, article id, rank, score)`` rows, best first for each topic.
    """

    measures: dict[str, float]
    topics: int
    run: tuple[tuple[str, str, int, float], ...] = attrs.field(repr=False)

    def trec_run(self, tag: str = "searchlib") -> str:
        """The run in TREC format: ``qid Q0 docid rank score tag`` lines."""
        return "".join(f"{qid} Q0 {doc} {rank} {score:.6f} {tag}\n" for qid, doc, rank, score in self.run)


def read_topics(path: Path | str) -> dict[str, str]:
    """Topics from a ``qid<TAB>text`` file; blank lines are skipped.

    Raises:
        CorpusError: the file cannot be read, or a line has no tab.
    """
    path = Path(path)
    topics: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"Cannot read the topics file '{path}': {exc}", path=path) from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        qid, tab, text = line.partition("\t")
        if not tab or not qid.strip():
            raise CorpusError(f"{path}:{number}: expected 'qid<TAB>query text'", path=path)
        topics[qid.strip()] = text.strip()
    return topics


def _read_qrels(path: Path) -> list[object]:
    import ir_measures

    try:
        qrels = list(ir_measures.read_trec_qrels(str(path)))
    except (OSError, ValueError, IndexError) as exc:
        raise CorpusError(
            f"Cannot read the qrels file '{path}' ({exc}): expected TREC lines 'qid 0 docid relevance'", path=path
        ) from exc
    if not qrels:
        raise CorpusError(f"The qrels file '{path}' has no judgments", path=path)
    return qrels


def evaluate(index: Index, topics: dict[str, str], qrels_path: Path | str, *, depth: int = DEPTH) -> Evaluation:
    """Search every judged topic and score the run.

    Topics without judgments are not searched (trec_eval would ignore them); judged topics
    missing from ``topics`` count as finding nothing.
    """
    import ir_measures
    from ir_measures import AP, R, nDCG

    qrels = _read_qrels(Path(qrels_path))
    judged = {qrel.query_id for qrel in qrels}  # type: ignore[attr-defined]
    run: list[tuple[str, str, int, float]] = []
    for qid, text in topics.items():
        if qid not in judged:
            continue
        try:
            ranking = index.ranked(text, limit=depth, plain=True)
        except QuerySyntaxError:  # no words left: the topic finds nothing
            ranking = ()
        run.extend((qid, doc, rank, score) for rank, (doc, score) in enumerate(ranking, start=1))
    scored = [ir_measures.ScoredDoc(qid, doc, -rank) for qid, doc, rank, _ in run]
    measures = ir_measures.calc_aggregate([nDCG @ 10, AP, R @ 100], qrels, scored)
    return Evaluation(
        measures={name: float(measures.get(measure, 0.0)) for name, measure in zip(MEASURES, (nDCG @ 10, AP, R @ 100))},
        topics=len(judged & topics.keys()),
        run=tuple(run),
    )
