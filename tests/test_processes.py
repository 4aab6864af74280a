"""No process outlives its command (issue 16): whatever ends a build (SIGKILL, SIGTERM, Ctrl-C,
a worker that dies), every process it started is gone within seconds, and a caller reading its
output (as cron does) gets its end of file. Real builds, really killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import searchlib

from .test_updates import write_wire


def children_of() -> dict[int, list[int]]:
    """Every live process's children, from /proc (zombies count as gone)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z":
            children.setdefault(int(parent), []).append(int(entry.name))
    return children


def descendants(pid: int) -> set[int]:
    tree, found, todo = children_of(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    living = {pid for children in children_of().values() for pid in children}
    return pids & living


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough articles that two workers are busy for several seconds."""
    folder = tmp_path_factory.mktemp("big")
    write_wire(folder / "wire.jsonl", 12_000)
    return folder


def start_build(corpus: Path, index: Path, **options: object) -> tuple[subprocess.Popen[str], set[int]]:
    """A ``searchlib build --jobs 2`` whose workers are running, and every process it started."""
    build = subprocess.Popen(
        [sys.executable, "-m", "searchlib", "build", str(corpus), "--index", str(index), "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options,  # type: ignore[call-overload]
    )
    deadline = time.monotonic() + 60
    while len(started := descendants(build.pid)) < 3:  # the server and its two workers
        assert build.poll() is None, build.communicate()
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.05)
    time.sleep(0.5)  # well into the work
    return build, started


def gone_within(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_build_leaves_no_process_and_its_output_ends(tmp_path: Path, big_corpus: Path, how: int) -> None:
    build, started = start_build(big_corpus, tmp_path / "index")
    build.send_signal(how)
    stdout, stderr = build.communicate(timeout=10)  # every holder of the pipes is gone
    assert gone_within(started, 5) == set()
    assert "Traceback" not in stderr
    if how == signal.SIGTERM:  # a build told to stop removes what it was writing at once
        assert build.returncode == 128 + signal.SIGTERM
        assert [p.name for p in (tmp_path / "index").iterdir() if p.name.startswith("gen-")] == []
    # The next writer starts clean: what the dead one left is removed.
    searchlib.build(big_corpus, tmp_path / "index", jobs=1)
    live = (tmp_path / "index" / "CURRENT").read_text().strip()
    assert [p.name for p in (tmp_path / "index").iterdir() if p.name.startswith("gen-")] == [live]


def test_ctrl_c_stops_a_build_and_every_process_it_started(tmp_path: Path, big_corpus: Path) -> None:
    build, started = start_build(big_corpus, tmp_path / "index", start_new_session=True)
    os.killpg(build.pid, signal.SIGINT)  # what the terminal sends to the whole foreground group
    _, stderr = build.communicate(timeout=10)
    assert build.returncode == 128 + signal.SIGINT  # the shell's status for Ctrl-C
    assert gone_within(started, 5) == set()
    assert "Traceback" not in stderr
    assert not (tmp_path / "index" / "CURRENT").exists()
    assert [p.name for p in (tmp_path / "index").iterdir() if p.name.startswith("gen-")] == []


def test_a_worker_that_dies_stops_the_build_with_one_line_and_no_process_left(tmp_path: Path, big_corpus: Path) -> None:
    searchlib.build(big_corpus, tmp_path / "index", jobs=1)
    build, started = start_build(big_corpus, tmp_path / "index")
    worker = max(started)  # a worker: forked after the server
    os.kill(worker, signal.SIGKILL)
    _, stderr = build.communicate(timeout=30)
    assert build.returncode == 1
    assert stderr.strip().splitlines() == [
        "Error: A worker process of the build ended before finishing its work; "
        "if it ran out of memory, build with fewer --jobs"
    ]
    assert gone_within(started, 5) == set()
    with searchlib.Index.open(tmp_path / "index") as index:  # the last good index is still live
        assert index.article_count == 12_000


SCRIPT_WITHOUT_MAIN_GUARD = """
import sys
import searchlib
print("building")
report = searchlib.build(sys.argv[1], sys.argv[2], jobs=2)
print("built", report.added)
"""


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_a_script_without_a_main_guard_builds_with_two_jobs_once(tmp_path: Path, how: str) -> None:
    corpus = write_wire(tmp_path / "wire.jsonl", 300)
    arguments = [str(corpus), str(tmp_path / "index")]
    if how == "file":
        script = tmp_path / "build_it.py"
        script.write_text(SCRIPT_WITHOUT_MAIN_GUARD, encoding="utf-8")
        done = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, timeout=120)
    else:
        done = subprocess.run([sys.executable, "-", *arguments], input=SCRIPT_WITHOUT_MAIN_GUARD,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["building", "built 300"]
    assert done.stderr == ""
