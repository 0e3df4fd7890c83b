"""Label distributions of silver and gold: the KDE sampler's selection and the KS distance the runs report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def kde_select(
    silver_scores: np.ndarray, gold_labels: np.ndarray, *, seed: int = 42, keep_quantile: float = 0.95
) -> np.ndarray:
    """Indices of silver pairs kept so the silver label distribution matches the gold one.

    Regression: rejection sampling with weight p_gold(s) / p_silver(s) from Gaussian KDEs (Thakur et al.
    2021, KDE sampling). Binary gold: keep the positive share (score >= 0.5) equal to gold's."""
    from scipy.stats import gaussian_kde  # noqa: PLC0415 - slow to import; only the metrics need it

    silver = np.asarray(silver_scores, dtype=float)
    gold = np.asarray(gold_labels, dtype=float)
    rng = np.random.default_rng(seed)
    if len(silver) == 0:
        return np.zeros(0, dtype=np.int64)
    if set(np.unique(gold)) <= {0.0, 1.0}:
        share = gold.mean()
        pos = np.flatnonzero(silver >= 0.5)
        neg = np.flatnonzero(silver < 0.5)
        if len(pos) == 0 or len(neg) == 0:
            return np.arange(len(silver))
        n_total = min(len(pos) / share if share > 0 else np.inf, len(neg) / (1 - share) if share < 1 else np.inf)
        keep_pos = rng.choice(pos, size=int(round(n_total * share)), replace=False)
        keep_neg = rng.choice(neg, size=int(round(n_total * (1 - share))), replace=False)
        return np.sort(np.concatenate([keep_pos, keep_neg]))
    if np.ptp(silver) == 0 or np.ptp(gold) == 0:
        return np.arange(len(silver))
    weight = gaussian_kde(gold)(silver) / np.maximum(gaussian_kde(silver)(silver), 1e-12)
    weight = np.clip(weight / np.quantile(weight, keep_quantile), 0, 1)
    return np.flatnonzero(rng.random(len(silver)) < weight)


def distribution_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Kolmogorov-Smirnov statistic between two label samples (0 = same distribution, 1 = disjoint)."""
    from scipy.stats import ks_2samp  # noqa: PLC0415 - slow to import; only the metrics need it

    if len(a) == 0 or len(b) == 0:
        return float("nan")
    return float(ks_2samp(np.asarray(a, float), np.asarray(b, float)).statistic)
