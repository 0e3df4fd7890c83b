"""A run's progress for the Training page: its steps (from the core's stage table), the live progress and ETA from
events.jsonl and state.json, and a failure's kind in words."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pandas as pd

from augsbert_core import registry, stages
from augsbert_core.errors import Failure
from augsbert_core.estimate import actual_over_estimate
from augsbert_core.models import warm_start_wanted
from augsbert_core.runs import ACTIVE, RunFiles, RunRecord, elapsed
from augsbert_core.runs.progress import event_kind

from .runfiles import read_json

#: Steps of a run as the Training page shows them: (key, title, stages), from the core's table (stages.py).
STEPS: list[tuple[str, str, tuple[str, ...]]] = [
    (step.key, step.title, tuple(stage.name for stage in stages.STAGES if stage.step == step.key))
    for step in stages.STEPS
]


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
