"""The build's own analysis and writer (writer.py) against Whoosh's: the same postings from the
same text, the same segments from the same documents, and builds that skip what fails."""

from __future__ import annotations

import functools
from collections import Counter
import json
import random
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index
from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter, md5_hash
from whoosh.filedb.structfile import StructFile

import searchlib
from searchlib import analyze
from searchlib import workers, writer
from searchlib.schema import combined_text, make_schema
from searchlib.writer import MemoryWriter, text_postings

SCHEMA = make_schema()
# Text with what the tokenizer treats specially: line breaks, stop words, acronyms, numbers with
# separators, apostrophes (straight and typographic), accents, hyphens and digits.
PIECES = ["the", "of", "Bank", "England", "U.S.", "6,000", "3.5", "Rakhmon's", "don’t", "Zürich", "Ceaușescu",
          "military-base", "2012", "a", "\n", "\n\n", " ", ", ", ". ", "—", "bases", "Bases", "running", "x"]
texts = st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join)


def whoosh_postings(field: str, value: str) -> list[tuple[bytes, int, float, bytes]]:
    return sorted(SCHEMA[field].index(value))


@settings(max_examples=300, deadline=None)
@given(title=texts, caption=texts, body=texts)
def test_text_postings_are_the_analyzers_postings(title: str, caption: str, body: str) -> None:
    postings, words = text_postings(SCHEMA, title, caption, body)
    for field, value in (("title", title), ("caption", caption), ("body", body)):
        assert sorted(postings[field].items()) == whoosh_postings(field, value), field
    assert sorted(postings["text"].items()) == whoosh_postings("text", combined_text(title, caption, body))
    assert set(words) == _spelling(f"{title}\n{caption}\n{body}")
    assert all(term is None or term == analyze(spelling)[0] for spelling, term in words.items())


def _spelling(text: str) -> set[str]:
    from searchlib.analysis import spelling_analyzer

    return {token.text for token in spelling_analyzer()(text)}


@settings(max_examples=200, deadline=None)
@given(names=st.lists(texts, max_size=6))
def test_name_postings_are_the_name_list_analyzers(names: list[str]) -> None:
    value = "\n".join(names)
    assert sorted(writer._name_postings(value).items()) == whoosh_postings("entities", value)


def test_the_memory_writer_writes_what_whooshs_writer_writes(tmp_path: Path) -> None:
    rng = random.Random(5)
    words = "grain wheat export harbour strike minister bank rates oil price tanker frost".split()
    documents = [
        {"id": f"a{n}", "title": " ".join(rng.choices(words, k=3)), "body": " ".join(rng.choices(words, k=rng.randint(1, 400)))}
        for n in range(300)  # common words: posting lists of several blocks; rare ones kept inline
    ]
    documents.append({"id": "lone", "title": "zebra", "body": "a word no other article has: quagga"})
    segments = {}
    for name, make in (("whoosh", lambda ix: ix.writer()), ("memory", MemoryWriter)):
        (tmp_path / name).mkdir()
        ix = whoosh_index.create_in(str(tmp_path / name), make_schema())
        writing = make(ix)
        for document in documents:
            writing.add_document(**document, text=combined_text(document["title"], "", document["body"]))
        writing.commit()
        segments[name] = whoosh_index.open_dir(str(tmp_path / name)).reader()
    whoosh, memory = segments["whoosh"], segments["memory"]
    assert list(memory.all_terms()) == list(whoosh.all_terms())
    for field, term in whoosh.all_terms():
        mine, theirs = memory.postings(field, term), whoosh.postings(field, term)
        assert list(mine.items_as("weight")) == list(theirs.items_as("weight")), (field, term)
        assert [mine.value() for _ in _walk(mine)] == [theirs.value() for _ in _walk(theirs)], (field, term)
        info, expected = memory.term_info(field, term), whoosh.term_info(field, term)
        assert (info.doc_frequency(), info.max_weight(), info.min_length(), info.max_length()) == (
            expected.doc_frequency(), expected.max_weight(), expected.min_length(), expected.max_length()
        ), (field, term)
    assert [memory.stored_fields(n) for n in range(len(documents))] == [whoosh.stored_fields(n) for n in range(len(documents))]
    assert memory.term_info("body", b"quagga").is_inlined()  # a list of one, in the term table
    whoosh.close()
    memory.close()


