"""engine: ray against the local engine on this machine: `augsbert silver` end to end with 1 and 2 Ray workers.

    HF_HUB_OFFLINE=1 python bench/ray_scaling.py [--sentences 1200] [--top-k 2] [--json out.json]

The same pool (STSb demo sentences), sampler (bm25), teacher (the offline MiniLM cross-encoder with a saved head:
speed only) and batch size for all three; the local engine is the reference (pairs/s and seconds). Efficiency of
N workers = (pairs/s with N) / (N x pairs/s with 1). Each Ray run starts its own local cluster (start-up included
in its wall time, and printed apart). On 2 cores the driver, the object store and the actors share the CPUs:
this is a correctness-and-overhead check, not a cluster."""

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
    import pandas as pd
    import ray
    from sentence_transformers import CrossEncoder

    from augsbert_core import ray_engine
    from augsbert_core.models import load_cross_encoder, resolve_model
    from augsbert_core.silver import stream_silver

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=1200)
    parser.add_argument("--top-k", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--json")
    args = parser.parse_args()
    pool = pd.read_csv(REPO / "demo" / "stsb" / "unlabeled.csv")["sentence"].head(args.sentences).tolist()
    tmp = Path(tempfile.mkdtemp(prefix="augsbert-ray-bench-"))
    teacher_dir = tmp / "teacher"
    CrossEncoder(str(resolve_model("default")), num_labels=1, device="cpu").save(str(teacher_dir))
    rows = []

    t = time.perf_counter()
    n = stream_silver(
        pool, "bm25", args.top_k, load_cross_encoder(str(teacher_dir), device="cpu"), tmp / "local.csv",
        chunk_size=400, batch_size=args.batch_size,
    )  # fmt: skip
    local_s = time.perf_counter() - t
    rows.append({"engine": "local", "workers": None, "pairs": n, "seconds": local_s, "pairs_per_s": n / local_s})
    print(f"cpus {len(os.sched_getaffinity(0))}, load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"local engine: {n:,} pairs in {local_s:.1f} s = {n / local_s:.1f} pairs/s")
    for workers in (1, 2):
        t = time.perf_counter()
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        startup = time.perf_counter() - t
        t = time.perf_counter()
        n = ray_engine.ray_silver(
            pool, "bm25", args.top_k, str(teacher_dir), tmp / f"ray{workers}.csv",
            work_dir=tmp / f"work{workers}", chunk_size=400, batch_size=args.batch_size, workers=workers,
        )  # fmt: skip
        seconds = time.perf_counter() - t
        ray.shutdown()
        same = pd.read_csv(tmp / f"ray{workers}.csv")[["sentence1", "sentence2"]].equals(
            pd.read_csv(tmp / "local.csv")[["sentence1", "sentence2"]]
        )
        rows.append(
            {"engine": "ray", "workers": workers, "pairs": n, "seconds": seconds, "startup_s": startup,
             "pairs_per_s": n / seconds, "same_pairs_as_local": bool(same)}
        )  # fmt: skip
        print(
            f"ray, {workers} worker(s): {n:,} pairs in {seconds:.1f} s = {n / seconds:.1f} pairs/s "
            f"({n / seconds / rows[0]['pairs_per_s']:.2f}x local; cluster start {startup:.1f} s); same pairs: {same}"
        )
    one, two = rows[1]["pairs_per_s"], rows[2]["pairs_per_s"]
    print(f"efficiency of 2 workers: {two / (2 * one):.2f} (pairs/s with 2 / (2 x pairs/s with 1))")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
