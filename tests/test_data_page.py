"""A new user's first hour on the Data page (AppTest, headless): a SICK-style upload (scores 1-5) shows and
keeps its scale, maps its columns itself, names the dataset, keeps the selected tab across reruns and names the
uploaded file in every message; plus the core's scale detection behind it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
pytest.importorskip("plotly")

from streamlit.testing.v1 import AppTest  # noqa: E402

from augsbert_core.io import data  # noqa: E402
from studio import pages, scenario, workspace  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")

SCORES = [4.5, 1.0, 3.6, 5.0, 4.1]
SICK = (
    b"pair_ID,sentence_A,sentence_B,relatedness_score,entailment_judgment\n"
    b"1,A group of kids is playing in a yard,A group of boys in a yard is playing,4.5,NEUTRAL\n"
    b"2,A man is playing a flute,A woman is slicing an onion,1.0,NEUTRAL\n"
    b"3,Two dogs are fighting,Two dogs are wrestling and hugging,3.6,NEUTRAL\n"
    b"4,A person is riding a horse,A man is on a horse,5.0,ENTAILMENT\n"
    b"5,A cat is sleeping,The cat sleeps on the sofa,4.1,ENTAILMENT\n"
)
SICK_TEST = (
    b"pair_ID,sentence_A,sentence_B,relatedness_score,entailment_judgment\n"
    b"6,A woman is dancing,A woman dances,4.8,ENTAILMENT\n"
    b"7,A boy is running,A car is parked,1.2,NEUTRAL\n"
    b"8,Birds are flying,Some birds fly in the sky,4.4,ENTAILMENT\n"
)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    """A fresh workspace per test; no device probing, no hub."""
    ws = tmp_path / "workspace"
    monkeypatch.setenv("AUGSBERT_HOME", str(ws))
    monkeypatch.setenv("AUGSBERT_DEVICE_LABEL", "CPU (test)")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(ROOT)
    return ws


def app(page: str | None = "data") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    if page and page != "home":
        at.switch_page(pages.PATHS[page]).run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def plain(text: str) -> str:
    """Markdown as a person reads it: bold marks and md_escape's backslashes dropped."""
    return re.sub(r"\\(.)", r"\1", text.replace("**", ""))


