"""Every example in the README runs as written, so that none can go stale (issue 18).

The README's code blocks are run in order, in one workspace: a copy of the shipped corpus, and
beside it a ``../shared/data`` of small made-up collections in the place of Reuters and SciFact.

- ``sh`` blocks: each command must succeed (the quick start's install lines are CI's to run);
  the servers they start (``searchlib serve``, ``serve-shard``) run on free ports for the rest of
  the README, which reaches them there; the Scale-out commands need Xapian, and are left out,
  with a warning, where it is missing (not in CI).
- ``python`` blocks: run as they are.
- ``text`` blocks that begin with ``$ command``: transcripts. Each command is run and what it
  prints (stdout, then stderr) must match the lines shown, where a number stands for any number,
  ``…`` for anything, a quoted or absolute path for any path, and a bar of the timeline for any
  bar; a last line ``…`` lets more lines follow.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from .conftest import ROOT, SEED

README = ROOT / "README.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks() -> list[tuple[str, str, int]]:
    text = README.read_text(encoding="utf-8")
    return [(found[1], found[2], text.count("\n", 0, found.start()) + 1) for found in BLOCK.finditer(text)]


def made_up_reuters(count: int = 150) -> list[dict[str, object]]:
    """Articles shaped as Reuters-21578's (ids, ALL-CAPS titles, dates of 1987), words made up."""
    rng = random.Random(18)
    topics = [
        ("MILITARY PARADE", "The military parade passed through the capital; the army showed new tanks."),
        ("GRAIN EXPORTS", "Grain exports to the Soviet Union rose, the U.S. Agriculture Department said. Wheat and maize shipments grew."),
        ("WHEAT PRICES", "Wheat prices fell in Chicago as traders expected larger grain exports from Canada."),
        ("OIL PRICES", "OPEC ministers met in Vienna. Oil prices rose as output fell."),
        ("BANK RATES", "The Bank of England held interest rates; the Bundesbank also left its interest rates unchanged."),
        ("MILITARY BASE", "The military base near the border was closed, officials in Washington said."),
    ]
    filler = ("traders said on monday the ministry reported figures for the week while analysts expected "
              "markets in london tokyo and new york to follow prices shares bonds dollar yen sterling "
              "harvest tonnes crop farmers port ships cargo demand supply quarter year month").split()
    articles = []
    for number in range(count):
        title, body = topics[number % len(topics)]
        body = f"{body} {' '.join(rng.choices(filler, k=60))}."
        articles.append({"id": f"reuters-{11300 + number}", "title": title, "date": f"1987-{2 + number % 5:02d}-{1 + number % 27:02d}",
                         "body": body})
    military_base = articles[5]  # a wire repeat of one story, for the lines that count stories
    articles.append({**military_base, "id": f"reuters-{11300 + count}"})
    return articles


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readme")
    work = root / "work"
    (work / "corpus").mkdir(parents=True)
    shutil.copy(SEED, work / "corpus")
    data = root / "shared" / "data"
    (data / "scifact").mkdir(parents=True)
    with gzip.open(data / "reuters21578.jsonl.gz", "wt", encoding="utf-8") as stream:
        stream.writelines(json.dumps(article) + "\n" for article in made_up_reuters())
    documents = [{"id": f"d{n}", "title": f"Study {n}", "body": f"Cells and proteins {n}. " + ("Ash clouds." if n % 3 else "Ion channels.")}
                 for n in range(12)]
    with gzip.open(data / "scifact" / "corpus.jsonl.gz", "wt", encoding="utf-8") as stream:
        stream.writelines(json.dumps(document) + "\n" for document in documents)
    (data / "scifact" / "topics.tsv").write_text("1\tion channels\n2\tash clouds\n", encoding="utf-8")
    (data / "scifact" / "qrels.txt").write_text("1 0 d0 1\n1 0 d3 1\n2 0 d1 1\n", encoding="utf-8")
    return work


