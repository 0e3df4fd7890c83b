"""End-to-end runs of each scenario on small data with the offline model: run directory, SQLite row,
metrics contract; and the teacher trained on demo gold beating an untrained one."""

from __future__ import annotations

import inspect
import json
import sqlite3

import numpy as np
import pandas as pd
import pytest

from augsbert_core import ExperimentConfig, RunStore, run_experiment
from augsbert_core.config import ModelConfig
from augsbert_core.io.data import load_pairs
from augsbert_core.pipeline import declared_writes
from augsbert_core.recipe.context import Stage
from augsbert_core.runs import Run, RunFiles
from augsbert_core.runs.progress import Cancelled, CancelToken
from augsbert_core.teacher import evaluate_cross_encoder, train_teacher

from .conftest import DEMO

pytestmark = pytest.mark.slow

FAST = {"epochs": 1, "batch_size": 16}


def _config(**overrides) -> ExperimentConfig:
    raw = {"name": "t", "student": dict(FAST), "teacher": dict(FAST), "live_evals": 0, "seed": 7}
    raw.update(overrides)
    return ExperimentConfig.from_dict(raw)


def _check_run(store: RunStore, result, expected_models: set[str], task: str) -> dict:
    run_dir = result.run_dir
    metrics = json.loads((run_dir / "metrics.json").read_text())
    recommended = metrics.pop("recommended")  # the model key the run recommends (a string, not a model)
    why = metrics.pop("recommendation")  # and why: the rule's record beside it
    schedules = metrics.pop("schedules")  # what each student's training got
    assert set(metrics) == expected_models
    assert why["model"] == recommended and why["why"]
    assert set(schedules) == expected_models & {"gold_only", "augsbert", "full_gold"}
    assert all(s["epochs_run"] == s["best_epoch"] == 1 and not s["stopped_early"] for s in schedules.values())
    assert recommended in ({"gold_only", "augsbert"} if "gold_only" in metrics else {"zero_shot", "augsbert"})
    assert recommended == result.recommended
    names = {"spearman", "pearson"} if task == "regression" else {"ap", "f1", "accuracy", "threshold"}
    for per_split in metrics.values():
        assert set(per_split) == {"dev", "test"}
        for values in per_split.values():
            assert names <= set(values)
            assert all(np.isfinite(v) for v in values.values())
    for name in ("config.json", "fingerprints.json", "log.txt", "events.jsonl", "gate.json"):
        assert (run_dir / name).exists(), name
    assert (run_dir / "models" / "augsbert" / "model.safetensors").exists()
    assert (run_dir / "models" / "augsbert" / "README.md").exists()  # model card
    config = json.loads((run_dir / "config.json").read_text())
    assert config["scenario"] == result_scenario(config)
    # the SQLite index has the row, finished, with headline metrics
    with sqlite3.connect(store.db_path) as db:
        status, headline = db.execute("SELECT status, headline FROM runs WHERE id = ?", (result.run_id,)).fetchone()
    assert status == "finished"
    primary = "spearman" if task == "regression" else "ap"
    assert json.loads(headline)[f"augsbert.test.{primary}"] == pytest.approx(metrics["augsbert"]["test"][primary])
    assert not list(run_dir.glob("**/.*.tmp")), "temp files left behind"
    # every file of the run is one a stage (or the recipe's setup, or the run store) declares it writes
    store_files = {RunFiles.RECORD, RunFiles.CONFIG, RunFiles.STATE, RunFiles.EVENTS, RunFiles.LOG}
    undeclared = {p.name for p in run_dir.iterdir()} - declared_writes() - store_files
    assert not undeclared, f"run files no stage declares: {sorted(undeclared)}"
    return metrics


def result_scenario(config: dict) -> int:
    return config["scenario"]


def _spy_json_writers(monkeypatch) -> dict[str, set[type]]:
    """{run file: the stage classes that wrote it with Run.write_json}: the writer is the innermost recipe Stage
    on the call stack (the writes themselves happen as always)."""
    writers: dict[str, set[type]] = {}
    real = Run.write_json

    def write_json(self, name, obj):
        frame = inspect.currentframe()
        while frame is not None and not isinstance(frame.f_locals.get("self"), Stage):
            frame = frame.f_back
        if frame is not None:
            writers.setdefault(name, set()).add(type(frame.f_locals["self"]))
        return real(self, name, obj)

    monkeypatch.setattr(Run, "write_json", write_json)
    return writers


