"""Background jobs: each experiment runs in its own worker process that writes to the run store.

The app (or any script) calls `launch`, which records a queued run and starts
`python -m augsbert_core worker RUN_ID` in a new process session, so closing the browser or
restarting the server does not stop it. Workers take a per-device lock file before training: one
training per device at a time, the others wait as 'queued'."""

from __future__ import annotations

import fcntl
import os
import resource
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .config import ExperimentConfig
from .errors import Failure, failure_of
from .models import choose_device
from .pipeline import run_experiment
from .plan import preflight
from .runs import Run, RunFiles, RunStore
from .runs.progress import Cancelled


def launch(cfg: ExperimentConfig, store: RunStore) -> str:
    """Check `cfg` and its data (ConfigError / DataError, no run created), record a queued run and start its
    worker process. Returns the run id."""

    preflight(cfg)  # what check and run vouch for: files, splits, the engine's cluster, a tracking server
    store.reconcile()  # a writer: runs whose worker died are marked interrupted in their records
    run = store.create(cfg.name, cfg.scenario, cfg.to_dict(), sampler=cfg.method_label, task=cfg.task, status="queued")
    _start_worker(store, run)
    return run.id


RESUMABLE = ("interrupted", "cancelled", "failed")


def resume(store: RunStore, run_id: str) -> str:
    """Queue an interrupted, cancelled or failed run again: finished stages are kept, trainings continue
    from their newest checkpoint. Returns the run id."""
    store.reconcile()
    record = store.get(run_id)
    if record.status not in RESUMABLE:
        raise ValueError(f"run {run_id} is {record.status}; only {', '.join(RESUMABLE)} runs can be resumed")
    run = store.run(run_id)
    run.read_json(RunFiles.STATE, {})  # a corrupt state.json: RunFileError now, the status left as it was
    run.cancel_file.unlink(missing_ok=True)
    store.update(run_id, status="queued", error=None, failure=None, finished_at=None)
    run.log("resume requested")
    _start_worker(store, run, "--resume")
    return run_id


def _start_worker(store: RunStore, run: Run, *extra: str) -> None:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with open(run.path("worker.out"), "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "augsbert_core", "worker", run.id, "--runs-dir", str(store.root), *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    store.update(run.id, pid=proc.pid)
    run.log(f"worker started, pid {proc.pid}")


def launch_label_errors(config_path: str | Path, out: str | Path, log: str | Path) -> int:
    """Start `augsbert label-errors CONFIG --out OUT` in its own process session (the app's background step: it
    waits for the device like a run's worker); stdout and stderr go to `log`. Returns the process id."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    command = [sys.executable, "-m", "augsbert_core", "label-errors", str(config_path), "--out", str(out)]
    with open(log, "ab") as handle:
        proc = subprocess.Popen(
            [*command, "--no-progress"],
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    return proc.pid


def cancel(store: RunStore, run_id: str) -> None:
    """Ask a queued or running job to stop (the worker checks between steps and training steps)."""
    store.run(run_id).cancel_file.touch()


@contextmanager
def device_lock(store: RunStore, device: str, run: Run | None = None, poll_s: float = 1.0) -> Iterator[None]:
    """Hold the device's lock file for the duration; waits (as 'queued') while another job holds it."""
    lock_path = store.root / f".device-{device.replace(':', '_')}.lock"
    with open(lock_path, "a+") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if run is not None and run.cancel_file.exists():
                    raise
                time.sleep(poll_s)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def apply_job_limits() -> None:
    """Resource caps for a job on a shared box, from the environment (MiB; unset = no cap):
    AUGSBERT_JOB_MEMORY_MB caps the address space (an over-large batch then fails as out of memory
    instead of swapping the machine to a halt); AUGSBERT_JOB_MAX_FILE_MB caps any single file it writes."""

    memory = os.environ.get("AUGSBERT_JOB_MEMORY_MB")
    if memory:
        limit = int(memory) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    max_file = os.environ.get("AUGSBERT_JOB_MAX_FILE_MB")
    if max_file:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with EFBIG instead of killing
        limit = int(max_file) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def run_worker(run_id: str, store: RunStore, resume: bool = False) -> int:
    """Body of a worker process: wait for the device, then run the experiment. Returns an exit code."""

    run = store.run(run_id)
    cfg = ExperimentConfig.from_dict(run.read_json(RunFiles.CONFIG))
    store.update(run_id, pid=os.getpid())
    apply_job_limits()
    try:
        device = choose_device(cfg.device)
        with device_lock(store, device, run):
            if run.cancel_file.exists():
                run.fail(Failure("cancelled", "cancelled while queued"), status="cancelled")
                return 1
            run_experiment(cfg, store=store, run=run, resume=resume)
    except BlockingIOError:
        run.fail(Failure("cancelled", "cancelled while queued"), status="cancelled")
        return 1
    except Cancelled:
        return 1
    except Exception as exc:  # noqa: BLE001 - run_experiment recorded its own failures; this is one before it
        if store.get(run_id).status in ("queued", "running"):
            run.log(traceback.format_exc())
            run.fail(failure_of(exc))
        return 1
    return 0
