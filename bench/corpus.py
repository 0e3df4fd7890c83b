"""Seeded synthetic corpora for the benchmarks (no data download, any size).

`zipf_sentences`: sentences of pseudo-words drawn from a Zipf law over a 60k vocabulary, calibrated on
the Quora questions in ../shared/data (after `sampling.tokenize`: about 5 content tokens per sentence,
the most frequent content word in ~9% of sentences, all-vs-all BM25 score density ~3%). Stop words
would be removed by the tokeniser anyway, so the law starts after them (rank offset).

`clustered_embeddings`: unit vectors with cluster structure and a low intrinsic dimension, like sentence
embeddings (uniform random vectors in 384-d are a worst case no real model produces)."""

from __future__ import annotations

import numpy as np

_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


def _word(rank: int) -> str:
    out = []
    r = rank
    while True:
        out.append(_LETTERS[r % 26])
        r //= 26
        if r == 0:
            break
    return "q" + "".join(out)  # 'q' + letters: 2+ chars, never an English stop word


def zipf_sentences(
    n: int, *, seed: int = 0, vocab: int = 60_000, exponent: float = 1.0, offset: float = 5.0, mean_len: float = 5.0
) -> list[str]:
    """`n` distinct-ish synthetic sentences (space-separated pseudo-words), reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, vocab + 1, dtype=np.float64)
    p = 1.0 / (ranks + offset) ** exponent
    p /= p.sum()
    lengths = 1 + rng.poisson(mean_len - 1, size=n)
    words = np.array([_word(r) for r in range(vocab)], dtype=object)
    tokens = words[rng.choice(vocab, size=int(lengths.sum()), p=p)]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return [" ".join(tokens[bounds[i] : bounds[i + 1]]) for i in range(n)]


def clustered_embeddings(
    n: int, dim: int = 384, *, seed: int = 0, clusters: int = 2000, latent: int = 48, noise: float = 0.35
) -> np.ndarray:
    """`n` L2-normalised float32 vectors: cluster centres in a `latent`-d subspace plus isotropic noise."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(latent, dim)).astype(np.float32) / np.sqrt(latent)
    centres = rng.normal(size=(clusters, latent)).astype(np.float32)
    assign = rng.integers(0, clusters, size=n)
    z = centres[assign] + noise * rng.normal(size=(n, latent)).astype(np.float32)
    x = z @ basis + 0.05 * rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x, dtype=np.float32)


def dense_sentences(n: int, *, seed: int = 0, vocab: int = 30_000, min_len: int = 6, max_len: int = 17) -> list[str]:
    """The scale issue's denser corpus: a 30k-word Zipf law (exponent 1, no offset: no stop words removed
    before it), 6-17 words per sentence, so the most frequent terms sit in most sentences."""
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, vocab + 1, dtype=np.float64)
    p = 1.0 / ranks
    p /= p.sum()
    lengths = rng.integers(min_len, max_len + 1, size=n)
    words = np.array([_word(r) for r in range(vocab)], dtype=object)
    tokens = words[rng.choice(vocab, size=int(lengths.sum()), p=p)]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return [" ".join(tokens[bounds[i] : bounds[i + 1]]) for i in range(n)]
