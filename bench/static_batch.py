"""The static student's training time per epoch at batch 16 and batch 64, same machine, same run (interleaved).

    HF_HUB_OFFLINE=1 python bench/static_batch.py [--pairs 10000] [--epochs 2] [--repeats 2]

A static table's step is dominated by the dense gradient and Adam update of the whole embedding table (~7.8M
values), not by the batch, so 4x larger batches make an epoch about 4x cheaper; experiments/fast_students.py
measures the quality at each batch (dev-chosen learning rate). Prints seconds per epoch and the ratio."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> None:
    import pandas as pd

    from augsbert_core.config import ModelConfig
    from augsbert_core.student import train_student

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    demo = REPO / "demo" / "stsb"
    train = pd.read_csv(demo / "unlabeled_pairs.csv").head(args.pairs)  # pairs of real sentences; labels arbitrary
    train = train.assign(label=[(i % 11) / 10 for i in range(len(train))])[["sentence1", "sentence2", "label"]]
    settings = {16: 2e-3, 64: 4e-3}
    times: dict[int, list[float]] = {b: [] for b in settings}
    print(
        f"{len(train):,} pairs, {args.epochs} epochs, cores {len(os.sched_getaffinity(0))}, "
        f"load {os.getloadavg()[0]:.2f}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.repeats):
            for batch, lr in settings.items():
                cfg = ModelConfig(model="static", epochs=args.epochs, batch_size=batch, learning_rate=lr)
                t0 = time.perf_counter()
                train_student(train, cfg, Path(scratch) / f"b{batch}", device="cpu")
                times[batch].append((time.perf_counter() - t0) / args.epochs)
    base = statistics.median(times[16])
    for batch in settings:
        median = statistics.median(times[batch])
        print(f"batch {batch:>3}: {median:6.1f} s/epoch (incl. set-up and saving)  {base / median:4.2f}x batch 16")


if __name__ == "__main__":
    main()
