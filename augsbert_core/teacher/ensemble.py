"""Teacher ensemble: the cross-encoder's score averaged with a bi-encoder's cosine (the gold-tuned student in
scenario 2; the zero-shot student in scenario 3, where the target has no gold to tune on).

Both members' scores are z-scored (statistics from dev), mixed with a weight on the cross-encoder chosen
on dev, and mapped back to the label scale by a least-squares line fitted on dev (clipped to [0, 1]).
Choosing the weight on dev flatters the dev score, so the comparison with the members is cross-fitted:
the weight is chosen on one half of dev and scored on the other, both ways, and the members are scored
on the same halves. The ensemble is worth using when that cross-fitted score beats both members."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..evaluation import PRIMARY_METRIC, primary_score

WEIGHTS = tuple(round(w, 2) for w in np.linspace(0.0, 1.0, 11))  # weight on the cross-encoder


@dataclass
class TeacherEnsemble:
    """How to turn (cross-encoder score, bi-encoder cosine) into one silver label in [0, 1]."""

    weight: float  # on the cross-encoder; 1 - weight on the bi-encoder
    ce_mean: float
    ce_std: float
    bi_mean: float
    bi_std: float
    slope: float = 1.0
    intercept: float = 0.0
    report: dict = field(default_factory=dict)  # dev numbers behind the choice (see `fit_ensemble`)

    def mix(self, ce: np.ndarray, bi: np.ndarray) -> np.ndarray:
        """The weighted z-score average (uncalibrated)."""
        ce, bi = np.asarray(ce, dtype=float), np.asarray(bi, dtype=float)
        return self.weight * (ce - self.ce_mean) / self.ce_std + (1 - self.weight) * (bi - self.bi_mean) / self.bi_std

    def __call__(self, ce: np.ndarray, bi: np.ndarray) -> np.ndarray:
        """Calibrated scores in [0, 1] on the gold label scale."""
        return np.clip(self.slope * self.mix(ce, bi) + self.intercept, 0.0, 1.0).astype(np.float32)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> TeacherEnsemble:
        return cls(**raw)

    @property
    def beats_members(self) -> bool:
        return bool(self.report.get("beats_members", False))


def _best_weight(ce: np.ndarray, bi: np.ndarray, gold: np.ndarray, task: str, stats: tuple[float, ...]) -> float:
    probe = TeacherEnsemble(0.0, *stats)
    scores = []
    for w in WEIGHTS:
        probe.weight = w
        scores.append(primary_score(probe.mix(ce, bi), gold, task))
    return WEIGHTS[int(np.argmax(scores))]  # ties: the smaller weight (argmax takes the first)


def _stats(values: np.ndarray) -> tuple[float, float]:
    std = float(np.std(values))
    return float(np.mean(values)), std if std > 1e-9 else 1.0


def fit_ensemble(
    ce_dev: np.ndarray, bi_dev: np.ndarray, gold_dev: np.ndarray, task: str, *, seed: int = 42
) -> TeacherEnsemble:
    """Choose the weight and calibration on dev; `report` holds the cross-fitted comparison with the members."""
    ce, bi, gold = (np.asarray(x, dtype=float) for x in (ce_dev, bi_dev, gold_dev))
    if not len(ce) == len(bi) == len(gold) or len(gold) < 8:
        raise ValueError("the ensemble needs at least 8 dev pairs scored by both members")
    stats = (*_stats(ce), *_stats(bi))
    weight = _best_weight(ce, bi, gold, task, stats)
    ensemble = TeacherEnsemble(weight, *stats)
    mixed = ensemble.mix(ce, bi)
    if np.ptp(mixed) > 0:
        ensemble.slope, ensemble.intercept = (float(v) for v in np.polyfit(mixed, gold, 1))

    # cross-fitted comparison: choose on one half, score on the other, both ways
    order = np.random.default_rng(seed).permutation(len(gold))
    halves = (order[: len(order) // 2], order[len(order) // 2 :])
    crossfit, ce_only, bi_only = [], [], []
    for choose, score in (halves, halves[::-1]):
        if task == "classification" and len(np.unique(gold[score])) < 2:
            continue
        probe = TeacherEnsemble(_best_weight(ce[choose], bi[choose], gold[choose], task, stats), *stats)
        crossfit.append(primary_score(probe.mix(ce[score], bi[score]), gold[score], task))
        ce_only.append(primary_score(ce[score], gold[score], task))
        bi_only.append(primary_score(bi[score], gold[score], task))
    report = {
        "metric": PRIMARY_METRIC[task],
        "weight": weight,
        "dev": primary_score(mixed, gold, task),
        "dev_crossfit": float(np.mean(crossfit)) if crossfit else float("nan"),
        "cross_encoder_crossfit": float(np.mean(ce_only)) if ce_only else float("nan"),
        "bi_encoder_crossfit": float(np.mean(bi_only)) if bi_only else float("nan"),
    }
    report["beats_members"] = bool(crossfit) and report["dev_crossfit"] > max(
        report["cross_encoder_crossfit"], report["bi_encoder_crossfit"]
    )
    ensemble.report = report
    return ensemble


def describe(ensemble: TeacherEnsemble) -> str:
    """One line for logs and the app: the weight and the cross-fitted dev comparison."""
    r = ensemble.report
    member = r.get("bi_encoder", "gold_only").replace("_", "-")
    return (
        f"ensemble (weight {ensemble.weight:.1f} on the cross-encoder): {100 * r['dev_crossfit']:.1f} "
        f"{r['metric']} on dev (cross-fitted) vs cross-encoder {100 * r['cross_encoder_crossfit']:.1f} and "
        f"{member} bi-encoder {100 * r['bi_encoder_crossfit']:.1f}"
        + ("" if ensemble.beats_members else ": it does not beat both members")
    )
