"""Rebuilding on a schedule: incremental updates, one writer at a time, readers never disturbed,
and crash safety tested for real, with writers killed by SIGKILL."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import searchlib
from searchlib import IndexLockedError
from searchlib.cli import main
from searchlib.locks import WriterLock

from .conftest import FIXTURES, SEED

WORDS = (
    "grain wheat export harbour council budget minister bank rate bond oil price strike union "
    "market shares dollar yen talks debt trade tariff court police election parliament port"
).split()


def write_wire(path: Path, count: int, *, seed: int = 1, start: int = 0) -> Path:
    """A JSON Lines corpus of ``count`` made-up articles, the same for the same arguments."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as stream:
        for number in range(start, start + count):
            body = " ".join(rng.choice(WORDS) for _ in range(60)) + f". Story number {number}."
            title = " ".join(rng.choice(WORDS) for _ in range(4)).title()
            record = {"id": f"wire-{number}", "title": title, "date": f"1987-03-{1 + number % 28:02d}", "body": body}
            stream.write(json.dumps(record) + "\n")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(FIXTURES, folder)
    shutil.copy(SEED, folder / SEED.name)
    return folder


def generations(index: Path) -> list[str]:
    return sorted(p.name for p in index.iterdir() if p.is_dir())


def test_update_adds_changes_and_removes_then_has_nothing_to_do(tmp_path: Path, corpus: Path) -> None:
    index = tmp_path / "index"
    first = searchlib.update(corpus, index)  # no index yet: the update builds one
    assert (first.kind, first.added, first.updated, first.removed) == ("update", 11, 0, 0)
    (corpus / "new.txt").write_text("Ferry Strike Ends\n\nMay 2, 2014\n\nThe ferry strike in the harbour ended.\n")
    romania = corpus / "world" / "romania.txt"
    romania.write_text(romania.read_text().replace("free coffee", "free tea"))
    (corpus / "military-only.txt").unlink()
    report = searchlib.update(corpus, index)
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    with searchlib.Index.open(index) as opened:
        assert opened.article_count == 11
        assert [h.id for h in opened.search("ferry").hits] == ["new.txt"]
        assert [h.id for h in opened.search("tea").hits] == ["world/romania.txt"]
        assert opened.search("coffee").total == 1  # only wire record 4 still mentions coffee
        assert opened.search("parade").total == 0
    before = generations(index)
    again = searchlib.update(corpus, index)
    assert (again.added, again.updated, again.removed, again.skipped) == (0, 0, 0, ())
    assert generations(index) == before  # nothing changed: no new generation


def test_a_changed_record_in_a_jsonl_file_is_the_only_one_reindexed(tmp_path: Path) -> None:
    wire = write_wire(tmp_path / "wire.jsonl", 50)
    searchlib.build(wire, tmp_path / "index")
    lines = wire.read_text().splitlines()
    record = json.loads(lines[7])
    record["body"] += " Corrected: the minister resigned."
    lines[7] = json.dumps(record)
    del lines[20]
    wire.write_text("\n".join(lines) + "\n")
    report = searchlib.update(wire, tmp_path / "index")
    assert (report.added, report.updated, report.removed) == (0, 1, 1)
    with searchlib.Index.open(tmp_path / "index") as opened:
        assert [h.id for h in opened.search("resigned").hits] == ["wire-7"]
        assert opened.article_count == 49


def test_a_touched_but_unchanged_file_writes_no_generation(tmp_path: Path, corpus: Path) -> None:
    index = tmp_path / "index"
    searchlib.build(corpus, index)
    os.utime(corpus / SEED.name, ns=(1, 1))
    assert searchlib.index_status(index)["changed_files"] == 1
    report = searchlib.update(corpus, index)
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert generations(index) == ["gen-000001"]
    assert searchlib.index_status(index)["changed_files"] == 0  # the file's new time is recorded


def test_update_rebuilds_an_index_of_another_schema_version(tmp_path: Path, corpus: Path) -> None:
    index = tmp_path / "index"
    searchlib.build(corpus, index)
    metadata = index / "gen-000001" / "searchlib.json"
    metadata.write_text(json.dumps({**json.loads(metadata.read_text()), "schema_version": 0}))
    report = searchlib.update(corpus, index)
    assert report.added == 11 and generations(index) == ["gen-000002"]
    with searchlib.Index.open(index) as opened:
        assert opened.article_count == 11


