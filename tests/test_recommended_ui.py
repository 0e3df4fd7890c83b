"""The recommended model and the run's steps in the app and the CLI: metrics.json's `recommended` entry
(computed for runs finished before it existed), the step list of the new order (candidates before the teacher, labeling
after the gate), optional and reused steps, and the Scenario page's teacher warm start / labeler / candidates.

Fast: seeded run stores, AppTest, the CLI in-process.
Run: HF_HUB_OFFLINE=1 python -m pytest tests/test_recommended_ui.py"""

from __future__ import annotations

import json
import re
import time
import zipfile
from io import BytesIO
from pathlib import Path

import pytest

pytest.importorskip("streamlit")

from augsbert_core import stages
from augsbert_core.runs import RunStore  # noqa: E402
from studio import runinfo, scenario, workspace  # noqa: E402

from .test_app import ROOT, app, home, seed_run, texts  # noqa: E402, F401 - home: the autouse fresh-workspace fixture


@pytest.fixture
def store(home) -> RunStore:  # noqa: F811 - the fixture argument, not a redefinition
    return workspace.store()


def _metrics(run_dir: Path, **changes) -> dict:
    path = Path(run_dir) / "metrics.json"
    metrics = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            metrics.pop(key, None)
        else:
            metrics[key] = value
    path.write_text(json.dumps(metrics))
    return metrics


def _scores(dev: float, test: float) -> dict:
    return {"dev": {"spearman": dev, "pearson": dev}, "test": {"spearman": test, "pearson": test}}


def _result_labels(at) -> list[str]:
    """Labels of the Results metric cards (after the four progress metrics)."""
    return [m.label for m in at.metric][4:]


# ------------------------------------------------------------------------------------------- recommendation
def test_metrics_readers_skip_the_recommended_entry_and_older_runs_get_one_computed(store):
    run_dir = Path(store.get(seed_run(store)).dir)
    _metrics(run_dir, recommended="augsbert", full_gold=_scores(0.86, 0.84))
    metrics = runinfo.metrics(run_dir)
    assert "recommended" not in metrics and all(isinstance(v, dict) for v in metrics.values())
    assert runinfo.recommendation(run_dir, "regression") == "augsbert"
    assert runinfo.table_models({"r": metrics}) == ["zero_shot", "gold_only", "augsbert", "teacher", "full_gold"]
    # a run finished before runs wrote the key: computed (AugSBERT 0.81 vs gold-only 0.78 on dev)
    _metrics(run_dir, recommended=None)
    assert runinfo.recommendation(run_dir, "regression") == "augsbert"
    # ties go to the baseline; a run with no gold-only student compares with zero-shot
    _metrics(run_dir, augsbert=_scores(0.78, 0.9))
    assert runinfo.recommendation(run_dir, None) == "gold_only"  # task read from config.json
    _metrics(run_dir, gold_only=None)
    assert runinfo.recommendation(run_dir, "regression") == "augsbert"
    assert "zero-shot" in runinfo.recommendation_reason(runinfo.metrics(run_dir))
    assert runinfo.order_recommended(["zero_shot", "gold_only", "augsbert"], "augsbert")[0] == "augsbert"
    # not finished: no metrics.json, no recommendation
    assert runinfo.recommendation(store.get(seed_run(store, "live", status="running")).dir) is None


def test_training_page_shows_the_recommended_model_first_and_offers_it_as_a_zip(store):
    run_id = seed_run(store)
    run_dir = Path(store.get(run_id).dir)
    _metrics(run_dir, recommended="augsbert", full_gold=_scores(0.86, 0.84))
    at = app("training")
    assert not at.exception, [e.value for e in at.exception]
    labels = _result_labels(at)
    assert labels[0] == "AugSBERT" and "Full gold (ceiling)" in labels and "Gold-only" in labels
    shown = re.sub(r"\\(.)", r"\1", texts(at))  # as a person reads it (md_escape's backslashes dropped)
    assert "best on dev among gold-only and the AugSBERT student; ties go to the baseline" in shown
    buttons = at.get("download_button")
    assert [b.label for b in buttons] == ["Download recommended model (AugSBERT)", "Export report"]
    from augsbert_core.report import build_report  # what the Export report button downloads

    assert "AugSBERT" in build_report([run_dir])
    data = runinfo.zip_folder(runinfo.model_download(run_dir, "augsbert").folder, "augsbert")
    assert zipfile.ZipFile(BytesIO(data)).namelist() == ["augsbert/config.json"]


