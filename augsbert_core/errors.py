"""The project's expected errors, and a failed run's reason as data.

Every error that bad input, settings or a missing model can cause derives from `AugsbertError` and carries a
`kind`; `augsbert` prints it in one line (exit 2) and a failed run stores it as a `Failure`
`{kind, message, hint}` in its `run.json`, which the app turns into a title and advice by the kind alone."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any, ClassVar


class AugsbertError(Exception):
    """Base of the project's expected errors: the message names the file, row, column, key or run."""

    kind: ClassVar[str] = "error"


class ConfigError(AugsbertError, ValueError):
    """A config that cannot run: names the key and what is wrong."""

    kind = "config"


class ModelLoadError(AugsbertError, RuntimeError):
    """A model name or path that cannot be loaded; the message says why and what to do."""

    kind = "model"


class RunFileError(AugsbertError, ValueError):
    """A run file that cannot be read (corrupt JSON, wrong shape): names the run and the file."""

    kind = "run_file"


class AugmentError(AugsbertError, RuntimeError):
    """Augmentation cannot run (bad config, missing data or model)."""

    kind = "augment"


class GateStopped(AugsbertError, RuntimeError):
    """The teacher-readiness gate stopped the run before silver labeling (gate.action = 'stop')."""

    kind = "gate"


class Cancelled(AugsbertError, RuntimeError):
    """Raised after a step stopped because cancellation was requested; saved work is kept."""

    kind = "cancelled"


#: Every kind a stored failure can have (the app has a title and advice for each; a test checks it).
FAILURE_KINDS = (
    "config",
    "data",
    "model",
    "run_file",
    "augment",
    "gate",
    "cancelled",
    "interrupted",
    "out_of_memory",
    "disk_full",
    "permission",
    "hub_unreachable",
    "internal",
)


@dataclass(frozen=True)
class Failure:
    """Why a run did not finish: `kind` (one of FAILURE_KINDS), a one-line `message`, and a `hint` (what to do)."""

    kind: str
    message: str
    hint: str = ""
    error: str = ""  # the project error's class name (e.g. ModelLoadError): the run's error line starts with it

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message, "hint": self.hint}

    @property
    def line(self) -> str:
        """The run's one-line error: `ModelLoadError: could not load ...`, then the hint."""
        text = f"{self.error}: {self.message}" if self.error else self.message
        return text + (f". {self.hint}" if self.hint else "")

    @classmethod
    def from_dict(cls, raw: Any) -> Failure | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
            return None
        return cls(str(raw["kind"]), str(raw.get("message") or ""), str(raw.get("hint") or ""))


def failure_of(exc: BaseException) -> Failure:
    """The failure a run records for `exc`: the project's own errors by their kind, known system failures
    (out of memory, disk full, no permission, hub unreachable) by type and errno, anything else 'internal'."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    lowered = text.lower()
    if isinstance(exc, KeyboardInterrupt):
        return Failure("interrupted", "interrupted by the user")
    if isinstance(exc, (Cancelled, GateStopped)):  # their sentence says it all
        return Failure(exc.kind, first or exc.kind)
    if isinstance(exc, AugsbertError):  # the error line names the error, as the CLI prints it
        return Failure(exc.kind, first, error=type(exc).__name__)
    if isinstance(exc, MemoryError) or "out of memory" in lowered or "can't allocate memory" in lowered:
        return Failure(
            "out_of_memory",
            f"out of memory ({type(exc).__name__}: {first[:200]})",
            "Reduce batch_size or max_seq_length, or use a smaller model.",
        )
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, errno.EFBIG) or any(s in lowered for s in ("no space left", "file too large")):
        return Failure(
            "disk_full",
            f"disk full or file too large while writing ({first[:200]})",
            "Free space, then resume the run.",
        )
    if isinstance(exc, PermissionError) or code == errno.EROFS:
        where = exc.filename or "the run directory"
        return Failure(
            "permission",
            f"cannot write {where} ({exc.strerror})",
            "Check the folder's permissions and free space, or write elsewhere (--runs-dir, --out).",
        )
    if (isinstance(exc, ConnectionError) and not isinstance(exc, BrokenPipeError)) or any(
        s in lowered for s in ("connection error", "failed to resolve")
    ):
        return Failure("hub_unreachable", f"{type(exc).__name__}: {first}")
    return Failure("internal", f"{type(exc).__name__}: {first}")
