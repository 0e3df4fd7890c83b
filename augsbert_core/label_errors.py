"""Suspect gold labels: cross-fitted teacher predictions on the gold train pairs, ranked by how far each label is
from the prediction of a teacher that never saw it.

The gold is split into k folds stratified by label; each fold's cross-encoder is trained on the other folds with
the teacher's own code and settings (`teacher.train_teacher`, epochs optionally capped) and scores the fold it did
not see, both orders averaged. A fresh-head cross-encoder (the offline default) first warm-starts, once, on the
zero-shot bi-encoder's cosine over the gold pairs and their BM25 neighbours (no labels, so nothing leaks across
folds). By default (`label_errors.predictor: teacher+zero_shot`) that out-of-fold score is stacked with the zero-shot
cosine by a fit on the other folds. A label far from its out-of-fold prediction is suspicious:
- classification: 1 - cleanlab's self-confidence label quality (`cleanlab.rank.get_label_quality_scores`), with
  pred_probs (1 - p, p) from the out-of-fold prediction;
- regression: a calibrated residual: an isotonic map from out-of-fold prediction to label (fitted on the other
  folds, so a flipped label cannot bend its own calibration), then |label - calibrated| divided by a robust
  spread (1.4826 x the median absolute deviation). docs/label-errors.md has the measurements behind these choices."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import stages
from .config import ExperimentConfig, ModelConfig
from .errors import ConfigError
from .evaluation import bi_encoder_scores
from .io.inputs import LoadedData
from .models import is_fresh_head_bi_encoder, load_student
from .runs.progress import CancelToken, ProgressEvent, ProgressSink, null_sink
from .silver import warm_start_pairs
from .teacher import label_pairs, resolve_teacher, train_teacher, warm_start_teacher

COLUMNS = ("rank", "row", "sentence1", "sentence2", "label", "oof_prediction", "suspicion", "teacher_prediction")
WARM_TOP_K = 3  # BM25 neighbours per gold sentence added to the warm start's pairs (measured: docs/label-errors.md)
REGRESSION_METHODS = ("isotonic", "cleanlab", "residual")
MIN_PAIRS_PER_FOLD = 2  # each fold must hold pairs to predict and leave pairs to train on


def fold_ids(labels: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """A fold (0..folds-1) per pair, stratified by label: pairs sorted by label (ties in random order) are dealt
    out in turn, so every fold spans the label range."""
    labels = np.asarray(labels, dtype=float)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(labels)), labels))
    start = rng.integers(folds)
    ids = np.empty(len(labels), dtype=np.int64)
    ids[order] = (np.arange(len(labels)) + start) % folds
    return ids


def check_folds(pairs: int, folds: int) -> None:
    """ConfigError naming label_errors.folds when `pairs` gold pairs cannot fill `folds` folds."""
    if folds < 2 or pairs < folds * MIN_PAIRS_PER_FOLD:
        raise ConfigError(
            f"label_errors.folds: {folds} folds need at least {max(folds, 2) * MIN_PAIRS_PER_FOLD} gold pairs, "
            f"the train file has {pairs}"
        )


def _relabel(sink: ProgressSink) -> ProgressSink:
    """A sink that reports the teacher code's own stages (warm start, training) as this step's training stage."""

    def forward(event: ProgressEvent) -> None:
        if event.stage != stages.LABEL_ERRORS:
            event = replace(event, stage=stages.LABEL_ERRORS_TRAIN)
        sink(event)

    return forward


def out_of_fold_predictions(
    gold: pd.DataFrame,
    teacher_cfg: ModelConfig,
    work_dir: str | Path,
    *,
    folds: int = 5,
    task: str = "regression",
    seed: int = 42,
    device: str | None = None,
    bi_encoder=None,
    warm_pairs: pd.DataFrame | None = None,
    batch_size: int = 64,
    sink: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """The score in [0, 1] of each gold pair by a cross-encoder trained on the other folds (both orders averaged).

    `teacher_cfg` is the teacher to cross-fit (its `model` resolved, `epochs` as each fold should train). With a
    `bi_encoder`, the base first warm-starts on its cosine over `warm_pairs` (default: the gold pairs; their labels
    are never used) with `teacher.warm_start_teacher`.
    Fold models are deleted once they have scored their fold; `work_dir` keeps only the warm start."""
    n = len(gold)
    check_folds(n, folds)
    work_dir = Path(work_dir)
    inner = _relabel(sink)
    base = teacher_cfg
    if bi_encoder is not None:
        pairs = gold if warm_pairs is None else warm_pairs
        sink(ProgressEvent(stages.LABEL_ERRORS, 0, folds, message=f"warm start on {len(pairs):,} pairs (no labels)"))
        warm_start_teacher(
            pairs, bi_encoder, teacher_cfg, work_dir / "warm", seed=seed, device=device, sink=inner, cancel=cancel
        )
        base = replace(teacher_cfg, model=str(work_dir / "warm"))
    base = replace(base, seed_trials=1)
    ids = fold_ids(gold["label"].to_numpy(), folds, seed)
    oof = np.full(n, np.nan, dtype=float)
    for k in range(folds):
        if cancel is not None:
            cancel.raise_if_cancelled("label-error ranking")
        held = ids == k
        folder = work_dir / f"fold{k + 1}"
        sink(
            ProgressEvent(
                stages.LABEL_ERRORS,
                k,
                folds,
                message=f"fold {k + 1} of {folds}: training on {int((~held).sum()):,} pairs, "
                f"predicting {int(held.sum()):,}",
            )
        )
        model = train_teacher(
            gold.loc[~held].reset_index(drop=True),
            base,
            folder,
            seed=seed + k,
            device=device,
            task=task,
            sink=inner,
            cancel=cancel,
            stage=stages.LABEL_ERRORS_TRAIN,
        )
        part = gold.loc[held]
        oof[held] = label_pairs(
            model, part["sentence1"], part["sentence2"], batch_size=batch_size, stage=stages.LABEL_ERRORS_TRAIN
        )
        del model
        shutil.rmtree(folder, ignore_errors=True)
        sink(ProgressEvent(stages.LABEL_ERRORS, k + 1, folds))
    return oof


def suspicion_scores(
    labels: np.ndarray, oof: np.ndarray, task: str, *, method: str = "isotonic", folds: np.ndarray | None = None
) -> np.ndarray:
    """How suspicious each label is given its out-of-fold prediction (higher = more suspicious).

    classification: 1 - cleanlab self-confidence. regression `method`: 'isotonic' (calibrated residual over a
    robust spread; the calibration of a pair is fitted on the other folds when `folds` is given), 'cleanlab'
    (1 - cleanlab.regression's OUTRE quality) or 'residual' (plain |label - prediction|)."""
    labels, oof = np.asarray(labels, dtype=float), np.asarray(oof, dtype=float)
    if task == "classification":
        from cleanlab.rank import get_label_quality_scores  # noqa: PLC0415 - loads sklearn; only this step needs it

        p = np.clip(oof, 1e-6, 1 - 1e-6)
        quality = get_label_quality_scores(labels.astype(int), np.column_stack([1 - p, p]), method="self_confidence")
        return 1.0 - np.asarray(quality, dtype=float)
    if method == "residual":
        return np.abs(labels - oof)
    if method == "cleanlab":
        from cleanlab.regression.rank import get_label_quality_scores as regression_quality  # noqa: PLC0415 - loads sklearn; only this step needs it

        return 1.0 - np.asarray(regression_quality(labels, oof), dtype=float)
    if method != "isotonic":
        raise ValueError(f"unknown regression method {method!r}; one of {', '.join(REGRESSION_METHODS)}")
    calibrated = _calibrated(labels, oof, folds)
    residual = labels - calibrated
    spread = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    return np.abs(residual) / max(spread, 1e-6)


def _calibrated(labels: np.ndarray, oof: np.ndarray, folds: np.ndarray | None) -> np.ndarray:
    """Isotonic map from prediction to label; per fold fitted on the other folds when `folds` is given."""
    from sklearn.isotonic import IsotonicRegression  # noqa: PLC0415 - sklearn is slow to import; only this step

    def fit(mask: np.ndarray) -> IsotonicRegression:
        return IsotonicRegression(out_of_bounds="clip").fit(oof[mask], labels[mask])

    if folds is None or len(np.unique(folds)) < 2:
        return fit(np.ones(len(labels), dtype=bool)).predict(oof)
    out = np.empty(len(labels), dtype=float)
    for k in np.unique(folds):
        held = folds == k
        out[held] = fit(~held).predict(oof[held])
    return out


def stacked_prediction(
    oof: np.ndarray, cosine: np.ndarray, labels: np.ndarray, folds: np.ndarray, task: str = "regression"
) -> np.ndarray:
    """The out-of-fold teacher score and the zero-shot bi-encoder's cosine (which saw no label) combined by a fit to
    the labels on the other folds, per fold (linear; logistic for 0/1 labels): still out-of-fold, and close to the
    better witness when the fold teachers are weak (little gold)."""
    from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: PLC0415 - slow to import; only here
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415 - as above
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415 - as above

    features = np.column_stack([oof, cosine]).astype(float)
    out = np.empty(len(labels), dtype=float)
    for k in np.unique(folds):
        held, rest = folds == k, folds != k
        if task == "classification" and len(np.unique(labels[rest])) == 2:
            fit = make_pipeline(StandardScaler(), LogisticRegression()).fit(features[rest], labels[rest].astype(int))
            out[held] = fit.predict_proba(features[held])[:, 1]
        else:
            out[held] = LinearRegression().fit(features[rest], labels[rest]).predict(features[held])
    return np.clip(out, 0.0, 1.0)


def rank_label_errors(
    gold: pd.DataFrame,
    oof: np.ndarray,
    task: str,
    *,
    rows: np.ndarray | None = None,
    scale: tuple[float, float] | None = None,
    folds: np.ndarray | None = None,
    method: str = "isotonic",
    teacher: np.ndarray | None = None,
) -> pd.DataFrame:
    """The table of label_errors.csv, most suspicious first: rank, row (1-based, as in the train file), sentence1,
    sentence2, label and oof_prediction (on the file's `scale` when given, e.g. 0-5), suspicion, and
    teacher_prediction (the fold teacher's own score, when `oof` combines it with another witness)."""
    labels = gold["label"].to_numpy(dtype=float)
    suspicion = suspicion_scores(labels, oof, task, method=method, folds=folds)
    low, high = scale if scale is not None and task == "regression" else (0.0, 1.0)
    table = pd.DataFrame(
        {
            "row": np.asarray(rows) if rows is not None else np.arange(1, len(gold) + 1),
            "sentence1": gold["sentence1"].to_numpy(),
            "sentence2": gold["sentence2"].to_numpy(),
            "label": low + labels * (high - low),
            "oof_prediction": low + np.asarray(oof, dtype=float) * (high - low),
            "suspicion": suspicion,
            "teacher_prediction": low + np.asarray(oof if teacher is None else teacher, dtype=float) * (high - low),
        }
    )
    table = table.sort_values(["suspicion", "row"], ascending=[False, True], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    if task == "classification":
        table["label"] = table["label"].round().astype(int)
    return table[list(COLUMNS)]


def fold_teacher(cfg: ExperimentConfig, device: str) -> tuple[ModelConfig, bool]:
    """The teacher each fold trains (the run's teacher, `label_errors.epochs` when set) and whether to warm-start it
    first (`label_errors.warm_start`; auto = when the teacher's base is a bi-encoder with a fresh head)."""
    teacher, _ = resolve_teacher(cfg.teacher, device)
    epochs = cfg.label_errors.epochs or teacher.epochs or 1
    mode = cfg.label_errors.warm_start
    fresh_head = teacher.warm_start != "off" and is_fresh_head_bi_encoder(teacher.model)
    warm = mode == "on" or (mode != "off" and fresh_head)  # auto: as the teacher's base needs
    return replace(teacher, epochs=epochs), warm


def find_label_errors(
    cfg: ExperimentConfig,
    data: LoadedData,
    work_dir: str | Path,
    *,
    device: str,
    bi_encoder=None,
    sink: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """The label_errors.csv table for the experiment's gold train pairs (scenarios 1 and 2). `bi_encoder`: the
    zero-shot student (loaded from `cfg.student` when needed and not given)."""
    if data.train is None:
        raise ConfigError("label_errors: needs gold train pairs (data.train, scenarios 1 and 2)")
    teacher, warm = fold_teacher(cfg, device)
    settings = cfg.label_errors
    check_folds(len(data.train), settings.folds)  # before any model loads
    stacked = settings.predictor == "teacher+zero_shot"
    what = (
        f"{settings.folds} cross-fitted {teacher.model} teachers on {len(data.train):,} gold pairs, "
        f"{teacher.epochs:g} epoch(s) each"
        + (", from a warm start on the zero-shot cosine" if warm else "")
        + (", stacked with the zero-shot cosine" if stacked else "")
    )
    sink(ProgressEvent(stages.LABEL_ERRORS, message=what))
    if log is not None:
        log(what)
    if (warm or stacked) and bi_encoder is None:
        bi_encoder = load_student(cfg.student, device=device)
    gold = data.train
    warm_pairs = warm_start_pairs(gold, WARM_TOP_K, None, bi_encoder, cfg.seed) if warm else None
    oof = out_of_fold_predictions(
        gold,
        teacher,
        work_dir,
        folds=settings.folds,
        task=data.task,
        seed=cfg.seed,
        device=device,
        bi_encoder=bi_encoder if warm else None,
        warm_pairs=warm_pairs,
        batch_size=cfg.label_batch_size,
        sink=sink,
        cancel=cancel,
    )
    labels = gold["label"].to_numpy(dtype=float)
    ids = fold_ids(labels, settings.folds, cfg.seed)
    prediction = oof
    if stacked:
        cosine = bi_encoder_scores(bi_encoder, list(gold["sentence1"]), list(gold["sentence2"]))
        prediction = stacked_prediction(oof, cosine, labels, ids, data.task)
    return rank_label_errors(
        gold, prediction, data.task, rows=data.train_rows, scale=data.scale, folds=ids, teacher=oof
    )