def test_training_page_for_an_older_run_recommends_the_baseline_when_augsbert_is_not_better(store):
    run_dir = Path(store.get(seed_run(store)).dir)
    _metrics(run_dir, recommended=None, gold_only=_scores(0.82, 0.80))  # no key; gold-only beats AugSBERT on dev
    at = app("training")
    assert not at.exception, [e.value for e in at.exception]
    assert _result_labels(at)[0] == "Gold-only"
    # the seeded run saved no gold-only model: only the report to export
    assert [b.label for b in at.get("download_button")] == ["Export report"]
    assert "This run has no saved Gold-only model" in texts(at)


def test_zero_shot_recommended_zips_the_base_model_or_says_what_it_is(store):
    run_dir = Path(store.get(seed_run(store)).dir)
    _metrics(run_dir, recommended="zero_shot")
    target = runinfo.model_download(run_dir, "zero_shot")
    assert "base model" in target.note and "unchanged" in target.note
    if target.folder is not None:  # the offline default is a local folder
        assert (target.folder / "config.json").is_file()
    cfg = json.loads((run_dir / "config.json").read_text())
    cfg["student"] = {"model": "org/some-hub-model"}
    (run_dir / "config.json").write_text(json.dumps(cfg))
    hub = runinfo.model_download(run_dir, "zero_shot")
    assert hub.folder is None and "SentenceTransformer('org/some-hub-model')" in hub.note
    at = app("training")
    assert not at.exception, [e.value for e in at.exception]
    assert _result_labels(at)[0] == "Zero-shot"
    assert "SentenceTransformer('org/some-hub-model')" in texts(at)
    assert [b.label for b in at.get("download_button")] == ["Export report"]  # no model to zip


def test_compare_page_marks_the_recommended_model(store):
    a = seed_run(store, "rec-run")
    _metrics(Path(store.get(a).dir), recommended="augsbert", full_gold=_scores(0.86, 0.84))
    b = seed_run(store, "old-run", offset=1.0)
    _metrics(Path(store.get(b).dir), recommended=None, augsbert=_scores(0.70, 0.70))  # older run: computed
    at = app("compare")
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value.set_index("id")
    assert table.loc[a, "recommended"] == "AugSBERT" and table.loc[b, "recommended"] == "Gold-only"
    assert table.loc[a, "Full gold (ceiling) (test spearman)"] == 84.0
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "Full gold (ceiling)" in [t["name"] for t in bars["data"]]
    at.selectbox(key="cmp_detail").set_value(a).run()
    assert "ties go to the baseline" in texts(at)
    wide = next(d.value for d in at.dataframe if "test.spearman" in d.value.columns)
    assert wide.index[0] == "AugSBERT · recommended"
    assert at.selectbox(key="cmp_model_zip").value == "augsbert"


# -------------------------------------------------------------------------------------------------- steps
def _events(*stages: str, t0: float = 0.0) -> list[dict]:
    return [{"stage": s, "step": 0, "total": 0, "time": t0 + i, "message": s} for i, s in enumerate(stages)]


def test_new_stages_belong_to_their_steps():
    expected = {
        "teacher.warm": "teacher_warm",
        "teacher.other": None,  # stages are data (augsbert_core.stages): no guessing from a name
        "probe": "silver",
        "full_gold.train": "full_gold",
        "eval.full_gold": "full_gold",
        "sample.given": "candidates",
        "sample.chunk": "candidates",
        "sample.other": None,
        "reuse": "setup",
        "label": "silver",
        "augment": "silver",
        "gate": "teacher",
        "nonsense": None,
        None: None,
    }
    assert {s: runinfo.step_of(s) for s in expected} == expected
    for stage in ("teacher.warm", "probe", "sample.given", "reuse", "full_gold.train", "eval.full_gold"):
        assert stages.title(stage) != stage
    assert stages.title("teacher.warm") == "Warm-starting the teacher on the bi-encoder's similarities"
    assert runinfo.MODEL_TITLES["full_gold"] == "Full gold (ceiling)" and "full_gold" not in runinfo.BASE_MODELS


