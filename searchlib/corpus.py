"""Find and parse the articles of a corpus: files in, ``Article`` values out.

A corpus is a directory, read recursively, or a single file. Two formats are understood:

* native article files (``*.txt``): the headline, the date in words ("April 17, 2012"), an
  optional photo caption ending in a ``**bold**`` credit, paragraphs separated by blank lines,
  and ``Original url:`` followed by ``<url>``. Markdown escapes (``\\$``, ``**bold**``) are undone,
  and paragraphs broken in mid-sentence are joined again.
* JSON Lines (``*.jsonl``, ``*.jsonl.gz``): one object a line with ``id``, ``title``, ``date``
  (ISO 8601 or null), ``body`` and optionally ``url``.

Bad input never stops a read: an unreadable, undecodable, empty or malformed file or line is
passed to ``on_skip`` as a ``Skipped`` (with its path, line and kind of problem) and the rest goes
on. A date that cannot be understood, or that no ``datetime`` can hold, becomes unknown.

The corpus is a boundary, and no one input may cost more than itself:

* only regular files under the corpus root are read. A symbolic link that leads out of it is
  skipped, unless ``follow_symlinks`` allows it; FIFOs, devices and sockets are skipped without
  being opened (a FIFO would wait for a writer forever, ``/dev/zero`` never ends); folders are
  walked with a stack, not recursion, however deep they nest;
* a file or JSON line over ``MAX_ARTICLE_BYTES`` is skipped: a line is read with a cap and
  passed over to its end in pieces, never held whole (a gzip file can hold gigabytes in one
  line); JSON nested deeper than ``MAX_JSON_NESTING`` is skipped before it is parsed.

This module knows nothing about Whoosh.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import re
import stat
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import CorpusError
from .models import SKIPPED_EXAMPLES, SKIPPED_EXAMPLES_OF_A_KIND, Article, Skipped, naive_utc

__all__ = [
    "read_corpus",
    "read_file",
    "corpus_files",
    "corpus_base",
    "parse_article_text",
    "parse_date",
    "SUFFIXES",
    "SkipHandler",
    "SkipLog",
    "MAX_ARTICLE_BYTES",
    "MAX_JSON_NESTING",
]

logger = logging.getLogger(__name__)

SUFFIXES = (".txt", ".jsonl", ".jsonl.gz")

SkipHandler = Callable[[Skipped], None]


class SkipLog:
    """What a build or an update skipped, as its report keeps it: every item counted by kind
    (``reasons``), the first ``SKIPPED_EXAMPLES`` kept (``SKIPPED_EXAMPLES_OF_A_KIND`` of a kind)
    and logged, so that a corpus of millions of bad lines costs counts, not memory; each item is
    also passed on to ``on_skip``. Call it with a ``Skipped``."""

    def __init__(self, on_skip: SkipHandler | None) -> None:
        self.examples: list[Skipped] = []
        self.reasons: Counter[str] = Counter()
        self._on_skip = on_skip

    def __call__(self, item: Skipped) -> None:
        self.reasons[item.kind] += 1
        if len(self.examples) < SKIPPED_EXAMPLES and self.reasons[item.kind] <= SKIPPED_EXAMPLES_OF_A_KIND:
            self.examples.append(item)
            logger.warning("skipped %s", item)
        if self._on_skip is not None:
            self._on_skip(item)

    def total(self) -> int:
        return self.reasons.total()

    def report_fields(self) -> dict[str, object]:
        """The ``BuildReport`` fields of what was skipped (and a log line for those not logged)."""
        if self.total() > len(self.examples):
            logger.warning("… %s more skipped inputs not logged; see the report", f"{self.total() - len(self.examples):,}")
        return {"skipped": tuple(self.examples), "skipped_count": self.total(), "skipped_reasons": dict(self.reasons)}

#: The most bytes one article file or one JSON line may hold: 10 MiB. The longest article in
#: the corpora we test with (a Wikipedia page) is 93 KB and a long news story some 50 KB, so
#: this skips no real article, while what one article costs a build stays bounded: its text
#: is held in a few copies (bytes, text, stored field), about ten times this at worst, and
#: only its first ``analysis.ANALYSED_CHARACTERS`` are analysed. A larger input is skipped, with
#: its size in the reason; a line is passed over without being held.
MAX_ARTICLE_BYTES = 10 * 2**20

#: How deep arrays and objects may nest in one JSON line: 100, Ruby's JSON default
#: (``max_nesting``). An article is one flat object, so real records stay far below it, and
#: far below the depth (the recursion limit, about 1,000) at which Python's parser gives up.
MAX_JSON_NESTING = 100


def _ignore(skipped: Skipped) -> None:
    pass


def read_corpus(
    root: Path | str,
    *,
    on_skip: SkipHandler | None = None,
    on_bytes: Callable[[int], None] | None = None,
    follow_symlinks: bool = False,
) -> Iterator[Article]:
    """Yield every good article under ``root`` (a directory or one corpus file).

    Args:
        root: a directory, read recursively in name order, or a single ``.txt``/``.jsonl``/
            ``.jsonl.gz`` file.
        on_skip: called with a ``Skipped`` for each file, folder or line that could not be
            read, and for each article whose id repeats one already read.
        on_bytes: called with the number of bytes of the corpus files read so far (of the
            compressed file, for ``.gz``), for progress reports.
        follow_symlinks: also read files and folders that symbolic links lead to outside
            ``root`` (by default they are skipped and reported: nothing outside is read).

    Raises:
        CorpusError: ``root`` does not exist or is a file of another kind.
    """
    root = Path(root)
    report = on_skip or _ignore
    base = corpus_base(root)
    first_read_from: dict[str, str] = {}
    done = 0
    for path in corpus_files(root, on_skip=report, follow_symlinks=follow_symlinks):
        for article, line in read_file(path, base, report, on_bytes=_offset(on_bytes, done)):
            where = str(path) if line is None else f"{path}:{line}"
            if article.id in first_read_from:
                reason = f"duplicate id {article.id!r}, first read from {first_read_from[article.id]}"
                report(Skipped(str(path), reason, line=line, kind="duplicate-id"))
                continue
            first_read_from[article.id] = where
            yield article
        done += _size(path)
        if on_bytes is not None:
            on_bytes(done)


def corpus_base(root: Path) -> Path:
    """The folder article ids are relative to: the corpus itself, or a corpus file's folder."""
    return root if root.is_dir() else root.parent


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _offset(on_bytes: Callable[[int], None] | None, done: int) -> Callable[[int], None] | None:
    return None if on_bytes is None else (lambda position: on_bytes(done + position))


