"""The Streamlit app, page by page, with `streamlit.testing.v1.AppTest` (headless, no browser).

Fast tests use a seeded run store; one `slow` test launches a tiny real job with the offline model and
waits for its worker process. Run: HF_HUB_OFFLINE=1 python -m pytest tests/test_app.py -q"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")
pytest.importorskip("plotly")

from streamlit.testing.v1 import AppTest  # noqa: E402

from augsbert_core import estimate  # noqa: E402
from augsbert_core.errors import ConfigError, ModelLoadError, failure_of  # noqa: E402
from augsbert_core.runs import RunStore  # noqa: E402
from studio import pages, runinfo, scenario, workspace  # noqa: E402
from studio import scenario_words as words

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGES = pages.PATHS  # the app's one page registry
TITLES = {
    "home": "AugSBERT Studio",
    "data": "Data",
    "scenario": "Scenario",
    "training": "Training",
    "silver": "Silver labels",
    "compare": "Compare",
}


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    """A fresh workspace per test; no device probing, no hub."""
    ws = tmp_path / "workspace"
    monkeypatch.setenv("AUGSBERT_HOME", str(ws))
    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(ROOT)
    return ws


def app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    if page and page != "home":
        at.switch_page(PAGES[page]).run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    """Everything readable on the page, joined (markdown, captions, alerts, metrics, titles)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning", "error"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(f"{m.label} {m.value}" for m in at.metric)
    return "\n".join(parts)


def plotly_charts(at: AppTest) -> list:
    return at.get("plotly_chart")


# ------------------------------------------------------------------------------------------------ seeding
def seed_run(
    store: RunStore,
    name: str = "s2-bm25",
    status: str = "finished",
    *,
    sampler: str = "bm25",
    error: str | None = None,
    failure: dict | None = None,
    with_files: bool = True,
    pid: int | None = None,
    offset: float = 0.0,
) -> str:
    """A run as the core writes it: config, events, gate, silver, metrics (no models)."""
    demo = ROOT / "demo" / "stsb"
    cfg = {
        "name": name,
        "scenario": 2,
        "sampler": sampler,
        "task": "regression",
        "data": {
            "train": str(demo / "train.csv"),
            "dev": str(demo / "dev.csv"),
            "test": str(demo / "test.csv"),
            "scale": [0, 5],
        },
    }
    run = store.create(name, 2, cfg, sampler=sampler, task="regression", status="queued")
    t0 = time.time() - 120 + offset
    if status != "queued":
        store.update(
            run.id,
            status=status,
            started_at=t0,
            pid=pid or 999_999_999,
            finished_at=None if status == "running" else t0 + 100,
            error=error,
            failure=failure,
        )
    if not with_files:
        return run.id
    for i in range(1, 11):
        run.event(
            {
                "stage": "teacher.train",
                "step": i,
                "total": 10,
                "loss": 1.0 / i,
                "metrics": {},
                "message": "log",
                "time": t0 + i,
            }
        )
    run.event(
        {
            "stage": "teacher.train",
            "step": 10,
            "total": 10,
            "loss": None,
            "metrics": {"eval_dev_spearman": 0.8, "eval_loss": 0.3},
            "message": "eval",
            "time": t0 + 11,
        }
    )
    run.write_json(
        "gate.json",
        {
            "verdict": "ready",
            "message": "teacher is ready: 85.0 vs student (gold_only) 80.0 spearman on dev",
            "split": "dev",
        },
    )
    rng = np.random.default_rng(0)
    n = 40
    silver = pd.DataFrame(
        {
            "sentence1": [f"a dog runs number {i}" for i in range(n)],
            "sentence2": [f"=cmd a cat sleeps {i}" if i == 0 else f"a cat sleeps {i}" for i in range(n)],
            "sampler": ["bm25"] * 30 + ["semantic"] * 10,
            "score": rng.random(n).round(3),
        }
    )
    silver["label"] = silver["score"]
    silver["kept"] = True
    silver.to_csv(run.path("silver.csv"), index=False)
    run.write_json("silver_summary.json", {"candidates": n, "kept": n, "ks_kept_vs_gold": 0.12})
    if status == "finished":
        base = {"zero_shot": 0.70, "gold_only": 0.78, "augsbert": 0.81 + 0.01 * offset, "teacher": 0.85}
        run.write_json(
            "metrics.json",
            {
                k: {"dev": {"spearman": v, "pearson": v - 0.01}, "test": {"spearman": v - 0.02, "pearson": v - 0.03}}
                for k, v in base.items()
            },
        )
        store.update(run.id, headline={"augsbert.test.spearman": base["augsbert"] - 0.02})
        pred = pd.DataFrame(
            {"split": "test", "sentence1": silver["sentence1"], "sentence2": silver["sentence2"], "gold": rng.random(n)}
        )
        for k in ("zero_shot", "gold_only", "augsbert", "teacher"):
            pred[k] = (pred["gold"] + rng.normal(0, 0.1, n)).clip(0, 1)
        pred.to_csv(run.path("predictions.csv"), index=False)
        model_dir = run.path("models", "augsbert")
        model_dir.mkdir(parents=True)
        (model_dir / "config.json").write_text("{}")
    return run.id


