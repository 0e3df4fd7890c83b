"""One command for every speed figure of the scale work, ours vs the reference in the same run.

    HF_HUB_OFFLINE=1 python bench/run_all.py [--quick] [--repeats 3] [--only bm25,faiss,label,stream] [--json out.json]

Figures (synthetic, seeded corpora from bench/corpus.py; medians over --repeats):
  bm25     all-vs-all top-5: sparse BM25Okapi (ours) vs rank-bm25's loop (reference; at 20k its time is
           extrapolated from a timed sample of queries, each query costs the same scan) and bm25s;
           100k sentences end to end (tokenise + index + search) with peak memory (fresh process).
  faiss    100k x 384-d, all-vs-all top-6 (self + 5): HNSW (build + search) vs exact IndexFlatIP
           (extrapolated from 2,000 timed queries), recall@6 of HNSW against exact on those queries.
  label    teacher labeling: `label_pairs` vs a bare `CrossEncoder.predict` on the same pairs; the
           ONNX runtime (`backend='onnx'`) vs torch when onnxruntime is installed (scores max |diff|).
  stream   `iter_candidate_chunks` (bm25, chunks of 50k) over 200k sentences: time, peak memory, chunks.
The machine (CPU, cores, memory, load average) is printed first. Targets are in BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from corpus import clustered_embeddings, zipf_sentences  # noqa: E402

RESULTS: dict = {}


def machine() -> dict:
    import psutil

    cpu = platform.processor() or ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def row(figure: str, ours: float, ref: float | None, unit: str = "s", note: str = "", target: str = "") -> None:
    ratio = f"{ref / ours:8.1f}x" if ref else "       -"
    ref_s = f"{ref:10.2f}" if ref is not None else "         -"
    print(
        f"  {figure:<46} ours {ours:9.2f} {unit:<4} ref {ref_s} {unit:<4} speed-up {ratio}  {target}  {note}",
        flush=True,
    )
    RESULTS.setdefault("rows", []).append(
        {
            "figure": figure,
            "ours": ours,
            "reference": ref,
            "speedup": (ref / ours) if ref else None,
            "unit": unit,
            "note": note,
            "target": target,
        }
    )


def peak_in_child(code: str) -> dict:
    """Run `code` in a fresh Python (peak RSS of that process only); it prints one JSON line."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'bench'}"},
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fig_bm25(repeats: int, quick: bool) -> None:
    import numpy as np

    from augsbert_core.sampling import tokenize
    from augsbert_core.sampling.bm25 import SparseBM25

    n = 5_000 if quick else 20_000
    sentences = zipf_sentences(n, seed=0)
    tokens = tokenize(sentences)

    def ours():
        return SparseBM25(tokenize(sentences)).topk(6)

    t_ours, (ids, _) = timed(ours, repeats)

    from rank_bm25 import BM25Okapi

    ref = BM25Okapi([t if t else [""] for t in tokens])
    sample = np.random.default_rng(0).choice(n, 200 if quick else 300, replace=False)

    def ref_sample():
        for q in sample:
            s = ref.get_scores(tokens[q])
            np.argpartition(-s, 5)[:6]

    t_sample, _ = timed(ref_sample, max(1, repeats - 1))
    t_ref = t_sample * n / len(sample) + 0.0
    row(
        f"BM25 all-vs-all top-5, {n:,} sentences",
        t_ours,
        t_ref,
        note=f"rank-bm25 extrapolated from {len(sample)} queries",
        target="target >=100x",
    )

    import bm25s

    def with_bm25s():
        r = bm25s.BM25(k1=1.5, b=0.75, method="robertson")
        toks = tokenize(sentences)
        r.index(toks, show_progress=False)
        r.retrieve([t if t else [""] for t in toks], k=6, show_progress=False, n_threads=0)

    t_bm25s, _ = timed(with_bm25s, 1)
    row(f"BM25 all-vs-all top-5, {n:,} sentences vs bm25s", t_ours, t_bm25s, note="bm25s 0.3 (robertson idf)")
    # agreement with the reference on the sampled queries
    overlaps = []
    for q in sample:
        s = ref.get_scores(tokens[q])
        top = np.argsort(-s, kind="stable")[:6]
        if s[top[4]] <= 0:
            continue
        cut = s[top[4]]
        ref_set = {int(j) for j in top[:5] if s[j] > cut + 1e-4}
        if ref_set:
            overlaps.append(len(ref_set & set(ids[q][:5].tolist())) / len(ref_set))
    print(f"    top-5 overlap with rank-bm25 on {len(overlaps)} queries (ties aside): {np.mean(overlaps):.4f}")
    RESULTS["bm25_overlap"] = float(np.mean(overlaps))

    big = 20_000 if quick else 100_000
    code = f"""
import json, resource, time
from corpus import zipf_sentences
from augsbert_core.sampling import bm25_neighbours
s = zipf_sentences({big}, seed=1)
times = []
for _ in range({repeats}):
    t = time.perf_counter(); ids, sc = bm25_neighbours(s, 6); times.append(time.perf_counter() - t)
times.sort()
peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps({{"median": times[len(times) // 2], "peak_gb": peak_gb}}))
"""
    out = peak_in_child(code)
    row(
        f"BM25 all-vs-all top-5, {big:,} sentences (end to end)",
        out["median"],
        None,
        note=f"peak RSS {out['peak_gb']:.2f} GB (whole process)",
        target="target <=30 s, <3 GB",
    )


