"""Experiment tracking: the `tracking` key, the trainers' report_to, a finished run logged as one MLflow run in a
real SQLite store (read back with mlflow.search_runs), and `augsbert export-mlflow` updating rather than duplicating."""

from __future__ import annotations

import importlib.util
import json

import pytest

from augsbert_core import ExperimentConfig, RunStore, run_experiment
from augsbert_core.cli import main
from augsbert_core.config import TRACKERS, ConfigError, ModelConfig, tracking_missing
from augsbert_core.errors import AugsbertError
from augsbert_core.tracking import (
    DEFAULT_EXPERIMENT,
    RUN_ID_TAG,
    artifact_location,
    default_tracking_uri,
    flatten,
    log_run,
    trainer_report_to,
)
from augsbert_core.training import tensorboard_dir, trainer_kwargs

DATA_KEYS = {"data": {"train": "a.csv", "test": "b.csv"}}


def _micro_config(micro_stsb, tmp_path, **overrides) -> ExperimentConfig:
    """The fastest full scenario-2 run: 16 gold pairs, no gold-only student, no warm start, ensemble or probe."""
    raw = {
        "name": "tracked",
        "scenario": 2,
        "sampler": "random",
        "top_k": 1,
        "train_gold_only": False,
        "live_evals": 2,  # eval curves in events.jsonl: they become MLflow metric histories
        "checkpoints": 0,
        "ensemble": "off",
        "labeler": "cross_encoder",
        "data": {k: str(v) for k, v in micro_stsb.items()} | {"scale": [0, 5]},
        "student": {"epochs": 1},
        "teacher": {"epochs": 1, "warm_start": "off"},
        "device": "cpu",
        "seed": 3,
        "runs_dir": str(tmp_path / "runs"),
    }
    raw.update(overrides)
    return ExperimentConfig.from_dict(raw)


@pytest.fixture(scope="module")
def tracked_run(micro_stsb, tmp_path_factory):
    """One tiny real run with `tracking: mlflow` into a temporary SQLite store (MLFLOW_TRACKING_URI)."""
    pytest.importorskip("mlflow")
    tmp = tmp_path_factory.mktemp("tracked")
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        cfg = _micro_config(micro_stsb, tmp, tracking="mlflow", tracking_experiment="tests")
        result = run_experiment(cfg, store=RunStore(tmp / "runs"))
    return result, uri, tmp


# --- the config key ---------------------------------------------------------------------------------------------


def test_tracking_defaults_to_none_and_names_the_key_when_wrong():
    assert ExperimentConfig.from_dict(DATA_KEYS).tracking == "none"
    assert TRACKERS == ("none", "mlflow", "tensorboard", "wandb")
    with pytest.raises(ConfigError, match="'tracking'"):
        ExperimentConfig.from_dict({**DATA_KEYS, "tracking": "comet"})
    with pytest.raises(ConfigError, match="tracking_log_model"):
        ExperimentConfig.from_dict({**DATA_KEYS, "tracking_log_model": "yes"})


@pytest.mark.parametrize("choice", ["mlflow", "tensorboard", "wandb"])
def test_a_backend_that_is_not_installed_is_a_config_error_with_the_pip_command(choice):
    """Nothing is installed or contacted here: the check looks for the package; wandb is not a test dependency."""
    installed = tracking_missing(choice) is None
    if installed:
        assert ExperimentConfig.from_dict({**DATA_KEYS, "tracking": choice}).tracking == choice
    else:
        with pytest.raises(ConfigError, match=rf"tracking: {choice} needs .*pip install"):
            ExperimentConfig.from_dict({**DATA_KEYS, "tracking": choice})
    if choice == "wandb":
        assert installed == (importlib.util.find_spec("wandb") is not None)


def test_mlflow_is_installed_for_the_tests():
    """scripts/install.sh installs the tracking extra: the store tests below must not be skipped in CI."""
    assert tracking_missing("mlflow") is None


# --- report_to ----------------------------------------------------------------------------------------------------


def test_report_to_for_each_choice(tmp_path):
    assert {c: trainer_report_to(c) for c in TRACKERS} == {
        "none": "none",
        "mlflow": "none",  # logged once when the run finished, not by each trainer
        "tensorboard": "tensorboard",
        "wandb": "wandb",
    }
    out = tmp_path / "run" / "models" / "gold_only"
    today = trainer_kwargs(ModelConfig(), out, 1, "cpu", 32)
    assert today["report_to"] == "none" and "run_name" not in today
    tb = trainer_kwargs(ModelConfig(), out, 1, "cpu", 32, report_to="tensorboard")
    assert tb["report_to"] == "tensorboard" and tb["run_name"] == "gold_only"
    assert tensorboard_dir(tb["output_dir"]) == tmp_path / "run" / "tensorboard" / "gold_only"


