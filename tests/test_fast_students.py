"""Fast students (issue 23, item 2): `student.model: static` (a StaticEmbedding distilled from the offline MiniLM with
model2vec) and `student.layers: N` (the transformer cut to its first N layers), each in a tiny end-to-end run that
records the student's sentences/s."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from augsbert_core import ExperimentConfig, RunStore, run_experiment
from augsbert_core.config import LAYERS_LEARNING_RATE, SILVER_BUDGET, STATIC_BATCH_SIZE, STATIC_LEARNING_RATE
from augsbert_core.errors import ModelLoadError
from tests.conftest import DEMO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def static_home(tmp_path_factory):
    """One distilled static base for the session (about 40 s on 2 cores), as a user's workspace keeps it."""
    return tmp_path_factory.mktemp("static") / "static-minilm-256"


def _run(data: dict, tmp_path, student: dict, warm_start: str = "off"):
    cfg = ExperimentConfig.from_dict(
        {
            "name": "fast",
            "scenario": 2,
            "data": {k: str(v) for k, v in data.items()} | {"scale": [0, 5]},
            "student": {"max_epochs": 2, "patience": 1, "batch_size": 8, **student},
            "teacher": {"epochs": 1, "batch_size": 16, "warm_start": warm_start},
            "ensemble": "off",
            "labeler": "cross_encoder",
            "live_evals": 0,
            "checkpoints": 0,
            "seed": 7,
        }
    )
    return cfg, run_experiment(cfg, store=RunStore(tmp_path / "runs"))


def _speed_and_card(run_dir, key: str) -> float:
    entry = json.loads((run_dir / "speed.json").read_text())["models"][key]
    assert entry["kind"] == "bi-encoder" and entry["sentences_per_s"] > 0
    assert "sentences/s" in (run_dir / "models" / key / "README.md").read_text()
    return entry["sentences_per_s"]


