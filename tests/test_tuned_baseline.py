"""Tuned baselines (issue 23, item 1): every student early-stopped on dev (`epochs: auto`) keeps its best epoch, each
run records the schedule its students got, and AugSBERT is recommended only on a dev gain whose paired-bootstrap
interval is above zero."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from augsbert_core import ExperimentConfig, RunStore, run_experiment
from augsbert_core.config import ModelConfig
from augsbert_core.evaluation import (
    format_table,
    paired_bootstrap,
    recommendation,
    regression_metrics,
    schedule_label,
)
from augsbert_core.runs.progress import Cancelled, CancelToken
from augsbert_core.student import train_student
from augsbert_core.training import EARLY_STOP_STATE, MIN_DEV_GAIN, checkpoint_dir, latest_checkpoint

from .conftest import DEMO


def _pairs(split: str, n: int) -> pd.DataFrame:
    frame = pd.read_csv(DEMO / "stsb" / f"{split}.csv").head(n)
    return frame.assign(label=frame.pop("score") / 5.0)


# ------------------------------------------------------------------------------------------- early stopping
@pytest.mark.slow
def test_a_student_whose_dev_peaks_early_keeps_that_checkpoint(tmp_path):
    train, dev = _pairs("train", 48), _pairs("dev", 40)
    train = train.assign(label=1.0 - train["label"])  # taught backwards: dev gets worse with every epoch
    schedule: dict = {}
    cfg = ModelConfig(epochs="auto", max_epochs=6, patience=2, batch_size=16, learning_rate=1e-4)
    model = train_student(train, cfg, tmp_path / "m", dev=dev, device="cpu", schedule=schedule)
    history = [h["dev"] for h in schedule["dev_history"]]
    assert schedule["epochs"] == "auto" and schedule["stopped_early"]
    assert schedule["best_epoch"] < schedule["epochs_run"] < 6  # peaked before the end, stopped before the maximum
    assert len(history) == round(schedule["best_epoch"]) + 2  # the best, then `patience` evaluations without a gain
    assert max(history) - MIN_DEV_GAIN <= schedule["best_dev"] and schedule["best_dev"] > history[-1]
    # the saved and the returned model are the best epoch's, not the last one's
    from augsbert_core.evaluation import bi_encoder_scores
    from augsbert_core.models import load_bi_encoder

    for m in (model, load_bi_encoder(str(tmp_path / "m"), device="cpu")):
        pred = bi_encoder_scores(m, dev["sentence1"].tolist(), dev["sentence2"].tolist())
        assert regression_metrics(pred, dev["label"])["spearman"] == pytest.approx(schedule["best_dev"], abs=1e-5)


@pytest.mark.slow
def test_a_resumed_training_keeps_its_patience_count_and_best_epoch(tmp_path):
    """Interrupted after the first evaluation without a gain, then resumed from that checkpoint: the training stops
    where an uninterrupted one stops, with the same best epoch and dev history (patience is not restarted)."""
    train, dev = _pairs("train", 48), _pairs("dev", 40)
    train = train.assign(label=1.0 - train["label"])  # dev peaks at epoch 1, then falls
    cfg = ModelConfig(epochs="auto", max_epochs=6, patience=2, batch_size=16, learning_rate=1e-4)
    whole: dict = {}
    train_student(train, cfg, tmp_path / "whole", dev=dev, device="cpu", schedule=whole, checkpoints=6)
    assert whole["best_epoch"] == 1 and whole["epochs_run"] == 3 and whole["stopped_early"]
    assert not checkpoint_dir(tmp_path / "whole").exists(), "a finished training leaves no checkpoints behind"

    token, folder = CancelToken(), checkpoint_dir(tmp_path / "cut") / "checkpoint-6"  # after epoch 2's evaluation

    def cancel_after_epoch_2(event) -> None:
        if (folder / EARLY_STOP_STATE).is_file():
            token.cancel()

    with pytest.raises(Cancelled):
        train_student(
            train, cfg, tmp_path / "cut", dev=dev, device="cpu", sink=cancel_after_epoch_2, cancel=token, checkpoints=6
        )
    state = json.loads((Path(latest_checkpoint(tmp_path / "cut")) / EARLY_STOP_STATE).read_text())
    assert state["waited"] == 1 and not state["stopped_early"]  # cut between the two evaluations without a gain
    resumed: dict = {}
    train_student(train, cfg, tmp_path / "cut", dev=dev, device="cpu", schedule=resumed, checkpoints=6, resume=True)
    assert (resumed["best_epoch"], resumed["epochs_run"], resumed["stopped_early"]) == (1, 3, True)
    assert [h["epoch"] for h in resumed["dev_history"]] == [h["epoch"] for h in whole["dev_history"]]
    assert resumed["best_dev"] == pytest.approx(whole["best_dev"], abs=1e-6)
    assert not checkpoint_dir(tmp_path / "cut").exists()  # kept while cancelled (above), dropped once finished


@pytest.mark.slow
def test_auto_without_a_dev_split_trains_a_fixed_epoch_and_says_so(tmp_path):
    schedule: dict = {}
    cfg = ModelConfig(epochs="auto", batch_size=16)
    train_student(_pairs("train", 32), cfg, tmp_path / "m", device="cpu", schedule=schedule)
    assert schedule["epochs_run"] == 1 and "no dev split" in schedule["why"]
    assert "no dev split" in schedule_label(schedule)


def test_students_stop_on_dev_by_default_and_teachers_refuse_it():
    base = {"data": {"train": "a.csv", "test": "b.csv"}}
    cfg = ExperimentConfig.from_dict(base)
    assert cfg.student.epochs == "auto" and (cfg.student.max_epochs, cfg.student.patience) == (10, 2)
    assert ExperimentConfig.from_dict({**base, "student": {"model": "default"}}).student.epochs == "auto"
    assert ExperimentConfig.from_dict({**base, "student": {"epochs": 2.0}}).student.epochs == 2
    with pytest.raises(Exception, match="teacher.epochs: auto is for students"):
        ExperimentConfig.from_dict({**base, "teacher": {"epochs": "auto"}})
    with pytest.raises(Exception, match="student.epochs"):
        ExperimentConfig.from_dict({**base, "student": {"epochs": "many"}})


# ------------------------------------------------------------------------------------- the recommendation rule
def _metrics(ours: np.ndarray, theirs: np.ndarray, gold: np.ndarray, task: str = "regression") -> dict:
    from augsbert_core.evaluation import SplitScores, score_splits

    out = {}
    for key, pred in (("augsbert", ours), ("gold_only", theirs)):
        out[key] = score_splits({"dev": SplitScores(pred, gold), "test": SplitScores(pred, gold)}, task)
    return out


def _decide(ours, theirs, gold, task="regression"):
    preds = {"augsbert": {"dev": ours}, "gold_only": {"dev": theirs}}
    return recommendation(_metrics(ours, theirs, gold, task), task, preds, {"dev": gold}, seed=1)


def test_augsbert_is_recommended_on_a_gain_whose_interval_is_above_zero():
    rng = np.random.default_rng(0)
    gold = rng.uniform(0, 1, 400)
    why = _decide(gold + rng.normal(0, 0.1, 400), gold + rng.normal(0, 0.4, 400), gold)
    assert why["model"] == "augsbert" and why["metric"] == "spearman" and why["split"] == "dev"
    low, high = why["interval"]
    assert 0 < low < why["dev_gain"] < high
    assert "above zero" in why["why"]


def test_a_gain_within_noise_recommends_the_baseline():
    rng = np.random.default_rng(0)
    gold = rng.uniform(0, 1, 200)
    noise = rng.normal(0, 0.3, 200)
    ours = gold + noise + rng.normal(0, 0.02, 200)  # a hair different from the baseline
    why = _decide(ours, gold + noise, gold)
    low, high = why["interval"]
    assert low <= 0 <= high
    assert why["model"] == "gold_only"
    if why["dev_gain"] > 0:
        assert "within noise" in why["why"]


def test_a_worse_augsbert_is_never_recommended_and_classification_uses_ap():
    rng = np.random.default_rng(3)
    gold = rng.integers(0, 2, 300).astype(float)
    good, bad = gold + rng.normal(0, 0.3, 300), gold + rng.normal(0, 1.5, 300)
    assert _decide(bad, good, gold, "classification")["model"] == "gold_only"
    why = _decide(good, bad, gold, "classification")
    assert why["model"] == "augsbert" and why["metric"] == "ap" and why["interval"][0] > 0


def test_undefined_metrics_decide_nothing():
    gold = np.linspace(0, 1, 50)
    constant = np.full(50, 0.5)
    metrics = {"augsbert": {"dev": {"spearman": float("nan")}}, "gold_only": {"dev": {"spearman": 0.5}}}
    why = recommendation(
        metrics, "regression", {"augsbert": {"dev": constant}, "gold_only": {"dev": gold}}, {"dev": gold}
    )
    assert why["model"] == "gold_only" and "undefined" in why["why"] and why["interval"] is None
    with pytest.raises(ValueError, match="undefined"):
        paired_bootstrap(constant, constant, gold, "regression")


def test_scenario3_compares_with_the_zero_shot_base_and_no_dev_decides_on_test():
    rng = np.random.default_rng(5)
    gold = rng.uniform(0, 1, 300)
    ours, theirs = gold + rng.normal(0, 0.1, 300), gold + rng.normal(0, 0.5, 300)
    from augsbert_core.evaluation import SplitScores, score_splits

    metrics = {
        "zero_shot": score_splits({"test": SplitScores(theirs, gold)}, "regression"),
        "augsbert": score_splits({"test": SplitScores(ours, gold)}, "regression"),
    }
    preds = {"augsbert": {"test": ours}, "zero_shot": {"test": theirs}}
    why = recommendation(metrics, "regression", preds, {"test": gold})
    assert why["baseline"] == "zero_shot" and why["split"] == "test" and why["model"] == "augsbert"
    assert "no dev split" in why["why"]


def test_the_table_names_each_students_schedule_and_the_reason():
    rng = np.random.default_rng(0)
    gold = rng.uniform(0, 1, 100)
    metrics = _metrics(gold + rng.normal(0, 0.5, 100), gold + rng.normal(0, 0.1, 100), gold)
    schedules = {
        "gold_only": {"epochs": "auto", "epochs_run": 5.0, "best_epoch": 3.0, "steps": 189},
        "augsbert": {"epochs": 1, "epochs_run": 1.0, "best_epoch": 1.0, "steps": 63},
    }
    why = {"model": "gold_only", "why": "AugSBERT does not beat gold-only"}
    table = format_table(
        {**metrics, "recommended": "gold_only", "recommendation": why, "schedules": schedules}, "regression"
    )
    assert "best 3 of 5 epochs (auto, on dev)" in table and "1 epoch" in table
    assert "* recommended: gold_only (AugSBERT does not beat gold-only)" in table
    assert "recommendation" not in table.split("\n")[0]  # no model row for the non-model keys


# ------------------------------------------------------------------------------------------------ a run
@pytest.mark.slow
def test_a_run_records_schedules_and_the_recommendation_in_strict_json(tiny_stsb, tmp_path):
    cfg = ExperimentConfig.from_dict(
        {
            "name": "tuned",
            "scenario": 2,
            "data": {k: str(v) for k, v in tiny_stsb.items()} | {"scale": [0, 5]},
            "student": {"epochs": "auto", "max_epochs": 3, "patience": 1, "batch_size": 16},
            "teacher": {"epochs": 1, "batch_size": 16, "warm_start": "off"},
            "ensemble": "off",
            "labeler": "cross_encoder",
            "live_evals": 0,
            "checkpoints": 0,
            "seed": 7,
        }
    )
    result = run_experiment(cfg, store=RunStore(tmp_path / "runs"))
    text = (result.run_dir / "metrics.json").read_text()
    raw = json.loads(text, parse_constant=lambda c: pytest.fail(f"metrics.json holds {c}: not strict JSON"))
    for key in ("gold_only", "augsbert"):
        got = raw["schedules"][key]
        assert got["epochs"] == "auto" and 1 <= got["best_epoch"] <= got["epochs_run"] <= 3
        assert got["dev_metric"] == "dev_spearman_cosine" and len(got["dev_history"]) == round(got["epochs_run"])
        # the evaluated student is the kept epoch's: its dev score is the best the training saw
        assert raw[key]["dev"]["spearman"] == pytest.approx(got["best_dev"], abs=1e-5)
    why = raw["recommendation"]
    assert raw["recommended"] == why["model"] == result.recommended and why["baseline"] == "gold_only"
    assert why["split"] == "dev" and len(why["interval"]) == 2
    assert (why["model"] == "augsbert") == (why["interval"][0] > 0)
    assert "best" in (result.run_dir / "metrics.txt").read_text()  # the CLI table says which schedule
    # the run kept what it was expected to take, per stage, beside what it took (the ETA and calibration read both)
    estimated = json.loads((result.run_dir / "estimate.json").read_text())
    timings = json.loads((result.run_dir / "timings.json").read_text())
    assert set(estimated["by_stage"]) <= set(timings) and estimated["device_kind"] == "cpu"
    assert estimated["seconds"] == pytest.approx(sum(estimated["parts"].values()))
    assert isinstance(why["notes"], list)  # squared with the other metrics and the gate (may be empty)
    resolved = json.loads((result.run_dir / "resolved.json").read_text())  # every auto, resolved once
    assert resolved["device"] == "cpu" and resolved["teacher_model"] == "default"
    assert resolved["candidates"] == "sampled" and resolved["labeler"] == "cross_encoder"