def page_text(at: AppTest) -> str:
    """Everything readable in the page's main area (not the sidebar), as a person reads it."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning", "error"):
        parts.extend(str(e.value) for e in getattr(at.main, kind))
    parts.extend(f"{m.label} {m.value}" for m in at.main.metric)
    return plain("\n".join(parts))


def sidebar_text() -> str:
    """The sidebar of a fresh session (AppTest keeps the sidebar of a session's first run only)."""
    return plain("\n".join(m.value for m in app("home").sidebar.markdown))


def upload(at: AppTest, role: str, name: str, payload: bytes) -> None:
    at.file_uploader(key=f"upload_{role}").set_value((name, payload, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]


def save(at: AppTest, role: str) -> None:
    at.button(key=f"save_{role}").click().run()
    assert not at.exception, [e.value for e in at.exception]


def scale_radio(at: AppTest, role: str):
    (radio,) = [r for r in at.radio if r.key and re.fullmatch(rf"scale_{role}_.+_choice", r.key)]
    return radio


def mapping_select(at: AppTest, role: str, target: str):
    (select,) = [s for s in at.selectbox if s.key and s.key.startswith(f"map_{role}_{target}_")]
    return select


def selected_tab(at: AppTest) -> int:
    found = []

    def walk(node) -> None:
        for child in getattr(node, "children", {}).values():
            if getattr(child, "type", None) == "tab_container":
                found.append(child.proto.tab_container.default_tab_index)
            walk(child)

    walk(at.main)
    (index,) = found
    return index


# ---------------------------------------------------------------------------------------------------- core
def test_core_detects_a_file_whose_scores_run_1_to_5_as_1_5(tmp_path):
    path = tmp_path / "sick_train.csv"
    path.write_bytes(SICK)
    pairs = data.load_pairs(path)
    assert pairs.task == "regression" and pairs.scale == (1.0, 5.0)
    assert pairs.frame["label"].tolist() == pytest.approx([(v - 1) / 4 for v in SCORES])
    found = data.score_range(path)
    assert (found.column, found.low, found.high, found.binary) == ("relatedness_score", 1.0, 5.0, False)
    assert found.detected == (1.0, 5.0)
    # the usual scales; 1..5 only when the scores reach both ends
    assert data.detect_scale(0, 5) == (0.0, 5.0) and data.detect_scale(1, 4.5) == (0.0, 5.0)
    assert data.detect_scale(0.2, 0.9) == (0.0, 1.0) and data.detect_scale(3, 87) is None
    assert data.suggest_scale(3, 87) == (0.0, 100.0) and data.suggest_scale(1, 5) == (1.0, 5.0)


def test_core_score_range_follows_the_mapping_and_sees_0_1_labels(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("a,b,rating\nx,y,0\nz,w,1\n", encoding="utf-8")
    assert data.score_range(path) is None  # no score or label column recognised
    found = data.score_range(path, column_map={"a": "sentence1", "b": "sentence2", "rating": "score"})
    assert found.column == "rating" and found.binary and found.detected is None


@pytest.mark.parametrize("name", ["relatedness_score", "similarity_score", "gold_label", "Similarity Score"])
def test_common_score_names_map_themselves(name):
    found = data.match_columns(["pair_ID", "sentence_A", "sentence_B", name])
    assert found == {"sentence1": "sentence_A", "sentence2": "sentence_B", "score": name, "label": None}


# ---------------------------------------------------------------------------------------------------- scale
def test_a_1_to_5_upload_shows_its_scale_and_saves_it():
    at = app()
    upload(at, "train", "sick_train.csv", SICK)
    assert "Not recognised" not in page_text(at)  # sentence_A, sentence_B, relatedness_score map themselves
    assert mapping_select(at, "train", "score").value == "relatedness_score"
    assert scale_radio(at, "train").value == "1–5"
    assert "scores in column 'relatedness_score' run 1 to 5; detected from the scores: 1–5" in page_text(at)
    save(at, "train")
    manifest = workspace.read_manifest()
    assert manifest["scale"] == [1.0, 5.0] and workspace.dataset_scale() == (1.0, 5.0)
    assert {m.label: m.value for m in at.main.metric}["Scale"] == "1–5"
    assert "score scale 1–5, detected from sick_train.csv" in page_text(at)
    labels = workspace.load_role("train").frame["label"]
    assert labels.tolist() == pytest.approx([(v - 1) / 4 for v in SCORES])


def test_a_scale_override_is_saved_in_the_manifest_and_feeds_the_configs():
    at = app()
    upload(at, "train", "sick_train.csv", SICK)
    scale_radio(at, "train").set_value("0–5").run()
    assert not at.exception
    save(at, "train")
    manifest = workspace.read_manifest()
    assert manifest["scale"] == [0.0, 5.0] and manifest["files"]["train"]["detected_scale"] == [1.0, 5.0]
    assert workspace.dataset_scale() == (0.0, 5.0)
    assert {m.label: m.value for m in at.main.metric}["Scale"] == "0–5"
    assert "score scale 0–5, chosen when sick_train.csv was saved (its scores suggest 1–5)" in page_text(at)
    assert workspace.load_role("train").frame["label"].tolist() == pytest.approx([v / 5 for v in SCORES])
    # the uploader still holds the file: it reads as saved, with the scale it was saved with
    assert scale_radio(at, "train").value == "0–5"
    # test follows the dataset's scale; the Scenario page's configs carry it
    upload(at, "test", "sick_test.csv", SICK_TEST)
    assert scale_radio(at, "test").value == "0–5"
    assert "the scale of the saved gold pairs: 0–5" in page_text(at)
    save(at, "test")
    unlabeled = workspace.save_upload("unlabeled", "sick_text.txt", b"A dog runs.\nA cat sleeps.\nIt rains.\n")
    assert unlabeled.ok, unlabeled.error
    assert unlabeled.entry["rows"] == unlabeled.entry["sentences"] == 3
    pairs = b"sentence1,sentence2\nA dog runs.,A cat sleeps.\nA dog runs.,It rains.\n"
    as_pairs = workspace.save_upload("unlabeled", "sick_pairs.csv", pairs)
    assert as_pairs.entry["rows"] == 2 and as_pairs.entry["sentences"] == 3  # pairs counted as pairs, not sentences
    assert workspace.save_upload("unlabeled", "sick_text.txt", b"A dog runs.\nA cat sleeps.\nIt rains.\n").ok
    draft = scenario.load_draft()
    draft["scenario"] = 2
    (cfg, *_) = scenario.build_configs(draft)
    assert cfg.data.scale == [0.0, 5.0]


def test_source_domain_gold_keeps_its_own_chosen_scale_into_scenario_3():
    at = app()
    upload(at, "source_train", "sick_train.csv", SICK)
    assert scale_radio(at, "source_train").value == "1–5"  # detected, as for target gold
    scale_radio(at, "source_train").set_value("0–5").run()
    save(at, "source_train")
    assert workspace.source_scale() == (0.0, 5.0)
    assert workspace.recorded_scale() is None  # the target dataset's scale is not the source's
    upload(at, "source_dev", "sick_dev.csv", SICK_TEST)
    assert scale_radio(at, "source_dev").value == "0–5"
    assert "the scale of the saved source-domain pairs: 0–5" in page_text(at)
    save(at, "source_dev")
    # a target test scored 0/1 (classification) and unlabeled text: scenario 3 can launch
    labels = b"sentence1,sentence2,label\nA dog runs,A dog is running,1\nA cat sleeps,It rains,0\n"
    assert workspace.save_upload("test", "quora_test.csv", labels).ok
    assert workspace.save_upload("unlabeled", "quora.txt", b"A dog runs.\nA cat sleeps.\nIt rains.\n").ok
    draft = scenario.load_draft()
    draft["scenario"] = 3
    (cfg, *_) = scenario.build_configs(draft)
    assert cfg.data.source_scale == [0.0, 5.0] and cfg.data.scale is None
    from augsbert_core.io.inputs import load_experiment_data

    loaded = load_experiment_data(cfg)
    assert loaded.source_train["label"].tolist() == pytest.approx([v / 5 for v in SCORES])  # 0-5, not 1-5


def test_a_custom_scale_and_a_scale_too_small_for_the_scores():
    at = app()
    upload(at, "train", "sick_train.csv", SICK)
    scale_radio(at, "train").set_value("0–1").run()
    assert "Scores in this file run 1 to 5, outside 0–1" in page_text(at)
    scale_radio(at, "train").set_value("custom").run()
    low = [n for n in at.number_input if n.key and n.key.endswith("_low")][0]
    high = [n for n in at.number_input if n.key and n.key.endswith("_high")][0]
    low.set_value(1.0).run()
    high.set_value(7.0).run()
    save(at, "train")
    assert workspace.read_manifest()["scale"] == [1.0, 7.0]


# -------------------------------------------------------------------------------------------------- mapping
def test_an_unmapped_score_column_says_which_control_to_use_and_goes_once_mapped():
    odd = b"sentence_A,sentence_B,my_value\nA man plays.,A man is playing.,4.5\nA cat.,A dog.,1.0\n"
    at = app()
    upload(at, "train", "odd.csv", odd)
    warning = plain(" ".join(w.value for w in at.main.warning))
    assert "Not recognised: score or label" in warning and "Pick the score column below" in warning
    save(at, "train")  # pressed anyway
    error = plain(" ".join(e.value for e in at.main.error))
    assert "odd.csv was not saved" in error and "Pick the score column below" in error
    assert "column_map" not in page_text(at)
    assert workspace.read_manifest()["files"] == {}
    mapping_select(at, "train", "score").set_value("my_value").run()
    assert "Not recognised" not in page_text(at) and not at.main.error and not at.main.warning
    save(at, "train")
    assert workspace.read_manifest()["files"]["train"]["column_map"] == {
        "sentence_A": "sentence1",
        "sentence_B": "sentence2",
        "my_value": "score",
    }


def test_a_rejected_save_is_not_shown_once_the_mapping_changes():
    swapped = b"sentence_A,sentence_B,note,relatedness_score\nA man plays.,A man is playing.,x,4.5\nA cat.,A dog.,y,1\n"
    at = app()
    upload(at, "train", "swapped.csv", swapped)
    mapping_select(at, "train", "score").set_value("note").run()
    save(at, "train")
    assert "swapped.csv was not saved" in plain(at.main.error[0].value)
    mapping_select(at, "train", "score").set_value("relatedness_score").run()
    assert not at.main.error


# ----------------------------------------------------------------------------------------------- dataset name
def test_the_dataset_is_named_after_the_uploads_and_can_be_renamed():
    at = app()
    upload(at, "train", "sick_train.csv", SICK)
    save(at, "train")
    assert at.text_input(key="dataset_name").value == "sick"
    assert "Data · sick" in sidebar_text()
    at.text_input(key="dataset_name").input("SICK 2014").run()
    assert not at.exception
    assert workspace.dataset_title() == "SICK 2014"
    assert "Data · SICK 2014" in sidebar_text()
    upload(at, "test", "sick_test.csv", SICK_TEST)
    save(at, "test")
    assert at.text_input(key="dataset_name").value == "SICK 2014"  # a given name is kept
    at.text_input(key="dataset_name").input("").run()
    assert at.text_input(key="dataset_name").value == "sick" and workspace.dataset_title() == "sick"


def test_the_demo_name_only_while_the_demo_is_loaded():
    scenario.load_demo("stsb-quick")
    at = app()
    assert at.text_input(key="dataset_name").value == "STSb quick demo"
    assert "Data · STSb quick demo" in sidebar_text()
    upload(at, "train", "sick_train.csv", SICK)
    save(at, "train")
    assert at.text_input(key="dataset_name").value == "sick"
    assert "Data · sick" in sidebar_text() and "STSb quick demo" not in sidebar_text()
    assert "Still from the demo: gold dev pairs, gold test pairs, unlabeled sentences or pairs" in page_text(at)
    at.button(key="remove_train").click().run()  # only the demo's files are left: the demo again
    assert at.text_input(key="dataset_name").value == "STSb quick demo"
    assert workspace.dataset_scale() == (0.0, 5.0)  # the upload's 1-5 went with it


def test_name_from_files():
    assert workspace.name_from_files(["SICK_train.txt", "SICK_test_annotated.txt"]) == "SICK"
    assert workspace.name_from_files(["sick_train.csv", "sick_dev.csv", "sick_test.csv"]) == "sick"
    assert workspace.name_from_files(["my-pairs.jsonl.gz"]) == "my"
    assert workspace.name_from_files(["train.csv", "test.csv"]) == "train.csv"


# ------------------------------------------------------------------------------------------------------- tabs
def test_the_selected_tab_stays_across_upload_mapping_and_save():
    at = app()
    assert selected_tab(at) == 0
    at.session_state["data_role"] = "Gold test pairs"  # the person opens the test tab
    at.run()
    upload(at, "test", "sick_test.csv", SICK_TEST)
    assert selected_tab(at) == 2
    mapping_select(at, "test", "label").set_value("pair_ID").run()
    mapping_select(at, "test", "label").set_value("(none)").run()
    assert selected_tab(at) == 2
    save(at, "test")  # saving reruns the page
    assert "Saved sick_test.csv as gold test pairs" in page_text(at)
    assert at.session_state["data_role"] == "Gold test pairs" and selected_tab(at) == 2


# ---------------------------------------------------------------------------------------------- stats heading
def test_stats_say_whether_they_describe_the_saved_file_or_the_waiting_one():
    at = app()
    upload(at, "train", "sick_train.csv", SICK)
    assert "Nothing saved for this role yet. sick_train.csv is waiting to be saved" in page_text(at)
    save(at, "train")
    assert "Saved file: sick_train.csv" in page_text(at) and "waiting" not in page_text(at)
    upload(at, "train", "sick_train_v2.csv", SICK_TEST)
    text = page_text(at)
    assert "The numbers below describe the saved file, sick_train.csv" in text
    assert "not sick_train_v2.csv, which is waiting to be saved" in text


# ---------------------------------------------------------------------------------------------------- messages
def test_messages_name_the_uploaded_file_and_its_rows(home):
    at = app()
    upload(at, "train", "sick_train.csv", SICK + b"9,A man plays a flute,A man is playing a flute,high,NEUTRAL\n")
    save(at, "train")
    error = plain(at.main.error[0].value)
    assert "sick_train.csv was not saved" in error and "row 6" in error and "'relatedness_score'" in error
    assert at.main.dataframe[0].value["row"].tolist() == [6]  # the problems table: the same row number
    duplicate = SICK + b"9,A man is playing a flute,A woman is slicing an onion,1.2,NEUTRAL\n"
    upload(at, "train", "sick_train.csv", duplicate)
    save(at, "train")
    text = page_text(at)
    assert "sick_train.csv: dropped 1 duplicate pair" in text and "row 6 = row 2" in text
    assert str(home) not in text and "augsbert-upload-" not in text
    preview = at.main.dataframe[-1].value  # numbered as the messages number rows
    assert preview.index[0] == 1 and preview.index.name == "row" and len(preview) == 6
    # a test file with a score outside the dataset's scale: its own name, its own row
    upload(at, "test", "sick_test.csv", SICK_TEST + b"10,A,B,0.5,NEUTRAL\n")
    assert scale_radio(at, "test").value == "1–5"
    save(at, "test")
    error = next(plain(e.value) for e in at.main.error if "sick_test.csv" in plain(e.value))
    assert "sick_test.csv was not saved" in error and "row 4" in error and "outside the scale 1..5" in error
    assert "test" not in workspace.read_manifest()["files"]


def test_a_saved_file_that_no_longer_loads_names_the_upload(home):
    assert workspace.save_upload("train", "sick_train.csv", SICK).ok
    manifest = workspace.read_manifest()
    manifest["scale"] = [2.0, 5.0]  # as if another session chose a scale these scores do not fit
    workspace.write_manifest(manifest)
    at = app()
    error = plain(at.main.error[0].value)
    assert "sick_train.csv does not load" in error and "row 2" in error and "outside the scale 2..5" in error
    assert str(home) not in page_text(at)


# ----------------------------------------------------------------------------------------------- one task
MRPC_TRAIN = (
    b"label,sentence1,sentence2\n"
    b"1,He said the deal was done.,He said the agreement was finished.\n"
    b"0,The cat sat on the mat.,Stocks fell sharply on Monday.\n"
    b"1,She arrived late.,She came in late.\n"
    b"0,Rain is expected today.,The museum opens at nine.\n"
)
STS_DEV = b"text_a,text_b,similarity\nA man plays.,A man is playing.,4.5\nA cat.,A dog.,1.0\nIt rains.,Rain falls.,4\n"
MRPC_DEV = b"label,sentence1,sentence2\n1,A man plays.,A man is playing.\n0,A cat.,A car.\n1,It rains.,Rain falls.\n"


def test_a_dev_file_of_another_task_is_refused_and_the_dataset_stays_repairable():
    """Issue 26, item 1: a 0-5 dev beside 0/1 gold was saved as regression and wedged the workspace."""
    at = app()
    upload(at, "train", "mrpc_gold.csv", MRPC_TRAIN)
    save(at, "train")
    assert "classification" in page_text(at)
    upload(at, "dev", "sts_dev.csv", STS_DEV)
    save(at, "dev")
    error = plain(at.main.error[0].value)
    assert "sts_dev.csv" in error and "mrpc_gold.csv" in error and "one task" in error
    manifest = workspace.read_manifest()
    assert "dev" not in manifest["files"] and "scale" not in manifest, "a refused file leaves no trace"
    assert "Task: classification · labels 0/1" in page_text(at) and "Task: regression" not in page_text(at)
    upload(at, "dev", "mrpc_dev.csv", MRPC_DEV)
    save(at, "dev")
    assert workspace.read_manifest()["files"]["dev"]["task"] == "classification"
    at.button(key="reset_dataset").click().run()
    assert not at.exception and workspace.read_manifest()["files"] == {}
    assert "No data yet" in page_text(at)


RATED = b"first,second,rating\nA man plays.,A man is playing.,4.5\nA cat.,A dog.,1\nIt rains.,Rain falls.,4\n"


def test_a_mapping_is_offered_again_for_a_file_with_the_same_header():
    """Issue 26, item 7: the column mapping was redone for each of 4 files with the same headers."""
    at = app()
    upload(at, "train", "gold.csv", RATED)
    for target, column in (("sentence1", "first"), ("sentence2", "second"), ("score", "rating")):
        mapping_select(at, "train", target).set_value(column).run()
    save(at, "train")
    assert workspace.read_manifest()["files"]["train"]["column_map"] == {
        "first": "sentence1",
        "second": "sentence2",
        "rating": "score",
    }
    upload(at, "dev", "dev.csv", RATED)  # the same header: the mapping comes back, nothing to pick
    assert [mapping_select(at, "dev", t).value for t in ("sentence1", "sentence2", "score")] == [
        "first",
        "second",
        "rating",
    ]
    assert "The mapping of an earlier file with the same columns" in page_text(at)
    save(at, "dev")
    assert "dev" in workspace.read_manifest()["files"]
    upload(at, "test", "other.csv", b"a,b,c\nx,y,1\nu,v,2\n")  # another header: guessed as before, not remembered
    assert mapping_select(at, "test", "score").value == "(none)"


def test_a_0_1_train_beside_the_demos_scored_files_is_refused():
    """The demo's files carry no task in the manifest: the clash is found from the files themselves (the browser
    test's sequence: a 1-5 train saved over the demo, then a 0/1 train)."""
    workspace.load_demo("stsb-quick")
    at = app()
    upload(at, "train", "mrpc_gold.csv", MRPC_TRAIN)
    save(at, "train")
    error = plain(at.main.error[0].value)
    assert "mrpc_gold.csv" in error and "a dataset has one task" in error and "similarity scores" in error
    assert workspace.read_manifest()["files"]["train"]["original"] != "mrpc_gold.csv"
