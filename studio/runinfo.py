"""Reading a run for display: progress from its events, readable errors, silver pairs and their review."""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from augsbert_core import export as core_export
from augsbert_core import registry, stages
from augsbert_core import review as core_review
from augsbert_core.distributions import distribution_distance
from augsbert_core.errors import ConfigError, Failure
from augsbert_core.estimate import actual_over_estimate
from augsbert_core.evaluation import (
    PRIMARY_METRIC,
    RECOMMENDED,
    model_metrics,
    recommendation_notes,
    recommendation_of,
    recommended_of,
    schedule_label,
    schedules_of,
)
from augsbert_core.models import ModelLoadError, resolve_model, warm_start_wanted
from augsbert_core.progress import event_kind
from augsbert_core.runs import (  # noqa: F401 - attempts, elapsed: re-exported for the pages
    ACTIVE,
    Run,
    RunFiles,
    RunRecord,
    RunStore,
    atomic_write_json,
    attempts,
    elapsed,
    worked_seconds,
)
from augsbert_core.speed import pairs_per_s

from .charts import AUGSBERT_COLORS, MODEL_COLORS, RUN_PATTERNS
from .metric_format import metric_label, metric_number, metric_value
from .security import ModelPathError, check_model, md_escape

#: Steps of a run as the Training page shows them: (key, title, stages), from the core's table (stages.py).
STEPS: list[tuple[str, str, tuple[str, ...]]] = [
    (step.key, step.title, tuple(stage.name for stage in stages.STAGES if stage.step == step.key))
    for step in stages.STEPS
]
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
RECOMMENDED_WHY = "best on dev among {baseline} and the AugSBERT student; ties go to the baseline"
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


def queue(store: RunStore) -> list[RunRecord]:
    """Active runs in the order the device serves them: running first, then queued by age."""
    active = [r for r in store.list() if r.status in ACTIVE]
    return sorted(active, key=lambda r: (r.status != "running", r.created_at))


# ----------------------------------------------------------------------------------------------- progress
@dataclass
class Progress:
    stage: str | None = None
    stage_title: str = "Waiting for the device"
    step: int = 0
    total: int = 0
    elapsed: float | None = None
    stage_eta: float | None = None
    steps_done: set[str] = field(default_factory=set)
    step_current: str | None = None
    loss: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["stage", "step", "loss"]))
    evals: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["stage", "step", "metric", "value"]))
    last_message: str = ""

    @property
    def fraction(self) -> float | None:
        return min(self.step / self.total, 1.0) if self.total else None


step_of = stages.step_of  # the step a stage belongs to (None for stages no step knows)


def run_steps(scenario: int | None, config: dict[str, Any] | None = None) -> list[tuple[str, str, tuple[str, ...]]]:
    """The steps a run with this scenario and config (config.json) goes through, in display order.

    Scenario 1 has no teacher and no candidates (its silver pairs are augmented copies of gold); scenario 3 no
    gold-only student; the gold-only and full-gold students only when the config trains them; no candidates
    when silver pairs come from a file."""
    cfg = config or {}
    spec = registry.scenario_of(int(scenario or cfg.get("scenario") or 2)) or registry.scenario(2)
    skip = set()
    if spec.augments:
        skip |= {"candidates", "teacher"}
    if not spec.gold_train or cfg.get("train_gold_only") is False:
        skip.add("gold_only")
    if not cfg.get("train_full_gold"):
        skip.add("full_gold")
    if cfg.get("silver_file"):
        skip.add("candidates")
    if spec.augments or cfg.get("silver_file") or not _warm_start_applies(cfg.get("teacher")):
        skip.add("teacher_warm")
    if not spec.gold_train or not (cfg.get("label_errors") or {}).get("enabled"):
        skip.add("label_errors")
    titles = {"silver": "Augmented pairs"} if spec.augments else {}
    return [(key, titles.get(key, title), stages) for key, title, stages in STEPS if key not in skip]


def _warm_start_applies(teacher: Any) -> bool:
    """Whether a run with this teacher config warm-starts its teacher (runs from before the warm start lack the key)."""
    if not isinstance(teacher, dict) or teacher.get("warm_start") is None:
        return False
    return warm_start_wanted(SimpleNamespace(**{"epochs": 1, "model": None, **teacher}))  # the run's own rule


def state_steps(done: list[str] | tuple[str, ...] | None) -> set[str]:
    """Steps finished according to state.json's "done" list (finished stages, reused ones included)."""
    return {step for step in (stages.step_of_done(str(key)) for key in done or ()) if step}


