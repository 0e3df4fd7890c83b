"""The wheel carries the app: its build step copies the files `augsbert app` serves (augsbert_core.serve.APP_FILES:
app.py, app_pages/, .streamlit/config.toml, configs/, demo/, the mpnet setup script) into the package
`augsbert_app`, so `pip install "augsbert-studio[app]"` needs no checkout. Everything else is in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLE = "augsbert_app"
APP_FILES = ("app.py", "app_pages", ".streamlit/config.toml", "configs", "demo", "scripts/setup_mpnet.py")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*.tmp")


class BuildWithApp(build_py):
    """build_py, then the app's files copied into build/lib/augsbert_app (an editable install uses the checkout)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / BUNDLE
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        (target / "__init__.py").write_text('"""The app\'s files, served by `augsbert app` (augsbert_core.serve)."""\n')
        for name in APP_FILES:
            source, dest = ROOT / name, target / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, dest, ignore=SKIP)
            else:
                shutil.copy2(source, dest)


setup(cmdclass={"build_py": BuildWithApp})
