"""The command line, through click's CliRunner, and once for real as the installed script."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import searchlib
from searchlib.cli import main, search
from searchlib.dates import parse_period
from searchlib.schema import SCHEMA_VERSION

from .conftest import SEED


@pytest.fixture
def in_fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory laid out like a fresh clone: ./corpus with the seed, no index."""
    (tmp_path / "corpus").mkdir()
    shutil.copy(SEED, tmp_path / "corpus" / SEED.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEARCHLIB_INDEX", raising=False)
    monkeypatch.delenv("SEARCHLIB_CORPUS", raising=False)
    return tmp_path


def run(command, args: list[str], **kwargs):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(command, args, **kwargs)


def test_search_on_a_fresh_clone_builds_the_index_then_answers(in_fresh_clone: Path) -> None:
    result = run(search, ["military base"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stderr == "No index at 'indexes/main' yet: building it from 'corpus'…\n"
    lines = result.stdout.splitlines()
    assert lines[0] == "1 article matches 'military base'."
    assert lines[2] == "1. Tajikistan Rejects Foreign [Base] Offers in Deference to Russia"
    assert lines[3] == f"   2012-04-17 · {SEED.name} · score " + lines[3].rsplit(" ", 1)[1]
    assert "[military bases] on its territory" in lines[5]
    assert "\x1b[" not in result.stdout  # not a terminal: plain markers
    again = run(search, ["military base"], catch_exceptions=False)
    assert again.stderr == "" and again.stdout == result.stdout


def test_search_json(in_fresh_clone: Path) -> None:
    result = run(search, ["military base", "--json"], catch_exceptions=False)
    document = json.loads(result.stdout)
    assert {k: document[k] for k in ("query", "total", "stories", "page", "pages", "limit", "suggestion")} == {
        "query": "military base", "total": 1, "stories": 1, "page": 1, "pages": 1, "limit": 10, "suggestion": None
    }
    (hit,) = document["hits"]
    assert set(hit) == {"rank", "id", "title", "date", "url", "path", "score", "snippet", "title_highlights", "entities", "similar"}
    assert hit["date"] == "2012-04-17T00:00:00" and hit["id"] == SEED.name
    text = hit["snippet"]["text"]
    assert [text[a:b] for a, b in hit["snippet"]["highlights"]][0] == "military bases"
    assert [hit["title"][a:b] for a, b in hit["title_highlights"]] == ["Base"]
    assert {"name": "Imomali Rakhmon", "kind": "person"} in hit["entities"]
    assert "facets" not in document


def test_search_color_on_request(in_fresh_clone: Path) -> None:
    result = run(search, ["military base", "--color"], catch_exceptions=False)
    assert "\x1b[1;33mmilitary bases\x1b[0m" in result.stdout


def test_build_report_lists_skipped_files_on_stderr_and_in_the_summary(in_fresh_clone: Path) -> None:
    (in_fresh_clone / "corpus" / "bad.txt").write_bytes(b"\xff\xfe")
    result = run(main, ["build", "--report"], catch_exceptions=False)
    assert result.exit_code == 0
    # Off a terminal, stderr lines start with the time, for cron mail and log files.
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d skipped corpus/bad.txt: not valid UTF-8 at byte 0; convert the file to UTF-8\n",
        result.stderr,
    )
    first, second = result.stdout.splitlines()
    assert first.startswith("Indexed 1 article from 'corpus' into 'indexes/main' in ")
    assert first.endswith(" s; skipped 1.")
    assert second == "  skipped corpus/bad.txt: not valid UTF-8 at byte 0; convert the file to UTF-8"


def test_build_and_update_print_nothing_off_a_terminal(in_fresh_clone: Path) -> None:
    for command in (["build"], ["update"]):
        result = run(main, command, catch_exceptions=False)
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_build_json_and_quiet(in_fresh_clone: Path) -> None:
    report = json.loads(run(main, ["build", "--json"], catch_exceptions=False).stdout)
    assert (report["added"], report["skipped"], report["index"]) == (1, [], "indexes/main")
    quiet = run(main, ["build", "--quiet"], catch_exceptions=False)
    assert quiet.exit_code == 0 and quiet.stdout == "" and quiet.stderr == ""


def test_environment_variables_choose_paths(in_fresh_clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (in_fresh_clone / "corpus").rename(in_fresh_clone / "articles")
    monkeypatch.setenv("SEARCHLIB_CORPUS", "articles")
    monkeypatch.setenv("SEARCHLIB_INDEX", "elsewhere")
    result = run(search, ["rakhmon"], catch_exceptions=False)
    assert result.exit_code == 0 and "No index at 'elsewhere' yet: building it from 'articles'" in result.stderr
    assert (in_fresh_clone / "elsewhere" / "CURRENT").exists()
    assert searchlib.Settings.from_env().index == Path("elsewhere")


def test_status(in_fresh_clone: Path) -> None:
    run(main, ["build", "--quiet"], catch_exceptions=False)
    text = run(main, ["status"], catch_exceptions=False).stdout
    assert "index:          indexes/main\n" in text and "articles:       1\n" in text
    info = json.loads(run(main, ["status", "--json"], catch_exceptions=False).stdout)
    assert info["generation"] == "gen-000001" and info["articles"] == 1 and info["schema_version"] == SCHEMA_VERSION
    assert info["corpus"] == str(in_fresh_clone / "corpus")


def test_status_shows_counts_as_the_other_commands_do(monkeypatch: pytest.MonkeyPatch) -> None:
    info = {"index": "indexes/reuters", "generation": "gen-000003", "articles": 20841, "built_at": "2026-11-30T16:13:17",
            "corpus": "/srv/reuters.jsonl.gz", "skipped": 1203, "schema_version": SCHEMA_VERSION, "changed_files": 4512,
            "writer": None}
    monkeypatch.setattr(searchlib, "index_status", lambda index: info)
    text = run(main, ["status"], catch_exceptions=False).stdout
    assert "articles:       20,841\n" in text and "skipped:        1,203\n" in text and "changed_files:  4,512\n" in text
    assert f"schema_version: {SCHEMA_VERSION}\n" in text
    assert json.loads(run(main, ["status", "--json"], catch_exceptions=False).stdout) == info


def test_pages(in_fresh_clone: Path) -> None:
    shutil.copytree(Path(__file__).parent / "fixtures" / "news", in_fresh_clone / "corpus" / "news")
    first = run(search, ["military base", "--limit", "2", "--any"], catch_exceptions=False).stdout
    assert first.splitlines()[0] == "4 articles match 'military base'. Showing 1–2. Next: --page 2."
    last = run(search, ["military base", "--limit", "2", "--page", "2", "--any"], catch_exceptions=False).stdout
    assert last.splitlines()[0] == "4 articles match 'military base'. Showing 3–4."
    past = run(search, ["military base", "--limit", "2", "--page", "9", "--any"], catch_exceptions=False).stdout
    assert past.splitlines() == ["4 articles match 'military base'.", "Page 9 is past the last page (2)."]
    every = run(search, ["military base", "--limit", "2"], catch_exceptions=False).stdout
    assert every.splitlines()[0] == ("3 articles match 'military base'; 1 more has some of the words "
                                     "(--any shows it too). Showing 1–2. Next: --page 2.")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", '"military', "--strict"], 'Error: Unclosed quote: add the closing " (at position 1 of the query)\n'),
        (["search", "author:x", "--strict"], "Error: Unknown field 'author:'; the fields are body, caption, date, entities, entity, id, org, organization, path, person, place, text, title, url (at position 1 of the query)\n"),
        (["status", "--index", "nowhere"], "Error: No index at 'nowhere'. Build it with: searchlib build CORPUS --index nowhere\n"),
        (["build", "missing"], "Error: No corpus at 'missing': give a directory of article files (.txt, .jsonl, .jsonl.gz) or one such file\n"),
        (["search", "x", "--index", "new", "--corpus", "missing"], "No index at 'new' yet: building it from 'missing'…\nError: No corpus at 'missing': give a directory of article files (.txt, .jsonl, .jsonl.gz) or one such file\n"),
    ],
)
def test_errors_are_one_line_messages_with_exit_status_1(in_fresh_clone: Path, args: list[str], message: str) -> None:
    run(main, ["build", "--quiet"], catch_exceptions=False)
    result = run(main, args)
    assert (result.exit_code, result.stderr, result.stdout) == (1, message, "")


def test_unwritable_index_directory_is_a_one_line_error(in_fresh_clone: Path) -> None:
    (in_fresh_clone / "blocker").write_text("a file where the index folder should go")
    result = run(main, ["build", "--index", "blocker/index"])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: 'blocker/index': ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "x", "--limit", "0"], "Invalid value for '-n' / '--limit': 0 is not in the range x>=1 (or give 'all')."),
        (["entities", "-", "--ner", "bert"], "'bert' is not one of 'rules', 'nltk', 'spacy', 'auto'."),
        (["build", "--max-delete", "abc"], "Invalid value for '--max-delete': 'abc': give a number of articles (100) or a share"),
        (["update", "--max-delete", "101%"], "Invalid value for '--max-delete': '101%': give a number"),
        (["search", "--like", "a1", "--limit", "all", "--csv"], "--limit all goes with a QUERY; --like shows pages"),
        (["search", "grain", "--limit", "all", "--facets"], "--limit all goes without --facets"),
        (["search", "grain", "--limit", "all", "--page", "2"], "--limit all writes every hit, on one page: leave out --page"),
    ],
)
def test_bad_option_values_are_usage_errors(in_fresh_clone: Path, args: list[str], message: str) -> None:
    result = run(main, args)
    assert result.exit_code == 2 and message in result.stderr


