"""`augsbert silver --engine ray`: candidate search and teacher labeling on a Ray cluster, as the local path.

Candidates: the indexes (BM25 weights, faiss) are built once on the driver and put in the object store; each
block of query sentences is a Ray task (`BlockSearch.run`). Their results come back in block order into the
same loop as the local engine (`sampling.iter_candidate_chunks`), which keeps the random draws, deduplication
and gold exclusion: the candidate set is exactly the local one. Each block's pairs become a Parquet shard.

Labeling: the candidate shards go to Ray Data 16 at a time (`from_pandas`: Ray Data's own Parquet reader wants
fsspec's HTTP filesystem, which does not import with this project's fsspec) and `map_batches` runs a pool of
actors, each holding the teacher (one per GPU, or CPU actors), through the same `teacher.label_pairs` (both
orders averaged). Labeled rows come back to the driver, which writes one labeled shard per candidate shard once
it is complete; a killed driver resumes from the shards already written (candidates are searched again only if
their set was not finished).
Progress is reported as the usual events, and a cancel stops between batches.

`ray` is an optional extra (`pip install .[ray]`); `ray.init(address=...)` uses `address`, else RAY_ADDRESS,
else starts a local cluster."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from . import stages
from .atomic import atomic_path, dumps_json
from .errors import ConfigError
from .runs.progress import CancelToken, ProgressEvent, ProgressSink, null_sink
from .sampling import BlockSearch, iter_candidate_chunks

CANDIDATES = "candidates"
LABELED = "labeled"
DONE = "_DONE.json"


RAY_LOCAL_ADDRESSES = ("auto", "local")  # ray.init's own words for "find or start a cluster here"


def import_ray():
    """The `ray` module, or a clear error naming the extra to install."""
    try:
        import ray  # noqa: PLC0415 - optional extra; only engine: ray needs it
    except ImportError as exc:
        raise ConfigError(
            "--engine ray needs Ray: pip install 'augsbert-studio[ray]' (or pip install 'ray[data]')"
        ) from exc
    return ray


_connected: dict[str, str | None] = {}  # the address this process connected to through `init` (None: local)


PROBE_SECONDS = 5.0  # how long the pre-flight waits for a cluster address to answer


def check_address(address: str | None, timeout: float = PROBE_SECONDS) -> None:
    """Pre-flight for `engine: ray` (ConfigError, said in one line before any work): a `ray://` address needs the
    Ray Client (ray[client]), and a cluster address must answer a TCP connection within `timeout` seconds (a dead
    one would otherwise block `ray.init` for minutes, after the trainings). None or 'auto'/'local': nothing to do."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is None or address in RAY_LOCAL_ADDRESSES:
        return
    where = address.removeprefix("ray://")
    if address.startswith("ray://") and importlib.util.find_spec("grpc") is None:
        raise ConfigError(
            f"ray.address {address}: a ray:// address needs the Ray Client: pip install 'ray[client]' "
            "(or give the cluster's GCS address host:6379 from a machine in the cluster)"
        )
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"ray.address {address!r}: expected ray://HOST:PORT or HOST:PORT (e.g. ray://head:10001)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ConfigError(
            f"ray.address {address}: the cluster does not answer ({reason} within {timeout:g} s): start it, or fix "
            "the address (RAY_ADDRESS counts too)"
        ) from None


def init(address: str | None = None, num_cpus: int | None = None) -> Any:
    """Connect to the cluster at `address` (else RAY_ADDRESS), or start a local one with `num_cpus` workers.

    One process holds one Ray connection: asking for another address than the one `init` connected to is a
    ConfigError rather than a silent run on the first cluster."""
    ray = import_ray()
    address = address or os.environ.get("RAY_ADDRESS") or None
    if ray.is_initialized():
        if "address" in _connected and address and address != _connected["address"]:
            raise ConfigError(
                f"ray.address: this process is already connected to {_connected['address'] or 'a local cluster'}; "
                f"{address!r} needs a new process (one Ray connection per process)"
            )
        return ray
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "ignore_reinit_error": True}
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=num_cpus, **kwargs)
    _connected["address"] = address
    return ray