def test_an_added_copy_of_a_story_joins_it(tmp_path: Path) -> None:
    wire = write_wire(tmp_path / "wire.jsonl", 20)
    searchlib.build(wire, tmp_path / "index")
    original = json.loads(wire.read_text().splitlines()[3])
    with wire.open("a") as stream:
        stream.write(json.dumps({**original, "id": "wire-3-repeat", "title": "RPT - " + original["title"]}) + "\n")
    searchlib.update(wire, tmp_path / "index")
    with searchlib.Index.open(tmp_path / "index") as opened:
        (hit,) = [h for h in opened.search('"story number 3"').hits]
        assert {hit.id, *hit.similar} == {"wire-3", "wire-3-repeat"}


def test_progress_is_reported_in_bytes_of_the_corpus(tmp_path: Path) -> None:
    wire = write_wire(tmp_path / "wire.jsonl", 600)
    seen: list[searchlib.Progress] = []
    searchlib.build(wire, tmp_path / "index", on_progress=seen.append)
    assert seen and seen[-1].done_bytes == seen[-1].total_bytes == wire.stat().st_size
    assert seen[-1].articles == 600
    assert [p.done_bytes for p in seen] == sorted(p.done_bytes for p in seen)


def test_a_second_writer_is_refused_naming_the_first(tmp_path: Path, corpus: Path) -> None:
    index = tmp_path / "index"
    with WriterLock(index).acquire():
        with pytest.raises(IndexLockedError, match=rf"Another writer is updating '{index}': process {os.getpid()} \("):
            searchlib.build(corpus, index)
        status_writer = searchlib.index_status if (index / "CURRENT").exists() else None
        assert status_writer is None  # nothing was built while the lock was held
        result = CliRunner().invoke(main, ["update", str(corpus), "--index", str(index)])
        assert result.exit_code == 75
        assert result.stderr.startswith(f"Error: Another writer is updating '{index}': process {os.getpid()} (")
        assert result.stderr.endswith("Try again later, or wait for it with --wait SECONDS\n")


def test_wait_lets_the_second_writer_run_once_the_first_is_done(tmp_path: Path, corpus: Path) -> None:
    index = tmp_path / "index"
    lock = WriterLock(index).acquire()
    threading.Timer(0.5, lock.release).start()
    started = time.monotonic()
    report = searchlib.build(corpus, index, wait=10)
    assert report.added == 11 and 0.4 < time.monotonic() - started < 10


def test_status_shows_a_running_writer(tmp_path: Path, corpus: Path) -> None:
    index = tmp_path / "index"
    searchlib.build(corpus, index)
    assert searchlib.index_status(index)["writer"] is None
    with WriterLock(index).acquire():
        writer = searchlib.index_status(index)["writer"]
        assert writer["pid"] == os.getpid() and "started" in writer
        text = CliRunner().invoke(main, ["status", "--index", str(index)]).stdout
        assert f"writer:         running: process {os.getpid()} (" in text


@pytest.mark.parametrize("preload", [True, False])
def test_a_reader_keeps_its_generation_until_it_refreshes(tmp_path: Path, corpus: Path, preload: bool) -> None:
    index = tmp_path / "index"
    searchlib.build(corpus, index)
    reader = searchlib.Index.open(index, preload=preload)
    (corpus / "new.txt").write_text("Ferry Strike Ends\n\nMay 2, 2014\n\nThe ferry strike in the harbour ended.\n")
    searchlib.update(corpus, index)
    searchlib.update(corpus, index)  # nothing to do
    assert reader.search("ferry").total == 0 and reader.generation.name == "gen-000001"
    assert generations(index) == ["gen-000001", "gen-000002"]  # pinned by the reader
    assert reader.refresh() is True and reader.generation.name == "gen-000002"
    assert reader.search("ferry").total == 1
    assert reader.refresh() is False
    reader.close()
    searchlib.build(corpus, index)
    assert generations(index) == ["gen-000003"]


WRITER_SCRIPT = """
import sys, searchlib
searchlib.build(sys.argv[1], sys.argv[2], switch_corpus=True)
"""


