"""The bi-encoder student: trained on gold (+ silver) pairs with a loss chosen by the data's task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import registry, stages
from ..atomic import dumps_json
from ..config import ModelConfig
from ..evaluation import bi_encoder_scores, primary_score, retrieval_evaluator, retrieval_metrics
from ..models import choose_device, load_student
from ..runs.progress import Cancelled, CancelToken, ProgressSink, make_trainer_callback, null_sink
from ..training import (
    NO_DEV_EPOCHS,
    dev_early_stopping,
    drop_checkpoints,
    early_stopping,
    fit,
    fixed_schedule,
    trainer_kwargs,
)

REGRESSION_LOSSES = registry.losses_for("student", "regression")  # live views of the loss registry
CLASSIFICATION_LOSSES = registry.losses_for("student", "classification")


def default_loss(task: str) -> str:
    """CosineSimilarity for scores in [0,1]; OnlineContrastive for 0/1 labels (uses positives and negatives).

    Measured on the STSb demo (1,000 gold pairs, 1 epoch, test Spearman x100): cosine 83.8, CoSENT 82.3,
    AnglE 82.7; CoSENT and AnglE stay available as `loss: cosent` / `loss: angle`. Positive pairs only
    (task positive_pairs): MultipleNegativesRankingLoss on (anchor, positive, mined hard negative) triplets."""
    if task == "positive_pairs":
        return "mnrl"
    return "cosine" if task == "regression" else "online_contrastive"


def build_loss(model, name: str, task: str):
    """The sentence-transformers loss object for `name` (registry.LossSpec; checked against the role and task)."""
    spec = registry.loss(name)
    if spec.role != "student" or task not in spec.tasks:
        allowed = registry.losses_for("student", task)
        raise ValueError(f"loss {name!r} does not fit a {task} task; choose one of {', '.join(allowed)}")
    return spec.build(model)


def bi_encoder_evaluator(frame: pd.DataFrame, task: str, name: str):
    """EmbeddingSimilarityEvaluator (regression) or BinaryClassificationEvaluator (classification)."""
    from sentence_transformers.evaluation import BinaryClassificationEvaluator, EmbeddingSimilarityEvaluator  # noqa: PLC0415 - loads torch; only training and encoding need it

    s1, s2 = frame["sentence1"].tolist(), frame["sentence2"].tolist()
    if task == "positive_pairs":  # retrieval: MRR@10 and the rest (evaluation.retrieval_evaluator)
        return retrieval_evaluator(frame, name)
    if task == "classification":
        return BinaryClassificationEvaluator(
            s1, s2, frame["label"].astype(int).tolist(), name=name, show_progress_bar=False
        )
    return EmbeddingSimilarityEvaluator(
        s1, s2, frame["label"].astype(float).tolist(), name=name, show_progress_bar=False
    )


def _training_rows(train: pd.DataFrame, loss_name: str, task: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rows the loss trains on and the trainer arguments it needs: labeled pairs, or (a positives-only loss) the
    positive pairs, with their mined hard negatives when there are some, batched with no duplicate sentences."""
    from sentence_transformers.training_args import BatchSamplers  # noqa: PLC0415 - loads torch; only training and encoding need it

    if registry.loss(loss_name).positives_only:
        triplets = "negative" in train.columns and train["negative"].notna().all()  # hard negatives (mining.py)
        columns = ["sentence1", "sentence2", "negative"] if triplets else ["sentence1", "sentence2"]
        return train[train["label"] == 1][columns], {"batch_sampler": BatchSamplers.NO_DUPLICATES}
    frame = train[["sentence1", "sentence2", "label"]]
    return frame.astype({"label": float if task == "regression" else int}), {}


def _schedule_got(cfg: ModelConfig, trainer: Any, stopper: Any) -> dict[str, Any]:
    """What the training got (metrics.json `schedules`); with early stopping, the best epoch's weights restored."""
    if stopper is not None:
        stopper.restore(trainer.model)
        return stopper.schedule(trainer.state)
    if early_stopping(cfg):
        return fixed_schedule(trainer.state, NO_DEV_EPOCHS, why="epochs: auto, but no dev split to stop on")
    return fixed_schedule(trainer.state, cfg.epochs)


