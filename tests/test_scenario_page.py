"""The Scenario page for a new user: whole epochs, per-sampler estimates, a fresh run name, only the fields a
scenario uses, the Start page's readiness, the readiness gate's advice as actions (and no gate in scenario 1),
and installing the recommended teacher from a button (a real background process running a stand-in script).

Fast: AppTest on the demo data and seeded runs; nothing trains. Run:
HF_HUB_OFFLINE=1 python -m pytest -q tests/test_scenario_page.py"""

from __future__ import annotations

import json
import re
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("streamlit")

from augsbert_core import ExperimentConfig, estimate  # noqa: E402
from augsbert_core.config import LAYERS_LEARNING_RATE, STATIC_BATCH_SIZE, STATIC_LEARNING_RATE  # noqa: E402
from augsbert_core.runs import RunStore  # noqa: E402
from augsbert_core.teacher import gate as core_gate  # noqa: E402
from augsbert_core.teacher.gate import readiness_gate  # noqa: E402
from studio import installs, scenario, workspace  # noqa: E402
from studio import scenario_words as words  # noqa: E402

from .test_app import app, home, seed_run, texts  # noqa: E402, F401 - home: the autouse fresh-workspace fixture


@pytest.fixture
def store(home) -> RunStore:  # noqa: F811 - the fixture argument, not a redefinition
    return workspace.store()


WEAK = {"zero_shot": {"dev": {"spearman": 0.70}}, "gold_only": {"dev": {"spearman": 0.877}}}
WEAK["teacher"] = {"dev": {"spearman": 0.787}}
READY = {**WEAK, "teacher": {"dev": {"spearman": 0.95}}}


def plain(at) -> str:
    """The page's text as a reader sees it (md_escape's backslashes removed)."""
    return re.sub(r"\\(.)", r"\1", texts(at))


def _page_links(at) -> list[str]:
    return [link.proto.page for link in at.get("page_link")]


# ------------------------------------------------------------------------------------------------ epochs
def test_students_stop_on_dev_by_default_and_a_fixed_schedule_is_one_toggle_away():
    workspace.load_demo("stsb-quick")
    at = app("scenario")
    assert at.toggle(key="sc_student_auto").value is True  # the tuned baseline is the default
    assert at.number_input(key="sc_student_max").value == 10
    raw = scenario.build_configs(scenario.load_draft())[0].to_dict()
    assert raw["student"]["epochs"] == "auto" and raw["student"]["max_epochs"] == 10
    at.number_input(key="sc_student_max").set_value(4).run()
    assert scenario.build_configs(scenario.load_draft())[0].to_dict()["student"]["max_epochs"] == 4
    at.toggle(key="sc_student_auto").set_value(False).run()
    assert scenario.load_draft()["student"]["epochs"] == 1  # a fixed schedule starts at one epoch
    assert scenario.epochs_text({"epochs": "auto", "max_epochs": 4}) == "early-stopped on dev, at most 4 epochs"


def test_whole_epochs_show_and_save_as_whole_numbers():
    workspace.load_demo("stsb-quick")
    at = app("scenario")
    at.toggle(key="sc_student_auto").set_value(False).run()  # a fixed number of epochs (auto is the default)
    epochs = at.number_input(key="sc_student_epochs")
    assert epochs.proto.format == "%g" and epochs.value == 1  # shown as 1, not 1.00
    assert epochs.step == 1  # "+" goes 1 -> 2 (issue 26: it went 1 -> 1.25); a fraction can still be typed
    assert at.number_input(key="sc_teacher_epochs").proto.format == "%g"
    epochs.set_value(3.0).run()
    saved = scenario.load_draft()["student"]["epochs"]
    assert saved == 3 and isinstance(saved, int)
    raw = scenario.build_configs(scenario.load_draft())[0].to_dict()
    assert raw["student"]["epochs"] == 3 and isinstance(raw["student"]["epochs"], int)
    assert isinstance(raw["teacher"]["epochs"], int)  # the schema writes whole epochs back as ints
    at.number_input(key="sc_student_epochs").set_value(0.5).run()
    assert scenario.load_draft()["student"]["epochs"] == 0.5
    assert scenario.whole_epochs(2.0) == 2 and scenario.whole_epochs(0.75) == 0.75


