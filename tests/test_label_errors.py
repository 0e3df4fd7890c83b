"""Suspect gold labels: cross-fitted teachers put deliberately flipped STSb labels near the top (through the CLI),
the suspicion scores order labels as their definitions say, a run computes label_errors.csv, and a gold review is
applied to the gold a run loads (and refused when it reviews another file)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from augsbert_core import ExperimentConfig, RunStore, run_experiment
from augsbert_core.cli import main
from augsbert_core.config import ConfigError
from augsbert_core.data import fingerprint
from augsbert_core.gold_review import write_gold_review
from augsbert_core.inputs import load_experiment_data
from augsbert_core.label_errors import COLUMNS, fold_ids, rank_label_errors, suspicion_scores
from augsbert_core.problems import DataError
from augsbert_core.runs import RunFiles

FLIPS = 5


def _flipped_gold(source, target, n: int = 50, seed: int = 3) -> list[int]:
    """The first `n` STSb pairs of `source` with FLIPS clearly high or low scores moved to the opposite end
    (s -> 5 - s); returns the flipped 1-based rows."""
    frame = pd.read_csv(source).head(n)
    rng = np.random.default_rng(seed)
    clear = np.flatnonzero(np.abs(frame["score"].to_numpy() - 2.5) >= 1.5)
    flipped = np.sort(rng.choice(clear, FLIPS, replace=False))
    frame.loc[flipped, "score"] = 5 - frame.loc[flipped, "score"]
    frame.to_csv(target, index=False)
    return [int(i) + 1 for i in flipped]


def test_cli_ranks_deliberately_flipped_labels_near_the_top(tiny_stsb, tmp_path, capsys):
    flipped = _flipped_gold(tiny_stsb["train"], tmp_path / "train.csv")
    config = {
        "scenario": 2,
        "data": {"train": "train.csv", "test": str(tiny_stsb["test"]), "scale": [0, 5]},
        "teacher": {"epochs": 1, "batch_size": 16},
        "seed": 7,
        "label_errors": {"folds": 5},
    }
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "suspects.csv"
    code = main(["label-errors", str(tmp_path / "exp.yaml"), "--out", str(out), "--no-progress", "--top", "3"])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.strip().splitlines()[-1] == f"50 gold pairs ranked -> {out}"
    table = pd.read_csv(out)
    assert tuple(table.columns) == COLUMNS and len(table) == 50
    assert table["rank"].tolist() == list(range(1, 51)) and table["suspicion"].is_monotonic_decreasing
    assert sorted(table["row"]) == list(range(1, 51))  # every file row once, 1-based
    gold = pd.read_csv(tmp_path / "train.csv")
    by_row = table.set_index("row")
    assert np.allclose(by_row.loc[range(1, 51), "label"], gold["score"])  # labels on the file's 0-5 scale
    assert by_row.loc[flipped[0], "sentence1"] == gold["sentence1"].iat[flipped[0] - 1]
    assert table["oof_prediction"].between(0, 5).all()
    top10 = set(table.head(10)["row"])
    # measured (seed 7, 1 epoch, 5 folds, warm start): 4 of the 5 flipped rows in the top 10 of 50; a random
    # ranking puts 1 there on average
    assert len(top10 & set(flipped)) >= 3, (flipped, table.head(10))


def test_classification_suspicion_is_cleanlab_self_confidence():
    labels = np.array([1, 1, 0, 0, 1])
    oof = np.array([0.9, 0.1, 0.2, 0.95, 0.6])
    suspicion = suspicion_scores(labels, oof, "classification")
    # 1 - the probability the out-of-fold teacher gives the given label
    assert np.allclose(suspicion, [0.1, 0.9, 0.2, 0.95, 0.4], atol=1e-5)
    table = rank_label_errors(
        pd.DataFrame({"sentence1": list("abcde"), "sentence2": list("fghij"), "label": labels}), oof, "classification"
    )
    assert table["row"].tolist()[:2] == [4, 2] and table["label"].dtype.kind == "i"


def test_regression_suspicion_calibrates_before_measuring_the_residual():
    rng = np.random.default_rng(0)
    oof = rng.uniform(0.3, 0.6, 40)  # a compressed teacher: predictions in 0.3..0.6 for labels in 0..1
    labels = np.clip((oof - 0.3) / 0.3 + rng.normal(0, 0.05, 40), 0, 1)
    flipped = [int(np.argmax(labels)), int(np.argmin(labels))]  # the clearest labels, moved to the other end
    labels[flipped] = 1 - labels[flipped]
    folds = fold_ids(labels, 4, seed=1)
    for method in ("isotonic", "cleanlab", "residual"):
        suspicion = suspicion_scores(labels, oof, "regression", method=method, folds=folds)
        assert suspicion.shape == (40,) and np.isfinite(suspicion).all()
    isotonic = suspicion_scores(labels, oof, "regression", method="isotonic", folds=folds)
    assert set(np.argsort(-isotonic)[:2]) == set(flipped)
    with pytest.raises(ValueError, match="unknown regression method"):
        suspicion_scores(labels, oof, "regression", method="nope")


def test_folds_are_stratified_by_label():
    labels = np.linspace(0, 1, 50)
    ids = fold_ids(labels, 5, seed=2)
    assert np.bincount(ids).tolist() == [10] * 5
    for k in range(5):  # each fold spans the label range: two pairs in every fifth of it
        assert sorted(np.floor(labels[ids == k] * 4.999).astype(int)) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_folds_need_enough_pairs_and_the_key_is_checked():
    with pytest.raises(ConfigError, match="label_errors.folds"):
        ExperimentConfig.from_dict({"data": {"train": "a", "test": "b"}, "label_errors": {"folds": 1}})
    from augsbert_core.label_errors import out_of_fold_predictions

    gold = pd.DataFrame({"sentence1": ["a"] * 5, "sentence2": ["b"] * 5, "label": np.linspace(0, 1, 5)})
    with pytest.raises(ConfigError, match=r"label_errors\.folds: 5 folds need at least 10 gold pairs"):
        out_of_fold_predictions(gold, ExperimentConfig().teacher, "unused", folds=5)


def _review_config(micro_stsb, review) -> ExperimentConfig:
    data = {k: str(v) for k, v in micro_stsb.items()} | {"scale": [0, 5], "gold_review": str(review)}
    return ExperimentConfig.from_dict({"scenario": 2, "data": data})


def test_gold_review_is_applied_to_the_gold_a_run_loads(micro_stsb, tmp_path):
    gold = pd.read_csv(micro_stsb["train"])
    review = tmp_path / "gold_review.json"
    s = lambda row: {"sentence1": gold["sentence1"].iat[row - 1], "sentence2": gold["sentence2"].iat[row - 1]}  # noqa: E731
    write_gold_review(
        review,
        fingerprint(micro_stsb["train"]),
        {3: {"exclude": True, **s(3)}, 5: {"score": 4.5, **s(5)}, 7: {"exclude": False, "score": None}},
    )
    assert set(json.loads(review.read_text())["rows"]) == {"3", "5"}  # undecided rows are not kept
    data = load_experiment_data(_review_config(micro_stsb, review))
    assert len(data.train) == len(gold) - 1 and 3 not in data.train_rows.tolist()
    assert data.gold_review == {"excluded": 1, "corrected": 1}
    assert gold["sentence1"].iat[2] not in data.train["sentence1"].tolist()
    at5 = data.train_rows.tolist().index(5)
    assert data.train["label"].iat[at5] == pytest.approx(0.9)  # 4.5 on 0-5
    assert data.train["label"].iat[0] == pytest.approx(gold["score"].iat[0] / 5)  # others untouched
    assert data.fingerprints["gold_review"] == fingerprint(review)


def test_a_review_of_another_file_names_the_review_and_the_row(micro_stsb, tmp_path):
    review = tmp_path / "gold_review.json"
    write_gold_review(review, fingerprint(micro_stsb["train"]), {2: {"exclude": True, "sentence1": "not this one"}})
    with pytest.raises(DataError, match=r"gold_review\.json, row 2, column 'sentence1': .*stale review"):
        load_experiment_data(_review_config(micro_stsb, review))
    write_gold_review(review, "0123456789abcdef", {2: {"exclude": True}})
    with pytest.raises(DataError, match="reviews a different train file"):
        load_experiment_data(_review_config(micro_stsb, review))
    write_gold_review(review, fingerprint(micro_stsb["train"]), {2: {"score": 7}})
    with pytest.raises(DataError, match=r"row 2, column 'score': corrected score 7 is outside the scale 0..5"):
        load_experiment_data(_review_config(micro_stsb, review))
    write_gold_review(review, fingerprint(micro_stsb["train"]), {999: {"exclude": True}})
    with pytest.raises(DataError, match="row 999: this row is not a pair of the train file"):
        load_experiment_data(_review_config(micro_stsb, review))


def test_a_run_with_label_errors_enabled_writes_the_table(micro_stsb, tmp_path):
    given = tmp_path / "silver.csv"
    pd.DataFrame({"sentence1": ["a cat", "a dog"], "sentence2": ["a kitten", "a car"], "label": [0.9, 0.1]}).to_csv(
        given, index=False
    )
    cfg = ExperimentConfig.from_dict(
        {
            "scenario": 2,
            "data": {k: str(v) for k, v in micro_stsb.items()} | {"scale": [0, 5]},
            "student": {"epochs": 1, "batch_size": 16},
            "teacher": {"epochs": 1, "batch_size": 16},
            "silver_file": str(given),
            "train_gold_only": False,
            "live_evals": 0,
            "checkpoints": 0,
            "label_errors": {"enabled": True, "folds": 2, "warm_start": "off"},
        }
    )
    events = []
    result = run_experiment(cfg, store=RunStore(tmp_path / "runs"), sink=events.append)
    table = pd.read_csv(result.run_dir / RunFiles.LABEL_ERRORS)
    assert len(table) == 16 and table["rank"].tolist() == list(range(1, 17))
    fold_events = [e for e in events if e.stage == "label_errors" and e.total]
    assert [e.step for e in fold_events][-1] == 2 and fold_events[-1].total == 2
    assert "label_errors" in json.loads((result.run_dir / RunFiles.STATE).read_text())["done"]
    assert not (result.run_dir / "models" / "label_errors").exists()  # fold models are not kept
