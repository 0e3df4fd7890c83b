"""Streamed candidate generation and labeling: invariants across chunks, per-chunk progress, no pair
scored twice, and the vectorised keeper identical to `PairKeeper`."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from augsbert_core.sampling import PairKeeper, _ChunkKeeper, iter_candidate_chunks, sample_candidates
from augsbert_core.teacher import iter_labeled_chunks, label_pairs

from .conftest import DEMO


@pytest.fixture(scope="module")
def pool() -> tuple[list[str], pd.DataFrame, np.ndarray]:
    gold = pd.read_csv(DEMO / "stsb" / "train.csv").head(80).rename(columns={"score": "label"})
    extra = pd.read_csv(DEMO / "stsb" / "unlabeled.csv")["sentence"].head(300).tolist()
    sentences = list(dict.fromkeys([*gold["sentence1"], *gold["sentence2"], *extra]))
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(len(sentences), 16)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return sentences, gold, emb


class CountingTeacher:
    """CrossEncoder stand-in: a deterministic asymmetric score; remembers every ordered pair it scored."""

    def __init__(self) -> None:
        self.scored: list[tuple[str, str]] = []

    def predict(self, pairs, batch_size=32, show_progress_bar=False, convert_to_numpy=True, **_):
        pairs = list(pairs)
        self.scored.extend(pairs)
        return np.array([(len(a) * 7 + len(b) * 3) % 100 / 100 for a, b in pairs], dtype=np.float32)


def _keys(frame: pd.DataFrame) -> list[frozenset]:
    return [frozenset(p) for p in zip(frame["sentence1"], frame["sentence2"])]


@pytest.mark.parametrize("sampler", ["random", "bm25", "semantic", "bm25+semantic"])
def test_chunks_keep_every_invariant_and_match_the_full_result(pool, sampler):
    sentences, gold, emb = pool
    events = []
    chunks = list(
        iter_candidate_chunks(sentences, sampler, 3, gold=gold, embeddings=emb, chunk_size=64, sink=events.append)
    )
    assert len(chunks) == -(-len(sentences) // 64)
    assert [e.step for e in events if e.stage == "sample.chunk"] == [
        min((i + 1) * 64, len(sentences)) for i in range(len(chunks))
    ]
    stream = pd.concat(chunks, ignore_index=True)
    keys = _keys(stream)
    assert len(keys) == len(set(keys)), "unordered pair repeated across chunks"
    assert not (stream["sentence1"] == stream["sentence2"]).any()
    assert not set(keys) & set(_keys(gold))
    assert max(Counter(zip(stream["sampler"], stream["sentence1"])).values()) <= 3
    full = sample_candidates(sentences, sampler, 3, gold=gold, embeddings=emb)
    assert set(keys) == set(_keys(full))  # chunking changes nothing but the order


def test_vectorised_keeper_equals_pair_keeper():
    rng = np.random.default_rng(1)
    n = 60
    excluded = [tuple(rng.choice(n, 2, replace=False)) for _ in range(40)]
    ranked = rng.integers(-1, n, size=(n, 12))
    reference = PairKeeper(n, excluded)
    for q in range(n):
        reference.add_neighbours(q, ranked[q], 4)
    keeper = _ChunkKeeper(n, excluded)
    first, second = [], []
    for start in range(0, n, 17):
        a, b = keeper.take(np.arange(start, min(start + 17, n)), ranked[start : start + 17], 4)
        first += a.tolist()
        second += b.tolist()
    assert (first, second) == (reference.first, reference.second)


def test_streamed_labeling_scores_each_ordered_pair_once(pool):
    sentences, gold, emb = pool
    teacher = CountingTeacher()
    chunks = iter_candidate_chunks(sentences, "bm25+semantic", 3, gold=gold, embeddings=emb, chunk_size=50)
    labeled = pd.concat(iter_labeled_chunks(teacher, chunks, chunk_size=100), ignore_index=True)
    assert len(teacher.scored) == len(set(teacher.scored)) == 2 * len(labeled)
    expected = label_pairs(CountingTeacher(), labeled["sentence1"], labeled["sentence2"])
    np.testing.assert_allclose(labeled["score"].to_numpy(), expected)


def test_label_pairs_dedups_and_averages_both_orders():
    teacher = CountingTeacher()
    s1 = ["a", "bb", "a", "ccc"]
    s2 = ["bb", "a", "bb", "dddd"]  # (a,bb) twice and swapped once
    scores = label_pairs(teacher, s1, s2, chunk_size=2)
    assert sorted(teacher.scored) == sorted({("a", "bb"), ("bb", "a"), ("ccc", "dddd"), ("dddd", "ccc")})
    assert scores[0] == scores[1] == scores[2]
    one = lambda a, b: (len(a) * 7 + len(b) * 3) % 100 / 100  # noqa: E731
    assert scores[3] == pytest.approx((one("ccc", "dddd") + one("dddd", "ccc")) / 2)


def test_silver_cli_streams_to_csv(tmp_path, tiny_stsb, cross_encoder_dir):
    from augsbert_core.cli import main

    out = tmp_path / "silver.csv"
    rc = main(
        [
            "silver",
            "--sentences",
            str(tiny_stsb["unlabeled"]),
            "--teacher",
            str(cross_encoder_dir),
            "--sampler",
            "bm25",
            "--top-k",
            "2",
            "--chunk-size",
            "25",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    silver = pd.read_csv(out)
    assert list(silver.columns) == ["sentence1", "sentence2", "sampler", "score"]
    assert len(silver) > 0 and silver["score"].between(0, 1).all()
    assert len(set(_keys(silver))) == len(silver)
