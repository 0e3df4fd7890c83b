"""The run store: one self-contained directory per run plus a SQLite index, so history survives restarts.

Layout of a run directory `<root>/<run_id>/`:
  run.json           the run's record (status, times, headline, error): the index is rebuilt from these
  config.json        resolved experiment config (reproduces the run on its own)
  fingerprints.json  sha256 prefixes of every input file
  events.jsonl       progress events (one JSON object per line), read by the app
  log.txt            human-readable log
  gate.json          teacher-readiness numbers (scenarios 2, 3)
  silver.csv         candidate pairs with teacher scores (and the kept flag)
  augmented.csv      scenario 1: augmented pairs
  speed.json         pairs per second of each model scoring the test pairs, and the device
  metrics.json       {model: {split: {metric: value}}} -- written last, only when the run finished
  models/<name>/     trained models in sentence-transformers format (with their model cards)

Every JSON/CSV file is written atomically (temp file + rename). The run directories are the source of truth;
the SQLite index (WAL mode) is a fast view of them that `rebuild_index` recreates. Readers never write: a
run whose process died shows as interrupted when listed, and is marked so by the next writer (`reconcile`).
A locked, empty or unreadable index is read around (the run directories are listed instead) and said so."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import stages
from ..atomic import atomic_path, atomic_write_json, atomic_write_text, dumps_json  # noqa: F401 - re-exported
from ..errors import ConfigError, Failure, RunFileError
from .files import (  # noqa: F401 - re-exported: the run store's callers import them from here
    RECORD_FILE,
    RunFiles,
    _read_events,
    read_events,
    read_run_json,
    silver_labeler,
)

STATUSES = ("queued", "running", "finished", "failed", "cancelled", "interrupted")
ACTIVE = ("queued", "running")
WRITER_BUSY_MS = 5_000  # writers wait this long for the index; readers READER_BUSY_MS, then read the directories
READER_BUSY_MS = 1_000
DIED = "the job process ended without finishing (killed or crashed)"


def default_root() -> Path:
    """$AUGSBERT_HOME/runs, else ./runs."""
    home = os.environ.get("AUGSBERT_HOME")
    return Path(home) / "runs" if home else Path("runs")


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
    error: str | None = None  # one line: why the run did not finish (`failure`'s message and hint)
    pid: int | None = None
    failure: dict[str, str] | None = None  # errors.Failure as a dict: {kind, message, hint}

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
    pid INTEGER,
    failure TEXT
);
CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at);
"""