# ---------------------------------------------------------------------------------------------- estimate
def test_estimate_for_several_samplers_labels_each_with_its_sampler():
    workspace.load_demo("stsb-quick")
    at = app("scenario")
    at.pills(key="sc_samplers").set_value(["bm25", "kde"]).run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert list(table["Sampler"]) == ["bm25", "kde"]
    assert {"Candidate pairs", "Silver pairs", "Student trains on", "Time"} <= set(table.columns)
    assert table["Silver pairs"].iloc[0] != table["Silver pairs"].iloc[1]  # KDE keeps a subset: per sampler
    assert all(" / " not in str(m.value) for m in at.metric)  # no unlabeled numbers joined by slashes
    breakdowns = [c.value for c in at.caption if "Breakdown" in c.value]
    assert [b.split(":**")[0] for b in breakdowns] == ["**bm25", "**kde"]
    assert "KDE keeps" in breakdowns[1]
    # one sampler: the four cards as before
    at.pills(key="sc_samplers").set_value(["bm25"]).run()
    assert {m.label for m in at.metric} == {
        "Candidate pairs",
        "Silver pairs",
        "Student trains on",
        "Rough time on this device",
    }


def test_estimate_leaves_out_what_a_scenario_does_not_run():
    counts = estimate.DataCounts(
        train_pairs=1000, dev_pairs=300, test_pairs=300, source_pairs=800, unique_sentences=2000
    )
    counts.unlabeled_sentences = 1500
    s3 = {**scenario.DEFAULT_DRAFT, "scenario": 3, "train_gold_only": True}
    parts = estimate.estimate(scenario.draft_config(s3), counts).parts
    assert "gold-only student" not in parts  # scenario 3 has no target gold
    assert {"teacher", "sampling", "labeling", "AugSBERT student"} <= set(parts)
    given = estimate.DataCounts(**{**counts.__dict__, "unlabeled_pairs": 500})
    parts = estimate.estimate(scenario.draft_config(s3), given).parts
    assert "sampling" not in parts  # the file's pairs are labeled as they are
    assert "sampling" in estimate.estimate(scenario.draft_config({**s3, "candidates": "given+sampled"}), given).parts
    # scenario 1: no sampling, labeling or silver cap; its reference cross-encoder is counted
    s1 = {**scenario.DEFAULT_DRAFT, "scenario": 1, "max_silver": 10}
    one = estimate.estimate(scenario.draft_config(s1), counts)
    assert not {"sampling", "labeling", "labeler probes", "teacher warm start"} & set(one.parts)
    assert "teacher" in one.parts and one.silver == 1000 and "capped" not in one.silver_note


# --------------------------------------------------------------------------------------------- run name
def test_the_run_name_is_suggested_afresh_after_a_launch():
    workspace.load_demo("stsb-quick")
    draft = {**scenario.load_draft(), "name": "my-first-run"}
    assert scenario.suggested_names(draft) == ["s2-bm25"]
    assert scenario.suggested_names({**draft, "samplers": ["bm25", "kde"]}) == ["s2-bm25", "s2-kde"]
    assert scenario.suggested_names({**draft, "scenario": 1}) == ["s1-wordnet"]
    assert [c.name for c in scenario.build_configs(draft)] == ["my-first-run"]  # a typed name names this launch
    after = scenario.after_launch(draft)
    assert after["name"] == "" and {k: v for k, v in after.items() if k != "name"} == {
        k: v for k, v in draft.items() if k != "name"
    }
    scenario.save_draft(after)  # what scenario.launch saves once its jobs started
    assert [c.name for c in scenario.build_configs(scenario.load_draft())] == ["s2-bm25"]
    at = app("scenario")
    name = at.text_input(key="sc_name")
    assert name.value == "" and name.placeholder == "s2-bm25"
    at.pills(key="sc_samplers").set_value(["bm25", "semantic"]).run()
    assert at.text_input(key="sc_name").placeholder == "s2-bm25, s2-semantic"


