"""Killed jobs: kill -9 mid-training marks the run interrupted, keeps checkpoints and logs, and a resume
finishes from the newest checkpoint with the same final step count; the job outlives the process that
launched it (the app's server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from augsbert_core import ExperimentConfig, RunStore, run_experiment
from augsbert_core.jobs import launch, resume
from augsbert_core.training import latest_checkpoint

from .conftest import REPO

pytestmark = pytest.mark.slow


def _config(micro_stsb) -> ExperimentConfig:
    return ExperimentConfig.from_dict(
        {
            "name": "killme",
            "scenario": 2,
            "sampler": "random",
            "top_k": 1,
            "train_gold_only": False,
            "live_evals": 0,
            "checkpoints": 4,
            "device": "cpu",
            "data": {k: str(v) for k, v in micro_stsb.items()},
            "student": {"epochs": 3, "batch_size": 4},
            "teacher": {"epochs": 1},
        }
    )


def _events(store, run_id, stage):
    return [e for e in store.run(run_id).events() if e.get("stage") == stage]


def _wait_for(predicate, timeout=300, what=""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_mid_training_then_resume_reaches_the_same_final_step(micro_stsb, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    store = RunStore(tmp_path / "runs")
    run_id = launch(_config(micro_stsb), store)
    model_dir = store.run(run_id).path("models", "augsbert")

    def past_a_checkpoint():
        steps = [e for e in _events(store, run_id, "augsbert.train") if e.get("total")]
        return bool(steps) and latest_checkpoint(model_dir) is not None and steps[-1]["step"] < steps[-1]["total"] - 2

    _wait_for(past_a_checkpoint, what="a checkpoint of the AugSBERT student")
    pid = store.get(run_id).pid
    os.killpg(pid, signal.SIGKILL)  # the worker and anything it started
    _wait_for(
        lambda: store.reconcile() == [run_id] or store.get(run_id).status == "interrupted",
        timeout=30,
        what="the run to be marked interrupted",
    )
    record = store.get(run_id)
    assert record.status == "interrupted" and "ended without finishing" in record.error
    run = store.run(run_id)
    assert not run.path("metrics.json").exists()
    assert latest_checkpoint(model_dir) is not None and run.path("log.txt").exists()
    killed_at = _events(store, run_id, "augsbert.train")[-1]["step"]
    total = _events(store, run_id, "augsbert.train")[-1]["total"]
    teacher_trainings = len([e for e in _events(store, run_id, "teacher.train") if "training the" in e["message"]])

    result = run_experiment(ExperimentConfig.from_dict(run.read_json("config.json")), store=store, run=run, resume=True)
    assert store.get(run_id).status == "finished"
    verdict = {"recommended": result.recommended, "recommendation": result.recommendation}
    verdict["schedules"] = result.schedules
    assert json.loads(run.path("metrics.json").read_text()) == {**result.metrics, **verdict}
    student = _events(store, run_id, "augsbert.train")
    resumed = [e for e in student if e["message"].startswith("resuming from checkpoint-")]
    assert resumed, "the student did not continue from its checkpoint"
    checkpoint_step = int(resumed[-1]["message"].rsplit("-", 1)[1])
    assert 0 < checkpoint_step <= killed_at
    after = [e for e in student[student.index(resumed[-1]) :] if e.get("total")]
    assert after[0]["step"] > checkpoint_step and after[-1]["step"] == after[-1]["total"] == total
    # finished stages were not redone
    assert (
        len([e for e in _events(store, run_id, "teacher.train") if "training the" in e["message"]]) == teacher_trainings
    )


def test_job_outlives_the_process_that_launched_it(micro_stsb, tmp_path):
    """The Streamlit server can be killed and restarted: jobs run in their own process session."""
    runs = tmp_path / "runs"
    code = (
        "import sys; from augsbert_core import ExperimentConfig, RunStore; from augsbert_core.jobs import launch;"
        f"cfg = ExperimentConfig.from_dict({_config(micro_stsb).to_dict()!r});"
        f"print(launch(cfg, RunStore({str(runs)!r})), flush=True); import time; time.sleep(600)"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO)),
    )
    run_id = server.stdout.readline().strip()
    store = RunStore(runs)
    _wait_for(lambda: store.get(run_id).status == "running", timeout=120, what="the job to start")
    server.kill()  # kill -9 the "server"
    server.wait()
    time.sleep(1)
    assert store.reconcile() == []  # a new server process attaches: the job is still alive
    assert store.get(run_id).status == "running"
    from augsbert_core.jobs import cancel

    cancel(store, run_id)
    _wait_for(lambda: store.get(run_id).status != "running", timeout=300, what="the job to stop")
    assert store.get(run_id).status == "cancelled"
    # and a cancelled run can be resumed to the end
    resume(store, run_id)
    _wait_for(lambda: store.get(run_id).status in ("finished", "failed"), timeout=400, what="the resumed job")
    assert store.get(run_id).status == "finished", store.get(run_id).error
