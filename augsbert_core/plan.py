"""Pre-flight check of an experiment (`augsbert check`): the config, every data file it names, and the plan.

`check_experiment` does what `run_experiment` does before it creates a run directory (validate the config,
load and validate every file, find the device) and adds what a user wants to know before launching: rows per
file, the task and score scale, the expected candidate and silver pairs and a rough duration on this device.
It creates nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .config import ExperimentConfig
from .estimate import DataCounts, Estimate, device_kind, estimate, fmt_duration
from .io.inputs import LoadedData, load_experiment_data
from .models import choose_device, device_description
from .ray_engine import check_address
from .tracking import check_server, default_tracking_uri

FILE_ROLES = ("train", "dev", "test", "unlabeled", "source_train", "source_dev", "full_train")


@dataclass
class Plan:
    """What a run of `config` would read and do."""

    config: ExperimentConfig
    task: str
    scale: tuple[float, float] | None
    device: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # role -> path, rows (and sentences, pairs)
    estimate: Estimate | None = None

    def to_dict(self) -> dict[str, Any]:
        est = self.estimate
        return {
            "ok": True,
            "name": self.config.name,
            "scenario": self.config.scenario,
            "task": self.task,
            "scale": list(self.scale) if self.scale else None,
            "device": self.device,
            "engine": self.config.engine,
            "files": self.files,
            "candidates": est.candidates if est else None,
            "candidates_low": est.candidates_low if est else None,
            "silver": est.silver if est else None,
            "silver_note": est.silver_note if est else None,
            "student_train_pairs": est.train_pairs if est else None,
            "seconds": round(est.seconds) if est else None,
            "parts": {k: round(v) for k, v in est.parts.items()} if est else {},
        }

    def lines(self) -> list[str]:
        """The plan as the CLI prints it."""
        cfg, est = self.config, self.estimate
        scale = f", scale {self.scale[0]:g}-{self.scale[1]:g}" if self.scale else ""
        out = [
            f"config ok: {cfg.name} (scenario {cfg.scenario}, {self.task}{scale}, {cfg.method_label})",
            f"device: {self.device}",
        ]
        if cfg.engine_spec.cluster:
            where = cfg.ray.address or os.environ.get("RAY_ADDRESS") or "a local Ray cluster"
            out.append(f"engine: ray (sampling and labeling on {where}; the rough time below is for this device)")
        for role, info in self.files.items():
            extra = ""
            if "sentences" in info:
                pairs = f", {info['pairs']:,} pairs" if info.get("pairs") is not None else ""
                extra = f" ({info['sentences']:,} unique sentences{pairs})"
            out.append(f"  {role:<13} {info['rows']:>9,} rows{extra}  {info['path']}")
        if est is not None:
            out.append(f"candidate pairs: {est.range('candidates')}")
            out.append(f"silver pairs: {est.range('silver')} ({est.silver_note})")
            out.append(f"AugSBERT student trains on ~{est.train_pairs:,} pairs")
            parts = ", ".join(f"{k} {fmt_duration(v)}" for k, v in est.parts.items() if v >= 1)
            out.append(f"rough time on this device: {fmt_duration(est.seconds)} ({parts})")
        return out


def preflight(cfg: ExperimentConfig) -> LoadedData:
    """What `check` and `run` both do before any work (and before a run directory exists): the config's rules,
    every data file loaded and checked (what each stage and metric needs), the engine's cluster and an http
    tracking server reachable within a few seconds. Raises ConfigError / DataError naming the key or file."""
    cfg.validate()
    data = load_experiment_data(cfg)
    if cfg.engine_spec.cluster:
        check_address(cfg.ray.address)
    if cfg.tracking == "mlflow":  # a server that does not answer would stall the end of the run for minutes
        check_server(default_tracking_uri())
    return data


def check_experiment(cfg: ExperimentConfig, data: LoadedData | None = None) -> Plan:
    """Validate `cfg` and its data files (ConfigError / DataError / ModelLoadError) and return the plan."""
    data = data or preflight(cfg)
    device = choose_device(cfg.device)
    plan = Plan(config=cfg, task=data.task, scale=data.scale, device=device_description(device))
    for role in FILE_ROLES:
        path = cfg.resolve_path(getattr(cfg.data, role))
        frame = getattr(data, role, None) if role != "unlabeled" else None
        if role == "unlabeled" and data.pool is not None:
            pairs = data.pool.pairs
            plan.files[role] = {
                "path": os.path.normpath(path),
                "rows": len(pairs) if pairs is not None else len(data.pool),
                "sentences": len(data.pool),
                "pairs": None if pairs is None else len(pairs),
            }
        elif frame is not None:
            plan.files[role] = {"path": os.path.normpath(path), "rows": len(frame)}
    plan.estimate = estimate(cfg, data_counts(data), device=device_kind(plan.device))
    return plan


def data_counts(data: LoadedData) -> DataCounts:
    """The sizes an estimate needs, from the loaded files."""
    sentences: set[str] = set()
    if data.train is not None:
        sentences.update(data.train["sentence1"])
        sentences.update(data.train["sentence2"])
    pool = data.pool
    counts = DataCounts(
        train_pairs=len(data.train) if data.train is not None else 0,
        dev_pairs=len(data.dev) if data.dev is not None else 0,
        test_pairs=len(data.test),
        source_pairs=len(data.source_train) if data.source_train is not None else 0,
        unlabeled_sentences=len(pool) if pool is not None else 0,
        unlabeled_pairs=len(pool.pairs) if pool is not None and pool.pairs is not None else None,
    )
    if pool is not None:
        sentences.update(pool.sentences)
    counts.unique_sentences = len(sentences)
    return counts
