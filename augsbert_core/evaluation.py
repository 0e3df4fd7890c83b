"""Metrics for bi-encoders and cross-encoders, the dev-chosen classification threshold, evaluating a bi-encoder on
the run's splits, predictions.csv, the recommended model and the metrics table.

Regression: Spearman and Pearson correlation of predicted scores with gold (as fractions, x100 in tables).
Classification: average precision (threshold-free), and F1/accuracy at a threshold chosen on dev and
applied unchanged to test."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .choices import AUTO
from .io.tables import write_table
from .speed import throughput, timed, timed_split

MODEL_KEYS = ("zero_shot", "gold_only", "augsbert", "full_gold", "teacher", "ensemble")
# positive_pairs: retrieval over each split (queries = sentence1 of its positives, corpus = all its sentence2)
PRIMARY_METRIC = {"regression": "spearman", "classification": "ap", "positive_pairs": "mrr@10"}
RETRIEVAL_METRICS = ("mrr@10", "recall@1", "recall@10", "ndcg@10")


def regression_metrics(pred: Sequence[float], gold: Sequence[float]) -> dict[str, float]:
    """Spearman and Pearson correlation between predictions and gold scores."""
    from scipy.stats import pearsonr, spearmanr  # noqa: PLC0415 - slow to import; only the metrics need it

    pred, gold = np.asarray(pred, dtype=float), np.asarray(gold, dtype=float)
    if len(pred) != len(gold) or len(pred) < 2:
        raise ValueError("need at least two predictions, as many as gold scores")
    return {"spearman": float(spearmanr(pred, gold).statistic), "pearson": float(pearsonr(pred, gold).statistic)}


def average_precision(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Average precision of ranking by score (ties broken stably by order), as sklearn computes it."""
    from sklearn.metrics import average_precision_score  # noqa: PLC0415 - slow to import; only the metrics need it

    return float(average_precision_score(np.asarray(labels, dtype=int), np.asarray(scores, dtype=float)))


def best_threshold(scores: Sequence[float], labels: Sequence[int]) -> float:
    """The threshold (predict 1 when score >= t) that maximises F1 on these scores; midpoint between neighbours."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=int)
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    tp = np.cumsum(y_sorted)
    fp = np.cumsum(1 - y_sorted)
    positives = y.sum()
    f1 = 2 * tp / (tp + fp + positives)  # = 2PR/(P+R) for the cut after each position
    # only cut between distinct scores
    distinct = np.r_[s_sorted[:-1] != s_sorted[1:], True]
    f1 = np.where(distinct, f1, -1.0)
    i = int(np.argmax(f1))
    if i + 1 < len(s_sorted):
        return float((s_sorted[i] + s_sorted[i + 1]) / 2)
    return float(s_sorted[i])


def classification_metrics(scores: Sequence[float], labels: Sequence[int], threshold: float) -> dict[str, float]:
    """AP, plus F1, precision, recall and accuracy when predicting 1 for score >= threshold."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=int)
    pred = (s >= threshold).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "ap": average_precision(s, y),
        "f1": f1,
        "precision": precision,
        "recall": recall,
        "accuracy": float((pred == y).mean()),
        "threshold": float(threshold),
    }


def confusion(scores: Sequence[float], labels: Sequence[int], threshold: float) -> dict[str, int]:
    """Counts of a 0/1 task when predicting 1 for score >= threshold: {tn, fp, fn, tp}."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=int)
    pred = (s >= threshold).astype(int)
    return {
        "tn": int(((pred == 0) & (y == 0)).sum()),
        "fp": int(((pred == 1) & (y == 0)).sum()),
        "fn": int(((pred == 0) & (y == 1)).sum()),
        "tp": int(((pred == 1) & (y == 1)).sum()),
    }


def pr_curve(scores: Sequence[float], labels: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(recall, precision) of every cut of the ranking by score, as sklearn computes them (recall descending)."""
    from sklearn.metrics import precision_recall_curve  # noqa: PLC0415 - slow to import; only the charts need it

    precision, recall, _ = precision_recall_curve(np.asarray(labels, dtype=int), np.asarray(scores, dtype=float))
    return recall, precision


@dataclass
class SplitScores:
    """Predicted scores and gold labels of one split."""

    pred: np.ndarray
    gold: np.ndarray


