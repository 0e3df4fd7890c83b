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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import registry, stages
from ..distributions import distribution_distance, kde_select  # noqa: F401 - re-exported: their old home
from ..runs.progress import ProgressEvent, ProgressSink, null_sink
from .bm25 import SparseBM25
from .embeddings import cached_embeddings
from .mixes import achieved_shares, mix_candidates, split_budget  # noqa: F401 - re-exported: their old home

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


SAMPLER_PARTS: Mapping[str, tuple[str, ...]] = registry.SEARCHES  # {sampler: its searches}, live


def _stopwords() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # noqa: PLC0415 - slow to import; only the metrics need it

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


def bm25_neighbours(
    sentences: Sequence[str],
    depth: int,
    *,
    k1: float = 1.5,
    b: float = 0.75,
    sink: ProgressSink = null_sink,
    chunk_size: int = 10_000,
    epsilon: float = 0.25,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """All-vs-all BM25Okapi neighbours on sparse matrices (`bm25.SparseBM25`): (ids, scores), each (n, depth).

    The same scores as rank-bm25's `BM25Okapi` (idf floor included) for the same tokens and k1/b/epsilon.
    Only documents sharing a term with the query count: missing slots hold id -1 and score 0."""

    index = SparseBM25(tokenize(sentences), k1=k1, b=b, epsilon=epsilon)
    n = index.n_docs
    depth = max(1, min(depth, n))
    ids = np.full((n, depth), -1, dtype=np.int64)
    scores = np.zeros((n, depth), dtype=np.float32)
    for start in range(0, n, chunk_size):
        rows = np.arange(start, min(start + chunk_size, n))
        ids[rows], scores[rows] = index.topk(depth, rows, n_jobs=n_jobs)
        sink(ProgressEvent("sample.bm25", int(rows[-1]) + 1, n))
    return ids, scores


def bm25_neighbours_reference(
    sentences: Sequence[str], depth: int, *, k1: float = 1.5, b: float = 0.75
) -> tuple[np.ndarray, np.ndarray]:
    """The same neighbours with rank-bm25's BM25Okapi, one query at a time (quadratic; the reference)."""
    from rank_bm25 import BM25Okapi  # noqa: PLC0415 - only the reference BM25 needs it

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


def embed_sentences(
    model,
    sentences: Sequence[str],
    batch_size: int = 64,
    sink: ProgressSink = null_sink,
    chunk_size: int = 8192,
    *,
    cache: bool | str | Path | None = None,
    model_id: str | None = None,
) -> np.ndarray:
    """L2-normalised float32 embeddings, encoded in chunks with progress.

    `cache`: None/True = the embeddings cache (`embeddings.cache_dir()`), a path = that folder, False =
    no cache. A cached entry is keyed by the model's weights and the sentences, so a rerun on the same
    data with the same model skips encoding (`model_id` replaces the weights hash when given)."""
    sentences = list(sentences)

    def compute() -> np.ndarray:
        parts = []
        for start in range(0, len(sentences), chunk_size):
            chunk = sentences[start : start + chunk_size]
            parts.append(
                model.encode(
                    chunk,
                    batch_size=batch_size,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                ).astype(np.float32)
            )
            sink(ProgressEvent(stages.SAMPLE_ENCODE, start + len(chunk), len(sentences)))
        return np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)

    if cache is False or not sentences:
        return compute()

    emb, hit = cached_embeddings(
        model, sentences, compute, directory=None if cache in (None, True) else cache, model_id=model_id
    )
    if hit:
        sink(
            ProgressEvent(
                stages.SAMPLE_ENCODE,
                len(sentences),
                len(sentences),
                message=f"embeddings of {len(sentences):,} sentences from the cache",
            )
        )
    return emb


def build_vector_index(
    embeddings: np.ndarray,
    *,
    hnsw_threshold: int = 50_000,
    hnsw_m: int = 16,
    ef_construction: int = 40,
    ef_search: int = 32,
    depth: int = 1,
):
    """A faiss inner-product index: exact `IndexFlatIP` up to `hnsw_threshold` vectors, `IndexHNSWFlat` above."""
    import faiss  # noqa: PLC0415 - native library; only the semantic sampler needs it

    emb = np.ascontiguousarray(embeddings, dtype=np.float32)
    n, dim = emb.shape
    if n > hnsw_threshold:
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.add(emb)
        index.hnsw.efSearch = max(ef_search, depth * 2)
    else:
        index = faiss.IndexFlatIP(dim)
        index.add(emb)
    return index


