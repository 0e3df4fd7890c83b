"""The run store: one self-contained directory per run plus a SQLite index, so history survives restarts.

Layout of a run directory `<root>/<run_id>/`:
  config.json        resolved experiment config (reproduces the run on its own)
  fingerprints.json  sha256 prefixes of every input file
  events.jsonl       progress events (one JSON object per line), read by the app
  log.txt            human-readable log
  gate.json          teacher-readiness numbers (scenarios 2, 3)
  silver.csv         candidate pairs with teacher scores (and the kept flag)
  augmented.csv      scenario 1: augmented pairs
  metrics.json       {model: {split: {metric: value}}} -- written last, only when the run finished
  models/<name>/     trained models in sentence-transformers format (with their model cards)

Every JSON/CSV file is written atomically (temp file + rename). The SQLite index runs in WAL mode."""

from __future__ import annotations

import json
import os
import re
import secrets
import sqlite3
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

STATUSES = ("queued", "running", "finished", "failed", "cancelled", "interrupted")
ACTIVE = ("queued", "running")


def default_root() -> Path:
    """$AUGSBERT_HOME/runs, else ./runs."""
    home = os.environ.get("AUGSBERT_HOME")
    return Path(home) / "runs" if home else Path("runs")


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` to `path` via a temp file in the same directory and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def safe_name(name: str, max_len: int = 60) -> str:
    """A run name safe in paths: letters, digits, '-', '_' and '.', no leading dot."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-_")[:max_len]
    return cleaned or "run"


@dataclass
class RunRecord:
    """One row of the run index."""

    id: str
    name: str
    scenario: int
    sampler: str | None
    task: str | None
    status: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    dir: str
    headline: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    pid: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scenario INTEGER NOT NULL,
    sampler TEXT,
    task TEXT,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    dir TEXT NOT NULL,
    headline TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    pid INTEGER
);
CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at);
"""


class RunStore:
    """Run directories under `root` and their SQLite index `root/index.sqlite`."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.root.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "index.sqlite"
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.row_factory = sqlite3.Row
            yield db
        finally:
            db.close()

    # --- writing ---------------------------------------------------------------------------------
    def create(self, name: str, scenario: int, config: dict[str, Any], *, sampler: str | None = None,
               task: str | None = None, status: str = "queued") -> "Run":
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_name(name, 40)}-{secrets.token_hex(3)}"
        run_dir = self.root / run_id
        run_dir.mkdir(parents=True)
        atomic_write_json(run_dir / "config.json", config)
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs (id, name, scenario, sampler, task, status, created_at, dir) VALUES (?,?,?,?,?,?,?,?)",
                (run_id, name, scenario, sampler, task, status, time.time(), str(run_dir.resolve())),
            )
        return Run(self, run_id, run_dir)

    def update(self, run_id: str, **values: Any) -> None:
        """Set columns of a run's row (headline is JSON-encoded)."""
        if "status" in values and values["status"] not in STATUSES:
            raise ValueError(f"unknown status {values['status']!r}")
        if "headline" in values:
            values["headline"] = json.dumps(values["headline"])
        cols = ", ".join(f"{k} = ?" for k in values)
        with self._connect() as db:
            db.execute(f"UPDATE runs SET {cols} WHERE id = ?", (*values.values(), run_id))

    def delete(self, run_id: str) -> None:
        """Remove a run's row and directory."""
        import shutil

        record = self.get(run_id)
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(record.dir, ignore_errors=True)

    # --- reading ---------------------------------------------------------------------------------
    def get(self, run_id: str) -> RunRecord:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no run {run_id!r} in {self.root}")
        return _record(row)

    def list(self, status: str | None = None) -> list[RunRecord]:
        """All runs, newest first."""
        with self._connect() as db:
            if status:
                rows = db.execute("SELECT * FROM runs WHERE status = ? ORDER BY created_at DESC", (status,))
            else:
                rows = db.execute("SELECT * FROM runs ORDER BY created_at DESC")
            return [_record(r) for r in rows.fetchall()]

    def run(self, run_id: str) -> "Run":
        record = self.get(run_id)
        return Run(self, run_id, Path(record.dir))

    def reconcile(self) -> list[str]:
        """Mark runs whose worker process died while running as 'interrupted'. Returns their ids."""
        stale = []
        for record in self.list():
            if record.status == "running" and not _pid_alive(record.pid):
                self.update(record.id, status="interrupted", finished_at=time.time(),
                            error="the job process ended without finishing (killed or crashed)")
                stale.append(record.id)
        return stale


def _record(row: sqlite3.Row) -> RunRecord:
    data = dict(row)
    data["headline"] = json.loads(data.get("headline") or "{}")
    return RunRecord(**data)


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not alive
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True


class Run:
    """A run being written: its directory, log, events and status."""

    def __init__(self, store: RunStore, run_id: str, run_dir: Path) -> None:
        self.store = store
        self.id = run_id
        self.dir = run_dir

    def path(self, *parts: str) -> Path:
        return self.dir.joinpath(*parts)

    def write_json(self, name: str, obj: Any) -> Path:
        atomic_write_json(self.path(name), obj)
        return self.path(name)

    def read_json(self, name: str, default: Any = None) -> Any:
        p = self.path(name)
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else default

    def log(self, message: str) -> None:
        with open(self.path("log.txt"), "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")

    def event(self, event: dict[str, Any]) -> None:
        """Append one progress event (a single short write: readers never see half a line)."""
        line = json.dumps(event, default=str) + "\n"
        with open(self.path("events.jsonl"), "a", encoding="utf-8") as handle:
            handle.write(line)

    def events(self) -> list[dict[str, Any]]:
        p = self.path("events.jsonl")
        if not p.exists():
            return []
        out = []
        for line in p.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line being written right now
        return out

    def set_status(self, status: str, **values: Any) -> None:
        now = time.time()
        if status == "running":
            values.setdefault("started_at", now)
            values.setdefault("pid", os.getpid())
        if status in ("finished", "failed", "cancelled", "interrupted"):
            values.setdefault("finished_at", now)
        self.store.update(self.id, status=status, **values)
        self.log(f"status: {status}" + (f" ({values['error']})" if values.get("error") else ""))

    @property
    def cancel_file(self) -> Path:
        return self.path("CANCEL")
