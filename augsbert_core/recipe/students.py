"""The student stages: the zero-shot base's evaluation, each trained student (gold-only, full-gold ceiling,
AugSBERT), and the suspect-gold-labels ranking that reuses the base."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pandas as pd

from .. import stages
from ..evaluation import evaluate_bi_encoder, schedule_label
from ..io import data as data_mod
from ..label_errors import find_label_errors
from ..runs import RunFiles
from ..student import train_student
from .context import Stage, fmt


class ZeroShotStage(Stage):
    """The student base as it is, evaluated on dev and test: the floor every trained model is read against."""

    key = "zero_shot"
    writes = (RunFiles.STATE,)

    def __call__(self) -> None:
        ctx = self.ctx
        t0, preds, speed = time.time(), {}, {}
        metrics = evaluate_bi_encoder(ctx.base, ctx.splits, ctx.task, preds, speed=speed)
        ctx.record("speed", self.key, speed)
        ctx.finish(self.key, t0, metrics, preds)
        ctx.report.stage(stages.eval_stage(self.key), fmt(metrics, ctx.task))


class StudentStage(Stage):
    """One bi-encoder student (`gold_only`, `full_gold` or `augsbert`): trained, early-stopped on dev, evaluated;
    its schedule, speed and what it trained on go to state.json (metrics.json `schedules`, the model card)."""

    writes = (RunFiles.STATE, RunFiles.MODELS)

    def __init__(self, ctx, key: str) -> None:
        super().__init__(ctx)
        self.key = key

    def __call__(self, train: pd.DataFrame) -> None:
        ctx, key = self.ctx, self.key
        t0, schedule = time.time(), {}
        what = f"training the {stages.STUDENTS[key]} student on {len(train):,} pairs"
        ctx.report.stage(stages.train_stage(key), what)
        model = train_student(
            train,
            ctx.cfg.student,
            ctx.models_dir / key,
            task=ctx.task,
            dev=ctx.data.dev,
            stage=stages.train_stage(key),
            schedule=schedule,
            **ctx.train_kwargs(),
        )
        preds: dict[str, np.ndarray] = {}
        speed: dict = {}
        metrics = evaluate_bi_encoder(model, ctx.splits, ctx.task, preds, speed=speed)
        ctx.record("speed", key, speed)
        ctx.record("schedules", key, schedule)
        ctx.record("trained_on", key, self.trained_on(len(train)))
        ctx.finish(key, t0, metrics, preds)
        ctx.report.stage(stages.eval_stage(key), f"{fmt(metrics, ctx.task)}; schedule: {schedule_label(schedule)}")

    def trained_on(self, n: int) -> str:
        """What the student trained on, in one line with its sizes (for its model card)."""
        cfg, data = self.ctx.cfg, self.ctx.data
        if self.key != "augsbert":
            return f"{n:,} gold pairs" + (" (all the gold: the full-gold ceiling)" if self.key == "full_gold" else "")
        if not cfg.scenario_spec.student_gold:
            return f"{n:,} silver pairs of the target domain labeled by the teacher (no target gold)"
        gold = len(data.train) if data.train is not None else 0
        extra = (
            "augmented copies of gold pairs" if cfg.scenario_spec.augments else "silver pairs labeled by the teacher"
        )
        return f"{n:,} pairs: {gold:,} gold + {n - gold:,} {extra}"


class LabelErrorsStage(Stage):
    """Rank the gold train pairs by cross-fitted teachers (label_errors.csv); scenarios 1 and 2 only."""

    key = "label_errors"
    writes = (RunFiles.LABEL_ERRORS,)

    def __call__(self) -> None:
        ctx = self.ctx
        if not ctx.cfg.scenario_spec.gold_train:
            ctx.report.stage(stages.LABEL_ERRORS, "skipped: scenario 3 has no gold train pairs to rank")
            return
        t0 = time.time()
        table = find_label_errors(
            ctx.cfg,
            ctx.data,
            ctx.models_dir / "label_errors",
            device=ctx.device,
            bi_encoder=ctx.base,
            sink=ctx.report,
            cancel=ctx.cancel,
            log=ctx.run.log,
        )
        data_mod.write_table(data_mod.safe_for_spreadsheet(table), ctx.run.path(RunFiles.LABEL_ERRORS))
        shutil.rmtree(ctx.models_dir / "label_errors", ignore_errors=True)  # only the warm start is left there
        top = table.head(3)
        ctx.report.stage(
            stages.LABEL_ERRORS,
            f"{len(table):,} gold pairs ranked; most suspect rows: "
            + ", ".join(f"{r.row} (label {r.label:g}, predicted {r.oof_prediction:.2f})" for r in top.itertuples()),
        )
        ctx.finish(self.key, t0)