@pytest.fixture
def store(home) -> RunStore:
    return workspace.store()


# ----------------------------------------------------------------------------------------------- navigation
def test_every_page_renders_on_an_empty_workspace():
    for page, title in TITLES.items():
        at = app(page)
        assert at.title[0].value == title
    # the sidebar names the device (AppTest keeps sidebar elements of the first page run only)
    assert r"**Device** · CPU \(test\)" in [m.value for m in app().sidebar.markdown]  # escaped: md_escape


def test_sidebar_shows_workspace_and_current_run(store, home):
    run_id = seed_run(store)
    at = app()
    assert at.selectbox(key="run_picker").value == run_id
    assert str(home) in "\n".join(c.value for c in at.sidebar.caption)


def test_first_visit_offers_one_click_demo():
    at = app()
    button = at.button(key="demo_full")
    assert "demo" in button.label.lower()
    button.click().run()
    assert at.title[0].value == "Data"
    assert workspace.read_manifest()["files"]["train"]["rows"] == 1000
    assert not any(b.key in ("demo_full", "demo_quick") for b in app().button)  # only while the workspace is empty


def test_quick_look_loads_a_small_slice():
    at = app()
    at.button(key="demo_quick").click().run()
    assert not at.exception
    assert at.title[0].value == "Data"  # it goes on to the data
    files = workspace.read_manifest()["files"]
    assert set(files) == {"train", "dev", "test", "unlabeled"}
    assert files["train"]["rows"] == 64
    assert "Loaded the STSb quick demo" in texts(at)
    assert len(plotly_charts(at)) >= 2  # label histogram, sentence lengths


# ------------------------------------------------------------------------------------------------- data page
GOOD = b"s1,s2,score\nA man plays.,A man is playing.,4.5\nA cat.,A dog.,1.0\nRain falls.,It rains.,4.0\n"
BAD = b"sentence1,sentence2,score\nA man plays.,A man is playing.,4.5\nA cat.,A dog.,high\nRain.,It rains.,4\n"


def test_upload_saves_validated_file_and_survives_restart(home):
    at = app("data")
    at.file_uploader(key="upload_train").set_value(("mine.csv", GOOD, "text/csv")).run()
    at.button(key="save_train").click().run()
    assert not at.exception
    assert r"Saved mine\.csv" in texts(at)  # the file name is markdown-escaped
    saved = workspace.data_dir() / "train.csv"
    assert saved.is_file()
    assert pd.read_csv(saved).shape == (3, 3)
    # a new session (as after a server restart) still has it
    at2 = app("data")
    assert "mine.csv" in at2.dataframe[0].value.to_string()


def test_malformed_upload_names_row_and_column_and_writes_nothing(home):
    at = app("data")
    at.file_uploader(key="upload_train").set_value(("bad.csv", BAD, "text/csv")).run()
    at.button(key="save_train").click().run()
    assert not at.exception
    error = at.error[0].value
    assert r"bad\.csv was not saved" in error and "row 2" in error and "'score'" in error and "high" in error
    assert not (workspace.data_dir() / "train.csv").exists()
    assert workspace.read_manifest()["files"] == {}


def test_column_mapping_when_names_differ(home):
    data = b"left;right\n"  # not a CSV the core accepts: semicolons
    at = app("data")
    at.file_uploader(key="upload_test").set_value(("semi.csv", data, "text/csv")).run()
    assert r"semi\.csv was not saved" in at.error[0].value
    odd = b"premise_text,other_text,rating\nA man plays.,A man is playing.,4.5\nA cat.,A dog.,1.0\n"
    at.file_uploader(key="upload_test").set_value(("odd.csv", odd, "text/csv")).run()
    assert "Not recognised" in texts(at)
    select = {s.label: s for s in at.selectbox if s.key and s.key.startswith("map_test_")}
    select["sentence1"].set_value("premise_text")
    select["sentence2"].set_value("other_text")
    select["score"].set_value("rating")
    at.run()
    at.button(key="save_test").click().run()
    assert not at.exception, [e.value for e in at.exception]
    saved = pd.read_csv(workspace.data_dir() / "test.csv")
    assert list(saved.columns) == ["sentence1", "sentence2", "score"]
    assert workspace.read_manifest()["files"]["test"]["column_map"] == {
        "premise_text": "sentence1",
        "other_text": "sentence2",
        "rating": "score",
    }


# --------------------------------------------------------------------------------------------- scenario page
def test_scenario_page_needs_data_first():
    at = app("scenario")
    assert "Add data first" in texts(at)


def test_scenario_choice_sampler_and_estimate():
    workspace.load_demo("stsb-quick")
    at = app("scenario")
    assert at.radio(key="sc_scenario").value == 2
    assert at.pills(key="sc_samplers").value == ["bm25"] if hasattr(at, "pills") else True
    labels = {m.label: m.value for m in at.metric}
    assert {"Candidate pairs", "Silver pairs", "Student trains on", "Rough time on this device"} <= set(labels)
    at.slider(key="sc_top_k").set_value(2).run()
    assert scenario.load_draft()["top_k"] == 2  # saved in the workspace
    at.radio(key="sc_scenario").set_value(1).run()
    assert not at.exception
    assert at.selectbox(key="sc_aug_method").value == "wordnet"
    assert "Augmented pairs" in {m.label for m in at.metric}
    at.radio(key="sc_scenario").set_value(3).run()
    assert "Source-domain gold" in texts(at)  # the demo has none: said before launch
    assert at.button(key="sc_launch").disabled


