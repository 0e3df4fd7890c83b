"""Loading, column mapping, validation and task detection for labeled / unlabeled sentence data.

Everything is read as text first so the validator sees the raw cell, then checked with vectorised pandas
operations; `Problem` objects are built only for the bad rows. Bad input raises `DataError` (a ValueError)
that names the file, the 1-based data row and the column as it is spelled in the file.

Reading is bounded and strict:

- Limits, checked before a whole file is materialised; each error names the limit and the environment variable
  that raises it (read at each call; a positive whole number; it overrides the module constant):

  MAX_ROWS = 5,000,000 (AUGSBERT_MAX_ROWS): data rows. In CSV/TSV/TXT/JSON-lines files these are lines, counted
      before parsing (a quoted multi-line cell counts each of its lines); JSON arrays count records as read.
  MAX_CELLS = 20,000,000 (AUGSBERT_MAX_CELLS): rows x columns (JSON: records x distinct keys).
  MAX_COLUMNS = 1,000 (AUGSBERT_MAX_COLUMNS): header fields, Parquet columns, distinct JSON keys, keys of one
      JSON record.
  MAX_BYTES = 1 GiB (AUGSBERT_MAX_BYTES): the file; its bytes after gzip decompression (streamed with a cap);
      a Parquet file's uncompressed size (from its footer) and its columns once decoded (batch by batch).

- Only regular files are opened: a directory, FIFO, device or socket is refused (`os.stat`) without blocking.
- Text is strict UTF-8; LF, CRLF and CR-only line breaks (also mixed) end lines; line breaks inside quoted CSV
  fields are kept. TSV follows the usual quoting rules (as pandas and spreadsheets write it) when every field
  that starts with a quote is properly quoted; otherwise (e.g. the STS benchmark's stray quotes) it is verbatim.
- Sentences must be text: a JSON number, boolean, object or array, or a typed Parquet value, in a sentence
  column is an error naming row and column (numbers too: a number where a sentence belongs is almost always the
  wrong column, and guessing its text form would hide that). Scores must be numbers (JSON numbers or numeric
  text); a boolean is read as 1/0 only in a label column of a classification task, never as a score. A cell of
  only whitespace or invisible characters (zero-width space, BOM, soft hyphen, other format characters) is empty.
- Parquet binary columns are decoded as strict UTF-8; nested columns (list, struct, map) are not read: their
  cells show as '<type>' and are not text.

Only pandas / numpy / pyarrow are used here (no streamlit, no torch).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import stat
import tempfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal, NoReturn

import numpy as np
import pandas as pd

from .errors import AugsbertError

__all__ = [
    "match_columns",
    "Task",
    "Problem",
    "DataError",
    "PairSet",
    "SentencePool",
    "SUPPORTED_EXTENSIONS",
    "ALIASES",
    "read_table",
    "load_pairs",
    "load_unlabeled",
    "fingerprint",
    "write_table",
    "safe_for_spreadsheet",
    "MAX_ROWS",
    "MAX_CELLS",
    "MAX_COLUMNS",
    "MAX_BYTES",
]

Task = Literal["regression", "classification"]
PathLike = str | os.PathLike

SUPPORTED_EXTENSIONS: tuple[str, ...] = (
    ".csv",
    ".tsv",
    ".txt",
    ".jsonl",
    ".json",
    ".parquet",
    ".csv.gz",
    ".tsv.gz",
    ".txt.gz",
    ".jsonl.gz",
    ".json.gz",
)
WRITABLE_EXTENSIONS: tuple[str, ...] = (".csv", ".tsv", ".jsonl", ".parquet")
CANONICAL_COLUMNS: tuple[str, ...] = ("sentence1", "sentence2", "score", "label", "sentence")

#: Accepted column names per canonical column (matched case-insensitively, ignoring spaces, '_' and '-').
ALIASES: dict[str, tuple[str, ...]] = {
    "sentence1": ("sentence1", "s1", "text_a", "text1", "question1", "q1", "premise", "sentence_a", "anchor"),
    "sentence2": ("sentence2", "s2", "text_b", "text2", "question2", "q2", "hypothesis", "sentence_b", "positive"),
    "score": ("score", "similarity", "sim", "relatedness", "gold_score"),
    "label": ("label", "is_duplicate", "duplicate", "target", "y"),
    "sentence": ("sentence", "text", "question", "sentences", "query"),
}

MAX_PROBLEMS = 50  # problems kept on a DataError (the rest are only counted)
_MAX_LISTED_ROWS = 10  # rows named in one aggregated warning
MAX_ROWS = 5_000_000  # data rows (lines of a text file); AUGSBERT_MAX_ROWS overrides
MAX_CELLS = 20_000_000  # rows x columns; AUGSBERT_MAX_CELLS overrides
MAX_COLUMNS = 1_000  # columns / distinct JSON keys; AUGSBERT_MAX_COLUMNS overrides
MAX_BYTES = 1 << 30  # bytes after decompression / decoding; AUGSBERT_MAX_BYTES overrides
_BOM = b"\xef\xbb\xbf"
_NAN_WORDS = ("nan", "+nan", "-nan")
_FORMULA_START = r"[=+\-@\t\r]"


# --------------------------------------------------------------------------------------------------- problems
@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in an input file."""

    file: str  # file name as given (str(path))
    row: int | None  # 1-based data row (header not counted); None for file-level problems
    column: str | None  # column name in the FILE (original name, before alias mapping)
    message: str  # what is wrong, specific

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


class DataError(AugsbertError, ValueError):
    """Bad input. `.problems` lists the problems found (at most MAX_PROBLEMS); `.total` counts all of them."""

    kind = "data"
    problems: list[Problem]
    total: int

    def __init__(self, problems: Iterable[Problem], total: int | None = None) -> None:
        found = list(problems)
        if not found:
            raise ValueError("DataError needs at least one Problem")
        self.total = max(total or 0, len(found))
        self.problems = found[:MAX_PROBLEMS]
        super().__init__(self._text())

    @property
    def more(self) -> int:
        """How many problems were counted but not kept in `.problems`."""
        return self.total - len(self.problems)

    def _text(self) -> str:
        rest = self.total - 1
        suffix = f" (and {rest} more problem{'s' if rest != 1 else ''})" if rest else ""
        return f"{self.problems[0]}{suffix}"

    def __str__(self) -> str:
        return self._text()

    def __reduce__(self):  # keep picklable despite the custom __init__
        return (type(self), (self.problems, self.total))


def _fail(file: str, message: str, *, row: int | None = None, column: str | None = None) -> NoReturn:
    raise DataError([Problem(file, row, column, message)])


class _ProblemLog:
    """Collects row problems as boolean masks; builds `Problem`s only for the first bad rows."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.total = 0
        self._single: list[Problem] = []
        self._groups: list[tuple[np.ndarray, str, Callable[[int], str]]] = []

    def add(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        self._single.append(Problem(self.file, row, column, message))
        self.total += 1

    def add_rows(self, mask: np.ndarray, column: str, message: Callable[[int], str]) -> None:
        """`mask[i]` marks a bad row at 0-based position i; `message(i)` describes it."""
        positions = np.flatnonzero(mask)
        if len(positions):
            self._groups.append((positions, column, message))
            self.total += len(positions)

    def raise_if_any(self) -> None:
        if not self.total:
            return
        found = list(self._single)
        for positions, column, message in self._groups:
            found.extend(Problem(self.file, int(p) + 1, column, message(int(p))) for p in positions[:MAX_PROBLEMS])
        found.sort(key=lambda p: (p.row is not None, p.row or 0))  # file-level first, then by row (stable)
        raise DataError(found, self.total)


def _preview(value: object, limit: int = 40) -> str:
    """Short repr of a raw cell for messages."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _bool_array(values: pd.Series | np.ndarray) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=bool, na_value=False)
    return np.asarray(values, dtype=bool)


