"""The three AugSBERT scenario recipes: the only place that knows the order of the steps.

    scenario 1 (full gold):    augment gold -> student(gold + augmented)
    scenario 2 (limited gold): teacher(gold) -> gate -> sample candidates -> label -> student(gold + silver)
    scenario 3 (no target labels): teacher(source gold) -> label target pairs -> threshold -> student(silver)

Every experiment also evaluates, on the same dev/test data: the zero-shot student base, the gold-only
student (scenarios 1, 2) and the teacher, and writes everything to a run directory (see runs.py)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import data as data_mod
from . import registry, stages
from .augment import augment_pairs
from .config import ConfigError, ExperimentConfig
from .distributions import distribution_distance
from .ensemble import TeacherEnsemble, fit_ensemble
from .ensemble import describe as describe_ensemble
from .errors import Cancelled, GateStopped, failure_of
from .estimate import device_kind, estimate, estimate_record
from .evaluation import (
    PRIMARY_METRIC,
    RECOMMENDATION,
    RECOMMENDED,
    SCHEDULES,
    SplitScores,
    best_threshold,
    bi_encoder_scores,
    evaluate_bi_encoder,
    format_table,
    headline,
    primary_score,
    recommendation,
    recommendation_notes,
    schedule_label,
    score_splits,
    write_predictions,
)
from .gate import readiness_gate
from .inputs import LoadedData, load_experiment_data
from .label_errors import find_label_errors
from .mining import (
    check_report,
    check_silver,
    mine_negatives,
    mined_candidates,
    mining_corpus,
    student_pairs,
    teacher_pairs,
)
from .model_card import CardFacts, write_card
from .models import (
    DEFAULT_MODEL,
    MPNET,
    STATIC,
    choose_device,
    device_description,
    is_fresh_head_bi_encoder,
    is_saved_model,
    load_bi_encoder,
    load_cross_encoder,
    load_student,
)
from .plan import data_counts, preflight
from .probe import PROBE_FRACTION, labeler_probes_wanted, probe_labelers
from .progress import CancelToken, ProgressEvent, ProgressSink, null_sink
from .runs import Run, RunFiles, RunStore, atomic_write_text
from .sampling import achieved_shares
from .silver import (
    Labeler,
    cap_before_labeling,
    given_silver,
    kept_mask,
    make_candidates,
    ray_scorer,
    warm_start_pairs,
)
from .speed import ONE_PASS_MIN_PAIRS, ONE_PASS_PAIRS, one_pass, pairs_per_s, speed_report, timed_split
from .student import default_loss, train_student
from .teacher import (
    LabelCache,
    evaluate_cross_encoder,
    fit_teacher,
    label_pairs,
    resolve_teacher,
    teacher_inputs,
    warm_start_cap,
    warm_start_teacher,
)
from .tracking import track_finished_run, trainer_report_to

__all__ = ["ExperimentResult", "GateStopped", "LoadedData", "load_experiment_data", "run_experiment"]


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


# data keys that change how the same files are read (labels, scale, the pool): a reused run must share them
REUSE_DATA_KEYS = ("scale", "source_scale", "column_map", "column_maps", "max_unlabeled")


class _Reporter:
    """Forwards progress to the run's events file, its log and an outside sink."""

    def __init__(self, run: Run, sink: ProgressSink) -> None:
        self.run, self.sink = run, sink

    def __call__(self, event: ProgressEvent) -> None:
        self.run.event(event.to_dict())
        self.sink(event)

    def stage(self, stage: str, message: str) -> None:
        self.run.log(f"[{stage}] {message}")
        self(ProgressEvent(stage, message=message))


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
    report = _Reporter(run, sink)
    run.set_status("running", finished_at=None)
    try:
        result = _Experiment(cfg, run, report, cancel, resume, data=checked).run()
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


