"""Hostile input (issue 17): one bad file, line or folder costs itself, never the build.

Each test reproduces one input that aborted a build, hung it, read outside the corpus or took
memory without bound: dates out of range, lone surrogates, deep JSON, deep folders, special
files, symbolic links out of the corpus, unreadable folders, over-long lines and files, huge
articles, floods of bad lines. Reading tests run ``read_corpus``; the last tests build a corpus
holding all of them beside good articles, with one and two processes and by ``update``.

Tests that would, were the fix undone, hang or read until memory runs out run under a deadline
(``deadline``) and a cap on this process's memory (``memory_cap``), so they fail instead.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import resource
import signal
import socket
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from click.testing import CliRunner
from whoosh import index as whoosh_index

import searchlib
from searchlib import Article, Skipped, corpus, duplicates, models, writer
from searchlib.cli import main
from searchlib.duplicates import DuplicateFinder, signatures
from searchlib.models import naive_utc
from searchlib.schema import make_schema

from .conftest import SEED

T = TypeVar("T")
GOOD = "A Good Headline\n\nMay 1, 2020\n\nA good body paragraph about the harbour.\n"


def read_all(root: Path, **options: Any) -> tuple[dict[str, Article], list[Skipped]]:
    skipped: list[Skipped] = []
    articles = {article.id: article for article in searchlib.read_corpus(root, on_skip=skipped.append, **options)}
    return articles, skipped


def record(**fields: Any) -> str:
    return json.dumps(fields)


def good_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD)
    return folder


class Hung(Exception):
    """The block ran past its deadline (not an ``OSError``, which the reader would report)."""


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail, rather than hang, if the block runs longer than ``seconds`` (a FIFO opened for
    reading waits for a writer forever)."""

    def expire(signum: int, frame: Any) -> None:
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def memory_cap(extra: int) -> Iterator[None]:
    """Let this process map at most ``extra`` more bytes in the block, so that a read that
    would go on until memory runs out (``/dev/zero``, a gzip bomb) fails with ``MemoryError``
    instead of taking the memory of a shared machine."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/status") as status:
        mapped = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    limit = mapped + extra if hard == resource.RLIM_INFINITY else min(mapped + extra, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def traced_peak(function: Callable[[], T]) -> tuple[T, int]:
    """What ``function`` returns, and the most memory Python and numpy held while it ran."""
    tracemalloc.start()
    try:
        result = function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def one_line_bomb(mebibytes: int) -> bytes:
    """Gzip members of one MiB of ``x`` each (a kilobyte compressed): one line of this many MiB."""
    return gzip.compress(b"x" * 2**20) * mebibytes


# Floods of bad lines ------------------------------------------------------------------------------


def duplicate_flood(folder: Path, copies: int) -> Path:
    """A gzip file of the same record ``copies`` times: every line after the first is skipped."""
    path = folder / "flood.jsonl.gz"
    path.write_bytes(gzip.compress((record(id="dup", title="Flood", body="The same line.") + "\n").encode() * copies))
    return path


def flood_and_bad_lines(tmp_path: Path) -> Path:
    """A corpus of 2,999 repeated ids (a flood), then 150 lines that are not JSON."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    duplicate_flood(folder, 3_000)
    (folder / "z-bad.jsonl").write_text("not json\n" * 150)
    return folder