def progress(
    events: list[dict[str, Any]],
    record: RunRecord | None = None,
    now: float | None = None,
    done: list[str] | None = None,
) -> Progress:
    """Summarise a run's events: current stage and step, elapsed time, stage ETA, loss and eval curves.

    A step is done when the run went on to another step after it in its latest attempt (a resumed run starts
    again at 'setup'), when state.json lists it as finished (`done`, read from the run's directory when None:
    stages finished in an earlier attempt or reused from an earlier run), or, once the run finished, when any
    of its events was seen. The order of the steps is not assumed."""
    now = now or time.time()
    out = Progress()
    out.elapsed = elapsed(events, record, now)
    if done is None and record is not None and getattr(record, "dir", None):
        state = read_json(record.dir, RunFiles.STATE, {})
        done = state.get("done") if isinstance(state, dict) else None
    from_state = state_steps(done)
    if not events:
        if record is not None and record.status == "running":
            out.stage_title = "Starting"
        out.steps_done = from_state
        return out
    last = events[-1]
    out.stage = last.get("stage")
    out.stage_title = stages.title(out.stage)
    out.step_current = step_of(out.stage)
    starts = [i for i, e in enumerate(events) if e.get("stage") == "setup"]
    attempt = events[starts[-1] :] if starts else events
    seen_now = {step_of(e.get("stage")) for e in attempt}
    out.steps_done = {k for k in seen_now if k and k != out.step_current} | from_state
    if out.stage == "done" or (record is not None and record.status == "finished"):
        out.steps_done |= {k for k in (step_of(e.get("stage")) for e in events) if k}
    else:
        out.steps_done.discard(out.step_current)
    for e in reversed(events):
        if e.get("message") and event_kind(e) == "message":
            out.last_message = str(e["message"]).strip().splitlines()[0] if str(e["message"]).strip() else ""
            break
    stage_events = [e for e in events if e.get("stage") == out.stage and e.get("total")]
    if stage_events:
        cur = stage_events[-1]
        out.step, out.total = int(cur.get("step") or 0), int(cur.get("total") or 0)
        first = stage_events[0]
        dt = float(cur.get("time", 0)) - float(first.get("time", 0))
        done = out.step - int(first.get("step") or 0)
        if done > 0 and dt > 0 and out.total > out.step and (record is None or record.status in ACTIVE):
            out.stage_eta = (out.total - out.step) * dt / done
    losses = [
        (e["stage"], int(e.get("step") or 0), float(e["loss"]))
        for e in events
        if e.get("loss") is not None and event_kind(e) == "log"
    ]
    if not losses:
        losses = [(e["stage"], int(e.get("step") or 0), float(e["loss"])) for e in events if e.get("loss") is not None]
    if losses:
        out.loss = pd.DataFrame(losses, columns=["stage", "step", "loss"]).drop_duplicates(
            ["stage", "step"], keep="last"
        )
    rows = []
    for e in events:
        if event_kind(e) != "eval":
            continue
        key = eval_metric_key(e.get("metrics") or {})
        if key:
            rows.append((e["stage"], int(e.get("step") or 0), key, float(e["metrics"][key])))
    if rows:
        out.evals = pd.DataFrame(rows, columns=["stage", "step", "metric", "value"])
    return out


def run_eta(record: RunRecord | None, prog: Progress) -> float | None:
    """Seconds a running run has left: its estimate (estimate.json, per stage) for the stages not finished yet,
    scaled by how long its finished stages took against their estimate, less the time spent in the current stage.
    None when it is not running or kept no estimate (older runs)."""
    if record is None or record.status != "running" or not getattr(record, "dir", None):
        return None
    estimated = read_json(record.dir, RunFiles.ESTIMATE, None)
    state = read_json(record.dir, RunFiles.STATE, {}) or {}
    if not isinstance(estimated, dict) or not isinstance(estimated.get("by_stage"), dict):
        return None
    done = set(state.get("done") or []) if isinstance(state, dict) else set()
    timings = state.get("timings") if isinstance(state, dict) and isinstance(state.get("timings"), dict) else {}
    finished = {k: v for k, v in timings.items() if k in done}
    scale = actual_over_estimate(estimated, finished) or 1.0
    left = sum(float(v) for k, v in estimated["by_stage"].items() if k not in done)
    spent = sum(float(v) for v in finished.values() if isinstance(v, (int, float)))
    startup = float((estimated.get("parts") or {}).get("startup", 0.0))
    in_stage = max(0.0, (prog.elapsed or 0.0) - spent - startup)
    # not the current stage's step-rate ETA: an early-stopped training counts to its epoch limit, an upper bound
    return max(scale * left - in_stage, 0.0)


def eval_metric_key(metrics: dict[str, float]) -> str | None:
    """The headline metric of a trainer evaluation (Spearman or average precision), if any."""
    keys = [k for k in metrics if not any(bad in k for bad in ("loss", "runtime", "per_second", "epoch"))]
    for wanted in ("spearman_cosine", "spearman", "average_precision", "cosine_ap", "_ap", "accuracy", "f1"):
        for k in keys:
            if wanted in k:
                return k
    return keys[0] if keys else None


# ------------------------------------------------------------------------------------------------- errors
#: (title, what to do) for each kind of failure the core records (errors.FAILURE_KINDS; a test checks the keys).
FAILURE_ADVICE: dict[str, tuple[str, str]] = {
    "config": ("Invalid settings", "Change the settings on the Scenario page."),
    "data": ("Bad data", "Fix the file (the message names its row and column) and upload it again."),
    "model": ("Model could not be loaded", "Check the model name or path on the Scenario page."),
    "run_file": ("A run file is unreadable", "The message names the file; delete the run or restore the file."),
    "augment": ("Augmentation could not run", "Pick another augmentation method on the Scenario page."),
    "gate": (
        "Stopped by the teacher-readiness gate",
        "Train the teacher longer, use a stronger teacher, or set the gate to 'warn'.",
    ),
    "cancelled": ("Cancelled", "Launch it again from the Scenario page when ready."),
    "interrupted": ("Interrupted", "The worker was killed or the machine restarted. Launch the run again."),
    "out_of_memory": ("Out of memory", "Lower the batch size or the max sequence length, or use a smaller base model."),
    "disk_full": ("Disk full", "Free disk space, then resume the run."),
    "permission": ("Cannot write the run", "Check that the workspace folder is writable."),
    "hub_unreachable": ("Model hub unreachable", "Use the offline default model or a local model directory."),
    "internal": ("The run failed", "The log below has the details."),
}
#: Runs recorded before failures were stored as data: their error line starts with the exception's class name.
_LEGACY_KINDS = {
    "ConfigError": "config",
    "DataError": "data",
    "ModelLoadError": "model",
    "GateStopped": "gate",
    "AugmentError": "augment",
}


