"""Stages as data: the table in augsbert_core.stages is the one list of steps and stages. The test suite runs with
AUGSBERT_STRICT_STAGES=1 (conftest), so any event a pipeline, sampler, teacher or worker emits with a stage the
table lacks fails the test that caused it; here, the table's own consistency and the strict check itself."""

from __future__ import annotations

import pandas as pd
import pytest

from augsbert_core import stages
from augsbert_core.runs.progress import ProgressEvent, event_kind
from augsbert_core.sampling import sample_candidates
from studio import runinfo


def test_strict_mode_refuses_a_stage_the_table_lacks():
    with pytest.raises(ValueError, match="not in augsbert_core.stages"):
        ProgressEvent("teacher.nonsense")
    assert ProgressEvent(stages.LABEL, 1, 2).kind == "progress"
    assert ProgressEvent(stages.LABEL, message="scoring").kind == "message"


def test_every_stage_belongs_to_a_known_step_and_every_step_has_stages():
    keys = {step.key for step in stages.STEPS}
    for stage in stages.STAGES:
        assert stage.step is None or stage.step in keys, stage
    for step in stages.STEPS:
        assert any(s.step == step.key for s in stages.STAGES), step
    assert len(stages.BY_NAME) == len(stages.STAGES)  # no name twice


def test_the_training_page_steps_come_from_the_core_table():
    assert [key for key, _, _ in runinfo.STEPS] == [step.key for step in stages.STEPS]
    assert dict((k, t) for k, t, _ in runinfo.STEPS) == {s.key: s.title for s in stages.STEPS}
    for key, _, names in runinfo.STEPS:
        assert all(stages.step_of(name) == key for name in names)


def test_reused_stages_tick_their_steps():
    assert runinfo.state_steps(["zero_shot", "gold_only", "teacher", "augment"]) == {
        "zero_shot",
        "gold_only",
        "teacher",
        "silver",
    }


def test_a_sampler_emits_only_table_stages():
    seen = []
    sentences = [f"sentence number {i} about topic {i % 7}" for i in range(60)]
    sample_candidates(sentences, "bm25", 3, sink=seen.append, seed=1)
    assert seen and {e.stage for e in seen} <= set(stages.BY_NAME)


def test_event_kind_reads_old_events_too():
    assert event_kind({"stage": "teacher.train", "loss": 0.5, "message": "log"}) == "log"
    assert event_kind({"stage": "teacher.train", "metrics": {"x": 1}, "message": "eval"}) == "eval"
    assert event_kind({"stage": "label", "message": "scoring 10 pairs"}) == "message"
    assert event_kind(ProgressEvent(stages.TEACHER_TRAIN, 1, 2, loss=0.1, kind="log").to_dict()) == "log"
    frame = pd.DataFrame([ProgressEvent(stages.GATE, message="ready").to_dict()])
    assert frame["kind"].tolist() == ["message"]
