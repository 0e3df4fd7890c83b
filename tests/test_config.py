"""Config loading: the public contract keys, validation messages, YAML/JSON, relative paths."""

import json

import pytest

from augsbert_core.config import ConfigError, ExperimentConfig

from .conftest import REPO

CONTRACT = """
name: demo-stsb-bm25
scenario: 2
task: regression
data:
  train: d/gold_train.csv
  dev: d/dev.csv
  test: d/test.csv
  unlabeled: d/pool.csv
  source_train: d/source.csv
sampler: bm25
top_k: 3
student: {model: default, epochs: 1, batch_size: 16}
teacher: {model: default, epochs: 4, batch_size: 16}
seed: 42
"""


def test_contract_yaml_loads_and_resolves_relative_paths(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(CONTRACT)
    cfg = ExperimentConfig.from_file(path)
    assert (cfg.name, cfg.scenario, cfg.task, cfg.sampler, cfg.top_k, cfg.seed) == (
        "demo-stsb-bm25",
        2,
        "regression",
        "bm25",
        3,
        42,
    )
    assert cfg.student.model == "default" and cfg.teacher.epochs == 4 and cfg.student.batch_size == 16
    assert cfg.resolve_path(cfg.data.train) == tmp_path / "d" / "gold_train.csv"


def test_json_roundtrip(tmp_path):
    cfg = ExperimentConfig.from_dict(
        {"scenario": 2, "data": {"train": "a", "test": "b"}, "student": "bert-base-uncased"}
    )
    assert cfg.student.model == "bert-base-uncased"
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cfg.to_dict()))
    assert ExperimentConfig.from_file(path).to_dict() == cfg.to_dict() | {"base_dir": str(tmp_path)}


@pytest.mark.parametrize(
    "raw,message",
    [
        ({"scenario": 4, "data": {"test": "t"}}, "config key 'scenario': input should be 1, 2 or 3; got 4"),
        (
            {"scenario": 2, "sampler": "elastic", "data": {"train": "a", "test": "t"}},
            "config key 'sampler': input should be 'random', 'bm25'.*; got 'elastic'",
        ),
        ({"scenario": 2, "top_k": 0, "data": {"train": "a", "test": "t"}}, "top_k"),
        ({"scenario": 2, "data": {"train": "a"}}, "data.test is required"),
        ({"scenario": 3, "data": {"test": "t", "unlabeled": "u"}}, "source_train"),
        ({"scenario": 2, "data": {"train": "a", "test": "t", "trian": "x"}}, "unknown config key 'data.trian'"),
        ({"scenario": 2, "data": {"train": "a", "test": "t"}, "student": {"epochs": -1}}, "student"),
    ],
)
def test_invalid_configs_name_the_key(raw, message):
    with pytest.raises(ConfigError, match=message):
        ExperimentConfig.from_dict(raw)


def test_shipped_configs_are_valid():
    for path in sorted((REPO / "configs").glob("*.yaml")):
        cfg = ExperimentConfig.from_file(path)
        for key in ("train", "dev", "test", "unlabeled", "source_train"):
            value = getattr(cfg.data, key)
            if value:
                assert cfg.resolve_path(value).is_file(), f"{path.name}: {key} -> {value}"


def test_teacher_may_be_used_untrained_but_the_student_must_train():
    cfg = ExperimentConfig.from_dict(
        {
            "scenario": 2,
            "data": {"train": "a", "test": "t"},
            "teacher": {"model": "cross-encoder/stsb-roberta-base", "epochs": 0},
        }
    )
    assert cfg.teacher.epochs == 0
    with pytest.raises(ConfigError, match="student"):
        ExperimentConfig.from_dict({"scenario": 2, "data": {"train": "a", "test": "t"}, "student": {"epochs": 0}})
