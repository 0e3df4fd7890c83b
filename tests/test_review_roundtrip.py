"""Silver review round-trips with Label Studio and Argilla (issue 27, item 8): `augsbert review export` writes each
tool's import format; `augsbert review import` reads each tool's export back into review.json. Neither tool runs
here: the exports below are built as the tools' docs describe them (Label Studio's JSON and JSON-MIN exports of
annotated tasks; Argilla 2's `Record.to_dict()` and flattened `to_list()`), from the files the export wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from augsbert_core.cli import main as cli_main
from augsbert_core.review import load_review
from augsbert_core.runs import RunFiles
from studio import runinfo

from .test_app import app, home, seed_run, store, texts  # noqa: F401 - home, store: a fresh workspace, its runs

PAIRS = [
    ("A man is playing a guitar.", "A man plays the guitar.", 0.9),
    ("A dog runs in the park.", "A cat sleeps on a sofa.", 0.1),
    ("=SUM(A1)", "Two women are talking.", 0.4),
    ("Kids play football.", "Children are playing soccer.", 0.7),
]


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """A finished run's files that review reads: silver.csv, config.json (scale 0-5), log.txt."""
    d = tmp_path / "20261206-000000-demo-abc123"
    d.mkdir()
    frame = pd.DataFrame(PAIRS, columns=["sentence1", "sentence2", "score"])
    frame.assign(label=frame["score"], sampler="bm25", kept=True).to_csv(d / RunFiles.SILVER, index=False)
    (d / RunFiles.CONFIG).write_text(json.dumps({"task": "regression", "data": {"scale": [0, 5]}}))
    (d / RunFiles.LOG).write_text("")
    return d


def _export(run_dir: Path, fmt: str, tmp_path: Path, capsys) -> list:
    out = tmp_path / f"{fmt}.json"
    assert cli_main(["review", "export", str(run_dir), "--format", fmt, "--out", str(out)]) == 0
    assert capsys.readouterr().out.split() == [
        str(out),
        str(out.with_suffix(".xml" if fmt == "label-studio" else ".settings.json")),
    ]
    return json.loads(out.read_text())


def _import(items, run_dir: Path, tmp_path: Path, capsys) -> str:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(items))
    assert cli_main(["review", "import", str(path), "--run", str(run_dir)]) == 0
    return capsys.readouterr().out


def test_label_studio_tasks_carry_the_pair_and_the_teacher_score(run_dir, tmp_path, capsys):
    tasks = _export(run_dir, "label-studio", tmp_path, capsys)
    assert [t["data"]["row"] for t in tasks] == [0, 1, 2, 3]
    assert tasks[2]["data"]["sentence1"] == "=SUM(A1)"  # JSON, not a spreadsheet: the text as it is
    (prediction,) = tasks[0]["predictions"]
    number = next(r for r in prediction["result"] if r["from_name"] == "score")
    assert number["type"] == "number" and number["value"]["number"] == pytest.approx(4.5)  # 0.9 on 0-5
    config = (tmp_path / "label-studio.xml").read_text()
    assert '<Number name="score" toName="sentence1" min="0" max="5"' in config and '<Choice value="wrong"/>' in config


def test_a_label_studio_json_export_round_trips(run_dir, tmp_path, capsys):
    tasks = _export(run_dir, "label-studio", tmp_path, capsys)
    exported = []
    for i, task in enumerate(tasks):  # what Label Studio's JSON export gives after review (docs: task format)
        annotations = []
        if i == 0:  # marked wrong
            annotations = [_ls_annotation(1, [_ls_choice("wrong")])]
        elif i == 1:  # re-scored 2.5 of 5; an earlier cancelled annotation is ignored
            annotations = [
                _ls_annotation(2, [_ls_choice("wrong")], cancelled=True),
                _ls_annotation(3, [_ls_choice("correct"), _ls_number(2.5)]),
            ]
        exported.append({"id": 100 + i, "data": task["data"], "annotations": annotations, "predictions": []})
    out = _import(exported, run_dir, tmp_path, capsys)
    assert "label-studio review read: 2 pairs reviewed, 1 marked wrong, 1 scores corrected" in out
    assert load_review(run_dir) == {0: {"wrong": True, "score": None}, 1: {"wrong": False, "score": 0.5}}
    reviewed = runinfo.apply_review(pd.read_csv(run_dir / RunFiles.SILVER), load_review(run_dir))
    assert reviewed["used"].tolist() == [False, True, True, True]  # what the Silver page and a retraining use
    assert "review imported from export.json (label-studio) saved" in (run_dir / RunFiles.LOG).read_text()


def test_a_label_studio_json_min_export_round_trips_and_keeps_other_rows(run_dir, tmp_path, capsys):
    runinfo.save_review(run_dir, {3: {"wrong": True, "score": None}})  # a review saved on the Silver page
    tasks = _export(run_dir, "label-studio", tmp_path, capsys)
    flat = [{"id": 1, **tasks[2]["data"], "verdict": "correct", "score": 1.0, "annotator": 1}]
    _import(flat, run_dir, tmp_path, capsys)
    assert load_review(run_dir) == {2: {"wrong": False, "score": 0.2}, 3: {"wrong": True, "score": None}}