def semantic_neighbours(
    embeddings: np.ndarray,
    depth: int,
    *,
    hnsw_threshold: int = 50_000,
    ef_search: int = 32,
    sink: ProgressSink = null_sink,
    hnsw_m: int = 16,
    ef_construction: int = 40,
    chunk_size: int = 50_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Inner-product (cosine) neighbours with faiss: exact IndexFlatIP up to `hnsw_threshold` vectors, HNSW above.

    HNSW defaults (M=16, efConstruction=40, efSearch=max(32, 2*depth)) were chosen on 100k x 384-d
    clustered vectors: recall@6 >= 0.99 against exact search (see BENCHMARKS.md)."""
    emb = np.ascontiguousarray(embeddings, dtype=np.float32)
    n = emb.shape[0]
    depth = min(depth, n)
    index = build_vector_index(
        emb,
        hnsw_threshold=hnsw_threshold,
        hnsw_m=hnsw_m,
        ef_construction=ef_construction,
        ef_search=ef_search,
        depth=depth,
    )
    sink(ProgressEvent(stages.SAMPLE_SEARCH, 0, n, message=f"{type(index).__name__} over {n:,} vectors"))
    ids = np.empty((n, depth), dtype=np.int64)
    scores = np.empty((n, depth), dtype=np.float32)
    for start in range(0, n, chunk_size):
        sc, found = index.search(emb[start : start + chunk_size], depth)
        ids[start : start + len(found)], scores[start : start + len(found)] = found, sc
        sink(ProgressEvent(stages.SAMPLE_SEARCH, start + len(found), n))
    return ids, scores


class _ChunkKeeper:
    """`PairKeeper`'s invariants, vectorised over blocks of queries, with O(8 bytes) of memory per kept pair.

    For each query the first `top_k` neighbours that are neither itself nor a gold partner are taken (a
    pair already taken counts towards k but is not repeated), exactly as `PairKeeper.add_neighbours`."""

    def __init__(self, n: int, excluded: Iterable[tuple[int, int]] = ()) -> None:
        self.n = n
        ex = np.array(list(excluded), dtype=np.int64).reshape(-1, 2)
        self.excluded = np.unique(np.minimum(ex[:, 0], ex[:, 1]) * n + np.maximum(ex[:, 0], ex[:, 1]))
        self.seen = np.zeros(0, dtype=np.int64)
        self.count = 0

    def take(
        self, queries: np.ndarray, ranked: np.ndarray, top_k: int, valid: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """New pairs (first ids, second ids) from `ranked` neighbours (rows aligned with `queries`)."""
        q = np.broadcast_to(queries[:, None], ranked.shape)
        ok = (ranked >= 0) & (ranked != q) & (ranked < self.n)
        if valid is not None:
            ok &= valid
        keys = np.minimum(q, ranked) * self.n + np.maximum(q, ranked)
        if len(self.excluded):
            ok &= ~np.isin(keys, self.excluded)
        ok &= np.cumsum(ok, axis=1) <= top_k
        first, second, keys = q[ok], ranked[ok], keys[ok]
        _, where = np.unique(keys, return_index=True)  # first occurrence of each pair, in query order
        where.sort()
        first, second, keys = first[where], second[where], keys[where]
        if len(self.seen):
            pos = np.searchsorted(self.seen, keys).clip(max=len(self.seen) - 1)
            fresh = self.seen[pos] != keys
            first, second, keys = first[fresh], second[fresh], keys[fresh]
        self.seen = np.union1d(self.seen, keys)
        self.count += len(keys)
        return first, second


@dataclass
class BlockSearch:
    """The built indexes of one candidate search, and the search of one block of query sentences.

    Picklable (a faiss index travels serialised), so an engine can ship it to workers once."""

    names: tuple[str, ...]  # the searches to run: 'bm25', 'semantic'
    depth: int
    bm25_index: SparseBM25 | None = None
    vector_index: Any = None
    embeddings: np.ndarray | None = None
    bm25_max_df: int | None = None

    def run(self, queries: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
        """{name: (ranked neighbour ids, valid mask or None)} for the query sentences `queries`."""
        out: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
        for name in self.names:
            if name == registry.BM25_SEARCH:
                ranked, scores = self.bm25_index.topk(self.depth, queries, max_df=self.bm25_max_df)
                out[name] = (ranked, scores > 0)
            else:
                emb = np.ascontiguousarray(self.embeddings[queries], dtype=np.float32)
                out[name] = (self.vector_index.search(emb, self.depth)[1], None)
        return out

    def __getstate__(self) -> dict[str, Any]:
        import faiss  # noqa: PLC0415 - native library; only a shipped semantic search needs it

        state = dict(self.__dict__)
        if self.vector_index is not None:
            state["vector_index"] = faiss.serialize_index(self.vector_index)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("vector_index") is not None:
            import faiss  # noqa: PLC0415 - native library; only a shipped semantic search needs it

            state["vector_index"] = faiss.deserialize_index(state["vector_index"])
        self.__dict__.update(state)


_SEARCH_STAGES = {registry.BM25_SEARCH: "sample.bm25"}  # a search's own progress stage (else sample.search)


# runs the searches of every block, yielding their results in block order (the local engine: `_search_here`)
SearchBlocks = Callable[[BlockSearch, list[np.ndarray]], Iterator[dict[str, tuple]]]


def _search_here(search: BlockSearch, blocks: list[np.ndarray]) -> Iterator[dict[str, tuple]]:
    """The local engine: each block's searches in this process, one block after the other."""
    for queries in blocks:
        yield search.run(queries)


def _indexes(sentences: list[str], names, depth: int, model, embeddings, hnsw_threshold: int, sink, cache):
    """The indexes the searches need, built once: BM25 weights, and the sentence embeddings with their faiss index.
    Returns (bm25 index or None, vector index or None, embeddings or None)."""
    n, bm25_index, vector_index = len(sentences), None, None
    if registry.BM25_SEARCH in names:
        bm25_index = SparseBM25(tokenize(sentences))
    if registry.SEMANTIC_SEARCH in names:
        if embeddings is None:
            if model is None:
                raise ValueError("the semantic sampler needs a bi-encoder model or precomputed embeddings")
            embeddings = embed_sentences(model, sentences, sink=sink, cache=cache)
        vector_index = build_vector_index(embeddings, hnsw_threshold=hnsw_threshold, depth=depth)
        sink(ProgressEvent(stages.SAMPLE_SEARCH, 0, n, message=f"{type(vector_index).__name__} over {n:,} vectors"))
    return bm25_index, vector_index, embeddings


def _ranked(name: str, found: dict, sentences: list[str], queries: np.ndarray, depth: int, rng, sink):
    """(ranked partner ids, valid mask or None) of one search for a block's queries: an index-free search runs here,
    an indexed one's result comes from the block's search."""
    local = registry.search_function(name)
    if local is not None:  # an index-free search (random, or a registered one) runs here
        ranked = local(sentences, queries, depth, rng)
        return ranked if isinstance(ranked, tuple) else (ranked, None)
    done = int(queries[-1]) + 1
    sink(ProgressEvent(_SEARCH_STAGES.get(name, stages.SAMPLE_SEARCH), done, len(sentences)))
    return found[name]


def iter_candidate_chunks(
    sentences: Sequence[str],
    sampler: str,
    top_k: int,
    *,
    gold: pd.DataFrame | None = None,
    model=None,
    seed: int = 42,
    hnsw_threshold: int = 50_000,
    sink: ProgressSink = null_sink,
    embeddings: np.ndarray | None = None,
    chunk_size: int = 50_000,
    cache: bool | str | Path | None = None,
    bm25_max_df: int | None = None,
    search_blocks: SearchBlocks | None = None,
) -> Iterator[pd.DataFrame]:
    """Candidate pairs like `sample_candidates`, yielded per block of `chunk_size` query sentences.

    `bm25_max_df`: prune BM25 candidates to terms in at most that many sentences (see `bm25.SparseBM25.topk`;
    None = exact). `search_blocks` (default: one block after the other, here) runs the searches of every block
    and yields their results in block order: an engine that runs blocks elsewhere (`ray_engine`) plugs in there,
    and everything else (random draws, deduplication, gold exclusion) stays here, so the pairs are the same.

    The indexes (BM25 weights, faiss) are built once; neighbours, pairs and the DataFrame exist for one
    block at a time, so a pool of 1M sentences never holds all its pairs in memory (the deduplication
    keeps 8 bytes per pair). Every invariant holds across blocks: no self pair, no gold pair, each
    unordered pair once over the whole stream, at most `top_k` pairs per query and sampler. With one
    block (chunk_size >= number of sentences) the result equals `sample_candidates`'s. A
    `ProgressEvent('sample.chunk', done, total)` follows each block."""
    sentences = list(dict.fromkeys(sentences))
    n = len(sentences)
    if n < 2:
        return
    excluded = gold_id_pairs(sentences, gold)
    depth = _search_depth(n, top_k, excluded)
    names = registry.sampler(sampler).searches
    chunk_size = max(1, int(chunk_size))
    rng = np.random.default_rng(seed)  # the index-free searches' draws (random), reproducible with the seed
    bm25_index, vector_index, embeddings = _indexes(
        sentences, names, depth, model, embeddings, hnsw_threshold, sink, cache
    )
    keeper = _ChunkKeeper(n, excluded)
    text = np.array(sentences, dtype=object)
    search = BlockSearch(
        tuple(name for name in names if name in registry.INDEXED_SEARCHES),
        depth,
        bm25_index,
        vector_index,
        embeddings,
        bm25_max_df,
    )
    blocks = [np.arange(start, min(start + chunk_size, n)) for start in range(0, n, chunk_size)]
    results = (search_blocks or _search_here)(search, blocks)
    for queries, found in zip(blocks, results):
        start = int(queries[0])
        frames = []
        for name in names:
            ranked, valid = _ranked(name, found, sentences, queries, depth, rng, sink)
            first, second = keeper.take(queries, ranked.astype(np.int64, copy=False), top_k, valid)
            frames.append(
                pd.DataFrame(
                    {
                        "sentence1": text[first].tolist(),
                        "sentence2": text[second].tolist(),
                        "sampler": [name] * len(first),
                    }
                )
            )
        chunk = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        sink(
            ProgressEvent(
                stages.SAMPLE_CHUNK,
                int(queries[-1]) + 1,
                n,
                message=f"{len(chunk):,} pairs from sentences {start + 1:,}-{int(queries[-1]) + 1:,}",
            )
        )
        yield chunk


def sample_candidates(
    sentences: Sequence[str],
    sampler: str,
    top_k: int,
    *,
    gold: pd.DataFrame | None = None,
    model=None,
    seed: int = 42,
    hnsw_threshold: int = 50_000,
    sink: ProgressSink = null_sink,
    embeddings: np.ndarray | None = None,
    chunk_size: int | None = None,
    cache: bool | str | Path | None = None,
    search_blocks: SearchBlocks | None = None,
    bm25_max_df: int | None = None,
) -> pd.DataFrame:
    """Candidate pairs (sentence1, sentence2, sampler) recombined from unique `sentences`.

    `model` (a SentenceTransformer) is needed by the semantic samplers unless `embeddings` are given
    (embeddings are cached on disk, see `embed_sentences`). For sampler 'kde' this returns the
    bm25+semantic pool; `kde_select` then filters it after labeling. `chunk_size` (default: one block),
    `search_blocks` (where the blocks' searches run) and `bm25_max_df` are `iter_candidate_chunks`'s. The whole
    frame is returned: for pools too large for that, iterate `iter_candidate_chunks` instead."""
    n = len(dict.fromkeys(sentences))
    parts = list(
        iter_candidate_chunks(
            sentences,
            sampler,
            top_k,
            gold=gold,
            model=model,
            seed=seed,
            hnsw_threshold=hnsw_threshold,
            sink=sink,
            embeddings=embeddings,
            chunk_size=chunk_size or max(n, 1),
            cache=cache,
            search_blocks=search_blocks,
            bm25_max_df=bm25_max_df,
        )
    )
    if not parts:
        return pd.DataFrame({"sentence1": [], "sentence2": [], "sampler": []})
    pairs = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    sink(ProgressEvent(stages.SAMPLE, len(pairs), len(pairs), message=f"{len(pairs):,} candidate pairs"))
    return pairs


def sample_mixed_candidates(
    sentences: Sequence[str],
    shares: dict[str, float],
    top_k: int,
    *,
    cap: int | None = None,
    gold: pd.DataFrame | None = None,
    model=None,
    seed: int = 42,
    hnsw_threshold: int = 50_000,
    sink: ProgressSink = null_sink,
    embeddings: np.ndarray | None = None,
    cache: bool | str | Path | None = None,
    chunk_size: int | None = None,
    search_blocks: SearchBlocks | None = None,
    bm25_max_df: int | None = None,
) -> pd.DataFrame:
    """Candidate pairs of a sampler mix ({sampler: share}, in priority order): each sampler's own candidates
    (`sample_candidates` with the same `top_k`, gold and self pairs left out), then `mix_candidates` draws the
    shares of one budget from them. The `sampler` column keeps the search that found each pair."""
    pools = {
        name: sample_candidates(
            sentences,
            name,
            top_k,
            gold=gold,
            model=model,
            seed=seed,
            hnsw_threshold=hnsw_threshold,
            sink=sink,
            embeddings=embeddings,
            cache=cache,
            chunk_size=chunk_size,
            search_blocks=search_blocks,
            bm25_max_df=bm25_max_df,
        )
        for name in shares
    }
    pairs = mix_candidates(pools, shares, cap=cap, seed=seed)
    counts = pairs["sampler"].value_counts()
    drawn = " · ".join(f"{name} {sum(counts.get(p, 0) for p in SAMPLER_PARTS[name]):,}" for name in shares)
    sink(ProgressEvent(stages.SAMPLE, len(pairs), len(pairs), message=f"{len(pairs):,} mixed candidate pairs: {drawn}"))
    return pairs