# ------------------------------------------------------------------------------------ scenario-specific
def test_scenario_1_has_no_teacher_panel_no_silver_cap_and_no_gate_settings():
    workspace.load_demo("stsb-quick")
    draft = scenario.load_draft()
    draft["max_silver"] = 100
    draft["teacher"].update(model="mpnet", seed_trials=3)  # left from scenario 2: not installed, not used
    scenario.save_draft(draft)
    at = app("scenario")
    at.radio(key="sc_scenario").set_value(1).run()
    assert not at.exception, [e.value for e in at.exception]
    keys = {w.key for kind in ("radio", "number_input", "selectbox", "toggle", "checkbox") for w in at.get(kind)}
    for key in (
        "sc_teacher_kind",
        "sc_teacher_epochs",
        "sc_max_silver",
        "sc_ensemble",
        "sc_teacher_seed_trials",
        "sc_ts_enabled",
        "sc_gate",
        "sc_gate_margin",
        "sc_warm_start",
        "sc_labeler",
        "sc_candidates",
        "sc_teacher_trust",
    ):
        assert key not in keys, key
    assert {"sc_student_kind", "sc_aug_method", "sc_student_seed_trials"} <= keys
    assert "No teacher in scenario 1" in texts(at)
    assert not any(help_text in texts(at) for help_text in words.ENSEMBLE_HELP.values())  # no ensemble to explain
    assert [e.proto.label for e in at.get("expander")][:1] == ["Seed trials"]
    assert not at.button(key="sc_launch").disabled  # the hidden mpnet teacher does not block it
    cfg = scenario.build_configs(scenario.load_draft())[0]
    assert cfg.max_silver == "auto" and cfg.silver_cap is None  # scenario 1 has no silver to cap
    assert cfg.teacher.model == "auto" and cfg.teacher.seed_trials == 1
    # back in scenario 2 the teacher settings are as they were
    at.radio(key="sc_scenario").set_value(2).run()
    assert at.radio(key="sc_teacher_kind").value == "mpnet"
    assert at.number_input(key="sc_max_silver").value == 100


def test_scenario_3_threshold_only_for_classification_and_a_data_link_when_source_gold_is_missing():
    workspace.load_demo("stsb-quick")  # regression, no source-domain gold
    at = app("scenario")
    at.radio(key="sc_scenario").set_value(3).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Source-domain gold" in texts(at)
    assert "data" in _page_links(at)  # the way to add it
    assert not any(w.key == "sc_threshold" for w in at.number_input)  # scores: no threshold
    assert at.button(key="sc_launch").disabled
    scenario.load_demo("stsb-to-quora")  # classification target (Quora duplicates), source gold present
    at = app("scenario")
    assert at.radio(key="sc_scenario").value == 3
    assert "data" not in _page_links(at)
    threshold = at.number_input(key="sc_threshold")
    threshold.set_value(0.6).run()
    cfg = scenario.build_configs(scenario.load_draft())[0]
    assert cfg.threshold == 0.6
    # a threshold left in the draft reaches no other scenario
    scenario.save_draft({**scenario.load_draft(), "scenario": 2, "threshold": 0.6})
    workspace.load_demo("stsb-quick")
    assert scenario.build_configs(scenario.load_draft())[0].threshold is None


# ------------------------------------------------------------------------------------------------- start
def test_start_page_marks_the_scenario_ready_only_when_it_can_launch(monkeypatch):
    monkeypatch.delenv("AUGSBERT_MPNET_MODEL", raising=False)

    def scenario_step(at) -> str:
        return next(m.value for m in at.markdown if m.value.startswith("**2. Scenario**"))

    assert "not ready" in scenario_step(app())  # no data
    workspace.load_demo("stsb-quick")
    assert scenario.launch_problems(scenario.load_draft()) == []
    step = scenario_step(app())
    assert "check_circle" in step and "not ready" not in step
    draft = scenario.load_draft()
    draft["teacher"]["model"] = "mpnet"  # not installed: a launch would be refused
    scenario.save_draft(draft)
    step = scenario_step(app())
    assert "check_circle" not in step and "not installed" in step
    with pytest.raises(scenario.ConfigError, match="not installed"):
        scenario.build_configs(draft)
    scenario.save_draft({**draft, "scenario": 3})  # no source-domain gold in this demo
    step = scenario_step(app())
    assert "check_circle" not in step and "Source" in step


# --------------------------------------------------------------------------------------------- the gate
@pytest.mark.parametrize("metrics", [WEAK, READY], ids=["weak", "ready"])
def test_a_scenario_1_gate_never_speaks_of_silver_labels(metrics):
    for action in ("warn", "stop"):
        cfg = ExperimentConfig(scenario=1, ensemble="off", gate={"action": action})
        gate = readiness_gate(metrics, "regression", cfg)
        assert gate["verdict"] == core_gate.NOT_APPLICABLE  # not 'weak': gate.action 'stop' never stops it
        assert "silver" not in gate["message"].lower() and "does not apply" in gate["message"]
        assert gate["options"] == [] and gate["summary"] == gate["message"]
        # the keys the app and the reports read are all there
        assert {"split", "metric", "teacher", "students", "best_student", "teacher_kind", "lead"} <= set(gate)
    weak2 = readiness_gate(WEAK, "regression", ExperimentConfig(scenario=2))
    assert weak2["verdict"] == "weak" and "silver labels from this teacher will likely hurt" in weak2["message"]


