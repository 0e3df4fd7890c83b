"""Trainer arguments shared by the teacher and the student (one place for precision, seeds and logging)."""

from __future__ import annotations

import math
from pathlib import Path

from .config import ModelConfig


def mixed_precision(device: str) -> dict[str, bool]:
    """bf16 where the GPU supports it, else fp16, on CUDA; full precision elsewhere."""
    if not device.startswith("cuda"):
        return {}
    import torch

    return {"bf16": True} if torch.cuda.is_bf16_supported() else {"fp16": True}


def checkpoint_dir(output_dir: str | Path) -> Path:
    """Where the trainer keeps checkpoints for the model saved at `output_dir`."""
    return Path(output_dir).parent / ".checkpoints" / Path(output_dir).name


def latest_checkpoint(output_dir: str | Path) -> str | None:
    """The newest complete trainer checkpoint for `output_dir`, if any.

    A checkpoint is complete once its trainer_state.json exists (the trainer writes it last): a job killed
    while saving leaves a half-written folder that must not be resumed from."""
    folder = checkpoint_dir(output_dir)
    if not folder.is_dir():
        return None
    complete = [p for p in folder.glob("checkpoint-*") if (p / "trainer_state.json").is_file()
                and p.name.split("-")[-1].isdigit()]
    return str(max(complete, key=lambda p: int(p.name.split("-")[-1]))) if complete else None


def trainer_kwargs(cfg: ModelConfig, output_dir: str | Path, seed: int, device: str, n_examples: int,
                   evals: int = 0, checkpoints: int = 0) -> dict:
    """Keyword arguments for SentenceTransformerTrainingArguments / CrossEncoderTrainingArguments.

    Trainer checkpoints go beside the model, in `<models>/.checkpoints/<name>`, not inside the saved model."""
    steps_per_epoch = max(1, math.ceil(n_examples / cfg.batch_size))
    total = max(1, math.ceil(steps_per_epoch * cfg.epochs))
    kwargs = dict(
        output_dir=str(checkpoint_dir(output_dir)),
        num_train_epochs=cfg.epochs,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=max(cfg.batch_size, 32),
        learning_rate=cfg.learning_rate,
        warmup_steps=int(cfg.warmup_ratio * total),
        weight_decay=cfg.weight_decay,
        seed=seed,
        data_seed=seed,
        logging_steps=max(1, total // 50),
        report_to="none",
        disable_tqdm=True,
        use_cpu=device == "cpu",
        dataloader_num_workers=0,
        **mixed_precision(device),
    )
    if evals > 0:
        kwargs.update(eval_strategy="steps", eval_steps=max(1, total // evals))
    if checkpoints > 0:  # the newest checkpoint only: enough to resume a killed job
        kwargs.update(save_strategy="steps", save_steps=max(1, total // checkpoints), save_total_limit=1)
    else:
        kwargs.update(save_strategy="no")
    return kwargs


def quiet(trainer) -> None:
    """Drop the HF PrinterCallback: progress goes through our sink, not dicts printed to stdout."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def run_training(trainer, output_dir: str | Path, *, resume: bool, stage: str, sink) -> None:
    """trainer.train(), continuing from the newest checkpoint when `resume` and one exists."""
    from .progress import ProgressEvent

    checkpoint = latest_checkpoint(output_dir) if resume else None
    if checkpoint:
        sink(ProgressEvent(stage, message=f"resuming from {Path(checkpoint).name}"))
    quiet(trainer)
    trainer.train(resume_from_checkpoint=checkpoint)
