"""Which student recipe turns the teacher's lead into student gains? (issue 13, item 3; chosen on dev only)

Trains the all-MiniLM-L6-v2 student on the gold pairs and the silver pairs a finished run of the CPU study
already labeled (its silver.csv: no teacher runs here), with one change at a time against the study's recipe
(gold + silver, 1 epoch, cosine loss), and prints dev/test Spearman x100:

  gold1 / gold2 / gold3   gold pairs only, 1 / 2 / 3 epochs (is the gold-only baseline under-trained?)
  aug1 / aug2             gold + silver, 1 / 2 epochs (aug1 = the study's AugSBERT student, re-trained)
  gold3x                  gold repeated 3 times + silver, 1 epoch (gold upweighted)
  silver_gold             silver 1 epoch, then gold 1 epoch from that model (silver-then-gold)
  aug_cosent / aug_angle  gold + silver, 1 epoch, CoSENT / AnglE loss
  aug_ens                 gold + silver labeled by the ensemble (score_ensemble) instead of the chosen labeler
  silver_gold3            silver 1 epoch, then gold 3 epochs (against gold3: equal gold epochs)
  aug_gold2               gold + silver 1 epoch, then gold 2 more epochs (against gold3)

  python experiments/explore_student.py --experiment stsb-1k --seed 42 --variants gold3,aug2,gold3x,silver_gold
Needs a finished `bash experiments/run.sh cpu` (experiments/results/stsb-cpu-v2/runs). Appends one JSON line
per variant to experiments/results/stsb-cpu-v2/explore_student.jsonl.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from augsbert_core.config import ModelConfig
from augsbert_core.evaluation import bi_encoder_scores, primary_score
from augsbert_core.io.data import load_pairs
from augsbert_core.student import train_student

HERE = Path(__file__).resolve().parent
RECIPE = ModelConfig(epochs=1, batch_size=16, learning_rate=2e-5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="stsb-1k", help="stsb-1k or stsb-1k-b")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--variants", default="gold3,aug2,gold3x,silver_gold")
    parser.add_argument("--study", default=str(HERE / "results" / "stsb-cpu-v2"))
    parser.add_argument("--models", default="/tmp/augsbert-explore", help="where the trained students go")
    args = parser.parse_args()
    study = Path(args.study)
    index = json.loads((study / "index.json").read_text())
    run = next(Path(d) for k, d in index.items() if k.startswith(f"{args.experiment}|None|{args.seed}|"))
    folder = HERE / "data" / args.experiment

    def load(split: str) -> pd.DataFrame:
        return load_pairs(folder / f"{split}.csv", task="regression", scale=(0, 5)).frame

    gold, dev, test = load("train"), load("dev"), load("test")
    frame = pd.read_csv(run / "silver.csv")
    frame = frame[frame["kept"]]

    def silver(column: str = "score") -> pd.DataFrame:
        return frame.assign(label=frame[column].astype(float).clip(0, 1))[["sentence1", "sentence2", "label"]]

    both = lambda *parts: pd.concat(parts, ignore_index=True)  # noqa: E731
    variants = {
        "gold1": [(lambda: gold, RECIPE)],
        "gold2": [(lambda: gold, replace(RECIPE, epochs=2))],
        "gold3": [(lambda: gold, replace(RECIPE, epochs=3))],
        "aug1": [(lambda: both(gold, silver()), RECIPE)],
        "aug2": [(lambda: both(gold, silver()), replace(RECIPE, epochs=2))],
        "gold3x": [(lambda: both(gold, gold, gold, silver()), RECIPE)],
        "silver_gold": [(lambda: silver(), RECIPE), (lambda: gold, RECIPE)],
        "aug_cosent": [(lambda: both(gold, silver()), replace(RECIPE, loss="cosent"))],
        "aug_angle": [(lambda: both(gold, silver()), replace(RECIPE, loss="angle"))],
        "aug_ens": [(lambda: both(gold, silver("score_ensemble")), RECIPE)],
        "silver_gold3": [(lambda: silver(), RECIPE), (lambda: gold, replace(RECIPE, epochs=3))],
        "aug_gold2": [(lambda: both(gold, silver()), RECIPE), (lambda: gold, replace(RECIPE, epochs=2))],
    }
    for name in args.variants.split(","):
        started = time.time()
        base, rows = "default", 0
        for step, (make, cfg) in enumerate(variants[name]):
            train = make()
            rows += len(train)
            out = Path(args.models) / f"{args.experiment}-{args.seed}-{name}-{step}"
            model = train_student(train, replace(cfg, model=base), out, seed=args.seed)
            base = str(out)

        def score(f: pd.DataFrame, model=model) -> float:
            pred = bi_encoder_scores(model, f.sentence1.tolist(), f.sentence2.tolist())
            return 100 * primary_score(pred, f.label.to_numpy(), "regression")

        row = {
            "experiment": args.experiment,
            "variant": name,
            "seed": args.seed,
            "rows": rows,
            "seconds": round(time.time() - started),
            "dev": round(score(dev), 2),
            "test": round(score(test), 2),
        }
        print(json.dumps(row), flush=True)
        with open(study / "explore_student.jsonl", "a") as out_file:
            out_file.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
