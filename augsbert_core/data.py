"""Loading, column mapping, validation and task detection for labeled / unlabeled sentence data.

Everything is read as text first so the validator sees the raw cell, then checked with vectorised pandas
operations; `Problem` objects are built only for the bad rows. Bad input raises `DataError` (a ValueError)
that names the file, the 1-based data row and the column as it is spelled in the file.

Only pandas / numpy / pyarrow are used here (no streamlit, no torch).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import os
import re
import tempfile
import zlib
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Literal, NoReturn

import numpy as np
import pandas as pd

__all__ = [
    "match_columns",
    "Task", "Problem", "DataError", "PairSet", "SentencePool", "SUPPORTED_EXTENSIONS", "ALIASES",
    "read_table", "load_pairs", "load_unlabeled", "fingerprint", "write_table", "safe_for_spreadsheet",
]

Task = Literal["regression", "classification"]
PathLike = str | os.PathLike

SUPPORTED_EXTENSIONS: tuple[str, ...] = (
    ".csv", ".tsv", ".txt", ".jsonl", ".json", ".parquet",
    ".csv.gz", ".tsv.gz", ".txt.gz", ".jsonl.gz", ".json.gz",
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

MAX_PROBLEMS = 50          # problems kept on a DataError (the rest are only counted)
_MAX_LISTED_ROWS = 10      # rows named in one aggregated warning
_MAX_COLUMNS = 10_000      # more header fields than this is not a table (e.g. a 10 MB single line)
_BOM = b"\xef\xbb\xbf"
_NAN_WORDS = ("nan", "+nan", "-nan")
_FORMULA_START = r"[=+\-@\t\r]"


# --------------------------------------------------------------------------------------------------- problems
@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in an input file."""

    file: str            # file name as given (str(path))
    row: int | None      # 1-based data row (header not counted); None for file-level problems
    column: str | None   # column name in the FILE (original name, before alias mapping)
    message: str         # what is wrong, specific

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


class DataError(ValueError):
    """Bad input. `.problems` lists the problems found (at most MAX_PROBLEMS); `.total` counts all of them."""

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
    source: str                        # file name
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
    pairs: pd.DataFrame | None         # columns sentence1, sentence2 (when the file had two sentence columns)
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


# ---------------------------------------------------------------------------------------------------- reading
def _split_extension(path: Path) -> tuple[str, bool]:
    """('.csv', True) for 'x.CSV.gz'."""
    name = path.name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    return os.path.splitext(name)[1], gz


def _read_raw(path: PathLike) -> pd.DataFrame:
    """Read any supported file into a frame of text cells (missing cells NaN), original column names."""
    file = str(path)
    p = Path(path)
    ext, gz = _split_extension(p)
    if ext not in {e for e in SUPPORTED_EXTENSIONS if not e.endswith(".gz")} or (gz and ext == ".parquet"):
        hint = " (export the sheet as CSV, UTF-8)" if ext in (".xlsx", ".xls", ".ods") else ""
        shown = ext + (".gz" if gz else "") or "(none)"
        _fail(file, f"unsupported file type {shown!r}{hint}; use one of: {', '.join(SUPPORTED_EXTENSIONS)}")
    if not p.exists():
        _fail(file, "file not found")
    if p.is_dir():
        _fail(file, "is a directory, not a file")
    if ext == ".parquet":
        return _read_parquet(p, file)
    try:
        data = p.read_bytes()
    except OSError as exc:
        _fail(file, f"cannot read the file: {exc.strerror or exc}")
    if not data:
        _fail(file, "file is empty (0 bytes)")
    if gz:
        data = _gunzip(data, file)
    _check_text_bytes(data, file, ext)
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    if ext in (".csv", ".tsv"):
        return _read_delimited(data, file, ext, gz)
    text = _decode(data, file, ext, gz)
    if ext == ".txt":
        return _read_txt(text, file)
    return _read_json(text, file)


MAX_DECOMPRESSED_BYTES = int(os.environ.get("AUGSBERT_MAX_DECOMPRESSED_MB", "2048")) * 1024 * 1024