def _dev_scorer(dev: pd.DataFrame | None, task: str):
    """The student's dev score for seed trials (None without a dev split): its task's primary metric."""
    if dev is None or len(dev) < 2:
        return None

    def dev_score(model) -> float:
        if task == "positive_pairs":  # retrieval on dev: its primary metric, MRR@10
            return retrieval_metrics(model, dev, "dev").get("mrr@10", 0.0)
        pred = bi_encoder_scores(model, dev["sentence1"].tolist(), dev["sentence2"].tolist())
        return primary_score(pred, dev["label"].to_numpy(), task)

    return dev_score


def train_student(
    train: pd.DataFrame,
    cfg: ModelConfig,
    output_dir: str | Path,
    *,
    task: str = "regression",
    seed: int = 42,
    device: str | None = None,
    dev: pd.DataFrame | None = None,
    sink: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
    stage: str = stages.STUDENT_TRAIN,
    evals: int = 0,
    checkpoints: int = 0,
    resume: bool = False,
    report_to: str = "none",
    schedule: dict | None = None,
):
    """Fine-tune a bi-encoder on `train` (sentence1, sentence2, label) and save it to `output_dir`.

    `cfg.epochs: auto` evaluates on `dev` each epoch, stops after `cfg.patience` evaluations without a gain (at most
    `cfg.max_epochs`) and keeps the best weights; without a dev split it trains NO_DEV_EPOCHS epochs. Pass a dict as
    `schedule` to receive what the training got (epochs_run, best_epoch, steps, ...: metrics.json `schedules`).
    On cancel the partly trained model is saved, then `Cancelled` is raised."""
    from datasets import Dataset  # noqa: PLC0415 - heavy (pyarrow, fsspec); only training needs it
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments  # noqa: PLC0415 - loads torch; only training and encoding need it

    device = device or choose_device()
    loss_name = cfg.loss or default_loss(task)
    frame, extra = _training_rows(train, loss_name, task)
    dataset = Dataset.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    has_dev = dev is not None and len(dev) >= 2
    stop_on_dev = early_stopping(cfg) and has_dev
    evaluator = bi_encoder_evaluator(dev, task, "dev") if (evals or stop_on_dev) and has_dev else None
    stoppers: list = []  # one per trainer made (seed trials make several): the last one is the finished training's

    def make_trainer(trainer_seed: int, folder: Path | None = None):
        model = load_student(cfg, device=device)
        kwargs = trainer_kwargs(
            cfg,
            output_dir,
            trainer_seed,
            device,
            len(frame),
            evals=evals if evaluator else 0,
            checkpoints=checkpoints,
            report_to=report_to,
            stop_on_dev=stop_on_dev,
        )
        if folder is not None:
            kwargs["output_dir"] = str(folder)
        args = SentenceTransformerTrainingArguments(**kwargs, **extra)
        if stop_on_dev:
            stoppers.append(dev_early_stopping(evaluator, cfg.patience))
        return SentenceTransformerTrainer(
            model=model,
            args=args,
            train_dataset=dataset,
            loss=build_loss(model, loss_name, task),
            evaluator=evaluator,
            callbacks=[make_trainer_callback(stage, sink, cancel), *stoppers[-1:]],
        )

    progress = dict(stage=stage, sink=sink, resume=resume, cancel=cancel)
    trainer, report = fit(make_trainer, cfg, output_dir, seed=seed, dev_score=_dev_scorer(dev, task), **progress)
    model = trainer.model
    got = _schedule_got(cfg, trainer, stoppers[-1] if stoppers else None)  # restores the best epoch's weights
    if schedule is not None:
        schedule.update(got)
    model.save_pretrained(str(output_dir))
    if report is not None:
        (Path(output_dir) / "seed_search.json").write_text(dumps_json(report, indent=2))
    if cancel is not None and cancel.cancelled:
        raise Cancelled(f"{stage} cancelled; the partly trained model was saved")
    drop_checkpoints(output_dir)  # kept above: a cancelled training resumes from them
    return model
