"""Data-parallel training of the teacher and the student on an existing engine (HF Trainer / accelerate).

`augsbert train ...` runs unchanged as one process or under a launcher:

    torchrun --nproc_per_node 4 -m augsbert_core train --role student --train gold.csv --out models/student
    accelerate launch -m augsbert_core train --role teacher --train gold.csv --out models/teacher

The launcher sets RANK / LOCAL_RANK / WORLD_SIZE; the HF Trainer under sentence-transformers'
trainers then wraps the model in DistributedDataParallel (NCCL on GPUs, gloo on CPU), shards every
batch over the processes and averages gradients. `per_device_train_batch_size` is per process: the
global batch is N times larger. Only rank 0 evaluates, prints and saves the model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import registry
from .atomic import dumps_json
from .config import ModelConfig
from .models import choose_device, load_bi_encoder, load_cross_encoder
from .registry import DEFAULT_TEACHER_LOSS
from .student import bi_encoder_evaluator, build_loss, default_loss
from .teacher import both_orders, cross_encoder_evaluator
from .training import quiet, trainer_kwargs


@dataclass
class DistInfo:
    rank: int
    local_rank: int
    world_size: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def dist_info() -> DistInfo:
    """This process's place in a torchrun / accelerate launch (rank 0 of 1 when not launched)."""
    return DistInfo(
        rank=int(os.environ.get("RANK", 0)),
        local_rank=int(os.environ.get("LOCAL_RANK", 0)),
        world_size=int(os.environ.get("WORLD_SIZE", 1)),
    )


def process_device(info: DistInfo, requested: str | None = None) -> str:
    """The device of this process: its own GPU (cuda:LOCAL_RANK) when launched on CUDA, else `requested`/auto."""

    device = choose_device(requested)
    if device == "cuda" and info.world_size > 1:
        return f"cuda:{info.local_rank}"
    return device


def _trainer(role: str, train: pd.DataFrame, cfg: ModelConfig, kwargs: dict, device: str, task: str):
    """The sentence-transformers trainer of `role` on this process group: (trainer, model, the training rows)."""
    from datasets import Dataset  # noqa: PLC0415 - heavy (pyarrow, fsspec); only training needs it

    if role == "teacher":
        from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments  # noqa: PLC0415 - loads torch; only training and encoding need it

        model = load_cross_encoder(
            cfg.model, device=device, max_length=cfg.max_seq_length, trust_remote_code=cfg.trust_remote_code
        )
        frame = both_orders(train[["sentence1", "sentence2", "label"]]).astype({"label": float})
        loss = registry.loss(cfg.loss or DEFAULT_TEACHER_LOSS).build(model)
        args = CrossEncoderTrainingArguments(**kwargs)
        trainer = CrossEncoderTrainer(
            model=model, args=args, train_dataset=Dataset.from_pandas(frame, preserve_index=False), loss=loss
        )
    elif role == "student":
        from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments  # noqa: PLC0415 - loads torch; only training and encoding need it

        model = load_bi_encoder(
            cfg.model, device=device, max_seq_length=cfg.max_seq_length, trust_remote_code=cfg.trust_remote_code
        )
        loss_name = cfg.loss or default_loss(task)
        if registry.loss(loss_name).positives_only:
            raise ValueError(
                f"{loss_name} is not supported by `augsbert train` yet (it trains on positives only); use a loss of "
                "scored or 0/1 pairs such as cosine, cosent, angle or contrastive"
            )
        frame = train[["sentence1", "sentence2", "label"]].astype({"label": float if task == "regression" else int})
        args = SentenceTransformerTrainingArguments(**kwargs)
        trainer = SentenceTransformerTrainer(
            model=model,
            args=args,
            train_dataset=Dataset.from_pandas(frame.reset_index(drop=True), preserve_index=False),
            loss=build_loss(model, loss_name, task),
        )
    else:
        raise ValueError(f"role must be 'teacher' or 'student', got {role!r}")
    return trainer, model, frame


def train_distributed(
    role: str,
    train: pd.DataFrame,
    cfg: ModelConfig,
    output_dir: str | Path,
    *,
    task: str = "regression",
    dev: pd.DataFrame | None = None,
    seed: int = 42,
    device: str | None = None,
    max_steps: int | None = None,
    ddp_backend: str | None = None,
    log=print,
) -> dict:
    """Train the teacher (cross-encoder, both orders) or the student (bi-encoder) on this process group.

    Works in a single process too. Returns a summary dict (same on every rank); rank 0 saves the model
    to `output_dir` and writes `train_summary.json` there."""

    info = dist_info()
    device = process_device(info, device)
    kwargs = trainer_kwargs(cfg, output_dir, seed, device, len(train) * (2 if role == "teacher" else 1))
    if max_steps:
        kwargs["max_steps"] = int(max_steps)
    if info.world_size > 1:
        kwargs["ddp_backend"] = ddp_backend or ("nccl" if device.startswith("cuda") else "gloo")
        # the cross-encoder uses every parameter (pooler + head); the bi-encoder leaves BERT's pooler unused
        kwargs["ddp_find_unused_parameters"] = role != "teacher"
    trainer, model, frame = _trainer(role, train, cfg, kwargs, device, task)
    quiet(trainer)
    result = trainer.train()
    summary = {
        "role": role,
        "world_size": info.world_size,
        "device": device,
        "global_steps": int(result.global_step),
        "train_loss": float(result.training_loss),
        "examples": int(len(frame)),
        "per_device_batch_size": cfg.batch_size,
        "backend": kwargs.get("ddp_backend"),
        "output_dir": str(output_dir),
    }
    if trainer.is_world_process_zero():
        model.save_pretrained(str(output_dir))
        if dev is not None and len(dev) >= 2:
            evaluator = (
                cross_encoder_evaluator(dev, task, "dev")
                if role == "teacher"
                else bi_encoder_evaluator(dev, task, "dev")
            )
            summary["dev"] = {k: float(v) for k, v in evaluator(model).items()}
        Path(output_dir, "train_summary.json").write_text(dumps_json(summary, indent=2))
        log(
            f"rank 0/{info.world_size}: {role} trained {summary['global_steps']} steps "
            f"(loss {summary['train_loss']:.4f}) -> {output_dir}"
        )
    _barrier(info)
    return summary


def _barrier(info: DistInfo) -> None:
    """Wait for rank 0's save before any rank exits (and tear the process group down cleanly)."""
    if info.world_size <= 1:
        return
    import torch.distributed as dist  # noqa: PLC0415 - torch takes seconds to import; only training and encoding need it

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