def test_scenario_rejects_a_missing_local_model_path():
    workspace.load_demo("stsb-quick")
    at = app("scenario")
    at.radio(key="sc_teacher_kind").set_value("custom").run()
    at.text_input(key="sc_teacher_model").input("./no/such/model").run()
    assert any("model directory not found" in e.value for e in at.error)


def test_build_configs_one_run_per_sampler():
    workspace.load_demo("stsb-quick")
    draft = scenario.load_draft()
    draft["samplers"] = ["bm25", "semantic"]
    configs = scenario.build_configs(draft)
    assert [c.sampler for c in configs] == ["bm25", "semantic"]
    cfg = configs[0]
    assert cfg.data.scale == [0.0, 5.0]
    assert Path(cfg.data.train).is_absolute() and Path(cfg.data.train).is_file()
    assert cfg.runs_dir == str(workspace.runs_dir())


def test_scenario_offers_the_offline_mpnet_teacher_and_its_setup_command(home, monkeypatch):
    from augsbert_core import ConfigError
    from augsbert_core.models import MPNET_SETUP

    monkeypatch.delenv("AUGSBERT_MPNET_MODEL", raising=False)
    workspace.load_demo("stsb-quick")
    at = app("scenario")
    kind = at.radio(key="sc_teacher_kind")
    assert kind.value == "auto"  # the core picks the base for the device (tests/test_recommended_ui.py)
    mpnet_label = [o for o in kind.options if "mpnet" in o]
    assert len(mpnet_label) == 1 and "recommended teacher" in mpnet_label[0] and "not installed" in mpnet_label[0]
    kind.set_value("mpnet").run()
    assert not at.exception, [e.value for e in at.exception]
    assert scenario.load_draft()["teacher"]["model"] == "mpnet"
    # not installed: the exact set-up command is on the page and launching is blocked with the same advice
    commands = [c.value for c in at.code]
    target = str(home / "models" / "all-mpnet-base-v2")
    assert any(c.startswith(MPNET_SETUP) and target in c for c in commands), commands
    assert "Not installed yet" in texts(at)
    assert at.button(key="sc_launch").disabled
    with pytest.raises(ConfigError, match="setup_mpnet.py"):
        scenario.build_configs(scenario.load_draft())
    # installed (a model folder where the set-up script puts it): the label says so and the config names it
    (home / "models" / "all-mpnet-base-v2").mkdir(parents=True)
    (home / "models" / "all-mpnet-base-v2" / "config.json").write_text("{}")
    at = app("scenario")
    kind = at.radio(key="sc_teacher_kind")
    assert kind.value == "mpnet" and "· installed" in kind.options[kind.index]
    assert not at.code and not at.button(key="sc_launch").disabled
    cfg = scenario.build_configs(scenario.load_draft())[0]
    assert cfg.teacher.model == "mpnet" and not cfg.teacher.trust_remote_code
    assert not at.checkbox(key="sc_teacher_trust").value and at.checkbox(key="sc_teacher_trust").disabled


def test_scenario_teacher_quality_settings_reach_the_config():
    workspace.load_demo("stsb-quick")
    default = scenario.build_configs(scenario.load_draft())[0]
    assert default.ensemble == "auto" and not default.teacher_search.enabled
    assert default.teacher.seed_trials == 1 and default.student.seed_trials == 1
    at = app("scenario")
    assert at.radio(key="sc_ensemble").value == "auto"
    assert at.slider(key="sc_teacher_seed_fraction").disabled  # trials = 1: seed trials are off
    at.radio(key="sc_ensemble").set_value("on").run()
    at.number_input(key="sc_teacher_seed_trials").set_value(3).run()
    at.slider(key="sc_teacher_seed_fraction").set_value(0.3).run()
    at.number_input(key="sc_student_seed_trials").set_value(2).run()
    assert not at.session_state["sc_ts_enabled"]
    at.toggle(key="sc_ts_enabled").set_value(True).run()
    at.multiselect(key="sc_ts_lrs").set_value([5e-5, 1e-5]).run()
    at.multiselect(key="sc_ts_epochs").set_value([2.0, 1.0]).run()
    at.number_input(key="sc_ts_budget").set_value(10.0).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "4 trials" in texts(at)
    draft = scenario.load_draft()  # what the page saved
    cfg = scenario.build_configs(draft)[0]
    assert cfg.ensemble == "on"
    assert (cfg.teacher.seed_trials, cfg.teacher.seed_trial_fraction) == (3, 0.3)
    assert (cfg.student.seed_trials, cfg.student.seed_trial_fraction) == (2, 0.25)
    assert cfg.teacher_search.learning_rates == [1e-5, 5e-5] and cfg.teacher_search.epochs == [1.0, 2.0]
    assert cfg.teacher_search.budget_minutes == 10.0
    from augsbert_core import ExperimentConfig

    assert ExperimentConfig.from_dict(cfg.to_dict()).to_dict() == cfg.to_dict()
    # the estimate counts the extra trainings
    counts = estimate.DataCounts(train_pairs=1000, dev_pairs=300, test_pairs=300, unique_sentences=2000)
    plain = estimate.estimate(scenario.draft_config({**scenario.DEFAULT_DRAFT, "sampler": "bm25"}), counts)
    tuned = estimate.estimate(scenario.draft_config({**draft, "sampler": "bm25"}), counts)
    assert tuned.parts["teacher"] > plain.parts["teacher"]
    assert tuned.parts["AugSBERT student"] > plain.parts["AugSBERT student"]
    # search on, but nothing picked: refused before launch rather than silently off
    at.multiselect(key="sc_ts_lrs").set_value([]).run()
    at.multiselect(key="sc_ts_epochs").set_value([]).run()
    assert "Pick at least one learning rate" in texts(at)
    from augsbert_core import ConfigError

    with pytest.raises(ConfigError, match="teacher search"):
        scenario.build_configs(scenario.load_draft())
    # turned off again: no teacher_search in the config, the lists are remembered
    at.toggle(key="sc_ts_enabled").set_value(False).run()
    assert not scenario.build_configs(scenario.load_draft())[0].teacher_search.enabled


