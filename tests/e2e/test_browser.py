"""The app in a real browser: `streamlit run app.py` on a free localhost port, driven by headless Chromium.

Path: Start -> load the demo -> Scenario 2 with BM25 (tiny: 1 teacher epoch) -> launch -> live training ->
Cancel once the gold-only student is done -> Resume (the steps finished before are ticked at once) -> the
finished run -> silver histogram; a pair marked wrong, saved, still marked after a reload -> Compare chart -> a
malformed upload shows its error -> a 1-5 file whose score column has an unusual name ('rating') is mapped in the
page and shown on its 1-5 scale. One server, one tiny job. A second test runs the quick 0/1 demo (STSb -> Quora)
end to end: its operating point, a pair scored in Try it, the report downloaded and opened from disk offline, the
confusion matrix on Compare (its screenshots are docs/screenshots/*-classification.png). A third, short test opens a
deep link (/compare) first on a freshly started server and counts the requests that leave the machine.

Each page is saved as a screenshot (a failing page is easier to debug) in the test's tmp folder, or in the folder
AUGSBERT_SCREENSHOTS names. The README's screenshots do not come from here: scripts/screenshots.py takes them from
a run of the full demo (realistic silver labels and metrics); only training-live.png, a run while it trains,
is this test's: copied from its screenshot folder (e.g. AUGSBERT_SCREENSHOTS=/tmp/shots).

Needs Debian's chromium (`apt-get install -y chromium`) and the `playwright` Python package; its own browser
download is not used. Run: HF_HUB_OFFLINE=1 python -m pytest tests/e2e -q"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from studio import server as app_server

ROOT = Path(__file__).resolve().parents[2]
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
# Scores 1-5 in a column no alias matches: sentence_A and sentence_B map themselves, 'rating' is picked in the page.
RATED_CSV = (
    b"sentence_A,sentence_B,rating\n"
    b"A group of kids is playing in a yard,A group of boys in a yard is playing,4.5\n"
    b"A man is playing a flute,A woman is slicing an onion,1\n"
    b"Two dogs are fighting,Two dogs are wrestling and hugging,3.6\n"
    b"A person is riding a horse,A man is on a horse,5\n"
    b"A cat is sleeping,The cat sleeps on the sofa,4.1\n"
)
# 0/1 labels: another task than the demo's scores
LABELED_CSV = (
    b"label,sentence1,sentence2\n1,He said the deal was done.,He said the agreement was finished.\n"
    b"0,The cat sat on the mat.,Stocks fell sharply on Monday.\n1,She arrived late.,She came in late.\n"
)
# The Silver page's review table (a canvas): its column widths as app_pages/silver.py sets them, in order.
SILVER_COLUMNS = {"row": 55, "sentence1": 250, "sentence2": 250, "sampler": 75, "score": 110, "kept": 50, "wrong": 70}
SILVER_LAST_WIDTH = 85  # corrected
ROW_PX = 35  # header and row height of a Streamlit table
# Training-page steps a resumed run keeps when they finished before (state.json); not setup, which runs again.
RESUMED_STEPS = (
    "Zero-shot baseline",
    "Gold-only student",
    "Candidate pairs",
    "Teacher warm start",
    "Teacher + readiness gate",
    "Silver labels",
)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture
def server(tmp_path):
    """`streamlit run app.py` with a fresh workspace; yields the base URL."""
    log = open(tmp_path / "streamlit.log", "wb")
    try:
        proc, url = app_server.start(tmp_path / "workspace", log, timeout=60)
    except RuntimeError as exc:
        pytest.fail(str(exc))
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


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where this test's screenshots go: $AUGSBERT_SCREENSHOTS, else the test's tmp folder."""
    folder = Path(os.environ.get("AUGSBERT_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _shot(page, folder: Path, name: str) -> None:
    time.sleep(1.0)  # let charts finish their transitions
    page.screenshot(path=str(folder / f"{name}.png"))


def _step_done(page, title: str):
    """The Training page's step `title` with its 'finished' tick (its whole text: the tick's name, the title)."""
    return page.locator(
        "[data-testid='stMarkdownContainer']:has([aria-label='check_circle icon'])",
        has_text=re.compile(rf"^check_circle\s*{re.escape(title)}$"),
    )


def _metric(page, label: str):
    """The value of the first metric card labeled `label` (the Data page's tabs are all in the page: the first)."""
    card = page.locator("[data-testid='stMetric']", has=page.get_by_text(label, exact=True)).first
    return card.locator("[data-testid='stMetricValue']")


def _settled(page) -> None:
    """The page's script run has ended (its 'running' indicator is gone)."""
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden")


def _leaves_the_machine(url: str) -> bool:
    """A network request to a host other than this machine (data: and blob: URLs stay in the browser)."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS


def _nav(page, title: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_text(title, exact=True).click()


def test_demo_to_trained_student_in_a_real_browser(server, shots, tmp_path):
    workspace = tmp_path / "workspace"
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1700})
        page.set_default_timeout(60_000)
        expect = playwright_api.expect
        try:
            page.goto(server)
            # 1. first visit: one click loads the demo
            page.get_by_text("New here? Start with the demo").wait_for()
            page.get_by_text(re.compile(r"Device · (CPU|.*\(cuda\)|.*\(mps\))")).wait_for()
            _shot(page, shots, "start")
            assert page.get_by_role("button", name=re.compile("Load the demo data")).is_visible()
            page.get_by_role("button", name=re.compile("Quick look")).click()  # tiny, to keep the test short
            page.get_by_label("Active dataset", exact=True).wait_for()
            page.get_by_text("Label histogram").first.wait_for()
            _shot(page, shots, "data")

            # 2. scenario 2 with BM25 (the default), one teacher epoch to keep it tiny
            _nav(page, "Scenario")
            page.get_by_text("Before launch").wait_for()
            assert page.get_by_role("radio", name=re.compile("Scenario 2")).is_checked()
            page.get_by_text("BM25 lexical neighbours").wait_for()
            # the student stops on dev within its "Epoch limit" (2 here); the teacher's fixed "Epochs" is the last such
            # input
            epoch_limit = page.get_by_label("Epoch limit", exact=True)
            epoch_limit.fill("2")
            epoch_limit.press("Enter")
            teacher_epochs = page.get_by_label("Epochs", exact=True).last
            teacher_epochs.fill("1")
            teacher_epochs.press("Enter")
            page.get_by_text("Rough time on this device").wait_for()
            time.sleep(1)
            _shot(page, shots, "scenario")
            page.get_by_role("button", name=re.compile("Launch run")).click()

            # 3. live training: progress and the loss curve
            page.get_by_text("Device queue").or_(page.get_by_text("Results")).first.wait_for()
            page.get_by_text("Training loss").wait_for(timeout=JOB_TIMEOUT_MS)
            _shot(page, shots, "training-live")

            # 4. cancel once the gold-only student is done; resume: the steps finished before are ticked at once
            _step_done(page, "Gold-only student").wait_for(timeout=JOB_TIMEOUT_MS)
            assert _step_done(page, "Zero-shot baseline").count() == 1
            page.get_by_role("button", name=re.compile(r"Cancel$")).click()
            resume = page.get_by_role("button", name=re.compile(r"Resume$"))
            resume.wait_for(timeout=5 * 60_000)  # the worker stops at its next step or training step
            _settled(page)
            finished = [t for t in RESUMED_STEPS if _step_done(page, t).count()]
            assert {"Zero-shot baseline", "Gold-only student"} <= set(finished), finished
            _shot(page, shots, "training-cancelled")
            resume.click()
            page.get_by_role("button", name=re.compile(r"Cancel$")).wait_for(timeout=15_000)  # queued or running
            for title in finished:
                _step_done(page, title).wait_for(timeout=5_000)
            _shot(page, shots, "training-resumed")

            # 5. the finished run with its metrics
            page.get_by_text(re.compile(r"^Results")).first.wait_for(timeout=JOB_TIMEOUT_MS)
            assert page.get_by_text("AugSBERT", exact=True).first.is_visible()
            assert not page.get_by_text("Traceback").count()
            _shot(page, shots, "training")

            # 6. silver labels overlaid on gold; a pair marked wrong, saved, is still marked after a reload
            _nav(page, "Silver labels")
            page.get_by_text("Silver labels vs gold").wait_for()
            page.get_by_text("Share of pairs per score bucket").wait_for()
            _shot(page, shots, "silver")
            expect(_metric(page, "Marked wrong")).to_have_text("0", timeout=30_000)
            table = page.locator("[data-testid='stDataFrame']").first  # the review table (canvas)
            table.scroll_into_view_if_needed()
            box = table.bounding_box()
            widths = [*SILVER_COLUMNS.values(), SILVER_LAST_WIDTH]  # stretched to the page's width
            x = sum(widths[:-2]) + SILVER_COLUMNS["wrong"] / 2
            table.click(position={"x": x * box["width"] / sum(widths), "y": ROW_PX * 1.5})  # the first pair's tick
            expect(_metric(page, "Marked wrong")).to_have_text("1", timeout=30_000)  # counted before saving
            page.get_by_text("include ticks not saved yet").wait_for()
            _settled(page)
            # the tick survives reruns that do not save it
            page.get_by_text("Only pairs kept for training").click()
            _settled(page)
            expect(_metric(page, "Marked wrong")).to_have_text("1", timeout=30_000)
            page.get_by_text("Only pairs kept for training").click()
            _settled(page)
            expect(_metric(page, "Marked wrong")).to_have_text("1", timeout=30_000)
            page.get_by_role("button", name=re.compile("Save review")).click()
            page.get_by_text("Review saved (review.json): 1 pairs marked wrong").first.wait_for()
            assert len(list((workspace / "runs").glob("*/review.json"))) == 1
            page.reload()
            page.get_by_text("Share of pairs per score bucket").wait_for()
            expect(_metric(page, "Marked wrong")).to_have_text("1", timeout=30_000)
            assert not page.get_by_text("include ticks not saved yet").count()  # the saved review, not a tick
            _shot(page, shots, "silver-reviewed")

            # 7. the comparison chart
            _nav(page, "Compare")
            page.get_by_text("Spearman by model (×100)").wait_for()
            page.get_by_text("predicted vs gold (test)").wait_for()  # predictions.csv written by the run
            _shot(page, shots, "compare")

            # 8. a malformed upload is rejected inline, naming row and column
            _nav(page, "Data")
            page.get_by_label("Active dataset", exact=True).wait_for()
            upload = page.locator("input[type='file']").first  # gold train pairs
            upload.set_input_files(files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": BAD_CSV}])
            page.get_by_role("button", name=re.compile("Validate and save")).first.click()
            error = page.locator("[data-testid='stAlert']", has_text="bad.csv was not saved").first
            error.wait_for()
            text = error.inner_text()
            assert "row 2" in text and "'score'" in text and "high" in text
            _shot(page, shots, "data-error")
            assert page.get_by_label("Active dataset", exact=True).is_visible()  # the demo data is untouched

            # 9. a 1-5 file whose score column is 'rating': picked in the mapping, saved and shown on a 1-5 scale
            upload.set_input_files(files=[{"name": "rated_train.csv", "mimeType": "text/csv", "buffer": RATED_CSV}])
            page.get_by_text("which column of rated_train.csv holds what").wait_for()
            page.locator("[data-testid='stAlert']", has_text="Not recognised: score or label").first.wait_for()
            _settled(page)
            page.get_by_role("combobox", name="score", exact=True).click()
            page.get_by_role("option", name="rating", exact=True).click()
            page.get_by_text("scores in column 'rating' run 1 to 5; detected from the scores: 1–5").wait_for()
            assert page.get_by_role("radio", name="1–5").is_checked()
            page.get_by_role("button", name=re.compile("Validate and save")).first.click()
            page.get_by_text("Saved rated_train.csv as gold train pairs: 5 rows").wait_for()
            page.get_by_text("score scale 1–5, detected from rated_train.csv").wait_for()
            expect(_metric(page, "Scale")).to_have_text("1–5", timeout=30_000)
            _shot(page, shots, "data-1-5")
            manifest = json.loads((workspace / "data" / "dataset.json").read_text(encoding="utf-8"))
            assert manifest["scale"] == [1.0, 5.0] and manifest["files"]["train"]["column_map"]["rating"] == "score"

            # 10. a train file of another task (0/1 labels beside scored dev and test) is refused naming both files,
            # so it cannot wedge the dataset; Start over clears it in one click (issue 26, item 1)
            upload.set_input_files(files=[{"name": "mrpc_gold.csv", "mimeType": "text/csv", "buffer": LABELED_CSV}])
            page.get_by_text("which column of mrpc_gold.csv holds what").wait_for()
            _settled(page)
            page.get_by_role("button", name=re.compile("Validate and save")).first.click()
            clash = page.locator("[data-testid='stAlert']", has_text="a dataset has one task").first
            clash.wait_for()
            assert "mrpc_gold.csv" in clash.inner_text() and "0/1 labels" in clash.inner_text()
            manifest = json.loads((workspace / "data" / "dataset.json").read_text(encoding="utf-8"))
            assert manifest["files"]["train"]["original"] == "rated_train.csv"  # the refused file changed nothing
            page.get_by_role("button", name=re.compile("Start over")).click()
            page.get_by_text("No data yet").wait_for()
        finally:
            browser.close()


def test_a_0_1_run_with_its_operating_point_try_it_and_the_report_from_disk(server, shots, tmp_path):
    """Issue 26, items 2, 5 and 6 in the browser: a 0/1 dataset (the quick STSb -> Quora demo) end to end, its
    classification results on Compare (scores per gold class, the confusion matrix at the dev threshold), a pair
    scored by every model with its 0/1 verdict, and the report exported from the Training page and opened from disk
    with no request leaving the machine."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1700})
        page.set_default_timeout(60_000)
        try:
            page.goto(server)
            page.get_by_text("New here? Start with the demo").wait_for()
            _nav(page, "Data")
            demo = page.locator("[data-testid='stVerticalBlock']", has_text="STSb → Quora quick (0/1)").last
            demo.get_by_role("button", name="Load", exact=True).click()
            page.get_by_text("Loaded the STSb → Quora quick (0/1)").wait_for()

            _nav(page, "Scenario")
            page.get_by_text("Before launch").wait_for()
            assert page.get_by_role("radio", name=re.compile("Scenario 3")).is_checked()
            epoch_limit = page.get_by_label("Epoch limit", exact=True)  # the student stops on dev within 2 epochs
            epoch_limit.fill("2")
            epoch_limit.press("Enter")
            teacher_epochs = page.get_by_label("Epochs", exact=True).last
            teacher_epochs.fill("1")
            teacher_epochs.press("Enter")
            page.get_by_text("Rough time on this device").wait_for()
            _settled(page)
            page.get_by_role("button", name=re.compile("Launch run")).click()

            # the finished 0/1 run: its results, then a pair of its test split scored by every model
            page.get_by_text(re.compile(r"^Results")).first.wait_for(timeout=JOB_TIMEOUT_MS)
            _settled(page)
            assert not page.get_by_text("Traceback").count()
            _shot(page, shots, "training-classification")
            page.get_by_text("Try it: score your own pair with every model").click()
            page.get_by_role("button", name=re.compile("Score with every model")).click()
            verdict = page.get_by_text(re.compile(r"^(similar \(1\)|not similar \(0\)) at \d\.\d\d$")).first
            verdict.wait_for(state="attached", timeout=120_000)  # a metric's delta can be laid out with no box
            _shot(page, shots, "try-it-classification")

            # the report, as a stakeholder gets it: downloaded, then opened from disk, offline
            with page.expect_download() as download:
                page.get_by_role("button", name=re.compile("Export report")).click()
            report = tmp_path / "report.html"
            download.value.save_as(report)
            away: list[str] = []
            reader = browser.new_page(viewport={"width": 1280, "height": 1100})
            reader.on("request", lambda r: away.append(r.url) if _leaves_the_machine(r.url) else None)
            reader.goto(report.as_uri())
            reader.get_by_text("In short").wait_for()
            reader.get_by_text("threshold", exact=False).first.wait_for()
            _shot(reader, shots, "report-classification")
            assert "F1" in reader.inner_text("body") and not away, away

            # Compare: the scores per gold class with the threshold, the confusion matrix at it
            _nav(page, "Compare")
            page.get_by_text(re.compile(r"predicted score by gold class \(test\)")).first.wait_for()
            page.get_by_text(re.compile(r"confusion at threshold \d\.\d\d \(test\)")).first.wait_for()
            _shot(page, shots, "compare-classification")
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
