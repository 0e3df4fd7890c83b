"""A student's speed and agreement in each export format (`augsbert export`), against the torch student it came from.

    HF_HUB_OFFLINE=1 python bench/onnx_students.py [--model DIR] [--pairs demo/stsb/test.csv] [--repeats 3]

--model: a sentence-transformers student folder (a run's models/augsbert/; default: the offline MiniLM, the zero-shot
student). On the pairs' sentences (the demo's 1,377 STSb test pairs by default) each format encodes every sentence
once per repeat, interleaved with torch so load changes hit all alike; printed per format: sentences/s (median) and
its ratio to torch, the largest |difference| of an embedding value and the smallest cosine to torch's embedding,
and the test Spearman of the pairs' cosine against their gold (torch's beside it). Same machine, same run."""

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
    import numpy as np
    import pandas as pd
    from scipy.stats import spearmanr
    from sentence_transformers import SentenceTransformer

    from augsbert_core.models import resolve_model
    from augsbert_core.student.export import OnnxEncoder, export_student

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--pairs", type=Path, default=REPO / "demo" / "stsb" / "test.csv")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    folder = Path(args.model or resolve_model("default"))
    pairs = pd.read_csv(args.pairs)
    sentences = list(dict.fromkeys([*pairs["sentence1"], *pairs["sentence2"]]))
    gold = pairs["score"].to_numpy(dtype=float)
    print(
        f"model {folder}; {len(sentences):,} sentences of {len(pairs):,} pairs ({args.pairs}); cpu cores "
        f"{len(os.sched_getaffinity(0))}, load {os.getloadavg()[0]:.2f}"
    )

    torch_model = SentenceTransformer(str(folder), device="cpu")
    encoders = {"torch": lambda s: torch_model.encode(s, batch_size=args.batch_size, convert_to_numpy=True)}
    scratch = Path(tempfile.mkdtemp(prefix="onnx-bench-"))
    for fmt in ("onnx", "onnx-int8"):
        t0 = time.time()
        out = export_student(folder, fmt, scratch / fmt)
        size = sum(f.stat().st_size for f in (out / "onnx").glob("*.onnx")) / 1e6
        print(f"exported {fmt} in {time.time() - t0:.1f} s ({size:.1f} MB of ONNX weights)")
        encoder = OnnxEncoder(out)
        encoders[fmt] = lambda s, e=encoder: e.encode(s, batch_size=args.batch_size)

    for encode in encoders.values():  # warm up: first calls allocate
        encode(sentences[:64])
    times: dict[str, list[float]] = {name: [] for name in encoders}
    embeddings: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        for name, encode in encoders.items():
            t0 = time.perf_counter()
            embeddings[name] = encode(sentences)
            times[name].append(time.perf_counter() - t0)

    index = {s: i for i, s in enumerate(sentences)}
    a_rows = [index[s] for s in pairs["sentence1"]]
    b_rows = [index[s] for s in pairs["sentence2"]]

    def spearman(vectors: np.ndarray) -> float:
        a, b = vectors[a_rows], vectors[b_rows]
        cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        return 100 * float(spearmanr(cos, gold).statistic)

    reference = embeddings["torch"]
    base = statistics.median(times["torch"])
    print(
        f"\n{'format':<10} {'sentences/s':>12} {'x torch':>8} {'max |diff|':>11} {'min cosine':>11} "
        f"{'test Spearman':>14}"
    )
    for name, vectors in embeddings.items():
        speed = len(sentences) / statistics.median(times[name])
        diff = float(np.abs(vectors - reference).max())
        cosine = float(
            ((vectors * reference).sum(1) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(reference, axis=1))).min()
        )
        print(
            f"{name:<10} {speed:>12,.0f} {base / statistics.median(times[name]):>7.2f}x {diff:>11.2e} {cosine:>11.4f} "
            f"{spearman(vectors):>14.2f}"
        )


if __name__ == "__main__":
    main()
