"""The app in a real browser: `streamlit run app.py` on a free localhost port, driven by headless Chromium.

Path: Start -> load the demo -> Scenario 2 with BM25 (tiny: 1 teacher epoch) -> launch -> live training ->
silver histogram -> Compare chart -> a malformed upload shows its error. Saves a screenshot of each page to
docs/screenshots/ (the README shows them). A second, short test opens a deep link (/compare) first on a freshly
started server and counts the requests that leave the machine.

Needs Debian's chromium (`apt-get install -y chromium`) and the `playwright` Python package; its own browser
download is not used. Run: HF_HUB_OFFLINE=1 python -m pytest tests/e2e -q"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
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
JOB_TIMEOUT_MS = 12 * 60 * 1000  # a tiny job takes 1.5-2 min on 2 idle cores; more when they are busy

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)"
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="the 'playwright' Python package is not installed")

BAD_CSV = b"sentence1,sentence2,score\nA man plays.,A man is playing.,4.5\nA cat.,A dog.,high\n"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """`streamlit run app.py` with a fresh workspace; yields the base URL."""
    port = _free_port()
    env = dict(
        os.environ,
        AUGSBERT_HOME=str(tmp_path / "workspace"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    env.pop("AUGSBERT_DEVICE_LABEL", None)
    log = open(tmp_path / "streamlit.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()[-2000:]}")
    yield url
    # stop the jobs this test started (their worker processes run in their own sessions)
    runs = tmp_path / "workspace" / "runs"
    for run_dir in runs.glob("*/"):
        (run_dir / "CANCEL").touch()
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    time.sleep(1.0)  # let charts finish their transitions
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _leaves_the_machine(url: str) -> bool:
    """A network request to a host other than this machine (data: and blob: URLs stay in the browser)."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS


def _nav(page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()


def test_demo_to_trained_student_in_a_real_browser(server):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1700})
        page.set_default_timeout(60_000)
        try:
            page.goto(server)
            # 1. first visit: one click loads the demo
            page.get_by_text("New here? Start with the demo").wait_for()
            page.get_by_text(re.compile(r"Device · (CPU|.*\(cuda\)|.*\(mps\))")).wait_for()
            _shot(page, "start")
            assert page.get_by_role("button", name=re.compile("Load the demo data")).is_visible()
            page.get_by_role("button", name=re.compile("Quick look")).click()  # tiny, to keep the test short
            page.get_by_label("Active dataset", exact=True).wait_for()
            page.get_by_text("Label histogram").first.wait_for()
            _shot(page, "data")

            # 2. scenario 2 with BM25 (the default), one teacher epoch to keep it tiny
            _nav(page, "Scenario")
            page.get_by_text("Before launch").wait_for()
            assert page.get_by_role("radio", name=re.compile("Scenario 2")).is_checked()
            page.get_by_text("BM25 lexical neighbours").wait_for()
            teacher_epochs = page.get_by_label("Epochs").nth(1)
            teacher_epochs.fill("1")
            teacher_epochs.press("Enter")
            page.get_by_text("Rough time on this device").wait_for()
            time.sleep(1)
            _shot(page, "scenario")
            page.get_by_role("button", name=re.compile("Launch run")).click()

            # 3. live training: progress, loss curve, then the finished run with its metrics
            page.get_by_text("Device queue").or_(page.get_by_text("Results")).first.wait_for()
            page.get_by_text("Training loss").wait_for(timeout=JOB_TIMEOUT_MS)
            _shot(page, "training-live")
            page.get_by_text(re.compile(r"^Results")).first.wait_for(timeout=JOB_TIMEOUT_MS)
            assert page.get_by_text("AugSBERT", exact=True).first.is_visible()
            assert not page.get_by_text("Traceback").count()
            _shot(page, "training")

            # 4. silver labels overlaid on gold
            _nav(page, "Silver labels")
            page.get_by_text("Silver labels vs gold").wait_for()
            page.get_by_text("Share of pairs per score bucket").wait_for()
            _shot(page, "silver")

            # 5. the comparison chart
            _nav(page, "Compare")
            page.get_by_text("Spearman by model (×100)").wait_for()
            page.get_by_text("predicted vs gold (test)").wait_for()  # predictions.csv written by the run
            _shot(page, "compare")

            # 6. a malformed upload is rejected inline, naming row and column
            _nav(page, "Data")
            page.get_by_label("Active dataset", exact=True).wait_for()
            page.locator("input[type='file']").first.set_input_files(
                files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD_CSV}]
            )
            page.get_by_role("button", name=re.compile("Validate and save")).first.click()
            error = page.locator("[data-testid='stAlert']", has_text="bad.csv was not saved").first
            error.wait_for()
            text = error.inner_text()
            assert "row 2" in text and "'score'" in text and "high" in text
            _shot(page, "data-error")
            assert page.get_by_label("Active dataset", exact=True).is_visible()  # the demo data is untouched
        finally:
            browser.close()


def test_a_cold_deep_link_opens_its_page_and_nothing_leaves_the_machine(server):
    """The first request to a fresh server is /compare: the Compare page, no 'Page not found' dialog (a top-level
    `pages/` folder caused one); and no request, the page icon and fonts included, goes to another host."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        away: list[str] = []
        page.on("request", lambda r: away.append(r.url) if _leaves_the_machine(r.url) else None)
        try:
            page.goto(f"{server}/compare")
            page.get_by_role("heading", name="Compare").wait_for()
            page.get_by_text("No runs yet").wait_for()
            page.get_by_text(re.compile(r"Device · (CPU|.*\(cuda\)|.*\(mps\))")).wait_for()  # the reruns are done
            time.sleep(1.0)
            assert not page.get_by_text("Page not found").count()
            assert page.url.endswith("/compare")
            _nav(page, "Training")  # one more page, with its icons
            page.get_by_role("heading", name="Training").wait_for()
            time.sleep(1.0)
            assert away == [], away
        finally:
            browser.close()
