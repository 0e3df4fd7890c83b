"""Task positive_pairs (mining.py): hard negatives mined for the gold positives, a binary teacher trained on them
that checks the mined negatives and labels the sampled candidates, and the AugSBERT student's rows."""

from __future__ import annotations

import time

import pandas as pd

from .. import registry, stages
from ..evaluation import best_threshold
from ..io import data as data_mod
from ..mining import (
    check_report,
    check_silver,
    mine_negatives,
    mined_candidates,
    mining_corpus,
    student_pairs,
    teacher_pairs,
)
from ..models import load_cross_encoder
from ..runs import RunFiles
from ..silver import cap_before_labeling, make_candidates
from ..student import default_loss
from ..teacher import evaluate_cross_encoder, fit_teacher, label_pairs
from .context import Stage, fmt
from .teacher import WarmStartStage


class PositivePairsStage(Stage):
    """Mine (mined.csv, mining.json), sample (candidates.csv), train and evaluate the binary teacher, then let it
    score every mined negative and sampled pair (silver.csv, silver_summary.json). Each part is done once: a
    resumed run reads back what an earlier attempt finished (state `candidates`, `teacher`, `silver`)."""

    key = "silver"
    writes = (
        RunFiles.MINED,
        RunFiles.MINING,
        RunFiles.CANDIDATES,
        RunFiles.SILVER,
        RunFiles.SILVER_SUMMARY,
        RunFiles.TRIPLETS,
        RunFiles.MODELS,
    )

    def __call__(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(the student's training rows, the kept silver pairs); triplets.csv for a positives-only loss."""
        ctx = self.ctx
        cfg, train = ctx.cfg, ctx.data.train
        corpus = mining_corpus(train, ctx.data.pool)
        if self.done:
            silver = ctx.read_pairs(RunFiles.SILVER).astype({"kept": bool})
        else:
            mined, sampled, info = self._mine_and_sample(corpus)
            ctx.cancel.raise_if_cancelled("mining")
            teacher = self._teacher(mined, sampled)
            silver = self._label(teacher, mined, sampled, info)
        loss = cfg.student.loss or default_loss("positive_pairs")
        rows = student_pairs(train, silver, loss, corpus, cfg.seed)
        if registry.loss(loss).positives_only:
            data_mod.write_table(rows, ctx.run.path(RunFiles.TRIPLETS))
        return rows, silver[silver["kept"]]

    @property
    def positives(self) -> pd.DataFrame:
        return self.ctx.data.train[self.ctx.data.train["label"] == 1]

    @property
    def labeled(self) -> dict[str, pd.DataFrame]:
        """The evaluation splits with 0/1 labels."""
        return {name: f for name, f in self.ctx.splits.items() if f["label"].nunique() == 2}

    def _mine_and_sample(self, corpus: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
        ctx = self.ctx
        cfg, report = ctx.cfg, ctx.report
        mined_path, sampled_path = ctx.run.path(RunFiles.MINED), ctx.run.path(RunFiles.CANDIDATES)
        if ctx.done("candidates") and mined_path.is_file() and sampled_path.is_file():
            mined = pd.read_csv(mined_path, keep_default_na=False, dtype=str).astype(
                {"cosine": float, "positive_cosine": float, "rank": int}
            )
            return mined, ctx.read_pairs(RunFiles.CANDIDATES), ctx.run.read_json(RunFiles.MINING, {})
        t0, positives = time.time(), self.positives
        report.stage(
            stages.MINE, f"mining hard negatives for {len(positives):,} gold positives among {len(corpus):,} sentences"
        )
        mined, info = mine_negatives(positives, corpus, ctx.base, cfg.mining, batch_size=cfg.label_batch_size)
        data_mod.write_table(mined, mined_path)
        ctx.run.write_json(RunFiles.MINING, info)
        report.stage(
            stages.MINE,
            f"{info['mined']:,} negatives mined ({info['for_teacher']:,} train the teacher, {info['held_out']:,} "
            f"held out); {info['anchors_without_negatives']} anchors without one",
        )
        sampled = cap_before_labeling(make_candidates(cfg, ctx.data, ctx.base, report), cfg)
        data_mod.write_table(sampled, sampled_path)
        ctx.finish("candidates", t0)
        return mined, sampled, info

    def _teacher(self, mined: pd.DataFrame, sampled: pd.DataFrame):
        """The binary cross-encoder (state `teacher`), warm-started as in scenario 2 when wanted."""
        ctx = self.ctx
        if ctx.done("teacher"):
            remote = ctx.teacher_cfg.trust_remote_code
            return load_cross_encoder(str(ctx.models_dir / "teacher"), device=ctx.device, trust_remote_code=remote)
        t1, labeled = time.time(), self.labeled
        gold = teacher_pairs(ctx.data.train, mined)
        pairs = pd.concat([mined_candidates(mined), sampled], ignore_index=True)[["sentence1", "sentence2"]]
        teacher_cfg, warm = WarmStartStage(ctx).warmed(pairs, labeled, "classification")
        warm_note = ", warm-started" if warm is not None else ""
        positives, negatives = int(gold["label"].sum()), int((gold["label"] == 0).sum())
        ctx.report.stage(
            stages.TEACHER_TRAIN,
            f"training the binary cross-encoder teacher{warm_note} on {positives:,} positives and "
            f"{negatives:,} negatives (both orders)",
        )
        teacher, _ = fit_teacher(
            gold,
            teacher_cfg,
            ctx.cfg.teacher_search,
            ctx.models_dir / "teacher",
            dev=labeled.get("dev"),
            task="classification",
            **ctx.train_kwargs(),
        )
        metrics, preds, speed = None, {}, {}
        if labeled:
            metrics = evaluate_cross_encoder(
                teacher, labeled, "classification", batch_size=ctx.cfg.label_batch_size, predictions=preds, speed=speed
            )
            ctx.report.stage(stages.eval_stage("teacher"), fmt(metrics, "classification"))
        ctx.record("speed", "teacher", speed)
        ctx.record(
            "trained_on",
            "teacher",
            f"{positives:,} positives and {negatives:,} mined negatives, each in both orders{warm_note}",
        )
        ctx.finish("teacher", t1, metrics, preds or None)
        return teacher

    def _label(self, teacher, mined: pd.DataFrame, sampled: pd.DataFrame, info: dict) -> pd.DataFrame:
        ctx = self.ctx
        cfg, report, batch = ctx.cfg, ctx.report, ctx.cfg.label_batch_size
        t2 = time.time()
        candidates = pd.concat([mined_candidates(mined), sampled.assign(use="sampled")], ignore_index=True)
        report.stage(
            stages.LABEL,
            f"teacher scores {len(candidates):,} pairs: {len(mined):,} mined negatives and {len(sampled):,} "
            f"{cfg.sampler} candidates (both orders averaged)",
        )
        scores = label_pairs(
            teacher,
            candidates["sentence1"],
            candidates["sentence2"],
            batch_size=batch,
            sink=report,
            cancel=ctx.cancel,
            scorer=ctx.scorer(),
        )
        threshold, why = self._threshold(teacher)
        silver = check_silver(candidates, scores, threshold)
        positives = self.positives
        gold_scores = label_pairs(teacher, positives["sentence1"], positives["sentence2"], batch_size=batch)
        info["teacher_check"] = {**check_report(silver, gold_scores, threshold), "threshold_from": why}
        ctx.run.write_json(RunFiles.MINING, info)
        data_mod.write_table(silver, ctx.run.path(RunFiles.SILVER))
        check = info["teacher_check"]
        ctx.run.write_json(
            RunFiles.SILVER_SUMMARY,
            {
                "candidates": int(len(silver)),
                "kept": int(silver["kept"].sum()),
                "threshold": float(threshold),
                "by_sampler": silver.groupby("sampler").size().to_dict(),
                "labeler": "cross_encoder",
                "labeler_why": "task positive_pairs: the binary teacher trained on the mined negatives",
                "mining": info,
            },
        )
        report.stage(
            stages.LABEL,
            f"threshold {threshold:.3f} ({why}): {check['mined_rejected_as_false_negatives']:,} of "
            f"{check['mined_scored']:,} mined negatives rejected as likely positives; {check['silver_positives']:,} "
            f"silver positives among {check['sampled_scored']:,} sampled pairs",
        )
        ctx.finish(self.key, t2)
        return silver

    def _threshold(self, teacher) -> tuple[float, str]:
        """The 0/1 threshold of the teacher's scores: given, else best F1 on a 0/1 dev split, else 0.5."""
        cfg, labeled = self.ctx.cfg, self.labeled
        if cfg.threshold is not None:
            return cfg.threshold, "threshold (config)"
        if "dev" in labeled:
            dev = labeled["dev"]
            dev_scores = label_pairs(teacher, dev["sentence1"], dev["sentence2"], batch_size=cfg.label_batch_size)
            return best_threshold(dev_scores, dev["label"].to_numpy()), "best F1 on dev"
        return 0.5, "0.5 (no dev with 0/1 labels)"
