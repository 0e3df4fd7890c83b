"""Candidate-pair samplers for scenario 2/3: recombine sentences into pairs worth labeling.

Invariants every sampler keeps (tested): no self pair, no gold pair (either order), each unordered
pair at most once, and at most `top_k` pairs per query sentence, where the k neighbours are k real
neighbours (the query itself never counts towards k).

- `random`: `top_k` uniformly random partners per sentence (mostly negatives).
- `bm25`: lexical neighbours (bm25s sparse matrices; rank-bm25 kept as the reference implementation).
- `semantic`: nearest neighbours of the student base's embeddings with faiss (exact, HNSW when large).
- `bm25+semantic`: the union of both.
- `kde`: applied after labeling (`kde_select`): keep silver pairs so their label distribution matches gold.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .progress import ProgressEvent, ProgressSink, null_sink

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def _stopwords() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def tokenize(texts: Iterable[str]) -> list[list[str]]:
    """Lower-cased word tokens (2+ chars) without English stop words: the one BM25 tokenisation."""
    stop = _stopwords()
    return [[t for t in _TOKEN.findall(text.lower()) if t not in stop] for text in texts]


class PairKeeper:
    """Collects candidate pairs over sentence ids while enforcing the sampler invariants."""

    def __init__(self, n_sentences: int, excluded: Iterable[tuple[int, int]] = ()) -> None:
        self.n = n_sentences
        self._excluded = {self.key(i, j) for i, j in excluded}
        self._seen: set[int] = set()
        self.first: list[int] = []
        self.second: list[int] = []

    def key(self, i: int, j: int) -> int:
        return min(i, j) * self.n + max(i, j)

    def is_blocked(self, i: int, j: int) -> bool:
        """Self pair or gold pair: never a candidate, and does not count as a neighbour."""
        return i == j or self.key(i, j) in self._excluded

    def add(self, i: int, j: int) -> bool:
        k = self.key(i, j)
        if i == j or k in self._excluded or k in self._seen:
            return False
        self._seen.add(k)
        self.first.append(i)
        self.second.append(j)
        return True

    def add_neighbours(self, query: int, ranked: Sequence[int], top_k: int) -> None:
        """Take the first `top_k` real neighbours of `query` (skipping itself and gold partners)."""
        taken = 0
        for j in ranked:
            j = int(j)
            if j < 0 or self.is_blocked(query, j):
                continue
            self.add(query, j)
            taken += 1
            if taken == top_k:
                break

    def __len__(self) -> int:
        return len(self.first)


def gold_id_pairs(sentences: Sequence[str], gold: pd.DataFrame | None) -> list[tuple[int, int]]:
    """Gold pairs as id pairs over `sentences` (pairs with a sentence outside the list are ignored)."""
    if gold is None or len(gold) == 0:
        return []
    index = {s: i for i, s in enumerate(sentences)}
    return [(index[a], index[b]) for a, b in zip(gold["sentence1"], gold["sentence2"]) if a in index and b in index]


def _search_depth(n: int, top_k: int, excluded: list[tuple[int, int]]) -> int:
    """How many neighbours to fetch so `top_k` real ones remain after dropping self and gold partners."""
    degree = np.bincount(np.array(excluded, dtype=np.int64).ravel(), minlength=n) if excluded else np.zeros(1, int)
    return int(min(n, top_k + 1 + int(degree.max())))


def random_neighbours(n: int, depth: int, seed: int = 42) -> np.ndarray:
    """`depth` random partners per sentence (ids, shape (n, depth)): the 'neighbours' of random sampling."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(n, min(depth, n)))


