"""The teacher stages: the warm start on a bi-encoder's similarities, the cross-encoder trained on gold with its
evaluation, the ensemble fitted on dev and the readiness gate; and the labeler the silver stage scores with."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd

from .. import choices, stages
from ..config import ModelConfig
from ..errors import GateStopped
from ..evaluation import PRIMARY_METRIC, SplitScores, primary_score, score_splits
from ..models import (
    DEFAULT_MODEL,
    MPNET,
    STATIC,
    is_saved_model,
    load_bi_encoder,
    load_cross_encoder,
    load_student,
    warm_start_wanted,
)
from ..runs import RunFiles
from ..silver import Labeler, warm_start_pairs
from ..teacher import (
    evaluate_cross_encoder,
    fit_teacher,
    label_pairs,
    teacher_inputs,
    warm_start_cap,
    warm_start_teacher,
)
from ..teacher.ensemble import TeacherEnsemble, fit_ensemble
from ..teacher.ensemble import describe as describe_ensemble
from ..teacher.gate import readiness_gate
from ..tracking import trainer_report_to
from .context import RunContext, Stage, fmt
from .deliverables import write_cards


class WarmStartStage(Stage):
    """Train the cross-encoder on a bi-encoder's cosine over the candidate pairs before gold (teacher_warm.json,
    models/teacher_warm): a fresh classification head learns the task's shape from many pairs first."""

    key = "teacher_warm"
    reads = (RunFiles.CANDIDATES,)
    writes = (RunFiles.TEACHER_WARM, RunFiles.MODELS)

    def wanted(self) -> bool:
        return warm_start_wanted(self.ctx.teacher_cfg)  # the estimate asks the same function

    def why_not(self) -> str:
        """Why the teacher was not warm-started (gate.json `warm_start.why`)."""
        t, cfg = self.ctx.teacher_cfg, self.ctx.cfg
        if t.warm_start == "off":
            return "teacher.warm_start: off"
        if not t.epochs:
            return "the teacher is used as it is (teacher.epochs = 0)"
        if cfg.silver_file or cfg.scenario_spec.augments:
            return "no candidate pairs in this run"
        if not self.wanted():
            return f"auto: {t.model} is not a bi-encoder checkpoint with a fresh head"
        return "no candidate pairs to warm up on"

    def member(self) -> str:
        """Whose similarities the teacher warms up on: the gold-only student (else the zero-shot base), or, for a fast
        student (static, or cut to fewer layers), the teacher base's own bi-encoder (the offline MiniLM): measured on
        the demo, a static gold-only student (81.4 dev) warmed the teacher to 80.3 dev, the MiniLM one (87.8) to
        85.0."""
        ctx = self.ctx
        fast = ctx.cfg.student.model == STATIC or bool(ctx.cfg.student.layers)
        if fast and ctx.teacher_cfg.model in (DEFAULT_MODEL, MPNET):
            return "teacher_base"
        return "gold_only" if is_saved_model(ctx.models_dir / "gold_only") else "zero_shot"

    def __call__(self, candidates: pd.DataFrame, splits: dict[str, pd.DataFrame], task: str) -> dict:
        ctx = self.ctx
        folder = ctx.models_dir / "teacher_warm"
        if self.done and (folder / RunFiles.CONFIG).is_file():
            return ctx.run.read_json(RunFiles.TEACHER_WARM, {"used": True})
        t0, member, teacher = time.time(), self.member(), ctx.teacher_cfg
        bi = self._bi_encoder(member)
        pairs = warm_start_pairs(
            candidates, teacher.warm_start_top_k, ctx.data.train, ctx.base, ctx.cfg.seed, ctx.cfg.bm25_max_df
        )
        ctx.report.stage(
            stages.TEACHER_WARM,
            f"warm start: the teacher learns the {member.replace('_', '-')} "
            f"bi-encoder's similarity on {min(len(pairs), warm_start_cap(ctx.device)):,} pairs (of "
            f"{len(candidates):,} candidates + BM25 top-{teacher.warm_start_top_k} neighbours)",
        )
        model, info = warm_start_teacher(
            pairs,
            bi,
            teacher,
            folder,
            seed=ctx.cfg.seed,
            device=ctx.device,
            sink=ctx.report,
            cancel=ctx.cancel,
            checkpoints=ctx.cfg.checkpoints,
            resume=ctx.resume,
            memo=ctx.embedding_memo[member],
            report_to=trainer_report_to(ctx.cfg.tracking),
            max_pairs=warm_start_cap(ctx.device),
        )
        info.update(used=True, bi_encoder=member, candidates=int(len(candidates)), top_k=teacher.warm_start_top_k)
        if "dev" in splits:
            dev = splits["dev"]
            pred = label_pairs(model, dev["sentence1"], dev["sentence2"], batch_size=ctx.cfg.label_batch_size)
            info["dev_after_warm"] = primary_score(pred, dev["label"].to_numpy(), task)
            ctx.report.stage(
                stages.TEACHER_WARM,
                f"after the warm start, before gold: dev {PRIMARY_METRIC[task]} {100 * info['dev_after_warm']:.2f}",
            )
        del model
        ctx.run.write_json(RunFiles.TEACHER_WARM, info)
        ctx.finish(self.key, t0)
        return info

    def _bi_encoder(self, member: str):
        ctx = self.ctx
        if member == "teacher_base":  # a fast student is a weak guide: the teacher base's own bi-encoder is stronger
            teacher = ctx.teacher_cfg
            return load_bi_encoder(teacher.model, device=ctx.device, max_seq_length=teacher.max_seq_length)
        if member == "zero_shot":
            return ctx.base
        return load_bi_encoder(
            str(ctx.models_dir / "gold_only"), device=ctx.device, max_seq_length=ctx.cfg.student.max_seq_length
        )

    def warmed(self, candidates: pd.DataFrame | None, splits, task: str) -> tuple[ModelConfig, dict | None]:
        """The teacher config to train on gold (from the warm start when there was one) and the warm start's record."""
        if not self.wanted() or candidates is None or not len(candidates):
            return self.ctx.teacher_cfg, None
        warm = self(candidates, splits, task)  # timed as its own stage, teacher_warm
        return replace(self.ctx.teacher_cfg, model=str(self.ctx.models_dir / "teacher_warm")), warm


