"""Which student recipe turns the teacher's lead into student gains? (STSb-1k, after the CPU study.)

Trains the all-MiniLM-L6-v2 student on gold + silver pairs that the study already labeled (read from its
runs' silver.csv, so no teacher runs here) with a few variations, and prints dev/test Spearman x100:

  gold1 / gold3        gold pairs only, 1 / 3 epochs (the gold-only baseline at equal and at 3x epochs)
  bm25_1 / bm25_3      gold + the BM25 run's 3,000 silver pairs (ensemble labels), 1 / 3 epochs
  bm25ce_1             the same pairs labeled by the cross-encoder alone (column score_cross_encoder)
  union_1              gold + the silver pairs of the random, BM25, semantic and KDE runs (~8.8k), 1 epoch

  python experiments/explore_student.py --seed 42 --variants gold3,bm25_3,union_1,bm25ce_1
Needs a finished `bash experiments/run.sh cpu` (experiments/results/stsb-cpu/runs). Appends one JSON line
per variant to experiments/results/stsb-cpu/explore_student.jsonl.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from augsbert_core.config import ModelConfig
from augsbert_core.data import load_pairs
from augsbert_core.evaluation import bi_encoder_scores, primary_score
from augsbert_core.student import train_student

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--variants", default="gold1,gold3,bm25_1,bm25_3,bm25ce_1,union_1")
    parser.add_argument("--study", default=str(HERE / "results" / "stsb-cpu"))
    parser.add_argument("--models", default="/tmp/augsbert-explore", help="where the trained students go")
    args = parser.parse_args()
    study = Path(args.study)
    index = json.loads((study / "index.json").read_text())
    load = lambda split: load_pairs(HERE / "data" / "stsb-1k" / f"{split}.csv", task="regression", scale=(0, 5)).frame
    gold, dev, test = load("train"), load("dev"), load("test")

    def silver(sampler: str, column: str = "score") -> pd.DataFrame:
        run = next(Path(d) for k, d in index.items() if k.startswith(f"stsb-1k|{sampler}|{args.seed}|"))
        frame = pd.read_csv(run / "silver.csv")
        frame = frame[frame["kept"]]
        return frame.assign(label=frame[column].astype(float).clip(0, 1))[["sentence1", "sentence2", "label"]]

    def union(*samplers: str) -> pd.DataFrame:
        return pd.concat([silver(s) for s in samplers]).drop_duplicates(["sentence1", "sentence2"])

    variants = {
        "gold1": (lambda: gold, 1),
        "gold3": (lambda: gold, 3),
        "bm25_1": (lambda: pd.concat([gold, silver("bm25")]), 1),
        "bm25_3": (lambda: pd.concat([gold, silver("bm25")]), 3),
        "bm25ce_1": (lambda: pd.concat([gold, silver("bm25", "score_cross_encoder")]), 1),
        "union_1": (lambda: pd.concat([gold, union("random", "bm25", "semantic", "kde")]), 1),
    }
    for name in args.variants.split(","):
        make, epochs = variants[name]
        train = make()
        started = time.time()
        model = train_student(train, ModelConfig(epochs=epochs), Path(args.models) / name, seed=args.seed)
        score = lambda f: 100 * primary_score(bi_encoder_scores(model, f.sentence1.tolist(), f.sentence2.tolist()),
                                              f.label.to_numpy(), "regression")
        row = {"variant": name, "seed": args.seed, "rows": len(train), "epochs": epochs,
               "seconds": round(time.time() - started), "dev": round(score(dev), 2), "test": round(score(test), 2)}
        print(json.dumps(row), flush=True)
        with open(study / "explore_student.jsonl", "a") as out:
            out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
