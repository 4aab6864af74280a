"""The command line: ``search QUERY`` for the everyday job, ``searchlib COMMAND`` for the rest.

Each command parses its arguments, calls the public ``searchlib`` API and formats what comes
back. Every ``SearchlibError`` becomes a one-line message and exit status 1 in one place
(``_errors_as_messages``); logging is configured here and nowhere in the library.
"""

from __future__ import annotations

import os

# OpenBLAS starts a thread per core when numpy is imported (a tenth of a second of a search
# command); searchlib's array arithmetic never calls BLAS. Set before anything imports numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import atexit
import collections
import csv
import functools
import gc
import io
import json
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import click

import searchlib
from searchlib import Hit, SearchResult, Skipped, Snippet, formats
from searchlib.dates import is_relative, parse_period
EXIT_LOCKED = 75  # EX_TEMPFAIL: another writer holds the index; try again later
SKIPPED_SHOWN, SKIPPED_SHOWN_OF_A_KIND = 1_000, 100  # skipped inputs on stderr, as a BuildReport lists them
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

index_option = click.option(
    "--index",
    "index_path",
    type=click.Path(path_type=Path),
    default=searchlib.Settings().index,
    envvar="SEARCHLIB_INDEX",
    show_envvar=True,
    show_default=True,
    help="Index directory (or a Xapian cluster file, or xapian://host:port,host:port).",
)
corpus_option = click.option(
    "--corpus",
    "corpus_path",
    type=click.Path(path_type=Path),
    default=searchlib.Settings().corpus,
    envvar="SEARCHLIB_CORPUS",
    show_envvar=True,
    show_default=True,
    help="Corpus to build from when there is no index yet.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
ner_option = click.option(
    "--ner",
    type=click.Choice(["rules", "nltk", "spacy", "auto"]),
    default=None,
    envvar="SEARCHLIB_NER",
    show_envvar=True,
    help="Entity extractor for a build: rules (default, offline), nltk or spacy (if their models are installed), auto.",
)


class WriterRunning(click.ClickException):
    """Another writer holds the index: exit 75 (EX_TEMPFAIL), which schedulers read as "later"."""

    exit_code = EXIT_LOCKED


@contextmanager
def _errors_as_messages() -> Iterator[None]:
    """Turn the library's errors, and the OS's, into one-line messages instead of tracebacks."""
    try:
        yield
    except searchlib.IndexLockedError as exc:
        raise WriterRunning(str(exc)) from exc
    except searchlib.SearchlibError as exc:
        raise click.ClickException(str(exc)) from exc
    except BrokenPipeError:
        raise  # the reader of our output went away (| head): click ends quietly
    except OSError as exc:
        where = f"'{exc.filename}': " if exc.filename else ""
        raise click.ClickException(f"{where}{exc.strerror or exc}") from exc


@functools.cache
def _prepare_process() -> None:
    """Spare the command the garbage collections Python makes as it exits, which walk every
    object the command made (70 ms of a 0.35 s search; the system frees the memory at once):
    ``gc.freeze`` at exit leaves them out. Files are closed and output flushed as before.

    And let it open as many files as the system allows: an index holds a file open for each
    part of each segment it reads (up to 13 a segment), more than a soft limit of 256 (macOS's)
    allows a served index of many segments, which then answered every search with an error."""
    atexit.register(gc.freeze)
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65_536)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ImportError, ValueError, OSError):  # no such limits here, or not allowed to raise it
        pass


