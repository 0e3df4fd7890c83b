"""Teacher labeling through Ray Data against the local engine on the same device(s), pairs/s.

    HF_HUB_OFFLINE=1 python bench/ray_labeling.py [--pairs 20000] [--device cuda] [--batch-size 64] [--json out.json]

Three ways to score the same distinct ordered pairs with the same teacher (the offline MiniLM cross-encoder with a
saved head: speed only), one order each:
  local         `teacher.label_pairs` in this process on --device (the local engine)
  local pool    `label_pairs(devices=[...])`: sentence-transformers' multi-process pool, one process per device
                (the local multi-GPU path; on CPU two processes)
  ray           `ray_engine.RayScorer` on a local Ray cluster: Ray Data actors, one per GPU (gpus_per_worker=1) or
                one per CPU, Parquet shards in and out (cluster start-up printed apart, not in its time)
Ratios are against `local` in the same run; the scores of `ray` and `local pool` are checked against `local`
(max abs difference). On a 1-GPU machine this is the issue's "Ray Data with 1 GPU vs the local pool on the same
GPU" figure; on CPU it measures the overhead of the Ray path."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main() -> None:
    import numpy as np
    import pandas as pd
    import ray
    from sentence_transformers import CrossEncoder

    from augsbert_core.models import load_cross_encoder, resolve_model
    from augsbert_core.ray_engine import RayScorer
    from augsbert_core.teacher import label_pairs

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json")
    args = parser.parse_args()
    sentences = pd.read_csv(REPO / "demo" / "stsb" / "unlabeled.csv")["sentence"].tolist()
    rng = np.random.default_rng(0)
    pairs = list(dict.fromkeys(zip(rng.choice(sentences, 2 * args.pairs), rng.choice(sentences, 2 * args.pairs))))
    pairs = pairs[: args.pairs]
    s1, s2 = [a for a, _ in pairs], [b for _, b in pairs]
    tmp = Path(tempfile.mkdtemp(prefix="augsbert-ray-label-"))
    teacher_dir = tmp / "teacher"
    CrossEncoder(str(resolve_model("default")), num_labels=1, device="cpu").save(str(teacher_dir))
    gpu = args.device.startswith("cuda")
    rows, ref = [], None
    when = time.strftime("%Y-%m-%d %H:%M")
    load = os.getloadavg()[0]
    print(f"{len(pairs):,} ordered pairs, device {args.device}, batch {args.batch_size}, load {load:.1f}, {when}")

    def record(name: str, seconds: float, scores, **extra) -> None:
        nonlocal ref
        ref = scores if ref is None else ref
        row = {"path": name, "seconds": seconds, "pairs_per_s": len(pairs) / seconds, **extra}
        row["vs_local"] = row["pairs_per_s"] / rows[0]["pairs_per_s"] if rows else 1.0
        row["max_abs_diff_vs_local"] = float(np.abs(np.asarray(scores) - ref).max())
        rows.append(row)
        print(f"{name:11s} {row['pairs_per_s']:9.1f} pairs/s  {row['vs_local']:.2f}x local  "
              f"({seconds:.1f} s; max |diff| {row['max_abs_diff_vs_local']:.1e})")  # fmt: skip

    model = load_cross_encoder(str(teacher_dir), device=args.device)
    label_pairs(model, s1[:256], s2[:256], batch_size=args.batch_size, symmetric=False)  # warm-up
    t = time.perf_counter()
    scores = label_pairs(model, s1, s2, batch_size=args.batch_size, symmetric=False)
    record("local", time.perf_counter() - t, scores)

    devices = [args.device] if gpu else ["cpu", "cpu"]
    pool = model.start_multi_process_pool(devices)
    try:
        label_pairs(model, s1[:256], s2[:256], batch_size=args.batch_size, symmetric=False, pool=pool)
        t = time.perf_counter()
        scores = label_pairs(model, s1, s2, batch_size=args.batch_size, symmetric=False, pool=pool)
        record("local pool", time.perf_counter() - t, scores, processes=len(devices))
    finally:
        model.stop_multi_process_pool(pool)
    del model

    t = time.perf_counter()
    ray.init(include_dashboard=False, log_to_driver=False, **({} if gpu else {"num_cpus": 2}))
    startup = time.perf_counter() - t
    workers = 1 if gpu else 2
    scorer = RayScorer(
        teacher_dir, tmp / "ray", batch_size=args.batch_size, workers=workers, gpus_per_worker=1.0 if gpu else 0.0
    )
    t = time.perf_counter()
    scores = scorer(pairs)
    record("ray", time.perf_counter() - t, scores, workers=workers, startup_s=startup)
    ray.shutdown()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
