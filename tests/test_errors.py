"""Failures as data: one base for the project's expected errors, a failed run's `{kind, message, hint}` stored in
its record and index, the app's advice chosen by kind (never by matching the core's sentences), and the CLI
exiting 2 (not a traceback) on every expected error, augmentation's included."""

from __future__ import annotations

import errno
import json
import sqlite3

import pytest
import yaml

import augsbert_core
from augsbert_core import errors
from augsbert_core.errors import AugsbertError, Failure, failure_of
from augsbert_core.runs import RunStore
from studio import runinfo

from .test_cli import cli


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_expected_error_has_a_known_kind_and_the_app_advice_for_it():
    import augsbert_core.augment  # noqa: F401 - its error class is defined in errors but used there
    import augsbert_core.io.data  # noqa: F401

    kinds = {cls.kind for cls in _subclasses(AugsbertError)}
    assert kinds >= {"config", "data", "model", "run_file", "augment", "gate", "cancelled"}
    assert kinds <= set(errors.FAILURE_KINDS)
    assert set(runinfo.FAILURE_ADVICE) == set(errors.FAILURE_KINDS)
    for error in (augsbert_core.ConfigError, augsbert_core.DataError, augsbert_core.ModelLoadError):
        assert issubclass(error, AugsbertError)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (MemoryError(), "out_of_memory"),
        (RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"), "out_of_memory"),
        (OSError(errno.ENOSPC, "No space left on device"), "disk_full"),
        (PermissionError(errno.EACCES, "Permission denied", "/runs/x"), "permission"),
        (augsbert_core.ConfigError("student.epochs: must be >= 0"), "config"),
        (errors.GateStopped("silver labels from this teacher will likely hurt"), "gate"),
        (ZeroDivisionError("division by zero"), "internal"),
    ],
)
def test_failure_of_classifies_by_type_not_by_the_core_s_wording(exc, kind):
    failure = failure_of(exc)
    assert failure.kind == kind and failure.message


def test_a_failure_round_trips_through_run_json_and_the_index(tmp_path):
    store = RunStore(tmp_path)
    run = store.create("x", 2, {"scenario": 2})
    run.fail(Failure("out_of_memory", "out of memory (RuntimeError: ...)", "Reduce batch_size."))
    stored = json.loads(run.path("run.json").read_text())
    assert stored["failure"]["kind"] == "out_of_memory" and stored["status"] == "failed"
    listed = store.list()[0]
    assert listed.failure == {
        "kind": "out_of_memory",
        "message": "out of memory (RuntimeError: ...)",
        "hint": "Reduce batch_size.",
    }
    title, message, hint = runinfo.explain_failure(listed)
    assert title == "Out of memory" and hint == "Reduce batch_size."
    assert store.rebuild_index() == 1 and store.list()[0].failure == listed.failure
    run.set_status("running")  # a resumed run forgets the old failure
    assert store.get(run.id).failure is None and store.get(run.id).error is None


def test_an_index_from_before_failures_gets_the_column(tmp_path):
    store = RunStore(tmp_path)
    with sqlite3.connect(store.db_path) as db:
        db.execute("DROP TABLE runs")
        db.execute(
            "CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, scenario INTEGER NOT NULL, sampler TEXT, "
            "task TEXT, status TEXT NOT NULL, created_at REAL NOT NULL, started_at REAL, finished_at REAL, "
            "dir TEXT NOT NULL, headline TEXT NOT NULL DEFAULT '{}', error TEXT, pid INTEGER)"
        )
    run = store.create("old-index", 2, {})
    run.fail(Failure("data", "train.csv, row 3: empty sentence"))
    assert store.note is None or "unreadable" not in store.note
    assert store.list()[0].failure["kind"] == "data"


def test_a_run_from_before_failures_is_explained_from_its_error_line(tmp_path):
    store = RunStore(tmp_path)
    run = store.create("legacy", 2, {})
    store.update(run.id, status="failed", error="DataError: train.csv, row 3: empty sentence")
    title, message, _ = runinfo.explain_failure(store.get(run.id))
    assert title == "Bad data" and message == "train.csv, row 3: empty sentence"


def test_an_augmentation_error_exits_2_with_one_line(tiny_stsb, tmp_path):
    config = {
        "name": "aug-missing-mlm",
        "scenario": 1,
        "data": {"train": str(tiny_stsb["train"]), "dev": str(tiny_stsb["dev"]), "test": str(tiny_stsb["test"])},
        "augment": {"method": "contextual-substitute", "model": str(tmp_path / "no-such-mlm")},
        "student": {"epochs": 1},
        "train_gold_only": False,
        "runs_dir": str(tmp_path / "runs"),
    }
    path = tmp_path / "aug.yaml"
    path.write_text(yaml.safe_dump(config))
    out = cli("run", str(path), "--no-progress")
    assert out.returncode == 2, out.stderr[-2000:]
    assert "Traceback" not in out.stderr and "no-such-mlm" in out.stderr
    record = RunStore(tmp_path / "runs").list()[0]
    assert record.status == "failed" and record.failure["kind"] == "augment"
