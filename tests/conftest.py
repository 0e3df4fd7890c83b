"""Shared fixtures. Tests run offline: an accidental hub download fails at once instead of hanging."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"
SHARED_DATA = REPO.parent / "shared" / "data"


def _head(src: Path, dst: Path, n: int, start: int = 0) -> Path:
    pd.read_csv(src).iloc[start:start + n].to_csv(dst, index=False)
    return dst


@pytest.fixture(scope="session")
def tiny_stsb(tmp_path_factory) -> dict[str, Path]:
    """A small STSb slice (scores 0-5): 64 train, 40 dev, 60 test pairs, 60 unlabeled sentences."""
    d = tmp_path_factory.mktemp("tiny_stsb")
    src = DEMO / "stsb"
    return {
        "train": _head(src / "train.csv", d / "train.csv", 64),
        "dev": _head(src / "dev.csv", d / "dev.csv", 40),
        "test": _head(src / "test.csv", d / "test.csv", 60),
        "unlabeled": _head(src / "unlabeled.csv", d / "unlabeled.csv", 60),
    }


@pytest.fixture(scope="session")
def micro_stsb(tmp_path_factory) -> dict[str, Path]:
    """The smallest useful STSb slice (16 train, 12 dev, 12 test, 12 unlabeled): for process/queue tests."""
    d = tmp_path_factory.mktemp("micro_stsb")
    src = DEMO / "stsb"
    return {
        "train": _head(src / "train.csv", d / "train.csv", 16),
        "dev": _head(src / "dev.csv", d / "dev.csv", 12),
        "test": _head(src / "test.csv", d / "test.csv", 12),
        "unlabeled": _head(src / "unlabeled.csv", d / "unlabeled.csv", 12),
    }


@pytest.fixture(scope="session")
def tiny_quora(tmp_path_factory) -> dict[str, Path]:
    """A small Quora slice: 80 unlabeled pairs, 60 dev and 80 test labeled pairs."""
    d = tmp_path_factory.mktemp("tiny_quora")
    src = DEMO / "quora"
    return {
        "unlabeled": _head(src / "unlabeled.csv", d / "unlabeled.csv", 80),
        "dev": _head(src / "dev.csv", d / "dev.csv", 60),
        "test": _head(src / "test.csv", d / "test.csv", 80),
    }


@pytest.fixture(scope="session")
def minilm():
    """The offline default bi-encoder, loaded once."""
    from augsbert_core.models import load_bi_encoder

    return load_bi_encoder("default", device="cpu")
