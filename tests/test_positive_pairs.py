"""Task positive_pairs: gold of positive pairs only. Detection (all-1 labels; anchor/positive columns), the
config's rules, the student's triplets from teacher-checked negatives, retrieval metrics, and a tiny run end to
end: mining -> binary teacher -> teacher check -> MNRL student on triplets -> metrics."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from augsbert_core import ExperimentConfig, RunStore, run_experiment
from augsbert_core.config import ConfigError
from augsbert_core.evaluation import retrieval_metrics
from augsbert_core.io.data import DataError, load_pairs
from augsbert_core.io.inputs import load_experiment_data
from augsbert_core.mining import check_silver, mined_candidates, student_pairs, teacher_pairs

from .conftest import DEMO


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


# --- detection ------------------------------------------------------------------------------------------------
def test_every_label_1_is_positive_pairs_without_a_single_class_warning(tmp_path):
    pairs = load_pairs(_write(tmp_path / "g.csv", "sentence1,sentence2,label\na b,c d,1\ne f,g h,1\n"))
    assert pairs.task == "positive_pairs" and pairs.frame["label"].tolist() == [1, 1]
    assert not pairs.warnings
    # all 0 is still one class of a classification task, with the warning
    zeros = load_pairs(_write(tmp_path / "z.csv", "sentence1,sentence2,label\na b,c d,0\ne f,g h,0\n"))
    assert zeros.task == "classification" and any("only one class" in w.message for w in zeros.warnings)
    mixed = load_pairs(_write(tmp_path / "m.csv", "sentence1,sentence2,label\na b,c d,1\ne f,g h,0\n"))
    assert mixed.task == "classification"


def test_anchor_positive_columns_without_labels_are_positive_pairs(tmp_path):
    pairs = load_pairs(_write(tmp_path / "ap.csv", "anchor,positive\nHow old is he?,What is his age?\nA b,C d\n"))
    assert pairs.task == "positive_pairs" and pairs.scale is None
    assert pairs.frame["sentence1"].tolist() == ["How old is he?", "A b"]
    assert pairs.frame["label"].tolist() == [1, 1]
    # two plain sentence columns without labels stay an error (a forgotten score column), unless the task says so
    plain = _write(tmp_path / "plain.csv", "sentence1,sentence2\na b,c d\n")
    with pytest.raises(DataError, match="missing column 'score' or 'label'"):
        load_pairs(plain)
    assert load_pairs(plain, task="positive_pairs").task == "positive_pairs"
    # a bad cell is still named by row and column
    with pytest.raises(DataError, match=r"row 2.*positive"):
        load_pairs(_write(tmp_path / "bad.csv", "anchor,positive\na b,c d\ne f,\n"))


def test_positive_pairs_labels_must_be_0_or_1(tmp_path):
    path = _write(tmp_path / "d.csv", "sentence1,sentence2,label\na b,c d,1\ne f,g h,0\ni j,k l,3\n")
    with pytest.raises(DataError, match=r"row 3.*labels must be 0/1, found 3"):
        load_pairs(path, task="positive_pairs")


def test_config_rules(tmp_path):
    base = {"task": "positive_pairs", "data": {"train": "t.csv", "test": "t.csv"}}
    cfg = ExperimentConfig.from_dict(base)
    assert cfg.mining.num_negatives == 3 and cfg.mining.relative_margin == 0.05
    with pytest.raises(ConfigError, match="positive_pairs needs scenario 2"):
        ExperimentConfig.from_dict({**base, "scenario": 1})
    with pytest.raises(ConfigError, match="student.loss: 'cosine' does not fit a positive_pairs task"):
        ExperimentConfig.from_dict({**base, "student": {"loss": "cosine"}})
    with pytest.raises(ConfigError, match="mining.range_max"):
        ExperimentConfig.from_dict({**base, "mining": {"range_min": 5, "range_max": 8}})
    # detected (not set): scenario 1 with positives-only gold fails before a run, naming the file
    gold = _write(tmp_path / "gold.csv", "anchor,positive\na b,c d\ne f,g h\n")
    cfg = ExperimentConfig.from_dict({"scenario": 1, "data": {"train": str(gold), "test": str(gold)}})
    with pytest.raises(ConfigError, match=r"gold\.csv: every pair is a positive .*needs scenario 2"):
        load_experiment_data(cfg)


# --- the teacher's data and the student's triplets ---------------------------------------------------------------
def test_teacher_check_and_triplets_use_the_hardest_negative_the_teacher_rejects():
    gold = pd.DataFrame({"sentence1": ["a", "b"], "sentence2": ["a+", "b+"], "label": [1, 1]})
    mined = pd.DataFrame(
        {
            "sentence1": ["a", "a", "a", "b"],
            "negative": ["x", "y", "z", "w"],
            "use": ["teacher", "held_out", "teacher", "held_out"],
        }
    )
    pairs = teacher_pairs(gold, mined)
    assert pairs["label"].tolist() == [1, 1, 0, 0] and pairs["sentence2"].tolist()[2:] == ["x", "z"]
    candidates = pd.concat(
        [mined_candidates(mined), pd.DataFrame({"sentence1": ["c"], "sentence2": ["c+"], "sampler": ["bm25"]})],
        ignore_index=True,
    )
    # the teacher calls y a positive (a false negative of the miner), x the hardest real negative of a
    silver = check_silver(candidates, np.array([0.4, 0.9, 0.1, 0.2, 0.8]), threshold=0.5)
    assert silver["kept"].tolist() == [True, False, True, True, True]
    triplets = student_pairs(gold, silver, "mnrl", corpus=["a", "b", "x", "y", "z", "w", "c", "c+"], seed=1)
    by_anchor = triplets.set_index("sentence1")
    assert by_anchor.loc["a", "negative"] == "x"  # not y (rejected), not z (easier)
    assert by_anchor.loc["b", "negative"] == "w"
    assert by_anchor.loc["c", "source"] == "silver"  # a sampled pair the teacher labels positive
    assert by_anchor.loc["c", "negative"] not in ("c", "c+") and by_anchor.loc["c", "negative_source"] == "random"
    assert set(triplets["label"]) == {1}
    contrastive = student_pairs(gold, silver, "online_contrastive", corpus=[], seed=1)
    assert len(contrastive) == 2 + int(silver["kept"].sum()) and set(contrastive["label"]) == {0, 1}


# --- retrieval metrics ---------------------------------------------------------------------------------------
def _quora_positives(n: int, skip: int = 0) -> pd.DataFrame:
    frame = pd.read_csv(DEMO / "quora" / "test.csv")
    frame = frame[frame["is_duplicate"] == 1].iloc[skip : skip + n]
    return pd.DataFrame({"sentence1": frame["question1"], "sentence2": frame["question2"], "label": 1})


def test_retrieval_metrics_rank_true_positives_above_shuffled_ones(minilm):
    split = _quora_positives(30).reset_index(drop=True)
    right = retrieval_metrics(minilm, split, "test")
    assert set(right) == {"mrr@10", "recall@1", "recall@10", "ndcg@10"}
    assert right["mrr@10"] > 0.8 and right["recall@1"] <= right["recall@10"]
    shuffled = split.assign(sentence2=np.roll(split["sentence2"].to_numpy(), 7))
    wrong = retrieval_metrics(minilm, shuffled, "test")
    assert wrong["mrr@10"] < 0.3 < right["mrr@10"]
    assert retrieval_metrics(minilm, split.assign(label=0), "test") == {}


# --- a tiny run end to end -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_positive_pairs_end_to_end(tmp_path):
    gold = _quora_positives(40)
    gold.rename(columns={"sentence1": "anchor", "sentence2": "positive"})[["anchor", "positive"]].to_csv(
        tmp_path / "train.csv", index=False
    )
    _quora_positives(20, skip=40).to_csv(tmp_path / "test.csv", index=False)  # positives only: retrieval
    dev = pd.read_csv(DEMO / "quora" / "dev.csv").head(24)  # 0/1 labels: classification metrics too
    dev.to_csv(tmp_path / "dev.csv", index=False)
    pd.read_csv(DEMO / "quora" / "unlabeled.csv").head(40).to_csv(tmp_path / "pool.csv", index=False)
    cfg = ExperimentConfig.from_dict(
        {
            "name": "positives",
            "scenario": 2,
            "data": {k: str(tmp_path / f"{k if k != 'unlabeled' else 'pool'}.csv") for k in ("train", "dev", "test")}
            | {"unlabeled": str(tmp_path / "pool.csv")},
            "candidates": "sampled",
            "sampler": "bm25",
            "top_k": 1,
            "mining": {"num_negatives": 2},
            "student": {"epochs": 1, "batch_size": 8},
            "teacher": {"epochs": 1, "batch_size": 16},
            "live_evals": 0,
            "checkpoints": 0,
            "seed": 3,
        }
    )
    events = []
    result = run_experiment(cfg, store=RunStore(tmp_path / "runs"), sink=events.append)
    assert result.task == "positive_pairs"
    run_dir = result.run_dir

    mining = json.loads((run_dir / "mining.json").read_text())
    assert mining["positives"] == 40 and mining["anchors"] == 40
    assert 0 < mining["mined"] <= 40 * 4 and mining["for_teacher"] + mining["held_out"] == mining["mined"]
    assert mining["filters"] == {
        "range_min": 2,
        "range_max": None,
        "relative_margin": 0.05,
        "max_score": 0.9,
        "num_negatives": 4,
        "sampling_strategy": "top",
    }
    mined = pd.read_csv(run_dir / "mined.csv")
    assert (mined["cosine"] <= 0.9 + 1e-6).all() and (mined["cosine"] <= 0.95 * mined["positive_cosine"] + 1e-6).all()
    check = mining["teacher_check"]
    assert check["mined_scored"] == mining["mined"] and 0 <= check["threshold"] <= 1

    silver = pd.read_csv(run_dir / "silver.csv")
    assert set(silver["sampler"]) == {"mined", "bm25"} and silver["score"].between(0, 1).all()
    assert not silver.loc[(silver["sampler"] == "mined") & silver["kept"], "label"].any()  # rejected ones dropped
    triplets = pd.read_csv(run_dir / "triplets.csv")
    assert len(triplets) >= 40 and (triplets["negative"] != triplets["sentence2"]).all()
    assert (triplets["negative_source"] == "teacher-checked").mean() > 0.5

    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["recommended"] in ("gold_only", "augsbert")
    for key in ("zero_shot", "gold_only", "augsbert"):
        assert {"mrr@10", "recall@1", "recall@10", "ndcg@10"} <= set(metrics[key]["test"])
        assert {"mrr@10", "ap", "f1", "threshold"} <= set(metrics[key]["dev"])  # dev has 0/1 labels
        assert "ap" not in metrics[key]["test"]  # a test of positives only has no negatives to rank
    assert set(metrics["teacher"]) == {"dev"} and "ap" in metrics["teacher"]["dev"]
    preds = pd.read_csv(run_dir / "predictions.csv")
    assert not np.allclose(preds["augsbert"], preds["zero_shot"])  # a fine-tuned student, not the base
    assert {"mine", "teacher.train", "label", "augsbert.train"} <= {e.stage for e in events}
    assert "mrr@10" in (run_dir / "metrics.txt").read_text()
    from augsbert_core.report import build_report  # the stakeholder report reads a positive-pairs run too

    html = build_report([run_dir])
    assert "mrr@10" in html.lower() and "Traceback" not in html


# --- the app: Data page, Scenario page, launch check -----------------------------------------------------------
DUPLICATES = (
    b"anchor,positive\n"
    b"How old are you?,What is your age?\n"
    b"Where do you live?,What town is your home?\n"
    b"How do I learn Python?,What is the best way to learn Python?\n"
)


def test_the_app_detects_positive_pairs_and_launches_them_in_scenario_2(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from studio import pages, scenario, workspace

    from .test_data_page import ROOT, app, page_text, save, upload

    monkeypatch.setenv("AUGSBERT_HOME", str(tmp_path / "workspace"))
    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.chdir(ROOT)
    at = app("data")
    upload(at, "train", "duplicates.csv", DUPLICATES)
    assert "Not recognised" not in page_text(at)  # anchor/positive need no score column
    save(at, "train")
    assert workspace.read_manifest()["files"]["train"]["task"] == "positive_pairs"
    assert "Task: positive pairs only: hard negatives will be mined" in page_text(at)
    assert workspace.load_role("train").task == "positive_pairs"  # the saved copy reads back as positives
    assert workspace.save_upload("test", "test.csv", DUPLICATES).ok
    draft = scenario.load_draft()
    draft["scenario"] = 1
    assert any("positive pairs only" in p for p in scenario.launch_problems(draft))
    draft["scenario"] = 2
    assert not scenario.launch_problems(draft)
    (cfg, *_) = scenario.build_configs(draft)
    assert load_experiment_data(cfg).task == "positive_pairs"
    at.switch_page(pages.PATHS["scenario"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Task: positive pairs only" in page_text(at)


def test_the_cli_reads_positive_pairs_through_the_config(tmp_path, capsys):
    from augsbert_core.cli import main

    gold = _write(tmp_path / "gold.csv", DUPLICATES.decode())
    assert main(["validate", str(gold)]) == 0
    assert "task: positive_pairs" in capsys.readouterr().out
    text = f"scenario: 2\ndata: {{train: {gold}, test: {gold}}}\nmining: {{range_min: 1}}\n"
    config = _write(tmp_path / "run.yaml", text)
    assert main(["check", str(config)]) == 0
    assert "positive_pairs" in capsys.readouterr().out
    bad = _write(tmp_path / "bad.yaml", f"scenario: 1\ntask: positive_pairs\ndata: {{train: {gold}, test: {gold}}}\n")
    assert main(["check", str(bad)]) == 2
    assert "positive_pairs needs scenario 2" in capsys.readouterr().err
