"""Whoosh's columns read whole, a segment at a time.

Whoosh reads a column one value at a time, through two or three Python calls each: 75 ms for
the story of each of Reuters' 20,841 articles, 16 ms for one field's lengths in one segment, a
third of a command-line search. Its column files are plain, though: a numeric column is its
values packed one after another, big-endian; a bytes column is its values one after another with
an array of their lengths (and offsets) at the end, which Whoosh's reader has already read. So a
whole column is one read here: ``numpy.frombuffer`` for numbers, one slice a value for text.
Readers of another kind (a column Whoosh compressed, say) are read value by value, as Whoosh
does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from whoosh.columns import NumericColumn, VarBytesColumn

__all__ = ["numbers", "texts"]


def numbers(readers: Iterable[tuple[Any, int]], size: int, default: int) -> np.ndarray:
    """The values of a numeric column over all articles, from each segment's raw reader (as
    ``leaf.column_reader(name, translate=False)`` gives it) and the number of its first
    article; ``default`` where a segment has none. Unsigned values are cast to int64 (2**64 - 1
    is -1)."""
    values = np.full(size, _as_int64(default), dtype=np.int64)
    for reader, base in readers:
        if isinstance(reader, NumericColumn.Reader) and reader._typecode in "bBhHiIlLqQ":
            dtype = np.dtype(reader._typecode.replace("l", "i").replace("L", "I")).newbyteorder(">")
            raw = reader._dbfile.get(reader._basepos, reader._count * reader._fixedlen)
            found = np.frombuffer(raw, dtype=dtype).astype(np.int64 if dtype.kind == "i" else np.uint64)
            values[base : base + found.size] = found.astype(np.int64, copy=False)
            values[base + found.size : base + reader._doccount] = _as_int64(reader._default)
        else:
            found = np.array([reader[d] for d in range(reader._doccount)], dtype=np.uint64)
            values[base : base + found.size] = found.astype(np.int64, copy=False)
    return values


def texts(readers: Iterable[tuple[Any, int]], size: int) -> list[str]:
    """The values of a bytes column over all articles, as text."""
    values = [""] * size
    for reader, base in readers:
        if isinstance(reader, VarBytesColumn.Reader):
            offsets, lengths = reader._offsets, reader._lengths
            end = max((o + n for o, n in zip(offsets, lengths)), default=0)
            data = reader._dbfile.get(reader._basepos, end) if end else b""
            values[base : base + len(lengths)] = [
                data[o : o + n].decode("utf-8", "surrogatepass") for o, n in zip(offsets, lengths)
            ]
        else:
            count = getattr(reader, "_doccount", 0)
            values[base : base + count] = [_text(reader[d]) for d in range(count)]
    return values


def _as_int64(value: int) -> int:
    """An unsigned 64-bit value as numpy's int64 holds it (2**64 - 1 is -1)."""
    return int(np.array(value % (1 << 64), dtype=np.uint64).astype(np.int64))


def _text(value: Any) -> str:
    return value.decode("utf-8", "surrogatepass") if isinstance(value, bytes) else str(value)
