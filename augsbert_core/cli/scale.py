"""The commands for scale: `train` (data-parallel under torchrun), `silver` (streamed), `worker` (a job)."""

from __future__ import annotations

import os
import sys

from .. import choices, ray_engine, registry
from ..config import ConfigError, role_config
from ..distributed import dist_info, train_distributed
from ..io import data
from ..jobs import run_worker
from ..models import load_bi_encoder, load_cross_encoder, require_trained_cross_encoder
from ..runs import RunStore
from ..silver import stream_silver
from .common import EXIT_OK, _PrintSink, _TqdmSink, _writable_path


def _cmd_worker(args) -> int:
    code = run_worker(args.run_id, RunStore(args.runs_dir), resume=args.resume)
    # the run's files are written (atomically, flushed); what is left are library threads and atexit hooks (a
    # tokenizer pool, a tracking client) that kept a finished worker alive for minutes: end the process now
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _cmd_train(args) -> int:

    info = dist_info()
    _writable_path(args.out, folder=True)  # a model folder: before loading data or models
    gold = data.load_pairs(args.train, task=args.task)
    dev = data.load_pairs(args.dev, task=gold.task).frame if args.dev else None
    lr = args.lr if args.lr is not None else (5e-5 if args.role == "teacher" else 2e-5)
    if args.batch_size < 1:
        raise ConfigError("--batch-size must be at least 1")
    cfg = role_config(
        args.role,
        model=args.model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=lr,
        max_seq_length=args.max_seq_length,
        loss=args.loss,
    )
    log = print if info.is_main else (lambda *a, **k: None)
    log(f"training {args.role} on {len(gold.frame):,} pairs ({gold.task}) with {info.world_size} process(es)")
    train_distributed(
        args.role,
        gold.frame,
        cfg,
        args.out,
        task=gold.task,
        dev=dev,
        seed=args.seed,
        device=args.device,
        max_steps=args.max_steps,
        ddp_backend=args.ddp_backend,
        log=log,
    )
    print(f"rank {info.rank}/{info.world_size} finished", file=sys.stderr)
    if info.is_main:
        print(args.out)
    return EXIT_OK


def _cmd_silver(args) -> int:

    if args.top_k < 1 or args.chunk_size < 1:
        raise ConfigError("--top-k and --chunk-size must be at least 1")
    if not args.out.endswith(".csv"):
        raise ConfigError("--out must be a .csv file (it is written incrementally)")
    _writable_path(args.out)
    require_trained_cross_encoder(args.teacher)  # a bi-encoder folder: refused before sampling (Ray too)
    pool = data.load_unlabeled(args.sentences)
    gold = data.load_pairs(args.gold).frame if args.gold else None
    sentences = (list(gold["sentence1"]) + list(gold["sentence2"]) if gold is not None else []) + pool.sentences
    model = load_bi_encoder(args.model) if registry.sampler(args.sampler).needs_model else None
    if choices.engine(args.engine).cluster:
        total = ray_engine.ray_silver(
            sentences,
            args.sampler,
            args.top_k,
            args.teacher,
            args.out,
            work_dir=args.work_dir or f"{args.out}.shards",
            gold=gold,
            model=model,
            seed=args.seed,
            hnsw_threshold=args.hnsw_threshold,
            chunk_size=args.chunk_size,
            batch_size=args.batch_size,
            bm25_max_df=args.bm25_max_df,
            address=args.ray_address,
            workers=args.workers,
            gpus_per_worker=args.gpus_per_worker,
            sink=_TqdmSink(),
        )
        print(f"{total:,} silver pairs from {len(dict.fromkeys(sentences)):,} sentences -> {args.out} (Ray)")
        return EXIT_OK
    teacher = load_cross_encoder(args.teacher, trained=True)
    devices = [d for d in (args.devices or "").split(",") if d] or None
    total = stream_silver(
        sentences,
        args.sampler,
        args.top_k,
        teacher,
        args.out,
        gold=gold,
        model=model,
        seed=args.seed,
        hnsw_threshold=args.hnsw_threshold,
        chunk_size=args.chunk_size,
        batch_size=args.batch_size,
        backend=args.backend,
        devices=devices,
        bm25_max_df=args.bm25_max_df,
        sink=_PrintSink(),
    )
    print(f"{total:,} silver pairs from {len(dict.fromkeys(sentences)):,} sentences -> {args.out}")
    return EXIT_OK