def _gunzip(data: bytes, file: str, limit: int | None = None) -> bytes:
    """Decompress with a cap on the output size, so a small 'gzip bomb' cannot exhaust memory."""
    limit = MAX_DECOMPRESSED_BYTES if limit is None else limit
    try:
        if data[:2] != b"\x1f\x8b":
            raise gzip.BadGzipFile("not a gzipped file")
        reader = gzip.GzipFile(fileobj=io.BytesIO(data))
        out = reader.read(limit + 1)
        if len(out) > limit:
            _fail(file, f"decompresses to more than {limit // (1024 * 1024):,} MB; split it or raise "
                        "AUGSBERT_MAX_DECOMPRESSED_MB")
    except gzip.BadGzipFile:
        _fail(file, "is not gzip-compressed (bad gzip header); remove the '.gz' from the name if it is plain text")
    except EOFError:
        _fail(file, "gzip data is truncated (the file ends early); re-download or re-compress it")
    except (zlib.error, OSError) as exc:
        _fail(file, f"gzip data is corrupt ({exc}); re-download or re-compress it")
    if not out:
        _fail(file, "file is empty (0 bytes after decompression)")
    return out


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
        line = data.count(b"\n", 0, nul) + 1
        where = "" if nul < 65536 else f" (first at byte {nul:,}, line {line:,})"
        _fail(file, f"is not {kind} text: it contains NUL bytes{where}, so it looks like a binary file "
                    "(the file must be UTF-8 text)")


