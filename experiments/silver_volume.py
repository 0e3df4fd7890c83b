"""How much silver does each student kind want? Student quality on dev against silver volume (issue 23, item 3).

The candidate pool is what `candidates: given+sampled` gives a run: the unlabeled file's pairs as they are, then
pairs sampled from all sentences (gold + unlabeled) by a BM25/semantic mix at `--top-k`, gold pairs left out. A
finished run's teacher labels the whole pool once (both orders averaged, cached per teacher, so a rerun is free).
Each volume V trains a student on gold + the first V pairs of one seeded shuffle of the pool (so the volumes are
nested: V=10k holds V=5k), early-stopped on dev (`epochs: auto`), the learning rate chosen on dev per (kind,
volume) from `--lrs`, so every point of the curve, V=0 (gold-only) included, gets the same tuning.

    python experiments/prepare_data.py
    augsbert run configs/demo-stsb-fast.yaml          # its models/teacher labels the pool
    python experiments/silver_volume.py --teacher RUN_DIR/models/teacher --kinds static --volumes 0,1000,5000,20000

Appends one JSON line per training to --out and prints the curve (dev and test Spearman x100, best epoch, seconds).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from fast_students import KINDS, _rates, dev_best, measured
from sentence_transformers import CrossEncoder

from augsbert_core.config import ModelConfig
from augsbert_core.evaluation import evaluate_bi_encoder
from augsbert_core.io.data import load_pairs, load_unlabeled
from augsbert_core.models import load_student
from augsbert_core.sampling import sample_mixed_candidates
from augsbert_core.student import train_student
from augsbert_core.teacher import LabelCache, label_pairs

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=HERE / "data" / "stsb-1k")
    parser.add_argument("--teacher", type=Path, required=True, help="a finished run's models/teacher")
    parser.add_argument("--kinds", default="static")
    parser.add_argument("--volumes", default="0,1000,2500,5000,10000,20000,40000")
    parser.add_argument("--top-k", type=int, default=8)
    parser.add_argument("--seeds", default="42")
    parser.add_argument("--lrs", default="", help="per kind, e.g. 'static=0.005,0.002;layers2=5e-5,1e-4'")
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "silver-volume" / "results.jsonl")
    args = parser.parse_args()

    gold = load_pairs(args.data / "train.csv", scale=(0, 5)).frame
    splits = {name: load_pairs(args.data / f"{name}.csv", scale=(0, 5)).frame for name in ("dev", "test")}
    pool = labeled_pool(args.data, gold, args.teacher, args.top_k)
    print(f"pool: {len(pool):,} labeled pairs ({pool['sampler'].value_counts().to_dict()})", flush=True)
    rates = _rates(args.lrs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in args.kinds.split(","):
        model, layers, usual = KINDS[kind]
        for seed in [int(s) for s in args.seeds.split(",")]:
            order = pool.sample(frac=1.0, random_state=seed).reset_index(drop=True)
            for volume in [int(v) for v in args.volumes.split(",")]:
                if volume > len(order):
                    print(f"skip volume {volume:,}: the pool has {len(order):,} pairs", flush=True)
                    continue
                train = pd.concat([gold, order.iloc[:volume][["sentence1", "sentence2", "label"]]], ignore_index=True)
                for lr in rates.get(kind, [usual]):
                    cfg = ModelConfig(
                        model=model, layers=layers, epochs="auto", max_epochs=args.max_epochs, learning_rate=lr
                    )
                    row = one(kind, cfg, seed, volume, train, splits, args.out.parent / ".models")
                    rows.append(row)
                    with open(args.out, "a", encoding="utf8") as handle:
                        handle.write(json.dumps(row) + "\n")
                    print(json.dumps({k: v for k, v in row.items() if k != "schedule"}), flush=True)
    print(curve(rows))


def labeled_pool(data: Path, gold: pd.DataFrame, teacher: Path, top_k: int) -> pd.DataFrame:
    """Given pairs + bm25/semantic pairs over every sentence, labeled by `teacher` (sentence1, sentence2, sampler,
    label on the 0-1 scale); the given pairs first, each pair once, gold pairs left out."""
    given = load_unlabeled(data / "unlabeled-pairs.csv").pairs[["sentence1", "sentence2"]].assign(sampler="given")
    sentences = [*gold["sentence1"], *gold["sentence2"], *given["sentence1"], *given["sentence2"]]
    known = pd.concat([gold[["sentence1", "sentence2"]], given[["sentence1", "sentence2"]]], ignore_index=True)
    base = load_student(ModelConfig(model="default"), device="cpu")
    sampled = sample_mixed_candidates(sentences, {"bm25": 0.5, "semantic": 0.5}, top_k, gold=known, model=base)
    pool = pd.concat([given, sampled], ignore_index=True)
    keys = pd.Series([tuple(sorted(p)) for p in zip(pool["sentence1"], pool["sentence2"])])
    gold_keys = {tuple(sorted(p)) for p in zip(gold["sentence1"], gold["sentence2"])}
    pool = pool[~keys.duplicated().to_numpy() & ~keys.isin(gold_keys).to_numpy()].reset_index(drop=True)
    model = CrossEncoder(str(teacher), num_labels=1, device="cpu")
    t0 = time.time()
    cache = LabelCache.for_model(teacher, "cpu")
    pool["label"] = label_pairs(model, list(pool["sentence1"]), list(pool["sentence2"]), cache=cache)
    print(f"labeled {len(pool):,} pairs in {time.time() - t0:.0f} s", flush=True)
    return pool


def one(kind: str, cfg: ModelConfig, seed: int, volume: int, train, splits, models: Path) -> dict:
    t0, schedule = time.time(), {}
    folder = models / f"{kind}-{volume}-{seed}-{cfg.learning_rate:g}"
    student = train_student(train, cfg, folder, dev=splits["dev"], seed=seed, device="cpu", schedule=schedule)
    speed: dict = {}
    metrics = evaluate_bi_encoder(student, splits, "regression", speed=speed)
    return {
        "kind": kind,
        "volume": volume,
        "seed": seed,
        "learning_rate": cfg.learning_rate,
        "pairs": len(train),
        **measured(metrics, speed, schedule, t0),
    }


def curve(rows: list[dict]) -> str:
    """Per kind and volume, the dev-best learning rate per seed; dev and test x100 averaged over seeds."""
    best = dev_best(rows, ("kind", "volume", "seed"))
    lines = ["| student | silver pairs | dev | test | lr | best epoch | seconds |"]
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for kind, volume in dict.fromkeys((k, v) for k, v, _ in best):
        picked = [r for (k, v, _), r in best.items() if (k, v) == (kind, volume)]
        dev = np.mean([100 * r["dev"] for r in picked])
        test = np.mean([100 * r["test"] for r in picked])
        rates = ", ".join(sorted({f"{r['learning_rate']:g}" for r in picked}))
        epochs = ", ".join(f"{r['best_epoch']:.3g}" for r in picked)
        seconds = np.mean([r["seconds"] for r in picked])
        lines.append(f"| {kind} | {volume:,} | {dev:.2f} | {test:.2f} | {rates} | {epochs} | {seconds:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
