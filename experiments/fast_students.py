"""Which students does silver teach? Tuned gold-only vs AugSBERT vs full gold, per student kind (issue 23, items 2, 6).

Every student is early-stopped on dev (`epochs: auto`: evaluated each epoch, best epoch kept, patience 2, at most
`--max-epochs`); with several learning rates per kind, each (kind, training set) keeps the rate that is best on dev,
so the gold-only baseline gets the same tuning budget as AugSBERT. The silver labels are those of a finished run
(its silver.csv, the kept pairs: no teacher runs here), so every kind learns from the same labels.

    python experiments/prepare_data.py        # experiments/data/stsb-1k from ../shared/data
    augsbert run configs/demo-stsb.yaml       # a run whose silver.csv labels the 4,749 other STSb train pairs
    python experiments/fast_students.py --silver RUN_DIR/silver.csv --kinds static --seeds 42,43,44 \
        --lrs static=0.005,0.02

Appends one JSON line per training to --out and prints the table (test Spearman x100, mean +- std over seeds; share
of the gap = (AugSBERT - gold-only) / (full gold - gold-only); sentences/s of encoding the test split's sentences).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import pandas as pd

from augsbert_core.config import STATIC_BATCH_SIZE, STATIC_LEARNING_RATE, ModelConfig
from augsbert_core.evaluation import evaluate_bi_encoder
from augsbert_core.io.data import load_pairs
from augsbert_core.models import load_student
from augsbert_core.student import train_student

HERE = Path(__file__).resolve().parent
# kind -> (base model, layers, default learning rate)
KINDS = {
    "minilm": ("default", None, 2e-5),
    "layers2": ("default", 2, 5e-5),
    "layers3": ("default", 3, 5e-5),
    "static": ("static", None, STATIC_LEARNING_RATE),
}
VARIANTS = ("zero_shot", "gold_only", "augsbert", "full_gold")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=HERE / "data" / "stsb-1k")
    parser.add_argument("--silver", type=Path, required=True, help="silver.csv of a finished run (kept pairs used)")
    parser.add_argument("--kinds", default="static", help=f"comma-separated, from {', '.join(KINDS)}")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--seeds", default="42")
    parser.add_argument("--lrs", default="", help="per kind, e.g. 'static=0.005,0.02;layers2=5e-5,1e-4'")
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="every training's batch (default: the kind's, as the product's)"
    )
    parser.add_argument(
        "--samplers", default="", help="keep only silver pairs from these samplers, e.g. 'given' (transformer default)"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "fast-students" / "results.jsonl")
    args = parser.parse_args()

    gold = load_pairs(args.data / "train.csv", scale=(0, 5)).frame
    full = load_pairs(args.data / "full-train.csv", scale=(0, 5)).frame
    splits = {name: load_pairs(args.data / f"{name}.csv", scale=(0, 5)).frame for name in ("dev", "test")}
    silver = pd.read_csv(args.silver, keep_default_na=False)
    silver = silver[silver["kept"].astype(str).str.lower().isin(["true", "1"])]
    if args.samplers:
        silver = silver[silver["sampler"].isin(args.samplers.split(","))]
    augmented = pd.concat([gold, silver[["sentence1", "sentence2", "label"]].astype({"label": float})])
    train_sets = {"gold_only": gold, "augsbert": augmented.reset_index(drop=True), "full_gold": full}
    rates = _rates(args.lrs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in args.kinds.split(","):
        model, layers, usual = KINDS[kind]
        for seed in [int(s) for s in args.seeds.split(",")]:
            for variant in args.variants.split(","):
                for lr in [None] if variant == "zero_shot" else rates.get(kind, [usual]):
                    row = _one(
                        kind, model, layers, lr, seed, variant, train_sets, splits, args.max_epochs, args.batch_size
                    )
                    rows.append(row)
                    with open(args.out, "a", encoding="utf8") as handle:
                        handle.write(json.dumps(row) + "\n")
                    print(json.dumps({k: v for k, v in row.items() if k != "schedule"}), flush=True)
    print(table(rows))


def _rates(text: str) -> dict[str, list[float]]:
    out = {}
    for part in filter(None, text.split(";")):
        kind, values = part.split("=")
        out[kind.strip()] = [float(v) for v in values.split(",")]
    return out


def _one(kind, model, layers, lr, seed, variant, train_sets, splits, max_epochs, batch_size=None) -> dict:
    batch_size = batch_size or (STATIC_BATCH_SIZE if model == "static" else 16)
    cfg = ModelConfig(
        model=model,
        layers=layers,
        epochs="auto",
        max_epochs=max_epochs,
        learning_rate=lr or 2e-5,
        batch_size=batch_size,
    )
    t0, schedule = time.time(), {}
    if variant == "zero_shot":
        student = load_student(cfg, device="cpu")
    else:
        folder = HERE / "results" / "fast-students" / ".models" / f"{kind}-{variant}-{seed}"
        student = train_student(
            train_sets[variant], cfg, folder, dev=splits["dev"], seed=seed, device="cpu", schedule=schedule
        )
    speed: dict = {}
    metrics = evaluate_bi_encoder(student, splits, "regression", speed=speed)
    return {
        "kind": kind,
        "variant": variant,
        "seed": seed,
        "learning_rate": lr,
        "batch_size": batch_size,
        "pairs": 0 if variant == "zero_shot" else len(train_sets[variant]),
        **measured(metrics, speed, schedule, t0),
    }


def measured(metrics: dict, speed: dict, schedule: dict, t0: float) -> dict:
    """The fields every training row records: dev and test Spearman, sentences/s, the schedule it got, seconds."""
    return {
        "dev": metrics["dev"]["spearman"],
        "test": metrics["test"]["spearman"],
        "sentences_per_s": speed.get("sentences_per_s"),
        "best_epoch": schedule.get("best_epoch"),
        "epochs_run": schedule.get("epochs_run"),
        "steps_run": schedule.get("steps_run"),
        "seconds": round(time.time() - t0, 1),
        "schedule": {k: v for k, v in schedule.items() if k != "dev_history"},
    }


def dev_best(rows: list[dict], fields: tuple[str, ...]) -> dict[tuple, dict]:
    """Per key of `fields` (e.g. kind, variant, seed), the row best on dev: the learning rate dev chose."""
    best: dict[tuple, dict] = {}
    for r in rows:
        key = tuple(r[f] for f in fields)
        if key not in best or r["dev"] > best[key]["dev"]:
            best[key] = r
    return best


def table(rows: list[dict]) -> str:
    """Test Spearman x100 per kind and variant (the dev-best learning rate per seed), mean +- std over seeds."""
    chosen = dev_best(rows, ("kind", "variant", "seed"))
    lines = [
        "| student | zero-shot | gold-only, tuned | AugSBERT, tuned | full gold, tuned | gap recovered (test) | "
        "gap recovered (dev) | sentences/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in dict.fromkeys(r["kind"] for r in rows):
        cells, means = [], {}
        for variant in VARIANTS:
            picked = [r for (k, v, _), r in chosen.items() if k == kind and v == variant]
            test = [100 * r["test"] for r in picked]
            means[variant] = (
                statistics.mean(test) if test else None,
                statistics.mean(100 * r["dev"] for r in picked) if picked else None,
            )
            if not test:
                cells.append("–")
                continue
            spread = f" ± {statistics.stdev(test):.2f}" if len(test) > 1 else ""
            epochs = ", ".join(f"{r['best_epoch']:g}" for r in picked if r["best_epoch"])
            rate = ", ".join(sorted({f"{r['learning_rate']:g}" for r in picked if r["learning_rate"]}))
            note = f" (ep {epochs}; lr {rate})" if epochs else ""
            cells.append(f"{statistics.mean(test):.2f}{spread}{note}")
        shares = []
        for which in (0, 1):
            g, a, f = (means.get(v, (None, None))[which] for v in ("gold_only", "augsbert", "full_gold"))
            shares.append(f"{100 * (a - g) / (f - g):.0f}%" if None not in (g, a, f) and f != g else "–")
        speeds = [r["sentences_per_s"] for (k, v, _), r in chosen.items() if k == kind and r["sentences_per_s"]]
        speed = f"{statistics.mean(speeds):,.0f}" if speeds else "–"
        lines.append(f"| {kind} | " + " | ".join(cells) + f" | {shares[0]} | {shares[1]} | {speed} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
