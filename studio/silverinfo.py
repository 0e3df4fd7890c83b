"""A run's silver pairs for the Silver page: loaded, reviewed (review.json), exported, their sampler mix and KS
distances, and the most suspicious first."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from augsbert_core import review as core_review
from augsbert_core.distributions import distribution_distance
from augsbert_core.runs import Run, RunFiles

from .runfiles import _number


def load_silver(run_dir: str | Path) -> pd.DataFrame | None:
    """silver.csv (scenarios 2, 3) or augmented.csv (scenario 1) with a stable `row` id, or None."""
    for name in (RunFiles.SILVER, RunFiles.AUGMENTED):
        path = Path(run_dir) / name
        if path.is_file():
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            break
    else:
        return None
    for col in ("score", "label"):
        if col in frame:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    if "score" not in frame and "label" in frame:
        frame["score"] = frame["label"]
    frame["kept"] = frame["kept"].str.lower().eq("true") if "kept" in frame else True
    if "sampler" not in frame:
        frame["sampler"] = "augmented"
    frame.insert(0, "row", np.arange(len(frame)))
    return frame


def review_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / RunFiles.REVIEW


def load_review(run_dir: str | Path) -> dict[int, dict[str, Any]]:
    """{row: {'wrong': bool, 'score': float | None}} from review.json (empty when there is none)."""
    return core_review.load_review(run_dir)


def save_review(run: Run | str | Path, review: dict[int, dict[str, Any]]) -> Path:
    """Write review.json (only rows marked wrong or with a corrected score) and note it in the run's log."""
    return core_review.save_review(run.dir if isinstance(run, Run) else Path(run), review)


def unit_score(value: Any, scale: tuple[float, float] | None = None) -> float | None:
    """A score typed on the dataset's scale (e.g. 4 on 1-5) as stored on 0-1 (0.75), clipped to 0-1; None when
    empty or not a number."""
    number = _number(value)
    if number is None:
        return None
    low, high = scale or (0.0, 1.0)
    return float(np.clip((number - low) / (high - low), 0.0, 1.0))


def merge_review(
    review: dict[int, dict[str, Any]], edited: pd.DataFrame, scale: tuple[float, float] | None = None
) -> dict[int, dict[str, Any]]:
    """The saved review updated with the rows of an edited table (columns row, wrong, corrected_score; the
    corrected score on the dataset's `scale`, stored on 0-1)."""
    merged = dict(review)
    for row in edited.itertuples(index=False):
        merged[int(row.row)] = {"wrong": bool(row.wrong), "score": unit_score(row.corrected_score, scale)}
    return {k: v for k, v in merged.items() if v["wrong"] or v["score"] is not None}


def pending_review(
    review: dict[int, dict[str, Any]],
    rows: list[int],
    edited_rows: dict[Any, dict[str, Any]],
    scale: tuple[float, float] | None = None,
) -> dict[int, dict[str, Any]]:
    """The saved review with a table's unsaved edits applied: `edited_rows` is st.data_editor's state
    ({position: {column: value}}) over a page whose positions hold the silver `rows`; corrected scores typed on
    the dataset's `scale` are stored on 0-1."""
    out = {row: dict(v) for row, v in review.items()}
    for position, changes in (edited_rows or {}).items():
        try:
            row = int(rows[int(position)])
        except (IndexError, TypeError, ValueError):
            continue
        entry = out.get(row, {"wrong": False, "score": None})
        if "wrong" in changes:
            entry["wrong"] = bool(changes["wrong"])
        if "corrected_score" in changes:
            entry["score"] = unit_score(changes["corrected_score"], scale)
        out[row] = entry
    return {k: v for k, v in out.items() if v.get("wrong") or v.get("score") is not None}


def review_editor_key(run_id: str, rows: list[int]) -> str:
    """The Silver page's review table key: one per run and set of rows shown, so a new filter starts a fresh table."""
    return "sv_editor_" + hashlib.sha1((run_id + ",".join(map(str, rows))).encode()).hexdigest()[:12]


review_summary = core_review.review_summary


review_file = core_review.review_file  # the Silver page's Label Studio / Argilla downloads


import_review_text = core_review.import_review_text  # and its upload of their export


