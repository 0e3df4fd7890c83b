"""The rooms became sub-packages (io/, sampling/, teacher/, student/, runs/, report/); a script written against the
flat layout still imports every old module name, and gets the one module at its new home."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from augsbert_core import old_homes

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("old", "new"), sorted(old_homes.MOVED.items()))
def test_an_old_module_name_is_the_module_at_its_new_home(old, new):
    moved = importlib.import_module(f"augsbert_core.{new}")
    assert importlib.import_module(f"augsbert_core.{old}") is moved
    assert not (ROOT / "augsbert_core" / f"{old}.py").exists(), f"{old}.py is back in the flat layout"
    assert (ROOT / "augsbert_core" / f"{new.replace('.', '/')}.py").is_file()


def test_a_script_of_the_flat_layout_runs_in_a_fresh_interpreter():
    """`from augsbert_core import bm25`, `import augsbert_core.data as d` and a patch through the old name: the
    forms old scripts use, each in a new process (no module loaded before)."""
    script = (
        "import augsbert_core.data as d\n"
        "from augsbert_core import bm25, gate\n"
        "from augsbert_core.run_files import RunFiles\n"
        "import augsbert_core.io.data, augsbert_core.teacher.gate\n"
        "assert d is augsbert_core.io.data and gate is augsbert_core.teacher.gate\n"
        "d.MARK = 1\n"
        "assert augsbert_core.io.data.MARK == 1 and bm25.__name__ == 'augsbert_core.sampling.bm25'\n"
        "assert RunFiles.METRICS == 'metrics.json'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


def test_a_name_that_never_existed_still_fails():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("augsbert_core.no_such_room")
