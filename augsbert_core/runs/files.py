"""A run directory's files: their names (`RunFiles`, the results contract, docs/results-contract.md) and reading them
(a corrupt file is a RunFileError naming the run and the file). The lowest room of the run store: `runs`
re-exports it."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from ..errors import RunFileError


class RunFiles:
    """The names of a run directory's files: written here once (they are part of the results contract,
    docs/results-contract.md); the pipeline, the CLI and the app refer to them by these names."""

    RECORD = "run.json"
    CONFIG = "config.json"
    FINGERPRINTS = "fingerprints.json"
    STATE = "state.json"
    GATE = "gate.json"
    ENSEMBLE = "ensemble.json"
    PROBE = "probe.json"
    TEACHER_SEARCH = "teacher_search.json"
    TEACHER_WARM = "teacher_warm.json"
    MINING = "mining.json"  # task positive_pairs: negatives mined, the filters used, the teacher's check
    MINED = "mined.csv"  # task positive_pairs: anchor, positive, negative, bi-encoder cosine, rank, use
    TRIPLETS = "triplets.csv"  # task positive_pairs: the AugSBERT student's (anchor, positive, negative) rows
    SILVER_SUMMARY = "silver_summary.json"
    METRICS = "metrics.json"
    METRICS_PARTIAL = "metrics.partial.json"
    TIMINGS = "timings.json"
    RESOLVED = "resolved.json"  # what every `auto` of the config resolved to for this run, device and data, once
    ESTIMATE = "estimate.json"  # the rough time the run was expected to take, per stage (estimate.py), at its start
    SPEED = "speed.json"  # pairs/s of each model on the test pairs (speed.py)
    REVIEW = "review.json"
    EVENTS = "events.jsonl"
    LOG = "log.txt"
    SILVER = "silver.csv"
    CANDIDATES = "candidates.csv"
    AUGMENTED = "augmented.csv"
    PREDICTIONS = "predictions.csv"
    LABEL_ERRORS = "label_errors.csv"  # gold train pairs ranked by how far each label is from a cross-fitted teacher
    METRICS_TXT = "metrics.txt"
    CANCEL = "CANCEL"
    MODELS = "models"  # models/<key>/: trained models in sentence-transformers format
    RAY = "ray"  # engine: ray: the labeling shards (Parquet) a killed driver resumes from; gone once labeled
    TENSORBOARD = "tensorboard"  # tracking: tensorboard: tensorboard/<training>/ event files of each training


RECORD_FILE = RunFiles.RECORD  # kept: older callers import it


def silver_labeler(run_dir: str | Path) -> str | None:
    """`Run.labeler` for a run directory; None when neither file says (no silver yet, scenario 1, unreadable)."""
    try:
        summary = read_run_json(run_dir, RunFiles.SILVER_SUMMARY)
        if isinstance(summary, dict) and isinstance(summary.get("labeler"), str):
            return summary["labeler"]
        ensemble = read_run_json(run_dir, RunFiles.ENSEMBLE)
    except RunFileError:
        return None
    if isinstance(ensemble, dict) and isinstance(ensemble.get("report"), dict):
        return "ensemble" if ensemble["report"].get("used") else "cross_encoder"
    return None


def read_run_json(run_dir: str | Path, name: str, default: Any = None) -> Any:
    """A JSON file of a run; RunFileError naming the run and the file when it is corrupt."""
    path = Path(run_dir) / name
    if not path.exists():
        return default
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFileError(
            f"run {Path(run_dir).name}: {name} is corrupt ({' '.join(str(exc).split())}); the run was left as it was"
        ) from None
    if name.endswith(".json") and default is not None and not isinstance(value, type(default)):
        raise RunFileError(
            f"run {Path(run_dir).name}: {name} holds a {type(value).__name__}, "
            f"not a {type(default).__name__}; the run was left as it was"
        )
    return value


@functools.lru_cache(maxsize=256)
def _read_events(path: str, size: int, mtime_ns: int) -> list[dict[str, Any]]:
    return read_events(path)  # size and mtime are the cache key: a new version of the file is read again


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """The progress events of an events.jsonl file ([] when it does not exist); a half-written last line is skipped."""
    p = Path(path)
    if not p.exists():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line being written right now
    return out
