"""Metric names and values as the app writes them: "test Spearman", "81.2" (×100, one decimal) on every page.

The core stores metrics as fractions under short keys (`spearman`, `ap`); charts, tables and cards of the Training,
Silver and Compare pages name and round them only through these helpers, so one number reads the same everywhere."""

from __future__ import annotations

import math
from typing import Any

METRIC_WORDS = {
    "spearman": "Spearman",
    "pearson": "Pearson",
    "ap": "average precision",
    "average_precision": "average precision",
    "f1": "F1",
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "threshold": "threshold",
    # task positive_pairs: retrieval over a split's sentence2 (evaluation.RETRIEVAL_METRICS)
    "mrr@10": "MRR@10",
    "recall@1": "Recall@1",
    "recall@10": "Recall@10",
    "ndcg@10": "NDCG@10",
}
SPLIT_WORDS = {"dev": "dev", "test": "test", "train": "train"}
DECIMALS = 1  # every metric ×100 is shown with this many decimals
NUMBER_FORMAT = f"%.{DECIMALS}f"  # the same, for st.column_config.NumberColumn
UNSCALED = {"threshold"}  # a cut-off on scores, not a fraction of 100: shown as it is, with 3 decimals


def metric_name(metric: str) -> str:
    """'Spearman' for 'spearman', 'average precision' for 'ap'; a trainer key ('eval_dev_spearman_cosine') by the
    metric it names; unknown keys with underscores as spaces."""
    key = str(metric).lower()
    if key in METRIC_WORDS:
        return METRIC_WORDS[key]
    for short in ("mrr@10", "ndcg@10", "recall@10", "recall@1"):  # trainer keys: eval_dev_cosine_mrr@10
        if key.endswith(short):
            return METRIC_WORDS[short]
    for short in ("spearman", "pearson", "average_precision", "accuracy", "precision", "recall", "f1"):
        if short in key:
            return METRIC_WORDS[short]
    if key.endswith("_ap") or key == "cosine_ap":
        return METRIC_WORDS["ap"]
    return key.replace("_", " ")


def metric_label(metric: str, split: str | None = None, *, title: bool = False) -> str:
    """'test Spearman' (split first, as it is read), 'Spearman' without a split; `title`: first letter upper-case."""
    words = metric_name(metric)
    label = f"{SPLIT_WORDS.get(split, split)} {words}" if split else words
    return label[:1].upper() + label[1:] if title else label


def metric_number(value: Any, metric: str | None = None) -> float | None:
    """The shown number: ×100 rounded to DECIMALS (a threshold as it is, 3 decimals); None when unknown or NaN."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(number):
        return None
    return round(number, 3) if metric in UNSCALED else round(100 * number, DECIMALS)


def metric_value(value: Any, metric: str | None = None) -> str:
    """'81.2' for 0.8123 (×100, DECIMALS decimals); '0.512' for a threshold; '–' when unknown."""
    number = metric_number(value, metric)
    if number is None:
        return "–"
    return f"{number:.3f}" if metric in UNSCALED else f"{number:.{DECIMALS}f}"


def metric_delta(difference: Any) -> str:
    """'+3.1' for a difference of 0.031 between two metrics (×100, DECIMALS decimals, signed); '–' when unknown."""
    number = metric_number(difference)
    return "–" if number is None else f"{number:+.{DECIMALS}f}"