def score_splits(splits: dict[str, SplitScores], task: str) -> dict[str, dict[str, float]]:
    """Metrics per split. Classification thresholds are chosen on 'dev' (when present) and applied to every split."""
    if task == "regression":
        return {name: regression_metrics(s.pred, s.gold) for name, s in splits.items()}
    threshold = best_threshold(splits["dev"].pred, splits["dev"].gold) if "dev" in splits else 0.5
    return {name: classification_metrics(s.pred, s.gold, threshold) for name, s in splits.items()}


def primary_score(pred: Sequence[float], gold: Sequence[float], task: str) -> float:
    """The task's primary metric (Spearman or AP) of one split's predictions."""
    return score_splits({"dev": SplitScores(np.asarray(pred), np.asarray(gold))}, task)["dev"][PRIMARY_METRIC[task]]


def bi_encoder_scores(
    model,
    sentences1: Sequence[str],
    sentences2: Sequence[str],
    batch_size: int = 64,
    memo: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Cosine similarity of each pair's embeddings (each unique sentence encoded once).

    `memo` (sentence -> normalised embedding, for this one model) skips sentences encoded before and keeps the new
    ones: a run that scores the same sentences twice with one model (warm start, then the ensemble) encodes once."""
    unique = list(dict.fromkeys([*sentences1, *sentences2]))
    missing = unique if memo is None else [s for s in unique if s not in memo]
    emb = (
        model.encode(
            missing, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )
        if missing
        else np.zeros((0, 1), dtype=np.float32)
    )
    if memo is None:
        index = {s: i for i, s in enumerate(unique)}
        a = emb[[index[s] for s in sentences1]]
        b = emb[[index[s] for s in sentences2]]
    else:
        memo.update(zip(missing, emb))
        a = np.stack([memo[s] for s in sentences1]) if len(sentences1) else np.zeros((0, 1))
        b = np.stack([memo[s] for s in sentences2]) if len(sentences2) else np.zeros((0, 1))
    return (a * b).sum(axis=1)


RECOMMENDED = "recommended"  # top-level key of metrics.json: the name of the model key a run recommends
RECOMMENDATION = "recommendation"  # beside it: {model, metric, split, baseline, dev_gain, interval, why, notes}
SCHEDULES = "schedules"  # {model: {epochs_run, best_epoch, steps, ...}}: what each student's training got
NON_MODEL_KEYS = (RECOMMENDED, RECOMMENDATION, SCHEDULES)  # top-level keys of metrics.json that are no model
BOOTSTRAP_SAMPLES = 1000  # paired bootstrap resamples of the recommendation's interval
CONFIDENCE = 0.95


def paired_bootstrap(
    ours: Sequence[float],
    theirs: Sequence[float],
    gold: Sequence[float],
    task: str,
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> tuple[float, tuple[float, float]]:
    """The gain of `ours` over `theirs` on the task's primary metric (Spearman or AP) and its percentile interval at
    CONFIDENCE, from `samples` resamples of the same pairs for both models (paired). Resamples on which the metric
    is undefined (constant scores, one class) are skipped; ValueError when too few are left to say anything."""
    from scipy.stats import spearmanr  # noqa: PLC0415 - slow to import; only the metrics need it

    a, b, y = (np.asarray(x, dtype=float) for x in (ours, theirs, gold))
    if not len(a) == len(b) == len(y) or len(y) < 3:
        raise ValueError(f"a paired bootstrap needs at least 3 pairs scored by both models, got {len(y)}")

    def metric(pred: np.ndarray, truth: np.ndarray) -> float:
        if task == "regression":
            with warnings.catch_warnings():  # a constant resample is NaN, skipped below
                warnings.simplefilter("ignore")
                return float(spearmanr(pred, truth).statistic)
        return average_precision(pred, truth.astype(int)) if 0 < truth.sum() < len(truth) else float("nan")

    gain = metric(a, y) - metric(b, y)
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(samples):
        idx = rng.integers(0, len(y), len(y))
        gains.append(metric(a[idx], y[idx]) - metric(b[idx], y[idx]))
    finite = np.asarray([g for g in gains if np.isfinite(g)])
    if not np.isfinite(gain) or len(finite) < samples // 2:
        raise ValueError("the primary metric is undefined on this split (constant scores or a single class)")
    tail = 100 * (1 - CONFIDENCE) / 2
    return float(gain), (float(np.percentile(finite, tail)), float(np.percentile(finite, 100 - tail)))


def recommendation(
    metrics: dict[str, Any],
    task: str,
    predictions: dict[str, dict[str, Sequence[float]]] | None = None,
    gold: dict[str, Sequence[float]] | None = None,
    *,
    seed: int = 0,
) -> dict[str, Any] | None:
    """The model a run recommends, and why: AugSBERT only when a paired bootstrap over the dev pairs puts its gain
    over the baseline (the tuned gold-only student, else the zero-shot base) above zero at CONFIDENCE; otherwise the
    baseline, the cheaper story. Undefined metrics decide nothing (the baseline, with the reason). Without a dev
    split, test decides (said in `why`). Retrieval metrics (positive_pairs) have no per-pair bootstrap: the point
    gain decides and `interval` is None. None when neither model was evaluated.

    `predictions` {model: {split: scores}} and `gold` {split: labels} are the per-pair scores behind `metrics`."""
    models = model_metrics(metrics)
    baseline = "gold_only" if "gold_only" in models else "zero_shot" if "zero_shot" in models else None
    primary = PRIMARY_METRIC[task]
    out = {"model": baseline, "metric": primary, "split": None, "baseline": baseline}
    out.update(dev_gain=None, interval=None, why="")
    if "augsbert" not in models or baseline is None:
        out["model"] = baseline or ("augsbert" if "augsbert" in models else None)
        out["why"] = "the only student evaluated" if baseline is None else "no AugSBERT student in this run"
        return out if out["model"] else None
    split = out["split"] = "dev" if "dev" in models[baseline] and "dev" in models["augsbert"] else "test"
    ours, theirs = models["augsbert"].get(split, {}).get(primary), models[baseline].get(split, {}).get(primary)
    name = baseline.replace("_", "-")
    if not _finite(ours) or not _finite(theirs):
        out["why"] = f"{primary} on {split} is undefined for AugSBERT or {name}: nothing to decide on, so the baseline"
        return out
    out["dev_gain"] = float(ours - theirs)
    scores = (predictions or {}).get("augsbert", {}).get(split), (predictions or {}).get(baseline, {}).get(split)
    truth = (gold or {}).get(split)
    where = "" if split == "dev" else " (no dev split: decided on test)"
    if task == "positive_pairs" or scores[0] is None or scores[1] is None or truth is None:
        wins = ours > theirs
        out.update(model="augsbert" if wins else baseline)
        reason = "retrieval metric, no per-pair interval" if task == "positive_pairs" else "no per-pair scores"
        out["why"] = f"{'higher' if wins else 'not higher'} {primary} on {split} than {name} ({reason}){where}"
        return out
    try:
        gain, (low, high) = paired_bootstrap(scores[0], scores[1], truth, task, seed=seed)
    except ValueError as exc:
        out["why"] = f"{exc}: nothing to decide on, so the baseline"
        return out
    out.update(dev_gain=gain, interval=[low, high])
    level = f"{100 * CONFIDENCE:.0f}%"
    span = f"{100 * gain:+.2f} {primary} points on {split}, {level} interval [{100 * low:+.2f}, {100 * high:+.2f}]"
    if low > 0:
        out.update(model="augsbert", why=f"AugSBERT beats {name}: {span}, above zero{where}")
    elif gain > 0:
        out["why"] = (
            f"AugSBERT's gain over {name} is within noise ({span} includes zero): {name} is as good and cheaper"
        )
    else:
        out["why"] = f"AugSBERT does not beat {name} ({span}): {name}"
    return out


#: The other metrics a recommendation is squared with, per task, and why the primary one decides.
SECONDARY_METRICS = {"regression": ("pearson",), "classification": ("f1", "accuracy", "precision", "recall")}
PRIMARY_WHY = {
    "regression": "Spearman decides: similarity is judged on the ranking of pairs, as STS benchmarks do",
    "classification": "average precision decides: it scores the whole ranking of pairs, while F1, accuracy, "
    "precision and recall depend on the one threshold chosen on dev",
}
METRIC_WORDS = {"pearson": "Pearson", "f1": "F1", "accuracy": "accuracy", "precision": "precision", "recall": "recall"}


def recommendation_notes(
    metrics: dict[str, Any], recommended: dict[str, Any] | None, gate: dict[str, Any] | None, task: str
) -> list[str]:
    """Sentences that square a recommendation with the rest of the run: the other dev metrics where the model not
    recommended is better (and which metric decides, and why), and the teacher-readiness gate's verdict (judged
    before any student learned from silver)."""
    if not recommended or recommended.get("model") is None:
        return []
    models, split = model_metrics(metrics), recommended.get("split") or "dev"
    chosen, baseline = recommended["model"], recommended.get("baseline")
    other = baseline if chosen == "augsbert" else "augsbert"
    notes = []
    if other in models and chosen in models and other != chosen:
        ours, theirs = models[chosen].get(split, {}), models[other].get(split, {})
        better = [
            (m, theirs[m] - ours[m])
            for m in SECONDARY_METRICS.get(task, ())
            if _finite(ours.get(m)) and _finite(theirs.get(m)) and theirs[m] - ours[m] > 1e-9
        ]
        if better:
            name = other.replace("_", "-") if other != "augsbert" else "AugSBERT"
            listed = ", ".join(f"{METRIC_WORDS[m]} ({100 * gap:+.2f})" for m, gap in better)
            notes.append(f"{name} is higher on {split} {listed}; {PRIMARY_WHY.get(task, 'the primary metric decides')}")
    verdict, lead = (gate or {}).get("verdict"), (gate or {}).get("lead")
    if verdict in ("ready", "weak") and _finite(lead):
        points = f"{100 * abs(lead):.1f} points on {gate.get('split', 'dev')}"
        if verdict == "weak" and chosen == "augsbert":
            notes.append(
                f"The gate judged the teacher weak before training (it trailed the best student by {points}); the "
                "AugSBERT student's own dev score is what the recommendation weighs, and its gain held up"
            )
        elif verdict == "weak":
            notes.append(f"As the gate expected: the teacher trailed the best student by {points}")
        elif chosen == "augsbert":
            notes.append(f"As the gate expected: the teacher led the best student by {points}")
        else:
            notes.append(
                f"The teacher led the best student by {points}, yet its silver labels did not move the student "
                "beyond noise: distillation recovers part of a teacher's lead at best"
            )
    return notes


def recommendation_of(metrics: dict[str, Any]) -> dict[str, Any] | None:
    """A metrics.json mapping's `recommendation` record, or None (runs finished before it was written)."""
    found = (metrics or {}).get(RECOMMENDATION)
    return found if isinstance(found, dict) else None


