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
import os
import re
import stat
import zlib
from collections import Counter
from pathlib import Path
from typing import BinaryIO, NoReturn

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from .problems import DataError, _fail, _preview
from .table_json import (  # noqa: F401 - re-exported: importers keep their old home
    _read_json,
)
from .table_limits import (  # noqa: F401 - re-exported: importers keep their old home
    LINE_CELLS,
    MAX_BYTES,
    MAX_CELL_CHARS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_ROWS,
    NEWLINE,
    PathLike,
    _check_lines,
    _count_lines,
    _limit,
    _over_limit,
    _Raw,
    _size,
    _split_extension,
    _split_lines,
)
from .table_parquet import (  # noqa: F401 - re-exported: importers keep their old home
    _read_parquet,
)
from .table_write import (  # noqa: F401 - re-exported: importers keep their old home
    WRITABLE_EXTENSIONS,
    check_writable_table,
    formula_cells,
    safe_for_spreadsheet,
    write_table,
)

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


_BOM = b"\xef\xbb\xbf"


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


def _read_txt(text: str, file: str) -> pd.DataFrame:
    _check_lines(text, file)
    lines = _split_lines(text)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        _fail(file, "contains no sentences (only blank lines)")
    return pd.DataFrame({"sentence": pd.Series(lines, dtype=str)})