def test_estimate_counts_and_time():
    counts = estimate.DataCounts(
        train_pairs=1000, dev_pairs=300, test_pairs=1379, unique_sentences=3000, unlabeled_sentences=1000
    )
    # the recipe those minutes were measured with: no teacher warm start, no labeler probes, 1-epoch students
    draft = {
        **scenario.DEFAULT_DRAFT,
        "sampler": "bm25",
        "top_k": 2,
        "labeler": "cross_encoder",
        "teacher": {**scenario.DEFAULT_DRAFT["teacher"], "warm_start": "off"},
        "student": {**scenario.DEFAULT_DRAFT["student"], "epochs": 1},
    }
    cpu = estimate.estimate(scenario.draft_config(draft), counts, "cpu")
    assert cpu.candidates == 6000 and cpu.candidates_low == 3000
    assert 5 * 60 < cpu.seconds < 12 * 60  # the full demo took 6-8 minutes on 2 cores
    # students early-stopped on dev (the default) are priced for a typical best epoch plus the patience
    auto = estimate.estimate(scenario.draft_config({**draft, "student": scenario.DEFAULT_DRAFT["student"]}), counts)
    fixed = cpu.parts["AugSBERT student"] - estimate.PER_TRAINING_S
    expected = estimate.expected_epochs(scenario.draft_config(scenario.DEFAULT_DRAFT).student)
    assert 1 < expected <= 10
    assert auto.parts["AugSBERT student"] - estimate.PER_TRAINING_S == pytest.approx(expected * fixed)
    assert estimate.estimate(scenario.draft_config(draft), counts, "gpu").seconds < cpu.seconds / 5
    kde = estimate.estimate(scenario.draft_config({**draft, "sampler": "kde"}), counts)
    assert kde.silver < kde.candidates
    assert estimate.fmt_duration(65) == "1:05" and estimate.fmt_duration(None) == "–"


# --------------------------------------------------------------------------------------------- training page
def test_training_page_without_runs_offers_launch():
    at = app("training")
    assert "No run yet" in texts(at)
    assert at.button(key="tr_launch").disabled  # no data yet


def test_training_page_shows_progress_curves_and_cancel(store):
    run_id = seed_run(store, status="running", pid=os.getpid())
    at = app("training")
    assert not at.exception
    assert at.session_state["run_id"] == run_id
    assert "Device queue" in texts(at)
    assert len(plotly_charts(at)) == 2  # loss and dev metric
    assert "teacher is ready" in texts(at)
    at.button(key=f"cancel_{run_id}").click().run()
    assert (Path(store.get(run_id).dir) / "CANCEL").exists()


def test_training_page_queue_lists_waiting_jobs(store):
    first = seed_run(store, "first", status="running", pid=os.getpid(), with_files=False)
    second = seed_run(store, "second", status="queued", with_files=False)
    at = app("training")
    queue = at.dataframe[0].value
    assert list(queue["id"]) == [first, second]
    assert "Waiting for the device: 1 job ahead" in texts(at)  # the current run is the newest (queued) one


@pytest.mark.parametrize(
    "exc, title",
    [
        (
            ModelLoadError("could not load model 'nope/nope': the hub is offline (HF_HUB_OFFLINE=1). Use 'default'"),
            "Model could not be loaded",
        ),
        (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), "Out of memory"),
        (ConfigError("student.epochs: must be >= 0"), "Invalid settings"),
    ],
)
def test_failed_run_shows_a_readable_message(store, exc, title):
    """The failure as the core records it (errors.failure_of) gets the title of its kind."""
    failure = failure_of(exc)
    seed_run(store, status="failed", error=failure.message, failure=failure.to_dict(), with_files=False)
    at = app("training")
    message = at.error[0].value
    assert title in message and "Traceback" not in message


