"""The README's screenshots, taken from a finished run of the full built-in demo (configs/demo-stsb.yaml).

    python scripts/screenshots.py --run RUN_DIR [--out docs/screenshots]

RUN_DIR is the run's directory (`augsbert run configs/demo-stsb.yaml` prints it; about 11 minutes on 2 CPU
cores). The script builds a temporary workspace holding the full STSb demo data and a copy of the run (its
`models/` folder is linked, not copied: 1.4 GB), starts `streamlit run app.py` on a free localhost port with that
workspace, and saves each page as Debian's headless Chromium shows it (Playwright drives it; its own browser
download is not used): start, data, scenario, training (the run selected, finished), silver, compare and
data-error (a malformed upload rejected inline). The README and docs/app.md show these files.

`training-live.png` (a run while it trains) cannot come from a finished run: the browser test takes one of its
tiny run (`AUGSBERT_SCREENSHOTS=/tmp/shots python -m pytest tests/e2e`, then copy /tmp/shots/training-live.png).

Nothing here downloads (HF_HUB_OFFLINE=1), and the run directory given is only read."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1440, "height": 1700}
BAD_CSV = b"sentence1,sentence2,score\nA man plays.,A man is playing.,4.5\nA cat.,A dog.,high\n"
HOW_TO_RUN = (
    "Give the directory of a finished run of the full built-in demo:\n"
    "  HF_HUB_OFFLINE=1 augsbert run configs/demo-stsb.yaml   # about 11 minutes on 2 CPU cores\n"
    "then: python scripts/screenshots.py --run runs/<the run id it printed>"
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=HOW_TO_RUN)
    p.add_argument("--run", type=Path, help="directory of a finished run of configs/demo-stsb.yaml")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="where the PNGs go")
    p.add_argument(
        "--demo",
        default="stsb",
        help="the built-in demo the workspace shows on the Data page (default: stsb, the full demo the run trained on)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary workspace (its path is printed)")
    return p.parse_args(argv)


def check_run(run_dir: Path) -> dict:
    """The run's record; exits with a reason when the directory is not a finished run."""
    record_path = run_dir / "run.json"
    if not record_path.is_file():
        sys.exit(f"{run_dir}: no run.json, not a run directory.\n{HOW_TO_RUN}")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    if record.get("status") != "finished" or not (run_dir / "metrics.json").is_file():
        sys.exit(f"{run_dir}: the run is {record.get('status')}, not finished.\n{HOW_TO_RUN}")
    if record.get("name") != "demo-stsb":
        print(f"note: run {record['id']} is {record.get('name')!r}, not the built-in demo (demo-stsb)", file=sys.stderr)
    return record


def build_home(home: Path, run_dir: Path, demo: str) -> None:
    """A workspace with the demo data loaded and the run in its run store (models linked, not copied)."""
    os.environ["AUGSBERT_HOME"] = str(home)  # studio.workspace reads it on every call
    sys.path.insert(0, str(ROOT))
    from augsbert_core.runs import RunStore
    from studio import scenario, workspace

    scenario.load_demo(demo)
    target = workspace.runs_dir() / run_dir.name
    shutil.copytree(run_dir, target, ignore=shutil.ignore_patterns("models", "CANCEL", "*.lock"))
    if (run_dir / "models").is_dir():
        (target / "models").symlink_to((run_dir / "models").resolve(), target_is_directory=True)
    RunStore(workspace.runs_dir()).rebuild_index()


def start_app(home: Path, log) -> tuple[subprocess.Popen, str]:
    sys.path.insert(0, str(ROOT))
    from studio import server as app_server  # the one way the tools start the app (studio/server.py)

    try:
        return app_server.start(home, log, timeout=60)
    except RuntimeError as exc:
        sys.exit(str(exc))


def settle(page) -> None:
    """Wait for the script run to end (no 'running' widget) and charts to finish their transitions."""
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=60_000)
    time.sleep(1.5)


def shoot(page, out: Path, name: str, height: int | None = None) -> None:
    """A screenshot of the viewport (`height`: a taller one for this page, e.g. to reach the page's end)."""
    if height:
        page.set_viewport_size({**VIEWPORT, "height": height})
    settle(page)
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"wrote {path}")
    if height:
        page.set_viewport_size(VIEWPORT)


def nav(page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()


def capture(url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(120_000)
        try:
            page.goto(url)
            page.get_by_role("heading", name="Workflow").wait_for()
            page.get_by_text(re.compile(r"Device · (CPU|.*\(cuda\)|.*\(mps\))")).wait_for()
            shoot(page, out, "start")

            nav(page, "Data")
            page.get_by_text("Label histogram").first.wait_for()
            shoot(page, out, "data")

            nav(page, "Scenario")
            page.get_by_text("Rough time on this device").wait_for()
            shoot(page, out, "scenario", height=2000)  # down to "Before launch" and its rough time

            nav(page, "Training")  # the sidebar selects the newest run: the one run of this workspace
            page.get_by_text(re.compile(r"^Results")).first.wait_for()
            page.get_by_text("Training loss").wait_for()
            shoot(page, out, "training")

            nav(page, "Silver labels")
            page.get_by_text("Share of pairs per score bucket").wait_for()
            shoot(page, out, "silver")

            nav(page, "Compare")
            page.get_by_text("Spearman by model (×100)").wait_for()
            page.get_by_text("predicted vs gold (test)").wait_for()
            shoot(page, out, "compare")

            nav(page, "Data")  # a malformed upload, rejected inline (nothing is saved)
            page.get_by_label("Active dataset", exact=True).wait_for()
            page.locator("input[type='file']").first.set_input_files(
                files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD_CSV}]
            )
            page.get_by_role("button", name=re.compile("Validate and save")).first.click()
            page.locator("[data-testid='stAlert']", has_text="bad.csv was not saved").first.wait_for()
            shoot(page, out, "data-error")
            if page.get_by_text("Traceback").count():
                sys.exit("a page shows a traceback: see the screenshots")
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.run is None:
        print(HOW_TO_RUN, file=sys.stderr)
        return 2
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)", file=sys.stderr)
        return 2
    run_dir = args.run.expanduser().resolve()
    check_run(run_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="augsbert-screenshots-"))
    home = tmp / "workspace"
    try:
        build_home(home, run_dir, args.demo)
        with open(tmp / "streamlit.log", "wb") as log:
            proc, url = start_app(home, log)
            try:
                capture(url, args.out.resolve())
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    finally:
        if args.keep:
            print(f"workspace kept: {home}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("training-live.png stays as it is: it needs a run while it trains (see the module docstring)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
