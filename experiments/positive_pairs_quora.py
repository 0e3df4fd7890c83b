"""Task positive_pairs on Quora (issue 15, item 2): positive pairs only as gold, negatives mined.

Gold: the first N duplicate pairs (label 1) of the BiMPM Quora dev split, as anchor/positive without labels.
Pool: questions of other dev pairs (sentences only). Dev: 300 random other dev pairs with 0/1 labels. Test: the first
1,000 test pairs (0/1): AP / F1 on all of them, retrieval (MRR@10 ...) on their positives.

    flock /tmp/augsbert-cpu.lock env HF_HUB_OFFLINE=1 python experiments/positive_pairs_quora.py [N] [POOL]

Writes the data to experiments/data/positive-pairs-<N>-<POOL>/ and the run under
experiments/results/positive-pairs-<N>-<POOL>/runs/ (neither committed); prints the metrics table.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import pandas as pd

from augsbert_core import ExperimentConfig, RunStore, run_experiment

ROOT = Path(__file__).resolve().parents[1]
QUORA = ROOT.parent / "shared" / "data" / "quora" / "quora_bimpm_dev_test.tsv.gz"


def main(n_gold: int = 300, n_pool: int = 1000) -> None:
    out = ROOT / "experiments" / "results" / f"positive-pairs-{n_gold}-{n_pool}"
    data = ROOT / "experiments" / "data" / f"positive-pairs-{n_gold}-{n_pool}"  # not committed (Quora's licence)
    data.mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(QUORA, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
    frame["label"] = frame["label"].astype(int)
    dev_split = frame[frame["split"] == "dev"].reset_index(drop=True)
    test = frame[frame["split"] == "test"].head(1000)
    gold = dev_split[dev_split["label"] == 1].head(n_gold)
    rest = dev_split.drop(gold.index)
    dev = rest.sample(300, random_state=0)  # both classes (the rows around the gold are mostly negatives)
    pool_pairs = rest.drop(dev.index)
    gold.rename(columns={"sentence1": "anchor", "sentence2": "positive"})[["anchor", "positive"]].to_csv(
        data / "train.csv", index=False
    )
    dev[["sentence1", "sentence2", "label"]].to_csv(data / "dev.csv", index=False)
    test[["sentence1", "sentence2", "label"]].to_csv(data / "test.csv", index=False)
    sentences = list(dict.fromkeys([*pool_pairs["sentence1"], *pool_pairs["sentence2"]]))[:n_pool]
    pd.DataFrame({"sentence": sentences}).to_csv(data / "pool.csv", index=False)
    cfg = ExperimentConfig.from_dict(
        {
            "name": f"quora-positive-pairs-{n_gold}",
            "scenario": 2,
            "data": {k: str(data / f"{k}.csv") for k in ("train", "dev", "test")}
            | {"unlabeled": str(data / "pool.csv")},
            "sampler": "bm25",
            "top_k": 1,
            "teacher": {"warm_start_top_k": 0},
            "live_evals": 0,
            "checkpoints": 0,
            "seed": 42,
        }
    )
    start = time.time()
    result = run_experiment(cfg, store=RunStore(out / "runs"))
    print(result.table())
    print(f"{time.time() - start:.0f} s; run {result.run_dir}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
