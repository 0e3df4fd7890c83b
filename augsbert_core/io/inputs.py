"""Every data file an experiment names, loaded and checked once: the gold splits, the unlabeled pool, the
source-domain gold (scenario 3) and the full gold (the ceiling), with their fingerprints."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .. import choices
from ..augment import require_augment_extra
from ..config import ConfigError, ExperimentConfig, role_column_map
from . import data as data_mod
from .gold_review import apply_gold_review, read_gold_review
from .problems import DataError, Problem

# the fewest pairs a scored split (dev, test, source dev) may have: a correlation over fewer is undefined (with
# 2 it is +-1, and `recommended` falls back to the baseline: its paired bootstrap needs 3)
MIN_SCORED_PAIRS = 2
SCORED_SPLITS = ("dev", "test", "source_dev")


@dataclass
class LoadedData:
    """Every data file of an experiment, validated."""

    task: str
    train: pd.DataFrame | None
    dev: pd.DataFrame | None
    test: pd.DataFrame
    source_train: pd.DataFrame | None = None
    source_dev: pd.DataFrame | None = None
    pool: data_mod.SentencePool | None = None
    full_train: pd.DataFrame | None = None  # all available gold: the full-gold ceiling's training data
    fingerprints: dict[str, str] = field(default_factory=dict)
    scale: tuple[float, float] | None = None  # the gold's score scale (given or detected); None for 0/1 labels
    train_rows: np.ndarray | None = None  # 1-based data row in the train file of each train pair
    gold_review: dict[str, int] | None = None  # {'excluded': n, 'corrected': n} when data.gold_review was applied


def load_experiment_data(cfg: ExperimentConfig) -> LoadedData:
    """Load and validate every file named in the config (raises data.DataError on bad input)."""
    spec = cfg.scenario_spec
    if spec.augments:  # its libraries are an extra: said before any file is read (check and run alike)
        require_augment_extra()
    d = cfg.data
    scale = tuple(d.scale) if d.scale else None
    paths = {
        key: cfg.resolve_path(getattr(d, key))
        for key in ("train", "dev", "test", "unlabeled", "source_train", "source_dev", "full_train")
    }

    def pairs(key: str, task: str | None, on: tuple[float, float] | None = scale) -> pd.DataFrame | None:
        if paths[key] is None:
            return None
        return data_mod.load_pairs(paths[key], column_map=role_column_map(d, key), task=task, scale=on).frame

    first_key = "train" if spec.gold_train else "test"  # its labels give the task (when not set) and scale
    first = data_mod.load_pairs(paths[first_key], column_map=role_column_map(d, first_key), task=cfg.task, scale=scale)
    task = cfg.task or first.task
    if task == "positive_pairs" and cfg.task is None:  # detected: the task's own rules (scenario 2, ...) apply
        try:
            replace(cfg, task=task).validate()
        except ConfigError as exc:
            raise ConfigError(f"{paths[first_key]}: every pair is a positive (task positive_pairs): {exc}") from None
    loaded = LoadedData(
        task=task,
        scale=first.scale if task == "regression" else None,
        train=first.frame if first_key == "train" else None,
        train_rows=first.rows if first_key == "train" else None,
        dev=pairs("dev", task),
        test=first.frame if first_key == "test" else pairs("test", task),
    )
    review_path = cfg.resolve_path(d.gold_review)
    if review_path is not None and loaded.train is not None and loaded.train_rows is not None:
        loaded.train, loaded.train_rows, loaded.gold_review = apply_gold_review(
            loaded.train,
            loaded.train_rows,
            read_gold_review(review_path, must_exist=True),
            source=str(review_path),
            scale=loaded.scale,
            task=task,
            fingerprint=data_mod.fingerprint(paths["train"]),
        )
    if cfg.train_full_gold and spec.gold_train:
        loaded.full_train = pairs("full_train", task)
    if spec.source_domain:
        source_scale = tuple(d.source_scale) if d.source_scale else None  # the source domain's own scale
        loaded.source_train = pairs("source_train", None, source_scale)
        loaded.source_dev = pairs("source_dev", None, source_scale)
    if paths["unlabeled"] is not None and spec.labels:
        loaded.pool = data_mod.load_unlabeled(paths["unlabeled"], column_map=role_column_map(d, "unlabeled"))
        if d.max_unlabeled:
            loaded.pool = _subsample_pool(loaded.pool, d.max_unlabeled, cfg.seed)
        given_only = choices.candidate_source(cfg.candidates)
        if given_only.given and not given_only.samples and loaded.pool.pairs is None:  # else: after two trainings
            message = (
                "candidates: given labels this file's pairs as they are, but it holds sentences, one per row (no "
                "sentence1/sentence2 columns): give a file of pairs, or use candidates: auto (a sampler pairs them)"
            )
            raise DataError([Problem(str(paths["unlabeled"]), None, None, message)])
    check_scored_splits(loaded, paths)
    loaded.fingerprints = {key: data_mod.fingerprint(p) for key, p in paths.items() if p is not None}
    if loaded.gold_review is not None and review_path is not None and review_path.exists():
        loaded.fingerprints["gold_review"] = data_mod.fingerprint(review_path)
    return loaded


def check_scored_splits(loaded: LoadedData, paths: dict) -> None:
    """Refuse (DataError) a split that metrics are computed on when they would be undefined: fewer than
    MIN_SCORED_PAIRS pairs, every score equal (Spearman and Pearson undefined) or a single class (average precision
    and the F1 threshold undefined). Said before any training, by `check` and `run` alike."""
    for key in SCORED_SPLITS:
        frame = getattr(loaded, key, None)
        if frame is None or (loaded.task == "positive_pairs" and key != "source_dev"):
            continue
        file, what = str(paths[key]), f"the {key.replace('_', ' ')} split"
        if len(frame) < MIN_SCORED_PAIRS:
            message = (
                f"{what} has {len(frame)} pair{'s' if len(frame) != 1 else ''} after loading; its metrics need at "
                f"least {MIN_SCORED_PAIRS} (add pairs, or leave the file out where it is optional)"
            )
            raise DataError([Problem(file, None, None, message)])
        labels = frame["label"]
        if labels.nunique() >= 2:
            continue
        only = float(labels.iloc[0])
        if key == "source_dev" or loaded.task == "regression":
            lo, hi = loaded.scale if key != "source_dev" and loaded.scale else (0.0, 1.0)
            message = (
                f"every score in {what} is {lo + only * (hi - lo):g}: Spearman and Pearson are undefined on it, "
                "so no model could be compared on it; it needs pairs with different scores"
            )
        else:
            message = (
                f"every label in {what} is {int(only)}: average precision and the F1 threshold are undefined on "
                "it; it needs pairs of both classes"
            )
        raise DataError([Problem(file, None, None, message)])


def _subsample_pool(pool: data_mod.SentencePool, limit: int, seed: int) -> data_mod.SentencePool:
    rng = np.random.default_rng(seed)
    if pool.pairs is not None and len(pool.pairs) > limit:
        pairs = pool.pairs.iloc[np.sort(rng.choice(len(pool.pairs), limit, replace=False))].reset_index(drop=True)
        sentences = list(dict.fromkeys([*pairs["sentence1"], *pairs["sentence2"]]))
        return data_mod.SentencePool(sentences=sentences, pairs=pairs, source=pool.source)
    if len(pool.sentences) > limit:
        keep = np.sort(rng.choice(len(pool.sentences), limit, replace=False))
        return data_mod.SentencePool(sentences=[pool.sentences[i] for i in keep], pairs=None, source=pool.source)
    return pool
