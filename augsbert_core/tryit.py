"""A finished run's models on a pair you type ("try it"), and the test pairs where the recommended student fixed its
baseline's mistakes, or made new ones (from predictions.csv): what a stakeholder asks after the metrics.

Students score a pair by the cosine of their embeddings, the teacher by its cross-encoder score of both orders
averaged, exactly as the run evaluated them, so a 0/1 verdict uses the threshold each model got on dev."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .evaluation import bi_encoder_scores

CROSS_ENCODERS = ("teacher",)  # the other model keys are bi-encoders (students and the zero-shot base)
FIXES_SHOWN = 10  # pairs per table of fixes and new mistakes


@dataclass(frozen=True)
class PairScore:
    """One model's score of the typed pair, and for a 0/1 task its verdict at its dev-chosen threshold."""

    model: str
    score: float
    threshold: float | None = None

    @property
    def verdict(self) -> int | None:
        return None if self.threshold is None else int(self.score >= self.threshold)


def score_pair(models: dict[str, object], sentence1: str, sentence2: str, thresholds: dict[str, float]) -> list:
    """[PairScore] for each loaded model ({key: model}), in the given order. `thresholds` {key: t} (0/1 tasks)."""
    from .teacher import label_pairs  # noqa: PLC0415 - loads torch; only scoring needs it

    out = []
    for key, model in models.items():
        if key in CROSS_ENCODERS:
            score = float(label_pairs(model, [sentence1], [sentence2], batch_size=2)[0])
        else:
            score = float(bi_encoder_scores(model, [sentence1], [sentence2])[0])
        out.append(PairScore(key, score, thresholds.get(key)))
    return out


def fixes(
    preds: pd.DataFrame,
    ours: str,
    theirs: str,
    task: str,
    thresholds: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fixed, broken): the test pairs where `ours` is right and `theirs` wrong, and the reverse, the clearest first.

    0/1 task: right = the verdict at the model's dev-chosen threshold equals gold. Scores: right = closer to gold
    (both on 0-1), every pair where one model's error is smaller. Columns: sentence1, sentence2, gold, both models'
    scores, and the margin (how much closer, or how far past the thresholds), largest first."""
    frame = preds[["sentence1", "sentence2", "gold", ours, theirs]].copy()
    gold = frame["gold"].astype(float).to_numpy()
    a, b = frame[ours].astype(float).to_numpy(), frame[theirs].astype(float).to_numpy()
    if task == "classification":
        t_ours, t_theirs = (thresholds or {}).get(ours, 0.5), (thresholds or {}).get(theirs, 0.5)
        right_a, right_b = (a >= t_ours) == (gold >= 0.5), (b >= t_theirs) == (gold >= 0.5)
        frame["margin"] = np.abs(a - t_ours) + np.abs(b - t_theirs)
        fixed, broken = frame[right_a & ~right_b], frame[~right_a & right_b]
    else:
        frame["margin"] = np.abs(np.clip(b, 0, 1) - gold) - np.abs(np.clip(a, 0, 1) - gold)
        fixed, broken = frame[frame["margin"] > 0], frame[frame["margin"] < 0].assign(margin=lambda f: -f["margin"])
    order = {"by": "margin", "ascending": False}
    return fixed.sort_values(**order).reset_index(drop=True), broken.sort_values(**order).reset_index(drop=True)