def ray_search_blocks(search: BlockSearch, blocks: list[np.ndarray], in_flight: int = 4) -> Iterator[dict]:
    """`search_blocks` for `iter_candidate_chunks`: blocks as Ray tasks (the indexes shipped once), in order."""
    ray = import_ray()
    shared = ray.put(search)
    run = ray.remote(num_cpus=1)(_run_block)
    pending = [run.remote(shared, blocks[i]) for i in range(min(in_flight, len(blocks)))]
    for i in range(len(blocks)):
        result = ray.get(pending[i])
        pending[i] = None  # let the object store drop it
        if i + in_flight < len(blocks):
            pending.append(run.remote(shared, blocks[i + in_flight]))
        yield result


def _run_block(search: BlockSearch, queries: np.ndarray) -> dict:
    return search.run(queries)


@dataclass(frozen=True)
class LabelingActors:
    """The Ray Data actors that label: the teacher they hold (a saved model folder or name every worker can load),
    their batch size, how many (None: one per CPU, or per GPU share) and what each one takes."""

    teacher: str
    batch_size: int = 64
    workers: int | None = None
    gpus_per_worker: float = 0.0  # > 0: GPU actors
    trust_remote_code: bool = False

    def pool_size(self, ray) -> int:
        """Actors to start: as asked, but never more GPU actors than the cluster's GPUs hold (more would wait
        forever); without a number, one per CPU of the cluster (or per GPU share)."""
        free = ray.available_resources()
        if self.gpus_per_worker:
            fits = int(round(free.get("GPU", 0) / self.gpus_per_worker, 6))
            return max(1, min(self.workers, fits) if self.workers else fits)
        return max(1, self.workers or int(free.get("CPU", 1)))


class _Labeler:
    """A Ray Data actor holding the teacher: scores a batch of candidate rows with `teacher.label_pairs`."""

    def __init__(
        self, teacher: str, batch_size: int, device: str | None, symmetric: bool = True, trust_remote_code: bool = False
    ) -> None:
        import torch  # noqa: PLC0415 - loads torch; only labeling actors need it

        from .models import load_cross_encoder  # noqa: PLC0415 - loads torch; only labeling actors need it

        if device in (None, "cpu"):
            torch.set_num_threads(1)  # one CPU actor per core
        self.model = load_cross_encoder(teacher, device=device, trust_remote_code=trust_remote_code)
        self.batch_size = batch_size
        self.symmetric = symmetric

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from .teacher import label_pairs  # noqa: PLC0415 - loads torch; only labeling actors need it

        scores = label_pairs(
            self.model, batch["sentence1"], batch["sentence2"], batch_size=self.batch_size, symmetric=self.symmetric
        )
        return batch.assign(score=np.asarray(scores, dtype=np.float32))


def ray_silver(
    sentences: list[str],
    sampler: str,
    top_k: int,
    teacher: str,
    out: str | Path,
    *,
    work_dir: str | Path,
    gold: pd.DataFrame | None = None,
    model=None,
    seed: int = 42,
    hnsw_threshold: int = 50_000,
    chunk_size: int = 50_000,
    batch_size: int = 64,
    bm25_max_df: int | None = None,
    address: str | None = None,
    workers: int | None = None,
    gpus_per_worker: float = 0.0,
    sink: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
) -> int:
    """`silver.stream_silver` on Ray: candidates -> teacher labels -> `out` (CSV: sentence1, sentence2, sampler,
    score), with shards under `work_dir` so that a killed driver resumes. `teacher` is a saved model folder (or
    name) every actor loads. Returns the pairs written."""
    ray = init(address, workers)
    work = Path(work_dir)
    cand_dir, lab_dir = work / CANDIDATES, work / LABELED
    cand_dir.mkdir(parents=True, exist_ok=True)
    lab_dir.mkdir(parents=True, exist_ok=True)
    settings = {"sampler": sampler, "top_k": top_k, "seed": seed, "chunk_size": chunk_size, "n": len(sentences)}
    done_file = cand_dir / DONE
    if not (done_file.exists() and json.loads(done_file.read_text()) == settings):
        for old in cand_dir.glob("part-*.parquet"):
            old.unlink()
        for old in lab_dir.glob("part-*.parquet"):
            old.unlink()
        chunks = iter_candidate_chunks(
            sentences,
            sampler,
            top_k,
            gold=gold,
            model=model,
            seed=seed,
            hnsw_threshold=hnsw_threshold,
            chunk_size=chunk_size,
            sink=sink,
            bm25_max_df=bm25_max_df,
            search_blocks=ray_search_blocks,
        )
        for i, chunk in enumerate(chunks):
            if cancel is not None:
                cancel.raise_if_cancelled("candidate search")
            with atomic_path(cand_dir / f"part-{i:05d}.parquet") as tmp:
                chunk.reset_index(drop=True).assign(_row=np.arange(len(chunk))).to_parquet(tmp, index=False)
        done_file.write_text(dumps_json(settings))
    shards = sorted(cand_dir.glob("part-*.parquet"))
    rows = {p.name: pq.ParquetFile(p).metadata.num_rows for p in shards}  # from the footer, not the data
    pending = [p for p in shards if not (lab_dir / p.name).exists() and rows[p.name]]
    total = sum(rows.values())
    done = sum(rows[p.name] for p in shards if p not in pending)
    sink(ProgressEvent(stages.LABEL, done, total, message=f"labeling {total:,} pairs on Ray ({len(pending)} shards)"))
    if pending:
        actors = LabelingActors(teacher, batch_size, workers, gpus_per_worker)
        done = _label_shards(ray, actors, pending, lab_dir, rows, sink=sink, cancel=cancel, done=done, total=total)
    written = 0
    with atomic_path(out) as tmp:
        header = True
        for p in shards:
            frame = pd.read_parquet(lab_dir / p.name) if rows[p.name] else None
            if frame is None:
                continue
            frame[["sentence1", "sentence2", "sampler", "score"]].to_csv(
                tmp, mode="w" if header else "a", header=header, index=False
            )
            header = False
            written += len(frame)
        if header:  # no pairs at all: still a valid, empty silver file
            pd.DataFrame(columns=["sentence1", "sentence2", "sampler", "score"]).to_csv(tmp, index=False)
    return written


