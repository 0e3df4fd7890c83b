"""Speed of every model in one pass (issue 26, item 5): each model scores the same pairs in turn, after a warm-up,
the fastest of the rounds kept, the load average recorded; the report and speed.json say how they were timed.
Real models: the offline MiniLM as bi-encoders, a saved cross-encoder. Run: pytest tests/test_speed_pass.py (~20 s)"""

from __future__ import annotations

import time

import pandas as pd
import pytest

from augsbert_core.evaluation import bi_encoder_scores
from augsbert_core.models import load_bi_encoder, load_cross_encoder
from augsbert_core.speed import one_pass, speed_report, timing_note
from augsbert_core.teacher import label_pairs

from .conftest import DEMO

PAIRS = pd.read_csv(DEMO / "stsb" / "test.csv").head(120)


def test_every_model_is_timed_on_the_same_pairs_with_the_load(cross_encoder_dir):
    student = load_bi_encoder("default", device="cpu")
    teacher = load_cross_encoder(str(cross_encoder_dir), device="cpu")
    calls: list[str] = []

    def bi(a, b):
        calls.append("bi")
        return bi_encoder_scores(student, a, b)

    def ce(a, b):
        calls.append("ce")
        return label_pairs(teacher, a, b)

    s1, s2 = list(PAIRS["sentence1"]), list(PAIRS["sentence2"])
    out = one_pass(
        {"augsbert": ("bi-encoder", bi), "teacher": ("cross-encoder", ce)}, s1, s2, split="test", batch_size=64
    )
    assert calls == ["bi", "ce", "bi", "ce", "bi", "ce"]  # a warm-up each, then 2 rounds in turn
    for key in ("augsbert", "teacher"):
        entry = out[key]
        assert entry["timed"] == "one pass" and entry["pairs"] == 120 and entry["split"] == "test"
        assert entry["pairs_per_s"] > 0 and len(entry["load"]) == 2
    assert out["teacher"]["orders"] == 2 and out["teacher"]["kind"] == "cross-encoder"
    assert out["augsbert"]["sentences"] == len(set(s1) | set(s2)) and out["augsbert"]["sentences_per_s"] > 0
    assert out["augsbert"]["pairs_per_s"] > out["teacher"]["pairs_per_s"]  # a bi-encoder outruns a cross-encoder
    report = speed_report("cpu", "CPU", out)
    assert report["note"].startswith(
        "pairs/s of scoring the split's pairs from scratch, timed in one pass on the same 120"
    )


def test_the_fastest_round_is_kept():
    """A load spike in one round costs no model more than another: each keeps its fastest round."""
    delays = iter([0.0, 0.30, 0.05])  # warm-up, slow round, fast round

    def sleepy(a, b):
        time.sleep(next(delays))

    out = one_pass({"m": ("bi-encoder", sleepy)}, ["a"], ["b"], split="test", batch_size=1)
    assert 0.05 <= out["m"]["seconds"] < 0.25


@pytest.mark.parametrize(
    "models,expected",
    [
        ({"m": {"pairs_per_s": 10}}, "timed during evaluation"),
        (
            {"m": {"pairs_per_s": 10, "timed": "one pass", "pairs": 256, "load": [1.5, 2.25]}},
            "timed in one pass on the same 256 pairs (load average 1.50–2.25",
        ),
    ],
)
def test_the_timing_is_named(models, expected):
    assert timing_note({"models": models}).startswith(expected)