def test_argilla_records_round_trip_nested_and_flat(run_dir, tmp_path, capsys):
    records = _export(run_dir, "argilla", tmp_path, capsys)
    assert records[0]["fields"] == {"sentence1": PAIRS[0][0], "sentence2": PAIRS[0][1]}
    assert records[0]["suggestions"]["score"]["value"] == 4  # a RatingQuestion 0-5 takes whole numbers
    settings = json.loads((tmp_path / "argilla.settings.json").read_text())
    assert [q["name"] for q in settings["questions"]] == ["verdict", "score"]
    assert settings["questions"][1]["values"] == [0, 1, 2, 3, 4, 5]
    nested = [dict(r) for r in records]  # Record.to_dict() after two annotators (one draft, not counted)
    nested[1]["responses"] = {
        "verdict": [_ar("correct", "u1"), _ar("correct", "u2"), _ar("wrong", "u3", "draft")],
        "score": [_ar(1, "u1"), _ar(2, "u2")],
    }
    nested[3]["responses"] = {"verdict": [_ar("wrong", "u1")]}
    out = _import(nested, run_dir, tmp_path, capsys)
    assert "argilla review read: 2 pairs reviewed, 1 marked wrong, 1 scores corrected" in out
    assert load_review(run_dir) == {1: {"wrong": False, "score": 0.3}, 3: {"wrong": True, "score": None}}
    flat = [  # dataset.records.to_list(flatten=True)
        {
            "id": records[0]["id"],
            "sentence1": PAIRS[0][0],
            "sentence2": PAIRS[0][1],
            "row": 0,
            "status": "completed",
            "verdict.responses": ["wrong"],
            "verdict.responses.users": ["u1"],
            "verdict.responses.status": ["submitted"],
        }
    ]
    _import(flat, run_dir, tmp_path, capsys)
    assert load_review(run_dir)[0] == {"wrong": True, "score": None} and 1 in load_review(run_dir)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t["data"].update(row=99), "row 99 is not a silver pair of this run (4 pairs)"),
        (lambda t: t["data"].update(sentence1="other"), "row 0 holds other sentences"),
        (lambda t: t["data"].update(row="x"), "'row' must be the silver row number, got 'x'"),
        (lambda t: t["annotations"][0]["result"].append(_ls_number(7)), "score 7 is outside the dataset's scale 0-5"),
        (lambda t: t["annotations"][0]["result"].__setitem__(0, _ls_choice("maybe")), "verdict must be 'correct'"),
    ],
)
def test_a_bad_export_names_the_file_and_item_and_changes_nothing(run_dir, tmp_path, capsys, edit, message):
    tasks = _export(run_dir, "label-studio", tmp_path, capsys)
    task = {"id": 1, "data": dict(tasks[0]["data"]), "annotations": [_ls_annotation(1, [_ls_choice("wrong")])]}
    edit(task)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([task]))
    assert cli_main(["review", "import", str(path), "--run", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert f"{path}, item 1: {message}" in err
    assert not (run_dir / RunFiles.REVIEW).exists()


def test_export_refuses_a_run_without_silver_and_a_non_json_out(tmp_path, run_dir, capsys):
    assert cli_main(["review", "export", str(run_dir), "--format", "argilla", "--out", str(tmp_path / "x.csv")]) == 2
    assert "the review file is JSON" in capsys.readouterr().err
    (run_dir / RunFiles.SILVER).unlink()
    assert cli_main(["review", "export", str(run_dir), "--format", "argilla", "--out", str(tmp_path / "x.json")]) == 2
    assert "no silver.csv" in capsys.readouterr().err


def _ls_choice(value: str) -> dict:
    return {"id": "v", "from_name": "verdict", "to_name": "sentence1", "type": "choices", "value": {"choices": [value]}}


def _ls_number(value: float) -> dict:
    return {"id": "s", "from_name": "score", "to_name": "sentence1", "type": "number", "value": {"number": value}}


def _ls_annotation(i: int, result: list, *, cancelled: bool = False) -> dict:
    return {
        "id": i,
        "result": result,
        "was_cancelled": cancelled,
        "ground_truth": False,
        "created_at": "2026-12-06T08:00:00.000000Z",
        "updated_at": "2026-12-06T08:00:00.000000Z",
        "lead_time": 4.2,
        "completed_by": 1,
    }


def _ar(value, user: str, status: str = "submitted") -> dict:
    return {"value": value, "user_id": user, "status": status}


def test_the_silver_page_offers_both_tools_files(store):  # noqa: F811 - the imported fixture
    run_id = seed_run(store)
    at = app("silver")
    assert not at.exception, [e.value for e in at.exception]
    assert "Review in Label Studio or Argilla" in [e.label for e in at.expander]
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"Label Studio tasks (.json)", "Label Studio labeling config (.xml)"} <= labels
    assert {"Argilla tasks (.json)", "Argilla labeling config (.settings.json)"} <= labels
    records = runinfo.review_file(store.get(run_id).dir, "argilla")  # what the tasks button hands out
    assert len(json.loads(records)) == 40 and "Bring their JSON export back" in texts(at)