def explain_failure(record: RunRecord) -> tuple[str, str, str]:
    """(title, message, what to do) for a run that did not finish, from its stored failure kind."""
    failure = Failure.from_dict(record.failure)
    if failure is None:  # a run from before failures were stored as data
        text = (record.error or "").strip()
        name, _, detail = text.partition(": ")
        legacy = _LEGACY_KINDS.get(name)
        kind = legacy or {"cancelled": "cancelled", "interrupted": "interrupted"}.get(record.status, "internal")
        failure = Failure(kind, (detail if legacy else text) or "no error message was recorded")
    title, advice = FAILURE_ADVICE.get(failure.kind, FAILURE_ADVICE["internal"])
    return title, failure.message.splitlines()[0] if failure.message else "", failure.hint or advice


# ------------------------------------------------------------------------------------------------- files
def read_json(run_dir: str | Path, name: str, default: Any = None) -> Any:
    path = Path(run_dir) / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, being written, corrupt or not UTF-8: the page shows what it can
        return default


def read_log(run_dir: str | Path, lines: int = 60) -> str:
    path = Path(run_dir) / RunFiles.LOG
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


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


def metrics(run_dir: str | Path) -> dict[str, dict[str, dict[str, float]]]:
    """The per-model metrics of a run ({model: {split: {metric: value}}}): metrics.json of a finished run, else
    metrics.partial.json (a run the gate stopped). Top-level entries that are no model (the `recommended` name)
    are left out: see `recommendation`."""
    raw = read_json(run_dir, RunFiles.METRICS, {}) or read_json(run_dir, RunFiles.METRICS_PARTIAL, {}) or {}
    out = model_metrics(raw) if isinstance(raw, dict) else {}
    return _crossfitted_ensemble(run_dir, out)


def _crossfitted_ensemble(run_dir: str | Path, metrics: dict[str, dict]) -> dict[str, dict]:
    """The ensemble's dev score as the cross-fitted one of ensemble.json: its weight was chosen on dev, so the
    in-sample dev score flatters it; the gate and the ensemble card use the cross-fitted number, and every page
    shows that one number for the ensemble on dev."""
    dev = metrics.get("ensemble", {}).get("dev") if isinstance(metrics.get("ensemble"), dict) else None
    decision = ensemble_decision(run_dir) if isinstance(dev, dict) else None
    if decision is None or decision["ensemble"] is None or decision["metric"] not in dev:
        return metrics
    ensemble = {**metrics["ensemble"], "dev": {**dev, decision["metric"]: decision["ensemble"]}}
    return {**metrics, "ensemble": ensemble}


def result_models(run_dir: str | Path, metrics: dict[str, Any]) -> list[str]:
    """The models of a run's result cards: `table_models` less a teacher ensemble that did not label the silver
    pairs (ensemble.json `used` false): fitted, compared and not used, it is no result of the run; and less the
    gold-only student in scenario 3, which never trains one."""
    keys = table_models({"run": metrics})
    decision = ensemble_decision(run_dir)
    if decision is not None and not decision["used"]:
        keys = [k for k in keys if k != "ensemble"]
    config = read_json(run_dir, RunFiles.CONFIG, {})
    spec = registry.scenario_of(config.get("scenario")) if isinstance(config, dict) else None
    if "gold_only" not in metrics and spec is not None and not spec.gold_train:
        keys = [k for k in keys if k != "gold_only"]  # scenario 3 has no target gold: no gold-only card to wait for
    return keys


def labeling_teacher_dev(
    run_dir: str | Path, run_metrics: dict[str, Any] | None = None
) -> tuple[str, str, float, str] | None:
    """(model key, metric, dev score, how it was measured) of the teacher that labeled the silver pairs: the
    ensemble's cross-fitted dev score when it labeled (the gate's number), else the cross-encoder's on all of dev;
    None when the run has neither."""
    run_metrics = run_metrics if run_metrics is not None else metrics(run_dir)
    decision = ensemble_decision(run_dir)
    if decision is not None and decision["used"] and decision["ensemble"] is not None:
        return "ensemble", decision["metric"], decision["ensemble"], "cross-fitted: its weight was chosen on dev"
    dev = (run_metrics.get("teacher") or {}).get("dev") or {}
    primary = next((k for k in ("spearman", "ap") if k in dev), None)
    if primary is None:
        return None
    return "teacher", primary, float(dev[primary]), "all of dev"


def gate_teacher_note(gate: dict[str, Any]) -> str:
    """' (ensemble teacher)' when the gate judged the ensemble and it labeled; when the labeler probe, run after the
    gate, chose the other teacher (gate.json `labeler`), which teacher the gate judged; '' for a cross-encoder."""
    judged, labeler = gate.get("teacher_kind"), gate.get("labeler")
    if judged == "ensemble":
        return " (judged on the teacher ensemble)" if labeler == "cross_encoder" else " (ensemble teacher)"
    return " (judged on the cross-encoder)" if labeler == "ensemble" else ""


