"""Demo-ready pages (a new user's first hour): the Training page's cards, curves, steps and time; the Silver page's
review, counters, save message and exports; the Compare page's charts, colours, units and tables; metric names
in words with one precision; no `pages/` folder (deep links) and a page icon served by the app itself.

Fast: seeded run stores and AppTest (one test starts a real worker and cancels it at once).
Run: HF_HUB_OFFLINE=1 python -m pytest tests/test_pages_demo.py -q"""

from __future__ import annotations

import base64
import colorsys
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")
pytest.importorskip("plotly")

from augsbert_core.jobs import cancel  # noqa: E402
from augsbert_core.runs import RunStore  # noqa: E402
from studio import charts, pages, runinfo, workspace  # noqa: E402
from studio.metric_format import metric_delta, metric_label, metric_number, metric_value  # noqa: E402

from .test_app import (  # noqa: E402, F401 - home: the autouse fresh-workspace fixture
    ROOT,
    add_teacher_choices,
    app,
    home,
    plotly_charts,
    seed_run,
    texts,
)


@pytest.fixture
def store(home) -> RunStore:  # noqa: F811 - the fixture argument, not a redefinition
    return workspace.store()


def _result_cards(at) -> dict[str, object]:
    """The Results metric cards by label (after the four progress metrics)."""
    return {m.label: m for m in at.metric[4:]}


def _with_ensemble(store: RunStore, used: bool) -> Path:
    """A finished run whose teacher ensemble was fitted (metrics.json has it) and used or not."""
    run_dir = Path(store.get(seed_run(store)).dir)
    add_teacher_choices(run_dir, used=used)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics["ensemble"] = {"dev": {"spearman": 0.874, "pearson": 0.86}, "test": {"spearman": 0.866, "pearson": 0.85}}
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    return run_dir


def _array(values) -> np.ndarray:
    """A Plotly array from a chart's JSON: a list, or a typed array ({'dtype': 'f8', 'bdata': base64})."""
    if isinstance(values, dict) and "bdata" in values:
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values)


