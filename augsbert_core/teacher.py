"""The cross-encoder teacher: fine-tuned on gold pairs in both orders, labels candidate pairs.

Cross-encoders are not symmetric (CE(a,b) != CE(b,a)), so the teacher trains on both orders and a
label is the mean of both orders' scores."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .config import ModelConfig
from .models import choose_device, load_cross_encoder
from .progress import CancelToken, Cancelled, ProgressEvent, ProgressSink, make_trainer_callback, null_sink
from .training import quiet as _quiet, trainer_kwargs


def both_orders(frame: pd.DataFrame) -> pd.DataFrame:
    """The pairs plus their swapped copies (same labels)."""
    swapped = frame.rename(columns={"sentence1": "sentence2", "sentence2": "sentence1"})[list(frame.columns)]
    return pd.concat([frame, swapped], ignore_index=True)


def train_teacher(gold: pd.DataFrame, cfg: ModelConfig, output_dir: str | Path, *, seed: int = 42,
                  device: str | None = None, dev: pd.DataFrame | None = None, task: str = "regression",
                  sink: ProgressSink = null_sink, cancel: CancelToken | None = None, evals: int = 0):
    """Fine-tune a cross-encoder on `gold` (columns sentence1, sentence2, label in [0,1]) in both orders.

    Saves the model to `output_dir` and returns it. On cancel the partly trained model is saved, then
    `Cancelled` is raised."""
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, MSELoss

    device = device or choose_device()
    model = load_cross_encoder(cfg.model, device=device, max_length=cfg.max_seq_length)
    train = both_orders(gold[["sentence1", "sentence2", "label"]]).astype({"label": float})
    dataset = Dataset.from_pandas(train, preserve_index=False)
    loss = MSELoss(model) if cfg.loss == "mse" else BinaryCrossEntropyLoss(model)
    evaluator = None
    if evals and dev is not None and len(dev) >= 2:
        evaluator = cross_encoder_evaluator(dev, task, name="dev")
    args = CrossEncoderTrainingArguments(**trainer_kwargs(cfg, output_dir, seed, device,
                                                          len(train), evals=evals if evaluator else 0))
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=loss, evaluator=evaluator,
                                  callbacks=[make_trainer_callback("teacher.train", sink, cancel)])
    _quiet(trainer)
    trainer.train()
    model.save_pretrained(str(output_dir))
    if cancel is not None and cancel.cancelled:
        raise Cancelled("teacher training cancelled; the partly trained teacher was saved")
    return model


def cross_encoder_evaluator(frame: pd.DataFrame, task: str, name: str):
    """A sentence-transformers evaluator for a dev split, used for the live metric curve."""
    from sentence_transformers.cross_encoder.evaluation import (
        CrossEncoderClassificationEvaluator,
        CrossEncoderCorrelationEvaluator,
    )

    pairs = list(zip(frame["sentence1"], frame["sentence2"]))
    if task == "classification":
        return CrossEncoderClassificationEvaluator(pairs, frame["label"].astype(int).tolist(), name=name,
                                                   show_progress_bar=False)
    return CrossEncoderCorrelationEvaluator(pairs, frame["label"].astype(float).tolist(), name=name,
                                            show_progress_bar=False)


def label_pairs(model, sentences1: Sequence[str], sentences2: Sequence[str], *, batch_size: int = 64,
                symmetric: bool = True, chunk_size: int = 8192, sink: ProgressSink = null_sink,
                cancel: CancelToken | None = None, stage: str = "label") -> np.ndarray:
    """Teacher scores in [0,1] for each pair, the mean of both orders when `symmetric`.

    Each distinct ordered pair is scored exactly once (duplicates share one score), in chunks so that
    progress is reported and cancel is honoured between chunks."""
    s1, s2 = list(sentences1), list(sentences2)
    n = len(s1)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    ordered = list(zip(s1, s2)) + (list(zip(s2, s1)) if symmetric else [])
    unique = list(dict.fromkeys(ordered))
    scores = np.empty(len(unique), dtype=np.float32)
    sink(ProgressEvent(stage, 0, len(unique), message=f"scoring {len(unique):,} ordered pairs"))
    for start in range(0, len(unique), chunk_size):
        if cancel is not None:
            cancel.raise_if_cancelled("labeling")
        chunk = unique[start:start + chunk_size]
        scores[start:start + len(chunk)] = model.predict(chunk, batch_size=batch_size, show_progress_bar=False,
                                                          convert_to_numpy=True)
        sink(ProgressEvent(stage, start + len(chunk), len(unique)))
    lookup = dict(zip(unique, scores))
    forward = np.fromiter((lookup[p] for p in ordered[:n]), dtype=np.float32, count=n)
    if not symmetric:
        return forward
    backward = np.fromiter((lookup[p] for p in ordered[n:]), dtype=np.float32, count=n)
    return (forward + backward) / 2
