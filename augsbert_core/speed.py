"""Scoring speed of a run's models (speed.json): pairs per second of the evaluation calls themselves.

The teacher (a cross-encoder) runs the transformer on every pair, in both orders as the run scores them; a
bi-encoder encodes each distinct sentence once and compares embeddings by cosine. Both are timed on the same split
(test, else dev) while the run evaluates them, so the numbers cost no extra scoring and come from the same device.
A bi-encoder can also encode a corpus ahead of time (search then costs a dot product per document); a
cross-encoder cannot: these figures are for scoring given pairs from scratch, the cross-encoder's only mode."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar, get_args

ModelKind = Literal["cross-encoder", "bi-encoder"]
MODEL_KINDS: tuple[str, ...] = get_args(ModelKind)
SPLIT_ORDER = ("test", "dev")  # the split a run times: test, else dev
T = TypeVar("T")


def timed_split(splits: Iterable[str]) -> str | None:
    """The split whose scoring is timed: 'test' when present, else 'dev', else None."""
    names = set(splits)
    return next((s for s in SPLIT_ORDER if s in names), None)


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """`call()`'s result and the wall-clock seconds it took (perf_counter)."""
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def throughput(kind: ModelKind, split: str, pairs: int, seconds: float, batch_size: int, **extra: Any) -> dict:
    """One model's entry of speed.json: pairs scored, seconds, pairs per second (None when nothing was timed)."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; one of {MODEL_KINDS}")
    rate = pairs / seconds if pairs and seconds > 0 else None
    return {
        "kind": kind,
        "split": split,
        "pairs": int(pairs),
        "seconds": float(seconds),
        "pairs_per_s": rate,
        "batch_size": int(batch_size),
        **extra,
    }


def speed_report(device: str, device_name: str, models: dict[str, dict]) -> dict:
    """speed.json: the device, the timed split and its size, and each measured model's entry (see `throughput`)."""
    first = next(iter(models.values()), {})
    return {
        "device": device,
        "device_name": device_name,
        "split": first.get("split"),
        "pairs": first.get("pairs"),
        "models": models,
        "note": (
            "pairs/s of scoring the split's pairs from scratch, timed during evaluation. A bi-encoder can "
            "pre-compute a corpus' embeddings (a search then costs one encode of the query and a dot product "
            "per document); a cross-encoder must run on every (query, document) pair."
        ),
    }


def pairs_per_s(speed: dict | None, model: str) -> float | None:
    """A model's pairs per second in a speed.json mapping, or None (not measured, or an unreadable file)."""
    entry = ((speed or {}).get("models") or {}).get(model) if isinstance(speed, dict) else None
    value = entry.get("pairs_per_s") if isinstance(entry, dict) else None
    return float(value) if isinstance(value, (int, float)) and value > 0 else None