def test_new_order_candidates_before_the_teacher_and_labels_after_the_gate():
    events = _events("setup", "data", "eval.zero_shot", "gold_only.train", "eval.gold_only", "sample", "sample.bm25")
    events.append({"stage": "teacher.warm", "step": 3, "total": 12, "loss": 0.5, "message": "log", "time": 20.0})
    prog = runinfo.progress(events, done=[])
    assert prog.step_current == "teacher_warm" and (prog.step, prog.total) == (3, 12)
    assert prog.stage_title.startswith("Warm-starting the teacher")
    assert prog.steps_done == {"setup", "zero_shot", "gold_only", "candidates"}
    events += _events("teacher.train", "eval.teacher", "gate", "label", "probe", t0=30)
    prog = runinfo.progress(events, done=[])
    assert prog.step_current == "silver" and {"teacher_warm", "teacher"} <= prog.steps_done
    assert "silver" not in prog.steps_done
    # a run of the older order (sampling after the gate) reads as well
    old = _events("setup", "data", "eval.zero_shot", "teacher.train", "gate", "sample", "label", "augsbert.train")
    prog = runinfo.progress(old, done=[])
    assert prog.step_current == "augsbert"
    assert prog.steps_done == {"setup", "zero_shot", "teacher", "candidates", "silver"}


def test_reused_and_resumed_stages_count_from_state_json(store):
    # reuse: zero-shot, gold-only and teacher come from an earlier run (no events of theirs in this one)
    events = _events("setup", "data", "reuse", "sample")
    prog = runinfo.progress(events, done=["zero_shot", "gold_only", "teacher"])
    assert prog.steps_done == {"setup", "zero_shot", "gold_only", "teacher"} and prog.step_current == "candidates"
    # resumed: the first attempt stopped in the AugSBERT training; the new attempt starts again at setup
    first = _events("setup", "data", "eval.zero_shot", "teacher.train", "gate", "label", "augsbert.train")
    prog = runinfo.progress(first + _events("setup", "data", t0=100), done=["zero_shot", "teacher", "silver"])
    assert prog.steps_done == {"zero_shot", "teacher", "silver"}  # not augsbert: it did not finish
    # read from the run's directory when not given
    run = store.run(seed_run(store, "reused", status="running", with_files=False))
    run.write_json("state.json", {"done": ["zero_shot", "gold_only", "teacher_warm", "teacher"]})
    prog = runinfo.progress(events, store.get(run.id))
    assert {"zero_shot", "gold_only", "teacher_warm", "teacher"} <= prog.steps_done


def test_run_steps_follow_the_scenario_and_the_config():
    def keys(steps: list) -> list[str]:
        return [k for k, _, _ in steps]

    assert keys(runinfo.run_steps(2, {})) == [
        "setup",
        "zero_shot",
        "gold_only",
        "candidates",
        "teacher",
        "silver",
        "augsbert",
        "done",
    ]
    s1 = runinfo.run_steps(1, {"train_full_gold": True})
    assert keys(s1) == ["setup", "zero_shot", "gold_only", "full_gold", "silver", "augsbert", "done"]
    assert {k: t for k, t, _ in s1}["silver"] == "Augmented pairs"
    assert "gold_only" not in keys(runinfo.run_steps(3, {}))
    assert "gold_only" not in keys(runinfo.run_steps(2, {"train_gold_only": False}))
    assert "candidates" not in keys(runinfo.run_steps(2, {"silver_file": "x.csv"}))
    # the warm start is a step of its own when the run's teacher warm-starts (older runs' configs lack the key)
    warm = {"teacher": {"model": "default", "epochs": 2, "warm_start": "auto"}}
    assert keys(runinfo.run_steps(2, warm))[3:6] == ["candidates", "teacher_warm", "teacher"]
    assert "teacher_warm" in keys(runinfo.run_steps(3, warm))
    for no_warm in (
        {"teacher": {**warm["teacher"], "warm_start": "off"}},
        {"teacher": {**warm["teacher"], "epochs": 0}},
        {**warm, "silver_file": "x.csv"},
    ):
        assert "teacher_warm" not in keys(runinfo.run_steps(2, no_warm))
    assert "teacher_warm" not in keys(runinfo.run_steps(1, warm))