def apply_review(silver: pd.DataFrame, review: dict[int, dict[str, Any]]) -> pd.DataFrame:
    """Silver pairs with review columns: wrong, corrected_score, final_score, used (kept and not wrong)."""
    out = silver.copy()
    wrong = np.zeros(len(out), dtype=bool)
    corrected = np.full(len(out), np.nan)
    for row, value in review.items():
        if 0 <= row < len(out):
            wrong[row] = bool(value.get("wrong"))
            if value.get("score") is not None:
                corrected[row] = float(value["score"])
    out["wrong"] = wrong
    out["corrected_score"] = corrected
    out["final_score"] = np.where(np.isnan(corrected), out["score"].to_numpy(dtype=float), corrected)
    out["used"] = out["kept"].to_numpy(dtype=bool) & ~wrong
    return out


def silver_export(frame: pd.DataFrame, scale: tuple[float, float] | None = None) -> pd.DataFrame:
    """Reviewed silver pairs as exported: without the page's `row` id, review columns named as in the run files
    (review_wrong, review_score, both scores on 0-1 as in silver.csv) and `used` (kept for training and not marked
    wrong). With the dataset's `scale` (e.g. (1, 5)), `score_on_scale` and `review_score_on_scale` follow on it."""
    out = frame.drop(columns=[c for c in ("row",) if c in frame])
    out = out.rename(columns={"wrong": "review_wrong", "corrected_score": "review_score"})
    if scale is not None:
        low, high = scale
        for column in ("score", "review_score"):
            if column in out:
                out[f"{column}_on_scale"] = low + out[column].astype(float) * (high - low)
    return out


def sampler_mix_text(summary: dict[str, Any]) -> str | None:
    """A mixed run's shares from silver_summary.json, e.g. 'bm25 70% · random 30% (requested 70/30)'; None for a
    single sampler."""
    shares = summary.get("sampler_shares") or {}
    requested, achieved = shares.get("requested") or {}, shares.get("achieved") or {}
    if not requested:
        return None

    def pct(share: float) -> str:
        return f"{round(100 * float(share), 1):g}"

    got = " · ".join(f"{name} {pct(achieved.get(name, 0))}%" for name in requested)
    return f"{got} (requested {'/'.join(pct(share) for share in requested.values())})"


def ks_distances(summary: dict[str, Any], silver: pd.DataFrame, gold: pd.Series | None) -> dict[str, float | None]:
    """Kolmogorov-Smirnov distance of the silver labels to gold, {'all': ..., 'kept': ...}: the run's own numbers
    from silver_summary.json, computed here when the summary has none (older runs, scenario 1)."""
    out: dict[str, float | None] = {}
    labels = silver["label"] if "label" in silver else silver["score"]
    for key, mask in (("all", None), ("kept", silver["kept"].to_numpy(dtype=bool))):
        value = _number(summary.get(f"ks_{key}_vs_gold"))
        if value is None and gold is not None and len(gold):
            sample = labels if mask is None else labels[mask]
            value = _number(distribution_distance(pd.to_numeric(sample, errors="coerce").dropna(), gold.astype(float)))
        out[key] = value
    return out


# --- silver pairs, most suspicious first ---------------------------------------------------------------------------
SUSPICION_WHY = {
    "disagreement": "most suspicious first: silver pairs have no gold label, so a pair is suspect when its two "
    "witnesses disagree: the teacher's score and the gold-only bi-encoder's cosine (both stored in silver.csv), "
    "compared as percentile ranks among this run's pairs",
    "undecided": "most suspicious first: silver pairs have no gold label and this run stored only the teacher's "
    "score, so a pair is suspect when that score is closest to undecided (the classification threshold, else the "
    "middle of the scale)",
}


def silver_suspicion(silver: pd.DataFrame, threshold: float | None = None) -> tuple[pd.Series, str]:
    """How suspicious each silver label is, from what the run stored, and which definition was used ('disagreement'
    or 'undecided', see SUSPICION_WHY). Higher = more suspicious; aligned with `silver`'s index."""
    bi = silver.get("score_bi_encoder")
    if bi is not None and len(silver) > 1 and bi.notna().all():
        teacher = silver["score_cross_encoder"] if "score_cross_encoder" in silver else silver["score"]
        return (teacher.rank(pct=True) - bi.rank(pct=True)).abs(), "disagreement"
    middle = 0.5 if threshold is None else float(threshold)
    return 1.0 - (silver["score"] - middle).abs() / max(middle, 1.0 - middle), "undecided"
