"""One pre-flight for check and run (issue 25, item 1, class 4 and 10 in part): what would fail after the trainings
fails first, in one line, before a run directory exists: `candidates: given` over a file of sentences, a Ray
cluster that does not answer or needs the Ray Client; and YAML reads exponent numbers as the CLI does."""

from __future__ import annotations

import importlib.util
import socket
import time
from pathlib import Path

import pytest
import yaml

from augsbert_core.cli import main

pytestmark = pytest.mark.hostile


def _config(folder: Path, micro_stsb: dict[str, Path], **extra) -> Path:
    data = {k: str(v) for k, v in micro_stsb.items()}
    cfg = {"name": "preflight", "scenario": 2, "task": "regression", "data": {**data, "scale": [0, 5]}, **extra}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _refused_port() -> int:
    with socket.socket() as s:  # a port nothing listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_given_candidates_need_a_file_of_pairs(tmp_path, micro_stsb, capsys):
    cfg = _config(tmp_path, micro_stsb, candidates="given")  # micro_stsb's unlabeled file: one sentence per row
    runs = tmp_path / "runs"
    assert main(["run", str(cfg), "--runs-dir", str(runs), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert str(micro_stsb["unlabeled"]) in err and "candidates: given labels this file's pairs" in err
    assert not any(p.is_dir() for p in runs.glob("*"))


def test_a_cluster_that_does_not_answer_is_refused_in_seconds(tmp_path, micro_stsb, capsys):
    pytest.importorskip("ray", reason="engine: ray needs the ray extra")
    cfg = _config(tmp_path, micro_stsb, engine="ray", ray={"address": f"127.0.0.1:{_refused_port()}"})
    t0 = time.time()
    assert main(["check", str(cfg)]) == 2
    assert time.time() - t0 < 30
    assert "the cluster does not answer" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("grpc") is not None, reason="the Ray Client is installed here")
def test_a_ray_client_address_without_the_ray_client_names_the_extra(tmp_path, micro_stsb, capsys):
    pytest.importorskip("ray", reason="engine: ray needs the ray extra")
    cfg = _config(tmp_path, micro_stsb, engine="ray", ray={"address": "ray://127.0.0.1:10001"})
    assert main(["check", str(cfg)]) == 2
    assert "pip install 'ray[client]'" in capsys.readouterr().err


def test_yaml_exponent_numbers_are_numbers_as_on_the_command_line(tmp_path, micro_stsb, capsys):
    path = _config(tmp_path, micro_stsb)
    path.write_text(path.read_text() + "sampler: {bm25: 7e-1, random: 3e-1}\nteacher: {learning_rate: 2e-5}\n")
    assert main(["check", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"ok": true' in out
    from augsbert_core import ExperimentConfig

    cfg = ExperimentConfig.from_file(path)
    assert cfg.sampler == {"bm25": 0.7, "random": 0.3} and cfg.teacher.learning_rate == 2e-5


def test_a_tracking_server_that_does_not_answer_is_refused_in_seconds(tmp_path, micro_stsb, capsys, monkeypatch):
    """Issue 25, class 7: an unreachable MLflow server stalled the end of a run for about 4 minutes in silence."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{_refused_port()}")
    cfg = _config(tmp_path, micro_stsb, tracking="mlflow")
    t0 = time.time()
    assert main(["check", str(cfg)]) == 2
    assert time.time() - t0 < 30
    assert "does not answer" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["runs"], ["runs", "--rebuild-index"], ["cancel", "abc"]])
def test_a_runs_folder_that_is_no_folder_is_one_line(command, tmp_path, capsys):
    """Issue 25, class 11: /dev/null (or a file) as the runs folder raised a FileExistsError traceback."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for where in ("/dev/null", str(blocker), str(blocker / "below")):
        assert main([*command, "--runs-dir", where]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: runs folder {where}") and "Traceback" not in err and len(err.splitlines()) == 1


def test_each_file_can_have_its_own_column_map(tmp_path, micro_stsb):
    """Issue 25, class 13: gold files that need a mapping plus an unlabeled file with its own header could not be
    expressed with the one global column_map."""
    import pandas as pd

    from augsbert_core import ExperimentConfig
    from augsbert_core.io.inputs import load_experiment_data

    files = {k: str(v) for k, v in micro_stsb.items()}
    for role in ("train", "dev", "test"):
        frame = pd.read_csv(micro_stsb[role]).rename(columns={"sentence1": "q1", "sentence2": "q2", "score": "sim"})
        frame.to_csv(tmp_path / f"{role}.csv", index=False)
        files[role] = str(tmp_path / f"{role}.csv")
    pd.read_csv(micro_stsb["unlabeled"]).rename(columns={"sentence": "text"}).to_csv(tmp_path / "u.csv", index=False)
    files["unlabeled"] = str(tmp_path / "u.csv")
    gold_map = {"q1": "sentence1", "q2": "sentence2", "sim": "score"}
    data = {**files, "scale": [0, 5], "column_map": gold_map, "column_maps": {"unlabeled": {"text": "sentence"}}}
    loaded = load_experiment_data(ExperimentConfig.from_dict({"scenario": 2, "data": data}))
    assert len(loaded.train) == 16 and len(loaded.pool) > 0
    with pytest.raises(Exception, match=r"u\.csv: column_map refers to column 'q1'"):  # one map cannot say both
        load_experiment_data(ExperimentConfig.from_dict({"scenario": 2, "data": {**data, "column_maps": {}}}))
    with pytest.raises(Exception, match="column_maps"):  # roles are checked by the schema
        ExperimentConfig.from_dict({"scenario": 2, "data": {**data, "column_maps": {"unlabelled": {}}}})