def _label_shards(
    ray,
    actors: LabelingActors,
    pending: list[Path],
    lab_dir: Path,
    rows: dict[str, int],
    *,
    sink: ProgressSink,
    cancel: CancelToken | None,
    done: int,
    total: int,
    symmetric: bool = True,
    stage: str = stages.LABEL,
    window: int = 16,
) -> int:
    """Ray Data over the pending candidate shards, `window` shards at a time (the driver reads them into the object
    store: bounded memory); each labeled shard is written once all its rows are back. Returns the rows done."""
    concurrency = actors.pool_size(ray)
    step = max(actors.batch_size * 4, 256)  # rows per input block and per actor call: ~4 batches each
    for first in range(0, len(pending), window):
        paths = pending[first : first + window]
        # input blocks of `step` rows, so every actor has work (a repartition task would need a CPU the actors hold:
        # it deadlocks a cluster whose CPUs are all labeling)
        pieces = []
        for i, path in enumerate(paths):
            frame = pd.read_parquet(path).assign(_shard=i)
            pieces.extend(frame.iloc[j : j + step] for j in range(0, len(frame), step))
        labeled = ray.data.from_pandas(pieces).map_batches(
            _Labeler,
            fn_constructor_args=(
                actors.teacher,
                actors.batch_size,
                "cuda" if actors.gpus_per_worker else "cpu",
                symmetric,
                actors.trust_remote_code,
            ),
            batch_format="pandas",
            batch_size=step,
            compute=ray.data.ActorPoolStrategy(size=concurrency),
            num_cpus=0 if actors.gpus_per_worker else 1,
            num_gpus=actors.gpus_per_worker or None,
        )
        collected: dict[int, list[pd.DataFrame]] = {}
        got: dict[int, int] = {}
        for batch in labeled.iter_batches(batch_format="pandas", batch_size=None):
            if cancel is not None:
                cancel.raise_if_cancelled("labeling")
            for shard, part in batch.groupby("_shard", sort=False):
                shard = int(shard)
                collected.setdefault(shard, []).append(part)
                got[shard] = got.get(shard, 0) + len(part)
                path = paths[shard]
                if got[shard] == rows[path.name]:
                    frame = pd.concat(collected.pop(shard)).sort_values("_row").drop(columns=["_shard", "_row"])
                    with atomic_path(lab_dir / path.name) as tmp:
                        frame.reset_index(drop=True).to_parquet(tmp, index=False)
            done += len(batch)
            sink(ProgressEvent(stage, done, total))
    return done