# ----------------------------------------------------------------------------------------------- data classes
@dataclass
class PairSet:
    """Labeled pairs with canonical columns sentence1, sentence2, label.

    label: float in [0,1] for regression (normalised), int 0/1 for classification.
    """

    frame: pd.DataFrame
    task: Task
    source: str  # file name
    scale: tuple[float, float] | None  # original score scale (regression), e.g. (0.0, 5.0)
    duplicates_dropped: int = 0
    warnings: list[Problem] = field(default_factory=list)  # non-fatal (duplicates dropped, identical s1==s2 ...)

    def __len__(self) -> int:
        return len(self.frame)

    def sentences(self) -> list[str]:
        """Unique sentences of both columns, in first-seen order (row by row, sentence1 before sentence2)."""
        return _unique_interleaved(self.frame["sentence1"], self.frame["sentence2"])

    def summary(self) -> dict:
        """Rows, task, scale, label statistics, duplicates dropped and mean sentence length in words."""
        labels = self.frame["label"]
        out: dict = {
            "source": self.source,
            "rows": len(self.frame),
            "task": self.task,
            "scale": self.scale,
            "duplicates_dropped": self.duplicates_dropped,
            "warnings": len(self.warnings),
            "mean_words": _mean_words(pd.concat([self.frame["sentence1"], self.frame["sentence2"]])),
        }
        empty = len(labels) == 0
        if self.task == "regression":
            out.update(
                label_mean=None if empty else float(labels.mean()),
                label_std=None if empty else float(labels.std(ddof=0)),
                label_min=None if empty else float(labels.min()),
                label_max=None if empty else float(labels.max()),
            )
        else:
            positives = int((labels == 1).sum())
            out.update(
                positives=positives,
                negatives=len(labels) - positives,
                positive_share=None if empty else positives / len(labels),
            )
        return out


@dataclass
class SentencePool:
    """Unlabeled data: unique sentences, plus the pairs when the file had pairs."""

    sentences: list[str]
    pairs: pd.DataFrame | None  # columns sentence1, sentence2 (when the file had two sentence columns)
    source: str
    duplicates_dropped: int = 0
    warnings: list[Problem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sentences)

    def summary(self) -> dict:
        """Sentence and pair counts, duplicates dropped and mean sentence length in words."""
        return {
            "source": self.source,
            "sentences": len(self.sentences),
            "pairs": None if self.pairs is None else len(self.pairs),
            "duplicates_dropped": self.duplicates_dropped,
            "warnings": len(self.warnings),
            "mean_words": _mean_words(pd.Series(self.sentences, dtype=object)),
        }


def _mean_words(texts: pd.Series) -> float | None:
    if len(texts) == 0:
        return None
    return float(texts.astype(str).str.count(r"\S+").mean())


def _unique_interleaved(first: pd.Series, second: pd.Series) -> list[str]:
    both = np.column_stack([first.to_numpy(dtype=object), second.to_numpy(dtype=object)]).ravel()
    return pd.unique(pd.Series(both, dtype=object)).tolist()