def test_a_flood_of_skipped_lines_keeps_counts_and_the_first_examples_of_each_kind(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = flood_and_bad_lines(tmp_path)
    report = searchlib.build(folder, tmp_path / "index")
    assert (report.added, report.skipped_count, report.skipped_reasons) == (1, 3_149, {"duplicate-id": 2_999, "not-json": 150})
    assert [(Path(item.path).name, item.line) for item in report.skipped] == (
        [("flood.jsonl.gz", line) for line in range(2, 102)] + [("z-bad.jsonl", line) for line in range(1, 101)]
    )
    logged = [entry.getMessage() for entry in caplog.records if entry.name == "searchlib.corpus"]
    assert len(logged) == 201 and logged[-1] == "… 2,949 more skipped inputs not logged; see the report"
    with searchlib.Index.open(tmp_path / "index") as index:
        assert index.metadata["skipped"] == 3_149
    assert (models.SKIPPED_EXAMPLES, models.SKIPPED_EXAMPLES_OF_A_KIND) == (1_000, 100)


def test_a_report_lists_at_most_so_many_examples_of_all_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(searchlib.corpus, "SKIPPED_EXAMPLES", 150)
    report = searchlib.build(flood_and_bad_lines(tmp_path), tmp_path / "index")
    assert [item.kind for item in report.skipped] == ["duplicate-id"] * 100 + ["not-json"] * 50
    assert report.skipped_count == 3_149


def test_the_command_line_shows_the_first_skipped_inputs_and_counts_the_rest(tmp_path: Path) -> None:
    folder = flood_and_bad_lines(tmp_path)
    arguments = ["build", str(folder), "--index", str(tmp_path / "index"), "--jobs", "1"]
    result = CliRunner().invoke(main, [*arguments, "--json"], catch_exceptions=False)
    errors = result.stderr.splitlines()
    assert len(errors) == 201 and all(" skipped " in line for line in errors[:200])
    assert errors[-1].endswith(" … 2,949 more skipped inputs not shown; see the report (--report or --json)")
    report = json.loads(result.stdout)
    assert (len(report["skipped"]), report["skipped_count"]) == (200, 3_149)
    assert report["skipped_reasons"] == {"duplicate-id": 2_999, "not-json": 150}
    assert report["skipped"][0] == {"path": str(folder / "flood.jsonl.gz"), "line": 2, "kind": "duplicate-id",
                                    "reason": "duplicate id 'dup', first read from flood.jsonl.gz:1"}
    summary = CliRunner().invoke(main, [*arguments, "--report"], catch_exceptions=False).stdout.splitlines()
    assert summary[0].endswith("; skipped 3,149.") and len(summary) == 1 + 20 + 2
    assert summary[-2:] == ["  … and 3,129 more (180 of them listed on stderr, or use --json)",
                            "  skipped by reason: duplicate-id 2,999, not-json 150"]


# Dates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("date", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_json_date_whose_utc_date_is_out_of_range_makes_the_article_undated(tmp_path: Path, date: str) -> None:
    (tmp_path / "wire.jsonl").write_text(record(id="tz-1", title="t", body="b", date=date) + "\n")
    articles, skipped = read_all(tmp_path)
    assert articles["tz-1"].date is None and skipped == []


def test_a_date_line_out_of_range_in_an_article_file_makes_it_undated(tmp_path: Path) -> None:
    (tmp_path / "far.txt").write_text("Far Away\n\n0001-01-01T00:00:00+14:00\n\nThe body.\n")
    articles, skipped = read_all(tmp_path)
    assert (articles["far.txt"].date, articles["far.txt"].body, skipped) == (None, "The body.", [])


def test_naive_utc_makes_a_time_without_a_utc_date_unknown() -> None:
    assert naive_utc(datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-14)))) is None
    assert naive_utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))) is None
    assert naive_utc(datetime(9999, 12, 31, 9, tzinfo=timezone(timedelta(hours=-14)))) == datetime(9999, 12, 31, 23)


def test_dates_at_the_ends_of_the_calendar_are_kept_and_give_stories() -> None:
    text = "Wheat exports rose sharply in March, traders in Chicago said on Monday."
    finder = DuplicateFinder()
    assert finder.story("first", text, datetime(1, 1, 1)) == "first"
    assert finder.story("last", text, datetime(9999, 12, 31, 23, 59, 59)) == "last"  # millennia apart
    assert finder.story("copy", text, datetime(1, 1, 2)) == "first"


# Lone surrogates ----------------------------------------------------------------------------------


def test_lone_surrogates_in_json_are_replaced_by_the_replacement_character(tmp_path: Path) -> None:
    (tmp_path / "s.jsonl").write_text('{"id": "s2\\ud800", "title": "Caf\\udce9 news", "body": "A body \\udfff here."}\n')
    articles, skipped = read_all(tmp_path)
    assert list(articles) == ["s2\ufffd"] and skipped == []
    assert (articles["s2\ufffd"].title, articles["s2\ufffd"].body) == ("Caf\ufffd news", "A body \ufffd here.")