def test_term_tables_find_every_key_also_where_keys_run_past_a_tables_last_slot() -> None:
    # Four keys of bucket 7 (hash & 255), all with the last of its 2 x 4 slots as their first,
    # run on to its first slots; other keys fill the other buckets.
    def bucket(key: bytes) -> int:
        return md5_hash(key) & 255

    candidates = (f"k{n}".encode() for n in range(100_000))
    wrapping = [key for key in candidates if bucket(key) == 7 and (md5_hash(key) >> 8) % 8 == 7][:4]
    keys = sorted([*wrapping, *(key for key in (f"word{n}".encode() for n in range(3000)) if bucket(key) != 7)])
    stream = BytesIO()
    table = OrderedHashWriter(StructFile(stream))
    for key in keys:
        table.add(key, key.upper())
    table._write_hashes = functools.partial(writer._write_hash_tables, table)
    table.dbfile.close = lambda: None  # keep the stream to read
    length = table.close()
    reader = OrderedHashReader(StructFile(BytesIO(stream.getvalue())), length)
    assert len(wrapping) == 4
    assert [reader[key] for key in keys] == [key.upper() for key in keys]
    assert b"absent" not in reader


def _walk(matcher):  # type: ignore[no-untyped-def]
    while matcher.is_active():
        yield matcher.id()
        matcher.next()


def _corpus(folder: Path, articles: list[dict[str, str]]) -> Path:
    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(a) + "\n" for a in articles))
    return corpus


ARTICLES = [
    {"id": f"n{n}", "title": f"Harvest report {n}", "date": "2012-04-17",
     "body": f"Farmers in region {n} said the wheat harvest would be late. " + "Rain fell for weeks. " * (n % 5)}
    for n in range(150)
]


def test_a_build_in_two_processes_makes_the_same_index_each_time_as_one_process(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path, ARTICLES)
    results = []
    for name, jobs in (("one", 1), ("two", 2), ("again", 2)):
        searchlib.build(corpus, tmp_path / name, jobs=jobs)
        with searchlib.Index.open(tmp_path / name) as opened:
            found = opened.search("wheat harvest rain", limit=200, fold_duplicates=False, match="any")
            results.append(sorted((round(hit.score, 9), hit.id) for hit in found.hits))
            assert found.total == 150
    assert results[0] == results[1] == results[2]


def test_an_article_that_cannot_be_analysed_is_skipped_reported_and_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _corpus(tmp_path, ARTICLES[:20])
    real = writer.document_fields

    def failing(article, *args):  # type: ignore[no-untyped-def]
        if article.id == "n7":
            raise ValueError("bad entity")
        return real(article, *args)

    monkeypatch.setattr(writer, "document_fields", failing)
    report = searchlib.build(corpus, tmp_path / "index", jobs=1)
    assert report.added == 19
    [skipped] = report.skipped
    assert skipped.path.endswith("corpus.jsonl") and "'n7'" in skipped.reason and "ValueError: bad entity" in skipped.reason
    with searchlib.Index.open(tmp_path / "index") as opened:
        assert opened.search("harvest", limit=50).total == 19
    monkeypatch.setattr(writer, "document_fields", real)
    again = searchlib.update(corpus, tmp_path / "index")
    assert (again.added, again.updated, again.skipped) == (1, 0, ())
    with searchlib.Index.open(tmp_path / "index") as opened:
        assert opened.search("harvest", limit=50).total == 20