def test_version() -> None:
    assert run(main, ["--version"]).stdout == f"searchlib, version {searchlib.__version__}\n"


def test_installed_search_script_runs_the_main_job(in_fresh_clone: Path) -> None:
    script = Path(sys.executable).parent / "search"
    done = subprocess.run(
        [str(script), "military base"], capture_output=True, text=True, check=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert "1. Tajikistan Rejects Foreign [Base] Offers in Deference to Russia" in done.stdout
    assert "[military bases]" in done.stdout
    assert "Traceback" not in done.stderr


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "searchlib", "--help"], capture_output=True, text=True, check=True)
    assert "build" in done.stdout and "status" in done.stdout and "search" in done.stdout


def test_search_entity_filters_and_facets(in_fresh_clone: Path) -> None:
    shutil.copytree(Path(__file__).parent / "fixtures" / "news", in_fresh_clone / "corpus" / "news")
    filtered = run(search, ["military base", "--place", "tajikistan", "--person", "Rakhmon"], catch_exceptions=False)
    assert filtered.stdout.splitlines()[0] == "1 article matches 'military base' with person 'Rakhmon' and place 'tajikistan'."
    none = run(search, ["military base", "--org", "OPEC", "--since", "2012", "--until", "this year"], catch_exceptions=False)
    end = parse_period("this year")[1]
    assert none.stdout == f"0 articles match 'military base' from 2012 until this year ({end:%Y-%m-%d}), with organisation 'OPEC'.\n"
    faceted = run(search, ["capital OR london", "--facets", "--limit", "1"], catch_exceptions=False).stdout
    assert "Most mentioned in all 6 matches:\n" in faceted
    assert "  Places:        London (3), " in faceted
    assert "  Organisations: Bank of England (1), NATO (1)\n" in faceted
    document = json.loads(run(search, ["capital OR london", "--facets", "--json"], catch_exceptions=False).stdout)
    assert document["facets"]["place"][0] == {"name": "London", "count": 3}
    assert set(document["facets"]) == {"person", "organization", "place"}


