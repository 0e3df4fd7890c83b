"""Sampler invariants (no self pair, no gold pair, no unordered duplicate, k respected), BM25 agreement
with the rank-bm25 reference, HNSW recall, and KDE pulling the silver distribution towards gold."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from augsbert_core.sampling import (
    PairKeeper,
    distribution_distance,
    kde_select,
    sample_candidates,
    semantic_neighbours,
    tokenize,
)

from .conftest import DEMO


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], pd.DataFrame]:
    gold = pd.read_csv(DEMO / "stsb" / "train.csv").head(120)
    pool = pd.read_csv(DEMO / "stsb" / "unlabeled.csv")["sentence"].head(120).tolist()
    sentences = list(dict.fromkeys([*gold["sentence1"], *gold["sentence2"], *pool]))
    return sentences, gold.rename(columns={"score": "label"})


def _check_invariants(pairs: pd.DataFrame, gold: pd.DataFrame, top_k: int, sentences: list[str]) -> None:
    assert len(pairs) > 0
    assert not (pairs["sentence1"] == pairs["sentence2"]).any(), "self pair"
    keys = [frozenset(p) for p in zip(pairs["sentence1"], pairs["sentence2"])]
    assert len(keys) == len(set(keys)), "unordered duplicate"
    gold_keys = {frozenset(p) for p in zip(gold["sentence1"], gold["sentence2"])}
    assert not (set(keys) & gold_keys), "gold pair sampled"
    per_query = Counter(zip(pairs["sampler"], pairs["sentence1"]))  # a union holds k per query per sampler
    assert max(per_query.values()) <= top_k
    assert set(pairs["sentence1"]) | set(pairs["sentence2"]) <= set(sentences)


@pytest.mark.parametrize("sampler", ["random", "bm25"])
def test_lexical_and_random_invariants(corpus, sampler):
    sentences, gold = corpus
    pairs = sample_candidates(sentences, sampler, 3, gold=gold, seed=1)
    _check_invariants(pairs, gold, 3, sentences)
    assert set(pairs["sampler"]) == {sampler}


@pytest.mark.parametrize("sampler", ["semantic", "bm25+semantic", "kde"])
def test_semantic_invariants(corpus, minilm, sampler):
    sentences, gold = corpus
    pairs = sample_candidates(sentences, sampler, 3, gold=gold, model=minilm)
    _check_invariants(pairs, gold, 3, sentences)
    if sampler != "semantic":  # the union holds both kinds, each unordered pair once
        assert set(pairs["sampler"]) == {"bm25", "semantic"}


def test_top_k_counts_real_neighbours_not_the_query_itself():
    # 4 well separated clusters of 4 near-identical vectors: each query has exactly 3 real neighbours
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(4, 16))
    emb = np.repeat(centers, 4, axis=0) + rng.normal(scale=0.01, size=(16, 16))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    sentences = [f"s{i}" for i in range(16)]
    pairs = sample_candidates(sentences, "semantic", 3, embeddings=emb.astype(np.float32))
    # every within-cluster pair (4 choose 2 = 6 per cluster) is found: k=3 gave 3 real neighbours
    assert len(pairs) == 24
    cluster = {f"s{i}": i // 4 for i in range(16)}
    assert all(cluster[a] == cluster[b] for a, b in zip(pairs["sentence1"], pairs["sentence2"]))


def test_gold_partners_do_not_use_up_k():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(30, 8)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    sentences = [f"s{i}" for i in range(30)]
    ids, _ = semantic_neighbours(emb, 30)
    nearest = [sentences[j] for j in ids[0][1:3]]  # the two nearest real neighbours of s0
    gold = pd.DataFrame({"sentence1": ["s0", nearest[1]], "sentence2": [nearest[0], "s0"], "label": [1.0, 1.0]})
    pairs = sample_candidates(sentences, "semantic", 2, gold=gold, embeddings=emb)
    from_s0 = pairs[pairs["sentence1"] == "s0"]
    assert len(from_s0) == 2  # still two pairs, the next-nearest ones
    assert not set(from_s0["sentence2"]) & set(nearest)


def test_pair_keeper_blocks_self_gold_and_duplicates():
    keeper = PairKeeper(5, excluded=[(0, 1)])
    assert not keeper.add(2, 2)
    assert not keeper.add(1, 0)
    assert keeper.add(2, 3)
    assert not keeper.add(3, 2)
    assert len(keeper) == 1


def test_hnsw_recall_against_exact():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(3000, 32)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    exact, _ = semantic_neighbours(emb, 6, hnsw_threshold=10_000)
    approx, _ = semantic_neighbours(emb, 6, hnsw_threshold=100)
    recall = np.mean([len(set(a) & set(e)) / 6 for a, e in zip(approx, exact)])
    assert recall >= 0.98


def test_tokenize_drops_stopwords_and_short_tokens():
    assert tokenize(["The cat, a dog & I sat."]) == [["cat", "dog", "sat"]]


def test_kde_moves_silver_distribution_towards_gold():
    rng = np.random.default_rng(0)
    gold = np.clip(rng.normal(0.6, 0.2, 1000), 0, 1)  # gold centred high
    silver = np.clip(rng.beta(1.2, 5, 20000), 0, 1)  # silver skewed to low scores, like random pairs
    kept = kde_select(silver, gold, seed=0)
    before = distribution_distance(silver, gold)
    after = distribution_distance(silver[kept], gold)
    assert len(kept) > 200
    assert after < before / 2, (before, after)


def test_kde_balances_binary_labels():
    gold = np.array([1] * 50 + [0] * 50)
    silver = np.r_[np.full(900, 0.1), np.full(100, 0.9)]
    kept = kde_select(silver, gold)
    share = (silver[kept] >= 0.5).mean()
    assert share == pytest.approx(0.5, abs=0.02)
    assert len(kept) == 200


def test_every_config_sampler_has_its_searches():
    """A sampler is defined once (config.Sampler); sampling.SAMPLER_PARTS says which searches it runs."""
    from augsbert_core.config import SAMPLERS
    from augsbert_core.sampling import SAMPLER_PARTS

    assert set(SAMPLER_PARTS) == set(SAMPLERS)
    assert {part for parts in SAMPLER_PARTS.values() for part in parts} == {"random", "bm25", "semantic"}


def test_the_bm25_max_df_key_prunes_the_run_s_bm25_search(tiny_stsb):
    """bm25_max_df reaches a run's sampler: the run's candidates are the pruned search's, not the exact one's."""
    from augsbert_core import ExperimentConfig
    from augsbert_core.io.inputs import load_experiment_data
    from augsbert_core.silver import make_candidates

    raw = {"data": {k: str(v) for k, v in tiny_stsb.items()} | {"scale": [0, 5]}, "sampler": "bm25", "top_k": 3}
    exact_cfg = ExperimentConfig.from_dict(raw)
    pruned_cfg = ExperimentConfig.from_dict({**raw, "bm25_max_df": 2})
    data = load_experiment_data(exact_cfg)
    exact, pruned = make_candidates(exact_cfg, data, None), make_candidates(pruned_cfg, data, None)
    sentences = [*data.train["sentence1"], *data.train["sentence2"], *data.pool.sentences]
    direct = sample_candidates(sentences, "bm25", 3, gold=data.train, bm25_max_df=2)
    pd.testing.assert_frame_equal(pruned.reset_index(drop=True), direct.reset_index(drop=True))
    as_set = lambda f: set(zip(f["sentence1"], f["sentence2"]))  # noqa: E731
    assert as_set(pruned) != as_set(exact)