def _hue(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 360 * colorsys.rgb_to_hls(r, g, b)[0]


# ------------------------------------------------------------------------------------------------ metric words
def test_metric_labels_read_as_words_with_one_precision():
    assert metric_label("spearman", "test") == "test Spearman"
    assert metric_label("ap", "dev") == "dev average precision"
    assert metric_label("ap", title=True) == "Average precision"
    assert metric_label("eval_dev_spearman_cosine") == "Spearman"  # a trainer key, by the metric it names
    assert (metric_value(0.81234), metric_value(None), metric_value(float("nan"))) == ("81.2", "–", "–")
    assert metric_value(0.51234, "threshold") == "0.512" and metric_number(0.8666) == 86.7
    assert metric_delta(0.031) == "+3.1" and metric_delta(-0.004) == "-0.4"
    assert runinfo.metric_column_label("AugSBERT (test spearman)") == "AugSBERT · test Spearman"
    assert runinfo.metric_column_label("AugSBERT (test spearman)", with_metric=False) == "AugSBERT"


def test_pages_name_metrics_in_words(store):
    run_id = seed_run(store)
    training = app("training")
    assert not training.exception, [e.value for e in training.exception]
    assert "**Results** · test Spearman (×100)" in texts(training)
    assert _result_cards(training)["AugSBERT"].value == "79.0"  # 0.79: ×100, one decimal
    compare = app("compare")
    assert not compare.exception, [e.value for e in compare.exception]
    runs = compare.dataframe[0]
    columns = json.loads(runs.proto.columns)
    assert columns["AugSBERT (test spearman)"]["label"] == "AugSBERT"  # the metric named once, above the table
    assert columns["AugSBERT (test spearman)"]["help"] == "AugSBERT · test Spearman ×100"
    assert "Model columns: test Spearman ×100." in texts(compare)
    assert runs.value.set_index("id").loc[run_id, "AugSBERT (test spearman)"] == 79.0
    # every metric of one run: a table per split, headers in words
    tables = [d for d in compare.dataframe if any("." in str(c) for c in d.value.columns)]
    assert [sorted(d.value.columns) for d in tables] == [
        ["test.pearson", "test.spearman"],
        ["dev.pearson", "dev.spearman"],
    ]
    labels = {c["label"] for d in tables for c in json.loads(d.proto.columns).values() if "label" in c}
    assert {"test Spearman", "dev Pearson"} <= labels


# ------------------------------------------------------------------------------------------------ training page
def test_an_ensemble_that_did_not_label_is_no_result_card(store):
    run_dir = _with_ensemble(store, used=False)
    at = app("training")
    assert not at.exception, [e.value for e in at.exception]
    cards = _result_cards(at)
    assert "Teacher ensemble" not in cards and "Teacher" in cards
    assert "The cross-encoder alone labeled the silver pairs" in texts(at)
    record = store.get(run_dir.name)
    rows = runinfo.comparison_rows([record], {record.id: runinfo.metrics(run_dir)}, "spearman")
    assert "Teacher ensemble · not used" in set(rows["series"])  # the Compare chart says so


def test_an_ensemble_that_labeled_is_a_result_card_with_the_gate_s_dev_number(store):
    run_dir = _with_ensemble(store, used=True)
    at = app("training")
    assert not at.exception, [e.value for e in at.exception]
    cards = _result_cards(at)
    assert cards["Teacher ensemble"].value == "86.6"  # test
    # one dev number for the labeling teacher: gate line, ensemble card and result card all say 86.1 (cross-fitted),
    # never the in-sample 87.4 of metrics.json
    page = texts(at)
    assert "Labeling teacher on dev: **Teacher ensemble 86.1** (dev Spearman, cross-fitted" in page
    assert "ensemble **86.1** vs cross-encoder 84.2" in page
    assert "87.4" not in page
    assert cards["Teacher ensemble"].proto.help.startswith("dev Spearman 86.1 (cross-fitted")
    assert "It labeled the silver pairs." in cards["Teacher ensemble"].proto.help
    # the cross-encoder's dev number, where the ensemble card gives its cross-fitted one, is named as such
    assert "on all of dev the cross-encoder scores 85.0" in page
    assert cards["Teacher"].proto.help.startswith("dev Spearman 85.0 ·")
    # the gate judged the cross-encoder; the labeler probe, after the gate, chose the ensemble: both say so
    gate = json.loads((run_dir / "gate.json").read_text())
    gate.update(teacher_kind="cross_encoder", labeler="ensemble")
    (run_dir / "gate.json").write_text(json.dumps(gate))
    page = texts(app("training"))
    assert "Teacher-readiness gate: ready (judged on the cross-encoder)." in page
    assert "the gate judged the cross-encoder, then the labeler probe chose the ensemble" in page


def test_the_cross_encoder_s_dev_number_is_the_same_on_the_gate_line_and_its_card(store):
    run_dir = _with_ensemble(store, used=False)
    at = app("training")
    page = texts(at)
    assert "Labeling teacher on dev: **Teacher (cross-encoder) 85.0** (dev Spearman, all of dev)." in page
    teacher = _result_cards(at)["Teacher"].proto.help
    assert teacher.startswith("dev Spearman 85.0 (all of dev) · test Spearman 83.0.") and "It labeled" in teacher
    # the gate judged the ensemble, then the labeler probe chose the cross-encoder alone (gate.json `labeler`)
    gate = json.loads((run_dir / "gate.json").read_text())
    gate.update(teacher_kind="ensemble", labeler="cross_encoder")
    (run_dir / "gate.json").write_text(json.dumps(gate))
    page = texts(app("training"))
    assert "Teacher-readiness gate: ready (judged on the teacher ensemble)." in page
    assert "(ensemble teacher)" not in page
    assert "the gate judged the teacher ensemble, then the labeler probe chose the cross-encoder alone" in page
    # and the other way round: the gate judged the cross-encoder, the probe chose the ensemble
    assert runinfo.gate_teacher_note({"teacher_kind": "cross_encoder", "labeler": "ensemble"}) == (
        " (judged on the cross-encoder)"
    )
    assert runinfo.gate_teacher_note({"teacher_kind": "ensemble"}) == " (ensemble teacher)"
    assert runinfo.gate_teacher_note({"teacher_kind": "cross_encoder"}) == ""


def test_loss_curves_get_a_panel_per_model(store):
    run = store.run(seed_run(store))
    t = time.time()
    for i in range(1, 6):  # a student whose loss is 50x smaller than the teacher's
        run.event({"stage": "augsbert.train", "step": i, "total": 5, "loss": 0.02 / i, "message": "log", "time": t})
    at = app("training")
    assert not at.exception, [e.value for e in at.exception]
    loss = next(json.loads(c.proto.spec) for c in plotly_charts(at) if "Training loss" in c.proto.spec)
    axes = [t.get("yaxis", "y") for t in loss["data"]]
    assert len(loss["data"]) == 2 and len(set(axes)) == 2  # teacher and student, each on its own y axis
    assert "yaxis2" in loss["layout"] and not loss["layout"]["yaxis2"].get("matches")
    frame = pd.DataFrame({"stage": ["teacher.train", "gold_only.train"], "step": [1, 1], "loss": [5.0, 0.1]})
    fig = charts.loss_panels(frame)
    assert [a.text for a in fig.layout.annotations] == ["teacher", "gold-only student"]


def _events(*stages_times: tuple[str, float]) -> list[dict]:
    return [{"stage": s, "step": 0, "total": 0, "message": s, "time": t} for s, t in stages_times]


def test_elapsed_time_counts_every_attempt():
    first = _events(("setup", 0.0), ("setup", 1.0), ("data", 2.0), ("teacher.train", 100.0))  # 100 s, stopped
    second = _events(("setup", 500.0), ("data", 510.0), ("augsbert.train", 560.0))  # resumed 400 s later: 60 s
    assert [len(a) for a in runinfo.attempts(first + second)] == [4, 3]
    assert runinfo.elapsed(first + second) == pytest.approx(160.0)


def test_compare_duration_counts_every_attempt_of_a_resumed_run(store):
    run = store.run(seed_run(store, "resumed", with_files=False))
    t0 = time.time() - 5000
    first = _events(("setup", t0), ("data", t0 + 10), ("teacher.train", t0 + 120))  # 120 s, then stopped
    second = _events(("setup", t0 + 4000), ("augsbert.train", t0 + 4050))  # resumed an hour later: 60 s to the end
    for event in first + second:
        run.event(event)
    store.update(run.id, started_at=t0 + 4000, finished_at=t0 + 4060)
    record = store.get(run.id)
    table = runinfo.runs_table([record], {record.id: {}}, {record.id: None})
    assert table.loc[0, "duration"] == "3.0 min"  # 120 s + 60 s; not 1.0 min (the last attempt), not 68 min


def test_training_page_elapsed_over_attempts_and_resumed_steps_at_once(store):
    run = store.run(seed_run(store, "resumable", status="cancelled", with_files=False))
    t0 = time.time() - 1000
    for i, stage in enumerate(["setup", "data", "eval.zero_shot", "gold_only.train", "sample", "teacher.train"]):
        run.event({"stage": stage, "step": 1, "total": 0, "message": stage, "time": t0 + 20 * i})  # 100 s
    run.write_json("state.json", {"done": ["zero_shot", "gold_only", "candidates"]})
    store.update(run.id, started_at=t0, finished_at=t0 + 100)
    at = app("training")
    assert not at.exception, [e.value for e in at.exception]
    assert {m.label: m.value for m in at.metric}["Elapsed"] == "1:40"
    at.button(key=f"resume_{run.id}").click().run()
    try:
        assert not at.exception, [e.value for e in at.exception]
        assert store.get(run.id).status in ("queued", "running")
        # finished steps (state.json) are ticked at once, before the new attempt reports anything
        steps = {m.value.split(":small[")[1].rstrip("]"): m.value for m in at.markdown if ":small[" in m.value}
        for title in ("Zero-shot baseline", "Gold-only student", "Candidate pairs"):
            assert "check_circle" in steps[title], steps
        assert "check_circle" not in steps["Teacher + readiness gate"]
        assert {m.label: m.value for m in at.metric}["Steps done"].startswith("4 /")  # + setup, seen in attempt 1
        # time stopped between the attempts does not count (about 900 s here)
        elapsed = {m.label: m.value for m in at.metric}["Elapsed"]
        minutes, seconds = (int(x) for x in elapsed.split(":"))
        assert 100 <= 60 * minutes + seconds < 300, elapsed
    finally:
        cancel(store, run.id)  # stop the worker before it trains anything
        deadline = time.time() + 120
        while store.get(run.id).status in ("queued", "running") and time.time() < deadline:
            time.sleep(0.5)
    assert store.get(run.id).status not in ("queued", "running")


# -------------------------------------------------------------------------------------------------- silver page
def test_a_pair_marked_wrong_is_not_kept_and_the_counters_follow(store):
    run_id = seed_run(store)
    at = app("silver")
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Kept for training"], metrics["Marked wrong"]) == ("40", "0")
    runinfo.save_review(store.get(run_id).dir, {7: {"wrong": True, "score": None}})
    at = app("silver")
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Kept for training"], metrics["Marked wrong"]) == ("39", "1")
    editor = next(d.value for d in at.dataframe if "wrong" in d.value.columns).set_index("row")
    # silver row 7 (0-based in review.json) is shown as row 8: 1-based, as in silver.csv and on the Data page
    assert not editor.loc[8, "kept"] and editor.loc[8, "wrong"] and editor["kept"].sum() == 39
    at.selectbox(key="sv_show").set_value("kept").run()
    assert "39 of 40 pairs match" in texts(at)


def test_unsaved_ticks_count_before_saving():
    review = {7: {"wrong": True, "score": None}}
    rows = [3, 7, 9]  # the page's positions 0, 1, 2
    edits = {"0": {"wrong": True}, 1: {"wrong": False, "corrected_score": 0.4}, 2: {"corrected_score": 1.7}, 5: {}}
    assert runinfo.pending_review(review, rows, edits) == {
        3: {"wrong": True, "score": None},
        7: {"wrong": False, "score": 0.4},
        9: {"wrong": False, "score": 1.0},  # clipped to the 0-1 scale of silver scores
    }
    assert runinfo.pending_review(review, rows, {}) == review


def test_corrected_scores_are_typed_on_the_dataset_scale_and_stored_on_0_1():
    rows = [3, 7]
    edits = {0: {"corrected_score": 4.0}, 1: {"corrected_score": 9.0}}
    assert runinfo.pending_review({}, rows, edits, (1.0, 5.0)) == {
        3: {"wrong": False, "score": 0.75},  # 4 on 1-5
        7: {"wrong": False, "score": 1.0},  # above 5: clipped
    }
    edited = pd.DataFrame({"row": [3, 7], "wrong": [False, True], "corrected_score": [2.0, np.nan]})
    assert runinfo.merge_review({}, edited, (1.0, 5.0)) == {
        3: {"wrong": False, "score": 0.25},
        7: {"wrong": True, "score": None},
    }
    reviewed = runinfo.apply_review(
        pd.DataFrame({"sentence1": ["a"], "sentence2": ["b"], "score": [0.5], "kept": [True], "sampler": ["bm25"]}),
        {0: {"wrong": False, "score": 0.25}},
    )
    out = runinfo.silver_export(reviewed, (1.0, 5.0)).iloc[0]
    assert (out["score"], out["score_on_scale"], out["review_score"], out["review_score_on_scale"]) == (
        0.5,
        3.0,
        0.25,
        2.0,
    )


def test_silver_page_shows_and_takes_scores_on_the_dataset_scale(store):
    run_id = seed_run(store)  # a dataset scored 0-5
    silver = runinfo.load_silver(store.get(run_id).dir)
    at = app("silver")
    assert not at.exception, [e.value for e in at.exception]
    slider = at.slider[0]
    assert slider.label == "Score range (0–5)" and tuple(slider.value) == (0.0, 5.0)
    editor = next(d for d in at.dataframe if "wrong" in d.value.columns)
    shown = editor.value.set_index("row")["score"]
    assert shown.max() > 1.0 and np.allclose(shown.loc[1], 5 * silver["score"].iloc[0])
    hist = json.loads(plotly_charts(at)[0].proto.spec)
    assert hist["layout"]["xaxis"]["range"] == [0.0, 5.0] and "0–5" in hist["layout"]["xaxis"]["title"]["text"]
    # the score range filter is on 0-5 too: 2.5-5 keeps the pairs the teacher scored at least 0.5
    slider.set_value((2.5, 5.0)).run()
    assert f"{int((silver['score'] >= 0.5 - 1e-9).sum())} of 40 pairs match" in texts(at)


def test_an_unsaved_tick_counts_at_once_and_the_table_keeps_the_saved_review(store):
    run_id = seed_run(store)
    at = app("silver")
    shown = runinfo.load_silver(store.get(run_id).dir)
    shown = shown.sort_values("score", ascending=False, kind="stable")  # the table's default order
    key = runinfo.review_editor_key(run_id, shown["row"].tolist())
    at.session_state[key] = {"edited_rows": {2: {"wrong": True}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert {m.label: m.value for m in at.metric}["Kept for training"] == "39"
    assert "the table's **kept** column follows once saved" in texts(at)
    # the editor's data stays the saved review: data that changed with the tick would make the browser drop it
    editor = next(d.value for d in at.dataframe if "wrong" in d.value.columns)
    assert editor["kept"].all() and not editor["wrong"].any()


def test_saving_the_review_says_it_was_saved(store):
    run_id = seed_run(store)
    at = app("silver")
    at.button(key="sv_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Review saved" in s.value for s in at.success), [s.value for s in at.success]
    assert any("Review saved" in t.proto.body for t in at.toast)
    assert (Path(store.get(run_id).dir) / "review.json").is_file()
    at.run()  # the note is shown once
    assert not any("Review saved" in s.value for s in at.success)


def test_export_offers_what_the_filters_show_and_all_pairs(store):
    run_id = seed_run(store)
    at = app("silver")
    review = [  # the team-review files (Label Studio, Argilla) follow the two CSV exports; filters do not apply
        "Label Studio tasks (.json)",
        "Label Studio labeling config (.xml)",
        "Argilla tasks (.json)",
        "Argilla labeling config (.settings.json)",
    ]
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Export what the filters show (40)", "Export all pairs (40)", *review]
    at.text_input(key="sv_query").input("sleeps 7").run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Export what the filters show (1)", "Export all pairs (40)", *review]
    reviewed = runinfo.apply_review(runinfo.load_silver(store.get(run_id).dir), {7: {"wrong": True, "score": None}})
    out = runinfo.silver_export(reviewed)
    assert "row" not in out and {"review_wrong", "review_score", "used"} <= set(out.columns)
    assert not out.loc[7, "used"] and out["used"].sum() == 39


# ------------------------------------------------------------------------------------------------- compare page
def test_bar_chart_starts_at_zero(store):
    seed_run(store)
    at = app("compare")
    bars = json.loads(plotly_charts(at)[0].proto.spec)
    assert bars["layout"]["yaxis"]["range"][0] == 0 and bars["layout"]["yaxis"]["rangemode"] == "tozero"
    rows = pd.DataFrame({"series": ["a", "b"], "split": ["test", "test"], "value": [0.81, 0.84], "color": "#000000"})
    assert charts.comparison_bars(rows, "Spearman").layout.yaxis.range[0] == 0  # scores in the 80s: still from 0


def test_runs_get_distinct_colours_and_patterns(store):
    records = [store.get(seed_run(store, f"run-{i}", offset=float(i))) for i in range(5)]
    metrics = {r.id: runinfo.metrics(r.dir) for r in records}
    for r in records[1:]:  # teachers that differ: one bar each, told apart by pattern
        metrics[r.id]["teacher"]["test"]["spearman"] += 0.01 * records.index(r)
    rows = runinfo.comparison_rows(records, metrics, "spearman")
    runs = rows[rows["series"].str.startswith("AugSBERT")].drop_duplicates("series")
    colors = list(runs["color"])
    assert len(set(colors)) == 5
    hues = [_hue(c) for c in colors]
    gaps = [min(abs(a - b), 360 - abs(a - b)) for i, a in enumerate(hues) for b in hues[i + 1 :]]
    assert min(gaps) >= 30, (colors, gaps)  # distinct hues, not shades of one colour
    assert len(set(runs["pattern"])) == 5
    teachers = rows[rows["series"].str.startswith("Teacher (")].drop_duplicates("series")
    assert len(teachers) == 5 and len(set(teachers["pattern"])) == 5
    fig = charts.comparison_bars(rows, "Spearman")
    shapes = {t.name: t.marker.pattern.shape for t in fig.data if t.name.startswith("AugSBERT")}
    assert len(set(shapes.values())) == 5


def test_gold_is_on_the_dataset_s_scale_in_the_scatter_and_tables(store):
    run_dir = Path(store.get(seed_run(store)).dir)  # config.json data.scale [0, 5]
    preds = runinfo.load_predictions(run_dir)
    assert runinfo.gold_scale(run_dir) == (0.0, 5.0)
    at = app("compare")
    assert not at.exception, [e.value for e in at.exception]
    scatter = json.loads(plotly_charts(at)[1].proto.spec)
    assert scatter["layout"]["xaxis"]["title"]["text"] == "gold score (0–5)"
    assert _array(scatter["data"][0]["x"]).max() == pytest.approx(5 * preds["gold"].max())
    table = next(d.value for d in at.dataframe if "difference" in d.value.columns)
    assert "gold (0–5)" in table.columns and "gold" not in table.columns
    merged = table.merge(preds, on=["sentence1", "sentence2"])
    assert (merged["gold (0–5)"] - 5 * merged["gold"]).abs().max() < 1e-9
    violins = json.loads(plotly_charts(at)[2].proto.spec)
    assert violins["layout"]["yaxis"]["range"][1] > 5 and "0–5" in violins["layout"]["yaxis"]["title"]["text"]
    cfg = json.loads((run_dir / "config.json").read_text())
    cfg["task"] = "classification"
    (run_dir / "config.json").write_text(json.dumps(cfg))
    assert runinfo.gold_scale(run_dir) is None  # 0/1 labels: as stored


def test_wide_tables_fit(store):
    seed_run(store)
    at = app("compare")
    runs = json.loads(at.dataframe[0].proto.columns)
    assert runs["run"]["pinned"] is True
    assert all(len(v["label"]) <= 20 for k, v in runs.items() if "(test" in k)  # headers by model, metric above
    assert list(at.dataframe[0].proto.column_order)[:3] == ["run", "status", "recommended"]
    per_split = [d for d in at.dataframe if any("." in str(c) for c in d.value.columns)]
    assert per_split and all(len(d.value.columns) <= 7 for d in per_split)


# ----------------------------------------------------------------------------------------- deep links, offline
def test_no_pages_folder_so_deep_links_open_their_page():
    """A `pages/` folder (even one holding only a README) makes a fresh server's first run a v1 multipage app that
    does not know /compare: the browser shows 'Page not found' (tests/e2e checks it in Chromium)."""
    assert not (ROOT / "pages").exists()


def test_the_page_icon_is_a_local_file():
    """A `:material/...:` page icon is fetched by the browser from Google's font CDN; a file is served locally."""
    assert Path(pages.ICON).is_file() and Path(pages.ICON).suffix == ".png"
    assert "page_icon=pages.ICON" in (ROOT / "app.py").read_text()
