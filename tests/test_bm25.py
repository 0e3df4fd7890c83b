"""Sparse all-vs-all BM25 (`augsbert_core.sampling.bm25`) against rank-bm25's BM25Okapi, the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from rank_bm25 import BM25Okapi

from augsbert_core.sampling import bm25_neighbours, bm25_neighbours_reference, tokenize
from augsbert_core.sampling.bm25 import SparseBM25, _topk_rows, iter_bm25_topk

from .conftest import DEMO


@pytest.fixture(scope="module")
def corpus_2k() -> list[str]:
    gold = pd.read_csv(DEMO / "stsb" / "train.csv")
    pool = pd.read_csv(DEMO / "stsb" / "unlabeled.csv")["sentence"].tolist()
    return list(dict.fromkeys([*gold["sentence1"], *gold["sentence2"], *pool]))[:2000]


def test_scores_equal_bm25okapi_including_epsilon_floor_and_empty_docs():
    # "cat" is in 4 of 6 documents: negative idf, floored to epsilon * mean idf as in BM25Okapi
    docs = [["cat", "dog"], ["cat"], ["cat", "cat", "fish"], ["bird"], [], ["cat", "bird", "bird"]]
    index = SparseBM25(docs, k1=1.2, b=0.6, epsilon=0.3)
    ref = BM25Okapi([d if d else [""] for d in docs], k1=1.2, b=0.6, epsilon=0.3)
    for query in (["cat"], ["cat", "cat", "bird"], ["fish", "dog"], ["unknown"], []):
        np.testing.assert_allclose(index.get_scores(query), ref.get_scores(query), rtol=1e-5, atol=1e-6)


def test_top_k_agrees_with_rank_bm25_on_2k_sentences(corpus_2k):
    k = 5
    fast_ids, fast_scores = bm25_neighbours(corpus_2k, k + 1)
    ref_ids, ref_scores = bm25_neighbours_reference(corpus_2k, k + 1)
    overlaps = []
    for q in range(len(corpus_2k)):
        ref = ref_scores[q]
        if ref[k - 1] <= 0:
            continue  # fewer than k lexical matches
        cut = ref[k - 1]
        ref_set = {int(j) for j, s in zip(ref_ids[q], ref) if s > cut + 1e-4}  # ties at the cut aside
        if ref_set:
            overlaps.append(len(ref_set & {int(j) for j in fast_ids[q][:k]}) / len(ref_set))
        # the scores themselves are the reference's
        np.testing.assert_allclose(fast_scores[q][:k], ref[:k], rtol=1e-4, atol=1e-4)
    assert len(overlaps) > 1000
    assert np.mean(overlaps) >= 0.99


def test_topk_rows_is_exact_with_ties():
    rng = np.random.default_rng(0)
    dense = rng.integers(0, 6, size=(300, 500)).astype(np.float32)  # many ties, some rows very full
    dense[rng.random(dense.shape) < 0.7] = 0
    dense[:20, :] = 0
    dense[5, :3] = [2, 1, 3]  # a row with fewer than k entries
    ids, vals = _topk_rows(sp.csr_matrix(dense), 7, sample=16)
    for r in range(300):
        expected = np.sort(dense[r][dense[r] > 0])[::-1][:7]
        got = vals[r][ids[r] >= 0]
        np.testing.assert_array_equal(got, expected)
        assert all(dense[r, j] == v for j, v in zip(ids[r], vals[r]) if j >= 0)
        assert (ids[r][len(expected) :] == -1).all()


def test_chunked_equals_all_at_once(corpus_2k):
    index = SparseBM25(tokenize(corpus_2k))
    ids, scores = index.topk(4, n_jobs=2, block_nnz=5000)
    parts = list(iter_bm25_topk(index, 4, chunk_size=333, n_jobs=1))
    assert [p[0] for p in parts] == list(range(0, len(corpus_2k), 333))
    np.testing.assert_allclose(np.concatenate([p[2] for p in parts]), scores, rtol=1e-6)


def test_new_queries_against_the_corpus(corpus_2k):
    index = SparseBM25(tokenize(corpus_2k))
    ids, scores = index.topk(3, queries=index.query_matrix(tokenize(["A man is playing a guitar.", "zzz qqq"])))
    assert scores[0, 0] > 0 and "guitar" in corpus_2k[ids[0, 0]].lower()
    assert (ids[1] == -1).all() and (scores[1] == 0).all()


# ------------------------------------------------------------------ pruned candidates (max_df), rescored exactly
def test_max_df_above_every_document_frequency_is_exact(corpus_2k):
    index = SparseBM25(tokenize(corpus_2k))
    exact_ids, exact_scores = index.topk(5)
    ids, scores = index.topk(5, max_df=int(index.df.max()))
    np.testing.assert_array_equal(ids, exact_ids)
    np.testing.assert_allclose(scores, exact_scores, rtol=1e-6)


def test_pruned_search_scores_its_neighbours_exactly_and_keeps_most_of_them(corpus_2k):
    index = SparseBM25(tokenize(corpus_2k))
    queries_before = index.queries.copy()
    exact_ids, exact_scores = index.topk(5)
    max_df = 30  # terms in more than 1.5% of the sentences stop generating candidates (17 terms here)
    ids, scores = index.topk(5, max_df=max_df)
    assert len(index._pruned[max_df].common) > 10  # the pruning does something on this corpus
    assert (index.queries != queries_before).nnz == 0  # the index's own query matrix is left as it was
    tokens = tokenize(corpus_2k)
    for q in range(0, len(corpus_2k), 97):  # every neighbour returned carries its exact BM25 score
        found = ids[q] >= 0
        np.testing.assert_allclose(index.get_scores(tokens[q])[ids[q][found]], scores[q][found], rtol=1e-4)
    # a pruned top 5 is never better than the exact one, row by row
    assert (scores.sum(axis=1) <= exact_scores.sum(axis=1) + 1e-3).all()
    hits = sum(len(set(a[a >= 0]) & set(b[b >= 0])) for a, b in zip(exact_ids, ids))
    recall = hits / int((exact_ids >= 0).sum())
    assert 0.92 <= recall < 1.0, recall  # 0.948 measured: the approximation loses a little (bench/growth.py)
