"""The engines searchlib is measured against, each written the way its documentation shows a user.

Every peer takes articles as the corpus records of ``../shared/data`` (``id``, ``title``,
``body``) and answers plain typed text: characters its query language would read as syntax are
turned into spaces first, as an application would. Imported by ``quality.py`` and ``speed.py``;
the optional engines come with ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

NOT_A_WORD = re.compile(r"[^\w\s]+")


def words_only(text: str) -> str:
    return NOT_A_WORD.sub(" ", text)


class PlainWhoosh:
    """Whoosh as its quick start has it: ``StemmingAnalyzer`` title and body, the default writer
    and BM25F, ``MultifieldParser`` with OR, ``hit.highlights`` for snippets."""

    name = "plain Whoosh"

    def build(self, records: Iterable[dict[str, Any]], where: Path) -> None:
        from whoosh import index
        from whoosh.analysis import StemmingAnalyzer
        from whoosh.fields import ID, TEXT, Schema

        schema = Schema(
            id=ID(stored=True, unique=True),
            title=TEXT(analyzer=StemmingAnalyzer(), stored=True),
            body=TEXT(analyzer=StemmingAnalyzer(), stored=True),
        )
        where.mkdir(parents=True, exist_ok=True)
        writer = index.create_in(str(where), schema).writer()
        for record in records:
            writer.add_document(id=record["id"], title=record.get("title") or "", body=record.get("body") or "")
        writer.commit()
        self.open(where)

    def update(self, records: Iterable[dict[str, Any]], where: Path) -> None:
        from whoosh import index

        writer = index.open_dir(str(where)).writer()
        for record in records:
            writer.update_document(id=record["id"], title=record.get("title") or "", body=record.get("body") or "")
        writer.commit()

    def open(self, where: Path) -> None:
        from whoosh import index
        from whoosh.qparser import MultifieldParser, OrGroup

        self._index = index.open_dir(str(where))
        self._searcher = self._index.searcher()
        self._parser = MultifieldParser(["title", "body"], self._index.schema, group=OrGroup)

    def ranked(self, text: str, limit: int) -> list[str]:
        hits = self._searcher.search(self._parser.parse(words_only(text)), limit=limit)
        return [hit["id"] for hit in hits]

    def page(self, text: str) -> list[tuple[str, str]]:
        hits = self._searcher.search(self._parser.parse(words_only(text)), limit=10)
        return [(hit["id"], hit.highlights("body")) for hit in hits]


class Bm25s:
    """bm25s as its README has it (k1 0.9, b 0.4, Snowball stemmer, English stop words), over
    title and body as one text, which scores the words it has in memory, in numpy arrays."""

    name = "bm25s"

    def build(self, records: Iterable[dict[str, Any]], where: Path) -> None:
        import bm25s
        import Stemmer

        self._bm25s, self._stemmer = bm25s, Stemmer.Stemmer("english")
        records = list(records)
        self._ids = [record["id"] for record in records]
        texts = [f"{record.get('title') or ''}\n{record.get('body') or ''}" for record in records]
        self._retriever = bm25s.BM25(k1=0.9, b=0.4)
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._retriever.index(tokens, show_progress=False)

    def ranked(self, text: str, limit: int) -> list[str]:
        tokens = self._bm25s.tokenize([text], stopwords="en", stemmer=self._stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        found, scores = self._retriever.retrieve(tokens, k=min(limit, len(self._ids)), show_progress=False)
        return [self._ids[i] for i, score in zip(found[0], scores[0]) if score > 0]


class SqliteFts5:
    """SQLite FTS5 with the porter tokenizer, ``bm25()`` with the title weighted 2, ``snippet()``."""

    name = "SQLite FTS5"

    def build(self, records: Iterable[dict[str, Any]], where: Path) -> None:
        where.mkdir(parents=True, exist_ok=True)
        self.open(where)
        self._db.execute("CREATE VIRTUAL TABLE articles USING fts5(id UNINDEXED, title, body, tokenize='porter unicode61')")
        self.update(records, where)

    def update(self, records: Iterable[dict[str, Any]], where: Path) -> None:
        """Every article again under its rowid, its place in the corpus, as FTS5 replaces one."""
        if not hasattr(self, "_db"):
            self.open(where)
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO articles (rowid, id, title, body) VALUES (?, ?, ?, ?)",
                ((n, r["id"], r.get("title") or "", r.get("body") or "") for n, r in enumerate(records, start=1)),
            )

    def open(self, where: Path) -> None:
        self._db = sqlite3.connect(where / "fts.db")

    def _match(self, text: str) -> str:
        return " OR ".join(f'"{word}"' for word in words_only(text).split())

    def ranked(self, text: str, limit: int) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM articles WHERE articles MATCH ? ORDER BY bm25(articles, 0, 2.0, 1.0) LIMIT ?",
            (self._match(text), limit),
        )
        return [row[0] for row in rows] if self._match(text) else []

    def page(self, text: str) -> list[tuple[str, str]]:
        if not self._match(text):
            return []
        rows = self._db.execute(
            "SELECT id, snippet(articles, 2, '[', ']', '…', 24) FROM articles WHERE articles MATCH ? "
            "ORDER BY bm25(articles, 0, 2.0, 1.0) LIMIT 10",
            (self._match(text),),
        )
        return list(rows)


class Tantivy:
    """tantivy-py with the ``en_stem`` tokenizer on title and body, its BM25, and
    ``SnippetGenerator`` for snippets."""

    name = "tantivy"

    def build(self, records: Iterable[dict[str, Any]], where: Path) -> None:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        builder.add_text_field("title", stored=True, tokenizer_name="en_stem")
        builder.add_text_field("body", stored=True, tokenizer_name="en_stem")
        self._schema = builder.build()
        where.mkdir(parents=True, exist_ok=True)
        self._write(tantivy.Index(self._schema, path=str(where)), records, replace=False)
        self.open(where)

    def update(self, records: Iterable[dict[str, Any]], where: Path) -> None:
        import tantivy

        self._write(tantivy.Index.open(str(where)), records, replace=True)

    @staticmethod
    def _write(index: Any, records: Iterable[dict[str, Any]], *, replace: bool) -> None:
        import tantivy

        writer = index.writer()
        for r in records:
            if replace:
                writer.delete_documents("id", r["id"])
            writer.add_document(tantivy.Document(id=r["id"], title=r.get("title") or "", body=r.get("body") or ""))
        writer.commit()
        writer.wait_merging_threads()

    def open(self, where: Path) -> None:
        import tantivy

        self._tantivy, self._index = tantivy, tantivy.Index.open(str(where))
        self._schema = self._index.schema
        self._searcher = self._index.searcher()

    def _query(self, text: str) -> Any:
        return self._index.parse_query(words_only(text), ["title", "body"], field_boosts={"title": 2.0})

    def ranked(self, text: str, limit: int) -> list[str]:
        if not words_only(text).strip():
            return []
        hits = self._searcher.search(self._query(text), limit).hits
        return [self._searcher.doc(address)["id"][0] for _score, address in hits]

    def page(self, text: str) -> list[tuple[str, str]]:
        if not words_only(text).strip():
            return []
        query = self._query(text)
        snippets = self._tantivy.SnippetGenerator.create(self._searcher, query, self._schema, "body")
        page = []
        for _score, address in self._searcher.search(query, 10).hits:
            document = self._searcher.doc(address)
            page.append((document["id"][0], snippets.snippet_from_doc(document).to_html()))
        return page


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    import gzip
    import json

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)
