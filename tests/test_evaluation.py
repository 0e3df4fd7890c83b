"""Metrics against hand-computed values, and the dev-chosen threshold applied to test."""

import math

import numpy as np
import pytest

from augsbert_core.evaluation import (
    SplitScores,
    average_precision,
    best_threshold,
    classification_metrics,
    format_table,
    regression_metrics,
    score_splits,
    tidy,
)


def test_regression_metrics_hand_computed():
    pred = [1.0, 2.0, 3.0, 4.0]
    gold = [1.0, 3.0, 2.0, 4.0]
    m = regression_metrics(pred, gold)
    # ranks differ by one swap: spearman = 1 - 6*sum(d^2)/(n(n^2-1)) = 1 - 6*2/60 = 0.8
    assert m["spearman"] == pytest.approx(0.8)
    # pearson: both mean 2.5, cov = (2.25+(-0.5*0.5)+(0.5*-0.5)+2.25)/... -> r = 4/5 = 0.8
    assert m["pearson"] == pytest.approx(0.8)


def test_regression_metrics_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        regression_metrics([1.0, 2.0], [1.0])


def test_average_precision_hand_computed():
    # ranking by score: pos, neg, pos -> precisions at the positives: 1/1 and 2/3 -> AP = (1 + 2/3)/2
    assert average_precision([0.9, 0.8, 0.7], [1, 0, 1]) == pytest.approx((1 + 2 / 3) / 2)


def test_classification_metrics_hand_computed():
    scores = [0.9, 0.6, 0.4, 0.2]
    labels = [1, 0, 1, 0]
    m = classification_metrics(scores, labels, threshold=0.5)
    # predictions 1,1,0,0: tp=1 fp=1 fn=1 tn=1
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(0.5)
    assert m["f1"] == pytest.approx(0.5)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["threshold"] == 0.5


def test_best_threshold_maximises_f1_between_scores():
    scores = [0.95, 0.9, 0.7, 0.3, 0.2]
    labels = [1, 1, 1, 0, 0]
    t = best_threshold(scores, labels)
    assert 0.3 < t < 0.7  # separates perfectly
    assert classification_metrics(scores, labels, t)["f1"] == 1.0


def test_dev_threshold_is_applied_to_test_unchanged():
    dev = SplitScores(np.array([0.9, 0.8, 0.35, 0.3]), np.array([1, 1, 0, 0]))
    # on test the best threshold would be ~0.65; the dev one (~0.575) must be used instead
    test = SplitScores(np.array([0.7, 0.6, 0.55, 0.1]), np.array([1, 0, 0, 0]))
    m = score_splits({"dev": dev, "test": test}, "classification")
    t_dev = best_threshold(dev.pred, dev.gold)
    assert m["dev"]["threshold"] == m["test"]["threshold"] == pytest.approx(t_dev)
    assert m["test"]["threshold"] != pytest.approx(best_threshold(test.pred, test.gold))
    # at the dev threshold, test predicts 1,1,0,0 -> precision 0.5, recall 1
    assert m["test"]["precision"] == pytest.approx(0.5)
    assert m["test"]["recall"] == pytest.approx(1.0)


def test_format_table_and_tidy():
    metrics = {
        "zero_shot": {"dev": {"spearman": 0.5, "pearson": 0.4}, "test": {"spearman": 0.6, "pearson": 0.7}},
        "augsbert": {"test": {"spearman": 0.8, "pearson": 0.75}},
    }
    table = format_table(metrics, "regression")
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["model", "dev.spearman", "dev.pearson"]
    assert "80.00" in lines[2] and lines[2].split()[1] == "-"
    rows = tidy(metrics)
    assert {"model": "augsbert", "split": "test", "metric": "spearman", "value": 0.8} in rows
    assert len(rows) == 6
    assert all(not math.isnan(r["value"]) for r in rows)
