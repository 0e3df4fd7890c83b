"""What every stage of a run shares: the run's context (config, run directory, progress, state.json) and the
`Stage` base class that declares a stage's run files."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..config import ExperimentConfig, ModelConfig
from ..evaluation import PRIMARY_METRIC
from ..io.inputs import LoadedData
from ..runs import Run, RunFiles
from ..runs.progress import CancelToken, ProgressEvent, ProgressSink
from ..silver import ray_scorer
from ..teacher import LabelCache
from ..teacher.probe import labeler_probes_wanted
from ..tracking import trainer_report_to


class Reporter:
    """Forwards progress to the run's events file, its log and an outside sink."""

    def __init__(self, run: Run, sink: ProgressSink) -> None:
        self.run, self.sink = run, sink

    def __call__(self, event: ProgressEvent) -> None:
        self.run.event(event.to_dict())
        self.sink(event)

    def stage(self, stage: str, message: str) -> None:
        self.run.log(f"[{stage}] {message}")
        self(ProgressEvent(stage, message=message))


@dataclass
class RunContext:
    """One execution of a run: its config and directory, progress, the device and state.json (finished stages,
    metrics, predictions, timings), and the data once loaded. Finished stages are skipped by a resumed run."""

    cfg: ExperimentConfig
    run: Run
    report: Reporter
    cancel: CancelToken
    resume: bool
    device: str
    teacher_cfg: ModelConfig  # `teacher.model: auto` resolved with the device (the config stays as given)
    teacher_choice: str | None  # why `auto` chose that base; None when the model was named
    state: dict[str, Any] = field(default_factory=lambda: {"done": [], "metrics": {}, "predictions": {}, "timings": {}})
    # sentence embeddings of the bi-encoders, kept in memory for this execution: the warm start and the ensemble
    # labeler score mostly the same sentences with the same model
    embedding_memo: dict[str, dict[str, np.ndarray]] = field(
        default_factory=lambda: {"gold_only": {}, "zero_shot": {}, "teacher_base": {}}
    )
    data: LoadedData | None = None
    base: Any = None  # the zero-shot student base, loaded once

    @property
    def models_dir(self):
        return self.run.path(RunFiles.MODELS)

    @property
    def task(self) -> str:
        return self.data.task

    @property
    def splits(self) -> dict[str, pd.DataFrame]:
        """The labeled evaluation splits (dev, test) the data has."""
        return {name: f for name, f in (("dev", self.data.dev), ("test", self.data.test)) if f is not None}

    @property
    def metrics(self) -> dict[str, dict[str, dict[str, float]]]:
        return self.state["metrics"]

    def done(self, key: str) -> bool:
        return key in self.state["done"]

    def finish(
        self, key: str, started: float, metrics: dict | None = None, predictions: dict[str, np.ndarray] | None = None
    ) -> None:
        """Record a finished stage (its metrics, predictions and time) in state.json."""
        if metrics is not None:
            self.state["metrics"][key] = metrics
        if predictions is not None:
            self.state["predictions"][key] = {k: [float(x) for x in v] for k, v in predictions.items()}
        self.state["timings"][key] = time.time() - started
        self.state["done"].append(key)
        self.run.write_json(RunFiles.STATE, self.state)

    def record(self, kind: str, key: str, value: Any) -> None:
        """One model's entry in a state.json table (`speed`, `schedules`, `trained_on`)."""
        self.state.setdefault(kind, {})[key] = value

    def train_kwargs(self) -> dict[str, Any]:
        """The options every training of this run shares."""
        cfg = self.cfg
        return dict(
            seed=cfg.seed,
            device=self.device,
            sink=self.report,
            cancel=self.cancel,
            evals=cfg.live_evals,
            checkpoints=cfg.checkpoints,
            resume=self.resume,
            report_to=trainer_report_to(cfg.tracking),
        )

    def probe_wanted(self) -> bool:
        """labeler: auto with the ensemble allowed to label (ensemble: auto): short student probes choose."""
        return labeler_probes_wanted(self.cfg)

    def scorer(self):
        """Where the teacher scores silver pairs: None = here; with engine: ray, its Ray Data actors."""
        return ray_scorer(
            self.cfg,
            self.models_dir / "teacher",
            self.run.path(RunFiles.RAY),
            trust_remote_code=self.teacher_cfg.trust_remote_code,
        )

    def label_cache(self, for_labeling: bool = False) -> LabelCache | None:
        """The teacher's label cache for scores made on this device, or (`for_labeling`) where silver labeling runs:
        with engine: ray, the actors' device kind (GPU actors write cuda scores, whatever this process runs on)."""
        if not self.cfg.label_cache:
            return None
        device = self.device
        if for_labeling and self.cfg.engine_spec.cluster:
            device = "cuda" if self.cfg.ray.gpus_per_worker else "cpu"
        try:
            return LabelCache.for_model(self.models_dir / "teacher", device)
        except Exception as exc:  # noqa: BLE001 - the cache is an optimisation: a broken one must not fail the run
            self.run.log(f"[label] label cache unavailable: {exc}")
            return None

    def read_pairs(self, name: str) -> pd.DataFrame:
        """A pairs table this run wrote (candidates.csv, silver.csv), its sentences as text."""
        return pd.read_csv(self.run.path(name), keep_default_na=False, dtype={"sentence1": str, "sentence2": str})


class Stage:
    """One step of the recipe. `key` is its state.json `done` entry (a resumed run skips it once done); `reads`
    and `writes` name the run files it uses and owns (RunFiles names): a stage writes only its own files, and a
    later decision is a file or a field of the later stage, never a rewrite of an earlier stage's file."""

    key: ClassVar[str]
    reads: ClassVar[tuple[str, ...]] = ()
    writes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    @property
    def done(self) -> bool:
        return self.ctx.done(self.key)


def fmt(per_split: dict[str, dict[str, float]], task: str) -> str:
    """`dev spearman 84.10, test spearman 81.99`: a model's primary metric per split, for the log."""
    primary = PRIMARY_METRIC[task]
    return ", ".join(f"{split} {primary} {100 * m[primary]:.2f}" for split, m in per_split.items() if primary in m)