def test_the_gate_lists_its_advice_as_option_keys_the_page_has_words_for():
    weak = readiness_gate(WEAK, "regression", ExperimentConfig(ensemble="off"))
    assert weak["options"] == ["mpnet", "ensemble", "teacher_search", "seed_trials", "gold_only"]
    assert "teacher.seed_trials: 4" in weak["message"]  # the CLI's words stay in the message
    assert weak["summary"] == weak["message"].split(". Options: ")[0]
    tuned = ExperimentConfig.from_dict(
        {
            "scenario": 3,
            "teacher": {"model": "mpnet", "seed_trials": 4},
            "teacher_search": {"learning_rates": [2e-5]},
        },
        rules=False,  # no data files here
    )
    assert readiness_gate(WEAK, "regression", tuned)["options"] == ["stronger_teacher", "source_gold", "keep_student"]
    assert readiness_gate(READY, "regression", ExperimentConfig())["options"] == []
    # every option the core can give has page words; the actions are the ones the issue names
    assert set(scenario.GATE_ACTIONS) == set(core_gate.OPTIONS)
    labels = {o: label for o, (label, _) in scenario.GATE_ACTIONS.items() if label}
    assert labels["mpnet"] == "Use the recommended teacher"
    assert labels["teacher_search"] == "Search teacher settings on dev"
    assert labels["seed_trials"] == "Try 4 seeds"
    for _, phrase in scenario.GATE_ACTIONS.values():  # the page's names, never config keys or commands
        assert not any(key in phrase for key in ("teacher.", "teacher_search", "seed_trials", "(ensemble:", "python"))
    # each action changes the draft as it says, and only that
    draft = scenario.load_draft()
    assert scenario.apply_gate_option(draft, "mpnet")["teacher"]["model"] == "mpnet"
    assert scenario.apply_gate_option(draft, "seed_trials")["teacher"]["seed_trials"] == 4
    searched = scenario.apply_gate_option({**draft, "teacher_search": {"enabled": False}}, "teacher_search")
    assert searched["teacher_search"]["enabled"] and searched["teacher_search"]["learning_rates"]
    assert scenario.apply_gate_option({**draft, "ensemble": "off"}, "ensemble")["ensemble"] == "auto"
    assert scenario.apply_gate_option(draft, "gold_only") == draft
    assert not scenario.gate_option_applied(draft, "seed_trials")
    assert scenario.gate_option_applied(scenario.apply_gate_option(draft, "seed_trials"), "seed_trials")


def _weak_run(store) -> str:
    """A seeded run whose gate.json is the core's for a weak teacher (ensemble off: every option)."""
    run_id = seed_run(store)
    store.run(run_id).write_json("gate.json", readiness_gate(WEAK, "regression", ExperimentConfig(ensemble="off")))
    return run_id


def test_the_scenario_page_offers_the_gate_s_advice_as_buttons_in_its_own_words(store, monkeypatch):
    monkeypatch.delenv("AUGSBERT_MPNET_MODEL", raising=False)
    workspace.load_demo("stsb-quick")
    scenario.save_draft({**scenario.load_draft(), "ensemble": "off"})  # as in the run
    _weak_run(store)
    at = app("scenario")
    page = plain(at)
    assert "was weak" in page and "will likely hurt" in page
    assert "teacher.seed_trials" not in page and "teacher_search:" not in page and "(ensemble: auto)" not in page
    assert at.button(key="sc_gate_seed_trials").label == "Try 4 seeds"
    assert at.button(key="sc_gate_teacher_search").label == "Search teacher settings on dev"
    assert at.button(key="sc_gate_mpnet").label == "Use the recommended teacher"
    assert not any(b.key == "sc_gate_gold_only" for b in at.button)  # words, no button: nothing to change here
    at.button(key="sc_gate_seed_trials").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert scenario.load_draft()["teacher"]["seed_trials"] == 4
    assert at.number_input(key="sc_teacher_seed_trials").value == 4
    assert at.button(key="sc_gate_seed_trials").disabled  # done
    at.button(key="sc_gate_teacher_search").click().run()
    assert scenario.load_draft()["teacher_search"]["enabled"] and at.toggle(key="sc_ts_enabled").value
    at.button(key="sc_gate_ensemble").click().run()
    assert scenario.load_draft()["ensemble"] == "auto" and at.radio(key="sc_ensemble").value == "auto"
    at.button(key="sc_gate_mpnet").click().run()
    assert scenario.load_draft()["teacher"]["model"] == "mpnet"
    assert at.radio(key="sc_teacher_kind").value == "mpnet"
    assert at.button(key="sc_mpnet_install")  # not installed here: the install button is next to it
    cfg_draft = scenario.load_draft()
    assert (cfg_draft["teacher"]["seed_trials"], cfg_draft["ensemble"]) == (4, "auto")  # earlier actions kept
    # the Training page says it in the same words and links to the Scenario page
    at = app("training")
    page = plain(at)
    assert "Teacher-readiness gate: weak" in page and "What to try" in page and "teacher.seed_trials" not in page
    assert "scenario" in _page_links(at)


def test_older_gate_files_and_scenario_1_gates_read_well(store):
    run_id = _weak_run(store)
    gate_path = Path(store.get(run_id).dir) / "gate.json"
    old = json.loads(gate_path.read_text())
    del old["options"], old["summary"]  # written before gate.json had options
    gate_path.write_text(json.dumps(old))
    at = app("training")
    assert "teacher.seed_trials: 4" in plain(at)  # the message as it was written
    workspace.load_demo("stsb-quick")
    assert not any((b.key or "").startswith("sc_gate_") for b in app("scenario").button)
    one = readiness_gate(WEAK, "regression", ExperimentConfig(scenario=1))
    gate_path.write_text(json.dumps(one))
    at = app("training")
    page = plain(at)
    assert "Teacher-readiness gate: does not apply" in page
    assert "weak" not in page.lower().split("does not apply")[0].split("readiness")[-1]
    assert not any("Teacher-readiness gate: weak" in w.value for w in at.warning)


# ------------------------------------------------------------------------------------------ mpnet install
STAND_IN = """
import argparse, json, os, sys, time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--out", type=Path, required=True)
parser.add_argument("--progress", type=Path, required=True)
args = parser.parse_args()
go = Path(os.environ["STAND_IN_GO"])


def step(number, what):
    args.progress.write_text(json.dumps({"step": number, "total": 3, "what": what}))
    print(f"[{number}/3] {what}", flush=True)


step(1, "downloading piece 1 of 1")
deadline = time.time() + 60
while not go.exists() and time.time() < deadline:  # the test says when to go on
    time.sleep(0.05)
if os.environ.get("STAND_IN_FAIL"):
    print("error: no network", file=sys.stderr)
    sys.exit(3)
step(2, "unpacking the model")
args.out.mkdir(parents=True)
(args.out / "config.json").write_text("{}")
step(3, "done")
"""


def _wait(state: str, timeout: float = 30.0) -> installs.InstallStatus:
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = installs.mpnet_status()
        if status.state == state:
            return status
        time.sleep(0.1)
    raise AssertionError(f"install still {installs.mpnet_status()} after {timeout} s")


@pytest.fixture
def stand_in(tmp_path, monkeypatch) -> Path:
    script = tmp_path / "stand_in_setup.py"
    script.write_text(textwrap.dedent(STAND_IN))
    monkeypatch.setenv(installs.SCRIPT_ENV, str(script))
    monkeypatch.setenv("STAND_IN_GO", str(tmp_path / "go"))
    monkeypatch.delenv("AUGSBERT_MPNET_MODEL", raising=False)
    return tmp_path / "go"


def test_the_install_button_runs_the_setup_script_in_the_background(stand_in):
    workspace.load_demo("stsb-quick")
    draft = scenario.load_draft()
    draft["teacher"]["model"] = "mpnet"
    scenario.save_draft(draft)
    at = app("scenario")
    button = at.button(key="sc_mpnet_install")
    assert "404 MB" in button.label and "404 MB" in texts(at) and "background" in texts(at)
    assert any(c.value.startswith("python scripts/setup_mpnet.py") for c in at.code)  # still there for a terminal
    assert installs.mpnet_status().state == "idle"
    button.click().run()
    status = installs.mpnet_status()
    assert status.state == "running"
    job = json.loads((installs.folder() / installs.JOB).read_text())
    assert installs._alive(job["pid"])  # a real process, in its own session
    assert job["target"] == str(workspace.home() / "models" / "all-mpnet-base-v2")
    status = _wait_step(1)
    assert (status.step, status.total, status.what) == (1, 3, "downloading piece 1 of 1")
    at = app("scenario")  # a rerun shows the progress
    assert not at.exception, [e.value for e in at.exception]
    assert not any(b.key == "sc_mpnet_install" for b in at.button)
    progress = at.get("progress")
    assert progress and "downloading piece 1 of 1" in progress[0].proto.text and "step 1 of 3" in progress[0].proto.text
    assert installs.start_mpnet().state == "running"  # no second install while one runs
    stand_in.touch()
    done = _wait("done")
    assert done.returncode == 0 and done.step == 3 and scenario.mpnet_installed()
    assert "[1/3] downloading piece 1 of 1" in (installs.folder() / installs.LOG).read_text()
    at = app("scenario")
    kind = at.radio(key="sc_teacher_kind")
    assert "· installed" in kind.options[kind.index]
    assert "Installed from this page" in texts(at) and not at.button(key="sc_launch").disabled