def fig_faiss(repeats: int, quick: bool) -> None:
    import faiss
    import numpy as np

    from augsbert_core.sampling import build_vector_index

    n = 20_000 if quick else 100_000
    emb = clustered_embeddings(n, seed=0)
    sample = np.random.default_rng(1).choice(n, 2000, replace=False)
    flat = faiss.IndexFlatIP(emb.shape[1])
    flat.add(emb)
    t_flat_sample, (_, exact) = timed(lambda: flat.search(emb[sample], 6), 1)
    t_flat = t_flat_sample * n / len(sample)

    def hnsw():
        index = build_vector_index(emb, hnsw_threshold=0, depth=6)
        return index.search(emb, 6)

    t_hnsw, (_, approx) = timed(hnsw, repeats)
    recall = float(np.mean([len(set(approx[q]) & set(exact[i])) / 6 for i, q in enumerate(sample)]))
    row(
        f"faiss all-vs-all top-6, {n:,} x 384 (HNSW vs flat)",
        t_hnsw,
        t_flat,
        note=f"HNSW M=16 efC=40 efS=32, build+search; recall@6 {recall:.4f}; flat extrapolated from 2,000 queries",
        target="target <=15 s, recall >=0.98",
    )
    RESULTS["hnsw_recall"] = recall


def fig_label(repeats: int, quick: bool) -> None:
    import numpy as np
    import pandas as pd
    import torch

    from augsbert_core.models import load_cross_encoder
    from augsbert_core.teacher import label_pairs

    torch.manual_seed(0)
    model = load_cross_encoder("default", device="cpu")  # fresh head: speed does not depend on training
    gold = pd.read_csv(REPO / "demo" / "stsb" / "train.csv")
    m = 300 if quick else 600
    s1, s2 = gold["sentence1"].tolist()[:m], gold["sentence2"].tolist()[:m]
    pairs = list(zip(s1, s2))
    t_bare, bare = timed(lambda: model.predict(pairs, batch_size=64, show_progress_bar=False), repeats)
    t_ours, ours = timed(lambda: label_pairs(model, s1, s2, symmetric=False, batch_size=64), repeats)
    row(
        f"teacher labeling, {m:,} pairs (label_pairs vs bare predict)",
        t_ours,
        t_bare,
        note=f"{m / t_ours:.0f} vs {m / t_bare:.0f} pairs/s; max |diff| {np.abs(bare - ours).max():.1e}",
        target="target >=0.95x",
    )
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        print("    ONNX: onnxruntime not installed, skipped (pip install onnxruntime)")
        return
    from augsbert_core.teacher import OnnxCrossEncoder

    t0 = time.perf_counter()
    onnx = OnnxCrossEncoder(model)
    export_s = time.perf_counter() - t0
    t_onnx, onnx_scores = timed(lambda: onnx.predict(pairs, batch_size=64), repeats)
    diff = float(np.abs(onnx_scores - bare).max())
    row(
        f"teacher labeling, {m:,} pairs (ONNX runtime vs torch)",
        t_onnx,
        t_bare,
        note=f"export {export_s:.1f} s once; max |score diff| {diff:.1e}",
        target="offer if >=1.5x, diff <=0.01",
    )
    RESULTS["onnx"] = {"speedup": t_bare / t_onnx, "max_diff": diff}


def fig_stream(repeats: int, quick: bool) -> None:
    n = 50_000 if quick else 200_000
    code = f"""
import json, resource, time
from corpus import zipf_sentences
from augsbert_core.sampling import iter_candidate_chunks
s = zipf_sentences({n}, seed=2)
t = time.perf_counter(); pairs = chunks = biggest = 0
for frame in iter_candidate_chunks(s, "bm25", 3, chunk_size=50_000):
    pairs += len(frame); chunks += 1; biggest = max(biggest, len(frame))
print(json.dumps({{"seconds": time.perf_counter() - t, "pairs": pairs, "chunks": chunks, "biggest": biggest,
                  "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}}))
"""
    out = peak_in_child(code)
    row(
        f"streamed bm25 candidates, {n:,} sentences, chunks of 50k",
        out["seconds"],
        None,
        note=f"{out['pairs']:,} pairs in {out['chunks']} chunks (largest {out['biggest']:,}); "
        f"peak RSS {out['peak_gb']:.2f} GB",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run, not the figures)")
    parser.add_argument("--only", default="bm25,faiss,label,stream")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    info = machine()
    RESULTS["machine"] = info
    print(
        f"machine: {info['cpu']}, {info['usable_cores']} usable cores, {info['memory_gb']} GB, "
        f"Python {info['python']}, load average {info['loadavg_start'][0]:.2f} (1 min) at start, {info['date']}"
    )
    figures = {"bm25": fig_bm25, "faiss": fig_faiss, "label": fig_label, "stream": fig_stream}
    for name in args.only.split(","):
        print(f"[{name}]", flush=True)
        figures[name](args.repeats, args.quick)
    RESULTS["loadavg_end"] = os.getloadavg()
    print(f"load average at end: {RESULTS['loadavg_end'][0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(RESULTS, indent=2, default=str))


if __name__ == "__main__":
    main()
