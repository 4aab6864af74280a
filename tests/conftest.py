"""Shared fixtures: the seed article, small hand-made corpora, and one built index for queries."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import searchlib

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_6a031b2be50133bf.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "news"
SHARED_DATA = ROOT.parent / "shared" / "data"

#: A word that occurs only at the end of the long article, past Whoosh's 32K highlighting limit.
LONG_ARTICLE_WORD = "zanzibarite"


def write_long_article(folder: Path) -> Path:
    """An article of about 60,000 characters whose one rare word is in its last paragraph."""
    filler = "The council met again to discuss the harbour budget and the state of the roads. "
    paragraphs = [filler * 8 for _ in range(90)]
    paragraphs.append(f"At the very end, the council named the new mineral {LONG_ARTICLE_WORD} after the island.")
    path = folder / "long-article.txt"
    path.write_text("Council Meets Again\n\nJune 1, 2014\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def make_news_corpus(folder: Path) -> Path:
    """The hand-made fixtures, the seed article and a long article, in ``folder``."""
    shutil.copytree(FIXTURES, folder)
    shutil.copy(SEED, folder / SEED.name)
    write_long_article(folder)
    return folder


@pytest.fixture(scope="session")
def news_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_news_corpus(tmp_path_factory.mktemp("corpus") / "news")


@pytest.fixture(scope="session")
def news_index(news_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index of the news corpus, built once for every query test."""
    index = tmp_path_factory.mktemp("indexes") / "news"
    searchlib.build(news_corpus, index)
    return index


@pytest.fixture(scope="session")
def index(news_index: Path) -> Iterator[searchlib.Index]:
    with searchlib.Index.open(news_index) as opened:
        yield opened


@pytest.fixture
def seed_corpus(tmp_path: Path) -> Path:
    """A corpus folder holding only the seed article."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder
