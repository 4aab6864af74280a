"""The Xapian engine over shards: three real ``xapian-tcpsrv`` processes on 127.0.0.1 against
one local Xapian index of the same corpus (the same ids, order, scores to 1e-6, totals, facets),
a shard server killed mid-run (the clear error, or partial results when allowed) and started
again (used again), builds, updates and the command line.

Each server runs in a session of its own (``start_new_session=True``): on SIGTERM it signals its
whole process group, which must not be pytest's. They are stopped by their process ids. Where
Xapian is not installed the module skips, saying what is missing; in CI (``CI`` set) it fails.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

try:
    import xapian

    BINDINGS = True
except ImportError:
    BINDINGS = False
SERVER = shutil.which("xapian-tcpsrv")
MISSING = ", ".join(
    what for what, there in (("xapian-tools (apt-get install xapian-tools)", SERVER),
                             ("the Xapian bindings (pip install -e '.[xapian]')", BINDINGS)) if not there)


def require_xapian() -> None:
    """Skip the module where Xapian is not installed, saying what is missing; in CI, fail."""
    if not MISSING:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the Xapian engine's tests, but {MISSING} is not installed (.ci/run installs both)")
    pytest.skip(f"the Xapian engine's tests need {MISSING}", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ShardServer:
    """One ``xapian-tcpsrv`` serving one shard directory on 127.0.0.1."""

    def __init__(self, directory: Path, port: int | None = None, command: list[str] | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ShardServer:
        command = self.command or [SERVER or "xapian-tcpsrv", "--port", str(self.port), "--interface", "127.0.0.1",
                                   "--quiet", str(self.directory)]
        self.process = subprocess.Popen(command, start_new_session=True, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"xapian-tcpsrv for {self.directory} exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"xapian-tcpsrv for {self.directory} did not listen on {self.port}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Stop the server by its process id (and its connection processes, its group)."""
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)
        self.process = None


def cluster(servers: list[ShardServer], options: str = "") -> str:
    return "xapian://" + ",".join(server.address for server in servers) + (f"?{options}" if options else "")


WORDS = ("grain wheat exports harbour council budget military base tariff oil prices bank rates shares market "
         "election minister talks trade deficit coffee cocoa sugar strike union mine gold silver copper steel "
         "ship port crop harvest drought rain storm bridge road rail airline fleet factory plant output profit "
         "loss dividend merger bid offer court ruling treaty summit border troops rebels ceasefire vote").split()
NAMES = ("Imomali Rakhmon", "Paul Volcker", "Helmut Kohl", "Moscow", "Tajikistan", "Chicago", "Egypt", "NATO",
         "World Bank", "Texaco Inc", "Soviet Union", "Brazil", "Jakarta")


def write_synthetic_corpus(path: Path, articles: int = 400, seed: int = 7) -> Path:
    """A JSON Lines corpus of ``articles`` made-up news articles with names, dates (some missing)
    and copies of stories (wire repeats), the same for the same ``seed``."""

    chooser = random.Random(seed)
    lines = []
    start = date(2012, 1, 1)
    for number in range(articles):
        if number and chooser.random() < 0.08:  # a repeat of an earlier story, slightly edited
            earlier = json.loads(lines[chooser.randrange(len(lines))])
            earlier["id"] = f"syn-{number}"
            earlier["body"] += " Corrected."
            lines.append(json.dumps(earlier))
            continue
        sentences = []
        for _ in range(chooser.randint(2, 12)):
            words = [chooser.choice(WORDS) for _ in range(chooser.randint(6, 16))]
            if chooser.random() < 0.5:
                words.insert(chooser.randrange(len(words)), chooser.choice(NAMES))
            sentences.append(" ".join(words).capitalize() + ".")
        day = start + timedelta(days=chooser.randrange(400))
        lines.append(json.dumps({
            "id": f"syn-{number}", "title": " ".join(chooser.choice(WORDS) for _ in range(chooser.randint(2, 6))).title(),
            "body": " ".join(sentences), "date": None if chooser.random() < 0.05 else day.isoformat(),
            "url": f"https://example.com/{number}",
        }))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


require_xapian()

import searchlib  # noqa: E402
from searchlib import ShardUnavailableError, XapianEngineError  # noqa: E402
from searchlib.engines.xapian_layout import shard_name  # noqa: E402

QUERIES = [
    "grain", "military base", "grain exports", "gold OR silver", '"military base"', "oil prices bank",
    "wheat NOT drought", "milit*", "militray~", "title:market", "(coffee OR cocoa) AND exports", "Rakhmon",
    "person:Volcker", "place:Moscow", "grain date:[2012-03 to 2012-09]", "the", "harbour council budget road",
    "*ary", "*ing OR *ings", "title:m*ts",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_corpus(tmp_path_factory.mktemp("xapian-corpus") / "news.jsonl", 400)


@pytest.fixture(scope="module")
def local(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One local Xapian index of the corpus (one shard)."""
    index = tmp_path_factory.mktemp("xapian-local") / "one"
    searchlib.build(corpus, index, engine="xapian")
    return index


@pytest.fixture(scope="module")
def sharded(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("xapian-sharded") / "three"
    report = searchlib.build(corpus, index, engine="xapian", shards=3)
    assert report.added == 400
    return index


@pytest.fixture(scope="module")
def servers(sharded: Path) -> Iterator[list[ShardServer]]:
    started = [ShardServer(sharded / shard_name(number, 3)).start() for number in range(3)]
    yield started
    for server in started:
        server.kill(signal.SIGTERM)


def _same(first: searchlib.SearchResult, second: searchlib.SearchResult) -> None:
    assert (first.total, first.stories, first.some_words) == (second.total, second.stories, second.some_words)
    assert [h.id for h in first.hits] == [h.id for h in second.hits]
    assert [h.similar for h in first.hits] == [h.similar for h in second.hits]
    for a, b in zip(first.hits, second.hits):
        assert a.score == pytest.approx(b.score, abs=1e-6)
        assert a.snippet == b.snippet and a.title_snippet == b.title_snippet
    assert first.facets == second.facets


@pytest.mark.parametrize("query", QUERIES)
def test_three_remote_shards_answer_as_one_local_index(local: Path, servers: list[ShardServer], query: str) -> None:
    with searchlib.Index.open(local) as one, searchlib.Index.open(cluster(servers)) as three:
        assert three.article_count == one.article_count == 400
        for options in ({}, {"match": "any"}, {"fold_duplicates": False}, {"sort": "newest"}, {"sort": "oldest"},
                        {"page": 2, "limit": 5}):
            _same(one.search(query, facets=True, **options), three.search(query, facets=True, **options))
        first, second = one.ranked(query, limit=100), three.ranked(query, limit=100)
        assert [i for i, _ in first] == [i for i, _ in second]
        assert [s for _, s in first] == pytest.approx([s for _, s in second], abs=1e-6)
        assert one.timeline(query, by="month") == three.timeline(query, by="month")


def test_a_remote_search_has_filters_explanations_suggestions_and_more_like(local: Path, servers: list[ShardServer]) -> None:
    with searchlib.Index.open(local) as one, searchlib.Index.open(cluster(servers)) as three:
        options = dict(since="2012-03", until="2012-12", place=["Moscow"], explain=True, facets=True)
        _same(one.search("grain OR wheat", **options), three.search("grain OR wheat", **options))
        explained = three.search("grain exports", explain=True).hits[0]
        assert sum(part.score for part in explained.explanation) == pytest.approx(explained.score, rel=1e-9)
        assert [(p.field, p.term, p.weight) for p in explained.explanation if p.field == "closeness"] == [
            ("closeness", "grain export", 0.25)]
        assert three.suggest("graim exprts") == one.suggest("graim exprts") == "grain exports"
        exported = [list(index.hits("grain OR exports", batch=7, sort="newest"))[1:] for index in (one, three)]
        assert [h.id for h in exported[0]] == [h.id for h in exported[1]] and len(exported[0]) > 7
        like = one.search("military base").hits[0].id
        _same(one.more_like(like), three.more_like(like))
        assert like not in [hit.id for hit in three.more_like(like).hits]


def test_shards_hold_a_third_each_by_a_hash_of_the_id(sharded: Path) -> None:
    counts = [xapian.Database(str(sharded / shard_name(number, 3))).get_doccount() for number in range(3)]
    assert sum(counts) == 400 and min(counts) > 100


def test_the_xapian_and_whoosh_engines_agree_on_the_top_ten(corpus: Path, local: Path, tmp_path: Path) -> None:
    """Both engines at their defaults (closeness on): the same totals, stories and facets, and
    most of the same top ten (the idfs differ a little, and Whoosh keeps lengths in a byte)."""
    searchlib.build(corpus, tmp_path / "whoosh")
    overlaps = []
    with searchlib.Index.open(tmp_path / "whoosh") as whoosh, searchlib.Index.open(local) as xapian_index:
        for query in QUERIES:
            a, b = whoosh.search(query, facets=True), xapian_index.search(query, facets=True)
            assert (a.total, a.stories, a.some_words) == (b.total, b.stories, b.some_words), query
            assert a.facets == b.facets, query
            top_a, top_b = {h.id for h in a.hits}, {h.id for h in b.hits}
            overlaps.append(len(top_a & top_b) / len(top_a) if top_a else float(top_a == top_b))
    print(f"Whoosh and Xapian top-10 overlap over {len(QUERIES)} queries: mean {sum(overlaps) / len(overlaps):.2f}, "
          f"min {min(overlaps):.2f}")
    assert sum(overlaps) / len(overlaps) >= 0.8


def test_the_engines_count_a_negated_group_and_a_huge_distance_alike(corpus: Path, local: Path, tmp_path: Path) -> None:
    # With NOT the all-words query is no subset of the any-word one: "NOT (grain exports)" has
    # all the words in more articles than any; Xapian counted some_words as a difference (-461
    # on Reuters). A distance past 32 bits was a TypeError from Xapian.
    searchlib.build(corpus, tmp_path / "whoosh")
    with searchlib.Index.open(tmp_path / "whoosh") as whoosh, searchlib.Index.open(local) as xapian_index:
        for query in ("NOT (grain exports)", "harbour NOT (grain exports)", '"grain exports market"~99999999999999999999'):
            for match in ("all", "any"):
                a, b = whoosh.search(query, match=match), xapian_index.search(query, match=match)
                assert (a.total, a.some_words) == (b.total, b.some_words), (query, match)
                assert b.some_words >= 0


def test_a_killed_shard_is_a_clear_error_and_a_restarted_one_is_used_again(sharded: Path) -> None:
    servers = [ShardServer(sharded / shard_name(number, 3)).start() for number in range(3)]
    try:
        with searchlib.Index.open(cluster(servers)) as index:
            before = index.search("grain", facets=True)
            servers[1].kill()
            with pytest.raises(ShardUnavailableError) as raised:
                index.search("grain")
            assert servers[1].address in str(raised.value) and "partial=yes" in str(raised.value)
            assert raised.value.shards == (servers[1].address,)
            with pytest.raises(ShardUnavailableError):
                searchlib.Index.open(cluster(servers))
            servers[1].start()
            time.sleep(1.1)  # a shard that did not answer is tried again a second later
            _same(before, index.search("grain", facets=True))
    finally:
        for server in servers:
            server.kill()


def test_partial_results_when_allowed_say_which_shard_did_not_answer(sharded: Path, local: Path) -> None:
    servers = [ShardServer(sharded / shard_name(number, 3)).start() for number in range(3)]
    try:
        with searchlib.Index.open(cluster(servers, "partial=yes")) as index:
            whole = index.search("grain", limit=500, fold_duplicates=False)
            servers[2].kill()
            part = index.search("grain", limit=500, fold_duplicates=False)
            assert 0 < part.total < whole.total
            assert set(h.id for h in part.hits) < set(h.id for h in whole.hits)
            assert any("2 of 3 shards answered" in notice and servers[2].address in notice for notice in part.notices)
            servers[2].start()
            time.sleep(1.1)
            again = index.search("grain", limit=500, fold_duplicates=False)
            assert again.total == whole.total and not again.notices
    finally:
        for server in servers:
            server.kill()


def test_the_command_line_builds_serves_and_searches_shards(corpus: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from searchlib.cli import main, search

    index = tmp_path / "x"
    result = CliRunner().invoke(main, ["build", str(corpus), "--engine", "xapian", "--shards", "3", "--index", str(index),
                                       "--report"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Indexed 400 articles" in result.output
    servers = []
    try:
        for number in range(3):
            port = free_port()
            command = [str(Path(sys.executable).parent / "searchlib"), "serve-shard", str(index / shard_name(number, 3)),
                       "--port", str(port)]
            servers.append(ShardServer(index / shard_name(number, 3), port, command).start())
        address = cluster(servers)
        result = CliRunner().invoke(search, ["military base", "--index", address, "--json"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        found = json.loads(result.output)
        with searchlib.Index.open(index) as local_index:
            assert found["total"] == local_index.search("military base").total
        cluster_file = tmp_path / "cluster.txt"
        cluster_file.write_text("# the three shards\n" + "\n".join(s.address for s in servers) + "\n")
        result = CliRunner().invoke(main, ["timeline", "grain", "--index", str(cluster_file), "--json"], catch_exceptions=False)
        assert result.exit_code == 0 and json.loads(result.output)["total"] > 0
        result = CliRunner().invoke(main, ["status", "--index", address], catch_exceptions=False)
        assert result.exit_code == 0 and "articles:       400" in result.output
        assert f"index:          {address}\n" in result.output  # both slashes of xapian://
        servers[0].kill()
        result = CliRunner().invoke(search, ["grain", "--index", address])
        assert result.exit_code == 1
        assert f"Error: 1 of the 3 shards of '{address}' did not answer ({servers[0].address}:" in result.output
    finally:
        for server in servers:
            server.kill(signal.SIGTERM)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _until(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_stopping_one_shard_server_leaves_the_others_serving(sharded: Path) -> None:
    """Three ``serve-shard`` started from one script (one process group, as ``… &`` three
    times): SIGTERM to one stops that one only (``xapian-tcpsrv`` signals its whole group on
    SIGTERM), and a server killed outright takes its ``xapian-tcpsrv`` with it."""
    program = str(Path(sys.executable).parent / "searchlib")
    ports = [free_port() for _ in range(3)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for number, port in enumerate(ports):
            group = processes[0].pid if processes else 0
            processes.append(subprocess.Popen([program, "serve-shard", str(sharded / shard_name(number, 3)), "--port", str(port)],
                                              process_group=group, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        assert all(_until(lambda port=port: _answers(port)) for port in ports)
        processes[1].send_signal(signal.SIGTERM)
        assert processes[1].wait(timeout=10) == 0
        assert _until(lambda: not _answers(ports[1]))
        assert _answers(ports[0]) and _answers(ports[2]) and processes[0].poll() is None and processes[2].poll() is None
        with searchlib.Index.open(f"xapian://127.0.0.1:{ports[0]},127.0.0.1:{ports[2]}") as two:
            assert two.article_count > 0
        processes[2].kill()  # SIGKILL: no chance to pass anything on
        processes[2].wait(timeout=10)
        assert _until(lambda: not _answers(ports[2])), "xapian-tcpsrv outlived its serve-shard"
        assert _answers(ports[0])
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=10)


def test_serving_a_directory_that_is_no_shard_is_a_clear_error(sharded: Path) -> None:
    from click.testing import CliRunner

    from searchlib.cli import main

    result = CliRunner().invoke(main, ["serve-shard", str(sharded), "--port", "7001"])
    assert result.exit_code == 1
    assert "holds 3 shards (shard-1-of-3, shard-2-of-3, shard-3-of-3): serve each one" in result.output


def test_field_weights_the_xapian_engine_cannot_give_are_an_error(local: Path) -> None:
    with pytest.raises(XapianEngineError, match="need the Whoosh engine"):
        searchlib.Index.open(local, ranking=searchlib.Ranking(field_weights={"title": 3, "body": 1}))


def test_a_bad_address_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(searchlib.InvalidOptionError, match="no shard address"):
        searchlib.Index.open("xapian://localhost")
    with pytest.raises(searchlib.ShardUnavailableError, match="did not answer"):
        searchlib.Index.open(f"xapian://127.0.0.1:{free_port()}")
    assert issubclass(searchlib.ShardUnavailableError, searchlib.SearchlibError)
    for option, said in (("timeout=-1", "timeout '-1'"), ("timeout=nan", "timeout 'nan'"), ("timeout=1e400", "timeout '1e400'"),
                         ("partial=maybe", "partial 'maybe'"), ("bogus=1", "Unknown option 'bogus'")):
        with pytest.raises(searchlib.InvalidOptionError, match=said):
            searchlib.Index.open(f"xapian://127.0.0.1:7001?{option}")
    cluster_file = tmp_path / "news.cluster"
    cluster_file.write_text("127.0.0.1:7001\ntimeout = -5   # seconds\n")
    with pytest.raises(searchlib.InvalidOptionError, match="timeout '-5' in .*: give seconds, more than 0"):
        searchlib.Index.open(cluster_file)
    assert issubclass(searchlib.XapianEngineError, searchlib.SearchlibError)


def test_feedback_the_xapian_engine_cannot_give_is_an_error(local: Path) -> None:
    with pytest.raises(XapianEngineError, match=r"pseudo-relevance feedback \(feedback=10, SEARCHLIB_FEEDBACK\)"):
        searchlib.Index.open(local, ranking=searchlib.Ranking(feedback=10))


def test_closeness_ranks_the_words_together_first_on_both_engines(tmp_path: Path) -> None:
    """The article with "military base" outranks the one with more of both words, far apart,
    on both engines by default, and not without closeness; its explanation has the part."""
    filler = "council budget road harbour talks election minister ".split()
    articles = [
        {"id": "together", "title": "Report", "body": " ".join(filler * 2 + ["military", "base"] + filler * 2)},
        {"id": "apart", "title": "Report", "body": " ".join(["military"] + filler * 3 + ["base"] + filler + ["military"] + filler)},
    ] + [{"id": f"other-{n}", "title": "Notes", "body": " ".join(filler[n % 7:] + filler[:n % 7] + [("military", "base", "")[n % 3]])}
         for n in range(30)]
    corpus = tmp_path / "close.jsonl"
    corpus.write_text("".join(json.dumps(article) + "\n" for article in articles), encoding="utf-8")
    searchlib.build(corpus, tmp_path / "whoosh")
    searchlib.build(corpus, tmp_path / "xapian", engine="xapian", shards=2)
    for engine in ("whoosh", "xapian"):
        with searchlib.Index.open(tmp_path / engine) as index:
            hits = index.search("military base", explain=True).hits
            assert [hit.id for hit in hits] == ["together", "apart"], engine
            close = [part for part in hits[0].explanation if part.field == "closeness"]
            assert [(part.term, part.weight) for part in close] == [("militari base", 0.25)], engine
            assert sum(part.score for part in hits[0].explanation) == pytest.approx(hits[0].score, rel=1e-9)
            assert [i for i, _ in index.ranked("military base", limit=2)] == ["together", "apart"], engine
        with searchlib.Index.open(tmp_path / engine, ranking=searchlib.Ranking(proximity=0)) as index:
            hits = index.search("military base", explain=True).hits
            assert [hit.id for hit in hits] == ["apart", "together"], engine
            assert not [part for part in hits[0].explanation if part.field == "closeness"]


def test_facets_filters_and_hits_use_one_name_an_entity_on_both_engines(tmp_path: Path) -> None:
    """As tests/test_aliases.py for the Whoosh engine: "USDA", "Agriculture Department" and "U.S.
    Agriculture Department" are one organisation, counted once an article even where one gives
    two of its names, and a lone "Reagan" is the "Ronald Reagan" of the other articles; also for
    shards written on separate machines, whose table is made when the index is opened."""
    bodies = ["The U.S. Agriculture Department said wheat exports rose. President Ronald Reagan agreed."] * 3
    bodies += ["The Agriculture Department said wheat stocks fell. Ronald Reagan spoke.",
               "USDA officials met President Reagan, who said the wheat harvest was large.",
               "The USDA and the U.S. Agriculture Department said wheat prices fell in Chicago."]
    corpus = tmp_path / "wire.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"a{n}", "title": "Wheat", "body": body}) + "\n"
                              for n, body in enumerate(bodies)), encoding="utf-8")
    searchlib.build(corpus, tmp_path / "whoosh")
    searchlib.build(corpus, tmp_path / "xapian", engine="xapian", shards=2)
    for number in (1, 2):
        searchlib.build(corpus, tmp_path / "apart", shard=f"{number}/2")
    usda = ("Agriculture Department", "U.S. Agriculture Department", "USDA")
    for name in ("whoosh", "xapian", "apart"):
        with searchlib.Index.open(tmp_path / name) as index:
            facets = index.search("wheat", facets=True).facets
            assert [(v.name, v.count) for v in facets["organization"]] == [("U.S. Agriculture Department", 6)], name
            assert [(v.name, v.count) for v in facets["person"]] == [("Ronald Reagan", 5)], name
            for typed in ("USDA", "usda", "Agriculture Department"):
                assert index.search("wheat", organization=typed).total == 6, name
            assert index.search("wheat", person="Reagan").total == 5, name
            hits = {hit.id: hit for hit in index.search("wheat", limit=10).hits}
            assert [e.name for e in hits["a4"].entities] == ["U.S. Agriculture Department", "Ronald Reagan"], name
            assert [e.name for e in hits["a5"].entities] == ["U.S. Agriculture Department", "Chicago"], name
            assert index.article("a5").entities == hits["a5"].entities
            assert index.aliases.typed("usda", "organization") == usda
            assert index.aliases.groups() == {"organization": {"U.S. Agriculture Department": ("Agriculture Department", "USDA")},
                                              "person": {"Ronald Reagan": ("Reagan",)}}


def test_an_article_is_the_same_on_both_engines(corpus: Path, local: Path, tmp_path: Path) -> None:
    """``article`` (what the web page shows): the same text, entities, copies of its story, and
    words marked for a query, on both engines."""
    searchlib.build(corpus, tmp_path / "whoosh")
    with searchlib.Index.open(tmp_path / "whoosh") as whoosh, searchlib.Index.open(local) as xapian_index:
        with_copies = 0
        for number in range(0, 400, 9):
            for query in (None, "grain exports", "title:market OR Moscow", "milit*", '"military base" OR grain'):
                expected = whoosh.article(f"syn-{number}", query=query)
                assert xapian_index.article(f"syn-{number}", query=query) == expected
            with_copies += bool(expected.copies)
        assert with_copies and xapian_index.article("syn-1", query="grain").body_snippet.spans
        with pytest.raises(searchlib.ArticleNotFoundError, match="No article with id 'nothing'"):
            xapian_index.article("nothing")


def test_words_in_one_field_are_ranked_as_words_of_the_text_and_a_notice_says_so(local: Path) -> None:
    with searchlib.Index.open(local) as index:
        assert ("On the Xapian engine, title: words match in that field only but are ranked as words of the whole text"
                in index.search("title:market").notices)
        assert ("On the Xapian engine, person: and title: words match in those fields only but are ranked as words of "
                "the whole text") in index.search('title:"gold prices" OR person:Rakhmon').notices
        assert not [n for n in index.search("market", place="Moscow").notices if "Xapian" in n]


def test_a_search_while_the_first_build_runs_says_it_is_being_built(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from searchlib.cli import search
    from searchlib.locks import WriterLock

    index = tmp_path / "x"
    with WriterLock(index / shard_name(0, 2)).acquire():  # as the first build holds it, before XAPIAN.json
        with pytest.raises(searchlib.IndexBuildingError, match=f"The index at '{index}' is still being built"):
            searchlib.Index.open(index)
        result = CliRunner().invoke(search, ["grain", "--index", str(index)])
        assert result.exit_code == 1 and "is still being built" in result.output and "No index" not in result.output


def test_the_web_page_serves_remote_shards(corpus: Path, servers: list[ShardServer], local: Path) -> None:
    """``searchlib serve --index xapian://…``: the search page, an article's page and the API."""
    from starlette.testclient import TestClient

    from searchlib.web.app import create_app
    from searchlib.web.live import LiveIndex

    live = LiveIndex.open(cluster(servers))
    try:
        with TestClient(create_app(live, title="Shards")) as client:
            page = client.get("/", params={"q": "grain exports"})
            assert page.status_code == 200 and "grain" in page.text
            with searchlib.Index.open(local) as one:
                first = one.search("grain exports").hits[0]
            article = client.get(f"/articles/{first.id}", params={"q": "grain exports"})
            assert article.status_code == 200 and first.title in article.text
            found = client.get("/api/search", params={"q": "grain exports"}).json()
            assert found["hits"][0]["id"] == first.id
            assert client.get("/api/status").json()["index"] == cluster(servers)
    finally:
        live.close()


def test_an_update_of_shards_answers_as_a_fresh_build(corpus: Path, tmp_path: Path) -> None:
    lines = corpus.read_text(encoding="utf-8").splitlines()
    working = tmp_path / "news.jsonl"
    working.write_text("\n".join(lines[:300]) + "\n", encoding="utf-8")
    searchlib.build(working, tmp_path / "updated", engine="xapian", shards=3)
    changed = lines[:280] + [lines[290].replace("syn-290", "syn-290").replace('"body": "', '"body": "Rewritten. ')] + lines[300:]
    working.write_text("\n".join(changed) + "\n", encoding="utf-8")
    report = searchlib.update(working, tmp_path / "updated")
    assert (report.added, report.updated, report.removed) == (100, 1, 19)
    assert searchlib.update(working, tmp_path / "updated").added == 0
    searchlib.build(working, tmp_path / "fresh", engine="xapian", shards=3)
    with searchlib.Index.open(tmp_path / "updated") as updated, searchlib.Index.open(tmp_path / "fresh") as fresh:
        assert updated.article_count == fresh.article_count == 381
        for query in QUERIES:
            a, b = updated.search(query, limit=50, fold_duplicates=False), fresh.search(query, limit=50, fold_duplicates=False)
            assert a.total == b.total and {h.id for h in a.hits} == {h.id for h in b.hits}, query


def test_one_writer_of_a_shard_at_a_time(corpus: Path, tmp_path: Path) -> None:
    from searchlib.locks import WriterLock

    searchlib.build(corpus, tmp_path / "x", engine="xapian", shards=2)
    with WriterLock(tmp_path / "x" / shard_name(1, 2)).acquire():
        with pytest.raises(searchlib.IndexLockedError):
            searchlib.update(corpus, tmp_path / "x")
        report = searchlib.update(corpus, tmp_path / "x", shard="1/2")  # the other shard is free
        assert report.added == 0


def test_one_shard_built_on_its_own_machine_is_the_shard_of_a_whole_build(corpus: Path, sharded: Path, tmp_path: Path) -> None:
    searchlib.build(corpus, tmp_path / "alone", shard="2/3")
    assert not (tmp_path / "alone" / shard_name(0, 3)).exists()
    alone = xapian.Database(str(tmp_path / "alone" / shard_name(1, 3)))
    whole = xapian.Database(str(sharded / shard_name(1, 3)))
    assert alone.get_doccount() == whole.get_doccount()
    ids = sorted(v.value for v in alone.valuestream(6))
    assert ids == sorted(v.value for v in whole.valuestream(6))
    stories = sorted(v.value for v in alone.valuestream(2))
    assert stories == sorted(v.value for v in whole.valuestream(2))


@pytest.mark.parametrize("command", ["build", "update"])
def test_a_writer_killed_midway_leaves_the_last_good_shards(corpus: Path, tmp_path: Path, command: str) -> None:
    index = tmp_path / "x"
    searchlib.build(corpus, index, engine="xapian", shards=2)
    with searchlib.Index.open(index) as before:
        expected = [(h.id, h.score) for h in before.search("grain OR gold", limit=20).hits]
    bigger = write_synthetic_corpus(tmp_path / "bigger.jsonl", 20_000, seed=3)
    writer = subprocess.Popen(
        [str(Path(sys.executable).parent / "searchlib"), command, str(bigger), "--index", str(index), "--switch-corpus",
         "--max-delete", "100%", *(["--engine", "xapian", "--shards", "2"] if command == "build" else [])],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = index / shard_name(0, 2) / "WRITER.lock"
    deadline = time.monotonic() + 60
    while '"articles"' not in (lock.read_text() if lock.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.05)  # until the writer notes its progress: reading, analysing and writing
    time.sleep(0.5)
    assert writer.poll() is None, "the writer finished before it could be killed"
    os.killpg(writer.pid, signal.SIGKILL)
    writer.wait()
    time.sleep(1.5)  # the shard processes die with it
    left = subprocess.run(["pgrep", "-f", str(bigger)], capture_output=True, text=True).stdout.split()
    assert not left, f"processes of the killed writer are still running: {left}"
    with searchlib.Index.open(index) as after:
        assert after.article_count == 400
        assert [(h.id, h.score) for h in after.search("grain OR gold", limit=20).hits] == expected
    report = searchlib.update(corpus, index)  # the next writer removes what the dead one left
    assert (report.added, report.removed) == (0, 0)
    for number in range(2):
        assert [p.name for p in (index / shard_name(number, 2)).glob("gen-*")] == ["gen-000001"]
        assert len(list((index / shard_name(number, 2) / "gen-000001").glob("stories-*.npz"))) == 1


def test_an_open_index_moves_to_what_a_writer_committed_on_refresh(corpus: Path, tmp_path: Path) -> None:
    lines = corpus.read_text(encoding="utf-8").splitlines()
    working = tmp_path / "news.jsonl"
    working.write_text("\n".join(lines[:200]) + "\n", encoding="utf-8")
    searchlib.build(working, tmp_path / "x", engine="xapian", shards=2)
    with searchlib.Index.open(tmp_path / "x") as index:
        assert index.article_count == 200 and not index.refresh()
        working.write_text("\n".join(lines[:250]) + "\n", encoding="utf-8")
        searchlib.update(working, tmp_path / "x")  # in place: one transaction a shard
        assert index.refresh() and index.article_count == 250
        searchlib.build(working, tmp_path / "x", engine="xapian", shards=2)  # a new generation a shard
        assert index.refresh() and index.article_count == 250 and not index.refresh()


def test_status_of_local_shards_names_their_generations_and_counts_changed_files(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number in range(3):
        (corpus / f"part-{number}.jsonl").write_text(json.dumps({"id": f"a{number}", "title": "Grain", "body": "Wheat."}) + "\n")
    searchlib.build(corpus, tmp_path / "x", engine="xapian", shards=2)
    status = searchlib.index_status(tmp_path / "x")
    assert status["generation"] == "shard-1-of-2/gen-000001, shard-2-of-2/gen-000001"
    assert (status["articles"], status["changed_files"]) == (3, 0)
    (corpus / "part-1.jsonl").write_text(json.dumps({"id": "a1", "title": "Grain", "body": "Wheat and maize."}) + "\n")
    (corpus / "part-3.jsonl").write_text(json.dumps({"id": "a3", "title": "Oil", "body": "Crude."}) + "\n")
    assert searchlib.index_status(tmp_path / "x")["changed_files"] == 2


def test_a_build_never_leaves_an_index_of_another_engine_or_shard_count_beside_its_own(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"a{n}", "title": "Grain", "body": f"Wheat {n}."}) + "\n" for n in range(5)))
    searchlib.build(corpus, tmp_path / "x", engine="xapian", shards=3)
    report = searchlib.build(corpus, tmp_path / "x")  # a rebuild keeps the index's engine and shards
    assert report.added == 5 and searchlib.index_status(tmp_path / "x")["generation"].count("gen-000002") == 3
    before = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "x").rglob("*"))
    for asked, said in (({"engine": "whoosh"}, "a Xapian index of 3 shards, not a Whoosh index"),
                        ({"shards": 2}, "a Xapian index of 3 shards, not a Xapian index of 2 shards"),
                        ({"shard": "1/2"}, "a Xapian index of 3 shards, not a Xapian index of 2 shards")):
        with pytest.raises(searchlib.WriteRefusedError, match=f"The index at '{tmp_path / 'x'}' is {said}: .* remove"):
            searchlib.build(corpus, tmp_path / "x", **asked)  # type: ignore[arg-type]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "x").rglob("*")) == before
    searchlib.build(corpus, tmp_path / "w")
    with pytest.raises(searchlib.WriteRefusedError, match="is a Whoosh index, not a Xapian index of 1 shard"):
        searchlib.build(corpus, tmp_path / "w", engine="xapian")
    with pytest.raises(searchlib.InvalidOptionError, match="--shards and --shard are for Xapian shards: add --engine xapian"):
        searchlib.build(corpus, tmp_path / "w", engine="whoosh", shards=3)


