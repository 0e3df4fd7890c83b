"""`augsbert app`: serve the Streamlit app from any directory, from a checkout or from an installed wheel.

A checkout has the app beside the core (`app.py`, `app_pages/`, `.streamlit/`, `configs/`, `demo/` at the root).
A wheel carries a copy of those files as the package `augsbert_app` (setup.py's build step writes it), so
`pip install "augsbert-studio[app]"` is a complete install. The workspace is `$AUGSBERT_HOME`, else `./workspace`
of the directory the command was started in."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

from .errors import ConfigError

APP_BUNDLE = "augsbert_app"  # the wheel's copy of the app's files (see setup.py)
#: What the app needs beside the core, relative to its root: copied into the wheel, looked for in a checkout.
APP_FILES = ("app.py", "app_pages", ".streamlit/config.toml", "configs", "demo", "scripts/setup_mpnet.py")
APP_EXTRA = 'the app needs its extra: pip install "augsbert-studio[app]" (streamlit and plotly)'


def app_root() -> Path:
    """The folder holding `app.py` and its pages: the checkout this core lives in, else the installed bundle."""
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "app.py").is_file() and (checkout / "app_pages").is_dir():
        return checkout
    spec = importlib.util.find_spec(APP_BUNDLE)
    if spec is not None and spec.submodule_search_locations:
        bundle = Path(next(iter(spec.submodule_search_locations)))
        if (bundle / "app.py").is_file():
            return bundle
    raise ConfigError(f"the app's files were not found beside {checkout} nor as the package {APP_BUNDLE}: {APP_EXTRA}")


def app_command(port: int | None, streamlit_args: list[str]) -> tuple[list[str], dict[str, str], Path]:
    """(argv, environment, working directory) that serve the app: `streamlit run app.py` in the app's root (where
    Streamlit reads `.streamlit/config.toml`), the workspace fixed to an absolute path first."""
    if importlib.util.find_spec("streamlit") is None:
        raise ConfigError(APP_EXTRA)
    root = app_root()
    env = dict(os.environ)
    env["AUGSBERT_HOME"] = str(Path(env.get("AUGSBERT_HOME") or "workspace").expanduser().resolve())
    argv = [sys.executable, "-m", "streamlit", "run", str(root / "app.py")]
    if port is not None:
        argv += ["--server.port", str(port)]
    return argv + list(streamlit_args), env, root


def serve(port: int | None, streamlit_args: list[str]) -> None:
    """Replace this process with the Streamlit server (Ctrl+C stops it as it stops `streamlit run`)."""
    argv, env, root = app_command(port, streamlit_args)
    print(f"AugSBERT Studio: serving {root / 'app.py'}; workspace {env['AUGSBERT_HOME']}", file=sys.stderr)
    os.chdir(root)
    os.execve(argv[0], argv, env)