class TeacherStage(Stage):
    """The cross-encoder trained on gold (or searched, or used as given), its evaluation and model card, the
    ensemble with a student fitted on dev (ensemble.json), and the readiness gate (gate.json), which may stop."""

    key = "teacher"
    reads = (RunFiles.TEACHER_WARM,)
    writes = (RunFiles.TEACHER_SEARCH, RunFiles.ENSEMBLE, RunFiles.GATE, RunFiles.METRICS_PARTIAL, RunFiles.MODELS)

    def __call__(self, candidates: pd.DataFrame | None) -> tuple[Labeler | None, dict | None]:
        """The labeling teacher (None when silver comes from a file, or nothing is left to label) and the gate."""
        ctx = self.ctx
        cfg = ctx.cfg
        if cfg.scenario_spec.labels and cfg.silver_file:
            ctx.report.stage(stages.TEACHER_TRAIN, "skipped: using the given silver file")
            return None, None
        if self.done:
            if cfg.scenario_spec.augments or ctx.done("silver"):  # only labeling still needs it
                return None, ctx.run.gate()
            remote = ctx.teacher_cfg.trust_remote_code
            teacher = load_cross_encoder(str(ctx.models_dir / "teacher"), device=ctx.device, trust_remote_code=remote)
            return build_labeler(ctx, teacher), ctx.run.gate()
        return self._train(candidates)

    def _train(self, candidates: pd.DataFrame | None) -> tuple[Labeler, dict]:
        ctx = self.ctx
        cfg, splits, task = ctx.cfg, ctx.splits, ctx.task
        gold, dev, teacher_task = teacher_inputs(cfg, ctx.data)
        warm_stage = WarmStartStage(ctx)
        teacher_cfg, warm = warm_stage.warmed(candidates, splits, task)
        t0 = time.time()  # the teacher stage: training on gold, its evaluation and the gate (not the warm start)
        ctx.report.stage(stages.TEACHER_TRAIN, self._what(len(gold), warm, teacher_cfg))
        teacher, trials = fit_teacher(
            gold,
            teacher_cfg,
            cfg.teacher_search,
            ctx.models_dir / "teacher",
            dev=dev,
            task=teacher_task,
            **ctx.train_kwargs(),
        )
        if trials is not None:
            self._record_search(trials)
        preds: dict[str, np.ndarray] = {}
        speed: dict = {}
        metrics = evaluate_cross_encoder(
            teacher,
            splits,
            task,
            batch_size=cfg.label_batch_size,
            predictions=preds,
            cache=ctx.label_cache(),
            speed=speed,
        )
        ctx.report.stage(stages.eval_stage("teacher"), fmt(metrics, task))
        ctx.state["metrics"]["teacher"] = metrics
        ctx.record("speed", "teacher", speed)
        ctx.record("trained_on", "teacher", self._trained_on(len(gold), warm, trials))
        write_cards(ctx, ("teacher",))  # now: a run the gate stops keeps its teacher's card
        ctx.state["predictions"]["teacher"] = {k: [float(x) for x in v] for k, v in preds.items()}
        ensemble = fit_teacher_ensemble(ctx)
        gate = self._gate(teacher, ensemble, metrics, warm, warm_stage)
        ctx.finish(self.key, t0, metrics, preds)
        if gate["verdict"] == "weak" and cfg.gate.action == "stop":
            ctx.run.write_json(RunFiles.METRICS_PARTIAL, ctx.metrics)
            raise GateStopped(gate["message"])
        return build_labeler(ctx, teacher), gate

    def _what(self, n: int, warm: dict | None, teacher_cfg: ModelConfig) -> str:
        cfg = self.ctx.cfg
        if cfg.teacher_search.enabled:
            return (
                f"teacher search on {n:,} gold pairs, chosen on dev (budget {cfg.teacher_search.budget_minutes:g} min)"
            )
        if cfg.teacher.epochs:
            return f"training the cross-encoder teacher on {n:,} pairs (both orders)" + (
                ", from its warm start" if warm else ""
            )
        return f"using the ready cross-encoder {teacher_cfg.model}"

    def _record_search(self, trials: list[dict]) -> None:
        self.ctx.run.write_json(RunFiles.TEACHER_SEARCH, {"trials": trials})
        chosen = next(t for t in trials if t.get("chosen"))
        self.ctx.report.stage(
            stages.TEACHER_SEARCH,
            f"chose {chosen['epochs']:g} epochs, lr {chosen['learning_rate']:g} "
            f"({sum(t['status'] == 'done' for t in trials)} of {len(trials)} trials run)",
        )

    def _gate(self, teacher, ensemble, metrics: dict, warm: dict | None, warm_stage: WarmStartStage) -> dict:
        """The readiness gate's verdict, with the teacher base and its warm start (gate.json)."""
        ctx = self.ctx
        teacher_config = getattr(getattr(teacher, "model", None), "config", None)  # the loaded teacher's HF config
        gate = readiness_gate(
            ctx.metrics,
            ctx.task,
            ctx.cfg,
            ensemble=ensemble,
            teacher_model_type=getattr(teacher_config, "model_type", None),
        )
        gate["teacher_model"] = ctx.teacher_cfg.model
        if ctx.teacher_choice:
            gate["teacher_model_why"] = ctx.teacher_choice
        if warm is not None:
            split = gate["split"]
            final = metrics.get(split, {}).get(PRIMARY_METRIC[ctx.task])
            gate["warm_start"] = {**warm, "dev_final": final, "split": split}
        else:
            gate["warm_start"] = {"used": False, "why": warm_stage.why_not()}
        ctx.run.write_json(RunFiles.GATE, gate)
        ctx.report.stage(stages.GATE, gate["message"])
        return gate

    def _trained_on(self, n: int, warm: dict | None, trials: list[dict] | None) -> str:
        """What the teacher trained on, in one line with its sizes (for its model card)."""
        ctx = self.ctx
        if not ctx.cfg.teacher.epochs and trials is None:
            return f"not trained in this run: the cross-encoder `{ctx.teacher_cfg.model}` as given (teacher.epochs 0)"
        where = " of the source domain" if ctx.cfg.scenario_spec.source_domain else ""
        text = f"{n:,} gold pairs{where}, each in both orders ({2 * n:,} examples)"
        if warm:
            text += f"; first warm-started on {warm.get('pairs', 0):,} candidate pairs scored by a bi-encoder"
        if trials is not None:
            text += f"; epochs and learning rate chosen on dev among {len(trials)} trials"
        return text


