"""What the stakeholder report reads of a run (`_RunView`: its record, config, metrics, gate, speed, data and silver
labels, the device and sizes from its log), and the words and formats every part of the report shares."""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import registry, stages
from ..config import role_column_map
from ..errors import AugsbertError, ConfigError
from ..evaluation import MODEL_KEYS, PRIMARY_METRIC, model_metrics, recommendation_of, recommended_of, schedules_of
from ..io import data as data_mod
from ..runs import Run, RunFiles, RunRecord, read_record

MODEL_TITLES = {
    "zero_shot": "Zero-shot",
    "gold_only": "Gold-only",
    "augsbert": "AugSBERT",
    "full_gold": "Full gold (ceiling)",
    "teacher": "Teacher",
    "ensemble": "Teacher ensemble",
}


METRIC_TITLES = {
    "spearman": "Spearman",
    "ap": "Average precision",
    "f1": "F1",
    "precision": "Precision",
    "recall": "Recall",
    "accuracy": "Accuracy",
}


DATA_ROLES = ("train", "dev", "test", "unlabeled", "source_train", "source_dev", "full_train")
SCATTER_POINTS = 2_000  # test pairs drawn at most per scatter (a sample with a fixed seed beyond that)
RUN_COLORS = ["#54A24B", "#4C78A8", "#E45756", "#8E6CCF", "#F2A33A", "#2CA58D", "#B279A2", "#1F9BD1"]


GOLD_COLOR, SILVER_COLOR = "#F2A33A", "#4C78A8"


FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'


def esc(value: Any) -> str:
    """User text as HTML text (quotes too)."""
    return html.escape(str(value), quote=True)


@dataclass
class _RunView:
    """What the report shows of one finished run, read once from its directory."""

    dir: Path
    record: RunRecord
    config: dict[str, Any]
    metrics: dict[str, dict[str, dict[str, float]]]
    task: str
    recommended: str | None
    gate: dict[str, Any] | None
    silver_summary: dict[str, Any] | None
    fingerprints: dict[str, Any]
    speed: dict[str, Any] | None  # speed.json: each model's pairs/s
    device: str | None
    sizes: dict[str, int] = field(default_factory=dict)
    predictions: pd.DataFrame | None = None
    label: str = ""  # the run's name in charts (with its short id when two runs share a name)
    recommendation: dict[str, Any] | None = None  # metrics.json `recommendation`: the rule's record and reason
    schedules: dict[str, Any] = field(default_factory=dict)  # metrics.json `schedules`: each student's training
    dataset: str = ""  # the data's name in the title and the summary

    @property
    def primary(self) -> str:
        return PRIMARY_METRIC.get(self.task, "spearman")

    @property
    def baseline(self) -> str:
        """The model AugSBERT is measured against: gold-only, or zero-shot when the run has none (scenario 3)."""
        return "gold_only" if "gold_only" in self.metrics else "zero_shot"

    def value(self, model: str, split: str) -> float | None:
        v = (self.metrics.get(model) or {}).get(split, {}).get(self.primary)
        return float(v) if isinstance(v, (int, float)) else None


# ------------------------------------------------------------------------------------------------ reading
def _read_run(run_dir: Path) -> _RunView:
    if not run_dir.is_dir() or not any((run_dir / n).is_file() for n in (RunFiles.RECORD, RunFiles.CONFIG)):
        raise ConfigError(f"{run_dir}: not a run directory (no {RunFiles.RECORD})")
    record, run = read_record(run_dir), Run.at(run_dir)
    raw = run.metrics()
    if not isinstance(raw, dict) or not model_metrics(raw):
        raise ConfigError(
            f"run {record.id} is not finished (status {record.status}, no {RunFiles.METRICS}): a report needs "
            "finished runs"
        )
    config = run.config()
    metrics = model_metrics(raw)
    task = record.task or config.get("task") or _task_of(metrics)
    log = _read_log(run_dir)
    return _RunView(
        dir=run_dir,
        record=record,
        config=config,
        metrics=metrics,
        task=task,
        recommended=recommended_of(raw, task),
        recommendation=recommendation_of(raw),
        schedules=schedules_of(raw),
        gate=run.gate(),
        silver_summary=run.silver_summary(),
        fingerprints=run.read_json(RunFiles.FINGERPRINTS, {}),
        speed=run.read_json(RunFiles.SPEED),
        device=_logged_device(log),
        sizes=_logged_sizes(log),
        predictions=run.predictions(),
    )


