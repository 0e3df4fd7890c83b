"""Labeled and unlabeled sentence data: column mapping, validation and task detection, and the public API
(`read_table`, `load_pairs`, `load_unlabeled`, `fingerprint`).

Files are read by `tables` as text cells, bounded and strict (limits AUGSBERT_MAX_ROWS, AUGSBERT_MAX_CELLS,
AUGSBERT_MAX_COLUMNS and AUGSBERT_MAX_BYTES; formats and limits are described there), so the validator sees the
raw cell; cells are then checked with vectorised pandas operations and `Problem` objects are built only for the
bad rows. Bad input raises `DataError` (a ValueError) that names the file, the 1-based data row and the column as
it is spelled in the file.

- Sentences must be text: a JSON number, boolean, object or array, or a typed Parquet value, in a sentence
  column is an error naming row and column (numbers too: a number where a sentence belongs is almost always the
  wrong column, and guessing its text form would hide that). Scores must be numbers (JSON numbers or numeric
  text); a boolean is read as 1/0 only in a label column of a classification task, never as a score. A cell of
  only whitespace or invisible characters (zero-width space, BOM, soft hyphen, other format characters) is empty.

Only pandas / numpy are used here (no streamlit, no torch).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .cells import (  # noqa: F401 - re-exported: importers keep their old home
    ScoreRange,
    _clean_sentences,
    _pair_warnings,
    _parse_numbers,
    _suggest_scale,
    detect_scale,
    suggest_scale,
)
from .columns import (  # noqa: F401 - ALIASES, CANONICAL_COLUMNS, match_columns: re-exported
    ALIASES,
    CANONICAL_COLUMNS,
    _apply_column_map,
    _column_list,
    _find_column,
    _norm,
    _pair_columns,
    match_columns,
)
from .problems import (
    MAX_PROBLEMS,  # noqa: F401 - re-exported (data.MAX_PROBLEMS)
    DataError,
    Problem,
    _bool_array,
    _fail,
    _ProblemLog,
)
from .table_limits import _BOOLEAN
from .tables import (
    MAX_BYTES,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_ROWS,
    SUPPORTED_EXTENSIONS,
    PathLike,
    _gunzip,  # noqa: F401 - re-exported for the tests (data._gunzip)
    _read_raw,
    check_writable_table,
    formula_cells,
    safe_for_spreadsheet,
    write_table,
)

__all__ = [
    "match_columns",
    "Task",
    "Problem",
    "DataError",
    "PairSet",
    "SentencePool",
    "SUPPORTED_EXTENSIONS",
    "ALIASES",
    "ScoreRange",
    "detect_scale",
    "suggest_scale",
    "score_range",
    "read_table",
    "load_pairs",
    "load_unlabeled",
    "fingerprint",
    "write_table",
    "check_writable_table",
    "formula_cells",
    "safe_for_spreadsheet",
    "MAX_ROWS",
    "MAX_CELLS",
    "MAX_COLUMNS",
    "MAX_BYTES",
]


# positive_pairs: positives only (every label 1, or anchor/positive columns without labels): negatives are mined
Task = Literal["regression", "classification", "positive_pairs"]


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
    rows: np.ndarray | None = None  # 1-based data row in the file of each kept pair (duplicates dropped leave gaps)

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


def _check_arguments(task: Task | None, scale: tuple[float, float] | None) -> tuple[float, float] | None:
    if task not in (None, "regression", "classification", "positive_pairs"):
        raise ValueError(f"task must be 'regression', 'classification', 'positive_pairs' or None, not {task!r}")
    if scale is None or task in ("classification", "positive_pairs"):  # a scale only matters for regression
        return None
    try:
        low, high = (float(v) for v in scale)
    except (TypeError, ValueError):
        raise ValueError(f"scale must be a (low, high) pair of numbers, not {scale!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high and math.isfinite(high - low)):
        raise ValueError(f"scale must be (low, high) with finite low < high and a finite span, not {scale!r}")
    return (low, high)


# ----------------------------------------------------------------------------------------------- public API
def _target(found: dict[str, str | None], column_map: dict[str, str] | None, task: Task | None) -> str:
    """'score' or 'label': the column a pair file's targets are read from (score, unless only a label column
    exists, the task is classification, or only the label was mapped explicitly)."""
    explicit = set((column_map or {}).values())
    if found["score"] is None:
        return "label"
    if found["label"] is None:
        return "score"
    if task == "classification" or ("label" in explicit and "score" not in explicit):
        return "label"
    return "score"


def read_table(path: PathLike, *, column_map: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a .csv/.tsv/.txt/.jsonl/.json/.parquet file (or gzip'd text) as text cells.

    `column_map` renames FILE columns to canonical names (sentence1, sentence2, score, label, sentence).
    Raises DataError for anything unreadable; no pandas/pyarrow/decoding exception escapes.
    """
    frame, _ = _apply_column_map(_read_raw(path).frame, column_map, str(path))
    return frame


