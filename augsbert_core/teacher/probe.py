"""Choosing silver labels by what they teach: a short student probe per labeler, scored on dev.

A labeler's own dev score is a poor guide to the labels' worth to a student: the ensemble of the
cross-encoder and the gold-only bi-encoder scores best on dev, yet 60% of its score is the student's own
cosine, and in the CPU study its labels taught less than the cross-encoder's alone. So each candidate
labeler's silver labels train a student for a fraction of the real schedule, on the same sample of gold
and silver pairs (only the labels differ), and the best student on dev picks the labeler. Ties go to the
cross-encoder (the simpler labeler)."""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import stages
from ..config import ModelConfig
from ..evaluation import PRIMARY_METRIC, bi_encoder_scores, primary_score
from ..runs.progress import CancelToken, ProgressEvent, ProgressSink, null_sink
from ..student import train_student

PROBE_FRACTION = 0.15  # share of the real student schedule (gold + silver, all epochs) each probe trains
PREFERENCE = ("cross_encoder", "ensemble")  # tie-break order


def labeler_probes_wanted(cfg) -> bool:
    """Whether a run chooses its silver labels by student probes: `labeler: auto` with the ensemble allowed to
    label (`ensemble: auto`). `ensemble: on` forces the ensemble, so there is nothing to choose. The pipeline
    and the estimate both ask this (they once disagreed: the estimate priced probes for `ensemble: on`)."""
    return cfg.scenario_spec.labels and cfg.labeling.probes


def probe_sample(n_gold: int, n_silver: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the gold and silver pairs every probe trains on: `fraction` of each, seeded."""
    rng = np.random.default_rng(seed)
    gold_idx = (
        np.sort(rng.choice(n_gold, max(1, round(fraction * n_gold)), replace=False))
        if n_gold
        else np.zeros(0, dtype=int)
    )
    silver_idx = np.sort(rng.choice(n_silver, max(1, round(fraction * n_silver)), replace=False))
    return gold_idx, silver_idx


def choose_labeler(trials: list[dict]) -> tuple[dict, str | None]:
    """The probe trial with the best dev score (first of equals: the earlier in PREFERENCE), and None; when no
    trial's dev score is defined (constant predictions), the first trial and why: nothing is chosen on NaN."""
    defined = [t for t in trials if math.isfinite(t["dev"])]
    if defined:
        return max(defined, key=lambda t: t["dev"]), None
    return trials[0], (
        f"every probe student's dev score is undefined (constant predictions): {trials[0]['labeler']} labels "
        "by order of preference, not by a comparison"
    )


def probe_labelers(
    gold: pd.DataFrame | None,
    silver_pairs: pd.DataFrame,
    labels: dict[str, np.ndarray],
    student: ModelConfig,
    dev: pd.DataFrame,
    task: str,
    folder: str | Path,
    *,
    seed: int = 42,
    device: str | None = None,
    fraction: float = PROBE_FRACTION,
    sink: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
) -> tuple[str, dict]:
    """Train one short student per labeler on gold + that labeler's silver labels; return (best, report).

    `labels` maps a labeler name to its label for every row of `silver_pairs` (scores in [0, 1], or 0/1
    for classification). Each probe runs `fraction` of the student's schedule: the same fraction of the gold
    and the silver pairs (the same rows for every labeler) for `student.epochs`."""
    names = [n for n in PREFERENCE if n in labels] + [n for n in labels if n not in PREFERENCE]
    n_gold = 0 if gold is None else len(gold)
    gold_idx, silver_idx = probe_sample(n_gold, len(silver_pairs), fraction, seed)
    pairs = silver_pairs.iloc[silver_idx][["sentence1", "sentence2"]].reset_index(drop=True)
    gold_part = gold.iloc[gold_idx][["sentence1", "sentence2", "label"]] if n_gold else None
    folder = Path(folder)
    trials = []
    for number, name in enumerate(names, start=1):
        if cancel is not None:
            cancel.raise_if_cancelled("the labeler probe")
        t0 = time.time()
        train = pairs.assign(label=np.asarray(labels[name])[silver_idx])
        if gold_part is not None:
            train = pd.concat([gold_part, train], ignore_index=True)
        sink(
            ProgressEvent(
                stages.PROBE,
                number - 1,
                len(names),
                message=f"probe {number}/{len(names)}: student on {len(train):,} pairs labeled by "
                f"{name.replace('_', '-')}",
            )
        )
        model = train_student(
            train, student, folder / name, task=task, seed=seed, device=device, stage=stages.PROBE, cancel=cancel
        )
        pred = bi_encoder_scores(model, dev["sentence1"].tolist(), dev["sentence2"].tolist())
        value = primary_score(pred, dev["label"].to_numpy(), task)
        trials.append(
            {"labeler": name, "dev": float(value), "pairs": int(len(train)), "seconds": round(time.time() - t0, 1)}
        )
        sink(
            ProgressEvent(
                stages.PROBE,
                number,
                len(names),
                message=f"{name.replace('_', '-')} labels: probe student dev {PRIMARY_METRIC[task]} {100 * value:.2f}",
            )
        )
        del model
        shutil.rmtree(folder / name, ignore_errors=True)
    best, why = choose_labeler(trials)
    shutil.rmtree(folder, ignore_errors=True)
    report = {
        "chosen": best["labeler"],
        "metric": PRIMARY_METRIC[task],
        "fraction": fraction,
        "gold_pairs": int(len(gold_idx)),
        "silver_pairs": int(len(silver_idx)),
        "trials": trials,
    }
    if why:
        report["why"] = why
    return best["labeler"], report
