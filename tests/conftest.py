"""Shared fixtures. Tests run offline: an accidental hub download fails at once instead of hanging."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Every progress event the tests cause (pipeline, samplers, teacher, workers) must name a stage of the core's table.
os.environ["AUGSBERT_STRICT_STAGES"] = "1"

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"
SHARED_DATA = REPO.parent / "shared" / "data"


def _demo_slice(tmp_path_factory, dataset: str, sizes: dict[str, int]) -> dict[str, Path]:
    """The first rows of each demo file of `dataset`, written to a fresh folder: {split: path}."""
    d = tmp_path_factory.mktemp(f"{dataset}_{sum(sizes.values())}")
    out = {}
    for split, n in sizes.items():
        pd.read_csv(DEMO / dataset / f"{split}.csv").head(n).to_csv(d / f"{split}.csv", index=False)
        out[split] = d / f"{split}.csv"
    return out


@pytest.fixture(scope="session")
def tiny_stsb(tmp_path_factory) -> dict[str, Path]:
    """A small STSb slice (scores 0-5): 64 train, 40 dev, 60 test pairs, 60 unlabeled sentences."""
    return _demo_slice(tmp_path_factory, "stsb", {"train": 64, "dev": 40, "test": 60, "unlabeled": 60})


@pytest.fixture(scope="session")
def micro_stsb(tmp_path_factory) -> dict[str, Path]:
    """The smallest useful STSb slice (16 train, 12 dev, 12 test, 12 unlabeled): for process/queue tests."""
    return _demo_slice(tmp_path_factory, "stsb", {"train": 16, "dev": 12, "test": 12, "unlabeled": 12})


@pytest.fixture(scope="session")
def tiny_quora(tmp_path_factory) -> dict[str, Path]:
    """A small Quora slice: 80 unlabeled pairs, 60 dev and 80 test labeled pairs."""
    return _demo_slice(tmp_path_factory, "quora", {"unlabeled": 80, "dev": 60, "test": 80})


@pytest.fixture(scope="session")
def minilm():
    """The offline default bi-encoder, loaded once."""
    from augsbert_core.models import load_bi_encoder

    return load_bi_encoder("default", device="cpu")


@pytest.fixture(scope="session")
def cross_encoder_dir(tmp_path_factory) -> Path:
    """A saved cross-encoder folder (the offline MiniLM body with a classification head, untrained): what `label`
    and `silver` accept as a teacher, for tests of their plumbing."""
    from sentence_transformers import CrossEncoder

    from augsbert_core.models import resolve_model

    path = tmp_path_factory.mktemp("cross_encoder") / "teacher"
    CrossEncoder(str(resolve_model("default")), num_labels=1, device="cpu").save(str(path))
    return path
