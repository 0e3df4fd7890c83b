"""All-vs-all BM25 on sparse matrices: the exact BM25Okapi scores of rank-bm25, in a fraction of its time.

rank-bm25 scores one query against every document in a Python loop, so all-vs-all is quadratic with
a large constant (about 80 s for 10k sentences on 2 cores, 1.5 hours for 50k). Here the corpus becomes
a sparse weight matrix W (documents x terms) holding each term's BM25 contribution

    W[d, t] = idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))

and the scores of a block of queries are one sparse product Q @ W.T, where Q holds the queries' term
counts (rank-bm25 adds a repeated query term once per occurrence). idf is BM25Okapi's,
log((N - df + 0.5) / (df + 0.5)), including its floor: a term in more than half of the documents gets
`epsilon * mean(idf)` instead of its negative idf. The top k of each query row are picked from the
sparse block (padded per block, `argpartition`), so memory stays bounded by the block size whatever
the corpus size, and blocks run on a small thread pool (scipy and numpy release the GIL there).

Only documents sharing at least one term with the query (a positive score) are returned: slots
beyond a query's lexical matches hold id -1 and score 0.

Exact all-vs-all is quadratic in the document frequency of common terms: a term in half of the documents
makes every query that holds it touch half the corpus. `topk(..., max_df=T)` is the search engines' way
out, an approximation: candidates come only from each query's terms found in at most T documents (plus its
rarest term, so no query is left without candidates), and every candidate is then rescored exactly with
all its terms. A neighbour is missed only when it shares nothing but common terms with the query; the
growth benchmark (bench/growth.py) measures the recall against exact search at each size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

EMPTY_TOKEN = ""  # rank-bm25 cannot index an empty document; the reference indexes [""] instead


class SparseBM25:
    """BM25Okapi over a tokenised corpus as a sparse (documents x terms) weight matrix.

    `corpus` is a list of token lists (see `sampling.tokenize`). Empty documents are indexed as the one
    token "" (length 1), exactly as `sampling.bm25_neighbours_reference` feeds them to rank-bm25, so that
    avgdl and the epsilon floor agree with it."""

    def __init__(
        self,
        corpus: Sequence[Sequence[str]],
        *,
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
        dtype=np.float32,
    ) -> None:
        self.k1, self.b, self.epsilon = k1, b, epsilon
        self.n_docs = len(corpus)
        vocab: dict[str, int] = {}
        lookup = vocab.setdefault
        lengths = np.fromiter((len(doc) for doc in corpus), dtype=np.int64, count=self.n_docs)
        ids = np.fromiter(
            (lookup(tok, len(vocab)) for doc in corpus for tok in doc), dtype=np.int64, count=int(lengths.sum())
        )
        empty = np.flatnonzero(lengths == 0)
        if len(empty):  # one "" token per empty document, as the reference indexes them
            empty_id = lookup(EMPTY_TOKEN, len(vocab))
            ids = np.insert(ids, np.cumsum(lengths)[empty], empty_id)  # position = where the document starts
            lengths = np.maximum(lengths, 1)
        self.vocab = vocab
        n_terms = len(vocab)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        counts = sp.csr_matrix((np.ones(len(ids), dtype=np.float32), ids, indptr), shape=(self.n_docs, n_terms))
        counts.sum_duplicates()  # data = term frequency
        self.counts = counts
        self.doc_len = lengths.astype(np.float64)
        self.avgdl = float(self.doc_len.mean()) if self.n_docs else 0.0
        df = np.bincount(counts.indices, minlength=n_terms).astype(np.float64)
        self.df = df
        idf = np.log(self.n_docs - df + 0.5) - np.log(df + 0.5)
        self.average_idf = float(idf.mean()) if n_terms else 0.0
        idf[idf < 0] = self.epsilon * self.average_idf  # BM25Okapi's floor for very common terms
        self.idf = idf
        # W[d, t]; stored transposed (terms x docs, CSR) for the products Q @ W.T
        rows = np.repeat(np.arange(self.n_docs), np.diff(counts.indptr))
        tf = counts.data.astype(np.float64)
        norm = k1 * (1 - b + b * self.doc_len[rows] / max(self.avgdl, 1e-12))
        weights = idf[counts.indices] * tf * (k1 + 1) / (tf + norm)
        self.weights_t = sp.csr_matrix(
            (weights.astype(dtype), counts.indices, counts.indptr), shape=(self.n_docs, n_terms)
        ).T.tocsr()
        # queries: term counts without the "" placeholder (a real query never contains it)
        query = counts.copy()
        if EMPTY_TOKEN in vocab:
            query.data[query.indices == vocab[EMPTY_TOKEN]] = 0
            query.eliminate_zeros()
        self.queries = query.astype(dtype)
        self._pruned: dict[int, _Pruned] = {}

    def query_matrix(self, queries: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """Term-count rows for new queries (terms outside the corpus vocabulary score nothing)."""
        rows, cols = [], []
        for i, q in enumerate(queries):
            for tok in q:
                j = self.vocab.get(tok)
                if j is not None and tok != EMPTY_TOKEN:
                    rows.append(i)
                    cols.append(j)
        m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(queries), len(self.vocab)))
        m.sum_duplicates()
        return m

    def get_scores(self, query: Sequence[str]) -> np.ndarray:
        """Dense scores of one query against every document (the rank-bm25 `get_scores` equivalent)."""
        return np.asarray((self.query_matrix([query]) @ self.weights_t).todense()).ravel()

    def topk(
        self,
        k: int,
        query_ids: np.ndarray | None = None,
        *,
        queries: sp.csr_matrix | None = None,
        block_nnz: int = 1 << 22,
        n_jobs: int | None = None,
        max_df: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` documents per query: (ids int64, scores float32), each (m, k), best first.

        Queries are corpus documents `query_ids` (default: all, i.e. all-vs-all) or explicit `queries`
        rows from `query_matrix`. Blocks of queries with similar work are scored together so that the
        padded top-k selection wastes little; each block holds at most about `block_nnz` scores.
        `max_df` (None: exact): candidates only from terms in at most that many documents (and each
        query's rarest term), rescored exactly; see the module docstring."""
        if queries is None:
            queries = self.queries if query_ids is None else self.queries[np.asarray(query_ids)]
        m = queries.shape[0]
        k = max(1, min(k, self.n_docs))
        out_ids = np.full((m, k), -1, dtype=np.int64)
        out_scores = np.zeros((m, k), dtype=np.float32)
        if m == 0 or self.n_docs == 0:
            return out_ids, out_scores
        pruned = None
        if max_df is not None and max_df < self.n_docs:
            pruned = self._pruned.get(int(max_df)) or self._pruned.setdefault(int(max_df), _Pruned(self, int(max_df)))
            generate, rest = pruned.split(queries)
        else:
            generate, rest = queries, None
        # work per query ~ sum of its terms' document frequencies: an upper bound on its row's nnz
        q_rows = np.repeat(np.arange(m), np.diff(generate.indptr))
        work = np.bincount(q_rows, weights=self.df[generate.indices], minlength=m)
        order = np.argsort(work, kind="stable")
        blocks = _blocks(order, work[order], block_nnz if pruned is None else block_nnz // 4)

        def run(block: np.ndarray) -> None:
            scores = generate[block] @ self.weights_t
            if pruned is not None:
                scores = pruned.rescore(scores, rest[block])
            ids, top = _topk_rows(scores, k)
            out_ids[block], out_scores[block] = ids, top

        n_jobs = default_jobs() if n_jobs is None else max(1, n_jobs)
        if n_jobs == 1 or len(blocks) == 1:
            for block in blocks:
                run(block)
        else:
            with ThreadPoolExecutor(n_jobs) as pool:
                list(pool.map(run, blocks))
        return out_ids, out_scores


class _Pruned:
    """What `topk(max_df=T)` needs once per T: which terms are common (df > T), and the documents' weights
    on those terms (documents x common terms, CSR) to rescore candidates exactly."""

    def __init__(self, index: SparseBM25, max_df: int) -> None:
        self.common = np.flatnonzero(index.df > max_df)
        self.position = np.full(len(index.df), -1, dtype=np.int64)
        self.position[self.common] = np.arange(len(self.common))
        self.df = index.df
        # documents x common terms: W restricted to the common terms' rows of W.T
        self.weights = index.weights_t[self.common].T.tocsr()

    def split(self, queries: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """(generating, rest): a query's rare terms and its rarest term generate candidates; the rest of
        its common terms only add to candidates' scores. rest's columns are common-term positions."""
        q = queries.tocsr()
        rows = np.repeat(np.arange(q.shape[0]), np.diff(q.indptr))
        common = self.position[q.indices] >= 0
        df = self.df[q.indices]
        # the rarest term of each query (lowest df; first on ties) always generates
        order = np.lexsort((np.arange(len(df)), df, rows))
        first = np.ones(len(order), dtype=bool)
        first[1:] = rows[order][1:] != rows[order][:-1]
        rarest = np.zeros(len(df), dtype=bool)
        rarest[order[first]] = True
        gen = ~common | rarest
        keep = ~gen
        generate = sp.csr_matrix(
            (q.data[gen], (rows[gen], q.indices[gen])), shape=q.shape
        )  # new arrays: never compact the caller's (often the index's own query matrix) in place
        rest = sp.csr_matrix(
            (q.data[keep], (rows[keep], self.position[q.indices[keep]])), shape=(q.shape[0], len(self.common))
        )
        return generate, rest

    def rescore(self, scores: sp.csr_matrix, rest: sp.csr_matrix, chunk: int = 1 << 18) -> sp.csr_matrix:
        """`scores` (candidates' partial scores) plus each candidate's score on the query's other common terms.

        Every candidate is rescored: a bound on the common terms' share (their largest weights) would let most
        candidates be skipped only if common terms weighed little, and at max_df=1000 their idf is still ~5.
        Per candidate (query row r, document d) the document's common-term entries are fetched with scipy's
        row gather (C) and looked up in the block's dense `rest` by flat index r * n_common + term; the float32
        products are summed in float64 by a CSR product with ones. This is the cost that dominates the pruned
        search (bench/profile_pruned.py): candidates x common entries per document, which grows with n at a
        fixed max_df as more terms cross it (BENCHMARKS.md, "Growth to 1M sentences")."""
        scores = scores.tocsr()
        if rest.nnz == 0 or scores.nnz == 0:
            return scores
        n_common = len(self.common)
        dense_rest = rest.toarray().ravel()  # block rows x common terms, flattened: small
        flat_type = np.int32 if dense_rest.size < 2**31 else np.int64
        row_offset = np.repeat(
            np.arange(scores.shape[0], dtype=flat_type) * flat_type(n_common), np.diff(scores.indptr)
        )
        cols = scores.indices
        extra = np.zeros(len(cols), dtype=np.float64)
        ones = np.ones(n_common, dtype=np.float64)
        for start in range(0, len(cols), chunk):
            sub = self.weights[cols[start : start + chunk]]  # candidates' common-term entries (C row gather)
            flat = np.repeat(row_offset[start : start + chunk], np.diff(sub.indptr))
            flat += sub.indices
            contrib = (dense_rest[flat] * sub.data).astype(np.float64)  # the float32 products, as before
            # per-candidate sums in float64, in the entries' order (as bincount added them): bit-identical results
            extra[start : start + sub.shape[0]] = (
                sp.csr_matrix((contrib, sub.indices, sub.indptr), shape=(sub.shape[0], n_common)) @ ones
            )
        out = scores.copy()
        out.data = (out.data + extra).astype(scores.dtype)
        return out


def default_jobs() -> int:
    """Threads for the block products: $AUGSBERT_THREADS, else the number of CPUs (at most 8)."""
    env = os.environ.get("AUGSBERT_THREADS")
    if env:
        return max(1, int(env))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(8, cpus))


def _blocks(order: np.ndarray, work: np.ndarray, budget: int, max_rows: int = 4096) -> list[np.ndarray]:
    """Split `order` (queries sorted by work) into consecutive blocks of about `budget` work each."""
    blocks, start = [], 0
    cum = np.cumsum(work)
    n = len(order)
    while start < n:
        base = cum[start - 1] if start else 0.0
        end = int(np.searchsorted(cum, base + budget, side="right"))
        end = min(max(end, start + 1), start + max_rows, n)
        blocks.append(order[start:end])
        start = end
    return blocks


def _topk_rows(scores: sp.csr_matrix, k: int, sample: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Per-row top-k of a sparse score block, only strictly positive scores; -1 / 0 pad the rest.

    Exact, in O(nnz): the k-th largest of a row's first `sample` entries is a lower bound of the row's
    k-th largest score, so entries below it are dropped before the padded `argpartition`."""
    m = scores.shape[0]
    ids = np.full((m, k), -1, dtype=np.int64)
    vals = np.zeros((m, k), dtype=np.float32)
    data, indices, indptr = scores.data, scores.indices, scores.indptr
    if len(data) == 0:
        return ids, vals
    counts = np.diff(indptr)
    if data.min() <= 0:  # only positive scores count as lexical neighbours
        keep = data > 0
        csum = np.concatenate([[0], np.cumsum(keep)])
        data, indices = data[keep], indices[keep]
        counts = csum[indptr[1:]] - csum[indptr[:-1]]
        indptr = np.concatenate([[0], np.cumsum(counts)])
        if len(data) == 0:
            return ids, vals
    if counts.max() > sample:  # prefilter with a per-row lower bound of the k-th largest score
        width = min(sample, int(counts.max()))
        offsets = np.arange(width)
        valid = offsets < counts[:, None]
        picked = np.where(valid, data[np.minimum(indptr[:-1, None] + offsets, len(data) - 1)], -np.inf)
        kk = min(k, width)
        bound = -np.partition(-picked, kk - 1, axis=1)[:, kk - 1]  # -inf where a row has < k entries
        keep = data >= np.repeat(bound.astype(data.dtype), counts)
        csum = np.concatenate([[0], np.cumsum(keep)])
        data, indices = data[keep], indices[keep]
        counts = csum[indptr[1:]] - csum[indptr[:-1]]
        indptr = np.concatenate([[0], np.cumsum(counts)])
    width = int(counts.max())
    rows = np.repeat(np.arange(m), counts)
    pos = np.arange(len(data)) - indptr[rows]
    padded = np.full((m, width), -np.inf, dtype=np.float32)
    padded[rows, pos] = data
    cols = np.full((m, width), -1, dtype=np.int32)
    cols[rows, pos] = indices
    take = min(k, width)
    if width > take:
        part = np.argpartition(-padded, take - 1, axis=1)[:, :take]
    else:
        part = np.broadcast_to(np.arange(width), (m, width))
    top_vals = np.take_along_axis(padded, part, axis=1)
    rank = np.argsort(-top_vals, axis=1, kind="stable")
    part = np.take_along_axis(part, rank, axis=1)
    top_vals = np.take_along_axis(top_vals, rank, axis=1)
    top_ids = np.take_along_axis(cols, part, axis=1)
    found = np.isfinite(top_vals)
    ids[:, :take] = np.where(found, top_ids, -1)
    vals[:, :take] = np.where(found, top_vals, 0)
    return ids, vals


def bm25_topk(
    tokens: Sequence[Sequence[str]],
    k: int,
    *,
    k1: float = 1.5,
    b: float = 0.75,
    epsilon: float = 0.25,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """All-vs-all top-`k` BM25Okapi neighbours of a tokenised corpus (each document is also a query)."""
    return SparseBM25(tokens, k1=k1, b=b, epsilon=epsilon).topk(k, n_jobs=n_jobs)


def iter_bm25_topk(
    index: SparseBM25, k: int, chunk_size: int = 50_000, *, n_jobs: int | None = None
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """All-vs-all in chunks of query documents: yields (start, ids, scores) for rows start..start+len(ids)."""
    for start in range(0, index.n_docs, chunk_size):
        query_ids = np.arange(start, min(start + chunk_size, index.n_docs))
        ids, scores = index.topk(k, query_ids, n_jobs=n_jobs)
        yield start, ids, scores
