"""Progress events and cancellation shared by the pipeline, the CLI and the app.

Every long step reports `ProgressEvent`s to a `ProgressSink` (any callable). Training steps come from a
`transformers.TrainerCallback` adapter, which also honours a `CancelToken`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import Cancelled

ProgressSink = Callable[["ProgressEvent"], None]


@dataclass
class ProgressEvent:
    """One progress report. `stage` names the step (e.g. 'teacher.train', 'label'); step/total count its units."""

    stage: str
    step: int = 0
    total: int = 0
    loss: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    message: str = ""
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    from transformers import TrainerCallback

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
                sink(ProgressEvent(stage, state.global_step, state.max_steps, loss=self.last_loss, message="log"))
            return control

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            numeric = {k: float(v) for k, v in (metrics or {}).items() if isinstance(v, (int, float))}
            sink(ProgressEvent(stage, state.global_step, state.max_steps, metrics=numeric, message="eval"))
            return control

    return _Callback()