def labeling_teacher_text(run_dir: str | Path) -> str | None:
    """'Labeling teacher on dev: **Teacher (cross-encoder) 85.8** (dev Spearman, all of dev).': the one dev number
    of the teacher that labeled, as its result card gives it (markdown of fixed words and numbers), with a note when
    the gate judged the other teacher (the labeler probe runs after the gate); None without a teacher."""
    found = labeling_teacher_dev(run_dir)
    if found is None:
        return None
    key, metric, value, how = found
    gate = read_json(run_dir, RunFiles.GATE, {})
    judged = gate.get("teacher_kind") if isinstance(gate, dict) else None
    note = ""
    if key == "teacher" and judged == "ensemble":
        note = "; the gate judged the teacher ensemble, then the labeler probe chose the cross-encoder alone"
    elif key == "ensemble" and judged == "cross_encoder":
        note = "; the gate judged the cross-encoder, then the labeler probe chose the ensemble"
    title = "Teacher ensemble" if key == "ensemble" else "Teacher (cross-encoder)"
    return f"Labeling teacher on dev: **{title} {metric_value(value)}** ({metric_label(metric, 'dev')}, {how}{note})."


def threshold_line(per_split: dict[str, Any]) -> str:
    """'At the threshold chosen on dev (0.43), test: F1 88.10 · precision 86.00 · recall 90.30 · accuracy 84.20': a
    0/1 model's deployable operating point (the scores x100, as the cards show them)."""
    parts = [
        f"{name} {metric_value(per_split[key])}"
        for key, name in (("f1", "F1"), ("precision", "precision"), ("recall", "recall"), ("accuracy", "accuracy"))
        if isinstance(per_split.get(key), (int, float))
    ]
    threshold = per_split.get("threshold")
    where = (
        f"At the threshold chosen on dev ({threshold:.2f})"
        if isinstance(threshold, (int, float))
        else "At its threshold"
    )
    return f"{where}, test: " + " · ".join(parts)


def operating_points(metrics: dict[str, Any], keys: list[str], split: str = "test") -> pd.DataFrame:
    """A 0/1 task's models at their dev-chosen threshold: model, AP, F1, precision, recall, accuracy (x100, as the
    cards show them) and the threshold, one row per model of `keys` that has them."""
    rows = []
    for key in keys:
        per = (metrics.get(key) or {}).get(split) or {}
        if "f1" not in per:
            continue
        row = {"model": model_title(key)}
        for name, title in (("ap", "AP"), ("f1", "F1"), ("precision", "precision"), ("recall", "recall")):
            value = per.get(name)
            row[title] = metric_number(value) if isinstance(value, (int, float)) else None
        value = per.get("accuracy")
        row["accuracy"] = metric_number(value) if isinstance(value, (int, float)) else None
        row["threshold"] = per.get("threshold")
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Verdict:
    """What a finished run decided, from one read of its metrics.json: the recommended model key (None when the run
    has not finished), why, and each trained student's schedule in words ({model: 'best 3 of 5 epochs ...'})."""

    recommended: str | None = None
    reason: str = ""
    schedules: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # how the recommendation squares with the other metrics and the gate


def verdict(run_dir: str | Path, task: str | None = None) -> Verdict:
    """The run's `Verdict`. The reason is metrics.json's `recommendation.why` (the dev gain and its interval), or
    for runs finished before that rule `recommendation_reason`'s sentence."""
    raw = read_json(run_dir, RunFiles.METRICS, None)
    if not isinstance(raw, dict):
        return Verdict()
    if task not in PRIMARY_METRIC and not isinstance(raw.get(RECOMMENDED), str):
        task = (read_json(run_dir, RunFiles.CONFIG, {}) or {}).get("task")
    record = recommendation_of(raw) or {}
    why, notes = record.get("why"), record.get("notes")
    if not isinstance(notes, list) and record.get("model"):  # runs finished before metrics.json kept the notes
        gate = read_json(run_dir, RunFiles.GATE, None)
        notes = recommendation_notes(raw, record, gate if isinstance(gate, dict) else None, task or "regression")
    return Verdict(
        recommended_of(raw, task),
        why if isinstance(why, str) and why else recommendation_reason(model_metrics(raw)),
        {key: schedule_label(entry) for key, entry in schedules_of(raw).items()},
        tuple(str(n) for n in notes or ()),
    )


def recommendation(run_dir: str | Path, task: str | None = None) -> str | None:
    """The model key a finished run recommends: metrics.json's `recommended`, or, for runs finished before runs
    wrote it, computed the same way (`evaluation.recommend`: the better on dev of the baseline and AugSBERT,
    ties to the baseline). None for a run without metrics.json (not finished)."""
    return verdict(run_dir, task).recommended


def recommendation_reason(models: dict[str, Any] | list[str] | tuple[str, ...]) -> str:
    """'best on dev among gold-only and the AugSBERT student; ties go to the baseline' (zero-shot when the run
    has no gold-only student: scenario 3): the rule of runs finished before metrics.json's `recommendation`."""
    why = RECOMMENDED_WHY.format(baseline="gold-only" if "gold_only" in models else "zero-shot")
    splits = [v for v in models.values() if isinstance(v, dict)] if isinstance(models, dict) else []
    if splits and not any("dev" in per_model for per_model in splits):  # as evaluation.recommend decides it
        why = why.replace("best on dev", "best on test (the run has no dev split)")
    return why


