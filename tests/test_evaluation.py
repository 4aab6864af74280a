"""The eval command on a small hand-made test collection whose answers are known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import searchlib
from searchlib import CorpusError
from searchlib.cli import main
from searchlib.query import plain_query

DOCS = [
    {"id": "d1", "title": "Volcanic ash grounds flights", "body": "Volcanic ash from Iceland grounded flights across Europe."},
    {"id": "d2", "title": "Airline losses mount", "body": "Airlines lost money while flights were grounded by the ash cloud."},
    {"id": "d3", "title": "Cocoa prices rise", "body": "Cocoa prices rose in London as the Ivory Coast harvest slowed."},
    {"id": "d4", "title": "Harvest report", "body": "The cocoa harvest in Ghana was smaller than expected."},
]


@pytest.fixture
def collection(tmp_path: Path) -> dict[str, Path]:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    topics = tmp_path / "topics.tsv"
    # Topic 3 is full of query syntax, typed text as collections have it; 4 has no judgments.
    topics.write_text('1\tvolcanic ash flights\n2\tcocoa harvest\n3\t"Ash" (cloud) AND airlines: -losses?\n4\tunjudged topic\n')
    qrels = tmp_path / "qrels.txt"
    qrels.write_text("1 0 d1 1\n2 0 d4 2\n2 0 d3 1\n3 0 d2 1\n")
    return {"corpus": corpus, "topics": topics, "qrels": qrels, "index": tmp_path / "index"}


def test_evaluate_scores_a_known_collection(collection: dict[str, Path]) -> None:
    searchlib.build(collection["corpus"], collection["index"])
    with searchlib.Index.open(collection["index"]) as index:
        result = searchlib.evaluate(index, searchlib.read_topics(collection["topics"]), collection["qrels"])
    assert result.topics == 3
    assert result.measures == {"nDCG@10": pytest.approx(1.0), "AP": pytest.approx(1.0), "R@100": pytest.approx(1.0)}
    assert {qid for qid, *_ in result.run} == {"1", "2", "3"}
    first = [row for row in result.run if row[0] == "2"]
    assert [doc for _, doc, _, _ in first][:2] == ["d4", "d3"] and [rank for _, _, rank, _ in first][:2] == [1, 2]
    assert result.trec_run().splitlines()[0].startswith("1 Q0 d1 1 ")


def test_plain_query_ignores_syntax() -> None:
    assert plain_query('"Ash" (cloud) AND airlines: -losses? title:x [a TO b]') == "Ash cloud and airlines losses title x a to b"


def test_a_question_mark_is_no_wildcard_in_a_topic(collection: dict[str, Path]) -> None:
    # Whoosh reads "titles?" as a wildcard (titles and one more letter), which finds nothing:
    # CISI's topics are questions, and each lost the word before its question mark.
    searchlib.build(collection["corpus"], collection["index"])
    with searchlib.Index.open(collection["index"]) as index:
        found = index.ranked("what is ash?", plain=True)
        assert [doc for doc, _ in found] == ["d1", "d2"]
        assert found == index.ranked("what is ash", plain=True)


def test_eval_command(collection: dict[str, Path], tmp_path: Path) -> None:
    args = ["eval", "--corpus", str(collection["corpus"]), "--topics", str(collection["topics"]), "--qrels", str(collection["qrels"])]
    text = CliRunner().invoke(main, args, catch_exceptions=False).stdout
    assert text == "3 judged topics\nnDCG@10   1.0000\nMAP       1.0000\nR@100     1.0000\n"
    run_file = tmp_path / "run.txt"
    document = json.loads(CliRunner().invoke(main, [*args, "--json", "--run", str(run_file)], catch_exceptions=False).stdout)
    assert document == {"topics": 3, "measures": {"nDCG@10": 1.0, "AP": 1.0, "R@100": 1.0}}
    assert run_file.read_text().splitlines()[0].split()[:4] == ["1", "Q0", "d1", "1"]


def test_eval_fails_under_a_required_figure(collection: dict[str, Path], tmp_path: Path) -> None:
    args = ["eval", "--corpus", str(collection["corpus"]), "--topics", str(collection["topics"]), "--qrels", str(collection["qrels"])]
    args += ["--index", str(tmp_path / "index")]
    passed = CliRunner().invoke(main, [*args, "--fail-under", "nDCG@10=1.0", "--fail-under", "map=0.5"])
    assert passed.exit_code == 0, passed.stderr
    (collection["topics"]).write_text((collection["topics"]).read_text() + "5\tnothing matches zzzz\n")
    with (collection["qrels"]).open("a") as qrels:
        qrels.write("5 0 d1 1\n")
    failed = CliRunner().invoke(main, [*args, "--fail-under", "nDCG@10=0.9", "--fail-under", "R@100=0.5"])
    assert failed.exit_code == 1
    assert failed.stderr == "Error: nDCG@10 0.7500 is below 0.9\n"
    wrong = CliRunner().invoke(main, [*args, "--fail-under", "P@5=0.5"])
    assert wrong.exit_code == 2 and "--fail-under" in wrong.stderr and "nDCG@10, MAP, R@100" in wrong.stderr


def test_bad_topics_and_qrels_are_one_line_errors(collection: dict[str, Path], tmp_path: Path) -> None:
    bad_topics = tmp_path / "bad.tsv"
    bad_topics.write_text("1 no tab here\n")
    with pytest.raises(CorpusError, match=r"bad.tsv:1: expected 'qid<TAB>query text'"):
        searchlib.read_topics(bad_topics)
    empty_qrels = tmp_path / "empty.txt"
    empty_qrels.write_text("")
    args = ["eval", "--corpus", str(collection["corpus"]), "--topics", str(collection["topics"]), "--qrels", str(empty_qrels)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and result.stderr == f"Error: The qrels file '{empty_qrels}' has no judgments\n"


def test_eval_refuses_an_index_of_another_corpus(collection: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps({"id": "x1", "title": "Unrelated", "body": "Nothing about ash or cocoa."}) + "\n")
    searchlib.build(other, collection["index"])
    args = ["eval", "--corpus", str(collection["corpus"]), "--topics", str(collection["topics"]), "--qrels",
            str(collection["qrels"]), "--index", str(collection["index"])]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1
    assert refused.stderr == (f"Error: The index at '{collection['index']}' was built from '{other.resolve()}', not from "
                              f"'{collection['corpus']}': its figures would be another collection's. Give another --index, "
                              "or leave --index out (a temporary index)\n")
    accepted = CliRunner().invoke(main, [*args[:-1], str(tmp_path / "fresh"), "--fail-under", "AP=0.9"])
    assert accepted.exit_code == 0 and "MAP       1.0000" in accepted.stdout
