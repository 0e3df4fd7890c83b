"""A run directory as the pages read it: its JSON files and log, its predictions, and the model keys and titles
(the lowest of the run readers: `runinfo` re-exports it with the others). Every file is read through
`runs.Run`, the one reader of a run directory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from augsbert_core import choices
from augsbert_core.runs import Run, RunFiles, RunRecord

ENSEMBLE_KEY = choices.ENSEMBLE.model_key  # the teacher ensemble's model in metrics.json and predictions
MODEL_TITLES = {
    "zero_shot": "Zero-shot",
    "gold_only": "Gold-only",
    "full_gold": "Full gold (ceiling)",
    "augsbert": "AugSBERT",
    "teacher": "Teacher",
    "ensemble": "Teacher ensemble",
    "teacher_warm": "Teacher after the warm start",
}  # the last: a model folder, never in metrics.json


#: Models every run table lists (a column even when a run lacks one); the others only when some run has them.
BASE_MODELS = ("zero_shot", "gold_only", "augsbert", "teacher")
PREDICTION_MODELS = ("augsbert", "gold_only", "full_gold", "zero_shot", "teacher", "ensemble")  # scatter order
STATUS_ICONS = {
    "queued": ":material/hourglass_top:",
    "running": ":material/autorenew:",
    "finished": ":material/check_circle:",
    "failed": ":material/error:",
    "cancelled": ":material/stop_circle:",
    "interrupted": ":material/warning:",
}


def short_id(run_id: str) -> str:
    return run_id[-6:]


def run_label(record: RunRecord) -> str:
    """'s2-bm25 · finished · 11-27 14:02 · a1b2c3' for pickers (plain text)."""
    when = time.strftime("%m-%d %H:%M", time.localtime(record.created_at))
    return f"{record.name} · {record.status} · {when} · {short_id(record.id)}"


# ------------------------------------------------------------------------------------------------- files
def read_json(run_dir: str | Path, name: str, default: Any = None) -> Any:
    """A run file for display (`runs.Run.shown_json`): a missing, half-written, corrupt or mistyped file reads as
    `default`, so the page shows what it can."""
    return Run.at(run_dir).shown_json(name, default)


def read_log(run_dir: str | Path, lines: int = 60) -> str:
    return Run.at(run_dir).log_tail(lines)


# --------------------------------------------------------------------------------------------- predictions
def predictions_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / RunFiles.PREDICTIONS


def load_predictions(run_dir: str | Path) -> pd.DataFrame | None:
    """The test split's predictions (all rows of a file without splits); None before the run finished."""
    return Run.at(run_dir).predictions(split="test")


def gold_scale(run_dir: str | Path) -> tuple[float, float] | None:
    """The dataset's score scale (config.json data.scale, e.g. (0, 5)) that gold is shown on; None for
    classification runs and runs without one (gold is then 0-1 as stored)."""
    cfg = read_json(run_dir, RunFiles.CONFIG, {}) or {}
    scale = (cfg.get("data") or {}).get("scale") if isinstance(cfg, dict) else None
    if cfg.get("task") == "classification" or not isinstance(scale, (list, tuple)) or len(scale) != 2:
        return None
    try:
        low, high = float(scale[0]), float(scale[1])
    except (TypeError, ValueError):
        return None
    return (low, high) if high > low else None


def model_title(key: str) -> str:
    """'Teacher ensemble' for 'ensemble', 'AugSBERT' for 'augsbert'; unknown keys as they are."""
    return MODEL_TITLES.get(key, key)


def table_models(metrics_by_run: dict[str, dict]) -> list[str]:
    """Model keys for a table of runs: the base four, then any other known key (the ensemble, the full-gold
    ceiling) some run has. Non-model entries of metrics.json (`recommended`) never count."""
    extra = [
        k
        for k in MODEL_TITLES
        if k not in BASE_MODELS and any(isinstance(m.get(k), dict) for m in metrics_by_run.values())
    ]
    return [*BASE_MODELS, *extra]


def prediction_models(preds: pd.DataFrame) -> list[str]:
    """The model columns of a predictions frame, in display order."""
    return [k for k in PREDICTION_MODELS if k in preds.columns]


# ------------------------------------------------------------------------------------------------ numbers
def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out == out else None  # NaN -> None
