"""Why the page scripts live in `app_pages/`, not `pages/` (issue 27, item 9): a two-page app with `st.navigation`,
its pages once in `pages/` and once in `app_pages/`, served by the installed Streamlit and opened at `/compare` in
Chromium, cold and again. With `pages/`, Streamlit treats the folder as its older multipage layout: it runs
`pages/compare.py` directly, without the entrypoint (`app.py` and its `st.navigation` never run: "via app: False",
the sidebar lists the file names app | compare | home). With `app_pages/` the entrypoint runs and the page is its.

    python experiments/streamlit_pages_folder.py   # ~30 s; playwright and Chromium (install.sh --browser)

Streamlit 1.67.0, 2026-12-06: pages cold/again -> via app: False; app_pages cold/again -> via app: True."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app(root: Path, folder: str) -> Path:
    app = root / folder
    (app / folder).mkdir(parents=True)
    (app / "app.py").write_text(
        "import streamlit as st\n"
        'st.session_state["via_app"] = True\n'
        f'st.navigation([st.Page("{folder}/home.py", title="Home", default=True), '
        f'st.Page("{folder}/compare.py", title="Compare", url_path="compare")]).run()\n'
    )
    (app / folder / "home.py").write_text('import streamlit as st\nst.write("HOME PAGE")\n')
    (app / folder / "compare.py").write_text(
        'import streamlit as st\nst.write("COMPARE PAGE via app:", st.session_state.get("via_app", False))\n'
    )
    return app


def main() -> None:
    import streamlit
    from playwright.sync_api import sync_playwright

    print(f"streamlit {streamlit.__version__}")
    root = Path(tempfile.mkdtemp(prefix="pages-probe-"))
    for folder in ("pages", "app_pages"):
        port = _port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
            ],
            cwd=_app(root, folder),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(6)
            with sync_playwright() as pw:
                chromium = "/usr/bin/chromium"
                browser = (
                    pw.chromium.launch(executable_path=chromium) if os.path.exists(chromium) else pw.chromium.launch()
                )
                for attempt in ("cold", "again"):
                    page = browser.new_page()
                    page.goto(f"http://127.0.0.1:{port}/compare")
                    page.wait_for_timeout(4000)
                    print(f"{folder:>9} {attempt:<5} -> {page.inner_text('body').replace(chr(10), ' | ')[:160]}")
                browser.close()
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
