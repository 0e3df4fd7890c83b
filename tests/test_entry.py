"""The `augsbert` entry (issue 27, item 5): one clear line on an unsupported platform, the CLI otherwise."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from augsbert_core import entry

ROOT = Path(__file__).resolve().parents[1]


def test_windows_gets_one_line_not_an_import_error(monkeypatch, capsys):
    monkeypatch.setattr(sys, "platform", "win32")
    assert entry.main(["--version"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == entry.UNSUPPORTED and "Linux and macOS" in err


def test_posix_runs_the_cli(capsys):
    try:
        entry.main(["--version"])
    except SystemExit as stop:  # argparse's --version exits 0
        assert stop.code == 0
    assert capsys.readouterr().out.strip().startswith("augsbert")


def test_the_package_declares_the_python_it_needs_and_the_entry():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"  # studio/security.py reads TOML with tomllib (3.11+)
    assert project["scripts"]["augsbert"] == "augsbert_core.entry:main"
    assert sys.version_info >= (3, 11)
