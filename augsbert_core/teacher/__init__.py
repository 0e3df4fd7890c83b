"""The cross-encoder teacher: fine-tuned on gold pairs in both orders, labels candidate pairs.

Cross-encoders are not symmetric (CE(a,b) != CE(b,a)), so the teacher trains on both orders and a
label is the mean of both orders' scores."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from .. import registry, stages
from ..atomic import dumps_json
from ..choices import AUTO
from ..config import ExperimentConfig, ModelConfig, TeacherSearchConfig
from ..evaluation import PRIMARY_METRIC, SplitScores, bi_encoder_scores, primary_score, score_splits
from ..io.inputs import LoadedData
from ..models import AUTO_TEACHER, choose_device, default_teacher, load_cross_encoder
from ..registry import DEFAULT_TEACHER_LOSS
from ..runs.progress import Cancelled, CancelToken, ProgressEvent, ProgressSink, make_trainer_callback, null_sink
from ..sampling.embeddings import cache_dir
from ..speed import throughput, timed, timed_split
from ..training import drop_checkpoints, fit, trainer_kwargs
from .onnx_teacher import OnnxCrossEncoder, onnx_cross_encoder  # noqa: F401 - re-exported: their old home


def both_orders(frame: pd.DataFrame) -> pd.DataFrame:
    """The pairs plus their swapped copies (same labels)."""
    swapped = frame.rename(columns={"sentence1": "sentence2", "sentence2": "sentence1"})[list(frame.columns)]
    return pd.concat([frame, swapped], ignore_index=True)


def _teacher_dev_scorer(dev: pd.DataFrame | None, task: str):
    """The teacher's dev score for seed trials (None without a dev split): its task's primary metric."""
    if dev is None or len(dev) < 2:
        return None

    def dev_score(model) -> float:
        return primary_score(label_pairs(model, dev["sentence1"], dev["sentence2"]), dev["label"].to_numpy(), task)

    return dev_score


def train_teacher(
    gold: pd.DataFrame,
    cfg: ModelConfig,
    output_dir: str | Path,
    *,
    seed: int = 42,
    device: str | None = None,
    dev: pd.DataFrame | None = None,
    task: str = "regression",
    sink: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
    evals: int = 0,
    checkpoints: int = 0,
    resume: bool = False,
    symmetric: bool = True,
    stage: str = stages.TEACHER_TRAIN,
    report_to: str = "none",
):
    """Fine-tune a cross-encoder on `gold` (columns sentence1, sentence2, label in [0,1]) in both orders.

    Saves the model to `output_dir` and returns it. With `cfg.epochs == 0` the model is used untrained.
    `checkpoints` > 0 keeps the newest of that many trainer checkpoints per run; `resume` continues from it.
    `symmetric=False` trains on the pairs in the order given (the caller balances the orders). On cancel the
    partly trained model is saved, then `Cancelled` is raised."""
    from datasets import Dataset  # noqa: PLC0415 - heavy (pyarrow, fsspec); only training needs it
    from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments  # noqa: PLC0415 - loads torch; only training and encoding need it

    device = device or choose_device()
    load = dict(device=device, max_length=cfg.max_seq_length, trust_remote_code=cfg.trust_remote_code)
    if cfg.epochs == 0:  # a ready-trained cross-encoder, used as it is
        model = load_cross_encoder(cfg.model, **load)
        sink(ProgressEvent(stage, message=f"using {cfg.model} as it is (teacher.epochs = 0)"))
        model.save_pretrained(str(output_dir))
        return model
    train = gold[["sentence1", "sentence2", "label"]]
    train = (both_orders(train) if symmetric else train.reset_index(drop=True)).astype({"label": float})
    dataset = Dataset.from_pandas(train, preserve_index=False)
    evaluator = None
    if evals and dev is not None and len(dev) >= 2:
        evaluator = cross_encoder_evaluator(dev, task, name="dev")

    def make_trainer(trainer_seed: int, folder: Path | None = None):
        model = load_cross_encoder(cfg.model, **load)
        loss = registry.loss(cfg.loss or DEFAULT_TEACHER_LOSS).build(model)
        kwargs = trainer_kwargs(
            cfg,
            output_dir,
            trainer_seed,
            device,
            len(train),
            evals=evals if evaluator else 0,
            checkpoints=checkpoints,
            report_to=report_to,
        )
        if folder is not None:
            kwargs["output_dir"] = str(folder)
        return CrossEncoderTrainer(
            model=model,
            args=CrossEncoderTrainingArguments(**kwargs),
            train_dataset=dataset,
            loss=loss,
            evaluator=evaluator,
            callbacks=[make_trainer_callback(stage, sink, cancel)],
        )

    progress = dict(stage=stage, sink=sink, resume=resume, cancel=cancel, dev_score=_teacher_dev_scorer(dev, task))
    trainer, report = fit(make_trainer, cfg, output_dir, seed=seed, **progress)
    model = trainer.model
    model.save_pretrained(str(output_dir))
    if report is not None:
        (Path(output_dir) / "seed_search.json").write_text(dumps_json(report, indent=2))
    if cancel is not None and cancel.cancelled:
        raise Cancelled("teacher training cancelled; the partly trained teacher was saved")
    drop_checkpoints(output_dir)  # kept above: a cancelled training resumes from them
    return model


WARM_START_MAX_PAIRS = 20_000  # more candidate pairs than this: a random sample (the warm start is a first step)
# on CPU the warm start is the teacher's longest step: 8,000 pairs gave the demo its warm-start gain (7,887 pairs:
# 80.3 -> 82.0 dev before gold), so a larger candidate pool (a static student's silver budget) does not lengthen it
WARM_START_MAX_PAIRS_CPU = 8_000


def warm_start_cap(device: str | None) -> int:
    """The most warm-start pairs on `device` (a random sample above it): smaller on CPU, where it is slow."""
    return WARM_START_MAX_PAIRS_CPU if str(device or "cpu").split(":")[0] == "cpu" else WARM_START_MAX_PAIRS


def warm_start_teacher(
    pairs: pd.DataFrame,
    bi_encoder,
    cfg: ModelConfig,
    output_dir: str | Path,
    *,
    seed: int = 42,
    device: str | None = None,
    sink: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
    checkpoints: int = 0,
    resume: bool = False,
    max_pairs: int = WARM_START_MAX_PAIRS,
    memo: dict | None = None,
    report_to: str = "none",
) -> tuple[object, dict]:
    """Warm start (after Trans-Encoder, Liu et al. 2022): train the cross-encoder to reproduce `bi_encoder`'s cosine
    (clipped to [0, 1]) on unlabeled `pairs` (sentence1, sentence2), for `cfg.warm_start_epochs` at
    `cfg.warm_start_learning_rate`. No labels are needed: the head and body learn the bi-encoder's notion of
    similarity before gold training refines it. Half of the pairs are swapped (seeded) so both orders are seen
    at the cost of one. `memo`: see `evaluation.bi_encoder_scores`. Saves to `output_dir`; returns
    (model, {'pairs': n, 'target_mean': ...})."""

    frame = pairs[["sentence1", "sentence2"]].drop_duplicates().reset_index(drop=True)
    rng = np.random.default_rng(seed)
    if len(frame) > max_pairs:
        frame = frame.iloc[np.sort(rng.choice(len(frame), max_pairs, replace=False))].reset_index(drop=True)
    swap = rng.random(len(frame)) < 0.5
    s1 = np.where(swap, frame["sentence2"], frame["sentence1"])
    s2 = np.where(swap, frame["sentence1"], frame["sentence2"])
    sink(ProgressEvent(stages.TEACHER_WARM, message=f"bi-encoder similarities of {len(frame):,} candidate pairs"))
    targets = np.clip(bi_encoder_scores(bi_encoder, list(s1), list(s2), memo=memo), 0.0, 1.0)
    train = pd.DataFrame({"sentence1": s1, "sentence2": s2, "label": targets.astype(float)})
    warm_cfg = replace(
        cfg, epochs=cfg.warm_start_epochs, learning_rate=cfg.warm_start_learning_rate, seed_trials=1, loss=None
    )
    model = train_teacher(
        train,
        warm_cfg,
        output_dir,
        seed=seed,
        device=device,
        sink=sink,
        cancel=cancel,
        checkpoints=checkpoints,
        resume=resume,
        symmetric=False,
        stage=stages.TEACHER_WARM,
        report_to=report_to,
    )
    return model, {
        "pairs": int(len(train)),
        "target_mean": float(targets.mean()),
        "epochs": warm_cfg.epochs,
        "learning_rate": warm_cfg.learning_rate,
    }


def cross_encoder_evaluator(frame: pd.DataFrame, task: str, name: str):
    """A sentence-transformers evaluator for a dev split, used for the live metric curve."""
    from sentence_transformers.cross_encoder.evaluation import (  # noqa: PLC0415 - loads torch; training only
        CrossEncoderClassificationEvaluator,
        CrossEncoderCorrelationEvaluator,
    )

    pairs = list(zip(frame["sentence1"], frame["sentence2"]))
    if task == "classification":
        return CrossEncoderClassificationEvaluator(
            pairs, frame["label"].astype(int).tolist(), name=name, show_progress_bar=False
        )
    return CrossEncoderCorrelationEvaluator(
        pairs, frame["label"].astype(float).tolist(), name=name, show_progress_bar=False
    )


def _autocast(model, precision: str):
    """bf16 (else fp16) autocast for a model on CUDA when `precision` is 'auto'; a no-op elsewhere."""

    import torch  # noqa: PLC0415 - torch takes seconds to import; only training and encoding need it

    device = str(getattr(model, "device", "cpu"))
    if precision == "fp32" or not device.startswith("cuda"):
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision in (AUTO, "bf16") and torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype)


class PairScorer(Protocol):
    """Scores distinct ordered pairs (one order each, no averaging) for `label_pairs`, somewhere other than here."""

    def __call__(
        self, pairs: list[tuple[str, str]], *, sink: ProgressSink, cancel: CancelToken | None, stage: str
    ) -> np.ndarray: ...


def label_pairs(
    model,
    sentences1: Sequence[str],
    sentences2: Sequence[str],
    *,
    batch_size: int = 64,
    symmetric: bool = True,
    chunk_size: int = 8192,
    sink: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
    stage: str = stages.LABEL,
    backend: str = "torch",
    precision: str = "auto",
    devices: Sequence[str] | None = None,
    pool=None,
    cache: LabelCache | None = None,
    scorer: PairScorer | None = None,
) -> np.ndarray:
    """Teacher scores in [0,1] for each pair, the mean of both orders when `symmetric`.

    Each distinct ordered pair is scored exactly once (duplicates share one score), in chunks so that
    progress is reported and cancel is honoured between chunks. Pairs are sorted by length once, over
    all chunks, so chunking costs no extra padding (throughput = a bare `CrossEncoder.predict`).

    backend: 'torch' (the model as given) or 'onnx' (the same weights exported to ONNX and run by
    onnxruntime on CPU, see `onnx_cross_encoder`). precision: 'auto' = bf16 (else fp16) autocast on
    CUDA, 'fp32' = none. devices / pool: score on several GPUs (or CPU processes) with
    sentence-transformers' multi-process pool (`devices=['cuda:0', 'cuda:1']`, or a pool from
    `model.start_multi_process_pool(...)`); each chunk is split over the pool's workers. cache: a
    `LabelCache` for this teacher; only pairs it lacks are scored, and their scores are added to it. scorer: scores
    the distinct ordered pairs the cache lacks somewhere else (the ray engine's `ray_engine.RayScorer`) instead of
    `model.predict` here; the cache, the deduplication and the averaging of both orders stay here."""
    s1, s2 = list(sentences1), list(sentences2)
    n = len(s1)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    if backend == "onnx":
        model = onnx_cross_encoder(model)
    elif backend != "torch":
        raise ValueError(f"unknown backend {backend!r}; use 'torch' or 'onnx'")
    ordered = list(zip(s1, s2)) + (list(zip(s2, s1)) if symmetric else [])
    unique = list(dict.fromkeys(ordered))
    known = cache.get(unique) if cache is not None else {}
    if known:
        unique = [p for p in unique if p not in known]
    unique.sort(key=lambda p: len(p[0]) + len(p[1]))  # homogeneous lengths per chunk: no padding waste
    scores = np.empty(len(unique), dtype=np.float32)
    if known:
        sink(ProgressEvent(stage, message=f"{len(known):,} ordered pairs already scored by this teacher (cache)"))
    sink(ProgressEvent(stage, 0, len(unique), message=f"scoring {len(unique):,} ordered pairs"))
    extra = {}
    if pool is not None:
        extra["pool"] = pool
    elif devices:
        extra["device"] = list(devices)
    if scorer is not None:  # scored elsewhere (engine: ray) in one call; the cache is filled once all are back
        scores[:] = scorer(unique, sink=sink, cancel=cancel, stage=stage)
        if cache is not None:
            cache.put(unique, scores)
        sink(ProgressEvent(stage, len(unique), len(unique)))
    else:
        for start in range(0, len(unique), chunk_size):
            if cancel is not None:
                cancel.raise_if_cancelled("labeling")
            chunk = unique[start : start + chunk_size]
            with _autocast(model, precision):
                scores[start : start + len(chunk)] = model.predict(
                    chunk, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True, **extra
                )
            if cache is not None:
                cache.put(chunk, scores[start : start + len(chunk)])
            sink(ProgressEvent(stage, start + len(chunk), len(unique)))
    lookup = dict(zip(unique, scores))
    lookup.update(known)
    forward = np.fromiter((lookup[p] for p in ordered[:n]), dtype=np.float32, count=n)
    if not symmetric:
        return forward
    backward = np.fromiter((lookup[p] for p in ordered[n:]), dtype=np.float32, count=n)
    return (forward + backward) / 2


def iter_labeled_chunks(model, chunks: Iterable[pd.DataFrame], **label_kwargs) -> Iterator[pd.DataFrame]:
    """Label a stream of candidate frames (e.g. `sampling.iter_candidate_chunks`) one chunk at a time.

    Yields each chunk with a `score` column; only one chunk's pairs are in memory. The candidate stream
    holds each unordered pair once, so no pair is scored twice across chunks either."""
    for chunk in chunks:
        if len(chunk) == 0:
            yield chunk.assign(score=np.zeros(0, dtype=np.float32))
            continue
        yield chunk.assign(score=label_pairs(model, chunk["sentence1"], chunk["sentence2"], **label_kwargs))


def _run_trial(gold, cfg, n_epochs, rate, folder: Path, dev, task, seed, device, sink, cancel):
    """One teacher-search trial: trained into `folder`, scored on dev. Returns (model, dev score, seconds)."""
    t0 = time.time()
    model = train_teacher(
        gold,
        replace(cfg, epochs=n_epochs, learning_rate=rate),
        folder,
        seed=seed,
        device=device,
        task=task,
        dev=dev,
        sink=sink,
        cancel=cancel,
    )
    value = primary_score(label_pairs(model, dev["sentence1"], dev["sentence2"]), dev["label"].to_numpy(), task)
    return model, value, time.time() - t0


def search_teacher(
    gold: pd.DataFrame,
    cfg: ModelConfig,
    search,
    output_dir: str | Path,
    *,
    dev: pd.DataFrame,
    task: str = "regression",
    seed: int = 42,
    device: str | None = None,
    sink: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
) -> tuple[object, list[dict]]:
    """Teacher hyperparameter selection on dev within `search.budget_minutes` (a TeacherSearchConfig).

    Tries every (epochs, learning rate) pair, cheapest first; a trial whose estimated time (from the
    seconds per epoch measured so far) no longer fits the budget is skipped. The best on dev is saved to
    `output_dir` and returned with the list of trials."""

    epochs = sorted(set(search.epochs or [cfg.epochs]))
    rates = list(dict.fromkeys(search.learning_rates or [cfg.learning_rate]))
    grid = [(e, lr) for e in epochs for lr in rates]
    budget, started = 60.0 * search.budget_minutes, time.time()
    output_dir = Path(output_dir)
    scratch = output_dir.parent / ".teacher_search"
    trials: list[dict] = []
    best: dict | None = None
    seconds_per_epoch: float | None = None
    for number, (n_epochs, rate) in enumerate(grid, start=1):
        trial = {"epochs": n_epochs, "learning_rate": rate}
        spent = time.time() - started
        if trials and seconds_per_epoch is not None and spent + seconds_per_epoch * n_epochs > budget:
            trials.append({**trial, "status": "skipped: over the time budget"})
            continue
        if cancel is not None:
            cancel.raise_if_cancelled("teacher search")
        sink(
            ProgressEvent(
                stages.TEACHER_SEARCH,
                number - 1,
                len(grid),
                message=f"trial {number}/{len(grid)}: {n_epochs:g} epochs, lr {rate:g}",
            )
        )
        folder = scratch / f"trial-{number}"
        model, value, seconds = _run_trial(gold, cfg, n_epochs, rate, folder, dev, task, seed, device, sink, cancel)
        seconds_per_epoch = max(seconds_per_epoch or 0.0, seconds / n_epochs)
        trials.append({**trial, "status": "done", "dev": float(value), "seconds": round(seconds, 1)})
        sink(
            ProgressEvent(
                stages.TEACHER_SEARCH,
                number,
                len(grid),
                message=f"{n_epochs:g} epochs, lr {rate:g}: dev {PRIMARY_METRIC[task]} {100 * value:.2f}",
            )
        )
        if best is None or value > best["dev"]:
            if best is not None:
                shutil.rmtree(best["folder"], ignore_errors=True)
            best = {"dev": value, "folder": folder, "model": model}
        else:
            shutil.rmtree(folder, ignore_errors=True)
        del model
    assert best is not None
    shutil.rmtree(output_dir, ignore_errors=True)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(best["folder"]), str(output_dir))
    shutil.rmtree(scratch, ignore_errors=True)
    for trial in trials:
        trial["chosen"] = trial.get("dev") == best["dev"] and trial["status"] == "done"
    return best["model"], trials


def model_fingerprint(model_dir: str | Path) -> str:
    """A content hash of a saved model's weights and configuration (names the label cache)."""

    digest = hashlib.sha1()
    folder = Path(model_dir)
    for path in sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix in (".safetensors", ".bin", ".json")
        and ".checkpoints" not in p.parts
        and p.name != "seed_search.json"
    ):
        digest.update(path.relative_to(folder).as_posix().encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(8 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:20]


class LabelCache:
    """Teacher scores of ordered sentence pairs, stored in SQLite, for one teacher (and device kind).

    `label_pairs(..., cache=LabelCache.for_model(dir, device))` scores only pairs it has not seen: relabeling
    after a sampler change, or another run with the same teacher, costs a lookup."""

    def __init__(self, path: str | Path) -> None:

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=60)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS scores (s1 TEXT, s2 TEXT, score REAL, PRIMARY KEY (s1, s2)) WITHOUT ROWID"
        )

    @classmethod
    def for_model(cls, model_dir: str | Path, device: str = "cpu", root: str | Path | None = None) -> LabelCache:

        base = Path(root) if root else cache_dir().parent / "labels"
        kind = "cuda" if str(device).startswith("cuda") else str(device).split(":")[0]
        return cls(base / f"{model_fingerprint(model_dir)}-{kind}.sqlite")

    def get(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], float]:
        found = {}
        query = "SELECT score FROM scores WHERE s1 = ? AND s2 = ?"
        for pair in pairs:
            row = self.db.execute(query, pair).fetchone()
            if row is not None:
                found[pair] = row[0]
        return found

    def put(self, pairs: Sequence[tuple[str, str]], scores: Sequence[float]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO scores VALUES (?, ?, ?)", [(a, b, float(s)) for (a, b), s in zip(pairs, scores)]
            )

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM scores").fetchone()[0])

    def close(self) -> None:
        self.db.close()