def fit_teacher_ensemble(ctx: RunContext) -> TeacherEnsemble | None:
    """Fit the teacher ensemble on dev (from stored predictions): the cross-encoder plus the gold-only bi-encoder
    (scenario 2) or, with no target gold (scenario 3), the zero-shot student. Returns it when it labels."""
    cfg, preds, splits = ctx.cfg, ctx.state["predictions"], ctx.splits
    member = "gold_only" if "gold_only" in preds else "zero_shot"
    if cfg.scenario_spec.augments or not cfg.labeling.fit_ensemble:
        return None
    if member not in preds or "dev" not in splits:
        return None
    ce, bi = preds["teacher"], preds[member]
    try:
        ensemble = fit_ensemble(
            np.asarray(ce["dev"]), np.asarray(bi["dev"]), splits["dev"]["label"].to_numpy(), ctx.task, seed=cfg.seed
        )
    except ValueError as exc:  # too small a dev split: label with the cross-encoder alone
        ctx.report.stage(stages.ENSEMBLE, f"skipped: {exc}")
        return None
    used = cfg.labeling.uses_ensemble(ensemble.beats_members)  # the labeler probe may decide otherwise
    ensemble.report["used"] = used
    ensemble.report["bi_encoder"] = member
    combined = {split: ensemble(np.asarray(ce[split]), np.asarray(bi[split])) for split in splits if split in ce}
    ctx.state["metrics"]["ensemble"] = score_splits(
        {n: SplitScores(combined[n], splits[n]["label"].to_numpy()) for n in combined}, ctx.task
    )
    ctx.state["predictions"]["ensemble"] = {k: [float(x) for x in v] for k, v in combined.items()}
    ctx.run.write_json(RunFiles.ENSEMBLE, ensemble.to_dict())
    ctx.report.stage(
        stages.ENSEMBLE,
        describe_ensemble(ensemble) + ("; labeling with it" if used else "; labeling with the cross-encoder alone"),
    )
    return ensemble if used else None