def test_entities_command_on_a_file_and_on_stdin(in_fresh_clone: Path) -> None:
    result = run(main, ["entities", f"corpus/{SEED.name}"], catch_exceptions=False)
    lines = result.stdout.splitlines()
    assert lines[0] == SEED.name
    assert lines[1] == "  People:        Denis Grishkin, Imomali Rakhmon"
    assert lines[2] == "  Organisations: NATO"
    assert lines[3].startswith("  Places:        Tajikistan, Dushanbe, Russia, Central Asia")
    text = "Tajik President Imomali Rakhmon met officials of the U.S. in Moscow on Tuesday."
    piped = run(main, ["entities", "-", "--json"], input=text, catch_exceptions=False)
    assert json.loads(piped.stdout) == {
        "id": "-",
        "entities": [
            {"name": "Imomali Rakhmon", "kind": "person"},
            {"name": "United States", "kind": "place"},
            {"name": "Moscow", "kind": "place"},
        ],
    }


def test_missing_ner_backend_is_a_one_line_error(in_fresh_clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "spacy", None)
    result = run(main, ["build", "--ner", "spacy"])
    assert result.exit_code == 1
    assert result.stderr == "Error: The spacy entity extractor needs spaCy and its English model: pip install spacy, then python -m spacy download en_core_web_sm\n"