def test_failed_run_from_before_failures_were_data_still_reads_well(store):
    seed_run(store, status="failed", error="DataError: train.csv, row 3: score is not a number", with_files=False)
    at = app("training")
    assert "Bad data" in at.error[0].value


def test_dead_worker_is_marked_interrupted(store):
    run_id = seed_run(store, status="running", pid=999_999_999, with_files=False)
    at = app("training")
    assert store.get(run_id).status == "interrupted"
    assert "Interrupted" in at.error[0].value
    # the user can resume it: the run is queued again under the same id with a new worker
    from augsbert_core.jobs import cancel

    at.button(key=f"resume_{run_id}").click().run()
    assert store.get(run_id).status in ("queued", "running")
    cancel(store, run_id)  # stop the worker before it trains the full demo
    deadline = time.time() + 120
    while store.get(run_id).status in ("queued", "running") and time.time() < deadline:
        time.sleep(0.5)
    assert store.get(run_id).status == "cancelled"
    assert "resume requested" in (Path(store.get(run_id).dir) / "log.txt").read_text()


# ----------------------------------------------------------------------------------------------- silver page
def test_silver_page_histogram_filters_review_and_export(store):
    run_id = seed_run(store)
    at = app("silver")
    assert not at.exception, [e.value for e in at.exception]
    assert len(plotly_charts(at)) == 2  # silver vs gold, buckets
    assert "Teacher-readiness gate: ready" in texts(at)
    assert "40 of 40 pairs match" in texts(at)
    at.slider(key="sv_range_0_5").set_value((2.5, 5.0)).run()  # the dataset's scale: 0-5
    assert not at.exception, [e.value for e in at.exception]
    shown = int(at.caption[[i for i, c in enumerate(at.caption) if "pairs match" in c.value][0]].value.split()[0])
    assert 0 < shown < 40
    at.text_input(key="sv_query").input("sleeps 7").run()
    at.slider(key="sv_range_0_5").set_value((0.0, 5.0)).run()
    assert "1 of 40 pairs match" in texts(at)
    # review: mark the row wrong and save
    runinfo.save_review(store.get(run_id).dir, {7: {"wrong": True, "score": None}, 3: {"wrong": False, "score": 0.9}})
    review = json.loads((Path(store.get(run_id).dir) / "review.json").read_text())
    assert review == {"3": {"wrong": False, "score": 0.9}, "7": {"wrong": True, "score": None}}
    at = app("silver")
    assert "Marked wrong 1" in texts(at) and "Scores corrected 1" in texts(at)
    assert "review saved: 1 pairs marked wrong" in (Path(store.get(run_id).dir) / "log.txt").read_text()
    at2 = app("training")
    assert "Silver review: 1 pairs marked wrong, 1 scores corrected" in texts(at2)


def test_review_edits_merge_into_the_saved_review(store):
    run_id = seed_run(store)
    silver = runinfo.apply_review(runinfo.load_silver(store.get(run_id).dir), {5: {"wrong": True, "score": None}})
    edited = silver.head(3).copy()
    edited.loc[0, "wrong"] = True
    edited.loc[1, "corrected_score"] = 0.25
    merged = runinfo.merge_review({5: {"wrong": True, "score": None}}, edited)
    runinfo.save_review(store.get(run_id).dir, merged)
    review = runinfo.load_review(store.get(run_id).dir)
    assert review == {
        0: {"wrong": True, "score": None},
        1: {"wrong": False, "score": 0.25},
        5: {"wrong": True, "score": None},
    }


def test_retrain_with_review_launches_a_run_on_the_reviewed_silver(store):
    from augsbert_core.jobs import cancel

    run_id = seed_run(store)
    record = store.get(run_id)
    reviewed = runinfo.apply_review(
        runinfo.load_silver(record.dir), {0: {"wrong": True, "score": None}, 1: {"wrong": False, "score": 0.25}}
    )
    new_id = scenario.retrain_with_review(record, reviewed)
    cancel(store, new_id)  # the launched worker stops before training; the config is what matters here
    new = store.get(new_id)
    cfg = json.loads((Path(new.dir) / "config.json").read_text())
    assert cfg["name"].endswith("-reviewed") and cfg["silver_file"].endswith("silver.reviewed.csv")
    used = pd.read_csv(cfg["silver_file"])
    assert len(used) == 39  # the pair marked wrong is left out
    assert used.loc[used["sentence1"] == "a dog runs number 1", "label"].item() == 0.25  # corrected score
    deadline = time.time() + 120
    while store.get(new_id).status in ("queued", "running") and time.time() < deadline:
        time.sleep(0.5)
    assert store.get(new_id).status == "cancelled"


def test_silver_export_is_spreadsheet_safe(store):
    run_id = seed_run(store)
    silver = runinfo.load_silver(store.get(run_id).dir)
    reviewed = runinfo.apply_review(silver, {0: {"wrong": True, "score": None}})
    assert not reviewed.loc[0, "used"] and reviewed["used"].sum() == 39
    from augsbert_core.io.data import safe_for_spreadsheet

    assert safe_for_spreadsheet(reviewed).loc[0, "sentence2"].startswith("'=")


