"""Updates never break searches: after any sequence of edits, removals and additions, each
followed by ``searchlib.update``, every query answers exactly as it does on a fresh build of the
same corpus (issue 16). Hypothesis makes the sequences; the queries cover plain words, phrases,
fields, boolean operators, wildcards and fuzzy words."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import searchlib

WORDS = ["alabama", "investor", "shoe", "maker", "stake", "profits", "company", "based", "grain", "harbour"]
QUERIES = [
    "alabama",
    "shoe maker",
    '"shoe maker"',
    "title:alabama",
    "body:profits",
    "alabama OR profits",
    "shoe NOT alabama",
    "(grain OR harbour) AND company",
    "ala*",
    "alabma~",
    'title:"maker stake"',
]

text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=8).map(" ".join)
article = st.fixed_dictionaries({"title": text, "body": text})
# A step: put an article (new or replacing one) into one of the corpus files, or remove one.
step = st.one_of(
    st.tuples(st.just("put"), st.integers(0, 5), st.sampled_from(["a.jsonl", "b.jsonl", "c.txt"]), article),
    st.tuples(st.just("remove"), st.integers(0, 5)),
)


def write_corpus(folder: Path, articles: dict[int, tuple[str, dict[str, str]]]) -> None:
    """The corpus files for ``articles`` (number -> (file, fields)): JSON Lines files and
    article files, each file rewritten only when its content changes."""
    contents: dict[str, str] = {}
    for number, (name, fields) in sorted(articles.items()):
        if name.endswith(".jsonl"):
            record = {"id": f"art-{number}", "title": fields["title"], "body": fields["body"], "date": f"1987-03-{number + 1:02d}"}
            contents[name] = contents.get(name, "") + json.dumps(record) + "\n"
        else:
            contents[f"art-{number}.txt"] = f"{fields['title']}\n\nMarch {number + 1}, 1987\n\n{fields['body']}\n"
    for existing in folder.iterdir():
        if existing.name not in contents:
            existing.unlink()
    for name, content in contents.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")


def answers(index_path: Path) -> dict[str, object]:
    """What every query finds: the ids of all matches, and the totals of timeline and search."""
    with searchlib.Index.open(index_path) as index:
        found: dict[str, object] = {"count": index.article_count}
        for query in QUERIES:
            result = index.search(query, limit=100, fold_duplicates=False)
            found[query] = (result.total, sorted(hit.id for hit in result.hits))
            found[f"timeline {query}"] = index.timeline(query, by="day").total
        found["suggest"] = index.suggest("alabma prfits")
        return found


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.dictionaries(st.integers(0, 5), st.tuples(st.sampled_from(["a.jsonl", "b.jsonl", "c.txt"]), article), min_size=1),
       steps=st.lists(step, min_size=1, max_size=4))
def test_every_update_answers_as_a_fresh_build(tmp_path: Path, first: dict, steps: list) -> None:
    work = tmp_path / f"run-{os.urandom(4).hex()}"
    corpus = work / "corpus"
    corpus.mkdir(parents=True)
    articles = dict(first)
    write_corpus(corpus, articles)
    updated = work / "updated"
    searchlib.build(corpus, updated)
    for change in steps:
        if change[0] == "put":
            _, number, name, fields = change
            articles[number] = (name, fields)
        else:
            articles.pop(change[1], None)
        if not articles:
            continue  # an empty corpus is refused, and leaves the index as it was
        write_corpus(corpus, articles)
        searchlib.update(corpus, updated, max_delete="100%")
        fresh = work / f"fresh-{len(list(work.iterdir()))}"
        searchlib.build(corpus, fresh)
        assert answers(updated) == answers(fresh)
        shutil.rmtree(fresh)


def test_a_word_left_only_in_a_deleted_articles_title_is_searched_after_an_update(tmp_path: Path) -> None:
    """The reproduction of issue 16: 'alabama' leaves article a's title and stays in b's body."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    a = {"id": "a", "title": "Alabama investor buys shoe maker stake", "body": "An investor raised his stake.", "date": "1987-03-01"}
    b = {"id": "b", "title": "Shoe maker results", "body": "The company, based in Alabama, reported profits.", "date": "1987-03-02"}
    (corpus / "news.jsonl").write_text(f"{json.dumps(a)}\n{json.dumps(b)}\n", encoding="utf-8")
    searchlib.build(corpus, tmp_path / "idx")
    a["title"] = "Investor buys shoe maker stake"
    (corpus / "news.jsonl").write_text(f"{json.dumps(a)}\n{json.dumps(b)}\n", encoding="utf-8")
    searchlib.update(corpus, tmp_path / "idx")
    with searchlib.Index.open(tmp_path / "idx") as index:
        result = index.search("alabama")
        assert [hit.id for hit in result.hits] == ["b"]
        assert "Alabama" in result.hits[0].snippet.matches


@pytest.mark.parametrize("query", QUERIES)
def test_queries_answer_after_an_article_is_removed(tmp_path: Path, query: str) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    write_corpus(corpus, {0: ("a.jsonl", {"title": "alabama shoe maker stake", "body": "investor"}),
                          1: ("a.jsonl", {"title": "shoe maker", "body": "alabama company profits grain"})})
    searchlib.build(corpus, tmp_path / "idx")
    write_corpus(corpus, {1: ("a.jsonl", {"title": "shoe maker", "body": "alabama company profits grain"})})
    searchlib.update(corpus, tmp_path / "idx", max_delete="100%")
    searchlib.build(corpus, tmp_path / "fresh")
    assert answers(tmp_path / "idx")[query] == answers(tmp_path / "fresh")[query]


def test_a_file_rewritten_within_the_same_clock_tick_is_read_again(tmp_path: Path) -> None:
    """A file changed again right after an update, keeping its size and modification time (a
    file system's timestamps are coarse), is still read by the next update."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    path = corpus / "news.jsonl"
    path.write_text(json.dumps({"id": "a", "title": "Wheat", "body": "Wheat exports rose."}) + "\n", encoding="utf-8")
    searchlib.build(corpus, tmp_path / "idx")
    stat = path.stat()
    path.write_text(json.dumps({"id": "a", "title": "Maize", "body": "Maize exports rose."}) + "\n", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert searchlib.update(corpus, tmp_path / "idx").updated == 1
    with searchlib.Index.open(tmp_path / "idx") as index:
        assert index.search("maize").total == 1