def test_a_file_name_that_is_not_utf8_gets_an_id_with_the_replacement_character(tmp_path: Path) -> None:
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt"), "wb") as stream:
        stream.write(GOOD.encode())
    with open(os.path.join(os.fsencode(tmp_path), b"bad\xff.jsonl"), "wb") as stream:
        stream.write(b"not json\n")
    articles, skipped = read_all(tmp_path)
    assert list(articles) == ["caf\ufffd.txt"]
    assert articles["caf\ufffd.txt"].path == str(tmp_path / "caf\ufffd.txt")
    assert [(Path(item.path).name, item.kind) for item in skipped] == [("bad\ufffd.jsonl", "not-json")]


def test_surrogates_never_reach_the_index_or_what_is_printed_of_it(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "s.jsonl").write_text('{"id": "s2\\ud800", "title": "Harbour \\udce9 news", "body": "The harbour \\ud800 opened."}\n')
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as stream:
        stream.write(GOOD.encode())
    report = searchlib.build(folder, tmp_path / "index")
    assert (report.added, report.skipped) == (2, ())
    with searchlib.Index.open(tmp_path / "index") as index:
        hits = index.search("harbour").hits
        assert sorted(hit.id for hit in hits) == ["caf\ufffd.txt", "s2\ufffd"]
    for options in ([], ["--json"], ["--csv"]):
        result = CliRunner().invoke(main, ["search", "harbour", "--index", str(tmp_path / "index"), *options])
        assert result.exit_code == 0, result.output
        assert "s2\ufffd" in result.stdout or "Harbour \ufffd news" in result.stdout


# Folders and files that are not what they seem ---------------------------------------------------


def test_folders_nested_1200_deep_are_walked_without_recursion(tmp_path: Path) -> None:
    folder = good_corpus(tmp_path)
    deepest = folder
    for _ in range(1_200):
        deepest = deepest / "d"
        deepest.mkdir()
    (deepest / "deep.txt").write_text(GOOD)
    try:
        articles, skipped = read_all(folder)
        assert sorted(articles) == ["d/" * 1_200 + "deep.txt", "good.txt"] and skipped == []
    finally:
        remove_deep(deepest, folder)


def remove_deep(deepest: Path, top: Path) -> None:
    """Remove the nested folders from the deepest up (pytest's clean-up recurses)."""
    for item in deepest.iterdir():
        item.unlink()
    while deepest != top:
        deepest.rmdir()
        deepest = deepest.parent


SPECIAL = "not an article file: not opened; remove it from the corpus"


