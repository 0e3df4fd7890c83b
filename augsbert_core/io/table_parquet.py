"""Reading Parquet tables, bounded and strict: the footer's sizes checked first, columns decoded batch by batch,
binary columns as strict UTF-8, nested columns shown as their type and noted as non-text."""

from __future__ import annotations

import os
from collections import Counter
from typing import BinaryIO, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .problems import DataError, _bool_array, _fail
from .table_limits import _BOOLEAN, _NUMBER, _OTHER, _limit, _Odd, _over_limit, _Raw, _size

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
