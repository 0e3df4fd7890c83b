"""The compute device's name, asked of the core in a short subprocess so the app never imports torch."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

_SCRIPT = "from augsbert_core.models import device_description; print(device_description())"


def describe(timeout: float = 60.0) -> str:
    """'NVIDIA H100 80GB HBM3 (cuda)' or 'CPU (2 cores)'; `AUGSBERT_DEVICE_LABEL` overrides (tests)."""
    override = os.environ.get("AUGSBERT_DEVICE_LABEL")
    if override:
        return override
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        done = subprocess.run(
            [sys.executable, "-c", _SCRIPT],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        lines = done.stdout.strip().splitlines()
        if done.returncode == 0 and lines:
            return lines[-1]
    except (OSError, subprocess.TimeoutExpired):
        pass
    return f"CPU ({os.cpu_count()} cores)"


# --- asked once per server process, in the background, so the first page is not held up ----------------
_lock = threading.Lock()
_thread: threading.Thread | None = None
_result: str | None = None


def _detect() -> None:
    global _result
    _result = describe()


def start() -> None:
    """Begin detecting the device (once per process)."""
    global _thread, _result
    with _lock:
        if _result is None and os.environ.get("AUGSBERT_DEVICE_LABEL"):
            _result = os.environ["AUGSBERT_DEVICE_LABEL"]
        if _result is None and _thread is None:
            _thread = threading.Thread(target=_detect, name="augsbert-device", daemon=True)
            _thread.start()


def current() -> str | None:
    """The device description, or None while it is still being detected."""
    start()
    return _result


def wait(timeout: float = 60.0) -> str:
    start()
    if _thread is not None:
        _thread.join(timeout)
    return _result or f"CPU ({os.cpu_count()} cores)"
