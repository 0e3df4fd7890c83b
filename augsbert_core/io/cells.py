"""Cleaning and reading the cells of a pair file: sentences with invisible characters only, scores as numbers (NaN
words refused), the score scale detected or suggested, and the warnings a pair file earns (`data` re-exports
them)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .problems import Problem, _bool_array, _preview, _ProblemLog
from .table_limits import _ARRAY, _OBJECT, _OTHER, _Odd

_MAX_LISTED_ROWS = 10  # rows named in one aggregated warning
_NAN_WORDS = ("nan", "+nan", "-nan")


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


def detect_scale(low: float, high: float) -> tuple[float, float] | None:
    """The score scale that scores from `low` to `high` are on, or None when they fit no known scale.

    0..1 for scores within 0 and 1; 1..5 for scores that run from exactly 1 to exactly 5 (SICK relatedness,
    1-5 ratings: the file reaches both ends and nothing lies below 1); 0..5 for other scores within 0 and 5."""
    if low >= 0 and high <= 1:
        return (0.0, 1.0)
    if low == 1 and high == 5:
        return (1.0, 5.0)
    if low >= 0 and high <= 5:
        return (0.0, 5.0)
    return None


def _suggest_scale(low: float, high: float) -> tuple[float, float]:
    if low >= -1 and high <= 1:
        return (-1, 1)
    for top in (10, 100):
        if low >= 0 and high <= top:
            return (0, top)
    return (math.floor(low), math.ceil(high))


def suggest_scale(low: float, high: float) -> tuple[float, float]:
    """The detected scale of scores from `low` to `high`, else a likely one (0..10, 0..100, -1..1, or the
    range rounded outwards) for a person to confirm."""
    detected = detect_scale(low, high)
    if detected is not None:
        return detected
    a, b = _suggest_scale(low, high)
    return (float(a), float(b))


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


@dataclass(frozen=True)
class ScoreRange:
    """The numbers of the column `load_pairs` reads a pair file's scores (or labels) from."""

    column: str  # as spelled in the file
    low: float
    high: float
    binary: bool  # only 0 and 1: a classification task, which has no scale

    @property
    def detected(self) -> tuple[float, float] | None:
        """The scale the loader detects (None for 0/1 labels or scores on no known scale)."""
        return None if self.binary else detect_scale(self.low, self.high)

    @property
    def suggested(self) -> tuple[float, float]:
        """The detected scale, else a likely one to confirm (`suggest_scale`)."""
        return suggest_scale(self.low, self.high)
