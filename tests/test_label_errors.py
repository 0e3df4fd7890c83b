"""Suspect gold labels: cross-fitted teachers put deliberately flipped STSb labels near the top (through the CLI),
the suspicion scores order labels as their definitions say, a run computes label_errors.csv, and a gold review is
applied to the gold a run loads (and refused when it reviews another file)."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from augsbert_core import ExperimentConfig, RunStore, run_experiment
from augsbert_core.cli import main
from augsbert_core.config import ConfigError
from augsbert_core.io.data import fingerprint
from augsbert_core.io.gold_review import write_gold_review
from augsbert_core.io.inputs import load_experiment_data
from augsbert_core.io.problems import DataError
from augsbert_core.label_errors import COLUMNS, fold_ids, rank_label_errors, suspicion_scores
from augsbert_core.runs import RunFiles

from .conftest import REPO

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
    found = len(set(table.head(10)["row"]) & set(flipped))
    print(f"flipped rows {flipped}: {found} of {FLIPS} in the top 10")  # shown with pytest -s
    # measured here (seed 7, default stacked predictor, 1 epoch per fold): 5 of 5; a random ranking puts 1 there
    assert found >= 3, (flipped, table.head(10))


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


@pytest.mark.parametrize(
    "rows, message",
    [
        ('{"3": {"exclude": "false"}}', r"rows.3.exclude: not true/false: 'false'"),
        ('{"\u00b2": {"exclude": true}}', r"rows.'²': expected a 1-based row number"),
        ('{"05": {"exclude": true}}', r"rows.'05': expected a 1-based row number"),
        ('{"5": {"exclude": true}, "5": {"score": 2}}', "key '5' appears twice"),
        ('{"0": {"exclude": true}}', r"rows.'0': expected a 1-based row number"),
    ],
)
def test_a_gold_review_is_read_strictly(micro_stsb, tmp_path, rows, message):
    """A string 'false' once excluded its row, '²' raised a traceback, and '5' / '05' addressed one row twice."""
    review = tmp_path / "gold_review.json"
    review.write_text('{"train_fingerprint": null, "rows": ' + rows + "}")
    with pytest.raises(DataError, match=message):
        load_experiment_data(_review_config(micro_stsb, review))


def test_a_gold_review_the_config_names_must_exist(micro_stsb, tmp_path):
    missing = tmp_path / "no_such_review.json"
    with pytest.raises(DataError, match=r"no_such_review\.json: gold review file not found"):
        load_experiment_data(_review_config(micro_stsb, missing))
    from augsbert_core.io.gold_review import read_gold_review

    assert read_gold_review(missing) == {"train_fingerprint": None, "rows": {}}  # the app: nothing reviewed yet


def test_a_run_with_label_errors_enabled_writes_the_table(micro_stsb, tmp_path):
    given = tmp_path / "silver.csv"
    pd.DataFrame({"sentence1": ["a cat", "a dog"], "sentence2": ["a kitten", "a car"], "label": [0.9, 0.1]}).to_csv(
        given, index=False
    )
    train = pd.read_csv(micro_stsb["train"])
    train.loc[0, "sentence1"] = '=HYPERLINK("http://example.com","a man")'  # a cell a spreadsheet would run
    train.to_csv(tmp_path / "train.csv", index=False)
    cfg = ExperimentConfig.from_dict(
        {
            "scenario": 2,
            "data": {k: str(v) for k, v in micro_stsb.items()}
            | {"train": str(tmp_path / "train.csv"), "scale": [0, 5]},
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
    formula = table.loc[table["row"] == 1, "sentence1"].item()
    assert formula == "'" + train.loc[0, "sentence1"]  # label_errors.csv is for people: the formula is defused
    fold_events = [e for e in events if e.stage == "label_errors" and e.total]
    assert [e.step for e in fold_events][-1] == 2 and fold_events[-1].total == 2
    assert "label_errors" in json.loads((result.run_dir / RunFiles.STATE).read_text())["done"]
    assert not (result.run_dir / "models" / "label_errors").exists()  # fold models are not kept


# --- the app: Data page suspects and review, Silver page order -----------------------------------------------------
def _workspace_with_a_ranked_run(tmp_path, monkeypatch):
    """A workspace holding the quick STSb demo and a finished run on its train file with a label_errors.csv."""
    from studio import workspace

    monkeypatch.setenv("AUGSBERT_HOME", str(tmp_path / "ws"))
    workspace.load_demo("stsb-quick")
    train = pd.read_csv(workspace.role_path("train")).head(6)
    store = workspace.store()
    run = store.create("ranked", 2, {"scenario": 2})
    run.write_json(RunFiles.FINGERPRINTS, {"train": fingerprint(workspace.role_path("train"))})
    table = pd.DataFrame(
        {
            "rank": range(1, 7),
            "row": [4, 1, 6, 2, 3, 5],
            "sentence1": train["sentence1"].iloc[[3, 0, 5, 1, 2, 4]].to_numpy(),
            "sentence2": train["sentence2"].iloc[[3, 0, 5, 1, 2, 4]].to_numpy(),
            "label": train["score"].iloc[[3, 0, 5, 1, 2, 4]].to_numpy(),
            "oof_prediction": [0.5, 4.0, 1.0, 2.0, 2.5, 3.0],
            "suspicion": [6.0, 5.0, 4.0, 1.0, 0.5, 0.1],
        }
    )
    table.to_csv(run.path(RunFiles.LABEL_ERRORS), index=False)
    run.set_status("finished")
    return workspace, run, train


def test_data_page_helpers_find_the_ranking_and_the_next_run_applies_the_review(tmp_path, monkeypatch):
    from studio import goldreview, scenario

    workspace, run, train = _workspace_with_a_ranked_run(tmp_path, monkeypatch)
    fp = goldreview.train_fingerprint()
    table, source = goldreview.suspects(fp)
    assert table["row"].tolist()[:2] == [4, 1] and run.id in source
    assert goldreview.suspects("another-file")[0] is None  # a ranking of another train file is not shown
    assert goldreview.config_review() is None  # nothing decided yet: runs get no data.gold_review
    edited = table.head(3).assign(exclude=[True, False, False], corrected_score=[None, 1.5, None])
    review = goldreview.save_review(fp, {}, edited[["row", "sentence1", "sentence2", "exclude", "corrected_score"]])
    assert set(review) == {4, 1} and review[1]["score"] == 1.5
    assert goldreview.load_review(fp) == review and goldreview.load_review("another-file") == {}
    draft = scenario.load_draft()
    draft["scenario"] = 2
    cfg = scenario.build_configs(draft)[0]
    assert cfg.data.gold_review == goldreview.config_review() is not None
    loaded = load_experiment_data(cfg)
    assert 4 not in loaded.train_rows.tolist() and loaded.gold_review == {"excluded": 1, "corrected": 1}
    at1 = loaded.train_rows.tolist().index(1)
    assert loaded.train["label"].iat[at1] == pytest.approx(0.3)  # 1.5 on 0-5


def test_silver_suspicion_uses_what_the_run_stored():
    from studio import runinfo

    both = pd.DataFrame(
        {
            "score": [0.9, 0.8, 0.2, 0.1],
            "score_cross_encoder": [0.9, 0.8, 0.2, 0.1],
            "score_bi_encoder": [0.95, 0.1, 0.3, 0.05],
        }
    )
    suspicion, kind = runinfo.silver_suspicion(both)
    assert kind == "disagreement" and suspicion.idxmax() == 1  # the teacher says 0.8, the bi-encoder the lowest
    teacher_only, kind = runinfo.silver_suspicion(both[["score"]].assign(score=[0.9, 0.55, 0.2, 0.02]))
    assert kind == "undecided" and teacher_only.idxmax() == 1 and teacher_only.idxmin() == 3
    _, kind = runinfo.silver_suspicion(both[["score"]], threshold=0.3)
    assert kind == "undecided" and "gold label" in runinfo.SUSPICION_WHY[kind]


def test_stacking_keeps_predictions_out_of_fold_and_follows_the_better_witness():
    from augsbert_core.label_errors import stacked_prediction

    rng = np.random.default_rng(4)
    labels = rng.uniform(0, 1, 60)
    noise = rng.uniform(0, 1, 60)  # a useless teacher
    cosine = 0.3 + 0.5 * labels + rng.normal(0, 0.02, 60)  # a good witness on another scale
    folds = fold_ids(labels, 5, seed=4)
    stacked = stacked_prediction(noise, cosine, labels, folds)
    assert np.corrcoef(stacked, labels)[0, 1] > 0.95 and stacked.min() >= 0 and stacked.max() <= 1
    binary = (labels > 0.5).astype(int)
    probs = stacked_prediction(noise, cosine, binary, fold_ids(binary, 5, seed=4), "classification")
    assert ((probs > 0.5) == binary).mean() > 0.9
    changed = labels.copy()
    changed[folds == 0] = 1 - changed[folds == 0]  # a fold's own labels never shape its predictions
    again = stacked_prediction(noise, cosine, changed, folds)
    assert np.allclose(again[folds == 0], stacked[folds == 0])
    assert not np.allclose(again[folds == 1], stacked[folds == 1])  # the other folds' fits saw the change


def test_the_training_page_shows_the_step_only_when_a_run_ranks_labels():
    from studio import runinfo

    def keys(config: dict, scenario: int = 2) -> list[str]:
        return [k for k, _, _ in runinfo.run_steps(scenario, config)]

    assert "label_errors" not in keys({})
    assert keys({"label_errors": {"enabled": True}})[-2:] == ["label_errors", "done"]
    assert "label_errors" in keys({"label_errors": {"enabled": True}}, scenario=1)
    assert "label_errors" not in keys({"label_errors": {"enabled": True}}, scenario=3)


def _page(page: str):
    from streamlit.testing.v1 import AppTest

    from studio import pages

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.switch_page(pages.PATHS[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_data_page_lists_the_suspects_of_the_saved_train_file(tmp_path, monkeypatch):
    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.chdir(REPO)
    _, run, _ = _workspace_with_a_ranked_run(tmp_path, monkeypatch)
    at = _page("data")
    assert "Suspect gold labels" in [s.value for s in at.subheader]
    # as a person reads them: md_escape's backslashes dropped (the run name is user text, so it is escaped)
    captions = re.sub(r"\\(.)", r"\1", "\n".join(c.value for c in at.caption))
    assert f"6 train pairs ranked, most suspect first, from run ranked ({run.id})" in captions
    assert "Saved review: 0 excluded, 0 re-scored" in captions
    assert [b.label for b in at.button if b.key == "suspects_start"] == ["Rank again"]


def test_silver_page_sorts_most_suspicious_first(tmp_path, monkeypatch):
    from studio import workspace

    from .test_app import seed_run

    monkeypatch.setenv("AUGSBERT_HOME", str(tmp_path / "ws"))
    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.chdir(REPO)
    seed_run(workspace.store())
    at = _page("silver")
    at.selectbox(key="sv_sort").set_value("most suspicious first").run()
    assert not at.exception, [e.value for e in at.exception]
    captions = "\n".join(c.value for c in at.caption)
    assert "Sorted most suspicious first: silver pairs have no gold label" in captions


def test_the_background_step_runs_the_cli_and_a_bad_config_exits_2_naming_the_key(micro_stsb, tmp_path, capsys):
    import time

    from augsbert_core.jobs import launch_label_errors
    from augsbert_core.runs import pid_alive

    data = {"train": str(micro_stsb["train"]), "test": str(micro_stsb["test"])}
    config = {"data": data, "label_errors": {"folds": 9}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["label-errors", str(path), "--out", str(tmp_path / "x.csv"), "--no-progress"]) == 2
    assert "label_errors.folds: 9 folds need at least 18 gold pairs, the train file has 16" in capsys.readouterr().err
    log = tmp_path / "job.log"
    pid = launch_label_errors(path, tmp_path / "x.csv", log)
    deadline = time.time() + 60
    while pid_alive(pid) and time.time() < deadline:
        time.sleep(0.2)
    assert "label_errors.folds: 9 folds" in log.read_text() and not (tmp_path / "x.csv").exists()


def test_the_data_page_stops_a_running_ranking_job(tmp_path, monkeypatch):
    """Stop ranking ends the background step's whole process group (a real process here, standing in for the CLI
    with a child of its own) and the page then says it was stopped."""
    import subprocess
    import time

    from augsbert_core.runs import atomic_write_json, pid_alive
    from studio import goldreview

    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.chdir(REPO)
    workspace, _, _ = _workspace_with_a_ranked_run(tmp_path, monkeypatch)
    child = tmp_path / "child.pid"
    job = subprocess.Popen(["bash", "-c", f"sleep 120 & echo $! > {child}; wait"], start_new_session=True)
    for _ in range(100):  # until the child is started
        if child.is_file() and child.read_text().strip():
            break
        time.sleep(0.05)
    record = {"train_fingerprint": goldreview.train_fingerprint(), "pid": job.pid, "started_at": time.time()}
    atomic_write_json(workspace.data_dir() / goldreview.JOB_FILE, {**record, "log": goldreview.JOB_LOG})
    (workspace.data_dir() / goldreview.JOB_LOG).write_text("fold 1 of 5\n", encoding="utf-8")
    at = _page("data")
    assert any("Ranking the train file's labels" in i.value for i in at.info)
    at.button(key="suspects_stop").click().run()
    assert job.wait(timeout=10) != 0  # ended by the signal
    sleeper = int(child.read_text())
    for _ in range(100):  # the signal reached the whole group: its sleep goes too
        if not pid_alive(sleeper):
            break
        time.sleep(0.05)
    assert not pid_alive(sleeper)
    assert any("The last ranking job was stopped" in i.value for i in at.info)
    assert [b.label for b in at.button if b.key == "suspects_start"] == ["Rank again"]