def evaluate_cross_encoder(
    model,
    splits: dict[str, pd.DataFrame],
    task: str,
    batch_size: int = 64,
    predictions: dict[str, np.ndarray] | None = None,
    cache: LabelCache | None = None,
    speed: dict | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics of the teacher's both-order-averaged scores on each split (see `evaluate_bi_encoder`).

    Pass a dict as `speed` to receive the timing of scoring the test (else dev) split, both orders of each pair
    (`speed.throughput`); that split is then scored without the cache, so the time is the model's own."""
    clock = timed_split(splits) if speed is not None else None
    scores = {}
    for name, f in splits.items():
        scores[name], seconds = timed(
            lambda f=f, name=name: label_pairs(
                model, f["sentence1"], f["sentence2"], batch_size=batch_size, cache=None if name == clock else cache
            )
        )
        if name == clock:
            speed.update(throughput("cross-encoder", name, len(f), seconds, batch_size, orders=2))
    if predictions is not None:
        predictions.update(scores)
    return score_splits({n: SplitScores(scores[n], f["label"].to_numpy()) for n, f in splits.items()}, task)


# --- the teacher stage, shared by a run (pipeline) and a study's shared teacher --------------------------------
def resolve_teacher(cfg: ModelConfig, device: str) -> tuple[ModelConfig, str | None]:
    """The teacher config to train: `model: auto` becomes the device's default base (models.default_teacher),
    with the reason; any other config is returned as it is (reason None). The given config is never changed."""
    if cfg.model != AUTO_TEACHER:
        return cfg, None
    name, why = default_teacher(device)
    return replace(cfg, model=name), why


def teacher_inputs(cfg: ExperimentConfig, data: LoadedData) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """The teacher's gold, dev and task. Scenario 3 trains on the source domain's gold (a regression teacher when
    its labels are scores, thresholded later); scenarios 1 and 2 on the target gold with the run's task. A teacher
    search without source dev chooses on the target dev."""
    if cfg.scenario_spec.source_domain:
        gold = data.source_train
        scores = not set(np.unique(gold["label"].to_numpy())) <= {0, 1}
        dev = data.source_dev if data.source_dev is not None or not cfg.teacher_search.enabled else data.dev
        return gold, dev, "regression" if scores else data.task
    return data.train, data.dev, data.task


def fit_teacher(
    gold: pd.DataFrame,
    cfg: ModelConfig,
    search: TeacherSearchConfig,
    output_dir: str | Path,
    *,
    dev: pd.DataFrame | None,
    task: str,
    seed: int,
    device: str | None = None,
    sink: ProgressSink = null_sink,
    cancel: CancelToken | None = None,
    **train_options,
) -> tuple[object, list[dict] | None]:
    """Train the teacher on gold: a search over `search`'s grid chosen on dev when enabled, else one training.
    Returns the model and the search's trials (None without a search). `train_options` go to `train_teacher`
    (evals, checkpoints, resume, report_to)."""
    if search.enabled:
        return search_teacher(
            gold, cfg, search, output_dir, dev=dev, task=task, seed=seed, device=device, sink=sink, cancel=cancel
        )
    model = train_teacher(
        gold, cfg, output_dir, seed=seed, device=device, dev=dev, task=task, sink=sink, cancel=cancel, **train_options
    )
    return model, None