def run(command: str, work: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    environment.pop("SEARCHLIB_INDEX", None)
    environment.pop("SEARCHLIB_CORPUS", None)
    return subprocess.run(["bash", "-c", command], cwd=work, env=environment, capture_output=True, text=True, timeout=300)


class Servers:
    """The servers the README starts (``searchlib serve``, ``searchlib serve-shard``), run as it
    writes them but each port it names moved to a free one, in its commands after too; up to the
    end of the README, then stopped as a person would (Ctrl-C; a shard server by its process id)."""

    _PORT = re.compile(r"(?<=--port )\d+|(?<=127\.0\.0\.1:)\d+")

    def __init__(self) -> None:
        self.ports: dict[str, int] = {}
        self.running: list[tuple[str, subprocess.Popen[str]]] = []

    def pointed(self, command: str) -> str:
        """``command`` with each port the README names moved to the free one it stands for."""
        return self._PORT.sub(lambda found: str(self._port(found.group())), command)

    def _port(self, written: str) -> int:
        if written not in self.ports:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.ports[written] = probe.getsockname()[1]
        return self.ports[written]

    def start(self, command: str, work: Path) -> None:
        if command.startswith("searchlib serve ") and "--port" not in command:
            command += " --port 8080"  # its default, written out so that it can be moved
        command = self.pointed(command)
        port = int(command.split("--port ")[1].split()[0])
        environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=work, env=environment, start_new_session=True,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.running.append((command, process))
        assert process.stderr is not None
        if command.startswith("searchlib serve "):
            announced = process.stderr.readline()
            assert announced.startswith("Serving ") and f":{port}/" in announced, f"{command}: {announced}"
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5):
                    return
            except ConnectionRefusedError:
                assert process.poll() is None, f"{command}: ended with {process.returncode}: {process.stderr.read()}"
                time.sleep(0.05)
        raise AssertionError(f"{command}: nothing listens on port {port}")

    def stop(self) -> None:
        """Stop every server, then say which did not end as it should (one that did not must
        not leave the others running)."""
        wrong = []
        for command, process in self.running:
            web = command.startswith("searchlib serve ")
            process.send_signal(signal.SIGINT if web else signal.SIGTERM)
            try:
                code = process.wait(30)
            except subprocess.TimeoutExpired:
                code = None
            finally:
                process.kill()
                assert process.stderr is not None
                process.stderr.close()
            if code != 0:
                wrong.append(f"{command}: ended with {code} on {'Ctrl-C' if web else 'SIGTERM'}")
        assert not wrong, wrong


#: What the Scale-out section's commands need; where it is missing they are left out, saying so
#: (tests/test_xapian_shards.py skips likewise), except in CI, which installs it.
XAPIAN = shutil.which("xapian-tcpsrv") is not None and importlib.util.find_spec("xapian") is not None


def needs_xapian(command: str) -> bool:
    return any(mark in command for mark in ("--engine xapian", "serve-shard", "xapian://", "--shard ", "reuters-x"))


def commands(code: str) -> list[str]:
    """The commands of an ``sh`` block, continued lines joined."""
    return [line for line in code.replace("\\\n", " ").splitlines() if line.strip() and not line.lstrip().startswith("#")]


def transcript(code: str) -> list[tuple[str, list[str]]]:
    """The ``$ command`` lines of a block, each with the lines shown after it."""
    steps: list[tuple[str, list[str]]] = []
    for line in code.replace("\\\n", " ").splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_QUOTED_PATH = re.compile(r"'[^']*'")
_BARE_PATH = re.compile(r"(?<![\w'])/[^\s']+")
_BAR = re.compile("[█▏▎▍▌▋▊▉]+")