def test_tensorboard_logs_land_in_the_run_directory(micro_stsb, tmp_path):
    """A real run with tracking: tensorboard (tensorboardX is a test dependency): event files per training."""
    pytest.importorskip("tensorboardX")
    cfg = _micro_config(micro_stsb, tmp_path, tracking="tensorboard", silver_file=None, live_evals=0)
    result = run_experiment(cfg, store=RunStore(tmp_path / "runs"))
    board = result.run_dir / "tensorboard"
    written = {p.parent.name for p in board.glob("*/events.out.tfevents.*")}
    assert {"teacher", "augsbert"} <= written, sorted(board.rglob("*"))
    assert not list((result.run_dir / "models").rglob("events.out.tfevents.*"))


# --- MLflow -------------------------------------------------------------------------------------------------------


def test_a_finished_run_is_one_mlflow_run(tracked_run):
    import mlflow
    from mlflow.tracking import MlflowClient

    result, uri, tmp = tracked_run
    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["tests"], output_format="list")
    assert len(runs) == 1
    run = runs[0]
    data = run.data
    assert run.info.status == "FINISHED"
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert data.metrics["augsbert.test.spearman"] == pytest.approx(metrics["augsbert"]["test"]["spearman"])
    assert data.metrics["teacher.dev.pearson"] == pytest.approx(metrics["teacher"]["dev"]["pearson"])
    assert "seconds.augsbert" in data.metrics
    assert data.params["scenario"] == "2" and data.params["student.epochs"] == "1"
    assert data.params["data.scale"] == "[0.0, 5.0]" and data.params["tracking"] == "mlflow"
    assert "base_dir" not in data.params
    gate = json.loads((result.run_dir / "gate.json").read_text())
    assert data.tags[RUN_ID_TAG] == result.run_id
    assert data.tags["augsbert.scenario"] == "2" and data.tags["augsbert.sampler"] == "random"
    assert data.tags["augsbert.gate"] == gate["verdict"]
    assert data.tags["augsbert.recommended"] == metrics["recommended"]
    client = MlflowClient(tracking_uri=uri)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"silver_summary.json", "gate.json", "metrics.json", "config.json"} <= artifacts
    if importlib.util.find_spec("plotly") is not None:
        assert "report.html" in artifacts
    assert not any(a.startswith("model") for a in artifacts)  # tracking_log_model is off
    # artifacts beside the SQLite store, not in the working directory's ./mlruns
    assert run.info.artifact_uri.startswith((tmp / "mlartifacts").as_uri())
    # the training curves: the student's loss per step, more than one point
    history = client.get_metric_history(run.info.run_id, "augsbert.train.loss")
    assert len(history) >= 2 and len({m.step for m in history}) == len(history)
    assert client.get_metric_history(run.info.run_id, "teacher.train.eval_dev_spearman")  # live_evals: dev curve
    log = (result.run_dir / "log.txt").read_text()
    assert "[tracking] logged to MLflow" in log and run.info.run_id in log
    assert RunStore(result.run_dir.parent).get(result.run_id).status == "finished"


def test_export_twice_updates_one_mlflow_run(tracked_run, capsys):
    import mlflow

    result, uri, tmp = tracked_run
    other = f"sqlite:///{tmp / 'export.db'}"
    runs_dir = str(result.run_dir.parent)
    for _ in range(2):  # by run id with --runs-dir, then by directory
        assert main(["export-mlflow", result.run_id, "--runs-dir", runs_dir, "--tracking-uri", other]) == 0
        assert main(["export-mlflow", str(result.run_dir), "--tracking-uri", other]) == 0
    out = capsys.readouterr().out
    assert out.count("logged as MLflow run") == 1 and out.count("updated MLflow run") == 3
    mlflow.set_tracking_uri(other)
    runs = mlflow.search_runs(experiment_names=["tests"], output_format="list")  # the run's tracking_experiment
    assert len(runs) == 1
    history = mlflow.MlflowClient(other).get_metric_history(runs[0].info.run_id, "augsbert.test.spearman")
    assert len(history) == 1  # an unchanged metric is not logged again
    # a named experiment and the student model on request
    args = ["export-mlflow", str(result.run_dir), "--tracking-uri", other, "--experiment", "x", "--log-model"]
    assert main(args) == 0
    (logged,) = mlflow.search_runs(experiment_names=["x"], output_format="list")
    models = {a.path for a in mlflow.MlflowClient(other).list_artifacts(logged.info.run_id, "model")}
    recommended = json.loads((result.run_dir / "metrics.json").read_text())["recommended"]
    # the recommended student, or AugSBERT's when the recommended model has no folder (the zero-shot base)
    expected = recommended if (result.run_dir / "models" / recommended / "config.json").is_file() else "augsbert"
    assert models == {f"model/{expected}"}


