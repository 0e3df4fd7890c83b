"""The stakeholder report (`augsbert_core.report`, `augsbert report`): one self-contained HTML file of finished runs.

Run directories are seeded with the files the pipeline writes (no training). The browser test opens the file from
disk in Debian's Chromium and counts network requests (there must be none). Run:
HF_HUB_OFFLINE=1 python -m pytest tests/test_report.py -q"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from augsbert_core.io import data as data_mod
from augsbert_core.runs import RunFiles, RunStore

from .conftest import DEMO, REPO

pytest.importorskip("plotly")

from augsbert_core.report import build_report  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
HOSTILE = '<script>alert("x")</script> & "quotes"'  # a run name is user text


def seed_run(
    store: RunStore,
    name: str = "s2-bm25",
    *,
    scenario: int = 2,
    task: str = "regression",
    finished: bool = True,
    n: int = 60,
    gain: float = 0.03,
) -> Path:
    """A finished run as the pipeline leaves it: config, fingerprints, log (device and data lines), gate, silver,
    silver summary, predictions, metrics with `recommended` (no models)."""
    dataset = DEMO / ("stsb" if task == "regression" else "quora")
    data = {"dev": str(dataset / "dev.csv"), "test": str(dataset / "test.csv"), "unlabeled": str(dataset / "u.csv")}
    if scenario in (1, 2):
        data["train"] = str(dataset / ("train.csv" if task == "regression" else "dev.csv"))  # quora has no train
    if task == "regression":
        data["scale"] = [0, 5]
    cfg = {"name": name, "scenario": scenario, "sampler": "bm25", "task": task, "data": data}
    run = store.create(name, scenario, cfg, sampler="bm25", task=task, status="queued")
    t0 = time.time() - 300
    store.update(run.id, status="running", started_at=t0, pid=None)
    prints = {
        role: data_mod.fingerprint(Path(path))
        for role, path in data.items()
        if role != "scale" and Path(path).is_file()
    }
    run.write_json(RunFiles.FINGERPRINTS, prints)
    run.log("[setup] device: CPU (2 cores)")
    run.log(f"[data] task={task}; dev=300, test=1379, train=1000, unlabeled sentences=1000")
    rng = np.random.default_rng(0)
    labels = rng.random(n) if task == "regression" else rng.integers(0, 2, n).astype(float)
    silver = pd.DataFrame(
        {
            "sentence1": [f"a dog runs {i}" for i in range(n)],
            "sentence2": [f"a cat sleeps {i}" for i in range(n)],
            "sampler": "bm25",
            "score": labels,
            "label": labels,
            "kept": [i % 4 != 0 for i in range(n)],
        }
    )
    silver.to_csv(run.path(RunFiles.SILVER), index=False)
    run.write_json(
        RunFiles.SILVER_SUMMARY, {"candidates": n, "kept": int(silver["kept"].sum()), "ks_kept_vs_gold": 0.12}
    )
    run.write_json(
        RunFiles.GATE,
        {
            "verdict": "ready",
            "message": "teacher is ready: 85.0 vs student (gold_only) 80.0 spearman on dev",
            "teacher_kind": "cross_encoder",
            "lead": 0.05,
        },
    )
    if not finished:
        return run.dir
    gold = rng.random(n) if task == "regression" else rng.integers(0, 2, n).astype(float)
    pred = pd.DataFrame(
        {
            "split": ["dev"] * (n // 2) + ["test"] * (n - n // 2),
            "sentence1": silver["sentence1"],
            "sentence2": silver["sentence2"],
            "gold": gold,
        }
    )
    models = ("zero_shot", "augsbert", "teacher") + (("gold_only",) if scenario != 3 else ())
    for key in models:
        pred[key] = (gold + rng.normal(0, 0.2, n)).clip(0, 1)
    pred.to_csv(run.path(RunFiles.PREDICTIONS), index=False)
    base = {"zero_shot": 0.70, "gold_only": 0.78, "augsbert": 0.78 + gain, "teacher": 0.85}
    names = ("spearman", "pearson") if task == "regression" else ("ap", "f1")
    metrics = {
        k: {split: {m: v - (0.02 if split == "test" else 0) for m in names} for split in ("dev", "test")}
        for k, v in base.items()
        if k in models
    }
    metrics["recommended"] = "augsbert" if gain > 0 else ("gold_only" if scenario != 3 else "zero_shot")
    run.write_json(RunFiles.METRICS, metrics)
    store.update(run.id, status="finished", finished_at=t0 + 240)
    return run.dir


class _Tags(HTMLParser):
    """Every start tag with its attributes, end tags counted, and the text outside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[tuple[str, dict]] = []
        self.ends: dict[str, int] = {}
        self.text: list[str] = []
        self._raw: str | None = None

    def handle_starttag(self, tag, attrs):
        self.starts.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._raw = tag

    def handle_endtag(self, tag):
        self.ends[tag] = self.ends.get(tag, 0) + 1
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data):
        if self._raw is None:
            self.text.append(data)

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.starts if t == tag)