def corpus_files(
    root: Path | str, *, on_skip: SkipHandler | None = None, follow_symlinks: bool = False
) -> Iterator[Path]:
    """The corpus files under ``root`` in a stable order; hidden files and folders are left out.

    Folders are walked depth first in name order (a folder's files, then its folders), with a
    stack rather than recursion, so no depth of folders exhausts Python's stack. Only regular
    files are yielded; what is left out for a reason goes to ``on_skip``: a folder that cannot
    be listed, a FIFO, device or socket with a corpus file's name (never opened), a link that
    leads nowhere, and a symbolic link that leads out of ``root`` (unless ``follow_symlinks``).
    Links to folders are walked only with ``follow_symlinks``, each folder once; without it, a
    folder linked from inside the corpus is read where it is.

    Raises:
        CorpusError: ``root`` does not exist or is a file of another kind.
    """
    root = Path(root)
    if root.is_file():
        if not _has_corpus_suffix(root.name):
            raise CorpusError(
                f"'{root}' is not a corpus file: expected a directory or a file ending in "
                f"{', '.join(SUFFIXES)}",
                path=root,
            )
        yield root
        return
    if not root.is_dir():
        raise CorpusError(
            f"No corpus at '{root}': give a directory of article files "
            f"({', '.join(SUFFIXES)}) or one such file",
            path=root,
        )
    report = on_skip or _ignore
    inside = os.path.realpath(root)
    walked: set[tuple[int, int]] = set()  # folders met, by device and inode, when links are followed
    folders = [root]
    while folders:
        folder = folders.pop()
        if follow_symlinks and not _first_visit(folder, walked):
            continue
        subfolders = []
        for entry in _entries(folder, report):
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    target = os.path.realpath(path)
                    if not (follow_symlinks or _is_within(target, inside)):
                        if entry.is_dir() or _has_corpus_suffix(entry.name):
                            report(Skipped(str(path), f"a symbolic link to '{target}', outside the corpus: not read "
                                           "(--follow-symlinks reads it)", kind="outside-corpus"))
                        continue
                    if entry.is_dir():
                        if follow_symlinks:
                            subfolders.append(path)
                        continue
                elif entry.is_dir(follow_symlinks=False):
                    subfolders.append(path)
                    continue
                if not _has_corpus_suffix(entry.name):
                    continue
                if not entry.is_file():  # the listing's file type, or the link target's
                    report(_not_regular(path, os.stat(path).st_mode))
                    continue
            except OSError as exc:
                what = "a symbolic link that leads nowhere" if entry.is_symlink() else "cannot read the file"
                report(Skipped(str(path), f"{what}: {exc.strerror or exc}", kind="unreadable"))
                continue
            yield path
        folders.extend(reversed(subfolders))


