"""Times that hold (issue 26, item 4): a run keeps its estimate per stage (estimate.json) beside what each stage took
(timings.json); the next estimate is calibrated on this workspace's finished runs, and a running run's overall ETA
scales the estimate of the stages left by how its finished stages compared with theirs."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from augsbert_core.estimate import Estimate, actual_over_estimate, by_stage, calibration, estimate_record
from augsbert_core.runs import RunFiles, RunStore


def _estimate(**parts: float) -> Estimate:
    return Estimate(candidates=0, silver=0, silver_note="", train_pairs=0, seconds=sum(parts.values()), parts=parts)


PARTS = {"startup": 25.0, "evaluation": 10.0, "gold-only student": 100.0, "teacher": 200.0, "labeling": 40.0,
         "labeler probes": 20.0, "AugSBERT student": 300.0}  # fmt: skip


def test_an_estimate_is_kept_per_stage_and_compared_with_what_the_stages_took():
    record = estimate_record(_estimate(**PARTS))
    assert record["by_stage"] == {"zero_shot": 10.0, "gold_only": 100.0, "teacher": 200.0, "silver": 60.0,
                                  "augsbert": 300.0}  # fmt: skip
    # finished stages took twice their estimate; a reused stage (0 s) and an unfinished one are left out
    timings = {"zero_shot": 20.0, "gold_only": 200.0, "teacher": 0.0}
    assert actual_over_estimate(record, timings) == pytest.approx(2.0)
    assert actual_over_estimate(record, {}) is None and by_stage({"startup": 5.0}) == {}


def _finished_run(store: RunStore, name: str, ratio: float, kind: str = "cpu") -> Path:
    run = store.create(name, 2, {"name": name}, status="finished")
    record = {**estimate_record(_estimate(**PARTS)), "device_kind": kind}
    run.write_json(RunFiles.ESTIMATE, record)
    run.write_json(RunFiles.TIMINGS, {k: v * ratio for k, v in record["by_stage"].items()})
    return Path(run.dir)


def test_calibration_is_the_median_of_past_runs_on_this_kind_of_device(tmp_path):
    store = RunStore(tmp_path / "runs")
    assert calibration(tmp_path / "runs") is None
    for i, ratio in enumerate((1.5, 3.0, 2.0)):
        _finished_run(store, f"r{i}", ratio)
        time.sleep(1.1)  # run ids start with the second they were created
    _finished_run(store, "gpu", 0.1, kind="gpu")  # another kind of device does not count
    factor, runs = calibration(tmp_path / "runs", "cpu")
    assert (factor, runs) == (pytest.approx(2.0), 3)


def test_a_running_runs_eta_scales_the_stages_left(tmp_path):
    from studio import runinfo

    store = RunStore(tmp_path / "runs")
    run = store.create("live", 2, {"name": "live"}, status="queued")
    store.update(run.id, status="running", pid=os.getpid(), started_at=time.time())  # alive: this process
    run.write_json(RunFiles.ESTIMATE, estimate_record(_estimate(**PARTS)))
    # zero-shot and gold-only done, at 1.5x their estimate; 30 s into the teacher
    run.write_json(
        RunFiles.STATE, {"done": ["zero_shot", "gold_only"], "timings": {"zero_shot": 15.0, "gold_only": 150.0}}
    )
    prog = runinfo.Progress(elapsed=25.0 + 165.0 + 30.0, stage_eta=None)
    left = 1.5 * (200.0 + 60.0 + 300.0) - 30.0
    assert runinfo.run_eta(store.get(run.id), prog) == pytest.approx(left)
    prog.stage_eta = 5000.0  # an early-stopped training's step ETA counts to its epoch limit: not taken
    assert runinfo.run_eta(store.get(run.id), prog) == pytest.approx(left)
    store.update(run.id, status="finished")
    assert runinfo.run_eta(store.get(run.id), prog) is None
    assert json.loads(Path(run.dir, RunFiles.ESTIMATE).read_text())["device_kind"] == "cpu"
