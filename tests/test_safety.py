"""No command loses or replaces an index without an explicit request (issue 16): update knows
its corpus, a build or update that would read another corpus or remove most of an index stops
before changing anything, a search never builds an index the user did not ask for, and an
index whose first build is running is not missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import searchlib
from searchlib.cli import main, search
from searchlib.locks import WriterLock

from .conftest import SEED
from .test_updates import write_wire


def live(index: Path) -> str:
    return (index / "CURRENT").read_text().strip()


@pytest.fixture
def wire_index(tmp_path: Path) -> tuple[Path, Path]:
    """An index of 60 wire articles, and its corpus file."""
    corpus = write_wire(tmp_path / "wire.jsonl", 60)
    searchlib.build(corpus, tmp_path / "index")
    return corpus, tmp_path / "index"


def test_update_without_a_corpus_reads_the_one_the_index_was_built_from(tmp_path: Path, wire_index: tuple[Path, Path],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, index = wire_index
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "corpus").mkdir(parents=True)
    shutil.copy(SEED, elsewhere / "corpus")  # a ./corpus that is not the index's
    monkeypatch.chdir(elsewhere)
    write_wire(corpus, 61)  # one article more
    done = CliRunner().invoke(main, ["update", "--index", str(index), "--report"], catch_exceptions=False)
    assert done.exit_code == 0
    assert done.stdout.startswith(f"Updated '{index}' from '{corpus}' (the corpus it was built from) in ")
    assert done.stdout.endswith(": added 1, updated 0, removed 0; skipped 0.\n")
    report = searchlib.update(None, index)
    assert (report.corpus, report.added, report.removed) == (corpus, 0, 0)


def test_update_or_build_without_a_corpus_or_a_recorded_one_is_a_one_line_error(tmp_path: Path, wire_index: tuple[Path, Path]) -> None:
    _, index = wire_index
    missing = CliRunner().invoke(main, ["update", "--index", str(tmp_path / "none")])
    assert (missing.exit_code, missing.output) == (
        1, f"Error: No index at '{tmp_path / 'none'}' to update, and no corpus given: build one with: "
           f"searchlib build CORPUS --index {tmp_path / 'none'}\n")
    assert not (tmp_path / "none").exists()
    metadata = index / live(index) / "searchlib.json"
    metadata.write_text(json.dumps({**json.loads(metadata.read_text()), "corpus": None}))
    with pytest.raises(searchlib.CorpusError, match="does not record the corpus it was built from; give it: "
                                                    r"searchlib update CORPUS --index"):
        searchlib.update(None, index)


@pytest.mark.parametrize("command", ["update", "build"])
def test_another_corpus_is_refused_unless_switched_to(tmp_path: Path, wire_index: tuple[Path, Path], command: str) -> None:
    corpus, index = wire_index
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(SEED, other)
    before = live(index)
    refused = CliRunner().invoke(main, [command, str(other), "--index", str(index)])
    assert refused.exit_code == 1
    assert refused.output == (
        f"Error: The index at '{index}' holds 60 articles from '{corpus}', not from '{other}'; nothing was "
        f"changed. To replace them with the articles of '{other}', add --switch-corpus; to index it apart, "
        "give another --index\n")
    assert live(index) == before and sorted(p.name for p in index.iterdir() if p.name.startswith("gen-")) == [before]
    switched = CliRunner().invoke(main, [command, str(other), "--index", str(index), "--switch-corpus", "--max-delete", "100%"])
    assert switched.exit_code == 0, switched.output
    with searchlib.Index.open(index) as opened:
        assert opened.article_count == 1
        assert opened.metadata["corpus"] == str(other)


@pytest.mark.parametrize("command", ["update", "build"])
def test_removing_more_than_half_of_an_index_is_refused_unless_allowed(tmp_path: Path, wire_index: tuple[Path, Path], command: str) -> None:
    corpus, index = wire_index
    write_wire(corpus, 29)  # 31 of the 60 articles gone: a corpus half lost, say
    before = live(index)
    refused = CliRunner().invoke(main, [command, str(corpus), "--index", str(index)])
    assert refused.exit_code == 1
    assert refused.output == (
        f"Error: This {command} would remove 31 of the 60 articles of '{index}', more than the 30 allowed, "
        f"because '{corpus}' no longer has them; nothing was changed. If they are gone for good, run it "
        "again with --max-delete 100%\n")
    assert live(index) == before
    counted = CliRunner().invoke(main, [command, str(corpus), "--index", str(index), "--max-delete", "30"])
    assert counted.exit_code == 1 and "more than the 30 allowed (--max-delete 30)" in counted.output
    allowed = CliRunner().invoke(main, [command, str(corpus), "--index", str(index), "--max-delete", "31"])
    assert allowed.exit_code == 0, allowed.output
    with searchlib.Index.open(index) as opened:
        assert opened.article_count == 29


def test_half_of_an_index_may_go_by_default(tmp_path: Path, wire_index: tuple[Path, Path]) -> None:
    corpus, index = wire_index
    write_wire(corpus, 30)
    assert searchlib.update(corpus, index).removed == 30


def test_a_bad_max_delete_is_a_clear_error(wire_index: tuple[Path, Path]) -> None:
    corpus, index = wire_index
    done = CliRunner().invoke(main, ["update", str(corpus), "--index", str(index), "--max-delete", "half"])
    assert done.exit_code == 2
    assert "Error: Invalid value for '--max-delete': 'half': give a number of articles (100) or a share of the index (50%)\n" in done.output
    with pytest.raises(searchlib.InvalidOptionError, match="max_delete 'half': give a number of articles"):
        searchlib.update(corpus / "no-such-corpus", index, max_delete="half")  # before the corpus is looked at


@pytest.mark.parametrize("command", [["search", "grain"], ["timeline", "grain"]])
@pytest.mark.parametrize("where", ["indexes/reuter", "/nonexistent/dir"])
def test_a_mistyped_index_is_an_error_and_builds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        command: list[str], where: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    shutil.copy(SEED, tmp_path / "corpus")
    done = CliRunner().invoke(main, [*command, "--index", where])
    assert done.exit_code == 1
    assert done.output.startswith(f"Error: No index at '{where}'. Build it with: searchlib build CORPUS --index {where}")
    assert not Path(where).exists() and not (tmp_path / "indexes").exists()


def test_a_named_corpus_is_built_into_a_named_index_on_first_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "news").mkdir()
    shutil.copy(SEED, tmp_path / "news")
    done = CliRunner().invoke(search, ["military base", "--index", "idx", "--corpus", "news"], catch_exceptions=False)
    assert done.exit_code == 0
    assert "1 article matches 'military base'." in done.stdout


def test_an_index_whose_first_build_runs_is_being_built_not_missing(tmp_path: Path) -> None:
    index = tmp_path / "index"
    lock = WriterLock(index).acquire()  # a first build, as far as anyone can see
    try:
        note = lock.noting(None)
        note(searchlib.Progress(articles=2300, done_bytes=45, total_bytes=100))
        with pytest.raises(searchlib.IndexBuildingError, match=(
                rf"The index at '{index}' is still being built: process {os.getpid()} \(.*, started .*\), "
                r"2,300 articles so far, 45% of the corpus read. Search again when it is done, or wait for it "
                r"with --wait SECONDS")):
            searchlib.Index.open(index)
        done = CliRunner().invoke(main, ["search", "grain", "--index", str(index)])
        assert done.exit_code == 1 and "is still being built" in done.output
        waited = CliRunner().invoke(main, ["timeline", "grain", "--index", str(index), "--wait", "0.3"])
        assert waited.exit_code == 1 and "is still being built after waiting 0.3 s" in waited.output
        status = CliRunner().invoke(main, ["status", "--index", str(index)])
        assert status.exit_code == 0
        assert "state:          being built (no generation is live yet)" in status.stdout
        assert "2,300 articles so far, 45% of the corpus read" in status.stdout
        assert searchlib.index_status(index)["writer"]["progress"]["articles"] == 2300
        assert not (index / "CURRENT").exists()
    finally:
        lock.release()


def test_search_waits_for_a_first_build_and_then_answers(tmp_path: Path) -> None:
    corpus = write_wire(tmp_path / "wire.jsonl", 3000)
    index = tmp_path / "index"
    build = subprocess.Popen([sys.executable, "-m", "searchlib", "build", str(corpus), "--index", str(index), "--jobs", "1"],
                             stderr=subprocess.PIPE, text=True)
    try:
        while not (index / "WRITER.lock").exists():
            assert build.poll() is None, build.communicate()
            time.sleep(0.05)
        done = subprocess.run([sys.executable, "-m", "searchlib", "search", "harbour", "--index", str(index),
                               "--wait", "120", "--no-color"], capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr
        assert " articles match 'harbour'." in done.stdout.splitlines()[0]
        with searchlib.Index.open(index) as opened:
            assert opened.article_count == 3000  # built once, by the build, not by the search
    finally:
        build.communicate(timeout=180)


def test_a_mistyped_index_name_gets_a_did_you_mean(tmp_path: Path, wire_index: tuple[Path, Path]) -> None:
    _, index = wire_index
    with pytest.raises(searchlib.IndexNotFoundError, match=rf"\(did you mean '{index}'\?\)$"):
        searchlib.Index.open(tmp_path / "indx")