def test_writers_killed_at_random_moments_leave_the_last_good_index(tmp_path: Path) -> None:
    """SIGKILL a build at random points, several times: the index must stay complete and
    searchable, and the next writer must clean up what the dead one left."""
    small = write_wire(tmp_path / "small.jsonl", 40, seed=2)
    large = write_wire(tmp_path / "large.jsonl", 1500, seed=3)
    index = tmp_path / "index"
    searchlib.build(small, index)
    rng = random.Random(5)
    interrupted = 0
    for attempt in range(5):
        writer = subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(large), str(index)])
        if attempt % 2:  # any moment: reading the corpus, analysing, writing, switching
            time.sleep(rng.uniform(0.05, 2.5))
        else:  # once its generation is being written, however fast or slow this machine is
            deadline = time.monotonic() + 60
            while len(generations(index)) < 2 and writer.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.2))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        interrupted += len(generations(index)) > 1  # killed while writing its generation
        with searchlib.Index.open(index) as opened:
            assert opened.article_count in (40, 1500), f"attempt {attempt}: a half-built index"
            assert opened.search("wheat").total > 0
    assert interrupted >= 2  # the kills did land in the middle of writes
    searchlib.build(small, index, switch_corpus=True, max_delete="100%")  # the next writer cleans up after the dead ones
    assert len(generations(index)) == 1
    with searchlib.Index.open(index) as opened:
        assert opened.article_count == 40


SEARCH_LOOP = """
import sys, time, searchlib
failures = searches = 0
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        with searchlib.Index.open(sys.argv[1]) as index:
            assert index.search("wheat OR grain", limit=5).total > 0
        searches += 1
    except Exception as error:
        failures += 1
        print(repr(error), file=sys.stderr)
print(searches, failures)
"""


def test_searches_never_fail_while_another_process_rebuilds_and_updates(tmp_path: Path) -> None:
    wire = write_wire(tmp_path / "wire.jsonl", 400, seed=4)
    index = tmp_path / "index"
    searchlib.build(wire, index)
    searcher = subprocess.Popen([sys.executable, "-c", SEARCH_LOOP, str(index), "6"], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 5
    rounds = 0
    while time.monotonic() < deadline:
        write_wire(wire, 400, seed=4, start=rounds)  # shifts the ids: adds, removes, changes
        searchlib.update(wire, index)
        searchlib.build(wire, index, jobs=1)
        rounds += 1
    out, _ = searcher.communicate(timeout=60)
    searches, failures = map(int, out.split())
    assert rounds >= 2 and searches > 10
    assert failures == 0


def test_cli_update_reports_counts_and_up_to_date(tmp_path: Path, corpus: Path) -> None:
    index = str(tmp_path / "index")
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(corpus), "--index", index]).exit_code == 0
    (corpus / "new.txt").write_text("Ferry Strike Ends\n\nMay 2, 2014\n\nThe ferry strike in the harbour ended.\n")
    changed = runner.invoke(main, ["update", str(corpus), "--index", index, "--report"], catch_exceptions=False)
    assert changed.stdout.startswith(f"Updated '{index}' from '{corpus}' in ")
    assert changed.stdout.endswith(": added 1, updated 0, removed 0; skipped 0.\n")
    same = runner.invoke(main, ["update", str(corpus), "--index", index, "--report"], catch_exceptions=False)
    assert same.stdout.startswith(f"'{index}' is up to date with '{corpus}' (checked in ")
    document = json.loads(runner.invoke(main, ["update", str(corpus), "--index", index, "--json"]).stdout)
    assert (document["kind"], document["added"], document["updated"], document["removed"]) == ("update", 0, 0, 0)
    status = json.loads(runner.invoke(main, ["status", "--index", index, "--json"]).stdout)
    assert (status["articles"], status["changed_files"], status["writer"]) == (12, 0, None)
    bad = runner.invoke(main, ["update", str(corpus), "--index", index, "--wait", "-1"])
    assert bad.exit_code == 2 and "Invalid value for '--wait'" in bad.stderr


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    """Run the real command in a pseudo-terminal: the bar must show articles and an ETA."""
    import pty

    wire = write_wire(tmp_path / "wire.jsonl", 800)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "searchlib", "build", str(wire), "--index", str(tmp_path / "index"), "--jobs", "1"],
        stdin=follower, stdout=follower, stderr=follower, close_fds=True,
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    text = output.decode("utf-8", "replace")
    assert process.returncode == 0
    assert "Indexing" in text and "800 articles, " in text and "/s" in text
    assert "Indexed 800 articles from" in text  # on a terminal the summary is printed