def _wait_step(step: int, timeout: float = 30.0) -> installs.InstallStatus:
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = installs.mpnet_status()
        if status.step >= step:
            return status
        time.sleep(0.05)
    raise AssertionError(f"no step {step}: {installs.mpnet_status()}")


def test_a_failed_install_shows_its_output_and_can_be_tried_again(stand_in, monkeypatch):
    monkeypatch.setenv("STAND_IN_FAIL", "1")
    stand_in.touch()
    installs.start_mpnet()
    failed = _wait("failed")
    assert failed.returncode == 3 and "error: no network" in failed.log_tail
    workspace.load_demo("stsb-quick")
    draft = scenario.load_draft()
    draft["teacher"]["model"] = "mpnet"
    scenario.save_draft(draft)
    at = app("scenario")
    assert any("did not finish (exit code 3)" in e.value for e in at.error)
    assert any("error: no network" in c.value for c in at.code)
    assert at.button(key="sc_mpnet_install").label == "Try the install again"
    monkeypatch.delenv("STAND_IN_FAIL")
    at.button(key="sc_mpnet_install").click().run()
    assert _wait("done").returncode == 0
    assert not (installs.folder() / installs.RESULT).read_text().count('"returncode": 3')


def test_an_install_whose_process_died_reads_as_failed():
    folder = installs.folder()
    (folder / installs.JOB).write_text(json.dumps({"pid": 999_999_999, "started_at": time.time()}))
    (folder / installs.LOG).write_text("[1/8] downloading piece 1 of 5\n")
    status = installs.mpnet_status()
    assert status.state == "failed" and "downloading piece 1 of 5" in status.log_tail


# ------------------------------------------------------------------------------------------------ engine
def test_advanced_sets_the_ray_engine_and_its_address_for_the_runs(monkeypatch):
    """Advanced: the sampling and labeling engine reaches the configs (the address only with engine ray), and a
    server without Ray says how to install it instead of failing at launch."""
    workspace.load_demo("stsb-quick")
    assert scenario.build_configs(scenario.load_draft())[0].engine == "local"
    at = app("scenario")
    assert at.text_input(key="sc_ray_address").disabled  # local: no address to give
    at.selectbox(key="sc_engine").set_value("ray").run()
    at.text_input(key="sc_ray_address").set_value(" ray://head:10001 ").run()
    assert not at.exception, [e.value for e in at.exception]
    cfg = scenario.build_configs(scenario.load_draft())[0]
    assert (cfg.engine, cfg.ray.address) == ("ray", "ray://head:10001")
    monkeypatch.setattr(scenario, "ray_installed", lambda: False)
    at.run()
    assert "Ray is not installed on this server" in plain(at)
    at.selectbox(key="sc_engine").set_value("local").run()
    cfg = scenario.build_configs(scenario.load_draft())[0]
    assert (cfg.engine, cfg.ray.address) == ("local", None)  # the address is kept in the draft, not in a local run


def test_the_fast_students_are_offered_with_their_own_learning_rates():
    workspace.load_demo("stsb-quick")
    at = app("scenario")
    assert at.selectbox(key="sc_student_layers").value is None  # all layers by default
    at.selectbox(key="sc_student_layers").set_value(2).run()
    raw = scenario.build_configs(scenario.load_draft())[0].to_dict()
    assert raw["student"]["layers"] == 2 and raw["student"]["learning_rate"] == LAYERS_LEARNING_RATE  # dev's choice
    assert "A cut transformer keeps the first N layers" in plain(at)
    at.selectbox(key="sc_student_lr_layers").set_value(5e-5).run()  # a rate chosen by hand stays
    assert scenario.build_configs(scenario.load_draft())[0].student.learning_rate == 5e-5
    at.selectbox(key="sc_student_layers").set_value(3).run()
    assert scenario.build_configs(scenario.load_draft())[0].student.learning_rate == 5e-5
    at.radio(key="sc_student_kind").set_value("static").run()
    assert not at.exception
    assert "distilled once from the offline MiniLM" in plain(at)
    assert not [s for s in at.selectbox if s.key == "sc_student_layers"]  # a static table has no layers to cut
    raw = scenario.build_configs(scenario.load_draft())[0].to_dict()
    assert raw["student"]["model"] == "static" and raw["student"]["learning_rate"] == STATIC_LEARNING_RATE
    assert raw["student"]["layers"] is None
    assert raw["student"]["batch_size"] == STATIC_BATCH_SIZE  # a static table's own batch (an epoch ~4.5x faster)
    at.radio(key="sc_student_kind").set_value("default").run()
    assert scenario.build_configs(scenario.load_draft())[0].student.batch_size == 16  # MiniLM's again


