"""Start the app as a real server (`streamlit run app.py`) for tools that drive it from outside: the browser test,
the README screenshots and the load benchmark. Offline, headless, on a free local port, with its own workspace."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

from augsbert_core.serve import app_root

ROOT = app_root()  # the checkout, or the installed app bundle (augsbert_core.serve)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(
    home: str | Path,
    log: IO[bytes],
    *,
    port: int | None = None,
    device_label: str | None = None,
    timeout: float = 90.0,
    launcher: list[str] | None = None,
    cwd: str | Path | None = None,
) -> tuple[subprocess.Popen, str]:
    """The running server process and its base URL, once /_stcore/health answers. `home` is AUGSBERT_HOME;
    `device_label` sets AUGSBERT_DEVICE_LABEL (None: the machine's own). Raises RuntimeError with the log's tail
    when the server exits or does not answer within `timeout` seconds. `launcher` (with `cwd`) serves the app
    another way, e.g. an installed wheel's `augsbert app`."""
    port = port or free_port()
    env = dict(
        os.environ,
        AUGSBERT_HOME=str(home),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    env.pop("AUGSBERT_DEVICE_LABEL", None)
    if device_label:
        env["AUGSBERT_DEVICE_LABEL"] = device_label
    if launcher is None:  # the checkout's app, as the README's `streamlit run app.py`
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    else:  # a command that serves the app and takes --port and streamlit's flags (`augsbert app`)
        command = [*launcher, "--port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(
        command, cwd=cwd or ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {_tail(log)}")
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"streamlit did not start: {_tail(log)}")


def _tail(log: IO[bytes]) -> str:
    log.flush()
    return Path(log.name).read_text(errors="replace")[-2000:]