class RunStore:
    """Run directories under `root` and their SQLite index `root/index.sqlite`."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self._make_root()
        self.db_path = self.root / "index.sqlite"
        self.note: str | None = None  # set by list() when it read the directories instead of the index
        self.problems: list[str] = []  # run directories scan() could not read (one line each)
        if not self.db_path.exists() or self.db_path.stat().st_size == 0:
            self.rebuild_index()

    def _make_root(self) -> None:
        """The runs folder, created when missing; one line (ConfigError) when it cannot be: a file in the way
        (/dev/null), no permission, a full or read-only disk. An existing read-only folder is fine to read."""
        advice = "give a folder you can write with --runs-dir (or AUGSBERT_HOME)"
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"runs folder {self.root} is not a folder: {advice}")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"runs folder {self.root} cannot be created ({exc.strerror or exc}): {advice}") from None

    @contextmanager
    def _connect(self, busy_ms: int = WRITER_BUSY_MS) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=busy_ms / 1000, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            db.row_factory = sqlite3.Row
            yield db
        finally:
            db.close()

    # --- writing ---------------------------------------------------------------------------------
    def create(
        self,
        name: str,
        scenario: int,
        config: dict[str, Any],
        *,
        sampler: str | None = None,
        task: str | None = None,
        status: str = "queued",
    ) -> Run:
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_name(name, 40)}-{secrets.token_hex(3)}"
        run_dir = self.root / run_id
        run_dir.mkdir(parents=True)
        record = RunRecord(
            id=run_id,
            name=name,
            scenario=scenario,
            sampler=sampler,
            task=task,
            status=status,
            created_at=time.time(),
            started_at=None,
            finished_at=None,
            dir=str(run_dir.resolve()),
        )
        atomic_write_json(run_dir / RECORD_FILE, record.to_dict())  # first: a directory with files has a record
        atomic_write_json(run_dir / RunFiles.CONFIG, config)
        self._index(record)
        return Run(self, run_id, run_dir)

    def update(self, run_id: str, **values: Any) -> None:
        """Set fields of a run's record: in its run.json (the truth), then in the index."""
        if "status" in values and values["status"] not in STATUSES:
            raise ValueError(f"unknown status {values['status']!r}")
        unknown = set(values) - set(RunRecord.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown run field(s) {', '.join(sorted(unknown))}")
        record = self._stored(run_id)
        record = RunRecord(**{**record.to_dict(), **values})
        atomic_write_json(Path(record.dir) / RECORD_FILE, record.to_dict())
        self._index(record)

    @property
    def _stale_marker(self) -> Path:
        return self.root / ".index-stale"

    def _index(self, record: RunRecord) -> None:
        """Write `record` into the index. When the index cannot be written (locked past the busy timeout,
        corrupt) the run directory still holds it: a marker sends readers to the directories until the next
        writer that gets through rebuilds the index."""
        try:
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                _add_missing_columns(db)
                _insert(db, record)
        except sqlite3.DatabaseError:
            self._stale_marker.touch()
            return
        if self._stale_marker.exists():
            self._stale_marker.unlink(missing_ok=True)
            try:
                self.rebuild_index()
            except sqlite3.DatabaseError:
                self._stale_marker.touch()

    def delete(self, run_id: str) -> None:
        """Remove a run's row and directory."""
        record = self.get(run_id)
        with self._connect() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(record.dir, ignore_errors=True)

    def reconcile(self) -> list[str]:
        """Mark runs whose worker process died while running as 'interrupted' (a writer's job). Their ids."""
        stale = [r.id for r in self._records() if r.status == "running" and not pid_alive(r.pid)]
        for run_id in stale:
            failure = Failure("interrupted", DIED).to_dict()
            self.update(run_id, status="interrupted", finished_at=time.time(), error=DIED, failure=failure)
        return stale

    def rebuild_index(self) -> int:
        """Recreate the SQLite index from the run directories (written aside, then swapped in). Rows written."""
        records = self.scan()
        with atomic_path(self.db_path) as tmp:
            db = sqlite3.connect(tmp, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")  # persistent in the file: readers and a writer together
                db.executescript(_SCHEMA)
                for record in records:
                    _insert(db, record)
            finally:
                db.close()
            for suffix in ("-wal", "-shm"):
                Path(f"{self.db_path}{suffix}").unlink(missing_ok=True)
        return len(records)

    # --- reading ---------------------------------------------------------------------------------
    def get(self, run_id: str) -> RunRecord:
        """A run's record as readers show it (a running run whose process is gone reads 'interrupted')."""
        return _live(self._stored(run_id))

    def _stored(self, run_id: str) -> RunRecord:
        """A run's record as written: its run.json when there is one (the truth), else its index row."""
        run_dir = self.root / run_id
        plain = safe_name(run_id, 200) == run_id  # never a path outside the store
        if plain and (run_dir / RECORD_FILE).is_file():
            return read_record(run_dir)
        row = None
        try:
            with self._connect(READER_BUSY_MS) as db:
                row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        except sqlite3.DatabaseError:
            pass
        if row is not None:
            return _record(row)
        if plain and (run_dir / RunFiles.CONFIG).is_file():
            return read_record(run_dir)
        raise KeyError(f"no run {run_id!r} in {self.root}")

    def list(self, status: str | None = None) -> list[RunRecord]:
        """All runs, newest first, as readers show them. From the index; from the run directories when the
        index is behind, locked, empty or unreadable (then `note` says so). Never writes."""
        records = [_live(r) for r in self._records()]
        return [r for r in records if status is None or r.status == status]

    def _records(self) -> list[RunRecord]:
        """The stored records, newest first: the index's rows, or the run directories' when the index cannot
        be trusted (`note` says why)."""
        self.note = None
        if self._stale_marker.exists():
            self.note = "the run index is behind (a write could not reach it); listed from the run directories"
            return self.scan()
        try:
            with self._connect(READER_BUSY_MS) as db:
                rows = db.execute("SELECT * FROM runs ORDER BY created_at DESC").fetchall()
        except sqlite3.OperationalError as exc:
            self.note = f"the run index is busy ({exc}); listed from the run directories"
            return self.scan()
        except (sqlite3.DatabaseError, ValueError, TypeError) as exc:
            self.note = (
                f"the run index {self.db_path} is unreadable ({exc}); listed from the run directories; "
                "`augsbert runs --rebuild-index` rebuilds it"
            )
            return self.scan()
        if not rows and any(self._run_dirs()):
            self.note = (
                "the run index is empty but run directories exist; listed from them; "
                "`augsbert runs --rebuild-index` rebuilds it"
            )
            return self.scan()
        return [_record(r) for r in rows]

    def scan(self) -> list[RunRecord]:
        """The records of every run directory, newest first (unreadable ones are reported in `problems`)."""
        records, self.problems = [], []
        for run_dir in self._run_dirs():
            try:
                records.append(read_record(run_dir))
            except RunFileError as exc:
                self.problems.append(str(exc))
        return sorted(records, key=lambda r: r.created_at, reverse=True)

    def _run_dirs(self) -> Iterator[Path]:
        for child in sorted(self.root.iterdir()):
            if (
                child.is_dir()
                and not child.name.startswith(".")
                and any((child / name).exists() for name in (RECORD_FILE, RunFiles.CONFIG))
            ):
                yield child

    def run(self, run_id: str) -> Run:
        record = self.get(run_id)
        return Run(self, run_id, Path(record.dir))


def read_record(run_dir: Path) -> RunRecord:
    """A run's record from its directory: run.json, or (runs from before run.json) what its files show."""
    path = run_dir / RECORD_FILE
    if path.is_file():
        raw = read_run_json(run_dir, RECORD_FILE)
        try:
            record = RunRecord(**{k: raw[k] for k in RunRecord.__dataclass_fields__ if k in raw})
        except TypeError as exc:
            raise RunFileError(f"run {run_dir.name}: {RECORD_FILE} is missing fields ({exc})") from None
        record.dir = str(run_dir.resolve())
        return record
    config = read_run_json(run_dir, RunFiles.CONFIG)
    finished = (run_dir / RunFiles.METRICS).is_file()
    stamp = (run_dir / RunFiles.CONFIG).stat().st_mtime
    return RunRecord(
        id=run_dir.name,
        name=str(config.get("name", run_dir.name)),
        scenario=int(config.get("scenario", 2)),
        sampler=config.get("sampler"),
        task=config.get("task"),
        status="finished" if finished else "interrupted",
        created_at=stamp,
        started_at=stamp,
        finished_at=(run_dir / RunFiles.METRICS).stat().st_mtime if finished else None,
        dir=str(run_dir.resolve()),
        error=None if finished else "no run.json: status inferred from the files (no metrics.json)",
    )


def _live(record: RunRecord) -> RunRecord:
    """The record as a reader should show it: 'running' whose process is gone reads 'interrupted'."""
    if record.status == "running" and not pid_alive(record.pid):
        failure = Failure("interrupted", DIED).to_dict()
        return RunRecord(**{**record.to_dict(), "status": "interrupted", "error": DIED, "failure": failure})
    return record


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """An index written by an older version lacks newer columns: add them (the rows keep NULL there)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    if "failure" not in have:
        db.execute("ALTER TABLE runs ADD COLUMN failure TEXT")


def _insert(db: sqlite3.Connection, record: RunRecord) -> None:
    """Write `record` as its index row (replacing an older one)."""
    row = record.to_dict()
    row["headline"] = dumps_json(row["headline"])
    row["failure"] = dumps_json(row["failure"]) if row["failure"] is not None else None
    db.execute(
        f"INSERT OR REPLACE INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
    )


def _record(row: sqlite3.Row) -> RunRecord:
    data = dict(row)
    data["headline"] = json.loads(data.get("headline") or "{}")
    data["failure"] = json.loads(data["failure"]) if data.get("failure") else None
    return RunRecord(**{k: data[k] for k in RunRecord.__dataclass_fields__ if k in data})


def pid_alive(pid: int | None) -> bool:
    """Whether process `pid` runs (an exited one not yet reaped, a zombie, does not)."""
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
    """A run directory: the one reader of its files (the pages, the report and the CLI read through it) and, when
    it came from a store (`RunStore.run`), the writer of its log, events and status."""

    def __init__(self, store: RunStore | None, run_id: str, run_dir: Path) -> None:
        self.store = store
        self.id = run_id
        self.dir = run_dir

    @classmethod
    def at(cls, run_dir: str | Path) -> Run:
        """A reader of the run in `run_dir`, with no store (setting its status needs `RunStore.run`)."""
        return cls(None, Path(run_dir).name, Path(run_dir))

    def path(self, *parts: str) -> Path:
        return self.dir.joinpath(*parts)

    def write_json(self, name: str, obj: Any) -> Path:
        atomic_write_json(self.path(name), obj)
        return self.path(name)

    def read_json(self, name: str, default: Any = None) -> Any:
        """A JSON file of this run (`default` when absent); RunFileError naming the run and file when corrupt."""
        return read_run_json(self.dir, name, default)

    def shown_json(self, name: str, default: Any = None) -> Any:
        """A JSON file for display: missing, half-written, corrupt or of another type, it reads as `default`, so a
        page shows what it can of a run that is still writing (or was damaged)."""
        try:
            return read_run_json(self.dir, name, default)
        except (RunFileError, OSError):
            return default

    def log_tail(self, lines: int = 60) -> str:
        """The last `lines` lines of run.log ('' before the run logged anything)."""
        try:
            text = self.path(RunFiles.LOG).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def labeler(self) -> str | None:
        """Which model labeled the silver pairs (`silver_summary.json` `labeler`; older runs: `ensemble.json`)."""
        return silver_labeler(self.dir)

    # named accessors of the run's files (None when the run has not written one; RunFileError when corrupt)
    def config(self) -> dict[str, Any]:
        return self.read_json(RunFiles.CONFIG, {})

    def state(self) -> dict[str, Any] | None:
        return self.read_json(RunFiles.STATE)

    def gate(self) -> dict[str, Any] | None:
        return self.read_json(RunFiles.GATE)

    def ensemble(self) -> dict[str, Any] | None:
        return self.read_json(RunFiles.ENSEMBLE)

    def silver_summary(self) -> dict[str, Any] | None:
        return self.read_json(RunFiles.SILVER_SUMMARY)

    def metrics(self) -> dict[str, Any] | None:
        """metrics.json: present only once the run finished."""
        return self.read_json(RunFiles.METRICS)

    def review(self) -> dict[str, Any]:
        return self.read_json(RunFiles.REVIEW, {})

    def predictions(self, split: str | None = None):
        """predictions.csv as a DataFrame (None before the run finished); only `split`'s rows when given."""
        path = self.path(RunFiles.PREDICTIONS)
        if not path.is_file():
            return None
        import pandas as pd  # noqa: PLC0415 - pandas is heavy; the run store itself does not need it

        frame = pd.read_csv(path, keep_default_na=False, dtype={"sentence1": str, "sentence2": str, "split": str})
        if split is None or "split" not in frame:
            return frame
        return frame[frame["split"] == split].reset_index(drop=True)

    def model_dir(self, key: str) -> Path:
        """models/<key>/ (e.g. 'augsbert', 'teacher')."""
        return self.path(RunFiles.MODELS, key)

    def log(self, message: str) -> None:
        with open(self.path(RunFiles.LOG), "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")

    def event(self, event: dict[str, Any]) -> None:
        """Append one progress event (a single short write: readers never see half a line)."""
        line = dumps_json(event) + "\n"
        with open(self.path(RunFiles.EVENTS), "a", encoding="utf-8") as handle:
            handle.write(line)

    def events(self) -> list[dict[str, Any]]:
        return read_events(self.path(RunFiles.EVENTS))

    def set_status(self, status: str, **values: Any) -> None:
        now = time.time()
        if status == "running":
            values.setdefault("started_at", now)
            values.setdefault("pid", os.getpid())
        if status in ("finished", "failed", "cancelled", "interrupted"):
            values.setdefault("finished_at", now)
        if status in ("queued", "running", "finished"):
            values.setdefault("error", None)
            values.setdefault("failure", None)
        if self.store is None:
            raise RuntimeError(f"run {self.id}: opened as a reader (Run.at); its status is set through RunStore.run")
        self.store.update(self.id, status=status, **values)
        self.log(f"status: {status}" + (f" ({values['error']})" if values.get("error") else ""))

    def fail(self, failure: Failure, status: str = "failed") -> None:
        """End the run as `status` (failed, cancelled) for the reason `failure`, kept as data and as one line."""
        self.set_status(status, error=failure.line, failure=failure.to_dict())

    @property
    def cancel_file(self) -> Path:
        return self.path(RunFiles.CANCEL)


# ------------------------------------------------------------------------------------ time a run has worked
def attempts(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The events of each attempt of a run, in order: an attempt starts at a 'setup' event that follows an event
    of another stage (a resumed run starts again at setup; one attempt reports several setup lines)."""
    out: list[list[dict[str, Any]]] = []
    previous = None
    for event in events:
        stage = event.get("stage")
        if not out or (stage == stages.SETUP and previous != stages.SETUP):
            out.append([])
        out[-1].append(event)
        previous = stage
    return out


def _event_time(event: dict[str, Any]) -> float | None:
    try:
        return float(event["time"])
    except (KeyError, TypeError, ValueError):
        return None


def elapsed(events: list[dict[str, Any]], record: RunRecord | None = None, now: float | None = None) -> float | None:
    """Seconds the run has worked, over all its attempts: each earlier attempt from its first to its last event,
    the latest one until now while it runs (until it ended otherwise). Time spent stopped or queued between
    attempts does not count. Without events: the record's started_at to its end, as before events existed."""
    now = now or time.time()
    spans = []
    for attempt in attempts(events):
        times = [t for t in (_event_time(e) for e in attempt) if t is not None]
        if times:
            spans.append([min(times), max(times)])
    if record is None:
        return sum(end - start for start, end in spans) if spans else None
    started = record.started_at
    if started and (not spans or started > spans[-1][1]):  # a new attempt that has not reported yet
        spans.append([started, started])
    if not spans:
        return None
    if record.status == "running":
        spans[-1][1] = max(spans[-1][1], now)
    elif record.status not in ACTIVE and record.finished_at and record.finished_at >= spans[-1][0]:
        spans[-1][1] = max(spans[-1][1], record.finished_at)
    return max(0.0, sum(end - start for start, end in spans))


def worked_seconds(record: RunRecord, now: float | None = None) -> float | None:
    """`elapsed` for a run record, reading its events.jsonl (parsed once per version of the file)."""
    path = Path(record.dir) / RunFiles.EVENTS
    try:
        stat = path.stat()
    except OSError:
        return elapsed([], record, now)
    return elapsed(_read_events(str(path), stat.st_size, stat.st_mtime_ns), record, now)
