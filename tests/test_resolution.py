"""One answer for each `auto` (issue 24, item 1): the teacher's warm start is decided by `models.warm_start_wanted`,
which the run's warm-start stage and the estimate both ask. Before, the estimate had its own rule (the model's
name in default/mpnet/auto): it did not price the warm start the run gives a local bi-encoder folder, and priced
one for a teacher used as it is (epochs 0) only through a separate epochs check."""

from __future__ import annotations

import json

import pytest

from augsbert_core.config import ExperimentConfig
from augsbert_core.estimate import DataCounts, estimate
from augsbert_core.models import resolve_model, warm_start_wanted
from augsbert_core.recipe.teacher import WarmStartStage

COUNTS = DataCounts(train_pairs=200, dev_pairs=50, test_pairs=50, unique_sentences=900, unlabeled_sentences=600)


@pytest.fixture
def saved_cross_encoder(tmp_path):
    """A folder as a saved cross-encoder leaves it: a config whose head is a trained classifier."""
    folder = tmp_path / "ce"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["BertForSequenceClassification"]}))
    return str(folder)


def _cases(saved_cross_encoder):
    offline_folder = resolve_model("default")  # the offline MiniLM: a local sentence-transformers bi-encoder
    return [
        ({"model": "auto"}, True),
        ({"model": "default", "warm_start": "off"}, False),
        ({"model": "default", "epochs": 0}, False),  # a ready cross-encoder used as it is trains nothing
        ({"model": offline_folder}, True),  # a local bi-encoder folder: a fresh head, as the run decides
        ({"model": saved_cross_encoder}, False),  # its head is trained
        ({"model": saved_cross_encoder, "warm_start": "on"}, True),
    ]


class _Context:  # the warm-start stage reads only the resolved teacher from its run context
    def __init__(self, teacher):
        self.teacher_cfg = teacher


def test_the_estimate_prices_the_warm_start_exactly_when_the_run_gives_one(saved_cross_encoder):
    for teacher, expected in _cases(saved_cross_encoder):
        cfg = ExperimentConfig.from_dict({"scenario": 2, "teacher": teacher}, rules=False)
        priced = "teacher warm start" in estimate(cfg, COUNTS).parts
        runs = WarmStartStage(_Context(cfg.teacher)).wanted()
        assert warm_start_wanted(cfg.teacher) == runs == priced == expected, teacher
