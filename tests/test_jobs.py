"""Background jobs: a real worker process per run, one training per device (the other queues), cancel."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from augsbert_core import ExperimentConfig, RunStore
from augsbert_core.jobs import cancel, launch

pytestmark = pytest.mark.slow


def _tiny(micro_stsb, name: str) -> ExperimentConfig:
    return ExperimentConfig.from_dict(
        {
            "name": name,
            "scenario": 2,
            "sampler": "random",
            "top_k": 1,
            "train_gold_only": False,
            "live_evals": 0,
            "data": {k: str(v) for k, v in micro_stsb.items()},
            "student": {"epochs": 1},
            "teacher": {"epochs": 1},
            "device": "cpu",
        }
    )


def _wait(store: RunStore, run_id: str, statuses: tuple[str, ...], timeout: float = 400) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = store.get(run_id).status
        if status in statuses:
            return status
        time.sleep(0.5)
    raise AssertionError(f"{run_id} still {store.get(run_id).status} after {timeout}s")


def test_two_jobs_queue_on_one_device_and_both_finish(micro_stsb, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    store = RunStore(tmp_path / "runs")
    first = launch(_tiny(micro_stsb, "first"), store)
    _wait(store, first, ("running",), timeout=120)
    second = launch(_tiny(micro_stsb, "second"), store)
    time.sleep(3)
    # never two trainings on one device: the second waits while the first runs
    if store.get(first).status == "running":
        assert store.get(second).status == "queued"
    assert _wait(store, first, ("finished", "failed")) == "finished"
    assert _wait(store, second, ("finished", "failed")) == "finished"
    a, b = store.get(first), store.get(second)
    assert b.started_at >= a.finished_at - 1.0  # ran after, not alongside
    assert (store.run(second).path("metrics.json")).exists()
    # a worker exits with its run (issue 26: one was alive 5 minutes after its run showed finished)
    for run_id in (first, second):
        pid = store.get(run_id).pid
        deadline = time.time() + 20
        while time.time() < deadline and _alive(pid):
            time.sleep(0.2)
        assert not _alive(pid), f"the worker of {run_id} (pid {pid}) is still running after its run finished"


def _alive(pid: int | None) -> bool:
    """Whether process `pid` runs (a zombie, exited but not yet reaped by its parent, counts as gone)."""
    if not pid:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state != "Z"


def test_cancel_a_queued_job(micro_stsb, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    store = RunStore(tmp_path / "runs")
    first = launch(_tiny(micro_stsb, "blocker"), store)
    _wait(store, first, ("running",), timeout=120)
    queued = launch(_tiny(micro_stsb, "to-cancel"), store)
    time.sleep(2)
    cancel(store, queued)
    cancel(store, first)
    assert _wait(store, queued, ("cancelled", "finished", "failed"), timeout=120) == "cancelled"
    assert _wait(store, first, ("cancelled", "finished", "failed"), timeout=300) == "cancelled"
    assert not store.run(first).path("metrics.json").exists()
