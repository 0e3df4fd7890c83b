"""The three AugSBERT scenario recipes: the only place that knows the order of the stages.

    scenario 1 (full gold):    augment gold -> student(gold + augmented)
    scenario 2 (limited gold):  candidates -> teacher warm start -> teacher(gold) -> gate -> label
                                -> student(gold + silver)
    scenario 3 (no target labels): candidates -> teacher(source gold) -> label target pairs -> threshold
                                -> student(silver)

Every experiment also evaluates, on the same dev/test data: the zero-shot student base, the gold-only
student (scenarios 1, 2) and the teacher, and writes everything to a run directory (see runs.py). The stages
themselves (what each reads and writes) live in `recipe/`; this module runs them in order."""

from __future__ import annotations

import contextlib
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import stages
from .config import ExperimentConfig
from .errors import Cancelled, GateStopped, failure_of
from .estimate import device_kind, estimate, estimate_record
from .evaluation import RECOMMENDATION, RECOMMENDED, SCHEDULES, format_table, headline
from .io.inputs import LoadedData, load_experiment_data
from .models import choose_device, device_description, load_student
from .plan import data_counts, preflight
from .recipe.adopt import REUSE_DATA_KEYS, adopt
from .recipe.context import Reporter, RunContext
from .recipe.deliverables import ResultsStage
from .recipe.positives import PositivePairsStage
from .recipe.silver import PAIR_COLUMNS, AugmentStage, CandidatesStage, SilverStage
from .recipe.students import LabelErrorsStage, StudentStage, ZeroShotStage
from .recipe.teacher import TeacherStage, WarmStartStage
from .runs import Run, RunFiles, RunStore
from .runs.progress import CancelToken, ProgressSink, null_sink
from .teacher import resolve_teacher
from .tracking import track_finished_run

__all__ = [
    "REUSE_DATA_KEYS",
    "STAGE_CLASSES",
    "ExperimentResult",
    "declared_writes",
    "GateStopped",
    "LoadedData",
    "load_experiment_data",
    "run_experiment",
]


#: Every stage of a run, in the recipe's order (scenario 1 augments instead of sampling, labeling and the warm start;
#: task positive_pairs mines instead): each declares the run files it writes (`Stage.writes`).
STAGE_CLASSES = (
    ZeroShotStage,
    StudentStage,
    CandidatesStage,
    WarmStartStage,
    TeacherStage,
    SilverStage,
    AugmentStage,
    PositivePairsStage,
    LabelErrorsStage,
    ResultsStage,
)
#: what the recipe itself writes before the stages: the data's fingerprints, every `auto` resolved, the estimate
SETUP_WRITES = (RunFiles.FINGERPRINTS, RunFiles.RESOLVED, RunFiles.ESTIMATE)


def declared_writes() -> set[str]:
    """Every run file a stage or the recipe's setup declares it writes."""
    return set(SETUP_WRITES).union(*(stage.writes for stage in STAGE_CLASSES))


@dataclass
class ExperimentResult:
    """What a finished experiment produced."""

    run_id: str
    run_dir: Path
    task: str
    metrics: dict[str, dict[str, dict[str, float]]]
    gate: dict[str, Any] | None = None
    n_silver: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    recommended: str | None = None  # the model key metrics.json recommends (see evaluation.recommendation)
    recommendation: dict[str, Any] | None = None  # why: {model, metric, split, baseline, dev_gain, interval, why}
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)  # what each student's training got

    def table(self) -> str:
        verdict = {RECOMMENDED: self.recommended, RECOMMENDATION: self.recommendation, SCHEDULES: self.schedules}
        return format_table({**self.metrics, **verdict}, self.task)