def test_scenario2_bm25_end_to_end(tiny_stsb, tmp_path, monkeypatch):
    cfg = _config(
        scenario=2, sampler="bm25", top_k=2, data={k: str(v) for k, v in tiny_stsb.items()} | {"scale": [0, 5]}
    )
    store = RunStore(tmp_path / "runs")
    events = []
    writers = _spy_json_writers(monkeypatch)
    result = run_experiment(cfg, store=store, sink=events.append)
    metrics = _check_run(store, result, {"zero_shot", "gold_only", "augsbert", "teacher", "ensemble"}, "regression")
    # each stage writes only the files it declares, and no file is written by two stages (state.json, the recipe's
    # ledger of finished stages, aside): a later decision never rewrites an earlier stage's file (issue 24)
    assert {RunFiles.GATE, RunFiles.ENSEMBLE, RunFiles.SILVER_SUMMARY} <= set(writers)
    for name, classes in writers.items():
        assert name == RunFiles.STATE or len(classes) == 1, (name, classes)
        assert all(name in c.writes or name == RunFiles.STATE for c in classes), (name, classes)
    ensemble = json.loads((result.run_dir / "ensemble.json").read_text())  # fitted on dev (ensemble: auto)
    assert 0.0 <= ensemble["weight"] <= 1.0 and isinstance(ensemble["report"]["used"], bool)
    silver = pd.read_csv(result.run_dir / "silver.csv")
    assert len(silver) == result.n_silver > 0
    assert silver["score"].between(0, 1).all()
    gold = pd.read_csv(tiny_stsb["train"])
    gold_keys = {frozenset(p) for p in zip(gold["sentence1"], gold["sentence2"])}
    assert not gold_keys & {frozenset(p) for p in zip(silver["sentence1"], silver["sentence2"])}
    gate = json.loads((result.run_dir / "gate.json").read_text())
    assert gate["split"] == "dev" and gate["verdict"] in ("ready", "weak") and "teacher" in gate["message"]
    stages = {e.stage for e in events}
    assert {"teacher.train", "gold_only.train", "augsbert.train", "label", "gate"} <= stages
    train_events = [e for e in events if e.stage == "augsbert.train" and e.total]
    assert train_events[-1].step == train_events[-1].total
    preds = pd.read_csv(result.run_dir / "predictions.csv")
    n_eval = len(load_pairs(tiny_stsb["dev"]).frame) + len(load_pairs(tiny_stsb["test"]).frame)
    assert set(preds["split"]) == {"dev", "test"} and len(preds) == n_eval
    assert {"gold", "zero_shot", "gold_only", "augsbert", "teacher"} <= set(preds.columns)
    from augsbert_core.evaluation import regression_metrics

    test_rows = preds[preds["split"] == "test"]  # the per-pair scores reproduce the reported metric
    assert regression_metrics(test_rows["augsbert"], test_rows["gold"])["spearman"] == pytest.approx(
        metrics["augsbert"]["test"]["spearman"], abs=1e-6
    )
    # a fine-tuned student is a different model from the zero-shot base
    assert metrics["augsbert"]["test"]["spearman"] != metrics["zero_shot"]["test"]["spearman"]


def test_scenario1_wordnet_end_to_end(tiny_stsb, tmp_path):
    data = {
        "train": str(tiny_stsb["train"]),
        "dev": str(tiny_stsb["dev"]),
        "test": str(tiny_stsb["test"]),
        "scale": [0, 5],
    }
    cfg = _config(scenario=1, data=data, augment={"method": "wordnet", "copies": 1})
    store = RunStore(tmp_path / "runs")
    result = run_experiment(cfg, store=store)
    _check_run(store, result, {"zero_shot", "gold_only", "augsbert", "teacher"}, "regression")
    augmented = pd.read_csv(result.run_dir / "augmented.csv")
    gold = pd.read_csv(tiny_stsb["train"])
    assert 0 < len(augmented) <= len(gold)
    # labels are copied from the source pair (normalised to 0..1)
    src = gold.iloc[augmented["source_row"]]["score"].to_numpy() / 5
    assert np.allclose(augmented["label"].to_numpy(), src)


