"""Writing tables: .csv, .tsv, .jsonl or .parquet, atomically, refusing what a reader would not read back; cells a
spreadsheet would run as formulas found and defused."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_path
from .problems import _bool_array
from .table_limits import PathLike, _split_extension

WRITABLE_EXTENSIONS: tuple[str, ...] = (".csv", ".tsv", ".jsonl", ".parquet")
_FORMULA_START = r"[=+\-@\t\r]"


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
