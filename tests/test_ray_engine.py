"""engine: ray (augsbert_core/ray_engine.py) on a local Ray cluster of 2 CPU workers: the same candidate set and
(within float tolerance) the same labels as the local engine, and a killed driver resumes from its shards.

Run: HF_HUB_OFFLINE=1 python -m pytest tests/test_ray_engine.py -q  (Ray: pip install '.[ray]')"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray", reason="engine: ray needs the optional extra: pip install '.[ray]'")

from augsbert_core import ExperimentConfig, RunStore, run_experiment  # noqa: E402
from augsbert_core import ray_engine as ray_engine_module  # noqa: E402
from augsbert_core.models import load_cross_encoder, resolve_model  # noqa: E402
from augsbert_core.ray_engine import LABELED, RayScorer, ray_silver  # noqa: E402
from augsbert_core.runs import read_events  # noqa: E402
from augsbert_core.runs.progress import Cancelled, CancelToken  # noqa: E402
from augsbert_core.silver import make_candidates, stream_silver  # noqa: E402
from augsbert_core.teacher import label_pairs  # noqa: E402

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


def _pipeline_config(data: dict, engine: str, **extra) -> ExperimentConfig:
    fast = {"epochs": 1, "batch_size": 16}
    return ExperimentConfig.from_dict(
        {
            "name": f"engine-{engine}",
            "scenario": 2,
            "data": {k: str(v) for k, v in data.items()} | {"scale": [0, 5]},
            "sampler": "bm25+semantic",  # both searches: the block layout decides which search a pair counts for
            "top_k": 2,
            "student": fast,
            "teacher": fast | {"model": "default", "warm_start": "off"},
            "ensemble": "off",
            "labeler": "cross_encoder",
            "train_gold_only": False,
            "label_cache": False,  # every pair is scored on the cluster, not read back from an earlier run
            "live_evals": 0,
            "checkpoints": 0,
            "seed": 7,
            "sample_block_size": 64,  # several search blocks, so several Ray tasks
            "engine": engine,
            "ray": {"workers": 2, "shard_size": 256},
            **extra,
        }
    )


def test_the_pipeline_on_ray_samples_and_labels_as_the_local_engine(cluster, tiny_stsb, tmp_path, minilm, monkeypatch):
    """engine: ray in a run: its search blocks go to Ray tasks, its labels to the Ray scorer; the local engine's
    candidates, the run's teacher's local labels (within float tolerance), labeling progress in the run's events
    (what the Training page shows), no shards left behind."""
    from augsbert_core import ray_engine
    from augsbert_core.io.inputs import load_experiment_data

    searched = []

    def counted(search, blocks):
        searched.extend(blocks)
        yield from ray_search_blocks(search, blocks)

    ray_search_blocks = ray_engine.ray_search_blocks
    monkeypatch.setattr(ray_engine, "ray_search_blocks", counted)
    ray_cfg = _pipeline_config(tiny_stsb, "ray")
    data = load_experiment_data(ray_cfg)
    local_candidates = make_candidates(_pipeline_config(tiny_stsb, "local"), data, minilm)
    assert not searched  # the local engine searched here
    result = run_experiment(ray_cfg, store=RunStore(tmp_path / "runs"))
    pool = {*data.train["sentence1"], *data.train["sentence2"], *data.pool.sentences}
    assert len(searched) == -(-len(pool) // 64) > 1  # every block of 64 sentences went out as a Ray task
    run_dir = result.run_dir
    candidates = pd.read_csv(run_dir / "candidates.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(candidates, local_candidates.reset_index(drop=True), check_dtype=False)
    silver = pd.read_csv(run_dir / "silver.csv", keep_default_na=False)
    assert len(silver) == len(candidates) > 100
    teacher = load_cross_encoder(str(run_dir / "models" / "teacher"), device="cpu")
    here = label_pairs(teacher, silver["sentence1"], silver["sentence2"], batch_size=16)
    np.testing.assert_allclose(silver["score_cross_encoder"], here, atol=1e-4)
    summary = json.loads((run_dir / "silver_summary.json").read_text())
    assert summary["engine"] == "ray"
    label = [e for e in read_events(run_dir / "events.jsonl") if e.get("stage") == "label"]
    assert any("shards to label" in (e.get("message") or "") for e in label)  # said by the Ray scorer only
    ordered = 2 * len(silver)  # both orders of each pair (no duplicates here)
    assert any(e.get("total") == ordered and e.get("step") == ordered for e in label)
    assert not (run_dir / "ray").exists() or not any((run_dir / "ray").iterdir())


def test_a_cancelled_labeling_on_ray_resumes_from_its_labeled_shards(cluster, pool, teacher_dir, tmp_path, monkeypatch):
    sentences, _ = pool
    pairs = [(a, b) for step in range(1, 10) for a, b in zip(sentences, sentences[step:])][:1200]
    assert len(pairs) == 1200
    work = tmp_path / "ray"
    scorer = RayScorer(teacher_dir, work, batch_size=16, workers=2, shard_size=256)
    token = CancelToken()

    def cancel_once_a_shard_is_written(event):
        if list(work.glob(f"label-*/{LABELED}/part-*.parquet")):
            token.cancel()

    with pytest.raises(Cancelled):
        scorer(pairs, sink=cancel_once_a_shard_is_written, cancel=token)
    kept = {p.name for p in work.glob(f"label-*/{LABELED}/part-*.parquet")}
    assert 0 < len(kept) < 5  # 1,200 pairs = 5 shards of 256; some labeled, not all
    done = sum(pq.ParquetFile(p).metadata.num_rows for p in work.glob(f"label-*/{LABELED}/part-*.parquet"))
    events, relabeled = [], []
    real_write = ray_engine_module.atomic_path

    def watched(path):  # records which labeled shards the resumed labeling writes
        relabeled.append(Path(path).name)
        return real_write(path)

    monkeypatch.setattr(ray_engine_module, "atomic_path", watched)
    scores = scorer(pairs, sink=events.append)
    assert events[0].step == done  # the resumed labeling starts after the shards already written
    assert relabeled and not set(relabeled) & kept  # and writes none of them again
    teacher = load_cross_encoder(teacher_dir, device="cpu")
    here = label_pairs(teacher, [a for a, _ in pairs], [b for _, b in pairs], batch_size=16, symmetric=False)
    np.testing.assert_allclose(scores, here, atol=1e-4)
    assert not list(work.glob("label-*"))  # the shards go once every score is back


def test_engine_ray_is_a_config_key_and_a_run_option():
    cfg = ExperimentConfig.from_dict(
        {"data": {"train": "t.csv"}, "engine": "ray", "ray": {"address": "ray://head:10001", "gpus_per_worker": 1}},
        rules=False,
    )
    assert (cfg.engine, cfg.ray.address, cfg.ray.gpus_per_worker) == ("ray", "ray://head:10001", 1.0)
    with pytest.raises(Exception, match="engine"):
        ExperimentConfig.from_dict({"data": {"train": "t.csv"}, "engine": "spark"}, rules=False)


def test_augsbert_check_names_the_ray_engine(tiny_stsb, monkeypatch):
    import socket

    from augsbert_core.errors import ConfigError
    from augsbert_core.plan import check_experiment

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with socket.socket() as listener:  # a cluster address that answers (the pre-flight probes it)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        plan = check_experiment(_pipeline_config(tiny_stsb, "ray", ray={"address": address}))
    assert plan.to_dict()["engine"] == "ray"
    assert any(line.startswith(f"engine: ray (sampling and labeling on {address}") for line in plan.lines())
    assert check_experiment(_pipeline_config(tiny_stsb, "local")).to_dict()["engine"] == "local"
    # one that cannot be reached (or needs the Ray Client) is refused by the pre-flight, not after the trainings
    refused = r"ray\.address ray://head:10001: (a ray:// address needs|the cluster does not)"
    with pytest.raises(ConfigError, match=refused):
        check_experiment(_pipeline_config(tiny_stsb, "ray", ray={"address": "ray://head:10001"}))


def test_one_process_keeps_one_cluster_and_an_empty_set_needs_none(cluster, teacher_dir, tmp_path, monkeypatch):
    from augsbert_core.errors import ConfigError

    monkeypatch.setitem(ray_engine_module._connected, "address", None)  # as if init() had started a local cluster
    with pytest.raises(ConfigError, match="ray.address: this process is already connected to a local cluster"):
        ray_engine_module.init("ray://elsewhere:10001")
    assert ray_engine_module.init() is ray  # the same cluster again is fine
    assert RayScorer(teacher_dir, tmp_path / "ray")([]).shape == (0,)
    assert not (tmp_path / "ray").exists()