def parse(page: str) -> _Tags:
    tags = _Tags()
    tags.feed(page)
    tags.close()
    return tags


def assert_offline_html(page: str) -> _Tags:
    """One html/head/body, scripts closed, plotly.js once, and no tag or style that points at the network."""
    from plotly.offline import get_plotlyjs

    tags = parse(page)
    assert page.startswith("<!DOCTYPE html>")
    for tag in ("html", "head", "body", "title"):
        assert tags.count(tag) == 1 and tags.ends.get(tag) == 1, tag
    assert tags.count("script") == tags.ends.get("script"), "every <script> is closed"
    assert page.count(get_plotlyjs()[:300]) == 1, "plotly.js embedded exactly once"
    assert tags.count("link") == 0 and tags.count("iframe") == 0 and tags.count("img") == 0
    for tag, attrs in tags.starts:
        assert "src" not in attrs, (tag, attrs)  # scripts inline only
        for key, value in attrs.items():
            assert "http://" not in (value or "") and "https://" not in (value or ""), (tag, key, value)
    styles = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "url(" not in styles and "@import" not in styles
    return tags


# ----------------------------------------------------------------------------------------------- the document
def test_report_of_two_runs_holds_every_part(tmp_path):
    store = RunStore(tmp_path / "runs")
    a = seed_run(store, "bm25-run", gain=0.03)
    b = seed_run(store, HOSTILE, gain=-0.01)
    t0 = time.perf_counter()
    page = build_report([a, b])
    took = time.perf_counter() - t0
    tags = assert_offline_html(page)
    assert took < 30, took
    text = "".join(tags.text)
    assert "AugSBERT report: 2 runs" in text
    assert "+3.0" in text and "-1.0" in text  # AugSBERT's gain over gold-only on test, per run
    assert "★ recommended" in text and "teacher ready" in text and "teacher is ready: 85.0" in text
    assert "CPU (2 cores)" in text  # the device the run logged
    assert "train.csv" in text and "1,000" in text and "1,379" in text  # datasets: names and rows
    assert "45 kept of 60" in text  # silver pairs
    assert '"sampler": "bm25"' in text  # the config, pretty-printed
    # charts: grouped bars (one), then per run predicted vs gold and silver vs gold
    assert page.count('class="plotly-graph-div"') == 5
    assert "Silver labels vs gold (KS distance 0.12)" in page and "Predicted vs gold (test)" in page
    # user text is escaped everywhere: the hostile name never becomes a tag
    assert HOSTILE not in page and tags.count("script") == 1 + 5
    assert HOSTILE in text  # ...and reads as written


def test_scenario_3_and_classification_runs(tmp_path):
    store = RunStore(tmp_path / "runs")
    s3 = seed_run(store, "s3", scenario=3)
    quora = seed_run(store, "quora", task="classification")
    page = build_report([s3, quora], title="Q3 review")
    text = "".join(assert_offline_html(page).text)
    assert "Q3 review" in text
    assert "vs Zero-shot (test)" in text  # scenario 3 has no gold-only student: zero-shot is the baseline
    assert "Average precision" in text and "Predicted scores by gold class (test)" in page
    assert "At the threshold chosen on dev (test)" in text  # F1 and the rest at the deployable threshold
    assert "At the threshold chosen on dev" not in "".join(assert_offline_html(build_report([s3])).text)
    assert page.count('class="plotly-graph-div"') == 2 + 2 + 2  # a bar chart per task, two charts per run