def _decode(data: bytes, file: str, ext: str, gz: bool) -> str:
    """Strict UTF-8 decode (BOM already stripped); the error names the byte offset, line and row."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
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
    names = _header_names(_first_line(data).decode("utf-8", errors="replace"), sep)
    line_start = data.rfind(b"\n", 0, offset) + 1
    prefix = data[line_start:offset].decode("utf-8", errors="replace")
    index = len(_header_names(prefix, sep)) - 1
    return names[index] if 0 <= index < len(names) and names[index] else None


def _first_line(data: bytes) -> bytes:
    start = len(data) - len(data.lstrip(b"\r\n")) if data[:1] in (b"\r", b"\n") else 0
    end = data.find(b"\n", start)
    return (data[start:] if end < 0 else data[start:end]).rstrip(b"\r")


def _read_delimited(data: bytes, file: str, ext: str, gz: bool) -> pd.DataFrame:
    """CSV (normal quoting) or TSV (no quoting) via pyarrow's reader; every cell read as a string."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sep = "\t" if ext == ".tsv" else ","
    kind = _KIND[ext]
    header = _decode(_first_line(data), file, ext, gz)
    if not header.strip():
        _fail(file, "has no header row (the file contains only blank lines)")
    if sep == "," and "," not in header:
        if "\t" in header:
            _fail(file, "looks tab-separated (the header has tabs, no commas); "
                        "rename it to .tsv or save it comma-separated")
        if ";" in header:
            _fail(file, "looks semicolon-separated (the header has ';', no commas); save it comma-separated (CSV)")
    if sep == "\t" and "\t" not in header and "," in header:
        _fail(file, "looks comma-separated (the header has commas, no tabs); rename it to .csv")
    n_fields = header.count(sep) + 1
    if n_fields > _MAX_COLUMNS:
        _fail(file, f"the header line has {n_fields:,} fields; this does not look like a {kind} table")
    names = _header_names(header, sep)
    counts = Counter(n for n in names if n.strip())
    dupes = sorted(n for n, count in counts.items() if count > 1)
    if dupes:
        _fail(file, f"duplicate column name {dupes[0]!r} in the header; column names must be unique")

    if not data.endswith(b"\n"):
        data += b"\n"  # pyarrow needs a terminated header line
    block_size = min(max(len(data) + 1, 1 << 20), 1 << 30)  # one block: a very long row cannot straddle blocks
    generated = [f"f{i}" for i in range(len(names))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=block_size),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"' if sep == "," else False,
                                              double_quote=True, newlines_in_values=sep == ","),
            convert_options=pacsv.ConvertOptions(column_types={g: pa.string() for g in generated},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        table = table.slice(1)  # the first parsed row is the header
        frame = table.to_pandas()
    except (pa.ArrowException, ValueError, OverflowError, MemoryError) as exc:
        if "utf8" in str(exc).lower() or "utf-8" in str(exc).lower():
            _decode(data, file, ext, gz)  # raises with the offset / line
        _raise_parse_error(data, file, sep, exc)
    if frame.shape[1] != len(names):
        _fail(file, f"could not be parsed as {kind}: the header row has {len(names)} fields but the parser "
                    f"found {frame.shape[1]}")
    if len(frame) == 0:
        _fail(file, "has a header row but no data rows")
    frame.columns = [name if name else f"Unnamed: {i}" for i, name in enumerate(names)]
    return frame


def _header_names(header: str, sep: str) -> list[str]:
    if sep == "\t":
        return header.split("\t")
    try:
        return next(csv.reader([header]))
    except (csv.Error, StopIteration):
        return header.split(",")


def _raise_parse_error(data: bytes, file: str, sep: str, exc: Exception) -> NoReturn:
    kind = "CSV" if sep == "," else "TSV"
    ragged = _find_ragged_row(data, sep)
    if ragged is not None:
        row, line, got, expected, quoted = ragged
        if quoted and sep == ",":
            hint = "check for an unclosed quote (a quoted cell runs on until the next quote)"
        elif got > expected:
            hint = "a cell that contains a comma must be quoted" if sep == "," else "a cell contains a tab character"
        else:
            hint = "a cell is missing"
        fields = f"{got} field{'s' if got != 1 else ''}"
        _fail(file, f"row has {fields} but the header has {expected} (line {line}); {hint}", row=row)
    detail = str(exc).replace("CSV parse error: ", "").strip()
    _fail(file, f"could not be parsed as {kind}: {_preview(detail, 200)}")


def _find_ragged_row(data: bytes, sep: str) -> tuple[int, int, int, int, bool] | None:
    """(data row, line, fields, header fields, has quote) of the first row whose field count differs from
    the header's (error path only; None when the csv module cannot tell)."""
    quoting = csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL
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
    lines = text.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        _fail(file, "contains no sentences (only blank lines)")
    return pd.DataFrame({"sentence": pd.Series(lines, dtype=str).str.removesuffix("\r")})


def _read_json(text: str, file: str) -> pd.DataFrame:
    """JSON lines (one object per line; blank lines skipped) or, for .json, a JSON array of objects."""
    if not text.strip():
        _fail(file, "contains no records (only whitespace)")
    if text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            _fail(file, f"invalid JSON on line {exc.lineno}, column {exc.colno}: {exc.msg}")
        except RecursionError:
            _fail(file, "invalid JSON: nested too deeply")
        if not all(isinstance(r, dict) for r in records):
            _fail(file, "the JSON array must contain only objects like {\"sentence1\": ..., \"sentence2\": ...}")
    else:
        lines = pd.Series(text.split("\n"), dtype=str).str.strip()
        nonblank = _bool_array(lines != "")
        content = lines[nonblank]
        line_numbers = np.flatnonzero(nonblank) + 1
        not_object = ~_bool_array(content.str.startswith("{"))
        if not_object.any():
            first = int(np.flatnonzero(not_object)[0])
            _raise_json_line(file, content.iat[first], int(line_numbers[first]))
        try:
            records = json.loads("[" + ",".join(content.tolist()) + "]")
        except (json.JSONDecodeError, RecursionError):
            records = None
        if records is None or len(records) != len(content):
            for i, line in enumerate(content.tolist()):  # error path only: find the offending line
                try:
                    json.loads(line)
                except (json.JSONDecodeError, RecursionError):
                    _raise_json_line(file, line, int(line_numbers[i]))
            _fail(file, "could not be read as JSON lines (each line must be one JSON object)")
    if not records:
        _fail(file, "contains no records")
    frame = pd.DataFrame.from_records(records)
    return _as_text_frame(frame)


def _raise_json_line(file: str, line: str, line_number: int) -> NoReturn:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        _fail(file, f"invalid JSON on line {line_number}: {exc.msg} (at character {exc.pos + 1})", row=line_number)
    except RecursionError:
        _fail(file, f"invalid JSON on line {line_number}: nested too deeply", row=line_number)
    kind = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")
    _fail(file, f"line {line_number} is a JSON {kind}, not an object; each line must be one object like "
                "{\"sentence1\": ..., \"sentence2\": ...}", row=line_number)


def _read_parquet(path: Path, file: str) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        _fail(file, f"cannot read the file: {exc.strerror or exc}")
    if size == 0:
        _fail(file, "file is empty (0 bytes)")
    try:
        table = pq.read_table(path)
        frame = table.to_pandas(ignore_metadata=True)  # a stored pandas index comes back as a column
    except (pa.ArrowException, OSError, ValueError, TypeError, NotImplementedError) as exc:
        hint = "" if head == b"PAR1" else " (it does not start with the Parquet magic bytes 'PAR1')"
        _fail(file, f"is not a valid Parquet file{hint}: {exc}")
    if len(frame) == 0:
        _fail(file, "has columns but no data rows")
    frame.columns = [str(c) for c in frame.columns]
    return _as_text_frame(frame.reset_index(drop=True))


def _as_text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every column as text; missing values stay missing (NaN)."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        if not pd.api.types.is_string_dtype(column) or column.dtype == object:
            column = column.astype(str).mask(column.isna())
        out[str(name)] = column
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


# -------------------------------------------------------------------------------------------- column mapping
def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name).lower())


