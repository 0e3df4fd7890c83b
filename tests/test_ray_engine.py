"""engine: ray (augsbert_core/ray_engine.py) on a local Ray cluster of 2 CPU workers: the same candidate set and
(within float tolerance) the same labels as the local engine, and a killed driver resumes from its shards.

Run: HF_HUB_OFFLINE=1 python -m pytest tests/test_ray_engine.py -q  (Ray: pip install '.[ray]')"""

from __future__ import annotations

import os
import signal

import numpy as np
import pandas as pd
import pytest

ray = pytest.importorskip("ray", reason="engine: ray needs the optional extra: pip install '.[ray]'")

from augsbert_core.models import load_cross_encoder, resolve_model  # noqa: E402
from augsbert_core.ray_engine import LABELED, ray_silver  # noqa: E402
from augsbert_core.silver import stream_silver  # noqa: E402

from .conftest import DEMO  # noqa: E402


@pytest.fixture(autouse=True)
def deadline():
    """A hung cluster fails its test after 5 minutes instead of holding CI to its 90-minute limit."""

    def fail(*_):
        raise TimeoutError("engine: ray test ran past 300 s (a hung Ray cluster?)")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(300)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory):
    """A saved cross-encoder folder (MiniLM body, its fresh head saved once): every actor loads the same weights."""
    from sentence_transformers import CrossEncoder

    path = tmp_path_factory.mktemp("teacher") / "model"
    CrossEncoder(str(resolve_model("default")), num_labels=1, device="cpu").save(str(path))
    return str(path)


@pytest.fixture(scope="module")
def pool() -> tuple[list[str], pd.DataFrame]:
    gold = pd.read_csv(DEMO / "stsb" / "train.csv").head(20)
    sentences = pd.read_csv(DEMO / "stsb" / "unlabeled.csv")["sentence"].head(160).tolist()
    return [*gold["sentence1"], *gold["sentence2"], *sentences], gold


def _local(pool, teacher_dir, sampler, out, model=None) -> pd.DataFrame:
    sentences, gold = pool
    teacher = load_cross_encoder(teacher_dir, device="cpu")
    stream_silver(sentences, sampler, 2, teacher, out, gold=gold, model=model, chunk_size=64, batch_size=16)
    return pd.read_csv(out, keep_default_na=False)


def test_ray_gives_the_local_candidates_and_labels(cluster, pool, teacher_dir, tmp_path, minilm):
    sentences, gold = pool
    sampler, model = "bm25+semantic", minilm  # both searches: the BM25 weights and a faiss index travel to tasks
    local = _local(pool, teacher_dir, sampler, tmp_path / "local.csv", model)
    total = ray_silver(
        sentences,
        sampler,
        2,
        teacher_dir,
        tmp_path / "ray.csv",
        work_dir=tmp_path / "work",
        gold=gold,
        model=model,
        chunk_size=64,
        batch_size=16,
        workers=2,
    )
    distributed = pd.read_csv(tmp_path / "ray.csv", keep_default_na=False)
    assert total == len(local) == len(distributed) > 100
    pd.testing.assert_frame_equal(
        distributed[["sentence1", "sentence2", "sampler"]], local[["sentence1", "sentence2", "sampler"]]
    )
    np.testing.assert_allclose(distributed["score"], local["score"], atol=1e-4)
    assert len(list((tmp_path / "work" / LABELED).glob("part-*.parquet"))) == -(-len(dict.fromkeys(sentences)) // 64)


def test_a_killed_driver_resumes_from_the_shards_written(cluster, pool, teacher_dir, tmp_path):
    sentences, gold = pool
    kwargs = dict(work_dir=tmp_path / "work", gold=gold, chunk_size=64, batch_size=16, workers=2)
    ray_silver(sentences, "bm25", 2, teacher_dir, tmp_path / "first.csv", **kwargs)
    shards = sorted((tmp_path / "work" / LABELED).glob("part-*.parquet"))
    lost = shards[1]
    lost.unlink()  # as if the driver died while labeling this shard
    kept = {p: os.stat(p).st_mtime_ns for p in shards if p != lost}
    ray_silver(sentences, "bm25", 2, teacher_dir, tmp_path / "second.csv", **kwargs)
    assert lost.exists() and all(os.stat(p).st_mtime_ns == t for p, t in kept.items())  # only the lost one again
    first, second = (pd.read_csv(tmp_path / f, keep_default_na=False) for f in ("first.csv", "second.csv"))
    pd.testing.assert_frame_equal(first[["sentence1", "sentence2"]], second[["sentence1", "sentence2"]])
    np.testing.assert_allclose(first["score"], second["score"], atol=1e-4)