def test_missing_gold_file_is_a_note_not_a_failure(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_dir = seed_run(store, "moved")
    cfg = json.loads((run_dir / RunFiles.CONFIG).read_text())
    cfg["data"]["train"] = str(tmp_path / "gone.csv")
    (run_dir / RunFiles.CONFIG).write_text(json.dumps(cfg))
    (run_dir / RunFiles.PREDICTIONS).unlink()
    page = build_report([run_dir])
    text = "".join(assert_offline_html(page).text)
    assert "No silver-label histogram: gold train file gone.csv not found." in text
    assert "This run has no predictions.csv." in text
    assert page.count('class="plotly-graph-div"') == 1


def test_unfinished_or_unknown_runs_are_refused(tmp_path):
    from augsbert_core.errors import ConfigError

    store = RunStore(tmp_path / "runs")
    running = seed_run(store, "half", finished=False)
    with pytest.raises(ConfigError, match="not finished"):
        build_report([running])
    with pytest.raises(ConfigError, match="not a run directory"):
        build_report([tmp_path])
    with pytest.raises(ConfigError, match="at least one"):
        build_report([])


def test_the_core_imports_without_plotly():
    code = "import sys; sys.modules['plotly'] = None; import augsbert_core.report, augsbert_core.cli; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


# ----------------------------------------------------------------------------------------------- the app
def test_compare_page_offers_the_report_of_the_selected_runs(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from studio import pages, workspace

    monkeypatch.setenv("AUGSBERT_HOME", str(tmp_path / "workspace"))
    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.chdir(REPO)
    store = workspace.store()
    seed_run(store, "a")
    seed_run(store, "b")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.switch_page(pages.PATHS["compare"]).run()
    assert not at.exception, [e.value for e in at.exception]
    (button,) = [b for b in at.get("download_button") if b.proto.label == "Export report"]
    assert not button.proto.disabled and button.proto.deferred_file_id  # built on click, from the selected runs
    assert len(at.multiselect(key="cmp_runs").value) == 2


# ---------------------------------------------------------------------------------------------------- the CLI
def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "augsbert_core", *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=300
    )


def test_cli_report_writes_valid_offline_html(tmp_path):
    store = RunStore(tmp_path / "runs")
    by_dir = seed_run(store, "first")
    by_id = seed_run(store, "second")
    out = tmp_path / "report.html"
    t0 = time.perf_counter()
    result = cli("report", str(by_dir), by_id.name, "--runs-dir", str(store.root), "--out", str(out))
    took = time.perf_counter() - t0
    assert result.returncode == 0, result.stderr
    assert out.is_file() and str(out) in result.stdout
    page = out.read_text(encoding="utf-8")
    text = "".join(assert_offline_html(page).text)
    assert "first" in text and "second" in text
    assert took < 60, took


def test_cli_report_unknown_or_unfinished_run_exits_2_in_one_line(tmp_path):
    store = RunStore(tmp_path / "runs")
    half = seed_run(store, "half", finished=False)
    out = tmp_path / "x.html"
    for run, named in (("no-such-run", "no-such-run"), (half.name, half.name)):
        result = cli("report", run, "--runs-dir", str(store.root), "--out", str(out))
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and named in lines[0], result.stderr
        assert not out.exists()


# ------------------------------------------------------------------------------------------------ the browser
@pytest.mark.e2e
def test_report_opens_from_disk_with_no_network_request(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="the 'playwright' package is not installed")
    store = RunStore(tmp_path / "runs")
    out = tmp_path / "report.html"
    out.write_text(build_report([seed_run(store, "a"), seed_run(store, "b", gain=0.01)]), encoding="utf-8")
    requests, errors = [], []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(out.as_uri(), wait_until="load")
            page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
            plots = page.locator(".js-plotly-plot").count()
            bars = page.locator(".js-plotly-plot .bars path").count()
            page.wait_for_timeout(500)
        finally:
            browser.close()
    network = [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert network == [], network
    assert plots == 5 and bars > 0
    assert errors == [], errors


def test_the_report_says_each_students_schedule_and_why_a_model_is_recommended(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_dir = Path(seed_run(store, "tuned", gain=0.002))
    raw = json.loads((run_dir / RunFiles.METRICS).read_text())
    raw["recommended"] = "gold_only"
    raw["recommendation"] = {"model": "gold_only", "why": "AugSBERT's gain over gold-only is within noise"}
    raw["schedules"] = {
        "gold_only": {"epochs": "auto", "epochs_run": 6.0, "best_epoch": 4.0, "steps": 252},
        "augsbert": {"epochs": "auto", "epochs_run": 3.0, "best_epoch": 1.0, "steps": 357},
    }
    (run_dir / RunFiles.METRICS).write_text(json.dumps(raw))
    text = "".join(parse(build_report([run_dir])).text)
    assert "best 4 of 6 epochs (auto, on dev)" in text and "best 1 of 3 epochs (auto, on dev)" in text
    assert "Recommended: Gold-only" in text and "within noise" in text
    assert ">recommendation<" not in build_report([run_dir])  # the non-model keys are no table rows


def test_a_report_a_stakeholder_can_read_first(tmp_path):
    """Issue 26, item 5: titled with the dataset (not the run id), a plain-language summary first (data, how much
    was trained on, the recommendation and its gain, what to do next), the recommended model marked in the chart,
    the config in a collapsed appendix."""
    store = RunStore(tmp_path / "runs")
    wins = seed_run(store, "s2-bm25", gain=0.03)
    page = build_report([wins])
    tags = assert_offline_html(page)
    text = "".join(tags.text)
    assert "<title>stsb: AugSBERT report</title>" in page
    summary = text[text.index("In short") : text.index("Headline")]
    assert (
        "On stsb (similarity scores), the models learned from 1,000 labeled pairs and 45 pairs the teacher" in summary
    )
    assert "Recommended: AugSBERT: +3.0 points of Spearman on test over the baseline" in summary
    assert "Next: deploy the AugSBERT student" in summary
    assert "<details><summary>Appendix: the run's config</summary><pre>" in page
    assert '"marker":{"color":"#54A24B","line":{"color":"#1B2430","width":[0,0,3,0]}}' in page.replace(" ", "")
    loses = seed_run(store, "s2-random", gain=-0.01)
    summary = "".join(assert_offline_html(build_report([loses])).text)
    assert "Recommended: Gold-only: the student trained with silver was -1.0 points" in summary
    assert "Next: keep the gold-only student, the cheaper one" in summary


def test_a_gold_file_changed_since_the_run_is_said_not_drawn(tmp_path):
    """Issue 25, class 8: the report drew today's gold file while its Datasets table showed the run's fingerprint."""
    store = RunStore(tmp_path / "runs")
    run_dir = seed_run(store, "moved")
    train = tmp_path / "train.csv"
    train.write_bytes((DEMO / "stsb" / "train.csv").read_bytes())
    cfg = json.loads((run_dir / RunFiles.CONFIG).read_text())
    cfg["data"]["train"] = str(train)
    (run_dir / RunFiles.CONFIG).write_text(json.dumps(cfg))
    prints = json.loads((run_dir / RunFiles.FINGERPRINTS).read_text())
    (run_dir / RunFiles.FINGERPRINTS).write_text(json.dumps({**prints, "train": data_mod.fingerprint(train)}))
    assert "Silver labels vs gold" in build_report([run_dir])  # the run's own file: drawn
    train.write_text(train.read_text().replace("5.0", "4.8", 1))
    text = "".join(assert_offline_html(build_report([run_dir])).text)
    assert "No silver-label histogram: gold train file train.csv changed since the run" in text


def test_the_gate_advice_is_in_the_pages_words(tmp_path):
    """Issue 26, item 5: a weak teacher's options are worded as the Scenario page names them, not as config keys."""
    store = RunStore(tmp_path / "runs")
    run_dir = seed_run(store)
    gate = {
        "verdict": "weak",
        "summary": "teacher 80.1 vs student (gold_only) 84.3 spearman on dev",
        "message": "teacher ... Options: the teacher ensemble (ensemble: auto); teacher search on dev (teacher_search: "
        "{learning_rates: [...], epochs: [...]}).",
        "options": ["ensemble", "teacher_search", "gold_only"],
    }
    (run_dir / RunFiles.GATE).write_text(json.dumps(gate))
    text = "".join(assert_offline_html(build_report([run_dir])).text)
    assert (
        "teacher 80.1 vs student (gold_only) 84.3 spearman on dev. What to try: the teacher ensemble (Teacher quality"
        " · Teacher ensemble: auto); a teacher search on dev (Teacher quality · Teacher search on dev); keeping the "
        "gold-only student: it is in the run's results." in text
    )
    assert "teacher_search: {" not in text and "ensemble: auto)" not in text.replace("Teacher ensemble: auto)", "")


def test_the_gate_block_names_the_labeler_the_silver_stage_chose(tmp_path):
    """The labeler probe runs after the gate and records its choice in silver_summary.json, not in gate.json (no
    stage rewrites another's file): the report's gate line still names it, and an older run's gate.json `labeler`."""
    store = RunStore(tmp_path / "runs")
    run_dir = seed_run(store)
    summary = json.loads((run_dir / RunFiles.SILVER_SUMMARY).read_text())
    (run_dir / RunFiles.SILVER_SUMMARY).write_text(json.dumps({**summary, "labeler": "ensemble"}))
    gate = {"verdict": "ready", "summary": "teacher ready", "message": "teacher ready", "teacher_kind": "cross_encoder"}
    (run_dir / RunFiles.GATE).write_text(json.dumps(gate))
    text = "".join(assert_offline_html(build_report([run_dir])).text)
    assert "kind: cross_encoder · labeler: ensemble" in text
    (run_dir / RunFiles.GATE).write_text(json.dumps({**gate, "labeler": "cross_encoder"}))  # a run before the split
    assert "labeler: cross_encoder" in "".join(assert_offline_html(build_report([run_dir])).text)