def test_training_page_steps_of_a_finished_run_with_new_stages(store):
    run_id = seed_run(store)
    run = store.run(run_id)
    cfg = json.loads(run.path("config.json").read_text())
    cfg.update(train_gold_only=False, train_full_gold=True)  # gold-only not listed; full gold listed, never ran
    run.path("config.json").write_text(json.dumps(cfg))
    t = time.time()
    for stage in (
        "setup",
        "data",
        "reuse",
        "sample.given",
        "teacher.warm",
        "gate",
        "label",
        "probe",
        "augsbert.train",
        "done",
    ):
        run.event({"stage": stage, "step": 0, "total": 0, "message": stage, "time": t})
    run.write_json("state.json", {"done": ["zero_shot", "teacher", "silver", "augsbert"]})
    at = app("training")
    assert not at.exception, [e.value for e in at.exception]
    steps = {m.label: m.value for m in at.metric}["Steps done"]
    assert steps == "7 / 8"  # all but the full-gold ceiling, which this run never trained
    page = texts(at)
    assert "Full-gold ceiling student (skipped)" in page and "Gold-only student" not in page
    assert "Candidate pairs" in page


# ------------------------------------------------------------------------------------------- scenario page
def test_scenario_page_auto_teacher_and_the_new_advanced_keys():
    from augsbert_core.models import default_teacher
    from studio import ui

    workspace.load_demo("stsb-quick")
    at = app("scenario")
    assert not at.exception, [e.value for e in at.exception]
    kind = at.radio(key="sc_teacher_kind")
    assert kind.value == "auto" and kind.options[0].startswith("Auto")
    name, why = default_teacher("cpu")  # the test's device label is a CPU
    assert any(
        f"Auto stands for **{scenario.model_label(name)}** here. {ui.md_escape(why)}" in c.value for c in at.caption
    )
    default = scenario.build_configs(scenario.load_draft())[0]
    assert default.teacher.model == "auto" and default.teacher.warm_start == "auto"
    assert (default.labeler, default.candidates) == ("auto", "auto")
    at.selectbox(key="sc_warm_start").set_value("off").run()
    at.selectbox(key="sc_labeler").set_value("cross_encoder").run()
    at.selectbox(key="sc_candidates").set_value("sampled").run()
    assert not at.exception, [e.value for e in at.exception]
    cfg = scenario.build_configs(scenario.load_draft())[0]
    assert (cfg.teacher.warm_start, cfg.labeler, cfg.candidates) == ("off", "cross_encoder", "sampled")
    raw = cfg.to_dict()
    assert raw["teacher"]["warm_start"] == "off" and raw["labeler"] == "cross_encoder"
    # 'given' without an unlabeled file of pairs: said before launch
    at.selectbox(key="sc_candidates").set_value("given").run()
    assert "needs an unlabeled file with two sentence columns" in texts(at)
    # a saved draft with an unknown value falls back to the default
    draft = scenario.load_draft()
    draft["labeler"], draft["teacher"]["warm_start"] = "nope", "maybe"
    scenario.save_draft(draft)
    again = scenario.load_draft()
    assert again["labeler"] == "auto" and again["teacher"]["warm_start"] == "auto"
    assert scenario.device_for({"device": None}, "NVIDIA H100 (cuda)") == "cuda"
    assert scenario.device_for({"device": "cpu"}, "NVIDIA H100 (cuda)") == "cpu"


def test_estimate_counts_the_warm_start_the_probes_and_given_pairs():
    from augsbert_core import estimate

    counts = estimate.DataCounts(
        train_pairs=1000, dev_pairs=300, test_pairs=1379, unique_sentences=3000, unlabeled_sentences=1000
    )
    draft = {**scenario.DEFAULT_DRAFT, "sampler": "bm25", "top_k": 2}
    full = estimate.estimate(scenario.draft_config(draft), counts, "cpu")
    assert {"teacher warm start", "labeler probes"} <= set(full.parts)
    plain = estimate.estimate(
        scenario.draft_config(
            {**draft, "labeler": "cross_encoder", "teacher": {**draft["teacher"], "warm_start": "off"}}
        ),
        counts,
        "cpu",
    )
    assert not {"teacher warm start", "labeler probes"} & set(plain.parts) and plain.seconds < full.seconds
    pairs = estimate.DataCounts(**{**counts.__dict__, "unlabeled_pairs": 500})
    assert (
        estimate.estimate(scenario.draft_config(draft), pairs).candidates == 500
    )  # auto: the file's pairs as they are
    assert estimate.estimate(scenario.draft_config({**draft, "candidates": "sampled"}), pairs).candidates == 6000
    assert estimate.estimate(scenario.draft_config({**draft, "candidates": "given+sampled"}), pairs).candidates == 6500