def score_range(
    source: PathLike | pd.DataFrame, *, column_map: dict[str, str] | None = None, task: Task | None = None
) -> ScoreRange | None:
    """Low, high and 0/1-ness of the finite numbers in the score (or label) column `load_pairs` would use, found
    without validating the rest (other cells are the loader's to report); None without such a column or number.

    `source` is a file or a frame `read_table` returned; `column_map` is applied to either."""
    if isinstance(source, pd.DataFrame):
        frame, origin = _apply_column_map(source, column_map, "data")
    else:
        frame, origin = _apply_column_map(_read_raw(source).frame, column_map, str(source))
    found = match_columns(frame.columns)
    if found["score"] is None and found["label"] is None:
        return None
    column = found[_target(found, column_map, task)]
    assert column is not None
    text = frame[column].astype("string").str.strip().str.lower()
    boolean = _bool_array(text.isin(["true", "false"]))
    values = pd.to_numeric(text.mask(boolean), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    values[boolean] = _bool_array(text[boolean] == "true").astype(float)
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    return ScoreRange(
        column=origin.get(column, column),
        low=float(values.min()),
        high=float(values.max()),
        binary=bool(np.isin(values, (0.0, 1.0)).all()),
    )


def _resolve_task(task, scale, values: np.ndarray, valid: np.ndarray, is_binary: np.ndarray, target: str) -> Task:
    """The task: as given, regression with a scale, else what the values say (all 1: positive pairs; all 0/1:
    classification; a score column: regression; a label column with other values: classification, whose rows fail)."""
    if task is not None:
        return task
    if scale is not None:
        return "regression"
    if valid.any() and bool(np.all(values[valid] == 1.0)):
        return "positive_pairs"  # every label 1: positives only, negatives are mined (mining.py)
    if valid.any() and bool(np.all(is_binary[valid])):
        return "classification"
    return "regression" if target == "score" else "classification"


def _checked_scale(scale, values, valid, raw_target, target: str, target_name: str, log) -> tuple[float, float] | None:
    """The score scale of a regression file: as given (rows outside it logged), else detected from the values
    (a range no usual scale fits is logged with a suggestion)."""
    if scale is not None:
        low, high = scale
        outside = valid & ((values < low) | (values > high))
        log.add_rows(
            outside,
            target_name,
            lambda i: f"{target} {str(raw_target.iat[i]).strip()} is outside the scale {low:g}..{high:g}",
        )
        return scale
    if not valid.any():
        return None
    low, high = float(values[valid].min()), float(values[valid].max())
    detected = detect_scale(low, high)
    if detected is None:
        suggestion = _suggest_scale(low, high)
        log.add(
            f"scores range {low:g}..{high:g}; pass scale=(lo, hi), e.g. scale=({suggestion[0]:g}, {suggestion[1]:g})",
            column=target_name,
        )
    return detected


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
    found, positives_only = _pair_columns(frame, origin, file, task)
    if positives_only:
        return _load_positives_only(raw, frame, origin, found, file, drop_duplicates)

    target = _target(found, column_map, task)
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

    resolved = _resolve_task(task, scale, values, valid, is_binary, target)
    final_scale: tuple[float, float] | None = None
    if resolved in ("classification", "positive_pairs"):
        log.add_rows(valid & ~is_binary, target_name, not_binary_message)
    else:
        final_scale = _checked_scale(scale, values, valid, raw_target, target, target_name, log)
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

    if resolved in ("classification", "positive_pairs"):
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
        frame=out,
        task=resolved,
        source=file,
        scale=final_scale,
        duplicates_dropped=dropped,
        warnings=warnings,
        rows=np.flatnonzero(keep) + 1,
    )


def _load_positives_only(
    raw, frame: pd.DataFrame, origin: dict[str, str], found: dict[str, str | None], file: str, drop_duplicates: bool
) -> PairSet:
    """Pairs without a label column, each a positive (task positive_pairs): labels are all 1."""
    log = _ProblemLog(file)
    s1_col, s2_col = found["sentence1"], found["sentence2"]
    assert s1_col is not None and s2_col is not None
    s1 = _clean_sentences(frame[s1_col], "sentence1", origin[s1_col], log, raw.odd.get(origin[s1_col]))
    s2 = _clean_sentences(frame[s2_col], "sentence2", origin[s2_col], log, raw.odd.get(origin[s2_col]))
    log.raise_if_any()
    labels = np.ones(len(s1), dtype=np.int64)
    keep, dropped, warnings = _pair_warnings(s1, s2, labels, file, drop_duplicates)
    out = pd.DataFrame({"sentence1": s1, "sentence2": s2, "label": labels})
    if not keep.all():
        out = out[keep].reset_index(drop=True)
    return PairSet(
        frame=out, task="positive_pairs", source=file, scale=None, duplicates_dropped=dropped, warnings=warnings
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
