"""The flat layout's module names, kept: `import augsbert_core.data` (or `from augsbert_core import bm25`) still
works and gives the one module at its new home (`augsbert_core.io.data`), so scripts written before the rooms
became sub-packages keep running. Project code imports the new homes; `tests/test_old_homes.py` checks both."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

#: {old module under augsbert_core: its home now}. The old `sampling`, `teacher`, `student`, `runs` and `report`
#: modules are their packages' `__init__`, so those names never moved.
MOVED: dict[str, str] = {
    **{
        name: f"io.{name}"
        for name in (
            "problems columns cells tables table_limits table_json table_parquet table_write data inputs gold_review"
        ).split()
    },
    "config_files": "config.files",
    "bm25": "sampling.bm25",
    "embeddings": "sampling.embeddings",
    "mixes": "sampling.mixes",
    "onnx_teacher": "teacher.onnx_teacher",
    "ensemble": "teacher.ensemble",
    "gate": "teacher.gate",
    "probe": "teacher.probe",
    "export": "student.export",
    "run_files": "runs.files",
    "progress": "runs.progress",
    "report_view": "report.view",
    "report_charts": "report.charts",
}
_PREFIX = "augsbert_core."


class _OldHomes(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `augsbert_core.<old name>` and loads it as the module at its new home (one module object, so a
    monkeypatch or an isinstance check through either name sees the same thing)."""

    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        if fullname.startswith(_PREFIX) and fullname[len(_PREFIX) :] in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(_PREFIX + MOVED[spec.name[len(_PREFIX) :]])

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module at its new home is already loaded."""


def install() -> None:
    """Put the old homes on the import path (once)."""
    if not any(isinstance(finder, _OldHomes) for finder in sys.meta_path):
        sys.meta_path.insert(0, _OldHomes())  # first: an old file left behind (or an editable install's map) never wins