def test_the_web_page_follows_an_update_of_local_shards_and_says_503_for_a_shard_down(sharded: Path, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from searchlib.web.app import create_app
    from searchlib.web.live import RETRY_SECONDS, LiveIndex

    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"a{n}", "title": "Grain", "body": f"Wheat {n}."}) + "\n" for n in range(5)))
    searchlib.build(corpus, tmp_path / "x", engine="xapian", shards=2)
    live = LiveIndex.open(tmp_path / "x")
    try:
        with TestClient(create_app(live)) as client:
            assert client.get("/api/search", params={"q": "wheat"}).json()["total"] == 5
            with corpus.open("a") as more:
                more.write(json.dumps({"id": "a9", "title": "Grain", "body": "Wheat again."}) + "\n")
            assert searchlib.update(corpus, tmp_path / "x").added == 1
            time.sleep(RETRY_SECONDS + 0.1)
            assert client.get("/api/search", params={"q": "wheat"}).json()["total"] == 6
            assert client.get("/api/status").json()["served_articles"] == 6
    finally:
        live.close()
    servers = [ShardServer(sharded / shard_name(number, 3)).start() for number in range(3)]
    live = LiveIndex.open(cluster(servers))
    try:
        with TestClient(create_app(live)) as client:
            assert client.get("/api/search", params={"q": "grain"}).status_code == 200
            servers[2].kill()
            for path in ("/api/search", "/"):
                answer = client.get(path, params={"q": "grain"})
                assert answer.status_code == 503, (path, answer.text)
            error = client.get("/api/search", params={"q": "grain"}).json()["error"]
            assert error["shards"] == [servers[2].address] and "did not answer" in error["message"]
    finally:
        live.close()
        for server in servers:
            server.kill()