@pytest.fixture
def watched_open(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths ``os.open`` opens (what reading a corpus file opens it with)."""
    opened: list[str] = []
    real_open = os.open

    def watched(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(os.fsdecode(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", watched)
    return opened


def test_fifos_and_sockets_are_skipped_without_being_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, watched_open: list[str]
) -> None:
    folder = good_corpus(tmp_path)
    os.mkfifo(folder / "fifo.txt")
    (folder / "pipe-link.txt").symlink_to("fifo.txt")
    monkeypatch.chdir(folder)  # a socket's path must be short
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind("sock.jsonl")
        with deadline(30):
            articles, skipped = read_all(folder)
    assert list(articles) == ["good.txt"]
    assert [(Path(item.path).name, item.reason) for item in skipped] == [
        ("fifo.txt", f"a FIFO (named pipe), {SPECIAL}"),
        ("pipe-link.txt", f"a FIFO (named pipe), {SPECIAL}"),
        ("sock.jsonl", f"a socket, {SPECIAL}"),
    ]
    assert {item.kind for item in skipped} == {"special-file"}
    assert [Path(path).name for path in watched_open] == ["good.txt"]


def test_a_device_is_skipped_without_being_opened_even_through_a_followed_link(
    tmp_path: Path, watched_open: list[str]
) -> None:
    folder = good_corpus(tmp_path)
    (folder / "zero.txt").symlink_to("/dev/zero")
    with deadline(30), memory_cap(3 * 2**30):
        articles, skipped = read_all(folder, follow_symlinks=True)  # /dev/zero is outside the corpus
    assert list(articles) == ["good.txt"]
    assert [(Path(item.path).name, item.kind, item.reason) for item in skipped] == [
        ("zero.txt", "special-file", f"a character device, {SPECIAL}")
    ]
    assert [Path(path).name for path in watched_open] == ["good.txt"]


def test_a_fifo_put_in_place_of_a_listed_file_is_not_waited_for(tmp_path: Path) -> None:
    folder = good_corpus(tmp_path)
    listed = list(corpus.corpus_files(folder))
    (folder / "good.txt").unlink()
    os.mkfifo(folder / "good.txt")
    skipped: list[Skipped] = []
    with deadline(30):
        found = list(corpus.read_file(listed[0], folder, skipped.append))
    assert found == [] and [item.reason for item in skipped] == [f"a FIFO (named pipe), {SPECIAL}"]


def test_symlinks_that_leave_the_corpus_are_skipped_unless_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.txt").write_text("Secret Headline\n\nMay 1, 2020\n\nPrivate text.\n")
    (outside / "folder" / "more.txt").write_text(GOOD)
    folder = good_corpus(tmp_path)
    (folder / "bashrc.txt").symlink_to(outside / "secret.txt")
    (folder / "elsewhere").symlink_to(outside / "folder")
    (folder / "alias.txt").symlink_to("good.txt")  # inside the corpus: read, as before
    (folder / "loop").symlink_to(folder)  # inside; a loop if links to folders are walked
    (folder / "nowhere.txt").symlink_to(folder / "missing.txt")
    articles, skipped = read_all(folder)
    assert sorted(articles) == ["alias.txt", "good.txt"]
    secret = os.path.realpath(outside / "secret.txt")
    assert [(Path(item.path).name, item.kind, item.reason) for item in skipped] == [
        ("bashrc.txt", "outside-corpus", f"a symbolic link to '{secret}', outside the corpus: not read (--follow-symlinks reads it)"),
        ("elsewhere", "outside-corpus", f"a symbolic link to '{os.path.realpath(outside / 'folder')}', outside the corpus: "
                                        "not read (--follow-symlinks reads it)"),
        ("nowhere.txt", "unreadable", "a symbolic link that leads nowhere: No such file or directory"),
    ]
    followed, skipped = read_all(folder, follow_symlinks=True)
    assert sorted(followed) == ["alias.txt", "bashrc.txt", "elsewhere/more.txt", "good.txt"]
    assert [item.kind for item in skipped] == ["unreadable"]


def test_an_unreadable_folder_is_reported_like_an_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = good_corpus(tmp_path)
    (folder / "locked").mkdir()
    (folder / "locked" / "inside.txt").write_text(GOOD)
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path=".": _locked(path, folder / "locked", real_scandir))
    articles, skipped = read_all(folder)
    assert list(articles) == ["good.txt"]
    assert [(item.path, item.kind, item.reason) for item in skipped] == [
        (str(folder / "locked"), "unreadable", "cannot read the folder: Permission denied; the files in it were not read")
    ]


def test_an_update_keeps_what_was_indexed_of_a_folder_or_file_it_cannot_read_now(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Permissions or a disk gone for a moment must not remove articles: only what the corpus no
    longer has is removed (issue 16's rule that nothing is lost by surprise)."""
    folder = good_corpus(tmp_path)
    (folder / "locked").mkdir()
    (folder / "locked" / "inside.txt").write_text(GOOD.replace("Headline", "Locked Headline"))
    (folder / "flaky.txt").write_text(GOOD.replace("Headline", "Flaky Headline"))
    index = tmp_path / "index"
    searchlib.build(folder, index)
    real_scandir, real_open = os.scandir, os.open
    monkeypatch.setattr(os, "scandir", lambda path=".": _locked(path, folder / "locked", real_scandir))

    def flaky_open(path: Any, *args: Any, **kwargs: Any) -> Any:
        if Path(os.fsdecode(path)).name == "flaky.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", flaky_open)
    (folder / "flaky.txt").touch()  # changed, so that the update reads it
    report = searchlib.update(folder, index)
    assert (report.removed, report.skipped_reasons) == (0, {"unreadable": 2})
    with searchlib.Index.open(index) as opened:
        assert opened.article_count == 3
    monkeypatch.undo()
    (folder / "locked" / "inside.txt").unlink()
    assert searchlib.update(folder, index).removed == 1  # readable again: what is gone is removed


