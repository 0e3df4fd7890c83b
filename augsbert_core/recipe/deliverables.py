"""What a run hands over at its end: every model timed in one pass (speed.json), the model cards, the predictions,
and metrics.json with the recommendation (its presence means the run finished)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import stages
from ..evaluation import (
    RECOMMENDATION,
    RECOMMENDED,
    SCHEDULES,
    bi_encoder_scores,
    format_table,
    recommendation,
    recommendation_notes,
    write_predictions,
)
from ..model_card import CardFacts, write_card
from ..models import device_description, is_saved_model, load_bi_encoder, load_cross_encoder
from ..runs import RunFiles, atomic_write_text
from ..speed import ONE_PASS_MIN_PAIRS, ONE_PASS_PAIRS, one_pass, pairs_per_s, speed_report, timed_split
from ..teacher import label_pairs, teacher_inputs
from .context import RunContext, Stage

CARD_MODELS = ("teacher", "augsbert", "gold_only", "full_gold")


def write_cards(ctx: RunContext, keys) -> None:
    """(Re)write the README.md model card of each model folder in `keys` that exists, from the run's state."""
    speeds = ctx.state.get("speed", {})
    rates = {k: r for k in speeds if (r := pairs_per_s({"models": speeds}, k))}
    device, data = device_description(ctx.device), ctx.data
    for key in keys:
        folder = ctx.models_dir / key
        if not is_saved_model(folder):
            continue
        teacher = key == "teacher"
        trained_on = ctx.state.get("trained_on", {}).get(key, "see the run's config.json")
        if teacher and (own := teacher_inputs(ctx.cfg, data)[2]) != data.task:  # scenario 3: source scores
            trained_on += f" (as {own} on the source's labels; scored below on the target's)"
        write_card(
            folder,
            CardFacts(
                key=key,
                kind="cross-encoder" if teacher else "bi-encoder",
                run_id=ctx.run.id,
                base_model=ctx.teacher_cfg.model if teacher else ctx.cfg.student.model,
                task=data.task,
                scale=data.scale,
                trained_on=trained_on,
                scores=ctx.metrics.get(key, {}),
                eval_sizes={name: len(f) for name, f in ctx.splits.items()},
                speed=speeds.get(key) or None,
                device=device,
                other_speeds=rates,
            ),
        )


class ResultsStage(Stage):
    """The run's results: predictions.csv, timings.json, speed.json, the final model cards, then metrics.json and
    metrics.txt with `recommended` and why (written last: metrics.json's presence means the run finished)."""

    key = "done"
    reads = (RunFiles.STATE, RunFiles.GATE)
    writes = (RunFiles.PREDICTIONS, RunFiles.TIMINGS, RunFiles.SPEED, RunFiles.METRICS, RunFiles.METRICS_TXT)

    def __call__(self) -> tuple[dict, str]:
        """Write the results; returns (metrics.json's content, its table for people)."""
        ctx = self.ctx
        splits, task, metrics = ctx.splits, ctx.task, ctx.metrics
        predictions = {
            k: {split: np.asarray(v) for split, v in per.items()} for k, per in ctx.state["predictions"].items()
        }
        write_predictions(ctx.run.path(RunFiles.PREDICTIONS), splits, predictions)
        ctx.run.write_json(RunFiles.TIMINGS, ctx.state["timings"])
        self._speed_and_cards()
        labels = {name: f["label"].to_numpy() for name, f in splits.items()}
        why = recommendation(metrics, task, predictions, labels, seed=ctx.cfg.seed)
        if why:  # how it squares with the other metrics and the gate (the app's card and the report say it)
            why["notes"] = recommendation_notes(metrics, why, ctx.run.gate(), task)
        verdict = {
            RECOMMENDED: why["model"] if why else None,
            RECOMMENDATION: why,
            SCHEDULES: ctx.state.get("schedules", {}),
        }
        ctx.run.write_json(RunFiles.METRICS, {**metrics, **verdict})  # last: its presence means the run finished
        table = format_table({**metrics, **verdict}, task)
        atomic_write_text(ctx.run.path(RunFiles.METRICS_TXT), table + "\n")
        return verdict, table

    def _speed_and_cards(self) -> None:
        """speed.json and the final model cards. Every model is timed again in one pass on the same pairs (the
        evaluation-time figures come from different moments of the run, under different loads); a split under
        ONE_PASS_MIN_PAIRS keeps the evaluation-time figures."""
        ctx = self.ctx
        splits = ctx.splits
        speeds = {k: v for k, v in ctx.state.get("speed", {}).items() if v}
        split = timed_split(splits)
        if split is not None and len(splits[split]) >= ONE_PASS_MIN_PAIRS and speeds:
            speeds.update(self._speed_pass(splits[split].head(ONE_PASS_PAIRS), split, set(speeds)))
            ctx.state["speed"] = speeds  # the model cards read the one-pass figures
        ctx.run.write_json(RunFiles.SPEED, speed_report(ctx.device, device_description(ctx.device), speeds))
        write_cards(ctx, CARD_MODELS)

    def _speed_pass(self, pairs: pd.DataFrame, split: str, keys: set[str]) -> dict[str, dict]:
        """speed.one_pass over the run's models that were timed during evaluation (zero-shot: the base in memory)."""
        ctx, batch = self.ctx, 64
        scorers: dict = {}
        for key in ("zero_shot", "gold_only", "full_gold", "augsbert"):
            folder = ctx.models_dir / key
            if key in keys and (key == "zero_shot" or is_saved_model(folder)):
                model = ctx.base if key == "zero_shot" else load_bi_encoder(str(folder), device=ctx.device)
                scorers[key] = ("bi-encoder", lambda a, b, m=model: bi_encoder_scores(m, a, b, batch_size=batch))
        if "teacher" in keys and is_saved_model(ctx.models_dir / "teacher"):
            teacher = load_cross_encoder(str(ctx.models_dir / "teacher"), device=ctx.device)
            scorers["teacher"] = ("cross-encoder", lambda a, b: label_pairs(teacher, a, b, batch_size=batch))
        ctx.report.stage(stages.SPEED, f"timing {len(scorers)} models on the same {len(pairs):,} {split} pairs")
        return one_pass(scorers, list(pairs["sentence1"]), list(pairs["sentence2"]), split=split, batch_size=batch)