def _apply_column_map(frame: pd.DataFrame, column_map: dict[str, str] | None, file: str
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
            _fail(file, f"column_map maps {file_col!r} to {target!r}, which is not one of: "
                        f"{', '.join(CANONICAL_COLUMNS)}", column=str(file_col))
        if file_col in columns:
            actual = file_col
        else:
            loose = [c for c in columns if c.strip().lower() == str(file_col).strip().lower()]
            if len(loose) != 1:
                _fail(file, f"column_map refers to column {file_col!r}, which is not in the file "
                            f"(found: {_column_list(columns)})")
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


def match_columns(columns: Iterable[str], targets: Iterable[str] = ("sentence1", "sentence2", "score", "label")
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
    return Problem(file, None, None, f"missing column {canonical!r} (found: {found}); "
                                     f"map it with column_map={{'your_col': {canonical!r}}}")


# ------------------------------------------------------------------------------------------------ validation
def _clean_sentences(raw: pd.Series, canonical: str, column: str, log: _ProblemLog) -> pd.Series:
    """Strip sentences; log missing / empty / whitespace-only cells."""
    stripped = raw.str.strip()
    missing = _bool_array(raw.isna())
    empty = _bool_array(stripped == "") & ~missing
    log.add_rows(missing, column, lambda i: f"{canonical} is missing")
    log.add_rows(empty, column, lambda i: f"{canonical} is empty" if raw.iat[i] == "" else
                 f"{canonical} is empty (whitespace only)")
    return stripped.reset_index(drop=True)


def _parse_numbers(raw: pd.Series, canonical: str, column: str, log: _ProblemLog) -> np.ndarray:
    """Parse label/score cells to float64 (NaN where invalid); 'true'/'false' count as 1/0."""
    text = raw.str.strip()
    lowered = text.str.lower()
    missing = _bool_array(raw.isna())
    empty = _bool_array(text == "") & ~missing
    boolean = _bool_array(lowered.isin(["true", "false"]))
    parsed = pd.to_numeric(text.mask(boolean), errors="coerce")
    values = np.array(parsed.to_numpy(dtype=float, na_value=np.nan), dtype=float)  # writable copy
    values[boolean] = _bool_array(lowered[boolean] == "true").astype(float)
    nan = np.isnan(values)
    non_finite = np.isinf(values) | (nan & _bool_array(lowered.isin(_NAN_WORDS)))
    not_number = nan & ~missing & ~empty & ~non_finite

    def not_number_message(i: int) -> str:
        cell = str(raw.iat[i]).strip()
        hint = " (use '.' as the decimal separator)" if re.fullmatch(r"[+-]?\d+,\d+", cell) else ""
        return f"{canonical} is not a number: {_preview(cell)}{hint}"

    log.add_rows(missing, column, lambda i: f"{canonical} is missing")
    log.add_rows(empty, column, lambda i: f"{canonical} is empty")
    log.add_rows(not_number, column, not_number_message)
    log.add_rows(non_finite, column,
                 lambda i: f"{canonical} is not a finite number: {_preview(str(raw.iat[i]).strip())}")
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


def _pair_warnings(s1: pd.Series, s2: pd.Series, labels: np.ndarray | None, file: str, drop: bool
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
        warnings.append(Problem(
            file, int(rows[0]) if single else None, None,
            "sentence1 and sentence2 are identical (kept)" if single else
            f"{len(rows)} rows have identical sentence1 and sentence2 (kept): rows {listed}{more}",
        ))
    return keep, dropped, warnings


# ----------------------------------------------------------------------------------------------- public API
def read_table(path: PathLike, *, column_map: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a .csv/.tsv/.txt/.jsonl/.json/.parquet file (or gzip'd text) as text cells.

    `column_map` renames FILE columns to canonical names (sentence1, sentence2, score, label, sentence).
    Raises DataError for anything unreadable; no pandas/pyarrow/decoding exception escapes.
    """
    frame = _read_raw(path)
    frame, _ = _apply_column_map(frame, column_map, str(path))
    return frame


def load_pairs(path: PathLike, *, column_map: dict[str, str] | None = None, task: Task | None = None,
               scale: tuple[float, float] | None = None, drop_duplicates: bool = True) -> PairSet:
    """Load labeled pairs: validate every row, detect the task and score scale, normalise labels."""
    scale = _check_arguments(task, scale)
    file = str(path)
    frame, origin = _apply_column_map(_read_raw(path), column_map, file)
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
        missing.append(Problem(file, None, None, f"missing column 'score' or 'label' (found: {found_names}); "
                                                 "map it with column_map={'your_col': 'score'}"))
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
    s1 = _clean_sentences(frame[found["sentence1"]], "sentence1", origin[found["sentence1"]], log)
    s2 = _clean_sentences(frame[found["sentence2"]], "sentence2", origin[found["sentence2"]], log)
    raw_target = frame[target_column]
    values = _parse_numbers(raw_target, target, target_name, log)
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
        resolved = "classification"   # a label-named column with non-0/1 values: each such row is an error

    final_scale: tuple[float, float] | None = None
    if resolved == "classification":
        log.add_rows(valid & ~is_binary, target_name, not_binary_message)
    elif scale is not None:
        low, high = scale
        outside = valid & ((values < low) | (values > high))
        log.add_rows(outside, target_name, lambda i: f"{target} {str(raw_target.iat[i]).strip()} is outside "
                                                     f"the scale {low:g}..{high:g}")
        final_scale = scale
    elif valid.any():
        low, high = float(values[valid].min()), float(values[valid].max())
        if low >= 0 and high <= 1:
            final_scale = (0.0, 1.0)
        elif low >= 0 and high <= 5:
            final_scale = (0.0, 5.0)
        else:
            suggestion = _suggest_scale(low, high)
            log.add(f"scores range {low:g}..{high:g}; pass scale=(lo, hi), e.g. scale=({suggestion[0]:g}, "
                    f"{suggestion[1]:g})", column=target_name)
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
    return PairSet(frame=out, task=resolved, source=file, scale=final_scale,
                   duplicates_dropped=dropped, warnings=warnings)


def load_unlabeled(path: PathLike, *, column_map: dict[str, str] | None = None) -> SentencePool:
    """Load unlabeled sentences: a pair file (sentence1/sentence2), one sentence column, or a .txt file.

    Label/score columns are ignored. Duplicate sentences are merged silently (counted in duplicates_dropped);
    in a pair file duplicates_dropped counts the duplicate pairs dropped (as in load_pairs).
    """
    file = str(path)
    frame, origin = _apply_column_map(_read_raw(path), column_map, file)
    columns = list(frame.columns)
    explicit = set((column_map or {}).values())
    first = _find_column(columns, "sentence1", set())
    second = _find_column(columns, "sentence2", {first} if first else set())
    single = _find_column(columns, "sentence", {c for c in (first, second) if c})
    log = _ProblemLog(file)

    if first and second and not ("sentence" in explicit and single):
        s1 = _clean_sentences(frame[first], "sentence1", origin[first], log)
        s2 = _clean_sentences(frame[second], "sentence2", origin[second], log)
        log.raise_if_any()
        keep, dropped, warnings = _pair_warnings(s1, s2, None, file, drop=True)
        pairs = pd.DataFrame({"sentence1": s1, "sentence2": s2})
        if not keep.all():
            pairs = pairs[keep].reset_index(drop=True)
        return SentencePool(sentences=_unique_interleaved(pairs["sentence1"], pairs["sentence2"]), pairs=pairs,
                            source=file, duplicates_dropped=dropped, warnings=warnings)

    if single is None and len(columns) == 1:
        single = columns[0]
    if single is None:
        found_names = _column_list(origin.values())
        _fail(file, f"no sentence column found (found: {found_names}); map one with "
                    "column_map={'your_col': 'sentence'}, or two with 'sentence1' and 'sentence2'")
    cleaned = _clean_sentences(frame[single], "sentence", origin[single], log)
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

    Raises ValueError for an unsupported extension, or for text with tabs/newlines when writing .tsv (no quoting).
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
            frame.to_csv(temp, sep="\t", index=False, encoding="utf-8", lineterminator="\n", quoting=csv.QUOTE_NONE)
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
                raise ValueError(f"column {name!r} row {int(np.flatnonzero(bad)[0]) + 1} contains a tab or newline; "
                                 "TSV is written without quoting: write .csv, .jsonl or .parquet instead")


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