def test_a_file_name_that_is_not_utf8_is_indexed_and_an_update_leaves_it(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Good\n\nMay 1, 2012\n\nFine text.\n")
    (corpus / os.fsdecode(b"caf\xe8.txt")).write_text("Cafe\n\nMay 1, 2012\n\nEspresso prices rose.\n")
    report = searchlib.build(corpus, tmp_path / "x", engine="xapian", shards=2)
    assert (report.added, report.skipped_count) == (2, 0)
    again = searchlib.update(corpus, tmp_path / "x")
    assert (again.added, again.updated, again.removed, again.skipped_count) == (0, 0, 0, 0)
    with searchlib.Index.open(tmp_path / "x") as index:
        assert index.search("espresso").total == 1


def test_an_update_during_a_first_build_of_shards_waits_for_it_and_writes_no_whoosh_index(tmp_path: Path) -> None:
    from searchlib.locks import WriterLock

    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"a{n}", "title": "Grain", "body": f"Wheat {n}."}) + "\n" for n in range(5)))
    index = tmp_path / "x"
    with WriterLock(index / shard_name(0, 2)).acquire():  # as the first build holds it, before XAPIAN.json
        with pytest.raises(searchlib.IndexLockedError):
            searchlib.update(corpus, index)
    assert sorted(path.name for path in index.iterdir()) == ["shard-1-of-2"]  # no CURRENT, no gen-*


