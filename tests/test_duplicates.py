"""Near-duplicates: found at index time, folded into one hit at search time."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import searchlib
from searchlib.cli import search
from searchlib.columns import texts
from searchlib.snapshot import STORY_NUMBERS, story_numbers
from searchlib.duplicates import DuplicateFinder, signature, signatures

STORY = (
    "The Bank of Japan will sell 300 billion yen of financing bills tomorrow under a 55-day "
    "repurchase accord maturing on May 12, money traders said. The bills are meant to soak up a "
    "projected money market surplus due largely to coupon payments of a railway bond."
)
OTHER = (
    "Brazil's national bank strike continued today with most of the country's bank workers out, "
    "union officials said, and the stock markets of Sao Paulo and Rio de Janeiro stayed closed."
)


def test_copies_and_small_edits_join_the_first_articles_story() -> None:
    finder = DuplicateFinder()
    day = datetime(1987, 3, 17)
    assert finder.story("first", STORY, day) == "first"
    assert finder.story("repeat", STORY, day) == "first"
    assert finder.story("signed", STORY + " REUTER", day) == "first"
    assert finder.story("other", OTHER, day) == "other"
    assert finder.story("short", "Bank of Japan sells bills.", day) == "short"


def test_template_reports_weeks_apart_are_different_stories() -> None:
    finder = DuplicateFinder()
    assert finder.story("march", STORY, datetime(1987, 3, 17)) == "march"
    assert finder.story("april", STORY, datetime(1987, 4, 17)) == "april"
    assert finder.story("undated", STORY) == "march"


def test_a_forgotten_article_is_no_story_and_a_saved_finder_goes_on_alike(tmp_path: Path) -> None:
    day = datetime(1987, 3, 17)
    finder = DuplicateFinder()
    assert finder.story("first", STORY, day) == "first"
    assert finder.story("other", OTHER, day) == "other"
    finder.forget("first")
    assert finder.story("repeat", STORY, day) == "repeat"  # the first is gone: its copy starts a story
    finder.save(tmp_path / "stories.npz")
    loaded = DuplicateFinder.load(tmp_path / "stories.npz")
    for name in ("finder", "loaded"):
        found = finder if name == "finder" else loaded
        assert found.story("again", STORY + " REUTER", day) == "repeat", name
        assert found.story("later", OTHER, datetime(1987, 3, 30)) == "later", name  # 13 days on


def test_a_loaded_finder_links_its_articles_as_the_finder_that_met_them(tmp_path: Path) -> None:
    """``load`` links the rows that share a band all at once; they must be the chains that
    meeting the articles one by one made, or an update would miss (or invent) duplicates."""
    draw = np.random.default_rng(7)
    words = STORY.split() + OTHER.split()
    bases = [" ".join(draw.choice(words, 60)) for _ in range(40)]
    finder = DuplicateFinder()
    for number in range(400):  # each base text ten times, a word changed in most copies
        text = bases[number % 40].split()
        text[int(draw.integers(60))] = str(number) if number % 3 else text[0]
        finder.story(f"a{number}", " ".join(text), datetime(1987, 3, 17))
    finder.save(tmp_path / "stories.npz")
    loaded = DuplicateFinder.load(tmp_path / "stories.npz")
    assert np.array_equal(loaded._before, finder._before[:400])
    assert loaded._last == finder._last
    assert np.count_nonzero(loaded._before >= 0) > 500  # the copies shared bands: chains were linked
    probe = " ".join(bases[3].split()[:-1])
    story = finder.story("probe", probe, datetime(1987, 3, 18))
    assert story != "probe"
    assert loaded.story("probe", probe, datetime(1987, 3, 18)) == story


def test_signatures_of_shingles() -> None:
    ten = "One two three four five six seven eight nine ten"
    assert signature(ten) is not None  # six shingles
    assert signature(ten.rsplit(" ", 1)[0]) is None  # five
    assert signature("a b c d e " * 3) is None  # fifteen words, five distinct shingles
    assert signature("") is None
    # Shingles are lower-cased words: case and punctuation do not change them.
    assert np.array_equal(signature(ten), signature("ONE, two; three four... five six seven eight nine ten!"))
    assert not np.array_equal(signature(ten), signature(ten.replace("five", "fifty")))
    # Together, each text's own: no shingle runs from one text into the next.
    together = signatures([ten, "", "a b c d e " * 3, STORY, ten.rsplit(" ", 1)[0], OTHER])
    alone = [signature(text) for text in (ten, "", "a b c d e " * 3, STORY, ten.rsplit(" ", 1)[0], OTHER)]
    assert [None if v is None else v.tolist() for v in together] == [None if v is None else v.tolist() for v in alone]


@pytest.fixture(scope="module")
def wire_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wire")
    records = [
        {"id": "boj-1", "title": "BANK OF JAPAN TO SELL BILLS", "date": "1987-03-17T03:43:00", "body": STORY},
        {"id": "boj-2", "title": "BANK OF JAPAN TO SELL BILLS", "date": "1987-03-17T07:11:00", "body": STORY},
        {"id": "boj-3", "title": "CORRECTED - BANK OF JAPAN TO SELL BILLS", "date": "1987-03-17T09:00:00", "body": STORY.replace("300", "350")},
        {"id": "brazil", "title": "BRAZIL BANK STRIKE CONTINUES", "date": "1987-03-31T15:00:00", "body": OTHER},
    ]
    (folder / "wire.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    searchlib.build(folder / "wire.jsonl", folder / "index")
    return folder / "index"


def test_a_story_shows_once_with_its_copies(wire_index: Path) -> None:
    with searchlib.Index.open(wire_index) as index:
        result = index.search("bank")
        assert (result.total, result.stories, result.pages) == (4, 2, 1)
        by_id = {hit.id: hit for hit in result.hits}
        boj = next(hit for hit in result.hits if hit.id.startswith("boj"))
        assert set(boj.similar) | {boj.id} == {"boj-1", "boj-2", "boj-3"}
        assert by_id["brazil"].similar == ()
        every = index.search("bank", fold_duplicates=False)
        assert (every.total, every.stories, len(every.hits)) == (4, None, 4)
        assert all(hit.similar == () for hit in every.hits)


def test_only_matching_copies_are_folded_in(wire_index: Path) -> None:
    with searchlib.Index.open(wire_index) as index:
        (hit,) = index.search("corrected").hits
        assert hit.id == "boj-3" and hit.similar == ()


def test_pages_count_stories_when_folding(wire_index: Path) -> None:
    with searchlib.Index.open(wire_index) as index:
        pages = [index.search("bank", limit=1, page=p) for p in (1, 2, 3)]
        assert [len(p.hits) for p in pages] == [1, 1, 0]
        assert pages[0].pages == 2 and {pages[0].hits[0].id[:3], pages[1].hits[0].id[:3]} == {"boj", "bra"}


def test_more_like_this_leaves_out_the_articles_own_copies(wire_index: Path) -> None:
    with searchlib.Index.open(wire_index) as index:
        assert {h.id for h in index.more_like("boj-1").hits} <= {"brazil"}
        assert {h.id for h in index.more_like("boj-1", fold_duplicates=False).hits} >= {"boj-2", "boj-3"}


def test_cli_and_n_similar_and_all(wire_index: Path) -> None:
    folded = CliRunner().invoke(search, ["bank", "--index", str(wire_index)], catch_exceptions=False).stdout
    assert folded.splitlines()[0] == "4 articles match 'bank' (2 stories, copies folded)."
    assert "   and 2 similar: boj-" in folded
    every = CliRunner().invoke(search, ["bank", "--all", "--index", str(wire_index)], catch_exceptions=False).stdout
    assert every.splitlines()[0] == "4 articles match 'bank'." and "similar" not in every
    document = json.loads(CliRunner().invoke(search, ["bank", "--json", "--index", str(wire_index)]).stdout)
    assert document["stories"] == 2 and sum(len(h["similar"]) for h in document["hits"]) == 2


def test_story_numbers_are_kept_by_builds_and_updates_and_read_without_them(tmp_path: Path) -> None:
    """Searches read each article's story number from the generation (snapshot.STORY_NUMBERS);
    an update writes its own, leaving the live generation's alone, and an index written before
    the numbers were kept folds the same from its story column."""
    records = [{"id": f"a{n}", "title": f"Report {n}", "date": "1987-03-17", "body": STORY if n % 2 else OTHER}
               for n in range(6)]
    corpus = tmp_path / "wire.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records))
    searchlib.build(corpus, tmp_path / "index")
    first = max((tmp_path / "index").glob("gen-*"))
    kept = np.load(first / STORY_NUMBERS)
    with searchlib.Index.open(tmp_path / "index") as index:
        snapshot = index._snapshot
        assert kept.tolist() == story_numbers(texts(snapshot._columns("story"), snapshot.size)).tolist()
        assert len(set(kept.tolist())) == 2
        folded = index.search("bank")
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records + [{"id": "new", "title": "Locusts", "body": OTHER}]))
    with searchlib.Index.open(tmp_path / "index") as reader:  # the update's writer runs while it reads
        searchlib.update(corpus, tmp_path / "index")
        assert np.load(first / STORY_NUMBERS).tolist() == kept.tolist()
        assert reader.search("bank").stories == folded.stories
    second = max((tmp_path / "index").glob("gen-*"))
    with searchlib.Index.open(tmp_path / "index") as index:
        snapshot = index._snapshot
        assert snapshot.generation == second != first
        assert np.load(second / STORY_NUMBERS).tolist() == story_numbers(texts(snapshot._columns("story"), 7)).tolist()
        updated = index.search("bank")
    (second / STORY_NUMBERS).unlink()
    with searchlib.Index.open(tmp_path / "index") as index:
        again = index.search("bank")
        assert (again.total, again.stories, [h.similar for h in again.hits]) == (
            updated.total, updated.stories, [h.similar for h in updated.hits])


@pytest.mark.parametrize("bad", ["empty", "zeros", "huge", "negative", "another generation's"])
def test_story_numbers_that_are_not_the_writers_are_read_again_from_the_column(wire_index: Path, tmp_path: Path,
                                                                              bad: str) -> None:
    """A cut file (a crash while writing it), wrong numbers of the right shape (all one story,
    one too large to count stories with, negative) or the file of another generation: searches
    fold as the story column says, and never run out of memory or fail."""
    import shutil

    index = tmp_path / "index"
    shutil.copytree(wire_index, index)
    with searchlib.Index.open(index) as opened:
        folded = opened.search("bank")
    [generation] = index.glob("gen-*")
    saved = np.load(generation / STORY_NUMBERS)
    changed = {"zeros": np.zeros_like(saved), "huge": np.where(np.arange(saved.size) == 0, 2_000_000_000, saved).astype(saved.dtype),
               "negative": -saved - 1, "another generation's": saved[::-1].copy()}
    if bad == "empty":
        (generation / STORY_NUMBERS).write_bytes(b"")
    else:
        np.save(generation / STORY_NUMBERS, changed[bad])
    with searchlib.Index.open(index) as opened:
        again = opened.search("bank")
    assert (again.total, again.stories, [(h.id, h.similar) for h in again.hits]) == (
        folded.total, folded.stories, [(h.id, h.similar) for h in folded.hits])
