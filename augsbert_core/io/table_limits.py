"""The table readers' limits and shared pieces: the size limits (each overridable by an environment variable, read at
each call), line counting, and the raw frame a reader returns with its non-text cells noted (`tables` re-exports
them; see its docstring for the limits)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from .problems import _fail

PathLike = str | os.PathLike
MAX_ROWS = 5_000_000  # data rows (lines of a text file); AUGSBERT_MAX_ROWS overrides
MAX_CELLS = 20_000_000  # rows x columns; AUGSBERT_MAX_CELLS overrides
MAX_COLUMNS = 1_000  # columns / distinct JSON keys; AUGSBERT_MAX_COLUMNS overrides
MAX_BYTES = 1 << 30  # bytes after decompression / decoding; AUGSBERT_MAX_BYTES overrides
MAX_CELL_CHARS = 10_000_000  # characters in one cell (a sentence is far shorter); AUGSBERT_MAX_CELL_CHARS overrides
NEWLINE = b"\n"
LINE_CELLS = 4  # a gzip'd line-based file stops decompressing at a line this many full cells long (a one-cell bomb)


# ---------------------------------------------------------------------------------------------------- limits
_LIMITS: dict[str, tuple[str, int, str]] = {  # name: (environment variable, default, unit)
    "rows": ("AUGSBERT_MAX_ROWS", MAX_ROWS, "rows"),
    "cells": ("AUGSBERT_MAX_CELLS", MAX_CELLS, "cells"),
    "columns": ("AUGSBERT_MAX_COLUMNS", MAX_COLUMNS, "columns"),
    "bytes": ("AUGSBERT_MAX_BYTES", MAX_BYTES, "bytes"),
    "cell": ("AUGSBERT_MAX_CELL_CHARS", MAX_CELL_CHARS, "characters in a cell"),
}


def _limit(name: str, file: str) -> int:
    """The limit in force: its environment variable when set (read at each call), else the module constant."""
    env, default, _ = _LIMITS[name]
    text = os.environ.get(env, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        _fail(file, f"the environment variable {env}={text!r} is not a positive whole number")
    return value


def _over_limit(file: str, name: str, found: str, *, row: int | None = None, column: str | None = None) -> NoReturn:
    env, _, unit = _LIMITS[name]
    _fail(
        file,
        f"{found}; the limit is {_limit(name, file):,} {unit}: split the file, or raise the limit with the "
        f"environment variable {env}",
        row=row,
        column=column,
    )


def _size(n: int) -> str:
    return f"{n:,} bytes" if n < 1 << 20 else f"{n / (1 << 20):,.1f} MB"


def _count_lines(data: str | bytes) -> int:
    """Lines of a text, whatever their line breaks (LF, CRLF, CR alone, mixed)."""
    nl, cr, crlf = ("\n", "\r", "\r\n") if isinstance(data, str) else (b"\n", b"\r", b"\r\n")
    breaks = data.count(nl) + data.count(cr) - data.count(crlf)
    return breaks + (0 if not data or data.endswith((nl, cr)) else 1)


def _check_lines(data: str | bytes, file: str, header: int = 0) -> int:
    """Refuse a text with more lines than the row limit allows (before any line is split off); returns the count."""
    lines = _count_lines(data)
    if lines - header > _limit("rows", file):
        _over_limit(file, "rows", f"has {lines - header:,} lines{' after the header' if header else ''}")
    return lines


# ---------------------------------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class _Odd:
    """The cells of one column that were not text in the file (JSON numbers, booleans, objects and arrays; typed
    Parquet values): per row a code (0 = text or missing) and, per code, what the value was (for messages)."""

    codes: np.ndarray  # int8, one per row
    names: dict[int, str]  # code -> "a JSON object", "a Parquet int64 number", ...

    def mask(self, *codes: int) -> np.ndarray:
        return np.isin(self.codes, codes) if codes else self.codes != 0

    def name(self, i: int) -> str:
        return self.names[int(self.codes[i])]


_NUMBER, _BOOLEAN, _OBJECT, _ARRAY, _OTHER = 1, 2, 3, 4, 5


_JSON_NAMES = {_NUMBER: "a JSON number", _BOOLEAN: "a JSON boolean", _OBJECT: "a JSON object", _ARRAY: "a JSON array"}


@dataclass
class _Raw:
    """A file read as text cells (missing cells NaN, original column names), plus its non-text cells by column."""

    frame: pd.DataFrame
    odd: dict[str, _Odd] = field(default_factory=dict)


def _split_extension(path: Path) -> tuple[str, bool]:
    """('.csv', True) for 'x.CSV.gz'."""
    name = path.name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    return os.path.splitext(name)[1], gz


def _split_lines(text: str) -> list[str]:
    """Lines of a text whatever its line breaks (LF, CRLF, CR alone, mixed); only these three split lines."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")
