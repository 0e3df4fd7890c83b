"""Faults end the job with a readable error, leave earlier runs intact, and keep the store usable:
out of memory (an over-large batch under a job memory cap), a write that cannot complete (file-size
cap standing in for a full disk), an unreachable model hub, a corrupt saved model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest

from augsbert_core import ExperimentConfig, RunStore
from augsbert_core.jobs import launch
from augsbert_core.models import default_model_path

from .conftest import REPO

pytestmark = pytest.mark.slow


def _wait_done(store: RunStore, run_id: str, timeout: float = 300) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = store.get(run_id).status
        if status not in ("queued", "running"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"{run_id} still {store.get(run_id).status}")


def _cfg(data: dict, **overrides) -> ExperimentConfig:
    raw = {
        "name": "fault",
        "scenario": 2,
        "sampler": "random",
        "top_k": 1,
        "live_evals": 0,
        "checkpoints": 0,
        "device": "cpu",
        "data": {k: str(v) for k, v in data.items()},
        "student": {"epochs": 1},
        "teacher": {"epochs": 1},
    }
    for key, value in overrides.items():
        raw[key] = value if not isinstance(value, dict) else {**raw.get(key, {}), **value}
    return ExperimentConfig.from_dict(raw)


@pytest.fixture()
def store_with_a_finished_run(tmp_path):
    """A store holding one finished run, to check that faults elsewhere leave it intact."""
    store = RunStore(tmp_path / "runs")
    run = store.create("earlier", 2, {"scenario": 2})
    run.write_json("metrics.json", {"augsbert": {"test": {"spearman": 0.8}}})
    run.set_status("finished", headline={"augsbert.test.spearman": 0.8})
    return store, run


def _intact(store: RunStore, run) -> None:
    record = store.get(run.id)
    assert record.status == "finished" and record.headline == {"augsbert.test.spearman": 0.8}
    assert json.loads(run.path("metrics.json").read_text()) == {"augsbert": {"test": {"spearman": 0.8}}}


def test_batch_too_large_for_the_memory_cap_fails_readably(
    micro_stsb, tmp_path, monkeypatch, store_with_a_finished_run
):
    store, earlier = store_with_a_finished_run
    long = " ".join(["the quick brown fox jumps over the lazy dog"] * 40)
    train = pd.DataFrame(
        {
            "sentence1": [f"{long} {i}" for i in range(256)],
            "sentence2": [f"{i} {long}" for i in range(256)],
            "score": [2.5] * 256,
        }
    )
    train.to_csv(tmp_path / "long.csv", index=False)
    data = dict(micro_stsb, train=tmp_path / "long.csv")
    monkeypatch.setenv("AUGSBERT_JOB_MEMORY_MB", "5000")  # ~2.6 GB is mapped after imports
    run_id = launch(_cfg(data, student={"batch_size": 256, "max_seq_length": 256}), store)
    assert _wait_done(store, run_id) == "failed"
    error = store.get(run_id).error
    assert error.startswith("out of memory") and "batch_size" in error, error
    assert not store.run(run_id).path("metrics.json").exists()
    _intact(store, earlier)


def test_write_that_cannot_complete_fails_readably(micro_stsb, monkeypatch, store_with_a_finished_run):
    store, earlier = store_with_a_finished_run
    monkeypatch.setenv("AUGSBERT_JOB_MAX_FILE_MB", "20")  # a saved MiniLM is ~90 MB: saving must fail
    run_id = launch(_cfg(micro_stsb, train_gold_only=False), store)
    assert _wait_done(store, run_id) == "failed"
    error = store.get(run_id).error
    assert error.startswith("disk full or file too large"), error
    _intact(store, earlier)


def test_unreachable_hub_model_fails_readably(micro_stsb, monkeypatch, store_with_a_finished_run):
    store, earlier = store_with_a_finished_run
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    run_id = launch(
        _cfg(micro_stsb, teacher={"model": "cross-encoder/stsb-roberta-base"}, train_gold_only=False), store
    )
    assert _wait_done(store, run_id) == "failed"
    error = store.get(run_id).error
    assert "could not load model 'cross-encoder/stsb-roberta-base'" in error and "offline" in error, error
    _intact(store, earlier)


def test_corrupt_saved_model_fails_readably(micro_stsb, tmp_path, store_with_a_finished_run):
    store, earlier = store_with_a_finished_run
    corrupt = tmp_path / "corrupt-model"
    shutil.copytree(default_model_path(), corrupt)
    (corrupt / "model.safetensors").write_bytes(b"\x00not a safetensors file" * 100)
    run_id = launch(_cfg(micro_stsb, student={"model": str(corrupt)}), store)
    assert _wait_done(store, run_id) == "failed"
    error = store.get(run_id).error
    assert error.startswith("ModelLoadError: could not load model") and str(corrupt) in error, error
    _intact(store, earlier)
    # the CLI says the same, with exit code 2 (bad argument), and no traceback, for a corrupt cross-encoder (a
    # bi-encoder's folder is refused as a teacher before it loads: tests/test_hostile.py)
    teacher = tmp_path / "corrupt-teacher"
    shutil.copytree(corrupt, teacher)
    config = json.loads((teacher / "config.json").read_text())
    (teacher / "config.json").write_text(json.dumps({**config, "architectures": ["BertForSequenceClassification"]}))
    pairs = tmp_path / "pairs.csv"
    pd.DataFrame({"sentence1": ["a"], "sentence2": ["b"]}).to_csv(pairs, index=False)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "augsbert_core",
            "label",
            "--pairs",
            str(pairs),
            "--teacher",
            str(teacher),
            "--out",
            str(tmp_path / "o.csv"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == 2 and "could not load model" in out.stderr and "Traceback" not in out.stderr
