"""How candidate search grows with the pool: all-vs-all BM25 top-5 (exact and pruned) and semantic top-5 (HNSW).

    python bench/growth.py [--sizes 50000,100000,200000,500000,1000000] [--exact-max 200000] [--max-df 1000]
                           [--skip-semantic] [--label] [--json out.json]

Each size runs in a fresh process (peak memory is that process's), on the dense synthetic corpus of the
scale issue (`corpus.dense_sentences`: 30k-word Zipf vocabulary, 6-17 words per sentence, no stop words, so
the most frequent terms sit in most sentences). Per size it prints:
  bm25 exact   SparseBM25.topk(5): exact BM25Okapi (up to --exact-max sentences; above, too slow to wait for)
  bm25 pruned  topk(5, max_df=T): candidates from terms in at most T sentences (+ each query's rarest
               term), rescored exactly; recall@5 against exact on 2,000 sampled queries (exact search for
               those queries only, so it is measured at every size), and the ratio exact/pruned where both ran
  semantic     faiss HNSW (M=16, efConstruction=40) build + search top-6 over clustered 384-d vectors
and then the growth exponent between consecutive sizes (log t2/t1 / log n2/n1: 1 = linear, 2 = quadratic).
--label adds labeling throughput of the offline MiniLM cross-encoder against batch size (pairs/s).
Absolute seconds are context for this machine; the exponents and ratios are the claims (BENCHMARKS.md)."""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from corpus import clustered_embeddings, dense_sentences  # noqa: E402

TOP_K = 5
RECALL_QUERIES = 2000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_size(n: int, exact_max: int, max_df: int, semantic: bool) -> dict:
    """Every measurement for one size, in this (fresh) process."""
    from augsbert_core.sampling import tokenize
    from augsbert_core.sampling.bm25 import SparseBM25

    out: dict = {"n": n}
    t = time.perf_counter()
    sentences = dense_sentences(n, seed=0)
    tokens = tokenize(sentences)
    index = SparseBM25(tokens)
    out["index_s"] = time.perf_counter() - t
    out["max_df"] = max_df
    t = time.perf_counter()
    pruned_ids, _ = index.topk(TOP_K, max_df=max_df)
    out["bm25_pruned_s"] = time.perf_counter() - t
    out["common_terms"] = int(len(index._pruned[max_df].common))
    out["peak_mb_after_pruned"] = peak_mb()
    sample = np.random.default_rng(0).choice(n, size=min(RECALL_QUERIES, n), replace=False)
    exact_sample, _ = index.topk(TOP_K, sample)
    hits = total = 0
    for row, query in enumerate(sample):
        truth = set(exact_sample[row][exact_sample[row] >= 0].tolist())
        hits += len(truth & set(pruned_ids[query][pruned_ids[query] >= 0].tolist()))
        total += len(truth)
    out["recall_at_5"] = hits / max(total, 1)
    if n <= exact_max:
        t = time.perf_counter()
        index.topk(TOP_K)
        out["bm25_exact_s"] = time.perf_counter() - t
        out["peak_mb_after_exact"] = peak_mb()
    if semantic:
        from augsbert_core.sampling import build_vector_index

        emb = clustered_embeddings(n, seed=0)
        t = time.perf_counter()
        vectors = build_vector_index(emb, hnsw_threshold=0, depth=TOP_K + 1)
        vectors.search(emb, TOP_K + 1)
        out["semantic_hnsw_s"] = time.perf_counter() - t
    out["peak_mb"] = peak_mb()
    return out


def label_throughput(batch_sizes: list[int], pairs: int = 512) -> list[dict]:
    """Pairs/s of the offline MiniLM cross-encoder (fresh head: speed only) at each batch size."""
    from sentence_transformers import CrossEncoder

    from augsbert_core.models import resolve_model

    model = CrossEncoder(resolve_model("default"), num_labels=1, device="cpu")
    sentences = dense_sentences(2 * pairs, seed=1)
    batch = list(zip(sentences[:pairs], sentences[pairs:]))
    model.predict(batch[:32], batch_size=32)  # warm-up
    rows = []
    for size in batch_sizes:
        t = time.perf_counter()
        model.predict(batch, batch_size=size, show_progress_bar=False)
        rows.append({"batch_size": size, "pairs_per_s": pairs / (time.perf_counter() - t)})
    return rows


def exponent(rows: list[dict], key: str, i: int) -> str:
    a, b = rows[i - 1], rows[i]
    if key not in a or key not in b:
        return "   –"
    return f"{math.log(b[key] / a[key]) / math.log(b['n'] / a['n']):4.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50000,100000,200000,500000,1000000")
    parser.add_argument("--exact-max", type=int, default=200_000)
    parser.add_argument("--max-df", type=int, default=1000)
    parser.add_argument("--skip-semantic", action="store_true")
    parser.add_argument("--label", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, args.exact_max, args.max_df, not args.skip_semantic)))
        return
    print(f"cpus {len(os.sched_getaffinity(0))}, load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}")
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--one", str(n), "--exact-max", str(args.exact_max)]
        cmd += ["--max-df", str(args.max_df)] + (["--skip-semantic"] if args.skip_semantic else [])
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        ratio = f"{row['bm25_exact_s'] / row['bm25_pruned_s']:.1f}x" if "bm25_exact_s" in row else "–"
        print(
            f"n={n:>9,}  index {row['index_s']:6.1f}s  bm25 exact "
            + (f"{row['bm25_exact_s']:7.1f}s" if "bm25_exact_s" in row else "      –")
            + f"  pruned(max_df={row['max_df']}) {row['bm25_pruned_s']:6.1f}s ({ratio} faster)"
            + f"  recall@5 {row['recall_at_5']:.4f}  common terms {row['common_terms']}"
            + (f"  semantic HNSW {row['semantic_hnsw_s']:6.1f}s" if "semantic_hnsw_s" in row else "")
            + f"  peak {row['peak_mb']:,.0f} MB",
            flush=True,
        )
    print("\ngrowth exponents between consecutive sizes (1 = linear, 2 = quadratic)")
    print("      n   bm25 exact  bm25 pruned  semantic")
    for i in range(1, len(rows)):
        print(
            f"{rows[i]['n']:>9,}   {exponent(rows, 'bm25_exact_s', i)}        "
            f"{exponent(rows, 'bm25_pruned_s', i)}         {exponent(rows, 'semantic_hnsw_s', i)}"
        )
    result = {"sizes": rows}
    if args.label:
        result["label"] = label_throughput([8, 16, 32, 64, 128])
        print("\nlabeling throughput (offline MiniLM cross-encoder, CPU)")
        for r in result["label"]:
            print(f"  batch {r['batch_size']:>4}: {r['pairs_per_s']:7.1f} pairs/s")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