def _entries(folder: Path, report: SkipHandler) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` in name order, hidden ones left out; none if it cannot be listed."""
    try:
        with os.scandir(folder) as listing:
            return sorted((entry for entry in listing if not entry.name.startswith(".")), key=_name)
    except OSError as exc:
        reason = f"cannot read the folder: {exc.strerror or exc}; the files in it were not read"
        report(Skipped(str(folder), reason, kind="unreadable"))
        return []


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _first_visit(folder: Path, walked: set[tuple[int, int]]) -> bool:
    """Whether ``folder`` is met for the first time (links can lead to a folder twice, or in a loop)."""
    try:
        info = folder.stat()
    except OSError:
        return True  # listing it reports why it cannot be read
    key = (info.st_dev, info.st_ino)
    if key in walked:
        return False
    walked.add(key)
    return True


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _not_regular(path: Path, mode: int) -> Skipped:
    """A file that is no regular file, skipped without being read."""
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    what = next((name for test, name in kinds if test(mode)), "not a regular file")
    return Skipped(str(path), f"{what}, not an article file: not opened; remove it from the corpus", kind="special-file")


def _has_corpus_suffix(name: str) -> bool:
    return name.lower().endswith(SUFFIXES)


def read_file(
    path: Path, base: Path, on_skip: SkipHandler, *, on_bytes: Callable[[int], None] | None = None
) -> Iterator[tuple[Article, int | None]]:
    """Yield ``(article, line)`` for each good article in one corpus file (line: JSON Lines only).

    Ids of article files are their paths relative to ``base``. Bad files and lines go to
    ``on_skip``; ``on_bytes`` hears how far into the file reading has come.
    """
    if path.name.lower().endswith(".txt"):
        article = _read_article_file(path, base, on_skip)
        if article is not None:
            yield article, None
    else:
        yield from _read_jsonl(path, on_skip, on_bytes)


# Native article files ---------------------------------------------------------------------------


def _read_article_file(path: Path, base: Path, report: SkipHandler) -> Article | None:
    try:
        with _open_regular(path) as stream:
            size = os.fstat(stream.fileno()).st_size
            data = _read_up_to(stream, size, MAX_ARTICLE_BYTES) if size <= MAX_ARTICLE_BYTES else b""
            size = max(size, len(data))
    except _NotRegularFile as exc:
        report(_not_regular(path, exc.mode))
        return None
    except OSError as exc:
        report(Skipped(str(path), f"cannot read the file: {exc.strerror or exc}", kind="unreadable"))
        return None
    if size > MAX_ARTICLE_BYTES:
        reason = f"the file is {_size_text(size)}, {_over_the_limit()}: split it into articles"
        report(Skipped(str(path), reason, kind="too-large"))
        return None
    if b"\0" in data:
        report(Skipped(str(path), "binary data (NUL bytes), not a text article", kind="binary"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        report(Skipped(str(path), f"not valid UTF-8 at byte {exc.start}; convert the file to UTF-8", kind="not-utf8"))
        return None
    if not text.strip():
        report(Skipped(str(path), "empty article: no headline or text", kind="empty"))
        return None
    try:
        return parse_article_text(text, id=path.relative_to(base).as_posix(), path=str(path))
    except ValueError as exc:
        report(Skipped(str(path), str(exc), kind="no-text"))
        return None


class _NotRegularFile(Exception):
    """A corpus file that proved, once opened, to be no regular file (replaced since it was listed)."""

    def __init__(self, mode: int) -> None:
        super().__init__(mode)
        self.mode = mode


def _open_regular(path: Path) -> BinaryIO:
    """Open a corpus file for reading, if it is a regular file.

    It is opened without waiting (``O_NONBLOCK``), so that a FIFO put in its place since the
    corpus was listed cannot hang the read, and checked before a byte is read.

    Raises:
        _NotRegularFile: it is a FIFO, device, socket or folder.
        OSError: it cannot be opened.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise _NotRegularFile(mode)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _read_up_to(stream: BinaryIO, size: int, limit: int) -> bytes:
    """The bytes of a file of ``size`` bytes, or its first ``limit + 1`` if it holds more than
    ``limit``: a file can grow after its size was read, or hold more than it says (``/proc``)."""
    data = stream.read(size + 1)
    if len(data) <= size:
        return data
    pieces, held = [data], len(data)
    while held <= limit and (piece := stream.read(min(_PIECE, limit + 1 - held))):
        pieces.append(piece)
        held += len(piece)
    return b"".join(pieces)


def _size_text(size: int) -> str:
    """``size`` bytes for a reader: ``200.0 MiB``, ``1.5 KiB``, ``100 bytes``."""
    if size >= 2**20:
        return f"{size / 2**20:,.1f} MiB"
    return f"{size / 2**10:,.1f} KiB" if size >= 2**10 else f"{size} bytes"


def _over_the_limit() -> str:
    return f"over the {_size_text(MAX_ARTICLE_BYTES)} one article may hold (searchlib.corpus.MAX_ARTICLE_BYTES)"


_URL_LINE = re.compile(r"^\s*original url:\s*(.*)$", re.IGNORECASE)
_CREDIT = re.compile(r"\*\*[^*\n]+\*\*\s*$")
_SENTENCE_END = re.compile(r"[.!?:;\"'”’)\]…]\s*$")
_MARKDOWN = re.compile(
    r"\\(?P<escaped>[\\`*_{}\[\]()#+\-.!$<>|~])"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|__(?P<underline>.+?)__"
    r"|\[(?P<link>[^\]\n]+)\]\([^)\n]*\)"
)