def pattern(shown: str) -> re.Pattern[str]:
    """What a line shown in the README stands for."""
    shown = re.sub(r"\s+\(on stderr\)$", "", shown.rstrip())
    pieces = []
    for piece in re.split(r"(…|\d[\d,]*(?:\.\d+)?|'[^']*'|(?<![\w'])/[^\s']+|[█▏▎▍▌▋▊▉]+)", shown):
        if piece == "…":
            pieces.append(".*")
        elif _NUMBER.fullmatch(piece):
            pieces.append(r"[\d,.]+")
        elif _QUOTED_PATH.fullmatch(piece) and "/" in piece:
            pieces.append("'[^']*'")
        elif _BARE_PATH.fullmatch(piece):
            pieces.append(r"\S+")
        elif _BAR.fullmatch(piece):
            pieces.append("[█▏▎▍▌▋▊▉]*")
        else:
            pieces.append(re.escape(piece))
    if re.fullmatch(r"\S+\s+\d[\d,]*", shown):  # a timeline's empty period: any count, any bar
        pieces.append("(?:  [█▏▎▍▌▋▊▉]*)?")
    return re.compile("".join(pieces).replace(r"\ \ ", r"\s+").rstrip())


def check_transcript(code: str, line: int, work: Path, servers: Servers) -> None:
    for command, shown in transcript(code):
        done = run(servers.pointed(command), work)
        expected_code = 1 if any(s.startswith("Error:") for s in shown) else 0
        assert done.returncode == expected_code, f"README line {line}: {command}\n{done.stdout}{done.stderr}"
        printed = (done.stderr + done.stdout).rstrip("\n").splitlines()  # as a terminal shows them here
        while shown and not shown[-1].strip():
            shown = shown[:-1]
        more = bool(shown) and shown[-1].strip() == "…"
        if more:
            shown = shown[:-1]
        assert len(printed) >= len(shown) if more else len(printed) == len(shown), (
            f"README line {line}: {command}: shows {len(shown)} lines, printed {len(printed)}:\n" + "\n".join(printed))
        for expected, actual in zip(shown, printed):
            assert pattern(expected).fullmatch(actual.rstrip()), f"README line {line}: {command}:\n  shown   {expected}\n  printed {actual}"


_INSTALLS = ("python3 -m venv", "pip ", "apt-get ")


def test_every_readme_example_runs_as_written(workspace: Path) -> None:
    checked = 0
    servers = Servers()
    left_out = []
    try:
        for language, code, line in blocks():
            if language == "sh":
                for command in commands(code):
                    if command.startswith(_INSTALLS):
                        continue  # the quick start's installs: CI runs them on a fresh machine
                    if needs_xapian(command) and not XAPIAN and not os.environ.get("CI"):
                        left_out.append(command)
                        continue
                    if command.startswith(("searchlib serve ", "searchlib serve-shard ")):
                        servers.start(command, workspace)
                        checked += 1
                        continue
                    done = run(servers.pointed(command), workspace)
                    assert done.returncode == 0, f"README line {line}: {command}\n{done.stdout}{done.stderr}"
                    checked += 1
            elif language == "python":
                done = subprocess.run([sys.executable, "-c", code], cwd=workspace, capture_output=True, text=True, timeout=300)
                assert done.returncode == 0, f"README line {line}:\n{done.stderr}"
                checked += 1
            elif language == "text" and code.startswith("$ "):
                check_transcript(code, line, workspace, servers)
                checked += 1
    finally:
        servers.stop()
    if left_out:
        warnings.warn(f"{len(left_out)} Scale-out commands not run: they need xapian-tools and the Xapian bindings")
    assert checked >= 20  # the README's examples are really there


@pytest.mark.parametrize(
    ("shown", "printed", "matches"),
    [
        ("Indexed 20,841 articles from '../shared/data/r.gz' into 'indexes/reuters' in 54.1 s; skipped 0.",
         "Indexed 60 articles from '../shared/data/r.gz' into 'indexes/reuters' in 0.3 s; skipped 0.", True),
        ("1987-02    8  █▋", "1987-02   12  ████▍", True),
        ("1. Tajikistan Rejects Foreign [Base] Offers", "1. Tajikistan Rejects Foreign Base Offers", False),
        ("corpus:         /srv/news/corpus", "corpus:         /tmp/x/work/corpus", True),
        ("… [military bases] on …", "by foreign powers [military bases] on its", True),
    ],
)
def test_what_a_shown_line_stands_for(shown: str, printed: str, matches: bool) -> None:
    assert bool(pattern(shown).fullmatch(printed)) == matches
