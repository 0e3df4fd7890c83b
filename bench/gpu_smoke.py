"""GPU smoke run and throughput figures (one prepared script for a lent GPU machine; also runs on CPU).

Measures, on the built-in STSb demo data with the default MiniLM:
  - student (bi-encoder) training steps/s at batch 16 and 64, mixed precision on CUDA
  - teacher (cross-encoder) training steps/s at batch 16
  - labeling pairs/s: our `label_pairs` (one order) vs a bare `CrossEncoder.predict` on the same pairs
then runs the whole scenario-2 demo experiment and prints its metrics table.

Usage: python bench/gpu_smoke.py [--steps 60] [--pairs 20000] [--no-demo] [--out results.json]"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _sync():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def train_throughput(kind: str, frame, batch_size: int, steps: int, device: str) -> float:
    """Steps per second over `steps` training steps (after the trainer has warmed up)."""
    import tempfile

    from augsbert_core.config import ModelConfig
    from augsbert_core.runs.progress import ProgressEvent
    from augsbert_core.student import train_student
    from augsbert_core.teacher import train_teacher

    n_pairs = steps * batch_size if kind == "student" else steps * batch_size // 2  # teacher trains both orders
    data = frame.sample(n=n_pairs, replace=True, random_state=0).reset_index(drop=True)
    marks: dict[int, float] = {}

    def sink(event: ProgressEvent) -> None:
        if event.total and event.step not in marks:
            marks[event.step] = time.perf_counter()

    cfg = ModelConfig(epochs=1, batch_size=batch_size)
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "student":
            train_student(data, cfg, Path(tmp) / "m", device=device, sink=sink)
        else:
            train_teacher(data, cfg, Path(tmp) / "m", device=device, sink=sink)
    first = min(k for k in marks if k >= 5)  # skip warm-up steps
    last = max(marks)
    return (last - first) / (marks[last] - marks[first])


def label_throughput(pairs, device: str, batch_size: int) -> dict[str, float]:
    from augsbert_core.models import load_cross_encoder
    from augsbert_core.teacher import label_pairs

    model = load_cross_encoder("default", device=device)
    s1, s2 = [a for a, _ in pairs], [b for _, b in pairs]
    model.predict(pairs[:256], batch_size=batch_size, show_progress_bar=False)  # warm-up
    times = {"bare": [], "ours": []}
    for _ in range(3):
        _sync()
        t = time.perf_counter()
        model.predict(pairs, batch_size=batch_size, show_progress_bar=False)
        _sync()
        times["bare"].append(time.perf_counter() - t)
        t = time.perf_counter()
        label_pairs(model, s1, s2, batch_size=batch_size, symmetric=False)
        _sync()
        times["ours"].append(time.perf_counter() - t)
    med = {k: sorted(v)[1] for k, v in times.items()}
    return {
        "bare_pairs_per_s": len(pairs) / med["bare"],
        "ours_pairs_per_s": len(pairs) / med["ours"],
        "ours_vs_bare": med["bare"] / med["ours"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--pairs", type=int, default=20000)
    ap.add_argument("--no-demo", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()

    import torch

    from augsbert_core.io.data import load_pairs
    from augsbert_core.models import choose_device, device_description
    from augsbert_core.sampling import sample_candidates

    device = choose_device()
    info = {
        "device": device_description(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
    import sentence_transformers
    import transformers

    info.update(sentence_transformers=sentence_transformers.__version__, transformers=transformers.__version__)
    print(json.dumps(info), flush=True)
    results: dict = {"machine": info}
    gold = load_pairs(REPO / "demo" / "stsb" / "train.csv", scale=(0, 5)).frame
    for kind, bs in (("student", 16), ("student", 64), ("teacher", 16)):
        t = time.time()
        results[f"{kind}_bs{bs}_steps_per_s"] = round(train_throughput(kind, gold, bs, args.steps, device), 2)
        print(
            f"{kind} batch {bs}: {results[f'{kind}_bs{bs}_steps_per_s']} steps/s ({time.time() - t:.0f} s)", flush=True
        )
    unlabeled = [line.strip() for line in (REPO / "demo" / "stsb" / "unlabeled.csv").read_text().splitlines()[1:]]
    sentences = list(gold["sentence1"]) + list(gold["sentence2"]) + unlabeled
    cands = sample_candidates(sentences, "bm25", 10, gold=gold)
    pairs = list(zip(cands["sentence1"], cands["sentence2"]))[: args.pairs]
    results["label"] = {
        k: round(v, 3) for k, v in label_throughput(pairs, device, 128 if device == "cuda" else 64).items()
    }
    results["label"]["pairs"] = len(pairs)
    print("label:", results["label"], flush=True)
    if not args.no_demo:
        from augsbert_core import ExperimentConfig, RunStore, run_experiment

        cfg = ExperimentConfig.from_file(REPO / "configs" / "demo-stsb-bm25.yaml")
        cfg.teacher.epochs = 4
        t = time.time()
        result = run_experiment(cfg, store=RunStore(Path(os.environ.get("OUT", "/tmp")) / "runs"))
        results["demo_seconds"] = round(time.time() - t, 1)
        results["demo_metrics"] = result.metrics
        results["demo_timings"] = {k: round(v, 1) for k, v in result.timings.items()}
        print(f"demo (scenario 2, bm25, teacher 4 epochs): {results['demo_seconds']} s", flush=True)
        print(result.table(), flush=True)
        print(json.dumps(result.gate), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