def unescape_markdown(text: str) -> str:
    """Undo the Markdown of an article file: ``\\$3`` -> ``$3``, ``**Name**`` -> ``Name``."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"] is not None:
            return match["escaped"]
        inner = match["bold"] or match["underline"] or match["link"]
        return unescape_markdown(inner)

    return _MARKDOWN.sub(replace, text)


def parse_article_text(text: str, *, id: str, path: str = "") -> Article:
    """Parse the text of a native article file.

    Raises:
        ValueError: the text has no headline or no body; the message says which.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    url = ""
    for number, line in enumerate(lines):
        match = _URL_LINE.match(line)
        if match:
            rest = match[1].strip() or next((s.strip() for s in lines[number + 1 :] if s.strip()), "")
            url = rest.strip("<>").strip()
            lines = lines[:number]
            break

    paragraphs = _paragraphs(lines)
    if not paragraphs:
        raise ValueError("empty article: no headline or text")
    title = unescape_markdown(paragraphs.pop(0))
    date = None
    if paragraphs and len(paragraphs[0]) <= 60:
        date = parse_date(paragraphs[0])
        if date is not None or _looks_like_date(paragraphs[0]):
            if date is None:
                logger.warning("%s: cannot understand the date %.80r; it is left unknown", path or id, paragraphs[0])
            paragraphs.pop(0)
    caption = ""
    if paragraphs and _CREDIT.search(paragraphs[0]):
        caption = unescape_markdown(paragraphs.pop(0))
    body = "\n\n".join(unescape_markdown(p) for p in _join_broken(paragraphs))
    if not body:
        raise ValueError("no body text after the headline")
    return Article(id=id, title=title, body=body, date=date, url=url, caption=caption, path=path)


def _paragraphs(lines: Iterable[str]) -> list[str]:
    """Group lines into paragraphs at blank lines; lines inside a paragraph are joined by spaces."""
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _join_broken(paragraphs: list[str]) -> list[str]:
    """Join a paragraph broken in mid-sentence to the one before it."""
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and not _SENTENCE_END.search(joined[-1]) and paragraph[:1].islower():
            joined[-1] = f"{joined[-1]} {paragraph}"
        else:
            joined.append(paragraph)
    return joined


def _looks_like_date(line: str) -> bool:
    """A short line that is no sentence, where the date belongs: a date we cannot read."""
    return len(line.split()) <= 8 and not _SENTENCE_END.search(line)


# Dates ------------------------------------------------------------------------------------------

_DATE_FORMATS = (
    "%B %d, %Y",
    "%b %d, %Y",
    "%b. %d, %Y",
    "%B %d %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %Y",
    "%Y/%m/%d",
    "%d.%m.%Y",
)
_WEEKDAY_PREFIX = re.compile(r"^(mon|tues|wednes|thurs|fri|satur|sun)day,?\s+", re.IGNORECASE)


def parse_date(text: str) -> datetime | None:
    """Read a date in ISO 8601 or in words ("April 17, 2012", "Tuesday, 17 April 2012").

    Returns a timezone-naive datetime (aware times are converted to UTC), or ``None`` when the
    text is not a date this function understands, or is one whose UTC date no ``datetime``
    holds (``9999-12-31T23:59:59-14:00``). Never raises.
    """
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        pass
    else:
        return naive_utc(value)
    cleaned = _WEEKDAY_PREFIX.sub("", text)
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", cleaned)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
    return None