def test_follow_symlinks_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("Outside Headline\n\nMay 1, 2020\n\nThe outside text.\n")
    folder = good_corpus(tmp_path)
    (folder / "link.txt").symlink_to(tmp_path / "outside.txt")
    index = str(tmp_path / "index")
    plain = json.loads(CliRunner().invoke(main, ["build", str(folder), "--index", index, "--json"], catch_exceptions=False).stdout)
    assert (plain["added"], plain["skipped_reasons"]) == (1, {"outside-corpus": 1})
    for command in ("build", "update"):
        followed = CliRunner().invoke(main, [command, str(folder), "--index", index, "--json", "--follow-symlinks"],
                                      catch_exceptions=False)
        report = json.loads(followed.stdout)
        assert (report["skipped_count"], report["added"]) == (0, 2 if command == "build" else 0)


def _locked(path: Any, locked: Path, scandir: Callable[[Any], Any]) -> Any:
    """``os.scandir``, but for ``locked``, which it cannot read (as chmod 000 does, but for root)."""
    if not isinstance(path, int) and Path(os.fsdecode(path)) == locked:
        raise PermissionError(13, "Permission denied", str(path))
    return scandir(path)


# Size and depth -----------------------------------------------------------------------------------


def nested(depth: int) -> list[Any]:
    """A JSON array nested ``depth`` deep: ``[[[]]]`` is 3."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_json_nested_deeper_than_the_limit_is_skipped_before_it_is_parsed(tmp_path: Path) -> None:
    limit = 100  # corpus.MAX_JSON_NESTING
    lines = [
        "[" * 100_000,
        '{"id": "title", "title": ' + "[" * 50_000 + "]" * 50_000 + ', "body": "b"}',
        record(id="ok", title="Fine", body="Fine."),
        record(id="edge", title="Edge", body="b", extra=nested(limit - 1)),  # the object is one level
        record(id="over", title="Over", body="b", extra=nested(limit)),
        record(id="brackets", title="[[[[" * 100, body="{" * 500),  # brackets in strings do not nest
    ]
    (tmp_path / "deep.jsonl").write_text("\n".join(lines) + "\n")
    articles, skipped = read_all(tmp_path)
    assert sorted(articles) == ["brackets", "edge", "ok"]
    reason = "JSON nested more than 100 levels deep (searchlib.corpus.MAX_JSON_NESTING); an article is one flat object"
    assert [(item.line, item.reason) for item in skipped] == [(1, reason), (2, reason), (5, reason)]
    assert {item.kind for item in skipped} == {"too-deep"} and corpus.MAX_JSON_NESTING == limit


def test_a_number_too_long_for_python_is_a_json_error_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "n.jsonl").write_text('{"id": ' + "9" * 5_000 + ', "title": "t", "body": "b"}\n' + record(id="ok", title="t", body="b"))
    articles, skipped = read_all(tmp_path)
    assert list(articles) == ["ok"] and [item.line for item in skipped] == [1]
    assert skipped[0].reason.startswith("not valid JSON (Exceeds the limit (4300 digits) for integer string conversion")


def test_an_article_file_over_the_size_limit_is_skipped_without_being_read(tmp_path: Path) -> None:
    folder = good_corpus(tmp_path)
    with open(folder / "huge.txt", "wb") as stream:
        stream.truncate(200 * 2**20)  # sparse: 200 MiB that take no disk
    (articles, skipped), peak = traced_peak(lambda: read_all(folder))
    assert list(articles) == ["good.txt"]
    assert [item.reason for item in skipped] == [
        "the file is 200.0 MiB, over the 10.0 MiB one article may hold "
        "(searchlib.corpus.MAX_ARTICLE_BYTES): split it into articles"
    ]
    assert peak < 2**20 and skipped[0].kind == "too-large"


def test_a_one_line_gzip_bomb_is_passed_over_without_being_held(tmp_path: Path) -> None:
    path = tmp_path / "bomb.jsonl.gz"
    before, after = record(id="before", title="Before", body="b"), record(id="after", title="After", body="a")
    path.write_bytes(gzip.compress(f"{before}\n".encode()) + one_line_bomb(64) + gzip.compress(f"\n{after}\n".encode()))
    with memory_cap(3 * 2**30):
        (articles, skipped), peak = traced_peak(lambda: read_all(path))
    assert peak < 21 * 2**20  # the line's first 10 MiB, twice at most
    assert sorted(articles) == ["after", "before"]
    assert [(item.line, item.reason) for item in skipped] == [
        (2, "the line is over the 10.0 MiB one article may hold (searchlib.corpus.MAX_ARTICLE_BYTES); passed over to its end")
    ]
    assert skipped[0].kind == "too-large"


def test_a_line_is_read_up_to_the_limit_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus, "MAX_ARTICLE_BYTES", 100, raising=False)

    def line(article_id: str, size: int) -> str:
        text = record(id=article_id, title="T", body="")
        return record(id=article_id, title="T", body="y" * (size - len(text)))

    lines = [line("fits", 100), line("over", 101), line("next", 50), line("last", 300)]  # no line break after the last
    (tmp_path / "w.jsonl").write_text("\n".join(lines))
    articles, skipped = read_all(tmp_path)
    assert sorted(articles) == ["fits", "next"]
    reason = "the line is over the 100 bytes one article may hold (searchlib.corpus.MAX_ARTICLE_BYTES); passed over to its end"
    assert [(item.line, item.reason) for item in skipped] == [(2, reason), (4, reason)]


# What one article contributes ---------------------------------------------------------------------


def test_a_long_articles_signature_is_that_of_its_first_characters_made_in_bounded_memory() -> None:
    text = " ".join(f"w{number}" for number in range(1_500_000))  # 12 MB, every shingle different
    (signature,), peak = traced_peak(lambda: signatures([text]))
    assert peak < 64 * 2**20  # all of it took 1.2 GB
    assert np.array_equal(signature, signatures([text[:duplicates.SIGNATURE_CHARACTERS]])[0])


def test_texts_signed_in_several_passes_have_the_signatures_they_have_alone() -> None:
    texts = [" ".join(f"t{text}w{word % (50 + text)}" for word in range(5_000)) for text in range(40)]
    assert sum(map(len, texts)) > 1_000_000  # more than one pass
    together = signatures(texts)
    for text, signature in zip(texts, together):
        assert np.array_equal(signatures([text])[0], signature)


def test_only_the_first_analysed_characters_are_searchable_and_the_whole_text_is_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "ANALYSED_CHARACTERS", 2_000, raising=False)
    body = "The zanzibarite opening. " + "Filler words about the harbour budget. " * 200 + "The quuxalite closing."
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "long.txt").write_text(f"Long Report\n\nMay 1, 2020\n\n{body}\n")
    searchlib.build(folder, tmp_path / "index", jobs=1)
    with searchlib.Index.open(tmp_path / "index") as index:
        assert [hit.id for hit in index.search("zanzibarite").hits] == ["long.txt"]
        assert index.search("quuxalite").total == 0
        with whoosh_index.open_dir(str(index.generation)).searcher() as searcher:
            assert searcher.document(id="long.txt")["body"] == body


def test_analysing_a_huge_article_holds_what_its_first_analysed_characters_need(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "ANALYSED_CHARACTERS", 100_000, raising=False)  # a tenth: the same bound, sooner
    words = "the harbour council met to discuss Budget and Roads in Dushanbe".split()
    body = " ".join(words[number % len(words)] + str(number % 997) for number in range(120_000))  # 1 MB
    schema = make_schema()
    (postings, _), peak = traced_peak(lambda: writer.text_postings(schema, "Title", "", body))
    assert sum(postings["body"].frequencies) < 20_000  # of 120,000 words
    assert peak < 20 * 2**20  # analysing all of it held 5 times as much


# Everything at once, for build and update ---------------------------------------------------------


def make_hostile(folder: Path, outside: Path, *, deep: bool) -> dict[str, int]:
    """Put every hostile input of the issue into ``folder`` (folders 1,200 deep if ``deep``: they
    take seconds to remove); return the skips expected, by kind."""
    body = "Grain harvest news from the plains, with words enough for a story of its own"
    dates = [("tz-1", "9999-12-31T23:59:59-14:00"), ("tz-2", "0001-01-01T00:00:00+14:00"),
             ("y1", "0001-01-01T00:00:00"), ("y9999", "9999-12-31T23:59:59")]
    (folder / "a-dates.jsonl").write_text("".join(record(id=i, title=f"Dated {i}", body=f"{body} {i}.", date=d) + "\n"
                                                  for i, d in dates))
    (folder / "b-far.txt").write_text(f"Far Away\n\n0001-01-01T00:00:00+14:00\n\n{body}, far away.\n")
    (folder / "c-surrogates.jsonl").write_text('{"id": "s2\\ud800", "title": "Caf\\udce9", "body": "Body \\udfff."}\n')
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as stream:
        stream.write(GOOD.encode())
    (folder / "d-nested.jsonl").write_text("[" * 100_000 + "\n" + '{"id": "x", "title": ' + "[" * 50_000 + "]" * 50_000 + "}\n")
    if deep:
        _make_deep(folder / "deep", 1_200)
    (folder / "e-bomb.jsonl.gz").write_bytes(one_line_bomb(16) + gzip.compress(("\n" + record(id="after-bomb", title="After",
                                                                                                   body=body) + "\n").encode()))
    duplicate_flood(folder, 1_500)
    with open(folder / "huge.txt", "wb") as stream:
        stream.truncate(50 * 2**20)
    os.mkfifo(folder / "fifo.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (outside / "bash.bashrc").write_text("Shell Settings\n\nMay 1, 2020\n\nexport SECRET=1\n")
    (folder / "bashrc.txt").symlink_to(outside / "bash.bashrc")
    (folder / "locked").mkdir()
    (folder / "locked" / "inside.txt").write_text(GOOD)
    return {"too-deep": 2, "too-large": 2, "duplicate-id": 1_499, "special-file": 1, "outside-corpus": 2, "unreadable": 1}


def _make_deep(top: Path, depth: int) -> Path:
    deepest = top
    deepest.mkdir()
    for _ in range(depth):
        deepest = deepest / "d"
        deepest.mkdir()
    (deepest / "deep.txt").write_text(GOOD)
    return deepest


HOSTILE_IDS = {SEED.name, "tz-1", "tz-2", "y1", "y9999", "b-far.txt", "s2\ufffd", "caf\ufffd.txt", "after-bomb", "dup"}
DEEP_ID = "deep/" + "d/" * 1_200 + "deep.txt"


@pytest.mark.parametrize("how", ["build", "build-jobs-2", "update"])
def test_every_hostile_input_costs_itself_and_every_good_article_is_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    folder, outside, index = tmp_path / "corpus", tmp_path / "outside", tmp_path / "index"
    folder.mkdir()
    outside.mkdir()
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    real_scandir = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path=".": _locked(path, folder / "locked", real_scandir))
    deep = how == "build"
    ids = HOSTILE_IDS | ({DEEP_ID} if deep else set())
    try:
        with deadline(300), memory_cap(4 * 2**30):
            if how == "update":
                searchlib.build(folder, index)
                expected = make_hostile(folder, outside, deep=deep)
                report = searchlib.update(folder, index)
            else:
                expected = make_hostile(folder, outside, deep=deep)
                report = searchlib.build(folder, index, jobs=2 if how == "build-jobs-2" else 1)
            assert report.added == len(ids) - (how == "update")
            assert report.skipped_reasons == expected
            assert report.skipped_count == sum(expected.values())
            assert len(report.skipped) == sum(min(count, 100) for count in expected.values())  # every kind listed
            with searchlib.Index.open(index) as opened:
                assert opened.article_count == len(ids)
                assert [hit.id for hit in opened.search("military base").hits] == [SEED.name]
                assert opened.search("SECRET").total == 0
                assert [hit.id for hit in opened.search("grain", sort="newest").hits][0] == "y9999"
            if how == "update":
                again = searchlib.update(folder, index)
                assert (again.added, again.updated, again.removed) == (0, 0, 0)
    finally:
        deepest = Path(folder, "deep", *["d"] * 1_200)
        if deepest.exists():
            remove_deep(deepest, folder)