class RayScorer:
    """`teacher.label_pairs`' scorer on a Ray cluster (the pipeline's `engine: ray`).

    The distinct ordered pairs `label_pairs` still needs (after its cache) become Parquet shards of `shard_size`
    rows under `work_dir/label-<key>` (key: the teacher's weights and the pairs), Ray Data actors holding `teacher`
    (a saved model folder every worker can read) score one order each, and the scores come back in order; the
    cache and the averaging of both orders stay in `label_pairs`, so the rules are the local ones. A killed driver
    resumes from the labeled shards already written; the folder goes once every score is back."""

    def __init__(
        self,
        teacher: str | Path,
        work_dir: str | Path,
        *,
        batch_size: int = 64,
        address: str | None = None,
        workers: int | None = None,
        gpus_per_worker: float = 0.0,
        shard_size: int = 8192,
        trust_remote_code: bool = False,
    ) -> None:
        self.actors = LabelingActors(str(teacher), batch_size, workers, gpus_per_worker, trust_remote_code)
        self.work_dir, self.address, self.shard_size = Path(work_dir), address, shard_size

    def __call__(
        self,
        pairs: list[tuple[str, str]],
        *,
        sink: ProgressSink = null_sink,
        cancel: CancelToken | None = None,
        stage: str = stages.LABEL,
    ) -> np.ndarray:
        from .teacher import model_fingerprint  # noqa: PLC0415 - teacher.py loads torch; the search side does not

        if not pairs:
            return np.zeros(0, dtype=np.float32)
        ray = init(self.address, self.actors.workers)
        digest = hashlib.sha256(model_fingerprint(self.actors.teacher).encode())
        for a, b in pairs:
            digest.update(f"{len(a)}:{a}{len(b)}:{b}".encode())
        work = self.work_dir / f"label-{digest.hexdigest()[:16]}"
        cand_dir, lab_dir = work / CANDIDATES, work / LABELED
        if not (cand_dir / DONE).exists():  # a killed driver that had written them all keeps its labeled shards
            for old in self.work_dir.glob("label-*"):  # this one half-written, or another set's that can't resume now
                shutil.rmtree(old, ignore_errors=True)
            cand_dir.mkdir(parents=True)
            for i, start in enumerate(range(0, len(pairs), self.shard_size)):
                part = pairs[start : start + self.shard_size]
                frame = pd.DataFrame(part, columns=["sentence1", "sentence2"]).assign(
                    _row=np.arange(start, start + len(part))
                )
                with atomic_path(cand_dir / f"part-{i:08d}.parquet") as tmp:  # names sort as numbers
                    frame.to_parquet(tmp, index=False)
            (cand_dir / DONE).write_text(dumps_json({"pairs": len(pairs), "teacher": self.actors.teacher}))
        lab_dir.mkdir(parents=True, exist_ok=True)
        shards = sorted(cand_dir.glob("part-*.parquet"))
        rows = {p.name: pq.ParquetFile(p).metadata.num_rows for p in shards}
        pending = [p for p in shards if not (lab_dir / p.name).exists()]
        done = sum(rows[p.name] for p in shards if p not in pending)
        where = self.address or os.environ.get("RAY_ADDRESS") or "a local Ray cluster"
        sink(
            ProgressEvent(
                stage,
                done,
                len(pairs),
                message=f"scoring {len(pairs):,} ordered pairs on {where} ({len(pending)} of {len(shards)} shards "
                + "to label)",
            )
        )
        if pending:
            _label_shards(
                ray,
                self.actors,
                pending,
                lab_dir,
                rows,
                sink=sink,
                cancel=cancel,
                done=done,
                total=len(pairs),
                symmetric=False,
                stage=stage,
            )
        scores = np.concatenate(
            [pd.read_parquet(lab_dir / p.name, columns=["score"])["score"].to_numpy(np.float32) for p in shards]
        )
        if len(scores) != len(pairs):  # pragma: no cover - a shard written by another version
            raise RuntimeError(f"{work}: {len(scores)} scores for {len(pairs)} pairs; delete the folder and rerun")
        shutil.rmtree(work, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.work_dir.rmdir()  # only when nothing else is in it
        return scores


def cluster_search_blocks(address: str | None = None, workers: int | None = None):
    """`search_blocks` for the samplers that runs each block as a Ray task on the cluster (connecting first)."""
    init(address, workers)
    return ray_search_blocks