# ---------------------------------------------------------------------------------------------------- limits
_LIMITS: dict[str, tuple[str, int, str]] = {  # name: (environment variable, default, unit)
    "rows": ("AUGSBERT_MAX_ROWS", MAX_ROWS, "rows"),
    "cells": ("AUGSBERT_MAX_CELLS", MAX_CELLS, "cells"),
    "columns": ("AUGSBERT_MAX_COLUMNS", MAX_COLUMNS, "columns"),
    "bytes": ("AUGSBERT_MAX_BYTES", MAX_BYTES, "bytes"),
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


def _read_raw(path: PathLike) -> _Raw:
    """Read any supported file into text cells, within the limits (see the module docstring)."""
    file = str(path)
    p = Path(path)
    ext, gz = _split_extension(p)
    if ext not in {e for e in SUPPORTED_EXTENSIONS if not e.endswith(".gz")} or (gz and ext == ".parquet"):
        hint = " (export the sheet as CSV, UTF-8)" if ext in (".xlsx", ".xls", ".ods") else ""
        shown = ext + (".gz" if gz else "") or "(none)"
        _fail(file, f"unsupported file type {shown!r}{hint}; use one of: {', '.join(SUPPORTED_EXTENSIONS)}")
    with _open_regular(p, file) as handle:
        if ext == ".parquet":
            return _read_parquet(handle, file)
        data = _read_bytes(handle, file, gz)
    _check_text_bytes(data, file, ext)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if ext in (".csv", ".tsv"):
        return _Raw(_read_delimited(data, file, ext, gz))
    text = _decode(data, file, ext, gz)
    del data
    if ext == ".txt":
        return _Raw(_read_txt(text, file))
    return _read_json(text, file)


_SPECIAL_FILES = (
    (stat.S_ISDIR, "is a directory, not a file"),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a regular file; save the data to a file first"),
    (stat.S_ISCHR, "is a character device, not a regular file"),
    (stat.S_ISBLK, "is a block device, not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
)


def _refuse_special(mode: int, file: str) -> None:
    if stat.S_ISREG(mode):
        return
    for is_kind, message in _SPECIAL_FILES:
        if is_kind(mode):
            _fail(file, message)
    _fail(file, "is not a regular file")


def _open_regular(path: Path, file: str) -> BinaryIO:
    """Open a regular file for reading. A directory, FIFO, device or socket is refused from `os.stat` before it
    is opened, and the open never blocks (O_NONBLOCK; the open descriptor is checked again)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        _fail(file, "file not found")
    except (OSError, ValueError) as exc:
        _fail(file, f"cannot read the file: {getattr(exc, 'strerror', None) or exc}")
    _refuse_special(mode, file)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        _fail(file, f"cannot read the file: {exc.strerror or exc}")
    handle = os.fdopen(fd, "rb")
    try:
        _refuse_special(os.fstat(fd).st_mode, file)
    except DataError:
        handle.close()
        raise
    return handle


def _read_bytes(handle: BinaryIO, file: str, gz: bool) -> bytes:
    """The file's bytes (decompressed when gz), refused when over the byte limit before they are read."""
    limit = _limit("bytes", file)
    size = os.fstat(handle.fileno()).st_size
    if size > limit:
        _over_limit(file, "bytes", f"is {_size(size)}")
    try:
        data = handle.read(limit + 1)
    except OSError as exc:
        _fail(file, f"cannot read the file: {exc.strerror or exc}")
    if len(data) > limit:
        _over_limit(file, "bytes", f"is more than {_size(limit)}")
    if not data:
        _fail(file, "file is empty (0 bytes)")
    return _gunzip(data, file, limit) if gz else data


def _gunzip(data: bytes, file: str, limit: int | None = None) -> bytes:
    """Decompress every gzip member, 1 MiB of input at a time, with a cap on the output (a small 'gzip bomb'
    cannot exhaust memory). Errors say what is wrong: header, corrupt data, CRC or length mismatch, truncated
    stream, trailing garbage."""
    limit = _limit("bytes", file) if limit is None else limit
    if data[:2] != b"\x1f\x8b":
        _fail(file, "is not gzip-compressed (bad gzip header); remove the '.gz' from the name if it is plain text")
    out = bytearray()
    pos = 0
    while pos < len(data):
        pos = _gunzip_member(data, pos, out, limit, file)
        if data[pos : pos + 2] == b"\x1f\x8b":
            continue
        if data.count(b"\x00", pos) < len(data) - pos:  # zero padding after the last member is fine (as for gzip)
            _fail(
                file,
                f"has {len(data) - pos:,} bytes of trailing garbage after the gzip data (from byte offset "
                f"{pos:,}); re-download or re-compress it",
            )
        break
    if not out:
        _fail(file, "file is empty (0 bytes after decompression)")
    return bytes(out)


_GZIP_ERRORS = (
    ("incorrect data check", "gzip CRC check failed: the data does not match its checksum (corrupt file)"),
    ("incorrect length check", "gzip length check failed: the data does not match the stored length (corrupt file)"),
    ("incorrect header check", "bad gzip header (corrupt file)"),
    ("unknown compression method", "bad gzip header: unknown compression method"),
    ("header crc mismatch", "bad gzip header: header checksum mismatch"),
)
_GZIP_STEP = 1 << 20


def _gunzip_member(data: bytes, pos: int, out: bytearray, limit: int, file: str) -> int:
    """Decompress the gzip member starting at `pos` into `out`; returns where the next one starts."""
    inflater = zlib.decompressobj(wbits=31)  # gzip wrapper: zlib checks the header, the CRC and the length
    view = memoryview(data)
    try:
        while not inflater.eof and pos < len(data):
            pending: bytes | memoryview = view[pos : pos + _GZIP_STEP]
            pos += len(pending)
            while pending and not inflater.eof:
                out += inflater.decompress(pending, limit + 1 - len(out))
                if len(out) > limit:
                    _over_limit(file, "bytes", f"decompresses to more than {_size(limit)}")
                pending = inflater.unconsumed_tail
    except zlib.error as exc:
        reason = str(exc).split(": ", 1)[-1]
        what = next((m for key, m in _GZIP_ERRORS if key in reason), f"gzip data is corrupt ({reason})")
        _fail(file, f"{what}; re-download or re-compress it")
    if not inflater.eof:
        _fail(file, "gzip data is truncated (the file ends early); re-download or re-compress it")
    return pos - len(inflater.unused_data)


_KIND = {".csv": "CSV", ".tsv": "TSV", ".txt": "text", ".jsonl": "JSON lines", ".json": "JSON"}
_SIGNATURES = (
    (b"PAR1", "looks like a Parquet file; rename it to .parquet"),
    (b"\x1f\x8b", "looks gzip-compressed; add '.gz' to the file name"),
    (b"PK\x03\x04", "looks like a ZIP archive or an Excel workbook (.xlsx); export it as CSV (UTF-8)"),
    (b"\xd0\xcf\x11\xe0", "looks like an old Excel workbook (.xls); export it as CSV (UTF-8)"),
    (b"\xff\xfe", "is UTF-16 encoded; save it as UTF-8"),
    (b"\xfe\xff", "is UTF-16 encoded; save it as UTF-8"),
)


def _check_text_bytes(data: bytes, file: str, ext: str) -> None:
    """Reject binary / mislabeled content early with a specific message (looks at the first 64 KiB)."""
    kind = _KIND[ext]
    for magic, message in _SIGNATURES:
        if data.startswith(magic):
            _fail(file, f"is not {kind} text: it {message}")
    nul = data.find(b"\x00")
    if nul >= 0:
        line = _count_lines(data[: nul + 1])
        where = "" if nul < 65536 else f" (first at byte {nul:,}, line {line:,})"
        _fail(
            file,
            f"is not {kind} text: it contains NUL bytes{where}, so it looks like a binary file "
            "(the file must be UTF-8 text)",
        )


def _decode(data: bytes, file: str, ext: str, gz: bool) -> str:
    """Strict UTF-8 decode (BOM already stripped); the error names the byte offset, line and row."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _count_lines(data[: exc.start + 1])
        has_header = ext in (".csv", ".tsv")
        row = (line - 1 if line > 1 else None) if has_header else line
        where = " after decompression" if gz else ""
        column = _column_at(data, exc.start, ext) if has_header and row else None
        _fail(
            file,
            f"byte 0x{data[exc.start]:02x} at byte offset {exc.start}{where} (line {line}) is not valid "
            "UTF-8; the file must be UTF-8 (it may be Latin-1 / Windows-1252): re-save it as UTF-8",
            row=row,
            column=column,
        )


def _column_at(data: bytes, offset: int, ext: str) -> str | None:
    """Best-effort header name of the CSV/TSV field holding byte `offset` (error path only)."""
    sep = "\t" if ext == ".tsv" else ","
    names = _header_names(_first_line(data).decode("utf-8", errors="replace"), sep, quoted=sep == ",")
    line_start = max(data.rfind(b"\n", 0, offset), data.rfind(b"\r", 0, offset)) + 1
    prefix = data[line_start:offset].decode("utf-8", errors="replace")
    index = len(_header_names(prefix, sep, quoted=sep == ",")) - 1
    return names[index] if 0 <= index < len(names) and names[index] else None


_LINE_BREAK = re.compile(rb"[\r\n]")


def _first_line(data: bytes) -> bytes:
    """The first non-blank line, without its line break (LF, CRLF or CR)."""
    start = len(data) - len(data.lstrip(b"\r\n")) if data[:1] in (b"\r", b"\n") else 0
    end = _LINE_BREAK.search(data, start)
    return data[start:] if end is None else data[start : end.start()]


_QUOTE_AT_FIELD_START = re.compile(rb'[\t\r\n]"')
_QUOTED_FIELD = re.compile(rb'"[^"]*(?:""[^"]*)*"(?=[\t\r\n]|\Z)')


def _tsv_is_quoted(data: bytes) -> bool:
    """True when some TSV field starts with a quote and every such field is properly quoted (closing quote right
    before a tab or a line end, inner quotes doubled), as pandas and spreadsheet programs write them. A file that
    uses quotes loosely (the STS benchmark has cells like '"no comment.') is read verbatim instead."""
    found = False
    start: int | None = 0 if data.startswith(b'"') else None
    pos = 0
    while True:
        if start is None:
            hit = _QUOTE_AT_FIELD_START.search(data, pos)
            if hit is None:
                return found
            start = hit.start() + 1
        quoted = _QUOTED_FIELD.match(data, start)
        if quoted is None:
            return False
        found, pos, start = True, quoted.end(), None


def _read_delimited(data: bytes, file: str, ext: str, gz: bool) -> pd.DataFrame:
    """CSV, or TSV (quoted as pandas writes it, else verbatim), via pyarrow's reader; every cell a string."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sep = "\t" if ext == ".tsv" else ","
    kind = _KIND[ext]
    header = _decode(_first_line(data), file, ext, gz)
    if not header.strip():
        _fail(file, "has no header row (the file contains only blank lines)")
    if sep == "," and "," not in header:
        if "\t" in header:
            _fail(
                file,
                "looks tab-separated (the header has tabs, no commas); rename it to .tsv or save it comma-separated",
            )
        if ";" in header:
            _fail(file, "looks semicolon-separated (the header has ';', no commas); save it comma-separated (CSV)")
    if sep == "\t" and "\t" not in header and "," in header:
        _fail(file, "looks comma-separated (the header has commas, no tabs); rename it to .csv")
    n_fields = header.count(sep) + 1
    if n_fields > _limit("columns", file):
        _over_limit(file, "columns", f"the header line has {n_fields:,} fields; this does not look like a {kind} table")
    quoted = sep == "," or _tsv_is_quoted(data)
    names = _header_names(header, sep, quoted)
    counts = Counter(n for n in names if n.strip())
    dupes = sorted(n for n, count in counts.items() if count > 1)
    if dupes:
        _fail(file, f"duplicate column name {dupes[0]!r} in the header; column names must be unique")
    lines = _check_lines(data, file, header=1)
    if (lines - 1) * len(names) > _limit("cells", file):
        _over_limit(
            file, "cells", f"has {lines - 1:,} lines × {len(names):,} columns = {(lines - 1) * len(names):,} cells"
        )

    if not data.endswith((b"\n", b"\r")):
        data += b"\n"  # pyarrow needs a terminated header line
    block_size = min(max(len(data) + 1, 1 << 20), 1 << 30)  # one block: a very long row cannot straddle blocks
    generated = [f"f{i}" for i in range(len(names))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=block_size),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, quote_char='"' if quoted else False, double_quote=True, newlines_in_values=quoted
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={g: pa.string() for g in generated},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        table = table.slice(1)  # the first parsed row is the header
        frame = table.to_pandas()
    except (pa.ArrowException, ValueError, OverflowError, MemoryError) as exc:
        if "utf8" in str(exc).lower() or "utf-8" in str(exc).lower():
            _decode(data, file, ext, gz)  # raises with the offset / line
        _raise_parse_error(data, file, sep, quoted, exc)
    if frame.shape[1] != len(names):
        _fail(
            file,
            f"could not be parsed as {kind}: the header row has {len(names)} fields but the parser "
            f"found {frame.shape[1]}",
        )
    if len(frame) == 0:
        _fail(file, "has a header row but no data rows")
    frame.columns = [name if name else f"Unnamed: {i}" for i, name in enumerate(names)]
    return frame


def _header_names(header: str, sep: str, quoted: bool) -> list[str]:
    if not quoted:
        return header.split(sep)
    try:
        return next(csv.reader([header], delimiter=sep))
    except (csv.Error, StopIteration):
        return header.split(sep)


def _raise_parse_error(data: bytes, file: str, sep: str, quoted: bool, exc: Exception) -> NoReturn:
    kind = "CSV" if sep == "," else "TSV"
    ragged = _find_ragged_row(data, sep, quoted)
    if ragged is not None:
        row, line, got, expected, has_quote = ragged
        if has_quote and quoted:
            hint = "check for an unclosed quote (a quoted cell runs on until the next quote)"
        elif got > expected:
            hint = "a cell that contains a comma must be quoted" if sep == "," else "a cell contains a tab character"
        else:
            hint = "a cell is missing"
        fields = f"{got} field{'s' if got != 1 else ''}"
        _fail(file, f"row has {fields} but the header has {expected} (line {line}); {hint}", row=row)
    detail = str(exc).replace("CSV parse error: ", "").strip()
    _fail(file, f"could not be parsed as {kind}: {_preview(detail, 200)}")


def _find_ragged_row(data: bytes, sep: str, quoted: bool) -> tuple[int, int, int, int, bool] | None:
    """(data row, line, fields, header fields, has quote) of the first row whose field count differs from
    the header's (error path only; None when the csv module cannot tell)."""
    quoting = csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE
    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quoting=quoting)
    expected, row = None, 0
    try:
        for fields in reader:
            if not fields:
                continue
            if expected is None:
                expected = len(fields)
                continue
            row += 1
            if len(fields) != expected:
                return row, reader.line_num, len(fields), expected, any('"' in f or "\n" in f for f in fields)
    except csv.Error:
        return None
    return None


def _split_lines(text: str) -> list[str]:
    """Lines of a text whatever its line breaks (LF, CRLF, CR alone, mixed); only these three split lines."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def _read_txt(text: str, file: str) -> pd.DataFrame:
    _check_lines(text, file)
    lines = _split_lines(text)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        _fail(file, "contains no sentences (only blank lines)")
    return pd.DataFrame({"sentence": pd.Series(lines, dtype=str)})


# ------------------------------------------------------------------------------------------------------- JSON
_JSON_CHUNK = 10_000  # JSON lines parsed per json.loads call (limits are checked in between)
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON_SEPARATOR = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")
_JSON_OBJECT_HINT = '{"sentence1": ..., "sentence2": ...}'


class _JsonShape:
    """Distinct keys of the records read so far (first-seen order), held to the column and cell limits."""

    def __init__(self, file: str, rows: int = 0) -> None:
        self.file = file
        self.rows = rows  # records expected (JSON lines) or read so far (JSON array)
        self.keys: dict[str, object] = {}
        self.max_columns = _limit("columns", file)
        self.max_cells = _limit("cells", file)

    def add(self, records: list[dict], rows: Iterable[int]) -> None:
        """Check a batch of records; `rows` numbers them for messages (line for JSON lines, record for arrays)."""
        before = dict(self.keys)
        widest = max(map(len, records), default=0)
        for record in records:
            self.keys.update(record)  # fast; only the keys are used (the values kept are the last seen)
        if widest > self.max_columns or len(self.keys) > self.max_columns:
            self._name_the_record(records, rows, before)
        cells = max(self.rows, 1) * len(self.keys)
        if cells > self.max_cells:
            _over_limit(
                self.file,
                "cells",
                f"has {max(self.rows, 1):,} records × {len(self.keys):,} distinct keys = {cells:,} cells",
            )

    def _name_the_record(self, records: list[dict], rows: Iterable[int], seen: dict) -> NoReturn:
        for record, row in zip(records, rows):
            if len(record) > self.max_columns:
                _over_limit(self.file, "columns", f"a record with {len(record):,} keys (one column each)", row=row)
            seen.update(record)
            if len(seen) > self.max_columns:
                _over_limit(
                    self.file,
                    "columns",
                    f"the records use more than {self.max_columns:,} distinct keys (one column each) by this one",
                    row=row,
                )
        raise AssertionError("no record is over the limit")  # pragma: no cover


def _read_json(text: str, file: str) -> _Raw:
    """JSON lines (one object per line; blank lines skipped) or, for .json, a JSON array of objects."""
    if not text.strip():
        _fail(file, "contains no records (only whitespace)")
    decoder = json.JSONDecoder()
    if text.lstrip().startswith("["):
        records, shape = _read_json_array(text, file, decoder)
    else:
        records, shape = _read_json_lines(text, file, decoder)
    if not records:
        _fail(file, "contains no records")
    return _json_frame(records, list(shape.keys))


def _read_json_array(text: str, file: str, decoder: json.JSONDecoder) -> tuple[list[dict], _JsonShape]:
    """Decode the array one element at a time, so the row, column and cell limits apply while reading."""
    max_rows = _limit("rows", file)
    shape = _JsonShape(file)
    records: list[dict] = []
    try:
        pos = _JSON_SPACE.match(text, text.index("[") + 1).end()
        closed = text.startswith("]", pos)
        pos = _JSON_SPACE.match(text, pos + 1).end() if closed else pos
        while not closed:
            value, pos = decoder.raw_decode(text, pos)
            records.append(value)
            separator = _JSON_SEPARATOR.match(text, pos)
            if separator is None:
                raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
            pos, closed = separator.end(), separator.group(1) == "]"
            if closed or len(records) % _JSON_CHUNK == 0:
                _check_json_chunk(records, shape, max_rows, file)
        if pos < len(text):
            raise json.JSONDecodeError("Extra data", text, pos)
    except json.JSONDecodeError as exc:
        _fail(file, f"invalid JSON on line {exc.lineno}, column {exc.colno}: {exc.msg}")
    except RecursionError:
        _fail(file, "invalid JSON: nested too deeply")
    except ValueError as exc:
        if isinstance(exc, DataError):
            raise
        _fail(file, f"invalid JSON: {exc}")  # e.g. an integer with more than 4300 digits
    return records, shape


def _check_json_chunk(records: list, shape: _JsonShape, max_rows: int, file: str) -> None:
    """Check the records of a JSON array read since the last check: objects only, rows, keys and cells."""
    new = len(records) - shape.rows
    chunk = records[shape.rows :]
    if not all(isinstance(r, dict) for r in chunk):
        _fail(file, f"the JSON array must contain only objects like {_JSON_OBJECT_HINT}")
    if len(records) > max_rows:
        _over_limit(file, "rows", f"has more than {max_rows:,} records")
    shape.rows = len(records)
    shape.add(chunk, range(len(records) - new + 1, len(records) + 1))


def _read_json_lines(text: str, file: str, decoder: json.JSONDecoder) -> tuple[list[dict], _JsonShape]:
    _check_lines(text, file)
    lines = pd.Series(_split_lines(text), dtype=str).str.strip()
    nonblank = _bool_array(lines != "")
    content = lines[nonblank].tolist()
    line_numbers = np.flatnonzero(nonblank) + 1
    del lines
    starts_object = [line.startswith("{") for line in content]
    if not all(starts_object):
        first = starts_object.index(False)
        _raise_json_line(file, content[first], int(line_numbers[first]))
    shape = _JsonShape(file, rows=len(content))
    records: list[dict] = []
    for start in range(0, len(content), _JSON_CHUNK):
        part = content[start : start + _JSON_CHUNK]
        numbers = line_numbers[start : start + _JSON_CHUNK]
        try:
            parsed = decoder.decode("[" + ",".join(part) + "]")
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; so is a 5000-digit integer
            parsed = None
        if parsed is None or len(parsed) != len(part):
            _raise_bad_json_line(file, part, numbers)
        shape.add(parsed, numbers.tolist())
        records.extend(parsed)
    return records, shape


def _raise_bad_json_line(file: str, lines: list[str], numbers: np.ndarray) -> NoReturn:
    """Error path: name the first line of a chunk that is not exactly one JSON object."""
    for line, number in zip(lines, numbers):
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            value = None
        if not isinstance(value, dict):
            _raise_json_line(file, line, int(number))
    _fail(file, "could not be read as JSON lines (each line must be one JSON object)")


def _raise_json_line(file: str, line: str, line_number: int) -> NoReturn:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        _fail(file, f"invalid JSON on line {line_number}: {exc.msg} (at character {exc.pos + 1})", row=line_number)
    except RecursionError:
        _fail(file, f"invalid JSON on line {line_number}: nested too deeply", row=line_number)
    except ValueError as exc:
        _fail(file, f"invalid JSON on line {line_number}: {exc}", row=line_number)
    kind = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")
    _fail(
        file,
        f"line {line_number} is a JSON {kind}, not an object; each line must be one object like {_JSON_OBJECT_HINT}",
        row=line_number,
    )


def _json_frame(records: list[dict], keys: list[str]) -> _Raw:
    """Text cells of records read from JSON (a key a record lacks is a missing cell); numbers, booleans, objects
    and arrays are noted as non-text cells, their text being the JSON they were written as."""
    out: dict[str, pd.Series] = {}
    odd: dict[str, _Odd] = {}
    for key in keys:
        column = pd.Series([record.get(key) for record in records], dtype=object)
        missing = _bool_array(column.isna())
        kind = pd.api.types.infer_dtype(column, skipna=True)
        if kind in ("string", "empty"):
            out[key] = column.astype(str).mask(missing)
            continue
        if kind in ("integer", "floating", "mixed-integer-float", "boolean"):  # one kind of value: vectorised
            codes = np.where(missing, 0, _BOOLEAN if kind == "boolean" else _NUMBER).astype(np.int8)
            texts = column.map({True: "true", False: "false"}) if kind == "boolean" else column.astype(str)
        else:
            codes = np.fromiter(map(_json_code, column), dtype=np.int8, count=len(column))
            texts = pd.Series([v if c == 0 else _json_text(v) for v, c in zip(column, codes)], dtype=object)
        out[key] = texts.astype(str).mask(missing & (codes == 0))
        if codes.any():
            odd[key] = _Odd(codes, _JSON_NAMES)
    return _Raw(pd.DataFrame(out, index=pd.RangeIndex(len(records))), odd)


def _json_code(value: object) -> int:
    if value is None or isinstance(value, str) or (isinstance(value, float) and math.isnan(value)):
        return 0  # text, or missing (null, a key the record lacks; a non-standard NaN counts as missing too)
    if isinstance(value, bool):
        return _BOOLEAN
    if isinstance(value, (int, float)):
        return _NUMBER
    return _OBJECT if isinstance(value, dict) else _ARRAY


def _json_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return str(value)


# ---------------------------------------------------------------------------------------------------- Parquet
_PARQUET_BATCH = 65_536  # rows decoded at a time


def _read_parquet(handle: BinaryIO, file: str) -> _Raw:
    """Check the footer (rows, columns, cells, uncompressed bytes) before reading anything; then read text columns
    dictionary-encoded in batches, refusing once their decoded size passes the byte limit; then decode."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    size = os.fstat(handle.fileno()).st_size
    if size == 0:
        _fail(file, "file is empty (0 bytes)")
    if size > _limit("bytes", file):
        _over_limit(file, "bytes", f"is {_size(size)}")
    head = handle.read(4)
    try:
        parquet = pq.ParquetFile(handle)
        schema = _check_parquet_footer(parquet, file)
        flat = [f for f in schema if not pa.types.is_nested(f.type)]
        as_dictionary = [f.name for f in flat if _is_bytes(f.type)]
        chunks = _read_parquet_batches(pq.ParquetFile(handle, read_dictionary=as_dictionary), flat, file)
        texts = {name: _parquet_text(parts, name, file) for name, parts in chunks.items()}
    except DataError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError, NotImplementedError, IndexError) as exc:
        hint = "" if head == b"PAR1" else " (it does not start with the Parquet magic bytes 'PAR1')"
        _fail(file, f"is not a valid Parquet file{hint}: {exc}")
    rows = len(next(iter(texts.values()))[0]) if texts else parquet.metadata.num_rows
    if rows == 0:
        _fail(file, "has columns but no data rows")
    out: dict[str, pd.Series] = {}
    odd: dict[str, _Odd] = {}
    for f in schema:
        out[f.name], cells = texts[f.name] if f.name in texts else _nested_text(f.type, rows)
        if cells is not None:
            odd[f.name] = cells
    return _Raw(pd.DataFrame(out, index=pd.RangeIndex(rows)), odd)