def test_an_update_of_every_shard_on_a_machine_with_some_of_them_is_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"a{n}", "title": "Grain", "body": f"Wheat {n}."}) + "\n" for n in range(9)))
    index = tmp_path / "x"
    searchlib.build(corpus, index, shard="1/2")
    with pytest.raises(searchlib.WriteRefusedError, match=r"Only 1 of the 2 shards of .* are on this machine: update them with --shard 1/2"):
        searchlib.update(corpus, index)
    assert not (index / shard_name(1, 2)).exists()
    assert searchlib.update(corpus, index, shard="1/2").kind == "update"
    status = searchlib.index_status(index)  # what this machine holds, though the index cannot be opened whole here
    assert (status["generation"], status["shards_here"], status["changed_files"]) == ("shard-1-of-2/gen-000001", "1 of 2", 0)
    assert 0 < status["articles"] < 9 and status["corpus"] == str(corpus.resolve())


def test_serve_shard_on_a_port_in_use_or_losing_its_server_says_so(sharded: Path) -> None:
    from click.testing import CliRunner

    from searchlib.cli import main

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve-shard", str(sharded / shard_name(0, 3)), "--port", str(port)])
    assert result.exit_code == 1
    assert result.output == f"Error: Port {port} on 127.0.0.1 is in use (another serve-shard?): stop it, or choose another port with --port\n"
    port = free_port()
    supervisor = subprocess.Popen([str(Path(sys.executable).parent / "searchlib"), "serve-shard", str(sharded / shard_name(0, 3)),
                                   "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        assert _until(lambda: _answers(port))
        server = int(subprocess.run(["pgrep", "-P", str(supervisor.pid)], capture_output=True, text=True).stdout.split()[0])
        os.kill(server, signal.SIGKILL)
        assert supervisor.wait(10) == 1
        assert supervisor.stderr is not None and supervisor.stderr.read().endswith(
            "Error: xapian-tcpsrv was killed by signal 9; start the shard again with searchlib serve-shard\n")
    finally:
        supervisor.kill()
        supervisor.wait()
        assert supervisor.stderr is not None
        supervisor.stderr.close()
