"""The silver stages: candidate pairs (sampled before the teacher, which warm-starts on them), the teacher's
labels with the labeler choice (probes on dev) and the sampler's selection, and scenario 1's augmented copies."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from .. import choices, stages
from ..augment import augment_pairs
from ..distributions import distribution_distance
from ..evaluation import best_threshold
from ..io import data as data_mod
from ..runs import RunFiles
from ..runs.progress import ProgressEvent
from ..sampling import achieved_shares
from ..silver import Labeler, cap_before_labeling, given_silver, kept_mask, make_candidates
from ..teacher.probe import PROBE_FRACTION, probe_labelers
from .context import Stage

PAIR_COLUMNS = ["sentence1", "sentence2", "label"]


class CandidatesStage(Stage):
    """Candidate pairs for silver labels, capped before labeling (candidates.csv, read back by a resumed run)."""

    key = "candidates"
    writes = (RunFiles.CANDIDATES,)

    def __call__(self) -> pd.DataFrame:
        ctx = self.ctx
        path = ctx.run.path(RunFiles.CANDIDATES)
        if self.done and path.is_file():
            return ctx.read_pairs(RunFiles.CANDIDATES)
        t0 = time.time()
        candidates = make_candidates(ctx.cfg, ctx.data, ctx.base, ctx.report)
        ctx.cancel.raise_if_cancelled("sampling")
        candidates = cap_before_labeling(candidates, ctx.cfg)
        data_mod.write_table(candidates, path)
        ctx.finish(self.key, t0)
        return candidates


class AugmentStage(Stage):
    """Scenario 1: augmented copies of the gold pairs, each keeping its gold label (augmented.csv)."""

    key = "augment"
    writes = (RunFiles.AUGMENTED,)

    def __call__(self) -> pd.DataFrame:
        ctx = self.ctx
        path = ctx.run.path(RunFiles.AUGMENTED)
        if self.done:
            return data_mod.read_table(path).astype({"label": float})[PAIR_COLUMNS]
        t0, a, train = time.time(), ctx.cfg.augment, ctx.data.train
        ctx.report.stage(stages.AUGMENT, f"{a.method}: {a.copies} copies of {len(train):,} gold pairs")
        augmented = augment_pairs(
            train,
            a,
            progress=lambda done, total: ctx.report(ProgressEvent(stages.AUGMENT, done, total)),
            seed=ctx.cfg.seed,
            device=ctx.cfg.device,
        )
        data_mod.write_table(augmented, path)
        ctx.report.stage(stages.AUGMENT, f"{len(augmented):,} augmented pairs")
        ctx.finish(self.key, t0)
        return augmented[PAIR_COLUMNS]


class SilverStage(Stage):
    """The teacher scores the candidates; the labeler (cross-encoder or ensemble) is chosen, by short student probes
    on dev when both may label (probe.json); the sampler keeps its pairs (silver.csv, silver_summary.json). The
    labeling decision is this stage's: it sets the ensemble's `used` and the gate's `labeler` fields."""

    key = "silver"
    reads = (RunFiles.CANDIDATES, RunFiles.ENSEMBLE, RunFiles.GATE)
    writes = (RunFiles.SILVER, RunFiles.SILVER_SUMMARY, RunFiles.PROBE, RunFiles.RAY)  # ray: the engine's shards

    def __call__(self, teacher: Labeler | None, candidates: pd.DataFrame | None) -> pd.DataFrame:
        """Every candidate with its silver label and a `kept` flag."""
        ctx = self.ctx
        if self.done:
            return ctx.read_pairs(RunFiles.SILVER).astype({"kept": bool})
        t0 = time.time()
        if ctx.cfg.silver_file:
            silver = given_silver(ctx.cfg, ctx.task, ctx.run, ctx.report)
        else:
            silver = self._label(teacher, candidates)
        ctx.finish(self.key, t0)
        return silver

    def _label(self, teacher: Labeler, candidates: pd.DataFrame) -> pd.DataFrame:
        """Teacher scores -> labeler choice -> (threshold) -> KDE / cap."""
        ctx = self.ctx
        cfg, task = ctx.cfg, ctx.task
        ctx.report.stage(
            stages.LABEL,
            f"teacher labels {len(candidates):,} pairs (both orders averaged)"
            + (" and the ensemble" if teacher.ensemble is not None else "")
            + (" on Ray" if cfg.engine_spec.cluster else ""),
        )
        scores = teacher.score(candidates["sentence1"], candidates["sentence2"], sink=ctx.report, cancel=ctx.cancel)
        silver = candidates.assign(**{k: v for k, v in scores.items() if k != "score"})
        options = {"cross_encoder": scores["score_cross_encoder"]}
        if "score_ensemble" in scores:
            options["ensemble"] = scores["score_ensemble"]
        thresholds = self._thresholds(teacher, list(options)) if task == "classification" else {}
        labels = {
            name: (v >= thresholds[name]).astype(int) if task == "classification" else v.astype(float)
            for name, v in options.items()
        }
        chosen, why = self._choose_labeler(silver, labels, teacher.use)
        silver["score"] = options[chosen]
        silver["label"] = labels[chosen]
        gold_labels = ctx.data.train if ctx.data.train is not None else ctx.data.dev
        kept = kept_mask(silver["score" if task == "regression" else "label"].to_numpy(), gold_labels, cfg)
        silver["kept"] = kept
        data_mod.write_table(silver, ctx.run.path(RunFiles.SILVER))
        threshold = thresholds.get(chosen)
        ctx.run.write_json(RunFiles.SILVER_SUMMARY, self._summary(silver, chosen, why, threshold, gold_labels))
        ctx.report.stage(
            stages.LABEL,
            f"{int(kept.sum()):,} silver pairs kept of {len(silver):,}, labeled by the "
            f"{chosen.replace('_', '-')} ({why})" + (f"; threshold {threshold:.3f}" if threshold is not None else ""),
        )
        return silver

    def _summary(self, silver: pd.DataFrame, chosen: str, why: str, threshold, gold_labels) -> dict:
        ctx = self.ctx
        cfg, kept = ctx.cfg, silver["kept"].to_numpy()
        summary = {
            "candidates": int(len(silver)),
            "kept": int(kept.sum()),
            "threshold": threshold,
            "by_sampler": silver.groupby("sampler").size().to_dict(),
            "labeler": chosen,
            "labeler_why": why,
            "engine": cfg.engine,
            # what `candidates` and `max_silver` (auto: the student kind's budget) resolved to for this data
            "candidates_source": cfg.candidate_source(ctx.data.pool is not None and ctx.data.pool.pairs is not None),
            "silver_cap": cfg.silver_cap,
        }
        if cfg.sampler_mixed:  # the mix asked for and the shares of the kept silver (each pair by its search)
            summary["sampler_shares"] = {
                "requested": cfg.sampler_shares,
                "achieved": achieved_shares(silver.loc[kept, "sampler"], cfg.sampler_shares),
            }
        if gold_labels is not None and len(silver):
            summary["ks_all_vs_gold"] = distribution_distance(silver["label"], gold_labels["label"])
            summary["ks_kept_vs_gold"] = distribution_distance(silver.loc[kept, "label"], gold_labels["label"])
        return summary

    def _thresholds(self, teacher: Labeler, labelers: list[str]) -> dict[str, float]:
        """Classification threshold per labeler's scores: given, else chosen on the labeled dev set, else 0.5."""
        cfg, dev = self.ctx.cfg, self.ctx.data.dev
        if cfg.threshold is not None:
            return dict.fromkeys(labelers, cfg.threshold)
        if dev is not None and len(dev) >= 2 and dev["label"].nunique() == 2:
            scores = teacher.score(dev["sentence1"], dev["sentence2"])  # once for every labeler
            return {name: best_threshold(scores[f"score_{name}"], dev["label"].to_numpy()) for name in labelers}
        return dict.fromkeys(labelers, 0.5)

    def _choose_labeler(self, silver: pd.DataFrame, labels: dict[str, np.ndarray], default: str) -> tuple[str, str]:
        """Which labels become silver, and why. With `labeler: auto` and a choice to make, short student probes on
        dev decide (probe.json). The decision is this stage's: silver_summary.json `labeler` (the ensemble and gate
        stages' files keep what they decided before it)."""
        ctx = self.ctx
        cfg, splits = ctx.cfg, ctx.splits
        if len(labels) == 1:
            only = next(iter(labels))
            configured = choices.LABELERS[cfg.labeler]
            return only, (cfg.labeling.why if configured is choices.labeler(only) else "the only labeler")
        if not ctx.probe_wanted() or "dev" not in splits or len(silver) < 2:
            return default, cfg.labeling.why
        ctx.report.stage(
            stages.PROBE,
            f"choosing the silver labels by short student probes on dev "
            f"({len(labels)} labelers, {100 * PROBE_FRACTION:.0f}% of the schedule each)",
        )
        chosen, probe = probe_labelers(
            ctx.data.train if cfg.scenario_spec.student_gold else None,
            silver,
            labels,
            cfg.student,
            splits["dev"],
            ctx.task,
            ctx.models_dir / ".probe",
            seed=cfg.seed,
            device=ctx.device,
            sink=ctx.report,
            cancel=ctx.cancel,
        )
        ctx.run.write_json(RunFiles.PROBE, probe)
        trials = ", ".join(f"{t['labeler'].replace('_', '-')} {100 * t['dev']:.2f}" for t in probe["trials"])
        return chosen, probe.get("why") or f"best probe student on dev: {trials}"