# ------------------------------------------------------------------------------------------------------ CLI
def test_cli_runs_lists_the_recommended_model(store, capsys):
    from augsbert_core.cli import main

    new = seed_run(store, "new-run")
    _metrics(Path(store.get(new).dir), recommended="augsbert")
    old = seed_run(store, "old-run", offset=1.0)
    _metrics(Path(store.get(old).dir), recommended=None, gold_only=_scores(0.9, 0.9))
    seed_run(store, "failed-run", status="failed", error="x", with_files=False)
    assert main(["runs", "--runs-dir", str(store.root), "--json"]) == 0
    listing = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert listing["new-run"]["recommended"] == "augsbert" and listing["old-run"]["recommended"] == "gold_only"
    assert listing["failed-run"]["recommended"] is None
    assert main(["runs", "--runs-dir", str(store.root)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[-1] == "headline"  # the columns keep their place; the name is appended
    assert "; recommended=gold_only" in out and "; recommended=augsbert" in out


def test_cli_results_table_puts_the_recommended_model_first(store):
    from types import SimpleNamespace

    from augsbert_core.cli import _results_table

    run_dir = Path(store.get(seed_run(store)).dir)
    for recommended in ("augsbert", None):  # as written; computed for a run without the key
        metrics = _metrics(run_dir, recommended=recommended)
        result = SimpleNamespace(run_dir=run_dir, task="regression", metrics=runinfo.metrics(run_dir))
        lines = _results_table(result).splitlines()
        assert lines[1].startswith("augsbert *") and lines[-1].startswith("* recommended: augsbert"), lines
        assert ("recommended" in metrics) == (recommended is not None)


def test_ensemble_text_says_when_the_labeler_probe_chose(store):
    run = store.run(seed_run(store, "probed"))
    run.write_json(
        "ensemble.json",
        {
            "weight": 0.0,
            "report": {
                "metric": "spearman",
                "dev_crossfit": 0.86,
                "cross_encoder_crossfit": 0.8,
                "bi_encoder_crossfit": 0.87,
                "beats_members": False,
                "used": True,
            },
        },
    )
    run.write_json(
        "probe.json",
        {
            "chosen": "ensemble",
            "trials": [{"labeler": "cross_encoder", "dev": 0.851}, {"labeler": "ensemble", "dev": 0.862}],
        },
    )
    text = runinfo.ensemble_text(runinfo.ensemble_decision(run.dir))
    assert (
        "It labeled the silver pairs** (chosen by the labeler probe: probe students on dev: cross-encoder 85.1, "
        "ensemble 86.2)"
        in text
        and "ensemble: on" not in text
    )
    run.path("probe.json").unlink()
    assert "(ensemble: on)" in runinfo.ensemble_text(runinfo.ensemble_decision(run.dir))


def test_estimate_prices_labeler_probes_only_when_the_run_makes_them():
    """`ensemble: on` forces the ensemble's labels: no probes run, so none are priced (they once were)."""
    from augsbert_core import estimate
    from augsbert_core.config import ExperimentConfig
    from augsbert_core.teacher.probe import labeler_probes_wanted

    counts = estimate.DataCounts(
        train_pairs=1000, dev_pairs=300, test_pairs=1379, unique_sentences=3000, unlabeled_sentences=1000
    )
    for ensemble, labeler in [("auto", "auto"), ("on", "auto"), ("off", "auto"), ("auto", "cross_encoder")]:
        cfg = ExperimentConfig.from_dict({"ensemble": ensemble, "labeler": labeler}, rules=False)
        priced = "labeler probes" in estimate.estimate(cfg, counts, "cpu").parts
        assert priced == labeler_probes_wanted(cfg) == (ensemble == "auto" and labeler == "auto")


def test_the_speed_chart_names_each_runs_student_kind_when_they_differ(tmp_path):
    """Compare's quality-vs-speed chart: a static run and a MiniLM run side by side say which student is which."""
    store = RunStore(tmp_path / "runs")
    runs = []
    for student, rate in (({"model": "static"}, 30_000.0), ({"model": "default", "layers": 2}, 1_500.0)):
        run = store.create("fast", 2, {"name": "fast", "scenario": 2, "student": student}, status="finished")
        timed = {"kind": "bi-encoder", "split": "test", "pairs": 10, "seconds": 10 / rate, "pairs_per_s": rate}
        teacher = {"kind": "cross-encoder", "split": "test", "pairs": 10, "seconds": 0.1, "pairs_per_s": 100.0}
        (Path(run.dir) / "speed.json").write_text(json.dumps({"models": {"augsbert": timed, "teacher": teacher}}))
        runs.append(store.get(run.id))
    metrics = {r.id: {"augsbert": {"test": {"spearman": 0.7}}, "teacher": {"test": {"spearman": 0.8}}} for r in runs}
    rows = runinfo.speed_rows(runs, metrics, "spearman")
    augsbert = rows[rows["model"] == "augsbert"]["series"].tolist()
    assert augsbert[0].startswith("AugSBERT · static (") and augsbert[1].startswith("AugSBERT · MiniLM, 2 layers (")
    assert not any("·" in s for s in rows[rows["model"] == "teacher"]["series"])  # the kind is the student's
    same = runinfo.speed_rows(runs[:1], metrics, "spearman")
    assert len(same) == 2 and "·" not in "".join(same["series"])  # one kind: nothing to tell apart


def test_the_silver_pages_gold_is_read_as_the_run_read_it(tmp_path):
    """A classification run's gold: its own column mapping and 0/1 labels, never scores put on a stale scale (the
    Silver page once drew every gold label of an MRPC run in the 0-0.05 bin)."""
    from studio import ui

    train = tmp_path / "mrpc_gold.tsv"
    rows = [f"{i % 2}\tA man runs number {i}.\tA man is running number {i}." for i in range(8)]
    train.write_text("Quality\t#1 String\t#2 String\n" + "\n".join(rows) + "\n")
    data = {
        "train": str(train),
        "scale": [0, 5],
        "column_map": {"#1 String": "sentence1", "#2 String": "sentence2", "Quality": "label"},
    }
    run = RunStore(tmp_path / "runs").create("mrpc", 2, {"task": "classification", "data": data}, status="finished")
    gold = ui.gold_for_run(RunStore(tmp_path / "runs").get(run.id), "train")
    assert gold is not None and sorted(gold["label"].unique().tolist()) == [0, 1]
    assert (gold["label"] == 1).mean() == 0.5


# ------------------------------------------------------------------------------------- an explained verdict
def _classification(ap: float, f1: float, accuracy: float) -> dict:
    split = {"ap": ap, "f1": f1, "accuracy": accuracy, "precision": 0.8, "recall": 0.8, "threshold": 0.5}
    return {"dev": dict(split), "test": dict(split)}


def test_the_recommendation_is_squared_with_the_other_metrics_and_the_gate():
    """Issue 26, item 3, as seen on MRPC: AugSBERT recommended on +0.19 dev AP while gold-only was better on dev F1
    and accuracy and the gate had called the teacher weak. The notes say which metric decides and why, and how the
    recommendation squares with the gate."""
    from augsbert_core.evaluation import recommendation_notes

    metrics = {"gold_only": _classification(0.9127, 0.85, 0.80), "augsbert": _classification(0.9146, 0.84, 0.79)}
    record = {"model": "augsbert", "baseline": "gold_only", "split": "dev", "metric": "ap"}
    gate = {"verdict": "weak", "lead": -0.067, "split": "dev"}
    notes = recommendation_notes(metrics, record, gate, "classification")
    assert notes[0] == (
        "gold-only is higher on dev F1 (+1.00), accuracy (+1.00); average precision decides: it scores the whole "
        "ranking of pairs, while F1, accuracy, precision and recall depend on the one threshold chosen on dev"
    )
    assert notes[1].startswith("The gate judged the teacher weak before training (it trailed the best student by 6.7")
    # the baseline recommended after a ready gate: the lead did not carry over; no metric disagrees
    baseline = {**record, "model": "gold_only"}
    metrics["gold_only"] = _classification(0.92, 0.86, 0.81)
    notes = recommendation_notes(
        metrics, baseline, {"verdict": "ready", "lead": 0.02, "split": "dev"}, "classification"
    )
    assert notes == [
        "The teacher led the best student by 2.0 points on dev, yet its silver labels did not move the student "
        "beyond noise: distillation recovers part of a teacher's lead at best"
    ]
    assert recommendation_notes(metrics, None, gate, "classification") == []


def test_training_and_compare_pages_show_the_notes(store):
    run_dir = Path(store.get(seed_run(store)).dir)
    why = {"model": "augsbert", "baseline": "gold_only", "split": "dev", "metric": "spearman", "why": "AugSBERT wins"}
    _metrics(run_dir, recommended="augsbert", recommendation={**why, "notes": ["Pearson disagrees, Spearman decides"]})
    for page in ("training", "compare"):
        at = app(page)
        assert not at.exception, [e.value for e in at.exception]
        assert "Pearson disagrees, Spearman decides." in [c.value.split(": ", 1)[-1] for c in at.caption]
    # a run finished before metrics.json kept notes gets them computed from its metrics and gate.json
    from augsbert_core.evaluation import recommendation_notes

    raw = _metrics(run_dir, recommendation=why)
    gate = {**json.loads((run_dir / "gate.json").read_text()), "lead": 0.05}
    (run_dir / "gate.json").write_text(json.dumps(gate))
    computed = recommendation_notes(raw, why, gate, "regression")
    assert computed == ["As the gate expected: the teacher led the best student by 5.0 points on dev"]
    assert computed and runinfo.verdict(run_dir, "regression").notes == tuple(computed)


def test_a_classification_run_shows_its_operating_point_confusion_and_pr_curves(store):
    """Issue 26, item 2: a 0/1 run's Training page shows F1, precision, recall and accuracy at the dev-chosen
    threshold beside AP; Compare draws the scores per gold class with that threshold, the confusion matrix there and
    every model's precision-recall curve (not 0/1 gold on a continuous axis)."""
    from .test_report import seed_run as seed_classification

    run_dir = Path(seed_classification(store, "mrpc", task="classification"))
    raw = json.loads((run_dir / "metrics.json").read_text())
    for per in raw.values():
        if isinstance(per, dict):
            for split in per.values():
                split.update(precision=0.8, recall=0.7, accuracy=0.75, threshold=0.5)
    (run_dir / "metrics.json").write_text(json.dumps(raw))
    at = app("training")
    assert not at.exception, [e.value for e in at.exception]
    (table,) = [d.value for d in at.dataframe if "threshold" in d.value.columns]
    assert list(table.columns) == ["model", "AP", "F1", "precision", "recall", "accuracy", "threshold"]
    assert table.loc[table["model"] == "AugSBERT", "recall"].item() == 70.0
    at = app("compare")
    assert not at.exception, [e.value for e in at.exception]
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert any("predicted score by gold class (test)" in t for t in titles)
    assert any("confusion at threshold 0.50 (test)" in t for t in titles)
    assert "Precision-recall (test)" in titles
    shown = [re.sub(r"\\(.)", r"\1", c.value) for c in at.caption]  # as a person reads it (md_escape undone)
    assert any(c.startswith("At the threshold chosen on dev (0.50), test: F1") for c in shown)


def test_both_pages_offer_a_transformer_student_as_onnx(store):
    """Issue 27 item 7: the download's format box (sentence-transformers, ONNX, ONNX int8) on Compare and Training."""
    pytest.importorskip("onnxruntime", reason="the ONNX formats need the onnx extra")
    import shutil

    from augsbert_core.models import resolve_model

    run_id = seed_run(store)
    run_dir = Path(store.get(run_id).dir)
    shutil.rmtree(run_dir / "models" / "augsbert")
    shutil.copytree(resolve_model("default"), run_dir / "models" / "augsbert")  # a real transformer student
    _metrics(run_dir, recommended="augsbert")
    at = app("compare")
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="cmp_model_format").options == ["sentence-transformers", "ONNX", "ONNX int8"]
    at = app("training")
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key=f"tr_dl_format_{run_id}").options == ["sentence-transformers", "ONNX", "ONNX int8"]


def test_a_scenario_3_run_has_no_gold_only_card(store):
    """Scenario 3 trains no gold-only student: its card would wait for a model that never comes."""
    run_dir = Path(store.get(seed_run(store)).dir)
    metrics = _metrics(run_dir, recommended="zero_shot")
    assert "gold_only" in runinfo.result_models(run_dir, metrics)  # scenario 2: the card is there
    metrics = _metrics(run_dir, gold_only=None)
    cfg = json.loads((run_dir / "config.json").read_text())
    (run_dir / "config.json").write_text(json.dumps({**cfg, "scenario": 3}))
    assert "gold_only" not in runinfo.result_models(run_dir, metrics)
    assert "zero_shot" in runinfo.result_models(run_dir, metrics)