def test_an_update_keeps_the_spelling_vocabulary_counts(tmp_path: Path) -> None:
    articles = [dict(a) for a in ARTICLES[:10]]
    articles[0]["body"] += " Quarantine officials inspected the silos."
    corpus = _corpus(tmp_path, articles)
    searchlib.build(corpus, tmp_path / "index", jobs=2)
    with searchlib.Index.open(tmp_path / "index") as opened:
        assert opened.suggest("quarantene") == "quarantine"
        assert opened.suggest("wheet") == "wheat"
    articles[0]["body"] = articles[0]["body"].replace("Quarantine", "Customs")  # its only article
    articles.append({"id": "new", "title": "Locusts", "body": "Locusts swarmed over the fields."})
    searchlib.update(_corpus(tmp_path, articles), tmp_path / "index")
    with searchlib.Index.open(tmp_path / "index") as opened:
        assert opened.suggest("quarantene") is None  # no article has the word any more
        assert opened.suggest("locustz") == "locusts"
        assert opened.suggest("wheet") == "wheat"


def test_a_worker_that_fails_fails_the_build_with_a_writer_error(tmp_path: Path) -> None:
    from searchlib.models import Article

    task = (Article(id="a", title="Wheat", body="Wheat exports rose."), "digest", "a")
    with pytest.raises(searchlib.WriterError, match="A worker process of the build failed: .*missing"):
        workers.build_segments(tmp_path / "missing", iter([[task]]), ner=None, jobs=2)


def test_the_stemmer_loads_without_the_nltk_package_or_scipy_and_leaves_both_importable() -> None:
    probe = ("import sys, searchlib.analysis as a; s = a._stemmer().stem('running'); "
             "print(s, 'nltk' in sys.modules, 'scipy' in sys.modules); import nltk; print(nltk.stem.snowball.__name__)")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert shown == ["run", "False", "False", "nltk.stem.snowball"]


def test_segments_are_written_as_separate_files_by_builds_and_updates(tmp_path: Path) -> None:
    """A compound segment is copied into memory part by part as it is opened (45 ms of each
    command-line search of Reuters): every segment, a build's or an update's merge, is not one."""
    corpus = _corpus(tmp_path, ARTICLES[:40])
    searchlib.build(corpus, tmp_path / "index", jobs=2)
    _corpus(tmp_path, ARTICLES[:40] + [{"id": "late", "title": "Locusts", "body": "Locusts swarmed."}])
    searchlib.update(corpus, tmp_path / "index")
    generation = max((tmp_path / "index").glob("gen-*"))
    segments = whoosh_index.open_dir(str(generation))._segments()
    assert segments and not any(segment.is_compound() for segment in segments)
    assert not list(generation.glob("*.seg"))
    with searchlib.Index.open(tmp_path / "index") as opened:
        assert opened.search("locusts").total == 1 and opened.search("harvest", limit=50).total == 40


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(st.characters(blacklist_characters="\n", blacklist_categories=("Cs",)), min_size=1, max_size=8),
                       st.tuples(st.integers(1, 99), st.sampled_from(["", "stem", "é"])), max_size=30),
       st.lists(st.text(max_size=8), max_size=10))
def test_a_saved_vocabulary_loads_with_every_word_its_count_and_stem(entries: dict[str, tuple[int, str]], others: list[str]) -> None:
    """Words, stems and counts go through the saved blocks of text unchanged: a single word that
    is a stop word (an empty stem) among them."""
    import tempfile

    from searchlib.vocabulary import Vocabulary, save_vocabulary

    with tempfile.TemporaryDirectory() as folder:
        save_vocabulary(Path(folder), Counter({w: c for w, (c, _) in entries.items()}), {w: s for w, (_, s) in entries.items()})
        vocabulary = Vocabulary.load(Path(folder))
    assert vocabulary.words == sorted(entries) and vocabulary.stems == [entries[w][1] for w in sorted(entries)]
    for word in [*entries, *others]:
        assert vocabulary.count(word) == entries.get(word, (0, ""))[0]