def test_static_student_runs_end_to_end(micro_stsb, tmp_path, monkeypatch, static_home):
    monkeypatch.setenv("AUGSBERT_STATIC_MODEL", str(static_home))
    pairs = tmp_path / "unlabeled_pairs.csv"  # an unlabeled file of pairs: auto tops them up with sampled ones
    pd.read_csv(DEMO / "stsb" / "unlabeled_pairs.csv").head(12).to_csv(pairs, index=False)
    cfg, result = _run({**micro_stsb, "unlabeled": pairs}, tmp_path, {"model": "static"}, warm_start="on")
    assert cfg.student.learning_rate == STATIC_LEARNING_RATE  # the static student's own rate unless given
    summary = json.loads((result.run_dir / "silver_summary.json").read_text())
    assert summary["candidates_source"] == "given+sampled" and summary["silver_cap"] == SILVER_BUDGET["static"]
    assert summary["by_sampler"]["given"] == 12 and summary["by_sampler"]["bm25"] > 0
    modules = json.loads((result.run_dir / "models" / "augsbert" / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == ["StaticEmbedding"]
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert metrics["schedules"]["augsbert"]["epochs"] == "auto"
    # a trained static student scores pairs differently from its base (the zero-shot column)
    preds = pd.read_csv(result.run_dir / "predictions.csv")
    assert (preds["augsbert"] - preds["zero_shot"]).abs().max() > 1e-4
    _speed_and_card(result.run_dir, "augsbert")
    # a fast student is a weak guide: the teacher warms up on its own base's bi-encoder (the offline MiniLM)
    assert json.loads((result.run_dir / "gate.json").read_text())["warm_start"]["bi_encoder"] == "teacher_base"
    # the base is made once and reused: a second load needs no distillation (the folder is there)
    assert (static_home / "modules.json").is_file()


def test_layer_cut_student_runs_end_to_end_and_reloads_cut(micro_stsb, tmp_path):
    _, result = _run(micro_stsb, tmp_path, {"model": "default", "layers": 2})
    config = json.loads((result.run_dir / "models" / "augsbert" / "config.json").read_text())
    assert config["num_hidden_layers"] == 2
    from augsbert_core.models import load_bi_encoder

    reloaded = load_bi_encoder(str(result.run_dir / "models" / "augsbert"), device="cpu")
    assert len(reloaded[0].auto_model.encoder.layer) == 2
    _speed_and_card(result.run_dir, "augsbert")


def test_each_student_kind_gets_the_learning_rate_dev_chose_unless_given():
    def rate(student: dict) -> float:
        return ExperimentConfig.from_dict({"student": student}, rules=False).student.learning_rate

    assert rate({"model": "default"}) == 2e-5
    assert rate({"model": "default", "layers": 2}) == LAYERS_LEARNING_RATE == 1e-4
    assert rate({"model": "static"}) == STATIC_LEARNING_RATE
    assert rate({"model": "default", "layers": 2, "learning_rate": 3e-5}) == 3e-5  # a given rate wins

    def batch(student: dict) -> int:
        return ExperimentConfig.from_dict({"student": student}, rules=False).student.batch_size

    assert batch({"model": "static"}) == STATIC_BATCH_SIZE == 64  # an epoch ~4.5x faster (bench/static_batch.py)
    assert batch({"model": "default"}) == batch({"model": "default", "layers": 2}) == 16
    assert batch({"model": "static", "batch_size": 16}) == 16  # a given batch wins


def test_layers_beyond_the_model_and_on_the_wrong_roles_are_refused():
    from augsbert_core.models import load_bi_encoder

    with pytest.raises(ModelLoadError, match="only 6 layers"):
        load_bi_encoder("default", device="cpu", layers=8)
    base = {"data": {"train": "a.csv", "test": "b.csv"}}
    with pytest.raises(Exception, match="teacher.layers"):
        ExperimentConfig.from_dict({**base, "teacher": {"layers": 2}})
    with pytest.raises(Exception, match="static student has no transformer layers"):
        ExperimentConfig.from_dict({**base, "student": {"model": "static", "layers": 2}})


def test_the_estimate_prices_fast_students_by_their_measured_speed():
    from augsbert_core import estimate

    counts = estimate.DataCounts(train_pairs=1000, dev_pairs=300, test_pairs=1379, unique_sentences=9000)
    base = {"scenario": 2, "data": {"train": "a.csv", "test": "b.csv"}, "labeler": "cross_encoder"}

    def student_seconds(student: dict) -> float:
        cfg = ExperimentConfig.from_dict({**base, "student": {"epochs": 2, **student}})
        return estimate.estimate(cfg, counts, "cpu").parts["gold-only student"] - estimate.PER_TRAINING_S

    minilm = student_seconds({"model": "default"})
    assert student_seconds({"model": "default", "layers": 2}) == pytest.approx(minilm / 3)
    same_batch = student_seconds({"model": "static", "batch_size": 16})
    assert same_batch == pytest.approx(minilm / estimate.STATIC_STEP_SPEEDUP)
    steps = {b: -(-1000 // b) for b in (16, STATIC_BATCH_SIZE)}  # 1,000 gold pairs: steps per epoch at each batch
    assert student_seconds({"model": "static"}) == pytest.approx(same_batch * steps[STATIC_BATCH_SIZE] / steps[16])


def test_max_silver_auto_gives_the_static_student_its_budget_and_only_it():
    """max_silver: auto (the default) = the student kind's silver budget: a static student's given pairs are topped
    up with sampled ones up to SILVER_BUDGET; a transformer student labels the given pairs as they are, uncapped.
    A number or null keeps today's meaning, and the estimate prices what will be labeled."""
    from augsbert_core import estimate

    base = {"scenario": 2, "data": {"train": "a.csv", "test": "b.csv"}, "labeler": "cross_encoder", "top_k": 5}
    minilm = ExperimentConfig.from_dict(base)
    static = ExperimentConfig.from_dict({**base, "student": "static"})
    assert minilm.max_silver == static.max_silver == "auto"
    assert minilm.silver_cap is None and minilm.candidate_source(True) == "given"
    assert static.silver_cap == SILVER_BUDGET["static"] and static.candidate_source(True) == "given+sampled"
    assert static.candidate_source(False) == minilm.candidate_source(False) == "sampled"
    for fixed, cap in (({"max_silver": None}, None), ({"max_silver": 3000}, 3000), ({"candidates": "given"}, 20_000)):
        cfg = ExperimentConfig.from_dict({**base, "student": "static", **fixed})
        assert cfg.candidate_source(True) == "given" and cfg.silver_cap == cap
    assert ExperimentConfig.from_dict({**base, "scenario": 1, "student": "static"}).silver_cap is None

    counts = estimate.DataCounts(
        train_pairs=1000,
        dev_pairs=300,
        test_pairs=1379,
        unique_sentences=11000,
        unlabeled_sentences=9000,
        unlabeled_pairs=4700,
    )
    plain, fast = estimate.estimate(minilm, counts, "cpu"), estimate.estimate(static, counts, "cpu")
    assert plain.candidates == 4700 and plain.silver == 4700
    assert fast.candidates > 4700 and fast.silver == SILVER_BUDGET["static"] and "budget" in fast.silver_note
    # only the capped pairs are labeled, so labeling is priced on the budget, not on every candidate
    per_pair = plain.parts["labeling"] / 4700
    assert fast.parts["labeling"] == pytest.approx(per_pair * SILVER_BUDGET["static"])
    assert "sampling" in fast.parts and "sampling" not in plain.parts


def test_a_large_silver_budget_does_not_lengthen_the_warm_start_on_cpu():
    """The warm start samples at most 8,000 pairs on CPU (20,000 on a GPU), so a static student's 20,000-pair budget
    costs labeling time, not warm-start time; the estimate prices the same cap."""
    from augsbert_core import estimate
    from augsbert_core.teacher import WARM_START_MAX_PAIRS, WARM_START_MAX_PAIRS_CPU, warm_start_cap

    assert warm_start_cap("cpu") == WARM_START_MAX_PAIRS_CPU < warm_start_cap("cuda:0") == WARM_START_MAX_PAIRS
    counts = estimate.DataCounts(
        train_pairs=1000, dev_pairs=300, test_pairs=1379, unique_sentences=11000, unlabeled_pairs=4700
    )
    base = {"scenario": 2, "data": {"train": "a.csv", "test": "b.csv"}, "teacher": {"warm_start": "on"}}
    minilm = estimate.estimate(ExperimentConfig.from_dict(base), counts, "cpu").parts["teacher warm start"]
    static = {**base, "student": "static"}
    fast = estimate.estimate(ExperimentConfig.from_dict(static), counts, "cpu").parts["teacher warm start"]
    assert fast == pytest.approx(minilm, rel=0.2)  # 4,700 given pairs + neighbours already reach the CPU cap
