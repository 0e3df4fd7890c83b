"""Role-specific configs (issue 24, item 3): `student` is a StudentConfig and `teacher` a TeacherConfig, so the types
reject what `validate` used to check by hand, with or without the cross-key rules, and `augsbert train --role` builds
the role's type."""

from __future__ import annotations

import dataclasses

import pytest

from augsbert_core.cli import main
from augsbert_core.config import ConfigError, ExperimentConfig, StudentConfig, TeacherConfig, role_config

BAD_ROLE_VALUES = [
    ({"teacher": {"epochs": "auto"}}, r"^teacher\.epochs: auto is for students"),
    ({"teacher": {"layers": 2}}, r"^teacher\.layers: cutting layers is for students"),
    ({"student": {"epochs": 0}}, r"^student\.epochs: must be positive, got 0"),
    ({"student": {"model": "static", "layers": 2}}, r"^student\.layers: the static student has no transformer"),
    ({"student": {"loss": "bce"}}, r"^student\.loss: 'bce' is not a student loss; choose one of .*cosine"),
    ({"teacher": {"loss": "cosine"}}, r"^teacher\.loss: 'cosine' is not a teacher loss; choose one of bce, mse"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_ROLE_VALUES)
def test_the_role_types_reject_what_belongs_to_the_other_role(raw, message):
    for rules in (True, False):  # the type's own rules hold even where the cross-key rules are skipped (estimates)
        with pytest.raises(ConfigError, match=message):
            ExperimentConfig.from_dict({"data": {"train": "a.csv", "test": "b.csv"}, **raw}, rules=rules)


def test_the_roles_keep_the_config_keys_and_their_defaults():
    cfg = ExperimentConfig()
    assert isinstance(cfg.student, StudentConfig) and isinstance(cfg.teacher, TeacherConfig)
    assert cfg.student.epochs == "auto" and cfg.teacher.model == "auto" and cfg.teacher.epochs == 2
    assert [f.name for f in dataclasses.fields(StudentConfig)] == [f.name for f in dataclasses.fields(TeacherConfig)]
    again = ExperimentConfig.from_dict(cfg.to_dict(), rules=False)
    assert again.to_dict() == cfg.to_dict()
    assert isinstance(dataclasses.replace(cfg.teacher, model="x"), TeacherConfig)  # a resolved teacher stays one
    assert cfg.teacher.epochs == 2 and TeacherConfig(epochs=0).epochs == 0  # a ready cross-encoder: 0 epochs


def test_role_config_builds_the_role_and_names_its_key():
    assert isinstance(role_config("student", epochs=1), StudentConfig)
    assert isinstance(role_config("teacher", loss="mse"), TeacherConfig)
    with pytest.raises(ConfigError, match=r"^teacher\.loss: 'cosine' is not a teacher loss"):
        role_config("teacher", loss="cosine")


def test_train_refuses_a_loss_of_the_other_role(tmp_path, capsys):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("sentence1,sentence2,score\na b,c d,0.5\ne f,g h,0.1\n")
    code = main(["train", "--role", "teacher", "--loss", "cosine", "--train", str(pairs), "--out", str(tmp_path / "m")])
    assert code == 2
    assert "teacher.loss: 'cosine' is not a teacher loss" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
