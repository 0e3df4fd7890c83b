"""The teacher ensemble: weight and calibration chosen on dev, cross-fitted comparison with its members."""

from __future__ import annotations

import numpy as np
import pytest

from augsbert_core.config import ExperimentConfig
from augsbert_core.evaluation import regression_metrics
from augsbert_core.teacher.ensemble import TeacherEnsemble, fit_ensemble
from augsbert_core.teacher.gate import readiness_gate


def _members(n: int = 600, ce_noise: float = 0.6, bi_noise: float = 0.6, seed: int = 0):
    rng = np.random.default_rng(seed)
    gold = rng.uniform(0, 1, n)
    ce = 1 / (1 + np.exp(-(4 * gold - 2 + rng.normal(0, ce_noise * 2, n))))  # a sigmoid-squashed, noisy view
    bi = 0.3 + 0.5 * gold + rng.normal(0, bi_noise / 2, n)  # a shifted, scaled, independently noisy view
    return ce, bi, gold


def test_two_independent_noisy_members_make_a_better_teacher():
    ce, bi, gold = _members()
    ens = fit_ensemble(ce, bi, gold, "regression")
    assert 0.0 < ens.weight < 1.0
    assert ens.beats_members
    r = ens.report
    assert r["dev_crossfit"] > max(r["cross_encoder_crossfit"], r["bi_encoder_crossfit"]) + 0.01
    # on fresh pairs from the same distribution it also beats each member
    ce2, bi2, gold2 = _members(seed=1)
    combined = ens(ce2, bi2)
    assert combined.min() >= 0.0 and combined.max() <= 1.0
    score = regression_metrics(combined, gold2)["spearman"]
    assert score > regression_metrics(ce2, gold2)["spearman"]
    assert score > regression_metrics(bi2, gold2)["spearman"]
    # calibrated to the label scale: the mean error is far below the uncalibrated cosine's
    assert np.abs(combined - gold2).mean() < np.abs(bi2 - gold2).mean()


def test_a_useless_cross_encoder_gets_no_weight_and_is_not_used():
    rng = np.random.default_rng(3)
    _, bi, gold = _members()
    noise = rng.uniform(0, 1, len(gold))
    ens = fit_ensemble(noise, bi, gold, "regression")
    assert ens.weight <= 0.1
    assert not ens.beats_members


def test_classification_members_use_average_precision():
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 400)
    ce = labels + rng.normal(0, 0.9, 400)
    bi = labels + rng.normal(0, 0.9, 400)
    ens = fit_ensemble(ce, bi, labels, "classification")
    assert ens.report["metric"] == "ap"
    assert ens.beats_members


def test_round_trip_and_input_checks():
    ce, bi, gold = _members(100)
    ens = fit_ensemble(ce, bi, gold, "regression")
    again = TeacherEnsemble.from_dict(ens.to_dict())
    np.testing.assert_allclose(again(ce, bi), ens(ce, bi))
    with pytest.raises(ValueError, match="at least 8 dev pairs"):
        fit_ensemble(ce[:5], bi[:5], gold[:5], "regression")


def test_gate_judges_the_ensemble_by_its_cross_fitted_dev_score():
    ce, bi, gold = _members()
    ens = fit_ensemble(ce, bi, gold, "regression")
    metrics = {
        "zero_shot": {"dev": {"spearman": 0.50}},
        "gold_only": {"dev": {"spearman": 0.99}},
        "teacher": {"dev": {"spearman": 0.40}},
    }
    gate = readiness_gate(metrics, "regression", ExperimentConfig(), ensemble=ens)
    assert gate["teacher_kind"] == "ensemble"
    assert gate["teacher"] == pytest.approx(ens.report["dev_crossfit"])
    # the gold-only student is compared on the same dev halves, not with its full-dev number
    assert gate["students"]["gold_only"] == pytest.approx(ens.report["bi_encoder_crossfit"])
    assert gate["verdict"] == "ready" and "ensemble" in gate["message"]
    weak = readiness_gate(metrics, "regression", ExperimentConfig(ensemble="off"))
    assert weak["verdict"] == "weak" and weak["teacher_kind"] == "cross_encoder"
    assert "mpnet" in weak["message"] and "ensemble: auto" in weak["message"]


def test_gate_sets_expectations_when_a_ready_teacher_leads_by_little():
    close = {"gold_only": {"dev": {"spearman": 0.877}}, "teacher": {"dev": {"spearman": 0.899}}}
    gate = readiness_gate(close, "regression", ExperimentConfig())
    assert gate["verdict"] == "ready" and gate["lead"] == pytest.approx(0.022)
    assert "lead is only 2.2 points" in gate["message"] and "well below 2.2" in gate["message"]
    far = {"gold_only": {"dev": {"spearman": 0.80}}, "teacher": {"dev": {"spearman": 0.90}}}
    gate = readiness_gate(far, "regression", ExperimentConfig())
    assert gate["verdict"] == "ready" and "lead is only" not in gate["message"]


def test_gate_records_the_teachers_lead_over_every_student():
    metrics = {
        "zero_shot": {"dev": {"spearman": 0.66}},
        "gold_only": {"dev": {"spearman": 0.70}},
        "teacher": {"dev": {"spearman": 0.85}},
    }
    gate = readiness_gate(metrics, "regression", ExperimentConfig())
    assert gate["leads"] == {"zero_shot": pytest.approx(0.19), "gold_only": pytest.approx(0.15)}
    assert gate["lead"] == pytest.approx(min(gate["leads"].values()))


def test_gate_calls_a_teacher_just_behind_the_student_marginal_not_harmful():
    near = {"gold_only": {"dev": {"spearman": 0.877}}, "teacher": {"dev": {"spearman": 0.860}}}
    gate = readiness_gate(near, "regression", ExperimentConfig())
    assert gate["verdict"] == "weak" and "marginal" in gate["message"] and "likely hurt" not in gate["message"]
    far = {"gold_only": {"dev": {"spearman": 0.877}}, "teacher": {"dev": {"spearman": 0.787}}}
    gate = readiness_gate(far, "regression", ExperimentConfig())
    assert gate["verdict"] == "weak" and "will likely hurt: teacher 78.7 vs student (gold_only) 87.7" in gate["message"]