def test_export_names_what_is_wrong(tracked_run, tmp_path, capsys):
    result, uri, tmp = tracked_run
    assert main(["export-mlflow", "no-such-run", "--runs-dir", str(result.run_dir.parent)]) == 2
    assert "no-such-run" in capsys.readouterr().err
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "run.json").write_text((result.run_dir / "run.json").read_text())
    with pytest.raises(ConfigError, match="not finished"):
        log_run(unfinished, tracking_uri=uri)
    # mlflow 3 refuses a file: store; the error names the URI instead of a traceback
    with pytest.raises(AugsbertError, match="MLflow tracking URI file:"):
        log_run(result.run_dir, tracking_uri=f"file:{tmp_path / 'mlruns'}")


def test_a_tracking_failure_keeps_the_run_finished(micro_stsb, tmp_path, monkeypatch):
    """An MLflow store that refuses the run (a file: store) is a warning in the run's log; the run stays finished."""
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"file:{tmp_path / 'mlruns'}")
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    given = tmp_path / "silver.csv"
    given.write_text("sentence1,sentence2,label\na cat sits,a cat is sitting,0.9\na dog runs,the sky is blue,0.1\n")
    cfg = _micro_config(micro_stsb, tmp_path, tracking="mlflow", silver_file=str(given), live_evals=0)
    result = run_experiment(cfg, store=RunStore(tmp_path / "runs"))
    assert RunStore(tmp_path / "runs").get(result.run_id).status == "finished"
    log = (result.run_dir / "log.txt").read_text()
    assert "[tracking] warning: logging to MLflow failed" in log
    assert f"augsbert export-mlflow {result.run_id}" in log


# --- the default store ----------------------------------------------------------------------------------------------


def test_default_store_is_sqlite_in_the_workspace(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("AUGSBERT_HOME", str(tmp_path / "home"))
    uri = default_tracking_uri()
    assert uri == f"sqlite:///{tmp_path / 'home' / 'mlflow.db'}"
    assert artifact_location(uri) == (tmp_path / "home" / "mlartifacts").as_uri()
    assert artifact_location("http://mlflow.example:5000") is None  # a server keeps its own artifact store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    assert default_tracking_uri() == "http://mlflow.example:5000"
    assert DEFAULT_EXPERIMENT == "augsbert"


def test_params_flatten_nested_config_values():
    flat = flatten({"student": {"epochs": 1, "model": "default"}, "data": {"column_map": {"q #1": "sentence1"}}})
    assert flat == {"student.epochs": "1", "student.model": "default", "data.column_map.q _x23_1": "sentence1"}
    # issue 25, class 7: non-ASCII column names were all '_' and collided, losing mappings; now escaped
    chinese = flatten({"data": {"column_map": {"问题一": "sentence1", "问题二": "sentence2", "分数": "score"}}})
    assert len(chinese) == 3 and set(chinese.values()) == {"sentence1", "sentence2", "score"}
    assert "data.column_map._x95ee__x9898__x4e00_" in chinese
    with pytest.raises(ConfigError, match="two config keys map to it"):
        flatten({"k" * 300: {"a": 1, "b": 2}})  # both cut to the same 250 characters
    assert flatten({"x": "a" * 7000})["x"].endswith("...") and len(flatten({"x": "a" * 7000})["x"]) == 6000


# --- the app ----------------------------------------------------------------------------------------------------


def test_the_scenario_page_sets_tracking(tmp_path, monkeypatch):
    from studio import scenario, workspace

    from .test_app import ROOT, app

    monkeypatch.setenv("AUGSBERT_HOME", str(tmp_path / "workspace"))
    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.chdir(ROOT)
    workspace.load_demo("stsb-quick")
    assert scenario.build_configs(scenario.load_draft())[0].tracking == "none"
    at = app("scenario")
    select = at.selectbox(key="sc_tracking")
    assert select.value == "none" and list(select.options) == list(TRACKERS)
    select.set_value("mlflow").run()
    assert not at.exception, [e.value for e in at.exception]
    assert scenario.load_draft()["tracking"] == "mlflow"
    assert scenario.build_configs(scenario.load_draft())[0].tracking == "mlflow"