def schedules_of(metrics: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A metrics.json mapping's `schedules` ({model: schedule}), empty for runs finished before it was written."""
    found = (metrics or {}).get(SCHEDULES)
    return {k: v for k, v in found.items() if isinstance(v, dict)} if isinstance(found, dict) else {}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def recommend(metrics: dict[str, Any], task: str) -> str | None:
    """The model a run recommends: the best on dev between its baseline and the AugSBERT student.

    The baseline is the gold-only student, else (scenario 3: no target gold) the zero-shot base. Ties go to
    the baseline (the cheaper story), so a run never recommends a student below its baseline on dev.
    Without a dev split, test decides. None when neither model was evaluated."""
    models = model_metrics(metrics)
    baseline = "gold_only" if "gold_only" in models else "zero_shot" if "zero_shot" in models else None
    if "augsbert" not in models:
        return baseline
    if baseline is None:
        return "augsbert"
    primary = PRIMARY_METRIC[task]
    split = "dev" if "dev" in models[baseline] and "dev" in models["augsbert"] else "test"
    ours = models["augsbert"].get(split, {}).get(primary)
    theirs = models[baseline].get(split, {}).get(primary)
    if ours is None or theirs is None:
        return baseline
    return "augsbert" if ours > theirs else baseline


def recommended_of(metrics: dict[str, Any], task: str | None) -> str | None:
    """A metrics.json mapping's `recommended` as written, else computed with `recommend` (runs finished before runs
    wrote it; an unknown task counts as regression). None without per-model metrics."""
    named = metrics.get(RECOMMENDED)
    if isinstance(named, str) and named:
        return named
    if not model_metrics(metrics):
        return None
    return recommend(metrics, task if task in PRIMARY_METRIC else "regression")


def model_metrics(metrics: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """The per-model part of a metrics.json mapping ({model: {split: {metric: value}}}), without `recommended`,
    `recommendation` and `schedules`."""
    return {k: v for k, v in (metrics or {}).items() if isinstance(v, dict) and k not in NON_MODEL_KEYS}


def format_table(metrics: dict[str, Any], task: str) -> str:
    """A plain-text table: one row per model, columns split/metric (correlations and AP x100).

    The recommended model (metrics['recommended'], when present) comes first, marked with '*', with the reason
    (metrics['recommendation']); a `schedule` column says what each student's training got (metrics['schedules'])."""
    recommended = metrics.get(RECOMMENDED) if isinstance(metrics.get(RECOMMENDED), str) else None
    why = (recommendation_of(metrics) or {}).get("why")
    schedules = schedules_of(metrics)
    metrics = model_metrics(metrics)
    names = {"regression": ["spearman", "pearson"], "positive_pairs": [*RETRIEVAL_METRICS, "ap", "f1"]}.get(
        task, ["ap", "f1", "accuracy", "threshold"]
    )
    present = {split for per_model in metrics.values() for split in per_model}
    splits = [s for s in ("dev", "test") if s in present] + sorted(present - {"dev", "test"})
    header = ["model"] + [f"{split}.{m}" for split in splits for m in names] + (["schedule"] if schedules else [])
    rows = [header]
    order = [k for k in MODEL_KEYS if k in metrics] + [k for k in metrics if k not in MODEL_KEYS]
    if recommended in order:
        order.remove(recommended)
        order.insert(0, recommended)
    for model_key in order:
        row = [f"{model_key} *" if model_key == recommended else model_key]
        for split in splits:
            for m in names:
                v = metrics[model_key].get(split, {}).get(m)
                if v is None or not _finite(v):
                    row.append("-" if v is None else "undefined")
                else:
                    row.append(f"{v:.4f}" if m == "threshold" else f"{100 * v:.2f}")
        if schedules:
            row.append(schedule_label(schedules.get(model_key)))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    table = "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) for r in rows)
    return table + (
        f"\n* recommended: {recommended} ({why or 'best on dev among the baseline and AugSBERT'})"
        if recommended
        else ""
    )


def schedule_label(entry: dict[str, Any] | None) -> str:
    """A student's schedule in a few words: '3 of 5 epochs (early-stopped on dev)', '1 epoch', or '-' (no training)."""
    if not isinstance(entry, dict):
        return "-"
    best, run = entry.get("best_epoch"), entry.get("epochs_run")
    if not isinstance(best, (int, float)) or not isinstance(run, (int, float)):
        return "-"
    if entry.get("epochs") == AUTO and "why" not in entry:
        return f"best {best:g} of {run:g} epochs (auto, on dev)"
    return f"{run:g} epoch{'s' if run != 1 else ''}" + (" (auto: no dev split)" if entry.get("why") else "")


def tidy(metrics: dict[str, Any]) -> list[dict[str, object]]:
    """Long-format rows {model, split, metric, value}: easy to load into pandas or plot."""
    metrics = model_metrics(metrics)
    return [
        {"model": m, "split": split, "metric": name, "value": value}
        for m, per_split in metrics.items()
        for split, values in per_split.items()
        for name, value in values.items()
    ]


def evaluate_bi_encoder(
    model,
    splits: dict[str, pd.DataFrame],
    task: str,
    predictions: dict[str, dict[str, np.ndarray]] | None = None,
    speed: dict[str, Any] | None = None,
) -> dict[str, dict[str, float]]:
    """Cosine-similarity metrics of a bi-encoder on each split (threshold chosen on dev).

    Pass a dict as `predictions` to receive the per-pair scores ({split: scores}), and one as `speed` to receive
    the timing of scoring the test (else dev) split: encoding its distinct sentences plus the cosines
    (`speed.throughput`)."""
    batch_size, clock = 64, timed_split(splits)
    scores = {}
    for name, f in splits.items():
        s1, s2 = f["sentence1"].tolist(), f["sentence2"].tolist()
        scores[name], seconds = timed(lambda s1=s1, s2=s2: bi_encoder_scores(model, s1, s2, batch_size=batch_size))
        if speed is not None and name == clock:
            sentences = len(set(s1) | set(s2))
            per_s = sentences / seconds if seconds > 0 else None
            speed.update(
                throughput("bi-encoder", name, len(f), seconds, batch_size, sentences=sentences, sentences_per_s=per_s)
            )
    if predictions is not None:
        predictions.update(scores)
    if task == "positive_pairs":
        return positive_pairs_metrics(model, splits, scores)
    return score_splits({n: SplitScores(scores[n], f["label"].to_numpy()) for n, f in splits.items()}, task)


def retrieval_evaluator(frame: pd.DataFrame, name: str = "split"):
    """sentence-transformers' InformationRetrievalEvaluator (cosine) of a split: queries are the sentence1 of its
    positive pairs, the corpus every sentence2 of the split, the relevant documents a query's own positives.
    None without a positive pair."""
    from sentence_transformers import util  # noqa: PLC0415 - loads torch; only encoding needs it
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator  # noqa: PLC0415 - loads torch; only encoding needs it

    positives = frame[frame["label"] == 1]
    if positives.empty:
        return None
    corpus_ids = {text: f"d{i}" for i, text in enumerate(dict.fromkeys(frame["sentence2"]))}
    query_ids = {text: f"q{i}" for i, text in enumerate(dict.fromkeys(positives["sentence1"]))}
    relevant: dict[str, set[str]] = {}
    for s1, s2 in zip(positives["sentence1"], positives["sentence2"]):
        relevant.setdefault(query_ids[s1], set()).add(corpus_ids[s2])
    return InformationRetrievalEvaluator(
        {q: text for text, q in query_ids.items()},
        {d: text for text, d in corpus_ids.items()},
        relevant,
        mrr_at_k=[10],
        ndcg_at_k=[10],
        accuracy_at_k=[1, 10],
        precision_recall_at_k=[1, 10],
        map_at_k=[10],
        show_progress_bar=False,
        write_csv=False,
        name=name,
        score_functions={"cosine": util.cos_sim},
    )


def retrieval_metrics(model, frame: pd.DataFrame, name: str = "split") -> dict[str, float]:
    """MRR@10, Recall@1/10 and NDCG@10 of a bi-encoder on a split (`retrieval_evaluator`); empty without a
    positive pair."""
    evaluator = retrieval_evaluator(frame, name)
    if evaluator is None:
        return {}
    raw = evaluator(model)
    return {metric: float(raw[f"{name}_cosine_{metric}"]) for metric in RETRIEVAL_METRICS}


def positive_pairs_metrics(
    model, splits: dict[str, pd.DataFrame], scores: dict[str, np.ndarray]
) -> dict[str, dict[str, float]]:
    """Task positive_pairs: retrieval metrics on every split (`retrieval_metrics`); on a split with 0/1 labels also
    the classification metrics of the pair cosines `scores`, at the threshold chosen on dev when dev has both
    classes (else AP alone, which needs no threshold)."""
    dev = splits.get("dev")
    threshold = None
    if dev is not None and dev["label"].nunique() == 2:
        threshold = best_threshold(scores["dev"], dev["label"].to_numpy())
    out: dict[str, dict[str, float]] = {}
    for name, frame in splits.items():
        metrics = retrieval_metrics(model, frame, name)
        labels = frame["label"].to_numpy()
        if len(np.unique(labels)) == 2:
            if threshold is not None:
                metrics.update(classification_metrics(scores[name], labels, threshold))
            else:
                metrics["ap"] = average_precision(scores[name], labels)
        out[name] = metrics
    return out


def write_predictions(
    path: Path, splits: dict[str, pd.DataFrame], predictions: dict[str, dict[str, np.ndarray]]
) -> None:
    """predictions.csv: split, sentence1, sentence2, gold, then one score column per evaluated model."""
    parts = []
    for split, frame in splits.items():
        part = pd.DataFrame(
            {
                "split": split,
                "sentence1": frame["sentence1"].to_numpy(),
                "sentence2": frame["sentence2"].to_numpy(),
                "gold": frame["label"].to_numpy(),
            }
        )
        for model_key, per_split in predictions.items():
            if split in per_split:
                part[model_key] = per_split[split]
        parts.append(part)
    write_table(pd.concat(parts, ignore_index=True), path)


def headline(metrics: dict[str, dict[str, dict[str, float]]], task: str) -> dict[str, float]:
    """The primary test (else dev) metric of each model, e.g. {'augsbert.test.spearman': 0.84}."""
    primary = PRIMARY_METRIC[task]
    out = {}
    for model_key, per_split in model_metrics(metrics).items():
        split = "test" if "test" in per_split else next(iter(per_split), None)
        if split and primary in per_split[split]:
            out[f"{model_key}.{split}.{primary}"] = per_split[split][primary]
    return out
