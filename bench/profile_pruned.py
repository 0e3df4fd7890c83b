"""Where the pruned BM25 search (`SparseBM25.topk(k, max_df=T)`) spends its time, phase by phase.

    python bench/profile_pruned.py --n 200000 [--max-df 1000] [--jobs 1] [--save ids.npz] [--compare ids.npz]

Builds the dense synthetic corpus of bench/growth.py, then runs topk(5, max_df=T) once with perf_counter
accumulators wrapped around the phases (monkeypatched here, the library is unchanged): the split into
generating / rest terms, row slicing of the query matrices, the sparse products, the rescoring, and the
per-row top-k; and the work: candidates, and the common-term entries their rescoring reads. With --jobs 1
(default) the phases add up to the total; with 2 threads they overlap. --save / --compare store or check
the returned ids and scores (bit for bit)."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from corpus import dense_sentences  # noqa: E402

from augsbert_core.sampling import bm25, tokenize  # noqa: E402

SECONDS: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)
COUNTS: dict[str, int] = defaultdict(int)
_local = threading.local()


def timed(name: str, fn):
    """Wrap fn so that its time counts toward `name`, nested calls counting only toward the outermost."""

    def wrapper(*args, **kwargs):
        if getattr(_local, "inside", None):  # nested in another timed phase: counted there
            return fn(*args, **kwargs)
        _local.inside = name
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SECONDS[name] += time.perf_counter() - t
            CALLS[name] += 1
            _local.inside = None

    return wrapper


def instrument() -> None:
    bm25._Pruned.split = timed("split", bm25._Pruned.split)
    bm25._topk_rows = timed("topk_rows", bm25._topk_rows)
    for helper in ("_product", "_gather_common"):  # helpers of the compacted version, when present
        if hasattr(bm25, helper):
            setattr(bm25, helper, timed(helper.strip("_"), getattr(bm25, helper)))
    # rescore: nested scipy calls count toward it; the work counts are taken outside its timing
    rescore = timed("rescore", bm25._Pruned.rescore)

    def rescore_counted(self, scores, rest, *args, **kwargs):
        out = rescore(self, scores, rest, *args, **kwargs)
        s = scores.tocsr()
        w_ptr = self.weights.indptr
        COUNTS["candidates"] += s.nnz
        COUNTS["common entries gathered"] += int((w_ptr[s.indices + 1] - w_ptr[s.indices]).sum())
        COUNTS["rest nnz"] += rest.nnz
        return out

    bm25._Pruned.rescore = rescore_counted
    for cls in {sp.csr_matrix, type(sp.csr_matrix((1, 1)))}:
        cls.__matmul__ = timed("product (@)", cls.__matmul__)
        cls.__getitem__ = timed("row slicing", cls.__getitem__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--max-df", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--save")
    parser.add_argument("--compare")
    parser.add_argument("--no-instrument", action="store_true")
    args = parser.parse_args()
    t = time.perf_counter()
    index = bm25.SparseBM25(tokenize(dense_sentences(args.n, seed=0)))
    print(f"n={args.n:,} index {time.perf_counter() - t:.1f}s", flush=True)
    index._pruned[args.max_df] = bm25._Pruned(index, args.max_df)  # built outside the timed search
    if not args.no_instrument:
        instrument()
    t = time.perf_counter()
    ids, scores = index.topk(5, max_df=args.max_df, n_jobs=args.jobs)
    total = time.perf_counter() - t
    pruned = index._pruned[args.max_df]
    print(f"max_df={args.max_df} common terms {len(pruned.common)} jobs {args.jobs}: total {total:.2f}s")
    for name in sorted(SECONDS, key=SECONDS.get, reverse=True):
        print(f"  {name:<28} {SECONDS[name]:8.2f}s  {CALLS[name]:>6} calls")
    if args.jobs == 1:  # the rest of topk, and the work counting (outside the phases, inside the total)
        print(f"  {'other':<28} {total - sum(SECONDS.values()):8.2f}s")
    for name, value in COUNTS.items():
        print(f"  {name:<28} {value:>14,}  ({value / args.n:,.1f} per query)")
    if args.save:
        np.savez(args.save, ids=ids, scores=scores)
    if args.compare:
        ref = np.load(args.compare)
        same_ids = np.array_equal(ref["ids"], ids)
        same_scores = np.array_equal(ref["scores"], scores)
        print(f"identical to {args.compare}: ids {same_ids}, scores {same_scores}", end="")
        if not same_scores:
            print(
                f" (max |diff| {np.abs(ref['scores'] - scores).max():.3g}, rows differing in ids "
                f"{int((ref['ids'] != ids).any(axis=1).sum())})",
                end="",
            )
        print()


if __name__ == "__main__":
    main()