def bm25_neighbours(sentences: Sequence[str], depth: int, *, k1: float = 1.5, b: float = 0.75,
                    sink: ProgressSink = null_sink, chunk_size: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """All-vs-all BM25 (Okapi/Robertson idf) neighbours with bm25s: (ids, scores), each (n, depth)."""
    import bm25s

    tokens = tokenize(sentences)
    retriever = bm25s.BM25(k1=k1, b=b, method="robertson")
    retriever.index(tokens, show_progress=False)
    n = len(sentences)
    depth = min(depth, n)
    ids = np.empty((n, depth), dtype=np.int64)
    scores = np.empty((n, depth), dtype=np.float32)
    for start in range(0, n, chunk_size):
        queries = [t if t else [""] for t in tokens[start:start + chunk_size]]
        docs, sc = retriever.retrieve(queries, k=depth, show_progress=False, n_threads=0)
        ids[start:start + len(queries)] = docs
        scores[start:start + len(queries)] = sc
        sink(ProgressEvent("sample.bm25", min(start + chunk_size, n), n))
    return ids, scores


def bm25_neighbours_reference(sentences: Sequence[str], depth: int, *, k1: float = 1.5,
                              b: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """The same neighbours with rank-bm25's BM25Okapi, one query at a time (quadratic; the reference)."""
    from rank_bm25 import BM25Okapi

    tokens = tokenize(sentences)
    bm25 = BM25Okapi([t if t else [""] for t in tokens], k1=k1, b=b)
    n = len(sentences)
    depth = min(depth, n)
    ids = np.empty((n, depth), dtype=np.int64)
    scores = np.empty((n, depth), dtype=np.float32)
    for i, query in enumerate(tokens):
        s = bm25.get_scores(query)
        top = np.argpartition(-s, depth - 1)[:depth] if depth < n else np.arange(n)
        top = top[np.argsort(-s[top], kind="stable")]
        ids[i], scores[i] = top, s[top]
    return ids, scores


def embed_sentences(model, sentences: Sequence[str], batch_size: int = 64, sink: ProgressSink = null_sink,
                    chunk_size: int = 8192) -> np.ndarray:
    """L2-normalised float32 embeddings, encoded in chunks with progress."""
    parts = []
    for start in range(0, len(sentences), chunk_size):
        chunk = list(sentences[start:start + chunk_size])
        parts.append(model.encode(chunk, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                                  show_progress_bar=False).astype(np.float32))
        sink(ProgressEvent("sample.encode", start + len(chunk), len(sentences)))
    return np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)


def semantic_neighbours(embeddings: np.ndarray, depth: int, *, hnsw_threshold: int = 50_000,
                        ef_search: int = 64, sink: ProgressSink = null_sink) -> tuple[np.ndarray, np.ndarray]:
    """Inner-product (cosine) neighbours with faiss: exact IndexFlatIP up to `hnsw_threshold` vectors, HNSW above."""
    import faiss

    emb = np.ascontiguousarray(embeddings, dtype=np.float32)
    n, dim = emb.shape
    depth = min(depth, n)
    if n > hnsw_threshold:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.add(emb)
        index.hnsw.efSearch = max(ef_search, depth * 2)
    else:
        index = faiss.IndexFlatIP(dim)
        index.add(emb)
    sink(ProgressEvent("sample.search", 0, n, message=f"{type(index).__name__} over {n:,} vectors"))
    scores, ids = index.search(emb, depth)
    sink(ProgressEvent("sample.search", n, n))
    return ids.astype(np.int64), scores


def sample_candidates(sentences: Sequence[str], sampler: str, top_k: int, *, gold: pd.DataFrame | None = None,
                      model=None, seed: int = 42, hnsw_threshold: int = 50_000, sink: ProgressSink = null_sink,
                      embeddings: np.ndarray | None = None) -> pd.DataFrame:
    """Candidate pairs (sentence1, sentence2, sampler) recombined from unique `sentences`.

    `model` (a SentenceTransformer) is needed by the semantic samplers unless `embeddings` are given.
    For sampler 'kde' this returns the bm25+semantic pool; `kde_select` then filters it after labeling."""
    sentences = list(dict.fromkeys(sentences))
    n = len(sentences)
    if n < 2:
        return pd.DataFrame({"sentence1": [], "sentence2": [], "sampler": []})
    excluded = gold_id_pairs(sentences, gold)
    depth = _search_depth(n, top_k, excluded)
    names = {"kde": ["bm25", "semantic"], "bm25+semantic": ["bm25", "semantic"]}.get(sampler, [sampler])
    keeper = PairKeeper(n, excluded)
    origin: list[str] = []
    for name in names:
        before = len(keeper)
        if name == "random":
            ids = random_neighbours(n, 2 * depth + 8, seed)
            for q in range(n):
                keeper.add_neighbours(q, ids[q], top_k)
        elif name == "bm25":
            ids, scores = bm25_neighbours(sentences, depth, sink=sink)
            for q in range(n):
                keeper.add_neighbours(q, ids[q][scores[q] > 0], top_k)
        elif name == "semantic":
            if embeddings is None:
                if model is None:
                    raise ValueError("the semantic sampler needs a bi-encoder model or precomputed embeddings")
                embeddings = embed_sentences(model, sentences, sink=sink)
            ids, _ = semantic_neighbours(embeddings, depth, hnsw_threshold=hnsw_threshold, sink=sink)
            for q in range(n):
                keeper.add_neighbours(q, ids[q], top_k)
        else:
            raise ValueError(f"unknown sampler {name!r}")
        origin.extend([name] * (len(keeper) - before))
    sink(ProgressEvent("sample", len(keeper), len(keeper), message=f"{len(keeper):,} candidate pairs"))
    return pd.DataFrame({
        "sentence1": [sentences[i] for i in keeper.first],
        "sentence2": [sentences[j] for j in keeper.second],
        "sampler": origin,
    })


def kde_select(silver_scores: np.ndarray, gold_labels: np.ndarray, *, seed: int = 42,
               keep_quantile: float = 0.95) -> np.ndarray:
    """Indices of silver pairs kept so the silver label distribution matches the gold one.

    Regression: rejection sampling with weight p_gold(s) / p_silver(s) from Gaussian KDEs (Thakur et al.
    2021, KDE sampling). Binary gold: keep the positive share (score >= 0.5) equal to gold's."""
    from scipy.stats import gaussian_kde

    silver = np.asarray(silver_scores, dtype=float)
    gold = np.asarray(gold_labels, dtype=float)
    rng = np.random.default_rng(seed)
    if len(silver) == 0:
        return np.zeros(0, dtype=np.int64)
    if set(np.unique(gold)) <= {0.0, 1.0}:
        share = gold.mean()
        pos = np.flatnonzero(silver >= 0.5)
        neg = np.flatnonzero(silver < 0.5)
        if len(pos) == 0 or len(neg) == 0:
            return np.arange(len(silver))
        n_total = min(len(pos) / share if share > 0 else np.inf, len(neg) / (1 - share) if share < 1 else np.inf)
        keep_pos = rng.choice(pos, size=int(round(n_total * share)), replace=False)
        keep_neg = rng.choice(neg, size=int(round(n_total * (1 - share))), replace=False)
        return np.sort(np.concatenate([keep_pos, keep_neg]))
    if np.ptp(silver) == 0 or np.ptp(gold) == 0:
        return np.arange(len(silver))
    weight = gaussian_kde(gold)(silver) / np.maximum(gaussian_kde(silver)(silver), 1e-12)
    weight = np.clip(weight / np.quantile(weight, keep_quantile), 0, 1)
    return np.flatnonzero(rng.random(len(silver)) < weight)


def distribution_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Kolmogorov-Smirnov statistic between two label samples (0 = same distribution, 1 = disjoint)."""
    from scipy.stats import ks_2samp

    if len(a) == 0 or len(b) == 0:
        return float("nan")
    return float(ks_2samp(np.asarray(a, float), np.asarray(b, float)).statistic)