def add_teacher_choices(run_dir: str | Path, *, used: bool = True) -> None:
    """ensemble.json, teacher_search.json and a teacher seed_search.json as the core writes them."""
    run_dir = Path(run_dir)
    report = {
        "metric": "spearman",
        "weight": 0.6,
        "dev": 0.874,
        "dev_crossfit": 0.861,
        "cross_encoder_crossfit": 0.842,
        "bi_encoder_crossfit": 0.803,
        "beats_members": used,
        "used": used,
    }
    (run_dir / "ensemble.json").write_text(
        json.dumps(
            {
                "weight": 0.6,
                "ce_mean": 0.5,
                "ce_std": 0.2,
                "bi_mean": 0.6,
                "bi_std": 0.15,
                "slope": 0.2,
                "intercept": 0.5,
                "report": report,
            }
        )
    )
    gate = json.loads((run_dir / "gate.json").read_text())
    gate.update({"teacher_kind": "ensemble" if used else "cross_encoder", "cross_encoder": 0.85})
    (run_dir / "gate.json").write_text(json.dumps(gate))
    (run_dir / "teacher_search.json").write_text(
        json.dumps(
            {
                "trials": [
                    {
                        "epochs": 1.0,
                        "learning_rate": 2e-5,
                        "status": "done",
                        "dev": 0.81,
                        "seconds": 40.0,
                        "chosen": False,
                    },
                    {
                        "epochs": 2.0,
                        "learning_rate": 5e-5,
                        "status": "done",
                        "dev": 0.85,
                        "seconds": 80.0,
                        "chosen": True,
                    },
                    {"epochs": 4.0, "learning_rate": 5e-5, "status": "skipped: over the time budget"},
                ]
            }
        )
    )
    (run_dir / "models" / "teacher").mkdir(parents=True, exist_ok=True)
    (run_dir / "models" / "teacher" / "seed_search.json").write_text(
        json.dumps(
            {
                "trials": [{"seed": 42, "steps": 5, "dev": 0.80}, {"seed": 43, "steps": 5, "dev": 0.83}],
                "chosen_seed": 43,
                "fraction": 0.25,
            }
        )
    )


@pytest.mark.parametrize("page", ["training", "silver", "compare"])
def test_gate_display_shows_the_ensemble_decision_and_teacher_trials(store, page):
    run_id = seed_run(store)
    add_teacher_choices(store.get(run_id).dir)
    at = app(page)
    assert not at.exception, [e.value for e in at.exception]
    text = texts(at)
    assert "Teacher-readiness gate: ready (ensemble teacher)" in text
    info = next(i.value for i in at.info if "Teacher ensemble" in i.value)
    assert "weight 0.6 on the cross-encoder, 0.4 on the gold-only bi-encoder" in info
    assert "ensemble **86.1** vs cross-encoder 84.2 and gold-only bi-encoder 80.3" in info
    assert "beats both members" in info and "It labeled the silver pairs" in info
    tables = {tuple(d.value.columns): d.value for d in at.dataframe}
    search = next(t for cols, t in tables.items() if "learning rate" in cols)
    assert list(search["epochs"]) == [1.0, 2.0, 4.0] and list(search["chosen"]) == [False, True, False]
    assert "3 trials (1 skipped: over the time budget); chosen on dev: 2 epochs, learning rate 5e-05" in text
    seeds = next(t for cols, t in tables.items() if "seed" in cols)
    assert list(seeds["seed"]) == [42, 43] and list(seeds["chosen"]) == [False, True]
    assert set(seeds["model"]) == {"Teacher"} and "Teacher: seed 43 of 2 finished" in text


def test_gate_display_when_the_ensemble_did_not_label(store):
    run_id = seed_run(store)
    add_teacher_choices(store.get(run_id).dir, used=False)
    at = app("training")
    info = next(i.value for i in at.info if "Teacher ensemble" in i.value)
    assert "does not beat both members" in info and "The cross-encoder alone labeled the silver pairs" in info
    assert "(ensemble teacher)" not in texts(at)


def test_gate_display_without_teacher_files_adds_nothing(store):
    seed_run(store)
    at = app("training")
    assert not any("Teacher ensemble" in i.value for i in at.info)
    assert not any("learning rate" in d.value.columns for d in at.dataframe)