def run_experiment(
    cfg: ExperimentConfig,
    *,
    store: RunStore | None = None,
    run: Run | None = None,
    sink: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
    resume: bool = False,
) -> ExperimentResult:
    """Run one experiment end to end, recording everything in a run directory.

    Pass `run` to execute a run created earlier (a queued job); otherwise every data file is checked first
    and only then is a run created in `store` (bad input leaves no failed run behind).
    `resume=True` (with `run`) skips the stages an earlier attempt finished and continues interrupted
    trainings from their newest checkpoint. Raises data.DataError, ModelLoadError, Cancelled or
    GateStopped after marking the run."""
    cfg.validate()
    store = store or RunStore(cfg.runs_dir)
    checked = None
    if run is None:
        checked = preflight(cfg)  # DataError/ConfigError naming the file or key before any run exists
        choose_device(cfg.device)  # a device that is not there: ModelLoadError, no run either
        run = store.create(cfg.name, cfg.scenario, cfg.to_dict(), sampler=cfg.method_label, task=cfg.task)
    cancel = cancel or CancelToken(run.cancel_file)
    if resume:
        run.read_json(RunFiles.STATE, {})  # a corrupt state.json: RunFileError now, the run's status untouched
        run.cancel_file.unlink(missing_ok=True)
    report = Reporter(run, sink)
    run.set_status("running", finished_at=None)
    try:
        result = _Recipe(cfg, run, report, cancel, resume, data=checked).run()
    except BaseException as exc:
        failure = failure_of(exc)
        with contextlib.suppress(AttributeError, TypeError):
            exc.run_id = run.id  # the CLI names the run (and how to resume it) in its one-line error
        if failure.kind == "internal":
            run.log(traceback.format_exc())
        with contextlib.suppress(OSError):  # a full disk may refuse run.json too: the original error is the news
            run.fail(failure, status="cancelled" if isinstance(exc, Cancelled) else "failed")
        raise
    run.set_status("finished", headline=headline(result.metrics, result.task))
    if cfg.tracking == "mlflow":  # after the run is finished: a tracking failure is a warning, never a failed run
        report.stage(stages.TRACKING, track_finished_run(run, cfg))
    return result


