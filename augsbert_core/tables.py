"""Reading and writing table files (.csv, .tsv, .txt, .jsonl, .json, .parquet; text files also gzip'd), bounded
and strict. Readers return every cell as text (missing cells NaN, column names as in the file) and note the cells
that were not text in the file; `data` maps and validates them. Unreadable input raises `DataError`.

- Limits, checked before a whole file is materialised; each error names the limit and the environment variable
  that raises it (read at each call; a positive whole number; it overrides the module constant):

  MAX_ROWS = 5,000,000 (AUGSBERT_MAX_ROWS): data rows. In CSV/TSV/TXT/JSON-lines files these are lines, counted
      before parsing (a quoted multi-line cell counts each of its lines); JSON arrays count records as read.
  MAX_CELLS = 20,000,000 (AUGSBERT_MAX_CELLS): rows x columns (JSON: records x distinct keys).
  MAX_COLUMNS = 1,000 (AUGSBERT_MAX_COLUMNS): header fields, Parquet columns, distinct JSON keys, keys of one
      JSON record.
  MAX_BYTES = 1 GiB (AUGSBERT_MAX_BYTES): the file; its bytes after gzip decompression (streamed with a cap);
      a Parquet file's uncompressed size (from its footer) and its columns once decoded (batch by batch).
  MAX_CELL_CHARS = 10,000,000 (AUGSBERT_MAX_CELL_CHARS): characters in one cell, checked on every cell read; a
      gzip'd line-based file also stops decompressing at a line longer than LINE_CELLS such cells (UTF-8 bytes),
      so a small file that expands to one huge cell stops early instead of filling memory.

- Only regular files are opened: a directory, FIFO, device or socket is refused (`os.stat`) without blocking.
- Text is strict UTF-8; LF, CRLF and CR-only line breaks (also mixed) end lines; line breaks inside quoted CSV
  fields are kept. TSV follows the usual quoting rules (as pandas and spreadsheets write it) when every field
  that starts with a quote is properly quoted; otherwise (e.g. the STS benchmark's stray quotes) it is verbatim.
- JSON numbers, booleans, objects and arrays, and typed Parquet values, are read as their text and noted as
  non-text cells (`_Odd`), so the validator can refuse them where a sentence or a score belongs.
- Parquet binary columns are decoded as strict UTF-8; nested columns (list, struct, map) are not read: their
  cells show as '<type>' and are not text.
- `write_table` writes .csv, .tsv, .jsonl or .parquet atomically; `safe_for_spreadsheet` defuses formula cells.

Only pandas / numpy / pyarrow are used here (no streamlit, no torch).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import stat
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .atomic import atomic_path
from .problems import DataError, _bool_array, _fail, _preview

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

MAX_ROWS = 5_000_000  # data rows (lines of a text file); AUGSBERT_MAX_ROWS overrides
MAX_CELLS = 20_000_000  # rows x columns; AUGSBERT_MAX_CELLS overrides
MAX_COLUMNS = 1_000  # columns / distinct JSON keys; AUGSBERT_MAX_COLUMNS overrides
MAX_BYTES = 1 << 30  # bytes after decompression / decoding; AUGSBERT_MAX_BYTES overrides
MAX_CELL_CHARS = 10_000_000  # characters in one cell (a sentence is far shorter); AUGSBERT_MAX_CELL_CHARS overrides
NEWLINE = b"\n"
LINE_CELLS = 4  # a gzip'd line-based file stops decompressing at a line this many full cells long (a one-cell bomb)
_BOM = b"\xef\xbb\xbf"
_FORMULA_START = r"[=+\-@\t\r]"


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
            return _check_cells(_read_parquet(handle, file), file)
        data = _read_bytes(handle, file, gz, line_based=ext != ".json")
    _check_text_bytes(data, file, ext)
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if ext in (".csv", ".tsv"):
        return _check_cells(_Raw(_read_delimited(data, file, ext, gz)), file)
    text = _decode(data, file, ext, gz)
    del data
    if ext == ".txt":
        return _check_cells(_Raw(_read_txt(text, file)), file)
    return _check_cells(_read_json(text, file), file)


def _check_cells(raw: _Raw, file: str) -> _Raw:
    """Refuse a cell longer than the cell limit (a sentence is far shorter), naming its row and column."""
    limit = _limit("cell", file)
    for column in raw.frame.columns:
        values = raw.frame[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue
        lengths = values.str.len().fillna(0).to_numpy()
        if len(lengths) and lengths.max() > limit:
            row = int(lengths.argmax())
            found = f"a cell has {int(lengths[row]):,} characters"
            _over_limit(file, "cell", found, row=row + 1, column=str(column))
    return raw


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


def _read_bytes(handle: BinaryIO, file: str, gz: bool, line_based: bool = True) -> bytes:
    """The file's bytes (decompressed when gz), refused when over the byte limit before they are read; a gzip'd
    line-based file also stops at a line too long to hold cells within the cell limit (a one-cell bomb)."""
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
    line_cap = LINE_CELLS * 4 * _limit("cell", file) if line_based else None  # UTF-8: at most 4 bytes a character
    return _gunzip(data, file, limit, line_cap) if gz else data


def _gunzip(data: bytes, file: str, limit: int | None = None, line_cap: int | None = None) -> bytes:
    """Decompress every gzip member, 1 MiB of input at a time, with a cap on the output (a small 'gzip bomb'
    cannot exhaust memory). Errors say what is wrong: header, corrupt data, CRC or length mismatch, truncated
    stream, trailing garbage."""
    limit = _limit("bytes", file) if limit is None else limit
    if data[:2] != b"\x1f\x8b":
        _fail(file, "is not gzip-compressed (bad gzip header); remove the '.gz' from the name if it is plain text")
    out = bytearray()
    pos = 0
    while pos < len(data):
        pos = _gunzip_member(data, pos, out, limit, file, line_cap)
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


def _gunzip_member(data: bytes, pos: int, out: bytearray, limit: int, file: str, line_cap: int | None = None) -> int:
    """Decompress the gzip member starting at `pos` into `out`; returns where the next one starts. With `line_cap`,
    a line longer than that many bytes stops it at once."""
    line_start = out.rfind(NEWLINE) + 1
    inflater = zlib.decompressobj(wbits=31)  # gzip wrapper: zlib checks the header, the CRC and the length
    view = memoryview(data)
    try:
        while not inflater.eof and pos < len(data):
            pending: bytes | memoryview = view[pos : pos + _GZIP_STEP]
            pos += len(pending)
            while pending and not inflater.eof:
                before = len(out)  # at most a step of output at a time: a long line is seen as it grows
                out += inflater.decompress(pending, min(limit + 1 - len(out), _GZIP_STEP))
                if len(out) > limit:
                    _over_limit(file, "bytes", f"decompresses to more than {_size(limit)}")
                if line_cap is not None:
                    first = out.find(NEWLINE, before)
                    end = first if first >= 0 else len(out)  # the line that was open, up to its end or the chunk's
                    if end - line_start > line_cap:
                        line = out.count(NEWLINE, 0, line_start) + 1
                        _over_limit(file, "cell", f"line {line:,} runs past {_size(line_cap)} unbroken")
                    if first >= 0:
                        line_start = out.rfind(NEWLINE, before) + 1  # lines inside one step are shorter than a cap
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
    if not pa.types.is_dictionary(array.type) or not _is_bytes(array.type.value_type):
        return array.nbytes
    lengths = pc.take(pc.binary_length(array.dictionary), array.indices)
    return int(pc.sum(lengths).as_py() or 0) + 8 * len(array)


def _parquet_kind(arrow_type) -> tuple[int, str | None]:
    """(code, name) of the values of a Parquet column: code 0 for text (string, UTF-8 binary, all-null)."""
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


# ---------------------------------------------------------------------------------------------------- writing
def check_writable_table(path: PathLike, flag: str = "--out") -> Path:
    """Before any work: `path` can take a table (a writable extension, not a folder, its folder exists). ValueError
    naming `flag` and the reason, so a command fails at once instead of after labeling or sampling."""
    target = Path(path)
    ext, gz = _split_extension(target)
    if target.is_dir():
        raise ValueError(f"{flag} {target}: is a folder; name a file such as {target / 'pairs.csv'}")
    if gz or ext not in WRITABLE_EXTENSIONS:
        raise ValueError(
            f"{flag} {target}: cannot write {ext or 'a file without extension'}; use one of "
            f"{', '.join(WRITABLE_EXTENSIONS)}"
        )
    if not target.parent.is_dir():
        raise ValueError(f"{flag} {target}: the folder {target.parent} does not exist")
    return target


def write_table(frame: pd.DataFrame, path: PathLike) -> None:
    """Write by extension (.csv, .tsv, .jsonl, .parquet), atomically (`atomic_path`: a temp file, then a rename).

    Raises ValueError for an unsupported extension, or for text with tabs/newlines when writing .tsv (quotes are
    written as pandas and spreadsheets do: a cell with a quote is quoted, its quotes doubled).
    """
    target = Path(path)
    ext, gz = _split_extension(target)
    if gz or ext not in WRITABLE_EXTENSIONS:
        raise ValueError(f"cannot write {target.name!r}: use one of {', '.join(WRITABLE_EXTENSIONS)}")
    if ext == ".tsv":
        _check_tsv_safe(frame)
    with atomic_path(target) as temp:
        if ext == ".csv":
            frame.to_csv(temp, index=False, encoding="utf-8", lineterminator="\n")
        elif ext == ".tsv":
            frame.to_csv(temp, sep="\t", index=False, encoding="utf-8", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        elif ext == ".jsonl":
            _write_jsonl(frame, temp)
        else:
            frame.to_parquet(temp, index=False)


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


def _write_jsonl(frame: pd.DataFrame, path: Path) -> None:
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
    for i, (texts, risky) in _formula_masks(frame):
        out.isetitem(i, out.iloc[:, i].where(~risky, "'" + texts))
    return out


def formula_cells(frame: pd.DataFrame) -> int:
    """How many text cells a spreadsheet would read as a formula (start with = + - @ tab or CR)."""
    return sum(int(risky.sum()) for _, (_, risky) in _formula_masks(frame))


def _formula_masks(frame: pd.DataFrame) -> Iterator[tuple[int, tuple[pd.Series, np.ndarray]]]:
    """(column position, (the column as text, which cells look like formulas)) for each text column with any."""
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if not (pd.api.types.is_string_dtype(column) or column.dtype == object):
            continue
        is_text = column.map(lambda v: isinstance(v, str)) if column.dtype == object else column.notna()
        texts = column.where(_bool_array(is_text), "").astype(str)
        risky = _bool_array(texts.str.match(_FORMULA_START)) & _bool_array(is_text)
        if risky.any():
            yield i, (texts, risky)
