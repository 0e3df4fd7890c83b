"""Columns of a data file: the canonical names (sentence1, sentence2, score, label, sentence), the aliases that
find them, a user's column map, and what a pairs file's columns say (labeled, or positives only)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from .problems import DataError, Problem, _fail

CANONICAL_COLUMNS: tuple[str, ...] = ("sentence1", "sentence2", "score", "label", "sentence")

#: Accepted column names per canonical column (matched case-insensitively, ignoring spaces, '_' and '-').
ALIASES: dict[str, tuple[str, ...]] = {
    "sentence1": ("sentence1", "s1", "text_a", "text1", "question1", "q1", "premise", "sentence_a", "anchor"),
    "sentence2": ("sentence2", "s2", "text_b", "text2", "question2", "q2", "hypothesis", "sentence_b", "positive"),
    "score": (
        "score",
        "similarity",
        "sim",
        "relatedness",
        "gold_score",
        "relatedness_score",  # SICK
        "similarity_score",
        "sim_score",
        "sts_score",
        "gold_label",  # a graded or 0/1 gold column: 0/1 numbers still make a classification task
    ),
    "label": ("label", "is_duplicate", "duplicate", "target", "y"),
    "sentence": ("sentence", "text", "question", "sentences", "query"),
}


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


def _pair_columns(frame: pd.DataFrame, origin: dict, file: str, task: str | None) -> tuple[dict, bool]:
    """{canonical name: the frame's column or None} for sentence1, sentence2, score and label, and whether the file
    holds positive pairs only (no label column: task positive_pairs given, or anchor/positive columns). Raises
    DataError naming every missing column."""
    columns = list(frame.columns)
    taken: set[str] = set()
    found: dict[str, str | None] = {}
    for canonical in ("sentence1", "sentence2", "score", "label"):
        found[canonical] = _find_column(columns, canonical, taken)
        if found[canonical] is not None:
            taken.add(found[canonical])
    missing = [_missing_column(file, c, origin) for c in ("sentence1", "sentence2") if found[c] is None]
    unlabeled = found["score"] is None and found["label"] is None
    positives_only = (
        unlabeled
        and not missing
        and (task == "positive_pairs" or (task is None and _norm(origin[found["sentence2"]]) == "positive"))
    )
    if unlabeled and not positives_only:
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
    return found, positives_only