def _check_parquet_footer(parquet, file: str):
    """The Arrow schema, once the footer shows the file within the limits (rows, columns, cells, bytes)."""
    meta = parquet.metadata
    rows, leaves = meta.num_rows, meta.num_columns
    if rows > _limit("rows", file):
        _over_limit(file, "rows", f"has {rows:,} rows")
    if leaves > _limit("columns", file):
        _over_limit(file, "columns", f"has {leaves:,} columns")
    if rows * leaves > _limit("cells", file):
        _over_limit(file, "cells", f"has {rows:,} rows × {leaves:,} columns = {rows * leaves:,} cells")
    uncompressed = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if uncompressed > _limit("bytes", file):
        _over_limit(file, "bytes", f"holds {_size(uncompressed)} of uncompressed data")
    schema = parquet.schema_arrow
    dupes = sorted(n for n, count in Counter(schema.names).items() if count > 1)
    if dupes:
        _fail(file, f"duplicate column name {dupes[0]!r}; column names must be unique")
    return schema


def _is_bytes(arrow_type) -> bool:
    import pyarrow as pa

    return (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_binary(arrow_type)
        or pa.types.is_large_binary(arrow_type)
    )


def _read_parquet_batches(parquet, flat: list, file: str) -> dict[str, list]:
    """Arrow chunks per flat column; the decoded size (text expanded from its dictionary) is held to the limit."""
    limit = _limit("bytes", file)
    chunks: dict[str, list] = {f.name: [] for f in flat}
    if not flat:
        return chunks
    decoded = 0
    for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH, columns=list(chunks), use_threads=False):
        for name, array in zip(batch.schema.names, batch.columns):
            decoded += _decoded_size(array)
            chunks[name].append(array)
        if decoded > limit:
            _over_limit(file, "bytes", f"decodes to more than {_size(limit)} of data")
    return chunks


