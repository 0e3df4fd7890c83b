"""Run store: atomic writes, WAL index, status lifecycle, crash reconciliation, name sanitising."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading

import pytest

from augsbert_core.errors import RunFileError
from augsbert_core.runs import Run, RunStore, atomic_write_json, safe_name


def test_create_list_update_roundtrip(tmp_path):
    store = RunStore(tmp_path)
    a = store.create("first", 2, {"k": 1}, sampler="bm25", task="regression")
    b = store.create("second", 1, {"k": 2})
    assert [r.id for r in store.list()] == [b.id, a.id]  # newest first
    assert json.loads((a.dir / "config.json").read_text()) == {"k": 1}
    a.set_status("running")
    assert store.get(a.id).status == "running" and store.get(a.id).pid == os.getpid()
    a.set_status("finished", headline={"augsbert.test.spearman": 0.8})
    record = store.get(a.id)
    assert record.status == "finished" and record.finished_at and record.headline == {"augsbert.test.spearman": 0.8}
    assert "status: finished" in (a.dir / "log.txt").read_text()
    with pytest.raises(ValueError):
        store.update(a.id, status="bogus")
    with pytest.raises(KeyError):
        store.get("nope")


def test_index_survives_a_new_store_object_and_uses_wal(tmp_path):
    run = RunStore(tmp_path).create("x", 3, {})
    again = RunStore(tmp_path)  # a restarted process
    assert again.get(run.id).name == "x"
    with sqlite3.connect(again.db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "m.json"
    atomic_write_json(target, {"ok": 1})

    class Boom:
        def __str__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_write_json(target, {"bad": Boom()})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_reconcile_marks_dead_running_jobs_interrupted(tmp_path):
    store = RunStore(tmp_path)
    run = store.create("job", 2, {})
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    store.update(run.id, status="running", pid=proc.pid)
    alive = store.create("alive", 2, {})
    alive.set_status("running")  # this process: alive
    assert store.reconcile() == [run.id]
    assert store.get(run.id).status == "interrupted"
    assert store.get(alive.id).status == "running"


def test_events_skip_a_half_written_line(tmp_path):
    run = RunStore(tmp_path).create("e", 2, {})
    run.event({"stage": "a", "step": 1})
    with open(run.path("events.jsonl"), "a") as handle:
        handle.write('{"stage": "b", "st')
    assert run.events() == [{"stage": "a", "step": 1}]


@pytest.mark.parametrize(
    "name,expected",
    [
        ("../../etc/passwd", "etc-passwd"),
        ("my run: v2", "my-run-v2"),
        ("", "run"),
        ("...", "run"),
        ("ok_name-1.5", "ok_name-1.5"),
    ],
)
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_run_ids_never_escape_the_root(tmp_path):
    store = RunStore(tmp_path / "runs")
    run = store.create("../../evil", 2, {})
    assert run.dir.resolve().parent == (tmp_path / "runs").resolve()


def test_concurrent_writers_and_readers(tmp_path):
    store = RunStore(tmp_path)
    errors: list[Exception] = []

    def writer(i: int) -> None:
        try:
            for j in range(10):
                r = store.create(f"w{i}-{j}", 2, {})
                store.update(r.id, status="finished", headline={"x": j})
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(30):
                for rec in RunStore(tmp_path).list():
                    assert rec.status in ("queued", "finished")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(3)] + [threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.list()) == 30


def test_run_at_a_directory_is_the_one_reader_the_pages_use(tmp_path):
    """`Run.at(dir)` reads a run without its store: strict reads name the run and file, display reads fall back
    to the default on a damaged file, and a reader never sets a status."""
    run = RunStore(tmp_path / "runs").create("read-me", 2, {"task": "regression"})
    run.write_json("gate.json", {"verdict": "ready"})
    (run.dir / "metrics.json").write_text('{"gold_only": ')  # half-written
    (run.dir / "predictions.csv").write_text("sentence1,sentence2,split,gold\nNA,b,test,1\nc,d,dev,0\n")
    run.log("first line")
    run.log("second line")
    reader = Run.at(run.dir)
    assert reader.id == run.id and reader.gate() == {"verdict": "ready"}
    with pytest.raises(RunFileError, match=rf"run {run.id}: metrics.json is corrupt"):
        reader.metrics()
    assert reader.shown_json("metrics.json", {}) == {}
    assert reader.shown_json("gate.json", []) == [], "a file of another type reads as the default on a page"
    assert reader.log_tail(1).endswith("second line") and "first line" in reader.log_tail()
    test = reader.predictions(split="test")
    assert list(test["sentence1"]) == ["NA"], "a sentence 'NA' stays text"
    assert len(reader.predictions()) == 2
    with pytest.raises(RuntimeError, match="reader"):
        reader.set_status("finished")
