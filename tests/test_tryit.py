"""'Try it' (issue 26, item 6): a typed pair scored by every model of a run as the run scored it (students: cosine;
the teacher: both orders averaged; 0/1 verdicts at each model's dev threshold), and the test pairs where AugSBERT
fixed its baseline's mistakes or made new ones. Real models (the offline MiniLM), the app through AppTest."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from augsbert_core import tryit
from augsbert_core.evaluation import bi_encoder_scores
from augsbert_core.models import default_model_path, load_cross_encoder


def _preds(gold, augsbert, gold_only) -> pd.DataFrame:
    n = len(gold)
    return pd.DataFrame(
        {
            "sentence1": [f"a{i}" for i in range(n)],
            "sentence2": [f"b{i}" for i in range(n)],
            "gold": gold,
            "augsbert": augsbert,
            "gold_only": gold_only,
        }
    )


def test_fixes_of_a_0_1_task_use_each_models_threshold():
    preds = _preds([1, 1, 0, 0, 1], [0.9, 0.6, 0.2, 0.7, 0.3], [0.3, 0.5, 0.6, 0.1, 0.2])
    fixed, broken = tryit.fixes(preds, "augsbert", "gold_only", "classification", {"augsbert": 0.5, "gold_only": 0.4})
    # augsbert right: 0, 1, 2; gold-only right: 1 (0.5 >= 0.4), 3 (0.1 < 0.4)
    assert fixed["sentence1"].tolist() == ["a0", "a2"]  # margins 0.4+0.1 = 0.5 and 0.3+0.2 = 0.5: stable order
    assert broken["sentence1"].tolist() == ["a3"]


def test_fixes_of_scores_are_the_pairs_each_model_gets_closer():
    preds = _preds([0.9, 0.1, 0.5], [0.85, 0.6, 0.5], [0.4, 0.15, 0.5])
    fixed, broken = tryit.fixes(preds, "augsbert", "gold_only", "regression")
    assert fixed["sentence1"].tolist() == ["a0"] and fixed["margin"].iloc[0] == pytest.approx(0.45)
    assert broken["sentence1"].tolist() == ["a1"] and broken["margin"].iloc[0] == pytest.approx(0.45)


def test_a_typed_pair_is_scored_as_the_run_scored_its_pairs(minilm):
    teacher = load_cross_encoder("default", device="cpu")  # a fresh head: the scores only need to be the model's
    s1, s2 = "A man is playing a guitar.", "Someone plays an instrument."
    scores = tryit.score_pair({"augsbert": minilm, "teacher": teacher}, s1, s2, {"augsbert": 0.5})
    assert [s.model for s in scores] == ["augsbert", "teacher"]
    assert scores[0].score == pytest.approx(float(bi_encoder_scores(minilm, [s1], [s2])[0]), abs=1e-6)
    both = np.asarray(teacher.predict([(s1, s2), (s2, s1)]), dtype=float)
    assert scores[1].score == pytest.approx(float(both.mean()), abs=1e-5)
    assert scores[0].verdict == int(scores[0].score >= 0.5) and scores[1].verdict is None


def test_the_compare_page_scores_a_typed_pair_with_the_runs_models(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from studio import workspace

    from .test_app import app, seed_run

    monkeypatch.setenv("AUGSBERT_HOME", str(tmp_path / "workspace"))
    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    store = workspace.store()
    run_dir = Path(store.get(seed_run(store)).dir)
    shutil.rmtree(run_dir / "models" / "augsbert")
    (run_dir / "models" / "augsbert").symlink_to(default_model_path(), target_is_directory=True)
    at = app("compare")
    at.text_area(key=f"try1_{run_dir.name}").set_value("A dog runs in the park.")
    at.text_area(key=f"try2_{run_dir.name}").set_value("A dog is running outside.")
    (submit,) = [b for b in at.button if b.label == "Score with every model"]
    submit.click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    cards = {m.label: m.value for m in at.metric}
    assert "AugSBERT" in cards and 0.3 < float(cards["AugSBERT"]) <= 1.0
    shown = " ".join(c.value for c in at.caption)
    assert "AugSBERT is closer to gold than Gold-only on" in shown.replace("\\", "")
