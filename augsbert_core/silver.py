"""Silver-making: candidate pairs (given unlabeled pairs, sampled pairs or both), the teacher's warm-start pairs,
the labeler (cross-encoder, or its ensemble with a bi-encoder), which labels are kept (KDE, cap), silver pairs
from a file, and the streaming candidates -> labels writer for pools too large for memory."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import choices, stages
from .atomic import atomic_path
from .config import ExperimentConfig
from .errors import ConfigError
from .evaluation import bi_encoder_scores
from .io import data as data_mod
from .io.inputs import LoadedData
from .runs import Run, RunFiles
from .runs.progress import CancelToken, ProgressEvent, ProgressSink, null_sink
from .sampling import SearchBlocks, iter_candidate_chunks, sample_candidates, sample_mixed_candidates
from .teacher import LabelCache, PairScorer, iter_labeled_chunks, label_pairs
from .teacher.ensemble import TeacherEnsemble


@dataclass
class Labeler:
    """Scores pairs for silver labels: the cross-encoder, and the ensemble of it and a bi-encoder when fitted.

    `use` names the labels that become the silver `score` ('cross_encoder' or 'ensemble')."""

    cross_encoder: Any
    cache: LabelCache | None = None
    batch_size: int = 64
    ensemble: TeacherEnsemble | None = None
    bi_encoder: Any = None
    use: str = "cross_encoder"
    memo: dict | None = None  # the bi-encoder's sentence embeddings (see evaluation.bi_encoder_scores)
    scorer: PairScorer | None = None  # where the cross-encoder scores pairs: None = here (engine: ray: RayScorer)

    def score(
        self, sentences1, sentences2, *, sink: ProgressSink = null_sink, cancel: CancelToken | None = None
    ) -> dict[str, np.ndarray]:
        """{'score': the chosen labeler's score in [0, 1], 'score_cross_encoder': ...} plus, with an ensemble,
        'score_bi_encoder' and 'score_ensemble'."""
        ce = label_pairs(
            self.cross_encoder,
            sentences1,
            sentences2,
            batch_size=self.batch_size,
            sink=sink,
            cancel=cancel,
            cache=self.cache,
            scorer=self.scorer,
        )
        if self.ensemble is None:
            return {"score": ce, "score_cross_encoder": ce}
        bi = bi_encoder_scores(self.bi_encoder, list(sentences1), list(sentences2), memo=self.memo)
        mixed = self.ensemble(ce, bi)
        return {
            "score": mixed if choices.labeler(self.use) is choices.ENSEMBLE else ce,
            "score_cross_encoder": ce,
            "score_bi_encoder": bi.astype(np.float32),
            "score_ensemble": mixed,
        }


def search_blocks(cfg: ExperimentConfig) -> SearchBlocks | None:
    """Where the samplers' search blocks run: here (None), or as tasks on the Ray cluster of `engine: ray`."""
    if not cfg.engine_spec.cluster:
        return None
    from .ray_engine import cluster_search_blocks  # noqa: PLC0415 - optional extra (ray); only engine: ray needs it

    return cluster_search_blocks(cfg.ray.address, cfg.ray.workers)


def ray_scorer(
    cfg: ExperimentConfig, teacher_dir: str | Path, work_dir: str | Path, *, trust_remote_code: bool = False
) -> PairScorer | None:
    """The teacher's scorer for `engine: ray` (None: score here), labeling shards under `work_dir`."""
    if not cfg.engine_spec.cluster:
        return None
    from .ray_engine import RayScorer  # noqa: PLC0415 - optional extra (ray); only engine: ray needs it

    return RayScorer(
        teacher_dir,
        work_dir,
        batch_size=cfg.label_batch_size,
        address=cfg.ray.address,
        workers=cfg.ray.workers,
        gpus_per_worker=cfg.ray.gpus_per_worker,
        shard_size=cfg.ray.shard_size,
        trust_remote_code=trust_remote_code,
    )


def make_candidates(cfg: ExperimentConfig, data: LoadedData, base, report: ProgressSink = null_sink) -> pd.DataFrame:
    """Candidate pairs (sentence1, sentence2, sampler): the unlabeled file's pairs as they are, pairs sampled from
    the gold and unlabeled sentences, or both (`cfg.candidates`). Gold pairs and self-pairs are left out."""
    pool = data.pool
    has_pairs = pool is not None and pool.pairs is not None
    source = cfg.candidates_spec(has_pairs)
    if source.given and not has_pairs:
        raise ConfigError(
            f"candidates: {source.name} needs unlabeled pairs (data.unlabeled with two sentence columns); "
            "the unlabeled file has sentences only: use candidates: sampled"
        )
    parts = []
    if source.given:
        given = pool.pairs[["sentence1", "sentence2"]].assign(sampler=choices.GIVEN)
        given = _without_gold(given, data.train)
        _stage(report, stages.SAMPLE_GIVEN, f"{len(given):,} given unlabeled pairs")
        parts.append(given)
    if source.samples:
        sentences = list(data.train["sentence1"]) + list(data.train["sentence2"]) if data.train is not None else []
        sentences += pool.sentences if pool is not None else []
        _stage(
            report,
            stages.SAMPLE,
            f"{cfg.sampler_label} over {len(dict.fromkeys(sentences)):,} sentences, top_k={cfg.top_k}",
        )
        if cfg.sampler_mixed:  # given pairs are left out before the draw, so the shares hold over what is sampled
            known = [f[["sentence1", "sentence2"]] for f in (data.train, *parts) if f is not None]
            sampled = sample_mixed_candidates(
                sentences,
                cfg.sampler_shares,
                cfg.top_k,
                cap=cfg.silver_cap,
                gold=pd.concat(known, ignore_index=True) if known else None,
                model=base,
                seed=cfg.seed,
                hnsw_threshold=cfg.hnsw_threshold,
                sink=report,
                chunk_size=cfg.sample_block_size,
                search_blocks=search_blocks(cfg),
                bm25_max_df=cfg.bm25_max_df,
            )
        else:
            sampled = sample_candidates(
                sentences,
                cfg.sampler,
                cfg.top_k,
                gold=data.train,
                model=base,
                seed=cfg.seed,
                hnsw_threshold=cfg.hnsw_threshold,
                sink=report,
                chunk_size=cfg.sample_block_size,
                search_blocks=search_blocks(cfg),
                bm25_max_df=cfg.bm25_max_df,
            )
        parts.append(sampled)
    candidates = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if len(parts) > 1:  # a sampled pair that is also given counts once (as given)
        candidates = candidates[~_pair_keys(candidates).duplicated().to_numpy()].reset_index(drop=True)
    return candidates


def warm_start_pairs(
    candidates: pd.DataFrame, top_k: int, gold: pd.DataFrame | None, base, seed: int, bm25_max_df: int | None = None
) -> pd.DataFrame:
    """The candidates plus each candidate sentence's `top_k` BM25 neighbours (gold pairs left out; `bm25_max_df`: the
    pruned search), each unordered pair once: the teacher's warm-start pairs. The neighbours are never labeled as
    silver."""
    pairs = candidates[["sentence1", "sentence2"]]
    if top_k > 0 and len(pairs):
        sentences = list(dict.fromkeys([*pairs["sentence1"], *pairs["sentence2"]]))
        extra = sample_candidates(sentences, "bm25", top_k, gold=gold, model=base, seed=seed, bm25_max_df=bm25_max_df)
        pairs = pd.concat([pairs, extra[["sentence1", "sentence2"]]], ignore_index=True)
    return pairs[~_pair_keys(pairs).duplicated().to_numpy()].reset_index(drop=True)


def _pair_keys(pairs: pd.DataFrame) -> pd.Series:
    """One key per unordered pair (the same for both orders), aligned with `pairs`' index."""
    return pd.Series([tuple(sorted(p)) for p in zip(pairs["sentence1"], pairs["sentence2"])], index=pairs.index)


def _stage(report: ProgressSink, stage: str, message: str) -> None:
    stage_fn = getattr(report, "stage", None)
    if stage_fn is not None:
        stage_fn(stage, message)
    else:
        report(ProgressEvent(stage, message=message))


def _without_gold(pairs: pd.DataFrame, gold: pd.DataFrame | None) -> pd.DataFrame:
    """`pairs` less self-pairs, repeats (either order) and pairs that are gold pairs (either order)."""
    key = _pair_keys(pairs)
    keep = (pairs["sentence1"] != pairs["sentence2"]) & ~key.duplicated()
    if gold is not None:
        keep &= ~key.isin(set(_pair_keys(gold)))
    return pairs[keep].reset_index(drop=True)


def cap_before_labeling(candidates: pd.DataFrame, cfg: ExperimentConfig) -> pd.DataFrame:
    """With `max_silver` (or the student kind's budget), label only what can be kept: `max_silver` candidates
    (twice that for KDE, which then keeps the pairs that match the gold label distribution). The unlabeled file's
    own pairs come first (sampled pairs top them up), the rest is drawn at random with the seed; a cap below the
    given pairs draws among them. Paying the teacher only for pairs that can be kept."""
    limit = cfg.silver_cap * cfg.sampler_spec.label_factor if cfg.silver_cap else None
    if limit is None or len(candidates) <= limit:
        return candidates
    rng = np.random.default_rng(cfg.seed)
    given = (
        np.flatnonzero(candidates["sampler"].to_numpy() == choices.GIVEN) if "sampler" in candidates else np.array([])
    )
    if len(given) >= limit:
        keep = rng.choice(given, limit, replace=False)
    else:
        others = np.setdiff1d(np.arange(len(candidates)), given)
        keep = np.concatenate([given, rng.choice(others, limit - len(given), replace=False)])
    return candidates.iloc[np.sort(keep)].reset_index(drop=True)


def given_silver(cfg: ExperimentConfig, task: str, run: Run, report: ProgressSink) -> pd.DataFrame:
    """Silver pairs from `cfg.silver_file` (e.g. a reviewed silver set): labels already 0..1 or 0/1."""
    path = cfg.resolve_path(cfg.silver_file)
    pairs = data_mod.load_pairs(path, task=task, scale=(0.0, 1.0) if task == "regression" else None).frame
    silver = pairs.assign(sampler="given", score=pairs["label"].astype(float), kept=True)
    data_mod.write_table(silver, run.path(RunFiles.SILVER))
    run.write_json(
        RunFiles.SILVER_SUMMARY,
        {"candidates": len(silver), "kept": len(silver), "threshold": None, "source": str(path)},
    )
    _stage(report, stages.LABEL, f"{len(silver):,} silver pairs from {path.name}")
    return silver


def kept_mask(values: np.ndarray, gold: pd.DataFrame | None, cfg: ExperimentConfig) -> np.ndarray:
    """Which labeled candidates become silver: all of them; with the KDE sampler those whose label distribution
    matches the gold's (`values` are the silver scores or labels); then at most `max_silver`, drawn at random."""
    kept = np.ones(len(values), dtype=bool)
    select = cfg.sampler_spec.select
    if select is not None and gold is not None:
        kept[:] = False
        kept[select(values, gold["label"].to_numpy(), cfg.seed)] = True
    if cfg.silver_cap and kept.sum() > cfg.silver_cap:
        chosen = np.random.default_rng(cfg.seed).choice(np.flatnonzero(kept), cfg.silver_cap, replace=False)
        kept[:] = False
        kept[chosen] = True
    return kept


def stream_silver(
    sentences: list[str],
    sampler: str,
    top_k: int,
    teacher,
    out: str | Path,
    *,
    gold: pd.DataFrame | None = None,
    model=None,
    seed: int = 42,
    hnsw_threshold: int = 50_000,
    chunk_size: int = 50_000,
    batch_size: int = 64,
    backend: str = "torch",  # or "onnx" (teacher.label_pairs)
    devices: list[str] | None = None,
    sink: ProgressSink = null_sink,
    bm25_max_df: int | None = None,
) -> int:
    """Candidates -> teacher labels -> CSV, chunk by chunk, for pools too large to hold in memory: `out` gets
    columns sentence1, sentence2, sampler, score and appears only when complete. Returns the pairs written."""
    total = 0
    with atomic_path(out) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sentence1", "sentence2", "sampler", "score"])
        chunks = iter_candidate_chunks(
            sentences,
            sampler,
            top_k,
            gold=gold,
            model=model,
            seed=seed,
            hnsw_threshold=hnsw_threshold,
            chunk_size=chunk_size,
            sink=sink,
            bm25_max_df=bm25_max_df,
        )
        labeled = iter_labeled_chunks(teacher, chunks, batch_size=batch_size, backend=backend, devices=devices)
        for i, frame in enumerate(labeled):
            writer.writerows(frame[["sentence1", "sentence2", "sampler", "score"]].itertuples(index=False))
            handle.flush()
            total += len(frame)
            _stage(sink, stages.LABEL, f"chunk {i + 1}: {len(frame):,} pairs labeled ({total:,} so far)")
    return total
