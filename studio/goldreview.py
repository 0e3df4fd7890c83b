"""The Data page's suspect gold labels (no streamlit here): the ranking for the saved train file, from the
background step the page starts (`augsbert label-errors`, through `jobs.launch_label_errors`) or from the newest
finished run on the same train file that computed one; and the gold review saved beside the data, which the next
run applies through `data.gold_review`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pandas as pd

from augsbert_core.io import data as core_data
from augsbert_core.io.gold_review import GOLD_REVIEW_FILE, read_gold_review, write_gold_review
from augsbert_core.jobs import launch_label_errors
from augsbert_core.runs import Run, RunFiles, RunStore, atomic_write_json, pid_alive

from . import workspace

JOB_FILE = "label_errors_job.json"  # {train_fingerprint, pid, started_at, log[, stopped_at]}: the background step
JOB_LOG = "label_errors.log"
JOB_CONFIG = "label_errors_config.json"


def train_fingerprint() -> str | None:
    """The saved train file's fingerprint (None without one)."""
    path = workspace.role_path("train")
    return core_data.fingerprint(path) if path is not None and path.is_file() else None


def job() -> dict[str, Any] | None:
    """The page's last background step: its record plus `running` and the log's last lines."""
    path = workspace.data_dir() / JOB_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    log = workspace.data_dir() / JOB_LOG
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.is_file() else []
    return {**record, "running": pid_alive(record.get("pid")), "log_tail": "\n".join(lines[-6:])}


def suspects(fingerprint: str, store: RunStore | None = None) -> tuple[pd.DataFrame | None, str]:
    """The ranked table (label_errors.csv) for the train file with `fingerprint` and where it comes from: the page's
    background step when it ranked this file, else the newest finished run on it that computed one."""
    own = workspace.data_dir() / RunFiles.LABEL_ERRORS
    record = job()
    if record and record.get("train_fingerprint") == fingerprint and not record["running"] and own.is_file():
        if own.stat().st_mtime >= record.get("started_at", 0):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(own.stat().st_mtime))
            return pd.read_csv(own), f"ranked by the background step on {when}"
    store = store or workspace.store()
    for run in store.list(status="finished"):
        folder = Path(run.dir)
        table = folder / RunFiles.LABEL_ERRORS
        if not table.is_file():
            continue
        prints = Run.at(folder).shown_json(RunFiles.FINGERPRINTS, {})
        if prints.get("train") == fingerprint:
            return pd.read_csv(table), f"from run {run.name} ({run.id})"
    return None, ""


def start_job(fingerprint: str) -> int:
    """Start the background step for the saved train file with the default teacher (label_errors defaults).
    Raises ConfigError/DataError (via the CLI's checks in the worker, or here for missing files)."""
    files = workspace.read_manifest()["files"]
    if "train" not in files or "test" not in files:
        raise core_data.DataError([core_data.Problem("train", None, None, "save a train and a test file first")])
    folder = workspace.data_dir()
    data: dict[str, Any] = {role: str((folder / files[role]["file"]).resolve()) for role in ("train", "test")}
    scale = workspace.dataset_scale()
    if scale is not None:
        data["scale"] = list(scale)
    config = {"name": "label-errors", "scenario": 2, "data": data, "runs_dir": str(workspace.runs_dir())}
    atomic_write_json(folder / JOB_CONFIG, config)
    (folder / JOB_LOG).write_text("", encoding="utf-8")
    pid = launch_label_errors(folder / JOB_CONFIG, folder / RunFiles.LABEL_ERRORS, folder / JOB_LOG)
    atomic_write_json(
        folder / JOB_FILE, {"train_fingerprint": fingerprint, "pid": pid, "started_at": time.time(), "log": JOB_LOG}
    )
    return pid


def stop_job() -> bool:
    """Stop the page's running background step (its whole process group: the CLI and anything it started) and
    record that it was stopped. False when none runs."""
    path = workspace.data_dir() / JOB_FILE
    record = job()
    if record is None or not record["running"]:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(int(record["pid"]), signal.SIGTERM)  # launched with start_new_session: its group id is its pid
    stored = {k: v for k, v in record.items() if k not in ("running", "log_tail")}
    atomic_write_json(path, {**stored, "stopped_at": time.time()})
    return True


def review_path() -> Path:
    return workspace.data_dir() / GOLD_REVIEW_FILE


def load_review(fingerprint: str) -> dict[int, dict[str, Any]]:
    """{row: {'exclude': bool, 'score': float | None, sentences}} saved for this train file (empty for another)."""
    try:
        review = read_gold_review(review_path())
    except core_data.DataError:
        return {}
    if review.get("train_fingerprint") != fingerprint:
        return {}
    return {int(row): entry for row, entry in review["rows"].items()}


def save_review(fingerprint: str, review: dict[int, dict[str, Any]], edited: pd.DataFrame) -> dict[int, dict[str, Any]]:
    """The saved review updated with an edited table (columns row, sentence1, sentence2, exclude, corrected_score),
    written beside the data; returns it."""
    merged = dict(review)
    for item in edited.itertuples(index=False):
        score = getattr(item, "corrected_score", None)
        score = None if score is None or pd.isna(score) else float(score)
        entry = {"sentence1": item.sentence1, "sentence2": item.sentence2}
        if bool(item.exclude):
            entry["exclude"] = True
        elif score is not None:
            entry["score"] = score
        else:
            merged.pop(int(item.row), None)
            continue
        merged[int(item.row)] = entry
    write_gold_review(review_path(), fingerprint, merged)
    return merged


def config_review() -> str | None:
    """data.gold_review for the next run: the saved review's path when it reviews the saved train file and decides
    something, else None."""
    fingerprint = train_fingerprint()
    if fingerprint is None or not load_review(fingerprint):
        return None
    return str(review_path().resolve())
