"""Scoring speed of a run's models (speed.json): pairs per second of the evaluation calls themselves.

The teacher (a cross-encoder) runs the transformer on every pair, in both orders as the run scores them; a
bi-encoder encodes each distinct sentence once and compares embeddings by cosine. Both are timed on the same split
(test, else dev) while the run evaluates them, so the numbers cost no extra scoring and come from the same device.
A bi-encoder can also encode a corpus ahead of time (search then costs a dot product per document); a
cross-encoder cannot: these figures are for scoring given pairs from scratch, the cross-encoder's only mode."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
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


ONE_PASS_PAIRS = 256  # pairs of the timed split every model scores in the one-pass timing
ONE_PASS_MIN_PAIRS = 100  # a split smaller than this keeps the evaluation-time figures (a dozen pairs time noise)
ONE_PASS_REPEATS = 2
Scorer = Callable[[Sequence[str], Sequence[str]], object]


def one_pass(
    scorers: dict[str, tuple[ModelKind, Scorer]],
    sentences1: Sequence[str],
    sentences2: Sequence[str],
    *,
    split: str,
    batch_size: int,
    repeats: int = ONE_PASS_REPEATS,
) -> dict[str, dict]:
    """Every model scores the same pairs in turn, `repeats` rounds after a warm-up call each, so all are timed under
    the same conditions (evaluation-time figures come from different moments of a run, under different loads); the
    fastest round is kept. Each entry (`throughput`) records `timed: one pass` and the 1-minute load average before
    and after (`load`)."""
    load_before = _load()
    for _, score in scorers.values():
        score(sentences1[:8], sentences2[:8])  # first calls allocate: not timed
    best = dict.fromkeys(scorers, float("inf"))
    for _ in range(repeats):
        for key, (_, score) in scorers.items():
            best[key] = min(best[key], timed(lambda score=score: score(sentences1, sentences2))[1])
    load = [load_before, _load()]
    sentences = len(set(sentences1) | set(sentences2))
    out = {}
    for key, (kind, _) in scorers.items():
        extra: dict[str, Any] = {"orders": 2} if kind == "cross-encoder" else {"sentences": sentences}
        if kind == "bi-encoder" and best[key] > 0:
            extra["sentences_per_s"] = sentences / best[key]
        out[key] = throughput(kind, split, len(sentences1), best[key], batch_size, timed="one pass", load=load, **extra)
    return out


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):  # not on every platform
        return None


def timing_note(speed: dict | None) -> str:
    """How speed.json's figures were taken, in a few words for the pages and the report."""
    entries = [e for e in ((speed or {}).get("models") or {}).values() if isinstance(e, dict)]
    passed = [e for e in entries if e.get("timed") == "one pass"]
    if not passed:
        return "timed during evaluation"
    load = passed[0].get("load") or [None, None]
    shown = "–".join(f"{v:.2f}" for v in load if isinstance(v, (int, float)))
    return f"timed in one pass on the same {passed[0].get('pairs', 0):,} pairs" + (
        f" (load average {shown})" if shown else ""  # cores: device_name (the reader may be another machine)
    )


def speed_report(device: str, device_name: str, models: dict[str, dict]) -> dict:
    """speed.json: the device, the timed split and its size, and each measured model's entry (see `throughput`)."""
    first = next(iter(models.values()), {})
    how = timing_note({"models": models})
    return {
        "device": device,
        "device_name": device_name,
        "split": first.get("split"),
        "pairs": first.get("pairs"),
        "models": models,
        "note": (
            f"pairs/s of scoring the split's pairs from scratch, {how}. A bi-encoder can "
            "pre-compute a corpus' embeddings (a search then costs one encode of the query and a dot product "
            "per document); a cross-encoder must run on every (query, document) pair."
        ),
    }


def pairs_per_s(speed: dict | None, model: str) -> float | None:
    """A model's pairs per second in a speed.json mapping, or None (not measured, or an unreadable file)."""
    entry = ((speed or {}).get("models") or {}).get(model) if isinstance(speed, dict) else None
    value = entry.get("pairs_per_s") if isinstance(entry, dict) else None
    return float(value) if isinstance(value, (int, float)) and value > 0 else None