def _decoded_size(array) -> int:
    """Bytes `array` takes once decoded; for dictionary-encoded text, computed without decoding it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(array.type) or not _is_bytes(array.type.value_type):
        return array.nbytes
    lengths = pc.take(pc.binary_length(array.dictionary), array.indices)
    return int(pc.sum(lengths).as_py() or 0) + 8 * len(array)


def _parquet_kind(arrow_type) -> tuple[int, str | None]:
    """(code, name) of the values of a Parquet column: code 0 for text (string, UTF-8 binary, all-null)."""
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if (
        _is_bytes(arrow_type)
        or pa.types.is_fixed_size_binary(arrow_type)
        or pa.types.is_null(arrow_type)
        or pa.types.is_string_view(arrow_type)
        or pa.types.is_binary_view(arrow_type)
    ):
        return 0, None
    if pa.types.is_boolean(arrow_type):
        return _BOOLEAN, "a Parquet boolean"
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return _NUMBER, f"a Parquet {arrow_type} number"
    return _OTHER, f"a Parquet {arrow_type} value"


def _parquet_text(chunks: list, name: str, file: str) -> tuple[pd.Series, _Odd | None]:
    import pyarrow as pa

    texts, start = [], 0
    for chunk in chunks:
        texts.append(_arrow_text(chunk, name, file, start))
        start += len(chunk)
    series = pa.chunked_array(texts, type=pa.string()).to_pandas().astype(str)
    missing = _bool_array(series.isna())
    code, label = _parquet_kind(chunks[0].type) if chunks else (0, None)
    if not code or missing.all():
        return series, None
    return series, _Odd(np.where(missing, 0, code).astype(np.int8), {code: str(label)})


def _arrow_text(chunk, name: str, file: str, start: int):
    """One Arrow chunk as UTF-8 strings: binary is decoded strictly (an invalid byte is a DataError naming the
    row and column), numbers / booleans / dates as Arrow writes them, anything else as '<type>'."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(chunk.type):
        chunk = chunk.dictionary_decode()
    kind = chunk.type
    if pa.types.is_null(kind):
        return pa.nulls(len(chunk), pa.string())
    if pa.types.is_fixed_size_binary(kind) or pa.types.is_binary_view(kind):
        chunk = chunk.cast(pa.binary())
    try:
        return chunk.cast(pa.string())
    except pa.ArrowInvalid:
        if _is_bytes(chunk.type):
            _raise_not_utf8(chunk, name, file, start)
        raise
    except pa.ArrowNotImplementedError:
        return pc.if_else(chunk.is_valid(), pa.scalar(f"<{kind}>"), pa.scalar(None, pa.string()))