def test_silver_page_shows_ks_of_all_and_kept_pairs_by_the_histogram(store):
    run_id = seed_run(store)
    run_dir = Path(store.get(run_id).dir)
    (run_dir / "silver_summary.json").write_text(
        json.dumps({"candidates": 40, "kept": 40, "ks_all_vs_gold": 0.34, "ks_kept_vs_gold": 0.12})
    )
    at = app("silver")
    assert "KS to gold: all candidates 0.34 · kept pairs 0.12" in texts(at)
    hist = json.loads(plotly_charts(at)[0].proto.spec)
    assert any("all candidates 0.34" in a["text"] for a in hist["layout"].get("annotations", []))
    assert any(t["name"].startswith("gold") for t in hist["data"])  # gold overlaid on the silver series
    # an older run without the numbers: computed from its silver and gold labels
    (run_dir / "silver_summary.json").write_text(json.dumps({"candidates": 40, "kept": 40}))
    from augsbert_core.io.data import load_pairs
    from augsbert_core.sampling import distribution_distance

    silver = runinfo.load_silver(run_dir)
    gold = load_pairs(ROOT / "demo" / "stsb" / "train.csv", scale=(0, 5)).frame["label"]  # as the run saw it
    expected = distribution_distance(silver["label"], gold)
    assert expected > 0
    at = app("silver")
    assert f"KS to gold: all candidates {expected:.2f} · kept pairs {expected:.2f}" in texts(at)


# ---------------------------------------------------------------------------------------------- compare page
def test_compare_page_from_a_seeded_run_store(store):
    a = seed_run(store, "bm25-run", sampler="bm25")
    b = seed_run(store, "semantic-run", sampler="semantic", offset=1.0)
    seed_run(store, "broken", status="failed", error="DataError: x", with_files=False)
    at = app("compare")
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert set(table["id"]) >= {a, b} and len(table) == 3
    assert {"AugSBERT (test spearman)", "Teacher (test spearman)"} <= set(table.columns)
    charts = plotly_charts(at)
    assert len(charts) >= 3  # grouped bars, scatter, distributions
    bars = json.loads(charts[0].proto.spec)
    names = [t["name"] for t in bars["data"]]
    assert names[0] == "Zero-shot" and names[1] == "Gold-only" and "Teacher" in names
    assert sum(n.startswith("AugSBERT") for n in names) == 2
    assert "Test pairs where the teacher" in texts(at)