def test_scenario3_stsb_to_quora_end_to_end(tiny_stsb, tiny_quora, tmp_path):
    data = {
        "source_train": str(tiny_stsb["train"]),
        "unlabeled": str(tiny_quora["unlabeled"]),
        "dev": str(tiny_quora["dev"]),
        "test": str(tiny_quora["test"]),
    }
    cfg = _config(scenario=3, data=data)
    store = RunStore(tmp_path / "runs")
    result = run_experiment(cfg, store=store)
    metrics = _check_run(store, result, {"zero_shot", "augsbert", "teacher", "ensemble"}, "classification")
    ensemble = json.loads((result.run_dir / "ensemble.json").read_text())
    assert ensemble["report"]["bi_encoder"] == "zero_shot"  # no target gold: the zero-shot student is the member
    summary = json.loads((result.run_dir / "silver_summary.json").read_text())
    assert 0.0 < summary["threshold"] < 1.0  # chosen on the labeled target dev set and recorded
    silver = pd.read_csv(result.run_dir / "silver.csv")
    assert set(silver["label"]) <= {0, 1}
    assert ((silver["score"] >= summary["threshold"]).astype(int) == silver["label"]).all()
    assert len(silver) == 80  # the given target pairs, not gold-filtered
    # thresholds: every model's test threshold is its dev threshold
    for per_split in metrics.values():
        assert per_split["test"]["threshold"] == per_split["dev"]["threshold"]


def test_failed_run_is_marked_failed_not_finished(tiny_stsb, tmp_path):
    cfg = _config(
        scenario=2,
        data={k: str(v) for k, v in tiny_stsb.items()},
        teacher={"model": str(tmp_path / "missing-model"), **FAST},
        train_gold_only=False,
    )
    store = RunStore(tmp_path / "runs")
    with pytest.raises(Exception, match="not found"):
        run_experiment(cfg, store=store)
    record = store.list()[0]
    assert record.status == "failed" and "not found" in record.error
    assert not (tmp_path / "runs" / record.id / "metrics.json").exists()


def test_cancel_stops_training_and_keeps_the_model(tiny_stsb, tmp_path):
    from augsbert_core.runs.progress import ProgressEvent

    token = CancelToken()

    def sink(event: ProgressEvent) -> None:
        if event.stage == "gold_only.train" and event.step >= 1:
            token.cancel()

    cfg = _config(scenario=2, data={k: str(v) for k, v in tiny_stsb.items()})
    store = RunStore(tmp_path / "runs")
    with pytest.raises(Cancelled):
        run_experiment(cfg, store=store, sink=sink, cancel=token)
    record = store.list()[0]
    assert record.status == "cancelled"
    assert (tmp_path / "runs" / record.id / "models" / "gold_only" / "model.safetensors").exists()
    assert not (tmp_path / "runs" / record.id / "metrics.json").exists()


def test_trained_teacher_beats_untrained_teacher(tmp_path):
    gold = load_pairs(DEMO / "stsb" / "train.csv", scale=(0, 5)).frame.head(400)
    test = load_pairs(DEMO / "stsb" / "test.csv", scale=(0, 5)).frame.head(300)
    from augsbert_core.models import load_cross_encoder

    untrained = load_cross_encoder("default", device="cpu")
    before = evaluate_cross_encoder(untrained, {"test": test}, "regression")["test"]["spearman"]
    teacher = train_teacher(
        gold, ModelConfig(epochs=1, batch_size=16, learning_rate=1e-4), tmp_path / "teacher", device="cpu"
    )
    after = evaluate_cross_encoder(teacher, {"test": test}, "regression")["test"]["spearman"]
    assert after > before + 0.2, (before, after)
    assert after > 0.7  # measured: 0.83 (lr 1e-4, one epoch, 400 pairs)


def test_given_silver_file_skips_teacher_and_labeling(micro_stsb, tmp_path):
    silver = pd.read_csv(micro_stsb["unlabeled"]).head(8)
    given = pd.DataFrame(
        {
            "sentence1": silver["sentence"][:4].to_numpy(),
            "sentence2": silver["sentence"][4:8].to_numpy(),
            "label": [0.1, 0.9, 0.5, 0.3],
        }
    )
    path = tmp_path / "reviewed.csv"
    given.to_csv(path, index=False)
    cfg = _config(
        scenario=2,
        data={k: str(v) for k, v in micro_stsb.items()} | {"scale": [0, 5]},
        silver_file=str(path),
        train_gold_only=False,
    )
    store = RunStore(tmp_path / "runs")
    result = run_experiment(cfg, store=store)
    assert set(result.metrics) == {"zero_shot", "augsbert"}
    assert not (result.run_dir / "models" / "teacher").exists()
    used = pd.read_csv(result.run_dir / "silver.csv")
    assert used["label"].tolist() == [0.1, 0.9, 0.5, 0.3] and used["kept"].all()