def test_given_pairs_grey_out_the_samplers_unless_the_student_tops_them_up():
    """An unlabeled file of pairs is labeled as it is for a MiniLM student (samplers and top-k do not apply, so they
    are disabled); a static student's silver budget tops those pairs up with sampled ones, so they apply again."""
    workspace.load_demo("stsb")  # 4,749 unlabeled pairs
    at = app("scenario")
    assert "labels those pairs as they are" in plain(at)
    assert at.slider(key="sc_top_k").disabled
    # ... and one run, named for what it does (issue 26: it was named "s2-bm25" though nothing was sampled)
    draft = {**scenario.load_draft(), "samplers": ["bm25", "random"]}
    (given,) = scenario.build_configs(draft)
    assert given.name == "s2-given" and scenario.suggested_names(draft) == ["s2-given"]
    at.radio(key="sc_student_kind").set_value("static").run()
    at.run()  # the message follows the saved draft
    assert not at.exception
    assert "topped up with sampled pairs" in plain(at) and "given+sampled" in plain(at)
    assert not at.slider(key="sc_top_k").disabled
    cfg = scenario.build_configs(scenario.load_draft())[0]
    assert cfg.candidate_source(True) == "given+sampled" and cfg.silver_cap == 20_000


def test_a_busy_machine_is_said_beside_the_estimate(monkeypatch):
    """Issue 26, item 4: the run took 5x its estimate on a machine shared with two other trainings; the page said
    nothing. With the load above the cores it says so (and nothing on an idle machine)."""
    from augsbert_core.estimate import busy_note

    assert busy_note(1.5, 2) is None
    assert busy_note(5.9, 2).startswith("This machine is busy: its load is 5.9 on 2 cores")
    workspace.load_demo("stsb-quick")
    monkeypatch.setattr("os.getloadavg", lambda: (6.0, 5.0, 4.0))
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    at = app("scenario")
    assert "This machine is busy: its load is 6.0 on 2 cores" in plain(at)
    monkeypatch.setattr("os.getloadavg", lambda: (0.5, 0.5, 0.5))
    assert "This machine is busy" not in plain(app("scenario"))


LAUNCH_ONLY = {"name", "data", "gate", "seed", "tracking", "runs_dir", "base_dir"}  # what only a launch adds


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"scenario": 1},
        {"scenario": 3, "threshold": 0.4},
        {"samplers": ["bm25", "random"], "mix": True, "mix_shares": {"bm25": 70, "random": 30}},
        {"max_silver": 500, "device": "cpu", "top_k": 5},
        {"teacher_search": {"enabled": True, "learning_rates": [2e-5], "epochs": [1.0], "budget_minutes": 5.0}},
        {"student": {"model": "static"}},
    ],
)
def test_the_estimate_prices_the_config_the_launch_builds(change):
    """One translation of the draft (scenario.settings_of): the config the page's estimate prices is the one
    `build_configs` launches, in every key but those only a launch adds (data files, name, seed, ...)."""
    workspace.load_demo("stsb-to-quora-quick" if change.get("scenario") == 3 else "stsb-quick")
    draft = scenario.load_draft()
    for key, value in change.items():
        draft[key] = {**draft[key], **value} if isinstance(value, dict) and isinstance(draft.get(key), dict) else value
    for cfg in scenario.build_configs(draft):
        sampler = cfg.sampler if draft["scenario"] != 1 else None
        priced = scenario.draft_config(draft, sampler).to_dict()
        launched = cfg.to_dict()
        differ = {k for k in launched if k not in LAUNCH_ONLY and launched[k] != priced[k]}
        assert not differ, {k: (launched[k], priced[k]) for k in differ}


