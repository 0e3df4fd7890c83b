"""Progress events and cancellation shared by the pipeline, the CLI and the app.

Every long step reports `ProgressEvent`s to a `ProgressSink` (any callable). Training steps come from a
`transformers.TrainerCallback` adapter, which also honours a `CancelToken`."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import stages
from ..errors import Cancelled

ProgressSink = Callable[["ProgressEvent"], None]


#: What an event carries: step counts, a message for people, a trainer's loss log, a trainer's evaluation.
EVENT_KINDS = ("progress", "message", "log", "eval")


@dataclass
class ProgressEvent:
    """One progress report. `stage` is one of `stages.STAGES` (e.g. 'teacher.train', 'label'); step/total count
    its units; `kind` is one of EVENT_KINDS (by default 'message' when there is a message, else 'progress')."""

    stage: str
    step: int = 0
    total: int = 0
    loss: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""
    time: float = field(default_factory=time.time)
    kind: str = ""

    def __post_init__(self) -> None:
        self.kind = self.kind or ("message" if self.message else "progress")
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {self.kind!r} (one of {', '.join(EVENT_KINDS)})")
        if os.environ.get(STRICT_STAGES_ENV) == "1" and self.stage not in stages.BY_NAME:
            raise ValueError(f"progress stage {self.stage!r} is not in augsbert_core.stages.STAGES")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


STRICT_STAGES_ENV = "AUGSBERT_STRICT_STAGES"  # "1": an event naming a stage the table lacks is an error (tests)


def event_kind(event: dict[str, Any]) -> str:
    """The kind of a stored event (events.jsonl); events written before `kind` existed said it in `message`."""
    kind = event.get("kind")
    if kind in EVENT_KINDS:
        return kind
    message = event.get("message")
    if message in ("log", "eval"):
        return message
    return "message" if message else "progress"


class CancelToken:
    """Cancellation flag: set in-process (`cancel()`) or by creating a file (for jobs in other processes)."""

    def __init__(self, flag_file: str | Path | None = None) -> None:
        self._event = threading.Event()
        self.flag_file = Path(flag_file) if flag_file else None

    def cancel(self) -> None:
        self._event.set()
        if self.flag_file:
            self.flag_file.touch()

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            return True
        if self.flag_file is not None and self.flag_file.exists():
            self._event.set()
            return True
        return False

    def raise_if_cancelled(self, where: str = "") -> None:
        if self.cancelled:
            raise Cancelled(f"cancelled{' during ' + where if where else ''}")


def null_sink(_: ProgressEvent) -> None:
    """A sink that ignores everything."""


def make_trainer_callback(stage: str, sink: ProgressSink, cancel: CancelToken | None = None):
    """A `transformers.TrainerCallback` that reports steps, losses and eval metrics, and stops on cancel."""
    from transformers import TrainerCallback  # noqa: PLC0415 - loads torch; only training and encoding need it

    class _Callback(TrainerCallback):
        last_loss: float | None = None

        def on_step_end(self, args, state, control, **kwargs):
            sink(ProgressEvent(stage, state.global_step, state.max_steps, loss=self.last_loss))
            if cancel is not None and cancel.cancelled:
                control.should_training_stop = True
                control.should_save = True
            return control

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "loss" in logs:
                self.last_loss = float(logs["loss"])
                sink(ProgressEvent(stage, state.global_step, state.max_steps, loss=self.last_loss, kind="log"))
            return control

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            numeric = {k: float(v) for k, v in (metrics or {}).items() if isinstance(v, (int, float))}
            sink(ProgressEvent(stage, state.global_step, state.max_steps, metrics=numeric, kind="eval"))
            return control

    return _Callback()