class _Recipe:
    """One execution of a run: its context, then the stages in order (each skipped once state.json says done)."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        run: Run,
        report: Reporter,
        cancel: CancelToken,
        resume: bool,
        data: LoadedData | None = None,
    ):
        device = choose_device(cfg.device)
        teacher_cfg, teacher_choice = resolve_teacher(cfg.teacher, device)  # `auto`: resolved once, with the device
        self.ctx = RunContext(cfg, run, report, cancel, resume, device, teacher_cfg, teacher_choice)
        if resume and (state := run.state()):
            self.ctx.state = state
        self.checked_data = data  # loaded and validated before the run was created

    def run(self) -> ExperimentResult:
        ctx = self.ctx
        cfg = ctx.cfg
        self._setup()
        ctx.base = load_student(cfg.student, device=ctx.device)
        if not ctx.done("zero_shot"):
            ZeroShotStage(ctx)()
        ctx.cancel.raise_if_cancelled("evaluation")
        self._gold_students()
        gate, train, extra = self._silver()
        if not ctx.done("augsbert"):
            StudentStage(ctx, "augsbert")(train)
        if cfg.label_errors.enabled and not ctx.done("label_errors"):
            LabelErrorsStage(ctx)()
        verdict, table = ResultsStage(ctx)()
        ctx.report.stage(stages.DONE, "\n" + table)
        return ExperimentResult(
            ctx.run.id,
            ctx.run.dir,
            ctx.task,
            ctx.metrics,
            gate,
            len(extra),
            ctx.state["timings"],
            verdict[RECOMMENDED],
            verdict[RECOMMENDATION],
            verdict[SCHEDULES],
        )

    def _setup(self) -> None:
        """Load the data, record what every `auto` resolved to and the estimate, and adopt a reused run's stages."""
        ctx = self.ctx
        cfg, run, report = ctx.cfg, ctx.run, ctx.report
        resuming = f"; resuming after: {', '.join(ctx.state['done'])}" if ctx.resume else ""
        report.stage(stages.SETUP, f"device: {device_description(ctx.device)}{resuming}")
        if ctx.teacher_choice:
            report.stage(stages.SETUP, f"teacher.model auto -> {ctx.teacher_cfg.model}: {ctx.teacher_choice}")
        data = ctx.data = self.checked_data or load_experiment_data(cfg)
        run.write_json(RunFiles.FINGERPRINTS, data.fingerprints)
        if not run.path(RunFiles.RESOLVED).is_file():  # every `auto`, resolved once with the device and data
            run.write_json(RunFiles.RESOLVED, self._resolved())
        if not run.path(RunFiles.ESTIMATE).is_file():  # what it was expected to take: the ETA and calibration
            expected = estimate(cfg, data_counts(data), device=device_kind(device_description(ctx.device)))
            run.write_json(RunFiles.ESTIMATE, estimate_record(expected))
        run.store.update(run.id, task=data.task)
        report.stage(
            stages.DATA,
            f"task={data.task}; "
            + ", ".join(f"{k}={len(v)}" for k, v in ctx.splits.items())
            + (f", train={len(data.train)}" if data.train is not None else "")
            + (f", unlabeled sentences={len(data.pool)}" if data.pool is not None else ""),
        )
        if data.gold_review is not None:
            report.stage(
                stages.DATA,
                f"gold review ({cfg.data.gold_review}) applied: {data.gold_review['excluded']} pairs excluded, "
                f"{data.gold_review['corrected']} re-scored",
            )
        if cfg.reuse_from and not ctx.state["done"]:
            adopt(ctx, cfg.reuse_from, data)

    def _gold_students(self) -> None:
        """The gold-only student (scenarios 1, 2) and the full-gold ceiling when asked for."""
        ctx = self.ctx
        cfg, data = ctx.cfg, ctx.data
        if cfg.scenario_spec.gold_train and cfg.train_gold_only and not ctx.done("gold_only"):
            StudentStage(ctx, "gold_only")(data.train)
        if cfg.train_full_gold and not ctx.done("full_gold"):
            if data.full_train is not None:
                StudentStage(ctx, "full_gold")(data.full_train)
            else:
                ctx.report.stage(
                    stages.train_stage("full_gold"), "skipped: no full gold (data.full_train) in this scenario"
                )

    def _silver(self) -> tuple[dict | None, pd.DataFrame, pd.DataFrame]:
        """(the gate, the AugSBERT student's training rows, the silver or augmented pairs among them)."""
        ctx = self.ctx
        cfg, data = ctx.cfg, ctx.data
        if ctx.task == "positive_pairs":  # positives only: mined negatives, a binary teacher, triplets (mining.py)
            train, extra = PositivePairsStage(ctx)()
            return None, train, extra
        candidates = None  # scenarios 2, 3: sampled before the teacher, which warm-starts on them
        if cfg.scenario_spec.labels and not cfg.silver_file and not ctx.done("silver"):
            candidates = CandidatesStage(ctx)()
        teacher, gate = TeacherStage(ctx)(candidates)
        t0 = time.time()
        if cfg.scenario_spec.augments:
            extra = AugmentStage(ctx)()
        else:
            silver = SilverStage(ctx)(teacher, candidates)
            extra = silver.loc[silver["kept"], PAIR_COLUMNS]
        del teacher
        ctx.state["timings"]["silver"] = time.time() - t0
        train = pd.concat([data.train, extra], ignore_index=True) if cfg.scenario_spec.student_gold else extra
        return gate, train, extra

    def _resolved(self) -> dict:
        """What the config's `auto` choices stand for in this run (resolved.json): the device, the teacher base and
        why, the candidate pairs and silver budget for this data, how the silver labeler is chosen."""
        ctx = self.ctx
        cfg, data = ctx.cfg, ctx.data
        has_pairs = data.pool is not None and data.pool.pairs is not None
        return {
            "device": ctx.device,
            "teacher_model": ctx.teacher_cfg.model,
            "teacher_model_why": ctx.teacher_choice or "as configured",
            "candidates": cfg.candidate_source(has_pairs) if cfg.scenario_spec.labels else None,
            "silver_cap": cfg.silver_cap,
            "labeler": cfg.labeling.recorded if cfg.scenario_spec.labels else None,
        }
