"""Reading JSON tables, bounded and strict: a JSON array of records read in chunks, or JSON lines; numbers, booleans,
objects and arrays are read as their text and noted as non-text cells."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import NoReturn

import numpy as np
import pandas as pd

from .problems import DataError, _bool_array, _fail
from .table_limits import (
    _ARRAY,
    _BOOLEAN,
    _JSON_NAMES,
    _NUMBER,
    _OBJECT,
    _check_lines,
    _limit,
    _Odd,
    _over_limit,
    _Raw,
    _split_lines,
)

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