def build_labeler(ctx: RunContext, cross_encoder) -> Labeler:
    """The cross-encoder, joined by the fitted ensemble and its bi-encoder (gold-only or zero-shot) when the
    ensemble may label: chosen on dev (`used`), forced, or one of the options the labeler probe weighs."""
    raw = ctx.run.ensemble()
    ensemble = TeacherEnsemble.from_dict(raw) if raw else None
    if ensemble is not None and not (ensemble.report.get("used") or ctx.probe_wanted()):
        ensemble = None
    bi = None
    if ensemble is not None:
        if ensemble.report.get("bi_encoder") == "zero_shot":
            bi = load_student(ctx.cfg.student, device=ctx.device)
        else:
            folder = str(ctx.models_dir / "gold_only")
            bi = load_bi_encoder(folder, device=ctx.device, max_seq_length=ctx.cfg.student.max_seq_length)
    use = (choices.ENSEMBLE if ensemble is not None and ensemble.report.get("used") else choices.CROSS_ENCODER).name
    memo = ctx.embedding_memo.get(ensemble.report.get("bi_encoder", "gold_only")) if ensemble else None
    cache, batch = ctx.label_cache(for_labeling=True), ctx.cfg.label_batch_size
    return Labeler(cross_encoder, cache, batch, ensemble, bi, use, memo, ctx.scorer())