def _configure_logging(verbose: bool) -> None:
    """Log what the library does on stderr: errors only, or with ``-v`` what it does step by step
    (index opened, generation, how a query was parsed, timings)."""
    logger = logging.getLogger("searchlib")
    handler = next((h for h in logger.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"))
        logger.addHandler(handler)
    handler.setLevel(logging.INFO if verbose else logging.ERROR)
    logger.setLevel(logging.INFO if verbose else logging.NOTSET)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (a test runner swaps it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


class _Commands(click.Group):
    """The commands, with ``serve`` loaded only when asked for (or listed): ``search`` and the
    others never import the web page's module."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "serve"])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "serve":
            from searchlib.web.command import serve  # Starlette and uvicorn load only when it runs

            return serve
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings=CONTEXT)
@click.version_option(None, "-V", "--version", package_name="searchlib", prog_name="searchlib")
@click.option("-v", "--verbose", is_flag=True, help="Log what the library does, to stderr.")
def main(verbose: bool) -> None:
    """Index archives of news articles and search them.

    \b
    Example:
        searchlib build corpus/ --index indexes/main
        searchlib search "military base"
        searchlib status
    """
    _configure_logging(verbose)
    _prepare_process()


# build and update -------------------------------------------------------------------------------

corpus_argument = click.argument("corpus", type=click.Path(path_type=Path), required=False, envvar="SEARCHLIB_CORPUS")
def _checked_max_delete(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from searchlib.indexer import deletion_limit

    try:
        deletion_limit(value, 0)
    except searchlib.InvalidOptionError:
        raise click.BadParameter(f"{value!r}: give a number of articles (100) or a share of the index (50%)") from None
    return value


max_delete_option = click.option(
    "--max-delete", metavar="N|PERCENT", default=None, callback=_checked_max_delete,
    help="How many of the index's articles may be gone from the corpus before the command refuses "
         "to change anything: a count or a share (default 50%; 100% for no limit).",
)
switch_corpus_option = click.option(
    "--switch-corpus", is_flag=True,
    help="Allow reading a corpus other than the one the index was built from (its articles are replaced).",
)
wait_option = click.option(
    "--wait", type=click.FloatRange(min=0), default=0, metavar="SECONDS", show_default=True,
    help="If another build or update of this index is running, wait this long for it (else exit 75).",
)
report_option = click.option(
    "--report/--quiet", "-r/-q", default=None,
    help="Print the summary (default: only when stdout is a terminal, so cron stays silent on success).",
)
shard_option = click.option(
    "--shard", metavar="i/N", default=None,
    help="Xapian: write only shard i of N, on the machine that serves it (every machine reads the whole corpus).",
)
follow_symlinks_option = click.option(
    "--follow-symlinks", is_flag=True,
    help="Also read what symbolic links lead to outside CORPUS (by default they are skipped and reported).",
)


@main.command(context_settings=CONTEXT)
@corpus_argument
@index_option
@ner_option
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="all cores",
              help="Processes that analyse articles and write the index.")
@wait_option
@max_delete_option
@switch_corpus_option
@json_option
@report_option
@follow_symlinks_option
@click.option("--engine", type=click.Choice(["whoosh", "xapian"]), default=None,
              help="Write a Whoosh index, or Xapian shards (see README, Scale-out); default: the index's, else whoosh.")
@click.option("--shards", type=click.IntRange(min=1, max=1024), default=None,
              help="Xapian: how many shards, each written by a process of its own (default: the index's, else 1).")
@shard_option
def build(corpus: Path | None, index_path: Path, ner: str | None, jobs: int, wait: float, max_delete: str | None,
          switch_corpus: bool, as_json: bool, report: bool | None, follow_symlinks: bool, engine: str | None,
          shards: int | None, shard: str | None) -> None:
    """Build a fresh index of CORPUS (a directory or a .txt/.jsonl/.jsonl.gz file).

    Files and lines that cannot be read are skipped, listed on stderr and counted; every good
    article is indexed. The new index replaces the old one in one step, so searches running
    meanwhile are not disturbed. CORPUS defaults to $SEARCHLIB_CORPUS, then the corpus the index
    was built from, then ./corpus. Over an index of another corpus, or when more than half its
    articles are gone from the corpus, it changes nothing unless --switch-corpus or
    --max-delete says so.

    \b
    Example:
        searchlib build corpus/ --index indexes/main
        searchlib build ../shared/data/reuters21578.jsonl.gz --index indexes/reuters --jobs 2
    """
    _stop_cleanly_on_sigterm()
    if corpus is None and _recorded_corpus(index_path) is None:
        corpus = searchlib.Settings().corpus
    with _errors_as_messages():
        result = _write(searchlib.build, corpus, index_path, ner=ner, jobs=jobs, wait=wait,
                        max_delete=max_delete, switch_corpus=switch_corpus, follow_symlinks=follow_symlinks,
                        engine=engine, shards=shards, shard=shard)
    _print_report(result, given=corpus is not None, as_json=as_json, report=report)


@main.command(context_settings=CONTEXT)
@corpus_argument
@index_option
@ner_option
@wait_option
@max_delete_option
@switch_corpus_option
@json_option
@report_option
@follow_symlinks_option
@shard_option
def update(corpus: Path | None, index_path: Path, ner: str | None, wait: float, max_delete: str | None,
           switch_corpus: bool, as_json: bool, report: bool | None, follow_symlinks: bool, shard: str | None) -> None:
    """Bring the index up to date with CORPUS (default: the corpus it was built from): index
    added and changed articles, remove those gone. Only files whose size or time changed are
    read again, and only articles whose text changed are analysed again. Safe to run from cron
    while searches go on. With another corpus than the index's, or when more than half its
    articles would go, it changes nothing unless --switch-corpus or --max-delete says so.

    \b
    Example:
        searchlib update --index indexes/main
        */15 * * * *  cd /srv/news && .venv/bin/searchlib update --index indexes/main --wait 600
    """
    _stop_cleanly_on_sigterm()
    with _errors_as_messages():
        result = _write(searchlib.update, corpus, index_path, ner=ner, wait=wait,
                        max_delete=max_delete, switch_corpus=switch_corpus, follow_symlinks=follow_symlinks,
                        **({"shard": shard} if shard else {}))
    _print_report(result, given=corpus is not None, as_json=as_json, report=report)


def _recorded_corpus(index_path: Path) -> str | None:
    """The corpus the index at ``index_path`` was built from, if it records one."""
    try:
        return searchlib.index_status(index_path).get("corpus")
    except searchlib.SearchlibError:
        return None


def _stop_cleanly_on_sigterm() -> None:
    """SIGTERM (systemd stopping a unit, kill) and Ctrl-C end a writer alike: what it was writing
    is removed at once and the live index stays, rather than waiting for the next writer; the
    exit status is the shell's for the signal (143, 130)."""
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda number, frame: sys.exit(128 + number))


def _write(write: Any, corpus: Path | None, index_path: Path, **options: Any) -> searchlib.BuildReport:
    """Run a build or an update with a progress bar on a terminal, skipped inputs on stderr."""
    if not sys.stderr.isatty():
        return write(corpus, index_path, on_skip=_echo_skipped, **options)
    bar: Any = None
    shown = 0
    started = time.monotonic()

    def on_progress(progress: searchlib.Progress) -> None:
        nonlocal bar, shown
        if bar is None:
            bar = click.progressbar(length=max(progress.total_bytes, 1), label="Indexing", file=sys.stderr,
                                    show_eta=True, item_show_func=lambda item: item)
            bar.__enter__()
        rate = progress.articles / max(time.monotonic() - started, 1e-3)
        bar.update(progress.done_bytes - shown, f"{progress.articles:,} articles, {rate:,.0f}/s")
        shown = progress.done_bytes

    try:
        return write(corpus, index_path, on_skip=_echo_skipped, on_progress=on_progress, **options)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _print_report(result: searchlib.BuildReport, *, given: bool, as_json: bool, report: bool | None) -> None:
    """The summary on stdout: always with --json, else with --report or on a terminal."""
    if as_json:
        click.echo(json.dumps(_report_json(result), indent=2))
    elif report or (report is None and sys.stdout.isatty()):
        click.echo(_report_text(result, given=given))


def _report_text(report: searchlib.BuildReport, *, given: bool = True) -> str:
    corpus = f"'{report.corpus}'" + ("" if given else " (the corpus it was built from)")
    if report.kind == "update":
        if report.added or report.updated or report.removed:
            changes = f"added {report.added:,}, updated {report.updated:,}, removed {report.removed:,}"
            head = f"Updated '{report.index}' from {corpus} in {report.seconds:.1f} s: {changes}"
        else:
            head = f"'{report.index}' is up to date with {corpus} (checked in {report.seconds:.1f} s)"
    else:
        noun = "article" if report.added == 1 else "articles"
        head = f"Indexed {report.added:,} {noun} from {corpus} into '{report.index}' in {report.seconds:.1f} s"
    lines = [f"{head}; skipped {report.skipped_count:,}."]
    shown = 20
    lines += [f"  skipped {item}" for item in report.skipped[:shown]]
    if report.skipped_count > shown:
        listed = "all" if report.skipped_count == len(report.skipped) else f"{len(report.skipped) - shown:,} of them"
        lines.append(f"  … and {report.skipped_count - shown:,} more ({listed} listed on stderr, or use --json)")
        by_kind = sorted(report.skipped_reasons.items(), key=lambda pair: (-pair[1], pair[0]))
        lines.append("  skipped by reason: " + ", ".join(f"{kind} {count:,}" for kind, count in by_kind))
    return "\n".join(lines)


def _report_json(report: searchlib.BuildReport) -> dict[str, Any]:
    return {
        "index": str(report.index),
        "kind": report.kind,
        "added": report.added,
        "updated": report.updated,
        "removed": report.removed,
        "seconds": round(report.seconds, 3),
        "corpus": str(report.corpus),
        "skipped": [{"path": s.path, "line": s.line, "reason": s.reason, "kind": s.kind} for s in report.skipped],
        "skipped_count": report.skipped_count,
        "skipped_reasons": report.skipped_reasons,
    }


# search -----------------------------------------------------------------------------------------


class PeriodType(click.ParamType):
    """A date or period as ``dates.parse_period`` reads it; checked here, passed on as text."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            searchlib.parse_period(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)
        return str(value)


def filter_options(command: Any) -> Any:
    """--since, --until and the entity filters, shared by search and timeline."""
    options = [
        click.option("--since", type=PeriodType(), help="Only articles dated from the start of this date or period on (2012, 2012-04, 2012-04-17, last week)."),
        click.option("--until", type=PeriodType(), help="Only articles dated up to the end of this date or period."),
        click.option("--person", multiple=True, metavar="NAME", help="Only articles that mention this person (repeatable)."),
        click.option("--place", multiple=True, metavar="NAME", help="Only articles that mention this place, by any alias (repeatable)."),
        click.option("--org", "organization", multiple=True, metavar="NAME", help="Only articles that mention this organisation (repeatable)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _open_or_build(index_path: Path, corpus_path: Path, wait: float) -> searchlib.Index:
    """The index, built first only where that cannot hurt: for the quick start (the default
    index and corpus, neither set by the user) or when the user named the corpus. Anywhere else
    a missing index is an error, so a mistyped --index builds nothing. The index is opened for
    one search (``preload=False``)."""
    try:
        return searchlib.Index.open(index_path, wait=wait, preload=False)
    except searchlib.IndexNotFoundError:
        context = click.get_current_context()
        index_set, corpus_set = (context.get_parameter_source(name) != click.core.ParameterSource.DEFAULT
                                 for name in ("index_path", "corpus_path"))
        if index_set and not corpus_set:
            raise
    click.echo(f"No index at '{index_path}' yet: building it from '{corpus_path}'…", err=True)
    try:
        _write(searchlib.build, corpus_path, index_path)
    except searchlib.IndexLockedError:
        pass  # another search started the same build a moment ago: wait for it as asked
    return searchlib.Index.open(index_path, wait=wait, preload=False)


class LimitType(click.ParamType):
    """Hits per page: a number from 1, or ``all``."""

    name = "N|all"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | None:
        if str(value).strip().lower() == "all":
            return None
        try:
            number = int(value)
        except ValueError:
            self.fail(f"{value!r} is not a number of hits or 'all'", param, ctx)
        if number < 1:
            self.fail(f"{number} is not in the range x>=1 (or give 'all').", param, ctx)
        return number


any_option = click.option("--any", "any_words", is_flag=True,
                          help="Count and show the articles with any of the words (those with all first), not only those with every word.")
strict_option = click.option("--strict", is_flag=True, help="Refuse query syntax that cannot be read, instead of reading it as words.")
verbose_option = click.option("-v", "--verbose", is_flag=True, expose_value=False, is_eager=True,
                              callback=lambda _c, _p, value: _configure_logging(True) if value else None,
                              help="Log what the library does, to stderr.")


@click.command(context_settings=CONTEXT)
@click.argument("query", required=False)
@index_option
@corpus_option
@click.option("-n", "--limit", type=LimitType(), default="10", show_default=True,
              help="Hits per page; 'all' for every hit, streamed (the way to export with --csv or --json).")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, help="Page of hits to show.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance", show_default=True, help="Order of hits; undated articles come last in date orders.")
@filter_options
@any_option
@strict_option
@click.option("--like", "like_id", metavar="ID", help="Instead of QUERY: articles on the same subject as the article with this id.")
@click.option("--facets", is_flag=True, help="Also show the people, organisations and places most mentioned in all matches.")
@click.option("--explain", is_flag=True, help="Show how each hit's score adds up, per field and word.")
@click.option("--all", "all_copies", is_flag=True, help="Show every copy of a story, not one hit a story with 'and N similar'.")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print the hits as CSV (rank,id,title,date,url,score,snippet,entities,similar).")
@click.option("--wait", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
              help="If the index's first build is running, wait this long for it to finish.")
@click.option(
    "--color/--no-color",
    default=None,
    help="Highlight matches in colour. Default: when stdout is a terminal and NO_COLOR is unset.",
)
@verbose_option
def search(
    query: str | None,
    index_path: Path,
    corpus_path: Path,
    limit: int | None,
    page: int,
    sort: str,
    since: str | None,
    until: str | None,
    person: tuple[str, ...],
    place: tuple[str, ...],
    organization: tuple[str, ...],
    any_words: bool,
    strict: bool,
    like_id: str | None,
    facets: bool,
    explain: bool,
    all_copies: bool,
    as_json: bool,
    as_csv: bool,
    wait: float,
    color: bool | None,
) -> None:
    """Search the index for QUERY and show the best articles with highlighted snippets.

    QUERY is any text. Articles with every word are counted and shown (--any: those with some
    of the words too). Its syntax: "exact phrases" ("a b"~5: within 5 words), AND, OR, NOT,
    parentheses, prefix*, fuzzy~, field:word for the fields title, body, caption, url, path, id
    and the entity fields person, org, place and entity (any kind), and dates: date:2012,
    date:[2012-01 to 2012-06], date:"last week". What the syntax cannot mean is read as words,
    and a line says how (--strict refuses it instead). A story filed several times (wire
    repeats, corrections) shows once, "and N similar"; --all shows every copy. With no index
    yet, the default index is built from the corpus first (or any index, when --corpus names
    its corpus).

    \b
    Example:
        search "military base"
        search '"military base" NOT Russia' --limit 5
        search 'person:Rakhmon' --json
        search grain --place USSR --facets --since 1987-03 --until 1987-04
        search wheat --sort newest --limit all --csv > wheat.csv
        search --like reuters-11316
    """
    if query is None and like_id is None:
        raise click.UsageError("Give a QUERY to search for, or --like ID.")
    if query is not None and like_id is not None:
        raise click.UsageError("Give a QUERY or --like ID, not both.")
    if as_json and as_csv:
        raise click.UsageError("Choose one of --json and --csv.")
    if limit is None and like_id is not None:
        raise click.UsageError("--limit all goes with a QUERY; --like shows pages: --limit N --page P.")
    if limit is None and page > 1:
        raise click.UsageError("--limit all writes every hit, on one page: leave out --page, or give --limit N --page P.")
    if limit is None and facets:
        raise click.UsageError("--limit all goes without --facets: ask for the facets with a page (--limit N).")
    if color is None:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    options: dict[str, Any] = dict(sort=sort, since=since, until=until, person=person, place=place,
                                   organization=organization, explain=explain, fold_duplicates=not all_copies)
    words: dict[str, Any] = dict(match="any" if any_words else "all", strict=strict)
    with _errors_as_messages(), _open_or_build(index_path, corpus_path, wait) as index:
        within = _filters_text(since=since, until=until, person=person, place=place, organization=organization)
        if limit is None:
            stream = index.hits(query or "", **options, **words)
            _print_all(next(stream), stream, as_json=as_json, as_csv=as_csv, color=color, explain=explain, within=within)
            return
        options.update(limit=limit, page=page, facets=facets)
        if query is not None:
            result = index.search(query, **options, **words)
        else:
            result = index.more_like(like_id, **options)  # type: ignore[arg-type]
    if as_json:
        click.echo(json.dumps(formats.result_json(result), indent=2, ensure_ascii=False))
    elif as_csv:
        click.echo(formats.csv_header() + "".join(formats.csv_row(hit) for hit in result.hits), nl=False)
    else:
        text = _result_text(result, color=color, explain=explain, within=within)
        if facets:
            text += "\n\n" + _facets_text(result)
        click.echo(text, color=color)


def _print_all(first: SearchResult, hits: Iterator[Hit], *, as_json: bool, as_csv: bool, color: bool, explain: bool,
               within: str) -> None:
    """Every hit, as it comes: the export of ``--limit all``."""
    if as_csv:
        click.echo(formats.csv_header(), nl=False)
        for hit in hits:
            click.echo(formats.csv_row(hit), nl=False)
    elif as_json:
        every = max(first.total if first.stories is None else first.stories, 1)  # one page of every hit
        head = json.dumps(formats.result_json(attrs.evolve(first, limit=every, page=1), hits=False), ensure_ascii=False)
        click.echo(head[:-1] + ', "hits": [')
        for number, hit in enumerate(hits):
            click.echo(("," if number else "") + json.dumps(formats.hit_json(hit), ensure_ascii=False))
        click.echo("]}")
    else:
        click.echo("\n".join(_head_lines(first, within)), color=color)
        for hit in hits:
            click.echo("\n".join(["", *_hit_lines(hit, color=color, explain=explain)]), color=color)


def _filters_text(*, since: str | None, until: str | None, person: tuple[str, ...], place: tuple[str, ...],
                  organization: tuple[str, ...]) -> str:
    """The filters of a search as the count line names them: `` from 1987-03 until 1987-04, with
    place 'USSR'`` (empty without filters), so that a count of 0 is not read as the query's."""
    parts = []
    if since or until:
        parts.append(" ".join(f"{word} {_date_text(value, end=word == 'until')}"
                              for word, value in (("from", since), ("until", until)) if value))
    names = [f"{kind} {formats.for_terminal(name)!r}" for kind, values in (("person", person), ("place", place),
                                                                         ("organisation", organization)) for name in values]
    if names:
        parts.append("with " + " and ".join(names))
    return "".join(f" {part}" if number == 0 else f", {part}" for number, part in enumerate(parts))


def _date_text(value: str, *, end: bool) -> str:
    """A date filter as typed, with the day it stood for when it was relative: ``last year
    (2025-01-01)``."""
    shown = formats.for_terminal(value)
    return f"{shown} ({parse_period(value)[1 if end else 0]:%Y-%m-%d})" if is_relative(value) else shown


def _result_text(result: SearchResult, *, color: bool, explain: bool = False, within: str = "") -> str:
    lines = _head_lines(result, within)
    if result.hits and result.pages > 1:
        first, last = result.hits[0].rank, result.hits[-1].rank
        lines[0] += f" Showing {first}–{last}."
        if result.page < result.pages:
            lines[0] += f" Next: --page {result.page + 1}."
    elif result.total and result.page > 1:
        lines.append(f"Page {result.page} is past the last page ({result.pages}).")
    for hit in result.hits:
        lines += ["", *_hit_lines(hit, color=color, explain=explain)]
    return "\n".join(lines)


def _head_lines(result: SearchResult, within: str = "") -> list[str]:
    """The count (and what it leaves out, and the filters ``within`` it), then how the query was
    read and "did you mean"."""
    noun = "article matches" if result.total == 1 else "articles match"
    head = f"{result.total:,} {noun} {formats.for_terminal(result.query)!r}{within}"
    if result.stories is not None and result.stories < result.total:
        head += f" ({result.stories:,} stories, copies folded)"
    if result.some_words:
        more = "1 more has" if result.some_words == 1 else f"{result.some_words:,} more have"
        head += f"; {more} some of the words (--any shows {'it' if result.some_words == 1 else 'them'} too)"
    lines = [head + "."]
    if result.suggestion:
        suggestion = formats.for_terminal(result.suggestion)
        lines.append(f"Did you mean: {suggestion}" + ("" if suggestion.endswith("?") else "?"))  # not "bases??"
    return lines + [f"Note: {notice}" for notice in result.notices]


def _hit_lines(hit: Hit, *, color: bool, explain: bool) -> list[str]:
    def render(snippet: Snippet) -> str:
        before, after = ("\x1b[1;33m", "\x1b[0m") if color else ("[", "]")
        return snippet.render(before, after, formats.for_terminal)

    date = hit.date.date().isoformat() if hit.date else "undated"
    lines = [f"{hit.rank}. {render(hit.title_snippet)}", f"   {date} · {formats.for_terminal(hit.id)} · score {hit.score:.2f}"]
    if hit.url:
        lines.append(f"   {formats.for_terminal(hit.url)}")
    if hit.snippet.text:
        lines.append(f"   {render(hit.snippet)}")
    if hit.similar:
        lines.append(f"   and {len(hit.similar)} similar: {formats.for_terminal(', '.join(hit.similar))}")
    if explain:
        parts = " + ".join(f"{p.field}:{formats.for_terminal(p.term)} {p.score:.2f}" for p in hit.explanation)
        lines.append(f"   score {hit.score:.2f} = {parts or 'no word matched a searched field'}")
    return lines


FACET_HEADINGS = {"person": "People", "organization": "Organisations", "place": "Places"}


def _facets_text(result: SearchResult) -> str:
    lines = [f"Most mentioned in all {result.total:,} matches:"]
    for kind, heading in FACET_HEADINGS.items():
        values = result.facets.get(kind, ())
        listed = ", ".join(f"{formats.for_terminal(value.name)} ({value.count:,})" for value in values) or "none"
        lines.append(f"  {heading + ':':<15}{listed}")
    return "\n".join(lines)


main.add_command(search)


# status -----------------------------------------------------------------------------------------

#: The figures of ``index_status`` that are counts, shown as the other commands show counts (20,841).
STATUS_COUNTS = frozenset({"articles", "skipped", "changed_files"})


@main.command(context_settings=CONTEXT)
@index_option
@json_option
def status(index_path: Path, as_json: bool) -> None:
    """Show what the index holds, when it was built, how many corpus files changed since, and
    whether a writer is running.

    \b
    Example:
        searchlib status --index indexes/main
    """
    with _errors_as_messages():
        info = searchlib.index_status(index_path)
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    writer = info["writer"]
    if info["generation"] is None:
        shown = {"index": info["index"], "state": "being built (no generation is live yet)", "writer": _writer_text(writer)}
    else:
        shown = {**{key: f"{value:,}" if key in STATUS_COUNTS and value is not None else value
                    for key, value in info.items() if key != "writer"}, "writer": _writer_text(writer)}
        if shown["changed_files"] is None:
            gone = info["corpus"] and not Path(info["corpus"]).exists()
            shown["changed_files"] = "unknown (corpus not found)" if gone else "unknown (not recorded here)"
    click.echo("\n".join(f"{key + ':':<16}{value}" for key, value in shown.items()))


def _writer_text(writer: dict[str, Any] | None) -> str:
    if not writer:
        return "none"
    text = f"running: process {writer.get('pid')} ({writer.get('command')}, started {writer.get('started')})"
    progress = writer.get("progress")
    if progress:
        text += f", {progress['articles']:,} articles so far"
        if progress.get("total_bytes"):
            text += f", {100 * progress['done_bytes'] / progress['total_bytes']:.0f}% of the corpus read"
    return text


# timeline ---------------------------------------------------------------------------------------


@main.command(context_settings=CONTEXT)
@click.argument("query")
@index_option
@corpus_option
@click.option("--by", type=click.Choice(["year", "month", "day"]), default="month", show_default=True, help="Length of each period.")
@filter_options
@any_option
@strict_option
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print period,count rows as CSV.")
@click.option("--wait", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
              help="If the index's first build is running, wait this long for it to finish.")
def timeline(
    query: str,
    index_path: Path,
    corpus_path: Path,
    by: str,
    since: str | None,
    until: str | None,
    person: tuple[str, ...],
    place: tuple[str, ...],
    organization: tuple[str, ...],
    any_words: bool,
    strict: bool,
    as_json: bool,
    as_csv: bool,
    wait: float,
) -> None:
    """Count the articles matching QUERY in each year, month or day, as a bar chart.

    The articles counted are those search counts: with every word (--any: with any). Every
    period from the first match to the last is listed, empty ones too. Undated matches are
    counted apart; the counts add up to the total.

    \b
    Example:
        searchlib timeline "grain exports" --by month
        searchlib timeline Russia --by year --csv > russia.csv
    """
    if as_json and as_csv:
        raise click.UsageError("Choose one of --json and --csv.")
    with _errors_as_messages(), _open_or_build(index_path, corpus_path, wait) as index:
        result = index.timeline(query, by=by, since=since, until=until, person=person, place=place,
                                organization=organization, match="any" if any_words else "all", strict=strict)
    if as_json:
        click.echo(json.dumps(formats.timeline_json(result), indent=2, ensure_ascii=False))
    elif as_csv:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["period", "count"])
        writer.writerows([b.period, b.count] for b in result.buckets)
        if result.undated:
            writer.writerow(["undated", result.undated])
        click.echo(out.getvalue(), nl=False)
    else:
        within = _filters_text(since=since, until=until, person=person, place=place, organization=organization)
        click.echo(_timeline_text(result, within=within, any_words=any_words))


def _timeline_text(result: searchlib.Timeline, *, within: str = "", any_words: bool = False, width: int = 40) -> str:
    """The chart, under a line that says what was counted: the query, the filters ``within``
    it (as search's count line names them) and whether articles with any of the words were."""
    noun = "article" if result.total == 1 else "articles"
    counted = f"{result.total:,} {noun}" + (" with any of the words" if any_words else "")
    head = f"{formats.for_terminal(result.query)!r} by {result.by}{within}: {counted}, {result.undated:,} of them undated"
    if result.some_words:
        head += f"; {result.some_words:,} more with some of the words (--any counts them too)"
    lines = [head + ".", *(f"Note: {notice}" for notice in result.notices)]
    peak = max((b.count for b in result.buckets), default=0)
    digits = len(f"{peak:,}")
    for bucket in result.buckets:
        eighths = round(bucket.count / peak * width * 8) if peak else 0
        bar = "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]
        lines.append(f"{bucket.period}  {bucket.count:>{digits},}  {bar}")
    return "\n".join(lines)


# eval -------------------------------------------------------------------------------------------


@main.command("eval", context_settings=CONTEXT)
@click.option("--corpus", "corpus_path", type=click.Path(path_type=Path, exists=True), required=True, help="The collection's documents (.jsonl, .jsonl.gz or a directory).")
@click.option("--topics", "topics_path", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True, help="qid<TAB>query text, one a line.")
@click.option("--qrels", "qrels_path", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True, help="Relevance judgments, TREC format: qid 0 docid relevance.")
@click.option("--index", "index_path", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Index of the corpus to use, built there if missing (default: a temporary one).")
@click.option("--run", "run_path", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Also write the run to this file, TREC format.")
@click.option("--fail-under", "minimums", metavar="MEASURE=VALUE", multiple=True, callback=lambda _c, _p, v: _minimums(v),
              help="Exit with status 1 if a measure (nDCG@10, MAP, R@100) is below VALUE; repeatable. For CI.")
@json_option
def evaluate(
    corpus_path: Path,
    topics_path: Path,
    qrels_path: Path,
    index_path: Path | None,
    run_path: Path | None,
    minimums: dict[str, float],
    as_json: bool,
) -> None:
    """Measure ranking quality on a test collection: nDCG@10, MAP and Recall@100 over the judged
    topics, each searched as typed text with the settings search uses.

    \b
    Example:
        searchlib eval --corpus ../shared/data/scifact/corpus.jsonl.gz \\
            --topics ../shared/data/scifact/topics.tsv --qrels ../shared/data/scifact/qrels.txt \\
            --fail-under nDCG@10=0.6789
    """
    with _errors_as_messages(), tempfile.TemporaryDirectory(prefix="searchlib-eval-") as scratch:
        index_dir = index_path or Path(scratch) / "index"
        try:
            index = searchlib.Index.open(index_dir)
        except searchlib.IndexNotFoundError:
            _write(searchlib.build, corpus_path, index_dir, jobs=os.cpu_count() or 1)
            index = searchlib.Index.open(index_dir)
        with index:
            built_from = index.metadata.get("corpus")
            if built_from and Path(built_from) != corpus_path.resolve():
                raise searchlib.InvalidOptionError(
                    f"The index at '{index.path}' was built from '{built_from}', not from '{corpus_path}': its figures "
                    f"would be another collection's. Give another --index, or leave --index out (a temporary index)")
            result = searchlib.evaluate(index, searchlib.read_topics(topics_path), qrels_path)
    if run_path is not None:
        run_path.write_text(result.trec_run(), encoding="utf-8")
    if as_json:
        click.echo(json.dumps({"topics": result.topics, "measures": result.measures}, indent=2))
    else:
        lines = [f"{result.topics} judged topics"]
        lines += [f"{LABELS.get(name, name):<10}{value:.4f}" for name, value in result.measures.items()]
        click.echo("\n".join(lines))
    below = [f"{LABELS.get(name, name)} {result.measures[name]:.4f} is below {least}" for name, least in minimums.items() if result.measures[name] < least]
    if below:
        raise click.ClickException("; ".join(below))


LABELS = {"AP": "MAP"}


def _minimums(values: tuple[str, ...]) -> dict[str, float]:
    """``--fail-under`` values, ``nDCG@10=0.6789``, by the measure's name in ``Evaluation``."""
    from searchlib.evaluation import MEASURES  # the evaluation imports ir-measures: only for eval

    names = {LABELS.get(name, name).lower(): name for name in MEASURES} | {name.lower(): name for name in MEASURES}
    minimums = {}
    for value in values:
        name, _, number = value.partition("=")
        try:
            minimums[names[name.strip().lower()]] = float(number)
        except (KeyError, ValueError):
            raise click.BadParameter(
                f"{value!r}: write MEASURE=VALUE with a measure of {', '.join(LABELS.get(n, n) for n in MEASURES)}",
                param_hint="--fail-under",
            ) from None
    return minimums


# entities ---------------------------------------------------------------------------------------


@main.command(context_settings=CONTEXT)
@click.argument("source", type=click.Path(allow_dash=True, path_type=Path), required=False)
@ner_option
@click.option("--aliases", "show_aliases", is_flag=True,
              help="Instead of SOURCE: the names the articles of the index give one entity, under the one name facets and filters use.")
@index_option
@json_option
def entities(source: Path | None, ner: str | None, show_aliases: bool, index_path: Path, as_json: bool) -> None:
    """Show the entities extracted from SOURCE: an article or corpus file, a directory, or - for
    text on stdin. This is what the index holds for person:, org:, place: and the filters. With
    --aliases, the names the index's articles give one entity ("USDA", "Agriculture
    Department"), each under the one name facets show and filters accept for them all.

    \b
    Example:
        searchlib entities corpus/000_6a031b2be50133bf.txt
        echo "Tajik President Imomali Rakhmon visited Moscow." | searchlib entities -
        searchlib entities --aliases --index indexes/reuters
    """
    if (source is None) != show_aliases:
        raise click.UsageError("Give a SOURCE or --aliases (not both).")
    if show_aliases:
        with _errors_as_messages(), searchlib.Index.open(index_path) as index:
            groups = index.aliases.groups()
        _print_aliases(groups, as_json=as_json)
        return
    with _errors_as_messages():
        extract = searchlib.entity_extractor(ner)
        if str(source) == "-":
            texts = [("-", sys.stdin.read())]
        else:
            assert source is not None
            texts = [(a.id, f"{a.caption}\n\n{a.body}") for a in searchlib.read_corpus(source, on_skip=_echo_skipped)]
        found = [(name, extract(text)) for name, text in texts]
    if as_json:
        documents = [{"id": formats.safe(name), "entities": [{"name": formats.safe(e.name), "kind": e.kind} for e in ents]}
                     for name, ents in found]
        click.echo(json.dumps(documents[0] if str(source) == "-" else documents, indent=2, ensure_ascii=False))
        return
    blocks = []
    for name, ents in found:
        lines = [name] if len(found) > 1 or str(source) != "-" else []
        for kind, heading in FACET_HEADINGS.items():
            names = [e.name for e in ents if e.kind == kind]
            lines.append(f"  {heading + ':':<15}{', '.join(names) or '-'}")
        blocks.append("\n".join(lines))
    click.echo("\n\n".join(blocks))


def _print_aliases(groups: dict[str, dict[str, tuple[str, ...]]], *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({kind: {name: list(others) for name, others in names.items()} for kind, names in groups.items()},
                              indent=2, ensure_ascii=False))
        return
    lines = []
    for kind, heading in FACET_HEADINGS.items():
        names = groups.get(kind, {})
        lines.append(f"{heading} ({len(names):,} with other names):")
        lines += [f"  {formats.for_terminal(name)}: {formats.for_terminal(', '.join(others))}" for name, others in names.items()]
    click.echo("\n".join(lines))


def _echo_skipped(item: Skipped) -> None:
    """Log a skipped input on stderr: the first ``SKIPPED_SHOWN`` of a command (and of them,
    ``SKIPPED_SHOWN_OF_A_KIND`` of a kind), then, when it ends, one line that counts the rest
    (a corpus can hold millions of bad lines)."""
    context = click.get_current_context()
    kinds = context.meta.setdefault("searchlib.skipped", collections.Counter())
    kinds[item.kind] += 1
    shown = context.meta.setdefault("searchlib.shown", [0])
    if shown[0] < SKIPPED_SHOWN and kinds[item.kind] <= SKIPPED_SHOWN_OF_A_KIND:
        shown[0] += 1
        _log(f"skipped {item}")
    elif kinds.total() - shown[0] == 1:  # the first not shown
        def count_the_rest() -> None:
            _log(f"… {kinds.total() - shown[0]:,} more skipped inputs not shown; see the report (--report or --json)")

        context.call_on_close(count_the_rest)


def _log(message: str) -> None:
    """A line on stderr; off a terminal (cron, a log file) it starts with the time."""
    if not sys.stderr.isatty():
        message = f"{datetime.now().isoformat(timespec='seconds')} {message}"
    click.echo(message, err=True)


# serve-shard (the Xapian engine) ----------------------------------------------------------------


@main.command("serve-shard", context_settings=CONTEXT)
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--port", type=click.IntRange(1, 65535), required=True, help="TCP port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Close a connection idle or busy this long (xapian-tcpsrv's default otherwise).")
def serve_shard(directory: Path, port: int, host: str, timeout: float | None) -> None:
    """Serve one Xapian shard, read-only, with xapian-tcpsrv, for searches on other machines
    (see README, Scale-out). DIRECTORY is the shard's directory (DIR/shard-1-of-3), or an index
    of one shard. A rebuild of the shard is served to each new connection.

    \b
    Example:
        searchlib serve-shard indexes/reuters/shard-1-of-3 --port 7001 --host 0.0.0.0
        search "military base" --index xapian://10.0.0.5:7001,10.0.0.6:7001,10.0.0.7:7001
    """
    from searchlib.engines.xapian_server import serve, serve_command

    with _errors_as_messages():
        command = serve_command(directory, port=port, host=host, timeout=timeout)
    sys.exit(serve(command))


def search_main() -> None:
    """The ``search`` console script: ``searchlib search`` as a command of its own."""
    _configure_logging(verbose=False)
    _prepare_process()
    search(prog_name="search")
