"""Reviewed gold labels: rows of the train file excluded or given a corrected score, kept as JSON beside the data
and applied to the gold when an experiment loads it (`data.gold_review`).

The file (written by the app's Data page, or by hand):

    {"train_fingerprint": "<data.fingerprint of the reviewed train file>",
     "rows": {"12": {"exclude": true, "sentence1": "...", "sentence2": "..."},
              "40": {"score": 3.5, "sentence1": "...", "sentence2": "..."}}}

Keys of `rows` are 1-based data rows of the train file (as in label_errors.csv and on the Data page); `score` is
on the file's own scale (e.g. 0-5; 0/1 for classification). The sentences guard against a review of another
file: a row whose sentences differ is an error naming the review file and the row."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import atomic_write_text, dumps_json
from ..config import unique_json_object
from .problems import DataError, Problem

GOLD_REVIEW_FILE = "gold_review.json"  # the app's name for it, beside the saved data
_ROW_KEY = re.compile(r"[1-9][0-9]{0,11}")  # a canonical 1-based row: "5", never "05", "+5" or "²"


def read_gold_review(path: str | Path, *, must_exist: bool = False) -> dict[str, Any]:
    """The review in `path`; DataError when it is not one. A file that does not exist is an empty review for the
    app (nothing reviewed yet) and an error with `must_exist` (a config's `data.gold_review` names a file)."""
    path = Path(path)
    if not path.exists():
        if must_exist:
            raise DataError([Problem(str(path), None, None, "gold review file not found (data.gold_review)")])
        return {"train_fingerprint": None, "rows": {}}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=unique_json_object)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError([Problem(str(path), None, None, f"not a readable gold review JSON: {exc}")]) from None
    rows = raw.get("rows") if isinstance(raw, dict) else None
    if not isinstance(rows, dict):
        raise DataError([Problem(str(path), None, None, "a gold review needs a 'rows' mapping of row -> decision")])
    clean: dict[str, dict[str, Any]] = {}
    for key, entry in rows.items():
        if not _ROW_KEY.fullmatch(str(key)) or not isinstance(entry, dict):
            raise DataError(
                [Problem(str(path), None, None, f"rows.{key!r}: expected a 1-based row number (as 12) and a mapping")]
            )
        score, exclude = entry.get("score"), entry.get("exclude")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            raise DataError([Problem(str(path), int(key), None, f"rows.{key}.score: not a number: {score!r}")])
        if exclude is not None and not isinstance(exclude, bool):  # "false" is a non-empty string: truthy
            raise DataError([Problem(str(path), int(key), None, f"rows.{key}.exclude: not true/false: {exclude!r}")])
        clean[key] = dict(entry)
    return {"train_fingerprint": raw.get("train_fingerprint"), "rows": clean}


def write_gold_review(path: str | Path, train_fingerprint: str, rows: dict[int, dict[str, Any]]) -> Path:
    """Write a review (only rows excluded or re-scored are kept), atomically; returns the path."""
    kept = {
        str(int(row)): {k: v for k, v in entry.items() if v is not None}
        for row, entry in sorted(rows.items(), key=lambda item: int(item[0]))
        if entry.get("exclude") or entry.get("score") is not None
    }
    path = Path(path)
    atomic_write_text(path, dumps_json({"train_fingerprint": train_fingerprint, "rows": kept}, indent=2) + "\n")
    return path


def apply_gold_review(
    frame: pd.DataFrame,
    rows: np.ndarray,
    review: dict[str, Any],
    *,
    source: str,
    scale: tuple[float, float] | None,
    task: str,
    fingerprint: str | None = None,
) -> tuple[pd.DataFrame, np.ndarray, dict[str, int]]:
    """The gold pairs (and their 1-based file rows) with the review applied: excluded rows dropped, corrected
    scores normalised like the file's labels. DataError names `source` (the review file) and the row when the review
    is of another file (fingerprint or sentences differ), a row is not in the file or a score is off the scale."""
    wanted = review.get("train_fingerprint")
    if fingerprint is not None and wanted and wanted != fingerprint:
        raise DataError(
            [
                Problem(
                    source,
                    None,
                    None,
                    f"reviews a different train file (fingerprint {wanted}, the train file is {fingerprint}); "
                    "review the new file or drop data.gold_review",
                )
            ]
        )
    out = frame.copy()
    position = {int(r): i for i, r in enumerate(rows)}
    drop: list[int] = []
    counts = {"excluded": 0, "corrected": 0}
    for key, entry in review.get("rows", {}).items():
        row = int(key)
        if row not in position:
            raise DataError([Problem(source, row, None, "this row is not a pair of the train file (or a duplicate)")])
        i = position[row]
        for column in ("sentence1", "sentence2"):
            if column in entry and entry[column] != out[column].iat[i]:
                raise DataError(
                    [
                        Problem(
                            source, row, column, "the reviewed sentence differs from the train file's: a stale review"
                        )
                    ]
                )
        if entry.get("exclude"):
            drop.append(i)
            counts["excluded"] += 1
        elif entry.get("score") is not None:
            out.iat[i, out.columns.get_loc("label")] = _normalised(float(entry["score"]), source, row, scale, task)
            counts["corrected"] += 1
    keep = np.ones(len(out), dtype=bool)
    keep[drop] = False
    return out[keep].reset_index(drop=True), np.asarray(rows)[keep], counts


def _normalised(score: float, source: str, row: int, scale: tuple[float, float] | None, task: str) -> float:
    if task == "classification":
        if score not in (0.0, 1.0):
            raise DataError([Problem(source, row, "score", f"a corrected label must be 0 or 1, got {score:g}")])
        return int(score)
    low, high = scale or (0.0, 1.0)
    if not low <= score <= high:
        raise DataError(
            [Problem(source, row, "score", f"corrected score {score:g} is outside the scale {low:g}..{high:g}")]
        )
    return (score - low) / (high - low)