def test_a_hand_edited_draft_is_checked_by_the_schema_key_by_key():
    """The draft's config keys are judged by ExperimentConfig itself (no list of allowed values in the app): what it
    refuses reads as the default, key by key and sub-key by sub-key, and the page's own keys are kept."""
    saved = scenario.load_draft()
    saved.update(scenario=7, labeler="sometimes", engine="spark", top_k=5, samplers=["semantic"], mix=True)
    saved["teacher"].update(epochs="auto", warm_start="always", learning_rate=3e-5)  # auto: for students only
    saved["student"].update(batch_size=-3, layers=2)
    saved["teacher_search"].update(enabled=True, budget_minutes=-1)
    scenario.save_draft(saved)
    draft = scenario.load_draft()
    default = scenario.DEFAULT_DRAFT
    assert (draft["scenario"], draft["labeler"], draft["engine"]) == (2, default["labeler"], default["engine"])
    assert draft["teacher"]["epochs"] == default["teacher"]["epochs"]
    assert draft["teacher"]["warm_start"] == default["teacher"]["warm_start"]
    assert draft["student"]["batch_size"] == default["student"]["batch_size"]
    assert draft["teacher_search"]["budget_minutes"] == default["teacher_search"]["budget_minutes"]
    # what the schema takes stays as saved, and so do the page's own keys
    assert (draft["top_k"], draft["teacher"]["learning_rate"], draft["student"]["layers"]) == (5, 3e-5, 2)
    assert draft["samplers"] == ["semantic"] and draft["mix"] and draft["teacher_search"]["enabled"]
    ExperimentConfig.from_dict(scenario.settings_of(draft, "semantic", checked=True), rules=False)  # it launches


def test_the_draft_is_the_schema_s_keys_plus_the_page_s_own():
    """No shadow schema: every config key of the draft holds the schema's default value and its sections whole
    (a key added to StudentConfig is in the draft without touching the app); the rest are the page's own keys."""
    schema = ExperimentConfig().to_dict()
    draft = scenario.DEFAULT_DRAFT
    assert set(draft) == set(scenario.CONFIG_KEYS) | set(scenario.PAGE_DEFAULTS) | {"data"}
    assert not set(scenario.PAGE_DEFAULTS) & set(scenario.CONFIG_KEYS)
    assert draft["data"] == {key: schema["data"][key] for key in scenario.DRAFT_DATA_KEYS}  # its files: the launch's
    for key in scenario.CONFIG_KEYS:
        if key == "teacher_search":  # what the search offers once turned on, and the switch
            assert set(draft[key]) == set(schema[key]) | {"enabled"} and not draft[key]["enabled"]
        else:
            assert draft[key] == schema[key], key


def test_the_silver_cap_is_held_as_the_schema_writes_it():
    """max_silver in the draft is the config's value: 'auto' (the box's 0) or a number; a draft saved before, whose
    None stood for auto, loads as auto (the schema's None would mean no cap at all)."""
    workspace.load_demo("stsb-quick")
    assert scenario.load_draft()["max_silver"] == "auto"
    at = app("scenario")
    assert at.number_input(key="sc_max_silver").value == 0
    at.number_input(key="sc_max_silver").set_value(3000).run()
    assert scenario.load_draft()["max_silver"] == 3000
    at.number_input(key="sc_max_silver").set_value(0).run()
    assert scenario.load_draft()["max_silver"] == "auto"
    old = scenario.load_draft() | {"max_silver": None}
    scenario.draft_path().write_text(json.dumps(old))
    assert scenario.load_draft()["max_silver"] == "auto"
    assert scenario.build_configs(scenario.load_draft())[0].max_silver == "auto"


def test_a_draft_saved_with_the_page_s_old_keys_loads_them_where_the_schema_keeps_them():
    """max_unlabeled and ray_address were page keys; the draft now holds them as data.max_unlabeled and ray.address,
    and a draft saved before loads them there (the pool box and the launch read them from the schema's place)."""
    workspace.load_demo("stsb-quick")
    old = scenario.load_draft()
    del old["data"], old["ray"]
    old |= {"max_unlabeled": 400, "ray_address": "ray://head:10001", "engine": "ray"}
    scenario.save_draft(old)
    draft = scenario.load_draft()
    assert "max_unlabeled" not in draft and "ray_address" not in draft
    assert draft["data"]["max_unlabeled"] == 400 and draft["ray"]["address"] == "ray://head:10001"
    settings = scenario.settings_of(draft, "bm25", checked=False)
    assert settings["data"] == {"max_unlabeled": 400} and settings["ray"] == {"address": "ray://head:10001"}
    assert scenario.draft_config(draft).data.max_unlabeled == 400
    at = app("scenario")
    assert at.number_input(key="sc_pool").value == 400
    at.number_input(key="sc_pool").set_value(0).run()
    assert scenario.load_draft()["data"]["max_unlabeled"] is None