class _Experiment:
    """One execution of the recipe. Finished stages are recorded in state.json so a resumed run skips them."""

    def __init__(
        self,
        cfg: ExperimentConfig,
        run: Run,
        report: _Reporter,
        cancel: CancelToken,
        resume: bool,
        data: LoadedData | None = None,
    ):
        self.cfg, self.run_, self.report, self.cancel, self.resume = cfg, run, report, cancel, resume
        self.checked_data = data  # loaded and validated before the run was created
        state = run.state() if resume else None
        self.state = state or {"done": [], "metrics": {}, "predictions": {}, "timings": {}}
        self.device = choose_device(cfg.device)
        self.models_dir = run.path(RunFiles.MODELS)
        # sentence embeddings of the bi-encoders, kept in memory for this execution: the warm start and the
        # ensemble labeler score mostly the same sentences with the same model
        self.embedding_memo: dict[str, dict[str, np.ndarray]] = {"gold_only": {}, "zero_shot": {}, "teacher_base": {}}
        # `teacher.model: auto` stands for a base chosen by device (models.default_teacher); the config stays as given
        self.teacher_cfg, self.teacher_choice = resolve_teacher(cfg.teacher, self.device)

    # --- state ---------------------------------------------------------------------------------
    def done(self, stage: str) -> bool:
        return stage in self.state["done"]

    def finish(
        self, stage: str, started: float, metrics: dict | None = None, predictions: dict[str, np.ndarray] | None = None
    ) -> None:
        if metrics is not None:
            self.state["metrics"][stage] = metrics
        if predictions is not None:
            self.state["predictions"][stage] = {k: [float(x) for x in v] for k, v in predictions.items()}
        self.state["timings"][stage] = time.time() - started
        self.state["done"].append(stage)
        self.run_.write_json(RunFiles.STATE, self.state)

    @property
    def metrics(self) -> dict[str, dict[str, dict[str, float]]]:
        return self.state["metrics"]

    def train_kwargs(self, stage: str) -> dict[str, Any]:
        return dict(
            seed=self.cfg.seed,
            device=self.device,
            sink=self.report,
            cancel=self.cancel,
            evals=self.cfg.live_evals,
            checkpoints=self.cfg.checkpoints,
            resume=self.resume,
            report_to=trainer_report_to(self.cfg.tracking),
        )

    # --- the recipe ------------------------------------------------------------------------------
    def run(self) -> ExperimentResult:
        cfg, report = self.cfg, self.report
        report.stage(
            stages.SETUP,
            f"device: {device_description(self.device)}"
            + (f"; resuming after: {', '.join(self.state['done'])}" if self.resume else ""),
        )
        if self.teacher_choice:
            report.stage(stages.SETUP, f"teacher.model auto -> {self.teacher_cfg.model}: {self.teacher_choice}")
        data = self.checked_data or load_experiment_data(cfg)
        self.run_.write_json(RunFiles.FINGERPRINTS, data.fingerprints)
        if not self.run_.path(RunFiles.RESOLVED).is_file():  # every `auto`, resolved once with the device and data
            self.run_.write_json(RunFiles.RESOLVED, self._resolved(data))
        if not self.run_.path(RunFiles.ESTIMATE).is_file():  # what it was expected to take: the ETA and calibration
            expected = estimate(cfg, data_counts(data), device=device_kind(device_description(self.device)))
            self.run_.write_json(RunFiles.ESTIMATE, estimate_record(expected))
        self.run_.store.update(self.run_.id, task=data.task)
        task = data.task
        splits = {name: f for name, f in (("dev", data.dev), ("test", data.test)) if f is not None}
        report.stage(
            stages.DATA,
            f"task={task}; "
            + ", ".join(f"{k}={len(v)}" for k, v in splits.items())
            + (f", train={len(data.train)}" if data.train is not None else "")
            + (f", unlabeled sentences={len(data.pool)}" if data.pool is not None else ""),
        )

        if data.gold_review is not None:
            report.stage(
                stages.DATA,
                f"gold review ({cfg.data.gold_review}) applied: {data.gold_review['excluded']} pairs excluded, "
                f"{data.gold_review['corrected']} re-scored",
            )
        if cfg.reuse_from and not self.state["done"]:
            self._adopt(cfg.reuse_from, data)

        base = load_student(cfg.student, device=self.device)
        if not self.done("zero_shot"):
            t0, preds, speed = time.time(), {}, {}
            metrics = evaluate_bi_encoder(base, splits, task, preds, speed=speed)
            self.state.setdefault("speed", {})["zero_shot"] = speed
            self.finish("zero_shot", t0, metrics, preds)
            report.stage(stages.eval_stage("zero_shot"), _fmt(metrics, task))
        self.cancel.raise_if_cancelled("evaluation")

        if cfg.scenario in (1, 2) and cfg.train_gold_only and not self.done("gold_only"):
            self._train_student("gold_only", data.train, data, splits, task)
        if cfg.train_full_gold and not self.done("full_gold"):
            if data.full_train is not None:
                self._train_student("full_gold", data.full_train, data, splits, task)
            else:
                report.stage(
                    stages.train_stage("full_gold"), "skipped: no full gold (data.full_train) in this scenario"
                )

        if task == "positive_pairs":  # positives only: mined negatives, a binary teacher, triplets (mining.py)
            gate, (train, extra) = None, self._positive_pairs(data, splits, base)
        else:
            candidates = None  # scenarios 2, 3: sampled before the teacher, which warm-starts on them
            if cfg.scenario != 1 and not cfg.silver_file and not self.done("silver"):
                candidates = self._candidates(data, base)
            teacher, gate = self._teacher(data, splits, task, candidates, base)

            t0 = time.time()
            if cfg.scenario == 1:
                extra = self._augmented(data)
            else:
                silver = self._silver(data, teacher, task, candidates, splits)
                extra = silver.loc[silver["kept"], ["sentence1", "sentence2", "label"]]
            del teacher
            self.state["timings"]["silver"] = time.time() - t0
            train = extra if cfg.scenario == 3 else pd.concat([data.train, extra], ignore_index=True)
        if not self.done("augsbert"):
            self._train_student("augsbert", train, data, splits, task)
        if cfg.label_errors.enabled and not self.done("label_errors"):
            self._label_errors(data, base)

        metrics = self.metrics
        predictions = {
            k: {split: np.asarray(v) for split, v in per.items()} for k, per in self.state["predictions"].items()
        }
        write_predictions(self.run_.path(RunFiles.PREDICTIONS), splits, predictions)
        self.run_.write_json(RunFiles.TIMINGS, self.state["timings"])
        self._write_speed_and_cards(data, splits, base)
        why = recommendation(
            metrics,
            task,
            predictions,
            {name: f["label"].to_numpy() for name, f in splits.items()},
            seed=self.cfg.seed,
        )
        recommended = why["model"] if why else None
        if why:  # how it squares with the other metrics and the gate (the app's card and the report say it)
            why["notes"] = recommendation_notes(metrics, why, self.run_.gate(), task)
        verdict = {RECOMMENDED: recommended, RECOMMENDATION: why, SCHEDULES: self.state.get("schedules", {})}
        # last: its presence means the run finished
        self.run_.write_json(RunFiles.METRICS, {**metrics, **verdict})
        table = format_table({**metrics, **verdict}, task)
        atomic_write_text(self.run_.path(RunFiles.METRICS_TXT), table + "\n")
        report.stage(stages.DONE, "\n" + table)
        return ExperimentResult(
            self.run_.id,
            self.run_.dir,
            task,
            metrics,
            gate,
            len(extra),
            self.state["timings"],
            recommended,
            why,
            self.state.get("schedules", {}),
        )

    def _label_errors(self, data: LoadedData, base) -> None:
        """Rank the gold train pairs by cross-fitted teachers (label_errors.csv); scenarios 1 and 2 only."""
        if self.cfg.scenario == 3:
            self.report.stage(stages.LABEL_ERRORS, "skipped: scenario 3 has no gold train pairs to rank")
            return
        t0 = time.time()
        table = find_label_errors(
            self.cfg,
            data,
            self.models_dir / "label_errors",
            device=self.device,
            bi_encoder=base,
            sink=self.report,
            cancel=self.cancel,
            log=self.run_.log,
        )
        data_mod.write_table(data_mod.safe_for_spreadsheet(table), self.run_.path(RunFiles.LABEL_ERRORS))
        shutil.rmtree(self.models_dir / "label_errors", ignore_errors=True)  # only the warm start is left there
        top = table.head(3)
        self.report.stage(
            stages.LABEL_ERRORS,
            f"{len(table):,} gold pairs ranked; most suspect rows: "
            + ", ".join(f"{r.row} (label {r.label:g}, predicted {r.oof_prediction:.2f})" for r in top.itertuples()),
        )
        self.finish("label_errors", t0)

    def _train_student(self, key: str, train: pd.DataFrame, data: LoadedData, splits, task: str) -> None:
        t0, schedule = time.time(), {}
        self.report.stage(
            stages.train_stage(key), f"training the {stages.STUDENTS[key]} student on {len(train):,} pairs"
        )
        model = train_student(
            train,
            self.cfg.student,
            self.models_dir / key,
            task=task,
            dev=data.dev,
            stage=stages.train_stage(key),
            schedule=schedule,
            **self.train_kwargs(key),
        )
        preds: dict[str, np.ndarray] = {}
        speed: dict = {}
        metrics = evaluate_bi_encoder(model, splits, task, preds, speed=speed)
        self.state.setdefault("speed", {})[key] = speed
        self.state.setdefault("schedules", {})[key] = schedule
        self.state.setdefault("trained_on", {})[key] = self._trained_on(key, len(train), data)
        self.finish(key, t0, metrics, preds)
        self.report.stage(stages.eval_stage(key), f"{_fmt(metrics, task)}; schedule: {schedule_label(schedule)}")

    def _teacher(self, data: LoadedData, splits, task: str, candidates: pd.DataFrame | None, base):
        """The labeling teacher (None when silver comes from a file) and the readiness gate."""
        cfg = self.cfg
        if cfg.scenario != 1 and cfg.silver_file:
            self.report.stage(stages.TEACHER_TRAIN, "skipped: using the given silver file")
            return None, None
        if self.done("teacher"):
            gate = self.run_.gate()
            needed = cfg.scenario != 1 and not self.done("silver")  # only labeling still needs it
            return (
                self._labeler(
                    load_cross_encoder(
                        str(self.models_dir / "teacher"),
                        device=self.device,
                        trust_remote_code=self.teacher_cfg.trust_remote_code,
                    )
                )
                if needed
                else None
            ), gate
        gold, dev, teacher_task = teacher_inputs(cfg, data)
        teacher_cfg, warm = self.teacher_cfg, None
        if self._wants_warm_start() and candidates is not None and len(candidates):
            warm = self._warm_start(candidates, base, data, splits, task)  # timed as its own stage, teacher_warm
            teacher_cfg = replace(teacher_cfg, model=str(self.models_dir / "teacher_warm"))
        t0 = time.time()  # the teacher stage: training on gold, its evaluation and the gate (not the warm start)
        if cfg.teacher_search.enabled:
            what = (
                f"teacher search on {len(gold):,} gold pairs, chosen on dev "
                f"(budget {cfg.teacher_search.budget_minutes:g} min)"
            )
        elif cfg.teacher.epochs:
            what = f"training the cross-encoder teacher on {len(gold):,} pairs (both orders)" + (
                ", from its warm start" if warm else ""
            )
        else:
            what = f"using the ready cross-encoder {teacher_cfg.model}"
        self.report.stage(stages.TEACHER_TRAIN, what)
        options = self.train_kwargs("teacher")
        teacher, trials = fit_teacher(
            gold,
            teacher_cfg,
            cfg.teacher_search,
            self.models_dir / "teacher",
            dev=dev,
            task=teacher_task,
            **options,
        )
        if trials is not None:
            self.run_.write_json(RunFiles.TEACHER_SEARCH, {"trials": trials})
            chosen = next(t for t in trials if t.get("chosen"))
            self.report.stage(
                stages.TEACHER_SEARCH,
                f"chose {chosen['epochs']:g} epochs, lr {chosen['learning_rate']:g} "
                f"({sum(t['status'] == 'done' for t in trials)} of {len(trials)} trials run)",
            )
        cache = self._label_cache()
        preds: dict[str, np.ndarray] = {}
        speed: dict = {}
        metrics = evaluate_cross_encoder(
            teacher, splits, task, batch_size=cfg.label_batch_size, predictions=preds, cache=cache, speed=speed
        )
        self.report.stage(stages.eval_stage("teacher"), _fmt(metrics, task))
        self.state["metrics"]["teacher"] = metrics
        self.state.setdefault("speed", {})["teacher"] = speed
        self.state.setdefault("trained_on", {})["teacher"] = self._teacher_trained_on(len(gold), warm, trials)
        self._write_cards(data, splits, ("teacher",))  # now: a run the gate stops keeps its teacher's card
        self.state["predictions"]["teacher"] = {k: [float(x) for x in v] for k, v in preds.items()}
        ensemble = self._fit_ensemble(splits, task)
        teacher_config = getattr(getattr(teacher, "model", None), "config", None)  # the loaded teacher's HF config
        gate = readiness_gate(
            self.metrics, task, cfg, ensemble=ensemble, teacher_model_type=getattr(teacher_config, "model_type", None)
        )
        gate["teacher_model"] = self.teacher_cfg.model
        if self.teacher_choice:
            gate["teacher_model_why"] = self.teacher_choice
        if warm is not None:
            split = gate["split"]
            warm["dev_final"] = metrics.get(split, {}).get(PRIMARY_METRIC[task])
            warm["split"] = split
            gate["warm_start"] = warm
        else:
            gate["warm_start"] = {"used": False, "why": self._warm_start_why()}
        self.run_.write_json(RunFiles.GATE, gate)
        self.report.stage(stages.GATE, gate["message"])
        self.finish("teacher", t0, metrics, preds)
        if gate["verdict"] == "weak" and cfg.gate.action == "stop":
            self.run_.write_json(RunFiles.METRICS_PARTIAL, self.metrics)
            raise GateStopped(gate["message"])
        return self._labeler(teacher), gate

    # --- deliverables: speed.json and the model cards ---------------------------------------------------------
    def _trained_on(self, key: str, n: int, data: LoadedData) -> str:
        """What a student trained on, in one line with its sizes (for its model card)."""
        if key != "augsbert":
            return f"{n:,} gold pairs" + (" (all the gold: the full-gold ceiling)" if key == "full_gold" else "")
        if self.cfg.scenario == 3:
            return f"{n:,} silver pairs of the target domain labeled by the teacher (no target gold)"
        gold = len(data.train) if data.train is not None else 0
        extra = "augmented copies of gold pairs" if self.cfg.scenario == 1 else "silver pairs labeled by the teacher"
        return f"{n:,} pairs: {gold:,} gold + {n - gold:,} {extra}"

    def _teacher_trained_on(self, n: int, warm: dict | None, trials: list[dict] | None) -> str:
        """What the teacher trained on, in one line with its sizes (for its model card)."""
        if not self.cfg.teacher.epochs and trials is None:
            return f"not trained in this run: the cross-encoder `{self.teacher_cfg.model}` as given (teacher.epochs 0)"
        where = " of the source domain" if self.cfg.scenario == 3 else ""
        text = f"{n:,} gold pairs{where}, each in both orders ({2 * n:,} examples)"
        if warm:
            text += f"; first warm-started on {warm.get('pairs', 0):,} candidate pairs scored by a bi-encoder"
        if trials is not None:
            text += f"; epochs and learning rate chosen on dev among {len(trials)} trials"
        return text

    def _write_cards(self, data: LoadedData, splits, keys) -> None:
        """(Re)write the README.md model card of each model folder in `keys` that exists, from the run's state."""
        speeds = self.state.get("speed", {})
        rates = {k: r for k in speeds if (r := pairs_per_s({"models": speeds}, k))}
        device = device_description(self.device)
        for key in keys:
            folder = self.models_dir / key
            if not is_saved_model(folder):
                continue
            teacher = key == "teacher"
            trained_on = self.state.get("trained_on", {}).get(key, "see the run's config.json")
            if teacher and (own := teacher_inputs(self.cfg, data)[2]) != data.task:  # scenario 3: source scores
                trained_on += f" (as {own} on the source's labels; scored below on the target's)"
            write_card(
                folder,
                CardFacts(
                    key=key,
                    kind="cross-encoder" if teacher else "bi-encoder",
                    run_id=self.run_.id,
                    base_model=self.teacher_cfg.model if teacher else self.cfg.student.model,
                    task=data.task,
                    scale=data.scale,
                    trained_on=trained_on,
                    scores=self.metrics.get(key, {}),
                    eval_sizes={name: len(f) for name, f in splits.items()},
                    speed=speeds.get(key) or None,
                    device=device,
                    other_speeds=rates,
                ),
            )

    def _write_speed_and_cards(self, data: LoadedData, splits, base) -> None:
        """speed.json and the final model cards. Every model is timed again in one pass on the same pairs (the
        evaluation-time figures come from different moments of the run, under different loads); a split under
        ONE_PASS_MIN_PAIRS keeps the evaluation-time figures."""
        speeds = {k: v for k, v in self.state.get("speed", {}).items() if v}
        split = timed_split(splits)
        if split is not None and len(splits[split]) >= ONE_PASS_MIN_PAIRS and speeds:
            speeds.update(self._speed_pass(splits[split].head(ONE_PASS_PAIRS), split, base, set(speeds)))
            self.state["speed"] = speeds  # the model cards read the one-pass figures
        self.run_.write_json(RunFiles.SPEED, speed_report(self.device, device_description(self.device), speeds))
        self._write_cards(data, splits, ("teacher", "augsbert", "gold_only", "full_gold"))

    def _speed_pass(self, pairs: pd.DataFrame, split: str, base, keys: set[str]) -> dict[str, dict]:
        """speed.one_pass over the run's models that were timed during evaluation (zero-shot: the base in memory)."""
        batch = 64
        scorers: dict = {}
        for key in ("zero_shot", "gold_only", "full_gold", "augsbert"):
            folder = self.models_dir / key
            if key in keys and (key == "zero_shot" or is_saved_model(folder)):
                model = base if key == "zero_shot" else load_bi_encoder(str(folder), device=self.device)
                scorers[key] = ("bi-encoder", lambda a, b, m=model: bi_encoder_scores(m, a, b, batch_size=batch))
        if "teacher" in keys and is_saved_model(self.models_dir / "teacher"):
            teacher = load_cross_encoder(str(self.models_dir / "teacher"), device=self.device)
            scorers["teacher"] = ("cross-encoder", lambda a, b: label_pairs(teacher, a, b, batch_size=batch))
        self.report.stage(stages.SPEED, f"timing {len(scorers)} models on the same {len(pairs):,} {split} pairs")
        return one_pass(scorers, list(pairs["sentence1"]), list(pairs["sentence2"]), split=split, batch_size=batch)

    def _wants_warm_start(self) -> bool:
        mode, t = self.teacher_cfg.warm_start, self.teacher_cfg
        if mode == "off" or not t.epochs:
            return False
        return mode == "on" or is_fresh_head_bi_encoder(t.model)

    def _warm_start_why(self) -> str:
        t = self.teacher_cfg
        if t.warm_start == "off":
            return "teacher.warm_start: off"
        if not t.epochs:
            return "the teacher is used as it is (teacher.epochs = 0)"
        if self.cfg.silver_file or self.cfg.scenario == 1:
            return "no candidate pairs in this run"
        if not self._wants_warm_start():
            return f"auto: {t.model} is not a bi-encoder checkpoint with a fresh head"
        return "no candidate pairs to warm up on"

    def _warm_member(self) -> str:
        """Whose similarities the teacher warms up on: the gold-only student (else the zero-shot base), or, for a fast
        student (static, or cut to fewer layers), the teacher base's own bi-encoder (the offline MiniLM): measured on
        the demo, a static gold-only student (81.4 dev) warmed the teacher to 80.3 dev, the MiniLM one (87.8) to
        85.0."""
        fast = self.cfg.student.model == STATIC or bool(self.cfg.student.layers)
        if fast and self.teacher_cfg.model in (DEFAULT_MODEL, MPNET):
            return "teacher_base"
        return "gold_only" if is_saved_model(self.models_dir / "gold_only") else "zero_shot"

    def _warm_start(self, candidates: pd.DataFrame, base, data: LoadedData, splits, task: str) -> dict:
        """Train the cross-encoder on the bi-encoder's cosine over the candidates (stage teacher_warm, cached)."""
        folder = self.models_dir / "teacher_warm"
        info_path = RunFiles.TEACHER_WARM
        if self.done("teacher_warm") and (folder / RunFiles.CONFIG).is_file():
            return self.run_.read_json(info_path, {"used": True})
        t0 = time.time()
        member = self._warm_member()
        if member == "teacher_base":  # a fast student is a weak guide: the teacher base's own bi-encoder is stronger
            bi = load_bi_encoder(
                self.teacher_cfg.model, device=self.device, max_seq_length=self.teacher_cfg.max_seq_length
            )
        elif member == "zero_shot":
            bi = base
        else:
            bi = load_bi_encoder(
                str(self.models_dir / "gold_only"), device=self.device, max_seq_length=self.cfg.student.max_seq_length
            )
        pairs = warm_start_pairs(
            candidates, self.teacher_cfg.warm_start_top_k, data.train, base, self.cfg.seed, self.cfg.bm25_max_df
        )
        self.report.stage(
            stages.TEACHER_WARM,
            f"warm start: the teacher learns the {member.replace('_', '-')} "
            f"bi-encoder's similarity on {min(len(pairs), warm_start_cap(self.device)):,} pairs (of "
            f"{len(candidates):,} candidates + BM25 top-{self.teacher_cfg.warm_start_top_k} neighbours)",
        )
        model, info = warm_start_teacher(
            pairs,
            bi,
            self.teacher_cfg,
            folder,
            seed=self.cfg.seed,
            device=self.device,
            sink=self.report,
            cancel=self.cancel,
            checkpoints=self.cfg.checkpoints,
            resume=self.resume,
            memo=self.embedding_memo[member],
            report_to=trainer_report_to(self.cfg.tracking),
            max_pairs=warm_start_cap(self.device),
        )
        info.update(
            used=True, bi_encoder=member, candidates=int(len(candidates)), top_k=self.teacher_cfg.warm_start_top_k
        )
        if "dev" in splits:
            dev = splits["dev"]
            pred = label_pairs(model, dev["sentence1"], dev["sentence2"], batch_size=self.cfg.label_batch_size)
            info["dev_after_warm"] = primary_score(pred, dev["label"].to_numpy(), task)
            self.report.stage(
                stages.TEACHER_WARM,
                f"after the warm start, before gold: dev {PRIMARY_METRIC[task]} {100 * info['dev_after_warm']:.2f}",
            )
        del model
        self.run_.write_json(info_path, info)
        self.finish("teacher_warm", t0)
        return info

    def _scorer(self):
        """Where the teacher scores silver pairs: None = here; with engine: ray, its Ray Data actors."""
        return ray_scorer(
            self.cfg,
            self.models_dir / "teacher",
            self.run_.path(RunFiles.RAY),
            trust_remote_code=self.teacher_cfg.trust_remote_code,
        )

    def _label_cache(self, for_labeling: bool = False) -> LabelCache | None:
        """The teacher's label cache for scores made on this device, or (`for_labeling`) where silver labeling runs:
        with engine: ray, the actors' device kind (GPU actors write cuda scores, whatever this process runs on)."""
        if not self.cfg.label_cache:
            return None
        device = self.device
        if for_labeling and self.cfg.engine == "ray":
            device = "cuda" if self.cfg.ray.gpus_per_worker else "cpu"
        try:
            return LabelCache.for_model(self.models_dir / "teacher", device)
        except Exception as exc:  # noqa: BLE001 - the cache is an optimisation: a broken one must not fail the run
            self.run_.log(f"[label] label cache unavailable: {exc}")
            return None

    def _fit_ensemble(self, splits, task: str) -> TeacherEnsemble | None:
        """Fit the teacher ensemble on dev (from stored predictions): the cross-encoder plus the gold-only
        bi-encoder (scenario 2) or, with no target gold (scenario 3), the zero-shot student."""
        cfg, preds = self.cfg, self.state["predictions"]
        member = "gold_only" if "gold_only" in preds else "zero_shot"
        if (
            cfg.scenario == 1
            or cfg.ensemble == "off"
            or cfg.labeler == "cross_encoder"
            or member not in preds
            or "dev" not in splits
        ):
            return None
        ce, bi = preds["teacher"], preds[member]
        try:
            ensemble = fit_ensemble(
                np.asarray(ce["dev"]), np.asarray(bi["dev"]), splits["dev"]["label"].to_numpy(), task, seed=cfg.seed
            )
        except ValueError as exc:  # too small a dev split: label with the cross-encoder alone
            self.report.stage(stages.ENSEMBLE, f"skipped: {exc}")
            return None
        if cfg.labeler != "auto":
            used = cfg.labeler == "ensemble"
        else:
            used = cfg.ensemble == "on" or ensemble.beats_members  # may change after the labeler probe
        ensemble.report["used"] = used
        ensemble.report["bi_encoder"] = member
        combined = {split: ensemble(np.asarray(ce[split]), np.asarray(bi[split])) for split in splits if split in ce}
        self.state["metrics"]["ensemble"] = score_splits(
            {n: SplitScores(combined[n], splits[n]["label"].to_numpy()) for n in combined}, task
        )
        self.state["predictions"]["ensemble"] = {k: [float(x) for x in v] for k, v in combined.items()}
        self.run_.write_json(RunFiles.ENSEMBLE, ensemble.to_dict())
        self.report.stage(
            stages.ENSEMBLE,
            describe_ensemble(ensemble) + ("; labeling with it" if used else "; labeling with the cross-encoder alone"),
        )
        return ensemble if used else None

    def _labeler(self, cross_encoder) -> Labeler:
        """The cross-encoder, joined by the fitted ensemble and its bi-encoder (gold-only or zero-shot) when the
        ensemble may label: chosen on dev (`used`), forced, or one of the options the labeler probe weighs."""
        raw = self.run_.ensemble()
        ensemble = TeacherEnsemble.from_dict(raw) if raw else None
        if ensemble is not None and not (ensemble.report.get("used") or self._probe_wanted()):
            ensemble = None
        bi = None
        if ensemble is not None:
            zero_shot = ensemble.report.get("bi_encoder") == "zero_shot"
            bi = (
                load_student(self.cfg.student, device=self.device)
                if zero_shot
                else load_bi_encoder(
                    str(self.models_dir / "gold_only"),
                    device=self.device,
                    max_seq_length=self.cfg.student.max_seq_length,
                )
            )
        use = "ensemble" if ensemble is not None and ensemble.report.get("used") else "cross_encoder"
        memo = self.embedding_memo.get(ensemble.report.get("bi_encoder", "gold_only")) if ensemble else None
        return Labeler(
            cross_encoder,
            self._label_cache(for_labeling=True),
            self.cfg.label_batch_size,
            ensemble,
            bi,
            use,
            memo,
            self._scorer(),
        )

    def _resolved(self, data: LoadedData) -> dict:
        """What the config's `auto` choices stand for in this run (resolved.json): the device, the teacher base and
        why, the candidate pairs and silver budget for this data, how the silver labeler is chosen."""
        cfg = self.cfg
        has_pairs = data.pool is not None and data.pool.pairs is not None
        labeler = cfg.labeler
        if labeler == "auto":  # probes choose when the ensemble may label; else the ensemble setting decides
            labeler = "probes" if self._probe_wanted() else ("ensemble" if cfg.ensemble == "on" else "cross_encoder")
        return {
            "device": self.device,
            "teacher_model": self.teacher_cfg.model,
            "teacher_model_why": self.teacher_choice or "as configured",
            "candidates": cfg.candidate_source(has_pairs) if cfg.scenario != 1 else None,
            "silver_cap": cfg.silver_cap,
            "labeler": labeler if cfg.scenario != 1 else None,
        }

    def _probe_wanted(self) -> bool:
        """labeler: auto with the ensemble allowed to label (ensemble: auto): short student probes choose."""
        return labeler_probes_wanted(self.cfg)

    def _adopt(self, source: str, data: LoadedData) -> None:
        """Reuse the zero-shot, gold-only and teacher stages of a finished run with the same data and models."""
        src = Path(source).expanduser()
        if not (src / RunFiles.STATE).is_file():
            src = self.run_.store.root / source
        if not (src / RunFiles.STATE).is_file():
            raise ConfigError(f"reuse_from: no run found at {source!r} (give a run id or a run directory)")
        theirs = _read_json(src / RunFiles.CONFIG)
        for key in (
            "scenario",
            "task",
            "seed",
            "student",
            "teacher",
            "teacher_search",
            "ensemble",
            "train_gold_only",
            "label_batch_size",
            "labeler",
        ):
            if theirs.get(key) != self.cfg.to_dict().get(key):
                raise ConfigError(
                    f"reuse_from {source!r}: '{key}' differs ({theirs.get(key)!r} there, "
                    f"{self.cfg.to_dict().get(key)!r} here); its trained models do not fit this run"
                )
        ours_data, their_data = self.cfg.to_dict().get("data") or {}, theirs.get("data") or {}
        for key in REUSE_DATA_KEYS:  # the same files read another way give other labels
            if their_data.get(key) != ours_data.get(key):
                raise ConfigError(
                    f"reuse_from {source!r}: 'data.{key}' differs ({their_data.get(key)!r} there, "
                    f"{ours_data.get(key)!r} here); its models learned other labels"
                )
        their_prints = _read_json(src / RunFiles.FINGERPRINTS)
        state = _read_json(src / RunFiles.STATE)
        for key in ("train", "dev", "test", "unlabeled", "source_train", "source_dev", "full_train", "gold_review"):
            if key == "full_train" and "full_gold" not in state["done"]:
                continue
            if their_prints.get(key) != data.fingerprints.get(key):
                raise ConfigError(f"reuse_from {source!r}: data.{key} is not the same file content")
        for stage in ("zero_shot", "gold_only", "full_gold", "teacher"):
            if stage not in state["done"]:
                continue
            for key in (stage, "ensemble") if stage == "teacher" else (stage,):
                if key in state["metrics"]:
                    self.state["metrics"][key] = state["metrics"][key]
                    self.state["predictions"][key] = state["predictions"].get(key, {})
                for extra in ("speed", "trained_on", "schedules"):  # measured and described in that run
                    if key in state.get(extra, {}):
                        self.state.setdefault(extra, {})[key] = state[extra][key]
            self.state["timings"][stage] = 0.0
            self.state["done"].append(stage)
            if (src / "models" / stage).is_dir():
                _link_tree(src / "models" / stage, self.models_dir / stage)
        for name in (RunFiles.GATE, RunFiles.ENSEMBLE, RunFiles.TEACHER_SEARCH):
            if (src / name).is_file():
                shutil.copy2(src / name, self.run_.path(name))
        self.state["reused_from"] = src.name
        self.run_.write_json(RunFiles.STATE, self.state)
        self.report.stage(stages.REUSE, f"reusing {', '.join(self.state['done'])} from run {src.name}")

    def _positive_pairs(self, data: LoadedData, splits, base) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Task positive_pairs (mining.py): hard negatives mined for the gold positives, a binary teacher trained on
        them that checks the mined negatives and labels the sampled candidates, and the AugSBERT student's rows
        (triplets for `mnrl`). Returns (the student's training rows, the kept silver pairs)."""
        cfg = self.cfg
        corpus = mining_corpus(data.train, data.pool)
        if self.done("silver"):
            silver = pd.read_csv(
                self.run_.path(RunFiles.SILVER), keep_default_na=False, dtype={"sentence1": str, "sentence2": str}
            ).astype({"kept": bool})
        else:
            silver = self._positive_silver(data, splits, base, corpus)
        loss = cfg.student.loss or default_loss("positive_pairs")
        train = student_pairs(data.train, silver, loss, corpus, cfg.seed)
        if registry.loss(loss).positives_only:
            data_mod.write_table(train, self.run_.path(RunFiles.TRIPLETS))
        return train, silver[silver["kept"]]

    def _positive_silver(self, data: LoadedData, splits, base, corpus: list[str]) -> pd.DataFrame:
        """Mine (stage `mine`, mined.csv, mining.json), sample, train and evaluate the binary teacher, then let it
        score every mined negative and sampled pair (silver.csv, silver_summary.json)."""
        cfg, report = self.cfg, self.report
        positives = data.train[data.train["label"] == 1]
        t0 = time.time()
        mined_path, sampled_path = self.run_.path(RunFiles.MINED), self.run_.path(RunFiles.CANDIDATES)
        if self.done("candidates") and mined_path.is_file() and sampled_path.is_file():
            mined = pd.read_csv(mined_path, keep_default_na=False, dtype=str).astype(
                {"cosine": float, "positive_cosine": float, "rank": int}
            )
            sampled = pd.read_csv(sampled_path, keep_default_na=False, dtype={"sentence1": str, "sentence2": str})
            info = self.run_.read_json(RunFiles.MINING, {})
        else:
            report.stage(
                stages.MINE,
                f"mining hard negatives for {len(positives):,} gold positives among {len(corpus):,} sentences",
            )
            mined, info = mine_negatives(positives, corpus, base, cfg.mining, batch_size=cfg.label_batch_size)
            data_mod.write_table(mined, mined_path)
            self.run_.write_json(RunFiles.MINING, info)
            report.stage(
                stages.MINE,
                f"{info['mined']:,} negatives mined ({info['for_teacher']:,} train the teacher, {info['held_out']:,} "
                f"held out); {info['anchors_without_negatives']} anchors without one",
            )
            sampled = cap_before_labeling(make_candidates(cfg, data, base, report), cfg)
            data_mod.write_table(sampled, sampled_path)
            self.finish("candidates", t0)
        self.cancel.raise_if_cancelled("mining")

        t1 = time.time()
        labeled = {name: f for name, f in splits.items() if f["label"].nunique() == 2}  # splits with 0/1 labels
        if self.done("teacher"):
            remote = self.teacher_cfg.trust_remote_code
            teacher = load_cross_encoder(str(self.models_dir / "teacher"), device=self.device, trust_remote_code=remote)
        else:
            gold = teacher_pairs(data.train, mined)
            teacher_cfg, warm = self.teacher_cfg, ""
            if self._wants_warm_start():  # as in scenario 2: first the bi-encoder's cosine, on every candidate
                pairs = pd.concat([mined_candidates(mined), sampled], ignore_index=True)[["sentence1", "sentence2"]]
                self._warm_start(pairs, base, data, labeled, "classification")
                teacher_cfg, warm = replace(teacher_cfg, model=str(self.models_dir / "teacher_warm")), ", warm-started"
            report.stage(
                stages.TEACHER_TRAIN,
                f"training the binary cross-encoder teacher{warm} on {int(gold['label'].sum()):,} positives and "
                f"{int((gold['label'] == 0).sum()):,} negatives (both orders)",
            )
            teacher, _ = fit_teacher(
                gold,
                teacher_cfg,
                cfg.teacher_search,
                self.models_dir / "teacher",
                dev=labeled.get("dev"),
                task="classification",
                **self.train_kwargs("teacher"),
            )
            metrics, preds, speed = None, {}, {}
            if labeled:
                metrics = evaluate_cross_encoder(
                    teacher, labeled, "classification", batch_size=cfg.label_batch_size, predictions=preds, speed=speed
                )
                report.stage(stages.eval_stage("teacher"), _fmt(metrics, "classification"))
            self.state.setdefault("speed", {})["teacher"] = speed
            self.state.setdefault("trained_on", {})["teacher"] = (
                f"{int(gold['label'].sum()):,} positives and {int((gold['label'] == 0).sum()):,} mined negatives, "
                f"each in both orders{warm}"
            )
            self.finish("teacher", t1, metrics, preds or None)

        t2 = time.time()
        candidates = pd.concat([mined_candidates(mined), sampled.assign(use="sampled")], ignore_index=True)
        report.stage(
            stages.LABEL,
            f"teacher scores {len(candidates):,} pairs: {len(mined):,} mined negatives and {len(sampled):,} "
            f"{cfg.sampler} candidates (both orders averaged)",
        )
        scores = label_pairs(
            teacher,
            candidates["sentence1"],
            candidates["sentence2"],
            batch_size=cfg.label_batch_size,
            sink=report,
            cancel=self.cancel,
            scorer=self._scorer(),
        )
        if cfg.threshold is not None:
            threshold, why = cfg.threshold, "threshold (config)"
        elif "dev" in labeled:
            dev = labeled["dev"]
            dev_scores = label_pairs(teacher, dev["sentence1"], dev["sentence2"], batch_size=cfg.label_batch_size)
            threshold, why = best_threshold(dev_scores, dev["label"].to_numpy()), "best F1 on dev"
        else:
            threshold, why = 0.5, "0.5 (no dev with 0/1 labels)"
        silver = check_silver(candidates, scores, threshold)
        gold_scores = label_pairs(
            teacher, positives["sentence1"], positives["sentence2"], batch_size=cfg.label_batch_size
        )
        info["teacher_check"] = {**check_report(silver, gold_scores, threshold), "threshold_from": why}
        self.run_.write_json(RunFiles.MINING, info)
        data_mod.write_table(silver, self.run_.path(RunFiles.SILVER))
        check = info["teacher_check"]
        self.run_.write_json(
            RunFiles.SILVER_SUMMARY,
            {
                "candidates": int(len(silver)),
                "kept": int(silver["kept"].sum()),
                "threshold": float(threshold),
                "by_sampler": silver.groupby("sampler").size().to_dict(),
                "labeler": "cross_encoder",
                "labeler_why": "task positive_pairs: the binary teacher trained on the mined negatives",
                "mining": info,
            },
        )
        report.stage(
            stages.LABEL,
            f"threshold {threshold:.3f} ({why}): {check['mined_rejected_as_false_negatives']:,} of "
            f"{check['mined_scored']:,} mined negatives rejected as likely positives; {check['silver_positives']:,} "
            f"silver positives among {check['sampled_scored']:,} sampled pairs",
        )
        self.finish("silver", t2)
        return silver

    def _augmented(self, data: LoadedData) -> pd.DataFrame:
        path = self.run_.path(RunFiles.AUGMENTED)
        if self.done("augment"):
            return data_mod.read_table(path).astype({"label": float})[["sentence1", "sentence2", "label"]]
        t0 = time.time()
        augmented = _scenario1_augment(self.cfg, data, self.run_, self.report)
        self.finish("augment", t0)
        return augmented[["sentence1", "sentence2", "label"]]

    def _candidates(self, data: LoadedData, base) -> pd.DataFrame:
        """Candidate pairs for silver labels (stage `candidates`, kept in candidates.csv for a resumed run)."""
        path = self.run_.path(RunFiles.CANDIDATES)
        if self.done("candidates") and path.is_file():
            return pd.read_csv(path, keep_default_na=False, dtype={"sentence1": str, "sentence2": str})
        t0 = time.time()
        candidates = make_candidates(self.cfg, data, base, self.report)
        self.cancel.raise_if_cancelled("sampling")
        candidates = cap_before_labeling(candidates, self.cfg)
        data_mod.write_table(candidates, path)
        self.finish("candidates", t0)
        return candidates

    def _silver(self, data: LoadedData, teacher, task: str, candidates: pd.DataFrame | None, splits) -> pd.DataFrame:
        if self.done("silver"):
            silver = pd.read_csv(
                self.run_.path(RunFiles.SILVER), keep_default_na=False, dtype={"sentence1": str, "sentence2": str}
            )
            return silver.astype({"kept": bool})
        t0 = time.time()
        if self.cfg.silver_file:
            silver = given_silver(self.cfg, task, self.run_, self.report)
        else:
            silver = self._make_silver(data, teacher, task, candidates, splits)
        self.finish("silver", t0)
        return silver

    def _make_silver(
        self, data: LoadedData, teacher: Labeler, task: str, candidates: pd.DataFrame, splits
    ) -> pd.DataFrame:
        """Teacher scores -> labeler choice -> (threshold) -> KDE / cap. Returns all candidates with a `kept` flag."""
        cfg, report = self.cfg, self.report
        report.stage(
            stages.LABEL,
            f"teacher labels {len(candidates):,} pairs (both orders averaged)"
            + (" and the ensemble" if teacher.ensemble is not None else "")
            + (" on Ray" if cfg.engine == "ray" else ""),
        )
        scores = teacher.score(candidates["sentence1"], candidates["sentence2"], sink=report, cancel=self.cancel)
        silver = candidates.assign(**{k: v for k, v in scores.items() if k != "score"})
        options = {"cross_encoder": scores["score_cross_encoder"]}
        if "score_ensemble" in scores:
            options["ensemble"] = scores["score_ensemble"]
        thresholds = self._thresholds(data, teacher, list(options)) if task == "classification" else {}
        labels = {
            name: (v >= thresholds[name]).astype(int) if task == "classification" else v.astype(float)
            for name, v in options.items()
        }
        chosen, why = self._choose_labeler(data, silver, labels, task, teacher, splits)
        teacher.use = chosen
        silver["score"] = options[chosen]
        silver["label"] = labels[chosen]
        threshold = thresholds.get(chosen)
        gold_labels = data.train if data.train is not None else data.dev
        kept = kept_mask(silver["score" if task == "regression" else "label"].to_numpy(), gold_labels, cfg)
        silver["kept"] = kept
        data_mod.write_table(silver, self.run_.path(RunFiles.SILVER))
        summary = {
            "candidates": int(len(silver)),
            "kept": int(kept.sum()),
            "threshold": threshold,
            "by_sampler": silver.groupby("sampler").size().to_dict(),
            "labeler": chosen,
            "labeler_why": why,
            "engine": cfg.engine,
            # what `candidates` and `max_silver` (auto: the student kind's budget) resolved to for this data
            "candidates_source": cfg.candidate_source(data.pool is not None and data.pool.pairs is not None),
            "silver_cap": cfg.silver_cap,
        }
        if cfg.sampler_mixed:  # the mix asked for and the shares of the kept silver (each pair by its search)
            summary["sampler_shares"] = {
                "requested": cfg.sampler_shares,
                "achieved": achieved_shares(silver.loc[kept, "sampler"], cfg.sampler_shares),
            }
        if gold_labels is not None and len(silver):
            summary["ks_all_vs_gold"] = distribution_distance(silver["label"], gold_labels["label"])
            summary["ks_kept_vs_gold"] = distribution_distance(silver.loc[kept, "label"], gold_labels["label"])
        self.run_.write_json(RunFiles.SILVER_SUMMARY, summary)
        report.stage(
            stages.LABEL,
            f"{int(kept.sum()):,} silver pairs kept of {len(silver):,}, labeled by the "
            f"{chosen.replace('_', '-')} ({why})" + (f"; threshold {threshold:.3f}" if threshold is not None else ""),
        )
        return silver

    def _thresholds(self, data: LoadedData, teacher: Labeler, labelers: list[str]) -> dict[str, float]:
        """Classification threshold per labeler's scores: given, else chosen on the labeled dev set, else 0.5."""
        if self.cfg.threshold is not None:
            return dict.fromkeys(labelers, self.cfg.threshold)
        if data.dev is not None and len(data.dev) >= 2 and data.dev["label"].nunique() == 2:
            scores = teacher.score(data.dev["sentence1"], data.dev["sentence2"])  # once for every labeler
            return {name: best_threshold(scores[f"score_{name}"], data.dev["label"].to_numpy()) for name in labelers}
        return dict.fromkeys(labelers, 0.5)

    def _choose_labeler(
        self,
        data: LoadedData,
        silver: pd.DataFrame,
        labels: dict[str, np.ndarray],
        task: str,
        teacher: Labeler,
        splits,
    ) -> tuple[str, str]:
        """Which labels become silver, and why. With `labeler: auto` and a choice to make, short student probes on
        dev decide (probe.json); the result is recorded in ensemble.json (`used`) and gate.json (`labeler`)."""
        cfg = self.cfg
        if len(labels) == 1:
            return "cross_encoder", ("labeler: cross_encoder" if cfg.labeler == "cross_encoder" else "the only labeler")
        if not self._probe_wanted() or "dev" not in splits or len(silver) < 2:
            return teacher.use, (
                f"labeler: {cfg.labeler}"
                if cfg.labeler != "auto"
                else "ensemble: on"
                if cfg.ensemble == "on"
                else "chosen on dev by its own score"
            )
        self.report.stage(
            stages.PROBE,
            f"choosing the silver labels by short student probes on dev "
            f"({len(labels)} labelers, {100 * PROBE_FRACTION:.0f}% of the schedule each)",
        )
        gold = data.train if cfg.scenario != 3 else None
        chosen, probe = probe_labelers(
            gold,
            silver,
            labels,
            cfg.student,
            splits["dev"],
            task,
            self.models_dir / ".probe",
            seed=cfg.seed,
            device=self.device,
            sink=self.report,
            cancel=self.cancel,
        )
        self.run_.write_json(RunFiles.PROBE, probe)
        ensemble_raw = self.run_.ensemble()
        if ensemble_raw:
            ensemble_raw["report"]["used"] = chosen == "ensemble"
            self.run_.write_json(RunFiles.ENSEMBLE, ensemble_raw)
        gate = self.run_.gate()
        if gate is not None:
            gate["labeler"] = chosen
            self.run_.write_json(RunFiles.GATE, gate)
        trials = ", ".join(f"{t['labeler'].replace('_', '-')} {100 * t['dev']:.2f}" for t in probe["trials"])
        return chosen, probe.get("why") or f"best probe student on dev: {trials}"


def _read_json(path: Path) -> dict:

    return json.loads(Path(path).read_text(encoding="utf-8"))


def _link_tree(src: Path, dst: Path) -> None:
    """Copy a model folder by hard links (no extra disk), falling back to a copy across file systems."""

    def link(a: str, b: str) -> None:
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, copy_function=link)


def _fmt(per_split: dict[str, dict[str, float]], task: str) -> str:
    primary = PRIMARY_METRIC[task]
    return ", ".join(f"{split} {primary} {100 * m[primary]:.2f}" for split, m in per_split.items() if primary in m)


def _scenario1_augment(cfg: ExperimentConfig, data: LoadedData, run: Run, report: _Reporter):

    a = cfg.augment
    report.stage(stages.AUGMENT, f"{a.method}: {a.copies} copies of {len(data.train):,} gold pairs")
    augmented = augment_pairs(
        data.train,
        a,
        progress=lambda done, total: report(ProgressEvent(stages.AUGMENT, done, total)),
        seed=cfg.seed,
        device=cfg.device,
    )
    data_mod.write_table(augmented, run.path(RunFiles.AUGMENTED))
    report.stage(stages.AUGMENT, f"{len(augmented):,} augmented pairs")
    return augmented
