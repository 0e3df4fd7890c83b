"""`reuse_from`: a run adopts the zero-shot, gold-only, full-gold and teacher stages of a finished run that used
the same data, models and settings (their models hard-linked, their metrics and records copied)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from .. import stages
from ..config import ConfigError
from ..io.inputs import LoadedData
from ..runs import RunFiles
from .context import RunContext

#: config keys that decide what the adopted stages trained: a reused run must share them
REUSE_KEYS = (
    "scenario",
    "task",
    "seed",
    "student",
    "teacher",
    "teacher_search",
    "ensemble",
    "train_gold_only",
    "label_batch_size",
    "labeler",
)
#: data keys that change how the same files are read (labels, scale, the pool): a reused run must share them
REUSE_DATA_KEYS = ("scale", "source_scale", "column_map", "column_maps", "max_unlabeled")
REUSE_FILES = ("train", "dev", "test", "unlabeled", "source_train", "source_dev", "full_train", "gold_review")
ADOPTED_STAGES = ("zero_shot", "gold_only", "full_gold", "teacher")


def adopt(ctx: RunContext, source: str, data: LoadedData) -> None:
    """Reuse the zero-shot, gold-only and teacher stages of a finished run with the same data and models."""
    src = Path(source).expanduser()
    if not (src / RunFiles.STATE).is_file():
        src = ctx.run.store.root / source
    if not (src / RunFiles.STATE).is_file():
        raise ConfigError(f"reuse_from: no run found at {source!r} (give a run id or a run directory)")
    state = _read_json(src / RunFiles.STATE)
    _check_same(ctx, source, src, state, data)
    for stage in ADOPTED_STAGES:
        if stage in state["done"]:
            _adopt_stage(ctx, stage, state, src)
    for name in (RunFiles.GATE, RunFiles.ENSEMBLE, RunFiles.TEACHER_SEARCH):
        if (src / name).is_file():
            shutil.copy2(src / name, ctx.run.path(name))
    ctx.state["reused_from"] = src.name
    ctx.run.write_json(RunFiles.STATE, ctx.state)
    ctx.report.stage(stages.REUSE, f"reusing {', '.join(ctx.state['done'])} from run {src.name}")


def _check_same(ctx: RunContext, source: str, src: Path, state: dict, data: LoadedData) -> None:
    """ConfigError naming the first setting or data file that differs between the two runs."""
    theirs, ours = _read_json(src / RunFiles.CONFIG), ctx.cfg.to_dict()
    for key in REUSE_KEYS:
        if theirs.get(key) != ours.get(key):
            raise ConfigError(
                f"reuse_from {source!r}: '{key}' differs ({theirs.get(key)!r} there, "
                f"{ours.get(key)!r} here); its trained models do not fit this run"
            )
    ours_data, their_data = ours.get("data") or {}, theirs.get("data") or {}
    for key in REUSE_DATA_KEYS:  # the same files read another way give other labels
        if their_data.get(key) != ours_data.get(key):
            raise ConfigError(
                f"reuse_from {source!r}: 'data.{key}' differs ({their_data.get(key)!r} there, "
                f"{ours_data.get(key)!r} here); its models learned other labels"
            )
    their_prints = _read_json(src / RunFiles.FINGERPRINTS)
    for key in REUSE_FILES:
        if key == "full_train" and "full_gold" not in state["done"]:
            continue
        if their_prints.get(key) != data.fingerprints.get(key):
            raise ConfigError(f"reuse_from {source!r}: data.{key} is not the same file content")


def _adopt_stage(ctx: RunContext, stage: str, state: dict, src: Path) -> None:
    for key in (stage, "ensemble") if stage == "teacher" else (stage,):
        if key in state["metrics"]:
            ctx.state["metrics"][key] = state["metrics"][key]
            ctx.state["predictions"][key] = state["predictions"].get(key, {})
        for extra in ("speed", "trained_on", "schedules"):  # measured and described in that run
            if key in state.get(extra, {}):
                ctx.record(extra, key, state[extra][key])
    ctx.state["timings"][stage] = 0.0
    ctx.state["done"].append(stage)
    if (src / "models" / stage).is_dir():
        _link_tree(src / "models" / stage, ctx.models_dir / stage)


def _read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _link_tree(src: Path, dst: Path) -> None:
    """Copy a model folder by hard links (no extra disk), falling back to a copy across file systems."""

    def link(a: str, b: str) -> None:
        try:
            os.link(a, b)
        except OSError:
            shutil.copy2(a, b)

    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, copy_function=link)