def test_compare_page_lists_and_plots_the_ensemble_teacher(store):
    plain = seed_run(store, "plain-run")
    at = app("compare")
    assert not at.exception, [e.value for e in at.exception]
    assert not any("ensemble" in c.lower() for c in at.dataframe[0].value.columns)  # absent: no column
    assert "ensemble" not in at.radio(key="cmp_scatter_model").options
    with_ens = seed_run(store, "ens-run", offset=1.0)
    run_dir = Path(store.get(with_ens).dir)
    add_teacher_choices(run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics["ensemble"] = {"dev": {"spearman": 0.874, "pearson": 0.86}, "test": {"spearman": 0.866, "pearson": 0.85}}
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    preds = pd.read_csv(run_dir / "predictions.csv")
    preds["ensemble"] = (preds["gold"] * 0.9 + 0.05).round(3)
    preds.to_csv(run_dir / "predictions.csv", index=False)
    at = app("compare")
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value.set_index("id")
    assert table.loc[with_ens, "Teacher ensemble (test spearman)"] == 86.6
    assert pd.isna(table.loc[plain, "Teacher ensemble (test spearman)"])
    bars = json.loads(plotly_charts(at)[0].proto.spec)
    ens = [t for t in bars["data"] if t["name"].startswith("Teacher ensemble")]
    # dev: the cross-fitted 86.1 of ensemble.json (the gate's number), not the in-sample 87.4 of metrics.json
    assert len(ens) == 1 and ens[0]["text"] == ["86.1", "86.6"] and list(ens[0]["x"]) == ["dev", "test"]
    assert sum(t["name"].startswith("Teacher") and "ensemble" not in t["name"] for t in bars["data"]) == 1
    # the detail of the ensemble run: scatter of its scores, metrics row, and the disagreement uses the
    # teacher that labeled (the ensemble)
    at.selectbox(key="cmp_detail").set_value(with_ens).run()
    radio = at.radio(key="cmp_scatter_model")
    assert "Teacher ensemble" in radio.options
    radio.set_value("ensemble").run()
    assert not at.exception, [e.value for e in at.exception]
    scatter = json.loads(plotly_charts(at)[1].proto.spec)
    assert scatter["data"][0]["name"] == "Teacher ensemble"
    assert "Test pairs where the teacher ensemble and the AugSBERT student disagree most." in texts(at)
    wide = next(d.value for d in at.dataframe if "test.spearman" in d.value.columns)
    assert wide.loc["Teacher ensemble", "test.spearman"] == 86.6


def test_comparison_rows_with_and_without_an_ensemble(store):
    a = store.get(seed_run(store, "a"))
    b = store.get(seed_run(store, "b", offset=1.0))
    metrics = {a.id: runinfo.metrics(a.dir), b.id: runinfo.metrics(b.dir)}
    rows = runinfo.comparison_rows([a, b], metrics, "spearman")
    assert "Teacher ensemble" not in set(rows["series"]) and list(rows["split"].unique()) == ["dev", "test"]
    metrics[b.id]["ensemble"] = {"test": {"spearman": 0.9}}
    rows = runinfo.comparison_rows([a, b], metrics, "spearman")
    assert rows.loc[rows["series"] == "Teacher ensemble", "value"].tolist() == [0.9]
    assert runinfo.comparison_rows([a], metrics, "ap").empty  # no such metric: an empty frame, no error
    assert runinfo.table_models(metrics)[-1] == "ensemble"


def test_compare_page_without_runs():
    at = app("compare")
    assert "No runs yet" in texts(at)


def test_progress_summary_from_events():
    events = [
        {"stage": "setup", "step": 0, "total": 0, "time": 0.0, "message": "device"},
        {"stage": "teacher.train", "step": 1, "total": 11, "loss": 2.0, "message": "log", "time": 10.0},
        {"stage": "teacher.train", "step": 6, "total": 11, "loss": 1.0, "message": "log", "time": 20.0},
    ]
    prog = runinfo.progress(events)
    assert prog.step_current == "teacher" and prog.step == 6 and prog.total == 11
    assert prog.stage_eta == pytest.approx(10.0)
    assert "setup" in prog.steps_done and list(prog.loss["loss"]) == [2.0, 1.0]


# ------------------------------------------------------------------------------------------ a real tiny job
@pytest.mark.slow
def test_tiny_scenario2_job_end_to_end(store):
    """Demo -> scenario 2 with BM25 -> launch -> the worker finishes -> every page shows the result."""
    workspace.load_demo("stsb-quick")
    at = app("scenario")
    at.number_input(key="sc_teacher_epochs").set_value(1.0).run()
    at.number_input(key="sc_student_max").set_value(2).run()  # the students stop on dev within 2 epochs
    at.number_input(key="sc_live_evals").set_value(1).run()
    at.button(key="sc_launch").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Training"
    run_id = at.session_state["run_id"]
    deadline = time.time() + 900
    while store.get(run_id).status in ("queued", "running") and time.time() < deadline:
        time.sleep(3)
    record = store.get(run_id)
    assert record.status == "finished", (record.error, runinfo.read_log(record.dir))
    training = app("training")
    assert {"Zero-shot", "Gold-only", "AugSBERT", "Teacher"} <= {m.label for m in training.metric}
    silver = app("silver")
    assert len(plotly_charts(silver)) == 2
    compare = app("compare")
    assert not compare.exception
    assert len(plotly_charts(compare)) >= 1


def test_the_app_offers_exactly_the_core_s_choices_with_help_for_each():
    """Choices are defined once (augsbert_core.config); the Scenario page's option lists are those tuples and
    every help dictionary has a line for exactly those values."""
    from augsbert_core import config as core_config

    pairs = [
        (words.SAMPLER_HELP, core_config.SAMPLERS),
        (words.AUGMENTERS, core_config.AUGMENT_METHODS),
        (words.WARM_START_HELP, core_config.WARM_START_MODES),
        (words.LABELER_HELP, core_config.LABELERS),
        (words.CANDIDATES_HELP, core_config.CANDIDATE_SOURCES),
        (words.ENSEMBLE_HELP, core_config.ENSEMBLE_MODES),
        (scenario.SCENARIOS, core_config.SCENARIOS),
    ]
    for help_dict, choices in pairs:
        assert set(help_dict) == set(choices), (sorted(help_dict), choices)
    assert scenario.SAMPLERS == core_config.SAMPLERS and scenario.LABELERS == core_config.LABELERS
    for value in (*core_config.SAMPLERS, *core_config.AUGMENT_METHODS):
        assert isinstance(value, str) and value in words.SAMPLER_HELP | words.AUGMENTERS


def test_training_page_says_when_a_run_samples_and_labels_on_ray(store):
    run_id = seed_run(store, status="running", pid=os.getpid())
    at = app("training")
    assert "on Ray" not in texts(at)
    run = store.run(run_id)
    run.write_json("config.json", {**run.config(), "engine": "ray"})
    at.run()
    assert "sampling and labeling on Ray" in texts(at)


def test_silver_page_shows_the_0_1_silver_label_of_a_classification_run(store):
    """Beside the teacher score, a classification run's table shows the thresholded label the student learns."""
    run_id = seed_run(store)
    run = store.run(run_id)
    silver = pd.read_csv(run.path("silver.csv"))
    silver["label"] = (silver["score"] >= 0.5).astype(int)
    silver.to_csv(run.path("silver.csv"), index=False)
    store.update(run_id, task="classification")
    at = app("silver")
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "wrong" in d.value.columns)  # the review table
    assert "label" in table.columns and set(table["label"]) == {0, 1}
    store.update(run_id, task="regression")
    at = app("silver")
    table = next(d.value for d in at.dataframe if "wrong" in d.value.columns)
    assert not at.exception and "label" not in table.columns


def test_silver_page_reads_a_long_pair_in_full(store):
    """Issue 26, item 7: the table cuts long sentences; the pair can be read in full below it."""
    run_id = seed_run(store)
    run = store.run(run_id)
    silver = pd.read_csv(run.path("silver.csv"))
    long = "A sentence far longer than the table's column, " * 8 + "ending here."
    silver.loc[0, "sentence1"] = long
    silver.to_csv(run.path("silver.csv"), index=False)
    at = app("silver")
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key=f"sv_full_{run_id}").set_value(1).run()
    shown = [m.value.replace("\\", "") for m in at.markdown]
    assert f"**Sentence 1** · {long}" in shown