def order_recommended(keys: list[str], recommended: str | None) -> list[str]:
    """`keys` with the recommended one first (unchanged when it is None or absent)."""
    if recommended in keys:
        return [recommended, *[k for k in keys if k != recommended]]
    return list(keys)


# ------------------------------------------------------------------------------------------------ models
def zip_folder(path: str | Path, name: str) -> bytes:
    """A model folder as a zip (files under `name/`; hidden files and folders, e.g. checkpoints, left out)."""
    path = Path(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for file in sorted(path.rglob("*")):
            if file.is_file() and not any(part.startswith(".") for part in file.relative_to(path).parts):
                archive.write(file, Path(name) / file.relative_to(path))
    return buffer.getvalue()


#: The formats a student can be downloaded in (augsbert export), as the pages name them.
EXPORT_FORMATS = {"st": "sentence-transformers", "onnx": "ONNX", "onnx-int8": "ONNX int8"}


def export_formats(folder: str | Path | None) -> dict[str, str]:
    """The EXPORT_FORMATS a model folder can be downloaded in: ONNX only for a transformer student with the onnx
    extra installed (a static student is already a lookup table; the teacher is a cross-encoder)."""
    if folder is None:
        return {}
    formats = {}
    for fmt, title in EXPORT_FORMATS.items():
        try:
            core_export.check_export(folder, fmt, Path(folder).parent / ".absent-export-target")
        except (ConfigError, OSError):
            continue
        formats[fmt] = title
    return formats


def export_zip(folder: str | Path, name: str, fmt: str) -> bytes:
    """A student as a zip in `fmt` (`augsbert export`'s formats), built in a temporary folder on click: the run's
    own folder is never written by a page."""
    if fmt == "st":
        return zip_folder(folder, name)
    import tempfile  # noqa: PLC0415 - one download's scratch folder

    with tempfile.TemporaryDirectory(prefix="augsbert-export-") as scratch:
        out = core_export.export_student(folder, fmt, Path(scratch) / name)
        return zip_folder(out, name)


def trained_models(run_dir: str | Path) -> list[str]:
    """The model folders of a run (models/<name>/), in MODEL_TITLES order, then the others by name."""
    models_dir = Path(run_dir) / "models"
    if not models_dir.is_dir():
        return []
    names = [p.name for p in models_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    order = list(MODEL_TITLES)
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


@dataclass
class ModelDownload:
    """Where a run's model of one key can be downloaded from: `folder` (None when there is no local folder to
    zip) and `note`, what the model is (the zero-shot model is the untrained base)."""

    key: str
    folder: Path | None
    note: str = ""


def model_download(run_dir: str | Path, key: str) -> ModelDownload:
    """The folder of a run's model `key`: models/<key>/ for trained ones; for 'zero_shot' the base student model
    as it is (its local folder when it resolves to one the app may serve, else just its name)."""
    folder = Path(run_dir) / "models" / key
    if key != "zero_shot":
        if folder.is_dir():
            return ModelDownload(key, folder)
        return ModelDownload(key, None, f"This run has no saved {model_title(key)} model (models/{key}/).")
    cfg = read_json(run_dir, RunFiles.CONFIG, {}) or {}
    name = str(((cfg.get("student") or {}).get("model")) or "default")
    shown = md_escape(name, code=True)  # in a code span: nothing in it is markdown, a backtick would end it
    base = "the offline all-MiniLM-L6-v2" if name == "default" else f"`{shown}`"
    note = f"The zero-shot model is the student's base model, {base}, unchanged (no training)"

    try:
        resolved = Path(resolve_model(check_model(name).value))
    except (ModelPathError, ModelLoadError, OSError):
        resolved = None
    if resolved is not None and resolved.is_dir():
        return ModelDownload(key, resolved, note + ": the zip holds that base model.")
    return ModelDownload(
        key, None, note + (f": load it by its name, `SentenceTransformer('{shown}')`." if name != "default" else ".")
    )


# --------------------------------------------------------------------------------------------- predictions
def predictions_path(run_dir: str | Path) -> Path:
    return Path(run_dir) / RunFiles.PREDICTIONS


def load_predictions(run_dir: str | Path) -> pd.DataFrame | None:
    path = predictions_path(run_dir)
    if not path.is_file():
        return None
    frame = pd.read_csv(path, keep_default_na=False, dtype={"sentence1": str, "sentence2": str, "split": str})
    return frame[frame["split"] == "test"].reset_index(drop=True) if "split" in frame else frame


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


def disagreements(preds: pd.DataFrame, teacher: str, scale: tuple[float, float] | None, n: int = 25) -> pd.DataFrame:
    """The `n` test pairs where the labeling teacher and the AugSBERT student differ most: sentences, gold on the
    dataset's scale (column 'gold (0–5)'), the two predicted similarities and their difference."""
    low, high = scale or (0.0, 1.0)
    out = preds.assign(difference=(preds[teacher] - preds["augsbert"]).abs())
    out = out.sort_values("difference", ascending=False, kind="stable").head(n)
    out = out.assign(gold=low + out["gold"].astype(float) * (high - low))
    return out[["sentence1", "sentence2", "gold", teacher, "augsbert", "difference"]].rename(
        columns={"gold": f"gold ({low:g}–{high:g})"}
    )


def runs_table(
    records: list[RunRecord], metrics_by_run: dict[str, dict], recommended_by_run: dict[str, str | None]
) -> pd.DataFrame:
    """The Compare page's table of every run: name, status, scenario, sampler, recommended model, each model's
    primary test metric ×100 (column '<model> (test <metric>)', one decimal), review, created, duration, id."""
    rows = []
    models_listed = table_models(metrics_by_run)  # + the ensemble teacher, the full-gold ceiling where present
    for r in records:
        m = metrics_by_run.get(r.id, {})
        primary = PRIMARY_METRIC.get(r.task or "regression", "spearman")
        row = {
            "run": r.name,
            "status": r.status,
            "scenario": r.scenario,
            "sampler": r.sampler,
            "recommended": model_title(recommended_by_run[r.id]) if recommended_by_run.get(r.id) else "",
        }
        for key in models_listed:
            row[f"{model_title(key)} (test {primary})"] = metric_number((m.get(key) or {}).get("test", {}).get(primary))
        rv = review_summary(load_review(r.dir))
        row["review"] = f"{rv['wrong']} wrong, {rv['corrected']} fixed" if rv["total"] else ""
        row.update(
            {
                "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at)) if r.created_at else "–",
                "duration": _duration_text(r),
                "id": r.id,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _duration_text(record: RunRecord) -> str:
    """How long a run has worked, over all its attempts (a resumed run counts its earlier ones), in minutes."""
    seconds = worked_seconds(record) if record.started_at else None
    return f"{seconds / 60:.1f} min" if seconds is not None and record.status not in ACTIVE else "–"


def metric_column_label(column: str, with_metric: bool = True) -> str:
    """The header of a runs-table metric column: 'AugSBERT (test spearman)' -> 'AugSBERT · test Spearman' (only
    'AugSBERT' without `with_metric`: when every metric column holds the same metric, named once above)."""
    model, _, rest = column.partition(" (")
    split, _, metric = rest.rstrip(")").partition(" ")
    if not metric:
        return column
    return f"{model} · {metric_label(metric, split)}" if with_metric else model


def metrics_tables(run_metrics: dict[str, dict], recommended: str | None) -> dict[str, pd.DataFrame]:
    """One table per split ({'test': ..., 'dev': ...}): a row per model (recommended first, named so), a column per
    metric ('test.spearman', ...; ×100 with one decimal, a threshold as it is). A table per split keeps each one
    narrow enough to read without scrolling."""
    known = [k for k in MODEL_TITLES if k in run_metrics]
    order = order_recommended(known + [k for k in run_metrics if k not in known], recommended)
    splits = sorted({sp for per in run_metrics.values() for sp in per}, key=lambda sp: {"test": 0, "dev": 1}.get(sp, 2))
    out = {}
    for split in splits:
        rows = {}
        for key in order:
            values = (run_metrics.get(key) or {}).get(split)
            if not values:
                continue
            title = model_title(key) + (" · recommended" if key == recommended else "")
            rows[title] = {f"{split}.{name}": metric_number(v, name) for name, v in values.items()}
        if rows:
            out[split] = pd.DataFrame.from_dict(rows, orient="index")
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


def labeling_teacher(run_dir: str | Path, preds: pd.DataFrame) -> str | None:
    """The predictions column of the teacher that labeled the silver pairs: 'ensemble' when the run's ensemble
    did (ensemble.json used), else 'teacher'; None when predictions.csv has neither."""
    decision = ensemble_decision(run_dir)
    if decision is not None and decision["used"] and "ensemble" in preds.columns:
        return "ensemble"
    return "teacher" if "teacher" in preds.columns else None


def comparison_rows(chosen: list[RunRecord], metrics_by_run: dict[str, dict], metric: str) -> pd.DataFrame:
    """Rows of the grouped bar chart (series, split, value, color, pattern): zero-shot and gold-only of the first
    run, the full-gold ceiling of the first run that trained one, AugSBERT of each run (a colour and a pattern per
    run), and the teacher and its ensemble once when all runs share them (else per run, told apart by pattern); an
    ensemble that did not label its run's silver pairs is named '· not used'."""

    bars: list[dict[str, Any]] = []

    def add(series: str, per_split: dict, color: str, pattern: str = "") -> None:
        for split, values in (per_split or {}).items():
            if metric in values:
                bars.append(
                    {"series": series, "split": split, "value": values[metric], "color": color, "pattern": pattern}
                )

    if chosen:
        newest = metrics_by_run.get(chosen[0].id, {})
        for key in ("zero_shot", "gold_only"):
            add(MODEL_TITLES[key], newest.get(key, {}), MODEL_COLORS[MODEL_TITLES[key]])
        ceiling = next(
            (
                metrics_by_run[r.id]["full_gold"]
                for r in chosen
                if isinstance(metrics_by_run.get(r.id, {}).get("full_gold"), dict)
            ),
            {},
        )
        add(MODEL_TITLES["full_gold"], ceiling, MODEL_COLORS[MODEL_TITLES["full_gold"]])
        run_index = {r.id: i for i, r in enumerate(chosen)}
        for i, r in enumerate(chosen):
            add(
                f"AugSBERT · {r.sampler} ({short_id(r.id)})",
                metrics_by_run.get(r.id, {}).get("augsbert", {}),
                AUGSBERT_COLORS[i % len(AUGSBERT_COLORS)],
                RUN_PATTERNS[i % len(RUN_PATTERNS)],
            )
        unused = {r.id for r in chosen if (d := ensemble_decision(r.dir)) is not None and not d["used"]}
        for key in ("teacher", "ensemble"):
            per_run = {r.id: metrics_by_run.get(r.id, {}).get(key) for r in chosen}
            per_run = {k: v for k, v in per_run.items() if v}
            distinct = {round(v.get("test", {}).get(metric, 0), 3) for v in per_run.values()}
            for run_id, values in per_run.items() if len(distinct) > 1 else list(per_run.items())[:1]:
                add(
                    MODEL_TITLES[key]
                    + (f" ({short_id(run_id)})" if len(distinct) > 1 else "")
                    + (" · not used" if key == "ensemble" and run_id in unused else ""),
                    values,
                    MODEL_COLORS[MODEL_TITLES[key]],
                    RUN_PATTERNS[run_index[run_id] % len(RUN_PATTERNS)] if len(distinct) > 1 else "",
                )
    frame = pd.DataFrame(bars, columns=["series", "split", "value", "color", "pattern"])
    order = {"dev": 0, "test": 1}
    return frame.sort_values("split", key=lambda s: s.map(order).fillna(2), kind="stable").reset_index(drop=True)


SPEED_COLUMNS = ["series", "run", "model", "kind", "split", "value", "pairs_per_s", "device", "color"]


def student_label(run_dir: str | Path) -> str:
    """The kind of bi-encoder a run trained, in a few words: 'static', 'MiniLM, 2 layers', 'MiniLM', or the base
    model's folder or hub name ('' when the run has no readable config)."""
    cfg = read_json(run_dir, RunFiles.CONFIG)
    student = cfg.get("student") if isinstance(cfg, dict) else None
    if not isinstance(student, dict):
        return ""
    model = str(student.get("model") or "default")
    name = "MiniLM" if model == "default" else Path(model).name or model
    layers = student.get("layers")
    return f"{name}, {layers} layers" if isinstance(layers, int) else name


def speed_rows(chosen: list[RunRecord], metrics_by_run: dict[str, dict], metric: str) -> pd.DataFrame:
    """Accuracy against speed: one row per model a selected run timed (speed.json), with its `metric` on the
    split it was timed on (test, else dev). Series are model titles, with the run's short id when several runs
    are shown, and the student's kind on bi-encoders when the runs trained different kinds (a static student
    against a MiniLM one). Empty (with the columns) when no selected run has speed.json."""
    rows: list[dict[str, Any]] = []
    students = {r.id: student_label(r.dir) for r in chosen}
    kinds_differ = len(set(students.values())) > 1
    for i, r in enumerate(chosen):
        speed = read_json(r.dir, RunFiles.SPEED)
        models = (speed or {}).get("models") if isinstance(speed, dict) else None
        if not isinstance(models, dict):
            continue
        for key, entry in models.items():
            rate = pairs_per_s(speed, key)
            split = entry.get("split") if isinstance(entry, dict) else None
            value = (metrics_by_run.get(r.id, {}).get(key, {}).get(split) or {}).get(metric)
            if rate is None or value is None:
                continue
            title = model_title(key)
            color = AUGSBERT_COLORS[i % len(AUGSBERT_COLORS)] if key == "augsbert" else MODEL_COLORS.get(title, "#777")
            if kinds_differ and entry.get("kind") == "bi-encoder" and students[r.id]:
                title += f" · {students[r.id]}"
            rows.append(
                {
                    "series": title + (f" ({short_id(r.id)})" if len(chosen) > 1 else ""),
                    "run": r.id,
                    "model": key,
                    "kind": entry.get("kind", ""),
                    "split": split,
                    "value": float(value),
                    "pairs_per_s": rate,
                    "device": str(speed.get("device_name") or speed.get("device") or ""),
                    "color": color,
                }
            )
    return pd.DataFrame(rows, columns=SPEED_COLUMNS)


# ------------------------------------------------------------------------------- teacher decisions
def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out == out else None  # NaN -> None


def ensemble_decision(run_dir: str | Path) -> dict[str, Any] | None:
    """What ensemble.json says: weight on the cross-encoder, the cross-fitted dev scores of the ensemble and
    of each member, whether it beats both and whether it labeled the silver pairs; None without the file."""
    raw = read_json(run_dir, RunFiles.ENSEMBLE)
    if not isinstance(raw, dict):
        return None
    report = raw.get("report") if isinstance(raw.get("report"), dict) else {}
    weight = _number(raw.get("weight", report.get("weight")))
    return {
        "weight": weight,
        "metric": str(report.get("metric") or "spearman"),
        "ensemble": _number(report.get("dev_crossfit")),
        "ensemble_dev": _number(report.get("dev")),
        "cross_encoder": _number(report.get("cross_encoder_crossfit")),
        "bi_encoder": _number(report.get("bi_encoder_crossfit")),
        "beats_members": bool(report.get("beats_members", False)),
        "used": bool(report.get("used", False)),
        "member": "zero-shot" if report.get("bi_encoder") == "zero_shot" else "gold-only",
        "probe": _probe_summary(run_dir),
        "cross_encoder_dev": _teacher_dev(run_dir, str(report.get("metric") or "spearman")),
    }


def _teacher_dev(run_dir: str | Path, metric: str) -> float | None:
    """The cross-encoder teacher's score on all of dev (metrics.json, else metrics.partial.json)."""
    raw = read_json(run_dir, RunFiles.METRICS, {}) or read_json(run_dir, RunFiles.METRICS_PARTIAL, {}) or {}
    teacher = raw.get("teacher") if isinstance(raw, dict) else None
    return _number(((teacher or {}).get("dev") or {}).get(metric)) if isinstance(teacher, dict) else None


def _probe_summary(run_dir: str | Path) -> str | None:
    """'probe students on dev: cross-encoder 86.2, ensemble 85.9' from probe.json (labeler: auto), else None."""
    raw = read_json(run_dir, RunFiles.PROBE)
    trials = raw.get("trials") if isinstance(raw, dict) else None
    if not isinstance(trials, list) or not trials:
        return None
    parts = [
        f"{str(t.get('labeler', '?')).replace('_', '-')} {metric_value(t['dev'])}"
        for t in trials
        if isinstance(t, dict) and _number(t.get("dev")) is not None
    ]
    return "probe students on dev: " + ", ".join(parts) if parts else None


def ensemble_text(d: dict[str, Any]) -> str:
    """One markdown paragraph on the ensemble decision."""

    def p(v: float | None) -> str:
        return metric_value(v)

    weight = "–" if d["weight"] is None else f"{d['weight']:.1f}"
    rest = "–" if d["weight"] is None else f"{1 - d['weight']:.1f}"
    verdict = "beats both members" if d["beats_members"] else "does not beat both members"
    probe = d.get("probe")
    if d["used"]:
        why = f" (chosen by the labeler probe: {probe})" if probe else "" if d["beats_members"] else " (ensemble: on)"
        labels = "**It labeled the silver pairs**" + why
    else:
        labels = "**The cross-encoder alone labeled the silver pairs**" + (
            f" (chosen by the labeler probe: {probe})" if probe else ""
        )
    member = d.get("member", "gold-only")
    whole = d.get("cross_encoder_dev")
    note = (
        f" (Cross-fitted: each half of dev scored with a weight fitted on the other half; on all of dev the "
        f"cross-encoder scores {p(whole)}.)"
        if whole is not None and p(whole) != p(d["cross_encoder"])
        else ""
    )
    return (
        f"**Teacher ensemble** · weight {weight} on the cross-encoder, {rest} on the {member} bi-encoder. "
        f"{metric_label(d['metric'], 'dev', title=True)} ×100, cross-fitted: ensemble **{p(d['ensemble'])}** vs "
        f"cross-encoder {p(d['cross_encoder'])} and {member} bi-encoder {p(d['bi_encoder'])}: it {verdict}. "
        f"{labels}.{note}"
    )


def teacher_search_table(run_dir: str | Path) -> pd.DataFrame | None:
    """teacher_search.json as a table (epochs, learning rate, status, dev ×100, seconds, chosen), or None."""
    raw = read_json(run_dir, RunFiles.TEACHER_SEARCH)
    trials = raw.get("trials") if isinstance(raw, dict) else None
    if not trials:
        return None
    rows = [
        {
            "epochs": _number(t.get("epochs")),
            "learning rate": _number(t.get("learning_rate")),
            "status": str(t.get("status", "")),
            "dev ×100": metric_number(t.get("dev")),
            "seconds": _number(t.get("seconds")),
            "chosen": bool(t.get("chosen", False)),
        }
        for t in trials
        if isinstance(t, dict)
    ]
    return pd.DataFrame(rows) if rows else None


def teacher_search_summary(table: pd.DataFrame) -> str:
    """'4 trials (1 skipped): 2 epochs, learning rate 5e-05 chosen'."""
    n = len(table)
    skipped = int(table["status"].str.startswith("skipped").sum())
    text = f"{n} trial{'s' if n != 1 else ''}" + (f" ({skipped} skipped: over the time budget)" if skipped else "")
    chosen = table[table["chosen"]]
    if len(chosen):
        row = chosen.iloc[0]
        epochs = "–" if pd.isna(row["epochs"]) else f"{row['epochs']:g}"
        rate = "–" if pd.isna(row["learning rate"]) else f"{row['learning rate']:.0e}"
        text += f"; chosen on dev: {epochs} epochs, learning rate {rate}"
    return text


def seed_trials_summary(table: pd.DataFrame) -> str:
    """'teacher: seed 43 of 4; AugSBERT: seed 42 of 2' (the seed finished after the trials)."""
    parts = []
    for model, group in table.groupby("model", sort=False):
        chosen = group.loc[group["chosen"], "seed"]
        parts.append(
            f"{model}: "
            + (f"seed {chosen.iloc[0]} of {len(group)} finished" if len(chosen) else f"{len(group)} trials")
        )
    return "each seed trained for a fraction of the schedule, the best on dev finished. " + "; ".join(parts)


def seed_trials_table(run_dir: str | Path) -> pd.DataFrame | None:
    """Every models/<name>/seed_search.json as one table (model, seed, steps, dev ×100, chosen), or None."""
    models_dir = Path(run_dir) / "models"
    if not models_dir.is_dir():
        return None
    rows = []
    order = list(MODEL_TITLES)
    for path in sorted(
        models_dir.glob("*/seed_search.json"),
        key=lambda q: (order.index(q.parent.name) if q.parent.name in order else 99, q.parent.name),
    ):
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(report, dict):
            continue
        fraction = _number(report.get("fraction"))
        for t in report.get("trials") or []:
            if not isinstance(t, dict):
                continue
            rows.append(
                {
                    "model": model_title(path.parent.name),
                    "seed": t.get("seed"),
                    "steps": t.get("steps"),
                    "fraction": fraction,
                    "dev ×100": metric_number(t.get("dev")),
                    "chosen": t.get("seed") == report.get("chosen_seed"),
                }
            )
    return pd.DataFrame(rows) if rows else None


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