def test_a_reader_that_stops_reading_ends_the_search_quietly(tmp_path: Path) -> None:
    from .test_updates import write_wire

    searchlib.build(write_wire(tmp_path / "wire.jsonl", 3000), tmp_path / "index")
    done = subprocess.run(f"{sys.executable} -m searchlib search harbour --limit all --index index | head -c 10",
                          shell=True, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.stderr == "" and len(done.stdout) == 10


def test_an_export_of_every_hit_says_it_is_one_page_of_them_all(tmp_path: Path) -> None:
    from .test_updates import write_wire

    searchlib.build(write_wire(tmp_path / "wire.jsonl", 500), tmp_path / "index")
    done = run(main, ["search", "harbour", "--limit", "all", "--json", "--index", str(tmp_path / "index")], catch_exceptions=False)
    document = json.loads(done.stdout)
    shown = document["total"] if document["stories"] is None else document["stories"]
    assert len(document["hits"]) == shown > 200  # more than one batch of Index.hits
    assert (document["page"], document["pages"], document["limit"]) == (1, 1, shown)


def test_a_search_command_loads_only_what_a_search_needs(tmp_path: Path) -> None:
    """What keeps ``search`` quick to start (issue 18): none of the indexer, the entity
    extraction and its gazetteers, NLTK (its package, with SciPy, nor its stemmer: the snippets'
    words are stemmed from the index's table of stems), the evaluation, the web page or the
    Xapian engine is imported by a search of words the index holds often (a rare word asks
    "did you mean", which loads rapidfuzz)."""
    from .test_updates import write_wire

    searchlib.build(write_wire(tmp_path / "wire.jsonl", 50), tmp_path / "index")
    heavy = ("nltk", "scipy", "rapidfuzz", "ir_measures", "searchlib.indexer", "searchlib.entities", "searchlib.gazetteers",
             "searchlib.web", "starlette", "xapian", "searchlib.engines.xapian")
    code = ("import runpy, sys\n"
            "sys.argv = ['searchlib', 'search', 'harbour', '--index', 'index']\n"
            "try:\n    runpy.run_module('searchlib', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "from searchlib import analysis\n"
            "print('STEMMER LOADED', analysis._stemmer.cache_info().currsize)\n"
            f"print('LOADED', sorted(name for name in sys.modules if name in {heavy!r}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert "articles match 'harbour'" in done.stdout
    assert done.stdout.rstrip().splitlines()[-2:] == ["STEMMER LOADED 0", "LOADED []"], done.stderr


@pytest.mark.parametrize("command", ["search", "searchlib"])
def test_commands_leave_out_the_garbage_collections_at_exit_and_may_open_many_files(tmp_path: Path, command: str) -> None:
    """Python's last collections walk every object a command made (70 ms of a search): by the
    time the interpreter finalizes, they are frozen out of the collector, after the output. A
    soft limit of open files below the hard one is raised (an index holds a file open for each
    part of each segment it reads)."""
    from .test_updates import write_wire

    searchlib.build(write_wire(tmp_path / "wire.jsonl", 20), tmp_path / "index")
    entry = "search_main" if command == "search" else "main"
    arguments = ["harbour", "--index", "index"] if command == "search" else ["search", "harbour", "--index", "index"]
    code = ("import atexit, gc, resource, sys\n"
            "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))\n"
            "atexit.register(lambda: print('FILES', resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= min(hard, 65536)))\n"
            "atexit.register(lambda: print('FROZEN AT EXIT', gc.get_freeze_count() > 0))\n"
            f"sys.argv = [{command!r}, *{arguments!r}]\n"
            f"from searchlib.cli import {entry}\n"
            f"{entry}()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    lines = done.stdout.rstrip().splitlines()
    assert "articles match 'harbour'" in lines[0] and lines[-2:] == ["FROZEN AT EXIT True", "FILES True"], done.stderr