# JSON Lines -------------------------------------------------------------------------------------


def _read_jsonl(
    path: Path, report: SkipHandler, on_bytes: Callable[[int], None] | None = None
) -> Iterator[tuple[Article, int]]:
    compressed = path.name.lower().endswith(".gz")
    number = 0
    try:
        with _open_regular(path) as raw_file, (gzip.GzipFile(fileobj=raw_file) if compressed else raw_file) as stream:
            for number, raw in enumerate(_capped_lines(stream, MAX_ARTICLE_BYTES), start=1):
                if raw is None:
                    reason = f"the line is {_over_the_limit()}; passed over to its end"
                    report(Skipped(str(path), reason, line=number, kind="too-large"))
                else:
                    article = _parse_record(raw, path, number, report)
                    if article is not None:
                        yield article, number
                if on_bytes is not None and (number % 200 == 0 or raw is None):
                    on_bytes(raw_file.tell())
    except _NotRegularFile as exc:
        report(_not_regular(path, exc.mode))
    except (OSError, EOFError, zlib.error) as exc:
        what = "a gzip file" if compressed else "the file"
        reason = f"cannot read {what} after line {number}: {exc}; the lines before it were read"
        report(Skipped(str(path), reason, line=number + 1 if number else None, kind="unreadable"))
    else:
        if number == 0:
            report(Skipped(str(path), "empty file", kind="empty"))


# Pieces in which an over-long line is read to its end: what is held of it at a time.
_PIECE = 2**20


def _capped_lines(stream: io.BufferedIOBase | BinaryIO, limit: int) -> Iterator[bytes | None]:
    """The lines of ``stream``, ``None`` for each longer than ``limit`` bytes (its line break
    aside), which is read to its end a piece at a time and never held whole."""
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(_PIECE)
            yield None
        else:
            yield line


def _parse_record(raw: bytes, path: Path, number: int, report: SkipHandler) -> Article | None:
    def skip(reason: str, kind: str) -> None:
        report(Skipped(str(path), reason, line=number, kind=kind))

    if not raw.strip():
        return None
    if _nested_too_deep(raw):
        skip(f"JSON nested more than {MAX_JSON_NESTING} levels deep (searchlib.corpus.MAX_JSON_NESTING); "
             "an article is one flat object", "too-deep")
        return None
    try:
        record = json.loads(raw)
    except UnicodeDecodeError as exc:
        skip(f"not valid UTF-8 at byte {exc.start}", "not-utf8")
        return None
    except json.JSONDecodeError as exc:
        skip(f"not valid JSON ({exc.msg} at column {exc.colno})", "not-json")
        return None
    except ValueError as exc:  # a number Python will not convert: more than 4,300 digits
        skip(f"not valid JSON ({exc})", "not-json")
        return None
    except RecursionError:  # not reached while MAX_JSON_NESTING is far below the recursion limit
        skip("JSON nested too deep for Python's parser", "too-deep")
        return None
    if not isinstance(record, dict):
        skip(f"expected a JSON object, found {type(record).__name__}", "not-object")
        return None
    article_id = record.get("id")
    if article_id is None or isinstance(article_id, (dict, list, bool)) or not str(article_id).strip():
        skip("missing 'id' (a string or number)", "no-id")
        return None
    fields = {}
    for key in ("title", "body", "url"):
        value = record.get(key) or ""
        if not isinstance(value, str):
            skip(f"'{key}' must be a string, found {type(value).__name__}", "bad-field")
            return None
        fields[key] = value.strip()
    if not fields["title"] and not fields["body"]:
        skip("no 'title' or 'body' text", "no-text")
        return None
    raw_date = record.get("date")
    date = parse_date(raw_date) if isinstance(raw_date, str) else None
    if raw_date not in (None, "") and date is None:
        logger.warning("%s:%d: cannot understand the date %.80r; it is left unknown", path, number, raw_date)
    return Article(id=str(article_id).strip(), date=date, path=str(path), **fields)


# A JSON string, escapes and all: the brackets in it do not nest.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


def _nested_too_deep(raw: bytes) -> bool:
    """Whether arrays and objects nest more than ``MAX_JSON_NESTING`` deep in the JSON text
    ``raw``: counted, outside its strings, only in a line with more brackets than that."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_NESTING:
        return False
    brackets = np.frombuffer(_JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS), dtype=np.uint8)
    opening = (brackets == ord("[")) | (brackets == ord("{"))
    depth = np.cumsum(opening.astype(np.int32) * 2 - 1, dtype=np.int32)
    return bool(depth.size) and int(depth.max()) > MAX_JSON_NESTING