def _task_of(metrics: dict[str, dict[str, dict[str, float]]]) -> str:
    has_spearman = any("spearman" in v for per in metrics.values() for v in per.values() if isinstance(v, dict))
    return "regression" if has_spearman else "classification"


def _read_log(run_dir: Path) -> str:
    try:
        return (run_dir / RunFiles.LOG).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _logged_device(log: str) -> str | None:
    """The device the run trained on, as the pipeline logged it ('[setup] device: CPU (2 cores)'); the last."""
    found = re.findall(rf"\[{re.escape(stages.SETUP)}\] device: ([^;\n]+)", log)
    return found[-1].strip() if found else None


def _logged_sizes(log: str) -> dict[str, int]:
    """Rows per data file as the pipeline logged them ('[data] task=...; dev=40, test=60, train=64, unlabeled
    sentences=60'), by role."""
    found = re.findall(rf"\[{re.escape(stages.DATA)}\] task=\w+; ([^\n]*)", log)
    sizes: dict[str, int] = {}
    for part in found[-1].split(", ") if found else []:
        key, _, value = part.partition("=")
        if value.strip().isdigit():
            sizes[key.strip().split(" ")[0]] = int(value)
    return sizes


def _data_path(run: _RunView, role: str) -> Path | None:
    value = (run.config.get("data") or {}).get(role)
    if not value:
        return None
    path = Path(value)
    if not path.is_absolute() and run.config.get("base_dir"):
        path = Path(run.config["base_dir"]) / path
    return path


def _silver_labels(run: _RunView) -> tuple[np.ndarray | None, str]:
    """The training labels of the kept silver pairs (scenario 1: the augmented pairs), and what they are."""
    for name, what in ((RunFiles.SILVER, "silver (kept)"), (RunFiles.AUGMENTED, "augmented")):
        path = run.dir / name
        if not path.is_file():
            continue
        frame = pd.read_csv(path, usecols=lambda c: c in ("label", "score", "kept"), keep_default_na=False)
        column = "label" if "label" in frame else "score"
        if column not in frame:
            return None, f"{name} has no label column"
        if "kept" in frame:
            frame = frame[frame["kept"].astype(str).str.lower().eq("true")]
        return pd.to_numeric(frame[column], errors="coerce").dropna().to_numpy(dtype=float), what
    return None, "this run has no silver pairs"


def _gold_labels(run: _RunView) -> tuple[np.ndarray | None, str]:
    """The gold labels silver is measured against: the train file's (normalised as the run saw them), or the dev
    split's from predictions.csv when the run had no training gold (scenario 3)."""
    path = _data_path(run, "train") if registry.gold_role(run.record.scenario) == "train" else None
    if path is not None:
        if not path.is_file():
            return None, f"gold train file {path.name} not found"
        recorded = run.fingerprints.get("train")
        if recorded and data_mod.fingerprint(path) != recorded:  # the chart would show today's file, not the run's
            return None, f"gold train file {path.name} changed since the run (its fingerprint differs)"
        data = run.config.get("data") or {}
        try:
            pairs = data_mod.load_pairs(
                path,
                column_map=role_column_map(data, "train"),
                scale=tuple(data["scale"]) if data.get("scale") else None,
            )
        except (AugsbertError, OSError, ValueError) as exc:
            return None, f"gold train file {path.name} could not be read ({' '.join(str(exc).split())[:200]})"
        run.sizes.setdefault("train", len(pairs))
        return pairs.frame["label"].to_numpy(dtype=float), "gold (train)"
    preds = run.predictions
    if preds is not None and "gold" in preds and (preds["split"] == "dev").any():
        dev_gold = pd.to_numeric(preds.loc[preds["split"] == "dev", "gold"], errors="coerce")
        return dev_gold.to_numpy(dtype=float), "gold (dev)"
    return None, "no gold labels to compare with"


# ------------------------------------------------------------------------------------------------ formats
def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}"


def _models_of(run: _RunView) -> list[str]:
    order = [k for k in MODEL_KEYS if k in run.metrics] + [k for k in run.metrics if k not in MODEL_KEYS]
    if run.recommended in order:
        order.remove(run.recommended)
        order.insert(0, run.recommended)
    return order


def _when(record: RunRecord) -> str:
    stamp = record.finished_at or record.created_at
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "–"


def _gain(run: _RunView, split: str = "test") -> float | None:
    augsbert, base = run.value("augsbert", split), run.value(run.baseline, split)
    return None if augsbert is None or base is None else augsbert - base