def _raise_not_utf8(chunk, name: str, file: str, start: int) -> NoReturn:
    for i, value in enumerate(chunk.to_pylist()):
        if value is None:
            continue
        try:
            value.decode("utf-8")
        except UnicodeDecodeError as exc:
            _fail(
                file,
                f"binary value is not UTF-8 text (byte 0x{value[exc.start]:02x} at offset {exc.start}); "
                "text columns must hold UTF-8",
                row=start + i + 1,
                column=name,
            )
    _fail(file, "binary values are not UTF-8 text; text columns must hold UTF-8", column=name)


def _nested_text(arrow_type, rows: int) -> tuple[pd.Series, _Odd]:
    """A nested column (list, struct, map) is not read: every cell shows as '<type>' and is not text."""
    series = pd.Series([f"<{arrow_type}>"] * rows, dtype=str)
    return series, _Odd(np.full(rows, _OTHER, dtype=np.int8), {_OTHER: f"a Parquet {arrow_type} value"})


# -------------------------------------------------------------------------------------------- column mapping
def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name).lower())


def _apply_column_map(
    frame: pd.DataFrame, column_map: dict[str, str] | None, file: str
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename FILE columns to canonical names. Returns the frame and {current name: original file name}.

    A file column whose name equals a mapped target (and is not itself mapped) is dropped: it is shadowed.
    """
    origin = {c: c for c in frame.columns}
    if not column_map:
        return frame, origin
    columns = list(frame.columns)
    rename: dict[str, str] = {}
    for file_col, target in column_map.items():
        if target not in CANONICAL_COLUMNS:
            _fail(
                file,
                f"column_map maps {file_col!r} to {target!r}, which is not one of: {', '.join(CANONICAL_COLUMNS)}",
                column=str(file_col),
            )
        if file_col in columns:
            actual = file_col
        else:
            loose = [c for c in columns if c.strip().lower() == str(file_col).strip().lower()]
            if len(loose) != 1:
                _fail(
                    file,
                    f"column_map refers to column {file_col!r}, which is not in the file "
                    f"(found: {_column_list(columns)})",
                )
            actual = loose[0]
        if target in rename.values():
            _fail(file, f"column_map maps two columns to {target!r}", column=actual)
        rename[actual] = target
    shadowed = [c for c in columns if c in rename.values() and c not in rename]
    frame = frame.drop(columns=shadowed).rename(columns=rename)
    origin = {rename.get(c, c): c for c in columns if c not in shadowed}
    return frame, origin


def _find_column(columns: list[str], canonical: str, taken: set[str]) -> str | None:
    """Exact canonical name first, then aliases in order."""
    free = {_norm(c): c for c in reversed(columns) if c not in taken}  # first column wins on a tie
    for alias in ALIASES[canonical]:
        if _norm(alias) in free:
            return free[_norm(alias)]
    return None


def match_columns(
    columns: Iterable[str], targets: Iterable[str] = ("sentence1", "sentence2", "score", "label")
) -> dict[str, str | None]:
    """{canonical name: file column or None}, matched as the loaders do (aliases; case, spaces, '_' and '-'
    ignored); each file column is used at most once, targets in the order given."""
    columns = [str(c) for c in columns]
    taken: set[str] = set()
    out: dict[str, str | None] = {}
    for target in targets:
        found = _find_column(columns, target, taken)
        out[target] = found
        if found:
            taken.add(found)
    return out


def _column_list(names: Iterable[str], limit: int = 20) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return (shown + f", … ({len(names) - limit} more)" if len(names) > limit else shown) or "no columns"


def _missing_column(file: str, canonical: str, origin: dict[str, str]) -> Problem:
    found = _column_list(origin.values())
    return Problem(
        file,
        None,
        None,
        f"missing column {canonical!r} (found: {found}); map it with column_map={{'your_col': {canonical!r}}}",
    )


# ------------------------------------------------------------------------------------------------ validation
# Format characters (Unicode category Cf) and other default-ignorable code points: invisible in a sentence.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_BLANK = re.compile("[\\s" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _INVISIBLE_RANGES) + "]*")
_BLANK_FIRST = tuple(
    sorted(
        {chr(c) for a, b in _INVISIBLE_RANGES for c in range(a, b + 1)}
        | {chr(c) for c in range(0x3001) if chr(c).isspace()}
    )
)


def _clean_sentences(
    raw: pd.Series, canonical: str, column: str, log: _ProblemLog, odd: _Odd | None = None
) -> pd.Series:
    """Strip sentences; log missing / empty / whitespace- or invisible-only cells and non-text values."""
    stripped = raw.str.strip()
    missing = _bool_array(raw.isna())
    other = odd.mask() if odd is not None else np.zeros(len(raw), dtype=bool)
    empty = _bool_array(stripped == "") & ~missing & ~other
    invisible = _invisible_only(stripped) & ~empty & ~missing & ~other
    log.add_rows(missing, column, lambda i: f"{canonical} is missing")
    log.add_rows(
        empty,
        column,
        lambda i: f"{canonical} is empty" if raw.iat[i] == "" else f"{canonical} is empty (whitespace only)",
    )
    log.add_rows(invisible, column, lambda i: f"{canonical} is empty ({_invisible_names(stripped.iat[i])})")
    if odd is not None:
        log.add_rows(other, column, lambda i: f"{canonical} is {odd.name(i)}, not text: {_preview(raw.iat[i])}")
    return stripped.reset_index(drop=True)


def _invisible_only(texts: pd.Series) -> np.ndarray:
    """True where a text holds only whitespace and invisible characters (U+200B, U+FEFF, soft hyphen, ...)."""
    out = np.zeros(len(texts), dtype=bool)
    for i in np.flatnonzero(_bool_array(texts.str.slice(0, 1).isin(_BLANK_FIRST))):  # few candidates
        out[i] = _BLANK.fullmatch(texts.iat[i]) is not None
    return out


def _invisible_names(text: str, limit: int = 3) -> str:
    found = list(dict.fromkeys(c for c in text if not c.isspace()))
    if not found:
        return "whitespace only"
    shown = ", ".join(f"U+{ord(c):04X}" for c in found[:limit]) + (", …" if len(found) > limit else "")
    return f"invisible characters only: {shown}"


def _parse_numbers(
    raw: pd.Series, canonical: str, column: str, log: _ProblemLog, odd: _Odd | None = None
) -> np.ndarray:
    """Parse label/score cells to float64 (NaN where invalid); 'true'/'false' count as 1/0. Objects, arrays and
    other non-number values (JSON, Parquet) are errors; booleans are left to the caller."""
    text = raw.str.strip()
    lowered = text.str.lower()
    missing = _bool_array(raw.isna())
    empty = _bool_array(text == "") & ~missing
    not_value = odd.mask(_OBJECT, _ARRAY, _OTHER) if odd is not None else np.zeros(len(raw), dtype=bool)
    boolean = _bool_array(lowered.isin(["true", "false"]))
    parsed = pd.to_numeric(text.mask(boolean), errors="coerce")
    values = np.array(parsed.to_numpy(dtype=float, na_value=np.nan), dtype=float)  # writable copy
    values[boolean] = _bool_array(lowered[boolean] == "true").astype(float)
    values[not_value] = np.nan
    nan = np.isnan(values)
    non_finite = (np.isinf(values) | (nan & _bool_array(lowered.isin(_NAN_WORDS)))) & ~not_value
    not_number = nan & ~missing & ~empty & ~non_finite & ~not_value

    def not_number_message(i: int) -> str:
        cell = str(raw.iat[i]).strip()
        hint = " (use '.' as the decimal separator)" if re.fullmatch(r"[+-]?\d+,\d+", cell) else ""
        return f"{canonical} is not a number: {_preview(cell)}{hint}"

    if odd is not None:
        log.add_rows(not_value, column, lambda i: f"{canonical} is {odd.name(i)}, not a number: {_preview(raw.iat[i])}")
    log.add_rows(missing, column, lambda i: f"{canonical} is missing")
    log.add_rows(empty, column, lambda i: f"{canonical} is empty")
    log.add_rows(not_number, column, not_number_message)
    log.add_rows(
        non_finite, column, lambda i: f"{canonical} is not a finite number: {_preview(str(raw.iat[i]).strip())}"
    )
    values[non_finite] = np.nan
    return values


def _suggest_scale(low: float, high: float) -> tuple[float, float]:
    if low >= -1 and high <= 1:
        return (-1, 1)
    for top in (10, 100):
        if low >= 0 and high <= top:
            return (0, top)
    return (math.floor(low), math.ceil(high))


def _check_arguments(task: Task | None, scale: tuple[float, float] | None) -> tuple[float, float] | None:
    if task not in (None, "regression", "classification"):
        raise ValueError(f"task must be 'regression', 'classification' or None, not {task!r}")
    if scale is None or task == "classification":  # a scale only matters for regression
        return None
    try:
        low, high = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise ValueError(f"scale must be a (low, high) pair of numbers, not {scale!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"scale must be (low, high) with finite low < high, not {scale!r}")
    return (low, high)


def _pair_warnings(
    s1: pd.Series, s2: pd.Series, labels: np.ndarray | None, file: str, drop: bool
) -> tuple[np.ndarray, int, list[Problem]]:
    """Find duplicate pairs (also swapped) and identical s1 == s2 rows. Returns (keep mask, dropped, warnings)."""
    n = len(s1)
    first_le = _bool_array(s1 <= s2)
    keys = pd.DataFrame({"a": s1.where(first_le, s2), "b": s2.where(first_le, s1)})
    duplicate = _bool_array(keys.duplicated(keep="first"))
    warnings: list[Problem] = []
    keep = np.ones(n, dtype=bool)
    dropped = 0
    if duplicate.any():
        involved = _bool_array(keys.duplicated(keep=False))
        sub = keys[involved].assign(pos=np.flatnonzero(involved))
        first_pos = sub.groupby(["a", "b"], sort=False)["pos"].transform("min").to_numpy()
        is_dup_in_sub = duplicate[involved]
        dup_pos = sub["pos"].to_numpy()[is_dup_in_sub]
        kept_pos = first_pos[is_dup_in_sub]
        count = len(dup_pos)
        listed = []
        s1_values = s1.to_numpy(dtype=object)
        for p, f in zip(dup_pos[:_MAX_LISTED_ROWS], kept_pos[:_MAX_LISTED_ROWS]):
            swapped = " (swapped)" if s1_values[p] != s1_values[f] else ""
            listed.append(f"row {p + 1} = row {f + 1}{swapped}")
        more = f", … {count - len(listed)} more" if count > len(listed) else ""
        conflict = ""
        if labels is not None:
            differing = int(np.sum(labels[dup_pos] != labels[kept_pos]))
            if differing:
                conflict = f"; {differing} of them had a different label than the kept row"
        plural = "s" if count != 1 else ""
        if drop:
            keep = ~duplicate
            dropped = count
            lead = f"dropped {count} duplicate pair{plural} (same two sentences as an earlier row, in either order)"
        else:
            lead = f"kept {count} duplicate pair{plural} (drop_duplicates=False)"
        warnings.append(Problem(file, None, None, f"{lead}: {', '.join(listed)}{more}{conflict}"))
    identical = _bool_array(s1 == s2) & keep
    if identical.any():
        rows = np.flatnonzero(identical) + 1
        listed = ", ".join(str(r) for r in rows[:_MAX_LISTED_ROWS])
        more = f", … {len(rows) - _MAX_LISTED_ROWS} more" if len(rows) > _MAX_LISTED_ROWS else ""
        single = len(rows) == 1
        warnings.append(
            Problem(
                file,
                int(rows[0]) if single else None,
                None,
                "sentence1 and sentence2 are identical (kept)"
                if single
                else f"{len(rows)} rows have identical sentence1 and sentence2 (kept): rows {listed}{more}",
            )
        )
    return keep, dropped, warnings


# ----------------------------------------------------------------------------------------------- public API
def read_table(path: PathLike, *, column_map: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a .csv/.tsv/.txt/.jsonl/.json/.parquet file (or gzip'd text) as text cells.

    `column_map` renames FILE columns to canonical names (sentence1, sentence2, score, label, sentence).
    Raises DataError for anything unreadable; no pandas/pyarrow/decoding exception escapes.
    """
    frame, _ = _apply_column_map(_read_raw(path).frame, column_map, str(path))
    return frame


def load_pairs(
    path: PathLike,
    *,
    column_map: dict[str, str] | None = None,
    task: Task | None = None,
    scale: tuple[float, float] | None = None,
    drop_duplicates: bool = True,
) -> PairSet:
    """Load labeled pairs: validate every row, detect the task and score scale, normalise labels."""
    scale = _check_arguments(task, scale)
    file = str(path)
    raw = _read_raw(path)
    frame, origin = _apply_column_map(raw.frame, column_map, file)
    columns = list(frame.columns)
    taken: set[str] = set()
    found: dict[str, str | None] = {}
    for canonical in ("sentence1", "sentence2", "score", "label"):
        found[canonical] = _find_column(columns, canonical, taken)
        if found[canonical] is not None:
            taken.add(found[canonical])
    missing = [_missing_column(file, c, origin) for c in ("sentence1", "sentence2") if found[c] is None]
    if found["score"] is None and found["label"] is None:
        found_names = _column_list(origin.values())
        missing.append(
            Problem(
                file,
                None,
                None,
                f"missing column 'score' or 'label' (found: {found_names}); "
                "map it with column_map={'your_col': 'score'}",
            )
        )
    if missing:
        raise DataError(missing)

    explicit = set((column_map or {}).values())
    if found["score"] is None:
        target = "label"
    elif found["label"] is None:
        target = "score"
    elif task == "classification" or ("label" in explicit and "score" not in explicit):
        target = "label"
    else:
        target = "score"
    target_column = found[target]
    assert target_column is not None
    target_name = origin[target_column]

    log = _ProblemLog(file)
    s1 = _clean_sentences(
        frame[found["sentence1"]], "sentence1", origin[found["sentence1"]], log, raw.odd.get(origin[found["sentence1"]])
    )
    s2 = _clean_sentences(
        frame[found["sentence2"]], "sentence2", origin[found["sentence2"]], log, raw.odd.get(origin[found["sentence2"]])
    )
    raw_target = frame[target_column]
    odd_target = raw.odd.get(target_name)
    values = _parse_numbers(raw_target, target, target_name, log, odd_target)
    valid = np.isfinite(values)
    is_binary = np.isin(values, (0.0, 1.0))

    def not_binary_message(i: int) -> str:
        hint = "" if task == "classification" else "; pass task='regression' if these are graded scores"
        return f"labels must be 0/1, found {str(raw_target.iat[i]).strip()}{hint}"

    resolved: Task
    if task is not None:
        resolved = task
    elif scale is not None:
        resolved = "regression"
    elif valid.any() and bool(np.all(is_binary[valid])):
        resolved = "classification"
    elif target == "score":
        resolved = "regression"
    else:
        resolved = "classification"  # a label-named column with non-0/1 values: each such row is an error

    final_scale: tuple[float, float] | None = None
    if resolved == "classification":
        log.add_rows(valid & ~is_binary, target_name, not_binary_message)
    elif scale is not None:
        low, high = scale
        outside = valid & ((values < low) | (values > high))
        log.add_rows(
            outside,
            target_name,
            lambda i: f"{target} {str(raw_target.iat[i]).strip()} is outside the scale {low:g}..{high:g}",
        )
        final_scale = scale
    elif valid.any():
        low, high = float(values[valid].min()), float(values[valid].max())
        if low >= 0 and high <= 1:
            final_scale = (0.0, 1.0)
        elif low >= 0 and high <= 5:
            final_scale = (0.0, 5.0)
        else:
            suggestion = _suggest_scale(low, high)
            log.add(
                f"scores range {low:g}..{high:g}; pass scale=(lo, hi), e.g. scale=({suggestion[0]:g}, "
                f"{suggestion[1]:g})",
                column=target_name,
            )
    if odd_target is not None and (target == "score" or resolved == "regression"):
        log.add_rows(
            odd_target.mask(_BOOLEAN),
            target_name,
            lambda i: (
                f"{target} is {odd_target.name(i)} ({str(raw_target.iat[i]).strip()}), not a number; "
                "a boolean is read as 1/0 only in a label column of a classification task"
            ),
        )
    log.raise_if_any()

    if resolved == "classification":
        labels = values.astype(np.int64)
    else:
        assert final_scale is not None
        low, high = final_scale
        labels = (values - low) / (high - low)
    keep, dropped, warnings = _pair_warnings(s1, s2, labels, file, drop_duplicates)
    if resolved == "classification" and len(np.unique(labels[keep])) < 2:
        only = int(labels[keep][0])
        warnings.append(Problem(file, None, target_name, f"all labels are {only}: only one class"))
    out = pd.DataFrame({"sentence1": s1, "sentence2": s2, "label": labels})
    if not keep.all():
        out = out[keep].reset_index(drop=True)
    return PairSet(
        frame=out, task=resolved, source=file, scale=final_scale, duplicates_dropped=dropped, warnings=warnings
    )


def load_unlabeled(path: PathLike, *, column_map: dict[str, str] | None = None) -> SentencePool:
    """Load unlabeled sentences: a pair file (sentence1/sentence2), one sentence column, or a .txt file.

    Label/score columns are ignored. Duplicate sentences are merged silently (counted in duplicates_dropped);
    in a pair file duplicates_dropped counts the duplicate pairs dropped (as in load_pairs).
    """
    file = str(path)
    raw = _read_raw(path)
    frame, origin = _apply_column_map(raw.frame, column_map, file)
    columns = list(frame.columns)
    explicit = set((column_map or {}).values())
    first = _find_column(columns, "sentence1", set())
    second = _find_column(columns, "sentence2", {first} if first else set())
    single = _find_column(columns, "sentence", {c for c in (first, second) if c})
    log = _ProblemLog(file)

    if first and second and not ("sentence" in explicit and single):
        s1 = _clean_sentences(frame[first], "sentence1", origin[first], log, raw.odd.get(origin[first]))
        s2 = _clean_sentences(frame[second], "sentence2", origin[second], log, raw.odd.get(origin[second]))
        log.raise_if_any()
        keep, dropped, warnings = _pair_warnings(s1, s2, None, file, drop=True)
        pairs = pd.DataFrame({"sentence1": s1, "sentence2": s2})
        if not keep.all():
            pairs = pairs[keep].reset_index(drop=True)
        return SentencePool(
            sentences=_unique_interleaved(pairs["sentence1"], pairs["sentence2"]),
            pairs=pairs,
            source=file,
            duplicates_dropped=dropped,
            warnings=warnings,
        )

    if single is None and len(columns) == 1:
        single = columns[0]
    if single is None:
        found_names = _column_list(origin.values())
        _fail(
            file,
            f"no sentence column found (found: {found_names}); map one with "
            "column_map={'your_col': 'sentence'}, or two with 'sentence1' and 'sentence2'",
        )
    cleaned = _clean_sentences(frame[single], "sentence", origin[single], log, raw.odd.get(origin[single]))
    log.raise_if_any()
    unique = pd.unique(cleaned.to_numpy(dtype=object)).tolist()
    return SentencePool(sentences=unique, pairs=None, source=file, duplicates_dropped=len(cleaned) - len(unique))


def fingerprint(path: PathLike) -> str:
    """sha256 of the file bytes, hex, first 16 characters."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def write_table(frame: pd.DataFrame, path: PathLike) -> None:
    """Write by extension (.csv, .tsv, .jsonl, .parquet), atomically (temp file in the same folder, then os.replace).

    Raises ValueError for an unsupported extension, or for text with tabs/newlines when writing .tsv (quotes are
    written as pandas and spreadsheets do: a cell with a quote is quoted, its quotes doubled).
    """
    target = Path(path)
    ext, gz = _split_extension(target)
    if gz or ext not in WRITABLE_EXTENSIONS:
        raise ValueError(f"cannot write {target.name!r}: use one of {', '.join(WRITABLE_EXTENSIONS)}")
    if ext == ".tsv":
        _check_tsv_safe(frame)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        if ext == ".csv":
            frame.to_csv(temp, index=False, encoding="utf-8", lineterminator="\n")
        elif ext == ".tsv":
            frame.to_csv(temp, sep="\t", index=False, encoding="utf-8", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        elif ext == ".jsonl":
            _write_jsonl(frame, temp)
        else:
            frame.to_parquet(temp, index=False)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise


def _check_tsv_safe(frame: pd.DataFrame) -> None:
    cells = [str(c) for c in frame.columns]
    if any(re.search(r"[\t\r\n]", c) for c in cells):
        raise ValueError("a column name contains a tab or newline; write .csv, .jsonl or .parquet instead")
    for i, name in enumerate(cells):
        column = frame.iloc[:, i]
        if pd.api.types.is_string_dtype(column) or column.dtype == object:
            bad = _bool_array(column.astype(str).str.contains(r"[\t\r\n]", regex=True))
            if bad.any():
                raise ValueError(
                    f"column {name!r} row {int(np.flatnonzero(bad)[0]) + 1} contains a tab or newline; "
                    "write .csv, .jsonl or .parquet instead"
                )


def _write_jsonl(frame: pd.DataFrame, path: str) -> None:
    clean = frame.astype(object).where(frame.notna(), None)
    names = [str(c) for c in frame.columns]
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for row in clean.itertuples(index=False, name=None):
            record = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in zip(names, row)}
            handle.write(json.dumps(record, ensure_ascii=False, allow_nan=False))
            handle.write("\n")


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy in which text cells starting with = + - @ tab or CR get a leading single quote (CSV formula injection)."""
    out = frame.copy()
    for i in range(out.shape[1]):
        column = out.iloc[:, i]
        if not (pd.api.types.is_string_dtype(column) or column.dtype == object):
            continue
        is_text = column.map(lambda v: isinstance(v, str)) if column.dtype == object else column.notna()
        texts = column.where(_bool_array(is_text), "").astype(str)
        risky = _bool_array(texts.str.match(_FORMULA_START)) & _bool_array(is_text)
        if risky.any():
            out.isetitem(i, column.where(~risky, "'" + texts))
    return out
