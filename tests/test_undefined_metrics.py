"""No NaN verdicts (issue 25, class 3): a split whose metrics would be undefined is refused before any work, every
JSON file is strict (undefined numbers are null), and the gate, the probe and the table never decide or print on
NaN."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from augsbert_core import ExperimentConfig
from augsbert_core.atomic import atomic_write_json, dumps_json
from augsbert_core.cli import main
from augsbert_core.evaluation import format_table
from augsbert_core.io.inputs import MIN_SCORED_PAIRS
from augsbert_core.teacher.gate import UNDEFINED, readiness_gate
from augsbert_core.teacher.probe import choose_labeler

pytestmark = pytest.mark.hostile

REPO = Path(__file__).resolve().parents[1]


def _strict_loads(text: str):
    def refuse(name):
        raise ValueError(f"non-strict JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def _write_case(folder: Path, micro_stsb: dict[str, Path], *, dev=None, test=None, task="regression") -> Path:
    """A scenario-2 config over the micro slice, with the dev or test frame replaced."""
    files = {k: str(v) for k, v in micro_stsb.items()}
    for role, frame in (("dev", dev), ("test", test)):
        if frame is not None:
            frame.to_csv(folder / f"{role}.csv", index=False)
            files[role] = str(folder / f"{role}.csv")
    cfg = {
        "name": "undefined",
        "scenario": 2,
        "task": task,
        "data": {**files, "scale": [0, 5]} if task == "regression" else files,
        "student": {"epochs": 1},
        "teacher": {"epochs": 1, "warm_start": "off"},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_a_constant_dev_split_is_refused_by_check_and_run_before_a_run_exists(tmp_path, micro_stsb, capsys):
    dev = pd.read_csv(micro_stsb["dev"]).assign(score=3.0)
    cfg = _write_case(tmp_path, micro_stsb, dev=dev)
    runs = tmp_path / "runs"
    assert main(["check", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "dev.csv") in err and "every score in the dev split is 3" in err
    assert main(["run", str(cfg), "--runs-dir", str(runs), "--no-progress"]) == 2
    assert "every score in the dev split is 3" in capsys.readouterr().err
    assert not any(p.is_dir() for p in runs.glob("*")), "no run directory for a refused input"


def test_a_test_split_too_small_for_its_metrics_is_refused(tmp_path, micro_stsb, capsys):
    test = pd.read_csv(micro_stsb["test"]).head(MIN_SCORED_PAIRS - 1)
    cfg = _write_case(tmp_path, micro_stsb, test=test)
    assert main(["check", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "test.csv") in err and f"the test split has {MIN_SCORED_PAIRS - 1} pair" in err


def test_a_single_class_dev_split_is_refused_for_classification(tmp_path, tiny_quora):
    dev = pd.read_csv(tiny_quora["dev"])
    label = next(c for c in ("is_duplicate", "label") if c in dev.columns)
    dev[label] = 1
    dev.to_csv(tmp_path / "dev.csv", index=False)
    cfg = ExperimentConfig.from_dict(
        {
            "scenario": 2,
            "task": "classification",
            "data": {
                "train": str(tiny_quora["test"]),
                "dev": str(tmp_path / "dev.csv"),
                "test": str(tiny_quora["test"]),
                "unlabeled": str(tiny_quora["unlabeled"]),
            },
        }
    )
    from augsbert_core.plan import check_experiment

    with pytest.raises(ValueError, match="every label in the dev split is 1.*both classes"):
        check_experiment(cfg)


def test_a_good_split_still_passes(tmp_path, micro_stsb, capsys):
    assert main(["check", str(_write_case(tmp_path, micro_stsb))]) == 0


def test_json_files_are_strict_undefined_numbers_are_null(tmp_path):
    record = {"spearman": float("nan"), "lead": np.float32(0.25), "history": [np.inf, -np.inf, 1.5], "n": np.int64(3)}
    atomic_write_json(tmp_path / "metrics.json", record)
    back = _strict_loads((tmp_path / "metrics.json").read_text())
    assert back == {"spearman": None, "lead": 0.25, "history": [None, None, 1.5], "n": 3}
    assert _strict_loads(dumps_json({"a": (float("nan"), 2)})) == {"a": [None, 2]}


def test_every_json_writer_of_the_core_is_strict():
    """json.dumps in the core only where the output is never a file or a page's data: everything else goes through
    atomic.dumps_json (allow_nan=False), so no NaN can reach metrics.json, gate.json, state.json or events."""
    allowed = {
        ("atomic.py", "dumps_json"),  # the one strict writer
        ("cli/commands.py", "_cmd_run"),  # a CLI string quoted as YAML, never a number
        ("study.py", "cell_config"),  # a deep copy of a parsed config (json.loads(json.dumps(...)))
        ("study.py", "collect"),  # the same deep copy
        ("study.py", "_digest"),  # a digest, never written
        ("io/table_json.py", "_json_text"),  # a JSON-lines input cell shown as text
        ("io/table_write.py", "_write_jsonl"),  # allow_nan=False itself
    }
    found = set()
    for path in sorted((REPO / "augsbert_core").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("dumps", "dump")
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "json"
                ):
                    found.add((str(path.relative_to(REPO / "augsbert_core")), func.name))
    assert found <= allowed, f"json.dumps outside atomic.dumps_json: {sorted(found - allowed)}"


def _gate_metrics(teacher: float, gold_only: float) -> dict:
    return {
        "zero_shot": {"dev": {"spearman": 0.7}},
        "gold_only": {"dev": {"spearman": gold_only}},
        "teacher": {"dev": {"spearman": teacher}},
    }


def test_the_gate_decides_nothing_on_an_undefined_teacher():
    data = {"train": "train.csv", "dev": "dev.csv", "test": "test.csv", "unlabeled": "unlabeled.csv"}
    cfg = ExperimentConfig.from_dict({"scenario": 2, "data": data, "gate": {"action": "stop"}})
    gate = readiness_gate(_gate_metrics(float("nan"), 0.8), "regression", cfg)
    assert gate["verdict"] == UNDEFINED and gate["lead"] is None and gate["options"] == []
    assert "undefined for teacher" in gate["message"] and "nan" not in gate["message"].lower().replace("undefined", "")
    _strict_loads(dumps_json(gate))
    ready = readiness_gate(_gate_metrics(0.9, float("nan")), "regression", cfg)
    assert ready["verdict"] == "ready" and ready["best_student"] == "zero_shot"  # the defined student decides
    assert set(ready["leads"]) == {"zero_shot"}


def test_the_probe_never_chooses_on_nan():
    trials = [{"labeler": "cross_encoder", "dev": float("nan")}, {"labeler": "ensemble", "dev": 0.5}]
    assert choose_labeler(trials) == (trials[1], None)
    undefined = [{"labeler": "cross_encoder", "dev": math.nan}, {"labeler": "ensemble", "dev": math.nan}]
    best, why = choose_labeler(undefined)
    assert best["labeler"] == "cross_encoder" and "undefined" in why


def test_the_table_says_undefined_not_nan():
    table = format_table({"gold_only": {"dev": {"spearman": float("nan"), "pearson": 0.5}}}, "regression")
    assert "undefined" in table and "nan" not in table.replace("undefined", "")
